/* Floor 3 of wasmtime._ext for wasmtime.component: the structs the
 * component types share and the runtime pieces under them.
 *
 *   cplan.c   conversion plans (one per value type, computed once), and
 *             the class tables of wasmtime.bindgen attached to them
 *   cval.c    Python -> wasmtime_component_val_t, driven by the plans
 *   cvalout.c wasmtime_component_val_t -> Python
 *   citems.c  wrapping C component objects (types, items, export indexes,
 *             resources, funcs) as Python objects
 *   chost.c   the trampolines through which a component calls Python: host
 *             functions and host resource destructors
 *
 * It sits beside runtime.h (the core floor 3) and uses it; the component
 * type files of floor 4 use this header and never each other.
 */
#ifndef WASMTIME_NATIVE_COMPONENT_H
#define WASMTIME_NATIVE_COMPONENT_H

#include "../runtime.h"

#include <wasmtime/component.h>

/* ---- objects shared between files ---------------------------------------- */

typedef struct {
    PyObject_HEAD
    wasmtime_component_t *component; /* owned; NULL once closed */
    void *retired;                   /* owned: see EXT_RETIRE */
    PyObject *engine;                /* strong: EngineObject */
    ext_state *st;
    PyObject *weakreflist;
} ComponentObject;

typedef struct {
    PyObject_HEAD
    wasmtime_component_export_index_t *index; /* owned; NULL once closed */
} CExportIndexObject;

/* The component Linker.  root() and add_instance() borrow their parent
 * exclusively until the child is deleted; `locked` enforces it in C. */
typedef struct {
    PyObject_HEAD
    wasmtime_component_linker_t *linker; /* owned; NULL once closed */
    void *retired;                       /* owned: see EXT_RETIRE */
    PyObject *engine;                    /* strong: EngineObject */
    PyObject *host_objects;              /* strong list: callables whose env Wasmtime holds */
    ext_state *st;
    bool locked;      /* a LinkerInstance (root) is open */
    bool shadowing;   /* allow_shadowing */
    bool has_wasip2;  /* add_wasip2 was called */
    bool has_http;    /* add_wasi_http was called */
    bool has_async;   /* has an async host function: its Stores are async-only */
    _Atomic int busy; /* instantiations running without the GIL */
} CLinkerObject;

typedef struct {
    PyObject_HEAD
    wasmtime_component_linker_instance_t *li; /* owned; NULL once closed */
    PyObject *parent;                         /* strong: CLinkerObject or CLinkerInstanceObject */
    CLinkerObject *linker;                    /* strong: the root Linker */
    bool locked;                              /* a child instance is open */
} CLinkerInstanceObject;

typedef struct {
    PyObject_HEAD
    StoreObject *store; /* strong */
    wasmtime_component_instance_t instance;
    PyObject *weakreflist;
} CInstanceObject;

struct csig;

typedef struct {
    PyObject_HEAD
    StoreObject *store;             /* strong */
    wasmtime_component_func_t func; /* no destructor */
    vectorcallfunc vectorcall;
    struct csig *sig; /* owned or NULL until the first call */
    PyObject *weakreflist;
} CFuncObject;

typedef struct {
    PyObject_HEAD
    wasmtime_component_resource_type_t *ty; /* owned; NULL once closed */
} CResourceTypeObject;

typedef struct {
    PyObject_HEAD
    wasmtime_component_resource_any_t *res; /* owned; NULL once closed/consumed */
    StoreObject *store;                     /* strong: the store whose table holds it */
} CResourceAnyObject;

typedef struct {
    PyObject_HEAD
    wasmtime_component_resource_host_t *res; /* owned; NULL once closed */
} CResourceHostObject;

/* Every type class that owns one C type pointer: ComponentType,
 * ComponentInstanceType, ModuleType, FuncType and the compound value types
 * (ListType ... StreamType).  `kind` is the WASMTIME_COMPONENT_VALTYPE_* of
 * a value type, CTYPE_* below for the others. */
typedef struct {
    PyObject_HEAD
    void *ty; /* owned; NULL once closed */
    int kind;
    ext_state *st;
    /* The object this type came from (a Component, Func, type or extern),
     * kept alive: Wasmtime's types may point into their component, and
     * using them after it is gone panics. */
    PyObject *owner; /* strong or NULL */
} CTypeObject;

#define CTYPE_COMPONENT 100
#define CTYPE_INSTANCE 101
#define CTYPE_MODULE 102
#define CTYPE_FUNC 103
#define CTYPE_PRIMITIVE 200 /* a value type with no C pointer */

