"""wasmtime.Engine: construction, epochs, Pulley query, closing."""

import threading

import pytest

from wasmtime import Config, Engine, Managed, Module, Store


def test_default_engine():
    engine = Engine()
    assert isinstance(engine, Engine)
    assert isinstance(engine, Managed)
    Module(engine, "(module)")


def test_engine_none_is_default():
    engine = Engine(None)
    Module(engine, "(module)")


def test_engine_with_config():
    config = Config()
    config.consume_fuel = True
    engine = Engine(config)
    store = Store(engine)
    store.set_fuel(10)
    assert store.get_fuel() == 10


def test_engine_config_keyword():
    config = Config()
    config.consume_fuel = True
    engine = Engine(config=config)
    store = Store(engine)
    store.set_fuel(3)
    assert store.get_fuel() == 3
    with pytest.raises(ValueError):
        config.consume_fuel = False


@pytest.mark.parametrize("bad", [3, "config", Engine, object(), True])
def test_engine_rejects_non_config(bad):
    with pytest.raises(TypeError):
        Engine(bad)


def test_engine_rejects_engine_as_config():
    with pytest.raises(TypeError):
        Engine(Engine())


def test_engine_argument_errors():
    with pytest.raises(TypeError):
        Engine(Config(), Config())
    with pytest.raises(TypeError):
        Engine(cfg=Config())


def test_is_pulley_returns_bool():
    engine = Engine()
    result = engine.is_pulley()
    assert type(result) is bool
    # Native code generation exists for the hosts this project supports.
    assert result is False


def test_increment_epoch():
    engine = Engine()
    assert engine.increment_epoch() is None
    for _ in range(1000):
        engine.increment_epoch()


def test_increment_epoch_from_threads():
    config = Config()
    config.epoch_interruption = True
    engine = Engine(config)

    def bump():
        for _ in range(2000):
            engine.increment_epoch()

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert engine.is_pulley() is False


def test_close_then_methods_raise_value_error():
    engine = Engine()
    assert engine.close() is None
    with pytest.raises(ValueError):
        engine.increment_epoch()
    with pytest.raises(ValueError):
        engine.is_pulley()


def test_close_is_idempotent():
    engine = Engine()
    engine.close()
    engine.close()
    with pytest.raises(ValueError):
        engine.is_pulley()


def test_context_manager():
    with Engine() as engine:
        assert isinstance(engine, Engine)
        assert engine.is_pulley() is False
    with pytest.raises(ValueError):
        engine.is_pulley()


def test_store_from_closed_engine():
    engine = Engine()
    engine.close()
    with pytest.raises(ValueError):
        Store(engine)


def test_module_from_closed_engine():
    engine = Engine()
    engine.close()
    with pytest.raises(ValueError):
        Module(engine, "(module)")
    with pytest.raises(ValueError):
        Module.validate(engine, b"\0asm\x01\0\0\0")
    with pytest.raises(ValueError):
        Module.deserialize(engine, b"\0asm\x01\0\0\0")


def test_module_keeps_working_after_engine_closed():
    engine = Engine()
    module = Module(engine, '(module (func (export "f") (param i32) (result i32) local.get 0))')
    engine.close()
    assert [e.name for e in module.exports] == ["f"]
    assert module.imports == []
    blob = module.serialize()
    other = Engine()
    again = Module.deserialize(other, blob)
    assert [e.name for e in again.exports] == ["f"]


def test_store_keeps_working_after_engine_closed():
    config = Config()
    config.consume_fuel = True
    engine = Engine(config)
    store = Store(engine)
    engine.close()
    store.set_fuel(5)
    assert store.get_fuel() == 5
    store.gc()
    assert store.engine is engine


def test_engine_subclass():
    class MyEngine(Engine):
        pass

    engine = MyEngine()
    assert isinstance(engine, Engine)
    store = Store(engine)
    assert store.engine is engine
    Module(engine, "(module)")
