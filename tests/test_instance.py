"""wasmtime.Instance and its cached exports mapping (API contract 1.10, 2.6,
2.7)."""

import collections.abc
import gc
import tracemalloc

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


# ---- lazy exports: exports(store) is O(1), each name is looked up once -----------------


def _leb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _section(section_id, payload):
    return bytes([section_id]) + _leb(len(payload)) + payload


def _vec(items):
    return _leb(len(items)) + b"".join(items)


def many_exports(n):
    """Binary module with one function `() -> i32` returning 7, exported `n`
    times: as "f", then "e1" .. "e<n-1>" (built directly, no WAT)."""
    names = ["f"] + ["e%d" % i for i in range(1, n)]
    exports = [_leb(len(s)) + s.encode() + b"\x00\x00" for s in names]  # func 0
    return b"".join(
        [
            b"\x00asm\x01\x00\x00\x00",
            _section(1, _vec([b"\x60\x00\x01\x7f"])),  # type 0: () -> i32
            _section(3, _vec([b"\x00"])),  # func 0: type 0
            _section(7, _vec(exports)),
            _section(10, _vec([_leb(4) + b"\x00\x41\x07\x0b"])),  # i32.const 7
        ]
    ), names


def test_many_exports_builder_is_valid(engine):
    data, names = many_exports(3)
    assert [e.name for e in Module(engine, data).exports] == names == ["f", "e1", "e2"]


def test_100k_exports(store):
    """Before, exports(store) walked every export with a call that is itself
    linear: minutes for this module.  Now a lookup is one call."""
    data, names = many_exports(100_000)
    module = Module(store.engine, data)
    ex = Instance(store, module, []).exports(store)
    assert ex["f"](store) == 7
    assert ex["e99999"](store) == 7
    assert ex["e99999"] is ex["e99999"]
    with pytest.raises(KeyError):
        ex["e100000"]
    assert len(ex) == 100_000
    assert "e50000" in ex
    by_index = ex.by_index
    assert len(by_index) == 100_000
    assert by_index[0] is ex["f"]
    assert by_index[-1] is ex["e99999"]
    # A second instance shares the module's names, not the wrappers.
    ex2 = Instance(store, module, []).exports(store)
    assert len(ex2) == 100_000
    assert ex2["f"] is not ex["f"]
    assert ex2["f"](store) == 7


def _live(cls):
    return sum(1 for o in gc.get_objects() if type(o) is cls)


def test_lookup_wraps_only_what_is_asked(store):
    """A lookup makes one wrapper; len, `in`, iteration and keys make none."""
    data, names = many_exports(1000)
    inst = Instance(store, Module(store.engine, data), [])
    gc.collect()
    before = _live(Func)
    ex = inst.exports(store)
    assert _live(Func) == before
    f = ex["f"]
    assert _live(Func) == before + 1
    assert len(ex) == 1000
    assert list(ex) == names
    assert list(ex.keys()) == names
    assert "e999" in ex and "e1000" not in ex
    assert ex.get("nope") is None
    assert _live(Func) == before + 1
    assert ex.get("e7") is ex["e7"]
    assert _live(Func) == before + 2
    by_index = ex.by_index
    assert _live(Func) == before + 1000
    assert by_index[0] is f
    assert by_index[7] is ex["e7"]


def test_lookups_before_by_index_keep_identity(exports):
    """Objects looked up one by one are the ones by_index, values() and
    items() give later, in module order."""
    f2, g = exports["f2"], exports["g"]
    values = list(exports.values())
    assert values[4] is f2 and values[2] is g
    by_index = exports.by_index
    assert by_index[4] is f2 and by_index[2] is g
    assert [v for v in by_index] == values
    assert [k for k, _ in exports.items()] == NAMES
    for (k, v), w in zip(exports.items(), by_index):
        assert v is w is exports[k]
    assert list(exports) == NAMES
    assert exports.by_index is by_index


def test_len_iter_before_any_lookup(exports):
    assert list(exports) == NAMES
    assert len(exports) == 5
    assert list(exports.keys()) == NAMES
    assert exports.keys() == set(NAMES)


def test_missing_names(exports):
    for key in ["nope", "", "F", "f ", "f\x00", "\ud800", "m\udcff"]:
        with pytest.raises(KeyError):
            exports[key]
        assert exports.get(key) is None
        assert key not in exports
    # the same once the names are known
    list(exports)
    with pytest.raises(KeyError):
        exports["nope"]
    with pytest.raises(KeyError) as info:
        exports["also missing"]
    assert info.value.args == ("also missing",)


def test_str_subclass_key(store, exports):
    """A str subclass finds the export; its dunders do not run during the
    lookup (they could close the store)."""
    calls = []

    class Name(str):
        def __hash__(self):
            calls.append("hash")
            store.close()
            return str.__hash__(self)

        def __eq__(self, other):
            calls.append("eq")
            store.close()
            return str.__eq__(self, other)

    f = exports[Name("f")]
    assert calls == []
    assert f is exports["f"]
    assert exports.get(Name("m")) is exports["m"]
    assert f(store) == 1


