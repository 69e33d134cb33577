"""Greedy selection with lazy re-evaluation (CELF) over simulated, paired gains: against brute
force on objectives whose best set is known, its laziness, its costs and its report."""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence

import numpy as np
import pytest

from laotie import LaotieError
from laotie.policy import greedy, p_best
from laotie.policy.select import STEPS

WEIGHTS = dict(zip("abcdefghij", [5.0, 1.0, 4.0, 2.0, 3.5, 0.5, 3.0, 2.5, 1.5, 4.5], strict=True))


def objective(value, noise: float = 0.0):  # type: ignore[no-untyped-def]
    """An ``evaluate`` from a set function: ``value(set)`` plus noise each replication shares
    by every set (common random numbers) and ``noise`` of the set's own."""
    calls: list[tuple[tuple[Hashable, ...], int]] = []

    def evaluate(sets: Sequence[tuple[Hashable, ...]], seed: int, replications: int) -> np.ndarray:
        shared = np.random.default_rng(seed).normal(0, 10, replications)
        out = np.empty((len(sets), replications))
        for i, s in enumerate(sets):
            calls.append((tuple(s), seed))
            own = np.random.default_rng([seed, *sorted(sum(map(ord, t)) for t in s)]).normal(
                0, 1, replications
            )
            out[i] = value(frozenset(s)) + shared + noise * own
        return out

    evaluate.calls = calls  # type: ignore[attr-defined]
    return evaluate


def additive(s: frozenset) -> float:
    return sum(WEIGHTS[t] for t in s)


# Coverage: greedy takes "a" (four elements) and then one of "b", "c"; the best pair is b + c.
COVERS = {"a": {1, 2, 3, 4}, "b": {1, 2, 5}, "c": {3, 4, 6}, "d": {1}, "e": {2, 6}}


def coverage(s: frozenset) -> float:
    return float(len(set().union(*(COVERS[t] for t in s)))) if s else 0.0


def best_of(value, candidates, k: int) -> float:  # type: ignore[no-untyped-def]
    return max(value(frozenset(c)) for c in itertools.combinations(candidates, k))


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_an_additive_objective_gets_the_best_set(noise: float) -> None:
    for k in (1, 2, 3):
        found = greedy(list(WEIGHTS), objective(additive, noise), budget=k, seed=1, replications=8)
        assert additive(frozenset(found.chosen)) == best_of(additive, list(WEIGHTS), k)
        assert found.chosen == sorted(WEIGHTS, key=WEIGHTS.get, reverse=True)[:k]


def test_a_submodular_objective_gets_at_least_the_greedy_bound_of_the_best_set() -> None:
    found = greedy(list(COVERS), objective(coverage), budget=2, seed=1, replications=4)
    best = best_of(coverage, list(COVERS), 2)
    assert found.chosen[0] == "a"  # so greedy misses the best pair: the bound is not vacuous
    assert coverage(frozenset(found.chosen)) < best
    assert coverage(frozenset(found.chosen)) >= (1 - 1 / math.e) * best
    np.testing.assert_allclose(found.value - found.empty, coverage(frozenset(found.chosen)))


def naive_greedy(value, candidates, k):  # type: ignore[no-untyped-def]
    chosen: list = []
    for _ in range(k):
        rest = [c for c in candidates if c not in chosen]
        chosen.append(max(rest, key=lambda c: value(frozenset([*chosen, c]))))
    return chosen


