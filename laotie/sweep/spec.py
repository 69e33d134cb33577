"""What a sweep runs: the base scenario, the points, the replications and every run's seed.

A :class:`Sweep` is read from a TOML spec by :func:`load_sweep`. The helpers below it read any
spec file of the many-runs machinery (:func:`read_spec`, :func:`spec_scenario`) and sample
numeric parameters within their ranges (:func:`sample_range`, :func:`as_points`); sensitivity
analyses (:mod:`laotie.sensitivity`) use them too.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import plain, read_toml
from ..errors import ScenarioError
from ..moments import MOMENTS
from ..params import did_you_mean
from ..scenario import Scenario
from ..sections import Run

__all__ = [
    "MAX_RUNS",
    "Sweep",
    "as_points",
    "load_sweep",
    "read_spec",
    "sample_range",
    "spec_scenario",
]


MAX_RUNS = 1_000_000
"""The most runs one sweep may hold (points × replications × draws): a documented sane bound,
checked before any point is made (a billion runs would not fit the table of runs in memory)."""


@dataclass(frozen=True)
class Sweep:
    """Runs of a scenario: every grid combination × every sampled point × every case.

    Parameters
    ----------
    base : Scenario
        The scenario every run starts from.
    grid : dict of str to list
        Dotted keys and the values each takes; all combinations are run.
    replications : int
        Runs per point, each with its own seed.
    days : int, optional
        Days per run (default: the scenario's ``run.days``).
    seed : int
        The sweep's seed; every run's seed is spawned from it.
    sample : dict of str to [low, high] or None
        Numeric keys sampled within ``[low, high]`` (``None``: the declared bounds).
    samples : int
        How many points to sample.
    method : {"lhs", "sobol", "random"}
        Latin hypercube, scrambled Sobol or plain random points.
    cases : list of dict
        Explicit points (dotted key to value), e.g. a sensitivity analysis's sample.
    common_random_numbers : bool
        Replication ``r`` of every point shares its seed (see :mod:`laotie.sweep`).
    moments : tuple of str
        Ids of target moments (:data:`laotie.moments.MOMENTS`, e.g. ``"T1a"``) that every run
        measures, the graph's included (:attr:`SweepResult.moments`; what a calibration
        compares with its targets).
    draws : list of dict
        Parameter draws (dotted key to value; e.g. :meth:`laotie.posterior.Posterior.draws`)
        that carry parameter uncertainty: every point runs ``replications`` times per draw,
        the draw's values under the point's own (a point's key wins). Replication slot
        ``d * replications + r`` is draw ``d``'s replication ``r``; with common random
        numbers every arm's slot shares its seed, graph and draw, so arms stay paired.

    Raises
    ------
    ScenarioError
        For a base that is not a Scenario, a count, seed or days that is not allowed, a
        sampled key without ``samples`` (or the reverse), a grid, sample or case that is not
        a table, or a point (with each draw) whose scenario the base does not accept over
        the sweep's days: every point is checked when the sweep is made, not mid-sweep.
    """

    base: Scenario
    grid: Mapping[str, list[Any]] = field(default_factory=dict)
    replications: int = 1
    days: int | None = None
    seed: int = 0
    sample: Mapping[str, list[float] | None] = field(default_factory=dict)
    samples: int = 0
    method: str = "lhs"
    cases: list[dict[str, Any]] = field(default_factory=list)
    common_random_numbers: bool = True
    moments: tuple[str, ...] = ()
    draws: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("replications", "days", "seed", "samples"):
            # numpy's integers are integers (an np.int64 was refused as "expected an integer")
            if isinstance(getattr(self, name), np.integer):
                object.__setattr__(self, name, int(getattr(self, name)))
        if not isinstance(self.base, Scenario):
            raise ScenarioError(
                f"sweep: base = {self.base!r} is not a Scenario (Scenario.load or "
                "Scenario.preset makes one)"
            )
        known = [m.id for m in MOMENTS]
        if isinstance(self.moments, str):
            raise ScenarioError(
                f"sweep: moments = {self.moments!r}; expected a list of moment ids, e.g. "
                f'["{self.moments}"]'
            )
        wrong = [m for m in self.moments if m not in known]
        if wrong:
            raise ScenarioError(
                f"sweep: moments: {wrong[0]!r} is not a moment id"
                f"{did_you_mean(str(wrong[0]), known)} (valid: {', '.join(known)})"
            )
        twice = [m for i, m in enumerate(self.moments) if m in self.moments[:i]]
        if twice:
            raise ScenarioError(f"sweep: moments: {twice[0]!r} is given twice")
        object.__setattr__(self, "moments", tuple(self.moments))
        if (
            isinstance(self.replications, bool)
            or not isinstance(self.replications, int)
            or (self.replications < 1)
        ):
            raise ScenarioError(f"sweep: replications = {self.replications!r}; expected ≥ 1")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ScenarioError(f"sweep: seed = {self.seed!r}; expected an integer ≥ 0")
        if not isinstance(self.common_random_numbers, bool):
            raise ScenarioError(
                f"sweep: common_random_numbers = {self.common_random_numbers!r}; "
                f"expected true or false"
            )
        if isinstance(self.samples, bool) or not isinstance(self.samples, int) or self.samples < 0:
            raise ScenarioError(f"sweep: samples = {self.samples!r}; expected an integer ≥ 0")
        if self.days is not None and (
            isinstance(self.days, bool) or not isinstance(self.days, int) or self.days < 0
        ):
            raise ScenarioError(f"sweep: days = {self.days!r}; expected an integer ≥ 0")
        if self.days is not None:
            Run.params()["days"].check(self.days, "days", "sweep")
        if not isinstance(self.grid, Mapping):
            raise ScenarioError(
                f"sweep: grid = {self.grid!r} is not allowed; expected a table of dotted keys "
                "and lists of values"
            )
        if not isinstance(self.sample, Mapping):
            raise ScenarioError("sweep: sample must be a table of dotted keys and [low, high]")
        if self.sample and self.samples < 1:
            raise ScenarioError("sweep: sampled keys need samples ≥ 1")
        if self.samples and not self.sample:
            raise ScenarioError(
                f"sweep: samples = {self.samples} but no key to sample; add a [sample] table "
                f"of dotted keys and [low, high] (or [] for the declared bounds)"
            )
        for key, values in self.grid.items():
            if not isinstance(values, list) or not values:
                raise ScenarioError(f"sweep: grid {key!r} must be a non-empty list of values")
        if not isinstance(self.cases, list):
            raise ScenarioError("sweep: cases must be a list of tables (dotted key = value)")
        for i, case in enumerate(self.cases):
            if not isinstance(case, dict):
                raise ScenarioError(f"sweep: cases[{i}] must be a table, got {case!r}")
        if not isinstance(self.draws, list):
            raise ScenarioError("sweep: draws must be a list of tables (dotted key = value)")
        for i, draw in enumerate(self.draws):
            if not isinstance(draw, dict) or not draw:
                raise ScenarioError(f"sweep: draws[{i}] must be a non-empty table, got {draw!r}")
        self._check_size()
        self._check_keys_the_sweep_sets()
        self._check_points()

    def _check_size(self) -> None:
        """Refuse a sweep of more than :data:`MAX_RUNS` runs, counted without making its
        points."""
        factors = {
            "replications": self.replications,
            "samples": max(1, self.samples),
            "cases": max(1, len(self.cases)),
            "draws": max(1, len(self.draws)),
            **{f"grid {key!r}": len(values) for key, values in self.grid.items()},
        }
        total = math.prod(factors.values())
        if total > MAX_RUNS:
            shown = " × ".join(f"{n:,} ({what})" for what, n in factors.items() if n > 1)
            raise ScenarioError(
                f"sweep: {shown} = {total:,} runs is not allowed; expected at most "
                f"{MAX_RUNS:,} runs in one sweep (split it into several)"
            )

    def _check_keys_the_sweep_sets(self) -> None:
        """Refuse a point or draw setting what the sweep sets for every run: ``run.seed``
        (each run's seed comes from the sweep's ``seed``) and, when the sweep gives
        ``days``, ``run.days``; either would be shown in runs.csv and ignored."""
        where = {
            "grid": list(self.grid),
            "sample": list(self.sample),
            **{f"cases[{i}]": list(case) for i, case in enumerate(self.cases)},
            **{f"draws[{i}]": list(draw) for i, draw in enumerate(self.draws)},
        }
        for place, keys in where.items():
            for key in keys:
                if not isinstance(key, str):
                    raise ScenarioError(
                        f"sweep: {place}: key {key!r} is not allowed; expected a dotted key "
                        "(text), e.g. 'policy.reach'"
                    )
            if "run.seed" in keys:
                raise ScenarioError(
                    f"sweep: {place}: 'run.seed' is not allowed; the sweep gives every run its "
                    "seed from its own seed (set seed = N at the top of the spec; replications "
                    "= N for more seeds)"
                )
            if "run.days" in keys and self.days is not None:
                raise ScenarioError(
                    f"sweep: {place}: 'run.days' is not allowed with days = {self.days}, which "
                    "every run simulates (leave days out to vary run.days)"
                )

    def _check_points(self) -> None:
        """Make the scenario of every point with every draw, as its runs will, over the
        sweep's days: each key and value, and each combination of them (keys that hold only
        together, keys that cannot hold together, a training or shock day after the last
        day) is checked now, not mid-sweep."""
        days = {} if self.days is None else {"run.days": self.days}
        draws = self.draws or [{}]
        for index, point in enumerate(self.points()):
            for d, draw in enumerate(draws):
                try:
                    self.base.replace(**(draw | point | days))
                except ScenarioError as err:
                    shown = ", ".join(f"{key} = {plain(value)!r}" for key, value in point.items())
                    where = f"point {index} ({shown})" + (f" with draws[{d}]" if self.draws else "")
                    raise ScenarioError(f"sweep: {where}: {err}") from None

    @property
    def slots(self) -> int:
        """Replication slots per point: ``replications`` times the number of draws (or 1).

        Returns
        -------
        int
        """
        return self.replications * max(1, len(self.draws))

    def draw(self, run: int) -> dict[str, Any]:
        """The parameter draw of run ``run`` (``{}`` when the sweep has no draws).

        Parameters
        ----------
        run : int
            The run's index (see :meth:`runs`).

        Returns
        -------
        dict
        """
        if not self.draws:
            return {}
        return self.draws[(run % self.slots) // self.replications]

    def bounds(self) -> dict[str, tuple[float, float]]:
        """The range of every sampled key: given, or the declared bounds of the parameter.

        Returns
        -------
        dict of str to (float, float)
        """
        return {
            key: sample_range(
                self.base, key, given, where="sweep", hint="put it in the grid instead"
            )
            for key, given in self.sample.items()
        }

    def sampled(self) -> list[dict[str, Any]]:
        """``samples`` points over the sampled keys (Latin hypercube, Sobol or random).

        The points are drawn from a stream spawned from the sweep's seed, apart from the
        runs' streams, so the same sweep always samples the same points.

        Returns
        -------
        list of dict
            One ``{dotted key: value}`` per point (integer parameters rounded); ``[{}]``
            when nothing is sampled.

        Raises
        ------
        ScenarioError
            For an unknown method.
        """
        if not self.sample:
            return [{}]
        # Imported here: scipy.stats takes about 0.4 s to import, which every sweep worker
        # would pay at its start, and only a sampled design needs it.
        from scipy.stats import qmc

        bounds = self.bounds()
        keys = list(bounds)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(2**31,)))
        if self.method == "lhs":
            unit = qmc.LatinHypercube(d=len(keys), seed=rng).random(self.samples)
        elif self.method == "sobol":
            unit = qmc.Sobol(d=len(keys), scramble=True, seed=rng).random(self.samples)
        elif self.method == "random":
            unit = rng.random((self.samples, len(keys)))
        else:
            raise ScenarioError(
                f"sweep: method = {self.method!r}; expected 'lhs', 'sobol' or 'random'"
            )
        low = np.array([bounds[k][0] for k in keys])
        high = np.array([bounds[k][1] for k in keys])
        return as_points(keys, low + unit * (high - low))

    def points(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values, sampled points and cases, in order.

        Returns
        -------
        list of dict
            One ``{dotted key: value}`` per point, the grid varying slowest.
        """
        keys = list(self.grid)
        grid = [dict(zip(keys, v, strict=True)) for v in itertools.product(*self.grid.values())]
        cases = self.cases or [{}]
        return [{**g, **p, **c} for g in grid for p in self.sampled() for c in cases]

    def runs(self) -> pd.DataFrame:
        """The runs of the sweep, ``replications`` per point.

        Returns
        -------
        pandas.DataFrame
            One row per run: ``run``, ``point``, the parameters, ``replication`` (the
            replication slot, what arms are paired by) and, with draws, ``draw``.
        """
        rows: list[dict[str, Any]] = []
        for index, point in enumerate(self.points()):
            for slot in range(self.slots):
                row = {"run": len(rows), "point": index, **point, "replication": slot}
                if self.draws:
                    row["draw"] = slot // self.replications
                rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Everything that decides the sweep's numbers, as plain values.

        Returns
        -------
        dict
            The base scenario (as :meth:`Scenario.to_dict`), the grid, sampled ranges,
            cases, replications, days, seed, whether random numbers are common, the
            moments measured and the draws (when any).
        """
        return (
            {
                "base": self.base.to_dict(),
                "grid": {key: [plain(v) for v in values] for key, values in self.grid.items()},
                "replications": self.replications,
                "days": self.days,
                "seed": self.seed,
                "sample": {key: plain(v) for key, v in self.sample.items()},
                "samples": self.samples,
                "method": self.method,
                "cases": [{key: plain(v) for key, v in case.items()} for case in self.cases],
                "common_random_numbers": self.common_random_numbers,
            }
            | ({"moments": list(self.moments)} if self.moments else {})
            | (
                {"draws": [{key: plain(v) for key, v in draw.items()} for draw in self.draws]}
                if self.draws
                else {}
            )
        )

    def seed_key(self, run: int) -> int:
        """The spawn key of run ``run``'s seed.

        Parameters
        ----------
        run : int
            The run's index (see :meth:`runs`).

        Returns
        -------
        int
            Its replication slot with common random numbers, else ``run`` itself.
        """
        return run % self.slots if self.common_random_numbers else run

    def run_seed(self, run: int) -> np.random.SeedSequence:
        """The seed of run ``run``, keyed by :meth:`seed_key`, never by the order of execution.

        Parameters
        ----------
        run : int
            The run's index.

        Returns
        -------
        numpy.random.SeedSequence
            ``SeedSequence(seed, spawn_key=(seed_key(run),))``.
        """
        return np.random.SeedSequence(self.seed, spawn_key=(self.seed_key(run),))


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep spec (TOML).

    Keys: ``scenario`` (a shipped name or a ``.toml`` file relative to the spec), ``days``,
    ``seed``, ``replications``, ``common_random_numbers``, a ``[grid]`` table of dotted keys
    and value lists, a ``[sample]`` table of dotted keys and ``[low, high]`` (or ``[]`` for the
    declared bounds) with ``samples`` and ``method``, ``[[cases]]`` tables, and ``moments``
    (a list of target moment ids every run measures).

    Parameters
    ----------
    path : str or path
        The spec file.

    Returns
    -------
    Sweep

    Raises
    ------
    ScenarioError
        Naming the file, for a missing or unreadable file, an unknown key (with the nearest
        one) and every problem that :class:`Sweep` refuses.
    """
    path = Path(path)
    allowed = {
        "scenario",
        "days",
        "seed",
        "replications",
        "grid",
        "sample",
        "samples",
        "method",
        "cases",
        "common_random_numbers",
        "moments",
    }
    data = read_spec(path, "sweep", allowed, ("scenario",))
    base = spec_scenario(path, data["scenario"])
    grid, cases = data.get("grid", {}), data.get("cases", [])
    # A relative graph file is the spec's, as its scenario is (a scenario file's is its own).
    if isinstance(grid, dict) and isinstance(grid.get("graph.from"), list):
        grid = grid | {"graph.from": [_beside(path, v) for v in grid["graph.from"]]}
    if isinstance(cases, list):
        cases = [
            case | {"graph.from": _beside(path, case["graph.from"])}
            if isinstance(case, dict) and "graph.from" in case
            else case
            for case in cases
        ]
    try:
        sample = data.get("sample", {})
        if not isinstance(sample, dict):
            raise ScenarioError("sweep: sample must be a table of dotted keys and [low, high]")
        return Sweep(
            base,
            grid,
            replications=data.get("replications", 1),
            days=data.get("days"),
            seed=data.get("seed", 0),
            sample={k: (v or None) for k, v in sample.items()},
            samples=data.get("samples", 0),
            method=data.get("method", "lhs"),
            cases=cases,
            common_random_numbers=data.get("common_random_numbers", True),
            moments=data.get("moments", ()),
        )
    except ScenarioError as err:
        raise ScenarioError(f"{path}: {err}") from None


