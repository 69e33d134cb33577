"""Choose a set and compare it with the heuristics: :func:`optimise`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import LaotieError
from .compare import compare, heuristic_sets, phase_seed, shortlist, table_of
from .select import Evaluate, Selection, greedy

__all__ = ["Optimised", "optimise"]


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
    stop: bool = True,
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
    stop : bool, default True
        As for :func:`greedy`: stop when no candidate's mean gain is positive (False: spend
        the budget).

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
        stop=stop,
    )
    heuristics = heuristic_sets(candidates, budget, seed)
    sets = {"optimised": selection.chosen} | heuristics
    _, values = compare(sets, evaluate, seed=seed, replications=fresh)
    best = max(heuristics, key=lambda name: float(values[name].mean()))
    sizes = {"none": 0} | {name: len(targets) for name, targets in sets.items()}
    return Optimised(selection, sets, table_of(values, sizes, best), values, listed)
