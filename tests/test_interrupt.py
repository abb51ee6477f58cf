"""Config.interruptible, signals during wasm, Store.set_timeout and the GIL
during calls (issue 11).

Latency bounds (50 ms) are measured only in subprocesses, as the issue
states them; everything else asserts behaviour.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest
from conftest import PACKAGE_ROOT

import wasmtime

LOOP_WAT = """
(module
  (func (export "loop") (loop br 0))
  (func (export "nop"))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
"""

START_LOOP_WAT = """
(module (func $s (loop br 0)) (start $s))
"""


def interruptible_engine():
    c = wasmtime.Config()
    c.interruptible = True
    return wasmtime.Engine(c)


def child(code, timeout=30):
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def run_child(code, timeout=30):
    p = child(code)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"child hung\nstdout: {out}\nstderr: {err}")
    assert p.returncode == 0, f"stdout: {out}\nstderr: {err}"
    return out


PRELUDE = f"""
import os, signal, sys, threading, time
import wasmtime
WAT = '''{LOOP_WAT}'''
def setup(interruptible=True):
    c = wasmtime.Config()
    c.interruptible = interruptible
    e = wasmtime.Engine(c)
    s = wasmtime.Store(e)
    i = wasmtime.Instance(s, wasmtime.Module(e, WAT), [])
    x = i.exports(s)
    return e, s, x["loop"], x["nop"], x["add"]
"""


# ---- signals (subprocesses, with the 50 ms bound) -----------------


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_signal_from_outside_stops_a_pure_loop_within_50ms(sig):
    code = (
        PRELUDE
        + f"""
class Stop(Exception):
    pass
raised = []
if "{sig}" == "SIGTERM":
    def handler(signum, frame):
        e = Stop("user handler ran")
        raised.append(e)
        raise e
    signal.signal(signal.SIGTERM, handler)
e, s, loop, nop, add = setup()
print("ready", flush=True)
try:
    loop(s)
except BaseException as exc:
    t = time.clock_gettime(time.CLOCK_MONOTONIC)
    print("caught", type(exc).__name__, repr(t), flush=True)
    if raised:
        assert exc is raised[0], "the call raises the handler's own exception object"
# the Store stays usable
assert add(s, 2, 3) == 5
nop(s)
print("usable", flush=True)
"""
    )
    p = child(code)
    try:
        assert p.stdout.readline().strip() == "ready"
        import time

        time.sleep(0.3)  # well inside the loop by now
        sent = time.clock_gettime(time.CLOCK_MONOTONIC)
        p.send_signal(getattr(signal, sig))
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    lines = out.split("\n")
    kind, at = lines[0].split()[1], float(lines[0].split()[2])
    assert kind == ("KeyboardInterrupt" if sig == "SIGINT" else "Stop")
    assert at - sent < 0.05, f"stopped {at - sent:.3f} s after the signal"
    assert "usable" in out


def test_sigalrm_handler_runs_during_wasm():
    out = run_child(
        PRELUDE
        + """
class Alarm(Exception):
    pass
def on_alarm(signum, frame):
    raise Alarm()
signal.signal(signal.SIGALRM, on_alarm)
e, s, loop, nop, add = setup()
signal.setitimer(signal.ITIMER_REAL, 0.2)
t0 = time.monotonic()
try:
    loop(s)
except Alarm:
    print("alarm", round(time.monotonic() - t0 - 0.2, 3) < 0.05)
"""
    )
    assert out.strip() == "alarm True"


def test_signal_handler_that_returns_lets_the_call_go_on():
    out = run_child(
        PRELUDE
        + """
seen = []
signal.signal(signal.SIGUSR1, lambda *a: seen.append(1))
e, s, loop, nop, add = setup()
s.set_timeout(0.5)
threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGUSR1)).start()
try:
    loop(s)
except wasmtime.Timeout:
    print("timeout after handler", seen)
"""
    )
    assert out.strip() == "timeout after handler [1]"


def test_plain_engine_is_not_interrupted_by_its_own_signals_handler_until_return():
    # Without Config.interruptible nothing runs during pure wasm: the handler
    # runs once the call returns (documented); here a timeout-free short call.
    out = run_child(
        PRELUDE
        + """
