/* Resources of wasmtime.component: ResourceType, ResourceAny and
 * ResourceHost (wraps wasmtime/component/types/resource.h and the resource
 * half of wasmtime/component/val.h).
 *
 * Each owns its C object.  A ResourceAny lives in one Store's resource
 * table, which the C API does not record, so the object holds that Store
 * and every use is checked against it (another Store would find another
 * resource, or none).  Passing a ResourceAny as an `own` argument consumes
 * it (cval.c): it reads as closed afterwards.
 */
#include "component.h"

static uint32_t
u32_arg(PyObject *obj, bool *ok)
{
    unsigned long v = PyLong_AsUnsignedLong(obj);
    if (v == (unsigned long)-1 && PyErr_Occurred()) {
        *ok = false;
        return 0;
    }
    if (v > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "value out of range for a u32");
        *ok = false;
        return 0;
    }
    *ok = true;
    return (uint32_t)v;
}

/* ---- ResourceType ------------------------------------------------------------- */

static PyObject *
resourcetype_host(PyObject *cls, PyObject *arg)
{
    bool ok;
    uint32_t v = u32_arg(arg, &ok);
    ext_state *st = ext_state_from_type((PyTypeObject *)cls);
    if (!ok || st == NULL) {
        return NULL;
    }
    return cresourcetype_wrap(st, wasmtime_component_resource_type_new_host(v));
}

static PyObject *
resourcetype_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    CResourceTypeObject *x = (CResourceTypeObject *)a, *y = (CResourceTypeObject *)b;
    EXT_CHECK_OPEN(x->ty, NULL);
    EXT_CHECK_OPEN(y->ty, NULL);
    bool eq = wasmtime_component_resource_type_equal(x->ty, y->ty);
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyObject *
resourcetype_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CResourceTypeObject *self = (CResourceTypeObject *)op;
    if (self->ty != NULL) {
        wasmtime_component_resource_type_delete(self->ty);
        self->ty = NULL;
    }
    Py_RETURN_NONE;
}

static void
resourcetype_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    (void)resourcetype_close(op, NULL);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* ---- ResourceAny --------------------------------------------------------------- */

static int
any_ctx(CResourceAnyObject *self, PyObject *store, ext_ctx *c)
{
    if (ext_resolve_owner(self->store->st, store, self->store, c) < 0) {
        return -1;
    }
    EXT_CHECK_OPEN(self->res, -1);
    return 0;
}

static PyObject *
any_type(PyObject *op, void *Py_UNUSED(closure))
{
    CResourceAnyObject *self = (CResourceAnyObject *)op;
    EXT_CHECK_OPEN(self->res, NULL);
    return cresourcetype_wrap(self->store->st, wasmtime_component_resource_any_type(self->res));
}

static PyObject *
any_owned(PyObject *op, void *Py_UNUSED(closure))
{
    CResourceAnyObject *self = (CResourceAnyObject *)op;
    EXT_CHECK_OPEN(self->res, NULL);
    return PyBool_FromLong(wasmtime_component_resource_any_owned(self->res));
}

static PyObject *
any_drop(PyObject *op, PyObject *store)
{
    CResourceAnyObject *self = (CResourceAnyObject *)op;
    ext_ctx c;
    if (any_ctx(self, store, &c) < 0) {
        return NULL;
    }
    StoreObject *so = c.so;
    wasmtime_error_t *err;
    /* The guest's destructor (or a host one, through chost.c) may run. */
    if (ext_call_enter(so) < 0) {
        return NULL;
    }
    EXT_RUN_WASM(so, err = wasmtime_component_resource_any_drop(c.ctx, self->res));
    ext_call_leave(so);
    if (ext_call_finish(so->st, so, err, NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
any_to_host(PyObject *op, PyObject *store)
{
    CResourceAnyObject *self = (CResourceAnyObject *)op;
    ext_ctx c;
    if (any_ctx(self, store, &c) < 0) {
        return NULL;
    }
    wasmtime_component_resource_host_t *host = NULL;
    wasmtime_error_t *err = wasmtime_component_resource_any_to_host(c.ctx, self->res, &host);
    if (err != NULL) {
        return ext_raise_error(self->store->st, err);
    }
    return cresourcehost_wrap(self->store->st, host);
}

static PyObject *
any_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CResourceAnyObject *self = (CResourceAnyObject *)op;
    if (self->res != NULL) {
        wasmtime_component_resource_any_delete(self->res);
        self->res = NULL;
    }
    Py_RETURN_NONE;
}

static int
any_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CResourceAnyObject *)op)->store);
    return 0;
}

static int
any_clear(PyObject *op)
{
    Py_CLEAR(((CResourceAnyObject *)op)->store);
    return 0;
}

static void
any_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)any_close(op, NULL);
    (void)any_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* ---- ResourceHost ---------------------------------------------------------------- */

static PyObject *
host_make(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, bool owned)
{
    static const char *const kwlist[] = {"rep", "ty", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, owned ? "own" : "borrow", kwlist, 2, a) < 0) {
        return NULL;
    }
    bool ok1, ok2 = false;
    uint32_t rep = u32_arg(a[0], &ok1);
    uint32_t ty = ok1 ? u32_arg(a[1], &ok2) : 0;
    ext_state *st = ext_state_from_type((PyTypeObject *)cls);
    if (!ok2 || st == NULL) {
        return NULL;
    }
    return cresourcehost_wrap(st, wasmtime_component_resource_host_new(owned, rep, ty));
}

static PyObject *
host_own(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return host_make(cls, args, nargs, kwnames, true);
}

static PyObject *
host_borrow(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return host_make(cls, args, nargs, kwnames, false);
}

