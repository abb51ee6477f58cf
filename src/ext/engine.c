/* Engine: the compilation environment (wraps wasm.h engines and
 * wasmtime/engine.h).
 *
 * Owns its wasm_engine_t; Wasmtime reference-counts engines internally, so
 * stores and modules made from it stay valid after close().
 */
#include "runtime.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Wasmtime's C API panics (aborting the process) when an engine cannot be
 * built from a config, and offers no way to ask first.  The failures that
 * Python-settable options can cause are checked in config_check_known(); a
 * Cranelift flag or a target can fail in open-ended ways, so a config with
 * one is first tried in a forked child, which builds the engine from its
 * copy of the config and exits; its panic message becomes a WasmtimeError
 * here.  The child only runs Wasmtime code, never Python. */
static int
config_probe(ext_state *st, wasm_config_t *cfg)
{
    int fds[2];
    if (pipe(fds) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        setenv("RUST_BACKTRACE", "0", 1);
        /* A panic aborts: no inherited handler (e.g. faulthandler) may
         * report it as a crash of the parent. */
        signal(SIGABRT, SIG_DFL);
        wasm_engine_t *e = wasm_engine_new_with_config(cfg);
        _exit(e != NULL ? 0 : 3);
    }
    close(fds[1]);
    char buf[4096];
    size_t used = 0;
    int status = 0;
    bool timed_out = false;
    Py_BEGIN_ALLOW_THREADS
    for (;;) {
        struct pollfd p = {fds[0], POLLIN, 0};
        int r = poll(&p, 1, 30000);
        if (r == 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        ssize_t got = read(fds[0], buf + used, sizeof(buf) - 1 - used);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        used += (size_t)got;
        if (used >= sizeof(buf) - 1) {
            used = sizeof(buf) - 1; /* keep the start; drain the rest */
            char sink[512];
            while (read(fds[0], sink, sizeof(sink)) > 0) {
            }
            break;
        }
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    Py_END_ALLOW_THREADS
    if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }
    buf[used] = '\0';
    /* The panic reads "... on an `Err` value: <message>\n". */
    const char *msg = strstr(buf, "value: ");
    if (msg != NULL) {
        msg += 7;
        const char *end = strchr(msg, '\n');
        Py_ssize_t len = end != NULL ? (Py_ssize_t)(end - msg) : (Py_ssize_t)strlen(msg);
        PyObject *text = PyUnicode_DecodeUTF8(msg, len, "replace");
        if (text != NULL) {
            ext_raise_msg(st, "invalid engine configuration: %U", text);
            Py_DECREF(text);
        }
    }
    else {
        ext_raise_msg(st,
                      "invalid engine configuration (Wasmtime refused to build an "
                      "engine from it%s)",
                      timed_out ? "; the check timed out" : "");
    }
    return -1;
}

/* During an async call, wasm and the host functions it calls share one
 * fiber stack of async_stack_size bytes, of which wasm may use up to
 * max_wasm_stack (Wasmtime's default: 512 KiB); a host function that
 * overflows the rest makes Wasmtime abort the process.  Wasmtime's default
 * (2 MiB) leaves host functions less than a Python thread usually has, so
 * unless async_stack_size is set, Engine() makes it max_wasm_stack plus the
 * usual main-thread stack size (8 MiB): virtual memory, committed only where
 * used.  A value set explicitly must leave host functions at least
 * ASYNC_HOST_STACK_MIN, enough for a host call to start and reach Python's
 * own recursion checks. */
#define WASMTIME_MAX_WASM_STACK ((uint64_t)512 << 10)
#define ASYNC_HOST_STACK_DEFAULT ((uint64_t)8 << 20)
#define ASYNC_HOST_STACK_MIN ((uint64_t)256 << 10)

/* The async stack size Engine() uses, or 0 with WasmtimeError. */
static uint64_t
config_async_stack(ext_state *st, const ConfigObject *c)
{
    uint64_t wasm = c->stack_set ? c->max_wasm_stack : WASMTIME_MAX_WASM_STACK;
    if (!c->async_stack_set) {
        if (wasm > (uint64_t)SIZE_MAX - ASYNC_HOST_STACK_DEFAULT) {
            ext_raise_msg(st, "invalid engine configuration: max_wasm_stack is too large "
                              "(no room for the async stack)");
            return 0;
        }
        return wasm + ASYNC_HOST_STACK_DEFAULT;
    }
    if (c->async_stack_size < wasm || c->async_stack_size - wasm < ASYNC_HOST_STACK_MIN) {
        ext_raise_msg(st,
                      "invalid engine configuration: async_stack_size (%llu bytes) must "
                      "exceed max_wasm_stack (%llu bytes) by at least %llu bytes, the "
                      "stack left for host functions during an async call",
                      (unsigned long long)c->async_stack_size, (unsigned long long)wasm,
                      (unsigned long long)ASYNC_HOST_STACK_MIN);
        return 0;
    }
    return c->async_stack_size;
}

/* The engine-build failures a Python-settable option can cause, checked
 * here with Wasmtime's messages; everything else needs config_probe(). */
static int
config_check_known(ext_state *st, const ConfigObject *c)
{
    if (c->stack_set && c->max_wasm_stack == 0) {
        ext_raise_msg(st, "invalid engine configuration: max_wasm_stack size cannot be zero");
        return -1;
    }
    if (config_async_stack(st, c) == 0) {
        return -1;
    }
    if (c->simd_off && c->relaxed_simd) {
        ext_raise_msg(st, "invalid engine configuration: cannot disable the simd proposal but "
                          "enable the relaxed simd proposal (set wasm_relaxed_simd = False too)");
        return -1;
    }
    return 0;
}

/* An Engine() that failed before consuming its Config gives it back. */
static void
engine_config_put_back(PyObject *config, wasm_config_t *cfg)
{
    if (cfg != NULL) {
        Py_BEGIN_CRITICAL_SECTION(config);
        ((ConfigObject *)config)->config = cfg;
        Py_END_CRITICAL_SECTION();
    }
}

static PyObject *
engine_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"config", NULL};
    PyObject *config = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Engine", kwlist, &config)) {
        return NULL;
    }
    ext_state *st = ext_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    if (config != Py_None && !PyObject_TypeCheck(config, st->Config_Type)) {
        return ext_wrong_type(st, "Config", config);
    }
    EngineObject *self = (EngineObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    /* After the allocation, which may run the GC and with it a finalizer
     * that closes the Config. */
    wasm_config_t *cfg = NULL;
    if (config != Py_None) {
        /* Taken now (put back if we fail before consuming it): without a
         * GIL another thread may build an Engine from the same Config. */
        Py_BEGIN_CRITICAL_SECTION(config);
        cfg = ((ConfigObject *)config)->config;
        ((ConfigObject *)config)->config = NULL;
        Py_END_CRITICAL_SECTION();
        if (cfg == NULL) {
            Py_DECREF(self);
            return ALREADY_CLOSED(), NULL;
        }
    }
    self->st = st;
    self->options = PyTuple_New(0);
    if (self->options == NULL) {
        engine_config_put_back(config, cfg);
        Py_DECREF(self);
        return NULL;
    }
    self->memories_fixed = false;
    self->memories32_fixed = true;
    if (cfg != NULL) {
        ConfigObject *c = (ConfigObject *)config;
        int rc = config_check_known(st, c);
        if (rc == 0 && !c->async_stack_set) { /* before the probe, which needs it */
            wasmtime_config_async_stack_size_set(cfg, (size_t)config_async_stack(st, c));
        }
        if (rc < 0 || (c->needs_probe && config_probe(st, cfg) < 0)) {
            engine_config_put_back(config, cfg);
            Py_DECREF(self);
            return NULL;
        }
        PyObject *items = PyDict_Items(c->options);
        PyObject *options = items == NULL ? NULL : PyList_AsTuple(items);
        Py_XDECREF(items);
        if (options == NULL) {
            engine_config_put_back(config, cfg);
            Py_DECREF(self);
            return NULL;
        }
        Py_SETREF(self->options, options);
        self->memories_fixed = !c->memory_may_move;
        self->memories32_fixed = !c->memory_may_move || !c->small_reservation;
        self->interruptible = c->interruptible;
        if (c->interruptible) {
            wasmtime_config_epoch_interruption_set(cfg, true);
        }
        /* Consumes the config, even on failure. */
        self->engine = wasm_engine_new_with_config(cfg);
    }
    else {
        /* wasm_engine_new() with our default async stack */
        cfg = wasm_config_new();
        if (cfg != NULL) {
            wasmtime_config_async_stack_size_set(
                cfg, (size_t)(WASMTIME_MAX_WASM_STACK + ASYNC_HOST_STACK_DEFAULT));
            self->engine = wasm_engine_new_with_config(cfg);
        }
    }
    if (self->engine == NULL) {
        Py_DECREF(self);
        return ext_raise_msg(st, "failed to create the engine");
    }
    return (PyObject *)self;
}

