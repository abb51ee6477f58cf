"""asyncio: Func.call_async, async host functions, instantiate_async
(docs/asyncio.md)."""

import asyncio
import gc
import os
import threading
import time
import types
import warnings

import pytest

from wasmtime import (
    Config,
    Engine,
    Func,
    FuncType,
    Instance,
    Linker,
    Module,
    Store,
    Trap,
    ValType,
    WasmtimeError,
)

I32 = ValType.i32()
I64 = ValType.i64()
F32 = ValType.f32()
F64 = ValType.f64()

WAT = """
(module
  (import "host" "wait" (func $wait (param i32) (result i32)))
  (memory (export "mem") 1)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "mixed") (param i64 f32 f64) (result f64 i64 f32)
    local.get 2 local.get 0 local.get 1)
  (func (export "nothing"))
  (func (export "ref") (param externref) (result externref) local.get 0)
  (func (export "via_host") (param i32) (result i32)
    local.get 0 call $wait i32.const 1 i32.add)
  (func (export "boom") unreachable)
  (func (export "count") (param i32) (result i32) (local i32)
    (block (loop
      local.get 1 local.get 0 i32.ge_u br_if 1
      local.get 1 i32.const 1 i32.add local.set 1
      br 0))
    local.get 1)
)
"""

WAIT_TY = FuncType([I32], [I32])


def run(coro):
    return asyncio.run(coro)


def setup(host, engine=None, store=None):
    """A Store with WAT instantiated (async), `host` as host.wait."""
    engine = engine or Engine()
    linker = Linker(engine)
    linker.define_func("host", "wait", WAIT_TY, host)
    store = store or Store(engine)

    async def go():
        return await linker.instantiate_async(store, Module(engine, WAT))

    inst = run(go())
    return store, inst.exports(store), linker


async def double(x):
    await asyncio.sleep(0)
    return x * 2


# ---- results are those of the sync call ------------------------------------------


def test_call_async_returns_what_the_sync_call_returns():
    engine = Engine()
    store = Store(engine)
    linker = Linker(engine)
    linker.define_func("host", "wait", WAIT_TY, lambda x: x)
    ex = linker.instantiate(store, Module(engine, WAT)).exports(store)
    payload = object()
    cases = [
        ("add", (2, 3)),
        ("add", (2**31 - 1, 1)),
        ("mixed", (-5, 1.5, 2.25)),
        ("nothing", ()),
        ("ref", (payload,)),
        ("ref", (None,)),
        ("via_host", (41,)),
    ]
    for name, args in cases:
        want = ex[name](store, *args)
        got = run(ex[name].call_async(store, *args))
        assert got == want, name
        assert type(got) is type(want)
    assert run(ex["ref"].call_async(store, payload)) is payload


def test_call_async_trap_and_arity_errors():
    store, ex, _ = setup(double)
    with pytest.raises(Trap):
        run(ex["boom"].call_async(store))
    with pytest.raises(WasmtimeError, match="too few parameters"):
        ex["add"].call_async(store, 1)
    with pytest.raises(WasmtimeError, match="too many parameters"):
        ex["add"].call_async(store, 1, 2, 3)
    with pytest.raises(TypeError):
        ex["add"].call_async(store, "1", 2)
    with pytest.raises(TypeError):
        ex["add"].call_async()
    # nothing of the failed starts kept the Store busy
    assert run(ex["add"].call_async(store, 1, 2)) == 3


# ---- async host functions -------------------------------------------------------


def test_async_host_function_awaits_and_other_tasks_run():
    log = []

    async def host(x):
        log.append("host start")
        await asyncio.sleep(0.01)
        log.append("host end")
        return x * 10

    store, ex, _ = setup(host)

    async def other():
        for _ in range(3):
            log.append("other")
            await asyncio.sleep(0)

    async def main():
        t = asyncio.create_task(other())
        res = await ex["via_host"].call_async(store, 4)
        await t
        return res

    assert run(main()) == 41
    start, end = log.index("host start"), log.index("host end")
    assert "other" in log[start:end]


def test_hundred_concurrent_calls_on_separate_stores_interleave():
    engine = Engine()
    module = Module(engine, WAT)
    linker = Linker(engine)
    entered = []

    async def main():
        everyone_in = asyncio.Event()

        async def host(i):
            entered.append(i)
            if len(entered) == 100:
                everyone_in.set()
            # Only reached when all 100 calls are suspended here at once.
            await everyone_in.wait()
            return i

        linker.define_func("host", "wait", WAIT_TY, host)

        async def one(i):
            store = Store(engine)
            inst = await linker.instantiate_async(store, module)
            return await inst.exports(store)["via_host"].call_async(store, i)

        return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(100))), 60)

    assert run(main()) == [i + 1 for i in range(100)]
    assert sorted(entered) == list(range(100))


