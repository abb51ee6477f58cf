"""wasmtime.Func: host functions, calling wasm, conversions, arity, results,
and the propagation of host exceptions."""

import math
import sys

import pytest

from wasmtime import (
    Caller,
    Engine,
    Func,
    FuncType,
    Instance,
    Linker,
    Module,
    Store,
    Trap,
    TrapCode,
    Val,
    ValType,
    WasmtimeError,
)

I32, I64, F32, F64 = ValType.i32(), ValType.i64(), ValType.f32(), ValType.f64()
NUMERIC = {"i32": I32, "i64": I64, "f32": F32, "f64": F64}


def instantiate(store, wat, imports=()):
    module = Module(store.engine, wat)
    return Instance(store, module, list(imports)).exports(store)


def f32(x):
    """`x` rounded to single precision, as Python sees an f32 result."""
    import struct

    return struct.unpack("<f", struct.pack("<f", x))[0]


# ---- host functions called from Python ---------------------------------------


def test_host_func_basic(store):
    ty = FuncType([I32, I32], [I32])
    f = Func(store, ty, lambda a, b: a + b)
    assert f(store, 1, 2) == 3
    assert f(store, -5, 2) == -3


@pytest.mark.parametrize(
    "name,values",
    [
        ("i32", [0, 1, -1, 2**31 - 1, -(2**31)]),
        ("i64", [0, 1, -1, 2**63 - 1, -(2**63)]),
        ("f32", [0.0, -0.0, 1.5, -2.25, 1024.0, math.inf, -math.inf]),
        ("f64", [0.0, 0.1, -1e300, 5e-324, math.inf, -math.inf]),
    ],
)
def test_host_identity_every_numeric_type(store, name, values):
    ty = NUMERIC[name]
    seen = []

    def identity(x):
        seen.append(x)
        return x

    f = Func(store, FuncType([ty], [ty]), identity)
    for v in values:
        got = f(store, v)
        assert type(got) is type(v)
        assert got == v
        assert seen[-1] == v
        if isinstance(v, float):
            assert math.copysign(1.0, got) == math.copysign(1.0, v)


@pytest.mark.parametrize("name", ["f32", "f64"])
def test_host_nan_passes_through(store, name):
    ty = NUMERIC[name]
    f = Func(store, FuncType([ty], [ty]), lambda x: x)
    assert math.isnan(f(store, math.nan))


def test_f32_rounds_to_single_precision(store):
    seen = []

    def h(x):
        seen.append(x)
        return x

    f = Func(store, FuncType([F32], [F32]), h)
    assert f(store, 0.1) == f32(0.1)
    assert f(store, 0.1) != 0.1
    assert seen[0] == f32(0.1)
    assert f(store, 1e300) == math.inf


@pytest.mark.parametrize(
    "name,given,expected",
    [
        ("i32", 0xFFFFFFFF, -1),
        ("i32", 2**31, -(2**31)),
        ("i32", 2**35, 0),
        ("i32", 2**35 + 7, 7),
        ("i32", -(2**31) - 1, 2**31 - 1),
        ("i32", 10**40, (10**40 % 2**32) - (2**32 if (10**40 % 2**32) >= 2**31 else 0)),
        ("i32", True, 1),
        ("i32", False, 0),
        ("i64", 2**64 - 1, -1),
        ("i64", 2**63, -(2**63)),
        ("i64", 2**67, 0),
        ("i64", 2**64 + 5, 5),
        ("i64", -(2**63) - 1, 2**63 - 1),
        ("i64", True, 1),
    ],
)
def test_integer_params_wrap(store, name, given, expected):
    seen = []

    def h(x):
        seen.append(x)
        return x

    ty = NUMERIC[name]
    f = Func(store, FuncType([ty], [ty]), h)
    assert f(store, given) == expected
    assert seen == [expected]
    assert type(seen[0]) is int


@pytest.mark.parametrize(
    "name,ret,expected",
    [("i32", 0xFFFFFFFF, -1), ("i32", 2**32 + 3, 3), ("i64", 2**64 + 9, 9), ("i64", -1, -1)],
)
def test_integer_results_of_host_wrap(store, name, ret, expected):
    ty = NUMERIC[name]
    f = Func(store, FuncType([], [ty]), lambda: ret)
    assert f(store) == expected


