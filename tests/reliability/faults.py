"""What the reliability catalogue shares: the command line run in this process, the check of
a refusal (exit status 2, one line ``laotie: error: ...``, no traceback), the marker of work
begun too early, the check that no temporary or partial file is left behind, and the check
that a sweep's tables are those of a sweep never interrupted."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from laotie.cli import main


class WorkStarted(BaseException):
    """A run, a city graph or a sweep's run began: the fault was not refused before any
    work. A BaseException, so that no ``except Exception`` of laotie's records it as a
    failed run and goes on."""


@dataclass(frozen=True)
class Outcome:
    """What ``laotie ARGV`` did: its exit status, standard output and standard error."""

    status: int
    out: str
    err: str

    @property
    def error(self) -> str:
        """The one ``laotie: error: ...`` line of standard error."""
        lines = [line for line in self.err.splitlines() if line.startswith("laotie: error: ")]
        assert len(lines) == 1, f"expected one error line, got {self.err!r}"
        return lines[0]


def cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> Outcome:
    """Run ``laotie ARGV`` in this process; argparse's own exits are caught too."""
    try:
        status = main([str(arg) for arg in argv])
    except SystemExit as done:  # argparse, on a flag it cannot parse
        status = int(done.code or 0)
    out, err = capsys.readouterr()
    return Outcome(status, out, err)


def assert_refused(outcome: Outcome, *parts: str, ran: bool = False) -> str:
    """A refusal as the command line promises: exit status 2, no traceback, standard error
    ending with one line ``laotie: error: ...`` that holds every one of ``parts``, and
    nothing on standard output unless the fault came after the run (``ran``: while its
    files were written, after its table was printed). Returns that line."""
    assert outcome.status == 2, outcome
    assert "Traceback" not in outcome.err, outcome.err
    assert ran or outcome.out == "", outcome.out
    line = outcome.error
    assert outcome.err.endswith(line + "\n"), outcome.err
    for part in parts:
        assert part in line, f"{part!r} not in {line!r}"
    return line


def leftovers(folder: Path) -> list[str]:
    """Temporary or partial files and folders under ``folder`` (``.NAME.*.part``,
    ``.NAME.*.old``): what an interrupted write would leave."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob(".*")
        if p.name.endswith((".part", ".old"))
    )


@contextlib.contextmanager
def small_disk(folder: Path, kb: int) -> Iterator[Path]:
    """A tmpfs of ``kb`` kilobytes mounted on ``folder`` (made if missing) for the block: a
    really full disk. Skips the test where mounting is not allowed (not root, or a
    container without the right)."""
    folder.mkdir(parents=True, exist_ok=True)
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={kb}k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False, capture_output=True)


def grow_disk(folder: Path, kb: int) -> None:
    """Give the tmpfs mounted on ``folder`` room for ``kb`` kilobytes (what a user does by
    freeing space), its files kept."""
    subprocess.run(
        ["mount", "-o", f"remount,size={kb}k", str(folder)], check=True, capture_output=True
    )


TABLES = ("daily", "summary", "outcomes")
"""A sweep's final tables (beside ``runs.csv``)."""


def assert_same_tables(out: Path, whole: Path) -> None:
    """The tables of the sweep folder ``out`` are byte for byte those of the sweep run
    without a fault in ``whole`` (its runs table too, but for each run's time)."""
    for name in TABLES:
        (path,) = whole.glob(f"{name}.*")
        assert (out / path.name).read_bytes() == path.read_bytes(), name
    runs = pd.read_csv(out / "runs.csv").drop(columns="seconds")
    pd.testing.assert_frame_equal(runs, pd.read_csv(whole / "runs.csv").drop(columns="seconds"))
