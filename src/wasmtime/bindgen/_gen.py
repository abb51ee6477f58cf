"""bindgen's code generator: Python source for a component's WIT types.

Everything is read through ``Component.type``.  WIT names of records,
variants, enums, flags and resources come from the type exports of the
component's instances (the interfaces); a type found nowhere gets a name
from where it is used.
"""

import keyword
from typing import Any, Dict, List, Optional, Set, Tuple

from .. import Engine
from ..component import (
    F32,
    F64,
    S8,
    S16,
    S32,
    S64,
    U8,
    U16,
    U32,
    U64,
    Bool,
    BorrowType,
    Char,
    Component,
    ComponentInstanceType,
    EnumType,
    FlagsType,
    FuncType,
    ListType,
    OptionType,
    OwnType,
    RecordType,
    ResourceType,
    ResultType,
    String,
    TupleType,
    VariantType,
)

_PRIM = {
    Bool: ("bool", "bool"),
    S8: ("s8", "int"),
    S16: ("s16", "int"),
    S32: ("s32", "int"),
    S64: ("s64", "int"),
    U8: ("u8", "int"),
    U16: ("u16", "int"),
    U32: ("u32", "int"),
    U64: ("u64", "int"),
    F32: ("f32", "float"),
    F64: ("f64", "float"),
    Char: ("char", "str"),
    String: ("string", "str"),
}
_NAMED = (RecordType, VariantType, EnumType, FlagsType)
_RESERVED = {"Root", "RootImports", "Store", "Any", "Ok", "Err", "Some", "Result"}


def snake(name: str) -> str:
    s = name.replace("-", "_").replace(".", "_")
    if keyword.iskeyword(s) or s in ("self", "store"):
        s += "_"
    return s


def ident(name: str) -> str:
    """'[method]counter.incr' -> 'method_counter_incr' (for private attributes)."""
    return "_".join("".join(ch if ch.isalnum() else " " for ch in name).split())


def camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.replace(".", "-").split("-") if p)


def upper(name: str) -> str:
    s = name.replace("-", "_").upper()
    return s + "_" if keyword.iskeyword(s) or s.startswith("_") else s


def short(iface: str) -> str:
    """'wasi:cli/environment@0.2.9' -> 'environment'."""
    return iface.split("/")[-1].split("@")[0].split(":")[-1]


def _has_resource(ty: Any) -> bool:
    if isinstance(ty, (OwnType, BorrowType, ResourceType)):
        return True
    if isinstance(ty, ListType):
        return _has_resource(ty.element)
    if isinstance(ty, RecordType):
        return any(_has_resource(t) for _, t in ty.fields)
    if isinstance(ty, TupleType):
        return any(_has_resource(t) for t in ty.elements)
    if isinstance(ty, VariantType):
        return any(t is not None and _has_resource(t) for _, t in ty.cases)
    if isinstance(ty, OptionType):
        return _has_resource(ty.payload)
    if isinstance(ty, ResultType):
        return any(t is not None and _has_resource(t) for t in (ty.ok, ty.err))
    return False


def _children(ty: Any) -> List[Any]:
    if isinstance(ty, ListType):
        return [ty.element]
    if isinstance(ty, RecordType):
        return [t for _, t in ty.fields]
    if isinstance(ty, TupleType):
        return list(ty.elements)
    if isinstance(ty, VariantType):
        return [t for _, t in ty.cases if t is not None]
    if isinstance(ty, OptionType):
        return [ty.payload]
    if isinstance(ty, ResultType):
        return [t for t in (ty.ok, ty.err) if t is not None]
    return []


def _func_has_resource(ft: FuncType) -> bool:
    return any(_has_resource(t) for _, t in ft.params) or (
        ft.result is not None and _has_resource(ft.result)
    )


