/* Floor 3 of wasmtime._ext: the runtime pieces the Python types share.
 *
 *   storectx.c  resolving a `store` argument (Store or Caller), the call
 *               bracket and its exception hand-off, what a Store keeps alive,
 *               the Store's release point, and taking a WasiConfig
 *   handles.c   store-bound handles: wrapping C externs, funcs, callers and
 *               instances as Python objects and back, wrong-store checks
 *   convert.c   Python <-> wasm values (references are store-bound, so value
 *               conversion sits above the handles it creates)
 *   hostfunc.c  the trampolines through which wasm calls Python
 *   linkdefs.c  the Linker's registry of what it defines
 *   interrupt.c the ticker thread and deadline callback of interruptible
 *               engines (Config.interruptible, Store.set_timeout, signals)
 *
 * It also holds the object structs that more than one file touches.  The
 * files of floor 4 (one per Python type) use this floor and never each other.
 */
#ifndef WASMTIME_NATIVE_RUNTIME_H
#define WASMTIME_NATIVE_RUNTIME_H

#include "base.h"

#include <stdatomic.h>
#include <pthread.h>
#if PY_VERSION_HEX < 0x030B0000
#include <longintrepr.h> /* ob_digit: Python.h includes it from 3.11 */
#endif

/* ---- objects shared between files ---------------------------------------- */

typedef struct {
    PyObject_HEAD
    wasm_config_t *config; /* owned; NULL once closed or consumed */
    /* What the engine will need to know about memory placement (the C API
     * has no getters): see memory.c for why. */
    bool memory_may_move;
    bool small_reservation; /* memory_reservation set below 4 GiB */
    /* What Engine() must check first, because Wasmtime aborts the process
     * instead of failing when it cannot build an engine (see engine.c). */
    bool needs_probe;          /* a Cranelift flag or a target was set */
    bool simd_off;             /* wasm_simd = False */
    bool relaxed_simd;         /* wasm_relaxed_simd (on by default) */
    bool stack_set;            /* max_wasm_stack was set ... */
    uint64_t max_wasm_stack;   /* ... to this */
    bool async_stack_set;      /* async_stack_size was set ... */
    uint64_t async_stack_size; /* ... to this (else Engine() picks it: engine.c) */
    bool interruptible;        /* Config.interruptible (interrupt.c) */
    /* Every option set, name -> value in the order last set (Cranelift
     * flags as "cranelift_flag_enable:F" / "cranelift_flag_set:K"): the
     * engine's configuration fingerprint, since the C API has no getters. */
    PyObject *options; /* strong dict of str -> bool/int/str */
} ConfigObject;

typedef struct {
    PyObject_HEAD
    wasm_engine_t *engine; /* owned; NULL once closed */
    void *retired;         /* owned: see EXT_RETIRE (free-threaded builds) */
    ext_state *st;         /* borrowed: lives as long as the module */
    PyObject *weakreflist;
    /* true when 32-bit memories of this engine can never move */
    bool memories32_fixed;
    /* true when no memory of this engine can ever move */
    bool memories_fixed;
    /* built with Config.interruptible: epoch checks compiled in, and every
     * Store gets the deadline callback of interrupt.c */
    bool interruptible;
    /* The options of the Config it was built from, a tuple of (name, value)
     * pairs in the order set (() without a Config): see ConfigObject. */
    PyObject *options; /* strong */
} EngineObject;

typedef struct {
    PyObject_HEAD
    wasmtime_store_t *store;     /* owned; NULL once closed */
    wasmtime_context_t *context; /* borrowed from store */
    PyObject *engine;            /* strong: the EngineObject */
    PyObject *data;              /* strong or NULL: user data */
    ext_state *st;
    PyObject *weakreflist;
    /* Host callables whose C env pointers Wasmtime holds (borrowed there):
     * the only strong references, so the GC sees cycles through them. */
    PyObject *host_objects; /* strong dict id -> object, or NULL until needed */
    bool has_wasi;          /* set_wasi() was called */
    bool has_wasi_http;     /* set_wasi_http() was called */
    /* The exception a host function raised during the current call; taken
     * by the outermost Python-facing call that sees the trap. */
    PyObject *pending_exc; /* strong or NULL */
    /* The one thread using the store for calls into wasm: 0 when none,
     * else its thread id, claimed by compare-and-swap (ext_call_enter), so
     * a second thread is refused atomically in both builds. */
    _Atomic unsigned long running_thread;
    int running;                /* wasm calls in flight; read and written by that thread only */
    int claims;                 /* ext_store_claim()s held; the same */
    _Atomic Py_ssize_t exports; /* zero-copy memory buffers exported */
    bool release_pending;       /* GC wanted to delete while exported */
    /* The live call future (CallFutureObject, borrowed) of a call_async or
     * instantiate_async, NULL when none: the Store is busy while it lives
     * (asynccall.c). */
    PyObject *async_call;
    /* The Store has an async host function or an async yield: Wasmtime
     * panics (aborting the process) when such a store runs wasm through a
     * synchronous call, so those are refused (ext_sync_call_ok). */
    bool async_only;
    /* Interruption (interrupt.c); all false/0/NULL on a plain engine. */
    bool interruptible;         /* the deadline callback is installed */
    bool timed_out;             /* the callback stopped the call for its timeout */
    uint64_t timeout_ns;        /* Store.set_timeout, 0 = none */
    uint64_t deadline_ns;       /* CLOCK_MONOTONIC end of the running outermost call, 0 = none */
    struct ext_tick_node *tick; /* owned: this Store's registration with the ticker */
    /* The GIL during a call (EXT_RUN_WASM below). */
    bool keeps_gil;            /* the innermost running call keeps the GIL */
    PyThreadState *gil_parked; /* released until that call ends (or, on an interruptible
                                  engine, until host calls resume) */
    unsigned host_calls;       /* host calls since the last tick (interruptible engines) */
    unsigned calls;            /* outermost calls since the last tick (interruptible) */
    bool release_calls;        /* interruptible: calls are long and pure, release the GIL */
    uint64_t last_tick_ns;     /* when the deadline callback last ran */
} StoreObject;

