"""Benchmark cases, run unchanged under wasmtime-native and wasmtime-py.

`python cases.py [PATTERN ...]` prints one JSON object: case name ->
nanoseconds per operation (or MB/s where the name says so), for every case,
or only those whose name contains one of the patterns.  bench/run.py runs it in both
virtualenvs, alternating, and writes RESULTS.md.  Only the public wasmtime
API is used, except where a case is marked "ours": features wasmtime-py does
not have (the zero-copy view), for which the peer uses its closest API.
"""

import gc
import json
import os
import resource
import sys
import threading
import time

import wasmtime
from wasmtime import Engine, Func, FuncType, Instance, Linker, Module, Store, ValType, WasiConfig

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import npm_wasm  # noqa: E402
from component_names import COMPONENT_FLOOR  # noqa: E402

OURS = hasattr(wasmtime, "MemoryView")
i32, i64, f64 = ValType.i32(), ValType.i64(), ValType.f64()

WAT = """
(module
  (import "host" "hit" (func $hit (param i32) (result i32)))
  (import "host" "peek" (func $peek (param i32) (result i32)))
  (memory (export "memory") 256)
  (global $heap (mut i32) (i32.const 1048576))
  (func (export "nop"))
  (func (export "ext_id") (param externref) (result externref) local.get 0)
  (func (export "fn_id") (param funcref) (result funcref) local.get 0)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "addf") (param f64 f64) (result f64) local.get 0 local.get 1 f64.add)
  (func (export "four") (param i32 i64 f64 i32) (result i64 f64)
    local.get 1 local.get 0 i64.extend_i32_s i64.add
    local.get 2 local.get 3 f64.convert_i32_s f64.add)
  (func (export "loop_hit") (param $n i32) (result i32)
    (local $acc i32)
    block loop
      local.get $n i32.eqz br_if 1
      local.get $acc local.get $n call $hit i32.add local.set $acc
      local.get $n i32.const 1 i32.sub local.set $n
      br 0
    end end
    local.get $acc)
  (func (export "loop_peek") (param $n i32) (result i32)
    (local $acc i32)
    block loop
      local.get $n i32.eqz br_if 1
      local.get $acc local.get $n call $peek i32.add local.set $acc
      local.get $n i32.const 1 i32.sub local.set $n
      br 0
    end end
    local.get $acc)
  (func (export "alloc") (param $len i32) (result i32)
    (local $p i32)
    global.get $heap local.set $p
    global.get $heap local.get $len i32.add global.set $heap
    local.get $p)
  (func (export "reset") i32.const 1048576 global.set $heap)
  (func (export "hash") (param $p i32) (param $len i32) (result i32)
    (local $h i32) (local $end i32)
    i32.const 2166136261 local.set $h
    local.get $p local.get $len i32.add local.set $end
    block loop
      local.get $p local.get $end i32.ge_u br_if 1
      local.get $h local.get $p i32.load8_u i32.xor i32.const 16777619 i32.mul local.set $h
      local.get $p i32.const 1 i32.add local.set $p
      br 0
    end end
    local.get $h)
  (func (export "spin") (param $n i32) (result i32)
    (local $x i32)
    block loop
      local.get $n i32.eqz br_if 1
      local.get $x i32.const 1103515245 i32.mul i32.const 12345 i32.add local.set $x
      local.get $n i32.const 1 i32.sub local.set $n
      br 0
    end end
    local.get $x))
"""


