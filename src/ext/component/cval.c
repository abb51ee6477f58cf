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
    /* An instance of its generated class: the attributes it has. */
    bool typed = p->cls != NULL && PyObject_TypeCheck(obj, (PyTypeObject *)p->cls);
    wasmtime_component_valrecord_new_uninit(&out->of.record, p->n);
    out->kind = WASMTIME_COMPONENT_RECORD;
    wasmtime_component_valrecord_entry_t *e = out->of.record.data;
    size_t i;
    for (i = 0; i < p->n; i++) {
        wasm_byte_vec_new(&e[i].name, p->cnames[i].size, p->cnames[i].data);
        PyObject *field = typed ? PyObject_GetAttr(obj, PyTuple_GET_ITEM(p->attrs, i))
                                : record_field(obj, p->names[i]);
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

static int variantlike_case(ext_state *st, ext_ctx *c, const cplan *p, size_t i, PyObject *payload,
                            wasmtime_component_val_t *out);

/* A variant, option or result with generated classes: an instance of a case
 * class (its payload in `value`), Ok or Err, None or a value (Some(value)
 * where options nest). */
static int
typed_variantlike_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
                          wasmtime_component_val_t *out)
{
    size_t i;
    PyObject *payload = NULL;
    if (p->kind == WASMTIME_COMPONENT_VALTYPE_OPTION) {
        if (obj == Py_None) {
            return variantlike_case(st, c, p, 0, Py_None, out);
        }
        if (PyTuple_GET_SIZE(p->cls) == 0) {
            return variantlike_case(st, c, p, 1, obj, out);
        }
        if (!PyObject_TypeCheck(obj, (PyTypeObject *)PyTuple_GET_ITEM(p->cls, 0))) {
            return type_error("expected None or Some(value) for a nested option");
        }
        i = 1;
    }
    else {
        for (i = 0; i < p->n; i++) {
            if (PyObject_TypeCheck(obj, (PyTypeObject *)PyTuple_GET_ITEM(p->cls, i))) {
                break;
            }
        }
        if (i == p->n) {
            PyErr_Format(PyExc_TypeError, "expected %s, not %.200s",
                         p->kind == WASMTIME_COMPONENT_VALTYPE_RESULT
                             ? "Ok(...) or Err(...)"
                             : "one of the variant's cases",
                         Py_TYPE(obj)->tp_name);
            return -1;
        }
    }
    if (p->sub[i] == NULL) {
        return variantlike_case(st, c, p, i, Py_None, out);
    }
    payload = PyObject_GetAttr(obj, st->str_value);
    if (payload == NULL) {
        return -1;
    }
    int rc = variantlike_case(st, c, p, i, payload, out);
    Py_DECREF(payload);
    return rc;
}

static int
variantlike_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
                    wasmtime_component_val_t *out)
{
    PyObject *tag = NULL, *payload = obj;
    if (p->cls != NULL) {
        return typed_variantlike_from_py(st, c, p, obj, out);
    }
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
    Py_INCREF(payload);
    int rc = variantlike_case(st, c, p, i, payload, out);
    Py_DECREF(payload);
    return rc;
}

