/* Linker (wasmtime.component): defines a component's imports and
 * instantiates components (wraps wasmtime/component/linker.h).
 *
 * Owns its wasmtime_component_linker_t and holds its Engine.  root() hands
 * out a LinkerInstance that borrows the linker exclusively in Wasmtime
 * (using the linker meanwhile is undefined behaviour in C), so `locked`
 * refuses every use until that LinkerInstance is closed.  Host callables
 * live in `host_objects`; every Store instantiated here keeps that list,
 * because its instances may call them after the Linker is gone.
 *
 * Guards against aborts: Wasmtime panics when a WASIp2 or wasi:http import
 * runs in a Store without set_wasi / set_wasi_http, so instantiate refuses
 * such a component first.
 */
#include "component.h"

#include <stdio.h>
#include <string.h>

static int
clinker_usable(CLinkerObject *self)
{
    EXT_CHECK_OPEN(self->linker, -1);
    if (self->locked || self->busy > 0) {
        ext_raise_msg(self->st, "cannot use linker while it's in use by other instances");
        return -1;
    }
    return 0;
}

static PyObject *
clinker_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"engine", NULL};
    PyObject *engine;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Linker", kwlist, &engine)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(engine, st->Engine_Type)) {
        return ext_wrong_type(st, "an Engine", engine);
    }
    CLinkerObject *self = (CLinkerObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->st = st;
    self->engine = Py_NewRef(engine);
    self->host_objects = PyList_New(0);
    if (self->host_objects == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    EngineObject *eng = (EngineObject *)engine;
    if (eng->engine == NULL) {
        Py_DECREF(self);
        ALREADY_CLOSED();
        return NULL;
    }
    self->linker = wasmtime_component_linker_new(EXT_LIVE(eng, engine));
    return (PyObject *)self;
}

static PyObject *
clinker_root(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CLinkerObject *self = (CLinkerObject *)op;
    if (clinker_usable(self) < 0) {
        return NULL;
    }
    PyTypeObject *tp = self->st->CLinkerInstance_Type;
    CLinkerInstanceObject *li = (CLinkerInstanceObject *)tp->tp_alloc(tp, 0);
    if (li == NULL) {
        return NULL;
    }
    li->parent = Py_NewRef(op);
    li->linker = (CLinkerObject *)Py_NewRef(op);
    li->li = wasmtime_component_linker_root(EXT_LIVE(self, linker));
    self->locked = true;
    return (PyObject *)li;
}

static PyObject *
clinker_add_wasi(CLinkerObject *self, bool http)
{
    if (clinker_usable(self) < 0) {
        return NULL;
    }
    wasmtime_error_t *err = http ? wasmtime_component_linker_add_wasi_http(EXT_LIVE(self, linker))
                                 : wasmtime_component_linker_add_wasip2(self->linker);
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    if (http) {
        self->has_http = true;
    }
    else {
        self->has_wasip2 = true;
    }
    Py_RETURN_NONE;
}

static PyObject *
clinker_add_wasip2(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    return clinker_add_wasi((CLinkerObject *)op, false);
}

static PyObject *
clinker_add_wasi_http(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    return clinker_add_wasi((CLinkerObject *)op, true);
}

static const wasmtime_component_t *
clinker_component_arg(CLinkerObject *self, PyObject *component)
{
    if (!PyObject_TypeCheck(component, self->st->CComponent_Type)) {
        ext_wrong_type(self->st, "a Component", component);
        return NULL;
    }
    ComponentObject *c = (ComponentObject *)component;
    EXT_CHECK_OPEN(c->component, NULL);
    return c->component;
}

/* Refuse what would abort: WASI imports in a Store without the context the
 * linker's WASI definitions unwrap. 0 or -1. */
static int
clinker_check_wasi(CLinkerObject *self, const wasmtime_component_t *comp, StoreObject *so)
{
    bool need_wasi = self->has_wasip2 && !so->has_wasi;
    bool need_http = self->has_http && !so->has_wasi_http;
    if (!need_wasi && !need_http) {
        return 0;
    }
    EngineObject *eng = (EngineObject *)self->engine;
    EXT_CHECK_OPEN(eng->engine, -1);
    wasmtime_component_type_t *ty = wasmtime_component_type(comp);
    size_t n = wasmtime_component_type_import_count(ty, eng->engine);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *name;
        size_t len;
        wasmtime_component_extern_t *ext = NULL;
        if (!wasmtime_component_type_import_nth(ty, eng->engine, i, &name, &len, &ext)) {
            continue;
        }
        const char *what = NULL;
        if (need_http && len >= 10 && memcmp(name, "wasi:http/", 10) == 0) {
            what = "wasi:http context: call store.set_wasi_http() first";
        }
        else if (need_wasi && len >= 5 && memcmp(name, "wasi:", 5) == 0) {
            what = "WASI context: call store.set_wasi() first";
        }
        if (what != NULL) {
            char msg[256];
            snprintf(msg, sizeof msg, "the component imports %.*s, and the Store has no %s",
                     (int)(len > 100 ? 100 : len), name, what);
            ext_raise_msg(self->st, "%s", msg);
            rc = -1;
        }
        wasmtime_component_extern_delete(ext);
    }
    wasmtime_component_type_delete(ty);
    return rc;
}

