"""Executors: the same results in this process, in a process pool and on a Dask cluster; a
killed worker loses only the runs in flight. A real sweep's parent and workers signalled
(SIGKILL, SIGTERM, SIGINT) are in tests/reliability/test_signals.py."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_sweep import assert_same, sweep

from laotie import LaotieError
from laotie.errors import ScenarioError
from laotie.executors import Dask, Lost, Processes, Serial, executor_for
from laotie.sweep import run_sweep

pytestmark = pytest.mark.integration  # worker processes, Dask clusters and killed workers


def square(x: int) -> int:
    return x * x


def die_once(task: tuple[str, int]) -> int:
    """Kill this worker process the first time a task flagged ``die`` runs."""
    marker, x = task
    if marker and not os.path.exists(marker):
        Path(marker).write_text("died", encoding="utf-8")
        os._exit(9)
    return x * x


def always_die(task: tuple[str, int]) -> int:
    marker, x = task
    if marker:
        time.sleep(0.2)  # let the innocent task start beside it
        os._exit(9)
    time.sleep(1.0)  # still running when the other worker dies
    return x * x


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def big(i: int) -> bytes:
    """A result far larger than a pipe's buffer: it takes many writes to send back."""
    time.sleep(0.01)
    return bytes(4_000_000)


def die_while_sending(task: tuple[int, float]) -> bytes | int:
    """Task 1 kills its own process ``delay`` seconds on: while its 400 MB result is being
    pickled or sent back, or after."""
    i, delay = task
    if i != 1:
        return i
    threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
    return bytes(400_000_000)


def handler_inside(_: int) -> object:
    return signal.getsignal(signal.SIGINT)


def refuse(x: int) -> int:
    raise ScenarioError(f"x = {x} is not allowed")


def test_a_tasks_own_error_keeps_its_type_in_a_worker_process() -> None:
    with pytest.raises(ScenarioError, match="x = 3 is not allowed"):
        list(Processes(2).map(refuse, [3]))
    with pytest.raises(LaotieError, match="could not run in a worker process"):
        list(Processes(2).map(lambda x: x, [1]))  # a lambda cannot be pickled


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_worker_takes_ctrl_c_only_while_it_runs_a_task() -> None:
    """Outside a task (waiting for one, sending a result back) a worker ignores SIGINT: a
    Ctrl-C there broke the pool's exchange half-way and could hang the sweep's exit."""
    from laotie.executors import _interruptible, _start_worker

    before = signal.getsignal(signal.SIGINT)
    try:
        _start_worker(os.getppid())  # (its guard thread watches this process's parent)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert _interruptible(handler_inside, 0) is signal.default_int_handler
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        with pytest.raises(ZeroDivisionError):
            _interruptible(lambda x: 1 / x, 0)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
    # And in a real worker process: a task sees Ctrl-C turned on.
    ((_, inside),) = Processes(2).map(handler_inside, [0])
    assert inside is signal.default_int_handler


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_stopping_early_interrupts_the_tasks_in_flight() -> None:
    """A map closed (Ctrl-C in this process alone, an error, a notebook's interrupt) while
    tasks run stops them now: no worker runs on to the end of an hour-long task."""
    tasks = Processes(2).map(nap, [0.0, 60.0, 60.0])
    assert next(tasks) == (0.0, 0.0)  # and a 60-second task is running, or about to start
    workers = multiprocessing.active_children()
    assert workers
    tasks.close()
    _wait_for(lambda: not any(w.is_alive() for w in workers), seconds=20)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_task_taken_after_the_stop_does_not_start() -> None:
    """A task handed to the pool before it stopped but taken by a worker only after (a busy
    machine, a worker still starting) must not run on for its whole length."""
    import laotie.executors as executors

    stop = multiprocessing.get_context("spawn").Event()
    before = signal.getsignal(signal.SIGINT)
    try:
        executors._start_worker(os.getppid(), stop)
        assert executors._interruptible(nap, 0.0) == 0.0
        stop.set()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            executors._interruptible(nap, 60.0)
        assert time.monotonic() - started < 5
    finally:
        executors._STOP = None
        signal.signal(signal.SIGINT, before)


def test_serial_and_processes_yield_every_task_once() -> None:
    tasks = list(range(7))
    assert sorted(Serial().map(square, tasks)) == [(x, x * x) for x in tasks]
    assert sorted(Processes(2).map(square, tasks)) == [(x, x * x) for x in tasks]