class _Res:
    def __init__(self, ty: ResourceType, wit: str, pyname: str, imported: bool, key: str):
        self.ty = ty
        self.wit = wit
        self.pyname = pyname
        self.imported = imported
        self.key = key  # owner key (exports) / interface (imports)
        self.type_id = 0
        self.methods: List[str] = []


class Generator:
    def __init__(self, component: Component, engine: Engine) -> None:
        self.engine = engine
        self.ct = component.type
        self.used: Set[str] = set(_RESERVED)
        self.named: List[Tuple[Any, str]] = []  # (type, WIT name) from interfaces
        self.defined: List[Tuple[Any, str, str]] = []  # (type, python name, WIT name)
        self.resources: List[_Res] = []
        self.defs: List[str] = []
        self.cases: Dict[str, List[str]] = {}
        self.host_used: List[_Res] = []  # imported resources in class tables
        self._collect()

    # ---- names -----------------------------------------------------------------

    def unique(self, name: str) -> str:
        base, i = name, 2
        while name in self.used or keyword.iskeyword(name):
            name = "%s%d" % (base, i)
            i += 1
        self.used.add(name)
        return name

    def _collect(self) -> None:
        e = self.engine
        for imported, items in ((True, self.ct.imports(e)), (False, self.ct.exports(e))):
            for iname, ext in items.items():
                ty = ext.ty
                if isinstance(ty, _NAMED):
                    self.named.append((ty, iname))
                if isinstance(ty, ResourceType):
                    self._resource(ty, iname, imported, "root")
                if not isinstance(ty, ComponentInstanceType):
                    continue
                for n, sub in ty.exports(e).items():
                    if isinstance(sub.ty, _NAMED):
                        self.named.append((sub.ty, n))
                    elif isinstance(sub.ty, ResourceType):
                        self._resource(sub.ty, n, imported, iname)

    def _resource(self, ty: ResourceType, wit: str, imported: bool, key: str) -> None:
        for r in self.resources:
            if r.ty == ty:
                return
        self.resources.append(_Res(ty, wit, self.unique(camel(wit)), imported, key))

    def find_resource(self, ty: ResourceType) -> Optional[_Res]:
        for r in self.resources:
            if r.ty == ty:
                return r
        return None

    # ---- types -------------------------------------------------------------------

    def wit(self, ty: Any) -> str:
        """The WIT spelling of a type, for docstrings."""
        if ty is None:
            return "_"
        for cls, (w, _) in _PRIM.items():
            if isinstance(ty, cls):
                return w
        for t, _, w in self.defined:
            if t == ty:
                return w
        if isinstance(ty, ListType):
            return "list<%s>" % self.wit(ty.element)
        if isinstance(ty, TupleType):
            return "tuple<%s>" % ", ".join(self.wit(t) for t in ty.elements)
        if isinstance(ty, OptionType):
            return "option<%s>" % self.wit(ty.payload)
        if isinstance(ty, ResultType):
            if ty.ok is None and ty.err is None:
                return "result"
            return "result<%s, %s>" % (self.wit(ty.ok), self.wit(ty.err))
        if isinstance(ty, (OwnType, BorrowType)):
            r = self.find_resource(ty.ty)
            name = r.wit if r is not None else "resource"
            return name if isinstance(ty, OwnType) else "borrow<%s>" % name
        return type(ty).__name__.lower()

    def _name_of(self, ty: Any, hint: str) -> Tuple[str, str]:
        for t, n in self.named:
            if t == ty:
                return n, self.unique(camel(n))
        return hint, self.unique(camel(hint))

    def ann(self, ty: Any, hint: str) -> str:
        """The annotation of a type, defining its classes first."""
        if ty is None:
            return "None"
        for cls, (_, a) in _PRIM.items():
            if isinstance(ty, cls):
                return a
        if isinstance(ty, ListType):
            el = ty.element
            if isinstance(el, U8):
                return "bytes"
            return "_t.List[%s]" % self.ann(el, hint + "-item")
        if isinstance(ty, TupleType):
            parts = [self.ann(t, "%s-%d" % (hint, i)) for i, t in enumerate(ty.elements)]
            return "_t.Tuple[%s]" % ", ".join(parts) if parts else "_t.Tuple[()]"
        if isinstance(ty, OptionType):
            inner = self.ann(ty.payload, hint)
            if isinstance(ty.payload, OptionType):
                return "_t.Optional[_rt.Some[%s]]" % inner
            return "_t.Optional[%s]" % inner
        if isinstance(ty, ResultType):
            return "_rt.Result[%s, %s]" % (
                self.ann(ty.ok, hint + "-ok"),
                self.ann(ty.err, hint + "-err"),
            )
        if isinstance(ty, (OwnType, BorrowType)):
            r = self.find_resource(ty.ty)
            return r.pyname if r is not None else "_t.Any"
        for t, py, _ in self.defined:
            if t == ty:
                return py
        return self._define(ty, hint)

    def _define(self, ty: Any, hint: str) -> str:
        wit, py = self._name_of(ty, hint)
        out: List[str] = []
        if isinstance(ty, RecordType):
            fields = [(n, self.ann(t, wit + "-" + n), t) for n, t in ty.fields]
            out.append("@_dataclass")
            out.append("class %s:" % py)
            out.append(
                '    """record %s {%s}"""'
                % (wit, ", ".join("%s: %s" % (n, self.wit(t)) for n, _, t in fields))
            )
            for n, a, _ in fields:
                out.append("    %s: %s" % (snake(n), a))
            if not fields:
                out.append("    pass")
        elif isinstance(ty, VariantType):
            cases = []
            for n, t in ty.cases:
                cp = self.unique(py + camel(n))
                ca = self.ann(t, wit + "-" + n) if t is not None else None
                cases.append(cp)
                out.append("@_dataclass")
                out.append("class %s:" % cp)
                out.append(
                    '    """%s(%s): a case of variant %s"""'
                    % (n, self.wit(t) if t is not None else "", wit)
                )
                out.append("    value: %s" % ca if ca is not None else "    pass")
                out.append("")
                out.append("")
            out.append("%s = _t.Union[%s]" % (py, ", ".join(cases)))
            self.cases[py] = cases
            self.defs.append("\n".join(out))
            self.defined.append((ty, py, wit))
            return py
        elif isinstance(ty, EnumType):
            out.append("class %s(_enum.Enum):" % py)
            out.append('    """enum %s"""' % wit)
            for i, n in enumerate(ty.names):
                out.append("    %s = %d" % (upper(n), i))
            if not ty.names:
                out.append("    pass")
        elif isinstance(ty, FlagsType):
            out.append("class %s(_enum.Flag):" % py)
            out.append('    """flags %s"""' % wit)
            for i, n in enumerate(ty.names):
                out.append("    %s = %d" % (upper(n), 1 << i))
            if not ty.names:
                out.append("    pass")
        else:
            raise NotImplementedError("bindgen cannot bind values of %s" % type(ty).__name__)
        self.defs.append("\n".join(out))
        self.defined.append((ty, py, wit))
        return py

    def table(self, ty: Any) -> str:
        """The class-table node of a type (Python source), see cplan.c."""
        if ty is None or any(isinstance(ty, c) for c in _PRIM):
            return "None"
        if isinstance(ty, ListType):
            el = self.table(ty.element)
            return "None" if el == "None" else "(None, None, (%s,))" % el
        if isinstance(ty, TupleType):
            ch = [self.table(t) for t in ty.elements]
            if all(c == "None" for c in ch):
                return "None"
            return "(None, None, (%s,))" % ", ".join(ch)
        if isinstance(ty, OptionType):
            some = "(_rt.Some,)" if isinstance(ty.payload, OptionType) else "()"
            return "(%s, None, (None, %s))" % (some, self.table(ty.payload))
        if isinstance(ty, ResultType):
            return "((_rt.Ok, _rt.Err), None, (%s, %s))" % (self.table(ty.ok), self.table(ty.err))
        if isinstance(ty, (OwnType, BorrowType)):
            r = self.find_resource(ty.ty)
            if r is None:
                return "None"
            if r.imported:
                self.host_used.append(r)
                return "(_H_%s, None, None)" % r.pyname
            return "(_rt.Res(%s, %r), None, None)" % (r.pyname, r.key)
        py = self.ann(ty, "anon")
        if isinstance(ty, RecordType):
            attrs = "".join("%r, " % snake(n) for n, _ in ty.fields)
            fch = ", ".join(self.table(t) for _, t in ty.fields)
            return "(%s, (%s), (%s%s))" % (py, attrs, fch, "," if len(ty.fields) == 1 else "")
        if isinstance(ty, VariantType):
            cases = self.cases[py]
            ch = [self.table(t) for _, t in ty.cases]
            return "((%s,), None, (%s,))" % (", ".join(cases), ", ".join(ch))
        if isinstance(ty, EnumType):
            return "(tuple(%s), None, None)" % py
        if isinstance(ty, FlagsType):
            return "(%s, None, None)" % py
        return "None"

    def hands(self, ty: Any) -> bool:
        """Whether a value of `ty` may hold a handle of an imported resource
        (an object of the host given or lent to the guest)."""
        if isinstance(ty, (OwnType, BorrowType)):
            r = self.find_resource(ty.ty)
            return r is not None and r.imported
        return any(self.hands(t) for t in _children(ty))

    def sig(
        self, name: str, ft: FuncType, skip_self: bool = False, host: bool = False
    ) -> Tuple[str, str, str]:
        """(python parameters, return annotation, WIT signature).  With
        `host` (a Protocol method the user implements), a parameter holding
        an imported resource is `Any`: the user's own class arrives there,
        which a Protocol-typed parameter would refuse (contravariance)."""
        params = list(ft.params)
        anns = [(snake(n), self.ann(t, name + "-" + n)) for n, t in params]
        if host:
            for i, (_, t) in enumerate(params):
                if isinstance(t, (OwnType, BorrowType)):
                    r = self.find_resource(t.ty)
                    if r is not None and r.imported:
                        anns[i] = (anns[i][0], "_t.Any")
        ret = self.ann(ft.result, name + "-result") if ft.result is not None else "None"
        wit = "%s: func(%s)" % (name, ", ".join("%s: %s" % (n, self.wit(t)) for n, t in params))
        if ft.result is not None:
            wit += " -> %s" % self.wit(ft.result)
        if skip_self:
            anns = anns[1:]
        return ", ".join("%s: %s" % a for a in anns), ret, wit


