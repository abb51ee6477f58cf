"""Real-world wasm from npm: the QuickJS-NG JavaScript engine (a WASI reactor
exporting its C API) driven entirely from Python, and sql.js's SQLite build.

QuickJS's JSValue is NaN-boxed in an i64: the upper 32 bits are the tag for
non-float values (0 int, 3 undefined, 6 exception, -1 object, -7 string).
"""

import gc
import threading
import time
import tracemalloc

import pytest

import wasmtime
from wasmtime import (
    Config,
    Engine,
    FuncType,
    Linker,
    MemoryType,
    Module,
    Store,
    TableType,
    Trap,
    TrapCode,
    ValType,
    WasiConfig,
    WasmtimeError,
)

TAG_INT = 0
TAG_UNDEFINED = 3
TAG_EXCEPTION = 6
TAG_OBJECT = -1
TAG_STRING = -7

I32 = ValType.i32()


@pytest.fixture(scope="module")
def qjs_engine():
    return Engine()


@pytest.fixture(scope="module")
def qjs_module(qjs_engine, npm_wasm):
    return Module.from_file(qjs_engine, npm_wasm("quickjs"))


class QuickJS:
    """A QuickJS runtime + context in its own Store, through the JS_* C API.

    `host_call(caller, name, args)` and `interrupt()` customise the env
    imports; the other env imports are inert.
    """

    def __init__(self, engine, module, host_call=None, interrupt=None, store_setup=None):
        self.calls = {"tz": 0, "rejections": 0}
        self.output = []
        linker = Linker(engine)
        linker.define_wasi()

        def timezone_offset(hi, lo):
            self.calls["tz"] += 1
            return 0

        def rejection(promise, reason, handled):
            self.calls["rejections"] += 1

        def host_call_import(caller, name_ptr, name_len, this_ptr, argc, argv_ptr):
            mem = caller["memory"]
            name = bytes(mem.read(caller, name_ptr, name_ptr + name_len)).decode()
            raw = mem.read(caller, argv_ptr, argv_ptr + 4 * argc) if argc else b""
            arg_ptrs = [int.from_bytes(raw[4 * i : 4 * i + 4], "little") for i in range(argc)]
            return host_call(caller, name, arg_ptrs)

        linker.define_func(
            "env", "host_get_timezone_offset", FuncType([I32, I32], [I32]), timezone_offset
        )
        linker.define_func("env", "host_interrupt", FuncType([], [I32]), interrupt or (lambda: 0))
        linker.define_func(
            "env", "host_promise_rejection", FuncType([I32, I32, I32], []), rejection
        )
        linker.define_func(
            "env", "host_module_normalize", FuncType([I32, I32], [I32]), lambda base, name: 0
        )
        linker.define_func(
            "env", "host_module_load", FuncType([I32, I32], [I32]), lambda name, out: 0
        )
        linker.define_func(
            "env",
            "host_call",
            FuncType([I32] * 5, [I32]),
            host_call_import if host_call else (lambda *a: 0),
            access_caller=bool(host_call),
        )
        self.store = Store(engine)
        if store_setup is not None:
            store_setup(self.store)
        wasi = WasiConfig()
        wasi.stdout_custom = self.output.append
        wasi.stderr_custom = self.output.append
        self.store.set_wasi(wasi)
        self.instance = linker.instantiate(self.store, module)
        self.x = self.instance.exports(self.store)
        self.mem = self.x["memory"]
        self.x["_initialize"](self.store)
        self.rt = self.call("JS_NewRuntime")
        self.ctx = self.call("JS_NewContext", self.rt)
        assert self.rt != 0 and self.ctx != 0
        self.filename = self.cstr(b"<test>")

    def call(self, name, *args):
        return self.x[name](self.store, *args)

    def cstr(self, data):
        """malloc a NUL-terminated copy of `data` in wasm memory."""
        ptr = self.call("malloc", len(data) + 1)
        assert ptr != 0
        self.mem.write(self.store, data + b"\0", ptr)
        return ptr

    def eval(self, source):
        """JS_Eval in global scope; returns the JSValue (an int)."""
        data = source.encode()
        ptr = self.cstr(data)
        try:
            return self.call("JS_Eval", self.ctx, ptr, len(data), self.filename, 0)
        finally:
            self.call("free", ptr)

    @staticmethod
    def tag(value):
        return value >> 32

    def to_str(self, value):
        plen = self.call("malloc", 4)
        try:
            cstr = self.call("JS_ToCStringLen2", self.ctx, plen, value, 0)
            assert cstr != 0
            n = int.from_bytes(self.mem.read(self.store, plen, plen + 4), "little")
            text = bytes(self.mem.read(self.store, cstr, cstr + n)).decode()
            assert self.mem.read(self.store, cstr + n, cstr + n + 1) == b"\0"
            self.call("JS_FreeCString", self.ctx, cstr)
            return text
        finally:
            self.call("free", plen)

    def to_int32(self, value):
        out = self.call("malloc", 4)
        try:
            assert self.call("JS_ToInt32", self.ctx, out, value) == 0
            return int.from_bytes(self.mem.read(self.store, out, out + 4), "little", signed=True)
        finally:
            self.call("free", out)

    def free(self, value):
        self.call("JS_FreeValue", self.ctx, value)

    def run(self, source):
        """Evaluate and return the result as a string (raises on exceptions)."""
        v = self.eval(source)
        try:
            if self.tag(v) == TAG_EXCEPTION:
                exc = self.call("JS_GetException", self.ctx)
                msg = self.to_str(exc)
                self.free(exc)
                raise AssertionError("JS exception: " + msg)
            return self.to_str(v)
        finally:
            self.free(v)


