"""Fuzz target: calls and accessors with random Python values.

One module exports functions of every signature (identity functions per
value type, a multi-value one, functions that go through host functions),
globals, tables and a memory.  Each input is a sequence of operations chosen
by the fuzzer: calls with random arguments (ints of any size, floats with any
bit pattern, None, str, bytes, objects, Val instances, Funcs of this or
another Store, externrefs, evil objects whose conversions close the Store or
raise), Global/Table get/set, Memory read/write/view with random offsets, and
host functions that answer with random values.  Where the result is
predictable (plain arguments) it is checked.

    python fuzz/fuzz_calls.py -max_total_time=60 CORPUS_DIR
"""

import gc

import fuzzlib
from fuzzlib import (
    Act,
    Evil,
    EvilInt,
    EvilList,
    check,
    evil_gen,
    f32_round,
    feature,
    judge,
    known,
    rand_bytes,
    rand_float,
    rand_int,
    rand_name,
    same_float,
    trace,
    wrap,
)

import wasmtime
from wasmtime import Func, FuncType, Val, ValType

KINDS = ["i32", "i64", "f32", "f64", "externref", "funcref"]

WAT = """
(module
  (import "host" "i32" (func $h_i32 (param i32) (result i32)))
  (import "host" "i64" (func $h_i64 (param i64) (result i64)))
  (import "host" "f32" (func $h_f32 (param f32) (result f32)))
  (import "host" "f64" (func $h_f64 (param f64) (result f64)))
  (import "host" "externref" (func $h_ext (param externref) (result externref)))
  (import "host" "funcref" (func $h_fn (param funcref) (result funcref)))
  (import "host" "multi" (func $h_multi (param i32 i64 f32 f64 externref funcref)
                                        (result i32 i64 f32 f64 externref funcref)))
  (import "host" "caller" (func $h_caller (param i32) (result i32)))
  (memory (export "mem") 1 4)
  (table $fns (export "fns") 4 64 funcref)
  (table (export "exts") 4 64 externref)
  (global (export "g_i32") (mut i32) (i32.const 0))
  (global (export "g_i64") (mut i64) (i64.const 0))
  (global (export "g_f32") (mut f32) (f32.const 0))
  (global (export "g_f64") (mut f64) (f64.const 0))
  (global (export "g_externref") (mut externref) (ref.null extern))
  (global (export "g_funcref") (mut funcref) (ref.null func))
  (global (export "c_i32") i32 (i32.const 42))
  (elem (table $fns) (i32.const 0) func $id_i32 $nop)
  (func $id_i32 (export "id_i32") (param i32) (result i32) local.get 0)
  (func (export "id_i64") (param i64) (result i64) local.get 0)
  (func (export "id_f32") (param f32) (result f32) local.get 0)
  (func (export "id_f64") (param f64) (result f64) local.get 0)
  (func (export "id_externref") (param externref) (result externref) local.get 0)
  (func (export "id_funcref") (param funcref) (result funcref) local.get 0)
  (func (export "id_multi") (param i32 i64 f32 f64 externref funcref)
                            (result i32 i64 f32 f64 externref funcref)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5)
  (func $nop (export "nop"))
  (func (export "via_i32") (param i32) (result i32) local.get 0 call $h_i32)
  (func (export "via_i64") (param i64) (result i64) local.get 0 call $h_i64)
  (func (export "via_f32") (param f32) (result f32) local.get 0 call $h_f32)
  (func (export "via_f64") (param f64) (result f64) local.get 0 call $h_f64)
  (func (export "via_externref") (param externref) (result externref) local.get 0 call $h_ext)
  (func (export "via_funcref") (param funcref) (result funcref) local.get 0 call $h_fn)
  (func (export "via_multi") (param i32 i64 f32 f64 externref funcref)
                             (result i32 i64 f32 f64 externref funcref)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5 call $h_multi)
  (func (export "via_caller") (param i32) (result i32) local.get 0 call $h_caller)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "call_ind") (param i32 i32) (result i32)
    local.get 1 local.get 0 call_indirect $fns (param i32) (result i32))
  (func (export "trap") unreachable)
  (func (export "spin") (loop br 0))
  (func (export "v128") (param v128) (result v128) local.get 0))
"""

