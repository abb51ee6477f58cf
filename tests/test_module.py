"""wasmtime.Module: compiling, validating, reflection, (de)serialization."""

import array
import gc
import os
import pathlib
import random
import struct
import subprocess
import sys
import sysconfig
import threading
import time

import pytest

from wasmtime import (
    Config,
    Engine,
    ExportType,
    FuncType,
    GlobalType,
    ImportType,
    Limits,
    Managed,
    MemoryType,
    Module,
    TableType,
    TagType,
    ValType,
    WasmtimeError,
    wat2wasm,
)

EMPTY_WASM = b"\0asm\x01\0\0\0"

FUNC_WAT = '(module (func (export "f") (param i32) (result i32) local.get 0))'


def export_names(module):
    return [e.name for e in module.exports]


# ---- construction ---------------------------------------------------------


def test_module_is_managed(engine):
    assert isinstance(Module(engine, "(module)"), Managed)


def test_wat_str(engine):
    module = Module(engine, FUNC_WAT)
    assert export_names(module) == ["f"]


def test_wat_bytes(engine):
    module = Module(engine, FUNC_WAT.encode())
    assert export_names(module) == ["f"]


def test_binary_bytes(engine):
    module = Module(engine, bytes(wat2wasm(FUNC_WAT)))
    assert export_names(module) == ["f"]


def test_binary_bytearray(engine):
    binary = wat2wasm(FUNC_WAT)
    assert isinstance(binary, bytearray)
    module = Module(engine, binary)
    assert export_names(module) == ["f"]


def test_binary_memoryview(engine):
    module = Module(engine, memoryview(bytes(wat2wasm(FUNC_WAT))))
    assert export_names(module) == ["f"]


def test_binary_other_buffer(engine):
    module = Module(engine, array.array("B", wat2wasm(FUNC_WAT)))
    assert export_names(module) == ["f"]


def test_bytearray_is_never_wat(engine):
    with pytest.raises(WasmtimeError):
        Module(engine, bytearray(FUNC_WAT.encode()))


def test_empty_str_is_type_error(engine):
    with pytest.raises(TypeError):
        Module(engine, "")


def test_str_starting_with_nul_is_type_error(engine):
    with pytest.raises(TypeError):
        Module(engine, "\0asm\x01\0\0\0")
    with pytest.raises(TypeError):
        Module(engine, "\0")


@pytest.mark.parametrize("bad", [b"", b"\x00", b"\0asm", b"\0asm\x01\0\0\0\x05"])
def test_bad_binary_is_wasmtime_error(engine, bad):
    with pytest.raises(WasmtimeError):
        Module(engine, bad)


def test_bad_wat_message(engine):
    with pytest.raises(WasmtimeError) as info:
        Module(engine, "(module (func i32.bogus))")
    assert "unknown operator" in str(info.value)
    assert "i32.bogus" in str(info.value)


def test_invalid_module_message(engine):
    with pytest.raises(WasmtimeError) as info:
        Module(engine, "(module (func (result i32) i64.const 1))")
    assert "type mismatch" in str(info.value)


def test_errors_from_wasmtime_have_no_args(engine):
    with pytest.raises(WasmtimeError) as info:
        Module(engine, b"\x00")
    assert info.value.args == ()
    assert "unexpected end-of-file" in str(info.value)


@pytest.mark.parametrize("bad", [1, None, 1.5, ["(module)"], object()])
def test_wasm_of_wrong_type(engine, bad):
    with pytest.raises(TypeError):
        Module(engine, bad)


@pytest.mark.parametrize("bad", [1, None, "engine", Config()])
def test_engine_of_wrong_type(bad):
    with pytest.raises(TypeError):
        Module(bad, "(module)")
    with pytest.raises(TypeError):
        Module(bad, EMPTY_WASM)


def test_constructor_argument_errors(engine):
    with pytest.raises(TypeError):
        Module()
    with pytest.raises(TypeError):
        Module(engine)
    with pytest.raises(TypeError):
        Module(engine, "(module)", 1)


def test_constructor_keywords(engine):
    module = Module(engine=engine, wasm=FUNC_WAT)
    assert export_names(module) == ["f"]


def test_huge_invalid_input_is_an_error(engine):
    data = EMPTY_WASM + bytes(50 * 1024 * 1024)
    with pytest.raises(WasmtimeError):
        Module(engine, data)
    with pytest.raises(WasmtimeError):
        Module.validate(engine, data)


def test_huge_invalid_section_size_is_an_error(engine):
    # A type section that claims to be 4 GB long.
    data = EMPTY_WASM + b"\x01\xff\xff\xff\xff\x0f" + bytes(16)
    with pytest.raises(WasmtimeError):
        Module(engine, data)


