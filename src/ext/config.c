/* Config: the engine settings (wraps wasmtime/config.h).
 *
 * Every option is set by assignment, as in wasmtime-py, or by calling it, as
 * the seed documentation writes it: reading `config.consume_fuel` gives a
 * bound method that sets the option (the C API has no getters, so there is
 * no value to read).  Every option set is recorded in `options`, which the
 * Engine keeps as its configuration fingerprint (pickle, Engine.shared).
 * The wasm_config_t is owned until Engine(config) consumes it (or close()
 * frees it); after that every setter raises ValueError.
 */
#include "runtime.h"

typedef void (*config_bool_fn)(wasm_config_t *, bool);
typedef void (*config_u64_fn)(wasm_config_t *, uint64_t);

typedef struct {
    const char *name;
    config_bool_fn set;
} bool_prop;

typedef struct {
    const char *name;
    config_u64_fn set;
    uint64_t max; /* largest accepted value */
} u64_prop;

static const bool_prop prop_memory_may_move;
static const bool_prop prop_wasm_reference_types;
static const bool_prop prop_wasm_simd;
static const bool_prop prop_wasm_relaxed_simd;
static const u64_prop prop_max_wasm_stack;
static const u64_prop prop_memory_reservation;
static const u64_prop prop_async_stack_size;

static int
config_check(ConfigObject *self, PyObject *value)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "Config options cannot be deleted");
        return -1;
    }
    if (self->config == NULL) {
        ALREADY_CLOSED();
        return -1;
    }
    return 0;
}

/* Remember that `name` was set to `value` (moved to the end if set before).
 * `value` is a bool, an exact int or a str (copied here if a subclass). */
static int
config_record(ConfigObject *self, const char *name, PyObject *value)
{
    PyObject *key = PyUnicode_FromString(name);
    if (key == NULL) {
        return -1;
    }
    value = PyUnicode_Check(value) ? PyUnicode_FromObject(value) : Py_NewRef(value);
    if (value == NULL) {
        Py_DECREF(key);
        return -1;
    }
    int rc = PyDict_Contains(self->options, key);
    if (rc > 0) {
        rc = PyDict_DelItem(self->options, key);
    }
    if (rc >= 0) {
        rc = PyDict_SetItem(self->options, key, value);
    }
    Py_DECREF(key);
    Py_DECREF(value);
    return rc < 0 ? -1 : 0;
}

static int
config_set_bool(PyObject *op, PyObject *value, void *closure)
{
    ConfigObject *self = (ConfigObject *)op;
    if (config_check(self, value) < 0) {
        return -1;
    }
    if (!PyBool_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "expected a bool");
        return -1;
    }
    ((const bool_prop *)closure)->set(self->config, value == Py_True);
    if (closure == &prop_memory_may_move) {
        self->memory_may_move = value == Py_True;
    }
    else if (closure == &prop_wasm_simd) {
        self->simd_off = value == Py_False;
    }
    else if (closure == &prop_wasm_relaxed_simd) {
        self->relaxed_simd = value == Py_True;
    }
    if (closure == &prop_wasm_reference_types && value == Py_False) {
        /* Component-model async needs reference types and is on by default;
         * it cannot be set from Python, so it follows. */
        wasmtime_config_wasm_component_model_async_set(self->config, false);
        wasmtime_config_wasm_component_model_more_async_builtins_set(self->config, false);
        wasmtime_config_wasm_component_model_async_stackful_set(self->config, false);
    }
    return config_record(self, ((const bool_prop *)closure)->name, value);
}

