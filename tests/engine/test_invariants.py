"""Properties every run must keep, over random small scenarios (hypothesis).

Each example builds a two-region city of a few hundred residents, draws the key levers within
their declared bounds (traffic policy, logit intercept and trust weight, basket trust effect,
budgets small enough to bind, single or repeat purchases, producers and their channel, word
of mouth, training), steps an :class:`~laotie.Engine` day by day and checks the state after
every day against docs/model.md sections 3.4–3.6.

The engine exposes no per-exposure or per-order records, so the test engine below records
the day's exposures and accepted orders as they pass between the documented phases
(``_decide`` gets every exposure, ``_outcomes`` every accepted order); the checks recompute
the day's metrics, budgets, incomes and GMV from those records.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from laotie import CitySpec, Engine, Region, Result, Scenario, graph
from laotie.engine import engine as conductor
from laotie.engine.exposures import Exposures
from laotie.engine.rules.decisions import Candidates
from laotie.metrics import CHANNELS, COUNTS, FAMILIES, ROWS, STOREFRONT

COL = {name: i for i, name in enumerate(COUNTS)}
TOL = 1e-6


class RecordingEngine(Engine):
    """An engine that keeps the day's exposures and orders for the checks (the conductor's
    decisions and outcomes are wrapped while it steps)."""

    def step(self):  # type: ignore[no-untyped-def]
        decide, apply_outcomes = Candidates.decide, conductor.apply_outcomes

        def recording_decide(found, ledger):  # type: ignore[no-untyped-def]
            self.day_exposures = Exposures.concat(found.exposures)
            self.day_active = self.today.active.copy()
            return decide(found, ledger)

        def recording_outcomes(orders, *args):  # type: ignore[no-untyped-def]
            self.day_orders = orders
            return apply_outcomes(orders, *args)

        Candidates.decide = recording_decide  # type: ignore[method-assign]
        conductor.apply_outcomes = recording_outcomes
        try:
            return super().step()
        finally:
            Candidates.decide = decide  # type: ignore[method-assign]
            conductor.apply_outcomes = apply_outcomes


# ------------------------------------------------------------------ random small scenarios
@st.composite
def scenarios(draw: st.DrawFn) -> tuple[CitySpec, int, Scenario, int, int]:
    group_size = draw(st.integers(5, 50))
    spec = CitySpec(
        regions=(
            Region(
                "A",
                draw(st.integers(60, 220)),
                draw(st.floats(0, 1)),
                poverty=draw(st.booleans()),
                user_weight=draw(st.sampled_from([1.0, 0.2, 5.0])),
            ),
            Region("B", draw(st.integers(40, 160)), draw(st.floats(0, 1))),
        ),
        local_degree=draw(st.floats(0, min(10, group_size - 1.5))),
        city_degree=draw(st.floats(0, 4)),
        group_size=group_size,
        user_share=draw(st.floats(0.3, 1)),
        creator_share=draw(st.floats(0, 0.15)),
        min_followers=draw(st.floats(1, 20)),
        head_share=draw(st.floats(0, 0.3)),
        gov_accounts_per_region=draw(st.integers(0, 2)),
        outside_creators=draw(st.integers(0, 4)),
        outside_min_followers=draw(st.floats(1, 20)),
        platform_users=draw(st.floats(50, 5000)),
    )
    days = draw(st.integers(1, 40))
    trained = draw(st.booleans())
    changes = {
        "population.activity_mean": draw(st.floats(0.05, 0.95)),
        "population.budget_mean": draw(st.floats(5, 3000)),
        "population.repeat_purchases": draw(st.booleans()),
        "products.n_categories": draw(st.integers(1, 4)),
        "creators.post_prob": draw(st.floats(0, 1)),
        "creators.catalogue_size": draw(st.integers(1, 4)),
        "creators.stranger_trust": draw(st.floats(0, 1)),
        "creators.follow_prob": draw(st.floats(0, 1)),
        "storefronts.n_storefronts": draw(st.integers(1, 5)),
        "storefronts.products_per_storefront": draw(st.integers(1, 4)),
        "storefronts.impressions_per_active": draw(st.floats(0, 3)),
        "storefronts.comparisons": draw(st.integers(0, 4)),
        "storefronts.trust": draw(st.floats(0, 1)),
        "word_of_mouth.prob": draw(st.floats(0, 0.5)),
        "word_of_mouth.days": draw(st.integers(1, 6)),
        "decision.intercept": draw(st.floats(-6, 3)),
        "decision.trust_weight": draw(st.floats(-5, 10)),
        "decision.basket_trust_effect": draw(st.floats(0, 5)),
        "decision.repeat_weight": draw(st.floats(-3, 3)),
        "decision.quality_weight": draw(st.floats(-5, 5)),
        "decision.price_weight": draw(st.floats(0, 2)),
        "decision.basket_extra_items": draw(st.floats(0, 3)),
        "outcomes.quality_noise": draw(st.floats(0, 0.5)),
        "outcomes.overstatement": draw(st.floats(0, 1)),
        "outcomes.trust_gain": draw(st.floats(0, 1)),
        "outcomes.trust_loss": draw(st.floats(0, 1)),
        "policy.traffic": draw(st.sampled_from(["head", "inclusive"])),
        "policy.reach": draw(st.floats(0, 1)),
        "policy.head_cap": draw(st.floats(0, 1)),
        "policy.discovery_per_active": draw(st.floats(0, 3)),
        "policy.head_exponent": draw(st.floats(0, 5)),
        # Small concentrations give content qualities of exactly 0 (no discovery weight).
        "creators.content_quality_concentration": draw(st.sampled_from([0.01, 5.0])),
        "creators.authenticity_concentration": draw(st.sampled_from([0.01, 5.0])),
        "producers.n_producers": draw(st.integers(0, 8)),
        "producers.channel": draw(st.sampled_from(["creators", "storefronts", "both"])),
        "producers.listings": draw(st.integers(1, 4)),
        "producers.offline_income": draw(st.floats(0, 50)),
        "producers.displacement": draw(st.floats(0, 1)),
        "producers.platform_fee": draw(st.floats(0, 1)),
        "producers.cost_per_order": draw(st.floats(0, 20)),
        "producers.fixed_cost": draw(st.floats(0, 3)),
        "training.day": draw(st.integers(0, days - 1)) if trained else -1,
        "training.n_creators": draw(st.integers(0, 5)) if trained else 0,
        "training.rule": draw(st.sampled_from(["followers", "local", "rural", "random"])),
        # Up to a few thousand new follows: enough to fill the follow buffer past its merge point.
        "training.follower_gain": draw(st.sampled_from([0, 10, 50, 500])),
        # A growing platform (its months start on days 30, 60, ...).
        "growth.initial_users": draw(st.sampled_from([1.0, 0.5, 0.1])),
        "growth.initial_sellers": draw(st.sampled_from([1.0, 0.5, 0.0])),
        "growth.churn": draw(st.sampled_from([0.0, 0.3])),
        "growth.external": draw(st.floats(0, 12)),
        "growth.social": draw(st.floats(0, 12)),
        "growth.entry_rate": draw(st.floats(0, 1)),
        "growth.creator_entry_income": draw(st.floats(0, 50)),
        "growth.storefront_entry_gmv": draw(st.floats(0, 500)),
    }
    if spec.creator_share == 0:
        # Scenario refuses specialties listed by creators in a city without creators.
        changes["producers.channel"] = "storefronts"
    scenario = Scenario(city=spec).replace(**changes)
    return spec, draw(st.integers(0, 2**32)), scenario, draw(st.integers(0, 2**32)), days


# ------------------------------------------------------------------ the checks
def distinct(users: np.ndarray) -> int:
    return len(np.unique(users))


def check_day_counts(engine: RecordingEngine, counts: np.ndarray) -> None:
    """The day's metrics are those of the recorded exposures and orders."""
    e, o = engine.day_exposures, engine.day_orders
    b = o.exposures
    for row, name in enumerate(ROWS):
        members = [CHANNELS.index(name)] if name in CHANNELS else list(FAMILIES[name])
        ex = np.isin(e.channel, members)
        od = np.isin(b.channel, members)
        c = counts[row]
        assert c[COL["exposures"]] == ex.sum()
        assert c[COL["exposed_users"]] == distinct(e.user[ex])
        assert c[COL["orders"]] == od.sum()
        assert c[COL["buyers"]] == distinct(b.user[od])
        assert c[COL["gmv"]] == pytest.approx(o.value[od].sum(), rel=1e-12, abs=1e-9)
        assert c[COL["items"]] == o.items[od].sum()
        assert c[COL["repeat_orders"]] == (b.memory[od] != 0).sum()
        # The documented inequalities, per channel and family.
        assert c[COL["orders"]] <= c[COL["exposures"]]
        assert c[COL["buyers"]] <= c[COL["exposed_users"]]
        assert c[COL["buyers"]] <= c[COL["orders"]]
    subs = counts[: len(CHANNELS)]
    for name, members in FAMILIES.items():
        np.testing.assert_allclose(
            counts[ROWS.index(name), [COL["gmv"], COL["orders"], COL["exposures"]]],
            subs[list(members)][:, [COL["gmv"], COL["orders"], COL["exposures"]]].sum(axis=0),
            rtol=1e-12,
        )