/* 1 if the item (owned, deleted here) is a function, or an instance with a
 * function, whose values Wasmtime cannot hand to a Python host function
 * (future, stream, error-context: its C API aborts on them). */
static int
item_unsupported(ext_state *st, wasmtime_component_item_t *item, const wasm_engine_t *engine)
{
    int bad = 0;
    if (item->kind == WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC) {
        csig *sig = csig_new(st, item->of.component_func);
        bad = sig == NULL ? -1 : sig->unsupported;
        csig_free(sig);
    }
    else if (item->kind == WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE) {
        const wasmtime_component_instance_type_t *ity = item->of.component_instance;
        size_t n = wasmtime_component_instance_type_export_count(ity, engine);
        for (size_t i = 0; i < n && bad == 0; i++) {
            const char *name;
            size_t len;
            wasmtime_component_extern_t *ext = NULL;
            if (wasmtime_component_instance_type_export_nth(ity, engine, i, &name, &len, &ext)) {
                wasmtime_component_item_t sub;
                wasmtime_component_extern_type(ext, &sub);
                bad = item_unsupported(st, &sub, engine);
                wasmtime_component_extern_delete(ext);
            }
        }
    }
    wasmtime_component_item_delete(item);
    return bad;
}

/* Python host functions cannot take or return future, stream or
 * error-context values, and Wasmtime aborts converting them before our
 * trampoline runs: refuse a component that imports such a function while
 * the linker has host functions. 0 or -1. */
static int
clinker_check_imports(CLinkerObject *self, const wasmtime_component_t *comp)
{
    if (PyList_GET_SIZE(self->host_objects) == 0) {
        return 0;
    }
    EngineObject *eng = (EngineObject *)self->engine;
    EXT_CHECK_OPEN(eng->engine, -1);
    wasmtime_component_type_t *ty = wasmtime_component_type(comp);
    size_t n = wasmtime_component_type_import_count(ty, eng->engine);
    int bad = 0;
    for (size_t i = 0; i < n && bad == 0; i++) {
        const char *name;
        size_t len;
        wasmtime_component_extern_t *ext = NULL;
        if (wasmtime_component_type_import_nth(ty, eng->engine, i, &name, &len, &ext)) {
            wasmtime_component_item_t item;
            wasmtime_component_extern_type(ext, &item);
            bad = item_unsupported(self->st, &item, eng->engine);
            wasmtime_component_extern_delete(ext);
        }
    }
    wasmtime_component_type_delete(ty);
    if (bad > 0) {
        PyErr_SetString(PyExc_NotImplementedError,
                        "the component imports a function taking or returning future, stream "
                        "or error-context values, which Python host functions cannot handle yet");
    }
    return bad != 0 ? -1 : 0;
}

static PyObject *
clinker_instantiate(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    CLinkerObject *self = (CLinkerObject *)op;
    ext_state *st = self->st;
    /* Nothing here runs Python code: the arguments are only type-checked. */
    const wasmtime_component_t *comp = clinker_component_arg(self, args[1]);
    if (comp == NULL) {
        return NULL;
    }
    ext_ctx c;
    if (ext_resolve_store(st, args[0], &c) < 0) {
        return NULL;
    }
    c.so->async_only |= self->has_async;
    if (ext_sync_call_ok(c.so) < 0 || clinker_usable(self) < 0 ||
        clinker_check_wasi(self, comp, c.so) < 0 || clinker_check_imports(self, comp) < 0) {
        return NULL;
    }
    if (ext_store_keep(c.so, self->host_objects) < 0) {
        return NULL;
    }
    wasmtime_component_instance_t inst;
    wasmtime_error_t *err;
    StoreObject *so = c.so;
    if (ext_call_enter(so) < 0) {
        return NULL;
    }
    self->busy++;
    EXT_RUN_WASM(so, err = wasmtime_component_linker_instantiate(EXT_LIVE(self, linker), c.ctx,
                                                                 comp, &inst));
    ext_call_leave(so);
    self->busy--;
    if (ext_call_finish(st, so, err, NULL) < 0) {
        return NULL;
    }
    return cinstance_wrap(st, so, &inst);
}

