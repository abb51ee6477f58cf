/* Floor 1 of wasmtime._ext: the module state and the idioms every file uses.
 *
 * The module state owns every type object and exception class; nothing of
 * Python lives in a C global.  This header also holds the one closed-object
 * check, the method-table macros and the exception save/restore helpers, so
 * each concern has a single spelling across the extension.
 *
 * Floors (docs/architecture.md): 1 state, 2 foundations (base.h), 3 runtime
 * (runtime.h), 4 one file per Python type, 5 extension.c.  A file includes
 * only the header of its own floor or a lower one; tests/test_layering.py
 * checks that and that no file calls a function of a higher floor.
 */
#ifndef WASMTIME_NATIVE_STATE_H
#define WASMTIME_NATIVE_STATE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <wasi.h>
#include <wasm.h>
#include <wasmtime.h>

/* ---- free-threaded builds ------------------------------------------------
 *
 * On a free-threaded CPython (Py_GIL_DISABLED) several threads run this
 * extension at once; docs/architecture.md, "Threads and the GIL", lists what
 * guards what.  Per-object critical sections and the strong-reference dict
 * access exist from 3.13; on older versions, which always have a GIL, these
 * shims give the same spelling: a critical section is a plain block (the GIL
 * is the lock) and the GetItemRef forms take the reference themselves. */
#if PY_VERSION_HEX < 0x030D0000
#define Py_BEGIN_CRITICAL_SECTION(op) {
#define Py_END_CRITICAL_SECTION() }
static inline int
PyDict_GetItemRef(PyObject *d, PyObject *key, PyObject **result)
{
    PyObject *v = PyDict_GetItemWithError(d, key);
    *result = Py_XNewRef(v);
    return v != NULL ? 1 : (PyErr_Occurred() ? -1 : 0);
}
static inline PyObject *
PyList_GetItemRef(PyObject *list, Py_ssize_t i)
{
    return Py_XNewRef(PyList_GetItem(list, i));
}
#endif

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
    PyTypeObject *StoreContext_Type;
    /* wasmtime.component (src/ext/component/), added to `component_mod` */
    PyObject *component_mod; /* strong: the module wasmtime._ext.component */
    PyTypeObject *CComponent_Type;
    PyTypeObject *CExportIndex_Type;
    PyTypeObject *CLinker_Type;
    PyTypeObject *CLinkerInstance_Type;
    PyTypeObject *CInstance_Type;
    PyTypeObject *CFunc_Type;
    PyTypeObject *CFuncType_Type;
    PyTypeObject *CComponentType_Type;
    PyTypeObject *CInstanceType_Type;
    PyTypeObject *CModuleType_Type;
    PyTypeObject *CExtern_Type;
    PyTypeObject *CResourceType_Type;
    PyTypeObject *CResourceAny_Type;
    PyTypeObject *CResourceHost_Type;
    PyTypeObject *CValType_Type;
    PyTypeObject *CVariantLike_Type;
    PyTypeObject *CVariant_Type;
    PyTypeObject *CRecord_Type;
    /* The value type class of each WASMTIME_COMPONENT_VALTYPE_* kind
     * (borrowed: component_mod holds them). */
    PyTypeObject *cvaltypes[32];
    vectorcallfunc cfunc_vectorcall; /* component Func's, set by component/func.c */
    PyTypeObject *ExternRef_Type;
    PyTypeObject *AnyRef_Type;
    PyTypeObject *EqRef_Type;
    PyTypeObject *StructRef_Type;
    PyTypeObject *ArrayRef_Type;
    PyTypeObject *ExnRef_Type;
    PyTypeObject *FieldType_Type;
    PyTypeObject *StructType_Type;
    PyTypeObject *ArrayType_Type;
    PyObject *Trap;          /* strong: exception class */
    PyObject *TrapCode;      /* strong or NULL: wasmtime._enums.TrapCode, loaded lazily */
    PyObject *ctypes_ptr;    /* strong or NULL: ctypes.POINTER(ctypes.c_ubyte), lazily */
    bool exports_registered; /* InstanceExports registered as a Mapping */
    PyObject *WasmtimeError; /* strong: exception class */
    PyObject *ExitTrap;      /* strong: exception class */
    PyObject *ArgTypeError;  /* strong: TypeError + AttributeError subclass */
    PyObject *str_message;   /* strong: interned "_message" */
    PyObject *str_code;      /* strong: interned "code" */
    /* Interned attribute names of wasmtime.bindgen's generated classes. */
    PyObject *str_value;  /* "value": variant cases, Ok, Err, Some */
    PyObject *str_handle; /* "_handle": a resource's ResourceAny */
    PyObject *str_owner;  /* "_owner": a resource's interface object */
    PyObject *str_store;  /* "_store": a resource's Store */
    PyObject *str_fvalue; /* "_value_": a Flag member's bits */
    PyObject *empty_tuple;
    /* Func's vectorcall entry, set when func.c registers the type: lower
     * floors create Func objects (a funcref result, a Linker lookup) without
     * calling up into func.c. */
    vectorcallfunc func_vectorcall;
    /* asyncio: the CallFuture type, the glue coroutine function
     * (wasmtime._async._drive, loaded on first use) and the closer that
     * ext_store_release calls for a live future (set by callfuture.c). */
    PyTypeObject *CallFuture_Type;
    PyObject *async_drive;
    void (*future_abort)(PyObject *future);
} ext_state;

