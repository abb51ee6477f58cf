/* Func (wasmtime.component): calling a component's exported functions
 * (wraps wasmtime/component/func.h).
 *
 * Speed: Func implements vectorcall.  Its signature is planned once, on
 * the first call (cplan.c): each parameter's converter, the tagged rule of
 * its variants, list<u8> as one loop over a buffer.  Up to 8 arguments
 * live on the C stack.
 *
 * Safety: a Func is a plain handle {store_id, ...} holding its Store
 * strongly.  Wasmtime aborts when it is called with another store, so the
 * `store` argument is resolved against the owner before anything else, and
 * again after the arguments were converted (records and lists run Python
 * code that may close the Store).  Signatures with future, stream or
 * error-context values are refused before Wasmtime sees them.
 */
#include "component.h"

#define SMALL_ARGS 8

static int
cfunc_resolve(CFuncObject *self, PyObject *store, ext_ctx *c)
{
    StoreObject *owner = self->store;
    if (store == (PyObject *)owner && owner->store != NULL && ext_store_idle(owner) &&
        owner->async_call == NULL && !owner->async_only) {
        c->so = owner; /* the usual case, checked inline */
        c->ctx = owner->context;
        return 0;
    }
    return ext_resolve_owner(owner->st, store, owner, c);
}

static int
cfunc_sig(CFuncObject *self, ext_ctx *c)
{
    if (self->sig != NULL) {
        return 0;
    }
    wasmtime_component_func_type_t *ty = wasmtime_component_func_type(&self->func, c->ctx);
    csig *sig = csig_new(self->store->st, ty);
    wasmtime_component_func_type_delete(ty);
    if (sig == NULL) {
        return -1;
    }
    /* Once only: without a GIL another thread may plan at the same time;
     * a published plan is never freed while the Func lives. */
    Py_BEGIN_CRITICAL_SECTION(self);
    if (self->sig == NULL) {
        atomic_thread_fence(memory_order_release);
        self->sig = sig;
        sig = NULL;
    }
    Py_END_CRITICAL_SECTION();
    csig_free(sig);
    return 0;
}

static PyObject *
cfunc_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    CFuncObject *self = (CFuncObject *)op;
    ext_state *st = self->store->st;
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
    if (cfunc_resolve(self, args[0], &c) < 0 || ext_sync_call_ok(c.so) < 0 ||
        cfunc_sig(self, &c) < 0) {
        return NULL;
    }
    csig *sig = self->sig;
    if (csig_check_supported(sig) < 0) {
        return NULL;
    }
    size_t np = sig->nparams, nr = sig->result != NULL ? 1 : 0;
    if ((size_t)(n - 1) != np) {
        PyErr_Format(PyExc_TypeError,
                     "wrong number of parameters provided: given %zd, expected %zu", n - 1, np);
        return NULL;
    }
    wasmtime_component_val_t stack[SMALL_ARGS + 1], *vals = stack;
    if (np + 1 > SMALL_ARGS + 1) {
        vals = PyMem_Malloc(sizeof(wasmtime_component_val_t) * (np + 1));
        if (vals == NULL) {
            return PyErr_NoMemory();
        }
    }
    wasmtime_component_val_t *result = &vals[np];
    result->kind = WASMTIME_COMPONENT_BOOL;
    result->of.boolean = false;
    PyObject *res = NULL;
    size_t done = 0;
    for (; done < np; done++) {
        if (cval_from_py(st, &c, sig->params[done], args[1 + done], &vals[done]) < 0) {
            goto out;
        }
    }
    /* Converting ran Python code: the Store may be gone or busy now. */
    if (ext_resolve_owner(st, args[0], self->store, &c) < 0) {
        goto out;
    }
    StoreObject *so = c.so;
    wasmtime_error_t *err;
    if (ext_call_enter(so) < 0) {
        goto out;
    }
    EXT_RUN_WASM(so, err = wasmtime_component_func_call(&self->func, c.ctx, vals, np, result, nr));
    ext_call_leave(so);
    if (ext_call_finish(st, so, err, NULL) == 0) {
        res = nr ? cval_to_py(st, so, sig->result, result) : Py_NewRef(Py_None);
    }
    wasmtime_component_val_delete(result);
