"""Signals to a running ``laotie sweep --workers 2``: SIGKILL, SIGTERM and SIGINT to its
parent process alone, to its whole process group (Ctrl-C; a lost session), and to one of
its workers. The parent's end takes its workers with it (no orphan holds its standard error
open), SIGTERM and SIGINT are a clean exit (status 130) with one line saying how to resume,
the finished runs are kept, and the same sweep resumed gives the tables of a sweep never
interrupted, byte for byte; a signalled worker is replaced and the sweep ends whole.

Linux only (the workers are found through /proc). Each test takes seconds: the sweep's
workers start (most of the time), run a few runs of the county, two by two (the bundles of a
city's runs), and are signalled after the first run is stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from laotie.sweep import load_sweep, run_sweep
from tests.reliability.faults import assert_same_tables, leftovers

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc"),
]

SPEC = """\
scenario = "county"
days = 25
seed = 11
replications = 6
[grid]
"policy.traffic" = ["head", "inclusive"]
"""
RUNS = 12
"""6 replications of 2 points on 2 workers: the runs go as bundles of a city's 2
(laotie.sweep.runner._bundles), so a signal finds a bundle half done."""


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "sweep.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def whole(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sweep's folder, run in this process without a fault (the number of workers
    changes no number)."""
    out = tmp_path_factory.mktemp("whole") / "out"
    run_sweep(load_sweep(spec_file), out).write()
    return out


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _records(out: Path) -> dict[str, int]:
    """The stored runs' records, each with the time it was written."""
    return {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("run_*.json")}


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s")
        time.sleep(0.02)


@pytest.fixture
def sweep(spec_file: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], list[int]]]:
    """``laotie sweep SPEC --out tmp_path/out --workers 2`` in a session of its own, once its
    first run is stored, and its two workers; whatever is left is killed at the end."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "laotie", "sweep", str(spec_file), "--out", str(out)]
    process = subprocess.Popen(
        [*command, "--workers", "2", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    workers: list[int] = []
    try:
        _wait_for(lambda: (out / "runs").is_dir() and len(_records(out)) >= 1, seconds=300)
        workers = [
            p
            for p in _children(process.pid)
            if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()
        ]
        assert len(workers) == 2, workers
        yield process, workers
    finally:
        for p in [process.pid, *workers]:
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        process.wait(timeout=30)


def _resume_and_compare(spec_file: Path, out: Path, whole: Path, kept: dict[str, int]) -> None:
    """The same sweep resumed runs only the missing runs (the kept records are not written
    again), leaves no temporary file of a write the signal cut, and gives the tables of the
    sweep never interrupted, byte for byte."""
    resumed = run_sweep(load_sweep(spec_file), out)
    assert leftovers(out) == []
    assert (resumed.runs["status"] == "ok").all()
    resumed.write()
    after = _records(out)
    assert len(after) == RUNS
    assert {name: after[name] for name in kept} == kept  # not run again
    assert_same_tables(out, whole)


INTERRUPTED = (
    "laotie: interrupted; the finished runs are kept in {out}/runs: run the same command "
    "again to resume\n"
)


@pytest.mark.parametrize(
    ("to", "how"),
    [
        ("parent", signal.SIGKILL),
        ("parent", signal.SIGTERM),
        ("parent", signal.SIGINT),
        ("group", signal.SIGINT),
        ("group", signal.SIGKILL),
    ],
    ids=["parent-SIGKILL", "parent-SIGTERM", "parent-SIGINT", "ctrl-c", "group-SIGKILL"],
)
def test_a_signalled_sweep_leaves_no_worker_keeps_its_runs_and_resumes_to_the_same_tables(
    to: str,
    how: signal.Signals,
    sweep: tuple[subprocess.Popen[bytes], list[int]],
    spec_file: Path,
    whole: Path,
    tmp_path: Path,
) -> None:
    """SIGKILL to the parent alone (the out-of-memory killer) left its workers running, and a
    ``| tee`` pipeline waiting on them; SIGTERM (what ``timeout`` sends) too."""
    process, workers = sweep
    out = tmp_path / "out"
    if to == "parent":
        os.kill(process.pid, how)
    else:
        os.killpg(process.pid, how)
    process.wait(timeout=60)
    _wait_for(lambda: not any(_alive(p) for p in workers), seconds=15)
    assert process.stderr is not None and process.stdout is not None
    stderr = process.stderr.read().decode()  # at its end: no process holds the pipe any more
    process.stdout.read()
    if how == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:  # handled as Ctrl-C: a clean exit, one line saying how to resume
        assert process.returncode == 130, stderr
        assert "Traceback" not in stderr
        assert stderr.endswith(INTERRUPTED.format(out=out)), stderr
    kept = _records(out)
    assert 1 <= len(kept) < RUNS, "the sweep was meant to be stopped half-way"
    _resume_and_compare(spec_file, out, whole, kept)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_worker_is_replaced_and_the_sweep_ends_whole(
    how: signal.Signals,
    sweep: tuple[subprocess.Popen[bytes], list[int]],
    whole: Path,
    tmp_path: Path,
) -> None:
    process, workers = sweep
    os.kill(workers[0], how)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert f"{RUNS} of {RUNS} runs done" in stdout.decode()
    assert not any(_alive(p) for p in workers)
    assert leftovers(tmp_path / "out") == []
    assert_same_tables(tmp_path / "out", whole)


def test_sigint_to_a_worker_stops_the_sweep_as_ctrl_c_or_is_ignored_between_runs(
    sweep: tuple[subprocess.Popen[bytes], list[int]],
    spec_file: Path,
    whole: Path,
    tmp_path: Path,
) -> None:
    """A worker takes SIGINT only inside a run (outside, half a result could be left in the
    pool's pipe): there it stops the sweep as Ctrl-C does, a clean exit with the finished
    runs kept; between runs it is ignored and the sweep ends whole. Which one depends on
    when the signal lands, so both are checked in full."""
    process, workers = sweep
    out = tmp_path / "out"
    os.kill(workers[0], signal.SIGINT)
    stdout, stderr = (b.decode() for b in process.communicate(timeout=300))
    _wait_for(lambda: not any(_alive(p) for p in workers), seconds=15)
    assert "Traceback" not in stderr
    if process.returncode == 130:
        assert stderr.endswith(INTERRUPTED.format(out=out)), stderr
        _resume_and_compare(spec_file, out, whole, _records(out))
    else:
        assert process.returncode == 0, stderr
        assert f"{RUNS} of {RUNS} runs done" in stdout
        assert leftovers(out) == []
        assert_same_tables(out, whole)