/* Every Python object field of ext_state, for the module's traverse/clear. */
/* clang-format off */
#define EXT_STATE_FIELDS(X)                                                   \
    X(Managed_Type) X(Config_Type) X(Engine_Type) X(Store_Type)              \
    X(Module_Type) X(ValType_Type) X(FuncType_Type) X(GlobalType_Type)       \
    X(TableType_Type) X(MemoryType_Type) X(TagType_Type) X(Limits_Type)      \
    X(ImportType_Type) X(ExportType_Type) X(Val_Type) X(WasmtimeError)       \
    X(ExitTrap) X(ArgTypeError) X(str_message) X(str_code) X(Func_Type)      \
    X(Caller_Type) X(Global_Type) X(Table_Type) X(Memory_Type)               \
    X(MemoryView_Type) X(SharedMemory_Type) X(Tag_Type) X(Instance_Type)     \
    X(InstanceExports_Type) X(Frame_Type) X(Trap) X(TrapCode) X(ctypes_ptr)  \
    X(WasiConfig_Type) X(Linker_Type) X(InstancePre_Type)                 \
    X(StoreContext_Type) X(component_mod) X(CComponent_Type)                 \
    X(CExportIndex_Type) X(CLinker_Type) X(CLinkerInstance_Type)             \
    X(CInstance_Type) X(CFunc_Type) X(CFuncType_Type) X(CComponentType_Type) \
    X(CInstanceType_Type) X(CModuleType_Type) X(CExtern_Type)                \
    X(CResourceType_Type) X(CResourceAny_Type) X(CResourceHost_Type)         \
    X(CValType_Type) X(CVariantLike_Type) X(CVariant_Type) X(CRecord_Type) \
    X(ExternRef_Type) X(AnyRef_Type) X(EqRef_Type) X(StructRef_Type)        \
    X(ArrayRef_Type) X(ExnRef_Type) X(FieldType_Type) X(StructType_Type)   \
    X(ArrayType_Type) X(str_value) X(str_handle) X(str_owner) X(str_store)  \
    X(str_fvalue) X(empty_tuple) X(CallFuture_Type)  \
    X(async_drive)
/* clang-format on */

/* The module definition (set once by PyInit__ext in extension.c). */
extern PyModuleDef *ext_def;

#if PY_VERSION_HEX < 0x030B0000
/* Python 3.10 lacks PyType_GetModuleByDef (3.11): the same walk over the MRO
 * for the first heap type whose module was made from `def`.  Returns a
 * borrowed reference, like the real one. */
static inline PyObject *
ext_type_module_by_def(PyTypeObject *tp, PyModuleDef *def)
{
    PyObject *mro = tp->tp_mro;
    Py_ssize_t n = mro == NULL ? 0 : PyTuple_GET_SIZE(mro);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTypeObject *t = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
            continue;
        }
        PyObject *mod = ((PyHeapTypeObject *)t)->ht_module;
        if (mod != NULL && PyModule_GetDef(mod) == def) {
            return mod;
        }
    }
    PyErr_Format(PyExc_TypeError, "no superclass of '%s' belongs to module wasmtime._ext",
                 tp->tp_name);
    return NULL;
}
#define PyType_GetModuleByDef ext_type_module_by_def
#endif

/* The state of the module that defined `tp` (or one of its bases). */
static inline ext_state *
ext_state_from_type(PyTypeObject *tp)
{
    PyObject *mod = PyType_GetModuleByDef(tp, ext_def);
    if (mod == NULL) {
        return NULL;
    }
    return (ext_state *)PyModule_GetState(mod);
}

/* Flags of every type the extension defines: immutable like CPython's own
 * extension types, so nobody can monkeypatch a method out from under us. */
#define EXT_TPFLAGS (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE)

/* Create a heap type from `spec` with `bases` (may be NULL), add it to the
 * module under its short name and return it (strong) or NULL. */
PyTypeObject *ext_add_type(PyObject *mod, PyType_Spec *spec, PyObject *bases);
/* The same for a type of wasmtime.component: it is added to the submodule
 * `wasmtime._ext.component` (created on first use), whose names would clash
 * with the core ones (Linker, Func, Instance, ...). */
