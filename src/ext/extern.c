/* Global, Table and Tag handles, and the conversions between Python externs
 * and wasmtime_extern_t (wraps wasmtime/extern.h, global.h, table.h, tag.h).
 *
 * Each handle is {store (strong), wasmtime_extern_t} with no destructor: the
 * Store owns the item.  Every method checks that the store passed is the
 * handle's own store before touching C (Wasmtime aborts otherwise).
 */
#include "common.h"

#include <structmember.h>

static ExternObject *
extern_alloc(PyTypeObject *tp, StoreObject *so, const wasmtime_extern_t *ext)
{
    ExternObject *self = PyObject_GC_New(ExternObject, tp);
    if (self == NULL) {
        return NULL;
    }
    self->store = (StoreObject *)Py_NewRef(so);
    self->ext = *ext;
    self->weakreflist = NULL;
    PyObject_GC_Track(self);
    return self;
}

PyObject *sharedmemory_wrap(ext_state *st, PyObject *engine, wasmtime_sharedmemory_t *mem);

PyObject *
ext_extern_to_py(ext_state *st, StoreObject *so, wasmtime_extern_t *ext)
{
    switch (ext->kind) {
    case WASMTIME_EXTERN_FUNC:
        return func_wrap(st, so, &ext->of.func);
    case WASMTIME_EXTERN_GLOBAL:
        return (PyObject *)extern_alloc(st->Global_Type, so, ext);
    case WASMTIME_EXTERN_TABLE:
        return (PyObject *)extern_alloc(st->Table_Type, so, ext);
    case WASMTIME_EXTERN_MEMORY:
        return (PyObject *)extern_alloc(st->Memory_Type, so, ext);
    case WASMTIME_EXTERN_TAG:
        return (PyObject *)extern_alloc(st->Tag_Type, so, ext);
    case WASMTIME_EXTERN_SHAREDMEMORY: {
        wasmtime_sharedmemory_t *mem = ext->of.sharedmemory;
        ext->of.sharedmemory = NULL; /* ownership moves to the Python object */
        return sharedmemory_wrap(st, so->engine, mem);
    }
    default:
        wasmtime_extern_delete(ext);
        return ext_raise_msg(st, "unknown extern kind %d", (int)ext->kind);
    }
}

int
ext_py_to_extern(ext_state *st, StoreObject *so, PyObject *obj, wasmtime_extern_t *out)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (tp == st->Func_Type || tp == st->Global_Type || tp == st->Table_Type ||
        tp == st->Memory_Type || tp == st->Tag_Type) {
        ExternObject *e = (ExternObject *)obj;
        if (e->store != so) {
            ext_raise_msg(st, "object used with the wrong store: this %s belongs to another "
                              "Store", tp->tp_name);
            return -1;
        }
        *out = e->ext;
        return 0;
    }
    if (tp == st->SharedMemory_Type) {
        SharedMemoryObject *m = (SharedMemoryObject *)obj;
        CHECK_OPEN(m->mem, -1);
        if (m->engine != so->engine) {
            ext_raise_msg(st, "this SharedMemory belongs to another Engine than the Store");
            return -1;
        }
        out->kind = WASMTIME_EXTERN_SHAREDMEMORY;
        /* A clone: the SharedMemory may be closed by another thread while
         * the GIL is released; release it with ext_extern_release(). */
        out->of.sharedmemory = wasmtime_sharedmemory_clone(m->mem);
        return 0;
    }
    ext_wrong_type(st, "a Func, Global, Memory, SharedMemory, Tag, or Table", obj);
    return -1;
}

void
ext_extern_release(wasmtime_extern_t *ext)
{
    if (ext->kind == WASMTIME_EXTERN_SHAREDMEMORY && ext->of.sharedmemory != NULL) {
        wasmtime_sharedmemory_delete(ext->of.sharedmemory);
        ext->of.sharedmemory = NULL;
    }
}

/* Resolve `store` for a handle method. */
static int
handle_ctx(PyObject *op, PyObject *store, ext_ctx *c)
{
    ExternObject *self = (ExternObject *)op;
    return ext_resolve_owner(self->store->st, store, self->store, c);
}

/* Resolve the store argument of a constructor (Store or Caller). */
static int
ctor_store(ext_state *st, PyObject *store, ext_ctx *c)
{
    return ext_resolve_store(st, store, c);
}

/* ---- Global ------------------------------------------------------------------ */

/* Global(store, ty, val) and Table(store, ty, init): one shape, two specs. */
typedef struct {
    const char *format;      /* for PyArg_ParseTupleAndKeywords */
    const char *value_name;  /* "val" or "init" */
    const char *type_what;   /* for the TypeError */
    size_t type_offset;      /* offsetof(ext_state, <the type class>) */
    wasmtime_valkind_t (*kind)(const void *ty);
    wasmtime_error_t *(*create)(wasmtime_context_t *ctx, const void *ty,
                                const wasmtime_val_t *v, wasmtime_extern_t *out);
} valued_spec;

