/* Floor 3: the trampolines through which a component calls Python (wraps
 * the callbacks of wasmtime/component/linker.h).
 *
 * A host function is called as callable(StoreContext, *args); its result
 * is converted with the import's result type.  The signature plan is built
 * on the first call and kept while the imports it serves have that type
 * (the C API hands us a fresh func type on every call; comparing it costs
 * less than planning again).
 *
 * Ownership: the env owns its plan; the callable is borrowed from the
 * Linker's host_objects list, which every Store instantiated from the
 * Linker keeps too.  Exceptions: any BaseException raised by the callable
 * (or while converting) is recorded on the Store and the callback fails;
 * the Python call that entered wasm raises that same object.
 */
#include "component.h"

#include <pthread.h>

/* A component Linker is shared between threads, and so is each of its host
 * functions: `lock` guards taking and putting back the plan (it is held for
 * no more than that, never while Python code runs). */
typedef struct {
    ext_state *st;
    PyObject *callable;                  /* borrowed: see above */
    pthread_mutex_t lock;                /* guards sig and fty */
    PyObject *classes;                   /* borrowed like callable, or NULL: a class table */
    csig *sig;                           /* owned or NULL until the first call */
    wasmtime_component_func_type_t *fty; /* owned: the type `sig` was made from */
} chost;

