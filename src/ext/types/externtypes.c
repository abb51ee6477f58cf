/* FuncType, GlobalType, TableType, MemoryType and TagType (wasm.h types and
 * wasmtime/memory.h's wasmtime_memorytype_*).
 *
 * Each object owns one wasm_*type_t (WasmTypeObject.ty) with one release point,
 * close() or dealloc.  Getters return new, independent Python objects (copies),
 * so no object ever borrows from another.  TagType(functype) consumes the
 * FuncType, as in wasmtime-py.
 */
#include "../base.h"

typedef void (*type_delete_fn)(void *);

static void
functype_delete(void *p)
{
    wasm_functype_delete(p);
}
static void
globaltype_delete(void *p)
{
    wasm_globaltype_delete(p);
}
static void
tabletype_delete(void *p)
{
    wasm_tabletype_delete(p);
}
static void
memorytype_delete(void *p)
{
    wasm_memorytype_delete(p);
}
static void
tagtype_delete(void *p)
{
    wasm_tagtype_delete(p);
}

/* Which deleter goes with which type object. */
static type_delete_fn
type_deleter(PyObject *op)
{
    ext_state *st = ((WasmTypeObject *)op)->st;
    PyTypeObject *tp = Py_TYPE(op);
    if (PyType_IsSubtype(tp, st->FuncType_Type))
        return functype_delete;
    if (PyType_IsSubtype(tp, st->GlobalType_Type))
        return globaltype_delete;
    if (PyType_IsSubtype(tp, st->TableType_Type))
        return tabletype_delete;
    if (PyType_IsSubtype(tp, st->MemoryType_Type))
        return memorytype_delete;
    return tagtype_delete;
}

void *
wasmtype_get(PyObject *self)
{
    void *ty = ((WasmTypeObject *)self)->ty;
    if (ty == NULL) {
        ALREADY_CLOSED();
    }
    return ty;
}

static PyObject *
typeobj_wrap(ext_state *st, PyTypeObject *type, void *ty)
{
    if (ty == NULL) {
        return ext_raise_msg(st, "failed to allocate %s", type->tp_name);
    }
    WasmTypeObject *self = (WasmTypeObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL; /* the caller still owns ty */
    }
    self->ty = ty;
    self->st = st;
    return (PyObject *)self;
}

/* Takes ownership of `ty` in every case. */
#define FROM_OWNED(NAME, TYPEFIELD, DELETE)                         \
    PyObject *NAME##_from_owned(ext_state *st, wasm_##NAME##_t *ty) \
    {                                                               \
        PyObject *res = typeobj_wrap(st, st->TYPEFIELD, ty);        \
        if (res == NULL && ty != NULL) {                            \
            DELETE(ty);                                             \
        }                                                           \
        return res;                                                 \
    }
FROM_OWNED(functype, FuncType_Type, wasm_functype_delete)
FROM_OWNED(globaltype, GlobalType_Type, wasm_globaltype_delete)
FROM_OWNED(tabletype, TableType_Type, wasm_tabletype_delete)
FROM_OWNED(memorytype, MemoryType_Type, wasm_memorytype_delete)
FROM_OWNED(tagtype, TagType_Type, wasm_tagtype_delete)
#undef FROM_OWNED

PyObject *
externtype_to_py(ext_state *st, const wasm_externtype_t *ty)
{
    switch (wasm_externtype_kind(ty)) {
    case WASM_EXTERN_FUNC:
        return functype_from_owned(st, wasm_functype_copy(wasm_externtype_as_functype_const(ty)));
    case WASM_EXTERN_GLOBAL:
        return globaltype_from_owned(
            st, wasm_globaltype_copy(wasm_externtype_as_globaltype_const(ty)));
    case WASM_EXTERN_TABLE:
        return tabletype_from_owned(st,
                                    wasm_tabletype_copy(wasm_externtype_as_tabletype_const(ty)));
    case WASM_EXTERN_MEMORY:
        return memorytype_from_owned(
            st, wasm_memorytype_copy(wasm_externtype_as_memorytype_const(ty)));
    case WASM_EXTERN_TAG:
        return tagtype_from_owned(st, wasm_tagtype_copy(wasm_externtype_as_tagtype_const(ty)));
    default: return ext_raise_msg(st, "unknown extern type %d", (int)wasm_externtype_kind(ty));
    }
}

