"""wasmtime.Module: compiling, validating, reflection, (de)serialization."""

import array
import gc
import pathlib
import sys
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
        ("env", "f"), ("env", "g"), ("env", "m"), ("env", "t"), ("other", ""),
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
    module = Module(engine, '(module (import "m\u00e9" "\u2603" (func)) (func (export "\U0001f600")))')
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
        '(func (export "f%d") (param i32) (result i32) local.get 0 i32.const %d i32.add)'
        % (i, i)
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
