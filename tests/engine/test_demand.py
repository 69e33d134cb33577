"""The demand side's measures and rules (docs/model.md 3.5, 3.6): the funnel's first stage by
channel, satisfaction by a disappointment rate, word of mouth heard in proportion to trust,
first orders and the monthly record of active users and buyers.

Random counts are compared with their documented expectation within 4 standard errors of
their sampling error (the seeds are fixed: a test always passes or always fails).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from laotie import Engine, Scenario, graph
from laotie.engine.exposures import REF_NONE, Exposures, Orders
from laotie.engine.rules.decisions import attention
from laotie.engine.rules.outcomes import satisfaction, solve_tolerance, tolerances
from laotie.engine.streams import Stream
from laotie.metrics import CHANNELS, COUNTS, DISCOVERY, FOLLOW, ROWS, WOM

Z = 4.0


def test_each_channel_has_its_own_first_stage() -> None:
    scenario = Scenario.preset("village").replace(
        **{"storefronts.click_prob": 0.04, "creators.enter_prob": 0.3}
    )
    assert attention(scenario, FOLLOW) == attention(scenario, DISCOVERY) == 0.3
    assert attention(scenario, WOM) == 1.0


def test_clicks_per_channel_follow_the_funnel() -> None:
    scenario = Scenario.preset("village").replace(
        **{
            "storefronts.click_prob": 0.2,
            "creators.enter_prob": 0.5,
            "word_of_mouth.prob": 0.5,
            "decision.intercept": -1.0,
        }
    )
    engine = Engine(graph.city(scenario.city, seed=1), scenario, seed=4)
    engine.run(20)
    counts = np.array(engine.history).sum(axis=0)
    exposures, clicks = counts[:, COUNTS.index("exposures")], counts[:, COUNTS.index("clicks")]
    for channel, p in (("storefront", 0.2), ("follow", 0.5), ("discovery", 0.5), ("wom", 1.0)):
        n, k = exposures[ROWS.index(channel)], clicks[ROWS.index(channel)]
        assert n > 200, channel
        assert abs(k - n * p) <= Z * np.sqrt(n * p * (1 - p)) + 1e-9, channel
    # Orders only come from clicks.
    orders = counts[:, COUNTS.index("orders")]
    assert (orders <= clicks).all()


def test_tolerance_solves_the_disappointment_rate_per_seller_type() -> None:
    scenario = Scenario.preset("village").replace(
        **{
            "outcomes.satisfaction": "rate",
            "outcomes.disappointment_creators": 0.35,
            "outcomes.disappointment_storefronts": 0.08,
            "outcomes.quality_noise": 0.15,
        }
    )
    engine = Engine(graph.city(scenario.city, seed=1), scenario, seed=[5, 6])
    m = engine.market
    table = tolerances(m, scenario.outcomes)
    assert table.shape == (2, 2) and table.dtype == np.float32
    gap = m.listing_promise.astype(np.float64) - m.product_known_quality[m.listing_product]
    store = m.listing_seller >= m.n_creators
    for r in range(2):
        for kind, rate in ((0, 0.35), (1, 0.08)):
            mine = (m.listing_replication == r) & (store == bool(kind))
            chance = ndtr((gap[mine] - np.float64(table[r, kind])) / 0.15).mean()
            assert chance == pytest.approx(rate, abs=1e-5)  # float32 rounding of t
    # The two replications solve from their own listings.
    assert table[0, 0] != table[1, 0]
    # The default: the parameter for every type.
    default = Scenario.preset("village")
    np.testing.assert_array_equal(tolerances(m, default.outcomes), np.float32(0.1))
    # Without noise, the quantile.
    gaps = np.linspace(0, 1, 101)
    assert solve_tolerance(gaps, 0.0, 0.25) == pytest.approx(0.75)


def test_satisfaction_uses_the_tolerance_of_the_sellers_type() -> None:
    scenario = Scenario.preset("village").replace(**{"outcomes.quality_noise": 0.0})
    engine = Engine(graph.city(scenario.city, seed=1), scenario, seed=5)
    m = engine.market
    creator_listing = int(m.catalogue_ptr[0])
    store_listing = int(m.catalogue_ptr[m.n_creators])
    listing = np.array([creator_listing, store_listing], np.int64)
    quality = m.product_quality[m.listing_product[listing]]
    # Both promise their true quality + 0.2: satisfied only under a tolerance above 0.2.
    exposures = Exposures.make(
        2,
        FOLLOW,
        user=int(m.users[0]),
        listing=listing,
        trust=0.5,
        memory=0,
        quality=quality + 0.2,
        ref_kind=REF_NONE,
        ref=-1,
        source=m.listing_seller[listing],
    )
    for table, expected in (([[0.3, 0.1]], [True, False]), ([[0.1, 0.3]], [False, True])):
        orders = Orders(exposures, np.ones(2, np.int64), np.ones(2))
        tolerance = np.array(table, np.float32)
        satisfaction(orders, m, Stream([np.random.SeedSequence(1)]), scenario.outcomes, tolerance)
        np.testing.assert_array_equal(orders.satisfied, expected)


def test_word_of_mouth_scaled_by_trust_is_heard_in_proportion_to_trust() -> None:
    scenario = Scenario.preset("village").replace(
        **{
            "population.activity_mean": 0.999999,
            "population.activity_concentration": 1e6,
            "word_of_mouth.prob": 0.8,
            "word_of_mouth.trust_scaled": True,
            "decision.intercept": -50.0,
            "storefronts.impressions_per_active": 0.0,
            "policy.discovery_per_active": 0.0,
        }
    )
    city = graph.city(scenario.city, seed=1)
    engine = Engine(city, scenario, seed=7)
    m = engine.market
    users = np.flatnonzero(m.is_user)[:200]
    listing = int(m.catalogue_ptr[0])
    for _ in range(5):
        engine.recommend(users, listing)
        engine.step()
    # Expected: each recommendation reaches each tie of a listener who uses the app (and is
    # active: everyone is) with probability 0.8 · w.
    lis = m.listeners
    expected = variance = 0.0
    for u in users:
        ties = slice(lis.indptr[u], lis.indptr[u + 1])
        w = lis.trust[ties][m.is_user[lis.listener[ties]]].astype(np.float64)
        expected += 0.8 * w.sum()
        variance += (0.8 * w * (1 - 0.8 * w)).sum()
    heard = np.array(engine.history)[:, ROWS.index("wom"), COUNTS.index("exposures")]
    assert np.all(np.abs(heard - expected) <= Z * np.sqrt(variance)), (heard, expected)
    # Unscaled, the count is 0.8 per tie: far above.
    unscaled = 0.8 * sum(
        m.is_user[lis.listener[lis.indptr[u] : lis.indptr[u + 1]]].sum() for u in users
    )
    assert unscaled - expected > 10 * np.sqrt(variance)


def test_first_orders_count_each_buyer_once_and_months_count_active_users() -> None:
    scenario = Scenario.preset("village").replace(**{"decision.intercept": -2.0})
    engine = Engine(graph.city(scenario.city, seed=2), scenario, seed=[8, 9])
    active_by_month: list[np.ndarray] = []
    for day in range(62):
        if day % 30 == 0:
            active_by_month.append(np.zeros(engine.market.n_nodes, bool))
        engine.step()
        active_by_month[-1] |= engine.today.active
    counts = np.array(engine._history)
    first = counts[:, :, ROWS.index("all"), COUNTS.index("first_orders")].sum(axis=0)
    n = engine.market.layout.nodes
    ever = engine.ledger.ever_ordered.reshape(2, n).sum(axis=1)
    np.testing.assert_array_equal(first, ever)
    # The trust and traffic families split the first orders.
    by_channel = counts[:, :, : len(CHANNELS), COUNTS.index("first_orders")].sum(axis=(0, 2))
    np.testing.assert_array_equal(by_channel, ever)
    for r in range(2):
        months = engine.ledger.months[r]
        assert [record["month"] for record in months] == [0, 1]
        for record, active in zip(months, active_by_month, strict=False):
            assert record["mau"] == active.reshape(2, n)[r].sum()
            assert record["buyers_all"] >= max(record["buyers_trust"], record["buyers_traffic"])


def test_a_shared_catalogue_lists_the_same_products_through_both_channels() -> None:
    scenario = Scenario.preset("mudanjiang", scale=0.004).replace(
        **{
            "products.catalogue": "shared",
            "products.n_products": 300,
            "products.price_mean": 80.0,
            "producers.n_producers": 5,
            "producers.channel": "both",
        }
    )
    engine = Engine(graph.city(scenario.city, seed=1), scenario, seed=3)
    m = engine.market
    shared = m.product_producer < 0
    assert shared.sum() == 300 and m.n_products == 305
    creator = m.listing_seller < m.n_creators
    ordinary = shared[m.listing_product]
    # Each seller lists distinct products; creators and storefronts share some.
    keys = m.listing_seller.astype(np.int64) * m.n_products + m.listing_product
    assert len(np.unique(keys)) == len(keys)
    both = np.intersect1d(m.listing_product[creator & ordinary], m.listing_product[~creator])
    assert len(both) > 0
    sizes = np.bincount(m.listing_seller[ordinary], minlength=m.n_sellers)
    assert (sizes[: m.n_creators] == scenario.creators.catalogue_size).all()
    assert (sizes[m.n_creators :] == scenario.storefronts.products_per_storefront).all()
    # One price law: the catalogue's mean price is price_mean within 4 standard errors of
    # the log-normal's sampling error (log-sd 0.6).
    price = m.product_price[shared]
    sd = 80.0 * np.sqrt(np.exp(0.6**2) - 1)
    assert abs(price.mean() - 80.0) <= Z * sd / np.sqrt(len(price))


def test_a_shared_catalogue_must_hold_a_sellers_products() -> None:
    from laotie.errors import ScenarioError

    with pytest.raises(ScenarioError, match=r"products\.n_products = 9 .* fewer than the 10"):
        Scenario.preset("village").replace(
            **{"products.catalogue": "shared", "products.n_products": 9}
        )


def test_a_warning_lowers_the_listeners_trust_in_the_seller() -> None:
    from laotie.engine.rules.word_of_mouth import (
        Recommendations,
        apply_warnings,
        hear_warnings,
    )

    scenario = Scenario.preset("village").replace(
        **{
            "population.activity_mean": 0.999999,
            "population.activity_concentration": 1e6,
            "word_of_mouth.warn_prob": 1.0,
            "outcomes.trust_loss": 0.4,
        }
    )
    engine = Engine(graph.city(scenario.city, seed=1), scenario, seed=7)
    engine.step()  # everyone active today
    m = engine.market
    lis, f = m.listeners, m.follows
    # A warner whose listeners include followers of creator 0.
    c_node = int(m.creator_node[0])
    followers = set(f.user[f.indptr[c_node] : f.indptr[c_node + 1]].tolist())
    warner = next(
        j
        for j in np.flatnonzero(m.is_user)
        if followers & set(lis.listener[lis.indptr[j] : lis.indptr[j + 1]].tolist())
    )
    ties = slice(lis.indptr[warner], lis.indptr[warner + 1])
    listener, w = lis.listener[ties], lis.trust[ties]
    creator_listing = int(m.catalogue_ptr[0])
    store_listing = int(m.catalogue_ptr[m.n_creators])
    store = int(m.listing_seller[store_listing] - m.n_creators)
    said = Exposures.make(
        2,
        FOLLOW,
        user=warner,
        listing=[creator_listing, store_listing],
        trust=0.5,
        memory=0,
        quality=0.1,
        ref_kind=REF_NONE,
        ref=-1,
        source=0,
    )
    warnings = Recommendations()
    warnings.add(said, engine.day - 1)
    # One listener who did not follow the creator follows since the run (a buffered tie).
    kind, _ = f.find(listener, np.full(len(listener), c_node))
    newcomer = next(int(i) for k, i in zip(kind, listener, strict=True) if k == 0 and m.is_user[i])
    f.add(np.array([newcomer]), np.array([c_node]), np.float32([0.6]), np.int8([0]))
    kind, index = f.find(listener, np.full(len(listener), c_node))
    buffered_before = f.buffer_trust.copy()
    before = f.trust.copy()
    heard = hear_warnings(
        warnings,
        engine.day,
        m,
        engine.today,
        Stream([np.random.SeedSequence(2)]),
        scenario.word_of_mouth,
    )
    apply_warnings(heard, m, scenario.outcomes.trust_loss)
    user = m.is_user[listener] & engine.today.active[listener]
    assert len(heard) == 2 * user.sum()
    for i in np.flatnonzero(user & (kind == 1)):
        expected = np.float32(before[index[i]] * np.float32(1 - 0.4 * np.float64(w[i])))
        assert f.trust[index[i]] == pytest.approx(expected, rel=1e-6)
    assert (kind == 2).sum() == 1
    for i in np.flatnonzero(user & (kind == 2)):
        expected = np.float32(buffered_before[index[i]] * np.float32(1 - 0.4 * np.float64(w[i])))
        assert f.buffer_trust[index[i]] == pytest.approx(expected, rel=1e-6) != 0.6
    untouched = np.ones(len(before), bool)
    untouched[index[user & (kind == 1)]] = False
    np.testing.assert_array_equal(f.trust[untouched], before[untouched])
    assert (m.storefront_memory.dense()[m.user_index[listener[user]], store] == -1).all()


def test_purchase_propensity_is_drawn_per_user_and_leaves_every_other_draw_alone() -> None:
    """α_i ~ N(0, σ) for users, 0 for non-users, from a stream of its own: the rest of the
    market is the same draw for any σ (so sweeps over σ stay paired)."""
    base = Scenario.preset("village")
    g = graph.city(base.city, seed=1)
    plain = Engine(g, base, seed=5).market
    sigma = 1.5
    spread = Engine(g, base.replace(**{"population.propensity_dispersion": sigma}), seed=5).market
    users = plain.users
    assert not plain.propensity.any()
    alpha = spread.propensity[users]
    assert (spread.propensity[~spread.is_user] == 0).all()
    n = len(alpha)
    assert abs(alpha.mean()) <= Z * sigma / np.sqrt(n)
    # The sample variance's standard error is about σ² √(2 / (n - 1)).
    assert abs(alpha.var(ddof=1) - sigma**2) <= Z * sigma**2 * np.sqrt(2 / (n - 1))
    for name in ("p_active", "budget", "price_sensitivity", "listing_price", "authenticity"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(spread, name), err_msg=name)


def test_purchase_propensity_shifts_the_purchase_logit_of_its_user() -> None:
    """Users with α = +50 buy whenever they click; users with α = -50 never buy."""
    scenario = Scenario.preset("village").replace(
        **{"population.propensity_dispersion": 1.0, "decision.intercept": -3.0}
    )
    engine = Engine(graph.city(scenario.city, seed=1), scenario, seed=4)
    users = engine.market.users
    keen, never = users[::2], users[1::2]
    engine.market.propensity[keen] = 50.0
    engine.market.propensity[never] = -50.0
    engine.run(20)
    ordered = engine.ledger.ever_ordered
    assert not ordered[never].any()
    assert ordered[keen].sum() > 10
