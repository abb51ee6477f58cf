/* The one shared internal header of wasmtime._ext.
 *
 * It holds the module state (every type object and exception class), the
 * object structs that more than one file touches, and the small helpers and
 * CHECK_* macros every type file uses.  Everything the extension defines is
 * static or hidden: only PyInit__ext is exported (-fvisibility=hidden).
 */
#ifndef WASMTIME_NATIVE_COMMON_H
#define WASMTIME_NATIVE_COMMON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdbool.h>
#include <stdint.h>

#include <wasi.h>
#include <wasm.h>
#include <wasmtime.h>

/* wasm.h has no name for it; ext_valtype_kind() reports v128 as 4. */
#define EXT_WASM_V128 ((wasm_valkind_t)4)
/* Any reference type other than nullable externref/funcref (anyref, exnref,
 * i31ref, (ref func), ...): wasm.h cannot describe it. */
#define EXT_WASM_OTHERREF ((wasm_valkind_t)255)

/* ---- module state ------------------------------------------------------ */

typedef struct {
    PyTypeObject *Managed_Type;
    PyTypeObject *Config_Type;
    PyTypeObject *Engine_Type;
    PyTypeObject *Store_Type;
    PyTypeObject *Module_Type;
    PyTypeObject *ValType_Type;
    PyTypeObject *FuncType_Type;
    PyTypeObject *GlobalType_Type;
    PyTypeObject *TableType_Type;
    PyTypeObject *MemoryType_Type;
    PyTypeObject *TagType_Type;
    PyTypeObject *Limits_Type;
    PyTypeObject *ImportType_Type;
    PyTypeObject *ExportType_Type;
    PyTypeObject *Val_Type;
    PyTypeObject *Func_Type;
    PyTypeObject *Caller_Type;
    PyTypeObject *Global_Type;
    PyTypeObject *Table_Type;
    PyTypeObject *Memory_Type;
    PyTypeObject *MemoryView_Type;
    PyTypeObject *SharedMemory_Type;
    PyTypeObject *Tag_Type;
    PyTypeObject *Instance_Type;
    PyTypeObject *InstanceExports_Type;
    PyTypeObject *Frame_Type;
    PyTypeObject *WasiConfig_Type;
    PyTypeObject *Linker_Type;
    PyTypeObject *InstancePre_Type;
    PyObject *Trap;          /* strong: exception class */
    PyObject *TrapCode;      /* strong or NULL: wasmtime._enums.TrapCode, loaded lazily */
    PyObject *ctypes_ptr;    /* strong or NULL: ctypes.POINTER(ctypes.c_ubyte), lazily */
    bool exports_registered; /* InstanceExports registered as a Mapping */
    PyObject *WasmtimeError; /* strong: exception class */
    PyObject *ExitTrap;      /* strong: exception class */
    PyObject *ArgTypeError;  /* strong: TypeError + AttributeError subclass */
    PyObject *str_message;   /* strong: interned "_message" */
    PyObject *str_code;      /* strong: interned "code" */
} ext_state;

extern struct PyModuleDef ext_module_def;

/* The state of the module that defined `tp` (or one of its bases). */
static inline ext_state *
ext_state_from_type(PyTypeObject *tp)
{
    PyObject *mod = PyType_GetModuleByDef(tp, &ext_module_def);
    if (mod == NULL) {
        return NULL;
    }
    return (ext_state *)PyModule_GetState(mod);
}

/* ---- objects shared between files -------------------------------------- */

typedef struct {
    PyObject_HEAD
    wasm_config_t *config; /* owned; NULL once closed or consumed */
    /* What the engine will need to know about memory placement (the C API
     * has no getters): see memory.c for why. */
    bool memory_may_move;
    bool small_reservation; /* memory_reservation set below 4 GiB */
    /* What Engine() must check first, because Wasmtime aborts the process
     * instead of failing when it cannot build an engine (see engine.c). */
    bool needs_probe;       /* a Cranelift flag or a target was set */
    bool simd_off;          /* wasm_simd = False */
    bool relaxed_simd;      /* wasm_relaxed_simd (on by default) */
    bool stack_set;         /* max_wasm_stack was set ... */
    uint64_t max_wasm_stack;/* ... to this */
} ConfigObject;