@pytest.fixture(scope="module")
def js(qjs_engine, qjs_module):
    return QuickJS(qjs_engine, qjs_module)


# ---- the module's shape ------------------------------------------------------------------


def test_quickjs_imports_and_exports(qjs_module):
    imports = {(i.module, i.name): i.type for i in qjs_module.imports}
    env = {n: t for (m, n), t in imports.items() if m == "env"}
    assert set(env) == {
        "host_get_timezone_offset",
        "host_interrupt",
        "host_promise_rejection",
        "host_module_normalize",
        "host_module_load",
        "host_call",
    }
    assert [str(t) for t in env["host_call"].params] == ["i32"] * 5
    assert {m for m, n in imports} == {"env", "wasi_snapshot_preview1"}
    exports = {e.name: e.type for e in qjs_module.exports}
    assert isinstance(exports["memory"], MemoryType)
    assert isinstance(exports["_initialize"], FuncType)
    ev = exports["JS_Eval"]
    assert ([str(t) for t in ev.params], [str(t) for t in ev.results]) == (["i32"] * 5, ["i64"])


# ---- evaluating JavaScript -------------------------------------------------------------------


def test_arithmetic(js):
    v = js.eval("1 + 2 * 3")
    assert js.tag(v) == TAG_INT
    assert v & 0xFFFFFFFF == 7
    assert js.to_int32(v) == 7
    assert js.to_int32(js.eval("-5 * 3")) == -15
    assert js.to_int32(js.eval("(2 ** 31) | 0")) == -(2**31)
    assert js.run("0.1 + 0.2") == "0.30000000000000004"
    assert js.run("7 / 2") == "3.5"
    assert js.run("2n ** 100n") == str(2**100)


def test_string_building(js):
    v = js.eval("['a', 'b', 'c'].map(s => s.toUpperCase()).join('-') + ' ünï ✓'")
    assert js.tag(v) == TAG_STRING
    assert js.to_str(v) == "A-B-C ünï ✓"
    js.free(v)
    assert js.run("'ab'.repeat(1000).length") == "2000"
    long = js.run("'xyz'.repeat(10000)")
    assert long == "xyz" * 10000
    assert js.run("`${1 + 1} apples`") == "2 apples"


def test_json(js):
    assert js.run("JSON.stringify({a: 1, b: [1, 2, 'x'], c: {d: null, e: true}})") == (
        '{"a":1,"b":[1,2,"x"],"c":{"d":null,"e":true}}'
    )
    assert js.run("JSON.parse('{\"k\": [10, 20, 30]}').k.reduce((a, b) => a + b)") == "60"
    v = js.eval("({answer: 42})")
    assert js.tag(v) == TAG_OBJECT
    assert js.to_str(v) == "[object Object]"
    js.free(v)


