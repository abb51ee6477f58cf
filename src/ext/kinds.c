/* Floor 2: the one table of wasm value kinds.
 *
 * Three vocabularies meet here: wasm.h's wasm_valkind_t (used by the type
 * classes), wasmtime.h's wasmtime_valkind_t (used by values and calls) and
 * the names Python users see.  Every translation between them reads this
 * table; the "none" sentinels (base.h) are distinct from every real kind.
 */
#include "base.h"

static const struct {
    wasmtime_valkind_t wasmtime;
    wasm_valkind_t wasm; /* EXT_NO_WASM_KIND: wasm.h cannot describe it */
    const char *name;
} kinds[] = {
    {WASMTIME_I32, WASM_I32, "i32"},
    {WASMTIME_I64, WASM_I64, "i64"},
    {WASMTIME_F32, WASM_F32, "f32"},
    {WASMTIME_F64, WASM_F64, "f64"},
    {WASMTIME_V128, EXT_WASM_V128, "v128"},
    {WASMTIME_FUNCREF, WASM_FUNCREF, "funcref"},
    {WASMTIME_EXTERNREF, WASM_EXTERNREF, "externref"},
    {WASMTIME_ANYREF, EXT_NO_WASM_KIND, "anyref"},
    {WASMTIME_EXNREF, EXT_NO_WASM_KIND, "exnref"},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const char *
ext_kind_name(wasmtime_valkind_t kind)
{
    for (size_t i = 0; i < NKINDS; i++) {
        if (kinds[i].wasmtime == kind) {
            return kinds[i].name;
        }
    }
    return "unknown";
}

const char *
ext_wasm_kind_name(wasm_valkind_t kind)
{
    for (size_t i = 0; i < NKINDS; i++) {
        if (kinds[i].wasm == kind && kind != EXT_NO_WASM_KIND) {
            return kinds[i].name;
        }
    }
    return NULL;
}

wasmtime_valkind_t
ext_wasmtime_kind_of(wasm_valkind_t kind)
{
    for (size_t i = 0; i < NKINDS; i++) {
        if (kinds[i].wasm == kind && kind != EXT_NO_WASM_KIND) {
            return kinds[i].wasmtime;
        }
    }
    return EXT_NO_WASMTIME_KIND;
}

wasm_valkind_t
ext_wasm_kind_of(wasmtime_valkind_t kind)
{
    for (size_t i = 0; i < NKINDS; i++) {
        if (kinds[i].wasmtime == kind) {
            return kinds[i].wasm;
        }
    }
    return EXT_NO_WASM_KIND;
}
