"""`python -m wasmtime`: run or compile WebAssembly, like the `wasmtime` CLI.

    python -m wasmtime [run] [OPTIONS] FILE|- [ARGS...]
    python -m wasmtime compile [-W OPT] FILE -o OUT.cwasm
    python -m wasmtime --version

A WASI command runs its `_start` and the process exits with the guest's exit
status.  A component (recognised by its layer byte, or WAT text starting
with `(component`) runs with WASIp2: its `wasi:cli/run` export is called and
the process exits with 0 for `ok`, 1 for `err`.  With `--invoke`, the module is instantiated (a reactor's
`_initialize` runs first), the export is called with ARGS parsed by its
parameter types, and each result is printed on its own line.  A trap exits
with status 134, as `wasmtime run` does; other errors exit with status 1.
docs/cli.md lists every `wasmtime run` option and what we do with it.
"""

import argparse
import os
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

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


class CliError(Exception):
    """A usage problem reported as `Error: ...` with exit status 1."""


# ---- -W and -S options -----------------------------------------------------------

# -W KEY for a wasm proposal -> the Config attribute that switches it.
FEATURES = {
    "threads": "wasm_threads",
    "tail-call": "wasm_tail_call",
    "reference-types": "wasm_reference_types",
    "simd": "wasm_simd",
    "bulk-memory": "wasm_bulk_memory",
    "multi-value": "wasm_multi_value",
    "multi-memory": "wasm_multi_memory",
    "memory64": "wasm_memory64",
    "relaxed-simd": "wasm_relaxed_simd",
    "relaxed-simd-deterministic": "wasm_relaxed_simd_deterministic",
    "exceptions": "wasm_exceptions",
    "function-references": "wasm_function_references",
    "gc": "wasm_gc",
    "wide-arithmetic": "wasm_wide_arithmetic",
    "custom-page-sizes": "wasm_custom_page_sizes",
    "stack-switching": "wasm_stack_switching",
}
# -W KEY=N that become Store.set_limits(...) keywords.
LIMITS = {
    "max-memory-size": "memory_size",
    "max-table-elements": "table_elements",
    "max-instances": "instances",
    "max-tables": "tables",
    "max-memories": "memories",
}
W_KEYS = sorted(
    list(FEATURES)
    + list(LIMITS)
    + [
        "all-proposals",
        "fuel",
        "timeout",
        "max-wasm-stack",
        "async-stack-size",
        "nan-canonicalization",
        "epoch-interruption",
        "interruptible",
        "unknown-imports-trap",
    ]
)
S_KEYS = ["cli", "inherit-env", "inherit-network"]


def _split_opts(items: List[str], flag: str, known: List[str]) -> List[Tuple[str, Optional[str]]]:
    """`-W a=1,b` given any number of times -> [("a", "1"), ("b", None)]."""
    out = []
    for item in items:
        for part in item.split(","):
            key, sep, value = part.partition("=")
            key = key.strip()
            if key not in known:
                raise CliError(
                    "unsupported %s option %r (supported: %s; see docs/cli.md)"
                    % (flag, key, ", ".join(known))
                )
            out.append((key, value if sep else None))
    return out


def _bool(key: str, value: Optional[str]) -> bool:
    if value is None or value.lower() in ("y", "yes", "true", "on"):
        return True
    if value.lower() in ("n", "no", "false", "off"):
        return False
    raise CliError("option %s expects y or n, not %r" % (key, value))


def _int(key: str, value: Optional[str], limit: int = 2**64) -> int:
    try:
        n = int(value or "", 0)
    except ValueError:
        raise CliError("option %s expects a number, not %r" % (key, value)) from None
    if not 0 <= n < limit:
        raise CliError("option %s is out of range: %s" % (key, value))
    return n