/* OwnType(ty) and BorrowType(ty). */
typedef struct {
    PyObject_HEAD
    PyObject *ty; /* strong: a ResourceType */
} CRefTypeObject;

/* ComponentExtern: an owned extern, which points into `owner`. */
typedef struct {
    PyObject_HEAD
    wasmtime_component_extern_t *ext; /* owned; NULL once closed */
    PyObject *owner;                  /* strong: the type it came from */
    ext_state *st;
} CExternObject;

typedef struct {
    PyObject_HEAD
    PyObject *tag;     /* strong */
    PyObject *payload; /* strong */
} CVariantObject;

typedef struct {
    PyObject_HEAD
    PyObject *dict; /* strong or NULL: the fields */
} CRecordObject;

/* ---- conversion plans (cplan.c) ------------------------------------------- */

/* What a value of one component type needs, computed once from the C type:
 * the kind, the names (record fields, cases, enum and flag names), the
 * children, and for variants, options and results the wasmtime-py rule that
 * decides whether values are tagged (Variant(tag, payload)) or bare. */
typedef struct cplan {
    uint8_t kind;        /* WASMTIME_COMPONENT_VALTYPE_* */
    bool tagged;         /* variant-like: cases overlap, so values are Variants */
    bool unsupported;    /* holds a future, stream, error-context or unknown kind */
    uint32_t mask;       /* CLS_* bits: the Python classes a value may have */
    size_t n;            /* children / names */
    struct cplan **sub;  /* owned; NULL entries: a case without payload */
    PyObject **names;    /* strong str, or NULL */
    wasm_name_t *cnames; /* owned UTF-8 copies of names */
    uint32_t *case_mask; /* variant-like: classes of each case */
    wasmtime_component_resource_type_t *rty; /* owned: own/borrow */
    /* The class table of wasmtime.bindgen (csig_set_classes), set at most
     * once, never changed after: NULL, or what values of this node become
     * (record: dataclass; variant: tuple of case classes; enum: tuple of
     * members; flags: Flag class; option: (Some,) or (); result: (Ok, Err);
     * own/borrow: (class, owner) for an exported resource, (None, to_py,
     * from_py) for an imported one: to_py(store, ResourceAny) is the Python
     * object behind a handle the host receives, from_py(store, obj, owned)
     * the ResourceHost (or ResourceAny) that stands for obj). */
    PyObject *cls;   /* strong or NULL */
    PyObject *attrs; /* strong tuple of str or NULL: a record's attribute names */
    PyObject *cache; /* strong dict or NULL: flags bits -> member */
} cplan;

/* A function signature: parameter plans, then the result's (or none). */
typedef struct csig {
    size_t nparams;
    cplan **params; /* owned */
    cplan *result;  /* owned or NULL */
    bool unsupported;
} csig;

/* The Python classes a value type accepts (wasmtime-py's add_classes). */
#define CLS_BOOL (1u << 0)
#define CLS_INT (1u << 1)
#define CLS_FLOAT (1u << 2)
#define CLS_STR (1u << 3)
#define CLS_BYTES (1u << 4)
#define CLS_LIST (1u << 5)
#define CLS_RECORD (1u << 6)
#define CLS_TUPLE (1u << 7)
#define CLS_VARIANT (1u << 8)
#define CLS_SET (1u << 9)
#define CLS_OBJECT (1u << 10)
#define CLS_RANY (1u << 11)
#define CLS_RHOST (1u << 12)

/* A plan for `ty` (borrowed).  NULL with an exception. */
cplan *cplan_new(ext_state *st, const wasmtime_component_valtype_t *ty);
void cplan_free(cplan *p);
/* The signature of a function type (borrowed).  NULL with an exception. */
csig *csig_new(ext_state *st, const wasmtime_component_func_type_t *ty);
void csig_free(csig *s);
/* The Python classes of `mask` added to set `s`. 0 or -1. */
int cplan_add_classes(ext_state *st, uint32_t mask, PyObject *s);
/* isinstance(obj, the classes of `mask`), without running Python code. */
bool cplan_matches(ext_state *st, PyObject *obj, uint32_t mask);
/* The add_classes mask of a value type object (ValType subclass). */
int cplan_mask_of(ext_state *st, PyObject *valtype, uint32_t *mask);

/* Python -> value of plan `p` for store `c`.  On failure `out` holds
 * nothing to free.  Runs Python code (getattr on records, iteration). */
