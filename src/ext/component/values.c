/* The value classes of wasmtime.component: Variant(tag, payload=None) and
 * Record.
 *
 * Variant is the tagged form of variants, options and results (cval.c
 * decides when a value is tagged).  Record is what records come back as:
 * an object whose attributes are the WIT field names (dashes kept, so
 * getattr(r, 'label-text')).  Both compare like wasmtime-py's: Variant by
 * tag and payload, Record one-directionally (each of its fields must equal
 * the other object's attribute of that name); both are unhashable.
 */
#include "component.h"

/* ---- Variant ------------------------------------------------------------------- */

static int
variant_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"tag", "payload", NULL};
    PyObject *tag, *payload = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:Variant", kwlist, &tag, &payload)) {
        return -1;
    }
    CVariantObject *self = (CVariantObject *)op;
    Py_XSETREF(self->tag, Py_NewRef(tag));
    Py_XSETREF(self->payload, Py_NewRef(payload));
    return 0;
}

static PyObject *
variant_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    CVariantObject *self = (CVariantObject *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->tag = Py_NewRef(Py_None);
        self->payload = Py_NewRef(Py_None);
    }
    return (PyObject *)self;
}

static PyObject *
variant_repr(PyObject *op)
{
    CVariantObject *self = (CVariantObject *)op;
    return PyUnicode_FromFormat("Variant(tag=%R, payload=%R)", self->tag, self->payload);
}

static PyObject *
variant_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    CVariantObject *x = (CVariantObject *)a, *y = (CVariantObject *)b;
    int eq = PyObject_RichCompareBool(x->tag, y->tag, Py_EQ);
    if (eq == 1) {
        eq = PyObject_RichCompareBool(x->payload, y->payload, Py_EQ);
    }
    if (eq < 0) {
        return NULL;
    }
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static int
variant_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CVariantObject *)op)->tag);
    Py_VISIT(((CVariantObject *)op)->payload);
    return 0;
}

static int
variant_clear(PyObject *op)
{
    Py_CLEAR(((CVariantObject *)op)->tag);
    Py_CLEAR(((CVariantObject *)op)->payload);
    return 0;
}

static void
variant_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)variant_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMemberDef variant_members[] = {
    {"tag", T_OBJECT, offsetof(CVariantObject, tag), 0, "The case name."},
    {"payload", T_OBJECT, offsetof(CVariantObject, payload), 0, "The payload, or None."},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot variant_slots[] = {
    {Py_tp_new, variant_new},
    {Py_tp_init, variant_init},
    {Py_tp_repr, variant_repr},
    {Py_tp_richcompare, variant_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_traverse, variant_traverse},
    {Py_tp_clear, variant_clear},
    {Py_tp_dealloc, variant_dealloc},
    {Py_tp_members, variant_members},
    {Py_tp_doc, "Variant(tag, payload=None)\n--\n\n"
                "A tagged value of a variant, option or result type."},
    {0, NULL},
};

static PyType_Spec variant_spec = {
    .name = "wasmtime.component.Variant",
    .basicsize = sizeof(CVariantObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .slots = variant_slots,
};

/* ---- Record --------------------------------------------------------------------- */

static PyObject *
record_richcompare(PyObject *a, PyObject *b, int op)
{
    if (op != Py_EQ && op != Py_NE) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *dict = ((CRecordObject *)a)->dict;
    int eq = 1;
    if (dict != NULL) {
        /* A snapshot: comparing runs Python code that may change the dict. */
        PyObject *items = PyDict_Items(dict);
        if (items == NULL) {
            return NULL;
        }
        for (Py_ssize_t i = 0; eq == 1 && i < PyList_GET_SIZE(items); i++) {
            PyObject *kv = PyList_GET_ITEM(items, i);
            PyObject *other = PyObject_GetAttr(b, PyTuple_GET_ITEM(kv, 0));
            if (other == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
                    Py_DECREF(items);
                    return NULL;
                }
                PyErr_Clear();
                eq = 0;
                break;
            }
            eq = PyObject_RichCompareBool(other, PyTuple_GET_ITEM(kv, 1), Py_EQ);
            Py_DECREF(other);
        }
        Py_DECREF(items);
        if (eq < 0) {
            return NULL;
        }
    }
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyObject *
record_repr(PyObject *op)
{
    PyObject *dict = ((CRecordObject *)op)->dict;
    if (dict == NULL || PyDict_GET_SIZE(dict) == 0) {
        return PyUnicode_FromString("Record()");
    }
    int rc = Py_ReprEnter(op);
    if (rc != 0) {
        return rc > 0 ? PyUnicode_FromString("Record(...)") : NULL;
    }
    PyObject *inner = PyObject_Repr(dict);
    Py_ReprLeave(op);
    if (inner == NULL) {
        return NULL;
    }
    PyObject *res = PyUnicode_FromFormat("Record(%U)", inner);
    Py_DECREF(inner);
    return res;
}

static int
record_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CRecordObject *)op)->dict);
    return 0;
}

static int
record_clear(PyObject *op)
{
    Py_CLEAR(((CRecordObject *)op)->dict);
    return 0;
}

static void
record_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)record_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMemberDef record_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(CRecordObject, dict), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot record_slots[] = {
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_repr, record_repr},
    {Py_tp_richcompare, record_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_traverse, record_traverse},
    {Py_tp_clear, record_clear},
    {Py_tp_dealloc, record_dealloc},
    {Py_tp_members, record_members},
    {Py_tp_doc, "A record value: its fields are attributes named as in WIT."},
    {0, NULL},
};

static PyType_Spec record_spec = {
    .name = "wasmtime.component.Record",
    .basicsize = sizeof(CRecordObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .slots = record_slots,
};

int
cvalues_register(PyObject *mod, ext_state *st)
{
    st->CVariant_Type = ext_add_component_type(mod, &variant_spec, NULL);
    st->CRecord_Type =
        st->CVariant_Type == NULL ? NULL : ext_add_component_type(mod, &record_spec, NULL);
    return st->CRecord_Type == NULL ? -1 : 0;
}