def _duration(key: str, value: Optional[str]) -> float:
    text = (value or "").strip()
    for suffix, scale in (("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("s", 1.0), ("m", 60.0)):
        if text.endswith(suffix):
            text, unit = text[: -len(suffix)], scale
            break
    else:
        unit = 1.0
    try:
        seconds = float(text) * unit
    except ValueError:
        raise CliError(
            "option %s expects a duration like 10s or 500ms, not %r" % (key, value)
        ) from None
    if seconds <= 0:
        raise CliError("option %s must be positive" % key)
    return seconds


class Settings:
    """What -W (and the older --fuel / --trap-unknown-imports) ask for."""

    def __init__(self, opts: argparse.Namespace) -> None:
        self.features: Dict[str, bool] = {}
        self.limits: Dict[str, int] = {}
        self.fuel: Optional[int] = getattr(opts, "fuel", None)
        self.timeout: Optional[float] = None
        self.max_wasm_stack: Optional[int] = None
        self.async_stack_size: Optional[int] = None
        self.nan_canonicalization = False
        self.epoch = False
        # Ctrl-C and signal handlers stop running wasm (Config.interruptible)
        # unless epochs are asked for by hand or this is switched off.
        self.interruptible: Optional[bool] = None
        self.trap_unknown = bool(getattr(opts, "trap_unknown_imports", False))
        for key, value in _split_opts(opts.wasm, "-W", W_KEYS):
            if key in FEATURES:
                self.features[key] = _bool(key, value)
            elif key == "all-proposals":
                if _bool(key, value):
                    for name in FEATURES:
                        self.features.setdefault(name, True)
            elif key in LIMITS:
                self.limits[LIMITS[key]] = _int(key, value, 2**63)
            elif key == "fuel":
                self.fuel = _int(key, value)
            elif key == "timeout":
                self.timeout = _duration(key, value)
            elif key == "max-wasm-stack":
                self.max_wasm_stack = _int(key, value, 2**63)
            elif key == "async-stack-size":
                self.async_stack_size = _int(key, value, 2**63)
            elif key == "nan-canonicalization":
                self.nan_canonicalization = _bool(key, value)
            elif key == "epoch-interruption":
                self.epoch = _bool(key, value)
            elif key == "interruptible":
                self.interruptible = _bool(key, value)
            elif key == "unknown-imports-trap":
                self.trap_unknown = _bool(key, value)
        if self.interruptible is None:
            self.interruptible = not self.epoch
        elif self.interruptible and self.epoch:
            raise CliError("-W interruptible and -W epoch-interruption exclude each other")
        if self.features.get("simd") is False:
            # Relaxed SIMD builds on SIMD: switching SIMD off takes it along
            # unless it was asked for (then Wasmtime names the conflict).
            self.features.setdefault("relaxed-simd", False)

    def engine(self) -> wasmtime.Engine:
        config = wasmtime.Config()
        try:
            config.cache = True  # compiled code is reused on the next run
        except wasmtime.WasmtimeError:
            pass
        for key, on in self.features.items():
            setattr(config, FEATURES[key], on)
        if self.fuel is not None:
            config.consume_fuel = True
        if self.interruptible:
            config.interruptible = True
        elif self.timeout is not None or self.epoch:
            config.epoch_interruption = True
        if self.max_wasm_stack is not None:
            config.max_wasm_stack = self.max_wasm_stack
        if self.async_stack_size is not None:
            config.async_stack_size = self.async_stack_size
        if self.nan_canonicalization:
            config.cranelift_nan_canonicalization = True
        return wasmtime.Engine(config)


# ---- loading modules ---------------------------------------------------------------

ELF_MAGIC = b"\x7fELF"
WASM_MAGIC = b"\0asm"


def load_module(engine: wasmtime.Engine, path: str, allow_precompiled: bool) -> wasmtime.Module:
    """A module from a .wasm, .wat or (with allow_precompiled) .cwasm file, or stdin."""
    name = "<stdin>" if path == "-" else path
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    if data[:4] == ELF_MAGIC:
        if not allow_precompiled:
            raise CliError(
                "`%s` is a precompiled module (.cwasm); running it needs --allow-precompiled, "
                "and it must come from a trusted source" % name
            )
        if path == "-":
            return wasmtime.Module.deserialize(engine, data)
        return wasmtime.Module.deserialize_file(engine, path)
    if data[:4] != WASM_MAGIC:
        try:
            data = bytes(wasmtime.wat2wasm(data))
        except wasmtime.WasmtimeError as e:
            # Wasmtime names text it parses `<anon>`; name the file instead.
            raise CliError(
                "failed to parse `%s` as WebAssembly text:\n%s"
                % (name, str(e).replace("<anon>", name))
            ) from None
    return wasmtime.Module(engine, data)


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


def _add_wasm_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-W",
        "--wasm",
        action="append",
        default=[],
        metavar="KEY[=VAL[,..]]",
        help="wasm semantics and limits: %s" % ", ".join(W_KEYS),
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wasmtime",
        description="Run WebAssembly with wasmtime-native (Wasmtime %s). "
        "`python -m wasmtime FILE` is short for `python -m wasmtime run FILE`."
        % wasmtime.WASMTIME_VERSION,
    )
    parser.add_argument("-V", "--version", action="version", version=version_text())
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a WebAssembly module (binary, WAT or .cwasm)")
    _add_wasm_option(run)
    run.add_argument(
        "-S",
        "--wasi",
        action="append",
        default=[],
        metavar="KEY[=VAL[,..]]",
        help="WASI options: %s" % ", ".join(S_KEYS),
    )
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
        help="set an environment variable (NAME alone copies the host's, if set)",
    )
    run.add_argument(
        "--invoke", metavar="NAME", help="call this export instead of the command's _start"
    )
    run.add_argument("--argv0", metavar="NAME", help="argv[0] for the guest (default: FILE's name)")
    run.add_argument(
        "--preload",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="instantiate the module at PATH first and let the main module import it as NAME",
    )
    run.add_argument(
        "--allow-precompiled",
        action="store_true",
        help="allow running a precompiled .cwasm (from `compile`; trusted input only)",
    )
    run.add_argument("--fuel", type=_fuel, metavar="N", help="the same as -W fuel=N")
    run.add_argument(
        "--trap-unknown-imports",
        action="store_true",
        help="the same as -W unknown-imports-trap",
    )
    run.add_argument("file", help="the .wasm, .wat or .cwasm file, or - for stdin")
    run.add_argument(
        "args", nargs=argparse.REMAINDER, help="arguments for the program (or for --invoke)"
    )
    comp = sub.add_parser("compile", help="compile a module ahead of time into a .cwasm")
    _add_wasm_option(comp)
    comp.add_argument("file", help="the .wasm or .wat file, or - for stdin")
    comp.add_argument(
        "-o", "--output", metavar="OUT", help="where to write (default: FILE's stem + .cwasm)"
    )
    return parser


