"""wasmtime.Instance and its cached exports mapping (API contract 1.10, 2.6,
2.7)."""

import collections.abc

import pytest

import wasmtime
from wasmtime import (
    Engine,
    Func,
    FuncType,
    Global,
    GlobalType,
    Instance,
    Limits,
    Memory,
    MemoryType,
    Module,
    Store,
    Table,
    TableType,
    Trap,
    TrapCode,
    ValType,
    WasmtimeError,
)

I32 = ValType.i32()

EXPORTS_WAT = """
(module
  (func (export "f") (result i32) i32.const 1)
  (memory (export "m") 1)
  (global (export "g") i32 (i32.const 2))
  (table (export "t") 1 funcref)
  (func (export "f2") (result i32) i32.const 3))
"""
NAMES = ["f", "m", "g", "t", "f2"]


@pytest.fixture
def exports(store):
    return Instance(store, Module(store.engine, EXPORTS_WAT), []).exports(store)


def test_exports_is_a_mapping(exports):
    assert isinstance(exports, collections.abc.Mapping)
    assert not isinstance(exports, dict)


def test_exports_len_iter_contains(exports):
    assert len(exports) == 5
    assert list(exports) == NAMES
    for name in NAMES:
        assert name in exports
    assert "nope" not in exports
    assert 0 not in exports
    assert None not in exports


def test_exports_kinds(exports):
    assert isinstance(exports["f"], Func)
    assert isinstance(exports["m"], Memory)
    assert isinstance(exports["g"], Global)
    assert isinstance(exports["t"], Table)


def test_exports_get_with_default(exports):
    assert exports.get("f") is exports["f"]
    assert exports.get("nope") is None
    sentinel = object()
    assert exports.get("nope", sentinel) is sentinel
    assert exports.get("m", sentinel) is exports["m"]


def test_exports_keys_values_items(exports):
    assert list(exports.keys()) == NAMES
    values = list(exports.values())
    assert len(values) == 5
    assert [type(v) for v in values] == [Func, Memory, Global, Table, Func]
    items = list(exports.items())
    assert [k for k, _ in items] == NAMES
    for k, v in items:
        assert exports[k] is v


def test_by_index_identity_with_values(exports):
    by_index = exports.by_index
    assert isinstance(by_index, tuple)
    assert len(by_index) == 5
    for a, b in zip(by_index, exports.values()):
        assert a is b
    assert by_index[0] is exports["f"]
    assert by_index[4] is exports["f2"]
    assert exports.by_index is by_index or exports.by_index == by_index


def test_by_index_out_of_range(exports):
    with pytest.raises(IndexError):
        exports.by_index[5]
    with pytest.raises(IndexError):
        exports.by_index[100]
    assert exports.by_index[-1] is exports["f2"]


def test_missing_and_int_keys_are_key_errors(exports):
    with pytest.raises(KeyError):
        exports["nope"]
    with pytest.raises(KeyError):
        exports[0]
    with pytest.raises(KeyError):
        exports[b"f"]
    with pytest.raises(KeyError):
        exports[None]


def test_exports_cached(store):
    inst = Instance(store, Module(store.engine, EXPORTS_WAT), [])
    a = inst.exports(store)
    b = inst.exports(store)
    assert a is b
    assert a["f"] is b["f"]


def test_exports_equality(store, exports):
    other = Instance(store, Module(store.engine, EXPORTS_WAT), []).exports(store)
    assert exports == exports
    assert exports != other  # different objects inside
    assert exports == dict(exports.items())


def test_exports_are_read_only(exports):
    with pytest.raises(TypeError):
        exports["x"] = 1
    with pytest.raises(TypeError):
        del exports["f"]


def test_exports_call(store, exports):
    assert exports["f"](store) == 1
    assert exports["f2"](store) == 3
    assert exports["g"].value(store) == 2
    assert exports["m"].size(store) == 1
    assert exports["t"].size(store) == 1


def test_empty_module(store):
    ex = Instance(store, Module(store.engine, "(module)"), []).exports(store)
    assert len(ex) == 0
    assert list(ex) == []
    assert ex.by_index == ()