# ---- host functions called from wasm (both directions through wasm) ---------


@pytest.mark.parametrize(
    "name,const,value",
    [
        ("i32", "i32.const -7", -7),
        ("i64", "i64.const 0x100000000", 2**32),
        ("f32", "f32.const 2.5", 2.5),
        ("f64", "f64.const -0.125", -0.125),
    ],
)
def test_wasm_calls_host_every_numeric_type(store, name, const, value):
    seen = []

    def double(x):
        seen.append(x)
        return x * 2

    ty = NUMERIC[name]
    wat = f"""
    (module
      (import "" "double" (func $double (param {name}) (result {name})))
      (func (export "const_through_host") (result {name}) {const} call $double)
      (func (export "param_through_host") (param {name}) (result {name})
        local.get 0 call $double))
    """
    host = Func(store, FuncType([ty], [ty]), double)
    exports = instantiate(store, wat, [host])
    assert exports["const_through_host"](store) == value * 2
    assert seen == [value]
    assert exports["param_through_host"](store, value) == value * 2
    assert seen == [value, value]
    got = exports["param_through_host"](store, value)
    assert type(got) is type(value)


def test_wasm_export_every_numeric_type(store):
    wat = """
    (module
      (func (export "i32") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
      (func (export "i64") (param i64) (result i64) local.get 0 i64.const 1 i64.add)
      (func (export "f32") (param f32) (result f32) local.get 0 f32.const 1 f32.add)
      (func (export "f64") (param f64) (result f64) local.get 0 f64.const 1 f64.add))
    """
    e = instantiate(store, wat)
    assert e["i32"](store, 2**31 - 1) == -(2**31)
    assert e["i64"](store, 2**63 - 1) == -(2**63)
    assert e["f32"](store, 1.5) == 2.5
    assert e["f64"](store, 0.25) == 1.25
    assert e["i32"](store, Val.i32(4)) == 5
    assert e["f64"](store, Val.f64(1.0)) == 2.0


# ---- multi-value, many params -------------------------------------------------


def test_multi_value_results_are_a_list(store):
    wat = """
    (module
      (func (export "four") (result i32 i64 f32 f64)
        i32.const 1 i64.const -2 f32.const 3.5 f64.const 4.25)
      (func (export "none"))
      (func (export "one") (result i32) i32.const 9))
    """
    e = instantiate(store, wat)
    got = e["four"](store)
    assert type(got) is list
    assert got == [1, -2, 3.5, 4.25]
    assert [type(x) for x in got] == [int, int, float, float]
    assert e["none"](store) is None
    assert e["one"](store) == 9


def test_host_four_in_two_out(store):
    calls = []

    def h(a, b, c, d):
        calls.append((a, b, c, d))
        return (a + b, c * d)

    ty = FuncType([I32, I64, F32, F64], [I64, F64])
    f = Func(store, ty, h)
    assert f(store, 1, 2, 1.5, 2.0) == [3, 3.0]
    assert calls == [(1, 2, 1.5, 2.0)]
    wat = """
    (module
      (import "" "h" (func $h (param i32 i64 f32 f64) (result i64 f64)))
      (func (export "run") (result i64 f64)
        i32.const 10 i64.const 20 f32.const 0.5 f64.const 8 call $h))
    """
    e = instantiate(store, wat, [f])
    assert e["run"](store) == [30, 4.0]
    assert calls[-1] == (10, 20, 0.5, 8.0)


@pytest.mark.parametrize("results_kind", ["list", "tuple", "custom"])
def test_host_multi_results_accept_any_sequence(store, results_kind):
    class Seq:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            if i >= 2:
                raise IndexError(i)
            return [7, 8][i]

    ret = {"list": [7, 8], "tuple": (7, 8), "custom": Seq()}[results_kind]
    f = Func(store, FuncType([], [I32, I32]), lambda: ret)
    assert f(store) == [7, 8]


