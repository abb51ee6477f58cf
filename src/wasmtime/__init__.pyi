# Type stubs for the wasmtime package (the C extension wasmtime._ext).
# Kept honest with `python -m mypy.stubtest wasmtime` (see ./dev stubtest).
import ctypes
import enum
import typing
from os import PathLike
from types import TracebackType

from typing_extensions import disjoint_base, final
from typing import (
    Any,
    Callable,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
)

_T = TypeVar("_T")

WASMTIME_VERSION: str

class Managed:
    def close(self) -> None: ...
    def __enter__(self: _T) -> _T: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None: ...

class WasmtimeError(Exception, Managed):
    def __init__(self, message: str) -> None: ...

class ExitTrap(WasmtimeError):
    code: int

class ArgumentTypeError(TypeError, AttributeError): ...

def wat2wasm(wat: Union[str, bytes]) -> bytearray: ...

@disjoint_base
class Config(Managed):
    def __init__(self) -> None: ...
    debug_info: bool
    wasm_threads: bool
    wasm_tail_call: bool
    wasm_reference_types: bool
    wasm_simd: bool
    wasm_bulk_memory: bool
    wasm_multi_value: bool
    wasm_multi_memory: bool
    wasm_memory64: bool
    wasm_relaxed_simd: bool
    wasm_relaxed_simd_deterministic: bool
    wasm_component_model: bool
    wasm_component_model_map: bool
    wasm_component_model_implements: bool
    wasm_exceptions: bool
    wasm_function_references: bool
    wasm_gc: bool
    wasm_wide_arithmetic: bool
    wasm_custom_page_sizes: bool
    wasm_stack_switching: bool
    strategy: str
    cranelift_debug_verifier: bool
    cranelift_opt_level: str
    profiler: str
    cache: Union[bool, str]
    epoch_interruption: bool
    consume_fuel: bool
    parallel_compilation: bool
    shared_memory: bool
    max_wasm_stack: int
    gc_support: bool
    cranelift_nan_canonicalization: bool
    memory_may_move: bool
    memory_reservation: int
    memory_guard_size: int
    memory_reservation_for_growth: int
    native_unwind_info: bool
    target: str
    macos_use_mach_ports: bool
    signals_based_traps: bool
    memory_init_cow: bool
    def cranelift_flag_enable(self, flag: str) -> None: ...
    def cranelift_flag_set(self, key: str, value: str) -> None: ...

@disjoint_base
class Engine(Managed):
    def __new__(cls, config: Optional[Config] = None) -> "Engine": ...
    def increment_epoch(self) -> None: ...
    def is_pulley(self) -> bool: ...

@disjoint_base
class Store(Managed):
    engine: Engine
    def __new__(cls, engine: Optional[Engine] = None, data: Optional[Any] = None) -> "Store": ...
    def data(self) -> Optional[Any]: ...
    def gc(self) -> None: ...
    def set_fuel(self, fuel: int) -> None: ...
    def get_fuel(self) -> int: ...
    def set_epoch_deadline(self, ticks_after_current: int) -> None: ...
    def set_limits(
        self,
        memory_size: int = -1,
        table_elements: int = -1,
        instances: int = -1,
        tables: int = -1,
        memories: int = -1,
    ) -> None: ...

    def set_wasi(self, wasi: "WasiConfig") -> None: ...
    def set_wasi_http(self) -> None: ...

Storelike = Union[Store, "Caller"]

@final
class ValType(Managed):
    @classmethod
    def i32(cls) -> "ValType": ...
    @classmethod
    def i64(cls) -> "ValType": ...
    @classmethod
    def f32(cls) -> "ValType": ...
    @classmethod
    def f64(cls) -> "ValType": ...
    @classmethod
    def externref(cls) -> "ValType": ...
    @classmethod
    def funcref(cls) -> "ValType": ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...

@final
class FuncType(Managed):
    def __new__(cls, params: List[ValType], results: List[ValType]) -> "FuncType": ...
    @property
    def params(self) -> List[ValType]: ...
    @property
    def results(self) -> List[ValType]: ...

@final
class GlobalType(Managed):
    def __new__(cls, valtype: ValType, mutable: bool) -> "GlobalType": ...
    @property
    def content(self) -> ValType: ...
    @property
    def mutable(self) -> bool: ...

