"""WASI through the Python API, with real C programs from tests/wasi_src/.

Each program is compiled by the `wasi_program` fixture (clang + wasi-libc)
and run as a WASI command: `_start` under a Linker with `define_wasi()`.
"""

import gc
import os
import pathlib
import subprocess
import sys
import textwrap
import time
import weakref

import pytest

import wasmtime
from wasmtime import (
    Engine,
    ExitTrap,
    Func,
    FuncType,
    Linker,
    Module,
    Store,
    Trap,
    WasiConfig,
    WasmtimeError,
)

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(wasmtime.__file__)))


@pytest.fixture(scope="module")
def wasi_engine():
    return Engine()


@pytest.fixture(scope="module")
def compiled(wasi_engine, wasi_program):
    """compiled(name) -> Module, compiled once per test module."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = Module.from_file(wasi_engine, wasi_program(name))
        return cache[name]

    return get


class Result:
    def __init__(self, code, stdout, stderr):
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    @property
    def out(self):
        return self.stdout.decode()

    @property
    def err(self):
        return self.stderr.decode()


def run(engine, module, configure=None, capture=True):
    """Run a WASI command; returns a Result (code is None if _start returned)."""
    out, err = [], []
    wasi = WasiConfig()
    if capture:
        wasi.stdout_custom = out.append
        wasi.stderr_custom = err.append
    if configure is not None:
        configure(wasi)
    linker = Linker(engine)
    linker.define_wasi()
    store = Store(engine)
    store.set_wasi(wasi)
    instance = linker.instantiate(store, module)
    start = instance.exports(store)["_start"]
    assert isinstance(start, Func)
    code = None
    try:
        start(store)
    except ExitTrap as e:
        code = e.code
    return Result(code, b"".join(out), b"".join(err))


def ok(result):
    """A command that returned from main with status 0 (no proc_exit call)."""
    assert result.code is None, (result.code, result.err)
    return result


# ---- argv and environment ----------------------------------------------------


def test_argv_and_env(wasi_engine, compiled):
    def configure(w):
        w.argv = ["prog", "plain", "with space", "ünïcode ✓", ""]
        w.env = [("ALPHA", "1"), ("BETA", "two words"), ("EMPTY", ""), ("UNI", "é")]

    r = ok(run(wasi_engine, compiled("args_env"), configure))
    assert r.out.splitlines() == [
        "argc=5",
        "argv[0]=prog",
        "argv[1]=plain",
        "argv[2]=with space",
        "argv[3]=ünïcode ✓",
        "argv[4]=",
        "env:ALPHA=1",
        "env:BETA=two words",
        "env:EMPTY=",
        "env:UNI=é",
    ]


def test_no_argv_and_env_by_default(wasi_engine, compiled):
    r = ok(run(wasi_engine, compiled("args_env")))
    assert r.out.splitlines() == ["argc=0"]


def test_argv_and_env_accept_any_sequence(wasi_engine, compiled):
    def configure(w):
        w.argv = ("a", "b")
        w.env = [["K", "V"], ("K2", "V2")]

    r = ok(run(wasi_engine, compiled("args_env"), configure))
    assert r.out.splitlines() == ["argc=2", "argv[0]=a", "argv[1]=b", "env:K=V", "env:K2=V2"]


def test_assigning_argv_twice_replaces(wasi_engine, compiled):
    """`argv` and `env` are properties: a second assignment replaces the first
    (Wasmtime's C builder appends, so the guest would see both)."""

    def configure(w):
        w.argv = ["first", "x"]
        w.argv = ["second"]

    r = ok(run(wasi_engine, compiled("args_env"), configure))
    assert r.out.splitlines() == ["argc=1", "argv[0]=second"]


def test_assigning_env_twice_replaces(wasi_engine, compiled):
    def configure(w):
        w.env = [("A", "1"), ("B", "1")]
        w.env = [("A", "2")]

    r = ok(run(wasi_engine, compiled("args_env"), configure))
    assert r.out.splitlines() == ["argc=0", "env:A=2"]


def test_inherit_argv_in_process(wasi_engine, compiled):
    """The guest sees this process's real argv (sys.orig_argv)."""
    r = ok(run(wasi_engine, compiled("args_env"), lambda w: w.inherit_argv()))
    lines = r.out.splitlines()
    assert lines[0] == "argc=%d" % len(sys.orig_argv)
    assert lines[1 : 1 + len(sys.orig_argv)] == [
        "argv[%d]=%s" % (i, a) for i, a in enumerate(sys.orig_argv)
    ]


def test_argv_after_inherit_argv_replaces_it(wasi_engine, compiled):
    def configure(w):
        w.inherit_argv()
        w.argv = ["only"]

    r = ok(run(wasi_engine, compiled("args_env"), configure))
    assert r.out.splitlines() == ["argc=1", "argv[0]=only"]


def test_inherit_env_after_env_replaces_it(wasi_engine, compiled, monkeypatch):
    monkeypatch.setenv("WASI_TEST_INHERITED", "yes")

    def configure(w):
        w.env = [("WASI_TEST_EXPLICIT", "1")]
        w.inherit_env()

    r = ok(run(wasi_engine, compiled("args_env"), configure))
    lines = r.out.splitlines()
    assert "env:WASI_TEST_INHERITED=yes" in lines
    assert "env:WASI_TEST_EXPLICIT=1" not in lines


@pytest.mark.parametrize("bad", [[1], ["ok", None], [b"bytes"], [("a", "b")], 5, None])
def test_bad_argv_types(bad):
    w = WasiConfig()
    with pytest.raises(TypeError):
        w.argv = bad


@pytest.mark.parametrize("bad", [[("a", 1)], [(1, "a")], [("a", "b", "c")], [("a",)], [5], 5])
def test_bad_env_types(bad):
    w = WasiConfig()
    with pytest.raises(TypeError):
        w.env = bad


def test_embedded_nul_in_argv_is_rejected():
    w = WasiConfig()
    with pytest.raises(ValueError):
        w.argv = ["a\0b"]
    with pytest.raises(ValueError):
        w.env = [("A\0", "b")]


def test_write_only_properties():
    w = WasiConfig()
    for name in (
        "argv",
        "env",
        "stdin_file",
        "stdout_file",
        "stderr_file",
        "stdin_bytes",
        "stdout_custom",
        "stderr_custom",
    ):
        with pytest.raises(AttributeError):
            getattr(w, name)


def test_inherit_argv_env_and_stdio(wasi_program, tmp_path):
    """inherit_* hands the host process's argv, environment and fds to the guest."""
    code = textwrap.dedent("""
        import sys
        from wasmtime import Engine, Linker, Module, Store, WasiConfig, ExitTrap
        engine = Engine()
        linker = Linker(engine)
        linker.define_wasi()
        prog = sys.argv[1]
        w = WasiConfig()
        if prog.endswith("args_env.wasm"):
            w.inherit_argv()
            w.inherit_env()
        w.inherit_stdin()
        w.inherit_stdout()
        w.inherit_stderr()
        store = Store(engine)
        store.set_wasi(w)
        inst = linker.instantiate(store, Module.from_file(engine, prog))
        inst.exports(store)["_start"](store)
    """)
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT
    env["WASI_INHERIT_MARKER"] = "marker-value-123"
    args_env = wasi_program("args_env")
    p = subprocess.run(
        [sys.executable, "-c", code, args_env, "extra-arg"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    # The host process's own argv: [python, -c, CODE, args_env.wasm, extra-arg]
    # (CODE spans several lines of output).
    assert lines[0] == "argc=5"
    assert lines[2] == "argv[1]=-c"
    assert "argv[3]=" + args_env in lines
    assert "argv[4]=extra-arg" in lines
    assert "env:WASI_INHERIT_MARKER=marker-value-123" in lines

    upper = wasi_program("upper")
    p = subprocess.run(
        [sys.executable, "-c", code, upper],
        env=env,
        input="from the pipe\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "FROM THE PIPE\n"
    assert p.stderr == "read 14 bytes\n"


# ---- stdin / stdout / stderr ---------------------------------------------------


def test_stdin_bytes_to_stdout_and_stderr(wasi_engine, compiled):
    data = b"hello, wasi\nsecond line \x00 with nul\n"

    def configure(w):
        w.stdin_bytes = data

    r = ok(run(wasi_engine, compiled("upper"), configure))
    assert r.stdout == data.upper()
    assert r.err == "read %d bytes\n" % len(data)


def test_stdin_bytes_bytearray_and_empty(wasi_engine, compiled):
    r = ok(
        run(wasi_engine, compiled("upper"), lambda w: setattr(w, "stdin_bytes", bytearray(b"abc")))
    )
    assert r.stdout == b"ABC"
    r = ok(run(wasi_engine, compiled("upper"), lambda w: setattr(w, "stdin_bytes", b"")))
    assert r.stdout == b""
    assert r.err == "read 0 bytes\n"


def test_stdin_bytes_large(wasi_engine, compiled):
    data = bytes(range(97, 123)) * 40000  # ~1 MB of a-z
    r = ok(run(wasi_engine, compiled("upper"), lambda w: setattr(w, "stdin_bytes", data)))
    assert r.stdout == data.upper()
    assert r.err == "read %d bytes\n" % len(data)


def test_stdin_bytes_wrong_type():
    w = WasiConfig()
    with pytest.raises(TypeError):
        w.stdin_bytes = "a str is not bytes"


def test_no_stdin_reads_eof(wasi_engine, compiled):
    r = ok(run(wasi_engine, compiled("upper")))
    assert r.stdout == b""
    assert r.err == "read 0 bytes\n"


@pytest.mark.parametrize("kind", ["str", "bytes", "pathlike"])
def test_stdin_stdout_stderr_files(wasi_engine, compiled, tmp_path, kind):
    conv = {"str": str, "bytes": lambda p: str(p).encode(), "pathlike": pathlib.Path}[kind]
    stdin = tmp_path / "in.txt"
    stdin.write_bytes(b"file input\n")
    stdout = tmp_path / "out.txt"
    stdout.write_bytes(b"old contents that must be truncated away" * 10)
    stderr = tmp_path / "err.txt"

    def configure(w):
        w.stdin_file = conv(stdin)
        w.stdout_file = conv(stdout)
        w.stderr_file = conv(stderr)

    r = ok(run(wasi_engine, compiled("upper"), configure, capture=False))
    assert r.stdout == b"" and r.stderr == b""
    assert stdout.read_bytes() == b"FILE INPUT\n"
    assert stderr.read_bytes() == b"read 11 bytes\n"


def test_missing_stdin_file_is_an_error(tmp_path):
    w = WasiConfig()
    with pytest.raises(WasmtimeError):
        w.stdin_file = str(tmp_path / "does-not-exist")


def test_stdout_file_in_missing_directory_is_an_error(tmp_path):
    w = WasiConfig()
    with pytest.raises(WasmtimeError):
        w.stdout_file = str(tmp_path / "no-such-dir" / "out.txt")
    with pytest.raises(WasmtimeError):
        w.stderr_file = str(tmp_path / "no-such-dir" / "err.txt")


def test_stdout_and_stderr_callbacks_receive_bytes(wasi_engine, compiled):
    seen = []

    def configure(w):
        w.argv = ["writer", "payload"]
        w.stdout_custom = lambda b: seen.append(("out", b))
        w.stderr_custom = lambda b: seen.append(("err", b))

    r = run(wasi_engine, compiled("writer"), configure, capture=False)
    assert r.code is None
    assert seen == [("out", b"payload"), ("err", b"write=7\n")]
    assert all(type(b) is bytes for _, b in seen)


def test_stdout_callback_that_raises(wasi_engine, compiled, monkeypatch):
    """The guest's write fails with EIO; the exception goes to sys.unraisablehook."""
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    boom = RuntimeError("callback failed")

    def raising(data):
        raise boom

    def configure(w):
        w.argv = ["writer", "hello"]
        w.stdout_custom = raising

    r = run(wasi_engine, compiled("writer"), configure)
    assert r.code == 3
    assert r.err == "write=-1 errno=EIO\n"
    assert len(reported) == 1
    assert reported[0].exc_value is boom
    # The process and the engine are fine afterwards.
    r = run(wasi_engine, compiled("writer"), lambda w: setattr(w, "argv", ["w", "again"]))
    assert r.code is None and r.stdout == b"again"


def test_stdout_callback_returning_partial_counts(wasi_engine, compiled):
    """Returning fewer bytes than given: the rest is offered again."""
    chunks = []

    def three_at_a_time(data):
        chunks.append(data)
        return min(3, len(data))

    def configure(w):
        w.argv = ["writer", "hello world"]
        w.stdout_custom = three_at_a_time

    r = run(wasi_engine, compiled("writer"), configure)
    assert r.code is None, r.err
    assert r.err == "write=11\n"
    assert chunks[0] == b"hello world"
    assert b"".join(c[:3] for c in chunks) == b"hello world"


@pytest.mark.parametrize("ret", [0, -1, 1000, "x", 2.5])
def test_stdout_callback_returning_bad_counts(wasi_engine, compiled, ret, monkeypatch):
    """0, negative, too-large and non-int results are write errors, never hangs."""
    monkeypatch.setattr(sys, "unraisablehook", lambda u: None)

    def configure(w):
        w.argv = ["writer", "hello"]
        w.stdout_custom = lambda data: ret

    r = run(wasi_engine, compiled("writer"), configure)
    assert r.code == 3
    assert r.err == "write=-1 errno=EIO\n"


def test_custom_output_requires_callable():
    w = WasiConfig()
    with pytest.raises(TypeError):
        w.stdout_custom = 42
    with pytest.raises(TypeError):
        w.stderr_custom = "not callable"


def test_custom_output_callable_lifetime(wasi_engine, compiled):
    """The Store keeps the callback alive; closing the Store releases it."""

    class Sink:
        def __init__(self):
            self.data = []

        def __call__(self, b):
            self.data.append(b)

    sink = Sink()
    data_list = sink.data
    ref = weakref.ref(sink)
    w = WasiConfig()
    w.argv = ["writer", "kept alive"]
    w.stdout_custom = sink
    del sink
    linker = Linker(wasi_engine)
    linker.define_wasi()
    store = Store(wasi_engine)
    store.set_wasi(w)
    del w
    gc.collect()
    assert ref() is not None
    inst = linker.instantiate(store, compiled("writer"))
    inst.exports(store)["_start"](store)
    assert data_list == [b"kept alive"]
    store.close()
    del inst, store
    gc.collect()
    assert ref() is None


def test_wasi_output_is_per_store(wasi_engine, compiled):
    a, b = [], []
    results = []
    for sink, text in ((a, "first"), (b, "second")):

        def configure(w, sink=sink, text=text):
            w.argv = ["writer", text]
            w.stdout_custom = sink.append

        results.append(run(wasi_engine, compiled("writer"), configure, capture=False))
    assert a == [b"first"] and b == [b"second"]


# ---- preopened directories -------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "hello.txt").write_text("hello from the host\n")
    (d / "sub").mkdir()
    (d / "sub" / "nested.txt").write_text("nested\n")
    return d


def files(engine, compiled, args, preopens=(), **kw):
    def configure(w):
        w.argv = ["files"] + args
        for host, guest, mutable in preopens:
            w.preopen_dir(str(host), guest, fs_mutable=mutable)

    return run(engine, compiled("files"), configure, **kw)


def test_preopen_read(wasi_engine, compiled, data_dir):
    r = ok(files(wasi_engine, compiled, ["read", "/data/hello.txt"], [(data_dir, "/data", True)]))
    assert r.out == "hello from the host\n"
    r = ok(
        files(wasi_engine, compiled, ["read", "/data/sub/nested.txt"], [(data_dir, "/data", True)])
    )
    assert r.out == "nested\n"
    r = ok(files(wasi_engine, compiled, ["list", "/data"], [(data_dir, "/data", True)]))
    assert r.out.splitlines() == ["hello.txt", "sub"]


def test_preopen_write_when_mutable(wasi_engine, compiled, data_dir):
    pre = [(data_dir, "/data", True)]
    r = ok(files(wasi_engine, compiled, ["write", "/data/new.txt", "written by wasm"], pre))
    assert r.out == "wrote 15 bytes\n"
    assert (data_dir / "new.txt").read_text() == "written by wasm"
    ok(files(wasi_engine, compiled, ["append", "/data/hello.txt", "more"], pre))
    assert (data_dir / "hello.txt").read_text() == "hello from the host\nmore"
    # Overwrite truncates, and the guest reads back what it wrote.
    ok(files(wasi_engine, compiled, ["write", "/data/new.txt", "short"], pre))
    r = ok(files(wasi_engine, compiled, ["read", "/data/new.txt"], pre))
    assert r.out == "short"


def test_preopen_default_is_mutable(wasi_engine, compiled, data_dir):
    def configure(w):
        w.argv = ["files", "write", "/d/x.txt", "x"]
        w.preopen_dir(str(data_dir), "/d")

    ok(run(wasi_engine, compiled("files"), configure))
    assert (data_dir / "x.txt").read_text() == "x"


def test_preopen_read_only(wasi_engine, compiled, data_dir):
    pre = [(data_dir, "/data", False)]
    r = ok(files(wasi_engine, compiled, ["read", "/data/hello.txt"], pre))
    assert r.out == "hello from the host\n"
    r = files(wasi_engine, compiled, ["write", "/data/new.txt", "nope"], pre)
    assert r.code == 1
    assert r.err.startswith("error: open: ")
    assert not (data_dir / "new.txt").exists()
    r = files(wasi_engine, compiled, ["append", "/data/hello.txt", "nope"], pre)
    assert r.code == 1
    assert (data_dir / "hello.txt").read_text() == "hello from the host\n"


def test_preopen_fs_mutable_keyword_is_truthiness(wasi_engine, compiled, data_dir):
    r = files(wasi_engine, compiled, ["write", "/data/n.txt", "x"], [(data_dir, "/data", 0)])
    assert r.code == 1
    assert not (data_dir / "n.txt").exists()


def test_paths_outside_the_preopen_are_refused(wasi_engine, compiled, data_dir, tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    pre = [(data_dir, "/data", True)]
    for path in ("/data/../secret.txt", "/secret.txt", str(tmp_path / "secret.txt"), "/etc/passwd"):
        r = files(wasi_engine, compiled, ["read", path], pre)
        assert r.code == 1, path
        assert r.err.startswith("error: open: "), (path, r.err)
        assert "secret" not in r.out
    r = files(wasi_engine, compiled, ["write", "/data/../escape.txt", "x"], pre)
    assert r.code == 1
    assert not (tmp_path / "escape.txt").exists()


def test_no_preopens_means_no_files(wasi_engine, compiled, data_dir):
    r = files(wasi_engine, compiled, ["read", str(data_dir / "hello.txt")])
    assert r.code == 1
    assert r.err.startswith("error: open: ")


def test_two_preopens(wasi_engine, compiled, tmp_path):
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "f.txt").write_text("in a")
    pre = [(a, "/a", False), (b, "/b", True)]
    r = ok(files(wasi_engine, compiled, ["read", "/a/f.txt"], pre))
    assert r.out == "in a"
    ok(files(wasi_engine, compiled, ["write", "/b/g.txt", "in b"], pre))
    assert (b / "g.txt").read_text() == "in b"
    assert files(wasi_engine, compiled, ["write", "/a/g.txt", "x"], pre).code == 1


def test_preopen_nonexistent_directory(tmp_path):
    w = WasiConfig()
    with pytest.raises(WasmtimeError):
        w.preopen_dir(str(tmp_path / "missing"), "/x")


def test_preopen_of_a_file_is_an_error(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    w = WasiConfig()
    with pytest.raises(WasmtimeError):
        w.preopen_dir(str(f), "/x")


def test_preopen_guest_path_must_be_str(tmp_path):
    w = WasiConfig()
    with pytest.raises(TypeError):
        w.preopen_dir(str(tmp_path), 5)


# ---- exit codes -------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 1, 42, 125])
def test_exit_codes(wasi_engine, compiled, code):
    with pytest.raises(ExitTrap) as info:
        linker = Linker(wasi_engine)
        linker.define_wasi()
        store = Store(wasi_engine)
        w = WasiConfig()
        w.argv = ["exit_code", str(code)]
        out = []
        w.stdout_custom = out.append
        store.set_wasi(w)
        linker.instantiate(store, compiled("exit_code")).exports(store)["_start"](store)
    e = info.value
    assert e.code == code
    assert isinstance(e, WasmtimeError)
    assert not isinstance(e, Trap)
    assert "Exited with i32 exit status %d" % code in str(e)
    assert b"".join(out) == b"exiting with %d\n" % code


def test_returning_from_main_is_not_an_exit_trap(wasi_engine, compiled):
    r = run(wasi_engine, compiled("args_env"))
    assert r.code is None


def test_exit_trap_from_a_host_called_proc_exit(wasi_engine):
    """proc_exit called directly (not from C) still gives ExitTrap.code."""
    module = Module(
        wasi_engine,
        """
        (module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "_start") i32.const 9 call $exit unreachable))
    """,
    )
    linker = Linker(wasi_engine)
    linker.define_wasi()
    store = Store(wasi_engine)
    store.set_wasi(WasiConfig())
    inst = linker.instantiate(store, module)
    with pytest.raises(ExitTrap) as info:
        inst.exports(store)["_start"](store)
    assert info.value.code == 9


# ---- clocks and randomness ------------------------------------------------------------


def test_clocks(wasi_engine, compiled):
    before = time.time()
    r = ok(run(wasi_engine, compiled("clocks")))
    after = time.time()
    mono1, mono2, realtime, res = (int(x) for x in r.out.split())
    assert mono1 > 0
    assert mono2 > mono1
    assert before - 1.0 <= realtime / 1e9 <= after + 1.0
    assert 0 < res <= 1_000_000  # at most a millisecond


def test_random(wasi_engine, compiled):
    r = ok(run(wasi_engine, compiled("random_bytes")))
    a, b = r.out.split()
    assert len(a) == len(b) == 64
    int(a, 16), int(b, 16)
    assert a != b
    a2, _ = ok(run(wasi_engine, compiled("random_bytes"))).out.split()
    assert a2 != a


# ---- WasiConfig and Store.set_wasi misuse ------------------------------------------------


def test_wasi_config_is_consumed_by_set_wasi(wasi_engine, tmp_path):
    w = WasiConfig()
    w.argv = ["x"]
    store = Store(wasi_engine)
    store.set_wasi(w)
    with pytest.raises(ValueError):
        w.argv = ["y"]
    with pytest.raises(ValueError):
        w.env = [("a", "b")]
    with pytest.raises(ValueError):
        w.stdin_bytes = b"x"
    with pytest.raises(ValueError):
        w.stdout_custom = print
    with pytest.raises(ValueError):
        w.inherit_stdout()
    with pytest.raises(ValueError):
        w.preopen_dir(str(tmp_path), "/t")
    with pytest.raises(ValueError):
        Store(wasi_engine).set_wasi(w)
    w.close()  # idempotent after consumption


def test_closed_wasi_config(wasi_engine):
    with WasiConfig() as w:
        pass
    with pytest.raises(ValueError):
        w.argv = ["a"]
    with pytest.raises(ValueError):
        Store(wasi_engine).set_wasi(w)


@pytest.mark.parametrize("bad", [3, None, "wasi", Engine])
def test_set_wasi_wrong_type(wasi_engine, bad):
    with pytest.raises(TypeError):
        Store(wasi_engine).set_wasi(bad)


def test_set_wasi_http_requires_set_wasi(wasi_engine):
    store = Store(wasi_engine)
    with pytest.raises(WasmtimeError):
        store.set_wasi_http()
    store.set_wasi(WasiConfig())
    assert store.set_wasi_http() is None


def test_set_wasi_on_closed_store(wasi_engine):
    store = Store(wasi_engine)
    store.close()
    with pytest.raises(ValueError):
        store.set_wasi(WasiConfig())


def test_set_wasi_twice_replaces_the_context(wasi_engine, compiled):
    first, second = [], []
    store = Store(wasi_engine)
    w = WasiConfig()
    w.argv = ["writer", "one"]
    w.stdout_custom = first.append
    store.set_wasi(w)
    w = WasiConfig()
    w.argv = ["writer", "two"]
    w.stdout_custom = second.append
    w.stderr_custom = lambda b: None
    store.set_wasi(w)
    linker = Linker(wasi_engine)
    linker.define_wasi()
    linker.instantiate(store, compiled("writer")).exports(store)["_start"](store)
    assert first == [] and second == [b"two"]


def test_missing_wasi_context_is_an_error_not_an_abort(run_python, wasi_program):
    """Wasmtime would abort on the first WASI call of a Store without a WASI
    context; every way into such a Store must raise WasmtimeError instead."""
    code = textwrap.dedent("""
        import sys
        from wasmtime import Engine, Linker, Module, Store, WasiConfig, WasmtimeError
        engine = Engine()
        module = Module.from_file(engine, sys.argv[1] if len(sys.argv) > 1 else %r)
        linker = Linker(engine)
        linker.define_wasi()
        results = []
        def attempt(name, f):
            try:
                f()
                results.append(name + ": no error")
            except WasmtimeError as e:
                results.append(name + ": WasmtimeError: " + str(e))
            except BaseException as e:
                results.append(name + ": " + type(e).__name__)
        store = Store(engine)
        attempt("instantiate", lambda: linker.instantiate(store, module))
        attempt("instantiate_pre", lambda: linker.instantiate_pre(module).instantiate(store))
        attempt("get", lambda: linker.get(store, "wasi_snapshot_preview1", "fd_write"))
        attempt("define_module", lambda: linker.define_module(store, "m", module))
        def start_from_other_store():
            s2 = Store(engine)
            s2.set_wasi(WasiConfig())
            linker.define_module(s2, "cmd", module)
            user = Module(engine, '(module (import "cmd" "_start" (func $s))'
                                  ' (func (export "go") call $s))')
            inst = linker.instantiate(store, user)
            inst.exports(store)["go"](store)
        attempt("command via another store", start_from_other_store)
        # The same store works once it has a context.
        store.set_wasi(WasiConfig())
        attempt("after set_wasi", lambda: linker.instantiate(store, module).exports(store)["_start"](store))
        print("\\n".join(results))
    """) % wasi_program("args_env")
    p = run_python(code)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 6, p.stdout
    for line in lines[:5]:
        assert ": WasmtimeError: " in line, line
    assert "set_wasi" in lines[0]
    assert lines[5] == "after set_wasi: no error"


def test_wasi_guest_in_store_with_fuel(compiled, wasi_program):
    """WASI host calls and fuel: a command runs to completion with enough fuel
    and traps with OUT_OF_FUEL without."""
    config = wasmtime.Config()
    config.consume_fuel = True
    engine = Engine(config)
    module = Module.from_file(engine, wasi_program("upper"))
    linker = Linker(engine)
    linker.define_wasi()

    def go(fuel):
        store = Store(engine)
        store.set_fuel(fuel)
        w = WasiConfig()
        w.stdin_bytes = b"x" * 1000
        out = []
        w.stdout_custom = out.append
        w.stderr_custom = lambda b: None
        store.set_wasi(w)
        linker.instantiate(store, module).exports(store)["_start"](store)
        return b"".join(out)

    assert go(10_000_000) == b"X" * 1000
    with pytest.raises(Trap) as info:
        go(500)
    assert info.value.trap_code == wasmtime.TrapCode.OUT_OF_FUEL


def test_wasi_linker_types_match_the_guest_imports(wasi_engine, compiled):
    """Every WASI import of a real program is defined with the same type."""
    module = compiled("files")
    linker = Linker(wasi_engine)
    linker.define_wasi()
    defined = {(m, n): ty for m, n, ty in linker}
    imports = [i for i in module.imports if i.module == "wasi_snapshot_preview1"]
    assert len(imports) >= 5
    for imp in imports:
        ty = defined[(imp.module, imp.name)]
        assert isinstance(ty, FuncType)
        assert [str(t) for t in ty.params] == [str(t) for t in imp.type.params]
        assert [str(t) for t in ty.results] == [str(t) for t in imp.type.results]


def test_wasi_programs_in_parallel_threads(wasi_engine, compiled):
    """Each thread runs its own Store; output callbacks re-take the GIL."""
    import threading

    module = compiled("upper")
    results = {}
    errors = []

    def worker(i):
        try:
            data = (b"thread %d " % i) * 2000
            r = run(wasi_engine, module, lambda w: setattr(w, "stdin_bytes", data))
            results[i] = (r.stdout == data.upper(), r.err == "read %d bytes\n" % len(data))
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert results == {i: (True, True) for i in range(6)}