def check_exposures_and_orders(engine: RecordingEngine) -> None:
    m = engine.market
    e, o = engine.day_exposures, engine.day_orders
    b = o.exposures
    # Exposures reach active users only (hence users only).
    assert engine.day_active[e.user].all()
    assert m.is_user[e.user].all()
    # Every order is one of the day's exposures: per (user, channel, listing), orders <= exposures.
    key_e = (e.user.astype(np.int64) * 4 + e.channel) * (len(m.listing_seller) + 1) + e.listing
    key_o = (b.user.astype(np.int64) * 4 + b.channel) * (len(m.listing_seller) + 1) + b.listing
    ke, ce = np.unique(key_e, return_counts=True)
    ko, co = np.unique(key_o, return_counts=True)
    at = np.searchsorted(ke, ko)
    assert np.all(at < len(ke))
    assert np.all(ke[at] == ko)
    assert np.all(co <= ce[at])
    # Creator channels sell creators' listings; storefront impressions sell storefronts'.
    seller = m.listing_seller[b.listing]
    assert np.all(seller[b.channel < 2] < m.n_creators)
    assert np.all(seller[b.channel == STOREFRONT] >= m.n_creators)
    # Values are items times price, items at least one.
    assert np.all(o.items >= 1)
    price = m.product_price[m.listing_product[b.listing]]
    np.testing.assert_allclose(o.value, o.items * price, rtol=1e-12)


