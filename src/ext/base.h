/* Floor 2 of wasmtime._ext: foundations that know nothing of stores.
 *
 *   errors.c   C errors -> WasmtimeError / ExitTrap
 *   trap.c     wasm_trap_t -> Trap with its Frames
 *   args.c     the FASTCALL argument parser and small argument converters
 *   kinds.c    the one table of value kinds (wasm.h <-> wasmtime.h <-> names)
 *   wat.c      wasm input (WAT text or binary) and wat2wasm
 *   artifact.c a cheap sanity check of serialized modules
 *   ctypes.c   ctypes views of raw addresses (data_ptr, get_buffer_ptr)
 *   managed.c  the Managed base class (close() and the context manager)
 *   types/     the wasm type classes: ValType, FuncType, ..., Limits,
 *              ImportType, ExportType
 *
 * Everything here may be used by floors 3 and 4; nothing here uses them.
 */
#ifndef WASMTIME_NATIVE_BASE_H
#define WASMTIME_NATIVE_BASE_H

#include "state.h"

/* ---- errors (errors.c) --------------------------------------------------- */

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

/* ---- traps (trap.c) ------------------------------------------------------ */

/* Raise a Trap built from `trap` (consumed). Returns NULL. */
PyObject *ext_raise_trap(ext_state *st, wasm_trap_t *trap);
/* Raise `cls` (a Trap subclass) with `message` and the wasm frames of
 * `err` (consumed).  Returns NULL. */
PyObject *ext_raise_trap_class(ext_state *st, PyObject *cls, PyObject *message,
                               wasmtime_error_t *err);
/* "wasm backtrace" text of the frames of `trap` (or, if NULL, of `err`);
 * NULL if there are none. */
PyObject *ext_trap_frames_text(const wasm_trap_t *trap, const wasmtime_error_t *err);

/* ---- arguments (args.c) -------------------------------------------------- */

/* Parse FASTCALL arguments into `out` (NULL where not given).  `kwlist` is a
 * NULL-terminated list of parameter names, the first `nrequired` required.
 * Error texts follow CPython's. Returns 0, or -1 with TypeError set.
 */
int ext_parse_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const char *fname,
                   const char *const *kwlist, Py_ssize_t nrequired, PyObject **out);

/* Let a METH_O implementation also take its argument by name, as
 * wasmtime-py allows: EXT_KW1 defines `impl##_kw`, and EXT_KW1_ENTRY(impl)
 * goes in the method table. */
#define EXT_KW1(impl, pyname, argname)                                                  \
    static PyObject *impl##_kw(PyObject *self, PyObject *const *args, Py_ssize_t nargs, \
                               PyObject *kwnames)                                       \
    {                                                                                   \
        if (nargs == 1 && kwnames == NULL) {                                            \
            return impl(self, args[0]);                                                 \
        }                                                                               \
        static const char *const kwlist[] = {argname, NULL};                            \
        PyObject *a[1];                                                                 \
        if (ext_parse_args(args, nargs, kwnames, pyname, kwlist, 1, a) < 0) {           \
            return NULL;                                                                \
        }                                                                               \
        return impl(self, a[0]);                                                        \
    }
#define EXT_KW1_ENTRY(impl) EXT_FASTCALL_KW(impl##_kw)

/* The same for a positional-only FASTCALL implementation taking exactly the
 * `n` parameters named after `pyname`; EXT_KWN_ENTRY(impl) in the table. */
#define EXT_KWN(impl, pyname, n, ...)                                                   \
    static PyObject *impl##_kw(PyObject *self, PyObject *const *args, Py_ssize_t nargs, \
                               PyObject *kwnames)                                       \
    {                                                                                   \
        if (nargs == (n) && kwnames == NULL) {                                          \
            return impl(self, args, nargs);                                             \
        }                                                                               \
        static const char *const kwlist[] = {__VA_ARGS__, NULL};                        \
        PyObject *a[n];                                                                 \
        if (ext_parse_args(args, nargs, kwnames, pyname, kwlist, n, a) < 0) {           \
            return NULL;                                                                \
        }                                                                               \
        return impl(self, a, n);                                                        \
    }
#define EXT_KWN_ENTRY(impl) EXT_FASTCALL_KW(impl##_kw)

/* Borrowed buffer of bytes-like input; fills `view`. Returns 0 or -1. */
int ext_get_bytes(PyObject *obj, Py_buffer *view, const char *what);

/* Convert an int to u64 without raising: 0 ok, 1 negative, 2 too big,
 * -1 not an int (no exception set).  Runs no Python code: only exact ints
 * and int subclasses are accepted, without __index__. */
int ext_long_as_u64(PyObject *obj, uint64_t *out);

/* A grow delta (Memory.grow, SharedMemory.grow): an int >= 0.  0 or -1. */
int ext_grow_delta(ext_state *st, PyObject *obj, uint64_t *delta);

/* ---- value kinds (kinds.c) ----------------------------------------------- */

/* wasm.h has no name for v128; Wasmtime's own value types can be any
 * reference type, which wasm.h cannot describe: both get a kind of ours.
 * The two "none" sentinels are distinct from every real kind. */
#define EXT_WASM_V128 ((wasm_valkind_t)4)
#define EXT_WASM_OTHERREF ((wasm_valkind_t)254) /* anyref, exnref, (ref func), ... */
#define EXT_NO_WASM_KIND ((wasm_valkind_t)255)
#define EXT_NO_WASMTIME_KIND ((wasmtime_valkind_t)255)

