/* Limits: the min/max pair of memory and table types (wasm_limits_t).
 *
 * A plain value object with writable `min` and `max` (None = unbounded),
 * compared by value and unhashable, as in wasmtime-py.
 */
#include "../base.h"

PyObject *
limits_new(ext_state *st, uint64_t min, bool has_max, uint64_t max)
{
    PyObject *pmin = PyLong_FromUnsignedLongLong(min);
    if (pmin == NULL) {
        return NULL;
    }
    PyObject *pmax = has_max ? PyLong_FromUnsignedLongLong(max) : Py_NewRef(Py_None);
    if (pmax == NULL) {
        Py_DECREF(pmin);
        return NULL;
    }
    LimitsObject *self = PyObject_GC_New(LimitsObject, st->Limits_Type);
    if (self == NULL) {
        Py_DECREF(pmin);
        Py_DECREF(pmax);
        return NULL;
    }
    self->min = pmin;
    self->max = pmax;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static int
limits_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"min", "max", NULL};
    LimitsObject *self = (LimitsObject *)op;
    PyObject *min, *max;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Limits", kwlist, &min, &max)) {
        return -1;
    }
    Py_XSETREF(self->min, Py_NewRef(min));
    Py_XSETREF(self->max, Py_NewRef(max));
    return 0;
}

static PyObject *
limits_richcompare(PyObject *a, PyObject *b, int op)
{
    if (op != Py_EQ && op != Py_NE) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    int eq = 0;
    if (PyObject_TypeCheck(b, Py_TYPE(a))) {
        LimitsObject *x = (LimitsObject *)a, *y = (LimitsObject *)b;
        PyObject *xmin = x->min ? x->min : Py_None, *ymin = y->min ? y->min : Py_None;
        PyObject *xmax = x->max ? x->max : Py_None, *ymax = y->max ? y->max : Py_None;
        eq = PyObject_RichCompareBool(xmin, ymin, Py_EQ);
        if (eq > 0) {
            eq = PyObject_RichCompareBool(xmax, ymax, Py_EQ);
        }
        if (eq < 0) {
            return NULL;
        }
    }
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyObject *
limits_repr(PyObject *op)
{
    LimitsObject *self = (LimitsObject *)op;
    return PyUnicode_FromFormat("Limits(%R, %R)", self->min ? self->min : Py_None,
                                self->max ? self->max : Py_None);
}

static int
limits_traverse(PyObject *op, visitproc visit, void *arg)
{
    LimitsObject *self = (LimitsObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->min);
    Py_VISIT(self->max);
    return 0;
}

static int
limits_clear(PyObject *op)
{
    LimitsObject *self = (LimitsObject *)op;
    Py_CLEAR(self->min);
    Py_CLEAR(self->max);
    return 0;
}

static void
limits_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)limits_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMemberDef limits_members[] = {
    {"min", T_OBJECT, offsetof(LimitsObject, min), 0, "The minimum size."},
    {"max", T_OBJECT, offsetof(LimitsObject, max), 0, "The maximum size, or None."},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot limits_slots[] = {
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, limits_init},
    {Py_tp_dealloc, limits_dealloc},
    {Py_tp_traverse, limits_traverse},
    {Py_tp_clear, limits_clear},
    {Py_tp_richcompare, limits_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_repr, limits_repr},
    {Py_tp_members, limits_members},
    {Py_tp_doc, "Limits(min, max)\n--\n\nSize limits of a memory or table; max None = unbounded."},
    {0, NULL},
};

static PyType_Spec limits_spec = {
    .name = "wasmtime.Limits",
    .basicsize = sizeof(LimitsObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = limits_slots,
};

int
limits_register(PyObject *mod, ext_state *st)
{
    st->Limits_Type = ext_add_type(mod, &limits_spec, NULL);
    return st->Limits_Type == NULL ? -1 : 0;
}
