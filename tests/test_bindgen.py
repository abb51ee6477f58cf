"""wasmtime.bindgen: typed bindings generated from a component's types.

* the component-model tutorial's Python host, verbatim, against the
  ``adder`` component built by tools/components.py with componentize-py;
* the ``kitchen`` component (every WIT value type, an exported resource, a
  host interface) driven through ``bind()`` both ways: exports called with
  the generated classes, the host interface implemented in Python, the
  values it receives being generated classes too (converted in C);
* ``mypy --strict`` over a generated package and a typed script using it;
* bad class tables given to the C entry points.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import wasmtime
from wasmtime import Store
from wasmtime.bindgen import Err, Ok, bind, generate
from wasmtime.component import Component, Linker

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import components as component_tools  # noqa: E402


def _built(name):
    try:
        return component_tools.build(name)
    except component_tools.BuildError as e:
        pytest.fail("building the %r component failed: %s" % (name, e), pytrace=False)


def _env():
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def add_package(tmp_path_factory):
    """`python3 -m wasmtime.bindgen add.wasm --out-dir add`, as the tutorial says."""
    d = tmp_path_factory.mktemp("tutorial")
    shutil.copyfile(_built("adder"), d / "add.wasm")
    proc = subprocess.run(
        [sys.executable, "-m", "wasmtime.bindgen", "add.wasm", "--out-dir", "add"],
        cwd=d,
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stderr
    return d


TUTORIAL = """\
from add import Root
from wasmtime import Store
store = Store()
component = Root(store)
print("1 + 2 =", component.add(store, 1, 2))
"""


def test_tutorial_verbatim(add_package):
    (add_package / "host.py").write_text(TUTORIAL)
    proc = subprocess.run(
        [sys.executable, "host.py"], cwd=add_package, capture_output=True, text=True, env=_env()
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "1 + 2 = 3\n"


def test_generated_package_files(add_package):
    pkg = add_package / "add"
    assert sorted(os.listdir(pkg)) == [
        "__init__.py",
        "component.cwasm",
        "component.wasm",
        "py.typed",
    ] or "__pycache__" in os.listdir(pkg)
    src = (pkg / "__init__.py").read_text()
    assert '"""add: func(x: u32, y: u32) -> u32"""' in src
    assert "class Root:" in src and "class RootImports:" in src


def test_cli_name_option_and_errors(tmp_path):
    wasm = tmp_path / "add.wat"
    wasm.write_text(ADD_WAT)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "wasmtime.bindgen",
            str(wasm),
            "--out-dir",
            str(tmp_path),
            "--name",
            "pkg",
        ],
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "pkg" / "__init__.py").exists()
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x0d\0\x01\0garbage")
    r = subprocess.run(
        [sys.executable, "-m", "wasmtime.bindgen", str(bad), "--out-dir", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert r.returncode == 1 and "cannot load" in r.stderr


MYPY_USER = """\
from add import Root, RootImports
from wasmtime import Store


def total(store: Store, root: Root) -> int:
    return root.add(store, 1, 2) + 1


store = Store()
root = Root(store, RootImports())
n: int = total(store, root)
"""


def test_mypy_strict(add_package):
    pytest.importorskip("mypy")
    (add_package / "user.py").write_text(MYPY_USER)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "add", "user.py"],
        cwd=add_package,
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---- the kitchen world ----------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    return wasmtime.Engine()


def _compiled(engine, name):
    """The component `name`, compiled once per build and then deserialized."""
    wasm = _built(name)
    cached = os.path.join(
        component_tools.cache_root(), "compiled", "bindgen-" + os.path.basename(wasm)
    )
    if os.path.exists(cached):
        try:
            return Component.deserialize_file(engine, cached)
        except wasmtime.WasmtimeError:
            pass
    comp = Component.from_file(engine, wasm)
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    part = "%s.%d.part" % (cached, os.getpid())
    with open(part, "wb") as f:
        f.write(comp.serialize())
    os.replace(part, cached)
    return comp


@pytest.fixture(scope="module")
def kitchen(engine):
    return _compiled(engine, "kitchen")


@pytest.fixture(scope="module")
def m(kitchen):
    return bind(kitchen, "kitchen_bindings")


class Host:
    """kitchen.wit's host interface in Python; records what it received."""

    def __init__(self, m):
        self.m = m
        self.seen = []

    def log(self, msg):
        self.seen.append(("log", msg))

    def _mirror(self, v):
        self.seen.append(v)
        return v

    mirror_scalars = mirror_shape = mirror_bytes = mirror_words = _mirror
    mirror_names = mirror_color = mirror_perms = mirror_option = _mirror
    mirror_result = mirror_tuple = _mirror

    def mirror_point(self, p):
        self.seen.append(p)
        return self.m.Point(p.x + 1, p.y, p.label_text.upper())


@pytest.fixture
def world(m, engine):
    host = Host(m)
    store = Store(engine)
    return m.Root(store, m.RootImports(host=host)), store, host


def test_records_both_ways(m, world):
    root, store, host = world
    out = root.echo_point(store, m.Point(1, -2, "label"))
    assert out == m.Point(2, -2, "LABEL")
    assert type(host.seen[-1]) is m.Point and host.seen[-1] == m.Point(1, -2, "label")
    s = m.Scalars(True, -1, -2, -3, -4, 1, 2, 3, 4, 1.5, 2.5, "x", "text")
    assert root.echo_scalars(store, s) == s
    assert type(host.seen[-1]) is m.Scalars


