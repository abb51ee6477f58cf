"""GC references as classes: AnyRef > EqRef > StructRef/ArrayRef, chosen by
what the object is; structs and arrays built from Python through StructType
and ArrayType; equality meaning the same GC object."""

import gc

import pytest

from wasmtime import (
    AnyRef,
    ArrayRef,
    ArrayType,
    Config,
    Engine,
    EqRef,
    FieldType,
    Func,
    FuncType,
    Instance,
    Linker,
    Module,
    Store,
    StructRef,
    StructType,
    ValType,
    WasmtimeError,
)

WAT = """(module
  (type $p (struct (field (mut i32))))
  (type $n (struct (field (ref $p))))
  (type $a (array (mut i32)))
  (type $c (array i64))
  (func (export "pt") (param i32) (result (ref $p)) (struct.new $p (local.get 0)))
  (func (export "pt_get") (param (ref null $p)) (result i32) (struct.get $p 0 (local.get 0)))
  (func (export "nest") (result (ref $n)) (struct.new $n (struct.new $p (i32.const 4))))
  (func (export "arr") (param i32) (result (ref $a)) (array.new $a (i32.const 9) (local.get 0)))
  (func (export "carr") (result (ref $c)) (array.new $c (i64.const 3) (i32.const 2)))
  (func (export "arr_sum") (param (ref null $a)) (result i32)
    (local $i i32) (local $s i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (array.len (local.get 0))))
      (local.set $s (i32.add (local.get $s) (array.get $a (local.get 0) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $s))
  (func (export "conv") (param externref) (result anyref) (any.convert_extern (local.get 0)))
  (func (export "id") (param anyref) (result anyref) local.get 0)
  (func (export "eq") (param eqref eqref) (result i32) (ref.eq (local.get 0) (local.get 1))))"""


def gc_config():
    config = Config()
    config.wasm_gc = True
    config.wasm_function_references = True
    return config


@pytest.fixture
def env():
    engine = Engine(gc_config())
    store = Store(engine)
    return store, Instance(store, Module(engine, WAT), []).exports(store)


def other_env(store):
    other = Store(store.engine)
    return other, Instance(other, Module(store.engine, WAT), []).exports(other)


# ---- classes ----------------------------------------------------------------


def test_each_kind_comes_as_its_class(env):
    store, ex = env
    p = ex["pt"](store, 1)
    a = ex["arr"](store, 2)
    plain = ex["conv"](store, object())
    assert type(p) is StructRef and type(a) is ArrayRef and type(plain) is AnyRef
    assert isinstance(p, EqRef) and isinstance(p, AnyRef)
    assert isinstance(a, EqRef) and not isinstance(plain, EqRef)
    assert issubclass(StructRef, EqRef) and issubclass(ArrayRef, EqRef)
    assert issubclass(EqRef, AnyRef)
    assert (p.kind(store), a.kind(store), plain.kind(store)) == ("struct", "array", "any")
    assert type(ex["id"](store, p)) is StructRef
    assert type(ex["id"](store, 5)) is int  # i31 stays an int
    assert "StructRef" in repr(p) and "ArrayRef" in repr(a)


def test_none_of_them_is_constructible():
    for cls in (AnyRef, EqRef, StructRef, ArrayRef):
        with pytest.raises(TypeError):
            cls()


def test_plain_anyref_round_trips_and_checks_the_store(env):
    store, ex = env
    payload = object()
    plain = ex["conv"](store, payload)
    assert ex["id"](store, plain) == plain
    other, ex2 = other_env(store)
    with pytest.raises(WasmtimeError, match="wrong store: the AnyRef"):
        ex2["id"](other, plain)


# ---- equality -----------------------------------------------------------------


def test_equal_means_the_same_gc_object(env):
    store, ex = env
    p = ex["pt"](store, 1)
    same = ex["id"](store, p)
    twin = ex["pt"](store, 1)
    assert p is not same
    assert p == same and not (p != same) and hash(p) == hash(same)
    assert p != twin and not (p == twin)
    assert len({p, same, twin}) == 2
    assert p != 1 and p != None  # noqa: E711
    assert p.__eq__("x") is NotImplemented


def test_equality_agrees_with_ref_eq(env):
    store, ex = env
    objs = [ex["pt"](store, i % 3) for i in range(6)] + [ex["arr"](store, 1)]
    objs += [ex["id"](store, o) for o in objs]
    for x in objs:
        for y in objs:
            assert (x == y) == bool(ex["eq"](store, x, y))