static int
config_set_u64(PyObject *op, PyObject *value, void *closure)
{
    ConfigObject *self = (ConfigObject *)op;
    const u64_prop *prop = closure;
    if (config_check(self, value) < 0) {
        return -1;
    }
    if (!PyLong_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "expected an int");
        return -1;
    }
    unsigned long long v = PyLong_AsUnsignedLongLong(value);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_Format(PyExc_OverflowError, "value out of range: expected 0..%llu",
                     (unsigned long long)prop->max);
        return -1;
    }
    if (v > prop->max) {
        PyErr_Format(PyExc_OverflowError, "value out of range: expected 0..%llu",
                     (unsigned long long)prop->max);
        return -1;
    }
    prop->set(self->config, (uint64_t)v);
    if (prop == &prop_memory_reservation) {
        self->small_reservation = v < ((uint64_t)1 << 32);
    }
    else if (prop == &prop_max_wasm_stack) {
        self->stack_set = true;
        self->max_wasm_stack = v;
    }
    else if (prop == &prop_async_stack_size) {
        self->async_stack_set = true;
        self->async_stack_size = v;
    }
    PyObject *exact = PyLong_FromUnsignedLongLong(v); /* not a subclass */
    if (exact == NULL) {
        return -1;
    }
    int rc = config_record(self, prop->name, exact);
    Py_DECREF(exact);
    return rc;
}

static void
set_max_wasm_stack(wasm_config_t *c, uint64_t v)
{
    wasmtime_config_max_wasm_stack_set(c, (size_t)v);
}

static void
set_async_stack_size(wasm_config_t *c, uint64_t v)
{
    wasmtime_config_async_stack_size_set(c, (size_t)v);
}

/* Maps a str option onto a C enum value; -1 when unknown. */
typedef struct {
    const char *name;
    int value;
} enum_entry;

static int
enum_lookup(const enum_entry *table, PyObject *value)
{
    if (!PyUnicode_Check(value)) {
        return -1;
    }
    for (; table->name != NULL; table++) {
        if (PyUnicode_CompareWithASCIIString(value, table->name) == 0) {
            return table->value;
        }
    }
    return -1;
}

static int
unknown_choice(ConfigObject *self, const char *what, PyObject *value)
{
    ext_state *st = ext_state_from_type(Py_TYPE(self));
    if (st != NULL) {
        ext_raise_msg(st, "unknown %s: %S", what, value);
    }
    return -1;
}

static const enum_entry strategies[] = {
    {"auto", WASMTIME_STRATEGY_AUTO},
    {"cranelift", WASMTIME_STRATEGY_CRANELIFT},
    {NULL, 0},
};

static int
config_set_strategy(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    ConfigObject *self = (ConfigObject *)op;
    if (config_check(self, value) < 0) {
        return -1;
    }
    int v = enum_lookup(strategies, value);
    if (v < 0) {
        return unknown_choice(self, "strategy", value);
    }
    wasmtime_config_strategy_set(self->config, (wasmtime_strategy_t)v);
    return config_record(self, "strategy", value);
}

static const enum_entry opt_levels[] = {
    {"none", WASMTIME_OPT_LEVEL_NONE},
    {"speed", WASMTIME_OPT_LEVEL_SPEED},
    {"speed_and_size", WASMTIME_OPT_LEVEL_SPEED_AND_SIZE},
    {NULL, 0},
};

static int
config_set_opt_level(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    ConfigObject *self = (ConfigObject *)op;
    if (config_check(self, value) < 0) {
        return -1;
    }
    int v = enum_lookup(opt_levels, value);
    if (v < 0) {
        return unknown_choice(self, "opt level", value);
    }
    wasmtime_config_cranelift_opt_level_set(self->config, (wasmtime_opt_level_t)v);
    return config_record(self, "cranelift_opt_level", value);
}

static const enum_entry profilers[] = {
    {"none", WASMTIME_PROFILING_STRATEGY_NONE},
    {"jitdump", WASMTIME_PROFILING_STRATEGY_JITDUMP},
    {"vtune", WASMTIME_PROFILING_STRATEGY_VTUNE},
    {"perfmap", WASMTIME_PROFILING_STRATEGY_PERFMAP},
    {NULL, 0},
};

static int
config_set_profiler(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    ConfigObject *self = (ConfigObject *)op;
    if (config_check(self, value) < 0) {
        return -1;
    }
    int v = enum_lookup(profilers, value);
    if (v < 0) {
        return unknown_choice(self, "profiler", value);
    }
    wasmtime_config_profiler_set(self->config, (wasmtime_profiling_strategy_t)v);
    return config_record(self, "profiler", value);
}

static const char *config_str_arg(PyObject *value, const char *expected);

