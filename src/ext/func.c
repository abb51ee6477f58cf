/* Func: calling wasm functions and being called by them (wraps
 * wasmtime/func.h).
 *
 * Speed: Func implements vectorcall; its signature is fetched once and cached
 * as an array of value kinds.  When every parameter and result is a number,
 * arguments go straight into wasmtime_val_raw_t on the C stack and the call
 * is wasmtime_func_call_unchecked; host functions of such types use the
 * unchecked trampoline.  Signatures with references use the checked API,
 * which manages GC roots for us.
 *
 * Ownership: a Func holds its Store strongly.  A host function's env (struct
 * hostfunc) borrows the Python callable; the only strong reference lives in
 * the owning Store's (or Linker's) host_objects list, which the GC can see,
 * so a closure that captures its own Store is collected.  Wasmtime frees the
 * env through hostfunc_free when the store or linker goes away.
 *
 * Exceptions: a host function that raises (any BaseException) records the
 * exception object on its Store and returns a trap; the Python call that
 * started the wasm (Func.__call__, Instance(...)) raises that same object.
 */
#include "common.h"

#include <structmember.h>

#define SMALL_ARGS 16

/* ---- host functions -------------------------------------------------------- */

typedef struct {
    PyObject *callable;  /* borrowed: kept alive by the owner's host_objects */
    ext_state *st;
    bool access_caller;
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
        ext_raise_msg(hf->st, "callback produced wrong number of results: %zd, expected %d",
                      len, n);
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

static PyObject *caller_new(ext_state *st, StoreObject *so, wasmtime_caller_t *caller);

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
        callerobj = caller_new(hf->st, so, caller);
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

static wasm_trap_t *
host_failed(StoreObject *so)
{
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
    if (PyObject_TypeCheck(obj, c->hf->st->Val_Type)) {
        ValObject *v = (ValObject *)obj;
        if (v->kind != kind) {
            PyErr_Format(PyExc_TypeError, "wrong type of `Val` provided: %s where %s is expected",
                         ext_kind_name(v->kind), ext_kind_name(kind));
            return -1;
        }
        obj = v->value;
    }
    return ext_py_to_raw(obj, kind, &c->raw[i]);
}

static wasm_trap_t *
host_trampoline_raw(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args_and_results,
                    size_t num)
{
    (void)num;
    hostfunc *hf = env;
    PyGILState_STATE g = PyGILState_Ensure();
    StoreObject *so = wasmtime_context_get_data(wasmtime_caller_context(caller));
    raw_ctx c = {hf, args_and_results};
    wasm_trap_t *trap = NULL;
    PyObject *ret = hostfunc_invoke(hf, so, caller, raw_get, &c);
    if (ret == NULL || hostfunc_results(hf, ret, raw_put, &c) < 0) {
        trap = host_failed(so);
    }
    Py_XDECREF(ret);
    PyGILState_Release(g);
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
    if (ext_py_to_val(c->hf->st, &c->c, obj, c->hf->kinds[c->hf->nparams + i],
                      &c->results[i]) < 0) {
        return -1;
    }
    c->filled = i + 1;
    return 0;
}

static wasm_trap_t *
host_trampoline_val(void *env, wasmtime_caller_t *caller, const wasmtime_val_t *args,
                    size_t nargs, wasmtime_val_t *results, size_t nresults)
{
    (void)nargs;
    hostfunc *hf = env;
    PyGILState_STATE g = PyGILState_Ensure();
    wasmtime_context_t *ctx = wasmtime_caller_context(caller);
    StoreObject *so = wasmtime_context_get_data(ctx);
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
        trap = host_failed(so);
    }
    /* On success Wasmtime owns the results we wrote. */
    Py_XDECREF(ret);
    PyGILState_Release(g);
    return trap;
}

/* Fill `kinds` (params then results) from a function type. Returns whether all
 * are numbers. */
