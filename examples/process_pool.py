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
import npm_wasm  # noqa: E402  (fetches QuickJS; QuickJS drives it)


def engine_config():
    config = wasmtime.Config()
    config.cranelift_opt_level("speed")
    return config


def make_js(module):
    """An eval(src) -> str for a QuickJS module, in a fresh Store."""
    engine = wasmtime.Engine.shared(engine_config())
    js = npm_wasm.QuickJS(engine, module)
    return lambda src: js.eval(src, "<pool>")


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
