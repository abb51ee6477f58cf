"""The seed documentation's API, as its examples write it: Config options
called as methods, Module.custom_sections, Linker.allow_unknown_exports."""

import pickle

import pytest

from wasmtime import (
    Config,
    Engine,
    Func,
    FuncType,
    Linker,
    Module,
    Store,
    ValType,
    WasmtimeError,
    wat2wasm,
)


def test_config_options_called_as_methods():
    config = Config()
    config.debug_info(True)
    config.wasm_simd(True)
    config.consume_fuel(True)
    config.cranelift_opt_level("speed")
    config.epoch_interruption(True)
    engine = Engine(config)
    store = Store(engine)
    store.set_fuel(1000)
    store.set_epoch_deadline(1)
    module = Module(engine, '(module (func (export "f") (result i32) i32.const 1))')
    linker = Linker(engine)
    f = linker.instantiate(store, module).exports(store)["f"]
    assert f(store) == 1
    assert store.get_fuel() < 1000


def test_config_option_read_is_its_setter():
    config = Config()
    setter = config.consume_fuel
    assert callable(setter)
    setter(True)
    assert Engine(config)._config_options == (("consume_fuel", True),)
    assert "assign it or call it" in Config.consume_fuel.__doc__


CUSTOM = """(module
  (@custom "producers" "first")
  (@custom "other" "x")
  (func (export "f"))
  (@custom "producers" "second"))"""


def test_custom_sections_from_wat():
    module = Module(Engine(), CUSTOM)
    assert module.custom_sections("producers") == [b"first", b"second"]
    assert module.custom_sections("other") == [b"x"]
    assert module.custom_sections("missing") == []


def test_custom_sections_from_wasm_bytes_and_file(tmp_path):
    wasm = bytes(wat2wasm(CUSTOM))
    engine = Engine()
    assert Module(engine, wasm).custom_sections("producers") == [b"first", b"second"]
    path = tmp_path / "m.wasm"
    path.write_bytes(wasm)
    assert Module.from_file(engine, str(path)).custom_sections("other") == [b"x"]
    wat = tmp_path / "m.wat"
    wat.write_text(CUSTOM)
    assert Module.from_file(engine, wat).custom_sections("producers") == [b"first", b"second"]


def test_custom_sections_of_binary_payloads():
    # A custom section by hand: id 0, size, name "bin", payload bytes 0..255.
    payload = bytes(range(256))
    body = bytes([3]) + b"bin" + payload
    size = len(body)
    leb = bytes([(size & 0x7F) | 0x80, size >> 7])
    wasm = b"\0asm\1\0\0\0" + b"\0" + leb + body
    assert Module(Engine(), wasm).custom_sections("bin") == [payload]


def test_custom_sections_of_an_instance_pre_module():
    engine = Engine()
    pre = Linker(engine).instantiate_pre(Module(engine, CUSTOM))
    assert pre.module.custom_sections("other") == [b"x"]


def test_custom_sections_of_deserialized_modules_are_empty():
    engine = Engine()
    module = Module(engine, CUSTOM)
    assert Module.deserialize(engine, module.serialize()).custom_sections("producers") == []
    assert pickle.loads(pickle.dumps(module)).custom_sections("producers") == []


def test_custom_sections_checks_its_argument():
    module = Module(Engine(), CUSTOM)
    with pytest.raises(TypeError):
        module.custom_sections(b"producers")

    class Name(str):
        def __eq__(self, other):
            raise AssertionError("user __eq__ ran")

        __hash__ = str.__hash__

    assert module.custom_sections(Name("other")) == [b"x"]
    module.close()
    with pytest.raises(ValueError):
        module.custom_sections("other")


def test_hello_world_with_a_host_function():
    engine = Engine()
    store = Store(engine)
    module = Module(
        engine,
        """(module
          (func $hello (import "" "hello"))
          (func (export "run") (call $hello)))""",
    )
    seen = []
    linker = Linker(engine)
    linker.define_func("", "hello", FuncType([], []), lambda: seen.append("hi"))
    linker.instantiate(store, module).exports(store)["run"](store)
    assert seen == ["hi"]
    with pytest.raises(WasmtimeError):
        Func(store, FuncType([ValType.i32()], []), lambda x: None)(store)


