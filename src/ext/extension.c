/* Module definition of wasmtime._ext: multi-phase init, module state, and the
 * call to every type file's <type>_register().
 *
 * The module state owns every type object and exception class; nothing of
 * Python lives in a C global.
 */
#include "common.h"

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

static int
ext_exec(PyObject *mod)
{
    ext_state *st = (ext_state *)PyModule_GetState(mod);
    st->str_message = PyUnicode_InternFromString("_message");
    st->str_code = PyUnicode_InternFromString("code");
    if (st->str_message == NULL || st->str_code == NULL) {
        return -1;
    }
    if (managed_register(mod, st) < 0 || errors_register(mod, st) < 0 ||
        config_register(mod, st) < 0 || engine_register(mod, st) < 0 ||
        store_register(mod, st) < 0 || valtype_register(mod, st) < 0 ||
        limits_register(mod, st) < 0 ||
        typeobjs_register(mod, st) < 0 || importexport_register(mod, st) < 0 ||
        module_register(mod, st) < 0 || wat_register(mod, st) < 0 ||
        val_register(mod, st) < 0 || trap_register(mod, st) < 0 ||
        func_register(mod, st) < 0 || caller_register(mod, st) < 0 ||
        externs_register(mod, st) < 0 || memory_register(mod, st) < 0 ||
        sharedmemory_register(mod, st) < 0 || instance_register(mod, st) < 0 ||
        wasi_register(mod, st) < 0 || linker_register(mod, st) < 0) {
        return -1;
    }
    if (PyModule_AddStringConstant(mod, "WASMTIME_VERSION", WASMTIME_VERSION) < 0) {
        return -1;
    }
    return 0;
}

#define STATE_FIELDS(X)                                                      \
    X(Managed_Type) X(Config_Type) X(Engine_Type) X(Store_Type)             \
    X(Module_Type) X(ValType_Type) X(FuncType_Type) X(GlobalType_Type)      \
    X(TableType_Type) X(MemoryType_Type) X(TagType_Type) X(Limits_Type)     \
    X(ImportType_Type) X(ExportType_Type) X(Val_Type) X(WasmtimeError)      \
    X(ExitTrap) X(ArgTypeError) X(str_message) X(str_code) X(Func_Type)       \
    X(Caller_Type) X(Global_Type) X(Table_Type) X(Memory_Type)              \
    X(MemoryView_Type) X(SharedMemory_Type) X(Tag_Type) X(Instance_Type)    \
    X(InstanceExports_Type) X(Frame_Type) X(Trap) X(TrapCode) X(ctypes_ptr)   \
    X(WasiConfig_Type) X(Linker_Type) X(InstancePre_Type)

static int
ext_traverse(PyObject *mod, visitproc visit, void *arg)
{
    ext_state *st = (ext_state *)PyModule_GetState(mod);
    if (st == NULL) {
        return 0;
    }
#define VISIT(f) Py_VISIT(st->f);
    STATE_FIELDS(VISIT)
#undef VISIT
    return 0;
}

static int
ext_clear(PyObject *mod)
{
    ext_state *st = (ext_state *)PyModule_GetState(mod);
    if (st == NULL) {
        return 0;
    }
#define CLEAR(f) Py_CLEAR(st->f);
    STATE_FIELDS(CLEAR)
#undef CLEAR
    return 0;
}

static void
ext_free(void *mod)
{
    (void)ext_clear((PyObject *)mod);
}

static PyModuleDef_Slot ext_slots[] = {
    {Py_mod_exec, ext_exec},
    {0, NULL},
};

struct PyModuleDef ext_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "wasmtime._ext",
    .m_doc = "The C implementation of the wasmtime package.",
    .m_size = sizeof(ext_state),
    .m_slots = ext_slots,
    .m_traverse = ext_traverse,
    .m_clear = ext_clear,
    .m_free = ext_free,
};

PyMODINIT_FUNC
PyInit__ext(void)
{
    return PyModuleDef_Init(&ext_module_def);
}