def check_state(engine: Engine, scenario: Scenario) -> None:
    m = engine.market
    # Only users who use the platform are active; creators use it; a storefront stays open.
    adopted = np.zeros(m.n_nodes, bool)
    adopted[m.users[m.adopted]] = True
    assert not (engine.today.active & ~adopted).any()
    assert m.adopted[m.user_creates].all()
    assert m.n_storefronts == 0 or m.storefront_open.any()
    # Nobody sells before entering (no exit: a seller that sold is still selling).
    sold = engine.ledger.seller_gmv > 0
    assert (m.selling | ~sold[: m.n_creators]).all()
    assert (m.storefront_open | ~sold[m.n_creators :]).all()
    for name, trust in (
        ("listeners", m.listeners.trust),
        ("follows", m.follows.trust),
        ("follows buffer", m.follows.buffer_trust),
        ("storefronts", m.storefront_trust),
    ):
        assert np.all(np.isfinite(trust)), name
        assert np.all((trust >= 0) & (trust <= 1)), name
    for name, memory in (
        ("listeners", m.listeners.memory),
        ("follows", m.follows.memory),
        ("follows buffer", m.follows.buffer_memory),
        ("storefronts", m.storefront_memory.dense()),
    ):
        assert np.isin(memory, (-1, 0, 1)).all(), name
    # Follow ties: no pair twice (main arrays and buffer together), counts match, users only.
    f = m.follows
    users = np.concatenate([f.user, f.buffer_user]).astype(np.int64)
    creators = np.concatenate([f.creator, f.buffer_creator]).astype(np.int64)
    assert len(np.unique(users * m.n_nodes + creators)) == len(users)
    assert np.array_equal(f.count, np.bincount(creators, minlength=m.n_nodes))
    assert m.is_user[users].all()
    assert np.all(users != creators)
    # The follow bits are exactly those of the ties (a missing bit would hide a tie from the
    # compiled kernels; an extra one would only cost a search).
    bits = np.zeros(m.n_nodes, np.uint64)
    np.bitwise_or.at(bits, users, three_bits(creators))
    assert np.array_equal(f.bits, bits)
    # Non-users never buy online.
    assert np.all(engine.ledger.spent[~m.is_user] == 0)
    assert not engine.ledger.ever_ordered[~m.is_user].any()
    assert np.all(engine.ledger.spent >= 0)
    # Budgets: nobody spends beyond this month's budget.
    assert np.all(engine.ledger.spent <= m.budget + TOL)


