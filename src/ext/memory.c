/* Memory: a wasm linear memory, and MemoryView, its zero-copy buffer
 * (wraps wasmtime/memory.h).
 *
 * read()/write() are single bounds-checked memcpys.  data_ptr() and
 * get_buffer_ptr() return ctypes objects like wasmtime-py (raw pointers: the
 * caller must not use them after the memory grows or the store closes).
 *
 * MemoryView is the safe zero-copy path: `memoryview(mem.view(store))` or
 * `numpy.frombuffer(mem.view(store), ...)`.  A buffer is only exported when
 * the memory can never move (a 32-bit memory inside the engine's default
 * 4 GiB reservation, or an engine with Config.memory_may_move = False), so
 * its base stays put for the memory's whole life; memories only grow, so the
 * exported length stays valid.  While buffers are exported the Store refuses
 * close() with BufferError, and the view holds the Store alive, so the bytes
 * cannot be unmapped under a memoryview.  See docs/memory.md.
 */
#include "runtime.h"

static int
mem_ctx(PyObject *op, PyObject *store, ext_ctx *c)
{
    ExternObject *self = (ExternObject *)op;
    return ext_resolve_owner(self->store->st, store, self->store, c);
}

static const wasmtime_memory_t *
mem_of(PyObject *op)
{
    return &((ExternObject *)op)->ext.of.memory;
}

static PyObject *
memory_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"store", "ty", NULL};
    PyObject *store, *ty;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Memory", kwlist, &store, &ty)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    ext_ctx c;
    if (ext_resolve_store(st, store, &c) < 0) {
        return NULL;
    }
    if (!PyObject_TypeCheck(ty, st->MemoryType_Type)) {
        return ext_wrong_type(st, "a MemoryType", ty);
    }
    const wasm_memorytype_t *mty = wasmtype_get(ty);
    if (mty == NULL) {
        return NULL;
    }
    ExternObject *self = PyObject_GC_New(ExternObject, type);
    if (self == NULL) {
        return NULL;
    }
    self->store = (StoreObject *)Py_NewRef(c.so);
    self->weakreflist = NULL;
    self->ext.kind = WASMTIME_EXTERN_MEMORY;
    PyObject_GC_Track(self);
    wasmtime_error_t *err = wasmtime_memory_new(c.ctx, mty, &self->ext.of.memory);
    if (err != NULL) {
        Py_DECREF(self);
        return ext_raise_error(st, err);
    }
    return (PyObject *)self;
}

static PyObject *
memory_type(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (mem_ctx(op, store, &c) < 0) {
        return NULL;
    }
    return memorytype_from_owned(c.so->st, wasmtime_memory_type(c.ctx, mem_of(op)));
}