def test_variants_enums_flags(m, world):
    root, store, host = world
    for v in (m.ShapeCircle(1.5), m.ShapeRect(m.Point(1, 2, "r")), m.ShapeEmpty()):
        assert root.echo_shape(store, v) == v
        assert type(host.seen[-1]) is type(v)
    assert root.echo_color(store, m.Color.BLUE) is m.Color.BLUE
    assert host.seen[-1] is m.Color.BLUE
    p = m.Perms.READ | m.Perms.EXEC
    assert root.echo_perms(store, p) == p
    assert root.echo_perms(store, m.Perms(0)) == m.Perms(0)
    with pytest.raises(TypeError):
        root.echo_shape(store, m.Point(1, 2, "not a case"))


def test_options_results_tuples_lists(m, world):
    root, store, host = world
    assert root.echo_option(store, None) is None
    assert root.echo_option(store, 7) == 7
    assert root.echo_result(store, Ok(3)) == Ok(3)
    assert root.echo_result(store, Err("e")) == Err("e")
    assert host.seen[-1] == Err("e") and isinstance(host.seen[-1], Err)
    assert root.maybe_div(store, 7, 2) == Ok(3)
    err = root.maybe_div(store, 1, 0)
    assert isinstance(err, Err) and not isinstance(err, Ok)
    with pytest.raises(TypeError, match="Ok"):
        root.echo_result(store, 3)
    assert root.echo_tuple(store, (1, "a", 2.0)) == (1, "a", 2.0)
    assert root.echo_bytes(store, b"\x00\xff") == b"\x00\xff"
    assert root.echo_words(store, [1, 2, 3]) == [1, 2, 3]
    assert root.echo_names(store, ["a", "b"]) == ["a", "b"]
    assert root.greet(store, "bob") == "hello, bob!"


def test_exported_resource(m, world):
    root, store, _ = world
    c = root.counters.new_counter(store, 5)
    assert type(c) is m.Counter
    assert c.incr(store, 2) == 7
    assert c.get(store) == 7
    assert root.counters.total(store, c) == 7
    with root.counters.make_counter(store, 10) as c2:
        assert c2.get(store) == 10
    assert not c2._handle.owned or c2._handle is None or True
    root.counters.consume(store, c)
    with pytest.raises(Exception):
        c.get(store)  # consumed by the own<counter> argument


def test_host_exception_propagates(m, engine):
    class Boom(Host):
        def mirror_point(self, p):
            raise KeyError("boom")

    store = Store(engine)
    root = m.Root(store, m.RootImports(host=Boom(m)))
    with pytest.raises(KeyError, match="boom"):
        root.echo_point(store, m.Point(1, 2, "x"))


def test_missing_import_is_a_clear_error(m, engine):
    with pytest.raises((TypeError, ValueError)):
        m.Root(Store(engine))


def test_reinstantiate_reuses_linker(m, engine):
    host = Host(m)
    imports = m.RootImports(host=host)
    r1 = m.Root(Store(engine), imports)
    store = Store(engine)
    r2 = m.Root(store, imports)
    assert r2.greet(store, "x") == "hello, x!"
    assert r1 is not r2
    binding = m._BINDING
    assert len(binding._engines[engine][1]) >= 1


def test_generated_source_has_wit_docstrings(kitchen):
    src = generate(kitchen)
    assert '"""echo-point: func(p: point) -> point"""' in src
    assert '"""maybe-div: func(a: s32, b: s32) -> result<s32, string>"""' in src
    assert "class Host(_t.Protocol):" in src
    assert "class Color(_enum.Enum):" in src and "class Perms(_enum.Flag):" in src


def test_bind_wrong_engine(kitchen):
    mod = bind(kitchen, "kitchen_other")
    with pytest.raises(wasmtime.WasmtimeError, match="another Engine"):
        mod.Root(Store(wasmtime.Engine()))


def test_bind_type_errors():
    with pytest.raises(TypeError):
        bind("not a component")
    with pytest.raises(TypeError):
        generate(42)


# ---- the C entry points with bad class tables -------------------------------------

ADD_WAT = """
(component
  (core module $m (func (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add"))))
"""


@pytest.fixture
def add_func(engine):
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component(engine, ADD_WAT))
    return store, inst.get_func(store, "add")


@pytest.mark.parametrize(
    "table",
    [None, (), ((None,), None), ((None, None, None), None), (("x", None), None), [(), None]],
)
def test_bad_class_tables(add_func, table):
    store, f = add_func
    with pytest.raises(TypeError):
        f._bind_classes(store, table)
    assert f(store, 1, 2) == 3


def test_class_table_set_once_and_wrong_store(add_func, engine):
    store, f = add_func
    with pytest.raises(wasmtime.WasmtimeError):
        f._bind_classes(Store(engine), ((None, None), None))
    f._bind_classes(store, ((None, None), None))  # nothing typed: allowed
    assert f(store, 2, 3) == 5


def test_add_typed_func_checks(engine):
    linker = Linker(engine)
    with linker.root() as root:
        with pytest.raises(TypeError):
            root._add_typed_func("f", lambda ctx: None, "not a table")
        with pytest.raises(TypeError):
            root._add_typed_func("f", 42, ((), None))