def three_bits(creators: np.ndarray) -> np.ndarray:
    """The follow bits of ties to ``creators`` (docs: laotie.engine.ties.creator_mask), in
    numpy: bits at the top three 6-bit fields of the creator times 0x9E3779B97F4A7C15,
    modulo 2**64."""
    h = creators.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    one = np.uint64(1)
    fields = [h >> np.uint64(58), (h >> np.uint64(52)) & np.uint64(63)]
    fields.append((h >> np.uint64(46)) & np.uint64(63))
    return (one << fields[0]) | (one << fields[1]) | (one << fields[2])


def test_a_creators_follow_bits_are_three_hashed_bits_that_few_strangers_share() -> None:
    """creator_mask is the three hashed bits of numpy's reckoning, for creators across the
    int32 range; and with three follows per user (whole-city Mudanjiang's mean), a user
    passes the filter of a creator it does not follow 0.27 % of the time (2,000,000 users
    drawn alike; about (1 - (63/64)^9)^3 = 0.23 % if no two bits coincided), where one bit
    per creator let through 3/64 (4.7 %) and two bits 1.2 %."""
    from laotie.engine.ties import creator_mask

    rng = np.random.default_rng(3)
    creators = np.concatenate([rng.integers(0, 2**31 - 1, 2000), np.arange(200)])
    mine = np.array([creator_mask(c) for c in creators], np.uint64)
    np.testing.assert_array_equal(mine, three_bits(creators))
    users = 20_000
    follows = rng.integers(0, 5_000, (users, 3))
    bits = np.bitwise_or.reduce(three_bits(follows.ravel()).reshape(users, 3), axis=1)
    stranger = three_bits(rng.integers(5_000, 10_000, users))
    passed = ((bits & stranger) == stranger).mean()
    p = 0.0027  # ± 0.00004 (its own sampling error)
    assert abs(passed - p) < 4 * np.sqrt(p * (1 - p) / users) + 0.0001


