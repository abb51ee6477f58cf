/* LinkerInstance: one namespace of a component Linker (wraps
 * wasmtime_component_linker_instance_t of wasmtime/component/linker.h).
 *
 * Made by Linker.root() (parent: the Linker) or add_instance() (parent:
 * another LinkerInstance).  Wasmtime borrows the parent exclusively until
 * this instance is deleted, so the parent is `locked` until close(), and
 * this object holds it strongly.  An instance with an open child refuses
 * every use, close() included.  Callables given to add_func/add_resource
 * go to the root Linker's host_objects (see linker.c).
 */
#include "component.h"

static void
parent_unlock(CLinkerInstanceObject *self)
{
    if (self->parent == NULL) {
        return;
    }
    if (self->parent == (PyObject *)self->linker) {
        self->linker->locked = false;
    }
    else {
        ((CLinkerInstanceObject *)self->parent)->locked = false;
    }
}

static int
li_usable(CLinkerInstanceObject *self)
{
    EXT_CHECK_OPEN(self->li, -1);
    if (self->locked) {
        ext_raise_msg(self->linker->st, "cannot use linker while it's in use by other instances");
        return -1;
    }
    return 0;
}

/* The UTF-8 of a str name, or NULL. */
static const char *
li_name(CLinkerInstanceObject *self, PyObject *name, Py_ssize_t *len)
{
    if (!PyUnicode_Check(name)) {
        ext_wrong_type(self->linker->st, "a str", name);
        return NULL;
    }
    return PyUnicode_AsUTF8AndSize(name, len);
}

static PyObject *
li_add_instance(PyObject *op, PyObject *name)
{
    CLinkerInstanceObject *self = (CLinkerInstanceObject *)op;
    Py_ssize_t len;
    const char *n = li_name(self, name, &len);
    if (n == NULL || li_usable(self) < 0) {
        return NULL;
    }
    PyTypeObject *tp = Py_TYPE(op);
    CLinkerInstanceObject *child = (CLinkerInstanceObject *)tp->tp_alloc(tp, 0);
    if (child == NULL) {
        return NULL;
    }
    wasmtime_error_t *err =
        wasmtime_component_linker_instance_add_instance(self->li, n, (size_t)len, &child->li);
    if (err != NULL) {
        Py_DECREF(child);
        return ext_raise_error(self->linker->st, err);
    }
    child->parent = Py_NewRef(op);
    child->linker = (CLinkerObject *)Py_NewRef(self->linker);
    self->locked = true;
    return (PyObject *)child;
}

static PyObject *
li_add_module(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    CLinkerInstanceObject *self = (CLinkerInstanceObject *)op;
    ext_state *st = self->linker->st;
    Py_ssize_t len;
    const char *n = li_name(self, args[0], &len);
    if (n == NULL) {
        return NULL;
    }
    const wasmtime_module_t *m = ext_module_of_engine(st, args[1], self->linker->engine, "Linker");
    if (m == NULL || li_usable(self) < 0) {
        return NULL;
    }
    wasmtime_error_t *err =
        wasmtime_component_linker_instance_add_module(self->li, n, (size_t)len, m);
    if (err != NULL) {
        return ext_raise_error(st, err);
    }
    Py_RETURN_NONE;
}

static PyObject *
li_add_func(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    CLinkerInstanceObject *self = (CLinkerInstanceObject *)op;
    ext_state *st = self->linker->st;
    Py_ssize_t len;
    const char *n = li_name(self, args[0], &len);
    if (n == NULL) {
        return NULL;
    }
    if (!PyCallable_Check(args[1])) {
        return ext_wrong_type(st, "a callable", args[1]);
    }
    int coro = ext_is_coroutine_function(args[1]); /* (runs Python code) */
    if (coro < 0) {
        return NULL;
    }
    if (li_usable(self) < 0 || PyList_Append(self->linker->host_objects, args[1]) < 0) {
        return NULL;
    }
    if ((coro ? cahost_add_func : chost_add_func)(st, self->li, n, (size_t)len, args[1]) < 0) {
        return NULL;
    }
    self->linker->has_async |= coro; /* its Stores are async-only */
    Py_RETURN_NONE;
}

/* wasmtime.bindgen: add_func with a class table (see csig_set_classes),
 * checked against the import's type when the function is first called. */
