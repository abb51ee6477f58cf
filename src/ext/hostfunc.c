/* Floor 3: host functions, the trampolines through which wasm calls Python
 * (wraps wasmtime_func_new/_unchecked and the linker's define_func).
 *
 * A host function's env (struct hostfunc) borrows the Python callable; the
 * only strong reference lives in the owning Store's (or Linker's)
 * host_objects, which the GC can see, so a closure that captures its own
 * Store is collected.  Wasmtime frees the env through hostfunc_free when the
 * store or linker goes away.
 *
 * A callable that raises (any BaseException) records the exception object on
 * its Store and returns a trap; the Python call that started the wasm
 * raises that same object (storectx.c, ext_call_finish).
 */
#include "runtime.h"

#define SMALL_ARGS 16
#define SIMPLE_ARGS 8

/* ---- host functions -------------------------------------------------------- */

typedef struct {
    PyObject *callable; /* borrowed: kept alive by the owner's host_objects */
    ext_state *st;
    bool access_caller;
    bool simple; /* no Caller, at most SIMPLE_ARGS i32/i64/f32/f64: host_call_simple */
    int nparams;
    int nresults;
    wasmtime_valkind_t kinds[]; /* params then results */
} hostfunc;

static void
hostfunc_free(void *env)
{
    PyMem_RawFree(env); /* no Python object is touched: no GIL needed */
}

/* Convert the callable's return value into `n` results via `put(i, obj)`. */
typedef int (*put_result_fn)(void *ctx, int i, PyObject *obj);

