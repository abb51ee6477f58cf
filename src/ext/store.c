/* Store: the container of all wasm objects (wraps wasmtime/store.h).
 *
 * Owns its wasmtime_store_t and holds a strong reference to its Engine.  The
 * C store's data pointer is this StoreObject (borrowed), so a callback that
 * only has a wasmtime_context_t finds its Python Store.  close() and dealloc
 * are the release points; store-bound handles hold a strong reference to the
 * StoreObject and check it before every call.
 */
#include "common.h"

#include <structmember.h>
#include <pythread.h>

/* ---- resolving `store` arguments and bracketing calls ------------------ */

static int
store_check_usable(StoreObject *so)
{
    if (so->store == NULL) {
        ALREADY_CLOSED();
        return -1;
    }
    if (so->running > 0 && so->running_thread != PyThread_get_thread_ident()) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this Store is running wasm on another thread; a Store "
                        "is used by one thread at a time");
        return -1;
    }
    return 0;
}

int
ext_resolve_store(ext_state *st, PyObject *obj, ext_ctx *out)
{
    if (Py_IS_TYPE(obj, st->Store_Type) || PyObject_TypeCheck(obj, st->Store_Type)) {
        StoreObject *so = (StoreObject *)obj;
        if (store_check_usable(so) < 0) {
            return -1;
        }
        out->so = so;
        out->ctx = so->context;
        return 0;
    }
    if (Py_IS_TYPE(obj, st->Caller_Type)) {
        CallerObject *caller = (CallerObject *)obj;
        if (caller->caller == NULL) {
            PyErr_SetString(PyExc_ValueError, "caller is no longer valid");
            return -1;
        }
        if (store_check_usable(caller->store) < 0) {
            return -1;
        }
        out->so = caller->store;
        out->ctx = wasmtime_caller_context(caller->caller);
        return 0;
    }
    ext_wrong_type(st, "a Store or Caller", obj);
    return -1;
}

int
ext_resolve_owner(ext_state *st, PyObject *obj, StoreObject *owner, ext_ctx *out)
{
    if (ext_resolve_store(st, obj, out) < 0) {
        return -1;
    }
    if (out->so != owner) {
        ext_raise_msg(st, "object used with the wrong store: it belongs to another Store");
        return -1;
    }
    return 0;
}

void
ext_call_enter(StoreObject *so)
{
    if (so->running++ == 0) {
        so->running_thread = PyThread_get_thread_ident();
        /* Nothing may survive from an earlier call. */
        Py_CLEAR(so->pending_exc);
    }
}

void
ext_call_leave(StoreObject *so)
{
    so->running--;
}

void
ext_store_set_pending(StoreObject *so)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    Py_XSETREF(so->pending_exc, value);
}

/* Attach the wasm frames of `trap` to the host exception as a note. */
static void
add_wasm_note(PyObject *exc, const wasm_trap_t *trap, const wasmtime_error_t *err)
{
    PyObject *text = ext_trap_frames_text(trap, err);
    if (text == NULL) {
        PyErr_Clear();
        return;
    }
    PyObject *res = PyObject_CallMethod(exc, "add_note", "O", text);
    Py_DECREF(text);
    if (res == NULL) {
        PyErr_Clear(); /* add_note exists from Python 3.11 */
    }
    Py_XDECREF(res);
}

int
ext_call_finish(ext_state *st, StoreObject *so, wasmtime_error_t *err, wasm_trap_t *trap)
{
    if (so->pending_exc != NULL && (err != NULL || trap != NULL)) {
        PyObject *exc = so->pending_exc;
        so->pending_exc = NULL;
        if (so->running == 0) {
            /* Only the outermost call notes the backtrace, which covers the
             * frames of every nested call. */
            add_wasm_note(exc, trap, err);
        }
        if (err != NULL) {
            wasmtime_error_delete(err);
        }
        if (trap != NULL) {
            wasm_trap_delete(trap);
        }
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
        return -1;
    }
    if (trap != NULL) {
        if (err != NULL) {
            wasmtime_error_delete(err);
        }
        ext_raise_trap(st, trap);
        return -1;
    }
    if (err != NULL) {
        ext_raise_error(st, err);
        return -1;
    }
    return 0;
}

int
ext_store_keep(StoreObject *so, PyObject *obj)
{
    if (so->host_objects == NULL) {
        so->host_objects = PyDict_New();
        if (so->host_objects == NULL) {
            return -1;
        }
    }
    /* Keyed by identity: keeping the same object twice costs nothing. */
    PyObject *key = PyLong_FromVoidPtr(obj);
    if (key == NULL) {
        return -1;
    }
    int rc = PyDict_SetDefault(so->host_objects, key, obj) == NULL ? -1 : 0;
    Py_DECREF(key);
    return rc;
}

