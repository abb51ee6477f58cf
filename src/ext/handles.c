/* Floor 3: store-bound handles (wraps wasmtime/extern.h and the handle
 * parts of func.h, instance.h and sharedmemory.h).
 *
 * A handle object is {store (strong), C handle}; the C handle has no
 * destructor because the Store owns the item, so the Store must outlive the
 * object.  This file creates the Python objects for C handles (externs,
 * funcs, callers, instances, shared memories) and turns Python externs back
 * into C ones, refusing a handle of another Store before Wasmtime sees it
 * (Wasmtime aborts the process on a wrong-store handle).
 */
#include "runtime.h"

PyObject *
ext_handle_new(PyTypeObject *tp, StoreObject *so, const wasmtime_extern_t *ext)
{
    ExternObject *self = PyObject_GC_New(ExternObject, tp);
    if (self == NULL) {
        return NULL;
    }
    self->store = (StoreObject *)Py_NewRef(so);
    self->ext = *ext;
    self->weakreflist = NULL;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

PyObject *
ext_func_wrap(ext_state *st, StoreObject *so, const wasmtime_func_t *f)
{
    FuncObject *self = PyObject_GC_New(FuncObject, st->Func_Type);
    if (self == NULL) {
        return NULL;
    }
    self->base.store = (StoreObject *)Py_NewRef(so);
    self->base.ext.kind = WASMTIME_EXTERN_FUNC;
    self->base.ext.of.func = *f;
    self->base.weakreflist = NULL;
    self->vectorcall = st->func_vectorcall;
    self->nparams = -1;
    self->nresults = -1;
    self->numeric = false;
    self->has_refs = false;
    self->kinds = NULL;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

PyObject *
ext_caller_new(ext_state *st, StoreObject *so, wasmtime_caller_t *caller)
{
    CallerObject *self = PyObject_GC_New(CallerObject, st->Caller_Type);
    if (self == NULL) {
        return NULL;
    }
    self->caller = caller;
    self->store = (StoreObject *)Py_NewRef(so);
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

PyObject *
ext_instance_wrap(ext_state *st, StoreObject *so, const wasmtime_instance_t *inst,
                  PyObject *module)
{
    InstanceObject *self = PyObject_GC_New(InstanceObject, st->Instance_Type);
    if (self == NULL) {
        return NULL;
    }
    self->store = (StoreObject *)Py_NewRef(so);
    self->instance = *inst;
    self->exports = NULL;
    self->module = Py_NewRef(module);
    ((ModuleObject *)module)->has_users = true;
    self->weakreflist = NULL;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

PyObject *
ext_sharedmemory_wrap(ext_state *st, PyObject *engine, wasmtime_sharedmemory_t *mem)
{
    SharedMemoryObject *self = PyObject_GC_New(SharedMemoryObject, st->SharedMemory_Type);
    if (self == NULL) {
        wasmtime_sharedmemory_delete(mem);
        return NULL;
    }
    self->mem = mem;
    self->retired = NULL;
    self->engine = Py_NewRef(engine);
    self->st = st;
    self->weakreflist = NULL;
    self->exports = 0;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

PyObject *
ext_extern_to_py(ext_state *st, StoreObject *so, wasmtime_extern_t *ext)
{
    switch (ext->kind) {
    case WASMTIME_EXTERN_FUNC: return ext_func_wrap(st, so, &ext->of.func);
    case WASMTIME_EXTERN_GLOBAL: return ext_handle_new(st->Global_Type, so, ext);
    case WASMTIME_EXTERN_TABLE: return ext_handle_new(st->Table_Type, so, ext);
    case WASMTIME_EXTERN_MEMORY: return ext_handle_new(st->Memory_Type, so, ext);
    case WASMTIME_EXTERN_TAG: return ext_handle_new(st->Tag_Type, so, ext);
    case WASMTIME_EXTERN_SHAREDMEMORY: {
        wasmtime_sharedmemory_t *mem = ext->of.sharedmemory;
        ext->of.sharedmemory = NULL; /* ownership moves to the Python object */
        return ext_sharedmemory_wrap(st, so->engine, mem);
    }
    default:
        wasmtime_extern_delete(ext);
        return ext_raise_msg(st, "unknown extern kind %d", (int)ext->kind);
    }
}

int
ext_py_to_extern(ext_state *st, StoreObject *so, PyObject *obj, wasmtime_extern_t *out)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (tp == st->Func_Type || tp == st->Global_Type || tp == st->Table_Type ||
        tp == st->Memory_Type || tp == st->Tag_Type) {
        ExternObject *e = (ExternObject *)obj;
        if (e->store != so) {
            ext_raise_msg(st,
                          "object used with the wrong store: this %s belongs to another "
                          "Store",
                          tp->tp_name);
            return -1;
        }
        *out = e->ext;
        return 0;
    }
    if (tp == st->SharedMemory_Type) {
        SharedMemoryObject *m = (SharedMemoryObject *)obj;
        EXT_CHECK_OPEN(m->mem, -1);
        if (m->engine != so->engine) {
            ext_raise_msg(st, "this SharedMemory belongs to another Engine than the Store");
            return -1;
        }
        out->kind = WASMTIME_EXTERN_SHAREDMEMORY;
        /* A clone: the SharedMemory may be closed by another thread while
         * the GIL is released; release it with ext_extern_release(). */
        out->of.sharedmemory = wasmtime_sharedmemory_clone(m->mem);
        return 0;
    }
    ext_wrong_type(st, "a Func, Global, Memory, SharedMemory, Tag, or Table", obj);
    return -1;
}

void
ext_extern_release(wasmtime_extern_t *ext)
{
    if (ext->kind == WASMTIME_EXTERN_SHAREDMEMORY && ext->of.sharedmemory != NULL) {
        wasmtime_sharedmemory_delete(ext->of.sharedmemory);
        ext->of.sharedmemory = NULL;
    }
}

const wasmtime_module_t *
ext_module_of_engine(ext_state *st, PyObject *module, PyObject *engine, const char *owner)
{
    if (!PyObject_TypeCheck(module, st->Module_Type)) {
        ext_wrong_type(st, "a Module", module);
        return NULL;
    }
    ModuleObject *m = (ModuleObject *)module;
    EXT_CHECK_OPEN(m->module, NULL);
    if (m->engine != engine) {
        ext_raise_msg(st, "the Module was compiled by another Engine than the %s's", owner);
        return NULL;
    }
    return EXT_LIVE(m, module);
}

PyObject *
ext_module_export_names(PyObject *module)
{
    ModuleObject *self = (ModuleObject *)module;
    if (self->export_names != NULL) {
        return Py_NewRef(self->export_names);
    }
    EXT_CHECK_OPEN(self->module, NULL);
    /* Not at compile time: wasmtime_module_exports also builds every export's
     * type, about a microsecond each, as much as deserializing the module. */
    wasm_exporttype_vec_t vec;
    wasmtime_module_exports(EXT_LIVE(self, module), &vec);
    PyObject *names = PyDict_New();
    for (size_t i = 0; names != NULL && i < vec.size; i++) {
        PyObject *name = ext_str_from_name(wasm_exporttype_name(vec.data[i]));
        if (name == NULL || PyDict_SetItem(names, name, Py_None) < 0) {
            Py_CLEAR(names);
        }
        Py_XDECREF(name);
    }
    wasm_exporttype_vec_delete(&vec);
    if (names == NULL) {
        return NULL;
    }
    /* An allocation above may have run a finalizer that got here first, or
     * (without a GIL) another thread: the first one published stays. */
    Py_BEGIN_CRITICAL_SECTION(module);
    if (self->export_names == NULL) {
        self->export_names = Py_NewRef(names);
    }
    else {
        Py_SETREF(names, Py_NewRef(self->export_names));
    }
    Py_END_CRITICAL_SECTION();
    return names;
}

/* ---- slots shared by the handle types ------------------------------------ */

PyMemberDef ext_handle_members[] = {
    EXT_WEAKREF_MEMBER(ExternObject, weakreflist),
    {NULL, 0, 0, 0, NULL},
};

int
ext_handle_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((ExternObject *)op)->store);
    return 0;
}

int
ext_handle_clear(PyObject *op)
{
    Py_CLEAR(((ExternObject *)op)->store);
    return 0;
}

void
ext_handle_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    EXT_CLEAR_WEAKREFS(op, ((ExternObject *)op)->weakreflist);
    (void)ext_handle_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}
