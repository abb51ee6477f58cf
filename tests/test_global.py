"""wasmtime.Global."""

import math

import pytest

from wasmtime import (
    Engine,
    Func,
    FuncType,
    Global,
    GlobalType,
    Instance,
    Module,
    Store,
    Val,
    ValType,
    WasmtimeError,
)

I32, I64, F32, F64 = ValType.i32(), ValType.i64(), ValType.f32(), ValType.f64()
EXTERNREF, FUNCREF = ValType.externref(), ValType.funcref()


@pytest.mark.parametrize(
    "ty,initial,updated",
    [
        (I32, 5, -7),
        (I64, 2**40, -(2**63)),
        (F32, 1.5, -0.25),
        (F64, 0.1, math.inf),
    ],
    ids=["i32", "i64", "f32", "f64"],
)
def test_numeric_globals(store, ty, initial, updated):
    g = Global(store, GlobalType(ty, True), initial)
    gty = g.type(store)
    assert isinstance(gty, GlobalType)
    assert gty.content == ty
    assert gty.mutable is True
    assert g.value(store) == initial
    assert type(g.value(store)) is type(initial)
    assert g.set_value(store, updated) is None
    assert g.value(store) == updated


def test_integer_values_wrap(store):
    g = Global(store, GlobalType(I32, True), 0xFFFFFFFF)
    assert g.value(store) == -1
    g.set_value(store, 2**32 + 5)
    assert g.value(store) == 5
    h = Global(store, GlobalType(I64, True), 2**64 - 2)
    assert h.value(store) == -2
    h.set_value(store, True)
    assert h.value(store) == 1


def test_f32_rounds(store):
    g = Global(store, GlobalType(F32, True), 0.1)
    assert g.value(store) != 0.1
    assert abs(g.value(store) - 0.1) < 1e-7
    g.set_value(store, 1e300)
    assert g.value(store) == math.inf


def test_val_values(store):
    g = Global(store, GlobalType(I64, True), Val.i64(9))
    assert g.value(store) == 9
    g.set_value(store, Val.i64(10))
    assert g.value(store) == 10
    with pytest.raises(TypeError):
        g.set_value(store, Val.i32(1))
    with pytest.raises(TypeError):
        Global(store, GlobalType(I64, True), Val.f64(1.0))


def test_immutable(store):
    g = Global(store, GlobalType(I32, False), 1)
    assert g.type(store).mutable is False
    with pytest.raises(WasmtimeError):
        g.set_value(store, 2)
    assert g.value(store) == 1


TYPES = {
    "i32": (I32, 0),
    "i64": (I64, 0),
    "f32": (F32, 0.0),
    "f64": (F64, 0.0),
    "funcref": (FUNCREF, None),
}


@pytest.mark.parametrize(
    "name,bad",
    [
        ("i32", 1.0),
        ("i32", "1"),
        ("i32", None),
        ("i64", 2.5),
        ("f32", 1),
        ("f64", 1),
        ("f64", "1.0"),
        ("i32", Val.f32(1.0)),
        ("funcref", 1),
        ("funcref", "f"),
        ("funcref", Val.externref(None)),
    ],
)
def test_value_type_errors(store, name, bad):
    ty, ok = TYPES[name]
    with pytest.raises(TypeError):
        Global(store, GlobalType(ty, True), bad)
    g = Global(store, GlobalType(ty, True), ok)
    with pytest.raises(TypeError):
        g.set_value(store, bad)
    assert g.value(store) == ok


def test_store_as_value_is_type_error(store):
    with pytest.raises(TypeError):
        Global(store, GlobalType(I32, True), store)


def test_constructor_type_errors(store):
    with pytest.raises(TypeError):
        Global(store, 1, 1)
    with pytest.raises(TypeError):
        Global(store, I32, 1)
    with pytest.raises(AttributeError):
        Global(1, GlobalType(I32, True), 1)
    with pytest.raises(TypeError):
        Global(store, GlobalType(I32, True))


def test_set_value_arity(store):
    g = Global(store, GlobalType(I32, True), 1)
    with pytest.raises(TypeError):
        g.set_value(store)
    with pytest.raises(TypeError):
        g.set_value(store, 1, 2)


