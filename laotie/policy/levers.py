"""Continuous levers: how far to turn a scenario's numeric parameters, searched by optuna.

A lever is a numeric parameter of the scenario (``policy.head_cap``,
``policy.discovery_per_active``, ``training.follower_gain``, ...) with the range a planner may
set it in (:class:`Lever`, checked against the scenario by :func:`levers`). A setting of the
levers is judged by simulation (:class:`LeverProgramme`): one lockstep engine of
``replications`` replications on one fixed city graph, replication ``r`` with the same seed
for every setting (common random numbers), so that two settings differ, replication by
replication, by what turning the levers changes.

:func:`tune` leaves the search to optuna: its TPE sampler for one objective, NSGA-II and the
Pareto front (``study.best_trials``) for several (income against inequality, say). Trials are
asked in batches of a fixed size, evaluated together (on the evaluator's executor) and told
in trial order, so the search does not depend on the number of workers. Its choice is then
evaluated beside the scenario's own setting on fresh replications (:func:`phase_seed`: the
*select* phase tunes, the *evaluate* phase judges), paired, with 95 % intervals: the best
trial's value on the replications that chose it is biased upwards (the winner's curse).
"""

from __future__ import annotations

import contextlib
import logging
import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import LaotieError, ScenarioError
from ..results import OUTCOME_BOUNDS, OUTCOME_COLUMNS
from .compare import _check_seed, phase_seed

if TYPE_CHECKING:
    from ..executors import Executor
    from ..graph import TrustGraph
    from ..scenario import Scenario

__all__ = ["DIRECTIONS", "EvaluateSettings", "Lever", "LeverProgramme", "Tuned", "levers", "tune"]

DIRECTIONS = ("maximize", "minimize")
"""The directions of an objective (optuna's words)."""

EvaluateSettings = Callable[[Sequence[Mapping[str, float]], int, int], np.ndarray]
"""``evaluate(settings, seed, replications)``: each setting's objectives in each replication,
of shape ``(len(settings), replications)`` for one objective or ``(len(settings),
n_objectives, replications)``; replication ``r`` of every setting shares its random numbers.
A setting is a dict of lever keys to values."""

# Sections a lever cannot be in: the graph is built once for every trial, and the number of
# days and the seeds are tune's own arguments.
_NOT_LEVERS = {
    "city": "it builds the city graph, which is the same for every trial",
    "run": "tune's days, seed and replications decide the runs",
}


@dataclass(frozen=True)
class Lever:
    """A numeric parameter and the range a search may set it in.

    Parameters
    ----------
    key : str
        The parameter's dotted key (``"policy.head_cap"``), or any name for an evaluator of
        one's own.
    low, high : float
        The range, inclusive, ``low < high``.
    integer : bool, default False
        Whether the parameter takes whole numbers (then ``low`` and ``high`` are integers).
    current : float, optional
        The value it has now: the baseline the search's choice is compared with (default:
        the middle of the range).

    Raises
    ------
    LaotieError
        For bounds that are not finite numbers with ``low < high``, or a current value that
        is not a finite number (whole numbers for an integer lever).
    """

    key: str
    low: float
    high: float
    integer: bool = False
    current: float | None = None

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(value)
                or (self.integer and not float(value).is_integer())
            ):
                kind = "a whole number" if self.integer else "a finite number"
                raise LaotieError(f"lever {self.key}: {name} = {value!r}; expected {kind}")
        if not self.low < self.high:
            raise LaotieError(
                f"lever {self.key}: the range ({self.low!r}, {self.high!r}) is empty; expected "
                "low < high"
            )
        if self.current is None:
            middle = (self.low + self.high) / 2
            object.__setattr__(self, "current", round(middle) if self.integer else middle)
        elif (
            isinstance(self.current, bool | np.bool_)
            or not isinstance(self.current, numbers.Real)
            or not math.isfinite(self.current)
            or (self.integer and not float(self.current).is_integer())
        ):
            kind = "a whole number" if self.integer else "a finite number"
            raise LaotieError(
                f"lever {self.key}: current = {self.current!r}; expected {kind} (the baseline)"
            )