static PyObject *
valtype_list(ext_state *st, const wasm_valtype_vec_t *vec)
{
    PyObject *list = PyList_New((Py_ssize_t)vec->size);
    if (list == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < vec->size; i++) {
        PyObject *v = valtype_from_c(st, vec->data[i]);
        if (v == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, v);
    }
    return list;
}

/* Fill `out` from an iterable of ValType. Returns 0 or -1. */
static int
valtype_vec_from_iterable(ext_state *st, PyObject *items, wasm_valtype_vec_t *out)
{
    PyObject *seq = PySequence_Fast(items, "expected a list of ValType");
    if (seq == NULL) {
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    wasm_valtype_vec_new_uninitialized(out, (size_t)n);
    for (Py_ssize_t i = 0; i < n; i++) {
        out->data[i] = NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        out->data[i] = ext_valtype_to_c(st, PySequence_Fast_GET_ITEM(seq, i), "ValType");
        if (out->data[i] == NULL) {
            goto fail;
        }
    }
    Py_DECREF(seq);
    return 0;
fail:
    Py_DECREF(seq);
    wasm_valtype_vec_delete(out); /* deletes the non-NULL elements */
    return -1;
}

/* ---- FuncType ---------------------------------------------------------- */

static PyObject *
functype_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"params", "results", NULL};
    PyObject *params, *results;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:FuncType", kwlist, &params, &results)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    wasm_valtype_vec_t p, r;
    if (valtype_vec_from_iterable(st, params, &p) < 0) {
        return NULL;
    }
    if (valtype_vec_from_iterable(st, results, &r) < 0) {
        wasm_valtype_vec_delete(&p);
        return NULL;
    }
    wasm_functype_t *ty = wasm_functype_new(&p, &r); /* takes both vectors */
    PyObject *res = typeobj_wrap(st, type, ty);
    if (res == NULL && ty != NULL) {
        wasm_functype_delete(ty);
    }
    return res;
}

static PyObject *
functype_params(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_functype_t *ty = wasmtype_get(op);
    return ty == NULL ? NULL : valtype_list(((WasmTypeObject *)op)->st, wasm_functype_params(ty));
}

static PyObject *
functype_results(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_functype_t *ty = wasmtype_get(op);
    return ty == NULL ? NULL : valtype_list(((WasmTypeObject *)op)->st, wasm_functype_results(ty));
}

/* ---- GlobalType -------------------------------------------------------- */

static PyObject *
globaltype_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"valtype", "mutable", NULL};
    PyObject *valtype, *mutable;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:GlobalType", kwlist, &valtype, &mutable)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    int is_mut = PyObject_IsTrue(mutable); /* may run Python code: first */
    if (is_mut < 0) {
        return NULL;
    }
    wasm_valtype_t *vt = ext_valtype_to_c(st, valtype, "a ValType");
    if (vt == NULL) {
        return NULL;
    }
    wasm_globaltype_t *ty = wasm_globaltype_new(vt, is_mut ? WASM_VAR : WASM_CONST);
    PyObject *res = typeobj_wrap(st, type, ty);
    if (res == NULL && ty != NULL) {
        wasm_globaltype_delete(ty);
    }
    return res;
}

static PyObject *
globaltype_content(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_globaltype_t *ty = wasmtype_get(op);
    if (ty == NULL) {
        return NULL;
    }
    return valtype_from_c(((WasmTypeObject *)op)->st, wasm_globaltype_content(ty));
}

static PyObject *
globaltype_mutable(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_globaltype_t *ty = wasmtype_get(op);
    if (ty == NULL) {
        return NULL;
    }
    return PyBool_FromLong(wasm_globaltype_mutability(ty) == WASM_VAR);
}

/* ---- TableType --------------------------------------------------------- */