static PyObject *
memory_size(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (mem_ctx(op, store, &c) < 0) {
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(wasmtime_memory_size(c.ctx, mem_of(op)));
}

static PyObject *
memory_data_len(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (mem_ctx(op, store, &c) < 0) {
        return NULL;
    }
    return PyLong_FromSize_t(wasmtime_memory_data_size(c.ctx, mem_of(op)));
}

static PyObject *
memory_page_size(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (mem_ctx(op, store, &c) < 0) {
        return NULL;
    }
    wasm_memorytype_t *ty = wasmtime_memory_type(c.ctx, mem_of(op));
    uint64_t v = wasmtime_memorytype_page_size(ty);
    wasm_memorytype_delete(ty);
    return PyLong_FromUnsignedLongLong(v);
}

static PyObject *
memory_page_size_log2(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (mem_ctx(op, store, &c) < 0) {
        return NULL;
    }
    wasm_memorytype_t *ty = wasmtime_memory_type(c.ctx, mem_of(op));
    int v = wasmtime_memorytype_page_size_log2(ty);
    wasm_memorytype_delete(ty);
    return PyLong_FromLong(v);
}

static PyObject *
memory_grow(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "grow() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    uint64_t delta, prev = 0;
    if (ext_grow_delta(((ExternObject *)op)->store->st, args[1], &delta) < 0) {
        return NULL;
    }
    ext_ctx c;
    if (mem_ctx(op, args[0], &c) < 0) {
        return NULL;
    }
    wasmtime_error_t *err = wasmtime_memory_grow(c.ctx, mem_of(op), delta, &prev);
    if (err != NULL) {
        return ext_raise_error(c.so->st, err);
    }
    return PyLong_FromUnsignedLongLong(prev);
}

static PyObject *
memory_data_ptr(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (mem_ctx(op, store, &c) < 0) {
        return NULL;
    }
    return ext_ctypes_pointer(c.so->st, wasmtime_memory_data(c.ctx, mem_of(op)));
}

static PyObject *
memory_get_buffer_ptr(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"store", "size", "offset", NULL};
    PyObject *a[3];
    if (ext_parse_args(args, nargs, kwnames, "get_buffer_ptr", kwlist, 1, a) < 0) {
        return NULL;
    }
    uint64_t offset = 0, size = 0;
    bool has_size = a[1] != NULL && a[1] != Py_None;
    if (a[2] != NULL && ext_long_as_u64(a[2], &offset) != 0) {
        PyErr_SetString(PyExc_ValueError, "offset must be a non-negative int");
        return NULL;
    }
    if (has_size && ext_long_as_u64(a[1], &size) != 0) {
        PyErr_SetString(PyExc_ValueError, "size must be a non-negative int or None");
        return NULL;
    }
    ext_ctx c;
    if (mem_ctx(op, a[0], &c) < 0) {
        return NULL;
    }
    size_t len = wasmtime_memory_data_size(c.ctx, mem_of(op));
    if (offset > len) {
        PyErr_SetString(PyExc_IndexError, "offset is past the end of the memory");
        return NULL;
    }
    if (!has_size) {
        size = len - offset;
    }
    if (size > len - offset) {
        PyErr_SetString(PyExc_IndexError, "offset + size is past the end of the memory");
        return NULL;
    }
    return ext_ctypes_array(wasmtime_memory_data(c.ctx, mem_of(op)) + offset, (size_t)size);
}

static PyObject *
memory_read(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"store", "start", "stop", NULL};
    PyObject *a[3];
    if (ext_parse_args(args, nargs, kwnames, "read", kwlist, 1, a) < 0) {
        return NULL;
    }
    /* __index__ of start/stop runs Python code: before mem_ctx. */
    PyObject *slice = PySlice_New(a[1] ? a[1] : Py_None, a[2] ? a[2] : Py_None, NULL);
    if (slice == NULL) {
        return NULL;
    }
    Py_ssize_t start, stop, step;
    int rc = PySlice_Unpack(slice, &start, &stop, &step);
    Py_DECREF(slice);
    if (rc < 0) {
        return NULL;
    }
    ext_ctx c;
    if (mem_ctx(op, a[0], &c) < 0) {
        return NULL;
    }
    size_t len = wasmtime_memory_data_size(c.ctx, mem_of(op));
    if (len > (size_t)PY_SSIZE_T_MAX) {
        len = (size_t)PY_SSIZE_T_MAX;
    }
    Py_ssize_t n = PySlice_AdjustIndices((Py_ssize_t)len, &start, &stop, step);
    if (n <= 0) {
        return PyByteArray_FromStringAndSize(NULL, 0);
    }
    const uint8_t *base = wasmtime_memory_data(c.ctx, mem_of(op));
    return PyByteArray_FromStringAndSize((const char *)base + start, n);
}

