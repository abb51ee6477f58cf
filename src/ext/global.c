/* Global: a wasm global variable of one Store (wraps wasmtime/global.h).
 *
 * A store-bound handle (handles.c): {store (strong), wasmtime_global_t}.
 * Every method checks that the store passed is the handle's own before
 * touching C (Wasmtime aborts otherwise).
 */
#include "runtime.h"

static wasmtime_valkind_t
global_kind(const void *ty)
{
    return ext_valtype_wasmtime_kind(wasm_globaltype_content(ty));
}

static wasmtime_error_t *
global_create(wasmtime_context_t *ctx, const void *ty, const wasmtime_val_t *v,
              wasmtime_extern_t *out)
{
    out->kind = WASMTIME_EXTERN_GLOBAL;
    return wasmtime_global_new(ctx, ty, v, &out->of.global);
}

static const ext_valued_spec global_spec_new = {
    "OOO:Global", "val",         "a GlobalType", offsetof(ext_state, GlobalType_Type),
    global_kind,  global_create,
};

static PyObject *
global_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return ext_valued_new(type, args, kwds, &global_spec_new);
}

static PyObject *
global_type(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (ext_handle_ctx(op, store, &c) < 0) {
        return NULL;
    }
    return globaltype_from_owned(
        c.so->st, wasmtime_global_type(c.ctx, &((ExternObject *)op)->ext.of.global));
}

static PyObject *
global_value(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (ext_handle_ctx(op, store, &c) < 0) {
        return NULL;
    }
    wasmtime_val_t v;
    wasmtime_global_get(c.ctx, &((ExternObject *)op)->ext.of.global, &v);
    PyObject *res = ext_val_to_py(c.so->st, &c, &v);
    ext_val_release(&v);
    return res;
}

static PyObject *
global_set_value(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "set_value() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    ext_ctx c;
    if (ext_handle_ctx(op, args[0], &c) < 0) {
        return NULL;
    }
    ext_state *st = c.so->st;
    const wasmtime_global_t *g = &((ExternObject *)op)->ext.of.global;
    wasm_globaltype_t *gty = wasmtime_global_type(c.ctx, g);
    wasmtime_valkind_t kind = ext_valtype_wasmtime_kind(wasm_globaltype_content(gty));
    wasm_globaltype_delete(gty);
    wasmtime_val_t v;
    if (ext_py_to_val(st, &c, args[1], kind, &v) < 0) {
        return NULL;
    }
    wasmtime_error_t *err = wasmtime_global_set(c.ctx, g, &v);
    ext_val_release(&v);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    Py_RETURN_NONE;
}

EXT_KWN(global_set_value, "set_value", 2, "store", "val")
EXT_KW1(global_type, "type", "store")
EXT_KW1(global_value, "value", "store")

static PyMethodDef global_methods[] = {
    {"type", EXT_KW1_ENTRY(global_type), "type($self, store)\n--\n\nThe GlobalType."},
    {"value", EXT_KW1_ENTRY(global_value), "value($self, store)\n--\n\nThe current value."},
    {"set_value", EXT_KWN_ENTRY(global_set_value),
     "set_value($self, store, val)\n--\n\nSet a mutable global."},
    {NULL, NULL, 0, NULL},
};

EXT_HANDLE_SPEC(global, "Global", "Global(store, ty, val)\n--\n\nA wasm global variable.")

int
global_register(PyObject *mod, ext_state *st)
{
    st->Global_Type = ext_add_type(mod, &global_spec, NULL);
    return st->Global_Type == NULL ? -1 : 0;
}