static bool
functype_kinds(const wasm_functype_t *ty, wasmtime_valkind_t *kinds)
{
    const wasm_valtype_vec_t *p = wasm_functype_params(ty);
    const wasm_valtype_vec_t *r = wasm_functype_results(ty);
    bool numeric = true;
    for (size_t i = 0; i < p->size + r->size; i++) {
        const wasm_valtype_t *vt = i < p->size ? p->data[i] : r->data[i - p->size];
        wasmtime_valkind_t k = ext_wasmtime_kind_of(ext_valtype_kind(vt));
        kinds[i] = k;
        if (k > WASMTIME_F64) {
            numeric = false;
        }
    }
    return numeric;
}

void *
ext_hostfunc_new(ext_state *st, const wasm_functype_t *ty, PyObject *callable,
                 bool access_caller, bool *numeric)
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
    *numeric = functype_kinds(ty, hf->kinds);
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

/* ---- Func objects ---------------------------------------------------------- */

static PyObject *func_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf,
                                 PyObject *kwnames);

static FuncObject *
func_alloc(ext_state *st, StoreObject *so, const wasmtime_func_t *f)
{
    FuncObject *self = PyObject_GC_New(FuncObject, st->Func_Type);
    if (self == NULL) {
        return NULL;
    }
    self->base.store = (StoreObject *)Py_NewRef(so);
    self->base.ext.kind = WASMTIME_EXTERN_FUNC;
    self->base.ext.of.func = *f;
    self->base.weakreflist = NULL;
    self->vectorcall = func_vectorcall;
    self->nparams = -1;
    self->nresults = -1;
    self->numeric = false;
    self->kinds = NULL;
    PyObject_GC_Track(self);
    return self;
}

PyObject *
func_wrap(ext_state *st, StoreObject *so, const wasmtime_func_t *f)
{
    return (PyObject *)func_alloc(st, so, f);
}

