"""wasmtime.Val: constructors, wrapping and rounding, accessors, equality."""

import ctypes
import math
import struct

import pytest

from wasmtime import Managed, Val, ValType, WasmtimeError

# wasmtime_valkind_t values (wasmtime/val.h).
KIND_I32, KIND_I64, KIND_F32, KIND_F64 = 0, 1, 2, 3
KIND_FUNCREF, KIND_EXTERNREF = 5, 6


def as_f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


# ---- integers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        (0, 0),
        (1, 1),
        (-1, -1),
        (2**31 - 1, 2**31 - 1),
        (2**31, -(2**31)),
        (0xFFFFFFFF, -1),
        (2**32, 0),
        (2**35, 0),
        (2**35 + 5, 5),
        (2**67, 0),
        (2**67 + 3, 3),
        (-(2**31), -(2**31)),
        (-(2**31) - 1, 2**31 - 1),
        (-(2**40) - 7, -7),
        (-(2**100) + 9, 9),
    ],
)
def test_i32_wraps(value, expected):
    v = Val.i32(value)
    assert v.value == expected
    assert type(v.value) is int


@pytest.mark.parametrize(
    "value,expected",
    [
        (0, 0),
        (-1, -1),
        (2**63 - 1, 2**63 - 1),
        (2**63, -(2**63)),
        (0xFFFFFFFFFFFFFFFF, -1),
        (2**64, 0),
        (2**67, 0),
        (2**67 + 11, 11),
        (-(2**63) - 1, 2**63 - 1),
        (-(2**70) - 5, -5),
        (0xFFFFFFFF, 0xFFFFFFFF),
    ],
)
def test_i64_wraps(value, expected):
    v = Val.i64(value)
    assert v.value == expected
    assert type(v.value) is int


def test_bool_is_an_integer():
    assert Val.i32(True).value == 1
    assert Val.i32(False).value == 0
    assert Val.i64(True).value == 1
    assert type(Val.i32(True).value) is int


@pytest.mark.parametrize("bad", ["1", 1.0, None, b"1", [1], 1j])
def test_ints_reject_non_ints(bad):
    with pytest.raises(TypeError):
        Val.i32(bad)
    with pytest.raises(TypeError):
        Val.i64(bad)


def test_int_subclass_is_accepted():
    class MyInt(int):
        pass

    assert Val.i32(MyInt(2**32 + 4)).value == 4


# ---- floats -----------------------------------------------------------------


def test_f32_rounds_to_single_precision():
    assert Val.f32(0.1).value == as_f32(0.1)
    assert Val.f32(0.1).value != 0.1
    assert Val.f32(1.5).value == 1.5


def test_f32_overflow_to_infinity():
    assert Val.f32(1e300).value == math.inf
    assert Val.f32(-1e300).value == -math.inf
    assert Val.f32(math.inf).value == math.inf


def test_f32_tiny_to_zero():
    assert Val.f32(1e-300).value == 0.0


def test_f32_nan():
    assert math.isnan(Val.f32(math.nan).value)


def test_f64_keeps_double_precision():
    assert Val.f64(0.1).value == 0.1
    assert Val.f64(1e300).value == 1e300
    assert math.isnan(Val.f64(math.nan).value)
    assert Val.f64(-0.0).value == 0.0
    assert math.copysign(1.0, Val.f64(-0.0).value) == -1.0


@pytest.mark.parametrize("bad", [1, 0, True, "1.0", None, b"1"])
def test_floats_reject_non_floats(bad):
    with pytest.raises(TypeError):
        Val.f32(bad)
    with pytest.raises(TypeError):
        Val.f64(bad)


def test_float_values_are_floats():
    assert type(Val.f32(2.0).value) is float
    assert type(Val.f64(2.0).value) is float


# ---- references ---------------------------------------------------------------


@pytest.mark.parametrize("payload", [object(), [], 0, "s", None, {"a": 1}])
def test_externref_identity(payload):
    v = Val.externref(payload)
    assert v.value is payload
    assert v.as_externref() is payload
    assert v.type == ValType.externref()


def test_funcref_none():
    v = Val.funcref(None)
    assert v.value is None
    assert v.as_funcref() is None
    assert v.type == ValType.funcref()


def test_funcref_is_not_type_checked():
    marker = object()
    assert Val.funcref(marker).value is marker


def test_ref_null():
    ext = Val.ref_null(ValType.externref())
    assert ext.value is None
    assert ext.type == ValType.externref()
    assert ext == Val.externref(None)
    func = Val.ref_null(ValType.funcref())
    assert func.value is None
    assert func.type == ValType.funcref()
    assert func == Val.funcref(None)
    assert ext != func


