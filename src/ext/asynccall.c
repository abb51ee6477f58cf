/* Floor 3: asyncio support (wraps wasmtime/async.h).
 *
 * An async call (Func.call_async, Linker.instantiate_async,
 * InstancePre.instantiate_async) converts its arguments, starts Wasmtime's
 * call future and returns a coroutine of the glue wasmtime._async._drive,
 * which polls the future (CallFuture.poll, callfuture.c) until it ends.
 * Every conversion and every C call happens here; the glue only awaits.
 *
 * The Store is busy while the future lives (so->async_call): Wasmtime
 * requires that nothing else touches the store until the future is deleted.
 * Inside a poll (so->running > 0) host functions may use it through their
 * Caller, as in a synchronous call; between polls ext_store_usable refuses it.
 *
 * Async host functions: a coroutine function given to Linker.define_func or
 * Func becomes a Wasmtime async host function.  Its trampoline (on Wasmtime's
 * fiber, inside a poll) calls it to get the coroutine and hands Wasmtime a
 * continuation; each time Wasmtime polls the continuation, one step of the
 * coroutine runs (still inside the poll, so its Caller is valid and its
 * synchronous code may use the store).  What the coroutine yields (an
 * asyncio future, or None for sleep(0)) is left in CallFuture.yielded: the
 * glue yields it to the event loop's task, and sends or throws the task's
 * answer back in through the next poll.  So the coroutine runs as if awaited
 * by the task itself: task.cancel() raises CancelledError at its await.
 * When it returns, the continuation writes the results; when it raises, the
 * exception is kept on the Store and the call traps, and the awaiting caller
 * gets the same object (ext_call_finish).
 *
 * Cancelling while wasm itself is suspended (an epoch or fuel yield) makes
 * the glue close the future: deleting Wasmtime's future unwinds the fiber,
 * and the Store is usable again.
 */
#include "runtime.h"

#include <pythread.h>

#define SMALL_ARGS 16

int
ext_is_coroutine_function(PyObject *obj)
{
    PyObject *inspect = PyImport_ImportModule("inspect");
    if (inspect == NULL) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(inspect, "iscoroutinefunction", "O", obj);
    Py_DECREF(inspect);
    if (res == NULL) {
        return -1;
    }
    int rc = PyObject_IsTrue(res);
    Py_DECREF(res);
    return rc;
}

/* ---- the future ------------------------------------------------------------ */

CallFutureObject *
ext_future_new(ext_state *st, StoreObject *so, ext_future_kind kind, PyObject *owner)
{
    if (so->async_call != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "this Store is busy: an async call (call_async or "
                                            "instantiate_async) is running on it");
        return NULL;
    }
    if (so->running > 0) {
        /* (a host function of a synchronous call, through its Caller) */
        PyErr_SetString(PyExc_RuntimeError,
                        "cannot start an async call on a Store while wasm runs on it");
        return NULL;
    }
    CallFutureObject *f = PyObject_GC_New(CallFutureObject, st->CallFuture_Type);
    if (f == NULL) {
        return NULL;
    }
    f->fut = NULL;
    f->store = (StoreObject *)Py_NewRef(so);
    f->kind = kind;
    f->owner = Py_NewRef(owner);
    f->module = NULL;
    f->module_clone = NULL;
    f->vals = NULL;
    f->nargs = f->nresults = 0;
    f->trap = NULL;
    f->err = NULL;
    f->host = NULL;
    f->yielded = NULL;
    f->send_value = NULL;
    f->throw_value = NULL;
    f->polling = false;
    f->thread = PyThread_get_thread_ident();
    f->convert = NULL;
    f->cleanup = NULL;
    f->data = NULL;
    PyObject_GC_Track(f);
    return f;
}

