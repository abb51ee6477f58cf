"""Compile once, run in many processes: a pickled wasmtime.Module.

QuickJS-NG (a JavaScript engine compiled to WASI, from the npm package
quickjs-wasi) is compiled once in this process, then sent to a
ProcessPoolExecutor.  Each worker unpickles it (authenticated by an HMAC under
the key that wasmtime put into os.environ at import, which the workers
inherit) without compiling it again, and evaluates JavaScript with it.

    python examples/process_pool.py [--start-method spawn] [--workers 2] [JS ...]
"""

import argparse
import concurrent.futures
import multiprocessing
import os
import pickle
import sys
import time

import wasmtime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))


def engine_config():
    config = wasmtime.Config()
    config.cranelift_opt_level("speed")
    return config


def make_js(module):
    """An eval(src) -> str for a QuickJS module, in a fresh Store."""
    engine = wasmtime.Engine.shared(engine_config())
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
    ctx = ex["JS_NewContext"](store, ex["JS_NewRuntime"](store))

    def cstring(text):
        data = text.encode() + b"\0"
        ptr = ex["malloc"](store, len(data))
        memory.write(store, data, ptr)
        return ptr

    def js_eval(src):
        code, name = cstring(src), cstring("<pool>")
        value = ex["JS_Eval"](store, ctx, code, len(src.encode()), name, 0)
        s = ex["JS_ToCStringLen2"](store, ctx, 0, value, 0)
        raw = memory.read(store, s, s + 4096)
        ex["JS_FreeCString"](store, ctx, s)
        ex["JS_FreeValue"](store, ctx, value)
        ex["free"](store, code)
        ex["free"](store, name)
        return bytes(raw[: raw.index(0)]).decode()

    return js_eval


_module = None


def worker_init(module):
    """Runs once per worker: `module` arrives unpickled (not recompiled)."""
    global _module
    _module = module


def evaluate(src):
    return os.getpid(), make_js(_module)(src)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start-method", default="spawn", choices=["fork", "spawn", "forkserver"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("js", nargs="*")
    args = parser.parse_args(argv)
    sources = args.js or [
        "6 * 7",
        "[1, 2, 3].map(x => x * x).join(', ')",
        "JSON.stringify({from: 'a worker process'})",
        "let s = 0; for (let i = 0; i < 1e5; i++) s += i; s",
    ]

    import npm_wasm

    path = npm_wasm.fetch("quickjs")
    t = time.perf_counter()
    module = wasmtime.Module.from_file(wasmtime.Engine.shared(engine_config()), path)
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    pickle.loads(pickle.dumps(module))
    unpickle_s = time.perf_counter() - t
    print(f"compiled in {compile_s:.2f} s; a pickle round trip takes {unpickle_s:.3f} s")

    ctx = multiprocessing.get_context(args.start_method)
    with concurrent.futures.ProcessPoolExecutor(
        args.workers, mp_context=ctx, initializer=worker_init, initargs=(module,)
    ) as pool:
        for src, (pid, result) in zip(sources, pool.map(evaluate, sources)):
            print(f"  [pid {pid}] js> {src:<50} => {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
