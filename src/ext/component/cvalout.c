/* Floor 3: component values -> Python (wasmtime/component/val.h), driven by
 * the plans of cplan.c; the other direction is cval.c.
 *
 * Ownership: cval_to_py never takes anything from the value it reads: a
 * resource is cloned into its ResourceAny.
 *
 * Class tables (wasmtime.bindgen): a plan node with `cls` set builds the
 * generated classes instead of the untyped forms: a record becomes an
 * instance of its dataclass (created without running its __init__, fields
 * set as plain attributes), a variant case an instance of its case class, a
 * result Ok/Err, an enum its member, flags a member of its Flag class, a
 * nested option Some, an exported resource its class.
 */
#include "component.h"

#include <string.h>

static PyObject *
int_to_py(uint8_t k, const wasmtime_component_val_t *v)
{
    switch (k) {
    case WASMTIME_COMPONENT_VALTYPE_S8: return PyLong_FromLong(v->of.s8);
    case WASMTIME_COMPONENT_VALTYPE_S16: return PyLong_FromLong(v->of.s16);
    case WASMTIME_COMPONENT_VALTYPE_S32: return PyLong_FromLong(v->of.s32);
    case WASMTIME_COMPONENT_VALTYPE_S64: return PyLong_FromLongLong(v->of.s64);
    case WASMTIME_COMPONENT_VALTYPE_U8: return PyLong_FromLong(v->of.u8);
    case WASMTIME_COMPONENT_VALTYPE_U16: return PyLong_FromLong(v->of.u16);
    case WASMTIME_COMPONENT_VALTYPE_U32: return PyLong_FromUnsignedLong(v->of.u32);
    default: return PyLong_FromUnsignedLongLong(v->of.u64);
    }
}

/* ---- generated classes (class tables) -------------------------------------- */

/* An instance of `cls` made as object.__new__(cls) does (no __init__, no
 * Python code), with attribute `name` set to `value` (stolen; NULL: none). */
static PyObject *
typed_new(ext_state *st, PyObject *cls, PyObject *name, PyObject *value)
{
    PyObject *obj = PyBaseObject_Type.tp_new((PyTypeObject *)cls, st->empty_tuple, NULL);
    if (obj != NULL && name != NULL && PyObject_GenericSetAttr(obj, name, value) < 0) {
        Py_CLEAR(obj);
    }
    Py_XDECREF(value);
    return obj;
}

static PyObject *
typed_record(ext_state *st, StoreObject *so, const cplan *p, const wasmtime_component_val_t *v)
{
    PyObject *obj = typed_new(st, p->cls, NULL, NULL);
    for (size_t i = 0; obj != NULL && i < p->n; i++) {
        PyObject *f = i < v->of.record.size
                          ? cval_to_py(st, so, p->sub[i], &v->of.record.data[i].val)
                          : NULL;
        if (f == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_ValueError, "record value with missing fields");
            }
            Py_CLEAR(obj);
            break;
        }
        int rc = PyObject_GenericSetAttr(obj, PyTuple_GET_ITEM(p->attrs, i), f);
        Py_DECREF(f);
        if (rc < 0) {
            Py_CLEAR(obj);
        }
    }
    return obj;
}

static PyObject *
typed_flags(const cplan *p, const wasmtime_component_val_t *v)
{
    unsigned long long bits = 0;
    for (size_t i = 0; i < v->of.flags.size; i++) {
        const wasm_name_t *nm = &v->of.flags.data[i];
        for (size_t j = 0; j < p->n; j++) {
            if (p->cnames[j].size == nm->size &&
                memcmp(p->cnames[j].data, nm->data, nm->size) == 0) {
                bits |= 1ull << j;
            }
        }
    }
    PyObject *key = PyLong_FromUnsignedLongLong(bits);
    if (key == NULL) {
        return NULL;
    }
    /* Flag(bits) runs enum's Python code: once per combination. */
    PyObject *m = PyDict_GetItemWithError(p->cache, key);
    if (m != NULL) {
        Py_DECREF(key);
        return Py_NewRef(m);
    }
    if (PyErr_Occurred() || (m = PyObject_CallOneArg(p->cls, key)) == NULL) {
        Py_DECREF(key);
        return NULL;
    }
    if (PyDict_GET_SIZE(p->cache) < 4096 && PyDict_SetItem(p->cache, key, m) < 0) {
        Py_CLEAR(m);
    }
    Py_DECREF(key);
    return m;
}

/* Case `i` of a variant, option or result with payload `v` (stolen, or
 * NULL for none). */
static PyObject *
typed_case(ext_state *st, const cplan *p, size_t i, PyObject *v)
{
    switch (p->kind) {
    case WASMTIME_COMPONENT_VALTYPE_OPTION:
        /* (Some,) where options nest, else (): None or the bare value. */
        if (i == 0 || PyTuple_GET_SIZE(p->cls) == 0) {
            return v != NULL ? v : Py_NewRef(Py_None);
        }
        return typed_new(st, PyTuple_GET_ITEM(p->cls, 0), st->str_value, v);
    case WASMTIME_COMPONENT_VALTYPE_RESULT:
        return typed_new(st, PyTuple_GET_ITEM(p->cls, i), st->str_value,
                         v != NULL ? v : Py_NewRef(Py_None));
    default: {
        PyObject *cls = PyTuple_GET_ITEM(p->cls, i);
        return v != NULL ? typed_new(st, cls, st->str_value, v) : typed_new(st, cls, NULL, NULL);
    }
    }
}

