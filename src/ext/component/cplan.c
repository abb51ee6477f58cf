/* Floor 3: conversion plans and component values (wraps
 * wasmtime/component/val.h and the value types of types/val.h).
 *
 * A plan is computed once per value type: its kind, names, children and,
 * for variants, options and results, wasmtime-py's rule that decides
 * whether values are tagged.  The rule compares the Python classes each case
 * accepts (add_classes); here a class set is a bit mask, so the rule costs
 * nothing per call.  Funcs keep the plan of their signature, host functions
 * the plan of the import they serve.
 *
 * Refusals that Wasmtime would turn into an abort are checked here: a char
 * that is no Unicode scalar value (ValueError), a string with a lone
 * surrogate (UnicodeEncodeError, never surrogatepass), future, stream and
 * error-context values (NotImplementedError), ints out of range
 * (OverflowError; wasmtime-py masks them).
 */
#include "component.h"

#include <string.h>

/* ---- plans ----------------------------------------------------------------- */

static cplan *
plan_alloc(size_t n)
{
    cplan *p = PyMem_Calloc(1, sizeof(cplan));
    if (p == NULL) {
        return NULL;
    }
    p->n = n;
    if (n > 0) {
        p->sub = PyMem_Calloc(n, sizeof(cplan *));
        p->names = PyMem_Calloc(n, sizeof(PyObject *));
        p->cnames = PyMem_Calloc(n, sizeof(wasm_name_t));
        p->case_mask = PyMem_Calloc(n, sizeof(uint32_t));
        if (p->sub == NULL || p->names == NULL || p->cnames == NULL || p->case_mask == NULL) {
            cplan_free(p);
            return NULL;
        }
    }
    return p;
}

void
cplan_free(cplan *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->sub != NULL) {
            cplan_free(p->sub[i]);
        }
        if (p->names != NULL) {
            Py_XDECREF(p->names[i]);
        }
        if (p->cnames != NULL && p->cnames[i].data != NULL) {
            wasm_byte_vec_delete(&p->cnames[i]);
        }
    }
    PyMem_Free(p->sub);
    PyMem_Free(p->names);
    PyMem_Free(p->cnames);
    PyMem_Free(p->case_mask);
    if (p->rty != NULL) {
        wasmtime_component_resource_type_delete(p->rty);
    }
    Py_XDECREF(p->cls);
    Py_XDECREF(p->attrs);
    Py_XDECREF(p->cache);
    PyMem_Free(p);
}

static int
plan_name(cplan *p, size_t i, const char *name, size_t len)
{
    p->names[i] = PyUnicode_DecodeUTF8(name, (Py_ssize_t)len, "strict");
    if (p->names[i] == NULL) {
        return -1;
    }
    PyUnicode_InternInPlace(&p->names[i]);
    wasm_byte_vec_new(&p->cnames[i], len, name);
    return 0;
}

/* Child `i` of `p` from an owned valtype (deleted here). */
static int
plan_child(ext_state *st, cplan *p, size_t i, wasmtime_component_valtype_t *vt)
{
    p->sub[i] = cplan_new(st, vt);
    wasmtime_component_valtype_delete(vt);
    if (p->sub[i] == NULL) {
        return -1;
    }
    p->unsupported |= p->sub[i]->unsupported;
    return 0;
}

/* Variants, options and results: wasmtime-py's tagged rule. */
static void
plan_variantlike(cplan *p)
{
    uint32_t seen = 0;
    p->tagged = false;
    for (size_t i = 0; i < p->n; i++) {
        uint32_t m = p->sub[i] == NULL ? CLS_OBJECT : p->sub[i]->mask;
        p->case_mask[i] = m;
        if (m & seen) {
            p->tagged = true;
        }
        seen |= m;
    }
    p->mask = p->tagged ? CLS_VARIANT : seen;
}

static uint32_t
primitive_mask(uint8_t kind)
{
    switch (kind) {
    case WASMTIME_COMPONENT_VALTYPE_BOOL: return CLS_BOOL;
    case WASMTIME_COMPONENT_VALTYPE_F32:
    case WASMTIME_COMPONENT_VALTYPE_F64: return CLS_FLOAT;
    case WASMTIME_COMPONENT_VALTYPE_CHAR:
    case WASMTIME_COMPONENT_VALTYPE_STRING: return CLS_STR;
    default: return kind <= WASMTIME_COMPONENT_VALTYPE_U64 ? CLS_INT : 0;
    }
}