# ---- validate -------------------------------------------------------------


def test_validate_ok(engine):
    assert Module.validate(engine, EMPTY_WASM) is None
    assert Module.validate(engine, wat2wasm(FUNC_WAT)) is None
    assert Module.validate(engine, bytes(wat2wasm(FUNC_WAT))) is None


def test_validate_invalid(engine):
    with pytest.raises(WasmtimeError):
        Module.validate(engine, b"")
    with pytest.raises(WasmtimeError):
        Module.validate(engine, wat2wasm("(module (func (result i32) i64.const 1))"))


def test_validate_does_not_translate_wat(engine):
    with pytest.raises(WasmtimeError):
        Module.validate(engine, b"(module)")
    with pytest.raises(TypeError):
        Module.validate(engine, "(module)")


@pytest.mark.parametrize("bad", [1, None, "(module)"])
def test_validate_wasm_of_wrong_type(engine, bad):
    with pytest.raises(TypeError):
        Module.validate(engine, bad)


def test_validate_engine_of_wrong_type():
    # wasmtime-py raised AttributeError here; ours is both.
    with pytest.raises(AttributeError):
        Module.validate(1, b"")
    with pytest.raises(TypeError):
        Module.validate(1, b"")


def test_validate_checks_wasm_before_engine():
    with pytest.raises(TypeError) as info:
        Module.validate(1, "(module)")
    assert not isinstance(info.value, AttributeError)


def test_validate_keywords(engine):
    assert Module.validate(engine=engine, wasm=EMPTY_WASM) is None


def test_validate_argument_errors(engine):
    with pytest.raises(TypeError):
        Module.validate(engine)
    with pytest.raises(TypeError):
        Module.validate(engine, EMPTY_WASM, 1)


def test_validate_respects_engine_config():
    config = Config()
    config.wasm_memory64 = False
    engine = Engine(config)
    with pytest.raises(WasmtimeError):
        Module.validate(engine, wat2wasm("(module (memory i64 1))"))
    Module.validate(Engine(), wat2wasm("(module (memory i64 1))"))


# ---- imports / exports ----------------------------------------------------

REFLECT_WAT = """
(module
  (import "env" "f" (func (param i32 i64) (result f32)))
  (import "env" "g" (global (mut f64)))
  (import "env" "m" (memory 1 5))
  (import "env" "t" (table 2 funcref))
  (import "other" "" (func))
  (func (export "run") (result i32 i64) i32.const 1 i64.const 2)
  (global (export "glob") i32 (i32.const 9))
  (memory (export "mem") 3)
  (table (export "tab") 4 10 externref)
)
"""


def test_imports(engine):
    module = Module(engine, REFLECT_WAT)
    imports = module.imports
    assert isinstance(imports, list)
    assert [type(i) for i in imports] == [ImportType] * 5
    assert [(i.module, i.name) for i in imports] == [
        ("env", "f"),
        ("env", "g"),
        ("env", "m"),
        ("env", "t"),
        ("other", ""),
    ]
    f, g, m, t, empty = [i.type for i in imports]
    assert isinstance(f, FuncType)
    assert f.params == [ValType.i32(), ValType.i64()]
    assert f.results == [ValType.f32()]
    assert isinstance(g, GlobalType)
    assert g.content == ValType.f64()
    assert g.mutable is True
    assert isinstance(m, MemoryType)
    assert m.limits == Limits(1, 5)
    assert m.is_64 is False
    assert m.is_shared is False
    assert isinstance(t, TableType)
    assert t.element == ValType.funcref()
    assert t.limits == Limits(2, None)
    assert isinstance(empty, FuncType)
    assert empty.params == [] and empty.results == []


def test_exports(engine):
    module = Module(engine, REFLECT_WAT)
    exports = module.exports
    assert isinstance(exports, list)
    assert [type(e) for e in exports] == [ExportType] * 4
    assert [e.name for e in exports] == ["run", "glob", "mem", "tab"]
    run, glob, mem, tab = [e.type for e in exports]
    assert isinstance(run, FuncType)
    assert run.params == []
    assert run.results == [ValType.i32(), ValType.i64()]
    assert isinstance(glob, GlobalType)
    assert glob.content == ValType.i32()
    assert glob.mutable is False
    assert isinstance(mem, MemoryType)
    assert mem.limits == Limits(3, None)
    assert isinstance(tab, TableType)
    assert tab.element == ValType.externref()
    assert tab.limits == Limits(4, 10)


