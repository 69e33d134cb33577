"""What the subcommands share: ``--set KEY=VALUE`` values, scenarios by name or file, output
folders written whole, and the headless matplotlib backend."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import tomllib
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from ..errors import LaotieError, ScenarioError
from ..scenario import Scenario

__all__ = ["folder_in_place", "headless", "load_scenario", "parse_overrides", "said_warnings"]

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
        For an item without ``=``, without a key, or whose key is not dotted
        (``section.key``; the dotted keys that end with an undotted one are suggested).

    Examples
    --------
    >>> parse_overrides(["city.local_degree=30", "policy.reach=0.5", "policy.traffic=head"])
    {'city.local_degree': 30, 'policy.reach': 0.5, 'policy.traffic': 'head'}
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(f"--set {item!r}: expected KEY=VALUE, e.g. policy.reach=0.5")
        if "." not in key:
            matches = [
                f"{name}.{key}"
                for name, section in Scenario.sections().items()
                if key in section.params()
            ]
            hint = f"did you mean {' or '.join(matches)}?" if matches else "see laotie params"
            raise ScenarioError(
                f"--set {item!r}: expected a dotted key, section.key, e.g. policy.reach=0.5 "
                f"({hint})"
            )
        try:
            out[key] = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            out[key] = text.strip()
    return out


def load_scenario(
    name: str, scale: float, overrides: Sequence[str], *, simulate: bool = True
) -> Scenario:
    """A shipped scenario or a scenario file (or folder), scaled, with ``--set`` changes.

    For a command that simulates (``simulate``), a choice for the Python API only
    (``training.rule = "targeted"``: the creators a policy names) is refused here, naming
    the file or the ``--set`` that gave it, before anything is built; a command that only
    builds the city or prints the parameters takes it.
    """
    changes = parse_overrides(overrides)
    scenario = Scenario.load(name, scale=scale, **changes)
    if simulate:
        refuse_api_only(scenario, name, changes)
    return scenario


def refuse_api_only(
    scenario: Scenario,
    name: str,
    changes: Mapping[str, object] | None = None,
    changed_by: str = "--set",
) -> None:
    """Refuse a choice for the Python API only in ``scenario``, naming ``name`` and its table,
    or, for a key among ``changes``, ``changed_by`` and the key (a ``--set``, a sweep's
    grid)."""
    for section_name in scenario.sections():
        section = getattr(scenario, section_name)
        for key, declared in section.params().items():
            value = getattr(section, key)
            if value in declared.api_only:
                dotted = f"{section_name}.{key}"
                where = (
                    f"{changed_by} {dotted}"
                    if changes and dotted in changes
                    else f"{name} [{section_name}]"
                )
                raise ScenarioError(
                    f"{where}: {key} = {value!r} takes its targets from the Python API "
                    f"(laotie.policy), not from a scenario file or --set; expected "
                    f"{declared.allowed()}"
                )


@contextlib.contextmanager
def said_warnings(*categories: type[Warning]) -> Iterator[None]:
    """Print the warnings of ``categories`` raised in the block as ``laotie: warning: ...``
    lines on standard error (others pass as usual)."""
    import sys
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        if issubclass(warning.category, categories):
            print(f"laotie: warning: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )


def memory_per_run(scenarios: Iterable[Scenario]) -> int:
    """The most memory one run of these scenarios needs: its city's graph and engine
    (:meth:`~laotie.graph.CitySpec.memory_estimate`), so that local workers are capped by
    the memory available too (``laotie sweep``, ``calibrate``, ``sensitivity``).

    Parameters
    ----------
    scenarios : iterable of Scenario

    Returns
    -------
    int
        Bytes, 0 for no scenarios.
    """
    return max((s.city.memory_estimate() for s in scenarios), default=0)


def check_run_options(replications: int, workers: int, days: int | None) -> None:
    """Refuse replications, workers or days below 1 (``days=None``: the scenario's)."""
    from ..runs import MAX_REPLICATIONS

    if not 1 <= replications <= MAX_REPLICATIONS:
        raise ScenarioError(
            f"--replications {replications}: expected an integer, 1 ≤ value ≤ {MAX_REPLICATIONS:,}"
        )
    if workers < 1:
        raise ScenarioError(f"--workers {workers}: expected an integer ≥ 1")
    if days is not None and days < 1:
        raise ScenarioError(f"--days {days}: expected an integer ≥ 1")


def headless() -> None:
    """Draw only into files: no window, whatever the environment says."""
    import matplotlib

    matplotlib.use("Agg")


RUN_FILES = ("scenario.toml", "seed.json")
"""Files every folder written by ``laotie run --out`` holds: what ``--force`` may replace."""


@contextlib.contextmanager
def folder_in_place(out: Path, force: bool = False) -> Iterator[Path]:
    """A temporary sibling of ``out`` to write a run's files into, which takes the place of
    ``out`` when the block ends without error: a folder of results is complete or absent.

    Entered before the run, so that a folder that cannot be written fails first. ``out``
    may exist only empty or, with ``force``, as an earlier run's folder (it holds
    :data:`RUN_FILES`), which is then replaced whole, none of its files left beside the new
    ones; a folder holding anything else is refused. A symbolic link is followed. On any
    error, or Ctrl-C, the temporary folder is removed and ``out`` is left as it was. Where a
    folder cannot be renamed (the working folder, a mount point), the new files are moved
    into it one by one.
    """
    real = out.resolve()
    if real.exists():
        if not real.is_dir():
            raise LaotieError(f"--out {out} exists and is not a folder")
        held = {p.name for p in real.iterdir()}
        if held and not force:
            raise LaotieError(f"{out} is not empty; pass --force to replace it")
        if held and not set(RUN_FILES) <= held:
            some = ", ".join(sorted(held)[:3]) + (", ..." if len(held) > 3 else "")
            raise LaotieError(
                f"--out {out} holds files that are not an earlier run's ({some}); --force "
                "replaces only a folder written by laotie run: choose another folder"
            )
    _remove_killed_writes(real)
    tag = uuid.uuid4().hex[:12]
    tmp = real.parent / f".{real.name}.{tag}.part"
    old = real.parent / f".{real.name}.{tag}.old"
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    except OSError as err:
        raise LaotieError(f"{out}: cannot write ({err})") from err
    try:
        yield tmp
        _into_place(tmp, real, old)
    except OSError as err:
        raise LaotieError(f"{out}: cannot write ({err})") from err
    except LaotieError as err:
        # A file that could not be written is named where it was going, not in the
        # temporary sibling, which is removed.
        if str(tmp) not in str(err):
            raise
        raise type(err)(str(err).replace(str(tmp), str(out))) from err
    finally:
        if old.exists() and not real.exists():
            os.replace(old, real)  # the old folder back, whatever interrupted the swap
        shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def _remove_killed_writes(real: Path) -> None:
    """Remove the temporary siblings (``.NAME.<12 hex digits>.part``) that a run writing
    into ``real`` left when it was killed (SIGKILL, a power cut): never read, and otherwise
    left beside the folder for good. As a sweep does on start; a second ``laotie run``
    writing into the same folder at the same time is not supported."""
    pattern = re.compile(rf"\.{re.escape(real.name)}\.[0-9a-f]{{12}}\.part")
    try:
        siblings = list(real.parent.iterdir())
    except OSError:
        return  # no parent yet, or one that cannot be listed: nothing of ours to remove
    for sibling in siblings:
        if pattern.fullmatch(sibling.name) and sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)


def _into_place(tmp: Path, real: Path, old: Path) -> None:
    """Put the complete folder ``tmp`` in the place of ``real`` (absent, empty or an earlier
    run's), the earlier one set aside as ``old`` until the swap is done."""
    if real.exists():
        try:
            os.replace(real, old)
        except OSError:
            # The working folder or a mount point cannot be renamed: empty it (it is an
            # earlier run's folder or empty) and move the files in.
            for entry in list(real.iterdir()):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            for entry in list(tmp.iterdir()):
                os.replace(entry, real / entry.name)
            return
    os.replace(tmp, real)
