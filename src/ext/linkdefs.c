/* Floor 3: the Linker's registry of what it defines.
 *
 * Wasmtime's linker cannot list its definitions, so the Linker records each
 * one here: a dict (module, name) -> definition, in definition order.  It
 * gives iteration, alias()/alias_module(), wrong-store checks for
 * store-bound definitions, and missing-import errors that say what is
 * defined.
 *
 * Keys are tuples of two exact str objects, made here from the caller's
 * names (a str subclass is copied), so no dict operation on the registry
 * runs Python code: no __eq__ or __hash__ of a user's object can close the
 * Linker in the middle of a lookup.  Definitions are immutable tuples read
 * through the accessors of runtime.h; the GC sees every object in them.
 */
#include "runtime.h"

/* ---- definitions ---------------------------------------------------------- */

enum {
    DEF_KIND,
    DEF_TYPE,
    DEF_STORE,
    DEF_PAYLOAD,
    DEF_ACCESS,
    DEF_SIZE
};

PyObject *
ext_linkdef_new(linkdef_kind kind, PyObject *type, PyObject *store, PyObject *payload,
                bool access_caller)
{
    PyObject *k = PyLong_FromLong((long)kind);
    if (k == NULL) {
        return NULL;
    }
    PyObject *def = PyTuple_Pack(DEF_SIZE, k, type, store ? store : Py_None,
                                 payload ? payload : Py_None, access_caller ? Py_True : Py_False);
    Py_DECREF(k);
    return def;
}

linkdef_kind
ext_linkdef_kind(PyObject *def)
{
    return (linkdef_kind)PyLong_AsLong(PyTuple_GET_ITEM(def, DEF_KIND));
}

PyObject *
ext_linkdef_type(PyObject *def)
{
    return PyTuple_GET_ITEM(def, DEF_TYPE);
}

PyObject *
ext_linkdef_store(PyObject *def)
{
    return PyTuple_GET_ITEM(def, DEF_STORE);
}

PyObject *
ext_linkdef_payload(PyObject *def)
{
    return PyTuple_GET_ITEM(def, DEF_PAYLOAD);
}

bool
ext_linkdef_access_caller(PyObject *def)
{
    return PyTuple_GET_ITEM(def, DEF_ACCESS) == Py_True;
}

/* ---- the registry --------------------------------------------------------- */

/* An exact str copy of a str (or subclass) name: see the header comment. */
static PyObject *
exact_str(PyObject *name)
{
    if (PyUnicode_CheckExact(name)) {
        return Py_NewRef(name);
    }
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "expected a str name, got %.200s", Py_TYPE(name)->tp_name);
        return NULL;
    }
    return PyUnicode_FromObject(name);
}

static PyObject *
make_key(PyObject *module, PyObject *name)
{
    PyObject *m = exact_str(module);
    PyObject *n = m ? exact_str(name) : NULL;
    PyObject *key = n ? PyTuple_Pack(2, m, n) : NULL;
    Py_XDECREF(m);
    Py_XDECREF(n);
    return key;
}

int
ext_linkdefs_record(PyObject *defs, PyObject *module, PyObject *name, PyObject *def)
{
    PyObject *key = make_key(module, name);
    if (key == NULL) {
        return -1;
    }
    /* Re-defining moves the name to the end, like a fresh definition. */
    if (PyDict_DelItem(defs, key) < 0) {
        PyErr_Clear();
    }
    int rc = PyDict_SetItem(defs, key, def);
    Py_DECREF(key);
    return rc;
}

int
ext_linkdefs_record_utf8(PyObject *defs, const char *module, size_t mlen, const char *name,
                         size_t nlen, PyObject *def)
{
    PyObject *m = PyUnicode_DecodeUTF8(module, (Py_ssize_t)mlen, "replace");
    PyObject *n = m ? PyUnicode_DecodeUTF8(name, (Py_ssize_t)nlen, "replace") : NULL;
    int rc = n ? ext_linkdefs_record(defs, m, n, def) : -1;
    Py_XDECREF(m);
    Py_XDECREF(n);
    return rc;
}