def test_exporttype_has_no_module(engine):
    export = Module(engine, FUNC_WAT).exports[0]
    assert not hasattr(export, "module")


def test_memory64_and_shared_reflection(engine):
    module = Module(engine, '(module (memory (export "a") i64 2) (memory (export "b") 1 2 shared))')
    a, b = [e.type for e in module.exports]
    assert a.is_64 is True and a.is_shared is False
    assert a.limits == Limits(2, None)
    assert b.is_64 is False and b.is_shared is True
    assert b.limits == Limits(1, 2)


def test_tag_reflection():
    config = Config()
    config.wasm_exceptions = True
    engine = Engine(config)
    module = Module(
        engine,
        '(module (import "m" "t" (tag (param i64))) (tag (export "e") (param i32 f32)))',
    )
    [imp] = module.imports
    assert (imp.module, imp.name) == ("m", "t")
    assert isinstance(imp.type, TagType)
    assert imp.type.functype.params == [ValType.i64()]
    assert imp.type.functype.results == []
    [exp] = module.exports
    assert exp.name == "e"
    assert isinstance(exp.type, TagType)
    assert exp.type.functype.params == [ValType.i32(), ValType.f32()]


def test_tags_need_exceptions():
    config = Config()
    config.wasm_exceptions = False
    engine = Engine(config)
    with pytest.raises(WasmtimeError) as info:
        Module(engine, '(module (tag (export "e") (param i32)))')
    assert "exceptions" in str(info.value)


def test_reflection_returns_fresh_lists(engine):
    module = Module(engine, REFLECT_WAT)
    first = module.exports
    first.clear()
    assert len(module.exports) == 4
    assert module.exports[0] is not module.exports[0]


def test_reflection_types_outlive_module(engine):
    module = Module(engine, REFLECT_WAT)
    imports = module.imports
    exports = module.exports
    module.close()
    del module
    assert imports[0].type.params == [ValType.i32(), ValType.i64()]
    assert exports[3].type.limits == Limits(4, 10)


def test_no_imports_no_exports(engine):
    module = Module(engine, "(module)")
    assert module.imports == []
    assert module.exports == []


def test_many_exports_in_order(engine):
    body = "".join('(func (export "e%d"))' % i for i in range(300))
    module = Module(engine, "(module %s)" % body)
    assert export_names(module) == ["e%d" % i for i in range(300)]


def test_unicode_names(engine):
    module = Module(
        engine, '(module (import "m\u00e9" "\u2603" (func)) (func (export "\U0001f600")))'
    )
    assert (module.imports[0].module, module.imports[0].name) == ("m\u00e9", "\u2603")
    assert module.exports[0].name == "\U0001f600"


# ---- serialize / deserialize ----------------------------------------------


def test_serialize_returns_bytearray(engine):
    blob = Module(engine, FUNC_WAT).serialize()
    assert isinstance(blob, bytearray)
    assert len(blob) > 0


def test_deserialize_roundtrip(engine):
    blob = Module(engine, FUNC_WAT).serialize()
    for encoded in (blob, bytes(blob)):
        module = Module.deserialize(engine, encoded)
        assert isinstance(module, Module)
        assert export_names(module) == ["f"]
        assert module.exports[0].type.params == [ValType.i32()]


def test_deserialize_into_other_engine_same_config(engine):
    blob = Module(engine, FUNC_WAT).serialize()
    module = Module.deserialize(Engine(), blob)
    assert export_names(module) == ["f"]


def test_deserialize_keywords(engine):
    blob = Module(engine, FUNC_WAT).serialize()
    module = Module.deserialize(engine=engine, encoded=blob)
    assert export_names(module) == ["f"]


@pytest.mark.parametrize("garbage", [b"", b"garbage", EMPTY_WASM, bytes(1000)])
def test_deserialize_garbage(engine, garbage):
    with pytest.raises(WasmtimeError):
        Module.deserialize(engine, garbage)


def test_deserialize_incompatible_engine():
    config = Config()
    config.consume_fuel = True
    blob = Module(Engine(config), FUNC_WAT).serialize()
    with pytest.raises(WasmtimeError):
        Module.deserialize(Engine(), blob)


@pytest.mark.parametrize("bad", ["text", 3, None, [1, 2]])
def test_deserialize_wrong_type(engine, bad):
    with pytest.raises(TypeError):
        Module.deserialize(engine, bad)


def test_deserialize_engine_of_wrong_type(engine):
    blob = Module(engine, FUNC_WAT).serialize()
    with pytest.raises(TypeError):
        Module.deserialize(1, blob)


