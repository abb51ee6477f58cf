"""Closing an object while wasm is using it (here: from a host function that
the start function calls, which is the same situation as another thread
closing it while the GIL is released) never frees memory in use."""

import pytest

from wasmtime import Engine, Func, FuncType, Instance, Linker, Module, Store, WasmtimeError

START = """
(module
  (import "host" "during" (func $during))
  (func $start call $during)
  (start $start)
  (func (export "f") (result i32) i32.const 7))
"""


def test_module_closed_during_instantiation_is_harmless():
    engine = Engine()
    store = Store(engine)
    module = Module(engine, START)
    hook = Func(store, FuncType([], []), lambda: module.close())
    instance = Instance(store, module, [hook])
    assert instance.exports(store)["f"](store) == 7
    with pytest.raises(ValueError):
        module.imports


def test_linker_refuses_close_while_instantiating():
    engine = Engine()
    linker = Linker(engine)
    module = Module(engine, START)
    seen = []

    def during():
        with pytest.raises(RuntimeError):
            linker.close()
        seen.append(True)

    linker.define_func("host", "during", FuncType([], []), during)
    store = Store(engine)
    instance = linker.instantiate(store, module)
    assert seen == [True]
    assert instance.exports(store)["f"](store) == 7
    linker.close()  # fine once the instantiation is over
    with pytest.raises(ValueError):
        linker.instantiate(store, module)


def test_module_closed_during_linker_instantiate_is_harmless():
    engine = Engine()
    linker = Linker(engine)
    module = Module(engine, START)
    linker.define_func("host", "during", FuncType([], []), lambda: module.close())
    store = Store(engine)
    assert linker.instantiate(store, module).exports(store)["f"](store) == 7


def test_instance_pre_refuses_close_while_instantiating():
    engine = Engine()
    linker = Linker(engine)
    module = Module(engine, START)
    holder = {}
    seen = []

    def during():
        with pytest.raises(RuntimeError):
            holder["pre"].close()
        seen.append(True)

    linker.define_func("host", "during", FuncType([], []), during)
    holder["pre"] = linker.instantiate_pre(module)
    store = Store(engine)
    holder["pre"].instantiate(store)
    assert seen == [True]
    holder["pre"].close()
    with pytest.raises(ValueError):
        holder["pre"].instantiate(Store(engine))


def test_store_close_refused_during_start():
    engine = Engine()
    store = Store(engine)
    module = Module(engine, START)
    errors = []

    def during():
        try:
            store.close()
        except RuntimeError as e:
            errors.append(e)

    Instance(store, module, [Func(store, FuncType([], []), during)])
    assert len(errors) == 1
    store.close()
    with pytest.raises(ValueError):
        store.gc()


def test_engine_closed_during_call_is_harmless():
    engine = Engine()
    store = Store(engine)
    module = Module(engine, START)
    hook = Func(store, FuncType([], []), lambda: engine.close())
    instance = Instance(store, module, [hook])
    assert instance.exports(store)["f"](store) == 7
    with pytest.raises(ValueError):
        engine.increment_epoch()
    with pytest.raises(WasmtimeError):
        Module(Engine(), b"\x00asm")
