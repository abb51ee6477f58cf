"""Compile once, scatter once, run on a Dask cluster: a pickled wasmtime.Module.

QuickJS-NG (the JavaScript engine of examples/process_pool.py) is compiled
once here, scattered to every worker of a LocalCluster of processes, and the
tasks evaluate JavaScript with it.  The workers unpickle the module (an
HMAC-authenticated artifact; the key reached them through the environment,
since `import wasmtime` put it there before the cluster started) and never
compile it.  For a remote cluster, give every process the same key with
wasmtime.set_pickle_key(key) or the WASMTIME_PICKLE_KEY variable.

    python examples/dask_cluster.py [--workers 2] [JS ...]
"""

import argparse
import os
import sys
import time

import wasmtime  # before the cluster: creates the pickle key the workers inherit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

import process_pool  # noqa: E402  (make_js, engine_config: shipped to the workers)


def evaluate(module, src):
    return os.getpid(), process_pool.make_js(module)(src)


def main(argv=None):
    from dask.distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("js", nargs="*")
    args = parser.parse_args(argv)
    sources = args.js or [
        "6 * 7",
        "'wasm'.toUpperCase() + ' on dask'",
        "Array.from({length: 5}, (_, i) => i * i).join(' ')",
    ]

    import npm_wasm

    t = time.perf_counter()
    engine = wasmtime.Engine.shared(process_pool.engine_config())
    module = wasmtime.Module.from_file(engine, npm_wasm.fetch("quickjs"))
    print(f"compiled in {time.perf_counter() - t:.2f} s")

    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.upload_file(process_pool.__file__)
        shipped = client.scatter(module, broadcast=True)
        futures = [client.submit(evaluate, shipped, src, pure=False) for src in sources]
        for src, (pid, result) in zip(sources, client.gather(futures)):
            print(f"  [pid {pid}] js> {src:<50} => {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
