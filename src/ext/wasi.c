/* WasiConfig: the settings of a WASI context (wraps wasi.h).
 *
 * The wasi_config_t is owned until Store.set_wasi consumes it.  Custom
 * stdout/stderr callables are borrowed by the C config; their strong
 * references sit in this object's `outputs` list ([stdout, stderr]) and move
 * to the Store with the config (Store.set_wasi, storectx.c), so the GC sees
 * them.  A callback that raises is reported with sys.unraisablehook and the
 * guest sees EIO, as in wasmtime-py.
 */
#include "runtime.h"

#include <errno.h>

static PyObject *
wasiconfig_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (ext_no_args("WasiConfig", args, kwds) < 0) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    WasiConfigObject *self = (WasiConfigObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->st = st;
    self->config = wasi_config_new();
    if (self->config == NULL) {
        Py_DECREF(self);
        return ext_raise_msg(st, "failed to allocate WasiConfig");
    }
    return (PyObject *)self;
}

/* Setters convert their value first (iteration, __fspath__ and the buffer
 * protocol run Python code, which may close or consume this config), and
 * only then check that the config is still open. */
static int
wasi_no_delete(PyObject *value)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "WasiConfig options cannot be deleted");
        return -1;
    }
    return 0;
}

/* Encode a list of str as NUL-terminated UTF-8; keeps the bytes objects in
 * `keep` (a new list). Returns a PyMem array of pointers or NULL. */
static const char **
utf8_array(PyObject *seq, Py_ssize_t n, PyObject *keep, int column)
{
    const char **out = PyMem_Malloc(sizeof(char *) * (size_t)(n + 1));
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (column >= 0) {
            PyObject *pair = PySequence_Tuple(item);
            if (pair == NULL || PyTuple_GET_SIZE(pair) != 2) {
                Py_XDECREF(pair);
                PyErr_SetString(PyExc_TypeError, "env entries must be (name, value) pairs");
                PyMem_Free(out);
                return NULL;
            }
            item = PyTuple_GET_ITEM(pair, column);
            Py_INCREF(item);
            Py_DECREF(pair);
        }
        else {
            Py_INCREF(item);
        }
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError, "expected str, got %.200s", Py_TYPE(item)->tp_name);
            Py_DECREF(item);
            PyMem_Free(out);
            return NULL;
        }
        PyObject *b = PyUnicode_AsUTF8String(item);
        Py_DECREF(item);
        if (b == NULL || PyList_Append(keep, b) < 0) {
            Py_XDECREF(b);
            PyMem_Free(out);
            return NULL;
        }
        Py_DECREF(b);
        if ((Py_ssize_t)strlen(PyBytes_AS_STRING(b)) != PyBytes_GET_SIZE(b)) {
            PyErr_SetString(PyExc_ValueError, "embedded null character");
            PyMem_Free(out);
            return NULL;
        }
        out[i] = PyBytes_AS_STRING(b);
    }
    out[n] = NULL;
    return out;
}

static int
wasiconfig_set_argv(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    WasiConfigObject *self = (WasiConfigObject *)op;
    if (wasi_no_delete(value) < 0) {
        return -1;
    }
    PyObject *seq = PySequence_Fast(value, "argv must be a sequence of str");
    if (seq == NULL) {
        return -1;
    }
    PyObject *keep = PyList_New(0);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    const char **argv = keep ? utf8_array(seq, n, keep, -1) : NULL;
    int rc = -1;
    PyMem_Free(argv);
    if (argv != NULL && self->config == NULL) {
        ALREADY_CLOSED();
    }
    else if (argv != NULL) {
        Py_XSETREF(self->argv, Py_NewRef(keep)); /* applied by set_wasi */
        rc = 0;
    }
    Py_XDECREF(keep);
    Py_DECREF(seq);
    return rc;
}

