"""externref and funcref values across the boundary."""

import gc
import weakref

import pytest

from wasmtime import (
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

I32 = ValType.i32()
EXTERNREF, FUNCREF = ValType.externref(), ValType.funcref()

WAT = """
(module
  (func (export "id") (param externref) (result externref) local.get 0)
  (func (export "fid") (param funcref) (result funcref) local.get 0)
  (func (export "is_null") (param externref) (result i32) local.get 0 ref.is_null)
  (func (export "fis_null") (param funcref) (result i32) local.get 0 ref.is_null)
  (func (export "null") (result externref) ref.null extern)
  (func (export "fnull") (result funcref) ref.null func)
  (func (export "swap") (param externref externref) (result externref externref)
    local.get 1 local.get 0)
  (func (export "mixed") (param i32 externref f64) (result f64 externref i32)
    local.get 2 local.get 1 local.get 0)
  (table $t 1 funcref)
  (type $ret_i32 (func (result i32)))
  (func (export "call_ref") (param funcref) (result i32)
    i32.const 0 local.get 0 table.set $t
    i32.const 0 call_indirect $t (type $ret_i32)))
"""


@pytest.fixture
def ex(store):
    return Instance(store, Module(store.engine, WAT), []).exports(store)


class Payload:
    pass


class Unhashable:
    __hash__ = None

    def __eq__(self, other):
        return True


ROUND_TRIP = [
    object(),
    Payload(),
    "text",
    b"bytes",
    12345678901234567890,
    -1,
    0,
    0.5,
    True,
    False,
    "",
    (),
    [],
    {"a": 1},
    Unhashable(),
    Payload,
    len,
    Ellipsis,
    NotImplemented,
    ValType.i32(),
]


@pytest.mark.parametrize("obj", ROUND_TRIP, ids=lambda o: type(o).__name__)
def test_externref_round_trip_identity(store, ex, obj):
    assert ex["id"](store, obj) is obj
    assert ex["is_null"](store, obj) == 0


def test_externref_round_trip_host(store):
    f = Func(store, FuncType([EXTERNREF], [EXTERNREF]), lambda x: x)
    for obj in ROUND_TRIP:
        assert f(store, obj) is obj


def test_externref_through_host_and_wasm(store):
    seen = []

    def h(x):
        seen.append(x)
        return x

    wat = """
    (module
      (import "" "h" (func $h (param externref) (result externref)))
      (func (export "run") (param externref) (result externref) local.get 0 call $h))
    """
    f = Func(store, FuncType([EXTERNREF], [EXTERNREF]), h)
    run = Instance(store, Module(store.engine, wat), [f]).exports(store)["run"]
    obj = Payload()
    assert run(store, obj) is obj
    assert seen[0] is obj
    assert run(store, None) is None
    assert seen[1] is None


def test_store_itself_as_externref(store, ex):
    assert ex["id"](store, store) is store
    assert ex["id"](store, ex) is ex


def test_func_as_externref_payload(store, ex):
    f = Func(store, FuncType([], []), lambda: None)
    assert ex["id"](store, f) is f


def test_null_externref(store, ex):
    assert ex["id"](store, None) is None
    assert ex["null"](store) is None
    assert ex["is_null"](store, None) == 1
    assert ex["id"](store, Val.externref(None)) is None


def test_val_externref(store, ex):
    obj = Payload()
    assert ex["id"](store, Val.externref(obj)) is obj
    with pytest.raises(TypeError):
        ex["id"](store, Val.funcref(None))


def test_int_to_externref_param(store, ex):
    assert ex["id"](store, 5) == 5
    assert ex["is_null"](store, 5) == 0
    assert ex["is_null"](store, 0) == 0
    assert ex["is_null"](store, 1.5) == 0


def test_multi_value_references(store, ex):
    a, b = Payload(), Payload()
    got = ex["swap"](store, a, b)
    assert got[0] is b and got[1] is a
    obj = Payload()
    got = ex["mixed"](store, 7, obj, 2.5)
    assert got[0] == 2.5 and got[1] is obj and got[2] == 7


def test_same_object_many_times(store, ex):
    obj = Payload()
    for _ in range(1000):
        assert ex["id"](store, obj) is obj


def _release_check(store, use):
    """`use(payload)` hands a payload to wasm; it must be freed by store.gc()."""
    obj = Payload()
    ref = weakref.ref(obj)
    use(obj)
    del obj
    gc.collect()
    store.gc()
    gc.collect()
    return ref() is None


def test_externref_payload_released_after_call(store, ex):
    assert _release_check(store, lambda o: ex["id"](store, o))


def test_externref_payload_released_after_host_call(store):
    f = Func(store, FuncType([EXTERNREF], []), lambda x: None)
    assert _release_check(store, lambda o: f(store, o))


def test_externref_payload_of_failed_host_results_released(store):
    """A host function whose first result (an externref) converted but whose
    second failed: the payload must still be freed by store.gc()."""
    refs = []

    def h():
        obj = Payload()
        refs.append(weakref.ref(obj))
        return [obj, 1.5]  # 1.5 is not an i32

    f = Func(store, FuncType([], [EXTERNREF, I32]), h)
    wat = """
    (module
      (import "" "h" (func $h (result externref i32)))
      (func (export "run") call $h drop drop))
    """
    run = Instance(store, Module(store.engine, wat), [f]).exports(store)["run"]
    for _ in range(10):
        with pytest.raises(TypeError):
            f(store)
        with pytest.raises(TypeError):
            run(store)
    gc.collect()
    store.gc()
    gc.collect()
    assert [r() is None for r in refs] == [True] * 20


def test_externref_payload_released_from_global(store):
    g = Global(store, GlobalType(EXTERNREF, True), None)
    finalized = []

    class Tracked:
        def __del__(self):
            finalized.append(True)

    g.set_value(store, Tracked())
    gc.collect()
    store.gc()
    gc.collect()
    assert finalized == []  # still referenced by the global
    assert isinstance(g.value(store), Tracked)
    g.set_value(store, None)
    gc.collect()
    store.gc()
    gc.collect()
    assert finalized == [True]


def test_externref_payload_released_from_table(store):
    t = Table(store, TableType(EXTERNREF, Limits(1, None)), None)
    obj = Payload()
    ref = weakref.ref(obj)
    t.set(store, 0, obj)
    del obj
    gc.collect()
    store.gc()
    gc.collect()
    assert ref() is not None
    t.set(store, 0, None)
    store.gc()
    gc.collect()
    assert ref() is None


def test_externref_payloads_released_with_store(engine):
    store = Store(engine)
    g = Global(store, GlobalType(EXTERNREF, True), None)
    finalize_calls = []
    obj = Payload()
    weakref.finalize(obj, finalize_calls.append, "done")
    g.set_value(store, obj)
    del obj
    gc.collect()
    assert finalize_calls == []
    store.close()
    gc.collect()
    assert finalize_calls == ["done"]


def test_funcref_round_trip(store, ex):
    f = Func(store, FuncType([], [I32]), lambda: 3)
    got = ex["fid"](store, f)
    assert isinstance(got, Func)
    assert got(store) == 3
    assert ex["fis_null"](store, f) == 0
    assert ex["call_ref"](store, f) == 3


def test_funcref_of_wasm_export(store, ex):
    got = ex["fid"](store, ex["null"])
    assert isinstance(got, Func)
    assert got(store) is None
    assert got.type(store).results == [EXTERNREF]


def test_null_funcref(store, ex):
    assert ex["fid"](store, None) is None
    assert ex["fnull"](store) is None
    assert ex["fis_null"](store, None) == 1
    assert ex["fid"](store, Val.funcref(None)) is None


def test_funcref_conversion_errors(store, ex):
    for bad in [5, "f", object(), Val.externref(None), Val.i32(1)]:
        with pytest.raises(TypeError):
            ex["fid"](store, bad)


def test_funcref_host_results(store):
    target = Func(store, FuncType([], [I32]), lambda: 11)
    f = Func(store, FuncType([], [FUNCREF]), lambda: target)
    got = f(store)
    assert isinstance(got, Func)
    assert got(store) == 11
    g = Func(store, FuncType([], [FUNCREF]), lambda: None)
    assert g(store) is None
    bad = Func(store, FuncType([], [FUNCREF]), lambda: 1)
    with pytest.raises(TypeError):
        bad(store)


def test_funcref_of_other_store(engine):
    s1, s2 = Store(engine), Store(engine)
    ex = Instance(s1, Module(engine, WAT), []).exports(s1)
    foreign = Func(s2, FuncType([], [I32]), lambda: 1)
    with pytest.raises(WasmtimeError, match="wrong store"):
        ex["fid"](s1, foreign)
    with pytest.raises(WasmtimeError, match="wrong store"):
        ex["call_ref"](s1, Val.funcref(foreign))
    host = Func(s1, FuncType([], [FUNCREF]), lambda: foreign)
    with pytest.raises(WasmtimeError, match="wrong store"):
        host(s1)
    assert ex["fid"](s1, None) is None


def test_funcref_of_other_engine_in_child(run_python):
    r = run_python(
        "import wasmtime as w\n"
        "a, b = w.Store(), w.Store()\n"
        "m = w.Module(a.engine, '(module (func (export \"f\") (param funcref)))')\n"
        "f = w.Instance(a, m, []).exports(a)['f']\n"
        "g = w.Func(b, w.FuncType([], []), lambda: None)\n"
        "try:\n"
        "    f(a, g)\n"
        "except w.WasmtimeError:\n"
        "    print('raised')\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "raised"


def test_wrong_store_funcref_from_host_in_child(run_python):
    """A host function returning another store's Func must not abort."""
    r = run_python(
        "import wasmtime as w\n"
        "e = w.Engine()\n"
        "a, b = w.Store(e), w.Store(e)\n"
        "foreign = w.Func(b, w.FuncType([], []), lambda: None)\n"
        "h = w.Func(a, w.FuncType([], [w.ValType.funcref()]), lambda: foreign)\n"
        'm = w.Module(e, \'(module (import "" "" (func $h (result funcref)))'
        ' (func (export "r") (result funcref) call $h))\')\n'
        "r = w.Instance(a, m, [h]).exports(a)['r']\n"
        "try:\n"
        "    r(a)\n"
        "except w.WasmtimeError:\n"
        "    print('raised')\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "raised"