static PyObject *
typed_resource(ext_state *st, StoreObject *so, const cplan *p, PyObject *any)
{
    if (any == NULL) {
        return NULL;
    }
    PyObject *obj = typed_new(st, PyTuple_GET_ITEM(p->cls, 0), st->str_handle, any);
    if (obj != NULL &&
        (PyObject_GenericSetAttr(obj, st->str_owner, PyTuple_GET_ITEM(p->cls, 1)) < 0 ||
         PyObject_GenericSetAttr(obj, st->str_store, (PyObject *)so) < 0)) {
        Py_CLEAR(obj);
    }
    return obj;
}

/* An imported resource: the Python object behind the handle, found by the
 * table's to_py(store, handle). */
static PyObject *
host_resource(StoreObject *so, const cplan *p, PyObject *any)
{
    if (any == NULL) {
        return NULL;
    }
    PyObject *obj =
        PyObject_CallFunctionObjArgs(PyTuple_GET_ITEM(p->cls, 1), (PyObject *)so, any, NULL);
    Py_DECREF(any);
    return obj;
}

/* ---- values -> Python ------------------------------------------------------ */

static PyObject *
variant_new(ext_state *st, PyObject *tag, PyObject *payload)
{
    CVariantObject *v = PyObject_GC_New(CVariantObject, st->CVariant_Type);
    if (v == NULL) {
        Py_XDECREF(payload);
        return NULL;
    }
    v->tag = Py_NewRef(tag);
    v->payload = payload != NULL ? payload : Py_NewRef(Py_None);
    PyObject_GC_Track(v);
    return (PyObject *)v;
}

static Py_ssize_t
case_index(const cplan *p, const wasm_name_t *name)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->cnames[i].size == name->size &&
            memcmp(p->cnames[i].data, name->data, name->size) == 0) {
            return (Py_ssize_t)i;
        }
    }
    return -1;
}

static PyObject *
variantlike_to_py(ext_state *st, StoreObject *so, const cplan *p, size_t i,
                  const wasmtime_component_val_t *payload)
{
    PyObject *v = NULL;
    if (p->sub[i] != NULL) {
        if (payload == NULL) {
            PyErr_SetString(PyExc_ValueError, "variant case without its payload");
            return NULL;
        }
        v = cval_to_py(st, so, p->sub[i], payload);
        if (v == NULL) {
            return NULL;
        }
    }
    if (p->cls != NULL) {
        return typed_case(st, p, i, v);
    }
    if (p->tagged) {
        return variant_new(st, p->names[i], v);
    }
    return v != NULL ? v : Py_NewRef(Py_None);
}

static PyObject *
record_to_py(ext_state *st, StoreObject *so, const cplan *p, const wasmtime_component_val_t *v)
{
    CRecordObject *r = PyObject_GC_New(CRecordObject, st->CRecord_Type);
    if (r == NULL) {
        return NULL;
    }
    r->dict = PyDict_New();
    PyObject_GC_Track(r);
    if (r->dict == NULL) {
        Py_DECREF(r);
        return NULL;
    }
    for (size_t i = 0; i < p->n && i < v->of.record.size; i++) {
        PyObject *f = cval_to_py(st, so, p->sub[i], &v->of.record.data[i].val);
        if (f == NULL || PyDict_SetItem(r->dict, p->names[i], f) < 0) {
            Py_XDECREF(f);
            Py_DECREF(r);
            return NULL;
        }
        Py_DECREF(f);
    }
    return (PyObject *)r;
}

