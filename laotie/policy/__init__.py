"""Policy design: choose whom to train, recruit or reach, under a budget, with the simulation
as the judge.

A policy is a set of targets (creators to train, producers to enrol, regions to give an
operator), each with a cost. Its value is an outcome of the simulation (poor producers' net
income, GMV, information reach, or any other column), known only through replications:
``evaluate(sets, seed, replications)`` (:data:`Evaluate`) runs each set's replications with
common random numbers.

:func:`optimise` screens the candidates by cheap proxies (:func:`shortlist`), chooses a set by
greedy selection with lazy re-evaluation over simulated, paired marginal gains
(:func:`greedy`, replications of the *select* phase), and evaluates it beside the heuristics a
planner would use instead (most followers, most rural, random, equal per region) at the same
budget on fresh replications of the *evaluate* phase (:func:`compare`, :func:`phase_seed`), so
that the chosen set's advantage is not the winner's curse of the replications that chose it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import LaotieError
from .compare import (
    HEURISTICS,
    PHASES,
    compare,
    heuristic_sets,
    phase_seed,
    shortlist,
    table_of,
)
from .select import Evaluate, Selection, greedy, p_best
from .training import TrainingProgramme

__all__ = [
    "HEURISTICS",
    "PHASES",
    "Evaluate",
    "Optimised",
    "Selection",
    "TrainingProgramme",
    "compare",
    "greedy",
    "heuristic_sets",
    "optimise",
    "p_best",
    "phase_seed",
    "shortlist",
    "table_of",
]


@dataclass
class Optimised:
    """What :func:`optimise` found.

    Attributes
    ----------
    selection : Selection
        The greedy set and its steps (on the select phase's replications).
    sets : dict of str to list
        The policies compared: ``"optimised"`` and each heuristic's set.
    table : pandas.DataFrame
        Each policy's value and its paired difference from the best heuristic, with 95 %
        intervals, on the evaluate phase's fresh replications (:func:`compare`).
    values : pandas.DataFrame
        Those replications' values, one column per policy.
    shortlist : list
        The candidates the simulation judged.
    """

    selection: Selection
    sets: dict[str, list]
    table: pd.DataFrame
    values: pd.DataFrame
    shortlist: list


def optimise(
    candidates: pd.DataFrame,
    evaluate: Evaluate,
    *,
    budget: float,
    seed: int,
    replications: int = 8,
    fresh: int = 16,
    size: int = 40,
    contenders: int = 2,
    batch: int = 1,
) -> Optimised:
    """Choose a set of targets within ``budget`` and compare it, on fresh replications, with
    the heuristics' sets at the same budget.

    Parameters
    ----------
    candidates : pandas.DataFrame
        Indexed by target id, with ``cost`` (> 0), ``followers``, ``rural`` and ``region``
        (the proxies of :data:`HEURISTICS`).
    evaluate : callable
        ``evaluate(sets, seed, replications)`` (:data:`Evaluate`).
    budget : float
        The most the chosen targets may cost together.
    seed : int
        The optimisation's seed; each phase's replications come from it (:func:`phase_seed`).
    replications : int, default 8
        Replications per set while choosing.
    fresh : int, default 16
        Replications per policy in the comparison (none of them used while choosing).
    size : int, default 40
        The short list's length (:func:`shortlist`).
    contenders, batch : int
        As for :func:`greedy`.

    Returns
    -------
    Optimised
        Its table compares every policy with the heuristic of largest mean value.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise LaotieError(f"policy: size = {size!r}; expected an integer ≥ 1")
    listed = shortlist(candidates, budget, size, seed)
    unit = bool((candidates.loc[listed, "cost"] == 1).all())
    selection = greedy(
        listed,
        evaluate,
        budget=budget,
        costs=None if unit else candidates.loc[listed, "cost"].to_dict(),
        seed=phase_seed(seed, "select"),
        replications=replications,
        contenders=contenders,
        batch=batch,
    )
    heuristics = heuristic_sets(candidates, budget, seed)
    sets = {"optimised": selection.chosen} | heuristics
    _, values = compare(sets, evaluate, seed=seed, replications=fresh)
    best = max(heuristics, key=lambda name: float(values[name].mean()))
    sizes = {"none": 0} | {name: len(targets) for name, targets in sets.items()}
    return Optimised(selection, sets, table_of(values, sizes, best), values, listed)