int cval_from_py(ext_state *st, ext_ctx *c, const cplan *p, PyObject *obj,
                 wasmtime_component_val_t *out);
/* Value -> Python; `val` is left as it is (the caller deletes it). */
PyObject *cval_to_py(ext_state *st, StoreObject *so, const cplan *p,
                     const wasmtime_component_val_t *val);
/* Attach a class table to `s` (wasmtime.bindgen): (param nodes, result
 * node), each node None or (obj, attrs, children).  Runs no Python code.
 * TypeError for a table that does not fit the signature, ValueError when
 * classes were already attached.  0 or -1. */
int csig_set_classes(csig *s, PyObject *table);
/* The class-table node of a resource plan is the imported form (None,
 * to_py, from_py). */
static inline bool
cplan_host_resource(const cplan *p)
{
    return (p->kind == WASMTIME_COMPONENT_VALTYPE_OWN ||
            p->kind == WASMTIME_COMPONENT_VALTYPE_BORROW) &&
           p->cls != NULL && PyTuple_GET_SIZE(p->cls) == 3;
}
/* Visit the class-table objects of `s` (a generated resource class's table
 * holds the interface object that holds the Func: a cycle the GC must see). */
int csig_traverse(const csig *s, visitproc visit, void *arg);
/* NotImplementedError for a signature holding future/stream/error-context. */
int csig_check_supported(const csig *s);

/* ---- wrapping (citems.c) --------------------------------------------------- */

/* Python type object for a value type; takes ownership of `ty`'s pointer. */
PyObject *cvaltype_to_py(ext_state *st, wasmtime_component_valtype_t *ty, PyObject *owner);
/* Delete the pointer of a CTypeObject of `kind`. */
void ctype_delete(int kind, void *ptr);
/* A type object (CTypeObject) of class `tp` owning `ptr`, with `kind`. */
PyObject *ctype_wrap(ext_state *st, PyTypeObject *tp, void *ptr, int kind, PyObject *owner);
/* Slots shared by the CTypeObject classes. */
int ctype_traverse(PyObject *op, visitproc visit, void *arg);
int ctype_clear(PyObject *op);
void ctype_dealloc(PyObject *op);
/* The Python form of an item; takes ownership of it. */
PyObject *citem_to_py(ext_state *st, wasmtime_component_item_t *item, PyObject *owner);
/* A dict name -> ComponentExtern of the imports (`exports` false) or the
 * exports of a component type, or of an instance type. */
PyObject *cextern_dict(ext_state *st, PyObject *owner, const wasm_engine_t *engine, bool exports);
PyObject *cexportindex_wrap(ext_state *st, wasmtime_component_export_index_t *idx);
PyObject *cresourcetype_wrap(ext_state *st, wasmtime_component_resource_type_t *ty);
PyObject *cresourceany_wrap(ext_state *st, StoreObject *so,
                            wasmtime_component_resource_any_t *res);
PyObject *cresourcehost_wrap(ext_state *st, wasmtime_component_resource_host_t *res);
PyObject *cfunc_wrap(ext_state *st, StoreObject *so, const wasmtime_component_func_t *f);
PyObject *cinstance_wrap(ext_state *st, StoreObject *so,
                         const wasmtime_component_instance_t *inst);
/* A new StoreContext for `ctx` of store `so`. */
PyObject *cstorecontext_new(ext_state *st, StoreObject *so, wasmtime_context_t *ctx);

/* ---- trampolines (chost.c) -------------------------------------------------- */

/* Define `callable` as host function `name` of `li`. 0 or -1. */
int chost_add_func(ext_state *st, wasmtime_component_linker_instance_t *li, const char *name,
                   size_t len, PyObject *callable);
/* The same with a class table (csig_set_classes) applied to every plan of
 * it; `classes` is borrowed like `callable` (the caller keeps it alive). */
int chost_add_typed_func(ext_state *st, wasmtime_component_linker_instance_t *li, const char *name,
                         size_t len, PyObject *callable, PyObject *classes);
/* The same for a coroutine function: an async host function (cahost.c). */
int cahost_add_func(ext_state *st, wasmtime_component_linker_instance_t *li, const char *name,
                    size_t len, PyObject *callable);
/* Define host resource `name` of type `ty` whose destructor calls `dtor`. */
int chost_add_resource(ext_state *st, wasmtime_component_linker_instance_t *li, const char *name,
                       size_t len, const wasmtime_component_resource_type_t *ty, PyObject *dtor);

#endif /* WASMTIME_NATIVE_COMPONENT_H */