def test_deserialize_argument_errors(engine):
    with pytest.raises(TypeError):
        Module.deserialize(engine)
    with pytest.raises(TypeError):
        Module.deserialize(engine, b"", b"")


def test_deserialize_file_str_and_path(engine, tmp_path):
    path = tmp_path / "module.cwasm"
    path.write_bytes(Module(engine, FUNC_WAT).serialize())
    from_str = Module.deserialize_file(engine, str(path))
    assert export_names(from_str) == ["f"]
    from_path = Module.deserialize_file(engine, pathlib.Path(path))
    assert export_names(from_path) == ["f"]
    from_kw = Module.deserialize_file(engine=engine, path=str(path))
    assert export_names(from_kw) == ["f"]


def test_deserialize_file_missing(engine, tmp_path):
    with pytest.raises(WasmtimeError):
        Module.deserialize_file(engine, str(tmp_path / "missing.cwasm"))


def test_deserialize_file_garbage(engine, tmp_path):
    path = tmp_path / "garbage.cwasm"
    path.write_bytes(b"not a module" * 100)
    with pytest.raises(WasmtimeError):
        Module.deserialize_file(engine, str(path))


def test_deserialize_file_wrong_types(engine):
    with pytest.raises(TypeError):
        Module.deserialize_file(engine, 3)
    with pytest.raises(TypeError):
        Module.deserialize_file(1, "x.cwasm")


# ---- from_file --------------------------------------------------------------


def test_from_file_wat(engine, tmp_path):
    path = tmp_path / "m.wat"
    path.write_text(FUNC_WAT)
    assert export_names(Module.from_file(engine, str(path))) == ["f"]
    assert export_names(Module.from_file(engine, path)) == ["f"]
    assert export_names(Module.from_file(engine=engine, path=str(path))) == ["f"]


def test_from_file_wasm(engine, tmp_path):
    path = tmp_path / "m.wasm"
    path.write_bytes(wat2wasm(FUNC_WAT))
    assert export_names(Module.from_file(engine, str(path))) == ["f"]
    assert export_names(Module.from_file(engine, path)) == ["f"]


def test_from_file_missing(engine, tmp_path):
    with pytest.raises(FileNotFoundError):
        Module.from_file(engine, str(tmp_path / "missing.wasm"))
    with pytest.raises(OSError):
        Module.from_file(engine, tmp_path / "missing.wasm")


def test_from_file_invalid_contents(engine, tmp_path):
    path = tmp_path / "bad.wasm"
    path.write_bytes(b"\0asm\x02\0\0\0")
    with pytest.raises(WasmtimeError):
        Module.from_file(engine, path)


def test_from_file_wrong_engine(tmp_path):
    path = tmp_path / "m.wat"
    path.write_text(FUNC_WAT)
    with pytest.raises(TypeError):
        Module.from_file(1, str(path))


# ---- lifetime ---------------------------------------------------------------


def test_module_works_after_engine_closed():
    engine = Engine()
    module = Module(engine, REFLECT_WAT)
    engine.close()
    assert len(module.imports) == 5
    assert export_names(module) == ["run", "glob", "mem", "tab"]
    assert isinstance(module.serialize(), bytearray)


def test_module_works_after_engine_collected():
    module = Module(Engine(), FUNC_WAT)
    gc.collect()
    assert export_names(module) == ["f"]
    assert Module.deserialize(Engine(), module.serialize()).exports[0].name == "f"


def test_close_then_use(engine):
    module = Module(engine, FUNC_WAT)
    assert module.close() is None
    with pytest.raises(ValueError):
        module.imports
    with pytest.raises(ValueError):
        module.exports
    with pytest.raises(ValueError):
        module.serialize()


def test_close_is_idempotent(engine):
    module = Module(engine, FUNC_WAT)
    module.close()
    module.close()
    with pytest.raises(ValueError):
        module.exports


def test_context_manager(engine):
    with Module(engine, FUNC_WAT) as module:
        assert export_names(module) == ["f"]
    with pytest.raises(ValueError):
        module.exports


def test_module_subclass(engine, tmp_path):
    class MyModule(Module):
        pass

    module = MyModule(engine, FUNC_WAT)
    assert isinstance(module, MyModule)
    blob = module.serialize()
    assert type(MyModule.deserialize(engine, blob)) is MyModule
    path = tmp_path / "m.wat"
    path.write_text(FUNC_WAT)
    assert type(MyModule.from_file(engine, path)) is MyModule


# ---- threads ---------------------------------------------------------------


def big_module_wasm(count=20_000):
    body = "".join(
        '(func (export "f%d") (param i32) (result i32) local.get 0 i32.const %d i32.add)' % (i, i)
        for i in range(count)
    )
    return wat2wasm("(module %s)" % body)