def test_async_host_exception_reaches_caller_as_same_object():
    exc = ValueError("from the host")

    async def host(x):
        await asyncio.sleep(0)
        raise exc

    store, ex, _ = setup(host)
    with pytest.raises(ValueError) as info:
        run(ex["via_host"].call_async(store, 1))
    assert info.value is exc
    # raising before the first await as well
    exc2 = KeyError("early")

    async def early(x):
        raise exc2

    store, ex, _ = setup(early)
    with pytest.raises(KeyError) as info:
        run(ex["via_host"].call_async(store, 1))
    assert info.value is exc2
    assert run(ex["add"].call_async(store, 1, 1)) == 2


def test_async_host_bad_results():
    async def wrong_type(x):
        return "nope"

    store, ex, _ = setup(wrong_type)
    with pytest.raises(TypeError):
        run(ex["via_host"].call_async(store, 1))

    engine = Engine()
    store = Store(engine)

    async def two():
        return (1, 2, 3)

    f = Func(store, FuncType([], [I32, I32]), two)
    with pytest.raises(WasmtimeError, match="wrong number of results"):
        run(f.call_async(store))

    async def none_expected():
        return 5

    f = Func(store, FuncType([], []), none_expected)
    with pytest.raises(WasmtimeError, match="produced results"):
        run(f.call_async(store))

    async def ok():
        return (7, 8)

    assert run(Func(store, FuncType([], [I32, I32]), ok).call_async(store)) == [7, 8]


def test_func_with_coroutine_function_and_caller():
    engine = Engine()
    store = Store(engine)
    seen = []

    async def host(caller, x):
        mem = caller["mem"]
        mem.write(caller, b"\x07", 0)
        await asyncio.sleep(0)
        # still valid after the await: this code runs inside a poll
        seen.append(mem.read(caller, 0, 1))
        return x + 1

    f = Func(store, WAIT_TY, host, access_caller=True)
    linker = Linker(engine)
    linker.define(store, "host", "wait", f)
    inst = run(linker.instantiate_async(store, Module(engine, WAT)))
    assert run(inst.exports(store)["via_host"].call_async(store, 5)) == 7
    assert seen == [b"\x07"]


def test_caller_is_invalid_outside_the_call():
    kept = []

    async def host(caller, x):
        kept.append(caller)
        await asyncio.sleep(0)
        assert caller.get("mem") is not None
        return x

    engine = Engine()
    store = Store(engine)
    linker = Linker(engine)
    linker.define_func("host", "wait", WAIT_TY, host, access_caller=True)
    inst = run(linker.instantiate_async(store, Module(engine, WAT)))
    assert run(inst.exports(store)["via_host"].call_async(store, 3)) == 4
    assert kept[0].get("mem") is None  # invalid once the host call is over


def test_sync_call_on_an_async_only_store_fails_cleanly():
    # (Wasmtime itself panics, aborting the process, when such a Store
    # reaches an async host function through a synchronous call.)
    store, ex, linker = setup(double)
    for call in (
        lambda: ex["via_host"](store, 1),
        lambda: ex["add"](store, 1, 2),
        lambda: linker.instantiate(store, Module(linker.engine, "(module)")),
        lambda: linker.instantiate_pre(Module(linker.engine, "(module)")).instantiate(store),
    ):
        with pytest.raises(WasmtimeError, match="async-only"):
            call()
    assert run(ex["via_host"].call_async(store, 1)) == 3

    engine = Engine()
    store = Store(engine)
    f = Func(store, WAIT_TY, double)
    with pytest.raises(WasmtimeError, match="async-only"):
        Instance(store, Module(engine, WAT), [f])
    with pytest.raises(WasmtimeError, match="async-only"):
        f(store, 1)
    assert run(f.call_async(store, 4)) == 8


def test_nested_sync_call_from_sync_host_function_during_call_async():
    engine = Engine()
    store = Store(engine)
    errors = []

    def host(caller, x):
        try:
            caller["add"](caller, 1, 2)
        except WasmtimeError as e:
            errors.append(e)
        return x

    f = Func(store, WAIT_TY, host, access_caller=True)
    ex = Instance(store, Module(engine, WAT), [f]).exports(store)
    assert ex["via_host"](store, 1) == 2 and errors == []  # fine synchronously
    assert run(ex["via_host"].call_async(store, 1)) == 2
    assert len(errors) == 1 and "during an async call" in str(errors[0])


def test_nested_sync_call_from_async_host_function():
    engine = Engine()
    store = Store(engine)
    linker = Linker(engine)
    inner = []

    async def host(caller, x):
        await asyncio.sleep(0)
        try:
            caller["add"](caller, 1, 2)
        except WasmtimeError as e:
            inner.append(e)
        return x

    linker.define_func("host", "wait", WAIT_TY, host, access_caller=True)
    inst = run(linker.instantiate_async(store, Module(engine, WAT)))
    assert run(inst.exports(store)["via_host"].call_async(store, 3)) == 4
    assert len(inner) == 1