def test_a_killed_worker_is_replaced_and_its_task_runs_again(tmp_path: Path) -> None:
    marker = str(tmp_path / "died")
    tasks = [("", 1), ("", 2), (marker, 3), ("", 4), ("", 5)]
    results = dict(Processes(2).map(die_once, tasks))
    assert Path(marker).exists()  # the worker did die
    assert results == {task: task[1] ** 2 for task in tasks}


def test_a_pool_broken_before_a_task_is_submitted_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker killed between two waits breaks the pool before its futures say so: the next
    submit raised BrokenProcessPool out of map, and laotie sweep died with a traceback
    (tests/reliability/test_signals.py found it, once in a few runs)."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    real = ProcessPoolExecutor.submit
    calls: list[int] = []

    def submit(self: ProcessPoolExecutor, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) in (2, 5):
            raise BrokenProcessPool("A child process terminated abruptly")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ProcessPoolExecutor, "submit", submit)
    assert dict(Processes(2).map(square, [1, 2, 3, 4])) == {1: 1, 2: 4, 3: 9, 4: 16}


def test_a_task_that_always_kills_its_worker_is_given_up(tmp_path: Path) -> None:
    # The innocent tasks are in flight each time the pool breaks, and are not blamed: after a
    # break each suspect runs alone.
    tasks = [("", 1), ("x", 2), ("", 3)]
    results = dict(Processes(2, retries=1).map(always_die, tasks))
    assert results[("", 1)] == 1 and results[("", 3)] == 9
    lost = results[("x", 2)]
    assert isinstance(lost, Lost) and lost.attempts == 2


def test_large_results_come_back_through_files_that_go_with_the_pool() -> None:
    """A result larger than a pipe writes whole in one go goes through a file in the pool's
    own temporary folder (a worker killed while it wrote into the pipe hung the map);
    the folder goes with the pool."""
    import laotie.executors as executors

    with Processes(2) as kept:
        results = dict(kept.map(big, range(3)))
        assert kept._pool is not None
        spool = Path(kept._pool[2])
        assert spool.is_dir() and not list(spool.iterdir())  # each file read, then deleted
        assert dict(kept.map(square, [3])) == {3: 9}  # small results through the pipe
    assert results == {i: bytes(4_000_000) for i in range(3)}
    assert not spool.exists()
    assert executors._Spooled.wrap(bytes(10_000)) == bytes(10_000)  # in this process: as is


def pid(_: object) -> int:
    return os.getpid()


def test_a_pool_kept_by_with_serves_every_map_until_the_block_ends(tmp_path: Path) -> None:
    """A search maps batch after batch: inside ``with`` the workers start once (each map
    started its own pool, a second or two of imports per worker, which made two workers
    slower than one on small batches); a pool broken by a lost worker is replaced; the
    block's end stops the workers."""
    plain = Processes(2)
    first, second = ({p for _, p in plain.map(pid, range(4))} for _ in range(2))
    assert not first & second  # without with: a new pool (new processes) for each map
    with Processes(2) as kept:
        first, second = ({p for _, p in kept.map(pid, range(4))} for _ in range(2))
        assert len(first | second) <= 2  # the same two workers (either may take a map)
        marker = str(tmp_path / "died")
        broken = dict(kept.map(die_once, [("", 1), (marker, 2), ("", 3)]))
        assert broken == {("", 1): 1, (marker, 2): 4, ("", 3): 9}
        after = {p for _, p in kept.map(pid, range(4))}
        assert after and not after & first  # the broken pool was replaced
        # Pickled inside a task (a programme that holds its executor), it is its settings.
        assert pickle.loads(pickle.dumps(kept)).workers == kept.workers
    _wait_for(lambda: not any(_alive(p) for p in after), seconds=20)
    assert dict(kept.map(square, [5])) == {5: 25}  # after the block: a pool per map again


def test_executor_choice_and_bad_values() -> None:
    assert isinstance(executor_for(1), Serial)
    assert isinstance(executor_for(3), Processes)
    with pytest.raises(LaotieError, match="workers = 0; expected an integer ≥ 1"):
        executor_for(0)
    with pytest.raises(LaotieError, match="either a client or a scheduler address"):
        Dask()


