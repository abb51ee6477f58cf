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


class QuickJS:
    """QuickJS-NG (KNOWN["quickjs"]) instantiated from a compiled `module` in
    a new Store of `engine`, with WASI and stand-ins for its `env` host
    imports (no timezone, no interrupts, no modules), initialized, with one
    JS context.  `eval(src)` returns the result as a str."""

    def __init__(self, engine, module):
        import wasmtime

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
        self.store = store = wasmtime.Store(engine)
        store.set_wasi(wasmtime.WasiConfig())
        self.ex = ex = linker.instantiate(store, module).exports(store)
        ex["_initialize"](store)
        self.memory = ex["memory"]
        self.ctx = ex["JS_NewContext"](store, ex["JS_NewRuntime"](store))

    def cstring(self, text):
        """Copy `text` NUL-terminated into wasm memory (malloc); its address."""
        data = text.encode() + b"\0"
        ptr = self.ex["malloc"](self.store, len(data))
        self.memory.write(self.store, data, ptr)
        return ptr

    def eval(self, src, filename="<eval>"):
        """Evaluate `src` in global scope; the result converted to a str."""
        ex, store, ctx = self.ex, self.store, self.ctx
        code, name = self.cstring(src), self.cstring(filename)
        value = ex["JS_Eval"](store, ctx, code, len(src.encode()), name, 0)
        s = ex["JS_ToCStringLen2"](store, ctx, 0, value, 0)
        raw = self.memory.read(store, s, s + 4096)
        ex["JS_FreeCString"](store, ctx, s)
        ex["JS_FreeValue"](store, ctx, value)
        ex["free"](store, code)
        ex["free"](store, name)
        return bytes(raw[: raw.index(0)]).decode()