def _beside(path: Path, value: object) -> object:
    """``value`` (a ``graph.from`` of the spec ``path``) taken from the spec's folder when it
    is a relative path; anything else as it is (:class:`Sweep` checks it)."""
    if isinstance(value, str) and value and not os.path.isabs(os.path.expanduser(value)):
        return str(path.parent.absolute() / value)
    return value


def read_spec(path: str | Path, kind: str, allowed: set[str], required: tuple[str, ...]) -> dict:
    """The TOML table of a spec file (a sweep, a sensitivity analysis) whose keys are checked.

    Parameters
    ----------
    path : str or path
        The spec file.
    kind : str
        What the file is, for messages (``"sweep"``).
    allowed : set of str
        The keys the spec may have.
    required : tuple of str
        The keys it must have.

    Returns
    -------
    dict
        The parsed table.

    Raises
    ------
    ScenarioError
        Naming the file and what is wrong: missing, unreadable, not TOML, an unknown key (with
        the nearest allowed one) or a required key missing.
    """
    path = Path(path)
    data = read_toml(path, kind)
    unknown = sorted(set(data) - allowed)
    if unknown:
        hint = did_you_mean(unknown[0], sorted(allowed))
        raise ScenarioError(
            f"{path}: unknown key {unknown[0]!r}{hint} (valid keys: {', '.join(sorted(allowed))})"
        )
    for key in required:
        if key not in data:
            raise ScenarioError(f"{path}: {key} is missing")
    return data


