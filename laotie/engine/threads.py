"""The engine's second thread: the storefront's exposures built beside the other channels',
the activity's passes shared, a day's records written while the next begins.

The channels read the day's state without changing it and draw from their own streams, the
activity's halves write disjoint entries, the records read only their day's arrays, and the
compiled kernels release the GIL: the results are the same with one thread or two.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["THREAD_THRESHOLD", "SideThread", "default_threads"]

THREAD_THRESHOLD = 500_000
"""Stacked residents from which an engine uses a second thread (:mod:`laotie.engine.threads`;
a thread costs more than it saves on small cities; docs/performance.md)."""

T = TypeVar("T")
U = TypeVar("U")


def default_threads(stacked_residents: int) -> int:
    """2 from :data:`THREAD_THRESHOLD` stacked residents, else 1."""
    return 2 if stacked_residents >= THREAD_THRESHOLD else 1


class SideThread:
    """One helper thread, started on first use and stopped by :meth:`close`."""

    def both(self, here: Callable[[], T], there: Callable[[], U]) -> tuple[T, U]:
        """``here()`` in the calling thread while ``there()`` runs in the helper thread (after
        the work queued before it); both results."""
        future = self.submit(there)
        try:
            first = here()
        finally:
            second = future.result()
        return first, second

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, work: Callable[[], T]) -> Future[T]:
        """Start ``work`` in the helper thread; its result comes through the future."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="laotie")
        return self._executor.submit(work)

    def close(self, wait: bool = True) -> None:
        """Stop the thread (it starts again on the next :meth:`submit`)."""
        if self._executor is not None:
            self._executor.shutdown(wait=wait)
            self._executor = None

    def __getstate__(self) -> dict[str, None]:
        return {"_executor": None}  # a thread does not pickle; a copy starts its own
