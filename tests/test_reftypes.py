"""ValType for every abstract reference type (anyref, eqref, i31ref,
structref, arrayref, exnref, nullref, ValType.ref(heap, nullable)), and what
they make possible from Python: host functions, globals, tables and struct
fields of those types."""

import pytest

from wasmtime import (
    Config,
    Engine,
    FieldType,
    Func,
    FuncType,
    Global,
    GlobalType,
    Instance,
    Limits,
    Linker,
    Module,
    Store,
    StructRef,
    StructType,
    Table,
    TableType,
    ValType,
    WasmtimeError,
)

V = ValType

WAT = """(module
  (type $p (struct (field i32)))
  (import "" "h" (func $h (param anyref) (result anyref)))
  (func (export "mk") (param i32) (result anyref) (struct.new $p (local.get 0)))
  (func (export "via_host") (param i32) (result anyref)
    (call $h (struct.new $p (local.get 0))))
  (func (export "get") (param anyref) (result i32)
    (struct.get $p 0 (ref.cast (ref $p) (local.get 0))))
  (func (export "same") (param anyref anyref) (result i32)
    (ref.eq (ref.cast eqref (local.get 0)) (ref.cast eqref (local.get 1))))
  (func (export "concrete") (param (ref null $p)) (result i32) (i32.const 1))
  (func (export "kinds") (param eqref i31ref structref arrayref nullref (ref any))))"""


def gc_engine():
    c = Config()
    c.wasm_gc = True
    c.wasm_function_references = True
    c.wasm_exceptions = True
    return Engine(c)


@pytest.fixture
def store():
    return Store(gc_engine())


def test_names():
    got = [
        str(t)
        for t in (
            V.anyref(),
            V.eqref(),
            V.i31ref(),
            V.structref(),
            V.arrayref(),
            V.exnref(),
            V.nullref(),
            V.ref("any", nullable=False),
            V.ref("eq", False),
            V.ref("noextern"),
            V.ref("nofunc"),
            V.ref("noexn"),
            V.ref("exn", nullable=False),
        )
    ]
    assert got == [
        "anyref",
        "eqref",
        "i31ref",
        "structref",
        "arrayref",
        "exnref",
        "nullref",
        "(ref any)",
        "(ref eq)",
        "nullexternref",
        "nullfuncref",
        "nullexnref",
        "(ref exn)",
    ]


def test_equality():
    assert V.ref("extern") == V.externref() and V.ref("func") == V.funcref()
    assert V.ref("any") == V.anyref() and V.anyref() == V.anyref()
    assert V.anyref() != V.eqref()
    assert V.ref("any", nullable=False) != V.anyref()
    assert V.ref("extern", nullable=False) != V.externref()
    assert V.anyref() != V.i32() and V.anyref() != "anyref"


def test_ref_arguments():
    with pytest.raises(ValueError, match="unknown heap type"):
        V.ref("anything")
    with pytest.raises(TypeError):
        V.ref(5)

    class Evil:
        def __bool__(self):
            raise KeyError("no")

    with pytest.raises(KeyError):
        V.ref("any", nullable=Evil())


def test_types_read_from_wasm(store):
    m = Module(store.engine, WAT)
    ex = {e.name: e.type for e in m.exports}
    assert ex["get"].params == [V.anyref()]
    assert ex["kinds"].params == [
        V.eqref(),
        V.i31ref(),
        V.structref(),
        V.arrayref(),
        V.nullref(),
        V.ref("any", nullable=False),
    ]
    # A concrete type is described, equal only to itself, and cannot build
    # types: it belongs to the engine it came from.
    (concrete,) = ex["concrete"].params
    assert str(concrete) == "(ref null concrete)"
    assert concrete == concrete
    assert concrete != ex["concrete"].params[0]
    with pytest.raises(WasmtimeError, match="concrete"):
        FuncType([concrete], [])
    # A function type of abstract references read from wasm defines a host
    # function (engine-free).
    f = Func(store, ex["kinds"], lambda *a: None)
    assert f.type(store).params == ex["kinds"].params