e, s, loop, nop, add = setup(interruptible=False)
seen = []
signal.signal(signal.SIGUSR1, lambda *a: seen.append(1))
os.kill(os.getpid(), signal.SIGUSR1)
print(add(s, 1, 2), seen)
"""
    )
    assert out.strip() == "3 [1]"


# ---- timeouts -------------------------------------------------------------


def test_timeout_within_50ms_of_the_deadline():
    out = run_child(
        PRELUDE
        + """
e, s, loop, nop, add = setup()
for secs in (0.1, 0.25):
    s.set_timeout(secs)
    t0 = time.monotonic()
    try:
        loop(s)
    except wasmtime.Timeout as exc:
        late = time.monotonic() - t0 - secs
        print(late >= 0, late < 0.05, isinstance(exc, TimeoutError), len(exc.frames) >= 1)
"""
    )
    assert out.split("\n")[:2] == ["True True True True"] * 2


def test_timeout_applies_to_start_functions_and_every_instantiation():
    out = run_child(
        PRELUDE
        + f"""
START = '''{START_LOOP_WAT}'''
c = wasmtime.Config(); c.interruptible = True
e = wasmtime.Engine(c)
s = wasmtime.Store(e)
s.set_timeout(0.05)
m = wasmtime.Module(e, START)
for make in (lambda: wasmtime.Instance(s, m, []),
             lambda: wasmtime.Linker(e).instantiate(s, m),
             lambda: wasmtime.Linker(e).instantiate_pre(m).instantiate(s)):
    try:
        make()
    except wasmtime.Timeout:
        print("timeout")