/* Release what the call borrowed once Wasmtime's future is gone. */
static void
future_release(CallFutureObject *f)
{
    if (f->store != NULL && f->store->async_call == (PyObject *)f) {
        f->store->async_call = NULL;
    }
    if (f->vals != NULL) {
        for (size_t i = 0; i < f->nargs + f->nresults; i++) {
            ext_val_release(&f->vals[i]);
        }
        PyMem_Free(f->vals);
        f->vals = NULL;
    }
    if (f->module_clone != NULL) {
        wasmtime_module_delete(f->module_clone);
        f->module_clone = NULL;
    }
    if (f->cleanup != NULL) {
        void (*cleanup)(PyObject *) = f->cleanup;
        f->cleanup = NULL;
        cleanup((PyObject *)f);
    }
    if (f->owner != NULL) {
        if (f->kind == EXT_FUTURE_LINKER) {
            ((LinkerObject *)f->owner)->busy--;
        }
        else if (f->kind == EXT_FUTURE_PRE) {
            ((InstancePreObject *)f->owner)->busy--;
        }
        f->kind = EXT_FUTURE_FUNC; /* counted down once */
    }
    if (f->trap != NULL) {
        wasm_trap_delete(f->trap);
        f->trap = NULL;
    }
    if (f->err != NULL) {
        wasmtime_error_delete(f->err);
        f->err = NULL;
    }
}

/* The coroutine that drives `f` (a new reference to the glue's coroutine). */
PyObject *
ext_future_start(ext_state *st, CallFutureObject *f)
{
    f->store->async_call = (PyObject *)f;
    if (st->async_drive == NULL) {
        PyObject *mod = PyImport_ImportModule("wasmtime._async");
        if (mod != NULL) {
            st->async_drive = PyObject_GetAttrString(mod, "_drive");
            Py_DECREF(mod);
        }
        if (st->async_drive == NULL) {
            ext_future_close(f);
            Py_DECREF(f);
            return NULL;
        }
    }
    PyObject *coro = PyObject_CallOneArg(st->async_drive, (PyObject *)f);
    if (coro == NULL) {
        ext_future_close(f);
    }
    Py_DECREF(f);
    return coro;
}

PyObject *
ext_async_func_call(FuncObject *func, ext_ctx *c, PyObject *const *params)
{
    ext_state *st = c->so->st;
    size_t np = (size_t)func->nparams, nr = (size_t)func->nresults;
    wasmtime_val_t *vals = PyMem_Malloc(sizeof(wasmtime_val_t) * (np + nr + 1));
    if (vals == NULL) {
        return PyErr_NoMemory();
    }
    size_t converted = 0;
    for (; converted < np; converted++) {
        if (ext_py_to_val(st, c, params[converted], func->kinds[converted], &vals[converted]) <
            0) {
            for (size_t i = 0; i < converted; i++) {
                ext_val_release(&vals[i]);
            }
            PyMem_Free(vals);
            return NULL;
        }
    }
    for (size_t i = 0; i < nr; i++) {
        vals[np + i].kind = WASMTIME_I32; /* nothing to release unless written */
        vals[np + i].of.i64 = 0;
    }
    /* Allocating may run the GC: check the Store again. */
    CallFutureObject *f = ext_future_new(st, c->so, EXT_FUTURE_FUNC, (PyObject *)func);
    if (f == NULL || ext_store_usable(c->so) < 0) {
        for (size_t i = 0; i < converted; i++) {
            ext_val_release(&vals[i]);
        }
        PyMem_Free(vals);
        Py_XDECREF(f);
        return NULL;
    }
    f->vals = vals;
    f->nargs = np;
    f->nresults = nr;
    f->fut = wasmtime_func_call_async(c->so->context, &func->base.ext.of.func, vals, np, vals + np,
                                      nr, &f->trap, &f->err);
    return ext_future_start(st, f);
}

PyObject *
ext_async_linker_instantiate(LinkerObject *l, ext_ctx *c, PyObject *module,
                             const wasmtime_module_t *m)
{
    ext_state *st = l->st;
    CallFutureObject *f = ext_future_new(st, c->so, EXT_FUTURE_LINKER, (PyObject *)l);
    if (f == NULL) {
        return NULL;
    }
    if (ext_store_usable(c->so) < 0 || l->linker == NULL) {
        if (!PyErr_Occurred()) {
            ALREADY_CLOSED();
        }
        Py_DECREF(f);
        return NULL;
    }
    /* The Module may be closed while the call runs: a clone; the Linker
     * refuses close() while busy. */
    f->module = Py_NewRef(module);
    f->module_clone = wasmtime_module_clone(m);
    l->busy++;
    f->fut = wasmtime_linker_instantiate_async(l->linker, c->so->context, f->module_clone,
                                               &f->instance, &f->trap, &f->err);
    return ext_future_start(st, f);
}

