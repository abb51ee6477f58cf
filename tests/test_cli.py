"""`python -m wasmtime run`, run as a subprocess like a user would."""

import os
import signal
import subprocess
import sys
import time

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


# ---- options closer to `wasmtime run` (docs/cli.md) -----------------------------------------------


def test_version_flags():
    for flag in ("--version", "-V"):
        p = cli(flag)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == "wasmtime-native %s (Wasmtime %s)" % (
            wasmtime.__version__,
            wasmtime.WASMTIME_VERSION,
        )


def test_run_is_implicit(calc):
    p = cli("--invoke", "neg", calc, "5")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "-5\n"
    p = cli(calc)  # no _start: instantiates and exits 0, like `wasmtime calc.wat`
    assert p.returncode == 0, p.stderr


def test_module_from_stdin():
    p = cli("run", "--invoke", "neg", "-", "7", input=CALC_WAT)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "-7\n"
    wasm = bytes(wasmtime.wat2wasm(CALC_WAT))
    p = subprocess.run(
        [sys.executable, "-m", "wasmtime", "--invoke", "neg", "-", "8"],
        input=wasm,
        capture_output=True,
        env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT),
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"-8\n"


def test_wat_errors_name_the_file(tmp_path):
    bad = tmp_path / "broken.wat"
    bad.write_text('(module (func (export "f") i32.add)\n  (oops))')
    p = cli("run", str(bad))
    assert p.returncode == 1
    assert str(bad) in p.stderr
    assert "<anon>" not in p.stderr
    p = cli("run", "-", input="(module (oops))")
    assert p.returncode == 1
    assert "<stdin>" in p.stderr and "<anon>" not in p.stderr


def test_env_name_unset_on_the_host_stays_unset(wasi_program):
    env = dict(os.environ)
    env.pop("CLI_SURELY_UNSET", None)
    p = cli("run", "--env", "CLI_SURELY_UNSET", "--env", "SET=1", wasi_program("args_env"))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert "env:SET=1" in lines
    assert not any(line.startswith("env:CLI_SURELY_UNSET") for line in lines)


def test_argv0(wasi_program):
    p = cli("run", "--argv0", "custom-name", wasi_program("args_env"), "x")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[:3] == ["argc=2", "argv[0]=custom-name", "argv[1]=x"]


def test_wasi_inherit_env(wasi_program):
    prog = wasi_program("args_env")
    p = cli("run", "-S", "inherit-env", prog, env_extra={"CLI_INHERITED": "yes"})
    assert p.returncode == 0, p.stderr
    assert "env:CLI_INHERITED=yes" in p.stdout.splitlines()
    # --env still wins over the inherited value.
    p = cli(
        "run", "-S", "inherit-env=y", "--env", "CLI_INHERITED=over", prog,
        env_extra={"CLI_INHERITED": "yes"},
    )  # fmt: skip
    assert "env:CLI_INHERITED=over" in p.stdout.splitlines()
    p = cli("run", "-S", "inherit-env=n", prog, env_extra={"CLI_INHERITED": "yes"})
    assert "CLI_INHERITED" not in p.stdout


def test_wasi_inherit_network_and_cli(wasi_program):
    p = cli("run", "-S", "inherit-network,cli=y", wasi_program("exit_code"), "3")
    assert p.returncode == 3, p.stderr


@pytest.mark.parametrize("opt", ["-S", "-W"])
def test_unsupported_keys_are_named(calc, opt):
    p = cli("run", opt, "no-such-thing=1", calc)
    assert p.returncode == 1
    assert "unsupported %s option 'no-such-thing'" % opt in p.stderr
    assert "docs/cli.md" in p.stderr


def test_wasi_cli_off_is_refused(calc):
    p = cli("run", "-S", "cli=n", calc)
    assert p.returncode == 1
    assert "cli=n is not supported" in p.stderr


def test_w_fuel(calc):
    p = cli("run", "-W", "fuel=500", "--invoke", "spin", calc, timeout=60)
    assert p.returncode == 134
    assert "fuel" in p.stderr
    p = cli("run", "-W", "fuel=1000000", "--invoke", "count", calc, "1000")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "1000\n"
    p = cli("run", "-W", "fuel=lots", calc)
    assert p.returncode == 1
    assert "fuel expects a number" in p.stderr


def test_w_timeout(calc):
    p = cli("run", "-W", "timeout=200ms", "--invoke", "spin", calc, timeout=60)
    assert p.returncode == 134
    assert "interrupt" in p.stderr
    p = cli("run", "-W", "timeout=10s", "--invoke", "neg", calc, "2")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "-2\n"
    p = cli("run", "-W", "timeout=soon", calc)
    assert p.returncode == 1
    assert "duration" in p.stderr


