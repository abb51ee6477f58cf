/* The item types of wasmtime.component: ComponentType,
 * ComponentInstanceType, ModuleType, FuncType and ComponentExtern (wraps
 * wasmtime/component/types/{component,instance,module,func}.h).
 *
 * Each owns one C type pointer (CTypeObject, freed by ctype_delete).  A
 * ComponentExtern points into the type it came from, so it holds that
 * type object strongly.  All are made by the runtime only.
 */
#include "component.h"

static const wasm_engine_t *
types_engine_arg(ext_state *st, PyObject *engine)
{
    if (!PyObject_TypeCheck(engine, st->Engine_Type)) {
        ext_wrong_type(st, "an Engine", engine);
        return NULL;
    }
    EngineObject *eng = (EngineObject *)engine;
    EXT_CHECK_OPEN(eng->engine, NULL);
    return eng->engine;
}

/* ---- the shared CTypeObject protocol ---------------------------------------- */

static PyObject *
ctype_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CTypeObject *self = (CTypeObject *)op;
    if (self->ty != NULL) {
        ctype_delete(self->kind, self->ty);
        self->ty = NULL;
    }
    Py_RETURN_NONE;
}

/* ---- ComponentType and ComponentInstanceType --------------------------------- */

static PyObject *
externs(PyObject *op, PyObject *engine, bool exports)
{
    CTypeObject *self = (CTypeObject *)op;
    const wasm_engine_t *e = types_engine_arg(self->st, engine);
    return e == NULL ? NULL : cextern_dict(self->st, op, e, exports);
}

static PyObject *
componenttype_imports(PyObject *op, PyObject *engine)
{
    return externs(op, engine, false);
}

static PyObject *
componenttype_exports(PyObject *op, PyObject *engine)
{
    return externs(op, engine, true);
}

/* ---- ModuleType ---------------------------------------------------------------- */

static PyObject *
moduletype_list(PyObject *op, PyObject *engine, bool exports)
{
    CTypeObject *self = (CTypeObject *)op;
    const wasm_engine_t *e = types_engine_arg(self->st, engine);
    if (e == NULL) {
        return NULL;
    }
    EXT_CHECK_OPEN(self->ty, NULL);
    PyObject *res;
    if (exports) {
        wasm_exporttype_vec_t vec;
        size_t n = wasmtime_module_type_export_count(self->ty, e);
        wasm_exporttype_vec_new_uninitialized(&vec, n);
        for (size_t i = 0; i < n; i++) {
            vec.data[i] = wasmtime_module_type_export_nth(self->ty, e, i);
        }
        res = exporttypes_list(self->st, &vec);
        wasm_exporttype_vec_delete(&vec);
    }
    else {
        wasm_importtype_vec_t vec;
        size_t n = wasmtime_module_type_import_count(self->ty, e);
        wasm_importtype_vec_new_uninitialized(&vec, n);
        for (size_t i = 0; i < n; i++) {
            vec.data[i] = wasmtime_module_type_import_nth(self->ty, e, i);
        }
        res = importtypes_list(self->st, &vec);
        wasm_importtype_vec_delete(&vec);
    }
    return res;
}

static PyObject *
moduletype_imports(PyObject *op, PyObject *engine)
{
    return moduletype_list(op, engine, false);
}

static PyObject *
moduletype_exports(PyObject *op, PyObject *engine)
{
    return moduletype_list(op, engine, true);
}

/* ---- FuncType ------------------------------------------------------------------ */

