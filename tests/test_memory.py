"""wasmtime.Memory: sizes, grow, read/write, raw pointers and the zero-copy
view (docs/memory.md)."""

import ctypes
import gc

import pytest

from wasmtime import (
    Config,
    Engine,
    Instance,
    Limits,
    Memory,
    MemoryType,
    Module,
    Store,
    WasmtimeError,
)

PAGE = 65536


def new_memory(store, min=1, max=None, **kw):
    return Memory(store, MemoryType(Limits(min, max), **kw))


def address(ptr):
    return ctypes.addressof(ptr.contents)


# ---- construction and sizes --------------------------------------------------


def test_new_and_type(store):
    mem = new_memory(store, 2, 5)
    ty = mem.type(store)
    assert isinstance(ty, MemoryType)
    assert ty.limits == Limits(2, 5)
    assert ty.is_64 is False
    assert ty.is_shared is False
    assert mem.size(store) == 2
    assert mem.data_len(store) == 2 * PAGE
    assert mem.page_size(store) == PAGE
    assert mem.page_size_log2(store) == 16


def test_new_zero_pages(store):
    mem = new_memory(store, 0)
    assert mem.size(store) == 0
    assert mem.data_len(store) == 0
    assert mem.read(store) == bytearray()
    with pytest.raises(IndexError):
        mem.write(store, b"")


def test_custom_page_size():
    config = Config()
    config.wasm_custom_page_sizes = True
    store = Store(Engine(config))
    mem = new_memory(store, 3, 10, page_size_log2=0)
    assert mem.page_size(store) == 1
    assert mem.page_size_log2(store) == 0
    assert mem.size(store) == 3
    assert mem.data_len(store) == 3
    assert mem.grow(store, 4) == 3
    assert mem.data_len(store) == 7


def test_constructor_errors(store):
    with pytest.raises(TypeError):
        Memory(store, 1)
    with pytest.raises(AttributeError):
        Memory(store, 1)
    with pytest.raises(AttributeError):
        Memory(1, MemoryType(Limits(1, None)))
    with pytest.raises(TypeError):
        Memory(store, Limits(1, None))


def test_store_limits_apply(store):
    store.set_limits(memory_size=2 * PAGE)
    with pytest.raises(WasmtimeError):
        new_memory(store, 3)
    mem = new_memory(store, 1)
    assert mem.grow(store, 1) == 1
    with pytest.raises(WasmtimeError):
        mem.grow(store, 1)


# ---- grow ------------------------------------------------------------------------


def test_grow_returns_previous_size(store):
    mem = new_memory(store, 1, 4)
    assert mem.grow(store, 0) == 1
    assert mem.grow(store, 2) == 1
    assert mem.size(store) == 3
    assert mem.data_len(store) == 3 * PAGE
    assert mem.grow(store, 1) == 3
    assert mem.size(store) == 4


def test_grow_beyond_max(store):
    mem = new_memory(store, 1, 2)
    with pytest.raises(WasmtimeError):
        mem.grow(store, 2)
    assert mem.size(store) == 1
    with pytest.raises(WasmtimeError):
        mem.grow(store, 2**40)
    with pytest.raises(WasmtimeError):
        mem.grow(store, 2**64 + 1)
    assert mem.size(store) == 1


def test_grow_negative(store):
    mem = new_memory(store)
    with pytest.raises(WasmtimeError, match="negative"):
        mem.grow(store, -1)
    assert mem.size(store) == 1


@pytest.mark.parametrize("bad", ["", "1", 1.0, None, [1]])
def test_grow_non_int(store, bad):
    mem = new_memory(store)
    with pytest.raises(TypeError):
        mem.grow(store, bad)


def test_grow_arity(store):
    mem = new_memory(store)
    with pytest.raises(TypeError):
        mem.grow(store)
    with pytest.raises(TypeError):
        mem.grow(store, 1, 2)


def test_grow_preserves_contents(store):
    mem = new_memory(store, 1)
    mem.write(store, b"keep", 100)
    mem.grow(store, 3)
    assert mem.read(store, 100, 104) == bytearray(b"keep")
    assert mem.read(store, PAGE, PAGE + 4) == bytearray(4)