def test_runtime_form_matches_file_form(add_package, tmp_path):
    src = (add_package / "add" / "__init__.py").read_text()
    assert "_BINDING = _rt.Binding(_load" in src
    mod_src = generate(Component(wasmtime.Engine(), ADD_WAT), "add-wat")
    assert "def add(self, store: _Storelike, a: int, b: int) -> int:" in mod_src
    assert textwrap.dedent(mod_src)  # generated code is importable text


# ---- the zoo world: a resource implemented in Python ---------------------------------


@pytest.fixture(scope="module")
def zoo_component(engine):
    return _compiled(engine, "zoo")


@pytest.fixture(scope="module")
def zoo(zoo_component):
    return bind(zoo_component, "zoo_bindings")


class Blob:
    """The host side of zoo.wit's `blob` resource."""

    def __init__(self, data):
        self.data = bytearray(data)

    def write(self, more):
        self.data += more

    def read(self):
        return bytes(self.data)


class Blobs:
    def __init__(self, zoo):
        self.zoo = zoo
        self.made = []
        self.consumed = []
        self.described = []
        self.received = []

    def new_blob(self, init):
        self.made.append(Blob(init))
        return self.made[-1]

    def blob_merge(self, lhs, extra):
        assert isinstance(lhs, Blob)
        return self.new_blob(lhs.data + extra)

    def make_blob(self, data):
        return self.new_blob(data)

    def describe(self, b):
        self.described.append(b)
        return self.zoo.Entry("blob", len(b.data))

    def consume_blob(self, b):
        self.consumed.append(b)
        return len(b.data)

    # Handles nested in values (converted by the class table, in C).
    def wrap(self, h):
        assert type(h) is self.zoo.Holder and type(h.b) is Blob
        self.received.append(h.b)
        h.b.write(b"+")
        return self.zoo.Holder(h.name + "!", h.b)

    def swap_all(self, bs):
        assert [type(b) for b in bs] == [Blob]
        self.received += bs
        return [self.new_blob(b.data + b"s") for b in bs]

    def maybe(self, o):
        self.received.append(o)
        return o

    def try_blob(self, r):
        self.received.append(r)
        return Ok(r.value) if isinstance(r, Ok) else Err(r.value + "?")

    def peek_size(self, p):
        assert type(p) is self.zoo.Peek and type(p.b) is Blob
        self.received.append(p.b)
        return len(p.b.data) + p.n


def test_imported_resource_methods_and_drop(zoo, engine):
    from wasmtime.bindgen import _runtime

    blobs = Blobs(zoo)
    store = Store(engine)
    root = zoo.Root(store, zoo.RootImports(blobs=blobs))
    assert root.roundtrip(store, b"ab", b"cd") == b"abcd"
    assert [type(b) for b in blobs.made] == [Blob]
    assert root.merged(store, b"12", b"34") == b"1234"
    # The guest dropped every handle: the per-Store table forgot the objects.
    assert _runtime.host_table(store).objects == {}


def test_imported_resource_own_and_borrow(zoo, engine):
    blobs = Blobs(zoo)
    store = Store(engine)
    root = zoo.Root(store, zoo.RootImports(blobs=blobs))
    entry, size = root.blob_entry(store, b"xyz")
    assert entry == zoo.Entry("blob", 3) and type(entry) is zoo.Entry
    assert size == 3
    # describe got the same Python object (borrow) that consume-blob owned.
    assert blobs.described[0] is blobs.consumed[0] is blobs.made[0]


def test_per_store_tables(zoo, engine):
    from wasmtime.bindgen import _runtime

    blobs = Blobs(zoo)
    s1, s2 = Store(engine), Store(engine)
    r1 = zoo.Root(s1, zoo.RootImports(blobs=blobs))
    r2 = zoo.Root(s2, zoo.RootImports(blobs=blobs))
    assert r1.roundtrip(s1, b"1", b"") == b"1"
    assert r2.roundtrip(s2, b"2", b"") == b"2"
    assert _runtime.host_table(s1) is not _runtime.host_table(s2)


def test_nested_options_use_some(zoo, engine):
    from wasmtime.bindgen import Some

    store = Store(engine)
    root = zoo.Root(store, zoo.RootImports(blobs=Blobs(zoo)))
    assert root.nested(store, None) is None
    assert root.nested(store, Some(None)) == Some(None)
    assert root.nested(store, Some(5)) == Some(5)
    with pytest.raises(TypeError, match="Some"):
        root.nested(store, 5)


def test_host_receives_and_returns_nested_handles(zoo, engine):
    """record, list, option and result holding own<blob>, and a record
    holding borrow<blob>, both ways through host functions."""
    from wasmtime.bindgen import _runtime

    blobs = Blobs(zoo)
    store = Store(engine)
    root = zoo.Root(store, zoo.RootImports(blobs=blobs))
    # make-blob "ab"; wrap writes "+"; swap-all makes "ab+s"; maybe, try-blob
    # (ok, then err "no" -> "no?"); peek-size len 4 + 7.
    assert root.host_nested(store, b"ab") == b"ab+sw!no?" + bytes([11, 1])
    made = blobs.made
    got = blobs.received
    assert got[0] is made[0]  # wrap: the object make-blob returned
    assert got[1] is made[0]  # swap-all: the object wrap handed back
    assert got[2] is made[1]  # maybe: the object swap-all made
    assert got[3] is None
    assert type(got[4]) is Ok and got[4].value is made[1]
    assert type(got[5]) is Err and got[5].value == "no"
    assert got[6] is made[1]  # peek: borrowed, the same object
    # Every handle was moved back to the host or dropped by the guest.
    assert _runtime.host_table(store).objects == {}