def levers(
    scenario: Scenario, ranges: Mapping[str, tuple[float, float]], *, days: int | None = None
) -> tuple[Lever, ...]:
    """The levers of ``scenario``: each key's range, checked against its declaration.

    Parameters
    ----------
    scenario : Scenario
        Gives each lever its declaration and its current value (the baseline).
    ranges : dict of str to (float, float)
        By dotted key (:meth:`Scenario.flat`), the range ``(low, high)`` to search.
    days : int, optional
        Days per run (default: the scenario's ``run.days``): a training lever must have its
        training day within them.

    Returns
    -------
    tuple of Lever
        In the order of ``ranges``.

    Raises
    ------
    LaotieError
        For an unknown key (with the nearest valid one), a parameter that is not numeric (a
        choice, true/false), one of the city (the graph is fixed) or of ``run``, a range that
        is not two numbers with low < high, or a training parameter when the scenario trains
        nobody within its run.
    ScenarioError
        For a range that leaves the parameter's bounds, naming the key, the value and what
        is allowed.
    """
    from ..params import did_you_mean

    if not isinstance(ranges, Mapping) or not ranges:
        raise LaotieError(
            f"levers: ranges = {ranges!r}; expected a dict of dotted keys to (low, high), such "
            "as {'policy.head_cap': (0.1, 0.5)}"
        )
    flat = scenario.flat()
    declared = {
        f"{name}.{key}": declaration
        for name, kind in scenario.sections().items()
        for key, declaration in kind.params().items()
    }
    found = []
    for key, bounds in ranges.items():
        section = str(key).partition(".")[0]
        if section in _NOT_LEVERS and key in declared:
            raise LaotieError(f"levers: {key} cannot be a lever: {_NOT_LEVERS[section]}")
        if key not in flat:
            raise LaotieError(
                f"levers: unknown parameter {key!r}{did_you_mean(key, list(flat))} (see "
                "laotie params)"
            )
        declaration = declared[key]
        if declaration.kind not in (int, float) or declaration.choices is not None:
            raise LaotieError(
                f"levers: {key} = {flat[key]!r} is not a numeric parameter "
                f"({declaration.allowed()}); a lever is a number or a whole number"
            )
        if isinstance(bounds, np.ndarray) and bounds.ndim == 1:
            bounds = tuple(bounds.tolist())
        if isinstance(bounds, str) or not isinstance(bounds, Sequence) or len(bounds) != 2:
            raise LaotieError(f"levers: the range of {key} is {bounds!r}; expected (low, high)")
        lever = Lever(key, bounds[0], bounds[1], integer=declaration.kind is int, current=flat[key])
        for end in (lever.low, lever.high):
            try:
                scenario.replace(**{key: end})
            except ScenarioError as err:
                raise ScenarioError(
                    f"levers: the range of {key}, ({lever.low!r}, {lever.high!r}), leaves the "
                    f"parameter's bounds: {err}"
                ) from None
        found.append(lever)
    _check_training(scenario, [lever.key for lever in found], days)
    return tuple(found)


def _check_training(scenario: Scenario, keys: list[str], days: int | None = None) -> None:
    """Refuse training levers when the scenario trains nobody within its run (they could not
    matter)."""
    training = [k for k in keys if k.startswith("training.")]
    if not training or "training.day" in keys:
        return
    t = scenario.training
    days = scenario.run.days if days is None else days
    if not 0 <= t.day < days:
        raise LaotieError(
            f"levers: {training[0]} cannot matter: training.day = {t.day} does not fall within "
            f"the {days} days of the run; set training.day"
        )
    if t.n_creators == 0 and "training.n_creators" not in keys:
        raise LaotieError(f"levers: {training[0]} cannot matter: training.n_creators = 0; set it")


