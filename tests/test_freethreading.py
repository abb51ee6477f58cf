"""Many threads at once: shared Engine, Module, Linker and SharedMemory, one
Store per thread, the one-thread-per-Store rule, close() races and atomics.

These run on every build.  With the GIL they check that the GIL hand-off
around wasm calls loses nothing; on a free-threaded CPython (3.13t, `./dev
ft`) the threads really run in parallel and the same tests check the
extension's own locking (docs/architecture.md, "Threads and the GIL")."""

import gc
import os
import subprocess
import sys
import sysconfig
import threading

import pytest
from conftest import PACKAGE_ROOT

from wasmtime import (
    Config,
    Engine,
    FuncType,
    Instance,
    Limits,
    Linker,
    MemoryType,
    Module,
    SharedMemory,
    Store,
    ValType,
    WasmtimeError,
)

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
I32 = ValType.i32()

N_THREADS = 4
CALLS = 100_000

WAT = """
(module
  (import "host" "inc" (func $inc (param i32) (result i32)))
  (func (export "mix") (param i32 i32) (result i32)
    local.get 0 i32.const 3 i32.mul local.get 1 i32.add)
  ;; calls the Python host function n times: returns n
  (func (export "via_host") (param i32) (result i32) (local i32)
    (block (loop
      local.get 1 local.get 0 i32.ge_u br_if 1
      local.get 1 call $inc local.set 1
      br 0))
    local.get 1))
"""

SHARED_WAT = """
(module
  (import "" "m" (memory 1 1 shared))
  (func (export "bump") (param i32)
    (loop
      local.get 0 i32.eqz if return end
      i32.const 0 i32.const 1 i32.atomic.rmw.add drop
      local.get 0 i32.const 1 i32.sub local.set 0
      br 0))
  (func (export "add") (param i32) (result i32)
    i32.const 0 local.get 0 i32.atomic.rmw.add)
  (func (export "get") (result i32) i32.const 0 i32.atomic.load))
"""


def run_threads(target, n=N_THREADS):
    """Run target(i) on n threads started together; re-raise the first error."""
    errors = []
    barrier = threading.Barrier(n)

    def body(i):
        try:
            barrier.wait(30)
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "a thread hung"
    if errors:
        raise errors[0]


def shared_setup():
    engine = Engine()
    module = Module(engine, WAT)
    linker = Linker(engine)
    linker.define_func("host", "inc", FuncType([I32], [I32]), lambda x: x + 1)
    return engine, module, linker


def test_gil_stays_disabled_after_import():
    if not FREE_THREADED:
        pytest.skip("only a free-threaded CPython (3.13t) can run without the GIL")
    env = dict(os.environ)
    env.pop("PYTHON_GIL", None)  # the interpreter's default, as users run it
    env["PYTHONPATH"] = PACKAGE_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    code = (
        "import sys, wasmtime, wasmtime.component\n"
        "s = wasmtime.Store()\n"
        "m = wasmtime.Module(s.engine, '(module (func (export \"f\") (result i32) i32.const 7))')\n"
        "assert wasmtime.Instance(s, m, []).exports(s)['f'](s) == 7\n"
        "print(sys._is_gil_enabled())\n"
    )
    r = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False", r.stdout + r.stderr
    assert "GIL" not in r.stderr


def test_module_declares_it_runs_without_the_gil():
    # The source is the declaration; a free-threaded interpreter checks it at
    # import (test above).  On a GIL build the slot must not be compiled in
    # (Py_mod_gil is unknown before 3.13).
    import wasmtime._ext as ext

    assert ext.__name__ == "wasmtime._ext"
    if FREE_THREADED:
        assert not sys._is_gil_enabled()


def test_threads_own_stores_on_shared_engine_module_linker():
    engine, module, linker = shared_setup()
    totals = [None] * N_THREADS

    def work(i):
        store = Store(engine)
        ex = linker.instantiate(store, module).exports(store)
        mix = ex["mix"]
        total = 0
        for k in range(CALLS):
            r = mix(store, k, i)
            if r != (3 * k + i) & 0xFFFFFFFF:
                raise AssertionError("thread %d call %d: %r" % (i, k, r))
            total += r
        # Python host functions, called from wasm on every thread at once.
        assert ex["via_host"](store, 10_000) == 10_000
        totals[i] = total
        store.close()

    run_threads(work)
    for i in range(N_THREADS):
        assert totals[i] == sum(3 * k + i for k in range(CALLS))


def test_instantiate_pre_shared_between_threads():
    engine, module, linker = shared_setup()
    pre = linker.instantiate_pre(module)

    def work(i):
        for _ in range(50):
            store = Store(engine)
            ex = pre.instantiate(store).exports(store)
            assert ex["mix"](store, 2, i) == 6 + i
            assert ex["via_host"](store, 20) == 20

    run_threads(work)


def test_two_threads_on_one_store_get_a_clean_runtime_error():
    engine = Engine()
    store = Store(engine)
    linker = Linker(engine)
    inside = threading.Event()
    release = threading.Event()

    def host(x):
        if x == 0:
            inside.set()
            assert release.wait(30)
        return x + 1

    linker.define_func("host", "inc", FuncType([I32], [I32]), host)
    ex = linker.instantiate(store, Module(engine, WAT)).exports(store)
    result = []
    t = threading.Thread(target=lambda: result.append(ex["via_host"](store, 3)))
    t.start()
    try:
        assert inside.wait(30)
        # The first thread is inside wasm (in a host call) on this Store.
        with pytest.raises(RuntimeError, match="another thread"):
            ex["mix"](store, 1, 2)
        with pytest.raises(RuntimeError, match="another thread"):
            linker.instantiate(store, Module(engine, WAT))
        with pytest.raises(RuntimeError):
            store.close()
    finally:
        release.set()
        t.join(30)
    assert result == [3]
    assert ex["mix"](store, 1, 2) == 5  # free again
    store.close()


