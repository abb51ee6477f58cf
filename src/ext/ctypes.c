/* Floor 2: ctypes views of raw addresses, for Memory.data_ptr,
 * Memory.get_buffer_ptr and SharedMemory.data_ptr (wasmtime-py returns
 * ctypes objects there).  ctypes is imported on first use only, so
 * `import wasmtime` does not pay for it.
 */
#include "base.h"

/* ctypes.cast(addr, ctypes.POINTER(ctypes.c_ubyte)) */
PyObject *
ext_ctypes_pointer(ext_state *st, void *addr)
{
    PyObject *ctypes = PyImport_ImportModule("ctypes");
    if (ctypes == NULL) {
        return NULL;
    }
    PyObject *res = NULL;
    if (st->ctypes_ptr == NULL) {
        st->ctypes_ptr =
            PyObject_CallMethod(ctypes, "POINTER", "N", PyObject_GetAttrString(ctypes, "c_ubyte"));
    }
    if (st->ctypes_ptr != NULL) {
        PyObject *voidp = PyObject_CallMethod(ctypes, "c_void_p", "N", PyLong_FromVoidPtr(addr));
        if (voidp != NULL) {
            res = PyObject_CallMethod(ctypes, "cast", "OO", voidp, st->ctypes_ptr);
            Py_DECREF(voidp);
        }
    }
    Py_DECREF(ctypes);
    return res;
}

/* (ctypes.c_ubyte * size).from_address(addr) */
PyObject *
ext_ctypes_array(void *addr, size_t size)
{
    PyObject *ctypes = PyImport_ImportModule("ctypes");
    if (ctypes == NULL) {
        return NULL;
    }
    PyObject *res = NULL;
    PyObject *ubyte = PyObject_GetAttrString(ctypes, "c_ubyte");
    PyObject *n = PyLong_FromSize_t(size);
    PyObject *arrtype = (ubyte && n) ? PyNumber_Multiply(ubyte, n) : NULL;
    if (arrtype != NULL) {
        res = PyObject_CallMethod(arrtype, "from_address", "N", PyLong_FromVoidPtr(addr));
    }
    Py_XDECREF(arrtype);
    Py_XDECREF(n);
    Py_XDECREF(ubyte);
    Py_DECREF(ctypes);
    return res;
}
