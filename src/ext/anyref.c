/* AnyRef: a reference of wasm's `any` hierarchy (anyref, eqref, structref,
 * arrayref; wraps wasmtime/anyref.h).
 *
 * An AnyRef holds its Store (strong) and a rooted wasmtime_anyref_t; it goes
 * back into wasm as the same reference, into its own Store only (convert.c
 * checks).  Struct fields and array elements are read and written through it
 * (wasmtime/structref.h, arrayref.h), typed by the object's own type.  i31 values are not AnyRefs: they cross as Python ints.  The root
 * is released by dealloc while the Store lives; a closed Store took its roots
 * with it.  Only the runtime creates them.
 */
#include "runtime.h"

/* Which kind of object it is: "struct", "array", "eq" or "any". */
static PyObject *
anyref_kind(PyObject *op, PyObject *store)
{
    AnyRefObject *self = (AnyRefObject *)op;
    ext_ctx c;
    if (ext_resolve_owner(self->store->st, store, self->store, &c) < 0) {
        return NULL;
    }
    const char *kind = "any";
    if (wasmtime_anyref_is_struct(c.ctx, &self->ref) != 0) {
        kind = "struct";
    }
    else if (wasmtime_anyref_is_array(c.ctx, &self->ref) != 0) {
        kind = "array";
    }
    else if (wasmtime_anyref_is_eqref(c.ctx, &self->ref) != 0) {
        kind = "eq";
    }
    return PyUnicode_FromString(kind);
}

/* Read (value NULL) or write field/element `index` of a struct (array
 * false) or an array.  The index is converted first (no Python code), then
 * the Store resolved; the value's kind comes from the object's type. */
static PyObject *
anyref_access(PyObject *op, PyObject *store, PyObject *index_obj, PyObject *value, bool array)
{
    AnyRefObject *self = (AnyRefObject *)op;
    ext_state *st = self->store->st;
    uint64_t index;
    int rc = ext_long_as_u64(index_obj, &index);
    if (rc < 0) {
        return ext_wrong_type(st, "an int index", index_obj);
    }
    if (rc > 0 || (array && index > UINT32_MAX)) {
        PyErr_SetString(PyExc_IndexError, "index out of range");
        return NULL;
    }
    ext_ctx c;
    if (ext_resolve_owner(st, store, self->store, &c) < 0) {
        return NULL;
    }
    wasmtime_structref_t sref;
    wasmtime_arrayref_t aref;
    if (array ? wasmtime_anyref_as_array(c.ctx, &self->ref, &aref) == 0
              : wasmtime_anyref_as_struct(c.ctx, &self->ref, &sref) == 0) {
        return ext_raise_msg(st, "this AnyRef is not %s", array ? "an array" : "a struct");
    }
    PyObject *res = NULL;
    wasmtime_error_t *err = NULL;
    wasmtime_val_t v;
    if (value == NULL) {
        err = array ? wasmtime_arrayref_get(c.ctx, &aref, (uint32_t)index, &v)
                    : wasmtime_structref_field(c.ctx, &sref, (size_t)index, &v);
        if (err == NULL) {
            res = ext_val_to_py(st, &c, &v);
            ext_val_release(&v);
        }
    }
    else {
        wasmtime_field_type_t ft;
        bool found = true;
        if (array) {
            wasmtime_array_type_t *ty = wasmtime_arrayref_type(c.ctx, &aref);
            wasmtime_array_type_element(ty, &ft);
            wasmtime_array_type_delete(ty);
        }
        else {
            wasmtime_struct_type_t *ty = wasmtime_structref_type(c.ctx, &sref);
            found = wasmtime_struct_type_field(ty, (size_t)index, &ft) != 0;
            wasmtime_struct_type_delete(ty);
        }
        if (!found) {
            PyErr_SetString(PyExc_IndexError, "field index out of range");
        }
        else {
            /* Packed i8/i16 storage takes an i32 (wrapped by Wasmtime). */
            wasmtime_valkind_t kind = ft.storage.kind == WASMTIME_STORAGE_TYPE_KIND_VALTYPE
                                          ? ext_valtype_wasmtime_kind(ft.storage.valtype)
                                          : WASMTIME_I32;
            wasmtime_field_type_delete(&ft);
            if (ext_py_to_val(st, &c, value, kind, &v) == 0) {
                err = array ? wasmtime_arrayref_set(c.ctx, &aref, (uint32_t)index, &v)
                            : wasmtime_structref_set_field(c.ctx, &sref, (size_t)index, &v);
                ext_val_release(&v);
                res = err == NULL ? Py_NewRef(Py_None) : NULL;
            }
        }
    }
    if (array) {
        wasmtime_arrayref_unroot(&aref);
    }
    else {
        wasmtime_structref_unroot(&sref);
    }
    return err != NULL ? ext_raise_error(st, err) : res;
}

