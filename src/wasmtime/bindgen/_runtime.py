"""What generated bindings use at run time: Ok/Err/Some, the instantiation
cache and the per-Store tables of host resources.

Values are converted in C (the class tables handed to ``Func._bind_classes``
and ``LinkerInstance._add_typed_func``); this module only wires things up
once per instantiation and, for imported resources, maps handles to the
Python objects behind them.
"""

import itertools
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Dict, Generic, List, Optional, Tuple, TypeVar, Union

from .. import Engine, Store, WasiConfig, WasmtimeError
from ..component import Component, Linker, ResourceAny, ResourceHost, ResourceType

T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True)
class Ok(Generic[T]):
    """The success arm of a WIT ``result``."""

    value: T


@dataclass(frozen=True)
class Err(Generic[E]):
    """The error arm of a WIT ``result``: never mistaken for a value."""

    value: E


@dataclass(frozen=True)
class Some(Generic[T]):
    """A present value of an ``option`` whose payload is itself an option."""

    value: T


Result = Union[Ok[T], Err[E]]


class Res:
    """An exported resource in a class table before instantiation: the class
    and the key of the interface object its methods live on."""

    __slots__ = ("cls", "key")

    def __init__(self, cls: type, key: str) -> None:
        self.cls = cls
        self.key = key


def _has_res(node: Any) -> bool:
    if isinstance(node, Res):
        return True
    return isinstance(node, tuple) and any(_has_res(n) for n in node)


def resolve(node: Any, owners: Dict[str, Any]) -> Any:
    """A class table with every `Res` replaced by (class, owner)."""
    if isinstance(node, Res):
        return (node.cls, owners[node.key])
    if isinstance(node, tuple):
        return tuple(resolve(n, owners) for n in node)
    return node


# ---- imported (host) resources -------------------------------------------------

_type_ids = itertools.count(1)
_type_lock = threading.Lock()


def new_host_type_id() -> int:
    with _type_lock:
        return next(_type_ids) & 0xFFFFFFFF


class HostTable:
    """The objects behind one Store's handles of imported resources."""

    __slots__ = ("objects", "next_rep", "loans", "fresh", "calls")

    def __init__(self) -> None:
        self.objects: Dict[int, Any] = {}
        self.next_rep = 1
        # Objects lent to the guest for one call (a `borrow` passed to an
        # export): taken out again when that call returns (end_call).
        self.loans: List[int] = []
        # Objects given (own) while an export call that passes host objects
        # runs: taken out again if that call fails (its arguments may have
        # been converted only in part, and the guest never saw them).
        self.fresh: List[int] = []
        self.calls = 0

    def add(self, obj: Any) -> int:
        rep = self.next_rep
        self.next_rep = (rep % 0xFFFFFFFF) + 1
        while self.next_rep in self.objects:
            self.next_rep = (self.next_rep % 0xFFFFFFFF) + 1
        self.objects[rep] = obj
        return rep


_tables: "weakref.WeakKeyDictionary[Store, HostTable]" = weakref.WeakKeyDictionary()


def host_table(store: Any) -> HostTable:
    """The table of `store` (a Store or a host function's StoreContext)."""
    if not isinstance(store, Store):
        store = store._store()
    t = _tables.get(store)
    if t is None:
        t = _tables[store] = HostTable()
    return t


def host_in(ctx: Any, value: Any, own: bool) -> Any:
    """The Python object behind a resource handle a host function receives."""
    if not isinstance(value, ResourceAny):
        raise TypeError("expected a resource handle, got %r" % (type(value).__name__,))
    rep = value.to_host(ctx).rep
    table = host_table(ctx)
    try:
        return table.objects.pop(rep) if own else table.objects[rep]
    except KeyError:
        raise WasmtimeError("unknown handle of an imported resource: %d" % rep) from None


def host_out(ctx: Any, obj: Any, type_id: int) -> ResourceHost:
    """A new owned handle for `obj`, returned to the guest."""
    return ResourceHost.own(host_table(ctx).add(obj), type_id)


def host_dtor(ctx: Any, rep: int) -> None:
    host_table(ctx).objects.pop(rep, None)


_NOT_RESOURCES = (int, float, complex, str, bytes, bytearray, list, tuple, dict, set, frozenset)