static PyObject *
host_get(PyObject *op, void *closure)
{
    CResourceHostObject *self = (CResourceHostObject *)op;
    EXT_CHECK_OPEN(self->res, NULL);
    switch ((intptr_t)closure) {
    case 0: return PyLong_FromUnsignedLong(wasmtime_component_resource_host_rep(self->res));
    case 1: return PyLong_FromUnsignedLong(wasmtime_component_resource_host_type(self->res));
    default: return PyBool_FromLong(wasmtime_component_resource_host_owned(self->res));
    }
}

static PyObject *
host_to_any(PyObject *op, PyObject *store)
{
    CResourceHostObject *self = (CResourceHostObject *)op;
    ext_state *st = ext_state_from_type(Py_TYPE(op));
    ext_ctx c;
    if (st == NULL || ext_resolve_store(st, store, &c) < 0) {
        return NULL;
    }
    EXT_CHECK_OPEN(self->res, NULL);
    wasmtime_component_resource_any_t *any = NULL;
    wasmtime_error_t *err = wasmtime_component_resource_host_to_any(c.ctx, self->res, &any);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return cresourceany_wrap(st, c.so, any);
}

static PyObject *
host_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CResourceHostObject *self = (CResourceHostObject *)op;
    if (self->res != NULL) {
        wasmtime_component_resource_host_delete(self->res);
        self->res = NULL;
    }
    Py_RETURN_NONE;
}

static void
host_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    (void)host_close(op, NULL);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* ---- tables and specs ------------------------------------------------------------- */

EXT_KW1(any_drop, "drop", "store")
EXT_KW1(any_to_host, "to_host", "store")
EXT_KW1(host_to_any, "to_any", "store")

static PyMethodDef resourcetype_methods[] = {
    {"host", resourcetype_host, METH_O | METH_CLASS,
     "host(val, /)\n--\n\nThe type of host resources tagged `val` (a u32)."},
    {"close", resourcetype_close, METH_NOARGS, "close($self, /)\n--\n\nFree the type."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef any_methods[] = {
    {"drop", EXT_KW1_ENTRY(any_drop),
     "drop($self, store)\n--\n\nDrop the resource (runs its destructor)."},
    {"to_host", EXT_KW1_ENTRY(any_to_host),
     "to_host($self, store)\n--\n\nThe ResourceHost of a host resource (takes its table slot)."},
    {"close", any_close, METH_NOARGS, "close($self, /)\n--\n\nForget the handle."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef any_getset[] = {
    {"type", any_type, NULL, "The ResourceType.", NULL},
    {"owned", any_owned, NULL, "Whether this is an own (not a borrow).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef host_methods[] = {
    {"own", EXT_FASTCALL_KW_CLASS(host_own),
     "own(rep, ty)\n--\n\nAn owned host resource with representation `rep` of type `ty`."},
    {"borrow", EXT_FASTCALL_KW_CLASS(host_borrow),
     "borrow(rep, ty)\n--\n\nA borrowed host resource."},
    {"to_any", EXT_KW1_ENTRY(host_to_any),
     "to_any($self, store)\n--\n\nThe ResourceAny of this resource in `store`."},
    {"close", host_close, METH_NOARGS, "close($self, /)\n--\n\nFree the handle."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef host_getset[] = {
    {"rep", host_get, NULL, "The representation (u32).", (void *)0},
    {"type", host_get, NULL, "The type tag (u32).", (void *)1},
    {"owned", host_get, NULL, "Whether this is an own.", (void *)2},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot resourcetype_slots[] = {
    {Py_tp_new, ext_no_construct},
    {Py_tp_dealloc, resourcetype_dealloc},
    {Py_tp_richcompare, resourcetype_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_methods, resourcetype_methods},
    {Py_tp_doc, "The type of a resource."},
    {0, NULL},
};

static PyType_Slot any_slots[] = {
    {Py_tp_new, ext_no_construct},
    {Py_tp_dealloc, any_dealloc},
    {Py_tp_traverse, any_traverse},
    {Py_tp_clear, any_clear},
    {Py_tp_methods, any_methods},
    {Py_tp_getset, any_getset},
    {Py_tp_doc, "A resource in a Store's table (guest or host)."},
    {0, NULL},
};

static PyType_Slot host_slots[] = {
    {Py_tp_new, ext_no_construct},
    {Py_tp_dealloc, host_dealloc},
    {Py_tp_methods, host_methods},
    {Py_tp_getset, host_getset},
    {Py_tp_doc, "A host resource: a u32 representation and a u32 type tag."},
    {0, NULL},
};

static PyType_Spec resourcetype_spec = {
    .name = "wasmtime.component.ResourceType",
    .basicsize = sizeof(CResourceTypeObject),
    .flags = EXT_TPFLAGS,
    .slots = resourcetype_slots,
};

static PyType_Spec any_spec = {
    .name = "wasmtime.component.ResourceAny",
    .basicsize = sizeof(CResourceAnyObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = any_slots,
};

static PyType_Spec host_spec = {
    .name = "wasmtime.component.ResourceHost",
    .basicsize = sizeof(CResourceHostObject),
    .flags = EXT_TPFLAGS,
    .slots = host_slots,
};

int
cresources_register(PyObject *mod, ext_state *st)
{
    PyObject *bases = PyTuple_Pack(1, st->Managed_Type);
    if (bases == NULL) {
        return -1;
    }
    st->CResourceType_Type = ext_add_component_type(mod, &resourcetype_spec, bases);
    st->CResourceAny_Type =
        st->CResourceType_Type == NULL ? NULL : ext_add_component_type(mod, &any_spec, bases);
    st->CResourceHost_Type =
        st->CResourceAny_Type == NULL ? NULL : ext_add_component_type(mod, &host_spec, bases);
    Py_DECREF(bases);
    return st->CResourceHost_Type == NULL ? -1 : 0;
}
