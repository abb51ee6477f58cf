"""wasmtime.wat2wasm: text to binary translation."""

import pytest

from wasmtime import Engine, Module, WasmtimeError, wat2wasm

EMPTY_WASM = b"\0asm\x01\0\0\0"


def test_empty_module():
    out = wat2wasm("(module)")
    assert type(out) is bytearray
    assert out == bytearray(EMPTY_WASM)
    assert out == EMPTY_WASM


def test_bytes_input():
    out = wat2wasm(b"(module)")
    assert type(out) is bytearray
    assert out == EMPTY_WASM


def test_bytearray_input():
    assert wat2wasm(bytearray(b"(module)")) == EMPTY_WASM


def test_result_is_a_fresh_object():
    a = wat2wasm("(module)")
    b = wat2wasm("(module)")
    assert a is not b
    a.extend(b"x")
    assert b == EMPTY_WASM


def test_real_module():
    wat = '(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))'
    out = wat2wasm(wat)
    assert out.startswith(EMPTY_WASM)
    assert b"add" in out
    module = Module(Engine(), out)
    assert [e.name for e in module.exports] == ["add"]


def test_str_and_bytes_agree():
    wat = '(module (memory (export "m") 1) (global i64 (i64.const 42)))'
    assert wat2wasm(wat) == wat2wasm(wat.encode())


def test_top_level_fields_without_module():
    out = wat2wasm('(func (export "f") (result i32) i32.const 1) (memory (export "m") 1)')
    assert out.startswith(EMPTY_WASM)
    module = Module(Engine(), out)
    assert [e.name for e in module.exports] == ["f", "m"]
    assert wat2wasm(
        '(func (export "f") (result i32) i32.const 1) (memory (export "m") 1)'
    ) == wat2wasm('(module (func (export "f") (result i32) i32.const 1) (memory (export "m") 1))')


def test_non_ascii_names():
    out = wat2wasm('(module (func (export "\u00e9\u2603")))')
    assert "\u00e9\u2603".encode() in out


def test_syntax_error_message():
    with pytest.raises(WasmtimeError) as info:
        wat2wasm("(module")
    message = str(info.value)
    assert "expected `)`" in message
    assert info.value.args == ()


def test_unknown_instruction_message():
    with pytest.raises(WasmtimeError) as info:
        wat2wasm("(module (func i32.frobnicate))")
    assert "i32.frobnicate" in str(info.value)


def test_error_points_at_the_location():
    with pytest.raises(WasmtimeError) as info:
        wat2wasm("(module\n  (func (param i32) (result i32)\n    nope))")
    assert "3:5" in str(info.value)


def test_invalid_utf8():
    with pytest.raises(WasmtimeError):
        wat2wasm(b"(module \xff\xfe)")


def test_empty_input_is_an_error():
    with pytest.raises(WasmtimeError):
        wat2wasm("")
    with pytest.raises(WasmtimeError):
        wat2wasm(b"")


def test_translation_does_not_validate():
    # Type errors are found by the compiler, not the text parser.
    out = wat2wasm("(module (func (result i32) i64.const 1))")
    assert out.startswith(EMPTY_WASM)
    with pytest.raises(WasmtimeError):
        Module(Engine(), out)


@pytest.mark.parametrize("bad", [1, None, 1.5, ["(module)"], object()])
def test_wrong_type(bad):
    with pytest.raises(TypeError):
        wat2wasm(bad)


def test_argument_count():
    with pytest.raises(TypeError):
        wat2wasm()
    with pytest.raises(TypeError):
        wat2wasm("(module)", "(module)")


def test_docstring_example():
    assert "wat2wasm('(module)')" in wat2wasm.__doc__
