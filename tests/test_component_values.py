"""Values crossing between Python and components, both ways and on both sides
(Python -> guest -> Python host function -> guest -> Python), for every WIT
kind we support, plus the refusals: range checks, wrong types, the
tagged/untagged rule of variants, options and results."""

import pytest
from component_wat import echo

from wasmtime import Engine, Store, WasmtimeError
from wasmtime.component import (
    Component,
    Linker,
    Record,
    Variant,
)


class Echo:
    """An instantiated echo component for WIT type `wit`; records what the
    host function saw."""

    def __init__(self, wit, params, result):
        self.engine = Engine()
        self.store = Store(self.engine)
        self.seen = []
        linker = Linker(self.engine)

        def host(_ctx, v):
            self.seen.append(v)
            return v

        with linker.root() as root:
            root.add_func("x", host)
        comp = Component(self.engine, echo(wit, params, result))
        self.func = linker.instantiate(self.store, comp).get_func(self.store, "x")

    def __call__(self, v):
        return self.func(self.store, v)


I32 = (["i32"], "i32")
I64 = (["i64"], "i64")
PAIR = (["i32", "i32"], None)
TRIPLE = (["i32", "i32", "i32"], None)

SCALARS = [
    ("bool", I32, [True, False]),
    ("u8", I32, [0, 1, 255]),
    ("s8", I32, [-128, 0, 127]),
    ("u16", I32, [0, 65535]),
    ("s16", I32, [-32768, 32767]),
    ("u32", I32, [0, 2**32 - 1]),
    ("s32", I32, [-(2**31), 2**31 - 1]),
    ("u64", I64, [0, 2**64 - 1]),
    ("s64", I64, [-(2**63), 2**63 - 1]),
    ("f32", (["f32"], "f32"), [0.0, 1.5, -2.25]),
    ("f64", (["f64"], "f64"), [0.0, 1e300, -0.5]),
    ("char", I32, ["a", "é", "\U0001f600"]),
]


@pytest.mark.parametrize("wit,flat,values", SCALARS, ids=[s[0] for s in SCALARS])
def test_scalars_round_trip(wit, flat, values):
    e = Echo(wit, *flat)
    for v in values:
        assert e(v) == v
        assert type(e(v)) is type(v)
    assert e.seen[0] == values[0]


@pytest.mark.parametrize(
    "wit,bad",
    [("u8", 256), ("u8", -1), ("s8", 128), ("u16", 65536), ("u32", 2**32), ("s32", 2**31)],
)
def test_ints_out_of_range_raise_overflow(wit, bad):
    e = Echo(wit, *I32)
    with pytest.raises(OverflowError):
        e(bad)


def test_index_objects_are_ints():
    np = pytest.importorskip("numpy")
    e = Echo("u8", *I32)
    assert e(np.uint8(7)) == 7
    with pytest.raises(OverflowError):
        e(np.int64(300))
    with pytest.raises(TypeError):
        e(np.float64(1.0))


def test_u64_s64_range():
    e = Echo("u64", *I64)
    with pytest.raises(OverflowError):
        e(2**64)
    with pytest.raises(OverflowError):
        e(-1)
    e = Echo("s64", *I64)
    with pytest.raises(OverflowError):
        e(2**63)


def test_wrong_scalar_types():
    with pytest.raises(TypeError):
        Echo("bool", *I32)(1)
    with pytest.raises(TypeError):
        Echo("u32", *I32)("1")
    with pytest.raises(TypeError):
        Echo("f64", *(["f64"], "f64"))(1)
    with pytest.raises(TypeError):
        Echo("char", *I32)("ab")
    assert Echo("u32", *I32)(True) == 1  # bool is an int, as in wasmtime-py


def test_surrogate_char_is_a_value_error():
    with pytest.raises(ValueError, match="surrogate"):
        Echo("char", *I32)("\ud800")


def test_strings():
    e = Echo("string", *PAIR)
    for v in ["", "a", "héllo wörld", "\U0001f600" * 100, "x" * 70000]:
        assert e(v) == v
    with pytest.raises(UnicodeEncodeError):
        e("\ud800")
    with pytest.raises(TypeError):
        e(b"bytes")


def test_bytes_lists_accept_any_buffer():
    e = Echo("(list u8)", *PAIR)
    data = bytes(range(256)) * 10
    assert e(data) == data
    assert e(bytearray(b"abc")) == b"abc"
    assert e(memoryview(b"xyz")) == b"xyz"
    assert type(e(b"q")) is bytes
    assert e([1, 2, 3]) == b"\x01\x02\x03"  # a list of ints too (an addition)
    with pytest.raises(TypeError):
        e("text")
    with pytest.raises(OverflowError):
        e([256])