static PyObject *
store_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"engine", "data", NULL};
    PyObject *engine = Py_None, *data = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO:Store", kwlist, &engine, &data)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    if (engine == Py_None) {
        engine = PyObject_CallNoArgs((PyObject *)st->Engine_Type);
        if (engine == NULL) {
            return NULL;
        }
    }
    else if (!PyObject_TypeCheck(engine, st->Engine_Type)) {
        return ext_wrong_type(st, "an Engine", engine);
    }
    else {
        Py_INCREF(engine);
    }
    EngineObject *eng = (EngineObject *)engine;
    if (eng->engine == NULL) {
        Py_DECREF(engine);
        return ALREADY_CLOSED(), NULL;
    }
    StoreObject *self = (StoreObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(engine);
        return NULL;
    }
    self->st = st;
    self->engine = engine;
    self->data = data == Py_None ? NULL : Py_NewRef(data);
    self->store = wasmtime_store_new(eng->engine, self, NULL);
    if (self->store == NULL) {
        Py_DECREF(self);
        return ext_raise_msg(st, "failed to create the store");
    }
    self->context = wasmtime_store_context(self->store);
    return (PyObject *)self;
}

static PyObject *
store_data(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    StoreObject *self = (StoreObject *)op;
    if (store_check_usable(self) < 0) {
        return NULL;
    }
    return Py_NewRef(self->data != NULL ? self->data : Py_None);
}

static PyObject *
store_gc(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    StoreObject *self = (StoreObject *)op;
    if (store_check_usable(self) < 0) {
        return NULL;
    }
    /* Keeps the GIL: collection may run externref finalizers, which touch
     * Python objects. */
    wasmtime_error_t *err = wasmtime_context_gc(self->context);
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    Py_RETURN_NONE;
}

/* A non-negative int that fits in u64, or -1 with TypeError/OverflowError. */
static int
store_u64_arg(PyObject *obj, const char *what, uint64_t *out)
{
    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, got %.200s", what,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    unsigned long long v = PyLong_AsUnsignedLongLong(obj);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_Format(PyExc_OverflowError, "%s must be between 0 and 2**64-1", what);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

static PyObject *
store_set_fuel(PyObject *op, PyObject *arg)
{
    StoreObject *self = (StoreObject *)op;
    if (store_check_usable(self) < 0) {
        return NULL;
    }
    uint64_t fuel;
    if (store_u64_arg(arg, "fuel", &fuel) < 0) {
        return NULL;
    }
    wasmtime_error_t *err = wasmtime_context_set_fuel(self->context, fuel);
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    Py_RETURN_NONE;
}

static PyObject *
store_get_fuel(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    StoreObject *self = (StoreObject *)op;
    if (store_check_usable(self) < 0) {
        return NULL;
    }
    uint64_t fuel = 0;
    wasmtime_error_t *err = wasmtime_context_get_fuel(self->context, &fuel);
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    return PyLong_FromUnsignedLongLong(fuel);
}

static PyObject *
store_set_epoch_deadline(PyObject *op, PyObject *arg)
{
    StoreObject *self = (StoreObject *)op;
    if (store_check_usable(self) < 0) {
        return NULL;
    }
    uint64_t ticks;
    if (store_u64_arg(arg, "ticks_after_current", &ticks) < 0) {
        return NULL;
    }
    wasmtime_context_set_epoch_deadline(self->context, ticks);
    Py_RETURN_NONE;
}

static PyObject *
store_set_limits(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"memory_size", "table_elements", "instances",
                                         "tables", "memories", NULL};
    StoreObject *self = (StoreObject *)op;
    PyObject *a[5];
    int64_t v[5];
    if (ext_parse_args(args, nargs, kwnames, "set_limits", kwlist, 0, a) < 0 ||
        store_check_usable(self) < 0) {
        return NULL;
    }
    for (int i = 0; i < 5; i++) {
        v[i] = -1;
        if (a[i] == NULL) {
            continue;
        }
        if (!PyLong_Check(a[i])) {
            PyErr_Format(PyExc_TypeError, "%s must be an int, got %.200s", kwlist[i],
                         Py_TYPE(a[i])->tp_name);
            return NULL;
        }
        long long x = PyLong_AsLongLong(a[i]);
        if (x == -1 && PyErr_Occurred()) {
            return NULL;
        }
        /* Negative means "no limit", as in wasmtime_store_limiter. */
        v[i] = x < 0 ? -1 : (int64_t)x;
    }
    wasmtime_store_limiter(self->store, v[0], v[1], v[2], v[3], v[4]);
    Py_RETURN_NONE;
}

static void
store_release(StoreObject *self)
{
    if (self->store != NULL) {
        wasmtime_store_t *store = self->store;
        self->store = NULL;
        self->context = NULL;
        /* With the GIL held: finalizers of host functions and externrefs
         * may drop Python objects. */
        wasmtime_store_delete(store);
        /* Nothing can call the host functions any more, and data() now
         * raises: drop what the store kept for them. */
        Py_CLEAR(self->host_objects);
        Py_CLEAR(self->pending_exc);
        Py_CLEAR(self->data);
    }
}