static PyObject *
functype_params(PyObject *op, void *Py_UNUSED(closure))
{
    CTypeObject *self = (CTypeObject *)op;
    EXT_CHECK_OPEN(self->ty, NULL);
    size_t n = wasmtime_component_func_type_param_count(self->ty);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list != NULL && i < n; i++) {
        const char *name;
        size_t len;
        wasmtime_component_valtype_t vt;
        wasmtime_component_func_type_param_nth(self->ty, i, &name, &len, &vt);
        PyObject *ty = cvaltype_to_py(self->st, &vt, op);
        PyObject *item = ty == NULL ? NULL : Py_BuildValue("(s#N)", name, (Py_ssize_t)len, ty);
        if (item == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

static PyObject *
functype_result(PyObject *op, void *Py_UNUSED(closure))
{
    CTypeObject *self = (CTypeObject *)op;
    EXT_CHECK_OPEN(self->ty, NULL);
    wasmtime_component_valtype_t vt;
    if (!wasmtime_component_func_type_result(self->ty, &vt)) {
        Py_RETURN_NONE;
    }
    return cvaltype_to_py(self->st, &vt, op);
}

static PyObject *
functype_is_async(PyObject *op, void *Py_UNUSED(closure))
{
    CTypeObject *self = (CTypeObject *)op;
    EXT_CHECK_OPEN(self->ty, NULL);
    return PyBool_FromLong(wasmtime_component_func_type_async(self->ty));
}

/* ---- ComponentExtern -------------------------------------------------------------- */

static PyObject *
extern_ty(PyObject *op, void *Py_UNUSED(closure))
{
    CExternObject *self = (CExternObject *)op;
    EXT_CHECK_OPEN(self->ext, NULL);
    wasmtime_component_item_t item;
    wasmtime_component_extern_type(self->ext, &item);
    return citem_to_py(self->st, &item, op);
}

static PyObject *
extern_str(const char *s, size_t len)
{
    if (s == NULL) {
        Py_RETURN_NONE;
    }
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "replace");
}

static PyObject *
extern_implements(PyObject *op, void *Py_UNUSED(closure))
{
    CExternObject *self = (CExternObject *)op;
    EXT_CHECK_OPEN(self->ext, NULL);
    size_t len = 0;
    const char *s = wasmtime_component_extern_implements(self->ext, &len);
    return extern_str(s, len);
}

static PyObject *
extern_external_id(PyObject *op, void *Py_UNUSED(closure))
{
    CExternObject *self = (CExternObject *)op;
    EXT_CHECK_OPEN(self->ext, NULL);
    size_t len = 0;
    const char *s = wasmtime_component_extern_external_id(self->ext, &len);
    return extern_str(s, len);
}

static PyObject *
extern_is_implements(PyObject *op, PyObject *name)
{
    CExternObject *self = (CExternObject *)op;
    if (!PyUnicode_Check(name)) {
        return ext_wrong_type(self->st, "a str", name);
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(name, &len);
    if (s == NULL) {
        return NULL;
    }
    EXT_CHECK_OPEN(self->ext, NULL);
    return PyBool_FromLong(wasmtime_component_extern_is_implements(self->ext, s, (size_t)len));
}

static PyObject *
extern_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CExternObject *self = (CExternObject *)op;
    if (self->ext != NULL) {
        wasmtime_component_extern_delete(self->ext);
        self->ext = NULL;
    }
    Py_RETURN_NONE;
}

static int
extern_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CExternObject *)op)->owner);
    return 0;
}

static void
extern_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    CExternObject *self = (CExternObject *)op;
    PyObject_GC_UnTrack(op);
    /* The extern before its owner: it points into the owner's type. */
    if (self->ext != NULL) {
        wasmtime_component_extern_delete(self->ext);
    }
    Py_CLEAR(self->owner);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* ---- tables and specs ------------------------------------------------------------ */

EXT_KW1(componenttype_imports, "imports", "engine")
EXT_KW1(componenttype_exports, "exports", "engine")
EXT_KW1(moduletype_imports, "imports", "engine")
EXT_KW1(moduletype_exports, "exports", "engine")
EXT_KW1(extern_is_implements, "is_implements", "name")

#define CLOSE_ENTRY {"close", ctype_close, METH_NOARGS, "close($self, /)\n--\n\nFree the type."}

static PyMethodDef componenttype_methods[] = {
    {"imports", EXT_KW1_ENTRY(componenttype_imports),
     "imports($self, engine)\n--\n\nThe imports: a dict name -> ComponentExtern."},
    {"exports", EXT_KW1_ENTRY(componenttype_exports),
     "exports($self, engine)\n--\n\nThe exports: a dict name -> ComponentExtern."},
    CLOSE_ENTRY,
    {NULL, NULL, 0, NULL},
};

static PyMethodDef instancetype_methods[] = {
    {"exports", EXT_KW1_ENTRY(componenttype_exports),
     "exports($self, engine)\n--\n\nThe exports: a dict name -> ComponentExtern."},
    CLOSE_ENTRY,
    {NULL, NULL, 0, NULL},
};