def test_imports_of_every_kind(store):
    wat = """
    (module
      (import "" "f" (func $f (result i32)))
      (import "" "m" (memory 1))
      (import "" "g" (global $g (mut i32)))
      (import "" "t" (table 1 funcref))
      (func (export "call") (result i32) call $f)
      (func (export "load") (result i32) i32.const 0 i32.load8_u)
      (func (export "getg") (result i32) global.get $g)
      (func (export "setg") (param i32) local.get 0 global.set $g))
    """
    f = Func(store, FuncType([], [I32]), lambda: 41)
    m = Memory(store, MemoryType(Limits(1, None)))
    m.write(store, b"\x09")
    g = Global(store, GlobalType(I32, True), 3)
    t = Table(store, TableType(ValType.funcref(), Limits(1, None)), None)
    ex = Instance(store, Module(store.engine, wat), [f, m, g, t]).exports(store)
    assert ex["call"](store) == 41
    assert ex["load"](store) == 9
    assert ex["getg"](store) == 3
    ex["setg"](store, 77)
    assert g.value(store) == 77


def test_imports_any_sequence(store):
    wat = '(module (import "" "f" (func)))'
    module = Module(store.engine, wat)
    f = Func(store, FuncType([], []), lambda: None)
    Instance(store, module, (f,))
    Instance(store, module, [f])
    with pytest.raises(TypeError):
        Instance(store, module, 5)
    with pytest.raises(TypeError):
        Instance(store, module, None)


def test_import_arity_mismatch(store):
    module = Module(store.engine, '(module (import "" "a" (func)) (import "" "b" (func)))')
    f = Func(store, FuncType([], []), lambda: None)
    with pytest.raises(WasmtimeError):
        Instance(store, module, [])
    with pytest.raises(WasmtimeError):
        Instance(store, module, [f])
    with pytest.raises(WasmtimeError):
        Instance(store, module, [f, f, f])
    Instance(store, module, [f, f])


def test_import_type_mismatch(store):
    module = Module(store.engine, '(module (import "" "a" (func (param i32))))')
    with pytest.raises(WasmtimeError):
        Instance(store, module, [Func(store, FuncType([], []), lambda: None)])
    with pytest.raises(WasmtimeError):
        Instance(store, module, [Memory(store, MemoryType(Limits(1, None)))])
    with pytest.raises(WasmtimeError):
        Instance(store, module, [Global(store, GlobalType(I32, False), 1)])
    mem_module = Module(store.engine, '(module (import "" "m" (memory 2)))')
    with pytest.raises(WasmtimeError):
        Instance(store, mem_module, [Memory(store, MemoryType(Limits(1, None)))])


@pytest.mark.parametrize("bad", [1, "f", None, object(), Engine, ValType.i32()])
def test_non_extern_import_is_type_error(store, bad):
    module = Module(store.engine, '(module (import "" "a" (func)))')
    with pytest.raises(TypeError):
        Instance(store, module, [bad])


def test_non_module_argument(store):
    with pytest.raises(TypeError):
        Instance(store, 1, [])
    with pytest.raises(AttributeError):
        Instance(store, 1, [])
    with pytest.raises(wasmtime.ArgumentTypeError):
        Instance(store, "(module)", [])


def test_non_store_argument(store):
    module = Module(store.engine, "(module)")
    with pytest.raises((TypeError, AttributeError)):
        Instance(1, module, [])
    with pytest.raises((TypeError, AttributeError)):
        Instance(store.engine, module, [])


def test_start_trap(store):
    module = Module(store.engine, "(module (func $s unreachable) (start $s))")
    with pytest.raises(Trap) as info:
        Instance(store, module, [])
    assert info.value.trap_code == TrapCode.UNREACHABLE
    assert not isinstance(info.value, WasmtimeError)


def test_start_function_runs(store):
    wat = """
    (module
      (global $g (export "g") (mut i32) (i32.const 0))
      (func $s i32.const 5 global.set $g)
      (start $s))
    """
    ex = Instance(store, Module(store.engine, wat), []).exports(store)
    assert ex["g"].value(store) == 5


def test_module_from_another_engine(store):
    other = Module(Engine(), "(module)")
    with pytest.raises(WasmtimeError):
        Instance(store, other, [])
    # the store still works
    Instance(store, Module(store.engine, "(module)"), [])


