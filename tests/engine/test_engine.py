"""The engine's determinism and hygiene, and the trust-versus-traffic comparison it exists for."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

from laotie import Engine, Scenario, ScenarioError, graph, simulate
from laotie.engine import engine as conductor
from laotie.metrics import COLUMNS, COUNTS, ROWS
from laotie.results import Result

SCENARIO = Scenario.preset("mudanjiang", scale=0.001).replace(
    **{
        "producers.n_producers": 5,
        "producers.channel": "both",
        "training.day": 3,
        "training.n_creators": 3,
        "training.follower_gain": 20,
        "word_of_mouth.prob": 0.2,
    }
)


def same_outcomes(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )


def assert_same_result(a: Result, b: Result) -> None:
    pd.testing.assert_frame_equal(a.daily, b.daily)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert same_outcomes(a.outcomes, b.outcomes)
    assert np.array_equal(a.creator_income, b.creator_income)
    assert np.array_equal(a.producer_income, b.producer_income)
    assert a.seed == b.seed


# ------------------------------------------------------------------ determinism
def test_same_seed_same_result() -> None:
    a = simulate(SCENARIO, days=35, seed=3)
    b = simulate(SCENARIO, days=35, seed=3)
    assert a.summary.loc["all", "orders"] > 0  # not vacuous
    assert a.outcomes["producer_income_total"] > 0
    assert_same_result(a, b)


def test_same_seed_same_engine_state() -> None:
    g = graph.city(SCENARIO.city, seed=1)
    one, two = Engine(g, SCENARIO, seed=9), Engine(g, SCENARIO, seed=9)
    one.run(12)
    two.run(12)
    assert np.array_equal(np.array(one.history), np.array(two.history))
    for name in ("spent", "ever_ordered", "seller_gmv", "creator_income", "producer_income"):
        assert np.array_equal(getattr(one.ledger, name), getattr(two.ledger, name)), name
    m1, m2 = one.market, two.market
    assert np.array_equal(m1.listeners.trust, m2.listeners.trust)
    assert np.array_equal(m1.storefront_trust, m2.storefront_trust)
    assert np.array_equal(m1.follows.buffer_user, m2.follows.buffer_user)


def test_another_seed_gives_another_result() -> None:
    a = simulate(SCENARIO, days=10, seed=3)
    b = simulate(SCENARIO, days=10, seed=4)
    assert not a.daily.equals(b.daily)


def test_a_graph_passed_in_fixes_the_city() -> None:
    g = graph.city(SCENARIO.city, seed=8)
    a = simulate(SCENARIO, days=8, seed=3, graph=g)
    b = simulate(SCENARIO, days=8, seed=3, graph=g)
    c = simulate(SCENARIO, days=8, seed=3)  # builds its own city from the seed
    assert_same_result(a, b)
    assert not a.daily.equals(c.daily)


def test_the_recorded_seed_repeats_the_run() -> None:
    """Result.seed (entropy and spawn key) is enough to repeat a run on the same graph."""
    g = graph.city(SCENARIO.city, seed=8)
    result = simulate(SCENARIO, days=12, seed=21, graph=g)
    sequence = np.random.SeedSequence(
        result.seed["entropy"], spawn_key=tuple(result.seed["spawn_key"])
    )
    engine = Engine(g, SCENARIO, seed=sequence)
    engine.run(12)
    assert_same_result(result, Result.from_engine(engine))


def test_a_seed_sequence_can_be_reused() -> None:
    sequence = np.random.SeedSequence(5)
    a = simulate(SCENARIO, days=5, seed=sequence)
    b = simulate(SCENARIO, days=5, seed=sequence)
    pd.testing.assert_frame_equal(a.daily, b.daily)


def test_global_random_state_is_untouched() -> None:
    np.random.seed(12345)
    random.seed(678)
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    simulate(SCENARIO, days=5, seed=3)
    simulate(SCENARIO, days=4, seed=None)
    after = np.random.get_state()
    assert numpy_state[0] == after[0]
    assert np.array_equal(numpy_state[1], after[1])
    assert numpy_state[2:] == after[2:]
    assert random.getstate() == python_state


# ------------------------------------------------------------------ days
def test_zero_days_gives_an_empty_frame_with_the_right_columns() -> None:
    untrained = SCENARIO.replace(**{"training.day": -1, "training.n_creators": 0})
    empty = simulate(untrained, days=0, seed=1)
    one = simulate(untrained, days=1, seed=1)
    assert len(empty.daily) == 0
    assert list(empty.daily.columns) == ["day", "channel", *COLUMNS]
    assert list(empty.daily.columns) == list(one.daily.columns)
    pd.testing.assert_series_equal(empty.daily.dtypes, one.daily.dtypes)
    assert list(empty.summary.index) == list(one.summary.index)
    assert (empty.summary[["exposures", "orders", "gmv"]] == 0).all().all()
    assert empty.producer_income.sum() == 0


@pytest.mark.parametrize("days", [-1, 2.5, True, "3"])
def test_bad_days_are_refused(days: object) -> None:
    with pytest.raises(ScenarioError, match="days"):
        simulate(SCENARIO, days=days, seed=1)  # type: ignore[arg-type]


def test_days_default_to_the_scenarios_run_days() -> None:
    scenario = SCENARIO.replace(**{"run.days": 4})
    assert simulate(scenario, seed=1).daily["day"].max() == 3


# ------------------------------------------------------------------ the graph is not modified
def graph_arrays(g: graph.TrustGraph) -> dict[str, np.ndarray]:
    names = ("indptr", "indices", "trust", "layer", "region", "hometown", "rural", "user")
    return {name: getattr(g, name).copy() for name in (*names, "creator_kind")}


def test_the_graph_passed_in_is_not_modified() -> None:
    g = graph.city(SCENARIO.city, seed=2)
    before = graph_arrays(g)
    busy = SCENARIO.replace(**{"decision.intercept": -2.0, "creators.follow_prob": 1.0})
    engine = Engine(g, busy, seed=5)
    engine.run(10)
    simulate(busy, days=10, seed=5, graph=g)
    after = graph_arrays(g)
    for name, values in before.items():
        assert np.array_equal(values, after[name]), name
    assert g.n_edges == len(before["indices"])
    # The run did change its own copies (so the comparison above means something): trust in
    # friends and in storefronts moved, and follows were added.
    m = engine.market
    social = np.sort(g.trust[g.layer != 2])
    assert not np.array_equal(np.sort(m.listeners.trust), social)
    assert np.any(m.storefront_trust[m.users] != np.float32(busy.storefronts.trust))
    assert m.follows.count.sum() > int((g.layer == 2).sum())


# ------------------------------------------------------------------ trust versus traffic
#
# Conversion of a family over a run = its orders / its exposures, summed over 60 days. Runs
# with different seeds are independent replicates; the per-seed difference d_k = conversion
# of trust - conversion of traffic has a standard error sd(d) / sqrt(K) over K seeds. "Exceeds"
# means mean(d) > 4 SE; "the gap closes" means |mean(d)| <= 4 SE.

CITY_SCALE = 0.002
RUN_DAYS = 60
SEEDS = range(8)


def conversion_gap(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per seed: trust conversion, traffic conversion, and their difference."""
    trust, traffic = [], []
    for seed in SEEDS:
        s = simulate(scenario, days=RUN_DAYS, seed=seed).summary
        trust.append(s.loc["trust", "orders"] / s.loc["trust", "exposures"])
        traffic.append(s.loc["traffic", "orders"] / s.loc["traffic", "exposures"])
    t, f = np.array(trust), np.array(traffic)
    return t, f, t - f