/* StoreContext: the store as component host functions and resource
 * destructors see it; valid only during that call (`ctx` NULL after). */
typedef struct {
    PyObject_HEAD
    StoreObject *store;      /* strong */
    wasmtime_context_t *ctx; /* borrowed; NULL once invalidated */
} StoreContextObject;

/* A store to act on: a Store, or a live Caller standing in for one. */
typedef struct {
    StoreObject *so;         /* borrowed */
    wasmtime_context_t *ctx; /* borrowed */
} ext_ctx;

/* Func, Global, Table, Memory and Tag: a store-bound handle.  The Store must
 * outlive the raw handle, so the object holds it strongly. */
typedef struct {
    PyObject_HEAD
    StoreObject *store;    /* strong */
    wasmtime_extern_t ext; /* kind + handle; no destructor */
    PyObject *weakreflist;
} ExternObject;

/* A reference of the any hierarchy: AnyRef and its subclasses EqRef,
 * StructRef and ArrayRef share this layout (anyref.c, structref.c,
 * arrayref.c). */
typedef struct {
    PyObject_HEAD
    StoreObject *store;    /* strong */
    wasmtime_anyref_t ref; /* rooted; unrooted while the Store lives */
    uint32_t raw;          /* the object's identity in its GC heap ... */
    bool has_raw;          /* ... once == or hash() needed it */
} AnyRefObject;

/* An exnref held by Python (exnref.c). */
typedef struct {
    PyObject_HEAD
    StoreObject *store;    /* strong */
    wasmtime_exnref_t ref; /* rooted; unrooted while the Store lives */
    uint32_t raw;          /* identity in the GC heap, as AnyRefObject's ... */
    bool has_raw;          /* ... once == or hash() needed it */
} ExnRefObject;

/* StructType and ArrayType (gctype.c): a GC type registered with an engine.
 * Wasmtime aborts when a type is used with a store of another engine, so
 * every use checks `engine` against the store's first. */
typedef struct {
    PyObject_HEAD
    void *ty;         /* owned wasmtime_struct_type_t or wasmtime_array_type_t */
    PyObject *engine; /* strong: the EngineObject it is registered with */
} GcTypeObject;

/* An externref without a Python payload (externref.c). */
typedef struct {
    PyObject_HEAD
    StoreObject *store;       /* strong */
    wasmtime_externref_t ref; /* rooted; unrooted while the Store lives */
} ExternRefObject;

typedef struct {
    ExternObject base; /* kind WASMTIME_EXTERN_FUNC */
    vectorcallfunc vectorcall;
    int nparams; /* -1 until the signature is fetched */
    int nresults;
    bool numeric;              /* no anyref/exnref: the raw (unchecked) call path */
    bool has_refs;             /* externref/funcref among them (rooted around the call) */
    bool simple;               /* only i32/i64/f32/f64, few of them: func_call_simple */
    bool int_params;           /* simple, and every parameter an i32 or i64 */
    wasmtime_valkind_t *kinds; /* owned (PyMem): params then results */
} FuncObject;

typedef struct {
    PyObject_HEAD
    wasmtime_sharedmemory_t *mem; /* owned; NULL once closed */
    void *retired;                /* owned: see EXT_RETIRE */
    PyObject *engine;             /* strong: EngineObject */
    ext_state *st;
    PyObject *weakreflist;
    _Atomic Py_ssize_t exports; /* zero-copy buffers exported */
} SharedMemoryObject;

typedef struct {
    PyObject_HEAD
    StoreObject *store; /* strong */
    wasmtime_instance_t instance;
    PyObject *exports; /* strong or NULL: cached InstanceExports */
    PyObject *module;  /* strong: the Module it was made from (export names) */
    PyObject *weakreflist;
} InstanceObject;

typedef struct {
    PyObject_HEAD
    wasmtime_caller_t *caller; /* borrowed, valid during the host call only */
    StoreObject *store;        /* strong */
} CallerObject;

typedef struct {
    PyObject_HEAD
    wasmtime_module_t *module; /* owned; NULL once closed */
    void *retired;             /* owned: see EXT_RETIRE */
    PyObject *engine;          /* strong: the EngineObject */
    ext_state *st;
    PyObject *weakreflist;
    PyObject *export_names; /* strong or NULL: see ext_module_export_names */
    bool has_users;         /* an Instance or InstancePre holds it (see module_close) */
    /* The custom sections of the wasm it was compiled from, a list of
     * (name, payload bytes); NULL when it had none or was deserialized. */
    PyObject *custom_sections; /* strong or NULL (strs and bytes only) */
} ModuleObject;

