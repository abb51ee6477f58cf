/* Floor 3: Python <-> component values (wasmtime/component/val.h), driven
 * by the plans of cplan.c.
 *
 * Ownership: cval_from_py fills an owned wasmtime_component_val_t (the
 * caller deletes it with wasmtime_component_val_delete) and leaves nothing
 * to free on failure; cval_to_py never takes anything from the value it
 * reads: a resource is cloned into its ResourceAny.
 */
#include "component.h"

#include <stdio.h>
#include <string.h>

static void
set_none(wasmtime_component_val_t *out)
{
    out->kind = WASMTIME_COMPONENT_BOOL;
    out->of.boolean = false;
}

static int
type_error(const char *msg)
{
    PyErr_SetString(PyExc_TypeError, msg);
    return -1;
}

/* Value kinds in the order of value types (the two enums differ). */
static const uint8_t int_valkind[] = {
    [WASMTIME_COMPONENT_VALTYPE_S8] = WASMTIME_COMPONENT_S8,
    [WASMTIME_COMPONENT_VALTYPE_S16] = WASMTIME_COMPONENT_S16,
    [WASMTIME_COMPONENT_VALTYPE_S32] = WASMTIME_COMPONENT_S32,
    [WASMTIME_COMPONENT_VALTYPE_S64] = WASMTIME_COMPONENT_S64,
    [WASMTIME_COMPONENT_VALTYPE_U8] = WASMTIME_COMPONENT_U8,
    [WASMTIME_COMPONENT_VALTYPE_U16] = WASMTIME_COMPONENT_U16,
    [WASMTIME_COMPONENT_VALTYPE_U32] = WASMTIME_COMPONENT_U32,
    [WASMTIME_COMPONENT_VALTYPE_U64] = WASMTIME_COMPONENT_U64,
};
static const char *const int_name[] = {
    [WASMTIME_COMPONENT_VALTYPE_S8] = "S8",   [WASMTIME_COMPONENT_VALTYPE_S16] = "S16",
    [WASMTIME_COMPONENT_VALTYPE_S32] = "S32", [WASMTIME_COMPONENT_VALTYPE_S64] = "S64",
    [WASMTIME_COMPONENT_VALTYPE_U8] = "U8",   [WASMTIME_COMPONENT_VALTYPE_U16] = "U16",
    [WASMTIME_COMPONENT_VALTYPE_U32] = "U32", [WASMTIME_COMPONENT_VALTYPE_U64] = "U64",
};

/* An int of kind `k`, range-checked (OverflowError). */
static int int_from_long(uint8_t k, PyObject *obj, wasmtime_component_val_t *out);

static int
int_from_py(uint8_t k, PyObject *obj, wasmtime_component_val_t *out)
{
    if (PyLong_Check(obj)) {
        return int_from_long(k, obj, out);
    }
    /* numpy ints and other __index__ objects (an addition); floats never. */
    if (PyIndex_Check(obj) && !PyFloat_Check(obj)) {
        PyObject *i = PyNumber_Index(obj);
        if (i == NULL) {
            return -1;
        }
        int rc = int_from_long(k, i, out);
        Py_DECREF(i);
        return rc;
    }
    PyErr_Format(PyExc_TypeError, "expected int for %s type", int_name[k]);
    return -1;
}

