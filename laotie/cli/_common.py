"""What the subcommands share: ``--set KEY=VALUE`` values, scenarios by name or file, and the
headless matplotlib backend."""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from ..errors import ScenarioError
from ..scenario import Scenario

__all__ = ["headless", "load_scenario", "parse_overrides"]

if TYPE_CHECKING:
    # What ``ArgumentParser.add_subparsers`` returns: the ``sub`` of every ``add_parser``.
    Subcommands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` strings; values are read as TOML (numbers, booleans, strings).

    Parameters
    ----------
    items : sequence of str
        The ``--set`` values.

    Returns
    -------
    dict of str to value
        A value that is not TOML is kept as the text given.

    Raises
    ------
    ScenarioError
        For an item without ``=`` or without a key.

    Examples
    --------
    >>> parse_overrides(["local_degree=30", "trust_local=0.7", "name=x"])
    {'local_degree': 30, 'trust_local': 0.7, 'name': 'x'}
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(f"--set {item!r}: expected KEY=VALUE, e.g. local_degree=30")
        try:
            out[key] = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            out[key] = text.strip()
    return out


def load_scenario(name: str, scale: float, overrides: Sequence[str]) -> Scenario:
    """A shipped scenario or a scenario file (or folder), scaled, with ``--set`` changes."""
    path = Path(name)
    if path.is_dir():
        path = path / "scenario.toml"
    if path.suffix == ".toml" or path.exists():
        scenario = Scenario.from_toml(path)
        if scale != 1.0:
            scenario = scenario.replace(city=scenario.city.scaled(scale))
    else:
        scenario = Scenario.preset(name, scale=scale)
    return scenario.replace(**parse_overrides(overrides))


def check_run_options(replications: int, workers: int, days: int | None) -> None:
    """Refuse replications, workers or days below 1 (``days=None``: the scenario's)."""
    if replications < 1:
        raise ScenarioError(f"--replications {replications}: expected an integer ≥ 1")
    if workers < 1:
        raise ScenarioError(f"--workers {workers}: expected an integer ≥ 1")
    if days is not None and days < 1:
        raise ScenarioError(f"--days {days}: expected an integer ≥ 1")


def headless() -> None:
    """Draw only into files: no window, whatever the environment says."""
    import matplotlib

    matplotlib.use("Agg")
