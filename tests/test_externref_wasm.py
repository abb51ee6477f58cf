"""An externref that wasm made (extern.convert_any of an anyref) has no
Python payload: it comes to Python as a store-bound ExternRef and goes back
into wasm as the same reference."""

import gc

import pytest

from wasmtime import (
    Config,
    Engine,
    ExternRef,
    Func,
    FuncType,
    Global,
    GlobalType,
    Instance,
    Limits,
    Module,
    Store,
    Table,
    TableType,
    Val,
    ValType,
    WasmtimeError,
)

WAT = """(module
  (func (export "mk") (param i32) (result externref)
    (extern.convert_any (ref.i31 (local.get 0))))
  (func (export "back") (param externref) (result i32)
    (i31.get_s (ref.cast (ref i31) (any.convert_extern (local.get 0)))))
  (func (export "is_i31") (param externref) (result i32)
    (ref.test (ref i31) (any.convert_extern (local.get 0))))
  (func (export "pair") (param externref i32) (result i32 externref)
    local.get 1 local.get 0))"""


def gc_engine():
    config = Config()
    config.wasm_gc = True
    config.wasm_function_references = True
    return Engine(config)


@pytest.fixture
def env():
    engine = gc_engine()
    store = Store(engine)
    ex = Instance(store, Module(engine, WAT), []).exports(store)
    return store, ex


def test_round_trip_through_calls(env):
    store, ex = env
    r = ex["mk"](store, 41)
    assert isinstance(r, ExternRef)
    assert ex["back"](store, r) == 41
    assert ex["is_i31"](store, r) == 1
    assert ex["is_i31"](store, object()) == 0
    assert ex["back"](store, Val.externref(r)) == 41
    n, r2 = ex["pair"](store, r, 5)
    assert n == 5 and isinstance(r2, ExternRef)
    assert ex["back"](store, r2) == 41
    assert "no Python payload" in repr(r)


def test_round_trip_through_host_globals_and_tables(env):
    store, ex = env
    r = ex["mk"](store, -3)
    ty = FuncType([ValType.externref()], [ValType.externref()])
    seen = []

    def host(x):
        seen.append(x)
        return x

    f = Func(store, ty, host)
    assert ex["back"](store, f(store, r)) == -3
    assert isinstance(seen[0], ExternRef)
    g = Global(store, GlobalType(ValType.externref(), True), r)
    assert ex["back"](store, g.value(store)) == -3
    t = Table(store, TableType(ValType.externref(), Limits(2, None)), None)
    t.set(store, 1, r)
    assert ex["back"](store, t.get(store, 1)) == -3


def test_wrong_store(env):
    store, ex = env
    r = ex["mk"](store, 1)
    other = Store(store.engine)
    ex2 = Instance(other, Module(store.engine, WAT), []).exports(other)
    with pytest.raises(WasmtimeError, match="wrong store"):
        ex2["back"](other, r)
    with pytest.raises(WasmtimeError, match="wrong store"):
        Global(other, GlobalType(ValType.externref(), True), r)


def test_cannot_be_constructed():
    with pytest.raises(TypeError):
        ExternRef()


def test_outlives_a_closed_store(run_python):
    r = run_python(
        "import wasmtime as w\n"
        "c = w.Config(); c.wasm_gc = True; c.wasm_function_references = True\n"
        "e = w.Engine(c); s = w.Store(e)\n"
        'm = w.Module(e, \'(module (func (export "mk") (result externref) '
        "(extern.convert_any (ref.i31 (i32.const 1)))))')\n"
        "r = w.Instance(s, m, []).exports(s)['mk'](s)\n"
        "s.close()\n"
        "del s\n"
        "print(type(r).__name__)\n"
        "del r\n"
        "print('ok')\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["ExternRef", "ok"]


def test_many_are_released(env):
    store, ex = env
    mk, back = ex["mk"], ex["back"]
    for i in range(20000):
        assert back(store, mk(store, i & 0xFFFF)) == i & 0xFFFF
    gc.collect()
    store.gc()
    assert sum(isinstance(o, ExternRef) for o in gc.get_objects()) == 0
