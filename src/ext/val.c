/* Val: a WebAssembly value tagged with its kind (wasmtime/val.h kinds).
 *
 * A Val is a plain Python pair (kind, value); it owns no C memory.  Integers
 * wrap to the signed width like wasmtime-py (v128: to an unsigned 128-bit
 * int); floats must be floats.  The
 * conversion to and from wasmtime_val_t lives in convert.c (calls issue).
 */
#include "runtime.h"

static PyObject *
val_make(PyTypeObject *type, wasmtime_valkind_t kind, PyObject *value)
{
    ValObject *self = (ValObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(value);
        return NULL;
    }
    self->kind = kind;
    self->value = value; /* steals */
    return (PyObject *)self;
}

/* kind: an int, or anything with an int `.value` (ctypes constants). */
static PyObject *
val_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"kind", "val", NULL};
    PyObject *kind, *value;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Val", kwlist, &kind, &value)) {
        return NULL;
    }
    PyObject *k = PyLong_Check(kind) ? Py_NewRef(kind) : PyObject_GetAttrString(kind, "value");
    if (k == NULL) {
        return NULL;
    }
    long v = PyLong_Check(k) ? PyLong_AsLong(k) : -1;
    Py_DECREF(k);
    if (v == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (v < 0 || v > WASMTIME_EXNREF) {
        PyErr_Format(PyExc_ValueError, "unknown value kind %ld", v);
        return NULL;
    }
    return val_make(type, (wasmtime_valkind_t)v, Py_NewRef(value));
}

