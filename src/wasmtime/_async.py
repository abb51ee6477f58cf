"""The coroutine behind call_async and instantiate_async.

The C extension converts the arguments and starts Wasmtime's call future;
this coroutine only polls it.  Each poll runs wasm until it ends or
suspends: an async host function's coroutine awaited something (its
``yielded`` object, an asyncio future, goes to the task as if that coroutine
had yielded it), or wasm itself yielded on an epoch or fuel deadline (None:
the task gives the event loop a turn).  What the task sends or throws back
goes into the host coroutine through the next poll, so ``task.cancel()``
raises CancelledError at its ``await``.  Cancelled while wasm itself is
suspended, the call is closed (the wasm unwinds) and the error propagates.
"""

import types


@types.coroutine
def _suspend(obj):
    return (yield obj)


async def _drive(fut):
    send = None
    throw = None
    try:
        while True:
            res = fut.poll(send, throw)
            if res is not fut:
                return res
            send = throw = None
            obj = fut.yielded
            try:
                send = await _suspend(obj)
            except GeneratorExit:
                raise
            except BaseException as exc:
                if not fut.awaiting_host:
                    raise
                throw = exc
    finally:
        fut.close()