def test_module_from_another_engine_in_child(run_python):
    """Must raise, never abort the process."""
    r = run_python(
        "import wasmtime as w\n"
        "s = w.Store()\n"
        "m = w.Module(w.Engine(), '(module (func (export \"f\")))')\n"
        "try:\n"
        "    w.Instance(s, m, [])\n"
        "except w.WasmtimeError:\n"
        "    print('raised')\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "raised"


@pytest.mark.parametrize("kind", ["func", "memory", "global", "table"])
def test_imports_from_another_store(engine, kind):
    s1, s2 = Store(engine), Store(engine)
    wat = {
        "func": '(module (import "" "" (func)))',
        "memory": '(module (import "" "" (memory 1)))',
        "global": '(module (import "" "" (global i32)))',
        "table": '(module (import "" "" (table 1 funcref)))',
    }[kind]
    make = {
        "func": lambda s: Func(s, FuncType([], []), lambda: None),
        "memory": lambda s: Memory(s, MemoryType(Limits(1, None))),
        "global": lambda s: Global(s, GlobalType(I32, False), 0),
        "table": lambda s: Table(s, TableType(ValType.funcref(), Limits(1, None)), None),
    }[kind]
    module = Module(engine, wat)
    item = make(s2)
    with pytest.raises(WasmtimeError, match="wrong store"):
        Instance(s1, module, [item])
    Instance(s2, module, [item])


def test_imports_from_another_engine_store(store):
    other = Store(Engine())
    f = Func(other, FuncType([], []), lambda: None)
    module = Module(store.engine, '(module (import "" "" (func)))')
    with pytest.raises(WasmtimeError):
        Instance(store, module, [f])


def test_exports_with_other_store(engine):
    s1, s2 = Store(engine), Store(engine)
    inst = Instance(s1, Module(engine, EXPORTS_WAT), [])
    with pytest.raises(WasmtimeError, match="wrong store"):
        inst.exports(s2)
    with pytest.raises(WasmtimeError):
        inst.exports(Store(Engine()))
    assert inst.exports(s1)["f"](s1) == 1


def test_exports_with_non_store(store):
    inst = Instance(store, Module(store.engine, EXPORTS_WAT), [])
    with pytest.raises(TypeError):
        inst.exports(None)
    with pytest.raises(TypeError):
        inst.exports(1)


def test_instance_in_closed_store(engine):
    store = Store(engine)
    module = Module(engine, EXPORTS_WAT)
    inst = Instance(store, module, [])
    store.close()
    with pytest.raises(ValueError):
        inst.exports(store)
    with pytest.raises(ValueError):
        Instance(store, module, [])


def test_cached_exports_survive_in_closed_store(engine):
    """Exports built before close are still there; using them raises."""
    store = Store(engine)
    ex = Instance(store, Module(engine, EXPORTS_WAT), []).exports(store)
    store.close()
    assert len(ex) == 5
    with pytest.raises(ValueError):
        ex["f"](store)


def test_two_instances_are_independent(store):
    module = Module(
        store.engine,
        '(module (global (export "g") (mut i32) (i32.const 0)) '
        '(func (export "inc") global.get 0 i32.const 1 i32.add global.set 0))',
    )
    a = Instance(store, module, []).exports(store)
    b = Instance(store, module, []).exports(store)
    a["inc"](store)
    a["inc"](store)
    b["inc"](store)
    assert a["g"].value(store) == 2
    assert b["g"].value(store) == 1


def test_instance_exports_func_shared_between_instances(store):
    """An exported function can be the import of another instance."""
    m1 = Module(store.engine, '(module (func (export "five") (result i32) i32.const 5))')
    m2 = Module(
        store.engine,
        '(module (import "" "" (func $f (result i32))) '
        '(func (export "ten") (result i32) call $f call $f i32.add))',
    )
    five = Instance(store, m1, []).exports(store)["five"]
    ten = Instance(store, m2, [five]).exports(store)["ten"]
    assert ten(store) == 10


def test_closed_module_rejected(store):
    module = Module(store.engine, "(module)")
    module.close()
    with pytest.raises(ValueError):
        Instance(store, module, [])
