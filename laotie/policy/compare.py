"""The heuristics a planner would use instead, a short list for the simulation to judge, and
the honest comparison: every policy evaluated on fresh replications that chose nothing.

The selection's gains are estimated on the same replications that chose the set, so its value
there is biased upwards (the winner's curse). :func:`compare` evaluates the chosen set and the
heuristics' sets at the same budget on replications of another seed (:func:`phase_seed`),
paired with each other by common random numbers, with 95 % paired intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import LaotieError
from .select import Evaluate

__all__ = [
    "HEURISTICS",
    "PHASES",
    "compare",
    "heuristic_sets",
    "phase_seed",
    "shortlist",
    "table_of",
]

PHASES = ("select", "evaluate")
"""The phases of an optimisation, each with its own replications (:func:`phase_seed`)."""


def _check_seed(seed: int) -> None:
    """Refuse an optimisation's seed that is not an integer ≥ 0 (a LaotieError naming it)."""
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, int | np.integer) or seed < 0:
        raise LaotieError(f"policy: seed = {seed!r}; expected an integer ≥ 0")


def phase_seed(seed: int, phase: str) -> int:
    """The seed of one phase's replications, derived from the optimisation's ``seed``.

    Replication ``r`` of a phase runs with ``SeedSequence(phase_seed(seed, phase),
    spawn_key=(r,))`` (:meth:`laotie.sweep.Sweep.run_seed`): the phases' seeds differ, so the
    replications that evaluate a policy never include those that chose it.

    Parameters
    ----------
    seed : int
        The optimisation's seed (≥ 0).
    phase : str
        One of :data:`PHASES`.

    Returns
    -------
    int
        A seed below 2**63.

    Examples
    --------
    >>> phase_seed(1, "select") != phase_seed(1, "evaluate")
    True
    """
    if phase not in PHASES:
        raise LaotieError(f"policy: phase {phase!r}; expected one of {', '.join(PHASES)}")
    _check_seed(seed)
    sequence = np.random.SeedSequence(int(seed), spawn_key=(2**31 + 11, PHASES.index(phase)))
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _by(frame: pd.DataFrame, columns: list[str]) -> list[Hashable]:
    return list(frame.sort_values(columns, ascending=False, kind="stable").index)


def _within(order: Sequence[Hashable], cost: pd.Series, budget: float) -> list[Hashable]:
    """The first targets of ``order`` that fit in ``budget`` (one that does not is skipped)."""
    chosen, spent = [], 0.0
    for target in order:
        if spent + float(cost[target]) <= budget + 1e-12:
            chosen.append(target)
            spent += float(cost[target])
    return chosen


def _equal_per_region(frame: pd.DataFrame) -> list[Hashable]:
    """Regions in turn, each giving its most-followed candidate not yet taken."""
    queues = {
        region: _by(group, ["followers"])
        for region, group in frame.groupby("region", sort=True, observed=True)
    }
    order: list[Hashable] = []
    while any(queues.values()):
        for queue in queues.values():
            if queue:
                order.append(queue.pop(0))
    return order


HEURISTICS: dict[str, Callable[[pd.DataFrame, np.random.Generator], list[Hashable]]] = {
    "most followers": lambda f, rng: _by(f, ["followers"]),
    "most rural": lambda f, rng: _by(f, ["rural", "followers"]),
    "random": lambda f, rng: list(f.index[rng.permutation(len(f))]),
    "equal per region": lambda f, rng: _equal_per_region(f),
}
"""Each heuristic's order of preference over the candidates (a table with ``followers``,
``rural`` and ``region``); :func:`heuristic_sets` takes them in that order within the
budget."""