def check_money(engine: Engine, scenario: Scenario, log: dict[str, list[np.ndarray]]) -> None:
    m = engine.market
    listing = np.concatenate(log["listing"])
    value = np.concatenate(log["value"])
    seller = m.listing_seller[listing]
    gmv = np.bincount(seller, weights=value, minlength=m.n_sellers)
    np.testing.assert_allclose(engine.ledger.seller_gmv, gmv, rtol=1e-9, atol=1e-9)
    history = np.array(engine.history)
    all_gmv = history[:, ROWS.index("all"), COL["gmv"]].sum()
    sub_gmv = history[:, : len(CHANNELS), COL["gmv"]].sum()
    assert all_gmv == pytest.approx(value.sum(), rel=1e-9, abs=1e-9)
    assert sub_gmv == pytest.approx(value.sum(), rel=1e-9, abs=1e-9)
    assert engine.ledger.seller_gmv.sum() == pytest.approx(value.sum(), rel=1e-9, abs=1e-9)
    # Creators earn commission on their GMV.
    np.testing.assert_allclose(
        engine.ledger.creator_income,
        scenario.creators.commission * gmv[: m.n_creators],
        rtol=1e-9,
        atol=1e-9,
    )
    # Each producer earns income_share of the value of every order of its specialty.
    producer = m.product_producer[m.listing_product[listing]]
    made = producer >= 0
    expected = scenario.producers.income_share * np.bincount(
        producer[made], weights=value[made], minlength=m.n_producers
    )
    np.testing.assert_allclose(engine.ledger.producer_income, expected, rtol=1e-9, atol=1e-9)
    result = Result.from_engine(engine)
    np.testing.assert_allclose(result.producer_income, expected, rtol=1e-9, atol=1e-9)
    assert result.outcomes["producer_income_total"] == pytest.approx(
        expected.sum(), rel=1e-9, abs=1e-9
    )
    check_accounts(engine, scenario, result, gmv)
    # The daily frame's sub-channel GMV adds up to 'all' every day.
    daily = result.daily
    by_day = daily[daily.channel.isin(CHANNELS)].groupby("day").gmv.sum().to_numpy()
    every = daily[daily.channel == "all"].gmv.to_numpy()
    np.testing.assert_allclose(by_day, every, rtol=1e-12, atol=1e-9)


def check_accounts(engine: Engine, scenario: Scenario, result: Result, gmv: np.ndarray) -> None:
    """Producers' accounts and the units' table add up (docs/model.md 3.5, 3.6)."""
    m, g, p = engine.market, engine.graph, scenario.producers
    a = result.producers
    days = engine.day
    np.testing.assert_array_equal(a.node, m.producer_node)
    np.testing.assert_allclose(a.revenue, result.producer_income, rtol=1e-12)
    np.testing.assert_allclose(
        a.net, a.revenue - a.fees - a.logistics - a.fixed - a.displaced, rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(a.fees, p.platform_fee * a.revenue, rtol=1e-12)
    np.testing.assert_allclose(a.logistics, p.cost_per_order * a.orders, rtol=1e-12)
    # Days online: every listed producer's since the first day without growth; with growth
    # those of the producers who entered; the unlisted never sell.
    online = a.days_online.to_numpy() > 0
    assert (a.days_online <= days).all() and not (online & ~a.listed).any()
    np.testing.assert_array_equal(online, m.producer_online & (m.producer_since < days))
    if not scenario.growth.initial_sellers < 1:
        np.testing.assert_array_equal(a.days_online[a.listed], days)
    # A producer sells nothing before it is online: its specialty is on no shelf.
    assert (a.revenue[~online] == 0).all() and (a.orders[~online] == 0).all()
    assert (a.displaced <= a.offline * a.days_online + 1e-9).all()
    assert (a.displaced <= p.displacement * a.revenue + 1e-9).all()
    np.testing.assert_allclose(a.fixed, p.fixed_cost * a.days_online)
    listed = np.zeros(m.n_producers, bool)
    made = m.product_producer[m.listing_product]
    listed[made[made >= 0]] = True
    np.testing.assert_array_equal(a.listed, listed)
    # The units: residents and users add up; units' GMV is their creators' GMV.
    u = result.regions
    assert u.residents.sum() == g.n_residents and u.users.sum() == g.user.sum()
    assert u.users.le(u.residents).all()
    region = g.region[m.creator_node]
    np.testing.assert_allclose(
        u.gmv, np.bincount(region, weights=gmv[: m.n_creators], minlength=len(u)), atol=1e-9
    )
    assert u.earners.sum() == (result.creator_income > 0).sum() + (a.revenue > 0).sum()
    poor = u.poverty.to_numpy()
    declared = [r.poverty for r in scenario.city.regions]
    np.testing.assert_array_equal(poor[: len(declared)], declared)
    assert not poor[len(declared) :].any()  # the Outside unit is nobody's poverty county
    if gmv.sum() > 0:
        assert result.outcomes["poverty_gmv_share"] == pytest.approx(
            gmv[: m.n_creators][poor[region]].sum() / gmv.sum(), abs=1e-12
        )


def run_and_check(g: graph.TrustGraph, scenario: Scenario, seed: int, days: int) -> Engine:
    engine = RecordingEngine(g, scenario, seed=seed)
    log: dict[str, list[np.ndarray]] = {"listing": [], "value": [], "user": []}
    month_spent = np.zeros(g.n_nodes)
    buyers_so_far = np.zeros(g.n_nodes, bool)
    for day in range(days):
        if day % 30 == 0:
            month_spent[:] = 0
        counts = engine.step()
        check_day_counts(engine, counts)
        check_exposures_and_orders(engine)
        b = engine.day_orders.exposures
        value = engine.day_orders.value
        log["listing"].append(b.listing.copy())
        log["value"].append(value.copy())
        log["user"].append(b.user.copy())
        np.add.at(month_spent, b.user, value)
        np.testing.assert_allclose(engine.ledger.spent, month_spent, rtol=1e-9, atol=1e-9)
        if not scenario.population.repeat_purchases:
            # Nobody orders twice: not twice today, and not after an earlier day's order.
            assert len(np.unique(b.user)) == len(b.user)
            assert not buyers_so_far[b.user].any()
        buyers_so_far[b.user] = True
        assert np.array_equal(engine.ledger.ever_ordered, buyers_so_far)
        check_state(engine, scenario)
    assert len(engine.history) == days
    if days:
        check_money(engine, scenario, log)
    return engine


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=scenarios())
def test_invariants_hold_every_day(case: tuple[CitySpec, int, Scenario, int, int]) -> None:
    spec, graph_seed, scenario, seed, days = case
    g = graph.city(spec, seed=graph_seed)
    run_and_check(g, scenario, seed, days)