static int
config_set_cache(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    ConfigObject *self = (ConfigObject *)op;
    if (config_check(self, value) < 0) {
        return -1;
    }
    ext_state *st = ext_state_from_type(Py_TYPE(self));
    if (st == NULL) {
        return -1;
    }
    const char *path = NULL;
    if (PyBool_Check(value)) {
        if (value == Py_False) {
            ext_raise_msg(st, "caching cannot be explicitly disabled");
            return -1;
        }
    }
    else if (PyUnicode_Check(value)) {
        path = config_str_arg(value, "expected a str");
        if (path == NULL) {
            return -1;
        }
    }
    else {
        PyErr_SetString(PyExc_TypeError, "expected string or bool");
        return -1;
    }
    wasmtime_error_t *err = wasmtime_config_cache_config_load(self->config, path);
    if (err != NULL) {
        return ext_raise_error_int(st, err);
    }
    return config_record(self, "cache", value);
}

static int
config_set_epoch_interruption(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    ConfigObject *self = (ConfigObject *)op;
    /* __bool__ may run Python code (even build an Engine from this Config,
     * consuming it): convert first, then check the Config. */
    int truth = value == NULL ? 0 : PyObject_IsTrue(value);
    if (truth < 0 || config_check(self, value) < 0) {
        return -1;
    }
    wasmtime_config_epoch_interruption_set(self->config, truth != 0);
    return config_record(self, "epoch_interruption", truth ? Py_True : Py_False);
}

/* Config.interruptible: epoch checks plus the ticker and deadline callback
 * of interrupt.c for every Store; applied by Engine(), after every other
 * option, so that `epoch_interruption = False` cannot undo it. */
static int
config_set_interruptible(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    ConfigObject *self = (ConfigObject *)op;
    int truth = value == NULL ? 0 : PyObject_IsTrue(value);
    if (truth < 0 || config_check(self, value) < 0) {
        return -1;
    }
    self->interruptible = truth != 0;
    return config_record(self, "interruptible", truth ? Py_True : Py_False);
}

/* A str argument as a NUL-free C string, or NULL with TypeError/ValueError. */
static const char *
config_str_arg(PyObject *value, const char *expected)
{
    if (!PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, expected);
        return NULL;
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(value, &len);
    if (s != NULL && (Py_ssize_t)strlen(s) != len) {
        PyErr_SetString(PyExc_ValueError, "embedded null character");
        return NULL;
    }
    return s;
}

static int
config_set_target(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    ConfigObject *self = (ConfigObject *)op;
    if (config_check(self, value) < 0) {
        return -1;
    }
    const char *triple = config_str_arg(value, "expected a str");
    if (triple == NULL) {
        return -1;
    }
    self->needs_probe = true; /* a valid triple may still be unsupported here */
    wasmtime_error_t *err = wasmtime_config_target_set(self->config, triple);
    if (err != NULL) {
        ext_state *st = ext_state_from_type(Py_TYPE(self));
        return st == NULL ? -1 : ext_raise_error_int(st, err);
    }
    return config_record(self, "target", value);
}

/* ---- new / methods -------------------------------------------------------- */