def test_equality_survives_collection(env):
    store, ex = env
    kept = [ex["pt"](store, i) for i in range(2000)]
    hashes = [hash(k) for k in kept]
    del kept[::2], hashes[::2]
    gc.collect()
    store.gc()
    for i in range(5000):  # reuse the freed space
        ex["pt"](store, i)
    store.gc()
    assert [hash(k) for k in kept] == hashes
    assert all(ex["id"](store, k) == k for k in kept)
    assert len(set(kept)) == len(kept)
    assert [ex["pt_get"](store, k) for k in kept[:3]] == [1, 3, 5]


def test_different_stores_are_never_equal(env):
    store, ex = env
    other, ex2 = other_env(store)
    assert ex["pt"](store, 1) != ex2["pt"](other, 1)


def test_equality_after_the_store_is_closed(env):
    store, ex = env
    p = ex["pt"](store, 1)
    q = ex["id"](store, p)
    r = ex["pt"](store, 2)
    h = hash(p)
    store.close()
    assert hash(p) == h  # read before: cached
    assert p == p
    with pytest.raises(ValueError):
        hash(r)  # never read, and the Store is gone
    with pytest.raises(ValueError):
        assert p == q


# ---- struct and array types ---------------------------------------------------


def test_field_types_read_from_objects(env):
    store, ex = env
    assert ex["pt"](store, 1).type(store).fields == [FieldType(ValType.i32(), mutable=True)]
    assert ex["arr"](store, 1).type(store).element == FieldType(ValType.i32(), True)
    assert ex["carr"](store).type(store).element == FieldType(ValType.i64())
    nest = ex["nest"](store).type(store).fields[0]
    assert nest.mutable is False and isinstance(nest.storage, ValType)
    assert repr(ex["pt"](store, 1).type(store)) == "StructType([FieldType(i32, mutable=True)])"
    assert ex["pt"](store, 1).type(store).engine is store.engine


def test_field_type_values():
    f = FieldType("i8", mutable=True)
    assert (f.storage, f.mutable) == ("i8", True)
    assert FieldType(ValType.f64()).mutable is False
    assert FieldType("i16") == FieldType("i16") and FieldType("i16") != FieldType("i8")
    assert FieldType(ValType.i32()) != FieldType(ValType.i32(), True)
    assert FieldType("i8") != FieldType(ValType.i32())
    with pytest.raises(TypeError):
        hash(f)
    with pytest.raises(ValueError, match="i8"):
        FieldType("i32")
    with pytest.raises(TypeError):
        FieldType(5)
    with pytest.raises(AttributeError):
        f.mutable = False


def test_struct_type_from_python():
    engine = Engine(gc_config())
    fields = [
        FieldType(ValType.i64(), True),
        FieldType("i16"),
        FieldType(ValType.externref(), True),
    ]
    ty = StructType(engine, fields)
    assert ty.fields == fields and ty.engine is engine
    assert StructType(engine, []).fields == []
    with pytest.raises(TypeError):
        StructType(engine, [ValType.i32()])
    with pytest.raises(TypeError):
        StructType(engine, 5)
    with pytest.raises(TypeError):
        StructType(Store(engine), fields)
    with pytest.raises(WasmtimeError, match="at most"):
        StructType(engine, [FieldType("i8")] * 10001)
    ref_ty = Module(engine, WAT).exports[0].type.results[0]  # (ref $p): not buildable
    with pytest.raises(WasmtimeError, match="cannot be used to build"):
        StructType(engine, [FieldType(ref_ty)])
    closed = Engine(gc_config())
    closed.close()
    with pytest.raises(ValueError):
        StructType(closed, fields)


def test_array_type_from_python():
    engine = Engine(gc_config())
    ty = ArrayType(engine, FieldType(ValType.f32(), True))
    assert ty.element == FieldType(ValType.f32(), True)
    with pytest.raises(TypeError):
        ArrayType(engine, ValType.f32())
    with pytest.raises(TypeError):
        ArrayType(None, FieldType("i8"))


# ---- structs from Python ------------------------------------------------------


def test_struct_from_a_module_type_goes_into_wasm(env):
    store, ex = env
    ty = ex["pt"](store, 0).type(store)
    s = StructRef.new(store, ty, [41])
    assert type(s) is StructRef
    assert ex["pt_get"](store, s) == 41
    s.set_field(store, 0, 42)
    assert ex["pt_get"](store, s) == 42
    assert StructRef.new(store, ty, fields=(7,)).field(store, 0) == 7


