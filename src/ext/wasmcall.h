/* The bracket's GIL and interruption half of runtime.h: interruptible
 * engines (interrupt.c), the GIL policy of a call into wasm, and the
 * synchronous-call check of async-only Stores.  Included by runtime.h only,
 * after StoreObject and the call bracket; never included on its own. */
#ifndef WASMTIME_NATIVE_WASMCALL_H
#define WASMTIME_NATIVE_WASMCALL_H

/* ---- interruption (interrupt.c) ------------------------------------------
 *
 * Config.interruptible compiles epoch checks into the engine's code.  Every
 * Store of such an engine registers with one process-wide ticker thread (C,
 * started lazily, re-created lazily after fork, stopped at interpreter exit)
 * that advances its engine's epoch every EXT_TICK_MS, and gets a deadline
 * callback that wasm reaches at the next epoch check after a tick.  The
 * callback, in this order:
 *   1. sets the next deadline one tick ahead, with update kind
 *      WASMTIME_UPDATE_DEADLINE_YIELD when `so->async_call` is set (the
 *      hook for async calls: whoever runs a call with async support sets
 *      that flag for the call's duration), CONTINUE otherwise;
 *   2. stops the call when the Store's timeout passed (`timed_out`, raised
 *      as wasmtime.Timeout by ext_call_finish);
 *   3. on the main thread, takes the GIL if needed and runs Python's pending
 *      signal handlers (PyErr_CheckSignals): an exception they raise stops
 *      the call and is raised by it as the host exception;
 *   4. when the call keeps the GIL and another Python thread exists: if the
 *      call made host calls since the last tick, hands the GIL over (a
 *      waiting thread gets it, as at a switch interval); if it made none
 *      (pure wasm), releases the GIL until host calls resume or the call
 *      ends (`gil_parked`), so pure wasm runs in parallel with other
 *      threads.  A parked call off the main thread touches no GIL at a tick;
 *      on the main thread it takes the GIL back at each tick to run signal
 *      handlers, and parks again. */
#define EXT_TICK_MS 5
/* Install the deadline callback and register with the ticker (Store()).
 * 0 or -1 with an exception. */
int ext_interrupt_install(StoreObject *so);
/* Unregister (ext_store_release). */
void ext_interrupt_remove(StoreObject *so);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t ext_monotonic_ns(void);
/* Make sure the ticker runs (after a fork it is gone): at call entry. */
void ext_ticker_ensure(void);
/* Remember the main thread (module init). */
void ext_interrupt_init(void);

/* ---- the GIL during a call -------------------------------------------------
 *
 * The policy (docs/architecture.md, "Threads and the GIL"):
 * - A call keeps the GIL when no other Python thread exists (releasing and
 *   re-taking it costs more than a short call), and on an interruptible
 *   engine, whose deadline callback hands the GIL over once per tick when
 *   another thread exists: two threads then switch like Python code does,
 *   instead of on every host call.  Exception: when a tick finds that the
 *   Store's calls are long and pure (no host call since the last tick, at
 *   most 100 calls in it), later calls of that Store release the GIL like a
 *   plain engine's (`release_calls`) until a tick sees host calls again.
 * - A call releases it on a plain engine when another thread exists (a
 *   pure wasm loop cannot hand it over), and on a Store with WASI (its
 *   output callbacks run on a worker thread that needs the GIL).
 * - A call that keeps the GIL records it (`keeps_gil`).  A host trampoline
 *   that returns into such a call on a plain engine while another thread
 *   now exists (the host function started it) releases the GIL for the rest
 *   of the call (`gil_parked`); the call's end takes it back.  On an
 *   interruptible engine the deadline callback does this (item 4 above).
 *   So no thread waits for the end of a call that kept the GIL. */

/* Whether another Python thread than the current one exists: the
 * interpreter's thread states form a list, and the current one is alone in
 * it when it has no neighbour (read without the list's lock, like
 * PyInterpreterState_ThreadHead; a thread being created or deleted at that
 * instant is seen at the next call). */
static inline bool
ext_other_threads(void)
{
    PyThreadState *ts = PyThreadState_Get();
    return ts->prev != NULL || ts->next != NULL;
}

static inline bool
ext_must_release_gil(const StoreObject *so)
{
#ifdef Py_GIL_DISABLED
    /* No GIL to keep: detach always, so that the other threads'
     * stop-the-world pauses (GC) never wait for a wasm call; keeps_gil then
     * stays false and the host trampolines always attach (PyGILState_Ensure). */
    (void)so;
    return true;
#endif
    if (so->has_wasi) {
        return true;
    }
    if (so->interruptible && !so->release_calls) {
        return false;
    }
    return ext_other_threads();
}

