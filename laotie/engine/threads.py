"""The engine's second thread: the storefront's exposures built beside the other channels'
(and their chunks shared once the others are built), the activity's passes shared, a day's
records written while the next begins.

The channels read the day's state without changing it and draw from their own streams, the
activity's halves write disjoint entries, the records read only their day's arrays, and the
compiled kernels release the GIL: the results are the same with one thread or two.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["THREAD_THRESHOLD", "Chunks", "SideThread", "default_threads"]

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


class Chunks:
    """Work cut into chunks that write disjoint entries, done by whichever thread is free: the
    thread that offers them (:meth:`offer`, then :meth:`finish`) takes them from the front,
    and a thread done with its own work (:meth:`help`) from the back. A helper that comes
    before the offer, or after the last chunk is taken, does nothing; so the results do not
    depend on who does what, only the time does."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._do: Callable[[int], object] | None = None
        self._front = self._back = self._running = 0
        self._error: BaseException | None = None

    def offer(self, do: Callable[[int], object], n: int) -> None:
        """Chunks ``do(0) .. do(n - 1)``, free to be taken."""
        with self._lock:
            self._do, self._front, self._back = do, 0, n

    def finish(self) -> None:
        """Do the chunks from the front until none is left, wait for those taken by helpers,
        and raise the first error a chunk raised (in this thread or a helper's)."""
        self._work(front=True)
        with self._lock:
            self._lock.wait_for(lambda: self._running == 0)
            error, self._error, self._do = self._error, None, None
        if error is not None:
            raise error

    def help(self) -> None:
        """Do the chunks left, from the back (an error is raised by :meth:`finish`)."""
        self._work(front=False)

    def _work(self, front: bool) -> None:
        while True:
            with self._lock:
                do = self._do
                if do is None or self._front >= self._back or self._error is not None:
                    return
                if front:
                    chunk, self._front = self._front, self._front + 1
                else:
                    self._back -= 1
                    chunk = self._back
                self._running += 1
            try:
                do(chunk)
            except BaseException as error:  # raised once, by finish
                with self._lock:
                    self._error = self._error or error
            finally:
                with self._lock:
                    self._running -= 1
                    self._lock.notify_all()
