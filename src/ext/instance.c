/* Instance and InstanceExports (wraps wasmtime/instance.h).
 *
 * Instantiation runs the start function, so it releases the GIL and is
 * bracketed like a call: a host exception raised during it comes back as the
 * same object.
 *
 * exports(store) costs O(1): it makes (once, then cached on the Instance) an
 * InstanceExports that has looked nothing up yet.  exports[name] is one
 * wasmtime_instance_export_get, wrapped once and cached, so the same object
 * comes back every time.  len, `in`, iteration and keys() use the export
 * names of the Module (read once per Module, see ext_module_export_names),
 * not the store.  by_index, values(), items(), == and repr need every export:
 * they look up the missing ones by name, once, and keep them in module order.
 * Never wasmtime_instance_export_nth: it walks the exports from the first at
 * every call, so enumerating with it is quadratic.
 *
 * Ownership: Instance and InstanceExports each hold the Store and the Module
 * (strong); the InstanceExports does not point back at its Instance, so there
 * is no cycle.
 */
#include "runtime.h"

typedef struct {
    PyObject_HEAD
    StoreObject *store;           /* strong: the Instance's store */
    wasmtime_instance_t instance; /* no destructor */
    PyObject *module;             /* strong: the Instance's Module */
    PyObject *names;              /* strong or NULL until needed: the Module's export names */
    PyObject *cache;              /* strong or NULL: dict name -> extern, the exports seen */
    PyObject *by_index;           /* strong or NULL: tuple in module order; once set, `cache`
                                     holds every export, in module order too */
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
    if (ext_resolve_store(st, store, &c) == 0 && ext_sync_call_ok(c.so) == 0) {
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
        if (ext_py_to_extern(st, c.so, PySequence_Fast_GET_ITEM(seq, converted), &ext[converted]) <
            0) {
            goto done;
        }
    }
    wasmtime_instance_t inst;
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    /* A clone: the Module may be closed by another thread meanwhile. */
    if (ext_call_enter(c.so) < 0) {
        goto done;
    }
    wasmtime_module_t *mc = wasmtime_module_clone(m);
    EXT_RUN_WASM_NOGIL(c.so, err = wasmtime_instance_new(c.ctx, mc, ext, (size_t)n, &inst, &trap);
                       wasmtime_module_delete(mc));
    ext_call_leave(c.so);
    if (ext_call_finish(st, c.so, err, trap) == 0) {
        res = ext_instance_wrap(st, c.so, &inst, module);
    }
    else {
        ext_exn_after_call(st, &c); /* the start function threw */
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
exports_new(ext_state *st, InstanceObject *inst)
{
    if (exports_register_mapping(st) < 0) {
        return NULL;
    }
    ExportsObject *ex = PyObject_GC_New(ExportsObject, st->InstanceExports_Type);
    if (ex == NULL) {
        return NULL;
    }
    ex->store = (StoreObject *)Py_NewRef(inst->store);
    ex->instance = inst->instance;
    ex->module = Py_NewRef(inst->module);
    ex->names = NULL;
    ex->cache = NULL;
    ex->by_index = NULL;
    PyObject_GC_Track(ex);
    return (PyObject *)ex;
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
        PyObject *ex = exports_new(st, self);
        if (ex == NULL) {
            return NULL;
        }
        /* The first call imports collections.abc, which runs Python code
         * that could have got here first (or, without a GIL, another thread). */
        Py_BEGIN_CRITICAL_SECTION(op);
        if (self->exports == NULL) {
            self->exports = ex;
        }
        else {
            Py_DECREF(ex);
        }
        Py_END_CRITICAL_SECTION();
    }
    return Py_NewRef(self->exports);
}

static int
instance_traverse(PyObject *op, visitproc visit, void *arg)
{
    InstanceObject *self = (InstanceObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->store);
    Py_VISIT(self->exports);
    Py_VISIT(self->module);
    return 0;
}

static int
instance_clear(PyObject *op)
{
    InstanceObject *self = (InstanceObject *)op;
    Py_CLEAR(self->exports);
    Py_CLEAR(self->module);
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
     "`.by_index` in module order (made once and cached; each export is looked up on "
     "first use)."},
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

/* The Module's export names, read on first need.  Borrowed, or NULL with an
 * exception. */
static PyObject *
exports_names(ExportsObject *self)
{
    if (self->names == NULL) {
        if (self->module == NULL) { /* cleared by the garbage collector */
            ALREADY_CLOSED();
            return NULL;
        }
        PyObject *names = ext_module_export_names(self->module);
        if (names == NULL) {
            return NULL;
        }
        /* ext_module_export_names may have run a finalizer that got here
         * (or, without a GIL, another thread): the first one stays, since
         * others may borrow it. */
        Py_BEGIN_CRITICAL_SECTION(self);
        if (self->names == NULL) {
            self->names = names;
        }
        else {
            Py_DECREF(names);
        }
        Py_END_CRITICAL_SECTION();
    }
    return self->names;
}

/* The export named `name` (an exact str), wrapped on first use and cached: a
 * new reference, or NULL, with an exception set on failure and without one
 * when there is no such export. */
static PyObject *
exports_lookup_name(ExportsObject *self, PyObject *name)
{
    if (self->cache != NULL) {
        PyObject *v;
        if (PyDict_GetItemRef(self->cache, name, &v) != 0) {
            return v;
        }
    }
    /* When the names are known already, a missing one needs no store. */
    if (self->names != NULL) {
        int has = PyDict_Contains(self->names, name);
        if (has <= 0) {
            return NULL;
        }
    }
    Py_ssize_t len;
    const char *utf8 = PyUnicode_AsUTF8AndSize(name, &len);
    if (utf8 == NULL) {
        /* A lone surrogate: wasm names are valid UTF-8, so no such export. */
        if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            PyErr_Clear();
        }
        return NULL;
    }
    if (self->store == NULL) { /* cleared by the garbage collector */
        ALREADY_CLOSED();
        return NULL;
    }
    ext_state *st = self->store->st;
    ext_ctx c;
    if (ext_resolve_store(st, (PyObject *)self->store, &c) < 0) {
        return NULL;
    }
    wasmtime_extern_t ext;
    /* Runs quickly (a hash lookup in the module's export map): keeps the GIL. */
    if (!wasmtime_instance_export_get(c.ctx, &self->instance, utf8, (size_t)len, &ext)) {
        return NULL;
    }
    PyObject *item = ext_extern_to_py(st, self->store, &ext);
    if (item == NULL) {
        return NULL;
    }
    PyObject *kept = NULL;
    Py_BEGIN_CRITICAL_SECTION(self);
    if (self->cache == NULL) {
        self->cache = PyDict_New();
    }
    /* setdefault, not set: an allocation above may have run a finalizer that
     * looked the same name up, and the first object out must stay the one. */
    if (self->cache != NULL) {
        kept = Py_XNewRef(PyDict_SetDefault(self->cache, name, item));
    }
    Py_END_CRITICAL_SECTION();
    Py_DECREF(item);
    return kept;
}

