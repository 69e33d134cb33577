"""Whom to train or reach: sets of targets judged by simulation, creators (the rule
``targeted`` of ``training.rule``, docs/model.md 3.5, "Training"), the government accounts'
operators of regions (the rule ``targeted`` of ``information.training_rule``, "Information")
or residents seeded with the government messages (``Engine(seeds=...)``, "Information").

:class:`TrainingProgramme`, :class:`OperatorProgramme` and :class:`SeedProgramme` are
:data:`~laotie.policy.Evaluate`
for :func:`laotie.policy.greedy` and :func:`laotie.policy.optimise`: each set of targets is
one engine of ``replications`` lockstep replications of the scenario on one fixed city graph,
the set trained on the training day (or seeded on each message's posting day); replication
``r`` has the same seed for every set (common random numbers), so two sets' values differ,
replication by replication, by what targeting them changes. The candidates are the city's
creators (or its regions, or its residents) with the proxies the heuristics rank them by.
"""

from __future__ import annotations

import abc
import itertools
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import LaotieError
from ..results import OUTCOME_COLUMNS
from ..sections import Run

if TYPE_CHECKING:
    from ..executors import Executor
    from ..graph import TrustGraph
    from ..scenario import Scenario

__all__ = [
    "PROGRAMMES",
    "EnrolmentProgramme",
    "OperatorProgramme",
    "SeedProgramme",
    "TrainingProgramme",
]

MAX_DAYS = int(Run.params()["days"].high or 0)
"""The longest run a programme takes: a scenario's own bound on ``run.days``."""


