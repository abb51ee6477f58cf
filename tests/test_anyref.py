"""GC references of the any hierarchy: i31 as int, other objects as
store-bound AnyRef objects that go back into wasm unchanged."""

import gc

import pytest

from wasmtime import AnyRef, Config, Engine, Instance, Module, Store, WasmtimeError

WAT = """(module
  (type $p (struct (field (mut i32))))
  (type $q (struct (field i64) (field (mut f64)) (field (mut i8)) (field (mut anyref))
                   (field (mut externref))))
  (func (export "q") (result (ref $q))
    (struct.new $q (i64.const -5) (f64.const 1.5) (i32.const 200) (ref.null any)
      (ref.null extern)))
  (func (export "q_f") (param (ref $q)) (result f64) (struct.get $q 1 (local.get 0)))
  (type $a (array (mut i32)))
  (global (export "g") (mut anyref) (ref.null any))
  (func (export "i31") (param i32) (result i31ref) (ref.i31 (local.get 0)))
  (func (export "i31_get") (param i31ref) (result i32) (i31.get_s (local.get 0)))
  (func (export "pt") (param i32) (result (ref $p)) (struct.new $p (local.get 0)))
  (func (export "pt_get") (param (ref null $p)) (result i32) (struct.get $p 0 (local.get 0)))
  (func (export "arr") (param i32) (result (ref $a)) (array.new $a (i32.const 9) (local.get 0)))
  (func (export "arr_len") (param arrayref) (result i32) (array.len (local.get 0)))
  (func (export "id") (param anyref) (result anyref) local.get 0)
  (func (export "eq") (param eqref eqref) (result i32) (ref.eq (local.get 0) (local.get 1)))
  (func (export "is_null") (param anyref) (result i32) (ref.is_null (local.get 0))))"""


def gc_engine():
    config = Config()
    config.wasm_gc = True
    config.wasm_function_references = True
    return Engine(config)


@pytest.fixture
def env():
    engine = gc_engine()
    store = Store(engine)
    return store, Instance(store, Module(engine, WAT), []).exports(store)


def test_i31_is_an_int_both_ways(env):
    store, ex = env
    assert ex["i31"](store, 5) == 5
    assert ex["i31"](store, -1) == -1
    assert ex["i31_get"](store, 123) == 123
    assert ex["i31_get"](store, 2**30 - 1) == 2**30 - 1
    assert ex["i31_get"](store, 2**31) == 0  # wraps to 31 bits
    assert ex["id"](store, 7) == 7


def test_structs_and_arrays_round_trip(env):
    store, ex = env
    p = ex["pt"](store, 77)
    assert isinstance(p, AnyRef)
    assert p.kind(store) == "struct"
    assert ex["pt_get"](store, p) == 77
    back = ex["id"](store, p)
    assert ex["eq"](store, p, back) == 1  # the same GC object
    assert ex["eq"](store, p, ex["pt"](store, 77)) == 0
    a = ex["arr"](store, 4)
    assert a.kind(store) == "array"
    assert ex["arr_len"](store, a) == 4


def test_struct_fields_from_python(env):
    store, ex = env
    q = ex["q"](store)
    assert q.field(store, 0) == -5
    assert q.field(store, 1) == 1.5
    assert q.field(store, 2) == 200  # packed i8 reads zero-extended
    assert q.field(store, 3) is None
    q.set_field(store, 1, 2.25)
    assert ex["q_f"](store, q) == 2.25
    p = ex["pt"](store, 3)
    q.set_field(store, 3, p)
    assert ex["pt_get"](store, q.field(store, 3)) == 3
    q.set_field(store, 3, 17)  # an i31
    assert q.field(store, 3) == 17
    payload = object()
    q.set_field(store, 4, payload)
    assert q.field(store, 4) is payload
    q.set_field(store, 2, 0x1FF)  # packed i8: wraps
    assert q.field(store, 2) == 0xFF
    with pytest.raises(WasmtimeError):
        q.set_field(store, 0, 1)  # immutable
    with pytest.raises(TypeError):
        q.set_field(store, 1, "x")
    with pytest.raises(IndexError):
        q.set_field(store, 9, 1)
    with pytest.raises(WasmtimeError):
        q.field(store, 9)
    with pytest.raises(IndexError):
        q.field(store, -1)
    with pytest.raises(TypeError):
        q.field(store, "0")
    with pytest.raises(WasmtimeError, match="not an array"):
        q.len(store)


