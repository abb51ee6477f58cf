/* SharedMemory: a memory shared between threads, owned by an Engine rather
 * than a Store (wraps wasmtime/sharedmemory.h).
 *
 * Owns its wasmtime_sharedmemory_t (one release point: close()/dealloc) and
 * holds its Engine.  Usable as an import and with Linker.define (the pointer
 * is lent for the duration of the call).  Shared memories never move, so
 * view() exports a zero-copy buffer; close() waits until none is exported.
 */
#include "runtime.h"

static PyObject *
sharedmemory_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"engine", "ty", NULL};
    PyObject *engine, *ty;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:SharedMemory", kwlist, &engine, &ty)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(engine, st->Engine_Type)) {
        return ext_wrong_type(st, "an Engine", engine);
    }
    if (!PyObject_TypeCheck(ty, st->MemoryType_Type)) {
        return ext_wrong_type(st, "a MemoryType", ty);
    }
    EngineObject *eng = (EngineObject *)engine;
    EXT_CHECK_OPEN(eng->engine, NULL);
    const wasm_memorytype_t *mty = wasmtype_get(ty);
    if (mty == NULL) {
        return NULL;
    }
    wasmtime_sharedmemory_t *mem = NULL;
    wasmtime_error_t *err = wasmtime_sharedmemory_new(eng->engine, mty, &mem);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return ext_sharedmemory_wrap(st, engine, mem);
}

static wasmtime_sharedmemory_t *
sm_get(PyObject *op)
{
    wasmtime_sharedmemory_t *m = ((SharedMemoryObject *)op)->mem;
    if (m == NULL) {
        ALREADY_CLOSED();
    }
    return m;
}

static PyObject *
sharedmemory_type(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    wasmtime_sharedmemory_t *m = sm_get(op);
    return m == NULL ? NULL
                     : memorytype_from_owned(((SharedMemoryObject *)op)->st,
                                             wasmtime_sharedmemory_type(m));
}

static PyObject *
sharedmemory_grow(PyObject *op, PyObject *arg)
{
    wasmtime_sharedmemory_t *m = sm_get(op);
    if (m == NULL) {
        return NULL;
    }
    ext_state *st = ((SharedMemoryObject *)op)->st;
    uint64_t delta, prev = 0;
    if (ext_grow_delta(st, arg, &delta) < 0) {
        return NULL;
    }
    wasmtime_error_t *err = wasmtime_sharedmemory_grow(m, delta, &prev);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return PyLong_FromUnsignedLongLong(prev);
}

static PyObject *
sharedmemory_size(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    wasmtime_sharedmemory_t *m = sm_get(op);
    return m == NULL ? NULL : PyLong_FromUnsignedLongLong(wasmtime_sharedmemory_size(m));
}

static PyObject *
sharedmemory_data_len(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    wasmtime_sharedmemory_t *m = sm_get(op);
    return m == NULL ? NULL : PyLong_FromSize_t(wasmtime_sharedmemory_data_size(m));
}

static PyObject *
sharedmemory_data_ptr(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    wasmtime_sharedmemory_t *m = sm_get(op);
    return m == NULL
               ? NULL
               : ext_ctypes_pointer(((SharedMemoryObject *)op)->st, wasmtime_sharedmemory_data(m));
}

static int
sharedmemory_getbuffer(PyObject *op, Py_buffer *view, int flags)
{
    wasmtime_sharedmemory_t *m = sm_get(op);
    if (m == NULL) {
        return -1;
    }
    size_t len = wasmtime_sharedmemory_data_size(m);
    if (len > (size_t)PY_SSIZE_T_MAX) {
        len = (size_t)PY_SSIZE_T_MAX;
    }
    if (PyBuffer_FillInfo(view, op, wasmtime_sharedmemory_data(m), (Py_ssize_t)len, 0, flags) <
        0) {
        return -1;
    }
    ((SharedMemoryObject *)op)->exports++;
    return 0;
}

