/* CallFuture: a running async call, polled by the glue coroutine
 * wasmtime._async._drive (see asynccall.c, which does the work).  Not meant
 * for direct use; it is created only by the call_async/instantiate_async
 * methods.
 */
#include "runtime.h"

static PyObject *
callfuture_poll(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "poll() takes 2 arguments (send, throw)");
        return NULL;
    }
    CallFutureObject *f = (CallFutureObject *)op;
    if (args[1] != Py_None && !PyExceptionInstance_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "poll(): throw must be an exception or None");
        return NULL;
    }
    return ext_future_poll(f, args[0], args[1]);
}

static PyObject *
callfuture_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CallFutureObject *f = (CallFutureObject *)op;
    if (f->polling) {
        PyErr_SetString(PyExc_RuntimeError, "cannot close an async call while it is polled");
        return NULL;
    }
    ext_future_close(f);
    Py_RETURN_NONE;
}

/* What the host coroutine yielded in the last poll (taken), or None. */
static PyObject *
callfuture_yielded(PyObject *op, void *Py_UNUSED(closure))
{
    CallFutureObject *f = (CallFutureObject *)op;
    PyObject *y = f->yielded;
    f->yielded = NULL;
    return y != NULL ? y : Py_NewRef(Py_None);
}

static PyObject *
callfuture_awaiting_host(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(((CallFutureObject *)op)->host != NULL);
}

static PyObject *
callfuture_done(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(((CallFutureObject *)op)->fut == NULL);
}

static void
callfuture_abort(PyObject *op)
{
    CallFutureObject *f = (CallFutureObject *)op;
    if (!f->polling) {
        ext_future_close(f);
    }
}

static int
callfuture_traverse(PyObject *op, visitproc visit, void *arg)
{
    CallFutureObject *f = (CallFutureObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(f->store);
    Py_VISIT(f->owner);
    Py_VISIT(f->module);
    Py_VISIT(f->yielded);
    Py_VISIT(f->send_value);
    Py_VISIT(f->throw_value);
    return 0;
}

static int
callfuture_clear(PyObject *op)
{
    CallFutureObject *f = (CallFutureObject *)op;
    if (f->polling) {
        return 0; /* (cannot happen: a polled future is referenced by its poller) */
    }
    ext_future_close(f); /* before the Store it borrows goes */
    Py_CLEAR(f->owner);
    Py_CLEAR(f->module);
    Py_CLEAR(f->store);
    return 0;
}

static void
callfuture_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)callfuture_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef callfuture_methods[] = {
    {"poll", EXT_FASTCALL(callfuture_poll),
     "poll($self, send, throw, /)\n--\n\nRun the call until it yields or ends: the result "
     "when it ended, the future itself while pending."},
    {"close", callfuture_close, METH_NOARGS,
     "close($self, /)\n--\n\nStop the call (the wasm unwinds); the Store is free again."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef callfuture_getset[] = {
    {"yielded", callfuture_yielded, NULL,
     "What an async host function's coroutine yielded in the last poll (taken), or None.", NULL},
    {"awaiting_host", callfuture_awaiting_host, NULL,
     "Whether the call is suspended in an async host function.", NULL},
    {"done", callfuture_done, NULL, "Whether the call has ended or was closed.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot callfuture_slots[] = {
    {Py_tp_new, ext_no_construct},
    {Py_tp_dealloc, callfuture_dealloc},
    {Py_tp_traverse, callfuture_traverse},
    {Py_tp_clear, callfuture_clear},
    {Py_tp_methods, callfuture_methods},
    {Py_tp_getset, callfuture_getset},
    {Py_tp_doc, "A running call_async or instantiate_async, driven by its coroutine."},
    {0, NULL},
};

static PyType_Spec callfuture_spec = {
    .name = "wasmtime._ext.CallFuture",
    .basicsize = sizeof(CallFutureObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = callfuture_slots,
};

int
callfuture_register(PyObject *mod, ext_state *st)
{
    st->future_abort = callfuture_abort;
    st->CallFuture_Type = ext_add_type(mod, &callfuture_spec, NULL);
    return st->CallFuture_Type == NULL ? -1 : 0;
}
