"""Every type of the extension is immutable, like CPython's own extension
types (Py_TPFLAGS_IMMUTABLETYPE): nobody can replace a method of
wasmtime.Func or wasmtime.Store at run time."""

import pytest

import wasmtime
from wasmtime import _ext

TYPES = sorted(
    (
        obj
        for obj in vars(_ext).values()
        if isinstance(obj, type) and obj.__module__ in ("wasmtime", "wasmtime._ext")
    ),
    key=lambda t: t.__name__,
)


def test_the_extension_defines_types():
    names = {t.__name__ for t in TYPES}
    assert {"Engine", "Store", "Func", "Linker", "Memory", "WasmtimeError"} <= names


@pytest.mark.parametrize("cls", TYPES, ids=lambda t: t.__name__)
def test_type_attributes_cannot_be_set_or_deleted(cls):
    with pytest.raises(TypeError):
        cls.close = lambda self: None
    with pytest.raises(TypeError):
        cls.some_new_attribute = 1
    name = next(iter(n for n in vars(cls) if not n.startswith("__")), None)
    if name is not None:
        with pytest.raises(TypeError):
            delattr(cls, name)


def test_subclasses_in_python_stay_mutable():
    # Immutability is about our types; a user's subclass is theirs.
    class MyError(wasmtime.WasmtimeError):
        pass

    MyError.extra = 1
    assert MyError.extra == 1
