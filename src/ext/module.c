/* Module: a compiled WebAssembly module (wraps wasmtime/module.h).
 *
 * Owns its wasmtime_module_t and holds its Engine (strong).  Compilation,
 * validation and deserialization run with the GIL released, on a clone of
 * the engine so that closing the Engine from another thread meanwhile is
 * harmless.  Instances and InstancePres hold their Module (strong): its
 * export names, read once when an Instance first needs them (len, iteration)
 * and cached here, spare them enumerating an instance (see instance.c).
 *
 * Deserialization trusts its input as Wasmtime does; a cheap check of the
 * ELF container (artifact.c) runs first and turns truncated, foreign or
 * broken artifacts into WasmtimeError.
 *
 * The C API cannot list custom sections, so compiling keeps them (read from
 * the validated binary); pickling goes through wasmtime/_pickle.py, which
 * authenticates the artifact.
 */
#include "runtime.h"

#include <stdio.h>

static EngineObject *
module_engine_arg(ext_state *st, PyObject *engine)
{
    if (!PyObject_TypeCheck(engine, st->Engine_Type)) {
        ext_wrong_type(st, "an Engine", engine);
        return NULL;
    }
    EngineObject *eng = (EngineObject *)engine;
    EXT_CHECK_OPEN(eng->engine, NULL);
    return eng;
}

static PyObject *
module_wrap(ext_state *st, PyTypeObject *type, PyObject *engine, wasmtime_module_t *m)
{
    ModuleObject *self = (ModuleObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        wasmtime_module_delete(m);
        return NULL;
    }
    self->module = m;
    self->engine = Py_NewRef(engine);
    self->st = st;
    return (PyObject *)self;
}

/* Unsigned LEB128 (at most 32 bits) at *pos; false when malformed. */
static bool
read_leb_u32(const uint8_t *data, size_t len, size_t *pos, uint32_t *out)
{
    uint32_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (*pos >= len) {
            return false;
        }
        uint8_t b = data[(*pos)++];
        v |= (uint32_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* The custom sections of a wasm binary Wasmtime accepted: a list of (name,
 * payload), or NULL (no exception) when there is none.  -1 on error. */
static int
custom_sections_of(const uint8_t *data, size_t len, PyObject **out)
{
    *out = NULL;
    size_t pos = 8; /* magic and version */
    while (pos < len) {
        uint8_t id = data[pos++];
        uint32_t size, name_len;
        if (!read_leb_u32(data, len, &pos, &size) || size > len - pos) {
            return 0; /* not a core module (a component): nothing to report */
        }
        size_t end = pos + size;
        if (id == 0 && read_leb_u32(data, end, &pos, &name_len) && name_len <= end - pos) {
            if (*out == NULL && (*out = PyList_New(0)) == NULL) {
                return -1;
            }
            PyObject *item = Py_BuildValue(
                "(s#y#)", (const char *)data + pos, (Py_ssize_t)name_len,
                (const char *)data + pos + name_len, (Py_ssize_t)(end - pos - name_len));
            if (item == NULL || PyList_Append(*out, item) < 0) {
                Py_XDECREF(item);
                Py_CLEAR(*out);
                return -1;
            }
            Py_DECREF(item);
        }
        pos = end;
    }
    return 0;
}

static PyObject *
module_compile(ext_state *st, PyTypeObject *type, PyObject *engine, PyObject *wasm)
{
    EngineObject *eng = module_engine_arg(st, engine);
    if (eng == NULL) {
        return NULL;
    }
    /* Clone first: translating WAT releases the GIL, and another thread may
     * close the Engine meanwhile. */
    wasm_engine_t *e = wasmtime_engine_clone(EXT_LIVE(eng, engine));
    ext_wasm_bytes in;
    if (ext_wasm_input(st, wasm, &in) < 0) {
        wasm_engine_delete(e);
        return NULL;
    }
    wasmtime_module_t *m = NULL;
    wasmtime_error_t *err;
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_module_new(e, in.data, in.len, &m);
    wasm_engine_delete(e);
    Py_END_ALLOW_THREADS
    PyObject *sections = NULL;
    int rc = err == NULL ? custom_sections_of(in.data, in.len, &sections) : 0;
    ext_wasm_input_release(&in);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    if (rc < 0) {
        wasmtime_module_delete(m);
        return NULL;
    }
    ModuleObject *self = (ModuleObject *)module_wrap(st, type, engine, m);
    if (self == NULL) {
        Py_XDECREF(sections);
        return NULL;
    }
    self->custom_sections = sections;
    return (PyObject *)self;
}

static PyObject *
module_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"engine", "wasm", NULL};
    PyObject *engine, *wasm;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Module", kwlist, &engine, &wasm)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    return st == NULL ? NULL : module_compile(st, type, engine, wasm);
}

