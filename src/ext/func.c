/* Func: calling wasm functions and being called by them (wraps
 * wasmtime/func.h).
 *
 * Speed: Func implements vectorcall; its signature is fetched once and cached
 * as an array of value kinds.  When every parameter and result is a number,
 * arguments go straight into wasmtime_val_raw_t on the C stack and the call
 * is wasmtime_func_call_unchecked; host functions of such types use the
 * unchecked trampoline.  externref and funcref values take the same raw call
 * (func_call_raw_refs roots them around it); anyref and exnref use the
 * checked API, which manages GC roots for us.
 *
 * Ownership: a Func holds its Store strongly.  Func(store, ty, callable)
 * makes a host function through hostfunc.c; the Store keeps the callable
 * (ext_store_keep), which the GC can see.
 *
 * Exceptions: a host function that raises (any BaseException) records the
 * exception object on its Store and returns a trap; the Python call that
 * started the wasm (Func.__call__, Instance(...)) raises that same object.
 * A wasm exception nobody caught becomes a WasmException (exn.c).
 */
#include "runtime.h"

#define SMALL_ARGS 16
/* At most this many parameters and results for func_call_simple. */
#define SIMPLE_ARGS 8

/* The raw paths write i32 and f32 values into the low half of a
 * wasmtime_val_raw_t slot, which Wasmtime reads as little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "wasmtime_val_raw_t is little-endian");

/* ---- Func objects ---------------------------------------------------------- */

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
    (void)ext_functype_kinds(ty, kinds);
    /* Numbers, externref and funcref take the raw path; anyref and exnref
     * (and the unknown kinds) the checked one. */
    self->numeric = true;
    self->has_refs = false;
    self->simple = np <= SIMPLE_ARGS && nr <= SIMPLE_ARGS;
    for (size_t i = 0; i < np + nr; i++) {
        if (kinds[i] == WASMTIME_EXTERNREF || kinds[i] == WASMTIME_FUNCREF) {
            self->has_refs = true;
        }
        else if (kinds[i] > WASMTIME_V128) {
            self->numeric = false;
        }
        if (kinds[i] > WASMTIME_F64) {
            self->simple = false;
        }
    }
    self->int_params = self->simple;
    for (size_t i = 0; i < np; i++) {
        if (kinds[i] > WASMTIME_I64) {
            self->int_params = false;
        }
    }
    PyMem_Free(self->kinds);
    self->kinds = kinds;
    self->nresults = (int)nr;
    /* Published last: a reader that sees nparams >= 0 sees the rest. */
    atomic_thread_fence(memory_order_release);
    self->nparams = (int)np;
    return 0;
}

static int
func_load_sig(FuncObject *self, ext_ctx *c)
{
    wasm_functype_t *ty = wasmtime_func_type(c->ctx, &self->base.ext.of.func);
    int rc = 0;
    /* Once only: without a GIL another thread may load it at the same time,
     * and the kinds, once published, are never freed while the Func lives. */
    Py_BEGIN_CRITICAL_SECTION(self);
    if (self->nparams < 0) {
        rc = func_set_sig(self, ty);
    }
    Py_END_CRITICAL_SECTION();
    wasm_functype_delete(ty);
    return rc;
}

