"""What keeps what alive, and what happens after Store.close()
(docs/architecture.md, "Ownership and lifetimes")."""

import gc
import weakref

import pytest

from wasmtime import (
    Config,
    Engine,
    Func,
    FuncType,
    Global,
    GlobalType,
    Instance,
    Limits,
    Memory,
    MemoryType,
    Module,
    Store,
    Table,
    TableType,
    Tag,
    TagType,
    ValType,
)

I32 = ValType.i32()

WAT = """
(module
  (import "" "h" (func $h (param i32) (result i32)))
  (memory (export "mem") 1)
  (global (export "g") (mut i32) (i32.const 1))
  (table (export "t") 1 funcref)
  (func (export "run") (param i32) (result i32) local.get 0 call $h)
  (data (i32.const 0) "data"))
"""


class Callback:
    """A weak-referenceable callable."""

    def __init__(self, result=0):
        self.result = result

    def __call__(self, *args):
        return self.result


# ---- memory use of many stores -------------------------------------------------------

MANY_STORES = r"""
import gc, sys
import wasmtime as w

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

engine = w.Engine()
ty = w.FuncType([w.ValType.i32()], [w.ValType.i32()])
module = w.Module(engine, '(module (import "" "" (func $h (param i32) (result i32))) '
                          '(func (export "run") (param i32) (result i32) local.get 0 call $h))')

def make():
    store = w.Store(engine)
    # the closure captures its own Store: a reference cycle through Wasmtime
    f = w.Func(store, ty, lambda x: x + (store is not None))
    run = w.Instance(store, module, [f]).exports(store)["run"]
    assert run(store, 1) == 2
    return store

keep = sys.argv[1] == "keep"
for _ in range(300):
    make()
gc.collect()
base = rss()
kept = []
for _ in range(10_000):
    s = make()
    if keep:
        kept.append(s)
gc.collect()
print((rss() - base) // (1 << 20))
"""

RSS_BOUND_MB = 25


def _many_stores_growth(run_python, mode):
    r = run_python("import sys; sys.argv = ['x', %r]\n" % mode + MANY_STORES, timeout=300)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


@pytest.mark.rss
def test_many_stores_with_self_capturing_closures_do_not_leak(run_python):
    growth = _many_stores_growth(run_python, "drop")
    assert growth < RSS_BOUND_MB, f"RSS grew by {growth} MiB"


def test_many_stores_kept_alive_exceed_the_bound(run_python):
    """The bound above is meaningful: keeping the same stores alive breaks it."""
    growth = _many_stores_growth(run_python, "keep")
    assert growth > RSS_BOUND_MB, f"RSS grew by only {growth} MiB"


# ---- handles hold their store ----------------------------------------------------------


def _setup(engine, callback=None):
    store = Store(engine)
    host = Func(store, FuncType([I32], [I32]), callback or (lambda x: x * 2))
    inst = Instance(store, Module(engine, WAT), [host])
    return store, host, inst


def test_handles_keep_store_alive(engine):
    store, host, inst = _setup(engine)
    ex = inst.exports(store)
    run, mem, g = ex["run"], ex["mem"], ex["g"]
    store_ref = weakref.ref(store)
    del store, inst, ex
    gc.collect()
    store = store_ref()
    assert store is not None
    assert run(store, 21) == 42
    assert host(store, 2) == 4
    assert mem.read(store, 0, 4) == bytearray(b"data")
    assert g.value(store) == 1
    del store
    gc.collect()
    assert store_ref() is not None  # still held by the handles
    del run, host, mem, g
    gc.collect()
    assert store_ref() is None


@pytest.mark.parametrize("kind", ["func", "memory", "global", "table", "tag", "instance"])
def test_each_handle_kind_holds_store(kind):
    config = Config()
    config.wasm_exceptions = True
    store = Store(Engine(config))
    make = {
        "func": lambda: Func(store, FuncType([], []), lambda: None),  # noqa: F821
        "memory": lambda: Memory(store, MemoryType(Limits(1, None))),  # noqa: F821
        "global": lambda: Global(store, GlobalType(I32, True), 1),  # noqa: F821
        "table": lambda: Table(store, TableType(ValType.funcref(), Limits(1, None)), None),  # noqa: F821
        "tag": lambda: Tag(store, TagType(FuncType([], []))),  # noqa: F821
        "instance": lambda: Instance(store, Module(store.engine, "(module)"), []),  # noqa: F821
    }[kind]
    handle = make()
    ref = weakref.ref(store)
    del store, make
    gc.collect()
    assert ref() is not None
    if kind == "memory":
        assert handle.size(ref()) == 1
    del handle
    gc.collect()
    assert ref() is None


def test_memory_view_holds_store(engine):
    store = Store(engine)
    mem = Memory(store, MemoryType(Limits(1, None)))
    mem.write(store, b"kept")
    view = mem.view(store)
    ref = weakref.ref(store)
    del store, mem
    gc.collect()
    assert ref() is not None
    with memoryview(view) as mv:
        assert bytes(mv[:4]) == b"kept"
    del view
    gc.collect()
    assert ref() is None