@disjoint_base
class Limits:
    min: int
    max: Optional[int]
    def __init__(self, min: int, max: Optional[int]) -> None: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class TableType(Managed):
    def __new__(cls, valtype: ValType, limits: Limits) -> "TableType": ...
    @property
    def element(self) -> ValType: ...
    @property
    def limits(self) -> Limits: ...

@final
class MemoryType(Managed):
    def __new__(
        cls, limits: Limits, is_64: bool = False, shared: bool = False, page_size_log2: int = 16
    ) -> "MemoryType": ...
    @property
    def limits(self) -> Limits: ...
    @property
    def is_64(self) -> bool: ...
    @property
    def is_shared(self) -> bool: ...
    @property
    def page_size(self) -> int: ...
    @property
    def page_size_log2(self) -> int: ...

@final
class TagType(Managed):
    def __new__(cls, functype: FuncType) -> "TagType": ...
    @property
    def functype(self) -> FuncType: ...

_AsExternType = Union[FuncType, TableType, MemoryType, GlobalType, TagType]

@final
class ImportType(Managed):
    @property
    def module(self) -> str: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def type(self) -> _AsExternType: ...

@final
class ExportType(Managed):
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> _AsExternType: ...

@disjoint_base
class Module(Managed):
    def __new__(cls, engine: Engine, wasm: Union[str, bytes, bytearray]) -> "Module": ...
    @classmethod
    def from_file(cls, engine: Engine, path: Union[str, bytes, PathLike]) -> "Module": ...
    @classmethod
    def deserialize(cls, engine: Engine, encoded: Union[bytes, bytearray]) -> "Module":
        """Load bytes made by Module.serialize().

        Trusted input, exactly as in Wasmtime: the bytes hold machine code
        that runs as written, so bytes from an untrusted source can run
        arbitrary code in this process.  A cheap check first raises
        WasmtimeError for truncated data and for anything that is not a
        Wasmtime artifact; it is not authentication.  For untrusted bytes,
        compile the WebAssembly instead: Module(engine, wasm).  (An
        authenticated pickle is planned.)
        """
    @classmethod
    def deserialize_file(cls, engine: Engine, path: Union[str, PathLike]) -> "Module":
        """Load a file written from Module.serialize().

        Trusted input, as for deserialize(); the same cheap check runs
        first.  The file is memory-mapped, as in Wasmtime: truncating or
        rewriting it while the module lives kills the process.
        """
    @classmethod
    def validate(cls, engine: Engine, wasm: Union[bytes, bytearray]) -> None: ...
    @property
    def imports(self) -> List[ImportType]: ...
    @property
    def exports(self) -> List[ExportType]: ...
    def serialize(self) -> bytearray: ...

@final
class Val:
    def __new__(cls, kind: int, val: Any) -> "Val": ...
    @classmethod
    def i32(cls, val: int) -> "Val": ...
    @classmethod
    def i64(cls, val: int) -> "Val": ...
    @classmethod
    def f32(cls, val: float) -> "Val": ...
    @classmethod
    def f64(cls, val: float) -> "Val": ...
    @classmethod
    def externref(cls, extern: Optional[Any]) -> "Val": ...
    @classmethod
    def funcref(cls, f: Optional[Any]) -> "Val": ...
    @classmethod
    def ref_null(cls, ty: ValType) -> "Val": ...
    def __eq__(self, rhs: Any, /) -> Any: ...
    @property
    def value(self) -> Any: ...
    def as_i32(self) -> Optional[int]: ...
    def as_i64(self) -> Optional[int]: ...
    def as_f32(self) -> Optional[float]: ...
    def as_f64(self) -> Optional[float]: ...
    def as_externref(self) -> Optional[Any]: ...
    def as_funcref(self) -> Optional[Any]: ...
    @property
    def type(self) -> ValType: ...

@final
class Func:
    def __new__(
        cls, store: Store, ty: FuncType, func: Callable[..., Any], access_caller: bool = False
    ) -> "Func": ...
    def type(self, store: Storelike) -> FuncType: ...
    def param_arity(self) -> int: ...
    def result_arity(self) -> int: ...
    def __call__(self, store: Storelike, *params: Any) -> Any: ...

@final
class Caller:
    def get(self, name: str) -> Optional["AsExtern"]: ...
    def __getitem__(self, name: str, /) -> "AsExtern": ...

@final
class Global:
    def __new__(cls, store: Storelike, ty: GlobalType, val: Any) -> "Global": ...
    def type(self, store: Storelike) -> GlobalType: ...
    def value(self, store: Storelike) -> Any: ...
    def set_value(self, store: Storelike, val: Any) -> None: ...

