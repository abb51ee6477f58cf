"""wasmtime.Table: funcref and externref tables."""

import pytest

from wasmtime import (
    Engine,
    Func,
    FuncType,
    Instance,
    Limits,
    Module,
    Store,
    Table,
    TableType,
    Trap,
    TrapCode,
    Val,
    ValType,
    WasmtimeError,
)

I32 = ValType.i32()
FUNCREF = ValType.funcref()
EXTERNREF = ValType.externref()


def funcref_table(store, min=2, max=None, init=None):
    return Table(store, TableType(FUNCREF, Limits(min, max)), init)


def externref_table(store, min=2, max=None, init=None):
    return Table(store, TableType(EXTERNREF, Limits(min, max)), init)


def const_func(store, value):
    return Func(store, FuncType([], [I32]), lambda: value)


# ---- construction ---------------------------------------------------------------


def test_funcref_table_type_and_size(store):
    t = funcref_table(store, 2, 4)
    ty = t.type(store)
    assert isinstance(ty, TableType)
    assert ty.element == FUNCREF
    assert ty.limits == Limits(2, 4)
    assert t.size(store) == 2


def test_unbounded_table_limits(store):
    t = externref_table(store, 1, None)
    assert t.type(store).limits == Limits(1, None)


def test_init_value_fills_table(store):
    f = const_func(store, 5)
    t = funcref_table(store, 3, None, f)
    for i in range(3):
        g = t.get(store, i)
        assert isinstance(g, Func)
        assert g(store) == 5
    o = object()
    e = externref_table(store, 3, None, o)
    assert all(e.get(store, i) is o for i in range(3))


def test_null_init(store):
    assert funcref_table(store).get(store, 0) is None
    assert externref_table(store).get(store, 1) is None


def test_constructor_errors(store):
    with pytest.raises(TypeError):
        Table(store, 1, None)
    with pytest.raises(TypeError):
        Table(store, Limits(1, None), None)
    with pytest.raises(TypeError):
        funcref_table(store, init=5)
    with pytest.raises(TypeError):
        funcref_table(store, init="f")
    with pytest.raises(TypeError):
        funcref_table(store, init=Val.externref(1))
    with pytest.raises((TypeError, AttributeError)):
        Table(1, TableType(FUNCREF, Limits(1, None)), None)


def test_store_table_limit(store):
    store.set_limits(table_elements=10)
    with pytest.raises(WasmtimeError):
        funcref_table(store, 11)
    t = funcref_table(store, 10)
    with pytest.raises(WasmtimeError):
        t.grow(store, 1, None)


# ---- get / set ------------------------------------------------------------------


def test_get_out_of_bounds_is_none(store):
    t = funcref_table(store, 2, None, const_func(store, 1))
    assert t.get(store, 2) is None
    assert t.get(store, 1000) is None
    assert t.get(store, -1) is None
    assert t.get(store, -(2**70)) is None
    assert t.get(store, 2**70) is None
    assert t.get(store, 1) is not None


def test_get_non_int_index(store):
    t = funcref_table(store)
    with pytest.raises(TypeError):
        t.get(store, "0")
    with pytest.raises(TypeError):
        t.get(store, 0.0)
    with pytest.raises(TypeError):
        t.get(store, None)


def test_set_and_get_funcs(store):
    t = funcref_table(store, 3)
    f1, f2 = const_func(store, 11), const_func(store, 22)
    t.set(store, 0, f1)
    t.set(store, 2, f2)
    assert t.get(store, 0)(store) == 11
    assert t.get(store, 1) is None
    assert t.get(store, 2)(store) == 22
    t.set(store, 0, None)
    assert t.get(store, 0) is None
    t.set(store, 1, Val.funcref(f2))
    assert t.get(store, 1)(store) == 22
    t.set(store, 1, Val.funcref(None))
    assert t.get(store, 1) is None


def test_get_returns_new_wrapper(store):
    f = const_func(store, 1)
    t = funcref_table(store, 1, None, f)
    a, b = t.get(store, 0), t.get(store, 0)
    assert isinstance(a, Func) and isinstance(b, Func)
    assert a(store) == b(store) == 1


def test_set_out_of_bounds(store):
    t = funcref_table(store, 2)
    f = const_func(store, 1)
    with pytest.raises(WasmtimeError):
        t.set(store, 2, f)
    with pytest.raises(WasmtimeError):
        t.set(store, -1, None)
    with pytest.raises(WasmtimeError):
        t.set(store, 2**70, None)
    assert t.size(store) == 2


def test_set_type_errors(store):
    t = funcref_table(store)
    for bad in [1, "f", 1.5, object(), Val.i32(1), Val.externref(None)]:
        with pytest.raises(TypeError):
            t.set(store, 0, bad)
    with pytest.raises(TypeError):
        t.set(store, "0", None)


def test_externref_table(store):
    t = externref_table(store, 3)
    objs = [object(), "text", 42]
    for i, o in enumerate(objs):
        t.set(store, i, o)
    for i, o in enumerate(objs):
        assert t.get(store, i) is o
    t.set(store, 0, None)
    assert t.get(store, 0) is None


def test_externref_table_falsy_payloads(store):
    t = externref_table(store, 4)
    falsy = [0, "", False, ()]
    for i, o in enumerate(falsy):
        t.set(store, i, o)
    for i, o in enumerate(falsy):
        assert t.get(store, i) is o


def test_externref_table_takes_any_object(store):
    t = externref_table(store, 1)
    f = const_func(store, 3)
    t.set(store, 0, f)
    assert t.get(store, 0) is f
    t.set(store, 0, Val.externref(12))
    assert t.get(store, 0) == 12