# ---- read ----------------------------------------------------------------------------


@pytest.fixture
def hello(store):
    mem = new_memory(store)
    mem.write(store, b"hello world", 0)
    mem.write(store, b"END", PAGE - 3)
    return mem


def test_read_default_is_everything(store, hello):
    data = hello.read(store)
    assert type(data) is bytearray
    assert len(data) == PAGE
    assert data[:5] == b"hello"
    assert data[-3:] == b"END"


def test_read_ranges(store, hello):
    assert hello.read(store, 0, 5) == bytearray(b"hello")
    assert hello.read(store, 6, 11) == bytearray(b"world")
    assert hello.read(store, 6)[:5] == bytearray(b"world")
    assert hello.read(store, start=0, stop=2) == bytearray(b"he")


def test_read_negative_indices(store, hello):
    assert hello.read(store, -3) == bytearray(b"END")
    assert hello.read(store, -3, -1) == bytearray(b"EN")
    assert hello.read(store, 0, -(PAGE - 5)) == bytearray(b"hello")


def test_read_none(store, hello):
    assert hello.read(store, None, 5) == bytearray(b"hello")
    assert hello.read(store, -3, None) == bytearray(b"END")
    assert len(hello.read(store, None, None)) == PAGE


def test_read_clamps(store, hello):
    assert hello.read(store, PAGE - 3, PAGE + 100) == bytearray(b"END")
    assert hello.read(store, -(10**20), 5) == bytearray(b"hello")
    assert hello.read(store, PAGE, PAGE + 10) == bytearray()
    assert hello.read(store, 10**20, 10**21) == bytearray()
    assert len(hello.read(store, 0, 10**20)) == PAGE


def test_read_inverted_is_empty(store, hello):
    assert hello.read(store, 5, 0) == bytearray()
    assert hello.read(store, 5, 5) == bytearray()
    assert hello.read(store, -1, -3) == bytearray()


def test_read_type_errors(store, hello):
    with pytest.raises(TypeError):
        hello.read(store, "0")
    with pytest.raises(TypeError):
        hello.read(store, 0, 1.5)


def test_read_is_a_copy(store, hello):
    data = hello.read(store, 0, 5)
    data[0] = ord("J")
    assert hello.read(store, 0, 5) == bytearray(b"hello")


# ---- write ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [b"abc", bytearray(b"abc"), memoryview(b"abc"), [97, 98, 99], (97, 98, 99)],
    ids=["bytes", "bytearray", "memoryview", "list", "tuple"],
)
def test_write_accepted_values(store, value):
    mem = new_memory(store)
    assert mem.write(store, value, 10) == 3
    assert mem.read(store, 10, 13) == bytearray(b"abc")


def test_write_default_start_is_zero(store):
    mem = new_memory(store)
    assert mem.write(store, b"xy") == 2
    assert mem.read(store, 0, 2) == bytearray(b"xy")
    assert mem.write(store, b"zz", None) == 2
    assert mem.read(store, 0, 2) == bytearray(b"zz")


def test_write_int_writes_zeros(store):
    mem = new_memory(store)
    mem.write(store, b"\xff" * 8)
    assert mem.write(store, 4, 2) == 4
    assert mem.read(store, 0, 8) == bytearray(b"\xff\xff\x00\x00\x00\x00\xff\xff")


def test_write_negative_start(store):
    mem = new_memory(store)
    assert mem.write(store, b"tail", -4) == 4
    assert mem.read(store, -4) == bytearray(b"tail")
    # very negative clamps to 0
    assert mem.write(store, b"head", -(10**20)) == 4
    assert mem.read(store, 0, 4) == bytearray(b"head")


def test_write_start_at_or_past_end(store):
    mem = new_memory(store)
    with pytest.raises(IndexError):
        mem.write(store, b"x", PAGE)
    with pytest.raises(IndexError):
        mem.write(store, b"", PAGE)  # even for empty data
    with pytest.raises(IndexError):
        mem.write(store, b"", 10**20)
    with pytest.raises(IndexError):
        mem.write(store, b"x", 2**64)


