/* FieldType: the type of a struct field or of an array's elements (GC
 * proposal; wraps wasmtime_field_type_t of wasmtime/types/structref.h).
 *
 * A plain value object: `storage` is a ValType or one of the packed storage
 * types "i8" and "i16", `mutable` a bool.  It holds no C pointer; a
 * wasmtime_field_type_t is built when StructType/ArrayType need one.
 * Compared by value, unhashable (like ValType).
 */
#include "../base.h"

#include <string.h>

static PyObject *
fieldtype_make(ext_state *st, PyObject *storage, bool mutable_)
{
    FieldTypeObject *self = PyObject_GC_New(FieldTypeObject, st->FieldType_Type);
    if (self == NULL) {
        return NULL;
    }
    self->storage = Py_NewRef(storage);
    self->mutable_ = mutable_;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

/* 0 when `storage` is a valid storage type, else -1 with an exception. */
static int
storage_check(ext_state *st, PyObject *storage)
{
    if (PyUnicode_CheckExact(storage)) {
        if (PyUnicode_CompareWithASCIIString(storage, "i8") == 0 ||
            PyUnicode_CompareWithASCIIString(storage, "i16") == 0) {
            return 0;
        }
        PyErr_Format(PyExc_ValueError, "packed storage must be \"i8\" or \"i16\", not %R",
                     storage);
        return -1;
    }
    if (!PyObject_TypeCheck(storage, st->ValType_Type)) {
        ext_wrong_type(st, "a ValType or \"i8\"/\"i16\"", storage);
        return -1;
    }
    return 0;
}

PyObject *
fieldtype_from_c(ext_state *st, const wasmtime_field_type_t *ft)
{
    PyObject *storage;
    switch (ft->storage.kind) {
    case WASMTIME_STORAGE_TYPE_KIND_I8: storage = PyUnicode_FromString("i8"); break;
    case WASMTIME_STORAGE_TYPE_KIND_I16: storage = PyUnicode_FromString("i16"); break;
    default: storage = valtype_from_c(st, ft->storage.valtype); break;
    }
    if (storage == NULL) {
        return NULL;
    }
    PyObject *res = fieldtype_make(st, storage, ft->mutable_);
    Py_DECREF(storage);
    return res;
}

int
fieldtype_to_c(ext_state *st, PyObject *obj, wasmtime_field_type_t *out)
{
    if (!PyObject_TypeCheck(obj, st->FieldType_Type)) {
        ext_wrong_type(st, "a FieldType", obj);
        return -1;
    }
    FieldTypeObject *f = (FieldTypeObject *)obj;
    memset(out, 0, sizeof(*out));
    out->mutable_ = f->mutable_;
    if (PyUnicode_Check(f->storage)) {
        out->storage.kind = PyUnicode_CompareWithASCIIString(f->storage, "i8") == 0
                                ? WASMTIME_STORAGE_TYPE_KIND_I8
                                : WASMTIME_STORAGE_TYPE_KIND_I16;
        return 0;
    }
    out->storage.kind = WASMTIME_STORAGE_TYPE_KIND_VALTYPE;
    out->storage.valtype = ext_valtype_to_c(st, f->storage, "a ValType");
    if (out->storage.valtype == NULL) {
        return -1;
    }
    return 0;
}

static PyObject *
fieldtype_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"storage", "mutable", NULL};
    PyObject *storage;
    int mutable_ = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|p:FieldType", kwlist, &storage, &mutable_)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL || storage_check(st, storage) < 0) {
        return NULL;
    }
    return fieldtype_make(st, storage, mutable_ != 0);
}

static PyObject *
fieldtype_storage(PyObject *op, void *Py_UNUSED(closure))
{
    return Py_NewRef(((FieldTypeObject *)op)->storage);
}

static PyObject *
fieldtype_mutable(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(((FieldTypeObject *)op)->mutable_);
}

static PyObject *
fieldtype_repr(PyObject *op)
{
    FieldTypeObject *self = (FieldTypeObject *)op;
    return PyUnicode_FromFormat("FieldType(%R, mutable=%s)", self->storage,
                                self->mutable_ ? "True" : "False");
}

static PyObject *
fieldtype_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || !PyObject_TypeCheck(b, Py_TYPE(a))) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    FieldTypeObject *x = (FieldTypeObject *)a, *y = (FieldTypeObject *)b;
    int eq = 0;
    if (x->mutable_ == y->mutable_ && PyUnicode_Check(x->storage) == PyUnicode_Check(y->storage)) {
        PyObject *xs = Py_NewRef(x->storage), *ys = Py_NewRef(y->storage);
        eq = PyObject_RichCompareBool(xs, ys, Py_EQ);
        Py_DECREF(xs);
        Py_DECREF(ys);
        if (eq < 0) {
            return NULL;
        }
    }
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static int
fieldtype_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((FieldTypeObject *)op)->storage);
    return 0;
}

static int
fieldtype_clear(PyObject *op)
{
    Py_CLEAR(((FieldTypeObject *)op)->storage);
    return 0;
}

static void
fieldtype_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)fieldtype_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyGetSetDef fieldtype_getset[] = {
    {"storage", fieldtype_storage, NULL, "A ValType, or \"i8\"/\"i16\" for packed storage.", NULL},
    {"mutable", fieldtype_mutable, NULL, "Whether the field can be written.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot fieldtype_slots[] = {
    {Py_tp_new, fieldtype_new},
    {Py_tp_dealloc, fieldtype_dealloc},
    {Py_tp_traverse, fieldtype_traverse},
    {Py_tp_clear, fieldtype_clear},
    {Py_tp_repr, fieldtype_repr},
    {Py_tp_richcompare, fieldtype_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_getset, fieldtype_getset},
    {Py_tp_doc, "FieldType(storage, mutable=False)\n--\n\nThe type of a struct field or of "
                "array elements: storage is a ValType or \"i8\"/\"i16\" (packed)."},
    {0, NULL},
};

static PyType_Spec fieldtype_spec = {
    .name = "wasmtime.FieldType",
    .basicsize = sizeof(FieldTypeObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = fieldtype_slots,
};

int
fieldtype_register(PyObject *mod, ext_state *st)
{
    st->FieldType_Type = ext_add_type(mod, &fieldtype_spec, NULL);
    return st->FieldType_Type == NULL ? -1 : 0;
}
