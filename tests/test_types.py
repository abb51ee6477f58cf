"""Core types: ValType, FuncType, GlobalType, TableType, MemoryType, Limits,
TagType, ImportType and ExportType."""

import pytest

from wasmtime import (
    Engine,
    ExportType,
    FuncType,
    GlobalType,
    ImportType,
    Limits,
    Managed,
    MemoryType,
    Module,
    TableType,
    TagType,
    ValType,
    WasmtimeError,
)

VALTYPE_NAMES = ["i32", "i64", "f32", "f64", "externref", "funcref"]


def make(name):
    return getattr(ValType, name)()


# ---- ValType ----------------------------------------------------------------


@pytest.mark.parametrize("name", VALTYPE_NAMES)
def test_valtype_constructors(name):
    ty = make(name)
    assert isinstance(ty, ValType)
    assert isinstance(ty, Managed)


def test_valtype_v128():
    assert str(ValType.v128()) == "v128"
    assert ValType.v128() == ValType.v128()
    assert ValType.v128() != ValType.i64()


def test_valtype_cannot_be_constructed_directly():
    with pytest.raises(WasmtimeError):
        ValType()


@pytest.mark.parametrize("name", VALTYPE_NAMES)
def test_valtype_str_and_repr(name):
    ty = make(name)
    assert str(ty) == name
    assert repr(ty) == name


@pytest.mark.parametrize("a", VALTYPE_NAMES)
@pytest.mark.parametrize("b", VALTYPE_NAMES)
def test_valtype_equality(a, b):
    x, y = make(a), make(b)
    assert (x == y) is (a == b)
    assert (x != y) is (a != b)


@pytest.mark.parametrize("name", VALTYPE_NAMES)
@pytest.mark.parametrize("other", [None, 0, "i32", "funcref", object()])
def test_valtype_not_equal_to_other_types(name, other):
    ty = make(name)
    assert (ty == other) is False
    assert (ty != other) is True
    assert (other == ty) is False


@pytest.mark.parametrize("name", VALTYPE_NAMES)
def test_valtype_is_unhashable(name):
    with pytest.raises(TypeError):
        hash(make(name))
    with pytest.raises(TypeError):
        {make(name)}


def test_valtype_ordering_is_unsupported():
    with pytest.raises(TypeError):
        ValType.i32() < ValType.i64()


def test_valtype_close():
    ty = ValType.i32()
    assert ty.close() is None
    with pytest.raises(ValueError):
        str(ty)
    with pytest.raises(ValueError):
        repr(ty)
    ty.close()


def test_valtype_context_manager():
    with ValType.f64() as ty:
        assert str(ty) == "f64"
    with pytest.raises(ValueError):
        str(ty)


def test_closed_valtype_is_rejected_by_constructors():
    ty = ValType.i32()
    ty.close()
    with pytest.raises(ValueError):
        FuncType([ty], [])
    with pytest.raises(ValueError):
        GlobalType(ty, False)
    with pytest.raises(ValueError):
        TableType(ty, Limits(0, None))


def test_valtype_constructor_methods_take_no_arguments():
    with pytest.raises(TypeError):
        ValType.i32(1)


# ---- FuncType ---------------------------------------------------------------


def test_functype_params_results():
    ty = FuncType([ValType.i32(), ValType.externref()], [ValType.f64()])
    assert isinstance(ty, Managed)
    params = ty.params
    assert isinstance(params, list)
    assert params == [ValType.i32(), ValType.externref()]
    assert [str(p) for p in params] == ["i32", "externref"]
    assert ty.results == [ValType.f64()]


def test_functype_empty():
    ty = FuncType([], [])
    assert ty.params == []
    assert ty.results == []


def test_functype_all_kinds():
    kinds = [make(n) for n in VALTYPE_NAMES]
    ty = FuncType(kinds, list(reversed(kinds)))
    assert [str(p) for p in ty.params] == VALTYPE_NAMES
    assert [str(r) for r in ty.results] == list(reversed(VALTYPE_NAMES))


def test_functype_accepts_any_iterable():
    ty = FuncType((ValType.i32(), ValType.i64()), (v for v in [ValType.f32()]))
    assert ty.params == [ValType.i32(), ValType.i64()]
    assert ty.results == [ValType.f32()]


def test_functype_copies_valtypes():
    param = ValType.i64()
    ty = FuncType([param], [param])
    # Still usable: not consumed.
    assert str(param) == "i64"
    param.close()
    assert ty.params == [ValType.i64()]


