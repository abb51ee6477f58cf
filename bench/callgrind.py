"""Instructions per call, counted with valgrind's callgrind: load-independent.

Each case runs twice under `valgrind --tool=callgrind`, with N and 2N
operations; (Ir(2N) - Ir(N)) / N is the instruction count of one operation,
with start-up, imports and compilation cancelled out.

The floor of a Python -> wasm call is what cannot be avoided: the Python
loop calling a C builtin (`operator.add(1, 2)` / `len(())`) plus
`wasmtime_func_call_unchecked` from C (bench/floor.c).  The floor of a host
import call is C calling an unchecked host function from a wasm loop
(bench/floor.c) plus CPython calling the same Python callable from C
(`deque(map(hit, range(n)), 0)`: a new int per call, as wasm passes).

    .venv/bin/python bench/callgrind.py [--json OUT] [--only SUBSTR]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

WAT = """(module (import "host" "hit" (func $hit (param i32) (result i32)))
 (func (export "nop"))
 (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
 (func (export "loop_hit") (param $n i32) (result i32) (local $acc i32)
  block loop local.get $n i32.eqz br_if 1
   local.get $acc local.get $n call $hit i32.add local.set $acc
   local.get $n i32.const 1 i32.sub local.set $n br 0 end end local.get $acc))"""

SETUP = """
import sys, threading
from collections import deque
from itertools import repeat
import operator
import wasmtime
N = int(sys.argv[1])
c = wasmtime.Config()
c.interruptible = INTERRUPTIBLE
e = wasmtime.Engine(c)
s = wasmtime.Store(e)
i32 = wasmtime.ValType.i32()
hit = lambda x: x & 1
h = wasmtime.Func(s, wasmtime.FuncType([i32], [i32]), hit)
x = wasmtime.Instance(s, wasmtime.Module(e, WAT), [h]).exports(s)
nop, add, loop_hit = x["nop"], x["add"], x["loop_hit"]
if IDLE_THREAD:
    ev = threading.Event()
    t = threading.Thread(target=ev.wait)
    t.start()
r = range(N)
"""

# name -> (loop body over N, interruptible, idle thread)
NOP = "for _ in r: nop(s)"
ADD = "for _ in r: add(s, 1, 2)"
HOST = "loop_hit(s, N)"
PY_CASES = {
    "nop call": (NOP, False, False),
    "add(i32,i32)": (ADD, False, False),
    "host import call": (HOST, False, False),
    "nop call, interruptible": (NOP, True, False),
    "add(i32,i32), interruptible": (ADD, True, False),
    "host import call, interruptible": (HOST, True, False),
    "nop call, idle thread": (NOP, False, True),
    "add(i32,i32), idle thread": (ADD, False, True),
    "host import call, idle thread": (HOST, False, True),
    "nop call, interruptible, idle thread": (NOP, True, True),
    # parts of the floors
    "python loop + len(())": ("for _ in r: len(())", False, False),
    "python loop + operator.add(1, 2)": ("for _ in r: opadd(1, 2)", False, False),
    "CPython calls hit(i) from C": ("deque(map(hit, r), 0)", False, False),
}
C_CASES = {"C nop": "nop", "C add": "add", "C host call": "host"}


def count(argv):
    """Instructions run by the main thread (the ticker and idle threads are
    not part of a call's cost, and their share depends on wall time)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        p = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--separate-threads=yes",
                "--callgrind-out-file=" + out,
            ]
            + argv,
            capture_output=True,
            text=True,
            # The same hash seed in both runs: start-up (dict layouts, set
            # iteration) then costs the same and cancels out exactly.
            env=dict(os.environ, PYTHONHASHSEED="0"),
        )
        if p.returncode != 0:
            raise RuntimeError("valgrind failed: %s\n%s" % (argv, p.stderr[-2000:]))
        with open(out + "-01") as f:
            m = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
        return int(m.group(1))


def per_op(argv_of_n, n):
    return (count(argv_of_n(2 * n)) - count(argv_of_n(n))) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--only")
    ap.add_argument("-n", type=int, default=20000)
    opts = ap.parse_args()
    import run  # bench/run.py: builds floor.c against the pinned libwasmtime

    os.makedirs(os.path.join(HERE, ".venvs"), exist_ok=True)
    floor = run.build_floor()
    res = {}
    for name, what in C_CASES.items():
        if opts.only and opts.only not in name:
            continue
        res[name] = per_op(lambda n, w=what: [floor, str(n), w], 10 * opts.n)
        print("%-40s %8.1f" % (name, res[name]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (body, interruptible, idle) in PY_CASES.items():
            if opts.only and opts.only not in name:
                continue
            script = os.path.join(tmp, "case.py")
            with open(script, "w") as f:
                f.write(
                    (
                        "WAT = %r\nINTERRUPTIBLE = %r\nIDLE_THREAD = %r\n"
                        % (WAT, interruptible, idle)
                    )
                    + SETUP
                    + "def bench(r, s, nop, add, loop_hit, hit, opadd, N):\n    "
                    + body
                    + "\nbench(r, s, nop, add, loop_hit, hit, operator.add, N)"
                    + "\nif IDLE_THREAD:\n    ev.set()\n"
                )
            res[name] = per_op(lambda n, sc=script: [sys.executable, sc, str(n)], opts.n)
            print("%-40s %8.1f" % (name, res[name]), flush=True)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
