"""A really full disk: a small tmpfs mounted for the test (as root, where the machine allows
mounting; skipped otherwise, the injected ENOSPC tests of test_bad_cli.py and
test_sweep_faults.py standing in). What a user sees is one named error, and no folder, no
half-written file and no temporary file is left on the disk."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.faults import assert_refused, cli

RUN = ["run", "village", "--days", "3", "--quiet"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB tmpfs: room for a few of a village run's files (about 300 KB with figures)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False, capture_output=True)


def test_a_really_full_disk_leaves_nothing_on_it(
    small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = small_disk / "results"
    line = assert_refused(cli(capsys, *RUN, "--out", target), "No space left on device", ran=True)
    assert line.startswith(f"laotie: error: {target}"), line  # the result's name, not a tmp one
    assert list(small_disk.iterdir()) == []  # no folder, no half-written or temporary file


def test_a_full_disk_while_replacing_an_earlier_run_keeps_it(
    small_disk: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An earlier run without figures fits; replacing it with one with figures does not: the
    earlier run is kept whole and nothing else is left."""
    target = small_disk / "results"
    assert cli(capsys, *RUN, "--no-figures", "--out", target).status == 0
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    assert_refused(
        cli(capsys, *RUN, "--seed", "9", "--force", "--out", target),
        "No space left on device",
        ran=True,
    )
    assert [p.name for p in small_disk.iterdir()] == ["results"]
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
