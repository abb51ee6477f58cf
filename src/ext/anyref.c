/* AnyRef: a reference of wasm's `any` hierarchy (anyref, eqref, structref,
 * arrayref; wraps wasmtime/anyref.h).
 *
 * An AnyRef holds its Store (strong) and a rooted wasmtime_anyref_t; it goes
 * back into wasm as the same reference, into its own Store only (convert.c
 * checks).  i31 values are not AnyRefs: they cross as Python ints.  The root
 * is released by dealloc while the Store lives; a closed Store took its roots
 * with it.  Only the runtime creates them.
 */
#include "runtime.h"

/* Which kind of object it is: "struct", "array", "eq" or "any". */
static PyObject *
anyref_kind(PyObject *op, PyObject *store)
{
    AnyRefObject *self = (AnyRefObject *)op;
    ext_ctx c;
    if (ext_resolve_owner(self->store->st, store, self->store, &c) < 0) {
        return NULL;
    }
    const char *kind = "any";
    if (wasmtime_anyref_is_struct(c.ctx, &self->ref) != 0) {
        kind = "struct";
    }
    else if (wasmtime_anyref_is_array(c.ctx, &self->ref) != 0) {
        kind = "array";
    }
    else if (wasmtime_anyref_is_eqref(c.ctx, &self->ref) != 0) {
        kind = "eq";
    }
    return PyUnicode_FromString(kind);
}

static PyObject *
anyref_repr(PyObject *op)
{
    return PyUnicode_FromFormat("<wasmtime.AnyRef at %p>", op);
}

static int
anyref_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((AnyRefObject *)op)->store);
    return 0;
}

static int
anyref_clear(PyObject *op)
{
    AnyRefObject *self = (AnyRefObject *)op;
    if (self->store != NULL && self->store->store != NULL) {
        wasmtime_anyref_unroot(&self->ref);
    }
    wasmtime_anyref_set_null(&self->ref);
    Py_CLEAR(self->store);
    return 0;
}

static void
anyref_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)anyref_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(anyref_kind, "kind", "store")

static PyMethodDef anyref_methods[] = {
    {"kind", EXT_KW1_ENTRY(anyref_kind),
     "kind($self, store)\n--\n\n\"struct\", \"array\", \"eq\" or \"any\": what it refers to."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot anyref_slots[] = {
    {Py_tp_dealloc, anyref_dealloc},
    {Py_tp_traverse, anyref_traverse},
    {Py_tp_clear, anyref_clear},
    {Py_tp_repr, anyref_repr},
    {Py_tp_methods, anyref_methods},
    {Py_tp_doc, "A wasm GC reference (anyref, eqref, structref, arrayref), bound to its "
                "Store; passed back into wasm it is the same reference."},
    {0, NULL},
};

static PyType_Spec anyref_spec = {
    .name = "wasmtime.AnyRef",
    .basicsize = sizeof(AnyRefObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = anyref_slots,
};

int
anyref_register(PyObject *mod, ext_state *st)
{
    st->AnyRef_Type = ext_add_type(mod, &anyref_spec, NULL);
    return st->AnyRef_Type == NULL ? -1 : 0;
}
