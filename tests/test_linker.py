"""Linker and InstancePre: wasmtime-py's API plus our extras (iteration,
alias, alias_module, and missing-import messages that list what is defined)."""

import gc
import textwrap
import weakref

import pytest

from wasmtime import (
    Engine,
    Func,
    FuncType,
    Global,
    GlobalType,
    Instance,
    InstancePre,
    Limits,
    Linker,
    Memory,
    MemoryType,
    Module,
    Store,
    Table,
    TableType,
    Trap,
    TrapCode,
    Val,
    ValType,
    WasmtimeError,
)

I32 = ValType.i32()
I64 = ValType.i64()
F64 = ValType.f64()


def sig(ty):
    return ([str(t) for t in ty.params], [str(t) for t in ty.results])


ADD_USER = """
(module
  (import "host" "add" (func $add (param i32 i32) (result i32)))
  (func (export "go") (param i32) (result i32)
    local.get 0 i32.const 100 call $add))
"""

COUNTER = """
(module
  (global $n (mut i32) (i32.const 0))
  (func (export "bump") (result i32)
    global.get $n i32.const 1 i32.add global.set $n global.get $n))
"""

COMMAND = """
(module
  (global $n (mut i32) (i32.const 0))
  (memory (export "memory") 1)
  (func (export "_start")
    global.get $n i32.const 1 i32.add global.set $n)
  (func (export "bump") (result i32)
    global.get $n i32.const 1 i32.add global.set $n global.get $n))
"""

REACTOR = """
(module
  (global $inits (mut i32) (i32.const 0))
  (global $n (mut i32) (i32.const 0))
  (memory (export "memory") 1)
  (func (export "_initialize")
    global.get $inits i32.const 1 i32.add global.set $inits)
  (func (export "inits") (result i32) global.get $inits)
  (func (export "bump") (result i32)
    global.get $n i32.const 1 i32.add global.set $n global.get $n))
"""


# ---- construction ----------------------------------------------------------------


def test_linker_engine(engine):
    linker = Linker(engine)
    assert linker.engine is engine


@pytest.mark.parametrize("bad", [2, None, "engine"])
def test_linker_requires_an_engine(bad):
    with pytest.raises(AttributeError):
        Linker(bad)
    with pytest.raises(TypeError):
        Linker(bad)


def test_linker_keeps_engine_alive():
    engine = Engine()
    linker = Linker(engine)
    del engine
    gc.collect()
    store = Store(linker.engine)
    linker.define_func("m", "f", FuncType([], [I32]), lambda: 4)
    assert linker.get(store, "m", "f")(store) == 4


# ---- define_func: store-independent host functions ----------------------------------


def test_define_func_many_stores(engine):
    calls = []

    def add(a, b):
        calls.append((a, b))
        return a + b

    linker = Linker(engine)
    linker.define_func("host", "add", FuncType([I32, I32], [I32]), add)
    module = Module(engine, ADD_USER)
    results = []
    for k in range(4):
        store = Store(engine)
        results.append(linker.instantiate(store, module).exports(store)["go"](store, k))
    assert results == [100, 101, 102, 103]
    assert calls == [(0, 100), (1, 100), (2, 100), (3, 100)]


def test_define_func_closure_state(engine):
    linker = Linker(engine)
    total = [0]

    def acc(x):
        total[0] += x
        return total[0]

    linker.define_func("host", "acc", FuncType([I64], [I64]), acc)
    store = Store(engine)
    f = linker.get(store, "host", "acc")
    assert isinstance(f, Func)
    assert sig(f.type(store)) == (["i64"], ["i64"])
    assert f(store, 5) == 5
    assert f(store, 2**40) == 5 + 2**40
    other = Store(engine)
    assert linker.get(other, "host", "acc")(other, 1) == 6 + 2**40


def test_define_func_access_caller(engine):
    module = Module(
        engine,
        """
        (module
          (import "host" "read" (func $read (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "hello linker")
          (func (export "go") (result i32) i32.const 16 i32.const 12 call $read))
    """,
    )
    seen = []

    def read(caller, ptr, length):
        mem = caller["memory"]
        seen.append(bytes(mem.read(caller, ptr, ptr + length)))
        return length * 2

    linker = Linker(engine)
    linker.define_func("host", "read", FuncType([I32, I32], [I32]), read, access_caller=True)
    for _ in range(2):
        store = Store(engine)
        assert linker.instantiate(store, module).exports(store)["go"](store) == 24
    assert seen == [b"hello linker", b"hello linker"]


def test_define_func_multiple_results(engine):
    linker = Linker(engine)
    linker.define_func("host", "pair", FuncType([], [I32, F64]), lambda: (7, 1.5))
    module = Module(
        engine,
        """
        (module
          (import "host" "pair" (func $p (result i32 f64)))
          (func (export "go") (result i32 f64) call $p))
    """,
    )
    store = Store(engine)
    assert linker.instantiate(store, module).exports(store)["go"](store) == [7, 1.5]


def test_define_func_outlives_linker(engine):
    """Host functions keep working after the Linker object is gone."""
    linker = Linker(engine)
    linker.define_func("host", "add", FuncType([I32, I32], [I32]), lambda a, b: a * b)
    store = Store(engine)
    go = linker.instantiate(store, Module(engine, ADD_USER)).exports(store)["go"]
    del linker
    gc.collect()
    assert go(store, 3) == 300