def test_loop_sum(js):
    src = "let total = 0; for (let i = 1; i <= 100000; i++) total += i; total"
    v = js.eval("{" + src + "}")
    assert js.to_str(v) == "5000050000"
    # Beyond int32: ToInt32 wraps modulo 2**32.
    assert js.to_int32(v) == 5000050000 - 2**32
    js.free(v)


def test_state_persists_across_evals(js):
    js.run("globalThis.counter = 10")
    js.run("counter += 5")
    assert js.run("counter") == "15"
    js.run("function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }")
    assert js.run("fib(20)") == "6765"


def test_undefined(js):
    v = js.eval("undefined")
    assert js.tag(v) == TAG_UNDEFINED
    assert js.to_str(v) == "undefined"


def test_syntax_error(js):
    v = js.eval("let = = ;")
    assert js.tag(v) == TAG_EXCEPTION
    exc = js.call("JS_GetException", js.ctx)
    assert js.call("JS_IsError", exc) == 1
    assert js.to_str(exc).startswith("SyntaxError")
    js.free(exc)
    # The context is still usable.
    assert js.run("40 + 2") == "42"


def test_thrown_error(js):
    v = js.eval("throw new TypeError('bad thing')")
    assert js.tag(v) == TAG_EXCEPTION
    exc = js.call("JS_GetException", js.ctx)
    assert js.to_str(exc) == "TypeError: bad thing"
    js.free(exc)
    v = js.eval("null.property")
    assert js.tag(v) == TAG_EXCEPTION
    exc = js.call("JS_GetException", js.ctx)
    assert js.to_str(exc).startswith("TypeError")
    js.free(exc)
    assert js.run("try { throw 1 } catch (e) { 'caught ' + e }") == "caught 1"


def test_wasi_clock_and_random(js):
    now_ms = float(js.run("Date.now()"))
    assert abs(now_ms / 1000 - time.time()) < 5
    a, b = js.run("Math.random()"), js.run("Math.random()")
    assert a != b
    assert 0 <= float(a) < 1


def test_many_evals_do_not_leak(qjs_engine, qjs_module):
    vm = QuickJS(qjs_engine, qjs_module)
    src = "JSON.stringify({i: %d, pad: 'x'.repeat(4096)})"
    for i in range(300):
        assert vm.run(src % i).startswith('{"i":%d,' % i)
    gc.collect()
    pages = vm.mem.size(vm.store)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for i in range(3000):
            assert vm.run(src % i).startswith('{"i":%d,' % i)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # Wasm memory: all of it was freed inside QuickJS and reused.
    assert vm.mem.size(vm.store) <= pages + 2
    # Python memory: nothing per call stays behind in the extension.
    growth = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert growth < 256 * 1024, growth

    # Control: values that are never freed do make wasm memory grow, so the
    # check above can fail.
    for i in range(100):
        vm.eval("'y'.repeat(65536) + %d" % i)
    assert vm.mem.size(vm.store) > pages + 50


def test_data_len_bounded_over_many_evals(qjs_engine, qjs_module):
    vm = QuickJS(qjs_engine, qjs_module)
    for i in range(200):
        vm.run("[...Array(1000).keys()].map(x => x * %d).join(',').length" % i)
    base = vm.mem.data_len(vm.store)
    for _ in range(2000):
        assert vm.run("[...Array(1000).keys()].map(x => x * 2).length") == "1000"
    assert vm.mem.data_len(vm.store) == base


# ---- Python host functions called from JavaScript (the qjs_* handle API) ------------------------


class HostFail(Exception):
    pass