# ------------------------------------------------------------------ fixed cases
SMALL = CitySpec(
    regions=(Region("A", 200, 0.5), Region("B", 150, 0.2)),
    local_degree=8,
    city_degree=3,
    group_size=40,
    creator_share=0.08,
    min_followers=10,
)


@pytest.fixture(scope="module")
def small_graph() -> graph.TrustGraph:
    return graph.city(SMALL, seed=3)


@pytest.mark.parametrize("repeat", [True, False])
@pytest.mark.parametrize("channel", ["creators", "storefronts", "both"])
def test_busy_market_with_producers(small_graph: graph.TrustGraph, repeat: bool, channel: str):
    """A market where every lever is busy: budgets bind, specialties sell, word of mouth runs."""
    scenario = Scenario(city=SMALL).replace(
        **{
            "population.activity_mean": 0.6,
            "population.budget_mean": 150.0,
            "population.repeat_purchases": repeat,
            "decision.intercept": -1.0,
            "decision.price_weight": 0.0,
            "word_of_mouth.prob": 0.3,
            "word_of_mouth.days": 3,
            "producers.n_producers": 10,
            "producers.channel": channel,
            "products.n_categories": 2,
            "training.day": 5,
            "training.n_creators": 3,
            "training.follower_gain": 20,
        }
    )
    engine = run_and_check(small_graph, scenario, seed=7, days=35)
    history = np.array(engine.history)
    all_row = history[:, ROWS.index("all")]
    assert all_row[:, COL["orders"]].sum() > 0
    assert engine.ledger.producer_income.sum() > 0
    if repeat:
        assert all_row[:, COL["budget_blocked"]].sum() > 0  # budgets did bind
    assert history[:, ROWS.index("wom"), COL["orders"]].sum() > 0