def test_write_overflow(store):
    mem = new_memory(store)
    mem.write(store, b"\x00" * 8, PAGE - 8)
    with pytest.raises(IndexError):
        mem.write(store, b"abc", PAGE - 2)
    with pytest.raises(IndexError):
        mem.write(store, b"x" * (PAGE + 1), 0)
    with pytest.raises(IndexError):
        mem.write(store, b"abc", -2)
    # nothing was written by the failing writes
    assert mem.read(store, PAGE - 8) == bytearray(8)
    assert mem.write(store, b"ab", PAGE - 2) == 2
    assert mem.write(store, b"x" * PAGE, 0) == PAGE


def test_write_empty(store):
    mem = new_memory(store)
    assert mem.write(store, b"", 0) == 0
    assert mem.write(store, b"", PAGE - 1) == 0


@pytest.mark.parametrize("bad", ["text", 1.5, object(), [256], [-1]])
def test_write_bad_values(store, bad):
    mem = new_memory(store)
    with pytest.raises((TypeError, ValueError)):
        mem.write(store, bad, 0)


def test_write_bad_start(store):
    mem = new_memory(store)
    with pytest.raises(TypeError):
        mem.write(store, b"x", "0")
    with pytest.raises(TypeError):
        mem.write(store, b"x", 1.0)