typedef struct {
    PyObject_HEAD
    wasmtime_valkind_t kind; /* WASMTIME_I32 ... WASMTIME_EXNREF */
    PyObject *value;         /* strong: int, float, payload object, Func or None */
} ValObject;

typedef struct {
    PyObject_HEAD
    wasi_config_t *config; /* owned; NULL once consumed or closed */
    PyObject *outputs;     /* strong list of output callables, or NULL */
    /* argv and env are applied by Store.set_wasi: Wasmtime's builder appends
     * on every wasi_config_set_argv/_env/inherit_* call, but assigning the
     * property again must replace.  NULL = not set; Py_True = inherit;
     * else a list of UTF-8 bytes (argv) or of names then values (env). */
    PyObject *argv;
    PyObject *env;
    ext_state *st;
} WasiConfigObject;

typedef struct {
    PyObject_HEAD
    wasmtime_linker_t *linker; /* owned; NULL once closed */
    void *retired;             /* owned: see EXT_RETIRE */
    PyObject *engine;          /* strong: EngineObject */
    /* owned: a clone of the C engine, for scratch stores (define_wasi) even
     * after Engine.close() */
    wasm_engine_t *engine_clone;
    /* Callables of define_func, which Wasmtime borrows: dict (module, name)
     * -> callable.  Stores and InstancePres that may call them keep this
     * dict; a redefinition replaces in place while nobody else holds it,
     * else on a copy (see linker.c). */
    PyObject *host_objects;
    PyObject *defs; /* strong dict (module, name) -> definition (linkdefs.c) */
    ext_state *st;
    bool shadowing;
    bool unknown_exports; /* allow_unknown_exports (see define_module) */
    bool has_wasi;
    bool has_async;   /* defines an async host function: its Stores are async-only */
    _Atomic int busy; /* calls running with the GIL released */
    PyObject *weakreflist;
} LinkerObject;

typedef struct {
    PyObject_HEAD
    wasmtime_instance_pre_t *pre; /* owned; NULL once closed */
    void *retired;                /* owned: see EXT_RETIRE */
    PyObject *engine;             /* strong */
    PyObject *host_objects;       /* strong: the linker's callables at creation */
    PyObject *module;             /* strong: the ModuleObject, for its Instances */
    bool imports_wasi;            /* the module imports a WASI module */
    bool has_async;               /* its Linker had async host functions */
    _Atomic int busy;             /* instantiations running without the GIL */
    ext_state *st;
} InstancePreObject;

/* ---- stores (storectx.c) -------------------------------------------------- */

/* Resolve a `store` argument (Store, live Caller or live StoreContext), checking it is open and
 * not running wasm on another thread.  0 or -1 with an exception. */
int ext_resolve_store(ext_state *st, PyObject *obj, ext_ctx *out);
/* ext_resolve_store + the handle's own store must be that store. */
int ext_resolve_owner(ext_state *st, PyObject *obj, StoreObject *owner, ext_ctx *out);
/* The Store itself is usable: open, and not running on another thread. */
int ext_store_usable(StoreObject *so);
/* The current thread, as Store.running_thread records it (what
 * PyThread_get_thread_ident returns on POSIX, without the call). */
static inline unsigned long
ext_thread_ident(void)
{
    return (unsigned long)pthread_self();
}
/* RuntimeError: the Store is running wasm on another thread. -1. */
int ext_store_other_thread(void);
/* Bracket wasm execution: ext_call_enter claims the store for this thread
 * by compare-and-swap on its owner (RuntimeError if another thread holds
 * it, ValueError if it was closed meanwhile: 0 or -1); each successful
 * enter is paired with a leave.  The outermost call of a Store drops what an
 * earlier call left and, on an interruptible engine, arms the timeout
 * (ext_call_enter_slow, which also undoes the enter when the store was
 * closed). */
int ext_call_enter_slow(StoreObject *so);
static inline int
ext_call_enter(StoreObject *so)
{
    unsigned long me = ext_thread_ident();
    unsigned long expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&so->running_thread, &expected, me,
                                                 memory_order_acquire, memory_order_relaxed) &&
        expected != me) {
        return ext_store_other_thread();
    }
    if (so->running++ == 0 &&
        (so->store == NULL || so->pending_exc != NULL || so->interruptible)) {
        return ext_call_enter_slow(so);
    }
    return 0;
}
static inline void
ext_call_leave(StoreObject *so)
{
    if (--so->running == 0 && so->claims == 0) {
        atomic_store_explicit(&so->running_thread, 0, memory_order_release);
    }
}
/* Hold the store for this thread across work that uses its context outside
 * the call bracket (converting reference values in and out of a call), so
 * that another thread can neither enter nor close() it meanwhile: the same
 * claim as ext_call_enter, without counting as a call.  0 or -1 (as
 * ext_call_enter); pair each success with ext_store_unclaim. */
int ext_store_claim(StoreObject *so);
void ext_store_unclaim(StoreObject *so);
/* close(): claim the store as a call would (RuntimeError while any thread,
 * this one included, runs wasm on it); the caller stores 0 after. 0 or -1. */
