"""Re-entrancy: no argument conversion can crash the interpreter (issue 9).

Converting an argument can run Python code (``__index__``, ``__bool__``,
``__fspath__``, ``__eq__``/``__hash__``, iteration, ``__repr__`` in an error
message, ``__del__`` when the last reference goes).  That code can close,
consume or drop any object in reach, in particular the owner the C code has
already resolved.  The rule (DESIGN.md 3.6, "arguments first, owner second")
is that every such case ends in a clean Python exception or a correct
result, never in a signal.  This file checks the rule for the whole API.

How it is built
---------------

1. *The API is found by introspection* (``discover_api``): every public class
   of ``wasmtime`` and of ``wasmtime.component`` (``dir()`` and ``__all__``;
   the component classes are named ``component.Linker`` etc. in the tables,
   since the two namespaces share class names), its constructor,
   methods, classmethods, protocol dunders that take arguments, and
   properties that have a setter (found by probing: a read-only descriptor
   refuses any value with "not writable"/"readonly"), plus module-level
   functions such as ``wat2wasm``.  ``test_every_public_callable_is_covered``
   fails when one of them has no receiver in ``RECEIVERS`` or a parameter
   without a valid value in ``VALID``/``GENERIC`` (unless ``SKIP`` or
   ``SKIP_CLASSES`` says why), so a method added later must be added to the
   tables; it also fails on table entries that name nothing any more.

2. *A world* (``World``) builds live objects on demand from ``BUILDERS``
   (engine, store, module, instance, linker, memory, WasiConfig, ...) and
   records which objects each one used.  The objects a call reaches are the
   receiver, the valid arguments, and everything they were built from.

3. *Cases* (``enumerate_cases``): for every callable, every variant of valid
   arguments (``V``), every argument position, every evil *kind* that fits the
   valid value (``kinds_for``: an int gets ``__index__``, a bool ``__bool__``,
   a path ``__fspath__``, a str a str subclass with ``__hash__``/``__eq__``/
   ``__str__``, a sequence a generator, an old-style sequence and evil items,
   any object ``__del__``; every position also gets "omni", an object with all
   of these protocols), every *action* on the objects in reach (close it,
   consume it -- ``Engine(config)``, ``store.set_wasi(wasi)``,
   ``TagType(functype)`` --, mutate it, close everything, drop every
   reference and collect), and two timings: the evil object fires during the
   call ("now"), or only afterwards ("later"), when objects that kept it are
   poked (``POKES``: linker lookups and aliases, the missing-import
   explanation, comparisons, ``store.gc()``, every zero-argument method).
   "later" is used for the kinds an API may keep as they are (``KEPT_KINDS``).
   Calls that take a store are also made with a ``Caller`` as the store, from
   inside a host function (there the actions that differ are on the Caller's
   Store, everything at once, and dropping: ``CALLER_ACTIONS``); for the
   component API, with a ``StoreContext`` from inside a component host
   function.  Component values get evils of their own: records whose
   attribute reads fire (``getattr``) or whose fields are evil, dicts with
   evil keys, sets of evil str, ``Variant`` with an evil tag or payload; and
   every value also comes back as the *result* of a Python host function
   (``V(_host=...)``: the evil is what the host function returns).  Each
   callable also has a "valid" baseline case, which must succeed, so the
   table's valid arguments stay meaningful.  A method a class inherits (say
   ``close``/``__exit__`` from ``Managed``) gets the baseline on every class
   and its evil cases once, on the class that defines it.

4. *Cases run in child processes* (``run_cases``, ``worker_main``): a
   child interpreter per batch of about 600 cases (two batches at a time)
   is a fork server.  A forked child runs the cases one after the other and
   reports where each one is (in the call, in a later poke, in the teardown,
   or in the ordinary work that follows every case to bring out heap
   damage); when it dies, the case it was running is run again alone in a
   fresh fork to confirm it, and a new child goes on with the next case.  A
   case that makes no progress for CASE_TIMEOUT is killed and re-run (a
   stalled machine is not a hang).  The children run with ``PYTHONMALLOC=malloc_debug`` and
   ``MALLOC_PERTURB_`` so that a use after free reads poisoned memory and
   crashes instead of passing silently (under the ASan build, ``./dev
   asan``, ASan does that job and the environment is left alone).

5. *Verdicts*: a child that dies is a failure naming the callable, argument,
   evil kind, action, signal and place.  A call that returns a *new*
   store-bound handle (Instance, Func, Memory, ...) although its Store was
   closed during the call, or that raises an error from Wasmtime (rather
   than ValueError) although its Store was closed, is a "wrong result"
   failure: Wasmtime worked on a freed store.  A call that returns normally
   although its own receiver was closed or consumed during the call is
   reported as a note, not a failure (it is legitimate when the Python code
   ran after the C call, as in the Linker's bookkeeping).
   ``WASMTIME_REENT_REPORT=file.jsonl`` writes every case with its verdict.

The test is parametrized per callable, so a report reads
``test_reentrancy[Memory.read]``.  ``python tests/test_reentrancy.py --count``
prints the number of cases; the coverage test prints it too.

The explicit regression tests at the end pin the crashes issue 9 lists.
"""

import gc
import inspect
import json
import os
import platform
import re
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import threading
import time

import wasmtime
import wasmtime.component as wc

_WORKER = __name__ == "__main__"

if not _WORKER:
    import pytest

SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(wasmtime.__file__)))
HERE = os.path.abspath(__file__)


# ===========================================================================
# 1. The API, by introspection
# ===========================================================================

# Protocol methods that take arguments (or consume the receiver), exercised
# when a wasmtime class defines them.
PROTOCOL_DUNDERS = (
    "__call__",
    "__getitem__",
    "__setitem__",
    "__contains__",
    "__eq__",
    "__ne__",
    "__enter__",
    "__exit__",
    "__iter__",
    "__len__",
)

# Py_TPFLAGS_DISALLOW_INSTANTIATION: the class has no public constructor.
_DISALLOW_INSTANTIATION = 1 << 7


class Api:
    """One public callable: a constructor, method, classmethod, setter or
    module function."""

    def __init__(self, key, cls, attr, kind, defining):
        self.key = key  # "Memory.read", "Store()", "Config.cache=", "wat2wasm"
        self.cls = cls  # the class (None for module functions)
        self.cname = qualname(cls) if cls is not None else None
        self.attr = attr  # attribute name (None for constructors)
        self.kind = kind  # new | method | classmethod | setter | function
        self.defining = defining  # name of the class that defines the attribute

    @property
    def clsname(self):
        return self.cname

    def params(self):
        """Parameter names (self excluded); None when no signature is known."""
        if not hasattr(self, "_params"):
            self._params = self._find_params()
        return self._params

    def _find_params(self):
        if self.kind == "setter":
            return ["value"]
        try:
            if self.kind == "new":
                sig = inspect.signature(self.cls)
            elif self.kind == "function":
                sig = inspect.signature(getattr(wasmtime, self.attr))
            else:
                sig = inspect.signature(getattr(self.cls, self.attr))
        except (TypeError, ValueError):
            return None
        names = []
        for i, p in enumerate(sig.parameters.values()):
            if self.kind == "method" and i == 0:
                continue  # self
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                names.append("*" + p.name if p.kind == p.VAR_POSITIONAL else "**" + p.name)
            else:
                names.append(p.name)
        return names

    def __repr__(self):
        return "<Api %s>" % self.key


def _is_wasmtime_class(c):
    return isinstance(c, type) and c.__module__.split(".")[0] == "wasmtime"


def qualname(cls):
    """The table name of a class: "Linker" for wasmtime.Linker,
    "component.Linker" for wasmtime.component.Linker (the two namespaces
    share class names)."""
    if cls.__module__ == "wasmtime.component":
        return "component." + cls.__name__
    return cls.__name__


def tname(obj):
    return qualname(type(obj))


# The namespaces whose public classes are exercised, with their key prefixes.
NAMESPACES = ((wasmtime, ""), (wc, "component."))


# Public classes that are not exercised, and why.
SKIP_CLASSES = {
    "TrapCode": "a pure-Python enum.Enum (wasmtime._enums): no native code, nothing to convert",
}


def public_classes():
    """Every public class of the package (its own, not re-exported builtins),
    except SKIP_CLASSES."""
    out = {}
    for ns, prefix in NAMESPACES:
        names = set(n for n in dir(ns) if not n.startswith("_"))
        names.update(getattr(ns, "__all__", ()))
        for n in sorted(names):
            try:
                obj = getattr(ns, n)
            except AttributeError:
                continue
            if _is_wasmtime_class(obj) and qualname(obj) == prefix + n:
                if prefix + n not in SKIP_CLASSES:
                    out[prefix + n] = obj
    return out


def public_functions():
    out = {}
    for n in sorted(dir(wasmtime)):
        if n.startswith("_"):
            continue
        obj = getattr(wasmtime, n)
        if inspect.isbuiltin(obj) or inspect.isfunction(obj):
            out[n] = obj
    return out


def _own_attrs(cls):
    """(name, descriptor, defining class) for attributes from wasmtime classes
    in the MRO (builtins such as Exception are not ours)."""
    seen = {}
    for klass in cls.__mro__:
        if not _is_wasmtime_class(klass):
            continue
        for name, d in vars(klass).items():
            if name not in seen:
                seen[name] = (d, klass)
    return seen


def _constructible(cls):
    """Whether the class has a public constructor: not flagged
    DISALLOW_INSTANTIATION, and its __new__ does not refuse with "Cannot
    directly construct" (the component classes that only the runtime makes)."""
    if cls.__flags__ & _DISALLOW_INSTANTIATION:
        return False
    if cls.__module__ != "wasmtime.component":
        return True
    try:
        obj = cls()
    except wasmtime.WasmtimeError as e:
        return "Cannot directly construct" not in str(e)
    except Exception:
        return True
    if isinstance(obj, wasmtime.Managed):
        try:
            obj.close()
        except Exception:
            pass
    return True


def _probe_writable(obj, name):
    """Whether `name` has a setter: a read-only descriptor refuses any value
    with AttributeError ... not writable / readonly."""
    probe = object()
    try:
        setattr(obj, name, probe)
    except AttributeError as e:
        msg = str(e)
        if type(e) is AttributeError and (
            "not writable" in msg or "readonly" in msg or "has no setter" in msg
        ):
            return False
        return True
    except Exception:
        return True
    return True


def discover_api(world=None):
    """Every public callable, as {key: Api}.  Setters are found by probing a
    live receiver built by the world (classes without one are reported by the
    coverage test)."""
    apis = {}
    # Component receivers first: a core trap (the `frame` builder) in the
    # shared Store makes its component instances refuse to be entered.
    classes = sorted(public_classes().items(), key=lambda kv: not kv[0].startswith("component."))
    for cname, cls in classes:
        attrs = _own_attrs(cls)
        if _constructible(cls) and ("__new__" in attrs or "__init__" in attrs):
            key = cname + "()"
            apis[key] = Api(key, cls, None, "new", cname)
        for name, (d, klass) in sorted(attrs.items()):
            if name.startswith("_") and name not in PROTOCOL_DUNDERS:
                continue
            if name in ("__new__", "__init__"):
                continue
            if (
                isinstance(d, (classmethod, staticmethod))
                or type(d).__name__ == "classmethod_descriptor"
            ):
                key = "%s.%s" % (cname, name)
                apis[key] = Api(key, cls, name, "classmethod", qualname(klass))
            elif callable(d) and not inspect.isdatadescriptor(d):
                key = "%s.%s" % (cname, name)
                apis[key] = Api(key, cls, name, "method", qualname(klass))
            elif inspect.isdatadescriptor(d) or type(d).__name__ in (
                "getset_descriptor",
                "member_descriptor",
            ):
                recv = None
                if world is not None and cname in RECEIVERS:
                    try:
                        recv = world.get(RECEIVERS[cname])
                    except Exception:
                        recv = None
                if recv is None:
                    # No receiver to probe with: the coverage test reports
                    # the class; count the attribute as a possible setter.
                    writable = True
                else:
                    writable = _probe_writable(recv, name)
                if writable:
                    key = "%s.%s=" % (cname, name)
                    apis[key] = Api(key, cls, name, "setter", qualname(klass))
    for fname in public_functions():
        apis[fname] = Api(fname, None, fname, "function", None)
    return apis


# ===========================================================================
# 2. The world: live objects, built on demand
# ===========================================================================

MAIN_WAT = """
(module
  (import "m" "f" (func $f))
  (import "m" "h" (func $h))
  (memory (export "mem") 1)
  (table (export "tab") 2 funcref)
  (global (export "g") (mut i32) (i32.const 0))
  (func (export "run") (result i32) i32.const 7)
  (func (export "call_h") call $h)
  (func (export "trap") unreachable))
"""
GC_WAT = """
(module
  (type $s (struct (field (mut i32))))
  (type $a (array (mut i32)))
  (tag (export "tag") (param i32))
  (func (export "struct") (result anyref) (struct.new $s (i32.const 1)))
  (func (export "array") (result anyref) (array.new $a (i32.const 2) (i32.const 3))))
"""
REACTOR_WAT = '(module (func (export "r")) (memory (export "rmem") 1))'
MISSING_WAT = '(module (import "m" "nope" (func)) (import "zz" "nope" (func)))'


def _engine_config():
    c = wasmtime.Config()
    c.consume_fuel = True  # Store.get_fuel/set_fuel work
    c.shared_memory = True  # SharedMemory works
    c.wasm_gc = True  # AnyRef: structs and arrays
    c.wasm_function_references = True
    c.wasm_exceptions = True  # WasmException
    # No compilation threads: the worker forks a child per case, which is
    # only safe in a process with one thread.
    c.parallel_compilation = False
    return c


