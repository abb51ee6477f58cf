"""wasmtime.Caller: the first argument of host functions made with
access_caller=True."""

import pytest

from wasmtime import (
    Caller,
    Func,
    FuncType,
    Global,
    Instance,
    Memory,
    Module,
    Store,
    Table,
    Trap,
    ValType,
    WasmtimeError,
)

I32 = ValType.i32()

WAT = """
(module
  (import "" "h" (func $h))
  (memory (export "mem") 1)
  (global (export "g") (mut i32) (i32.const 5))
  (table (export "t") 2 funcref)
  (func (export "seven") (result i32) i32.const 7)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "run") call $h)
  (func (export "trap") unreachable)
  (data (i32.const 0) "hello"))
"""


def setup(store, body):
    """Instantiate WAT with `body(caller)` as the host function; returns exports."""
    host = Func(store, FuncType([], []), body, access_caller=True)
    return Instance(store, Module(store.engine, WAT), [host]).exports(store)


def test_caller_type(store):
    seen = []
    e = setup(store, lambda c: seen.append(c))
    e["run"](store)
    assert len(seen) == 1
    assert type(seen[0]) is Caller


def test_caller_cannot_be_constructed():
    with pytest.raises(TypeError):
        Caller()


def test_get_each_kind_of_export(store):
    got = {}

    def body(c):
        for name in ["mem", "g", "t", "seven", "missing"]:
            got[name] = c.get(name)
        for name in ["mem", "g", "t", "seven"]:
            got[name + "[]"] = c[name]

    setup(store, body)["run"](store)
    assert isinstance(got["mem"], Memory)
    assert isinstance(got["g"], Global)
    assert isinstance(got["t"], Table)
    assert isinstance(got["seven"], Func)
    assert got["missing"] is None
    for name, cls in [("mem", Memory), ("g", Global), ("t", Table), ("seven", Func)]:
        assert isinstance(got[name + "[]"], cls)


def test_getitem_missing_is_key_error(store):
    errors = []

    def body(c):
        try:
            c["missing"]
        except KeyError as e:
            errors.append(e)
        try:
            c[""]
        except KeyError as e:
            errors.append(e)

    setup(store, body)["run"](store)
    assert len(errors) == 2
    assert "missing" in str(errors[0])


@pytest.mark.parametrize("bad", [1, None, b"mem", 1.5])
def test_get_non_str_is_type_error(store, bad):
    errors = []

    def body(c):
        for op in (lambda: c.get(bad), lambda: c[bad]):
            try:
                op()
            except TypeError as e:
                errors.append(e)

    setup(store, body)["run"](store)
    assert len(errors) == 2


def test_caller_usable_as_store(store):
    results = {}

    def body(c):
        results["seven"] = c["seven"](c)
        results["add"] = c["add"](c, 2, 3)
        mem = c["mem"]
        results["read"] = mem.read(c, 0, 5)
        mem.write(c, b"HE", 0)
        results["size"] = mem.size(c)
        results["data_len"] = mem.data_len(c)
        g = c["g"]
        results["g"] = g.value(c)
        g.set_value(c, 42)
        results["gtype"] = g.type(c).mutable
        results["tsize"] = c["t"].size(c)
        results["ftype"] = c["add"].type(c).params

    e = setup(store, body)
    e["run"](store)
    assert results["seven"] == 7
    assert results["add"] == 5
    assert results["read"] == bytearray(b"hello")
    assert results["size"] == 1
    assert results["data_len"] == 65536
    assert results["g"] == 5
    assert results["gtype"] is True
    assert results["tsize"] == 2
    assert results["ftype"] == [I32, I32]
    # the changes made through the caller are visible through the store
    assert e["mem"].read(store, 0, 5) == bytearray(b"HEllo")
    assert e["g"].value(store) == 42


def test_exports_of_store_usable_with_caller(store):
    """Handles obtained through the Store work with the Caller as store."""
    holder = {}

    def body(c):
        holder["v"] = holder["seven"](c)
        holder["m"] = holder["mem"].read(c, 1, 3)

    e = setup(store, body)
    holder["seven"] = e["seven"]
    holder["mem"] = e["mem"]
    e["run"](store)
    assert holder["v"] == 7
    assert holder["m"] == bytearray(b"el")


def test_constructors_accept_caller(store):
    from wasmtime import GlobalType, Limits, MemoryType, TableType

    made = {}

    def body(c):
        made["g"] = Global(c, GlobalType(I32, False), 3)
        made["m"] = Memory(c, MemoryType(Limits(1, 2)))
        made["t"] = Table(c, TableType(ValType.funcref(), Limits(1, None)), None)

    setup(store, body)["run"](store)
    assert made["g"].value(store) == 3
    assert made["m"].size(store) == 1
    assert made["t"].size(store) == 1


