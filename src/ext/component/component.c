/* Component: a compiled WebAssembly component (wraps
 * wasmtime/component/component.h).
 *
 * Owns its wasmtime_component_t and holds its Engine (strong).  Compiling
 * and deserializing run with the GIL released, on a clone of the engine, as
 * Module does.  Component input follows Module's rules: WAT text as str (or
 * bytes not starting with NUL), binary as any bytes-like object.
 */
#include "component.h"

static EngineObject *
component_engine_arg(ext_state *st, PyObject *engine)
{
    if (!PyObject_TypeCheck(engine, st->Engine_Type)) {
        PyErr_SetString(PyExc_TypeError, "expected an Engine");
        return NULL;
    }
    EngineObject *eng = (EngineObject *)engine;
    EXT_CHECK_OPEN(eng->engine, NULL);
    return eng;
}

static PyObject *
component_wrap(ext_state *st, PyTypeObject *type, PyObject *engine, wasmtime_component_t *c)
{
    ComponentObject *self = (ComponentObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        wasmtime_component_delete(c);
        return NULL;
    }
    self->component = c;
    self->engine = Py_NewRef(engine);
    self->st = st;
    return (PyObject *)self;
}

static PyObject *
component_compile(ext_state *st, PyTypeObject *type, PyObject *engine, PyObject *wasm)
{
    if (component_engine_arg(st, engine) == NULL) {
        return NULL;
    }
    ext_wasm_bytes in;
    if (ext_wasm_input(st, wasm, &in) < 0) {
        return NULL;
    }
    /* The engine after the input (WAT translation may run Python code). */
    EngineObject *eng = component_engine_arg(st, engine);
    if (eng == NULL) {
        ext_wasm_input_release(&in);
        return NULL;
    }
    wasm_engine_t *e = wasmtime_engine_clone(EXT_LIVE(eng, engine));
    wasmtime_component_t *c = NULL;
    wasmtime_error_t *err;
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_component_new(e, in.data, in.len, &c);
    wasm_engine_delete(e);
    Py_END_ALLOW_THREADS
    ext_wasm_input_release(&in);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return component_wrap(st, type, engine, c);
}

static PyObject *
component_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"engine", "wasm", NULL};
    PyObject *engine, *wasm;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Component", kwlist, &engine, &wasm)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    if (!PyUnicode_Check(wasm) && !PyObject_CheckBuffer(wasm)) {
        if (component_engine_arg(st, engine) == NULL) {
            return NULL;
        }
        PyErr_SetString(PyExc_TypeError, "expected wasm bytes");
        return NULL;
    }
    return component_compile(st, type, engine, wasm);
}

static PyObject *
component_from_file(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"engine", "path", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "from_file", kwlist, 2, a) < 0) {
        return NULL;
    }
    ext_state *st = ext_state_from_type((PyTypeObject *)cls);
    if (st == NULL || component_engine_arg(st, a[0]) == NULL) {
        return NULL;
    }
    PyObject *data = ext_read_file(a[1]);
    if (data == NULL) {
        return NULL;
    }
    PyObject *res = component_compile(st, (PyTypeObject *)cls, a[0], data);
    Py_DECREF(data);
    return res;
}

static PyObject *
component_deserialize(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"engine", "encoded", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "deserialize", kwlist, 2, a) < 0) {
        return NULL;
    }
    ext_state *st = ext_state_from_type((PyTypeObject *)cls);
    if (st == NULL) {
        return NULL;
    }
    if (!PyBytes_Check(a[1]) && !PyByteArray_Check(a[1])) {
        PyErr_SetString(PyExc_TypeError, "expected bytes");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(a[1], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    EngineObject *eng = component_engine_arg(st, a[0]);
    if (eng == NULL || ext_artifact_check(st, view.buf, (size_t)view.len) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    wasm_engine_t *e = wasmtime_engine_clone(EXT_LIVE(eng, engine));
    wasmtime_component_t *c = NULL;
    wasmtime_error_t *err;
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_component_deserialize(e, view.buf, (size_t)view.len, &c);
    wasm_engine_delete(e);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return component_wrap(st, (PyTypeObject *)cls, a[0], c);
}

static PyObject *
component_deserialize_file(PyObject *cls, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    static const char *const kwlist[] = {"engine", "path", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "deserialize_file", kwlist, 2, a) < 0) {
        return NULL;
    }
    ext_state *st = ext_state_from_type((PyTypeObject *)cls);
    if (st == NULL) {
        return NULL;
    }
    /* The path first: its __fspath__ may run any Python code. */
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(a[1], &path)) {
        return NULL;
    }
    EngineObject *eng = component_engine_arg(st, a[0]);
    if (eng == NULL || ext_artifact_check_file(st, path) < 0) {
        Py_DECREF(path);
        return NULL;
    }
    wasm_engine_t *e = wasmtime_engine_clone(EXT_LIVE(eng, engine));
    wasmtime_component_t *c = NULL;
    wasmtime_error_t *err;
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_component_deserialize_file(e, PyBytes_AS_STRING(path), &c);
    wasm_engine_delete(e);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return component_wrap(st, (PyTypeObject *)cls, a[0], c);
}