def _kind(name: str) -> Tuple[str, Optional[str], str]:
    """('func'|'ctor'|'method'|'static', resource, name) of a function export."""
    for prefix, kind in (("[constructor]", "ctor"), ("[method]", "method"), ("[static]", "static")):
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            if kind == "ctor":
                return kind, rest, rest
            r, _, m = rest.partition(".")
            return kind, r, m
    return "func", None, name


def _ret(ret: str, call: str) -> List[str]:
    if ret == "None":
        return ["        %s" % call]
    return ["        _r: %s = %s" % (ret, call), "        return _r"]


def _lending(ret: str, call: str) -> List[str]:
    """A call that passes host objects to the guest: the borrowed ones leave
    the Store's table when it returns, the owned ones too if it fails."""
    lines = ["        _m = _rt.begin_call(store)", "        _ok = False", "        try:"]
    if ret == "None":
        lines.append("            %s" % call)
    else:
        lines.append("            _r: %s = %s" % (ret, call))
    lines += [
        "            _ok = True",
        "        finally:",
        "            _rt.end_call(store, _m, _ok)",
    ]
    if ret != "None":
        lines.append("        return _r")
    return lines


class _Emitter:
    def __init__(self, gen: Generator, load: str) -> None:
        self.g = gen
        self.load = load
        self.exports: List[str] = []  # "(iface or None, name)"
        self.tables: List[str] = []
        self.binds: List[str] = []  # lines of Root.__init__
        self.res_methods: Dict[str, List[str]] = {}

    def export_func(self, iface: Optional[str], name: str, ft: FuncType, owner: str) -> int:
        k = len(self.exports)
        self.exports.append("(%r, %r)" % (iface, name))
        params = "(%s)" % "".join(self.g.table(t) + ", " for _, t in ft.params)
        self.tables.append("(%s, %s)" % (params, self.g.table(ft.result)))
        self.binds.append(
            "        %s._f_%s = _rt.bind(store, f[%d], _TABLES[%d], owners)"
            % (owner, ident(name), k, k)
        )
        return k

    def iface_funcs(self, iface: Optional[str], items: Dict[str, Any], owner: str) -> List[str]:
        """Methods of Root or an interface class for the exported functions."""
        g = self.g
        lines: List[str] = []
        for fname, ext in items.items():
            ft = ext.ty
            if not isinstance(ft, FuncType):
                continue
            kind, rname, m = _kind(fname)
            g.sig(fname, ft)  # names the types it defines after this function
            self.export_func(iface, fname, ft, owner)
            attr = "_f_" + ident(fname)
            lines.append("    %s: _t.Any" % attr)
            if kind == "method" and rname is not None:
                ps, ret, wit = g.sig(fname, ft, skip_self=True)
                r = self._res(rname, iface)
                body = [
                    "    def %s(self, store: _Storelike%s) -> %s:"
                    % (snake(m), ", " + ps if ps else "", ret),
                    '        """%s"""' % wit,
                ]
                args = ", ".join(["store", "self"] + [snake(n) for n, _ in ft.params[1:]])
                emit = _lending if any(g.hands(t) for _, t in ft.params) else _ret
                body += emit(ret, "self._owner.%s(%s)" % (attr, args))
                self.res_methods.setdefault(r, []).extend(body + [""])
                continue
            ps, ret, wit = g.sig(fname, ft)
            if kind == "ctor":
                pyname = "new_" + snake(m)
            elif kind == "static":
                pyname = snake(rname or "") + "_" + snake(m)
            else:
                pyname = snake(m)
            args = ", ".join(["store"] + [snake(n) for n, _ in ft.params])
            lines.append("")
            lines.append(
                "    def %s(self, store: _Storelike%s) -> %s:"
                % (pyname, ", " + ps if ps else "", ret)
            )
            lines.append('        """%s"""' % wit)
            if any(g.hands(t) for _, t in ft.params):
                lines += _lending(ret, "self.%s(%s)" % (attr, args))
            else:
                lines += _ret(ret, "self.%s(%s)" % (attr, args))
        return lines

    def _res(self, rname: str, iface: Optional[str]) -> str:
        for r in self.g.resources:
            if r.wit == rname and not r.imported and r.key == (iface or "root"):
                return r.pyname
        for r in self.g.resources:
            if r.wit == rname and not r.imported:
                return r.pyname
        raise NotImplementedError("no exported resource %r" % rname)