def spec_scenario(path: str | Path, name: object) -> Scenario:
    """The base scenario a spec file names.

    Parameters
    ----------
    path : str or path
        The spec file.
    name : object
        Its ``scenario`` value: a shipped scenario's name, or a ``.toml`` file relative to the
        spec's folder.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        When ``name`` is not a string, or names no scenario (or one that is not valid),
        naming the spec file.
    """
    if not isinstance(name, str):
        raise ScenarioError(f"{path}: scenario = {name!r}; expected a name or a .toml file")
    candidate = Path(path).parent / name
    try:
        if candidate.suffix == ".toml":
            return Scenario.from_toml(candidate)
        return Scenario.preset(name)
    except ScenarioError as err:  # named with the spec that names the scenario
        raise ScenarioError(f"{path}: scenario = {name!r}: {err}") from None


def as_points(keys: list[str], rows: Any) -> list[dict[str, Any]]:
    """Sampled rows as scenario points (sweeps and sensitivity analyses sample the same way).

    Parameters
    ----------
    keys : list of str
        Dotted keys of numeric parameters, one per column of ``rows``.
    rows : iterable of sequences of float
        The sampled values.

    Returns
    -------
    list of dict
        One ``{dotted key: value}`` per row: integer parameters rounded to the nearest
        integer (half to even), the others as floats.

    Examples
    --------
    >>> as_points(["products.n_categories", "policy.reach"], [[3.5, 0.25]])
    [{'products.n_categories': 4, 'policy.reach': 0.25}]
    """
    sections = Scenario.sections()
    integer = [
        sections[k.partition(".")[0]].params()[k.partition(".")[2]].kind is int for k in keys
    ]
    return [
        {
            key: round(float(value)) if is_int else float(value)  # round half to even
            for key, value, is_int in zip(keys, row, integer, strict=True)
        }
        for row in rows
    ]