N_MANY = 20


def test_many_params_host_func(store):
    """More than 16 parameters takes the heap path on both sides."""
    calls = []

    def h(*args):
        calls.append(args)
        return sum(args)

    ty = FuncType([I64] * N_MANY, [I64])
    f = Func(store, ty, h)
    args = list(range(1, N_MANY + 1))
    assert f(store, *args) == sum(args)
    assert calls == [tuple(args)]
    assert f.param_arity() == N_MANY


def test_many_params_host_func_with_caller(store):
    seen = []

    def h(caller, *args):
        seen.append((type(caller), args))
        return args[-1]

    # 17 params + the caller: just past the on-stack argument array
    ty = FuncType([I32] * 17, [I32])
    f = Func(store, ty, h, access_caller=True)
    wat = """
    (module
      (import "" "h" (func $h (param %s) (result i32)))
      (func (export "run") (result i32)
        %s
        call $h))
    """ % (
        " ".join(["i32"] * 17),
        " ".join(f"i32.const {i}" for i in range(17)),
    )
    e = instantiate(store, wat, [f])
    assert e["run"](store) == 16
    assert seen == [(Caller, tuple(range(17)))]


def test_many_params_wasm_export(store):
    params = " ".join(["i64"] * N_MANY)
    body = "local.get 0 " + " ".join(f"local.get {i} i64.add" for i in range(1, N_MANY))
    wat = f'(module (func (export "sum") (param {params}) (result i64) {body}))'
    e = instantiate(store, wat)
    args = [i * 1000 for i in range(N_MANY)]
    assert e["sum"](store, *args) == sum(args)
    with pytest.raises(WasmtimeError, match="too few"):
        e["sum"](store, *args[:-1])
    with pytest.raises(WasmtimeError, match="too many"):
        e["sum"](store, *args, 1)


def test_many_results_wasm_export(store):
    results = " ".join(["i32"] * N_MANY)
    body = " ".join(f"i32.const {i * 3}" for i in range(N_MANY))
    wat = f'(module (func (export "many") (result {results}) {body}))'
    e = instantiate(store, wat)
    assert e["many"](store) == [i * 3 for i in range(N_MANY)]
    assert e["many"].result_arity() == N_MANY


def test_many_results_host_func(store):
    ty = FuncType([I32], [F64] * N_MANY)
    f = Func(store, ty, lambda x: [float(x + i) for i in range(N_MANY)])
    assert f(store, 5) == [float(5 + i) for i in range(N_MANY)]
    results = " ".join(["f64"] * N_MANY)
    wat = f"""
    (module
      (import "" "h" (func $h (param i32) (result {results})))
      (func (export "run") (param i32) (result {results}) local.get 0 call $h))
    """
    e = instantiate(store, wat, [f])
    assert e["run"](store, 2) == [float(2 + i) for i in range(N_MANY)]


def test_many_params_with_references(store):
    """The checked (reference) path with more params than fit on the stack."""
    ty = FuncType([ValType.externref()] * N_MANY, [ValType.externref()])
    objs = [object() for _ in range(N_MANY)]
    f = Func(store, ty, lambda *args: args[7])
    assert f(store, *objs) is objs[7]


# ---- arity and argument errors -------------------------------------------------


def test_arity_errors(store):
    f = Func(store, FuncType([I32, I32], [I32]), lambda a, b: a + b)
    with pytest.raises(WasmtimeError, match="too few parameters provided: given 1, expected 2"):
        f(store, 1)
    with pytest.raises(WasmtimeError, match="too many parameters provided: given 3, expected 2"):
        f(store, 1, 2, 3)
    with pytest.raises(WasmtimeError, match="too few"):
        f(store)
    g = Func(store, FuncType([], []), lambda: None)
    with pytest.raises(WasmtimeError, match="too many"):
        g(store, 1)
    assert g(store) is None


def test_wasm_export_arity_errors(store):
    e = instantiate(store, '(module (func (export "f") (param i32 f64)))')
    with pytest.raises(WasmtimeError, match="too few"):
        e["f"](store, 1)
    with pytest.raises(WasmtimeError, match="too many"):
        e["f"](store, 1, 2.0, 3)
    assert e["f"](store, 1, 2.0) is None