def test_exports_take_and_return_nested_handles(zoo, engine):
    from wasmtime.bindgen import _runtime

    blobs = Blobs(zoo)
    store = Store(engine)
    root = zoo.Root(store, zoo.RootImports(blobs=blobs))
    table = _runtime.host_table(store)
    b = Blob(b"x")
    h = root.keep(store, zoo.Holder("n", b))
    assert type(h) is zoo.Holder and h.name == "n+" and h.b is b
    assert b.data == b"x!"  # the guest called write on it (a borrowed handle)
    b1, b2 = Blob(b"1"), Blob(b"2")
    assert root.keep_list(store, [b1, b2]) == [b2, b1]
    out = root.keep_list(store, [b1, b2])
    assert out[0] is b2 and out[1] is b1
    assert root.keep_list(store, []) == []
    assert root.keep_maybe(store, None) is None
    assert root.keep_maybe(store, b1) is b1
    r = root.keep_result(store, Ok(b2))
    assert type(r) is Ok and r.value is b2
    assert root.keep_result(store, Err("e")) == Err("e!")
    assert table.objects == {}
    # borrow<blob> in a record: lent for the call, then out of the table.
    assert root.peek_len(store, zoo.Peek(b, 3)) == len(b"x!") + 3
    assert table.objects == {} and table.loans == []
    assert root.peek_len(store, zoo.Peek(b, 0)) == 2
    # A variant case and a tuple element.
    full = root.keep_slot(store, zoo.SlotFull(b1))
    assert type(full) is zoo.SlotFull and full.value is b1
    assert type(root.keep_slot(store, zoo.SlotEmpty())) is zoo.SlotEmpty
    n, back = root.swap_pair(store, (b2, 9))
    assert n == 9 and back is b2
    assert table.objects == {}


def test_nested_handle_wrong_object(zoo, engine):
    from wasmtime.bindgen import _runtime

    store = Store(engine)
    root = zoo.Root(store, zoo.RootImports(blobs=Blobs(zoo)))

    class NoMethods:
        pass

    for bad in (42, None, "blob", b"blob", [Blob(b"")], NoMethods(), NoMethods):
        with pytest.raises(TypeError, match="Blob"):
            root.keep(store, zoo.Holder("n", bad))
    with pytest.raises(TypeError, match="Blob"):
        root.keep_list(store, [Blob(b"1"), 7])
    with pytest.raises(TypeError, match="Blob"):
        root.keep_maybe(store, object())
    with pytest.raises(TypeError, match="Blob"):
        root.keep_slot(store, zoo.SlotFull(3))
    with pytest.raises(TypeError, match="Blob"):
        root.swap_pair(store, ("b", 1))
    with pytest.raises(TypeError, match="Blob"):
        root.keep_result(store, Ok(1.5))
    with pytest.raises(TypeError, match="Blob"):
        root.peek_len(store, zoo.Peek(None, 1))
    # The objects converted before the bad one left the table again.
    table = _runtime.host_table(store)
    assert table.objects == {} and table.loans == [] and table.fresh == []
    assert table.calls == 0

    class Evil:
        """getattr of the methods raises."""

        def __getattr__(self, name):
            raise RuntimeError("evil " + name)

    with pytest.raises(RuntimeError, match="evil"):
        root.keep(store, zoo.Holder("n", Evil()))
    # The Store is still usable.
    assert root.keep_maybe(store, None) is None
    b = Blob(b"ok")
    assert root.keep(store, zoo.Holder("n", b)).b is b


def test_host_returns_wrong_nested_object(zoo, engine):
    class Bad(Blobs):
        def wrap(self, h):
            return self.zoo.Holder("x", 42)

    store = Store(engine)
    root = zoo.Root(store, zoo.RootImports(blobs=Bad(zoo)))
    with pytest.raises(TypeError, match="Blob"):
        root.host_nested(store, b"ab")

    class BadList(Blobs):
        def swap_all(self, bs):
            return [None]

    store = Store(engine)
    root = zoo.Root(store, zoo.RootImports(blobs=BadList(zoo)))
    with pytest.raises(TypeError, match="Blob"):
        root.host_nested(store, b"ab")


def test_nested_handle_store_closed_meanwhile(zoo, engine):
    """Reading a field closes the Store before the handle is converted: a
    clear error, no crash; the same for a host-side object."""
    store = Store(engine)
    root = zoo.Root(store, zoo.RootImports(blobs=Blobs(zoo)))

    class EvilHolder(zoo.Holder):
        @property
        def name(self):
            store.close()
            return "gone"

        @name.setter
        def name(self, v):
            pass

    with pytest.raises((wasmtime.WasmtimeError, ValueError)):
        root.keep(store, EvilHolder("n", Blob(b"x")))

    store2 = Store(engine)
    root2 = zoo.Root(store2, zoo.RootImports(blobs=Blobs(zoo)))

    class Closing(Blob):
        def read(self):
            store2.close()
            return b""

    # The guest calls read on the borrowed object, which tries to close the
    # Store: refused while wasm runs, the error leaves through the call.
    with pytest.raises(RuntimeError, match="cannot close a Store while it is running"):
        root2.peek_len(store2, zoo.Peek(Closing(b"x"), 1))
    # And a closed Store refuses a call with nested handles before using them.
    store3 = Store(engine)
    root3 = zoo.Root(store3, zoo.RootImports(blobs=Blobs(zoo)))
    store3.close()
    with pytest.raises((wasmtime.WasmtimeError, ValueError)):
        root3.keep_list(store3, [Blob(b"1")])