static int
int_from_long(uint8_t k, PyObject *obj, wasmtime_component_val_t *out)
{
    out->kind = int_valkind[k];
    if (k == WASMTIME_COMPONENT_VALTYPE_U64) {
        unsigned long long v = PyLong_AsUnsignedLongLong(obj);
        if (v == (unsigned long long)-1 && PyErr_Occurred()) {
            goto range;
        }
        out->of.u64 = v;
        return 0;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow != 0) {
        goto range;
    }
    static const long long lo[] = {
        [WASMTIME_COMPONENT_VALTYPE_S8] = INT8_MIN,   [WASMTIME_COMPONENT_VALTYPE_S16] = INT16_MIN,
        [WASMTIME_COMPONENT_VALTYPE_S32] = INT32_MIN, [WASMTIME_COMPONENT_VALTYPE_S64] = INT64_MIN,
        [WASMTIME_COMPONENT_VALTYPE_U8] = 0,          [WASMTIME_COMPONENT_VALTYPE_U16] = 0,
        [WASMTIME_COMPONENT_VALTYPE_U32] = 0,
    };
    static const long long hi[] = {
        [WASMTIME_COMPONENT_VALTYPE_S8] = INT8_MAX,
        [WASMTIME_COMPONENT_VALTYPE_S16] = INT16_MAX,
        [WASMTIME_COMPONENT_VALTYPE_S32] = INT32_MAX,
        [WASMTIME_COMPONENT_VALTYPE_S64] = INT64_MAX,
        [WASMTIME_COMPONENT_VALTYPE_U8] = UINT8_MAX,
        [WASMTIME_COMPONENT_VALTYPE_U16] = UINT16_MAX,
        [WASMTIME_COMPONENT_VALTYPE_U32] = UINT32_MAX,
    };
    if (v < lo[k] || v > hi[k]) {
        goto range;
    }
    switch (k) {
    case WASMTIME_COMPONENT_VALTYPE_S8: out->of.s8 = (int8_t)v; break;
    case WASMTIME_COMPONENT_VALTYPE_S16: out->of.s16 = (int16_t)v; break;
    case WASMTIME_COMPONENT_VALTYPE_S32: out->of.s32 = (int32_t)v; break;
    case WASMTIME_COMPONENT_VALTYPE_S64: out->of.s64 = v; break;
    case WASMTIME_COMPONENT_VALTYPE_U8: out->of.u8 = (uint8_t)v; break;
    case WASMTIME_COMPONENT_VALTYPE_U16: out->of.u16 = (uint16_t)v; break;
    default: out->of.u32 = (uint32_t)v; break;
    }
    return 0;
range:
    set_none(out);
    PyErr_Format(PyExc_OverflowError, "int out of range for %s type", int_name[k]);
    return -1;
}

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

/* A UTF-8 copy of str `obj` into `out` (strict: a lone surrogate raises). */
static int
name_from_str(PyObject *obj, wasm_name_t *out)
{
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(obj, &len);
    if (s == NULL) {
        return -1;
    }
    wasm_byte_vec_new(out, (size_t)len, s);
    return 0;
}

/* Fill `n` values from `items` (a list or tuple, whose length is rechecked:
 * nested conversions run Python code that may shrink it). */
static int
seq_from_py(ext_state *st, ext_ctx *c, const cplan *elem, PyObject *seq, size_t n,
            wasmtime_component_val_t *data, size_t *done)
{
    bool is_list = PyList_Check(seq);
    for (*done = 0; *done < n; (*done)++) {
        size_t i = *done;
        if ((size_t)Py_SIZE(seq) <= i) {
            PyErr_SetString(PyExc_RuntimeError, "list changed size during conversion");
            return -1;
        }
        /* A list may change meanwhile (another thread): a strong reference,
         * taken under the list's lock. */
        PyObject *item =
            is_list ? PyList_GetItemRef(seq, (Py_ssize_t)i) : Py_NewRef(PyTuple_GET_ITEM(seq, i));
        if (item == NULL) {
            return -1;
        }
        int rc = cval_from_py(st, c, elem, item, &data[i]);
        Py_DECREF(item);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

static void
fill_none(wasmtime_component_val_t *data, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++) {
        set_none(&data[i]);
    }
}

static int
list_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
             wasmtime_component_val_t *out)
{
    const cplan *elem = p->sub[0];
    if (elem->kind == WASMTIME_COMPONENT_VALTYPE_U8 && PyObject_CheckBuffer(obj)) {
        /* bytes, bytearray, memoryview, any buffer: one tight loop. */
        Py_buffer view;
        if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0) {
            return -1;
        }
        size_t n = (size_t)view.len;
        wasmtime_component_vallist_new_uninit(&out->of.list, n);
        wasmtime_component_val_t *d = out->of.list.data;
        const uint8_t *b = view.buf;
        for (size_t i = 0; i < n; i++) {
            d[i].kind = WASMTIME_COMPONENT_U8;
            d[i].of.u8 = b[i];
        }
        PyBuffer_Release(&view);
        out->kind = WASMTIME_COMPONENT_LIST;
        return 0;
    }
    if (!PyList_Check(obj)) {
        return type_error(elem->kind == WASMTIME_COMPONENT_VALTYPE_U8 ? "expected bytes value"
                                                                      : "expected list value");
    }
    size_t n = (size_t)PyList_GET_SIZE(obj), done;
    wasmtime_component_vallist_new_uninit(&out->of.list, n);
    out->kind = WASMTIME_COMPONENT_LIST;
    if (seq_from_py(st, c, elem, obj, n, out->of.list.data, &done) < 0) {
        fill_none(out->of.list.data, done, n);
        wasmtime_component_val_delete(out);
        set_none(out);
        return -1;
    }
    return 0;
}

