"""Where many runs execute: in this process, in a local process pool, or on a Dask cluster.

The three executors have one interface, :meth:`Executor.map`: give it a function and a list of
tasks, and it yields ``(task, result)`` pairs as the tasks finish, in whatever order they
finish. The function must not raise (the runs of :mod:`laotie.sweep` record their own errors);
when a task is lost because the process running it died, the executor retries it, and after
``retries`` further losses yields a :class:`Lost` in place of its result, so that one bad task
never stops the others.

Results never depend on the executor: every run derives its random numbers from its own key
(see :mod:`laotie.sweep`), not from where or when it runs.

Examples
--------
>>> [result for _, result in Serial().map(abs, [-2, 3])]
[2, 3]
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from ._memory import ENVIRONMENT, available_bytes
from .errors import LaotieError

__all__ = [
    "Dask",
    "Executor",
    "Lost",
    "Processes",
    "Serial",
    "add_executor_arguments",
    "executor_for",
    "usable_cores",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Lost:
    """In place of a result: the task's process died ``attempts`` times.

    Attributes
    ----------
    reason : str
        How the process died, or what Dask reported.
    attempts : int
        Times the task was tried.
    """

    reason: str
    attempts: int


class Executor(ABC):
    """Runs tasks and yields ``(task, result)`` as each finishes."""

    @abstractmethod
    def map(self, fn: Callable[[T], Any], tasks: Sequence[T]) -> Iterator[tuple[T, Any]]:
        """Run ``fn`` on every task; yield each task with its result as it finishes.

        Parameters
        ----------
        fn : callable
            Takes one task; must not raise (record errors in the result instead). For the
            process and Dask executors it must be picklable (a module-level function).
        tasks : sequence
            The tasks.

        Yields
        ------
        (task, result)
            ``result`` is ``fn(task)``, or a :class:`Lost` when the task's process died
            once too often.
        """

    @property
    def slots(self) -> int | None:
        """How many tasks run at once (None when the executor does not know: a cluster's
        workers come and go). A caller may shape its tasks by it; results never depend on it.
        """
        return 1

    def describe(self) -> str:
        """Where the tasks run, in a few words for progress messages.

        Returns
        -------
        str
        """
        return type(self).__name__.lower()

    def __enter__(self) -> Self:
        """Keep what the executor starts (a pool's processes) across :meth:`map` calls until
        the ``with`` block ends: a search that maps batch after batch starts its workers once.
        """
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop what the executor keeps (nothing, unless it says otherwise)."""
        return None


class Serial(Executor):
    """Every task in this process, one after the other (the reference; easiest to debug).

    Parameters
    ----------
    why : str, default ""
        Why in this process although more workers were asked (:func:`executor_for`), for
        :meth:`describe`.
    """

    def __init__(self, why: str = "") -> None:
        self.why = why

    def map(self, fn: Callable[[T], Any], tasks: Sequence[T]) -> Iterator[tuple[T, Any]]:
        for task in tasks:
            yield task, fn(task)

    def describe(self) -> str:
        return f"in this process ({self.why})" if self.why else "in this process"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS and Windows
        return max(1, os.cpu_count() or 1)


_STOP: Any = None
"""In a worker: the pool's stop event (:func:`_start_worker`), set when its parent stops early."""

_SPOOL: str | None = None
"""In a worker: the folder its large results are written to (:class:`_Spooled`)."""

_SPOOLED_ABOVE = 2048
"""Results whose pickle is larger (in bytes) go through a file, not the pool's pipe."""


@dataclass(frozen=True)
class _Spooled:
    """A task's result written to a file by the worker, in place of the result itself.

    A worker killed (the out-of-memory killer, ``kill -9``) while it wrote a large result into
    the pool's pipe left half a message there, and the pool's manager thread then waited for
    the rest for ever: the map hung instead of replacing the worker. A message of a few
    hundred bytes is written into a pipe whole or not at all (``PIPE_BUF``), so a large
    result is written to a file in the pool's own temporary folder, which the parent reads
    and deletes; a file a killed worker left half written is never read (its name is sent
    only once it is whole) and goes with the folder.
    """

    path: str

    @staticmethod
    def wrap(result: Any) -> Any:
        if _SPOOL is None:
            return result
        data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) <= _SPOOLED_ABOVE:
            return result
        descriptor, path = tempfile.mkstemp(dir=_SPOOL, suffix=".pickle")
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        return _Spooled(path)

    def unwrap(self) -> Any:
        try:
            with open(self.path, "rb") as file:
                return pickle.load(file)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(self.path)