PyObject *
ext_linkdefs_get(PyObject *defs, PyObject *module, PyObject *name)
{
    PyObject *key = make_key(module, name);
    if (key == NULL) {
        return NULL;
    }
    PyObject *def;
    (void)PyDict_GetItemRef(defs, key, &def);
    Py_DECREF(key);
    return def;
}

int
ext_linkdefs_record_unknown(ext_state *st, PyObject *defs, const wasmtime_module_t *m,
                            PyObject *store)
{
    bool funcs_only = store == NULL;
    wasm_importtype_vec_t vec;
    wasmtime_module_imports(m, &vec);
    int rc = 0;
    for (size_t i = 0; i < vec.size && rc == 0; i++) {
        const wasm_name_t *mod = wasm_importtype_module(vec.data[i]);
        const wasm_name_t *nm = wasm_importtype_name(vec.data[i]);
        const wasm_externtype_t *ety = wasm_importtype_type(vec.data[i]);
        if (funcs_only && wasm_externtype_kind(ety) != WASM_EXTERN_FUNC) {
            continue;
        }
        PyObject *pm = ext_str_from_name(mod);
        PyObject *pn = pm ? ext_str_from_name(nm) : NULL;
        PyObject *key = pn ? PyTuple_Pack(2, pm, pn) : NULL;
        int has = key ? PyDict_Contains(defs, key) : -1;
        if (has == 0) {
            PyObject *ty = externtype_to_py(st, ety);
            PyObject *def = ty == NULL ? NULL
                            : store == NULL
                                ? ext_linkdef_new(LINKDEF_TRAP_DEFAULT, ty, NULL, NULL, false)
                                : ext_linkdef_new(LINKDEF_VALUE_DEFAULT, ty, store, NULL, false);
            Py_XDECREF(ty);
            rc = def ? PyDict_SetItem(defs, key, def) : -1;
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

PyObject *
ext_linkdefs_names_under(PyObject *defs, PyObject *module)
{
    PyObject *m = exact_str(module);
    if (m == NULL) {
        return NULL;
    }
    PyObject *names = PyList_New(0);
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    /* Locked: without a GIL another thread may define meanwhile. */
    Py_BEGIN_CRITICAL_SECTION(defs);
    while (names != NULL && PyDict_Next(defs, &pos, &k, &v)) {
        /* Both exact str: the comparison runs no Python code. */
        if (PyUnicode_Compare(PyTuple_GET_ITEM(k, 0), m) == 0 &&
            PyList_Append(names, PyTuple_GET_ITEM(k, 1)) < 0) {
            Py_CLEAR(names);
        }
    }
    Py_END_CRITICAL_SECTION();
    Py_DECREF(m);
    return names;
}

PyObject *
ext_linkdefs_items(PyObject *defs)
{
    PyObject *list = PyList_New(0);
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    Py_BEGIN_CRITICAL_SECTION(defs); /* as in ext_linkdefs_names_under */
    while (list != NULL && PyDict_Next(defs, &pos, &k, &v)) {
        PyObject *t =
            PyTuple_Pack(3, PyTuple_GET_ITEM(k, 0), PyTuple_GET_ITEM(k, 1), ext_linkdef_type(v));
        if (t == NULL || PyList_Append(list, t) < 0) {
            Py_CLEAR(list);
        }
        Py_XDECREF(t);
    }
    Py_END_CRITICAL_SECTION();
    return list;
}

int
ext_linkdefs_record_instance(ext_state *st, PyObject *defs, ext_ctx *c, PyObject *name,
                             InstanceObject *inst)
{
    /* By name, from the Module's export list: walking the instance with
     * wasmtime_instance_export_nth would be quadratic. */
    PyObject *names = ext_module_export_names(inst->module);
    if (names == NULL) {
        return -1;
    }
    PyObject *en, *unused;
    Py_ssize_t pos = 0;
    int rc = 0;
    while (rc == 0 && PyDict_Next(names, &pos, &en, &unused)) {
        Py_ssize_t elen;
        const char *e = PyUnicode_AsUTF8AndSize(en, &elen);
        wasmtime_extern_t ext;
        if (e == NULL) {
            rc = -1;
            break;
        }
        if (!wasmtime_instance_export_get(c->ctx, &inst->instance, e, (size_t)elen, &ext)) {
            continue;
        }
        wasm_externtype_t *cty = wasmtime_extern_type(c->ctx, &ext);
        PyObject *ty = externtype_to_py(st, cty);
        wasm_externtype_delete(cty);
        PyObject *item = ty ? ext_extern_to_py(st, c->so, &ext) : NULL;
        PyObject *def =
            item ? ext_linkdef_new(LINKDEF_ITEM, ty, (PyObject *)c->so, item, false) : NULL;
        rc = def ? ext_linkdefs_record(defs, name, en, def) : -1;
        Py_XDECREF(ty);
        Py_XDECREF(item);
        Py_XDECREF(def);
    }
    Py_DECREF(names);
    return rc;
}

int
ext_linkdefs_record_wasi(ext_state *st, PyObject *defs, wasmtime_linker_t *linker,
                         wasm_engine_t *engine)
{
    /* Record the functions with their types, looked up in a scratch store
     * (nothing is called). */
    wasmtime_store_t *scratch = wasmtime_store_new(engine, NULL, NULL);
    wasmtime_context_t *ctx = wasmtime_store_context(scratch);
    const char *mod = ext_wasi_modules[0];
    int rc = 0;
    for (int i = 0; ext_wasi_p1_funcs[i] != NULL && rc == 0; i++) {
        wasmtime_extern_t ext;
        const char *fn = ext_wasi_p1_funcs[i];
        if (!wasmtime_linker_get(linker, ctx, mod, strlen(mod), fn, strlen(fn), &ext)) {
            continue;
        }
        wasm_externtype_t *ty = wasmtime_extern_type(ctx, &ext);
        PyObject *pyty = externtype_to_py(st, ty);
        wasm_externtype_delete(ty);
        wasmtime_extern_delete(&ext);
        PyObject *def = pyty ? ext_linkdef_new(LINKDEF_WASI, pyty, NULL, NULL, false) : NULL;
        Py_XDECREF(pyty);
        rc = def ? ext_linkdefs_record_utf8(defs, mod, strlen(mod), fn, strlen(fn), def) : -1;
        Py_XDECREF(def);
    }
    wasmtime_store_delete(scratch);
    return rc;
}

int
ext_linkdefs_record_module(ext_state *st, PyObject *defs, const char *n, size_t nlen,
                           const wasmtime_module_t *m, PyObject *store, PyObject *module)
{
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
        PyObject *def = ty ? ext_linkdef_new(LINKDEF_MODULE, ty, store, module, false) : NULL;
        Py_XDECREF(ty);
        rc = def ? ext_linkdefs_record_utf8(defs, n, (size_t)nlen, en->data, en->size, def) : -1;
        Py_XDECREF(def);
    }
    wasm_exporttype_vec_delete(&vec);
    return rc;
}

int
ext_linkdefs_check_store(ext_state *st, PyObject *defs, PyObject *module, PyObject *name,
                         StoreObject *so)
{
    PyObject *def = ext_linkdefs_get(defs, module, name);
    if (def == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    PyObject *store = ext_linkdef_store(def);
    bool other = store != Py_None && store != (PyObject *)so;
    Py_DECREF(def);
    if (other) {
        ext_raise_msg(st,
                      "object used with the wrong store: `%U::%U` was defined with "
                      "another Store",
                      module, name);
        return -1;
    }
    return 1;
}

int
ext_linkdefs_check_default_store(ext_state *st, PyObject *defs, PyObject *module, StoreObject *so)
{
    /* Wasmtime's default: the export "", else "_start", else a no-op. */
    static const char *const candidates[] = {"", "_start"};
    int found = 0;
    for (size_t i = 0; i < 2 && found == 0; i++) {
        PyObject *name = PyUnicode_FromString(candidates[i]);
        found = name ? ext_linkdefs_check_store(st, defs, module, name, so) : -1;
        Py_XDECREF(name);
    }
    return found < 0 ? -1 : 0;
}

/* The first import of `m` that `defs` lacks, as a new "module" str; NULL
 * with no exception when every import is defined. */
static PyObject *
first_missing_module(PyObject *defs, bool has_wasi, const wasmtime_module_t *m)
{
    wasm_importtype_vec_t vec;
    wasmtime_module_imports(m, &vec);
    PyObject *found = NULL;
    for (size_t i = 0; i < vec.size && found == NULL && !PyErr_Occurred(); i++) {
        const wasm_name_t *mod = wasm_importtype_module(vec.data[i]);
        if (has_wasi && ext_is_wasi_module(mod->data, mod->size)) {
            continue;
        }
        PyObject *pm = ext_str_from_name(mod);
        PyObject *pn = pm ? ext_str_from_name(wasm_importtype_name(vec.data[i])) : NULL;
        PyObject *key = pn ? PyTuple_Pack(2, pm, pn) : NULL;
        if (key != NULL && PyDict_Contains(defs, key) == 0) {
            found = Py_NewRef(pm);
        }
        Py_XDECREF(key);
        Py_XDECREF(pm);
        Py_XDECREF(pn);
    }
    wasm_importtype_vec_delete(&vec);
    return found;
}

void
ext_linkdefs_explain_missing(ext_state *st, PyObject *defs, bool has_wasi,
                             const wasmtime_module_t *m)
{
    PyObject *exc = ext_exc_take();
    if (exc == NULL || !PyErr_GivenExceptionMatches(exc, st->WasmtimeError)) {
        ext_exc_restore(exc);
        return;
    }
    PyObject *msg = PyObject_GetAttr(exc, st->str_message);
    PyObject *needle = PyUnicode_FromString("unknown import");
    Py_ssize_t at = (msg != NULL && needle != NULL && PyUnicode_Check(msg))
                        ? PyUnicode_Find(msg, needle, 0, PY_SSIZE_T_MAX, 1)
                        : -1;
    PyObject *module = at >= 0 ? first_missing_module(defs, has_wasi, m) : NULL;
    PyObject *names = module != NULL ? ext_linkdefs_names_under(defs, module) : NULL;
    PyObject *sep = names != NULL ? PyUnicode_FromString(", ") : NULL;
    PyObject *joined = sep != NULL ? PyUnicode_Join(sep, names) : NULL;
    PyObject *extra = NULL;
    if (joined != NULL) {
        extra =
            PyList_GET_SIZE(names) == 0
                ? PyUnicode_FromFormat("%U (the linker defines nothing under `%U`)", msg, module)
                : PyUnicode_FromFormat("%U (the linker defines under `%U`: %U)", msg, module,
                                       joined);
    }
    if (extra != NULL && PyObject_SetAttr(exc, st->str_message, extra) < 0) {
        PyErr_Clear();
    }
    PyErr_Clear(); /* the explanation is best effort: the error stays */
    Py_XDECREF(extra);
    Py_XDECREF(joined);
    Py_XDECREF(sep);
    Py_XDECREF(names);
    Py_XDECREF(module);
    Py_XDECREF(needle);
    Py_XDECREF(msg);
    ext_exc_restore(exc);
}

/* ---- the Linker's callables ------------------------------------------------ */

int
ext_linker_keep_callable(LinkerObject *self, PyObject *module, PyObject *name, PyObject *callable)
{
    PyObject *key = PyTuple_Pack(2, module, name);
    if (key == NULL) {
        return -1;
    }
    int rc = 0;
    /* Guarded: without a GIL another thread may be taking the dict for a
     * Store (linker_callables) at the same time. */
    Py_BEGIN_CRITICAL_SECTION(self);
    if (Py_REFCNT(self->host_objects) > 1) {
        /* A Store or InstancePre holds the current dict: it keeps it as it
         * is, and we go on with a copy. */
        PyObject *copy = PyDict_Copy(self->host_objects);
        if (copy == NULL) {
            rc = -1;
        }
        else {
            Py_SETREF(self->host_objects, copy);
        }
    }
    if (rc == 0) {
        rc = PyDict_SetItem(self->host_objects, key, callable);
    }
    Py_END_CRITICAL_SECTION();
    Py_DECREF(key);
    return rc;
}

/* ---- WASI ------------------------------------------------------------------ */

const char *const ext_wasi_modules[] = {"wasi_snapshot_preview1", "wasi_unstable", NULL};

/* The preview1 functions define_wasi adds (a fact of the WASI spec), used to
 * record their types. */
const char *const ext_wasi_p1_funcs[] = {"args_get",
                                         "args_sizes_get",
                                         "environ_get",
                                         "environ_sizes_get",
                                         "clock_res_get",
                                         "clock_time_get",
                                         "fd_advise",
                                         "fd_allocate",
                                         "fd_close",
                                         "fd_datasync",
                                         "fd_fdstat_get",
                                         "fd_fdstat_set_flags",
                                         "fd_fdstat_set_rights",
                                         "fd_filestat_get",
                                         "fd_filestat_set_size",
                                         "fd_filestat_set_times",
                                         "fd_pread",
                                         "fd_prestat_get",
                                         "fd_prestat_dir_name",
                                         "fd_pwrite",
                                         "fd_read",
                                         "fd_readdir",
                                         "fd_renumber",
                                         "fd_seek",
                                         "fd_sync",
                                         "fd_tell",
                                         "fd_write",
                                         "path_create_directory",
                                         "path_filestat_get",
                                         "path_filestat_set_times",
                                         "path_link",
                                         "path_open",
                                         "path_readlink",
                                         "path_remove_directory",
                                         "path_rename",
                                         "path_symlink",
                                         "path_unlink_file",
                                         "poll_oneoff",
                                         "proc_exit",
                                         "proc_raise",
                                         "sched_yield",
                                         "random_get",
                                         "sock_accept",
                                         "sock_recv",
                                         "sock_send",
                                         "sock_shutdown",
                                         NULL};

bool
ext_is_wasi_module(const char *name, size_t len)
{
    for (int i = 0; ext_wasi_modules[i] != NULL; i++) {
        if (strlen(ext_wasi_modules[i]) == len && memcmp(ext_wasi_modules[i], name, len) == 0) {
            return true;
        }
    }
    return false;
}

bool
ext_module_imports_wasi(const wasmtime_module_t *m)
{
    wasm_importtype_vec_t vec;
    wasmtime_module_imports(m, &vec);
    bool found = false;
    for (size_t i = 0; i < vec.size && !found; i++) {
        const wasm_name_t *mod = wasm_importtype_module(vec.data[i]);
        found = ext_is_wasi_module(mod->data, mod->size);
    }
    wasm_importtype_vec_delete(&vec);
    return found;
}

int
ext_no_wasi_context(ext_state *st)
{
    ext_raise_msg(st, "this module imports WASI, but the Store has no WASI context: call "
                      "store.set_wasi(WasiConfig()) first");
    return -1;
}

static bool
name_is(const wasm_name_t *n, const char *s)
{
    return n->size == strlen(s) && memcmp(n->data, s, n->size) == 0;
}

bool
ext_command_has_unknown_exports(const wasmtime_module_t *m)
{
    wasm_exporttype_vec_t vec;
    wasmtime_module_exports(m, &vec);
    bool command = false, unknown = false;
    for (size_t i = 0; i < vec.size; i++) {
        const wasm_name_t *n = wasm_exporttype_name(vec.data[i]);
        wasm_externkind_t k = wasm_externtype_kind(wasm_exporttype_type(vec.data[i]));
        command = command || name_is(n, "_start");
        if (k != WASM_EXTERN_FUNC && !(k == WASM_EXTERN_MEMORY && name_is(n, "memory")) &&
            !(k == WASM_EXTERN_TABLE && name_is(n, "__indirect_function_table"))) {
            unknown = true;
        }
    }
    wasm_exporttype_vec_delete(&vec);
    return command && unknown;
}

PyObject *
ext_linker_define_unknown(ext_state *st, wasmtime_linker_t *linker, PyObject *defs,
                          const wasmtime_module_t *m, const ext_ctx *c)
{
    wasmtime_error_t *err =
        c == NULL ? wasmtime_linker_define_unknown_imports_as_traps(linker, m)
                  : wasmtime_linker_define_unknown_imports_as_default_values(linker, c->ctx, m);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    if (ext_linkdefs_record_unknown(st, defs, m, c == NULL ? NULL : (PyObject *)c->so) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}
