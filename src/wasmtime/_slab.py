"""A thread-safe slab of Python objects addressed by small integer handles.

wasmtime-py keeps host objects in such a slab; this package keeps them in
per-Store containers in C instead, but offers the same small utility (its
upstream test suite exercises it) with a lock so that handles stay unique
when objects are freed from a garbage-collecting thread.
"""

import threading
from typing import Generic, List, TypeVar, Union, cast

T = TypeVar("T")


class Slab(Generic[T]):
    """Stores values and hands out integer handles; freed handles are reused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: List[Union[T, int]] = []
        self._free_head = -1
        self._live: List[bool] = []

    def allocate(self, value: T) -> int:
        with self._lock:
            idx = self._free_head
            if idx < 0:
                self._values.append(value)
                self._live.append(True)
                return len(self._values) - 1
            nxt = self._values[idx]
            assert isinstance(nxt, int)
            self._free_head = nxt
            self._values[idx] = value
            self._live[idx] = True
            return idx

    def get(self, idx: int) -> T:
        with self._lock:
            if not (0 <= idx < len(self._live)) or not self._live[idx]:
                raise KeyError(idx)
            value = self._values[idx]
        return cast(T, value)

    def deallocate(self, idx: int) -> None:
        with self._lock:
            if not (0 <= idx < len(self._live)) or not self._live[idx]:
                raise KeyError(idx)
            self._live[idx] = False
            self._values[idx] = self._free_head
            self._free_head = idx
