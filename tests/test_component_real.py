"""Real components, built from package registries by tools/components.py.

* ``command``: a C program (tests/component_src/command.c) adapted to a
  ``wasi:cli/command`` component, run through ``Linker.add_wasip2``;
* ``kitchen``: a componentize-py guest using every WIT value type and a
  resource; each ``echo-*`` export calls the host back, so every value
  crosses Python -> guest -> host -> guest -> Python;
* ``reflect``: a WIT-only component of trapping functions, for types.

Written against wasmtime-py 50.0.1's ``wasmtime.component`` API, which ours
must match; run them against the real wheel with
``bench/.venvs/peer/bin/python -m pytest tests/test_component_real.py``.
"""

import hashlib
import math
import os
import subprocess
import sys

import pytest

component = pytest.importorskip(
    "wasmtime.component",
    reason="wasmtime.component is not implemented in this build yet (issue 10)",
)

import wasmtime  # noqa: E402
from wasmtime import ExitTrap, Store, WasiConfig, WasmtimeError  # noqa: E402
from wasmtime.component import (  # noqa: E402
    F32,
    F64,
    S8,
    S16,
    S32,
    S64,
    U8,
    U16,
    U32,
    U64,
    Bool,
    BorrowType,
    Char,
    Component,
    EnumType,
    FlagsType,
    FuncType,
    Linker,
    ListType,
    OptionType,
    OwnType,
    Record,
    RecordType,
    ResourceAny,
    ResourceType,
    ResultType,
    String,
    TupleType,
    Variant,
    VariantType,
)

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")
)
import components as component_tools  # noqa: E402


@pytest.fixture(scope="session")
def real_component():
    """`real_component(name)` -> path of a cached component (see tools/components.py)."""

    def get(name):
        try:
            return component_tools.build(name)
        except component_tools.BuildError as e:
            pytest.fail("building the %r component failed: %s" % (name, e), pytrace=False)

    return get


@pytest.fixture(scope="module")
def engine():
    return wasmtime.Engine()


def _func(store, instance, name, interface=None):
    parent = None
    if interface is not None:
        parent = instance.get_export_index(store, interface)
        assert parent is not None, interface
    index = instance.get_export_index(store, name, instance=parent)
    assert index is not None, name
    func = instance.get_func(store, index)
    assert func is not None, name
    return func


def _call(store, func, *args):
    result = func(store, *args)
    func.post_return(store)
    return result


# ---- wasi:cli/command from C ----------------------------------------------

RUN = "wasi:cli/run@0.2.12"


@pytest.fixture(scope="module")
def command(engine, real_component):
    return Component.from_file(engine, real_component("command"))


def _run_command(engine, command, wasi):
    """Run the command's wasi:cli/run; return run's result (or raise ExitTrap)."""
    linker = Linker(engine)
    linker.add_wasip2()
    store = Store(engine)
    store.set_wasi(wasi)
    instance = linker.instantiate(store, command)
    return _call(store, _func(store, instance, "run", RUN))


def _files(tmp_path, stdin=b""):
    stdin_path = tmp_path / "stdin.bin"
    stdin_path.write_bytes(stdin)
    return stdin_path, tmp_path / "stdout.txt", tmp_path / "stderr.txt"


def test_command_type(engine, command):
    ty = command.type
    imports = ty.imports(engine)
    assert "wasi:cli/environment@0.2.12" in imports
    assert "wasi:filesystem/preopens@0.2.12" in imports
    assert list(ty.exports(engine)) == [RUN]
    run = ty.exports(engine)[RUN].ty.exports(engine)["run"].ty
    assert isinstance(run, FuncType)
    assert run.params == []
    assert isinstance(run.result, ResultType)
    assert run.result.ok is None and run.result.err is None


