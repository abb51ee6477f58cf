"""exnref values crossing: a caught exception handed to Python as an ExnRef
(params, results, globals, tables), made from Python with ExnRef(store, tag,
fields), and rethrown or caught by wasm."""

import gc

import pytest

from wasmtime import (
    Config,
    Engine,
    ExnRef,
    FuncType,
    Instance,
    Module,
    Store,
    Tag,
    TagType,
    ValType,
    WasmException,
    WasmtimeError,
)

WAT = """(module
  (tag $t (export "t") (param i32 f64))
  (tag $u (export "u"))
  (global (export "g") (mut exnref) (ref.null exn))
  (table (export "tb") 2 exnref)
  ;; throws $t and returns the caught exception as a value
  (func (export "mk") (param i32) (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $t (local.get 0) (f64.const 1.5)))
      (unreachable)))
  (func (export "rethrow") (param exnref) (throw_ref (local.get 0)))
  ;; rethrows its argument and catches it as $t: the first field, or -1 for
  ;; another tag
  (func (export "field0") (param exnref) (result i32)
    (block $other
      (block $h (result i32 f64)
        (try_table (catch $t $h) (catch_all $other) (throw_ref (local.get 0)))
        (unreachable))
      (drop)
      (return))
    (i32.const -1))
  (func (export "is_null") (param exnref) (result i32) (ref.is_null (local.get 0)))
  (func (export "id") (param exnref) (result exnref) local.get 0))"""


def exn_engine():
    config = Config()
    config.wasm_gc = True
    config.wasm_function_references = True
    config.wasm_exceptions = True
    return Engine(config)


@pytest.fixture
def env():
    engine = exn_engine()
    store = Store(engine)
    return store, Instance(store, Module(engine, WAT), []).exports(store)


def test_result_is_an_exnref_with_tag_and_fields(env):
    store, ex = env
    x = ex["mk"](store, 5)
    assert type(x) is ExnRef
    assert x.fields == [5, 1.5]
    assert isinstance(x.tag, Tag)
    assert ex["field0"](store, x) == 5
    assert "ExnRef" in repr(x)


def test_param_round_trip_and_null(env):
    store, ex = env
    x = ex["mk"](store, 6)
    assert ex["id"](store, x).fields == [6, 1.5]
    assert ex["id"](store, None) is None
    assert ex["is_null"](store, None) == 1 and ex["is_null"](store, x) == 0
    with pytest.raises(TypeError):
        ex["id"](store, 1)
    with pytest.raises(TypeError):
        ex["id"](store, WasmException(ex["t"], [1, 1.0]))


def test_rethrown_exnref_raises_wasm_exception(env):
    store, ex = env
    x = ex["mk"](store, 7)
    with pytest.raises(WasmException) as info:
        ex["rethrow"](store, x)
    assert info.value.fields == [7, 1.5]


def test_made_from_python(env):
    store, ex = env
    y = ExnRef(store, ex["t"], [9, 2.0])
    assert y.fields == [9, 2.0]
    assert ex["field0"](store, y) == 9
    assert ex["field0"](store, ExnRef(store, ex["u"], [])) == -1
    assert ex["field0"](store, ExnRef(store, tag=ex["t"], fields=(3, 0.5))) == 3
    host_tag = Tag(store, TagType(FuncType([ValType.i64()], [])))
    assert ExnRef(store, host_tag, [2**40]).fields == [2**40]


def test_globals_and_tables(env):
    store, ex = env
    y = ExnRef(store, ex["t"], [4, 0.0])
    ex["g"].set_value(store, y)
    assert ex["g"].value(store).fields == [4, 0.0]
    ex["g"].set_value(store, None)
    assert ex["g"].value(store) is None
    ex["tb"].set(store, 1, y)
    assert ex["tb"].get(store, 1).fields == [4, 0.0]
    assert ex["tb"].get(store, 0) is None
    with pytest.raises(TypeError):
        ex["g"].set_value(store, 3)


