/* ValType: a WebAssembly value type (wraps wasm_valtype_t of wasm.h).
 *
 * A value type is fully described by its kind, so the object stores the
 * kind and builds a wasm_valtype_t only when C needs one.  close() only marks
 * it closed, after which it raises ValueError like every Managed object.
 */
#include "../base.h"

static PyObject *
valtype_make(PyTypeObject *type, wasm_valkind_t kind)
{
    ValTypeObject *self = (ValTypeObject *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->kind = kind;
    }
    return (PyObject *)self;
}

wasm_valkind_t
ext_valtype_kind(const wasm_valtype_t *vt)
{
    wasmtime_valtype_t t;
    wasmtime_valtype_new(vt, &t);
    wasm_valkind_t kind = EXT_WASM_OTHERREF;
    switch (t.kind) {
    case WASMTIME_VALTYPE_KIND_I32: kind = WASM_I32; break;
    case WASMTIME_VALTYPE_KIND_I64: kind = WASM_I64; break;
    case WASMTIME_VALTYPE_KIND_F32: kind = WASM_F32; break;
    case WASMTIME_VALTYPE_KIND_F64: kind = WASM_F64; break;
    case WASMTIME_VALTYPE_KIND_V128: kind = EXT_WASM_V128; break;
    case WASMTIME_VALTYPE_KIND_REF:
        if (t.reftype.nullable && t.reftype.heaptype.kind == WASMTIME_HEAPTYPE_KIND_EXTERN) {
            kind = WASM_EXTERNREF;
        }
        else if (t.reftype.nullable && t.reftype.heaptype.kind == WASMTIME_HEAPTYPE_KIND_FUNC) {
            kind = WASM_FUNCREF;
        }
        break;
    default: break;
    }
    wasmtime_valtype_delete(&t);
    return kind;
}

wasmtime_valkind_t
ext_valtype_wasmtime_kind(const wasm_valtype_t *vt)
{
    wasm_valkind_t k = ext_valtype_kind(vt);
    if (k != EXT_WASM_OTHERREF) {
        return ext_wasmtime_kind_of(k);
    }
    wasmtime_valtype_t t;
    wasmtime_valtype_new(vt, &t);
    wasmtime_valkind_t kind = EXT_NO_WASMTIME_KIND;
    if (t.kind == WASMTIME_VALTYPE_KIND_REF) {
        switch (t.reftype.heaptype.kind) {
        case WASMTIME_HEAPTYPE_KIND_ANY:
        case WASMTIME_HEAPTYPE_KIND_NONE:
        case WASMTIME_HEAPTYPE_KIND_EQ:
        case WASMTIME_HEAPTYPE_KIND_I31:
        case WASMTIME_HEAPTYPE_KIND_ARRAY:
        case WASMTIME_HEAPTYPE_KIND_CONCRETE_ARRAY:
        case WASMTIME_HEAPTYPE_KIND_STRUCT:
        case WASMTIME_HEAPTYPE_KIND_CONCRETE_STRUCT: kind = WASMTIME_ANYREF; break;
        case WASMTIME_HEAPTYPE_KIND_EXN:
        case WASMTIME_HEAPTYPE_KIND_CONCRETE_EXN:
        case WASMTIME_HEAPTYPE_KIND_NOEXN: kind = WASMTIME_EXNREF; break;
        default: break;
        }
    }
    wasmtime_valtype_delete(&t);
    return kind;
}

PyObject *
valtype_from_kind(ext_state *st, wasm_valkind_t kind)
{
    return valtype_make(st->ValType_Type, kind);
}

static PyObject *
valtype_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    ext_state *st = ext_state_from_type(type);
    return st == NULL ? NULL : ext_raise_msg(st, "cannot construct directly");
}

#define VALTYPE_CTOR(NAME, KIND)                                            \
    static PyObject *valtype_##NAME(PyObject *cls, PyObject *Py_UNUSED(ig)) \
    {                                                                       \
        return valtype_make((PyTypeObject *)cls, KIND);                     \
    }
VALTYPE_CTOR(i32, WASM_I32)
VALTYPE_CTOR(i64, WASM_I64)
VALTYPE_CTOR(f32, WASM_F32)
VALTYPE_CTOR(f64, WASM_F64)
VALTYPE_CTOR(v128, EXT_WASM_V128)
VALTYPE_CTOR(externref, WASM_EXTERNREF)
VALTYPE_CTOR(funcref, WASM_FUNCREF)
#undef VALTYPE_CTOR

static PyObject *
valtype_str(PyObject *op)
{
    ValTypeObject *self = (ValTypeObject *)op;
    if (self->closed) {
        return ALREADY_CLOSED(), NULL;
    }
    const char *name = ext_wasm_kind_name(self->kind);
    if (name == NULL) {
        return PyUnicode_FromFormat("ValType(%d)", (int)self->kind);
    }
    return PyUnicode_FromString(name);
}

static PyObject *
valtype_richcompare(PyObject *a, PyObject *b, int op)
{
    if (op != Py_EQ && op != Py_NE) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    bool eq = false;
    if (Py_TYPE(b) == Py_TYPE(a) || PyObject_TypeCheck(b, Py_TYPE(a))) {
        ValTypeObject *x = (ValTypeObject *)a, *y = (ValTypeObject *)b;
        if (x->closed || y->closed) {
            return ALREADY_CLOSED(), NULL;
        }
        eq = x->kind == y->kind;
    }
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyObject *
valtype_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    ((ValTypeObject *)op)->closed = true;
    Py_RETURN_NONE;
}

static void
valtype_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef valtype_methods[] = {
    {"i32", valtype_i32, METH_NOARGS | METH_CLASS, "i32()\n--\n\nThe i32 type."},
    {"i64", valtype_i64, METH_NOARGS | METH_CLASS, "i64()\n--\n\nThe i64 type."},
    {"f32", valtype_f32, METH_NOARGS | METH_CLASS, "f32()\n--\n\nThe f32 type."},
    {"f64", valtype_f64, METH_NOARGS | METH_CLASS, "f64()\n--\n\nThe f64 type."},
    {"v128", valtype_v128, METH_NOARGS | METH_CLASS,
     "v128()\n--\n\nThe v128 type (values are unsigned 128-bit ints)."},
    {"externref", valtype_externref, METH_NOARGS | METH_CLASS,
     "externref()\n--\n\nThe externref type (host references)."},
    {"funcref", valtype_funcref, METH_NOARGS | METH_CLASS,
     "funcref()\n--\n\nThe funcref type (function references)."},
    {"close", valtype_close, METH_NOARGS, "close($self, /)\n--\n\nMark as closed."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot valtype_slots[] = {
    {Py_tp_new, valtype_new},
    {Py_tp_dealloc, valtype_dealloc},
    {Py_tp_str, valtype_str},
    {Py_tp_repr, valtype_str},
    {Py_tp_richcompare, valtype_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_methods, valtype_methods},
    {Py_tp_doc, "The type of a WebAssembly value; made with ValType.i32() and friends."},
    {0, NULL},
};

static PyType_Spec valtype_spec = {
    .name = "wasmtime.ValType",
    .basicsize = sizeof(ValTypeObject),
    .flags = EXT_TPFLAGS,
    .slots = valtype_slots,
};

int
valtype_register(PyObject *mod, ext_state *st)
{
    st->ValType_Type = ext_add_type(mod, &valtype_spec, (PyObject *)st->Managed_Type);
    return st->ValType_Type == NULL ? -1 : 0;
}
