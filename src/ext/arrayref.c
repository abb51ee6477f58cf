/* ArrayRef: a wasm GC array (an EqRef, hence an AnyRef; wraps
 * wasmtime/arrayref.h).
 *
 * Wasm hands them out, or Python makes one with
 * ArrayRef.new(store, array_type, elem, length) (every element `elem`) or
 * ArrayRef.from_values(store, array_type, values).  Elements are read and
 * written through AnyRef.get/set/len (with a store argument, like every
 * handle) or as a sequence, a[i], a[i] = v, len(a), on the Store the array
 * holds.  The layout is AnyRefObject's (runtime.h).
 */
#include "runtime.h"

/* The ArrayType argument, or NULL with TypeError. */
static GcTypeObject *
array_type_arg(ext_state *st, PyObject *obj)
{
    if (!PyObject_TypeCheck(obj, st->ArrayType_Type)) {
        ext_wrong_type(st, "an ArrayType", obj);
        return NULL;
    }
    return (GcTypeObject *)obj;
}

/* The zero value of the storage type `ft` (null for references). */
static void
array_zero(const wasmtime_field_type_t *ft, wasmtime_val_t *out)
{
    memset(out, 0, sizeof(*out));
    wasmtime_valkind_t kind = ft->storage.kind == WASMTIME_STORAGE_TYPE_KIND_VALTYPE
                                  ? ext_valtype_wasmtime_kind(ft->storage.valtype)
                                  : WASMTIME_I32;
    out->kind = kind == EXT_NO_WASMTIME_KIND ? WASMTIME_I32 : kind;
}

/* The shared body of new() and from_values(): `values` NULL for new() (then
 * `elem` and `length_obj` are used), else a list (from_values). */
static PyObject *
array_make(PyObject *cls, PyObject *store, PyObject *type, PyObject *elem, PyObject *length_obj,
           PyObject *values)
{
    ext_state *st = ext_state_from_type((PyTypeObject *)cls);
    if (st == NULL) {
        return NULL;
    }
    uint64_t length = 0;
    if (values == NULL) {
        int rc = ext_long_as_u64(length_obj, &length);
        if (rc < 0) {
            return ext_wrong_type(st, "an int length", length_obj);
        }
        if (rc > 0 || length > UINT32_MAX) {
            PyErr_SetString(PyExc_ValueError, "array length must be in 0..2**32-1");
            return NULL;
        }
    }
    else {
        length = (uint64_t)PySequence_Fast_GET_SIZE(values);
        if (length > UINT32_MAX) {
            PyErr_SetString(PyExc_ValueError, "array length must be in 0..2**32-1");
            return NULL;
        }
    }
    GcTypeObject *ty = array_type_arg(st, type);
    ext_ctx c;
    if (ty == NULL || ext_resolve_store(st, store, &c) < 0) {
        return NULL;
    }
    if (ty->engine != c.so->engine) {
        return ext_raise_msg(st, "the ArrayType belongs to another Engine than the Store");
    }
    /* No Python code runs from here on. */
    wasmtime_field_type_t ft;
    wasmtime_array_type_element(ty->ty, &ft);
    if (values != NULL && length > 1 && !ft.mutable_) {
        wasmtime_field_type_delete(&ft);
        return ext_raise_msg(st, "ArrayRef.from_values needs a mutable element type (the C API "
                                 "fills an array with one value, then sets the others)");
    }
    wasmtime_val_t v;
    int rc = 0;
    if (values == NULL || length > 0) {
        rc = ext_field_to_val(st, &c, &ft,
                              values == NULL ? elem : PySequence_Fast_GET_ITEM(values, 0), &v);
    }
    else {
        array_zero(&ft, &v);
    }
    PyObject *res = NULL;
    if (rc == 0) {
        wasmtime_array_ref_pre_t *pre = wasmtime_array_ref_pre_new(c.ctx, ty->ty);
        wasmtime_arrayref_t aref;
        wasmtime_error_t *err = wasmtime_arrayref_new(c.ctx, pre, &v, (uint32_t)length, &aref);
        wasmtime_array_ref_pre_delete(pre);
        ext_val_release(&v);
        for (uint32_t i = 1; err == NULL && values != NULL && i < (uint32_t)length; i++) {
            if (ext_field_to_val(st, &c, &ft, PySequence_Fast_GET_ITEM(values, (Py_ssize_t)i),
                                 &v) < 0) {
                break;
            }
            err = wasmtime_arrayref_set(c.ctx, &aref, i, &v);
            ext_val_release(&v);
            if (err != NULL) {
                wasmtime_arrayref_unroot(&aref);
            }
        }
        if (err != NULL) {
            ext_raise_error(st, err);
        }
        else {
            if (!PyErr_Occurred()) {
                wasmtime_anyref_t any;
                wasmtime_arrayref_to_anyref(&aref, &any);
                res = ext_anyref_wrap(st, &c, &any);
                wasmtime_anyref_unroot(&any);
            }
            wasmtime_arrayref_unroot(&aref);
        }
    }
    wasmtime_field_type_delete(&ft);
    return res;
}

static PyObject *
arrayref_new(PyObject *cls, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    return array_make(cls, args[0], args[1], args[2], args[3], NULL);
}