int ext_store_claim_for_close(StoreObject *so);
/* No thread is running wasm on the store (a hint for fast paths: the claim
 * in ext_call_enter decides). */
static inline bool
ext_store_idle(StoreObject *so)
{
    return atomic_load_explicit(&so->running_thread, memory_order_relaxed) == 0;
}
/* After a call: raise the timeout, else the host exception if one is
 * pending, else the trap, else the error (each consumed). 0 when there was
 * none, -1 otherwise.  ext_call_failed is the part after a failure. */
int ext_call_failed(ext_state *st, StoreObject *so, wasmtime_error_t *err, wasm_trap_t *trap);
static inline int
ext_call_finish(ext_state *st, StoreObject *so, wasmtime_error_t *err, wasm_trap_t *trap)
{
    if (err == NULL && trap == NULL) {
        return 0;
    }
    return ext_call_failed(st, so, err, trap);
}
/* Record the current exception as the store's pending host exception. */
void ext_store_set_pending(StoreObject *so);
/* Keep `obj` alive as long as the store (for env pointers). 0 or -1. */
int ext_store_keep(StoreObject *so, PyObject *obj);
/* Delete the C store (the one release point) and what it kept alive. */
void ext_store_release(StoreObject *so);
/* A zero-copy memory buffer of this store was released. */
void ext_store_buffer_released(StoreObject *so);
/* The finalizer of externref payloads (a strong reference): queues the
 * payload instead of dropping it inside Wasmtime. */
void ext_externref_finalize(void *data);
/* Drop the queued externref payloads.  Needs the GIL; runs Python code
 * (__del__): call it only where that is safe, after the Wasmtime call that
 * collected. */
void ext_release_deferred(void);
/* Consume `w` into the store's WASI context (Store.set_wasi). 0 or -1. */
int ext_store_take_wasi(StoreObject *so, WasiConfigObject *w);

#include "wasmcall.h"

/* ---- handles (handles.c) -------------------------------------------------- */

/* Python object for an extern of store `so`; takes ownership of a shared
 * memory inside `ext`. */
PyObject *ext_extern_to_py(ext_state *st, StoreObject *so, wasmtime_extern_t *ext);
/* A Python extern (Func, Global, Table, Memory, Tag, SharedMemory) as a
 * wasmtime_extern_t usable with store `so`; release it with
 * ext_extern_release() (a shared memory is a clone). 0 or -1. */
int ext_py_to_extern(ext_state *st, StoreObject *so, PyObject *obj, wasmtime_extern_t *out);
void ext_extern_release(wasmtime_extern_t *ext);
/* New Python objects for C handles of store `so`. */
PyObject *ext_func_wrap(ext_state *st, StoreObject *so, const wasmtime_func_t *f);
/* A new Instance made from `module` (a ModuleObject, which it keeps). */
PyObject *ext_instance_wrap(ext_state *st, StoreObject *so, const wasmtime_instance_t *inst,
                            PyObject *module);
PyObject *ext_caller_new(ext_state *st, StoreObject *so, wasmtime_caller_t *caller);
/* The export names of a Module (a ModuleObject), in module order: a dict
 * used as an ordered set (values None), read on first need, then cached on
 * the Module and shared by its Instances; never mutated.  New reference, or
 * NULL with an exception (ValueError if the Module was closed before). */
PyObject *ext_module_export_names(PyObject *module);
/* A SharedMemory object owning `mem` (deleted on failure). */
PyObject *ext_sharedmemory_wrap(ext_state *st, PyObject *engine, wasmtime_sharedmemory_t *mem);
/* `module` must be an open Module of `engine`; returns its C module or NULL.
 * `owner` names the other side in the error ("Store", "Linker"). */
const wasmtime_module_t *ext_module_of_engine(ext_state *st, PyObject *module, PyObject *engine,
                                              const char *owner);
/* A handle object of type `tp` (Global, Table, Memory, Tag) for `ext`. */
PyObject *ext_handle_new(PyTypeObject *tp, StoreObject *so, const wasmtime_extern_t *ext);

/* Resolve the `store` argument of a handle method: it must be the handle's
 * own Store (or a Caller of it). */
static inline int
ext_handle_ctx(PyObject *op, PyObject *store, ext_ctx *c)
{
    ExternObject *self = (ExternObject *)op;
    return ext_resolve_owner(self->store->st, store, self->store, c);
}

/* Global(store, ty, val) and Table(store, ty, init): one constructor shape,
 * described by a spec. */
typedef struct {
    const char *format;     /* for PyArg_ParseTupleAndKeywords */
    const char *value_name; /* "val" or "init" */
    const char *type_what;  /* for the TypeError */
    size_t type_offset;     /* offsetof(ext_state, <the type class>) */
    wasmtime_valkind_t (*kind)(const void *ty);
    wasmtime_error_t *(*create)(wasmtime_context_t *ctx, const void *ty, const wasmtime_val_t *v,
                                wasmtime_extern_t *out);
} ext_valued_spec;
PyObject *ext_valued_new(PyTypeObject *type, PyObject *args, PyObject *kwds,
                         const ext_valued_spec *spec);

