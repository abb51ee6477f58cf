/* Tag: a wasm exception tag of one Store (wraps wasmtime/tag.h).
 *
 * A store-bound handle (handles.c): {store (strong), wasmtime_tag_t}.
 * Every method checks that the store passed is the handle's own before
 * touching C (Wasmtime aborts otherwise).
 */
#include "runtime.h"

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
    if (ext_resolve_store(st, store, &c) < 0) {
        return NULL;
    }
    const wasm_tagtype_t *orig = wasmtype_get(ty);
    /* A tag type binds to the first engine that uses it, like its function
     * type (ext_functype_unbound): use a fresh one. */
    wasm_functype_t *fty =
        orig == NULL ? NULL : ext_functype_unbound(st, wasm_tagtype_functype(orig));
    if (fty == NULL) {
        return NULL;
    }
    wasm_tagtype_t *tty = wasm_tagtype_new(fty); /* takes fty */
    wasmtime_extern_t ext = {.kind = WASMTIME_EXTERN_TAG};
    wasmtime_error_t *err = wasmtime_tag_new(c.ctx, tty, &ext.of.tag);
    wasm_tagtype_delete(tty);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    return ext_handle_new(type, c.so, &ext);
}

static PyObject *
tag_type(PyObject *op, PyObject *store)
{
    ext_ctx c;
    if (ext_handle_ctx(op, store, &c) < 0) {
        return NULL;
    }
    return tagtype_from_owned(c.so->st,
                              wasmtime_tag_type(c.ctx, &((ExternObject *)op)->ext.of.tag));
}

static PyObject *
tag_eq(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "eq() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    ext_ctx c;
    if (ext_handle_ctx(op, args[0], &c) < 0) {
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
    return PyBool_FromLong(
        wasmtime_tag_eq(c.ctx, &((ExternObject *)op)->ext.of.tag, &other->ext.of.tag));
}

EXT_KWN(tag_eq, "eq", 2, "store", "other")
EXT_KW1(tag_type, "type", "store")

static PyMethodDef tag_methods[] = {
    {"type", EXT_KW1_ENTRY(tag_type), "type($self, store)\n--\n\nThe TagType."},
    {"eq", EXT_KWN_ENTRY(tag_eq),
     "eq($self, store, other)\n--\n\nWhether both handles name the same tag."},
    {NULL, NULL, 0, NULL},
};

EXT_HANDLE_SPEC(tag, "Tag", "Tag(store, ty)\n--\n\nA wasm exception tag.")

int
tag_register(PyObject *mod, ext_state *st)
{
    st->Tag_Type = ext_add_type(mod, &tag_spec, NULL);
    return st->Tag_Type == NULL ? -1 : 0;
}
