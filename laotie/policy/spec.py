"""What ``laotie optimise`` runs: a policy-design spec file (TOML).

A spec names the scenario, what the policy chooses, the objective, the budget and the
replications of each phase; :func:`load_optimise` reads and checks it before anything runs,
and :func:`laotie.policy.run.run_optimise` runs it, resumably.

Example (``experiments/policy/train_poverty_county.toml``)::

    scenario = "poverty_county"   # a shipped scenario, or a .toml file beside this spec
    scale = 0.05                  # of the scenario's city (default 1)
    seed = 1                      # every phase's replications and the random heuristic
    target = "train"              # creators to train on training.day ("operators":
                                  # regions whose media operators are trained; "seeds":
                                  # residents told every government message; "enrol":
                                  # producers to enrol; "levers")
    objective = "producer_net_total"
    budget = 10                   # creators (each costs 1)
    replications = 8              # per set while choosing
    fresh = 16                    # per policy in the comparison, none used while choosing

    [set]                         # changes to the scenario, as laotie run --set
    "training.day" = 30

A spec of ``target = "levers"`` (``experiments/policy/levers_poverty_county.toml``) searches
numeric parameters within ranges instead (:func:`laotie.policy.tune`)::

    scenario = "poverty_county"
    scale = 0.05
    seed = 1
    target = "levers"
    objective = "producer_net_total"   # or { producer_net_total = "maximize", ... }
    trials = 16                   # settings tried (default 40)
    batch = 4                     # trials asked of optuna together (default 4)
    replications = 4              # per trial
    fresh = 8                     # per setting in the comparison with the scenario's own

    [levers]                      # dotted keys and [low, high]
    "policy.head_cap" = [0.1, 0.6]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LaotieError, ScenarioError
from ..results import OUTCOME_COLUMNS
from ..scenario import Scenario
from ..sweep.spec import read_spec, spec_scenario
from .levers import DIRECTIONS, Lever, levers
from .training import PROGRAMMES

__all__ = ["TARGETS", "OptimiseSpec", "load_optimise"]

TARGETS = {
    "train": "creators to train on training.day (laotie.policy.TrainingProgramme)",
    "operators": "regions whose government accounts' operators are trained on "
    "information.training_day (laotie.policy.OperatorProgramme)",
    "seeds": "residents given every government message on its posting day, seeds of its "
    "cascade (laotie.policy.SeedProgramme)",
    "enrol": "rural residents enrolled as poor producers, their specialties listed online "
    "(laotie.policy.EnrolmentProgramme)",
    "levers": "numeric parameters within ranges, searched by optuna (laotie.policy.tune)",
}
"""What a policy can choose, and what it means."""

_SETS = tuple(PROGRAMMES)
"""The targets that are sets chosen within a budget (by greedy selection)."""

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
    "levers",
    "trials",
    "set",
}

_ONLY = {
    "budget": _SETS,
    "shortlist": _SETS,
    "contenders": _SETS,
    "stop": _SETS,
    "levers": ("levers",),
    "trials": ("levers",),
}
"""Keys that mean something for some targets only, refused in a spec of another."""

_BATCH = {"train": 1, "operators": 1, "seeds": 1, "enrol": 1, "levers": 4}
_TRIALS = 40

_DECIDED = {
    "training.rule": "the policy chooses whom to train (target); leave the rule out",
    "training.n_creators": "the budget decides how many creators are trained; set budget",
    "producers.n_producers": "the policy chooses the producers (target); set budget",
    "information.training_rule": "the policy chooses whose operators are trained (target); "
    "leave the rule out",
    "run.seed": "the spec's seed decides every replication (graph_seed the graph); set seed",
    "run.days": "set days instead (days per run, default the scenario's)",
}
"""Scenario keys a spec's own keys decide, refused in its ``[set]`` table (they would be
ignored); those of :data:`_DECIDED_BY` only for its targets (a levers spec may set who is
trained)."""

_SUPPLIED_BY = {cls.RULE: target for target, cls in PROGRAMMES.items() if cls.RULE is not None}
"""The rules ``"targeted"``, and the target that gives each its targets."""

_DECIDED_BY = {
    "training.rule": ("train",),
    "training.n_creators": ("train",),
    "information.training_rule": ("operators",),
    "producers.n_producers": ("enrol",),
}


def _takes(target: str, key: str) -> bool:
    """Whether a spec of ``target`` takes ``key``."""
    return target in _ONLY.get(key, (target,))


def _only_for(where: str, key: str, value: Any, target: str) -> ScenarioError:
    """The error for a key of another target."""
    allowed = sorted(k for k in _KEYS if _takes(target, k))
    *others, last = map(repr, _ONLY[key])
    which = f"{', '.join(others)} or {last}" if others else last
    return ScenarioError(
        f"{where}: {key} = {value!r}; only target {which} takes {key} (target "
        f"{target!r} takes: {', '.join(allowed)})"
    )


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
    objective : str or dict, default "producer_net_total"
        An outcome column, or weights of several (non-zero; negative for one to lower),
        maximised; for target ``"levers"`` also a dict of outcomes to ``"maximize"`` or
        ``"minimize"`` (two or more: a Pareto front).
    budget : float, default 10
        The most the chosen targets may cost together (≥ 1: each creator, region, resident
        or producer costs 1). Targets of sets (``"train"``, ``"operators"``, ``"seeds"``,
        ``"enrol"``) only, as are ``shortlist``, ``contenders`` and ``stop``.
    replications : int, default 8
        Replications per set (or trial) while choosing (≥ 2).
    fresh : int, default 16
        Replications per policy (or setting) in the comparison (≥ 2).
    shortlist : int, default 40
        Candidates the simulation judges (:func:`laotie.policy.shortlist`).
    contenders : int, default 2
        As for :func:`laotie.policy.greedy`.
    batch : int, optional
        Targets of sets: as for
        :func:`laotie.policy.greedy` (default 1); ``"levers"``: trials asked of optuna
        together (default 4; with several objectives, NSGA-II's population, ≥ 2).
    stop : bool, default True
        Stop choosing when no candidate's mean gain is positive; False spends the budget.
    levers : dict of str to (float, float), optional
        Target ``"levers"`` only (and required there): by dotted key, the range to search
        (:func:`laotie.policy.levers` checks them against the scenario, for runs of ``days``).
    trials : int, optional
        Target ``"levers"`` only: the settings tried (default 40).
    where : str, default "optimise"
        Where the spec came from, for messages.

    Attributes
    ----------
    checked_levers : tuple of Lever
        Target ``"levers"``: the levers, checked (empty for the others).

    Raises
    ------
    ScenarioError
        For a value that is not allowed, naming the key, the value and what is allowed; for
        a key of another target (at a value other than its default); for a scenario whose
        training changes nothing (targets ``"train"``, ``"operators"``: or whose training day
        falls outside the runs, or that posts no message within them; ``"seeds"``: that posts
        no message within them), or an objective the runs never define (a monthly repurchase
        rate in runs of 60 days or fewer).
    """

    scenario: Scenario
    seed: int = 0
    graph_seed: int | None = None
    days: int | None = None
    target: str = "train"
    objective: str | Mapping[str, float] | Mapping[str, str] = "producer_net_total"
    budget: float = 10
    replications: int = 8
    fresh: int = 16
    shortlist: int = 40
    contenders: int = 2
    batch: int | None = None
    stop: bool = True
    levers: Mapping[str, Sequence[float]] | None = None
    trials: int | None = None
    where: str = field(default="optimise", compare=False)
    checked_levers: tuple[Lever, ...] = field(default=(), init=False, compare=False, repr=False)

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
        if not isinstance(self.target, str) or self.target not in TARGETS:
            raise ScenarioError(
                f"{w}: target = {self.target!r}; expected one of {', '.join(map(repr, TARGETS))}"
            )
        for key, takes in _SUPPLIED_BY.items():
            if self.scenario.flat()[key] == "targeted" and self.target != takes:
                raise ScenarioError(
                    f"{w}: {key} = 'targeted' trains the targets a policy gives, and only "
                    f"target {takes!r} gives them; set another rule, or target = {takes!r}"
                )
        for key in _ONLY:
            default = next(f.default for f in dataclasses.fields(self) if f.name == key)
            value = getattr(self, key)
            if not _takes(self.target, key) and value != default:
                raise _only_for(w, key, value, self.target)
        levers_ = self.target == "levers"
        weights = {self.objective: 1.0} if isinstance(self.objective, str) else self.objective
        if not isinstance(weights, Mapping) or not weights:
            raise ScenarioError(
                f"{w}: objective = {self.objective!r}; expected an outcome's name or a table "
                "of outcomes and weights"
                + (" (or of outcomes and 'maximize' or 'minimize')" if levers_ else "")
            )
        directed = [isinstance(v, str) for v in weights.values()]
        for name, weight in weights.items():
            if name not in OUTCOME_COLUMNS:
                raise ScenarioError(
                    f"{w}: objective {name!r} is not an outcome; outcomes: "
                    + ", ".join(OUTCOME_COLUMNS)
                )
            if levers_ and any(directed):
                if weight not in DIRECTIONS:
                    raise ScenarioError(
                        f"{w}: objective {name} = {weight!r}; expected 'maximize' or 'minimize' "
                        "for each outcome (a Pareto front), or numbers for all (weights)"
                    )
                continue
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise ScenarioError(
                    f"{w}: objective weight {name} = {weight!r}; expected a number"
                    + (
                        ""
                        if levers_ or weight not in DIRECTIONS
                        else " (directions, for a Pareto front, are for target 'levers')"
                    )
                )
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
                f"{w}: budget = {self.budget!r}; expected a number ≥ 1 (each target costs 1: "
                "a smaller budget buys nothing)"
            )
        _integer(w, "replications", self.replications, 2, 10_000)
        _integer(w, "fresh", self.fresh, 2, 10_000)
        _integer(w, "shortlist", self.shortlist, 1, 100_000)
        _integer(w, "contenders", self.contenders, 0, 1_000)
        if self.batch is None:
            object.__setattr__(self, "batch", _BATCH[self.target])
        _integer(w, "batch", self.batch, 1, 1_000)
        if not isinstance(self.stop, bool):
            raise ScenarioError(f"{w}: stop = {self.stop!r}; expected true or false")
        self._check_monthly(weights)
        if levers_:
            self._check_levers(len(weights) if all(directed) else 1)
            return
        # The spec builds the graph from the city (a programme checks its graph's accounts).
        if (
            self.target == "operators"
            and not self.scenario.graph.file
            and self.scenario.city.gov_accounts_per_region == 0
        ):
            raise ScenarioError(
                f"{w}: city.gov_accounts_per_region = 0: no region has a government account, "
                "so there is no operator to train; set it to 1 or more"
            )
        kind = PROGRAMMES[self.target]
        why = kind.objective_problem(weights) or kind.problem(
            self.scenario, self.run_days, " in the [set] table"
        )
        if why is not None:
            raise ScenarioError(f"{w}: {why}")

    def _check_monthly(self, weights: Mapping[str, Any]) -> None:
        """Refuse a monthly repurchase rate as objective in runs too short to define it."""
        from ..engine.rules.month import MONTH_DAYS

        days = self.run_days
        monthly = [name for name in weights if name.startswith("monthly_repurchase_")]
        if monthly and days <= 2 * MONTH_DAYS:
            raise ScenarioError(
                f"{self.where}: objective {monthly[0]} is first recorded on day "
                f"{2 * MONTH_DAYS} (a month's buyers who buy again in the next), so runs of "
                f"{days} days never define it; lengthen days beyond {2 * MONTH_DAYS}"
            )

    def _check_levers(self, objectives: int) -> None:
        """Check a levers spec's levers (against the scenario, for runs of ``days``), trials
        and batch."""
        w = self.where
        if self.trials is None:
            object.__setattr__(self, "trials", _TRIALS)
        _integer(w, "trials", self.trials, 1, 100_000)
        if objectives > 1 and self.batch is not None and self.batch < 2:
            raise ScenarioError(
                f"{w}: batch = {self.batch} with {objectives} objectives; expected an integer "
                "≥ 2 (NSGA-II's population)"
            )
        ranges = self.levers
        if ranges is None:
            raise ScenarioError(
                f"{w}: levers is missing; expected a [levers] table of dotted keys and "
                '[low, high], such as "policy.head_cap" = [0.1, 0.6]'
            )
        if not isinstance(ranges, Mapping) or not ranges:
            raise ScenarioError(
                f"{w}: levers = {ranges!r}; expected a table of dotted keys and [low, high], "
                'such as "policy.head_cap" = [0.1, 0.6]'
            )
        try:
            given: Any = dict(ranges)  # checked by levers(): each a [low, high] of numbers
            found = levers(self.scenario, given, days=self.run_days)
        except LaotieError as err:
            raise ScenarioError(f"{w}: [levers] {str(err).removeprefix('levers: ')}") from None
        object.__setattr__(self, "checked_levers", found)

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
        fields = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.compare and _takes(self.target, f.name)
        }
        objective = self.objective
        extra: dict[str, Any] = {}
        if self.target == "levers":
            extra["levers"] = {lever.key: [lever.low, lever.high] for lever in self.checked_levers}
        return (
            fields
            | {
                "scenario": self.scenario.to_dict(),
                "objective": objective if isinstance(objective, str) else dict(objective),
                "graph_seed": self.seed if self.graph_seed is None else self.graph_seed,
                "days": self.run_days,
            }
            | extra
        )