def test_externref_global(store):
    g = Global(store, GlobalType(EXTERNREF, True), None)
    assert g.type(store).content == EXTERNREF
    assert g.value(store) is None
    obj = {"k": [1, 2]}
    g.set_value(store, obj)
    assert g.value(store) is obj
    g.set_value(store, 7)
    assert g.value(store) == 7
    g.set_value(store, None)
    assert g.value(store) is None
    h = Global(store, GlobalType(EXTERNREF, False), obj)
    assert h.value(store) is obj


def test_funcref_global(store):
    f = Func(store, FuncType([], [I32]), lambda: 13)
    g = Global(store, GlobalType(FUNCREF, True), f)
    assert g.type(store).content == FUNCREF
    got = g.value(store)
    assert isinstance(got, Func)
    assert got(store) == 13
    g.set_value(store, None)
    assert g.value(store) is None
    g.set_value(store, Val.funcref(f))
    assert g.value(store)(store) == 13


def test_funcref_global_foreign_func(engine):
    s1, s2 = Store(engine), Store(engine)
    foreign = Func(s2, FuncType([], []), lambda: None)
    with pytest.raises(WasmtimeError, match="wrong store"):
        Global(s1, GlobalType(FUNCREF, True), foreign)
    g = Global(s1, GlobalType(FUNCREF, True), None)
    with pytest.raises(WasmtimeError, match="wrong store"):
        g.set_value(s1, foreign)
    assert g.value(s1) is None


def test_wasm_global_export_and_import(store):
    wat = """
    (module
      (import "" "in" (global $in (mut i64)))
      (global $out (export "out") (mut f64) (f64.const 2.5))
      (global (export "const") i32 (i32.const 77))
      (func (export "bump") global.get $in i64.const 1 i64.add global.set $in)
      (func (export "read_out") (result f64) global.get $out))
    """
    g_in = Global(store, GlobalType(I64, True), 41)
    ex = Instance(store, Module(store.engine, wat), [g_in]).exports(store)
    ex["bump"](store)
    assert g_in.value(store) == 42
    assert ex["out"].value(store) == 2.5
    ex["out"].set_value(store, 8.0)
    assert ex["read_out"](store) == 8.0
    assert ex["const"].value(store) == 77
    assert ex["const"].type(store).mutable is False
    with pytest.raises(WasmtimeError):
        ex["const"].set_value(store, 1)


def test_import_mutability_mismatch(store):
    module = Module(store.engine, '(module (import "" "" (global (mut i32))))')
    with pytest.raises(WasmtimeError):
        Instance(store, module, [Global(store, GlobalType(I32, False), 0)])
    with pytest.raises(WasmtimeError):
        Instance(store, module, [Global(store, GlobalType(I64, True), 0)])


def test_every_method_with_wrong_store(engine):
    s1, s2 = Store(engine), Store(engine)
    g = Global(s1, GlobalType(I32, True), 3)
    for store in (s2, Store(Engine())):
        with pytest.raises(WasmtimeError, match="wrong store"):
            g.type(store)
        with pytest.raises(WasmtimeError, match="wrong store"):
            g.value(store)
        with pytest.raises(WasmtimeError, match="wrong store"):
            g.set_value(store, 4)
    assert g.value(s1) == 3


def test_global_import_from_other_store(engine):
    s1, s2 = Store(engine), Store(engine)
    module = Module(engine, '(module (import "" "" (global i32)))')
    with pytest.raises(WasmtimeError, match="wrong store"):
        Instance(s1, module, [Global(s2, GlobalType(I32, False), 0)])


def test_every_method_after_close(engine):
    store = Store(engine)
    g = Global(store, GlobalType(I32, True), 3)
    store.close()
    with pytest.raises(ValueError):
        g.type(store)
    with pytest.raises(ValueError):
        g.value(store)
    with pytest.raises(ValueError):
        g.set_value(store, 4)
    with pytest.raises(ValueError):
        Global(store, GlobalType(I32, True), 3)


def test_v128_global_reads_as_an_unsigned_int():
    store = Store()
    m = Module(store.engine, '(module (global (export "g") v128 (v128.const i32x4 1 2 3 -1)))')
    g = Instance(store, m, []).exports(store)["g"]
    assert str(g.type(store).content) == "v128"
    assert g.value(store) == 1 | 2 << 32 | 3 << 64 | 0xFFFFFFFF << 96