/* Cache the signature from a function type. */
static int
func_set_sig(FuncObject *self, const wasm_functype_t *ty)
{
    size_t np = wasm_functype_params(ty)->size, nr = wasm_functype_results(ty)->size;
    wasmtime_valkind_t *kinds = PyMem_Malloc(sizeof(wasmtime_valkind_t) * (np + nr + 1));
    if (kinds == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->numeric = functype_kinds(ty, kinds);
    PyMem_Free(self->kinds);
    self->kinds = kinds;
    self->nparams = (int)np;
    self->nresults = (int)nr;
    return 0;
}

static int
func_load_sig(FuncObject *self, ext_ctx *c)
{
    wasm_functype_t *ty = wasmtime_func_type(c->ctx, &self->base.ext.of.func);
    int rc = func_set_sig(self, ty);
    wasm_functype_delete(ty);
    return rc;
}

static PyObject *
func_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"store", "ty", "func", "access_caller", NULL};
    PyObject *store, *ty, *callable, *access = Py_False;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO|O:Func", kwlist, &store, &ty, &callable,
                                     &access)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(store, st->Store_Type)) {
        return ext_wrong_type(st, "a Store", store);
    }
    if (!PyObject_TypeCheck(ty, st->FuncType_Type)) {
        return ext_wrong_type(st, "a FuncType", ty);
    }
    if (!PyCallable_Check(callable)) {
        return ext_wrong_type(st, "a callable", callable);
    }
    int access_caller = PyObject_IsTrue(access);
    if (access_caller < 0) {
        return NULL;
    }
    ext_ctx c;
    if (ext_resolve_store(st, store, &c) < 0) {
        return NULL;
    }
    const wasm_functype_t *fty = typeobj_get(ty);
    if (fty == NULL) {
        return NULL;
    }
    bool numeric;
    hostfunc *hf = ext_hostfunc_new(st, fty, callable, access_caller, &numeric);
    if (hf == NULL) {
        return NULL;
    }
    if (ext_store_keep(c.so, callable) < 0) {
        hostfunc_free(hf);
        return NULL;
    }
    wasmtime_func_t f;
    if (numeric) {
        wasmtime_func_new_unchecked(c.ctx, fty, host_trampoline_raw, hf, hostfunc_free, &f);
    }
    else {
        wasmtime_func_new(c.ctx, fty, host_trampoline_val, hf, hostfunc_free, &f);
    }
    FuncObject *self = func_alloc(st, c.so, &f);
    if (self == NULL) {
        return NULL;
    }
    if (func_set_sig(self, fty) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

/* -- calling -- */

static PyObject *
results_from_raw(FuncObject *self, const wasmtime_val_raw_t *raw)
{
    const wasmtime_valkind_t *rk = self->kinds + self->nparams;
    if (self->nresults == 0) {
        Py_RETURN_NONE;
    }
    if (self->nresults == 1) {
        return ext_raw_to_py(rk[0], &raw[0]);
    }
    PyObject *list = PyList_New(self->nresults);
    for (int i = 0; list != NULL && i < self->nresults; i++) {
        PyObject *v = ext_raw_to_py(rk[i], &raw[i]);
        if (v == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, v);
    }
    return list;
}

static PyObject *
func_call_raw(FuncObject *self, ext_ctx *c, PyObject *const *params)
{
    ext_state *st = c->so->st;
    size_t len = (size_t)(self->nparams > self->nresults ? self->nparams : self->nresults);
    wasmtime_val_raw_t stack[SMALL_ARGS];
    wasmtime_val_raw_t *raw = stack;
    if (len > SMALL_ARGS) {
        raw = PyMem_Malloc(sizeof(wasmtime_val_raw_t) * len);
        if (raw == NULL) {
            return PyErr_NoMemory();
        }
    }
    PyObject *res = NULL;
    for (int i = 0; i < self->nparams; i++) {
        PyObject *p = params[i];
        wasmtime_valkind_t k = self->kinds[i];
        /* The common cases first: an exact int or float of the right kind. */
        if (PyLong_CheckExact(p) && k <= WASMTIME_I64) {
            unsigned long long bits = PyLong_AsUnsignedLongLongMask(p);
            if (k == WASMTIME_I32) {
                raw[i].i32 = (int32_t)(uint32_t)bits;
            }
            else {
                raw[i].i64 = (int64_t)bits;
            }
            continue;
        }
        if (PyFloat_CheckExact(p) && (k == WASMTIME_F32 || k == WASMTIME_F64)) {
            if (k == WASMTIME_F32) {
                raw[i].f32 = (float)PyFloat_AS_DOUBLE(p);
            }
            else {
                raw[i].f64 = PyFloat_AS_DOUBLE(p);
            }
            continue;
        }
        if (PyObject_TypeCheck(p, st->Val_Type)) {
            ValObject *v = (ValObject *)p;
            if (v->kind != self->kinds[i]) {
                PyErr_Format(PyExc_TypeError,
                             "wrong type of `Val` provided: %s where %s is expected",
                             ext_kind_name(v->kind), ext_kind_name(self->kinds[i]));
                goto done;
            }
            p = v->value;
        }
        if (ext_py_to_raw(p, self->kinds[i], &raw[i]) < 0) {
            goto done;
        }
    }
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    StoreObject *so = c->so;
    ext_call_enter(so);
    EXT_RUN_WASM(so, err = wasmtime_func_call_unchecked(c->ctx, &self->base.ext.of.func, raw, len,
                                                    &trap));
    ext_call_leave(so);
    if (ext_call_finish(st, so, err, trap) == 0) {
        res = results_from_raw(self, raw);
    }
done:
    if (raw != stack) {
        PyMem_Free(raw);
    }
    return res;
}

static PyObject *
func_call_checked(FuncObject *self, ext_ctx *c, PyObject *const *params)
{
    ext_state *st = c->so->st;
    size_t np = (size_t)self->nparams, nr = (size_t)self->nresults;
    wasmtime_val_t *vals = PyMem_Malloc(sizeof(wasmtime_val_t) * (np + nr + 1));
    if (vals == NULL) {
        return PyErr_NoMemory();
    }
    wasmtime_val_t *args = vals, *results = vals + np;
    size_t converted = 0;
    PyObject *res = NULL;
    for (; converted < np; converted++) {
        if (ext_py_to_val(st, c, params[converted], self->kinds[converted], &args[converted]) < 0) {
            goto done;
        }
    }
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    StoreObject *so = c->so;
    ext_call_enter(so);
    EXT_RUN_WASM(so, err = wasmtime_func_call(c->ctx, &self->base.ext.of.func, args, np, results,
                                          nr, &trap));
    ext_call_leave(so);
    if (ext_call_finish(st, so, err, trap) < 0) {
        goto done;
    }
    if (nr == 0) {
        res = Py_NewRef(Py_None);
    }
    else if (nr == 1) {
        res = ext_val_to_py(st, c, &results[0]);
    }
    else {
        res = PyList_New((Py_ssize_t)nr);
        for (size_t i = 0; res != NULL && i < nr; i++) {
            PyObject *v = ext_val_to_py(st, c, &results[i]);
            if (v == NULL) {
                Py_CLEAR(res);
                break;
            }
            PyList_SET_ITEM(res, (Py_ssize_t)i, v);
        }
    }
    for (size_t i = 0; i < nr; i++) {
        ext_val_release(&results[i]);
    }
done:
    for (size_t i = 0; i < converted; i++) {
        ext_val_release(&args[i]);
    }
    PyMem_Free(vals);
    return res;
}

static PyObject *
func_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    FuncObject *self = (FuncObject *)op;
    StoreObject *owner = self->base.store;
    ext_state *st = owner->st;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0) {
        PyErr_SetString(PyExc_TypeError, "Func calls take no keyword arguments");
        return NULL;
    }
    if (n < 1) {
        PyErr_SetString(PyExc_TypeError, "Func calls need the store as first argument");
        return NULL;
    }
    ext_ctx c;
    if (args[0] == (PyObject *)owner && owner->store != NULL && owner->running == 0) {
        c.so = owner; /* the usual case, checked inline */
        c.ctx = owner->context;
    }
    else if (ext_resolve_owner(st, args[0], owner, &c) < 0) {
        return NULL;
    }
    if (self->nparams < 0 && func_load_sig(self, &c) < 0) {
        return NULL;
    }
    Py_ssize_t given = n - 1;
    if (given != self->nparams) {
        return ext_raise_msg(st, "too %s parameters provided: given %zd, expected %d",
                             given > self->nparams ? "many" : "few", given, self->nparams);
    }
    if (self->numeric) {
        return func_call_raw(self, &c, args + 1);
    }
    return func_call_checked(self, &c, args + 1);
}

