"""WasmtimeError, ExitTrap, ArgumentTypeError and the Managed base."""

import pytest

import wasmtime
from wasmtime import (
    ArgumentTypeError,
    Config,
    Engine,
    ExitTrap,
    ExportType,
    FuncType,
    GlobalType,
    ImportType,
    Limits,
    Managed,
    MemoryType,
    Module,
    Store,
    TableType,
    TagType,
    Val,
    ValType,
    WasmtimeError,
    wat2wasm,
)


def test_user_made_error():
    err = WasmtimeError("something failed")
    assert err.args == ("something failed",)
    assert str(err) == "something failed"
    assert isinstance(err, Exception)
    assert isinstance(err, Managed)


def test_user_made_error_can_be_raised_and_caught():
    with pytest.raises(WasmtimeError) as info:
        raise WasmtimeError("boom")
    assert str(info.value) == "boom"
    with pytest.raises(Exception):
        raise WasmtimeError("boom")


def test_error_without_message():
    err = WasmtimeError()
    assert err.args == ()
    assert str(err) == ""


def test_error_context_manager_and_close():
    err = WasmtimeError("x")
    with err as entered:
        assert entered is err
    assert err.close() is None
    assert err.close() is None
    # Closing does not lose the message.
    assert str(err) == "x"


def test_errors_from_c_have_no_args():
    with pytest.raises(WasmtimeError) as info:
        wat2wasm("(module (func nope))")
    err = info.value
    assert type(err) is WasmtimeError
    assert err.args == ()
    message = str(err)
    assert isinstance(message, str)
    assert "nope" in message
    assert not message.endswith("\0")


def test_errors_from_c_can_be_closed():
    with pytest.raises(WasmtimeError) as info:
        Module(Engine(), b"\0")
    err = info.value
    message = str(err)
    err.close()
    err.close()
    assert str(err) == message


def test_error_from_c_can_be_reraised():
    with pytest.raises(WasmtimeError) as first:
        Module.validate(Engine(), b"")
    with pytest.raises(WasmtimeError) as second:
        raise first.value
    assert second.value is first.value
    assert "end-of-file" in str(second.value)


def test_error_subclass():
    class MyError(WasmtimeError):
        pass

    err = MyError("mine")
    assert isinstance(err, WasmtimeError)
    assert str(err) == "mine"


def test_exit_trap_is_a_wasmtime_error():
    assert issubclass(ExitTrap, WasmtimeError)
    assert issubclass(ExitTrap, Exception)
    assert issubclass(ExitTrap, Managed)
    with pytest.raises(WasmtimeError):
        raise ExitTrap("exit")


def test_argument_type_error_is_both():
    assert issubclass(ArgumentTypeError, TypeError)
    assert issubclass(ArgumentTypeError, AttributeError)
    assert not issubclass(ArgumentTypeError, WasmtimeError)


def test_wrong_object_type_raises_argument_type_error():
    with pytest.raises(ArgumentTypeError):
        Store(3)
    with pytest.raises(ArgumentTypeError):
        Module.validate(1, b"")


def test_value_error_after_close_message():
    engine = Engine()
    engine.close()
    with pytest.raises(ValueError) as info:
        engine.is_pulley()
    assert "closed" in str(info.value)


@pytest.mark.parametrize(
    "cls",
    [
        Config,
        Engine,
        Store,
        Module,
        ValType,
        FuncType,
        GlobalType,
        TableType,
        MemoryType,
        TagType,
        ImportType,
        ExportType,
        WasmtimeError,
        ExitTrap,
    ],
)
def test_managed_is_a_base(cls):
    assert Managed in cls.__mro__


@pytest.mark.parametrize("cls", [Val, Limits])
def test_plain_values_are_not_managed(cls):
    assert not issubclass(cls, Managed)


def test_managed_protocol():
    for name in ["close", "__enter__", "__exit__"]:
        assert callable(getattr(Managed, name))


def test_managed_exit_calls_close():
    calls = []

    class Tracked(Managed):
        def close(self):
            calls.append("close")

    with Tracked() as obj:
        assert isinstance(obj, Tracked)
        assert calls == []
    assert calls == ["close"]


def test_managed_exit_does_not_swallow_exceptions():
    with pytest.raises(RuntimeError):
        with Engine():
            raise RuntimeError("inside")


def test_module_level_names():
    for name in wasmtime.__all__:
        assert hasattr(wasmtime, name), name
    assert isinstance(wasmtime.WASMTIME_VERSION, str)
    assert wasmtime.WASMTIME_VERSION.split(".")[0] == "50"
