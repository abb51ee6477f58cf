/* Floor 3: what the GC reference types share (AnyRef and its subclasses in
 * anyref.c, structref.c and arrayref.c; StructType and ArrayType in
 * gctype.c): field and element access by the object's own type, values for
 * a storage type, and StructType/ArrayType objects for C types.
 *
 * The Python wrappers of references themselves are made by convert.c
 * (ext_anyref_wrap), since every value conversion can create one.
 */
#include "runtime.h"

int
ext_field_to_val(ext_state *st, ext_ctx *c, const wasmtime_field_type_t *ft, PyObject *obj,
                 wasmtime_val_t *out)
{
    /* Packed i8/i16 storage takes an i32 (wrapped by Wasmtime). */
    wasmtime_valkind_t kind = ft->storage.kind == WASMTIME_STORAGE_TYPE_KIND_VALTYPE
                                  ? ext_valtype_wasmtime_kind(ft->storage.valtype)
                                  : WASMTIME_I32;
    return ext_py_to_val(st, c, obj, kind, out);
}

PyObject *
ext_gcref_access(AnyRefObject *self, PyObject *store, PyObject *index_obj, PyObject *value,
                 bool array)
{
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
        return ext_raise_msg(st, "this %s is not %s", Py_TYPE(self)->tp_name + 9,
                             array ? "an array" : "a struct");
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
            rc = ext_field_to_val(st, &c, &ft, value, &v);
            wasmtime_field_type_delete(&ft);
            if (rc == 0) {
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

PyObject *
ext_gctype_wrap(ext_state *st, PyObject *engine, bool array, void *ty)
{
    PyTypeObject *tp = array ? st->ArrayType_Type : st->StructType_Type;
    GcTypeObject *self = PyObject_GC_New(GcTypeObject, tp);
    if (self == NULL) {
        if (array) {
            wasmtime_array_type_delete(ty);
        }
        else {
            wasmtime_struct_type_delete(ty);
        }
        return NULL;
    }
    self->ty = ty;
    self->engine = Py_NewRef(engine);
    PyObject_GC_Track(self);
    return (PyObject *)self;
}
