"""Independent reads issued together: checking a compliant resource costs one round trip, not one per read."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

K = TypeVar("K")
T = TypeVar("T")


@contextlib.contextmanager
def prefetched(reads: Mapping[K, Callable[[], T]]) -> Iterator[dict[K, Callable[[], T]]]:
    """Start every read now, each on its own thread; yield a callable per key in its place.

    A callable gives its read's first answer (or raises its error, where the caller translates
    it), then reads afresh, so a retry re-issues the request exactly as before. The threads are
    joined when the block ends.
    """
    with ThreadPoolExecutor(max_workers=max(1, len(reads)), thread_name_prefix="prefetch") as pool:
        futures = {key: pool.submit(read) for key, read in reads.items()}
        yield {key: _first_then(futures[key], read) for key, read in reads.items()}


def _first_then(future: Future[T], read: Callable[[], T]) -> Callable[[], T]:
    used = False

    def answer() -> T:
        nonlocal used
        if used:
            return read()
        used = True
        return future.result()

    return answer
