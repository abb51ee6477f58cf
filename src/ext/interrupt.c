/* Floor 3: interruptible engines (Config.interruptible), wrapping
 * wasmtime_store_epoch_deadline_callback and wasmtime_engine_increment_epoch.
 *
 * One process-wide ticker thread, written in C so that it runs while the GIL
 * is held, advances every EXT_TICK_MS the epoch of each interruptible
 * Store's engine while that Store runs wasm (its running_thread is set).
 * Each such Store owns a node in the ticker's list (with a clone of its C
 * engine, so Engine.close() cannot free what the ticker uses), added by
 * Store() and removed by the Store's release point.  The ticker runs only
 * while it is needed: the outermost call into wasm of an interruptible Store
 * starts it when it is not running (ext_ticker_ensure, also what restarts it
 * in a child after fork), and it exits by itself after EXT_TICKER_LINGER_MS
 * without any such Store running wasm, so an idle process is neither woken
 * up 200 times a second nor multi-threaded when it forks.  It is stopped
 * and waited for at interpreter exit (Py_AtExit).  It never touches Python
 * objects and blocks every signal, so signals reach Python's threads.
 *
 * Starting and exiting cannot miss each other: a call sets its Store's
 * running_thread before it reads ticker_running, and the ticker clears
 * ticker_running before it looks at every running_thread once more (all
 * sequentially consistent), so either the call sees the ticker gone and
 * starts a new one, or the ticker sees the call and stays.  It is started with CPython's
 * PyThread_start_new_thread and waited for with a condition variable, not
 * pthread_create/pthread_join: those bind to glibc 2.34 symbol versions,
 * which a manylinux_2_28 wheel may not use (likewise sigprocmask, not
 * pthread_sigmask, which is 2.32; on Linux it sets the calling thread's
 * mask).
 *
 * What the deadline callback does is described in runtime.h.
 */
#include "runtime.h"

#include <pthread.h>
#include <pythread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

typedef struct ext_tick_node {
    struct ext_tick_node *prev, *next;
    wasm_engine_t *engine; /* owned: a clone */
    StoreObject *so;       /* borrowed: the node is removed before the Store is freed */
} ext_tick_node;

/* How long the ticker stays without work before it exits. */
#define EXT_TICKER_LINGER_MS 200

static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;
static ext_tick_node tick_head = {&tick_head, &tick_head, NULL};
static pthread_cond_t tick_done = PTHREAD_COND_INITIALIZER; /* ticker_exited became true */
static atomic_bool ticker_running;                          /* written under tick_lock */
static bool ticker_exited;       /* the running ticker left its loop; under tick_lock */
static bool ticker_stopping;     /* interpreter exit: never restart */
static bool hooks_installed;     /* atfork and Py_AtExit */
static unsigned long main_ident; /* the main thread, for signal handling */

uint64_t
ext_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether a listed Store runs wasm (tick_lock held). */
static bool
any_store_running(void)
{
    for (ext_tick_node *n = tick_head.next; n != &tick_head; n = n->next) {
        if (atomic_load(&n->so->running_thread) != 0) {
            return true;
        }
    }
    return false;
}

static void
ticker_main(void *Py_UNUSED(arg))
{
    const struct timespec period = {0, EXT_TICK_MS * 1000000L};
    unsigned idle = 0; /* ticks in a row with no Store running wasm */
    pthread_mutex_lock(&tick_lock);
    while (!ticker_stopping) {
        bool busy = false;
        for (ext_tick_node *n = tick_head.next; n != &tick_head; n = n->next) {
            if (atomic_load_explicit(&n->so->running_thread, memory_order_relaxed) != 0) {
                wasmtime_engine_increment_epoch(n->engine);
                busy = true;
            }
        }
        idle = busy ? 0 : idle + 1;
        if (idle * EXT_TICK_MS >= EXT_TICKER_LINGER_MS) {
            atomic_store(&ticker_running, false);
            if (!any_store_running()) {
                break; /* a call from now on starts a new ticker */
            }
            atomic_store(&ticker_running, true); /* a call started meanwhile */
            idle = 0;
        }
        pthread_mutex_unlock(&tick_lock);
        nanosleep(&period, NULL);
        pthread_mutex_lock(&tick_lock);
    }
    ticker_exited = true;
    pthread_cond_broadcast(&tick_done);
    pthread_mutex_unlock(&tick_lock);
}

static void
ticker_at_exit(void)
{
    pthread_mutex_lock(&tick_lock);
    ticker_stopping = true;
    bool wait = atomic_load(&ticker_running);
    atomic_store(&ticker_running, false);
    while (wait && !ticker_exited) {
        pthread_cond_wait(&tick_done, &tick_lock);
    }
    pthread_mutex_unlock(&tick_lock);
}

static void
atfork_prepare(void)
{
    pthread_mutex_lock(&tick_lock);
}

static void
atfork_parent(void)
{
    pthread_mutex_unlock(&tick_lock);
}

static void
atfork_child(void)
{
    /* The ticker thread does not exist in the child: the next call on an
     * interruptible Store starts a new one. */
    pthread_mutex_init(&tick_lock, NULL);
    pthread_cond_init(&tick_done, NULL);
    atomic_store(&ticker_running, false);
}

