/* Linker and InstancePre (wraps wasmtime/linker.h and the instance_pre part
 * of wasmtime/instance.h).
 *
 * Ownership: the Linker owns its wasmtime_linker_t and holds its Engine.
 * Callables of define_func are borrowed by Wasmtime; their strong references
 * live in `host_objects`, a list that every Store the linker touches also
 * keeps (a store may call them after the Linker object is gone).
 *
 * Beyond the C API, the Linker records what it defines (`defs`, in order),
 * which gives iteration, alias()/alias_module(), and missing-import errors
 * that list what is defined.  It also refuses to hand WASI functions to a
 * Store without a WASI context: Wasmtime would abort the process on the first
 * WASI call.
 */
#include "common.h"

#include <structmember.h>

typedef struct {
    PyObject_HEAD
    wasmtime_linker_t *linker; /* owned; NULL once closed */
    PyObject *engine;          /* strong: EngineObject */
    PyObject *host_objects;    /* strong list: callables of define_func */
    PyObject *defs;            /* strong dict (module, name) -> definition tuple */
    ext_state *st;
    bool shadowing;
    bool has_wasi;
    int busy;                  /* calls running with the GIL released */
    PyObject *weakreflist;
} LinkerObject;

typedef struct {
    PyObject_HEAD
    wasmtime_instance_pre_t *pre; /* owned */
    PyObject *engine;             /* strong */
    PyObject *host_objects;       /* strong: the linker's list */
    PyObject *module;             /* strong: the ModuleObject, for its Instances */
    bool imports_wasi;            /* the module imports a WASI module */
    int busy;                     /* instantiations running without the GIL */
    ext_state *st;
} InstancePreObject;

/* Definition tuples stored in `defs`:
 *   ("func", FuncType, callable, access_caller)   store-independent
 *   ("item", Store, extern)                        store-bound item
 *   ("wasi", FuncType)                             from define_wasi
 *   ("module", Store, Module, type)                from define_module
 *   ("default", type)                              unknown-import trap stand-in
 *   ("item", Store, None, type)                    unknown-import default value */

static const char *const WASI_MODULES[] = {"wasi_snapshot_preview1", "wasi_unstable", NULL};

/* The preview1 functions define_wasi adds (a fact of the WASI spec), used to
 * record their types. */
static const char *const WASI_P1_FUNCS[] = {
    "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_res_get",
    "clock_time_get", "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get",
    "fd_fdstat_set_flags", "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size",
    "fd_filestat_set_times", "fd_pread", "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite",
    "fd_read", "fd_readdir", "fd_renumber", "fd_seek", "fd_sync", "fd_tell", "fd_write",
    "path_create_directory", "path_filestat_get", "path_filestat_set_times", "path_link",
    "path_open", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
    "path_unlink_file", "poll_oneoff", "proc_exit", "proc_raise", "sched_yield", "random_get",
    "sock_accept", "sock_recv", "sock_send", "sock_shutdown", NULL};

static bool
is_wasi_module(const char *name, size_t len)
{
    for (int i = 0; WASI_MODULES[i] != NULL; i++) {
        if (strlen(WASI_MODULES[i]) == len && memcmp(WASI_MODULES[i], name, len) == 0) {
            return true;
        }
    }
    return false;
}

static bool
module_imports_wasi(const wasmtime_module_t *m)
{
    wasm_importtype_vec_t vec;
    wasmtime_module_imports(m, &vec);
    bool found = false;
    for (size_t i = 0; i < vec.size && !found; i++) {
        const wasm_name_t *mod = wasm_importtype_module(vec.data[i]);
        found = is_wasi_module(mod->data, mod->size);
    }
    wasm_importtype_vec_delete(&vec);
    return found;
}

static int
no_wasi_context(ext_state *st)
{
    ext_raise_msg(st, "this module imports WASI, but the Store has no WASI context: call "
                      "store.set_wasi(WasiConfig()) first");
    return -1;
}

/* A str argument as UTF-8 (borrowed from the str). */
static const char *
name_arg(ext_state *st, PyObject *obj, Py_ssize_t *len)
{
    if (!PyUnicode_Check(obj)) {
        ext_wrong_type(st, "a str name", obj);
        return NULL;
    }
    return PyUnicode_AsUTF8AndSize(obj, len);
}

static LinkerObject *
linker_open(PyObject *op)
{
    LinkerObject *self = (LinkerObject *)op;
    if (self->linker == NULL) {
        ALREADY_CLOSED();
        return NULL;
    }
    return self;
}

/* Resolve `store` for this linker: same engine, and keep our callables. */
static int
linker_store(LinkerObject *self, PyObject *store, ext_ctx *c)
{
    if (ext_resolve_store(self->st, store, c) < 0) {
        return -1;
    }
    if (c->so->engine != self->engine) {
        ext_raise_msg(self->st, "the Store belongs to another Engine than the Linker");
        return -1;
    }
    return ext_store_keep(c->so, self->host_objects);
}

static int
record(LinkerObject *self, PyObject *module, PyObject *name, PyObject *def)
{
    PyObject *key = PyTuple_Pack(2, module, name);
    if (key == NULL) {
        return -1;
    }
    /* Re-defining moves the name to the end, like a fresh definition. */
    if (PyDict_DelItem(self->defs, key) < 0) {
        PyErr_Clear();
    }
    int rc = PyDict_SetItem(self->defs, key, def);
    Py_DECREF(key);
    return rc;
}

