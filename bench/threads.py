"""The GIL policy measured: two threads with their own Stores against one.

For each engine (plain, interruptible) and each kind of work:
- host-call heavy: a wasm loop calling a Python host function (`lambda x: x & 1`);
- pure wasm: a wasm loop with no host call;
one thread does 2W units, then two threads do W each at the same time.  The
figure is the throughput of two threads over that of one (wall time of one
thread / wall time of two): 1.0 means no loss, 2.0 perfect scaling.

    .venv/bin/python bench/threads.py [--json OUT]
"""

import argparse
import json
import statistics
import threading
import time

import wasmtime

WAT = """(module (import "host" "hit" (func $hit (param i32) (result i32)))
 (func (export "loop_hit") (param $n i32) (result i32) (local $acc i32)
  block loop local.get $n i32.eqz br_if 1
   local.get $acc local.get $n call $hit i32.add local.set $acc
   local.get $n i32.const 1 i32.sub local.set $n br 0 end end local.get $acc)
 (func (export "spin") (param $n i32) (result i32)
  block loop local.get $n i32.eqz br_if 1
   local.get $n i32.const 1 i32.sub local.set $n br 0 end end local.get $n))"""


def worker(interruptible):
    c = wasmtime.Config()
    c.interruptible = interruptible
    e = wasmtime.Engine(c)
    s = wasmtime.Store(e)
    i32 = wasmtime.ValType.i32()
    h = wasmtime.Func(s, wasmtime.FuncType([i32], [i32]), lambda x: x & 1)
    x = wasmtime.Instance(s, wasmtime.Module(e, WAT), [h]).exports(s)
    return s, x["loop_hit"], x["spin"]


def measure(interruptible, kind, units):
    ws = [worker(interruptible) for _ in range(2)]

    def work(w, n):
        s, loop_hit, spin = w
        if kind == "host":
            for _ in range(n):
                loop_hit(s, 1000)
        else:
            for _ in range(n):
                spin(s, 1_000_000)

    t0 = time.perf_counter()
    work(ws[0], 2 * units)
    one = time.perf_counter() - t0
    threads = [threading.Thread(target=work, args=(w, units)) for w in ws]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    two = time.perf_counter() - t0
    return one / two


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--reps", type=int, default=5)
    opts = ap.parse_args()
    res = {}
    for interruptible in (False, True):
        for kind, units in (("host", 2000), ("pure", 300)):
            name = "%s, %s engine" % (
                "host-call heavy" if kind == "host" else "pure wasm",
                "interruptible" if interruptible else "plain",
            )
            runs = [measure(interruptible, kind, units) for _ in range(opts.reps)]
            res[name] = statistics.median(runs)
            print("%-40s %.2f× (runs %s)" % (name, res[name], " ".join("%.2f" % r for r in runs)))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