def test_lists():
    e = Echo("(list u32)", *PAIR)
    assert e([]) == []
    assert e([1, 2, 3]) == [1, 2, 3]
    with pytest.raises(TypeError):
        e((1, 2))
    with pytest.raises(TypeError):
        e([1, "x"])
    e = Echo("(list string)", *PAIR)
    assert e(["a", "", "ccc"]) == ["a", "", "ccc"]


def test_records():
    e = Echo('(record (field "a" u32) (field "label-text" string))', *TRIPLE)

    class Point:
        a = 7

    p = Point()
    setattr(p, "label-text", "hi")
    r = e(p)
    assert isinstance(r, Record)
    assert r.a == 7 and getattr(r, "label-text") == "hi"
    assert r == p
    assert "label-text" in repr(r)
    with pytest.raises(AttributeError):
        e(object())
    assert e(r) == r  # a Record goes back in too


def test_record_additions():
    from dataclasses import dataclass

    e = Echo('(record (field "a" u32) (field "label-text" string))', *TRIPLE)

    @dataclass
    class Snake:
        a: int
        label_text: str

    r = e(Snake(1, "x"))  # snake_case attribute for a dashed WIT name
    assert getattr(r, "label-text") == "x"
    r = e({"a": 2, "label-text": "y"})  # a dict keyed by WIT names
    assert (r.a, getattr(r, "label-text")) == (2, "y")
    with pytest.raises(AttributeError):
        e({"a": 2})

    @dataclass
    class Missing:
        a: int

    with pytest.raises(AttributeError, match="label-text"):
        e(Missing(1))


def test_tuples():
    e = Echo("(tuple u32 string)", *TRIPLE)
    assert e((1, "a")) == (1, "a")
    with pytest.raises(TypeError):
        e((1,))
    with pytest.raises(TypeError):
        e([1, "a"])


def test_enums_and_flags():
    e = Echo('(enum "red" "green")', *I32)
    assert e("green") == "green"
    with pytest.raises(WasmtimeError):
        e("blue")
    f = Echo('(flags "a" "b" "c")', *I32)
    assert f({"a", "c"}) == {"a", "c"}
    assert f(frozenset()) == set()
    with pytest.raises(TypeError):
        f(["a"])


def test_untagged_option():
    e = Echo("(option u32)", *PAIR)
    assert e(None) is None
    assert e(5) == 5
    with pytest.raises(ValueError, match="not valid for this variant"):
        e("x")


def test_tagged_nested_option():
    e = Echo("(option (option u32))", *TRIPLE)
    assert e(Variant("none")) == Variant("none")
    assert e(Variant("some", None)) == Variant("some", None)
    assert e(Variant("some", 3)) == Variant("some", 3)
    with pytest.raises(TypeError):
        e(3)


def test_results():
    e = Echo("(result u32 (error string))", *TRIPLE)
    assert e(3) == 3
    assert e("bad") == "bad"  # untagged: ok and err look alike, as in wasmtime-py
    e = Echo("(result string (error string))", *TRIPLE)
    assert e(Variant("err", "no")) == Variant("err", "no")
    e = Echo("(result)", *I32)
    assert e(Variant("ok")) == Variant("ok")
    assert e(Variant("err")) == Variant("err")


def test_variants():
    e = Echo('(variant (case "a" u32) (case "b" f32))', *PAIR)
    assert e(1) == 1
    assert e(2.5) == 2.5
    with pytest.raises(ValueError):
        e("x")
    e = Echo('(variant (case "a" bool) (case "b" u32))', *PAIR)
    assert e(True) is True  # bool matches the first case
    e = Echo('(variant (case "a") (case "b" u32))', *PAIR)
    assert e(None) is None and e(4) == 4


def test_variant_and_record_classes():
    v = Variant("a", 1)
    assert v.tag == "a" and v.payload == 1
    assert Variant("a") == Variant("a", None)
    assert Variant("a") != Variant("b")
    with pytest.raises(TypeError):
        hash(v)
    r = Record()
    r.x = 1
    assert repr(Record()) == "Record()"
    with pytest.raises(TypeError):
        hash(r)


def test_host_result_of_wrong_type_reaches_the_caller():
    engine = Engine()
    store = Store(engine)
    linker = Linker(engine)
    with linker.root() as root:
        root.add_func("x", lambda _ctx, v: "not an int")
    f = linker.instantiate(store, Component(engine, echo("u32", ["i32"], "i32"))).get_func(
        store, "x"
    )
    with pytest.raises(TypeError, match="expected int"):
        f(store, 1)
