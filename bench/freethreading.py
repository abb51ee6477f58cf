"""Thread scaling on a free-threaded CPython (issue 15), and the single-thread
call cost, for whichever interpreter runs this script.

    .venv-ft/bin/python bench/freethreading.py      (after ./dev ft: 3.13t)
    .venv/bin/python bench/freethreading.py         (the GIL build, to compare)
    python bench/freethreading.py --json            one JSON line, for RESULTS.md

Cases (one Engine and Module shared by all threads, one Store per thread):

  F1 CPU-bound wasm: a loop of integer work entirely inside wasm.  Speedup of
     2 threads over 1 = 2 * t(1 thread, W work) / t(2 threads, W work each).
  F2 host-call-heavy wasm: a wasm loop that calls a Python host function on
     every iteration; with the GIL the host calls serialise, without it they
     run in parallel.  Same speedup formula.  F2 gives every thread the same
     lambda source (so one code object, whose reference count the threads
     share), F2b a lambda compiled per thread.
     "cores used" is the process's CPU seconds per wall second in the best
     2-thread run: above 1 only if the two threads ran at the same time,
     which the load of the machine can prevent but not fake.
  F3 single-thread costs: a Python -> wasm call (`add(i32, i32)`), and one
     wasm -> Python host call from a wasm loop, in ns.

  --callgrind: F3 again as instructions per call (valgrind's callgrind, the
     difference between a run with N calls and one with none), which the load
     of a shared machine does not disturb.

Each figure is the best of REPS runs (the machine is shared: the best run is
the one least disturbed by other processes).  The load average is printed
with the figures.
"""

import json
import os
import platform
import sys
import sysconfig
import threading
import time

import wasmtime

REPS = int(os.environ.get("BENCH_REPS", "5"))

WAT = """
(module
  (import "" "h" (func $h (param i32) (result i32)))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  ;; CPU-bound: n rounds of an xorshift, all in wasm
  (func (export "spin") (param i32) (result i32) (local i32)
    i32.const 1 local.set 1
    (block (loop
      local.get 0 i32.eqz br_if 1
      local.get 1 local.get 1 i32.const 13 i32.shl i32.xor local.set 1
      local.get 1 local.get 1 i32.const 17 i32.shr_u i32.xor local.set 1
      local.get 1 local.get 1 i32.const 5 i32.shl i32.xor local.set 1
      local.get 0 i32.const 1 i32.sub local.set 0
      br 0))
    local.get 1)
  ;; host-call-heavy: n calls of the Python host function
  (func (export "host_loop") (param i32) (result i32) (local i32)
    (block (loop
      local.get 0 i32.eqz br_if 1
      local.get 1 call $h local.set 1
      local.get 0 i32.const 1 i32.sub local.set 0
      br 0))
    local.get 1))
"""

# The most CPU time per wall second any run with that many threads got: above
# 1 only when the threads ran at the same time, whatever the load.
CORES_USED = {}

ENGINE = wasmtime.Engine()
MODULE = wasmtime.Module(ENGINE, WAT)
H_TYPE = wasmtime.FuncType([wasmtime.ValType.i32()], [wasmtime.ValType.i32()])


def instance(own_code=None):
    """A Store and the exports of an instance of MODULE in it.  The host
    function is the same lambda (one code object for all threads), or with
    own_code=i a lambda compiled separately (its own code object)."""
    store = wasmtime.Store(ENGINE)
    if own_code is None:
        fn = lambda x: x + 1  # noqa: E731
    else:
        fn = eval(compile("lambda x: x + 1", "<host %d>" % own_code, "eval"))
    h = wasmtime.Func(store, H_TYPE, fn)
    return store, wasmtime.Instance(store, MODULE, [h]).exports(store)


