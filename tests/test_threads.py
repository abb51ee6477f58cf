"""Threads, the GIL, interruption and resource exhaustion
(docs/architecture.md, "Threads and the GIL")."""

import threading
import time

import pytest

from wasmtime import (
    Config,
    Engine,
    Func,
    FuncType,
    Instance,
    Module,
    Store,
    Trap,
    TrapCode,
    ValType,
)

I32 = ValType.i32()

# Fuel is a backstop: if interruption were broken, the loops below would end
# with OUT_OF_FUEL after some seconds instead of hanging the test run.
BACKSTOP_FUEL = 20 * 10**9

SPIN_WAT = """
(module
  (import "" "started" (func $started))
  (memory (export "mem") 1)
  (func (export "spin") call $started (loop br 0))
  (func (export "one") (result i32) i32.const 1)
  (func (export "count") (param i32) (result i32) (local i32)
    (block (loop
      local.get 1 local.get 0 i32.ge_u br_if 1
      local.get 1 i32.const 1 i32.add local.set 1
      br 0))
    local.get 1))
"""


def epoch_engine(fuel=True):
    config = Config()
    config.epoch_interruption = True
    config.consume_fuel = fuel
    return Engine(config)


def spin_setup(engine, started=None):
    store = Store(engine)
    store.set_fuel(BACKSTOP_FUEL)
    store.set_epoch_deadline(1)
    started = started or threading.Event()
    host = Func(store, FuncType([], []), started.set)
    ex = Instance(store, Module(engine, SPIN_WAT), [host]).exports(store)
    return store, ex, started


def test_watchdog_interrupts_infinite_loop():
    engine = epoch_engine()
    store, ex, started = spin_setup(engine)
    stop = threading.Event()

    def watchdog():
        started.wait(30)
        time.sleep(0.05)
        while not stop.is_set():
            engine.increment_epoch()
            time.sleep(0.01)

    t = threading.Thread(target=watchdog)
    t.start()
    try:
        t0 = time.monotonic()
        with pytest.raises(Trap) as info:
            ex["spin"](store)
        elapsed = time.monotonic() - t0
    finally:
        stop.set()
        t.join()
    assert info.value.trap_code == TrapCode.INTERRUPT
    assert elapsed < 10
    # the store works again after a new deadline
    store.set_epoch_deadline(1000)
    assert ex["one"](store) == 1


def test_increment_epoch_from_host_function():
    engine = epoch_engine()
    store = Store(engine)
    store.set_fuel(BACKSTOP_FUEL)
    store.set_epoch_deadline(1)
    wat = """
    (module
      (import "" "tick" (func $tick))
      (func (export "run") call $tick (loop br 0)))
    """
    tick = Func(store, FuncType([], []), engine.increment_epoch)
    run = Instance(store, Module(engine, wat), [tick]).exports(store)["run"]
    with pytest.raises(Trap) as info:
        run(store)
    assert info.value.trap_code == TrapCode.INTERRUPT


def test_gil_released_while_wasm_runs():
    """While one thread spins in wasm, the main thread keeps running Python."""
    engine = epoch_engine()
    store, ex, started = spin_setup(engine)
    result = {}

    def run():
        try:
            ex["spin"](store)
        except BaseException as e:
            result["exc"] = e

    t = threading.Thread(target=run)
    t.start()
    assert started.wait(30)
    # Python code runs here while the other thread is inside wasm
    counter = 0
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:
        counter += 1
    assert t.is_alive()
    engine.increment_epoch()
    t.join(30)
    assert not t.is_alive()
    assert counter > 1000
    assert isinstance(result["exc"], Trap)
    assert result["exc"].trap_code == TrapCode.INTERRUPT


CROSS_THREAD = r"""
import threading, time
import wasmtime as w
cfg = w.Config(); cfg.epoch_interruption = True; cfg.consume_fuel = True
engine = w.Engine(cfg)
store = w.Store(engine)
store.set_fuel(20 * 10**9)
store.set_epoch_deadline(1)
started = threading.Event()
wat = '''(module (import "" "started" (func $s)) (memory (export "mem") 1)
  (global (export "g") (mut i32) (i32.const 0))
  (table (export "t") 1 funcref)
  (func (export "spin") call $s (loop br 0))
  (func (export "one") (result i32) i32.const 1)
  (func (export "two") (result i32) i32.const 2))'''
host = w.Func(store, w.FuncType([], []), started.set)
inst = w.Instance(store, w.Module(engine, wat), [host])
ex = inst.exports(store)
# Looked up before: a lookup not cached yet needs the store (see "export").
mem, g, tab, one = ex["mem"], ex["g"], ex["t"], ex["one"]
res = {}
def run():
    try:
        ex["spin"](store)
    except BaseException as e:
        res["a"] = e
t = threading.Thread(target=run)
t.start()
started.wait(30)
time.sleep(0.05)
ops = {
    "call": lambda: one(store),
    "export": lambda: ex["two"],
    "host_call": lambda: host(store),
    "mem_read": lambda: mem.read(store, 0, 4),
    "mem_write": lambda: mem.write(store, b"x", 0),
    "mem_grow": lambda: mem.grow(store, 1),
    "mem_size": lambda: mem.size(store),
    "mem_view": lambda: memoryview(mem.view(store)),
    "global": lambda: g.value(store),
    "table": lambda: tab.size(store),
    "gc": store.gc,
    "close": store.close,
    "get_fuel": store.get_fuel,
    "new_func": lambda: w.Func(store, w.FuncType([], []), lambda: None),
    "new_memory": lambda: w.Memory(store, w.MemoryType(w.Limits(1, None))),
    "instance": lambda: w.Instance(store, w.Module(engine, "(module)"), []),
    "exports": lambda: inst.exports(store),
    "func_type": lambda: host.type(store),
    # Answered from the module's names, without the store:
    "export_cached": lambda: ex["one"],
    "len": lambda: len(ex),
    "contains": lambda: "two" in ex,
}
for name, op in ops.items():
    try:
        op()
        print(name, "NO-ERROR")
    except RuntimeError:
        print(name, "RuntimeError")
    except BaseException as e:
        print(name, "OTHER", type(e).__name__, e)
print("alive", t.is_alive())
engine.increment_epoch()
t.join(30)
print("a", type(res.get("a")).__name__, getattr(res.get("a"), "trap_code", None))
store.set_epoch_deadline(1000)
print("after", ex["one"](store), mem.read(store, 0, 1) == bytearray(1))
store.close()
print("closed ok")
"""


