/* Floor 3: async component host functions (wraps
 * wasmtime_component_linker_instance_add_func_async).
 *
 * A coroutine function given to LinkerInstance.add_func: the trampoline (on
 * Wasmtime's fiber, inside a poll of a call future, asynccall.c) calls it
 * with a StoreContext and the converted arguments, and hands Wasmtime a
 * continuation that advances the coroutine one step per poll
 * (ext_async_host_step); when it returns, its value is converted with the
 * import's result type.  Each call plans its own signature (the plan lives as
 * long as the coroutine).  The StoreContext is valid until the coroutine
 * ends.  An exception is recorded on the Store and the call fails; the await
 * of call_async raises the same object.
 */
#include "component.h"

#include <stdlib.h>

typedef struct {
    ext_state *st;
    PyObject *callable; /* borrowed: the Linker's host_objects keeps it */
} cahost;

typedef struct {
    cahost *h;
    StoreObject *so;                   /* borrowed: lives as long as the call */
    wasmtime_context_t *ctx;           /* valid until the call completes */
    csig *sig;                         /* owned */
    wasmtime_component_val_t *results; /* Wasmtime's, kept until done */
    wasmtime_error_t **error_ret;      /* likewise */
    PyObject *coro;                    /* strong: the awaitable's iterator */
    PyObject *sc;                      /* strong: the StoreContext, invalidated when done */
} cahost_call;

static void
cahost_free(void *data)
{
    free(data); /* no Python object is touched: no GIL needed */
}

static wasmtime_error_t *
cahost_failed(StoreObject *so)
{
    ext_store_set_pending(so);
    return wasmtime_error_new("python exception");
}

/* The coroutine returned `ret`: write the result. 0 or -1. */
static int
cahost_result(ext_state *st, ext_ctx *c, const csig *sig, PyObject *ret,
              wasmtime_component_val_t *results)
{
    if (sig->result != NULL) {
        return cval_from_py(st, c, sig->result, ret, &results[0]);
    }
    if (ret != Py_None) {
        PyErr_SetString(PyExc_AssertionError,
                        "a host function without a result type must return None");
        return -1;
    }
    return 0;
}

static void
cahost_call_free(void *env)
{
    cahost_call *hc = env;
    PyGILState_STATE g = PyGILState_Ensure();
    ext_async_host_done(hc->so, hc);
    ((StoreContextObject *)hc->sc)->ctx = NULL;
    Py_CLEAR(hc->sc);
    Py_CLEAR(hc->coro);
    csig_free(hc->sig);
    PyMem_RawFree(hc);
    PyGILState_Release(g);
}

static bool
cahost_step(void *env)
{
    cahost_call *hc = env;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *val;
    PySendResult r = ext_async_host_step(hc->so, hc->coro, hc, &val);
    ext_ctx c = {hc->so, hc->ctx};
    if (r == PYGEN_RETURN && cahost_result(hc->h->st, &c, hc->sig, val, hc->results) == 0) {
        Py_DECREF(val);
    }
    else if (r != PYGEN_NEXT) {
        Py_XDECREF(val);
        *hc->error_ret = cahost_failed(hc->so);
    }
    if (r != PYGEN_NEXT) {
        ((StoreContextObject *)hc->sc)->ctx = NULL;
    }
    PyGILState_Release(g);
    return r != PYGEN_NEXT;
}

static bool
continuation_done(void *env)
{
    (void)env;
    return true;
}

#define SMALL_ARGS 8

static void
cahost_trampoline(void *env, wasmtime_context_t *ctx, const wasmtime_component_func_type_t *ty,
                  wasmtime_component_val_t *args, size_t nargs, wasmtime_component_val_t *results,
                  size_t nresults, wasmtime_error_t **error_ret,
                  wasmtime_async_continuation_t *cont)
{
    cahost *h = env;
    ext_state *st = h->st;
    cont->callback = continuation_done;
    cont->env = NULL;
    cont->finalizer = NULL;
    PyGILState_STATE g = PyGILState_Ensure();
    StoreObject *so = wasmtime_context_get_data(ctx);
    ext_ctx c = {so, ctx};
    PyObject *stack[SMALL_ARGS + 1], **argv = stack, *ret = NULL, *it = NULL;
    size_t have = 0;
    csig *sig = csig_new(st, ty);
    if (sig == NULL || csig_check_supported(sig) < 0) {
        goto fail;
    }
    if (nargs != sig->nparams || nresults != (sig->result != NULL ? 1u : 0u)) {
        ext_raise_msg(st, "host function called with a signature it was not planned for");
        goto fail;
    }
    if (nargs > SMALL_ARGS && (argv = PyMem_Malloc(sizeof(PyObject *) * (nargs + 1))) == NULL) {
        argv = stack;
        PyErr_NoMemory();
        goto fail;
    }
    argv[0] = cstorecontext_new(st, so, ctx);
    if (argv[0] == NULL) {
        goto fail;
    }
    have = 1;
    for (size_t i = 0; i < nargs; i++) {
        argv[have] = cval_to_py(st, so, sig->params[i], &args[i]);
        if (argv[have] == NULL) {
            goto fail;
        }
        have++;
    }
    ret = PyObject_Vectorcall(h->callable, argv, have, NULL);
    if (ret == NULL) {
        goto fail;
    }
    unaryfunc await = Py_TYPE(ret)->tp_as_async ? Py_TYPE(ret)->tp_as_async->am_await : NULL;
    if (PyCoro_CheckExact(ret)) {
        it = Py_NewRef(ret);
    }
    else if (await != NULL) {
        if ((it = await(ret)) == NULL) {
            goto fail;
        }
    }
    else {
        /* Not awaitable: its value is the result. */
        if (cahost_result(st, &c, sig, ret, results) < 0) {
            goto fail;
        }
        goto done;
    }
    cahost_call *hc = PyMem_RawMalloc(sizeof(cahost_call));
    if (hc == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    hc->h = h;
    hc->so = so;
    hc->ctx = ctx;
    hc->sig = sig;
    hc->results = results;
    hc->error_ret = error_ret;
    hc->coro = it;
    hc->sc = Py_NewRef(argv[0]); /* valid while the coroutine runs */
    sig = NULL;
    it = NULL;
    cont->callback = cahost_step;
    cont->env = hc;
    cont->finalizer = cahost_call_free;
    goto out;
fail:
    *error_ret = cahost_failed(so);
done:
    if (have > 0) {
        ((StoreContextObject *)argv[0])->ctx = NULL;
    }
out:
    for (size_t i = 0; i < have; i++) {
        Py_DECREF(argv[i]);
    }
    if (argv != stack) {
        PyMem_Free(argv);
    }
    Py_XDECREF(it);
    Py_XDECREF(ret);
    csig_free(sig);
    PyGILState_Release(g);
}

int
cahost_add_func(ext_state *st, wasmtime_component_linker_instance_t *li, const char *name,
                size_t len, PyObject *callable)
{
    cahost *h = malloc(sizeof(cahost));
    if (h == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    h->st = st;
    h->callable = callable;
    wasmtime_error_t *err = wasmtime_component_linker_instance_add_func_async(
        li, name, len, cahost_trampoline, h, cahost_free);
    /* On error Wasmtime has already run the finalizer. */
    return err != NULL ? ext_raise_error_int(st, err) : 0;
}