@pytest.mark.parametrize("name", ["i32", "i64", "f32", "f64"])
def test_ref_null_of_non_reference_type(name):
    with pytest.raises(WasmtimeError) as info:
        Val.ref_null(getattr(ValType, name)())
    assert name in str(info.value)


@pytest.mark.parametrize("bad", ["externref", None, 6])
def test_ref_null_of_non_valtype(bad):
    with pytest.raises(TypeError):
        Val.ref_null(bad)


def test_ref_null_of_closed_valtype():
    ty = ValType.externref()
    ty.close()
    with pytest.raises(ValueError):
        Val.ref_null(ty)


# ---- accessors ----------------------------------------------------------------

ACCESSORS = ["as_i32", "as_i64", "as_f32", "as_f64", "as_externref", "as_funcref"]

SAMPLES = [
    ("as_i32", Val.i32(7), 7),
    ("as_i64", Val.i64(8), 8),
    ("as_f32", Val.f32(1.5), 1.5),
    ("as_f64", Val.f64(2.5), 2.5),
    ("as_externref", Val.externref("payload"), "payload"),
    ("as_funcref", Val.funcref("func"), "func"),
]


@pytest.mark.parametrize("own,val,expected", SAMPLES)
def test_accessors(own, val, expected):
    for accessor in ACCESSORS:
        got = getattr(val, accessor)()
        if accessor == own:
            assert got == expected
        else:
            assert got is None


@pytest.mark.parametrize(
    "val,name",
    [
        (Val.i32(1), "i32"),
        (Val.i64(1), "i64"),
        (Val.f32(1.0), "f32"),
        (Val.f64(1.0), "f64"),
        (Val.externref(1), "externref"),
        (Val.funcref(None), "funcref"),
    ],
)
def test_type(val, name):
    ty = val.type
    assert isinstance(ty, ValType)
    assert ty == getattr(ValType, name)()
    assert str(ty) == name


def test_value_is_read_only():
    v = Val.i32(1)
    with pytest.raises(AttributeError):
        v.value = 2
    assert v.value == 1


def test_val_is_not_managed():
    assert not isinstance(Val.i32(1), Managed)
    assert not hasattr(Val.i32(1), "close")


# ---- equality ------------------------------------------------------------------


def test_equality_between_vals():
    assert Val.i32(1) == Val.i32(1)
    assert Val.i32(1) != Val.i32(2)
    assert Val.i32(1) != Val.i64(1)
    assert Val.f32(1.0) != Val.f64(1.0)
    assert Val.f64(1.0) == Val.f64(1.0)
    assert not (Val.i32(1) == Val.i64(1))
    assert Val.i32(0xFFFFFFFF) == Val.i32(-1)


def test_equality_with_raw_values():
    assert Val.i32(1) == 1
    assert Val.i32(1) != 2
    assert 1 == Val.i32(1)
    assert Val.f64(1.5) == 1.5
    assert Val.externref(None) == None  # noqa: E711
    assert Val.funcref(None) == None  # noqa: E711
    assert Val.externref("x") == "x"
    assert Val.i32(1) != "1"


def test_unhashable():
    with pytest.raises(TypeError):
        hash(Val.i32(1))
    with pytest.raises(TypeError):
        {Val.externref(None)}


def test_ordering_is_unsupported():
    with pytest.raises(TypeError):
        Val.i32(1) < Val.i32(2)


# ---- raw constructor -------------------------------------------------------------


def test_raw_constructor_with_ints():
    assert Val(KIND_I32, 5) == Val.i32(5)
    assert Val(KIND_I64, 5) == Val.i64(5)
    assert Val(KIND_F32, 1.5) == Val.f32(1.5)
    assert Val(KIND_F64, 2.5) == Val.f64(2.5)
    assert Val(KIND_FUNCREF, None).as_funcref() is None
    payload = object()
    v = Val(KIND_EXTERNREF, payload)
    assert v.as_externref() is payload
    assert v.type == ValType.externref()
    assert Val(KIND_I32, 5).as_i32() == 5
    assert Val(KIND_I32, 5).as_i64() is None


def test_raw_constructor_keywords():
    assert Val(kind=KIND_I64, val=3) == Val.i64(3)


def test_raw_constructor_with_ctypes_kind():
    v = Val(ctypes.c_uint8(KIND_I64), 9)
    assert v.as_i64() == 9
    assert v.type == ValType.i64()


def test_raw_constructor_unknown_kind():
    with pytest.raises(ValueError):
        Val(200, 1)
    with pytest.raises(ValueError):
        Val(-1, 1)


def test_raw_constructor_bad_kind_type():
    with pytest.raises((TypeError, AttributeError)):
        Val("i32", 1)


def test_raw_constructor_argument_errors():
    with pytest.raises(TypeError):
        Val()
    with pytest.raises(TypeError):
        Val(KIND_I32)
