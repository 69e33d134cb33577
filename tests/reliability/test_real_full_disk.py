"""A really full disk: a small tmpfs mounted for the test (as root, where the machine allows
mounting; skipped otherwise, the injected ENOSPC tests of test_bad_cli.py and
test_sweep_faults.py standing in). What a user sees is one named error, and no folder, no
half-written file and no temporary file is left on the disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.faults import assert_refused, cli, small_disk

RUN = ["run", "village", "--days", "3", "--quiet"]


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB disk: room for a few of a village run's files (about 300 KB with figures)."""
    with small_disk(tmp_path / "disk", 64) as folder:
        yield folder


def test_a_really_full_disk_leaves_nothing_on_it(
    disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = disk / "results"
    line = assert_refused(cli(capsys, *RUN, "--out", target), "No space left on device", ran=True)
    assert line.startswith(f"laotie: error: {target}"), line  # the result's name, not a tmp one
    assert list(disk.iterdir()) == []  # no folder, no half-written or temporary file


def test_a_full_disk_while_replacing_an_earlier_run_keeps_it(
    disk: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An earlier run without figures fits; replacing it with one with figures does not: the
    earlier run is kept whole and nothing else is left."""
    target = disk / "results"
    assert cli(capsys, *RUN, "--no-figures", "--out", target).status == 0
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    assert_refused(
        cli(capsys, *RUN, "--seed", "9", "--force", "--out", target),
        "No space left on device",
        ran=True,
    )
    assert [p.name for p in disk.iterdir()] == ["results"]
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