def test_store_alive_while_module_closed(engine):
    store, host, inst = _setup(engine)
    module = Module(engine, '(module (func (export "f") (result i32) i32.const 4))')
    f = Instance(store, module, []).exports(store)["f"]
    module.close()
    assert f(store) == 4


def test_store_keeps_working_after_engine_closed():
    engine = Engine()
    store, host, inst = _setup(engine)
    engine.close()
    assert inst.exports(store)["run"](store, 3) == 6


# ---- host callables are released -------------------------------------------------------


def test_host_callable_released_with_store(engine):
    cb = Callback(5)
    ref = weakref.ref(cb)
    store = Store(engine)
    f = Func(store, FuncType([], [I32]), cb)
    assert f(store) == 5
    del cb
    gc.collect()
    assert ref() is not None  # the store holds it
    del store, f
    gc.collect()
    assert ref() is None


def test_self_capturing_closure_released(engine):
    """A closure that captures its own Store forms a cycle the GC collects."""
    store = Store(engine)
    cb = Callback()
    cb.store = store
    ref_cb = weakref.ref(cb)
    ref_store = weakref.ref(store)
    f = Func(store, FuncType([], [I32]), cb)
    inst = Instance(store, Module(engine, WAT), [Func(store, FuncType([I32], [I32]), cb)])
    assert f(store) == 0
    del cb, store, f, inst
    gc.collect()
    assert ref_cb() is None
    assert ref_store() is None


def test_closure_capturing_handles_released(engine):
    store = Store(engine)
    mem = Memory(store, MemoryType(Limits(1, None)))
    calls = []

    def cb():
        calls.append(mem.size(store))  # noqa: F821

    ref = weakref.ref(cb)
    f = Func(store, FuncType([], []), cb)
    f(store)
    assert calls == [1]
    del cb, store, mem, f
    gc.collect()
    assert ref() is None


def test_host_callable_released_on_close(engine):
    """close() frees the C store; its host callables are not needed anymore
    and must not be kept alive by the closed Store object."""
    cb = Callback(1)
    ref = weakref.ref(cb)
    store = Store(engine)
    Func(store, FuncType([], [I32]), cb)
    del cb
    store.close()
    gc.collect()
    assert ref() is None


def test_many_funcs_in_one_store_released(engine):
    store = Store(engine)
    refs = []
    for i in range(100):
        cb = Callback(i)
        refs.append(weakref.ref(cb))
        Func(store, FuncType([], [I32]), cb)
    del cb
    gc.collect()
    assert all(r() is not None for r in refs)
    del store
    gc.collect()
    assert all(r() is None for r in refs)


def test_store_data_released_with_store(engine):
    data = Callback()
    ref = weakref.ref(data)
    store = Store(engine, data)
    assert store.data() is data
    del data, store
    gc.collect()
    assert ref() is None


def test_store_data_released_on_close(engine):
    """close() deletes the store, and with it the user data (as the store
    finalizer does in wasmtime-py); data() raises afterwards anyway."""
    data = Callback()
    ref = weakref.ref(data)
    store = Store(engine, data)
    del data
    store.close()
    gc.collect()
    with pytest.raises(ValueError):
        store.data()
    assert ref() is None


def test_pending_exception_not_kept(engine):
    """A host exception is handed over, not kept on the store."""
    store = Store(engine)

    class Err(Exception):
        pass

    def h():
        raise Err()

    f = Func(store, FuncType([], []), h)
    with pytest.raises(Err) as info:
        f(store)
    ref = weakref.ref(info.value)
    del info
    gc.collect()
    assert ref() is None


# ---- closed store -----------------------------------------------------------------------


def test_close_twice(engine):
    store = Store(engine)
    store.close()
    store.close()
    with Store(engine) as s:
        pass
    s.close()