def _objectives(objectives: Any) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    """Objectives' directions and, for each, the weights of the outcomes it sums.

    A str is that outcome, maximised; a dict of outcomes to numbers is their weighted sum,
    ``"objective"``, maximised; a dict of outcomes to directions names each objective.
    """
    from ..params import did_you_mean

    if isinstance(objectives, str):
        spec: dict[str, Any] = {objectives: 1.0}
    elif isinstance(objectives, Mapping) and objectives:
        spec = dict(objectives)
    else:
        raise LaotieError(
            f"levers: objectives = {objectives!r}; expected an outcome, a dict of outcomes to "
            "weights, or a dict of outcomes to 'maximize' or 'minimize'"
        )
    for name in spec:
        if name not in OUTCOME_COLUMNS:
            raise LaotieError(
                f"levers: objective {name!r} is not an outcome"
                f"{did_you_mean(name, OUTCOME_COLUMNS)} (outcomes: {', '.join(OUTCOME_COLUMNS)})"
            )
    directed = [isinstance(v, str) for v in spec.values()]
    if all(directed):
        for name, direction in spec.items():
            if direction not in DIRECTIONS:
                raise LaotieError(
                    f"levers: the direction of {name} is {direction!r}; expected "
                    f"{' or '.join(map(repr, DIRECTIONS))}"
                )
        return dict(spec), {name: {name: 1.0} for name in spec}
    if any(directed):
        raise LaotieError(
            "levers: objectives mix weights and directions; give weights of one objective "
            "(negative for an outcome to lower) or a direction for each of several"
        )
    for name, weight in spec.items():
        if (
            isinstance(weight, bool)
            or not isinstance(weight, numbers.Real)
            or not math.isfinite(weight)
            or weight == 0
        ):
            raise LaotieError(
                f"levers: the weight of {name} is {weight!r}; expected a finite number other "
                "than 0 (negative for an outcome to lower, such as an inequality)"
            )
    key = next(iter(spec)) if len(spec) == 1 and spec[next(iter(spec))] == 1 else "objective"
    return {key: "maximize"}, {key: {name: float(w) for name, w in spec.items()}}


