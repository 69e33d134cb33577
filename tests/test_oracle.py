"""The engine against the test oracle (tests/oracle.py), and the documented invariants.

The oracle is a plain, one-object-per-agent implementation of docs/model.md sections 3.4–3.6.
The engine and the oracle draw different random streams, so they are compared in
distribution: over many simulation seeds on a fixed graph, the mean of every count or sum
metric (per day and channel, and its total over the days) must agree within

    |mean_engine - mean_oracle| <= z * sqrt(se_engine**2 + se_oracle**2),

with ``z`` from a Bonferroni correction over every comparison of the file at a family-wise
error of 0.001. Where both sides are exactly deterministic (standard error 0) the means must
be equal up to a rounding floor.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from oracle import (
    CHANNELS,
    COLUMNS,
    COUNTS,
    FAMILIES,
    FOLLOW,
    HEAD,
    LOCAL_CREATOR,
    ROWS,
    Market,
    run_oracle,
)
from scipy.stats import norm

from laotie import Engine, Result, graph, metrics
from laotie.scenario import Scenario

FAMILY_WISE_ERROR = 0.001
N_SEEDS = 200  # per side and scenario in the default run
DAYS = 15
SLOW_SEEDS = 1000
SLOW_DAYS = 40  # crosses the monthly budget reset of day 30
ADDITIVE = ("exposures", "orders", "gmv", "new_follows", "budget_blocked")
DISTINCT = ("exposed_users", "buyers")

# ----------------------------------------------------------------------------- scenarios
SPEC = graph.CitySpec(
    regions=(graph.Region("A", 240, 0.5), graph.Region("B", 120, 0.2)),
    local_degree=8,
    group_size=40,
    city_degree=4,
    creator_share=0.08,
    min_followers=8,
    max_follower_share=0.3,
    head_share=0.15,
)
GRAPH_SEED = 7

SCENARIOS: dict[str, dict[str, object]] = {
    # Every channel busy: the inclusive policy with a binding head cap, a strong memory of past
    # purchases, word of mouth over 3 days, trust-dependent baskets, price comparison among
    # few categories, training of local creators with new followers.
    "busy_inclusive": {
        "policy.head_cap": 0.15,
        "decision.repeat_weight": 2.0,
        "decision.intercept": -2.5,
        "decision.basket_trust_effect": 1.0,
        "word_of_mouth.prob": 0.15,
        "word_of_mouth.days": 3,
        "policy.discovery_per_active": 1.0,
        "creators.post_prob": 0.7,
        "storefronts.n_storefronts": 8,
        "storefronts.products_per_storefront": 4,
        "storefronts.comparisons": 2,
        "storefronts.impressions_per_active": 0.5,
        "products.n_categories": 4,
        "training.day": 5,
        "training.n_creators": 3,
        "training.rule": "local",
        "training.follower_gain": 10,
    },
    # The head policy (reach and discovery grow with followers) with a tight budget so that
    # the budget prefix rule binds; training of the most followed creators.
    "head_tight_budget": {
        "policy.traffic": "head",
        "policy.head_exponent": 1.0,
        "decision.repeat_weight": 2.0,
        "decision.intercept": -2.0,
        "decision.price_weight": 0.1,
        "decision.basket_extra_items": 1.5,
        "population.budget_mean": 150.0,
        "word_of_mouth.prob": 0.1,
        "policy.discovery_per_active": 0.8,
        "creators.post_prob": 0.8,
        "storefronts.n_storefronts": 10,
        "storefronts.products_per_storefront": 3,
        "storefronts.impressions_per_active": 0.5,
        "products.n_categories": 3,
        "training.day": 3,
        "training.n_creators": 2,
        "training.rule": "followers",
        "training.follower_gain": 6,
    },
    # Poor producers' specialties listed by local creators and by storefronts (so they enter
    # price comparison), inauthentic creators, a budget that binds now and then; training of
    # rural creators.
    "producers": {
        "producers.n_producers": 8,
        "producers.channel": "both",
        "producers.listings": 2,
        "population.budget_mean": 300.0,
        "decision.intercept": -1.5,
        "decision.price_weight": 0.1,
        "word_of_mouth.prob": 0.2,
        "policy.discovery_per_active": 1.0,
        "creators.post_prob": 0.8,
        "creators.catalogue_size": 2,
        "creators.authenticity_mean": 0.5,
        "outcomes.overstatement": 0.3,
        "storefronts.n_storefronts": 6,
        "storefronts.products_per_storefront": 2,
        "storefronts.impressions_per_active": 0.5,
        "products.n_categories": 3,
        "training.day": 4,
        "training.n_creators": 3,
        "training.rule": "rural",
        "training.follower_gain": 5,
    },
    # Single-purchase mode (Bass-style adoption) with a budget below most baskets, so that
    # the budget rule decides whether a user's one kept candidate is bought; random training.
    "single_purchase_tight_budget": {
        "population.repeat_purchases": False,
        "population.budget_mean": 80.0,
        "decision.intercept": -1.5,
        "decision.price_weight": 0.1,
        "word_of_mouth.prob": 0.3,
        "policy.discovery_per_active": 1.0,
        "creators.post_prob": 0.8,
        "storefronts.n_storefronts": 6,
        "storefronts.products_per_storefront": 3,
        "storefronts.impressions_per_active": 0.5,
        "products.n_categories": 3,
        "training.day": 4,
        "training.n_creators": 3,
        "training.rule": "random",
        "training.follower_gain": 5,
    },
    # Trust dynamics dominate: every creator posts every day to all its active followers,
    # storefront ads and word of mouth are busy, purchases hinge on trust (a large trust
    # weight, no memory term), half the orders disappoint (inauthentic sellers, noisy
    # quality) and trust moves fast both ways; a month, so that trust has time to move.
    "trust_dynamics": {
        "decision.trust_weight": 8.0,
        "decision.intercept": -5.0,
        "decision.repeat_weight": 0.0,
        "decision.price_weight": 0.05,
        "population.activity_mean": 0.6,
        "creators.post_prob": 1.0,
        "creators.authenticity_mean": 0.5,
        "storefronts.authenticity_mean": 0.5,
        "storefronts.trust": 0.5,
        "storefronts.n_storefronts": 4,
        "storefronts.products_per_storefront": 3,
        "storefronts.impressions_per_active": 0.5,
        "storefronts.comparisons": 1,
        "products.n_categories": 3,
        "policy.reach": 1.0,
        "policy.discovery_per_active": 0.5,
        "outcomes.overstatement": 0.3,
        "outcomes.quality_noise": 0.15,
        "outcomes.tolerance": 0.05,
        "outcomes.trust_gain": 0.3,
        "outcomes.trust_loss": 0.5,
        "word_of_mouth.prob": 0.2,
        "word_of_mouth.days": 2,
    },
    # On the hand-made fans_graph: word of mouth must go from the fans who buy to the others
    # who trust them (one-way ties); no discovery, no storefronts.
    "fans_one_way_ties": {
        "decision.intercept": -1.0,
        "word_of_mouth.prob": 0.2,
        "word_of_mouth.days": 2,
        "policy.discovery_per_active": 0.0,
        "storefronts.impressions_per_active": 0.0,
        "creators.post_prob": 0.8,
        "policy.head_cap": 0.2,
    },
}


@functools.cache
def city_graph() -> graph.TrustGraph:
    return graph.city(SPEC, seed=GRAPH_SEED)


@functools.cache
def fans_graph() -> graph.TrustGraph:
    """A hand-made graph where the direction of trust decides who hears word of mouth.

    120 users in one region: 4 creators (one head KOL), 30 fans (ids 4..33) who follow every
    creator and trust one another (mutual local ties), and 86 others who each trust 3 fans
    through one-way local ties (the fans do not trust them back) and trust one another through
    mutual city ties. With no discovery and no storefronts only fans are exposed at first; their
    recommendations reach the others only if word of mouth goes from ``j`` to the ``i`` with a
    tie ``i -> j`` (an engine that used ``j``'s own ties would keep it among the fans).
    """
    rng = np.random.default_rng(2024)
    creators, fans, others = range(4), range(4, 34), range(34, 120)
    src, dst, layer = [], [], []

    def tie(i: int, j: int, code: int) -> None:
        src.append(i)
        dst.append(j)
        layer.append(code)

    for f in fans:
        for c in creators:
            tie(f, c, FOLLOW)
        for f2 in fans:
            if f < f2 and rng.random() < 0.3:
                tie(f, f2, 0)
                tie(f2, f, 0)
    for o in others:
        for f in rng.choice(list(fans), size=3, replace=False):
            tie(o, int(f), 0)
        for o2 in others:
            if o < o2 and rng.random() < 0.04:
                tie(o, o2, 1)
                tie(o2, o, 1)
    trust = rng.beta(2.4, 1.6, size=len(src))  # mean 0.6
    kind = np.zeros(120, np.int8)
    kind[list(creators)] = LOCAL_CREATOR
    kind[0] = HEAD
    return graph.TrustGraph.from_edges(120, src, dst, trust, layer, creator_kind=kind)


GRAPHS = {"fans_one_way_ties": fans_graph}


def scenario_graph(name: str) -> graph.TrustGraph:
    return GRAPHS.get(name, city_graph)()


def scenario(name: str) -> Scenario:
    return Scenario(city=SPEC, name=name).replace(**SCENARIOS[name])


# ----------------------------------------------------------------------------- invariants
def check_daily(frame: pd.DataFrame, days: int) -> None:
    """The documented layout and invariants of a daily frame (section 3.6)."""
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == days * len(ROWS)
    assert frame["day"].tolist() == np.repeat(np.arange(days), len(ROWS)).tolist()
    assert frame["channel"].tolist() == list(ROWS) * days
    counts = frame[list(COUNTS)].to_numpy(float)
    assert np.isfinite(counts).all() and (counts >= 0).all()
    for col in ("exposures", "exposed_users", "orders", "buyers", "new_follows", "budget_blocked"):
        assert (frame[col] == np.round(frame[col])).all(), col
    f = frame.set_index(["day", "channel"])
    for day in range(days):
        d = f.loc[day]
        assert (d.orders <= d.exposures).all()
        assert (d.orders + d.budget_blocked <= d.exposures).all()
        assert (d.exposed_users <= d.exposures).all()
        assert (d.buyers <= d.orders).all() and (d.buyers <= d.exposed_users).all()
        assert ((d.gmv > 0) == (d.orders > 0)).all()
        for ch in ("follow", "wom", "storefront", "traffic"):
            assert d.loc[ch, "new_follows"] == 0, ch
        assert d.loc["discovery", "new_follows"] <= d.loc["discovery", "orders"]
        for family, members in FAMILIES.items():
            for col in ADDITIVE:
                total = d.loc[list(members), col].sum()
                assert math.isclose(d.loc[family, col], total, rel_tol=1e-9, abs_tol=1e-6), (
                    day,
                    family,
                    col,
                )
            for col in DISTINCT:
                parts = d.loc[list(members), col]
                assert parts.max() <= d.loc[family, col] <= parts.sum(), (day, family, col)
    for ratio, num, den in (
        ("conversion", "orders", "exposures"),
        ("buyer_conversion", "buyers", "exposed_users"),
        ("order_value", "gmv", "orders"),
    ):
        zero = frame[den] == 0
        assert frame.loc[zero, ratio].isna().all(), ratio
        expected = frame.loc[~zero, num] / frame.loc[~zero, den]
        assert np.allclose(frame.loc[~zero, ratio], expected, rtol=1e-9), ratio
    has = frame.orders > 0
    assert frame.loc[~has, ["items_per_order", "repeat_share"]].isna().all().all()
    assert (frame.loc[has, "items_per_order"] >= 1).all()
    assert frame.loc[has, "repeat_share"].between(0, 1).all()


@pytest.fixture(scope="module", params=list(SCENARIOS))
def oracle_market(request) -> tuple[str, Market]:
    name = request.param
    market = Market(scenario_graph(name), scenario(name), seed=5)
    return name, market.run(DAYS)


def test_oracle_daily_layout_and_invariants(oracle_market) -> None:
    _, market = oracle_market
    check_daily(market.daily(), DAYS)


def test_oracle_money(oracle_market) -> None:
    name, m = oracle_market
    s = scenario(name)
    daily = m.daily()
    all_gmv = daily.loc[daily.channel == "all", "gmv"].sum()
    assert math.isclose(all_gmv, sum(o.value for o in m.orders), rel_tol=1e-12)
    for o in m.orders:
        assert o.items >= 1 and math.isclose(o.value, o.items * o.product.price)
    for k, producer in enumerate(m.producers):
        sold = sum(o.value for o in m.orders if o.product.producer == k)
        assert math.isclose(producer.income, s.producers.income_share * sold, abs_tol=1e-9)
    for c, creator in m.creators.items():
        sold = sum(o.value for o in m.orders if o.seller == ("creator", c))
        assert math.isclose(creator.income, s.creators.commission * sold, abs_tol=1e-9)
    if s.producers.n_producers:
        assert sum(p.income for p in m.producers) > 0  # the scenario does exercise them


def test_oracle_budgets_users_and_trust(oracle_market) -> None:
    name, m = oracle_market
    s = scenario(name)
    for (user, _month), spent in m.month_spent.items():
        assert spent <= m.users[user].budget * (1 + 1e-12)
    assert all(m.is_user[o.user] for o in m.orders)  # non-users never buy
    assert all(0 <= w <= 1 for w in m.trust.values())
    assert all(0 <= u.tau <= 1 for u in m.users.values())
    assert set(m.memory.values()) <= {-1, 0, 1}
    assert all(set(u.store_memory.values()) <= {-1, 1} for u in m.users.values())
    if not s.population.repeat_purchases:
        buyers = [o.user for o in m.orders]
        assert len(buyers) == len(set(buyers))
    # follows only grow, by training and by satisfied discovery buyers
    g = scenario_graph(name)
    before = g.followers()
    gained = sum(len(cr.followers) - before[c] for c, cr in m.creators.items())
    assert gained >= len(m.new_follow_log)
    if s.training.follower_gain == 0:
        assert gained == len(m.new_follow_log)


def test_oracle_head_cap_binds_at_the_cap() -> None:
    m = Market(scenario_graph("busy_inclusive"), scenario("busy_inclusive"), seed=1)
    cap = m.s.policy.head_cap
    posts = {c: cr.catalogue[0] for c, cr in m.creators.items()}
    active = set(m.user_ids)
    rho = m.reach(posts, active)
    exp = {c: rho[c] * len(m.creators[c].followers) for c in posts}
    head = sum(v for c, v in exp.items() if m.creators[c].kind == HEAD)
    assert math.isclose(head / sum(exp.values()), cap)  # the graph's head KOLs exceed it


def test_oracle_is_reproducible() -> None:
    g, s = scenario_graph("busy_inclusive"), scenario("busy_inclusive")
    a, b = run_oracle(g, s, 5, seed=3), run_oracle(g, s, 5, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(run_oracle(g, s, 5, seed=4))


def test_oracle_exercises_every_channel() -> None:
    daily = pd.concat(run_oracle(scenario_graph(n), scenario(n), DAYS, seed=9) for n in SCENARIOS)
    totals = daily.groupby("channel")[["orders", "new_follows", "budget_blocked"]].sum()
    assert (totals.loc[list(CHANNELS), "orders"] > 0).all()
    assert totals.loc["discovery", "new_follows"] > 0
    assert totals.loc["all", "budget_blocked"] > 0


# ----------------------------------------------------------------------------- agreement
def to_array(frame: pd.DataFrame, days: int) -> np.ndarray:
    """(days, rows, metrics) array of the count metrics, in the documented row order."""
    index = pd.MultiIndex.from_product([range(days), ROWS], names=["day", "channel"])
    f = frame.set_index(["day", "channel"]).reindex(index)
    return f[list(COUNTS)].to_numpy(float).reshape(days, len(ROWS), len(COUNTS))


def collect(runner, seeds, days: int) -> np.ndarray:
    return np.stack([to_array(runner(seed), days) for seed in seeds])


def with_totals(runs: np.ndarray) -> np.ndarray:
    """Append the total over days as one more 'day'."""
    return np.concatenate([runs, runs.sum(axis=1, keepdims=True)], axis=1)


def compare(engine: np.ndarray, oracle: np.ndarray, z: float) -> pd.DataFrame:
    """One row per (day or total, channel, metric) with the two means and the verdict."""
    e, o = with_totals(engine), with_totals(oracle)
    me, mo = e.mean(0), o.mean(0)
    se_e = e.std(0, ddof=1) / math.sqrt(len(e))
    se_o = o.std(0, ddof=1) / math.sqrt(len(o))
    se = np.sqrt(se_e**2 + se_o**2)
    deterministic = (se_e == 0) & (se_o == 0)
    floor = 1e-9 * np.maximum(1.0, np.abs(mo))
    ok = np.where(deterministic, np.abs(me - mo) <= floor, np.abs(me - mo) <= z * se)
    days = e.shape[1] - 1
    labels = [*range(days), "total"]
    rows = []
    for d, ch, k in np.ndindex(*ok.shape):
        rows.append(
            {
                "day": labels[d],
                "channel": ROWS[ch],
                "metric": COUNTS[k],
                "mean_engine": me[d, ch, k],
                "mean_oracle": mo[d, ch, k],
                "se": se[d, ch, k],
                "z": (me[d, ch, k] - mo[d, ch, k]) / se[d, ch, k] if se[d, ch, k] else 0.0,
                "ok": bool(ok[d, ch, k]),
            }
        )
    return pd.DataFrame(rows)


def bonferroni_z(n_comparisons: int) -> float:
    return float(norm.ppf(1 - FAMILY_WISE_ERROR / (2 * n_comparisons)))


def n_comparisons(days: int, n_scenarios: int) -> int:
    return n_scenarios * (days + 1) * len(ROWS) * len(COUNTS)


def oracle_block(name: str, seeds: range, days: int) -> np.ndarray:
    g, s = scenario_graph(name), scenario(name)
    return collect(
        lambda seed: run_oracle(g, s, days, seed),
        seeds,
        days,
    )


@dataclass
class Runs:
    engine: np.ndarray  # (seeds, days, rows, metrics)
    oracle: np.ndarray
    frames: list[pd.DataFrame]  # a few of the engine's daily frames, as returned
    engine_seconds: float
    wall_seconds: float


@functools.cache
def runs(name: str, n_seeds: int, days: int) -> Runs:
    """Engine and oracle over ``n_seeds`` seeds each (the oracle in two worker processes)."""
    g, s = scenario_graph(name), scenario(name)
    start = time.perf_counter()
    # The oracle is plain Python: it runs in two forked workers (half the seeds each) while
    # the engine runs here.
    seeds = range(10**6, 10**6 + n_seeds)
    halves = (seeds[: n_seeds // 2], seeds[n_seeds // 2 :])
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(oracle_block, name, half, days) for half in halves]
        # The engine's seeds as replications of lockstep engines (each gives the numbers of
        # a run of it alone, tests/engine/test_lockstep.py), spawned from one seed.
        engine_counts, frames = [], []
        market_seeds = np.random.SeedSequence(0).spawn(n_seeds)
        for first in range(0, n_seeds, 50):
            engine = Engine(g, s, seed=market_seeds[first : first + 50])
            engine.run(days)
            engine_counts += [engine.replication(r).history for r in range(engine.replications)]
            if first == 0:
                frames = [Result.from_engine(engine.replication(r)).daily for r in range(3)]
        engine_seconds = time.perf_counter() - start
        oracle = np.concatenate([future.result() for future in futures])
    # The engine's counts, in the oracle's rows and metrics.
    rows = [metrics.ROWS.index(row) for row in ROWS]
    columns = [metrics.COUNTS.index(count) for count in COUNTS]
    engine = np.array(engine_counts)[:, :, rows][..., columns]
    return Runs(engine, oracle, frames[:3], engine_seconds, time.perf_counter() - start)


def agreement(name: str, n_seeds: int, days: int) -> None:
    r = runs(name, n_seeds, days)
    z = bonferroni_z(n_comparisons(days, len(SCENARIOS)))
    table = compare(r.engine, r.oracle, z)
    bad = table[~table.ok].reindex(table[~table.ok].z.abs().sort_values(ascending=False).index)
    print(
        f"\n{name}: {n_seeds} seeds x {days} days; engine {r.engine_seconds:.1f} s, engine "
        f"and oracle {r.wall_seconds:.1f} s; z = {z:.2f}; {len(bad)} of {len(table)} "
        "comparisons disagree"
    )
    totals = table[table.day == "total"].pivot(index="channel", columns="metric", values="z")
    print("z-scores of the totals over days (engine - oracle):")
    print(totals.reindex(index=list(ROWS), columns=list(COUNTS)).round(2).to_string())
    assert bad.empty, (
        f"{name}: engine and oracle disagree on {len(bad)} of {len(table)} means "
        f"(z = {z:.2f}):\n{bad.head(40).to_string()}"
    )


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_engine_daily_frame_has_the_documented_layout_and_invariants(name: str) -> None:
    for frame in runs(name, N_SEEDS, DAYS).frames:
        check_daily(frame, DAYS)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_engine_agrees_with_oracle(name: str) -> None:
    agreement(name, N_SEEDS, DAYS)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_engine_agrees_with_oracle_long(name: str) -> None:
    agreement(name, SLOW_SEEDS, SLOW_DAYS)
