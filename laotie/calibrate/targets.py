"""Targets as data: what a calibration fits, read from a scenario's ``targets.toml``.

A targets file sits beside the ``scenario.toml`` it calibrates. It names the moments of
:mod:`laotie.moments` the calibration fits or holds out, each with the real-world value it
should reproduce, the band within which it does, the value's standard error, its source (an
id of docs/sources.md) and the source's confidence grade; and the free parameters, each with
the prior range the calibration searches (inside the parameter's declared bounds)::

    scenario = "scenario.toml"   # the scenario calibrated (the file beside, by default)
    scale = 0.02                 # the city's scale of every simulation
    days = 365                   # days of every simulation
    seed = 1                     # the calibration's seed

    [free]                       # dotted key = [low, high] of its uniform prior
    "decision.intercept" = [-9.0, -3.0]

    [[targets]]
    id = "T1a"                              # a moment of laotie.moments
    function = "storefront_click_through"   # the function that measures it, checked
    value = 0.0405                          # the real-world figure
    low = 0.03                              # the band: a model value in [low, high]
    high = 0.05                             #   reproduces the target
    se = 0.005                              # the figure's standard error
    source = "A7"                           # ids of docs/sources.md
    grade = "H"                             # H, M, L or D (docs/sources.md)
    role = "fit"                            # "fit" or "held_out"

Every error names the file, the key (the target by its id) and what is allowed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from ..moments import MOMENTS, Moment
from ..params import did_you_mean
from ..scenario import Scenario
from ..sweep.spec import read_spec, sample_range

__all__ = ["GRADES", "ROLES", "Target", "Targets", "function_name", "load_targets"]

GRADES: tuple[str, ...] = ("H", "M", "L", "D")
"""Confidence grades of docs/sources.md: primary source, reputable secondary, weak, derived.
A target's grade may qualify one of them (``"M-"``, ``"L-M"``)."""

ROLES: tuple[str, ...] = ("fit", "held_out")
"""What a calibration does with a target: fit it, or hold it out to check the fit."""

MAX_DAYS = 100_000
"""The longest simulation a targets file may ask for (as ``run.days``)."""

_TARGET_KEYS = ("id", "function", "value", "low", "high", "se", "source", "grade", "role")
_FILE_KEYS = {"scenario", "scale", "days", "seed", "free", "targets"}
_SOURCE = re.compile(r"^[A-HR]\d{1,2}$|^seed$")
_GRADE = re.compile(r"^[HMLD][+\-−]?(?:[–-][HMLD][+\-−]?)?$")


@dataclass(frozen=True)
class Target:
    """One target moment of a calibration: the moment (with the file's band) and its data.

    Attributes
    ----------
    moment : Moment
        The moment of :mod:`laotie.moments`, its band ``low``/``high`` the file's.
    value : float
        The real-world figure.
    se : float
        Its standard error (the calibration's noise on the observed moment).
    source : tuple of str
        Ids of docs/sources.md.
    grade : str
        The source's confidence grade.
    role : str
        ``"fit"`` or ``"held_out"``.
    """

    moment: Moment
    value: float
    se: float
    source: tuple[str, ...]
    grade: str
    role: str

    @property
    def id(self) -> str:
        """The moment's id, e.g. ``"T1a"``."""
        return self.moment.id


@dataclass(frozen=True)
class Targets:
    """A targets file, read and checked (:func:`load_targets`).

    Attributes
    ----------
    path : Path
        The file.
    scenario : Scenario
        The scenario calibrated (at ``scale``).
    base : Scenario
        The same scenario at its own size (:meth:`at_scale` scales it).
    scale : float
        The city's scale of every simulation.
    days : int
        Days per simulation.
    seed : int
        The calibration's seed.
    free : dict of str to (float, float)
        The free parameters and their prior ranges, in the file's order.
    targets : tuple of Target
        The targets, in the file's order.
    """

    path: Path
    scenario: Scenario
    base: Scenario
    scale: float
    days: int
    seed: int
    free: Mapping[str, tuple[float, float]]
    targets: tuple[Target, ...]

    def at_scale(self, scale: float) -> Scenario:
        """The calibrated scenario at another scale of its own size."""
        if scale == 1.0:
            return self.base
        return dataclasses.replace(self.base, city=self.base.city.scaled(scale))

    def fitted(self) -> tuple[Target, ...]:
        """The targets the calibration fits."""
        return tuple(t for t in self.targets if t.role == "fit")

    def held_out(self) -> tuple[Target, ...]:
        """The targets held out to check the fit."""
        return tuple(t for t in self.targets if t.role == "held_out")

    def moments(self) -> tuple[Moment, ...]:
        """Every target's moment with the file's band (for :func:`laotie.moments.validate`)."""
        return tuple(t.moment for t in self.targets)

    def check_days(self, days: int, where: str) -> None:
        """Refuse simulations of ``days`` days if a fitted moment is undefined in them
        (:attr:`laotie.moments.Moment.min_days`); ``where`` names the setting in the error.

        Raises
        ------
        ScenarioError
            Naming the setting, its value, the moments it leaves undefined and the least
            number of days allowed.
        """
        short = [t for t in self.fitted() if days < t.moment.min_days]
        if short:
            least = max(t.moment.min_days for t in short)
            names = ", ".join(f"{t.id} (≥ {t.moment.min_days})" for t in short)
            raise ScenarioError(
                f"{where} = {days}: the fitted moments {names} are undefined in a run of "
                f"{days} days; expected days ≥ {least}, or hold those moments out"
            )