def qjs_handles(engine, module, host_call=None, interrupt=None):
    """A QuickJS instance initialised through qjs_init (values are pointers)."""
    vm = QuickJS(engine, module, host_call=host_call, interrupt=interrupt)
    assert vm.call("qjs_init") == 0

    def run(source):
        data = source.encode()
        ptr = vm.cstr(data)
        handle = vm.call("qjs_eval", ptr, len(data), vm.filename, 0)
        vm.call("free", ptr)
        if vm.call("qjs_is_exception", handle):
            vm.call("qjs_free_value", handle)
            handle = vm.call("qjs_get_exception")
            prefix = "exception: "
        else:
            prefix = ""
        cstr = vm.call("qjs_get_string", handle)
        raw = vm.mem.read(vm.store, cstr, cstr + 65536)
        text = bytes(raw[: raw.index(0)]).decode()
        vm.call("qjs_free_cstring", cstr)
        vm.call("qjs_free_value", handle)
        return prefix + text

    def define(name):
        global_obj = vm.call("qjs_get_global")
        name_ptr = vm.cstr(name.encode())
        fn = vm.call("qjs_new_host_function", name_ptr, len(name.encode()), 0)
        assert vm.call("qjs_set_prop_string", global_obj, name_ptr, fn) >= 0
        vm.call("free", name_ptr)

    vm.qrun = run
    vm.define = define
    return vm


def test_javascript_calls_python(qjs_engine, qjs_module):
    seen = []
    failure = HostFail("raised by a Python host function")

    def host_call(caller, name, arg_ptrs):
        args = [caller["qjs_get_float64"](caller, p) for p in arg_ptrs]
        seen.append((name, args))
        if name == "fail":
            raise failure
        return caller["qjs_new_number"](caller, sum(args) * 2)

    vm = qjs_handles(qjs_engine, qjs_module, host_call=host_call)
    vm.define("twice")
    vm.define("fail")
    assert vm.qrun("twice(1, 2.5) + 1") == "8"
    assert vm.qrun("[1, 2, 3].map(x => twice(x)).join()") == "2,4,6"
    assert seen[0] == ("twice", [1.0, 2.5])
    assert len(seen) == 4
    # A Python exception unwinds through the JS engine as the same object.
    with pytest.raises(HostFail) as info:
        vm.qrun("fail(7)")
    assert info.value is failure
    assert seen[-1] == ("fail", [7.0])
    assert vm.qrun("twice(20)") == "40"


def test_interrupt_handler_stops_an_infinite_loop(qjs_engine, qjs_module):
    state = {"calls": 0, "stop_after": None}

    def interrupt():
        state["calls"] += 1
        return int(state["stop_after"] is not None and state["calls"] >= state["stop_after"])

    vm = qjs_handles(qjs_engine, qjs_module, interrupt=interrupt)
    vm.call("qjs_set_interrupt_handler", 1)
    state["stop_after"] = 3
    assert vm.qrun("for (;;) {}") == "exception: InternalError: interrupted"
    assert state["calls"] == 3
    state["stop_after"] = None
    assert vm.qrun("6 * 7") == "42"


# ---- interrupting runaway JavaScript from the host -------------------------------------------


def test_epoch_watchdog_interrupts_javascript(npm_wasm):
    """A watchdog thread bumps the epoch while JS spins: the GIL is released
    during the call and the trap is INTERRUPT."""
    config = Config()
    config.epoch_interruption = True
    engine = Engine(config)
    module = Module.from_file(engine, npm_wasm("quickjs"))
    vm = QuickJS(engine, module, store_setup=lambda s: s.set_epoch_deadline(1))
    assert vm.run("1 + 1") == "2"
    ticks = []

    def watchdog():
        time.sleep(0.2)
        ticks.append(time.monotonic())
        engine.increment_epoch()

    t = threading.Thread(target=watchdog)
    start = time.monotonic()
    t.start()
    with pytest.raises(Trap) as info:
        vm.eval("for (;;) {}")
    t.join()
    assert info.value.trap_code == TrapCode.INTERRUPT
    assert ticks and ticks[0] - start >= 0.15


def test_fuel_stops_javascript(npm_wasm):
    config = Config()
    config.consume_fuel = True
    engine = Engine(config)
    module = Module.from_file(engine, npm_wasm("quickjs"))
    vm = QuickJS(engine, module, store_setup=lambda s: s.set_fuel(10**12))
    assert vm.run("'fuel ' + 'ok'") == "fuel ok"
    vm.store.set_fuel(1_000_000)
    with pytest.raises(Trap) as info:
        vm.eval("for (;;) {}")
    assert info.value.trap_code == TrapCode.OUT_OF_FUEL
    assert vm.store.get_fuel() == 0