def _wasi_config(opts: argparse.Namespace) -> wasmtime.WasiConfig:
    wasi = wasmtime.WasiConfig()
    if opts.argv0 is not None:
        argv0 = opts.argv0
    elif opts.file == "-":
        argv0 = "-"
    else:
        argv0 = os.path.basename(opts.file)
    wasi.argv = [argv0] + ([] if opts.invoke else list(opts.args))
    inherit_env = False
    for key, value in _split_opts(opts.wasi, "-S", S_KEYS):
        on = _bool(key, value)
        if key == "cli" and not on:
            raise CliError("-S cli=n is not supported: WASI is always provided")
        if key == "inherit-env":
            inherit_env = on
        elif key == "inherit-network" and on:
            wasi.inherit_network()
    env: Dict[str, str] = dict(os.environ) if inherit_env else {}
    for item in opts.env:
        name, sep, value = item.partition("=")
        if sep:
            env[name] = value
        elif name in os.environ:
            # Like wasmtime: NAME alone copies the host's value, and a
            # variable the host does not have stays unset.
            env[name] = os.environ[name]
    wasi.env = list(env.items())
    for spec in opts.dir:
        host, sep, guest = spec.partition("::")
        wasi.preopen_dir(host, guest if sep else host)
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    return wasi


def _is_component(path: str) -> bool:
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:4] == b"\0asm":
        return head[4:8] == b"\x0d\x00\x01\x00"
    text = head.decode("utf-8", "replace").lstrip()
    while text.startswith(";;"):
        text = text.partition("\n")[2].lstrip()
    return text.startswith("(component")


def _parse_component_value(text: str, ty: object) -> object:
    from wasmtime import component as cm

    if isinstance(ty, (cm.U8, cm.U16, cm.U32, cm.U64, cm.S8, cm.S16, cm.S32, cm.S64)):
        return int(text, 0)
    if isinstance(ty, (cm.F32, cm.F64)):
        return float(text)
    if isinstance(ty, cm.Bool):
        if text not in ("true", "false"):
            raise ValueError("expected true or false, got %r" % text)
        return text == "true"
    if isinstance(ty, (cm.String, cm.Char)):
        return text
    raise ValueError("cannot pass a %r from the command line" % (ty,))


def run_component(
    opts: argparse.Namespace,
    engine: wasmtime.Engine,
    store: wasmtime.Store,
    trap_unknown: bool,
    budget: "Budget",
) -> int:
    from wasmtime import component as cm

    comp = cm.Component.from_file(engine, opts.file)
    linker = cm.Linker(engine)
    linker.add_wasip2()
    if trap_unknown:
        linker.define_unknown_imports_as_traps(comp)
    store.set_wasi(_wasi_config(opts))
    budget.arm()
    instance = linker.instantiate(store, comp)
    if opts.invoke is None:
        names = [n for n in comp.type.exports(engine) if n.startswith("wasi:cli/run@")]
        if not names:
            print("error: the component exports no wasi:cli/run", file=sys.stderr)
            return 1
        index = instance.get_export_index(store, names[0])
        inner = instance.get_export_index(store, "run", instance=index)
        func = instance.get_func(store, inner) if inner is not None else None
        if func is None:
            print("error: %s has no run function" % names[0], file=sys.stderr)
            return 1
        budget.arm()
        result = func(store)
        return 0 if result == cm.Variant("ok") else 1
    func = instance.get_func(store, opts.invoke)
    if func is None:
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
        values = [_parse_component_value(a, t) for a, (_, t) in zip(opts.args, params)]
    except ValueError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    budget.arm()
    result = func(store, *values)
    if result is not None:
        print(_format_value(result))
    return 0