@pytest.mark.parametrize(
    "name,bad",
    [
        ("i32", 1.0),
        ("i32", "1"),
        ("i32", None),
        ("i32", b"1"),
        ("i32", Val.i64(1)),
        ("i32", Val.f32(1.0)),
        ("i64", 3.5),
        ("i64", Val.i32(1)),
        ("f32", 1),
        ("f32", True),
        ("f32", "1.0"),
        ("f32", Val.f64(1.0)),
        ("f64", 1),
        ("f64", Val.f32(1.0)),
        ("f64", None),
        ("f64", [1.0]),
    ],
)
def test_conversion_errors(store, name, bad):
    called = []
    ty = NUMERIC[name]
    f = Func(store, FuncType([ty], []), lambda x: called.append(x))
    with pytest.raises(TypeError):
        f(store, bad)
    assert called == []
    e = instantiate(store, f'(module (func (export "f") (param {name})))')
    with pytest.raises(TypeError):
        e["f"](store, bad)


def test_val_of_matching_kind_is_accepted(store):
    f = Func(store, FuncType([I32, I64, F32, F64], [F64]), lambda a, b, c, d: a + b + c + d)
    assert f(store, Val.i32(1), Val.i64(2), Val.f32(0.5), Val.f64(0.25)) == 3.75


def test_keyword_args_rejected(store):
    f = Func(store, FuncType([I32], [I32]), lambda x: x)
    with pytest.raises(TypeError):
        f(store, x=1)
    with pytest.raises(TypeError):
        f(store=store)
    assert f(store, 1) == 1


def test_call_without_store(store):
    f = Func(store, FuncType([], [I32]), lambda: 1)
    with pytest.raises(TypeError):
        f()
    with pytest.raises(TypeError):
        f(None)
    with pytest.raises(TypeError):
        f(1)
    with pytest.raises(TypeError):
        f(store.engine)
    assert f(store) == 1


# ---- constructor errors ------------------------------------------------------


def test_non_callable_rejected(store):
    ty = FuncType([], [])
    for bad in [1, "f", None, object()]:
        with pytest.raises(TypeError):
            Func(store, ty, bad)


def test_constructor_type_checks(store):
    ty = FuncType([], [])
    with pytest.raises(TypeError):
        Func(1, ty, lambda: None)
    with pytest.raises(TypeError):
        Func(store, 1, lambda: None)
    with pytest.raises(TypeError):
        Func(store, ValType.i32(), lambda: None)
    with pytest.raises(TypeError):
        Func(store.engine, ty, lambda: None)


def test_func_with_caller_as_store_rejected(store):
    """Func() needs an actual Store: a Caller is refused even while valid."""
    errors = []

    def h(caller):
        try:
            Func(caller, FuncType([], []), lambda: None)
        except TypeError as e:
            errors.append(e)

    host = Func(store, FuncType([], []), h, access_caller=True)
    e = instantiate(store, '(module (import "" "" (func $h)) (func (export "r") call $h))', [host])
    e["r"](store)
    assert len(errors) == 1


def test_closed_functype_rejected(store):
    ty = FuncType([], [])
    ty.close()
    with pytest.raises(ValueError):
        Func(store, ty, lambda: None)


# ---- type and arity -----------------------------------------------------------


def test_type_and_arity(store):
    ty = FuncType([I32, F64, ValType.externref()], [I64, ValType.funcref()])
    f = Func(store, ty, lambda *a: None)
    got = f.type(store)
    assert isinstance(got, FuncType)
    assert got.params == [I32, F64, ValType.externref()]
    assert got.results == [I64, ValType.funcref()]
    assert f.param_arity() == 3
    assert f.result_arity() == 2


def test_type_of_wasm_export(store):
    e = instantiate(store, '(module (func (export "f") (param i64 f32) (result i32) i32.const 0))')
    f = e["f"]
    assert f.type(store).params == [I64, F32]
    assert f.type(store).results == [I32]
    assert f.param_arity() == 2
    assert f.result_arity() == 1


