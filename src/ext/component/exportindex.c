/* ExportIndex: an opaque index of a component export (wraps
 * wasmtime_component_export_index_t of wasmtime/component/component.h).
 *
 * Made by Component.get_export_index and Instance.get_export_index
 * (citems.c); it owns its index.  Wasmtime checks that an index is used
 * with the component it came from (or an instance of it), so a foreign
 * index simply finds nothing.
 */
#include "component.h"

static PyObject *
exportindex_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CExportIndexObject *self = (CExportIndexObject *)op;
    if (self->index != NULL) {
        wasmtime_component_export_index_delete(self->index);
        self->index = NULL;
    }
    Py_RETURN_NONE;
}

static void
exportindex_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    CExportIndexObject *self = (CExportIndexObject *)op;
    if (self->index != NULL) {
        wasmtime_component_export_index_delete(self->index);
    }
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef exportindex_methods[] = {
    {"close", exportindex_close, METH_NOARGS, "close($self, /)\n--\n\nFree the index."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot exportindex_slots[] = {
    {Py_tp_new, ext_no_construct},
    {Py_tp_dealloc, exportindex_dealloc},
    {Py_tp_methods, exportindex_methods},
    {Py_tp_doc, "An index of a component export, from get_export_index()."},
    {0, NULL},
};

static PyType_Spec exportindex_spec = {
    .name = "wasmtime.component.ExportIndex",
    .basicsize = sizeof(CExportIndexObject),
    .flags = EXT_TPFLAGS,
    .slots = exportindex_slots,
};

int
cexportindex_register(PyObject *mod, ext_state *st)
{
    PyObject *bases = PyTuple_Pack(1, st->Managed_Type);
    if (bases == NULL) {
        return -1;
    }
    st->CExportIndex_Type = ext_add_component_type(mod, &exportindex_spec, bases);
    Py_DECREF(bases);
    return st->CExportIndex_Type == NULL ? -1 : 0;
}
