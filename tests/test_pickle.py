"""Pickled modules: an HMAC-authenticated artifact that attaches to the
process-wide engine of its configuration, and is refused (UnpicklingError,
before Wasmtime sees the bytes) when the key, the bytes or the configuration
do not fit."""

import hashlib
import hmac
import json
import multiprocessing
import os
import pickle
import platform
import subprocess
import sys

import pytest

import wasmtime
import wasmtime._pickle as wp
from wasmtime import Config, Engine, Instance, Module, Store

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WAT = """(module
  (@custom "note" "kept only by compiled modules")
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "loop") (param i32) (result i32) (local i32)
    (block (loop
      (br_if 1 (i32.eqz (local.get 0)))
      (local.set 1 (i32.add (local.get 1) (local.get 0)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br 0)))
    local.get 1))"""


def configure(name):
    c = Config()
    if name == "fuel":
        c.consume_fuel(True)
    elif name == "epochs":
        c.epoch_interruption = True
    elif name == "opt-none":
        c.cranelift_opt_level("none")
    elif name == "flags":
        c.cranelift_flag_set("opt_level", "speed_and_size")
    elif name == "memory":
        c.memory_reservation = 1 << 24
        c.memory_guard_size = 1 << 16
        c.memory_may_move(True)
    elif name == "debug":
        c.debug_info(True)
    elif name == "gc":
        c.wasm_gc = True
        c.wasm_function_references = True
    elif name == "pulley":
        c.target = "pulley64"
    return c


CONFIGS = ["default", "fuel", "epochs", "opt-none", "flags", "memory", "debug", "gc", "pulley"]


def run(module, config_name):
    store = Store(Engine.shared(configure(config_name)))
    if config_name == "fuel":
        store.set_fuel(10_000)
    if config_name == "epochs":
        store.set_epoch_deadline(1)
    ex = Instance(store, module, []).exports(store)
    return ex["add"](store, 2, 40), ex["loop"](store, 100)


@pytest.fixture
def restore_key():
    saved = os.environ[wp.KEY_ENV]
    yield
    os.environ[wp.KEY_ENV] = saved


@pytest.mark.parametrize("name", CONFIGS)
def test_round_trip_per_configuration(name):
    module = Module(Engine(configure(name)), WAT)
    data = pickle.dumps(module)
    back = pickle.loads(data)
    assert isinstance(back, Module)
    assert run(back, name) == (42, 5050)
    # Unpickled twice: both attach to the one shared engine, one Store runs both.
    again = pickle.loads(data)
    store = Store(Engine.shared(configure(name)))
    if name == "fuel":
        store.set_fuel(10_000)
    if name == "epochs":
        store.set_epoch_deadline(1)
    Instance(store, back, [])
    Instance(store, again, [])
    assert [str(e.name) for e in back.exports] == ["add", "loop"]
    assert back.custom_sections("note") == []


def test_pulley_unpickles_onto_pulley():
    back = pickle.loads(pickle.dumps(Module(Engine(configure("pulley")), WAT)))
    assert Engine.shared(configure("pulley")).is_pulley()
    assert run(back, "pulley") == (42, 5050)


def test_shared_engine_per_configuration():
    assert Engine.shared() is Engine.shared(None)
    assert Engine.shared() is Engine.shared(Config())
    fuel = Engine.shared(configure("fuel"))
    assert fuel is Engine.shared(configure("fuel"))
    assert fuel is not Engine.shared()
    assert fuel._config_options == (("consume_fuel", True),)
    c = configure("fuel")
    Engine(c)  # consumed: its options can still name the shared engine
    assert Engine.shared(c) is fuel
    with pytest.raises(TypeError):
        Engine.shared(42)


def test_wrong_key(restore_key):
    data = pickle.dumps(Module(Engine(), WAT))
    wasmtime.set_pickle_key(b"k" * 32)
    with pytest.raises(pickle.UnpicklingError, match="HMAC does not match"):
        pickle.loads(data)
    again = pickle.dumps(Module(Engine(), WAT))
    assert run(pickle.loads(again), "default") == (42, 5050)


def test_set_pickle_key_checks_its_argument(restore_key):
    with pytest.raises(TypeError):
        wasmtime.set_pickle_key("a str key")
    with pytest.raises(ValueError):
        wasmtime.set_pickle_key(b"short")
    wasmtime.set_pickle_key(bytearray(range(16)))
    assert os.environ[wp.KEY_ENV] == bytes(range(16)).hex()


def test_a_text_key_from_the_environment_works(restore_key):
    os.environ[wp.KEY_ENV] = "a passphrase, not hex"
    assert run(pickle.loads(pickle.dumps(Module(Engine(), WAT))), "default") == (42, 5050)


class Recorder:
    calls = 0

    @classmethod
    def deserialize(cls, engine, data):
        cls.calls += 1
        raise AssertionError("the bytes reached Wasmtime")


@pytest.fixture
def no_wasmtime(monkeypatch):
    Recorder.calls = 0
    monkeypatch.setattr(wp, "Module", Recorder)
    yield
    assert Recorder.calls == 0