out:
    for (size_t i = 0; i < done; i++) {
        wasmtime_component_val_delete(&vals[i]);
    }
    if (vals != stack) {
        PyMem_Free(vals);
    }
    return res;
}

/* ---- call_async (docs/asyncio.md; the future is asynccall.c's) ---- */

typedef struct {
    size_t np, done;                 /* params; how many are converted */
    wasmtime_component_val_t vals[]; /* params then the result */
} cacall;

static PyObject *
cacall_convert(PyObject *op)
{
    CallFutureObject *f = (CallFutureObject *)op;
    CFuncObject *self = (CFuncObject *)f->owner;
    cacall *a = f->data;
    if (self->sig->result == NULL) {
        Py_RETURN_NONE;
    }
    return cval_to_py(self->store->st, f->store, self->sig->result, &a->vals[a->np]);
}

static void
cacall_free(cacall *a)
{
    for (size_t i = 0; i < a->done; i++) {
        wasmtime_component_val_delete(&a->vals[i]);
    }
    wasmtime_component_val_delete(&a->vals[a->np]);
    PyMem_Free(a);
}

static void
cacall_cleanup(PyObject *op)
{
    CallFutureObject *f = (CallFutureObject *)op;
    cacall *a = f->data;
    f->data = NULL;
    cacall_free(a);
}

static PyObject *
cfunc_call_async(PyObject *op, PyObject *const *args, Py_ssize_t n)
{
    CFuncObject *self = (CFuncObject *)op;
    ext_state *st = self->store->st;
    if (n < 1) {
        PyErr_SetString(PyExc_TypeError, "call_async needs the store as first argument");
        return NULL;
    }
    ext_ctx c;
    if (ext_resolve_owner(st, args[0], self->store, &c) < 0 || cfunc_sig(self, &c) < 0 ||
        csig_check_supported(self->sig) < 0) {
        return NULL;
    }
    size_t np = self->sig->nparams;
    if ((size_t)(n - 1) != np) {
        PyErr_Format(PyExc_TypeError,
                     "wrong number of parameters provided: given %zd, expected %zu", n - 1, np);
        return NULL;
    }
    cacall *a = PyMem_Malloc(sizeof(cacall) + sizeof(wasmtime_component_val_t) * (np + 1));
    if (a == NULL) {
        return PyErr_NoMemory();
    }
    a->np = np;
    a->vals[np].kind = WASMTIME_COMPONENT_BOOL;
    a->vals[np].of.boolean = false;
    CallFutureObject *f = NULL;
    for (a->done = 0; a->done < np; a->done++) {
        if (cval_from_py(st, &c, self->sig->params[a->done], args[1 + a->done],
                         &a->vals[a->done]) < 0) {
            goto fail;
        }
    }
    /* Converting ran Python code: the Store may be gone or busy now. */
    if (ext_resolve_owner(st, args[0], self->store, &c) < 0 ||
        (f = ext_future_new(st, c.so, EXT_FUTURE_OTHER, op)) == NULL) {
        goto fail;
    }
    f->data = a;
    f->convert = cacall_convert;
    f->cleanup = cacall_cleanup;
    f->fut = wasmtime_component_func_call_async(&self->func, c.ctx, a->vals, np, &a->vals[np],
                                                self->sig->result != NULL ? 1 : 0, &f->err);
    return ext_future_start(st, f);
fail:
    cacall_free(a);
    return NULL;
}