static PyObject *
memory_write(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"store", "value", "start", NULL};
    PyObject *a[3];
    if (ext_parse_args(args, nargs, kwnames, "write", kwlist, 2, a) < 0) {
        return NULL;
    }
    /* Converting `value` (iteration, the buffer protocol) and `start`
     * (__index__) runs Python code: all before mem_ctx. */
    PyObject *value = a[1], *owned = NULL;
    if (!PyObject_CheckBuffer(value) || PyUnicode_Check(value)) {
        owned = PyByteArray_FromObject(value);
        if (owned == NULL) {
            return NULL;
        }
        value = owned;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(value, &view, PyBUF_SIMPLE) < 0) {
        Py_XDECREF(owned);
        return NULL;
    }
    PyObject *res = NULL;
    Py_ssize_t start = 0, stop = PY_SSIZE_T_MAX, step = 1;
    bool has_start = a[2] != NULL && a[2] != Py_None;
    if (has_start) {
        PyObject *slice = PySlice_New(a[2], Py_None, NULL);
        if (slice == NULL || PySlice_Unpack(slice, &start, &stop, &step) < 0) {
            Py_XDECREF(slice);
            goto done;
        }
        Py_DECREF(slice);
    }
    ext_ctx c;
    if (mem_ctx(op, a[0], &c) < 0) {
        goto done;
    }
    size_t len = wasmtime_memory_data_size(c.ctx, mem_of(op));
    if (has_start) {
        PySlice_AdjustIndices(len > (size_t)PY_SSIZE_T_MAX ? PY_SSIZE_T_MAX : (Py_ssize_t)len,
                              &start, &stop, step);
    }
    if ((size_t)start >= len) {
        PyErr_SetString(PyExc_IndexError, "start is past the end of the memory");
        goto done;
    }
    if ((size_t)view.len > len - (size_t)start) {
        PyErr_SetString(PyExc_IndexError, "index out of range: the data does not fit");
        goto done;
    }
    if (view.len > 0) {
        /* memmove: `value` may be a view of this very memory. */
        memmove(wasmtime_memory_data(c.ctx, mem_of(op)) + start, view.buf, (size_t)view.len);
    }
    res = PyLong_FromSsize_t(view.len);
done:
    PyBuffer_Release(&view);
    Py_XDECREF(owned);
    return res;
}

/* ---- MemoryView ----------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    StoreObject *store; /* strong */
    wasmtime_memory_t memory;
} MemoryViewObject;

static PyObject *
memory_view(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (mem_ctx(op, store, &c) < 0) {
        return NULL;
    }
    ext_state *st = c.so->st;
    wasm_memorytype_t *ty = wasmtime_memory_type(c.ctx, mem_of(op));
    bool is64 = wasmtime_memorytype_is64(ty);
    wasm_memorytype_delete(ty);
    EngineObject *eng = (EngineObject *)c.so->engine;
    if (eng == NULL || !(eng->memories_fixed || (!is64 && eng->memories32_fixed))) {
        PyErr_SetString(PyExc_BufferError,
                        "this memory may move when it grows, so no zero-copy view of it can "
                        "be taken; set Config.memory_may_move = False to allow views");
        return NULL;
    }
    MemoryViewObject *self = PyObject_GC_New(MemoryViewObject, st->MemoryView_Type);
    if (self == NULL) {
        return NULL;
    }
    self->store = (StoreObject *)Py_NewRef(c.so);
    self->memory = *mem_of(op);
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static int
memoryview_getbuffer(PyObject *op, Py_buffer *view, int flags)
{
    MemoryViewObject *self = (MemoryViewObject *)op;
    ext_ctx c;
    if (self->store == NULL) {
        PyErr_SetString(PyExc_BufferError, "this view was cleared");
        return -1;
    }
    if (ext_resolve_store(self->store->st, (PyObject *)self->store, &c) < 0) {
        return -1;
    }
    uint8_t *base = wasmtime_memory_data(c.ctx, &self->memory);
    size_t len = wasmtime_memory_data_size(c.ctx, &self->memory);
    if (len > (size_t)PY_SSIZE_T_MAX) {
        len = (size_t)PY_SSIZE_T_MAX;
    }
    if (PyBuffer_FillInfo(view, op, base, (Py_ssize_t)len, 0, flags) < 0) {
        return -1;
    }
    self->store->exports++;
    return 0;
}

static void
memoryview_releasebuffer(PyObject *op, Py_buffer *view)
{
    (void)view;
    MemoryViewObject *self = (MemoryViewObject *)op;
    if (self->store != NULL) {
        ext_store_buffer_released(self->store);
    }
}

static int
memoryview_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((MemoryViewObject *)op)->store);
    return 0;
}

