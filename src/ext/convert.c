/* Python <-> wasm values, shared by calls, host functions, globals and
 * tables (wraps wasmtime/val.h).
 *
 * Floor 3: reference values are store-bound, so conversion sits above the
 * handles it creates (handles.c).
 *
 * The rules are wasmtime-py's: a Val must match the type
 * exactly; an externref slot takes any object; ints wrap to the width and are
 * never floats; a Func is a funcref.  An externref made here owns a strong
 * reference to its payload, dropped by the finalizer Wasmtime runs when the
 * reference is collected (under the GIL, taken if needed).  An externref
 * wasm made (no payload) becomes an ExternRef, which goes back unchanged.
 */
#include "runtime.h"

/* TypeError for a value that does not convert.  Only builtin scalars are
 * shown by repr(): a user's __repr__ must not run in the middle of a
 * conversion (it could close the Store the other values belong to). */
static int
wrong_value(PyObject *obj, wasmtime_valkind_t kind)
{
    if (obj == Py_None || PyBool_Check(obj) || PyLong_CheckExact(obj) || PyFloat_CheckExact(obj) ||
        PyUnicode_CheckExact(obj) || PyBytes_CheckExact(obj)) {
        PyErr_Format(PyExc_TypeError, "don't know how to convert %.200R to %s", obj,
                     ext_kind_name(kind));
    }
    else {
        PyErr_Format(PyExc_TypeError, "don't know how to convert a %.200s object to %s",
                     Py_TYPE(obj)->tp_name, ext_kind_name(kind));
    }
    return -1;
}

/* v128 <-> int.  The int is unsigned and its bytes are the vector's
 * little-endian bytes (lane 0 in the low bits); ints wrap to 128 bits like
 * i32/i64 wrap to theirs.  The shifts call int's own slots, never a
 * subclass's __rshift__: no Python code runs. */