static PyObject *
store_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    StoreObject *self = (StoreObject *)op;
    if (self->store == NULL) {
        Py_RETURN_NONE;
    }
    if (self->running > 0) {
        PyErr_SetString(PyExc_RuntimeError, "cannot close a Store while it is running wasm");
        return NULL;
    }
    if (self->exports > 0) {
        PyErr_SetString(PyExc_BufferError,
                        "cannot close a Store while views of its memory are exported "
                        "(release the memoryview/numpy arrays first)");
        return NULL;
    }
    store_release(self);
    Py_RETURN_NONE;
}

void
store_buffer_released(StoreObject *so)
{
    if (--so->exports == 0 && so->release_pending) {
        so->release_pending = false;
        store_release(so);
    }
}

static int
store_traverse(PyObject *op, visitproc visit, void *arg)
{
    StoreObject *self = (StoreObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->engine);
    Py_VISIT(self->data);
    Py_VISIT(self->host_objects);
    Py_VISIT(self->pending_exc);
    return 0;
}

static int
store_clear(PyObject *op)
{
    StoreObject *self = (StoreObject *)op;
    /* The C store goes first: nothing may call back into objects we drop.
     * If memory views are still exported, the memory must stay mapped: the
     * last buffer release deletes the store instead. */
    if (self->exports > 0) {
        self->release_pending = true;
    }
    else {
        store_release(self);
    }
    Py_CLEAR(self->data);
    Py_CLEAR(self->host_objects);
    Py_CLEAR(self->pending_exc);
    Py_CLEAR(self->engine);
    return 0;
}

static void
store_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    StoreObject *self = (StoreObject *)op;
    PyObject_GC_UnTrack(op);
    if (self->weakreflist != NULL) {
        PyObject_ClearWeakRefs(op);
    }
    (void)store_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(store_set_fuel, "set_fuel", "fuel")
EXT_KW1(store_set_epoch_deadline, "set_epoch_deadline", "ticks_after_current")
EXT_KW1(store_set_wasi, "set_wasi", "wasi")

static PyMethodDef store_methods[] = {
    {"data", store_data, METH_NOARGS,
     "data($self, /)\n--\n\nThe object given as `data` when the store was made, or None."},
    {"gc", store_gc, METH_NOARGS,
     "gc($self, /)\n--\n\nCollect unreachable references held by wasm."},
    {"set_fuel", EXT_KW1_ENTRY(store_set_fuel),
     "set_fuel($self, fuel)\n--\n\nSet the fuel left (needs Config.consume_fuel)."},
    {"get_fuel", store_get_fuel, METH_NOARGS,
     "get_fuel($self, /)\n--\n\nThe fuel left (needs Config.consume_fuel)."},
    {"set_epoch_deadline", EXT_KW1_ENTRY(store_set_epoch_deadline),
     "set_epoch_deadline($self, ticks_after_current)\n--\n\n"
     "Trap once the engine's epoch passes the current one plus this many ticks."},
    {"set_limits", (PyCFunction)(void (*)(void))store_set_limits, METH_FASTCALL | METH_KEYWORDS,
     "set_limits($self, memory_size=-1, table_elements=-1, instances=-1, tables=-1, "
     "memories=-1)\n--\n\nLimit resources used by this store; negative means no limit."},
    {"set_wasi", EXT_KW1_ENTRY(store_set_wasi),
     "set_wasi($self, wasi)\n--\n\nGive this store a WASI context (consumes the "
     "WasiConfig)."},
    {"set_wasi_http", store_set_wasi_http, METH_NOARGS,
     "set_wasi_http($self, /)\n--\n\nAdd the wasi:http context (after set_wasi)."},
    {"close", store_close, METH_NOARGS,
     "close($self, /)\n--\n\nDelete the store and everything in it."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef store_members[] = {
    {"engine", T_OBJECT, offsetof(StoreObject, engine), READONLY,
     "The Engine this store belongs to."},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(StoreObject, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot store_slots[] = {
    {Py_tp_new, store_new},
    {Py_tp_dealloc, store_dealloc},
    {Py_tp_traverse, store_traverse},
    {Py_tp_clear, store_clear},
    {Py_tp_methods, store_methods},
    {Py_tp_members, store_members},
    {Py_tp_doc, "Store(engine=None, data=None)\n--\n\n"
                "Holds wasm instances and their objects; all of them die with it."},
    {0, NULL},
};

static PyType_Spec store_spec = {
    .name = "wasmtime.Store",
    .basicsize = sizeof(StoreObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = store_slots,
};

int
store_register(PyObject *mod, ext_state *st)
{
    st->Store_Type = ext_add_type(mod, &store_spec, (PyObject *)st->Managed_Type);
    return st->Store_Type == NULL ? -1 : 0;
}
