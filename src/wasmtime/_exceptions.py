"""wasmtime.WasmException: a WebAssembly exception seen from Python.

Raised by a call into wasm when wasm throws an exception that nothing
catches; raise one from a host function to throw it into wasm (exn.c).
"""

from ._ext import Trap  # type: ignore[import-not-found]


class WasmException(Trap):
    """A wasm exception: ``.tag`` (a Tag of the Store it was thrown in) and
    ``.fields`` (the values it carries, a list, in the tag's parameter order).

    ``WasmException(tag, fields)`` makes one to raise from a host function;
    wasm code calling that function can catch it with ``try_table``."""

    def __init__(self, tag, fields=(), message=None):
        super().__init__(message if message is not None else "wasm exception")
        self.tag = tag
        self.fields = list(fields)

    def __reduce__(self):
        raise TypeError("a WasmException holds store-bound values and cannot be pickled")


class Timeout(Trap, TimeoutError):
    """A call into wasm ran longer than its Store's ``set_timeout``: both a
    ``Trap`` (with ``.frames``, the wasm frames it stopped in) and a builtin
    ``TimeoutError``.  The Store stays usable."""
