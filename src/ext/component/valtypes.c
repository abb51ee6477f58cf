/* The value types of wasmtime.component: ValType and its subclasses, the
 * primitives (Bool ... String, ErrorContext), the compound types (ListType
 * ... StreamType, with VariantLikeType under VariantType, OptionType and
 * ResultType) and OwnType/BorrowType (wraps wasmtime/component/types/val.h).
 *
 * Primitives hold nothing: they are equal by class and unhashable, as the
 * dataclasses of wasmtime-py.  Compound types own one C type pointer
 * (CTypeObject) and compare with Wasmtime's structural `_equal`.
 * add_classes(s) reports the Python classes a value may have, computed
 * from the same plan the conversions use (cplan.c), so the two never
 * disagree; VariantLikeType inherits it unchanged.
 */
#include "component.h"

/* ---- ValType ------------------------------------------------------------------ */

static PyObject *
valtype_add_classes(PyObject *op, PyObject *s)
{
    ext_state *st = ext_state_from_type(Py_TYPE(op));
    if (st == NULL) {
        return NULL;
    }
    if (!PyAnySet_Check(s)) {
        return ext_wrong_type(st, "a set", s);
    }
    uint32_t mask;
    if (cplan_mask_of(st, op, &mask) < 0 || cplan_add_classes(st, mask, s) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
valtype_convert(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)op;
    (void)args;
    (void)nargs;
    PyErr_SetString(PyExc_NotImplementedError,
                    "wasmtime-native converts values in C; there is no ctypes form");
    return NULL;
}

static PyMethodDef valtype_methods[] = {
    {"add_classes", valtype_add_classes, METH_O,
     "add_classes($self, s, /)\n--\n\nAdd to set `s` the Python classes of this type's values."},
    {"convert_to_c", EXT_FASTCALL(valtype_convert),
     "convert_to_c($self, store, val, ptr, /)\n--\n\nNot available (values convert in C)."},
    {"convert_from_c", EXT_FASTCALL(valtype_convert),
     "convert_from_c($self, c, /)\n--\n\nNot available (values convert in C)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot valtype_slots[] = {
    {Py_tp_methods, valtype_methods},
    {Py_tp_doc, "Base class of component value types."},
    {0, NULL},
};

static PyType_Spec valtype_spec = {
    .name = "wasmtime.component.ValType",
    .basicsize = sizeof(PyObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE,
    .slots = valtype_slots,
};

/* ---- primitives -------------------------------------------------------------------- */

static PyObject *
prim_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (ext_no_args(type->tp_name, args, kwds) < 0) {
        return NULL;
    }
    return type->tp_alloc(type, 0);
}

static PyObject *
prim_repr(PyObject *op)
{
    const char *name = strrchr(Py_TYPE(op)->tp_name, '.');
    return PyUnicode_FromFormat("%s()", name != NULL ? name + 1 : Py_TYPE(op)->tp_name);
}

static PyObject *
prim_richcompare(PyObject *a, PyObject *b, int op)
{
    if (op != Py_EQ && op != Py_NE) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (Py_TYPE(a) != Py_TYPE(b)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    return PyBool_FromLong(op == Py_EQ);
}

static void
plain_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyType_Slot prim_slots[] = {
    {Py_tp_new, prim_new},
    {Py_tp_repr, prim_repr},
    {Py_tp_richcompare, prim_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_dealloc, plain_dealloc},
    {Py_tp_doc, "A primitive component value type; equal by class."},
    {0, NULL},
};

#define PRIM(KIND, NAME)                                                       \
    {                                                                          \
        KIND,                                                                  \
        {                                                                      \
            .name = "wasmtime.component." NAME, .basicsize = sizeof(PyObject), \
            .flags = EXT_TPFLAGS, .slots = prim_slots                          \
        }                                                                      \
    }

static struct {
    int kind;
    PyType_Spec spec;
} prims[] = {
    PRIM(WASMTIME_COMPONENT_VALTYPE_BOOL, "Bool"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_S8, "S8"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_S16, "S16"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_S32, "S32"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_S64, "S64"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_U8, "U8"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_U16, "U16"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_U32, "U32"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_U64, "U64"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_F32, "F32"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_F64, "F64"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_CHAR, "Char"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_STRING, "String"),
    PRIM(WASMTIME_COMPONENT_VALTYPE_ERROR_CONTEXT, "ErrorContext"),
};

/* ---- compound types ------------------------------------------------------------- */

static bool
compound_equal(int kind, const void *a, const void *b)
{
    switch (kind) {
    case WASMTIME_COMPONENT_VALTYPE_LIST: return wasmtime_component_list_type_equal(a, b);
    case WASMTIME_COMPONENT_VALTYPE_RECORD: return wasmtime_component_record_type_equal(a, b);
    case WASMTIME_COMPONENT_VALTYPE_TUPLE: return wasmtime_component_tuple_type_equal(a, b);
    case WASMTIME_COMPONENT_VALTYPE_VARIANT: return wasmtime_component_variant_type_equal(a, b);
    case WASMTIME_COMPONENT_VALTYPE_ENUM: return wasmtime_component_enum_type_equal(a, b);
    case WASMTIME_COMPONENT_VALTYPE_OPTION: return wasmtime_component_option_type_equal(a, b);
    case WASMTIME_COMPONENT_VALTYPE_RESULT: return wasmtime_component_result_type_equal(a, b);
    case WASMTIME_COMPONENT_VALTYPE_FLAGS: return wasmtime_component_flags_type_equal(a, b);
    case WASMTIME_COMPONENT_VALTYPE_FUTURE: return wasmtime_component_future_type_equal(a, b);
    case WASMTIME_COMPONENT_VALTYPE_STREAM: return wasmtime_component_stream_type_equal(a, b);
    default: return a == b;
    }
}

static PyObject *
compound_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    CTypeObject *x = (CTypeObject *)a, *y = (CTypeObject *)b;
    EXT_CHECK_OPEN(x->ty, NULL);
    EXT_CHECK_OPEN(y->ty, NULL);
    bool eq = compound_equal(x->kind, x->ty, y->ty);
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyObject *
compound_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CTypeObject *self = (CTypeObject *)op;
    if (self->ty != NULL) {
        ctype_delete(self->kind, self->ty);
        self->ty = NULL;
    }
    Py_RETURN_NONE;
}

/* The child types of a compound type: element(s), field(s), case(s). */
static PyObject *
child(ext_state *st, wasmtime_component_valtype_t *vt, bool has, PyObject *owner)
{
    if (!has) {
        Py_RETURN_NONE;
    }
    return cvaltype_to_py(st, vt, owner);
}

static PyObject *
compound_single(PyObject *op, void *Py_UNUSED(closure))
{
    CTypeObject *self = (CTypeObject *)op;
    EXT_CHECK_OPEN(self->ty, NULL);
    wasmtime_component_valtype_t vt;
    bool has = true;
    switch (self->kind) {
    case WASMTIME_COMPONENT_VALTYPE_LIST:
        wasmtime_component_list_type_element(self->ty, &vt);
        break;
    case WASMTIME_COMPONENT_VALTYPE_OPTION:
        wasmtime_component_option_type_ty(self->ty, &vt);
        break;
    case WASMTIME_COMPONENT_VALTYPE_FUTURE:
        has = wasmtime_component_future_type_ty(self->ty, &vt);
        break;
    default: has = wasmtime_component_stream_type_ty(self->ty, &vt); break;
    }
    return child(self->st, &vt, has, op);
}

static PyObject *
result_arm(PyObject *op, void *closure)
{
    CTypeObject *self = (CTypeObject *)op;
    EXT_CHECK_OPEN(self->ty, NULL);
    wasmtime_component_valtype_t vt;
    bool has = closure == NULL ? wasmtime_component_result_type_ok(self->ty, &vt)
                               : wasmtime_component_result_type_err(self->ty, &vt);
    return child(self->st, &vt, has, op);
}

static PyObject *
compound_list(PyObject *op, void *Py_UNUSED(closure))
{
    CTypeObject *self = (CTypeObject *)op;
    EXT_CHECK_OPEN(self->ty, NULL);
    size_t n;
    switch (self->kind) {
    case WASMTIME_COMPONENT_VALTYPE_RECORD:
        n = wasmtime_component_record_type_field_count(self->ty);
        break;
    case WASMTIME_COMPONENT_VALTYPE_TUPLE:
        n = wasmtime_component_tuple_type_types_count(self->ty);
        break;
    case WASMTIME_COMPONENT_VALTYPE_VARIANT:
        n = wasmtime_component_variant_type_case_count(self->ty);
        break;
    case WASMTIME_COMPONENT_VALTYPE_ENUM:
        n = wasmtime_component_enum_type_names_count(self->ty);
        break;
    default: n = wasmtime_component_flags_type_names_count(self->ty); break;
    }
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list != NULL && i < n; i++) {
        const char *name = NULL;
        size_t len = 0;
        wasmtime_component_valtype_t vt;
        bool has = false;
        PyObject *item;
        switch (self->kind) {
        case WASMTIME_COMPONENT_VALTYPE_RECORD:
            has = wasmtime_component_record_type_field_nth(self->ty, i, &name, &len, &vt);
            break;
        case WASMTIME_COMPONENT_VALTYPE_TUPLE:
            has = wasmtime_component_tuple_type_types_nth(self->ty, i, &vt);
            break;
        case WASMTIME_COMPONENT_VALTYPE_VARIANT:
            wasmtime_component_variant_type_case_nth(self->ty, i, &name, &len, &has, &vt);
            break;
        case WASMTIME_COMPONENT_VALTYPE_ENUM:
            wasmtime_component_enum_type_names_nth(self->ty, i, &name, &len);
            break;
        default: wasmtime_component_flags_type_names_nth(self->ty, i, &name, &len); break;
        }
        if (self->kind == WASMTIME_COMPONENT_VALTYPE_TUPLE) {
            item = child(self->st, &vt, has, op);
        }
        else if (self->kind == WASMTIME_COMPONENT_VALTYPE_ENUM ||
                 self->kind == WASMTIME_COMPONENT_VALTYPE_FLAGS) {
            item = PyUnicode_DecodeUTF8(name, (Py_ssize_t)len, "replace");
        }
        else {
            PyObject *ty = child(self->st, &vt, has, op);
            item = ty == NULL ? NULL : Py_BuildValue("(s#N)", name, (Py_ssize_t)len, ty);
        }
        if (item == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

static PyObject *
enum_names_count(PyObject *op, void *Py_UNUSED(closure))
{
    CTypeObject *self = (CTypeObject *)op;
    EXT_CHECK_OPEN(self->ty, NULL);
    return PyLong_FromSize_t(wasmtime_component_enum_type_names_count(self->ty));
}

static PyObject *
enum_name(PyObject *op, PyObject *arg)
{
    CTypeObject *self = (CTypeObject *)op;
    Py_ssize_t n = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    EXT_CHECK_OPEN(self->ty, NULL);
    const char *name;
    size_t len;
    if (n < 0 || !wasmtime_component_enum_type_names_nth(self->ty, (size_t)n, &name, &len)) {
        Py_RETURN_NONE;
    }
    return PyUnicode_DecodeUTF8(name, (Py_ssize_t)len, "replace");
}

static PyMethodDef compound_methods[] = {
    {"close", compound_close, METH_NOARGS, "close($self, /)\n--\n\nFree the type."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef enum_methods[] = {
    {"name", enum_name, METH_O, "name($self, n, /)\n--\n\nThe n-th name, or None."},
    {"close", compound_close, METH_NOARGS, "close($self, /)\n--\n\nFree the type."},
    {NULL, NULL, 0, NULL},
};

#define GET(NAME, FN, DOC, CL) {NAME, FN, NULL, DOC, CL}
#define END_GETSET {NULL, NULL, NULL, NULL, NULL}
static PyGetSetDef list_getset[] = {GET("element", compound_single, "Element type.", NULL),
                                    END_GETSET};
static PyGetSetDef payload_getset[] = {GET("payload", compound_single, "Payload type.", NULL),
                                       END_GETSET};
static PyGetSetDef record_getset[] = {GET("fields", compound_list, "(name, ValType) list.", NULL),
                                      END_GETSET};
static PyGetSetDef tuple_getset[] = {GET("elements", compound_list, "ValType list.", NULL),
                                     END_GETSET};
static PyGetSetDef variant_getset[] = {
    GET("cases", compound_list, "(name, ValType or None) list.", NULL), END_GETSET};
static PyGetSetDef enum_getset[] = {GET("names", compound_list, "The names.", NULL),
                                    GET("names_count", enum_names_count, "How many.", NULL),
                                    END_GETSET};
static PyGetSetDef flags_getset[] = {GET("names", compound_list, "The names.", NULL), END_GETSET};
static PyGetSetDef result_getset[] = {GET("ok", result_arm, "Ok type or None.", NULL),
                                      GET("err", result_arm, "Err type or None.", (void *)1),
                                      END_GETSET};

#define COMPOUND(NAME, GETSET, METHODS)            \
    static PyType_Slot NAME##_slots[] = {          \
        {Py_tp_new, ext_no_construct},             \
        {Py_tp_dealloc, ctype_dealloc},            \
        {Py_tp_traverse, ctype_traverse},          \
        {Py_tp_clear, ctype_clear},                \
        {Py_tp_richcompare, compound_richcompare}, \
        {Py_tp_hash, PyObject_HashNotImplemented}, \
        {Py_tp_getset, GETSET},                    \
        {Py_tp_methods, METHODS},                  \
        {0, NULL},                                 \
    };                                             \
    static PyType_Spec NAME##_spec = {             \
        .name = "wasmtime.component." #NAME,       \
        .basicsize = sizeof(CTypeObject),          \
        .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC, \
        .slots = NAME##_slots,                     \
    };

COMPOUND(ListType, list_getset, compound_methods)
COMPOUND(RecordType, record_getset, compound_methods)
COMPOUND(TupleType, tuple_getset, compound_methods)
COMPOUND(VariantType, variant_getset, compound_methods)
COMPOUND(EnumType, enum_getset, enum_methods)
COMPOUND(OptionType, payload_getset, compound_methods)
COMPOUND(ResultType, result_getset, compound_methods)
COMPOUND(FlagsType, flags_getset, compound_methods)
COMPOUND(FutureType, payload_getset, compound_methods)
COMPOUND(StreamType, payload_getset, compound_methods)

static PyType_Slot variantlike_slots[] = {
    {Py_tp_doc, "Base of VariantType, OptionType and ResultType."},
    {0, NULL},
};

static PyType_Spec variantlike_spec = {
    .name = "wasmtime.component.VariantLikeType",
    .basicsize = sizeof(PyObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE,
    .slots = variantlike_slots,
};

/* ---- OwnType and BorrowType ---------------------------------------------------- */

static PyObject *
reftype_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"ty", NULL};
    PyObject *ty;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O", kwlist, &ty)) {
        return NULL;
    }
    CRefTypeObject *self = (CRefTypeObject *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->ty = Py_NewRef(ty);
    }
    return (PyObject *)self;
}

static PyObject *
reftype_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    return PyObject_RichCompare(((CRefTypeObject *)a)->ty, ((CRefTypeObject *)b)->ty, op);
}

static PyObject *
reftype_repr(PyObject *op)
{
    const char *name = strrchr(Py_TYPE(op)->tp_name, '.');
    return PyUnicode_FromFormat("%s(ty=%R)", name + 1, ((CRefTypeObject *)op)->ty);
}

static int
reftype_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CRefTypeObject *)op)->ty);
    return 0;
}

