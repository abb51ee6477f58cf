"""WebAssembly for Python, powered by Wasmtime, implemented as a C extension.

This package offers the API of wasmtime-py (``Engine``, ``Store``, ``Module``,
...) with every class implemented in C (``wasmtime._ext``) directly on
Wasmtime's C API.  Only the enums and typing aliases live in Python.
"""

import collections.abc as _abc
import typing as _typing

from . import _ext
from ._enums import TrapCode
from ._ext import (
    ArgumentTypeError,
    Caller,
    Config,
    Engine,
    ExitTrap,
    ExportType,
    Frame,
    Func,
    FuncType,
    Global,
    GlobalType,
    ImportType,
    Instance,
    InstanceExports,
    InstancePre,
    Linker,
    Limits,
    Managed,
    Memory,
    MemoryType,
    MemoryView,
    Module,
    SharedMemory,
    Store,
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

WASMTIME_VERSION: str = _ext.WASMTIME_VERSION

# InstanceExports is a C type with the full Mapping interface.
_abc.Mapping.register(InstanceExports)

Storelike = _typing.Union[Store, Caller]
AsExtern = _typing.Union[Func, Table, Memory, SharedMemory, Global, Tag]

__all__ = [
    "wat2wasm",
    "Config",
    "Engine",
    "Store",
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
]