@pytest.mark.parametrize("shift", [1, -1, 4096, -4096])
def test_write_from_overlapping_view(store, shift):
    """Writing a slice of the memory's own view into itself (memmove
    semantics)."""
    n = 40000
    mem = new_memory(store, 1)
    pattern = bytes(range(256)) * (n // 256 + 1)
    base = 8192
    mem.write(store, pattern[:n], base)
    expected = mem.read(store, base, base + n)
    with memoryview(mem.view(store)) as mv:
        assert mem.write(store, mv[base : base + n], base + shift) == n
    assert mem.read(store, base + shift, base + shift + n) == expected


def test_wasm_sees_writes_and_python_sees_wasm(store):
    wat = """
    (module
      (memory (export "mem") 1)
      (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u)
      (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store8))
    """
    ex = Instance(store, Module(store.engine, wat), []).exports(store)
    mem = ex["mem"]
    mem.write(store, b"\x2a", 1234)
    assert ex["load"](store, 1234) == 42
    ex["store"](store, 99, 7)
    assert mem.read(store, 99, 100) == bytearray(b"\x07")


# ---- data_ptr, get_buffer_ptr ------------------------------------------------------


def test_data_ptr_indexable(store):
    mem = new_memory(store)
    mem.write(store, b"\x01\x02\x03")
    ptr = mem.data_ptr(store)
    assert isinstance(ptr, ctypes._Pointer)
    assert [ptr[0], ptr[1], ptr[2]] == [1, 2, 3]
    ptr[5] = 9
    assert mem.read(store, 5, 6) == bytearray(b"\x09")


def test_get_buffer_ptr_defaults(store):
    mem = new_memory(store)
    mem.write(store, b"abc")
    buf = mem.get_buffer_ptr(store)
    assert isinstance(buf, ctypes.Array)
    assert len(buf) == PAGE
    assert bytes(buf[0:3]) == b"abc"
    buf[3] = ord("d")
    assert mem.read(store, 0, 4) == bytearray(b"abcd")


def test_get_buffer_ptr_size_and_offset(store):
    mem = new_memory(store)
    mem.write(store, b"0123456789")
    assert bytes(mem.get_buffer_ptr(store, 4)) == b"0123"
    assert bytes(mem.get_buffer_ptr(store, 3, 5)) == b"567"
    assert bytes(mem.get_buffer_ptr(store, size=2, offset=8)) == b"89"
    assert len(mem.get_buffer_ptr(store, offset=PAGE - 10)) == 10
    assert len(mem.get_buffer_ptr(store, None, 10)) == PAGE - 10
    assert len(mem.get_buffer_ptr(store, 0, PAGE)) == 0


def test_get_buffer_ptr_bounds(store):
    mem = new_memory(store)
    with pytest.raises(IndexError):
        mem.get_buffer_ptr(store, PAGE + 1)
    with pytest.raises(IndexError):
        mem.get_buffer_ptr(store, 10, PAGE - 5)
    with pytest.raises(IndexError):
        mem.get_buffer_ptr(store, offset=PAGE + 1)
    with pytest.raises(IndexError):
        mem.get_buffer_ptr(store, 1, 2**63)


def test_get_buffer_ptr_numpy(store):
    np = pytest.importorskip("numpy")
    mem = new_memory(store)
    arr = np.frombuffer(mem.get_buffer_ptr(store, 16), dtype=np.uint32)
    arr[1] = 0x01020304
    assert mem.read(store, 4, 8) == bytearray(b"\x04\x03\x02\x01")


# ---- the zero-copy view -------------------------------------------------------------


def test_view_memoryview(store):
    mem = new_memory(store)
    mem.write(store, b"view")
    with memoryview(mem.view(store)) as mv:
        assert len(mv) == PAGE
        assert mv.readonly is False
        assert mv.format == "B"
        assert bytes(mv[:4]) == b"view"
        mv[0:4] = b"VIEW"
    assert mem.read(store, 0, 4) == bytearray(b"VIEW")


def test_view_numpy_both_directions(store):
    np = pytest.importorskip("numpy")
    mem = new_memory(store)
    view = mem.view(store)
    arr = np.frombuffer(view, dtype=np.uint8)
    assert arr.size == PAGE
    assert arr.flags.writeable
    arr[10:14] = [1, 2, 3, 4]
    assert mem.read(store, 10, 14) == bytearray(b"\x01\x02\x03\x04")
    mem.write(store, b"\xaa\xbb", 20)
    assert list(arr[20:22]) == [0xAA, 0xBB]
    words = np.frombuffer(view, dtype=np.uint32, count=4)
    words[0] = 0xDEADBEEF
    assert mem.read(store, 0, 4) == bytearray(b"\xef\xbe\xad\xde")
    del arr, words


def test_view_sees_wasm_writes(store):
    wat = """
    (module
      (memory (export "mem") 1)
      (func (export "fill") (param i32 i32 i32)
        local.get 0 local.get 1 local.get 2 memory.fill)
      (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u))
    """
    ex = Instance(store, Module(store.engine, wat), []).exports(store)
    mem = ex["mem"]
    with memoryview(mem.view(store)) as mv:
        ex["fill"](store, 100, 0x5A, 10)
        assert bytes(mv[100:110]) == b"\x5a" * 10
        assert mv[110] == 0
        mv[500] = 77
        assert ex["load"](store, 500) == 77


def test_view_after_grow(store):
    mem = new_memory(store, 1)
    view = mem.view(store)
    with memoryview(view) as before:
        mem.grow(store, 2)
        # the old memoryview keeps its length and stays valid
        assert len(before) == PAGE
        before[0] = 1
    with memoryview(view) as after:
        assert len(after) == 3 * PAGE
        assert after[0] == 1
        after[3 * PAGE - 1] = 2
    assert mem.read(store, -1) == bytearray(b"\x02")


def test_view_bounds_checked(store):
    mem = new_memory(store)
    with memoryview(mem.view(store)) as mv:
        with pytest.raises(IndexError):
            mv[PAGE]
        with pytest.raises(ValueError):
            mv[PAGE - 1 : PAGE + 1] = b"ab"


def test_close_store_with_exported_view(engine):
    store = Store(engine)
    mem = new_memory(store)
    mv = memoryview(mem.view(store))
    with pytest.raises(BufferError):
        store.close()
    # the store is still usable
    assert mem.size(store) == 1
    mv[0] = 3
    assert mem.read(store, 0, 1) == bytearray(b"\x03")
    mv.release()
    store.close()
    with pytest.raises(ValueError):
        mem.size(store)


def test_close_store_with_numpy_view(engine):
    np = pytest.importorskip("numpy")
    store = Store(engine)
    mem = new_memory(store)
    arr = np.frombuffer(mem.view(store), dtype=np.uint8)
    with pytest.raises(BufferError):
        store.close()
    del arr
    gc.collect()
    store.close()


def test_view_keeps_store_alive(engine):
    store = Store(engine)
    mem = new_memory(store)
    mem.write(store, b"alive")
    mv = memoryview(mem.view(store))
    del store, mem
    gc.collect()
    assert bytes(mv[:5]) == b"alive"
    mv[0] = ord("A")
    assert bytes(mv[:5]) == b"Alive"
    mv.release()


def test_view_of_closed_store(engine):
    store = Store(engine)
    mem = new_memory(store)
    view = mem.view(store)
    store.close()
    with pytest.raises((ValueError, BufferError)):
        memoryview(view)
    with pytest.raises(ValueError):
        mem.view(store)


def test_view_memory64_may_move():
    config = Config()
    config.wasm_memory64 = True
    store = Store(Engine(config))
    mem = new_memory(store, 1, None, is_64=True)
    assert mem.type(store).is_64
    with pytest.raises(BufferError):
        mem.view(store)
    # read/write still work
    mem.write(store, b"64")
    assert mem.read(store, 0, 2) == bytearray(b"64")


def test_view_memory64_fixed():
    config = Config()
    config.wasm_memory64 = True
    config.memory_may_move = False
    store = Store(Engine(config))
    mem = new_memory(store, 1, 4, is_64=True)
    with memoryview(mem.view(store)) as mv:
        assert len(mv) == PAGE
        mv[7] = 7
    assert mem.read(store, 7, 8) == bytearray(b"\x07")


def test_view_small_reservation_may_move():
    config = Config()
    config.memory_reservation = 1 << 20
    store = Store(Engine(config))
    mem = new_memory(store)
    with pytest.raises(BufferError):
        mem.view(store)


def test_32bit_memory_base_does_not_move(store):
    mem = new_memory(store, 1)
    base = address(mem.data_ptr(store))
    for _ in range(100):
        mem.grow(store, 3)
        assert address(mem.data_ptr(store)) == base
    assert mem.size(store) == 301


def test_view_cannot_be_constructed():
    from wasmtime import MemoryView

    with pytest.raises(TypeError):
        MemoryView()


# ---- wrong store, closed store ------------------------------------------------------


def _memory_calls(mem, store):
    return [
        lambda: mem.type(store),
        lambda: mem.size(store),
        lambda: mem.data_len(store),
        lambda: mem.page_size(store),
        lambda: mem.page_size_log2(store),
        lambda: mem.grow(store, 1),
        lambda: mem.read(store),
        lambda: mem.write(store, b"x"),
        lambda: mem.data_ptr(store),
        lambda: mem.get_buffer_ptr(store),
        lambda: mem.view(store),
    ]


def test_every_method_with_wrong_store(engine):
    s1, s2 = Store(engine), Store(engine)
    mem = new_memory(s1)
    for call in _memory_calls(mem, s2):
        with pytest.raises(WasmtimeError, match="wrong store"):
            call()
    for call in _memory_calls(mem, Store(Engine())):
        with pytest.raises(WasmtimeError):
            call()
    assert mem.size(s1) == 1


def test_wrong_store_in_child_process(run_python):
    r = run_python(
        "import wasmtime as w\n"
        "e = w.Engine()\n"
        "a, b = w.Store(e), w.Store(w.Engine())\n"
        "m = w.Memory(a, w.MemoryType(w.Limits(1, None)))\n"
        "for call in (lambda: m.size(b), lambda: m.grow(b, 1), lambda: m.read(b),\n"
        "             lambda: m.write(b, b'x'), lambda: m.data_ptr(b)):\n"
        "    try:\n"
        "        call()\n"
        "    except w.WasmtimeError:\n"
        "        print('raised')\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["raised"] * 5


def test_every_method_after_close(engine):
    store = Store(engine)
    mem = new_memory(store)
    store.close()
    for call in _memory_calls(mem, store):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(ValueError):
        new_memory(store)


def test_non_store_argument(store):
    mem = new_memory(store)
    with pytest.raises(TypeError):
        mem.size(None)
    with pytest.raises(TypeError):
        mem.read(1)
