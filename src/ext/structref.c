/* StructRef: a wasm GC struct (an EqRef, hence an AnyRef; wraps
 * wasmtime/structref.h).
 *
 * Wasm hands them out, or Python makes one with
 * StructRef.new(store, struct_type, fields).  Fields are read and written
 * through AnyRef.field/set_field; type(store) gives the StructType.  The
 * layout is AnyRefObject's (runtime.h): the object is held as a rooted
 * anyref, and a structref view is taken for each C call.
 */
#include "runtime.h"

/* The StructType argument, or NULL with TypeError. */
static GcTypeObject *
struct_type_arg(ext_state *st, PyObject *obj)
{
    if (!PyObject_TypeCheck(obj, st->StructType_Type)) {
        ext_wrong_type(st, "a StructType", obj);
        return NULL;
    }
    return (GcTypeObject *)obj;
}

static PyObject *
structref_new(PyObject *cls, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    ext_state *st = ext_state_from_type((PyTypeObject *)cls);
    if (st == NULL) {
        return NULL;
    }
    /* Arguments first: iterating `fields` may run Python code. */
    PyObject *seq = PySequence_Fast(args[2], "StructRef fields must be a sequence");
    if (seq == NULL) {
        return NULL;
    }
    GcTypeObject *ty = struct_type_arg(st, args[1]);
    ext_ctx c;
    if (ty == NULL || ext_resolve_store(st, args[0], &c) < 0) {
        Py_DECREF(seq);
        return NULL;
    }
    if (ty->engine != c.so->engine) {
        Py_DECREF(seq);
        return ext_raise_msg(st, "the StructType belongs to another Engine than the Store");
    }
    size_t want = wasmtime_struct_type_num_fields(ty->ty);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if ((size_t)n != want) {
        Py_DECREF(seq);
        return ext_raise_msg(st, "the struct type has %zu fields, %zd given", want, n);
    }
    wasmtime_val_t *vals = PyMem_Calloc(want + 1, sizeof(*vals));
    if (vals == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    /* No Python code runs from here on: the store stays as resolved. */
    size_t done = 0;
    for (; done < want; done++) {
        wasmtime_field_type_t ft;
        (void)wasmtime_struct_type_field(ty->ty, done, &ft);
        int rc = ext_field_to_val(st, &c, &ft, PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)done),
                                  &vals[done]);
        wasmtime_field_type_delete(&ft);
        if (rc < 0) {
            break;
        }
    }
    PyObject *res = NULL;
    if (done == want) {
        wasmtime_struct_ref_pre_t *pre = wasmtime_struct_ref_pre_new(c.ctx, ty->ty);
        wasmtime_structref_t sref;
        wasmtime_error_t *err = wasmtime_structref_new(c.ctx, pre, vals, want, &sref);
        wasmtime_struct_ref_pre_delete(pre);
        if (err != NULL) {
            ext_raise_error(st, err);
        }
        else {
            wasmtime_anyref_t any;
            wasmtime_structref_to_anyref(&sref, &any);
            wasmtime_structref_unroot(&sref);
            res = ext_anyref_wrap(st, &c, &any);
            wasmtime_anyref_unroot(&any);
        }
    }
    for (size_t i = 0; i < done; i++) {
        ext_val_release(&vals[i]);
    }
    PyMem_Free(vals);
    Py_DECREF(seq);
    return res;
}

static PyObject *
structref_type(PyObject *op, PyObject *store)
{
    AnyRefObject *self = (AnyRefObject *)op;
    ext_state *st = self->store->st;
    ext_ctx c;
    if (ext_resolve_owner(st, store, self->store, &c) < 0) {
        return NULL;
    }
    wasmtime_structref_t sref;
    if (wasmtime_anyref_as_struct(c.ctx, &self->ref, &sref) == 0) {
        return ext_raise_msg(st, "this StructRef is not a struct");
    }
    wasmtime_struct_type_t *ty = wasmtime_structref_type(c.ctx, &sref);
    wasmtime_structref_unroot(&sref);
    return ext_gctype_wrap(st, (PyObject *)c.so->engine, false, ty);
}

EXT_KWN(structref_new, "new", 3, "store", "ty", "fields")
EXT_KW1(structref_type, "type", "store")

static PyMethodDef structref_methods[] = {
    {"new", EXT_FASTCALL_KW_CLASS(structref_new_kw),
     "new(store, ty, fields)\n--\n\nA new struct of StructType `ty` in `store`, with the "
     "given field values (one per field, in order)."},
    {"type", EXT_KW1_ENTRY(structref_type),
     "type($self, store)\n--\n\nThe StructType of this struct."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot structref_slots[] = {
    {Py_tp_methods, structref_methods},
    {Py_tp_doc, "A wasm GC struct, bound to its Store.  Read and write fields with field() "
                "and set_field(); make one with StructRef.new()."},
    {0, NULL},
};

static PyType_Spec structref_spec = {
    .name = "wasmtime.StructRef",
    .basicsize = sizeof(AnyRefObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    /* GC support (traverse, clear) is inherited from AnyRef */
    .slots = structref_slots,
};

int
structref_register(PyObject *mod, ext_state *st)
{
    st->StructRef_Type = ext_add_type(mod, &structref_spec, (PyObject *)st->EqRef_Type);
    return st->StructRef_Type == NULL ? -1 : 0;
}
