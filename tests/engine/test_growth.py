"""Growth (docs/model.md 3.5, "Growth"): adoption through ties, churn, sellers' entry, and
what users who do not use the platform and sellers who do not sell may do."""

from __future__ import annotations

import math

import numpy as np
import pytest

from laotie import Engine, Result, Scenario, graph
from laotie.engine.rules import growth as rule
from laotie.engine.rules.posts import posts
from laotie.sections import Growth

BASE = Scenario.preset("mudanjiang", scale=0.004)


@pytest.fixture(scope="module")
def city() -> graph.TrustGraph:
    return graph.city(BASE.city, seed=3)


def engine(city: graph.TrustGraph, seed: int = 1, **changes: object) -> Engine:
    return Engine(city, BASE.replace(**{f"growth.{k}": v for k, v in changes.items()}), seed=seed)


def binomial_ok(hits: float, n: int, p: float) -> bool:
    """Within four standard errors of n·p (a Binomial count)."""
    return abs(hits - n * p) <= 4 * math.sqrt(max(n * p * (1 - p), 1e-12)) + 1e-9


def test_off_by_default(city: graph.TrustGraph) -> None:
    e = Engine(city, BASE, seed=1)
    assert not rule.active(BASE.growth) and e.growth is None
    m = e.market
    assert m.adopted.all() and m.selling.all() and m.storefront_open.all()


def test_set_up_draws_users_and_sellers(city: graph.TrustGraph) -> None:
    e = engine(city, initial_users=0.3, initial_sellers=0.2)
    m = e.market
    creators = np.flatnonzero(m.user_creates)
    others = np.setdiff1d(np.arange(m.n_users), creators)
    # Creators use the platform they post on: selling creators and government accounts.
    assert m.adopted[creators].all()
    kinds = city.creator_kind[m.users[creators]]
    assert (kinds == 3).any() and set(np.unique(kinds).tolist()) <= {1, 2, 3}
    assert binomial_ok(m.adopted[others].sum(), len(others), 0.3)
    assert binomial_ok(m.selling.sum(), m.n_creators, 0.2)
    assert m.storefront_open.any()
    # At least one storefront even when the draws close them all.
    assert engine(city, initial_sellers=0.0).market.storefront_open.sum() == 1


def test_who_is_not_there_does_nothing(city: graph.TrustGraph) -> None:
    e = engine(city, initial_users=0.3, initial_sellers=0.2)
    m = e.market
    outside = np.zeros(m.n_nodes, bool)
    outside[m.users[~m.adopted]] = True
    closed = m.n_creators + np.flatnonzero(~m.storefront_open)
    for _ in range(25):
        e.step()
        assert not (e.today.active & outside).any()
    # Creators who do not sell, storefronts that are closed: no sales, no income.
    assert (e.ledger.seller_gmv[: m.n_creators][~m.selling] == 0).all()
    assert (e.ledger.seller_gmv[closed] == 0).all()
    assert e.ledger.seller_gmv[: m.n_creators][m.selling].sum() > 0
    # Posts come from selling creators only, and the draws are those of everyone.
    today = posts(m, e._streams["posts"], BASE.creators)
    assert m.selling[today.posting].all()


def test_adoption_shares_are_trust_weighted(city: graph.TrustGraph) -> None:
    m = Engine(city, BASE, seed=1).market
    on = np.random.default_rng(5).random(m.n_nodes) < 0.5
    share = rule.adoption_shares(m, on)
    lis = m.listeners
    for i in np.flatnonzero(np.diff(lis.indptr) > 0)[:50]:
        # Listener i's ties: the rows j whose listeners include i.
        k = np.flatnonzero(lis.listener == i)
        if not len(k):
            assert share[i] == 0
            continue
        j = np.searchsorted(lis.indptr, k, side="right") - 1
        w = lis.trust[k].astype(np.float64)
        assert share[i] == pytest.approx((w * on[j]).sum() / w.sum())


def test_adoption_follows_bass_on_the_graph(city: graph.TrustGraph) -> None:
    """Expected adopters Σ p_i, p_i = 1 − exp(−(p + q f_i)/12), against those drawn."""
    total, expected, variance = 0, 0.0, 0.0
    for seed in range(6):
        e = engine(city, seed=seed, initial_users=0.3, external=2.0, social=5.0)
        m = e.market
        before = m.adopted.copy()
        node = np.zeros(m.n_nodes, bool)
        node[m.users] = before
        f = rule.adoption_shares(m, node)[m.users]
        p = -np.expm1(-(2.0 + 5.0 * f) / 12)[~before]
        e.run(31)  # the month starting on day 30
        total += int((m.adopted & ~before).sum())
        expected += p.sum()
        variance += (p * (1 - p)).sum()
        assert m.adopted[before].all()  # no churn
    assert abs(total - expected) <= 4 * math.sqrt(variance)