def test_instance_pre_instantiate_async():
    engine = Engine()
    linker = Linker(engine)
    linker.define_func("host", "wait", WAIT_TY, double)
    pre = linker.instantiate_pre(Module(engine, WAT))

    async def main():
        out = []
        for _ in range(3):
            store = Store(engine)
            inst = await pre.instantiate_async(store)
            out.append(await inst.exports(store)["via_host"].call_async(store, 10))
        return out

    assert run(main()) == [21, 21, 21]


def test_start_function_may_await():
    wat = """
    (module
      (import "host" "wait" (func $wait (param i32) (result i32)))
      (global $g (export "g") (mut i32) (i32.const 0))
      (func $start i32.const 20 call $wait global.set $g)
      (start $start))
    """
    engine = Engine()
    linker = Linker(engine)
    linker.define_func("host", "wait", WAIT_TY, double)
    store = Store(engine)
    inst = run(linker.instantiate_async(store, Module(engine, wat)))
    assert inst.exports(store)["g"].value(store) == 40


def test_instantiate_async_missing_import_and_trap():
    engine = Engine()
    linker = Linker(engine)
    store = Store(engine)
    with pytest.raises(WasmtimeError, match="unknown import"):
        run(linker.instantiate_async(store, Module(engine, WAT)))
    trapping = Module(engine, "(module (func $s unreachable) (start $s))")
    with pytest.raises(Trap):
        run(linker.instantiate_async(store, trapping))
    assert run(linker.instantiate_async(store, Module(engine, "(module)"))) is not None


# ---- cancellation --------------------------------------------------------------


def test_cancel_while_host_function_awaits():
    state = []

    async def host(x):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            state.append("cancelled inside")
            raise
        return x

    store, ex, _ = setup(host)

    async def main():
        task = asyncio.create_task(ex["via_host"].call_async(store, 1))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the Store is usable again, synchronously and asynchronously
        ex["mem"].write(store, b"ok", 0)
        return await ex["add"].call_async(store, 2, 2)

    assert run(main()) == 4
    assert state == ["cancelled inside"]
    assert ex["mem"].read(store, 0, 2) == b"ok"


def test_timeout_stops_the_call():
    async def host(x):
        await asyncio.sleep(3600)
        return x

    store, ex, _ = setup(host)

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(ex["via_host"].call_async(store, 1), 0.01)

    run(main())
    assert run(ex["add"].call_async(store, 5, 6)) == 11


def test_host_coroutine_may_swallow_the_cancellation():
    async def host(x):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return 100
        return x

    store, ex, _ = setup(host)

    async def main():
        task = asyncio.create_task(ex["via_host"].call_async(store, 1))
        await asyncio.sleep(0.01)
        task.cancel()
        return await task

    assert run(main()) == 101


# ---- epoch and fuel yields ---------------------------------------------------------


def epoch_store():
    config = Config()
    config.epoch_interruption = True
    config.consume_fuel = True  # a backstop: a broken yield ends instead of hanging
    engine = Engine(config)
    store = Store(engine)
    store.set_fuel(20 * 10**9)
    store.set_epoch_deadline(1)
    store.epoch_deadline_async_yield_and_update(1)
    linker = Linker(engine)
    linker.define_func("host", "wait", WAIT_TY, double)
    inst = run(linker.instantiate_async(store, Module(engine, WAT)))
    return engine, store, inst.exports(store)


class Ticker:
    def __init__(self, engine):
        self.engine = engine
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        while not self.stop.is_set():
            self.engine.increment_epoch()
            time.sleep(0.001)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def test_epoch_yield_lets_other_tasks_run():
    engine, store, ex = epoch_store()
    ticks = []

    async def other():
        while True:
            ticks.append(1)
            await asyncio.sleep(0)

    async def main():
        t = asyncio.create_task(other())
        await asyncio.sleep(0)
        before = len(ticks)
        res = await ex["count"].call_async(store, 200_000_000)
        during = len(ticks) - before
        t.cancel()
        return res, during

    with Ticker(engine):
        res, during = run(main())
    assert res == 200_000_000
    assert during > 1  # the loop ran other() while wasm was computing


def test_cancel_during_epoch_yield_leaves_store_usable():
    engine, store, ex = epoch_store()

    async def main():
        task = asyncio.create_task(ex["count"].call_async(store, 2**31))
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await ex["add"].call_async(store, 1, 2)

    with Ticker(engine):
        assert run(main()) == 3
        # and a new long call still works and finishes
        assert run(ex["count"].call_async(store, 1000)) == 1000