def test_bad_construction(env):
    store, ex = env
    with pytest.raises(WasmtimeError, match="takes 2 fields, 1 given"):
        ExnRef(store, ex["t"], [1])
    with pytest.raises(TypeError):
        ExnRef(store, ex["t"], [1, "x"])
    with pytest.raises(TypeError):
        ExnRef(store, ex["g"], [])
    with pytest.raises(TypeError):
        ExnRef(store, ex["t"], 5)
    with pytest.raises(TypeError):
        ExnRef(ex["t"], ex["t"], [])


def test_wrong_store(env):
    store, ex = env
    other = Store(store.engine)
    ex2 = Instance(other, Module(store.engine, WAT), []).exports(other)
    x = ex["mk"](store, 1)
    with pytest.raises(WasmtimeError, match="wrong store: the ExnRef"):
        ex2["id"](other, x)
    with pytest.raises(WasmtimeError, match="wrong store"):
        ex2["g"].set_value(other, x)
    with pytest.raises(WasmtimeError, match="wrong store: the Tag"):
        ExnRef(other, ex["t"], [1, 1.0])


def test_closed_store(env):
    store, ex = env
    x = ex["mk"](store, 1)
    t = ex["t"]
    store.close()
    with pytest.raises(ValueError):
        x.fields
    with pytest.raises(ValueError):
        x.tag
    with pytest.raises(ValueError):
        ExnRef(store, t, [1, 1.0])
    del x
    gc.collect()


def test_evil_fields_iterable_closes_the_store(env):
    store, ex = env

    class Closes:
        def __iter__(self):
            store.close()
            return iter([1, 1.0])

    with pytest.raises(ValueError, match="closed"):
        ExnRef(store, ex["t"], Closes())


def test_many_exnrefs_are_released(env):
    store, ex = env
    for i in range(20000):
        assert ex["field0"](store, ExnRef(store, ex["t"], [i, 0.0])) == i
    gc.collect()
    store.gc()
    assert sum(isinstance(o, ExnRef) for o in gc.get_objects()) == 0


def test_second_thread_is_refused_while_the_store_runs(env):
    import threading

    from wasmtime import Func

    store, ex = env
    x = ex["mk"](store, 1)
    outcome = []
    inside, proceed = threading.Event(), threading.Event()

    def host():
        inside.set()
        proceed.wait(30)

    def other():
        inside.wait(30)
        try:
            for call in (lambda: x.fields, lambda: x.tag, lambda: ExnRef(store, ex["t"], [1, 1.0])):
                try:
                    call()
                    outcome.append("no error")
                except RuntimeError as e:
                    outcome.append(e)
        finally:
            proceed.set()

    t = threading.Thread(target=other)
    t.start()
    Func(store, FuncType([], []), host)(store)
    t.join(30)
    assert len(outcome) == 3 and all(isinstance(e, RuntimeError) for e in outcome), outcome
    assert x.fields == [1, 1.5]


def test_equal_means_the_same_exception_object(env):
    store, ex = env
    x = ex["mk"](store, 1)
    same = ex["id"](store, x)
    other = ExnRef(store, ex["t"], [1, 1.5])
    assert same is not x
    assert x == same and hash(x) == hash(same) and not (x != same)
    assert x != other and len({x, same, other}) == 2
    assert x != 1 and x.__eq__("x") is NotImplemented
    kept = [ExnRef(store, ex["t"], [i, 0.0]) for i in range(500)]
    hashes = [hash(k) for k in kept]
    del kept[::2], hashes[::2]
    gc.collect()
    store.gc()
    for i in range(1000):
        ExnRef(store, ex["t"], [i, 0.0])
    store.gc()
    assert [hash(k) for k in kept] == hashes
    assert all(ex["id"](store, k) == k for k in kept)
    assert [k.fields[0] for k in kept[:3]] == [1, 3, 5]
    h = hash(x)
    fresh = ExnRef(store, ex["t"], [0, 0.0])  # identity never read
    store.close()
    assert hash(x) == h and x == x and x != other
    with pytest.raises(ValueError):
        hash(fresh)