static int
record_str(LinkerObject *self, const char *module, size_t mlen, const char *name, size_t nlen,
           PyObject *def)
{
    PyObject *m = PyUnicode_DecodeUTF8(module, (Py_ssize_t)mlen, "replace");
    PyObject *n = m ? PyUnicode_DecodeUTF8(name, (Py_ssize_t)nlen, "replace") : NULL;
    int rc = n ? record(self, m, n, def) : -1;
    Py_XDECREF(m);
    Py_XDECREF(n);
    return rc;
}

/* ---- construction -------------------------------------------------------------- */

static PyObject *
linker_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"engine", NULL};
    PyObject *engine;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Linker", kwlist, &engine)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(engine, st->Engine_Type)) {
        return ext_wrong_type(st, "an Engine", engine);
    }
    EngineObject *eng = (EngineObject *)engine;
    CHECK_OPEN(eng->engine, NULL);
    LinkerObject *self = (LinkerObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->st = st;
    self->engine = Py_NewRef(engine);
    self->host_objects = PyList_New(0);
    self->defs = PyDict_New();
    if (self->host_objects == NULL || self->defs == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->linker = wasmtime_linker_new(eng->engine);
    return (PyObject *)self;
}

static int
linker_set_shadowing(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return -1;
    }
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete allow_shadowing");
        return -1;
    }
    int t = PyObject_IsTrue(value);
    if (t < 0) {
        return -1;
    }
    self->shadowing = t != 0;
    wasmtime_linker_allow_shadowing(self->linker, self->shadowing);
    return 0;
}

/* ---- define* -------------------------------------------------------------------- */

static PyObject *
extern_type_py(ext_state *st, ext_ctx *c, const wasmtime_extern_t *ext)
{
    wasm_externtype_t *ty = wasmtime_extern_type(c->ctx, ext);
    PyObject *res = externtype_to_py(st, ty);
    wasm_externtype_delete(ty);
    return res;
}

static PyObject *
linker_define(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"store", "module", "name", "item", NULL};
    PyObject *a[4];
    if (ext_parse_args(args, nargs, kwnames, "define", kwlist, 4, a) < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    ext_state *st = self->st;
    ext_ctx c;
    if (linker_store(self, a[0], &c) < 0) {
        return NULL;
    }
    Py_ssize_t mlen, nlen;
    const char *m = name_arg(st, a[1], &mlen);
    const char *n = m ? name_arg(st, a[2], &nlen) : NULL;
    if (n == NULL) {
        return NULL;
    }
    wasmtime_extern_t ext;
    if (ext_py_to_extern(st, c.so, a[3], &ext) < 0) {
        return NULL;
    }
    wasmtime_error_t *err =
        wasmtime_linker_define(self->linker, c.ctx, m, (size_t)mlen, n, (size_t)nlen, &ext);
    if (err != NULL) {
        ext_extern_release(&ext);
        return ext_raise_error(st, err);
    }
    PyObject *ty = extern_type_py(st, &c, &ext);
    ext_extern_release(&ext);
    PyObject *def = ty ? Py_BuildValue("(sOOO)", "item", (PyObject *)c.so, a[3], ty) : NULL;
    Py_XDECREF(ty);
    if (def == NULL || record(self, a[1], a[2], def) < 0) {
        Py_XDECREF(def);
        return NULL;
    }
    Py_DECREF(def);
    Py_RETURN_NONE;
}

static int
define_func_raw(LinkerObject *self, PyObject *module, PyObject *name, PyObject *ty,
                PyObject *callable, bool access_caller)
{
    ext_state *st = self->st;
    Py_ssize_t mlen, nlen;
    const char *m = name_arg(st, module, &mlen);
    const char *n = m ? name_arg(st, name, &nlen) : NULL;
    if (n == NULL) {
        return -1;
    }
    if (!PyObject_TypeCheck(ty, st->FuncType_Type)) {
        ext_wrong_type(st, "a FuncType", ty);
        return -1;
    }
    if (!PyCallable_Check(callable)) {
        ext_wrong_type(st, "a callable", callable);
        return -1;
    }
    const wasm_functype_t *fty = typeobj_get(ty);
    if (fty == NULL) {
        return -1;
    }
    bool numeric;
    void *env = ext_hostfunc_new(st, fty, callable, access_caller, &numeric);
    if (env == NULL) {
        return -1;
    }
    wasmtime_func_callback_t checked;
    wasmtime_func_unchecked_callback_t unchecked;
    void (*finalizer)(void *);
    ext_hostfunc_callbacks(&checked, &unchecked, &finalizer);
    if (PyList_Append(self->host_objects, callable) < 0) {
        finalizer(env);
        return -1;
    }
    wasmtime_error_t *err;
    if (numeric) {
        err = wasmtime_linker_define_func_unchecked(self->linker, m, (size_t)mlen, n,
                                                    (size_t)nlen, fty, unchecked, env, finalizer);
    }
    else {
        err = wasmtime_linker_define_func(self->linker, m, (size_t)mlen, n, (size_t)nlen, fty,
                                          checked, env, finalizer);
    }
    if (err != NULL) {
        return ext_raise_error_int(st, err);
    }
    PyObject *def = Py_BuildValue("(sOOO)", "func", ty, callable,
                                  access_caller ? Py_True : Py_False);
    if (def == NULL || record(self, module, name, def) < 0) {
        Py_XDECREF(def);
        return -1;
    }
    Py_DECREF(def);
    return 0;
}