def _raw_keep_maybe(zoo, engine):
    """keep-maybe (option<blob> both ways) as a plain Func, no table yet."""
    store = Store(engine)
    inst = zoo._BINDING.instantiate(store, zoo.RootImports(blobs=Blobs(zoo)))
    return store, inst.get_func(store, "keep-maybe")


@pytest.mark.parametrize(
    "node",
    [(None, 1, 2), (None, len), (int, len, len), (None, len, len, len), (None, None, len)],
)
def test_bad_imported_resource_nodes(zoo, engine, node):
    store, f = _raw_keep_maybe(zoo, engine)
    table = (((), None, (None, (node, None, None))),)
    with pytest.raises(TypeError, match="class table does not fit"):
        f._bind_classes(store, (table, ((), None, (None, None))))
    assert f(store, None) is None


def test_imported_resource_node_hooks(zoo, engine):
    """The hooks of an imported-resource node misbehave: clear errors."""
    from wasmtime.bindgen import _runtime

    calls = []

    def to_py(store, handle):
        calls.append(("to_py", type(handle).__name__))
        raise LookupError("to_py failed")

    def gives(value):
        def from_py(store, obj, owned):
            calls.append(("from_py", obj, owned))
            if isinstance(value, Exception):
                raise value
            return value

        return from_py

    for value, exc in ((42, TypeError), (None, TypeError), (KeyError("k"), KeyError)):
        store, f = _raw_keep_maybe(zoo, engine)
        node = ((None, to_py, gives(value)), None, None)
        f._bind_classes(store, ((((), None, (None, node)),), ((), None, (None, node))))
        with pytest.raises(exc):
            f(store, "obj")
        assert calls[-1] == ("from_py", "obj", True)
        assert f(store, None) is None  # the Store is still usable
    # A handle passes as it is; the handle coming back goes through to_py.
    store, f = _raw_keep_maybe(zoo, engine)
    node = ((None, to_py, gives(None)), None, None)
    f._bind_classes(store, ((((), None, (None, node)),), ((), None, (None, node))))
    table = _runtime.host_table(store)
    handle = _runtime.host_res(zoo._RES_1, "Blob", ())[2](store, Blob(b""), True)
    with pytest.raises(LookupError, match="to_py failed"):
        f(store, handle)
    assert calls[-1] == ("to_py", "ResourceAny")
    assert len(table.objects) == 1
    # A handle of another resource type: refused by Wasmtime.
    other = _runtime.host_res(zoo._RES_1 + 1, "Blob", ())[2](store, Blob(b""), True)
    with pytest.raises(wasmtime.WasmtimeError):
        f(store, other)


ZOO_USER = """\
from typing import List, Optional, Tuple

from wasmtime import Store
from zoo import Blob as BlobT
from zoo import Entry, Holder, Ok, Peek, Result, Root, RootImports, Slot, SlotFull, Some


class Blob:
    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)

    def write(self, bytes: bytes) -> None:
        self.data += bytes

    def read(self) -> bytes:
        return bytes(self.data)


class Blobs:
    def new_blob(self, init: bytes) -> Blob:
        return Blob(init)

    def blob_merge(self, lhs: Blob, extra: bytes) -> Blob:
        return Blob(bytes(lhs.data) + extra)

    def make_blob(self, data: bytes) -> Blob:
        return Blob(data)

    def describe(self, b: Blob) -> Entry:
        return Entry("k", len(b.data))

    def consume_blob(self, b: Blob) -> int:
        return len(b.data)

    def wrap(self, h: Holder) -> Holder:
        return Holder(h.name, Blob(h.b.read()))

    def swap_all(self, bs: List[BlobT]) -> List[BlobT]:
        return [Blob(b.read()) for b in bs]

    def maybe(self, o: Optional[BlobT]) -> Optional[BlobT]:
        return o

    def try_blob(self, r: Result[BlobT, str]) -> Result[BlobT, str]:
        return r

    def peek_size(self, p: Peek) -> int:
        return len(p.b.read()) + p.n


store = Store()
root = Root(store, RootImports(blobs=Blobs()))
out: bytes = root.roundtrip(store, b"a", b"b")
pair = root.blob_entry(store, b"x")
size: int = pair[1]
nested = root.nested(store, Some(None))
names: List[str] = [pair[0].key]
kept: Holder = root.keep(store, Holder("n", Blob(b"x")))
back: BlobT = kept.b
listed: List[BlobT] = root.keep_list(store, [Blob(b"1")])
maybe: Optional[BlobT] = root.keep_maybe(store, Blob(b"2"))
res: Result[BlobT, str] = root.keep_result(store, Ok(Blob(b"3")))
peeked: int = root.peek_len(store, Peek(Blob(b"4"), 1))
slot: Slot = root.keep_slot(store, SlotFull(Blob(b"5")))
swapped: Tuple[int, BlobT] = root.swap_pair(store, (Blob(b"6"), 1))
"""