static void
memoryview_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    /* No tp_clear: the store must outlive every exported buffer, and an
     * exporter is only deallocated once its buffers are released. */
    Py_CLEAR(((MemoryViewObject *)op)->store);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyType_Slot memoryview_slots[] = {
    {Py_bf_getbuffer, memoryview_getbuffer},
    {Py_bf_releasebuffer, memoryview_releasebuffer},
    {Py_tp_dealloc, memoryview_dealloc},
    {Py_tp_traverse, memoryview_traverse},
    {Py_tp_doc, "A zero-copy, writable buffer over a wasm memory (see Memory.view)."},
    {0, NULL},
};

static PyType_Spec memoryview_spec = {
    .name = "wasmtime.MemoryView",
    .basicsize = sizeof(MemoryViewObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = memoryview_slots,
};

EXT_KWN(memory_grow, "grow", 2, "store", "delta")
EXT_KW1(memory_type, "type", "store")
EXT_KW1(memory_size, "size", "store")
EXT_KW1(memory_data_len, "data_len", "store")
EXT_KW1(memory_data_ptr, "data_ptr", "store")
EXT_KW1(memory_page_size, "page_size", "store")
EXT_KW1(memory_page_size_log2, "page_size_log2", "store")
EXT_KW1(memory_view, "view", "store")

static PyMethodDef memory_methods[] = {
    {"type", EXT_KW1_ENTRY(memory_type), "type($self, store)\n--\n\nThe MemoryType."},
    {"grow", EXT_KWN_ENTRY(memory_grow),
     "grow($self, store, delta)\n--\n\nGrow by `delta` pages; returns the previous size."},
    {"size", EXT_KW1_ENTRY(memory_size), "size($self, store)\n--\n\nSize in pages."},
    {"data_len", EXT_KW1_ENTRY(memory_data_len), "data_len($self, store)\n--\n\nSize in bytes."},
    {"data_ptr", EXT_KW1_ENTRY(memory_data_ptr),
     "data_ptr($self, store)\n--\n\nA raw ctypes pointer to the bytes (unchecked; "
     "invalid after grow or close). Prefer view() or read()/write()."},
    {"get_buffer_ptr", EXT_FASTCALL_KW(memory_get_buffer_ptr),
     "get_buffer_ptr($self, store, size=None, offset=0)\n--\n\nA ctypes array over "
     "[offset, offset+size) (bounds-checked now, raw afterwards)."},
    {"read", EXT_FASTCALL_KW(memory_read),
     "read($self, store, start=0, stop=None)\n--\n\nCopy out memory[start:stop] as a "
     "bytearray (slice semantics)."},
    {"write", EXT_FASTCALL_KW(memory_write),
     "write($self, store, value, start=None)\n--\n\nCopy `value` in at `start`; "
     "IndexError when it does not fit. Returns the byte count."},
    {"page_size", EXT_KW1_ENTRY(memory_page_size), "page_size($self, store)\n--\n\n"},
    {"page_size_log2", EXT_KW1_ENTRY(memory_page_size_log2),
     "page_size_log2($self, store)\n--\n\n"},
    {"view", EXT_KW1_ENTRY(memory_view),
     "view($self, store)\n--\n\nA zero-copy buffer over the memory, for memoryview() "
     "and numpy; bounds-checked, and the Store cannot be closed while it is in use."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot memory_slots[] = {
    {Py_tp_members, ext_handle_members},
    {Py_tp_new, memory_new},
    {Py_tp_dealloc, ext_handle_dealloc},
    {Py_tp_traverse, ext_handle_traverse},
    {Py_tp_clear, ext_handle_clear},
    {Py_tp_methods, memory_methods},
    {Py_tp_doc, "Memory(store, ty)\n--\n\nA wasm linear memory."},
    {0, NULL},
};

static PyType_Spec memory_spec = {
    .name = "wasmtime.Memory",
    .basicsize = sizeof(ExternObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = memory_slots,
};

int
memory_register(PyObject *mod, ext_state *st)
{
    if ((st->Memory_Type = ext_add_type(mod, &memory_spec, NULL)) == NULL ||
        (st->MemoryView_Type = ext_add_type(mod, &memoryview_spec, NULL)) == NULL) {
        return -1;
    }
    return 0;
}
