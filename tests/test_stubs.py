"""The hand-written .pyi stubs match the extension (mypy.stubtest)."""

import os
import subprocess
import sys

import pytest

import wasmtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_stubtest_finds_no_difference():
    pytest.importorskip("mypy", reason="mypy is a test dependency installed by ./dev test")
    pkg_parent = os.path.dirname(os.path.dirname(wasmtime.__file__))
    env = dict(os.environ, PYTHONPATH=pkg_parent)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "wasmtime",
            "--allowlist",
            os.path.join(ROOT, "tools", "stubtest-allowlist.txt"),
        ],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Success" in proc.stdout


def test_stubs_ship_with_the_package():
    pkg = os.path.dirname(wasmtime.__file__)
    assert os.path.exists(os.path.join(pkg, "__init__.pyi"))
    assert os.path.exists(os.path.join(pkg, "py.typed"))


def test_stub_all_is_generated_from_the_package():
    # __all__ has one source, src/wasmtime/__init__.py; the stub's copy is
    # written by tools/sync_stubs.py and must be up to date.
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "sync_stubs.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_trapcode_has_one_definition():
    # The stub re-exports the enum of wasmtime/_enums.py instead of copying it.
    with open(os.path.join(ROOT, "src", "wasmtime", "__init__.pyi")) as f:
        stub = f.read()
    assert "class TrapCode" not in stub
    assert "from ._enums import TrapCode as TrapCode" in stub
    assert wasmtime.TrapCode.__module__ == "wasmtime._enums"
