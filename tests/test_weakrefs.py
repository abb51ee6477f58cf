"""Objects can be weakly referenced, like wasmtime-py's Python objects."""

import gc
import weakref

import pytest

from wasmtime import (
    Config,
    Engine,
    Func,
    FuncType,
    Instance,
    Limits,
    Linker,
    Memory,
    MemoryType,
    Module,
    SharedMemory,
    Store,
)

WAT = """
(module
  (memory (export "m") 1)
  (func (export "f"))
  (global (export "g") i32 (i32.const 1))
  (table (export "t") 1 funcref)
  (tag (export "x")))
"""


@pytest.fixture
def parts():
    engine = Engine()
    store = Store(engine)
    module = Module(engine, WAT)
    instance = Instance(store, module, [])
    ex = instance.exports(store)
    return engine, store, module, instance, ex


def test_weakref_to_each_kind_resolves_while_alive(parts):
    engine, store, module, instance, ex = parts
    objects = [
        engine,
        store,
        module,
        instance,
        Linker(engine),
        ex["m"],
        ex["f"],
        ex["g"],
        ex["t"],
        ex["x"],
    ]
    refs = [weakref.ref(o) for o in objects]
    assert [r() for r in refs] == objects


@pytest.mark.parametrize(
    "make",
    [
        lambda e, s: Func(s, FuncType([], []), lambda: None),
        lambda e, s: Memory(s, MemoryType(Limits(1, None))),
        lambda e, s: Module(e, "(module)"),
        lambda e, s: Linker(e),
        lambda e, s: Instance(s, Module(e, "(module)"), []),
        lambda e, s: Engine(),
    ],
)
def test_weakref_dies_with_the_object(make):
    engine = Engine()
    store = Store(engine)
    obj = make(engine, store)
    ref = weakref.ref(obj)
    del obj
    gc.collect()
    assert ref() is None


def test_weakref_to_shared_memory():
    config = Config()
    config.shared_memory = True
    sm = SharedMemory(Engine(config), MemoryType(Limits(1, 2), shared=True))
    ref = weakref.ref(sm)
    assert ref() is sm
    del sm
    gc.collect()
    assert ref() is None


def test_weak_key_dictionary_of_modules():
    engine = Engine()
    cache = weakref.WeakKeyDictionary()
    m = Module(engine, "(module)")
    cache[m] = "compiled"
    assert cache[m] == "compiled"
    del m
    gc.collect()
    assert len(cache) == 0