static void
chost_free(void *data)
{
    chost *h = data;
    if (h->fty != NULL) {
        wasmtime_component_func_type_delete(h->fty);
    }
    if (h->sig != NULL) {
        /* Plans hold Python strings: drop them with the GIL. */
        PyGILState_STATE g = PyGILState_Ensure();
        csig_free(h->sig);
        PyGILState_Release(g);
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static bool
same_valtype(bool ha, wasmtime_component_valtype_t *a, bool hb, wasmtime_component_valtype_t *b)
{
    bool eq = ha == hb && (!ha || wasmtime_component_valtype_equal(a, b));
    if (ha) {
        wasmtime_component_valtype_delete(a);
    }
    if (hb) {
        wasmtime_component_valtype_delete(b);
    }
    return eq;
}

static bool
same_functype(const wasmtime_component_func_type_t *a, const wasmtime_component_func_type_t *b)
{
    size_t n = wasmtime_component_func_type_param_count(a);
    if (n != wasmtime_component_func_type_param_count(b)) {
        return false;
    }
    wasmtime_component_valtype_t va, vb;
    const char *name;
    size_t len;
    for (size_t i = 0; i < n; i++) {
        bool ha = wasmtime_component_func_type_param_nth(a, i, &name, &len, &va);
        bool hb = wasmtime_component_func_type_param_nth(b, i, &name, &len, &vb);
        if (!same_valtype(ha, &va, hb, &vb)) {
            return false;
        }
    }
    bool ha = wasmtime_component_func_type_result(a, &va);
    bool hb = wasmtime_component_func_type_result(b, &vb);
    return same_valtype(ha, &va, hb, &vb);
}

/* Take the plan for `ty` out of the env (see chost_put_back), or make one
 * when there is none for that type (another call holds it, or the import
 * has another type). 0, or -1 with an exception. */
static int
chost_take(chost *h, const wasmtime_component_func_type_t *ty, csig **sig,
           wasmtime_component_func_type_t **fty)
{
    pthread_mutex_lock(&h->lock);
    csig *s = h->sig;
    wasmtime_component_func_type_t *f = h->fty;
    h->sig = NULL;
    h->fty = NULL;
    pthread_mutex_unlock(&h->lock);
    if (s != NULL && same_functype(f, ty)) {
        *sig = s;
        *fty = f;
        return 0;
    }
    csig_free(s);
    if (f != NULL) {
        wasmtime_component_func_type_delete(f);
    }
    s = csig_new(h->st, ty);
    if (s == NULL) {
        return -1;
    }
    if (h->classes != NULL && csig_set_classes(s, h->classes) < 0) {
        csig_free(s);
        return -1;
    }
    *sig = s;
    *fty = wasmtime_component_func_type_clone(ty);
    return 0;
}

/* A call takes the plan out of the env while it runs: Python code during
 * the call (the callable, a result's __getattr__) may call this same host
 * function through an import of another type, which plans again and would
 * free the plan the outer call is converting with.  The outer call keeps its
 * own plan and puts it back here (or frees it, if a newer one is there). */
static void
chost_put_back(chost *h, csig *sig, wasmtime_component_func_type_t *fty)
{
    pthread_mutex_lock(&h->lock);
    bool kept = h->sig == NULL;
    if (kept) {
        h->sig = sig;
        h->fty = fty;
    }
    pthread_mutex_unlock(&h->lock);
    if (kept) {
        return;
    }
    csig_free(sig);
    if (fty != NULL) {
        wasmtime_component_func_type_delete(fty);
    }
}

static wasmtime_error_t *
chost_failed(StoreObject *so)
{
    ext_store_set_pending(so);
    return wasmtime_error_new("python exception");
}

#define SMALL_ARGS 8

static wasmtime_error_t *
chost_call(void *data, wasmtime_context_t *ctx, const wasmtime_component_func_type_t *ty,
           wasmtime_component_val_t *args, size_t nargs, wasmtime_component_val_t *results,
           size_t nresults)
{
    chost *h = data;
    ext_state *st = h->st;
    StoreObject *so = wasmtime_context_get_data(ctx);
    PyGILState_STATE g = ext_host_enter(so);
    wasmtime_error_t *err = NULL;
    PyObject *stack[SMALL_ARGS + 1], **argv = stack, *ret = NULL;
    size_t have = 0;
    csig *sig = NULL;
    wasmtime_component_func_type_t *fty = NULL;
    if (chost_take(h, ty, &sig, &fty) < 0) { /* ours until chost_put_back() */
        goto fail;
    }
    if (csig_check_supported(sig) < 0) {
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
    ((StoreContextObject *)argv[0])->ctx = NULL; /* invalid once we return */
    if (ret == NULL) {
        goto fail;
    }
    if (sig->result != NULL) {
        ext_ctx c = {so, ctx};
        /* results[0] was initialised by Wasmtime and holds nothing. */
        if (cval_from_py(st, &c, sig->result, ret, &results[0]) < 0) {
            goto fail;
        }
    }
    else if (ret != Py_None) {
        PyErr_SetString(PyExc_AssertionError,
                        "a host function without a result type must return None");
        goto fail;
    }
    goto done;
fail:
    if (have > 0) {
        ((StoreContextObject *)argv[0])->ctx = NULL;
    }
    err = chost_failed(so);
done:
    Py_XDECREF(ret);
    for (size_t i = 0; i < have; i++) {
        Py_DECREF(argv[i]);
    }
    if (argv != stack) {
        PyMem_Free(argv);
    }
    if (sig != NULL) {
        chost_put_back(h, sig, fty);
    }
    ext_host_leave(so, g);
    return err;
}

static wasmtime_error_t *
chost_drop(void *data, wasmtime_context_t *ctx, uint32_t rep)
{
    chost *h = data;
    StoreObject *so = wasmtime_context_get_data(ctx);
    PyGILState_STATE g = ext_host_enter(so);
    wasmtime_error_t *err = NULL;
    PyObject *sc = cstorecontext_new(h->st, so, ctx);
    PyObject *res = NULL;
    if (sc != NULL) {
        res = PyObject_CallFunction(h->callable, "Ok", sc, (unsigned long)rep);
        ((StoreContextObject *)sc)->ctx = NULL;
        Py_DECREF(sc);
    }
    if (res == NULL) {
        err = chost_failed(so);
    }
    Py_XDECREF(res);
    ext_host_leave(so, g);
    return err;
}

static chost *
chost_new(ext_state *st, PyObject *callable)
{
    chost *h = calloc(1, sizeof(chost));
    if (h == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    h->st = st;
    h->callable = callable;
    pthread_mutex_init(&h->lock, NULL);
    return h;
}

int
chost_add_func(ext_state *st, wasmtime_component_linker_instance_t *li, const char *name,
               size_t len, PyObject *callable)
{
    return chost_add_typed_func(st, li, name, len, callable, NULL);
}

int
chost_add_typed_func(ext_state *st, wasmtime_component_linker_instance_t *li, const char *name,
                     size_t len, PyObject *callable, PyObject *classes)
{
    chost *h = chost_new(st, callable);
    if (h == NULL) {
        return -1;
    }
    h->classes = classes;
    wasmtime_error_t *err =
        wasmtime_component_linker_instance_add_func(li, name, len, chost_call, h, chost_free);
    /* On error Wasmtime has already run the finalizer. */
    return err != NULL ? ext_raise_error_int(st, err) : 0;
}

int
chost_add_resource(ext_state *st, wasmtime_component_linker_instance_t *li, const char *name,
                   size_t len, const wasmtime_component_resource_type_t *ty, PyObject *dtor)
{
    chost *h = chost_new(st, dtor);
    if (h == NULL) {
        return -1;
    }
    wasmtime_error_t *err = wasmtime_component_linker_instance_add_resource(
        li, name, len, ty, chost_drop, h, chost_free);
    return err != NULL ? ext_raise_error_int(st, err) : 0;
}