static int
wasiconfig_set_env(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    WasiConfigObject *self = (WasiConfigObject *)op;
    if (wasi_no_delete(value) < 0) {
        return -1;
    }
    PyObject *seq = PySequence_Fast(value, "env must be a sequence of (name, value) pairs");
    if (seq == NULL) {
        return -1;
    }
    PyObject *keep = PyList_New(0);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    const char **names = keep ? utf8_array(seq, n, keep, 0) : NULL;
    const char **values = names ? utf8_array(seq, n, keep, 1) : NULL;
    int rc = -1;
    if (values != NULL && self->config == NULL) {
        ALREADY_CLOSED();
    }
    else if (values != NULL) {
        Py_XSETREF(self->env, Py_NewRef(keep)); /* names, then values; see set_wasi */
        rc = 0;
    }
    PyMem_Free(names);
    PyMem_Free(values);
    Py_XDECREF(keep);
    Py_DECREF(seq);
    return rc;
}

typedef bool (*set_file_fn)(wasi_config_t *, const char *);

static int
wasiconfig_set_file(PyObject *op, PyObject *value, void *closure)
{
    WasiConfigObject *self = (WasiConfigObject *)op;
    PyObject *path = NULL;
    if (wasi_no_delete(value) < 0 || !PyUnicode_FSConverter(value, &path)) {
        return -1;
    }
    if (self->config == NULL) {
        Py_DECREF(path);
        ALREADY_CLOSED();
        return -1;
    }
    const char *which = closure == (void *)0   ? "stdin"
                        : closure == (void *)1 ? "stdout"
                                               : "stderr";
    bool ok;
    const char *p = PyBytes_AS_STRING(path);
    if (closure == (void *)0) {
        ok = wasi_config_set_stdin_file(self->config, p);
    }
    else if (closure == (void *)1) {
        ok = wasi_config_set_stdout_file(self->config, p);
    }
    else {
        ok = wasi_config_set_stderr_file(self->config, p);
    }
    Py_DECREF(path);
    if (!ok) {
        ext_raise_msg(self->st, "failed to set %s file", which);
        return -1;
    }
    return 0;
}

static int
wasiconfig_set_stdin_bytes(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    WasiConfigObject *self = (WasiConfigObject *)op;
    Py_buffer view;
    if (wasi_no_delete(value) < 0 || ext_get_bytes(value, &view, "bytes") < 0) {
        return -1;
    }
    if (self->config == NULL) {
        PyBuffer_Release(&view);
        ALREADY_CLOSED();
        return -1;
    }
    wasm_byte_vec_t vec;
    wasm_byte_vec_new(&vec, (size_t)view.len, view.buf);
    PyBuffer_Release(&view);
    wasi_config_set_stdin_bytes(self->config, &vec); /* takes the vector */
    return 0;
}

/* Called by WASI for each write of the guest (GIL released around wasm). */
static ptrdiff_t
wasi_output(void *data, const unsigned char *buf, size_t len)
{
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *callable = data;
    ptrdiff_t res = (ptrdiff_t)len;
    PyObject *bytes = PyBytes_FromStringAndSize((const char *)buf, (Py_ssize_t)len);
    PyObject *ret = bytes ? PyObject_CallOneArg(callable, bytes) : NULL;
    Py_XDECREF(bytes);
    if (ret == NULL) {
        PyErr_WriteUnraisable(callable);
        res = -EIO;
    }
    else if (ret != Py_None) {
        Py_ssize_t n = PyLong_Check(ret) ? PyLong_AsSsize_t(ret) : -1;
        if (n < 0 || (size_t)n > len) {
            if (PyErr_Occurred()) {
                PyErr_WriteUnraisable(callable);
            }
            res = -EIO;
        }
        else {
            res = n;
        }
    }
    Py_XDECREF(ret);
    PyGILState_Release(g);
    return res;
}

