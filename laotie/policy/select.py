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
import numbers
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import LaotieError

__all__ = ["STEPS", "Evaluate", "Selection", "greedy", "p_best"]

STEPS = (
    "step",
    "target",
    "cost",
    "spent",
    "gain",
    "gain_low",
    "gain_high",
    "runner_up",
    "p_best",
    "evaluations",
)
"""The columns of :attr:`Selection.steps`."""

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
        interval), ``runner_up`` (the contender next to the pick by the rule's score, gain or
        gain per cost; None without contenders), ``p_best`` (the probability that the pick's
        score is the largest among the contenders, by a paired bootstrap over replications;
        NaN without contenders) and ``evaluations`` (sets evaluated in the step).
    value : numpy.ndarray
        The chosen set's objective in each replication.
    empty : numpy.ndarray
        The empty set's objective in each replication.
    rule : str
        ``"gain"`` or ``"gain per cost"``: the greedy rule whose set was kept.
    stopped : str
        Why the selection stopped: the budget is spent, every candidate is chosen, or no
        candidate adds to the objective (the budget is the most to spend, not an amount to
        spend whatever it buys).
    evaluations : int
        Sets evaluated in all (each over every replication).
    """

    chosen: list[Hashable]
    steps: pd.DataFrame
    value: np.ndarray
    empty: np.ndarray
    rule: str
    stopped: str = ""
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
    stop: bool = True,
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
        beside the pick, to say how sure it is; one whose fresh gain beats the pick's is the
        pick instead (0: none, plain CELF).
    batch : int, default 1
        Stale candidates evaluated together in a lazy step (more uses more workers at once,
        at the price of evaluations a strictly lazy order would skip; on an objective that is
        not submodular the stale bounds can mislead, and the chosen set may differ).
    bootstrap : int, default 2000
        Resamples of the replications for ``p_best``.
    stop : bool, default True
        Stop when no affordable candidate's mean gain (or gain per cost) is positive, rather
        than spend the rest of the budget on targets that lower the objective.

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
    budget = _number(budget, "budget")
    if not budget >= 0:
        raise LaotieError(f"policy: budget = {budget!r}; expected a finite number ≥ 0")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 2:
        raise LaotieError(f"policy: replications = {replications!r}; expected an integer ≥ 2")
    if isinstance(contenders, bool) or not isinstance(contenders, int) or contenders < 0:
        raise LaotieError(f"policy: contenders = {contenders!r}; expected an integer ≥ 0")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise LaotieError(f"policy: batch = {batch!r}; expected an integer ≥ 1")
    judge = _Judge(evaluate, seed, replications)
    rules = ["gain"] if costs is None else ["gain", "gain per cost"]
    found = [
        _celf(candidates, cost, budget, judge, rule, contenders, batch, bootstrap, seed, stop)
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


def _number(value: object, what: str, finite: bool = True) -> float:
    """``value`` as a float: a real number (numpy's too), not a bool, finite unless asked."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise LaotieError(f"policy: {what} is {value!r}; expected a number")
    number = float(value)
    if finite and not math.isfinite(number):
        raise LaotieError(f"policy: {what} is {value!r}; expected a finite number")
    return number


def _costs(candidates: list[Hashable], costs: Mapping[Hashable, float] | None) -> dict:
    if costs is None:
        return dict.fromkeys(candidates, 1.0)
    out = {}
    for c in candidates:
        value = costs.get(c)
        number = _number(value, f"the cost of {c!r}", finite=False)
        if not (number > 0 and math.isfinite(number)):
            raise LaotieError(f"policy: the cost of {c!r} is {value!r}; expected a number > 0")
        out[c] = number
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
    stop: bool,
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
    stopped = "the budget is spent"
    while True:
        left = [c for c in bound if c not in chosen and spent + cost[c] <= budget + 1e-12]
        if not left:
            if len(chosen) == len(candidates):
                stopped = "every candidate is chosen"
            break
        # The pick: the candidate of largest bound once its bound and those of the
        # `contenders` next to it are fresh (a rival evaluated afresh that beats it is the
        # pick instead, whatever submodularity would promise).
        while True:
            order = sorted(left, key=lambda c: (-bound[c], candidates.index(c)))
            stale = [c for c in order[: 1 + contenders] if fresh[c] != step]
            if not stale:
                break
            if fresh[order[0]] != step:  # lazy: the top's bound first, `batch` at a time
                stale = [c for c in order if fresh[c] != step][:batch]
            for c, g in zip(stale, _gains(judge, chosen, value, stale), strict=True):
                gains[c], bound[c], fresh[c] = g, score(float(g.mean()), c), step
        top, rivals = order[0], order[1 : 1 + contenders]
        if bound[top] <= 0 and stop:
            stopped = "no candidate adds to the objective"
            break
        mean, low, high = _interval(gains[top])
        runner = rivals[0] if rivals else None
        scaled = [gains[c] / (cost[c] if rule != "gain" else 1.0) for c in (top, *rivals)]
        p = p_best(np.stack(scaled), bootstrap, rng)
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
    return Selection(chosen, pd.DataFrame(rows, columns=STEPS), value, empty, rule, stopped)


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