def test_externref_table_rejects_funcref_val(store):
    t = externref_table(store, 1)
    with pytest.raises(TypeError):
        t.set(store, 0, Val.funcref(None))


# ---- grow ---------------------------------------------------------------------------


def test_grow_returns_previous_size(store):
    t = funcref_table(store, 1, 10)
    f = const_func(store, 8)
    assert t.grow(store, 2, f) == 1
    assert t.size(store) == 3
    assert t.get(store, 0) is None
    assert t.get(store, 1)(store) == 8
    assert t.get(store, 2)(store) == 8
    assert t.grow(store, 0, None) == 3
    assert t.grow(store, 1, None) == 3
    assert t.get(store, 3) is None


def test_grow_externref(store):
    t = externref_table(store, 0)
    o = object()
    assert t.grow(store, 2, o) == 0
    assert t.get(store, 0) is o and t.get(store, 1) is o


def test_grow_beyond_max(store):
    t = funcref_table(store, 1, 2)
    with pytest.raises(WasmtimeError):
        t.grow(store, 2, None)
    assert t.size(store) == 1
    assert t.grow(store, 1, None) == 1
    with pytest.raises(WasmtimeError):
        t.grow(store, 1, None)


def test_grow_errors(store):
    t = funcref_table(store, 1)
    with pytest.raises(TypeError):
        t.grow(store, "x", None)
    with pytest.raises(TypeError):
        t.grow(store, 1.0, None)
    with pytest.raises(TypeError):
        t.grow(store, 2, "x")
    with pytest.raises(TypeError):
        t.grow(store, 2, 5)
    with pytest.raises(WasmtimeError):
        t.grow(store, -1, None)
    with pytest.raises(TypeError):
        t.grow(store, 1)
    assert t.size(store) == 1


# ---- tables and wasm ---------------------------------------------------------------


def test_func_element_called_by_wasm(store):
    wat = """
    (module
      (import "" "t" (table 2 funcref))
      (type $t (func (result i32)))
      (func (export "call") (param i32) (result i32)
        local.get 0 call_indirect (type $t)))
    """
    t = funcref_table(store, 2)
    t.set(store, 1, const_func(store, 99))
    call = Instance(store, Module(store.engine, wat), [t]).exports(store)["call"]
    assert call(store, 1) == 99
    with pytest.raises(Trap) as info:
        call(store, 0)
    assert info.value.trap_code == TrapCode.INDIRECT_CALL_TO_NULL
    with pytest.raises(Trap) as info:
        call(store, 5)
    assert info.value.trap_code == TrapCode.TABLE_OUT_OF_BOUNDS
    t.set(store, 0, Func(store, FuncType([I32], [I32]), lambda x: x))
    with pytest.raises(Trap) as info:
        call(store, 0)
    assert info.value.trap_code == TrapCode.BAD_SIGNATURE


def test_wasm_table_elements_are_callable(store):
    wat = """
    (module
      (table (export "t") 2 funcref)
      (func $a (result i32) i32.const 1)
      (func $b (result i32) i32.const 2)
      (elem (i32.const 0) $a $b))
    """
    t = Instance(store, Module(store.engine, wat), []).exports(store)["t"]
    assert t.get(store, 0)(store) == 1
    assert t.get(store, 1)(store) == 2


def test_wasm_externref_table_roundtrip(store):
    wat = """
    (module
      (table (export "t") 2 externref)
      (func (export "get") (param i32) (result externref) local.get 0 table.get 0)
      (func (export "set") (param i32 externref) local.get 0 local.get 1 table.set 0))
    """
    ex = Instance(store, Module(store.engine, wat), []).exports(store)
    o = object()
    ex["set"](store, 1, o)
    assert ex["t"].get(store, 1) is o
    ex["t"].set(store, 0, "py")
    assert ex["get"](store, 0) == "py"


# ---- wrong store, closed store ---------------------------------------------------


def _table_calls(t, store, f=None):
    return [
        lambda: t.type(store),
        lambda: t.size(store),
        lambda: t.get(store, 0),
        lambda: t.set(store, 0, None),
        lambda: t.grow(store, 1, None),
    ]


def test_every_method_with_wrong_store(engine):
    s1, s2 = Store(engine), Store(engine)
    t = funcref_table(s1)
    for store in (s2, Store(Engine())):
        for call in _table_calls(t, store):
            with pytest.raises(WasmtimeError):
                call()
    assert t.size(s1) == 2


def test_func_of_other_store_as_element(engine):
    s1, s2 = Store(engine), Store(engine)
    t = funcref_table(s1)
    foreign = const_func(s2, 1)
    with pytest.raises(WasmtimeError, match="wrong store"):
        t.set(s1, 0, foreign)
    with pytest.raises(WasmtimeError, match="wrong store"):
        t.grow(s1, 1, foreign)
    with pytest.raises(WasmtimeError, match="wrong store"):
        funcref_table(s1, init=foreign)
    with pytest.raises(WasmtimeError, match="wrong store"):
        t.set(s1, 0, Val.funcref(foreign))
    assert t.get(s1, 0) is None
    assert t.size(s1) == 2


def test_foreign_func_element_in_child(run_python):
    r = run_python(
        "import wasmtime as w\n"
        "a, b = w.Store(), w.Store()\n"
        "t = w.Table(a, w.TableType(w.ValType.funcref(), w.Limits(1, None)), None)\n"
        "f = w.Func(b, w.FuncType([], []), lambda: None)\n"
        "try:\n"
        "    t.set(a, 0, f)\n"
        "except w.WasmtimeError:\n"
        "    print('raised')\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "raised"


def test_every_method_after_close(engine):
    store = Store(engine)
    t = funcref_table(store)
    store.close()
    for call in _table_calls(t, store):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(ValueError):
        funcref_table(store)