typedef struct {
    PyObject_HEAD
    wasm_engine_t *engine; /* owned; NULL once closed */
    ext_state *st;         /* borrowed: lives as long as the module */
    PyObject *weakreflist;
    /* true when 32-bit memories of this engine can never move */
    bool memories32_fixed;
    /* true when no memory of this engine can ever move */
    bool memories_fixed;
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
    PyObject *host_objects;      /* strong dict id -> object, or NULL until needed */
    bool has_wasi;               /* set_wasi() was called */
    /* The exception a host function raised during the current call; taken
     * by the outermost Python-facing call that sees the trap. */
    PyObject *pending_exc;       /* strong or NULL */
    int running;                 /* wasm calls in flight on this store */
    unsigned long running_thread;/* the thread running them */
    Py_ssize_t exports;          /* zero-copy memory buffers exported */
    bool release_pending;        /* GC wanted to delete while exported */
} StoreObject;

/* A store to act on: a Store, or a live Caller standing in for one. */
typedef struct {
    StoreObject *so;          /* borrowed */
    wasmtime_context_t *ctx;  /* borrowed */
} ext_ctx;

/* Func, Global, Table, Memory and Tag: a store-bound handle.  The Store must
 * outlive the raw handle, so the object holds it strongly. */
typedef struct {
    PyObject_HEAD
    StoreObject *store;    /* strong */
    wasmtime_extern_t ext; /* kind + handle; no destructor */
    PyObject *weakreflist;
} ExternObject;

typedef struct {
    ExternObject base;     /* kind WASMTIME_EXTERN_FUNC */
    vectorcallfunc vectorcall;
    int nparams;           /* -1 until the signature is fetched */
    int nresults;
    bool numeric;          /* only i32/i64/f32/f64: the raw fast path */
    wasmtime_valkind_t *kinds; /* owned (PyMem): params then results */
} FuncObject;

typedef struct {
    PyObject_HEAD
    wasmtime_sharedmemory_t *mem; /* owned; NULL once closed */
    PyObject *engine;             /* strong: EngineObject */
    ext_state *st;
    PyObject *weakreflist;
} SharedMemoryObject;

typedef struct {
    PyObject_HEAD
    StoreObject *store;          /* strong */
    wasmtime_instance_t instance;
    PyObject *exports;           /* strong or NULL: cached InstanceExports */
    PyObject *module;            /* strong: the Module it was made from (export names) */
    PyObject *weakreflist;
} InstanceObject;

typedef struct {
    PyObject_HEAD
    wasmtime_caller_t *caller;   /* borrowed, valid during the host call only */
    StoreObject *store;          /* strong */
} CallerObject;

typedef struct {
    PyObject_HEAD
    wasmtime_module_t *module; /* owned; NULL once closed */
    PyObject *engine;          /* strong: the EngineObject */
    ext_state *st;
    PyObject *weakreflist;
    PyObject *export_names;    /* strong or NULL: see ext_module_export_names */
    bool has_users;            /* an Instance or InstancePre holds it (see module_close) */
} ModuleObject;

typedef struct {
    PyObject_HEAD
    wasm_valkind_t kind;
    bool closed;
} ValTypeObject;

/* FuncType, GlobalType, TableType, MemoryType and TagType all hold one owned
 * wasm_*type_t pointer; they share this layout. */
typedef struct {
    PyObject_HEAD
    void *ty; /* owned wasm_{func,global,table,memory,tag}type_t; NULL once closed */
    ext_state *st;
} TypeObject;

typedef struct {
    PyObject_HEAD
    PyObject *min; /* strong */
    PyObject *max; /* strong (None for unbounded) */
} LimitsObject;

typedef struct {
    PyObject_HEAD
    wasmtime_valkind_t kind; /* WASMTIME_I32 ... WASMTIME_EXNREF */
    PyObject *value;     /* strong: int, float, payload object, Func or None */
} ValObject;

