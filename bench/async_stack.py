"""The cost of the async stack size (docs/asyncio.md, "Stack."): call_async
latency and RSS with Wasmtime's 2 MiB, our default (max_wasm_stack + 8 MiB)
and 64 MiB.  Each size runs in a fresh interpreter so that RSS figures do not
mix.  Figures: bench/RESULTS.md.

    .venv/bin/python bench/async_stack.py [CALLS]
"""

import subprocess
import sys

CHILD = r"""
import asyncio, resource, sys, time
from wasmtime import Config, Engine, FuncType, Instance, Linker, Module, Store, ValType

size, calls = int(sys.argv[1]), int(sys.argv[2])
config = Config()
if size:
    config.async_stack_size = size
engine = Engine(config)
i32 = ValType.i32()
module = Module(engine, '(module (import "h" "f" (func $f (param i32) (result i32)))'
                '(func (export "add") (param i32 i32) (result i32)'
                ' local.get 0 local.get 1 i32.add)'
                '(func (export "host") (param i32) (result i32) local.get 0 call $f))')

def down(n):
    return 0 if n == 0 else list(map(down, [n - 1]))[0] + 1

linker = Linker(engine)
linker.define_func("h", "f", FuncType([i32], [i32]), down)
store = Store(engine)

def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

async def main():
    inst = await linker.instantiate_async(store, module)
    add, host = inst.exports(store)["add"], inst.exports(store)["host"]
    for _ in range(1000):
        await add.call_async(store, 1, 2)
    best = None
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(calls):
            await add.call_async(store, 1, 2)
        t = (time.perf_counter() - t0) / calls * 1e9
        best = t if best is None else min(best, t)
    rss_calls = rss_kib()
    await host.call_async(store, 900)  # about 600 KB of stack on 3.11
    rss_deep = rss_kib()
    for _ in range(calls):
        await add.call_async(store, 1, 2)
    rss_after = rss_kib()
    # a fresh Store per call: Wasmtime allocates (and later frees) its stack
    plain = Module(engine, '(module (func (export "add") (param i32 i32) (result i32)'
                   ' local.get 0 local.get 1 i32.add))')
    fresh = None
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(calls // 10):
            s = Store(engine)
            await Instance(s, plain, []).exports(s)["add"].call_async(s, 1, 2)
        t = (time.perf_counter() - t0) / (calls // 10) * 1e9
        fresh = t if fresh is None else min(fresh, t)
    # 100 Stores in the middle of a call at once (asyncio.gather)
    stores = [Store(engine) for _ in range(100)]
    async def sleepy(x):
        await asyncio.sleep(0.05)
        return x
    funcs = []
    for s in stores:
        lk = Linker(engine)
        lk.define_func("h", "f", FuncType([i32], [i32]), sleepy)
        funcs.append((s, (await lk.instantiate_async(s, module)).exports(s)["host"]))
    vm0 = vm_kib()
    peak = []
    async def watch():
        await asyncio.sleep(0.02)
        peak.append((rss_kib(), vm_kib()))
    await asyncio.gather(watch(), *(f.call_async(s, 1) for s, f in funcs))
    return best, rss_calls, rss_deep, rss_after, fresh, peak[0][0], peak[0][1] - vm0

def vm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1])

print(*(round(v) for v in asyncio.run(main())))
"""

SIZES = [("Wasmtime's 2 MiB", 2 << 20), ("default (8.5 MiB)", 0), ("64 MiB", 64 << 20)]


INTERLEAVED = r"""
import asyncio, sys, time
from wasmtime import Config, Engine, Instance, Module, Store

calls = int(sys.argv[1])
sizes = [int(v) for v in sys.argv[2:]]
funcs = []
for size in sizes:
    config = Config()
    if size:
        config.async_stack_size = size
    engine = Engine(config)
    store = Store(engine)
    module = Module(engine, '(module (func (export "add") (param i32 i32) (result i32)'
                    ' local.get 0 local.get 1 i32.add))')
    funcs.append((store, Instance(store, module, []).exports(store)["add"]))

async def main():
    best = [float("inf")] * len(funcs)
    for _ in range(15):  # round robin, so that load on the machine hits all alike
        for i, (store, add) in enumerate(funcs):
            t0 = time.perf_counter()
            for _ in range(calls):
                await add.call_async(store, 1, 2)
            best[i] = min(best[i], (time.perf_counter() - t0) / calls * 1e9)
    return best

print(*(round(v) for v in asyncio.run(main())))
"""


def main():
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    out = subprocess.run(
        [sys.executable, "-c", INTERLEAVED, str(calls // 4)] + [str(s) for _, s in SIZES],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    print(
        "call_async, the three engines in one process, round robin, best of 15: "
        + ", ".join(f"{label} {ns} ns" for (label, _), ns in zip(SIZES, out))
    )
    print(f"Python {sys.version.split()[0]}, {calls} calls per run, best of 5 runs")
    print(
        "| async stack | ns per call_async | new Store + call_async | RSS after the calls"
        " | after a deep host call | after more calls | 100 calls at once: RSS, VmSize added |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, size in SIZES:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(size), str(calls)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        ns, a, b, c, fresh, rss100, vm100 = (int(v) for v in out)
        mib = [f"{v / 1024:.1f} MiB" for v in (a, b, c, rss100, vm100)]
        print(f"| {label} | {ns} | {fresh} | {mib[0]} | {mib[1]} | {mib[2]} | {mib[3]}, {mib[4]} |")


if __name__ == "__main__":
    main()
