/* Floor 5: the module definition of wasmtime._ext.
 *
 * Multi-phase init; the module state (state.h) owns every type object and
 * exception class, so nothing of Python lives in a C global.  This is the
 * only file that calls the <type>_register() functions, in dependency order
 * (a base class before its subclasses).
 *
 * Subinterpreters: not supported, and declared so (Py_mod_multiple_
 * interpreters on 3.12+, an ImportError from ext_exec before).  Wasmtime
 * calls back into Python from trampolines, externref finalizers and WASI
 * output callbacks, which take the GIL with PyGILState_Ensure; that API
 * only knows the main interpreter, and in a subinterpreter it deadlocks on
 * the GIL its own thread already holds.  Refusing the import is a clean
 * error instead of a hang.
 */
#include "state.h"

/* Each defined by the file of its type. */
int managed_register(PyObject *mod, ext_state *st);
int errors_register(PyObject *mod, ext_state *st);
int trap_register(PyObject *mod, ext_state *st);
int wat_register(PyObject *mod, ext_state *st);
int valtype_register(PyObject *mod, ext_state *st);
int limits_register(PyObject *mod, ext_state *st);
int externtypes_register(PyObject *mod, ext_state *st);
int importexport_register(PyObject *mod, ext_state *st);
int config_register(PyObject *mod, ext_state *st);
int engine_register(PyObject *mod, ext_state *st);
int store_register(PyObject *mod, ext_state *st);
int module_register(PyObject *mod, ext_state *st);
int val_register(PyObject *mod, ext_state *st);
int func_register(PyObject *mod, ext_state *st);
int caller_register(PyObject *mod, ext_state *st);
int global_register(PyObject *mod, ext_state *st);
int table_register(PyObject *mod, ext_state *st);
int tag_register(PyObject *mod, ext_state *st);
int memory_register(PyObject *mod, ext_state *st);
int sharedmemory_register(PyObject *mod, ext_state *st);
int instance_register(PyObject *mod, ext_state *st);
int wasi_register(PyObject *mod, ext_state *st);
int linker_register(PyObject *mod, ext_state *st);
int instancepre_register(PyObject *mod, ext_state *st);
int storecontext_register(PyObject *mod, ext_state *st);
/* wasmtime.component (src/ext/component/) */
int cvalues_register(PyObject *mod, ext_state *st);
int cresources_register(PyObject *mod, ext_state *st);
int cvaltypes_register(PyObject *mod, ext_state *st);
int ctypes_register(PyObject *mod, ext_state *st);
int ccomponent_register(PyObject *mod, ext_state *st);
int cexportindex_register(PyObject *mod, ext_state *st);
int clinker_register(PyObject *mod, ext_state *st);
int clinkerinstance_register(PyObject *mod, ext_state *st);
int cinstance_register(PyObject *mod, ext_state *st);
int cfunc_register(PyObject *mod, ext_state *st);
int externref_register(PyObject *mod, ext_state *st);
int anyref_register(PyObject *mod, ext_state *st);
int structref_register(PyObject *mod, ext_state *st);
int arrayref_register(PyObject *mod, ext_state *st);
int exnref_register(PyObject *mod, ext_state *st);
int gctype_register(PyObject *mod, ext_state *st);
int fieldtype_register(PyObject *mod, ext_state *st);
int callfuture_register(PyObject *mod, ext_state *st);

static int (*const registrations[])(PyObject *, ext_state *) = {
    /* floor 2 */
    managed_register,
    errors_register,
    trap_register,
    wat_register,
    valtype_register,
    limits_register,
    externtypes_register,
    importexport_register,
    fieldtype_register,
    /* floor 4 */
    config_register,
    engine_register,
    store_register,
    module_register,
    val_register,
    func_register,
    caller_register,
    global_register,
    table_register,
    tag_register,
    memory_register,
    sharedmemory_register,
    instance_register,
    wasi_register,
    linker_register,
    instancepre_register,
    storecontext_register,
    /* floor 4, wasmtime.component */
    cvalues_register,
    cresources_register,
    cvaltypes_register,
    ctypes_register,
    ccomponent_register,
    cexportindex_register,
    clinker_register,
    clinkerinstance_register,
    cinstance_register,
    cfunc_register,
    externref_register,
    anyref_register,
    structref_register, /* after anyref: derives from EqRef */
    arrayref_register,
    exnref_register,
    gctype_register,
    callfuture_register,
};

static int
ext_exec(PyObject *mod)
{
    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        PyErr_SetString(PyExc_ImportError,
                        "wasmtime._ext cannot be imported in a subinterpreter: its callbacks "
                        "from Wasmtime need the main interpreter");
        return -1;
    }
    ext_state *st = (ext_state *)PyModule_GetState(mod);
    st->str_message = PyUnicode_InternFromString("_message");
    st->str_code = PyUnicode_InternFromString("code");
    st->str_value = PyUnicode_InternFromString("value");
    st->str_handle = PyUnicode_InternFromString("_handle");
    st->str_owner = PyUnicode_InternFromString("_owner");
    st->str_store = PyUnicode_InternFromString("_store");
    st->str_fvalue = PyUnicode_InternFromString("_value_");
    st->empty_tuple = PyTuple_New(0);
    if (st->str_message == NULL || st->str_code == NULL || st->str_value == NULL ||
        st->str_handle == NULL || st->str_owner == NULL || st->str_store == NULL ||
        st->str_fvalue == NULL || st->empty_tuple == NULL) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(registrations) / sizeof(registrations[0]); i++) {
        if (registrations[i](mod, st) < 0) {
            return -1;
        }
    }
    if (PyModule_AddStringConstant(mod, "WASMTIME_VERSION", WASMTIME_VERSION) < 0) {
        return -1;
    }
    return 0;
}

static int
ext_traverse(PyObject *mod, visitproc visit, void *arg)
{
    ext_state *st = (ext_state *)PyModule_GetState(mod);
    if (st == NULL) {
        return 0;
    }
#define VISIT(f) Py_VISIT(st->f);
    EXT_STATE_FIELDS(VISIT)
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
    EXT_STATE_FIELDS(CLEAR)
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
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#ifdef Py_GIL_DISABLED
    /* Runs without the GIL: every piece of shared mutable C state is atomic
     * or guarded (docs/architecture.md, "Threads and the GIL"). */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static PyModuleDef ext_module_def = {
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
    ext_def = &ext_module_def;
    return PyModuleDef_Init(&ext_module_def);
}
