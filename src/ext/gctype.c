/* StructType and ArrayType: GC types registered with an engine (wraps
 * wasmtime/types/structref.h and arrayref.h).
 *
 * Made from Python (StructType(engine, [FieldType, ...]),
 * ArrayType(engine, FieldType)) or read from an object
 * (StructRef.type(store), ArrayRef.type(store)).  Each holds the Engine it
 * is registered with; StructRef.new and ArrayRef.new refuse a type of
 * another engine before Wasmtime sees it (Wasmtime would abort).  Types
 * made from Python are canonicalized as wasm's are: a final struct type
 * with no supertype and the same fields is the type a module declares as
 * (struct ...) with those fields.
 */
#include "runtime.h"

/* The engine argument: an open Engine.  NULL with an exception. */
static EngineObject *
gctype_engine(ext_state *st, PyObject *obj)
{
    if (!PyObject_TypeCheck(obj, st->Engine_Type)) {
        ext_wrong_type(st, "an Engine", obj);
        return NULL;
    }
    EngineObject *e = (EngineObject *)obj;
    if (e->engine == NULL) {
        ALREADY_CLOSED();
        return NULL;
    }
    return e;
}

static PyObject *
structtype_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"engine", "fields", NULL};
    PyObject *engine, *fields;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:StructType", kwlist, &engine, &fields)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    /* Arguments first: iterating may run Python code. */
    PyObject *seq = PySequence_Fast(fields, "StructType fields must be a sequence of FieldType");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > 10000) {
        Py_DECREF(seq);
        return ext_raise_msg(st, "a struct type has at most 10000 fields, %zd given", n);
    }
    wasmtime_field_type_t *fts = PyMem_Calloc((size_t)n + 1, sizeof(*fts));
    if (fts == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    Py_ssize_t done = 0;
    for (; done < n; done++) {
        if (fieldtype_to_c(st, PySequence_Fast_GET_ITEM(seq, done), &fts[done]) < 0) {
            break;
        }
    }
    PyObject *res = NULL;
    EngineObject *e = done == n ? gctype_engine(st, engine) : NULL;
    if (e != NULL) {
        wasmtime_struct_type_t *ty = wasmtime_struct_type_new(e->engine, fts, (size_t)n);
        res = ty == NULL ? ext_raise_msg(st, "invalid struct type")
                         : ext_gctype_wrap(st, engine, false, ty);
    }
    for (Py_ssize_t i = 0; i < done; i++) {
        wasmtime_field_type_delete(&fts[i]);
    }
    PyMem_Free(fts);
    Py_DECREF(seq);
    return res;
}

static PyObject *
arraytype_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"engine", "element", NULL};
    PyObject *engine, *element;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:ArrayType", kwlist, &engine, &element)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    wasmtime_field_type_t ft;
    if (fieldtype_to_c(st, element, &ft) < 0) {
        return NULL;
    }
    PyObject *res = NULL;
    EngineObject *e = gctype_engine(st, engine);
    if (e != NULL) {
        wasmtime_array_type_t *ty = wasmtime_array_type_new(e->engine, &ft);
        res = ty == NULL ? ext_raise_msg(st, "invalid array type")
                         : ext_gctype_wrap(st, engine, true, ty);
    }
    wasmtime_field_type_delete(&ft);
    return res;
}