/* The same for any key: no export unless it is a str. */
static PyObject *
exports_lookup(ExportsObject *self, PyObject *key)
{
    if (!PyUnicode_Check(key)) {
        return NULL;
    }
    /* A str subclass becomes a plain str first: its __hash__/__eq__ could
     * run Python code (that may close the store) in the middle of a lookup. */
    PyObject *name = PyUnicode_CheckExact(key) ? Py_NewRef(key) : PyUnicode_FromObject(key);
    if (name == NULL) {
        return NULL;
    }
    PyObject *v = exports_lookup_name(self, name);
    Py_DECREF(name);
    return v;
}

/* Make `by_index`, and `cache` complete and in module order: one lookup per
 * export not seen yet.  0 or -1. */
static int
exports_complete(ExportsObject *self)
{
    if (self->by_index != NULL) {
        return 0;
    }
    PyObject *names = exports_names(self);
    if (names == NULL) {
        return -1;
    }
    /* Held: a finalizer may clear the exports (tp_clear) meanwhile. */
    Py_INCREF(names);
    PyObject *tuple = PyTuple_New(PyDict_GET_SIZE(names));
    PyObject *cache = tuple ? PyDict_New() : NULL;
    if (cache == NULL) {
        goto fail;
    }
    PyObject *name, *ignored;
    Py_ssize_t pos = 0, i = 0;
    /* `names` is never mutated, so iterating it while lookups run is safe,
     * and it yields the names in module order. */
    while (PyDict_Next(names, &pos, &name, &ignored)) {
        PyObject *item = exports_lookup_name(self, name);
        if (item == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetObject(PyExc_KeyError, name);
            }
            goto fail;
        }
        PyTuple_SET_ITEM(tuple, i++, item);
        if (PyDict_SetItem(cache, name, item) < 0) {
            goto fail;
        }
    }
    /* A finalizer run by an allocation above may have completed it first;
     * both hold the same objects. */
    if (self->by_index == NULL) {
        Py_XSETREF(self->cache, cache);
        self->by_index = tuple;
    }
    else {
        Py_DECREF(cache);
        Py_DECREF(tuple);
    }
    Py_DECREF(names);
    return 0;