def test_fuel_async_yield_interval():
    config = Config()
    config.consume_fuel = True
    engine = Engine(config)
    store = Store(engine)
    store.set_fuel(10**9)
    ex = Instance(store, Module(engine, WAT), [Func(store, WAIT_TY, lambda x: x)])
    assert ex.exports(store)["add"](store, 1, 2) == 3
    store.fuel_async_yield_interval(10_000)
    with pytest.raises(WasmtimeError, match="async-only"):
        ex.exports(store)["add"](store, 1, 2)
    turns = []

    async def other():
        while True:
            turns.append(1)
            await asyncio.sleep(0)

    async def main():
        t = asyncio.create_task(other())
        await asyncio.sleep(0)
        res = await ex.exports(store)["count"].call_async(store, 100_000)
        t.cancel()
        return res

    assert run(main()) == 100_000
    assert len(turns) > 2
    store.fuel_async_yield_interval(None)
    with pytest.raises(TypeError):
        store.fuel_async_yield_interval("1")
    with pytest.raises(OverflowError):
        store.fuel_async_yield_interval(-1)
    with pytest.raises(OverflowError):
        store.epoch_deadline_async_yield_and_update(2**64)


def test_fuel_async_yield_needs_fuel():
    store = Store(Engine())
    with pytest.raises(WasmtimeError):
        store.fuel_async_yield_interval(100)


# ---- the Store is busy while a call future lives --------------------------------------


def test_busy_store_refuses_other_calls():
    gate = None
    seen = []

    async def host(x):
        await gate.wait()
        return x

    engine = Engine()
    store, ex, linker = setup(host, engine)

    async def main():
        nonlocal gate
        gate = asyncio.Event()
        task = asyncio.create_task(ex["via_host"].call_async(store, 1))
        await asyncio.sleep(0.01)
        for attempt in (
            lambda: ex["add"](store, 1, 2),
            lambda: ex["add"].call_async(store, 1, 2),
            lambda: ex["mem"].read(store, 0, 1),
            lambda: store.gc(),
            lambda: store.close(),
            lambda: store.set_fuel(1),
            lambda: linker.instantiate_async(store, Module(engine, "(module)")),
        ):
            with pytest.raises(RuntimeError):
                attempt()
            seen.append(1)
        gate.set()
        return await task

    assert run(main()) == 2
    assert len(seen) == 7
    assert ex["mem"].read(store, 0, 1) == b"\x00"


def test_unawaited_call_frees_the_store_when_dropped():
    store, ex, _ = setup(double)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        coro = ex["add"].call_async(store, 1, 2)
        with pytest.raises(RuntimeError):
            ex["add"].call_async(store, 1, 2)
        del coro
        gc.collect()
    assert run(ex["add"].call_async(store, 1, 2)) == 3


@types.coroutine
def pause():
    yield "paused"


def test_abandoned_call_frees_the_store():
    async def host(x):
        await pause()
        return x

    store, ex, _ = setup(host)
    coro = ex["via_host"].call_async(store, 1)
    assert coro.send(None) == "paused"  # suspended in the host function
    coro.close()
    assert run(ex["add"].call_async(store, 1, 2)) == 3


def test_await_on_another_thread_is_refused():
    store, ex, _ = setup(double)
    coro = ex["add"].call_async(store, 1, 2)
    errors = []

    def other():
        try:
            asyncio.run(coro)
        except RuntimeError as e:
            errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert len(errors) == 1 and "thread" in str(errors[0])
    assert run(ex["add"].call_async(store, 1, 2)) == 3


# ---- the async stack (Config.async_stack_size) ----------------------------------------

# A host function that recurses through C calls (list(map(...))), with the
# recursion limit raised to 5000: with Wasmtime's 2 MiB async stack this
# overflowed the fiber stack and Wasmtime aborted the process ("execution on
# async fiber has overflowed its stack", SIGABRT) on Python 3.11 and 3.13.
DEEP_RECURSION = """
import asyncio, sys
from wasmtime import Engine, FuncType, Linker, Module, Store, ValType

sys.setrecursionlimit(5000)

def down(n):
    return 0 if n == 0 else list(map(down, [n - 1]))[0] + 1

def host(n):
    try:
        return down(n)
    except RecursionError:
        return -1

async def async_host(n):
    return host(n)

engine = Engine()
i32 = ValType.i32()
for name, fn in (("sync", host), ("async", async_host)):
    linker = Linker(engine)
    linker.define_func("h", "f", FuncType([i32], [i32]), fn)
    store = Store(engine)
    module = Module(engine, '(module (import "h" "f" (func $f (param i32) (result i32)))'
                    '(func (export "run") (param i32) (result i32) local.get 0 call $f))')

    async def main():
        inst = await linker.instantiate_async(store, module)
        run = inst.exports(store)["run"]
        return await run.call_async(store, 4000), await run.call_async(store, 10 ** 6)

    print(name, *asyncio.run(main()), flush=True)

# the same in a component host function
from wasmtime import component as wc
sys.path.insert(0, TESTS_DIR)
from component_wat import CALLS_HOST

depths = [4000, 10 ** 6]
got = []
linker = wc.Linker(engine)
with linker.root() as root:
    root.add_func("call", lambda ctx: got.append(host(depths[len(got)])))
store = Store(engine)

async def component_main():
    inst = await linker.instantiate_async(store, wc.Component(engine, CALLS_HOST))
    call = inst.get_func(store, "call")
    await call.call_async(store)
    await call.call_async(store)

asyncio.run(component_main())
print("component", *got, flush=True)
"""


