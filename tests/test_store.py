"""wasmtime.Store: engine, user data, fuel, epochs, limits, lifetime."""

import gc
import os
import sysconfig
import weakref

import pytest

from wasmtime import Config, Engine, Managed, Module, Store, WasmtimeError


def fuel_engine():
    config = Config()
    config.consume_fuel = True
    return Engine(config)


def test_default_engine():
    store = Store()
    assert isinstance(store, Managed)
    assert isinstance(store.engine, Engine)
    Module(store.engine, "(module)")


def test_each_default_store_has_its_own_engine():
    assert Store().engine is not Store().engine


def test_engine_identity(engine):
    store = Store(engine)
    assert store.engine is engine
    assert Store(engine=engine).engine is engine


def test_engine_attribute_is_read_only(engine):
    store = Store(engine)
    with pytest.raises(AttributeError):
        store.engine = Engine()
    assert store.engine is engine


def test_store_keeps_engine_alive():
    engine = Engine()
    engine_id = id(engine)
    store = Store(engine)
    del engine
    gc.collect()
    assert id(store.engine) == engine_id
    assert store.engine.is_pulley() is False


@pytest.mark.parametrize("bad", [3, "engine", Config(), object()])
def test_store_rejects_non_engine(bad):
    with pytest.raises(TypeError):
        Store(bad)


def test_store_argument_errors(engine):
    with pytest.raises(TypeError):
        Store(engine, None, None)
    with pytest.raises(TypeError):
        Store(engine, payload=1)


def test_data_defaults_to_none(engine):
    assert Store(engine).data() is None
    assert Store(engine, None).data() is None


def test_data_identity(engine):
    payload = object()
    assert Store(engine, payload).data() is payload
    assert Store(engine, data=payload).data() is payload
    assert Store(data=payload).data() is payload


@pytest.mark.parametrize("falsy", [0, [], "", False, 0.0, {}, b""])
def test_falsy_data_is_kept(engine, falsy):
    # Deliberately different from wasmtime-py, which drops falsy data.
    store = Store(engine, falsy)
    assert store.data() is falsy


def test_data_is_released_with_store(engine):
    class Payload:
        pass

    payload = Payload()
    ref = weakref.ref(payload)
    store = Store(engine, payload)
    del payload
    gc.collect()
    assert ref() is not None
    del store
    gc.collect()
    assert ref() is None


def test_store_referenced_by_its_data_is_collected(engine):
    class Marker:
        pass

    marker = Marker()
    holder = [marker]
    store = Store(engine, holder)
    holder.append(store)
    store_ref = weakref.ref(store)
    marker_ref = weakref.ref(marker)
    del store, holder, marker
    gc.collect()
    assert store_ref() is None
    assert marker_ref() is None


def test_store_cycle_through_data_object_is_collected(engine):
    class Node:
        pass

    node = Node()
    node.store = Store(engine, node)
    node_ref = weakref.ref(node)
    store_ref = weakref.ref(node.store)
    del node
    gc.collect()
    assert node_ref() is None
    assert store_ref() is None


def test_gc(engine):
    store = Store(engine)
    assert store.gc() is None
    store.gc()


def test_fuel():
    store = Store(fuel_engine())
    assert store.get_fuel() == 0
    assert store.set_fuel(100) is None
    assert store.get_fuel() == 100
    store.set_fuel(0)
    assert store.get_fuel() == 0
    store.set_fuel(2**63)
    assert store.get_fuel() >= 2**62


def test_fuel_largest_value_is_accepted():
    store = Store(fuel_engine())
    store.set_fuel(2**64 - 1)
    assert store.get_fuel() > 0


def test_fuel_without_consume_fuel(engine):
    store = Store(engine)
    with pytest.raises(WasmtimeError):
        store.set_fuel(1)
    with pytest.raises(WasmtimeError):
        store.get_fuel()


def test_fuel_with_consume_fuel_disabled():
    config = Config()
    config.consume_fuel = False
    store = Store(Engine(config))
    with pytest.raises(WasmtimeError) as info:
        store.get_fuel()
    assert "fuel" in str(info.value).lower()


@pytest.mark.parametrize("bad", ["1", 1.0, None, b"1"])
def test_set_fuel_rejects_non_int(bad):
    store = Store(fuel_engine())
    with pytest.raises(TypeError):
        store.set_fuel(bad)


@pytest.mark.parametrize("bad", [-1, -(2**70), 2**64])
def test_set_fuel_rejects_out_of_range(bad):
    store = Store(fuel_engine())
    store.set_fuel(7)
    with pytest.raises(OverflowError):
        store.set_fuel(bad)
    assert store.get_fuel() == 7


def test_set_fuel_arity():
    store = Store(fuel_engine())
    with pytest.raises(TypeError):
        store.set_fuel()
    with pytest.raises(TypeError):
        store.set_fuel(1, 2)
    with pytest.raises(TypeError):
        store.get_fuel(1)


def test_set_epoch_deadline(engine):
    store = Store(engine)
    assert store.set_epoch_deadline(1) is None
    store.set_epoch_deadline(0)
    store.set_epoch_deadline(2**64 - 1)


def test_set_epoch_deadline_with_epoch_interruption():
    config = Config()
    config.epoch_interruption = True
    engine = Engine(config)
    store = Store(engine)
    store.set_epoch_deadline(10)
    engine.increment_epoch()


@pytest.mark.parametrize("bad", ["1", 1.5, None])
def test_set_epoch_deadline_rejects_non_int(engine, bad):
    store = Store(engine)
    with pytest.raises(TypeError):
        store.set_epoch_deadline(bad)