static PyObject *
linker_define_func(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"module", "name", "ty", "func", "access_caller", NULL};
    PyObject *a[5];
    if (ext_parse_args(args, nargs, kwnames, "define_func", kwlist, 4, a) < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    int access = a[4] == NULL ? 0 : PyObject_IsTrue(a[4]);
    if (access < 0 || define_func_raw(self, a[0], a[1], a[2], a[3], access != 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
linker_define_instance(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                       PyObject *kwnames)
{
    static const char *const kwlist[] = {"store", "name", "instance", NULL};
    PyObject *a[3];
    if (ext_parse_args(args, nargs, kwnames, "define_instance", kwlist, 3, a) < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    ext_state *st = self->st;
    if (!PyObject_TypeCheck(a[2], st->Instance_Type)) {
        return ext_wrong_type(st, "an Instance", a[2]);
    }
    ext_ctx c;
    if (linker_store(self, a[0], &c) < 0) {
        return NULL;
    }
    InstanceObject *inst = (InstanceObject *)a[2];
    if (inst->store != c.so) {
        return ext_raise_msg(st, "object used with the wrong store: the Instance belongs to "
                                 "another Store");
    }
    Py_ssize_t nlen;
    const char *n = name_arg(st, a[1], &nlen);
    if (n == NULL) {
        return NULL;
    }
    wasmtime_error_t *err =
        wasmtime_linker_define_instance(self->linker, c.ctx, n, (size_t)nlen, &inst->instance);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    /* Record each export. */
    for (size_t i = 0;; i++) {
        char *ename;
        size_t elen;
        wasmtime_extern_t ext;
        if (!wasmtime_instance_export_nth(c.ctx, &inst->instance, i, &ename, &elen, &ext)) {
            break;
        }
        PyObject *ty = extern_type_py(st, &c, &ext);
        PyObject *item = ty ? ext_extern_to_py(st, c.so, &ext) : NULL;
        PyObject *def = item ? Py_BuildValue("(sOOO)", "item", (PyObject *)c.so, item, ty) : NULL;
        PyObject *en = def ? PyUnicode_DecodeUTF8(ename, (Py_ssize_t)elen, "replace") : NULL;
        int rc = en ? record(self, a[1], en, def) : -1;
        Py_XDECREF(ty);
        Py_XDECREF(item);
        Py_XDECREF(def);
        Py_XDECREF(en);
        if (rc < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *
linker_define_wasi(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    ext_state *st = self->st;
    wasmtime_error_t *err = wasmtime_linker_define_wasi(self->linker);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    self->has_wasi = true;
    /* Record the functions with their types, looked up in a scratch store
     * (nothing is called). */
    wasmtime_store_t *scratch = wasmtime_store_new(((EngineObject *)self->engine)->engine,
                                                   NULL, NULL);
    wasmtime_context_t *ctx = wasmtime_store_context(scratch);
    const char *mod = WASI_MODULES[0];
    int rc = 0;
    for (int i = 0; WASI_P1_FUNCS[i] != NULL && rc == 0; i++) {
        wasmtime_extern_t ext;
        const char *fn = WASI_P1_FUNCS[i];
        if (!wasmtime_linker_get(self->linker, ctx, mod, strlen(mod), fn, strlen(fn), &ext)) {
            continue;
        }
        wasm_externtype_t *ty = wasmtime_extern_type(ctx, &ext);
        PyObject *pyty = externtype_to_py(st, ty);
        wasm_externtype_delete(ty);
        wasmtime_extern_delete(&ext);
        PyObject *def = pyty ? Py_BuildValue("(sO)", "wasi", pyty) : NULL;
        Py_XDECREF(pyty);
        rc = def ? record_str(self, mod, strlen(mod), fn, strlen(fn), def) : -1;
        Py_XDECREF(def);
    }
    wasmtime_store_delete(scratch);
    if (rc < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
linker_define_module(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"store", "name", "module", NULL};
    PyObject *a[3];
    if (ext_parse_args(args, nargs, kwnames, "define_module", kwlist, 3, a) < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    ext_state *st = self->st;
    if (!PyObject_TypeCheck(a[2], st->Module_Type)) {
        return ext_wrong_type(st, "a Module", a[2]);
    }
    ext_ctx c;
    if (linker_store(self, a[0], &c) < 0) {
        return NULL;
    }
    const wasmtime_module_t *m = ext_module_for_store(st, a[2], c.so);
    if (m == NULL) {
        return NULL;
    }
    if (self->has_wasi && !c.so->has_wasi && module_imports_wasi(m)) {
        return no_wasi_context(st), NULL;
    }
    Py_ssize_t nlen;
    const char *n = name_arg(st, a[1], &nlen);
    if (n == NULL) {
        return NULL;
    }
    wasmtime_error_t *err;
    wasmtime_module_t *mc = wasmtime_module_clone(m); /* see linker_instantiate */
    self->busy++;
    ext_call_enter(c.so);
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_linker_module(self->linker, c.ctx, n, (size_t)nlen, mc);
    wasmtime_module_delete(mc);
    Py_END_ALLOW_THREADS
    ext_call_leave(c.so);
    self->busy--;
    if (ext_call_finish(st, c.so, err, NULL) < 0) {
        return NULL;
    }
    wasm_exporttype_vec_t vec;
    wasmtime_module_exports(m, &vec);
    /* A command (exports `_start`) only has its functions defined: Wasmtime
     * skips the memory and tables it tolerates in a command. */
    bool command = false;
    for (size_t i = 0; i < vec.size; i++) {
        const wasm_name_t *en = wasm_exporttype_name(vec.data[i]);
        if (en->size == 6 && memcmp(en->data, "_start", 6) == 0) {
            command = true;
        }
    }
    int rc = 0;
    for (size_t i = 0; i < vec.size && rc == 0; i++) {
        const wasm_name_t *en = wasm_exporttype_name(vec.data[i]);
        const wasm_externtype_t *ety = wasm_exporttype_type(vec.data[i]);
        if (command && wasm_externtype_kind(ety) != WASM_EXTERN_FUNC) {
            continue;
        }
        PyObject *ty = externtype_to_py(st, ety);
        PyObject *def = ty ? Py_BuildValue("(sOOO)", "module", (PyObject *)c.so, a[2], ty) : NULL;
        Py_XDECREF(ty);
        rc = def ? record_str(self, n, (size_t)nlen, en->data, en->size, def) : -1;
        Py_XDECREF(def);
    }
    wasm_exporttype_vec_delete(&vec);
    if (rc < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Record every import of `m` not yet defined: as a ("default", type) trap
 * stand-in (function imports only) when `store` is NULL, else as a value
 * ("item", store, None, type) bound to `store`. */
static int
record_unknown_imports(LinkerObject *self, const wasmtime_module_t *m, PyObject *store)
{
    bool funcs_only = store == NULL;
    wasm_importtype_vec_t vec;
    wasmtime_module_imports(m, &vec);
    int rc = 0;
    for (size_t i = 0; i < vec.size && rc == 0; i++) {
        const wasm_name_t *mod = wasm_importtype_module(vec.data[i]);
        const wasm_name_t *nm = wasm_importtype_name(vec.data[i]);
        if (funcs_only &&
            wasm_externtype_kind(wasm_importtype_type(vec.data[i])) != WASM_EXTERN_FUNC) {
            continue;
        }
        PyObject *pm = PyUnicode_DecodeUTF8(mod->data, (Py_ssize_t)mod->size, "replace");
        PyObject *pn = pm ? PyUnicode_DecodeUTF8(nm->data, (Py_ssize_t)nm->size, "replace") : NULL;
        PyObject *key = pn ? PyTuple_Pack(2, pm, pn) : NULL;
        int has = key ? PyDict_Contains(self->defs, key) : -1;
        if (has == 0) {
            PyObject *ty = externtype_to_py(self->st, wasm_importtype_type(vec.data[i]));
            PyObject *def = ty == NULL ? NULL
                            : store == NULL ? Py_BuildValue("(sO)", "default", ty)
                                            : Py_BuildValue("(sOOO)", "item", store, Py_None, ty);
            Py_XDECREF(ty);
            rc = def ? PyDict_SetItem(self->defs, key, def) : -1;
            Py_XDECREF(def);
        }
        else if (has < 0) {
            rc = -1;
        }
        Py_XDECREF(pm);
        Py_XDECREF(pn);
        Py_XDECREF(key);
    }
    wasm_importtype_vec_delete(&vec);
    return rc;
}

static const wasmtime_module_t *
linker_module_arg(LinkerObject *self, PyObject *module)
{
    if (!PyObject_TypeCheck(module, self->st->Module_Type)) {
        ext_wrong_type(self->st, "a Module", module);
        return NULL;
    }
    ModuleObject *mo = (ModuleObject *)module;
    CHECK_OPEN(mo->module, NULL);
    if (mo->engine != self->engine) {
        ext_raise_msg(self->st, "the Module was compiled by another Engine than the Linker's");
        return NULL;
    }
    return mo->module;
}

static PyObject *
linker_define_unknown_imports_as_traps(PyObject *op, PyObject *module)
{
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    const wasmtime_module_t *m = linker_module_arg(self, module);
    if (m == NULL) {
        return NULL;
    }
    wasmtime_error_t *err = wasmtime_linker_define_unknown_imports_as_traps(self->linker, m);
    if (err == NULL && record_unknown_imports(self, m, NULL) < 0) {
        return NULL;
    }
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    Py_RETURN_NONE;
}

static PyObject *
linker_define_unknown_imports_as_default_values(PyObject *op, PyObject *const *args,
                                                Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"store", "module", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "define_unknown_imports_as_default_values", kwlist,
                       2, a) < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    const wasmtime_module_t *m = linker_module_arg(self, a[1]);
    if (m == NULL) {
        return NULL;
    }
    ext_ctx c;
    if (linker_store(self, a[0], &c) < 0) {
        return NULL;
    }
    wasmtime_error_t *err =
        wasmtime_linker_define_unknown_imports_as_default_values(self->linker, c.ctx, m);
    if (err == NULL && record_unknown_imports(self, m, (PyObject *)c.so) < 0) {
        return NULL;
    }
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    Py_RETURN_NONE;
}

/* ---- lookups -------------------------------------------------------------------- */

/* Add "(the linker defines under `m`: a, b)" to a missing-import error. */
static void
explain_missing_import(LinkerObject *self, const wasmtime_module_t *m)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *msg = value ? PyObject_Str(value) : NULL;
    PyObject *needle = PyUnicode_FromString("unknown import");
    Py_ssize_t at = (msg && needle) ? PyUnicode_Find(msg, needle, 0, PY_SSIZE_T_MAX, 1) : -1;
    Py_XDECREF(needle);
    if (at < 0) {
        PyErr_Clear();
        Py_XDECREF(msg);
        PyErr_Restore(type, value, tb);
        return;
    }
    wasm_importtype_vec_t vec;
    wasmtime_module_imports(m, &vec);
    PyObject *extra = NULL;
    for (size_t i = 0; i < vec.size && extra == NULL; i++) {
        const wasm_name_t *mod = wasm_importtype_module(vec.data[i]);
        const wasm_name_t *nm = wasm_importtype_name(vec.data[i]);
        PyObject *pm = PyUnicode_DecodeUTF8(mod->data, (Py_ssize_t)mod->size, "replace");
        PyObject *pn = PyUnicode_DecodeUTF8(nm->data, (Py_ssize_t)nm->size, "replace");
        PyObject *key = (pm && pn) ? PyTuple_Pack(2, pm, pn) : NULL;
        if (key != NULL && PyDict_Contains(self->defs, key) == 0 &&
            !(self->has_wasi && is_wasi_module(mod->data, mod->size))) {
            PyObject *names = PyList_New(0);
            PyObject *k, *v;
            Py_ssize_t pos = 0;
            while (names && PyDict_Next(self->defs, &pos, &k, &v)) {
                int eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(k, 0), pm, Py_EQ);
                if (eq > 0) {
                    PyList_Append(names, PyTuple_GET_ITEM(k, 1));
                }
            }
            PyObject *sep = PyUnicode_FromString(", ");
            PyObject *joined = (names && sep) ? PyUnicode_Join(sep, names) : NULL;
            if (joined != NULL) {
                extra = PyList_GET_SIZE(names) == 0
                            ? PyUnicode_FromFormat("%U (the linker defines nothing under `%U`)",
                                                   msg, pm)
                            : PyUnicode_FromFormat("%U (the linker defines under `%U`: %U)", msg,
                                                   pm, joined);
            }
            Py_XDECREF(joined);
            Py_XDECREF(sep);
            Py_XDECREF(names);
        }
        Py_XDECREF(key);
        Py_XDECREF(pm);
        Py_XDECREF(pn);
    }
    wasm_importtype_vec_delete(&vec);
    PyErr_Clear();
    if (extra != NULL && PyObject_SetAttr(value, self->st->str_message, extra) < 0) {
        PyErr_Clear();
    }
    Py_XDECREF(extra);
    Py_DECREF(msg);
    PyErr_Restore(type, value, tb);
}

static PyObject *
linker_instantiate(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"store", "module", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "instantiate", kwlist, 2, a) < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    ext_state *st = self->st;
    if (!PyObject_TypeCheck(a[1], st->Module_Type)) {
        return ext_wrong_type(st, "a Module", a[1]);
    }
    ext_ctx c;
    if (linker_store(self, a[0], &c) < 0) {
        return NULL;
    }
    const wasmtime_module_t *m = ext_module_for_store(st, a[1], c.so);
    if (m == NULL) {
        return NULL;
    }
    if (self->has_wasi && !c.so->has_wasi && module_imports_wasi(m)) {
        return no_wasi_context(st), NULL;
    }
    wasmtime_instance_t inst;
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    /* While the GIL is released another thread may close the Module (so
     * we use a clone) or the Linker (which close() refuses while busy). */
    wasmtime_module_t *mc = wasmtime_module_clone(m);
    self->busy++;
    ext_call_enter(c.so);
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_linker_instantiate(self->linker, c.ctx, mc, &inst, &trap);
    Py_END_ALLOW_THREADS
    ext_call_leave(c.so);
    self->busy--;
    PyObject *res = NULL;
    if (ext_call_finish(st, c.so, err, trap) < 0) {
        if (PyErr_ExceptionMatches(st->WasmtimeError)) {
            explain_missing_import(self, mc);
        }
    }
    else {
        res = ext_instance_wrap(st, c.so, &inst, a[1]);
    }
    wasmtime_module_delete(mc);
    return res;
}

/* Store-bound definitions (define, define_instance, define_module, default
 * values) belong to the Store they were made with.  Wasmtime hands them out
 * to any Store, and the first use of such a handle in the wrong Store
 * panics (aborting the process): refuse them here.  Returns 1 if `module`
 * defines `name`, 0 if not, -1 with an exception set. */
static int
check_def_store(LinkerObject *self, PyObject *module, PyObject *name, StoreObject *so)
{
    PyObject *key = PyTuple_Pack(2, module, name);
    if (key == NULL) {
        return -1;
    }
    PyObject *def = PyDict_GetItemWithError(self->defs, key);
    Py_DECREF(key);
    if (def == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    const char *kind = PyUnicode_AsUTF8(PyTuple_GET_ITEM(def, 0));
    if (kind == NULL) {
        return -1;
    }
    if ((strcmp(kind, "item") == 0 || strcmp(kind, "module") == 0) &&
        PyTuple_GET_ITEM(def, 1) != (PyObject *)so) {
        ext_raise_msg(self->st, "object used with the wrong store: `%U::%U` was defined with "
                                "another Store", module, name);
        return -1;
    }
    return 1;
}

static PyObject *
linker_get_default(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"store", "name", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "get_default", kwlist, 2, a) < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    ext_ctx c;
    if (linker_store(self, a[0], &c) < 0) {
        return NULL;
    }
    Py_ssize_t nlen;
    const char *n = name_arg(self->st, a[1], &nlen);
    if (n == NULL) {
        return NULL;
    }
    /* Wasmtime's default: the export "", else "_start", else a no-op. */
    PyObject *empty = PyUnicode_FromString("");
    int found = empty ? check_def_store(self, a[1], empty, c.so) : -1;
    Py_XDECREF(empty);
    if (found == 0) {
        PyObject *start = PyUnicode_FromString("_start");
        found = start ? check_def_store(self, a[1], start, c.so) : -1;
        Py_XDECREF(start);
    }
    if (found < 0) {
        return NULL;
    }
    wasmtime_func_t f;
    wasmtime_error_t *err = wasmtime_linker_get_default(self->linker, c.ctx, n, (size_t)nlen, &f);
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    return func_wrap(self->st, c.so, &f);
}

static PyObject *
linker_get(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"store", "module", "name", NULL};
    PyObject *a[3];
    if (ext_parse_args(args, nargs, kwnames, "get", kwlist, 3, a) < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    ext_state *st = self->st;
    ext_ctx c;
    if (linker_store(self, a[0], &c) < 0) {
        return NULL;
    }
    Py_ssize_t mlen, nlen;
    const char *m = name_arg(st, a[1], &mlen);
    const char *n = m ? name_arg(st, a[2], &nlen) : NULL;
    if (n == NULL) {
        return NULL;
    }
    if (self->has_wasi && !c.so->has_wasi && is_wasi_module(m, (size_t)mlen)) {
        return no_wasi_context(st), NULL;
    }
    if (check_def_store(self, a[1], a[2], c.so) < 0) {
        return NULL;
    }
    wasmtime_extern_t ext;
    if (!wasmtime_linker_get(self->linker, c.ctx, m, (size_t)mlen, n, (size_t)nlen, &ext)) {
        return ext_raise_msg(st, "item not defined in linker: `%U::%U`", a[1], a[2]);
    }
    return ext_extern_to_py(st, c.so, &ext);
}

/* ---- beyond wasmtime-py: iteration and aliases ------------------------------- */

static PyObject *
linker_iter(PyObject *op)
{
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    PyObject *list = PyList_New(0);
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (list != NULL && PyDict_Next(self->defs, &pos, &k, &v)) {
        PyObject *ty = PyTuple_GET_ITEM(v, PyTuple_GET_SIZE(v) - 1);
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(v, 0), "func") == 0) {
            ty = PyTuple_GET_ITEM(v, 1);
        }
        PyObject *t = PyTuple_Pack(3, PyTuple_GET_ITEM(k, 0), PyTuple_GET_ITEM(k, 1), ty);
        if (t == NULL || PyList_Append(list, t) < 0) {
            Py_XDECREF(t);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(t);
    }
    if (list == NULL) {
        return NULL;
    }
    PyObject *it = PyObject_GetIter(list);
    Py_DECREF(list);
    return it;
}

static int
alias_one(LinkerObject *self, PyObject *module, PyObject *name, PyObject *as_module,
          PyObject *as_name)
{
    ext_state *st = self->st;
    PyObject *key = PyTuple_Pack(2, module, name);
    if (key == NULL) {
        return -1;
    }
    PyObject *def = PyDict_GetItemWithError(self->defs, key);
    Py_DECREF(key);
    if (def == NULL) {
        if (!PyErr_Occurred()) {
            ext_raise_msg(st, "cannot alias `%S::%S`: the linker does not define it", module,
                          name);
        }
        return -1;
    }
    Py_INCREF(def);
    const char *kind = PyUnicode_AsUTF8(PyTuple_GET_ITEM(def, 0));
    int rc = -1;
    if (kind != NULL && strcmp(kind, "func") == 0) {
        int access = PyObject_IsTrue(PyTuple_GET_ITEM(def, 3));
        rc = define_func_raw(self, as_module, as_name, PyTuple_GET_ITEM(def, 1),
                             PyTuple_GET_ITEM(def, 2), access > 0);
    }
    else if (kind != NULL && (strcmp(kind, "item") == 0 || strcmp(kind, "module") == 0)) {
        /* A store-bound item: define the same extern in the store it lives in. */
        PyObject *store = PyTuple_GET_ITEM(def, 1);
        ext_ctx c;
        Py_ssize_t mlen, nlen, amlen, anlen;
        const char *m = name_arg(st, module, &mlen), *n = name_arg(st, name, &nlen);
        const char *am = name_arg(st, as_module, &amlen), *an = name_arg(st, as_name, &anlen);
        wasmtime_extern_t ext;
        if (m && n && am && an && linker_store(self, store, &c) == 0) {
            if (!wasmtime_linker_get(self->linker, c.ctx, m, (size_t)mlen, n, (size_t)nlen,
                                     &ext)) {
                ext_raise_msg(st, "cannot alias `%S::%S`: it is no longer defined", module, name);
            }
            else {
                wasmtime_error_t *err = wasmtime_linker_define(
                    self->linker, c.ctx, am, (size_t)amlen, an, (size_t)anlen, &ext);
                wasmtime_extern_delete(&ext);
                if (err != NULL) {
                    ext_raise_error(st, err);
                }
                else {
                    rc = record(self, as_module, as_name, def);
                }
            }
        }
    }
    else {
        ext_raise_msg(st, "cannot alias `%S::%S`: %s definitions are not store-bound items or "
                          "host functions", module, name, kind ? kind : "these");
    }
    Py_DECREF(def);
    return rc;
}

static PyObject *
linker_alias(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"module", "name", "as_module", "as_name", NULL};
    PyObject *a[4];
    if (ext_parse_args(args, nargs, kwnames, "alias", kwlist, 4, a) < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL || alias_one(self, a[0], a[1], a[2], a[3]) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
linker_alias_module(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"module", "as_module", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "alias_module", kwlist, 2, a) < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    /* Snapshot the names first: aliasing adds definitions. */
    PyObject *names = PyList_New(0);
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (names && PyDict_Next(self->defs, &pos, &k, &v)) {
        int eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(k, 0), a[0], Py_EQ);
        if (eq < 0 || (eq > 0 && PyList_Append(names, PyTuple_GET_ITEM(k, 1)) < 0)) {
            Py_CLEAR(names);
        }
    }
    if (names == NULL) {
        return NULL;
    }
    if (PyList_GET_SIZE(names) == 0) {
        Py_DECREF(names);
        return ext_raise_msg(self->st, "cannot alias module `%S`: the linker defines nothing "
                                       "under it", a[0]);
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names); i++) {
        PyObject *n = PyList_GET_ITEM(names, i);
        if (alias_one(self, a[0], n, a[1], n) < 0) {
            Py_DECREF(names);
            return NULL;
        }
    }
    Py_DECREF(names);
    Py_RETURN_NONE;
}

/* ---- InstancePre ---------------------------------------------------------------- */

static PyObject *
linker_instantiate_pre(PyObject *op, PyObject *module)
{
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    ext_state *st = self->st;
    const wasmtime_module_t *m = linker_module_arg(self, module);
    if (m == NULL) {
        return NULL;
    }
    wasmtime_instance_pre_t *pre = NULL;
    wasmtime_error_t *err = wasmtime_linker_instantiate_pre(self->linker, m, &pre);
    if (err != NULL) {
        ext_raise_error(st, err);
        explain_missing_import(self, m);
        return NULL;
    }
    InstancePreObject *ip = PyObject_GC_New(InstancePreObject, st->InstancePre_Type);
    if (ip == NULL) {
        wasmtime_instance_pre_delete(pre);
        return NULL;
    }
    ip->pre = pre;
    ip->module = Py_NewRef(module);
    ((ModuleObject *)module)->has_users = true;
    ip->engine = Py_NewRef(self->engine);
    ip->host_objects = Py_NewRef(self->host_objects);
    ip->imports_wasi = self->has_wasi && module_imports_wasi(m);
    ip->busy = 0;
    ip->st = st;
    PyObject_GC_Track(ip);
    return (PyObject *)ip;
}

static PyObject *
instancepre_instantiate(PyObject *op, PyObject *store)
{
    InstancePreObject *self = (InstancePreObject *)op;
    ext_state *st = self->st;
    CHECK_OPEN(self->pre, NULL);
    ext_ctx c;
    if (ext_resolve_store(st, store, &c) < 0) {
        return NULL;
    }
    if (c.so->engine != self->engine) {
        return ext_raise_msg(st, "the Store belongs to another Engine than the InstancePre");
    }
    if (self->imports_wasi && !c.so->has_wasi) {
        return no_wasi_context(st), NULL;
    }
    if (ext_store_keep(c.so, self->host_objects) < 0) {
        return NULL;
    }
    wasmtime_instance_t inst;
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    self->busy++;
    ext_call_enter(c.so);
    Py_BEGIN_ALLOW_THREADS
    err = wasmtime_instance_pre_instantiate(self->pre, c.ctx, &inst, &trap);
    Py_END_ALLOW_THREADS
    ext_call_leave(c.so);
    self->busy--;
    if (ext_call_finish(st, c.so, err, trap) < 0) {
        return NULL;
    }
    return ext_instance_wrap(st, c.so, &inst, self->module);
}

static PyObject *
instancepre_module(PyObject *op, void *Py_UNUSED(closure))
{
    InstancePreObject *self = (InstancePreObject *)op;
    CHECK_OPEN(self->pre, NULL);
    ModuleObject *m = PyObject_GC_New(ModuleObject, self->st->Module_Type);
    if (m == NULL) {
        return NULL;
    }
    m->weakreflist = NULL;
    m->module = wasmtime_instance_pre_module(self->pre);
    m->engine = Py_NewRef(self->engine);
    m->export_names = Py_XNewRef(((ModuleObject *)self->module)->export_names);
    m->has_users = false;
    m->st = self->st;
    PyObject_GC_Track(m);
    return (PyObject *)m;
}

static PyObject *
instancepre_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    InstancePreObject *self = (InstancePreObject *)op;
    if (self->busy > 0) {
        PyErr_SetString(PyExc_RuntimeError,
                        "cannot close an InstancePre while it is instantiating");
        return NULL;
    }
    if (self->pre != NULL) {
        wasmtime_instance_pre_delete(self->pre);
        self->pre = NULL;
    }
    Py_RETURN_NONE;
}

static int
instancepre_traverse(PyObject *op, visitproc visit, void *arg)
{
    InstancePreObject *self = (InstancePreObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->engine);
    Py_VISIT(self->host_objects);
    Py_VISIT(self->module);
    return 0;
}

static int
instancepre_clear(PyObject *op)
{
    InstancePreObject *self = (InstancePreObject *)op;
    if (self->pre != NULL) {
        wasmtime_instance_pre_delete(self->pre);
        self->pre = NULL;
    }
    Py_CLEAR(self->host_objects);
    Py_CLEAR(self->module);
    Py_CLEAR(self->engine);
    return 0;
}

static void
instancepre_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)instancepre_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* ---- Linker slots ------------------------------------------------------------------ */

static PyObject *
linker_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    LinkerObject *self = (LinkerObject *)op;
    if (self->busy > 0) {
        PyErr_SetString(PyExc_RuntimeError,
                        "cannot close a Linker while it is instantiating");
        return NULL;
    }
    if (self->linker != NULL) {
        wasmtime_linker_delete(self->linker);
        self->linker = NULL;
    }
    Py_RETURN_NONE;
}

static int
linker_traverse(PyObject *op, visitproc visit, void *arg)
{
    LinkerObject *self = (LinkerObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->engine);
    Py_VISIT(self->host_objects);
    Py_VISIT(self->defs);
    return 0;
}

static int
linker_clear(PyObject *op)
{
    LinkerObject *self = (LinkerObject *)op;
    /* The C linker borrows our callables: it goes first. */
    if (self->linker != NULL) {
        wasmtime_linker_delete(self->linker);
        self->linker = NULL;
    }
    Py_CLEAR(self->defs);
    Py_CLEAR(self->host_objects);
    Py_CLEAR(self->engine);
    return 0;
}

static void
linker_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    EXT_CLEAR_WEAKREFS(op, ((LinkerObject *)op)->weakreflist);
    (void)linker_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyObject *
linker_engine(PyObject *op, void *Py_UNUSED(closure))
{
    PyObject *e = ((LinkerObject *)op)->engine;
    return Py_NewRef(e != NULL ? e : Py_None);
}

#define FASTCALL_KW(f) ((PyCFunction)(void (*)(void))(f)), METH_FASTCALL | METH_KEYWORDS

EXT_KW1(linker_define_unknown_imports_as_traps, "define_unknown_imports_as_traps", "module")
EXT_KW1(linker_instantiate_pre, "instantiate_pre", "module")
EXT_KW1(instancepre_instantiate, "instantiate", "store")

static PyMethodDef linker_methods[] = {
    {"define", FASTCALL_KW(linker_define),
     "define($self, store, module, name, item)\n--\n\nDefine `module`.`name` as `item` "
     "(a Func, Global, Memory, SharedMemory, Table or Tag of `store`)."},
    {"define_func", FASTCALL_KW(linker_define_func),
     "define_func($self, module, name, ty, func, access_caller=False)\n--\n\n"
     "Define a host function usable with every Store of the engine."},
    {"define_instance", FASTCALL_KW(linker_define_instance),
     "define_instance($self, store, name, instance)\n--\n\nDefine every export of "
     "`instance` under module `name`."},
    {"define_wasi", linker_define_wasi, METH_NOARGS,
     "define_wasi($self, /)\n--\n\nDefine WASI preview 1 (wasi_snapshot_preview1)."},
    {"define_module", FASTCALL_KW(linker_define_module),
     "define_module($self, store, name, module)\n--\n\nDefine the exports of `module` under "
     "`name` (commands are instantiated per call, reactors once)."},
    {"define_unknown_imports_as_traps", EXT_KW1_ENTRY(linker_define_unknown_imports_as_traps),
     "define_unknown_imports_as_traps($self, module)\n--\n\nDefine every missing function "
     "import of `module` as one that traps."},
    {"define_unknown_imports_as_default_values",
     FASTCALL_KW(linker_define_unknown_imports_as_default_values),
     "define_unknown_imports_as_default_values($self, store, module)\n--\n\n"
     "Define every missing import of `module` as a default value."},
    {"instantiate", FASTCALL_KW(linker_instantiate),
     "instantiate($self, store, module)\n--\n\nInstantiate `module`, resolving its imports."},
    {"instantiate_pre", EXT_KW1_ENTRY(linker_instantiate_pre),
     "instantiate_pre($self, module)\n--\n\nResolve `module`'s imports once; the "
     "InstancePre instantiates it quickly in any Store."},
    {"get_default", FASTCALL_KW(linker_get_default),
     "get_default($self, store, name)\n--\n\nThe default export of module `name`."},
    {"get", FASTCALL_KW(linker_get),
     "get($self, store, module, name)\n--\n\nThe item defined as `module`.`name`."},
    {"alias", FASTCALL_KW(linker_alias),
     "alias($self, module, name, as_module, as_name)\n--\n\nDefine `as_module`.`as_name` as "
     "the item defined as `module`.`name`."},
    {"alias_module", FASTCALL_KW(linker_alias_module),
     "alias_module($self, module, as_module)\n--\n\nDefine every item of `module` again "
     "under `as_module`."},
    {"close", linker_close, METH_NOARGS, "close($self, /)\n--\n\nFree the linker."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef linker_getset[] = {
    {"allow_shadowing", NULL, linker_set_shadowing,
     "Write-only: whether later definitions may replace earlier ones.", NULL},
    {"engine", linker_engine, NULL, "The Engine of this linker.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef linker_members[] = {
    EXT_WEAKREF_MEMBER(LinkerObject, weakreflist),
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot linker_slots[] = {
    {Py_tp_members, linker_members},
    {Py_tp_new, linker_new},
    {Py_tp_dealloc, linker_dealloc},
    {Py_tp_traverse, linker_traverse},
    {Py_tp_clear, linker_clear},
    {Py_tp_iter, linker_iter},
    {Py_tp_methods, linker_methods},
    {Py_tp_getset, linker_getset},
    {Py_tp_doc, "Linker(engine)\n--\n\nResolves imports by name. Iterating yields "
                "(module, name, type) for every definition."},
    {0, NULL},
};

static PyType_Spec linker_spec = {
    .name = "wasmtime.Linker",
    .basicsize = sizeof(LinkerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = linker_slots,
};

static PyMethodDef instancepre_methods[] = {
    {"instantiate", EXT_KW1_ENTRY(instancepre_instantiate),
     "instantiate($self, store)\n--\n\nA new Instance in `store`."},
    {"close", instancepre_close, METH_NOARGS, "close($self, /)\n--\n\nFree it."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef instancepre_getset[] = {
    {"module", instancepre_module, NULL, "The Module (a new handle each time).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot instancepre_slots[] = {
    {Py_tp_dealloc, instancepre_dealloc},
    {Py_tp_traverse, instancepre_traverse},
    {Py_tp_clear, instancepre_clear},
    {Py_tp_methods, instancepre_methods},
    {Py_tp_getset, instancepre_getset},
    {Py_tp_doc, "A module with its imports resolved by a Linker, ready to instantiate."},
    {0, NULL},
};

static PyType_Spec instancepre_spec = {
    .name = "wasmtime.InstancePre",
    .basicsize = sizeof(InstancePreObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = instancepre_slots,
};

int
linker_register(PyObject *mod, ext_state *st)
{
    PyObject *base = (PyObject *)st->Managed_Type;
    if ((st->Linker_Type = ext_add_type(mod, &linker_spec, base)) == NULL ||
        (st->InstancePre_Type = ext_add_type(mod, &instancepre_spec, base)) == NULL) {
        return -1;
    }
    return 0;
}