static PyObject *
component_serialize(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    ComponentObject *self = (ComponentObject *)op;
    EXT_CHECK_OPEN(self->component, NULL);
    wasm_byte_vec_t out;
    wasmtime_error_t *err = wasmtime_component_serialize(EXT_LIVE(self, component), &out);
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    PyObject *res = PyByteArray_FromStringAndSize(out.data, (Py_ssize_t)out.size);
    wasm_byte_vec_delete(&out);
    return res;
}

static PyObject *
component_get_export_index(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    ComponentObject *self = (ComponentObject *)op;
    static const char *const kwlist[] = {"name", "instance", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "get_export_index", kwlist, 1, a) < 0) {
        return NULL;
    }
    if (!PyUnicode_Check(a[0])) {
        return ext_wrong_type(self->st, "a str", a[0]);
    }
    Py_ssize_t len;
    const char *name = PyUnicode_AsUTF8AndSize(a[0], &len);
    if (name == NULL) {
        return NULL;
    }
    const wasmtime_component_export_index_t *parent = NULL;
    if (a[1] != NULL && a[1] != Py_None) {
        if (!PyObject_TypeCheck(a[1], self->st->CExportIndex_Type)) {
            return ext_wrong_type(self->st, "an ExportIndex or None", a[1]);
        }
        parent = ((CExportIndexObject *)a[1])->index;
        EXT_CHECK_OPEN(parent, NULL);
    }
    EXT_CHECK_OPEN(self->component, NULL);
    wasmtime_component_export_index_t *idx =
        wasmtime_component_get_export_index(EXT_LIVE(self, component), parent, name, (size_t)len);
    if (idx == NULL) {
        Py_RETURN_NONE;
    }
    return cexportindex_wrap(self->st, idx);
}

static PyObject *
component_type(PyObject *op, void *Py_UNUSED(closure))
{
    ComponentObject *self = (ComponentObject *)op;
    EXT_CHECK_OPEN(self->component, NULL);
    return ctype_wrap(self->st, self->st->CComponentType_Type,
                      wasmtime_component_type(EXT_LIVE(self, component)), CTYPE_COMPONENT, op);
}

static PyObject *
component_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    ComponentObject *self = (ComponentObject *)op;
    Py_BEGIN_CRITICAL_SECTION(op);
    EXT_RETIRE(self, component, wasmtime_component_delete);
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static int
component_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((ComponentObject *)op)->engine);
    return 0;
}

static int
component_clear(PyObject *op)
{
    Py_CLEAR(((ComponentObject *)op)->engine);
    return 0;
}

static void
component_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    ComponentObject *self = (ComponentObject *)op;
    PyObject_GC_UnTrack(op);
    EXT_CLEAR_WEAKREFS(op, self->weakreflist);
    if (self->component != NULL) {
        wasmtime_component_delete(self->component);
    }
    EXT_DELETE_RETIRED(self, wasmtime_component_t, wasmtime_component_delete);
    Py_CLEAR(self->engine);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef component_methods[] = {
    {"from_file", EXT_FASTCALL_KW_CLASS(component_from_file),
     "from_file(engine, path)\n--\n\nCompile the component (binary or WAT) in a file."},
    {"deserialize", EXT_FASTCALL_KW_CLASS(component_deserialize),
     "deserialize(engine, encoded)\n--\n\n"
     "Load a component from bytes made by serialize().  The bytes are trusted\n"
     "input (machine code), exactly as for Module.deserialize()."},
    {"deserialize_file", EXT_FASTCALL_KW_CLASS(component_deserialize_file),
     "deserialize_file(engine, path)\n--\n\n"
     "Load a component from a file written from serialize(); trusted input, and\n"
     "the file is memory-mapped: leave it unchanged while the component lives."},
    {"serialize", component_serialize, METH_NOARGS,
     "serialize($self, /)\n--\n\nThe compiled component as a bytearray."},
    {"get_export_index", EXT_FASTCALL_KW(component_get_export_index),
     "get_export_index($self, name, instance=None)\n--\n\n"
     "The ExportIndex of export `name` (inside exported instance `instance`), or None."},
    {"close", component_close, METH_NOARGS, "close($self, /)\n--\n\nFree the component."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef component_getset[] = {
    {"type", component_type, NULL, "The ComponentType of this component.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef component_members[] = {
    EXT_WEAKREF_MEMBER(ComponentObject, weakreflist),
    {"_engine", T_OBJECT_EX, offsetof(ComponentObject, engine), READONLY,
     "The Engine this component was compiled for (wasmtime.bindgen)."},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot component_slots[] = {
    {Py_tp_new, component_new},
    {Py_tp_dealloc, component_dealloc},
    {Py_tp_traverse, component_traverse},
    {Py_tp_clear, component_clear},
    {Py_tp_methods, component_methods},
    {Py_tp_getset, component_getset},
    {Py_tp_members, component_members},
    {Py_tp_doc, "Component(engine, wasm)\n--\n\nA compiled WebAssembly component."},
    {0, NULL},
};

static PyType_Spec component_spec = {
    .name = "wasmtime.component.Component",
    .basicsize = sizeof(ComponentObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = component_slots,
};

int
ccomponent_register(PyObject *mod, ext_state *st)
{
    PyObject *bases = PyTuple_Pack(1, st->Managed_Type);
    if (bases == NULL) {
        return -1;
    }
    st->CComponent_Type = ext_add_component_type(mod, &component_spec, bases);
    Py_DECREF(bases);
    return st->CComponent_Type == NULL ? -1 : 0;
}