static PyMethodDef moduletype_methods[] = {
    {"imports", EXT_KW1_ENTRY(moduletype_imports),
     "imports($self, engine)\n--\n\nThe imports: a list of ImportType."},
    {"exports", EXT_KW1_ENTRY(moduletype_exports),
     "exports($self, engine)\n--\n\nThe exports: a list of ExportType."},
    CLOSE_ENTRY,
    {NULL, NULL, 0, NULL},
};

static PyMethodDef functype_methods[] = {
    CLOSE_ENTRY,
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef functype_getset[] = {
    {"params", functype_params, NULL, "The parameters: a list of (name, ValType).", NULL},
    {"result", functype_result, NULL, "The result ValType, or None.", NULL},
    {"is_async", functype_is_async, NULL, "Whether the function is lifted async.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef extern_methods[] = {
    {"is_implements", EXT_KW1_ENTRY(extern_is_implements),
     "is_implements($self, name)\n--\n\nWhether this item implements `name` (semver-aware)."},
    {"close", extern_close, METH_NOARGS, "close($self, /)\n--\n\nFree the extern."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef extern_getset[] = {
    {"ty", extern_ty, NULL, "The type of the item.", NULL},
    {"implements", extern_implements, NULL, "The interface it implements, or None.", NULL},
    {"external_id", extern_external_id, NULL, "Its external id, or None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

#define CTYPE_SPEC(NAME, PYNAME, METHODS, GETSET, DOC) \
    static PyType_Slot NAME##_slots[] = {              \
        {Py_tp_new, ext_no_construct},                 \
        {Py_tp_dealloc, ctype_dealloc},                \
        {Py_tp_traverse, ctype_traverse},              \
        {Py_tp_clear, ctype_clear},                    \
        {Py_tp_methods, METHODS},                      \
        {Py_tp_getset, GETSET},                        \
        {Py_tp_doc, DOC},                              \
        {0, NULL},                                     \
    };                                                 \
    static PyType_Spec NAME##_spec = {                 \
        .name = "wasmtime.component." PYNAME,          \
        .basicsize = sizeof(CTypeObject),              \
        .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,     \
        .slots = NAME##_slots,                         \
    };

static PyGetSetDef no_getset[] = {{NULL, NULL, NULL, NULL, NULL}};

CTYPE_SPEC(componenttype, "ComponentType", componenttype_methods, no_getset,
           "The type of a component: its imports and exports.")
CTYPE_SPEC(instancetype, "ComponentInstanceType", instancetype_methods, no_getset,
           "The type of a component instance: its exports.")
CTYPE_SPEC(moduletype, "ModuleType", moduletype_methods, no_getset,
           "The type of a core module inside a component.")
CTYPE_SPEC(functype, "FuncType", functype_methods, functype_getset,
           "The type of a component function.")

static PyType_Slot extern_slots[] = {
    {Py_tp_new, ext_no_construct},
    {Py_tp_dealloc, extern_dealloc},
    {Py_tp_traverse, extern_traverse},
    {Py_tp_methods, extern_methods},
    {Py_tp_getset, extern_getset},
    {Py_tp_doc, "An import or export of a component type."},
    {0, NULL},
};

static PyType_Spec extern_spec = {
    .name = "wasmtime.component.ComponentExtern",
    .basicsize = sizeof(CExternObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = extern_slots,
};

int
ctypes_register(PyObject *mod, ext_state *st)
{
    PyObject *bases = PyTuple_Pack(1, st->Managed_Type);
    if (bases == NULL) {
        return -1;
    }
    st->CComponentType_Type = ext_add_component_type(mod, &componenttype_spec, bases);
    st->CInstanceType_Type = ext_add_component_type(mod, &instancetype_spec, bases);
    st->CModuleType_Type = ext_add_component_type(mod, &moduletype_spec, bases);
    st->CFuncType_Type = ext_add_component_type(mod, &functype_spec, bases);
    st->CExtern_Type = ext_add_component_type(mod, &extern_spec, bases);
    Py_DECREF(bases);
    return st->CComponentType_Type == NULL || st->CInstanceType_Type == NULL ||
                   st->CModuleType_Type == NULL || st->CFuncType_Type == NULL ||
                   st->CExtern_Type == NULL
               ? -1
               : 0;
}
