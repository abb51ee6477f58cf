"""`python -m wasmtime run`: run a WebAssembly program, like `wasmtime run`.

    python -m wasmtime run [--dir HOST[::GUEST]] [--env K[=V]] [--invoke NAME]
                           [--fuel N] [--trap-unknown-imports] FILE [ARGS...]

A WASI command runs its `_start` and the process exits with the guest's exit
status.  With `--invoke`, the module is instantiated (a reactor's
`_initialize` runs first), the export is called with ARGS parsed by its
parameter types, and each result is printed on its own line.  A trap exits
with status 134, as `wasmtime run` does; other errors exit with status 1.
"""

import argparse
import os
import sys
from typing import Optional, Sequence

import wasmtime

if not hasattr(wasmtime, "_ext"):
    # PyPI's wasmtime was installed over ours (its __init__.py now runs), or
    # was then uninstalled (taking our __init__.py with it): this file is a
    # leftover of wasmtime-native.
    sys.exit(
        "error: `import wasmtime` no longer gives wasmtime-native: PyPI's wasmtime was "
        "installed over it (or installed and then uninstalled) in %s. Keep one: "
        "`pip uninstall -y wasmtime wasmtime-native` and then `pip install wasmtime-native` "
        "(or `pip install wasmtime`)." % os.path.dirname(os.path.abspath(__file__))
    )


def version_text() -> str:
    return "wasmtime-native %s (Wasmtime %s)" % (wasmtime.__version__, wasmtime.WASMTIME_VERSION)


def _parse_value(text: str, ty: wasmtime.ValType) -> object:
    kind = str(ty)
    if kind in ("i32", "i64"):
        return int(text, 0)
    if kind in ("f32", "f64"):
        return float(text)
    raise ValueError("cannot pass a %s from the command line" % kind)


def _format_value(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def _fuel(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError("invalid fuel amount %r" % text) from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError("fuel must be between 0 and 2**64-1")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wasmtime",
        description="Run WebAssembly with wasmtime-native (Wasmtime %s)."
        % wasmtime.WASMTIME_VERSION,
    )
    parser.add_argument("--version", action="version", version=version_text())
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a WebAssembly module (binary or WAT)")
    run.add_argument(
        "--dir",
        action="append",
        default=[],
        metavar="HOST[::GUEST]",
        help="give the guest a host directory (GUEST defaults to HOST)",
    )
    run.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME[=VAL]",
        help="set an environment variable (NAME alone copies the host's)",
    )
    run.add_argument(
        "--invoke", metavar="NAME", help="call this export instead of the command's _start"
    )
    run.add_argument(
        "--fuel", type=_fuel, metavar="N", help="run with N units of fuel; running out traps"
    )
    run.add_argument(
        "--trap-unknown-imports",
        action="store_true",
        help="define missing function imports as functions that trap",
    )
    run.add_argument("file", help="the .wasm or .wat file")
    run.add_argument(
        "args", nargs=argparse.REMAINDER, help="arguments for the program (or for --invoke)"
    )
    return parser


def _wasi_config(opts: argparse.Namespace) -> wasmtime.WasiConfig:
    wasi = wasmtime.WasiConfig()
    argv0 = os.path.basename(opts.file)
    wasi.argv = [argv0] + ([] if opts.invoke else list(opts.args))
    env = []
    for item in opts.env:
        name, sep, value = item.partition("=")
        if not sep:
            value = os.environ.get(name, "")
        env.append((name, value))
    wasi.env = env
    for spec in opts.dir:
        host, sep, guest = spec.partition("::")
        wasi.preopen_dir(host, guest if sep else host)
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    return wasi


def run(opts: argparse.Namespace) -> int:
    config = wasmtime.Config()
    try:
        config.cache = True  # compiled code is reused on the next run
    except wasmtime.WasmtimeError:
        pass
    if opts.fuel is not None:
        config.consume_fuel = True
    engine = wasmtime.Engine(config)
    module = wasmtime.Module.from_file(engine, opts.file)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    if opts.trap_unknown_imports:
        linker.define_unknown_imports_as_traps(module)
    store = wasmtime.Store(engine)
    if opts.fuel is not None:
        store.set_fuel(opts.fuel)
    store.set_wasi(_wasi_config(opts))
    instance = linker.instantiate(store, module)
    exports = instance.exports(store)

    if opts.invoke is None:
        start = exports.get("_start")
        if isinstance(start, wasmtime.Func):
            start(store)
        else:
            init = exports.get("_initialize")
            if isinstance(init, wasmtime.Func):
                init(store)
        return 0

    init = exports.get("_initialize")
    if isinstance(init, wasmtime.Func):
        init(store)
    func = exports.get(opts.invoke)
    if not isinstance(func, wasmtime.Func):
        print("error: no exported function named %r" % opts.invoke, file=sys.stderr)
        return 1
    params = func.type(store).params
    if len(params) != len(opts.args):
        print(
            "error: %s takes %d argument(s), %d given" % (opts.invoke, len(params), len(opts.args)),
            file=sys.stderr,
        )
        return 1
    try:
        values = [_parse_value(a, t) for a, t in zip(opts.args, params)]
    except ValueError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    result = func(store, *values)
    results = result if isinstance(result, list) else ([] if result is None else [result])
    for value in results:
        print(_format_value(value))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    opts = _build_parser().parse_args(list(argv) if argv is not None else None)
    try:
        return run(opts)
    except wasmtime.ExitTrap as e:
        return e.code
    except wasmtime.Trap as e:
        sys.stdout.flush()
        print("Error: failed to run main module `%s`\n\n%s" % (opts.file, e), file=sys.stderr)
        return 134
    except (wasmtime.WasmtimeError, OSError) as e:
        sys.stdout.flush()
        print("Error: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
