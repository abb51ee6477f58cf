"""Pickling of compiled modules, and the process-wide engines they attach to.

A pickled ``Module`` is its compiled artifact (``Module.serialize()``), the
options of the Config its Engine was built from, the Wasmtime version and the
machine, all covered by an HMAC-SHA256 under the pickle key.  Unpickling
checks the MAC first, then that this process can rebuild that configuration;
only then do the bytes reach Wasmtime's deserializer, which trusts its input.

The key is ``os.environ[KEY_ENV]`` (hex, or any other text taken as UTF-8),
so child processes (fork, spawn, forkserver, Dask's local workers) inherit
it; ``wasmtime/__init__.py`` creates a random one at import when it is unset.
``wasmtime.set_pickle_key(key)`` sets it for remote workers.
"""

import hashlib
import hmac
import json
import os
import pickle
import platform
import threading

from . import WASMTIME_VERSION, Config, Engine, Module

KEY_ENV = "WASMTIME_PICKLE_KEY"
_MAGIC = b"wasmtime-native module pickle 1\n"
_FLAG_ENABLE = "cranelift_flag_enable:"
_FLAG_SET = "cranelift_flag_set:"

_shared: dict = {}
_shared_lock = threading.Lock()


def _current_key():
    text = os.environ.get(KEY_ENV)
    if not text:
        raise pickle.PicklingError(
            f"no pickle key: {KEY_ENV} is unset (call wasmtime.set_pickle_key(key))"
        )
    try:
        return bytes.fromhex(text)
    except ValueError:
        return text.encode("utf-8")


def set_pickle_key(key):
    """Set the key that authenticates pickled modules in this process and the
    child processes it starts afterwards (through ``os.environ``)."""
    if isinstance(key, str):
        raise TypeError("the pickle key must be bytes, not str")
    key = bytes(memoryview(key))
    if len(key) < 16:
        raise ValueError("the pickle key must be at least 16 bytes long")
    os.environ[KEY_ENV] = key.hex()


def _config_from(options):
    config = Config()
    for name, value in options:
        if name.startswith(_FLAG_ENABLE):
            config.cranelift_flag_enable(name[len(_FLAG_ENABLE) :])
        elif name.startswith(_FLAG_SET):
            config.cranelift_flag_set(name[len(_FLAG_SET) :], value)
        elif name.startswith("_") or not hasattr(Config, name) or name == "close":
            raise ValueError(f"unknown Config option {name!r}")
        else:
            setattr(config, name, value)
    return config


def shared_engine(options):
    """The Engine of this process for a configuration (see Engine.shared)."""
    options = tuple((str(n), v) for n, v in options)
    with _shared_lock:
        engine = _shared.get(options)
        if engine is None:
            engine = Engine(_config_from(options))
            _shared[options] = engine
        return engine


def reduce_module(module, engine):
    """Module.__reduce__: (load_module, (payload, mac))."""
    header = json.dumps(
        {
            "wasmtime": WASMTIME_VERSION,
            "machine": platform.machine(),
            "options": [list(item) for item in engine._config_options],
        },
        sort_keys=True,
    ).encode()
    payload = b"".join([_MAGIC, len(header).to_bytes(4, "little"), header, module.serialize()])
    mac = hmac.new(_current_key(), payload, hashlib.sha256).digest()
    return (load_module, (payload, mac))


def _refuse(reason):
    return pickle.UnpicklingError(f"refusing to unpickle a wasmtime.Module: {reason}")


def load_module(payload, mac):
    """Check a pickled module, then deserialize it into the shared engine of
    its configuration.  Raises pickle.UnpicklingError, never reaching
    Wasmtime, when the MAC or the configuration does not fit."""
    if type(payload) is not bytes or type(mac) is not bytes:
        raise _refuse("malformed pickle")
    try:
        key = _current_key()
    except pickle.PicklingError as e:
        raise _refuse(str(e)) from None
    expected = hmac.new(key, payload, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, mac):
        raise _refuse(
            "its HMAC does not match: it was made with another pickle key "
            f"({KEY_ENV}, wasmtime.set_pickle_key) or altered"
        )
    if not payload.startswith(_MAGIC) or len(payload) < len(_MAGIC) + 4:
        raise _refuse("not a module pickle of this format")
    start = len(_MAGIC) + 4
    size = int.from_bytes(payload[len(_MAGIC) : start], "little")
    try:
        header = json.loads(payload[start : start + size])
        version, machine = header["wasmtime"], header["machine"]
        options = tuple((n, v) for n, v in header["options"])
    except (ValueError, KeyError, TypeError):
        raise _refuse("malformed header") from None
    if version != WASMTIME_VERSION:
        raise _refuse(
            f"foreign configuration: made by Wasmtime {version}, this is {WASMTIME_VERSION}"
        )
    if machine != platform.machine():
        raise _refuse(f"foreign configuration: made on {machine}, this is {platform.machine()}")
    try:
        engine = shared_engine(options)
    except Exception as e:
        raise _refuse(f"foreign configuration: cannot build its engine here ({e})") from e
    return Module.deserialize(engine, payload[start + size :])