def test_churn_spares_creators(city: graph.TrustGraph) -> None:
    e = engine(city, churn=0.3, external=0.0, social=0.0)
    m = e.market
    creators = m.user_creates
    e.run(31)
    assert m.adopted[creators].all()
    assert binomial_ok((~m.adopted[~creators]).sum(), int((~creators).sum()), 0.3)


def test_entry_when_it_pays() -> None:
    g = Growth(entry_rate=0.4)
    assert rule._entry(g, 0.0, 10.0) == 0
    assert rule._entry(g, 5.0, 10.0) == 0  # does not pay
    assert rule._entry(g, 40.0, 10.0) == pytest.approx(0.4 * 0.75)


def test_storefronts_enter_at_the_entry_probability(city: graph.TrustGraph) -> None:
    hits = trials = 0
    expected = 0.0
    for seed in range(4):
        e = engine(city, seed=seed, initial_sellers=0.3, entry_rate=0.5, storefront_entry_gmv=1.0)
        m = e.market
        closed = ~m.storefront_open
        e.run(30)
        stores = m.n_creators + np.flatnonzero(m.storefront_open)
        mean = e.ledger.seller_gmv[stores].mean()
        e.step()  # day 30: the month's entry
        hits += int((m.storefront_open & closed).sum())
        trials += int(closed.sum())
        expected += closed.sum() * 0.5 * max(0.0, 1 - 1.0 / mean)
    assert abs(hits - expected) <= 4 * math.sqrt(trials * 0.25)


def test_monthly_frame_records_users_sellers_and_gmv(city: graph.TrustGraph) -> None:
    e = engine(city, initial_users=0.3, initial_sellers=0.3, external=3.0, social=6.0)
    e.run(60)
    r = Result.from_engine(e)
    m = e.market
    assert r.monthly.adopted.iloc[-1] == m.adopted.sum()
    assert r.monthly.sellers.iloc[-1] == m.selling.sum() + m.storefront_open.sum()
    assert r.monthly.adopted.iloc[0] < r.monthly.adopted.iloc[1]  # adoption on day 30
    daily = r.daily[r.daily.channel == "all"].gmv.to_numpy()
    np.testing.assert_allclose(r.monthly.gmv, [daily[:30].sum(), daily[30:60].sum()])
    assert (r.monthly.users == city.user.sum()).all()


def test_shipped_scenario_starts_from_the_articles_2019() -> None:
    s = Scenario.preset("mudanjiang_2019")
    users = s.city.n_users * s.growth.initial_users
    assert users == pytest.approx(1_422_300, rel=0.01)
    assert s.run.days == 1800 and rule.active(s.growth)


def test_creators_outside_the_city_pin_nobody_and_lockstep_holds() -> None:
    """Creators outside the city are not users: nobody is pinned on the platform for them,
    and lockstep replications equal runs alone."""
    spec = BASE.city.replace(outside_creators=6, outside_min_followers=20.0, platform_users=500.0)
    scenario = BASE.replace(
        **{
            "city.outside_creators": 6,
            "growth.initial_users": 0.0,
            "growth.churn": 0.5,
            "growth.external": 0.0,
            "growth.social": 0.0,
        }
    )
    g = graph.city(spec, seed=3)
    seeds = [np.random.SeedSequence(7, spawn_key=(r,)) for r in range(3)]
    together = Engine(g, scenario, seed=seeds)
    m = together.market
    # With nobody adopting, exactly the users who create use the platform.
    np.testing.assert_array_equal(m.adopted, m.user_creates)
    together.run(31)
    for r, seed in enumerate(seeds):
        alone = Engine(g, scenario, seed=seed)
        alone.run(31)
        U = alone.market.n_users
        np.testing.assert_array_equal(m.adopted[r * U : (r + 1) * U], alone.market.adopted)


def test_creators_enter_by_the_mean_income_of_every_selling_creator(
    city: graph.TrustGraph,
) -> None:
    """Ī is the mean over every creator who sold in the month, those who earned nothing
    included: with the threshold at 0.8 Ī, a creator enters with probability 0.5 · 0.2."""
    # Few posts: some selling creators sell nothing in the month.
    quiet = BASE.replace(**{"creators.post_prob": 0.03, "growth.initial_sellers": 0.3})
    hits = trials = zero = 0
    expected = variance = 0.0
    for seed in range(6):
        probe = Engine(city, quiet, seed=seed)
        probe.run(30)
        m = probe.market
        mean = probe.ledger.creator_income[m.selling].mean()
        zero += int((probe.ledger.creator_income[m.selling] == 0).sum())
        e = Engine(
            city,
            quiet.replace(**{"growth.entry_rate": 0.5, "growth.creator_entry_income": 0.8 * mean}),
            seed=seed,
        )
        closed = ~e.market.selling
        e.run(31)  # the same first month (entry waits for day 30), then the month's entry
        p = 0.5 * max(0.0, 1 - 0.8 * mean / mean)
        hits += int((e.market.selling & closed).sum())
        trials += int(closed.sum())
        expected += closed.sum() * p
        variance += closed.sum() * p * (1 - p)
    assert trials > 100 and zero > 5  # the choice of mean matters
    assert abs(hits - expected) <= 4 * math.sqrt(variance)