static PyObject *
anyref_field(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    return anyref_access(op, args[0], args[1], NULL, false);
}

static PyObject *
anyref_set_field(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    return anyref_access(op, args[0], args[1], args[2], false);
}

static PyObject *
anyref_get(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    return anyref_access(op, args[0], args[1], NULL, true);
}

static PyObject *
anyref_set(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    return anyref_access(op, args[0], args[1], args[2], true);
}

static PyObject *
anyref_len(PyObject *op, PyObject *store)
{
    AnyRefObject *self = (AnyRefObject *)op;
    ext_state *st = self->store->st;
    ext_ctx c;
    if (ext_resolve_owner(st, store, self->store, &c) < 0) {
        return NULL;
    }
    wasmtime_arrayref_t aref;
    if (wasmtime_anyref_as_array(c.ctx, &self->ref, &aref) == 0) {
        return ext_raise_msg(st, "this AnyRef is not an array");
    }
    uint32_t n = 0;
    wasmtime_error_t *err = wasmtime_arrayref_len(c.ctx, &aref, &n);
    wasmtime_arrayref_unroot(&aref);
    return err != NULL ? ext_raise_error(st, err) : PyLong_FromUnsignedLong(n);
}

static PyObject *
anyref_repr(PyObject *op)
{
    return PyUnicode_FromFormat("<wasmtime.AnyRef at %p>", op);
}

static int
anyref_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((AnyRefObject *)op)->store);
    return 0;
}

static int
anyref_clear(PyObject *op)
{
    AnyRefObject *self = (AnyRefObject *)op;
    if (self->store != NULL && self->store->store != NULL) {
        wasmtime_anyref_unroot(&self->ref);
    }
    wasmtime_anyref_set_null(&self->ref);
    Py_CLEAR(self->store);
    return 0;
}

static void
anyref_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)anyref_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(anyref_kind, "kind", "store")
EXT_KW1(anyref_len, "len", "store")
EXT_KWN(anyref_field, "field", 2, "store", "index")
EXT_KWN(anyref_set_field, "set_field", 3, "store", "index", "value")
EXT_KWN(anyref_get, "get", 2, "store", "index")
EXT_KWN(anyref_set, "set", 3, "store", "index", "value")

static PyMethodDef anyref_methods[] = {
    {"kind", EXT_KW1_ENTRY(anyref_kind),
     "kind($self, store)\n--\n\n\"struct\", \"array\", \"eq\" or \"any\": what it refers to."},
    {"field", EXT_KWN_ENTRY(anyref_field),
     "field($self, store, index)\n--\n\nField `index` of a struct."},
    {"set_field", EXT_KWN_ENTRY(anyref_set_field),
     "set_field($self, store, index, value)\n--\n\nWrite field `index` of a struct (mutable "
     "fields only)."},
    {"len", EXT_KW1_ENTRY(anyref_len), "len($self, store)\n--\n\nThe length of an array."},
    {"get", EXT_KWN_ENTRY(anyref_get),
     "get($self, store, index)\n--\n\nElement `index` of an array."},
    {"set", EXT_KWN_ENTRY(anyref_set),
     "set($self, store, index, value)\n--\n\nWrite element `index` of an array."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot anyref_slots[] = {
    {Py_tp_dealloc, anyref_dealloc},
    {Py_tp_traverse, anyref_traverse},
    {Py_tp_clear, anyref_clear},
    {Py_tp_repr, anyref_repr},
    {Py_tp_methods, anyref_methods},
    {Py_tp_doc, "A wasm GC reference (anyref, eqref, structref, arrayref), bound to its "
                "Store; passed back into wasm it is the same reference."},
    {0, NULL},
};

static PyType_Spec anyref_spec = {
    .name = "wasmtime.AnyRef",
    .basicsize = sizeof(AnyRefObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = anyref_slots,
};

int
anyref_register(PyObject *mod, ext_state *st)
{
    st->AnyRef_Type = ext_add_type(mod, &anyref_spec, NULL);
    return st->AnyRef_Type == NULL ? -1 : 0;
}