static PyObject *
engine_increment_epoch(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    EngineObject *self = (EngineObject *)op;
    EXT_CHECK_OPEN(self->engine, NULL);
    /* Runs quickly and is thread-safe in Wasmtime: no GIL release needed. */
    wasmtime_engine_increment_epoch(EXT_LIVE(self, engine));
    Py_RETURN_NONE;
}

static PyObject *
engine_is_pulley(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    EngineObject *self = (EngineObject *)op;
    EXT_CHECK_OPEN(self->engine, NULL);
    return PyBool_FromLong(wasmtime_engine_is_pulley(EXT_LIVE(self, engine)));
}

static PyObject *
engine_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    EngineObject *self = (EngineObject *)op;
    Py_BEGIN_CRITICAL_SECTION(op);
    EXT_RETIRE(self, engine, wasm_engine_delete);
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static void
engine_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    EngineObject *self = (EngineObject *)op;
    EXT_CLEAR_WEAKREFS(op, self->weakreflist);
    if (self->engine != NULL) {
        wasm_engine_delete(self->engine);
    }
    EXT_DELETE_RETIRED(self, wasm_engine_t, wasm_engine_delete);
    Py_XDECREF(self->options);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyObject *
engine_config_options(PyObject *op, void *Py_UNUSED(closure))
{
    return Py_NewRef(((EngineObject *)op)->options);
}