def counter_advance_during(call):
    """How far another Python thread counted while `call()` ran.

    The switch interval is raised far above the duration of `call`, so the
    interpreter never forces a GIL hand-over: the counting thread can only run
    if `call` itself releases the GIL.  The counter yields with sleep(0) so
    that `call` can take the GIL back when it is done.
    """
    counter = [0]
    stop = threading.Event()
    started = threading.Event()
    seen = {}

    def count():
        started.set()
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)

    def work():
        before = counter[0]
        seen["result"] = call()
        seen["delta"] = counter[0] - before

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(120.0)
    try:
        counter_thread = threading.Thread(target=count)
        counter_thread.start()
        started.wait()
        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
    finally:
        stop.set()
        counter_thread.join()
        sys.setswitchinterval(old_interval)
    return seen["delta"], seen["result"]


@pytest.mark.skipif(
    bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    reason="a free-threaded build has no GIL for a C call to hold",
)
def test_counter_check_detects_a_gil_holding_call():
    # The probe itself: a long C call that keeps the GIL gives 0.
    numbers = range(20_000_000)
    delta, total = counter_advance_during(lambda: sum(numbers))
    assert total == sum(range(20_000_000))
    assert delta == 0


def test_compilation_releases_the_gil():
    wasm = big_module_wasm()
    engine = Engine()
    delta, module = counter_advance_during(lambda: Module(engine, wasm))
    assert len(module.exports) == 20_000
    assert delta > 0


def test_validation_releases_the_gil():
    wasm = big_module_wasm()
    engine = Engine()
    delta, result = counter_advance_during(lambda: Module.validate(engine, wasm))
    assert result is None
    assert delta > 0


def test_modules_compile_in_parallel_threads():
    engine = Engine()
    results = {}

    def work(i):
        module = Module(engine, '(module (func (export "f%d")))' % i)
        results[i] = export_names(module)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: ["f%d" % i] for i in range(8)}


# ---- engine closed while a Module is being made ------------------------------

CLOSE_DURING_WAT_PARSE = """
import threading, wasmtime
body = "".join('(func (export "f%d") (param i32) (result i32) local.get 0 i32.const %d i32.add)' % (i, i) for i in range(20000))
engine = wasmtime.Engine()
go = threading.Event()
def closer():
    go.wait()
    engine.close()
t = threading.Thread(target=closer)
t.start()
go.set()
try:
    # Translating the text releases the GIL; the other thread closes the
    # engine meanwhile.
    module = wasmtime.Module(engine, "(module %s)" % body)
    print("compiled", len(module.exports))
except ValueError as e:
    print("ValueError", e)
t.join()
"""


def test_engine_closed_by_another_thread_during_compile(run_python):
    proc = run_python(CLOSE_DURING_WAT_PARSE)
    assert proc.returncode == 0, (
        f"interpreter died with return code {proc.returncode}: {proc.stderr[-500:]}"
    )
    assert proc.stdout.startswith(("compiled 20000", "ValueError"))


CLOSE_IN_FSPATH = """
import wasmtime
engine = wasmtime.Engine()
class ClosesEngine:
    def __fspath__(self):
        engine.close()
        return "/nonexistent/module.cwasm"
try:
    wasmtime.Module.deserialize_file(engine, ClosesEngine())
except (ValueError, wasmtime.WasmtimeError) as e:
    print(type(e).__name__, e)
"""


def test_engine_closed_while_converting_deserialize_path(run_python):
    proc = run_python(CLOSE_IN_FSPATH)
    assert proc.returncode == 0, (
        f"interpreter died with return code {proc.returncode}: {proc.stderr[-500:]}"
    )
    assert proc.stdout.startswith(("ValueError", "WasmtimeError"))


# ---- deserialize: the sanity check before Wasmtime sees the bytes -----------
#
# Module.deserialize trusts its input (as Wasmtime does); module.c only
# checks the ELF container cheaply first.  Each test here is an input that
# check must turn into a clean WasmtimeError.  Inputs that crashed the process
# without the check (Wasmtime 50.0.1 loaded them, then aborted or faulted)
# run in a child interpreter, so that a regression fails one test.

ARTIFACT_WAT = """
(module
  (memory (export "mem") 1)
  (data (i32.const 0) "hello")
  (func (export "f") (result i32) i32.const 42)
  (func (export "t") unreachable))
"""

SHDR = struct.Struct("<IIQQQQIIQQ")  # Elf64_Shdr
SHDR_FIELDS = (
    "name",
    "type",
    "flags",
    "addr",
    "offset",
    "size",
    "link",
    "info",
    "addralign",
    "entsize",
)