/* Name of a wasmtime kind ("i32", ..., "unknown"). */
const char *ext_kind_name(wasmtime_valkind_t kind);
/* Name of a wasm.h kind, or NULL for EXT_WASM_OTHERREF and unknown kinds. */
const char *ext_wasm_kind_name(wasm_valkind_t kind);
/* wasmtime kind of a wasm.h kind; EXT_NO_WASMTIME_KIND if it has none. */
wasmtime_valkind_t ext_wasmtime_kind_of(wasm_valkind_t kind);
/* wasm.h kind of a wasmtime kind; EXT_NO_WASM_KIND if it has none. */
wasm_valkind_t ext_wasm_kind_of(wasmtime_valkind_t kind);

/* ---- wasm input (wat.c) -------------------------------------------------- */

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
/* The whole file at `path` (str, bytes or os.PathLike; never an int, which
 * io.open would take as a descriptor and close) as a new bytes object. */
PyObject *ext_read_file(PyObject *path);
void ext_wasm_input_release(ext_wasm_bytes *in);

/* ---- serialized modules (artifact.c) -------------------------------------- */

/* Cheap checks of a serialized module before Wasmtime sees it: 0, or -1 with
 * WasmtimeError.  The _file form reads the file at `path` (a bytes path). */
int ext_artifact_check(ext_state *st, const unsigned char *data, size_t len);
int ext_artifact_check_file(ext_state *st, PyObject *path);

/* ---- ctypes (ctypes.c) --------------------------------------------------- */

/* ctypes.cast(addr, ctypes.POINTER(ctypes.c_ubyte)) */
PyObject *ext_ctypes_pointer(ext_state *st, void *addr);
/* (ctypes.c_ubyte * size).from_address(addr) */
PyObject *ext_ctypes_array(void *addr, size_t size);

/* ---- wasm types (types/) ------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    wasm_valkind_t kind;
    bool closed;
    /* kind EXT_WASM_OTHERREF (references beyond nullable externref and
     * funcref): whether null is allowed, and the heap type, a
     * wasmtime_heaptype_kind_t (EXT_HEAP_UNKNOWN when not known).  Only
     * abstract heap types can build types from Python. */
    bool nullable;
    uint8_t heap;
} ValTypeObject;

#define EXT_HEAP_UNKNOWN 0xff

/* FuncType, GlobalType, TableType, MemoryType and TagType all hold one owned
 * wasm_*type_t pointer; they share this layout. */
typedef struct {
    PyObject_HEAD
    void *ty; /* owned wasm_{func,global,table,memory,tag}type_t; NULL once closed */
    ext_state *st;
} WasmTypeObject;

typedef struct {
    PyObject_HEAD
    PyObject *min; /* strong */
    PyObject *max; /* strong (None for unbounded) */
} LimitsObject;

/* FieldType (types/fieldtype.c): a plain value, no C pointer. */
typedef struct {
    PyObject_HEAD
    PyObject *storage; /* strong: a ValType, or the str "i8" / "i16" */
    bool mutable_;
} FieldTypeObject;

PyObject *valtype_from_kind(ext_state *st, wasm_valkind_t kind);
/* A new ValType describing `vt` (the caller keeps `vt`). */
PyObject *valtype_from_c(ext_state *st, const wasm_valtype_t *vt);
/* A new wasm_valtype_t for the ValType `obj`; NULL with TypeError (not a
 * ValType: `expected` names what was), ValueError (closed) or WasmtimeError
 * (a concrete reference type, which only the engine it came from knows). */
wasm_valtype_t *ext_valtype_to_c(ext_state *st, PyObject *obj, const char *expected);
/* Whether `vt` is a reference type to a concrete (engine-registered) heap
 * type: such a type cannot be copied away from its engine. */
bool ext_valtype_is_concrete_ref(const wasm_valtype_t *vt);
/* A new FieldType describing `ft` (the caller keeps `ft`). */
PyObject *fieldtype_from_c(ext_state *st, const wasmtime_field_type_t *ft);
/* Fill `out` from a FieldType; the caller deletes it with
 * wasmtime_field_type_delete().  0, or -1 with an exception. */
int fieldtype_to_c(ext_state *st, PyObject *obj, wasmtime_field_type_t *out);
/* The kind of `vt`.  Use this, never wasm_valtype_kind(): Wasmtime aborts
 * the process in wasm_valtype_kind() for v128 and for every reference type
 * but nullable externref/funcref. */
wasm_valkind_t ext_valtype_kind(const wasm_valtype_t *vt);
/* The wasmtime value kind of `vt`: as ext_valtype_kind, plus WASMTIME_ANYREF
 * for every type of the any hierarchy (anyref, eqref, i31ref, structref,
 * arrayref, concrete and non-null ones) and WASMTIME_EXNREF for the exn
 * hierarchy; EXT_NO_WASMTIME_KIND otherwise. */
wasmtime_valkind_t ext_valtype_wasmtime_kind(const wasm_valtype_t *vt);
/* A new wasm_valtype_t for `kind` (v128 included); NULL on failure. */
wasm_valtype_t *valkind_to_valtype(wasm_valkind_t kind);
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
/* A new function type equal to `ty`, bound to no engine.  Wasmtime's C API
 * binds a wasm_functype_t (and a tag type made from one) to the first engine
 * that uses it, and aborts the process when another engine uses it later;
 * every use with an engine therefore goes through a fresh copy.  NULL with
 * WasmtimeError for a type holding engine-bound reference types. */
wasm_functype_t *ext_functype_unbound(ext_state *st, const wasm_functype_t *ty);
/* The C type held by a wasm type object, or NULL with ValueError when closed. */
void *wasmtype_get(PyObject *self);

#endif /* WASMTIME_NATIVE_BASE_H */