static int
tuple_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
              wasmtime_component_val_t *out)
{
    if (!PyTuple_Check(obj)) {
        return type_error("expected tuple type");
    }
    if ((size_t)PyTuple_GET_SIZE(obj) != p->n) {
        return type_error("tuple length mismatch");
    }
    size_t done;
    wasmtime_component_valtuple_new_uninit(&out->of.tuple, p->n);
    out->kind = WASMTIME_COMPONENT_TUPLE;
    for (done = 0; done < p->n; done++) {
        if (cval_from_py(st, c, p->sub[done], PyTuple_GET_ITEM(obj, done),
                         &out->of.tuple.data[done]) < 0) {
            fill_none(out->of.tuple.data, done, p->n);
            wasmtime_component_val_delete(out);
            set_none(out);
            return -1;
        }
    }
    return 0;
}

/* Field `name` of a record value: an attribute of that WIT name, else
 * (additions) of its snake_case spelling, or a dict item.  New reference,
 * or NULL with AttributeError when the value has no such field. */
static PyObject *
record_field(PyObject *obj, PyObject *name)
{
    if (PyDict_Check(obj)) {
        PyObject *v;
        int found = PyDict_GetItemRef(obj, name, &v);
        if (found == 0) {
            PyErr_Format(PyExc_AttributeError, "record value has no field %R", name);
        }
        return v;
    }
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError) ||
        PyUnicode_FindChar(name, '-', 0, PyUnicode_GET_LENGTH(name), 1) < 0) {
        return v;
    }
    /* 'label-text' -> 'label_text', as dataclasses spell it; the first
     * AttributeError is the one raised if neither exists. */
    PyObject *exc = ext_exc_take();
    PyObject *dash = PyUnicode_FromStringAndSize("-", 1);
    PyObject *under = PyUnicode_FromStringAndSize("_", 1);
    PyObject *snake =
        dash != NULL && under != NULL ? PyUnicode_Replace(name, dash, under, -1) : NULL;
    Py_XDECREF(dash);
    Py_XDECREF(under);
    if (snake == NULL) {
        Py_XDECREF(exc);
        return NULL;
    }
    v = PyObject_GetAttr(obj, snake);
    Py_DECREF(snake);
    if (v != NULL) {
        Py_XDECREF(exc);
        return v;
    }
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        ext_exc_restore(exc);
    }
    else {
        Py_XDECREF(exc);
    }
    return NULL;
}

static int
record_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
               wasmtime_component_val_t *out)
{
    wasmtime_component_valrecord_new_uninit(&out->of.record, p->n);
    out->kind = WASMTIME_COMPONENT_RECORD;
    wasmtime_component_valrecord_entry_t *e = out->of.record.data;
    size_t i;
    for (i = 0; i < p->n; i++) {
        wasm_byte_vec_new(&e[i].name, p->cnames[i].size, p->cnames[i].data);
        PyObject *field = record_field(obj, p->names[i]);
        if (field == NULL || cval_from_py(st, c, p->sub[i], field, &e[i].val) < 0) {
            Py_XDECREF(field);
            set_none(&e[i].val);
            i++;
            goto fail;
        }
        Py_DECREF(field);
    }
    return 0;
fail:
    for (; i < p->n; i++) {
        wasm_byte_vec_new_empty(&e[i].name);
        set_none(&e[i].val);
    }
    wasmtime_component_val_delete(out);
    set_none(out);
    return -1;
}

