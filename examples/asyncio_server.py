"""An asyncio web server that runs wasm per request without blocking the others.

Standard library only: asyncio.start_server speaks just enough HTTP/1.0.
Every request gets a fresh Store, instantiated from one InstancePre
(`await instance_pre.instantiate_async(store)`), and its wasm handler runs
with `await handle.call_async(store, ...)`:

    GET /sleep/N   the wasm calls the async host function `host.sleep_ms`,
                   which awaits asyncio.sleep(N ms): wasm is suspended, the
                   event loop serves other requests meanwhile
    GET /fib/N     the wasm computes fib(N) mod 2**32 by itself; with epoch
                   yields configured, a long computation gives the event loop
                   a turn every millisecond of wasm time

    python examples/asyncio_server.py [--port 8080]   serve until Ctrl-C
    python examples/asyncio_server.py --self-test     serve on a free port, send
                                                      a slow and a fast request
                                                      at once, print, exit
"""

import argparse
import asyncio
import sys
import threading

import wasmtime

HANDLER_WAT = """
(module
  (import "host" "sleep_ms" (func $sleep_ms (param i32)))
  ;; handle(kind, n): kind 1 sleeps n ms in the host and returns n;
  ;; kind 2 returns fib(n) mod 2**32.
  (func (export "handle") (param $kind i32) (param $n i32) (result i32)
    (local $a i32) (local $b i32) (local $t i32)
    (if (i32.eq (local.get $kind) (i32.const 1))
      (then (call $sleep_ms (local.get $n)) (return (local.get $n))))
    (local.set $b (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $t (i32.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $a))
)
"""

KINDS = {"sleep": 1, "fib": 2}


async def sleep_ms(ms):
    """The async host function: wasm is suspended while it awaits."""
    await asyncio.sleep(ms / 1000)


class App:
    def __init__(self):
        config = wasmtime.Config()
        config.epoch_interruption = True
        self.engine = wasmtime.Engine(config)
        linker = wasmtime.Linker(self.engine)
        linker.define_func(
            "host", "sleep_ms", wasmtime.FuncType([wasmtime.ValType.i32()], []), sleep_ms
        )
        self.pre = linker.instantiate_pre(wasmtime.Module(self.engine, HANDLER_WAT))
        # Epoch ticks for the yields (an engine made with Config.interruptible
        # has its own ticker).
        self.ticking = threading.Event()
        self.ticker = threading.Thread(target=self.tick, daemon=True)

    def tick(self):
        while not self.ticking.wait(0.001):
            self.engine.increment_epoch()

    async def run_wasm(self, kind, n):
        store = wasmtime.Store(self.engine)
        store.set_epoch_deadline(1)
        store.epoch_deadline_async_yield_and_update(1)
        instance = await self.pre.instantiate_async(store)
        handle = instance.exports(store)["handle"]
        return await handle.call_async(store, kind, n)

    async def serve_client(self, reader, writer):
        try:
            request = await reader.readline()
            while (await reader.readline()).strip():
                pass  # headers: not needed
            parts = request.decode("latin-1").split()
            path = parts[1].strip("/").split("/") if len(parts) >= 2 else []
            if len(path) == 2 and path[0] in KINDS and path[1].isdigit():
                result = await self.run_wasm(KINDS[path[0]], min(int(path[1]), 10**9))
                status, body = "200 OK", "%s(%s) = %d\n" % (path[0], path[1], result)
            else:
                status, body = "404 Not Found", "try /sleep/N or /fib/N\n"
            writer.write(
                (
                    "HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                    % (status, len(body), body)
                ).encode()
            )
            await writer.drain()
        finally:
            writer.close()

    async def start(self, port):
        self.ticker.start()
        return await asyncio.start_server(self.serve_client, "127.0.0.1", port)


async def get(port, path):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(("GET %s HTTP/1.0\r\n\r\n" % path).encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    return response.decode().split("\r\n\r\n", 1)[1].strip()


async def self_test():
    app = App()
    server = await app.start(0)
    port = server.sockets[0].getsockname()[1]
    finished = []

    async def fetch(path):
        body = await get(port, path)
        finished.append(path)
        return body

    # The slow request is sent first; the fast ones finish while its wasm
    # is suspended in sleep_ms.
    results = await asyncio.gather(
        fetch("/sleep/300"), fetch("/fib/30"), fetch("/fib/1000000"), fetch("/nope")
    )
    for body in results:
        print(body)
    print("finished in order:", " ".join(finished))
    server.close()
    await server.wait_closed()
    app.ticking.set()
    return finished[-1] == "/sleep/300"


async def serve_forever(port):
    app = App()
    server = await app.start(port)
    print("serving on http://127.0.0.1:%d (try /sleep/500 and /fib/40)" % port)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        sys.exit(0 if asyncio.run(self_test()) else 1)
    try:
        asyncio.run(serve_forever(args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