def test_handles_from_caller_outlive_the_call(store):
    holder = {}

    def body(c):
        holder["mem"] = c["mem"]
        holder["seven"] = c["seven"]

    setup(store, body)["run"](store)
    assert holder["mem"].read(store, 0, 5) == bytearray(b"hello")
    assert holder["seven"](store) == 7


def test_caller_invalid_after_return(store):
    saved = []
    e = setup(store, lambda c: saved.append(c))
    e["run"](store)
    c = saved[0]
    assert c.get("mem") is None
    assert c.get("seven") is None
    with pytest.raises(KeyError):
        c["mem"]
    with pytest.raises(TypeError):
        c.get(1)
    with pytest.raises(ValueError, match="caller is no longer valid"):
        e["seven"](c)
    with pytest.raises(ValueError, match="caller is no longer valid"):
        e["mem"].read(c)
    with pytest.raises(ValueError, match="caller is no longer valid"):
        e["mem"].size(c)
    with pytest.raises(ValueError, match="caller is no longer valid"):
        e["g"].value(c)
    with pytest.raises(ValueError, match="caller is no longer valid"):
        e["t"].size(c)
    with pytest.raises(ValueError, match="caller is no longer valid"):
        Instance(c, Module(store.engine, "(module)"), [])
    # the store itself is unaffected
    assert e["seven"](store) == 7


def test_caller_invalid_after_exception(store):
    saved = []

    def body(c):
        saved.append(c)
        raise RuntimeError("leave")

    e = setup(store, body)
    with pytest.raises(RuntimeError):
        e["run"](store)
    c = saved[0]
    assert c.get("mem") is None
    with pytest.raises(ValueError, match="caller is no longer valid"):
        e["seven"](c)
    with pytest.raises(ValueError, match="caller is no longer valid"):
        e["mem"].data_len(c)


def test_caller_invalid_after_results_error(store):
    """Invalidated even when the failure is in converting the results."""
    saved = []

    def body(c):
        saved.append(c)
        return 1  # no results expected

    e = setup(store, body)
    with pytest.raises(WasmtimeError):
        e["run"](store)
    with pytest.raises(ValueError, match="caller is no longer valid"):
        e["seven"](saved[0])


def test_nested_callers_each_valid_in_own_call(store):
    """Outer caller stays valid after a nested host call with its own caller."""
    log = []

    def h(c, depth):
        log.append(("enter", depth, c.get("mem") is not None))
        if depth > 0:
            c["rec"](c, depth - 1)
        # still valid after the nested call returned
        log.append(("leave", depth, c["mem"].data_len(c)))
        return 0

    wat = """
    (module
      (import "" "h" (func $h (param i32) (result i32)))
      (memory (export "mem") 1)
      (func (export "rec") (param i32) (result i32) local.get 0 call $h))
    """
    host = Func(store, FuncType([I32], [I32]), h, access_caller=True)
    e = Instance(store, Module(store.engine, wat), [host]).exports(store)
    e["rec"](store, 2)
    assert log == [
        ("enter", 2, True),
        ("enter", 1, True),
        ("enter", 0, True),
        ("leave", 0, 65536),
        ("leave", 1, 65536),
        ("leave", 2, 65536),
    ]


def test_trap_inside_nested_call_via_caller(store):
    caught = []

    def body(c):
        try:
            c["trap"](c)
        except Trap as t:
            caught.append(t)

    setup(store, body)["run"](store)
    assert len(caught) == 1
    assert "unreachable" in caught[0].message


def test_caller_of_host_func_called_from_python(store):
    """A host function called directly from Python has no instance: no exports."""
    got = []

    def body(c):
        got.append(c.get("mem"))
        return 7

    f = Func(store, FuncType([], [I32]), body, access_caller=True)
    assert f(store) == 7
    assert got == [None]


def test_caller_of_other_store_is_wrong_store(engine):
    s1, s2 = Store(engine), Store(engine)
    other = Func(s2, FuncType([], [I32]), lambda: 1)
    errors = []

    def body(c):
        try:
            other(c)
        except WasmtimeError as e:
            errors.append(e)

    setup(s1, body)["run"](s1)
    assert len(errors) == 1
    assert "wrong store" in str(errors[0])
    assert other(s2) == 1


def test_caller_access_flag_truthiness(store):
    seen = []
    f = Func(store, FuncType([], []), lambda *a: seen.append(a), access_caller=1)
    f(store)
    assert len(seen) == 1 and len(seen[0]) == 1 and isinstance(seen[0][0], Caller)
    g = Func(store, FuncType([], []), lambda *a: seen.append(a), access_caller=0)
    g(store)
    assert seen[1] == ()