@dataclass
class _Programme(abc.ABC):
    """What every programme of targets shares: the objective's weights checked, the scenario
    refused when no set could matter (:meth:`problem`), the sets checked and their lockstep
    engines run on the executor (:meth:`each`); a programme says what its targets are
    (:meth:`candidates`), how the engine takes them (:attr:`TARGETS`, :attr:`RULE`) and what
    its scenario needs (:meth:`problem`)."""

    scenario: Scenario
    graph: TrustGraph
    objective: str | Mapping[str, float] = "producer_net_total"
    days: int | None = None
    executor: Executor | None = field(default=None, repr=False)
    _known: frozenset[int] | None = field(default=None, init=False, repr=False, compare=False)

    TARGETS: ClassVar[str] = ""
    """The engine's keyword for a set (``Engine(trained=...)``, ``Engine(operators=...)``)."""
    WHAT: ClassVar[str] = ""
    """What one target is, in messages."""
    RULE: ClassVar[str | None] = None
    """The scenario's rule set to ``"targeted"`` for the engine to take the sets (None: the
    engine's keyword alone)."""

    def __post_init__(self) -> None:
        weights = {self.objective: 1.0} if isinstance(self.objective, str) else dict(self.objective)
        unknown = [name for name in weights if name not in OUTCOME_COLUMNS]
        if unknown or not weights:
            raise LaotieError(
                f"policy: objective {unknown[0] if unknown else self.objective!r} is not an "
                f"outcome; outcomes: {', '.join(OUTCOME_COLUMNS)}"
            )
        for name, weight in weights.items():
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float | np.number)
                or not np.isfinite(weight)
            ):
                raise LaotieError(
                    f"policy: the weight of {name} is {weight!r}; expected a finite number "
                    "(negative for an outcome to lower, such as an inequality)"
                )
        why = self.objective_problem(weights)
        if why is not None:
            raise LaotieError(f"policy: {why}")
        self.weights = weights
        if self.days is None:
            self.days = self.scenario.run.days
        elif (
            isinstance(self.days, bool)
            or not isinstance(self.days, int | np.integer)
            or not 1 <= self.days <= MAX_DAYS
        ):
            raise LaotieError(
                f"policy: days = {self.days!r}; expected an integer, 1 ≤ days ≤ {MAX_DAYS:,} "
                "(the days of each run)"
            )
        self.days = int(self.days)
        self.scenario = self._check_scenario(self.scenario, self.days)

    def _check_scenario(self, scenario: Scenario, days: int) -> Scenario:
        """The scenario the sets run, with the rule ``targeted`` (:attr:`RULE`), refusing one
        where no set could matter within ``days`` (:meth:`problem`)."""
        why = self.problem(scenario, days)
        if why is not None:
            raise LaotieError(f"policy: {why}")
        return scenario if self.RULE is None else scenario.replace(**{self.RULE: "targeted"})

    @classmethod
    @abc.abstractmethod
    def problem(cls, scenario: Scenario, days: int, table: str = "") -> str | None:
        """Why no set of targets could change runs of ``days`` days of ``scenario``, or None:
        the one writing of the rule, for the programme and for a spec
        (:class:`~laotie.policy.OptimiseSpec`).

        Parameters
        ----------
        scenario : Scenario
        days : int
        table : str, default ""
            Where a key is set, said after it (a spec's ``" in the [set] table"``).

        Returns
        -------
        str or None
            A sentence naming the key, its value and what to set.
        """

    @classmethod
    def objective_problem(cls, weights: Mapping[str, Any]) -> str | None:
        """Why an objective of these outcomes cannot judge the programme's sets, or None (the
        one writing of the rule, for the programme and for a spec).

        Parameters
        ----------
        weights : dict of str to float
            The objective's outcomes and their weights.

        Returns
        -------
        str or None
            A sentence naming the outcome and what to choose instead.
        """
        return None

    @abc.abstractmethod
    def candidates(self) -> pd.DataFrame:
        """The targets, indexed by id, with ``followers``, ``rural``, ``region`` and
        ``cost``."""

    def __call__(
        self, sets: Sequence[tuple[Hashable, ...]], seed: int, replications: int
    ) -> np.ndarray:
        """The objective of each set in each replication (:data:`laotie.policy.Evaluate`).

        Parameters
        ----------
        sets : sequence of tuple of int
            Target ids (in any order: a set's value does not depend on it).
        seed : int
            Replication ``r`` runs with the ``r``-th child of ``SeedSequence(seed)``, the same
            for every set.
        replications : int

        Returns
        -------
        numpy.ndarray
            Shape ``(len(sets), replications)``.
        """
        out = np.empty((len(sets), replications))
        for i, values in self.each(sets, seed, replications):
            out[i] = values
        return out

    def _checked(self, sets: Sequence[tuple[Hashable, ...]]) -> list[tuple[int, ...]]:
        """Each set's targets as sorted ids, checked before anything runs: candidates
        (:meth:`candidates`), each at most once."""
        if self._known is None:  # the candidates once: a city's residents are many
            self._known = frozenset(self.candidates().index.tolist())
        known = self._known
        out = []
        for targets in sets:
            ids = []
            for target in targets:
                if (
                    isinstance(target, bool | np.bool_)
                    or not isinstance(target, int | np.integer)
                    or int(target) not in known
                ):
                    raise LaotieError(
                        f"policy: the set {tuple(targets)!r} names {target!r}, which is not a "
                        f"candidate {self.WHAT}; expected ids of the programme's candidates() "
                        f"({len(known):,} {self.WHAT}s)"
                    )
                ids.append(int(target))
            ids.sort()
            twice = [a for a, b in itertools.pairwise(ids) if a == b]
            if twice:
                raise LaotieError(
                    f"policy: the set {tuple(targets)!r} names {self.WHAT} {twice[0]} twice; "
                    "expected each target once"
                )
            out.append(tuple(ids))
        return out

    def each(
        self, sets: Sequence[tuple[Hashable, ...]], seed: int, replications: int
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Each set's objective in each replication, as the set's runs finish (what
        :class:`laotie.policy.Stored` stores at once).

        Parameters
        ----------
        sets, seed, replications
            As for calling the programme.

        Yields
        ------
        tuple of (int, numpy.ndarray)
            The set's position in ``sets`` and its values, of shape ``(replications,)``, in
            the order the sets finish.
        """
        from ..executors import executor_for

        executor = self.executor or executor_for(1)
        # Sorted: one listing of each set, the key its stored values are found by (the engine
        # trains a set the same way whatever its order).
        tasks = [(i, self, ids, seed, replications) for i, ids in enumerate(self._checked(sets))]
        for (i, _, ids, _, _), answer in executor.map(_run_set, tasks):
            if not isinstance(answer, np.ndarray):
                raise LaotieError(f"policy: the runs of set {ids} failed ({answer})")
            yield i, answer


@dataclass
class TrainingProgramme(_Programme):
    """Sets of creators to train, evaluated by simulation.

    Parameters
    ----------
    scenario : Scenario
        The scenario; ``training.day`` must fall within the run (the rule is replaced by
        ``"targeted"``; the gains and follower gain are the scenario's).
    graph : TrustGraph
        The city, the same for every set and replication (its creators are the candidates).
    objective : str or dict of str to float
        An outcome column (:data:`laotie.results.OUTCOME_COLUMNS`, e.g.
        ``"producer_net_total"``: poor producers' net income change) or weights of several.
    days : int, optional
        Days per run (default: the scenario's ``run.days``).
    executor : Executor, optional
        Where the sets' engines run (default: this process).

    Raises
    ------
    LaotieError
        For an unknown outcome, a training day outside the run or training that changes
        nothing (every gain 0).
    """

    TARGETS: ClassVar[str] = "trained"
    WHAT: ClassVar[str] = "creator"
    RULE: ClassVar[str | None] = "training.rule"

    @classmethod
    def problem(cls, scenario: Scenario, days: int, table: str = "") -> str | None:
        """A training day outside the runs, or training that changes nothing."""
        training = scenario.training
        if not 0 <= training.day < days:
            return _outside("training.day", training.day, days, table)
        if (
            training.authenticity_gain
            == training.content_quality_gain
            == 0
            == (training.follower_gain)
        ):
            return (
                "training.authenticity_gain, content_quality_gain and follower_gain are all 0: "
                "training a creator changes nothing, so no set is better than another; set one "
                f"of them{table}"
            )
        return None

    def candidates(self) -> pd.DataFrame:
        """The creators living in the city (heads and local creators: those the city can
        train), by node id, with their proxies.

        Returns
        -------
        pandas.DataFrame
            Indexed by node id: ``followers`` (in the graph), ``rural`` (True/False),
            ``region`` (its name), ``kind`` and ``cost`` (1 each).
        """
        from ..graph._core import CREATOR_KINDS, HEAD, LOCAL_CREATOR

        g = self.graph
        nodes = np.flatnonzero((g.creator_kind == HEAD) | (g.creator_kind == LOCAL_CREATOR))
        names = np.asarray(g.region_names, dtype=object)
        return pd.DataFrame(
            {
                "followers": g.followers()[nodes],
                "rural": g.rural[nodes],
                "region": names[g.region[nodes]],
                "kind": np.asarray(CREATOR_KINDS, dtype=object)[g.creator_kind[nodes]],
                "cost": 1.0,
            },
            index=pd.Index(nodes, name="node"),
        )


@dataclass
class OperatorProgramme(_Programme):
    """Sets of regions whose government accounts' operators are trained (县级融媒体: which
    counties' media centres a programme trains), evaluated by simulation.

    Parameters
    ----------
    scenario : Scenario
        The scenario; ``information.training_day`` must fall within the run and
        government messages be posted in it (the rule is replaced by ``"targeted"``; the
        gain is the scenario's ``information.training_gain``).
    graph : TrustGraph
        The city, the same for every set and replication (its regions with government
        accounts are the candidates).
    objective : str or dict of str to float
        An outcome column (:data:`laotie.results.OUTCOME_COLUMNS`, e.g.
        ``"information_rural_reach"``) or weights of several.
    days : int, optional
        Days per run (default: the scenario's ``run.days``).
    executor : Executor, optional
        Where the sets' engines run (default: this process).

    Raises
    ------
    LaotieError
        For an unknown outcome or one messages do not change (not ``information_``), a
        training day outside the run, no message posted within it, a training gain of 0, or
        a graph without government accounts.
    """

    TARGETS: ClassVar[str] = "operators"
    WHAT: ClassVar[str] = "region"

    RULE: ClassVar[str | None] = "information.training_rule"

    @classmethod
    def objective_problem(cls, weights: Mapping[str, Any]) -> str | None:
        """An outcome other than the messages' reach: the same for every set of regions."""
        return _not_information(weights, "whose operators are trained")

    @classmethod
    def problem(cls, scenario: Scenario, days: int, table: str = "") -> str | None:
        """A training day outside the runs, no message posted within them, or a training
        gain of 0 (the graph's government accounts are checked by the programme, which has
        the graph)."""
        info = scenario.information
        if not 0 <= info.training_day < days:
            return _outside("information.training_day", info.training_day, days, table)
        if not _posted(scenario, days):
            return _no_message(scenario, days, "training the operators", table)
        if info.training_gain == 0:
            return (
                "information.training_gain = 0: training an operator changes nothing, so no set "
                f'is better than another; set "information.training_gain"{table}'
            )
        return None

    def __post_init__(self) -> None:
        super().__post_init__()
        from ..graph._core import GOV

        if not (self.graph.creator_kind == GOV).any():
            raise LaotieError(
                "policy: the graph has no government account, so there is no operator to "
                "train (city.gov_accounts_per_region, or the graph file's creator kinds)"
            )

    def candidates(self) -> pd.DataFrame:
        """The regions with government accounts, by region index, with their proxies.

        Returns
        -------
        pandas.DataFrame
            Indexed by region index (into the graph's ``region_names``): ``followers`` (of
            the region's government accounts, in the graph), ``rural`` (the share of the
            region's residents living in rural areas), ``region`` (its name), ``accounts``
            (its government accounts) and ``cost`` (1 each: one media centre).
        """
        from ..graph._core import GOV

        g = self.graph
        gov = np.flatnonzero(g.creator_kind == GOV)
        region = np.asarray(g.region, np.int64)
        ids = np.unique(region[gov])
        n = g.n_regions
        residents = np.bincount(region[g.resident], minlength=n)
        rural = np.bincount(region[g.resident & g.rural], minlength=n)
        return pd.DataFrame(
            {
                "followers": np.bincount(region[gov], weights=g.followers()[gov], minlength=n)[
                    ids
                ].astype(np.int64),
                "rural": rural[ids] / np.maximum(residents[ids], 1),
                "region": np.asarray(g.region_names, dtype=object)[ids],
                "accounts": np.bincount(region[gov], minlength=n)[ids],
                "cost": 1.0,
            },
            index=pd.Index(ids, name="region_id"),
        )


@dataclass
class SeedProgramme(_Programme):
    """Sets of residents seeded with the government messages (whom a programme tells every
    notice directly, e.g. village information officers, 信息员), evaluated by simulation.

    Parameters
    ----------
    scenario : Scenario
        The scenario; a government message must be posted within the run (each seed learns
        every message on its posting day, docs/model.md 3.5, "Information").
    graph : TrustGraph
        The city, the same for every set and replication (its residents are the candidates).
    objective : str or dict of str to float
        An outcome column (:data:`laotie.results.OUTCOME_COLUMNS`, e.g.
        ``"information_rural_reach"``) or weights of several.
    days : int, optional
        Days per run (default: the scenario's ``run.days``).
    executor : Executor, optional
        Where the sets' engines run (default: this process).

    Raises
    ------
    LaotieError
        For an unknown outcome or one messages do not change (not ``information_``), or a
        scenario that posts no message within the run.
    """

    TARGETS: ClassVar[str] = "seeds"
    WHAT: ClassVar[str] = "resident"

    @classmethod
    def objective_problem(cls, weights: Mapping[str, Any]) -> str | None:
        """An outcome other than the messages' reach: the same for every set of seeds."""
        return _not_information(weights, "who is seeded")

    @classmethod
    def problem(cls, scenario: Scenario, days: int, table: str = "") -> str | None:
        """No message posted within the runs."""
        if not _posted(scenario, days):
            return _no_message(scenario, days, "seeding residents", table)
        return None

    @staticmethod
    def audience(graph: TrustGraph) -> dict[str, np.ndarray]:
        """Per node: ``followers``, the people who trust it through local and city ties
        (those it can pass a message on to), and ``kin``, those of them through local ties
        (those it can tell offline)."""
        from ..graph._core import CITY, LOCAL

        g, n = graph, graph.n_nodes
        # Edge i -> j: i trusts j, so j's message reaches i.
        return {
            "followers": np.bincount(
                g.indices[(g.layer == LOCAL) | (g.layer == CITY)], minlength=n
            ),
            "kin": np.bincount(g.indices[g.layer == LOCAL], minlength=n),
        }

    def candidates(self) -> pd.DataFrame:
        """The city's residents (users or not), by node id, with their proxies.

        Returns
        -------
        pandas.DataFrame
            Indexed by node id: ``followers`` (the people who trust the resident through
            local and city ties: those it can pass a message on to), ``kin`` (of them,
            through local ties: those it can tell offline), ``rural`` (True/False),
            ``user`` (True/False), ``region`` (its name) and ``cost`` (1 each).
        """
        g = self.graph
        nodes = np.flatnonzero(g.resident)
        found = self.audience(g)
        return pd.DataFrame(
            {
                "followers": found["followers"][nodes],
                "kin": found["kin"][nodes],
                "rural": g.rural[nodes],
                "user": g.user[nodes],
                "region": np.asarray(g.region_names, dtype=object)[g.region[nodes]],
                "cost": 1.0,
            },
            index=pd.Index(nodes, name="node"),
        )


@dataclass
class EnrolmentProgramme(_Programme):
    """Sets of rural residents enrolled as poor producers in a 精准扶贫 programme (each
    one's specialty listed online, docs/model.md 3.4, "Poor producers"), evaluated by
    simulation.

    Parameters
    ----------
    scenario : Scenario
        The scenario; its ``producers`` section says how an enrolled producer's specialty is
        listed and what it earns (``n_producers`` is not used: the set is the producers).
    graph : TrustGraph
        The city, the same for every set and replication (its rural residents are the
        candidates; all its residents if it has none).
    objective : str or dict of str to float
        An outcome column (:data:`laotie.results.OUTCOME_COLUMNS`, e.g.
        ``"producer_net_total"``) or weights of several.
    days : int, optional
        Days per run (default: the scenario's ``run.days``).
    executor : Executor, optional
        Where the sets' engines run (default: this process).

    Raises
    ------
    LaotieError
        For an unknown outcome, or one not defined when nobody is enrolled
        (:attr:`WITHOUT_PRODUCERS`).
    """

    TARGETS: ClassVar[str] = "enrolled"
    WHAT: ClassVar[str] = "producer"
    WITHOUT_PRODUCERS: ClassVar[tuple[str, ...]] = (
        "producer_net_effect",
        "producers_gaining_share",
        "producers_losing_share",
        "producer_gain_top10_share",
    )
    """Outcomes that are not defined (NaN) when nobody is enrolled: ratios and shares of the
    producers (:func:`laotie.accounts.producer_outcomes`)."""

    @classmethod
    def objective_problem(cls, weights: Mapping[str, Any]) -> str | None:
        """An outcome not defined when nobody is enrolled: every set is judged against
        enrolling nobody (the empty set, which greedy selection values first)."""
        undefined = [name for name in weights if name in cls.WITHOUT_PRODUCERS]
        if not undefined:
            return None
        return (
            f"objective {undefined[0]} is not defined when nobody is enrolled (NaN: a ratio or "
            "share of the producers), and every set of producers is judged against enrolling "
            "nobody; choose a total: producer_net_total, producer_income_total or "
            "producers_with_income"
        )

    @classmethod
    def problem(cls, scenario: Scenario, days: int, table: str = "") -> str | None:
        """None: a scenario always lists an enrolled producer's specialty somewhere
        (``producers.listings`` ≥ 1, and a city has ≥ 1 storefront); whether the creators a
        rule recruits exist depends on the graph, and a set they do not list gains nothing."""
        return None

    def candidates(self) -> pd.DataFrame:
        """The city's rural residents (all its residents if none is rural), by node id, with
        their proxies.

        Returns
        -------
        pandas.DataFrame
            Indexed by node id: ``followers`` (the people who trust the resident through
            local and city ties), ``rural`` (True/False), ``user`` (True/False), ``region``
            (its name) and ``cost`` (1 each).
        """
        g = self.graph
        nodes = np.flatnonzero(g.resident & g.rural)
        if len(nodes) == 0:
            nodes = np.flatnonzero(g.resident)
        found = SeedProgramme.audience(g)
        return pd.DataFrame(
            {
                "followers": found["followers"][nodes],
                "rural": g.rural[nodes],
                "user": g.user[nodes],
                "region": np.asarray(g.region_names, dtype=object)[g.region[nodes]],
                "cost": 1.0,
            },
            index=pd.Index(nodes, name="node"),
        )


PROGRAMMES: dict[str, type[_Programme]] = {
    "train": TrainingProgramme,
    "operators": OperatorProgramme,
    "seeds": SeedProgramme,
    "enrol": EnrolmentProgramme,
}
"""The programme of each target of sets (:data:`laotie.policy.TARGETS`)."""


def _not_information(weights: Mapping[str, Any], who: str) -> str | None:
    """An objective's outcome that government messages cannot change (information changes no
    purchase, docs/model.md 3.5): every set of targets that only informs has its value."""
    other = [name for name in weights if not name.startswith("information_")]
    if not other:
        return None
    return (
        f"objective {other[0]} does not depend on {who}: government messages change no "
        "purchase (docs/model.md, Information), so every set has the same value; choose "
        "information_reach or information_rural_reach"
    )


def _outside(key: str, day: int, days: int, table: str) -> str:
    """A programme's day that does not fall within the runs."""
    return (
        f"{key} = {day} does not fall within the {days} days of each run; set "
        f'"{key}" from 0 to {days - 1}{table}, or lengthen days'
    )


def _posted(scenario: Scenario, days: int) -> bool:
    """Whether a government message is posted within runs of ``days`` days."""
    info = scenario.information
    return info.n_messages > 0 and info.first_day < days


def _no_message(scenario: Scenario, days: int, doing: str, table: str) -> str:
    info = scenario.information
    return (
        f"no government message is posted within the {days} days of each run "
        f"(information.n_messages = {info.n_messages}, first_day = {info.first_day}): "
        f"{doing} changes nothing; "
        + (
            f'set "information.n_messages"{table}'
            if info.n_messages == 0
            else f'set "information.first_day" from 0 to {days - 1}{table}, or lengthen days'
        )
    )


def _run_set(task: tuple[int, _Programme, tuple[int, ...], int, int]) -> Any:
    """One set's lockstep engine: its objective in every replication."""
    _, programme, ids, seed, replications = task
    (values,) = lockstep_objectives(
        programme.graph,
        programme.scenario,
        seed,
        replications,
        int(programme.days or 0),
        [programme.weights],
        f"policy: {{name}} is not defined in replication {{r}} of the set {ids}",
        targets={programme.TARGETS: list(ids)},
    )
    return values


def lockstep_objectives(
    graph: TrustGraph,
    scenario: Scenario,
    seed: int,
    replications: int,
    days: int,
    objectives: Sequence[Mapping[str, float]],
    undefined: str,
    targets: Mapping[str, list[int]] | None = None,
) -> np.ndarray:
    """One lockstep engine of ``replications`` replications (replication ``r`` with the
    ``r``-th child of ``SeedSequence(seed)``) for ``days`` days, and each objective, a weighted
    sum of outcomes, in each replication: what every policy evaluation runs.

    Parameters
    ----------
    graph, scenario
        The city and the scenario the engine runs.
    seed, replications, days : int
    objectives : sequence of dict of str to float
        Outcome columns and their weights, one dict per objective.
    undefined : str
        The message when an objective's outcome is NaN in a replication, with ``{name}`` and
        ``{r}`` to fill (what the runs were: a set, a setting).
    targets : dict of str to list of int, optional
        The engine's targets by keyword (``{"trained": creators}``, ``{"operators":
        regions}``: the rules ``targeted``; ``{"seeds": residents}``, ``{"enrolled":
        producers}``).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(objectives), replications)``.

    Raises
    ------
    LaotieError
        When an outcome of an objective is not defined in a replication.
    """
    from ..engine import Engine
    from ..results import run_outcomes

    seeds = np.random.SeedSequence(seed).spawn(replications)
    targets = targets or {}
    engine = Engine(
        graph,
        scenario,
        seed=seeds,
        trained=targets.get("trained"),
        operators=targets.get("operators"),
        seeds=targets.get("seeds"),
        enrolled=targets.get("enrolled"),
    )
    engine.run(days)
    values = np.empty((len(objectives), replications))
    for r in range(replications):
        outcomes = run_outcomes(engine.replication(r))
        for j, weights in enumerate(objectives):
            missing = [name for name in weights if not np.isfinite(outcomes[name])]
            if missing:
                raise LaotieError(
                    undefined.format(name=missing[0], r=r)
                    + " (NaN: e.g. a share without sales); choose an outcome every run defines, "
                    "or longer runs"
                )
            values[j, r] = sum(w * outcomes[name] for name, w in weights.items())
    engine.close()
    return values
