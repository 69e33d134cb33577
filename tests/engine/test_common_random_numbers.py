"""Arms that differ in one setting share what that setting does not touch (common random
numbers): the producers and their specialties across producers.channel, the trained creators
across training.n_creators."""

from __future__ import annotations

import numpy as np

from laotie import Engine, Scenario, graph
from laotie.engine.market import Market


def specialty_listings(m: Market, storefronts: bool) -> list[tuple[int, int]]:
    specialty = m.product_producer[m.listing_product] >= 0
    at_storefront = m.listing_seller >= m.n_creators
    keep = specialty & (at_storefront if storefronts else ~at_storefront)
    return sorted(
        zip(m.listing_seller[keep].tolist(), m.listing_product[keep].tolist(), strict=True)
    )


def test_channel_arms_share_producers_products_and_listings() -> None:
    base = Scenario.preset("county", scale=0.3)
    city = graph.city(base.city, seed=3)
    markets = {
        channel: Market(
            city, base.replace(**{"producers.channel": channel}), np.random.default_rng(5)
        )
        for channel in ("creators", "storefronts", "both")
    }
    creators, storefronts, both = markets["creators"], markets["storefronts"], markets["both"]
    n = both.n_producers
    assert n == base.producers.n_producers
    for m in (creators, storefronts):
        np.testing.assert_array_equal(m.producer_node, both.producer_node)
        np.testing.assert_array_equal(m.product_price[-n:], both.product_price[-n:])
        np.testing.assert_array_equal(m.product_quality[-n:], both.product_quality[-n:])
    # "both" lists each specialty with exactly the creators of "creators" and the storefronts
    # of "storefronts".
    assert specialty_listings(creators, False) == specialty_listings(both, False)
    assert specialty_listings(storefronts, True) == specialty_listings(both, True)
    assert specialty_listings(creators, True) == [] and specialty_listings(storefronts, False) == []


def test_more_trained_creators_include_the_fewer() -> None:
    base = Scenario.preset("village")
    city = graph.city(base.city, seed=2)
    trained = {}
    for k in (3, 8):
        scenario = base.replace(
            **{"training.day": 0, "training.n_creators": k, "training.rule": "local"}
        )
        engine = Engine(city, scenario, seed=9)
        engine.step()
        trained[k] = set(engine.trained.tolist())
    assert len(trained[3]) == 3 and len(trained[8]) == 8
    assert trained[3] <= trained[8]