def test_deep_recursion_in_a_host_function_does_not_abort(run_python):
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    proc = run_python(f"TESTS_DIR = {tests_dir!r}\n" + DEEP_RECURSION)
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["sync", "async", "component"]
    for line in lines:
        _, shallow, deep = line.split()
        # 4000 levels fit in the default async stack; Python 3.12+ may stop
        # earlier with its own C recursion limit (RecursionError, -1).
        assert shallow in ("4000", "-1")
        assert deep == "-1"  # RecursionError inside the host function


def test_async_stack_size_must_leave_room_for_host_functions():
    for size in (0, 512 << 10, (768 << 10) - 1):
        config = Config()
        config.async_stack_size = size
        with pytest.raises(WasmtimeError, match="async_stack_size .* must exceed max_wasm_stack"):
            Engine(config)
    config = Config()
    config.max_wasm_stack = 64 << 10
    config.async_stack_size = 320 << 10  # 64 KiB + 256 KiB: the smallest accepted
    Engine(config)
    config = Config()
    with pytest.raises(OverflowError):
        config.async_stack_size = -1
    with pytest.raises(OverflowError):
        config.async_stack_size = 1 << 64
    with pytest.raises(TypeError):
        config.async_stack_size = "1048576"
    with pytest.raises(TypeError):
        config.async_stack_size = 1048576.0


def _call_with_stack(async_stack_size, max_wasm_stack=None):
    config = Config()
    if max_wasm_stack is not None:
        config.max_wasm_stack = max_wasm_stack
    config.async_stack_size = async_stack_size
    engine = Engine(config)
    store, ex, _ = setup(double, engine=engine)

    def down(n):
        return 0 if n == 0 else down(n - 1) + 1

    async def sync_host_too():
        # a sync host function, and a recursion of plain Python calls in it
        linker = Linker(engine)
        linker.define_func("host", "wait", WAIT_TY, lambda n: down(n))
        s = Store(engine)
        inst = await linker.instantiate_async(s, Module(engine, WAT))
        return await inst.exports(s)["via_host"].call_async(s, 200)

    async def main():
        return (
            await ex["via_host"].call_async(store, 20),
            await ex["count"].call_async(store, 1000),
            await sync_host_too(),
        )

    return run(main())


def test_async_call_with_a_small_async_stack():
    assert _call_with_stack(768 << 10) == (41, 1000, 201)
    assert _call_with_stack(320 << 10, max_wasm_stack=64 << 10) == (41, 1000, 201)


def test_async_call_with_a_large_async_stack():
    assert _call_with_stack(256 << 20) == (41, 1000, 201)
    assert _call_with_stack(64 << 20, max_wasm_stack=32 << 20) == (41, 1000, 201)


def test_async_stack_that_cannot_be_allocated_is_an_error():
    # Wasmtime allocates the stack at the call: failing to is a WasmtimeError
    # of that call, and the Store stays usable for synchronous calls.
    config = Config()
    config.async_stack_size = 1 << 62
    engine = Engine(config)
    store = Store(engine)
    module = Module(
        engine,
        '(module (func (export "add") (param i32 i32) (result i32)'
        " local.get 0 local.get 1 i32.add))",
    )
    inst = Instance(store, module, [])
    with pytest.raises(WasmtimeError):
        run(inst.exports(store)["add"].call_async(store, 1, 2))
    assert inst.exports(store)["add"](store, 1, 2) == 3


# ---- wrong store, closed objects, evil arguments --------------------------------------