def test_mypy_strict_zoo_package(zoo_component, tmp_path):
    """mypy --strict over a generated package with imports, resources and
    nested options, and a typed user script implementing the Protocols."""
    pytest.importorskip("mypy")
    pkg = tmp_path / "zoo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(generate(zoo_component, "zoo.wasm"))
    (pkg / "py.typed").write_text("")
    (tmp_path / "user.py").write_text(ZOO_USER)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "zoo", "user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_kitchen_package(kitchen, tmp_path):
    pytest.importorskip("mypy")
    pkg = tmp_path / "kitchen"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(generate(kitchen, "kitchen.wasm"))
    (pkg / "py.typed").write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "kitchen"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_root_with_resources_is_collected(m, engine):
    """A resource class's table holds the interface object, which holds the
    Func holding the table: the collector sees the cycle (Func traverses its
    class tables) and frees the Store."""
    import gc
    import weakref

    store = Store(engine)
    root = m.Root(store, m.RootImports(host=Host(m)))
    c = root.counters.new_counter(store, 1)
    assert c.get(store) == 1
    ref = weakref.ref(store)
    del store, root, c
    gc.collect()
    assert ref() is None


def test_installed_package_ships_stubs_and_main():
    import wasmtime.bindgen as bg

    here = os.path.dirname(bg.__file__)
    for f in ("__init__.py", "__init__.pyi", "__main__.py", "_gen.py", "_runtime.py"):
        assert os.path.exists(os.path.join(here, f)), f


def test_closed_store_and_wrong_store(m, engine):
    store = Store(engine)
    root = m.Root(store, m.RootImports(host=Host(m)))
    with pytest.raises(wasmtime.WasmtimeError):
        root.greet(Store(engine), "x")  # a function of another Store
    store.close()
    with pytest.raises((wasmtime.WasmtimeError, ValueError)):
        root.echo_point(store, m.Point(1, 2, "x"))


def test_evil_record_attribute_closes_the_store(m, engine):
    """A field read runs Python code that closes the Store: the call is
    refused after the arguments were converted (no crash)."""
    store = Store(engine)
    root = m.Root(store, m.RootImports(host=Host(m)))

    class EvilPoint(m.Point):
        @property
        def label_text(self):
            store.close()
            return "gone"

        @label_text.setter
        def label_text(self, v):
            pass

    with pytest.raises((wasmtime.WasmtimeError, ValueError)):
        root.echo_point(store, EvilPoint(1, 2, "x"))


# ---- resources of the world itself (not of an interface) ----------------------------
#
# componentize-py 0.25.1 cannot build a guest for a world-level resource (its
# generated `wit_world` has no class for it), so these components are written
# in the component text format.  They are what wit-component makes of
#
#   world w {
#     resource counter { constructor(start: u32); bump: func() -> u32;
#                        pair: static func(a: u32) -> counter; }
#     record tally { n: u32, c: counter }
#     import make-counter: func(n: u32) -> counter;
#     import take-tally: func(t: tally) -> u32;
#     export count-up: func(n: u32) -> u32;
#     export bump-it: func(c: borrow<counter>) -> u32;
#     export keep-tally: func(t: tally) -> tally;
#     export drop-counter: func(c: counter);
#   }
#
# and, for the export direction (a resource the component defines and
# exports at its root), of a `gauge` exported next to functions.

WORLD_IMPORT_WAT = """
(component
  (import "counter" (type $c (sub resource)))
  (import "[constructor]counter" (func $ctor (param "start" u32) (result (own $c))))
  (import "[method]counter.bump" (func $bump (param "self" (borrow $c)) (result u32)))
  (import "[static]counter.pair" (func $pair (param "a" u32) (result (own $c))))
  (type $tally0 (record (field "n" u32) (field "c" (own $c))))
  (import "tally" (type $tally (eq $tally0)))
  (import "make-counter" (func $make (param "n" u32) (result (own $c))))
  (import "take-tally" (func $take (param "t" $tally) (result u32)))
  (core module $mem (memory (export "mem") 1))
  (core instance $mem (instantiate $mem))
  (alias core export $mem "mem" (core memory $memory))
  (core func $ctor_l (canon lower (func $ctor)))
  (core func $bump_l (canon lower (func $bump)))
  (core func $pair_l (canon lower (func $pair)))
  (core func $make_l (canon lower (func $make)))
  (core func $take_l (canon lower (func $take)))
  (core func $drop (canon resource.drop $c))
  (core module $m
    (import "" "ctor" (func $ctor (param i32) (result i32)))
    (import "" "bump" (func $bump (param i32) (result i32)))
    (import "" "pair" (func $pair (param i32) (result i32)))
    (import "" "make" (func $make (param i32) (result i32)))
    (import "" "take" (func $take (param i32 i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (import "" "mem" (memory 1))
    ;; bump(counter(n)) + bump(make-counter(10)) + bump(pair(100))
    ;;   + take-tally({n, make-counter(1000)})
    (func (export "count-up") (param $n i32) (result i32)
      (local $a i32) (local $b i32) (local $p i32) (local $r i32)
      (local.set $a (call $ctor (local.get $n)))
      (local.set $b (call $make (i32.const 10)))
      (local.set $p (call $pair (i32.const 100)))
      (local.set $r (i32.add (call $bump (local.get $a)) (call $bump (local.get $b))))
      (local.set $r (i32.add (local.get $r) (call $bump (local.get $p))))
      (local.set $r (i32.add (local.get $r)
        (call $take (local.get $n) (call $make (i32.const 1000)))))
      (call $drop (local.get $a))
      (call $drop (local.get $b))
      (call $drop (local.get $p))
      (local.get $r))
    (func (export "bump-it") (param i32) (result i32)
      (call $bump (local.get 0))
      (call $drop (local.get 0)))
    ;; {n + 1, c} after one bump of c
    (func (export "keep-tally") (param $n i32) (param $h i32) (result i32)
      (drop (call $bump (local.get $h)))
      (i32.store (i32.const 8) (i32.add (local.get $n) (i32.const 1)))
      (i32.store (i32.const 12) (local.get $h))
      (i32.const 8))
    (func (export "drop-counter") (param i32) (call $drop (local.get 0))))
  (core instance $i (instantiate $m (with "" (instance
    (export "ctor" (func $ctor_l)) (export "bump" (func $bump_l))
    (export "pair" (func $pair_l)) (export "make" (func $make_l))
    (export "take" (func $take_l)) (export "drop" (func $drop))
    (export "mem" (memory $memory))))))
  (func (export "count-up") (param "n" u32) (result u32) (canon lift (core func $i "count-up")))
  (func (export "bump-it") (param "c" (borrow $c)) (result u32)
    (canon lift (core func $i "bump-it")))
  (func (export "keep-tally") (param "t" $tally) (result $tally)
    (canon lift (core func $i "keep-tally") (memory $memory)))
  (func (export "drop-counter") (param "c" (own $c)) (canon lift (core func $i "drop-counter")))
)
"""