cplan *
cplan_new(ext_state *st, const wasmtime_component_valtype_t *ty)
{
    const char *name;
    size_t len, n = 0;
    wasmtime_component_valtype_t vt;
    switch (ty->kind) {
    case WASMTIME_COMPONENT_VALTYPE_LIST:
    case WASMTIME_COMPONENT_VALTYPE_OWN:
    case WASMTIME_COMPONENT_VALTYPE_BORROW: n = 1; break;
    case WASMTIME_COMPONENT_VALTYPE_OPTION:
    case WASMTIME_COMPONENT_VALTYPE_RESULT: n = 2; break;
    case WASMTIME_COMPONENT_VALTYPE_RECORD:
        n = wasmtime_component_record_type_field_count(ty->of.record);
        break;
    case WASMTIME_COMPONENT_VALTYPE_TUPLE:
        n = wasmtime_component_tuple_type_types_count(ty->of.tuple);
        break;
    case WASMTIME_COMPONENT_VALTYPE_VARIANT:
        n = wasmtime_component_variant_type_case_count(ty->of.variant);
        break;
    case WASMTIME_COMPONENT_VALTYPE_ENUM:
        n = wasmtime_component_enum_type_names_count(ty->of.enum_);
        break;
    case WASMTIME_COMPONENT_VALTYPE_FLAGS:
        n = wasmtime_component_flags_type_names_count(ty->of.flags);
        break;
    default: break;
    }
    cplan *p = plan_alloc(n);
    if (p == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    p->kind = ty->kind;
    switch (ty->kind) {
    case WASMTIME_COMPONENT_VALTYPE_LIST:
        wasmtime_component_list_type_element(ty->of.list, &vt);
        if (plan_child(st, p, 0, &vt) < 0) {
            goto fail;
        }
        p->mask = p->sub[0]->kind == WASMTIME_COMPONENT_VALTYPE_U8 ? CLS_BYTES : CLS_LIST;
        break;
    case WASMTIME_COMPONENT_VALTYPE_RECORD:
        for (size_t i = 0; i < n; i++) {
            wasmtime_component_record_type_field_nth(ty->of.record, i, &name, &len, &vt);
            if (plan_name(p, i, name, len) < 0) {
                wasmtime_component_valtype_delete(&vt);
                goto fail;
            }
            if (plan_child(st, p, i, &vt) < 0) {
                goto fail;
            }
        }
        p->mask = CLS_RECORD;
        break;
    case WASMTIME_COMPONENT_VALTYPE_TUPLE:
        for (size_t i = 0; i < n; i++) {
            wasmtime_component_tuple_type_types_nth(ty->of.tuple, i, &vt);
            if (plan_child(st, p, i, &vt) < 0) {
                goto fail;
            }
        }
        p->mask = CLS_TUPLE;
        break;
    case WASMTIME_COMPONENT_VALTYPE_VARIANT:
        for (size_t i = 0; i < n; i++) {
            bool has;
            wasmtime_component_variant_type_case_nth(ty->of.variant, i, &name, &len, &has, &vt);
            if (plan_name(p, i, name, len) < 0) {
                if (has) {
                    wasmtime_component_valtype_delete(&vt);
                }
                goto fail;
            }
            if (has && plan_child(st, p, i, &vt) < 0) {
                goto fail;
            }
        }
        plan_variantlike(p);
        break;
    case WASMTIME_COMPONENT_VALTYPE_OPTION:
        wasmtime_component_option_type_ty(ty->of.option, &vt);
        if (plan_name(p, 0, "none", 4) < 0 || plan_name(p, 1, "some", 4) < 0) {
            wasmtime_component_valtype_delete(&vt);
            goto fail;
        }
        if (plan_child(st, p, 1, &vt) < 0) {
            goto fail;
        }
        plan_variantlike(p);
        break;
    case WASMTIME_COMPONENT_VALTYPE_RESULT:
        if (plan_name(p, 0, "ok", 2) < 0 || plan_name(p, 1, "err", 3) < 0) {
            goto fail;
        }
        if (wasmtime_component_result_type_ok(ty->of.result, &vt) &&
            plan_child(st, p, 0, &vt) < 0) {
            goto fail;
        }
        if (wasmtime_component_result_type_err(ty->of.result, &vt) &&
            plan_child(st, p, 1, &vt) < 0) {
            goto fail;
        }
        plan_variantlike(p);
        break;
    case WASMTIME_COMPONENT_VALTYPE_ENUM:
    case WASMTIME_COMPONENT_VALTYPE_FLAGS:
        for (size_t i = 0; i < n; i++) {
            if (ty->kind == WASMTIME_COMPONENT_VALTYPE_ENUM) {
                wasmtime_component_enum_type_names_nth(ty->of.enum_, i, &name, &len);
            }
            else {
                wasmtime_component_flags_type_names_nth(ty->of.flags, i, &name, &len);
            }
            if (plan_name(p, i, name, len) < 0) {
                goto fail;
            }
        }
        p->mask = ty->kind == WASMTIME_COMPONENT_VALTYPE_ENUM ? CLS_STR : CLS_SET;
        break;
    case WASMTIME_COMPONENT_VALTYPE_OWN:
    case WASMTIME_COMPONENT_VALTYPE_BORROW:
        p->rty = wasmtime_component_resource_type_clone(ty->of.own);
        p->mask = CLS_RANY | CLS_RHOST;
        break;
    default:
        if (ty->kind <= WASMTIME_COMPONENT_VALTYPE_STRING) {
            p->mask = primitive_mask(ty->kind);
        }
        else {
            p->unsupported = true; /* future, stream, error-context, map, ... */
        }
        break;
    }
    return p;
fail:
    cplan_free(p);
    return NULL;
}

/* ---- class tables (wasmtime.bindgen) ---------------------------------------- */

static int
table_error(const char *what)
{
    PyErr_Format(PyExc_TypeError, "class table does not fit the signature: %s", what);
    return -1;
}

static bool
is_tuple_of_types(PyObject *o, size_t n)
{
    if (!PyTuple_CheckExact(o) || (size_t)PyTuple_GET_SIZE(o) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!PyType_Check(PyTuple_GET_ITEM(o, i))) {
            return false;
        }
    }
    return true;
}

