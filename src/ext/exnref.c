/* ExnRef: a wasm exception object as a value (exnref params, results,
 * globals and table elements; wraps wasmtime/exnref.h).
 *
 * It holds its Store (strong) and a rooted wasmtime_exnref_t; `tag` and
 * `fields` are read on that Store.  Passed back into wasm it is the same
 * exception object (convert.c checks the Store), so `throw_ref` rethrows it.
 * ExnRef(store, tag, fields) makes a new one.  An uncaught exception still
 * raises WasmException (exn.c); this class is for exnref values.
 *
 * Equality is identity of the exception object, as for AnyRef (anyref.c):
 * same Store and the same wasmtime_exnref_to_raw() value (its index in the
 * Store's GC heap, stable while rooted: the collector does not move
 * objects), read once and cached.
 */
#include "runtime.h"

static PyObject *
exnref_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"store", "tag", "fields", NULL};
    PyObject *store, *tag, *fields;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO:ExnRef", kwlist, &store, &tag, &fields)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    /* Arguments first: iterating `fields` may run Python code. */
    PyObject *list = PySequence_List(fields);
    if (list == NULL) {
        return NULL;
    }
    ext_ctx c;
    PyObject *res = NULL;
    if (ext_resolve_store(st, store, &c) == 0) {
        wasmtime_exnref_t exn;
        if (ext_exn_new(st, &c, tag, list, &exn) == 0) {
            res = ext_exnref_wrap(st, &c, &exn);
            wasmtime_exnref_unroot(&exn);
        }
    }
    Py_DECREF(list);
    return res;
}

/* The Store the ExnRef holds, resolved; -1 with ValueError once closed. */
static int
exnref_ctx(ExnRefObject *self, ext_ctx *c)
{
    if (self->store == NULL) {
        ALREADY_CLOSED();
        return -1;
    }
    return ext_resolve_owner(self->store->st, (PyObject *)self->store, self->store, c);
}

static PyObject *
exnref_get(ExnRefObject *self, bool want_tag)
{
    ext_ctx c;
    if (exnref_ctx(self, &c) < 0) {
        return NULL;
    }
    PyObject *tag, *fields;
    if (ext_exn_to_py(self->store->st, &c, &self->ref, &tag, &fields) < 0) {
        return NULL;
    }
    Py_DECREF(want_tag ? fields : tag);
    return want_tag ? tag : fields;
}

static PyObject *
exnref_tag(PyObject *op, void *Py_UNUSED(closure))
{
    return exnref_get((ExnRefObject *)op, true);
}

static PyObject *
exnref_fields(PyObject *op, void *Py_UNUSED(closure))
{
    return exnref_get((ExnRefObject *)op, false);
}

static PyObject *
exnref_repr(PyObject *op)
{
    return PyUnicode_FromFormat("<wasmtime.ExnRef at %p>", op);
}

/* The object's index in its Store's GC heap; 0 or -1 with ValueError when
 * it was never read and the Store is closed. */
static int
exnref_identity(ExnRefObject *self, uint32_t *out)
{
    if (!self->has_raw) {
        if (self->store == NULL) {
            ALREADY_CLOSED();
            return -1;
        }
        if (ext_store_usable(self->store) < 0) {
            return -1;
        }
        self->raw = wasmtime_exnref_to_raw(self->store->context, &self->ref);
        self->has_raw = true;
    }
    *out = self->raw;
    return 0;
}

static PyObject *
exnref_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || !PyObject_TypeCheck(b, Py_TYPE(a))) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    ExnRefObject *x = (ExnRefObject *)a, *y = (ExnRefObject *)b;
    bool eq = a == b;
    if (!eq && x->store == y->store) {
        uint32_t rx, ry;
        if (exnref_identity(x, &rx) < 0 || exnref_identity(y, &ry) < 0) {
            return NULL;
        }
        eq = rx == ry;
    }
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static Py_hash_t
exnref_hash(PyObject *op)
{
    ExnRefObject *self = (ExnRefObject *)op;
    uint32_t raw;
    if (exnref_identity(self, &raw) < 0) {
        return -1;
    }
    Py_hash_t h = (Py_hash_t)(((uintptr_t)self->store >> 4) * 1000003u) ^ (Py_hash_t)raw;
    return h == -1 ? -2 : h;
}

static int
exnref_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((ExnRefObject *)op)->store);
    return 0;
}

static int
exnref_clear(PyObject *op)
{
    ExnRefObject *self = (ExnRefObject *)op;
    if (self->store != NULL && self->store->store != NULL) {
        wasmtime_exnref_unroot(&self->ref);
    }
    wasmtime_exnref_set_null(&self->ref);
    Py_CLEAR(self->store);
    return 0;
}

static void
exnref_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)exnref_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyGetSetDef exnref_getset[] = {
    {"tag", exnref_tag, NULL, "The Tag of the exception (read on the Store it belongs to).", NULL},
    {"fields", exnref_fields, NULL, "The field values of the exception, a new list.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot exnref_slots[] = {
    {Py_tp_new, exnref_new},
    {Py_tp_dealloc, exnref_dealloc},
    {Py_tp_traverse, exnref_traverse},
    {Py_tp_clear, exnref_clear},
    {Py_tp_repr, exnref_repr},
    {Py_tp_richcompare, exnref_richcompare},
    {Py_tp_hash, exnref_hash},
    {Py_tp_getset, exnref_getset},
    {Py_tp_doc, "ExnRef(store, tag, fields)\n--\n\nA wasm exception object (an exnref value), "
                "bound to its Store: `tag` and `fields` read it."},
    {0, NULL},
};

static PyType_Spec exnref_spec = {
    .name = "wasmtime.ExnRef",
    .basicsize = sizeof(ExnRefObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = exnref_slots,
};

int
exnref_register(PyObject *mod, ext_state *st)
{
    st->ExnRef_Type = ext_add_type(mod, &exnref_spec, NULL);
    return st->ExnRef_Type == NULL ? -1 : 0;
}