# ---- serialize / deserialize -----------------------------------------------------------------------


def signature(items):
    out = []
    for item in items:
        t = item.type
        if isinstance(t, FuncType):
            desc = ("func", tuple(str(p) for p in t.params), tuple(str(r) for r in t.results))
        elif isinstance(t, MemoryType):
            desc = ("memory", t.limits.min, t.limits.max)
        elif isinstance(t, TableType):
            desc = ("table", str(t.element), t.limits.min, t.limits.max)
        else:
            desc = (type(t).__name__,)
        out.append((getattr(item, "module", None), item.name, desc))
    return out


def test_quickjs_serialize_round_trip(qjs_engine, qjs_module, tmp_path):
    data = qjs_module.serialize()
    assert isinstance(data, (bytes, bytearray)) and len(data) > 100_000
    restored = Module.deserialize(qjs_engine, data)
    assert signature(restored.imports) == signature(qjs_module.imports)
    assert signature(restored.exports) == signature(qjs_module.exports)
    path = tmp_path / "quickjs.cwasm"
    path.write_bytes(data)
    from_file = Module.deserialize_file(qjs_engine, str(path))
    # The deserialized code runs.
    for module in (restored, from_file):
        vm = QuickJS(qjs_engine, module)
        assert vm.run("[3, 1, 2].sort().join('<')") == "1<2<3"


def test_deserialize_garbage_is_an_error(qjs_engine, qjs_module):
    data = bytearray(qjs_module.serialize())
    with pytest.raises(WasmtimeError):
        Module.deserialize(qjs_engine, b"definitely not a serialized module")
    with pytest.raises(WasmtimeError):
        Module.deserialize(qjs_engine, bytes(data[:1000]))


def test_deserialize_into_an_incompatible_engine(qjs_module):
    config = Config()
    config.consume_fuel = True  # changes the generated code
    with pytest.raises(WasmtimeError):
        Module.deserialize(Engine(config), qjs_module.serialize())


def test_sqlite_reflection_and_round_trip(npm_wasm, tmp_path):
    engine = Engine()
    path = npm_wasm("sqlite")
    with open(path, "rb") as f:
        wasm = f.read()
    assert Module.validate(engine, wasm) is None
    module = Module(engine, wasm)
    imports = module.imports
    assert len(imports) == 40
    assert all(i.module == "a" for i in imports)
    assert all(isinstance(i.type, FuncType) for i in imports)
    exports = module.exports
    kinds = [type(e.type).__name__ for e in exports]
    assert kinds.count("MemoryType") == 1
    assert kinds.count("TableType") == 1
    assert kinds.count("FuncType") == len(exports) - 2
    memory = next(e.type for e in exports if isinstance(e.type, MemoryType))
    assert memory.limits.min > 16 and memory.limits.max == 32768
    assert not memory.is_64 and not memory.is_shared
    table = next(e.type for e in exports if isinstance(e.type, TableType))
    assert str(table.element) == "funcref"
    assert len({e.name for e in exports}) == len(exports)

    data = module.serialize()
    restored = Module.deserialize(engine, data)
    assert signature(restored.imports) == signature(module.imports)
    assert signature(restored.exports) == signature(module.exports)
    cwasm = tmp_path / "sqlite.cwasm"
    cwasm.write_bytes(data)
    again = Module.deserialize_file(engine, str(cwasm))
    assert signature(again.exports) == signature(module.exports)
    # Serializing the restored module gives an equivalent artifact.
    assert signature(Module.deserialize(engine, restored.serialize()).imports) == signature(
        module.imports
    )

    # Instantiable once its imports are provided (here as default values).
    linker = Linker(engine)
    store = Store(engine)
    linker.define_unknown_imports_as_default_values(store, restored)
    instance = linker.instantiate(store, restored)
    mem = next(v for v in instance.exports(store).values() if isinstance(v, wasmtime.Memory))
    assert mem.size(store) == memory.limits.min