static PyObject *
structtype_fields(PyObject *op, void *Py_UNUSED(closure))
{
    const wasmtime_struct_type_t *ty = ((GcTypeObject *)op)->ty;
    ext_state *st = ext_state_from_type(Py_TYPE(op));
    if (st == NULL) {
        return NULL;
    }
    size_t n = wasmtime_struct_type_num_fields(ty);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list != NULL && i < n; i++) {
        wasmtime_field_type_t ft;
        PyObject *item = NULL;
        if (wasmtime_struct_type_field(ty, i, &ft) != 0) {
            item = fieldtype_from_c(st, &ft);
            wasmtime_field_type_delete(&ft);
        }
        else {
            PyErr_SetString(PyExc_IndexError, "field index out of range");
        }
        if (item == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

static PyObject *
arraytype_element(PyObject *op, void *Py_UNUSED(closure))
{
    ext_state *st = ext_state_from_type(Py_TYPE(op));
    if (st == NULL) {
        return NULL;
    }
    wasmtime_field_type_t ft;
    wasmtime_array_type_element(((GcTypeObject *)op)->ty, &ft);
    PyObject *res = fieldtype_from_c(st, &ft);
    wasmtime_field_type_delete(&ft);
    return res;
}

static PyObject *
gctype_engine_get(PyObject *op, void *Py_UNUSED(closure))
{
    return Py_NewRef(((GcTypeObject *)op)->engine);
}

static PyObject *
structtype_repr(PyObject *op)
{
    PyObject *fields = structtype_fields(op, NULL);
    if (fields == NULL) {
        return NULL;
    }
    PyObject *res = PyUnicode_FromFormat("StructType(%R)", fields);
    Py_DECREF(fields);
    return res;
}

static PyObject *
arraytype_repr(PyObject *op)
{
    PyObject *elem = arraytype_element(op, NULL);
    if (elem == NULL) {
        return NULL;
    }
    PyObject *res = PyUnicode_FromFormat("ArrayType(%R)", elem);
    Py_DECREF(elem);
    return res;
}

static int
gctype_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((GcTypeObject *)op)->engine);
    return 0;
}

static int
gctype_clear(PyObject *op)
{
    Py_CLEAR(((GcTypeObject *)op)->engine);
    return 0;
}

static void
gctype_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    GcTypeObject *self = (GcTypeObject *)op;
    PyObject_GC_UnTrack(op);
    (void)gctype_clear(op);
    ext_state *st = ext_state_from_type(tp);
    if (st != NULL && tp == st->ArrayType_Type) {
        wasmtime_array_type_delete(self->ty);
    }
    else {
        wasmtime_struct_type_delete(self->ty);
    }
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyGetSetDef structtype_getset[] = {
    {"fields", structtype_fields, NULL, "The FieldTypes of the fields, in order.", NULL},
    {"engine", gctype_engine_get, NULL, "The Engine the type is registered with.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyGetSetDef arraytype_getset[] = {
    {"element", arraytype_element, NULL, "The FieldType of the elements.", NULL},
    {"engine", gctype_engine_get, NULL, "The Engine the type is registered with.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot structtype_slots[] = {
    {Py_tp_new, structtype_new},
    {Py_tp_dealloc, gctype_dealloc},
    {Py_tp_traverse, gctype_traverse},
    {Py_tp_clear, gctype_clear},
    {Py_tp_repr, structtype_repr},
    {Py_tp_getset, structtype_getset},
    {Py_tp_doc, "StructType(engine, fields)\n--\n\nA GC struct type registered with `engine`; "
                "`fields` is a list of FieldType."},
    {0, NULL},
};

static PyType_Slot arraytype_slots[] = {
    {Py_tp_new, arraytype_new},
    {Py_tp_dealloc, gctype_dealloc},
    {Py_tp_traverse, gctype_traverse},
    {Py_tp_clear, gctype_clear},
    {Py_tp_repr, arraytype_repr},
    {Py_tp_getset, arraytype_getset},
    {Py_tp_doc, "ArrayType(engine, element)\n--\n\nA GC array type registered with `engine`; "
                "`element` is a FieldType."},
    {0, NULL},
};

static PyType_Spec structtype_spec = {
    .name = "wasmtime.StructType",
    .basicsize = sizeof(GcTypeObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = structtype_slots,
};

static PyType_Spec arraytype_spec = {
    .name = "wasmtime.ArrayType",
    .basicsize = sizeof(GcTypeObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = arraytype_slots,
};

int
gctype_register(PyObject *mod, ext_state *st)
{
    st->StructType_Type = ext_add_type(mod, &structtype_spec, NULL);
    if (st->StructType_Type == NULL) {
        return -1;
    }
    st->ArrayType_Type = ext_add_type(mod, &arraytype_spec, NULL);
    return st->ArrayType_Type == NULL ? -1 : 0;
}
