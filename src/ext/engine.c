/* Engine: the compilation environment (wraps wasm.h engines and
 * wasmtime/engine.h).
 *
 * Owns its wasm_engine_t; Wasmtime reference-counts engines internally, so
 * stores and modules made from it stay valid after close().
 */
#include "common.h"

static PyObject *
engine_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"config", NULL};
    PyObject *config = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Engine", kwlist, &config)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    wasm_config_t *cfg = NULL;
    if (config != Py_None) {
        if (!PyObject_TypeCheck(config, st->Config_Type)) {
            return ext_wrong_type(st, "Config", config);
        }
        cfg = ((ConfigObject *)config)->config;
        CHECK_OPEN(cfg, NULL);
    }
    EngineObject *self = (EngineObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->st = st;
    self->memories_fixed = false;
    self->memories32_fixed = true;
    if (cfg != NULL) {
        ConfigObject *c = (ConfigObject *)config;
        self->memories_fixed = !c->memory_may_move;
        self->memories32_fixed = !c->memory_may_move || !c->small_reservation;
        /* Consumes the config, even on failure. */
        ((ConfigObject *)config)->config = NULL;
        self->engine = wasm_engine_new_with_config(cfg);
    }
    else {
        self->engine = wasm_engine_new();
    }
    if (self->engine == NULL) {
        Py_DECREF(self);
        return ext_raise_msg(st, "failed to create the engine");
    }
    return (PyObject *)self;
}

static PyObject *
engine_increment_epoch(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    EngineObject *self = (EngineObject *)op;
    CHECK_OPEN(self->engine, NULL);
    /* Runs quickly and is thread-safe in Wasmtime: no GIL release needed. */
    wasmtime_engine_increment_epoch(self->engine);
    Py_RETURN_NONE;
}

static PyObject *
engine_is_pulley(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    EngineObject *self = (EngineObject *)op;
    CHECK_OPEN(self->engine, NULL);
    return PyBool_FromLong(wasmtime_engine_is_pulley(self->engine));
}

static PyObject *
engine_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    EngineObject *self = (EngineObject *)op;
    if (self->engine != NULL) {
        wasm_engine_delete(self->engine);
        self->engine = NULL;
    }
    Py_RETURN_NONE;
}

static void
engine_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    EngineObject *self = (EngineObject *)op;
    if (self->engine != NULL) {
        wasm_engine_delete(self->engine);
    }
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef engine_methods[] = {
    {"increment_epoch", engine_increment_epoch, METH_NOARGS,
     "increment_epoch($self, /)\n--\n\nAdvance the epoch; safe from any thread."},
    {"is_pulley", engine_is_pulley, METH_NOARGS,
     "is_pulley($self, /)\n--\n\nWhether code runs on the Pulley interpreter."},
    {"close", engine_close, METH_NOARGS, "close($self, /)\n--\n\nRelease the engine."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot engine_slots[] = {
    {Py_tp_new, engine_new},
    {Py_tp_dealloc, engine_dealloc},
    {Py_tp_methods, engine_methods},
    {Py_tp_doc, "Engine(config=None)\n--\n\nCompiles and runs WebAssembly; consumes `config`."},
    {0, NULL},
};

static PyType_Spec engine_spec = {
    .name = "wasmtime.Engine",
    .basicsize = sizeof(EngineObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = engine_slots,
};

int
engine_register(PyObject *mod, ext_state *st)
{
    st->Engine_Type = ext_add_type(mod, &engine_spec, (PyObject *)st->Managed_Type);
    return st->Engine_Type == NULL ? -1 : 0;
}