def test_exports_obtained_through_a_caller(store):
    wat = """
    (module
      (import "" "host" (func $host))
      (global (export "g") i32 (i32.const 42))
      (func (export "run") call $host))
    """
    seen = []
    holder = []

    def host(caller):
        ex = holder[0].exports(caller)
        seen.append(ex)
        seen.append(ex["g"])
        seen.append(ex["g"].value(caller))

    func = Func(store, FuncType([], []), host, access_caller=True)
    inst = Instance(store, Module(store.engine, wat), [func])
    holder.append(inst)
    inst.exports(store)["run"](store)
    ex, g, value = seen
    assert value == 42
    assert inst.exports(store) is ex
    assert ex["g"] is g
    assert g.value(store) == 42


def test_exports_through_a_caller_of_another_store(engine):
    other = Store(engine)
    inst = Instance(other, Module(engine, EXPORTS_WAT), [])
    store = Store(engine)
    errors = []

    def host(caller):
        try:
            inst.exports(caller)
        except WasmtimeError as e:
            errors.append(e)

    func = Func(store, FuncType([], []), host, access_caller=True)
    call = Instance(
        store,
        Module(engine, '(module (import "" "" (func $h)) (func (export "run") call $h))'),
        [func],
    )
    call.exports(store)["run"](store)
    assert len(errors) == 1 and "wrong store" in str(errors[0])


def test_lazy_lookups_in_a_closed_store(engine):
    """Wrappers made before close are kept; names come from the Module; a
    lookup that would need the store raises ValueError."""
    store = Store(engine)
    ex = Instance(store, Module(engine, EXPORTS_WAT), []).exports(store)
    f = ex["f"]
    store.close()
    assert ex["f"] is f
    assert len(ex) == 5
    assert list(ex) == NAMES
    assert "m" in ex
    with pytest.raises(ValueError):
        ex["m"]
    with pytest.raises(ValueError):
        ex.get("m")
    with pytest.raises(ValueError):
        ex.by_index
    with pytest.raises(ValueError):
        ex.values()
    # the names are known: a missing one is a KeyError, store or not
    with pytest.raises(KeyError):
        ex["nope"]
    with pytest.raises(ValueError):
        f(store)


def test_exports_outlive_the_instance(store):
    ex = Instance(store, Module(store.engine, EXPORTS_WAT), []).exports(store)
    gc.collect()
    assert ex["f"](store) == 1
    assert len(ex.by_index) == 5


def test_module_closed_after_instantiation(engine):
    """Instances list the exports of a Module closed since, whichever way
    they were made and whether or not the names had been read before."""
    store = Store(engine)
    module = Module(engine, EXPORTS_WAT)
    ex = Instance(store, module, []).exports(store)
    module.close()
    with pytest.raises(ValueError):
        module.exports
    assert list(ex) == NAMES
    assert ex["f2"](store) == 3

    linker = wasmtime.Linker(engine)
    module = Module(engine, EXPORTS_WAT)
    inst = linker.instantiate(store, module)
    module.close()
    assert list(inst.exports(store)) == NAMES

    module = Module(engine, EXPORTS_WAT)
    pre = linker.instantiate_pre(module)
    module.close()
    ex = pre.instantiate(store).exports(store)
    assert list(ex) == NAMES
    assert ex["f"](store) == 1
    assert [e.name for e in pre.module.exports] == NAMES


def test_linker_paths_know_the_names(store):
    module = Module(store.engine, EXPORTS_WAT)
    linker = wasmtime.Linker(store.engine)
    for inst in [
        linker.instantiate(store, module),
        linker.instantiate_pre(module).instantiate(store),
        Instance(store, module, []),
    ]:
        ex = inst.exports(store)
        assert list(ex) == NAMES
        assert ex["f2"](store) == 3
        assert [type(v) for v in ex.by_index] == [Func, Memory, Global, Table, Func]


def test_instances_share_names_not_wrappers(store):
    module = Module(store.engine, EXPORTS_WAT)
    a = Instance(store, module, []).exports(store)
    b = Instance(store, module, []).exports(store)
    assert list(a) == list(b) == NAMES
    assert a["f"] is not b["f"]
    assert a.by_index[0] is a["f"] and b.by_index[0] is b["f"]


def test_exports_repr(exports):
    text = repr(exports)
    assert text.startswith("InstanceExports(")
    for name in NAMES:
        assert repr(name) in text


def _per_request_growth(engine, module, keep):
    kept = []

    def request():
        s = Store(engine)
        ex = Instance(s, module, []).exports(s)
        assert ex["f"](s) == 1
        assert ex.by_index[4] is ex["f2"]
        if keep:
            kept.append(ex)

    for _ in range(200):
        request()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for _ in range(3000):
            request()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    return sum(s.size_diff for s in after.compare_to(before, "filename"))


def test_per_request_exports_do_not_leak(engine):
    module = Module(engine, EXPORTS_WAT)
    growth = _per_request_growth(engine, module, keep=False)
    assert growth < 128 * 1024, growth
    # Control: keeping each request's exports breaks the bound.
    assert _per_request_growth(engine, module, keep=True) > 128 * 1024