static PyObject *
valued_new(PyTypeObject *type, PyObject *args, PyObject *kwds, const valued_spec *spec)
{
    char *kwlist[] = {"store", "ty", (char *)spec->value_name, NULL};
    PyObject *store, *ty, *val;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, spec->format, kwlist, &store, &ty, &val)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    PyTypeObject *tyclass = *(PyTypeObject **)((char *)st + spec->type_offset);
    if (!PyObject_TypeCheck(ty, tyclass)) {
        return ext_wrong_type(st, spec->type_what, ty);
    }
    ext_ctx c;
    if (ctor_store(st, store, &c) < 0) {
        return NULL;
    }
    const void *cty = typeobj_get(ty);
    if (cty == NULL) {
        return NULL;
    }
    wasmtime_val_t v;
    if (ext_py_to_val(st, &c, val, spec->kind(cty), &v) < 0) {
        return NULL;
    }
    wasmtime_extern_t ext;
    wasmtime_error_t *err = spec->create(c.ctx, cty, &v, &ext);
    ext_val_release(&v);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return (PyObject *)extern_alloc(type, c.so, &ext);
}

static wasmtime_valkind_t
global_kind(const void *ty)
{
    return ext_wasmtime_kind_of(ext_valtype_kind(wasm_globaltype_content(ty)));
}

static wasmtime_error_t *
global_create(wasmtime_context_t *ctx, const void *ty, const wasmtime_val_t *v,
              wasmtime_extern_t *out)
{
    out->kind = WASMTIME_EXTERN_GLOBAL;
    return wasmtime_global_new(ctx, ty, v, &out->of.global);
}

static const valued_spec global_spec_new = {
    "OOO:Global", "val", "a GlobalType", offsetof(ext_state, GlobalType_Type),
    global_kind, global_create,
};

static PyObject *
global_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return valued_new(type, args, kwds, &global_spec_new);
}

static PyObject *
global_type(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (handle_ctx(op, store, &c) < 0) {
        return NULL;
    }
    return globaltype_from_owned(c.so->st,
                                 wasmtime_global_type(c.ctx, &((ExternObject *)op)->ext.of.global));
}

