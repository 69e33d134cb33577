"""Greedy selection of targets under a budget, with lazy re-evaluation (CELF), judged by
simulation.

The objective of a set of targets is known only through simulations: ``evaluate(sets, seed,
replications)`` returns one value per set and replication, replication ``r`` of every set
sharing its random numbers (common random numbers, as :class:`laotie.sweep.Sweep` pairs its
arms). A marginal gain is the paired difference of two sets' values, replication by
replication, so the noise the sets share cancels.

Greedy selection adds, step by step, the affordable target of largest gain (or gain per unit
of cost). For an objective that is monotone and submodular (each target adds less to a larger
set, as reach and coverage do) the greedy set of k unit-cost targets is worth at least
(1 − 1/e) of the best set of k (Nemhauser, Wolsey and Fisher 1978); with costs, the better of
the gain-greedy and the gain-per-cost-greedy sets is worth at least (1 − 1/e)/2 of the best
within the budget (Leskovec et al. 2007). Lazy re-evaluation (CELF, Leskovec et al. 2007)
keeps each candidate's last gain as a bound: under submodularity a gain can only fall as the
set grows, so a candidate whose fresh gain still tops every other's bound is the step's pick,
and most candidates are never evaluated again.

Simulated gains are noisy and the simulated economy need not be submodular; the selection
therefore reports, for every step, how sure the pick is: the ``contenders`` candidates with
the next largest bounds are evaluated afresh beside it, on the same replications, and the
probability that the pick's gain is the largest is estimated by resampling the replications
(a paired bootstrap).

References
----------
Nemhauser, G. L., Wolsey, L. A. and Fisher, M. L. (1978). An analysis of approximations for
maximizing submodular set functions. Mathematical Programming 14, 265–294.

Leskovec, J., Krause, A., Guestrin, C., Faloutsos, C., VanBriesen, J. and Glance, N. (2007).
Cost-effective outbreak detection in networks. KDD '07, 420–429.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import LaotieError

__all__ = ["Evaluate", "Selection", "greedy", "p_best"]

Evaluate = Callable[[Sequence[tuple[Hashable, ...]], int, int], np.ndarray]
"""``evaluate(sets, seed, replications)``: an array of shape ``(len(sets), replications)``,
the objective of each set (a tuple of target ids) in each replication, replication ``r`` of
every set sharing its random numbers (larger is better)."""


@dataclass
class Selection:
    """What :func:`greedy` chose and how sure each step was.

    Attributes
    ----------
    chosen : list
        The targets, in the order they were picked.
    steps : pandas.DataFrame
        One row per pick: ``step``, ``target``, ``cost``, ``spent`` (so far), ``gain`` (mean
        paired gain over the replications) with ``gain_low`` and ``gain_high`` (95 % t
        interval), ``runner_up`` (the contender with the largest fresh gain, or None),
        ``p_best`` (the probability that the pick's gain is the largest among the contenders,
        by a paired bootstrap over replications; NaN without contenders) and
        ``evaluations`` (sets evaluated in the step).
    value : numpy.ndarray
        The chosen set's objective in each replication.
    empty : numpy.ndarray
        The empty set's objective in each replication.
    rule : str
        ``"gain"`` or ``"gain per cost"``: the greedy rule whose set was kept.
    evaluations : int
        Sets evaluated in all (each over every replication).
    """

    chosen: list[Hashable]
    steps: pd.DataFrame
    value: np.ndarray
    empty: np.ndarray
    rule: str
    evaluations: int = 0
    other: Selection | None = field(default=None, repr=False)


def greedy(
    candidates: Sequence[Hashable],
    evaluate: Evaluate,
    *,
    budget: float,
    costs: Mapping[Hashable, float] | None = None,
    seed: int,
    replications: int,
    contenders: int = 2,
    batch: int = 1,
    bootstrap: int = 2000,
) -> Selection:
    """Choose targets among ``candidates`` within ``budget`` by greedy selection with lazy
    re-evaluation (CELF), every gain a paired difference over ``replications``.

    With unit costs (``costs`` None) it is the greedy set of ``budget`` targets. With costs,
    both greedy rules run (largest gain, largest gain per unit of cost) and the set of larger
    mean value is kept (:attr:`Selection.other` holds the other).

    Parameters
    ----------
    candidates : sequence of hashable
        The target ids (distinct).
    evaluate : callable
        ``evaluate(sets, seed, replications)`` (:data:`Evaluate`).
    budget : float
        The most the chosen targets may cost together (with unit costs: how many).
    costs : dict, optional
        Each candidate's cost (> 0; default 1 each).
    seed : int
        The seed of every evaluation (the replications are the same for every set).
    replications : int
        Replications per set (≥ 2, for the intervals).
    contenders : int, default 2
        At each step, how many other candidates with the largest bounds are evaluated afresh
        beside the pick to say how sure it is (0: none; the pick is CELF's either way).
    batch : int, default 1
        Stale candidates evaluated together in a lazy step (more uses more workers at once,
        at the price of evaluations a strictly lazy order would skip).
    bootstrap : int, default 2000
        Resamples of the replications for ``p_best``.

    Returns
    -------
    Selection

    Raises
    ------
    LaotieError
        For repeated candidates, a cost that is not positive or missing, a budget below zero,
        fewer than 2 replications, or an ``evaluate`` that returns the wrong shape or a
        non-finite value.
    """
    candidates = list(candidates)
    if len(set(candidates)) != len(candidates):
        raise LaotieError("policy: a candidate is listed twice")
    cost = _costs(candidates, costs)
    if not (isinstance(budget, int | float) and math.isfinite(budget) and budget >= 0):
        raise LaotieError(f"policy: budget = {budget!r}; expected a number ≥ 0")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 2:
        raise LaotieError(f"policy: replications = {replications!r}; expected an integer ≥ 2")
    if isinstance(contenders, bool) or not isinstance(contenders, int) or contenders < 0:
        raise LaotieError(f"policy: contenders = {contenders!r}; expected an integer ≥ 0")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise LaotieError(f"policy: batch = {batch!r}; expected an integer ≥ 1")
    judge = _Judge(evaluate, seed, replications)
    rules = ["gain"] if costs is None else ["gain", "gain per cost"]
    found = [
        _celf(candidates, cost, budget, judge, rule, contenders, batch, bootstrap, seed)
        for rule in rules
    ]
    best = max(found, key=lambda s: float(np.mean(s.value)))
    best.other = next((s for s in found if s is not best), None)
    best.evaluations = judge.count
    return best


class _Judge:
    """``evaluate`` with its answers kept by set, so that no set is simulated twice."""

    def __init__(self, evaluate: Evaluate, seed: int, replications: int) -> None:
        self.evaluate = evaluate
        self.seed = seed
        self.replications = replications
        self.known: dict[frozenset[Hashable], np.ndarray] = {}
        self.count = 0

    def __call__(self, sets: Sequence[tuple[Hashable, ...]]) -> list[np.ndarray]:
        new = list(dict.fromkeys(frozenset(s) for s in sets if frozenset(s) not in self.known))
        if new:
            asked = [tuple(sorted(s, key=repr)) for s in new]
            values = np.asarray(self.evaluate(asked, self.seed, self.replications), dtype=float)
            if values.shape != (len(asked), self.replications):
                raise LaotieError(
                    f"policy: evaluate returned shape {values.shape} for {len(asked)} sets and "
                    f"{self.replications} replications; expected "
                    f"({len(asked)}, {self.replications})"
                )
            if not np.isfinite(values).all():
                raise LaotieError("policy: evaluate returned a value that is not finite")
            self.count += len(asked)
            self.known.update(zip(new, values, strict=True))
        return [self.known[frozenset(s)] for s in sets]


def _costs(candidates: list[Hashable], costs: Mapping[Hashable, float] | None) -> dict:
    if costs is None:
        return dict.fromkeys(candidates, 1.0)
    out = {}
    for c in candidates:
        value = costs.get(c)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise LaotieError(f"policy: the cost of {c!r} is {value!r}; expected a number > 0")
        out[c] = float(value)
    return out


def _celf(
    candidates: list[Hashable],
    cost: dict[Hashable, float],
    budget: float,
    judge: _Judge,
    rule: str,
    contenders: int,
    batch: int,
    bootstrap: int,
    seed: int,
) -> Selection:
    """One greedy rule, lazily: bounds are the last gains (over cost, for that rule)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31 + 7,)))
    chosen: list[Hashable] = []
    spent = 0.0
    evaluated = judge.count  # the first step counts the first pass over the candidates
    (value,) = judge([()])
    empty = value
    score = (lambda g, c: g) if rule == "gain" else (lambda g, c: g / cost[c])
    affordable = [c for c in candidates if cost[c] <= budget]
    gains = dict(zip(affordable, _gains(judge, chosen, value, affordable), strict=True))
    bound = {c: score(float(gains[c].mean()), c) for c in affordable}
    fresh = dict.fromkeys(affordable, 0)  # the step at which each bound was computed
    rows = []
    step = 0
    while True:
        left = [c for c in bound if c not in chosen and spent + cost[c] <= budget + 1e-12]
        if not left:
            break
        while True:
            order = sorted(left, key=lambda c: (-bound[c], candidates.index(c)))
            top = order[0]
            if fresh[top] == step:
                break
            stale = [c for c in order if fresh[c] != step][:batch]
            for c, g in zip(stale, _gains(judge, chosen, value, stale), strict=True):
                gains[c], bound[c], fresh[c] = g, score(float(g.mean()), c), step
        rivals = [c for c in order[1:] if c != top][:contenders]
        for c, g in zip(rivals, _gains(judge, chosen, value, rivals), strict=True):
            gains[c], bound[c], fresh[c] = g, score(float(g.mean()), c), step
        mean, low, high = _interval(gains[top])
        runner = max(rivals, key=lambda c: float(gains[c].mean()), default=None)
        p = p_best(np.stack([gains[top], *(gains[c] for c in rivals)]), bootstrap, rng)
        chosen.append(top)
        spent += cost[top]
        (value,) = judge([tuple(chosen)])
        rows.append(
            {
                "step": step + 1,
                "target": top,
                "cost": cost[top],
                "spent": spent,
                "gain": mean,
                "gain_low": low,
                "gain_high": high,
                "runner_up": runner,
                "p_best": p if rivals else np.nan,
                "evaluations": judge.count - evaluated,
            }
        )
        evaluated = judge.count
        step += 1
    return Selection(chosen, pd.DataFrame(rows), value, empty, rule)


