"""The decisions (docs/model.md 3.5, "Decisions"): the purchase coin is σ(u) with scipy's
bits, the utility is the documented formula, and budgets accept each buyer's candidates in
the day's order while their running total fits the budget left."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from laotie import Scenario
from laotie.engine.rules.decisions import Weights, budgets, candidates, ranked, utilities


def accepted(values: list[float], budget: float, spent: float, *, repeat: bool, ever: bool = False):  # type: ignore[no-untyped-def]
    """The budgets' verdict on one buyer's candidates (in the day's order)."""
    n = len(values)
    user = np.zeros(n, np.int64)
    accept, blocked = np.zeros(n, bool), np.zeros(n, bool)
    budgets(
        np.arange(n),
        user,
        np.array(values, float),
        np.array([budget]),
        np.array([spent]),
        np.array([ever]),
        repeat,
        1,
        accept,
        blocked,
    )
    return accept.tolist(), blocked.tolist()


def test_budgets_accept_while_the_running_total_fits_then_block_the_rest() -> None:
    # 90 left: 30 and 30 + 50 fit; 30 + 50 + 40 does not, nor does anything after it, even
    # a candidate that would fit alone.
    assert accepted([30, 50, 40, 5], budget=100, spent=10, repeat=True) == (
        [True, True, False, False],
        [False, False, True, True],
    )
    # Exactly the budget left fits.
    assert accepted([40, 50], budget=100, spent=10, repeat=True) == ([True, True], [False, False])
    # Nothing left: every candidate is blocked.
    assert accepted([1, 1], budget=100, spent=100, repeat=True) == ([False, False], [True, True])


def test_without_repeat_purchases_only_a_first_buyers_first_candidate_counts() -> None:
    assert accepted([30, 20], budget=100, spent=0, repeat=False) == ([True, False], [False, False])
    assert accepted([300, 20], budget=100, spent=0, repeat=False) == (
        [False, False],
        [True, False],
    )
    # A buyer who ever ordered orders no more (and nothing is counted as blocked).
    assert accepted([30], budget=100, spent=0, repeat=False, ever=True) == ([False], [False])


def test_budgets_restart_for_every_buyer_and_replication() -> None:
    # Two buyers of replication 0 and one of replication 1 (nodes 0, 1 and 2 + 3), each with
    # 50 left: each one's running total starts from zero.
    user = np.array([0, 0, 1, 1, 5, 5])
    value = np.array([30.0, 30.0, 20.0, 20.0, 50.0, 1.0])
    accept, blocked = np.zeros(6, bool), np.zeros(6, bool)
    budgets(
        np.arange(6),
        user,
        value,
        np.full(6, 50.0),
        np.zeros(6),
        np.zeros(6, bool),
        True,
        3,
        accept,
        blocked,
    )
    assert accept.tolist() == [True, False, True, True, True, False]
    assert blocked.tolist() == [False, True, False, False, False, True]


@pytest.mark.parametrize("seed", range(20))
def test_the_days_order_is_lexsorts(seed: int) -> None:
    # ranked replaces np.lexsort((rank, primary)) for the budgets' order and the accepted
    # orders' order: the same indices, with repeated buyers and ranks (ties by position),
    # zero-, one- and many-entry days, and keys out of range (negative, or past int64 once
    # multiplied by the entries), which fall back to lexsort.
    rng = np.random.default_rng(seed)
    n = int(rng.choice([0, 1, 2, 7, 500, 5000]))
    cases = [
        (rng.integers(0, 3, n), rng.random(n)),
        (rng.integers(0, 2_000_000, n), rng.random(n)),
        (rng.integers(0, 40, n), np.round(rng.random(n), 1)),  # equal ranks
        (np.zeros(n, np.int64), np.round(rng.random(n), 2)),
        (rng.integers(-5, 5, n), rng.random(n)),
        (rng.integers(2**61, 2**62, n), rng.random(n)),
        (rng.integers(0, 100, n).astype(np.int32), rng.random(n)),
        # Not the engine's (uniform ranks, integer buyers): NaN ranks, float keys.
        (rng.integers(0, 3, n), np.where(rng.random(n) < 0.5, np.nan, rng.random(n))),
        (rng.random(n) * 3, rng.random(n)),
    ]
    for primary, rank in cases:
        assert np.array_equal(ranked(primary, rank), np.lexsort((rank, primary)))


def test_purchase_coins_are_scipy_expit_coin_flips() -> None:
    # The purchase probability must have scipy's bits: utilities over the range where the
    # probability is neither 0 nor 1, its extremes, infinities and NaN, and draws set to the
    # very probabilities (where a last-bit difference changes the outcome).
    rng = np.random.default_rng(5)
    utility = np.concatenate(
        [
            rng.normal(-2, 3, 500_000),
            rng.uniform(-800, 800, 100_000),
            [0.0, -0.0, 36.7, -36.7, 709.8, -709.8, 745.2, -745.2, np.inf, -np.inf, np.nan],
        ]
    )
    draws = rng.random(len(utility))
    draws[::3] = expit(utility[::3])  # a draw equal to its probability is not below it
    draws[1::3] = np.nextafter(expit(utility[1::3]), 0)  # just below it: a candidate
    # Draws on either side of the bound by which the kernel refuses without exp, where the
    # bound is nearest the probability (utilities near 0) and elsewhere below 1.
    near = np.concatenate([rng.uniform(-1e-4, 1e-4, 20_000), rng.uniform(-30, 1, 20_000)])
    y = -near
    bound = 1.000000001 / (2 + y + y**2 / 2 + y**3 / 6)
    utility = np.concatenate([utility, near, near])
    draws = np.concatenate([draws, np.nextafter(bound, 0), np.nextafter(bound, 1)])
    chosen = np.empty(len(utility), np.int64)
    clicks = np.zeros(1, np.int64)
    users = np.zeros(len(utility), np.int32)
    n = candidates(draws, utility, 1.0, users, 10, clicks, chosen)
    np.testing.assert_array_equal(chosen[:n], np.flatnonzero(draws < expit(utility)))
    assert clicks[0] == np.count_nonzero(draws < 1)  # attention 1: every exposure is a click


@pytest.mark.parametrize("intercept", [-6.0, -1.3, 2.0])
def test_the_utility_is_the_documented_formula(intercept: float) -> None:
    scenario = Scenario.preset("village").replace(**{"decision.intercept": intercept})
    d = scenario.decision
    rng = np.random.default_rng(0)
    n = 100_000
    trust = rng.random(n, dtype=np.float32)
    quality = rng.random(n, dtype=np.float32)
    memory = rng.integers(-1, 2, n).astype(np.int8)
    factor = rng.lognormal(-4, 1, n)
    price = rng.lognormal(4, 0.6, n)
    got = np.empty(n)
    index = np.arange(n)
    utilities(Weights.of(scenario), index, index, trust, quality, memory, factor, price, got)
    want = (
        d.intercept
        + d.trust_weight * trust.astype(np.float64)
        + d.quality_weight * (quality.astype(np.float64) - 0.5)
        - factor * price
        + d.repeat_weight * memory
    )
    # The first terms are summed in float32 (as float32 trust and quality are): within a few
    # float32 units of the largest of them.
    np.testing.assert_allclose(got, want, rtol=0, atol=4 * np.finfo(np.float32).eps * 12)


def test_the_funnel_clicks_then_buys_with_one_uniform() -> None:
    """An exposure is clicked when its draw is below the attention ``c`` and becomes a
    candidate when, besides, the draw divided by ``c`` is below σ(u); clicks are counted
    per replication of the (stacked) user."""
    rng = np.random.default_rng(5)
    n, nodes, attention = 200_000, 100, 0.04
    utility = rng.normal(0, 2, n)
    draws = rng.random(n)
    users = rng.integers(0, 3 * nodes, n).astype(np.int32)
    clicks = np.zeros(3, np.int64)
    chosen = np.empty(n, np.int64)
    k = candidates(draws, utility, attention, users, nodes, clicks, chosen)
    clicked = draws < attention
    np.testing.assert_array_equal(
        chosen[:k], np.flatnonzero(clicked & (draws / attention < expit(utility)))
    )
    np.testing.assert_array_equal(clicks, np.bincount(users[clicked] // nodes, minlength=3))
    # The two stages multiply: P(candidate) = c · σ(u), within 4 binomial sd.
    expected = attention * expit(utility).sum()
    assert abs(k - expected) < 4 * np.sqrt(expected)
