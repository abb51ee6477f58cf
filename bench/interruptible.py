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
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    i32 = wasmtime.ValType.i32()
    stubs = {
        "host_get_timezone_offset": ([i32, i32], [i32], lambda a, b: 0),
        "host_interrupt": ([], [i32], lambda: 0),
        "host_promise_rejection": ([i32, i32, i32], [], lambda a, b, c: None),
        "host_module_normalize": ([i32, i32], [i32], lambda a, b: 0),
        "host_module_load": ([i32, i32], [i32], lambda a, b: 0),
        "host_call": ([i32] * 5, [i32], lambda *a: 0),
    }
    for name, (params, results, fn) in stubs.items():
        linker.define_func("env", name, wasmtime.FuncType(params, results), fn)
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    ex = linker.instantiate(store, module).exports(store)
    ex["_initialize"](store)
    memory = ex["memory"]
    rt = ex["JS_NewRuntime"](store)
    ctx = ex["JS_NewContext"](store, rt)

    def cstring(text):
        data = text.encode() + b"\0"
        ptr = ex["malloc"](store, len(data))
        memory.write(store, data, ptr)
        return ptr

    code, name = cstring(JS), cstring("<bench>")

    def run():
        t0 = time.perf_counter()
        value = ex["JS_Eval"](store, ctx, code, len(JS.encode()), name, 0)
        t = time.perf_counter() - t0
        sp = ex["JS_ToCStringLen2"](store, ctx, 0, value, 0)
        raw = memory.read(store, sp, sp + 64)
        result = bytes(raw[: raw.index(0)]).decode()
        ex["JS_FreeCString"](store, ctx, sp)
        ex["JS_FreeValue"](store, ctx, value)
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
