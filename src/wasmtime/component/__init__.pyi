from os import PathLike
from typing import Any, Callable, Coroutine, Dict, List, Optional, Set, Tuple, Union

from typing_extensions import disjoint_base, final

from .. import Engine, ExportType, ImportType, Managed, Module, Storelike, StoreContext

@final
class Component(Managed):
    _engine: Engine
    def __new__(cls, engine: Engine, wasm: Union[str, bytes, bytearray]) -> "Component": ...
    @classmethod
    def from_file(cls, engine: Engine, path: Union[str, bytes, PathLike[str]]) -> "Component": ...
    @classmethod
    def deserialize(cls, engine: Engine, encoded: Union[bytes, bytearray]) -> "Component": ...
    @classmethod
    def deserialize_file(cls, engine: Engine, path: Union[str, PathLike[str]]) -> "Component": ...
    def serialize(self) -> bytearray: ...
    def get_export_index(
        self, name: str, instance: Optional["ExportIndex"] = None
    ) -> Optional["ExportIndex"]: ...
    @property
    def type(self) -> "ComponentType": ...

@final
class ExportIndex(Managed): ...

@final
class Linker(Managed):
    engine: Engine
    locked: bool
    def __new__(cls, engine: Engine) -> "Linker": ...
    @property
    def allow_shadowing(self) -> bool: ...
    @allow_shadowing.setter
    def allow_shadowing(self, allow: bool) -> None: ...
    def root(self) -> "LinkerInstance": ...
    def add_wasip2(self) -> None: ...
    def add_wasi_http(self) -> None: ...
    def instantiate(self, store: Storelike, component: Component) -> "Instance": ...
    def instantiate_async(
        self, store: Storelike, component: Component
    ) -> Coroutine[Any, Any, "Instance"]: ...
    def define_unknown_imports_as_traps(self, component: Component) -> None: ...

@final
class LinkerInstance(Managed):
    parent: Union[Linker, "LinkerInstance"]
    locked: bool
    def add_instance(self, name: str) -> "LinkerInstance": ...
    def add_module(self, name: str, module: Module) -> None: ...
    def add_func(self, name: str, func: Callable[..., Optional[Any]]) -> None: ...
    def _add_typed_func(
        self, name: str, func: Callable[..., Optional[Any]], classes: Tuple[Any, Any]
    ) -> None: ...
    def add_resource(
        self, name: str, ty: "ResourceType", dtor: Callable[[StoreContext, int], None]
    ) -> None: ...

@final
class Instance:
    def get_export_index(
        self, store: Storelike, name: str, instance: Optional[ExportIndex] = None
    ) -> Optional[ExportIndex]: ...
    def get_func(self, store: Storelike, index: Union[ExportIndex, str]) -> Optional["Func"]: ...

@final
class Func:
    def __call__(self, store: Storelike, *params: Any) -> Any: ...
    def call_async(self, store: Storelike, /, *params: Any) -> Coroutine[Any, Any, Any]: ...
    def post_return(self, store: Storelike) -> None: ...
    def _bind_classes(self, store: Storelike, classes: Any) -> None: ...
    def type(self, store: Storelike) -> "FuncType": ...

@final
class ComponentType(Managed):
    def imports(self, engine: Engine) -> Dict[str, "ComponentExtern"]: ...
    def exports(self, engine: Engine) -> Dict[str, "ComponentExtern"]: ...

@final
class ComponentInstanceType(Managed):
    def exports(self, engine: Engine) -> Dict[str, "ComponentExtern"]: ...

@final
class ModuleType(Managed):
    def imports(self, engine: Engine) -> List[ImportType]: ...
    def exports(self, engine: Engine) -> List[ExportType]: ...

@final
class FuncType(Managed):
    @property
    def params(self) -> List[Tuple[str, "ValType"]]: ...
    @property
    def result(self) -> Optional["ValType"]: ...
    @property
    def is_async(self) -> bool: ...

@final
class ResourceType(Managed):
    @classmethod
    def host(cls, val: int, /) -> "ResourceType": ...

@final
class ResourceAny(Managed):
    @property
    def type(self) -> ResourceType: ...
    @property
    def owned(self) -> bool: ...
    def drop(self, store: Storelike) -> None: ...
    def to_host(self, store: Storelike) -> "ResourceHost": ...

@final
class ResourceHost(Managed):
    @classmethod
    def own(cls, rep: int, ty: int) -> "ResourceHost": ...
    @classmethod
    def borrow(cls, rep: int, ty: int) -> "ResourceHost": ...
    @property
    def rep(self) -> int: ...
    @property
    def type(self) -> int: ...
    @property
    def owned(self) -> bool: ...
    def to_any(self, store: Storelike) -> ResourceAny: ...

ComponentItem = Union[
    ComponentType, ModuleType, ComponentInstanceType, ResourceType, "ValType", FuncType
]

@final
class ComponentExtern(Managed):
    @property
    def ty(self) -> ComponentItem: ...
    @property
    def implements(self) -> Optional[str]: ...
    @property
    def external_id(self) -> Optional[str]: ...
    def is_implements(self, name: str) -> bool: ...

class ValType(Managed):
    def add_classes(self, s: Set[type], /) -> None: ...
    def convert_to_c(self, store: Storelike, val: Any, ptr: Any, /) -> None: ...
    def convert_from_c(self, c: Any, /) -> Any: ...

@final
class Bool(ValType): ...

@final
class S8(ValType): ...

@final
class S16(ValType): ...

@final
class S32(ValType): ...

@final
class S64(ValType): ...

@final
class U8(ValType): ...

@final
class U16(ValType): ...

@final
class U32(ValType): ...

@final
class U64(ValType): ...

@final
class F32(ValType): ...

@final
class F64(ValType): ...

@final
class Char(ValType): ...

@final
class String(ValType): ...

@final
class ErrorContext(ValType): ...

@final
class ListType(ValType):
    @property
    def element(self) -> ValType: ...

@final
class RecordType(ValType):
    @property
    def fields(self) -> List[Tuple[str, ValType]]: ...

@final
class TupleType(ValType):
    @property
    def elements(self) -> List[ValType]: ...

class VariantLikeType(ValType): ...

@final
class VariantType(VariantLikeType):
    @property
    def cases(self) -> List[Tuple[str, Optional[ValType]]]: ...

@final
class EnumType(ValType):
    @property
    def names_count(self) -> int: ...
    def name(self, n: int, /) -> Optional[str]: ...
    @property
    def names(self) -> List[str]: ...

@final
class OptionType(VariantLikeType):
    @property
    def payload(self) -> ValType: ...

@final
class ResultType(VariantLikeType):
    @property
    def ok(self) -> Optional[ValType]: ...
    @property
    def err(self) -> Optional[ValType]: ...

@final
class FlagsType(ValType):
    @property
    def names(self) -> List[str]: ...

@final
class FutureType(ValType):
    @property
    def payload(self) -> Optional[ValType]: ...

@final
class StreamType(ValType):
    @property
    def payload(self) -> Optional[ValType]: ...

@final
class OwnType(ValType):
    @property
    def ty(self) -> ResourceType: ...
    def __new__(cls, ty: ResourceType) -> "OwnType": ...

@final
class BorrowType(ValType):
    @property
    def ty(self) -> ResourceType: ...
    def __new__(cls, ty: ResourceType) -> "BorrowType": ...

@disjoint_base
class Variant:
    tag: str
    payload: Optional[Any]
    def __init__(self, tag: str, payload: Optional[Any] = None) -> None: ...

class Record: ...

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