def test_lazy_evaluation_picks_what_plain_greedy_picks_with_fewer_evaluations() -> None:
    rng = np.random.default_rng(4)
    items = {
        chr(ord("a") + i): set(rng.choice(30, size=rng.integers(2, 9), replace=False))
        for i in range(12)
    }

    def cover(s: frozenset) -> float:
        return float(len(set().union(*(items[t] for t in s)))) if s else 0.0

    evaluate = objective(cover)
    found = greedy(list(items), evaluate, budget=5, seed=2, replications=4, contenders=0)
    assert found.chosen == naive_greedy(cover, list(items), 5)
    plain = 1 + sum(len(items) - i for i in range(5)) + 5  # the empty set, each step, each pick
    assert found.evaluations < plain
    assert len(evaluate.calls) == found.evaluations  # type: ignore[attr-defined]
    assert len({frozenset(s) for s, _ in evaluate.calls}) == len(evaluate.calls)  # type: ignore[attr-defined]


def test_costs_keep_to_the_budget_and_the_better_rule_wins() -> None:
    # One expensive candidate worth a lot, many cheap ones worth a little each: the gain rule
    # takes the expensive one, the gain-per-cost rule the cheap ones.
    worth = {"big": 10.0, "c1": 3.0, "c2": 3.0, "c3": 3.0, "c4": 3.0}
    costs = {"big": 4.0, "c1": 1.0, "c2": 1.0, "c3": 1.0, "c4": 1.0}

    def value(s: frozenset) -> float:
        return sum(worth[t] for t in s)

    found = greedy(list(worth), objective(value), budget=4, costs=costs, seed=3, replications=4)
    assert sum(costs[t] for t in found.chosen) <= 4
    assert found.rule == "gain per cost" and sorted(found.chosen) == ["c1", "c2", "c3", "c4"]
    assert found.other is not None and found.other.chosen == ["big"]
    assert found.steps["spent"].tolist() == [1.0, 2.0, 3.0, 4.0]
    nothing = greedy(list(worth), objective(value), budget=0.5, costs=costs, seed=3, replications=4)
    assert nothing.chosen == [] and nothing.steps.empty


def test_each_step_reports_its_gain_and_how_sure_the_pick_is() -> None:
    found = greedy(list(WEIGHTS), objective(additive, 2.0), budget=3, seed=5, replications=30)
    steps = found.steps
    assert steps["target"].tolist() == found.chosen
    # Gains are the weights; with noise 2 over 30 replications the intervals hold them.
    truth = np.array([WEIGHTS[t] for t in found.chosen])
    assert ((steps["gain_low"] <= truth) & (truth <= steps["gain_high"])).all()
    # "a" (5.0) beats the runner-up "j" (4.5) by less than the noise: not sure; "c" (4.0)
    # after "a" and "j" beats "e" (3.5) by as little.
    assert steps["runner_up"].notna().all()
    assert ((steps["p_best"] > 0) & (steps["p_best"] <= 1)).all()
    far = greedy(list(WEIGHTS), objective(additive, 0.01), budget=1, seed=5, replications=30)
    assert far.steps["p_best"].iloc[0] == 1.0


def test_p_best_is_the_share_of_paired_resamples_the_pick_wins() -> None:
    rng = np.random.default_rng(0)
    assert p_best(np.array([[3.0, 3.1, 2.9], [1.0, 1.2, 0.8]]), 500, rng) == 1.0
    assert p_best(np.array([[1.0, 1.0], [1.0, 1.0]]), 500, rng) == 0.0  # a tie is not a win
    # Two equally good candidates: about half the resamples each.
    same = np.random.default_rng(1).normal(0, 1, (2, 400))
    share = p_best(same - same.mean(axis=1, keepdims=True), 4000, rng)
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / 4000) + 0.1  # resampling and the draws' own
    assert math.isnan(p_best(np.ones((1, 3)), 10, rng))


