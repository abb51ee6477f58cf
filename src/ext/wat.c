/* wat2wasm and the "is this text or binary?" rule shared by Module and
 * Component (wraps wasmtime/wat.h).
 *
 * The text is parsed with the GIL released; str and bytes are immutable, so
 * their buffers stay valid meanwhile.
 */
#include "base.h"

/* Parse WAT text into `out` (owned by the caller on success). */
static int
wat_parse(ext_state *st, const char *text, size_t len, wasm_byte_vec_t *out)
{
    wasmtime_error_t *err;
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_wat2wasm(text, len, out);
    Py_END_ALLOW_THREADS
    if (err != NULL) {
        return ext_raise_error_int(st, err);
    }
    return 0;
}

int
ext_wasm_input(ext_state *st, PyObject *obj, ext_wasm_bytes *out)
{
    out->owned.size = 0;
    out->owned.data = NULL;
    out->has_view = false;
    if (PyUnicode_Check(obj)) {
        Py_ssize_t len;
        const char *text = PyUnicode_AsUTF8AndSize(obj, &len);
        if (text == NULL) {
            return -1;
        }
        if (len == 0 || text[0] == '\0') {
            ext_wrong_type(st, "wasm bytes or WAT text", obj);
            return -1;
        }
        if (wat_parse(st, text, (size_t)len, &out->owned) < 0) {
            return -1;
        }
        out->data = (const uint8_t *)out->owned.data;
        out->len = out->owned.size;
        return 0;
    }
    if (PyBytes_Check(obj) && PyBytes_GET_SIZE(obj) > 0 && PyBytes_AS_STRING(obj)[0] != 0) {
        if (wat_parse(st, PyBytes_AS_STRING(obj), (size_t)PyBytes_GET_SIZE(obj), &out->owned) <
            0) {
            return -1;
        }
        out->data = (const uint8_t *)out->owned.data;
        out->len = out->owned.size;
        return 0;
    }
    if (!PyObject_CheckBuffer(obj)) {
        ext_wrong_type(st, "wasm bytes or WAT text", obj);
        return -1;
    }
    if (PyObject_GetBuffer(obj, &out->view, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    out->has_view = true;
    out->data = out->view.buf;
    out->len = (size_t)out->view.len;
    return 0;
}

void
ext_wasm_input_release(ext_wasm_bytes *in)
{
    if (in->has_view) {
        PyBuffer_Release(&in->view);
        in->has_view = false;
    }
    if (in->owned.data != NULL) {
        wasm_byte_vec_delete(&in->owned);
        in->owned.data = NULL;
    }
}

static PyObject *
wat_wat2wasm(PyObject *mod, PyObject *wat)
{
    ext_state *st = PyModule_GetState(mod);
    const char *text;
    Py_ssize_t len;
    Py_buffer view = {0};
    if (PyUnicode_Check(wat)) {
        text = PyUnicode_AsUTF8AndSize(wat, &len);
        if (text == NULL) {
            return NULL;
        }
    }
    else if (PyBytes_Check(wat) || PyByteArray_Check(wat)) {
        if (PyObject_GetBuffer(wat, &view, PyBUF_SIMPLE) < 0) {
            return NULL;
        }
        text = view.buf;
        len = view.len;
    }
    else {
        return ext_wrong_type(st, "str or bytes", wat);
    }
    wasm_byte_vec_t out;
    int rc = wat_parse(st, text, (size_t)len, &out);
    if (view.obj != NULL) {
        PyBuffer_Release(&view);
    }
    if (rc < 0) {
        return NULL;
    }
    PyObject *res = PyByteArray_FromStringAndSize(out.data, (Py_ssize_t)out.size);
    wasm_byte_vec_delete(&out);
    return res;
}

EXT_KW1(wat_wat2wasm, "wat2wasm", "wat")

static PyMethodDef wat_methods[] = {
    {"wat2wasm", EXT_KW1_ENTRY(wat_wat2wasm),
     "wat2wasm(wat)\n--\n\nTranslate WebAssembly text (str or bytes) to the binary "
     "format; returns a bytearray.\n\n>>> wat2wasm('(module)')\n"
     "bytearray(b'\\x00asm\\x01\\x00\\x00\\x00')\n"},
    {NULL, NULL, 0, NULL},
};

int
wat_register(PyObject *mod, ext_state *st)
{
    (void)st;
    return PyModule_AddFunctions(mod, wat_methods);
}

PyObject *
ext_read_file(PyObject *path)
{
    /* A path (str, bytes or os.PathLike), never an int: io.open() would take
     * an int as a file descriptor and close it afterwards (fuzzing finding
     * F6: stdout, or the epoll fd of WASI's runtime, whose next use aborts). */
    PyObject *fspath = PyOS_FSPath(path);
    if (fspath == NULL) {
        return NULL;
    }
    PyObject *io = PyImport_ImportModule("io");
    if (io == NULL) {
        Py_DECREF(fspath);
        return NULL;
    }
    PyObject *f = PyObject_CallMethod(io, "open", "Os", fspath, "rb");
    Py_DECREF(fspath);
    Py_DECREF(io);
    if (f == NULL) {
        return NULL;
    }
    PyObject *data = PyObject_CallMethod(f, "read", NULL);
    PyObject *res = PyObject_CallMethod(f, "close", NULL);
    Py_DECREF(f);
    if (res == NULL) {
        Py_XDECREF(data);
        return NULL;
    }
    Py_DECREF(res);
    return data;
}
