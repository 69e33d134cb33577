"""Whom to train: sets of creators judged by simulation (the rule ``targeted`` of
``training.rule``, docs/model.md 3.5, "Training").

:class:`TrainingProgramme` is an :data:`~laotie.policy.Evaluate` for :func:`laotie.policy.greedy`
and :func:`laotie.policy.optimise`: each set of creators is one engine of ``replications``
lockstep replications of the scenario on one fixed city graph, the set trained on
``training.day``; replication ``r`` has the same seed for every set (common random numbers),
so two sets' values differ, replication by replication, by what training them changes. The
candidates are the city's creators with the proxies the heuristics rank them by.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import LaotieError
from ..results import OUTCOME_COLUMNS

if TYPE_CHECKING:
    from ..executors import Executor
    from ..graph import TrustGraph
    from ..scenario import Scenario

__all__ = ["TrainingProgramme"]


@dataclass
class TrainingProgramme:
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
        For an unknown outcome, a training day outside the run or a scenario without
        training.
    """

    scenario: Scenario
    graph: TrustGraph
    objective: str | Mapping[str, float] = "producer_net_total"
    days: int | None = None
    executor: Executor | None = field(default=None, repr=False)

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
        self.weights = weights
        days = self.scenario.run.days if self.days is None else self.days
        day = self.scenario.training.day
        if not 0 <= day < days:
            raise LaotieError(
                f"policy: training.day = {day} does not fall within the {days} days of the run; "
                "set training.day to the day the programme trains"
            )
        self.days = days
        self.scenario = self.scenario.replace(**{"training.rule": "targeted"})

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

    def __call__(
        self, sets: Sequence[tuple[Hashable, ...]], seed: int, replications: int
    ) -> np.ndarray:
        """The objective of each set in each replication (:data:`laotie.policy.Evaluate`).

        Parameters
        ----------
        sets : sequence of tuple of int
            Node ids of creators to train (in any order: a set's value does not depend on
            it).
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
        tasks = [
            (i, self, tuple(sorted(np.asarray(s, dtype=np.int64).tolist())), seed, replications)
            for i, s in enumerate(sets)
        ]
        for (i, _, nodes, _, _), answer in executor.map(_run_set, tasks):
            if not isinstance(answer, np.ndarray):
                raise LaotieError(f"policy: the runs of set {nodes} failed ({answer})")
            yield i, answer


def _run_set(task: tuple[int, TrainingProgramme, tuple[int, ...], int, int]) -> Any:
    """One set's lockstep engine: its objective in every replication."""
    _, programme, nodes, seed, replications = task
    (values,) = lockstep_objectives(
        programme.graph,
        programme.scenario,
        seed,
        replications,
        int(programme.days or 0),
        [programme.weights],
        f"policy: {{name}} is not defined in replication {{r}} of the set {nodes}",
        trained=list(nodes),
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
    trained: list[int] | None = None,
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
    trained : list of int, optional
        Creators to train (the rule ``targeted``).

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
    engine = Engine(graph, scenario, seed=seeds, trained=trained)
    for _ in range(days):
        engine.step()
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