/* Read Limits.min/.max; max None -> has_max false. Returns 0 or -1. */
static int
limits_arg(ext_state *st, PyObject *obj, uint64_t *min, bool *has_max, uint64_t *max, bool is_64)
{
    if (!PyObject_TypeCheck(obj, st->Limits_Type)) {
        ext_wrong_type(st, "Limits", obj);
        return -1;
    }
    LimitsObject *lim = (LimitsObject *)obj;
    PyObject *values[2] = {lim->min ? lim->min : Py_None, lim->max ? lim->max : Py_None};
    uint64_t *outs[2] = {min, max};
    static const char *const names[2] = {"minimum", "maximum"};
    *has_max = values[1] != Py_None;
    *min = *max = 0;
    for (int i = 0; i < (*has_max ? 2 : 1); i++) {
        switch (ext_long_as_u64(values[i], outs[i])) {
        case 0:
            if (is_64 || *outs[i] <= UINT32_MAX) {
                continue;
            }
            /* fallthrough */
        case 2: ext_raise_msg(st, "%s size too large", names[i]); return -1;
        case 1: ext_raise_msg(st, "%s size cannot be negative", names[i]); return -1;
        default:
            PyErr_Format(PyExc_TypeError, "Limits.%s must be an int, got %.200s",
                         i == 0 ? "min" : "max", Py_TYPE(values[i])->tp_name);
            return -1;
        }
    }
    return 0;
}

static PyObject *
tabletype_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"valtype", "limits", NULL};
    PyObject *valtype, *limits;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:TableType", kwlist, &valtype, &limits)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(valtype, st->ValType_Type)) {
        return ext_wrong_type(st, "a ValType", valtype);
    }
    uint64_t min, max;
    bool has_max;
    if (limits_arg(st, limits, &min, &has_max, &max, false) < 0) {
        return NULL;
    }
    wasm_limits_t lim = {(uint32_t)min, has_max ? (uint32_t)max : wasm_limits_max_default};
    wasm_valtype_t *vt = ext_valtype_to_c(st, valtype, "a ValType");
    if (vt == NULL) {
        return NULL;
    }
    wasm_tabletype_t *ty = wasm_tabletype_new(vt, &lim);
    PyObject *res = typeobj_wrap(st, type, ty);
    if (res == NULL && ty != NULL) {
        wasm_tabletype_delete(ty);
    }
    return res;
}

static PyObject *
tabletype_element(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_tabletype_t *ty = wasmtype_get(op);
    if (ty == NULL) {
        return NULL;
    }
    return valtype_from_c(((WasmTypeObject *)op)->st, wasm_tabletype_element(ty));
}

static PyObject *
tabletype_limits(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_tabletype_t *ty = wasmtype_get(op);
    if (ty == NULL) {
        return NULL;
    }
    const wasm_limits_t *lim = wasm_tabletype_limits(ty);
    return limits_new(((WasmTypeObject *)op)->st, lim->min, lim->max != wasm_limits_max_default,
                      lim->max);
}

/* ---- MemoryType -------------------------------------------------------- */

static PyObject *
memorytype_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"limits", "is_64", "shared", "page_size_log2", NULL};
    PyObject *limits, *is_64_obj = Py_False, *shared_obj = Py_False, *psl_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OOO:MemoryType", kwlist, &limits, &is_64_obj,
                                     &shared_obj, &psl_obj)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    int is_64 = PyObject_IsTrue(is_64_obj);
    int shared = is_64 < 0 ? -1 : PyObject_IsTrue(shared_obj);
    if (shared < 0) {
        return NULL;
    }
    uint64_t page_size_log2 = 16;
    if (psl_obj != NULL) {
        int r = ext_long_as_u64(psl_obj, &page_size_log2);
        if (r < 0) {
            return ext_wrong_type(st, "an int for page_size_log2", psl_obj);
        }
        if (r > 0 || page_size_log2 > 255) {
            return ext_raise_msg(st, "invalid page_size_log2");
        }
    }
    uint64_t min, max;
    bool has_max;
    if (limits_arg(st, limits, &min, &has_max, &max, is_64) < 0) {
        return NULL;
    }
    wasm_memorytype_t *ty = NULL;
    wasmtime_error_t *err =
        wasmtime_memorytype_new(min, has_max, max, is_64, shared, (uint8_t)page_size_log2, &ty);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    PyObject *res = typeobj_wrap(st, type, ty);
    if (res == NULL && ty != NULL) {
        wasm_memorytype_delete(ty);
    }
    return res;
}

