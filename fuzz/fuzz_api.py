"""Fuzz target: a stateful sequence of API operations.

Each input drives up to 64 operations over pools of live objects (Config,
Engine, Store, Module, Linker, Instance, InstancePre, Func, Memory, Table,
Global, Tag, SharedMemory, WasiConfig, the type classes, Val, memory views,
Callers kept past their call).  Operations create, use, close and drop
objects, with arguments that are mostly right, sometimes anything, and
sometimes "evil": objects whose ``__index__``, ``__bool__``, ``__fspath__``,
``__eq__``/``__hash__``, ``__iter__`` or ``__call__`` first close or consume
an owner in reach (Store, Engine, Module, Linker, Config, WasiConfig,
InstancePre...), drop it and collect garbage, grow a memory, or raise.  Host
functions called from wasm (also during instantiation) do the same.  Besides
the curated operations, one operation calls any public method or sets any
property found by introspection, so that new API is fuzzed without anyone
listing it.

Any Python exception is fine except SystemError; a signal or sanitizer
report is a finding.

    python fuzz/fuzz_api.py -max_total_time=60 CORPUS_DIR
"""

import gc
import os
import shutil
import tempfile

import fuzzlib
from fuzzlib import (
    Act,
    Evil,
    EvilList,
    EvilStr,
    evil_gen,
    feature,
    judge,
    known,
    rand_bytes,
    rand_float,
    rand_int,
    rand_name,
    trace,
)

import wasmtime as W

MODULES = {
    "basic": """
(module
  (memory (export "memory") 1 8)
  (table (export "table") 2 32 funcref)
  (table (export "refs") 2 32 externref)
  (global (export "g") (mut i32) (i32.const 1))
  (global (export "gref") (mut externref) (ref.null extern))
  (tag (export "tag") (param i32))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "ext") (param externref) (result externref) local.get 0)
  (func (export "fn") (param funcref) (result funcref) local.get 0)
  (func (export "f64") (param f64 f32 i64) (result f64) local.get 0)
  (func (export "trap") unreachable)
  (func (export "count") (param i32) (result i32)
    local.get 0 i32.const 255 i32.and local.set 0
    (loop local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0) local.get 0)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))""",
    "imports": """
(module
  (import "host" "f" (func $f (param i32) (result i32)))
  (import "host" "g" (global $g (mut i32)))
  (import "host" "m" (memory 1))
  (import "host" "t" (table 1 funcref))
  (func (export "call") (param i32) (result i32) local.get 0 call $f)
  (func (export "get") (result i32) global.get $g)
  (func (export "size") (result i32) memory.size))""",
    "start": """
(module
  (import "host" "during" (func $during))
  (func $start call $during)
  (start $start)
  (memory (export "memory") 1)
  (func (export "f") (result i32) i32.const 7))""",
    "caller": """
(module
  (import "host" "cb" (func $cb (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32) local.get 0 call $cb))""",
    "wasi": """
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "exit") (param i32) local.get 0 call $exit))""",
    "mem64": """
(module (memory (export "memory") i64 1))""",
    "shared": """
(module (memory (export "memory") 1 4 shared))""",
    "empty": "(module)",
}
MODULE_NAMES = sorted(MODULES)
# Wasm binaries, made once (wat2wasm needs no engine).
BINARIES = {}
# The same modules compiled once by a default Engine: deserializing them into
# a default-configured engine is much faster than compiling (and trusted:
# this process made them).
ARTIFACTS = {}

KINDS = [
    "config",
    "engine",
    "store",
    "module",
    "linker",
    "instance",
    "pre",
    "func",
    "memory",
    "table",
    "global",
    "tag",
    "shared",
    "wasi",
    "functype",
    "valtype",
    "globaltype",
    "tabletype",
    "memorytype",
    "tagtype",
    "val",
    "view",
    "caller",
    "exports",
    "limits",
]
# Kinds whose objects close() (or are consumed); evil actions pick from these.
OWNERS = [
    "config",
    "engine",
    "store",
    "module",
    "linker",
    "pre",
    "wasi",
    "shared",
    "functype",
    "valtype",
    "globaltype",
    "tabletype",
    "memorytype",
    "tagtype",
]

CONFIG_BOOLS = [
    "debug_info",
    "wasm_threads",
    "wasm_tail_call",
    "wasm_reference_types",
    "wasm_simd",
    "wasm_bulk_memory",
    "wasm_multi_value",
    "wasm_multi_memory",
    "wasm_memory64",
    "wasm_relaxed_simd",
    "wasm_relaxed_simd_deterministic",
    "wasm_component_model",
    "wasm_exceptions",
    "wasm_function_references",
    "wasm_gc",
    "wasm_wide_arithmetic",
    "wasm_custom_page_sizes",
    "cranelift_debug_verifier",
    "epoch_interruption",
    "consume_fuel",
    "parallel_compilation",
    "shared_memory",
    "gc_support",
    "cranelift_nan_canonicalization",
    "memory_may_move",
    "native_unwind_info",
    "signals_based_traps",
    "memory_init_cow",
]
CONFIG_INTS = [
    "max_wasm_stack",
    "memory_reservation",
    "memory_guard_size",
    "memory_reservation_for_growth",
]
CONFIG_STRS = {
    "strategy": ["auto", "cranelift", "winch", "pulley", "bogus"],
    "cranelift_opt_level": ["none", "speed", "speed_and_size", "x"],
    # Never a real profiler or cache: they write files.
    "profiler": ["none", "bogus"],
    "target": ["x86_64-unknown-linux-gnu", "pulley64", "bogus", ""],
}
CRANELIFT_FLAGS = [
    "enable_verifier",
    "opt_level",
    "enable_nan_canonicalization",
    "regalloc_checker",
    "enable_alias_analysis",
    "bogus",
]

# Members the generic operation never touches: they write files, lift the
# resource limits every Store gets, or hand out raw pointers (using which is
# the caller's business, not ours).
GENERIC_SKIP = {
    ("Config", "cache"),
    ("Config", "profiler"),
    ("Store", "set_limits"),
    ("WasiConfig", "stdout_file"),
    ("WasiConfig", "stderr_file"),
    ("WasiConfig", "stdin_file"),
    ("WasiConfig", "preopen_dir"),
    ("Memory", "data_ptr"),
    ("Memory", "get_buffer_ptr"),
    ("SharedMemory", "data_ptr"),
    ("Module", "deserialize_file"),
    ("Module", "from_file"),
    ("Module", "deserialize"),
}

