/* A small FASTCALL argument parser on the public C API only.
 *
 * It fills an array of borrowed PyObject* (NULL where an optional argument
 * was not given); the caller converts each value itself, so type errors can
 * carry the texts wasmtime-py's tests pin.  Error texts follow CPython's own.
 */
#include "base.h"

int
ext_parse_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const char *fname,
               const char *const *kwlist, Py_ssize_t nrequired, PyObject **out)
{
    Py_ssize_t nparams = 0;
    while (kwlist[nparams] != NULL) {
        out[nparams] = NULL;
        nparams++;
    }
    if (nargs > nparams) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd argument%s (%zd given)", fname,
                     nparams, nparams == 1 ? "" : "s", nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        out[i] = args[i];
    }
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t i;
        for (i = 0; i < nparams; i++) {
            if (PyUnicode_CompareWithASCIIString(key, kwlist[i]) == 0) {
                break;
            }
        }
        if (i == nparams) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname,
                         key);
            return -1;
        }
        if (out[i] != NULL) {
            PyErr_Format(PyExc_TypeError,
                         "argument for %s() given by name ('%s') and position (%zd)", fname,
                         kwlist[i], i + 1);
            return -1;
        }
        out[i] = args[nargs + k];
    }
    for (Py_ssize_t i = 0; i < nrequired; i++) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s' (pos %zd)", fname,
                         kwlist[i], i + 1);
            return -1;
        }
    }
    return 0;
}

int
ext_get_bytes(PyObject *obj, Py_buffer *view, const char *what)
{
    if (PyUnicode_Check(obj) || !PyObject_CheckBuffer(obj)) {
        PyErr_Format(PyExc_TypeError, "expected %s, got %.200s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    /* A bytearray exported this way cannot be resized until released, so the
     * pointer stays valid while the GIL is released around compilation. */
    return PyObject_GetBuffer(obj, view, PyBUF_SIMPLE);
}

int
ext_long_as_u64(PyObject *obj, uint64_t *out)
{
    if (!PyLong_Check(obj)) {
        return -1;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow < 0 || (overflow == 0 && v < 0)) {
        return 1;
    }
    if (overflow == 0) {
        *out = (uint64_t)v;
        return 0;
    }
    unsigned long long u = PyLong_AsUnsignedLongLong(obj);
    if (u == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 2;
    }
    *out = (uint64_t)u;
    return 0;
}

int
ext_grow_delta(ext_state *st, PyObject *obj, uint64_t *delta)
{
    int r = ext_long_as_u64(obj, delta);
    if (r < 0) {
        ext_wrong_type(st, "an int", obj);
        return -1;
    }
    if (r == 1) {
        ext_raise_msg(st, "cannot grow by negative amount");
        return -1;
    }
    if (r == 2) {
        ext_raise_msg(st, "cannot grow by that many pages");
        return -1;
    }
    return 0;
}
