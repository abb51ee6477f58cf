/* Floor 3: C component objects as Python objects (wraps the type half of
 * wasmtime/component/types/ and the handles of component/).
 *
 * Every wrapper takes ownership of the C pointer it is given and deletes it
 * when the allocation fails.  Objects are allocated with the type objects
 * of the module state, so the type files of floor 4 never call each other.
 */
#include "component.h"

#include <string.h>

/* Delete the owned pointer of a value type of kind `kind`. */
static void
cvaltype_delete_ptr(int kind, void *ptr)
{
    wasmtime_component_valtype_t vt;
    vt.kind = (uint8_t)kind;
    vt.of.list = ptr;
    wasmtime_component_valtype_delete(&vt);
}

void
ctype_delete(int kind, void *ptr)
{
    switch (kind) {
    case CTYPE_COMPONENT: wasmtime_component_type_delete(ptr); break;
    case CTYPE_INSTANCE: wasmtime_component_instance_type_delete(ptr); break;
    case CTYPE_MODULE: wasmtime_module_type_delete(ptr); break;
    case CTYPE_FUNC: wasmtime_component_func_type_delete(ptr); break;
    default: cvaltype_delete_ptr(kind, ptr); break;
    }
}

PyObject *
ctype_wrap(ext_state *st, PyTypeObject *tp, void *ptr, int kind, PyObject *owner)
{
    CTypeObject *self = (CTypeObject *)tp->tp_alloc(tp, 0);
    if (self == NULL) {
        if (ptr != NULL) {
            ctype_delete(kind, ptr);
        }
        return NULL;
    }
    self->ty = ptr;
    self->kind = kind;
    self->st = st;
    self->owner = Py_XNewRef(owner);
    return (PyObject *)self;
}

int
ctype_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CTypeObject *)op)->owner);
    return 0;
}

int
ctype_clear(PyObject *op)
{
    Py_CLEAR(((CTypeObject *)op)->owner);
    return 0;
}

void
ctype_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    CTypeObject *self = (CTypeObject *)op;
    PyObject_GC_UnTrack(op);
    /* The type before its owner: it may point into it. */
    if (self->ty != NULL) {
        ctype_delete(self->kind, self->ty);
        self->ty = NULL;
    }
    Py_CLEAR(self->owner);
    tp->tp_free(op);
    Py_DECREF(tp);
}

PyObject *
cresourcetype_wrap(ext_state *st, wasmtime_component_resource_type_t *ty)
{
    PyTypeObject *tp = st->CResourceType_Type;
    CResourceTypeObject *self = (CResourceTypeObject *)tp->tp_alloc(tp, 0);
    if (self == NULL) {
        wasmtime_component_resource_type_delete(ty);
        return NULL;
    }
    self->ty = ty;
    return (PyObject *)self;
}

PyObject *
cvaltype_to_py(ext_state *st, wasmtime_component_valtype_t *ty, PyObject *owner)
{
    uint8_t kind = ty->kind;
    PyTypeObject *tp = kind < 32 ? st->cvaltypes[kind] : NULL;
    if (tp == NULL) {
        wasmtime_component_valtype_delete(ty);
        PyErr_SetString(PyExc_TypeError, "unknown component value type kind");
        return NULL;
    }
    if (kind == WASMTIME_COMPONENT_VALTYPE_OWN || kind == WASMTIME_COMPONENT_VALTYPE_BORROW) {
        PyObject *rty = cresourcetype_wrap(st, ty->of.own);
        if (rty == NULL) {
            return NULL;
        }
        CRefTypeObject *self = (CRefTypeObject *)tp->tp_alloc(tp, 0);
        if (self == NULL) {
            Py_DECREF(rty);
            return NULL;
        }
        self->ty = rty;
        return (PyObject *)self;
    }
    if (kind <= WASMTIME_COMPONENT_VALTYPE_STRING ||
        kind == WASMTIME_COMPONENT_VALTYPE_ERROR_CONTEXT) {
        return tp->tp_alloc(tp, 0);
    }
    return ctype_wrap(st, tp, ty->of.list, kind, owner);
}

PyObject *
citem_to_py(ext_state *st, wasmtime_component_item_t *item, PyObject *owner)
{
    switch (item->kind) {
    case WASMTIME_COMPONENT_ITEM_COMPONENT:
        return ctype_wrap(st, st->CComponentType_Type, item->of.component, CTYPE_COMPONENT, owner);
    case WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE:
        return ctype_wrap(st, st->CInstanceType_Type, item->of.component_instance, CTYPE_INSTANCE,
                          owner);
    case WASMTIME_COMPONENT_ITEM_MODULE:
        return ctype_wrap(st, st->CModuleType_Type, item->of.module, CTYPE_MODULE, owner);
    case WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC:
        return ctype_wrap(st, st->CFuncType_Type, item->of.component_func, CTYPE_FUNC, owner);
    case WASMTIME_COMPONENT_ITEM_RESOURCE: return cresourcetype_wrap(st, item->of.resource);
    case WASMTIME_COMPONENT_ITEM_TYPE: return cvaltype_to_py(st, &item->of.type, owner);
    default:
        wasmtime_component_item_delete(item);
        PyErr_SetString(PyExc_TypeError, "unknown component item kind");
        return NULL;
    }
}