def artifact(engine=None):
    return bytes(Module(engine or Engine(), ARTIFACT_WAT).serialize())


def section_headers(blob):
    """{name: (offset of its header in blob, {field: value})}."""
    (shoff,) = struct.unpack_from("<Q", blob, 0x28)
    shnum, shstrndx = struct.unpack_from("<HH", blob, 0x3C)
    headers = [
        dict(zip(SHDR_FIELDS, SHDR.unpack_from(blob, shoff + i * SHDR.size))) for i in range(shnum)
    ]
    names = headers[shstrndx]
    out = {}
    for i, h in enumerate(headers):
        start = names["offset"] + h["name"]
        name = blob[start : blob.index(b"\0", start)].decode()
        out[name] = (shoff + i * SHDR.size, h)
    return out


def with_section(blob, section, **fields):
    """`blob` with fields of the header of `section` replaced."""
    at, header = section_headers(blob)[section]
    header = dict(header, **fields)
    out = bytearray(blob)
    SHDR.pack_into(out, at, *(header[f] for f in SHDR_FIELDS))
    return bytes(out)


def with_bytes(blob, offset, data):
    out = bytearray(blob)
    out[offset : offset + len(data)] = data
    return bytes(out)


def deserialize_error(engine, data):
    with pytest.raises(WasmtimeError) as info:
        Module.deserialize(engine, data)
    return str(info.value)


def test_deserialize_empty(engine):
    assert "empty" in deserialize_error(engine, b"")
    assert "empty" in deserialize_error(engine, bytearray())


def test_deserialize_truncated_every_prefix_kind(engine):
    blob = artifact(engine)
    (shoff,) = struct.unpack_from("<Q", blob, 0x28)
    lengths = {
        1,
        3,
        4,
        5,
        63,
        64,
        65,
        4096,
        len(blob) // 2,
        shoff - 1,
        shoff,
        shoff + 1,
        shoff + 64,
        len(blob) - 64,
        len(blob) - 1,
    }
    lengths.update(range(0, len(blob), 97))
    for n in sorted(lengths):
        message = deserialize_error(engine, blob[:n])
        if n >= 4:
            assert "truncated" in message, (n, message)


def test_deserialize_truncated_messages(engine):
    blob = artifact(engine)
    assert "shorter than an ELF header" in deserialize_error(engine, blob[:40])
    assert "section table ends past the end" in deserialize_error(engine, blob[:-1])


def test_deserialize_wasm_bytes_says_compile_them(engine):
    message = deserialize_error(engine, wat2wasm(FUNC_WAT))
    assert "WebAssembly" in message and "Module(engine, wasm)" in message


@pytest.mark.parametrize("size", [1, 16, 64, 1000, 100_000])
def test_deserialize_random_bytes(engine, size):
    rnd = random.Random(size)
    assert "not a serialized Module" in deserialize_error(engine, rnd.randbytes(size))
    # Random bytes behind a real artifact's ELF header.
    data = artifact(engine)[:64] + rnd.randbytes(size)
    assert "truncated or corrupt" in deserialize_error(engine, data)


def elf_files():
    """ELF files of this machine: the interpreter and our extension."""
    import wasmtime._ext as ext

    found = []
    for path in (sys.executable, ext.__file__):
        with open(os.path.realpath(path), "rb") as f:
            if f.read(4) == b"\x7fELF":
                found.append(os.path.realpath(path))
    return found


@pytest.mark.parametrize("path", elf_files())
def test_deserialize_foreign_elf(engine, path):
    with open(path, "rb") as f:
        data = f.read()
    message = deserialize_error(engine, data)
    assert message.startswith("not a serialized Module: an ELF"), message
    with pytest.raises(WasmtimeError):
        Module.deserialize_file(engine, path)


@pytest.mark.parametrize(
    "offset, value, expected",
    [
        (4, b"\x01", "another class"),  # EI_CLASS: 32-bit
        (5, b"\x02", "byte order"),  # EI_DATA: big-endian
        (0x10, b"\x02\x00", "ELF executable"),  # e_type
        (0x10, b"\x03\x00", "shared object"),
        (0x12, b"\x28\x00", "another architecture"),  # e_machine: ARM
        (0x3A, b"\x20\x00", "bad ELF header"),  # e_shentsize
        (0x3E, b"\xff\x00", "bad ELF header"),  # e_shstrndx out of range
    ],
)
def test_deserialize_foreign_elf_header(engine, offset, value, expected):
    data = with_bytes(artifact(engine), offset, value)
    assert expected in deserialize_error(engine, data)