static int
hostfunc_results(hostfunc *hf, PyObject *ret, put_result_fn put, void *ctx)
{
    int n = hf->nresults;
    if (n == 0) {
        if (ret != Py_None) {
            ext_raise_msg(hf->st, "callback produced results when it shouldn't");
            return -1;
        }
        return 0;
    }
    if (n == 1) {
        return put(ctx, 0, ret);
    }
    Py_ssize_t len = PyObject_Size(ret);
    if (len < 0) {
        return -1;
    }
    if (len != n) {
        ext_raise_msg(hf->st, "callback produced wrong number of results: %zd, expected %d", len,
                      n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        PyObject *item = PySequence_GetItem(ret, i);
        if (item == NULL) {
            return -1;
        }
        int rc = put(ctx, i, item);
        Py_DECREF(item);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

/* Call hf->callable with (caller?, *params) where params come from `get`. */
typedef PyObject *(*get_param_fn)(void *ctx, int i);

static PyObject *
hostfunc_invoke(hostfunc *hf, StoreObject *so, wasmtime_caller_t *caller, get_param_fn get,
                void *ctx)
{
    PyObject *stack[SMALL_ARGS + 1];
    int nargs = hf->nparams + (hf->access_caller ? 1 : 0);
    PyObject **argv = stack;
    if (nargs > SMALL_ARGS + 1) {
        argv = PyMem_Malloc(sizeof(PyObject *) * (size_t)nargs);
        if (argv == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
    }
    int have = 0;
    PyObject *callerobj = NULL;
    PyObject *ret = NULL;
    if (hf->access_caller) {
        callerobj = ext_caller_new(hf->st, so, caller);
        if (callerobj == NULL) {
            goto done;
        }
        argv[have++] = callerobj;
    }
    for (int i = 0; i < hf->nparams; i++) {
        PyObject *v = get(ctx, i);
        if (v == NULL) {
            goto done;
        }
        argv[have++] = v;
    }
    ret = PyObject_Vectorcall(hf->callable, argv, (size_t)nargs, NULL);
done:
    if (callerobj != NULL) {
        ((CallerObject *)callerobj)->caller = NULL; /* invalid once we return */
    }
    for (int i = 0; i < have; i++) {
        Py_DECREF(argv[i]);
    }
    if (argv != stack) {
        PyMem_Free(argv);
    }
    return ret;
}

/* The host function raised: a WasmException is thrown into wasm; any other
 * exception is kept on the Store and the call traps. */
static wasm_trap_t *
host_failed(StoreObject *so, wasmtime_context_t *ctx)
{
    PyObject *exc = ext_exc_take();
    ext_ctx c = {so, ctx};
    wasm_trap_t *thrown = exc != NULL ? ext_exn_throw(so->st, &c, exc) : NULL;
    if (thrown != NULL) {
        Py_DECREF(exc);
        return thrown;
    }
    if (PyErr_Occurred()) {
        Py_XDECREF(exc); /* it could not be thrown: report why instead */
    }
    else {
        ext_exc_restore(exc);
    }
    ext_store_set_pending(so);
    static const char msg[] = "python exception";
    return wasmtime_trap_new(msg, sizeof(msg) - 1);
}

/* -- unchecked (numbers only) -- */

typedef struct {
    hostfunc *hf;
    wasmtime_val_raw_t *raw;
} raw_ctx;

static PyObject *
raw_get(void *ctx, int i)
{
    raw_ctx *c = ctx;
    return ext_raw_to_py(c->hf->kinds[i], &c->raw[i]);
}

static int
raw_put(void *ctx, int i, PyObject *obj)
{
    raw_ctx *c = ctx;
    wasmtime_valkind_t kind = c->hf->kinds[c->hf->nparams + i];
    obj = ext_val_unwrap(c->hf->st, obj, kind);
    if (obj == NULL) {
        return -1;
    }
    return ext_py_to_raw(obj, kind, &c->raw[i]);
}

/* A `simple` host function: its arguments and result converted inline, the
 * same rules as raw_get and raw_put (which it falls back to for a result
 * that is not an exact int or float). */
static PyObject *
host_call_simple(hostfunc *hf, raw_ctx *c)
{
    PyObject *argv[SIMPLE_ARGS];
    int np = hf->nparams;
    for (int i = 0; i < np; i++) {
        argv[i] = ext_num_from_raw(hf->kinds[i], &c->raw[i]);
        if (argv[i] == NULL) {
            while (i > 0) {
                Py_DECREF(argv[--i]);
            }
            return NULL;
        }
    }
    PyObject *ret = PyObject_Vectorcall(hf->callable, argv, (size_t)np, NULL);
    for (int i = 0; i < np; i++) {
        Py_DECREF(argv[i]);
    }
    if (ret != NULL && !(hf->nresults == 1 && ext_num_to_raw(ret, hf->kinds[np], &c->raw[0])) &&
        hostfunc_results(hf, ret, raw_put, c) < 0) {
        Py_CLEAR(ret);
    }
    return ret;
}

static wasm_trap_t *
host_trampoline_raw(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args_and_results,
                    size_t num)
{
    (void)num;
    hostfunc *hf = env;
    StoreObject *so = wasmtime_context_get_data(wasmtime_caller_context(caller));
    PyGILState_STATE g = ext_host_enter(so);
    raw_ctx c = {hf, args_and_results};
    wasm_trap_t *trap = NULL;
    PyObject *ret;
    if (hf->simple) {
        ret = host_call_simple(hf, &c);
    }
    else {
        ret = hostfunc_invoke(hf, so, caller, raw_get, &c);
        if (ret != NULL && hostfunc_results(hf, ret, raw_put, &c) < 0) {
            Py_CLEAR(ret);
        }
    }
    if (ret == NULL) {
        trap = host_failed(so, wasmtime_caller_context(caller));
    }
    Py_XDECREF(ret);
    ext_host_leave(so, g);
    return trap;
}

/* -- checked (references) -- */

typedef struct {
    hostfunc *hf;
    ext_ctx c;
    const wasmtime_val_t *args;
    wasmtime_val_t *results;
    int filled;
} val_ctx;

static PyObject *
val_get(void *ctx, int i)
{
    val_ctx *c = ctx;
    return ext_val_to_py(c->hf->st, &c->c, &c->args[i]);
}

static int
val_put(void *ctx, int i, PyObject *obj)
{
    val_ctx *c = ctx;
    if (ext_py_to_val(c->hf->st, &c->c, obj, c->hf->kinds[c->hf->nparams + i], &c->results[i]) <
        0) {
        return -1;
    }
    c->filled = i + 1;
    return 0;
}

static wasm_trap_t *
host_trampoline_val(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args, size_t nargs,
                    wasmtime_val_t *results, size_t nresults)
{
    (void)nargs;
    hostfunc *hf = env;
    wasmtime_context_t *ctx = wasmtime_caller_context(caller);
    StoreObject *so = wasmtime_context_get_data(ctx);
    PyGILState_STATE g = ext_host_enter(so);
    val_ctx c = {hf, {so, ctx}, args, results, 0};
    wasm_trap_t *trap = NULL;
    PyObject *ret = hostfunc_invoke(hf, so, caller, val_get, &c);
    if (ret == NULL || hostfunc_results(hf, ret, val_put, &c) < 0) {
        for (int i = 0; i < c.filled; i++) {
            ext_val_release(&results[i]);
        }
        /* Wasmtime drops the result slots itself, even when we return a
         * trap: leave none holding a reference released above (a second
         * drop leaks the payload until the store dies) or half-written. */
        for (size_t i = 0; i < nresults; i++) {
            results[i].kind = WASMTIME_I32;
            results[i].of.i32 = 0;
        }
        trap = host_failed(so, ctx);
    }
    /* On success Wasmtime owns the results we wrote. */
    Py_XDECREF(ret);
    ext_host_leave(so, g);
    return trap;
}

bool
ext_functype_kinds(const wasm_functype_t *ty, wasmtime_valkind_t *kinds)
{
    const wasm_valtype_vec_t *p = wasm_functype_params(ty);
    const wasm_valtype_vec_t *r = wasm_functype_results(ty);
    bool numeric = true;
    for (size_t i = 0; i < p->size + r->size; i++) {
        const wasm_valtype_t *vt = i < p->size ? p->data[i] : r->data[i - p->size];
        wasmtime_valkind_t k = ext_valtype_wasmtime_kind(vt);
        kinds[i] = k;
        if (k > WASMTIME_V128) {
            numeric = false;
        }
    }
    return numeric;
}

void *
ext_hostfunc_new(ext_state *st, const wasm_functype_t *ty, PyObject *callable, bool access_caller,
                 bool *numeric)
{
    size_t np = wasm_functype_params(ty)->size, nr = wasm_functype_results(ty)->size;
    hostfunc *hf = PyMem_RawMalloc(sizeof(hostfunc) + sizeof(wasmtime_valkind_t) * (np + nr));
    if (hf == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    hf->callable = callable;
    hf->st = st;
    hf->access_caller = access_caller;
    hf->nparams = (int)np;
    hf->nresults = (int)nr;
    *numeric = ext_functype_kinds(ty, hf->kinds);
    hf->simple = !access_caller && np <= SIMPLE_ARGS && nr <= 1;
    for (size_t i = 0; i < np + nr; i++) {
        if (hf->kinds[i] > WASMTIME_F64) {
            hf->simple = false;
        }
    }
    return hf;
}

void
ext_hostfunc_callbacks(wasmtime_func_callback_t *checked,
                       wasmtime_func_unchecked_callback_t *unchecked, void (**finalizer)(void *))
{
    *checked = host_trampoline_val;
    *unchecked = host_trampoline_raw;
    *finalizer = hostfunc_free;
}

wasm_trap_t *
ext_hostfunc_failed(StoreObject *so, wasmtime_context_t *ctx)
{
    return host_failed(so, ctx); /* for the async host functions (asynccall.c) */
}