class Env:
    """What every world of one process shares: files and serialized modules."""

    def __init__(self, root):
        self.root = root
        self.engine = eng = wasmtime.Engine(_engine_config())
        self.main_wasm = bytes(wasmtime.wat2wasm(MAIN_WAT))
        self.main_blob = bytes(wasmtime.Module(eng, MAIN_WAT).serialize())
        self.reactor_blob = bytes(wasmtime.Module(eng, REACTOR_WAT).serialize())
        self.missing_blob = bytes(wasmtime.Module(eng, MISSING_WAT).serialize())
        self.comp_blobs = {
            name: bytes(wc.Component(eng, wat).serialize()) for name, wat in _c_wats().items()
        }
        self.comp_wasm = bytes(wasmtime.wat2wasm(C_PLAIN_WAT))
        self.comp_wat_file = self._write("plain.component.wat", C_PLAIN_WAT.encode())
        self.comp_cwasm_file = self._write("plain.component.cwasm", self.comp_blobs["plain"])
        self.wat_file = self._write("main.wat", MAIN_WAT.encode())
        self.cwasm_file = self._write("main.cwasm", self.main_blob)
        self.stdin_file = self._write("stdin.txt", b"input\n")
        self.stdout_file = os.path.join(root, "stdout.txt")
        self.stderr_file = os.path.join(root, "stderr.txt")
        self.dir = os.path.join(root, "preopen")
        os.makedirs(self.dir, exist_ok=True)
        cache_dir = os.path.join(root, "cache")
        self.cache_toml = self._write(
            "cache.toml", ('[cache]\ndirectory = "%s"\n' % cache_dir).encode()
        )

    def _write(self, name, data):
        path = os.path.join(self.root, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


def _noop(*args):
    return None


class World:
    """Live objects built on demand by BUILDERS, with the graph of which
    object was built from which (`deps`)."""

    def __init__(self, env):
        self.env = env
        self.objs = {}
        self.deps = {}
        self._stack = []
        self.caller = None  # a live Caller while a case runs inside wasm
        self.caller_body = None
        self.dropped = False
        self.host_ret = None  # what the component host function `x` returns

    def get(self, key):
        if self._stack:
            self.deps.setdefault(self._stack[-1], set()).add(key)
        if key == "caller":
            if self.caller is None:
                raise RuntimeError("no Caller outside a host call")
            return self.caller
        if key in self.objs:
            return self.objs[key]
        if self.dropped:
            raise RuntimeError("the world was dropped")
        self._stack.append(key)
        try:
            obj = BUILDERS[key](self)
        finally:
            self._stack.pop()
        self.objs[key] = obj
        return obj

    def enter(self, key):
        self._stack.append(key)

    def leave(self):
        self._stack.pop()

    def reach(self, key):
        """Every world key `key` used, transitively (key itself excluded)."""
        out, todo = [], list(self.deps.get(key, ()))
        while todo:
            k = todo.pop()
            if k in out:
                continue
            out.append(k)
            todo.extend(self.deps.get(k, ()))
        return out

    def drop(self):
        self.dropped = True
        self.objs.clear()

    def run_in_caller(self, caller):
        """Body of the host function `caller_func`: runs the pending case."""
        body, self.caller_body = self.caller_body, None
        if body is None:
            return
        self.caller = caller
        try:
            body()
        finally:
            self.caller = None


def _store(w):
    s = wasmtime.Store(w.get("engine"))
    s.set_fuel(10**9)
    return s


def _wasi_store(w):
    s = _store(w)
    s.set_wasi(wasmtime.WasiConfig())
    return s


def _linker(w):
    linker = wasmtime.Linker(w.get("engine"))
    linker.define_func("m", "f", w.get("functype0"), _noop)
    linker.define_func("m", "h", w.get("functype0"), _noop)
    linker.define(w.get("store"), "m", "g", w.get("global"))
    return linker


def _frame(w):
    try:
        w.get("exports")["trap"](w.get("store"))
    except wasmtime.Trap as t:
        return t.frames[0]
    raise AssertionError("the trap export did not trap")


def _caller_func(w):
    return wasmtime.Func(
        w.get("store"),
        wasmtime.FuncType([], []),
        lambda caller: w.run_in_caller(caller),
        access_caller=True,
    )


VT = wasmtime.ValType

BUILDERS = {
    "engine": lambda w: wasmtime.Engine(_engine_config()),
    "config": lambda w: wasmtime.Config(),
    "store": _store,
    "wasi_store": _wasi_store,
    "wasi": lambda w: wasmtime.WasiConfig(),
    "module": lambda w: wasmtime.Module.deserialize(w.get("engine"), w.env.main_blob),
    "reactor_module": lambda w: wasmtime.Module.deserialize(w.get("engine"), w.env.reactor_blob),
    "missing_module": lambda w: wasmtime.Module.deserialize(w.get("engine"), w.env.missing_blob),
    "functype0": lambda w: wasmtime.FuncType([], []),
    "host_func": lambda w: wasmtime.Func(w.get("store"), w.get("functype0"), _noop),
    "caller_func": _caller_func,
    "instance": lambda w: wasmtime.Instance(
        w.get("store"), w.get("module"), [w.get("host_func"), w.get("caller_func")]
    ),
    "exports": lambda w: w.get("instance").exports(w.get("store")),
    "memory": lambda w: w.get("exports")["mem"],
    "table": lambda w: w.get("exports")["tab"],
    "global": lambda w: w.get("exports")["g"],
    "func": lambda w: w.get("exports")["run"],
    "func_num": lambda w: wasmtime.Func(
        w.get("store"),
        wasmtime.FuncType([VT.i32(), VT.i64(), VT.f32(), VT.f64()], [VT.i32()]),
        lambda a, b, c, d: 1,
    ),
    "func_ref": lambda w: wasmtime.Func(
        w.get("store"),
        wasmtime.FuncType([VT.externref(), VT.funcref()], [VT.externref()]),
        lambda x, f: x,
    ),
    "global_ref": lambda w: wasmtime.Global(
        w.get("store"), wasmtime.GlobalType(VT.externref(), True), None
    ),
    "table_ext": lambda w: wasmtime.Table(
        w.get("store"), wasmtime.TableType(VT.externref(), wasmtime.Limits(2, None)), None
    ),
    "tag": lambda w: wasmtime.Tag(w.get("store"), wasmtime.TagType(wasmtime.FuncType([], []))),
    "linker": _linker,
    "instance_pre": lambda w: w.get("linker").instantiate_pre(w.get("module")),
    "shared_memory": lambda w: wasmtime.SharedMemory(
        w.get("engine"), wasmtime.MemoryType(wasmtime.Limits(1, 2), shared=True)
    ),
    "memory_view": lambda w: w.get("memory").view(w.get("store")),
    "gc_exports": lambda w: wasmtime.Instance(
        w.get("store"), wasmtime.Module(w.get("engine"), GC_WAT), []
    ).exports(w.get("store")),
    "anyref_struct": lambda w: w.get("gc_exports")["struct"](w.get("store")),
    "anyref_array": lambda w: w.get("gc_exports")["array"](w.get("store")),
    "exn_tag": lambda w: w.get("gc_exports")["tag"],
    "exnref": lambda w: wasmtime.ExnRef(w.get("store"), w.get("exn_tag"), [1]),
    "field_type": lambda w: wasmtime.FieldType(VT.i32(), True),
    "struct_type": lambda w: wasmtime.StructType(w.get("engine"), [w.get("field_type")]),
    "array_type": lambda w: wasmtime.ArrayType(w.get("engine"), w.get("field_type")),
    "wasm_exception": lambda w: wasmtime.WasmException(w.get("exn_tag"), [1]),
    "valtype": lambda w: VT.i32(),
    "functype": lambda w: wasmtime.FuncType([VT.i32()], [VT.i32()]),
    "globaltype": lambda w: wasmtime.GlobalType(VT.i32(), True),
    "tabletype": lambda w: wasmtime.TableType(VT.funcref(), wasmtime.Limits(1, None)),
    "memorytype": lambda w: wasmtime.MemoryType(wasmtime.Limits(1, None)),
    "tagtype": lambda w: wasmtime.TagType(wasmtime.FuncType([], [])),
    "limits": lambda w: wasmtime.Limits(1, 2),
    "importtype": lambda w: w.get("module").imports[0],
    "exporttype": lambda w: w.get("module").exports[0],
    "val": lambda w: wasmtime.Val.i32(1),
    "trap": lambda w: wasmtime.Trap("boom"),
    "timeout": lambda w: wasmtime.Timeout("late"),
    "interruptible_store": lambda w: wasmtime.Store(
        wasmtime.Engine(_config_with(interruptible=True))
    ),
    "frame": _frame,
    "error": lambda w: wasmtime.WasmtimeError("boom"),
    "exit_trap": lambda w: wasmtime.ExitTrap("bye"),
    "managed": lambda w: wasmtime.Managed(),
}


# -- The component model (wasmtime.component) --------------------------------

_C_LIBC = """
  (core module $libc
    (memory (export "mem") 64)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at)))
  (core instance $libc (instantiate $libc))
"""
_C_OPTS = '(memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))'


def _c_echo(wit, params, result):
    """A component that imports `x: func(v: T) -> T` and exports `x`, whose
    core code passes its argument to the import: a call converts the value
    Python -> guest, guest -> host function, the host's result -> guest, and
    the guest's result -> Python (tests/component_wat.py has the original)."""
    p = " ".join(params)
    gets = " ".join("(local.get %d)" % i for i in range(len(params)))
    if result is None:
        imp = "(func $x (param %s i32))" % p
        body = (
            '(func (export "x") (param %s) (result i32) %s (i32.const 16) (call $x) '
            "(i32.const 16))" % (p, gets)
        )
    else:
        imp = "(func $x (param %s) (result %s))" % (p, result)
        body = '(func (export "x") (param %s) (result %s) %s (call $x))' % (p, result, gets)
    return """(component
  (type $t' %s)
  (import "t" (type $t (eq $t')))
  (import "x" (func $x (param "v" $t) (result $t)))
  %s
  (core func $xl (canon lower (func $x) %s))
  (core module $m (import "" "x" %s) %s)
  (core instance $m (instantiate $m (with "" (instance (export "x" (func $xl))))))
  (func (export "x") (param "v" $t) (result $t) (canon lift (core func $m "x") %s)))""" % (
        wit,
        _C_LIBC,
        _C_OPTS,
        imp,
        body,
        _C_OPTS,
    )


C_PLAIN_WAT = """(component
  (core module $a
    (func (export "f") (param i32))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "call"))
    (func (export "trap") unreachable))
  (core instance $a (instantiate $a))
  (func (export "f") (param "c" char) (canon lift (core func $a "f")))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $a "add")))
  (func (export "trap") (canon lift (core func $a "trap")))
  (func $g (canon lift (core func $a "call")))
  (instance $inner (export "g" (func $g)))
  (export "inner" (instance $inner)))"""

# Imports `call: func()` (not defined by the `c_linker_bare` linker).
C_CALLS_HOST_WAT = """(component
  (import "call" (func $h))
  (core func $hl (canon lower (func $h)))
  (core module $m (import "" "h" (func $h)) (func (export "call") (call $h)))
  (core instance $m (instantiate $m (with "" (instance (export "h" (func $hl))))))
  (func (export "call") (canon lift (core func $m "call"))))"""

# Host resources: `make` returns an own (made by the host), `take` consumes
# a list and an own, `takel` a list of owns, `peek` a u32 and a borrow.
C_RES_WAT = """(component
  (import "res" (type $t (sub resource)))
  (import "make" (func $make (result (own $t))))
  (core func $drop (canon resource.drop $t))
  (core func $makel (canon lower (func $make)))
  %s
  (core module $m
    (import "" "drop" (func $drop (param i32)))
    (import "" "make" (func $make (result i32)))
    (func (export "make") (result i32) (call $make))
    (func (export "take") (param i32 i32 i32) (call $drop (local.get 2)))
    (func (export "takel") (param i32 i32))
    (func (export "peek") (param i32 i32) (call $drop (local.get 1))))
  (core instance $m (instantiate $m (with "" (instance
    (export "drop" (func $drop)) (export "make" (func $makel))))))
  (func (export "make") (result (own $t)) (canon lift (core func $m "make")))
  (func (export "take") (param "a" (list u32)) (param "b" (own $t))
    (canon lift (core func $m "take") %s))
  (func (export "takel") (param "a" (list (own $t))) (canon lift (core func $m "takel") %s))
  (func (export "peek") (param "a" u32) (param "b" (borrow $t))
    (canon lift (core func $m "peek"))))""" % (_C_LIBC, _C_OPTS, _C_OPTS)

# Every kind of type, for the type classes (never instantiated).
_C_TYPES = {
    "list": "(list u32)",
    "record": '(record (field "x" u32))',
    "tuple": "(tuple u32 u8)",
    "variant": '(variant (case "p" u32) (case "q"))',
    "enum": '(enum "a" "b")',
    "option": "(option u32)",
    "result": "(result u32 (error u8))",
    "flags": '(flags "a" "b")',
    "stream": "(stream u8)",
    "future": "(future u8)",
}
C_TYPES_WAT = '(component (import "r" (type $r (sub resource)))\n%s\n%s\n%s\n%s)' % (
    "\n".join(
        "(type $%s' %s) (import \"%s\" (type $%s (eq $%s')))" % (k, t, k, k, k)
        for k, t in _C_TYPES.items()
    ),
    '(import "f" (func %s (param "own" (own $r)) (param "borrow" (borrow $r))))'
    % " ".join('(param "%s" $%s)' % (k, k) for k in _C_TYPES),
    '(import "m" (core module (import "a" "b" (func)) (export "c" (memory 1))))',
    '(import "i" (instance (export "g" (func))))',
)

_I32, _I64, _PAIR, _TRIPLE = (
    (["i32"], "i32"),
    (["i64"], "i64"),
    (["i32", "i32"], None),
    (
        ["i32", "i32", "i32"],
        None,
    ),
)


class Rec:
    """A record value: fields as attributes (WIT names)."""

    def __init__(self, **fields):
        for k, v in fields.items():
            setattr(self, k, v)

    def fields(self):
        return dict(vars(self))


# Echo components: name -> (WIT type, flat params and result, valid values).
# Every value goes in as an argument of the exported func, and again as the
# result of the Python host function `x` (the "via host" variants).
C_ECHO = {
    "u32": ("u32", _I32, [5]),
    "s64": ("s64", _I64, [-3]),
    "bool": ("bool", _I32, [True]),
    "f64": ("f64", (["f64"], "f64"), [1.5]),
    "char": ("char", _I32, ["c"]),
    "string": ("string", _PAIR, ["hello"]),
    "list_u32": ("(list u32)", _PAIR, [lambda w: [1, 2]]),
    "list_u8": ("(list u8)", _PAIR, [b"ab", lambda w: [1, 2]]),
    "list_str": ("(list string)", _PAIR, [lambda w: ["a", "bc"]]),
    "record": (
        '(record (field "a" u32) (field "label-text" string))',
        _TRIPLE,
        [lambda w: Rec(**{"a": 1, "label-text": "x"}), lambda w: {"a": 1, "label-text": "x"}],
    ),
    "tuple": ("(tuple u32 string)", _TRIPLE, [lambda w: (1, "x")]),
    "variant": ('(variant (case "a" u32) (case "b" f32))', _PAIR, [1]),
    "option": ("(option u32)", _PAIR, [5]),
    "nested": ("(option (option u32))", _TRIPLE, [lambda w: wc.Variant("some", 3)]),
    "result": ("(result string (error string))", _TRIPLE, [lambda w: wc.Variant("err", "no")]),
    "enum": ('(enum "red" "green")', _I32, ["green"]),
    "flags": ('(flags "a" "b" "c")', _I32, [lambda w: {"a", "c"}]),
}
# The echo types whose values also come back from the host function.
C_VIA_HOST = ("u32", "string", "list_u32", "list_str", "record", "nested", "flags", "enum")


def _c_wats():
    out = {
        "plain": C_PLAIN_WAT,
        "calls_host": C_CALLS_HOST_WAT,
        "res": C_RES_WAT,
        "types": C_TYPES_WAT,
    }
    for name, (wit, (params, result), _vals) in C_ECHO.items():
        out["echo_" + name] = _c_echo(wit, params, result)
    return out


def _c_host_echo(w):
    def host(_ctx, v):
        r = w.host_ret
        return v if r is None else r

    return host


def _c_linker(w):
    linker = wc.Linker(w.get("engine"))
    with linker.root() as root:
        root.add_func("x", _c_host_echo(w))
        # Runs the pending case with a StoreContext as its store.
        root.add_func("call", lambda ctx: w.run_in_caller(ctx))
        root.add_resource("res", wc.ResourceType.host(7), _noop)
        root.add_func("make", lambda ctx: wc.ResourceHost.own(42, 7))
    return linker


def _c_comp(name):
    return lambda w: wc.Component.deserialize(w.get("engine"), w.env.comp_blobs[name])


def _c_inst(comp):
    return lambda w: w.get("c_linker").instantiate(w.get("store"), w.get("c_comp_" + comp))


def _c_func(inst, name):
    return lambda w: w.get("c_inst_" + inst).get_func(w.get("store"), name)


def _c_import(name):
    return lambda w: w.get("c_comp_types").type.imports(w.get("engine"))[name]


def _c_param(name):
    return lambda w: dict(w.get("c_functype").params)[name]


C_BUILDERS = {
    "c_linker": _c_linker,
    "c_linker_bare": lambda w: wc.Linker(w.get("engine")),
    "c_li_linker": lambda w: wc.Linker(w.get("engine")),
    "c_linker_instance": lambda w: w.get("c_li_linker").root(),
    "c_export_index": lambda w: w.get("c_comp_plain").get_export_index("add"),
    "c_inst_export_index": lambda w: w.get("c_inst_plain").get_export_index(w.get("store"), "add"),
    "c_restype": lambda w: wc.ResourceType.host(7),
    "c_res_host": lambda w: wc.ResourceHost.own(42, 7),
    "c_res_any": lambda w: w.get("c_func_make")(w.get("store")),
    "c_res_any2": lambda w: wc.ResourceHost.own(43, 7).to_any(w.get("store")),
    "c_comptype": lambda w: w.get("c_comp_types").type,
    "c_extern": _c_import("f"),
    "c_functype": lambda w: w.get("c_extern").ty,
    "c_moduletype": lambda w: w.get("c_comp_types").type.imports(w.get("engine"))["m"].ty,
    "c_insttype": lambda w: w.get("c_comp_types").type.imports(w.get("engine"))["i"].ty,
    "c_own": _c_param("own"),
    "c_borrow": _c_param("borrow"),
    "c_valtype": lambda w: wc.ValType(),
    "c_variant": lambda w: wc.Variant("a", 1),
    "c_record": lambda w: wc.Record(),
    "c_func_add": _c_func("plain", "add"),
    "c_func_make": _c_func("res", "make"),
    "c_func_take": _c_func("res", "take"),
    "c_func_takel": _c_func("res", "takel"),
    "c_func_peek": _c_func("res", "peek"),
}
for _n in ("plain", "calls_host", "res", "types"):
    C_BUILDERS["c_comp_" + _n] = _c_comp(_n)
for _n in ("plain", "res", "calls_host"):
    C_BUILDERS["c_inst_" + _n] = _c_inst(_n)
# Its `call` runs the pending case inside a component host function, with a
# StoreContext as the store (the component counterpart of the Caller mode).
C_BUILDERS["c_func_calls_host"] = _c_func("calls_host", "call")
for _n in C_ECHO:
    C_BUILDERS["c_comp_echo_" + _n] = _c_comp("echo_" + _n)
    C_BUILDERS["c_inst_echo_" + _n] = _c_inst("echo_" + _n)
    C_BUILDERS["c_func_echo_" + _n] = _c_func("echo_" + _n, "x")
for _n in _C_TYPES:
    C_BUILDERS["c_vt_" + _n] = _c_param(_n)
# The primitive type classes are constructible: U32() is the receiver.
C_PRIMITIVES = "Bool U8 U16 U32 U64 S8 S16 S32 S64 F32 F64 Char String ErrorContext".split()
for _n in C_PRIMITIVES:
    C_BUILDERS["c_vt_" + _n] = (lambda n: lambda w: getattr(wc, n)())(_n)
BUILDERS.update(C_BUILDERS)


def _config_with(**options):
    c = wasmtime.Config()
    for k, v in options.items():
        setattr(c, k, v)
    return c


# ===========================================================================
# 3. Receivers and valid arguments
# ===========================================================================

# The live receiver of each class's methods and setters (a world key).
RECEIVERS = {
    "AnyRef": "anyref_struct",
    "EqRef": "anyref_struct",
    "StructRef": "anyref_struct",
    "ArrayRef": "anyref_array",
    "ExnRef": "exnref",
    "FieldType": "field_type",
    "StructType": "struct_type",
    "ArrayType": "array_type",
    "WasmException": "wasm_exception",
    "Caller": "caller",
    "Config": "config",
    "Engine": "engine",
    "ExitTrap": "exit_trap",
    "ExportType": "exporttype",
    "Frame": "frame",
    "Func": "func",
    "FuncType": "functype",
    "Global": "global",
    "GlobalType": "globaltype",
    "ImportType": "importtype",
    "Instance": "instance",
    "InstanceExports": "exports",
    "InstancePre": "instance_pre",
    "Limits": "limits",
    "Linker": "linker",
    "Managed": "managed",
    "Memory": "memory",
    "MemoryType": "memorytype",
    "MemoryView": "memory_view",
    "Module": "module",
    "SharedMemory": "shared_memory",
    "Store": "store",
    "Table": "table",
    "TableType": "tabletype",
    "Tag": "tag",
    "TagType": "tagtype",
    "Trap": "trap",
    "Timeout": "timeout",
    "Val": "val",
    "ValType": "valtype",
    "WasiConfig": "wasi",
    "WasmtimeError": "error",
}

# -- wasmtime.component
RECEIVERS.update(
    {
        "component.Component": "c_comp_plain",
        "component.ExportIndex": "c_export_index",
        "component.Linker": "c_linker",
        "component.LinkerInstance": "c_linker_instance",
        "component.Instance": "c_inst_plain",
        "component.Func": "c_func_add",
        "component.ResourceType": "c_restype",
        "component.ResourceAny": "c_res_any",
        "component.ResourceHost": "c_res_host",
        "component.ComponentType": "c_comptype",
        "component.ModuleType": "c_moduletype",
        "component.ComponentInstanceType": "c_insttype",
        "component.ComponentExtern": "c_extern",
        "component.FuncType": "c_functype",
        "component.ValType": "c_vt_list",
        "component.VariantLikeType": "c_vt_variant",
        "component.ListType": "c_vt_list",
        "component.RecordType": "c_vt_record",
        "component.TupleType": "c_vt_tuple",
        "component.VariantType": "c_vt_variant",
        "component.EnumType": "c_vt_enum",
        "component.OptionType": "c_vt_option",
        "component.ResultType": "c_vt_result",
        "component.FlagsType": "c_vt_flags",
        "component.StreamType": "c_vt_stream",
        "component.FutureType": "c_vt_future",
        "component.OwnType": "c_own",
        "component.BorrowType": "c_borrow",
        "component.Variant": "c_variant",
        "component.Record": "c_record",
    }
)
for _n in C_PRIMITIVES:
    RECEIVERS["component." + _n] = "c_vt_" + _n

# Public callables that are not exercised, and why.
SKIP = {
    "ValType()": "not constructible (raises 'cannot construct directly'); the classmethods "
    "ValType.i32() etc. are the constructors and are covered",
    "component.ValType.convert_to_c": "wasmtime-py's hook for its ctypes conversion; here it "
    "always raises NotImplementedError before looking at its arguments (values convert in C)",
    "component.ValType.convert_from_c": "as convert_to_c: always NotImplementedError",
    # Stream, future and error-context values have no Python class yet
    # (docs/components.md, "Not yet"): add_classes refuses before it looks at
    # its argument; ValType.add_classes is covered on the list type.
    "component.StreamType.add_classes": "always NotImplementedError (no Python class yet)",
    "component.FutureType.add_classes": "always NotImplementedError (no Python class yet)",
    "component.ErrorContext.add_classes": "always NotImplementedError (no Python class yet)",
    "ArrayRef.field": "a struct method inherited from AnyRef (an array is no struct); "
    "covered on AnyRef/StructRef",
    "ArrayRef.set_field": "as ArrayRef.field",
    "StructRef.len": "an array method inherited from AnyRef (a struct is no array); covered "
    "on AnyRef/ArrayRef",
    "StructRef.get": "as StructRef.len",
    "StructRef.set": "as StructRef.len",
    "StoreContext()": "only the runtime makes one (the first argument of a component host "
    "function); tests/test_component_*.py use it where it is live",
}


def skipped(api):
    """Whether SKIP names the callable (or the method it inherits)."""
    return api.key in SKIP or (api.attr is not None and "%s.%s" % (api.defining, api.attr) in SKIP)


class K:
    """A valid value that is a world object."""

    def __init__(self, key):
        self.key = key

    def __call__(self, w):
        return w.get(self.key)

    def __repr__(self):
        return "K(%r)" % self.key


class StoreSpec(K):
    """The `store` argument: the world Store, or a live Caller in caller mode."""

    def __init__(self):
        K.__init__(self, "store")


STORE = StoreSpec()


class Path(str):
    """Marks a str valid value as a filesystem path (gets __fspath__ evils)."""


class Payload:
    """Marks a position that takes any object (externref payload, data)."""

    def __repr__(self):
        return "Payload()"


class Thing:
    """The plain object passed where any object is valid."""


class V:
    """One variant of valid arguments: params by name, or `_args` (positional,
    for *args signatures); `_recv` overrides the receiver's world key;
    `_caller=False` when the API takes only a Store, never a Caller."""

    def __init__(self, label="", /, _recv=None, _args=None, _caller=True, _host=None, **params):
        self.name = label
        self.recv = _recv
        self.args = _args
        self.caller = _caller  # False: the API takes a Store only, not a Caller
        # _host=i: the evil value of position i is returned by the component
        # host function `x` (world.host_ret) while the call gets the valid one.
        self.host = _host
        self.params = params


def _file(attr):
    return lambda w: Path(getattr(w.env, attr))


_HOST_TRIPLE = "%s-unknown-linux-gnu" % (
    "aarch64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
)

# Valid values by parameter name, used unless VALID says otherwise.
GENERIC = {
    "store": STORE,
    "engine": K("engine"),
    "config": K("config"),
    "wasi": K("wasi"),
    "instance": K("instance"),
    "func": lambda w: _noop,
    "access_caller": False,
    "delta": 1,
    "amt": 1,
    "idx": 0,
    "fuel": 100,
    "ticks_after_current": 1,
    "interval": 1000,
    "memory_size": 1 << 20,
    "table_elements": 1000,
    "instances": 10,
    "tables": 10,
    "memories": 10,
    "min": 1,
    "max": 2,
    "message": "boom",
    "data": Payload(),
    "extern": Payload(),
    "default": None,
}

_CONFIG_BOOL_SETTERS = (
    "debug_info",
    "wasm_threads",
    "wasm_tail_call",
    "wasm_reference_types",
    "wasm_simd",
    "wasm_bulk_memory",
    "wasm_multi_value",
    "wasm_multi_memory",
    "wasm_memory64",
    "wasm_relaxed_simd",
    "wasm_relaxed_simd_deterministic",
    "wasm_component_model",
    "wasm_component_model_map",
    "wasm_component_model_implements",
    "wasm_exceptions",
    "wasm_function_references",
    "wasm_gc",
    "wasm_wide_arithmetic",
    "wasm_custom_page_sizes",
    "wasm_stack_switching",
    "cranelift_debug_verifier",
    "consume_fuel",
    "parallel_compilation",
    "shared_memory",
    "gc_support",
    "cranelift_nan_canonicalization",
    "memory_may_move",
    "native_unwind_info",
    "macos_use_mach_ports",
    "signals_based_traps",
    "memory_init_cow",
    "epoch_interruption",
    "interruptible",
)

_FT0 = lambda w: wasmtime.FuncType([], [])  # noqa: E731

# Valid arguments per callable: a V or a list of V (variants).
VALID = {
    # -- Config
    "Config.cranelift_flag_enable": V(flag="enable_verifier"),
    "Config.cranelift_flag_set": V(key="opt_level", value="speed"),
    "Config.max_wasm_stack=": V(value=1 << 20),
    "Config.async_stack_size=": V(value=4 << 20),
    "Config.memory_reservation=": V(value=1 << 32),
    "Config.memory_guard_size=": V(value=1 << 16),
    "Config.memory_reservation_for_growth=": V(value=1 << 16),
    "Config.strategy=": V(value="cranelift"),
    "Config.cranelift_opt_level=": V(value="speed"),
    "Config.profiler=": V(value="none"),
    "Config.cache=": V(value=_file("cache_toml")),
    "Config.target=": V(value=_HOST_TRIPLE),
    # -- Store
    "Store.set_wasi_http": V(_recv="wasi_store"),
    "Store.set_timeout": V(_recv="interruptible_store", seconds=1.5),
    # -- Module
    "Module()": [V("wat", wasm=MAIN_WAT), V("binary", wasm=lambda w: w.env.main_wasm)],
    "Module.from_file": V(path=_file("wat_file")),
    "Module.deserialize": V(encoded=lambda w: w.env.main_blob),
    "Module.deserialize_file": V(path=_file("cwasm_file")),
    "Module.validate": V(wasm=lambda w: w.env.main_wasm),
    # -- types
    "FuncType()": V(params=lambda w: [VT.i32(), VT.i64()], results=lambda w: [VT.f32()]),
    "GlobalType()": V(valtype=lambda w: VT.i32(), mutable=True),
    "TableType()": V(valtype=lambda w: VT.funcref(), limits=lambda w: wasmtime.Limits(1, None)),
    "MemoryType()": V(
        limits=lambda w: wasmtime.Limits(1, 2), is_64=False, shared=False, page_size_log2=16
    ),
    "TagType()": V(functype=_FT0),
    "Limits.min=": V(value=1),
    "Limits.max=": V(value=2),
    "Limits.__eq__": V(value=lambda w: wasmtime.Limits(1, 2)),
    "Limits.__ne__": V(value=lambda w: wasmtime.Limits(1, 2)),
    "ValType.__eq__": V(value=lambda w: VT.i32()),
    "ValType.__ne__": V(value=lambda w: VT.i32()),
    "ValType.ref": V(heap="any", nullable=True),
    # -- values
    "Val()": [V("i32", kind=0, val=1), V("externref", kind=6, val=Payload())],
    "Val.i32": V(val=1),
    "Val.v128": V(val=1 << 100),
    "Module.custom_sections": V(name="name"),
    "WasmException()": V(tag=K("exn_tag"), fields=[1]),
    "set_pickle_key": V(key=b"k" * 32),
    "AnyRef.kind": V(),
    "AnyRef.field": V(index=0),
    "AnyRef.set_field": V(index=0, value=5),
    "AnyRef.len": V(_recv="anyref_array"),
    "AnyRef.get": V(_recv="anyref_array", index=1),
    "AnyRef.set": V(_recv="anyref_array", index=1, value=7),
    "AnyRef.__eq__": V(value=K("anyref_struct")),
    "AnyRef.__ne__": V(value=K("anyref_array")),
    "StructRef.new": V(ty=K("struct_type"), fields=[5]),
    "ArrayRef.new": V(ty=K("array_type"), elem=1, length=3),
    "ArrayRef.__getitem__": V(key=1),
    "ArrayRef.__setitem__": V(key=1, value=4),
    "ArrayRef.from_values": V(ty=K("array_type"), values=[1, 2, 3]),
    "ExnRef()": V(tag=K("exn_tag"), fields=[1]),
    "ExnRef.__eq__": V(value=K("exnref")),
    "ExnRef.__ne__": V(value=lambda w: wasmtime.ExnRef(w.get("store"), w.get("exn_tag"), [2])),
    "FieldType()": V(storage=lambda w: VT.i64(), mutable=True),
    "FieldType.__eq__": V(value=lambda w: wasmtime.FieldType("i8")),
    "FieldType.__ne__": V(value=lambda w: wasmtime.FieldType("i8")),
    "StructType()": V(fields=lambda w: [wasmtime.FieldType(VT.i32(), True)]),
    "ArrayType()": V(element=lambda w: wasmtime.FieldType("i16", True)),
    "Val.i64": V(val=2),
    "Val.f32": V(val=1.5),
    "Val.f64": V(val=2.5),
    "Val.funcref": V(f=K("func")),
    "Val.ref_null": V(ty=lambda w: VT.funcref()),
    "Val.__eq__": V(value=lambda w: wasmtime.Val.i32(1)),
    "Val.__ne__": V(value=lambda w: wasmtime.Val.i32(1)),
    # -- functions and externs
    "Func()": V(ty=_FT0, _caller=False),  # a Store only, as in wasmtime-py
    "Func.__call__": [
        V("numeric", _recv="func_num", _args=[STORE, 1, 2, 1.5, 2.5]),
        V("refs", _recv="func_ref", _args=[STORE, Payload(), K("func")]),
        V("wasm", _recv="func", _args=[STORE]),
    ],
    # (an async call cannot start while a sync call runs: a Store only)
    "Func.call_async": V("numeric", _recv="func_num", _args=[STORE, 1, 2, 1.5, 2.5], _caller=False),
    "InstancePre.instantiate_async": V(_caller=False),
    "Caller.get": V(name="mem"),
    "Caller.__getitem__": V(key="mem"),
    "Global()": [
        V("i32", ty=lambda w: wasmtime.GlobalType(VT.i32(), True), val=1),
        V("externref", ty=lambda w: wasmtime.GlobalType(VT.externref(), True), val=Payload()),
    ],
    "Global.set_value": [V("i32", val=5), V("externref", _recv="global_ref", val=Payload())],
    "Table()": [
        V(
            "funcref",
            ty=lambda w: wasmtime.TableType(VT.funcref(), wasmtime.Limits(1, None)),
            init=None,
        ),
        V(
            "externref",
            ty=lambda w: wasmtime.TableType(VT.externref(), wasmtime.Limits(1, None)),
            init=Payload(),
        ),
    ],
    "Table.grow": [V("funcref", init=None), V("externref", _recv="table_ext", init=Payload())],
    "Table.set": [V("funcref", val=K("func")), V("externref", _recv="table_ext", val=Payload())],
    "Memory()": V(ty=lambda w: wasmtime.MemoryType(wasmtime.Limits(1, None))),
    "Memory.get_buffer_ptr": V(size=4, offset=0),
    "Memory.read": V(start=0, stop=4),
    "Memory.write": [V("bytes", value=b"ab", start=0), V("ints", value=lambda w: [1, 2], start=0)],
    "SharedMemory()": V(ty=lambda w: wasmtime.MemoryType(wasmtime.Limits(1, 2), shared=True)),
    "Tag()": V(ty=lambda w: wasmtime.TagType(wasmtime.FuncType([], []))),
    "Tag.eq": V(other=K("tag")),
    "Instance()": V(
        module=K("module"), imports=lambda w: [w.get("host_func"), w.get("caller_func")]
    ),
    "InstanceExports.get": V(key="mem", default=None),
    "InstanceExports.__getitem__": V(key="mem"),
    "InstanceExports.__contains__": V(key="mem"),
    "InstanceExports.__eq__": V(value=lambda w: {"mem": None}),
    "InstanceExports.__ne__": V(value=lambda w: {"mem": None}),
    # -- linker
    "Linker.allow_shadowing=": V(value=True),
    "Linker.allow_unknown_exports=": V(value=True),
    "Linker.define": V(module="x", name="y", item=K("global")),
    "Linker.define_func": V(module="x", name="y", ty=_FT0),
    "Linker.define_instance": V(name="inst"),
    "Linker.define_module": V(name="rm", module=K("reactor_module")),
    "Linker.define_unknown_imports_as_traps": V(module=K("missing_module")),
    "Linker.define_unknown_imports_as_default_values": V(module=K("missing_module")),
    "Linker.instantiate": V(module=K("module")),
    "Linker.instantiate_async": V(module=K("module"), _caller=False),
    "Linker.instantiate_pre": V(module=K("module")),
    "Linker.get_default": V(name="m"),
    "Linker.get": [V("func", module="m", name="f"), V("item", module="m", name="g")],
    "Linker.alias": [
        V("func", module="m", name="f", as_module="a", as_name="f2"),
        V("item", module="m", name="g", as_module="a", as_name="g2"),
    ],
    "Linker.alias_module": V(module="m", as_module="a"),
    # -- WASI
    "WasiConfig.argv=": V(value=lambda w: ["prog", "arg"]),
    "WasiConfig.env=": V(value=lambda w: [("A", "1"), ("B", "2")]),
    "WasiConfig.stdin_file=": V(value=_file("stdin_file")),
    "WasiConfig.stdout_file=": V(value=_file("stdout_file")),
    "WasiConfig.stderr_file=": V(value=_file("stderr_file")),
    "WasiConfig.stdin_bytes=": V(value=b"input"),
    "WasiConfig.stdout_custom=": V(value=lambda w: _noop),
    "WasiConfig.stderr_custom=": V(value=lambda w: _noop),
    "WasiConfig.preopen_dir": V(path=_file("dir"), guest_path="/d", fs_mutable=True),
    # -- misc
    "Managed.__exit__": V(_args=[None, None, None]),
    "wat2wasm": [V("str", wat=MAIN_WAT), V("bytes", wat=MAIN_WAT.encode())],
}
for _name in _CONFIG_BOOL_SETTERS:
    VALID["Config.%s=" % _name] = V(value=True)


def _store_only(variants):
    for v in variants:
        v.caller = False
    return variants


def _c_func_calls():
    """The variants of component Func.__call__: every echo type, directly
    and through the host function's result, and the resource funcs."""
    out = [
        V("add", _recv="c_func_add", _args=[STORE, 1, 2]),
        V(
            "take",
            _recv="c_func_take",
            _args=[STORE, lambda w: [1, 2], K("c_res_host")],
        ),
        V(
            "take any",
            _recv="c_func_take",
            _args=[STORE, lambda w: [1, 2], K("c_res_any2")],
        ),
        V(
            "takel",
            _recv="c_func_takel",
            _args=[STORE, lambda w: [wc.ResourceHost.own(1, 7), wc.ResourceHost.own(2, 7)]],
        ),
        V("peek", _recv="c_func_peek", _args=[STORE, 3, K("c_res_any")]),
        V("peek host", _recv="c_func_peek", _args=[STORE, 3, K("c_res_host")]),
    ]
    for name, (_wit, _flat, vals) in C_ECHO.items():
        for i, v in enumerate(vals):
            label = "%s%s" % (name, "" if i == 0 else "/%d" % i)
            out.append(V(label, _recv="c_func_echo_" + name, _args=[STORE, v]))
            if name in C_VIA_HOST:
                out.append(
                    V(
                        label + " via host",
                        _recv="c_func_echo_" + name,
                        _args=[STORE, v],
                        _host=1,
                    )
                )
    return out


VALID.update(
    {
        "component.Component()": [
            V("wat", engine=K("engine"), wasm=C_PLAIN_WAT),
            V("binary", engine=K("engine"), wasm=lambda w: w.env.comp_wasm),
        ],
        "component.Component.from_file": V(path=_file("comp_wat_file")),
        "component.Component.deserialize": V(encoded=lambda w: w.env.comp_blobs["plain"]),
        "component.Component.deserialize_file": V(path=_file("comp_cwasm_file")),
        "component.Component.get_export_index": [
            V("top", name="add", instance=None),
            V(
                "nested",
                name="g",
                instance=lambda w: w.get("c_comp_plain").get_export_index("inner"),
            ),
        ],
        "component.Linker.allow_shadowing=": V(value=True),
        "component.Linker.instantiate": V(component=K("c_comp_plain")),
        "component.Linker.instantiate_async": V(component=K("c_comp_plain"), _caller=False),
        "component.Linker.define_unknown_imports_as_traps": V(
            _recv="c_linker_bare", component=K("c_comp_calls_host")
        ),
        "component.LinkerInstance.add_instance": V(name="inst"),
        "component.LinkerInstance.add_module": V(name="mod", module=K("reactor_module")),
        # `call` is what C_CALLS_HOST_WAT imports: the poke calls it.
        "component.LinkerInstance.add_func": V(name="call"),
        "component.LinkerInstance.add_resource": V(
            name="r", ty=K("c_restype"), dtor=lambda w: _noop
        ),
        "component.Instance.get_export_index": [
            V("top", name="add", instance=None),
            V(
                "nested",
                name="g",
                instance=lambda w: w.get("c_inst_plain").get_export_index(w.get("store"), "inner"),
            ),
        ],
        "component.Instance.get_func": [
            V("name", index="add"),
            V("index", index=K("c_inst_export_index")),
        ],
        "component.Func.__call__": _c_func_calls(),
        "component.Func.call_async": _store_only(_c_func_calls()),
        "component.Func.type": V(),
        "component.Func.post_return": V(),
        "component.ResourceType.host": V(val=7),
        "component.ResourceType.__eq__": V(value=K("c_restype")),
        "component.ResourceType.__ne__": V(value=K("c_restype")),
        "component.ResourceAny.drop": V(),
        "component.ResourceAny.to_host": V(_recv="c_res_any2"),
        "component.ResourceHost.own": V(rep=42, ty=7),
        "component.ResourceHost.borrow": V(rep=42, ty=7),
        "component.ResourceHost.to_any": V(),
        "component.EnumType.name": V(n=0),
        "component.ComponentExtern.is_implements": V(name="f"),
        "component.ValType.add_classes": V(s=lambda w: set()),
        "component.OwnType()": V(_args=[K("c_restype")]),
        "component.BorrowType()": V(_args=[K("c_restype")]),
        "component.Variant()": [V("payload", tag="a", payload=1), V("bare", tag="a", payload=None)],
        "component.Variant.tag=": V(value="b"),
        "component.Variant.payload=": V(value=2),
    }
)
for _cls, _key in list(RECEIVERS.items()):
    if _cls not in ("component.ValType", "component.VariantLikeType") and (
        _key.startswith("c_vt_") or _cls in ("component.OwnType", "component.BorrowType")
    ):
        for _op in ("__eq__", "__ne__"):
            VALID["%s.%s" % (_cls, _op)] = V(value=K(_key))
for _n in C_PRIMITIVES:
    VALID["component.%s()" % _n] = V(_args=[])
VALID["component.Record()"] = V(_args=[])
VALID["component.Variant.__eq__"] = V(value=lambda w: wc.Variant("a", 1))
VALID["component.Variant.__ne__"] = V(value=lambda w: wc.Variant("a", 1))
VALID["component.Record.__eq__"] = V(value=lambda w: wc.Record())
VALID["component.Record.__ne__"] = V(value=lambda w: wc.Record())


def variants_of(api):
    """The V variants of valid arguments of `api` (a list)."""
    for key in (api.key, "%s.%s" % (api.defining, api.attr) if api.attr else None):
        if key is not None and key in VALID:
            v = VALID[key]
            return v if isinstance(v, list) else [v]
    return [V()]


def receiver_key(api, variant):
    if api.kind in ("new", "classmethod", "function"):
        return None
    if variant.recv is not None:
        return variant.recv
    return RECEIVERS.get(api.clsname)


def arg_specs(api, variant):
    """[(position name, spec)] for one variant, or raise LookupError naming
    what the tables lack."""
    if variant.args is not None:
        return [("args[%d]" % i, s) for i, s in enumerate(variant.args)]
    params = api.params()
    if params is None:
        raise LookupError("%s: no signature (add a V(_args=[...]) to VALID)" % api.key)
    out = []
    for p in params:
        if p.startswith("*"):
            raise LookupError("%s: takes %s (add a V(_args=[...]) to VALID)" % (api.key, p))
        if p in variant.params:
            out.append((p, variant.params[p]))
        elif p in GENERIC:
            out.append((p, GENERIC[p]))
        else:
            raise LookupError(
                "%s: no valid value for parameter %r (add it to VALID or GENERIC)" % (api.key, p)
            )
    return out


def takes_store(api, variant):
    return any(isinstance(s, StoreSpec) for _, s in arg_specs(api, variant))


def resolve(spec, w, caller_mode):
    if isinstance(spec, StoreSpec):
        return w.get("caller") if caller_mode else w.get("store")
    if isinstance(spec, K):
        return spec(w)
    if isinstance(spec, Payload):
        return spec
    if callable(spec):
        return spec(w)
    return spec


def unwrap(v):
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, Payload):
        return Thing()
    return v