"""
    )
    assert out.split() == ["timeout"] * 3


def test_timeout_is_a_trap_and_a_timeout_error(store):
    assert issubclass(wasmtime.Timeout, wasmtime.Trap)
    assert issubclass(wasmtime.Timeout, TimeoutError)
    e = interruptible_engine()
    s = wasmtime.Store(e)
    x = wasmtime.Instance(s, wasmtime.Module(e, LOOP_WAT), []).exports(s)
    s.set_timeout(0.02)
    with pytest.raises(wasmtime.Timeout) as info:
        x["loop"](s)
    assert "timed out" in str(info.value)
    assert info.value.frames[0].func_index == 0
    # usable afterwards, and the timeout applies again to the next call
    assert x["add"](s, 1, 2) == 3
    with pytest.raises(TimeoutError):
        x["loop"](s)
    s.set_timeout(None)
    assert x["add"](s, 2, 2) == 4


def test_timeout_covers_nested_calls_from_host_functions():
    e = interruptible_engine()
    s = wasmtime.Store(e)
    wat = """
    (module (import "" "h" (func $h)) (func (export "loop") (loop br 0))
            (func (export "run") call $h))
    """
    seen = []

    def h():
        try:
            loop(s)
        except wasmtime.Timeout as exc:
            seen.append(exc)
            raise

    i = wasmtime.Instance(
        s, wasmtime.Module(e, wat), [wasmtime.Func(s, wasmtime.FuncType([], []), h)]
    )
    loop = i.exports(s)["loop"]
    s.set_timeout(0.03)
    with pytest.raises(wasmtime.Timeout) as info:
        i.exports(s)["run"](s)
    assert info.value is seen[0]


def test_set_timeout_arguments():
    e = interruptible_engine()
    s = wasmtime.Store(e)
    s.set_timeout(1)
    s.set_timeout(0.5)
    s.set_timeout(seconds=None)
    for bad in ("1", b"1", True, [1], 1j):
        with pytest.raises(TypeError):
            s.set_timeout(bad)
    for bad in (0, -1, 0.0, float("nan"), float("inf"), 1e10):
        with pytest.raises(ValueError):
            s.set_timeout(bad)
    with pytest.raises(OverflowError):
        s.set_timeout(10**400)
    s.close()
    with pytest.raises(ValueError):
        s.set_timeout(1.0)


def test_set_timeout_needs_an_interruptible_engine(store):
    with pytest.raises(wasmtime.WasmtimeError, match="interruptible"):
        store.set_timeout(1.0)


def test_set_timeout_from_another_thread_during_a_call_is_refused():
    e = interruptible_engine()
    s = wasmtime.Store(e)
    errors = []

    def other():
        try:
            s.set_timeout(1.0)
        except RuntimeError as exc:
            errors.append(exc)

    def h():
        t = threading.Thread(target=other)
        t.start()
        t.join()

    wat = '(module (import "" "h" (func $h)) (func (export "run") call $h))'
    i = wasmtime.Instance(
        s, wasmtime.Module(e, wat), [wasmtime.Func(s, wasmtime.FuncType([], []), h)]
    )
    i.exports(s)["run"](s)
    assert len(errors) == 1


def test_set_timeout_evil_float_subclass_runs_no_code():
    class Evil(float):
        def __float__(self):
            raise AssertionError("must not be called")

    e = interruptible_engine()
    s = wasmtime.Store(e)
    s.set_timeout(Evil(0.5))


# ---- the interruptible option ---------------------------------------------


def test_interruptible_is_write_only_and_callable():
    c = wasmtime.Config()
    assert callable(c.interruptible)
    c.interruptible(True)
    assert dict(wasmtime.Engine(c)._config_options)["interruptible"] is True
    c2 = wasmtime.Config()
    c2.close()
    with pytest.raises(ValueError):
        c2.interruptible = True


def test_interruptible_survives_epoch_interruption_false():
    c = wasmtime.Config()
    c.interruptible = True
    c.epoch_interruption = False
    e = wasmtime.Engine(c)
    s = wasmtime.Store(e)
    x = wasmtime.Instance(s, wasmtime.Module(e, LOOP_WAT), []).exports(s)
    s.set_timeout(0.02)
    with pytest.raises(wasmtime.Timeout):
        x["loop"](s)


def test_set_epoch_deadline_is_refused_on_an_interruptible_store():
    s = wasmtime.Store(interruptible_engine())
    with pytest.raises(wasmtime.WasmtimeError, match="set_timeout"):
        s.set_epoch_deadline(1)


def test_user_epoch_semantics_unchanged_on_a_plain_engine():
    c = wasmtime.Config()
    c.epoch_interruption = True
    e = wasmtime.Engine(c)
    s = wasmtime.Store(e)
    x = wasmtime.Instance(s, wasmtime.Module(e, LOOP_WAT), []).exports(s)
    s.set_epoch_deadline(1)
    e.increment_epoch()
    with pytest.raises(wasmtime.Trap) as info:
        x["nop"](s)  # the deadline already passed: the entry check traps
    assert info.value.trap_code == wasmtime.TrapCode.INTERRUPT
    assert not isinstance(info.value, wasmtime.Timeout)


def test_artifacts_of_interruptible_and_plain_engines_refuse_each_other():
    plain = wasmtime.Engine()
    inter = interruptible_engine()
    a = wasmtime.Module(inter, LOOP_WAT).serialize()
    b = wasmtime.Module(plain, LOOP_WAT).serialize()
    with pytest.raises(wasmtime.WasmtimeError):
        wasmtime.Module.deserialize(plain, a)
    with pytest.raises(wasmtime.WasmtimeError):
        wasmtime.Module.deserialize(inter, b)


def test_many_stores_and_engine_close_while_stores_live():
    e = interruptible_engine()
    m = wasmtime.Module(e, LOOP_WAT)
    stores = [wasmtime.Store(e) for _ in range(50)]
    e.close()  # the ticker keeps its own clone of the engine
    s = stores[7]
    x = wasmtime.Instance(s, m, []).exports(s)
    s.set_timeout(0.02)
    with pytest.raises(wasmtime.Timeout):
        x["loop"](s)
    for st in stores:
        st.close()


def test_ticker_restarts_in_a_forked_child():
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    out = run_child(
        PRELUDE
        + """
e, s, loop, nop, add = setup()
s.set_timeout(0.02)
try:
    loop(s)
except wasmtime.Timeout:
    pass
pid = os.fork()
if pid == 0:
    try:
        loop(s)
        os._exit(3)
    except wasmtime.Timeout:
        os._exit(0)
_, status = os.waitpid(pid, 0)
print("child", os.waitstatus_to_exitcode(status))
"""
    )
    assert out.strip() == "child 0"


THREADS = """
def threads():
    with open("/proc/self/status") as f:
        return int(next(l for l in f if l.startswith("Threads:")).split()[1])

