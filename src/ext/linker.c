/* Linker: resolves a module's imports by name (wraps wasmtime/linker.h).
 *
 * Ownership: the Linker owns its wasmtime_linker_t and holds its Engine.
 * Callables of define_func are borrowed by Wasmtime; their strong references
 * live in `host_objects`, a dict (module, name) -> callable that every Store
 * the linker touches and every InstancePre it makes also keeps (a store may
 * call them after the Linker object is gone).  A redefinition under
 * allow_shadowing drops the callable it replaces: in place while nobody
 * else holds the dict, else on a fresh copy, so the holders keep exactly
 * what their instances may still call and nothing grows without bound.
 *
 * Beyond the C API, the Linker records what it defines (linkdefs.c), which
 * gives iteration, alias()/alias_module(), and missing-import errors that
 * list what is defined.  It also refuses to hand WASI functions to a Store
 * without a WASI context: Wasmtime would abort the process on the first
 * WASI call.  InstancePre (instancepre.c) is made here by instantiate_pre.
 *
 * Arguments first, owner second: every method converts its arguments (the
 * only ones that can run Python code are the truth values of
 * access_caller and allow_shadowing) before it checks that the Linker is
 * open, and the registry compares only exact str keys.
 */
#include "runtime.h"

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
    EXT_CHECK_OPEN(self->linker, NULL);
    return self;
}

/* The current dict of callables (a new reference): a redefinition may
 * replace it on another thread (ext_linker_keep_callable). */