def load_targets(path: str | Path) -> Targets:
    """Read and check a targets file (the module's docstring gives its form).

    Parameters
    ----------
    path : str or path
        The file, or a folder holding ``targets.toml`` (a shipped scenario's folder).

    Returns
    -------
    Targets

    Raises
    ------
    ScenarioError
        Naming the file, the key and what is allowed: an unknown key, a moment id that
        :mod:`laotie.moments` does not define or whose ``function`` is not the one that
        measures it, a value outside its band, a standard error that is not positive, a
        source or grade not of docs/sources.md, a role other than ``fit``/``held_out``, a
        target given twice, a free parameter unknown, not numeric or with a range outside
        its declared bounds, or no target to fit.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "targets.toml"
    data = read_spec(path, "targets", _FILE_KEYS, ("free", "targets"))
    scenario = _scenario(path, data.get("scenario", "scenario.toml"))
    scale = _number(path, "scale", data.get("scale", 1.0), low=0.0, low_open=True, high=1.0)
    days = _integer(path, "days", data.get("days", scenario.run.days), low=1, high=MAX_DAYS)
    seed = _integer(path, "seed", data.get("seed", 0), low=0)
    base = scenario
    if scale != 1.0:
        try:
            scenario = dataclasses.replace(scenario, city=scenario.city.scaled(scale))
        except ScenarioError as err:
            raise ScenarioError(f"{path}: scale = {scale}: {err}") from None
    free = _free(path, scenario, data["free"])
    targets = _targets(path, data["targets"])
    if not any(t.role == "fit" for t in targets):
        raise ScenarioError(f'{path}: no target has role = "fit"; the calibration needs one')
    loaded = Targets(
        path=path,
        scenario=scenario,
        base=base,
        scale=scale,
        days=days,
        seed=seed,
        free=free,
        targets=targets,
    )
    loaded.check_days(days, f"{path}: days")
    return loaded


def _scenario(path: Path, name: Any) -> Scenario:
    """The scenario a targets file names: a file relative to it, or a shipped name."""
    if not isinstance(name, str):
        raise ScenarioError(f"{path}: scenario = {name!r}; expected a .toml file or a name")
    candidate = path.parent / name
    try:
        if candidate.suffix == ".toml":
            return Scenario.from_toml(candidate)
        return Scenario.preset(name)
    except ScenarioError as err:
        raise ScenarioError(f"{path}: scenario = {name!r}: {err}") from None


def _free(path: Path, scenario: Scenario, table: Any) -> dict[str, tuple[float, float]]:
    """The free parameters and their prior ranges, checked against the declared bounds."""
    if not isinstance(table, dict) or not table:
        raise ScenarioError(
            f"{path}: free must be a table of dotted keys and [low, high], e.g. "
            f'"decision.intercept" = [-9.0, -3.0]'
        )
    free = {}
    sections = Scenario.sections()
    for key, given in table.items():
        section, _, name = key.partition(".")
        if section == "run":
            raise ScenarioError(
                f"{path}: free: {key} cannot be calibrated (the calibration sets every run's "
                f"seed and days); free parameters are the model's"
            )
        declared = sections.get(section)
        if (
            declared is not None
            and name in declared.params()
            and declared.params()[name].kind is int
        ):
            raise ScenarioError(
                f"{path}: free: {key} is an integer parameter; the calibration's prior and "
                f"posterior are continuous: fix it in the scenario, or calibrate a "
                f"continuous parameter instead"
            )
        free[key] = sample_range(
            scenario,
            key,
            given if given != [] else None,  # [] : the declared bounds, as in sweeps
            where=f"{path}: free",
            ends=True,
            hint="fix it in the scenario",
        )
    return free


def _targets(path: Path, rows: Any) -> tuple[Target, ...]:
    """The ``[[targets]]`` tables, checked one by one."""
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise ScenarioError(f"{path}: targets must be an array of tables ([[targets]])")
    by_id = {m.id: m for m in MOMENTS}
    seen: set[str] = set()
    out = []
    for k, row in enumerate(rows):
        where = f"{path}: targets[{k}]"
        unknown = sorted(set(row) - set(_TARGET_KEYS))
        if unknown:
            raise ScenarioError(
                f"{where}: unknown key {unknown[0]!r}{did_you_mean(unknown[0], _TARGET_KEYS)} "
                f"(valid keys: {', '.join(_TARGET_KEYS)})"
            )
        missing = [key for key in _TARGET_KEYS if key not in row]
        if missing:
            raise ScenarioError(f"{where}: {missing[0]} is missing")
        ident = row["id"]
        if not isinstance(ident, str):
            raise ScenarioError(
                f'{where}: id = {ident!r}; expected a moment id as a string, e.g. "T1a"'
            )
        if ident not in by_id:
            raise ScenarioError(
                f"{where}: id = {ident!r} is not a moment of laotie.moments"
                f"{did_you_mean(ident, list(by_id))} (`laotie validate --help` lists them)"
            )
        where = f"{path}: target {ident}"
        if ident in seen:
            raise ScenarioError(f"{where}: given twice")
        seen.add(ident)
        moment = by_id[ident]
        measured_by = function_name(moment)
        if row["function"] != measured_by:
            raise ScenarioError(
                f"{where}: function = {row['function']!r}, but {ident} is measured by "
                f"laotie.moments.{measured_by}"
            )
        value = _number(where, "value", row["value"])
        low = _number(where, "low", row["low"])
        high = _number(where, "high", row["high"])
        if low > high:
            raise ScenarioError(f"{where}: low = {low} > high = {high}; expected low ≤ high")
        if not low <= value <= high:
            raise ScenarioError(
                f"{where}: value = {value} lies outside its band [low, high] = [{low}, {high}]"
            )
        se = _number(where, "se", row["se"], low=0.0, low_open=True)
        source = row["source"]
        ids = tuple(s.strip() for s in source.split(",")) if isinstance(source, str) else ()
        if not ids or not all(_SOURCE.match(s) for s in ids):
            raise ScenarioError(
                f"{where}: source = {source!r}; expected ids of docs/sources.md separated by "
                f'commas, e.g. "A7" or "H1, H5"'
            )
        grade = row["grade"]
        if not isinstance(grade, str) or not _GRADE.match(grade):
            raise ScenarioError(
                f"{where}: grade = {grade!r}; expected one of {', '.join(GRADES)} (optionally "
                f'qualified, e.g. "M-" or "L-M"; docs/sources.md)'
            )
        role = row["role"]
        if role not in ROLES:
            raise ScenarioError(
                f"{where}: role = {role!r}; expected {' or '.join(repr(r) for r in ROLES)}"
            )
        out.append(
            Target(
                moment=dataclasses.replace(moment, low=low, high=high),
                value=value,
                se=se,
                source=ids,
                grade=grade,
                role=role,
            )
        )
    return tuple(out)


def function_name(moment: Moment) -> str:
    """The name of the function of :mod:`laotie.moments` that measures ``moment``, with its
    fixed arguments: ``"storefront_conversion"``,
    ``"users_with_followers_share(threshold=100000)"``."""
    f = moment.function
    if isinstance(f, functools.partial):
        given = ", ".join(f"{k}={v!r}" for k, v in f.keywords.items())
        return f"{f.func.__name__}({given})"
    return f.__name__


def _number(
    where: Path | str,
    key: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """A finite number for ``key``, within the given limits."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(f"{where}: {key} = {value!r}; expected a finite number")
    if low is not None and (value <= low if low_open else value < low):
        raise ScenarioError(
            f"{where}: {key} = {value!r}; expected {'>' if low_open else '≥'} {low}"
        )
    if high is not None and value > high:
        raise ScenarioError(f"{where}: {key} = {value!r}; expected ≤ {high}")
    return float(value)


def _integer(where: Path, key: str, value: Any, *, low: int, high: int | None = None) -> int:
    """An integer for ``key``, at least ``low`` (and at most ``high``)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        upto = f" and ≤ {high:,}" if high is not None else ""
        raise ScenarioError(f"{where}: {key} = {value!r}; expected an integer ≥ {low}{upto}")
    return value
