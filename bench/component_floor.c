/* The floor of a component call on this machine: C calling
 * wasmtime_component_func_call on bench/component.wat, linked against the same
 * _libwasmtime.so as the extension.  Each case does per call what any binding
 * must do: build the argument values, call, delete the results.  Prints one
 * JSON object, ns per call (per host call for "host"); bench/run.py compiles
 * and runs it as `component_floor bench/component.wat`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wasm.h>
#include <wasmtime.h>

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
check(wasmtime_error_t *err, const char *what)
{
    if (err != NULL) {
        wasm_name_t msg;
        wasmtime_error_message(err, &msg);
        fprintf(stderr, "component_floor: %s: %.*s\n", what, (int)msg.size, msg.data);
        _Exit(1);
    }
}

static wasmtime_error_t *
host_add(void *env, wasmtime_context_t *ctx, const wasmtime_component_func_type_t *ty,
         wasmtime_component_val_t *args, size_t nargs, wasmtime_component_val_t *results,
         size_t nresults)
{
    (void)env;
    (void)ctx;
    (void)ty;
    (void)nargs;
    (void)nresults;
    results[0].kind = WASMTIME_COMPONENT_U32;
    results[0].of.u32 = args[0].of.u32 + args[1].of.u32;
    return NULL;
}

typedef struct {
    wasmtime_context_t *ctx;
    wasmtime_component_func_t func;
    size_t size; /* payload bytes for the list and string cases */
    const uint8_t *data;
} bench_t;

typedef void (*case_fn)(bench_t *b, long n);

static void
run_add(bench_t *b, long n)
{
    wasmtime_component_val_t args[2], result;
    for (long i = 0; i < n; i++) {
        args[0].kind = WASMTIME_COMPONENT_U32;
        args[0].of.u32 = (uint32_t)i;
        args[1].kind = WASMTIME_COMPONENT_U32;
        args[1].of.u32 = 2;
        result.kind = WASMTIME_COMPONENT_BOOL;
        check(wasmtime_component_func_call(&b->func, b->ctx, args, 2, &result, 1), "add");
        if (result.of.u32 != (uint32_t)i + 2) {
            fprintf(stderr, "component_floor: add gave a wrong result\n");
            _Exit(1);
        }
    }
}

static void
run_bytes(bench_t *b, long n)
{
    for (long i = 0; i < n; i++) {
        wasmtime_component_val_t arg, result;
        arg.kind = WASMTIME_COMPONENT_LIST;
        wasmtime_component_vallist_new_uninit(&arg.of.list, b->size);
        for (size_t j = 0; j < b->size; j++) {
            arg.of.list.data[j].kind = WASMTIME_COMPONENT_U8;
            arg.of.list.data[j].of.u8 = b->data[j];
        }
        result.kind = WASMTIME_COMPONENT_BOOL;
        check(wasmtime_component_func_call(&b->func, b->ctx, &arg, 1, &result, 1), "echo-bytes");
        if (result.of.list.size != b->size) {
            fprintf(stderr, "component_floor: echo-bytes gave a wrong length\n");
            _Exit(1);
        }
        wasmtime_component_val_delete(&arg);
        wasmtime_component_val_delete(&result);
    }
}

static void
run_string(bench_t *b, long n)
{
    for (long i = 0; i < n; i++) {
        wasmtime_component_val_t arg, result;
        arg.kind = WASMTIME_COMPONENT_STRING;
        wasm_byte_vec_new(&arg.of.string, b->size, (const wasm_byte_t *)b->data);
        result.kind = WASMTIME_COMPONENT_BOOL;
        check(wasmtime_component_func_call(&b->func, b->ctx, &arg, 1, &result, 1), "echo-string");
        if (result.of.string.size != b->size) {
            fprintf(stderr, "component_floor: echo-string gave a wrong length\n");
            _Exit(1);
        }
        wasmtime_component_val_delete(&arg);
        wasmtime_component_val_delete(&result);
    }
}

static void
run_record(bench_t *b, long n)
{
    static const char *const names[3] = {"x", "y", "label"};
    for (long i = 0; i < n; i++) {
        wasmtime_component_val_t arg, result;
        arg.kind = WASMTIME_COMPONENT_RECORD;
        wasmtime_component_valrecord_new_uninit(&arg.of.record, 3);
        for (int f = 0; f < 3; f++) {
            wasm_byte_vec_new(&arg.of.record.data[f].name, strlen(names[f]),
                              (const wasm_byte_t *)names[f]);
        }
        arg.of.record.data[0].val.kind = WASMTIME_COMPONENT_S32;
        arg.of.record.data[0].val.of.s32 = 1;
        arg.of.record.data[1].val.kind = WASMTIME_COMPONENT_S32;
        arg.of.record.data[1].val.of.s32 = -2;
        arg.of.record.data[2].val.kind = WASMTIME_COMPONENT_STRING;
        wasm_byte_vec_new(&arg.of.record.data[2].val.of.string, 5, (const wasm_byte_t *)"hello");
        result.kind = WASMTIME_COMPONENT_BOOL;
        check(wasmtime_component_func_call(&b->func, b->ctx, &arg, 1, &result, 1), "echo-point");
        if (result.of.record.size != 3) {
            fprintf(stderr, "component_floor: echo-point gave a wrong record\n");
            _Exit(1);
        }
        wasmtime_component_val_delete(&arg);
        wasmtime_component_val_delete(&result);
    }
}

