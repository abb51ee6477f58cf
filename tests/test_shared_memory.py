"""wasmtime.SharedMemory (wasmtime-py's size() and import bugs are fixed here;
see docs/compatibility.md)."""

import ctypes
import gc
import threading

import pytest

from wasmtime import (
    Config,
    Engine,
    Instance,
    Limits,
    Managed,
    Memory,
    MemoryType,
    Module,
    SharedMemory,
    Store,
    WasmtimeError,
)

PAGE = 65536

IMPORT_WAT = """
(module
  (import "" "m" (memory 1 4 shared))
  (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store8)
  (func (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.atomic.rmw.add)
  (func (export "size") (result i32) memory.size))
"""


@pytest.fixture
def shared_engine():
    config = Config()
    config.shared_memory = True
    config.wasm_threads = True
    return Engine(config)


def shared_type(min=1, max=4):
    return MemoryType(Limits(min, max), shared=True)


@pytest.fixture
def sm(shared_engine):
    mem = SharedMemory(shared_engine, shared_type())
    yield mem
    gc.collect()
    mem.close()


def test_is_managed(sm):
    assert isinstance(sm, Managed)


def test_type(sm):
    ty = sm.type()
    assert isinstance(ty, MemoryType)
    assert ty.is_shared is True
    assert ty.is_64 is False
    assert ty.limits == Limits(1, 4)


def test_size_and_data_len(sm):
    assert sm.size() == 1
    assert sm.data_len() == PAGE


def test_grow(sm):
    assert sm.grow(0) == 1
    assert sm.grow(2) == 1
    assert sm.size() == 3
    assert sm.data_len() == 3 * PAGE
    with pytest.raises(WasmtimeError):
        sm.grow(2)
    assert sm.size() == 3
    with pytest.raises(WasmtimeError, match="negative"):
        sm.grow(-1)
    with pytest.raises(TypeError):
        sm.grow("1")
    with pytest.raises(TypeError):
        sm.grow(1.0)


def test_data_ptr(sm):
    ptr = sm.data_ptr()
    ptr[10] = 42
    assert ptr[10] == 42
    with memoryview(sm.view()) as mv:
        assert mv[10] == 42


def test_data_ptr_stable_across_grow(sm):
    base = ctypes.addressof(sm.data_ptr().contents)
    sm.grow(3)
    assert ctypes.addressof(sm.data_ptr().contents) == base


def test_view(sm):
    view = sm.view()
    assert isinstance(view, memoryview)
    assert len(view) == PAGE
    assert view.readonly is False
    view[0:3] = b"abc"
    assert sm.data_ptr()[1] == ord("b")
    view.release()


def test_view_numpy(sm):
    np = pytest.importorskip("numpy")
    arr = np.frombuffer(sm, dtype=np.uint8)
    assert arr.size == PAGE
    arr[5] = 5
    assert sm.data_ptr()[5] == 5
    del arr


def test_view_length_after_grow(sm):
    before = sm.view()
    sm.grow(1)
    after = sm.view()
    assert len(before) == PAGE
    assert len(after) == 2 * PAGE
    after[PAGE + 1] = 1
    before.release()
    after.release()


def test_close_while_view_exported(sm):
    view = sm.view()
    with pytest.raises(BufferError):
        sm.close()
    assert sm.size() == 1
    view[0] = 1
    view.release()
    sm.close()
    with pytest.raises(ValueError):
        sm.size()


def test_close_twice_and_methods_after_close(shared_engine):
    mem = SharedMemory(shared_engine, shared_type())
    mem.close()
    mem.close()
    for call in (mem.type, mem.size, mem.data_len, mem.data_ptr, mem.view, lambda: mem.grow(1)):
        with pytest.raises(ValueError):
            call()
    with pytest.raises((ValueError, BufferError)):
        memoryview(mem)


def test_context_manager(shared_engine):
    with SharedMemory(shared_engine, shared_type()) as mem:
        assert mem.size() == 1
    with pytest.raises(ValueError):
        mem.size()


def test_non_shared_type(shared_engine):
    with pytest.raises(WasmtimeError):
        SharedMemory(shared_engine, MemoryType(Limits(1, 4)))


def test_shared_type_without_max():
    with pytest.raises(WasmtimeError):
        MemoryType(Limits(1, None), shared=True)


def test_shared_memory_disabled():
    config = Config()
    config.shared_memory = False
    with pytest.raises(WasmtimeError):
        SharedMemory(Engine(config), shared_type())