def test_trust_converts_better_than_traffic_with_the_defaults() -> None:
    t, f, d = conversion_gap(Scenario.preset("mudanjiang", scale=CITY_SCALE))
    se = d.std(ddof=1) / math.sqrt(len(d))
    assert d.mean() > 4 * se, (t.mean(), f.mean(), se)


def test_the_gap_closes_when_trust_and_promises_are_equal() -> None:
    """Same trust, same promises, same products: conversion is the same in every channel.

    Trust: creators' followers, strangers and storefront shoppers all start at T0 (follow
    trust drawn with the largest concentration, 1e6: sd 4e-4, so trust_weight * sd ≈ 2e-3 in
    the logit) and keep it (trust_gain = trust_loss = 0, repeat_weight = 0, so past orders do
    not move anyone's utility). Promises: overstatement 0 makes every promise the true
    quality, whatever the seller's authenticity. Products: one price for all (dispersion 0),
    quality concentration 1e6 (sd 2e-4). No word of mouth, no comparisons (比价 would pick
    the best of several storefront offers), budgets too large to bind (whose price term is
    then below 1e-4 in the logit).
    """
    t0 = 0.25
    equal = Scenario.preset(
        "mudanjiang",
        scale=CITY_SCALE,
        **{
            "city.trust_follow": t0,
            "city.trust_concentration": 1e6,
            "creators.stranger_trust": t0,
            "storefronts.trust": t0,
            "outcomes.overstatement": 0.0,
            "outcomes.trust_gain": 0.0,
            "outcomes.trust_loss": 0.0,
            "decision.repeat_weight": 0.0,
            "creators.price_dispersion": 0.0,
            "storefronts.price_dispersion": 0.0,
            "creators.price_mean": 80.0,
            "storefronts.price_mean": 80.0,
            "products.quality_concentration": 1e6,
            "storefronts.comparisons": 0,
            "word_of_mouth.prob": 0.0,
            "population.budget_mean": 1e7,
        },
    )
    t, f, d = conversion_gap(equal)
    se = d.std(ddof=1) / math.sqrt(len(d))
    assert abs(d.mean()) <= 4 * se, (t.mean(), f.mean(), se)
    # The ratio is within sampling error of 1 (delta method on the two means).
    ratio = t.mean() / f.mean()
    assert abs(ratio - 1) <= 4 * se / f.mean(), ratio
    # And both are the documented logit at the common trust, promise and (nil) price.
    logit = equal.decision
    u = (
        logit.intercept
        + logit.trust_weight * t0
        + logit.quality_weight * (equal.products.quality_mean - 0.5)
    )
    expected = 1 / (1 + math.exp(-u))
    for family in (t, f):
        assert abs(family.mean() - expected) <= 4 * family.std(ddof=1) / math.sqrt(len(family))