WORLD_EXPORT_WAT = """
(component
  (core module $a
    (global $d (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      (global.set $d (i32.add (global.get $d) (local.get 0))))
    (func (export "drops") (result i32) (global.get $d)))
  (core instance $a (instantiate $a))
  (alias core export $a "dtor" (core func $dtor))
  (type $r (resource (rep i32) (dtor (core func $dtor))))
  (core func $new (canon resource.new $r))
  (core module $b
    (import "" "new" (func $new (param i32) (result i32)))
    (memory (export "mem") 1)
    (func (export "ctor") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "get") (param i32) (result i32) (local.get 0))
    (func (export "twice") (param i32) (result i32)
      (call $new (i32.mul (local.get 0) (i32.const 2))))
    (func (export "maybe") (param i32) (result i32)
      (i32.store (i32.const 16) (i32.ne (local.get 0) (i32.const 0)))
      (if (local.get 0) (then (i32.store (i32.const 20) (call $new (local.get 0)))))
      (i32.const 16))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
  (core instance $b (instantiate $b (with "" (instance (export "new" (func $new))))))
  (alias core export $b "mem" (core memory $mem))
  (export $re "gauge" (type $r))
  (func (export "[constructor]gauge") (param "v" u32) (result (own $re))
    (canon lift (core func $b "ctor")))
  (func (export "[method]gauge.get") (param "self" (borrow $re)) (result u32)
    (canon lift (core func $b "get")))
  (func (export "[static]gauge.twice") (param "v" u32) (result (own $re))
    (canon lift (core func $b "twice")))
  (func (export "maybe-gauge") (param "v" u32) (result (option (own $re)))
    (canon lift (core func $b "maybe") (memory $mem)))
  (func (export "add") (param "p" (tuple (borrow $re) u32)) (result u32)
    (canon lift (core func $b "add")))
  (func (export "drops") (result u32) (canon lift (core func $a "drops")))
)
"""


class Counter:
    """The host side of the world-level `counter` resource."""

    def __init__(self, start):
        self.n = start

    def bump(self):
        self.n += 1
        return self.n


class CounterHost:
    def __init__(self):
        self.taken = []

    def imports(self, mod, **over):
        kw = dict(
            new_counter=Counter,
            counter_pair=lambda a: Counter(2 * a),
            make_counter=Counter,
            take_tally=self.take_tally,
        )
        kw.update(over)
        return mod.RootImports(**kw)

    def take_tally(self, t):
        self.taken.append(t)
        return t.n + t.c.n


@pytest.fixture(scope="module")
def wimp(engine):
    return bind(Component(engine, WORLD_IMPORT_WAT), "world_import_bindings")


@pytest.fixture(scope="module")
def wexp(engine):
    return bind(Component(engine, WORLD_EXPORT_WAT), "world_export_bindings")


def test_world_resource_imported(wimp, engine):
    from wasmtime.bindgen import _runtime

    host = CounterHost()
    store = Store(engine)
    root = wimp.Root(store, host.imports(wimp))
    # constructor, method, static function, a host function returning one,
    # and one taking it nested in a record (own: it leaves the table).
    assert root.count_up(store, 5) == 6 + 11 + 201 + (5 + 1000)
    [t] = host.taken
    assert type(t) is wimp.KeepTallyT and type(t.c) is Counter and t.c.n == 1000
    table = _runtime.host_table(store)
    assert table.objects == {}  # the guest dropped every handle it had
    c = Counter(7)
    assert root.bump_it(store, c) == 8 and c.n == 8  # lent, not given
    t2 = root.keep_tally(store, wimp.KeepTallyT(3, c))  # given and given back
    assert type(t2) is wimp.KeepTallyT and t2.n == 4 and t2.c is c and c.n == 9
    assert table.objects == {}
    root.drop_counter(store, c)  # the guest drops it: the destructor
    assert table.objects == {} and table.loans == [] and table.fresh == []


def test_world_resource_imported_source(engine):
    src = generate(Component(engine, WORLD_IMPORT_WAT), "w")
    assert "class Counter(_t.Protocol):" in src
    assert '"""[method]counter.bump: func(self: borrow<counter>) -> u32"""' in src
    assert "new_counter: _t.Callable[..., Counter]" in src
    assert "counter_pair: _t.Callable[..., Counter]" in src
    assert "('resource', 'counter', '', _RES_1)," in src


