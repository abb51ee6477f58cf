/* Caller: what a host function defined with access_caller=True receives
 * first (wraps wasmtime_caller_t of wasmtime/func.h).
 *
 * It stands in for the Store during the host call (storectx.c resolves it)
 * and looks up the calling instance's exports.  The C caller is borrowed
 * and valid only during the call: the trampoline (hostfunc.c) creates the
 * object and clears `caller` when the call returns, after which lookups
 * give None and using it as a store raises.
 */
#include "runtime.h"

/* The export `name`, None when missing or the caller is no longer valid. */
static PyObject *
caller_lookup(CallerObject *self, PyObject *name, bool *found)
{
    *found = false;
    if (!PyUnicode_Check(name)) {
        return ext_wrong_type(self->store->st, "a str", name);
    }
    if (self->caller == NULL) {
        Py_RETURN_NONE;
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(name, &len);
    if (s == NULL) {
        return NULL;
    }
    wasmtime_extern_t ext;
    if (!wasmtime_caller_export_get(self->caller, s, (size_t)len, &ext)) {
        Py_RETURN_NONE;
    }
    *found = true;
    return ext_extern_to_py(self->store->st, self->store, &ext);
}

static PyObject *
caller_get(PyObject *op, PyObject *name)
{
    bool found;
    return caller_lookup((CallerObject *)op, name, &found);
}

static PyObject *
caller_getitem(PyObject *op, PyObject *name)
{
    bool found;
    PyObject *res = caller_lookup((CallerObject *)op, name, &found);
    if (res != NULL && !found) {
        Py_DECREF(res);
        PyErr_Format(PyExc_KeyError, "failed to find export `%U`", name);
        return NULL;
    }
    return res;
}

static int
caller_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CallerObject *)op)->store);
    return 0;
}

static int
caller_clear(PyObject *op)
{
    Py_CLEAR(((CallerObject *)op)->store);
    return 0;
}

static void
caller_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)caller_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(caller_get, "get", "name")

static PyMethodDef caller_methods[] = {
    {"get", EXT_KW1_ENTRY(caller_get),
     "get($self, name)\n--\n\nThe calling instance's export `name`, or None."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot caller_slots[] = {
    {Py_mp_subscript, caller_getitem},
    {Py_tp_dealloc, caller_dealloc},
    {Py_tp_traverse, caller_traverse},
    {Py_tp_clear, caller_clear},
    {Py_tp_methods, caller_methods},
    {Py_tp_doc, "The caller of a host function; usable as the store during the call."},
    {0, NULL},
};

static PyType_Spec caller_spec = {
    .name = "wasmtime.Caller",
    .basicsize = sizeof(CallerObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = caller_slots,
};

int
caller_register(PyObject *mod, ext_state *st)
{
    st->Caller_Type = ext_add_type(mod, &caller_spec, NULL);
    return st->Caller_Type == NULL ? -1 : 0;
}