def test_phases_draw_from_their_own_streams() -> None:
    # Changing one phase's parameters leaves the other phases' draws alone (common random
    # numbers between arms): the first day's exposures do not depend on the logit, and the
    # creator channels do not depend on storefront comparisons.
    base = Scenario.preset("mudanjiang", scale=0.001)
    g = graph.city(base.city, seed=4)
    runs = {
        "base": base,
        "logit": base.replace(**{"decision.intercept": -2.0}),
        "compare": base.replace(**{"storefronts.comparisons": 0}),
    }
    first_day = {}
    for name, scenario in runs.items():
        engine = Engine(g, scenario, seed=8)
        first_day[name] = engine.step()
    exposures = COUNTS.index("exposures")
    np.testing.assert_array_equal(first_day["base"][:, exposures], first_day["logit"][:, exposures])
    creator_rows = [ROWS.index("follow"), ROWS.index("discovery")]
    np.testing.assert_array_equal(
        first_day["base"][creator_rows, :], first_day["compare"][creator_rows, :]
    )
    assert (
        first_day["base"][ROWS.index("all"), COUNTS.index("orders")]
        != first_day["logit"][ROWS.index("all"), COUNTS.index("orders")]
    )


def test_a_storefront_table_too_large_is_refused_with_the_keys_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 3.6 GB of memories (two bits per user and storefront), past the table's 2 GB limit,
    # whatever the machine's memory (its own check, which comes first, is off).
    monkeypatch.setenv("LAOTIE_MEMORY_CHECK", "0")
    scenario = Scenario.preset("mudanjiang", scale=0.1).replace(
        **{"storefronts.n_storefronts": 100_000}
    )
    with pytest.raises(
        ScenarioError,
        match=r"storefronts.n_storefronts = 100,000 with 142,230 users needs a 3.6 GB table of"
        r" storefront memories \(two bits per user and storefront, 25,024 bytes a user\)",
    ):
        simulate(scenario, days=1, seed=0)


def test_order_value_histogram_counts_every_order() -> None:
    result = simulate(Scenario.preset("mudanjiang", scale=0.002), days=20, seed=3)
    histogram = result.order_values
    for channel in ("follow", "discovery", "wom", "storefront"):
        assert histogram[channel].sum() == result.summary.loc[channel, "orders"]
    # Bins are contiguous and cover every value.
    assert histogram["low"].iloc[0] == 0 and np.isinf(histogram["high"].iloc[-1])
    np.testing.assert_array_equal(histogram["high"].iloc[:-1], histogram["low"].iloc[1:])


def test_one_thread_or_two_give_identical_days() -> None:
    scenario = Scenario.preset("mudanjiang", scale=0.002).replace(**{"word_of_mouth.prob": 0.2})
    g = graph.city(scenario.city, seed=5)
    histories = []
    for threads in (1, 2):
        engine = Engine(g, scenario, seed=9, threads=threads)
        for _ in range(25):
            engine.step()
        engine.close()
        histories.append(np.array(engine.history))
    np.testing.assert_array_equal(histories[0], histories[1])
    assert histories[0][:, ROWS.index("wom"), COUNTS.index("orders")].sum() > 0