/* Start the ticker if it is not running; tick_lock held. */
static void
ticker_start_locked(void)
{
    if (atomic_load(&ticker_running) || ticker_stopping) {
        return;
    }
    if (!hooks_installed) {
        hooks_installed = true;
        pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
        Py_AtExit(ticker_at_exit);
    }
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old); /* inherited by the new thread */
    ticker_exited = false;
    if (PyThread_start_new_thread(ticker_main, NULL) != PYTHREAD_INVALID_THREAD_ID) {
        atomic_store(&ticker_running, true);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

void
ext_ticker_ensure(void)
{
    /* Ordered after the caller's claim of running_thread (see the top of
     * this file). */
    atomic_thread_fence(memory_order_seq_cst);
    if (!atomic_load(&ticker_running)) {
        pthread_mutex_lock(&tick_lock);
        ticker_start_locked();
        pthread_mutex_unlock(&tick_lock);
    }
}

void
ext_interrupt_init(void)
{
    main_ident = PyThread_get_thread_ident();
    PyObject *threading = PyImport_ImportModule("threading");
    PyObject *main = threading ? PyObject_CallMethod(threading, "main_thread", NULL) : NULL;
    PyObject *ident = main ? PyObject_GetAttrString(main, "ident") : NULL;
    if (ident != NULL && PyLong_Check(ident)) {
        main_ident = PyLong_AsUnsignedLong(ident);
    }
    if (PyErr_Occurred()) {
        PyErr_Clear();
    }
    Py_XDECREF(ident);
    Py_XDECREF(main);
    Py_XDECREF(threading);
}

/* ---- the deadline callback ------------------------------------------------ */

/* Run Python's pending signal handlers (GIL held, main thread): an exception
 * they raise becomes the call's host exception, and the call stops. */
static wasmtime_error_t *
check_signals(StoreObject *so)
{
    if (PyErr_CheckSignals() < 0) {
        /* The call raises this exception (ext_call_finish). */
        Py_XSETREF(so->pending_exc, ext_exc_take());
        static const char msg[] = "python exception";
        return wasmtime_error_new(msg);
    }
    return NULL;
}

static wasmtime_error_t *
deadline_reached(const wasmtime_context_t *Py_UNUSED(ctx), void *data, uint64_t *delta,
                 wasmtime_update_deadline_kind_t *kind)
{
    StoreObject *so = data;
    *delta = 1;
    *kind = so->async_call ? WASMTIME_UPDATE_DEADLINE_YIELD : WASMTIME_UPDATE_DEADLINE_CONTINUE;
    uint64_t now = ext_monotonic_ns();
    if (so->deadline_ns != 0 && now >= so->deadline_ns) {
        so->timed_out = true;
        static const char msg[] = "wasm call timed out";
        return wasmtime_error_new(msg);
    }
    bool on_main = PyThread_get_thread_ident() == main_ident;
    unsigned host_calls = so->host_calls, calls = so->calls;
    so->host_calls = 0;
    so->calls = 0;
    /* Long pure wasm calls (no host call, at least EXT_TICK_MS / 100 each
     * on average) run in parallel with other threads: later calls of this
     * Store release the GIL when another thread exists.  Host calls switch
     * back to keeping it, so they do not take it back one by one. */
    /* The counts cover one tick only when the last callback was one tick
     * ago (an idle Store's first callback covers its idle time). */
    bool fresh = now - so->last_tick_ns <= 2 * (uint64_t)EXT_TICK_MS * 1000000u;
    so->last_tick_ns = now;
    bool long_pure = fresh && host_calls == 0 && calls <= 100;
    if (!so->keeps_gil) {
        /* The call released the GIL (a Store with WASI, or long pure calls). */
        if (host_calls > 0 || (fresh && calls > 100)) {
            so->release_calls = false;
        }
        if (!on_main) {
            return NULL;
        }
        PyGILState_STATE g = PyGILState_Ensure();
        wasmtime_error_t *err = check_signals(so);
        PyGILState_Release(g);
        return err;
    }
    if (so->gil_parked != NULL) {
        if (host_calls == 0 && !on_main) {
            return NULL; /* still pure wasm: stay parked */
        }
        PyEval_RestoreThread(so->gil_parked);
        so->gil_parked = NULL;
    }
    /* The GIL is held from here on. */
    wasmtime_error_t *err = on_main ? check_signals(so) : NULL;
    if (err == NULL && ext_other_threads()) {
        if (long_pure) {
            so->release_calls = true;
            so->gil_parked = PyEval_SaveThread(); /* run in parallel */
        }
        else {
            so->release_calls = false;
            /* Let a thread waiting for the GIL take it (CPython makes the
             * releasing thread wait until a thread that asked for a switch
             * got it), then carry on. */
            PyThreadState *ts = PyEval_SaveThread();
            PyEval_RestoreThread(ts);
        }
    }
    return err;
}

int
ext_interrupt_install(StoreObject *so)
{
    EngineObject *eng = (EngineObject *)so->engine;
    ext_tick_node *n = PyMem_RawMalloc(sizeof(ext_tick_node));
    if (n == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    n->engine = wasmtime_engine_clone(eng->engine);
    n->so = so;
    wasmtime_store_epoch_deadline_callback(so->store, deadline_reached, so, NULL);
    so->interruptible = true;
    so->tick = n;
    /* The ticker starts with the Store's first call (ext_call_enter_slow). */
    pthread_mutex_lock(&tick_lock);
    n->prev = tick_head.prev;
    n->next = &tick_head;
    tick_head.prev->next = n;
    tick_head.prev = n;
    pthread_mutex_unlock(&tick_lock);
    return 0;
}

void
ext_interrupt_remove(StoreObject *so)
{
    ext_tick_node *n = so->tick;
    if (n == NULL) {
        return;
    }
    so->tick = NULL;
    pthread_mutex_lock(&tick_lock);
    n->prev->next = n->next;
    n->next->prev = n->prev;
    pthread_mutex_unlock(&tick_lock);
    wasm_engine_delete(n->engine);
    PyMem_RawFree(n);
}