def test_dask_local_cluster_gives_the_serial_results(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    serial = run_sweep(sweep(), tmp_path / "serial")
    with (
        distributed.LocalCluster(
            host="127.0.0.1",
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        on_client = run_sweep(sweep(), tmp_path / "client", client=client)
        by_address = run_sweep(sweep(), tmp_path / "address", scheduler=cluster.scheduler_address)
    assert_same(serial, on_client)
    assert_same(serial, by_address)


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    with pytest.raises(LaotieError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_sweep(sweep(), tmp_path, executor=Dask(address="tcp://127.0.0.1:9", timeout="1s"))


# ---- waiting on real processes (a real sweep signalled: tests/reliability/test_signals.py)


def _wait_for(condition, seconds: float = 300.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_no_more_processes_than_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """``laotie sweep --workers 1000`` used to start a process per run; the pool now keeps to
    the cores this process may use, and says so."""
    import laotie.executors as executors

    monkeypatch.setattr(executors, "usable_cores", lambda: 3)
    pool = executors.Processes(1000)
    assert pool.workers == 3
    assert pool.describe() == "3 local worker processes (1000 asked; 3 usable cores)"
    assert executors.Processes(2).describe() == "2 local worker processes"
    assert sorted(pool.map(square, [1, 2, 3, 4])) == [(x, x * x) for x in (1, 2, 3, 4)]
    monkeypatch.setattr(executors, "usable_cores", lambda: 1)
    assert executors.executor_for(8).describe() == "in this process (8 asked; 1 usable core)"
    assert executors.executor_for(1).describe() == "in this process"


def test_no_more_processes_than_fit_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """As ``laotie run --workers``: each process builds its own city, so a sweep asks for no
    more of them than the memory available holds, and says so."""
    import laotie.executors as executors

    monkeypatch.setattr(executors, "usable_cores", lambda: 8)
    monkeypatch.setattr(executors, "available_bytes", lambda: 10 * 10**9)
    pool = executors.Processes(8, memory_per_task=3 * 10**9)
    assert pool.workers == 3
    assert pool.describe() == "3 local worker processes (8 asked; memory for 3, 3.0 GB each)"
    assert executors.Processes(8, memory_per_task=10**9).workers == 8  # cores first
    assert executors.Processes(2, memory_per_task=3 * 10**9).describe() == (
        "2 local worker processes"
    )
    too_big = executors.executor_for(4, memory_per_task=6 * 10**9)
    assert too_big.describe() == "in this process (4 asked; memory for 1, 6.0 GB each)"
    monkeypatch.setenv("LAOTIE_MEMORY_CHECK", "0")  # the documented way to try anyway
    assert executors.Processes(8, memory_per_task=3 * 10**9).workers == 8
    monkeypatch.delenv("LAOTIE_MEMORY_CHECK")
    monkeypatch.setattr(executors, "available_bytes", lambda: None)  # unknown: cores only
    assert executors.Processes(8, memory_per_task=3 * 10**9).workers == 8


BIG = """\
import sys
from laotie.executors import Processes
from test_executors import big

if __name__ == "__main__":
    for n, _ in enumerate(Processes(2).map(big, list(range(100_000)))):
        if n == 2:
            print("results flowing", flush=True)
"""


@pytest.mark.slow
def test_a_worker_killed_while_it_sends_its_result_back_never_hangs(tmp_path: Path) -> None:
    """A worker killed (the out-of-memory killer) while it sent a large result back left half
    a message in the pool's pipe, and the pool's manager waited for the rest for ever: on
    this machine kills 0.9 s and 1.2 s into the task hung every time. Each map here must
    end, with the result whole or the task given up."""
    script = tmp_path / "killed.py"
    script.write_text(KILLED, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    for delay in (0.3, 0.6, 0.9, 1.2, 1.5):
        done = subprocess.run(
            [sys.executable, str(script), str(delay)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() in (["whole"], ["lost"]), done.stdout


KILLED = """\
import sys
from laotie.executors import Lost, Processes
from test_executors import die_while_sending

if __name__ == "__main__":
    d = float(sys.argv[1])
    out = dict(Processes(2, retries=0).map(die_while_sending, [(0, d), (1, d), (2, d)]))
    assert out[(0, d)] == 0 and out[(2, d)] == 2
    result = out[(1, d)]
    whole = result == bytes(400_000_000)
    print("lost" if isinstance(result, Lost) else "whole" if whole else "bad")
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_ctrl_c_while_results_are_sent_back_never_hangs(tmp_path: Path) -> None:
    """Ctrl-C to the whole process group at random moments while the workers send large
    results back. Before the workers ignored SIGINT outside their tasks, 3 of 20 such
    interrupts hung the process for ever (a result half written into the pool's pipe)."""
    script = tmp_path / "big.py"
    script.write_text(BIG, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    rng = random.Random(1)
    for _ in range(30):
        process = subprocess.Popen(
            [sys.executable, str(script)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env=env,
        )
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == b"results flowing\n"
            time.sleep(rng.uniform(0, 0.5))
            os.killpg(process.pid, signal.SIGINT)
            process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        assert process.returncode != 0  # interrupted (a KeyboardInterrupt), not finished