PyObject *
cextern_dict(ext_state *st, PyObject *owner, const wasm_engine_t *engine, bool exports)
{
    CTypeObject *o = (CTypeObject *)owner;
    EXT_CHECK_OPEN(o->ty, NULL);
    size_t n;
    if (o->kind == CTYPE_INSTANCE) {
        n = wasmtime_component_instance_type_export_count(o->ty, engine);
    }
    else if (exports) {
        n = wasmtime_component_type_export_count(o->ty, engine);
    }
    else {
        n = wasmtime_component_type_import_count(o->ty, engine);
    }
    PyObject *dict = PyDict_New();
    for (size_t i = 0; dict != NULL && i < n; i++) {
        const char *name;
        size_t len;
        wasmtime_component_extern_t *ext = NULL;
        bool ok;
        if (o->kind == CTYPE_INSTANCE) {
            ok = wasmtime_component_instance_type_export_nth(o->ty, engine, i, &name, &len, &ext);
        }
        else if (exports) {
            ok = wasmtime_component_type_export_nth(o->ty, engine, i, &name, &len, &ext);
        }
        else {
            ok = wasmtime_component_type_import_nth(o->ty, engine, i, &name, &len, &ext);
        }
        if (!ok) {
            continue;
        }
        PyObject *key = PyUnicode_DecodeUTF8(name, (Py_ssize_t)len, "replace");
        CExternObject *e = (CExternObject *)st->CExtern_Type->tp_alloc(st->CExtern_Type, 0);
        if (key == NULL || e == NULL) {
            Py_XDECREF(key);
            Py_XDECREF(e);
            wasmtime_component_extern_delete(ext);
            Py_CLEAR(dict);
            break;
        }
        e->ext = ext;
        e->owner = Py_NewRef(owner);
        e->st = st;
        int rc = PyDict_SetItem(dict, key, (PyObject *)e);
        Py_DECREF(key);
        Py_DECREF(e);
        if (rc < 0) {
            Py_CLEAR(dict);
        }
    }
    return dict;
}

PyObject *
cexportindex_wrap(ext_state *st, wasmtime_component_export_index_t *idx)
{
    PyTypeObject *tp = st->CExportIndex_Type;
    CExportIndexObject *self = (CExportIndexObject *)tp->tp_alloc(tp, 0);
    if (self == NULL) {
        wasmtime_component_export_index_delete(idx);
        return NULL;
    }
    self->index = idx;
    return (PyObject *)self;
}

PyObject *
cresourceany_wrap(ext_state *st, StoreObject *so, wasmtime_component_resource_any_t *res)
{
    PyTypeObject *tp = st->CResourceAny_Type;
    CResourceAnyObject *self = (CResourceAnyObject *)tp->tp_alloc(tp, 0);
    if (self == NULL) {
        wasmtime_component_resource_any_delete(res);
        return NULL;
    }
    self->res = res;
    self->store = (StoreObject *)Py_NewRef(so);
    return (PyObject *)self;
}

PyObject *
cresourcehost_wrap(ext_state *st, wasmtime_component_resource_host_t *res)
{
    PyTypeObject *tp = st->CResourceHost_Type;
    CResourceHostObject *self = (CResourceHostObject *)tp->tp_alloc(tp, 0);
    if (self == NULL) {
        wasmtime_component_resource_host_delete(res);
        return NULL;
    }
    self->res = res;
    return (PyObject *)self;
}

PyObject *
cfunc_wrap(ext_state *st, StoreObject *so, const wasmtime_component_func_t *f)
{
    PyTypeObject *tp = st->CFunc_Type;
    CFuncObject *self = (CFuncObject *)tp->tp_alloc(tp, 0);
    if (self == NULL) {
        return NULL;
    }
    self->store = (StoreObject *)Py_NewRef(so);
    self->func = *f;
    self->vectorcall = st->cfunc_vectorcall;
    return (PyObject *)self;
}

PyObject *
cinstance_wrap(ext_state *st, StoreObject *so, const wasmtime_component_instance_t *inst)
{
    PyTypeObject *tp = st->CInstance_Type;
    CInstanceObject *self = (CInstanceObject *)tp->tp_alloc(tp, 0);
    if (self == NULL) {
        return NULL;
    }
    self->store = (StoreObject *)Py_NewRef(so);
    self->instance = *inst;
    return (PyObject *)self;
}

PyObject *
cstorecontext_new(ext_state *st, StoreObject *so, wasmtime_context_t *ctx)
{
    PyTypeObject *tp = st->StoreContext_Type;
    StoreContextObject *self = (StoreContextObject *)tp->tp_alloc(tp, 0);
    if (self == NULL) {
        return NULL;
    }
    self->store = (StoreObject *)Py_NewRef(so);
    self->ctx = ctx;
    return (PyObject *)self;
}

int
cplan_mask_of(ext_state *st, PyObject *valtype, uint32_t *mask)
{
    PyTypeObject *tp = Py_TYPE(valtype);
    int kind = -1;
    for (int k = 0; k < 32; k++) {
        if (st->cvaltypes[k] != NULL && PyType_IsSubtype(tp, st->cvaltypes[k])) {
            kind = k;
            break;
        }
    }
    if (kind == WASMTIME_COMPONENT_VALTYPE_OWN || kind == WASMTIME_COMPONENT_VALTYPE_BORROW) {
        *mask = CLS_RANY | CLS_RHOST;
        return 0;
    }
    if (kind < 0 || kind == WASMTIME_COMPONENT_VALTYPE_ERROR_CONTEXT ||
        kind >= WASMTIME_COMPONENT_VALTYPE_FUTURE) {
        PyErr_SetString(PyExc_NotImplementedError, "conversion not implemented yet");
        return -1;
    }
    wasmtime_component_valtype_t vt;
    vt.kind = (uint8_t)kind;
    vt.of.list = NULL;
    if (kind > WASMTIME_COMPONENT_VALTYPE_STRING) {
        vt.of.list = ((CTypeObject *)valtype)->ty;
        EXT_CHECK_OPEN(vt.of.list, -1);
    }
    cplan *p = cplan_new(st, &vt);
    if (p == NULL) {
        return -1;
    }
    *mask = p->mask;
    cplan_free(p);
    return 0;
}