IMPORTS = [
    ("i32", ["i32"], ["i32"]),
    ("i64", ["i64"], ["i64"]),
    ("f32", ["f32"], ["f32"]),
    ("f64", ["f64"], ["f64"]),
    ("externref", ["externref"], ["externref"]),
    ("funcref", ["funcref"], ["funcref"]),
    ("multi", KINDS, KINDS),
    ("caller", ["i32"], ["i32"]),
]

_shared = {}


def shared():
    if not _shared:
        cfg = wasmtime.Config()
        cfg.consume_fuel = True
        cfg.parallel_compilation = False
        eng = wasmtime.Engine(cfg)
        _shared["engine"] = eng
        _shared["module"] = wasmtime.Module(eng, WAT)
    return _shared["engine"], _shared["module"]


def valtype(kind):
    return getattr(ValType, kind)()


class Ctx:
    """The state of one input."""

    def __init__(self, fdp):
        self.fdp = fdp
        eng, module = shared()
        self.engine = eng
        self.store = self.new_store()
        self.callers = []
        self.replies = 0
        self.other = self.new_store()
        self.other_inst = self.instantiate(self.other, module)
        self.inst = self.instantiate(self.store, module)
        ex = self.inst.exports(self.store)
        self.ex = {name: ex[name] for name in ex}
        self.funcs = [v for v in self.ex.values() if isinstance(v, Func)]
        self.other_funcs = [
            v for v in self.other_inst.exports(self.other).values() if isinstance(v, Func)
        ]

    def new_store(self):
        s = wasmtime.Store(self.engine)
        s.set_fuel(10_000)
        s.set_limits(memory_size=1 << 20, table_elements=1000)
        return s

    def instantiate(self, store, module):
        imports = []
        for name, params, results in IMPORTS:
            ty = FuncType([valtype(k) for k in params], [valtype(k) for k in results])
            caller = name == "caller"
            imports.append(Func(store, ty, self.host(name, results, caller), access_caller=caller))
        return wasmtime.Instance(store, module, imports)

    # -- host functions ---------------------------------------------------

    def host(self, name, results, access_caller):
        def reply(*args):
            if access_caller:
                caller, args = args[0], args[1:]
                self.callers.append(caller)
            fdp = self.fdp
            self.replies += 1
            if self.replies > 64 or fdp.remaining_bytes() == 0:
                return args[0] if len(args) == 1 else list(args)
            how = fdp.ConsumeIntInRange(0, 7)
            trace("    host %s%r reply #%d", (name, args, how))
            feature("host", name, how)
            if access_caller and how == 1:
                key = fdp.PickValueInList(["mem", "fns", "g_i32", "nope", "id_i32", ""])
                item = caller.get(key)
                if isinstance(item, wasmtime.Memory):
                    item.write(caller, b"x", 0)
                    return item.read(caller, 0, 1)[0]
                return 1 if item is None else 2
            if how == 0:
                return args[0] if len(args) == 1 else list(args)
            if how == 1:
                return self.value(1)
            if how == 2:
                raise fuzzlib.EvilError("host function raised")
            if how == 3:
                return [self.value(1) for _ in range(fdp.ConsumeIntInRange(0, 7))]
            if how == 4:
                # Re-enter wasm from the host function.
                f = fdp.PickValueInList(self.funcs)
                self.call(f, nested=True)
                return args[0] if len(args) == 1 else list(args)
            if how == 5:
                if not known("host.close_store"):
                    self.close(self.store)
                return args[0] if len(args) == 1 else list(args)
            if how == 6:
                return tuple(args)
            return Evil(self.action(), args[0] if args else 0)

        return reply

    def close(self, store):
        trace("    store.close()")
        store.close()

    # -- values -----------------------------------------------------------

    def action(self, site=None):
        """What an evil object does when it is converted."""
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(-2, 8)
        closing = site is None or not known(site)
        if k <= 0 and closing:
            return Act("store.close()", lambda: self.close(self.store))
        if k == 1:
            return Act("other_store.close()", lambda: self.close(self.other))
        if k == 2:
            return fuzzlib.raiser
        if k == 3:
            mem = self.ex["mem"]
            return Act("mem.grow(store, 1)", lambda: mem.grow(self.store, 1))
        if k == 4:
            return Act("store.set_fuel(0)", lambda: self.store.set_fuel(0))
        if k == 5:
            return Act("gc.collect()", gc.collect)
        if k == 6:
            f = fdp.PickValueInList(self.funcs)
            name = next((n for n, v in self.ex.items() if v is f), "a host func")
            return Act("exports[%r](store)" % name, lambda: f(self.store))
        if k == 7:
            return Act("store.gc()", lambda: self.store.gc())
        return None

    def value(self, depth=0, site=None):
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 19)
        if k <= 2:
            return rand_int(fdp)
        if k <= 4:
            return rand_float(fdp)
        if k == 5:
            return None
        if k == 6:
            return fdp.ConsumeBool()
        if k == 7:
            return rand_name(fdp)
        if k == 8:
            return rand_bytes(fdp, 16)
        if k == 9:
            return object()
        if k == 10:
            return self.val()
        if k == 11:
            return fdp.PickValueInList(self.funcs)
        if k == 12:
            return fdp.PickValueInList(self.other_funcs)
        if k == 13:
            return Evil(self.action(site), self.typed(fdp.PickValueInList(KINDS), site))
        if k == 14:
            return EvilInt(rand_int(fdp), self.action(site) or Act("nothing", lambda: None))
        if k == 15 and depth < 2:
            return [self.value(depth + 1, site) for _ in range(fdp.ConsumeIntInRange(0, 3))]
        if k == 16:
            return fdp.PickValueInList(list(self.ex.values()) + [self.store, self.other])
        if k == 17 and self.callers:
            return fdp.PickValueInList(self.callers)
        if k == 18:
            return valtype(fdp.PickValueInList(KINDS))
        return rand_int(fdp)

    def typed(self, kind, site=None):
        """A value that converts to `kind` without trouble."""
        fdp = self.fdp
        if kind in ("i32", "i64"):
            return rand_int(fdp) if fdp.ConsumeIntInRange(0, 7) else fdp.ConsumeBool()
        if kind == "index":
            return fdp.ConsumeIntInRange(-2, 8) if fdp.ConsumeBool() else rand_int(fdp)
        if kind in ("f32", "f64"):
            return rand_float(fdp)
        if kind == "funcref":
            return fdp.PickValueInList(self.funcs + [None])
        if kind == "externref":
            k = fdp.ConsumeIntInRange(0, 3)
            return None if k == 0 else object() if k == 1 else self.value(2, site)
        return self.value(2, site)

    def arg(self, kind, site):
        """An argument for a `kind` position: mostly right, sometimes evil
        (converting it runs an action first), sometimes anything."""
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 19)
        if k <= 11:
            return self.typed(kind, site)
        if k <= 15:
            act = self.action(site)
            if act is None:
                return self.typed(kind, site)
            if kind in ("i32", "i64", "index") and k == 15:
                return EvilInt(self.typed("index"), act)
            return Evil(act, self.typed(kind, site))
        return self.value(0, site)

    def val(self):
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 7)
        try:
            if k == 0:
                return Val.i32(rand_int(fdp))
            if k == 1:
                return Val.i64(rand_int(fdp))
            if k == 2:
                return Val.f32(rand_float(fdp))
            if k == 3:
                return Val.f64(rand_float(fdp))
            if k == 4:
                return Val.externref(self.value(2))
            if k == 5:
                return Val.funcref(fdp.PickValueInList(self.funcs + [None]))
            if k == 6:
                return Val.ref_null(valtype(fdp.PickValueInList(KINDS)))
            return Val(fdp.ConsumeIntInRange(-1, 130), self.value(2))
        except Exception as e:  # noqa: BLE001
            judge(e)
            return None

    def store_arg(self):
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 15)
        if k <= 11:
            return self.store
        if k == 12:
            return self.other
        if k == 13 and self.callers:
            return fdp.PickValueInList(self.callers)
        if k == 14:
            return Evil(self.action(), 0)
        return None

    # -- expected results ---------------------------------------------------

    def plain(self, x):
        """An argument whose conversion is predictable: no evil, no other
        store's Func."""
        if type(x) is Func:
            return any(x is f for f in self.funcs)
        if type(x) is Val and x.type == ValType.funcref():
            return x.value is None or self.plain(x.value)
        return x is None or type(x) in (int, bool, float, str, bytes, object, Val)

    def alive(self):
        try:
            self.store.get_fuel()
            return True
        except ValueError:
            return False

    @staticmethod
    def expected(kind, x):
        """(True, value) when converting x to `kind` and back must give value;
        (False, None) when it must fail; None when it depends."""
        if isinstance(x, Val):
            if str(x.type) != kind:
                return None
            x = x.value
            if kind == "externref":
                return True, x
        if kind in ("i32", "i64"):
            if type(x) in (int, bool):
                return True, wrap(int(x), 32 if kind == "i32" else 64)
            if x is None or type(x) in (str, bytes, float):
                return False, None
            return None
        if kind in ("f32", "f64"):
            if type(x) is float:
                return True, (f32_round(x) if kind == "f32" else x)
            if x is None or type(x) in (str, bytes, int):
                return False, None
            return None
        if kind == "externref":
            return True, x
        if kind == "funcref":
            if x is None:
                return True, None
            if type(x) is Func:
                return True, x
            if type(x) in (int, str, bytes, float):
                return False, None
        return None

    @staticmethod
    def same(kind, got, want):
        if kind in ("f32", "f64"):
            return same_float(got, want)
        if kind == "externref":
            return got is want
        if kind == "funcref":
            return (want is None and got is None) or isinstance(got, Func)
        return type(got) is int and got == want

    # -- operations ---------------------------------------------------------

    def call(self, f, nested=False):
        fdp = self.fdp
        try:
            ty = f.type(self.store)
        except Exception as e:  # noqa: BLE001 - a closed store
            judge(e)
            return
        params = [str(t) for t in ty.params]
        results = [str(t) for t in ty.results]
        n = len(params)
        if fdp.ConsumeIntInRange(0, 7) == 0:
            n = fdp.ConsumeIntInRange(0, 8)
        args = [
            self.arg(params[i] if i < len(params) else "any", "Func.__call__") for i in range(n)
        ]
        store = self.store_arg()
        fuel = not nested and fdp.ConsumeIntInRange(0, 3) != 0
        if fuel:
            try:
                self.store.set_fuel(10_000)
            except Exception as e:  # noqa: BLE001
                judge(e)
        trace("  f(store, *%r)  # %s -> %s", (args, params, results))
        try:
            res = f(store, *args)
        except Exception as e:  # noqa: BLE001
            judge(e)
            res = e
        feature("call", tuple(params), type(res).__name__)
        if (
            nested
            or store is not self.store
            or len(args) != len(params)
            or not all(self.plain(a) for a in args)
            or not fuel
            or not self.alive()
        ):
            return
        # Identity functions: what goes in comes out.
        name = next((k for k, v in self.ex.items() if v is f), "")
        if not name.startswith("id_"):
            return
        want = [self.expected(k, a) for k, a in zip(params, args)]
        if any(w is None for w in want):
            return
        if all(ok for ok, _ in want):
            check(not isinstance(res, Exception), "%s(%r) raised %r" % (name, args, res))
            got = res if len(results) > 1 else [res]
            for k, g, (_, w) in zip(results, got, want):
                check(self.same(k, g, w), "%s(%r) returned %r, expected %r" % (name, args, res, w))
        else:
            check(
                isinstance(res, Exception), "%s(%r) accepted a bad argument: %r" % (name, args, res)
            )

    def op_global(self):
        fdp = self.fdp
        kind = fdp.PickValueInList(KINDS + ["c_i32"])
        g = self.ex["c_i32" if kind == "c_i32" else "g_" + kind]
        x = self.arg("i32" if kind == "c_i32" else kind, "Global.set_value")
        store = self.store_arg()
        trace("  g_%s.set_value(store, %r)", (kind, x))
        try:
            g.set_value(store, x)
            ok = True
        except Exception as e:  # noqa: BLE001
            judge(e)
            ok = False
        if kind == "c_i32":
            check(not ok or store is not self.store, "an immutable global was set")
            return
        if not ok or store is not self.store or not self.plain(x):
            return
        want = self.expected(kind, x)
        if want is None:
            return
        check(want[0], "g_%s.set_value accepted %r" % (kind, x))
        got = g.value(self.store)
        check(self.same(kind, got, want[1]), "g_%s holds %r after set %r" % (kind, got, x))

    def op_table(self):
        fdp = self.fdp
        kind = fdp.PickValueInList(["funcref", "externref"])
        t = self.ex["fns" if kind == "funcref" else "exts"]
        store = self.store_arg()
        which = fdp.ConsumeIntInRange(0, 3)
        idx = self.arg("index", "Table.index")
        try:
            if which == 0:
                trace("  table.get(store, %r)", (idx,))
                t.get(store, idx)
            elif which == 1:
                x = self.arg(kind, "Table.set")
                trace("  table.set(store, %r, %r)", (idx, x))
                t.set(store, idx, x)
                if store is self.store and type(idx) is int and self.plain(x):
                    want = self.expected(kind, x)
                    if want and want[0]:
                        got = t.get(self.store, idx)
                        check(
                            self.same(kind, got, want[1]), "table holds %r after set %r" % (got, x)
                        )
            elif which == 2:
                x = self.arg(kind, "Table.grow")
                trace("  table.grow(store, %r, %r)", (idx, x))
                t.grow(store, idx, x)
            else:
                t.size(store)
                t.type(store)
        except Exception as e:  # noqa: BLE001
            judge(e)

    def op_memory(self):
        fdp = self.fdp
        m = self.ex["mem"]
        store = self.store_arg()
        which = fdp.ConsumeIntInRange(0, 6)

        def pos():
            k = fdp.ConsumeIntInRange(0, 4)
            if k == 0:
                return self.arg("index", "Memory.offset")
            if k == 1:
                return None
            if k == 2:
                return fdp.ConsumeIntInRange(-70000, 140000)
            return fdp.ConsumeIntInRange(-70, 140)

        try:
            if which == 0:
                a, b = pos(), pos()
                trace("  mem.read(store, %r, %r)", (a, b))
                got = m.read(store, a, b)
                if store is self.store and all(x is None or type(x) is int for x in (a, b)):
                    full = m.read(self.store)
                    check(bytes(got) == bytes(full[a:b]), "read(%r, %r) is not a slice" % (a, b))
            elif which == 1:
                data = self.data()
                a = pos()
                trace("  mem.write(store, %r, %r)", (data, a))
                n = m.write(store, data, a)
                if store is self.store and type(data) is bytes and (a is None or type(a) is int):
                    start = (
                        0 if a is None else (a if a >= 0 else max(0, a + m.data_len(self.store)))
                    )
                    check(n == len(data), "write returned %r" % n)
                    check(
                        bytes(m.read(self.store, start, start + len(data))) == data,
                        "write(%r, %r) did not land" % (data, a),
                    )
            elif which == 2:
                size, off = pos(), pos()
                trace("  mem.get_buffer_ptr(store, %r, %r)", (size, off))
                arr = m.get_buffer_ptr(store, size, off)
                # Reading every byte proves the bounds: out of range would
                # fault (or be an ASan report).
                data = bytes(arr)
                if type(size) is int:
                    check(len(data) == size, "get_buffer_ptr length")
            elif which == 3:
                trace("  memoryview(mem.view(store))")
                with memoryview(m.view(store)) as v:
                    check(len(v) == m.data_len(self.store), "view length")
                    i = fdp.ConsumeIntInRange(0, len(v) - 1) if len(v) else 0
                    if len(v):
                        v[i] = v[i]
            elif which == 4:
                d = self.arg("index", "Memory.grow")
                trace("  mem.grow(store, %r)", (d,))
                m.grow(store, d)
            elif which == 5:
                m.size(store), m.data_len(store), m.page_size(store), m.type(store)
            else:
                m.data_ptr(store)
        except Exception as e:  # noqa: BLE001
            judge(e)

    def data(self):
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 7)
        raw = rand_bytes(fdp, 32)
        if k <= 2:
            return raw
        if k == 3:
            return bytearray(raw)
        if k == 4:
            return memoryview(raw)
        if k == 5:
            return [self.value(1, "Memory.write") for _ in range(fdp.ConsumeIntInRange(0, 4))]
        if k == 6:
            act = self.action("Memory.write")
            if act is None:
                return list(raw)
            return evil_gen(list(raw), act, fdp.ConsumeIntInRange(0, len(raw)))
        act = self.action("Memory.write")
        return EvilList(list(raw), act) if act else rand_name(fdp)

    def op_val(self):
        v = self.val()
        if v is None:
            return
        try:
            v.value, v.type, v.as_i32(), v.as_i64(), v.as_f32(), v.as_f64()
            v.as_externref(), v.as_funcref()
            v == self.value(1)  # noqa: B015 - comparing is the operation
            repr(v)
        except Exception as e:  # noqa: BLE001
            judge(e)

    def op_host_func(self):
        """Make a host function of a random signature and call it."""
        fdp = self.fdp
        params = [valtype(fdp.PickValueInList(KINDS)) for _ in range(fdp.ConsumeIntInRange(0, 3))]
        results = [valtype(fdp.PickValueInList(KINDS)) for _ in range(fdp.ConsumeIntInRange(0, 3))]
        caller = fdp.ConsumeBool()
        store = self.store_arg()
        try:
            f = Func(
                store,
                FuncType(params, results),
                self.host("made", [str(r) for r in results], caller),
                access_caller=caller,
            )
        except Exception as e:  # noqa: BLE001
            judge(e)
            return
        if store is self.store:
            self.funcs.append(f)
        self.call(f)

    def run(self):
        fdp = self.fdp
        for _ in range(48):
            if fdp.remaining_bytes() == 0:
                break
            op = fdp.ConsumeIntInRange(0, 9)
            if op <= 3:
                self.call(fdp.PickValueInList(self.funcs))
            elif op == 4:
                self.op_global()
            elif op == 5:
                self.op_table()
            elif op <= 7:
                self.op_memory()
            elif op == 8:
                self.op_val()
            else:
                self.op_host_func()


def test_one_input(data):
    fdp = fuzzlib.atheris.FuzzedDataProvider(data)
    ctx = Ctx(fdp)
    try:
        ctx.run()
    finally:
        for s in (ctx.store, ctx.other):
            try:
                s.close()
            except Exception as e:  # noqa: BLE001 - a view still exported
                judge(e)


if __name__ == "__main__":
    fuzzlib.main(test_one_input, max_len=2048, extra=["-len_control=0"])