def test_struct_from_a_python_type(env):
    store, ex = env
    payload = object()
    ty = StructType(
        store.engine,
        [
            FieldType(ValType.i32(), True),
            FieldType("i8", True),
            FieldType(ValType.f64()),
            FieldType(ValType.externref(), True),
            FieldType(ValType.v128()),
        ],
    )
    s = StructRef.new(store, ty, [-1, 300, 2.5, payload, 2**100])
    assert [s.field(store, i) for i in range(5)] == [-1, 44, 2.5, payload, 2**100]
    assert s.type(store).fields == ty.fields
    with pytest.raises(WasmtimeError):
        s.set_field(store, 2, 1.0)  # immutable
    # Types are canonical, as in wasm: the same fields make the module's $p ...
    same_as_p = StructType(store.engine, [FieldType(ValType.i32(), True)])
    assert ex["pt_get"](store, StructRef.new(store, same_as_p, [8])) == 8
    # ... and other fields another type.
    with pytest.raises(WasmtimeError, match="mismatch"):
        ex["pt_get"](store, s)


def test_struct_new_refuses_bad_input(env):
    store, ex = env
    ty = ex["pt"](store, 0).type(store)
    with pytest.raises(WasmtimeError, match="has 1 fields, 2 given"):
        StructRef.new(store, ty, [1, 2])
    with pytest.raises(TypeError):
        StructRef.new(store, ty, ["1"])
    with pytest.raises(TypeError):
        StructRef.new(store, ty, [1.0])
    with pytest.raises(TypeError):
        StructRef.new(store, ex["arr"](store, 1).type(store), [1])
    with pytest.raises(TypeError):
        StructRef.new(store, ty, 1)
    with pytest.raises(TypeError):
        StructRef.new(ty, ty, [1])
    # A non-null reference field given null: Wasmtime's type check.
    with pytest.raises(WasmtimeError):
        StructRef.new(store, ex["nest"](store).type(store), [None])
    # A struct of the wrong kind for a typed field.
    with pytest.raises(WasmtimeError):
        StructRef.new(store, ex["nest"](store).type(store), [ex["arr"](store, 1)])
    inner = ex["pt"](store, 6)
    n = StructRef.new(store, ex["nest"](store).type(store), [inner])
    assert n.field(store, 0) == inner


def test_struct_new_wrong_store_engine_and_closed(env):
    store, ex = env
    ty = ex["pt"](store, 0).type(store)
    other, ex2 = other_env(store)
    # the same engine: the type works in the other store ...
    assert ex2["pt_get"](other, StructRef.new(other, ty, [3])) == 3
    # ... but a field holding an object of this store does not
    nest_ty = ex["nest"](store).type(store)
    with pytest.raises(WasmtimeError, match="wrong store"):
        StructRef.new(other, nest_ty, [ex["pt"](store, 1)])
    foreign = Store(Engine(gc_config()))
    with pytest.raises(WasmtimeError, match="another Engine"):
        StructRef.new(foreign, ty, [1])
    store.close()
    with pytest.raises(ValueError):
        StructRef.new(store, ty, [1])


def test_struct_new_with_a_caller(env):
    store, ex = env
    ty = ex["pt"](store, 0).type(store)
    made = []

    def host(caller):
        made.append(StructRef.new(caller, ty, [11]))

    Func(store, FuncType([], []), host, access_caller=True)(store)
    assert ex["pt_get"](store, made[0]) == 11


class ClosesOnIter:
    def __init__(self, store, items):
        self.store, self.items = store, items

    def __iter__(self):
        self.store.close()
        return iter(self.items)


def test_evil_fields_iterable_closes_the_store(env):
    store, ex = env
    ty = ex["pt"](store, 0).type(store)
    with pytest.raises(ValueError, match="closed"):
        StructRef.new(store, ty, ClosesOnIter(store, [1]))


def test_evil_array_values_close_the_store(env):
    store, ex = env
    ty = ex["arr"](store, 1).type(store)
    with pytest.raises(ValueError, match="closed"):
        ArrayRef.from_values(store, ty, ClosesOnIter(store, [1, 2]))