def test_type_needs_a_store(store):
    f = Func(store, FuncType([], []), lambda: None)
    with pytest.raises(TypeError):
        f.type(None)
    with pytest.raises(TypeError):
        f.type()


def test_func_has_identity_semantics(store):
    e = instantiate(store, '(module (func (export "f")))')
    assert e["f"] is e["f"]
    f = Func(store, FuncType([], []), lambda: None)
    g = Func(store, FuncType([], []), lambda: None)
    assert f != g
    assert f == f


# ---- results returned by host functions ---------------------------------------


def _through_wasm(store, host, params, results):
    p = " ".join(params)
    r = " ".join(results)
    gets = " ".join(f"local.get {i}" for i in range(len(params)))
    wat = f"""
    (module
      (import "" "h" (func $h (param {p}) (result {r})))
      (func (export "run") (param {p}) (result {r}) {gets} call $h))
    """
    return instantiate(store, wat, [host])["run"]


def test_host_wrong_result_count(store):
    f = Func(store, FuncType([], [I32, I32]), lambda: [1, 2, 3])
    with pytest.raises(WasmtimeError, match="wrong number of results"):
        f(store)
    g = Func(store, FuncType([], [I32, I32]), lambda: [1])
    with pytest.raises(WasmtimeError, match="wrong number of results"):
        _through_wasm(store, g, [], ["i32", "i32"])(store)


def test_host_scalar_for_multi_results(store):
    f = Func(store, FuncType([], [I32, I32]), lambda: 5)
    with pytest.raises(TypeError):
        f(store)
    with pytest.raises(TypeError):
        _through_wasm(store, f, [], ["i32", "i32"])(store)


def test_host_none_for_one_result(store):
    f = Func(store, FuncType([], [I32]), lambda: None)
    with pytest.raises(TypeError):
        f(store)
    with pytest.raises(TypeError):
        _through_wasm(store, f, [], ["i32"])(store)


def test_host_result_for_no_results(store):
    f = Func(store, FuncType([], []), lambda: 1)
    with pytest.raises(WasmtimeError, match="callback produced results when it shouldn't"):
        f(store)
    wat = '(module (import "" "h" (func $h)) (func (export "run") call $h))'
    run = instantiate(store, wat, [f])["run"]
    with pytest.raises(WasmtimeError, match="shouldn't"):
        run(store)


@pytest.mark.parametrize(
    "name,bad", [("i32", 1.5), ("i64", "x"), ("f32", 1), ("f64", None), ("i32", Val.i64(1))]
)
def test_host_result_wrong_type(store, name, bad):
    f = Func(store, FuncType([], [NUMERIC[name]]), lambda: bad)
    with pytest.raises(TypeError):
        f(store)
    with pytest.raises(TypeError):
        _through_wasm(store, f, [], [name])(store)


def test_host_multi_result_element_wrong_type(store):
    f = Func(store, FuncType([], [I32, F64]), lambda: [1, 2])
    with pytest.raises(TypeError):
        f(store)


def test_host_result_val_objects(store):
    f = Func(store, FuncType([], [I32, F32]), lambda: [Val.i32(3), Val.f32(1.5)])
    assert f(store) == [3, 1.5]


def test_host_result_len_raising_propagates(store):
    class Bad:
        def __len__(self):
            raise ZeroDivisionError("no len")

    f = Func(store, FuncType([], [I32, I32]), lambda: Bad())
    with pytest.raises(ZeroDivisionError, match="no len"):
        f(store)


def test_host_wrong_number_of_python_params(store):
    """A callable with the wrong signature fails with Python's TypeError."""
    f = Func(store, FuncType([I32], []), lambda: None)
    with pytest.raises(TypeError):
        f(store, 1)


# ---- host exceptions ------------------------------------------------------------


class CustomBase(BaseException):
    pass


