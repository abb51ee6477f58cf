/* ExternRef: an externref that carries no Python object (wraps
 * wasmtime/externref.h).
 *
 * Wasm makes such references itself, e.g. `extern.convert_any` of an anyref
 * (GC proposal).  They come to Python as ExternRef objects, which hold their
 * Store (strong) and a rooted wasmtime_externref_t, and go back into wasm as
 * the same reference (convert.c clones the root).  The root is released by
 * dealloc while the Store lives; once the Store is closed its roots are gone
 * with it and nothing is released.  Only the runtime creates them.
 */
#include "runtime.h"

static PyObject *
externref_repr(PyObject *op)
{
    return PyUnicode_FromFormat("<wasmtime.ExternRef (no Python payload) at %p>", op);
}

static int
externref_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((ExternRefObject *)op)->store);
    return 0;
}

static int
externref_clear(PyObject *op)
{
    ExternRefObject *self = (ExternRefObject *)op;
    if (self->store != NULL && self->store->store != NULL) {
        wasmtime_externref_unroot(&self->ref);
    }
    wasmtime_externref_set_null(&self->ref);
    Py_CLEAR(self->store);
    return 0;
}

static void
externref_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)externref_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyType_Slot externref_slots[] = {
    {Py_tp_dealloc, externref_dealloc},
    {Py_tp_traverse, externref_traverse},
    {Py_tp_clear, externref_clear},
    {Py_tp_repr, externref_repr},
    {Py_tp_doc, "An externref made by wasm, without a Python payload (for example "
                "extern.convert_any of an anyref); passing it back into wasm gives the same "
                "reference. Bound to its Store."},
    {0, NULL},
};

static PyType_Spec externref_spec = {
    .name = "wasmtime.ExternRef",
    .basicsize = sizeof(ExternRefObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = externref_slots,
};

int
externref_register(PyObject *mod, ext_state *st)
{
    st->ExternRef_Type = ext_add_type(mod, &externref_spec, NULL);
    return st->ExternRef_Type == NULL ? -1 : 0;
}