def test_ctrl_c_stops_a_spinning_run(calc):
    # `run` uses an interruptible engine by default: SIGINT stops pure wasm.
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.Popen(
        [sys.executable, "-m", "wasmtime", "run", "--invoke", "spin", calc],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        time.sleep(2.0)  # compiled and spinning by now
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "interrupted" in err


def test_w_interruptible_off_and_conflicts(calc):
    p = cli("run", "-W", "interruptible=n", "--invoke", "neg", calc, "4")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "-4\n"
    p = cli("run", "-W", "interruptible=n,timeout=200ms", "--invoke", "spin", calc, timeout=60)
    assert p.returncode == 134
    assert "interrupt" in p.stderr
    p = cli("run", "-W", "interruptible,epoch-interruption", "--invoke", "neg", calc, "4")
    assert p.returncode == 1
    assert "exclude each other" in p.stderr


def test_w_epoch_interruption_alone(calc):
    # Deadline one tick ahead and nobody ticking: the program just runs.
    p = cli("run", "-W", "epoch-interruption", "--invoke", "neg", calc, "3")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "-3\n"


SIMD_WAT = """(module (func (export "f") (result i32)
  v128.const i32x4 1 2 3 4 i32x4.extract_lane 2))"""


def test_w_wasm_features(tmp_path):
    simd = tmp_path / "simd.wat"
    simd.write_text(SIMD_WAT)
    p = cli("run", "--invoke", "f", str(simd))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "3\n"
    p = cli("run", "-W", "simd=n", "--invoke", "f", str(simd))
    assert p.returncode == 1
    assert "simd support is not enabled" in p.stderr.lower()
    p = cli("run", "-W", "all-proposals=y", "-W", "gc,tail-call=y", "--invoke", "f", str(simd))
    assert p.returncode == 0, p.stderr
    p = cli("run", "-W", "simd=maybe", str(simd))
    assert p.returncode == 1
    assert "expects y or n" in p.stderr


def test_w_nan_canonicalization(tmp_path):
    wat = tmp_path / "nan.wat"
    wat.write_text(
        '(module (func (export "f") (result i32)'
        " f32.const nan:0x200000 f32.const 1 f32.add i32.reinterpret_f32))"
    )
    p = cli("run", "-W", "nan-canonicalization", "--invoke", "f", str(wat))
    assert p.returncode == 0, p.stderr
    assert int(p.stdout) & 0xFFFFFFFF == 0x7FC00000


def test_w_store_limits(tmp_path):
    wat = tmp_path / "mem.wat"
    wat.write_text('(module (memory 2) (func (export "f") (result i32) i32.const 1))')
    p = cli("run", "--invoke", "f", str(wat))
    assert p.returncode == 0, p.stderr
    p = cli("run", "-W", "max-memory-size=65536", "--invoke", "f", str(wat))
    assert p.returncode != 0
    assert "memory" in p.stderr.lower()
    p = cli(
        "run",
        "-W",
        "max-table-elements=10,max-instances=5,max-tables=5,max-memories=5",
        "--invoke",
        "f",
        str(wat),
    )
    assert p.returncode == 0, p.stderr


def test_w_max_wasm_stack(tmp_path):
    wat = tmp_path / "deep.wat"
    wat.write_text(
        '(module (func $r (export "r") (param i32) (result i32)'
        " local.get 0 i32.eqz if (result i32) i32.const 0 else"
        " local.get 0 i32.const 1 i32.sub call $r i32.const 1 i32.add end))"
    )
    p = cli("run", "--invoke", "r", str(wat), "2000")
    assert p.returncode == 0, p.stderr
    p = cli("run", "-W", "max-wasm-stack=16384", "--invoke", "r", str(wat), "200000")
    assert p.returncode == 134
    assert "stack" in p.stderr


def test_w_async_stack_size(tmp_path):
    wat = tmp_path / "f.wat"
    wat.write_text('(module (func (export "f") (result i32) i32.const 3))')
    p = cli("run", "-W", "async-stack-size=16777216", "--invoke", "f", str(wat))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "3\n"
    # below max-wasm-stack: Wasmtime would abort; the CLI reports the error
    p = cli("run", "-W", "max-wasm-stack=1048576,async-stack-size=65536", "--invoke", "f", str(wat))
    assert p.returncode not in (0, 134, -6), p.stderr
    assert "async_stack_size" in p.stderr


def test_w_unknown_imports_trap(tmp_path):
    wat = tmp_path / "imports.wat"
    wat.write_text(
        '(module (import "env" "missing" (func)) (func (export "f") (result i32) i32.const 3))'
    )
    p = cli("run", "-W", "unknown-imports-trap", "--invoke", "f", str(wat))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "3\n"
    p = cli("run", "-W", "unknown-imports-trap=n", "--invoke", "f", str(wat))
    assert p.returncode == 1


def test_preload(tmp_path):
    lib = tmp_path / "lib.wat"
    lib.write_text(
        '(module (func (export "double") (param i32) (result i32) local.get 0 i32.const 2 i32.mul))'
    )
    main = tmp_path / "main.wat"
    main.write_text(
        '(module (import "mylib" "double" (func $d (param i32) (result i32)))'
        ' (func (export "quad") (param i32) (result i32) local.get 0 call $d call $d))'
    )
    p = cli("run", "--preload", "mylib=%s" % lib, "--invoke", "quad", str(main), "5")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "20\n"
    p = cli("run", "--preload", "nopath", str(main))
    assert p.returncode == 1
    assert "NAME=PATH" in p.stderr


def test_compile_and_allow_precompiled(calc, tmp_path):
    out = tmp_path / "calc.cwasm"
    p = cli("compile", calc, "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_bytes()[:4] == b"\x7fELF"
    p = cli("run", "--invoke", "neg", str(out), "6")
    assert p.returncode == 1
    assert "--allow-precompiled" in p.stderr
    p = cli("run", "--allow-precompiled", "--invoke", "neg", str(out), "6")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "-6\n"
    with open(out, "rb") as f:
        blob = f.read()
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "wasmtime",
            "run",
            "--allow-precompiled",
            "--invoke",
            "neg",
            "-",
            "9",
        ],
        input=blob,
        capture_output=True,
        env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT),
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"-9\n"


def test_compile_default_output_name(calc, tmp_path):
    p = cli("compile", calc, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "calc.cwasm").read_bytes()[:4] == b"\x7fELF"
    # Features given at compile time must match at run time, as in wasmtime.
    p = cli("compile", "-W", "simd=n", calc, "-o", str(tmp_path / "nosimd.cwasm"))
    assert p.returncode == 0, p.stderr
