"""What ``laotie optimise`` runs: a policy-design spec file (TOML).

A spec names the scenario, what the policy chooses, the objective, the budget and the
replications of each phase; :func:`load_optimise` reads and checks it before anything runs,
and :func:`laotie.policy.run.run_optimise` runs it, resumably.

Example (``experiments/policy/train_poverty_county.toml``)::

    scenario = "poverty_county"   # a shipped scenario, or a .toml file beside this spec
    scale = 0.05                  # of the scenario's city (default 1)
    seed = 1                      # every phase's replications and the random heuristic
    target = "train"              # creators to train on training.day
    objective = "producer_net_total"
    budget = 10                   # creators (each costs 1)
    replications = 8              # per set while choosing
    fresh = 16                    # per policy in the comparison, none used while choosing

    [set]                         # changes to the scenario, as laotie run --set
    "training.day" = 30
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LaotieError, ScenarioError
from ..results import OUTCOME_COLUMNS
from ..scenario import Scenario
from ..sweep.spec import read_spec, spec_scenario

__all__ = ["TARGETS", "OptimiseSpec", "load_optimise"]

TARGETS = {"train": "creators to train on training.day (laotie.policy.TrainingProgramme)"}
"""What a policy can choose, and what it means (more kinds are planned, issue #24)."""

_KEYS = {
    "scenario",
    "scale",
    "seed",
    "graph_seed",
    "days",
    "target",
    "objective",
    "budget",
    "replications",
    "fresh",
    "shortlist",
    "contenders",
    "batch",
    "stop",
    "set",
}

_DECIDED = {
    "training.rule": "the policy chooses whom to train (target); leave the rule out",
    "training.n_creators": "the budget decides how many creators are trained; set budget",
    "run.seed": "the spec's seed decides every replication (graph_seed the graph); set seed",
    "run.days": "set days instead (days per run, default the scenario's)",
}
"""Scenario keys a spec's own keys decide, refused in its ``[set]`` table (they would be
ignored)."""


@dataclass(frozen=True)
class OptimiseSpec:
    """A policy-design problem, checked.

    Parameters
    ----------
    scenario : Scenario
        The scenario, at its scale and with its changes.
    seed : int, default 0
        The optimisation's seed (:func:`laotie.policy.phase_seed`).
    graph_seed : int, optional
        The city graph's seed (default: ``seed``); one graph for every set and replication.
    days : int, optional
        Days per run (default: the scenario's ``run.days``).
    target : str, default "train"
        What the policy chooses (:data:`TARGETS`).
    objective : str or dict of str to float, default "producer_net_total"
        An outcome column, or weights of several (non-zero; negative for one to lower).
    budget : float, default 10
        The most the chosen targets may cost together (≥ 1: each creator costs 1).
    replications : int, default 8
        Replications per set while choosing (≥ 2).
    fresh : int, default 16
        Replications per policy in the comparison (≥ 2).
    shortlist : int, default 40
        Candidates the simulation judges (:func:`laotie.policy.shortlist`).
    contenders, batch : int
        As for :func:`laotie.policy.greedy`.
    stop : bool, default True
        Stop choosing when no candidate's mean gain is positive; False spends the budget.
    where : str, default "optimise"
        Where the spec came from, for messages.

    Raises
    ------
    ScenarioError
        For a value that is not allowed, naming the key, the value and what is allowed; for
        a scenario whose training changes nothing, or an objective the runs never define
        (a monthly repurchase rate in runs of 60 days or fewer).
    """

    scenario: Scenario
    seed: int = 0
    graph_seed: int | None = None
    days: int | None = None
    target: str = "train"
    objective: str | Mapping[str, float] = "producer_net_total"
    budget: float = 10
    replications: int = 8
    fresh: int = 16
    shortlist: int = 40
    contenders: int = 2
    batch: int = 1
    stop: bool = True
    where: str = field(default="optimise", compare=False)

    def __post_init__(self) -> None:
        w = self.where
        if not isinstance(self.scenario, Scenario):
            raise ScenarioError(
                f"{w}: scenario = {self.scenario!r}; expected a Scenario "
                "(laotie.Scenario.preset(name), or load_optimise for a spec file)"
            )
        _integer(w, "seed", self.seed, 0)
        if self.graph_seed is not None:
            _integer(w, "graph_seed", self.graph_seed, 0)
        if self.days is not None:
            _integer(w, "days", self.days, 1, 100_000)
        if self.target not in TARGETS:
            raise ScenarioError(
                f"{w}: target = {self.target!r}; expected one of {', '.join(map(repr, TARGETS))}"
            )
        weights = {self.objective: 1.0} if isinstance(self.objective, str) else self.objective
        if not isinstance(weights, Mapping) or not weights:
            raise ScenarioError(
                f"{w}: objective = {self.objective!r}; expected an outcome's name or a table "
                "of outcomes and weights"
            )
        for name, weight in weights.items():
            if name not in OUTCOME_COLUMNS:
                raise ScenarioError(
                    f"{w}: objective {name!r} is not an outcome; outcomes: "
                    + ", ".join(OUTCOME_COLUMNS)
                )
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise ScenarioError(f"{w}: objective weight {name} = {weight!r}; expected a number")
            if not math.isfinite(weight) or weight == 0:
                raise ScenarioError(
                    f"{w}: objective weight {name} = {weight!r}; expected a finite number other "
                    "than 0 (negative for an outcome to lower)"
                )
        if (
            isinstance(self.budget, bool)
            or not isinstance(self.budget, int | float)
            or not math.isfinite(self.budget)
            or self.budget < 1
        ):
            raise ScenarioError(
                f"{w}: budget = {self.budget!r}; expected a number ≥ 1 (each creator costs 1: "
                "a smaller budget buys nothing)"
            )
        _integer(w, "replications", self.replications, 2, 10_000)
        _integer(w, "fresh", self.fresh, 2, 10_000)
        _integer(w, "shortlist", self.shortlist, 1, 100_000)
        _integer(w, "contenders", self.contenders, 0, 1_000)
        _integer(w, "batch", self.batch, 1, 1_000)
        if not isinstance(self.stop, bool):
            raise ScenarioError(f"{w}: stop = {self.stop!r}; expected true or false")
        days = self.run_days
        day = self.scenario.training.day
        if not 0 <= day < days:
            raise ScenarioError(
                f"{w}: training.day = {day} does not fall within the {days} days of each run; "
                f'set "training.day" from 0 to {days - 1} in the [set] table, or lengthen days'
            )
        gains = self.scenario.training
        if gains.authenticity_gain == gains.content_quality_gain == gains.follower_gain == 0:
            raise ScenarioError(
                f"{w}: training.authenticity_gain, content_quality_gain and follower_gain are "
                "all 0: training a creator changes nothing, so no set is better than another; "
                "set one of them in the [set] table"
            )
        from ..engine.rules.month import MONTH_DAYS

        monthly = [name for name in weights if name.startswith("monthly_repurchase_")]
        if monthly and days <= 2 * MONTH_DAYS:
            raise ScenarioError(
                f"{w}: objective {monthly[0]} is first recorded on day {2 * MONTH_DAYS} (a "
                f"month's buyers who buy again in the next), so runs of {days} days never "
                f"define it; lengthen days beyond {2 * MONTH_DAYS}"
            )

    @property
    def run_days(self) -> int:
        """Days per run: ``days``, or the scenario's own."""
        return self.scenario.run.days if self.days is None else self.days

    def to_dict(self) -> dict[str, Any]:
        """Everything that decides the optimisation's numbers, as plain values (what a
        resumed folder is compared with).

        Returns
        -------
        dict
        """
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.compare}
        objective = self.objective
        return fields | {
            "scenario": self.scenario.to_dict(),
            "objective": objective if isinstance(objective, str) else dict(objective),
            "graph_seed": self.seed if self.graph_seed is None else self.graph_seed,
            "days": self.run_days,
        }