static int
variantlike_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
                    wasmtime_component_val_t *out)
{
    PyObject *tag = NULL, *payload = obj;
    if (p->tagged) {
        if (!PyObject_TypeCheck(obj, st->CVariant_Type)) {
            return type_error("expected Variant type");
        }
        tag = ((CVariantObject *)obj)->tag;
        payload = ((CVariantObject *)obj)->payload;
    }
    size_t i;
    for (i = 0; i < p->n; i++) {
        if (p->tagged) {
            if (PyUnicode_Check(tag) && PyUnicode_Compare(tag, p->names[i]) == 0) {
                break;
            }
        }
        else if (p->sub[i] == NULL ? obj == Py_None : cplan_matches(st, obj, p->case_mask[i])) {
            break;
        }
    }
    if (i == p->n) {
        PyErr_SetString(PyExc_ValueError, "value not valid for this variant");
        return -1;
    }
    wasmtime_component_val_t *heap = NULL;
    if (p->sub[i] != NULL) {
        wasmtime_component_val_t tmp;
        Py_INCREF(payload);
        int rc = cval_from_py(st, c, p->sub[i], payload, &tmp);
        Py_DECREF(payload);
        if (rc < 0) {
            return -1;
        }
        heap = wasmtime_component_val_new(&tmp);
    }
    switch (p->kind) {
    case WASMTIME_COMPONENT_VALTYPE_OPTION:
        out->kind = WASMTIME_COMPONENT_OPTION;
        out->of.option = heap;
        break;
    case WASMTIME_COMPONENT_VALTYPE_RESULT:
        out->kind = WASMTIME_COMPONENT_RESULT;
        out->of.result.is_ok = i == 0;
        out->of.result.val = heap;
        break;
    default:
        out->kind = WASMTIME_COMPONENT_VARIANT;
        wasm_byte_vec_new(&out->of.variant.discriminant, p->cnames[i].size, p->cnames[i].data);
        out->of.variant.val = heap;
        break;
    }
    return 0;
}

static int
flags_from_py(const cplan *p, PyObject *obj, wasmtime_component_val_t *out)
{
    (void)p;
    if (!PyAnySet_Check(obj)) {
        return type_error("expected set type for Flags type");
    }
    PyObject *items = PySequence_List(obj);
    if (items == NULL) {
        return -1;
    }
    size_t n = (size_t)PyList_GET_SIZE(items), i;
    wasmtime_component_valflags_new_uninit(&out->of.flags, n);
    out->kind = WASMTIME_COMPONENT_FLAGS;
    for (i = 0; i < n; i++) {
        PyObject *name = PyList_GET_ITEM(items, i);
        if (!PyUnicode_Check(name)) {
            type_error("expected str in Flags value");
            break;
        }
        if (name_from_str(name, &out->of.flags.data[i]) < 0) {
            break;
        }
    }
    Py_DECREF(items);
    if (i < n) {
        for (; i < n; i++) {
            wasm_byte_vec_new_empty(&out->of.flags.data[i]);
        }
        wasmtime_component_val_delete(out);
        set_none(out);
        return -1;
    }
    return 0;
}

static int
resource_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
                 wasmtime_component_val_t *out)
{
    wasmtime_component_resource_any_t *res;
    if (PyObject_TypeCheck(obj, st->CResourceAny_Type)) {
        CResourceAnyObject *ra = (CResourceAnyObject *)obj;
        EXT_CHECK_OPEN(ra->res, -1);
        if (ra->store != c->so) {
            ext_raise_msg(st, "resource used with the wrong store: it belongs to another Store");
            return -1;
        }
        res = wasmtime_component_resource_any_clone(ra->res);
        if (p->kind == WASMTIME_COMPONENT_VALTYPE_OWN) {
            /* Ownership moves into the call: the object is consumed. */
            wasmtime_component_resource_any_delete(ra->res);
            ra->res = NULL;
        }
    }
    else if (PyObject_TypeCheck(obj, st->CResourceHost_Type)) {
        CResourceHostObject *rh = (CResourceHostObject *)obj;
        EXT_CHECK_OPEN(rh->res, -1);
        /* Converting the values before this one ran Python code, which may
         * have closed the Store: c->ctx is only usable while it is open. */
        if (ext_store_usable(c->so) < 0) {
            return -1;
        }
        wasmtime_error_t *err = wasmtime_component_resource_host_to_any(c->ctx, rh->res, &res);
        if (err != NULL) {
            return ext_raise_error_int(st, err);
        }
    }
    else {
        return type_error("expected ResourceAny or ResourceHost for Own type");
    }
    out->kind = WASMTIME_COMPONENT_RESOURCE;
    out->of.resource = res;
    return 0;
}