static PyObject *
li_add_typed_func(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    CLinkerInstanceObject *self = (CLinkerInstanceObject *)op;
    ext_state *st = self->linker->st;
    Py_ssize_t len;
    const char *n = li_name(self, args[0], &len);
    if (n == NULL) {
        return NULL;
    }
    if (!PyCallable_Check(args[1])) {
        return ext_wrong_type(st, "a callable", args[1]);
    }
    if (!PyTuple_CheckExact(args[2]) || PyTuple_GET_SIZE(args[2]) != 2) {
        return ext_wrong_type(st, "a class table (params, result)", args[2]);
    }
    if (li_usable(self) < 0 || PyList_Append(self->linker->host_objects, args[1]) < 0 ||
        PyList_Append(self->linker->host_objects, args[2]) < 0) {
        return NULL;
    }
    if (chost_add_typed_func(st, self->li, n, (size_t)len, args[1], args[2]) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
li_add_resource(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    (void)nargs;
    CLinkerInstanceObject *self = (CLinkerInstanceObject *)op;
    ext_state *st = self->linker->st;
    Py_ssize_t len;
    const char *n = li_name(self, args[0], &len);
    if (n == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(args[1], st->CResourceType_Type)) {
        return ext_wrong_type(st, "a ResourceType", args[1]);
    }
    if (!PyCallable_Check(args[2])) {
        return ext_wrong_type(st, "a callable", args[2]);
    }
    const wasmtime_component_resource_type_t *ty = ((CResourceTypeObject *)args[1])->ty;
    EXT_CHECK_OPEN(ty, NULL);
    if (li_usable(self) < 0 || PyList_Append(self->linker->host_objects, args[2]) < 0) {
        return NULL;
    }
    if (chost_add_resource(st, self->li, n, (size_t)len, ty, args[2]) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
li_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    CLinkerInstanceObject *self = (CLinkerInstanceObject *)op;
    if (self->li == NULL) {
        Py_RETURN_NONE;
    }
    if (self->locked) {
        return ext_raise_msg(
            self->linker->st,
            "cannot close a LinkerInstance while an instance added to it is open");
    }
    wasmtime_component_linker_instance_delete(self->li);
    self->li = NULL;
    parent_unlock(self);
    Py_RETURN_NONE;
}

static PyObject *
li_get_parent(PyObject *op, void *Py_UNUSED(closure))
{
    PyObject *p = ((CLinkerInstanceObject *)op)->parent;
    return Py_NewRef(p != NULL ? p : Py_None);
}

static PyObject *
li_get_locked(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(((CLinkerInstanceObject *)op)->locked);
}

static int
li_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(((CLinkerInstanceObject *)op)->parent);
    Py_VISIT(((CLinkerInstanceObject *)op)->linker);
    return 0;
}

static void
li_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    CLinkerInstanceObject *self = (CLinkerInstanceObject *)op;
    PyObject_GC_UnTrack(op);
    /* No child can be open: each holds this object. */
    if (self->li != NULL) {
        wasmtime_component_linker_instance_delete(self->li);
        self->li = NULL;
        parent_unlock(self);
    }
    Py_CLEAR(self->parent);
    Py_CLEAR(self->linker);
    tp->tp_free(op);
    Py_DECREF(tp);
}

EXT_KW1(li_add_instance, "add_instance", "name")
EXT_KWN(li_add_module, "add_module", 2, "name", "module")
EXT_KWN(li_add_func, "add_func", 2, "name", "func")
EXT_KWN(li_add_typed_func, "_add_typed_func", 3, "name", "func", "classes")
EXT_KWN(li_add_resource, "add_resource", 3, "name", "ty", "dtor")

static PyMethodDef li_methods[] = {
    {"add_instance", EXT_KW1_ENTRY(li_add_instance),
     "add_instance($self, name)\n--\n\nThe nested instance `name` (this one is locked until "
     "it is closed)."},
    {"add_module", EXT_KWN_ENTRY(li_add_module),
     "add_module($self, name, module)\n--\n\nDefine core module `name`."},
    {"add_func", EXT_KWN_ENTRY(li_add_func),
     "add_func($self, name, func)\n--\n\nDefine host function `name`, called as "
     "func(store_context, *args)."},
    {"_add_typed_func", EXT_KWN_ENTRY(li_add_typed_func),
     "_add_typed_func($self, name, func, classes)\n--\n\nadd_func whose values use the "
     "generated classes of `classes` (wasmtime.bindgen's class table)."},
    {"add_resource", EXT_KWN_ENTRY(li_add_resource),
     "add_resource($self, name, ty, dtor)\n--\n\nDefine host resource `name` of type `ty`; "
     "dtor(store_context, rep) runs when the guest drops one."},
    {"close", li_close, METH_NOARGS,
     "close($self, /)\n--\n\nFree this instance and unlock its parent."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef li_getset[] = {
    {"parent", li_get_parent, NULL, "The Linker or LinkerInstance this one borrows.", NULL},
    {"locked", li_get_locked, NULL, "Whether an instance added to this one is open.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot li_slots[] = {
    {Py_tp_new, ext_no_construct},
    {Py_tp_dealloc, li_dealloc},
    {Py_tp_traverse, li_traverse},
    {Py_tp_methods, li_methods},
    {Py_tp_getset, li_getset},
    {Py_tp_doc, "A namespace of a component Linker, from Linker.root() or add_instance()."},
    {0, NULL},
};

static PyType_Spec li_spec = {
    .name = "wasmtime.component.LinkerInstance",
    .basicsize = sizeof(CLinkerInstanceObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_HAVE_GC,
    .slots = li_slots,
};

int
clinkerinstance_register(PyObject *mod, ext_state *st)
{
    PyObject *bases = PyTuple_Pack(1, st->Managed_Type);
    if (bases == NULL) {
        return -1;
    }
    st->CLinkerInstance_Type = ext_add_component_type(mod, &li_spec, bases);
    Py_DECREF(bases);
    return st->CLinkerInstance_Type == NULL ? -1 : 0;
}