def test_command_argv_env_stdin_stdout(engine, command, tmp_path):
    stdin, stdout, stderr = _files(tmp_path, b"bytes from the host")
    wasi = WasiConfig()
    wasi.argv = ["command", "two words", "\u00fcnicode"]
    wasi.env = [("GREETING", "hi"), ("EMPTY", "")]
    wasi.stdin_file = str(stdin)
    wasi.stdout_file = str(stdout)
    wasi.stderr_file = str(stderr)
    result = _run_command(engine, command, wasi)
    # `result` with neither payload is a tagged variant.
    assert result == Variant("ok")
    assert stdout.read_text().splitlines() == [
        "argc=3",
        "argv[0]=command",
        "argv[1]=two words",
        "argv[2]=\u00fcnicode",
        "env:GREETING=hi",
        "env:EMPTY=",
        "stdin=bytes from the host",
        "stdin-bytes=19",
    ]
    assert stderr.read_text() == "to stderr\n"


def test_command_stdout_custom(engine, command, tmp_path):
    stdin, _, _ = _files(tmp_path)
    chunks = []
    wasi = WasiConfig()
    wasi.argv = ["command"]
    wasi.stdin_file = str(stdin)
    wasi.stdout_custom = chunks.append
    assert _run_command(engine, command, wasi) == Variant("ok")
    out = b"".join(bytes(c) if not isinstance(c, str) else c.encode() for c in chunks)
    assert out.decode().splitlines() == ["argc=1", "argv[0]=command", "stdin=", "stdin-bytes=0"]


def test_command_stdin_bytes(engine, command, tmp_path):
    # stdin_bytes is wasmtime-native's addition to WasiConfig.
    if not hasattr(WasiConfig, "stdin_bytes"):
        pytest.skip("this WasiConfig has no stdin_bytes (wasmtime-py 50.0.1 has none)")
    _, stdout, _ = _files(tmp_path)
    wasi = WasiConfig()
    wasi.stdin_bytes = b"\x00\xffraw"
    wasi.stdout_file = str(stdout)
    assert _run_command(engine, command, wasi) == Variant("ok")
    assert b"stdin=\x00\xffraw\nstdin-bytes=5\n" in stdout.read_bytes()


def test_command_preopened_dir(engine, command, tmp_path):
    stdin, stdout, _ = _files(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "b.txt").write_text("b")
    (data / "a.txt").write_text("a")
    (data / "sub").mkdir()
    wasi = WasiConfig()
    wasi.env = [("LIST_DIR", "/data"), ("WRITE_FILE", "/data/out.txt")]
    wasi.stdin_file = str(stdin)
    wasi.stdout_file = str(stdout)
    wasi.preopen_dir(str(data), "/data")
    assert _run_command(engine, command, wasi) == Variant("ok")
    lines = stdout.read_text().splitlines()
    assert [line for line in lines if line.startswith("entry:")] == [
        "entry:a.txt",
        "entry:b.txt",
        "entry:sub",
    ]
    assert "wrote /data/out.txt" in lines
    assert (data / "out.txt").read_text() == "written by the guest\n"


def test_command_without_preopen_cannot_open(engine, command, tmp_path):
    stdin, stdout, _ = _files(tmp_path)
    wasi = WasiConfig()
    wasi.env = [("LIST_DIR", "/data")]
    wasi.stdin_file = str(stdin)
    wasi.stdout_file = str(stdout)
    assert _run_command(engine, command, wasi) == Variant("ok")
    assert "list: cannot open /data" in stdout.read_text().splitlines()


def test_command_read_only_preopen(engine, command, tmp_path):
    stdin, stdout, _ = _files(tmp_path)
    data = tmp_path / "ro"
    data.mkdir()
    wasi = WasiConfig()
    wasi.env = [("WRITE_FILE", "/ro/out.txt")]
    wasi.stdin_file = str(stdin)
    wasi.stdout_file = str(stdout)
    wasi.preopen_dir(str(data), "/ro", fs_mutable=False)
    assert _run_command(engine, command, wasi) == Variant("ok")
    assert "write: cannot open /ro/out.txt" in stdout.read_text().splitlines()
    assert not (data / "out.txt").exists()