static PyObject *
global_value(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (handle_ctx(op, store, &c) < 0) {
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
    if (handle_ctx(op, args[0], &c) < 0) {
        return NULL;
    }
    ext_state *st = c.so->st;
    const wasmtime_global_t *g = &((ExternObject *)op)->ext.of.global;
    wasm_globaltype_t *gty = wasmtime_global_type(c.ctx, g);
    wasmtime_valkind_t kind = ext_wasmtime_kind_of(ext_valtype_kind(wasm_globaltype_content(gty)));
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

/* ---- Table ------------------------------------------------------------------- */

static wasmtime_valkind_t
table_kind(const void *ty)
{
    return ext_wasmtime_kind_of(ext_valtype_kind(wasm_tabletype_element(ty)));
}

static wasmtime_error_t *
table_create(wasmtime_context_t *ctx, const void *ty, const wasmtime_val_t *v,
             wasmtime_extern_t *out)
{
    out->kind = WASMTIME_EXTERN_TABLE;
    return wasmtime_table_new(ctx, ty, v, &out->of.table);
}

static const valued_spec table_spec_new = {
    "OOO:Table", "init", "a TableType", offsetof(ext_state, TableType_Type),
    table_kind, table_create,
};

static PyObject *
table_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    return valued_new(type, args, kwds, &table_spec_new);
}

static PyObject *
table_type(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (handle_ctx(op, store, &c) < 0) {
        return NULL;
    }
    return tabletype_from_owned(c.so->st,
                                wasmtime_table_type(c.ctx, &((ExternObject *)op)->ext.of.table));
}

static PyObject *
table_size(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (handle_ctx(op, store, &c) < 0) {
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
    if (handle_ctx(op, args[0], &c) < 0) {
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
    if (handle_ctx(op, args[0], &c) < 0) {
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
    if (handle_ctx(op, args[0], &c) < 0) {
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

/* ---- Tag --------------------------------------------------------------------- */

static PyObject *
tag_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"store", "ty", NULL};
    PyObject *store, *ty;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Tag", kwlist, &store, &ty)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(ty, st->TagType_Type)) {
        return ext_wrong_type(st, "a TagType", ty);
    }
    ext_ctx c;
    if (ctor_store(st, store, &c) < 0) {
        return NULL;
    }
    const wasm_tagtype_t *tty = typeobj_get(ty);
    if (tty == NULL) {
        return NULL;
    }
    wasmtime_extern_t ext = {.kind = WASMTIME_EXTERN_TAG};
    wasmtime_error_t *err = wasmtime_tag_new(c.ctx, tty, &ext.of.tag);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return (PyObject *)extern_alloc(type, c.so, &ext);
}

static PyObject *
tag_type(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (handle_ctx(op, store, &c) < 0) {
        return NULL;
    }
    return tagtype_from_owned(c.so->st, wasmtime_tag_type(c.ctx, &((ExternObject *)op)->ext.of.tag));
}

static PyObject *
tag_eq(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "eq() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    ext_ctx c;
    if (handle_ctx(op, args[0], &c) < 0) {
        return NULL;
    }
    ext_state *st = c.so->st;
    if (!PyObject_TypeCheck(args[1], st->Tag_Type)) {
        return ext_wrong_type(st, "a Tag", args[1]);
    }
    ExternObject *other = (ExternObject *)args[1];
    if (other->store != c.so) {
        Py_RETURN_FALSE; /* tags of different stores are never the same */
    }
    return PyBool_FromLong(wasmtime_tag_eq(c.ctx, &((ExternObject *)op)->ext.of.tag,
                                           &other->ext.of.tag));
}

/* ---- shared slots --------------------------------------------------------------- */

int
extern_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((ExternObject *)op)->store);
    return 0;
}

int
extern_clear(PyObject *op)
{
    Py_CLEAR(((ExternObject *)op)->store);
    return 0;
}

void
extern_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    EXT_CLEAR_WEAKREFS(op, ((ExternObject *)op)->weakreflist);
    (void)extern_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

#define FASTCALL_KW(f) ((PyCFunction)(void (*)(void))(f##_kw)), METH_FASTCALL | METH_KEYWORDS
EXT_KWN(global_set_value, "set_value", 2, "store", "val")
EXT_KWN(table_grow, "grow", 3, "store", "amt", "init")
EXT_KWN(table_get, "get", 2, "store", "idx")
EXT_KWN(table_set, "set", 3, "store", "idx", "val")
EXT_KWN(tag_eq, "eq", 2, "store", "other")

EXT_KW1(global_type, "type", "store")
EXT_KW1(global_value, "value", "store")
EXT_KW1(table_type, "type", "store")
EXT_KW1(table_size, "size", "store")
EXT_KW1(tag_type, "type", "store")

static PyMethodDef global_methods[] = {
    {"type", EXT_KW1_ENTRY(global_type), "type($self, store)\n--\n\nThe GlobalType."},
    {"value", EXT_KW1_ENTRY(global_value), "value($self, store)\n--\n\nThe current value."},
    {"set_value", FASTCALL_KW(global_set_value),
     "set_value($self, store, val)\n--\n\nSet a mutable global."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef table_methods[] = {
    {"type", EXT_KW1_ENTRY(table_type), "type($self, store)\n--\n\nThe TableType."},
    {"size", EXT_KW1_ENTRY(table_size), "size($self, store)\n--\n\nNumber of elements."},
    {"grow", FASTCALL_KW(table_grow),
     "grow($self, store, amt, init)\n--\n\nAdd `amt` elements set to `init`; returns "
     "the previous size."},
    {"get", FASTCALL_KW(table_get),
     "get($self, store, idx)\n--\n\nElement `idx`, or None when out of bounds."},
    {"set", FASTCALL_KW(table_set), "set($self, store, idx, val)\n--\n\nSet element `idx`."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef tag_methods[] = {
    {"type", EXT_KW1_ENTRY(tag_type), "type($self, store)\n--\n\nThe TagType."},
    {"eq", FASTCALL_KW(tag_eq),
     "eq($self, store, other)\n--\n\nWhether both handles name the same tag."},
    {NULL, NULL, 0, NULL},
};

PyMemberDef ext_handle_members[] = {
    EXT_WEAKREF_MEMBER(ExternObject, weakreflist),
    {NULL, 0, 0, 0, NULL},
};

#define HANDLE_SPEC(NAME, PYNAME, DOC)                                        \
    static PyType_Slot NAME##_slots[] = {                                     \
        {Py_tp_members, ext_handle_members},                                  \
        {Py_tp_new, NAME##_new},                                              \
        {Py_tp_dealloc, extern_dealloc},                                      \
        {Py_tp_traverse, extern_traverse},                                    \
        {Py_tp_clear, extern_clear},                                          \
        {Py_tp_methods, NAME##_methods},                                      \
        {Py_tp_doc, DOC},                                                     \
        {0, NULL},                                                            \
    };                                                                        \
    static PyType_Spec NAME##_spec = {                                        \
        .name = "wasmtime." PYNAME,                                           \
        .basicsize = sizeof(ExternObject),                                    \
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,                     \
        .slots = NAME##_slots,                                                \
    };
HANDLE_SPEC(global, "Global", "Global(store, ty, val)\n--\n\nA wasm global variable.")
HANDLE_SPEC(table, "Table", "Table(store, ty, init)\n--\n\nA wasm table of references.")
HANDLE_SPEC(tag, "Tag", "Tag(store, ty)\n--\n\nA wasm exception tag.")
#undef HANDLE_SPEC

int
externs_register(PyObject *mod, ext_state *st)
{
    if ((st->Global_Type = ext_add_type(mod, &global_spec, NULL)) == NULL ||
        (st->Table_Type = ext_add_type(mod, &table_spec, NULL)) == NULL ||
        (st->Tag_Type = ext_add_type(mod, &tag_spec, NULL)) == NULL) {
        return -1;
    }
    return 0;
}