def test_two_threads_hammering_one_store():
    engine, module, linker = shared_setup()
    store = Store(engine)
    ex = linker.instantiate(store, module).exports(store)
    mix, via_host = ex["mix"], ex["via_host"]
    outcomes = [[0, 0] for _ in range(2)]

    def work(i):
        for k in range(5_000):
            try:
                if k % 10 == 0:
                    assert via_host(store, 50) == 50
                else:
                    assert mix(store, k, i) == 3 * k + i
                outcomes[i][0] += 1
            except RuntimeError as e:
                assert "another thread" in str(e)
                outcomes[i][1] += 1

    run_threads(work, 2)
    assert sum(ok + refused for ok, refused in outcomes) == 10_000
    # Which thread wins is up to the scheduler: with the GIL, a thread coming
    # back from wasm waits for the GIL while still holding the Store, so the
    # other may be refused every time.
    assert sum(ok for ok, _ in outcomes) > 0
    store.close()


def close_race_round():
    allowed = (ValueError, RuntimeError, WasmtimeError)
    engine, module, linker = shared_setup()
    pre = linker.instantiate_pre(module)
    shared_engine = Engine(shared_config())
    mem = SharedMemory(shared_engine, MemoryType(Limits(1, 1), shared=True))
    shared = (module, pre, linker, mem, engine, shared_engine)
    go = threading.Barrier(N_THREADS + 1)

    def user(i):
        go.wait(30)
        for k in range(40):
            try:
                store = Store(engine)
                inst = linker.instantiate(store, module) if k % 2 else pre.instantiate(store)
                ex = inst.exports(store)
                assert ex["mix"](store, k, i) == 3 * k + i
                assert ex["via_host"](store, 5) == 5
                Module(engine, "(module)")
                s2 = Store(shared_engine)
                Instance(s2, Module(shared_engine, SHARED_WAT), [mem])
                mem.data_len()
            except allowed:
                pass

    def closer():
        go.wait(30)
        for obj in shared:
            try:
                obj.close()
            except RuntimeError:
                pass  # "while it is instantiating" on a GIL build

    threads = [threading.Thread(target=user, args=(i,)) for i in range(N_THREADS)]
    threads.append(threading.Thread(target=closer))
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive()
    for obj in shared:
        obj.close()
    with pytest.raises(ValueError):
        Store(engine)


def test_threads_racing_on_close_of_shared_objects():
    for _ in range(10):
        close_race_round()


def shared_config():
    config = Config()
    config.shared_memory = True
    config.wasm_threads = True
    return config


def test_shared_memory_atomics_from_many_threads():
    engine = Engine(shared_config())
    mem = SharedMemory(engine, MemoryType(Limits(1, 1), shared=True))
    module = Module(engine, SHARED_WAT)
    per_thread = 200_000
    python_calls = 2_000

    def work(i):
        store = Store(engine)
        ex = Instance(store, module, [mem]).exports(store)
        ex["bump"](store, per_thread)
        for _ in range(python_calls):
            ex["add"](store, 1)

    run_threads(work)
    store = Store(engine)
    ex = Instance(store, module, [mem]).exports(store)
    assert ex["get"](store) == N_THREADS * (per_thread + python_calls)
    assert int.from_bytes(bytes(mem.data_ptr()[0:4]), "little") == ex["get"](store)


def test_externref_payloads_released_on_every_thread():
    engine = Engine()
    module = Module(
        engine,
        """(module (table $t 8 externref)
             (func (export "put") (param i32 externref) local.get 0 local.get 1 table.set $t)
             (func (export "get") (param i32) (result externref) local.get 0 table.get $t))""",
    )
    released = []
    lock = threading.Lock()

    class Payload:
        def __del__(self):
            with lock:
                released.append(1)

    def work(i):
        store = Store(engine)
        ex = Instance(store, module, []).exports(store)
        for k in range(200):
            ex["put"](store, k % 8, Payload())
            assert isinstance(ex["get"](store, k % 8), Payload)
        store.close()

    run_threads(work)
    gc.collect()
    Store(engine).gc()  # a drain point for what finalizers queued
    assert len(released) == N_THREADS * 200


def test_store_closed_by_another_thread_during_reference_calls():
    # Reference arguments and results go through the Store's context before
    # and after the call itself: the Store is held for all of it, so close()
    # on another thread is refused (RuntimeError) or comes first (ValueError).
    engine = Engine()
    module = Module(
        engine,
        """(module (func (export "id") (param externref) (result externref) local.get 0))""",
    )
    payload = object()
    for _ in range(20):
        store = Store(engine)
        ident = Instance(store, module, []).exports(store)["id"]
        started = threading.Event()
        outcomes = {"ok": 0, "closed": 0, "busy": 0}

        def caller(store=store, ident=ident, started=started, outcomes=outcomes):
            for k in range(2_000):
                if k == 10:
                    started.set()
                try:
                    assert ident(store, payload) is payload
                    outcomes["ok"] += 1
                except ValueError:
                    outcomes["closed"] += 1
                    break
                except RuntimeError:
                    outcomes["busy"] += 1
            started.set()

        t = threading.Thread(target=caller)
        t.start()
        assert started.wait(30)
        while True:
            try:
                store.close()
                break
            except RuntimeError:
                pass  # a call holds the Store: try again
        t.join(30)
        assert not t.is_alive()
        assert outcomes["ok"] >= 10
        with pytest.raises(ValueError):
            ident(store, payload)