def generate_source(component: Component, engine: Engine, load: str, title: str) -> str:
    """The source of the generated module; `load` is the body of
    ``_load(engine)``, which returns the Component for an Engine."""
    g = Generator(component, engine)
    em = _Emitter(g, load)
    e = engine

    # ---- exports -------------------------------------------------------------------
    root_lines: List[str] = []
    iface_attrs: List[Tuple[str, str, str]] = []  # (attr, class, wit name)
    owners = ['"root": self']
    exports = g.ct.exports(e)
    root_funcs = {n: x for n, x in exports.items() if isinstance(x.ty, FuncType)}
    root_lines += em.iface_funcs(None, root_funcs, "self")
    iface_classes: List[str] = []
    for iname, ext in exports.items():
        if not isinstance(ext.ty, ComponentInstanceType):
            continue
        items = ext.ty.exports(e)
        cls = g.unique(camel(short(iname)))
        attr = snake(short(iname))
        if attr in [a for a, _, _ in iface_attrs]:
            attr = snake(iname.split("@")[0].replace(":", "-").replace("/", "-"))
        owner = "self.%s" % attr
        lines = em.iface_funcs(iname, items, owner)
        iface_classes.append(
            "\n".join(
                ["class %s:" % cls, '    """The exported interface %s."""' % iname, ""]
                + (lines or ["    pass"])
            )
        )
        iface_attrs.append((attr, cls, iname))
        owners.append("%r: self.%s" % (iname, attr))

    # ---- imports -------------------------------------------------------------------
    imports = g.ct.imports(e)
    protocols: List[str] = []
    fields_req: List[str] = []
    fields_opt: List[str] = []
    specs: List[str] = []
    needs_wasi = any(n.startswith("wasi:") for n in imports)
    type_ids: List[Tuple[str, int]] = []
    # Resources of the world itself (not of an interface): defined at the
    # root of the linker, before the functions that use them.
    root_res: Dict[str, _Res] = {}
    for iname, ext in imports.items():
        wr = g.find_resource(ext.ty) if isinstance(ext.ty, ResourceType) else None
        if wr is None or not wr.imported or wr.key != "root":
            continue
        root_res[iname] = wr
        if wr.type_id == 0:
            wr.type_id = len(type_ids) + 1
            type_ids.append((wr.pyname, wr.type_id))
        specs.append("    ('resource', %r, '', _RES_%d)," % (iname, wr.type_id))
    root_protos: Dict[str, List[str]] = {n: [] for n in root_res}
    for iname, ext in imports.items():
        ty = ext.ty
        kind, rname, m = _kind(iname) if isinstance(ty, FuncType) else ("", None, "")
        if isinstance(ty, FuncType) and kind == "method" and rname is not None:
            ps, ret, wit = g.sig(iname, ty, skip_self=True, host=True)
            pyname = snake(m)
            if rname in root_res:
                root_res[rname].methods.append(pyname)
            root_protos.setdefault(rname, []).extend(
                [
                    "",
                    "    def %s(self%s) -> %s:" % (pyname, ", " + ps if ps else "", ret),
                    '        """%s"""' % wit,
                    "        ...",
                ]
            )
            specs.append("    ('method', %r, %r, %s)," % (iname, pyname, em_table(g, ty)))
            continue
        if isinstance(ty, FuncType):
            ps, ret, wit = g.sig(iname, ty, host=True)
            attr = {"ctor": "new_" + snake(m), "static": snake(rname or "") + "_" + snake(m)}.get(
                kind, snake(iname)
            )
            fields_req.append("    %s: _t.Callable[..., %s]  # %s" % (attr, ret, wit))
            specs.append(
                "    ('func', %r, %r, (%r, %s, None))," % (iname, attr, attr, em_table(g, ty))
            )
            continue
        if not isinstance(ty, ComponentInstanceType):
            continue
        items = ty.exports(e)
        funcs = {n: x.ty for n, x in items.items() if isinstance(x.ty, FuncType)}
        wasi = iname.startswith("wasi:")
        res_here = [(n, x.ty) for n, x in items.items() if isinstance(x.ty, ResourceType)]
        if wasi and (res_here or any(_func_has_resource(f) for f in funcs.values())):
            continue  # always the Store's WASI (WASIp2)
        res_specs = []
        for rn, rty in res_here:
            r = g.find_resource(rty)
            if r is None:
                continue
            if r.type_id == 0:
                r.type_id = len(type_ids) + 1
                type_ids.append((r.pyname, r.type_id))
            res_specs.append("(%r, _RES_%d)" % (rn, r.type_id))
        cls = g.unique(camel(short(iname)))
        attr = snake(short(iname))
        taken = [f.split(":")[0].strip() for f in fields_req + fields_opt]
        if attr in taken:
            attr = snake(iname.split("@")[0].replace(":", "-").replace("/", "-"))
        plines = ["class %s(_t.Protocol):" % cls, '    """The imported interface %s."""' % iname]
        rprotos: Dict[str, List[str]] = {}
        fspecs = []
        for fname, ft in funcs.items():
            kind, rname, m = _kind(fname)
            if kind == "method":
                ps, ret, wit = g.sig(fname, ft, skip_self=True, host=True)
                pyname = snake(m)
                target = rprotos.setdefault(rname or "", [])
                for rr in g.resources:
                    if rr.wit == rname and rr.imported and rr.key == iname:
                        rr.methods.append(pyname)
            else:
                ps, ret, wit = g.sig(fname, ft, host=True)
                pyname = {
                    "ctor": "new_" + snake(m),
                    "static": snake(rname or "") + "_" + snake(m),
                }.get(kind, snake(m))
                target = plines
            target += [
                "",
                "    def %s(self%s) -> %s:" % (pyname, ", " + ps if ps else "", ret),
                '        """%s"""' % wit,
                "        ...",
            ]
            fspecs.append("(%r, %r, %s, None, None)" % (fname, pyname, em_table(g, ft)))
        for rname, lines in rprotos.items():
            r = None
            for rr in g.resources:
                if rr.wit == rname and rr.imported:
                    r = rr
            name = r.pyname if r is not None else g.unique(camel(rname))
            protocols.append(
                "\n".join(
                    [
                        "class %s(_t.Protocol):" % name,
                        '    """resource %s, implemented in Python (imported by the component)."""'
                        % rname,
                    ]
                    + lines
                )
            )
        for rn, rty in res_here:
            r = g.find_resource(rty)
            if r is not None and r.wit not in rprotos and r.pyname not in "".join(protocols):
                protocols.append(
                    'class %s(_t.Protocol):\n    """resource %s (no methods)."""' % (r.pyname, rn)
                )
        if not funcs and not res_specs:
            if not wasi:
                specs.append("    ('iface', %r, %r, ([], [], False))," % (iname, "_"))
            continue
        if len(plines) == 2:
            plines.append("    pass")
        protocols.append("\n".join(plines))
        if wasi:
            fields_opt.append("    %s: _t.Optional[%s] = None  # %s" % (attr, cls, iname))
        else:
            fields_req.append("    %s: %s  # %s" % (attr, cls, iname))
        specs.append(
            "    ('iface', %r, %r, ([%s], [%s], %r)),"
            % (iname, attr, ", ".join(fspecs), ", ".join(res_specs), wasi)
        )

    for rname, lines in root_protos.items():
        wres = root_res.get(rname)
        name = wres.pyname if wres is not None else g.unique(camel(rname))
        protocols.append(
            "\n".join(
                [
                    "class %s(_t.Protocol):" % name,
                    '    """resource %s of the world, implemented in Python (imported by the'
                    % rname,
                    '    component)."""',
                ]
                + (lines or ["    pass"])
            )
        )

    # ---- exported resources ----------------------------------------------------------
    res_classes: List[str] = []
    for r in g.resources:
        if r.imported:
            continue
        lines = [
            "class %s:" % r.pyname,
            '    """resource %s (exported by the component).  Use it as a context manager,' % r.wit,
            '    or call drop(), to drop the handle."""',
            "",
            "    _handle: _ResourceAny",
            "    _owner: _t.Any",
            "    _store: _Storelike",
            "",
        ]
        lines += em.res_methods.get(r.pyname, [])
        lines += [
            "    def drop(self, store: _t.Optional[_Storelike] = None) -> None:",
            '        """Drop the handle (the guest runs its destructor)."""',
            "        self._handle.drop(self._store if store is None else store)",
            "",
            '    def __enter__(self) -> "%s":' % r.pyname,
            "        return self",
            "",
            "    def __exit__(self, *exc: object) -> None:",
            "        if self._handle.owned:",
            "            self.drop()",
        ]
        res_classes.append("\n".join(lines))

    # ---- the module ---------------------------------------------------------------------
    out = [
        '"""Python bindings of %s, generated by wasmtime.bindgen: do not edit."""' % title,
        "",
        '# mypy: disable-error-code="empty-body"',
        "from __future__ import annotations  # records may hold resources defined below",
        "",
        "import enum as _enum",
        "import os as _os",
        "import typing as _t",
        "from dataclasses import dataclass as _dataclass",
        "",
        "from wasmtime import Engine as _Engine",
        "from wasmtime import Store",
        "from wasmtime import WasmtimeError as _WasmtimeError",
        "from wasmtime.bindgen import _runtime as _rt",
        "from wasmtime.bindgen._runtime import Err, Ok, Result, Some",
        "from wasmtime.component import Component as _Component",
        "from wasmtime.component import ResourceAny as _ResourceAny",
        "",
        "_Storelike = _t.Any  # a Store, or the StoreContext of a host function",
        "__all__ = ['Root', 'RootImports', 'Ok', 'Err', 'Some', 'Result', 'Store']",
        "",
    ]
    for name, tid in type_ids:
        out.append("_RES_%d = _rt.new_host_type_id()  # %s" % (tid, name))
    done: Set[str] = set()
    for r in g.host_used:
        if r.pyname in done:
            continue
        done.add(r.pyname)
        if r.type_id == 0:
            raise NotImplementedError("resource %s is not defined by an interface" % r.wit)
        out.append(
            "_H_%s = _rt.host_res(_RES_%d, %r, %r)"
            % (r.pyname, r.type_id, r.pyname, tuple(r.methods))
        )
    out.append("")
    for block in g.defs + protocols + res_classes + iface_classes:
        out += ["", block, ""]
    out += [
        "",
        "@_dataclass",
        "class RootImports:",
        '    """What the component imports; WASI interfaces left None use the Store\'s WASI."""',
    ]
    out += (fields_req + fields_opt) or ["    pass"]
    out += [
        "",
        "",
        "class Root:",
        '    """The component\'s world: instantiate it with Root(store, imports)."""',
        "",
    ]
    for attr, cls, iname in iface_attrs:
        out.append("    %s: %s  # %s" % (attr, cls, iname))
    out += [
        "",
        "    def __init__(self, store: Store, imports: _t.Optional[RootImports] = None) -> None:",
        "        instance = _BINDING.instantiate(store, imports)",
        "        f = _BINDING.funcs(store, instance, _EXPORTS)",
    ]
    for attr, cls, _ in iface_attrs:
        out.append("        self.%s = %s()" % (attr, cls))
    out.append("        owners: _t.Dict[str, _t.Any] = {%s}" % ", ".join(owners))
    out += em.binds
    out += root_lines
    out += ["", "", "def _load(engine: _Engine) -> _Component:", load, ""]
    out.append("_EXPORTS: _t.List[_t.Tuple[_t.Optional[str], str]] = [%s]" % ", ".join(em.exports))
    out.append("_TABLES: _t.List[_t.Any] = [")
    out += ["    %s," % t for t in em.tables]
    out.append("]")
    out.append("_BINDING = _rt.Binding(_load, [")
    out += specs
    out.append("], %r)" % needs_wasi)
    return "\n".join(out) + "\n"


def em_table(g: Generator, ft: FuncType) -> str:
    params = "(%s)" % "".join(g.table(t) + ", " for _, t in ft.params)
    return "(%s, %s)" % (params, g.table(ft.result))