def heuristic_sets(candidates: pd.DataFrame, budget: float, seed: int) -> dict[str, list[Hashable]]:
    """The set each of :data:`HEURISTICS` picks within ``budget``.

    Parameters
    ----------
    candidates : pandas.DataFrame
        Indexed by target id, with ``cost`` (> 0), ``followers``, ``rural`` (a share or
        True/False) and ``region``.
    budget : float
    seed : int
        Chooses the random heuristic's set.

    Returns
    -------
    dict of str to list
        By heuristic, its targets in the order it took them.

    Raises
    ------
    LaotieError
        Naming a missing column, a candidate listed twice or without a value, or a seed that
        is not an integer ≥ 0.
    """
    missing = [c for c in ("cost", "followers", "rural", "region") if c not in candidates]
    if missing:
        raise LaotieError(f"policy: the candidates table has no column {missing[0]!r}")
    if not candidates.index.is_unique:
        twice = candidates.index[candidates.index.duplicated()][0]
        raise LaotieError(f"policy: candidate {twice!r} is listed twice")
    for column in ("cost", "followers", "rural", "region"):
        if candidates[column].isna().any():
            which = candidates.index[candidates[column].isna()][0]
            raise LaotieError(f"policy: candidate {which!r} has no {column}")
    _check_seed(seed)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31 + 12,)))
    return {
        name: _within(order(candidates, rng), candidates["cost"], budget)
        for name, order in HEURISTICS.items()
    }


def shortlist(candidates: pd.DataFrame, budget: float, size: int, seed: int) -> list[Hashable]:
    """The candidates the simulation judges: every heuristic's set within the budget, then
    the most followed of the rest, up to ``size`` (cheap proxies screen the long list, and the
    greedy set can always do what a heuristic does).

    Parameters
    ----------
    candidates : pandas.DataFrame
        As for :func:`heuristic_sets`.
    budget : float
    size : int
        At most this many (at least the heuristics' sets together).
    seed : int

    Returns
    -------
    list
        Target ids, in the candidates table's order.
    """
    picked = {t for chosen in heuristic_sets(candidates, budget, seed).values() for t in chosen}
    for target in _by(candidates, ["followers"]):
        if len(picked) >= size:
            break
        picked.add(target)
    return [t for t in candidates.index if t in picked]


def compare(
    policies: Mapping[str, Sequence[Hashable]],
    evaluate: Evaluate,
    *,
    seed: int,
    replications: int,
    baseline: str = "none",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every policy on the fresh replications of ``seed``'s evaluation phase, paired.

    Parameters
    ----------
    policies : dict of str to sequence
        Named sets of targets; ``"none"`` (no target) is added.
    evaluate : callable
        As for :func:`laotie.policy.greedy`.
    seed : int
        The optimisation's seed: the replications are :func:`phase_seed` ``(seed,
        "evaluate")``'s.
    replications : int
        Replications per policy (≥ 2).
    baseline : str, default "none"
        The policy the others are compared with.

    Returns
    -------
    table : pandas.DataFrame
        One row per policy: ``policy``, ``targets``, the mean with its 95 % interval and the
        paired difference from ``baseline`` with its interval (:func:`laotie.stats.paired`).
    values : pandas.DataFrame
        One row per replication, one column per policy.
    """
    if "none" in policies:
        raise LaotieError('policy: "none" names the empty policy that compare adds; rename yours')
    named = {"none": ()} | {name: tuple(targets) for name, targets in policies.items()}
    if baseline not in named:
        raise LaotieError(f"policy: baseline {baseline!r} is not one of the policies")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 2:
        raise LaotieError(f"policy: replications = {replications!r}; expected an integer ≥ 2")
    values = np.asarray(
        evaluate(list(named.values()), phase_seed(seed, "evaluate"), replications), dtype=float
    )
    if values.shape != (len(named), replications):
        raise LaotieError(
            f"policy: evaluate returned shape {values.shape}; expected "
            f"({len(named)}, {replications})"
        )
    frame = pd.DataFrame(values.T, columns=list(named))
    return table_of(frame, {name: len(targets) for name, targets in named.items()}, baseline), frame


def table_of(values: pd.DataFrame, sizes: Mapping[str, int], baseline: str) -> pd.DataFrame:
    """The comparison table of :func:`compare`'s ``values`` against ``baseline``.

    Parameters
    ----------
    values : pandas.DataFrame
        One row per replication, one column per policy.
    sizes : dict of str to int
        Each policy's number of targets.
    baseline : str

    Returns
    -------
    pandas.DataFrame
    """
    from ..stats import paired

    table = paired(values, baseline).rename_axis("policy").reset_index()
    table.insert(1, "targets", [sizes[name] for name in table["policy"]])
    return table