def test_bad_arguments_and_bad_evaluations_are_named() -> None:
    ok = objective(additive)
    with pytest.raises(LaotieError, match="listed twice"):
        greedy(["a", "a"], ok, budget=1, seed=1, replications=2)
    with pytest.raises(LaotieError, match="cost of 'b' is None"):
        greedy(["a", "b"], ok, budget=1, costs={"a": 1.0}, seed=1, replications=2)
    with pytest.raises(LaotieError, match="replications = 1"):
        greedy(["a"], ok, budget=1, seed=1, replications=1)
    with pytest.raises(LaotieError, match="budget = -1"):
        greedy(["a"], ok, budget=-1, seed=1, replications=2)

    def short(sets, seed, replications):  # type: ignore[no-untyped-def]
        return np.zeros((len(sets), replications - 1))

    with pytest.raises(LaotieError, match=r"shape \(1, 1\) for 1 sets and 2 replications"):
        greedy(["a"], short, budget=1, seed=1, replications=2)

    def nan(sets, seed, replications):  # type: ignore[no-untyped-def]
        return np.full((len(sets), replications), np.nan)

    with pytest.raises(LaotieError, match="not finite"):
        greedy(["a"], nan, budget=1, seed=1, replications=2)


def test_the_same_seed_gives_the_same_selection() -> None:
    one = greedy(list(WEIGHTS), objective(additive, 3.0), budget=3, seed=9, replications=6)
    two = greedy(list(WEIGHTS), objective(additive, 3.0), budget=3, seed=9, replications=6)
    assert one.chosen == two.chosen
    assert one.steps.equals(two.steps)


def test_the_budget_is_a_most_not_an_amount_to_spend_whatever_it_buys() -> None:
    worth = {"a": 5.0, "b": -3.0, "c": -4.0}

    def value(s: frozenset) -> float:
        return sum(worth[t] for t in s)

    found = greedy(list(worth), objective(value), budget=3, seed=1, replications=2)
    assert found.chosen == ["a"] and found.stopped == "no candidate adds to the objective"
    spent = greedy(list(worth), objective(value), budget=3, seed=1, replications=2, stop=False)
    assert spent.chosen == ["a", "b", "c"] and spent.stopped == "every candidate is chosen"
    two = greedy(list(worth), objective(value), budget=2, seed=1, replications=2, stop=False)
    assert two.chosen == ["a", "b"] and two.stopped == "the budget is spent"
    none = greedy(["b", "c"], objective(value), budget=3, seed=1, replications=2)
    assert none.chosen == [] and list(none.steps.columns) == list(STEPS)


# Not submodular: c adds little alone and much beside a.
SYNERGY = {"": 0, "a": 10, "b": 9, "c": 4, "ab": 15, "ac": 30, "bc": 13, "abc": 35}


def synergy(s: frozenset) -> float:
    return float(SYNERGY["".join(sorted(s))])


def test_a_contender_evaluated_afresh_that_beats_the_pick_is_the_pick() -> None:
    lazy = greedy(list("abc"), objective(synergy), budget=2, seed=1, replications=2, contenders=0)
    assert lazy.chosen == ["a", "b"]  # plain CELF trusts c's stale bound (4 < b's 5)
    found = greedy(list("abc"), objective(synergy), budget=2, seed=1, replications=2)
    assert found.chosen == ["a", "c"]
    assert found.steps["gain"].tolist() == [10.0, 20.0]
    assert found.steps["runner_up"].tolist() == ["b", "b"]
    assert (found.steps["p_best"] == 1.0).all()


def test_under_gain_per_cost_the_report_ranks_by_gain_per_cost() -> None:
    costs = {c: 0.5 + 0.25 * i for i, c in enumerate(WEIGHTS)}
    found = greedy(
        list(WEIGHTS), objective(additive), budget=2.5, costs=costs, seed=1, replications=4
    )
    per_cost = {c: WEIGHTS[c] / costs[c] for c in WEIGHTS}
    first = found.steps.iloc[0]
    if found.rule == "gain per cost":
        assert first["target"] == max(per_cost, key=per_cost.get)
        rest = sorted((c for c in WEIGHTS if c != first["target"]), key=per_cost.get)
        assert first["runner_up"] == rest[-1]
    assert first["p_best"] == 1.0  # a deterministic objective: the pick is surely best