static PyObject *
cfunc_type(PyObject *op, PyObject *store)
{
    CFuncObject *self = (CFuncObject *)op;
    ext_ctx c;
    if (cfunc_resolve(self, store, &c) < 0) {
        return NULL;
    }
    ext_state *st = self->store->st;
    return ctype_wrap(st, st->CFuncType_Type, wasmtime_component_func_type(&self->func, c.ctx),
                      CTYPE_FUNC, op);
}

static PyObject *
cfunc_post_return(PyObject *op, PyObject *store)
{
    /* A no-op since Wasmtime 50 (post-return runs inside the call). */
    ext_ctx c;
    if (cfunc_resolve((CFuncObject *)op, store, &c) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* wasmtime.bindgen: attach a class table to this function's plans, once. */
static PyObject *
cfunc_bind_classes(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    CFuncObject *self = (CFuncObject *)op;
    ext_ctx c;
    if (cfunc_resolve(self, args[0], &c) < 0 || cfunc_sig(self, &c) < 0) {
        return NULL;
    }
    if (csig_set_classes(self->sig, args[1]) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static int
cfunc_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CFuncObject *)op)->store);
    return csig_traverse(((CFuncObject *)op)->sig, visit, arg);
}

static int
cfunc_clear(PyObject *op)
{
    CFuncObject *self = (CFuncObject *)op;
    Py_CLEAR(self->store);
    /* Only the collector clears a Func, and never one being called (its
     * caller holds a reference): the plans and their class tables can go. */
    csig *sig = self->sig;
    self->sig = NULL;
    csig_free(sig);
    return 0;
}

static void
cfunc_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    CFuncObject *self = (CFuncObject *)op;
    PyObject_GC_UnTrack(op);
    EXT_CLEAR_WEAKREFS(op, self->weakreflist);
    (void)cfunc_clear(op);
    csig_free(self->sig);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(cfunc_type, "type", "store")
EXT_KW1(cfunc_post_return, "post_return", "store")
EXT_KWN(cfunc_bind_classes, "_bind_classes", 2, "store", "classes")

static PyMethodDef cfunc_methods[] = {
    {"type", EXT_KW1_ENTRY(cfunc_type),
     "type($self, store)\n--\n\nThe FuncType of this function."},
    {"call_async", EXT_FASTCALL(cfunc_call_async),
     "call_async($self, store, /, *args)\n--\n\nA coroutine: await it for what "
     "self(store, *args) returns (docs/asyncio.md)."},
    {"post_return", EXT_KW1_ENTRY(cfunc_post_return),
     "post_return($self, store)\n--\n\nDoes nothing (kept for compatibility: Wasmtime runs "
     "post-return inside the call)."},
    {"_bind_classes", EXT_KWN_ENTRY(cfunc_bind_classes),
     "_bind_classes($self, store, classes)\n--\n\nMake calls use the generated classes of "
     "`classes` (wasmtime.bindgen's class table); once per Func."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef cfunc_members[] = {
    EXT_WEAKREF_MEMBER(CFuncObject, weakreflist),
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(CFuncObject, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot cfunc_slots[] = {
    {Py_tp_new, ext_no_construct},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_dealloc, cfunc_dealloc},
    {Py_tp_traverse, cfunc_traverse},
    {Py_tp_clear, cfunc_clear},
    {Py_tp_methods, cfunc_methods},
    {Py_tp_members, cfunc_members},
    {Py_tp_doc, "A component function; call it as f(store, *args)."},
    {0, NULL},
};

static PyType_Spec cfunc_spec = {
    .name = "wasmtime.component.Func",
    .basicsize = sizeof(CFuncObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = cfunc_slots,
};

int
cfunc_register(PyObject *mod, ext_state *st)
{
    st->cfunc_vectorcall = cfunc_vectorcall; /* for cfunc_wrap (citems.c) */
    st->CFunc_Type = ext_add_component_type(mod, &cfunc_spec, NULL);
    return st->CFunc_Type == NULL ? -1 : 0;
}