@pytest.mark.parametrize("status, code", [(1, 1), (3, 1), (255, 1)])
def test_command_exit_status(engine, command, tmp_path, status, code):
    # WASIp2's exit carries ok or err only: every non-zero status becomes 1.
    stdin, stdout, _ = _files(tmp_path)
    wasi = WasiConfig()
    wasi.env = [("EXIT_CODE", str(status))]
    wasi.stdin_file = str(stdin)
    wasi.stdout_file = str(stdout)
    with pytest.raises(ExitTrap) as info:
        _run_command(engine, command, wasi)
    assert info.value.code == code
    assert isinstance(info.value, WasmtimeError)
    # What was written before exit() is there.
    assert stdout.read_text().startswith("argc=0\n")


def test_command_serialized_runs(engine, command, tmp_path):
    stdin, stdout, _ = _files(tmp_path)
    again = Component.deserialize(engine, command.serialize())
    wasi = WasiConfig()
    wasi.argv = ["again"]
    wasi.stdin_file = str(stdin)
    wasi.stdout_file = str(stdout)
    assert _run_command(engine, again, wasi) == Variant("ok")
    assert stdout.read_text().startswith("argc=1\nargv[0]=again\n")


def test_command_needs_wasip2_in_the_linker(engine, command):
    store = Store(engine)
    store.set_wasi(WasiConfig())
    with pytest.raises(WasmtimeError):
        Linker(engine).instantiate(store, command)


def test_command_fresh_store_per_run(engine, command, tmp_path):
    # One compiled component, many runs, each in its own Store.
    stdin, _, _ = _files(tmp_path)
    for i in range(3):
        out = tmp_path / ("out%d.txt" % i)
        wasi = WasiConfig()
        wasi.argv = ["run%d" % i]
        wasi.stdin_file = str(stdin)
        wasi.stdout_file = str(out)
        assert _run_command(engine, command, wasi) == Variant("ok")
        assert "argv[0]=run%d" % i in out.read_text().splitlines()


# ---- the componentize-py guest --------------------------------------------

KITCHEN_TYPES = "test:kitchen/types@0.1.0"
KITCHEN_HOST = "test:kitchen/host@0.1.0"
COUNTERS = "test:kitchen/counters@0.1.0"
MIRRORS = (
    "scalars",
    "point",
    "shape",
    "bytes",
    "words",
    "names",
    "color",
    "perms",
    "option",
    "result",
    "tuple",
)


def _serialized_path(wasm_path):
    """Where the compiled form of a component is kept between test runs."""
    with open(wasm_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:20]
    return os.path.join(component_tools.cache_root(), "compiled", "kitchen-%s.cwasm" % digest)


@pytest.fixture(scope="module")
def kitchen(engine, real_component):
    """The kitchen component, compiled once and then deserialized (25 s -> 0.2 s)."""
    wasm = real_component("kitchen")
    cached = _serialized_path(wasm)
    if os.path.exists(cached):
        try:
            return Component.deserialize_file(engine, cached)
        except WasmtimeError:
            pass  # compiled by an incompatible build: compile again
    comp = Component.from_file(engine, wasm)
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    part = "%s.%d.part" % (cached, os.getpid())
    with open(part, "wb") as f:
        f.write(comp.serialize())
    os.replace(part, cached)
    return comp


class Host:
    """The host side of kitchen.wit's `host` interface: records every call."""

    def __init__(self, fail=None):
        self.calls = []
        self.fail = fail
        self.returns = {}

    def log(self, ctx, msg):
        self.calls.append(("log", msg))

    def mirror(self, kind):
        def fn(ctx, value):
            self.calls.append((kind, value))
            if self.fail is not None:
                raise self.fail
            return self.returns.get(kind, value)

        return fn


def _kitchen_instance(engine, kitchen, host):
    linker = Linker(engine)
    linker.add_wasip2()
    with linker.root() as root:
        # The type-only interface needs an (empty) instance to satisfy the import.
        with root.add_instance(KITCHEN_TYPES):
            pass
        with root.add_instance(KITCHEN_HOST) as h:
            h.add_func("log", host.log)
            for kind in MIRRORS:
                h.add_func("mirror-" + kind, host.mirror(kind))
    store = Store(engine)
    store.set_wasi(WasiConfig())
    return store, linker.instantiate(store, kitchen)