static void
run_host(bench_t *b, long n)
{
    wasmtime_component_val_t arg, result;
    arg.kind = WASMTIME_COMPONENT_U32;
    arg.of.u32 = (uint32_t)n;
    result.kind = WASMTIME_COMPONENT_BOOL;
    check(wasmtime_component_func_call(&b->func, b->ctx, &arg, 1, &result, 1), "call-host");
}

/* ns per operation of fn(b, n), which performs n operations. */
static double
timeit(case_fn fn, bench_t *b)
{
    long n = 1;
    for (;;) {
        double t0 = now();
        fn(b, n);
        double dt = now() - t0;
        if (dt >= 0.25) {
            return dt / n * 1e9;
        }
        long next = (long)(n * 0.25 / (dt > 1e-9 ? dt : 1e-9) * 1.2);
        n = next > 2 * n ? next : 2 * n;
    }
}

static wasmtime_component_func_t
get_func(wasmtime_context_t *ctx, wasmtime_component_instance_t *inst, const char *name)
{
    wasmtime_component_export_index_t *index =
        wasmtime_component_instance_get_export_index(inst, ctx, NULL, name, strlen(name));
    wasmtime_component_func_t func;
    if (index == NULL || !wasmtime_component_instance_get_func(inst, ctx, index, &func)) {
        fprintf(stderr, "component_floor: no export %s\n", name);
        _Exit(1);
    }
    wasmtime_component_export_index_delete(index);
    return func;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: component_floor COMPONENT.wat\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    static char wat[1 << 16];
    size_t wat_len = fread(wat, 1, sizeof wat, f);
    fclose(f);

    wasm_engine_t *engine = wasm_engine_new();
    wasm_byte_vec_t wasm;
    check(wasmtime_wat2wasm(wat, wat_len, &wasm), "wat2wasm");
    wasmtime_component_t *component;
    check(wasmtime_component_new(engine, (const uint8_t *)wasm.data, wasm.size, &component),
          "compile");
    wasm_byte_vec_delete(&wasm);

    wasmtime_component_linker_t *linker = wasmtime_component_linker_new(engine);
    wasmtime_component_linker_instance_t *root = wasmtime_component_linker_root(linker);
    check(wasmtime_component_linker_instance_add_func(root, "host-add", 8, host_add, NULL, NULL),
          "add_func");
    wasmtime_component_linker_instance_delete(root);

    wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
    wasmtime_context_t *ctx = wasmtime_store_context(store);
    wasmtime_component_instance_t inst;
    check(wasmtime_component_linker_instantiate(linker, ctx, component, &inst), "instantiate");

    size_t max = 64 * 1024;
    uint8_t *data = malloc(max);
    for (size_t i = 0; i < max; i++) {
        data[i] = (uint8_t)('a' + i % 26);
    }
    bench_t b = {ctx, get_func(ctx, &inst, "add"), 0, data};
    double t_add = timeit(run_add, &b);
    b.func = get_func(ctx, &inst, "echo-bytes");
    b.size = 1024;
    double t_bytes_1k = timeit(run_bytes, &b);
    b.size = max;
    double t_bytes_64k = timeit(run_bytes, &b);
    b.func = get_func(ctx, &inst, "echo-string");
    b.size = 1024;
    double t_string_1k = timeit(run_string, &b);
    b.size = max;
    double t_string_64k = timeit(run_string, &b);
    b.func = get_func(ctx, &inst, "echo-point");
    double t_record = timeit(run_record, &b);
    b.func = get_func(ctx, &inst, "call-host");
    double t_host = timeit(run_host, &b);

    printf("{\"add\": %.2f, \"bytes 1 KiB\": %.2f, \"bytes 64 KiB\": %.2f, "
           "\"string 1 KiB\": %.2f, \"string 64 KiB\": %.2f, \"record\": %.2f, "
           "\"host\": %.2f}\n",
           t_add, t_bytes_1k, t_bytes_64k, t_string_1k, t_string_64k, t_record, t_host);
    free(data);
    wasmtime_store_delete(store);
    wasmtime_component_linker_delete(linker);
    wasmtime_component_delete(component);
    wasm_engine_delete(engine);
    return 0;
}