def timed_threads(nthreads, export, arg, calls=1, own_code=False):
    """Seconds for nthreads threads, each with its own Store, to run
    export(arg) `calls` times, started together."""
    setups = [instance(i if own_code else None) for i in range(nthreads)]
    barrier = threading.Barrier(nthreads + 1)
    done = []

    def work(store, ex):
        f = ex[export]
        barrier.wait()
        for _ in range(calls):
            f(store, arg)
        done.append(time.perf_counter())

    threads = [threading.Thread(target=work, args=s) for s in setups]
    for t in threads:
        t.start()
    barrier.wait()
    c0, t0 = time.process_time(), time.perf_counter()
    for t in threads:
        t.join()
    wall = max(done) - t0
    CORES_USED[nthreads] = max(CORES_USED.get(nthreads, 0), (time.process_time() - c0) / wall)
    return wall


def speedup(export, arg, calls=1, own_code=False):
    one = min(timed_threads(1, export, arg, calls, own_code) for _ in range(REPS))
    two = min(timed_threads(2, export, arg, calls, own_code) for _ in range(REPS))
    return one, two, 2 * one / two


def per_call_ns(fn, n):
    best = float("inf")
    for _ in range(REPS):
        t0 = time.perf_counter_ns()
        fn(n)
        best = min(best, (time.perf_counter_ns() - t0) / n)
    return best


def loop_only(case, n):
    """The F3 loop alone (run under callgrind by callgrind_per_call)."""
    store, ex = instance()
    add, host_loop = ex["add"], ex["host_loop"]
    if case == "add":
        for _ in range(n):
            add(store, 1, 2)
    else:
        host_loop(store, n)


def callgrind_per_call(case, n=20_000):
    import re
    import subprocess
    import tempfile

    totals = []
    for calls in (0, n):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "cg.out")
            subprocess.run(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--callgrind-out-file=" + out,
                    sys.executable,
                    os.path.abspath(__file__),
                    "--loop",
                    case,
                    str(calls),
                ],
                check=True,
                capture_output=True,
            )
            with open(out) as f:
                totals.append(int(re.search(r"^summary: (\d+)", f.read(), re.M).group(1)))
    return (totals[1] - totals[0]) / n


def main():
    if "--loop" in sys.argv:
        i = sys.argv.index("--loop")
        loop_only(sys.argv[i + 1], int(sys.argv[i + 2]))
        return
    if "--callgrind" in sys.argv:
        print(
            json.dumps(
                {
                    "python": sys.version.split()[0],
                    "gil_enabled": sys._is_gil_enabled()
                    if hasattr(sys, "_is_gil_enabled")
                    else True,
                    "Ir per Python->wasm add(i32,i32)": callgrind_per_call("add"),
                    "Ir per wasm->Python host call": callgrind_per_call("host"),
                }
            )
        )
        return
    store, ex = instance()
    add, host_loop = ex["add"], ex["host_loop"]

    def call_add(n):
        for _ in range(n):
            add(store, 1, 2)

    res = {
        "python": sys.version.split()[0],
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True,
        "machine": "%s, %d cores" % (platform.platform(), os.cpu_count()),
        "load_before": os.getloadavg()[0],
    }
    res["F1 CPU-bound (1 thread s, 2 threads s, speedup x)"] = speedup("spin", 60_000_000)
    res["F2 host-call-heavy, one lambda (1 thread s, 2 threads s, speedup x)"] = speedup(
        "host_loop", 300_000
    )
    res["F2b host-call-heavy, a lambda per thread (1 thread s, 2 threads s, speedup x)"] = speedup(
        "host_loop", 300_000, own_code=True
    )
    res["F1/F2 cores used by a 2-thread run (CPU s / wall s, best)"] = CORES_USED.get(2, 0.0)
    res["F3 Python->wasm add(i32,i32) (ns)"] = per_call_ns(call_add, 300_000)
    res["F3 wasm->Python host call (ns)"] = per_call_ns(lambda n: host_loop(store, n), 300_000)
    res["load_after"] = os.getloadavg()[0]
    if "--json" in sys.argv:
        print(json.dumps(res))
        return
    for k, v in res.items():
        if isinstance(v, tuple):
            v = "%.3f s, %.3f s, %.2fx" % v
        elif isinstance(v, float):
            v = "%.1f" % v
        print("%-78s %s" % (k, v))


if __name__ == "__main__":
    main()
