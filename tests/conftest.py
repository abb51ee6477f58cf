"""Shared fixtures and helpers for the wasmtime-native test suite."""

import os
import subprocess
import sys

import pytest

import wasmtime

# The directory that holds the `wasmtime` package under test, so that child
# interpreters import the very same build.
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(wasmtime.__file__)))


@pytest.fixture
def engine():
    eng = wasmtime.Engine()
    yield eng
    eng.close()


@pytest.fixture
def store(engine):
    st = wasmtime.Store(engine)
    yield st
    st.close()


def _run_python(code, timeout=120):
    """Run `code` in a fresh interpreter; return the CompletedProcess.

    Used for behaviour that could take the whole process down (a Rust panic
    aborts), so that a crash fails one test instead of the whole run.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["RUST_BACKTRACE"] = "0"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def run_python():
    return _run_python