@pytest.mark.parametrize("bad", [-1, 2**64])
def test_set_epoch_deadline_rejects_out_of_range(engine, bad):
    store = Store(engine)
    with pytest.raises(OverflowError):
        store.set_epoch_deadline(bad)


def test_set_limits(engine):
    store = Store(engine)
    assert store.set_limits() is None
    store.set_limits(memory_size=1 << 16)
    store.set_limits(memory_size=1 << 20, table_elements=10, instances=1, tables=1, memories=1)
    store.set_limits(1 << 20, 10, 1, 1, 1)
    store.set_limits(-1, -1, -1, -1, -1)
    store.set_limits(memories=0, instances=-5)


@pytest.mark.parametrize("kw", ["memory_size", "table_elements", "instances", "tables", "memories"])
@pytest.mark.parametrize("bad", ["1", 1.0, None, [1]])
def test_set_limits_rejects_bad_types(engine, kw, bad):
    store = Store(engine)
    with pytest.raises(TypeError):
        store.set_limits(**{kw: bad})


def test_set_limits_rejects_unknown_keyword(engine):
    store = Store(engine)
    with pytest.raises(TypeError):
        store.set_limits(memory=1)
    with pytest.raises(TypeError):
        store.set_limits(memory_size=1, fuel=2)


def test_set_limits_argument_errors(engine):
    store = Store(engine)
    with pytest.raises(TypeError):
        store.set_limits(1, 2, 3, 4, 5, 6)
    with pytest.raises(TypeError):
        store.set_limits(1, memory_size=1)


def test_close_is_idempotent(engine):
    store = Store(engine)
    assert store.close() is None
    assert store.close() is None


CLOSED_CALLS = [
    ("data", ()),
    ("gc", ()),
    ("set_fuel", (1,)),
    ("get_fuel", ()),
    ("set_epoch_deadline", (1,)),
    ("set_limits", ()),
]


@pytest.mark.parametrize("method,args", CLOSED_CALLS)
def test_every_method_after_close_raises_value_error(method, args):
    store = Store(fuel_engine(), data=[1])
    store.close()
    with pytest.raises(ValueError):
        getattr(store, method)(*args)


def test_set_limits_keywords_after_close(engine):
    store = Store(engine)
    store.close()
    with pytest.raises(ValueError):
        store.set_limits(memory_size=1)


def test_close_releases_data(engine):
    class Payload:
        pass

    payload = Payload()
    ref = weakref.ref(payload)
    store = Store(engine, payload)
    del payload
    store.close()
    gc.collect()
    # The data may be kept until the Store object itself goes; it must be
    # gone once both are.
    del store
    gc.collect()
    assert ref() is None


def test_context_manager(engine):
    with Store(engine) as store:
        assert isinstance(store, Store)
        store.gc()
    with pytest.raises(ValueError):
        store.gc()


def test_store_subclass(engine):
    class MyStore(Store):
        pass

    store = MyStore(engine, data="x")
    assert store.data() == "x"
    assert store.engine is engine
    store.close()
    with pytest.raises(ValueError):
        store.data()


def test_weakref_to_store(engine):
    store = Store(engine)
    ref = weakref.ref(store)
    assert ref() is store
    del store
    gc.collect()
    assert ref() is None


def _rss_bytes():
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


# A live store costs roughly 3 KB of resident memory, so leaking every one of
# 40,000 stores (plus their 2 KB payloads) would add well over 100 MB: far
# above the 50 MB slack allowed for allocator noise.
STORE_COUNT = 40_000
SLACK = 50 * 1024 * 1024


@pytest.mark.rss
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_many_stores_do_not_grow_memory(engine):
    # Warm up allocator pools before the baseline.
    for _ in range(1000):
        Store(engine, data=bytearray(2048))
    gc.collect()
    before = _rss_bytes()
    for i in range(STORE_COUNT):
        store = Store(engine, data=bytearray(2048))
        if i % 2:
            store.close()
        del store
    gc.collect()
    grown = _rss_bytes() - before
    assert grown < SLACK, f"RSS grew by {grown / 1e6:.1f} MB"


@pytest.mark.rss
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_many_self_referencing_stores_do_not_grow_memory(engine):
    for _ in range(1000):
        holder = [bytearray(2048)]
        holder.append(Store(engine, holder))
    gc.collect()
    before = _rss_bytes()
    # The free-threaded GC of 3.13t also waits for the heap to grow by a
    # quarter before it collects, so thousands of dead Stores pile up between
    # collections there (all freed, but the allocator keeps the pages): collect
    # every 1000 as the default GC does about every 700.  A leak still grows.
    ft = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    for i in range(STORE_COUNT):
        holder = [bytearray(2048)]
        holder.append(Store(engine, holder))
        if ft and i % 1000 == 0:
            gc.collect()
    del holder
    gc.collect()
    grown = _rss_bytes() - before
    assert grown < SLACK, f"RSS grew by {grown / 1e6:.1f} MB"


def test_rss_check_would_notice_a_leak(engine):
    # Guards the two tests above: keeping the stores alive must exceed SLACK,
    # otherwise they could not detect a leak.
    before = _rss_bytes()
    kept = [Store(engine, data=bytearray(2048)) for _ in range(STORE_COUNT)]
    grown = _rss_bytes() - before
    del kept
    gc.collect()
    assert grown > SLACK, f"only {grown / 1e6:.1f} MB for {STORE_COUNT} live stores"