def load_optimise(path: str | Path) -> OptimiseSpec:
    """Read a policy-design spec (TOML; the module's docstring shows one).

    Keys: ``scenario`` (required: a shipped name or a ``.toml`` file relative to the spec),
    ``scale``, ``seed``, ``graph_seed``, ``days``, ``target``, ``objective`` (an outcome, or
    a table of outcomes and weights), ``replications``, ``fresh``, ``batch`` and a ``[set]``
    table of dotted scenario keys; for ``target = "train"`` (the default), ``"operators"``,
    ``"seeds"`` and ``"enrol"`` ``budget``, ``shortlist``, ``contenders`` and ``stop``; for
    ``target = "levers"`` a ``[levers]`` table of dotted keys and ``[low, high]``, ``trials``,
    and an objective that may be a table of outcomes and ``"maximize"`` or ``"minimize"`` (a Pareto
    front).

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
        one), a key of another target, a change the scenario refuses, a change of what the
        spec's own keys decide (``run.seed``, ``run.days``; ``training.rule`` and
        ``training.n_creators`` for target ``"train"``, ``information.training_rule`` for
        ``"operators"``), a lever the scenario refuses (with
        the nearest key) and every value :class:`OptimiseSpec` refuses.
    """
    path = Path(path)
    data = read_spec(path, "optimise", _KEYS, ("scenario",))
    target = data.get("target", "train")
    if isinstance(target, str) and target in TARGETS:
        for key in data:
            if not _takes(target, key):
                raise _only_for(str(path), key, data[key], target)
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
    changes = _dotted(changes, f"{path}: [set]", scenario.flat())
    for key, decided in _DECIDED.items():
        if key in changes and target in _DECIDED_BY.get(key, (target,)):
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
    if isinstance(options.get("levers"), dict):
        options["levers"] = _dotted(options["levers"], f"{path}: [levers]", scenario.flat())
    return OptimiseSpec(scenario, where=str(path), **options)


def _dotted(
    table: Mapping[str, Any], where: str, known: Mapping[str, Any], prefix: str = ""
) -> dict[str, Any]:
    """A TOML table's keys as dotted keys: ``policy.head_cap = [...]`` written without quotes
    is a table ``policy`` holding ``head_cap``. A table under a parameter's own key stays its
    value (for the checks to refuse it as such), and a key given twice (quoted and as a
    table) is refused, naming ``where``."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        found = (
            _dotted(value, where, known, f"{dotted}.")
            if isinstance(value, dict) and dotted not in known
            else {dotted: value}
        )
        for twice in found.keys() & flat.keys():
            raise ScenarioError(
                f"{where} {twice} is given twice ({flat[twice]!r} and {found[twice]!r}); "
                "expected one value for each key"
            )
        flat |= found
    return flat


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