static PyObject *
memorytype_limits(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_memorytype_t *ty = wasmtype_get(op);
    if (ty == NULL) {
        return NULL;
    }
    uint64_t max = 0;
    bool has_max = wasmtime_memorytype_maximum(ty, &max);
    return limits_new(((WasmTypeObject *)op)->st, wasmtime_memorytype_minimum(ty), has_max, max);
}

static PyObject *
memorytype_is_64(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_memorytype_t *ty = wasmtype_get(op);
    return ty == NULL ? NULL : PyBool_FromLong(wasmtime_memorytype_is64(ty));
}

static PyObject *
memorytype_is_shared(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_memorytype_t *ty = wasmtype_get(op);
    return ty == NULL ? NULL : PyBool_FromLong(wasmtime_memorytype_isshared(ty));
}

static PyObject *
memorytype_page_size(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_memorytype_t *ty = wasmtype_get(op);
    return ty == NULL ? NULL : PyLong_FromUnsignedLongLong(wasmtime_memorytype_page_size(ty));
}

static PyObject *
memorytype_page_size_log2(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_memorytype_t *ty = wasmtype_get(op);
    return ty == NULL ? NULL : PyLong_FromLong(wasmtime_memorytype_page_size_log2(ty));
}

/* ---- TagType ----------------------------------------------------------- */

static PyObject *
tagtype_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"functype", NULL};
    PyObject *functype;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:TagType", kwlist, &functype)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(functype, st->FuncType_Type)) {
        return ext_wrong_type(st, "a FuncType", functype);
    }
    wasm_functype_t *ft = wasmtype_get(functype);
    if (ft == NULL) {
        return NULL;
    }
    ((WasmTypeObject *)functype)->ty = NULL; /* consumed, as in wasmtime-py */
    wasm_tagtype_t *ty = wasm_tagtype_new(ft);
    PyObject *res = typeobj_wrap(st, type, ty);
    if (res == NULL && ty != NULL) {
        wasm_tagtype_delete(ty);
    }
    return res;
}

static PyObject *
tagtype_functype(PyObject *op, void *Py_UNUSED(closure))
{
    const wasm_tagtype_t *ty = wasmtype_get(op);
    if (ty == NULL) {
        return NULL;
    }
    return functype_from_owned(((WasmTypeObject *)op)->st,
                               wasm_functype_copy(wasm_tagtype_functype(ty)));
}

/* ---- shared: close / dealloc ------------------------------------------- */

static PyObject *
typeobj_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    WasmTypeObject *self = (WasmTypeObject *)op;
    if (self->ty != NULL) {
        type_deleter(op)(self->ty);
        self->ty = NULL;
    }
    Py_RETURN_NONE;
}