static int
wasiconfig_set_custom(PyObject *op, PyObject *value, void *closure)
{
    WasiConfigObject *self = (WasiConfigObject *)op;
    if (wasi_no_delete(value) < 0) {
        return -1;
    }
    EXT_CHECK_OPEN(self->config, -1); /* nothing below runs Python code */
    if (!PyCallable_Check(value)) {
        ext_wrong_type(self->st, "a callable", value);
        return -1;
    }
    /* One slot per stream: assigning again drops the callable it replaces
     * (the C config forgets it too), so nothing accumulates. */
    if (self->outputs == NULL &&
        (self->outputs = Py_BuildValue("[OO]", Py_None, Py_None)) == NULL) {
        return -1;
    }
    if (PyList_SetItem(self->outputs, closure == (void *)1 ? 0 : 1, Py_NewRef(value)) < 0) {
        return -1;
    }
    if (closure == (void *)1) {
        wasi_config_set_stdout_custom(self->config, wasi_output, value, NULL);
    }
    else {
        wasi_config_set_stderr_custom(self->config, wasi_output, value, NULL);
    }
    return 0;
}

#define INHERIT(NAME)                                                                 \
    static PyObject *wasiconfig_inherit_##NAME(PyObject *op, PyObject *Py_UNUSED(ig)) \
    {                                                                                 \
        WasiConfigObject *self = (WasiConfigObject *)op;                              \
        EXT_CHECK_OPEN(self->config, NULL);                                           \
        wasi_config_inherit_##NAME(self->config);                                     \
        Py_RETURN_NONE;                                                               \
    }
INHERIT(stdin)
INHERIT(stdout)
INHERIT(stderr)
INHERIT(network)
#undef INHERIT

static PyObject *
wasiconfig_inherit_argv(PyObject *op, PyObject *Py_UNUSED(ig))
{
    WasiConfigObject *self = (WasiConfigObject *)op;
    EXT_CHECK_OPEN(self->config, NULL);
    Py_XSETREF(self->argv, Py_NewRef(Py_True));
    Py_RETURN_NONE;
}

static PyObject *
wasiconfig_inherit_env(PyObject *op, PyObject *Py_UNUSED(ig))
{
    WasiConfigObject *self = (WasiConfigObject *)op;
    EXT_CHECK_OPEN(self->config, NULL);
    Py_XSETREF(self->env, Py_NewRef(Py_True));
    Py_RETURN_NONE;
}

static PyObject *
wasiconfig_preopen_dir(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"path", "guest_path", "fs_mutable", NULL};
    WasiConfigObject *self = (WasiConfigObject *)op;
    PyObject *a[3];
    if (ext_parse_args(args, nargs, kwnames, "preopen_dir", kwlist, 2, a) < 0) {
        return NULL;
    }
    int fs_mutable = a[2] == NULL ? 1 : PyObject_IsTrue(a[2]);
    if (fs_mutable < 0) {
        return NULL;
    }
    PyObject *host = NULL, *guest = NULL;
    if (!PyUnicode_FSConverter(a[0], &host)) {
        return NULL;
    }
    if (!PyUnicode_Check(a[1])) {
        Py_DECREF(host);
        return ext_wrong_type(self->st, "a str guest path", a[1]);
    }
    guest = PyUnicode_AsUTF8String(a[1]);
    if (guest == NULL || self->config == NULL) {
        /* __bool__ and __fspath__ above may have closed this config. */
        if (guest != NULL) {
            ALREADY_CLOSED();
        }
        Py_DECREF(host);
        Py_XDECREF(guest);
        return NULL;
    }
    bool ok = wasi_config_preopen_dir(self->config, PyBytes_AS_STRING(host),
                                      PyBytes_AS_STRING(guest), fs_mutable != 0);
    Py_DECREF(host);
    Py_DECREF(guest);
    if (!ok) {
        return ext_raise_msg(self->st, "failed to add preopen dir");
    }
    Py_RETURN_NONE;
}

static PyObject *
wasiconfig_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    WasiConfigObject *self = (WasiConfigObject *)op;
    if (self->config != NULL) {
        wasi_config_delete(self->config);
        self->config = NULL;
    }
    Py_RETURN_NONE;
}

static int
wasiconfig_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((WasiConfigObject *)op)->outputs);
    Py_VISIT(((WasiConfigObject *)op)->argv);
    Py_VISIT(((WasiConfigObject *)op)->env);
    return 0;
}