def _start_timer(engine: wasmtime.Engine, seconds: float) -> Callable[[], None]:
    timer = threading.Timer(seconds, engine.increment_epoch)
    timer.daemon = True
    timer.start()
    return timer.cancel


class Budget:
    """-W timeout on an interruptible engine: one wall-time budget for the
    whole run, given to each entry into wasm as what is left of it."""

    def __init__(self, store: wasmtime.Store, seconds: Optional[float]) -> None:
        self.store = store
        self.end = None if seconds is None else time.monotonic() + seconds

    def arm(self) -> None:
        if self.end is not None:
            self.store.set_timeout(max(self.end - time.monotonic(), 1e-6))


def run(opts: argparse.Namespace) -> int:
    settings = Settings(opts)
    engine = settings.engine()
    if opts.file != "-" and _is_component(opts.file):
        store = wasmtime.Store(engine)
        if settings.fuel is not None:
            store.set_fuel(settings.fuel)
        budget = Budget(store, settings.timeout if settings.interruptible else None)
        return run_component(opts, engine, store, settings.trap_unknown, budget)
    module = load_module(engine, opts.file, opts.allow_precompiled)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    if settings.fuel is not None:
        store.set_fuel(settings.fuel)
    if settings.limits:
        store.set_limits(**settings.limits)
    budget = Budget(store, settings.timeout if settings.interruptible else None)
    cancel = None
    if not settings.interruptible and (settings.timeout is not None or settings.epoch):
        store.set_epoch_deadline(1)
        if settings.timeout is not None:
            cancel = _start_timer(engine, settings.timeout)
    store.set_wasi(_wasi_config(opts))
    try:
        for spec in opts.preload:
            name, sep, path = spec.partition("=")
            if not sep or not name or not path:
                raise CliError("--preload expects NAME=PATH, not %r" % spec)
            pre = load_module(engine, path, opts.allow_precompiled)
            if settings.trap_unknown:
                linker.define_unknown_imports_as_traps(pre)
            budget.arm()
            linker.define_instance(store, name, linker.instantiate(store, pre))
        if settings.trap_unknown:
            linker.define_unknown_imports_as_traps(module)
        budget.arm()
        return _run_main(opts, store, linker.instantiate(store, module), budget)
    finally:
        if cancel is not None:
            cancel()


def _run_main(
    opts: argparse.Namespace, store: wasmtime.Store, instance: wasmtime.Instance, budget: Budget
) -> int:
    exports = instance.exports(store)
    if opts.invoke is None:
        start = exports.get("_start")
        if isinstance(start, wasmtime.Func):
            budget.arm()
            start(store)
        else:
            init = exports.get("_initialize")
            if isinstance(init, wasmtime.Func):
                budget.arm()
                init(store)
        return 0

    init = exports.get("_initialize")
    if isinstance(init, wasmtime.Func):
        budget.arm()
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
    budget.arm()
    result = func(store, *values)
    results = result if isinstance(result, list) else ([] if result is None else [result])
    for value in results:
        print(_format_value(value))
    return 0


def compile_cmd(opts: argparse.Namespace) -> int:
    engine = Settings(opts).engine()
    module = load_module(engine, opts.file, allow_precompiled=False)
    out = opts.output
    if out is None:
        stem = "stdin" if opts.file == "-" else os.path.splitext(os.path.basename(opts.file))[0]
        out = stem + ".cwasm"
    data = module.serialize()
    with open(out, "wb") as f:
        f.write(data)
    return 0


SUBCOMMANDS = ("run", "compile")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # As with `wasmtime`, running is the default: `python -m wasmtime app.wasm`.
    if args and args[0] not in SUBCOMMANDS and args[0] not in ("-h", "--help", "-V", "--version"):
        args.insert(0, "run")
    opts = _build_parser().parse_args(args)
    try:
        if opts.command == "compile":
            return compile_cmd(opts)
        return run(opts)
    except wasmtime.ExitTrap as e:
        return e.code
    except wasmtime.Timeout:
        # As wasmtime says it: the epoch deadline of -W timeout passed.
        sys.stdout.flush()
        print(
            "Error: failed to run main module `%s`\n\nwasm trap: interrupt (-W timeout passed)"
            % opts.file,
            file=sys.stderr,
        )
        return 134
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("Error: interrupted (Ctrl-C)", file=sys.stderr)
        return 130
    except wasmtime.Trap as e:
        sys.stdout.flush()
        print("Error: failed to run main module `%s`\n\n%s" % (opts.file, e), file=sys.stderr)
        return 134
    except (CliError, wasmtime.WasmtimeError, OSError) as e:
        sys.stdout.flush()
        print("Error: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