@final
class Table:
    def __new__(cls, store: Storelike, ty: TableType, init: Any) -> "Table": ...
    def type(self, store: Storelike) -> TableType: ...
    def size(self, store: Storelike) -> int: ...
    def grow(self, store: Storelike, amt: int, init: Any) -> int: ...
    def get(self, store: Storelike, idx: int) -> Optional[Any]: ...
    def set(self, store: Storelike, idx: int, val: Any) -> None: ...

@final
class MemoryView:
    """Exports a wasm memory through the buffer protocol (memoryview(view))."""

@final
class Memory:
    def __new__(cls, store: Storelike, ty: MemoryType) -> "Memory": ...
    def type(self, store: Storelike) -> MemoryType: ...
    def grow(self, store: Storelike, delta: int) -> int: ...
    def size(self, store: Storelike) -> int: ...
    def data_len(self, store: Storelike) -> int: ...
    def data_ptr(self, store: Storelike) -> "ctypes._Pointer[ctypes.c_ubyte]": ...
    def get_buffer_ptr(
        self, store: Storelike, size: Optional[int] = None, offset: int = 0
    ) -> "ctypes.Array[ctypes.c_ubyte]": ...
    def read(
        self, store: Storelike, start: Optional[int] = 0, stop: Optional[int] = None
    ) -> bytearray: ...
    def write(
        self,
        store: Storelike,
        value: Union[bytearray, bytes, memoryview, Iterable[int]],
        start: Optional[int] = None,
    ) -> int: ...
    def page_size(self, store: Storelike) -> int: ...
    def page_size_log2(self, store: Storelike) -> int: ...
    def view(self, store: Storelike) -> MemoryView: ...

@final
class SharedMemory(Managed):
    def __new__(cls, engine: Engine, ty: MemoryType) -> "SharedMemory": ...
    def type(self) -> MemoryType: ...
    def grow(self, delta: int) -> int: ...
    def size(self) -> int: ...
    def data_len(self) -> int: ...
    def data_ptr(self) -> "ctypes._Pointer[ctypes.c_ubyte]": ...
    def view(self) -> memoryview: ...

@final
class Tag:
    def __new__(cls, store: Storelike, ty: TagType) -> "Tag": ...
    def type(self, store: Storelike) -> TagType: ...
    def eq(self, store: Storelike, other: "Tag") -> bool: ...

AsExtern = Union[Func, Table, Memory, SharedMemory, Global, Tag]

@final
class InstanceExports(Mapping[str, AsExtern]):
    def __getitem__(self, name: str, /) -> AsExtern: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[str]: ...
    @property
    def by_index(self) -> Sequence[AsExtern]: ...

@final
class Instance:
    def __new__(cls, store: Storelike, module: Module, imports: Sequence[AsExtern]) -> "Instance": ...
    def exports(self, store: Storelike) -> InstanceExports: ...