def sample_range(
    base: Scenario, key: str, given: Any, *, where: str, ends: bool = False, hint: str = ""
) -> tuple[float, float]:
    """The range ``[low, high]`` over which a numeric parameter is sampled.

    Parameters
    ----------
    base : Scenario
        The scenario the samples change.
    key : str
        A dotted key of a numeric parameter.
    given : [low, high] or None
        The range asked for; None takes the parameter's declared bounds.
    where : str
        Named first in error messages (``"sweep"``, ``"sensitivity"``).
    ends : bool, default False
        Both ends must be allowed values (Morris's grid takes them).
    hint : str, optional
        What to do instead for a non-numeric parameter, for the message.

    Returns
    -------
    (float, float)

    Raises
    ------
    ScenarioError
        Naming ``where``, the key (with the nearest one when it is unknown) and what is
        allowed: for an unknown or non-numeric key, a range that is not two finite numbers
        with low < high, no declared bound on a side, or (with ``ends``) an end that is not
        allowed.
    """
    sections = Scenario.sections()
    section, _, name = key.partition(".")
    if section not in sections or name not in sections[section].params():
        raise ScenarioError(
            f"{where}: unknown parameter {key!r}{did_you_mean(key, list(base.flat()))} "
            f"(see `laotie params SCENARIO` for the dotted keys)"
        )
    declared = sections[section].params()[name]
    if declared.kind not in (int, float):
        raise ScenarioError(
            f"{where}: {key} is {declared.allowed()}, not numeric: only numeric parameters can "
            f"be sampled{f' ({hint})' if hint else ''}"
        )
    if given is None:
        if declared.low is None or declared.high is None:
            raise ScenarioError(
                f"{where}: {key} has no declared range on both sides ({declared.allowed()}): "
                f"give [low, high]"
            )
        low, high = declared.low, declared.high
    elif (
        isinstance(given, list | tuple)
        and len(given) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in given)
    ):
        low, high = given
    else:
        raise ScenarioError(
            f"{where}: {key} = {given!r}; expected [low, high] (or [] for the declared range: "
            f"{declared.allowed()})"
        )
    if not all(map(math.isfinite, (low, high))) or not low < high:
        raise ScenarioError(
            f"{where}: {key} = [{low}, {high}]; expected a finite range with low < high"
        )
    if ends:
        section, _, name = key.partition(".")
        try:  # the key itself (a city key a graph file leaves unused): no range would do
            base.replace(**{key: getattr(getattr(base, section), name)})
        except ScenarioError as err:
            raise ScenarioError(f"{where}: {key}: {err}") from None
        for end in (low, high):
            value = round(end) if declared.kind is int else float(end)
            try:
                base.replace(**{key: value})
            except ScenarioError as err:
                raise ScenarioError(
                    f"{where}: {key} = [{low}, {high}]: {err} (the samples reach both ends: "
                    f"give [low, high] within the allowed values)"
                ) from None
    return float(low), float(high)