# Poor producers whose specialties local creators and storefronts list, no fixed cost.
PRODUCERS = BASE.replace(
    **{
        "producers.n_producers": 60,
        "producers.channel": "both",
        "producers.listings": 3,
        "producers.fixed_cost": 0.0,
        "creators.post_prob": 0.5,
    }
)


def test_a_producer_not_online_is_on_no_shelf(city: graph.TrustGraph) -> None:
    """A specialty is on offer only while its producer is online: the shelves hold every
    other listing, in catalogue order, and no draw of posts, ads, price comparisons or
    return visits reaches it."""
    s = PRODUCERS.replace(
        **{
            "producers.fixed_cost": 1.0,
            "growth.initial_sellers": 0.4,
            "growth.entry_rate": 0.0,
            "loyalty.return_creators": 1.0,
            "loyalty.return_storefronts": 1.0,
        }
    )
    e = Engine(city, s, seed=2)
    m = e.market
    offline = np.flatnonzero(m.producer_listed & ~m.producer_online)
    assert len(offline) > 10 and m.producer_online.sum() > 10
    assert not (m.producer_online & ~m.producer_listed).any()
    producer = m.product_producer[m.listing_product]
    hidden = np.isin(producer, offline)
    np.testing.assert_array_equal(m.listing_on_shelf, ~hidden)
    np.testing.assert_array_equal(np.sort(m.shelf_listing), np.flatnonzero(~hidden))
    for seller in range(m.n_sellers):
        on = m.shelf_listing[m.shelf_ptr[seller] : m.shelf_ptr[seller + 1]]
        whole = np.arange(m.catalogue_ptr[seller], m.catalogue_ptr[seller + 1])
        np.testing.assert_array_equal(on, whole[~hidden[whole]])
    # ... nor among the storefront listings compared.
    assert not hidden[m.store_listings_by_category].any()
    e.run(45)
    r = Result.from_engine(e)
    assert (r.producers.orders[offline] == 0).all()
    assert (r.producers.days_online[offline] == 0).all()
    # The accounts run over the days online: those not online pay no fixed cost.
    np.testing.assert_allclose(r.producers.fixed, np.where(m.producer_online, 45.0, 0.0))
    assert r.producers.orders[m.producer_online].sum() > 0
    # The uniform picks the k-th listing of the shelf, as it picks the k-th of a catalogue.
    sellers = np.arange(m.n_sellers)
    u = np.full(m.n_sellers, 0.999999)
    np.testing.assert_array_equal(m.shelf_draw(sellers, u), m.shelf_listing[m.shelf_ptr[1:] - 1])


def test_producers_enter_at_the_entry_probability(city: graph.TrustGraph) -> None:
    """A listed producer not online goes online with probability entry_rate · (1 − N₀/N̄),
    N̄ the mean net income (accounts over the month's 30 days) of the producers online in
    it, on day 30, and its accounts then run over its days online."""
    hits = trials = 0
    expected = variance = 0.0
    for seed in range(4):
        # Specialties listed by rural local creators only: some producers have none.
        s = PRODUCERS.replace(
            **{
                "growth.initial_sellers": 0.3,
                "producers.channel": "creators",
                "producers.recruit": "rural",
                "producers.listings": 10,
                "producers.fixed_cost": 0.01,
                "decision.intercept": -4.0,
            }
        )
        probe = Engine(city, s, seed=seed)
        probe.run(30)
        online = probe.market.producer_online
        net = Result.from_engine(probe).producers.net.to_numpy()[online]
        assert (Result.from_engine(probe).producers.days_online[online] == 30).all()
        mean = net.mean()
        assert mean > 0
        threshold = 0.5 * mean
        e = Engine(
            city,
            s.replace(**{"growth.entry_rate": 0.6, "growth.producer_entry_income": threshold}),
            seed=seed,
        )
        waiting = e.market.producer_listed & ~e.market.producer_online
        e.run(40)
        # Only listed producers go online.
        assert (~e.market.producer_listed).any()
        assert not (e.market.producer_online & ~e.market.producer_listed).any()
        entered = e.market.producer_online & waiting
        np.testing.assert_array_equal(e.market.producer_since[entered], 30)
        r = Result.from_engine(e)
        np.testing.assert_array_equal(r.producers.days_online[entered], 10)
        np.testing.assert_allclose(r.producers.fixed, 0.01 * r.producers.days_online)
        p = 0.6 * (1 - threshold / mean)
        hits += int(entered.sum())
        trials += int(waiting.sum())
        expected += waiting.sum() * p
        variance += waiting.sum() * p * (1 - p)
        # A threshold above N̄: nobody enters.
        high = Engine(city, s.replace(**{"growth.producer_entry_income": 1.01 * mean}), seed=seed)
        high.run(31)
        np.testing.assert_array_equal(high.market.producer_online, probe.market.producer_online)
    assert trials > 60
    assert abs(hits - expected) <= 4 * math.sqrt(variance)
