"""The WebAssembly component model: components, their linker, WIT-typed values.

Every class is implemented in C (``wasmtime._ext.component``, sources under
``src/ext/component/``); this module only re-exports them, with the one
typing alias ``ComponentItem``.
"""

from typing import Union

from .._ext import component as _c

Component = _c.Component
ExportIndex = _c.ExportIndex
Linker = _c.Linker
LinkerInstance = _c.LinkerInstance
Instance = _c.Instance
Func = _c.Func
ResourceType = _c.ResourceType
ResourceAny = _c.ResourceAny
ResourceHost = _c.ResourceHost
ComponentType = _c.ComponentType
ModuleType = _c.ModuleType
ComponentInstanceType = _c.ComponentInstanceType
ComponentExtern = _c.ComponentExtern
FuncType = _c.FuncType
ValType = _c.ValType
Bool = _c.Bool
U8 = _c.U8
U16 = _c.U16
U32 = _c.U32
U64 = _c.U64
S8 = _c.S8
S16 = _c.S16
S32 = _c.S32
S64 = _c.S64
F32 = _c.F32
F64 = _c.F64
Char = _c.Char
String = _c.String
ErrorContext = _c.ErrorContext
ListType = _c.ListType
RecordType = _c.RecordType
TupleType = _c.TupleType
VariantLikeType = _c.VariantLikeType
VariantType = _c.VariantType
EnumType = _c.EnumType
OptionType = _c.OptionType
ResultType = _c.ResultType
FlagsType = _c.FlagsType
StreamType = _c.StreamType
FutureType = _c.FutureType
OwnType = _c.OwnType
BorrowType = _c.BorrowType
Variant = _c.Variant
Record = _c.Record

ComponentItem = Union[
    ComponentType,
    ModuleType,
    ComponentInstanceType,
    ResourceType,
    ValType,
    FuncType,
]

__all__ = [
    "Component",
    "ExportIndex",
    "Linker",
    "LinkerInstance",
    "Instance",
    "Func",
    "ResourceType",
    "ResourceAny",
    "ResourceHost",
    "ComponentType",
    "ModuleType",
    "ComponentItem",
    "ComponentInstanceType",
    "FuncType",
    "ValType",
    "Bool",
    "U8",
    "U16",
    "U32",
    "U64",
    "S8",
    "S16",
    "S32",
    "S64",
    "F32",
    "F64",
    "Char",
    "String",
    "ErrorContext",
    "ListType",
    "RecordType",
    "TupleType",
    "VariantType",
    "EnumType",
    "OptionType",
    "ResultType",
    "FlagsType",
    "StreamType",
    "FutureType",
    "OwnType",
    "BorrowType",
    "Variant",
    "Record",
]