def test_evil_int_subclass_runs_no_code(env):
    store, ex = env

    class EvilInt(int):
        def __index__(self):
            store.close()
            return 3

    ty = ex["arr"](store, 1).type(store)
    a = ArrayRef.new(store, ty, EvilInt(1), EvilInt(2))
    assert list(a) == [1, 1]
    assert a.get(store, EvilInt(1)) == 1
    assert ex["arr_sum"](store, a) == 2  # __index__ never ran: the Store is open


# ---- arrays from Python -------------------------------------------------------


def test_array_new_and_from_values(env):
    store, ex = env
    ty = ex["arr"](store, 1).type(store)
    a = ArrayRef.new(store, ty, 5, 4)
    assert type(a) is ArrayRef and len(a) == 4 and list(a) == [5, 5, 5, 5]
    assert ex["arr_sum"](store, a) == 20
    b = ArrayRef.from_values(store, ty, [1, 2, 3])
    assert list(b) == [1, 2, 3] and ex["arr_sum"](store, b) == 6
    assert len(ArrayRef.from_values(store, ty, [])) == 0
    assert len(ArrayRef.new(store, ty, 0, 0)) == 0
    ity = ex["carr"](store).type(store)  # immutable elements
    assert list(ArrayRef.from_values(store, ity, [8])) == [8]
    assert list(ArrayRef.new(store, ity, 2, 3)) == [2, 2, 2]
    with pytest.raises(WasmtimeError, match="mutable"):
        ArrayRef.from_values(store, ity, [1, 2])
    fty = ArrayType(store.engine, FieldType(ValType.f32(), True))
    assert list(ArrayRef.from_values(store, fty, [0.5, 1.5])) == [0.5, 1.5]
    pty = ArrayType(store.engine, FieldType("i16", True))
    assert list(ArrayRef.from_values(store, pty, [1, 70000])) == [1, 70000 & 0xFFFF]


def test_array_sequence_protocol(env):
    store, ex = env
    a = ex["arr"](store, 3)
    a[0] = 1
    a[-1] = 3
    assert list(a) == [1, 9, 3] and a[-2] == 9 and a[2] == 3
    with pytest.raises(IndexError):
        a[3]
    with pytest.raises(IndexError):
        a[-4] = 0
    with pytest.raises(TypeError):
        a[0] = "x"
    with pytest.raises(TypeError):
        del a[0]
    with pytest.raises(TypeError):
        a["0"]
    assert a.len(store) == len(a) == 3
    store.close()
    with pytest.raises(ValueError):
        len(a)
    with pytest.raises(ValueError):
        a[0]


def test_array_new_refuses_bad_input(env):
    store, ex = env
    ty = ex["arr"](store, 1).type(store)
    with pytest.raises(ValueError, match="length"):
        ArrayRef.new(store, ty, 0, 2**32)
    with pytest.raises(ValueError, match="length"):
        ArrayRef.new(store, ty, 0, -1)
    with pytest.raises(ValueError, match="length"):
        ArrayRef.new(store, ty, 0, 2**200)
    with pytest.raises(TypeError):
        ArrayRef.new(store, ty, 0, 1.0)
    with pytest.raises(TypeError):
        ArrayRef.new(store, ty, 1.0, 1)
    with pytest.raises(TypeError):
        ArrayRef.new(store, ex["pt"](store, 1).type(store), 0, 1)
    with pytest.raises(TypeError):
        ArrayRef.from_values(store, ty, [1, "2"])
    with pytest.raises(TypeError):
        ArrayRef.from_values(store, ty, 3)


def test_huge_arrays_fail_cleanly(env):
    store, ex = env
    big = ArrayType(store.engine, FieldType(ValType.i64(), True))
    with pytest.raises(WasmtimeError):
        ArrayRef.new(store, big, 0, 2**32 - 1)
    with pytest.raises(WasmtimeError):
        ArrayRef.new(store, big, 0, 2**31)
    assert len(ArrayRef.new(store, big, 1, 1000)) == 1000  # the store still works