_files = {}


def files():
    """Paths the targets may read or write: all inside one temp directory."""
    if not _files:
        # One directory per process, named by pid: libFuzzer exits without
        # running atexit handlers, so each process removes the directories
        # of processes that are gone.
        base = tempfile.gettempdir()
        for old in os.listdir(base):
            if old.startswith("wasmtime-fuzz-api-"):
                try:
                    os.kill(int(old.rsplit("-", 1)[1]), 0)
                except (ValueError, ProcessLookupError):
                    shutil.rmtree(os.path.join(base, old), True)
                except PermissionError:
                    pass
        d = os.path.join(base, "wasmtime-fuzz-api-%d" % os.getpid())
        shutil.rmtree(d, True)
        os.makedirs(d)
        _files["dir"] = d
        for name in ("out", "err", "sub"):
            _files[name] = os.path.join(d, name)
        os.makedirs(_files["sub"], exist_ok=True)
        _files["missing"] = os.path.join(d, "missing", "file")
        _files["wasm"] = os.path.join(d, "m.wasm")
        with open(_files["wasm"], "wb") as f:
            f.write(BINARIES["basic"])
        _files["wat"] = os.path.join(d, "m.wat")
        with open(_files["wat"], "w") as f:
            f.write(MODULES["basic"])
        _files["garbage"] = os.path.join(d, "garbage")
        with open(_files["garbage"], "wb") as f:
            f.write(b"\x7fELF" + bytes(range(256)) * 4)
        _files["stdin"] = os.path.join(d, "stdin")
        with open(_files["stdin"], "wb") as f:
            f.write(b"input\n")
    return _files