def test_host_function_takes_and_returns_anyref(store):
    seen = []

    def host(x):
        seen.append(x)
        return x

    h = Func(store, FuncType([V.anyref()], [V.anyref()]), host)
    x = Instance(store, Module(store.engine, WAT), [h]).exports(store)
    r = x["via_host"](store, 42)
    assert isinstance(r, StructRef) and isinstance(seen[0], StructRef)
    assert r == seen[0] and x["get"](store, r) == 42
    assert x["same"](store, r, seen[0]) == 1
    # i31 and null cross too, directly from Python
    assert h(store, 7) == 7 and h(store, None) is None
    mine = x["mk"](store, 5)
    assert h(store, mine) == mine


def test_linker_define_func_with_anyref(store):
    linker = Linker(store.engine)
    linker.define_func("", "h", FuncType([V.anyref()], [V.anyref()]), lambda x: x)
    x = linker.instantiate(store, Module(store.engine, WAT)).exports(store)
    assert x["get"](store, x["via_host"](store, 9)) == 9


def test_non_null_types_are_checked(store):
    f = Func(store, FuncType([V.ref("any", nullable=False)], []), lambda x: None)
    with pytest.raises(WasmtimeError, match="type mismatch"):
        f(store, None)
    g = Func(store, FuncType([], [V.ref("struct", nullable=False)]), lambda: None)
    with pytest.raises(WasmtimeError, match="incompatible"):
        g(store)
    ok = Func(store, FuncType([V.i31ref()], [V.i31ref()]), lambda x: x)
    assert ok(store, 3) == 3  # the Store is still usable


def test_wrong_values(store):
    f = Func(store, FuncType([V.eqref()], []), lambda x: None)
    with pytest.raises(TypeError):
        f(store, "x")
    other = Store(store.engine)
    x = Instance(
        other,
        Module(store.engine, WAT),
        [Func(other, FuncType([V.anyref()], [V.anyref()]), lambda x: x)],
    )
    foreign = x.exports(other)["mk"](other, 1)
    with pytest.raises(WasmtimeError):
        f(store, foreign)
    store.close()
    with pytest.raises(ValueError):
        f(store, None)


def test_exnref_host_function(store):
    f = Func(store, FuncType([V.exnref()], [V.exnref()]), lambda x: x)
    assert f(store, None) is None


def test_globals_and_tables_of_anyref(store):
    x = Instance(
        store,
        Module(store.engine, WAT),
        [Func(store, FuncType([V.anyref()], [V.anyref()]), lambda v: v)],
    ).exports(store)
    s1 = x["mk"](store, 11)
    g = Global(store, GlobalType(V.anyref(), True), None)
    assert g.value(store) is None and g.type(store).content == V.anyref()
    g.set_value(store, s1)
    assert g.value(store) == s1
    g.set_value(store, 12)
    assert g.value(store) == 12
    t = Table(store, TableType(V.anyref(), Limits(2, None)), None)
    t.set(store, 1, s1)
    assert t.get(store, 0) is None and t.get(store, 1) == s1
    assert t.type(store).element == V.anyref()


def test_struct_fields_of_reference_types(store):
    x = Instance(
        store,
        Module(store.engine, WAT),
        [Func(store, FuncType([V.anyref()], [V.anyref()]), lambda v: v)],
    ).exports(store)
    inner = x["mk"](store, 3)
    ty = StructType(store.engine, [FieldType(V.anyref(), True), FieldType(V.eqref(), False)])
    assert ty.fields == [FieldType(V.anyref(), True), FieldType(V.eqref(), False)]
    s = StructRef.new(store, ty, [inner, 5])
    assert s.field(store, 0) == inner and s.field(store, 1) == 5


def test_closed_valtype_is_refused():
    t = V.anyref()
    t.close()
    with pytest.raises(ValueError):
        FuncType([t], [])
    with pytest.raises(ValueError):
        GlobalType(t, False)