# ===========================================================================
# 4. Evil objects
# ===========================================================================


class Fire:
    """What an evil object does when one of its dunders runs: the case's
    action, its exceptions swallowed.  Not re-entered, and at most BUDGET
    times per phase: an action that mutates a dict from inside a key
    comparison makes the lookup restart, so an unbounded evil would livelock
    any dict, ours or not."""

    BUDGET = 3

    def __init__(self, w, action, armed):
        self.w = w
        self.action = action
        self.armed = armed
        self.busy = False
        self.count = 0
        self.left = self.BUDGET

    def arm(self):
        self.armed = True
        self.left = self.BUDGET

    def __call__(self):
        if not self.armed or self.busy or self.left <= 0:
            return
        self.busy = True
        self.count += 1
        self.left -= 1
        try:
            do_action(self.w, self.action)
        except BaseException:
            pass
        finally:
            self.busy = False


class _Evil:
    def __init__(self, fire, v):
        self._fire = fire
        self._v = v


class EvilIndex(_Evil):
    def __index__(self):
        self._fire()
        return self._v

    def __int__(self):
        self._fire()
        return self._v


class EvilFloat(_Evil):
    def __float__(self):
        self._fire()
        return self._v


class EvilBool(_Evil):
    def __bool__(self):
        self._fire()
        return self._v


