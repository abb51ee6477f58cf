"""Shared fixtures and helpers for the wasmtime-native test suite."""

import hashlib
import os
import shutil
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


# ---- WASI test programs (tests/wasi_src/*.c, compiled with clang) ----------

WASI_SRC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wasi_src")
WASI_CFLAGS = ["--target=wasm32-wasi", "-O2"]
TOOLCHAIN_HINT = (
    "`./dev test` installs them (Debian packages clang, lld, wasi-libc and "
    "libclang-rt-14-dev-wasm32)"
)


def _cache_root():
    root = os.environ.get("WASMTIME_NATIVE_CACHE")
    if not root:
        root = os.path.join(os.path.expanduser("~"), ".cache", "wasmtime-native")
    return root


@pytest.fixture(scope="session")
def wasi_program(tmp_path_factory):
    """`wasi_program(name)` -> path of tests/wasi_src/<name>.c compiled to WASI.

    Compiled once per source hash into ~/.cache/wasmtime-native/wasi-progs and
    copied into a per-session directory.  A missing toolchain fails the test:
    these programs are the only real WASI guests the suite has.
    """
    out_dir = tmp_path_factory.mktemp("wasi-progs")
    cache_dir = os.path.join(_cache_root(), "wasi-progs")
    built = {}
    toolchain = {}

    def clang_identity():
        if "id" not in toolchain:
            clang = shutil.which("clang")
            if clang is None:
                pytest.fail(
                    "clang is not installed, so the WASI test programs cannot be "
                    "compiled; " + TOOLCHAIN_HINT,
                    pytrace=False,
                )
            version = subprocess.run([clang, "--version"], capture_output=True, text=True).stdout
            toolchain["clang"] = clang
            toolchain["id"] = version + " ".join(WASI_CFLAGS)
        return toolchain["clang"], toolchain["id"]

    def build(name):
        if name in built:
            return built[name]
        src = os.path.join(WASI_SRC_DIR, name + ".c")
        if not os.path.exists(src):
            pytest.fail("no WASI test program %s" % src, pytrace=False)
        clang, ident = clang_identity()
        with open(src, "rb") as f:
            source = f.read()
        key = hashlib.sha256(source + ident.encode()).hexdigest()[:24]
        cached = os.path.join(cache_dir, "%s-%s.wasm" % (name, key))
        if not os.path.exists(cached):
            try:
                os.makedirs(cache_dir, exist_ok=True)
            except OSError:
                cached = str(out_dir / ("%s-%s.wasm" % (name, key)))
            tmp = "%s.%d.part" % (cached, os.getpid())
            proc = subprocess.run(
                [clang] + WASI_CFLAGS + [src, "-o", tmp], capture_output=True, text=True
            )
            if proc.returncode != 0:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                pytest.fail(
                    "compiling %s for wasm32-wasi failed (is wasi-libc installed? %s):"
                    "\n%s" % (src, TOOLCHAIN_HINT, proc.stderr),
                    pytrace=False,
                )
            os.replace(tmp, cached)
        dest = str(out_dir / (name + ".wasm"))
        shutil.copyfile(cached, dest)
        built[name] = dest
        return dest

    return build


# ---- real-world wasm from npm (tools/npm_wasm.py) --------------------------


@pytest.fixture(scope="session")
def npm_wasm():
    """`npm_wasm(name)` -> path of a cached real-world .wasm (see tools/npm_wasm.py).

    Downloads on first use; a failure to fetch fails the test.
    """
    tools = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    import npm_wasm as fetcher

    def fetch(name):
        try:
            return fetcher.fetch(name)
        except Exception as e:  # network, npm missing, ...
            pytest.fail(
                "could not fetch %r from npm (%s: %s); tools/npm_wasm.py needs "
                "npm and the npm registry" % (name, type(e).__name__, e),
                pytrace=False,
            )

    return fetch


# ---- RSS-based leak checks and sanitizers ---------------------------------

SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "rss: a leak check that reads the process RSS (not meaningful under ASan)"
    )


def pytest_collection_modifyitems(config, items):
    if not SANITIZED:
        return
    skip = pytest.mark.skip(
        reason="AddressSanitizer holds freed memory in quarantine, so RSS cannot show a "
        "leak here; the plain test run (./dev test) performs this check"
    )
    for item in items:
        if item.get_closest_marker("rss") is not None:
            item.add_marker(skip)
