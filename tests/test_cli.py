"""`python -m wasmtime run`, run as a subprocess like a user would."""

import os
import subprocess
import sys

import pytest

import wasmtime

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(wasmtime.__file__)))

CALC_WAT = """
(module
  (func (export "mix") (param i32 i64 f32 f64) (result i32 i64 f32 f64)
    local.get 0 i32.const 1 i32.add
    local.get 1 i64.const 2 i64.mul
    local.get 2 f32.const 0.5 f32.add
    local.get 3 f64.sqrt)
  (func (export "neg") (param i32) (result i32) i32.const 0 local.get 0 i32.sub)
  (func (export "nothing"))
  (func $inner unreachable)
  (func (export "boom") call $inner)
  (func (export "spin") (loop br 0))
  (func (export "count") (param i32) (result i32) (local i32)
    (loop
      local.get 1 i32.const 1 i32.add local.set 1
      local.get 1 local.get 0 i32.lt_u br_if 0)
    local.get 1)
  (global (export "not_a_func") i32 (i32.const 1)))
"""


def cli(*args, input=None, cwd=None, timeout=120, env_extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT
    env.pop("PYTHONSTARTUP", None)
    if env_extra:
        env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "wasmtime"] + list(args),
        input=input,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def calc(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "calc.wat"
    path.write_text(CALC_WAT)
    return str(path)


# ---- WASI commands --------------------------------------------------------------------


def test_wasi_program_args_and_env(wasi_program):
    prog = wasi_program("args_env")
    p = cli(
        "run",
        "--env",
        "GREETING=hi there",
        "--env",
        "EMPTY=",
        prog,
        "one",
        "two words",
        "--not-an-option-for-us",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "argc=4",
        "argv[0]=args_env.wasm",
        "argv[1]=one",
        "argv[2]=two words",
        "argv[3]=--not-an-option-for-us",
        "env:GREETING=hi there",
        "env:EMPTY=",
    ]
    assert p.stderr == ""


def test_env_without_value_copies_the_hosts(wasi_program):
    p = cli(
        "run",
        "--env",
        "CLI_TEST_VAR",
        wasi_program("args_env"),
        env_extra={"CLI_TEST_VAR": "from host", "CLI_TEST_OTHER": "hidden"},
    )
    assert p.returncode == 0, p.stderr
    assert "env:CLI_TEST_VAR=from host" in p.stdout.splitlines()
    assert "CLI_TEST_OTHER" not in p.stdout


def test_stdin_and_stderr_are_inherited(wasi_program):
    p = cli("run", wasi_program("upper"), input="shout this\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "SHOUT THIS\n"
    assert p.stderr == "read 11 bytes\n"


@pytest.mark.parametrize("code", [0, 1, 7, 42])
def test_exit_code_propagates(wasi_program, code):
    p = cli("run", wasi_program("exit_code"), str(code))
    assert p.returncode == code, p.stderr
    assert p.stdout == "exiting with %d\n" % code


def test_dir_gives_file_access(wasi_program, tmp_path):
    host = tmp_path / "share"
    host.mkdir()
    (host / "in.txt").write_text("from the host")
    files = wasi_program("files")
    p = cli("run", "--dir", "%s::/sandbox" % host, files, "read", "/sandbox/in.txt")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "from the host"
    p = cli("run", "--dir", "%s::/sandbox" % host, files, "write", "/sandbox/out.txt", "hello")
    assert p.returncode == 0, p.stderr
    assert (host / "out.txt").read_text() == "hello"
    # Without --dir the guest sees no files at all.
    p = cli("run", files, "read", str(host / "in.txt"))
    assert p.returncode == 1
    assert p.stderr.startswith("error: open: ")


def test_dir_without_guest_path(wasi_program, tmp_path):
    (tmp_path / "f.txt").write_text("same path")
    p = cli("run", "--dir", str(tmp_path), wasi_program("files"), "read", str(tmp_path / "f.txt"))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "same path"


def test_dir_that_does_not_exist(wasi_program, tmp_path):
    p = cli("run", "--dir", "%s::/x" % (tmp_path / "missing"), wasi_program("args_env"))
    assert p.returncode == 1
    assert p.stderr.startswith("Error: ")
    assert p.stdout == ""


# ---- --invoke ---------------------------------------------------------------------------


def test_invoke_prints_each_result(calc):
    p = cli("run", "--invoke", "mix", calc, "41", "0x10", "1.25", "2")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["42", "32", "1.75", "1.4142135623730951"]


def test_invoke_negative_and_wrapping_arguments(calc):
    p = cli("run", "--invoke", "neg", calc, "-5")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "5\n"
    p = cli("run", "--invoke", "mix", calc, "4294967295", "-3", "-0.5", "0")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["0", "-6", "0.0", "0.0"]


def test_invoke_no_results(calc):
    p = cli("run", "--invoke", "nothing", calc)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""


@pytest.mark.parametrize("args", [[], ["1"], ["1", "2", "3"], ["1", "2", "3", "4", "5"]])
def test_invoke_wrong_argument_count(calc, args):
    p = cli("run", "--invoke", "mix", calc, *args)
    assert p.returncode == 1
    assert "mix" in p.stderr and "4" in p.stderr
    assert p.stdout == ""


def test_invoke_unparsable_argument(calc):
    p = cli("run", "--invoke", "neg", calc, "seven")
    assert p.returncode == 1
    assert "seven" in p.stderr
    p = cli("run", "--invoke", "mix", calc, "1", "2", "x", "4")
    assert p.returncode == 1


def test_invoke_missing_export(calc):
    for name in ("nope", "not_a_func"):
        p = cli("run", "--invoke", name, calc)
        assert p.returncode == 1
        assert name in p.stderr


def test_trap_exits_134_with_the_trap_text(calc):
    p = cli("run", "--invoke", "boom", calc)
    assert p.returncode == 134
    assert "unreachable" in p.stderr
    assert "wasm backtrace" in p.stderr
    assert p.stdout == ""


def test_fuel(calc):
    p = cli("run", "--fuel", "500", "--invoke", "spin", calc, timeout=60)
    assert p.returncode == 134
    assert "fuel" in p.stderr
    # Enough fuel for a bounded loop.
    p = cli("run", "--fuel", "1000000", "--invoke", "count", calc, "1000")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "1000\n"
    p = cli("run", "--fuel", "1000", "--invoke", "count", calc, "1000")
    assert p.returncode == 134


@pytest.mark.parametrize("fuel", ["-1", str(2**64)])
def test_fuel_out_of_range_is_a_clean_error(calc, fuel):
    p = cli("run", "--fuel", fuel, "--invoke", "neg", calc, "1")
    assert p.returncode in (1, 2)
    assert "Traceback" not in p.stderr
    assert "fuel" in p.stderr.lower()


def test_fuel_in_a_wasi_program(wasi_program):
    p = cli("run", "--fuel", "100", wasi_program("args_env"))
    assert p.returncode == 134
    assert "fuel" in p.stderr


def test_wasi_program_under_invoke(wasi_program):
    """--invoke calls any export of a command, with an empty argv."""
    p = cli("run", "--invoke", "_start", wasi_program("args_env"))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "argc=1\nargv[0]=args_env.wasm\n"


# ---- errors and help ------------------------------------------------------------------------


def test_missing_file(tmp_path):
    p = cli("run", str(tmp_path / "nope.wasm"))
    assert p.returncode == 1
    assert p.stderr.startswith("Error: ")
    assert "nope.wasm" in p.stderr


def test_invalid_module(tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\xff\xff")
    p = cli("run", str(bad))
    assert p.returncode == 1
    assert p.stderr.startswith("Error: ")
    text = tmp_path / "bad.wat"
    text.write_text('(module (func (export "f") i32.add))')
    p = cli("run", "--invoke", "f", str(text))
    assert p.returncode == 1


def test_missing_import(tmp_path):
    wat = tmp_path / "imports.wat"
    wat.write_text(
        '(module (import "env" "missing" (func)) (func (export "f") (result i32) i32.const 3))'
    )
    p = cli("run", "--invoke", "f", str(wat))
    assert p.returncode == 1
    assert "env::missing" in p.stderr
    p = cli("run", "--trap-unknown-imports", "--invoke", "f", str(wat))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "3\n"


def test_help():
    p = cli("--help")
    assert p.returncode == 0
    assert "run" in p.stdout
    p = cli("run", "--help")
    assert p.returncode == 0
    for option in ("--dir", "--env", "--invoke", "--fuel", "--trap-unknown-imports"):
        assert option in p.stdout


def test_no_command_is_a_usage_error():
    p = cli()
    assert p.returncode == 2
    assert "usage" in p.stderr


# ---- the real Ruby interpreter ---------------------------------------------------------------------


def test_ruby_show_version(npm_wasm):
    ruby = npm_wasm("ruby")
    # The first run may compile 16 MB of wasm (then cached by the CLI).
    p = cli(
        "run",
        "--trap-unknown-imports",
        "--invoke",
        "ruby-show-version: func() -> ()",
        ruby,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("ruby 3.4"), p.stdout
    assert "wasm32-wasi" in p.stdout