class EvilPath(_Evil):
    def __fspath__(self):
        self._fire()
        return self._v


class EvilStr(str):
    """Equal to its value and hashing like it, but every comparison, hash,
    str() and repr() runs the action first."""

    def __hash__(self):
        self._fire()
        return str.__hash__(self)

    def __eq__(self, other):
        self._fire()
        return str.__eq__(self, other)

    def __ne__(self, other):
        self._fire()
        return str.__ne__(self, other)

    def __str__(self):
        self._fire()
        return str.__str__(self)

    def __repr__(self):
        self._fire()
        return str.__repr__(self)

    def __format__(self, spec):
        self._fire()
        return str.__format__(self, spec)


class EvilIter(_Evil):
    """Iterable only through a generator that fires between items."""

    def __iter__(self):
        for item in self._v:
            self._fire()
            yield item
        self._fire()


class EvilSeq(_Evil):
    """An old-style sequence: __len__ and __getitem__ fire."""

    def __len__(self):
        self._fire()
        return len(self._v)

    def __getitem__(self, i):
        self._fire()
        return self._v[i]


class EvilBuffer(_Evil):
    """A buffer through the Python-level protocol (3.12+)."""

    def __buffer__(self, flags):
        self._fire()
        return memoryview(self._v)

    def __release_buffer__(self, view):
        self._fire()
        view.release()


