"""Shared fixtures (small cities that build in milliseconds) and the selection of slow
checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from laotie import graph


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the checks marked slow unless the -m expression names them (``-m slow``,
    ``-m "slow and not integration"``): a plain run, CI's, and the quick loop ``-m "not
    integration"`` skip them."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


@pytest.fixture(autouse=True, scope="session")
def _graph_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The graph cache of the tests' own (laotie.graph.cache): a test never reads a graph
    another run of the suite saved, nor fills the user's cache."""
    import os

    os.environ["LAOTIE_GRAPH_CACHE"] = str(tmp_path_factory.mktemp("graph_cache"))


@pytest.fixture
def bom_twins(tmp_path: Path) -> Callable[[str, str], tuple[Path, Path]]:
    """Write TOML text as UTF-8 under one file name in two folders: plain, and with the
    byte-order mark that Windows Notepad puts first. Returns ``(plain, marked)``."""

    def write(name: str, text: str) -> tuple[Path, Path]:
        plain, marked = tmp_path / "plain" / name, tmp_path / "marked" / name
        for path, encoding in ((plain, "utf-8"), (marked, "utf-8-sig")):
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding=encoding)
        assert marked.read_bytes() == b"\xef\xbb\xbf" + plain.read_bytes()
        return plain, marked

    return write


@pytest.fixture(scope="session")
def small_city() -> graph.TrustGraph:
    """Mudanjiang at 1/1000 scale: 2,540 residents, ten regions."""
    return graph.mudanjiang(scale=0.001, seed=11)


@pytest.fixture(scope="session")
def city_100k() -> graph.TrustGraph:
    """Mudanjiang at 100,000 residents (about a second to build)."""
    return graph.mudanjiang(scale=100_000 / 2_540_000, seed=2024)


SYNTHETIC_TARGETS = (
    Path(__file__).parents[1] / "experiments" / "calibration" / "synthetic_village.toml"
)
"""The synthetic village calibration problem (docs/calibration.md): calibrates in seconds."""


@pytest.fixture(scope="module")
def village_targets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the synthetic village targets as targets.toml."""
    path = tmp_path_factory.mktemp("calibration")
    text = SYNTHETIC_TARGETS.read_text(encoding="utf-8")
    (path / "targets.toml").write_text(text, encoding="utf-8")
    return path
