"""wasmtime-native demo: compile and run real WebAssembly from Python.

Run with `./dev demo`.  It
1. compiles a WAT module, calls its exports and lets wasm call back into Python;
2. compiles a C program to WASI with clang and runs it with argv, env, stdin
   and a preopened directory (once through the API, once through
   `python -m wasmtime run`);
3. runs JavaScript in QuickJS-NG (a real wasm binary from the npm package
   quickjs-wasi) by driving its C API from Python;
4. compiles SQLite (sql.js, from npm), reflects its exports and round-trips
   the compiled code through serialize().
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

import wasmtime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import npm_wasm  # noqa: E402


def describe(ty):
    if isinstance(ty, wasmtime.FuncType):
        return "func (%s) -> (%s)" % (
            ", ".join(map(str, ty.params)),
            ", ".join(map(str, ty.results)),
        )
    if isinstance(ty, wasmtime.GlobalType):
        return "global %s%s" % ("mut " if ty.mutable else "", ty.content)
    if isinstance(ty, wasmtime.MemoryType):
        return "memory %s..%s pages" % (ty.limits.min, ty.limits.max)
    if isinstance(ty, wasmtime.TableType):
        return "table of %s, %s.." % (ty.element, ty.limits.min)
    return type(ty).__name__


HERE = os.path.dirname(os.path.abspath(__file__))


def section(title):
    print("\n== " + title)


def wat_demo(engine):
    section("WAT: calls in both directions")
    wat = """
    (module
      (import "host" "log" (func $log (param i32 i64)))
      (memory (export "memory") 1)
      (func (export "fib") (param i32) (result i64)
        (local i64 i64)
        i64.const 1 local.set 2
        block loop
          local.get 0 i32.eqz br_if 1
          local.get 1 local.get 2 i64.add
          local.get 2 local.set 1 local.set 2
          local.get 0 i32.const 1 i32.sub local.set 0
          br 0
        end end
        local.get 1)
      (func (export "fibs") (param i32)
        (local i32)
        block loop
          local.get 1 local.get 0 i32.ge_u br_if 1
          local.get 1 local.get 1 call 1 call $log
          local.get 1 i32.const 1 i32.add local.set 1
          br 0
        end end))
    """
    print("wat2wasm: %d bytes of wasm" % len(wasmtime.wat2wasm(wat)))
    module = wasmtime.Module(engine, wat)
    for imp in module.imports:
        print("  import %s.%s: %s" % (imp.module, imp.name, describe(imp.type)))
    for exp in module.exports:
        print("  export %s: %s" % (exp.name, describe(exp.type)))
    store = wasmtime.Store(engine)
    seen = []
    log = wasmtime.Func(
        store,
        wasmtime.FuncType([wasmtime.ValType.i32(), wasmtime.ValType.i64()], []),
        lambda i, v: seen.append((i, v)),
    )
    instance = wasmtime.Instance(store, module, [log])
    fib = instance.exports(store)["fib"]
    print("  fib(90) =", fib(store, 90))
    instance.exports(store)["fibs"](store, 10)
    print("  wasm called Python %d times: %s" % (len(seen), [v for _, v in seen]))
    n = 200_000
    t0 = time.perf_counter()
    for _ in range(n):
        fib(store, 1)
    t1 = time.perf_counter()
    print("  %.0f ns per Python -> wasm call" % ((t1 - t0) / n * 1e9))


def build_wasi_program():
    clang = shutil.which("clang")
    if clang is None:
        raise SystemExit("clang is missing: run `./dev demo`, which installs it")
    out = os.path.join(tempfile.mkdtemp(prefix="wasmtime-demo-"), "wordfreq.wasm")
    subprocess.check_call(
        [clang, "--target=wasm32-wasi", "-O2", "-o", out, os.path.join(HERE, "wasi", "wordfreq.c")]
    )
    return out


def wasi_demo(engine):
    section("WASI: a C program compiled with clang + wasi-libc")
    path = build_wasi_program()
    text = b"the quick brown fox jumps over the lazy dog the fox the end a dog and a fox"
    outdir = tempfile.mkdtemp(prefix="wasmtime-demo-out-")
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    module = wasmtime.Module.from_file(engine, path)
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["wordfreq", "3"]
    wasi.env = [("TITLE", "demo text")]
    wasi.stdin_bytes = text
    captured = []
    wasi.stdout_custom = lambda data: captured.append(data)
    wasi.preopen_dir(outdir, "/out")
    store.set_wasi(wasi)
    instance = linker.instantiate(store, module)
    try:
        instance.exports(store)["_start"](store)
        code = 0
    except wasmtime.ExitTrap as e:
        code = e.code
    print("  exit code %d; its stdout, captured by a Python callback:" % code)
    for line in b"".join(captured).decode().splitlines():
        print("   |", line)
    with open(os.path.join(outdir, "report.txt")) as f:
        print("  it wrote /out/report.txt:", f.read().split())
    print("  the same program through `python -m wasmtime run`:")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "wasmtime",
            "run",
            "--env",
            "TITLE=cli",
            "--dir",
            outdir + "::/out",
            path,
            "2",
        ],
        input=b"to be or not to be",
        capture_output=True,
    )
    for line in proc.stdout.decode().splitlines():
        print("   |", line)
    print("  exit status", proc.returncode)


def quickjs_demo(engine):
    section("QuickJS-NG (npm quickjs-wasi): JavaScript evaluated in wasm")
    path = npm_wasm.fetch("quickjs")
    module = wasmtime.Module.from_file(engine, path)
    js = npm_wasm.QuickJS(engine, module)

    for src in [
        "6 * 7",
        "[1, 2, 3].map(x => x * x).join(', ')",
        "JSON.stringify({engine: 'QuickJS', in: 'wasm', from: 'Python'})",
        "let s = 0; for (let i = 0; i < 1e6; i++) s += i; s",
    ]:
        print("  js> %-60s => %s" % (src, js.eval(src, "<demo>")))


def sqlite_demo(engine):
    section("SQLite (npm sql.js): a large real-world module")
    path = npm_wasm.fetch("sqlite")
    with open(path, "rb") as f:
        data = f.read()
    wasmtime.Module.validate(engine, data)
    t0 = time.perf_counter()
    sqlite = wasmtime.Module(engine, data)
    t1 = time.perf_counter()
    print(
        "  %d bytes compiled in %.2f s: %d imports, %d exports"
        % (len(data), t1 - t0, len(sqlite.imports), len(sqlite.exports))
    )
    blob = sqlite.serialize()
    t0 = time.perf_counter()
    again = wasmtime.Module.deserialize(engine, blob)
    t1 = time.perf_counter()
    print(
        "  serialized to %d bytes; deserialized in %.1f ms (%d exports)"
        % (len(blob), (t1 - t0) * 1e3, len(again.exports))
    )


def main():
    print("wasmtime-native on Wasmtime", wasmtime.WASMTIME_VERSION)
    engine = wasmtime.Engine()
    wat_demo(engine)
    wasi_demo(engine)
    quickjs_demo(engine)
    sqlite_demo(engine)


if __name__ == "__main__":
    main()