PyObject *
ext_async_pre_instantiate(InstancePreObject *p, ext_ctx *c)
{
    ext_state *st = p->st;
    CallFutureObject *f = ext_future_new(st, c->so, EXT_FUTURE_PRE, (PyObject *)p);
    if (f == NULL) {
        return NULL;
    }
    if (ext_store_usable(c->so) < 0 || p->pre == NULL) {
        if (!PyErr_Occurred()) {
            ALREADY_CLOSED();
        }
        Py_DECREF(f);
        return NULL;
    }
    f->module = Py_NewRef(p->module);
    p->busy++;
    f->fut = wasmtime_instance_pre_instantiate_async(p->pre, c->so->context, &f->instance,
                                                     &f->trap, &f->err);
    return ext_future_start(st, f);
}

/* The call ended: its result, or NULL with the exception it raised. */
static PyObject *
future_result(CallFutureObject *f)
{
    StoreObject *so = f->store;
    ext_state *st = so->st;
    ext_ctx c = {so, so->context};
    wasm_trap_t *trap = f->trap;
    wasmtime_error_t *err = f->err;
    f->trap = NULL;
    f->err = NULL;
    if (ext_call_finish(st, so, err, trap) < 0) {
        LinkerObject *l = (LinkerObject *)f->owner;
        if (f->kind == EXT_FUTURE_LINKER && l->defs != NULL &&
            PyErr_ExceptionMatches(st->WasmtimeError)) {
            ext_linkdefs_explain_missing(st, l->defs, l->has_wasi, f->module_clone);
        }
        ext_exn_after_call(st, &c);
        return NULL;
    }
    if (f->kind == EXT_FUTURE_OTHER) {
        return f->convert((PyObject *)f);
    }
    if (f->kind != EXT_FUTURE_FUNC) {
        return ext_instance_wrap(st, so, &f->instance, f->module);
    }
    wasmtime_val_t *results = f->vals + f->nargs;
    if (f->nresults == 0) {
        Py_RETURN_NONE;
    }
    if (f->nresults == 1) {
        return ext_val_to_py(st, &c, &results[0]);
    }
    PyObject *list = PyList_New((Py_ssize_t)f->nresults);
    for (size_t i = 0; list != NULL && i < f->nresults; i++) {
        PyObject *v = ext_val_to_py(st, &c, &results[i]);
        if (v == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, v);
    }
    return list;
}

PyObject *
ext_future_poll(CallFutureObject *f, PyObject *send, PyObject *throw_)
{
    if (f->polling) {
        PyErr_SetString(PyExc_RuntimeError, "this async call is already being polled");
        return NULL;
    }
    if (f->fut == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "this async call has ended");
        return NULL;
    }
    if (f->thread != PyThread_get_thread_ident()) {
        PyErr_SetString(PyExc_RuntimeError,
                        "an async call must be awaited on the thread that started it");
        return NULL;
    }
    StoreObject *so = f->store;
    Py_XSETREF(f->send_value, send == Py_None ? NULL : Py_XNewRef(send));
    Py_XSETREF(f->throw_value, throw_ == Py_None ? NULL : Py_XNewRef(throw_));
    Py_CLEAR(f->yielded);
    wasmtime_call_future_t *cf = f->fut;
    bool done;
    if (ext_call_enter(so) < 0) {
        return NULL;
    }
    f->polling = true;
    EXT_RUN_WASM(so, done = wasmtime_call_future_poll(cf));
    ext_call_leave(so);
    f->polling = false;
    Py_CLEAR(f->send_value);
    Py_CLEAR(f->throw_value);
    if (!done) {
        return Py_NewRef(f);
    }
    f->fut = NULL;
    wasmtime_call_future_delete(cf);
    so->async_call = NULL; /* the Store is free again */
    PyObject *res = future_result(f);
    future_release(f);
    return res;
}