@dataclass
class LeverProgramme:
    """Settings of the levers, evaluated by simulation (an :data:`EvaluateSettings`).

    Parameters
    ----------
    scenario : Scenario
        Every parameter other than the levers.
    graph : TrustGraph
        The city, the same for every setting and replication.
    objectives : str or dict
        An outcome column (:data:`laotie.results.OUTCOME_COLUMNS`), maximised; a dict of
        outcomes to weights, their weighted sum maximised (negative for an outcome to lower);
        or a dict of outcomes to ``"maximize"`` or ``"minimize"``, each its own objective (two
        or more: a Pareto front).
    days : int, optional
        Days per run (default: the scenario's ``run.days``).
    executor : Executor, optional
        Where the settings' engines run (default: this process).

    Attributes
    ----------
    directions : dict of str to str
        Each objective's direction, in order.

    Raises
    ------
    LaotieError
        For an unknown outcome (with the nearest one), a bad weight (not a finite number, or
        0) or direction, days that are not an integer ≥ 1, or a monthly repurchase rate as
        objective in runs too short to define it (60 days or fewer).
    """

    scenario: Scenario
    graph: TrustGraph
    objectives: str | Mapping[str, float] | Mapping[str, str] = "producer_net_total"
    days: int | None = None
    executor: Executor | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.directions, self.weights = _objectives(self.objectives)
        days = self.scenario.run.days if self.days is None else self.days
        if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
            raise LaotieError(f"levers: days = {days!r}; expected an integer ≥ 1")
        self.days = int(days)
        from ..engine.rules.month import MONTH_DAYS

        monthly = [
            name
            for weights in self.weights.values()
            for name in weights
            if name.startswith("monthly_repurchase_")
        ]
        if monthly and self.days <= 2 * MONTH_DAYS:
            raise LaotieError(
                f"levers: objective {monthly[0]} is first recorded on day {2 * MONTH_DAYS}, so "
                f"runs of {self.days} days never define it; lengthen days beyond {2 * MONTH_DAYS}"
            )

    def levers(self, ranges: Mapping[str, tuple[float, float]]) -> tuple[Lever, ...]:
        """The scenario's levers (:func:`levers`), judged for runs of the programme's days
        (a training lever must fall within them).

        Parameters
        ----------
        ranges : dict of str to (float, float)

        Returns
        -------
        tuple of Lever
        """
        return levers(self.scenario, ranges, days=self.days)

    def __call__(
        self, settings: Sequence[Mapping[str, float]], seed: int, replications: int
    ) -> np.ndarray:
        """Each setting's objectives in each replication.

        Parameters
        ----------
        settings : sequence of dict of str to float
            Values of dotted keys, each setting one engine of the scenario with them.
        seed : int
            Replication ``r`` runs with the ``r``-th child of ``SeedSequence(seed)``, the same
            for every setting.
        replications : int

        Returns
        -------
        numpy.ndarray
            Shape ``(len(settings), len(directions), replications)``.

        Raises
        ------
        ScenarioError
            For a value the scenario refuses.
        LaotieError
            For an objective undefined in a run (NaN), or a setting whose runs failed.
        """
        out = np.empty((len(settings), len(self.directions), replications))
        for i, values in self.each(settings, seed, replications):
            out[i] = values
        return out

    def each(
        self, settings: Sequence[Mapping[str, float]], seed: int, replications: int
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Each setting's objectives in each replication, as the setting's runs finish (what
        :class:`laotie.policy.Stored` stores at once).

        Parameters
        ----------
        settings, seed, replications
            As for calling the programme (a setting may also be a sequence of ``(key,
            value)`` pairs).

        Yields
        ------
        tuple of (int, numpy.ndarray)
            The setting's position in ``settings`` and its values, of shape
            ``(len(directions), replications)``, in the order the settings finish.

        Raises
        ------
        ScenarioError
            For a value the scenario refuses (before anything runs).
        LaotieError
            For an objective undefined in a run (NaN), or a setting whose runs failed.
        """
        from ..executors import executor_for

        scenarios = [self.scenario.replace(**dict(values)) for values in settings]
        executor = self.executor or executor_for(1)
        tasks = [(i, self, s, int(seed), int(replications)) for i, s in enumerate(scenarios)]
        for (i, *_), answer in executor.map(_run_setting, tasks):
            if not isinstance(answer, np.ndarray):
                raise LaotieError(f"levers: the runs of {dict(settings[i])} failed ({answer})")
            yield i, answer


def _run_setting(task: tuple[int, LeverProgramme, Scenario, int, int]) -> Any:
    """One setting's lockstep engine: its objectives in every replication."""
    from .training import lockstep_objectives

    _, programme, scenario, seed, replications = task
    return lockstep_objectives(
        programme.graph,
        scenario,
        seed,
        replications,
        int(programme.days or 0),
        list(programme.weights.values()),
        "levers: {name} is not defined in replication {r}",
    )


@dataclass
class Tuned:
    """What :func:`tune` found.

    Attributes
    ----------
    levers : tuple of Lever
    directions : dict of str to str
        Each objective's direction.
    trials : pandas.DataFrame
        One row per trial, in order: ``trial``, each lever's value, and for each objective
        its mean over the select phase's replications with ``<objective>_low`` and
        ``<objective>_high`` (95 % t interval; an objective named after an outcome is kept
        within what the outcome can take, :data:`laotie.results.OUTCOME_BOUNDS`); ``chosen``
        marks the best trial (one objective) or the Pareto front (several).
    settings : dict of str to dict
        The settings compared afresh: ``"baseline"`` (the levers' current values), then
        ``"best"`` or ``"front 0"``, ``"front 1"``, ... (the front by its first objective).
    table : pandas.DataFrame
        On the evaluate phase's fresh replications, one row per setting and objective:
        ``setting``, ``objective``, ``direction``, the levers' values, ``n``, ``mean``,
        ``mean_low``, ``mean_high``, and ``difference`` from the baseline (paired) with
        ``difference_low`` and ``difference_high`` (95 %), and ``relative``.
    values : dict of str to pandas.DataFrame
        By objective, those replications' values: one row per replication, one column per
        setting.
    """

    levers: tuple[Lever, ...]
    directions: dict[str, str]
    trials: pd.DataFrame
    settings: dict[str, dict[str, float]]
    table: pd.DataFrame
    values: dict[str, pd.DataFrame]

    @property
    def best(self) -> dict[str, float]:
        """The best trial's lever values (one objective; with several, see :attr:`settings`).

        Raises
        ------
        LaotieError
            With several objectives (there is a front, not one best).
        """
        if "best" not in self.settings:
            raise LaotieError("levers: several objectives have a Pareto front, not one best")
        return self.settings["best"]


def tune(
    evaluate: EvaluateSettings,
    levers: Sequence[Lever],
    *,
    seed: int,
    trials: int = 40,
    replications: int = 8,
    fresh: int = 16,
    batch: int = 4,
    directions: Mapping[str, str] | None = None,
) -> Tuned:
    """Search the levers' ranges with optuna, then judge the choice on fresh replications.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(settings, seed, replications)`` (:data:`EvaluateSettings`), such as a
        :class:`LeverProgramme`; its executor, if it has one, is kept open for the search.
    levers : sequence of Lever
        What to search (:func:`levers`); their ``current`` values are the baseline.
    seed : int
        The search's seed: optuna's sampler, and each phase's replications
        (:func:`phase_seed`).
    trials : int, default 40
        Settings tried (≥ ``batch``; a multiple of it, or the last batch is smaller).
    replications : int, default 8
        Replications per trial (the select phase), ≥ 2.
    fresh : int, default 16
        Replications per setting in the comparison with the baseline (the evaluate phase,
        none used while searching), ≥ 2.
    batch : int, default 4
        Trials asked of optuna together and evaluated together (in parallel on the
        evaluator's executor); with several objectives, NSGA-II's population. The results
        depend on it, never on the number of workers.
    directions : dict of str to str, optional
        Each objective's name and ``"maximize"`` or ``"minimize"`` (default: the evaluator's
        ``directions``).

    Returns
    -------
    Tuned

    Raises
    ------
    LaotieError
        If optuna is missing, for no lever or two of one key, a bad number of trials,
        replications or batch, missing or bad directions, or an evaluator that returns
        another shape or a value that is not finite.

    Notes
    -----
    One objective: optuna's TPE sampler (``TPESampler(seed=..., constant_liar=True)``, the
    first quarter of the trials, at most 10, drawn at random); several: NSGA-II
    (``NSGAIISampler(seed=..., population_size=batch)``) and the Pareto front of the trials'
    means (``study.best_trials``). Every trial is judged on the same replications (common
    random numbers), so their order is not chance; but the means are estimates, and the best
    of many noisy means is biased upwards, which is why the choice is judged again on fresh
    replications. Assumed: the objective is smooth enough in the levers that a few dozen
    trials find a good region.

    Examples
    --------
    An evaluator of one's own: a known curve, highest at x = 0.3.

    >>> def evaluate(settings, seed, replications):
    ...     x = np.array([s["x"] for s in settings])
    ...     return np.repeat(-((x - 0.3) ** 2)[:, None], replications, axis=1)
    >>> found = tune(
    ...     evaluate, [Lever("x", 0.0, 1.0)], seed=1, trials=20, directions={"fit": "maximize"}
    ... )
    >>> abs(found.best["x"] - 0.3) < 0.1
    True
    """
    try:
        import optuna
    except ImportError:
        raise LaotieError(
            "levers: tune needs optuna; install it with pip install 'laotie[policy]'"
        ) from None
    _check_seed(seed)
    for name, value, least in (
        ("trials", trials, 1),
        ("replications", replications, 2),
        ("fresh", fresh, 2),
        ("batch", batch, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise LaotieError(f"levers: {name} = {value!r}; expected an integer ≥ {least}")
    if isinstance(levers, Mapping | str):
        raise LaotieError(
            f"levers: levers = {levers!r}; expected a sequence of Lever (laotie.policy.levers("
            "scenario, ranges) makes them from a dict of ranges)"
        )
    levers = tuple(levers)
    if not levers:
        raise LaotieError("levers: no lever to tune")
    for lever in levers:
        if not isinstance(lever, Lever):
            raise LaotieError(
                f"levers: {lever!r} is not a Lever; expected Lever(key, low, high) or "
                "laotie.policy.levers(scenario, ranges)"
            )
    keys = [lever.key for lever in levers]
    if len(set(keys)) < len(keys):
        twice = next(k for k in keys if keys.count(k) > 1)
        raise LaotieError(f"levers: {twice} is given twice")
    if directions is None:
        directions = getattr(evaluate, "directions", None)
        if directions is None:
            raise LaotieError(
                "levers: directions = None and the evaluator has none; expected e.g. "
                "{'producer_net_total': 'maximize'}"
            )
    if not isinstance(directions, Mapping):
        raise LaotieError(
            f"levers: directions = {directions!r}; expected a dict of objective names to "
            "'maximize' or 'minimize'"
        )
    directions = dict(directions)
    if not directions:
        raise LaotieError("levers: no objective; expected at least one direction")
    for name, direction in directions.items():
        if direction not in DIRECTIONS:
            raise LaotieError(
                f"levers: the direction of {name} is {direction!r}; expected "
                f"{' or '.join(map(repr, DIRECTIONS))}"
            )
    several = len(directions) > 1
    if several and batch < 2:
        raise LaotieError(
            f"levers: batch = {batch} with {len(directions)} objectives; NSGA-II's population "
            "needs at least 2"
        )
    names = list(directions)
    sampler_seed = int(
        np.random.SeedSequence(int(seed), spawn_key=(2**31 + 13,)).generate_state(1)[0]
    )
    if several:
        sampler: Any = optuna.samplers.NSGAIISampler(seed=sampler_seed, population_size=batch)
    else:
        sampler = optuna.samplers.TPESampler(
            seed=sampler_seed, constant_liar=True, n_startup_trials=min(10, max(1, trials // 4))
        )

    def run(settings: list[dict[str, float]], phase: str, n: int) -> np.ndarray:
        values = np.asarray(evaluate(settings, phase_seed(seed, phase), n), dtype=float)
        if values.ndim == 2 and not several:
            values = values[:, None, :]
        if values.shape != (len(settings), len(names), n):
            raise LaotieError(
                f"levers: evaluate returned shape {values.shape}; expected "
                f"({len(settings)}, {len(names)}, {n})"
                + ("" if several else f" or ({len(settings)}, {n})")
            )
        if not np.isfinite(values).all():
            raise LaotieError("levers: evaluate returned a value that is not finite")
        return values

    distributions: dict[str, Any] = {
        lever.key: optuna.distributions.IntDistribution(int(lever.low), int(lever.high))
        if lever.integer
        else optuna.distributions.FloatDistribution(float(lever.low), float(lever.high))
        for lever in levers
    }
    told: list[tuple[dict[str, float], np.ndarray]] = []
    with contextlib.ExitStack() as kept:
        executor = getattr(evaluate, "executor", None)
        if executor is not None:
            kept.enter_context(executor)
        kept.enter_context(_quiet(optuna))
        ordered: list[Any] = [directions[name] for name in names]
        study = optuna.create_study(directions=ordered, sampler=sampler)
        while len(told) < trials:
            asked = [study.ask(distributions) for _ in range(min(batch, trials - len(told)))]
            settings = [{key: trial.params[key] for key in keys} for trial in asked]
            values = run(settings, "select", replications)
            for trial, setting, row in zip(asked, settings, values, strict=True):
                means = row.mean(axis=1)
                study.tell(trial, means.tolist() if several else float(means[0]))
                told.append((setting, row))
        chosen_numbers = sorted(t.number for t in study.best_trials)
        table = _trials_table(told, keys, names, set(chosen_numbers))
        base: dict[str, float] = {
            lever.key: lever.current for lever in levers if lever.current is not None
        }
        if several:
            front = table[table["chosen"]].sort_values([names[0], "trial"], kind="stable")
            picked = {f"front {i}": told[int(number)][0] for i, number in enumerate(front["trial"])}
        else:
            picked = {"best": told[study.best_trial.number][0]}
        settings_compared = {"baseline": dict(base)} | picked
        fresh_values = run(list(settings_compared.values()), "evaluate", fresh)
    return Tuned(
        levers,
        directions,
        table,
        settings_compared,
        *_comparison(settings_compared, fresh_values, keys, directions),
    )


@contextlib.contextmanager
def _quiet(optuna: Any) -> Any:
    """optuna's per-trial log lines and its warnings about experimental options, silenced
    for the search only (its verbosity is restored after)."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def _trials_table(
    told: list[tuple[dict[str, float], np.ndarray]],
    keys: list[str],
    names: list[str],
    chosen: set[int],
) -> pd.DataFrame:
    """One row per trial: its levers, each objective's mean and 95 % t interval."""
    from ..stats import t_interval

    rows = []
    for number, (setting, values) in enumerate(told):
        row: dict[str, Any] = {"trial": number} | setting
        for j, name in enumerate(names):
            floor, ceiling = OUTCOME_BOUNDS.get(name, (-np.inf, np.inf))
            mean, low, high = t_interval(values[j])
            row[name] = mean
            row[f"{name}_low"] = max(low, floor) if np.isfinite(low) else low
            row[f"{name}_high"] = min(high, ceiling) if np.isfinite(high) else high
        row["chosen"] = number in chosen
        rows.append(row)
    return pd.DataFrame(rows)


def _comparison(
    settings: dict[str, dict[str, float]],
    values: np.ndarray,
    keys: list[str],
    directions: dict[str, str],
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Each setting against the baseline, objective by objective, paired over the fresh
    replications."""
    from ..stats import paired

    frames, tables = {}, []
    for j, (name, direction) in enumerate(directions.items()):
        frame = pd.DataFrame(values[:, j, :].T, columns=list(settings))
        frames[name] = frame
        bounds = OUTCOME_BOUNDS.get(name, (None, None))
        table = paired(frame, "baseline", bounds=bounds).rename_axis("setting").reset_index()
        table.insert(1, "objective", name)
        table.insert(2, "direction", direction)
        for i, key in enumerate(keys):
            table.insert(3 + i, key, [settings[s][key] for s in table["setting"]])
        tables.append(table)
    return pd.concat(tables, ignore_index=True), frames
