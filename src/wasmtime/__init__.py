"""WebAssembly for Python, powered by Wasmtime, implemented as a C extension.

This package offers the API of wasmtime-py (``Engine``, ``Store``, ``Module``,
...) with every class implemented in C (``wasmtime._ext``) directly on
Wasmtime's C API.  Only the enums and typing aliases live in Python.
"""

import os as _os

from ._version import __version__

# PyPI's `wasmtime` (wasmtime-py) installs the same import package.  pip does
# not notice two distributions writing one directory, so a file that only
# wasmtime-py has means the directory now mixes both: say so, and how to get
# back to one, instead of failing later in a confusing way.
_FOREIGN = ("_ffi.py", "_bindings.py", "linux-x86_64", "linux-aarch64")
_found = [n for n in _FOREIGN if _os.path.exists(_os.path.join(__path__[0], n))]
if _found:
    raise ImportError(
        "the wasmtime package in %s mixes files of two distributions: "
        "wasmtime-native and PyPI's wasmtime (found its %s). Both install the "
        "`wasmtime` import package. Keep one: "
        "`pip uninstall -y wasmtime wasmtime-native` and then "
        "`pip install wasmtime-native` (or `pip install wasmtime` for wasmtime-py)."
        % (__path__[0], ", ".join(_found))
    )
del _found

from . import _ext  # noqa: E402
from ._exceptions import Timeout, WasmException  # noqa: E402
from ._ext import (  # noqa: E402
    AnyRef,
    ArgumentTypeError,
    ArrayRef,
    ArrayType,
    Caller,
    Config,
    Engine,
    EqRef,
    ExitTrap,
    ExnRef,
    ExportType,
    ExternRef,
    FieldType,
    Frame,
    Func,
    FuncType,
    Global,
    GlobalType,
    ImportType,
    Instance,
    InstanceExports,
    InstancePre,
    Limits,
    Linker,
    Managed,
    Memory,
    MemoryType,
    MemoryView,
    Module,
    SharedMemory,
    Store,
    StoreContext,
    StructRef,
    StructType,
    Table,
    TableType,
    Tag,
    TagType,
    Trap,
    Val,
    ValType,
    WasiConfig,
    WasmtimeError,
    wat2wasm,
)

WASMTIME_VERSION = _ext.WASMTIME_VERSION

# The key of pickled modules (wasmtime/_pickle.py): inherited by child
# processes through the environment, made up here when unset.
if not _os.environ.get("WASMTIME_PICKLE_KEY"):
    _os.environ["WASMTIME_PICKLE_KEY"] = _os.urandom(32).hex()


def set_pickle_key(key: bytes) -> None:
    """Set the key (bytes, at least 16) that authenticates pickled modules, in
    this process and the child processes it starts afterwards."""
    from ._pickle import set_pickle_key

    set_pickle_key(key)


def __getattr__(name):
    # Loaded on first use, to keep `import wasmtime` fast (typing and enum
    # alone would triple its cost).
    if name == "TrapCode":
        from ._enums import TrapCode

        globals()["TrapCode"] = TrapCode
        return TrapCode
    if name in ("Storelike", "AsExtern"):
        import typing

        aliases = {
            "Storelike": typing.Union[Store, Caller, StoreContext],
            "AsExtern": typing.Union[Func, Table, Memory, SharedMemory, Global, Tag],
        }
        globals().update(aliases)
        return aliases[name]
    raise AttributeError("module 'wasmtime' has no attribute %r" % name)


__all__ = [
    "wat2wasm",
    "Config",
    "Engine",
    "Store",
    "StoreContext",
    "FuncType",
    "GlobalType",
    "MemoryType",
    "TableType",
    "ValType",
    "Limits",
    "ImportType",
    "ExportType",
    "Val",
    "Func",
    "Caller",
    "Table",
    "Memory",
    "SharedMemory",
    "Global",
    "Trap",
    "TrapCode",
    "ExitTrap",
    "Frame",
    "Module",
    "Instance",
    "WasiConfig",
    "Linker",
    "WasmtimeError",
    "TagType",
    "Tag",
    "InstancePre",
    "set_pickle_key",
    "WasmException",
    "Timeout",
    "ExternRef",
    "AnyRef",
    "EqRef",
    "StructRef",
    "ArrayRef",
    "ExnRef",
    "FieldType",
    "StructType",
    "ArrayType",
]