@pytest.fixture
def guest(engine, kitchen):
    host = Host()
    store, instance = _kitchen_instance(engine, kitchen, host)

    class Guest:
        pass

    g = Guest()
    g.host, g.store, g.instance = host, store, instance

    def call(name, *args, interface=None):
        return _call(store, _func(store, instance, name, interface), *args)

    g.call = call
    return g


class Scalars:
    """A plain object with the WIT field names: records are read by getattr."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


SCALARS = dict(
    flag=True,
    tiny=-128,
    small=-32768,
    medium=-(2**31),
    big=-(2**63),
    utiny=255,
    usmall=65535,
    umedium=2**32 - 1,
    ubig=2**64 - 1,
    single=1.5,
    double=math.pi,
    letter="\U0001f600",
    text="h\u00e9llo, \U0001f30d",
)


def _fields(record, names):
    return {n: getattr(record, n) for n in names}


def test_kitchen_scalars_round_trip(guest):
    out = guest.call("echo-scalars", Scalars(**SCALARS))
    assert isinstance(out, Record)
    assert _fields(out, SCALARS) == SCALARS
    [(kind, seen)] = guest.host.calls
    assert kind == "scalars"
    assert isinstance(seen, Record)
    assert _fields(seen, SCALARS) == SCALARS
    other = dict(SCALARS, flag=False, tiny=127, big=2**63 - 1, ubig=0, single=-0.25, letter="a")
    assert _fields(guest.call("echo-scalars", Scalars(**other)), other) == other


def test_kitchen_record_with_dashed_field(guest):
    point = Scalars(x=-1, y=2)
    setattr(point, "label-text", "\u00c5B")
    out = guest.call("echo-point", point)
    assert (out.x, out.y, getattr(out, "label-text")) == (-1, 2, "\u00c5B")
    assert guest.host.calls[0][0] == "point"
    assert getattr(guest.host.calls[0][1], "label-text") == "\u00c5B"
    # A record missing a field is refused before the call.
    with pytest.raises(AttributeError):
        guest.call("echo-point", Scalars(x=1, y=2))


def test_kitchen_variant(guest):
    # variant shape {circle(f64), rect(point), empty} is untagged: its cases
    # take disjoint Python classes (float, Record, None).
    assert guest.call("echo-shape", 2.5) == 2.5
    assert guest.call("echo-shape", None) is None
    rect = Record()
    rect.x, rect.y = 3, 4
    setattr(rect, "label-text", "r")
    out = guest.call("echo-shape", rect)
    assert isinstance(out, Record)
    assert (out.x, out.y, getattr(out, "label-text")) == (3, 4, "r")
    assert [c[1] for c in guest.host.calls[:2]] == [2.5, None]
    with pytest.raises(ValueError):
        guest.call("echo-shape", "not a shape")


def test_kitchen_lists(guest):
    for data in (b"", bytes(range(256)), os.urandom(64 * 1024)):
        assert guest.call("echo-bytes", data) == data
    assert guest.call("bytes-len", b"x" * 100_000) == 100_000
    assert guest.call("echo-words", [0, 1, 2**32 - 1]) == [0, 1, 2**32 - 1]
    assert guest.call("echo-words", []) == []
    names = ["", "a", "\u00fc" * 3, "\U0001f600"]
    assert guest.call("echo-names", names) == names
    kinds = [c[0] for c in guest.host.calls]
    assert kinds == ["bytes"] * 3 + ["words"] * 2 + ["names"]
    assert guest.host.calls[1][1] == bytes(range(256))
    with pytest.raises(TypeError):
        guest.call("echo-words", ["nope"])


def test_kitchen_enum_and_flags(guest):
    assert guest.call("echo-color", "green") == "green"
    assert guest.call("echo-color", "blue") == "blue"
    assert guest.call("echo-perms", {"read", "exec"}) == {"read", "exec"}
    assert guest.call("echo-perms", set()) == set()
    assert guest.call("echo-perms", {"read", "write", "exec"}) == {"read", "write", "exec"}
    assert guest.host.calls[0] == ("color", "green")
    assert guest.host.calls[2] == ("perms", {"read", "exec"})


def test_kitchen_option_result_tuple(guest):
    assert guest.call("echo-option", None) is None
    assert guest.call("echo-option", 0) == 0
    assert guest.call("echo-option", 7) == 7
    # result<u32, string> is untagged: ok and err come back as bare values,
    # and the host's str travels as the err arm (the guest raises Err, then
    # returns it as its own err).
    assert guest.call("echo-result", 5) == 5
    assert guest.call("echo-result", "bad") == "bad"
    assert guest.call("echo-tuple", (255, "x", 0.25)) == (255, "x", 0.25)
    with pytest.raises(TypeError):
        guest.call("echo-tuple", (1, "x"))
    assert [c[1] for c in guest.host.calls] == [None, 0, 7, 5, "bad", (255, "x", 0.25)]


def test_kitchen_guest_only_functions(guest):
    assert guest.call("maybe-div", 7, 2) == 3
    assert guest.call("maybe-div", 1, 0) == "division by zero"
    assert guest.call("greet", "py") == "hello, py!"
    assert guest.host.calls == [("log", "greeting py")]


def test_kitchen_function_types(engine, kitchen, guest):
    echo = _func(guest.store, guest.instance, "echo-scalars")
    ty = echo.type(guest.store)
    [(name, param)] = ty.params
    assert name == "v"
    assert isinstance(param, RecordType)
    assert [(n, t) for n, t in param.fields] == [
        ("flag", Bool()),
        ("tiny", S8()),
        ("small", S16()),
        ("medium", S32()),
        ("big", S64()),
        ("utiny", U8()),
        ("usmall", U16()),
        ("umedium", U32()),
        ("ubig", U64()),
        ("single", F32()),
        ("double", F64()),
        ("letter", Char()),
        ("text", String()),
    ]
    assert ty.result == param
    exports = kitchen.type.exports(engine)
    assert COUNTERS in exports
    assert "echo-bytes" in exports
    imports = kitchen.type.imports(engine)
    assert KITCHEN_HOST in imports and KITCHEN_TYPES in imports
    host = imports[KITCHEN_HOST].ty.exports(engine)
    assert isinstance(host["mirror-bytes"].ty.params[0][1], ListType)
    assert host["mirror-bytes"].ty.params[0][1].element == U8()


def test_kitchen_resource(guest):
    counter = guest.call("make-counter", 5, interface=COUNTERS)
    assert isinstance(counter, ResourceAny)
    assert counter.owned
    incr = _func(guest.store, guest.instance, "[method]counter.incr", COUNTERS)
    assert _call(guest.store, incr, counter, 2) == 7
    assert _call(guest.store, incr, counter, 3) == 10
    # borrow<counter>: the caller keeps it.
    assert guest.call("total", counter, interface=COUNTERS) == 10
    assert guest.call("[method]counter.get", counter, interface=COUNTERS) == 10
    # own<counter>: the guest takes it, and the Python object is spent.
    counter_type = counter.type
    assert guest.call("consume", counter, interface=COUNTERS) == 100
    with pytest.raises(ValueError):
        counter.type

    made = guest.call("[constructor]counter", 41, interface=COUNTERS)
    assert made.owned
    assert made.type == counter_type
    assert guest.call("[method]counter.incr", made, 1, interface=COUNTERS) == 42
    made.drop(guest.store)
    with pytest.raises(TypeError):
        guest.call("total", 3, interface=COUNTERS)


def test_kitchen_host_exception_reaches_the_caller(engine, kitchen):
    error = RuntimeError("host says no")
    host = Host(fail=error)
    store, instance = _kitchen_instance(engine, kitchen, host)
    with pytest.raises(RuntimeError) as info:
        _call(store, _func(store, instance, "echo-words"), [1, 2])
    assert str(info.value) == "host says no"
    assert host.calls == [("words", [1, 2])]


def test_kitchen_trap_poisons_the_instance(engine, kitchen):
    # After a trap Wasmtime refuses to enter the instance again; a new
    # instance of the same component works.
    host = Host(fail=RuntimeError("once"))
    store, instance = _kitchen_instance(engine, kitchen, host)
    with pytest.raises(RuntimeError):
        _call(store, _func(store, instance, "echo-option"), 1)
    with pytest.raises(WasmtimeError):
        _call(store, _func(store, instance, "maybe-div"), 4, 2)
    store, instance = _kitchen_instance(engine, kitchen, Host())
    assert _call(store, _func(store, instance, "maybe-div"), 4, 2) == 2


def test_kitchen_missing_host_import(engine, kitchen):
    linker = Linker(engine)
    linker.add_wasip2()
    with linker.root() as root:
        with root.add_instance(KITCHEN_TYPES):
            pass
    store = Store(engine)
    store.set_wasi(WasiConfig())
    with pytest.raises(WasmtimeError):
        linker.instantiate(store, kitchen)


def test_kitchen_host_returns_wrong_type(engine, kitchen):
    host = Host()
    host.returns = {"words": ["not a u32"]}
    store, instance = _kitchen_instance(engine, kitchen, host)
    with pytest.raises(TypeError):
        _call(store, _func(store, instance, "echo-words"), [1])


def test_kitchen_instances_are_independent(engine, kitchen):
    a_host, b_host = Host(), Host()
    a_store, a = _kitchen_instance(engine, kitchen, a_host)
    b_store, b = _kitchen_instance(engine, kitchen, b_host)
    ca = _call(a_store, _func(a_store, a, "make-counter", COUNTERS), 1)
    cb = _call(b_store, _func(b_store, b, "make-counter", COUNTERS), 100)
    assert _call(a_store, _func(a_store, a, "total", COUNTERS), ca) == 1
    assert _call(b_store, _func(b_store, b, "total", COUNTERS), cb) == 100
    _call(a_store, _func(a_store, a, "greet"), "a")
    assert a_host.calls == [("log", "greeting a")]
    assert b_host.calls == []


# ---- type reflection of a WIT-only component -------------------------------

SHAPES = "test:reflect/shapes@0.2.0"
SCALARS_IFACE = "test:reflect/scalars@0.2.0"


@pytest.fixture(scope="module")
def reflect(engine, real_component):
    return Component.from_file(engine, real_component("reflect"))


def test_reflect_world(engine, reflect):
    ty = reflect.type
    assert set(ty.imports(engine)) == {SHAPES, "clock"}
    assert set(ty.exports(engine)) == {SCALARS_IFACE, SHAPES, "run"}
    clock = ty.imports(engine)["clock"].ty
    assert isinstance(clock, FuncType)
    assert clock.params == [] and clock.result == U64()
    run = ty.exports(engine)["run"].ty
    assert [n for n, _ in run.params] == ["args"]
    assert isinstance(run.params[0][1], ListType) and run.params[0][1].element == String()
    assert isinstance(run.result, ResultType)
    assert run.result.ok == U32() and run.result.err == String()


def test_reflect_scalars(engine, reflect):
    funcs = reflect.type.exports(engine)[SCALARS_IFACE].ty.exports(engine)
    assert list(funcs) == ["take-all", "nothing"]
    take = funcs["take-all"].ty
    assert [n for n, _ in take.params] == list("abcdefghijklm")
    assert [t for _, t in take.params] == [
        Bool(),
        S8(),
        S16(),
        S32(),
        S64(),
        U8(),
        U16(),
        U32(),
        U64(),
        F32(),
        F64(),
        Char(),
        String(),
    ]
    assert take.result is None
    assert funcs["nothing"].ty.params == [] and funcs["nothing"].ty.result is None


def test_reflect_interface_types(engine, reflect):
    items = reflect.type.exports(engine)[SHAPES].ty.exports(engine)
    for name in ("point", "shape", "color", "perms", "pair", "blob", "paint", "open", "nested"):
        assert name in items, name
    point = items["point"].ty
    assert isinstance(point, RecordType)
    assert point.fields == [("x", S32()), ("y", S32()), ("label-text", String())]
    shape = items["shape"].ty
    assert isinstance(shape, VariantType)
    assert [n for n, _ in shape.cases] == ["circle", "rect", "empty"]
    assert shape.cases[0][1] == F64() and shape.cases[1][1] == point
    assert shape.cases[2][1] is None
    color = items["color"].ty
    assert isinstance(color, EnumType) and color.names == ["red", "green", "blue"]
    perms = items["perms"].ty
    assert isinstance(perms, FlagsType) and perms.names == ["read", "write", "exec"]
    pair = items["pair"].ty
    assert isinstance(pair, TupleType) and pair.elements == [U8(), String()]
    assert isinstance(items["blob"].ty, ResourceType)

    paint = items["paint"].ty
    assert paint.params == [("s", shape), ("c", color)]
    assert paint.result == perms


def test_reflect_nested_and_resources(engine, reflect):
    items = reflect.type.exports(engine)[SHAPES].ty.exports(engine)
    blob = items["blob"].ty
    nested = items["nested"].ty
    params = dict(nested.params)
    assert isinstance(params["a"], ListType) and isinstance(params["a"].element, ListType)
    assert params["a"].element.element == String()
    assert isinstance(params["b"], OptionType) and isinstance(params["b"].payload, OptionType)
    assert params["b"].payload.payload == U8()
    assert params["c"].ok is None and params["c"].err is None
    assert params["d"].ok is None and params["d"].err == U32()
    assert params["e"].ok == F32() and params["e"].err is None
    assert isinstance(nested.result, TupleType)
    assert nested.result.elements == [Bool(), Char()]

    opened = items["open"].ty.result
    assert isinstance(opened.ok, OwnType) and opened.ok.ty == blob
    merge = items["[static]blob.merge"].ty
    assert [type(t) for _, t in merge.params] == [BorrowType, BorrowType]
    assert merge.params[0][1].ty == blob
    assert isinstance(merge.result, OwnType) and merge.result.ty == blob
    ctor = items["[constructor]blob"].ty
    assert ctor.params[0][1].element == U8()
    size = items["[method]blob.size"].ty
    assert isinstance(size.params[0][1], BorrowType) and size.result == U64()

    # The imported and the exported `blob` are different resource types.
    imported = reflect.type.imports(engine)[SHAPES].ty.exports(engine)["blob"].ty
    assert isinstance(imported, ResourceType)
    assert imported != blob


def test_reflect_trapping_instance(engine, reflect):
    linker = Linker(engine)
    linker.define_unknown_imports_as_traps(reflect)
    store = Store(engine)
    instance = linker.instantiate(store, reflect)
    nothing = _func(store, instance, "nothing", SCALARS_IFACE)
    with pytest.raises(WasmtimeError):
        nothing(store)


# ---- python -m wasmtime run, on the C-built command component --------------


def _cli(*args, stdin=b""):
    return subprocess.run(
        [sys.executable, "-m", "wasmtime", "run", *args],
        input=stdin,
        capture_output=True,
        timeout=300,
    )


def test_cli_runs_the_command_component(real_component, tmp_path):
    path = real_component("command")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.txt").write_text("y")
    r = _cli(
        "--dir",
        "%s::/d" % tmp_path,
        "--env",
        "LIST_DIR=/d",
        "--env",
        "GREETING=hello",
        path,
        "one",
        "two words",
        stdin=b"from stdin",
    )
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    assert "argv[1]=one\n" in out
    assert "argv[2]=two words\n" in out
    assert "env:GREETING=hello\n" in out
    assert "stdin=from stdin" in out
    assert "entry:a.txt\nentry:b.txt\n" in out


def test_cli_command_component_exit_status(real_component):
    # WASIp2 exit codes collapse to failure: any nonzero status is 1.
    r = _cli("--env", "EXIT_CODE=3", real_component("command"))
    assert r.returncode == 1, (r.stdout, r.stderr)
    r = _cli("--env", "EXIT_CODE=0", real_component("command"))
    assert r.returncode == 0, r.stderr.decode()
