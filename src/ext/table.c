/* Table: a wasm table of references of one Store (wraps wasmtime/table.h).
 *
 * A store-bound handle (handles.c): {store (strong), wasmtime_table_t}.
 * Every method checks that the store passed is the handle's own before
 * touching C (Wasmtime aborts otherwise).
 */
#include "runtime.h"

static wasmtime_valkind_t
table_kind(const void *ty)
{
    return ext_valtype_wasmtime_kind(wasm_tabletype_element(ty));
}

static wasmtime_error_t *
table_create(wasmtime_context_t *ctx, const void *ty, const wasmtime_val_t *v,
             wasmtime_extern_t *out)
{
    out->kind = WASMTIME_EXTERN_TABLE;
    return wasmtime_table_new(ctx, ty, v, &out->of.table);
}

static const ext_valued_spec table_spec_new = {
    "OOO:Table", "init",       "a TableType", offsetof(ext_state, TableType_Type),
    table_kind,  table_create,
};

static PyObject *
table_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return ext_valued_new(type, args, kwds, &table_spec_new);
}

static PyObject *
table_type(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (ext_handle_ctx(op, store, &c) < 0) {
        return NULL;
    }
    return tabletype_from_owned(c.so->st,
                                wasmtime_table_type(c.ctx, &((ExternObject *)op)->ext.of.table));
}

static PyObject *
table_size(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (ext_handle_ctx(op, store, &c) < 0) {
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(
        wasmtime_table_size(c.ctx, &((ExternObject *)op)->ext.of.table));
}

static int
table_elem_kind(ext_ctx *c, const wasmtime_table_t *t, wasmtime_valkind_t *kind)
{
    wasm_tabletype_t *ty = wasmtime_table_type(c->ctx, t);
    *kind = table_kind(ty);
    wasm_tabletype_delete(ty);
    return 0;
}

/* An index argument: any int; out-of-range values map to UINT64_MAX. */
static int
index_arg(ext_state *st, PyObject *obj, uint64_t *out)
{
    int r = ext_long_as_u64(obj, out);
    if (r < 0) {
        ext_wrong_type(st, "an int index", obj);
        return -1;
    }
    if (r > 0) {
        *out = UINT64_MAX;
    }
    return 0;
}

static PyObject *
table_grow(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "grow() takes 3 arguments (%zd given)", nargs);
        return NULL;
    }
    ext_ctx c;
    if (ext_handle_ctx(op, args[0], &c) < 0) {
        return NULL;
    }
    ext_state *st = c.so->st;
    uint64_t delta;
    int r = ext_long_as_u64(args[1], &delta);
    if (r < 0) {
        return ext_wrong_type(st, "an int", args[1]);
    }
    if (r > 0) {
        return ext_raise_msg(st, "cannot grow a table by a negative or huge amount");
    }
    const wasmtime_table_t *t = &((ExternObject *)op)->ext.of.table;
    wasmtime_valkind_t kind;
    table_elem_kind(&c, t, &kind);
    wasmtime_val_t v;
    if (ext_py_to_val(st, &c, args[2], kind, &v) < 0) {
        return NULL;
    }
    uint64_t prev = 0;
    wasmtime_error_t *err = wasmtime_table_grow(c.ctx, t, delta, &v, &prev);
    ext_val_release(&v);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return PyLong_FromUnsignedLongLong(prev);
}

static PyObject *
table_get(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "get() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    ext_ctx c;
    if (ext_handle_ctx(op, args[0], &c) < 0) {
        return NULL;
    }
    uint64_t idx;
    if (index_arg(c.so->st, args[1], &idx) < 0) {
        return NULL;
    }
    wasmtime_val_t v;
    if (!wasmtime_table_get(c.ctx, &((ExternObject *)op)->ext.of.table, idx, &v)) {
        Py_RETURN_NONE;
    }
    PyObject *res = ext_val_to_py(c.so->st, &c, &v);
    ext_val_release(&v);
    return res;
}

static PyObject *
table_set(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "set() takes 3 arguments (%zd given)", nargs);
        return NULL;
    }
    ext_ctx c;
    if (ext_handle_ctx(op, args[0], &c) < 0) {
        return NULL;
    }
    ext_state *st = c.so->st;
    uint64_t idx;
    if (index_arg(st, args[1], &idx) < 0) {
        return NULL;
    }
    const wasmtime_table_t *t = &((ExternObject *)op)->ext.of.table;
    wasmtime_valkind_t kind;
    table_elem_kind(&c, t, &kind);
    wasmtime_val_t v;
    if (ext_py_to_val(st, &c, args[2], kind, &v) < 0) {
        return NULL;
    }
    wasmtime_error_t *err = wasmtime_table_set(c.ctx, t, idx, &v);
    ext_val_release(&v);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    Py_RETURN_NONE;
}

EXT_KWN(table_grow, "grow", 3, "store", "amt", "init")
EXT_KWN(table_get, "get", 2, "store", "idx")
EXT_KWN(table_set, "set", 3, "store", "idx", "val")
EXT_KW1(table_type, "type", "store")
EXT_KW1(table_size, "size", "store")

static PyMethodDef table_methods[] = {
    {"type", EXT_KW1_ENTRY(table_type), "type($self, store)\n--\n\nThe TableType."},
    {"size", EXT_KW1_ENTRY(table_size), "size($self, store)\n--\n\nNumber of elements."},
    {"grow", EXT_KWN_ENTRY(table_grow),
     "grow($self, store, amt, init)\n--\n\nAdd `amt` elements set to `init`; returns "
     "the previous size."},
    {"get", EXT_KWN_ENTRY(table_get),
     "get($self, store, idx)\n--\n\nElement `idx`, or None when out of bounds."},
    {"set", EXT_KWN_ENTRY(table_set), "set($self, store, idx, val)\n--\n\nSet element `idx`."},
    {NULL, NULL, 0, NULL},
};

EXT_HANDLE_SPEC(table, "Table", "Table(store, ty, init)\n--\n\nA wasm table of references.")

int
table_register(PyObject *mod, ext_state *st)
{
    st->Table_Type = ext_add_type(mod, &table_spec, NULL);
    return st->Table_Type == NULL ? -1 : 0;
}