fail:
    Py_XDECREF(cache);
    Py_XDECREF(tuple);
    Py_DECREF(names);
    return -1;
}

static PyObject *
exports_getitem(PyObject *op, PyObject *key)
{
    PyObject *v = exports_lookup((ExportsObject *)op, key);
    if (v == NULL && !PyErr_Occurred()) {
        PyErr_SetObject(PyExc_KeyError, key);
    }
    return v;
}

static Py_ssize_t
exports_len(PyObject *op)
{
    PyObject *names = exports_names((ExportsObject *)op);
    return names == NULL ? -1 : PyDict_GET_SIZE(names);
}

static int
exports_contains(PyObject *op, PyObject *key)
{
    PyObject *names = exports_names((ExportsObject *)op);
    return names == NULL ? -1 : PyDict_Contains(names, key);
}

static PyObject *
exports_iter(PyObject *op)
{
    PyObject *names = exports_names((ExportsObject *)op);
    return names == NULL ? NULL : PyObject_GetIter(names);
}

static PyObject *
exports_get(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "get() takes 1 or 2 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *v = exports_lookup((ExportsObject *)op, args[0]);
    if (v == NULL && !PyErr_Occurred()) {
        v = Py_NewRef(nargs == 2 ? args[1] : Py_None);
    }
    return v;
}

static PyObject *
exports_keys(PyObject *op, PyObject *Py_UNUSED(ig))
{
    PyObject *names = exports_names((ExportsObject *)op);
    return names == NULL ? NULL : PyObject_CallMethod(names, "keys", NULL);
}

static PyObject *
exports_values(PyObject *op, PyObject *Py_UNUSED(ig))
{
    ExportsObject *self = (ExportsObject *)op;
    if (exports_complete(self) < 0) {
        return NULL;
    }
    return PyObject_CallMethod(self->cache, "values", NULL);
}

static PyObject *
exports_items(PyObject *op, PyObject *Py_UNUSED(ig))
{
    ExportsObject *self = (ExportsObject *)op;
    if (exports_complete(self) < 0) {
        return NULL;
    }
    return PyObject_CallMethod(self->cache, "items", NULL);
}

static PyObject *
exports_richcompare(PyObject *a, PyObject *b, int op)
{
    if (op != Py_EQ && op != Py_NE) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    bool same_type = Py_IS_TYPE(b, Py_TYPE(a));
    if (!same_type && !PyDict_Check(b)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (exports_complete((ExportsObject *)a) < 0 ||
        (same_type && exports_complete((ExportsObject *)b) < 0)) {
        return NULL;
    }
    PyObject *other = same_type ? ((ExportsObject *)b)->cache : b;
    return PyObject_RichCompare(((ExportsObject *)a)->cache, other, op);
}

static PyObject *
exports_by_index(PyObject *op, void *Py_UNUSED(closure))
{
    ExportsObject *self = (ExportsObject *)op;
    if (exports_complete(self) < 0) {
        return NULL;
    }
    return Py_NewRef(self->by_index);
}

static PyObject *
exports_repr(PyObject *op)
{
    ExportsObject *self = (ExportsObject *)op;
    if (exports_complete(self) < 0) {
        return NULL;
    }
    return PyUnicode_FromFormat("InstanceExports(%R)", self->cache);
}

static int
exports_traverse(PyObject *op, visitproc visit, void *arg)
{
    ExportsObject *self = (ExportsObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->store);
    Py_VISIT(self->module);
    Py_VISIT(self->names);
    Py_VISIT(self->cache);
    Py_VISIT(self->by_index);
    return 0;
}

static int
exports_clear(PyObject *op)
{
    ExportsObject *self = (ExportsObject *)op;
    Py_CLEAR(self->by_index);
    Py_CLEAR(self->cache);
    Py_CLEAR(self->store);
    Py_CLEAR(self->names);
    Py_CLEAR(self->module);
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
    {"get", EXT_FASTCALL(exports_get), "get($self, key, default=None, /)\n--\n\n"},
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
    .flags =
        EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_MAPPING,
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