def test_wrong_store_and_closed_objects():
    store, ex, linker = setup(double)
    other = Store(Engine())
    with pytest.raises(WasmtimeError, match="wrong store"):
        ex["add"].call_async(other, 1, 2)
    with pytest.raises(TypeError):
        ex["add"].call_async(object(), 1, 2)
    engine = Engine()
    s2 = Store(engine)
    with pytest.raises(WasmtimeError, match="another Engine"):
        linker.instantiate_async(s2, Module(engine, "(module)"))
    pre = Linker(engine).instantiate_pre(Module(engine, "(module)"))
    with pytest.raises(WasmtimeError, match="another Engine"):
        pre.instantiate_async(Store(Engine()))
    with pytest.raises(TypeError):
        linker.instantiate_async(store, "not a module")
    with pytest.raises(TypeError):
        pre.instantiate_async(42)

    closed = Store(engine)
    closed.close()
    with pytest.raises(ValueError):
        pre.instantiate_async(closed)
    with pytest.raises(ValueError):
        Linker(engine).instantiate_async(closed, Module(engine, "(module)"))
    with pytest.raises(ValueError):
        Func(closed, WAIT_TY, double)

    pre.close()
    with pytest.raises(ValueError):
        pre.instantiate_async(Store(engine))
    lk = Linker(engine)
    lk.close()
    with pytest.raises(ValueError):
        lk.instantiate_async(Store(engine), Module(engine, "(module)"))
    m = Module(engine, "(module)")
    m.close()
    with pytest.raises(ValueError):
        Linker(engine).instantiate_async(Store(engine), m)

    f = ex["add"]
    store.close()
    with pytest.raises(ValueError):
        f.call_async(store, 1, 2)


def test_linker_and_pre_refuse_close_while_instantiating():
    engine = Engine()
    linker = Linker(engine)
    gate = None

    async def host(x):
        await gate.wait()
        return x

    linker.define_func("host", "wait", WAIT_TY, host)
    wat = """(module (import "host" "wait" (func $w (param i32) (result i32)))
             (func $s i32.const 1 call $w drop) (start $s))"""
    module = Module(engine, wat)
    pre = linker.instantiate_pre(module)

    async def main():
        nonlocal gate
        gate = asyncio.Event()
        s1, s2 = Store(engine), Store(engine)
        t1 = asyncio.create_task(linker.instantiate_async(s1, module))
        t2 = asyncio.create_task(pre.instantiate_async(s2))
        await asyncio.sleep(0.01)
        with pytest.raises(RuntimeError):
            linker.close()
        with pytest.raises(RuntimeError):
            pre.close()
        module.close()  # the call uses its own clone
        gate.set()
        await t1
        await t2

    run(main())
    linker.close()
    pre.close()


def test_evil_callable_closing_the_linker_during_the_coroutine_check():
    engine = Engine()
    linker = Linker(engine)

    class Evil:
        def __call__(self, x):
            return x

        def __getattr__(self, name):
            linker.close()
            raise AttributeError(name)

    try:
        linker.define_func("host", "wait", WAIT_TY, Evil())
    except ValueError:
        pass
    with pytest.raises(ValueError):
        linker.instantiate_async(Store(engine), Module(engine, "(module)"))


def test_evil_access_caller_closing_the_store():
    engine = Engine()
    store = Store(engine)

    class Evil:
        def __bool__(self):
            store.close()
            return True

    with pytest.raises(ValueError):
        Func(store, WAIT_TY, double, access_caller=Evil())


def test_evil_argument_closing_the_store_is_converted_first():
    engine = Engine()
    store = Store(engine)
    f = Func(store, WAIT_TY, double)

    class Evil(int):
        def __index__(self):
            store.close()
            return 1

    # ints are read without __index__: the call goes ahead on the open Store
    assert run(f.call_async(store, Evil(4))) == 8


def test_host_function_cannot_poll_its_own_call():
    holder = {}

    async def host(x):
        fut = holder["coro"].cr_frame.f_locals.get("fut")
        with pytest.raises(RuntimeError):
            fut.poll(None, None)
        with pytest.raises(RuntimeError):
            fut.close()
        return x

    store, ex, _ = setup(host)

    async def main():
        holder["coro"] = ex["via_host"].call_async(store, 1)
        return await holder["coro"]

    assert run(main()) == 2


def test_call_future_is_internal():
    from wasmtime import _ext

    with pytest.raises(WasmtimeError):
        _ext.CallFuture()