PyTypeObject *ext_add_component_type(PyObject *mod, PyType_Spec *spec, PyObject *bases);
/* WasmtimeError("Cannot directly construct a `NAME`"): tp_new of the types
 * only the runtime creates. */
PyObject *ext_no_construct(PyTypeObject *type, PyObject *args, PyObject *kwds);

/* ---- the closed/consumed check ----------------------------------------- */

/* A Managed object whose C pointer is NULL has been closed or consumed.
 * EXT_CHECK_OPEN is the one spelling of that check. */
#define ALREADY_CLOSED() (PyErr_SetString(PyExc_ValueError, "already closed"))

#define EXT_CHECK_OPEN(ptr, ret) \
    do {                         \
        if ((ptr) == NULL) {     \
            ALREADY_CLOSED();    \
            return ret;          \
        }                        \
    } while (0)

/* close() of an object several threads may share (Engine, Module, Linker,
 * SharedMemory, Component, component Linker).  Without a GIL, another thread
 * may have read the C pointer just before close() cleared it and still be
 * using it; so on a free-threaded build close() only retires the C object
 * (the object's `retired` field), and dealloc deletes it, when no thread can
 * hold the Python object any more.  With the GIL, every reader uses the
 * pointer or clones it under the GIL, and close() deletes at once.  Either
 * way the object reads as closed from then on. */
#ifdef Py_GIL_DISABLED
#define EXT_RETIRE(obj, field, del)                    \
    do {                                               \
        if ((obj)->field != NULL) {                    \
            (obj)->retired = (void *)(obj)->field;     \
            atomic_thread_fence(memory_order_release); \
            (obj)->field = NULL;                       \
        }                                              \
    } while (0)
#else
#define EXT_RETIRE(obj, field, del) \
    do {                            \
        if ((obj)->field != NULL) { \
            del((obj)->field);      \
            (obj)->field = NULL;    \
        }                           \
    } while (0)
#endif
/* The C object of such an object, for a caller that found it open: on a
 * free-threaded build a close() since then has retired it, and the retired
 * object is still valid (EXT_RETIRE stores `retired` before it clears the
 * field).  With the GIL, just the field. */
#ifdef Py_GIL_DISABLED
#define EXT_LIVE(obj, field)                                              \
    __extension__({                                                       \
        __typeof__((obj)->field) live_ = (obj)->field;                    \
        atomic_thread_fence(memory_order_acquire);                        \
        live_ != NULL ? live_ : (__typeof__((obj)->field))(obj)->retired; \
    })
#else
#define EXT_LIVE(obj, field) ((obj)->field)
#endif
/* Delete what EXT_RETIRE kept (dealloc / tp_clear). */
#define EXT_DELETE_RETIRED(obj, type, del) \
    do {                                   \
        if ((obj)->retired != NULL) {      \
            del((type *)(obj)->retired);   \
            (obj)->retired = NULL;         \
        }                                  \
    } while (0)

/* ---- method tables ------------------------------------------------------- */

/* Method-table entries: `impl` with its calling convention.  These, with
 * EXT_KW1_ENTRY/EXT_KWN_ENTRY (base.h), are the only spellings of a cast in
 * a method table. */
#define EXT_FASTCALL(impl) (PyCFunction)(void (*)(void))(impl), METH_FASTCALL
#define EXT_FASTCALL_KW(impl) (PyCFunction)(void (*)(void))(impl), METH_FASTCALL | METH_KEYWORDS
#define EXT_FASTCALL_KW_CLASS(impl) \
    (PyCFunction)(void (*)(void))(impl), METH_FASTCALL | METH_KEYWORDS | METH_CLASS

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

/* ---- weak references ----------------------------------------------------- */

/* Every wasmtime-py object supports weak references: the member that
 * declares the slot, and the call at the top of dealloc. */
#define EXT_WEAKREF_MEMBER(type, field) \
    {"__weaklistoffset__", T_PYSSIZET, offsetof(type, field), READONLY, NULL}
#define EXT_CLEAR_WEAKREFS(op, field)   \
    do {                                \
        if ((field) != NULL) {          \
            PyObject_ClearWeakRefs(op); \
        }                               \
    } while (0)

/* ---- the current exception ----------------------------------------------- */

/* Take the raised exception (normalized, traceback attached) or NULL:
 * PyErr_GetRaisedException where it exists, its equivalent before 3.12. */
static inline PyObject *
ext_exc_take(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        return NULL;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_DECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/* Raise `exc` again (stolen; NULL raises nothing). */
static inline void
ext_exc_restore(PyObject *exc)
{
    if (exc == NULL) {
        return;
    }
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
#endif
}

#endif /* WASMTIME_NATIVE_STATE_H */