static PyObject *
module_from_file(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"engine", "path", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "from_file", kwlist, 2, a) < 0) {
        return NULL;
    }
    ext_state *st = ext_state_from_type((PyTypeObject *)cls);
    if (st == NULL || module_engine_arg(st, a[0]) == NULL) {
        return NULL;
    }
    PyObject *data = ext_read_file(a[1]);
    if (data == NULL) {
        return NULL;
    }
    PyObject *res = module_compile(st, (PyTypeObject *)cls, a[0], data);
    Py_DECREF(data);
    return res;
}

static PyObject *
module_deserialize(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
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
    /* The bytes first: exporting a buffer may run Python code (__buffer__).
     * An exported bytearray cannot be resized; another thread writing into
     * it after the check alters trusted input, like any other alteration. */
    Py_buffer view;
    if (ext_get_bytes(a[1], &view, "bytes") < 0) {
        return NULL;
    }
    EngineObject *eng = module_engine_arg(st, a[0]);
    if (eng == NULL || ext_artifact_check(st, view.buf, (size_t)view.len) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    /* Clone: another thread may close the Engine while the GIL is released. */
    wasm_engine_t *e = wasmtime_engine_clone(EXT_LIVE(eng, engine));
    wasmtime_module_t *m = NULL;
    wasmtime_error_t *err;
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_module_deserialize(e, view.buf, (size_t)view.len, &m);
    wasm_engine_delete(e);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return module_wrap(st, (PyTypeObject *)cls, a[0], m);
}

static PyObject *
module_deserialize_file(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
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
    /* The engine before the file, so that a wrong engine is a TypeError
     * whatever the path; from here to the clone nothing runs Python code or
     * releases the GIL. */
    EngineObject *eng = module_engine_arg(st, a[0]);
    if (eng == NULL || ext_artifact_check_file(st, path) < 0) {
        Py_DECREF(path);
        return NULL;
    }
    /* Wasmtime opens the file again and maps it: the module pages it in
     * lazily and shares it with the page cache.  So the file must stay as it
     * is while the module lives (see the docstring). */
    wasm_engine_t *e = wasmtime_engine_clone(EXT_LIVE(eng, engine));
    wasmtime_module_t *m = NULL;
    wasmtime_error_t *err;
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_module_deserialize_file(e, PyBytes_AS_STRING(path), &m);
    wasm_engine_delete(e);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return module_wrap(st, (PyTypeObject *)cls, a[0], m);
}

static PyObject *
module_validate(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"engine", "wasm", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "validate", kwlist, 2, a) < 0) {
        return NULL;
    }
    ext_state *st = ext_state_from_type((PyTypeObject *)cls);
    if (st == NULL) {
        return NULL;
    }
    /* The bytes are checked before the engine, as wasmtime-py does. */
    Py_buffer view;
    if (ext_get_bytes(a[1], &view, "wasm bytes") < 0) {
        return NULL;
    }
    EngineObject *eng = module_engine_arg(st, a[0]);
    if (eng == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    wasm_engine_t *e = wasmtime_engine_clone(EXT_LIVE(eng, engine));
    wasmtime_error_t *err;
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_module_validate(e, view.buf, (size_t)view.len);
    wasm_engine_delete(e);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    Py_RETURN_NONE;
}