/* Slots shared by the store-bound handle types. */
extern PyMemberDef ext_handle_members[]; /* weakref slot of ExternObject types */
int ext_handle_traverse(PyObject *op, visitproc visit, void *arg);
int ext_handle_clear(PyObject *op);
void ext_handle_dealloc(PyObject *op);
/* The type spec of a handle type NAME with NAME##_new and NAME##_methods. */
#define EXT_HANDLE_SPEC(NAME, PYNAME, DOC)         \
    static PyType_Slot NAME##_slots[] = {          \
        {Py_tp_members, ext_handle_members},       \
        {Py_tp_new, NAME##_new},                   \
        {Py_tp_dealloc, ext_handle_dealloc},       \
        {Py_tp_traverse, ext_handle_traverse},     \
        {Py_tp_clear, ext_handle_clear},           \
        {Py_tp_methods, NAME##_methods},           \
        {Py_tp_doc, DOC},                          \
        {0, NULL},                                 \
    };                                             \
    static PyType_Spec NAME##_spec = {             \
        .name = "wasmtime." PYNAME,                \
        .basicsize = sizeof(ExternObject),         \
        .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC, \
        .slots = NAME##_slots,                     \
    };

/* ---- values (convert.c) --------------------------------------------------- */

/* The low 64 bits of an int (PyLong_AsUnsignedLongLongMask), read
 * inline when it is a one-digit int: the argument conversion of every call
 * with integer parameters. */
static inline unsigned long long
ext_long_bits(PyObject *p)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (PyUnstable_Long_IsCompact((PyLongObject *)p)) {
        return (unsigned long long)(long long)PyUnstable_Long_CompactValue((PyLongObject *)p);
    }
#else
    Py_ssize_t size = Py_SIZE(p);
    if (size >= -1 && size <= 1) {
        return (unsigned long long)(long long)(size *
                                               (Py_ssize_t)((PyLongObject *)p)->ob_digit[0]);
    }
#endif
    return PyLong_AsUnsignedLongLongMask(p);
}

/* The common cases of ext_py_to_raw, inline: an exact int for i32/i64, an
 * exact float for f32/f64 (neither runs Python code nor fails).  False when
 * `p` needs the general conversion (ext_val_unwrap, ext_py_to_raw), which
 * also reports what is wrong with it. */
static inline bool
ext_num_to_raw(PyObject *p, wasmtime_valkind_t k, wasmtime_val_raw_t *out)
{
    if (k <= WASMTIME_I64) {
        if (!PyLong_CheckExact(p)) {
            return false;
        }
        unsigned long long bits = ext_long_bits(p);
        if (k == WASMTIME_I32) {
            out->i32 = (int32_t)(uint32_t)bits;
        }
        else {
            out->i64 = (int64_t)bits;
        }
        return true;
    }
    if ((k == WASMTIME_F32 || k == WASMTIME_F64) && PyFloat_CheckExact(p)) {
        if (k == WASMTIME_F32) {
            out->f32 = (float)PyFloat_AS_DOUBLE(p);
        }
        else {
            out->f64 = PyFloat_AS_DOUBLE(p);
        }
        return true;
    }
    return false;
}

/* A raw i32/i64/f32/f64 as a Python int or float (ext_raw_to_py, inline). */
static inline PyObject *
ext_num_from_raw(wasmtime_valkind_t k, const wasmtime_val_raw_t *raw)
{
    switch (k) {
    case WASMTIME_I32: return PyLong_FromLong(raw->i32);
    case WASMTIME_I64: return PyLong_FromLongLong(raw->i64);
    case WASMTIME_F32: return PyFloat_FromDouble(raw->f32);
    default: return PyFloat_FromDouble(raw->f64);
    }
}

/* Python -> wasmtime_val_t of wasmtime kind `kind` (wasmtime-py's rules, convert.c).
 * On success the value may hold a rooted reference: ext_val_release it. */
int ext_py_to_val(ext_state *st, ext_ctx *c, PyObject *obj, wasmtime_valkind_t kind,
                  wasmtime_val_t *out);
void ext_val_release(wasmtime_val_t *val);

/* wasmtime_val_t -> Python (does not release `val`). */
PyObject *ext_val_to_py(ext_state *st, ext_ctx *c, const wasmtime_val_t *val);
/* Numeric fast path: i32/i64/f32/f64/v128 only. */
int ext_py_to_raw(PyObject *obj, wasmtime_valkind_t kind, wasmtime_val_raw_t *out);
PyObject *ext_raw_to_py(wasmtime_valkind_t kind, const wasmtime_val_raw_t *raw);
/* Reference values (externref, funcref) and their raw form, for the raw call
 * path: to_raw reads a rooted value (keep it rooted until wasm has the raw
 * one, and let nothing allocate in the GC heap in between); from_raw makes
 * a rooted value (ext_val_release it) of a raw result. */
void ext_val_to_raw(ext_ctx *c, const wasmtime_val_t *val, wasmtime_val_raw_t *out);
void ext_raw_to_val(ext_ctx *c, wasmtime_valkind_t kind, const wasmtime_val_raw_t *raw,
                    wasmtime_val_t *out);
/* v128 <-> unsigned int, little-endian lanes (ints wrap to 128 bits). */
int ext_py_to_v128(PyObject *obj, uint8_t out[16]);
PyObject *ext_v128_to_py(const uint8_t in[16]);
/* If `obj` is a Val, check its kind is `kind` (TypeError otherwise) and
 * return its payload (borrowed); any other object is returned as is.  NULL
 * on error.  The one place the "wrong type of `Val`" rule lives. */