def payload_of(data):
    func, (payload, mac) = Module.__reduce__(pickle.loads(data))
    return payload, mac


def test_flipped_bits_are_refused_before_wasmtime(no_wasmtime):
    module = Module(Engine(), WAT)
    _, (payload, mac) = module.__reduce__()
    positions = [0, 10, len(wp._MAGIC) + 2, len(wp._MAGIC) + 20, len(payload) // 2]
    positions += [len(payload) - 1]
    for pos in positions:
        for bit in (0, 7):
            bad = bytearray(payload)
            bad[pos] ^= 1 << bit
            with pytest.raises(pickle.UnpicklingError, match="HMAC"):
                wp.load_module(bytes(bad), mac)
    bad_mac = bytearray(mac)
    bad_mac[5] ^= 0x10
    with pytest.raises(pickle.UnpicklingError, match="HMAC"):
        wp.load_module(payload, bytes(bad_mac))
    with pytest.raises(pickle.UnpicklingError):
        wp.load_module(payload[:-1], mac)
    with pytest.raises(pickle.UnpicklingError, match="malformed"):
        wp.load_module(bytearray(payload), mac)


def forge(header, artifact=b"\x7fELF not reached"):
    """A payload signed with this process's key, as a foreign process would."""
    head = json.dumps(header, sort_keys=True).encode()
    payload = wp._MAGIC + len(head).to_bytes(4, "little") + head + artifact
    return payload, hmac.new(wp._current_key(), payload, hashlib.sha256).digest()


@pytest.mark.parametrize(
    "header, reason",
    [
        ({"wasmtime": "49.0.0", "machine": platform.machine(), "options": []}, "Wasmtime 49"),
        ({"wasmtime": wasmtime.WASMTIME_VERSION, "machine": "sparc64", "options": []}, "sparc"),
        (
            {
                "wasmtime": wasmtime.WASMTIME_VERSION,
                "machine": platform.machine(),
                "options": [["no_such_option", True]],
            },
            "no_such_option",
        ),
        (
            {
                "wasmtime": wasmtime.WASMTIME_VERSION,
                "machine": platform.machine(),
                "options": [["consume_fuel", "yes"]],
            },
            "cannot build its engine",
        ),
        (
            {
                "wasmtime": wasmtime.WASMTIME_VERSION,
                "machine": platform.machine(),
                "options": [["max_wasm_stack", 0]],
            },
            "cannot build its engine",
        ),
        ({"wasmtime": wasmtime.WASMTIME_VERSION}, "malformed header"),
    ],
)
def test_foreign_configuration_is_refused_before_wasmtime(no_wasmtime, header, reason):
    payload, mac = forge(header)
    with pytest.raises(pickle.UnpicklingError, match="refusing") as info:
        wp.load_module(payload, mac)
    assert reason in str(info.value)


def test_closed_module_does_not_pickle():
    module = Module(Engine(), WAT)
    module.close()
    with pytest.raises(ValueError):
        pickle.dumps(module)


def add_in_child(args):
    module, a, b = args
    store = Store(Engine.shared())
    return os.getpid(), Instance(store, module, []).exports(store)["add"](store, a, b)


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_process_pools(method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available here")
    module = Module(Engine(), WAT)
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        results = pool.map(add_in_child, [(module, i, i) for i in range(6)])
    assert [r for _, r in results] == [2 * i for i in range(6)]
    assert all(pid != os.getpid() for pid, _ in results)


def test_child_with_another_key_refuses(run_python):
    data = pickle.dumps(Module(Engine(), WAT))
    r = run_python(
        "import pickle, sys, os\n"
        "os.environ['WASMTIME_PICKLE_KEY'] = '00' * 32\n"
        "import wasmtime\n"
        "try:\n"
        f"    pickle.loads(bytes.fromhex('{data.hex()}'))\n"
        "except pickle.UnpicklingError as e:\n"
        "    print('refused', 'HMAC' in str(e))\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["refused", "True"]


def test_import_creates_a_key_children_inherit():
    env = {k: v for k, v in os.environ.items() if k != wp.KEY_ENV}
    code = (
        "import os, subprocess, sys, wasmtime\n"
        "key = os.environ['WASMTIME_PICKLE_KEY']\n"
        "assert len(bytes.fromhex(key)) == 32\n"
        "out = subprocess.run([sys.executable, '-c', "
        "'import os; print(os.environ[\"WASMTIME_PICKLE_KEY\"])'], capture_output=True, "
        "text=True).stdout.strip()\n"
        "print(out == key)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"


def test_process_pool_example():
    r = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "examples", "process_pool.py"),
            "--workers",
            "2",
            "6*7",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    assert "=> 42" in r.stdout
    assert "compiled in" in r.stdout


def test_dask_cluster_example():
    pytest.importorskip("distributed", reason="./dev test installs dask[distributed]")
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "dask_cluster.py"), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd="/",
    )
    assert r.returncode == 0, r.stderr[-4000:]
    assert "=> 42" in r.stdout
    assert "=> WASM on dask" in r.stdout
    pids = {line.split("]")[0] for line in r.stdout.splitlines() if "[pid" in line}
    assert len(pids) >= 1
