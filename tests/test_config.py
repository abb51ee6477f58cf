"""wasmtime.Config: options set by assignment or by a call, their type checks,
the record of what was set, closing and consumption."""

import platform
import types

import pytest

from wasmtime import Config, Engine, Managed, Module, Store, WasmtimeError

BOOL_OPTIONS = [
    "debug_info",
    "wasm_threads",
    "wasm_tail_call",
    "wasm_reference_types",
    "wasm_simd",
    "wasm_bulk_memory",
    "wasm_multi_value",
    "wasm_multi_memory",
    "wasm_memory64",
    "wasm_relaxed_simd",
    "wasm_relaxed_simd_deterministic",
    "wasm_component_model",
    "wasm_component_model_map",
    "wasm_component_model_implements",
    "wasm_exceptions",
    "wasm_function_references",
    "wasm_gc",
    "wasm_wide_arithmetic",
    "wasm_custom_page_sizes",
    "wasm_stack_switching",
    "cranelift_debug_verifier",
    "consume_fuel",
    "parallel_compilation",
    "shared_memory",
    "gc_support",
    "cranelift_nan_canonicalization",
    "memory_may_move",
    "native_unwind_info",
    "macos_use_mach_ports",
    "signals_based_traps",
    "memory_init_cow",
]

INT_OPTIONS = [
    "max_wasm_stack",
    "async_stack_size",
    "memory_reservation",
    "memory_guard_size",
    "memory_reservation_for_growth",
]

# A value each of the other options accepts.
OTHER_OPTIONS = {
    "strategy": "cranelift",
    "cranelift_opt_level": "speed",
    "profiler": "none",
    "cache": True,
    "epoch_interruption": True,
    "interruptible": True,
    "target": None,  # filled in by valid_value(): depends on the host
}

ALL_OPTIONS = BOOL_OPTIONS + INT_OPTIONS + list(OTHER_OPTIONS)

HOST_TRIPLES = {
    "x86_64": "x86_64-unknown-linux-gnu",
    "aarch64": "aarch64-unknown-linux-gnu",
    "arm64": "aarch64-unknown-linux-gnu",
}


def valid_value(name):
    if name in BOOL_OPTIONS:
        return True
    if name in INT_OPTIONS:
        return 1 << 20
    if name == "target":
        return HOST_TRIPLES.get(platform.machine(), "x86_64-unknown-linux-gnu")
    return OTHER_OPTIONS[name]


def test_option_list_is_complete():
    props = sorted(
        n
        for n in dir(Config)
        if not n.startswith("_") and isinstance(getattr(Config, n), types.GetSetDescriptorType)
    )
    assert props == sorted(ALL_OPTIONS)
    assert len(props) == 43
    methods = sorted(n for n in dir(Config) if not n.startswith("_") and n not in props)
    assert methods == ["close", "cranelift_flag_enable", "cranelift_flag_set"]


def test_config_is_managed():
    assert issubclass(Config, Managed)
    assert isinstance(Config(), Managed)


def test_constructor_takes_no_arguments():
    with pytest.raises(TypeError):
        Config(1)
    with pytest.raises(TypeError):
        Config(debug_info=True)


@pytest.mark.parametrize("name", ALL_OPTIONS)
def test_reading_an_option_gives_its_setter(name):
    config = Config()
    setattr(config, name, valid_value(name))
    setter = getattr(config, name)
    assert callable(setter)
    assert setter.__name__ == name
    assert setter.__self__ is config
    assert setter(valid_value(name)) is None


@pytest.mark.parametrize("name", ALL_OPTIONS)
def test_calling_an_option_sets_it(name):
    config = Config()
    getattr(config, name)(valid_value(name))
    assert dict(Engine(config)._config_options)[name] == valid_value(name)


@pytest.mark.parametrize("name", BOOL_OPTIONS)
def test_calling_checks_like_assigning(name):
    config = Config()
    with pytest.raises(TypeError):
        getattr(config, name)(1)
    with pytest.raises(TypeError):
        getattr(config, name)()
    config.close()
    with pytest.raises(ValueError):
        getattr(config, name)(True)