def test_store_used_from_another_thread_while_running(run_python):
    r = run_python(CROSS_THREAD, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    results = dict(line.split(" ", 1) for line in lines)
    for name in [
        "call",
        "host_call",
        "mem_read",
        "mem_write",
        "mem_grow",
        "mem_size",
        "mem_view",
        "global",
        "table",
        "gc",
        "close",
        "get_fuel",
        "new_func",
        "new_memory",
        "instance",
        "exports",
        "func_type",
        "export",
    ]:
        assert results[name] == "RuntimeError", (name, results[name])
    for name in ["export_cached", "len", "contains"]:
        assert results[name] == "NO-ERROR", (name, results[name])
    assert results["alive"] == "True"
    assert results["a"] == "Trap TrapCode.INTERRUPT"
    assert results["after"] == "1 True"
    assert results["closed"] == "ok"


def test_store_used_from_thread_while_host_releases_gil(store):
    """A host function that lets other threads run (time.sleep releases the
    GIL) still counts as running: the other thread is refused."""
    outcome = {}
    inside = threading.Event()
    proceed = threading.Event()

    def host():
        inside.set()
        proceed.wait(30)

    def other():
        inside.wait(30)
        try:
            f2(store)
            outcome["r"] = "no error"
        except RuntimeError as e:
            outcome["r"] = e
        finally:
            proceed.set()

    f = Func(store, FuncType([], []), host)
    f2 = Func(store, FuncType([], [I32]), lambda: 1)
    t = threading.Thread(target=other)
    t.start()
    f(store)
    t.join(30)
    assert isinstance(outcome["r"], RuntimeError)
    # afterwards the other thread may use the store
    got = []
    t2 = threading.Thread(target=lambda: got.append(f2(store)))
    t2.start()
    t2.join(30)
    assert got == [1]


def test_caller_used_from_another_thread_during_the_call(store):
    """A Caller leaked to another thread is refused while its call runs."""
    outcome = {}
    inside = threading.Event()
    proceed = threading.Event()
    saved = []

    def host(caller):
        saved.append(caller)
        inside.set()
        proceed.wait(30)  # releases the GIL

    def other():
        inside.wait(30)
        try:
            saved[0]["seven"](saved[0])
            outcome["r"] = "no error"
        except RuntimeError as e:
            outcome["r"] = e
        finally:
            proceed.set()

    wat = """
    (module
      (import "" "h" (func $h))
      (func (export "seven") (result i32) i32.const 7)
      (func (export "run") call $h))
    """
    f = Func(store, FuncType([], []), host, access_caller=True)
    ex = Instance(store, Module(store.engine, wat), [f]).exports(store)
    t = threading.Thread(target=other)
    t.start()
    ex["run"](store)
    t.join(30)
    assert isinstance(outcome["r"], RuntimeError)
    with pytest.raises(ValueError, match="caller is no longer valid"):
        ex["seven"](saved[0])


def test_watchdog_interrupts_start_function():
    engine = epoch_engine()
    store = Store(engine)
    store.set_fuel(BACKSTOP_FUEL)
    store.set_epoch_deadline(1)
    started = threading.Event()
    wat = """
    (module
      (import "" "started" (func $started))
      (func $start call $started (loop br 0))
      (start $start))
    """
    host = Func(store, FuncType([], []), started.set)
    module = Module(engine, wat)
    stop = threading.Event()

    def watchdog():
        started.wait(30)
        while not stop.is_set():
            engine.increment_epoch()
            time.sleep(0.01)

    t = threading.Thread(target=watchdog)
    t.start()
    try:
        with pytest.raises(Trap) as info:
            Instance(store, module, [host])
    finally:
        stop.set()
        t.join()
    assert info.value.trap_code == TrapCode.INTERRUPT


def test_two_threads_own_stores_concurrently():
    engine = epoch_engine()
    spin_store, spin_ex, started = spin_setup(engine)
    spin_result = {}

    def spinner():
        try:
            spin_ex["spin"](spin_store)
        except BaseException as e:
            spin_result["exc"] = e

    counts = {}
    errors = []

    def counter(i):
        try:
            store = Store(engine)
            store.set_fuel(BACKSTOP_FUEL)
            store.set_epoch_deadline(10**9)
            host = Func(store, FuncType([], []), lambda: None)
            ex = Instance(store, Module(engine, SPIN_WAT), [host]).exports(store)
            total = 0
            for _ in range(200):
                total += ex["count"](store, 1000)
            counts[i] = total
        except BaseException as e:
            errors.append(e)

    t_spin = threading.Thread(target=spinner)
    t_spin.start()
    assert started.wait(30)
    workers = [threading.Thread(target=counter, args=(i,)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    # the spinner was running the whole time and did not block the others
    assert t_spin.is_alive()
    engine.increment_epoch()
    t_spin.join(30)
    assert errors == []
    assert counts == {i: 200 * 1000 for i in range(4)}
    assert spin_result["exc"].trap_code == TrapCode.INTERRUPT


def test_host_functions_on_many_threads():
    """Host callbacks re-acquire the GIL correctly on every thread."""
    engine = Engine()
    errors = []
    totals = []
    wat = """
    (module
      (import "" "h" (func $h (param i32) (result i32)))
      (func (export "run") (param i32) (result i32) local.get 0 call $h))
    """
    module = Module(engine, wat)

    def work():
        try:
            store = Store(engine)
            h = Func(store, FuncType([I32], [I32]), lambda x: x + 1)
            run = Instance(store, module, [h]).exports(store)["run"]
            totals.append(sum(run(store, i) for i in range(2000)))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert totals == [sum(range(1, 2001))] * 8


def test_host_exceptions_stay_on_their_thread():
    engine = Engine()
    module = Module(engine, '(module (import "" "h" (func $h)) (func (export "r") call $h))')
    results = {}

    def work(i):
        store = Store(engine)
        exc = ValueError(i)

        def h():
            time.sleep(0.001)
            raise exc

        r = Instance(store, module, [Func(store, FuncType([], []), h)]).exports(store)["r"]
        ok = True
        for _ in range(50):
            try:
                r(store)
                ok = False
            except ValueError as e:
                ok = ok and e is exc
        results[i] = ok

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {i: True for i in range(6)}


def test_out_of_fuel():
    config = Config()
    config.consume_fuel = True
    store = Store(Engine(config))
    store.set_fuel(10_000)
    wat = '(module (func (export "spin") (loop br 0)))'
    spin = Instance(store, Module(store.engine, wat), []).exports(store)["spin"]
    with pytest.raises(Trap) as info:
        spin(store)
    assert info.value.trap_code == TrapCode.OUT_OF_FUEL
    assert store.get_fuel() == 0
    store.set_fuel(10_000)
    with pytest.raises(Trap) as info:
        spin(store)
    assert info.value.trap_code == TrapCode.OUT_OF_FUEL


def test_fuel_consumed_by_calls():
    config = Config()
    config.consume_fuel = True
    store = Store(Engine(config))
    store.set_fuel(1_000_000)
    ex = Instance(
        store, Module(store.engine, SPIN_WAT), [Func(store, FuncType([], []), lambda: None)]
    ).exports(store)
    ex["count"](store, 1000)
    left = store.get_fuel()
    assert 0 < left < 1_000_000


def test_stack_overflow(store):
    wat = '(module (func $f (export "rec") call $f))'
    rec = Instance(store, Module(store.engine, wat), []).exports(store)["rec"]
    with pytest.raises(Trap) as info:
        rec(store)
    assert info.value.trap_code == TrapCode.STACK_OVERFLOW
    # and the store still works
    with pytest.raises(Trap):
        rec(store)


def test_stack_overflow_through_host_functions(run_python):
    """Deep wasm -> host -> wasm recursion ends in a STACK_OVERFLOW trap (the
    same Trap object through every host level), not a crash."""
    r = run_python(
        "import sys\n"
        "import wasmtime as w\n"
        "sys.setrecursionlimit(100_000)\n"
        "store = w.Store()\n"
        "def host(caller, n):\n"
        "    return caller['rec'](caller, n + 1)\n"
        'wat = \'(module (import "" "h" (func $h (param i32) (result i32)))'
        ' (func (export "rec") (param i32) (result i32) local.get 0 call $h))\'\n'
        "i32 = w.ValType.i32()\n"
        "f = w.Func(store, w.FuncType([i32], [i32]), host, access_caller=True)\n"
        "rec = w.Instance(store, w.Module(store.engine, wat), [f]).exports(store)['rec']\n"
        "try:\n"
        "    rec(store, 0)\n"
        "except w.Trap as e:\n"
        "    print(e.trap_code.name)\n"
        "print(rec.type(store).params)\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0] == "STACK_OVERFLOW"