static void
sharedmemory_releasebuffer(PyObject *op, Py_buffer *view)
{
    (void)view;
    ((SharedMemoryObject *)op)->exports--;
}

static PyObject *
sharedmemory_view(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    if (sm_get(op) == NULL) {
        return NULL;
    }
    return PyMemoryView_FromObject(op);
}

static PyObject *
sharedmemory_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    SharedMemoryObject *self = (SharedMemoryObject *)op;
    if (self->exports > 0) {
        PyErr_SetString(PyExc_BufferError,
                        "cannot close a SharedMemory while views of it are exported");
        return NULL;
    }
    Py_BEGIN_CRITICAL_SECTION(op);
    EXT_RETIRE(self, mem, wasmtime_sharedmemory_delete);
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static int
sharedmemory_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((SharedMemoryObject *)op)->engine);
    return 0;
}

static int
sharedmemory_clear(PyObject *op)
{
    Py_CLEAR(((SharedMemoryObject *)op)->engine);
    return 0;
}

static void
sharedmemory_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    SharedMemoryObject *self = (SharedMemoryObject *)op;
    PyObject_GC_UnTrack(op);
    EXT_CLEAR_WEAKREFS(op, self->weakreflist);
    if (self->mem != NULL) {
        wasmtime_sharedmemory_delete(self->mem);
    }
    EXT_DELETE_RETIRED(self, wasmtime_sharedmemory_t, wasmtime_sharedmemory_delete);
    (void)sharedmemory_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(sharedmemory_grow, "grow", "delta")

static PyMethodDef sharedmemory_methods[] = {
    {"type", sharedmemory_type, METH_NOARGS, "type($self, /)\n--\n\nThe MemoryType."},
    {"grow", EXT_KW1_ENTRY(sharedmemory_grow),
     "grow($self, delta)\n--\n\nGrow by `delta` pages; returns the previous size."},
    {"size", sharedmemory_size, METH_NOARGS, "size($self, /)\n--\n\nSize in pages."},
    {"data_len", sharedmemory_data_len, METH_NOARGS, "data_len($self, /)\n--\n\nSize in bytes."},
    {"data_ptr", sharedmemory_data_ptr, METH_NOARGS,
     "data_ptr($self, /)\n--\n\nA raw ctypes pointer to the bytes (unchecked)."},
    {"view", sharedmemory_view, METH_NOARGS,
     "view($self, /)\n--\n\nA zero-copy memoryview of the current size."},
    {"close", sharedmemory_close, METH_NOARGS, "close($self, /)\n--\n\nRelease this handle."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef sharedmemory_members[] = {
    EXT_WEAKREF_MEMBER(SharedMemoryObject, weakreflist),
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot sharedmemory_slots[] = {
    {Py_tp_members, sharedmemory_members},
    {Py_tp_new, sharedmemory_new},
    {Py_tp_dealloc, sharedmemory_dealloc},
    {Py_tp_traverse, sharedmemory_traverse},
    {Py_tp_clear, sharedmemory_clear},
    {Py_tp_methods, sharedmemory_methods},
    {Py_bf_getbuffer, sharedmemory_getbuffer},
    {Py_bf_releasebuffer, sharedmemory_releasebuffer},
    {Py_tp_doc, "SharedMemory(engine, ty)\n--\n\nA shared wasm memory (`ty` must be shared)."},
    {0, NULL},
};

static PyType_Spec sharedmemory_spec = {
    .name = "wasmtime.SharedMemory",
    .basicsize = sizeof(SharedMemoryObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = sharedmemory_slots,
};

int
sharedmemory_register(PyObject *mod, ext_state *st)
{
    st->SharedMemory_Type = ext_add_type(mod, &sharedmemory_spec, (PyObject *)st->Managed_Type);
    return st->SharedMemory_Type == NULL ? -1 : 0;
}