def test_deserialize_elf_without_wasmtime_section(engine):
    blob = artifact(engine)
    # Rename ".wasmtime.engine" in the section-name table.
    at = blob.index(b".wasmtime.engine\0")
    data = with_bytes(blob, at, b".wasmtime.enginX")
    assert "without a '.wasmtime.engine' section" in deserialize_error(engine, data)


def test_deserialize_component_artifact_flag(engine):
    # Wasmtime marks a component's artifact by e_flags bit 1 where a module
    # has bit 0; Wasmtime itself refuses the swap cleanly.
    blob = artifact(engine)
    assert struct.unpack_from("<I", blob, 0x30)[0] & 1
    data = with_bytes(blob, 0x30, struct.pack("<I", 2))
    assert "incompatible object file format" in deserialize_error(engine, data)


def test_deserialize_section_past_the_end(engine):
    blob = artifact(engine)
    data = with_section(blob, ".wasmtime.info", size=len(blob))
    assert "ends past the end" in deserialize_error(engine, data)


def test_deserialize_overlapping_sections(engine):
    blob = artifact(engine)
    engine_section = section_headers(blob)[".wasmtime.engine"][1]
    data = with_section(blob, ".wasmtime.info", offset=engine_section["offset"])
    assert "overlap" in deserialize_error(engine, data)


# Settings that must match exactly between the compiling and the loading engine.
OTHER_CONFIGS = [
    {"consume_fuel": True},
    {"epoch_interruption": True},
    {"memory_guard_size": 0},
    {"memory_reservation": 1 << 20},
    {"signals_based_traps": False},
    {"debug_info": True},
    {"memory_init_cow": False},
    {"wasm_relaxed_simd_deterministic": True},
]


def engine_with(options):
    config = Config()
    for name, value in options.items():
        setattr(config, name, value)
    return Engine(config)


@pytest.mark.parametrize("options", OTHER_CONFIGS, ids=lambda o: ",".join(o))
def test_deserialize_other_engine_configuration(options):
    # Wasmtime compares the engine settings stored in the artifact, and says
    # which one differs: nothing for the check in module.c to add.
    other = engine_with(options)
    default = Engine()
    with pytest.raises(WasmtimeError) as info:
        Module.deserialize(default, artifact(other))
    assert "compiled with" in str(info.value)
    with pytest.raises(WasmtimeError):
        Module.deserialize(other, artifact(default))


@pytest.mark.parametrize("feature", ["wasm_threads", "wasm_gc", "wasm_tail_call"])
def test_deserialize_into_engine_without_a_feature(feature):
    # Wasm features only go one way: an engine may have more than the
    # artifact, not fewer.
    without = engine_with({feature: False})
    with pytest.raises(WasmtimeError) as info:
        Module.deserialize(without, artifact())
    assert "not enabled for the host" in str(info.value)
    assert export_names(Module.deserialize(Engine(), artifact(without))) == ["mem", "f", "t"]


def test_deserialize_other_architecture_artifact():
    config = Config()
    config.target = "pulley64"
    pulley = Engine(config)
    blob = artifact(pulley)
    # Loads where it belongs (Pulley artifacts say EM_RISCV) ...
    assert export_names(Module.deserialize(pulley, blob)) == ["mem", "f", "t"]
    # ... and is refused by a native engine, and the other way round.
    assert "architecture" in deserialize_error(Engine(), blob)
    assert "architecture" in deserialize_error(pulley, artifact())


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"debug_info": True},
        {"native_unwind_info": False},
        {"cranelift_opt_level": "none"},
        {"target": "pulley64"},
    ],
    ids=lambda o: ",".join("%s=%s" % kv for kv in o.items()) or "default",
)
@pytest.mark.parametrize("wat", ["(module)", "(module (memory 1))", ARTIFACT_WAT, REFLECT_WAT])
def test_deserialize_check_accepts_real_artifacts(options, wat, tmp_path):
    engine = engine_with(options)
    module = Module(engine, wat)
    blob = module.serialize()
    names = export_names(module)
    assert export_names(Module.deserialize(engine, blob)) == names
    path = tmp_path / "m.cwasm"
    path.write_bytes(blob)
    assert export_names(Module.deserialize_file(engine, path)) == names


def test_deserialize_checks_engine_type_before_contents():
    with pytest.raises(TypeError):
        Module.deserialize(1, b"")
    with pytest.raises(TypeError):
        Module.deserialize(1, b"garbage")


