"""Scale-out with pickled modules (wasmtime-native only; wasmtime-py cannot
pickle a Module): compile vs unpickle time of QuickJS, and the throughput of
JavaScript evaluations in a process pool of 1 and 2 workers.

    python bench/scaleout.py [--tasks 16]
"""

import argparse
import concurrent.futures
import multiprocessing
import os
import pickle
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

import npm_wasm  # noqa: E402
import process_pool  # noqa: E402

import wasmtime  # noqa: E402

JS = "let s = 0; for (let i = 0; i < 3e5; i++) s += i % 7; s"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=16)
    args = parser.parse_args()
    engine = wasmtime.Engine.shared(process_pool.engine_config())
    path = npm_wasm.fetch("quickjs")
    t = time.perf_counter()
    module = wasmtime.Module.from_file(engine, path)
    compile_s = time.perf_counter() - t
    data = pickle.dumps(module)
    t = time.perf_counter()
    for _ in range(5):
        pickle.loads(data)
    unpickle_s = (time.perf_counter() - t) / 5
    print(
        f"QuickJS: compile {compile_s * 1000:.0f} ms, unpickle {unpickle_s * 1000:.1f} ms "
        f"({compile_s / unpickle_s:.0f}x), pickle {len(data) / 1e6:.1f} MB"
    )
    ctx = multiprocessing.get_context("spawn")
    for workers in (1, 2):
        with concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=process_pool.worker_init, initargs=(module,)
        ) as pool:
            list(pool.map(process_pool.evaluate, ["1"] * workers))  # start the workers
            t = time.perf_counter()
            list(pool.map(process_pool.evaluate, [JS] * args.tasks))
            dt = time.perf_counter() - t
        print(f"{workers} worker(s): {args.tasks / dt:.1f} evaluations/s")


if __name__ == "__main__":
    main()