def wait_threads(n, limit):
    t0 = time.monotonic()
    while threads() != n and time.monotonic() - t0 < limit:
        time.sleep(0.01)
    return threads()
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="counts threads in /proc")
def test_ticker_runs_only_while_wasm_runs():
    """No ticker thread before the first call, one while a call runs (seen
    from a host function), none again shortly after the calls end, and a
    fork then finds a single-threaded process (CPython 3.12+ warns when it
    forks a multi-threaded one; with parallel compilation on, Wasmtime's
    own compiler threads would make it multi-threaded anyway)."""
    out = run_child(
        PRELUDE
        + THREADS
        + """
import warnings
c = wasmtime.Config()
c.interruptible = True
c.parallel_compilation = False  # else compiling leaves Wasmtime's worker threads
e = wasmtime.Engine(c)
s = wasmtime.Store(e)
seen = []
h = wasmtime.Func(s, wasmtime.FuncType([], []), lambda: seen.append(threads()))
wat = '(module (import "" "h" (func $h)) (func (export "f") call $h))'
m = wasmtime.Module(e, wat)
print("before", threads())
f = wasmtime.Instance(s, m, [h]).exports(s)["f"]  # instantiating enters wasm too
print("after", wait_threads(1, 2.0))
f(s)
print("during", seen[0])
print("after", wait_threads(1, 2.0))
f(s)
print("again", seen[1])
print("after", wait_threads(1, 2.0))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print("forked quietly" if not [w for w in caught if "fork" in str(w.message)] else caught)
"""
    )
    assert out.split("\n")[:7] == [
        "before 1",
        "after 1",
        "during 2",
        "after 1",
        "again 2",
        "after 1",
        "forked quietly",
    ]


def test_timeout_and_signals_work_after_the_ticker_went_idle():
    """The ticker exits when no wasm runs; the next call starts it again,
    so a timeout and Ctrl-C still stop wasm within 50 ms.  Each is tried up
    to three times after an idle pause (the machine is shared: one of three
    must meet the bound, as in test_async's latency tests); every try must
    stop the loop."""
    out = run_child(
        PRELUDE
        + """
import signal, threading
e, s, loop, nop, add = setup()
lates = []
for _ in range(3):
    nop(s)
    time.sleep(0.6)  # well past the ticker's linger time
    s.set_timeout(0.1)
    t0 = time.monotonic()
    try:
        loop(s)
    except wasmtime.Timeout:
        lates.append(time.monotonic() - t0 - 0.1)
    if lates and lates[-1] < 0.05:
        break
print("timeout", min(lates) >= 0 and min(lates) < 0.05, len(lates))
s.set_timeout(None)
delays = []
for _ in range(3):
    time.sleep(0.6)
    sent = []
    def kill():
        time.sleep(0.1)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)
    t = threading.Thread(target=kill)
    t.start()
    try:
        loop(s)
    except KeyboardInterrupt:
        delays.append(time.monotonic() - sent[0])
    t.join()
    if delays[-1] < 0.05:
        break
print("interrupt", min(delays) < 0.05)
"""
    )
    lines = out.split("\n")
    assert lines[0].startswith("timeout True ") and lines[1] == "interrupt True", out


# ---- the GIL: no thread is starved ----------------------------------------


@pytest.mark.parametrize("interruptible", [False, True])
def test_watchdog_started_in_a_host_function_interrupts_the_call(interruptible):
    # The thread starts while the call keeps the GIL (no other thread
    # existed when it began); it must run while pure wasm runs.
    out = run_child(
        PRELUDE
        + f"""
INTERRUPTIBLE = {interruptible}
c = wasmtime.Config()
if INTERRUPTIBLE:
    c.interruptible = True
else:
    c.epoch_interruption = True
e = wasmtime.Engine(c)
s = wasmtime.Store(e)
if not INTERRUPTIBLE:
    s.set_epoch_deadline(1)  # only the watchdog advances the epoch
class Stop(Exception):
    pass
def on_usr1(*args):
    raise Stop()
signal.signal(signal.SIGUSR1, on_usr1)
def watchdog():
    time.sleep(0.05)
    if INTERRUPTIBLE:
        os.kill(os.getpid(), signal.SIGUSR1)
    else:
        e.increment_epoch()
def start():
    threading.Thread(target=watchdog).start()
wat = '(module (import "" "h" (func $h)) (func (export "run") call $h (loop br 0)))'
i = wasmtime.Instance(s, wasmtime.Module(e, wat), [wasmtime.Func(s, wasmtime.FuncType([], []), start)])
try:
    i.exports(s)["run"](s)
except Stop:
    print("stopped by signal")
except wasmtime.Trap as exc:
    print("stopped", exc.trap_code)
"""
    )
    expected = "stopped by signal" if interruptible else "stopped TrapCode.INTERRUPT"
    assert out.strip() == expected


