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
        [sys.executable, "-m", "mypy.stubtest", "wasmtime", "--allowlist",
         os.path.join(ROOT, "tools", "stubtest-allowlist.txt")],
        cwd="/", env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Success" in proc.stdout


def test_stubs_ship_with_the_package():
    pkg = os.path.dirname(wasmtime.__file__)
    assert os.path.exists(os.path.join(pkg, "__init__.pyi"))
    assert os.path.exists(os.path.join(pkg, "py.typed"))
