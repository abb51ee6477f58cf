/* Instance and InstanceExports (wraps wasmtime/instance.h).
 *
 * Instantiation runs the start function, so it releases the GIL and is
 * bracketed like a call: a host exception raised during it comes back as the
 * same object.  exports(store) is built once (every export wrapped in module
 * order) and cached on the Instance, so lookups are dict lookups and the same
 * objects come back from values() and by_index.
 */
#include "runtime.h"

typedef struct {
    PyObject_HEAD
    PyObject *map;      /* strong: dict name -> extern */
    PyObject *by_index; /* strong: tuple in module order */
} ExportsObject;

static PyObject *
instance_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"store", "module", "imports", NULL};
    PyObject *store, *module, *imports;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO:Instance", kwlist, &store, &module,
                                     &imports)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    /* Iterating `imports` runs Python code (a generator may close the Store
     * or the Module): first, before both are checked. */
    PyObject *seq = PySequence_Fast(imports, "imports must be a sequence");
    if (seq == NULL) {
        return NULL;
    }
    ext_ctx c;
    const wasmtime_module_t *m = NULL;
    if (ext_resolve_store(st, store, &c) == 0) {
        m = ext_module_of_engine(st, module, c.so->engine, "Store");
    }
    if (m == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    wasmtime_extern_t *ext = PyMem_Malloc(sizeof(wasmtime_extern_t) * (size_t)(n + 1));
    if (ext == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    PyObject *res = NULL;
    Py_ssize_t converted = 0;
    for (; converted < n; converted++) {
        if (ext_py_to_extern(st, c.so, PySequence_Fast_GET_ITEM(seq, converted),
                             &ext[converted]) < 0) {
            goto done;
        }
    }
    wasmtime_instance_t inst;
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    /* A clone: the Module may be closed by another thread meanwhile. */
    wasmtime_module_t *mc = wasmtime_module_clone(m);
    ext_call_enter(c.so);
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_instance_new(c.ctx, mc, ext, (size_t)n, &inst, &trap);
    wasmtime_module_delete(mc);
    Py_END_ALLOW_THREADS
    ext_call_leave(c.so);
    if (ext_call_finish(st, c.so, err, trap) == 0) {
        res = ext_instance_wrap(st, c.so, &inst);
    }
done:
    for (Py_ssize_t i = 0; i < converted; i++) {
        ext_extern_release(&ext[i]);
    }
    PyMem_Free(ext);
    Py_DECREF(seq);
    return res;
}

/* InstanceExports has the whole Mapping interface; it is registered as a
 * collections.abc.Mapping the first time one is made (importing
 * collections.abc at `import wasmtime` time would slow every import). */
static int
exports_register_mapping(ext_state *st)
{
    if (st->exports_registered) {
        return 0;
    }
    PyObject *abc = PyImport_ImportModule("collections.abc");
    PyObject *mapping = abc ? PyObject_GetAttrString(abc, "Mapping") : NULL;
    Py_XDECREF(abc);
    PyObject *res = mapping ? PyObject_CallMethod(mapping, "register", "O",
                                                  (PyObject *)st->InstanceExports_Type)
                            : NULL;
    Py_XDECREF(mapping);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    st->exports_registered = true;
    return 0;
}

static PyObject *
exports_build(ext_state *st, ext_ctx *c, InstanceObject *self)
{
    if (exports_register_mapping(st) < 0) {
        return NULL;
    }
    PyObject *map = PyDict_New();
    PyObject *items = PyList_New(0);
    if (map == NULL || items == NULL) {
        goto fail;
    }
    for (size_t i = 0;; i++) {
        char *name;
        size_t len;
        wasmtime_extern_t ext;
        if (!wasmtime_instance_export_nth(c->ctx, &self->instance, i, &name, &len, &ext)) {
            break;
        }
        PyObject *item = ext_extern_to_py(st, self->store, &ext);
        PyObject *key = item ? PyUnicode_DecodeUTF8(name, (Py_ssize_t)len, "replace") : NULL;
        if (key == NULL || PyDict_SetItem(map, key, item) < 0 || PyList_Append(items, item) < 0) {
            Py_XDECREF(key);
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(key);
        Py_DECREF(item);
    }
    ExportsObject *ex = PyObject_GC_New(ExportsObject, st->InstanceExports_Type);
    if (ex == NULL) {
        goto fail;
    }
    ex->map = map;
    ex->by_index = PyList_AsTuple(items);
    Py_DECREF(items);
    PyObject_GC_Track(ex);
    if (ex->by_index == NULL) {
        Py_DECREF(ex);
        return NULL;
    }
    return (PyObject *)ex;
fail:
    Py_XDECREF(map);
    Py_XDECREF(items);
    return NULL;
}

static PyObject *
instance_exports(PyObject *op, PyObject *store)
{
    InstanceObject *self = (InstanceObject *)op;
    ext_state *st = self->store->st;
    ext_ctx c;
    if (ext_resolve_owner(st, store, self->store, &c) < 0) {
        return NULL;
    }
    if (self->exports == NULL) {
        self->exports = exports_build(st, &c, self);
    }
    return Py_XNewRef(self->exports);
}

static int
instance_traverse(PyObject *op, visitproc visit, void *arg)
{
    InstanceObject *self = (InstanceObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->store);
    Py_VISIT(self->exports);
    return 0;
}

static int
instance_clear(PyObject *op)
{
    InstanceObject *self = (InstanceObject *)op;
    Py_CLEAR(self->exports);
    Py_CLEAR(self->store);
    return 0;
}

static void
instance_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    EXT_CLEAR_WEAKREFS(op, ((InstanceObject *)op)->weakreflist);
    (void)instance_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(instance_exports, "exports", "store")

static PyMethodDef instance_methods[] = {
    {"exports", EXT_KW1_ENTRY(instance_exports),
     "exports($self, store)\n--\n\nThe instance's exports: a Mapping by name, with "
     "`.by_index` in module order (built once, cached)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef instance_members[] = {
    EXT_WEAKREF_MEMBER(InstanceObject, weakreflist),
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot instance_slots[] = {
    {Py_tp_members, instance_members},
    {Py_tp_new, instance_new},
    {Py_tp_dealloc, instance_dealloc},
    {Py_tp_traverse, instance_traverse},
    {Py_tp_clear, instance_clear},
    {Py_tp_methods, instance_methods},
    {Py_tp_doc, "Instance(store, module, imports)\n--\n\nInstantiate `module` with `imports` "
                "(in import order); runs its start function."},
    {0, NULL},
};

static PyType_Spec instance_spec = {
    .name = "wasmtime.Instance",
    .basicsize = sizeof(InstanceObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = instance_slots,
};

/* ---- InstanceExports --------------------------------------------------------- */

static PyObject *
exports_getitem(PyObject *op, PyObject *key)
{
    ExportsObject *self = (ExportsObject *)op;
    PyObject *v = PyUnicode_Check(key) ? PyDict_GetItemWithError(self->map, key) : NULL;
    if (v == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetObject(PyExc_KeyError, key);
        }
        return NULL;
    }
    return Py_NewRef(v);
}

static Py_ssize_t
exports_len(PyObject *op)
{
    return PyDict_GET_SIZE(((ExportsObject *)op)->map);
}

static int
exports_contains(PyObject *op, PyObject *key)
{
    return PyDict_Contains(((ExportsObject *)op)->map, key);
}

static PyObject *
exports_iter(PyObject *op)
{
    return PyObject_GetIter(((ExportsObject *)op)->map);
}

static PyObject *
exports_get(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "get() takes 1 or 2 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *dflt = nargs == 2 ? args[1] : Py_None;
    PyObject *v = PyDict_GetItemWithError(((ExportsObject *)op)->map, args[0]);
    if (v == NULL && PyErr_Occurred()) {
        return NULL;
    }
    return Py_NewRef(v != NULL ? v : dflt);
}

static PyObject *
exports_keys(PyObject *op, PyObject *Py_UNUSED(ig))
{
    return PyObject_CallMethod(((ExportsObject *)op)->map, "keys", NULL);
}

static PyObject *
exports_values(PyObject *op, PyObject *Py_UNUSED(ig))
{
    return PyObject_CallMethod(((ExportsObject *)op)->map, "values", NULL);
}

static PyObject *
exports_items(PyObject *op, PyObject *Py_UNUSED(ig))
{
    return PyObject_CallMethod(((ExportsObject *)op)->map, "items", NULL);
}

static PyObject *
exports_richcompare(PyObject *a, PyObject *b, int op)
{
    if (op != Py_EQ && op != Py_NE) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *other = b;
    if (Py_IS_TYPE(b, Py_TYPE(a))) {
        other = ((ExportsObject *)b)->map;
    }
    else if (!PyDict_Check(b)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    return PyObject_RichCompare(((ExportsObject *)a)->map, other, op);
}

static PyObject *
exports_by_index(PyObject *op, void *Py_UNUSED(closure))
{
    return Py_NewRef(((ExportsObject *)op)->by_index);
}

static PyObject *
exports_repr(PyObject *op)
{
    return PyUnicode_FromFormat("InstanceExports(%R)", ((ExportsObject *)op)->map);
}

static int
exports_traverse(PyObject *op, visitproc visit, void *arg)
{
    ExportsObject *self = (ExportsObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->map);
    Py_VISIT(self->by_index);
    return 0;
}

static int
exports_clear(PyObject *op)
{
    ExportsObject *self = (ExportsObject *)op;
    Py_CLEAR(self->map);
    Py_CLEAR(self->by_index);
    return 0;
}

static void
exports_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)exports_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef exports_methods[] = {
    {"get", (PyCFunction)(void (*)(void))exports_get, METH_FASTCALL,
     "get($self, key, default=None, /)\n--\n\n"},
    {"keys", exports_keys, METH_NOARGS, "keys($self, /)\n--\n\n"},
    {"values", exports_values, METH_NOARGS, "values($self, /)\n--\n\n"},
    {"items", exports_items, METH_NOARGS, "items($self, /)\n--\n\n"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef exports_getset[] = {
    {"by_index", exports_by_index, NULL, "The exports in module order (a tuple).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot exports_slots[] = {
    {Py_mp_subscript, exports_getitem},
    {Py_mp_length, exports_len},
    {Py_sq_length, exports_len},
    {Py_sq_contains, exports_contains},
    {Py_tp_iter, exports_iter},
    {Py_tp_richcompare, exports_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_repr, exports_repr},
    {Py_tp_dealloc, exports_dealloc},
    {Py_tp_traverse, exports_traverse},
    {Py_tp_clear, exports_clear},
    {Py_tp_methods, exports_methods},
    {Py_tp_getset, exports_getset},
    {Py_tp_doc, "The exports of an Instance: a read-only Mapping of name to extern."},
    {0, NULL},
};

static PyType_Spec exports_spec = {
    .name = "wasmtime.InstanceExports",
    .basicsize = sizeof(ExportsObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION |
             Py_TPFLAGS_MAPPING,
    .slots = exports_slots,
};

int
instance_register(PyObject *mod, ext_state *st)
{
    if ((st->Instance_Type = ext_add_type(mod, &instance_spec, NULL)) == NULL ||
        (st->InstanceExports_Type = ext_add_type(mod, &exports_spec, NULL)) == NULL) {
        return -1;
    }
    return 0;
}
