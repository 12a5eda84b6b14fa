"""A thread-safe cache for cloud clients, keyed by identity, region and endpoint."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class ClientCache:
    """Reuse SDK clients within one run; counts hits and misses for the run's metrics.

    Build keys from non-secret parts only: ``("storage", creds.fingerprint(), region, endpoint)``.
    """

    def __init__(self) -> None:
        self._clients: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, factory: Callable[[], T]) -> T:
        """Return the cached client for ``key``, building it once with ``factory``."""
        with self._lock:
            if key in self._clients:
                self.hits += 1
                return self._clients[key]  # type: ignore[no-any-return]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        # One builder per key, so concurrent jobs do not build the same client twice.
        with key_lock:
            with self._lock:
                if key in self._clients:
                    self.hits += 1
                    return self._clients[key]  # type: ignore[no-any-return]
            client = factory()
            with self._lock:
                self._clients[key] = client
                self.misses += 1
            return client

    def __len__(self) -> int:
        return len(self._clients)

    def __bool__(self) -> bool:
        # An empty cache is still a cache: `clients or ClientCache()` must keep it.
        return True

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def stats(self) -> dict[str, float | int]:
        return {"hits": self.hits, "misses": self.misses, "hit_rate": round(self.hit_rate, 4)}