def load_optimise(path: str | Path) -> OptimiseSpec:
    """Read a policy-design spec (TOML; the module's docstring shows one).

    Keys: ``scenario`` (required: a shipped name or a ``.toml`` file relative to the spec),
    ``scale``, ``seed``, ``graph_seed``, ``days``, ``target``, ``objective`` (an outcome, or
    a table of outcomes and weights), ``budget``, ``replications``, ``fresh``, ``shortlist``,
    ``contenders``, ``batch``, ``stop`` and a ``[set]`` table of dotted scenario keys.

    Parameters
    ----------
    path : str or path
        The spec file.

    Returns
    -------
    OptimiseSpec

    Raises
    ------
    ScenarioError
        Naming the file, for a missing or unreadable file, an unknown key (with the nearest
        one), a change the scenario refuses, a change of what the spec's own keys decide
        (``run.seed``, ``run.days``, ``training.rule``, ``training.n_creators``) and every
        value :class:`OptimiseSpec` refuses.
    """
    path = Path(path)
    data = read_spec(path, "optimise", _KEYS, ("scenario",))
    try:
        scenario = spec_scenario(path, data["scenario"])
    except ScenarioError as err:
        if str(err).startswith(f"{path}:"):
            raise
        raise ScenarioError(f"{path}: scenario = {data['scenario']!r}: {err}") from None
    scale = data.get("scale", 1.0)
    if (
        isinstance(scale, bool)
        or not isinstance(scale, int | float)
        or not math.isfinite(scale)
        or not 0 < scale <= 1000
    ):
        raise ScenarioError(f"{path}: scale = {scale!r}; expected a number, 0 < scale ≤ 1000")
    changes = data.get("set", {})
    if not isinstance(changes, dict):
        raise ScenarioError(f"{path}: set = {changes!r}; expected a table of dotted keys")
    for key, decided in _DECIDED.items():
        if key in changes:
            raise ScenarioError(f"{path}: [set] {key} = {changes[key]!r}; {decided}")
    try:
        if scale != 1:
            scenario = dataclasses.replace(scenario, city=scenario.city.scaled(scale))
    except LaotieError as err:
        raise ScenarioError(f"{path}: scale = {scale!r}: {err}") from None
    try:
        scenario = scenario.replace(**changes)
    except LaotieError as err:
        raise ScenarioError(f"{path}: [set] {err}") from None
    options = {k: v for k, v in data.items() if k not in {"scenario", "scale", "set"}}
    return OptimiseSpec(scenario, where=str(path), **options)


def _integer(where: str, key: str, value: Any, low: int, high: int | None = None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        upto = f" and ≤ {high:,}" if high is not None else ""
        raise ScenarioError(f"{where}: {key} = {value!r}; expected an integer ≥ {low}{upto}")
    return value
