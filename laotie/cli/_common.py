"""What the subcommands share: ``--set KEY=VALUE`` values, scenarios by name or file, output
folders written whole, and the headless matplotlib backend."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tomllib
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from ..errors import LaotieError, ScenarioError
from ..scenario import Scenario

__all__ = ["folder_in_place", "headless", "load_scenario", "parse_overrides"]

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


@contextlib.contextmanager
def folder_in_place(out: Path) -> Iterator[Path]:
    """A temporary sibling of ``out`` to write a run's files into, which replaces ``out``
    whole when the block ends without error (an earlier folder there, with ``--force``, is
    removed, none of its files left beside the new ones). On any error, or Ctrl-C, the
    temporary folder is removed and ``out`` is left as it was: a folder of results is
    complete or absent."""
    tag = uuid.uuid4().hex[:12]
    tmp = out.parent / f".{out.name}.{tag}.part"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    except OSError as err:
        raise LaotieError(f"{out}: cannot write ({err})") from err
    try:
        yield tmp
        old = out.parent / f".{out.name}.{tag}.old"
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise LaotieError(f"{out}: cannot write ({err})") from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