PyObject *ext_val_unwrap(ext_state *st, PyObject *obj, wasmtime_valkind_t kind);

/* ---- GC references (gcref.c; the wrappers are made by convert.c) -------- */

/* A Python object for a non-null, non-i31 anyref of store c: an AnyRef,
 * EqRef, StructRef or ArrayRef by what it refers to, holding a clone of the
 * root (convert.c). */
PyObject *ext_anyref_wrap(ext_state *st, ext_ctx *c, const wasmtime_anyref_t *ref);
/* A Python ExnRef for a non-null exnref of store c (a clone; convert.c). */
PyObject *ext_exnref_wrap(ext_state *st, ext_ctx *c, const wasmtime_exnref_t *ref);
/* Read (value NULL) or write field `index` of a struct (array false) or
 * element `index` of an array, converting the value by the object's own
 * type.  `store` is the store argument (a Store or Caller).  New reference
 * (None for a write) or NULL. */
PyObject *ext_gcref_access(AnyRefObject *self, PyObject *store, PyObject *index, PyObject *value,
                           bool array);
/* `obj` as a value for storage type `ft` (packed i8/i16 take an int, wrapped
 * by Wasmtime).  No Python code runs.  0 or -1; release with
 * ext_val_release. */
int ext_field_to_val(ext_state *st, ext_ctx *c, const wasmtime_field_type_t *ft, PyObject *obj,
                     wasmtime_val_t *out);
/* A new StructType (array false) or ArrayType owning `ty`, registered with
 * `engine` (an EngineObject).  Deletes `ty` on failure. */
PyObject *ext_gctype_wrap(ext_state *st, PyObject *engine, bool array, void *ty);
/* Equality and hash of the GC reference wrappers (AnyRef family, ExnRef):
 * the same object means the same Store and the same raw heap index, which
 * `identity` reads (and caches) from the wrapper: 0, or -1 with an
 * exception.  `sa`/`sb` are the wrappers' Stores; the caller has checked
 * that `b` is of a comparable type. */
typedef int (*ext_gc_identity_fn)(PyObject *op, uint32_t *raw);
PyObject *ext_gc_richcompare(PyObject *a, StoreObject *sa, PyObject *b, StoreObject *sb, int op,
                             ext_gc_identity_fn identity);
Py_hash_t ext_gc_hash(PyObject *op, StoreObject *store, ext_gc_identity_fn identity);

/* ---- wasm exceptions (exn.c) ---------------------------------------------- */

/* The tag and field values of `exn` (new references), or -1. */
int ext_exn_to_py(ext_state *st, ext_ctx *c, const wasmtime_exnref_t *exn, PyObject **tag,
                  PyObject **fields);
/* A new exnref of `tag` (a Tag of store c) with the field values in `values`
 * (a list); runs no Python code.  0 or -1 with an exception. */
int ext_exn_new(ext_state *st, ext_ctx *c, PyObject *tag, PyObject *values,
                wasmtime_exnref_t *out);

/* After a wasm call of store c failed (a Python exception is set): if an
 * uncaught wasm exception is pending on the store, replace the raised
 * exception with a WasmException carrying its tag and fields.  Returns -1. */
int ext_exn_after_call(ext_state *st, ext_ctx *c);
/* If `exc` (raised by a host function of store c) is a WasmException, throw
 * it into wasm: the trap to return from the host function.  NULL with an
 * exception set when it cannot be thrown, NULL without one when `exc` is not
 * a WasmException. */
wasm_trap_t *ext_exn_throw(ext_state *st, ext_ctx *c, PyObject *exc);

/* ---- host functions (hostfunc.c) ------------------------------------------ */

/* Fill `kinds` (params then results) from a function type; returns whether
 * all are numbers (the raw fast path applies). */
bool ext_functype_kinds(const wasm_functype_t *ty, wasmtime_valkind_t *kinds);
/* Host functions, for Func and Linker.define_func: an env owned by
 * Wasmtime (free it with the finalizer from ext_hostfunc_callbacks); it
 * borrows `callable`, which the owner must keep alive. */
void *ext_hostfunc_new(ext_state *st, const wasm_functype_t *ty, PyObject *callable,
                       bool access_caller, bool *numeric);
void ext_hostfunc_callbacks(wasmtime_func_callback_t *checked,
                            wasmtime_func_unchecked_callback_t *unchecked,
                            void (**finalizer)(void *));

/* A host function raised (the exception is set): the trap it returns to
 * wasm (a WasmException is thrown into wasm; any other exception is kept
 * on the Store, see ext_call_finish). */
wasm_trap_t *ext_hostfunc_failed(StoreObject *so, wasmtime_context_t *ctx);

/* ---- the Linker's registry (linkdefs.c) ----------------------------------- */

/* What a (module, name) of a Linker is defined as. */
typedef enum {
    LINKDEF_FUNC,          /* define_func: store-independent host function */
    LINKDEF_ITEM,          /* define/define_instance: an extern of one Store */
    LINKDEF_MODULE,        /* define_module: an export of a module in one Store */
    LINKDEF_WASI,          /* define_wasi */
    LINKDEF_TRAP_DEFAULT,  /* define_unknown_imports_as_traps */
    LINKDEF_VALUE_DEFAULT, /* define_unknown_imports_as_default_values (one Store) */
} linkdef_kind;