/* The GIL state a host trampoline saw on entry: EXT_GIL_KEPT when the call
 * it returns into keeps the GIL (held by this thread: nothing to take). */
#define EXT_GIL_KEPT ((PyGILState_STATE) - 1)

/* Enter a host function of store `so` (called from wasm): take the GIL
 * unless the running call keeps it.  Pass the result to ext_host_leave. */
static inline PyGILState_STATE
ext_host_enter(StoreObject *so)
{
    if (so->keeps_gil && so->gil_parked == NULL) {
        return EXT_GIL_KEPT;
    }
    return PyGILState_Ensure();
}

/* Leave a host function: give the GIL back as the call found it, and when
 * the call keeps the GIL on a plain engine but another Python thread now
 * exists (the host function may have started it), release the GIL for the
 * rest of the call.  Every trampoline through which wasm calls Python ends
 * with this. */
static inline void
ext_host_leave(StoreObject *so, PyGILState_STATE g)
{
    so->host_calls++;
    if (g != EXT_GIL_KEPT) {
        PyGILState_Release(g);
    }
    else if (!so->interruptible && so->keeps_gil && so->gil_parked == NULL &&
             ext_other_threads()) {
        so->gil_parked = PyEval_SaveThread();
    }
}

/* Run `stmt` (which must not touch Python objects) for store `so`, with the
 * GIL released when ext_must_release_gil() says so. */
#define EXT_RUN_WASM(so, stmt)                          \
    do {                                                \
        bool keeps_ = (so)->keeps_gil;                  \
        PyThreadState *parked_ = (so)->gil_parked;      \
        if (ext_must_release_gil(so)) {                 \
            (so)->keeps_gil = false;                    \
            Py_BEGIN_ALLOW_THREADS                      \
            stmt;                                       \
            Py_END_ALLOW_THREADS                        \
        }                                               \
        else {                                          \
            (so)->keeps_gil = true;                     \
            (so)->gil_parked = NULL;                    \
            stmt;                                       \
            if ((so)->gil_parked != NULL) {             \
                PyEval_RestoreThread((so)->gil_parked); \
            }                                           \
            (so)->gil_parked = parked_;                 \
        }                                               \
        (so)->keeps_gil = keeps_;                       \
    } while (0)

/* EXT_RUN_WASM for a call on an idle Store (no call of it in flight, so
 * keeps_gil is false and gil_parked NULL before and after): nothing to
 * save and restore. */
#define EXT_RUN_WASM_OUTERMOST(so, stmt)                \
    do {                                                \
        if (ext_must_release_gil(so)) {                 \
            Py_BEGIN_ALLOW_THREADS                      \
            stmt;                                       \
            Py_END_ALLOW_THREADS                        \
        }                                               \
        else {                                          \
            (so)->keeps_gil = true;                     \
            stmt;                                       \
            (so)->keeps_gil = false;                    \
            if ((so)->gil_parked != NULL) {             \
                PyEval_RestoreThread((so)->gil_parked); \
                (so)->gil_parked = NULL;                \
            }                                           \
        }                                               \
    } while (0)

/* Run `stmt` (which must not touch Python objects) for store `so` with the
 * GIL released, whatever the policy: instantiation and the other entries
 * that may run long without being a call. */
#define EXT_RUN_WASM_NOGIL(so, stmt)   \
    do {                               \
        bool keeps_ = (so)->keeps_gil; \
        (so)->keeps_gil = false;       \
        Py_BEGIN_ALLOW_THREADS         \
        stmt;                          \
        Py_END_ALLOW_THREADS(so)       \
        ->keeps_gil = keeps_;          \
    } while (0)

/* Whether wasm may run on `so` through a synchronous call: not on an
 * async-only Store, nor inside an async call (a host function's nested
 * call).  0, or -1 with WasmtimeError. */
static inline int
ext_sync_call_ok(StoreObject *so)
{
    if (so->async_call != NULL) {
        ext_raise_msg(so->st, "cannot run wasm synchronously during an async call on the same "
                              "Store (await call_async from the event loop instead)");
        return -1;
    }
    if (so->async_only) {
        ext_raise_msg(so->st, "this Store is async-only (it has an async host function or an "
                              "async yield): use call_async / instantiate_async");
        return -1;
    }
    return 0;
}

#endif /* WASMTIME_NATIVE_WASMCALL_H */