static PyObject *
arrayref_from_values(PyObject *cls, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    /* Arguments first: iterating `values` may run Python code. */
    PyObject *seq = PySequence_Fast(args[2], "ArrayRef values must be a sequence");
    if (seq == NULL) {
        return NULL;
    }
    PyObject *res = array_make(cls, args[0], args[1], NULL, NULL, seq);
    Py_DECREF(seq);
    return res;
}

static PyObject *
arrayref_type(PyObject *op, PyObject *store)
{
    AnyRefObject *self = (AnyRefObject *)op;
    ext_state *st = self->store->st;
    ext_ctx c;
    if (ext_resolve_owner(st, store, self->store, &c) < 0) {
        return NULL;
    }
    wasmtime_arrayref_t aref;
    if (wasmtime_anyref_as_array(c.ctx, &self->ref, &aref) == 0) {
        return ext_raise_msg(st, "this ArrayRef is not an array");
    }
    wasmtime_array_type_t *ty = wasmtime_arrayref_type(c.ctx, &aref);
    wasmtime_arrayref_unroot(&aref);
    return ext_gctype_wrap(st, (PyObject *)c.so->engine, true, ty);
}

/* ---- the sequence protocol, on the Store the array holds ----------------- */

static Py_ssize_t
arrayref_length(PyObject *op)
{
    AnyRefObject *self = (AnyRefObject *)op;
    ext_state *st = self->store->st;
    ext_ctx c;
    if (ext_resolve_owner(st, (PyObject *)self->store, self->store, &c) < 0) {
        return -1;
    }
    wasmtime_arrayref_t aref;
    if (wasmtime_anyref_as_array(c.ctx, &self->ref, &aref) == 0) {
        ext_raise_msg(st, "this ArrayRef is not an array");
        return -1;
    }
    uint32_t n = 0;
    wasmtime_error_t *err = wasmtime_arrayref_len(c.ctx, &aref, &n);
    wasmtime_arrayref_unroot(&aref);
    if (err != NULL) {
        ext_raise_error(st, err);
        return -1;
    }
    return (Py_ssize_t)n;
}

/* Python has made a negative index relative to len(); check the rest. */
static PyObject *
arrayref_index(PyObject *op, Py_ssize_t i)
{
    Py_ssize_t n = arrayref_length(op);
    if (n < 0) {
        return NULL;
    }
    if (i < 0 || i >= n) {
        PyErr_SetString(PyExc_IndexError, "array index out of range");
        return NULL;
    }
    return PyLong_FromSsize_t(i);
}

static PyObject *
arrayref_item(PyObject *op, Py_ssize_t i)
{
    PyObject *index = arrayref_index(op, i);
    if (index == NULL) {
        return NULL;
    }
    AnyRefObject *self = (AnyRefObject *)op;
    PyObject *res = ext_gcref_access(self, (PyObject *)self->store, index, NULL, true);
    Py_DECREF(index);
    return res;
}

static int
arrayref_ass_item(PyObject *op, Py_ssize_t i, PyObject *value)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "array elements cannot be deleted");
        return -1;
    }
    PyObject *index = arrayref_index(op, i);
    if (index == NULL) {
        return -1;
    }
    AnyRefObject *self = (AnyRefObject *)op;
    PyObject *res = ext_gcref_access(self, (PyObject *)self->store, index, value, true);
    Py_DECREF(index);
    Py_XDECREF(res);
    return res == NULL ? -1 : 0;
}

EXT_KWN(arrayref_new, "new", 4, "store", "ty", "elem", "length")
EXT_KWN(arrayref_from_values, "from_values", 3, "store", "ty", "values")
EXT_KW1(arrayref_type, "type", "store")

static PyMethodDef arrayref_methods[] = {
    {"new", EXT_FASTCALL_KW_CLASS(arrayref_new_kw),
     "new(store, ty, elem, length)\n--\n\nA new array of ArrayType `ty` in `store`: `length` "
     "elements, each `elem`."},
    {"from_values", EXT_FASTCALL_KW_CLASS(arrayref_from_values_kw),
     "from_values(store, ty, values)\n--\n\nA new array of ArrayType `ty` in `store` holding "
     "`values` (a mutable element type is needed for more than one value)."},
    {"type", EXT_KW1_ENTRY(arrayref_type),
     "type($self, store)\n--\n\nThe ArrayType of this array."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot arrayref_slots[] = {
    {Py_tp_methods, arrayref_methods},
    {Py_sq_length, arrayref_length},
    {Py_sq_item, arrayref_item},
    {Py_sq_ass_item, arrayref_ass_item},
    {Py_tp_doc, "A wasm GC array, bound to its Store: len(a), a[i] and a[i] = v work on that "
                "Store; make one with ArrayRef.new() or ArrayRef.from_values()."},
    {0, NULL},
};

static PyType_Spec arrayref_spec = {
    .name = "wasmtime.ArrayRef",
    .basicsize = sizeof(AnyRefObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    /* GC support (traverse, clear) is inherited from AnyRef */
    .slots = arrayref_slots,
};

int
arrayref_register(PyObject *mod, ext_state *st)
{
    st->ArrayRef_Type = ext_add_type(mod, &arrayref_spec, (PyObject *)st->EqRef_Type);
    return st->ArrayRef_Type == NULL ? -1 : 0;
}