/* Func(store, ty, coroutine_function): an async host function.  Takes fty. */
static PyObject *
func_new_async(ext_state *st, ext_ctx *c, wasm_functype_t *fty, PyObject *callable,
               bool access_caller)
{
    void *env = ext_async_host_new(st, fty, callable, access_caller);
    if (env == NULL) {
        wasm_functype_delete(fty);
        return NULL;
    }
    /* Keeping the callable allocates, which may run the GC and a finalizer
     * that closes the Store: check it again after. */
    if (ext_store_keep(c->so, callable) < 0 || ext_store_usable(c->so) < 0) {
        ext_async_host_free(env);
        wasm_functype_delete(fty);
        return NULL;
    }
    c->so->async_only = true;
    wasmtime_func_t f;
    if (ext_async_func_new(st, c, fty, env, &f) < 0) { /* takes env */
        wasm_functype_delete(fty);
        return NULL;
    }
    FuncObject *self = (FuncObject *)ext_func_wrap(st, c->so, &f);
    if (self == NULL || func_set_sig(self, fty) < 0) {
        Py_CLEAR(self);
    }
    wasm_functype_delete(fty);
    return (PyObject *)self;
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
    int coro = ext_is_coroutine_function(callable);
    if (coro < 0) {
        return NULL;
    }
    ext_ctx c;
    if (ext_resolve_store(st, store, &c) < 0) {
        return NULL;
    }
    const wasm_functype_t *orig = wasmtype_get(ty);
    wasm_functype_t *fty = orig == NULL ? NULL : ext_functype_unbound(st, orig);
    if (fty == NULL) {
        return NULL;
    }
    if (coro) {
        return func_new_async(st, &c, fty, callable, access_caller);
    }
    bool numeric;
    void *env = ext_hostfunc_new(st, fty, callable, access_caller, &numeric);
    if (env == NULL) {
        wasm_functype_delete(fty);
        return NULL;
    }
    wasmtime_func_callback_t checked;
    wasmtime_func_unchecked_callback_t unchecked;
    void (*finalizer)(void *);
    ext_hostfunc_callbacks(&checked, &unchecked, &finalizer);
    /* Keeping the callable allocates, which may run the GC and a finalizer
     * that closes the Store: check it again after. */
    if (ext_store_keep(c.so, callable) < 0 || ext_store_usable(c.so) < 0) {
        finalizer(env);
        wasm_functype_delete(fty);
        return NULL;
    }
    wasmtime_func_t f;
    if (numeric) {
        wasmtime_func_new_unchecked(c.so->context, fty, unchecked, env, finalizer, &f);
    }
    else {
        wasmtime_func_new(c.so->context, fty, checked, env, finalizer, &f);
    }
    FuncObject *self = (FuncObject *)ext_func_wrap(st, c.so, &f);
    if (self == NULL || func_set_sig(self, fty) < 0) {
        Py_XDECREF(self);
        self = NULL;
    }
    wasm_functype_delete(fty);
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
        if (ext_num_to_raw(p, self->kinds[i], &raw[i])) {
            continue; /* the common cases: an exact int or float */
        }
        p = ext_val_unwrap(st, p, self->kinds[i]);
        if (p == NULL) {
            goto done;
        }
        if (ext_py_to_raw(p, self->kinds[i], &raw[i]) < 0) {
            goto done;
        }
    }
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    StoreObject *so = c->so;
    if (ext_call_enter(so) < 0) {
        goto done;
    }
    EXT_RUN_WASM(
        so, err = wasmtime_func_call_unchecked(c->ctx, &self->base.ext.of.func, raw, len, &trap));
    ext_call_leave(so);
    if (ext_call_finish(st, so, err, trap) == 0) {
        res = results_from_raw(self, raw);
    }
    else {
        ext_exn_after_call(st, c);
    }
done:
    if (raw != stack) {
        PyMem_Free(raw);
    }
    return res;
}

/* The raw path of a `simple` Func called as func(store, *args) on its own
 * idle Store with exact ints and floats: no allocation, no context, the
 * result converted inline.  Any other argument takes func_call_raw. */
static PyObject *
func_call_simple(FuncObject *self, StoreObject *so, PyObject *const *params)
{
    wasmtime_val_raw_t raw[SIMPLE_ARGS];
    const wasmtime_valkind_t *kinds = self->kinds;
    int np = self->nparams, nr = self->nresults;
    if (self->int_params) {
        /* All integers: the low 64 bits of each (an i32 reads the low half
         * of the little-endian slot). */
        for (int i = 0; i < np; i++) {
            if (!PyLong_CheckExact(params[i])) {
                goto general;
            }
            raw[i].i64 = (int64_t)ext_long_bits(params[i]);
        }
    }
    else {
        for (int i = 0; i < np; i++) {
            if (!ext_num_to_raw(params[i], kinds[i], &raw[i])) {
                goto general;
            }
        }
    }
    if (ext_call_enter(so) < 0) {
        return NULL;
    }
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    /* Idle when checked: this is the Store's outermost call. */
    EXT_RUN_WASM_OUTERMOST(so, err = wasmtime_func_call_unchecked(
                                   so->context, &self->base.ext.of.func, raw, SIMPLE_ARGS, &trap));
    ext_call_leave(so);
    if (ext_call_finish(so->st, so, err, trap) < 0) {
        ext_ctx c = {so, so->context};
        ext_exn_after_call(so->st, &c);
        return NULL;
    }
    if (nr == 0) {
        Py_RETURN_NONE;
    }
    if (nr == 1) {
        return ext_num_from_raw(kinds[np], &raw[0]);
    }
    return results_from_raw(self, raw);
general:;
    ext_ctx c = {so, so->context};
    return func_call_raw(self, &c, params);
}

