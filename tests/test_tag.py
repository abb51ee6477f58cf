"""wasmtime.Tag: exception tags, with wasm_exceptions."""

import pytest

from wasmtime import (
    Config,
    Engine,
    FuncType,
    Instance,
    Module,
    Store,
    Tag,
    TagType,
    Trap,
    ValType,
    WasmtimeError,
)

I32, I64 = ValType.i32(), ValType.i64()

WAT = """
(module
  (import "" "t" (tag $t (param i32)))
  (tag $own (export "own") (param i64))
  (export "reexported" (tag $t))
  (func (export "throw") (param i32) local.get 0 throw $t)
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) local.get 0 throw $t)
      i32.const -1)))
"""


@pytest.fixture
def exc_engine():
    config = Config()
    config.wasm_exceptions = True
    return Engine(config)


@pytest.fixture
def exc_store(exc_engine):
    return Store(exc_engine)


def i32_tag(store):
    return Tag(store, TagType(FuncType([I32], [])))


def test_new_and_type(exc_store):
    tag = Tag(exc_store, TagType(FuncType([I32, I64], [])))
    ty = tag.type(exc_store)
    assert isinstance(ty, TagType)
    assert ty.functype.params == [I32, I64]
    assert ty.functype.results == []


def test_eq(exc_store):
    a = i32_tag(exc_store)
    b = i32_tag(exc_store)
    assert a.eq(exc_store, a) is True
    assert a.eq(exc_store, b) is False
    assert b.eq(exc_store, a) is False


def test_eq_errors(exc_store):
    a = i32_tag(exc_store)
    with pytest.raises(TypeError):
        a.eq(exc_store, 1)
    with pytest.raises(TypeError):
        a.eq(exc_store)


def test_constructor_errors(exc_store):
    with pytest.raises(TypeError):
        Tag(exc_store, "x")
    with pytest.raises(TypeError):
        Tag(exc_store, FuncType([I32], []))
    with pytest.raises((TypeError, AttributeError)):
        Tag(1, TagType(FuncType([], [])))
    closed = TagType(FuncType([], []))
    closed.close()
    with pytest.raises(ValueError):
        Tag(exc_store, closed)


def test_import_export(exc_store):
    tag = i32_tag(exc_store)
    ex = Instance(exc_store, Module(exc_store.engine, WAT), [tag]).exports(exc_store)
    own = ex["own"]
    assert isinstance(own, Tag)
    assert own.type(exc_store).functype.params == [I64]
    # the re-export names the same tag as the import
    assert ex["reexported"].eq(exc_store, tag)
    assert tag.eq(exc_store, ex["reexported"])
    assert not own.eq(exc_store, tag)
    assert list(ex.keys()) == ["own", "reexported", "throw", "catch"]


def test_wasm_throw_and_catch_with_imported_tag(exc_store):
    tag = i32_tag(exc_store)
    ex = Instance(exc_store, Module(exc_store.engine, WAT), [tag]).exports(exc_store)
    assert ex["catch"](exc_store, 5) == 5
    with pytest.raises(Trap) as info:
        ex["throw"](exc_store, 3)
    assert "exception" in str(info.value)
    assert not isinstance(info.value, WasmtimeError)
    # the store works after an uncaught exception
    assert ex["catch"](exc_store, 6) == 6


def test_shared_tag_between_instances(exc_store):
    """Two instances importing one tag: a throw in one is caught by the other."""
    tag = i32_tag(exc_store)
    thrower = Instance(exc_store, Module(exc_store.engine, WAT), [tag]).exports(exc_store)
    catcher_wat = """
    (module
      (import "" "t" (tag $t (param i32)))
      (import "" "throw" (func $throw (param i32)))
      (func (export "catch") (param i32) (result i32)
        (block $h (result i32)
          (try_table (catch $t $h) local.get 0 call $throw)
          i32.const -1)))
    """
    catcher = Instance(
        exc_store, Module(exc_store.engine, catcher_wat), [tag, thrower["throw"]]
    ).exports(exc_store)
    assert catcher["catch"](exc_store, 41) == 41
    # a different tag of the same type does not catch it
    other = i32_tag(exc_store)
    catcher2 = Instance(
        exc_store, Module(exc_store.engine, catcher_wat), [other, thrower["throw"]]
    ).exports(exc_store)
    with pytest.raises(Trap):
        catcher2["catch"](exc_store, 1)


def test_import_type_mismatch(exc_store):
    wrong = Tag(exc_store, TagType(FuncType([I64], [])))
    with pytest.raises(WasmtimeError):
        Instance(exc_store, Module(exc_store.engine, WAT), [wrong])


def test_wrong_store(exc_engine):
    s1, s2 = Store(exc_engine), Store(exc_engine)
    tag = i32_tag(s1)
    other = i32_tag(s2)
    for store in (s2, Store(exc_engine)):
        with pytest.raises(WasmtimeError, match="wrong store"):
            tag.type(store)
        with pytest.raises(WasmtimeError, match="wrong store"):
            tag.eq(store, tag)
    # a tag of another store is never equal
    assert tag.eq(s1, other) is False
    with pytest.raises(WasmtimeError, match="wrong store"):
        Instance(s2, Module(exc_engine, WAT), [tag])
    assert tag.eq(s1, tag)


def test_after_close(exc_engine):
    store = Store(exc_engine)
    tag = i32_tag(store)
    store.close()
    with pytest.raises(ValueError):
        tag.type(store)
    with pytest.raises(ValueError):
        tag.eq(store, tag)
    with pytest.raises(ValueError):
        i32_tag(store)


def test_one_tag_type_used_with_two_engines():
    # A C tag type binds to the first engine that uses it; a second engine
    # aborted the process (found by fuzzing).
    ty = TagType(FuncType([ValType.i32()], []))
    for _ in range(2):
        config = Config()
        config.wasm_exceptions = True
        store = Store(Engine(config))
        tag = Tag(store, ty)
        assert tag.type(store).functype.params == [ValType.i32()]