/* Engine.shared(config=None): the process-wide Engine of this configuration
 * (wasmtime/_pickle.py keeps them; unpickled modules attach to them).  The
 * Config is read, not consumed, and may have been consumed already. */
static PyObject *
engine_shared(PyObject *cls, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"config", NULL};
    PyObject *a[1] = {Py_None};
    if (ext_parse_args(args, nargs, kwnames, "shared", kwlist, 0, a) < 0) {
        return NULL;
    }
    ext_state *st = ext_state_from_type((PyTypeObject *)cls);
    if (st == NULL) {
        return NULL;
    }
    PyObject *options;
    if (a[0] == NULL || a[0] == Py_None) {
        options = PyTuple_New(0);
    }
    else if (!PyObject_TypeCheck(a[0], st->Config_Type)) {
        return ext_wrong_type(st, "Config", a[0]);
    }
    else {
        /* The options stay readable after an Engine consumed the Config. */
        ConfigObject *c = (ConfigObject *)a[0];
        PyObject *items = PyDict_Items(c->options);
        options = items == NULL ? NULL : PyList_AsTuple(items);
        Py_XDECREF(items);
    }
    if (options == NULL) {
        return NULL;
    }
    PyObject *helpers = PyImport_ImportModule("wasmtime._pickle");
    PyObject *res = NULL;
    if (helpers != NULL) {
        res = PyObject_CallMethod(helpers, "shared_engine", "(O)", options);
        Py_DECREF(helpers);
    }
    Py_DECREF(options);
    return res;
}

static PyGetSetDef engine_getset[] = {
    {"_config_options", engine_config_options, NULL,
     "The options of the Config this engine was built from: ((name, value), ...).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef engine_methods[] = {
    {"shared", EXT_FASTCALL_KW_CLASS(engine_shared),
     "shared(config=None)\n--\n\nThe process-wide Engine for this configuration (the "
     "Config is only read, and may already be consumed); unpickled modules use it."},
    {"increment_epoch", engine_increment_epoch, METH_NOARGS,
     "increment_epoch($self, /)\n--\n\nAdvance the epoch; safe from any thread."},
    {"is_pulley", engine_is_pulley, METH_NOARGS,
     "is_pulley($self, /)\n--\n\nWhether code runs on the Pulley interpreter."},
    {"close", engine_close, METH_NOARGS, "close($self, /)\n--\n\nRelease the engine."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef engine_members[] = {
    EXT_WEAKREF_MEMBER(EngineObject, weakreflist),
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot engine_slots[] = {
    {Py_tp_members, engine_members},
    {Py_tp_new, engine_new},
    {Py_tp_dealloc, engine_dealloc},
    {Py_tp_methods, engine_methods},
    {Py_tp_getset, engine_getset},
    {Py_tp_doc, "Engine(config=None)\n--\n\nCompiles and runs WebAssembly; consumes `config`."},
    {0, NULL},
};

static PyType_Spec engine_spec = {
    .name = "wasmtime.Engine",
    .basicsize = sizeof(EngineObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE,
    .slots = engine_slots,
};

int
engine_register(PyObject *mod, ext_state *st)
{
    st->Engine_Type = ext_add_type(mod, &engine_spec, (PyObject *)st->Managed_Type);
    return st->Engine_Type == NULL ? -1 : 0;
}