def test_define_func_callable_released_with_linker_and_stores(engine):
    class Host:
        def __call__(self, a, b):
            return a + b

    host = Host()
    ref = weakref.ref(host)
    linker = Linker(engine)
    linker.define_func("host", "add", FuncType([I32, I32], [I32]), host)
    del host
    store = Store(engine)
    assert linker.instantiate(store, Module(engine, ADD_USER)).exports(store)["go"](store, 1) == 101
    gc.collect()
    assert ref() is not None
    del linker, store
    gc.collect()
    assert ref() is None


def test_define_func_wrong_types(engine):
    linker = Linker(engine)
    with pytest.raises(TypeError):
        linker.define_func("m", "n", 2, lambda: None)
    with pytest.raises(TypeError):
        linker.define_func("m", "n", FuncType([], []), 3)
    with pytest.raises(AttributeError):
        linker.define_func(1, "n", FuncType([], []), lambda: None)
    with pytest.raises(AttributeError):
        linker.define_func("m", None, FuncType([], []), lambda: None)
    assert list(linker) == []


# ---- define: store-bound items ---------------------------------------------------------


def test_define_store_items(engine):
    store = Store(engine)
    linker = Linker(engine)
    func = Func(store, FuncType([], [I32]), lambda: 11)
    glob = Global(store, GlobalType(I32, True), Val.i32(5))
    mem = Memory(store, MemoryType(Limits(2, None)))
    table = Table(store, TableType(ValType.funcref(), Limits(3, None)), None)
    linker.define(store, "env", "f", func)
    linker.define(store, "env", "g", glob)
    linker.define(store, "env", "m", mem)
    linker.define(store, "env", "t", table)
    module = Module(
        engine,
        """
        (module
          (import "env" "f" (func $f (result i32)))
          (import "env" "g" (global $g (mut i32)))
          (import "env" "m" (memory 1))
          (import "env" "t" (table 1 funcref))
          (func (export "go") (result i32)
            i32.const 0 i32.const 42 i32.store
            global.get $g i32.const 1 i32.add global.set $g
            call $f memory.size i32.add table.size i32.add))
    """,
    )
    inst = linker.instantiate(store, module)
    assert inst.exports(store)["go"](store) == 11 + 2 + 3
    assert glob.value(store) == 6
    assert mem.read(store, 0, 4) == bytearray((42).to_bytes(4, "little"))
    assert isinstance(linker.get(store, "env", "m"), Memory)
    assert isinstance(linker.get(store, "env", "t"), Table)
    assert linker.get(store, "env", "g").value(store) == 6


def test_define_wrong_types(engine, store):
    linker = Linker(engine)
    f = Func(store, FuncType([], []), lambda: None)
    with pytest.raises(TypeError):
        linker.define(store, "m", "n", 2)
    with pytest.raises(TypeError):
        linker.define(store, "m", "n", FuncType([], []))
    with pytest.raises(AttributeError):
        linker.define(store, 2, "n", f)
    with pytest.raises(AttributeError):
        linker.define(store, "m", b"n", f)
    with pytest.raises(TypeError):
        linker.define(3, "m", "n", f)


