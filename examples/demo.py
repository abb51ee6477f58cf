"""wasmtime-native demo: compile real WebAssembly and look inside it.

Run with `./dev demo`.  It compiles a WAT module and a real-world binary
(SQLite compiled to wasm, from the npm package sql.js), validates, reflects
imports and exports, and round-trips compiled code through serialize().
"""

import os
import sys
import time

import wasmtime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import npm_wasm  # noqa: E402


def describe(ty):
    if isinstance(ty, wasmtime.FuncType):
        return "func (%s) -> (%s)" % (", ".join(map(str, ty.params)),
                                      ", ".join(map(str, ty.results)))
    if isinstance(ty, wasmtime.GlobalType):
        return "global %s%s" % ("mut " if ty.mutable else "", ty.content)
    if isinstance(ty, wasmtime.MemoryType):
        return "memory %s..%s pages" % (ty.limits.min, ty.limits.max)
    if isinstance(ty, wasmtime.TableType):
        return "table of %s, %s.." % (ty.element, ty.limits.min)
    return type(ty).__name__


def main():
    print("wasmtime-native on Wasmtime", wasmtime.WASMTIME_VERSION)
    engine = wasmtime.Engine()

    wat = """
    (module
      (import "host" "log" (func $log (param i32)))
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
        local.get 1))
    """
    binary = wasmtime.wat2wasm(wat)
    print("\nWAT module: %d bytes of wasm" % len(binary))
    module = wasmtime.Module(engine, wat)
    for imp in module.imports:
        print("  import %s.%s: %s" % (imp.module, imp.name, describe(imp.type)))
    for exp in module.exports:
        print("  export %s: %s" % (exp.name, describe(exp.type)))

    path = npm_wasm.fetch("sqlite")
    with open(path, "rb") as f:
        data = f.read()
    print("\nSQLite (sql.js) %s: %d bytes" % (os.path.basename(path), len(data)))
    wasmtime.Module.validate(engine, data)
    t0 = time.perf_counter()
    sqlite = wasmtime.Module(engine, data)
    t1 = time.perf_counter()
    print("  compiled in %.2f s: %d imports, %d exports" % (
        t1 - t0, len(sqlite.imports), len(sqlite.exports)))
    funcs = [e for e in sqlite.exports if isinstance(e.type, wasmtime.FuncType)]
    for exp in funcs[:6]:
        print("  export %s: %s" % (exp.name, describe(exp.type)))
    print("  ... and %d more exported functions" % (len(funcs) - 6))
    blob = sqlite.serialize()
    t0 = time.perf_counter()
    again = wasmtime.Module.deserialize(engine, blob)
    t1 = time.perf_counter()
    print("  serialized to %d bytes; deserialized in %.3f s with %d exports" % (
        len(blob), t1 - t0, len(again.exports)))

    print("\nCalling exports needs Instance/Func, which are not implemented yet "
          "(see `issues`).")


if __name__ == "__main__":
    main()
