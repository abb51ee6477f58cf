/* Floor 1: the module definition pointer and type registration.
 *
 * extension.c owns the PyModuleDef and sets `ext_def` before anything else
 * runs; every file finds its module state through it (state.h), so no file
 * needs to reach up to extension.c.
 */
#include "state.h"

#include <string.h>

PyModuleDef *ext_def;

PyTypeObject *
ext_add_type(PyObject *mod, PyType_Spec *spec, PyObject *bases)
{
    PyTypeObject *tp = (PyTypeObject *)PyType_FromModuleAndSpec(mod, spec, bases);
    if (tp == NULL) {
        return NULL;
    }
    if (PyModule_AddType(mod, tp) < 0) {
        Py_DECREF(tp);
        return NULL;
    }
    return tp;
}

PyTypeObject *
ext_add_component_type(PyObject *mod, PyType_Spec *spec, PyObject *bases)
{
    ext_state *st = (ext_state *)PyModule_GetState(mod);
    if (st->component_mod == NULL) {
        st->component_mod = PyModule_New("wasmtime._ext.component");
        if (st->component_mod == NULL ||
            PyModule_AddObjectRef(mod, "component", st->component_mod) < 0) {
            return NULL;
        }
    }
    PyTypeObject *tp = (PyTypeObject *)PyType_FromModuleAndSpec(mod, spec, bases);
    if (tp == NULL) {
        return NULL;
    }
    if (PyModule_AddType(st->component_mod, tp) < 0) {
        Py_DECREF(tp);
        return NULL;
    }
    return tp;
}

PyObject *
ext_no_construct(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    const char *dot = strrchr(type->tp_name, '.');
    PyErr_Format(st->WasmtimeError, "Cannot directly construct a `%s`",
                 dot != NULL ? dot + 1 : type->tp_name);
    return NULL;
}