/* Check node `node` against plan `p` (and its children); with `apply`,
 * attach it.  The check runs over the whole table before anything is
 * attached, so a bad table leaves the plans untouched. */
static int
plan_classes(cplan *p, PyObject *node, bool apply, int depth)
{
    if (node == Py_None) {
        return 0;
    }
    if (depth > 200) {
        return table_error("nested too deeply");
    }
    if (!PyTuple_CheckExact(node) || PyTuple_GET_SIZE(node) != 3) {
        return table_error("a node is None or a tuple (obj, attrs, children)");
    }
    PyObject *obj = PyTuple_GET_ITEM(node, 0), *attrs = PyTuple_GET_ITEM(node, 1),
             *children = PyTuple_GET_ITEM(node, 2);
    bool ok = true;
    switch (p->kind) {
    case WASMTIME_COMPONENT_VALTYPE_RECORD:
        ok = obj == Py_None || (PyType_Check(obj) && PyTuple_CheckExact(attrs) &&
                                (size_t)PyTuple_GET_SIZE(attrs) == p->n);
        for (size_t i = 0; ok && obj != Py_None && i < p->n; i++) {
            ok = PyUnicode_CheckExact(PyTuple_GET_ITEM(attrs, i));
        }
        break;
    case WASMTIME_COMPONENT_VALTYPE_VARIANT: ok = is_tuple_of_types(obj, p->n); break;
    case WASMTIME_COMPONENT_VALTYPE_ENUM:
        ok = PyTuple_CheckExact(obj) && (size_t)PyTuple_GET_SIZE(obj) == p->n;
        break;
    case WASMTIME_COMPONENT_VALTYPE_FLAGS: ok = PyType_Check(obj) && p->n <= 64; break;
    case WASMTIME_COMPONENT_VALTYPE_OPTION:
        ok = is_tuple_of_types(obj, 0) || (PyTuple_CheckExact(obj) && is_tuple_of_types(obj, 1));
        break;
    case WASMTIME_COMPONENT_VALTYPE_RESULT: ok = is_tuple_of_types(obj, 2); break;
    case WASMTIME_COMPONENT_VALTYPE_OWN:
    case WASMTIME_COMPONENT_VALTYPE_BORROW:
        /* An exported resource: (class, owner); an imported one:
         * (None, to_py, from_py), see cplan_host_resource. */
        ok = PyTuple_CheckExact(obj) &&
             ((PyTuple_GET_SIZE(obj) == 2 && PyType_Check(PyTuple_GET_ITEM(obj, 0))) ||
              (PyTuple_GET_SIZE(obj) == 3 && PyTuple_GET_ITEM(obj, 0) == Py_None &&
               PyCallable_Check(PyTuple_GET_ITEM(obj, 1)) &&
               PyCallable_Check(PyTuple_GET_ITEM(obj, 2))));
        break;
    default: ok = obj == Py_None; break;
    }
    if (!ok) {
        return table_error("a class entry has the wrong form for its type");
    }
    if (p->kind != WASMTIME_COMPONENT_VALTYPE_RECORD && attrs != Py_None) {
        return table_error("only records have attribute names");
    }
    if (children != Py_None) {
        if (!PyTuple_CheckExact(children) || (size_t)PyTuple_GET_SIZE(children) != p->n) {
            return table_error("children must be None or one node per child");
        }
        for (size_t i = 0; i < p->n; i++) {
            PyObject *ch = PyTuple_GET_ITEM(children, i);
            if (p->sub[i] == NULL ? ch != Py_None
                                  : plan_classes(p->sub[i], ch, apply, depth + 1) < 0) {
                return p->sub[i] == NULL ? table_error("a node for a type without children") : -1;
            }
        }
    }
    if (apply && obj != Py_None) {
        /* The allocation first: it may run the collector, and with it code
         * that converts with this plan, which must see cls only once the
         * rest is in place. */
        if (p->kind == WASMTIME_COMPONENT_VALTYPE_FLAGS) {
            PyObject *cache = PyDict_New();
            if (cache == NULL) {
                return -1;
            }
            Py_XSETREF(p->cache, cache);
        }
        if (p->kind == WASMTIME_COMPONENT_VALTYPE_RECORD) {
            Py_XSETREF(p->attrs, Py_NewRef(attrs));
        }
        p->cls = Py_NewRef(obj);
    }
    return 0;
}