def _start_worker(parent: int, stop: Any = None, spool: str | None = None) -> None:
    """A worker's initializer.

    A daemon thread ends the worker within half a second of its parent's death (SIGKILL, a
    crash), which no ``finally`` of the parent can do; the worker's parent process id then
    changes (to init or a subreaper). And the worker ignores Ctrl-C (SIGINT) except while it
    runs a task (:func:`_interruptible`): a Ctrl-C that reached a worker while it sent a
    result back, or waited for a task, broke the pool's protocol half-way (a result half
    written into the pipe) and could hang the parent's exit for ever. ``stop`` (an event the
    parent sets when it stops early, :func:`_interrupt`) keeps a task handed to the pool but
    not yet started from starting. ``spool`` is the folder for large results
    (:class:`_Spooled`).
    """
    global _STOP, _SPOOL
    _STOP = stop
    _SPOOL = spool
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="laotie-orphan-guard", daemon=True).start()


def _interruptible(fn: Callable[[T], Any], task: T) -> Any:
    """Run ``fn(task)`` in a worker with Ctrl-C turned on: an interrupt stops the task (its
    KeyboardInterrupt becomes the task's result), never the worker's exchange with the pool.

    A task taken after the parent stopped (:func:`_interrupt`) does not start. The order
    matters: Ctrl-C is turned on before the stop event is read, and the parent sets the event
    before it sends Ctrl-C, so a task either sees the event or receives the Ctrl-C.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if _STOP is not None and _STOP.is_set():
            raise KeyboardInterrupt
        result = fn(task)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return _Spooled.wrap(result)


def _interrupt(pool: ProcessPoolExecutor, stop: Any) -> None:
    """Stop the pool's tasks now: set ``stop`` (tasks handed to the pool but not started do
    not start), then send Ctrl-C to its workers (the tasks they run stop).

    A Ctrl-C at a terminal reaches the workers already (the whole process group); an
    interrupt sent to this process alone (``kill -INT``, a notebook's interrupt button,
    SIGTERM through :func:`laotie.cli.main`) does not. The pool keeps its processes in a
    private attribute (public only from Python 3.14, as ``terminate_workers``); without it,
    the tasks run on to their end before the pool shuts down.
    """
    stop.set()
    if not hasattr(signal, "SIGINT") or os.name != "posix":  # pragma: no cover - Windows
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            if process.is_alive():
                os.kill(process.pid, signal.SIGINT)
        except (OSError, ValueError, AssertionError):  # already gone or reaped
            pass


def _tasks_that_fit(memory_per_task: int | None) -> int | None:
    """How many tasks of ``memory_per_task`` bytes the memory available now holds (at least
    1), or None when unknown, not asked or turned off (``LAOTIE_MEMORY_CHECK=0``)."""
    if not memory_per_task or os.environ.get(ENVIRONMENT, "1").strip() == "0":
        return None
    available = available_bytes()
    return None if available is None else max(1, available // memory_per_task)


def _gb(size: int | None) -> str:
    return f"{(size or 0) / 1e9:.1f} GB"


class Processes(Executor):
    """A pool of ``workers`` local processes (started with ``spawn``, the portable way).

    At most ``workers`` tasks are in flight, so when a worker dies (killed, out of memory) the
    suspects are only the tasks then running: the pool is restarted and each suspect runs
    again, alone, so that an innocent task is never blamed. A task whose process dies
    ``retries + 1`` times while running alone is given up as :class:`Lost`. Workers end
    themselves when this process dies, however it dies: none is left running.

    Parameters
    ----------
    workers : int
        Processes in the pool, at least 1; no more than the cores this process may use
        (:func:`usable_cores`), nor than fit in the memory available when
        ``memory_per_task`` is given (:meth:`describe` says when fewer than asked).
    retries : int, default 2
        Times a task whose process died while it ran alone is run again.
    memory_per_task : int, optional
        Bytes one task needs (e.g. a city's :meth:`~laotie.graph.CitySpec.memory_estimate`):
        no more processes than the memory available now holds, as ``laotie run --workers``
        (the environment variable ``LAOTIE_MEMORY_CHECK=0`` turns this off).

    Raises
    ------
    LaotieError
        For ``workers`` below 1; from :meth:`map`, for a task that cannot run in a worker
        (it cannot be pickled, say).
    """

    def __init__(self, workers: int, retries: int = 2, memory_per_task: int | None = None) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise LaotieError(f"workers = {workers!r}; expected an integer ≥ 1")
        self.requested = workers
        # More processes than cores only share them, each with its own memory.
        self.cores = usable_cores()
        self.fit = _tasks_that_fit(memory_per_task)
        self.memory_per_task = memory_per_task
        self.workers = min(workers, self.cores, self.fit or workers)
        self.retries = retries
        self._keep = 0  # depth of the with blocks that keep the pool between maps
        self._pool: tuple[ProcessPoolExecutor, Any, str] | None = None

    @property
    def slots(self) -> int | None:
        return self.workers

    def describe(self) -> str:
        text = f"{self.workers} local worker process{'es' if self.workers > 1 else ''}"
        return f"{text} ({self.why_fewer()})" if self.why_fewer() else text

    def why_fewer(self) -> str:
        """Why fewer processes than asked (``"8 asked; 2 usable cores"``), or ``""``."""
        if self.workers == self.requested:
            return ""
        if self.fit is not None and self.fit < self.cores:
            return (
                f"{self.requested} asked; memory for {self.fit}, {_gb(self.memory_per_task)} each"
            )
        return (
            f"{self.requested} asked; {self.workers} usable core{'s' if self.workers > 1 else ''}"
        )

    def __enter__(self) -> Self:
        """Keep the pool's processes across :meth:`map` calls until the ``with`` block ends
        (each map starts its own pool otherwise; starting a worker imports laotie anew, about
        a second or two). A pool broken by a lost worker, or left by an interrupt, is replaced
        by the next map."""
        self._keep += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._keep -= 1
        if not self._keep:
            self.close()

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (inside a task, say), a Processes is its settings: its pool stays here.
        return self.__dict__ | {"_keep": 0, "_pool": None}

    def close(self) -> None:
        """Shut the kept pool down (its workers finish what they run, then exit)."""
        self._discard(wait=True)

    def _open(self) -> tuple[ProcessPoolExecutor, Any, str]:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            stop = context.Event()
            spool = tempfile.mkdtemp(prefix="laotie-pool-")
            pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_start_worker,
                initargs=(os.getpid(), stop, spool),
            )
            self._pool = pool, stop, spool
        return self._pool

    def _discard(self, wait: bool) -> None:
        if self._pool is not None:
            pool, _, spool = self._pool
            self._pool = None
            pool.shutdown(wait=wait, cancel_futures=True)
            shutil.rmtree(spool, ignore_errors=True)

    def map(self, fn: Callable[[T], Any], tasks: Sequence[T]) -> Iterator[tuple[T, Any]]:
        queue = list(range(len(tasks)))[::-1]  # positions, popped from the end: first first
        suspects: list[int] = []  # in flight when a worker died: each now runs alone
        deaths = [0] * len(tasks)  # times a task's process died while it ran alone
        while queue or suspects:
            pool, stop, _ = self._open()
            running: dict[Future[Any], int] = {}
            broken = False
            try:
                while queue or suspects or running:
                    # A worker that died since the last wait breaks the pool before its
                    # futures say so: submit then refuses, and the task waits its turn.
                    if suspects:
                        if not running:
                            i = suspects.pop()
                            future = _submit(pool, fn, tasks[i])
                            if future is None:
                                suspects.append(i)
                                broken = True
                                break
                            running[future] = i
                    else:
                        while queue and len(running) < self.workers:
                            i = queue.pop()
                            future = _submit(pool, fn, tasks[i])
                            if future is None:
                                queue.append(i)
                                break
                            running[future] = i
                        if not running:
                            broken = True
                            break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    lost = []
                    for future in finished:
                        i = running.pop(future)
                        try:
                            result = future.result()
                            if isinstance(result, _Spooled):
                                result = result.unwrap()
                        except BrokenProcessPool:
                            lost.append(i)
                            continue
                        except LaotieError:
                            raise  # the task's own error, of its own type, as in this process
                        except Exception as err:  # e.g. the task could not be pickled
                            raise LaotieError(
                                f"a task could not run in a worker process: "
                                f"{type(err).__name__}: {err}"
                            ) from err
                        yield tasks[i], result
                    if not lost:
                        continue
                    # Every task still in flight went down with the pool.
                    lost += running.values()
                    running.clear()
                    if len(lost) == 1:  # it ran alone: its own process died
                        i = lost[0]
                        deaths[i] += 1
                        if deaths[i] > self.retries:
                            yield tasks[i], Lost("its worker process died", deaths[i])
                        else:
                            suspects.append(i)
                    else:  # which one killed it is unknown: run each alone to find out
                        suspects.extend(sorted(lost, reverse=True))
                    broken = True
                    break
            finally:
                # On Ctrl-C, an error or a closed generator, stop the runs in flight (their
                # workers then take the pool's sentinel and exit) and do not wait for them.
                if running:
                    _interrupt(pool, stop)
                if running or broken or not self._keep:
                    self._discard(wait=not running and not queue)


def _submit(pool: ProcessPoolExecutor, fn: Callable[[T], Any], task: T) -> Future[Any] | None:
    """``fn(task)`` submitted to ``pool`` (with Ctrl-C on inside it), or None when the pool
    is broken (a worker process died): the tasks in flight then end with BrokenProcessPool."""
    try:
        return pool.submit(_interruptible, fn, task)
    except BrokenProcessPool:
        return None


class Dask(Executor):
    """Tasks on a Dask cluster: a ``dask.distributed.Client``, or a scheduler's address.

    Dask retries a task whose worker dies (its ``allowed-failures`` setting); when it gives up
    the task is yielded as :class:`Lost`. Needs the ``distributed`` extra:
    ``pip install 'laotie[distributed]'``.

    Parameters
    ----------
    client : dask.distributed.Client, optional
        A client to run on (left open after :meth:`map`).
    address : str, optional
        A scheduler's address (``tcp://host:port``); a client is opened for each
        :meth:`map` and closed after it. Give ``client`` or ``address``, not both.
    timeout : str, default "20s"
        How long to wait for the scheduler.

    Raises
    ------
    LaotieError
        For neither or both of ``client`` and ``address``, a missing dask.distributed, or
        (from :meth:`map`) a scheduler that cannot be reached.
    """

    def __init__(
        self, client: Any = None, address: str | None = None, timeout: str = "20s"
    ) -> None:
        if (client is None) == (address is None):
            raise LaotieError("Dask executor: give either a client or a scheduler address")
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise LaotieError(
                "the Dask executor needs dask.distributed: pip install 'laotie[distributed]'"
            ) from None
        self.client = client
        self.address = address
        self.timeout = timeout

    @property
    def slots(self) -> int | None:
        return None

    def describe(self) -> str:
        return f"Dask scheduler {self.address or self.client.scheduler.address}"

    def map(self, fn: Callable[[T], Any], tasks: Sequence[T]) -> Iterator[tuple[T, Any]]:
        from distributed import Client, as_completed

        client = self.client
        own = client is None
        if own:
            try:
                client = Client(self.address, timeout=self.timeout)
            except (OSError, TimeoutError) as err:
                raise LaotieError(
                    f"cannot reach the Dask scheduler at {self.address}: {err}"
                ) from None
        try:
            futures = client.map(fn, list(tasks), pure=False)
            owner = {future.key: task for future, task in zip(futures, tasks, strict=True)}
            for future in as_completed(futures):
                task = owner[future.key]
                try:
                    result = future.result()
                except Exception as err:  # KilledWorker and the like: the task is lost
                    result = Lost(f"{type(err).__name__}: {err}", 1)
                yield task, result
                future.release()
        finally:
            if own:
                client.close()


def executor_for(
    workers: int = 1,
    scheduler: str | None = None,
    client: Any = None,
    memory_per_task: int | None = None,
) -> Executor:
    """The executor for the command line's ``--workers`` and ``--scheduler`` (or a client).

    Parameters
    ----------
    workers : int, default 1
        Local processes: 1 gives :class:`Serial`, more :class:`Processes`.
    scheduler : str, optional
        A Dask scheduler's address: gives :class:`Dask` (``workers`` is then ignored).
    client : dask.distributed.Client, optional
        A Dask client: gives :class:`Dask`.
    memory_per_task : int, optional
        Bytes one task needs: local processes are capped by the memory available too
        (:class:`Processes`); a Dask cluster manages its own workers' memory.

    Returns
    -------
    Executor

    Raises
    ------
    LaotieError
        For ``workers`` that is not an integer ≥ 1.

    Examples
    --------
    >>> executor_for(1).describe()
    'in this process'
    """
    if client is not None or scheduler is not None:
        return Dask(client=client, address=scheduler)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise LaotieError(f"workers = {workers!r}; expected an integer ≥ 1")
    if workers == 1:
        return Serial()
    # More processes than usable cores only share them; more than fit in memory swap.
    pool = Processes(workers, memory_per_task=memory_per_task)
    if pool.workers > 1:
        return pool
    return Serial(pool.why_fewer())


def add_executor_arguments(parser: Any) -> None:
    """Add ``--workers N`` and ``--scheduler ADDRESS`` to an argparse parser: the options that
    :func:`executor_for` turns into an executor (``laotie sweep``, ``sensitivity``,
    ``experiment``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.
    """
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (pip install 'laotie[distributed]')",
    )
