/* AnyRef and EqRef: references of wasm's `any` hierarchy (wraps
 * wasmtime/anyref.h).
 *
 * Every non-null, non-i31 reference of the hierarchy comes to Python as an
 * AnyRef, of the most precise class: StructRef and ArrayRef (structref.c,
 * arrayref.c) for structs and arrays, EqRef for other eq objects, AnyRef for
 * the rest (e.g. `any.convert_extern` of a host reference).  StructRef and
 * ArrayRef derive from EqRef, EqRef from AnyRef; all share AnyRefObject.
 * i31 values are not objects: they cross as Python ints.
 *
 * An AnyRef holds its Store (strong) and a rooted wasmtime_anyref_t; it goes
 * back into wasm as the same reference, into its own Store only (convert.c
 * checks).  The root is released by dealloc while the Store lives; a closed
 * Store took its roots with it.  Only the runtime creates them (or
 * StructRef.new / ArrayRef.new).
 *
 * Equality is identity of the GC object: two AnyRefs are equal when they
 * belong to the same Store and wasmtime_anyref_to_raw() gives the same
 * value, which is the object's index in the store's GC heap.  Wasmtime's
 * collector (the deferred reference-counting one; the C API offers no
 * other) never moves an object, and the root held keeps it alive, so the
 * index is stable for the wrapper's life; it is read once and cached, so
 * hash() stays the same even after the Store is closed.
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

static PyObject *
anyref_field(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    return ext_gcref_access((AnyRefObject *)op, args[0], args[1], NULL, false);
}

static PyObject *
anyref_set_field(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    return ext_gcref_access((AnyRefObject *)op, args[0], args[1], args[2], false);
}

static PyObject *
anyref_get(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    return ext_gcref_access((AnyRefObject *)op, args[0], args[1], NULL, true);
}

static PyObject *
anyref_set(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    return ext_gcref_access((AnyRefObject *)op, args[0], args[1], args[2], true);
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
    return PyUnicode_FromFormat("<%s at %p>", Py_TYPE(op)->tp_name, op);
}

/* The object's index in its store's GC heap (see the top); 0 or -1 with
 * ValueError when it was never read and the Store is closed. */
static int
anyref_identity(AnyRefObject *self, uint32_t *out)
{
    if (!self->has_raw) {
        if (self->store == NULL) {
            ALREADY_CLOSED();
            return -1;
        }
        if (ext_store_usable(self->store) < 0) {
            return -1;
        }
        self->raw = wasmtime_anyref_to_raw(self->store->context, &self->ref);
        self->has_raw = true;
    }
    *out = self->raw;
    return 0;
}

static PyObject *
anyref_richcompare(PyObject *a, PyObject *b, int op)
{
    ext_state *st = ext_state_from_type(Py_TYPE(a));
    if (st == NULL) {
        return NULL;
    }
    if ((op != Py_EQ && op != Py_NE) || !PyObject_TypeCheck(b, st->AnyRef_Type)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    AnyRefObject *x = (AnyRefObject *)a, *y = (AnyRefObject *)b;
    bool eq = a == b;
    if (!eq && x->store == y->store) {
        uint32_t rx, ry;
        if (anyref_identity(x, &rx) < 0 || anyref_identity(y, &ry) < 0) {
            return NULL;
        }
        eq = rx == ry;
    }
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static Py_hash_t
anyref_hash(PyObject *op)
{
    AnyRefObject *self = (AnyRefObject *)op;
    uint32_t raw;
    if (anyref_identity(self, &raw) < 0) {
        return -1;
    }
    Py_hash_t h = (Py_hash_t)(((uintptr_t)self->store >> 4) * 1000003u) ^ (Py_hash_t)raw;
    return h == -1 ? -2 : h;
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
    {Py_tp_richcompare, anyref_richcompare},
    {Py_tp_hash, anyref_hash},
    {Py_tp_methods, anyref_methods},
    {Py_tp_doc, "A wasm GC reference of the any hierarchy, bound to its Store; passed back "
                "into wasm it is the same reference.  Equal when it is the same GC object."},
    {0, NULL},
};

static PyType_Spec anyref_spec = {
    .name = "wasmtime.AnyRef",
    .basicsize = sizeof(AnyRefObject),
    .flags =
        EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_BASETYPE,
    .slots = anyref_slots,
};

static PyType_Slot eqref_slots[] = {
    {Py_tp_doc, "A wasm GC reference of the eq hierarchy (an AnyRef that ref.eq can compare): "
                "StructRef and ArrayRef derive from it."},
    {0, NULL},
};

static PyType_Spec eqref_spec = {
    .name = "wasmtime.EqRef",
    .basicsize = sizeof(AnyRefObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_BASETYPE,
    /* GC support (traverse, clear) is inherited from AnyRef */
    .slots = eqref_slots,
};

int
anyref_register(PyObject *mod, ext_state *st)
{
    st->AnyRef_Type = ext_add_type(mod, &anyref_spec, NULL);
    if (st->AnyRef_Type == NULL) {
        return -1;
    }
    st->EqRef_Type = ext_add_type(mod, &eqref_spec, (PyObject *)st->AnyRef_Type);
    return st->EqRef_Type == NULL ? -1 : 0;
}