int
cval_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
             wasmtime_component_val_t *out)
{
    set_none(out);
    switch (p->kind) {
    case WASMTIME_COMPONENT_VALTYPE_BOOL:
        if (!PyBool_Check(obj)) {
            return type_error("expected bool for Bool type");
        }
        out->of.boolean = obj == Py_True;
        return 0;
    case WASMTIME_COMPONENT_VALTYPE_S8:
    case WASMTIME_COMPONENT_VALTYPE_S16:
    case WASMTIME_COMPONENT_VALTYPE_S32:
    case WASMTIME_COMPONENT_VALTYPE_S64:
    case WASMTIME_COMPONENT_VALTYPE_U8:
    case WASMTIME_COMPONENT_VALTYPE_U16:
    case WASMTIME_COMPONENT_VALTYPE_U32:
    case WASMTIME_COMPONENT_VALTYPE_U64: return int_from_py(p->kind, obj, out);
    case WASMTIME_COMPONENT_VALTYPE_F32:
    case WASMTIME_COMPONENT_VALTYPE_F64: {
        bool f32 = p->kind == WASMTIME_COMPONENT_VALTYPE_F32;
        if (!PyFloat_Check(obj)) {
            return type_error(f32 ? "expected float for F32 type" : "expected float for F64 type");
        }
        double d = PyFloat_AS_DOUBLE(obj);
        if (f32) {
            out->kind = WASMTIME_COMPONENT_F32;
            out->of.f32 = (float)d;
        }
        else {
            out->kind = WASMTIME_COMPONENT_F64;
            out->of.f64 = d;
        }
        return 0;
    }
    case WASMTIME_COMPONENT_VALTYPE_CHAR: {
        if (!PyUnicode_Check(obj) || PyUnicode_GET_LENGTH(obj) != 1) {
            return type_error("expected single-character string for Char type");
        }
        Py_UCS4 ch = PyUnicode_READ_CHAR(obj, 0);
        if (ch >= 0xD800 && ch <= 0xDFFF) {
            /* Wasmtime aborts on a char that is no Unicode scalar value. */
            char msg[64];
            snprintf(msg, sizeof msg, "a surrogate (U+%04X) is not a valid char", (unsigned)ch);
            PyErr_SetString(PyExc_ValueError, msg);
            return -1;
        }
        out->kind = WASMTIME_COMPONENT_CHAR;
        out->of.character = ch;
        return 0;
    }
    case WASMTIME_COMPONENT_VALTYPE_STRING:
        if (!PyUnicode_Check(obj)) {
            return type_error("expected string type");
        }
        if (name_from_str(obj, &out->of.string) < 0) {
            return -1;
        }
        out->kind = WASMTIME_COMPONENT_STRING;
        return 0;
    case WASMTIME_COMPONENT_VALTYPE_LIST: return list_from_py(st, c, p, obj, out);
    case WASMTIME_COMPONENT_VALTYPE_RECORD: return record_from_py(st, c, p, obj, out);
    case WASMTIME_COMPONENT_VALTYPE_TUPLE: return tuple_from_py(st, c, p, obj, out);
    case WASMTIME_COMPONENT_VALTYPE_VARIANT:
    case WASMTIME_COMPONENT_VALTYPE_OPTION:
    case WASMTIME_COMPONENT_VALTYPE_RESULT: return variantlike_from_py(st, c, p, obj, out);
    case WASMTIME_COMPONENT_VALTYPE_ENUM:
        if (!PyUnicode_Check(obj)) {
            return type_error("expected str type");
        }
        if (name_from_str(obj, &out->of.enumeration) < 0) {
            return -1;
        }
        out->kind = WASMTIME_COMPONENT_ENUM;
        return 0;
    case WASMTIME_COMPONENT_VALTYPE_FLAGS: return flags_from_py(p, obj, out);
    case WASMTIME_COMPONENT_VALTYPE_OWN:
    case WASMTIME_COMPONENT_VALTYPE_BORROW: return resource_from_py(st, c, p, obj, out);
    default:
        PyErr_SetString(PyExc_NotImplementedError,
                        "future, stream and error-context values cannot be converted yet");
        return -1;
    }
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
    case WASMTIME_COMPONENT_VALTYPE_RECORD: return record_to_py(st, so, p, v);
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
        if (i >= 0) {
            return Py_NewRef(p->names[i]);
        }
        return PyUnicode_DecodeUTF8(v->of.enumeration.data, (Py_ssize_t)v->of.enumeration.size,
                                    "strict");
    }
    case WASMTIME_COMPONENT_VALTYPE_FLAGS: {
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
        return cresourceany_wrap(st, so, wasmtime_component_resource_any_clone(v->of.resource));
    default:
        PyErr_SetString(PyExc_NotImplementedError,
                        "future, stream and error-context values cannot be converted yet");
        return NULL;
    }
}