def test_array_elements_from_python(env):
    store, ex = env
    a = ex["arr"](store, 3)
    assert a.len(store) == 3
    assert [a.get(store, i) for i in range(3)] == [9, 9, 9]
    a.set(store, 1, 42)
    assert a.get(store, 1) == 42
    assert a.get(store, index=1) == 42
    with pytest.raises(WasmtimeError):
        a.get(store, 3)
    with pytest.raises(WasmtimeError):
        a.set(store, 3, 1)
    with pytest.raises(IndexError):
        a.get(store, 2**40)
    with pytest.raises(WasmtimeError, match="not a struct"):
        a.field(store, 0)


def test_field_access_checks_the_store(env):
    store, ex = env
    q = ex["q"](store)
    other = Store(store.engine)
    with pytest.raises(WasmtimeError, match="wrong store"):
        q.field(other, 0)
    with pytest.raises(WasmtimeError, match="wrong store"):
        q.set_field(other, 1, 1.0)
    p_other = Instance(other, Module(store.engine, WAT), []).exports(other)["pt"](other, 1)
    with pytest.raises(WasmtimeError, match="wrong store"):
        q.set_field(store, 3, p_other)


def test_nulls_and_type_mismatches(env):
    store, ex = env
    assert ex["id"](store, None) is None
    assert ex["is_null"](store, None) == 1
    assert ex["is_null"](store, 3) == 0
    with pytest.raises(WasmtimeError, match="mismatch"):
        ex["pt_get"](store, ex["arr"](store, 1))
    with pytest.raises(TypeError):
        ex["id"](store, "text")
    with pytest.raises(TypeError):
        ex["id"](store, True)


def test_globals(env):
    store, ex = env
    p = ex["pt"](store, 5)
    ex["g"].set_value(store, p)
    assert ex["pt_get"](store, ex["g"].value(store)) == 5
    ex["g"].set_value(store, 9)
    assert ex["g"].value(store) == 9


def test_wrong_store(env):
    store, ex = env
    p = ex["pt"](store, 1)
    other = Store(store.engine)
    ex2 = Instance(other, Module(store.engine, WAT), []).exports(other)
    with pytest.raises(WasmtimeError, match="wrong store"):
        ex2["pt_get"](other, p)
    with pytest.raises(WasmtimeError, match="wrong store"):
        p.kind(other)


def test_cannot_be_constructed():
    with pytest.raises(TypeError):
        AnyRef()


def test_outlives_a_closed_store(run_python):
    r = run_python(
        "import wasmtime as w\n"
        "c = w.Config(); c.wasm_gc = True; c.wasm_function_references = True\n"
        "e = w.Engine(c); s = w.Store(e)\n"
        'm = w.Module(e, \'(module (type $p (struct)) (func (export "mk") (result anyref) '
        "(struct.new $p)))')\n"
        "r = w.Instance(s, m, []).exports(s)['mk'](s)\n"
        "s.close()\n"
        "try:\n"
        "    r.kind(s)\n"
        "except ValueError:\n"
        "    print('closed')\n"
        "del s, r\n"
        "print('ok')\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["closed", "ok"]


def test_many_gc_objects_are_released(env):
    store, ex = env
    pt, get = ex["pt"], ex["pt_get"]
    for i in range(50000):
        assert get(store, pt(store, i)) == i
    gc.collect()
    store.gc()
    assert sum(isinstance(o, AnyRef) for o in gc.get_objects()) == 0


GC_RSS = r"""
import gc, sys
import wasmtime as w

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

c = w.Config(); c.wasm_gc = True; c.wasm_function_references = True
e = w.Engine(c); s = w.Store(e)
m = w.Module(e, '''(module (type $a (array (mut i32)))
  (func (export "mk") (result anyref) (array.new $a (i32.const 1) (i32.const 16))))''')
mk = w.Instance(s, m, []).exports(s)["mk"]
keep = sys.argv[1] == "keep"
kept = []
for _ in range(20_000):
    mk(s)
gc.collect(); s.gc()
base = rss()
for _ in range(300_000):
    r = mk(s)
    if keep:
        kept.append(r)
gc.collect(); s.gc()
print((rss() - base) // (1 << 20))
"""


def _gc_growth(run_python, mode):
    r = run_python("import sys; sys.argv = ['x', %r]\n" % mode + GC_RSS, timeout=300)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


@pytest.mark.rss
def test_gc_objects_created_from_python_keep_rss_bounded(run_python):
    growth = _gc_growth(run_python, "drop")
    assert growth < 10, "RSS grew by %d MiB" % growth


@pytest.mark.rss
def test_gc_objects_kept_alive_grow_rss_control(run_python):
    growth = _gc_growth(run_python, "keep")
    assert growth > 10, "RSS grew by only %d MiB" % growth
