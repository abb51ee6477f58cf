/* Floor 3: the Store as the other files see it (wraps the context half of
 * wasmtime/store.h).
 *
 * Resolving a `store` argument (a Store, or a Caller standing in for one
 * during a host call), the bracket around every call into wasm with the
 * hand-off of a host exception, what a Store keeps alive for Wasmtime's env
 * pointers, the release point of the C store, and taking a WasiConfig.
 * store.c, the Store type itself, is built on these.
 */
#include "runtime.h"

#include <pthread.h>
#include <pythread.h>

int
ext_store_other_thread(void)
{
    PyErr_SetString(PyExc_RuntimeError, "this Store is running wasm on another thread; a Store "
                                        "is used by one thread at a time");
    return -1;
}

int
ext_store_usable(StoreObject *so)
{
    if (so->store == NULL) {
        ALREADY_CLOSED();
        return -1;
    }
    unsigned long owner = atomic_load_explicit(&so->running_thread, memory_order_acquire);
    if (owner != 0 && owner != ext_thread_ident()) {
        return ext_store_other_thread();
    }
    if (so->async_call != NULL && so->running == 0) {
        /* Between two polls of a call future (asynccall.c): Wasmtime allows
         * nothing else on the store until the future is gone. */
        PyErr_SetString(PyExc_RuntimeError, "this Store is busy: an async call (call_async or "
                                            "instantiate_async) is running on it");
        return -1;
    }
    return 0;
}

int
ext_resolve_store(ext_state *st, PyObject *obj, ext_ctx *out)
{
    if (Py_IS_TYPE(obj, st->Store_Type) || PyObject_TypeCheck(obj, st->Store_Type)) {
        StoreObject *so = (StoreObject *)obj;
        if (ext_store_usable(so) < 0) {
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
        if (ext_store_usable(caller->store) < 0) {
            return -1;
        }
        out->so = caller->store;
        out->ctx = wasmtime_caller_context(caller->caller);
        return 0;
    }
    if (st->StoreContext_Type != NULL && Py_IS_TYPE(obj, st->StoreContext_Type)) {
        StoreContextObject *sc = (StoreContextObject *)obj;
        if (sc->ctx == NULL) {
            PyErr_SetString(PyExc_ValueError, "caller is no longer valid");
            return -1;
        }
        if (ext_store_usable(sc->store) < 0) {
            return -1;
        }
        out->so = sc->store;
        out->ctx = sc->ctx;
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

int
ext_call_enter_slow(StoreObject *so)
{
    if (so->store == NULL) {
        /* Closed by another thread between the caller's check and the
         * claim (close() claims the store too). */
        ext_call_leave(so);
        ALREADY_CLOSED();
        return -1;
    }
    /* Nothing may survive from an earlier call. */
    Py_CLEAR(so->pending_exc);
    if (so->interruptible) {
        so->calls++;
        ext_ticker_ensure(); /* gone after a fork */
        so->timed_out = false;
        so->deadline_ns = so->timeout_ns != 0 ? ext_monotonic_ns() + so->timeout_ns : 0;
    }
    return 0;
}

int
ext_store_claim(StoreObject *so)
{
    unsigned long me = ext_thread_ident();
    unsigned long expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&so->running_thread, &expected, me,
                                                 memory_order_acquire, memory_order_relaxed) &&
        expected != me) {
        return ext_store_other_thread();
    }
    so->claims++;
    if (so->store == NULL) {
        ext_store_unclaim(so);
        ALREADY_CLOSED();
        return -1;
    }
    return 0;
}

void
ext_store_unclaim(StoreObject *so)
{
    if (--so->claims == 0 && so->running == 0) {
        atomic_store_explicit(&so->running_thread, 0, memory_order_release);
    }
}

int
ext_store_claim_for_close(StoreObject *so)
{
    unsigned long me = ext_thread_ident();
    unsigned long expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&so->running_thread, &expected, me,
                                                 memory_order_acquire, memory_order_relaxed)) {
        if (expected != me) {
            return ext_store_other_thread();
        }
        PyErr_SetString(PyExc_RuntimeError, "cannot close a Store while it is running wasm");
        return -1;
    }
    return 0;
}

