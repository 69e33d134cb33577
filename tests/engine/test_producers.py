"""Who lists a poor producer's specialty (producers.recruit)."""

from __future__ import annotations

import numpy as np
import pytest

from laotie import Scenario, ScenarioError, graph
from laotie.engine.market import Market
from laotie.engine.ties import follow_edges


@pytest.fixture(scope="module")
def setting() -> tuple[Scenario, graph.TrustGraph]:
    base = Scenario.preset("poverty_county", scale=0.2).replace(**{"producers.channel": "creators"})
    return base, graph.city(base.city, seed=5)


def recruits(setting, rule: str) -> tuple[Market, dict[int, np.ndarray]]:  # type: ignore[no-untyped-def]
    base, city = setting
    m = Market(city, base.replace(**{"producers.recruit": rule}), np.random.default_rng(1))
    first = m.n_products - m.n_producers
    by_producer: dict[int, list[int]] = {}
    for seller, product in zip(m.listing_seller, m.listing_product, strict=True):
        if product >= first:
            by_producer.setdefault(int(product - first), []).append(int(seller))
    return m, {k: np.array(v) for k, v in by_producer.items()}


@pytest.mark.parametrize("rule", ["local", "rural"])
def test_local_and_rural_recruits_are_non_head_creators_of_the_region(setting, rule) -> None:  # type: ignore[no-untyped-def]
    _, city = setting
    m, chosen = recruits(setting, rule)
    listings = setting[0].producers.listings
    assert chosen, "no specialty was listed"
    for producer, sellers in chosen.items():
        nodes = m.creator_node[sellers]
        assert len(set(sellers.tolist())) == len(sellers) <= listings
        assert not m.is_head[sellers].any()
        assert (city.region[nodes] == city.region[m.producer_node[producer]]).all()
        if rule == "rural":
            assert city.rural[nodes].all()


def test_followers_recruits_the_most_followed_creators(setting) -> None:  # type: ignore[no-untyped-def]
    _, city = setting
    m, chosen = recruits(setting, "followers")
    followers = np.bincount(follow_edges(city)[1], minlength=city.n_nodes)[m.creator_node]
    listings = setting[0].producers.listings
    expected = set(np.argsort(-followers, kind="stable")[:listings].tolist())
    assert len(chosen) == m.n_producers
    for sellers in chosen.values():
        assert set(sellers.tolist()) == expected
    assert m.is_head[list(expected)].any()  # the heads are the most followed


def test_random_recruits_come_from_the_whole_city(setting) -> None:  # type: ignore[no-untyped-def]
    _, city = setting
    m, chosen = recruits(setting, "random")
    listings = setting[0].producers.listings
    outside = 0
    for producer, sellers in chosen.items():
        assert len(set(sellers.tolist())) == len(sellers) == listings
        home = city.region[m.producer_node[producer]]
        outside += int((city.region[m.creator_node[sellers]] != home).sum())
    # Unlike 'local', recruits come from other regions too.
    assert outside > 0


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ScenarioError, match="recruit.*'random'"):
        Scenario.preset("village").replace(**{"producers.recruit": "biggest"})


@pytest.mark.parametrize("buffer", [4096, 4])  # 4: the pair buffer is merged many times
def test_producer_orders_and_buyers_count_the_specialty_orders(buffer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from laotie import Engine, simulate
    from laotie.engine import state

    monkeypatch.setattr(state, "KEY_BUFFER_MIN", buffer)
    scenario = Scenario.preset("poverty_county", scale=0.2)
    city = graph.city(scenario.city, seed=4)
    engine = Engine(city, scenario, seed=8)
    m = engine.market
    orders = np.zeros(m.n_producers, np.int64)
    pairs: set[tuple[int, int]] = set()
    # At least 25 days, and on until a buyer has come back to a producer, so that orders and
    # distinct buyers differ (the counts must match for any seed and day).
    for day in range(120):
        engine.step()
        today = engine.orders_today.exposures
        producer = m.product_producer[m.listing_product[today.listing]]
        for p, user in zip(producer.tolist(), today.user.tolist(), strict=True):
            if p >= 0:
                orders[p] += 1
                pairs.add((p, user))
        if day >= 24 and orders.sum() > len(pairs):
            break
    buyers = np.bincount([p for p, _ in pairs], minlength=m.n_producers)
    assert orders.sum() > 0 and (orders > buyers).any()  # some buyers came back
    np.testing.assert_array_equal(engine.ledger.producer_orders, orders)
    np.testing.assert_array_equal(engine.ledger.producer_buyers, buyers)
    # A producer with income has orders and buyers, and only then.
    np.testing.assert_array_equal(
        engine.ledger.producer_income > 0, engine.ledger.producer_buyers > 0
    )
    untrained = scenario.replace(**{"training.day": -1, "training.n_creators": 0})
    result = simulate(untrained, days=5, seed=1)  # before the county's training day
    assert len(result.producer_buyers) == result.scenario.producers.n_producers


@pytest.mark.parametrize("buffer", [4096, 4])
def test_sellers_customers_and_repeat_customers_count_the_orders(buffer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each seller's customers (distinct buyers) and repeat customers (回头客: two orders or
    more, on one day or several, counted once), against a count of the day's orders; with
    return visits and a high intercept so that buyers come back often, some twice in a day
    and some three times or more."""
    from laotie import Engine
    from laotie.engine import state

    monkeypatch.setattr(state, "KEY_BUFFER_MIN", buffer)
    scenario = Scenario.preset("poverty_county", scale=0.2).replace(
        **{
            "loyalty.return_creators": 0.5,
            "loyalty.return_storefronts": 0.2,
            "decision.intercept": -2.0,
        }
    )
    engine = Engine(graph.city(scenario.city, seed=4), scenario, seed=8)
    m = engine.market
    orders: dict[tuple[int, int], int] = {}
    twice_in_a_day = 0
    for _ in range(40):
        engine.step()
        today = engine.orders_today.exposures
        pairs = list(
            zip(m.listing_seller[today.listing].tolist(), today.user.tolist(), strict=True)
        )
        twice_in_a_day += len(pairs) - len(set(pairs))
        for pair in pairs:
            orders[pair] = orders.get(pair, 0) + 1
    customers = np.zeros(m.n_sellers, np.int64)
    repeat = np.zeros(m.n_sellers, np.int64)
    for (seller, _), n in orders.items():
        customers[seller] += 1
        repeat[seller] += n >= 2
    n = np.array(list(orders.values()))
    assert twice_in_a_day > 0 and (n >= 3).any() and 0 < repeat.sum() < customers.sum()
    np.testing.assert_array_equal(engine.ledger.seller_customers, customers)
    np.testing.assert_array_equal(engine.ledger.seller_repeat_customers, repeat)