def test_called_options_take_effect():
    config = Config()
    config.consume_fuel(True)
    config.wasm_simd(True)
    config.debug_info(True)
    store = Store(Engine(config))
    store.set_fuel(7)
    assert store.get_fuel() == 7


def test_options_are_recorded_in_order_last_set_wins():
    config = Config()
    config.consume_fuel = True
    config.wasm_simd(False)
    config.wasm_relaxed_simd = False
    config.consume_fuel(False)
    config.cranelift_flag_set("opt_level", "speed")
    config.cranelift_flag_enable("enable_verifier")

    class S(str):
        pass

    config.strategy = S("cranelift")
    options = Engine(config)._config_options
    assert options == (
        ("wasm_simd", False),
        ("wasm_relaxed_simd", False),
        ("consume_fuel", False),
        ("cranelift_flag_set:opt_level", "speed"),
        ("cranelift_flag_enable:enable_verifier", True),
        ("strategy", "cranelift"),
    )
    assert type(options[-1][1]) is str
    assert Engine()._config_options == ()


def test_failed_setting_is_not_recorded():
    config = Config()
    with pytest.raises(TypeError):
        config.consume_fuel(1)
    with pytest.raises(OverflowError):
        config.max_wasm_stack(-1)
    assert Engine(config)._config_options == ()


@pytest.mark.parametrize("name", ALL_OPTIONS)
def test_deleting_an_option_raises_attribute_error(name):
    config = Config()
    with pytest.raises(AttributeError):
        delattr(config, name)


@pytest.mark.parametrize("name", BOOL_OPTIONS)
def test_bool_option_accepts_bools(name):
    config = Config()
    setattr(config, name, True)
    setattr(config, name, False)
    # Still open and usable afterwards.
    config.debug_info = False


@pytest.mark.parametrize("name", BOOL_OPTIONS)
@pytest.mark.parametrize("bad", [1, 0, None, "true", 1.0])
def test_bool_option_rejects_non_bools(name, bad):
    config = Config()
    with pytest.raises(TypeError):
        setattr(config, name, bad)


@pytest.mark.parametrize("name", INT_OPTIONS)
@pytest.mark.parametrize("value", [0, 1, 1 << 20, 2**32])
def test_int_option_accepts_ints(name, value):
    config = Config()
    setattr(config, name, value)


@pytest.mark.parametrize("name", INT_OPTIONS)
def test_int_option_accepts_largest_u64(name):
    config = Config()
    setattr(config, name, 2**64 - 1)


@pytest.mark.parametrize("name", INT_OPTIONS)
@pytest.mark.parametrize("bad", ["1", 1.0, None, b"1"])
def test_int_option_rejects_non_ints(name, bad):
    config = Config()
    with pytest.raises(TypeError):
        setattr(config, name, bad)


@pytest.mark.parametrize("name", INT_OPTIONS)
@pytest.mark.parametrize("bad", [-1, -(2**70), 2**64, 2**100])
def test_int_option_rejects_out_of_range(name, bad):
    config = Config()
    with pytest.raises(OverflowError):
        setattr(config, name, bad)


@pytest.mark.parametrize("value", ["auto", "cranelift"])
def test_strategy_accepts_known_names(value):
    config = Config()
    config.strategy = value
    engine = Engine(config)
    Module(engine, "(module (func))")


@pytest.mark.parametrize("bad", ["winch", "pulley", "", "Cranelift", 1, None])
def test_strategy_rejects_unknown_values(bad):
    config = Config()
    with pytest.raises(WasmtimeError):
        config.strategy = bad


@pytest.mark.parametrize("value", ["none", "speed", "speed_and_size"])
def test_cranelift_opt_level_accepts_known_names(value):
    config = Config()
    config.cranelift_opt_level = value
    engine = Engine(config)
    Module(engine, "(module (func))")


@pytest.mark.parametrize("bad", ["fast", "size", "", 0, None])
def test_cranelift_opt_level_rejects_unknown_values(bad):
    config = Config()
    with pytest.raises(WasmtimeError):
        config.cranelift_opt_level = bad


@pytest.mark.parametrize("value", ["none", "jitdump", "vtune", "perfmap"])
def test_profiler_accepts_known_names(value):
    # Only set: creating an engine with a profiler would write files.
    config = Config()
    config.profiler = value