void
ext_store_set_pending(StoreObject *so)
{
    Py_XSETREF(so->pending_exc, ext_exc_take());
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

/* The call was stopped by its timeout: raise wasmtime.Timeout. */
static int
raise_timeout(ext_state *st, StoreObject *so, wasmtime_error_t *err)
{
    so->timed_out = false;
    PyObject *mod = PyImport_ImportModule("wasmtime._exceptions");
    PyObject *cls = mod != NULL ? PyObject_GetAttrString(mod, "Timeout") : NULL;
    Py_XDECREF(mod);
    PyObject *secs = PyFloat_FromDouble((double)so->timeout_ns / 1e9);
    PyObject *msg =
        secs != NULL ? PyUnicode_FromFormat("wasm call timed out after %R seconds", secs) : NULL;
    Py_XDECREF(secs);
    if (cls == NULL || msg == NULL) {
        Py_XDECREF(cls);
        Py_XDECREF(msg);
        wasmtime_error_delete(err);
        return -1;
    }
    ext_raise_trap_class(st, cls, msg, err);
    Py_DECREF(cls);
    Py_DECREF(msg);
    return -1;
}

int
ext_call_failed(ext_state *st, StoreObject *so, wasmtime_error_t *err, wasm_trap_t *trap)
{
    if (so->timed_out && err != NULL && trap == NULL) {
        return raise_timeout(st, so, err);
    }
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
    /* Keyed by identity: keeping the same object twice costs nothing. */
    PyObject *key = PyLong_FromVoidPtr(obj);
    if (key == NULL) {
        return -1;
    }
    int rc = -1;
    /* Created on first need; guarded, since without a GIL two threads may
     * get here at once (the second is refused later, when it enters). */
    Py_BEGIN_CRITICAL_SECTION(so);
    if (so->host_objects == NULL) {
        so->host_objects = PyDict_New();
    }
    if (so->host_objects != NULL) {
        rc = PyDict_SetDefault(so->host_objects, key, obj) == NULL ? -1 : 0;
    }
    Py_END_CRITICAL_SECTION();
    Py_DECREF(key);
    return rc;
}

void
ext_store_release(StoreObject *self)
{
    if (self->async_call != NULL && self->st->future_abort != NULL) {
        self->st->future_abort(self->async_call); /* (a GC cycle with its future) */
    }
    if (self->store != NULL) {
        wasmtime_store_t *store = self->store;
        self->store = NULL;
        self->context = NULL;
        /* With the GIL held: finalizers of host functions and externrefs
         * may drop Python objects. */
        wasmtime_store_delete(store);
        ext_interrupt_remove(self);
        /* The payloads of the externrefs it held, queued by their
         * finalizers: safe to drop now that Wasmtime is done. */
        ext_release_deferred();
        /* Nothing can call the host functions any more, and data() now
         * raises: drop what the store kept for them. */
        Py_CLEAR(self->host_objects);
        Py_CLEAR(self->pending_exc);
        Py_CLEAR(self->data);
    }
}

void
ext_store_buffer_released(StoreObject *so)
{
    if (--so->exports == 0 && so->release_pending) {
        so->release_pending = false;
        ext_store_release(so);
    }
}

/* ---- externref payloads ---------------------------------------------------
 *
 * Wasmtime runs an externref's finalizer wherever it collects: inside
 * wasmtime_context_gc, inside an allocation during a call, inside store
 * deletion, possibly on a thread without the GIL.  Dropping the payload
 * there could run a __del__ that closes the very Store Wasmtime is working
 * on (its GC then aborts the process).  So the finalizer only queues the
 * payload; the queue is drained at points where running Python code is safe:
 * right after the Wasmtime call that collected (Store.gc, Store.close), and
 * otherwise by a pending call, which the interpreter runs between two
 * bytecodes.  The queue is a C global because the finalizer gets nothing
 * else; it holds references, never borrows them. */

static pthread_mutex_t deferred_lock = PTHREAD_MUTEX_INITIALIZER;
static PyObject **deferred; /* owned (malloc), strong items */
static size_t deferred_len, deferred_cap;
static bool deferred_scheduled;

static int
drain_pending_call(void *Py_UNUSED(arg))
{
    ext_release_deferred();
    return 0;
}

void
ext_externref_finalize(void *data)
{
    pthread_mutex_lock(&deferred_lock);
    if (deferred_len == deferred_cap) {
        size_t cap = deferred_cap ? 2 * deferred_cap : 64;
        PyObject **grown = realloc(deferred, cap * sizeof(PyObject *));
        if (grown == NULL) {
            /* Out of memory: leak the payload rather than crash. */
            pthread_mutex_unlock(&deferred_lock);
            return;
        }
        deferred = grown;
        deferred_cap = cap;
    }
    deferred[deferred_len++] = (PyObject *)data;
    bool schedule = !deferred_scheduled;
    deferred_scheduled = true;
    pthread_mutex_unlock(&deferred_lock);
    if (schedule && Py_AddPendingCall(drain_pending_call, NULL) < 0) {
        /* The interpreter's queue is full: the next drain point takes it. */
        pthread_mutex_lock(&deferred_lock);
        deferred_scheduled = false;
        pthread_mutex_unlock(&deferred_lock);
    }
}

void
ext_release_deferred(void)
{
    for (;;) {
        pthread_mutex_lock(&deferred_lock);
        PyObject **items = deferred;
        size_t n = deferred_len;
        deferred = NULL;
        deferred_len = deferred_cap = 0;
        deferred_scheduled = false;
        pthread_mutex_unlock(&deferred_lock);
        if (n == 0) {
            free(items);
            return;
        }
        /* Each DECREF may run a __del__, which may queue more. */
        for (size_t i = 0; i < n; i++) {
            Py_DECREF(items[i]);
        }
        free(items);
    }
}

/* ---- Store.set_wasi ------------------------------------------------------ */

/* Give the C config the last argv/env assignment (or inherit_* call). */
static int
wasi_apply_args(WasiConfigObject *self)
{
    if (self->argv == Py_True) {
        wasi_config_inherit_argv(self->config);
    }
    else if (self->argv != NULL) {
        Py_ssize_t n = PyList_GET_SIZE(self->argv);
        const char **argv = PyMem_Malloc(sizeof(char *) * (size_t)(n + 1));
        if (argv == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            argv[i] = PyBytes_AS_STRING(PyList_GET_ITEM(self->argv, i));
        }
        bool ok = wasi_config_set_argv(self->config, (size_t)n, argv);
        PyMem_Free(argv);
        if (!ok) {
            ext_raise_msg(self->st, "failed to configure argv");
            return -1;
        }
    }
    if (self->env == Py_True) {
        wasi_config_inherit_env(self->config);
    }
    else if (self->env != NULL) {
        Py_ssize_t n = PyList_GET_SIZE(self->env) / 2;
        const char **kv = PyMem_Malloc(sizeof(char *) * (size_t)(2 * n + 1));
        if (kv == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < 2 * n; i++) {
            kv[i] = PyBytes_AS_STRING(PyList_GET_ITEM(self->env, i));
        }
        bool ok = wasi_config_set_env(self->config, (size_t)n, kv, kv + n);
        PyMem_Free(kv);
        if (!ok) {
            ext_raise_msg(self->st, "failed to configure environment");
            return -1;
        }
    }
    return 0;
}

int
ext_store_take_wasi(StoreObject *so, WasiConfigObject *w)
{
    /* Taken in a critical section: without a GIL another thread may give
     * the same WasiConfig to another Store at the same moment. */
    wasi_config_t *cfg = NULL;
    PyObject *outputs = NULL;
    int rc = -1;
    Py_BEGIN_CRITICAL_SECTION(w);
    if (w->config == NULL) {
        ALREADY_CLOSED();
    }
    else if (wasi_apply_args(w) == 0) {
        Py_CLEAR(w->argv); /* applied: a failure below still consumes the config */
        Py_CLEAR(w->env);
        cfg = w->config;
        w->config = NULL; /* consumed, even on failure */
        outputs = Py_XNewRef(w->outputs);
        rc = 0;
    }
    Py_END_CRITICAL_SECTION();
    if (rc < 0) {
        return -1;
    }
    if (outputs != NULL) {
        rc = ext_store_keep(so, outputs);
        Py_DECREF(outputs);
        if (rc < 0) {
            wasi_config_delete(cfg);
            return -1;
        }
    }
    wasmtime_error_t *err = wasmtime_context_set_wasi(so->context, cfg);
    if (err != NULL) {
        return ext_raise_error_int(so->st, err);
    }
    so->has_wasi = true;
    return 0;
}
