"""Component, ExportIndex and the component type classes."""

import pytest

from wasmtime import Engine, ExportType, ImportType, WasmtimeError
from wasmtime.component import (
    F32,
    U8,
    U32,
    Bool,
    BorrowType,
    Char,
    Component,
    ComponentExtern,
    ComponentInstanceType,
    ComponentType,
    EnumType,
    ExportIndex,
    FlagsType,
    FuncType,
    FutureType,
    ListType,
    ModuleType,
    OptionType,
    OwnType,
    RecordType,
    ResourceType,
    ResultType,
    String,
    TupleType,
    ValType,
    VariantType,
    _types,
)


def test_inputs(engine, tmp_path):
    Component(engine, "(component)")
    Component(engine, b"(component)")
    binary = b"\0asm\x0d\0\x01\0"
    Component(engine, bytearray(binary))
    Component(engine, memoryview(binary))
    for bad in ("(component2)", b"", b"\0", b"\0asm\x01\0\0\0"):
        with pytest.raises(WasmtimeError):
            Component(engine, bad)
    with pytest.raises(TypeError, match="expected an Engine"):
        Component(1, b"")
    with pytest.raises(TypeError):
        Component(engine, 2)
    path = tmp_path / "c.wat"
    path.write_text("(component)")
    assert isinstance(Component.from_file(engine, path), Component)
    assert isinstance(Component.from_file(engine, str(path)), Component)


def test_serialize_round_trip(engine, tmp_path):
    c = Component(engine, '(component (core module (export "m")))')
    data = c.serialize()
    assert isinstance(data, bytearray)
    c2 = Component.deserialize(engine, bytes(data))
    assert c2.get_export_index("m") is not None
    path = tmp_path / "c.bin"
    path.write_bytes(data)
    with Component.deserialize_file(engine, path) as c3:
        assert c3.get_export_index("m") is not None
    with pytest.raises(TypeError):
        Component.deserialize(engine, "text")
    with pytest.raises(WasmtimeError):
        Component.deserialize(engine, b"garbage")


def test_close(engine):
    c = Component(engine, "(component)")
    c.close()
    c.close()
    for use in (c.serialize, lambda: c.type, lambda: c.get_export_index("x")):
        with pytest.raises(ValueError):
            use()


def test_export_indexes(engine):
    c = Component(
        engine,
        """(component (core module $a)
             (instance (export "x") (export "m" (core module $a))))""",
    )
    x = c.get_export_index("x")
    assert isinstance(x, ExportIndex)
    assert c.get_export_index("m", instance=x) is not None
    assert c.get_export_index("m") is None
    assert c.get_export_index("nope") is None
    with pytest.raises(TypeError):
        c.get_export_index("m", instance="x")
    other = Component(engine, "(component)")
    assert other.get_export_index("m", instance=x) is None
    x.close()
    with pytest.raises(ValueError):
        c.get_export_index("m", instance=x)


def imports(engine, wat):
    return Component(engine, wat).type.imports(engine)


def test_component_type(engine):
    ty = Component(
        engine, '(component (import "a" (core module $a)) (export "g" (core module $a)))'
    ).type
    assert isinstance(ty, ComponentType)
    ((name, ext),) = ty.imports(engine).items()
    assert name == "a" and isinstance(ext, ComponentExtern)
    assert isinstance(ext.ty, ModuleType)
    assert ext.implements is None and ext.external_id is None
    assert list(ty.exports(engine)) == ["g"]
    with pytest.raises(TypeError):
        ty.imports("engine")
    ty.close()
    with pytest.raises(ValueError):
        ty.imports(engine)


def test_module_type(engine):
    mty = imports(
        engine,
        """(component (import "a" (core module
             (import "b" "c" (func)) (export "d" (global i32)))))""",
    )["a"].ty
    (imp,) = mty.imports(engine)
    (exp,) = mty.exports(engine)
    assert isinstance(imp, ImportType) and (imp.module, imp.name) == ("b", "c")
    assert isinstance(exp, ExportType) and exp.name == "d"