/* Case `i` of `p` with `payload` (borrowed; ignored for a case without). */
static int
variantlike_case(ext_state *st, ext_ctx *c, const cplan *p, size_t i, PyObject *payload,
                 wasmtime_component_val_t *out)
{
    wasmtime_component_val_t *heap = NULL;
    if (p->sub[i] != NULL) {
        wasmtime_component_val_t tmp;
        if (cval_from_py(st, c, p->sub[i], payload, &tmp) < 0) {
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

/* A member of the generated Flag class: its bits. */
static int
typed_flags_from_py(ext_state *st, const cplan *p, PyObject *obj, wasmtime_component_val_t *out)
{
    PyObject *bits = PyObject_GetAttr(obj, st->str_fvalue);
    if (bits == NULL) {
        return -1;
    }
    unsigned long long b = PyLong_Check(bits) ? PyLong_AsUnsignedLongLong(bits) : 0;
    Py_DECREF(bits);
    if (PyErr_Occurred()) {
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        n += (b >> i) & 1u;
    }
    wasmtime_component_valflags_new_uninit(&out->of.flags, n);
    out->kind = WASMTIME_COMPONENT_FLAGS;
    for (size_t i = 0, k = 0; i < p->n; i++) {
        if ((b >> i) & 1u) {
            wasm_byte_vec_new(&out->of.flags.data[k++], p->cnames[i].size, p->cnames[i].data);
        }
    }
    return 0;
}

static int
flags_from_py(ext_state *st, const cplan *p, PyObject *obj, wasmtime_component_val_t *out)
{
    if (p->cls != NULL && PyObject_TypeCheck(obj, (PyTypeObject *)p->cls)) {
        return typed_flags_from_py(st, p, obj, out);
    }
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

static int resource_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
                            wasmtime_component_val_t *out);

/* An instance of a generated resource class: its ResourceAny (`_handle`). */
static int
typed_resource_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
                       wasmtime_component_val_t *out)
{
    PyObject *h = PyObject_GetAttr(obj, st->str_handle);
    if (h == NULL) {
        return -1;
    }
    int rc = PyObject_TypeCheck(h, st->CResourceAny_Type)
                 ? resource_from_py(st, c, p, h, out)
                 : type_error("a resource object whose _handle is no ResourceAny");
    Py_DECREF(h);
    return rc;
}

/* An imported resource: the table's from_py(store, obj, owned) makes the
 * ResourceHost of the user's object (a handle passes as it is). */
static int
host_resource_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
                      wasmtime_component_val_t *out)
{
    PyObject *owned = p->kind == WASMTIME_COMPONENT_VALTYPE_OWN ? Py_True : Py_False;
    PyObject *h = PyObject_CallFunctionObjArgs(PyTuple_GET_ITEM(p->cls, 2), (PyObject *)c->so, obj,
                                               owned, NULL);
    if (h == NULL) {
        return -1;
    }
    int rc = PyObject_TypeCheck(h, st->CResourceHost_Type) ||
                     PyObject_TypeCheck(h, st->CResourceAny_Type)
                 ? resource_from_py(st, c, p, h, out)
                 : type_error("an imported resource's table gave no ResourceHost");
    Py_DECREF(h);
    return rc;
}

static int
resource_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
                 wasmtime_component_val_t *out)
{
    wasmtime_component_resource_any_t *res;
    if (cplan_host_resource(p)) {
        if (!PyObject_TypeCheck(obj, st->CResourceHost_Type) &&
            !PyObject_TypeCheck(obj, st->CResourceAny_Type)) {
            return host_resource_from_py(st, c, p, obj, out);
        }
    }
    else if (p->cls != NULL &&
             PyObject_TypeCheck(obj, (PyTypeObject *)PyTuple_GET_ITEM(p->cls, 0))) {
        return typed_resource_from_py(st, c, p, obj, out);
    }
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
        for (size_t i = 0; p->cls != NULL && i < p->n; i++) {
            if (PyTuple_GET_ITEM(p->cls, i) == obj) {
                wasm_byte_vec_new(&out->of.enumeration, p->cnames[i].size, p->cnames[i].data);
                out->kind = WASMTIME_COMPONENT_ENUM;
                return 0;
            }
        }
        if (!PyUnicode_Check(obj)) {
            return type_error("expected str type");
        }
        if (name_from_str(obj, &out->of.enumeration) < 0) {
            return -1;
        }
        out->kind = WASMTIME_COMPONENT_ENUM;
        return 0;
    case WASMTIME_COMPONENT_VALTYPE_FLAGS: return flags_from_py(st, p, obj, out);
    case WASMTIME_COMPONENT_VALTYPE_OWN:
    case WASMTIME_COMPONENT_VALTYPE_BORROW: return resource_from_py(st, c, p, obj, out);
    default:
        PyErr_SetString(PyExc_NotImplementedError,
                        "future, stream and error-context values cannot be converted yet");
        return -1;
    }
}