def test_asyncio_server_example():
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(
        [sys.executable, os.path.join(root, "examples", "asyncio_server.py"), "--self-test"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "sleep(300) = 300" in lines
    assert "fib(30) = 832040" in lines
    # the slow request was sent first and finished last: it blocked nobody
    assert lines[-1].endswith("/sleep/300")


# ---- components ----------------------------------------------------------------------


def test_component_call_async_and_instantiate_async():
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from component_wat import PLAIN, echo

    from wasmtime import component as wc

    engine = Engine()
    comp = wc.Component(engine, PLAIN)
    linker = wc.Linker(engine)

    async def main():
        store = Store(engine)
        inst = await linker.instantiate_async(store, comp)
        add = inst.get_func(store, "add")
        assert await add.call_async(store, 5, 6) == add(store, 5, 6) == 11
        with pytest.raises(TypeError):
            add.call_async(store, 1)
        with pytest.raises(WasmtimeError, match="wrong store"):
            add.call_async(Store(engine), 1, 2)
        # the Store is busy while the call runs
        gate = asyncio.Event()
        linker2 = wc.Linker(engine)
        seen = []

        def host(ctx, v):
            seen.append(v)
            return v + "!"

        with linker2.root() as root:
            root.add_func("x", host)
        store2 = Store(engine)
        inst2 = await linker2.instantiate_async(
            store2, wc.Component(engine, echo("string", ["i32", "i32"], None))
        )
        x = inst2.get_func(store2, "x")
        assert await x.call_async(store2, "hi") == "hi!"
        gate.set()
        # an async-only Store refuses synchronous component calls
        store.epoch_deadline_async_yield_and_update(1)
        with pytest.raises(WasmtimeError, match="async-only"):
            add(store, 1, 2)
        with pytest.raises(WasmtimeError, match="async-only"):
            linker.instantiate(store, comp)
        return seen

    assert run(main()) == ["hi"]
    comp.close()
    with pytest.raises(ValueError):
        linker.instantiate_async(Store(engine), comp)


def test_component_async_host_function():
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from component_wat import echo

    from wasmtime import component as wc

    engine = Engine()
    comp = wc.Component(engine, echo("string", ["i32", "i32"], None))
    log = []
    exc = ValueError("from the component host")

    async def host(ctx, v):
        log.append("in")
        await asyncio.sleep(0.01)
        log.append("out")
        if v == "raise":
            raise exc
        if v == "forever":
            await asyncio.sleep(3600)
        return v + "!"

    linker = wc.Linker(engine)
    with linker.root() as root:
        root.add_func("x", host)

    async def main():
        store = Store(engine)
        with pytest.raises(WasmtimeError, match="async-only"):
            linker.instantiate(store, comp)
        inst = await linker.instantiate_async(store, comp)
        x = inst.get_func(store, "x")

        async def other():
            log.append("other")

        asyncio.ensure_future(other())
        assert await x.call_async(store, "hi") == "hi!"
        assert log == ["in", "other", "out"]
        with pytest.raises(ValueError) as info:
            await x.call_async(store, "raise")
        assert info.value is exc
        # cancellation (a new Store: a component instance cannot be
        # re-entered after a failed call)
        store = Store(engine)
        inst = await linker.instantiate_async(store, comp)
        task = asyncio.ensure_future(inst.get_func(store, "x").call_async(store, "forever"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # as after a trap, the Store's component instances cannot be entered
        # again (docs/components.md), but the Store is not busy any more
        with pytest.raises(WasmtimeError, match="cannot enter"):
            await inst.get_func(store, "x").call_async(store, "again")
        store = Store(engine)
        inst = await linker.instantiate_async(store, comp)
        assert await inst.get_func(store, "x").call_async(store, "ok") == "ok!"

    run(main())


# A child measuring the largest gap between turns of another task while
# call_async runs a long pure wasm loop, in CPU time of the thread running
# the wasm ("10 ms of wasm execution", whatever else the machine does).
# MODE "manual": a user's epoch setup with a Python ticker thread;
# MODE "interruptible": Config.interruptible alone (its native ticker).
LATENCY_CHILD = r"""
import asyncio, threading, time
import wasmtime as w

MODE = "@MODE@"
cfg = w.Config()
if MODE == "manual":
    cfg.epoch_interruption = True
else:
    cfg.interruptible = True
eng = w.Engine(cfg)
store = w.Store(eng)
if MODE == "manual":
    store.set_epoch_deadline(1)
    store.epoch_deadline_async_yield_and_update(1)
module = w.Module(eng, '''(module (func (export "spin") (param i32) (result i32) (local i32)
  (block (loop local.get 1 local.get 0 i32.ge_u br_if 1
               local.get 1 i32.const 1 i32.add local.set 1 br 0)) local.get 1))''')

async def main():
    spin = (await w.Linker(eng).instantiate_async(store, module)).exports(store)["spin"]
    stop = threading.Event()

    def tick():  # what Config.interruptible's ticker does, every millisecond
        while not stop.wait(0.001):
            eng.increment_epoch()

    ticker = threading.Thread(target=tick)
    if MODE == "manual":
        ticker.start()
    gaps, last, running = [], [time.thread_time()], [True]

    async def other():
        while running[0]:
            now = time.thread_time()
            gaps.append(now - last[0])
            last[0] = now
            await asyncio.sleep(0)

    task = asyncio.ensure_future(other())
    await asyncio.sleep(0)
    assert await spin.call_async(store, 600_000_000) == 600_000_000
    running[0] = False
    await task
    stop.set()
    if MODE == "manual":
        ticker.join()
    else:
        # the yields did not make the Store async-only: sync calls still work
        assert spin(store, 5) == 5
    print(len(gaps), max(gaps[2:]) * 1000)

asyncio.run(main())
"""


@pytest.mark.skipif(
    "libasan" in os.environ.get("LD_PRELOAD", ""),
    reason="a latency bound: under ASan the interpreter runs several times slower; "
    "the plain run (./dev test) measures it",
)
@pytest.mark.parametrize("mode", ["manual", "interruptible"])
def test_long_call_async_yields_at_least_every_10_ms(run_python, mode):
    # The bound: another task gets a turn at least every 10 ms of
    # wasm execution.  Measured in a child process; the machine is shared,
    # so one of three runs must meet it.
    worst = []
    for _ in range(3):
        proc = run_python(LATENCY_CHILD.replace("@MODE@", mode))
        assert proc.returncode == 0, proc.stderr
        turns, max_gap_ms = proc.stdout.split()
        assert int(turns) > 10
        worst.append(float(max_gap_ms))
        if worst[-1] < 10:
            break
    assert min(worst) < 10, worst


def test_interruptible_store_refuses_the_manual_async_yield():
    cfg = Config()
    cfg.interruptible = True
    store = Store(Engine(cfg))
    with pytest.raises(WasmtimeError, match="interruptible"):
        store.epoch_deadline_async_yield_and_update(1)


def test_garbage_cycle_through_a_suspended_call(run_python):
    # Store -> data -> coroutine -> CallFuture -> Store: the collector may
    # clear the Store first; its live future is closed before the C store
    # goes (a child process: a mistake here would crash).
    proc = run_python(
        r"""
import asyncio, gc, types
import wasmtime as w

@types.coroutine
def pause():
    yield "paused"

async def host(x):
    await pause()
    return x

engine = w.Engine()
linker = w.Linker(engine)
linker.define_func("", "h", w.FuncType([w.ValType.i32()], [w.ValType.i32()]), host)
module = w.Module(engine, '''(module (import "" "h" (func $h (param i32) (result i32)))
  (func (export "f") (param i32) (result i32) local.get 0 call $h))''')
for i in range(20):
    holder = []
    store = w.Store(engine, holder)
    inst = asyncio.run(linker.instantiate_async(store, module))
    coro = inst.exports(store)["f"].call_async(store, i)
    assert coro.send(None) == "paused"
    holder.append(coro)
    del store, inst, coro, holder
    gc.collect()
print("ok")
"""
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_component_entry_points_misuse():
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from component_wat import PLAIN

    from wasmtime import component as wc

    engine = Engine()
    comp = wc.Component(engine, PLAIN)
    linker = wc.Linker(engine)
    with pytest.raises(TypeError):
        linker.instantiate_async(Store(engine), "not a component")
    with pytest.raises(TypeError):
        linker.instantiate_async(42, comp)
    closed = Store(engine)
    closed.close()
    with pytest.raises(ValueError):
        linker.instantiate_async(closed, comp)

    class Evil:
        def __call__(self, ctx):
            return None

        def __getattr__(self, name):
            linker.close()
            raise AttributeError(name)

    root = linker.root()
    try:
        root.add_func("f", Evil())
    except (ValueError, RuntimeError, WasmtimeError):
        pass
    root.close()

    store = Store(engine)
    inst = run(wc.Linker(engine).instantiate_async(store, comp))
    add = inst.get_func(store, "add")
    store.close()
    with pytest.raises(ValueError):
        add.call_async(store, 1, 2)


def test_no_async_call_from_inside_a_sync_call():
    engine = Engine()
    store = Store(engine)
    errors = []

    def host(caller, x):
        try:
            caller["add"].call_async(caller, 1, 2)
        except RuntimeError as e:
            errors.append(e)
        return x

    f = Func(store, WAIT_TY, host, access_caller=True)
    ex = Instance(store, Module(engine, WAT), [f]).exports(store)
    assert ex["via_host"](store, 5) == 6
    assert len(errors) == 1 and "while wasm runs" in str(errors[0])
    assert run(ex["add"].call_async(store, 1, 2)) == 3


def test_garbage_cycle_through_a_suspended_instantiation(run_python):
    # Linker -> host callable -> list -> coroutine -> CallFuture -> Linker
    # (and the same through an InstancePre): whichever the collector clears
    # first, the C linker stays until the suspended instantiation is closed.
    proc = run_python(
        r"""
import asyncio, gc, types
import wasmtime as w

@types.coroutine
def pause():
    yield "paused"

engine = w.Engine()
wat = '''(module (import "" "h" (func $h (param i32) (result i32)))
  (func $s i32.const 1 call $h drop) (start $s))'''
module = w.Module(engine, wat)
for i in range(20):
    holder = []

    async def host(x):
        holder.append(x)
        await pause()
        return x

    linker = w.Linker(engine)
    linker.define_func("", "h", w.FuncType([w.ValType.i32()], [w.ValType.i32()]), host)
    if i % 2:
        coro = linker.instantiate_pre(module).instantiate_async(w.Store(engine))
    else:
        coro = linker.instantiate_async(w.Store(engine), module)
    assert coro.send(None) == "paused"
    holder.append(coro)
    del linker, coro, holder, host
    gc.collect()
print("ok")
"""
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