def _leb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _sleb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if (n == 0 and not byte & 0x40) or (n == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def exports_module(count):
    """Binary module with `count` functions `() -> i32`, each exported: "f"
    (returns 0), then "f1" .. "f<count-1>"."""

    def section(i, payload):
        return bytes([i]) + _leb(len(payload)) + payload

    def vec(items):
        return _leb(len(items)) + b"".join(items)

    names = ["f"] + ["f%d" % i for i in range(1, count)]
    exports = [_leb(len(n)) + n.encode() + b"\x00" + _leb(i) for i, n in enumerate(names)]
    bodies = []
    for i in range(count):
        body = b"\x00\x41" + _sleb(i) + b"\x0b"  # no locals; i32.const i
        bodies.append(_leb(len(body)) + body)
    return b"".join(
        [
            b"\x00asm\x01\x00\x00\x00",
            section(1, vec([b"\x60\x00\x01\x7f"])),
            section(3, vec([b"\x00"] * count)),
            section(7, vec(exports)),
            section(10, vec(bodies)),
        ]
    )


def timeit(fn, min_time=0.25, start=1):
    """ns per call of fn(n) which performs n operations."""
    n = start
    while True:
        t0 = time.perf_counter()
        fn(n)
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return dt / n * 1e9
        n = max(n * 2, int(n * min_time / max(dt, 1e-9) * 1.2))


def setup(engine):
    store = Store(engine)
    module = Module(engine, WAT)
    state = {"mem": None}

    def peek(caller, addr):
        mem = caller.get("memory") if state["mem"] is None else state["mem"]
        return mem.read(caller, 0, 4)[0]

    hit = Func(store, FuncType([i32], [i32]), lambda x: x & 1)
    peekf = Func(store, FuncType([i32], [i32]), peek, access_caller=True)
    inst = Instance(store, module, [hit, peekf])
    ex = inst.exports(store)
    return store, module, ex


def run_cases(only=None):
    res = {}
    engine = Engine()
    store, module, ex = setup(engine)
    nop, add, addf, four = ex["nop"], ex["add"], ex["addf"], ex["four"]
    mem = ex["memory"]

    def case(name, fn):
        if only and not any(pattern in name for pattern in only):
            return
        gc.collect()
        res[name] = fn()

    def b1():
        def run(n):
            for _ in range(n):
                nop(store)

        return timeit(run)

    case("B1 nop call", b1)

    def b2_add():
        def run(n):
            for _ in range(n):
                add(store, 1, 2)

        return timeit(run)

    def b2_addf():
        def run(n):
            for _ in range(n):
                addf(store, 1.5, 2.5)

        return timeit(run)

    def b2_four():
        def run(n):
            for _ in range(n):
                four(store, 1, 2, 3.0, 4)

        return timeit(run)

    def b2_ref(f, arg):
        def run(n):
            for _ in range(n):
                f(store, arg)

        return timeit(run)

    payload = object()
    case("B2 externref id", lambda: b2_ref(ex["ext_id"], payload))
    case("B2 funcref id", lambda: b2_ref(ex["fn_id"], nop))
    case("B2 add(i32,i32)", b2_add)
    case("B2 addf(f64,f64)", b2_addf)
    case("B2 four 4-in/2-out", b2_four)

    def b3(f):
        def run(n):
            f(store, n)

        return timeit(run, start=1000)

    case("B3 host import call", lambda: b3(ex["loop_hit"]))
    case("B3b host import + caller memory read", lambda: b3(ex["loop_peek"]))

    # asyncio (ours only: wasmtime-py has no async API).  The sync
    # counterparts are B2 add(i32,i32) and B3 host import call.
    if hasattr(Func, "call_async"):
        import asyncio

        def a1():
            async def loop(n):
                for _ in range(n):
                    await add.call_async(store, 1, 2)

            return timeit(lambda n: asyncio.run(loop(n)), start=1000)

        case("A1 call_async add(i32,i32) (ours)", a1)

        def a2(host):
            astore = Store(engine)
            linker = Linker(engine)
            linker.define_func("host", "hit", FuncType([i32], [i32]), host)
            linker.define_func("host", "peek", FuncType([i32], [i32]), host)
            loop_hit = asyncio.run(linker.instantiate_async(astore, module)).exports(astore)[
                "loop_hit"
            ]

            def run(n):
                asyncio.run(loop_hit.call_async(astore, n))

            return timeit(run, start=1000)

        async def hit_now(x):
            return x & 1

        async def hit_sleep0(x):
            await asyncio.sleep(0)
            return x & 1

        case("A2 async host import call, no await (ours)", lambda: a2(hit_now))
        case("A2b async host import call, await sleep(0) (ours)", lambda: a2(hit_sleep0))

    size = 8 << 20
    payload = os.urandom(size)

    def b4_write(data):
        def run(n):
            for _ in range(n):
                mem.write(store, data, 0)

        ns = timeit(run)
        return size / (ns / 1e9) / 1e6

    def b4_memcpy():
        src = bytearray(payload)
        dst = bytearray(size)

        def run(n):
            for _ in range(n):
                dst[:] = src

        ns = timeit(run)
        return size / (ns / 1e9) / 1e6

    case("B4 memcpy baseline: bytearray copy, 8 MiB (MB/s)", b4_memcpy)
    case("B4 write 8 MiB bytes (MB/s)", lambda: b4_write(payload))
    case("B4 write 8 MiB bytearray (MB/s)", lambda: b4_write(bytearray(payload)))

    def b4_read():
        def run(n):
            for _ in range(n):
                mem.read(store, 0, size)

        ns = timeit(run)
        return size / (ns / 1e9) / 1e6

    case("B4 read 8 MiB (MB/s)", b4_read)

    def numpy_view():
        import numpy as np

        if OURS:
            return np.frombuffer(mem.view(store), dtype=np.uint8)
        return np.frombuffer(mem.get_buffer_ptr(store), dtype=np.uint8)

    def b4_numpy():
        import numpy as np

        src = np.frombuffer(payload, dtype=np.uint8)

        def run(n):
            for _ in range(n):
                arr = numpy_view()
                arr[:size] = src

        ns = timeit(run)
        return size / (ns / 1e9) / 1e6

    case("B4 numpy copy into view, 8 MiB (MB/s)", b4_numpy)

    def b5():
        if OURS:
            words = memoryview(mem.view(store)).cast("I")
        else:
            import numpy as np

            words = np.frombuffer(mem.get_buffer_ptr(store), dtype=np.uint32)

        def run(n):
            w = words
            for i in range(n):
                w[i & 0xFFFFF]

        return timeit(run, start=10000)

    case("B5 read u32 from Python", b5)

    def b6(text):
        data = text.encode()
        alloc, hash_, reset = ex["alloc"], ex["hash"], ex["reset"]

        def run(n):
            for _ in range(n):
                p = alloc(store, len(data))
                mem.write(store, data, p)
                hash_(store, p, len(data))
                mem.read(store, p, p + len(data))
                reset(store)

        return timeit(run)

    def b6_hash_only(nbytes):
        hash_ = ex["hash"]

        def run(n):
            for _ in range(n):
                hash_(store, 1048576, nbytes)

        return timeit(run)

    case("B6 hash(ptr, 1300) alone: the wasm work", lambda: b6_hash_only(1300))
    case("B6 string round trip 13 B", lambda: b6("hello, world!"))
    case("B6 string round trip 1300 B", lambda: b6("hello, world!" * 100))

    def b7_compile():
        with open(npm_wasm.fetch("sqlite"), "rb") as f:
            data = f.read()
        best = None
        for _ in range(3):
            t0 = time.perf_counter()
            Module(engine, data)
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        return best * 1e9

    case("B7 compile sql.js SQLite (ns)", b7_compile)

    def b7_deserialize():
        with open(npm_wasm.fetch("sqlite"), "rb") as f:
            blob = Module(engine, f.read()).serialize()

        def run(n):
            for _ in range(n):
                Module.deserialize(engine, blob)

        return timeit(run)

    case("B7 deserialize sql.js SQLite", b7_deserialize)

    def b8():
        linker = Linker(engine)
        linker.define_func("host", "hit", FuncType([i32], [i32]), lambda x: x)
        linker.define_func("host", "peek", FuncType([i32], [i32]), lambda x: x)
        pre = linker.instantiate_pre(module)

        def run(n):
            for _ in range(n):
                s = Store(engine)
                inst = pre.instantiate(s)
                inst.exports(s)["add"](s, 1, 2)
                del inst, s

        gc.collect()
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        ns = timeit(run, start=100)
        run(10000)
        gc.collect()
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        res["B8 max RSS growth over the run (MB)"] = (rss1 - rss0) / 1024
        return ns

    case("B8 new Store + InstancePre + call", b8)

    def b9():
        linker = Linker(engine)
        linker.define_wasi()
        hello = Module(engine, HELLO_WAT)

        def run(n):
            for _ in range(n):
                s = Store(engine)
                w = WasiConfig()
                out = []
                w.stdout_custom = out.append
                s.set_wasi(w)
                linker.instantiate(s, hello).exports(s)["_start"](s)

        return timeit(run, start=10)

    case("B9 WASI hello world end to end", b9)

    def b10():
        count = 100_000_000
        workers = []
        for _ in range(2):
            s, _, e = setup(engine)
            workers.append((s, e["spin"]))

        def work(w, n):
            w[1](w[0], n)

        t0 = time.perf_counter()
        work(workers[0], count * 2)
        one = time.perf_counter() - t0
        threads = [threading.Thread(target=work, args=(w, count)) for w in workers]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        two = time.perf_counter() - t0
        return one / two

    case("B10 two threads speedup (x)", b10)

    def b12(count):
        module = Module(engine, exports_module(count))

        def run(n):
            for _ in range(n):
                s = Store(engine)
                assert Instance(s, module, []).exports(s)["f"](s) == 0

        return timeit(run, start=10)

    for count in (1, 16, 256, 4096):
        case(
            "B12 per request: new Store + Instance + exports(s)['f'] + call, %d exports" % count,
            lambda count=count: b12(count),
        )
    component_cases(engine, case)
    return res


def component_cases(engine, case):
    """The C cases, on bench/component.wat; only where wasmtime.component exists."""
    try:
        from wasmtime.component import Component, Record
        from wasmtime.component import Linker as ComponentLinker
    except ImportError:
        return
    with open(os.path.join(HERE, "component.wat")) as f:
        component = Component(engine, f.read())
    linker = ComponentLinker(engine)
    with linker.root() as root:
        root.add_func("host-add", lambda ctx, a, b: (a + b) & 0xFFFFFFFF)
    store = Store(engine)
    instance = linker.instantiate(store, component)

    def func(name):
        return instance.get_func(store, name)

    def calls(f, *args):
        def run(n):
            for _ in range(n):
                f(store, *args)

        return timeit(run)

    names = list(COMPONENT_FLOOR)
    case(names[0], lambda: calls(func("add"), 1, 2))
    payload = bytes(ord("a") + i % 26 for i in range(64 * 1024))
    for name, size in ((names[1], 1024), (names[2], 64 * 1024)):
        case(name, lambda size=size: calls(func("echo-bytes"), payload[:size]))
    for name, size in ((names[3], 1024), (names[4], 64 * 1024)):
        text = payload[:size].decode()
        case(name, lambda text=text: calls(func("echo-string"), text))
    point = Record()
    point.x, point.y, point.label = 1, -2, "hello"
    case(names[5], lambda: calls(func("echo-point"), point))
    call_host = func("call-host")

    def host(n):
        call_host(store, n)

    case(names[6], lambda: timeit(host, start=100))
    bindgen_cases(engine, component, linker, case, calls)


def bindgen_cases(engine, component, linker, case, calls):
    """C6-C7: wasmtime.bindgen's typed calls beside the untyped C4 (ours only)."""
    try:
        from wasmtime.bindgen import bind
        from wasmtime.component import Linker as ComponentLinker
    except ImportError:
        return
    m = bind(component, "bench_bindings")
    imports = m.RootImports(host_add=lambda a, b: (a + b) & 0xFFFFFFFF)
    store = Store(engine)
    root = m.Root(store, imports)
    point = m.Point(1, -2, "hello")

    def typed(n):
        for _ in range(n):
            root.echo_point(store, point)

    case("C6 bindgen typed record round trip (dataclass)", lambda: timeit(typed))
    case(
        "C6 bindgen typed add(u32,u32)",
        lambda: timeit(lambda n: [root.add(store, 1, 2) for _ in range(n)]),
    )

    def fresh_untyped(n):
        for _ in range(n):
            linker.instantiate(Store(engine), component)

    def fresh_root(n):
        for _ in range(n):
            m.Root(Store(engine), imports)

    def fresh_linker(n):
        for _ in range(n):
            lk = ComponentLinker(engine)
            with lk.root() as r:
                r.add_func("host-add", lambda ctx, a, b: (a + b) & 0xFFFFFFFF)
            lk.instantiate(Store(engine), component)

    # After a trap a Store is unusable: a new Store and a new instance.
    case(
        "C7 new Store + new Linker + instantiate (untyped)", lambda: timeit(fresh_linker, start=10)
    )
    case("C7 new Store + Linker.instantiate (untyped)", lambda: timeit(fresh_untyped, start=10))
    case(
        "C7 new Store + bindgen Root() (linked definitions reused)",
        lambda: timeit(fresh_root, start=10),
    )


HELLO_WAT = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello, world\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 13))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
"""


if __name__ == "__main__":
    only = set(sys.argv[1:]) or None
    print(json.dumps(run_cases(only)))