def host_res(type_id: int, name: str, methods: Tuple[str, ...]) -> Tuple[None, Any, Any]:
    """The class-table node of imported resource `name` (cplan.c): C calls
    ``to_py(store, handle)`` for a handle the host receives anywhere in a
    value, and ``from_py(store, obj, owned)`` for an object that goes to
    the guest."""

    def to_py(store: Any, handle: ResourceAny) -> Any:
        rep = handle.to_host(store).rep
        table = host_table(store)
        try:
            return table.objects.pop(rep) if handle.owned else table.objects[rep]
        except KeyError:
            raise WasmtimeError("unknown handle of an imported resource: %d" % rep) from None

    def from_py(store: Any, obj: Any, owned: bool) -> ResourceHost:
        if obj is None or isinstance(obj, _NOT_RESOURCES):
            raise TypeError(
                "expected a %s object (imported resource), got %s" % (name, type(obj).__name__)
            )
        for m in methods:
            if not callable(getattr(obj, m, None)):
                raise TypeError(
                    "expected a %s object (imported resource): %s has no method %r"
                    % (name, type(obj).__name__, m)
                )
        table = host_table(store)
        rep = table.add(obj)
        if owned:
            if table.calls:
                table.fresh.append(rep)
            return ResourceHost.own(rep, type_id)
        table.loans.append(rep)
        return ResourceHost.borrow(rep, type_id)

    return (None, to_py, from_py)


def begin_call(store: Any) -> Tuple[int, int]:
    """Before an export call whose arguments hold host objects: a mark for
    end_call."""
    table = host_table(store)
    table.calls += 1
    return (len(table.loans), len(table.fresh))


def end_call(store: Any, mark: Tuple[int, int], ok: bool) -> None:
    """After that call: the objects lent since `mark` leave the table, and,
    when the call failed, the objects given since then too."""
    table = host_table(store)
    table.calls -= 1
    while len(table.loans) > mark[0]:
        table.objects.pop(table.loans.pop(), None)
    while len(table.fresh) > mark[1]:
        rep = table.fresh.pop()
        if not ok:
            table.objects.pop(rep, None)


# ---- instantiation ----------------------------------------------------------------

# One import: (kind, wit name, attribute on the imports object, payload)
#   ("func", name, attr, (method, classes, adapt)) for a world-level function
#   ("resource", name, "", type id) for a resource of the world itself
#   ("method", name, method, classes) for a "[method]r.m" of such a resource
#   ("iface", name, attr, (funcs, resources, wasi)) for an interface, with
#       funcs: [(wit name, method name, classes, adapt, resource)]
#       resources: [(wit name, type id)]
# `adapt` is None: the class tables map imported resources wherever they
# sit (host_res).  Packages generated before that passed (params: tuple of
# None/"own"/"borrow", result type id or None) for top-level handles, which
# is still honoured.
ImportSpec = Tuple[str, str, str, Any]


def _host_func(
    impl: Callable[..., Any], adapt: Optional[Tuple[Tuple[Optional[str], ...], Optional[int]]]
) -> Callable[..., Any]:
    if adapt is None:

        def call(ctx: Any, *args: Any) -> Any:
            return impl(*args)

        return call
    kinds, out_ty = adapt

    def call_adapted(ctx: Any, *args: Any) -> Any:
        conv = [a if k is None else host_in(ctx, a, k == "own") for k, a in zip(kinds, args)]
        r = impl(*conv)
        if out_ty is not None:
            return host_out(ctx, r, out_ty)
        return r

    return call_adapted


def _method_target(impl: Any, method: str) -> Callable[..., Any]:
    # "[method]r.m" is called on the object behind `self`: the first argument.
    def call(obj: Any, *args: Any) -> Any:
        return getattr(obj, method)(*args)

    return call