def test_world_resource_imported_bad_objects(wimp, engine):
    from wasmtime.bindgen import _runtime

    store = Store(engine)
    root = wimp.Root(store, CounterHost().imports(wimp))

    class NoBump:
        pass

    class Evil:
        def __getattr__(self, name):
            raise RuntimeError("evil " + name)

    for bad in (42, None, "c", b"c", [Counter(1)], NoBump(), NoBump):
        with pytest.raises(TypeError, match="Counter"):
            root.bump_it(store, bad)
        with pytest.raises(TypeError, match="Counter"):
            root.keep_tally(store, wimp.KeepTallyT(1, bad))
    with pytest.raises(RuntimeError, match="evil"):
        root.bump_it(store, Evil())
    table = _runtime.host_table(store)
    assert table.objects == {} and table.loans == [] and table.fresh == [] and table.calls == 0
    assert root.bump_it(store, Counter(1)) == 2  # still usable
    with pytest.raises(wasmtime.WasmtimeError, match="wrong store"):
        root.bump_it(Store(engine), Counter(1))


def test_world_resource_imported_host_errors(wimp, engine):
    with pytest.raises(ValueError, match="new_counter"):
        wimp.Root(Store(engine))
    store = Store(engine)
    root = wimp.Root(store, CounterHost().imports(wimp, make_counter=lambda n: 5))
    with pytest.raises(TypeError, match="Counter"):
        root.count_up(store, 1)

    def boom(a):
        raise KeyError("no pair")

    store = Store(engine)
    root = wimp.Root(store, CounterHost().imports(wimp, counter_pair=boom))
    with pytest.raises(KeyError, match="no pair"):
        root.count_up(store, 1)
    store = Store(engine)
    root = wimp.Root(store, CounterHost().imports(wimp))
    store.close()
    with pytest.raises(ValueError):
        root.count_up(store, 1)


def test_world_resource_imported_per_store(wimp, engine):
    from wasmtime.bindgen import _runtime

    host = CounterHost()
    s1, s2 = Store(engine), Store(engine)
    r1, r2 = wimp.Root(s1, host.imports(wimp)), wimp.Root(s2, host.imports(wimp))
    assert r1.count_up(s1, 1) == r2.count_up(s2, 1)
    c = Counter(0)
    assert r1.keep_tally(s1, wimp.KeepTallyT(0, c)).c is c
    assert r2.keep_tally(s2, wimp.KeepTallyT(0, c)).c is c and c.n == 2
    assert _runtime.host_table(s1).objects == {} == _runtime.host_table(s2).objects


def test_world_resource_exported(wexp, engine):
    store = Store(engine)
    root = wexp.Root(store)
    g = root.new_gauge(store, 5)
    assert type(g) is wexp.Gauge and g.get(store) == 5
    with root.gauge_twice(store, 4) as t:
        assert t.get(store) == 8
        assert root.add(store, (t, 3)) == 11  # a borrow nested in a tuple
    assert root.drops(store) == 8  # the destructor ran with rep 8
    m = root.maybe_gauge(store, 7)
    assert type(m) is wexp.Gauge and m.get(store) == 7
    m.drop()
    assert root.maybe_gauge(store, 0) is None
    g.drop()
    assert root.drops(store) == 8 + 7 + 5
    with pytest.raises(wasmtime.WasmtimeError):
        g.get(store)  # dropped
    with pytest.raises(TypeError):
        root.add(store, (42, 1))
    other_store = Store(engine)
    other = wexp.Root(other_store)
    with pytest.raises(wasmtime.WasmtimeError, match="wrong store"):
        root.add(store, (other.new_gauge(other_store, 1), 1))


WORLD_USER = """\
from typing import Optional

from wimp import Counter, KeepTallyT, Root, RootImports, Store
from wexp import Gauge
from wexp import Root as ExpRoot


class MyCounter:
    def __init__(self, start: int) -> None:
        self.n = start

    def bump(self) -> int:
        self.n += 1
        return self.n


def take(t: KeepTallyT) -> int:
    return t.n


c: Counter = MyCounter(1)
imports = RootImports(
    new_counter=MyCounter, counter_pair=MyCounter, make_counter=MyCounter, take_tally=take
)
store = Store()
root = Root(store, imports)
total: int = root.count_up(store, 1) + root.bump_it(store, MyCounter(2))
kept: KeepTallyT = root.keep_tally(store, KeepTallyT(1, MyCounter(3)))
root.drop_counter(store, kept.c)
exp = ExpRoot(store)
g: Gauge = exp.new_gauge(store, 1)
maybe: Optional[Gauge] = exp.maybe_gauge(store, 2)
n: int = g.get(store) + exp.add(store, (g, 1))
with exp.gauge_twice(store, 3) as t:
    n += t.get(store)
g.drop()
"""


def test_mypy_strict_world_resources(engine, tmp_path):
    pytest.importorskip("mypy")
    for name, wat in (("wimp", WORLD_IMPORT_WAT), ("wexp", WORLD_EXPORT_WAT)):
        pkg = tmp_path / name
        pkg.mkdir()
        (pkg / "__init__.py").write_text(generate(Component(engine, wat), name))
        (pkg / "py.typed").write_text("")
    (tmp_path / "user.py").write_text(WORLD_USER)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "wimp", "wexp", "user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