@pytest.mark.parametrize("bad", ["perf", "", "None", 0, None])
def test_profiler_rejects_unknown_values(bad):
    config = Config()
    with pytest.raises(WasmtimeError):
        config.profiler = bad


def test_cache_true_loads_the_default_configuration():
    config = Config()
    config.cache = True
    config.close()


def test_cache_false_is_an_error():
    config = Config()
    with pytest.raises(WasmtimeError) as info:
        config.cache = False
    assert "disabled" in str(info.value)


@pytest.mark.parametrize("bad", [3, None, 1.5, b"/tmp/cache.toml", ["x"]])
def test_cache_rejects_other_types(bad):
    config = Config()
    with pytest.raises(TypeError):
        config.cache = bad


def test_cache_missing_file_is_an_error(tmp_path):
    config = Config()
    missing = tmp_path / "no-such-config.toml"
    with pytest.raises(WasmtimeError) as info:
        config.cache = str(missing)
    assert "no-such-config.toml" in str(info.value)


def test_cache_invalid_toml_is_an_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("this is = [not toml\n")
    config = Config()
    with pytest.raises(WasmtimeError):
        config.cache = str(path)


def test_cache_file_is_used(tmp_path):
    cache_dir = tmp_path / "cache-dir"
    path = tmp_path / "cache.toml"
    path.write_text('[cache]\ndirectory = "%s"\n' % cache_dir.as_posix())
    config = Config()
    config.cache = str(path)
    engine = Engine(config)
    Module(engine, '(module (func (export "f") (result i32) i32.const 7))')
    assert cache_dir.is_dir()
    assert any(p.is_file() for p in cache_dir.rglob("*"))


@pytest.mark.parametrize("value", [True, False, 1, 0, None, "yes", "", [], [1]])
def test_epoch_interruption_accepts_any_value(value):
    config = Config()
    config.epoch_interruption = value


def _epoch_engine(value):
    config = Config()
    config.epoch_interruption = value
    return Engine(config)


@pytest.mark.parametrize("truthy", [True, 1, "yes", [0]])
def test_epoch_interruption_uses_truthiness_enabled(truthy):
    # A module compiled with epoch interruption only loads into an engine
    # that has it too, which makes the setting observable.
    blob = Module(_epoch_engine(truthy), "(module (func))").serialize()
    Module.deserialize(_epoch_engine(True), blob)
    with pytest.raises(WasmtimeError):
        Module.deserialize(Engine(), blob)


@pytest.mark.parametrize("falsy", [False, 0, "", None, []])
def test_epoch_interruption_uses_truthiness_disabled(falsy):
    blob = Module(_epoch_engine(falsy), "(module (func))").serialize()
    Module.deserialize(Engine(), blob)
    with pytest.raises(WasmtimeError):
        Module.deserialize(_epoch_engine(True), blob)


def test_bool_option_reaches_the_engine_memory64():
    wat = "(module (memory i64 1))"
    on = Config()
    on.wasm_memory64 = True
    Module(Engine(on), wat)
    off = Config()
    off.wasm_memory64 = False
    with pytest.raises(WasmtimeError) as info:
        Module(Engine(off), wat)
    assert "memory64" in str(info.value)


def test_bool_option_reaches_the_engine_multi_value():
    wat = "(module (func (result i32 i32) i32.const 1 i32.const 2))"
    on = Config()
    on.wasm_multi_value = True
    Module(Engine(on), wat)
    off = Config()
    off.wasm_multi_value = False
    with pytest.raises(WasmtimeError):
        Module(Engine(off), wat)


def test_parallel_compilation_off_still_compiles():
    config = Config()
    config.parallel_compilation = False
    module = Module(Engine(config), '(module (func (export "a")) (func (export "b")))')
    assert [e.name for e in module.exports] == ["a", "b"]


def test_target_accepts_host_triple():
    config = Config()
    config.target = valid_value("target")
    engine = Engine(config)
    Module(engine, "(module (func))")


@pytest.mark.parametrize("bad", ["bogus", "not-a-real-triple-at-all", ""])
def test_target_rejects_unknown_triple(bad):
    config = Config()
    with pytest.raises(WasmtimeError):
        config.target = bad