class EvilDel(_Evil):
    """Any object: fires when the last reference goes."""

    def __del__(self):
        self._fire()


class Omni(_Evil):
    """An object of the wrong type that implements every protocol, each of
    which fires and then answers like the valid value would."""

    def __index__(self):
        self._fire()
        v = self._v
        return v if isinstance(v, int) else 0

    __int__ = __index__

    def __float__(self):
        self._fire()
        return float(self._v) if isinstance(self._v, (int, float)) else 0.0

    def __bool__(self):
        self._fire()
        try:
            return bool(self._v)
        except Exception:
            return True

    def __fspath__(self):
        self._fire()
        return self._v if isinstance(self._v, (str, bytes)) else "/nonexistent"

    def __len__(self):
        self._fire()
        try:
            return len(self._v)
        except TypeError:
            return 0

    def __iter__(self):
        self._fire()
        try:
            items = list(self._v)
        except TypeError:
            items = []
        for x in items:
            self._fire()
            yield x

    def __getitem__(self, i):
        self._fire()
        return self._v[i]

    def __contains__(self, x):
        self._fire()
        return False

    def __hash__(self):
        self._fire()
        try:
            return hash(self._v)
        except TypeError:
            return 0

    def __eq__(self, other):
        self._fire()
        return self._v == other

    def __ne__(self, other):
        self._fire()
        return self._v != other

    def __str__(self):
        self._fire()
        return str(self._v)

    def __repr__(self):
        self._fire()
        return "Omni(%r)" % (self._v,)

    def __format__(self, spec):
        self._fire()
        return str(self._v)

    def __call__(self, *args, **kwargs):
        self._fire()
        return None

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self._fire()
        return getattr(self._v, name)

    if sys.version_info >= (3, 12):

        def __buffer__(self, flags):
            self._fire()
            if isinstance(self._v, (bytes, bytearray, memoryview)):
                return memoryview(self._v)
            raise TypeError("not a buffer")

        def __release_buffer__(self, view):
            self._fire()
            view.release()