static bool
plan_has_classes(const cplan *p)
{
    if (p == NULL) {
        return false;
    }
    if (p->cls != NULL) {
        return true;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (plan_has_classes(p->sub[i])) {
            return true;
        }
    }
    return false;
}

static int
plan_traverse(const cplan *p, visitproc visit, void *arg)
{
    if (p == NULL) {
        return 0;
    }
    Py_VISIT(p->cls);
    Py_VISIT(p->attrs);
    Py_VISIT(p->cache);
    for (size_t i = 0; i < p->n; i++) {
        int rc = plan_traverse(p->sub[i], visit, arg);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int
csig_traverse(const csig *s, visitproc visit, void *arg)
{
    if (s == NULL) {
        return 0;
    }
    for (size_t i = 0; i < s->nparams; i++) {
        int rc = plan_traverse(s->params[i], visit, arg);
        if (rc != 0) {
            return rc;
        }
    }
    return plan_traverse(s->result, visit, arg);
}

int
csig_set_classes(csig *s, PyObject *table)
{
    if (!PyTuple_CheckExact(table) || PyTuple_GET_SIZE(table) != 2 ||
        !PyTuple_CheckExact(PyTuple_GET_ITEM(table, 0)) ||
        (size_t)PyTuple_GET_SIZE(PyTuple_GET_ITEM(table, 0)) != s->nparams) {
        return table_error("expected (one node per parameter, result node)");
    }
    PyObject *params = PyTuple_GET_ITEM(table, 0), *result = PyTuple_GET_ITEM(table, 1);
    if (s->result == NULL && result != Py_None) {
        return table_error("a result node for a function without result");
    }
    bool had = plan_has_classes(s->result);
    for (size_t i = 0; i < s->nparams; i++) {
        had |= plan_has_classes(s->params[i]);
    }
    if (had) {
        /* Set once: a running call may be converting with these plans. */
        PyErr_SetString(PyExc_ValueError, "classes are already attached to this function");
        return -1;
    }
    for (int apply = 0; apply < 2; apply++) {
        for (size_t i = 0; i < s->nparams; i++) {
            if (plan_classes(s->params[i], PyTuple_GET_ITEM(params, i), apply, 0) < 0) {
                return -1;
            }
        }
        if (s->result != NULL && plan_classes(s->result, result, apply, 0) < 0) {
            return -1;
        }
    }
    return 0;
}

void
csig_free(csig *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->nparams; i++) {
        cplan_free(s->params[i]);
    }
    PyMem_Free(s->params);
    cplan_free(s->result);
    PyMem_Free(s);
}

csig *
csig_new(ext_state *st, const wasmtime_component_func_type_t *ty)
{
    csig *s = PyMem_Calloc(1, sizeof(csig));
    size_t n = wasmtime_component_func_type_param_count(ty);
    if (s == NULL || (s->params = PyMem_Calloc(n + 1, sizeof(cplan *))) == NULL) {
        PyMem_Free(s);
        PyErr_NoMemory();
        return NULL;
    }
    s->nparams = n;
    wasmtime_component_valtype_t vt;
    for (size_t i = 0; i < n; i++) {
        const char *name;
        size_t len;
        wasmtime_component_func_type_param_nth(ty, i, &name, &len, &vt);
        s->params[i] = cplan_new(st, &vt);
        wasmtime_component_valtype_delete(&vt);
        if (s->params[i] == NULL) {
            csig_free(s);
            return NULL;
        }
        s->unsupported |= s->params[i]->unsupported;
    }
    if (wasmtime_component_func_type_result(ty, &vt)) {
        s->result = cplan_new(st, &vt);
        wasmtime_component_valtype_delete(&vt);
        if (s->result == NULL) {
            csig_free(s);
            return NULL;
        }
        s->unsupported |= s->result->unsupported;
    }
    return s;
}

int
csig_check_supported(const csig *s)
{
    if (s->unsupported) {
        PyErr_SetString(PyExc_NotImplementedError,
                        "future, stream and error-context values (and value types unknown "
                        "to this version) cannot cross between Python and a component yet");
        return -1;
    }
    return 0;
}

/* ---- classes --------------------------------------------------------------- */

static PyTypeObject *
class_of_bit(ext_state *st, uint32_t bit)
{
    switch (bit) {
    case CLS_BOOL: return &PyBool_Type;
    case CLS_INT: return &PyLong_Type;
    case CLS_FLOAT: return &PyFloat_Type;
    case CLS_STR: return &PyUnicode_Type;
    case CLS_BYTES: return &PyBytes_Type;
    case CLS_LIST: return &PyList_Type;
    case CLS_RECORD: return st->CRecord_Type;
    case CLS_TUPLE: return &PyTuple_Type;
    case CLS_VARIANT: return st->CVariant_Type;
    case CLS_SET: return &PySet_Type;
    case CLS_OBJECT: return &PyBaseObject_Type;
    case CLS_RANY: return st->CResourceAny_Type;
    default: return st->CResourceHost_Type;
    }
}

int
cplan_add_classes(ext_state *st, uint32_t mask, PyObject *s)
{
    for (uint32_t bit = 1; bit <= CLS_RHOST; bit <<= 1) {
        if ((mask & bit) && PySet_Add(s, (PyObject *)class_of_bit(st, bit)) < 0) {
            return -1;
        }
    }
    return 0;
}

bool
cplan_matches(ext_state *st, PyObject *obj, uint32_t mask)
{
    if (mask & CLS_OBJECT) {
        return true;
    }
    return ((mask & CLS_BOOL) && PyBool_Check(obj)) || ((mask & CLS_INT) && PyLong_Check(obj)) ||
           ((mask & CLS_FLOAT) && PyFloat_Check(obj)) ||
           ((mask & CLS_STR) && PyUnicode_Check(obj)) ||
           ((mask & CLS_BYTES) && PyBytes_Check(obj)) ||
           ((mask & CLS_LIST) && PyList_Check(obj)) ||
           ((mask & CLS_RECORD) && PyObject_TypeCheck(obj, st->CRecord_Type)) ||
           ((mask & CLS_TUPLE) && PyTuple_Check(obj)) ||
           ((mask & CLS_VARIANT) && PyObject_TypeCheck(obj, st->CVariant_Type)) ||
           ((mask & CLS_SET) && PyAnySet_Check(obj)) ||
           ((mask & CLS_RANY) && PyObject_TypeCheck(obj, st->CResourceAny_Type)) ||
           ((mask & CLS_RHOST) && PyObject_TypeCheck(obj, st->CResourceHost_Type));
}