static PyObject *
module_imports(PyObject *op, void *Py_UNUSED(closure))
{
    ModuleObject *self = (ModuleObject *)op;
    EXT_CHECK_OPEN(self->module, NULL);
    wasm_importtype_vec_t vec;
    wasmtime_module_imports(EXT_LIVE(self, module), &vec);
    PyObject *res = importtypes_list(self->st, &vec);
    wasm_importtype_vec_delete(&vec);
    return res;
}

static PyObject *
module_exports(PyObject *op, void *Py_UNUSED(closure))
{
    ModuleObject *self = (ModuleObject *)op;
    EXT_CHECK_OPEN(self->module, NULL);
    wasm_exporttype_vec_t vec;
    wasmtime_module_exports(EXT_LIVE(self, module), &vec);
    PyObject *res = exporttypes_list(self->st, &vec);
    wasm_exporttype_vec_delete(&vec);
    return res;
}

static PyObject *
module_serialize(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    ModuleObject *self = (ModuleObject *)op;
    EXT_CHECK_OPEN(self->module, NULL);
    wasm_byte_vec_t out;
    wasmtime_error_t *err = wasmtime_module_serialize(EXT_LIVE(self, module), &out);
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    PyObject *res = PyByteArray_FromStringAndSize(out.data, (Py_ssize_t)out.size);
    wasm_byte_vec_delete(&out);
    return res;
}

static PyObject *
module_custom_sections(PyObject *op, PyObject *name)
{
    ModuleObject *self = (ModuleObject *)op;
    if (!PyUnicode_Check(name)) {
        return ext_wrong_type(self->st, "a str", name);
    }
    EXT_CHECK_OPEN(self->module, NULL);
    PyObject *res = PyList_New(0);
    Py_ssize_t n = self->custom_sections == NULL ? 0 : PyList_GET_SIZE(self->custom_sections);
    for (Py_ssize_t i = 0; res != NULL && i < n; i++) {
        PyObject *item = PyList_GET_ITEM(self->custom_sections, i);
        /* Exact strs on our side: no user __eq__ runs. */
        if (PyUnicode_Compare(PyTuple_GET_ITEM(item, 0), name) == 0 &&
            PyList_Append(res, PyTuple_GET_ITEM(item, 1)) < 0) {
            Py_CLEAR(res);
        }
    }
    return res;
}

/* pickle: (wasmtime._pickle.load_module, (payload, mac)), see _pickle.py. */
static PyObject *
module_reduce(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    ModuleObject *self = (ModuleObject *)op;
    EXT_CHECK_OPEN(self->module, NULL);
    PyObject *helpers = PyImport_ImportModule("wasmtime._pickle");
    if (helpers == NULL) {
        return NULL;
    }
    PyObject *res = PyObject_CallMethod(helpers, "reduce_module", "OO", op, self->engine);
    Py_DECREF(helpers);
    return res;
}

static PyObject *
module_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    ModuleObject *self = (ModuleObject *)op;
    /* Instances of the module list its export names, which can only be read
     * while it is open. */
    if (self->module != NULL && self->has_users && self->export_names == NULL) {
        PyObject *names = ext_module_export_names(op);
        if (names == NULL) {
            return NULL;
        }
        Py_DECREF(names);
    }
    Py_BEGIN_CRITICAL_SECTION(op);
    EXT_RETIRE(self, module, wasmtime_module_delete);
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static int
module_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((ModuleObject *)op)->engine);
    Py_VISIT(((ModuleObject *)op)->export_names);
    return 0;
}

static int
module_clear(PyObject *op)
{
    /* export_names (strs only, never in a cycle) stays until dealloc. */
    Py_CLEAR(((ModuleObject *)op)->engine);
    return 0;
}