def test_every_handle_method_after_close():
    config = Config()
    config.wasm_exceptions = True
    engine = Engine(config)
    store = Store(engine)
    host = Func(store, FuncType([I32], [I32]), lambda x: x)
    inst = Instance(store, Module(engine, WAT), [host])
    never_called = Instance(store, Module(engine, WAT), [host])
    ex = inst.exports(store)
    unloaded = never_called.exports(store)["run"]  # signature never fetched
    mem, g, t = ex["mem"], ex["g"], ex["t"]
    tag = Tag(store, TagType(FuncType([], [])))
    store.close()
    calls = {
        "func_call": lambda: host(store, 1),
        "export_call": lambda: ex["run"](store, 1),
        "func_type": lambda: host.type(store),
        "unloaded_param_arity": lambda: unloaded.param_arity(),
        "unloaded_result_arity": lambda: unloaded.result_arity(),
        "mem_type": lambda: mem.type(store),
        "mem_size": lambda: mem.size(store),
        "mem_data_len": lambda: mem.data_len(store),
        "mem_grow": lambda: mem.grow(store, 1),
        "mem_read": lambda: mem.read(store),
        "mem_write": lambda: mem.write(store, b"x"),
        "mem_data_ptr": lambda: mem.data_ptr(store),
        "mem_buffer_ptr": lambda: mem.get_buffer_ptr(store),
        "mem_view": lambda: mem.view(store),
        "mem_page_size": lambda: mem.page_size(store),
        "global_value": lambda: g.value(store),
        "global_set": lambda: g.set_value(store, 2),
        "global_type": lambda: g.type(store),
        "table_get": lambda: t.get(store, 0),
        "table_set": lambda: t.set(store, 0, None),
        "table_size": lambda: t.size(store),
        "table_grow": lambda: t.grow(store, 1, None),
        "table_type": lambda: t.type(store),
        "tag_type": lambda: tag.type(store),
        "tag_eq": lambda: tag.eq(store, tag),
        "exports": lambda: inst.exports(store),
        "instance": lambda: Instance(store, Module(engine, "(module)"), []),
        "new_func": lambda: Func(store, FuncType([], []), lambda: None),
        "new_memory": lambda: Memory(store, MemoryType(Limits(1, None))),
        "new_global": lambda: Global(store, GlobalType(I32, False), 0),
        "new_table": lambda: Table(store, TableType(ValType.funcref(), Limits(1, None)), None),
        "new_tag": lambda: Tag(store, TagType(FuncType([], []))),
        "store_gc": store.gc,
        "store_data": store.data,
        "store_set_limits": lambda: store.set_limits(memory_size=1),
    }
    wrong = {}
    for name, call in calls.items():
        try:
            call()
            wrong[name] = "no error"
        except ValueError:
            pass
        except BaseException as e:
            wrong[name] = type(e).__name__
    assert wrong == {}


def test_close_inside_host_call(engine):
    store = Store(engine)
    errors = []

    def h(x):
        try:
            store.close()
        except RuntimeError as e:
            errors.append(e)
        return x + 1

    host = Func(store, FuncType([I32], [I32]), h)
    run = Instance(store, Module(engine, WAT), [host]).exports(store)["run"]
    assert run(store, 1) == 2
    assert host(store, 5) == 6
    assert len(errors) == 2
    # still open and usable, and closable afterwards
    assert run(store, 2) == 3
    store.close()
    with pytest.raises(ValueError):
        run(store, 1)


def test_close_inside_host_call_via_caller(engine):
    store = Store(engine)
    errors = []

    def h(caller, x):
        try:
            store.close()
        except RuntimeError as e:
            errors.append(e)
        return caller["run"](caller, x - 1) if x > 0 else 0

    host = Func(store, FuncType([I32], [I32]), h, access_caller=True)
    run = Instance(store, Module(engine, WAT), [host]).exports(store)["run"]
    assert run(store, 3) == 0
    assert len(errors) == 4


def test_host_raising_after_failed_close(engine):
    """The RuntimeError of close() inside a host call propagates as the host's
    exception when not caught."""
    store = Store(engine)
    host = Func(store, FuncType([I32], [I32]), lambda x: store.close())
    run = Instance(store, Module(engine, WAT), [host]).exports(store)["run"]
    with pytest.raises(RuntimeError):
        run(store, 1)
    store.close()


def test_close_with_exported_view_then_gc(engine):
    """A store garbage-collected while a view is exported is deleted once the
    view is released (no crash, no use-after-free)."""
    store = Store(engine)
    mem = Memory(store, MemoryType(Limits(1, None)))
    mv = memoryview(mem.view(store))
    mv[0] = 1
    del store, mem
    gc.collect()
    assert mv[0] == 1
    mv.release()
    gc.collect()


def test_wrong_store_never_aborts(run_python):
    """Every handle kind used with another store raises in a child process."""
    r = run_python(
        "import wasmtime as w\n"
        "cfg = w.Config(); cfg.wasm_exceptions = True\n"
        "e = w.Engine(cfg)\n"
        "a, b = w.Store(e), w.Store(e)\n"
        'm = w.Module(e, \'(module (func (export "f")) (memory (export "m") 1)'
        ' (global (export "g") (mut i32) (i32.const 0)) (table (export "t") 1 funcref))\')\n'
        "inst = w.Instance(a, m, [])\n"
        "ex = inst.exports(a)\n"
        "tag = w.Tag(a, w.TagType(w.FuncType([], [])))\n"
        "calls = [lambda: ex['f'](b), lambda: ex['m'].read(b), lambda: ex['m'].grow(b, 1),\n"
        "         lambda: ex['g'].value(b), lambda: ex['g'].set_value(b, 1),\n"
        "         lambda: ex['t'].get(b, 0), lambda: ex['t'].set(b, 0, ex['f']),\n"
        "         lambda: ex['t'].set(a, 0, w.Func(b, w.FuncType([], []), lambda: None)),\n"
        "         lambda: tag.type(b), lambda: inst.exports(b),\n"
        "         lambda: w.Instance(b, w.Module(e, '(module (import \"\" \"\" (func)))'), [ex['f']])]\n"
        "n = 0\n"
        "for c in calls:\n"
        "    try:\n"
        "        c()\n"
        "    except w.WasmtimeError:\n"
        "        n += 1\n"
        "print(n, len(calls))\n"
    )
    assert r.returncode == 0, r.stderr
    n, total = r.stdout.split()
    assert n == total == "11"
