/* Instance (wasmtime.component): an instantiated component (wraps
 * wasmtime/component/instance.h).
 *
 * A plain handle {store_id, index} with no destructor; the object holds its
 * Store strongly.  Wasmtime panics (aborting the process) when an instance
 * is used with another store, so every method resolves its `store`
 * argument against the instance's own Store first.
 */
#include "component.h"

static int
cinstance_ctx(CInstanceObject *self, PyObject *store, ext_ctx *c)
{
    return ext_resolve_owner(self->store->st, store, self->store, c);
}

/* The UTF-8 of `name` (a str); NULL with an exception. */
static const char *
cinstance_name(ext_state *st, PyObject *name, Py_ssize_t *len)
{
    if (!PyUnicode_Check(name)) {
        ext_wrong_type(st, "a str", name);
        return NULL;
    }
    return PyUnicode_AsUTF8AndSize(name, len);
}

static PyObject *
cinstance_get_export_index(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    CInstanceObject *self = (CInstanceObject *)op;
    ext_state *st = self->store->st;
    static const char *const kwlist[] = {"store", "name", "instance", NULL};
    PyObject *a[3];
    if (ext_parse_args(args, nargs, kwnames, "get_export_index", kwlist, 2, a) < 0) {
        return NULL;
    }
    Py_ssize_t len;
    const char *name = cinstance_name(st, a[1], &len);
    if (name == NULL) {
        return NULL;
    }
    const wasmtime_component_export_index_t *parent = NULL;
    if (a[2] != NULL && a[2] != Py_None) {
        if (!PyObject_TypeCheck(a[2], st->CExportIndex_Type)) {
            return ext_wrong_type(st, "an ExportIndex or None", a[2]);
        }
        parent = ((CExportIndexObject *)a[2])->index;
        EXT_CHECK_OPEN(parent, NULL);
    }
    ext_ctx c;
    if (cinstance_ctx(self, a[0], &c) < 0) {
        return NULL;
    }
    wasmtime_component_export_index_t *idx = wasmtime_component_instance_get_export_index(
        &self->instance, c.ctx, parent, name, (size_t)len);
    if (idx == NULL) {
        Py_RETURN_NONE;
    }
    return cexportindex_wrap(st, idx);
}

static PyObject *
cinstance_get_func(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    CInstanceObject *self = (CInstanceObject *)op;
    ext_state *st = self->store->st;
    const char *name = NULL;
    Py_ssize_t len = 0;
    const wasmtime_component_export_index_t *idx = NULL;
    if (PyUnicode_Check(args[1])) {
        name = PyUnicode_AsUTF8AndSize(args[1], &len);
        if (name == NULL) {
            return NULL;
        }
    }
    else if (PyObject_TypeCheck(args[1], st->CExportIndex_Type)) {
        idx = ((CExportIndexObject *)args[1])->index;
        EXT_CHECK_OPEN(idx, NULL);
    }
    else {
        return ext_wrong_type(st, "an ExportIndex or a str", args[1]);
    }
    ext_ctx c;
    if (cinstance_ctx(self, args[0], &c) < 0) {
        return NULL;
    }
    wasmtime_component_export_index_t *owned = NULL;
    if (name != NULL) {
        owned = wasmtime_component_instance_get_export_index(&self->instance, c.ctx, NULL, name,
                                                             (size_t)len);
        if (owned == NULL) {
            Py_RETURN_NONE;
        }
        idx = owned;
    }
    wasmtime_component_func_t f;
    bool found = wasmtime_component_instance_get_func(&self->instance, c.ctx, idx, &f);
    if (owned != NULL) {
        wasmtime_component_export_index_delete(owned);
    }
    if (!found) {
        Py_RETURN_NONE;
    }
    return cfunc_wrap(st, c.so, &f);
}

static int
cinstance_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CInstanceObject *)op)->store);
    return 0;
}

static int
cinstance_clear(PyObject *op)
{
    Py_CLEAR(((CInstanceObject *)op)->store);
    return 0;
}

static void
cinstance_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    EXT_CLEAR_WEAKREFS(op, ((CInstanceObject *)op)->weakreflist);
    (void)cinstance_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KWN(cinstance_get_func, "get_func", 2, "store", "index")

static PyMethodDef cinstance_methods[] = {
    {"get_export_index", EXT_FASTCALL_KW(cinstance_get_export_index),
     "get_export_index($self, store, name, instance=None)\n--\n\n"
     "The ExportIndex of export `name` (inside exported instance `instance`), or None."},
    {"get_func", EXT_KWN_ENTRY(cinstance_get_func),
     "get_func($self, store, index)\n--\n\n"
     "The Func exported at `index` (an ExportIndex, or a top-level name), or None."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef cinstance_members[] = {
    EXT_WEAKREF_MEMBER(CInstanceObject, weakreflist),
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot cinstance_slots[] = {
    {Py_tp_new, ext_no_construct},
    {Py_tp_dealloc, cinstance_dealloc},
    {Py_tp_traverse, cinstance_traverse},
    {Py_tp_clear, cinstance_clear},
    {Py_tp_methods, cinstance_methods},
    {Py_tp_members, cinstance_members},
    {Py_tp_doc, "An instantiated component, from Linker.instantiate()."},
    {0, NULL},
};

static PyType_Spec cinstance_spec = {
    .name = "wasmtime.component.Instance",
    .basicsize = sizeof(CInstanceObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = cinstance_slots,
};

int
cinstance_register(PyObject *mod, ext_state *st)
{
    st->CInstance_Type = ext_add_component_type(mod, &cinstance_spec, NULL);
    return st->CInstance_Type == NULL ? -1 : 0;
}