EXCEPTIONS = [
    lambda: ValueError("value"),
    lambda: RuntimeError("runtime"),
    lambda: KeyboardInterrupt(),
    lambda: SystemExit(3),
    lambda: CustomBase("custom"),
    lambda: WasmtimeError("from host"),
    lambda: Trap("a trap object raised by the host"),
    lambda: GeneratorExit(),
]
EXC_IDS = [
    "ValueError",
    "RuntimeError",
    "KeyboardInterrupt",
    "SystemExit",
    "CustomBase",
    "WasmtimeError",
    "Trap",
    "GeneratorExit",
]

NESTED_WAT = """
(module $m
  (import "" "h" (func $h (param i32) (result i32)))
  (func $inner (export "inner") (param i32) (result i32) local.get 0 call $h)
  (func $outer (export "outer") (param i32) (result i32) local.get 0 call $inner))
"""


@pytest.mark.parametrize("make", EXCEPTIONS, ids=EXC_IDS)
def test_host_exception_identity_direct(store, make):
    exc = make()

    def h(x):
        raise exc

    f = Func(store, FuncType([I32], [I32]), h)
    with pytest.raises(BaseException) as info:
        f(store, 1)
    assert info.value is exc


@pytest.mark.parametrize("make", EXCEPTIONS, ids=EXC_IDS)
def test_host_exception_identity_through_wasm(store, make):
    exc = make()

    def h(x):
        raise exc

    f = Func(store, FuncType([I32], [I32]), h)
    e = instantiate(store, NESTED_WAT, [f])
    with pytest.raises(BaseException) as info:
        e["outer"](store, 1)
    assert info.value is exc
    assert type(info.value) is type(exc)


def test_host_exception_keeps_python_traceback(store):
    def h(x):
        raise ValueError("deep")

    e = instantiate(store, NESTED_WAT, [Func(store, FuncType([I32], [I32]), h)])
    with pytest.raises(ValueError) as info:
        e["outer"](store, 1)
    names = [entry.name for entry in info.traceback]
    assert "h" in names


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes are 3.11+")
def test_host_exception_note_has_wasm_backtrace(store):
    def h(x):
        raise ValueError("noted")

    e = instantiate(store, NESTED_WAT, [Func(store, FuncType([I32], [I32]), h)])
    with pytest.raises(ValueError) as info:
        e["outer"](store, 1)
    notes = getattr(info.value, "__notes__", [])
    assert len(notes) == 1
    assert notes[0].startswith("wasm backtrace")
    assert "inner" in notes[0]
    assert "outer" in notes[0]
    assert notes[0].index("inner") < notes[0].index("outer")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes are 3.11+")
def test_host_exception_direct_call_has_no_wasm_note(store):
    def h():
        raise ValueError("no wasm here")

    f = Func(store, FuncType([], []), h)
    with pytest.raises(ValueError) as info:
        f(store)
    assert not any(n.startswith("wasm backtrace") for n in getattr(info.value, "__notes__", []))


def test_host_exception_nested_via_caller(store):
    """wasm -> host A -> (caller) wasm -> host B raises: the same object
    comes out of the outermost call, through both levels."""
    exc = KeyError("from B")
    seen_in_a = []

    def a(caller, x):
        try:
            return caller["callb"](caller, x)
        except BaseException as e:
            seen_in_a.append(e)
            raise

    def b(x):
        raise exc

    wat = """
    (module
      (import "" "a" (func $a (param i32) (result i32)))
      (import "" "b" (func $b (param i32) (result i32)))
      (func (export "calla") (param i32) (result i32) local.get 0 call $a)
      (func (export "callb") (param i32) (result i32) local.get 0 call $b))
    """
    fa = Func(store, FuncType([I32], [I32]), a, access_caller=True)
    fb = Func(store, FuncType([I32], [I32]), b)
    e = instantiate(store, wat, [fa, fb])
    with pytest.raises(KeyError) as info:
        e["calla"](store, 1)
    assert info.value is exc
    assert seen_in_a == [exc]