PyObject *
cval_to_py(ext_state *st, StoreObject *so, const cplan *p, const wasmtime_component_val_t *v)
{
    switch (p->kind) {
    case WASMTIME_COMPONENT_VALTYPE_BOOL: return PyBool_FromLong(v->of.boolean);
    case WASMTIME_COMPONENT_VALTYPE_S8:
    case WASMTIME_COMPONENT_VALTYPE_S16:
    case WASMTIME_COMPONENT_VALTYPE_S32:
    case WASMTIME_COMPONENT_VALTYPE_S64:
    case WASMTIME_COMPONENT_VALTYPE_U8:
    case WASMTIME_COMPONENT_VALTYPE_U16:
    case WASMTIME_COMPONENT_VALTYPE_U32:
    case WASMTIME_COMPONENT_VALTYPE_U64: return int_to_py(p->kind, v);
    case WASMTIME_COMPONENT_VALTYPE_F32: return PyFloat_FromDouble(v->of.f32);
    case WASMTIME_COMPONENT_VALTYPE_F64: return PyFloat_FromDouble(v->of.f64);
    case WASMTIME_COMPONENT_VALTYPE_CHAR: return PyUnicode_FromOrdinal((int)v->of.character);
    case WASMTIME_COMPONENT_VALTYPE_STRING:
        return PyUnicode_DecodeUTF8(v->of.string.data, (Py_ssize_t)v->of.string.size, "strict");
    case WASMTIME_COMPONENT_VALTYPE_LIST: {
        size_t n = v->of.list.size;
        const wasmtime_component_val_t *d = v->of.list.data;
        if (p->sub[0]->kind == WASMTIME_COMPONENT_VALTYPE_U8) {
            PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
            if (b != NULL) {
                char *out = PyBytes_AS_STRING(b);
                for (size_t i = 0; i < n; i++) {
                    out[i] = (char)d[i].of.u8;
                }
            }
            return b;
        }
        PyObject *list = PyList_New((Py_ssize_t)n);
        for (size_t i = 0; list != NULL && i < n; i++) {
            PyObject *e = cval_to_py(st, so, p->sub[0], &d[i]);
            if (e == NULL) {
                Py_CLEAR(list);
                break;
            }
            PyList_SET_ITEM(list, (Py_ssize_t)i, e);
        }
        return list;
    }
    case WASMTIME_COMPONENT_VALTYPE_RECORD:
        return p->cls != NULL ? typed_record(st, so, p, v) : record_to_py(st, so, p, v);
    case WASMTIME_COMPONENT_VALTYPE_TUPLE: {
        size_t n = v->of.tuple.size < p->n ? v->of.tuple.size : p->n;
        PyObject *t = PyTuple_New((Py_ssize_t)n);
        for (size_t i = 0; t != NULL && i < n; i++) {
            PyObject *e = cval_to_py(st, so, p->sub[i], &v->of.tuple.data[i]);
            if (e == NULL) {
                Py_CLEAR(t);
                break;
            }
            PyTuple_SET_ITEM(t, (Py_ssize_t)i, e);
        }
        return t;
    }
    case WASMTIME_COMPONENT_VALTYPE_VARIANT: {
        Py_ssize_t i = case_index(p, &v->of.variant.discriminant);
        if (i < 0) {
            PyErr_SetString(PyExc_ValueError, "tag not found in variant cases");
            return NULL;
        }
        return variantlike_to_py(st, so, p, (size_t)i, v->of.variant.val);
    }
    case WASMTIME_COMPONENT_VALTYPE_OPTION:
        return variantlike_to_py(st, so, p, v->of.option != NULL ? 1 : 0, v->of.option);
    case WASMTIME_COMPONENT_VALTYPE_RESULT:
        return variantlike_to_py(st, so, p, v->of.result.is_ok ? 0 : 1, v->of.result.val);
    case WASMTIME_COMPONENT_VALTYPE_ENUM: {
        Py_ssize_t i = case_index(p, &v->of.enumeration);
        if (p->cls != NULL) {
            if (i < 0) {
                PyErr_SetString(PyExc_ValueError, "unknown enum case");
                return NULL;
            }
            return Py_NewRef(PyTuple_GET_ITEM(p->cls, i));
        }
        if (i >= 0) {
            return Py_NewRef(p->names[i]);
        }
        return PyUnicode_DecodeUTF8(v->of.enumeration.data, (Py_ssize_t)v->of.enumeration.size,
                                    "strict");
    }
    case WASMTIME_COMPONENT_VALTYPE_FLAGS: {
        if (p->cls != NULL) {
            return typed_flags(p, v);
        }
        PyObject *s = PySet_New(NULL);
        for (size_t i = 0; s != NULL && i < v->of.flags.size; i++) {
            const wasm_name_t *nm = &v->of.flags.data[i];
            PyObject *name = PyUnicode_DecodeUTF8(nm->data, (Py_ssize_t)nm->size, "strict");
            if (name == NULL || PySet_Add(s, name) < 0) {
                Py_XDECREF(name);
                Py_CLEAR(s);
                break;
            }
            Py_DECREF(name);
        }
        return s;
    }
    case WASMTIME_COMPONENT_VALTYPE_OWN:
    case WASMTIME_COMPONENT_VALTYPE_BORROW:
        if (v->kind != WASMTIME_COMPONENT_RESOURCE) {
            PyErr_SetString(PyExc_TypeError, "expected a resource value");
            return NULL;
        }
        if (cplan_host_resource(p)) {
            return host_resource(
                so, p,
                cresourceany_wrap(st, so, wasmtime_component_resource_any_clone(v->of.resource)));
        }
        if (p->cls != NULL) {
            return typed_resource(
                st, so, p,
                cresourceany_wrap(st, so, wasmtime_component_resource_any_clone(v->of.resource)));
        }
        return cresourceany_wrap(st, so, wasmtime_component_resource_any_clone(v->of.resource));
    default:
        PyErr_SetString(PyExc_NotImplementedError,
                        "future, stream and error-context values cannot be converted yet");
        return NULL;
    }
}
