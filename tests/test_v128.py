"""v128 values: an unsigned 128-bit int whose bytes are the vector's
little-endian bytes (lane 0 in the low bits), in both directions."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasmtime import (
    Func,
    FuncType,
    Global,
    GlobalType,
    Instance,
    Linker,
    Module,
    Store,
    Val,
    ValType,
)

U128 = st.integers(min_value=0, max_value=2**128 - 1)

WAT = """(module
  (import "host" "f" (func $f (param v128) (result v128)))
  (func (export "id") (param v128) (result v128) local.get 0)
  (func (export "lane32") (param v128 i32) (result i32)
    (block (block (block (block
      (br_table 0 1 2 3 (local.get 1)))
      (return (i32x4.extract_lane 0 (local.get 0))))
      (return (i32x4.extract_lane 1 (local.get 0))))
      (return (i32x4.extract_lane 2 (local.get 0))))
    (i32x4.extract_lane 3 (local.get 0)))
  (func (export "make32") (param i32 i32 i32 i32) (result v128)
    (i32x4.replace_lane 3
      (i32x4.replace_lane 2
        (i32x4.replace_lane 1 (i32x4.splat (local.get 0)) (local.get 1))
        (local.get 2))
      (local.get 3)))
  (func (export "add64") (param v128 v128) (result v128)
    (i64x2.add (local.get 0) (local.get 1)))
  (func (export "byte0") (param v128) (result i32) (i8x16.extract_lane_u 0 (local.get 0)))
  (func (export "byte15") (param v128) (result i32) (i8x16.extract_lane_u 15 (local.get 0)))
  (func (export "two") (param v128) (result v128 v128) local.get 0 local.get 0)
  (func (export "via_host") (param v128) (result v128) (call $f (local.get 0)))
  (global (export "g") (mut v128) (v128.const i64x2 0 0)))"""


@pytest.fixture(scope="module")
def env():
    store = Store()
    linker = Linker(store.engine)
    # The host function is a rotation of the 32-bit lanes: lane i -> lane i+1.
    ty = FuncType([ValType.v128()], [ValType.v128()])
    linker.define_func("host", "f", ty, lambda v: ((v << 32) | (v >> 96)) & (2**128 - 1))
    inst = linker.instantiate(store, Module(store.engine, WAT))
    return store, inst.exports(store)


def lanes32(v):
    return list(struct.unpack("<4I", v.to_bytes(16, "little")))


@settings(max_examples=200, deadline=None)
@given(U128)
def test_round_trip(env, v):
    store, ex = env
    assert ex["id"](store, v) == v
    assert ex["id"](store, Val.v128(v)) == v


@settings(max_examples=200, deadline=None)
@given(U128, st.integers(0, 3))
def test_lanes_are_little_endian(env, v, i):
    store, ex = env
    assert ex["lane32"](store, v, i) & 0xFFFFFFFF == lanes32(v)[i]
    assert ex["byte0"](store, v) == v & 0xFF
    assert ex["byte15"](store, v) == v >> 120


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), min_size=4, max_size=4))
def test_results_are_unsigned(env, lanes):
    store, ex = env
    v = ex["make32"](store, *lanes)
    assert v >= 0
    assert lanes32(v) == lanes


@settings(max_examples=200, deadline=None)
@given(U128, U128)
def test_i64x2_add(env, a, b):
    store, ex = env
    lo = ((a & (2**64 - 1)) + (b & (2**64 - 1))) & (2**64 - 1)
    hi = ((a >> 64) + (b >> 64)) & (2**64 - 1)
    assert ex["add64"](store, a, b) == lo | hi << 64


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-(2**200), max_value=2**200))
def test_ints_wrap_to_128_bits(env, v):
    store, ex = env
    assert ex["id"](store, v) == v % 2**128
    assert Val.v128(v).value == v % 2**128


@settings(max_examples=100, deadline=None)
@given(U128)
def test_host_function_in_both_directions(env, v):
    store, ex = env
    lanes = lanes32(v)
    assert lanes32(ex["via_host"](store, v)) == lanes[3:] + lanes[:3]


@settings(max_examples=100, deadline=None)
@given(U128)
def test_global(env, v):
    store, ex = env
    ex["g"].set_value(store, v)
    assert ex["g"].value(store) == v


def test_mixed_with_references_takes_the_checked_path():
    store = Store()
    wat = """(module (func (export "f") (param externref v128) (result v128 externref)
      local.get 1 local.get 0))"""
    f = Instance(store, Module(store.engine, wat), []).exports(store)["f"]
    payload = object()
    assert f(store, payload, 2**128 - 2) == [2**128 - 2, payload]
    ty = FuncType([ValType.externref(), ValType.v128()], [ValType.v128()])
    h = Func(store, ty, lambda e, v: v ^ (2**128 - 1))
    assert h(store, None, 1) == 2**128 - 2


def test_multiple_results(env):
    store, ex = env
    assert ex["two"](store, 5) == [5, 5]


def test_global_from_python():
    store = Store()
    g = Global(store, GlobalType(ValType.v128(), True), Val.v128(2**127))
    assert g.value(store) == 2**127
    g.set_value(store, Val.v128(-1))
    assert g.value(store) == 2**128 - 1
    with pytest.raises(TypeError):
        g.set_value(store, Val.i64(1))
    with pytest.raises(TypeError):
        g.set_value(store, 1.5)


def test_host_function_results_checked():
    store = Store()
    ty = FuncType([], [ValType.v128()])
    f = Func(store, ty, lambda: "no")
    with pytest.raises(TypeError):
        f(store)


def test_val_v128():
    v = Val.v128(1 << 100)
    assert v.value == 1 << 100
    assert v.as_v128() == 1 << 100
    assert v.as_i64() is None
    assert Val.i64(3).as_v128() is None
    assert str(v.type) == "v128"
    assert repr(Val.v128(5)) == "Val.v128(5)"
    assert Val.v128(5) == Val.v128(5)
    assert Val.v128(5) != Val.i64(5)
    with pytest.raises(TypeError):
        Val.v128(1.0)
    with pytest.raises(TypeError):
        Val.v128("1")


def test_int_subclass_rshift_is_not_called():
    class Evil(int):
        def __rshift__(self, other):
            raise AssertionError("ran Python code")

        def __index__(self):
            raise AssertionError("ran Python code")

    assert Val.v128(Evil(2**100 + 3)).value == 2**100 + 3


def test_v128_valtype_in_types():
    ty = FuncType([ValType.v128()], [ValType.v128(), ValType.i32()])
    assert [str(t) for t in ty.params] == ["v128"]
    assert [str(t) for t in ty.results] == ["v128", "i32"]
    assert str(GlobalType(ValType.v128(), False).content) == "v128"