def test_host_exception_swallowed_in_nested_call_does_not_leak(store):
    """Host A catches the exception host B raised through a nested call; the
    outer call succeeds, and no later call sees the exception."""

    def a(caller, x):
        try:
            caller["callb"](caller, x)
        except ValueError:
            return 100
        return -1

    def b(x):
        raise ValueError("swallowed")

    wat = """
    (module
      (import "" "a" (func $a (param i32) (result i32)))
      (import "" "b" (func $b (param i32) (result i32)))
      (func (export "calla") (param i32) (result i32) local.get 0 call $a)
      (func (export "callb") (param i32) (result i32) local.get 0 call $b)
      (func (export "trap") unreachable))
    """
    fa = Func(store, FuncType([I32], [I32]), a, access_caller=True)
    fb = Func(store, FuncType([I32], [I32]), b)
    e = instantiate(store, wat, [fa, fb])
    assert e["calla"](store, 1) == 100
    with pytest.raises(Trap) as info:
        e["trap"](store)
    assert info.value.trap_code == TrapCode.UNREACHABLE


def test_after_a_failed_call_the_next_call_works(store):
    mode = ["raise"]

    def h(x):
        if mode[0] == "raise":
            raise RuntimeError("first")
        return x + 1

    wat = """
    (module
      (import "" "h" (func $h (param i32) (result i32)))
      (func (export "run") (param i32) (result i32) local.get 0 call $h)
      (func (export "trap") unreachable)
      (func (export "div") (param i32) (result i32) i32.const 1 local.get 0 i32.div_s))
    """
    e = instantiate(store, wat, [Func(store, FuncType([I32], [I32]), h)])
    with pytest.raises(RuntimeError, match="first"):
        e["run"](store, 1)
    # a plain trap afterwards is a Trap, not the stale RuntimeError
    with pytest.raises(Trap) as info:
        e["trap"](store)
    assert info.value.trap_code == TrapCode.UNREACHABLE
    with pytest.raises(Trap) as info:
        e["div"](store, 0)
    assert info.value.trap_code == TrapCode.INTEGER_DIVISION_BY_ZERO
    mode[0] = "ok"
    assert e["run"](store, 1) == 2
    assert e["div"](store, 1) == 1


def test_exceptions_of_two_stores_do_not_mix(engine):
    s1, s2 = Store(engine), Store(engine)
    e1, e2 = ValueError("store 1"), ValueError("store 2")

    def h1():
        raise e1

    def h2():
        raise e2

    f1 = Func(s1, FuncType([], []), h1)
    f2 = Func(s2, FuncType([], []), h2)
    with pytest.raises(ValueError) as info:
        f1(s1)
    assert info.value is e1
    with pytest.raises(ValueError) as info:
        f2(s2)
    assert info.value is e2


def test_host_exception_in_start_function(store):
    exc = OSError("from start")

    def h():
        raise exc

    wat = '(module (import "" "h" (func $h)) (start $h))'
    module = Module(store.engine, wat)
    with pytest.raises(OSError) as info:
        Instance(store, module, [Func(store, FuncType([], []), h)])
    assert info.value is exc


def test_host_exception_message_only_trap_is_not_used(store):
    """The reported error is the host's exception, not 'python exception'."""

    def h():
        raise LookupError("mine")

    f = Func(store, FuncType([], []), h)
    with pytest.raises(LookupError) as info:
        f(store)
    assert "python exception" not in str(info.value)


def test_recursive_host_and_wasm(store):
    """wasm -> host -> wasm -> host ... several levels deep returns normally."""

    def h(caller, n):
        if n == 0:
            return 0
        return caller["dec"](caller, n - 1) + 1

    wat = """
    (module
      (import "" "h" (func $h (param i32) (result i32)))
      (func (export "dec") (param i32) (result i32) local.get 0 call $h))
    """
    e = instantiate(store, wat, [Func(store, FuncType([I32], [I32]), h, access_caller=True)])
    assert e["dec"](store, 50) == 50


def test_func_from_other_engine_store_as_import(engine):
    """A Func of another store (same engine) as an import raises."""
    s1, s2 = Store(engine), Store(engine)
    f = Func(s1, FuncType([], []), lambda: None)
    module = Module(engine, '(module (import "" "" (func)))')
    with pytest.raises(WasmtimeError, match="wrong store"):
        Instance(s2, module, [f])
    Instance(s1, module, [f])


