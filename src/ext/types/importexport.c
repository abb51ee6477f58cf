/* ImportType and ExportType: what a module imports and exports (wasm.h
 * wasm_importtype_t / wasm_exporttype_t).
 *
 * The C vectors are read once, when Module.imports/.exports is asked for, and
 * copied into Python values here; the objects own no C memory.  close() only
 * marks them closed (then every getter raises ValueError).
 */
#include "../base.h"

typedef struct {
    PyObject_HEAD
    PyObject *module; /* strong: str (ImportType only, else NULL) */
    PyObject *name;   /* strong: str or None */
    PyObject *type;   /* strong: FuncType/GlobalType/... */
    bool closed;
} ImportExportObject;

static PyObject *
importexport_make(ext_state *st, PyTypeObject *tp, const wasm_name_t *module,
                  const wasm_name_t *name, const wasm_externtype_t *ty)
{
    ImportExportObject *self = PyObject_GC_New(ImportExportObject, tp);
    if (self == NULL) {
        return NULL;
    }
    self->closed = false;
    self->module = module != NULL ? ext_str_from_name(module) : NULL;
    self->name = name != NULL ? ext_str_from_name(name) : Py_NewRef(Py_None);
    self->type = externtype_to_py(st, ty);
    PyObject_GC_Track(self);
    if ((module != NULL && self->module == NULL) || self->name == NULL || self->type == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

PyObject *
importtypes_list(ext_state *st, const wasm_importtype_vec_t *vec)
{
    PyObject *list = PyList_New((Py_ssize_t)vec->size);
    for (size_t i = 0; list != NULL && i < vec->size; i++) {
        const wasm_importtype_t *it = vec->data[i];
        PyObject *item = importexport_make(st, st->ImportType_Type, wasm_importtype_module(it),
                                           wasm_importtype_name(it), wasm_importtype_type(it));
        if (item == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

PyObject *
exporttypes_list(ext_state *st, const wasm_exporttype_vec_t *vec)
{
    PyObject *list = PyList_New((Py_ssize_t)vec->size);
    for (size_t i = 0; list != NULL && i < vec->size; i++) {
        const wasm_exporttype_t *et = vec->data[i];
        PyObject *item = importexport_make(st, st->ExportType_Type, NULL, wasm_exporttype_name(et),
                                           wasm_exporttype_type(et));
        if (item == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

static PyObject *
importexport_field(PyObject *op, void *closure)
{
    ImportExportObject *self = (ImportExportObject *)op;
    if (self->closed) {
        return ALREADY_CLOSED(), NULL;
    }
    PyObject *v = *(PyObject **)((char *)self + (size_t)closure);
    return Py_NewRef(v != NULL ? v : Py_None);
}

static PyObject *
importexport_repr(PyObject *op)
{
    ImportExportObject *self = (ImportExportObject *)op;
    if (self->module != NULL) {
        return PyUnicode_FromFormat("<ImportType %R %R: %R>", self->module, self->name,
                                    self->type);
    }
    return PyUnicode_FromFormat("<ExportType %R: %R>", self->name, self->type);
}

static PyObject *
importexport_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    ((ImportExportObject *)op)->closed = true;
    Py_RETURN_NONE;
}

static int
importexport_traverse(PyObject *op, visitproc visit, void *arg)
{
    ImportExportObject *self = (ImportExportObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->module);
    Py_VISIT(self->name);
    Py_VISIT(self->type);
    return 0;
}

static int
importexport_clear(PyObject *op)
{
    ImportExportObject *self = (ImportExportObject *)op;
    Py_CLEAR(self->module);
    Py_CLEAR(self->name);
    Py_CLEAR(self->type);
    return 0;
}

static void
importexport_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)importexport_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef importexport_methods[] = {
    {"close", importexport_close, METH_NOARGS, "close($self, /)\n--\n\nMark as closed."},
    {NULL, NULL, 0, NULL},
};

#define FIELD(F) ((void *)offsetof(ImportExportObject, F))

static PyGetSetDef importtype_getset[] = {
    {"module", importexport_field, NULL, "The module name imported from.", FIELD(module)},
    {"name", importexport_field, NULL, "The field name imported, or None.", FIELD(name)},
    {"type", importexport_field, NULL, "The type of the imported item.", FIELD(type)},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyGetSetDef exporttype_getset[] = {
    {"name", importexport_field, NULL, "The export's name.", FIELD(name)},
    {"type", importexport_field, NULL, "The type of the exported item.", FIELD(type)},
    {NULL, NULL, NULL, NULL, NULL},
};

#define IE_SPEC(NAME, PYNAME, DOC)                                                     \
    static PyType_Slot NAME##_slots[] = {                                              \
        {Py_tp_dealloc, importexport_dealloc},                                         \
        {Py_tp_traverse, importexport_traverse},                                       \
        {Py_tp_clear, importexport_clear},                                             \
        {Py_tp_repr, importexport_repr},                                               \
        {Py_tp_methods, importexport_methods},                                         \
        {Py_tp_getset, NAME##_getset},                                                 \
        {Py_tp_doc, DOC},                                                              \
        {0, NULL},                                                                     \
    };                                                                                 \
    static PyType_Spec NAME##_spec = {                                                 \
        .name = "wasmtime." PYNAME,                                                    \
        .basicsize = sizeof(ImportExportObject),                                       \
        .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION, \
        .slots = NAME##_slots,                                                         \
    };
IE_SPEC(importtype, "ImportType", "One import of a Module: module, name and type.")
IE_SPEC(exporttype, "ExportType", "One export of a Module: name and type.")
#undef IE_SPEC

int
importexport_register(PyObject *mod, ext_state *st)
{
    PyObject *base = (PyObject *)st->Managed_Type;
    if ((st->ImportType_Type = ext_add_type(mod, &importtype_spec, base)) == NULL ||
        (st->ExportType_Type = ext_add_type(mod, &exporttype_spec, base)) == NULL) {
        return -1;
    }
    return 0;
}