class Api:
    def __init__(self, fdp):
        self.fdp = fdp
        self.pool = {k: [] for k in KINDS}
        self.names = fuzzlib.names
        self.names.clear()
        self.counter = 0
        self.blobs = []  # (description, bytes) of serialized modules

    # -- pools ------------------------------------------------------------

    def add(self, kind, obj, how=None):
        if obj is None:
            return None
        self.pool[kind].append(obj)
        self.counter += 1
        self.names[id(obj)] = "%s%d" % (kind, self.counter)
        trace("  %s = %s", (self.names[id(obj)], how or "<result above>"))
        if len(self.pool[kind]) > 8:
            self.pool[kind].pop(0)
        return obj

    def name(self, obj):
        return self.names.get(id(obj), type(obj).__name__)

    def pick(self, kind):
        objs = self.pool[kind]
        if not objs:
            return self.make(kind)
        return objs[self.fdp.ConsumeIntInRange(0, len(objs) - 1)]

    def make(self, kind):
        """A fresh, ordinary object of `kind` (None if that fails)."""
        n = self.name
        try:
            if kind == "config":
                return self.add(kind, W.Config(), "Config()")
            if kind == "engine":
                return self.add(kind, W.Engine(), "Engine()")
            if kind == "store":
                return self.new_store(self.pick("engine"))
            if kind == "module":
                eng = self.pick("engine")
                return self.add(
                    kind, self.compiled(eng, "basic"), "Module(%s, MODULES['basic'])" % n(eng)
                )
            if kind == "linker":
                eng = self.pick("engine")
                return self.add(kind, W.Linker(eng), "Linker(%s)" % n(eng))
            if kind in ("instance", "func", "memory", "table", "global", "tag", "exports"):
                store = self.pick("store")
                inst = self.add(
                    "instance",
                    W.Instance(store, self.compiled(store.engine, "basic"), []),
                    "Instance(%s, Module(%s.engine, MODULES['basic']), [])" % (n(store), n(store)),
                )
                ex = self.add(
                    "exports", inst.exports(store), "%s.exports(%s)" % (n(inst), n(store))
                )
                self.harvest(ex)
                return self.pool[kind][-1] if self.pool[kind] else None
            if kind == "pre":
                lk, mod = self.pick("linker"), self.pick("module")
                return self.add(
                    kind, lk.instantiate_pre(mod), "%s.instantiate_pre(%s)" % (n(lk), n(mod))
                )
            if kind == "shared":
                eng = self.pick("engine")
                return self.add(
                    kind,
                    W.SharedMemory(eng, W.MemoryType(W.Limits(1, 2), shared=True)),
                    "SharedMemory(%s, MemoryType(Limits(1, 2), shared=True))" % n(eng),
                )
            if kind == "wasi":
                return self.add(kind, W.WasiConfig(), "WasiConfig()")
            if kind == "functype":
                return self.add(
                    kind, W.FuncType([W.ValType.i32()], [W.ValType.i32()]), "FuncType([i32], [i32])"
                )
            if kind == "valtype":
                return self.add(kind, W.ValType.i32(), "ValType.i32()")
            if kind == "globaltype":
                return self.add(kind, W.GlobalType(W.ValType.i32(), True), "GlobalType(i32, True)")
            if kind == "tabletype":
                return self.add(
                    kind,
                    W.TableType(W.ValType.funcref(), W.Limits(1, 4)),
                    "TableType(funcref, Limits(1, 4))",
                )
            if kind == "memorytype":
                return self.add(kind, W.MemoryType(W.Limits(1, 4)), "MemoryType(Limits(1, 4))")
            if kind == "tagtype":
                return self.add(
                    kind,
                    W.TagType(W.FuncType([W.ValType.i32()], [])),
                    "TagType(FuncType([i32], []))",
                )
            if kind == "val":
                return self.add(kind, W.Val.i32(1), "Val.i32(1)")
            if kind == "limits":
                return self.add(kind, W.Limits(0, None), "Limits(0, None)")
            if kind == "view":
                store = self.pick("store")
                mem = self.pick("memory")
                return self.add(
                    kind,
                    memoryview(mem.view(store)),
                    "memoryview(%s.view(%s))" % (n(mem), n(store)),
                )
        except Exception as e:  # noqa: BLE001 - the picked owner was closed
            judge(e)
        return None

    def compiled(self, engine, name):
        """MODULES[name] for `engine`: the precompiled artifact when the engine
        accepts it, else a fresh compilation."""
        if not ARTIFACTS:
            eng = W.Engine()
            for n, text in MODULES.items():
                ARTIFACTS[n] = bytes(W.Module(eng, text).serialize())
        try:
            return W.Module.deserialize(engine, ARTIFACTS[name])
        except W.WasmtimeError:
            return W.Module(engine, BINARIES[name])

    def new_store(self, engine, data=None):
        store = W.Store(engine, data)
        self.add("store", store, "Store(%s, %s)" % (self.name(engine), fuzzlib.show(data)))
        store.set_limits(
            memory_size=1 << 24, table_elements=10_000, instances=50, tables=50, memories=50
        )
        try:
            store.set_fuel(100_000)
        except W.WasmtimeError:
            pass  # fuel is off in this engine
        return store

    def harvest(self, exports):
        for name in exports:
            item = exports[name]
            for kind, cls in (
                ("func", W.Func),
                ("memory", W.Memory),
                ("table", W.Table),
                ("global", W.Global),
                ("tag", W.Tag),
                ("shared", W.SharedMemory),
            ):
                if isinstance(item, cls):
                    self.add(kind, item, "%s[%r]" % (self.name(exports), name))

    # -- evil ---------------------------------------------------------------

    def action(self, site):
        """Something an evil object does before answering."""
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 9)
        closing = not known(site)
        if k <= 3 and closing:
            kind = fdp.PickValueInList(OWNERS)
            if not self.pool[kind]:
                return None
            obj = self.pick(kind)
            how = fdp.ConsumeIntInRange(0, 3)
            if how == 1 and kind == "config":
                return Act("Engine(%s)" % self.name(obj), lambda: W.Engine(obj))
            if how == 1 and kind == "wasi":
                store = self.pick("store")
                return Act(
                    "%s.set_wasi(%s)" % (self.name(store), self.name(obj)),
                    lambda: store.set_wasi(obj),
                )
            if how == 1 and kind == "functype":
                return Act("TagType(%s)" % self.name(obj), lambda: W.TagType(obj))
            if how == 2:
                return Act("drop %s; gc.collect()" % self.name(obj), lambda: self.drop(kind, obj))
            return Act("%s.close()" % self.name(obj), obj.close)
        if k == 4:
            return fuzzlib.raiser
        if k == 5 and self.pool["memory"]:
            mem, store = self.pick("memory"), self.pick("store")
            return Act(
                "%s.grow(%s, 1)" % (self.name(mem), self.name(store)), lambda: mem.grow(store, 1)
            )
        if k == 6 and self.pool["func"]:
            f, store = self.pick("func"), self.pick("store")
            return Act("%s(%s, 1, 2)" % (self.name(f), self.name(store)), lambda: f(store, 1, 2))
        if k == 7:
            return Act("gc.collect()", gc.collect)
        if k == 8 and self.pool["engine"]:
            eng = self.pick("engine")
            return Act("%s.increment_epoch()" % self.name(eng), eng.increment_epoch)
        return None

    def drop(self, kind, obj):
        objs = self.pool[kind]
        for i, o in enumerate(objs):
            if o is obj:
                del objs[i]
                break
        gc.collect()

    # -- arguments ------------------------------------------------------------

    def good(self, kind, site):
        """A right value for an argument of `kind`."""
        fdp = self.fdp
        f = files()
        if kind == "int":
            return rand_int(fdp)
        if kind == "small":
            return fdp.ConsumeIntInRange(0, 16)
        if kind == "bool":
            return fdp.ConsumeBool()
        if kind == "str":
            return rand_name(fdp)
        if kind == "float":
            return rand_float(fdp)
        if kind == "bytes":
            return rand_bytes(fdp)
        if kind == "wasm":
            k = fdp.ConsumeIntInRange(0, 4)
            name = fdp.PickValueInList(MODULE_NAMES)
            if k == 0:
                return MODULES[name]
            if k == 1:
                return bytearray(BINARIES[name])
            if k == 2:
                return memoryview(BINARIES[name])
            if k == 3:
                return BINARIES[name][: fdp.ConsumeIntInRange(0, len(BINARIES[name]))]
            return BINARIES[name]
        if kind == "path_in":
            return fdp.PickValueInList(
                [
                    f["wasm"],
                    f["wat"],
                    f["garbage"],
                    f["missing"],
                    f["dir"],
                    f["stdin"],
                    f["wasm"].encode(),
                    "",
                ]
            )
        if kind == "path_out":
            return fdp.PickValueInList(
                [f["out"], f["err"], f["missing"], f["sub"], f["out"].encode()]
            )
        if kind == "dir":
            return fdp.PickValueInList([f["dir"], f["sub"], f["missing"], f["wasm"]])
        if kind == "store":
            if self.pool["caller"] and fdp.ConsumeIntInRange(0, 5) == 0:
                return self.pick("caller")
            return self.pick("store")
        if kind == "extern":
            return self.pick(
                fdp.PickValueInList(["func", "memory", "table", "global", "tag", "shared"])
            )
        if kind == "value":
            k = fdp.ConsumeIntInRange(0, 5)
            if k == 0:
                return rand_int(fdp)
            if k == 1:
                return rand_float(fdp)
            if k == 2:
                return None
            if k == 3:
                return self.pick("func")
            if k == 4:
                return self.pick("val")
            return object()
        if kind == "callable":
            return self.host_func(site)
        if kind == "seq_extern":
            return [self.good("extern", site) for _ in range(fdp.ConsumeIntInRange(0, 5))]
        if kind == "seq_valtype":
            return [self.valtype() for _ in range(fdp.ConsumeIntInRange(0, 4))]
        if kind == "seq_str":
            return [rand_name(fdp) for _ in range(fdp.ConsumeIntInRange(0, 4))]
        if kind == "env":
            return [(rand_name(fdp), rand_name(fdp)) for _ in range(fdp.ConsumeIntInRange(0, 3))]
        if kind == "any":
            return self.anything()
        if kind == "functype" and known("FuncType.engines"):
            # A fresh one each time: never one FuncType with two engines.
            return W.FuncType(self.good("seq_valtype", site), self.good("seq_valtype", site))
        return self.pick(kind)

    def valtype(self):
        return getattr(
            W.ValType,
            self.fdp.PickValueInList(["i32", "i64", "f32", "f64", "externref", "funcref"]),
        )()

    def anything(self):
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 9)
        if k == 0:
            return rand_int(fdp)
        if k == 1:
            return rand_float(fdp)
        if k == 2:
            return rand_name(fdp)
        if k == 3:
            return rand_bytes(fdp, 16)
        if k == 4:
            return None
        if k == 5:
            return fdp.ConsumeBool()
        if k == 6:
            return [self.anything() for _ in range(fdp.ConsumeIntInRange(0, 2))]
        if k == 7:
            return object()
        kind = fdp.PickValueInList(KINDS)
        if kind == "functype" and known("FuncType.engines"):
            return None
        return self.pool[kind][-1] if self.pool[kind] else None

    def arg(self, kind, site):
        """Mostly right, sometimes evil, sometimes anything."""
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 15)
        if k <= 9:
            return self.good(kind, site)
        if k <= 13:
            act = self.action(site)
            if act is None:
                return self.good(kind, site)
            return self.evil(kind, act, site)
        return self.anything()

    def evil(self, kind, act, site):
        fdp = self.fdp
        value = self.good(kind, site)
        if kind in ("str",):
            return EvilStr(value, act)
        if kind in ("seq_extern", "seq_valtype", "seq_str", "env"):
            if fdp.ConsumeBool():
                return EvilList(value, act)
            return evil_gen(value, act, fdp.ConsumeIntInRange(0, len(value)))
        if kind in ("wasm", "bytes") and isinstance(value, str):
            return EvilStr(value, act)
        return Evil(act, value)

    def host_func(self, site):
        """A Python callable for Func/define_func: it answers, raises, or
        does an evil action, chosen when it runs."""
        api = self

        def host(*args):
            fdp = api.fdp
            if fdp.remaining_bytes() == 0:
                return 0
            k = fdp.ConsumeIntInRange(0, 7)
            trace("    host%r #%d", (args, k))
            if k == 0:
                return 0
            if k == 1:
                raise fuzzlib.EvilError("host raised")
            if k == 2:
                act = api.action("host")
                if act:
                    act()
                return 0
            if k == 3 and args and isinstance(args[0], W.Caller):
                api.add("caller", args[0])
                item = args[0].get(rand_name(fdp))
                if isinstance(item, W.Memory):
                    item.read(args[0], 0, 4)
                return 1
            if k == 4:
                return api.anything()
            if k == 5:
                return [0, 0]
            return args[-1] if args and not isinstance(args[-1], W.Caller) else None

        return host

    # -- operations -------------------------------------------------------------

    def call(self, label, fn, *args, **kw):
        if fn is setattr:
            fuzzlib.trace(
                "  %s.%s = %s", (fuzzlib.show(args[0]), args[1], fuzzlib._Call("", args[2:], {}))
            )
        else:
            fuzzlib.trace_call(label, args, kw)
        try:
            res = fn(*args, **kw)
        except Exception as e:  # noqa: BLE001
            judge(e)
            feature(label, *fuzzlib.shape(e))
            return None
        feature(label, "ok")
        return res

    def op(self):
        fdp = self.fdp
        ops = self.OPS
        name = ops[fdp.ConsumeIntInRange(0, len(ops) - 1)]
        getattr(self, "op_" + name)()

    OPS = [
        "config",
        "config_set",
        "engine",
        "store",
        "store_misc",
        "module",
        "module_io",
        "serialize",
        "linker_define",
        "linker_use",
        "linker_wasi",
        "instance",
        "instance_linker",
        "exports",
        "func_new",
        "func_call",
        "memory",
        "memory_new",
        "table",
        "global_",
        "tag",
        "shared",
        "wasi",
        "types",
        "val",
        "view",
        "close",
        "drop",
        "generic",
        "generic",
        "run_wasi",
    ]

    def op_config(self):
        self.add("config", W.Config(), "Config()")

    def op_config_set(self):
        fdp = self.fdp
        cfg = self.pick("config")
        k = fdp.ConsumeIntInRange(0, 5)
        if k <= 2:
            attr = fdp.PickValueInList(CONFIG_BOOLS)
            self.call(
                "setattr(%s, %r)" % (self.name(cfg), attr),
                setattr,
                cfg,
                attr,
                self.arg("bool", "Config." + attr),
            )
        elif k == 3:
            attr = fdp.PickValueInList(CONFIG_INTS)
            self.call(
                "setattr(%s, %r)" % (self.name(cfg), attr),
                setattr,
                cfg,
                attr,
                self.arg("int", "Config." + attr),
            )
        elif k == 4:
            attr = fdp.PickValueInList(sorted(CONFIG_STRS))
            val = fdp.PickValueInList(CONFIG_STRS[attr])
            if fdp.ConsumeBool():
                act = self.action("Config.str")
                val = EvilStr(val, act) if act else val
            self.call("setattr(%s, %r)" % (self.name(cfg), attr), setattr, cfg, attr, val)
        else:
            if fdp.ConsumeBool():
                self.call(
                    "%s.cranelift_flag_enable" % self.name(cfg),
                    cfg.cranelift_flag_enable,
                    self.arg("str", "Config.flag")
                    if fdp.ConsumeBool()
                    else fdp.PickValueInList(CRANELIFT_FLAGS),
                )
            else:
                self.call(
                    "%s.cranelift_flag_set" % self.name(cfg),
                    cfg.cranelift_flag_set,
                    fdp.PickValueInList(CRANELIFT_FLAGS),
                    self.arg("str", "Config.flag"),
                )

    def op_engine(self):
        fdp = self.fdp
        cfg = self.pick("config") if fdp.ConsumeBool() else None
        self.add("engine", self.call("Engine", W.Engine, cfg))

    def op_store(self):
        fdp = self.fdp
        eng = self.arg("engine", "Store")
        data = self.anything() if fdp.ConsumeBool() else None
        trace("  Store(%r, %r)", (eng, data))
        try:
            self.new_store(eng, data)
        except Exception as e:  # noqa: BLE001
            judge(e)

    def op_store_misc(self):
        fdp = self.fdp
        store = self.pick("store")
        if store is None:
            return
        k = fdp.ConsumeIntInRange(0, 7)
        n = self.name(store)
        if k == 0:
            self.call(n + ".set_fuel", store.set_fuel, self.arg("int", "Store.set_fuel"))
        elif k == 1:
            self.call(n + ".get_fuel", store.get_fuel)
        elif k == 2:
            self.call(
                n + ".set_epoch_deadline",
                store.set_epoch_deadline,
                self.arg("int", "Store.set_epoch_deadline"),
            )
        elif k == 3:
            self.call(n + ".gc", store.gc)
        elif k == 4:
            self.call(n + ".data", store.data)
        elif k == 5:
            # Limits stay bounded: the fuzzer must not be able to ask for GBs.
            self.call(
                n + ".set_limits",
                store.set_limits,
                memory_size=self.bounded("Store.set_limits", 1 << 24),
                table_elements=self.bounded("Store.set_limits", 10_000),
            )
        elif k == 6:
            self.call(n + ".set_wasi_http", store.set_wasi_http)
        else:
            self.call(n + ".engine", lambda: store.engine)

    def bounded(self, site, hi):
        fdp = self.fdp
        v = fdp.ConsumeIntInRange(-1, hi)
        if v == -1:
            v = 0
        if fdp.ConsumeIntInRange(0, 3) == 0:
            act = self.action(site)
            if act:
                return Evil(act, v)
        return v

    def op_module(self):
        fdp = self.fdp
        eng = self.arg("engine", "Module")
        wasm = self.arg("wasm", "Module")
        k = fdp.ConsumeIntInRange(0, 2)
        if k == 0:
            self.call("Module.validate", W.Module.validate, eng, wasm)
            return
        m = self.call("Module", W.Module, eng, wasm)
        if m is not None:
            self.add("module", m)
            if k == 2:
                for t in self.call("imports", lambda: m.imports) or []:
                    t.module, t.name, t.type
                for t in self.call("exports", lambda: m.exports) or []:
                    t.name, t.type

    def op_module_io(self):
        fdp = self.fdp
        eng = self.arg("engine", "Module.file")
        if fdp.ConsumeBool():
            path = self.arg("path_in", "Module.from_file")
            if isinstance(path, int) and known("Module.from_file.fd"):
                path = str(path)
            self.add("module", self.call("Module.from_file", W.Module.from_file, eng, path))
        else:
            # Only files this process wrote: deserializing is trusted input.
            path = files()["dir"] + "/blob%d" % fdp.ConsumeIntInRange(0, 3)
            if self.blobs:
                desc, blob = self.blobs[fdp.ConsumeIntInRange(0, len(self.blobs) - 1)]
                with open(path, "wb") as f:
                    f.write(blob)
                trace("  # %s holds %s", (path, desc))
            p = path
            if fdp.ConsumeIntInRange(0, 3) == 0:
                act = self.action("Module.deserialize_file")
                if act:
                    p = Evil(act, path)
            self.add(
                "module", self.call("Module.deserialize_file", W.Module.deserialize_file, eng, p)
            )

    def op_serialize(self):
        fdp = self.fdp
        m = self.pick("module")
        if m is None:
            return
        if fdp.ConsumeBool() or not self.blobs:
            blob = self.call(self.name(m) + ".serialize", m.serialize)
            if blob is not None:
                self.blobs.append(("%s.serialize()" % self.name(m), bytes(blob)))
                if len(self.blobs) > 4:
                    self.blobs.pop(0)
            return
        desc, blob = self.blobs[fdp.ConsumeIntInRange(0, len(self.blobs) - 1)]
        k = fdp.ConsumeIntInRange(0, 3)
        if k == 1:
            # Truncated artifacts must be refused cleanly.
            cut = fdp.ConsumeIntInRange(0, len(blob))
            blob, desc = blob[:cut], "%s[:%d]" % (desc, cut)
        elif k == 2:
            blob = bytearray(blob)
        eng = self.arg("engine", "Module.deserialize")
        trace("  # blob = %s", desc)
        self.add("module", self.call("Module.deserialize", W.Module.deserialize, eng, blob))

    def op_linker_define(self):
        fdp = self.fdp
        lk = self.pick("linker")
        if lk is None:
            return
        n = self.name(lk)
        k = fdp.ConsumeIntInRange(0, 5)
        mod = (
            fdp.PickValueInList(["host", "env", "wasi_snapshot_preview1"])
            if fdp.ConsumeBool()
            else self.arg("str", "Linker.name")
        )
        name = (
            fdp.PickValueInList(["f", "g", "m", "t", "during", "cb"])
            if fdp.ConsumeBool()
            else self.arg("str", "Linker.name")
        )
        if k == 0:
            self.call(
                n + ".define_func",
                lk.define_func,
                mod,
                name,
                self.arg("functype", "Linker.define_func"),
                self.arg("callable", "Linker.define_func"),
                access_caller=self.arg("bool", "Linker.define_func"),
            )
        elif k == 1:
            self.call(
                n + ".define",
                lk.define,
                self.arg("store", "Linker.define"),
                mod,
                name,
                self.arg("extern", "Linker.define"),
            )
        elif k == 2:
            self.call(
                n + ".define_instance",
                lk.define_instance,
                self.arg("store", "Linker.define_instance"),
                mod,
                self.arg("instance", "Linker.define_instance"),
            )
        elif k == 3:
            self.call(
                n + ".define_module",
                lk.define_module,
                self.arg("store", "Linker.define_module"),
                mod,
                self.arg("module", "Linker.define_module"),
            )
        elif k == 4:
            self.call(
                n + ".alias",
                lk.alias,
                mod,
                name,
                self.arg("str", "Linker.alias"),
                self.arg("str", "Linker.alias"),
            )
        else:
            self.call(
                n + ".alias_module", lk.alias_module, mod, self.arg("str", "Linker.alias_module")
            )

    def op_linker_use(self):
        fdp = self.fdp
        lk = self.pick("linker")
        if lk is None:
            return
        n = self.name(lk)
        k = fdp.ConsumeIntInRange(0, 7)
        if k == 0:
            self.call(
                "setattr(%s, 'allow_shadowing')" % n,
                setattr,
                lk,
                "allow_shadowing",
                self.arg("bool", "Linker.allow_shadowing"),
            )
        elif k == 1:
            self.call(
                n + ".define_unknown_imports_as_traps",
                lk.define_unknown_imports_as_traps,
                self.arg("module", "Linker.unknown"),
            )
        elif k == 2:
            self.call(
                n + ".define_unknown_imports_as_default_values",
                lk.define_unknown_imports_as_default_values,
                self.arg("store", "Linker.unknown"),
                self.arg("module", "Linker.unknown"),
            )
        elif k == 3:
            self.add(
                "pre",
                self.call(
                    n + ".instantiate_pre",
                    lk.instantiate_pre,
                    self.arg("module", "Linker.instantiate_pre"),
                ),
            )
        elif k == 4:
            self.call(
                n + ".get_default",
                lk.get_default,
                self.arg("store", "Linker.get"),
                self.arg("str", "Linker.get"),
            )
        elif k == 5:
            item = self.call(
                n + ".get",
                lk.get,
                self.arg("store", "Linker.get"),
                fdp.PickValueInList(["host", "env"]),
                self.arg("str", "Linker.get"),
            )
            if isinstance(item, W.Func):
                self.add("func", item)
        elif k == 6:
            self.call("list(%s)" % n, lambda: list(lk))
        else:
            self.call(n + ".engine", lambda: lk.engine)

    def engine_closed(self, lk):
        try:
            lk.engine.is_pulley()
            return False
        except Exception:  # noqa: BLE001 - closed engine, or closed linker
            return True

    def op_linker_wasi(self):
        lk = self.pick("linker")
        if lk is not None:
            if known("Linker.define_wasi") and self.engine_closed(lk):
                return
            self.call(self.name(lk) + ".define_wasi", lk.define_wasi)

    def op_instance(self):
        store = self.arg("store", "Instance")
        module = self.arg("module", "Instance")
        imports = self.arg("seq_extern", "Instance")
        inst = self.call("Instance", W.Instance, store, module, imports)
        if inst is not None:
            self.add("instance", inst)

    def op_instance_linker(self):
        fdp = self.fdp
        if fdp.ConsumeBool():
            lk = self.pick("linker")
            if lk is None:
                return
            inst = self.call(
                self.name(lk) + ".instantiate",
                lk.instantiate,
                self.arg("store", "Linker.instantiate"),
                self.arg("module", "Linker.instantiate"),
            )
        else:
            pre = self.pick("pre")
            if pre is None:
                return
            inst = self.call(
                self.name(pre) + ".instantiate",
                pre.instantiate,
                self.arg("store", "InstancePre.instantiate"),
            )
            if fdp.ConsumeBool():
                self.call(self.name(pre) + ".module", lambda: pre.module)
        if inst is not None:
            self.add("instance", inst)

    def op_exports(self):
        fdp = self.fdp
        inst = self.pick("instance")
        if inst is None:
            return
        store = self.arg("store", "Instance.exports")
        ex = self.call(self.name(inst) + ".exports", inst.exports, store)
        if ex is None:
            return
        self.add("exports", ex)
        k = fdp.ConsumeIntInRange(0, 4)
        if k == 0:
            self.call("list(exports)", lambda: [ex[n] for n in ex])
            try:
                self.harvest(ex)
            except Exception as e:  # noqa: BLE001
                judge(e)
        elif k == 1:
            key = self.arg("str", "InstanceExports.get")
            item = self.call("exports[%r]" % (key,), lambda: ex[key])
            for kind, cls in (
                ("func", W.Func),
                ("memory", W.Memory),
                ("table", W.Table),
                ("global", W.Global),
            ):
                if isinstance(item, cls):
                    self.add(kind, item)
        elif k == 2:
            self.call("exports.by_index", lambda: ex.by_index[self.arg("int", "by_index")])
        elif k == 3:
            self.call("exports.get", ex.get, self.arg("str", "InstanceExports.get"))
        else:
            self.call("len/keys/items", lambda: (len(ex), list(ex.keys()), list(ex.items())))

    def op_func_new(self):
        f = self.call(
            "Func",
            W.Func,
            self.arg("store", "Func"),
            self.arg("functype", "Func"),
            self.arg("callable", "Func"),
            access_caller=self.arg("bool", "Func"),
        )
        self.add("func", f)

    def op_func_call(self):
        fdp = self.fdp
        f = self.pick("func")
        if f is None:
            return
        args = [self.arg("value", "Func.__call__") for _ in range(fdp.ConsumeIntInRange(0, 4))]
        store = self.arg("store", "Func.__call__")
        k = fdp.ConsumeIntInRange(0, 3)
        if k == 0:
            self.call(self.name(f) + ".type", f.type, store)
        elif k == 1:
            self.call(self.name(f) + ".arity", lambda: (f.param_arity(), f.result_arity()))
        else:
            self.call(self.name(f), f, store, *args)

    def op_memory(self):
        fdp = self.fdp
        m = self.pick("memory")
        if m is None:
            return
        n = self.name(m)
        store = self.arg("store", "Memory")
        k = fdp.ConsumeIntInRange(0, 6)
        if k == 0:
            self.call(
                n + ".read",
                m.read,
                store,
                self.arg("int", "Memory.offset"),
                self.arg("int", "Memory.offset"),
            )
        elif k == 1:
            self.call(
                n + ".write",
                m.write,
                store,
                self.arg("bytes", "Memory.write"),
                self.arg("small", "Memory.offset"),
            )
        elif k == 2:
            self.call(n + ".grow", m.grow, store, self.arg("small", "Memory.grow"))
        elif k == 3:
            self.call(
                n + ".size",
                lambda: (
                    m.size(store),
                    m.data_len(store),
                    m.type(store),
                    m.page_size(store),
                    m.page_size_log2(store),
                ),
            )
        elif k == 4:

            def ptr():
                arr = m.get_buffer_ptr(
                    store,
                    self.arg("small", "Memory.get_buffer_ptr"),
                    self.arg("small", "Memory.get_buffer_ptr"),
                )
                return bytes(arr)  # in bounds, or it faults

            self.call(n + ".get_buffer_ptr", ptr)
        elif k == 5:
            v = self.call(n + ".view", m.view, store)
            if v is not None:
                self.add("view", memoryview(v))
        else:
            self.call(n + ".data_ptr", m.data_ptr, store)

    def op_memory_new(self):
        self.add(
            "memory",
            self.call(
                "Memory",
                W.Memory,
                self.arg("store", "Memory.new"),
                self.arg("memorytype", "Memory.new"),
            ),
        )

    def op_table(self):
        fdp = self.fdp
        t = self.pick("table")
        if t is None:
            return
        n = self.name(t)
        store = self.arg("store", "Table")
        k = fdp.ConsumeIntInRange(0, 4)
        if k == 0:
            self.call(n + ".get", t.get, store, self.arg("small", "Table.index"))
        elif k == 1:
            self.call(
                n + ".set",
                t.set,
                store,
                self.arg("small", "Table.index"),
                self.arg("value", "Table.set"),
            )
        elif k == 2:
            self.call(
                n + ".grow",
                t.grow,
                store,
                self.arg("small", "Table.grow"),
                self.arg("value", "Table.grow"),
            )
        elif k == 3:
            self.call(n + ".size", lambda: (t.size(store), t.type(store)))
        else:
            self.add(
                "table",
                self.call(
                    "Table",
                    W.Table,
                    self.arg("store", "Table.new"),
                    self.arg("tabletype", "Table.new"),
                    self.arg("value", "Table.new"),
                ),
            )

    def op_global_(self):
        fdp = self.fdp
        g = self.pick("global")
        if g is None:
            return
        n = self.name(g)
        store = self.arg("store", "Global")
        k = fdp.ConsumeIntInRange(0, 3)
        if k == 0:
            self.call(n + ".value", g.value, store)
        elif k == 1:
            self.call(n + ".set_value", g.set_value, store, self.arg("value", "Global.set_value"))
        elif k == 2:
            self.call(n + ".type", g.type, store)
        else:
            self.add(
                "global",
                self.call(
                    "Global",
                    W.Global,
                    self.arg("store", "Global.new"),
                    self.arg("globaltype", "Global.new"),
                    self.arg("value", "Global.new"),
                ),
            )

    def op_tag(self):
        fdp = self.fdp
        if fdp.ConsumeBool():
            self.add(
                "tag", self.call("Tag", W.Tag, self.arg("store", "Tag"), self.arg("tagtype", "Tag"))
            )
            return
        t = self.pick("tag")
        if t is None:
            return
        store = self.arg("store", "Tag")
        if fdp.ConsumeBool():
            self.call(self.name(t) + ".type", t.type, store)
        else:
            self.call(self.name(t) + ".eq", t.eq, store, self.arg("tag", "Tag.eq"))

    def op_shared(self):
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 4)
        if k == 0:
            self.add(
                "shared",
                self.call(
                    "SharedMemory",
                    W.SharedMemory,
                    self.arg("engine", "SharedMemory"),
                    self.arg("memorytype", "SharedMemory"),
                ),
            )
            return
        sm = self.pick("shared")
        if sm is None:
            return
        n = self.name(sm)
        if k == 1:
            self.call(n + ".grow", sm.grow, self.arg("small", "SharedMemory.grow"))
        elif k == 2:
            self.call(n + ".info", lambda: (sm.size(), sm.data_len(), sm.type()))
        elif k == 3:
            v = self.call(n + ".view", sm.view)
            if v is not None:
                self.add("view", v)
        else:
            self.call(n + ".data_ptr", sm.data_ptr)

    def op_wasi(self):
        fdp = self.fdp
        w = self.pick("wasi")
        if w is None:
            return
        n = self.name(w)
        k = fdp.ConsumeIntInRange(0, 11)
        if k == 0:
            self.call("%s.argv=" % n, setattr, w, "argv", self.arg("seq_str", "WasiConfig.argv"))
        elif k == 1:
            self.call("%s.env=" % n, setattr, w, "env", self.arg("env", "WasiConfig.env"))
        elif k == 2:
            self.call(
                "%s.stdin_bytes=" % n,
                setattr,
                w,
                "stdin_bytes",
                self.arg("bytes", "WasiConfig.stdin_bytes"),
            )
        elif k == 3:
            self.call(
                "%s.stdin_file=" % n,
                setattr,
                w,
                "stdin_file",
                self.arg("path_in", "WasiConfig.file"),
            )
        elif k == 4:
            attr = fdp.PickValueInList(["stdout_file", "stderr_file"])
            self.call(
                "%s.%s=" % (n, attr), setattr, w, attr, self.arg("path_out", "WasiConfig.file")
            )
        elif k == 5:
            attr = fdp.PickValueInList(["stdout_custom", "stderr_custom"])
            self.call(
                "%s.%s=" % (n, attr), setattr, w, attr, self.arg("callable", "WasiConfig.custom")
            )
        elif k == 6:
            self.call(
                n + ".preopen_dir",
                w.preopen_dir,
                self.arg("dir", "WasiConfig.preopen_dir"),
                self.arg("str", "WasiConfig.preopen_dir"),
                self.arg("bool", "WasiConfig.preopen_dir"),
            )
        elif k == 7:
            # inherit_stdin is left out: the wasi module never reads, but keep
            # the fuzzer from waiting on a terminal all the same.
            meth = fdp.PickValueInList(
                [
                    "inherit_argv",
                    "inherit_env",
                    "inherit_stdout",
                    "inherit_stderr",
                    "inherit_network",
                ]
            )
            self.call("%s.%s" % (n, meth), getattr(w, meth))
        elif k == 8:
            store = self.pick("store")
            if store is not None:
                self.call(
                    self.name(store) + ".set_wasi",
                    store.set_wasi,
                    self.arg("wasi", "Store.set_wasi"),
                )
        else:
            self.add("wasi", W.WasiConfig())

    def op_run_wasi(self):
        """Instantiate the WASI module through a linker with define_wasi and
        run it: output goes to files, callbacks, or the inherited fds."""
        fdp = self.fdp
        store, lk = self.pick("store"), self.pick("linker")
        if store is None or lk is None:
            return
        try:
            module = self.compiled(store.engine, "wasi")
        except Exception as e:  # noqa: BLE001
            judge(e)
            return
        inst = self.call(self.name(lk) + ".instantiate(wasi)", lk.instantiate, store, module)
        if inst is None:
            return
        self.add("instance", inst)
        name = "_start" if fdp.ConsumeBool() else "exit"
        f = self.call("exports[%r]" % name, lambda: inst.exports(store)[name])
        if f is not None:
            args = [self.arg("int", "wasi.exit")] if name == "exit" else []
            self.call(name, f, store, *args)

    def op_types(self):
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 8)
        if k == 0:
            self.add(
                "functype",
                self.call(
                    "FuncType",
                    W.FuncType,
                    self.arg("seq_valtype", "FuncType"),
                    self.arg("seq_valtype", "FuncType"),
                ),
            )
        elif k == 1:
            self.add(
                "globaltype",
                self.call(
                    "GlobalType",
                    W.GlobalType,
                    self.arg("valtype", "GlobalType"),
                    self.arg("bool", "GlobalType"),
                ),
            )
        elif k == 2:
            self.add(
                "limits",
                self.call(
                    "Limits",
                    W.Limits,
                    self.arg("small", "Limits"),
                    self.arg("small", "Limits") if fdp.ConsumeBool() else None,
                ),
            )
        elif k == 3:
            self.add(
                "tabletype",
                self.call(
                    "TableType",
                    W.TableType,
                    self.arg("valtype", "TableType"),
                    self.arg("limits", "TableType"),
                ),
            )
        elif k == 4:
            self.add(
                "memorytype",
                self.call(
                    "MemoryType",
                    W.MemoryType,
                    self.arg("limits", "MemoryType"),
                    is_64=self.arg("bool", "MemoryType"),
                    shared=self.arg("bool", "MemoryType"),
                    page_size_log2=fdp.PickValueInList([0, 16, 1, -1, 64]),
                ),
            )
        elif k == 5:
            self.add("tagtype", self.call("TagType", W.TagType, self.arg("functype", "TagType")))
        elif k == 6:
            self.add("valtype", self.valtype())
        elif k == 7:
            # Read every property of some type object.
            kind = fdp.PickValueInList(
                [
                    "functype",
                    "globaltype",
                    "tabletype",
                    "memorytype",
                    "tagtype",
                    "valtype",
                    "limits",
                ]
            )
            obj = self.pick(kind)
            if obj is not None:

                def props():
                    return [
                        getattr(obj, a)
                        for a in dir(obj)
                        if not a.startswith("_") and not callable(getattr(obj, a))
                    ]

                self.call("props(%s)" % self.name(obj), props)
        else:
            a, b = self.pick("valtype"), self.arg("any", "ValType.eq")
            self.call("valtype ==", lambda: (a == b, a != b, repr(a)))

    def op_val(self):
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 7)
        ctor = ["i32", "i64", "f32", "f64", "externref", "funcref", "ref_null", None][k]
        if ctor is None:
            v = self.call("Val", W.Val, self.arg("int", "Val"), self.arg("any", "Val"))
        elif ctor == "ref_null":
            v = self.call("Val.ref_null", W.Val.ref_null, self.arg("valtype", "Val"))
        else:
            kind = {
                "i32": "int",
                "i64": "int",
                "f32": "float",
                "f64": "float",
                "externref": "any",
                "funcref": "func",
            }[ctor]
            v = self.call("Val." + ctor, getattr(W.Val, ctor), self.arg(kind, "Val"))
        if v is not None:
            self.add("val", v)
            self.call(
                "val props",
                lambda: (
                    v.value,
                    v.type,
                    v.as_i32(),
                    v.as_i64(),
                    v.as_f32(),
                    v.as_f64(),
                    v.as_externref(),
                    v.as_funcref(),
                    v == self.anything(),
                ),
            )

    def op_view(self):
        fdp = self.fdp
        v = self.pick("view")
        if v is None:
            return

        def use():
            if len(v):
                i = fdp.ConsumeIntInRange(0, len(v) - 1)
                v[i] = (v[i] + 1) & 0xFF
            return bytes(v[:16])

        self.call("use view", use)
        if fdp.ConsumeIntInRange(0, 3) == 0:
            self.call("view.release", v.release)

    def op_close(self):
        kind = self.fdp.PickValueInList(OWNERS)
        if self.pool[kind]:
            obj = self.pick(kind)
            self.call(self.name(obj) + ".close", obj.close)

    def op_drop(self):
        kind = self.fdp.PickValueInList(KINDS)
        if self.pool[kind]:
            obj = self.pick(kind)
            trace("  del %s; gc.collect()", self.name(obj))
            self.drop(kind, obj)

    def op_generic(self):
        """Any public member of any live object, by introspection."""
        fdp = self.fdp
        kinds = [k for k in KINDS if self.pool[k]]
        if not kinds:
            return
        obj = self.pick(fdp.PickValueInList(kinds))
        cls = type(obj)
        members = sorted(
            a for a in dir(cls) if not a.startswith("_") and (cls.__name__, a) not in GENERIC_SKIP
        )
        if not members:
            return
        attr = fdp.PickValueInList(members)
        if attr == "define_wasi" and known("Linker.define_wasi") and self.engine_closed(obj):
            return
        label = "%s.%s" % (self.name(obj), attr)
        desc = getattr(cls, attr, None)
        site = "%s.%s" % (cls.__name__, attr)
        if hasattr(desc, "__set__") and fdp.ConsumeBool():
            self.call("setattr(%s)" % label, setattr, obj, attr, self.generic_arg(site))
            return
        args = [self.generic_arg(site) for _ in range(fdp.ConsumeIntInRange(0, 4))]
        try:
            member = getattr(obj, attr)
        except Exception as e:  # noqa: BLE001
            judge(e)
            return
        if callable(member):
            res = self.call(label, member, *args)
            for kind, cls_ in (
                ("func", W.Func),
                ("memory", W.Memory),
                ("module", W.Module),
                ("instance", W.Instance),
                ("store", W.Store),
            ):
                if isinstance(res, cls_):
                    self.add(kind, res)

    def generic_arg(self, site):
        fdp = self.fdp
        k = fdp.ConsumeIntInRange(0, 4)
        if k == 0:
            return self.good("store", site)
        if k == 1:
            act = self.action(site)
            return Evil(act, self.anything()) if act else self.anything()
        if k == 2:
            return fdp.ConsumeIntInRange(-1, 16)
        return self.anything()

    def run(self):
        fdp = self.fdp
        for _ in range(64):
            if fdp.remaining_bytes() == 0:
                break
            self.op()


def test_one_input(data):
    if not BINARIES:
        for name, text in MODULES.items():
            BINARIES[name] = bytes(W.wat2wasm(text))
    # Files an earlier input wrote must not change what this one does.
    d = files()["dir"]
    for name in os.listdir(d):
        if name.startswith("blob") or name in ("out", "err"):
            os.remove(os.path.join(d, name))
    fdp = fuzzlib.atheris.FuzzedDataProvider(data)
    api = Api(fdp)
    try:
        api.run()
    finally:
        # Release views first: a Store refuses to close under an exported buffer.
        for v in api.pool["view"]:
            try:
                v.release()
            except Exception:  # noqa: BLE001
                pass
        api.pool.clear()


if __name__ == "__main__":
    fuzzlib.main(test_one_input, max_len=4096, extra=["-len_control=0"])