static void
typeobj_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    WasmTypeObject *self = (WasmTypeObject *)op;
    if (self->ty != NULL) {
        type_deleter(op)(self->ty);
    }
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef typeobj_methods[] = {
    {"close", typeobj_close, METH_NOARGS, "close($self, /)\n--\n\nFree the type."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef functype_getset[] = {
    {"params", functype_params, NULL, "The parameter types, a list of ValType.", NULL},
    {"results", functype_results, NULL, "The result types, a list of ValType.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyGetSetDef globaltype_getset[] = {
    {"content", globaltype_content, NULL, "The ValType of the global's value.", NULL},
    {"mutable", globaltype_mutable, NULL, "Whether the global can be set.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyGetSetDef tabletype_getset[] = {
    {"element", tabletype_element, NULL, "The ValType of the elements.", NULL},
    {"limits", tabletype_limits, NULL, "The size Limits, in elements.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyGetSetDef memorytype_getset[] = {
    {"limits", memorytype_limits, NULL, "The size Limits, in pages.", NULL},
    {"is_64", memorytype_is_64, NULL, "Whether this is a 64-bit memory.", NULL},
    {"is_shared", memorytype_is_shared, NULL, "Whether this is a shared memory.", NULL},
    {"page_size", memorytype_page_size, NULL, "The page size in bytes.", NULL},
    {"page_size_log2", memorytype_page_size_log2, NULL, "log2 of the page size.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyGetSetDef tagtype_getset[] = {
    {"functype", tagtype_functype, NULL, "The FuncType describing the tag's payload.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

#define TYPE_SPEC(NAME, PYNAME, DOC)         \
    static PyType_Slot NAME##_slots[] = {    \
        {Py_tp_new, NAME##_new},             \
        {Py_tp_dealloc, typeobj_dealloc},    \
        {Py_tp_methods, typeobj_methods},    \
        {Py_tp_getset, NAME##_getset},       \
        {Py_tp_doc, DOC},                    \
        {0, NULL},                           \
    };                                       \
    static PyType_Spec NAME##_spec = {       \
        .name = "wasmtime." PYNAME,          \
        .basicsize = sizeof(WasmTypeObject), \
        .flags = EXT_TPFLAGS,                \
        .slots = NAME##_slots,               \
    };
TYPE_SPEC(functype, "FuncType", "FuncType(params, results)\n--\n\nThe type of a function.")
TYPE_SPEC(globaltype, "GlobalType", "GlobalType(valtype, mutable)\n--\n\nThe type of a global.")
TYPE_SPEC(tabletype, "TableType", "TableType(valtype, limits)\n--\n\nThe type of a table.")
TYPE_SPEC(memorytype, "MemoryType",
          "MemoryType(limits, is_64=False, shared=False, page_size_log2=16)\n--\n\n"
          "The type of a linear memory.")
TYPE_SPEC(tagtype, "TagType",
          "TagType(functype)\n--\n\nThe type of an exception tag; consumes `functype`.")
#undef TYPE_SPEC

int
externtypes_register(PyObject *mod, ext_state *st)
{
    PyObject *base = (PyObject *)st->Managed_Type;
    if ((st->FuncType_Type = ext_add_type(mod, &functype_spec, base)) == NULL ||
        (st->GlobalType_Type = ext_add_type(mod, &globaltype_spec, base)) == NULL ||
        (st->TableType_Type = ext_add_type(mod, &tabletype_spec, base)) == NULL ||
        (st->MemoryType_Type = ext_add_type(mod, &memorytype_spec, base)) == NULL ||
        (st->TagType_Type = ext_add_type(mod, &tagtype_spec, base)) == NULL) {
        return -1;
    }
    return 0;
}

/* ---- engine binding ---------------------------------------------------- */

wasm_functype_t *
ext_functype_unbound(ext_state *st, const wasm_functype_t *ty)
{
    const wasm_valtype_vec_t *p = wasm_functype_params(ty);
    const wasm_valtype_vec_t *r = wasm_functype_results(ty);
    wasm_valtype_vec_t params, results;
    wasm_valtype_vec_new_uninitialized(&params, p->size);
    wasm_valtype_vec_new_uninitialized(&results, r->size);
    bool ok = true;
    for (size_t i = 0; i < p->size + r->size; i++) {
        const wasm_valtype_t *vt = i < p->size ? p->data[i] : r->data[i - p->size];
        /* A copy would share the engine binding of a concrete reference
         * type: those are refused; every other type is engine-free. */
        wasm_valtype_t *copy = ext_valtype_is_concrete_ref(vt) ? NULL : wasm_valtype_copy(vt);
        ok = ok && copy != NULL;
        if (i < p->size) {
            params.data[i] = copy;
        }
        else {
            results.data[i - p->size] = copy;
        }
    }
    if (!ok) {
        wasm_valtype_vec_delete(&params);
        wasm_valtype_vec_delete(&results);
        ext_raise_msg(st, "this function type has reference types bound to the engine it came "
                          "from; build a FuncType from ValTypes to define host functions");
        return NULL;
    }
    return wasm_functype_new(&params, &results); /* takes both vectors */
}
