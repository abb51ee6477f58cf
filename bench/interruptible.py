"""What Config.interruptible costs on real compute-heavy wasm: QuickJS-NG
(npm quickjs-wasi) evaluating a JavaScript loop, on a plain and on an
interruptible engine, runs alternating, medians of wall time.

    .venv/bin/python bench/interruptible.py [--reps N] [--json OUT]
"""

import argparse
import json
import os
import statistics
import sys
import time

import wasmtime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
import npm_wasm  # noqa: E402

JS = "(() => { let s = 0; for (let i = 0; i < 5e5; i++) s = (s + i * i) % 1000003; return s })()"


def _expected():
    s = 0
    for i in range(500_000):
        s = (s + i * i) % 1000003
    return str(s)


EXPECTED = _expected()


def quickjs(interruptible):
    c = wasmtime.Config()
    c.interruptible = interruptible
    engine = wasmtime.Engine(c)
    module = wasmtime.Module.from_file(engine, npm_wasm.fetch("quickjs"))
    js = npm_wasm.QuickJS(engine, module)

    def run():
        t0 = time.perf_counter()
        result = js.eval(JS, "<bench>")
        t = time.perf_counter() - t0
        assert result == EXPECTED, (result, EXPECTED)
        return t

    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--json")
    opts = ap.parse_args()
    runs = {False: quickjs(False), True: quickjs(True)}
    times = {False: [], True: []}
    for _ in range(opts.reps):
        for k in (False, True):
            times[k].append(runs[k]())
    plain, inter = statistics.median(times[False]), statistics.median(times[True])
    res = {
        "QuickJS loop, plain engine (s)": plain,
        "QuickJS loop, interruptible engine (s)": inter,
        "interruptible / plain": inter / plain,
    }
    for k, v in res.items():
        print("%-45s %.3f" % (k, v))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