/* ---- helpers (errors.c) ------------------------------------------------- */

/* Raise the Python form of `err` (WasmtimeError, or ExitTrap for a WASI exit)
 * and delete it.  Always returns NULL. */
PyObject *ext_raise_error(ext_state *st, wasmtime_error_t *err);
/* Same, returning -1 for int-returning callers. */
int ext_raise_error_int(ext_state *st, wasmtime_error_t *err);
/* Raise WasmtimeError(msg) as if it came from the engine. Returns NULL. */
PyObject *ext_raise_msg(ext_state *st, const char *fmt, ...);
/* Raise ArgumentTypeError("expected <what>, got <type>"): a TypeError that is
 * also an AttributeError, because wasmtime-py raised one or the other for a
 * wrong object type depending on how it happened to touch it. Returns NULL. */
PyObject *ext_wrong_type(ext_state *st, const char *what, PyObject *got);
/* Build a str from a wasm_name_t / wasm_byte_vec_t (UTF-8, lossy). */
PyObject *ext_str_from_name(const wasm_name_t *name);

/* ---- argument parsing (args.c) ------------------------------------------ */

/* Parse FASTCALL arguments into `out` (NULL where not given).  `kwlist` is a
 * NULL-terminated list of parameter names, the first `nrequired` required.
 * Error texts follow CPython's. Returns 0, or -1 with TypeError set. */
int ext_parse_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                   const char *fname, const char *const *kwlist,
                   Py_ssize_t nrequired, PyObject **out);

/* TypeError unless a tp_new/tp_init got no arguments at all. */
static inline int
ext_no_args(const char *name, PyObject *args, PyObject *kwds)
{
    if ((args != NULL && PyTuple_GET_SIZE(args) != 0) ||
        (kwds != NULL && PyDict_GET_SIZE(kwds) != 0)) {
        PyErr_Format(PyExc_TypeError, "%s() takes no arguments", name);
        return -1;
    }
    return 0;
}

/* Convert an int to u64 without raising: 0 ok, 1 negative, 2 too big,
 * -1 not an int (no exception set). */
int ext_long_as_u64(PyObject *obj, uint64_t *out);

/* Let a METH_O implementation also take its argument by name, as
 * wasmtime-py allows: EXT_KW1 defines `impl##_kw` (FASTCALL|KEYWORDS), and
 * EXT_KW1_ENTRY(impl) goes in the method table. */
#define EXT_KW1(impl, pyname, argname)                                        \
    static PyObject *impl##_kw(PyObject *self, PyObject *const *args,        \
                               Py_ssize_t nargs, PyObject *kwnames)          \
    {                                                                        \
        if (nargs == 1 && kwnames == NULL) {                                 \
            return impl(self, args[0]);                                      \
        }                                                                    \
        static const char *const kwlist[] = {argname, NULL};                 \
        PyObject *a[1];                                                      \
        if (ext_parse_args(args, nargs, kwnames, pyname, kwlist, 1, a) < 0) {\
            return NULL;                                                     \
        }                                                                    \
        return impl(self, a[0]);                                             \
    }
#define EXT_KW1_ENTRY(impl)                                                   \
    (PyCFunction)(void (*)(void))impl##_kw, METH_FASTCALL | METH_KEYWORDS

/* The same for a positional-only FASTCALL implementation taking exactly the
 * parameters named in the NULL-terminated list that follows `pyname`. */
#define EXT_KWN(impl, pyname, n, ...)                                         \
    static PyObject *impl##_kw(PyObject *self, PyObject *const *args,        \
                               Py_ssize_t nargs, PyObject *kwnames)          \
    {                                                                        \
        if (nargs == (n) && kwnames == NULL) {                               \
            return impl(self, args, nargs);                                  \
        }                                                                    \
        static const char *const kwlist[] = {__VA_ARGS__, NULL};             \
        PyObject *a[n];                                                      \
        if (ext_parse_args(args, nargs, kwnames, pyname, kwlist, n, a) < 0) {\
            return NULL;                                                     \
        }                                                                    \
        return impl(self, a, n);                                             \
    }

