/* ValType: a WebAssembly value type (wraps wasm_valtype_t of wasm.h and
 * wasmtime_valtype_t of wasmtime/types/val.h).
 *
 * The object stores the kind, and for the other reference types (anyref,
 * eqref, exnref, non-null references...) whether they are nullable and their
 * heap type; it builds a wasm_valtype_t only when C needs one.  Abstract heap
 * types are the same in every engine, so they build types from Python; a
 * concrete one ((ref $t), registered with one engine) is only described.
 * close() only marks it closed, after which it raises ValueError like every
 * Managed object.
 */
#include "../base.h"

static PyObject *
valtype_make(PyTypeObject *type, wasm_valkind_t kind)
{
    ValTypeObject *self = (ValTypeObject *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->kind = kind;
        self->nullable = true;
        self->heap = EXT_HEAP_UNKNOWN;
    }
    return (PyObject *)self;
}

/* The abstract heap types, by their text-format names. */
static const struct {
    const char *name;
    uint8_t heap;
} heaps[] = {
    {"extern", WASMTIME_HEAPTYPE_KIND_EXTERN}, {"noextern", WASMTIME_HEAPTYPE_KIND_NOEXTERN},
    {"func", WASMTIME_HEAPTYPE_KIND_FUNC},     {"nofunc", WASMTIME_HEAPTYPE_KIND_NOFUNC},
    {"any", WASMTIME_HEAPTYPE_KIND_ANY},       {"none", WASMTIME_HEAPTYPE_KIND_NONE},
    {"eq", WASMTIME_HEAPTYPE_KIND_EQ},         {"i31", WASMTIME_HEAPTYPE_KIND_I31},
    {"array", WASMTIME_HEAPTYPE_KIND_ARRAY},   {"struct", WASMTIME_HEAPTYPE_KIND_STRUCT},
    {"exn", WASMTIME_HEAPTYPE_KIND_EXN},       {"noexn", WASMTIME_HEAPTYPE_KIND_NOEXN},
};
#define NHEAPS (sizeof(heaps) / sizeof(heaps[0]))

static const char *
heap_name(uint8_t heap)
{
    for (size_t i = 0; i < NHEAPS; i++) {
        if (heaps[i].heap == heap) {
            return heaps[i].name;
        }
    }
    return NULL; /* concrete or unknown */
}

/* (ref null? heap): nullable extern and func are the plain kinds. */
static PyObject *
valtype_make_ref(PyTypeObject *type, bool nullable, uint8_t heap)
{
    if (nullable && heap == WASMTIME_HEAPTYPE_KIND_EXTERN) {
        return valtype_make(type, WASM_EXTERNREF);
    }
    if (nullable && heap == WASMTIME_HEAPTYPE_KIND_FUNC) {
        return valtype_make(type, WASM_FUNCREF);
    }
    ValTypeObject *self = (ValTypeObject *)valtype_make(type, EXT_WASM_OTHERREF);
    if (self != NULL) {
        self->nullable = nullable;
        self->heap = heap;
    }
    return (PyObject *)self;
}

PyObject *
valtype_from_c(ext_state *st, const wasm_valtype_t *vt)
{
    wasm_valkind_t kind = ext_valtype_kind(vt);
    if (kind != EXT_WASM_OTHERREF) {
        return valtype_make(st->ValType_Type, kind);
    }
    wasmtime_valtype_t t;
    wasmtime_valtype_new(vt, &t);
    PyObject *res =
        t.kind == WASMTIME_VALTYPE_KIND_REF
            ? valtype_make_ref(st->ValType_Type, t.reftype.nullable, t.reftype.heaptype.kind)
            : valtype_make(st->ValType_Type, kind);
    wasmtime_valtype_delete(&t);
    return res;
}

bool
ext_valtype_is_concrete_ref(const wasm_valtype_t *vt)
{
    if (ext_valtype_kind(vt) != EXT_WASM_OTHERREF) {
        return false;
    }
    wasmtime_valtype_t t;
    wasmtime_valtype_new(vt, &t);
    bool concrete =
        t.kind == WASMTIME_VALTYPE_KIND_REF && heap_name(t.reftype.heaptype.kind) == NULL;
    wasmtime_valtype_delete(&t);
    return concrete;
}

wasm_valtype_t *
valkind_to_valtype(wasm_valkind_t kind)
{
    if (kind == EXT_WASM_V128) {
        return wasmtime_wasm_valtype_v128();
    }
    if (kind == EXT_WASM_OTHERREF) {
        return NULL; /* built by ext_valtype_to_c instead */
    }
    return wasm_valtype_new(kind);
}

