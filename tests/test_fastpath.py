"""The fast call paths (func.c func_call_simple, hostfunc.c host_call_simple)
give the same answers as the general ones at their edges: the argument-count
limit, mixed int/float signatures, arguments that are not exact ints or
floats, huge ints, nested calls, and host results that need the general
conversion."""

import struct

import pytest

import wasmtime
from wasmtime import Func, FuncType, Instance, Module, Store, Val, ValType

I32, I64, F32, F64 = ValType.i32(), ValType.i64(), ValType.f32(), ValType.f64()


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def sum_module(n, kind):
    """(func "sum" (param kind × n) (result i64)): the params summed after
    converting each to i64 (f64 truncated), weighted by position."""
    params = " ".join([kind] * n)
    body = [] if n else ["i64.const 0"]
    for i in range(n):
        conv = {"i32": "i64.extend_i32_s", "i64": "", "f64": "i64.trunc_f64_s"}[kind]
        body.append(f"local.get {i} {conv} i64.const {i + 1} i64.mul")
        if i:
            body.append("i64.add")
    return f'(module (func (export "sum") (param {params}) (result i64) {" ".join(body)}))'


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 16, 17])
@pytest.mark.parametrize("kind", ["i32", "i64", "f64"])
def test_param_count_around_the_limit(n, kind):
    store = Store()
    inst = Instance(store, Module(store.engine, sum_module(n, kind)), [])
    fn = inst.exports(store)["sum"]
    args = [(i * 3 - 5) if kind != "f64" else (i * 3 - 5) + 0.75 for i in range(n)]
    expected = sum(int(a) * (i + 1) for i, a in enumerate(args))
    assert fn(store, *args) == expected
    # The same values wrapped in Val objects take the general path.
    wrap = {"i32": Val.i32, "i64": Val.i64, "f64": Val.f64}[kind]
    assert fn(store, *[wrap(a) for a in args]) == expected


def test_mixed_signature_and_result_kinds():
    wat = """(module
      (func (export "mix") (param i32 f32 i64 f64) (result f64)
        local.get 0 f64.convert_i32_s local.get 1 f64.promote_f32 f64.add
        local.get 2 f64.convert_i64_s f64.add local.get 3 f64.add)
      (func (export "f32") (param f32) (result f32) local.get 0)
      (func (export "i64") (param i64) (result i64) local.get 0)
      (func (export "two") (param i32) (result i32 i64) local.get 0 i64.const -1))"""
    store = Store()
    x = Instance(store, Module(store.engine, wat), []).exports(store)
    assert x["mix"](store, 1, 0.5, 10, 0.25) == 11.75
    assert x["f32"](store, 0.1) == f32(0.1)
    assert x["i64"](store, -(2**63)) == -(2**63)
    assert x["two"](store, 7) == [7, -1]
    with pytest.raises(TypeError):
        x["mix"](store, 1, 2, 3, 4.0)  # an int where f32 is expected
    with pytest.raises(TypeError):
        x["mix"](store, 1.0, 0.5, 3, 4.0)  # a float where i32 is expected


class MyInt(int):
    pass


@pytest.mark.parametrize(
    "arg, expected",
    [
        (True, 1),
        (MyInt(41), 41),
        (2**32 + 5, 5),  # wraps to 32 bits
        (-1, -1),
        (2**64 - 1, -1),
        (-(2**200) + 3, 3),
        (Val.i32(9), 9),
    ],
)
def test_i32_argument_forms(arg, expected):
    store = Store()
    wat = '(module (func (export "id") (param i32) (result i32) local.get 0))'
    fn = Instance(store, Module(store.engine, wat), []).exports(store)["id"]
    assert fn(store, arg) == expected


def test_wrong_argument_after_good_ones_raises():
    store = Store()
    inst = Instance(store, Module(store.engine, sum_module(3, "i32")), [])
    fn = inst.exports(store)["sum"]
    with pytest.raises(TypeError):
        fn(store, 1, 2, "3")
    with pytest.raises(TypeError):
        fn(store, 1, 2, Val.i64(3))
    assert fn(store, 1, 2, 3) == 14  # the Store is still usable


def test_closed_and_foreign_store():
    store, other = Store(), Store()
    wat = '(module (func (export "id") (param i32) (result i32) local.get 0))'
    fn = Instance(store, Module(store.engine, wat), []).exports(store)["id"]
    assert fn(store, 1) == 1
    with pytest.raises(Exception):
        fn(other, 1)
    store.close()
    with pytest.raises(ValueError):
        fn(store, 1)


def test_nested_call_from_a_host_function():
    """The inner call finds its Store busy and takes the general path."""
    store = Store()
    seen = []

    def host(caller, x):
        inner = caller["id"]
        seen.append(inner(caller, x + 1))
        seen.append(inner(store, x + 2))
        return x * 2

    wat = """(module (import "" "h" (func $h (param i32) (result i32)))
      (func (export "id") (param i32) (result i32) local.get 0)
      (func (export "run") (param i32) (result i32) local.get 0 call $h))"""
    h = Func(store, FuncType([I32], [I32]), host, access_caller=True)
    x = Instance(store, Module(store.engine, wat), [h]).exports(store)
    assert x["run"](store, 5) == 10
    assert seen == [6, 7]


@pytest.mark.parametrize(
    "ret, expected",
    [
        (7, 7),
        (True, 1),
        (MyInt(12), 12),
        (2**40 + 3, 3),
        (Val.i32(-4), -4),
    ],
)
def test_host_result_forms(ret, expected):
    store = Store()
    h = Func(store, FuncType([I32], [I32]), lambda x: ret)
    wat = """(module (import "" "h" (func $h (param i32) (result i32)))
      (func (export "run") (param i32) (result i32) local.get 0 call $h))"""
    run = Instance(store, Module(store.engine, wat), [h]).exports(store)["run"]
    assert run(store, 0) == expected
    assert h(store, 0) == expected


@pytest.mark.parametrize("ret", [None, "1", 1.5, Val.i64(1), [1]])
def test_host_bad_result_raises_type_error(ret):
    store = Store()
    h = Func(store, FuncType([I32], [I32]), lambda x: ret)
    wat = """(module (import "" "h" (func $h (param i32) (result i32)))
      (func (export "run") (param i32) (result i32) local.get 0 call $h))"""
    run = Instance(store, Module(store.engine, wat), [h]).exports(store)["run"]
    with pytest.raises((TypeError, wasmtime.WasmtimeError)):
        run(store, 0)
    with pytest.raises((TypeError, wasmtime.WasmtimeError)):
        h(store, 0)
    ok = Func(store, FuncType([I32], [I32]), lambda x: x + 1)
    assert ok(store, 1) == 2  # the Store is still usable


@pytest.mark.parametrize("n", [0, 1, 8, 9])
def test_host_param_count_around_the_limit(n):
    store = Store()
    got = []

    def host(*args):
        got.append(args)
        return float(sum(args))

    h = Func(store, FuncType([I64] * n, [F64]), host)
    args = [i * 10**12 - 7 for i in range(n)]
    assert h(store, *args) == float(sum(args))
    assert got == [tuple(args)]


def test_host_raising_in_simple_path_keeps_identity():
    store = Store()
    err = KeyError("x")

    def host(x):
        raise err

    h = Func(store, FuncType([F32], [F32]), host)
    with pytest.raises(KeyError) as info:
        h(store, 1.0)
    assert info.value is err
    h2 = Func(store, FuncType([F32], [F32]), lambda x: x * 2)
    assert h2(store, 1.5) == 3.0