def test_single_purchase_respects_the_budget(small_graph: graph.TrustGraph) -> None:
    scenario = Scenario(city=SMALL).replace(
        **{
            "population.budget_mean": 60.0,  # about the price of one item: some orders fit
            "population.budget_dispersion": 1.0,
            "population.repeat_purchases": False,
            "decision.intercept": 0.0,
            "decision.price_weight": 0.0,
        }
    )
    engine = Engine(small_graph, scenario, seed=1)
    engine.run(5)
    assert engine.ledger.ever_ordered.any()  # the example is not vacuous
    blocked = np.array(engine.history)[:, ROWS.index("all"), COL["budget_blocked"]].sum()
    assert blocked > 0  # and the budget did bind
    over = engine.ledger.spent > engine.market.budget + TOL
    assert not over.any(), f"{int(over.sum())} users spent beyond their budget"


def test_tiny_budgets_do_not_overflow(small_graph: graph.TrustGraph) -> None:
    scenario = Scenario(city=SMALL).replace(**{"population.budget_mean": 1.0})
    engine = Engine(small_graph, scenario, seed=1)
    with np.errstate(over="raise"):  # as the project's filterwarnings make it
        try:
            engine.run(3)
        except FloatingPointError as error:
            raise RuntimeWarning(str(error)) from error


def follow_ties(engine: Engine) -> dict[tuple[int, int], tuple[float, int]]:
    f = engine.market.follows
    ties = {}
    for users, creators, trust, memory in (
        (f.user, f.creator, f.trust, f.memory),
        (f.buffer_user, f.buffer_creator, f.buffer_trust, f.buffer_memory),
    ):
        for u, c, t, mem in zip(users, creators, trust, memory, strict=True):
            ties[int(u), int(c)] = (float(t), int(mem))
    return ties


def test_follow_buffer_merges_without_losing_ties(small_graph: graph.TrustGraph) -> None:
    """Training adds enough follows to pass the buffer's merge point; every tie survives."""
    scenario = Scenario(city=SMALL).replace(
        **{
            "training.day": 2,
            "training.n_creators": 20,
            "training.rule": "random",
            "training.follower_gain": 500,
            "population.budget_mean": 500.0,
        }
    )
    engine = run_and_check(small_graph, scenario, seed=4, days=3)
    f = engine.market.follows
    assert len(f.buffer_user) > 1000  # past the merge point (5 % of max(ties, 20,000))
    before = follow_ties(engine)
    f.merge_buffer()
    assert len(f.buffer_user) == 0
    assert follow_ties(engine) == before
    kind, index = f.find(f.user, f.creator)
    assert np.all(kind == 1)
    assert np.array_equal(index, np.arange(len(f.user)))
    # And the run goes on, with every invariant, after the merge.
    for _ in range(3):
        engine.step()
        check_state(engine, scenario)


def test_follow_bits_survive_a_merge_of_some_replications(small_graph: graph.TrustGraph) -> None:
    """Lockstep replications merge their buffers separately: the ties left in the buffer
    keep their follow bits (the compiled kernels skip the search when a bit is clear)."""
    from laotie.engine.ties import Follows

    f = Follows(small_graph, replications=2)
    n = small_graph.n_nodes
    users = np.flatnonzero(small_graph.user)
    creators = np.flatnonzero(small_graph.creator_kind > 0)
    known = set(zip(f.user.tolist(), f.creator.tolist(), strict=True))
    rng = np.random.default_rng(3)
    # Replication 0 passes its merge point (5 % of at least 20,000 ties); replication 1
    # does not.
    for r, k in ((0, 1500), (1, 40)):
        pairs = set()
        while len(pairs) < k:
            u, c = int(rng.choice(users)), int(rng.choice(creators))
            if u != c and (u + r * n, c + r * n) not in known:
                pairs.add((u + r * n, c + r * n))
        u, c = np.array(sorted(pairs)).T
        f.add(u, c, np.full(len(u), 0.3, np.float32), np.zeros(len(u), np.int8))
    f.merge_buffer()
    assert len(f.buffer_user) == 40 and np.all(f.buffer_user >= n)
    bits = np.zeros(2 * n, np.uint64)
    np.bitwise_or.at(
        bits,
        np.concatenate([f.user, f.buffer_user]),
        three_bits(np.concatenate([f.creator, f.buffer_creator])),
    )
    assert np.array_equal(f.bits, bits)