wasm_valtype_t *
ext_valtype_to_c(ext_state *st, PyObject *obj, const char *expected)
{
    if (!PyObject_TypeCheck(obj, st->ValType_Type)) {
        ext_wrong_type(st, expected, obj);
        return NULL;
    }
    ValTypeObject *v = (ValTypeObject *)obj;
    if (v->closed) {
        ALREADY_CLOSED();
        return NULL;
    }
    if (v->kind != EXT_WASM_OTHERREF) {
        wasm_valtype_t *vt = valkind_to_valtype(v->kind);
        if (vt == NULL) {
            ext_raise_msg(st, "failed to allocate ValType");
        }
        return vt;
    }
    if (heap_name(v->heap) == NULL) {
        ext_raise_msg(st, "a reference to a concrete type (ref $t) cannot be used to build types "
                          "from Python: it belongs to the engine it came from");
        return NULL;
    }
    wasmtime_valtype_t t;
    memset(&t, 0, sizeof(t));
    t.kind = WASMTIME_VALTYPE_KIND_REF;
    t.reftype.nullable = v->nullable;
    t.reftype.heaptype.kind = v->heap;
    return wasmtime_valtype_to_wasm(NULL, &t); /* no engine needed for an abstract heap type */
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

#define VALTYPE_REF_CTOR(NAME, HEAP)                                        \
    static PyObject *valtype_##NAME(PyObject *cls, PyObject *Py_UNUSED(ig)) \
    {                                                                       \
        return valtype_make_ref((PyTypeObject *)cls, true, HEAP);           \
    }
VALTYPE_REF_CTOR(anyref, WASMTIME_HEAPTYPE_KIND_ANY)
VALTYPE_REF_CTOR(eqref, WASMTIME_HEAPTYPE_KIND_EQ)
VALTYPE_REF_CTOR(i31ref, WASMTIME_HEAPTYPE_KIND_I31)
VALTYPE_REF_CTOR(structref, WASMTIME_HEAPTYPE_KIND_STRUCT)
VALTYPE_REF_CTOR(arrayref, WASMTIME_HEAPTYPE_KIND_ARRAY)
VALTYPE_REF_CTOR(exnref, WASMTIME_HEAPTYPE_KIND_EXN)
VALTYPE_REF_CTOR(nullref, WASMTIME_HEAPTYPE_KIND_NONE)
#undef VALTYPE_REF_CTOR

/* ValType.ref(heap, nullable=True): heap names an abstract heap type. */
static PyObject *
valtype_ref(PyObject *cls, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"heap", "nullable", NULL};
    PyObject *heap, *nullable = Py_True;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:ref", kwlist, &heap, &nullable)) {
        return NULL;
    }
    if (!PyUnicode_Check(heap)) {
        PyErr_Format(PyExc_TypeError, "heap must be a str such as \"any\", not %.100s",
                     Py_TYPE(heap)->tp_name);
        return NULL;
    }
    int null_ok = PyObject_IsTrue(nullable);
    if (null_ok < 0) {
        return NULL;
    }
    for (size_t i = 0; i < NHEAPS; i++) {
        if (PyUnicode_CompareWithASCIIString(heap, heaps[i].name) == 0) {
            return valtype_make_ref((PyTypeObject *)cls, null_ok != 0, heaps[i].heap);
        }
    }
    PyErr_Format(PyExc_ValueError,
                 "unknown heap type %R: expected one of extern, noextern, func, nofunc, any, "
                 "none, eq, i31, array, struct, exn, noexn",
                 heap);
    return NULL;
}

static PyObject *
valtype_str(PyObject *op)
{
    ValTypeObject *self = (ValTypeObject *)op;
    if (self->closed) {
        return ALREADY_CLOSED(), NULL;
    }
    if (self->kind == EXT_WASM_OTHERREF) {
        const char *heap = heap_name(self->heap);
        static const char *const shorthand[][2] = {
            {"any", "anyref"},         {"eq", "eqref"},
            {"i31", "i31ref"},         {"struct", "structref"},
            {"array", "arrayref"},     {"exn", "exnref"},
            {"none", "nullref"},       {"noextern", "nullexternref"},
            {"nofunc", "nullfuncref"}, {"noexn", "nullexnref"},
        };
        if (heap == NULL) {
            return PyUnicode_FromFormat("(ref %sconcrete)", self->nullable ? "null " : "");
        }
        for (size_t i = 0; self->nullable && i < sizeof(shorthand) / sizeof(shorthand[0]); i++) {
            if (strcmp(shorthand[i][0], heap) == 0) {
                return PyUnicode_FromString(shorthand[i][1]);
            }
        }
        return PyUnicode_FromFormat("(ref %s%s)", self->nullable ? "null " : "", heap);
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
        if (eq && x->kind == EXT_WASM_OTHERREF) {
            /* Two concrete types are told apart only by their engine's
             * registry: equal only as the same object. */
            eq = x->nullable == y->nullable && x->heap == y->heap &&
                 (heap_name(x->heap) != NULL || x == y);
        }
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
    {"anyref", valtype_anyref, METH_NOARGS | METH_CLASS,
     "anyref()\n--\n\nThe anyref type, (ref null any) (needs wasm_gc)."},
    {"eqref", valtype_eqref, METH_NOARGS | METH_CLASS,
     "eqref()\n--\n\nThe eqref type, (ref null eq) (needs wasm_gc)."},
    {"i31ref", valtype_i31ref, METH_NOARGS | METH_CLASS,
     "i31ref()\n--\n\nThe i31ref type, (ref null i31) (needs wasm_gc)."},
    {"structref", valtype_structref, METH_NOARGS | METH_CLASS,
     "structref()\n--\n\nThe structref type, (ref null struct) (needs wasm_gc)."},
    {"arrayref", valtype_arrayref, METH_NOARGS | METH_CLASS,
     "arrayref()\n--\n\nThe arrayref type, (ref null array) (needs wasm_gc)."},
    {"exnref", valtype_exnref, METH_NOARGS | METH_CLASS,
     "exnref()\n--\n\nThe exnref type, (ref null exn) (needs wasm_exceptions)."},
    {"nullref", valtype_nullref, METH_NOARGS | METH_CLASS,
     "nullref()\n--\n\nThe nullref type, (ref null none) (needs wasm_gc)."},
    {"ref", (PyCFunction)(void (*)(void))valtype_ref, METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "ref(heap, nullable=True)\n--\n\nA reference to the abstract heap type `heap` "
     "(\"any\", \"eq\", \"i31\", \"struct\", \"array\", \"none\", \"func\", \"nofunc\", "
     "\"extern\", \"noextern\", \"exn\", \"noexn\"); non-null when `nullable` is false."},
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