def test_functype_getters_return_fresh_lists():
    ty = FuncType([ValType.i32()], [])
    params = ty.params
    params.append(ValType.i64())
    assert ty.params == [ValType.i32()]


@pytest.mark.parametrize("bad", [1, None, "i32", FuncType([], [])])
def test_functype_rejects_bad_param(bad):
    with pytest.raises(TypeError):
        FuncType([ValType.i32(), bad], [])


@pytest.mark.parametrize("bad", [1, None, "i32"])
def test_functype_rejects_bad_result(bad):
    with pytest.raises(TypeError):
        FuncType([], [bad])


@pytest.mark.parametrize("bad", [1, None, ValType.i32()])
def test_functype_rejects_non_iterables(bad):
    with pytest.raises(TypeError):
        FuncType(bad, [])
    with pytest.raises(TypeError):
        FuncType([], bad)


def test_functype_argument_errors():
    with pytest.raises(TypeError):
        FuncType()
    with pytest.raises(TypeError):
        FuncType([])


def test_functype_close():
    ty = FuncType([ValType.i32()], [])
    ty.close()
    with pytest.raises(ValueError):
        ty.params
    with pytest.raises(ValueError):
        ty.results
    ty.close()


def test_functype_has_identity_equality():
    a = FuncType([ValType.i32()], [])
    b = FuncType([ValType.i32()], [])
    assert a == a
    assert a != b


# ---- GlobalType -------------------------------------------------------------


@pytest.mark.parametrize("name", VALTYPE_NAMES)
def test_globaltype(name):
    ty = GlobalType(make(name), True)
    assert isinstance(ty, Managed)
    assert ty.content == make(name)
    assert ty.mutable is True
    const = GlobalType(make(name), False)
    assert const.mutable is False


@pytest.mark.parametrize(
    "value,expected", [(1, True), (0, False), ("x", True), ("", False), (None, False)]
)
def test_globaltype_mutable_uses_truthiness(value, expected):
    assert GlobalType(ValType.i32(), value).mutable is expected


def test_globaltype_rejects_non_valtype():
    with pytest.raises(TypeError):
        GlobalType("i32", True)
    with pytest.raises(TypeError):
        GlobalType(None, True)


def test_globaltype_close():
    ty = GlobalType(ValType.i32(), False)
    ty.close()
    with pytest.raises(ValueError):
        ty.content
    with pytest.raises(ValueError):
        ty.mutable


# ---- Limits -------------------------------------------------------------------


def test_limits_attributes():
    lim = Limits(1, 2)
    assert lim.min == 1
    assert lim.max == 2
    assert Limits(3, None).max is None
    assert Limits(min=4, max=5) == Limits(4, 5)


def test_limits_writable():
    lim = Limits(1, 2)
    lim.min = 10
    lim.max = None
    assert lim.min == 10
    assert lim.max is None
    assert lim == Limits(10, None)


def test_limits_equality():
    assert Limits(1, 2) == Limits(1, 2)
    assert Limits(1, None) == Limits(1, None)
    assert Limits(1, 2) != Limits(1, 3)
    assert Limits(1, 2) != Limits(0, 2)
    assert Limits(1, None) != Limits(1, 0)
    assert not (Limits(1, 2) != Limits(1, 2))


def test_limits_not_equal_to_other_types():
    assert Limits(1, 2) != (1, 2)
    assert not (Limits(1, 2) == (1, 2))
    assert Limits(1, None) != None  # noqa: E711


def test_limits_unhashable():
    with pytest.raises(TypeError):
        hash(Limits(1, 2))


def test_limits_repr():
    assert repr(Limits(1, None)) == "Limits(1, None)"
    assert repr(Limits(0, 65536)) == "Limits(0, 65536)"


def test_limits_argument_errors():
    with pytest.raises(TypeError):
        Limits()
    with pytest.raises(TypeError):
        Limits(1)
    with pytest.raises(TypeError):
        Limits(1, 2, 3)


def test_limits_is_not_managed():
    assert not issubclass(Limits, Managed)


# ---- TableType ----------------------------------------------------------------


def test_tabletype():
    ty = TableType(ValType.funcref(), Limits(1, 10))
    assert isinstance(ty, Managed)
    assert ty.element == ValType.funcref()
    assert ty.limits == Limits(1, 10)