def test_instance_and_func_types(engine):
    found = imports(
        engine,
        """(component
             (import "i" (instance (export "f" (func (param "x" u8) (result string)))))
             (import "g" (func)))""",
    )
    ity = found["i"].ty
    assert isinstance(ity, ComponentInstanceType)
    fty = ity.exports(engine)["f"].ty
    assert isinstance(fty, FuncType)
    assert fty.params == [("x", U8())] and fty.result == String()
    g = found["g"].ty
    assert g.params == [] and g.result is None


def functype_result(engine, ty, named=False):
    if named:
        wat = '(component (type $t\' %s) (import "t" (type $t (eq $t\'))) (import "a" (func (result $t))))'
    else:
        wat = '(component (import "a" (func (result %s))))'
    return imports(engine, wat % ty)["a"].ty.result


def test_primitives(engine):
    assert functype_result(engine, "bool") == Bool()
    assert functype_result(engine, "char") == Char()
    assert U32() == U32() and U32() != U8()
    assert repr(U32()) == "U32()"
    with pytest.raises(TypeError):
        hash(U32())
    s = set()
    U32().add_classes(s)
    assert s == {int}


def test_compound_types(engine):
    lst = functype_result(engine, "(list u8)")
    assert isinstance(lst, ListType) and lst.element == U8()
    assert lst == functype_result(engine, "(list u8)") != functype_result(engine, "(list u32)")
    rec = functype_result(engine, '(record (field "a-b" u8) (field "c" f32))', named=True)
    assert isinstance(rec, RecordType) and rec.fields == [("a-b", U8()), ("c", F32())]
    tup = functype_result(engine, "(tuple u8 f32)", named=True)
    assert isinstance(tup, TupleType) and tup.elements == [U8(), F32()]
    var = functype_result(engine, '(variant (case "a") (case "b" f32))', named=True)
    assert isinstance(var, VariantType) and var.cases == [("a", None), ("b", F32())]
    en = functype_result(engine, '(enum "x" "y")', named=True)
    assert isinstance(en, EnumType) and en.names == ["x", "y"]
    assert en.names_count == 2 and en.name(1) == "y" and en.name(5) is None
    opt = functype_result(engine, "(option u32)")
    assert isinstance(opt, OptionType) and opt.payload == U32()
    res = functype_result(engine, "(result (error f32))")
    assert isinstance(res, ResultType) and res.ok is None and res.err == F32()
    fl = functype_result(engine, '(flags "p" "q")', named=True)
    assert isinstance(fl, FlagsType) and fl.names == ["p", "q"]
    fut = functype_result(engine, "(future u32)")
    assert isinstance(fut, FutureType) and fut.payload == U32()
    for t in (lst, rec, tup, var, en, opt, res, fl, fut):
        assert isinstance(t, ValType)
        t.close()


def test_add_classes_and_tagging(engine):
    s = set()
    functype_result(engine, "(option u32)").add_classes(s)
    assert s == {object, int}
    s = set()
    functype_result(engine, "(option (option u32))").add_classes(s)
    assert s == {_types.Variant}
    for cls in (VariantType, OptionType, ResultType):
        assert cls.add_classes == _types.VariantLikeType.add_classes


def test_resources_and_handles(engine):
    found = imports(
        engine,
        """(component (import "r" (type $r (sub resource)))
             (import "a" (func (param "x" (borrow $r)) (result (own $r)))))""",
    )
    r = found["r"].ty
    assert isinstance(r, ResourceType)
    fty = found["a"].ty
    (_, param), result = fty.params[0], fty.result
    assert isinstance(param, BorrowType) and isinstance(result, OwnType)
    assert param.ty == result.ty == r
    assert OwnType(r).ty is r


def test_implements(engine):
    from wasmtime import Config

    cfg = Config()
    cfg.wasm_component_model_implements = True
    e = Engine(cfg)
    found = imports(
        e,
        """(component (import "b" (external-id "hi") (func))
             (import "c" (implements "a:b/c") (instance)))""",
    )
    assert found["b"].external_id == "hi"
    assert found["c"].implements == "a:b/c"
    assert found["c"].is_implements("a:b/c") and not found["c"].is_implements("a:b/d")


def test_component_from_file_refuses_a_file_descriptor():
    # Like Module.from_file: an int would be opened as a descriptor and closed.
    import os

    from wasmtime.component import Component

    with pytest.raises(TypeError):
        Component.from_file(Engine(), 1)
    os.fstat(1)