@pytest.mark.parametrize("bad", [3, None, b"x86_64-unknown-linux-gnu"])
def test_target_rejects_non_str(bad):
    config = Config()
    with pytest.raises(TypeError):
        config.target = bad


def test_cranelift_flag_enable():
    config = Config()
    assert config.cranelift_flag_enable("enable_verifier") is None
    Module(Engine(config), "(module (func))")


@pytest.mark.parametrize("bad", [3, None, b"enable_verifier"])
def test_cranelift_flag_enable_rejects_non_str(bad):
    config = Config()
    with pytest.raises(TypeError):
        config.cranelift_flag_enable(bad)


def test_cranelift_flag_enable_arity():
    config = Config()
    with pytest.raises(TypeError):
        config.cranelift_flag_enable()
    with pytest.raises(TypeError):
        config.cranelift_flag_enable("a", "b")


def test_cranelift_flag_set_positional_and_keywords():
    config = Config()
    assert config.cranelift_flag_set("opt_level", "speed") is None
    assert config.cranelift_flag_set(key="opt_level", value="none") is None
    assert config.cranelift_flag_set("opt_level", value="speed_and_size") is None
    Module(Engine(config), "(module (func))")


@pytest.mark.parametrize("key,value", [(1, "x"), ("x", 1), (None, "x"), ("x", None), (b"k", "v")])
def test_cranelift_flag_set_rejects_non_str(key, value):
    config = Config()
    with pytest.raises(TypeError):
        config.cranelift_flag_set(key, value)


def test_cranelift_flag_set_argument_errors():
    config = Config()
    with pytest.raises(TypeError):
        config.cranelift_flag_set("only_key")
    with pytest.raises(TypeError):
        config.cranelift_flag_set("a", "b", "c")
    with pytest.raises(TypeError):
        config.cranelift_flag_set(key="a", val="b")
    with pytest.raises(TypeError):
        config.cranelift_flag_set("a", key="a", value="b")


@pytest.mark.parametrize("name", ALL_OPTIONS)
def test_closed_config_rejects_every_option(name):
    config = Config()
    config.close()
    with pytest.raises(ValueError):
        setattr(config, name, valid_value(name))


def test_closed_config_rejects_methods():
    config = Config()
    config.close()
    with pytest.raises(ValueError):
        config.cranelift_flag_enable("enable_verifier")
    with pytest.raises(ValueError):
        config.cranelift_flag_set("opt_level", "speed")


def test_close_is_idempotent():
    config = Config()
    assert config.close() is None
    assert config.close() is None
    with pytest.raises(ValueError):
        config.debug_info = True


def test_context_manager_closes():
    with Config() as config:
        assert isinstance(config, Config)
        config.debug_info = True
    with pytest.raises(ValueError):
        config.debug_info = True


def test_context_manager_returns_same_object():
    config = Config()
    with config as entered:
        assert entered is config


def test_closed_config_cannot_make_an_engine():
    config = Config()
    config.close()
    with pytest.raises(ValueError):
        Engine(config)


def test_engine_consumes_config():
    config = Config()
    config.wasm_simd = True
    engine = Engine(config)
    assert isinstance(engine, Engine)
    with pytest.raises(ValueError):
        config.debug_info = True
    with pytest.raises(ValueError):
        config.cranelift_flag_enable("enable_verifier")
    with pytest.raises(ValueError):
        Engine(config)
    # Closing a consumed config is harmless, and the engine still works.
    config.close()
    Module(engine, "(module (func))")


def test_config_subclass_works():
    class MyConfig(Config):
        pass

    config = MyConfig()
    config.consume_fuel = True
    engine = Engine(config)
    with pytest.raises(ValueError):
        config.consume_fuel = True
    Module(engine, "(module (func))")


INVALID_CONFIGS = [
    "config.max_wasm_stack = 0",
    "config.async_stack_size = 0",
    "config.max_wasm_stack = 1 << 20; config.async_stack_size = 1 << 20",
    "config.wasm_simd = False",
    "config.cranelift_flag_enable('no_such_cranelift_flag')",
    "config.cranelift_flag_set('opt_level', 'not-a-level')",
]


