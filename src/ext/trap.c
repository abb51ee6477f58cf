/* Trap and Frame: wasm traps as Python exceptions (wraps wasmtime/trap.h and
 * wasm.h's wasm_trap_t / wasm_frame_t).
 *
 * A trap coming from Wasmtime is read completely when it is raised (message,
 * code, frames) and deleted right there, its one release point; the Python
 * objects own no C memory.  Trap derives from Exception and Managed, not from
 * WasmtimeError, as in wasmtime-py.
 */
#include "base.h"

#include <stdio.h>
typedef struct {
    PyObject_HEAD
    PyObject *func_index;    /* strong: int */
    PyObject *func_name;     /* strong: str or None */
    PyObject *module_name;   /* strong: str or None */
    PyObject *func_offset;   /* strong: int */
    PyObject *module_offset; /* strong: int */
} FrameObject;

static PyObject *
optional_name(const wasm_name_t *name)
{
    if (name == NULL) {
        Py_RETURN_NONE;
    }
    return ext_str_from_name(name);
}

static PyObject *
frame_from_c(ext_state *st, const wasm_frame_t *f)
{
    FrameObject *self = PyObject_GC_New(FrameObject, st->Frame_Type);
    if (self == NULL) {
        return NULL;
    }
    self->func_index = PyLong_FromUnsignedLong(wasm_frame_func_index(f));
    self->func_name = optional_name(wasmtime_frame_func_name(f));
    self->module_name = optional_name(wasmtime_frame_module_name(f));
    self->func_offset = PyLong_FromSize_t(wasm_frame_func_offset(f));
    self->module_offset = PyLong_FromSize_t(wasm_frame_module_offset(f));
    PyObject_GC_Track(self);
    if (!self->func_index || !self->func_name || !self->module_name || !self->func_offset ||
        !self->module_offset) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *
frame_repr(PyObject *op)
{
    FrameObject *f = (FrameObject *)op;
    return PyUnicode_FromFormat("<Frame %R!%R (func %R, module offset %R)>", f->module_name,
                                f->func_name, f->func_index, f->module_offset);
}

static int
frame_traverse(PyObject *op, visitproc visit, void *arg)
{
    FrameObject *f = (FrameObject *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(f->func_index);
    Py_VISIT(f->func_name);
    Py_VISIT(f->module_name);
    Py_VISIT(f->func_offset);
    Py_VISIT(f->module_offset);
    return 0;
}

static int
frame_clear(PyObject *op)
{
    FrameObject *f = (FrameObject *)op;
    Py_CLEAR(f->func_index);
    Py_CLEAR(f->func_name);
    Py_CLEAR(f->module_name);
    Py_CLEAR(f->func_offset);
    Py_CLEAR(f->module_offset);
    return 0;
}

static void
frame_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)frame_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMemberDef frame_members[] = {
    {"func_index", T_OBJECT, offsetof(FrameObject, func_index), READONLY,
     "Index of the function in its module."},
    {"func_name", T_OBJECT, offsetof(FrameObject, func_name), READONLY,
     "The function's name from the name section, or None."},
    {"module_name", T_OBJECT, offsetof(FrameObject, module_name), READONLY,
     "The module's name from the name section, or None."},
    {"func_offset", T_OBJECT, offsetof(FrameObject, func_offset), READONLY,
     "Byte offset of the instruction within the function."},
    {"module_offset", T_OBJECT, offsetof(FrameObject, module_offset), READONLY,
     "Byte offset of the instruction within the module."},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot frame_slots[] = {
    {Py_tp_dealloc, frame_dealloc},
    {Py_tp_traverse, frame_traverse},
    {Py_tp_clear, frame_clear},
    {Py_tp_repr, frame_repr},
    {Py_tp_members, frame_members},
    {Py_tp_doc, "One wasm frame of a trap's backtrace, innermost first."},
    {0, NULL},
};

static PyType_Spec frame_spec = {
    .name = "wasmtime.Frame",
    .basicsize = sizeof(FrameObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = frame_slots,
};

/* ---- Trap ------------------------------------------------------------------ */

static PyObject *
frames_list(ext_state *st, const wasm_trap_t *trap, const wasmtime_error_t *err)
{
    wasm_frame_vec_t vec;
    if (trap != NULL) {
        wasm_trap_trace(trap, &vec);
    }
    else {
        wasmtime_error_wasm_trace(err, &vec);
    }
    PyObject *list = PyList_New((Py_ssize_t)vec.size);
    for (size_t i = 0; list != NULL && i < vec.size; i++) {
        PyObject *f = frame_from_c(st, vec.data[i]);
        if (f == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, f);
    }
    wasm_frame_vec_delete(&vec);
    return list;
}

PyObject *
ext_trap_frames_text(const wasm_trap_t *trap, const wasmtime_error_t *err)
{
    wasm_frame_vec_t vec;
    if (trap != NULL) {
        wasm_trap_trace(trap, &vec);
    }
    else {
        wasmtime_error_wasm_trace(err, &vec);
    }
    if (vec.size == 0) {
        wasm_frame_vec_delete(&vec);
        return NULL;
    }
    PyObject *lines = PyList_New(0);
    PyObject *head = PyUnicode_FromString("wasm backtrace:");
    if (lines == NULL || head == NULL || PyList_Append(lines, head) < 0) {
        Py_XDECREF(lines);
        Py_XDECREF(head);
        wasm_frame_vec_delete(&vec);
        return NULL;
    }
    Py_DECREF(head);
    for (size_t i = 0; i < vec.size; i++) {
        const wasm_frame_t *f = vec.data[i];
        const wasm_name_t *mn = wasmtime_frame_module_name(f);
        const wasm_name_t *fnn = wasmtime_frame_func_name(f);
        PyObject *mod = mn != NULL ? ext_str_from_name(mn) : PyUnicode_FromString("<module>");
        PyObject *fn = fnn != NULL
                           ? ext_str_from_name(fnn)
                           : PyUnicode_FromFormat("<wasm function %u>", wasm_frame_func_index(f));
        PyObject *line = NULL;
        if (mod != NULL && fn != NULL) {
            char off[32];
            snprintf(off, sizeof(off), "0x%zx", wasm_frame_module_offset(f));
            line = PyUnicode_FromFormat("  %zu: %U!%U (module offset %s)", i, mod, fn, off);
        }
        Py_XDECREF(mod);
        Py_XDECREF(fn);
        if (line == NULL || PyList_Append(lines, line) < 0) {
            Py_XDECREF(line);
            Py_DECREF(lines);
            wasm_frame_vec_delete(&vec);
            return NULL;
        }
        Py_DECREF(line);
    }
    wasm_frame_vec_delete(&vec);
    PyObject *sep = PyUnicode_FromString("\n");
    PyObject *text = sep == NULL ? NULL : PyUnicode_Join(sep, lines);
    Py_XDECREF(sep);
    Py_DECREF(lines);
    return text;
}

PyObject *
ext_raise_trap(ext_state *st, wasm_trap_t *trap)
{
    wasm_message_t msg;
    wasm_trap_message(trap, &msg);
    size_t len = msg.size;
    if (len > 0 && msg.data[len - 1] == '\0') {
        len--; /* wasm_trap_message includes the NUL terminator */
    }
    PyObject *text = PyUnicode_DecodeUTF8(msg.data, (Py_ssize_t)len, "replace");
    wasm_byte_vec_delete(&msg);
    wasmtime_trap_code_t code;
    bool has_code = wasmtime_trap_code(trap, &code);
    PyObject *frames = frames_list(st, trap, NULL);
    wasm_trap_delete(trap);
    PyObject *exc = NULL;
    if (text != NULL && frames != NULL) {
        exc = PyObject_CallOneArg(st->Trap, text);
    }
    if (exc != NULL) {
        PyObject *pycode = has_code ? PyLong_FromLong(code) : Py_NewRef(Py_None);
        if (pycode == NULL || PyObject_SetAttrString(exc, "_code", pycode) < 0 ||
            PyObject_SetAttrString(exc, "frames", frames) < 0) {
            Py_CLEAR(exc);
        }
        Py_XDECREF(pycode);
    }
    Py_XDECREF(text);
    Py_XDECREF(frames);
    if (exc != NULL) {
        PyErr_SetObject(st->Trap, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

PyObject *
ext_raise_trap_class(ext_state *st, PyObject *cls, PyObject *message, wasmtime_error_t *err)
{
    PyObject *frames = frames_list(st, NULL, err);
    wasmtime_error_delete(err);
    PyObject *exc = frames == NULL ? NULL : PyObject_CallOneArg(cls, message);
    if (exc != NULL && PyObject_SetAttrString(exc, "frames", frames) < 0) {
        Py_CLEAR(exc);
    }
    Py_XDECREF(frames);
    if (exc != NULL) {
        PyErr_SetObject(cls, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static int
trap_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"message", NULL};
    PyObject *message;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "U:Trap", kwlist, &message)) {
        return -1;
    }
    PyObject *empty = PyList_New(0);
    if (empty == NULL) {
        return -1;
    }
    int rc = -1;
    PyObject *tuple = PyTuple_Pack(1, message);
    if (tuple != NULL && PyObject_SetAttrString(self, "args", tuple) == 0 &&
        PyObject_SetAttrString(self, "message", message) == 0 &&
        PyObject_SetAttrString(self, "frames", empty) == 0 &&
        PyObject_SetAttrString(self, "_code", Py_None) == 0) {
        rc = 0;
    }
    Py_XDECREF(tuple);
    Py_DECREF(empty);
    return rc;
}

static PyObject *
trap_str(PyObject *self)
{
    PyObject *m = PyObject_GetAttrString(self, "message");
    if (m != NULL && !PyUnicode_Check(m)) {
        Py_SETREF(m, PyObject_Str(m));
    }
    return m;
}

static PyObject *
trap_trap_code(PyObject *self, void *Py_UNUSED(closure))
{
    ext_state *st = ext_state_from_type(Py_TYPE(self));
    if (st == NULL) {
        return NULL;
    }
    PyObject *code = PyObject_GetAttrString(self, "_code");
    if (code == NULL || code == Py_None) {
        return code;
    }
    if (st->TrapCode == NULL) {
        PyObject *mod = PyImport_ImportModule("wasmtime._enums");
        if (mod == NULL) {
            Py_DECREF(code);
            return NULL;
        }
        st->TrapCode = PyObject_GetAttrString(mod, "TrapCode");
        Py_DECREF(mod);
        if (st->TrapCode == NULL) {
            Py_DECREF(code);
            return NULL;
        }
    }
    PyObject *res = PyObject_CallOneArg(st->TrapCode, code);
    if (res == NULL && PyErr_ExceptionMatches(PyExc_ValueError)) {
        /* A code newer than this package knows: give the number. */
        PyErr_Clear();
        return code;
    }
    Py_DECREF(code);
    return res;
}

static PyObject *
trap_close(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    (void)self; /* the C trap was released when the exception was made */
    Py_RETURN_NONE;
}

static PyMethodDef trap_methods[] = {
    {"close", trap_close, METH_NOARGS, "close($self, /)\n--\n\nNo-op."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef trap_getset[] = {
    {"trap_code", trap_trap_code, NULL,
     "The TrapCode saying why wasm trapped, or None for a trap made with a message.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot trap_slots[] = {
    {Py_tp_init, trap_init},
    {Py_tp_str, trap_str},
    {Py_tp_methods, trap_methods},
    {Py_tp_getset, trap_getset},
    {Py_tp_doc, "Trap(message)\n--\n\nA WebAssembly trap: `.message`, `.trap_code`, `.frames`."},
    {0, NULL},
};

static PyType_Spec trap_spec = {
    .name = "wasmtime.Trap",
    .basicsize = 0,
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE, /* GC inherited */
    .slots = trap_slots,
};

int
trap_register(PyObject *mod, ext_state *st)
{
    st->Frame_Type = ext_add_type(mod, &frame_spec, (PyObject *)st->Managed_Type);
    if (st->Frame_Type == NULL) {
        return -1;
    }
    PyObject *bases = PyTuple_Pack(2, PyExc_Exception, (PyObject *)st->Managed_Type);
    if (bases == NULL) {
        return -1;
    }
    st->Trap = (PyObject *)ext_add_type(mod, &trap_spec, bases);
    Py_DECREF(bases);
    return st->Trap == NULL ? -1 : 0;
}
