"""The component Linker and LinkerInstance: lock rules, definitions, host
functions and resources, instantiation; and component Instance and Func."""

import gc

import pytest
from component_wat import CALLS_HOST, PLAIN, echo

from wasmtime import Engine, Module, Store, StoreContext, WasmtimeError
from wasmtime.component import (
    U32,
    Component,
    ExportIndex,
    Func,
    FuncType,
    Instance,
    Linker,
    LinkerInstance,
    ResourceAny,
    ResourceHost,
    ResourceType,
)

LOCKED = "in use by other instances"


def calls_host(engine, host):
    linker = Linker(engine)
    with linker.root() as root:
        root.add_func("call", host)
    return linker, Component(engine, CALLS_HOST)


def test_runtime_only_classes():
    for cls in (LinkerInstance, Instance, Func, ExportIndex, ResourceAny, ResourceHost, FuncType):
        with pytest.raises(WasmtimeError, match="Cannot directly construct"):
            cls()


def test_linker_attributes(engine):
    linker = Linker(engine)
    assert linker.engine is engine
    assert linker.locked is False
    linker.allow_shadowing = True
    with pytest.raises(AttributeError):
        linker.allow_shadowing
    with pytest.raises(TypeError):
        Linker(1)


def test_root_locks_the_linker(engine):
    linker = Linker(engine)
    root = linker.root()
    assert linker.locked and root.parent is linker
    for use in (
        linker.root,
        linker.add_wasip2,
        linker.close,
        lambda: linker.instantiate(Store(engine), Component(engine, "(component)")),
        lambda: setattr(linker, "allow_shadowing", True),
    ):
        with pytest.raises(WasmtimeError, match=LOCKED):
            use()
    root.close()
    assert not linker.locked
    root.close()  # idempotent
    with pytest.raises(ValueError):
        root.add_instance("x")
    linker.close()
    with pytest.raises(ValueError):
        linker.root()


def test_nested_instances_lock_their_parent(engine):
    linker = Linker(engine)
    with linker.root() as root:
        child = root.add_instance("a")
        assert root.locked and child.parent is root
        with pytest.raises(WasmtimeError, match=LOCKED):
            root.add_func("f", lambda ctx: None)
        with pytest.raises(WasmtimeError):
            root.close()
        child.close()
        root.add_instance("a").close()  # the same name again
    assert not linker.locked


def test_dropping_a_root_unlocks(engine):
    linker = Linker(engine)
    linker.root()  # dropped at once
    gc.collect()
    linker.root().close()


def test_add_module_checks_engine_and_duplicates(engine):
    linker = Linker(engine)
    with linker.root() as root:
        root.add_module("m", Module(engine, "(module)"))
        with pytest.raises(WasmtimeError):
            root.add_module("m", Module(engine, "(module)"))
        with pytest.raises(WasmtimeError):
            root.add_module("n", Module(Engine(), "(module)"))
        with pytest.raises(TypeError):
            root.add_module("n", "(module)")


def test_add_func_checks(engine):
    linker = Linker(engine)
    with linker.root() as root:
        with pytest.raises(TypeError):
            root.add_func("f", 3)
        with pytest.raises(TypeError):
            root.add_func(3, lambda: None)
        root.add_func("f", lambda ctx: None)
        with pytest.raises(WasmtimeError):
            root.add_func("f", lambda ctx: None)


def test_host_function_gets_a_store_context(engine):
    seen = []
    linker, comp = calls_host(engine, seen.append)
    store = Store(engine)
    f = linker.instantiate(store, comp).get_func(store, "call")
    assert f(store) is None
    (ctx,) = seen
    assert isinstance(ctx, StoreContext)
    with pytest.raises(ValueError, match="no longer valid"):
        ctx._context()