/* A definition: kind, its type (FuncType, GlobalType, ...), the Store it is
 * bound to (or None), a payload (the callable, the extern, the Module, or
 * None) and access_caller.  Stored as an immutable tuple so the GC sees
 * every object in it; read it only through these accessors. */
PyObject *ext_linkdef_new(linkdef_kind kind, PyObject *type, PyObject *store, PyObject *payload,
                          bool access_caller);
linkdef_kind ext_linkdef_kind(PyObject *def);
PyObject *ext_linkdef_type(PyObject *def);    /* borrowed */
PyObject *ext_linkdef_store(PyObject *def);   /* borrowed; None if store-independent */
PyObject *ext_linkdef_payload(PyObject *def); /* borrowed */
bool ext_linkdef_access_caller(PyObject *def);

/* Keep `callable` for the Linker's definition (module, name), dropping the
 * one it replaces: in place while nobody else holds `host_objects`, else on
 * a copy (a Store or InstancePre keeps the dict it was given).  0 or -1. */
int ext_linker_keep_callable(LinkerObject *self, PyObject *module, PyObject *name,
                             PyObject *callable);
/* Record `def` as (module, name) (str objects); a redefinition moves the
 * name to the end, like a fresh definition.  0 or -1. */
int ext_linkdefs_record(PyObject *defs, PyObject *module, PyObject *name, PyObject *def);
/* The same with UTF-8 names. */
int ext_linkdefs_record_utf8(PyObject *defs, const char *module, size_t mlen, const char *name,
                             size_t nlen, PyObject *def);
/* The definition of (module, name), a new reference, or NULL (exception set
 * only on error).  Runs no Python code: keys are compared as exact str. */
PyObject *ext_linkdefs_get(PyObject *defs, PyObject *module, PyObject *name);
/* Record every import of `m` not yet defined: as a trap stand-in (function
 * imports only) when `store` is NULL, else as a default value of `store`. */
int ext_linkdefs_record_unknown(ext_state *st, PyObject *defs, const wasmtime_module_t *m,
                                PyObject *store);
/* Linker.define_unknown_imports_as_traps (`c` NULL) or
 * _as_default_values (`c`: the resolved Store): define the module's unknown
 * imports in `linker`, then record them in `defs`.  None, or NULL with an
 * exception. */
PyObject *ext_linker_define_unknown(ext_state *st, wasmtime_linker_t *linker, PyObject *defs,
                                    const wasmtime_module_t *m, const ext_ctx *c);
/* Store-bound definitions (define, define_instance, define_module, default
 * values) belong to the Store they were made with.  Wasmtime hands them out
 * to any Store, and the first use of such a handle in the wrong Store
 * panics (aborting the process): refuse them.  1 if (module, name) is
 * defined, 0 if not, -1 with WasmtimeError for another Store's item. */
int ext_linkdefs_check_store(ext_state *st, PyObject *defs, PyObject *module, PyObject *name,
                             StoreObject *so);
/* The same for what Linker.get_default would return for `module`. 0 or -1. */
int ext_linkdefs_check_default_store(ext_state *st, PyObject *defs, PyObject *module,
                                     StoreObject *so);
/* Record what define_instance, define_wasi and define_module defined:
 * every export of `inst` under `name` (bound to c's Store); the WASI
 * preview 1 functions with their types; the exports of module `m` (the
 * Python Module `module`, instantiated in `store`) under `n`.  0 or -1. */
int ext_linkdefs_record_instance(ext_state *st, PyObject *defs, ext_ctx *c, PyObject *name,
                                 InstanceObject *inst);
int ext_linkdefs_record_wasi(ext_state *st, PyObject *defs, wasmtime_linker_t *linker,
                             wasm_engine_t *engine);
int ext_linkdefs_record_module(ext_state *st, PyObject *defs, const char *n, size_t nlen,
                               const wasmtime_module_t *m, PyObject *store, PyObject *module);
/* The names defined under `module`, in definition order (a new list). */
PyObject *ext_linkdefs_names_under(PyObject *defs, PyObject *module);
/* (module, name, type) for every definition (a new list). */
PyObject *ext_linkdefs_items(PyObject *defs);
/* Add "(the linker defines under `m`: a, b)" to a pending missing-import
 * WasmtimeError of `m`.  Keeps the pending exception either way. */
void ext_linkdefs_explain_missing(ext_state *st, PyObject *defs, bool has_wasi,
                                  const wasmtime_module_t *m);
/* The WASI preview 1 module names and functions, and checks on them. */
extern const char *const ext_wasi_modules[];
extern const char *const ext_wasi_p1_funcs[];
bool ext_is_wasi_module(const char *name, size_t len);
bool ext_module_imports_wasi(const wasmtime_module_t *m);
/* WasmtimeError: a WASI module in a Store without set_wasi. Returns -1. */
int ext_no_wasi_context(ext_state *st);
/* Whether `m` is a command (exports `_start`) that Wasmtime's define_module
 * refuses: it exports something else than functions, a memory called
 * "memory" and a table called "__indirect_function_table". */
bool ext_command_has_unknown_exports(const wasmtime_module_t *m);

