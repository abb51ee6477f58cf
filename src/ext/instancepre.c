/* InstancePre: a module whose imports a Linker has resolved once, ready to
 * instantiate quickly in any Store of the engine (wraps the instance_pre
 * part of wasmtime/instance.h and wasmtime/linker.h).
 *
 * Made by Linker.instantiate_pre (linker.c).  It owns its
 * wasmtime_instance_pre_t (release point: close()/clear), holds its Engine,
 * and keeps the Linker's callables as they were when it was made: every
 * Store it instantiates into keeps them too, since its host functions
 * borrow them.  Instantiation releases the GIL; close() is refused while one
 * runs.
 */
#include "runtime.h"

static PyObject *
instancepre_instantiate(PyObject *op, PyObject *store)
{
    InstancePreObject *self = (InstancePreObject *)op;
    ext_state *st = self->st;
    EXT_CHECK_OPEN(self->pre, NULL);
    ext_ctx c;
    if (ext_resolve_store(st, store, &c) < 0) {
        return NULL;
    }
    if (c.so->engine != self->engine) {
        return ext_raise_msg(st, "the Store belongs to another Engine than the InstancePre");
    }
    if (self->imports_wasi && !c.so->has_wasi) {
        return ext_no_wasi_context(st), NULL;
    }
    if (ext_store_keep(c.so, self->host_objects) < 0) {
        return NULL;
    }
    c.so->async_only |= self->has_async;
    if (ext_sync_call_ok(c.so) < 0) {
        return NULL;
    }
    wasmtime_instance_t inst;
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    if (ext_call_enter(c.so) < 0) {
        return NULL;
    }
    self->busy++;
    EXT_RUN_WASM_NOGIL(
        c.so, err = wasmtime_instance_pre_instantiate(EXT_LIVE(self, pre), c.ctx, &inst, &trap));
    ext_call_leave(c.so);
    self->busy--;
    if (ext_call_finish(st, c.so, err, trap) < 0) {
        return ext_exn_after_call(st, &c), NULL;
    }
    return ext_instance_wrap(st, c.so, &inst, self->module);
}

/* instance_pre.instantiate_async(store): a coroutine (asynccall.c). */
static PyObject *
instancepre_instantiate_async(PyObject *op, PyObject *store)
{
    InstancePreObject *self = (InstancePreObject *)op;
    ext_state *st = self->st;
    EXT_CHECK_OPEN(self->pre, NULL);
    ext_ctx c;
    if (ext_resolve_store(st, store, &c) < 0) {
        return NULL;
    }
    if (c.so->engine != self->engine) {
        return ext_raise_msg(st, "the Store belongs to another Engine than the InstancePre");
    }
    if (self->imports_wasi && !c.so->has_wasi) {
        return ext_no_wasi_context(st), NULL;
    }
    if (ext_store_keep(c.so, self->host_objects) < 0) {
        return NULL;
    }
    c.so->async_only |= self->has_async;
    return ext_async_pre_instantiate(self, &c);
}

static PyObject *
instancepre_module(PyObject *op, void *Py_UNUSED(closure))
{
    InstancePreObject *self = (InstancePreObject *)op;
    EXT_CHECK_OPEN(self->pre, NULL);
    ModuleObject *m = PyObject_GC_New(ModuleObject, self->st->Module_Type);
    if (m == NULL) {
        return NULL;
    }
    m->weakreflist = NULL;
    m->retired = NULL;
    m->module = wasmtime_instance_pre_module(EXT_LIVE(self, pre));
    m->engine = Py_NewRef(self->engine);
    m->export_names = Py_XNewRef(((ModuleObject *)self->module)->export_names);
    m->custom_sections = Py_XNewRef(((ModuleObject *)self->module)->custom_sections);
    m->has_users = false;
    m->st = self->st;
    PyObject_GC_Track(m);
    return (PyObject *)m;
}

static PyObject *
instancepre_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    InstancePreObject *self = (InstancePreObject *)op;
    if (self->busy > 0) {
        PyErr_SetString(PyExc_RuntimeError,
                        "cannot close an InstancePre while it is instantiating");
        return NULL;
    }
    Py_BEGIN_CRITICAL_SECTION(op);
    EXT_RETIRE(self, pre, wasmtime_instance_pre_delete);
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static int
instancepre_traverse(PyObject *op, visitproc visit, void *arg)
{
    InstancePreObject *self = (InstancePreObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->engine);
    Py_VISIT(self->host_objects);
    Py_VISIT(self->module);
    return 0;
}

static int
instancepre_clear(PyObject *op)
{
    InstancePreObject *self = (InstancePreObject *)op;
    /* Not while a suspended instantiate_async uses it (see linker_clear). */
    if (self->pre != NULL && self->busy == 0) {
        wasmtime_instance_pre_delete(self->pre);
        self->pre = NULL;
    }
    EXT_DELETE_RETIRED(self, wasmtime_instance_pre_t, wasmtime_instance_pre_delete);
    if (self->pre == NULL) {
        Py_CLEAR(self->host_objects);
    }
    Py_CLEAR(self->module);
    Py_CLEAR(self->engine);
    return 0;
}

static void
instancepre_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)instancepre_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(instancepre_instantiate, "instantiate", "store")
EXT_KW1(instancepre_instantiate_async, "instantiate_async", "store")

static PyMethodDef instancepre_methods[] = {
    {"instantiate", EXT_KW1_ENTRY(instancepre_instantiate),
     "instantiate($self, store)\n--\n\nA new Instance in `store`."},
    {"instantiate_async", EXT_KW1_ENTRY(instancepre_instantiate_async),
     "instantiate_async($self, store)\n--\n\nA coroutine: await it for what "
     "instantiate(store) returns (needed once the Store is async-only)."},
    {"close", instancepre_close, METH_NOARGS, "close($self, /)\n--\n\nFree it."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef instancepre_getset[] = {
    {"module", instancepre_module, NULL, "The Module (a new handle each time).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot instancepre_slots[] = {
    {Py_tp_dealloc, instancepre_dealloc},
    {Py_tp_traverse, instancepre_traverse},
    {Py_tp_clear, instancepre_clear},
    {Py_tp_methods, instancepre_methods},
    {Py_tp_getset, instancepre_getset},
    {Py_tp_doc, "A module with its imports resolved by a Linker, ready to instantiate."},
    {0, NULL},
};

static PyType_Spec instancepre_spec = {
    .name = "wasmtime.InstancePre",
    .basicsize = sizeof(InstancePreObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = instancepre_slots,
};

int
instancepre_register(PyObject *mod, ext_state *st)
{
    st->InstancePre_Type = ext_add_type(mod, &instancepre_spec, (PyObject *)st->Managed_Type);
    return st->InstancePre_Type == NULL ? -1 : 0;
}
