"""Fuzz target: arbitrary bytes as a wasm module.

The input is the module itself (seeds: fuzz/seeds/module/*.wasm).  Each input
is validated and compiled by an engine with most proposals on and fuel
metering; every import and export type is read back; the module goes through
serialize/deserialize; then it is instantiated with fuel into a Linker that
defines unknown function imports as traps (other imports as default values),
and every export is used: functions are called with default arguments under
fuel, globals read and written back, tables and memories read.

    python fuzz/fuzz_module.py -max_total_time=60 CORPUS_DIR fuzz/seeds/module
"""

import fuzzlib
from fuzzlib import check, feature, judge, trace

import wasmtime

EXPECTED = (wasmtime.WasmtimeError, wasmtime.Trap, TypeError, ValueError,
            OverflowError, RuntimeError, IndexError, BufferError)
FUEL = 20_000

_engine = None


def engine():
    # Made on first use: after libFuzzer has installed its signal handlers.
    global _engine
    if _engine is None:
        cfg = wasmtime.Config()
        cfg.consume_fuel = True
        for flag in ("wasm_threads", "wasm_tail_call", "wasm_reference_types",
                     "wasm_simd", "wasm_bulk_memory", "wasm_multi_value",
                     "wasm_multi_memory", "wasm_memory64", "wasm_relaxed_simd",
                     "wasm_exceptions", "wasm_function_references", "wasm_gc",
                     "wasm_wide_arithmetic", "wasm_custom_page_sizes"):
            setattr(cfg, flag, True)
        cfg.parallel_compilation = False   # one thread: deterministic, and CPU-fair
        _engine = wasmtime.Engine(cfg)
    return _engine


def default_arg(ty):
    s = str(ty)
    if s in ("i32", "i64"):
        return 0
    if s in ("f32", "f64"):
        return 0.0
    if s == "v128":
        return 0
    return None


def describe(ty):
    """Read every property of an extern type, as a user would."""
    if isinstance(ty, wasmtime.FuncType):
        return ("func", [str(t) for t in ty.params], [str(t) for t in ty.results])
    if isinstance(ty, wasmtime.GlobalType):
        return ("global", str(ty.content), ty.mutable)
    if isinstance(ty, wasmtime.TableType):
        lim = ty.limits
        return ("table", str(ty.element), lim.min, lim.max)
    if isinstance(ty, wasmtime.MemoryType):
        lim = ty.limits
        return ("memory", lim.min, lim.max, ty.is_64, ty.is_shared, ty.page_size,
                ty.page_size_log2)
    if isinstance(ty, wasmtime.TagType):
        return ("tag", describe(ty.functype))
    raise fuzzlib.Finding("unknown extern type %r" % (ty,))


def attempt(what, fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - judged below
        trace("  %s -> %s", (what, type(e).__name__))
        judge(e, EXPECTED)
        return None


def use_export(store, name, item):
    if isinstance(item, wasmtime.Func):
        ty = item.type(store)
        check(item.param_arity() == len(ty.params), "param_arity")
        check(item.result_arity() == len(ty.results), "result_arity")
        args = [default_arg(t) for t in ty.params]
        store.set_fuel(FUEL)
        trace("  exports[%r](store, *%r)", (name, args))
        res = attempt("call", item, store, *args)
        feature("called", [str(t) for t in ty.results], type(res).__name__)
        n = len(ty.results)
        if res is not None and n != 1:
            check(isinstance(res, list) and len(res) == n, "result count of %s" % name)
    elif isinstance(item, wasmtime.Global):
        ty = item.type(store)
        v = attempt("global.value", item.value, store)
        if ty.mutable and v is not None:
            attempt("global.set_value", item.set_value, store, v)
    elif isinstance(item, wasmtime.Table):
        n = item.size(store)
        if n:
            attempt("table.get", item.get, store, 0)
            attempt("table.get", item.get, store, n - 1)
        attempt("table.get", item.get, store, n)
    elif isinstance(item, wasmtime.Memory):
        size = item.data_len(store)
        item.size(store)
        item.type(store)
        data = attempt("memory.read", item.read, store, 0, 64)
        if data is not None:
            check(len(data) == min(64, size), "memory.read length")
        attempt("memory.view", lambda: len(memoryview(item.view(store))))
    elif isinstance(item, wasmtime.SharedMemory):
        item.data_len()
        item.type()
    elif isinstance(item, wasmtime.Tag):
        item.type(store)
    else:
        raise fuzzlib.Finding("unknown export object %r" % (item,))


def test_one_input(data):
    eng = engine()
    trace("wasm = %r", bytes(data))
    valid = True
    try:
        wasmtime.Module.validate(eng, data)
    except Exception as e:  # noqa: BLE001
        judge(e, EXPECTED)
        valid = False
    try:
        module = wasmtime.Module(eng, data)
    except Exception as e:  # noqa: BLE001
        judge(e, EXPECTED)
        # validate() and compiling may disagree only if compiling hits an
        # implementation limit; a valid module that fails is worth a look.
        if valid and "limit" not in str(e) and "too large" not in str(e) \
                and "exceeds" not in str(e):
            trace("  validate accepted what Module refused: %s", e)
        return
    # Module() also takes WAT text given as bytes; validate() only binary.
    check(valid or not bytes(data[:4]) == b"\0asm",
          "Module() accepted bytes that validate() refused")

    imports = [(i.module, i.name, describe(i.type)) for i in module.imports]
    exports = [(e.name, describe(e.type)) for e in module.exports]
    for imp in imports:
        feature("import", imp[2])
    for exp in exports:
        feature("export", exp[1])

    blob = attempt("serialize", module.serialize)
    if blob is not None:
        again = wasmtime.Module.deserialize(eng, blob)
        check([(e.name, describe(e.type)) for e in again.exports] == exports,
              "exports change through serialize/deserialize")
        again.close()

    store = wasmtime.Store(eng)
    store.set_limits(memory_size=1 << 26, table_elements=100_000, instances=20,
                     tables=20, memories=20)
    store.set_fuel(FUEL)
    linker = wasmtime.Linker(eng)
    try:
        linker.define_unknown_imports_as_traps(module)
        linker.define_unknown_imports_as_default_values(store, module)
    except Exception as e:  # noqa: BLE001
        judge(e, EXPECTED)
    try:
        instance = linker.instantiate(store, module)
    except Exception as e:  # noqa: BLE001
        judge(e, EXPECTED)
        return
    trace("  instantiated; imports %r", (imports,))
    ex = instance.exports(store)
    names = list(ex)
    check(len(names) == len(exports), "len(exports) differs from module.exports")
    for name in names:
        use_export(store, name, ex[name])
    by_index = ex.by_index
    check(len(by_index) == len(names), "by_index length")
    store.close()


if __name__ == "__main__":
    fuzzlib.main(test_one_input, max_len=16384)