def test_call_with_other_store_raises(engine):
    s1, s2 = Store(engine), Store(engine)
    f = Func(s1, FuncType([I32], [I32]), lambda x: x)
    with pytest.raises(WasmtimeError, match="wrong store"):
        f(s2, 1)
    with pytest.raises(WasmtimeError, match="wrong store"):
        f.type(s2)
    e = instantiate(s1, '(module (func (export "f") (result i32) i32.const 1))')
    with pytest.raises(WasmtimeError, match="wrong store"):
        e["f"](s2)
    other_engine_store = Store(Engine())
    with pytest.raises(WasmtimeError, match="wrong store"):
        e["f"](other_engine_store)
    assert f(s1, 4) == 4
    assert e["f"](s1) == 1


def test_call_after_store_closed(engine):
    store = Store(engine)
    f = Func(store, FuncType([], [I32]), lambda: 1)
    e = instantiate(store, '(module (func (export "g") (result i32) i32.const 2))')
    g = e["g"]
    store.close()
    with pytest.raises(ValueError):
        f(store)
    with pytest.raises(ValueError):
        g(store)
    with pytest.raises(ValueError):
        f.type(store)
    with pytest.raises(ValueError):
        g.type(store)


# ---- signatures Python cannot call must raise, never abort ------------------


def test_v128_signatures_are_callable():
    store = Store()
    wat = """(module
      (func (export "p") (param v128))
      (func (export "r") (result v128) v128.const i32x4 1 2 3 4)
      (func (export "mixed") (param i32 v128) (result i32) local.get 0))"""
    ex = Instance(store, Module(store.engine, wat), []).exports(store)
    assert str(ex["mixed"].type(store).params) == "[i32, v128]"
    assert ex["p"](store, 1) is None
    assert ex["r"](store) == 1 | 2 << 32 | 3 << 64 | 4 << 96
    assert ex["mixed"](store, 7, 2**128 - 1) == 7
    with pytest.raises(TypeError):
        ex["p"](store, 1.0)


GC_REF_SCRIPT = r"""
import wasmtime as w
cfg = w.Config()
cfg.wasm_gc = True
cfg.wasm_function_references = True
engine = w.Engine(cfg)
store = w.Store(engine)
wat = '''(module
  (func (export "mk") (result i31ref) i32.const 5 ref.i31)
  (func (export "take") (param anyref))
  (func (export "nonnull") (param (ref extern))))'''
ex = w.Instance(store, w.Module(engine, wat), []).exports(store)
print("arity", ex["mk"].result_arity(), ex["take"].param_arity())
for name, args in [("mk", ()), ("take", (None,)), ("nonnull", (1,))]:
    try:
        ex[name](store, *args)
        print(name, "no error")
    except w.WasmtimeError:
        print(name, "WasmtimeError")
ex["mk"].type(store).results
print("done")
"""


def test_gc_reference_signatures_cross_or_raise_instead_of_aborting(run_python):
    # i31ref and anyref cross (tests/test_anyref.py); a non-null externref
    # parameter still raises.
    r = run_python(GC_REF_SCRIPT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "arity 1 1",
        "mk no error",
        "take no error",
        "nonnull WasmtimeError",
        "done",
    ]


def test_one_functype_used_with_two_engines():
    # Wasmtime binds a C function type to the first engine that uses it and
    # aborts the process when another engine uses it (found by fuzzing): each
    # use goes through a fresh copy.
    ty = FuncType([ValType.i32()], [ValType.i32()])
    for _ in range(2):
        store = Store(Engine())
        f = Func(store, ty, lambda x: x + 1)
        assert f(store, 1) == 2
    engines = [Engine(), Engine()]
    for engine in engines:
        linker = Linker(engine)
        linker.define_func("m", "f", ty, lambda x: x * 2)
        module = Module(
            engine,
            '(module (import "m" "f" (func $f (param i32) (result i32)))'
            ' (func (export "run") (param i32) (result i32) local.get 0 call $f))',
        )
        store = Store(engine)
        assert linker.instantiate(store, module).exports(store)["run"](store, 21) == 42