static int
wasiconfig_clear(PyObject *op)
{
    WasiConfigObject *self = (WasiConfigObject *)op;
    /* The C config borrows the callables: it goes first. */
    if (self->config != NULL) {
        wasi_config_delete(self->config);
        self->config = NULL;
    }
    Py_CLEAR(self->outputs);
    Py_CLEAR(self->argv);
    Py_CLEAR(self->env);
    return 0;
}

static void
wasiconfig_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)wasiconfig_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef wasiconfig_methods[] = {
    {"inherit_argv", wasiconfig_inherit_argv, METH_NOARGS,
     "inherit_argv($self, /)\n--\n\nUse this process's argv."},
    {"inherit_env", wasiconfig_inherit_env, METH_NOARGS,
     "inherit_env($self, /)\n--\n\nUse this process's environment."},
    {"inherit_stdin", wasiconfig_inherit_stdin, METH_NOARGS,
     "inherit_stdin($self, /)\n--\n\nRead this process's stdin."},
    {"inherit_stdout", wasiconfig_inherit_stdout, METH_NOARGS,
     "inherit_stdout($self, /)\n--\n\nWrite to this process's stdout."},
    {"inherit_stderr", wasiconfig_inherit_stderr, METH_NOARGS,
     "inherit_stderr($self, /)\n--\n\nWrite to this process's stderr."},
    {"inherit_network", wasiconfig_inherit_network, METH_NOARGS,
     "inherit_network($self, /)\n--\n\nAllow WASIp2 sockets to use the host network."},
    {"preopen_dir", EXT_FASTCALL_KW(wasiconfig_preopen_dir),
     "preopen_dir($self, path, guest_path, fs_mutable=True)\n--\n\n"
     "Give the guest the host directory `path` as `guest_path`; read-only unless "
     "fs_mutable."},
    {"close", wasiconfig_close, METH_NOARGS, "close($self, /)\n--\n\nFree the configuration."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef wasiconfig_getset[] = {
    {"argv", NULL, wasiconfig_set_argv, "Write-only: the guest's argv (list of str).", NULL},
    {"env", NULL, wasiconfig_set_env, "Write-only: the guest's environment, (name, value) pairs.",
     NULL},
    {"stdin_file", NULL, wasiconfig_set_file, "Write-only: a file to read stdin from.", (void *)0},
    {"stdout_file", NULL, wasiconfig_set_file, "Write-only: a file to write stdout to.",
     (void *)1},
    {"stderr_file", NULL, wasiconfig_set_file, "Write-only: a file to write stderr to.",
     (void *)2},
    {"stdin_bytes", NULL, wasiconfig_set_stdin_bytes,
     "Write-only: bytes the guest reads as stdin.", NULL},
    {"stdout_custom", NULL, wasiconfig_set_custom,
     "Write-only: a callable given each stdout write as bytes.", (void *)1},
    {"stderr_custom", NULL, wasiconfig_set_custom,
     "Write-only: a callable given each stderr write as bytes.", (void *)2},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot wasiconfig_slots[] = {
    {Py_tp_new, wasiconfig_new},
    {Py_tp_dealloc, wasiconfig_dealloc},
    {Py_tp_traverse, wasiconfig_traverse},
    {Py_tp_clear, wasiconfig_clear},
    {Py_tp_methods, wasiconfig_methods},
    {Py_tp_getset, wasiconfig_getset},
    {Py_tp_doc, "WasiConfig()\n--\n\nSettings of a WASI context; consumed by Store.set_wasi."},
    {0, NULL},
};

static PyType_Spec wasiconfig_spec = {
    .name = "wasmtime.WasiConfig",
    .basicsize = sizeof(WasiConfigObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = wasiconfig_slots,
};

int
wasi_register(PyObject *mod, ext_state *st)
{
    st->WasiConfig_Type = ext_add_type(mod, &wasiconfig_spec, (PyObject *)st->Managed_Type);
    return st->WasiConfig_Type == NULL ? -1 : 0;
}
