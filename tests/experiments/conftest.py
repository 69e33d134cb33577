"""The experiments' tests run whole experiments end to end: marked integration. Each test
module names its experiment (``EXPERIMENT``); the fixtures below load it, run its quick mode
once per module and read back its stored sweep."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from laotie.experiment import load_experiment, run_experiment
from laotie.sweep import SweepResult, collect


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/experiments/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="module")
def module(request: pytest.FixtureRequest) -> Any:
    """The experiment's module."""
    return load_experiment(request.module.EXPERIMENT)


@pytest.fixture(scope="session")
def quick_runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, Any]]:
    """``quick_runs(name)``: ``(out, report)`` of the experiment's quick mode, run once per
    test session (the experiment's own tests and the pages' check share it)."""
    done: dict[str, tuple[Path, Any]] = {}

    def quick(name: str) -> tuple[Path, Any]:
        if name not in done:
            out = tmp_path_factory.mktemp(name)
            done[name] = (out, run_experiment(name, quick=True, out=out))
        return done[name]

    return quick


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest, quick_runs: Callable[[str], Any]) -> Any:
    """``(out, report)`` of the experiment's quick mode."""
    return quick_runs(request.module.EXPERIMENT)


@pytest.fixture(scope="module")
def stored(report: Any, module: Any) -> SweepResult:
    """The quick mode's sweep as stored, every run finished."""
    out, _ = report
    result = collect(module.make_sweep(True), out / "sweep")
    assert (result.runs["status"] == "ok").all()
    return result