class Binding:
    """Per generated package: its component, compiled once per Engine, and
    the linkers built for each imports object (the linked definitions a new
    instantiation reuses)."""

    def __init__(
        self, load: Callable[[Engine], Component], imports: List[ImportSpec], needs_wasi: bool
    ) -> None:
        self._load = load
        self._imports = imports
        self._needs_wasi = needs_wasi
        # Engine -> [component, {id(imports): (imports, linker)}, export indexes]
        self._engines: "weakref.WeakKeyDictionary[Engine, List[Any]]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _linker(self, engine: Engine, imports: Any) -> Tuple[Component, Linker]:
        with self._lock:
            entry = self._engines.get(engine)
            if entry is None:
                entry = [self._load(engine), {}, None]
                self._engines[engine] = entry
            component, linkers = entry[0], entry[1]
            key = id(imports)
            hit = linkers.get(key)
            if hit is not None and hit[0] is imports:
                return component, hit[1]
            linker = self._build(engine, imports)
            if len(linkers) >= 16:
                linkers.pop(next(iter(linkers)))
            linkers[key] = (imports, linker)
            return component, linker

    def _build(self, engine: Engine, imports: Any) -> Linker:
        linker = Linker(engine)
        if self._needs_wasi:
            linker.add_wasip2()
            linker.allow_shadowing = True
        with linker.root() as root:
            for kind, name, attr, payload in self._imports:
                if kind == "resource":
                    root.add_resource(name, ResourceType.host(payload), host_dtor)
                    continue
                if kind == "method":
                    root._add_typed_func(
                        name, _host_func(_method_target(None, attr), None), payload
                    )
                    continue
                impl = getattr(imports, attr, None) if imports is not None else None
                if kind == "func":
                    if impl is None:
                        raise ValueError("RootImports.%s is required" % attr)
                    method, classes, adapt = payload
                    root._add_typed_func(name, _host_func(impl, adapt), classes)
                    continue
                funcs, resources, wasi = payload
                if not funcs and not resources:
                    # Only types: an empty instance satisfies the import.
                    if not wasi:
                        root.add_instance(name).close()
                    continue
                if impl is None:
                    if wasi:
                        continue
                    raise ValueError("RootImports.%s is required (interface %s)" % (attr, name))
                with root.add_instance(name) as inst:
                    for rname, type_id in resources:
                        inst.add_resource(rname, ResourceType.host(type_id), host_dtor)
                    for fname, method, classes, adapt, _resource in funcs:
                        if fname.startswith("[method]"):
                            target = _method_target(impl, method)
                        else:
                            target = getattr(impl, method)
                        inst._add_typed_func(fname, _host_func(target, adapt), classes)
        return linker

    def instantiate(self, store: Store, imports: Any) -> Any:
        component, linker = self._linker(store.engine, imports)
        host_table(store)  # the per-Store table of imported resources
        try:
            return linker.instantiate(store, component)
        except WasmtimeError as e:
            if not (self._needs_wasi and "set_wasi()" in str(e)):
                raise
        # A WASI component in a Store without WASI: an empty context (no
        # arguments, no environment, no files), as `wasmtime run` would give.
        store.set_wasi(WasiConfig())
        return linker.instantiate(store, component)

    def funcs(
        self, store: Store, instance: Any, names: List[Tuple[Optional[str], str]]
    ) -> List[Any]:
        """The exported functions `names` ((interface or None, name)) of
        `instance`; their export indexes are looked up once per Engine."""
        entry = self._engines[store.engine]
        indices = entry[2]
        if indices is None:
            indices = []
            component = entry[0]
            parents: Dict[str, Any] = {}
            for iface, name in names:
                parent = None
                if iface is not None:
                    parent = parents.get(iface)
                    if parent is None:
                        parent = parents[iface] = component.get_export_index(iface)
                idx = component.get_export_index(name, instance=parent)
                if idx is None:
                    raise WasmtimeError("the component has no export %r" % (name,))
                indices.append(idx)
            entry[2] = indices
        return [instance.get_func(store, idx) for idx in indices]


_res_cache: Dict[int, Tuple[Any, bool]] = {}


def bind(store: Store, func: Any, classes: Any, owners: Dict[str, Any]) -> Any:
    """Attach the class table `classes` to `func` (once per instance)."""
    if classes is None:
        return func
    hit = _res_cache.get(id(classes))
    if hit is None or hit[0] is not classes:
        hit = _res_cache[id(classes)] = (classes, _has_res(classes))
    func._bind_classes(store, resolve(classes, owners) if hit[1] else classes)
    return func