/* Borrowed buffer of bytes-like input; fills `view`. Returns 0 or -1. */
int ext_get_bytes(PyObject *obj, Py_buffer *view, const char *what);

/* ---- wasm input (wat.c) ------------------------------------------------ */

/* Module/Component input: WAT text (a non-empty str, or bytes not starting
 * with NUL) is translated; other bytes-like objects are used as they are. */
typedef struct {
    const uint8_t *data;
    size_t len;
    wasm_byte_vec_t owned; /* translated WAT, if any */
    Py_buffer view;        /* valid when has_view */
    bool has_view;
} ext_wasm_bytes;

int ext_wasm_input(ext_state *st, PyObject *obj, ext_wasm_bytes *out);
void ext_wasm_input_release(ext_wasm_bytes *in);

/* ---- modules (module.c) ------------------------------------------------ */

/* The export names of a Module (a ModuleObject), in module order: a dict
 * used as an ordered set (values None), read on first need, then cached on
 * the Module and shared by its Instances; never mutated.  New reference, or
 * NULL with an exception (ValueError if the Module was closed before). */
PyObject *ext_module_export_names(PyObject *module);

/* ---- types (types/ directory) -------------------------------------------------- */

PyObject *valtype_from_kind(ext_state *st, wasm_valkind_t kind);
/* A new wasm_valtype_t for `kind` (v128 included); NULL on failure. */
wasm_valtype_t *valkind_to_valtype(wasm_valkind_t kind);
/* The kind of `vt`.  Use this, never wasm_valtype_kind(): Wasmtime aborts
 * the process in wasm_valtype_kind() for v128 and for every reference type
 * but nullable externref/funcref. */
wasm_valkind_t ext_valtype_kind(const wasm_valtype_t *vt);
/* Python object for an extern type (copied; the caller keeps `ty`). */
PyObject *externtype_to_py(ext_state *st, const wasm_externtype_t *ty);
PyObject *functype_from_owned(ext_state *st, wasm_functype_t *ty);
PyObject *globaltype_from_owned(ext_state *st, wasm_globaltype_t *ty);
PyObject *tabletype_from_owned(ext_state *st, wasm_tabletype_t *ty);
PyObject *memorytype_from_owned(ext_state *st, wasm_memorytype_t *ty);
PyObject *tagtype_from_owned(ext_state *st, wasm_tagtype_t *ty);
PyObject *importtypes_list(ext_state *st, const wasm_importtype_vec_t *vec);
PyObject *exporttypes_list(ext_state *st, const wasm_exporttype_vec_t *vec);
PyObject *limits_new(ext_state *st, uint64_t min, bool has_max, uint64_t max);
/* The C type held by a *Type object, or NULL with ValueError when closed. */
void *typeobj_get(PyObject *self);

/* ---- values (val.c) ---------------------------------------------------- */

PyObject *val_new_kind(ext_state *st, wasmtime_valkind_t kind, PyObject *value);
/* The wasm.h kind for a wasmtime kind; 255 when there is none. */
wasm_valkind_t ext_wasm_kind_of(wasmtime_valkind_t kind);

/* ---- stores and calls (store.c) --------------------------------------- */

/* Resolve a `store` argument (Store or live Caller), checking it is open and
 * not running wasm on another thread.  0 or -1 with an exception. */
int ext_resolve_store(ext_state *st, PyObject *obj, ext_ctx *out);
/* ext_resolve_store + the handle's own store must be that store. */
int ext_resolve_owner(ext_state *st, PyObject *obj, StoreObject *owner, ext_ctx *out);
/* Bracket wasm execution (must be paired). */
void ext_call_enter(StoreObject *so);
void ext_call_leave(StoreObject *so);
/* After a call: raise the host exception if one is pending, else the trap,
 * else the error (each consumed). 0 when there was none, -1 otherwise. */