def _gains(
    judge: _Judge, chosen: list[Hashable], value: np.ndarray, adding: list[Hashable]
) -> list[np.ndarray]:
    """Each candidate's paired gain over the chosen set, replication by replication."""
    return [v - value for v in judge([(*chosen, c) for c in adding])]


def _interval(gain: np.ndarray) -> tuple[float, float, float]:
    from ..stats import t_interval

    return t_interval(gain)


def p_best(gains: np.ndarray, resamples: int, rng: np.random.Generator) -> float:
    """The probability that row 0 of ``gains`` has the largest mean, by resampling its
    columns (replications) together: a paired bootstrap.

    Parameters
    ----------
    gains : numpy.ndarray
        Shape ``(candidates, replications)``: row 0 is the pick.
    resamples : int
    rng : numpy.random.Generator

    Returns
    -------
    float
        The share of resamples in which row 0's mean is the largest (ties count as not).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p_best(np.array([[3.0, 3.1, 2.9], [1.0, 1.2, 0.8]]), 1000, rng)
    1.0
    """
    gains = np.asarray(gains, dtype=float)
    if len(gains) < 2:
        return float("nan")
    draws = rng.integers(0, gains.shape[1], size=(resamples, gains.shape[1]))
    means = gains[:, draws].mean(axis=2)  # candidates × resamples
    return float(np.mean(means[0] > means[1:].max(axis=0)))