COMMAND = """(module
  (import "host" "tick" (func $tick))
  (global $g (export "counter") (mut i32) (i32.const 0))
  (table (export "t") 1 funcref)
  (memory (export "memory") 1)
  (func (export "_start"))
  (func (export "bump") (result i32)
    call $tick
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    global.get $g))"""

USER = """(module
  (import "cmd" "bump" (func $bump (result i32)))
  (func (export "run") (result i32) (i32.add (call $bump) (call $bump))))"""


def command_linker(engine, ticks):
    linker = Linker(engine)
    linker.define_func("host", "tick", FuncType([], []), lambda: ticks.append(1))
    return linker


def test_allow_unknown_exports_accepts_a_command_with_globals():
    engine = Engine()
    store = Store(engine)
    ticks = []
    linker = command_linker(engine, ticks)
    command = Module(engine, COMMAND)
    with pytest.raises(WasmtimeError, match="is not a function"):
        linker.define_module(store, "cmd", command)
    linker.allow_unknown_exports = True
    linker.define_module(store, "cmd", command)
    assert [(m, n) for m, n, _ in linker if m == "cmd"] == [("cmd", "_start"), ("cmd", "bump")]
    run = linker.instantiate(store, Module(engine, USER)).exports(store)["run"]
    # A command: every call gets a fresh instance, so the counter is 1 each time.
    assert run(store) == 2
    assert run(store) == 2
    assert len(ticks) == 4
    with pytest.raises(WasmtimeError, match="not defined"):
        linker.get(store, "cmd", "counter")


def test_allow_unknown_exports_off_again_refuses():
    engine = Engine()
    store = Store(engine)
    linker = command_linker(engine, [])
    linker.allow_unknown_exports = True
    linker.allow_unknown_exports = False
    with pytest.raises(WasmtimeError, match="is not a function"):
        linker.define_module(store, "cmd", Module(engine, COMMAND))


def test_allow_unknown_exports_leaves_reactors_and_plain_commands_to_wasmtime():
    engine = Engine()
    store = Store(engine)
    linker = Linker(engine)
    linker.allow_unknown_exports = True
    reactor = Module(engine, '(module (global (export "g") i32 (i32.const 7)))')
    linker.define_module(store, "r", reactor)
    assert linker.get(store, "r", "g").value(store) == 7
    plain = Module(engine, '(module (memory (export "memory") 1) (func (export "_start")))')
    linker.define_module(store, "p", plain)
    assert [n for m, n, _ in linker if m == "p"] == ["_start"]


def test_allow_unknown_exports_misuse():
    engine = Engine()
    linker = Linker(engine)
    with pytest.raises(AttributeError):
        linker.allow_unknown_exports
    with pytest.raises(AttributeError):
        del linker.allow_unknown_exports
    linker.allow_unknown_exports = True
    with pytest.raises(WasmtimeError):
        linker.define_module(Store(Engine()), "cmd", Module(engine, COMMAND))
    with pytest.raises(TypeError):
        linker.define_module(Store(engine), "cmd", "not a module")
    linker.close()
    with pytest.raises(ValueError):
        linker.allow_unknown_exports = True


def test_command_export_that_traps():
    engine = Engine()
    store = Store(engine)
    linker = Linker(engine)
    linker.allow_unknown_exports = True
    command = Module(
        engine,
        """(module (global (export "g") i32 (i32.const 0))
             (func (export "_start")) (func (export "boom") unreachable))""",
    )
    linker.define_module(store, "cmd", command)
    user = Module(engine, '(module (import "cmd" "boom" (func $b)) (func (export "go") call $b))')
    with pytest.raises(Exception) as info:
        linker.instantiate(store, user).exports(store)["go"](store)
    assert "unreachable" in str(info.value)


def test_gc_construction_example_in_api_md():
    """docs/api.md's example of structs and arrays built from Python runs as written."""
    import os
    import re
    import textwrap

    path = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "api.md"
    )
    with open(path) as f:
        text = f.read()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "StructRef.new" in b]
    assert len(blocks) == 1
    exec(compile(textwrap.dedent(blocks[0]), "docs/api.md", "exec"), {})
