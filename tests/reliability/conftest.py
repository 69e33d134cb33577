"""The guard of the reliability catalogue: a test fails as soon as a run, a city graph or a
sweep's run begins (the fault was not refused before any work); and a folder that cannot be
written."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

import laotie.graph
import laotie.runs
import laotie.scenario
import laotie.sweep.runner
from tests.reliability.faults import WorkStarted


def _started(*args: object, **kwargs: object) -> None:
    raise WorkStarted("work began before the fault was refused")


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test with :class:`WorkStarted` if a city graph is built, an engine runs, or
    a sweep starts a run (the API's, the command line's and a sweep's ways in)."""
    # Every face builds its city through scenario_graph, which reads or builds it through
    # the graph cache (laotie.runs no longer imports city).
    monkeypatch.setattr(laotie.scenario, "cached_city", _started)
    monkeypatch.setattr(laotie.runs, "_run_group", _started)
    monkeypatch.setattr(laotie.runs, "_replicate_graphs", _started)
    monkeypatch.setattr(laotie.graph, "city", _started)
    monkeypatch.setattr(laotie.sweep.runner, "_run_one", _started)


@pytest.fixture
def unwritable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder in which no folder can be made, as in a read-only folder (EACCES injected:
    the tests may run as root, whom permissions do not stop)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    mkdir = Path.mkdir

    def refused(self: Path, *args: object, **kwargs: object) -> None:
        if self.parent == shared:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", refused)
    return shared