int ext_call_finish(ext_state *st, StoreObject *so, wasmtime_error_t *err, wasm_trap_t *trap);
/* Keep `obj` alive as long as the store (for env pointers). 0 or -1. */
int ext_store_keep(StoreObject *so, PyObject *obj);
/* A zero-copy memory buffer of this store was released (memory.c). */
void store_buffer_released(StoreObject *so);
/* Record the current exception as the store's pending host exception. */
void ext_store_set_pending(StoreObject *so);

/* ---- traps (trap.c) ------------------------------------------------------ */

/* Raise a Trap built from `trap` (consumed). Returns NULL. */
PyObject *ext_raise_trap(ext_state *st, wasm_trap_t *trap);
/* "wasm backtrace" text of the frames of `trap` (or, if NULL, of `err`);
 * NULL if there are none. */
PyObject *ext_trap_frames_text(const wasm_trap_t *trap, const wasmtime_error_t *err);

/* ---- values (convert.c) -------------------------------------------------- */

/* wasmtime kind of a wasm.h valtype kind; 255 if it has none. */
wasmtime_valkind_t ext_wasmtime_kind_of(wasm_valkind_t kind);
/* Python -> wasmtime_val_t of wasmtime kind `kind` (the contract's rules).
 * On success the value may hold a rooted reference: ext_val_release it. */
int ext_py_to_val(ext_state *st, ext_ctx *c, PyObject *obj, wasmtime_valkind_t kind,
                  wasmtime_val_t *out);
void ext_val_release(wasmtime_val_t *val);
/* wasmtime_val_t -> Python (does not release `val`). */
PyObject *ext_val_to_py(ext_state *st, ext_ctx *c, const wasmtime_val_t *val);
/* Numeric fast path: i32/i64/f32/f64 only. */
int ext_py_to_raw(PyObject *obj, wasmtime_valkind_t kind, wasmtime_val_raw_t *out);
PyObject *ext_raw_to_py(wasmtime_valkind_t kind, const wasmtime_val_raw_t *raw);
const char *ext_kind_name(wasmtime_valkind_t kind);

/* ---- externs (extern.c) -------------------------------------------------- */

/* Python object for an extern of store `so`; takes ownership of a shared
 * memory inside `ext`. */
PyObject *ext_extern_to_py(ext_state *st, StoreObject *so, wasmtime_extern_t *ext);
/* A Python extern (Func, Global, Table, Memory, Tag, SharedMemory) as a
 * wasmtime_extern_t usable with store `so`; release it with
 * ext_extern_release() (a shared memory is a clone). 0 or -1. */
int ext_py_to_extern(ext_state *st, StoreObject *so, PyObject *obj, wasmtime_extern_t *out);
void ext_extern_release(wasmtime_extern_t *ext);
PyObject *func_wrap(ext_state *st, StoreObject *so, const wasmtime_func_t *f);

/* Host functions (func.c), for Func and Linker.define_func: an env owned by
 * Wasmtime (free it with the finalizer from ext_hostfunc_callbacks); it
 * borrows `callable`, which the owner must keep alive. */
void *ext_hostfunc_new(ext_state *st, const wasm_functype_t *ty, PyObject *callable,
                       bool access_caller, bool *numeric);
void ext_hostfunc_callbacks(wasmtime_func_callback_t *checked,
                            wasmtime_func_unchecked_callback_t *unchecked,
                            void (**finalizer)(void *));

/* Slots shared by the store-bound handle types (extern.c). */
extern PyMemberDef ext_handle_members[]; /* weakref slot of ExternObject types */
int extern_traverse(PyObject *op, visitproc visit, void *arg);
int extern_clear(PyObject *op);
void extern_dealloc(PyObject *op);
PyObject *sharedmemory_wrap(ext_state *st, PyObject *engine, wasmtime_sharedmemory_t *mem);

/* memory.c helpers shared with SharedMemory. */
int ext_grow_delta(ext_state *st, PyObject *obj, uint64_t *delta);
PyObject *ext_ctypes_pointer(ext_state *st, void *addr);
PyObject *ext_ctypes_array(void *addr, size_t size);

/* ---- registration (one per type file) ----------------------------------- */