def test_define_item_of_another_store_is_an_error(run_python):
    p = run_python(
        textwrap.dedent("""
        from wasmtime import *
        engine = Engine()
        linker = Linker(engine)
        a, b = Store(engine), Store(engine)
        f = Func(a, FuncType([], []), lambda: None)
        try:
            linker.define(b, "m", "n", f)
        except WasmtimeError as e:
            print("WasmtimeError")
        g = Global(a, GlobalType(ValType.i32(), False), Val.i32(1))
        linker.define(a, "m", "g", g)
        try:
            linker.instantiate(b, Module(engine, '(module (import "m" "g" (global i32)))'))
        except WasmtimeError as e:
            print("WasmtimeError")
    """)
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["WasmtimeError", "WasmtimeError"]


WRONG_STORE_CASES = {
    "define-global": (
        'l.define(a, "m", "x", Global(a, GlobalType(ValType.i32(), False), Val.i32(1)))',
        'l.get(S, "m", "x").value(S)',
    ),
    "define-func": (
        'l.define(a, "m", "x", Func(a, FuncType([], []), lambda: None))',
        'l.get(S, "m", "x")(S)',
    ),
    "define-memory": (
        'l.define(a, "m", "x", Memory(a, MemoryType(Limits(1, None))))',
        'l.get(S, "m", "x").size(S)',
    ),
    "instance": (
        'l.define_instance(a, "m", Instance(a, Module(engine, '
        "'(module (func (export \"x\")))'), []))",
        'l.get(S, "m", "x")(S)',
    ),
    "instance-default": (
        'l.define_instance(a, "m", Instance(a, Module(engine, '
        "'(module (func (export \"\")))'), []))",
        'l.get_default(S, "m")(S)',
    ),
    "reactor": (
        'l.define_module(a, "m", Module(engine, \'(module (func (export "x")))\'))',
        'l.get(S, "m", "x")(S)',
    ),
    "command": (
        'l.define_module(a, "m", Module(engine, '
        '\'(module (func (export "_start")) (func (export "x")))\'))',
        'l.get(S, "m", "x")(S)',
    ),
    "command-default": (
        'l.define_module(a, "m", Module(engine, \'(module (func (export "_start")))\'))',
        'l.get_default(S, "m")(S)',
    ),
    "alias": (
        'l.define(a, "m", "x", Func(a, FuncType([], []), lambda: None)); '
        'l.alias("m", "x", "n", "x")',
        'l.get(S, "n", "x")(S)',
    ),
    "default-values": (
        "l.define_unknown_imports_as_default_values(a, Module(engine, "
        '\'(module (import "m" "x" (global i32)))\'))',
        'l.get(S, "m", "x").value(S)',
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_STORE_CASES))
def test_store_bound_definitions_in_another_store(run_python, case):
    """Items defined with one Store, looked up with another: Wasmtime hands
    them out, and using one in the wrong Store panics (aborting the process).
    The lookup must raise WasmtimeError instead; the owning Store still works."""
    define, use = WRONG_STORE_CASES[case]
    p = run_python(
        textwrap.dedent("""
        from wasmtime import *
        engine = Engine()
        l = Linker(engine)
        a, b = Store(engine), Store(engine)
        %s
        S = a
        %s
        print("same store ok", flush=True)
        S = b
        try:
            %s
            print("no error")
        except WasmtimeError as e:
            print("WasmtimeError")
    """)
        % (define, use, use)
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split("\n")[:2] == ["same store ok", "WasmtimeError"], p.stdout


# ---- define_instance -------------------------------------------------------------------


def test_define_instance(engine, store):
    provider = Module(
        engine,
        """
        (module
          (global (export "answer") i32 (i32.const 42))
          (memory (export "mem") 1)
          (func (export "double") (param i32) (result i32) local.get 0 i32.const 2 i32.mul))
    """,
    )
    inst = Instance(store, provider, [])
    linker = Linker(engine)
    linker.define_instance(store, "prov", inst)
    user = Module(
        engine,
        """
        (module
          (import "prov" "double" (func $d (param i32) (result i32)))
          (import "prov" "answer" (global $a i32))
          (import "prov" "mem" (memory 1))
          (func (export "go") (result i32)
            i32.const 8 i32.const 7 i32.store
            global.get $a call $d))
    """,
    )
    assert linker.instantiate(store, user).exports(store)["go"](store) == 84
    # The provider's memory is the one the user wrote.
    assert inst.exports(store)["mem"].read(store, 8, 9) == bytearray(b"\x07")
    listed = [(m, n, type(t).__name__) for m, n, t in linker]
    assert listed == [
        ("prov", "answer", "GlobalType"),
        ("prov", "mem", "MemoryType"),
        ("prov", "double", "FuncType"),
    ]


def test_define_instance_wrong_types(engine, store):
    linker = Linker(engine)
    with pytest.raises(TypeError):
        linker.define_instance(store, "x", 2)
    # The instance is checked before the store.
    with pytest.raises(TypeError):
        linker.define_instance("not a store", "x", 2)
    inst = Instance(store, Module(engine, "(module)"), [])
    with pytest.raises(AttributeError):
        linker.define_instance(store, 5, inst)


def test_define_instance_of_another_store_is_an_error(run_python):
    p = run_python(
        textwrap.dedent("""
        from wasmtime import *
        engine = Engine()
        linker = Linker(engine)
        a, b = Store(engine), Store(engine)
        inst = Instance(a, Module(engine, '(module (func (export "f")))'), [])
        try:
            linker.define_instance(b, "x", inst)
        except WasmtimeError:
            print("WasmtimeError")
    """)
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "WasmtimeError"


# ---- define_module: commands and reactors -------------------------------------------------


def test_define_module_command_gets_a_fresh_instance_per_call(engine, store):
    linker = Linker(engine)
    linker.define_module(store, "cmd", Module(engine, COMMAND))
    bump = linker.get(store, "cmd", "bump")
    assert isinstance(bump, Func)
    assert [bump(store) for _ in range(3)] == [1, 1, 1]
    user = Module(
        engine,
        """
        (module
          (import "cmd" "bump" (func $b (result i32)))
          (func (export "twice") (result i32) call $b call $b i32.add))
    """,
    )
    assert linker.instantiate(store, user).exports(store)["twice"](store) == 2


def test_define_module_command_only_defines_functions(engine, store):
    """A command's non-function exports (here its memory) are not defined."""
    linker = Linker(engine)
    linker.define_module(store, "cmd", Module(engine, COMMAND))
    with pytest.raises(WasmtimeError):
        linker.get(store, "cmd", "memory")
    assert sorted(n for m, n, t in linker if m == "cmd") == ["_start", "bump"]


def test_define_module_command_with_other_exports_is_refused(engine, store):
    linker = Linker(engine)
    bad = Module(
        engine,
        """
        (module (func (export "_start")) (global (export "g") i32 (i32.const 1)))
    """,
    )
    with pytest.raises(WasmtimeError, match="not a function"):
        linker.define_module(store, "cmd", bad)


def test_define_module_reactor_initializes_once(engine, store):
    linker = Linker(engine)
    linker.define_module(store, "re", Module(engine, REACTOR))
    bump = linker.get(store, "re", "bump")
    inits = linker.get(store, "re", "inits")
    assert [bump(store) for _ in range(3)] == [1, 2, 3]
    assert inits(store) == 1
    assert isinstance(linker.get(store, "re", "memory"), Memory)
    user = Module(
        engine,
        """
        (module
          (import "re" "bump" (func $b (result i32)))
          (func (export "go") (result i32) call $b))
    """,
    )
    assert linker.instantiate(store, user).exports(store)["go"](store) == 4
    assert inits(store) == 1


def test_define_module_without_start_or_initialize_is_a_reactor(engine, store):
    linker = Linker(engine)
    linker.define_module(store, "c", Module(engine, COUNTER))
    bump = linker.get(store, "c", "bump")
    assert [bump(store) for _ in range(3)] == [1, 2, 3]


def test_define_module_initialize_trap(engine, store):
    """wasmtime_linker_module only reports errors: a trap in _initialize is a
    WasmtimeError (as in wasmtime-py) that still describes the trap."""
    linker = Linker(engine)
    with pytest.raises(WasmtimeError) as info:
        linker.define_module(
            store,
            "r",
            Module(
                engine,
                """
            (module (func (export "_initialize") unreachable))
        """,
            ),
        )
    assert "unreachable" in str(info.value)


def test_define_module_wrong_types(engine, store):
    linker = Linker(engine)
    with pytest.raises(TypeError):
        linker.define_module(store, "x", 2)
    with pytest.raises(TypeError):
        linker.define_module(store, "x", b"(module)")


# ---- instantiate / instantiate_pre ---------------------------------------------------------


def test_instantiate_pre_in_two_stores(engine):
    calls = []
    linker = Linker(engine)
    linker.define_func(
        "host", "add", FuncType([I32, I32], [I32]), lambda a, b: calls.append(a) or a + b
    )
    module = Module(engine, ADD_USER)
    pre = linker.instantiate_pre(module)
    assert isinstance(pre, InstancePre)
    s1, s2 = Store(engine), Store(engine)
    i1 = pre.instantiate(s1)
    i2 = pre.instantiate(s2)
    assert isinstance(i1, Instance) and isinstance(i2, Instance)
    assert i1.exports(s1)["go"](s1, 1) == 101
    assert i2.exports(s2)["go"](s2, 2) == 102
    assert calls == [1, 2]
    # Linker changes after instantiate_pre do not affect it.
    linker.allow_shadowing = True
    linker.define_func("host", "add", FuncType([I32, I32], [I32]), lambda a, b: -1)
    s3 = Store(engine)
    assert pre.instantiate(s3).exports(s3)["go"](s3, 3) == 103


def test_instance_pre_module(engine):
    linker = Linker(engine)
    module = Module(engine, COUNTER)
    pre = linker.instantiate_pre(module)
    m1 = pre.module
    m2 = pre.module
    assert isinstance(m1, Module)
    assert m1 is not m2
    assert [e.name for e in m1.exports] == ["bump"]
    # The returned Module is usable on its own.
    store = Store(engine)
    assert Instance(store, m1, []).exports(store)["bump"](store) == 1
    m1.close()
    assert [e.name for e in pre.module.exports] == ["bump"]


def test_instance_pre_closed(engine, store):
    pre = Linker(engine).instantiate_pre(Module(engine, "(module)"))
    pre.close()
    pre.close()
    with pytest.raises(ValueError):
        pre.instantiate(store)
    with pytest.raises(ValueError):
        pre.module


def test_instance_pre_cannot_be_constructed():
    with pytest.raises(TypeError):
        InstancePre()


def test_instance_pre_start_trap(engine, store):
    pre = Linker(engine).instantiate_pre(
        Module(
            engine,
            """
        (module (func $s unreachable) (start $s))
    """,
        )
    )
    with pytest.raises(Trap) as info:
        pre.instantiate(store)
    assert info.value.trap_code == TrapCode.UNREACHABLE


def test_instantiate_wrong_types(engine, store):
    linker = Linker(engine)
    with pytest.raises(AttributeError):
        linker.instantiate(store, 3)
    with pytest.raises(TypeError):
        linker.instantiate(store, 3)
    with pytest.raises(TypeError):
        linker.instantiate(3, Module(engine, "(module)"))
    with pytest.raises(TypeError):
        linker.instantiate_pre(3)
    with pytest.raises(TypeError):
        linker.define_unknown_imports_as_traps(3)
    with pytest.raises(TypeError):
        linker.define_unknown_imports_as_default_values(store, 3)


def test_instantiate_start_trap(engine, store):
    linker = Linker(engine)
    with pytest.raises(Trap) as info:
        linker.instantiate(store, Module(engine, "(module (func $s unreachable) (start $s))"))
    assert info.value.trap_code == TrapCode.UNREACHABLE


def test_instantiate_with_a_caller_as_store(engine):
    linker = Linker(engine)
    inner = Module(engine, COUNTER)
    got = []

    def host(caller):
        inst = linker.instantiate(caller, inner)
        got.append(inst.exports(caller)["bump"](caller))

    linker.define_func("host", "spawn", FuncType([], []), host, access_caller=True)
    outer = Module(
        engine,
        """
        (module (import "host" "spawn" (func $s)) (func (export "go") call $s call $s))
    """,
    )
    store = Store(engine)
    linker.instantiate(store, outer).exports(store)["go"](store)
    assert got == [1, 1]


# ---- get / get_default ------------------------------------------------------------------------


def test_get(engine, store):
    linker = Linker(engine)
    glob = Global(store, GlobalType(I64, False), Val.i64(-3))
    linker.define(store, "m", "g", glob)
    got = linker.get(store, "m", "g")
    assert isinstance(got, Global)
    assert got.value(store) == -3
    with pytest.raises(WasmtimeError, match="not defined"):
        linker.get(store, "m", "missing")
    with pytest.raises(WasmtimeError):
        linker.get(store, "nowhere", "g")
    with pytest.raises(AttributeError):
        linker.get(store, 1, "g")


def test_get_default(engine, store):
    linker = Linker(engine)
    # Nothing defined: a function that does nothing.
    noop = linker.get_default(store, "foo")
    assert isinstance(noop, Func)
    assert sig(noop.type(store)) == ([], [])
    assert noop(store) is None
    # A command's default is its _start.
    pings = []
    linker.define_func("host", "ping", FuncType([], []), lambda: pings.append(1))
    linker.define_module(
        store,
        "cmd",
        Module(
            engine,
            """
        (module
          (import "host" "ping" (func $p))
          (func (export "_start") call $p))
    """,
        ),
    )
    start = linker.get_default(store, "cmd")
    start(store)
    start(store)
    assert pings == [1, 1]
    # An export named "" is the default of any module.
    linker.define_module(
        store,
        "r",
        Module(
            engine,
            """
        (module (func (export "") (result i32) i32.const 77))
    """,
        ),
    )
    assert linker.get_default(store, "r")(store) == 77


# ---- unknown imports ------------------------------------------------------------------------------


UNKNOWN = """
(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "env" "pair" (func $pair (result i64 f64)))
  (func (export "callf") (result i32) i32.const 5 call $f)
  (func (export "callpair") (result i64 f64) call $pair)
  (func (export "ok") (result i32) i32.const 1))
"""


def test_unknown_imports_as_traps(engine, store):
    linker = Linker(engine)
    module = Module(engine, UNKNOWN)
    with pytest.raises(WasmtimeError, match="unknown import"):
        linker.instantiate(store, module)
    linker.define_unknown_imports_as_traps(module)
    inst = linker.instantiate(store, module)
    exports = inst.exports(store)
    assert exports["ok"](store) == 1
    # Calling a stand-in fails (Wasmtime reports an error, not a wasm trap)
    # and names the import.
    with pytest.raises(WasmtimeError, match="env::f"):
        exports["callf"](store)
    with pytest.raises(WasmtimeError, match="env::pair"):
        exports["callpair"](store)
    # Works in any store.
    other = Store(engine)
    assert linker.instantiate(other, module).exports(other)["ok"](other) == 1


def test_unknown_imports_as_traps_keeps_existing_definitions(engine, store):
    linker = Linker(engine)
    linker.define_func("env", "f", FuncType([I32], [I32]), lambda x: x * 3)
    module = Module(engine, UNKNOWN)
    linker.define_unknown_imports_as_traps(module)
    exports = linker.instantiate(store, module).exports(store)
    assert exports["callf"](store) == 15
    with pytest.raises(WasmtimeError):
        exports["callpair"](store)


def test_unknown_imports_as_traps_only_covers_functions(engine, store):
    """Non-function imports are not defined, and so not listed either."""
    linker = Linker(engine)
    module = Module(
        engine,
        """
        (module
          (import "env" "f" (func))
          (import "env" "g" (global i32))
          (import "env" "m" (memory 1)))
    """,
    )
    linker.define_unknown_imports_as_traps(module)
    with pytest.raises(WasmtimeError, match="env::g"):
        linker.instantiate(store, module)
    assert [(m, n) for m, n, _ in linker] == [("env", "f")]


def test_unknown_imports_as_default_values(engine, store):
    linker = Linker(engine)
    module = Module(
        engine,
        """
        (module
          (import "env" "f" (func $f (param i32) (result i32)))
          (import "env" "pair" (func $pair (result i64 f64)))
          (import "env" "g" (global $g i32))
          (import "env" "m" (memory 2))
          (func (export "callf") (result i32) i32.const 5 call $f)
          (func (export "callpair") (result i64 f64) call $pair)
          (func (export "getg") (result i32) global.get $g)
          (func (export "msize") (result i32) memory.size))
    """,
    )
    linker.define_unknown_imports_as_default_values(store, module)
    exports = linker.instantiate(store, module).exports(store)
    assert exports["callf"](store) == 0
    assert exports["callpair"](store) == [0, 0.0]
    assert exports["getg"](store) == 0
    assert exports["msize"](store) == 2
    assert [(m, n) for m, n, _ in linker] == [
        ("env", "f"),
        ("env", "pair"),
        ("env", "g"),
        ("env", "m"),
    ]


# ---- shadowing --------------------------------------------------------------------------------------


def test_allow_shadowing(engine, store):
    linker = Linker(engine)
    ty = FuncType([], [I32])
    linker.define_func("m", "f", ty, lambda: 1)
    with pytest.raises(WasmtimeError):
        linker.define_func("m", "f", ty, lambda: 2)
    assert linker.get(store, "m", "f")(store) == 1
    linker.allow_shadowing = True
    linker.define_func("m", "f", ty, lambda: 3)
    s2 = Store(engine)
    assert linker.get(s2, "m", "f")(s2) == 3
    # Shadowing also replaces a definition of a different kind.
    glob = Global(store, GlobalType(I32, False), Val.i32(9))
    linker.define(store, "m", "f", glob)
    assert isinstance(linker.get(store, "m", "f"), Global)
    assert [(m, n, type(t).__name__) for m, n, t in linker] == [("m", "f", "GlobalType")]
    linker.allow_shadowing = False
    with pytest.raises(WasmtimeError):
        linker.define_func("m", "f", ty, lambda: 4)
    with pytest.raises(WasmtimeError):
        linker.define(store, "m", "f", glob)


def test_allow_shadowing_is_write_only_and_not_type_checked(engine):
    linker = Linker(engine)
    linker.allow_shadowing = 1
    linker.allow_shadowing = []
    with pytest.raises(AttributeError):
        linker.allow_shadowing


def test_shadowing_a_define_instance(engine, store):
    linker = Linker(engine)
    linker.allow_shadowing = True
    a = Instance(store, Module(engine, '(module (func (export "f") (result i32) i32.const 1))'), [])
    b = Instance(store, Module(engine, '(module (func (export "f") (result i32) i32.const 2))'), [])
    linker.define_instance(store, "x", a)
    linker.define_instance(store, "x", b)
    assert linker.get(store, "x", "f")(store) == 2
    assert len(list(linker)) == 1


# ---- closed linker and engine mismatches -----------------------------------------------------------


def test_closed_linker(engine, store):
    linker = Linker(engine)
    linker.close()
    linker.close()
    module = Module(engine, "(module)")
    ty = FuncType([], [])
    for call in (
        lambda: linker.define_func("m", "n", ty, lambda: None),
        lambda: linker.define(store, "m", "n", Func(store, ty, lambda: None)),
        lambda: linker.define_wasi(),
        lambda: linker.define_module(store, "m", module),
        lambda: linker.instantiate(store, module),
        lambda: linker.instantiate_pre(module),
        lambda: linker.get(store, "m", "n"),
        lambda: linker.get_default(store, "m"),
        lambda: linker.define_unknown_imports_as_traps(module),
        lambda: linker.alias("m", "n", "a", "b"),
        lambda: linker.alias_module("m", "a"),
        lambda: list(linker),
        lambda: setattr(linker, "allow_shadowing", True),
    ):
        with pytest.raises(ValueError):
            call()


def test_linker_context_manager(engine, store):
    with Linker(engine) as linker:
        linker.define_func("m", "n", FuncType([], []), lambda: None)
    with pytest.raises(ValueError):
        linker.get(store, "m", "n")


def test_store_from_another_engine(engine):
    linker = Linker(engine)
    other = Store(Engine())
    module = Module(engine, "(module)")
    with pytest.raises(WasmtimeError):
        linker.instantiate(other, module)
    with pytest.raises(WasmtimeError):
        linker.get_default(other, "x")
    with pytest.raises(WasmtimeError):
        linker.define(other, "m", "n", Func(other, FuncType([], []), lambda: None))
    pre = linker.instantiate_pre(module)
    with pytest.raises(WasmtimeError):
        pre.instantiate(other)


def test_module_from_another_engine(engine, store):
    linker = Linker(engine)
    foreign = Module(Engine(), COUNTER)
    with pytest.raises(WasmtimeError):
        linker.instantiate(store, foreign)
    with pytest.raises(WasmtimeError):
        linker.instantiate_pre(foreign)
    with pytest.raises(WasmtimeError):
        linker.define_module(store, "x", foreign)
    with pytest.raises(WasmtimeError):
        linker.define_unknown_imports_as_traps(foreign)
    with pytest.raises(WasmtimeError):
        linker.define_unknown_imports_as_default_values(store, foreign)


# ---- iteration ------------------------------------------------------------------------------------------


def test_iteration_in_definition_order(engine, store):
    linker = Linker(engine)
    assert list(linker) == []
    linker.define_func("host", "a", FuncType([I32], []), lambda x: None)
    linker.define(store, "env", "g", Global(store, GlobalType(F64, True), Val.f64(1.0)))
    linker.define_func("host", "b", FuncType([], [I64]), lambda: 1)
    linker.define(store, "env", "mem", Memory(store, MemoryType(Limits(1, 4))))
    items = list(linker)
    assert [(m, n) for m, n, _ in items] == [
        ("host", "a"),
        ("env", "g"),
        ("host", "b"),
        ("env", "mem"),
    ]
    assert all(type(t) is tuple and len(t) == 3 for t in items)
    assert isinstance(items[0][2], FuncType) and sig(items[0][2]) == (["i32"], [])
    assert isinstance(items[1][2], GlobalType)
    assert str(items[1][2].content) == "f64" and items[1][2].mutable
    assert sig(items[2][2]) == ([], ["i64"])
    assert isinstance(items[3][2], MemoryType)
    assert items[3][2].limits.min == 1 and items[3][2].limits.max == 4
    # A fresh iterator each time.
    assert [(m, n) for m, n, _ in linker] == [(m, n) for m, n, _ in items]


def test_iteration_includes_wasi(engine):
    linker = Linker(engine)
    linker.define_func("first", "f", FuncType([], []), lambda: None)
    linker.define_wasi()
    linker.define_func("last", "f", FuncType([], []), lambda: None)
    items = list(linker)
    assert items[0][:2] == ("first", "f")
    assert items[-1][:2] == ("last", "f")
    wasi = {n: t for m, n, t in items if m == "wasi_snapshot_preview1"}
    assert [m for m, n, t in items[1:-1]] == ["wasi_snapshot_preview1"] * (len(items) - 2)
    for name in (
        "fd_write",
        "fd_read",
        "proc_exit",
        "args_get",
        "environ_get",
        "clock_time_get",
        "random_get",
        "path_open",
        "poll_oneoff",
    ):
        assert name in wasi, name
        assert isinstance(wasi[name], FuncType)
    assert sig(wasi["fd_write"]) == (["i32"] * 4, ["i32"])
    assert sig(wasi["proc_exit"]) == (["i32"], [])
    assert sig(wasi["clock_time_get"]) == (["i32", "i64", "i32"], ["i32"])
    assert ("wasi_snapshot_preview1", "fd_write") in [(m, n) for m, n, t in items]


def test_iteration_after_redefinition_has_no_duplicates(engine):
    linker = Linker(engine)
    linker.allow_shadowing = True
    linker.define_func("m", "a", FuncType([], []), lambda: None)
    linker.define_func("m", "b", FuncType([], []), lambda: None)
    linker.define_func("m", "a", FuncType([I32], []), lambda x: None)
    items = list(linker)
    assert [(m, n) for m, n, _ in items] == [("m", "b"), ("m", "a")]
    assert sig(items[1][2]) == (["i32"], [])


def test_iteration_of_define_module(engine, store):
    linker = Linker(engine)
    linker.define_module(store, "re", Module(engine, REACTOR))
    assert [(m, n, type(t).__name__) for m, n, t in linker] == [
        ("re", "memory", "MemoryType"),
        ("re", "_initialize", "FuncType"),
        ("re", "inits", "FuncType"),
        ("re", "bump", "FuncType"),
    ]


# ---- alias / alias_module ----------------------------------------------------------------------------------


def test_alias_of_a_host_function_is_store_independent(engine):
    calls = []
    linker = Linker(engine)
    linker.define_func(
        "host", "add", FuncType([I32, I32], [I32]), lambda a, b: calls.append((a, b)) or a + b
    )
    linker.alias("host", "add", "other", "plus")
    assert list(linker)[-1][:2] == ("other", "plus")
    assert sig(list(linker)[-1][2]) == (["i32", "i32"], ["i32"])
    user = Module(
        engine,
        """
        (module
          (import "other" "plus" (func $p (param i32 i32) (result i32)))
          (func (export "go") (result i32) i32.const 2 i32.const 3 call $p))
    """,
    )
    for _ in range(2):
        store = Store(engine)
        assert linker.instantiate(store, user).exports(store)["go"](store) == 5
    assert calls == [(2, 3), (2, 3)]
    # The original is still there.
    store = Store(engine)
    assert linker.get(store, "host", "add")(store, 1, 1) == 2


def test_alias_of_a_store_bound_item(engine, store):
    linker = Linker(engine)
    glob = Global(store, GlobalType(I32, True), Val.i32(5))
    linker.define(store, "env", "g", glob)
    linker.alias("env", "g", "env2", "g2")
    aliased = linker.get(store, "env2", "g2")
    aliased.set_value(store, 8)
    assert glob.value(store) == 8
    assert list(linker)[-1][:2] == ("env2", "g2")
    assert isinstance(list(linker)[-1][2], GlobalType)


def test_alias_of_a_reactor_export_shares_the_instance(engine, store):
    linker = Linker(engine)
    linker.define_module(store, "re", Module(engine, REACTOR))
    linker.alias("re", "bump", "x", "inc")
    assert linker.get(store, "re", "bump")(store) == 1
    assert linker.get(store, "x", "inc")(store) == 2


def test_alias_errors(engine, store):
    linker = Linker(engine)
    with pytest.raises(WasmtimeError):
        linker.alias("nope", "nothing", "a", "b")
    linker.define_func("m", "f", FuncType([], []), lambda: None)
    linker.define_func("m", "g", FuncType([], []), lambda: None)
    with pytest.raises(WasmtimeError):
        linker.alias("m", "missing", "a", "b")
    # Aliasing onto an existing name is a redefinition.
    with pytest.raises(WasmtimeError):
        linker.alias("m", "f", "m", "g")
    linker.allow_shadowing = True
    linker.alias("m", "f", "m", "g")
    with pytest.raises(AttributeError):
        linker.alias("m", "f", 1, "b")
    with pytest.raises(TypeError):
        linker.alias("m", "f", "a")


def test_alias_module(engine, store):
    linker = Linker(engine)
    linker.define_func("host", "one", FuncType([], [I32]), lambda: 1)
    linker.define(store, "host", "g", Global(store, GlobalType(I32, False), Val.i32(2)))
    linker.define_func("elsewhere", "x", FuncType([], []), lambda: None)
    linker.alias_module("host", "copy")
    names = [(m, n) for m, n, _ in linker]
    assert names == [
        ("host", "one"),
        ("host", "g"),
        ("elsewhere", "x"),
        ("copy", "one"),
        ("copy", "g"),
    ]
    assert linker.get(store, "copy", "one")(store) == 1
    assert linker.get(store, "copy", "g").value(store) == 2
    with pytest.raises(WasmtimeError):
        linker.alias_module("no-such-module", "x")


def test_alias_module_of_a_command(engine, store):
    linker = Linker(engine)
    linker.define_module(store, "cmd", Module(engine, COMMAND))
    linker.alias_module("cmd", "cmd2")
    bump = linker.get(store, "cmd2", "bump")
    assert [bump(store), bump(store)] == [1, 1]


def test_alias_module_of_wasi(engine):
    """WASI functions are defined by Wasmtime, not by us: aliasing them is
    refused with an error rather than half-done."""
    linker = Linker(engine)
    linker.define_wasi()
    before = list(linker)
    with pytest.raises(WasmtimeError):
        linker.alias("wasi_snapshot_preview1", "fd_write", "w", "fd_write")
    assert [(m, n) for m, n, _ in linker] == [(m, n) for m, n, _ in before]


# ---- missing-import messages ----------------------------------------------------------------------


def test_missing_import_message_lists_definitions(engine, store):
    linker = Linker(engine)
    linker.define_func("env", "alpha", FuncType([], []), lambda: None)
    linker.define_func("env", "beta", FuncType([], []), lambda: None)
    linker.define_func("other", "gamma", FuncType([], []), lambda: None)
    module = Module(engine, '(module (import "env" "delta" (func)))')
    with pytest.raises(WasmtimeError) as info:
        linker.instantiate(store, module)
    msg = str(info.value)
    assert "env::delta" in msg
    assert "alpha" in msg and "beta" in msg
    assert "gamma" not in msg
    with pytest.raises(WasmtimeError) as info:
        linker.instantiate_pre(module)
    assert "env::delta" in str(info.value) and "alpha, beta" in str(info.value)


def test_missing_import_message_when_module_is_empty(engine, store):
    linker = Linker(engine)
    linker.define_func("env", "alpha", FuncType([], []), lambda: None)
    with pytest.raises(WasmtimeError) as info:
        linker.instantiate(store, Module(engine, '(module (import "zzz" "f" (func)))'))
    msg = str(info.value)
    assert "zzz::f" in msg
    assert "nothing" in msg
    assert "alpha" not in msg


def test_missing_import_of_a_command_export(engine, store):
    """A command's memory is not defined, and the message says what is."""
    linker = Linker(engine)
    linker.define_module(store, "cmd", Module(engine, COMMAND))
    with pytest.raises(WasmtimeError) as info:
        linker.instantiate(store, Module(engine, '(module (import "cmd" "memory" (memory 1)))'))
    msg = str(info.value)
    assert "cmd::memory" in msg
    assert "_start" in msg and "bump" in msg


def test_wrong_import_type_is_an_error(engine, store):
    linker = Linker(engine)
    linker.define_func("env", "f", FuncType([I32], []), lambda x: None)
    with pytest.raises(WasmtimeError):
        linker.instantiate(store, Module(engine, '(module (import "env" "f" (func (param i64))))'))


# ---- host exceptions --------------------------------------------------------------------------------


class HostError(Exception):
    pass


def test_host_exception_through_start_function(engine, store):
    exc = HostError("from start")

    def boom():
        raise exc

    linker = Linker(engine)
    linker.define_func("h", "boom", FuncType([], []), boom)
    module = Module(engine, '(module (import "h" "boom" (func $b)) (start $b))')
    with pytest.raises(HostError) as info:
        linker.instantiate(store, module)
    assert info.value is exc
    pre = linker.instantiate_pre(module)
    with pytest.raises(HostError) as info:
        pre.instantiate(Store(engine))
    assert info.value is exc


def test_host_exception_through_a_call(engine, store):
    exc = HostError("from call")
    state = {"raise": True}

    def maybe(x):
        if state["raise"]:
            raise exc
        return x + 1

    linker = Linker(engine)
    linker.define_func("h", "f", FuncType([I32], [I32]), maybe)
    go = linker.instantiate(
        store,
        Module(
            engine,
            """
        (module (import "h" "f" (func $f (param i32) (result i32)))
          (func (export "go") (param i32) (result i32) local.get 0 call $f))
    """,
        ),
    ).exports(store)["go"]
    with pytest.raises(HostError) as info:
        go(store, 1)
    assert info.value is exc
    # Nothing stale is left behind.
    state["raise"] = False
    assert go(store, 1) == 2


def test_host_base_exception_through_linker(engine, store):
    def interrupt():
        raise KeyboardInterrupt

    linker = Linker(engine)
    linker.define_func("h", "kb", FuncType([], []), interrupt)
    with pytest.raises(KeyboardInterrupt):
        linker.instantiate(store, Module(engine, '(module (import "h" "kb" (func $b)) (start $b))'))


def test_host_exception_in_reactor_initialize(engine, store):
    exc = HostError("in _initialize")

    def boom():
        raise exc

    linker = Linker(engine)
    linker.define_func("h", "boom", FuncType([], []), boom)
    module = Module(
        engine,
        """
        (module (import "h" "boom" (func $b)) (func (export "_initialize") call $b))
    """,
    )
    with pytest.raises(HostError) as info:
        linker.define_module(store, "r", module)
    assert info.value is exc
    # And it is not raised again by a later, unrelated failure.
    with pytest.raises(WasmtimeError):
        linker.get(store, "nothing", "here")


def test_define_wasi_after_the_engine_was_closed():
    # The Linker keeps its own reference to the C engine: recording the WASI
    # functions needs a scratch Store of that engine (it used the closed one).
    engine = Engine()
    linker = Linker(engine)
    engine.close()
    linker.define_wasi()
    assert ("wasi_snapshot_preview1", "fd_write") in {(m, n) for m, n, _ in linker}