def test_tabletype_without_max():
    ty = TableType(ValType.externref(), Limits(0, None))
    assert ty.element == ValType.externref()
    assert ty.limits == Limits(0, None)
    assert ty.limits.max is None


def test_tabletype_max_u32_reads_back_as_none():
    ty = TableType(ValType.funcref(), Limits(0, 0xFFFFFFFF))
    assert ty.limits.max is None


def test_tabletype_largest_min():
    ty = TableType(ValType.funcref(), Limits(0xFFFFFFFF, None))
    assert ty.limits.min == 0xFFFFFFFF


@pytest.mark.parametrize("bad", [(1, None), None, 1, MemoryType(Limits(1, None))])
def test_tabletype_rejects_non_limits(bad):
    with pytest.raises(TypeError):
        TableType(ValType.funcref(), bad)


def test_tabletype_rejects_non_valtype():
    with pytest.raises(TypeError):
        TableType("funcref", Limits(1, None))


@pytest.mark.parametrize("limits", [Limits(2**32, None), Limits(0, 2**32), Limits(2**64, None)])
def test_tabletype_limits_too_large(limits):
    with pytest.raises(WasmtimeError):
        TableType(ValType.funcref(), limits)


@pytest.mark.parametrize("limits", [Limits(-1, None), Limits(0, -1)])
def test_tabletype_negative_limits(limits):
    with pytest.raises(WasmtimeError):
        TableType(ValType.funcref(), limits)


@pytest.mark.parametrize("limits", [Limits("1", None), Limits(1, "2"), Limits(1.0, None)])
def test_tabletype_limits_of_wrong_type(limits):
    with pytest.raises(TypeError):
        TableType(ValType.funcref(), limits)


def test_tabletype_copies_limits():
    lim = Limits(1, 2)
    ty = TableType(ValType.funcref(), lim)
    lim.min = 5
    assert ty.limits == Limits(1, 2)
    got = ty.limits
    got.max = None
    assert ty.limits == Limits(1, 2)


def test_tabletype_close():
    ty = TableType(ValType.funcref(), Limits(1, None))
    ty.close()
    with pytest.raises(ValueError):
        ty.element
    with pytest.raises(ValueError):
        ty.limits


# ---- MemoryType ---------------------------------------------------------------


def test_memorytype_defaults():
    ty = MemoryType(Limits(1, None))
    assert isinstance(ty, Managed)
    assert ty.limits == Limits(1, None)
    assert ty.is_64 is False
    assert ty.is_shared is False
    assert ty.page_size == 65536
    assert ty.page_size_log2 == 16


def test_memorytype_with_max():
    ty = MemoryType(Limits(2, 100))
    assert ty.limits == Limits(2, 100)


def test_memorytype_largest_32bit():
    ty = MemoryType(Limits(0, 65536))
    assert ty.limits.max == 65536


@pytest.mark.parametrize("limits", [Limits(2**32, None), Limits(0, 2**32), Limits(2**64, None)])
def test_memorytype_32bit_limits_too_large(limits):
    with pytest.raises(WasmtimeError):
        MemoryType(limits)


def test_memorytype_64bit_allows_big_limits():
    ty = MemoryType(Limits(2**32, 2**40), is_64=True)
    assert ty.is_64 is True
    assert ty.limits == Limits(2**32, 2**40)


def test_memorytype_64bit_rejects_beyond_u64():
    with pytest.raises(WasmtimeError):
        MemoryType(Limits(2**64, None), is_64=True)


def test_memorytype_negative_limits():
    with pytest.raises(WasmtimeError):
        MemoryType(Limits(-1, None))


def test_memorytype_shared():
    ty = MemoryType(Limits(1, 2), shared=True)
    assert ty.is_shared is True
    assert ty.limits == Limits(1, 2)


def test_memorytype_shared_needs_max():
    with pytest.raises(WasmtimeError) as info:
        MemoryType(Limits(1, None), shared=True)
    assert "maximum" in str(info.value)


def test_memorytype_custom_page_size():
    ty = MemoryType(Limits(1, 10), page_size_log2=0)
    assert ty.page_size == 1
    assert ty.page_size_log2 == 0
    assert ty.limits == Limits(1, 10)


def test_memorytype_positional_arguments():
    ty = MemoryType(Limits(1, 4), True, True, 16)
    assert ty.is_64 is True
    assert ty.is_shared is True
    assert ty.page_size_log2 == 16