/* ---- instantiate_async (docs/asyncio.md; the future is asynccall.c's) ---- */

typedef struct {
    wasmtime_component_instance_t inst;
    wasmtime_component_t *comp; /* a clone: the Component may be closed meanwhile */
} cinst_call;

static PyObject *
cinst_convert(PyObject *op)
{
    CallFutureObject *f = (CallFutureObject *)op;
    return cinstance_wrap(f->store->st, f->store, &((cinst_call *)f->data)->inst);
}

static void
cinst_cleanup(PyObject *op)
{
    CallFutureObject *f = (CallFutureObject *)op;
    cinst_call *a = f->data;
    ((CLinkerObject *)f->owner)->busy--;
    wasmtime_component_delete(a->comp);
    PyMem_Free(a);
    f->data = NULL;
}

static PyObject *
clinker_instantiate_async(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    CLinkerObject *self = (CLinkerObject *)op;
    ext_state *st = self->st;
    const wasmtime_component_t *comp = clinker_component_arg(self, args[1]);
    if (comp == NULL) {
        return NULL;
    }
    ext_ctx c;
    if (ext_resolve_store(st, args[0], &c) < 0 || clinker_usable(self) < 0 ||
        clinker_check_wasi(self, comp, c.so) < 0 || clinker_check_imports(self, comp) < 0 ||
        ext_store_keep(c.so, self->host_objects) < 0) {
        return NULL;
    }
    c.so->async_only |= self->has_async;
    cinst_call *a = PyMem_Malloc(sizeof(cinst_call));
    if (a == NULL) {
        return PyErr_NoMemory();
    }
    /* Allocating may run the GC: check everything again. */
    CallFutureObject *f = NULL;
    if ((comp = clinker_component_arg(self, args[1])) == NULL || ext_store_usable(c.so) < 0 ||
        clinker_usable(self) < 0 || (f = ext_future_new(st, c.so, EXT_FUTURE_OTHER, op)) == NULL) {
        PyMem_Free(a);
        return NULL;
    }
    a->comp = wasmtime_component_clone(comp);
    self->busy++;
    f->data = a;
    f->convert = cinst_convert;
    f->cleanup = cinst_cleanup;
    f->fut = wasmtime_component_linker_instantiate_async(self->linker, c.ctx, a->comp, &a->inst,
                                                         &f->err);
    return ext_future_start(st, f);
}

static PyObject *
clinker_define_unknown_imports_as_traps(PyObject *op, PyObject *component)
{
    CLinkerObject *self = (CLinkerObject *)op;
    const wasmtime_component_t *comp = clinker_component_arg(self, component);
    if (comp == NULL || clinker_usable(self) < 0) {
        return NULL;
    }
    wasmtime_error_t *err =
        wasmtime_component_linker_define_unknown_imports_as_traps(EXT_LIVE(self, linker), comp);
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    Py_RETURN_NONE;
}

static PyObject *
clinker_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CLinkerObject *self = (CLinkerObject *)op;
    if (self->linker == NULL) {
        Py_RETURN_NONE;
    }
    if (clinker_usable(self) < 0) {
        return NULL;
    }
    Py_BEGIN_CRITICAL_SECTION(op);
    EXT_RETIRE(self, linker, wasmtime_component_linker_delete);
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static int
clinker_set_allow_shadowing(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    CLinkerObject *self = (CLinkerObject *)op;
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete allow_shadowing");
        return -1;
    }
    int allow = PyObject_IsTrue(value);
    if (allow < 0 || clinker_usable(self) < 0) {
        return -1;
    }
    wasmtime_component_linker_allow_shadowing(EXT_LIVE(self, linker), allow);
    self->shadowing = allow;
    return 0;
}

static PyObject *
clinker_get_allow_shadowing(PyObject *op, void *Py_UNUSED(closure))
{
    (void)op;
    PyErr_SetString(PyExc_AttributeError, "allow_shadowing is write-only");
    return NULL;
}