static void
module_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    ModuleObject *self = (ModuleObject *)op;
    PyObject_GC_UnTrack(op);
    EXT_CLEAR_WEAKREFS(op, self->weakreflist);
    if (self->module != NULL) {
        wasmtime_module_delete(self->module);
    }
    EXT_DELETE_RETIRED(self, wasmtime_module_t, wasmtime_module_delete);
    Py_CLEAR(self->engine);
    Py_CLEAR(self->export_names);
    Py_CLEAR(self->custom_sections);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef module_methods[] = {
    {"from_file", EXT_FASTCALL_KW_CLASS(module_from_file),
     "from_file(engine, path)\n--\n\nCompile the wasm or WAT file at `path`."},
    {"deserialize", EXT_FASTCALL_KW_CLASS(module_deserialize),
     "deserialize(engine, encoded)\n--\n\n"
     "Load a module from bytes made by Module.serialize(), into an Engine\n"
     "configured like the one that compiled it.\n\n"
     "The bytes are trusted input, exactly as Wasmtime trusts them: they hold\n"
     "machine code that runs as written, so bytes from an untrusted source can\n"
     "run arbitrary code in this process.  A cheap check raises WasmtimeError\n"
     "for truncated data and for anything that is not a Wasmtime artifact; it is\n"
     "no authentication.  For bytes you do not trust, compile the WebAssembly\n"
     "instead: Module(engine, wasm), or pickle the Module (authenticated).\n"
     "A deserialized module has no custom sections: custom_sections() is []."},
    {"deserialize_file", EXT_FASTCALL_KW_CLASS(module_deserialize_file),
     "deserialize_file(engine, path)\n--\n\n"
     "Load a module from a file written from Module.serialize().\n\n"
     "Its contents are trusted input, exactly as for deserialize(); the same\n"
     "cheap check runs first.  As in Wasmtime, the file is memory-mapped: it\n"
     "must not be truncated or rewritten while the module lives, or the\n"
     "process dies (SIGBUS, or changed machine code).  To load a copy that\n"
     "does not depend on the file, pass its bytes to deserialize()."},
    {"validate", EXT_FASTCALL_KW_CLASS(module_validate),
     "validate(engine, wasm)\n--\n\nRaise WasmtimeError unless `wasm` (binary) is valid."},
    {"serialize", module_serialize, METH_NOARGS,
     "serialize($self, /)\n--\n\nThe compiled module as a bytearray, for deserialize()."},
    {"custom_sections", module_custom_sections, METH_O,
     "custom_sections($self, name, /)\n--\n\nThe payloads (bytes) of the custom sections "
     "called `name`, in order; [] for a deserialized or unpickled module."},
    {"__reduce__", module_reduce, METH_NOARGS,
     "__reduce__($self, /)\n--\n\nPickle support: the artifact, authenticated by an "
     "HMAC (see wasmtime.set_pickle_key)."},
    {"close", module_close, METH_NOARGS, "close($self, /)\n--\n\nFree the module."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef module_getset[] = {
    {"imports", module_imports, NULL, "The module's imports, a list of ImportType.", NULL},
    {"exports", module_exports, NULL, "The module's exports, a list of ExportType.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef module_members[] = {
    EXT_WEAKREF_MEMBER(ModuleObject, weakreflist),
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot module_slots[] = {
    {Py_tp_members, module_members},
    {Py_tp_new, module_new},
    {Py_tp_dealloc, module_dealloc},
    {Py_tp_traverse, module_traverse},
    {Py_tp_clear, module_clear},
    {Py_tp_methods, module_methods},
    {Py_tp_getset, module_getset},
    {Py_tp_doc, "Module(engine, wasm)\n--\n\nCompile WebAssembly (binary, or WAT text)."},
    {0, NULL},
};

static PyType_Spec module_spec = {
    .name = "wasmtime.Module",
    .basicsize = sizeof(ModuleObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = module_slots,
};

int
module_register(PyObject *mod, ext_state *st)
{
    st->Module_Type = ext_add_type(mod, &module_spec, (PyObject *)st->Managed_Type);
    return st->Module_Type == NULL ? -1 : 0;
}
