/* WasmtimeError and ExitTrap, and the raising helpers every file uses (wraps
 * wasmtime/error.h).
 *
 * This file turns a wasmtime_error_t into a Python exception and gives the
 * other files their raising helpers (ext_raise_msg, ext_wrong_type).  Traps
 * (wasm_trap_t) become Trap in trap.c; a host exception travels through the
 * Store (storectx.c); argument errors are raised where the argument is
 * checked.
 *
 * WasmtimeError derives from Exception and Managed.  An error that comes from
 * Wasmtime is turned into Python at once: its message is copied into the
 * instance's `_message` attribute (so `.args` stays `()`), and the C error is
 * deleted at that point, its one release point.  ExitTrap (WASI proc_exit)
 * derives from WasmtimeError and carries `.code`.
 */
#include "base.h"

#include <stdarg.h>

PyObject *
ext_str_from_name(const wasm_name_t *name)
{
    if (name->size == 0 || name->data == NULL) {
        return PyUnicode_FromStringAndSize("", 0);
    }
    return PyUnicode_DecodeUTF8(name->data, (Py_ssize_t)name->size, "replace");
}

static PyObject *
new_error_instance(PyObject *cls, PyObject *message, ext_state *st)
{
    PyObject *exc = PyObject_CallNoArgs(cls);
    if (exc == NULL) {
        return NULL;
    }
    if (PyObject_SetAttr(exc, st->str_message, message) < 0) {
        Py_DECREF(exc);
        return NULL;
    }
    return exc;
}

PyObject *
ext_raise_error(ext_state *st, wasmtime_error_t *err)
{
    int status = 0;
    bool is_exit = wasmtime_error_exit_status(err, &status);
    wasm_name_t msg;
    wasmtime_error_message(err, &msg);
    wasmtime_error_delete(err);
    PyObject *text = ext_str_from_name(&msg);
    wasm_byte_vec_delete(&msg);
    if (text == NULL) {
        return NULL;
    }
    PyObject *exc = new_error_instance(is_exit ? st->ExitTrap : st->WasmtimeError, text, st);
    Py_DECREF(text);
    if (exc == NULL) {
        return NULL;
    }
    if (is_exit) {
        PyObject *code = PyLong_FromLong(status);
        if (code == NULL || PyObject_SetAttr(exc, st->str_code, code) < 0) {
            Py_XDECREF(code);
            Py_DECREF(exc);
            return NULL;
        }
        Py_DECREF(code);
    }
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}

int
ext_raise_error_int(ext_state *st, wasmtime_error_t *err)
{
    ext_raise_error(st, err);
    return -1;
}

PyObject *
ext_wrong_type(ext_state *st, const char *what, PyObject *got)
{
    PyErr_Format(st->ArgTypeError, "expected %s, got %.200s", what, Py_TYPE(got)->tp_name);
    return NULL;
}

PyObject *
ext_raise_msg(ext_state *st, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    PyObject *text = PyUnicode_FromFormatV(fmt, va);
    va_end(va);
    if (text == NULL) {
        return NULL;
    }
    PyErr_SetObject(st->WasmtimeError, text);
    Py_DECREF(text);
    return NULL;
}

/* str(): the engine's message for errors from C, else Exception's text. */
static PyObject *
wasmtimeerror_str(PyObject *self)
{
    ext_state *st = ext_state_from_type(Py_TYPE(self));
    if (st == NULL) {
        return NULL;
    }
    PyObject *msg = PyObject_GetAttr(self, st->str_message);
    if (msg != NULL) {
        if (PyUnicode_Check(msg)) {
            return msg;
        }
        Py_DECREF(msg);
    }
    else if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
    }
    else {
        return NULL;
    }
    return ((PyTypeObject *)PyExc_Exception)->tp_str(self);
}

static PyObject *
wasmtimeerror_close(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    /* The C error was already released when the exception was made. */
    (void)self;
    Py_RETURN_NONE;
}

static PyMethodDef wasmtimeerror_methods[] = {
    {"close", wasmtimeerror_close, METH_NOARGS, "close($self, /)\n--\n\nNo-op."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot wasmtimeerror_slots[] = {
    {Py_tp_str, wasmtimeerror_str},
    {Py_tp_methods, wasmtimeerror_methods},
    {Py_tp_doc, "An error reported by Wasmtime, or raised by the host with a message."},
    {0, NULL},
};

static PyType_Spec wasmtimeerror_spec = {
    .name = "wasmtime.WasmtimeError",
    .basicsize = 0,
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE, /* GC inherited */
    .slots = wasmtimeerror_slots,
};

static PyType_Slot argtypeerror_slots[] = {
    {Py_tp_doc, "An argument of the wrong type. Both a TypeError and an AttributeError."},
    {0, NULL},
};

static PyType_Spec argtypeerror_spec = {
    .name = "wasmtime.ArgumentTypeError",
    .basicsize = 0,
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE, /* GC inherited */
    .slots = argtypeerror_slots,
};

static PyType_Slot exittrap_slots[] = {
    {Py_tp_doc, "Raised when a WASI program exits through proc_exit; `.code` is its status."},
    {0, NULL},
};

static PyType_Spec exittrap_spec = {
    .name = "wasmtime.ExitTrap",
    .basicsize = 0,
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE, /* GC inherited */
    .slots = exittrap_slots,
};

int
errors_register(PyObject *mod, ext_state *st)
{
    PyObject *bases = PyTuple_Pack(2, PyExc_Exception, (PyObject *)st->Managed_Type);
    if (bases == NULL) {
        return -1;
    }
    st->WasmtimeError = (PyObject *)ext_add_type(mod, &wasmtimeerror_spec, bases);
    Py_DECREF(bases);
    if (st->WasmtimeError == NULL) {
        return -1;
    }
    st->ExitTrap = (PyObject *)ext_add_type(mod, &exittrap_spec, st->WasmtimeError);
    if (st->ExitTrap == NULL) {
        return -1;
    }
    bases = PyTuple_Pack(2, PyExc_TypeError, PyExc_AttributeError);
    if (bases == NULL) {
        return -1;
    }
    st->ArgTypeError = (PyObject *)ext_add_type(mod, &argtypeerror_spec, bases);
    Py_DECREF(bases);
    return st->ArgTypeError == NULL ? -1 : 0;
}