static PyObject *
config_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (ext_no_args("Config", args, kwds) < 0) {
        return NULL;
    }
    ConfigObject *self = (ConfigObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->memory_may_move = true;
    self->small_reservation = false;
    self->needs_probe = false;
    self->simd_off = false;
    self->relaxed_simd = true;
    self->stack_set = false;
    self->async_stack_set = false;
    self->options = PyDict_New();
    if (self->options == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->config = wasm_config_new();
    if (self->config == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static PyObject *
config_record_flag(ConfigObject *self, const char *method, PyObject *flag, PyObject *value)
{
    PyObject *name = PyUnicode_FromFormat("%s:%U", method, flag);
    if (name == NULL) {
        return NULL;
    }
    int rc = config_record(self, PyUnicode_AsUTF8(name), value);
    Py_DECREF(name);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *
config_cranelift_flag_enable(PyObject *op, PyObject *flag)
{
    ConfigObject *self = (ConfigObject *)op;
    EXT_CHECK_OPEN(self->config, NULL);
    const char *s = config_str_arg(flag, "expected a str");
    if (s == NULL) {
        return NULL;
    }
    self->needs_probe = true;
    wasmtime_config_cranelift_flag_enable(self->config, s);
    return config_record_flag(self, "cranelift_flag_enable", flag, Py_True);
}

static PyObject *
config_cranelift_flag_set(PyObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const kwlist[] = {"key", "value", NULL};
    ConfigObject *self = (ConfigObject *)op;
    PyObject *a[2];
    if (ext_parse_args(args, nargs, kwnames, "cranelift_flag_set", kwlist, 2, a) < 0) {
        return NULL;
    }
    EXT_CHECK_OPEN(self->config, NULL);
    const char *key = config_str_arg(a[0], "expected a str for key");
    if (key == NULL) {
        return NULL;
    }
    const char *value = config_str_arg(a[1], "expected a str for value");
    if (value == NULL) {
        return NULL;
    }
    self->needs_probe = true;
    wasmtime_config_cranelift_flag_set(self->config, key, value);
    return config_record_flag(self, "cranelift_flag_set", a[0], a[1]);
}

static PyObject *
config_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    ConfigObject *self = (ConfigObject *)op;
    if (self->config != NULL) {
        wasm_config_delete(self->config);
        self->config = NULL;
    }
    Py_RETURN_NONE;
}

static void
config_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    ConfigObject *self = (ConfigObject *)op;
    if (self->config != NULL) {
        wasm_config_delete(self->config);
    }
    Py_XDECREF(self->options);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* ---- tables --------------------------------------------------------------- */

#define BOOL_PROP(NAME) static const bool_prop prop_##NAME = {#NAME, wasmtime_config_##NAME##_set};
/* clang-format off */
#define BOOL_PROPS(X)                                                         \
    X(debug_info) X(wasm_threads) X(wasm_tail_call) X(wasm_reference_types)  \
    X(wasm_simd) X(wasm_bulk_memory) X(wasm_multi_value)                     \
    X(wasm_multi_memory) X(wasm_memory64) X(wasm_relaxed_simd)               \
    X(wasm_relaxed_simd_deterministic) X(wasm_component_model)               \
    X(wasm_component_model_map) X(wasm_component_model_implements)           \
    X(wasm_exceptions) X(wasm_function_references) X(wasm_gc)                \
    X(wasm_wide_arithmetic) X(wasm_custom_page_sizes)                        \
    X(wasm_stack_switching) X(cranelift_debug_verifier) X(consume_fuel)      \
    X(parallel_compilation) X(shared_memory) X(gc_support)                   \
    X(cranelift_nan_canonicalization) X(memory_may_move)                     \
    X(native_unwind_info) X(macos_use_mach_ports) X(signals_based_traps)     \
    X(memory_init_cow)
/* clang-format on */
BOOL_PROPS(BOOL_PROP)
#undef BOOL_PROP

static const u64_prop prop_max_wasm_stack = {"max_wasm_stack", set_max_wasm_stack, SIZE_MAX};
static const u64_prop prop_async_stack_size = {"async_stack_size", set_async_stack_size, SIZE_MAX};
static const u64_prop prop_memory_reservation = {
    "memory_reservation", wasmtime_config_memory_reservation_set, UINT64_MAX};
static const u64_prop prop_memory_guard_size = {"memory_guard_size",
                                                wasmtime_config_memory_guard_size_set, UINT64_MAX};
static const u64_prop prop_memory_reservation_for_growth = {
    "memory_reservation_for_growth", wasmtime_config_memory_reservation_for_growth_set,
    UINT64_MAX};

/* Reading an option gives a method bound to the Config that sets it, so
 * `config.consume_fuel(True)` does what `config.consume_fuel = True` does. */
static PyObject *
config_call_option(PyObject *op, const char *name, PyObject *value)
{
    if (PyObject_SetAttrString(op, name, value) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* clang-format off */
#define OTHER_OPTIONS(X)                                                      \
    X(max_wasm_stack) X(async_stack_size) X(memory_reservation)             \
    X(memory_guard_size)                                                    \
    X(memory_reservation_for_growth) X(strategy) X(cranelift_opt_level)     \
    X(profiler) X(cache) X(epoch_interruption) X(target) X(interruptible)
/* clang-format on */
#define OPTION_METHOD(NAME)                                                         \
    static PyObject *config_call_##NAME(PyObject *op, PyObject *value)              \
    {                                                                               \
        return config_call_option(op, #NAME, value);                                \
    }                                                                               \
    static PyMethodDef config_def_##NAME = {                                        \
        #NAME, config_call_##NAME, METH_O,                                          \
        #NAME "($self, value, /)\n--\n\nSet the option; same as assigning to it."}; \
    static PyObject *config_get_##NAME(PyObject *op, void *Py_UNUSED(closure))      \
    {                                                                               \
        return PyCFunction_NewEx(&config_def_##NAME, op, NULL);                     \
    }
BOOL_PROPS(OPTION_METHOD)
OTHER_OPTIONS(OPTION_METHOD)
#undef OPTION_METHOD

#define READ "; reading gives the method that sets it: config."
#define BOOL_GETSET(NAME)                       \
    {#NAME, config_get_##NAME, config_set_bool, \
     "bool option `" #NAME "`: assign it or call it" READ #NAME "(True).", (void *)&prop_##NAME},
#define U64_GETSET(NAME)                       \
    {#NAME, config_get_##NAME, config_set_u64, \
     "int option `" #NAME "`: assign it or call it" READ #NAME "(n).", (void *)&prop_##NAME},

static PyGetSetDef config_getset[] = {
    BOOL_PROPS(BOOL_GETSET) U64_GETSET(max_wasm_stack) U64_GETSET(async_stack_size)
        U64_GETSET(memory_reservation) U64_GETSET(memory_guard_size)
            U64_GETSET(memory_reservation_for_growth){
                "strategy", config_get_strategy, config_set_strategy,
                "Compilation strategy, \"auto\" or \"cranelift\"" READ "strategy(s).", NULL},
    {"cranelift_opt_level", config_get_cranelift_opt_level, config_set_opt_level,
     "\"none\", \"speed\" or \"speed_and_size\"" READ "cranelift_opt_level(s).", NULL},
    {"profiler", config_get_profiler, config_set_profiler,
     "\"none\", \"jitdump\", \"vtune\" or \"perfmap\"" READ "profiler(s).", NULL},
    {"cache", config_get_cache, config_set_cache,
     "True for the default cache configuration, or a TOML file path" READ "cache(v).", NULL},
    {"epoch_interruption", config_get_epoch_interruption, config_set_epoch_interruption,
     "Enable epoch-based interruption (any truthy value)" READ "epoch_interruption(True).", NULL},
    {"interruptible", config_get_interruptible, config_set_interruptible,
     "Let Ctrl-C, signal handlers and Store.set_timeout stop running wasm (compiles "
     "epoch checks; any truthy value)" READ "interruptible(True).",
     NULL},
    {"target", config_get_target, config_set_target,
     "The target triple to compile for" READ "target(triple).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};
#undef READ

EXT_KW1(config_cranelift_flag_enable, "cranelift_flag_enable", "flag")

static PyMethodDef config_methods[] = {
    {"cranelift_flag_enable", EXT_KW1_ENTRY(config_cranelift_flag_enable),
     "cranelift_flag_enable($self, flag)\n--\n\nEnable a boolean Cranelift flag."},
    {"cranelift_flag_set", EXT_FASTCALL_KW(config_cranelift_flag_set),
     "cranelift_flag_set($self, key, value)\n--\n\nSet a Cranelift setting."},
    {"close", config_close, METH_NOARGS, "close($self, /)\n--\n\nFree the configuration."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot config_slots[] = {
    {Py_tp_new, config_new},
    {Py_tp_dealloc, config_dealloc},
    {Py_tp_methods, config_methods},
    {Py_tp_getset, config_getset},
    {Py_tp_doc, "Config()\n--\n\nGlobal settings for an Engine; consumed by Engine(config)."},
    {0, NULL},
};

static PyType_Spec config_spec = {
    .name = "wasmtime.Config",
    .basicsize = sizeof(ConfigObject),
    .flags = EXT_TPFLAGS | Py_TPFLAGS_BASETYPE,
    .slots = config_slots,
};

int
config_register(PyObject *mod, ext_state *st)
{
    st->Config_Type = ext_add_type(mod, &config_spec, (PyObject *)st->Managed_Type);
    return st->Config_Type == NULL ? -1 : 0;
}
