"""WebAssembly for Python, powered by Wasmtime, implemented as a C extension.

This package offers the API of wasmtime-py (``Engine``, ``Store``, ``Module``,
...) with every class implemented in C (``wasmtime._ext``) directly on
Wasmtime's C API.  Only the enums and typing aliases live in Python.
"""

import enum as _enum
import typing as _typing

from . import _ext
from ._ext import (
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

WASMTIME_VERSION: str = _ext.WASMTIME_VERSION

Storelike = _typing.Union[Store]

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
    "ExitTrap",
    "Module",
    "WasmtimeError",
    "TagType",
]
