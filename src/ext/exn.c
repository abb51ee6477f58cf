/* Floor 3: wasm exceptions crossing into Python and back (wraps
 * wasmtime/exnref.h).
 *
 * An exception wasm throws and nobody catches makes the call fail with a
 * trap and leaves the exception pending on the store; ext_exn_after_call
 * takes it and raises wasmtime.WasmException (a Trap, defined in
 * wasmtime/_exceptions.py) with its Tag and field values instead.  A host
 * function that raises a WasmException throws it into wasm: ext_exn_throw
 * builds the exnref from the Tag (of the calling Store) and the fields and
 * sets it as the store's pending exception, where a try_table can catch it.
 * The exnref is unrooted here in both directions; nothing else owns it.
 */
#include "runtime.h"

static PyObject *
exn_class(void)
{
    PyObject *mod = PyImport_ImportModule("wasmtime._exceptions");
    if (mod == NULL) {
        return NULL;
    }
    PyObject *cls = PyObject_GetAttrString(mod, "WasmException");
    Py_DECREF(mod);
    return cls;
}

int
ext_exn_to_py(ext_state *st, ext_ctx *c, const wasmtime_exnref_t *exn, PyObject **tag,
              PyObject **fields)
{
    wasmtime_extern_t ext = {.kind = WASMTIME_EXTERN_TAG};
    wasmtime_error_t *err = wasmtime_exnref_tag(c->ctx, exn, &ext.of.tag);
    if (err != NULL) {
        ext_raise_error(st, err);
        return -1;
    }
    *tag = ext_extern_to_py(st, c->so, &ext);
    if (*tag == NULL) {
        return -1;
    }
    size_t n = wasmtime_exnref_field_count(c->ctx, exn);
    *fields = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; *fields != NULL && i < n; i++) {
        wasmtime_val_t v;
        err = wasmtime_exnref_field(c->ctx, exn, i, &v);
        PyObject *item = err != NULL ? ext_raise_error(st, err) : ext_val_to_py(st, c, &v);
        if (err == NULL) {
            ext_val_release(&v);
        }
        if (item == NULL) {
            Py_CLEAR(*fields);
            break;
        }
        PyList_SET_ITEM(*fields, (Py_ssize_t)i, item);
    }
    if (*fields == NULL) {
        Py_CLEAR(*tag);
        return -1;
    }
    return 0;
}

int
ext_exn_after_call(ext_state *st, ext_ctx *c)
{
    wasmtime_exnref_t exn;
    if (c->so->store == NULL || wasmtime_context_take_exception(c->ctx, &exn) == 0) {
        return -1; /* the exception raised for the failed call stands */
    }
    PyObject *trap = ext_exc_take();
    PyObject *tag = NULL, *fields = NULL, *cls = NULL, *exc = NULL;
    if (ext_exn_to_py(st, c, &exn, &tag, &fields) == 0 && (cls = exn_class()) != NULL) {
        PyObject *msg = trap != NULL ? PyObject_Str(trap) : NULL;
        if (msg != NULL) {
            exc = PyObject_CallFunction(cls, "OOO", tag, fields, msg);
            Py_DECREF(msg);
        }
        PyObject *frames = exc != NULL ? PyObject_GetAttrString(trap, "frames") : NULL;
        if (frames == NULL || PyObject_SetAttrString(exc, "frames", frames) < 0) {
            PyErr_Clear(); /* frames stay [] */
        }
        Py_XDECREF(frames);
    }
    wasmtime_exnref_unroot(&exn);
    Py_XDECREF(tag);
    Py_XDECREF(fields);
    Py_XDECREF(cls);
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
        Py_XDECREF(trap);
    }
    else if (!PyErr_Occurred()) {
        ext_exc_restore(trap);
    }
    else {
        Py_XDECREF(trap);
    }
    return -1;
}

/* The wasmtime_val_t fields of a throw of `tag` from Python `values`. */
static int
exn_fields(ext_state *st, ext_ctx *c, const wasmtime_tag_t *tag, PyObject *values,
           wasmtime_val_t *vals, size_t cap, size_t *n)
{
    wasm_tagtype_t *tt = wasmtime_tag_type(c->ctx, tag);
    const wasm_valtype_vec_t *params = wasm_functype_params(wasm_tagtype_functype(tt));
    size_t want = params->size;
    wasmtime_valkind_t kinds[16];
    for (size_t i = 0; i < want && i < 16; i++) {
        kinds[i] = ext_valtype_wasmtime_kind(params->data[i]);
    }
    wasm_tagtype_delete(tt);
    *n = 0;
    if (want > cap) {
        ext_raise_msg(st, "tags with more than %zu fields cannot be thrown from Python", cap);
        return -1;
    }
    if (PyList_GET_SIZE(values) != (Py_ssize_t)want) {
        ext_raise_msg(st, "the tag takes %zu fields, %zd given", want, PyList_GET_SIZE(values));
        return -1;
    }
    for (; *n < want; (*n)++) {
        if (ext_py_to_val(st, c, PyList_GET_ITEM(values, (Py_ssize_t)*n), kinds[*n], &vals[*n]) <
            0) {
            return -1;
        }
    }
    return 0;
}

int
ext_exn_new(ext_state *st, ext_ctx *c, PyObject *tag, PyObject *values, wasmtime_exnref_t *out)
{
    if (!PyObject_TypeCheck(tag, st->Tag_Type)) {
        ext_wrong_type(st, "a Tag", tag);
        return -1;
    }
    if (((ExternObject *)tag)->store != c->so) {
        ext_raise_msg(st, "object used with the wrong store: the Tag belongs to another Store");
        return -1;
    }
    const wasmtime_tag_t *t = &((ExternObject *)tag)->ext.of.tag;
    wasmtime_val_t vals[16];
    size_t n = 0;
    int rc = exn_fields(st, c, t, values, vals, 16, &n);
    if (rc == 0) {
        wasmtime_error_t *err = wasmtime_exnref_new(c->ctx, t, vals, n, out);
        if (err != NULL) {
            ext_raise_error(st, err);
            rc = -1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        ext_val_release(&vals[i]);
    }
    return rc;
}

wasm_trap_t *
ext_exn_throw(ext_state *st, ext_ctx *c, PyObject *exc)
{
    PyObject *cls = exn_class();
    int is = cls == NULL ? -1 : PyObject_IsInstance(exc, cls);
    Py_XDECREF(cls);
    if (is <= 0) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *tag = PyObject_GetAttrString(exc, "tag");
    PyObject *fields = tag == NULL ? NULL : PyObject_GetAttrString(exc, "fields");
    PyObject *list = fields == NULL ? NULL : PySequence_List(fields);
    wasm_trap_t *trap = NULL;
    /* Python code (attribute lookups, iteration) ran: resolve the store now. */
    if (list != NULL && c->so->store == NULL) {
        ext_raise_msg(st, "the Store was closed");
    }
    else if (list != NULL) {
        wasmtime_exnref_t exn;
        if (ext_exn_new(st, c, tag, list, &exn) == 0) {
            trap = wasmtime_context_set_exception(c->ctx, &exn);
            wasmtime_exnref_unroot(&exn);
        }
    }
    Py_XDECREF(tag);
    Py_XDECREF(fields);
    Py_XDECREF(list);
    return trap; /* NULL: an exception is set, the caller reports it */
}
