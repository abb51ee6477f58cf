"""Nothing is retained without bound: a redefinition releases what it replaced
unless a live Instance may still call it (docs/architecture.md, "Ownership and
lifetimes").  Growth is measured over 10^4 iterations with tracemalloc and,
in a subprocess, with RSS; each bound has a control that breaks it."""

import gc
import tracemalloc
import weakref

import pytest

from wasmtime import (
    Engine,
    FuncType,
    Linker,
    Module,
    Store,
    ValType,
    WasiConfig,
)

I32 = ValType.i32()
IMPORTER = """
(module
  (import "host" "f" (func $f (result i32)))
  (func (export "run") (result i32) call $f))
"""


class Callable:
    """A host callable we can take weak references to."""

    def __init__(self, value):
        self.value = value
        self.payload = bytearray(256)

    def __call__(self):
        return self.value


@pytest.fixture
def engine():
    return Engine()


def test_redefinition_releases_the_replaced_callable(engine):
    linker = Linker(engine)
    linker.allow_shadowing = True
    first = Callable(1)
    ref = weakref.ref(first)
    linker.define_func("host", "f", FuncType([], [I32]), first)
    del first
    linker.define_func("host", "f", FuncType([], [I32]), Callable(2))
    gc.collect()
    assert ref() is None


def test_a_live_instance_keeps_the_callable_it_may_call(engine):
    linker = Linker(engine)
    linker.allow_shadowing = True
    module = Module(engine, IMPORTER)
    first = Callable(1)
    ref = weakref.ref(first)
    linker.define_func("host", "f", FuncType([], [I32]), first)
    del first
    store = Store(engine)
    run = linker.instantiate(store, module).exports(store)["run"]
    linker.define_func("host", "f", FuncType([], [I32]), Callable(2))
    gc.collect()
    assert ref() is not None  # the instance in `store` may still call it
    assert run(store) == 1
    store2 = Store(engine)
    assert linker.instantiate(store2, module).exports(store2)["run"](store2) == 2
    del run, store
    gc.collect()
    assert ref() is None  # gone with the store that used it


def test_an_instance_pre_keeps_what_it_resolved(engine):
    linker = Linker(engine)
    linker.allow_shadowing = True
    linker.define_func("host", "f", FuncType([], [I32]), Callable(1))
    pre = linker.instantiate_pre(Module(engine, IMPORTER))
    linker.define_func("host", "f", FuncType([], [I32]), Callable(2))
    gc.collect()
    store = Store(engine)
    assert pre.instantiate(store).exports(store)["run"](store) == 1


def _linker_growth(distinct_names, n=10_000):
    engine = Engine()
    linker = Linker(engine)
    linker.allow_shadowing = True
    ty = FuncType([], [I32])
    for i in range(200):
        linker.define_func("host", "f", ty, Callable(i))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            name = "f%d" % i if distinct_names else "f"
            linker.define_func("host", name, ty, Callable(i))
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


BOUND = 1 << 20  # 1 MiB over 10^4 redefinitions


def test_ten_thousand_redefinitions_stay_bounded():
    growth = _linker_growth(distinct_names=False)
    assert growth < BOUND, "grew by %d bytes" % growth


def test_ten_thousand_definitions_exceed_the_bound():
    """The bound is meaningful: 10^4 distinct definitions must exceed it."""
    growth = _linker_growth(distinct_names=True)
    assert growth > BOUND, "grew by only %d bytes" % growth


LINKER_RSS = r"""
import gc, sys
import wasmtime as w

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

engine = w.Engine()
linker = w.Linker(engine)
linker.allow_shadowing = True
ty = w.FuncType([], [w.ValType.i32()])
distinct = sys.argv[1] == "distinct"
def define(i):
    payload = bytearray(512)
    linker.define_func("host", "f%d" % i if distinct else "f", ty, lambda: len(payload))
for i in range(1000):
    define(i)
gc.collect()
base = rss()
for i in range(100_000):
    define(i + 1000)
gc.collect()
print((rss() - base) // (1 << 20))
"""


def _rss_growth(run_python, mode):
    r = run_python("import sys; sys.argv = ['x', %r]\n" % mode + LINKER_RSS, timeout=300)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


@pytest.mark.rss
def test_hundred_thousand_redefinitions_rss(run_python):
    growth = _rss_growth(run_python, "same")
    assert growth < 10, "RSS grew by %d MiB" % growth


@pytest.mark.rss
def test_hundred_thousand_distinct_definitions_rss_control(run_python):
    growth = _rss_growth(run_python, "distinct")
    assert growth > 10, "RSS grew by only %d MiB" % growth


def test_reassigned_wasi_output_callables_are_released():
    config = WasiConfig()
    first = Callable(0)
    ref = weakref.ref(first)
    config.stdout_custom = first
    del first
    for i in range(1000):
        config.stdout_custom = Callable(i)
        config.stderr_custom = Callable(i)
    gc.collect()
    assert ref() is None
    # The config is still whole: a Store takes it.
    store = Store()
    store.set_wasi(config)
