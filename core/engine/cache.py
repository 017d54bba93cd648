"""One least-recently-used cache bounded by bytes and item count, for every cache in ConvLens.

Compiled cut models, activations, network inputs, decoded training images and base
features all use it: early conv layers are megabytes per image, so a bound by count alone
would not keep memory in check. Light module.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


def nbytes_of(value: Any) -> int:
    """The bytes a cached value holds: its ``nbytes`` if it has one, else a nominal 1."""
    return int(getattr(value, "nbytes", 1))


class BoundedCache:
    """A least-recently-used mapping bounded by total bytes and item count; thread-safe."""

    def __init__(self, max_bytes: int = 1 << 62, max_items: int = 1 << 62) -> None:
        self.max_bytes, self.max_items = max_bytes, max_items
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            if key not in self._items:
                return default
            self._items.move_to_end(key)
            return self._items[key][0]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key: Hashable, value: Any, nbytes: int | None = None) -> None:
        size = nbytes_of(value) if nbytes is None else int(nbytes)
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._items and (
                self._bytes > self.max_bytes or len(self._items) > self.max_items
            ):
                self._bytes -= self._items.popitem(last=False)[1][1]

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The cached value, or make() stored under key (made outside the lock)."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = make()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)


_MISSING = object()