class EvilAttrs(_Evil):
    """A record value whose every attribute read fires."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self._fire()
        return getattr(self._v, name)


def _quiet(fire, build):
    """build() with `fire` disarmed (a set or dict of evil str hashes them
    while it is built)."""
    was, fire.armed = fire.armed, False
    try:
        return build()
    finally:
        fire.armed = was


def make_evil(kind, valid, fire):
    """An evil object of `kind` standing for `valid`."""
    if kind.startswith("items/"):
        sub = kind[len("items/") :]
        if isinstance(valid, (set, frozenset)):
            return _quiet(fire, lambda: type(valid)(make_evil(sub, x, fire) for x in valid))
        items = [make_evil(sub, x, fire) for x in valid]
        return tuple(items) if isinstance(valid, tuple) else items
    if kind.startswith("fields/"):  # a record: every field that fits gets `sub`
        sub = kind[len("fields/") :]
        return Rec(
            **{
                k: make_evil(sub, v, fire) if sub in kinds_for(v) else v
                for k, v in valid.fields().items()
            }
        )
    if kind == "getattr":
        return EvilAttrs(fire, valid)
    if kind.startswith("keys/"):  # a dict: evil str keys
        return _quiet(fire, lambda: {make_evil("str", k, fire): v for k, v in valid.items()})
    if kind.startswith("values/"):
        sub = kind[len("values/") :]
        return {k: make_evil(sub, v, fire) if sub in kinds_for(v) else v for k, v in valid.items()}
    if kind == "tag/str":  # a Variant
        return wc.Variant(make_evil("str", valid.tag, fire), valid.payload)
    if kind.startswith("payload/"):
        sub = kind[len("payload/") :]
        return wc.Variant(valid.tag, make_evil(sub, valid.payload, fire))
    if kind == "index":
        return EvilIndex(fire, valid)
    if kind == "float":
        return EvilFloat(fire, valid)
    if kind == "bool":
        return EvilBool(fire, valid)
    if kind == "fspath":
        return EvilPath(fire, valid)
    if kind == "str":
        s = EvilStr(valid)
        s._fire = fire
        return s
    if kind == "iter":
        return EvilIter(fire, valid)
    if kind == "seq":
        return EvilSeq(fire, valid)
    if kind == "buffer":
        return EvilBuffer(fire, valid)
    if kind == "del":
        return EvilDel(fire, valid)
    if kind == "omni":
        return Omni(fire, valid)
    raise ValueError("unknown evil kind %r" % kind)


def shape_of(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, Path):
        return "path"
    if isinstance(v, str):
        return "str"
    if isinstance(v, (bytes, bytearray)):
        return "bytes"
    if isinstance(v, Payload):
        return "any"
    if isinstance(v, (list, tuple)):
        return "seq"
    if isinstance(v, (set, frozenset)):
        return "set"
    if isinstance(v, dict):
        return "dict"
    if isinstance(v, Rec):
        return "record"
    if isinstance(v, wc.Variant):
        return "variant"
    return "object"


# Evil kinds an API may keep as they are (names, payloads, Limits fields),
# so that they can fire after the call ("later"); the others are converted on
# the spot and only fire during the call.
KEPT_KINDS = ("str", "omni", "index", "float")


def kinds_for(v):
    """The evil kinds that fit a valid value."""
    s = shape_of(v)
    if s == "bool":
        kinds = ["bool"]
    elif s == "int":
        kinds = ["index"]
    elif s == "float":
        kinds = ["float"]
    elif s == "path":
        kinds = ["fspath", "str"]
    elif s == "str":
        kinds = ["str"]
    elif s == "bytes":
        kinds = ["buffer"] if sys.version_info >= (3, 12) else []
    elif s == "any":
        kinds = ["del"]
    elif s == "seq":
        kinds = ["iter", "seq"]
        if len(v) > 0:
            kinds += ["items/" + k for k in kinds_for(v[0]) if k not in ("omni", "del")]
    elif s == "set":
        kinds = ["iter", "items/str"]
    elif s == "dict":
        kinds = ["keys/str"] + sorted(
            set("values/" + k for x in v.values() for k in kinds_for(x) if k != "omni")
        )
    elif s == "record":
        kinds = ["getattr"] + sorted(
            set("fields/" + k for x in v.fields().values() for k in kinds_for(x) if k != "omni")
        )
    elif s == "variant":
        kinds = ["tag/str"] + ["payload/" + k for k in kinds_for(v.payload) if k != "omni"]
    else:
        kinds = []
    return kinds + ["omni"]


# ===========================================================================
# 5. Actions: what an evil object does to the objects in reach
# ===========================================================================


def _consume(obj):
    name = tname(obj)
    if name == "Config":
        wasmtime.Engine(obj)
    elif name == "WasiConfig":
        wasmtime.Store().set_wasi(obj)
    elif name == "FuncType":
        wasmtime.TagType(obj)


def _mutate(obj):
    name = tname(obj)
    if name == "Limits":
        obj.min = int("1000001")
        obj.max = int("1000002")
    elif name == "Linker":
        obj.allow_shadowing = True
        obj.define_func("m", "f", wasmtime.FuncType([], []), _noop)
        obj.define_func("x", "y", wasmtime.FuncType([], []), _noop)
    elif name == "WasiConfig":
        obj.argv = ["other"]
        obj.env = [("C", "3")]
    elif name == "Config":
        obj.debug_info = False
        obj.max_wasm_stack = 1 << 19
    elif name == "component.Linker":
        # Redefines the host functions a call in progress may be running.
        obj.allow_shadowing = True
        with obj.root() as root:
            root.add_func("x", _noop)
            root.add_func("call", _noop)
            root.add_func("make", _noop)


CONSUMABLE = ("Config", "WasiConfig", "FuncType")
MUTABLE = ("Limits", "Linker", "WasiConfig", "Config", "component.Linker")


def do_action(w, action):
    verb, _, key = action.partition(":")
    if verb == "reenter":
        _c_reenter(w)
        return
    if verb == "drop":
        w.drop()
        gc.collect()
        return
    if verb == "closeall":
        for obj in reversed(list(w.objs.values())):
            close = getattr(obj, "close", None) if isinstance(obj, wasmtime.Managed) else None
            if close is not None:
                try:
                    close()
                except Exception:
                    pass
        return
    obj = w.objs.get(key)
    if obj is None:
        return
    if verb == "close":
        obj.close()
    elif verb == "consume":
        _consume(obj)
    elif verb == "mutate":
        _mutate(obj)


def actions_for(w, keys):
    """Actions on the world objects `keys` (those a call reaches)."""
    acts = []
    for k in keys:
        obj = w.objs.get(k)
        if obj is None:
            continue
        name = tname(obj)
        if isinstance(obj, wasmtime.Managed):
            acts.append("close:" + k)
        if name in CONSUMABLE:
            acts.append("consume:" + k)
        if name in MUTABLE:
            acts.append("mutate:" + k)
    if any(k.startswith("c_") for k in keys):
        acts.append("reenter")
    acts.append("closeall")
    acts.append("drop")
    return acts


# "reenter": call component functions of the world's Store from inside the
# evil code; the echo functions of two types go through the Python host
# function `x` with other import types than the call in progress.
REENTER_ECHOES = ("u32", "string")


def _c_reenter(w):
    store = w.objs.get("store")
    if store is None or w.dropped:
        return
    for name in REENTER_ECHOES:
        try:
            w.get("c_func_echo_" + name)(store, unwrap(resolve(C_ECHO[name][2][0], w, False)))
        except Exception:
            pass


# With a Caller as the store, what differs: the Caller's Store (which must
# refuse to close while wasm runs), everything at once, and dropping.
CALLER_ACTIONS = ("close:store", "closeall", "drop", "reenter")


def result_actions(cls):
    """Actions on the result of a constructor (for the "later" timing)."""
    acts = []
    if issubclass(cls, wasmtime.Managed):
        acts.append("close:result")
    if qualname(cls) in CONSUMABLE:
        acts.append("consume:result")
    if qualname(cls) in MUTABLE:
        acts.append("mutate:result")
    return acts


# ===========================================================================
# 6. Cases
# ===========================================================================


class Case:
    __slots__ = ("api", "variant", "pos", "kind", "action", "timing", "caller")

    def __init__(self, api, variant, pos, kind, action, timing, caller):
        self.api = api  # Api key
        self.variant = variant  # index into variants_of(api)
        self.pos = pos  # index of the evil argument, or None (baseline)
        self.kind = kind
        self.action = action
        self.timing = timing  # "now" or "later"
        self.caller = caller  # store argument is a live Caller

    def tolist(self):
        return [self.api, self.variant, self.pos, self.kind, self.action, self.timing, self.caller]

    def describe(self, apis=None):
        api = (apis or API)[self.api]
        variants = variants_of(api)
        vname = variants[self.variant].name
        head = api.key + ("[%s]" % vname if vname else "")
        via = ", store=Caller" if self.caller else ""
        if self.pos is None:
            return "%s: valid arguments%s" % (head, via)
        pname = arg_specs(api, variants[self.variant])[self.pos][0]
        return "%s: %s=<%s> -> %s (%s%s)" % (head, pname, self.kind, self.action, self.timing, via)


def _case_world(env, api, variant):
    """A scratch world with the receiver and valid arguments built; returns
    (world, receiver key, [(pos name, valid value)]).  The store resolves
    to the world Store even for the Caller mode (no host call runs here)."""
    w = World(env)
    rkey = receiver_key(api, variant)
    w.enter("__case__")
    try:
        if rkey is not None and rkey != "caller":
            w.get(rkey)
        elif rkey == "caller":
            w.get("store")
            w.get("instance")
        vals = [(p, resolve(s, w, False)) for p, s in arg_specs(api, variant)]
    finally:
        w.leave()
    return w, rkey, vals


def enumerate_cases(api, env):
    """Every case of one callable."""
    cases = []
    if skipped(api):
        return cases
    for vi, variant in enumerate(variants_of(api)):
        w, rkey, vals = _case_world(env, api, variant)
        store_arg = takes_store(api, variant) and variant.caller
        if rkey == "caller":
            modes = [True]
        elif store_arg:
            modes = [False, True]
        else:
            modes = [False]
        reach = w.reach("__case__")
        if rkey is not None and rkey != "caller" and rkey not in reach:
            reach.insert(0, rkey)
        acts = actions_for(w, reach)
        later_acts = acts + (result_actions(api.cls) if api.kind == "new" else [])
        inherited = api.defining != api.clsname and api.kind != "new"
        for caller in modes:
            cases.append(Case(api.key, vi, None, "valid", None, None, caller))
            if inherited:
                # The same C code as the defining class, whose cases convert
                # the arguments; here the receiver differs: valid call only.
                continue
            for pos, (_pname, v) in enumerate(vals):
                for kind in kinds_for(v):
                    timings = ["now", "later"] if kind in KEPT_KINDS else ["now"]
                    for timing in timings:
                        for action in later_acts if timing == "later" else acts:
                            if caller and action not in CALLER_ACTIONS:
                                # The other owners are the same as with a
                                # Store, whose cases cover them.
                                continue
                            cases.append(Case(api.key, vi, pos, kind, action, timing, caller))
        for obj in reversed(list(w.objs.values())):
            if isinstance(obj, wasmtime.Managed):
                try:
                    obj.close()
                except Exception:
                    pass
    return cases


# Class-specific pokes run after the call, when "later" evils are armed:
# operations that walk what the receiver or the result keeps.
POKES = {
    "Linker": [
        ("list(linker)", lambda w, o: list(o)),
        (
            "linker.instantiate(store, <module with missing imports>)",
            lambda w, o: o.instantiate(w.get("store"), w.get("missing_module")),
        ),
        (
            "linker.instantiate_pre(<module with missing imports>)",
            lambda w, o: o.instantiate_pre(w.get("missing_module")),
        ),
        ("linker.alias_module('m', ...)", lambda w, o: o.alias_module("m", "pk")),
        ("linker.alias_module('x', ...)", lambda w, o: o.alias_module("x", "pk2")),
        ("linker.alias('m', 'f', ...)", lambda w, o: o.alias("m", "f", "pk3", "f")),
        ("linker.alias('x', 'y', ...)", lambda w, o: o.alias("x", "y", "pk4", "y")),
        ("linker.get(store, 'm', 'f')", lambda w, o: o.get(w.get("store"), "m", "f")),
        ("linker.get(store, 'x', 'y')", lambda w, o: o.get(w.get("store"), "x", "y")),
        ("linker.get_default(store, 'm')", lambda w, o: o.get_default(w.get("store"), "m")),
    ],
    "Limits": [
        ("limits == Limits(1, 2)", lambda w, o: o == wasmtime.Limits(1, 2)),
        ("Limits(1, 2) == limits", lambda w, o: wasmtime.Limits(1, 2) == o),
        ("repr(limits)", lambda w, o: repr(o)),
        ("MemoryType(limits)", lambda w, o: wasmtime.MemoryType(o)),
        ("TableType(funcref, limits)", lambda w, o: wasmtime.TableType(VT.funcref(), o)),
    ],
    "Val": [
        ("val == Val.i32(1)", lambda w, o: o == wasmtime.Val.i32(1)),
        ("val == 1", lambda w, o: o == 1),
        ("repr(val)", lambda w, o: repr(o)),
        ("func(store, val, None)", lambda w, o: w.get("func_ref")(w.get("store"), o, None)),
    ],
    "Store": [
        ("store.gc()", lambda w, o: o.gc()),
        ("store.data()", lambda w, o: o.data()),
        ("store.close()", lambda w, o: o.close()),
    ],
    "Global": [
        ("global.value(store)", lambda w, o: o.value(w.get("store"))),
        ("global.set_value(store, None)", lambda w, o: o.set_value(w.get("store"), None)),
    ],
    "Table": [
        ("table.get(store, 0)", lambda w, o: o.get(w.get("store"), 0)),
        ("table.set(store, 0, None)", lambda w, o: o.set(w.get("store"), 0, None)),
    ],
    "InstanceExports": [
        ("exports == {}", lambda w, o: o == {}),
        ("'mem' in exports", lambda w, o: "mem" in o),
        ("repr(exports)", lambda w, o: repr(o)),
    ],
    "WasiConfig": [("Store().set_wasi(wasi)", lambda w, o: wasmtime.Store().set_wasi(o))],
    "Config": [("Engine(config)", lambda w, o: wasmtime.Engine(o))],
    "Trap": [("str(trap)", lambda w, o: str(o)), ("repr(trap)", lambda w, o: repr(o))],
    "component.Linker": [
        (
            "linker.instantiate(store, <component>)",
            lambda w, o: o.instantiate(w.get("store"), w.get("c_comp_plain")),
        ),
    ],
    "component.LinkerInstance": [
        (
            "close it, instantiate the parent with a component importing `call`, call it",
            lambda w, o: _c_poke_linker_instance(w, o),
        ),
    ],
}


def _c_poke_linker_instance(w, li):
    """Runs the host function a LinkerInstance.add_func kept (the evil
    callable of a "later" case fires inside the component call)."""
    parent = li.parent
    li.close()
    store = w.get("store")
    parent.instantiate(store, w.get("c_comp_calls_host")).get_func(store, "call")(store)


# In a forked child: where the case is, for the report of a crash.
_PHASE_FD = None


def phase(what):
    if _PHASE_FD is not None:
        os.write(_PHASE_FD, ("P %s\n" % what).encode())


_ZERO_ARG = {}


def _zero_arg_methods(obj):
    return _zero_arg_names(tname(obj))


def _zero_arg_names(name):
    if name not in _ZERO_ARG:
        _ZERO_ARG[name] = [
            api.attr
            for api in API_BY_CLASS.get(name, ())
            if api.kind == "method" and api.attr not in ("close", "__exit__") and not api.params()
        ]
    return _ZERO_ARG[name]


def poke(w, obj):
    """Run what may walk objects `obj` keeps (exceptions ignored)."""
    if obj is None:
        return
    for name, fn in POKES.get(tname(obj), ()):
        phase("after the call, in " + name)
        try:
            fn(w, obj)
        except BaseException:
            pass
    for name in _zero_arg_methods(obj):
        phase("after the call, in %s.%s()" % (tname(obj), name))
        try:
            r = getattr(obj, name)()
            if name == "__iter__":
                list(r)
        except BaseException:
            pass


# ===========================================================================
# 7. Running one case (in a child interpreter)
# ===========================================================================

HANDLE_TYPES = ("Instance", "Func", "Memory", "Table", "Global", "Tag")


def _store_closed(s):
    if not isinstance(s, wasmtime.Store):
        return False
    try:
        s.data()
    except ValueError:
        return True
    except Exception:
        return False
    return False


# A probe per class: raises ValueError once the object is closed/consumed.
_OPEN_PROBES = {
    "Config": lambda o: setattr(o, "cranelift_debug_verifier", False),
    "WasiConfig": lambda o: setattr(o, "stdin_bytes", b""),
    "Linker": lambda o: iter(o),
    "Store": lambda o: o.data(),
    "Module": lambda o: o.exports,
    "Engine": lambda o: o.is_pulley(),
    "InstancePre": lambda o: o.module,
    "SharedMemory": lambda o: o.size(),
    "FuncType": lambda o: o.params,
}


def is_closed(obj):
    probe = _OPEN_PROBES.get(tname(obj))
    if probe is None:
        return None
    try:
        probe(obj)
    except ValueError:
        return True
    except Exception:
        return False
    return False


def invoke(api, recv, args):
    if api.kind == "new":
        return api.cls(*args)
    if api.kind == "classmethod":
        return getattr(api.cls, api.attr)(*args)
    if api.kind == "function":
        return getattr(wasmtime, api.attr)(*args)
    if api.kind == "setter":
        setattr(recv, api.attr, args[0])
        return None
    res = getattr(recv, api.attr)(*args)
    if api.attr == "__iter__":
        res = list(res)
    return res


def run_case(env, case):
    """Run one case; returns a dict: o (outcome), f (times the evil fired),
    w (wrong result) and n (note)."""
    api = API[case.api]
    variant = variants_of(api)[case.variant]
    w = World(env)
    out = {"o": None, "f": 0, "w": None, "n": None}
    fires = []
    keep = {}

    def body():
        rkey = receiver_key(api, variant)
        recv = w.get(rkey) if rkey is not None else None
        w.enter("__case__")
        try:
            args = [unwrap(resolve(s, w, case.caller)) for _, s in arg_specs(api, variant)]
        finally:
            w.leave()
        call_store = None
        for (_, s), a in zip(arg_specs(api, variant), args):
            if isinstance(s, StoreSpec):
                call_store = a if isinstance(a, wasmtime.Store) else None
        if case.pos is not None:
            fire = Fire(w, case.action, armed=case.timing == "now")
            fires.append(fire)
            valid = args[case.pos]
            args[case.pos] = make_evil(case.kind, valid, fire)
            if variant.host == case.pos:
                w.host_ret, args[case.pos] = args[case.pos], valid
        recv_was_open = recv is not None and is_closed(recv) is False
        store_was_open = call_store is not None and not _store_closed(call_store)
        phase("in the call")
        try:
            res = invoke(api, recv, args)
        except BaseException as e:  # noqa: B902 -- any clean exception is fine
            out["o"] = "raised %s: %s" % (type(e).__name__, str(e)[:120])
            res = None
            if (
                isinstance(e, (wasmtime.WasmtimeError, wasmtime.Trap))
                and store_was_open
                and _store_closed(call_store)
            ):
                # Closing the Store first must give ValueError; an error
                # from Wasmtime means it worked on the freed store.
                out["w"] = (
                    "raised %s (%s) although its Store had been closed: Wasmtime "
                    "worked on a freed store" % (type(e).__name__, str(e)[:100])
                )
        else:
            phase("returning from the call")
            out["o"] = "ok"
            fresh = sys.getrefcount(res) <= 2
            if (
                fresh
                and type(res).__name__ in HANDLE_TYPES
                and call_store is not None
                and _store_closed(call_store)
            ):
                out["w"] = (
                    "returned a new %s although its Store was closed during the call"
                    % type(res).__name__
                )
            if recv_was_open and api.attr not in ("close", "__exit__") and is_closed(recv):
                out["n"] = (
                    "returned normally although its %s was closed or consumed during "
                    "the call" % type(recv).__name__
                )
        del args
        keep["recv"] = recv
        keep["res"] = res

    if case.caller:
        w.caller_body = body
        try:
            if api.cname is not None and api.cname.startswith("component."):
                # A StoreContext, from a component host function.
                w.get("c_func_calls_host")(w.get("store"))
            else:
                w.get("exports")["call_h"](w.get("store"))
        except BaseException:
            if out["o"] is None:
                raise  # the harness failed inside the host function
        if w.caller_body is not None:
            raise RuntimeError("the host function did not run")
    else:
        body()
    if out["o"] is None:
        raise RuntimeError("the case did not run")

    # "later": the evil objects that the callee kept fire from now on.
    for f in fires:
        f.arm()
    recv, res = keep.get("recv"), keep.get("res")
    keep.clear()
    if res is not None and not w.dropped:
        w.objs["result"] = res
    del res
    if case.timing is not None:
        for obj in (recv, w.objs.get("result")):
            poke(w, obj)
        if not w.dropped and "store" in w.objs:
            phase("after the call, in store.gc()")
            try:
                w.objs["store"].gc()
            except BaseException:
                pass
    del recv
    # Teardown: close everything, drop it, collect (fires __del__ evils).
    phase("in the teardown (closing and collecting everything)")
    do_action(w, "closeall")
    w.drop()
    gc.collect()
    out["f"] = sum(f.count for f in fires)
    return out


def canary(env):
    """Ordinary work after a case, in the same process: heap damage done by
    the case (a write into freed memory that did not crash by itself) makes
    glibc or the debug hooks abort here, and the case is blamed."""
    phase("in ordinary work after the case (heap damage)")
    junk = [bytearray(n) for n in range(0, 4096, 64)]
    junk += [{"k%d" % i: [i] * 8} for i in range(64)]
    del junk
    store = wasmtime.Store(env.engine)
    store.set_fuel(10**6)
    module = wasmtime.Module.deserialize(env.engine, env.reactor_blob)
    wasmtime.Instance(store, module, []).exports(store)["r"](store)
    store.close()
    gc.collect()


def _death(status, stderr):
    if os.WIFSIGNALED(status):
        return _describe_death(-os.WTERMSIG(status), stderr)
    return _describe_death(os.WEXITSTATUS(status), stderr)


def _child_main(env, cases, wr, errfd):
    """In a forked child: run `cases` in order, reporting on `wr`."""
    global _PHASE_FD
    try:
        os.dup2(errfd, 2)
        _PHASE_FD = wr
        for i, case in cases:
            os.write(wr, ("S %d\n" % i).encode())
            try:
                res = run_case(env, case)
                canary(env)
            except BaseException as e:
                res = {
                    "o": None,
                    "f": 0,
                    "w": None,
                    "n": None,
                    "e": "harness error: %s: %s" % (type(e).__name__, e),
                }
            os.write(wr, ("R %d %s\n" % (i, json.dumps(res))).encode())
    finally:
        os._exit(0)


def _run_batch(env, cases, errpath):
    """Run `cases` [(i, Case)] in order in one forked child.  Returns
    (results {i: dict}, index of the case that died or None, its death
    {"crash": ..., "where": ...} or None)."""
    r, wr = os.pipe()
    errfd = os.open(errpath, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child_main(env, cases, wr, errfd)
    os.close(wr)
    os.close(errfd)
    results, started, where, hung = {}, None, None, False
    buf = b""
    while True:
        ready, _, _ = select.select([r], [], [], CASE_TIMEOUT)
        if not ready:
            hung = True
            os.kill(pid, signal.SIGKILL)
            break
        chunk = os.read(r, 65536)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            if line.startswith("S "):
                started, where = int(line[2:]), "before the case started"
            elif line.startswith("P "):
                where = line[2:]
            elif line.startswith("R "):
                _, i, payload = line.split(" ", 2)
                results[int(i)] = json.loads(payload)
                started = None
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if started is None and not hung and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return results, None, None
    with open(errpath, errors="replace") as f:
        stderr = f.read()
    if started is None:  # died between cases: blame the next one
        rest = [i for i, _ in cases if i not in results]
        started = rest[0] if rest else cases[-1][0]
        where = "between cases"
    death = _describe_death(None, stderr) if hung else _death(status, stderr)
    return results, started, {"crash": death, "where": where}


def worker_main(argv):
    """python test_reentrancy.py --worker JOB.json OUT.txt: a fork server.
    The cases run in forked children, one after the other; when a child
    dies, the case it was running is run again alone in a fresh child (so a
    crash is attributed to the case that causes it) and a new child goes on
    with the next case.  Results go to OUT.txt as "R i json" lines."""
    job_path, out_path = argv[2], argv[3]
    with open(job_path) as f:
        job = json.load(f)
    fd = os.open(out_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    sys.unraisablehook = lambda unraisable: None
    root = tempfile.mkdtemp(prefix="reent-")
    os.chdir(root)
    env = Env(root)
    errpath = os.path.join(root, "child-stderr.txt")
    for api in API.values():  # signatures once, before forking
        api.params()
    for name in API_BY_CLASS:
        _zero_arg_names(name)
    gc.collect()
    gc.freeze()
    # Forking is only safe without other threads (none of ours runs any:
    # parallel compilation is off in every engine the worker builds).
    nthreads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1
    if nthreads != 1:
        sys.stderr.write("warning: %d threads before fork\n" % nthreads)

    def emit(i, res):
        os.write(fd, ("R %d %s\n" % (i, json.dumps(res))).encode())

    todo = [(i, Case(*spec)) for i, spec in job["cases"]]
    while todo:
        results, died, death = _run_batch(env, todo, errpath)
        for i, _ in todo:
            if i in results:
                emit(i, results[i])
        if died is None:
            break
        pos = [i for i, _ in todo].index(died)
        case = todo[pos][1]
        # Alone, in a fresh child (twice for a hang: a stalled machine is
        # not a hang).
        attempts = 2 if death["crash"].startswith("hang") else 1
        for _ in range(attempts):
            alone, alone_died, alone_death = _run_batch(env, [(died, case)], errpath)
            if alone_died is None:
                break
        if alone_died is not None:
            emit(died, alone_death)
        elif death["crash"].startswith("hang"):
            emit(died, alone[died])  # the machine stalled; alone it runs
        else:
            why = (
                "intermittent: alone it passed"
                if pos == 0
                else "only after the cases before it in the same process; alone it passed"
            )
            emit(died, {"crash": "%s (%s)" % (death["crash"], why), "where": death["where"]})
        todo = todo[pos + 1 :]
    os.close(fd)
    os.chdir("/")
    shutil.rmtree(root, ignore_errors=True)
    return 0


# ===========================================================================
# 8. Running many cases from the parent
# ===========================================================================

# A case takes milliseconds; one that makes no progress for this long is
# hung (a deadlock or a livelock) and is killed.
CASE_TIMEOUT = 60.0


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["RUST_BACKTRACE"] = "0"
    env.pop("PYTHONFAULTHANDLER", None)
    if not SANITIZED:
        # A use after free reads poisoned memory (Python objects: the debug
        # hooks' dead bytes; Wasmtime's allocations: glibc's perturbation)
        # and crashes instead of passing by luck.
        # (A free-threaded build only runs on mimalloc.)
        ft = sysconfig.get_config_var("Py_GIL_DISABLED")
        env["PYTHONMALLOC"] = "mimalloc_debug" if ft else "malloc_debug"
        env["MALLOC_PERTURB_"] = "165"
    return env


def _describe_death(rc, stderr):
    if rc is None:
        what = "hang (no progress for %d s, killed)" % CASE_TIMEOUT
    elif rc < 0:
        try:
            what = signal.Signals(-rc).name
        except ValueError:
            what = "signal %d" % -rc
        if -rc == signal.SIGABRT:
            what += " (abort)"
    else:
        what = "exit status %d" % rc
    lines = [
        ln.strip()
        for ln in stderr.strip().splitlines()
        if ln.strip() and "RUST_BACKTRACE" not in ln
    ]
    tail = lines[-2:]
    for j in range(len(lines) - 1, -1, -1):
        if (
            "panicked at" in lines[j]
            or "Fatal Python error" in lines[j]
            or lines[j].startswith(("ERROR: AddressSanitizer", "SUMMARY: "))
            or "runtime error:" in lines[j]
        ):
            tail = lines[j : j + 2]
            break
    tail = [re.sub(r"thread '[^']*' \(\d+\) ", "", t) for t in tail]
    if tail:
        what += ": " + " | ".join(t[:200] for t in tail)
    return what


def _run_worker(cases):
    """Run `cases` [(index, Case)] in one worker.  Returns ({i: result},
    description of the worker's own death or None)."""
    with tempfile.TemporaryDirectory(prefix="reent-job-") as tmp:
        job = os.path.join(tmp, "job.json")
        out = os.path.join(tmp, "out.txt")
        errpath = os.path.join(tmp, "stderr.txt")
        with open(job, "w") as f:
            json.dump({"cases": [[i, c.tolist()] for i, c in cases]}, f)
        open(out, "w").close()
        with open(errpath, "w") as err:
            proc = subprocess.Popen(
                [sys.executable, HERE, "--worker", job, out],
                env=child_env(),
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            last_size, last_change = -1, time.monotonic()
            rc = None
            while True:
                try:
                    rc = proc.wait(timeout=0.05)
                    break
                except subprocess.TimeoutExpired:
                    pass
                size = os.path.getsize(out)
                now = time.monotonic()
                if size != last_size:
                    last_size, last_change = size, now
                elif now - last_change > 2 * CASE_TIMEOUT + 30:
                    proc.kill()
                    proc.wait()
                    rc = None
                    break
        with open(errpath, errors="replace") as f:
            stderr = f.read()
        results = {}
        with open(out) as f:
            for line in f:
                if line.startswith("R ") and line.endswith("\n"):
                    _, i, payload = line.split(" ", 2)
                    results[int(i)] = json.loads(payload)
    for line in stderr.splitlines():
        if line.startswith("warning:"):
            sys.stderr.write("test_reentrancy worker: %s\n" % line)
    if rc == 0:
        return results, None
    return results, "the worker itself died: " + _describe_death(rc, stderr)


def run_cases(cases):
    """Run [(index, Case)]; returns {index: result}."""
    results = {}
    todo = list(cases)
    while todo:
        got, death = _run_worker(todo)
        results.update(got)
        rest = [(i, c) for i, c in todo if i not in results]
        if death is None or not rest:
            break
        # Should not happen (cases run in forked children): blame the
        # first case without a result and carry on after it.
        results[rest[0][0]] = {"crash": death}
        todo = rest[1:]
    return results


def verdicts(case, res):
    """(failure or None, note or None) for one case's result."""
    if res is None:
        return "no result (the child lost it)", None
    if "crash" in res:
        where = res.get("where")
        return (res["crash"] + (" [%s]" % where if where else "")), None
    if res.get("e"):
        return res["e"], None
    if res.get("w"):
        return "wrong result: " + res["w"], None
    if case.pos is None and res.get("o") != "ok":
        return (
            "the valid arguments of the table fail: %s (fix VALID/RECEIVERS)" % res.get("o")
        ), None
    return None, res.get("n")


# ===========================================================================
# Module state: the discovered API and its cases
# ===========================================================================

API = {}
API_BY_CLASS = {}
_ENV = None
_ENV_DIR = None


def _init_api():
    global _ENV, _ENV_DIR
    if API:
        return
    _ENV_DIR = tempfile.TemporaryDirectory(prefix="reent-env-")
    _ENV = Env(_ENV_DIR.name)
    w = World(_ENV)
    API.update(discover_api(w))
    for obj in reversed(list(w.objs.values())):
        if isinstance(obj, wasmtime.Managed):
            try:
                obj.close()
            except Exception:
                pass
    for api in API.values():
        if api.cls is not None:
            API_BY_CLASS.setdefault(api.clsname, []).append(api)


def coverage_problems():
    """What the tables do not know how to exercise."""
    _init_api()
    problems = []
    for key, api in sorted(API.items()):
        if skipped(api):
            continue
        try:
            for variant in variants_of(api):
                if api.kind not in ("new", "classmethod", "function"):
                    rkey = receiver_key(api, variant)
                    if rkey is None:
                        raise LookupError(
                            "%s: no receiver for class %s (add it to RECEIVERS)"
                            % (key, api.clsname)
                        )
                    if rkey not in BUILDERS and rkey != "caller":
                        raise LookupError("%s: receiver %r has no builder" % (key, rkey))
                arg_specs(api, variant)
        except LookupError as e:
            problems.append(str(e))
    for key in list(SKIP) + list(VALID):
        if key not in API and not any(
            a.defining and "%s.%s" % (a.defining, a.attr) == key for a in API.values()
        ):
            problems.append("%s is in SKIP/VALID but is no longer a public callable" % key)
    for name in SKIP_CLASSES:
        if not _is_wasmtime_class(getattr(wasmtime, name, None)):
            problems.append("%s is in SKIP_CLASSES but is no longer a public class" % name)
    return problems


_ALL_CASES = {}


def all_cases():
    """{api key: [(global index, Case)]} (computed once)"""
    _init_api()
    if _ALL_CASES:
        return _ALL_CASES
    out, n = _ALL_CASES, 0
    for key in sorted(API):
        if skipped(API[key]):
            continue
        try:
            cs = enumerate_cases(API[key], _ENV)
        except LookupError:
            cs = []
        out[key] = [(n + i, c) for i, c in enumerate(cs)]
        n += len(cs)
    return out


if _WORKER:
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        _init_api()
        sys.exit(worker_main(sys.argv))
    if len(sys.argv) >= 2 and sys.argv[1] == "--count":
        cases = all_cases()
        total = 0
        for key, cs in cases.items():
            print("%-55s %6d" % (key, len(cs)))
            total += len(cs)
        print("%d callables, %d cases" % (len(cases), total))
        sys.exit(0)
    print(__doc__)
    sys.exit(2)


# ===========================================================================
# 9. The tests
# ===========================================================================

if not _WORKER:
    _init_api()
    _API_KEYS = sorted(k for k in API if not skipped(API[k]))

    class _Runner:
        """Runs the cases of the selected callables, two children at a time,
        once per session."""

        def __init__(self):
            self.lock = threading.Lock()
            self.results = None
            self.cases = None
            self.elapsed = None

        def run(self, keys):
            with self.lock:
                if self.results is not None:
                    return
                t0 = time.monotonic()
                allc = all_cases()
                self.cases = {k: allc.get(k, []) for k in keys}
                # Jobs of about 600 cases, callables kept together.
                jobs, cur = [], []
                for k in keys:
                    cur.extend(self.cases[k])
                    if len(cur) >= 600:
                        jobs.append(cur)
                        cur = []
                if cur:
                    jobs.append(cur)
                results = {}
                workers = max(1, min(2, os.cpu_count() or 1))
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(workers) as pool:
                    for r in pool.map(run_cases, jobs):
                        results.update(r)
                self.results = results
                self.elapsed = time.monotonic() - t0
                report = os.environ.get("WASMTIME_REENT_REPORT")
                if report:
                    self.write_report(report)

        def write_report(self, path):
            """Every case with its verdict, as JSON lines (for humans and
            tools: `WASMTIME_REENT_REPORT=out.jsonl pytest ...`)."""
            with open(path, "w") as f:
                for key, cases in sorted(self.cases.items()):
                    for i, case in cases:
                        res = self.results.get(i)
                        fail, note = verdicts(case, res)
                        f.write(
                            json.dumps(
                                {
                                    "api": key,
                                    "case": case.describe(),
                                    "result": res,
                                    "failure": fail,
                                    "note": note,
                                }
                            )
                            + "\n"
                        )

    _RUNNER = _Runner()

    @pytest.fixture(scope="session")
    def reentrancy(request):
        keys = []
        for item in request.session.items:
            cs = getattr(item, "callspec", None)
            if (
                cs is not None
                and "api_key" in cs.params
                and item.module is not None
                and item.module.__name__.endswith("test_reentrancy")
            ):
                keys.append(cs.params["api_key"])
        if not keys:
            keys = list(_API_KEYS)
        _RUNNER.run(sorted(set(keys)))
        return _RUNNER

    def test_every_public_callable_is_covered(capsys):
        problems = coverage_problems()
        n = sum(len(v) for v in all_cases().values())
        with capsys.disabled():
            sys.stdout.write(
                "\ntest_reentrancy: %d public callables (%d skipped: %s; classes skipped: %s), "
                "%d cases\n"
                % (len(API), len(SKIP), ", ".join(sorted(SKIP)), ", ".join(sorted(SKIP_CLASSES)), n)
            )
        assert not problems, "the re-entrancy tables cannot exercise:\n" + "\n".join(problems)

    @pytest.mark.parametrize("api_key", _API_KEYS)
    def test_reentrancy(api_key, reentrancy):
        cases = reentrancy.cases.get(api_key)
        assert cases is not None, "not run"
        failures, notes = [], []
        fired = 0
        for i, case in cases:
            res = reentrancy.results.get(i)
            fail, note = verdicts(case, res)
            if res and res.get("f"):
                fired += 1
            if fail:
                failures.append("%s\n      -> %s" % (case.describe(), fail))
            elif note:
                notes.append("%s\n      -> %s" % (case.describe(), note))
        if notes:
            sys.stdout.write("%s: %d notes\n  %s\n" % (api_key, len(notes), "\n  ".join(notes)))
        assert not failures, (
            "%d of %d re-entrancy cases of %s fail (the evil object ran in "
            "%d cases):\n  %s" % (len(failures), len(cases), api_key, fired, "\n  ".join(failures))
        )

    # -----------------------------------------------------------------------
    # Regression tests: the crashes issue 9 lists, each in its own child
    # (with the same poisoned allocators).  Each must end in a clean
    # ValueError: the object the call needs was closed or consumed by the
    # argument's own code, and anything used after close raises ValueError.
    # -----------------------------------------------------------------------

    _PRELUDE = textwrap.dedent("""
        import gc, os, sys, tempfile
        import wasmtime as w

        def outcome(fn):
            try:
                res = fn()
            except BaseException as e:
                print("RAISED %s: %s" % (type(e).__name__, e), flush=True)
            else:
                print("RETURNED %r" % (res,), flush=True)
            gc.collect()
            # Ordinary work afterwards: heap damage surfaces here.
            eng = w.Engine()
            s = w.Store(eng)
            m = w.Module(eng, '(module (memory (export "m") 1) (func (export "f")))')
            i = w.Instance(s, m, [])
            i.exports(s)["f"](s)
            i.exports(s)["m"].write(s, b"x" * 100, 0)
            s.close()
            gc.collect()

        engine = w.Engine()
        store = w.Store(engine)
        tmp = tempfile.mkdtemp()

        # A component taking (u32, own|borrow<res>) whose core code drops the
        # handle: _C_RES_WAT % (export name, "own" or "borrow").
        _C_RES_WAT = '''(component
          (import "res" (type $t (sub resource)))
          (core func $drop (canon resource.drop $t))
          (core module $m (import "" "drop" (func $drop (param i32)))
            (func (export "f") (param i32 i32) (call $drop (local.get 1))))
          (core instance $m (instantiate $m (with "" (instance (export "drop" (func $drop))))))
          (func (export "%s") (param "a" u32) (param "b" (%s $t))
            (canon lift (core func $m "f"))))'''
    """)

    REGRESSIONS = {
        "Memory.read(start.__index__ closes the Store)": """
            mem = w.Memory(store, w.MemoryType(w.Limits(1, None)))
            class Start:
                def __index__(self):
                    store.close()
                    return 0
            outcome(lambda: mem.read(store, Start(), 4))
        """,
        "Memory.read(stop.__index__ closes the Store)": """
            mem = w.Memory(store, w.MemoryType(w.Limits(1, None)))
            class Stop:
                def __index__(self):
                    store.close()
                    return 4
            outcome(lambda: mem.read(store, 0, Stop()))
        """,
        "Memory.write(start.__index__ closes the Store)": """
            mem = w.Memory(store, w.MemoryType(w.Limits(1, None)))
            class Start:
                def __index__(self):
                    store.close()
                    return 0
            outcome(lambda: mem.write(store, b"hello", Start()))
        """,
        "Memory.write(value iterable closes the Store)": """
            mem = w.Memory(store, w.MemoryType(w.Limits(1, None)))
            def value():
                yield 1
                store.close()
                yield 2
            outcome(lambda: mem.write(store, value(), 0))
        """,
        "Instance(imports generator closes the Module)": """
            module = w.Module(engine, '(module (import "m" "f" (func)))')
            func = w.Func(store, w.FuncType([], []), lambda: None)
            def imports():
                module.close()
                yield func
            outcome(lambda: w.Instance(store, module, imports()))
        """,
        "Instance(imports generator closes the Store)": """
            module = w.Module(engine, '(module (import "m" "f" (func)) (memory (export "mem") 1))')
            func = w.Func(store, w.FuncType([], []), lambda: None)
            def imports():
                store.close()
                yield func
            outcome(lambda: w.Instance(store, module, imports()))
        """,
        "Linker.alias_module(module.__eq__ closes the Linker)": """
            linker = w.Linker(engine)
            linker.define_func("m", "f", w.FuncType([], []), lambda: None)
            class Name(str):
                def __eq__(self, other):
                    linker.close()
                    return str.__eq__(self, other)
                __hash__ = str.__hash__
            outcome(lambda: linker.alias_module(Name("m"), "a"))
        """,
        "Config.epoch_interruption = x (x.__bool__ builds an Engine from the Config)": """
            config = w.Config()
            class X:
                def __bool__(self):
                    w.Engine(config)
                    return True
            outcome(lambda: setattr(config, "epoch_interruption", X()))
        """,
        "Linker.allow_shadowing = x (x.__bool__ closes the Linker)": """
            linker = w.Linker(engine)
            class X:
                def __bool__(self):
                    linker.close()
                    return True
            outcome(lambda: setattr(linker, "allow_shadowing", X()))
        """,
        "Linker.define_func(access_caller=x) (x.__bool__ closes the Linker)": """
            linker = w.Linker(engine)
            class X:
                def __bool__(self):
                    linker.close()
                    return False
            outcome(lambda: linker.define_func("m", "f", w.FuncType([], []), lambda: None,
                                               access_caller=X()))
        """,
        "WasiConfig.preopen_dir(path.__fspath__ closes the WasiConfig)": """
            wasi = w.WasiConfig()
            class P:
                def __fspath__(self):
                    wasi.close()
                    return tmp
            outcome(lambda: wasi.preopen_dir(P(), "/d"))
        """,
        "WasiConfig.stdout_file = path (__fspath__ closes the WasiConfig)": """
            wasi = w.WasiConfig()
            class P:
                def __fspath__(self):
                    wasi.close()
                    return os.path.join(tmp, "out.txt")
            outcome(lambda: setattr(wasi, "stdout_file", P()))
        """,
        # Found by the systematic test above.
        "Linker.get(name.__hash__ closes the Linker)": """
            linker = w.Linker(engine)
            linker.define_func("m", "f", w.FuncType([], []), lambda: None)
            class Name(str):
                def __hash__(self):
                    linker.close()
                    return str.__hash__(self)
            outcome(lambda: linker.get(store, "m", Name("f")))
        """,
        "Linker.get_default(name.__hash__ closes the Store)": """
            linker = w.Linker(engine)
            class Name(str):
                def __hash__(self):
                    store.close()
                    return str.__hash__(self)
            outcome(lambda: linker.get_default(store, Name("m")))
        """,
        "Linker.define_instance(name.__hash__ closes the Store)": """
            linker = w.Linker(engine)
            module = w.Module(engine, '(module (memory (export "mem") 1) (func (export "f")))')
            instance = w.Instance(store, module, [])
            class Name(str):
                def __hash__(self):
                    store.close()
                    return str.__hash__(self)
            outcome(lambda: linker.define_instance(store, Name("i"), instance))
        """,
        "Store.gc() runs an externref finalizer whose __del__ closes the Store": """
            ty = w.TableType(w.ValType.externref(), w.Limits(1, None))
            class Payload:
                def __del__(self):
                    store.close()
            table = w.Table(store, ty, Payload())
            table.set(store, 0, None)
            outcome(lambda: store.gc())
        """,
        # wasmtime.component, found by the component part of the systematic
        # test: a ResourceHost argument was turned into a resource with the
        # context of a Store that an earlier argument's __index__ had closed.
        "component Func(u32, own<R>) (the u32's __index__ closes the Store)": """
            from wasmtime import component as c
            wat = _C_RES_WAT % ("take", "own")
            linker = c.Linker(engine)
            with linker.root() as root:
                root.add_resource("res", c.ResourceType.host(7), lambda ctx, rep: None)
            inst = linker.instantiate(store, c.Component(engine, wat))
            f = inst.get_func(store, "take")
            class A:
                def __index__(self):
                    store.close()
                    return 1
            outcome(lambda: f(store, A(), c.ResourceHost.own(42, 7)))
        """,
        "component Func(u32, borrow<R>) (the u32's __index__ closes the Store)": """
            from wasmtime import component as c
            wat = _C_RES_WAT % ("peek", "borrow")
            linker = c.Linker(engine)
            with linker.root() as root:
                root.add_resource("res", c.ResourceType.host(7), lambda ctx, rep: None)
            inst = linker.instantiate(store, c.Component(engine, wat))
            f = inst.get_func(store, "peek")
            class A:
                def __index__(self):
                    store.close()
                    return 1
            outcome(lambda: f(store, A(), c.ResourceHost.borrow(42, 7)))
        """,
        "component host function re-planned by a nested call during its result conversion": """
            import sys
            sys.path.insert(0, %r)
            from test_reentrancy import C_ECHO, Rec, _c_echo
            from wasmtime import component as c
            linker = c.Linker(engine)
            fs = {}
            class R:
                n = 0
                def __getattr__(self, name):
                    if name.startswith("__"):
                        raise AttributeError(name)
                    R.n += 1
                    if R.n == 1:
                        fs["u32"](store, 7)  # the same host function, another type
                    return {"a": 1, "label-text": "x" * 40}[name]
            def host(ctx, v):
                return v if isinstance(v, int) else R()
            with linker.root() as root:
                root.add_func("x", host)
            for name in ("u32", "record"):
                wit, (params, result), _ = C_ECHO[name]
                comp = c.Component(engine, _c_echo(wit, params, result))
                fs[name] = linker.instantiate(store, comp).get_func(store, "x")
            outcome(lambda: fs["record"](store, Rec(**{"a": 1, "label-text": "y"})))
        """
        % os.path.dirname(HERE),
        "component host function re-planned by a nested call from its callable": """
            import sys
            sys.path.insert(0, %r)
            from test_reentrancy import C_ECHO, _c_echo
            from wasmtime import component as c
            linker = c.Linker(engine)
            fs = {}
            def host(ctx, v):
                if v == 5:
                    fs["s64"](ctx, -3)  # the same host function, another type
                return v
            with linker.root() as root:
                root.add_func("x", host)
            for name in ("u32", "s64"):
                wit, (params, result), _ = C_ECHO[name]
                comp = c.Component(engine, _c_echo(wit, params, result))
                fs[name] = linker.instantiate(store, comp).get_func(store, "x")
            fs["s64"](store, -1)
            outcome(lambda: fs["u32"](store, 5))
        """
        % os.path.dirname(HERE),
        "Linker.define_wasi() after its Engine was closed": """
            linker = w.Linker(engine)
            engine.close()
            outcome(lambda: linker.define_wasi())
        """,
    }

    # What a correct run of each regression gives: ValueError for an object
    # closed by the argument's own code, or used after close.  For the
    # finalizer, any clean end: the Store may refuse to close during gc()
    # (the finalizer sees the error, gc() returns) or close afterwards.
    _EXPECTED = {
        "Store.gc() runs an externref finalizer whose __del__ closes the Store": (
            "RETURNED",
            "RAISED",
        ),
        # The Linker copies names to exact str before any lookup (linkdefs.c),
        # so a str subclass's __eq__/__hash__ never runs: the right outcome is
        # the call's normal result, with nothing closed.
        "Linker.alias_module(module.__eq__ closes the Linker)": ("RETURNED None",),
        "Linker.get(name.__hash__ closes the Linker)": ("RETURNED <wasmtime.Func",),
        "Linker.get_default(name.__hash__ closes the Store)": ("RETURNED <wasmtime.Func",),
        "Linker.define_instance(name.__hash__ closes the Store)": ("RETURNED None",),
        # The nested call is legitimate: the outer call gives its result.
        "component host function re-planned by a nested call during its result conversion": (
            "RETURNED Record(",
        ),
        "component host function re-planned by a nested call from its callable": ("RETURNED 5",),
        # The Linker keeps its own reference to the C engine.
        "Linker.define_wasi() after its Engine was closed": ("RETURNED None",),
    }

    @pytest.mark.parametrize("name", sorted(REGRESSIONS))
    def test_known_crash_regression(name):
        code = _PRELUDE + textwrap.dedent(REGRESSIONS[name])
        proc = subprocess.run(
            [sys.executable, "-c", code],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, "%s: the interpreter died: %s\nstdout: %s" % (
            name,
            _describe_death(proc.returncode, proc.stderr),
            proc.stdout.strip(),
        )
        out = proc.stdout.strip().splitlines()
        expected = _EXPECTED.get(name, ("RAISED ValueError",))
        assert out and out[0].startswith(expected), (
            "%s: expected %s (the object was closed or consumed by the argument's own "
            "code), got: %s" % (name, expected, out[0] if out else "(nothing)")
        )
