/* Managed: the common base of every class that owns a Wasmtime C object.
 *
 * It contributes no storage, only the protocol: close() (idempotent; the
 * subclass frees its pointer there) and the context manager that calls it.
 * Subclasses override close(); using an object after close() raises
 * ValueError("already closed").
 */
#include "base.h"

static PyObject *
managed_close(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    (void)self;
    Py_RETURN_NONE;
}

static PyObject *
managed_enter(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(self);
}

static PyObject *
managed_exit(PyObject *self, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
    PyObject *res = PyObject_CallMethod(self, "close", NULL);
    if (res == NULL) {
        return NULL;
    }
    Py_DECREF(res);
    Py_RETURN_NONE;
}

static PyMethodDef managed_methods[] = {
    {"close", managed_close, METH_NOARGS,
     "close($self, /)\n--\n\nRelease the underlying Wasmtime object. Idempotent."},
    {"__enter__", managed_enter, METH_NOARGS, "__enter__($self, /)\n--\n\n"},
    {"__exit__", EXT_FASTCALL(managed_exit),
     "__exit__($self, *exc_info, /)\n--\n\nCalls close()."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot managed_slots[] = {
    {Py_tp_methods, managed_methods},
    {Py_tp_doc, "Base class of objects that own a Wasmtime C object; close() frees it."},
    {0, NULL},
};

static PyType_Spec managed_spec = {
    .name = "wasmtime.Managed",
    .basicsize = sizeof(PyObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE,
    .slots = managed_slots,
};

int
managed_register(PyObject *mod, ext_state *st)
{
    st->Managed_Type = ext_add_type(mod, &managed_spec, NULL);
    return st->Managed_Type == NULL ? -1 : 0;
}