void
ext_future_close(CallFutureObject *f)
{
    if (f->fut != NULL) {
        wasmtime_call_future_t *cf = f->fut;
        f->fut = NULL;
        /* Dropping the future unwinds the suspended wasm; the finalizer of a
         * pending host call drops its coroutine (which may run its finally
         * blocks: the Store still refuses them, being busy). */
        wasmtime_call_future_delete(cf);
        f->host = NULL;
        if (f->store != NULL && f->store->pending_exc != NULL) {
            Py_CLEAR(f->store->pending_exc);
        }
    }
    future_release(f);
    Py_CLEAR(f->yielded);
    Py_CLEAR(f->send_value);
    Py_CLEAR(f->throw_value);
}

/* ---- async host functions ------------------------------------------------------ */

typedef struct {
    PyObject *callable; /* borrowed: kept alive by the owner's host_objects */
    ext_state *st;
    bool access_caller;
    int nparams;
    int nresults;
    wasmtime_valkind_t kinds[]; /* params then results */
} ahost;

/* One call of an async host function, awaiting its coroutine. */
typedef struct {
    ahost *hf;
    StoreObject *so;         /* borrowed: lives as long as the call */
    wasmtime_context_t *ctx; /* borrowed: valid until the call completes */
    wasmtime_val_t *results; /* Wasmtime's, kept until we say done */
    wasm_trap_t **trap_ret;  /* likewise */
    PyObject *coro;          /* strong: the awaitable's iterator */
    PyObject *callerobj;     /* strong or NULL: invalidated when done */
} ahost_call;