def test_array_new_wrong_store_engine_and_closed(env):
    store, ex = env
    ty = ex["arr"](store, 1).type(store)
    other, ex2 = other_env(store)
    a = ex["arr"](store, 2)
    with pytest.raises(WasmtimeError, match="wrong store: the ArrayRef"):
        ex2["arr_sum"](other, a)
    with pytest.raises(WasmtimeError, match="wrong store"):
        a.type(other)
    with pytest.raises(WasmtimeError, match="wrong store"):
        ex["pt"](store, 1).type(other)
    foreign = Store(Engine(gc_config()))
    with pytest.raises(WasmtimeError, match="another Engine"):
        ArrayRef.new(foreign, ty, 0, 1)
    with pytest.raises(WasmtimeError, match="another Engine"):
        ArrayRef.from_values(foreign, ty, [1])
    aty = ArrayType(store.engine, FieldType(ValType.externref(), True))
    assert len(ArrayRef.new(other, aty, None, 2)) == 2  # a type of the engine: any store
    store.close()
    with pytest.raises(ValueError):
        ArrayRef.new(store, ty, 0, 1)


def test_linker_instantiated_module_sees_python_structs():
    engine = Engine(gc_config())
    store = Store(engine)
    ex = Linker(engine).instantiate(store, Module(engine, WAT)).exports(store)
    ty = ex["pt"](store, 0).type(store)
    assert [ex["pt_get"](store, StructRef.new(store, ty, [i])) for i in range(3)] == [0, 1, 2]


# ---- RSS ------------------------------------------------------------------------

CREATE_RSS = r"""
import gc, sys
import wasmtime as w

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

c = w.Config(); c.wasm_gc = True; c.wasm_function_references = True
e = w.Engine(c); s = w.Store(e)
ty = w.StructType(e, [w.FieldType(w.ValType.i64(), True), w.FieldType(w.ValType.f64())])
new = w.StructRef.new
keep = sys.argv[1] == "keep"
kept = []
for i in range(100_000):
    r = new(s, ty, [i, 1.0])
    if keep:
        kept.append(r)
gc.collect(); s.gc()
first = rss()
for i in range(900_000 if not keep else 200_000):
    r = new(s, ty, [i, 1.0])
    if keep:
        kept.append(r)
gc.collect(); s.gc()
print(first, rss())
"""


def _create_rss(run_python, mode):
    r = run_python("import sys; sys.argv = ['x', %r]\n" % mode + CREATE_RSS, timeout=120)
    assert r.returncode == 0, r.stderr
    first, last = map(int, r.stdout.split())
    return first, last


@pytest.mark.rss
def test_a_million_structs_from_python_keep_rss_bounded(run_python):
    first, last = _create_rss(run_python, "drop")
    # after 1e6 objects made and dropped, RSS is what it was after 1e5
    assert last < first * 1.25 + (8 << 20), "RSS %d MiB -> %d MiB" % (first >> 20, last >> 20)


@pytest.mark.rss
def test_structs_kept_alive_grow_rss_control(run_python):
    first, last = _create_rss(run_python, "keep")
    assert last > first + (20 << 20), "RSS grew only %d -> %d MiB" % (first >> 20, last >> 20)


# ---- a second thread ------------------------------------------------------------


def test_second_thread_is_refused_while_the_store_runs(env):
    import threading

    store, ex = env
    sty = ex["pt"](store, 0).type(store)
    aty = ex["arr"](store, 1).type(store)
    s = ex["pt"](store, 1)
    a = ex["arr"](store, 2)
    fresh = ex["pt"](store, 2)  # identity never read
    attempts = {
        "StructRef.new": lambda: StructRef.new(store, sty, [1]),
        "ArrayRef.new": lambda: ArrayRef.new(store, aty, 0, 1),
        "ArrayRef.from_values": lambda: ArrayRef.from_values(store, aty, [1]),
        "len": lambda: len(a),
        "getitem": lambda: a[0],
        "setitem": lambda: a.__setitem__(0, 1),
        "field": lambda: s.field(store, 0),
        "type": lambda: s.type(store),
        "eq": lambda: fresh == s,
    }
    outcome = {}
    inside, proceed = threading.Event(), threading.Event()

    def host():
        inside.set()
        proceed.wait(30)

    def other():
        inside.wait(30)
        try:
            for name, call in attempts.items():
                try:
                    call()
                    outcome[name] = "no error"
                except RuntimeError as e:
                    outcome[name] = e
        finally:
            proceed.set()

    f = Func(store, FuncType([], []), host)
    t = threading.Thread(target=other)
    t.start()
    f(store)
    t.join(30)
    assert set(outcome) == set(attempts)
    assert all(isinstance(v, RuntimeError) for v in outcome.values()), outcome
    assert len(a) == 2 and fresh != s  # and afterwards it works