static PyObject *
linker_callables(LinkerObject *self)
{
    PyObject *d;
    Py_BEGIN_CRITICAL_SECTION(self);
    d = Py_NewRef(self->host_objects);
    Py_END_CRITICAL_SECTION();
    return d;
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
    if (self->has_async) {
        c->so->async_only = true; /* it may get our async host functions */
    }
    PyObject *callables = linker_callables(self);
    int rc = ext_store_keep(c->so, callables);
    Py_DECREF(callables);
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
    EXT_CHECK_OPEN(eng->engine, NULL);
    LinkerObject *self = (LinkerObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->st = st;
    self->engine = Py_NewRef(engine);
    self->host_objects = PyDict_New();
    self->defs = PyDict_New();
    if (self->host_objects == NULL || self->defs == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->engine_clone = wasmtime_engine_clone(EXT_LIVE(eng, engine));
    self->linker = wasmtime_linker_new(EXT_LIVE(eng, engine));
    return (PyObject *)self;
}

/* allow_shadowing (closure NULL) and allow_unknown_exports (non-NULL). */
static int
linker_set_flag(PyObject *op, PyObject *value, void *closure)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete a Linker option");
        return -1;
    }
    int t = PyObject_IsTrue(value); /* may run Python code: before linker_open */
    if (t < 0) {
        return -1;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return -1;
    }
    if (closure != NULL) {
        self->unknown_exports = t != 0;
        return 0;
    }
    self->shadowing = t != 0;
    wasmtime_linker_allow_shadowing(EXT_LIVE(self, linker), self->shadowing);
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
    wasmtime_error_t *err = wasmtime_linker_define(EXT_LIVE(self, linker), c.ctx, m, (size_t)mlen,
                                                   n, (size_t)nlen, &ext);
    if (err != NULL) {
        ext_extern_release(&ext);
        return ext_raise_error(st, err);
    }
    PyObject *ty = extern_type_py(st, &c, &ext);
    ext_extern_release(&ext);
    PyObject *def = ty ? ext_linkdef_new(LINKDEF_ITEM, ty, (PyObject *)c.so, a[3], false) : NULL;
    Py_XDECREF(ty);
    if (def == NULL || ext_linkdefs_record(self->defs, a[1], a[2], def) < 0) {
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
    int coro = ext_is_coroutine_function(callable); /* (runs Python code) */
    if (coro < 0) {
        return -1;
    }
    const wasm_functype_t *orig = wasmtype_get(ty);
    wasm_functype_t *fty = orig == NULL ? NULL : ext_functype_unbound(st, orig);
    if (fty == NULL) {
        return -1;
    }
    if (ext_linker_keep_callable(self, module, name, callable) < 0 || self->linker == NULL) {
        /* (the allocation may have run a finalizer that closed the Linker) */
        if (!PyErr_Occurred()) {
            ALREADY_CLOSED();
        }
        wasm_functype_delete(fty);
        return -1;
    }
    int rc = ext_linker_define_host(st, EXT_LIVE(self, linker), m, (size_t)mlen, n, (size_t)nlen,
                                    fty, callable, access_caller, coro);
    wasm_functype_delete(fty); /* Wasmtime made its own type from it */
    if (rc < 0) {
        return -1;
    }
    self->has_async |= coro;
    PyObject *def = ext_linkdef_new(LINKDEF_FUNC, ty, NULL, callable, access_caller);
    if (def == NULL || ext_linkdefs_record(self->defs, module, name, def) < 0) {
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
    int access = a[4] == NULL ? 0 : PyObject_IsTrue(a[4]); /* before linker_open */
    if (access < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL || define_func_raw(self, a[0], a[1], a[2], a[3], access != 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
linker_define_instance(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
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
    wasmtime_error_t *err = wasmtime_linker_define_instance(EXT_LIVE(self, linker), c.ctx, n,
                                                            (size_t)nlen, &inst->instance);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    if (ext_linkdefs_record_instance(st, self->defs, &c, a[1], inst) < 0) {
        return NULL;
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
    wasmtime_error_t *err = wasmtime_linker_define_wasi(EXT_LIVE(self, linker));
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    self->has_wasi = true;
    if (ext_linkdefs_record_wasi(st, self->defs, self->linker, self->engine_clone) < 0) {
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
    const wasmtime_module_t *m = ext_module_of_engine(st, a[2], c.so->engine, "Store");
    if (m == NULL) {
        return NULL;
    }
    if (self->has_wasi && !c.so->has_wasi && ext_module_imports_wasi(m)) {
        return ext_no_wasi_context(st), NULL;
    }
    if (self->unknown_exports && ext_command_has_unknown_exports(m)) {
        /* Wasmtime refuses it: define its functions ourselves (wasmtime/_linker.py). */
        PyObject *helpers = PyImport_ImportModule("wasmtime._linker");
        PyObject *r =
            helpers ? PyObject_CallMethod(helpers, "define_command", "OOO", op, a[1], a[2]) : NULL;
        Py_XDECREF(helpers);
        return r;
    }
    Py_ssize_t nlen;
    const char *n = name_arg(st, a[1], &nlen);
    if (n == NULL) {
        return NULL;
    }
    wasmtime_error_t *err;
    if (ext_call_enter(c.so) < 0) {
        return NULL;
    }
    wasmtime_module_t *mc = wasmtime_module_clone(m); /* see linker_instantiate */
    self->busy++;
    EXT_RUN_WASM_NOGIL(
        c.so, err = wasmtime_linker_module(EXT_LIVE(self, linker), c.ctx, n, (size_t)nlen, mc));
    ext_call_leave(c.so);
    self->busy--;
    if (ext_call_finish(st, c.so, err, NULL) < 0) {
        wasmtime_module_delete(mc);
        return NULL;
    }
    /* Recorded from the clone: the Module may have been closed meanwhile. */
    int rc =
        ext_linkdefs_record_module(st, self->defs, n, (size_t)nlen, mc, (PyObject *)c.so, a[2]);
    wasmtime_module_delete(mc);
    if (rc < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
linker_define_unknown_imports_as_traps(PyObject *op, PyObject *module)
{
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    const wasmtime_module_t *m = ext_module_of_engine(self->st, module, self->engine, "Linker");
    if (m == NULL) {
        return NULL;
    }
    return ext_linker_define_unknown(self->st, EXT_LIVE(self, linker), self->defs, m, NULL);
}

static PyObject *
linker_define_unknown_imports_as_default_values(PyObject *op, PyObject *const *args,
                                                Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"store", "module", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "define_unknown_imports_as_default_values", kwlist, 2,
                       a) < 0) {
        return NULL;
    }
    LinkerObject *self = linker_open(op);
    if (self == NULL) {
        return NULL;
    }
    const wasmtime_module_t *m = ext_module_of_engine(self->st, a[1], self->engine, "Linker");
    if (m == NULL) {
        return NULL;
    }
    ext_ctx c;
    if (linker_store(self, a[0], &c) < 0) {
        return NULL;
    }
    return ext_linker_define_unknown(self->st, EXT_LIVE(self, linker), self->defs, m, &c);
}

/* ---- lookups -------------------------------------------------------------------- */

/* instantiate, or (async_) instantiate_async: a coroutine (asynccall.c). */
static PyObject *
linker_do_instantiate(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                      bool async_)
{
    static const char *const kwlist[] = {"store", "module", NULL};
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, async_ ? "instantiate_async" : "instantiate", kwlist,
                       2, a) < 0) {
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
    const wasmtime_module_t *m = ext_module_of_engine(st, a[1], c.so->engine, "Store");
    if (m == NULL) {
        return NULL;
    }
    if (self->has_wasi && !c.so->has_wasi && ext_module_imports_wasi(m)) {
        return ext_no_wasi_context(st), NULL;
    }
    if (async_) {
        return ext_async_linker_instantiate(self, &c, a[1], m);
    }
    if (ext_sync_call_ok(c.so) < 0) {
        return NULL;
    }
    wasmtime_instance_t inst;
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *err;
    /* While the GIL is released another thread may close the Module (so
     * we use a clone) or the Linker (which close() refuses while busy). */
    if (ext_call_enter(c.so) < 0) {
        return NULL;
    }
    wasmtime_module_t *mc = wasmtime_module_clone(m);
    self->busy++;
    EXT_RUN_WASM_NOGIL(
        c.so, err = wasmtime_linker_instantiate(EXT_LIVE(self, linker), c.ctx, mc, &inst, &trap));
    ext_call_leave(c.so);
    self->busy--;
    PyObject *res = NULL;
    if (ext_call_finish(st, c.so, err, trap) < 0) {
        if (PyErr_ExceptionMatches(st->WasmtimeError)) {
            ext_linkdefs_explain_missing(st, self->defs, self->has_wasi, mc);
        }
        ext_exn_after_call(st, &c);
    }
    else {
        res = ext_instance_wrap(st, c.so, &inst, a[1]);
    }
    wasmtime_module_delete(mc);
    return res;
}

static PyObject *
linker_instantiate(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return linker_do_instantiate(op, args, nargs, kwnames, false);
}

static PyObject *
linker_instantiate_async(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return linker_do_instantiate(op, args, nargs, kwnames, true);
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
    if (ext_linkdefs_check_default_store(self->st, self->defs, a[1], c.so) < 0) {
        return NULL;
    }
    wasmtime_func_t f;
    wasmtime_error_t *err =
        wasmtime_linker_get_default(EXT_LIVE(self, linker), c.ctx, n, (size_t)nlen, &f);
    if (err != NULL) {
        return ext_raise_error(self->st, err);
    }
    return ext_func_wrap(self->st, c.so, &f);
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
    if (self->has_wasi && !c.so->has_wasi && ext_is_wasi_module(m, (size_t)mlen)) {
        return ext_no_wasi_context(st), NULL;
    }
    if (ext_linkdefs_check_store(self->st, self->defs, a[1], a[2], c.so) < 0) {
        return NULL;
    }
    wasmtime_extern_t ext;
    if (!wasmtime_linker_get(EXT_LIVE(self, linker), c.ctx, m, (size_t)mlen, n, (size_t)nlen,
                             &ext)) {
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
    PyObject *list = ext_linkdefs_items(self->defs);
    if (list == NULL) {
        return NULL;
    }
    PyObject *it = PyObject_GetIter(list);
    Py_DECREF(list);
    return it;
}

/* Define (as_module, as_name) as what (module, name) is; all four are str
 * (checked by the registry before any use). */
static int
alias_one(LinkerObject *self, PyObject *module, PyObject *name, PyObject *as_module,
          PyObject *as_name)
{
    ext_state *st = self->st;
    PyObject *def = ext_linkdefs_get(self->defs, module, name);
    if (def == NULL) {
        if (!PyErr_Occurred()) {
            ext_raise_msg(st, "cannot alias `%U::%U`: the linker does not define it", module,
                          name);
        }
        return -1;
    }
    linkdef_kind kind = ext_linkdef_kind(def);
    int rc = -1;
    if (kind == LINKDEF_FUNC) {
        rc = define_func_raw(self, as_module, as_name, ext_linkdef_type(def),
                             ext_linkdef_payload(def), ext_linkdef_access_caller(def));
    }
    else if (ext_linkdef_store(def) != Py_None) {
        /* A store-bound item: define the same extern in the store it lives in. */
        PyObject *store = ext_linkdef_store(def);
        ext_ctx c;
        Py_ssize_t mlen, nlen, amlen, anlen;
        const char *m = name_arg(st, module, &mlen), *n = name_arg(st, name, &nlen);
        const char *am = name_arg(st, as_module, &amlen), *an = name_arg(st, as_name, &anlen);
        wasmtime_extern_t ext;
        if (m && n && am && an && linker_store(self, store, &c) == 0) {
            if (!wasmtime_linker_get(EXT_LIVE(self, linker), c.ctx, m, (size_t)mlen, n,
                                     (size_t)nlen, &ext)) {
                ext_raise_msg(st, "cannot alias `%U::%U`: it is no longer defined", module, name);
            }
            else {
                wasmtime_error_t *err = wasmtime_linker_define(
                    self->linker, c.ctx, am, (size_t)amlen, an, (size_t)anlen, &ext);
                wasmtime_extern_delete(&ext);
                if (err != NULL) {
                    ext_raise_error(st, err);
                }
                else {
                    rc = ext_linkdefs_record(self->defs, as_module, as_name, def);
                }
            }
        }
    }
    else {
        ext_raise_msg(st,
                      "cannot alias `%U::%U`: %s definitions are not store-bound items or "
                      "host functions",
                      module, name, kind == LINKDEF_WASI ? "WASI" : "unknown-import");
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
    if (!PyUnicode_Check(a[1])) {
        return ext_wrong_type(self->st, "a str name", a[1]);
    }
    /* Snapshot the names first: aliasing adds definitions. */
    PyObject *names = ext_linkdefs_names_under(self->defs, a[0]);
    if (names == NULL) {
        return NULL;
    }
    if (PyList_GET_SIZE(names) == 0) {
        Py_DECREF(names);
        return ext_raise_msg(self->st,
                             "cannot alias module `%U`: the linker defines nothing "
                             "under it",
                             a[0]);
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
    const wasmtime_module_t *m = ext_module_of_engine(self->st, module, self->engine, "Linker");
    if (m == NULL) {
        return NULL;
    }
    wasmtime_instance_pre_t *pre = NULL;
    wasmtime_error_t *err = wasmtime_linker_instantiate_pre(EXT_LIVE(self, linker), m, &pre);
    if (err != NULL) {
        ext_raise_error(st, err);
        ext_linkdefs_explain_missing(st, self->defs, self->has_wasi, m);
        return NULL;
    }
    InstancePreObject *ip = PyObject_GC_New(InstancePreObject, st->InstancePre_Type);
    if (ip == NULL) {
        wasmtime_instance_pre_delete(pre);
        return NULL;
    }
    ip->pre = pre;
    ip->retired = NULL;
    ip->module = Py_NewRef(module);
    ((ModuleObject *)module)->has_users = true;
    ip->engine = Py_NewRef(self->engine);
    ip->host_objects = linker_callables(self);
    ip->imports_wasi = self->has_wasi && ext_module_imports_wasi(m);
    ip->has_async = self->has_async;
    ip->busy = 0;
    ip->st = st;
    PyObject_GC_Track(ip);
    return (PyObject *)ip;
}

/* ---- Linker slots ------------------------------------------------------------------ */

static PyObject *
linker_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    LinkerObject *self = (LinkerObject *)op;
    if (self->busy > 0) {
        PyErr_SetString(PyExc_RuntimeError, "cannot close a Linker while it is instantiating");
        return NULL;
    }
    Py_BEGIN_CRITICAL_SECTION(op);
    EXT_RETIRE(self, linker, wasmtime_linker_delete);
    Py_END_CRITICAL_SECTION();
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
    /* The C linker borrows our callables: it goes first, unless a suspended
     * instantiate_async (busy) still uses it: that call holds us, and its
     * end brings us back here (a GC cycle through its coroutine). */
    if (self->linker != NULL && self->busy == 0) {
        wasmtime_linker_delete(self->linker);
        self->linker = NULL;
    }
    EXT_DELETE_RETIRED(self, wasmtime_linker_t, wasmtime_linker_delete);
    if (self->engine_clone != NULL && self->linker == NULL) {
        wasm_engine_delete(self->engine_clone);
        self->engine_clone = NULL;
    }
    Py_CLEAR(self->defs);
    if (self->linker == NULL) {
        Py_CLEAR(self->host_objects);
    }
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

EXT_KW1(linker_define_unknown_imports_as_traps, "define_unknown_imports_as_traps", "module")
EXT_KW1(linker_instantiate_pre, "instantiate_pre", "module")

static PyMethodDef linker_methods[] = {
    {"define", EXT_FASTCALL_KW(linker_define),
     "define($self, store, module, name, item)\n--\n\nDefine `module`.`name` as `item` "
     "(a Func, Global, Memory, SharedMemory, Table or Tag of `store`)."},
    {"define_func", EXT_FASTCALL_KW(linker_define_func),
     "define_func($self, module, name, ty, func, access_caller=False)\n--\n\n"
     "Define a host function usable with every Store of the engine."},
    {"define_instance", EXT_FASTCALL_KW(linker_define_instance),
     "define_instance($self, store, name, instance)\n--\n\nDefine every export of "
     "`instance` under module `name`."},
    {"define_wasi", linker_define_wasi, METH_NOARGS,
     "define_wasi($self, /)\n--\n\nDefine WASI preview 1 (wasi_snapshot_preview1)."},
    {"define_module", EXT_FASTCALL_KW(linker_define_module),
     "define_module($self, store, name, module)\n--\n\nDefine the exports of `module` under "
     "`name` (commands are instantiated per call, reactors once)."},
    {"define_unknown_imports_as_traps", EXT_KW1_ENTRY(linker_define_unknown_imports_as_traps),
     "define_unknown_imports_as_traps($self, module)\n--\n\nDefine every missing function "
     "import of `module` as one that traps."},
    {"define_unknown_imports_as_default_values",
     EXT_FASTCALL_KW(linker_define_unknown_imports_as_default_values),
     "define_unknown_imports_as_default_values($self, store, module)\n--\n\n"
     "Define every missing import of `module` as a default value."},
    {"instantiate_async", EXT_FASTCALL_KW(linker_instantiate_async),
     "instantiate_async($self, store, module)\n--\n\nA coroutine: await it for what "
     "instantiate(store, module) returns (needed once the Store is async-only)."},
    {"instantiate", EXT_FASTCALL_KW(linker_instantiate),
     "instantiate($self, store, module)\n--\n\nInstantiate `module`, resolving its imports."},
    {"instantiate_pre", EXT_KW1_ENTRY(linker_instantiate_pre),
     "instantiate_pre($self, module)\n--\n\nResolve `module`'s imports once; the "
     "InstancePre instantiates it quickly in any Store."},
    {"get_default", EXT_FASTCALL_KW(linker_get_default),
     "get_default($self, store, name)\n--\n\nThe default export of module `name`."},
    {"get", EXT_FASTCALL_KW(linker_get),
     "get($self, store, module, name)\n--\n\nThe item defined as `module`.`name`."},
    {"alias", EXT_FASTCALL_KW(linker_alias),
     "alias($self, module, name, as_module, as_name)\n--\n\nDefine `as_module`.`as_name` as "
     "the item defined as `module`.`name`."},
    {"alias_module", EXT_FASTCALL_KW(linker_alias_module),
     "alias_module($self, module, as_module)\n--\n\nDefine every item of `module` again "
     "under `as_module`."},
    {"close", linker_close, METH_NOARGS, "close($self, /)\n--\n\nFree the linker."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef linker_getset[] = {
    {"allow_shadowing", NULL, linker_set_flag,
     "Write-only: whether later definitions may replace earlier ones.", NULL},
    {"allow_unknown_exports", NULL, linker_set_flag,
     "Write-only: whether define_module accepts a command exporting non-functions.", ""},
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
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = linker_slots,
};

int
linker_register(PyObject *mod, ext_state *st)
{
    st->Linker_Type = ext_add_type(mod, &linker_spec, (PyObject *)st->Managed_Type);
    return st->Linker_Type == NULL ? -1 : 0;
}