class TrapCode(enum.Enum):
    STACK_OVERFLOW = 0
    MEMORY_OUT_OF_BOUNDS = 1
    HEAP_MISALIGNED = 2
    TABLE_OUT_OF_BOUNDS = 3
    INDIRECT_CALL_TO_NULL = 4
    BAD_SIGNATURE = 5
    INTEGER_OVERFLOW = 6
    INTEGER_DIVISION_BY_ZERO = 7
    BAD_CONVERSION_TO_INTEGER = 8
    UNREACHABLE = 9
    INTERRUPT = 10
    OUT_OF_FUEL = 11
    ATOMIC_WAIT_NON_SHARED_MEMORY = 12
    NULL_REFERENCE = 13
    ARRAY_OUT_OF_BOUNDS = 14
    ALLOCATION_TOO_LARGE = 15
    CAST_FAILURE = 16
    CANNOT_ENTER_COMPONENT = 17
    NO_ASYNC_RESULT = 18
    UNHANDLED_TAG = 19
    CONTINUATION_ALREADY_CONSUMED = 20
    DISABLED_OPCODE = 21
    ASYNC_DEADLOCK = 22
    CANNOT_LEAVE_COMPONENT = 23
    CANNOT_BLOCK_SYNC_TASK = 24
    INVALID_CHAR = 25
    DEBUG_ASSERT_STRING_ENCODING_FINISHED = 26
    DEBUG_ASSERT_EQUAL_CODE_UNITS = 27
    DEBUG_ASSERT_POINTER_ALIGNED = 28
    DEBUG_ASSERT_UPPER_BITS_UNSET = 29
    STRING_OUT_OF_BOUNDS = 30
    LIST_OUT_OF_BOUNDS = 31
    INVALID_DISCRIMINANT = 32
    UNALIGNED_POINTER = 33
    TASK_CANCEL_NOT_CANCELLED = 34
    TASK_CANCEL_OR_RETURN_TWICE = 35
    SUBTASK_CANCEL_AFTER_TERMINAL = 36
    TASK_RETURN_INVALID = 37
    WAITABLE_SET_DROP_HAS_WAITERS = 38
    SUBTASK_DROP_NOT_RESOLVED = 39
    THREAD_NEW_INDIRECT_INVALID_TYPE = 40
    THREAD_NEW_INDIRECT_UNINITIALIZED = 41
    BACKPRESSURE_OVERFLOW = 42
    UNSUPPORTED_CALLBACK_CODE = 43
    CANNOT_RESUME_THREAD = 44
    CONCURRENT_FUTURE_STREAM_OP = 45
    REFERENCE_COUNT_OVERFLOW = 46
    STREAM_OP_TOO_BIG = 47
    WAITABLE_SYNC_AND_ASYNC = 48
    UNCAUGHT_EXCEPTION = 49
    READ_FROM_DROPPED_STREAM = 50
    WRITE_TO_DROPPED_STREAM = 51
    WRITE_TO_DROPPED_FUTURE = 52
    LIFT_DROPPED_STREAM = 53

@final
class Frame(Managed):
    @property
    def func_index(self) -> int: ...
    @property
    def func_name(self) -> Optional[str]: ...
    @property
    def module_name(self) -> Optional[str]: ...
    @property
    def module_offset(self) -> int: ...
    @property
    def func_offset(self) -> int: ...

class Trap(Exception, Managed):
    message: str
    frames: List[Frame]
    def __init__(self, message: str) -> None: ...
    @property
    def trap_code(self) -> Optional[TrapCode]: ...

_CustomOutput = Callable[[bytes], Optional[int]]

@final
class WasiConfig(Managed):
    def __init__(self) -> None: ...
    argv: List[str]
    env: Iterable[Iterable[str]]
    stdin_file: Union[str, bytes, PathLike]
    stdin_bytes: Union[bytes, bytearray]
    stdout_file: Union[str, bytes, PathLike]
    stderr_file: Union[str, bytes, PathLike]
    stdout_custom: _CustomOutput
    stderr_custom: _CustomOutput
    def inherit_argv(self) -> None: ...
    def inherit_env(self) -> None: ...
    def inherit_stdin(self) -> None: ...
    def inherit_stdout(self) -> None: ...
    def inherit_stderr(self) -> None: ...
    def inherit_network(self) -> None: ...
    def preopen_dir(self, path: str, guest_path: str, fs_mutable: bool = True) -> None: ...

@final
class InstancePre(Managed):
    def instantiate(self, store: Storelike) -> Instance: ...
    @property
    def module(self) -> Module: ...

@final
class Linker(Managed):
    def __new__(cls, engine: Engine) -> "Linker": ...
    @property
    def engine(self) -> Engine: ...
    allow_shadowing: bool
    def define(self, store: Storelike, module: str, name: str, item: AsExtern) -> None: ...
    def define_func(
        self,
        module: str,
        name: str,
        ty: FuncType,
        func: Callable[..., Any],
        access_caller: bool = False,
    ) -> None: ...
    def define_instance(self, store: Storelike, name: str, instance: Instance) -> None: ...
    def define_wasi(self) -> None: ...
    def define_module(self, store: Storelike, name: str, module: Module) -> None: ...
    def define_unknown_imports_as_traps(self, module: Module) -> None: ...
    def define_unknown_imports_as_default_values(self, store: Storelike, module: Module) -> None: ...
    def instantiate(self, store: Storelike, module: Module) -> Instance: ...
    def instantiate_pre(self, module: Module) -> InstancePre: ...
    def get_default(self, store: Storelike, name: str) -> Func: ...
    def get(self, store: Storelike, module: str, name: str) -> AsExtern: ...
    def alias(self, module: str, name: str, as_module: str, as_name: str) -> None: ...
    def alias_module(self, module: str, as_module: str) -> None: ...
    def __iter__(self) -> Iterator[Tuple[str, str, _AsExternType]]: ...

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