@pytest.mark.parametrize("exc", [RuntimeError("oh no"), KeyboardInterrupt(), SystemExit(3)])
def test_host_exception_is_the_same_object(engine, exc):
    def host(_ctx):
        raise exc

    linker, comp = calls_host(engine, host)
    store = Store(engine)
    f = linker.instantiate(store, comp).get_func(store, "call")
    with pytest.raises(type(exc)) as info:
        f(store)
    assert info.value is exc


def test_host_function_returning_a_value_without_result(engine):
    linker, comp = calls_host(engine, lambda ctx: 5)
    store = Store(engine)
    f = linker.instantiate(store, comp).get_func(store, "call")
    with pytest.raises(AssertionError):
        f(store)


def test_host_functions_outlive_the_linker(engine):
    calls = []
    linker, comp = calls_host(engine, lambda ctx: calls.append(1))
    store = Store(engine)
    f = linker.instantiate(store, comp).get_func(store, "call")
    del linker
    gc.collect()
    f(store)
    assert calls == [1]


def test_instantiate_errors(engine):
    store = Store(engine)
    linker = Linker(engine)
    comp = Component(engine, '(component (import "x" (func)))')
    with pytest.raises(WasmtimeError):
        linker.instantiate(store, comp)
    with pytest.raises(WasmtimeError):
        Linker(Engine()).instantiate(store, Component(engine, "(component)"))
    with pytest.raises(TypeError):
        linker.instantiate(store, "(component)")
    linker.define_unknown_imports_as_traps(comp)
    linker.instantiate(store, comp)
    store.close()
    with pytest.raises(ValueError):
        linker.instantiate(store, comp)


def test_func_calls_and_types(engine):
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component(engine, PLAIN))
    add = inst.get_func(store, "add")
    assert add(store, 2, 3) == 5
    assert add.post_return(store) is None
    ty = add.type(store)
    assert ty.params == [("a", U32()), ("b", U32())] and ty.result == U32()
    assert not ty.is_async
    with pytest.raises(TypeError, match="given 1, expected 2"):
        add(store, 1)
    with pytest.raises(TypeError):
        add()
    with pytest.raises(TypeError):
        add(store, 1, b=2)
    idx = inst.get_export_index(store, "add")
    assert inst.get_func(store, idx) is not None
    assert inst.get_func(store, "nope") is None
    with pytest.raises(TypeError):
        inst.get_func(store, 3)


def test_trap_is_a_wasmtime_error_and_poisons(engine):
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component(engine, PLAIN))
    with pytest.raises(WasmtimeError, match="unreachable"):
        inst.get_func(store, "trap")(store)
    with pytest.raises(WasmtimeError):
        inst.get_func(store, "add")(store, 1, 2)


def test_store_closed_while_converting_arguments(engine):
    store = Store(engine)
    linker = Linker(engine)
    with linker.root() as root:
        root.add_func("x", lambda ctx, v: v)
    comp = Component(engine, echo('(record (field "a" u32))', ["i32"], "i32"))
    f = linker.instantiate(store, comp).get_func(store, "x")

    class Evil:
        @property
        def a(self):
            store.close()
            return 1

    with pytest.raises(ValueError, match="closed"):
        f(store, Evil())


def test_closed_store(engine):
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component(engine, PLAIN))
    f = inst.get_func(store, "add")
    store.close()
    with pytest.raises(ValueError):
        f(store, 1, 2)
    with pytest.raises(ValueError):
        inst.get_func(store, "add")


RESOURCE_USER = """
(component
  (import "t" (type $t (sub resource)))
  (import "make" (func $make (result (own $t))))
  (core func $drop (canon resource.drop $t))
  (core func $makel (canon lower (func $make)))
  (core module $m
    (import "" "drop" (func $drop (param i32)))
    (import "" "make" (func $make (result i32)))
    (func (export "drop") (param i32) (call $drop (local.get 0)))
    (func (export "roundtrip") (result i32) (call $make))
    (func (export "peek") (param i32) (call $drop (local.get 0))))
  (core instance $m (instantiate $m (with "" (instance
    (export "drop" (func $drop)) (export "make" (func $makel))))))
  (func (export "drop") (param "x" (own $t)) (canon lift (core func $m "drop")))
  (func (export "make") (result (own $t)) (canon lift (core func $m "roundtrip")))
  (func (export "peek") (param "x" (borrow $t)) (canon lift (core func $m "peek")))
)
"""