def test_constructor_type_errors(shared_engine):
    with pytest.raises((TypeError, AttributeError)):
        SharedMemory(1, shared_type())
    with pytest.raises(TypeError):
        SharedMemory(shared_engine, Limits(1, 4))
    with pytest.raises(TypeError):
        SharedMemory(Store(shared_engine), shared_type())


def test_used_as_import(shared_engine, sm):
    store = Store(shared_engine)
    ex = Instance(store, Module(shared_engine, IMPORT_WAT), [sm]).exports(store)
    view = sm.view()
    view[100] = 0x5A
    assert ex["load"](store, 100) == 0x5A
    ex["store"](store, 200, 7)
    assert view[200] == 7
    assert sm.data_ptr()[200] == 7
    assert ex["add"](store, 300, 5) == 0
    assert ex["add"](store, 300, 5) == 5
    assert view[300] == 10
    sm.grow(1)
    assert ex["size"](store) == 2
    view.release()


def test_numpy_view_visible_to_wasm(shared_engine, sm):
    np = pytest.importorskip("numpy")
    store = Store(shared_engine)
    ex = Instance(store, Module(shared_engine, IMPORT_WAT), [sm]).exports(store)
    arr = np.frombuffer(sm.view(), dtype=np.uint8)
    arr[1000:1004] = [1, 2, 3, 4]
    assert [ex["load"](store, 1000 + i) for i in range(4)] == [1, 2, 3, 4]
    del arr


def test_shared_between_two_stores(shared_engine, sm):
    s1, s2 = Store(shared_engine), Store(shared_engine)
    module = Module(shared_engine, IMPORT_WAT)
    a = Instance(s1, module, [sm]).exports(s1)
    b = Instance(s2, module, [sm]).exports(s2)
    a["store"](s1, 64, 99)
    assert b["load"](s2, 64) == 99


def test_shared_between_threads(shared_engine, sm):
    module = Module(shared_engine, IMPORT_WAT)
    n_threads, n_iter = 4, 2000
    errors = []

    def worker():
        try:
            store = Store(shared_engine)
            add = Instance(store, module, [sm]).exports(store)["add"]
            for _ in range(n_iter):
                add(store, 0, 1)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with memoryview(sm.view()) as mv:
        total = int.from_bytes(bytes(mv[0:4]), "little")
    assert total == n_threads * n_iter


def test_exported_shared_memory(shared_engine):
    store = Store(shared_engine)
    wat = '(module (memory (export "m") 1 2 shared))'
    ex = Instance(store, Module(shared_engine, wat), []).exports(store)
    mem = ex["m"]
    assert isinstance(mem, SharedMemory)
    assert not isinstance(mem, Memory)
    assert mem.size() == 1
    assert mem.type().is_shared
    # it can be imported by another instance
    ex2 = Instance(store, Module(shared_engine, IMPORT_WAT.replace("1 4", "1 2")), [mem])
    ex2.exports(store)["store"](store, 1, 3)
    assert mem.data_ptr()[1] == 3


def test_import_from_other_engine(shared_engine):
    config = Config()
    config.shared_memory = True
    config.wasm_threads = True
    other = Engine(config)
    mem = SharedMemory(other, shared_type())
    store = Store(shared_engine)
    with pytest.raises(WasmtimeError):
        Instance(store, Module(shared_engine, IMPORT_WAT), [mem])


def test_import_after_close(shared_engine):
    mem = SharedMemory(shared_engine, shared_type())
    mem.close()
    store = Store(shared_engine)
    with pytest.raises(ValueError):
        Instance(store, Module(shared_engine, IMPORT_WAT), [mem])


def test_import_type_mismatch(shared_engine, sm):
    store = Store(shared_engine)
    module = Module(shared_engine, '(module (import "" "m" (memory 1)))')
    with pytest.raises(WasmtimeError):
        Instance(store, module, [sm])
    wrong_limits = SharedMemory(shared_engine, shared_type(1, 8))
    with pytest.raises(WasmtimeError):
        Instance(store, Module(shared_engine, IMPORT_WAT), [wrong_limits])


def test_memory_where_shared_expected(shared_engine):
    store = Store(shared_engine)
    mem = Memory(store, MemoryType(Limits(1, 4)))
    with pytest.raises(WasmtimeError):
        Instance(store, Module(shared_engine, IMPORT_WAT), [mem])