/* ---- asyncio (asynccall.c) ------------------------------------------------ */

typedef enum {
    EXT_FUTURE_FUNC,   /* Func.call_async */
    EXT_FUTURE_LINKER, /* Linker.instantiate_async */
    EXT_FUTURE_PRE,    /* InstancePre.instantiate_async */
    EXT_FUTURE_OTHER,  /* another starter's (components): its convert/cleanup */
} ext_future_kind;

/* A running async call: Wasmtime's call future and everything it borrows,
 * which must stay unmodified until the future is deleted.  Driven by the
 * Python glue coroutine (wasmtime/_async.py) through poll(). */
typedef struct {
    PyObject_HEAD
    wasmtime_call_future_t *fut; /* owned; NULL once finished or closed */
    StoreObject *store;          /* strong */
    ext_future_kind kind;
    PyObject *owner;                 /* strong: the Func, Linker or InstancePre */
    PyObject *module;                /* strong or NULL: the Module instantiated */
    wasmtime_module_t *module_clone; /* owned or NULL (Linker) */
    wasmtime_val_t *vals;            /* owned (PyMem) or NULL: args then results */
    size_t nargs, nresults;
    wasmtime_instance_t instance;
    wasm_trap_t *trap;     /* owned or NULL until finished */
    wasmtime_error_t *err; /* owned or NULL until finished */
    void *host;            /* the async host call awaiting (asynccall.c) or NULL */
    PyObject *yielded;     /* strong or NULL: what that host call yielded */
    PyObject *send_value;  /* strong or NULL: to send into it next poll */
    PyObject *throw_value; /* strong or NULL: to throw into it next poll */
    bool polling;          /* inside poll(): no re-entry, no close */
    unsigned long thread;  /* the thread that started it, the only one to poll */
    /* EXT_FUTURE_OTHER: the result once the call succeeded, and the release
     * of `data` (what Wasmtime borrows) once the future is gone. */
    PyObject *(*convert)(PyObject *future);
    void (*cleanup)(PyObject *future);
    void *data;
} CallFutureObject;

/* Whether `obj` is a coroutine function (inspect.iscoroutinefunction; runs
 * Python code). 1, 0 or -1. */
int ext_is_coroutine_function(PyObject *obj);
/* The coroutine of func.call_async(store, *args): converts the arguments and
 * starts the call (the Store is busy until it ends).  NULL on error. */
PyObject *ext_async_func_call(FuncObject *f, ext_ctx *c, PyObject *const *params);
/* The coroutines of Linker.instantiate_async and InstancePre.instantiate_async. */
PyObject *ext_async_linker_instantiate(LinkerObject *l, ext_ctx *c, PyObject *module,
                                       const wasmtime_module_t *m);
PyObject *ext_async_pre_instantiate(InstancePreObject *p, ext_ctx *c);
/* For other starters (EXT_FUTURE_OTHER): a new future on `so` (RuntimeError
 * if the Store is busy), and starting it once `fut`, `convert`, `cleanup`
 * and `data` are set: returns the coroutine (consumes `f`). */
CallFutureObject *ext_future_new(ext_state *st, StoreObject *so, ext_future_kind kind,
                                 PyObject *owner);
PyObject *ext_future_start(ext_state *st, CallFutureObject *f);
/* One step of the future (CallFuture.poll): the result when finished, the
 * future itself while pending (its `yielded` tells what to await). */
PyObject *ext_future_poll(CallFutureObject *f, PyObject *send, PyObject *throw_);
/* Stop the call (deleting Wasmtime's future unwinds the wasm); idempotent.
 * Runs no Python code beyond dropping references. */
void ext_future_close(CallFutureObject *f);
/* Async host functions: an env for wasmtime_linker_define_async_func (free
 * it with ext_async_host_free); it borrows `callable`. */
void *ext_async_host_new(ext_state *st, const wasm_functype_t *ty, PyObject *callable,
                         bool access_caller);
void ext_async_host_free(void *env);
/* Linker.define_func: define a host function (async when `coro`) that
 * borrows `callable`.  0 or -1. */
int ext_linker_define_host(ext_state *st, wasmtime_linker_t *linker, const char *m, size_t mlen,
                           const char *n, size_t nlen, const wasm_functype_t *fty,
                           PyObject *callable, bool access_caller, bool coro);
/* For async host trampolines (also the component ones): advance the
 * coroutine of the host call `tag` one step, inside a poll, with what the
 * task sent or threw.  PYGEN_NEXT: it awaits (what it yielded goes to the
 * glue); PYGEN_RETURN with its value in *value (a new reference);
 * PYGEN_ERROR with the exception set. */
PySendResult ext_async_host_step(StoreObject *so, PyObject *coro, void *tag, PyObject **value);
/* The host call `tag` is over (its continuation is dropped). */
void ext_async_host_done(StoreObject *so, void *tag);
/* Func(store, ty, coroutine_function): an async host function in c's Store
 * (the C API defines them only through a Linker: a scratch one).  Takes
 * `env`.  0 or -1. */
int ext_async_func_new(ext_state *st, ext_ctx *c, const wasm_functype_t *ty, void *env,
                       wasmtime_func_t *out);
#endif /* WASMTIME_NATIVE_RUNTIME_H */
