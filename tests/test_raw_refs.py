"""externref and funcref through the raw (unchecked) call path: identity,
nulls, mixed signatures, many parameters, the wrong store, and no leaked
roots when a conversion fails half-way."""

import gc
import sys

import pytest

from wasmtime import Func, FuncType, Instance, Module, Store, Val, ValType, WasmtimeError

WAT = """(module
  (func (export "ext") (param externref) (result externref) local.get 0)
  (func (export "fn") (param funcref) (result funcref) local.get 0)
  (func (export "mixed") (param i32 externref f64 funcref v128)
        (result funcref f64 externref i32 v128)
    local.get 3 local.get 2 local.get 1 local.get 0 local.get 4)
  (func (export "swap") (param externref externref) (result externref externref)
    local.get 1 local.get 0)
  (func (export "is_null") (param externref) (result i32) local.get 0 ref.is_null)
  (table $t 1 funcref)
  (type $r (func (result i32)))
  (func (export "call_it") (param funcref) (result i32)
    (table.set $t (i32.const 0) (local.get 0))
    (call_indirect $t (type $r) (i32.const 0)))
  (func (export "many") (param externref externref externref externref externref externref
                               externref externref externref externref externref externref
                               externref externref externref externref externref externref)
        (result externref)
    local.get 17))"""


@pytest.fixture
def env():
    store = Store()
    ex = Instance(store, Module(store.engine, WAT), []).exports(store)
    return store, ex


def test_externref_identity(env):
    store, ex = env
    for obj in [object(), 0, "", False, [1], 2**100]:
        assert ex["ext"](store, obj) is obj
    assert ex["ext"](store, None) is None
    assert ex["is_null"](store, None) == 1
    assert ex["is_null"](store, 0) == 0
    payload = object()
    assert ex["ext"](store, Val.externref(payload)) is payload


def test_funcref(env):
    store, ex = env
    seven = Func(store, FuncType([], [ValType.i32()]), lambda: 7)
    back = ex["fn"](store, seven)
    assert isinstance(back, Func)
    assert back(store) == 7
    assert ex["fn"](store, None) is None
    assert ex["call_it"](store, seven) == 7
    assert ex["fn"](store, Val.funcref(seven))(store) == 7


def test_mixed_signature(env):
    store, ex = env
    f = Func(store, FuncType([], []), lambda: None)
    obj = object()
    res = ex["mixed"](store, 3, obj, 1.5, f, 2**127 + 1)
    assert isinstance(res[0], Func)
    assert res[1:] == [1.5, obj, 3, 2**127 + 1]
    a, b = object(), object()
    assert ex["swap"](store, a, b) == [b, a]


def test_many_parameters_use_the_heap(env):
    store, ex = env
    objs = [object() for _ in range(18)]
    assert ex["many"](store, *objs) is objs[17]


def test_wrong_types_and_wrong_store(env):
    store, ex = env
    with pytest.raises(TypeError):
        ex["fn"](store, "not a func")
    with pytest.raises(TypeError):
        ex["ext"](store, Val.i32(1))
    other = Store()
    foreign = Func(other, FuncType([], []), lambda: None)
    with pytest.raises(WasmtimeError, match="wrong store"):
        ex["fn"](store, foreign)


def test_failed_conversion_releases_earlier_roots(env):
    store, ex = env
    payload = object()
    before = sys.getrefcount(payload)
    for _ in range(100):
        with pytest.raises(TypeError):
            ex["mixed"](store, 1, payload, "not a float", None, 0)
    store.gc()
    gc.collect()
    assert sys.getrefcount(payload) == before


def test_payloads_are_released_after_calls(env):
    store, ex = env
    payload = object()
    before = sys.getrefcount(payload)
    for _ in range(1000):
        ex["is_null"](store, payload)
        ex["ext"](store, payload)
    store.gc()
    gc.collect()
    assert sys.getrefcount(payload) == before


def test_host_function_with_refs_still_works(env):
    store, ex = env
    ty = FuncType([ValType.externref()], [ValType.externref()])
    host = Func(store, ty, lambda x: [x])
    obj = object()
    out = host(store, obj)
    assert out == [obj]