def test_deserialize_file_runs_the_same_check(engine, tmp_path):
    blob = artifact(engine)
    cases = {
        "empty.cwasm": (b"", "empty"),
        "short.cwasm": (blob[:40], "shorter than an ELF header"),
        "truncated.cwasm": (blob[:-100], "truncated"),
        "wasm.cwasm": (bytes(wat2wasm(FUNC_WAT)), "Module(engine, wasm)"),
    }
    for name, (data, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(WasmtimeError) as info:
            Module.deserialize_file(engine, path)
        assert expected in str(info.value), name


def test_deserialize_file_missing_has_the_oserror_as_cause(engine, tmp_path):
    with pytest.raises(WasmtimeError) as info:
        Module.deserialize_file(engine, tmp_path / "missing.cwasm")
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert "missing.cwasm" in str(info.value)


def test_deserialize_file_directory(engine, tmp_path):
    with pytest.raises(WasmtimeError) as info:
        Module.deserialize_file(engine, tmp_path)
    assert isinstance(info.value.__cause__, IsADirectoryError)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_deserialize_file_fifo_does_not_block(engine, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(WasmtimeError) as info:
        Module.deserialize_file(engine, fifo)
    assert "not a regular file" in str(info.value)


# Alterations of a real artifact's section table that Wasmtime 50.0.1 loaded
# and then died of, without the check: (name, how to alter, expected message).
def _text_not_executed(blob):
    # SHF_WRITE is Wasmtime's "not executed" mark: .text stays
    # non-executable and the first call faults (SIGSEGV).
    return with_section(blob, ".text", flags=0x7)


def _text_onto_header(blob):
    return with_section(blob, ".text", offset=0)  # SIGSEGV on the first call


def _text_misaligned(blob):
    # Wasmtime's own alignment check reads sh_addralign; with it lowered, its
    # page-alignment assertion aborts the process during deserialize.
    text = section_headers(blob)[".text"][1]
    return with_section(
        blob, ".text", offset=text["offset"] + 16, size=text["size"] - 16, addralign=16
    )


def _renamed(section):
    def alter(blob):
        return with_section(blob, section, name=0)

    return alter


def _exceptions_as_traps(blob):
    # Two ".wasmtime.traps": Wasmtime uses the last one; SIGILL on a trap.
    traps = section_headers(blob)[".wasmtime.traps"][1]
    return with_section(blob, ".wasmtime.exceptions", name=traps["name"])


CRASHING_ALTERATIONS = {
    "text not executed": (_text_not_executed, "'.text' section is writable"),
    "text onto the ELF header": (_text_onto_header, "overlap"),
    "text not page-aligned": (_text_misaligned, "not page-aligned"),
    "no text": (_renamed(".text"), "no '.text' section"),
    "no trap table": (_renamed(".wasmtime.traps"), "no '.wasmtime.traps' section"),
    "no wasm data": (_renamed(".rodata.wasm"), "no '.rodata.wasm' section"),
    "two trap tables": (_exceptions_as_traps, "two sections named '.wasmtime.traps'"),
}

LOAD_AND_RUN = """
import sys, wasmtime
engine = wasmtime.Engine()
data = open(sys.argv[1], "rb").read()
try:
    module = wasmtime.Module.deserialize(engine, data)
except wasmtime.WasmtimeError as e:
    print("WasmtimeError:", e)
    sys.exit(0)
store = wasmtime.Store(engine)
exports = wasmtime.Instance(store, module, []).exports(store)
print("f() =", exports["f"](store), flush=True)
try:
    exports["t"](store)
except wasmtime.Trap as e:
    print("trap:", e.trap_code)
"""


@pytest.mark.parametrize("case", sorted(CRASHING_ALTERATIONS))
def test_deserialize_altered_section_table_is_refused(case, tmp_path):
    alter, expected = CRASHING_ALTERATIONS[case]
    path = tmp_path / "altered.cwasm"
    path.write_bytes(alter(artifact()))
    proc = subprocess.run(
        [sys.executable, "-c", LOAD_AND_RUN, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, RUST_BACKTRACE="0"),
    )
    assert proc.returncode == 0, (
        f"interpreter died with return code {proc.returncode}: {proc.stderr[-500:]}"
    )
    assert proc.stdout.startswith("WasmtimeError:"), proc.stdout
    assert expected in proc.stdout


@pytest.mark.parametrize("path", [1, True, 2.5])
def test_from_file_refuses_a_file_descriptor(path):
    # io.open() takes an int as a file descriptor and closes it afterwards:
    # Module.from_file(engine, 1) closed stdout (found by fuzzing).
    with pytest.raises(TypeError):
        Module.from_file(Engine(), path)
    import os

    os.fstat(1)  # stdout is still open
