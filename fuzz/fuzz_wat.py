"""Fuzz target: arbitrary text as WAT.

The last byte picks how the input reaches the package: as bytes, as a str
decoded strictly (invalid UTF-8 replaced), or as a str holding lone surrogates
(``surrogateescape``), which cannot be encoded back to UTF-8.  Each text goes
through ``wat2wasm`` and ``Module(engine, text)``; the two must agree, and
what ``wat2wasm`` produces must compile exactly when the text does.

    python fuzz/fuzz_wat.py -max_total_time=60 -dict=fuzz/wat.dict CORPUS fuzz/seeds/wat
"""

import fuzzlib
from fuzzlib import check, feature, judge, trace

import wasmtime

EXPECTED = (wasmtime.WasmtimeError, TypeError, ValueError, UnicodeError)

_engine = None


def engine():
    global _engine
    if _engine is None:
        cfg = wasmtime.Config()
        cfg.wasm_gc = True
        cfg.wasm_function_references = True
        cfg.wasm_exceptions = True
        cfg.wasm_memory64 = True
        cfg.wasm_threads = True
        cfg.parallel_compilation = False
        _engine = wasmtime.Engine(cfg)
    return _engine


def outcome(fn, *args):
    try:
        return True, fn(*args)
    except Exception as e:  # noqa: BLE001
        judge(e, EXPECTED)
        return False, fuzzlib.shape(e)


def test_one_input(data):
    if not data:
        return
    mode, raw = data[-1] % 3, data
    if mode == 0:
        text = bytes(raw)
    elif mode == 1:
        text = raw.decode("utf-8", "replace")
    else:
        text = raw.decode("utf-8", "surrogateescape")
    trace("text = %r", (text,))
    ok, wasm = outcome(wasmtime.wat2wasm, text)
    feature("wat2wasm", ok, wasm if not ok else None)
    trace("  wat2wasm ok=%s", ok)
    eng = engine()
    mok, module = outcome(wasmtime.Module, eng, text)
    if not ok:
        # Module(engine, str) parses WAT the same way; bytes that are not
        # wasm are parsed as WAT too.  Text that does not parse cannot compile
        # (binary wasm given as bytes is not text: wat2wasm refuses it).
        if not (isinstance(text, bytes) and text.startswith(b"\0asm")):
            check(not mok, "Module() compiled text that wat2wasm refused")
        return
    check(isinstance(wasm, bytearray), "wat2wasm returned %r" % type(wasm))
    check(bytes(wasm[:4]) == b"\0asm", "wat2wasm output lacks the wasm magic")
    bok, bmodule = outcome(wasmtime.Module, eng, wasm)
    check(bok == mok, "Module(text) and Module(wat2wasm(text)) disagree: %s vs %s" % (mok, bok))
    if mok:
        names = [e.name for e in module.exports]
        check(
            names == [e.name for e in bmodule.exports],
            "exports differ between Module(text) and Module(wasm)",
        )
        feature("compiled", len(names) > 0, len(module.imports) > 0)
        vok, _ = outcome(wasmtime.Module.validate, eng, wasm)
        check(vok, "validate() refused what Module() compiled")
    else:
        feature("invalid", bmodule)


if __name__ == "__main__":
    fuzzlib.main(test_one_input, max_len=4096)