def test_month_flags_start_empty_each_month_and_give_the_repurchase_rates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # From the second month start on, the months' flags reuse each other's buffers: each
    # month must start empty, and a month's repurchase rate must come from the flags of the
    # two months before it (captured here as they were at each month's end).
    scenario = Scenario.preset("mudanjiang", scale=0.004)
    engine = Engine(graph.city(scenario.city, seed=2), scenario, seed=3)
    ended: list[np.ndarray] = []
    new_month = conductor.new_month

    def capture(ledger, day, replications):  # type: ignore[no-untyped-def]
        if engine.day:
            ended.append(engine.ledger.month_flags.copy())
        new_month(ledger, day, replications)
        assert not engine.ledger.month_flags.any() and not engine.ledger.month_active.any()
        if ended:
            np.testing.assert_array_equal(engine.ledger.last_month_flags, ended[-1])
            assert engine.ledger.last_month_flags is not engine.ledger.month_flags

    monkeypatch.setattr(conductor, "new_month", capture)
    engine.run(121)
    assert len(ended) == 4 and len(engine.repurchase) == 3
    for before, now, record in zip(ended[:-1], ended[1:], engine.repurchase, strict=True):
        bought = (before & 3) != 0
        assert bought.sum() > 0
        assert record["all"] == (bought & ((now & 3) != 0)).sum() / bought.sum()
    # Each month's record at its end: users active in it (bit 4) and its buyers (bits 1, 2).
    months = engine.ledger.months[0]
    assert [record["month"] for record in months] == [0, 1, 2, 3]
    for flags, record in zip(ended, months, strict=True):
        assert record["mau"] == np.count_nonzero(flags & 4) > 0
        assert record["buyers_all"] == np.count_nonzero(flags & 3)
        assert record["buyers_trust"] == np.count_nonzero(flags & 1)
        assert record["buyers_traffic"] == np.count_nonzero(flags & 2)
        assert not (flags & 4)[~engine.market.is_user].any()


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ("abc", "seed = 'abc': a seed must be"),
        (b"ab", "seed = b'ab'"),
        (np.array([1.9]), "must be 1-d and of integers"),
        (np.array([[1, 2]]), r"shape \(1, 2\)"),
        ([], r"seed = \[\]"),
        ([1, -2], r"seed\[1\]: .*non-negative"),
    ],
)
def test_bad_seeds_are_refused_with_what_is_allowed(seed: object, message: str) -> None:
    s = Scenario.preset("village")
    with pytest.raises(ScenarioError, match=message):
        Engine(graph.city(s.city, seed=1), s, seed=seed)  # type: ignore[arg-type]


def test_bad_recommendations_are_refused_with_the_values() -> None:
    s = Scenario.preset("village")
    engine = Engine(graph.city(s.city, seed=1), s, seed=1)
    user = int(engine.market.users[0])
    for args, message in (
        (([user], [0, 1]), "one id or one per user"),
        (([user], 0, np.nan), r"quality must be in \[0, 1\]; got \[nan\]"),
        ((["a"], 0), "must be integer ids"),
        (([1.5], 0), "must be integer ids"),
        (([-1], 0), r"registered users; 1 are not, e.g. \[-1\]"),
        (([user], 10**9), r"listing ids must be in 0 \.\. \d+; got \[1000000000\]"),
    ):
        with pytest.raises(ScenarioError, match=message):
            engine.recommend(*args)
    engine.recommend(user, 0)  # one user, as a scalar
    assert len(engine.recommendations) == 1


def test_only_listings_on_offer_can_be_recommended() -> None:
    """Growth: a specialty whose producer is not online, a closed storefront's listing or a
    non-selling creator's is on no shelf, and recommending it is refused, so that no order
    pays a producer before it is online."""
    s = Scenario.preset("village").replace(
        **{"growth.initial_sellers": 0.3, "producers.n_producers": 40}
    )
    engine = Engine(graph.city(s.city, seed=1), s, seed=5)
    m = engine.market
    user = int(m.users[0])
    offline = np.flatnonzero(
        np.isin(
            m.product_producer[m.listing_product],
            np.flatnonzero(m.producer_listed & ~m.producer_online),
        )
    )
    closed = np.flatnonzero(
        ~m.storefront_open[m.listing_seller - m.n_creators] & (m.listing_seller >= m.n_creators)
    )
    quiet = np.flatnonzero(~np.concatenate([m.selling, m.storefront_open])[m.listing_seller])
    assert len(offline) and len(closed) and len(quiet)
    for listing in (offline[0], closed[0], quiet[0]):
        with pytest.raises(ScenarioError, match=rf"listing {listing} is not on offer"):
            engine.recommend(user, int(listing))
    on = np.flatnonzero(
        m.listing_on_shelf & np.concatenate([m.selling, m.storefront_open])[m.listing_seller]
    )
    engine.recommend(user, int(on[0]))
    assert len(engine.recommendations) == 1