int
ext_py_to_v128(PyObject *obj, uint8_t out[16])
{
    if (!PyLong_Check(obj)) {
        return wrong_value(obj, WASMTIME_V128);
    }
    unsigned long long lo = PyLong_AsUnsignedLongLongMask(obj);
    if (lo == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    PyObject *shift = PyLong_FromLong(64);
    if (shift == NULL) {
        return -1;
    }
    PyObject *high = PyLong_Type.tp_as_number->nb_rshift(obj, shift);
    Py_DECREF(shift);
    if (high == NULL) {
        return -1;
    }
    unsigned long long hi = PyLong_AsUnsignedLongLongMask(high);
    Py_DECREF(high);
    if (hi == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(lo >> (8 * i));
        out[8 + i] = (uint8_t)(hi >> (8 * i));
    }
    return 0;
}

PyObject *
ext_v128_to_py(const uint8_t in[16])
{
    unsigned long long lo = 0, hi = 0;
    for (int i = 7; i >= 0; i--) {
        lo = (lo << 8) | in[i];
        hi = (hi << 8) | in[8 + i];
    }
    if (hi == 0) {
        return PyLong_FromUnsignedLongLong(lo);
    }
    PyObject *h = PyLong_FromUnsignedLongLong(hi);
    PyObject *l = PyLong_FromUnsignedLongLong(lo);
    PyObject *shift = PyLong_FromLong(64);
    PyObject *res = NULL;
    if (h != NULL && l != NULL && shift != NULL) {
        PyObject *up = PyNumber_Lshift(h, shift);
        if (up != NULL) {
            res = PyNumber_Or(up, l);
            Py_DECREF(up);
        }
    }
    Py_XDECREF(h);
    Py_XDECREF(l);
    Py_XDECREF(shift);
    return res;
}

int
ext_py_to_raw(PyObject *obj, wasmtime_valkind_t kind, wasmtime_val_raw_t *out)
{
    switch (kind) {
    case WASMTIME_V128: return ext_py_to_v128(obj, out->v128);
    case WASMTIME_I32:
    case WASMTIME_I64: {
        if (!PyLong_Check(obj)) {
            return wrong_value(obj, kind);
        }
        unsigned long long bits = ext_long_bits(obj);
        if (bits == (unsigned long long)-1 && PyErr_Occurred()) {
            return -1;
        }
        if (kind == WASMTIME_I32) {
            out->i32 = (int32_t)(uint32_t)bits;
        }
        else {
            out->i64 = (int64_t)bits;
        }
        return 0;
    }
    case WASMTIME_F32:
    case WASMTIME_F64:
        if (!PyFloat_Check(obj)) {
            return wrong_value(obj, kind);
        }
        if (kind == WASMTIME_F32) {
            out->f32 = (float)PyFloat_AS_DOUBLE(obj);
        }
        else {
            out->f64 = PyFloat_AS_DOUBLE(obj);
        }
        return 0;
    default: return wrong_value(obj, kind);
    }
}

PyObject *
ext_raw_to_py(wasmtime_valkind_t kind, const wasmtime_val_raw_t *raw)
{
    switch (kind) {
    case WASMTIME_I32: return PyLong_FromLong(raw->i32);
    case WASMTIME_I64: return PyLong_FromLongLong(raw->i64);
    case WASMTIME_F32: return PyFloat_FromDouble(raw->f32);
    case WASMTIME_F64: return PyFloat_FromDouble(raw->f64);
    case WASMTIME_V128: return ext_v128_to_py(raw->v128);
    default:
        PyErr_Format(PyExc_TypeError, "no raw conversion for %s", ext_kind_name(kind));
        return NULL;
    }
}

static int
make_externref(ext_state *st, ext_ctx *c, PyObject *obj, wasmtime_val_t *out)
{
    out->kind = WASMTIME_EXTERNREF;
    if (obj == Py_None) {
        wasmtime_externref_set_null(&out->of.externref);
        return 0;
    }
    if (Py_IS_TYPE(obj, st->ExternRef_Type)) {
        /* A reference wasm made: the same one goes back. */
        ExternRefObject *r = (ExternRefObject *)obj;
        if (r->store != c->so) {
            ext_raise_msg(st, "object used with the wrong store: the ExternRef belongs to "
                              "another Store");
            return -1;
        }
        wasmtime_externref_clone(&r->ref, &out->of.externref);
        return 0;
    }
    Py_INCREF(obj);
    if (!wasmtime_externref_new(c->ctx, obj, ext_externref_finalize, &out->of.externref)) {
        Py_DECREF(obj);
        ext_raise_msg(st, "failed to allocate an externref (the GC heap is full)");
        return -1;
    }
    return 0;
}

static int
funcref_from(ext_state *st, ext_ctx *c, PyObject *obj, wasmtime_val_t *out)
{
    out->kind = WASMTIME_FUNCREF;
    if (obj == Py_None) {
        wasmtime_funcref_set_null(&out->of.funcref);
        return 0;
    }
    ExternObject *f = (ExternObject *)obj;
    if (f->store != c->so) {
        ext_raise_msg(st, "object used with the wrong store: the Func belongs to another Store");
        return -1;
    }
    out->of.funcref = f->ext.of.func;
    return 0;
}

/* anyref: None (null), an AnyRef (or subclass) of this Store, or an int (an
 * i31, wrapped to 31 bits). */
static int
anyref_from(ext_state *st, ext_ctx *c, PyObject *obj, wasmtime_val_t *out)
{
    out->kind = WASMTIME_ANYREF;
    if (obj == Py_None) {
        wasmtime_anyref_set_null(&out->of.anyref);
        return 0;
    }
    if (PyObject_TypeCheck(obj, st->AnyRef_Type)) {
        AnyRefObject *r = (AnyRefObject *)obj;
        if (r->store != c->so) {
            ext_raise_msg(st,
                          "object used with the wrong store: the %s belongs to "
                          "another Store",
                          Py_TYPE(obj)->tp_name + sizeof("wasmtime.") - 1);
            return -1;
        }
        wasmtime_anyref_clone(&r->ref, &out->of.anyref);
        return 0;
    }
    if (PyLong_Check(obj) && !PyBool_Check(obj)) {
        unsigned long long bits = PyLong_AsUnsignedLongLongMask(obj);
        if (bits == (unsigned long long)-1 && PyErr_Occurred()) {
            return -1;
        }
        wasmtime_anyref_from_i31(c->ctx, (uint32_t)bits & 0x7fffffffu, &out->of.anyref);
        return 0;
    }
    return wrong_value(obj, WASMTIME_ANYREF);
}

PyObject *
ext_anyref_wrap(ext_state *st, ext_ctx *c, const wasmtime_anyref_t *ref)
{
    PyTypeObject *tp = st->AnyRef_Type;
    if (wasmtime_anyref_is_struct(c->ctx, ref) != 0) {
        tp = st->StructRef_Type;
    }
    else if (wasmtime_anyref_is_array(c->ctx, ref) != 0) {
        tp = st->ArrayRef_Type;
    }
    else if (wasmtime_anyref_is_eqref(c->ctx, ref) != 0) {
        tp = st->EqRef_Type;
    }
    AnyRefObject *r = PyObject_GC_New(AnyRefObject, tp);
    if (r == NULL) {
        return NULL;
    }
    r->store = (StoreObject *)Py_NewRef(c->so);
    wasmtime_anyref_clone(ref, &r->ref);
    r->raw = 0;
    r->has_raw = false;
    PyObject_GC_Track(r);
    return (PyObject *)r;
}

static PyObject *
anyref_to_py(ext_state *st, ext_ctx *c, const wasmtime_anyref_t *ref)
{
    if (wasmtime_anyref_is_null(ref)) {
        Py_RETURN_NONE;
    }
    int32_t i31;
    if (wasmtime_anyref_is_i31(c->ctx, ref) != 0 &&
        wasmtime_anyref_i31_get_s(c->ctx, ref, &i31) != 0) {
        return PyLong_FromLong(i31);
    }
    return ext_anyref_wrap(st, c, ref);
}

/* exnref: None (null) or an ExnRef of this Store. */
static int
exnref_from(ext_state *st, ext_ctx *c, PyObject *obj, wasmtime_val_t *out)
{
    out->kind = WASMTIME_EXNREF;
    if (obj == Py_None) {
        wasmtime_exnref_set_null(&out->of.exnref);
        return 0;
    }
    if (!PyObject_TypeCheck(obj, st->ExnRef_Type)) {
        return wrong_value(obj, WASMTIME_EXNREF);
    }
    ExnRefObject *r = (ExnRefObject *)obj;
    if (r->store != c->so) {
        ext_raise_msg(st, "object used with the wrong store: the ExnRef belongs to another "
                          "Store");
        return -1;
    }
    wasmtime_exnref_clone(&r->ref, &out->of.exnref);
    return 0;
}

PyObject *
ext_exnref_wrap(ext_state *st, ext_ctx *c, const wasmtime_exnref_t *ref)
{
    ExnRefObject *r = PyObject_GC_New(ExnRefObject, st->ExnRef_Type);
    if (r == NULL) {
        return NULL;
    }
    r->store = (StoreObject *)Py_NewRef(c->so);
    wasmtime_exnref_clone(ref, &r->ref);
    r->raw = 0;
    r->has_raw = false;
    PyObject_GC_Track(r);
    return (PyObject *)r;
}

int
ext_py_to_val(ext_state *st, ext_ctx *c, PyObject *obj, wasmtime_valkind_t kind,
              wasmtime_val_t *out)
{
    if (PyObject_TypeCheck(obj, st->Val_Type)) {
        obj = ext_val_unwrap(st, obj, kind);
        if (obj == NULL) {
            return -1;
        }
    }
    else if (kind == WASMTIME_EXTERNREF) {
        return make_externref(st, c, obj, out);
    }
    switch (kind) {
    case WASMTIME_I32:
    case WASMTIME_I64:
    case WASMTIME_F32:
    case WASMTIME_F64:
    case WASMTIME_V128: {
        wasmtime_val_raw_t raw;
        if (ext_py_to_raw(obj, kind, &raw) < 0) {
            return -1;
        }
        out->kind = kind;
        if (kind == WASMTIME_I32) {
            out->of.i32 = raw.i32;
        }
        else if (kind == WASMTIME_I64) {
            out->of.i64 = raw.i64;
        }
        else if (kind == WASMTIME_F32) {
            out->of.f32 = raw.f32;
        }
        else if (kind == WASMTIME_F64) {
            out->of.f64 = raw.f64;
        }
        else {
            memcpy(out->of.v128, raw.v128, sizeof(out->of.v128));
        }
        return 0;
    }
    case WASMTIME_EXTERNREF: return make_externref(st, c, obj, out);
    case WASMTIME_ANYREF: return anyref_from(st, c, obj, out);
    case WASMTIME_EXNREF: return exnref_from(st, c, obj, out);
    case WASMTIME_FUNCREF:
        if (obj == Py_None || PyObject_TypeCheck(obj, st->Func_Type)) {
            return funcref_from(st, c, obj, out);
        }
        return wrong_value(obj, kind);
    default:
        PyErr_Format(st->WasmtimeError, "values of type %s cannot be passed from Python yet",
                     ext_kind_name(kind));
        return -1;
    }
}

void
ext_val_to_raw(ext_ctx *c, const wasmtime_val_t *val, wasmtime_val_raw_t *out)
{
    if (val->kind == WASMTIME_EXTERNREF) {
        out->externref = wasmtime_externref_is_null(&val->of.externref)
                             ? 0
                             : wasmtime_externref_to_raw(c->ctx, &val->of.externref);
    }
    else if (val->kind == WASMTIME_FUNCREF) {
        out->funcref = wasmtime_funcref_is_null(&val->of.funcref)
                           ? NULL
                           : wasmtime_func_to_raw(c->ctx, &val->of.funcref);
    }
}

void
ext_raw_to_val(ext_ctx *c, wasmtime_valkind_t kind, const wasmtime_val_raw_t *raw,
               wasmtime_val_t *out)
{
    out->kind = kind;
    if (kind == WASMTIME_EXTERNREF) {
        if (raw->externref == 0) {
            wasmtime_externref_set_null(&out->of.externref);
        }
        else {
            wasmtime_externref_from_raw(c->ctx, raw->externref, &out->of.externref);
        }
    }
    else if (kind == WASMTIME_FUNCREF) {
        if (raw->funcref == NULL) {
            wasmtime_funcref_set_null(&out->of.funcref);
        }
        else {
            wasmtime_func_from_raw(c->ctx, raw->funcref, &out->of.funcref);
        }
    }
    else {
        out->kind = WASMTIME_I32; /* not a reference: nothing to hold */
        out->of.i32 = 0;
    }
}

void
ext_val_release(wasmtime_val_t *val)
{
    if (val->kind == WASMTIME_EXTERNREF || val->kind == WASMTIME_ANYREF ||
        val->kind == WASMTIME_EXNREF) {
        wasmtime_val_unroot(val);
    }
}

PyObject *
ext_val_to_py(ext_state *st, ext_ctx *c, const wasmtime_val_t *val)
{
    switch (val->kind) {
    case WASMTIME_I32: return PyLong_FromLong(val->of.i32);
    case WASMTIME_I64: return PyLong_FromLongLong(val->of.i64);
    case WASMTIME_F32: return PyFloat_FromDouble(val->of.f32);
    case WASMTIME_F64: return PyFloat_FromDouble(val->of.f64);
    case WASMTIME_V128: return ext_v128_to_py(val->of.v128);
    case WASMTIME_FUNCREF:
        if (wasmtime_funcref_is_null(&val->of.funcref)) {
            Py_RETURN_NONE;
        }
        return ext_func_wrap(st, c->so, &val->of.funcref);
    case WASMTIME_ANYREF: return anyref_to_py(st, c, &val->of.anyref);
    case WASMTIME_EXNREF:
        if (wasmtime_exnref_is_null(&val->of.exnref)) {
            Py_RETURN_NONE;
        }
        return ext_exnref_wrap(st, c, &val->of.exnref);
    case WASMTIME_EXTERNREF: {
        if (wasmtime_externref_is_null(&val->of.externref)) {
            Py_RETURN_NONE;
        }
        PyObject *data = wasmtime_externref_data(c->ctx, &val->of.externref);
        if (data != NULL) {
            return Py_NewRef(data);
        }
        /* Made by wasm (extern.convert_any): no Python payload. */
        ExternRefObject *r = PyObject_GC_New(ExternRefObject, st->ExternRef_Type);
        if (r == NULL) {
            return NULL;
        }
        r->store = (StoreObject *)Py_NewRef(c->so);
        wasmtime_externref_clone(&val->of.externref, &r->ref);
        PyObject_GC_Track(r);
        return (PyObject *)r;
    }
    default:
        return ext_raise_msg(st, "values of type %s cannot be passed to Python yet",
                             ext_kind_name(val->kind));
    }
}

PyObject *
ext_val_unwrap(ext_state *st, PyObject *obj, wasmtime_valkind_t kind)
{
    if (!PyObject_TypeCheck(obj, st->Val_Type)) {
        return obj;
    }
    ValObject *v = (ValObject *)obj;
    if (v->kind != kind) {
        PyErr_Format(PyExc_TypeError, "wrong type of `Val` provided: %s where %s is expected",
                     ext_kind_name(v->kind), ext_kind_name(kind));
        return NULL;
    }
    return v->value;
}

/* Global(store, ty, val) and Table(store, ty, init): a handle made from a
 * value. */
PyObject *
ext_valued_new(PyTypeObject *type, PyObject *args, PyObject *kwds, const ext_valued_spec *spec)
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
    if (ext_resolve_store(st, store, &c) < 0) {
        return NULL;
    }
    const void *cty = wasmtype_get(ty);
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
    return ext_handle_new(type, c.so, &ext);
}