/* -- methods -- */

static PyObject *
func_type(PyObject *op, PyObject *store)
{
    FuncObject *self = (FuncObject *)op;
    ext_state *st = self->base.store->st;
    ext_ctx c;
    if (ext_resolve_owner(st, store, self->base.store, &c) < 0) {
        return NULL;
    }
    return functype_from_owned(st, wasmtime_func_type(c.ctx, &self->base.ext.of.func));
}

static int
func_ensure_sig(FuncObject *self)
{
    if (self->nparams >= 0) {
        return 0;
    }
    ext_ctx c;
    if (ext_resolve_store(self->base.store->st, (PyObject *)self->base.store, &c) < 0) {
        return -1;
    }
    return func_load_sig(self, &c);
}

static PyObject *
func_param_arity(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    FuncObject *self = (FuncObject *)op;
    return func_ensure_sig(self) < 0 ? NULL : PyLong_FromLong(self->nparams);
}

static PyObject *
func_result_arity(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    FuncObject *self = (FuncObject *)op;
    return func_ensure_sig(self) < 0 ? NULL : PyLong_FromLong(self->nresults);
}

static int
func_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((ExternObject *)op)->store);
    return 0;
}

static int
func_clear(PyObject *op)
{
    Py_CLEAR(((ExternObject *)op)->store);
    return 0;
}

static void
func_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    EXT_CLEAR_WEAKREFS(op, ((ExternObject *)op)->weakreflist);
    (void)func_clear(op);
    PyMem_Free(((FuncObject *)op)->kinds);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(func_type, "type", "store")