def resource_linker(engine, dtor):
    linker = Linker(engine)
    with linker.root() as root:
        root.add_resource("t", ResourceType.host(7), dtor)
        root.add_func("make", lambda ctx: ResourceHost.own(42, 7))
    return linker


def test_host_resources(engine):
    dropped = []
    linker = resource_linker(engine, lambda ctx, rep: dropped.append(rep))
    store = Store(engine)
    inst = linker.instantiate(store, Component(engine, RESOURCE_USER))
    r = inst.get_func(store, "make")(store)
    assert isinstance(r, ResourceAny) and r.owned
    assert r.type == ResourceType.host(7)
    inst.get_func(store, "peek")(store, r)  # borrow: r stays usable
    inst.get_func(store, "drop")(store, r)  # own: r is consumed
    assert dropped == [42]
    with pytest.raises(ValueError):
        r.owned
    with pytest.raises(TypeError):
        inst.get_func(store, "drop")(store, 1)
    other = Store(engine)
    foreign = ResourceHost.own(1, 7).to_any(other)
    with pytest.raises(WasmtimeError, match="wrong store"):
        inst.get_func(store, "drop")(store, foreign)


@pytest.mark.parametrize("exc", [RuntimeError("dtor"), KeyboardInterrupt()])
def test_resource_destructor_exception_is_the_same_object(engine, exc):
    def dtor(_ctx, _rep):
        raise exc

    linker = resource_linker(engine, dtor)
    store = Store(engine)
    inst = linker.instantiate(store, Component(engine, RESOURCE_USER))
    with pytest.raises(type(exc)) as info:
        inst.get_func(store, "drop")(store, ResourceHost.own(5, 7))
    assert info.value is exc


def test_resource_host_and_any(engine):
    store = Store(engine)
    h = ResourceHost.own(3, 9)
    assert (h.rep, h.type, h.owned) == (3, 9, True)
    assert ResourceHost.borrow(rep=4, ty=9).owned is False
    with pytest.raises(OverflowError):
        ResourceHost.own(2**32, 1)
    a = h.to_any(store)
    assert a.to_host(store).rep == 3
    with pytest.raises(WasmtimeError):
        a.drop(store)  # the slot went with to_host
    a.close()
    with pytest.raises(ValueError):
        a.to_host(store)
    assert ResourceType.host(1) != ResourceType.host(2)
    assert ResourceType.host(1) != "x"


def test_store_close_inside_a_host_function_is_refused(engine):
    store = Store(engine)

    def host(_ctx):
        store.close()

    linker, comp = calls_host(engine, host)
    f = linker.instantiate(store, comp).get_func(store, "call")
    with pytest.raises(RuntimeError):
        f(store)
    f2 = linker.instantiate(store, comp)  # the store is still usable
    assert f2 is not None


def test_second_thread_is_refused_while_a_call_runs(engine):
    import threading

    store = Store(engine)
    errors = []

    def host(_ctx):
        def other():
            try:
                f(store)
            except RuntimeError as e:
                errors.append(e)

        t = threading.Thread(target=other)
        t.start()
        t.join()

    linker, comp = calls_host(engine, host)
    f = linker.instantiate(store, comp).get_func(store, "call")
    f(store)
    assert len(errors) == 1 and "another thread" in str(errors[0])


def test_host_function_may_use_the_outer_store(engine):
    seen = []

    def host(ctx):
        r = ResourceHost.own(9, 1).to_any(ctx)
        seen.append(r.to_host(store).rep)

    linker, comp = calls_host(engine, host)
    store = Store(engine)
    linker.instantiate(store, comp).get_func(store, "call")(store)
    assert seen == [9]
