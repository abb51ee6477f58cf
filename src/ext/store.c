/* Store: the container of all wasm objects (wraps wasmtime/store.h).
 *
 * Owns its wasmtime_store_t and holds a strong reference to its Engine.  The
 * C store's data pointer is this StoreObject (borrowed), so a callback that
 * only has a wasmtime_context_t finds its Python Store.  close() and dealloc
 * are the release points; store-bound handles hold a strong reference to the
 * StoreObject and check it before every call.
 */
#include "runtime.h"

#include <pythread.h>

/* ---- resolving `store` arguments and bracketing calls ------------------ */

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
    /* Allocation may run the GC, and a finalizer may close the Engine: the
     * check comes after it. */
    StoreObject *self = (StoreObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(engine);
        return NULL;
    }
    self->st = st;
    self->engine = engine;
    self->data = data == Py_None ? NULL : Py_NewRef(data);
    if (eng->engine == NULL) {
        Py_DECREF(self);
        return ALREADY_CLOSED(), NULL;
    }
    self->store = wasmtime_store_new(EXT_LIVE(eng, engine), self, NULL);
    if (self->store == NULL) {
        Py_DECREF(self);
        return ext_raise_msg(st, "failed to create the store");
    }
    self->context = wasmtime_store_context(self->store);
    if (eng->interruptible && ext_interrupt_install(self) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *
store_data(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    StoreObject *self = (StoreObject *)op;
    if (ext_store_usable(self) < 0) {
        return NULL;
    }
    return Py_NewRef(self->data != NULL ? self->data : Py_None);
}

static PyObject *
store_gc(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    StoreObject *self = (StoreObject *)op;
    if (ext_store_usable(self) < 0) {
        return NULL;
    }
    /* Keeps the GIL (a collection is short).  The externref finalizers it
     * runs only queue their payloads (storectx.c), dropped right after. */
    wasmtime_error_t *err = wasmtime_context_gc(self->context);
    ext_release_deferred(); /* the collected payloads, now that the GC is done */
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    Py_RETURN_NONE;
}

/* A non-negative int that fits in u64, or -1 with TypeError/OverflowError.
 * Runs no Python code (no __index__), but callers still convert before they
 * check the Store, as everywhere. */
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
    uint64_t fuel;
    if (store_u64_arg(arg, "fuel", &fuel) < 0 || ext_store_usable(self) < 0) {
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
    if (ext_store_usable(self) < 0) {
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
    uint64_t ticks;
    if (store_u64_arg(arg, "ticks_after_current", &ticks) < 0 || ext_store_usable(self) < 0) {
        return NULL;
    }
    if (self->interruptible) {
        /* The ticker drives the epoch of an interruptible engine. */
        return ext_raise_msg(self->st,
                             "set_epoch_deadline cannot be used on a Store of an interruptible "
                             "engine (Config.interruptible): use Store.set_timeout");
    }
    wasmtime_context_set_epoch_deadline(self->context, ticks);
    Py_RETURN_NONE;
}

/* The async yields (asyncio.md): wasm running in call_async gives the event
 * loop a turn when the epoch deadline passes / every `interval` fuel. */
static PyObject *
store_epoch_deadline_async_yield_and_update(PyObject *op, PyObject *arg)
{
    StoreObject *self = (StoreObject *)op;
    uint64_t delta;
    if (store_u64_arg(arg, "delta", &delta) < 0 || ext_store_usable(self) < 0) {
        return NULL;
    }
    if (self->interruptible) {
        /* Its deadline callback already yields to the event loop at every
         * tick during call_async; this would replace that callback. */
        return ext_raise_msg(self->st,
                             "epoch_deadline_async_yield_and_update cannot be used on a Store of "
                             "an interruptible engine (Config.interruptible): its call_async "
                             "already yields at every tick");
    }
    /* Declared to return a wasmtime_error_t * but returns nothing in
     * 50.0.1: the value is garbage and must not be read. */
    (void)wasmtime_context_epoch_deadline_async_yield_and_update(self->context, delta);
    self->async_only = true;
    Py_RETURN_NONE;
}

static PyObject *
store_fuel_async_yield_interval(PyObject *op, PyObject *arg)
{
    StoreObject *self = (StoreObject *)op;
    uint64_t interval = 0;
    if ((arg != Py_None && store_u64_arg(arg, "interval", &interval) < 0) ||
        ext_store_usable(self) < 0) {
        return NULL;
    }
    wasmtime_error_t *err = wasmtime_context_fuel_async_yield_interval(self->context, interval);
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    self->async_only |= interval != 0;
    Py_RETURN_NONE;
}

/* Store.set_timeout(seconds): every later entry into wasm from Python is
 * limited to that much wall time (interrupt.c checks it at each tick). */
static PyObject *
store_set_timeout(PyObject *op, PyObject *arg)
{
    StoreObject *self = (StoreObject *)op;
    uint64_t ns = 0;
    if (arg != Py_None) {
        if (PyBool_Check(arg) || !(PyFloat_Check(arg) || PyLong_Check(arg))) {
            PyErr_Format(PyExc_TypeError, "seconds must be a float, an int or None, got %.200s",
                         Py_TYPE(arg)->tp_name);
            return NULL;
        }
        /* An exact float or int: no Python code runs (subclasses are read
         * through their value, not __float__). */
        double secs = PyFloat_Check(arg) ? PyFloat_AS_DOUBLE(arg) : PyLong_AsDouble(arg);
        if (secs == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_SetString(PyExc_OverflowError, "seconds is too large");
            return NULL;
        }
        if (!(secs > 0) || secs > 1e9) {
            PyErr_SetString(PyExc_ValueError,
                            "seconds must be a positive number of at most 1e9, or None");
            return NULL;
        }
        ns = (uint64_t)(secs * 1e9);
        if (ns == 0) {
            ns = 1;
        }
    }
    if (ext_store_usable(self) < 0) {
        return NULL;
    }
    if (!self->interruptible) {
        return ext_raise_msg(self->st,
                             "Store.set_timeout needs an interruptible engine: build the Engine "
                             "from a Config with interruptible = True");
    }
    self->timeout_ns = ns;
    Py_RETURN_NONE;
}

static PyObject *
store_set_limits(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"memory_size", "table_elements", "instances",
                                         "tables",      "memories",       NULL};
    StoreObject *self = (StoreObject *)op;
    PyObject *a[5];
    int64_t v[5];
    if (ext_parse_args(args, nargs, kwnames, "set_limits", kwlist, 0, a) < 0) {
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
    if (ext_store_usable(self) < 0) {
        return NULL;
    }
    wasmtime_store_limiter(self->store, v[0], v[1], v[2], v[3], v[4]);
    Py_RETURN_NONE;
}

static PyObject *
store_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    StoreObject *self = (StoreObject *)op;
    if (self->store == NULL) {
        Py_RETURN_NONE;
    }
    /* Claimed like a call into wasm: no other thread can enter meanwhile. */
    if (self->async_call != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "cannot close a Store while it is running wasm");
        return NULL;
    }
    if (ext_store_claim_for_close(self) < 0) {
        return NULL;
    }
    if (self->exports > 0) {
        atomic_store_explicit(&self->running_thread, 0, memory_order_release);
        PyErr_SetString(PyExc_BufferError,
                        "cannot close a Store while views of its memory are exported "
                        "(release the memoryview/numpy arrays first)");
        return NULL;
    }
    ext_store_release(self);
    atomic_store_explicit(&self->running_thread, 0, memory_order_release);
    Py_RETURN_NONE;
}

