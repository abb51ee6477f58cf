/* StoreContext: the Store as a component host function or resource
 * destructor sees it (the core half of wasmtime-py's StoreContext).
 *
 * Created by the component trampolines (component/chost.c) with the
 * context Wasmtime passes them, and invalidated when the callback returns:
 * using it afterwards raises ValueError("caller is no longer valid"), as
 * for a Caller.  It holds its Store strongly; ext_resolve_store accepts it
 * wherever a `store` argument is taken.
 */
#include "runtime.h"

static PyObject *
storecontext_context(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    StoreContextObject *self = (StoreContextObject *)op;
    if (self->ctx == NULL) {
        PyErr_SetString(PyExc_ValueError, "caller is no longer valid");
        return NULL;
    }
    /* wasmtime-py returns a ctypes pointer; the address is what it holds. */
    return PyLong_FromVoidPtr(self->ctx);
}

static PyObject *
storecontext_store(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    StoreContextObject *self = (StoreContextObject *)op;
    if (self->ctx == NULL || self->store == NULL) {
        PyErr_SetString(PyExc_ValueError, "caller is no longer valid");
        return NULL;
    }
    return Py_NewRef(self->store);
}

static PyObject *
storecontext_invalidate(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    ((StoreContextObject *)op)->ctx = NULL;
    Py_RETURN_NONE;
}

static int
storecontext_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((StoreContextObject *)op)->store);
    return 0;
}

static int
storecontext_clear(PyObject *op)
{
    ((StoreContextObject *)op)->ctx = NULL;
    Py_CLEAR(((StoreContextObject *)op)->store);
    return 0;
}

static void
storecontext_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)storecontext_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef storecontext_methods[] = {
    {"_context", storecontext_context, METH_NOARGS,
     "_context($self, /)\n--\n\nThe address of the C context; ValueError once invalid."},
    {"_store", storecontext_store, METH_NOARGS,
     "_store($self, /)\n--\n\nThe Store of this context (wasmtime.bindgen's per-Store tables); "
     "ValueError once invalid."},
    {"_invalidate", storecontext_invalidate, METH_NOARGS,
     "_invalidate($self, /)\n--\n\nMake this context unusable."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot storecontext_slots[] = {
    {Py_tp_new, ext_no_construct},
    {Py_tp_dealloc, storecontext_dealloc},
    {Py_tp_traverse, storecontext_traverse},
    {Py_tp_clear, storecontext_clear},
    {Py_tp_methods, storecontext_methods},
    {Py_tp_doc, "The Store seen from a component host function; usable as a `store` "
                "argument while the call runs."},
    {0, NULL},
};

static PyType_Spec storecontext_spec = {
    .name = "wasmtime.StoreContext",
    .basicsize = sizeof(StoreContextObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = storecontext_slots,
};

int
storecontext_register(PyObject *mod, ext_state *st)
{
    st->StoreContext_Type = ext_add_type(mod, &storecontext_spec, NULL);
    return st->StoreContext_Type == NULL ? -1 : 0;
}
