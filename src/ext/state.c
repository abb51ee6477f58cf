/* Floor 1: the module definition pointer and type registration.
 *
 * extension.c owns the PyModuleDef and sets `ext_def` before anything else
 * runs; every file finds its module state through it (state.h), so no file
 * needs to reach up to extension.c.
 */
#include "state.h"

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