static PyObject *
val_int(PyObject *cls, PyObject *arg, wasmtime_valkind_t kind)
{
    if (!PyLong_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "expected an integer, got %.200s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    unsigned long long bits = PyLong_AsUnsignedLongLongMask(arg);
    if (bits == (unsigned long long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *v = kind == WASMTIME_I32 ? PyLong_FromLong((int32_t)(uint32_t)bits)
                                       : PyLong_FromLongLong((int64_t)bits);
    return v == NULL ? NULL : val_make((PyTypeObject *)cls, kind, v);
}

static PyObject *
val_i32(PyObject *cls, PyObject *arg)
{
    return val_int(cls, arg, WASMTIME_I32);
}

static PyObject *
val_i64(PyObject *cls, PyObject *arg)
{
    return val_int(cls, arg, WASMTIME_I64);
}

static PyObject *
val_float(PyObject *cls, PyObject *arg, wasmtime_valkind_t kind)
{
    if (!PyFloat_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "expected a float, got %.200s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    double d = PyFloat_AS_DOUBLE(arg);
    if (kind == WASMTIME_F32) {
        d = (double)(float)d;
    }
    PyObject *v = PyFloat_FromDouble(d);
    return v == NULL ? NULL : val_make((PyTypeObject *)cls, kind, v);
}

static PyObject *
val_f32(PyObject *cls, PyObject *arg)
{
    return val_float(cls, arg, WASMTIME_F32);
}

static PyObject *
val_f64(PyObject *cls, PyObject *arg)
{
    return val_float(cls, arg, WASMTIME_F64);
}

static PyObject *
val_v128(PyObject *cls, PyObject *arg)
{
    uint8_t bytes[16];
    if (!PyLong_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "expected an integer, got %.200s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    if (ext_py_to_v128(arg, bytes) < 0) {
        return NULL;
    }
    PyObject *v = ext_v128_to_py(bytes);
    return v == NULL ? NULL : val_make((PyTypeObject *)cls, WASMTIME_V128, v);
}

static PyObject *
val_externref(PyObject *cls, PyObject *arg)
{
    return val_make((PyTypeObject *)cls, WASMTIME_EXTERNREF, Py_NewRef(arg));
}

static PyObject *
val_funcref(PyObject *cls, PyObject *arg)
{
    return val_make((PyTypeObject *)cls, WASMTIME_FUNCREF, Py_NewRef(arg));
}

static PyObject *
val_ref_null(PyObject *cls, PyObject *ty)
{
    ext_state *st = ext_state_from_type((PyTypeObject *)cls);
    if (st == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(ty, st->ValType_Type)) {
        return ext_wrong_type(st, "a ValType", ty);
    }
    ValTypeObject *vt = (ValTypeObject *)ty;
    if (vt->closed) {
        return ALREADY_CLOSED(), NULL;
    }
    if (vt->kind == WASM_EXTERNREF) {
        return val_make((PyTypeObject *)cls, WASMTIME_EXTERNREF, Py_NewRef(Py_None));
    }
    if (vt->kind == WASM_FUNCREF) {
        return val_make((PyTypeObject *)cls, WASMTIME_FUNCREF, Py_NewRef(Py_None));
    }
    return ext_raise_msg(st, "Invalid reference type for `ref_null`: %S", ty);
}

static PyObject *
val_as(PyObject *op, wasmtime_valkind_t kind)
{
    ValObject *self = (ValObject *)op;
    return Py_NewRef(self->kind == kind ? self->value : Py_None);
}

#define VAL_AS(NAME, KIND)                                                \
    static PyObject *val_as_##NAME(PyObject *op, PyObject *Py_UNUSED(ig)) \
    {                                                                     \
        return val_as(op, KIND);                                          \
    }
VAL_AS(i32, WASMTIME_I32)
VAL_AS(i64, WASMTIME_I64)
VAL_AS(f32, WASMTIME_F32)
VAL_AS(f64, WASMTIME_F64)
VAL_AS(v128, WASMTIME_V128)
VAL_AS(externref, WASMTIME_EXTERNREF)
VAL_AS(funcref, WASMTIME_FUNCREF)
#undef VAL_AS

static PyObject *
val_type(PyObject *op, void *Py_UNUSED(closure))
{
    ValObject *self = (ValObject *)op;
    ext_state *st = ext_state_from_type(Py_TYPE(op));
    if (st == NULL) {
        return NULL;
    }
    wasm_valkind_t k = ext_wasm_kind_of(self->kind);
    if (k == EXT_NO_WASM_KIND) {
        return ext_raise_msg(st, "no ValType for value kind %d", (int)self->kind);
    }
    return valtype_from_kind(st, k);
}

static PyObject *
val_value(PyObject *op, void *Py_UNUSED(closure))
{
    return Py_NewRef(((ValObject *)op)->value);
}

static PyObject *
val_richcompare(PyObject *a, PyObject *b, int op)
{
    if (op != Py_EQ && op != Py_NE) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    ValObject *self = (ValObject *)a;
    if (PyObject_TypeCheck(b, Py_TYPE(a))) {
        ValObject *other = (ValObject *)b;
        if (self->kind != other->kind) {
            return PyBool_FromLong(op == Py_NE);
        }
        return PyObject_RichCompare(self->value, other->value, op);
    }
    return PyObject_RichCompare(self->value, b, op);
}

static PyObject *
val_repr(PyObject *op)
{
    ValObject *self = (ValObject *)op;
    static const char *const names[] = {"i32",     "i64",       "f32",    "f64",   "v128",
                                        "funcref", "externref", "anyref", "exnref"};
    const char *name = self->kind <= WASMTIME_EXNREF ? names[self->kind] : "?";
    return PyUnicode_FromFormat("Val.%s(%R)", name, self->value);
}

static int
val_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((ValObject *)op)->value);
    return 0;
}

static int
val_clear(PyObject *op)
{
    Py_CLEAR(((ValObject *)op)->value);
    return 0;
}

static void
val_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)val_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(val_i32, "i32", "val")
EXT_KW1(val_i64, "i64", "val")
EXT_KW1(val_f32, "f32", "val")
EXT_KW1(val_f64, "f64", "val")
EXT_KW1(val_v128, "v128", "val")
EXT_KW1(val_externref, "externref", "extern")
EXT_KW1(val_funcref, "funcref", "f")
EXT_KW1(val_ref_null, "ref_null", "ty")

static PyMethodDef val_methods[] = {
    {"i32", EXT_KW1_ENTRY(val_i32) | METH_CLASS, "i32(val)\n--\n\nAn i32; ints wrap to 32 bits."},
    {"i64", EXT_KW1_ENTRY(val_i64) | METH_CLASS, "i64(val)\n--\n\nAn i64; ints wrap to 64 bits."},
    {"f32", EXT_KW1_ENTRY(val_f32) | METH_CLASS, "f32(val)\n--\n\nAn f32 (rounded to single)."},
    {"f64", EXT_KW1_ENTRY(val_f64) | METH_CLASS, "f64(val)\n--\n\nAn f64."},
    {"v128", EXT_KW1_ENTRY(val_v128) | METH_CLASS,
     "v128(val)\n--\n\nA v128 as an unsigned int (lane 0 in the low bits); ints wrap to 128 "
     "bits."},
    {"externref", EXT_KW1_ENTRY(val_externref) | METH_CLASS,
     "externref(extern)\n--\n\nAn externref carrying any Python object (None = null)."},
    {"funcref", EXT_KW1_ENTRY(val_funcref) | METH_CLASS,
     "funcref(f)\n--\n\nA funcref to a Func, or None for null."},
    {"ref_null", EXT_KW1_ENTRY(val_ref_null) | METH_CLASS,
     "ref_null(ty)\n--\n\nThe null reference of reference type `ty`."},
    {"as_i32", val_as_i32, METH_NOARGS, "as_i32($self, /)\n--\n\nThe value if i32, else None."},
    {"as_i64", val_as_i64, METH_NOARGS, "as_i64($self, /)\n--\n\nThe value if i64, else None."},
    {"as_f32", val_as_f32, METH_NOARGS, "as_f32($self, /)\n--\n\nThe value if f32, else None."},
    {"as_f64", val_as_f64, METH_NOARGS, "as_f64($self, /)\n--\n\nThe value if f64, else None."},
    {"as_v128", val_as_v128, METH_NOARGS,
     "as_v128($self, /)\n--\n\nThe value (an unsigned int) if v128, else None."},
    {"as_externref", val_as_externref, METH_NOARGS,
     "as_externref($self, /)\n--\n\nThe payload if externref, else None."},
    {"as_funcref", val_as_funcref, METH_NOARGS,
     "as_funcref($self, /)\n--\n\nThe Func if funcref, else None."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef val_getset[] = {
    {"value", val_value, NULL, "The Python value.", NULL},
    {"type", val_type, NULL, "The ValType of this value.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot val_slots[] = {
    {Py_tp_new, val_new},
    {Py_tp_dealloc, val_dealloc},
    {Py_tp_traverse, val_traverse},
    {Py_tp_clear, val_clear},
    {Py_tp_richcompare, val_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_repr, val_repr},
    {Py_tp_methods, val_methods},
    {Py_tp_getset, val_getset},
    {Py_tp_doc, "Val(kind, val)\n--\n\nA WebAssembly value with its kind."},
    {0, NULL},
};

static PyType_Spec val_spec = {
    .name = "wasmtime.Val",
    .basicsize = sizeof(ValObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = val_slots,
};

int
val_register(PyObject *mod, ext_state *st)
{
    st->Val_Type = ext_add_type(mod, &val_spec, NULL);
    return st->Val_Type == NULL ? -1 : 0;
}