@pytest.mark.parametrize("interruptible", [False, True])
def test_thread_started_in_a_host_function_runs_during_the_call(interruptible):
    # The wasm spins in a pure loop (no host call, so no Python runs on this
    # thread) until the thread writes a flag into its memory.
    out = run_child(
        PRELUDE
        + f"""
c = wasmtime.Config()
c.interruptible = {interruptible}
e = wasmtime.Engine(c)
s = wasmtime.Store(e)
wat = '''(module (import "" "h" (func $h)) (memory (export "mem") 1)
  (func (export "run") call $h (loop (br_if 0 (i32.eqz (i32.load8_u (i32.const 0)))))))'''
box = []
def writer():
    time.sleep(0.05)  # after the host function returned into wasm
    box[0][0] = 1  # a ctypes array over the memory: no Store involved
def h():
    threading.Thread(target=writer).start()
i = wasmtime.Instance(s, wasmtime.Module(e, wat), [wasmtime.Func(s, wasmtime.FuncType([], []), h)])
box.append(i.exports(s)["mem"].get_buffer_ptr(s))
i.exports(s)["run"](s)
print("thread ran")
"""
    )
    assert out.strip() == "thread ran"


def test_host_functions_on_two_threads_with_their_own_stores():
    # Correctness under the GIL policy: both threads finish with the right sums.
    results = {}

    def work(name, interruptible):
        e = interruptible_engine() if interruptible else wasmtime.Engine()
        s = wasmtime.Store(e)
        wat = """(module (import "" "h" (func $h (param i32) (result i32)))
          (func (export "run") (param i32) (result i32) (local i32)
            (loop (local.set 1 (i32.add (local.get 1) (call $h (local.get 0))))
                  (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            local.get 1))"""
        ty = wasmtime.FuncType([wasmtime.ValType.i32()], [wasmtime.ValType.i32()])
        i = wasmtime.Instance(s, wasmtime.Module(e, wat), [wasmtime.Func(s, ty, lambda x: x)])
        run = i.exports(s)["run"]
        results[name] = sum(run(s, 1000) for _ in range(20))

    threads = [threading.Thread(target=work, args=(n, n % 2 == 1)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {n: 20 * 500500 for n in range(4)}


def test_signals_reach_a_store_with_wasi():
    # A Store with WASI releases the GIL during calls: the deadline callback
    # takes it to run the handler.
    out = run_child(
        PRELUDE
        + """
e, s, loop, nop, add = setup()
s.set_wasi(wasmtime.WasiConfig())
threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    loop(s)
except KeyboardInterrupt:
    print("interrupted", add(s, 1, 1))
"""
    )
    assert out.strip() == "interrupted 2"


@pytest.mark.parametrize("interruptible", [False, True])
def test_a_running_thread_is_not_starved_by_pure_wasm(interruptible):
    # A thread that exists before the call and runs Python code must make
    # progress while another thread's call spins in pure wasm: it ends the
    # spin by writing into the wasm memory.
    out = run_child(
        PRELUDE
        + f"""
c = wasmtime.Config()
c.interruptible = {interruptible}
e = wasmtime.Engine(c)
s = wasmtime.Store(e)
wat = \'\'\'(module (memory (export "mem") 1)
  (func (export "run") (loop (br_if 0 (i32.eqz (i32.load8_u (i32.const 0)))))))\'\'\'
i = wasmtime.Instance(s, wasmtime.Module(e, wat), [])
ptr = i.exports(s)["mem"].get_buffer_ptr(s)
def busy():
    n = 0
    while n < 200000:  # Python work that needs the GIL
        n += 1
    ptr[0] = 1
t = threading.Thread(target=busy)
t.start()
i.exports(s)["run"](s)
t.join()
print("done")
"""
    )
    assert out.strip() == "done"