static int
reftype_clear(PyObject *op)
{
    Py_CLEAR(((CRefTypeObject *)op)->ty);
    return 0;
}

static void
reftype_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)reftype_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMemberDef reftype_members[] = {
    {"ty", T_OBJECT_EX, offsetof(CRefTypeObject, ty), READONLY, "The ResourceType."},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot reftype_slots[] = {
    {Py_tp_new, reftype_new},
    {Py_tp_richcompare, reftype_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_repr, reftype_repr},
    {Py_tp_traverse, reftype_traverse},
    {Py_tp_clear, reftype_clear},
    {Py_tp_dealloc, reftype_dealloc},
    {Py_tp_members, reftype_members},
    {Py_tp_doc, "OwnType(ty)\n--\n\nThe type own<ty> (BorrowType: borrow<ty>) of a ResourceType."},
    {0, NULL},
};

static PyType_Spec owntype_spec = {
    .name = "wasmtime.component.OwnType",
    .basicsize = sizeof(CRefTypeObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = reftype_slots,
};

static PyType_Spec borrowtype_spec = {
    .name = "wasmtime.component.BorrowType",
    .basicsize = sizeof(CRefTypeObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = reftype_slots,
};

/* ---- registration ---------------------------------------------------------------- */

static int
add(PyObject *mod, ext_state *st, int kind, PyType_Spec *spec, PyObject *base)
{
    PyObject *bases = PyTuple_Pack(1, base);
    if (bases == NULL) {
        return -1;
    }
    PyTypeObject *tp = ext_add_component_type(mod, spec, bases);
    Py_DECREF(bases);
    if (tp == NULL) {
        return -1;
    }
    st->cvaltypes[kind] = tp;
    Py_DECREF(tp); /* component_mod holds it */
    return 0;
}

int
cvaltypes_register(PyObject *mod, ext_state *st)
{
    PyObject *b = PyTuple_Pack(1, st->Managed_Type);
    st->CValType_Type = b == NULL ? NULL : ext_add_component_type(mod, &valtype_spec, b);
    Py_XDECREF(b);
    if (st->CValType_Type == NULL) {
        return -1;
    }
    PyObject *vt = (PyObject *)st->CValType_Type;
    b = PyTuple_Pack(1, vt);
    st->CVariantLike_Type = b == NULL ? NULL : ext_add_component_type(mod, &variantlike_spec, b);
    Py_XDECREF(b);
    if (st->CVariantLike_Type == NULL) {
        return -1;
    }
    PyObject *vl = (PyObject *)st->CVariantLike_Type;
    for (size_t i = 0; i < sizeof(prims) / sizeof(prims[0]); i++) {
        if (add(mod, st, prims[i].kind, &prims[i].spec, vt) < 0) {
            return -1;
        }
    }
    return add(mod, st, WASMTIME_COMPONENT_VALTYPE_LIST, &ListType_spec, vt) < 0 ||
                   add(mod, st, WASMTIME_COMPONENT_VALTYPE_RECORD, &RecordType_spec, vt) < 0 ||
                   add(mod, st, WASMTIME_COMPONENT_VALTYPE_TUPLE, &TupleType_spec, vt) < 0 ||
                   add(mod, st, WASMTIME_COMPONENT_VALTYPE_VARIANT, &VariantType_spec, vl) < 0 ||
                   add(mod, st, WASMTIME_COMPONENT_VALTYPE_ENUM, &EnumType_spec, vt) < 0 ||
                   add(mod, st, WASMTIME_COMPONENT_VALTYPE_OPTION, &OptionType_spec, vl) < 0 ||
                   add(mod, st, WASMTIME_COMPONENT_VALTYPE_RESULT, &ResultType_spec, vl) < 0 ||
                   add(mod, st, WASMTIME_COMPONENT_VALTYPE_FLAGS, &FlagsType_spec, vt) < 0 ||
                   add(mod, st, WASMTIME_COMPONENT_VALTYPE_FUTURE, &FutureType_spec, vt) < 0 ||
                   add(mod, st, WASMTIME_COMPONENT_VALTYPE_STREAM, &StreamType_spec, vt) < 0 ||
                   add(mod, st, WASMTIME_COMPONENT_VALTYPE_OWN, &owntype_spec, vt) < 0 ||
                   add(mod, st, WASMTIME_COMPONENT_VALTYPE_BORROW, &borrowtype_spec, vt) < 0
               ? -1
               : 0;
}