@pytest.mark.parametrize("bad", [3, 15, 17, -1, 256])
def test_memorytype_invalid_page_size(bad):
    with pytest.raises(WasmtimeError):
        MemoryType(Limits(1, None), page_size_log2=bad)


def test_memorytype_page_size_of_wrong_type():
    with pytest.raises(TypeError):
        MemoryType(Limits(1, None), page_size_log2="16")


@pytest.mark.parametrize("bad", [None, (1, None), 1])
def test_memorytype_rejects_non_limits(bad):
    with pytest.raises(TypeError):
        MemoryType(bad)


def test_memorytype_close():
    ty = MemoryType(Limits(1, None))
    ty.close()
    for attr in ["limits", "is_64", "is_shared", "page_size", "page_size_log2"]:
        with pytest.raises(ValueError):
            getattr(ty, attr)


# ---- TagType --------------------------------------------------------------------


def test_tagtype_consumes_functype():
    functype = FuncType([ValType.i32(), ValType.f64()], [])
    tag = TagType(functype)
    assert isinstance(tag, Managed)
    with pytest.raises(ValueError):
        functype.params
    with pytest.raises(ValueError):
        TagType(functype)
    inner = tag.functype
    assert isinstance(inner, FuncType)
    assert inner.params == [ValType.i32(), ValType.f64()]
    assert inner.results == []


def test_tagtype_functype_is_a_copy():
    tag = TagType(FuncType([ValType.i64()], []))
    first = tag.functype
    first.close()
    assert tag.functype.params == [ValType.i64()]


@pytest.mark.parametrize("bad", ["x", None, ValType.i32(), GlobalType(ValType.i32(), False)])
def test_tagtype_rejects_non_functype(bad):
    with pytest.raises(TypeError):
        TagType(bad)


def test_tagtype_close():
    tag = TagType(FuncType([], []))
    tag.close()
    with pytest.raises(ValueError):
        tag.functype


# ---- ImportType / ExportType ------------------------------------------------------


def test_import_export_types_cannot_be_instantiated():
    with pytest.raises(TypeError):
        ImportType()
    with pytest.raises(TypeError):
        ExportType()


def test_import_export_types_are_managed():
    assert issubclass(ImportType, Managed)
    assert issubclass(ExportType, Managed)


def _module():
    return Module(
        Engine(),
        '(module (import "env" "f" (func (param i32))) (func (export "g") (result i64) i64.const 0))',
    )


def test_importtype_fields():
    [imp] = _module().imports
    assert imp.module == "env"
    assert imp.name == "f"
    assert imp.type.params == [ValType.i32()]


def test_exporttype_fields():
    [exp] = _module().exports
    assert exp.name == "g"
    assert exp.type.results == [ValType.i64()]


def test_importtype_close():
    [imp] = _module().imports
    imp.close()
    for attr in ["module", "name", "type"]:
        with pytest.raises(ValueError):
            getattr(imp, attr)
    imp.close()


def test_exporttype_close():
    [exp] = _module().exports
    with exp as entered:
        assert entered is exp
    for attr in ["name", "type"]:
        with pytest.raises(ValueError):
            getattr(exp, attr)


def test_import_export_repr():
    module = _module()
    assert "env" in repr(module.imports[0])
    assert "g" in repr(module.exports[0])


# ---- Managed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls", [ValType, FuncType, GlobalType, TableType, MemoryType, TagType, ImportType, ExportType]
)
def test_types_derive_from_managed(cls):
    assert issubclass(cls, Managed)


@pytest.mark.parametrize(
    "factory",
    [
        lambda: FuncType([], []),
        lambda: GlobalType(ValType.i32(), True),
        lambda: TableType(ValType.funcref(), Limits(0, None)),
        lambda: MemoryType(Limits(0, None)),
        lambda: TagType(FuncType([], [])),
        lambda: ValType.i32(),
    ],
)
def test_type_context_manager(factory):
    obj = factory()
    with obj as entered:
        assert entered is obj
    # Closed afterwards: every type has some attribute that now fails.
    with pytest.raises(ValueError):
        if isinstance(obj, ValType):
            str(obj)
        elif isinstance(obj, FuncType):
            obj.params
        elif isinstance(obj, GlobalType):
            obj.content
        elif isinstance(obj, TableType):
            obj.element
        elif isinstance(obj, MemoryType):
            obj.limits
        else:
            obj.functype