void *
ext_async_host_new(ext_state *st, const wasm_functype_t *ty, PyObject *callable,
                   bool access_caller)
{
    size_t np = wasm_functype_params(ty)->size, nr = wasm_functype_results(ty)->size;
    ahost *hf = PyMem_RawMalloc(sizeof(ahost) + sizeof(wasmtime_valkind_t) * (np + nr + 1));
    if (hf == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    hf->callable = callable;
    hf->st = st;
    hf->access_caller = access_caller;
    hf->nparams = (int)np;
    hf->nresults = (int)nr;
    (void)ext_functype_kinds(ty, hf->kinds);
    return hf;
}

void
ext_async_host_free(void *env)
{
    PyMem_RawFree(env); /* no Python object is touched: no GIL needed */
}

static void
invalidate_caller(ahost_call *hc)
{
    if (hc->callerobj != NULL) {
        ((CallerObject *)hc->callerobj)->caller = NULL;
        Py_CLEAR(hc->callerobj);
    }
}

static void
ahost_call_free(void *env)
{
    ahost_call *hc = env;
    PyGILState_STATE g = PyGILState_Ensure();
    ext_async_host_done(hc->so, hc);
    invalidate_caller(hc);
    Py_CLEAR(hc->coro);
    PyMem_RawFree(hc);
    PyGILState_Release(g);
}

static bool
continuation_done(void *env)
{
    (void)env;
    return true;
}

/* The coroutine returned `ret`: write the results. 0 or -1. */
static int
ahost_results(ahost *hf, ext_ctx *c, PyObject *ret, wasmtime_val_t *results)
{
    int n = hf->nresults, filled = 0;
    wasmtime_valkind_t *kinds = hf->kinds + hf->nparams;
    if (n == 0) {
        if (ret != Py_None) {
            ext_raise_msg(hf->st, "callback produced results when it shouldn't");
            return -1;
        }
        return 0;
    }
    if (n == 1) {
        return ext_py_to_val(hf->st, c, ret, kinds[0], &results[0]);
    }
    Py_ssize_t len = PyObject_Size(ret);
    if (len >= 0 && len != n) {
        ext_raise_msg(hf->st, "callback produced wrong number of results: %zd, expected %d", len,
                      n);
    }
    if (len == n) {
        for (; filled < n; filled++) {
            PyObject *item = PySequence_GetItem(ret, filled);
            int rc = item == NULL
                         ? -1
                         : ext_py_to_val(hf->st, c, item, kinds[filled], &results[filled]);
            Py_XDECREF(item);
            if (rc < 0) {
                break;
            }
        }
    }
    if (filled == n) {
        return 0;
    }
    for (int i = 0; i < filled; i++) {
        ext_val_release(&results[i]);
        results[i].kind = WASMTIME_I32;
        results[i].of.i32 = 0;
    }
    return -1;
}

PySendResult
ext_async_host_step(StoreObject *so, PyObject *coro, void *tag, PyObject **value)
{
    CallFutureObject *f = (CallFutureObject *)so->async_call;
    PyObject *send = NULL, *thr = NULL;
    if (f != NULL) {
        send = f->send_value;
        thr = f->throw_value;
        f->send_value = f->throw_value = NULL;
    }
    PyObject *val = NULL;
    PySendResult r;
    if (thr != NULL) {
        val = PyObject_CallMethod(coro, "throw", "O", thr);
        if (val != NULL) {
            r = PYGEN_NEXT;
        }
        else if (PyErr_ExceptionMatches(PyExc_StopIteration)) {
            PyObject *exc = ext_exc_take();
            val = PyObject_GetAttrString(exc, "value");
            Py_DECREF(exc);
            r = val != NULL ? PYGEN_RETURN : PYGEN_ERROR;
        }
        else {
            r = PYGEN_ERROR;
        }
    }
    else {
        r = PyIter_Send(coro, send != NULL ? send : Py_None, &val);
    }
    Py_XDECREF(send);
    Py_XDECREF(thr);
    *value = NULL;
    if (r == PYGEN_NEXT) {
        if (f != NULL) {
            Py_XSETREF(f->yielded, val);
            f->host = tag;
        }
        else {
            Py_DECREF(val);
        }
    }
    else {
        ext_async_host_done(so, tag);
        *value = val;
    }
    return r;
}

void
ext_async_host_done(StoreObject *so, void *tag)
{
    CallFutureObject *f = (CallFutureObject *)so->async_call;
    if (f != NULL && f->host == tag) {
        f->host = NULL;
    }
}

/* Run the coroutine one step: Wasmtime polls the continuation. */
static bool
ahost_step(void *env)
{
    ahost_call *hc = env;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *val;
    PySendResult r = ext_async_host_step(hc->so, hc->coro, hc, &val);
    ext_ctx c = {hc->so, hc->ctx};
    if (r == PYGEN_RETURN && ahost_results(hc->hf, &c, val, hc->results) == 0) {
        Py_DECREF(val);
    }
    else if (r != PYGEN_NEXT) {
        Py_XDECREF(val);
        *hc->trap_ret = ext_hostfunc_failed(hc->so, hc->ctx);
    }
    if (r != PYGEN_NEXT) {
        invalidate_caller(hc);
    }
    PyGILState_Release(g);
    return r != PYGEN_NEXT;
}

/* The trampoline Wasmtime calls for an async host function (on its fiber,
 * inside a poll): starts the coroutine; ahost_step runs it. */
static void
ahost_trampoline(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args, size_t nargs,
                 wasmtime_val_t *results, size_t nresults, wasm_trap_t **trap_ret,
                 wasmtime_async_continuation_t *cont)
{
    (void)nargs;
    (void)nresults;
    ahost *hf = env;
    cont->callback = continuation_done;
    cont->env = NULL;
    cont->finalizer = NULL;
    PyGILState_STATE g = PyGILState_Ensure();
    wasmtime_context_t *ctx = wasmtime_caller_context(caller);
    StoreObject *so = wasmtime_context_get_data(ctx);
    ext_ctx c = {so, ctx};
    PyObject *stack[SMALL_ARGS + 1];
    PyObject **argv = stack;
    int nargv = hf->nparams + (hf->access_caller ? 1 : 0), have = 0;
    PyObject *callerobj = NULL, *ret = NULL, *it = NULL;
    if (nargv > SMALL_ARGS + 1) {
        argv = PyMem_Malloc(sizeof(PyObject *) * (size_t)nargv);
        if (argv == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
    }
    if (hf->access_caller) {
        callerobj = ext_caller_new(hf->st, so, caller);
        if (callerobj == NULL) {
            goto fail;
        }
        argv[have++] = Py_NewRef(callerobj);
    }
    for (int i = 0; i < hf->nparams; i++) {
        PyObject *v = ext_val_to_py(hf->st, &c, &args[i]);
        if (v == NULL) {
            goto fail;
        }
        argv[have++] = v;
    }
    ret = PyObject_Vectorcall(hf->callable, argv, (size_t)nargv, NULL);
    if (ret == NULL) {
        goto fail;
    }
    unaryfunc await = Py_TYPE(ret)->tp_as_async ? Py_TYPE(ret)->tp_as_async->am_await : NULL;
    if (PyCoro_CheckExact(ret)) {
        it = Py_NewRef(ret);
    }
    else if (await != NULL) {
        it = await(ret);
        if (it == NULL) {
            goto fail;
        }
    }
    else {
        /* Not awaitable (a callable that only looked like a coroutine
         * function): its value is the result. */
        if (ahost_results(hf, &c, ret, results) < 0) {
            goto fail;
        }
        goto out;
    }
    ahost_call *hc = PyMem_RawMalloc(sizeof(ahost_call));
    if (hc == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    hc->hf = hf;
    hc->so = so;
    hc->ctx = ctx;
    hc->results = results;
    hc->trap_ret = trap_ret;
    hc->coro = it;
    hc->callerobj = callerobj;
    it = NULL;
    callerobj = NULL;
    cont->callback = ahost_step;
    cont->env = hc;
    cont->finalizer = ahost_call_free;
    goto out;
fail:
    *trap_ret = ext_hostfunc_failed(so, ctx);
out:
    if (callerobj != NULL) {
        ((CallerObject *)callerobj)->caller = NULL;
        Py_DECREF(callerobj);
    }
    for (int i = 0; i < have; i++) {
        Py_DECREF(argv[i]);
    }
    if (argv != stack) {
        PyMem_Free(argv);
    }
    Py_XDECREF(it);
    Py_XDECREF(ret);
    PyGILState_Release(g);
}

int
ext_linker_define_host(ext_state *st, wasmtime_linker_t *linker, const char *m, size_t mlen,
                       const char *n, size_t nlen, const wasm_functype_t *fty, PyObject *callable,
                       bool access_caller, bool coro)
{
    wasmtime_error_t *err;
    bool numeric;
    void *env = coro ? ext_async_host_new(st, fty, callable, access_caller)
                     : ext_hostfunc_new(st, fty, callable, access_caller, &numeric);
    if (env == NULL) {
        return -1;
    }
    /* Wasmtime frees env with the finalizer, even when it fails. */
    if (coro) {
        err = wasmtime_linker_define_async_func(linker, m, mlen, n, nlen, fty, ahost_trampoline,
                                                env, ext_async_host_free);
    }
    else {
        wasmtime_func_callback_t checked;
        wasmtime_func_unchecked_callback_t unchecked;
        void (*finalizer)(void *);
        ext_hostfunc_callbacks(&checked, &unchecked, &finalizer);
        err = numeric ? wasmtime_linker_define_func_unchecked(linker, m, mlen, n, nlen, fty,
                                                              unchecked, env, finalizer)
                      : wasmtime_linker_define_func(linker, m, mlen, n, nlen, fty, checked, env,
                                                    finalizer);
    }
    return err == NULL ? 0 : ext_raise_error_int(st, err);
}

int
ext_async_func_new(ext_state *st, ext_ctx *c, const wasm_functype_t *ty, void *env,
                   wasmtime_func_t *out)
{
    EngineObject *eng = (EngineObject *)c->so->engine;
    if (eng->engine == NULL) {
        ext_async_host_free(env);
        ALREADY_CLOSED();
        return -1;
    }
    wasmtime_linker_t *linker = wasmtime_linker_new(eng->engine);
    wasmtime_error_t *err = wasmtime_linker_define_async_func(
        linker, "", 0, "", 0, ty, ahost_trampoline, env, ext_async_host_free);
    if (err == NULL) {
        wasmtime_extern_t item;
        if (!wasmtime_linker_get(linker, c->ctx, "", 0, "", 0, &item)) {
            wasmtime_linker_delete(linker);
            ext_raise_msg(st, "could not make the async host function");
            return -1;
        }
        *out = item.of.func;
    }
    wasmtime_linker_delete(linker);
    return err == NULL ? 0 : ext_raise_error_int(st, err);
}
