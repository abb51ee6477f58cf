"""Wasm exceptions in both directions: an uncaught one raises WasmException
(a Trap) with its tag and fields; a host function raising one throws it into
wasm, where try_table catches it."""

import pytest

from wasmtime import (
    Config,
    Engine,
    Func,
    FuncType,
    Instance,
    Linker,
    Module,
    Store,
    Tag,
    TagType,
    Trap,
    ValType,
    WasmException,
    WasmtimeError,
)

I32, I64, F64 = ValType.i32(), ValType.i64(), ValType.f64()

WAT = """(module
  (import "host" "boom" (func $boom (param i32)))
  (tag $t (export "t") (param i32 i64))
  (tag $e (export "e"))
  (func (export "throw") (param i32) (throw $t (local.get 0) (i64.const -7)))
  (func (export "throw_empty") (throw $e))
  ;; Calls the host, catching $t: returns the first field + 1000, or -1 when
  ;; nothing was thrown.
  (func (export "catch_host") (param i32) (result i32)
    (block $h (result i32 i64)
      (try_table (catch $t $h)
        (call $boom (local.get 0)))
      (return (i32.const -1)))
    drop
    i32.const 1000
    i32.add)
  ;; Calls the host without catching anything.
  (func (export "through") (param i32) (call $boom (local.get 0))))"""


def make(host=None):
    config = Config()
    config.wasm_exceptions = True
    engine = Engine(config)
    store = Store(engine)
    module = Module(engine, WAT)
    linker = Linker(engine)
    holder = {}
    boom_ty = FuncType([I32], [])

    def boom(x):
        return host(holder, x) if host else None

    linker.define_func("host", "boom", boom_ty, boom)
    ex = linker.instantiate(store, module).exports(store)
    holder["ex"] = ex
    holder["store"] = store
    return store, ex


def test_uncaught_exception_raises_wasm_exception():
    store, ex = make()
    with pytest.raises(WasmException) as info:
        ex["throw"](store, 5)
    exc = info.value
    assert isinstance(exc, Trap)
    assert exc.fields == [5, -7]
    assert exc.tag.eq(store, ex["t"])
    assert not exc.tag.eq(store, ex["e"])
    assert "exception" in str(exc)
    assert len(exc.frames) >= 1


def test_uncaught_exception_without_fields():
    store, ex = make()
    with pytest.raises(WasmException) as info:
        ex["throw_empty"](store)
    assert info.value.fields == []
    assert info.value.tag.eq(store, ex["e"])
    # The store is usable afterwards and the exception is not pending anymore.
    with pytest.raises(WasmException) as again:
        ex["throw"](store, 1)
    assert again.value.fields == [1, -7]


def test_host_throws_into_wasm_and_try_table_catches():
    def host(h, x):
        if x:
            raise WasmException(h["ex"]["t"], [x, 99])

    store, ex = make(host)
    assert ex["catch_host"](store, 0) == -1
    assert ex["catch_host"](store, 5) == 1005


def test_host_throw_not_caught_comes_back_as_wasm_exception():
    def host(h, x):
        raise WasmException(h["ex"]["t"], [x, 3])

    store, ex = make(host)
    with pytest.raises(WasmException) as info:
        ex["through"](store, 8)
    assert info.value.fields == [8, 3]
    assert info.value.tag.eq(store, ex["t"])


def test_host_throw_with_an_uncatchable_tag_passes_through_try_table():
    def host(h, x):
        raise WasmException(h["ex"]["e"], [])

    store, ex = make(host)
    with pytest.raises(WasmException) as info:
        ex["catch_host"](store, 1)
    assert info.value.tag.eq(store, ex["e"])


def test_host_throw_with_wrong_fields_is_reported():
    def host(h, x):
        raise WasmException(h["ex"]["t"], [1])

    store, ex = make(host)
    with pytest.raises(WasmtimeError, match="takes 2 fields, 1 given"):
        ex["through"](store, 1)

    def host2(h, x):
        raise WasmException(h["ex"]["t"], [1.5, 2])

    store, ex = make(host2)
    with pytest.raises(TypeError):
        ex["through"](store, 1)


def test_host_throw_with_a_tag_of_another_store():
    other = Store()
    foreign = Tag(other, TagType(FuncType([I32, I64], [])))

    def host(h, x):
        raise WasmException(foreign, [1, 2])

    store, ex = make(host)
    with pytest.raises(WasmtimeError, match="wrong store"):
        ex["through"](store, 1)


def test_host_throw_with_something_else_than_a_tag():
    def host(h, x):
        raise WasmException("not a tag", [])

    store, ex = make(host)
    with pytest.raises(TypeError):
        ex["through"](store, 1)


def test_host_tag_thrown_from_python_made_tag():
    config = Config()
    config.wasm_exceptions = True
    engine = Engine(config)
    store = Store(engine)
    tag = Tag(store, TagType(FuncType([F64], [])))
    module = Module(
        engine,
        """(module
          (import "" "t" (tag $t (param f64)))
          (import "" "f" (func $f))
          (func (export "run") (result f64)
            (block $h (result f64)
              (try_table (catch $t $h) (call $f))
              (return (f64.const -1)))))""",
    )

    def f():
        raise WasmException(tag, [2.5])

    func = Func(store, FuncType([], []), f)
    run = Instance(store, module, [tag, func]).exports(store)["run"]
    assert run(store) == 2.5


def test_start_function_that_throws():
    config = Config()
    config.wasm_exceptions = True
    engine = Engine(config)
    store = Store(engine)
    module = Module(
        engine,
        "(module (tag $t (param i32)) (func $s (throw $t (i32.const 3))) (start $s))",
    )
    with pytest.raises(WasmException) as info:
        Instance(store, module, [])
    assert info.value.fields == [3]
    with pytest.raises(WasmException):
        Linker(engine).instantiate(store, module)


def test_ordinary_host_errors_are_unchanged():
    def host(h, x):
        raise KeyError("plain")

    store, ex = make(host)
    with pytest.raises(KeyError):
        ex["catch_host"](store, 1)


def test_wasm_exception_from_python():
    store = Store()
    tag = Tag(store, TagType(FuncType([I32], [])))
    exc = WasmException(tag, (1,))
    assert exc.tag is tag
    assert exc.fields == [1]
    assert isinstance(exc, Trap)
    assert str(exc) == "wasm exception"