/* ---- WASI ------------------------------------------------------------------ */

static PyObject *
store_set_wasi(PyObject *op, PyObject *wasi)
{
    StoreObject *so = (StoreObject *)op;
    ext_state *st = so->st;
    ext_ctx c;
    if (ext_resolve_store(st, op, &c) < 0) {
        return NULL;
    }
    if (!PyObject_TypeCheck(wasi, st->WasiConfig_Type)) {
        return ext_wrong_type(st, "a WasiConfig", wasi);
    }
    WasiConfigObject *w = (WasiConfigObject *)wasi;
    EXT_CHECK_OPEN(w->config, NULL);
    if (ext_store_take_wasi(so, w) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
store_set_wasi_http(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    StoreObject *so = (StoreObject *)op;
    ext_ctx c;
    if (ext_resolve_store(so->st, op, &c) < 0) {
        return NULL;
    }
    if (!so->has_wasi) {
        return ext_raise_msg(so->st, "set_wasi() must be called before set_wasi_http()");
    }
    wasmtime_context_set_wasi_http(c.ctx);
    c.so->has_wasi_http = true;
    Py_RETURN_NONE;
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
        ext_store_release(self);
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
EXT_KW1(store_set_timeout, "set_timeout", "seconds")
EXT_KW1(store_set_wasi, "set_wasi", "wasi")
EXT_KW1(store_epoch_deadline_async_yield_and_update, "epoch_deadline_async_yield_and_update",
        "delta")
EXT_KW1(store_fuel_async_yield_interval, "fuel_async_yield_interval", "interval")

static PyMethodDef store_methods[] = {
    {"data", store_data, METH_NOARGS,
     "data($self, /)\n--\n\nThe object given as `data` when the store was made, or None."},
    {"gc", store_gc, METH_NOARGS,
     "gc($self, /)\n--\n\nCollect unreachable references held by wasm."},
    {"set_fuel", EXT_KW1_ENTRY(store_set_fuel),
     "set_fuel($self, fuel)\n--\n\nSet the fuel left (needs Config.consume_fuel)."},
    {"get_fuel", store_get_fuel, METH_NOARGS,
     "get_fuel($self, /)\n--\n\nThe fuel left (needs Config.consume_fuel)."},
    {"epoch_deadline_async_yield_and_update",
     EXT_KW1_ENTRY(store_epoch_deadline_async_yield_and_update),
     "epoch_deadline_async_yield_and_update($self, delta)\n--\n\nWhen the epoch deadline "
     "passes during call_async, yield to the event loop and extend the deadline by `delta` "
     "ticks (needs Config.epoch_interruption; the Store becomes async-only)."},
    {"fuel_async_yield_interval", EXT_KW1_ENTRY(store_fuel_async_yield_interval),
     "fuel_async_yield_interval($self, interval)\n--\n\nDuring call_async, yield to the "
     "event loop every `interval` units of fuel (None or 0: never; needs "
     "Config.consume_fuel)."},
    {"set_timeout", EXT_KW1_ENTRY(store_set_timeout),
     "set_timeout($self, seconds)\n--\n\n"
     "Limit every later call into wasm (call, instantiation, start function) to this "
     "many seconds of wall time (None: no limit); on expiry the call raises "
     "wasmtime.Timeout.  Needs an interruptible engine (Config.interruptible)."},
    {"set_epoch_deadline", EXT_KW1_ENTRY(store_set_epoch_deadline),
     "set_epoch_deadline($self, ticks_after_current)\n--\n\n"
     "Trap once the engine's epoch passes the current one plus this many ticks."},
    {"set_limits", EXT_FASTCALL_KW(store_set_limits),
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
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = store_slots,
};

int
store_register(PyObject *mod, ext_state *st)
{
    st->Store_Type = ext_add_type(mod, &store_spec, (PyObject *)st->Managed_Type);
    if (st->Store_Type == NULL) {
        return -1;
    }
    ext_interrupt_init(); /* remembers the main thread */
    return 0;
}