@pytest.mark.parametrize("setup", INVALID_CONFIGS)
def test_engine_from_rejected_config_raises_instead_of_aborting(setup, run_python):
    # Wasmtime rejects these settings when the engine is built; that must be
    # a WasmtimeError, not a Rust panic that aborts the interpreter.
    code = (
        "import wasmtime\n"
        "config = wasmtime.Config()\n"
        f"{setup}\n"
        "try:\n"
        "    wasmtime.Engine(config)\n"
        "except wasmtime.WasmtimeError as e:\n"
        "    print('WasmtimeError:', e)\n"
        "else:\n"
        "    print('no error')\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, (
        f"interpreter died with return code {proc.returncode}: "
        f"{proc.stderr.strip().splitlines()[:2]}"
    )
    assert proc.stdout.startswith("WasmtimeError:")


def test_rejected_config_is_not_consumed():
    config = Config()
    config.max_wasm_stack = 0
    with pytest.raises(WasmtimeError, match="max_wasm_stack"):
        Engine(config)
    config.max_wasm_stack = 1 << 20
    Engine(config)  # the same Config, fixed, now builds an engine
    with pytest.raises(ValueError):
        Engine(config)


def test_disabling_reference_types_builds_an_engine_without_them():
    # Component-model async needs reference types; it follows them off
    # (it cannot be set from Python), so the engine builds and rejects
    # modules that use references.
    config = Config()
    config.wasm_reference_types = False
    config.wasm_function_references = False
    config.wasm_gc = False
    engine = Engine(config)
    Module(engine, "(module (func))")
    with pytest.raises(WasmtimeError):
        Module(engine, "(module (func (param externref)))")


def test_cache_path_with_nul_is_rejected(tmp_path):
    # The other str options reject an embedded NUL; the cache path must not
    # be silently cut at it either.
    path = tmp_path / "cache.toml"
    path.write_text('[cache]\ndirectory = "%s"\n' % (tmp_path / "dir").as_posix())
    config = Config()
    config.cache = str(path)  # the valid path alone is accepted
    with pytest.raises(ValueError):
        config.cache = str(path) + "\0ignored"


def test_target_and_flags_reject_nul():
    config = Config()
    with pytest.raises(ValueError):
        config.target = valid_value("target") + "\0x"
    with pytest.raises(ValueError):
        config.cranelift_flag_enable("enable_verifier\0x")
    with pytest.raises(ValueError):
        config.cranelift_flag_set("opt_level\0x", "speed")


def test_max_wasm_stack_bounds_are_checked_before_building():
    # Unless async_stack_size is set, the async stack follows max_wasm_stack
    # (docs/asyncio.md), so any max_wasm_stack builds an engine ...
    config = Config()
    config.max_wasm_stack = 64 << 20
    Engine(config)
    # ... but not one that leaves no room for the async stack above it.
    config = Config()
    config.max_wasm_stack = (1 << 64) - 1
    with pytest.raises(WasmtimeError, match="max_wasm_stack is too large"):
        Engine(config)
    # With both set, the async stack must exceed the wasm stack by 256 KiB.
    config = Config()
    config.max_wasm_stack = 1 << 20
    config.async_stack_size = (1 << 20) + (256 << 10) - 1
    with pytest.raises(WasmtimeError, match="async_stack_size .* must exceed max_wasm_stack"):
        Engine(config)
    config.async_stack_size = (1 << 20) + (256 << 10)  # the smallest accepted value
    Engine(config)


def test_simd_can_be_disabled_with_relaxed_simd():
    config = Config()
    config.wasm_simd = False
    config.wasm_relaxed_simd = False
    engine = Engine(config)
    with pytest.raises(WasmtimeError):
        Module(engine, "(module (func (param v128)))")


def test_unsupported_target_raises_instead_of_aborting(run_python):
    import platform

    other = (
        "aarch64-unknown-linux-gnu"
        if platform.machine() == "x86_64"
        else "x86_64-unknown-linux-gnu"
    )
    proc = run_python(
        "import wasmtime\n"
        "c = wasmtime.Config()\n"
        "c.target = %r\n" % other + "try:\n"
        "    wasmtime.Engine(c)\n"
        "except wasmtime.WasmtimeError as e:\n"
        "    print('WasmtimeError:', e)\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("WasmtimeError:"), proc.stdout