/* The raw path with externref/funcref among the values: references are
 * rooted (as wasmtime_val_t) while converting, made raw only once nothing
 * can allocate in the GC heap any more, and results are rooted first, then
 * converted. */
static PyObject *
ref_results(FuncObject *self, ext_ctx *c, const wasmtime_val_raw_t *raw, wasmtime_val_t *rv)
{
    const wasmtime_valkind_t *rk = self->kinds + self->nparams;
    for (int i = 0; i < self->nresults; i++) {
        ext_raw_to_val(c, rk[i], &raw[i], &rv[i]);
    }
    PyObject *list = self->nresults == 1 ? NULL : PyList_New(self->nresults);
    PyObject *res = self->nresults == 0 ? Py_NewRef(Py_None) : list;
    for (int i = 0; i < self->nresults && (res != NULL || self->nresults == 1); i++) {
        bool ref = rk[i] == WASMTIME_EXTERNREF || rk[i] == WASMTIME_FUNCREF;
        PyObject *v = ref ? ext_val_to_py(c->so->st, c, &rv[i]) : ext_raw_to_py(rk[i], &raw[i]);
        if (self->nresults == 1) {
            res = v;
        }
        else if (v == NULL) {
            Py_CLEAR(res);
        }
        else {
            PyList_SET_ITEM(res, i, v);
        }
    }
    for (int i = 0; i < self->nresults; i++) {
        ext_val_release(&rv[i]);
    }
    return res;
}

static PyObject *
func_call_raw_refs(FuncObject *self, ext_ctx *c, PyObject *const *params)
{
    ext_state *st = c->so->st;
    size_t len = (size_t)(self->nparams > self->nresults ? self->nparams : self->nresults);
    wasmtime_val_raw_t raw_stack[SMALL_ARGS];
    wasmtime_val_t val_stack[SMALL_ARGS];
    wasmtime_val_raw_t *raw = raw_stack;
    wasmtime_val_t *vals = val_stack;
    if (len > SMALL_ARGS) {
        raw = PyMem_Malloc(sizeof(wasmtime_val_raw_t) * len);
        vals = PyMem_Malloc(sizeof(wasmtime_val_t) * len);
        if (raw == NULL || vals == NULL) {
            PyMem_Free(raw);
            PyMem_Free(vals);
            return PyErr_NoMemory();
        }
    }
    PyObject *res = NULL;
    int converted = 0;
    for (; converted < self->nparams; converted++) {
        int i = converted;
        wasmtime_valkind_t k = self->kinds[i];
        vals[i].kind = WASMTIME_I32; /* nothing to release unless a reference */
        if (k == WASMTIME_EXTERNREF || k == WASMTIME_FUNCREF) {
            if (ext_py_to_val(st, c, params[i], k, &vals[i]) < 0) {
                goto done;
            }
            continue;
        }
        PyObject *p = ext_val_unwrap(st, params[i], k);
        if (p == NULL || ext_py_to_raw(p, k, &raw[i]) < 0) {
            goto done;
        }
    }
    for (int i = 0; i < self->nparams; i++) {
        ext_val_to_raw(c, &vals[i], &raw[i]); /* references only */
    }
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    StoreObject *so = c->so;
    if (ext_call_enter(so) < 0) {
        goto done;
    }
    EXT_RUN_WASM(
        so, err = wasmtime_func_call_unchecked(c->ctx, &self->base.ext.of.func, raw, len, &trap));
    ext_call_leave(so);
    if (ext_call_finish(st, so, err, trap) == 0) {
        /* The argument roots are no longer needed: reuse their slots. */
        for (int i = 0; i < converted; i++) {
            ext_val_release(&vals[i]);
        }
        converted = 0;
        res = ref_results(self, c, raw, vals);
    }
    else {
        ext_exn_after_call(st, c);
    }
done:
    for (int i = 0; i < converted; i++) {
        ext_val_release(&vals[i]);
    }
    if (raw != raw_stack) {
        PyMem_Free(raw);
        PyMem_Free(vals);
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
        if (ext_py_to_val(st, c, params[converted], self->kinds[converted], &args[converted]) <
            0) {
            goto done;
        }
    }
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    StoreObject *so = c->so;
    if (ext_call_enter(so) < 0) {
        goto done;
    }
    EXT_RUN_WASM(so, err = wasmtime_func_call(c->ctx, &self->base.ext.of.func, args, np, results,
                                              nr, &trap));
    ext_call_leave(so);
    if (ext_call_finish(st, so, err, trap) < 0) {
        ext_exn_after_call(st, c);
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

/* Every call but the common one (func_vectorcall).  Never inlined there:
 * its frame would make every call pay for it. */
static __attribute__((noinline)) PyObject *
func_vectorcall_general(FuncObject *self, PyObject *const *args, Py_ssize_t n, PyObject *kwnames)
{
    StoreObject *owner = self->base.store;
    ext_state *st = owner->st;
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0) {
        PyErr_SetString(PyExc_TypeError, "Func calls take no keyword arguments");
        return NULL;
    }
    if (n < 1) {
        PyErr_SetString(PyExc_TypeError, "Func calls need the store as first argument");
        return NULL;
    }
    ext_ctx c;
    if (args[0] == (PyObject *)owner && owner->store != NULL && ext_store_idle(owner) &&
        owner->async_call == NULL && !owner->async_only) {
        c.so = owner; /* the usual case, checked inline */
        c.ctx = owner->context;
    }
    else if (ext_resolve_owner(st, args[0], owner, &c) < 0 || ext_sync_call_ok(c.so) < 0) {
        return NULL;
    }
    if (self->nparams < 0) {
        /* Claimed: the signature is read through the store's context. */
        if (ext_store_claim(c.so) < 0) {
            return NULL;
        }
        int rc = func_load_sig(self, &c);
        ext_store_unclaim(c.so);
        if (rc < 0) {
            return NULL;
        }
    }
    Py_ssize_t given = n - 1;
    if (given != self->nparams) {
        return ext_raise_msg(st, "too %s parameters provided: given %zd, expected %d",
                             given > self->nparams ? "many" : "few", given, self->nparams);
    }
    if (self->numeric && !self->has_refs) {
        return func_call_raw(self, &c, args + 1); /* no context outside the call */
    }
    /* Reference values are converted (rooted, unrooted) through the store's
     * context before and after the call: hold the store for all of it, so
     * that no other thread closes or enters it meanwhile. */
    if (ext_store_claim(c.so) < 0) {
        return NULL;
    }
    PyObject *res = self->numeric ? func_call_raw_refs(self, &c, args + 1)
                                  : func_call_checked(self, &c, args + 1);
    ext_store_unclaim(c.so);
    return res;
}

/* func(store, *args).  The common call, checked inline: a `simple` Func
 * on its own open, idle, synchronous Store, with the right number of
 * arguments and no keywords. */
static PyObject *
func_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    FuncObject *self = (FuncObject *)op;
    StoreObject *so = self->base.store;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    /* nparams is -1 until the signature is loaded: then n - 1 never equals it. */
    if (n - 1 == self->nparams && self->simple && kwnames == NULL && n > 0 &&
        args[0] == (PyObject *)so && so->store != NULL && ext_store_idle(so) &&
        so->async_call == NULL && !so->async_only) {
        return func_call_simple(self, so, args + 1);
    }
    return func_vectorcall_general(self, args, n, kwnames);
}

