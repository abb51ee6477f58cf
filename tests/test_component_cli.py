"""`python -m wasmtime run` with components: wasi:cli/run and --invoke."""

import os
import subprocess
import sys

import pytest
from component_wat import PLAIN
from conftest import PACKAGE_ROOT


def cli(*args):
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "wasmtime"] + list(args),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def command(result):
    # A wasi:cli/run export whose run() returns ok (0) or err (1).
    return (
        """;; a command component
(component
  (core module $m (func (export "run") (result i32) (i32.const %d)))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-inst))
)"""
        % result
    )


@pytest.mark.parametrize("result,code", [(0, 0), (1, 1)])
def test_run_calls_wasi_cli_run(tmp_path, result, code):
    path = tmp_path / "cmd.wat"
    path.write_text(command(result))
    proc = cli("run", str(path))
    assert proc.returncode == code, proc.stderr


def test_binary_component_is_recognised(tmp_path):
    from wasmtime import wat2wasm

    path = tmp_path / "cmd.wasm"
    path.write_bytes(wat2wasm(command(0)))
    proc = cli("run", str(path))
    assert proc.returncode == 0, proc.stderr


def test_invoke(tmp_path):
    path = tmp_path / "plain.wat"
    path.write_text(PLAIN)
    proc = cli("run", "--invoke", "add", str(path), "2", "40")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "42"
    assert cli("run", "--invoke", "add", str(path), "2").returncode == 1
    assert cli("run", "--invoke", "nope", str(path)).returncode == 1
    proc = cli("run", "--invoke", "trap", str(path))
    assert proc.returncode == 1 and "unreachable" in proc.stderr


def test_component_without_run(tmp_path):
    path = tmp_path / "plain.wat"
    path.write_text(PLAIN)
    proc = cli("run", str(path))
    assert proc.returncode == 1 and "wasi:cli/run" in proc.stderr