static PyMethodDef func_methods[] = {
    {"type", EXT_KW1_ENTRY(func_type), "type($self, store)\n--\n\nThe FuncType of this function."},
    {"param_arity", func_param_arity, METH_NOARGS,
     "param_arity($self, /)\n--\n\nNumber of parameters."},
    {"result_arity", func_result_arity, METH_NOARGS,
     "result_arity($self, /)\n--\n\nNumber of results."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef func_members[] = {
    EXT_WEAKREF_MEMBER(FuncObject, base.weakreflist),
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(FuncObject, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot func_slots[] = {
    {Py_tp_new, func_new},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_dealloc, func_dealloc},
    {Py_tp_traverse, func_traverse},
    {Py_tp_clear, func_clear},
    {Py_tp_methods, func_methods},
    {Py_tp_members, func_members},
    {Py_tp_doc, "Func(store, ty, func, access_caller=False)\n--\n\n"
                "A wasm function; call it as f(store, *args). Created from Python, it "
                "calls `func` (with a Caller first if access_caller)."},
    {0, NULL},
};

static PyType_Spec func_spec = {
    .name = "wasmtime.Func",
    .basicsize = sizeof(FuncObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = func_slots,
};

/* ---- Caller ------------------------------------------------------------------ */

static PyObject *
caller_new(ext_state *st, StoreObject *so, wasmtime_caller_t *caller)
{
    CallerObject *self = PyObject_GC_New(CallerObject, st->Caller_Type);
    if (self == NULL) {
        return NULL;
    }
    self->caller = caller;
    self->store = (StoreObject *)Py_NewRef(so);
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

/* The export `name`, None when missing or the caller is no longer valid. */
static PyObject *
caller_lookup(CallerObject *self, PyObject *name, bool *found)
{
    *found = false;
    if (!PyUnicode_Check(name)) {
        return ext_wrong_type(self->store->st, "a str", name);
    }
    if (self->caller == NULL) {
        Py_RETURN_NONE;
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(name, &len);
    if (s == NULL) {
        return NULL;
    }
    wasmtime_extern_t ext;
    if (!wasmtime_caller_export_get(self->caller, s, (size_t)len, &ext)) {
        Py_RETURN_NONE;
    }
    *found = true;
    return ext_extern_to_py(self->store->st, self->store, &ext);
}

static PyObject *
caller_get(PyObject *op, PyObject *name)
{
    bool found;
    return caller_lookup((CallerObject *)op, name, &found);
}

static PyObject *
caller_getitem(PyObject *op, PyObject *name)
{
    bool found;
    PyObject *res = caller_lookup((CallerObject *)op, name, &found);
    if (res != NULL && !found) {
        Py_DECREF(res);
        PyErr_Format(PyExc_KeyError, "failed to find export `%U`", name);
        return NULL;
    }
    return res;
}

static int
caller_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CallerObject *)op)->store);
    return 0;
}

static int
caller_clear(PyObject *op)
{
    Py_CLEAR(((CallerObject *)op)->store);
    return 0;
}

static void
caller_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)caller_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(caller_get, "get", "name")

static PyMethodDef caller_methods[] = {
    {"get", EXT_KW1_ENTRY(caller_get),
     "get($self, name)\n--\n\nThe calling instance's export `name`, or None."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot caller_slots[] = {
    {Py_mp_subscript, caller_getitem},
    {Py_tp_dealloc, caller_dealloc},
    {Py_tp_traverse, caller_traverse},
    {Py_tp_clear, caller_clear},
    {Py_tp_methods, caller_methods},
    {Py_tp_doc, "The caller of a host function; usable as the store during the call."},
    {0, NULL},
};

static PyType_Spec caller_spec = {
    .name = "wasmtime.Caller",
    .basicsize = sizeof(CallerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = caller_slots,
};

int
func_register(PyObject *mod, ext_state *st)
{
    st->Func_Type = ext_add_type(mod, &func_spec, NULL);
    return st->Func_Type == NULL ? -1 : 0;
}

int
caller_register(PyObject *mod, ext_state *st)
{
    st->Caller_Type = ext_add_type(mod, &caller_spec, NULL);
    return st->Caller_Type == NULL ? -1 : 0;
}