/* func.call_async(store, *args): a coroutine (asynccall.c). */
static PyObject *
func_call_async(PyObject *op, PyObject *const *args, Py_ssize_t n)
{
    FuncObject *self = (FuncObject *)op;
    StoreObject *owner = self->base.store;
    ext_state *st = owner->st;
    if (n < 1) {
        PyErr_SetString(PyExc_TypeError, "call_async needs the store as first argument");
        return NULL;
    }
    ext_ctx c;
    if (ext_resolve_owner(st, args[0], owner, &c) < 0) {
        return NULL;
    }
    if (self->nparams < 0 && func_load_sig(self, &c) < 0) {
        return NULL;
    }
    if (n - 1 != self->nparams) {
        return ext_raise_msg(st, "too %s parameters provided: given %zd, expected %d",
                             n - 1 > self->nparams ? "many" : "few", n - 1, self->nparams);
    }
    return ext_async_func_call(self, &c, args + 1);
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
    {"call_async", EXT_FASTCALL(func_call_async),
     "call_async($self, store, /, *args)\n--\n\nA coroutine: await it for what "
     "self(store, *args) returns; wasm is suspended while an async host function awaits "
     "(see docs/asyncio.md)."},
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
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = func_slots,
};

int
func_register(PyObject *mod, ext_state *st)
{
    st->func_vectorcall = func_vectorcall; /* for ext_func_wrap (handles.c) */
    st->Func_Type = ext_add_type(mod, &func_spec, NULL);
    return st->Func_Type == NULL ? -1 : 0;
}