int managed_register(PyObject *mod, ext_state *st);
int errors_register(PyObject *mod, ext_state *st);
int config_register(PyObject *mod, ext_state *st);
int engine_register(PyObject *mod, ext_state *st);
int store_register(PyObject *mod, ext_state *st);
int module_register(PyObject *mod, ext_state *st);
int wat_register(PyObject *mod, ext_state *st);
int valtype_register(PyObject *mod, ext_state *st);
int typeobjs_register(PyObject *mod, ext_state *st);
int limits_register(PyObject *mod, ext_state *st);
int importexport_register(PyObject *mod, ext_state *st);
int val_register(PyObject *mod, ext_state *st);
int trap_register(PyObject *mod, ext_state *st);
int func_register(PyObject *mod, ext_state *st);
int caller_register(PyObject *mod, ext_state *st);
int externs_register(PyObject *mod, ext_state *st);
int memory_register(PyObject *mod, ext_state *st);
int sharedmemory_register(PyObject *mod, ext_state *st);
int instance_register(PyObject *mod, ext_state *st);
int wasi_register(PyObject *mod, ext_state *st);
int linker_register(PyObject *mod, ext_state *st);
PyObject *store_set_wasi(PyObject *op, PyObject *wasi);
PyObject *store_set_wasi_http(PyObject *op, PyObject *ignored);
/* A new Instance made from `module` (a ModuleObject, which it keeps). */
PyObject *ext_instance_wrap(ext_state *st, StoreObject *so, const wasmtime_instance_t *inst,
                            PyObject *module);
const wasmtime_module_t *ext_module_for_store(ext_state *st, PyObject *module, StoreObject *so);

/* Create a heap type from `spec` with `base` (may be NULL), add it to the
 * module under its short name and return it (strong) or NULL. */
PyTypeObject *ext_add_type(PyObject *mod, PyType_Spec *spec, PyObject *bases);

/* Whether a call into wasm on store `so` must release the GIL.  It need not
 * when no other Python thread exists in this interpreter (nobody could take
 * it, and releasing and re-taking it costs more than a short call) and the
 * store has no WASI context (WASI runs custom output callbacks on a worker
 * thread, which must be able to take the GIL).  A thread started during the
 * call by a host function still runs whenever Python code (a host function)
 * runs, through the interpreter's usual GIL hand-off. */
static inline bool
ext_must_release_gil(const StoreObject *so)
{
    if (so->has_wasi) {
        return true;
    }
    PyThreadState *ts = PyThreadState_Get();
    PyThreadState *head = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(ts));
    return head != ts || PyThreadState_Next(head) != NULL;
}

/* Run `stmt` (which must not touch Python objects) for store `so`, with the
 * GIL released when ext_must_release_gil() says so. */
#define EXT_RUN_WASM(so, stmt)                                                \
    do {                                                                      \
        if (ext_must_release_gil(so)) {                                       \
            Py_BEGIN_ALLOW_THREADS stmt; Py_END_ALLOW_THREADS                 \
        }                                                                     \
        else {                                                                \
            stmt;                                                             \
        }                                                                     \
    } while (0)

/* Weak references, as every wasmtime-py object supports them: the member
 * that declares the slot, and the call at the top of dealloc. */
#define EXT_WEAKREF_MEMBER(type, field)                                       \
    {"__weaklistoffset__", T_PYSSIZET, offsetof(type, field), READONLY, NULL}
#define EXT_CLEAR_WEAKREFS(op, field)                                         \
    do {                                                                      \
        if ((field) != NULL) {                                                \
            PyObject_ClearWeakRefs(op);                                       \
        }                                                                     \
    } while (0)

/* ---- checks -------------------------------------------------------------- */

#define ALREADY_CLOSED() (PyErr_SetString(PyExc_ValueError, "already closed"))

#define CHECK_OPEN(ptr, ret)                                                 \
    do {                                                                     \
        if ((ptr) == NULL) {                                                 \
            ALREADY_CLOSED();                                                \
            return ret;                                                      \
        }                                                                    \
    } while (0)

#endif /* WASMTIME_NATIVE_COMMON_H */
