/* The physical floor of a Python <-> wasm call on this machine, linked against
 * the same _libwasmtime.so as the extension: ns per wasmtime_func_call_unchecked
 * of `nop` and `add`, and ns per call of an unchecked host function from a
 * wasm loop.  bench/run.py compiles and runs it.
 *
 * `floor N CASE` (CASE nop, add or host) runs only N operations of that case
 * and prints nothing: bench/callgrind.py counts its instructions. */
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

static wasm_trap_t *
host_hit(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args, size_t n)
{
    (void)env;
    (void)caller;
    (void)n;
    args[0].i32 = args[0].i32 & 1;
    return NULL;
}

static const char WAT[] =
    "(module (import \"host\" \"hit\" (func $hit (param i32) (result i32)))"
    " (func (export \"nop\"))"
    " (func (export \"add\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)"
    " (func (export \"loop_hit\") (param $n i32) (result i32) (local $acc i32)"
    "  block loop local.get $n i32.eqz br_if 1"
    "   local.get $acc local.get $n call $hit i32.add local.set $acc"
    "   local.get $n i32.const 1 i32.sub local.set $n br 0 end end local.get $acc))";

static void
die(wasmtime_error_t *err, wasm_trap_t *trap)
{
    if (err != NULL || trap != NULL) {
        fprintf(stderr, "floor: wasmtime failed\n");
        _Exit(1);
    }
}

int
main(int argc, char **argv)
{
    wasm_engine_t *engine = wasm_engine_new();
    wasmtime_store_t *store = wasmtime_store_new(engine, NULL, NULL);
    wasmtime_context_t *ctx = wasmtime_store_context(store);
    wasm_byte_vec_t wasm;
    die(wasmtime_wat2wasm(WAT, strlen(WAT), &wasm), NULL);
    wasmtime_module_t *module;
    die(wasmtime_module_new(engine, (uint8_t *)wasm.data, wasm.size, &module), NULL);
    wasm_byte_vec_delete(&wasm);

    wasm_valtype_vec_t p, r;
    wasm_valtype_vec_new_uninitialized(&p, 1);
    wasm_valtype_vec_new_uninitialized(&r, 1);
    p.data[0] = wasm_valtype_new(WASM_I32);
    r.data[0] = wasm_valtype_new(WASM_I32);
    wasm_functype_t *ty = wasm_functype_new(&p, &r);
    wasmtime_extern_t import;
    import.kind = WASMTIME_EXTERN_FUNC;
    wasmtime_func_new_unchecked(ctx, ty, host_hit, NULL, NULL, &import.of.func);
    wasmtime_instance_t inst;
    wasm_trap_t *trap = NULL;
    die(wasmtime_instance_new(ctx, module, &import, 1, &inst, &trap), trap);

    wasmtime_extern_t nop, add, loop;
    wasmtime_instance_export_get(ctx, &inst, "nop", 3, &nop);
    wasmtime_instance_export_get(ctx, &inst, "add", 3, &add);
    wasmtime_instance_export_get(ctx, &inst, "loop_hit", 8, &loop);

    int N = 5000000;
    wasmtime_val_raw_t raw[2];
    if (argc == 3) {
        /* One case, N operations, for instruction counting. */
        N = atoi(argv[1]);
        if (strcmp(argv[2], "host") == 0) {
            raw[0].i32 = N;
            die(wasmtime_func_call_unchecked(ctx, &loop.of.func, raw, 1, &trap), trap);
        }
        else {
            bool is_add = strcmp(argv[2], "add") == 0;
            for (int i = 0; i < N; i++) {
                raw[0].i32 = i;
                raw[1].i32 = 2;
                die(wasmtime_func_call_unchecked(ctx, is_add ? &add.of.func : &nop.of.func, raw,
                                                 is_add ? 2 : 0, &trap),
                    trap);
            }
        }
        return 0;
    }
    double t0 = now();
    for (int i = 0; i < N; i++) {
        die(wasmtime_func_call_unchecked(ctx, &nop.of.func, raw, 0, &trap), trap);
    }
    double t_nop = (now() - t0) / N * 1e9;
    t0 = now();
    for (int i = 0; i < N; i++) {
        raw[0].i32 = i;
        raw[1].i32 = 2;
        die(wasmtime_func_call_unchecked(ctx, &add.of.func, raw, 2, &trap), trap);
    }
    double t_add = (now() - t0) / N * 1e9;
    raw[0].i32 = N;
    t0 = now();
    die(wasmtime_func_call_unchecked(ctx, &loop.of.func, raw, 1, &trap), trap);
    double t_host = (now() - t0) / N * 1e9;
    printf("{\"nop\": %.2f, \"add\": %.2f, \"host\": %.2f}\n", t_nop, t_add, t_host);
    wasmtime_module_delete(module);
    wasm_functype_delete(ty);
    wasmtime_store_delete(store);
    wasm_engine_delete(engine);
    return 0;
}