static PyObject *
clinker_get_engine(PyObject *op, void *Py_UNUSED(closure))
{
    return Py_NewRef(((CLinkerObject *)op)->engine);
}

static PyObject *
clinker_get_locked(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(((CLinkerObject *)op)->locked);
}

static int
clinker_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CLinkerObject *)op)->engine);
    Py_VISIT(((CLinkerObject *)op)->host_objects);
    return 0;
}

static int
clinker_clear(PyObject *op)
{
    CLinkerObject *self = (CLinkerObject *)op;
    /* The callables go only with the C linker, which may call them. */
    EXT_DELETE_RETIRED(self, wasmtime_component_linker_t, wasmtime_component_linker_delete);
    if (self->linker != NULL && !self->locked && self->busy == 0) {
        wasmtime_component_linker_delete(self->linker);
        self->linker = NULL;
    }
    if (self->linker == NULL) {
        Py_CLEAR(self->host_objects);
    }
    Py_CLEAR(self->engine);
    return 0;
}

static void
clinker_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    CLinkerObject *self = (CLinkerObject *)op;
    PyObject_GC_UnTrack(op);
    if (self->linker != NULL) {
        wasmtime_component_linker_delete(self->linker);
        self->linker = NULL;
    }
    EXT_DELETE_RETIRED(self, wasmtime_component_linker_t, wasmtime_component_linker_delete);
    Py_CLEAR(self->host_objects);
    Py_CLEAR(self->engine);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KWN(clinker_instantiate, "instantiate", 2, "store", "component")
EXT_KWN(clinker_instantiate_async, "instantiate_async", 2, "store", "component")
EXT_KW1(clinker_define_unknown_imports_as_traps, "define_unknown_imports_as_traps", "component")

static PyMethodDef clinker_methods[] = {
    {"root", clinker_root, METH_NOARGS,
     "root($self, /)\n--\n\nThe root LinkerInstance; the linker is locked until it is closed."},
    {"add_wasip2", clinker_add_wasip2, METH_NOARGS,
     "add_wasip2($self, /)\n--\n\nDefine the WASIp2 interfaces (the Store needs set_wasi)."},
    {"add_wasi_http", clinker_add_wasi_http, METH_NOARGS,
     "add_wasi_http($self, /)\n--\n\nDefine wasi:http types and outgoing-handler "
     "(the Store needs set_wasi and set_wasi_http)."},
    {"instantiate_async", EXT_KWN_ENTRY(clinker_instantiate_async),
     "instantiate_async($self, store, component)\n--\n\nA coroutine: await it for what "
     "instantiate(store, component) returns (docs/asyncio.md)."},
    {"instantiate", EXT_KWN_ENTRY(clinker_instantiate),
     "instantiate($self, store, component)\n--\n\nInstantiate `component` in `store`."},
    {"define_unknown_imports_as_traps", EXT_KW1_ENTRY(clinker_define_unknown_imports_as_traps),
     "define_unknown_imports_as_traps($self, component)\n--\n\n"
     "Define every import of `component` not yet defined as a function that traps."},
    {"close", clinker_close, METH_NOARGS, "close($self, /)\n--\n\nFree the linker."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef clinker_getset[] = {
    {"allow_shadowing", clinker_get_allow_shadowing, clinker_set_allow_shadowing,
     "Whether a definition may replace an earlier one (write-only).", NULL},
    {"engine", clinker_get_engine, NULL, "The Engine of this linker.", NULL},
    {"locked", clinker_get_locked, NULL, "Whether a LinkerInstance borrows the linker.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot clinker_slots[] = {
    {Py_tp_new, clinker_new},
    {Py_tp_dealloc, clinker_dealloc},
    {Py_tp_traverse, clinker_traverse},
    {Py_tp_clear, clinker_clear},
    {Py_tp_methods, clinker_methods},
    {Py_tp_getset, clinker_getset},
    {Py_tp_doc, "Linker(engine)\n--\n\nDefines the imports of components and instantiates them."},
    {0, NULL},
};

static PyType_Spec clinker_spec = {
    .name = "wasmtime.component.Linker",
    .basicsize = sizeof(CLinkerObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = clinker_slots,
};

int
clinker_register(PyObject *mod, ext_state *st)
{
    PyObject *bases = PyTuple_Pack(1, st->Managed_Type);
    if (bases == NULL) {
        return -1;
    }
    st->CLinker_Type = ext_add_component_type(mod, &clinker_spec, bases);
    Py_DECREF(bases);
    return st->CLinker_Type == NULL ? -1 : 0;
}
