"""Producers enrolled by node id (``Engine(enrolled=...)``, docs/model.md 3.4, "Poor
producers"): the producers are the nodes given, in every replication, and a producer
enrolled in two sets is the same producer in both (common random numbers by node)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from laotie import Engine, Scenario, ScenarioError, TrustGraph, graph
from laotie.engine.market import Market


@pytest.fixture(scope="module")
def county() -> tuple[TrustGraph, Scenario]:
    # Both channels list the specialties: local creators of the region and storefronts.
    scenario = Scenario.preset("poverty_county", scale=0.05)
    assert scenario.producers.channel == "both" and scenario.producers.offline_income > 0
    return graph.city(scenario.city, seed=1), scenario


def rural(g: TrustGraph) -> np.ndarray:
    return np.flatnonzero(g.rural & g.resident)


def producer(m: Market, node: int) -> tuple[float, float, float, list[int]]:
    """A producer's offline income, its specialty's price and quality, and who lists it."""
    j = int(np.flatnonzero(m.producer_node == node)[0])
    product = int(np.flatnonzero(m.product_producer == j)[0])
    sellers = sorted(m.listing_seller[m.listing_product == product].tolist())
    return (
        float(m.producer_offline[j]),
        float(m.product_price[product]),
        float(m.product_quality[product]),
        sellers,
    )


def test_the_producers_are_the_nodes_enrolled_in_every_replication(
    county: tuple[TrustGraph, Scenario],
) -> None:
    g, s = county
    nodes = rural(g)[[40, 7, 300]].tolist()
    engine = Engine(g, s, seed=np.random.SeedSequence(2).spawn(3), enrolled=nodes)
    m, n = engine.market, g.n_nodes
    assert m.layout.producers == 3 and m.n_producers == 9
    for r in range(3):
        mine = m.producer_node[3 * r : 3 * r + 3] - r * n
        assert mine.tolist() == sorted(nodes)
    assert Engine(g, s, seed=1, enrolled=[]).market.n_producers == 0
    assert Engine(g, s, seed=1).market.n_producers == s.producers.n_producers


def test_a_producer_enrolled_in_two_sets_is_the_same_producer(
    county: tuple[TrustGraph, Scenario],
) -> None:
    g, s = county
    pool = rural(g)
    shared = int(pool[10])
    # Other producers before and after it, in its region and in others.
    first = Engine(g, s, seed=5, enrolled=[int(pool[3]), shared, int(pool[500])]).market
    second = Engine(g, s, seed=5, enrolled=[shared, int(pool[11]), int(pool[12])]).market
    alone = Engine(g, s, seed=5, enrolled=[shared]).market
    mine = producer(first, shared)
    assert producer(second, shared) == mine == producer(alone, shared)
    offline, _, _, sellers = mine
    assert offline > 0 and len(sellers) == 2 * s.producers.listings  # creators and storefronts
    assert any(seller >= first.n_creators for seller in sellers)
    # Another seed, another producer at the same node; the rest of the market is the
    # unenrolled engine's, draw for draw.
    assert producer(Engine(g, s, seed=6, enrolled=[shared]).market, shared) != mine
    drawn = Engine(g, s, seed=5).market
    for name in ("p_active", "budget", "authenticity", "product_price"):
        a, b = getattr(alone, name), getattr(drawn, name)
        if name == "product_price":  # the sellers' own products, before the specialties
            a, b = a[: a.size - alone.n_producers], b[: b.size - drawn.n_producers]
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("recruit", ["random", "rural", "followers"])
def test_every_recruitment_rule_lists_an_enrolled_producer_by_node(
    county: tuple[TrustGraph, Scenario], recruit: str
) -> None:
    g, base = county
    s = base.replace(**{"producers.recruit": recruit, "producers.channel": "creators"})
    pool = rural(g)
    shared = int(pool[20])
    one = Engine(g, s, seed=3, enrolled=[shared, int(pool[900])]).market
    two = Engine(g, s, seed=3, enrolled=[int(pool[0]), shared]).market
    assert producer(one, shared) == producer(two, shared)
    assert producer(one, shared)[3]


@pytest.mark.parametrize(
    ("enrolled", "message"),
    [
        ("7", "Engine: enrolled = '7'; expected a list of residents' node ids"),
        ([1.5], "Engine: enrolled: 1.5 is not a node id"),
        ([-2], "Engine: enrolled: node -2 is out of range"),
        ([5, 5], "Engine: enrolled names node 5 twice"),
    ],
)
def test_enrolled_producers_are_checked(
    county: tuple[TrustGraph, Scenario], enrolled: object, message: str
) -> None:
    g, s = county
    with pytest.raises(ScenarioError, match=re.escape(message)):
        Engine(g, s, seed=1, enrolled=enrolled)  # type: ignore[arg-type]


def test_an_enrolled_run_keeps_its_producers_accounts(county: tuple[TrustGraph, Scenario]) -> None:
    from laotie.results import run_outcomes

    g, s = county
    nodes = rural(g)[:: max(1, len(rural(g)) // 40)].tolist()
    engine = Engine(g, s, seed=4, enrolled=nodes)
    engine.run(40)
    outcomes = run_outcomes(engine.replication(0))
    assert np.isfinite(outcomes["producer_net_total"])
    assert engine.replication(0).producer_income.shape == (len(nodes),)


def test_keyed_listings_choose_uniformly_among_the_pool(
    county: tuple[TrustGraph, Scenario],
) -> None:
    # Drawn by hashes of (producer, seller) instead of a stream, the creators listing a
    # specialty are still `listings` distinct creators chosen uniformly: each of the C
    # creators of the pool lists about N · listings / C of N specialties.
    g, base = county
    s = base.replace(**{"producers.recruit": "random", "producers.channel": "creators"})
    nodes = rural(g).tolist()
    m = Engine(g, s, seed=9, enrolled=nodes).market
    specialty = m.product_producer[m.listing_product] >= 0
    sellers = m.listing_seller[specialty]
    per_product = np.bincount(m.listing_product[specialty] - m.listing_product[specialty].min())
    assert (per_product == s.producers.listings).all()  # distinct creators, `listings` each
    pool = np.flatnonzero(m.creator_resident)
    counts = np.bincount(sellers, minlength=m.n_creators)[pool]
    p = s.producers.listings / len(pool)
    expected, sd = len(nodes) * p, np.sqrt(len(nodes) * p * (1 - p))
    assert abs(counts.mean() - expected) < 1e-9
    assert np.abs(counts - expected).max() < 5 * sd, (counts.min(), counts.max(), expected)
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < len(pool) + 5 * np.sqrt(2 * len(pool)), (chi2, len(pool))


def test_the_memory_estimate_counts_the_producers_enrolled(
    county: tuple[TrustGraph, Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An enrolment of every rural resident lists many more specialties than the
    # producers.n_producers drawn: the engine's estimate (refused before anything is built)
    # counts the producers enrolled, not the scenario's number.
    from laotie import _memory
    from laotie.engine.sizing import LISTING_BYTES, engine_bytes

    g, s = county
    nodes = rural(g).tolist()
    many, few = len(nodes), s.producers.n_producers
    assert many > 5 * few
    drawn = engine_bytes(g, s)
    assert engine_bytes(g, s, 1, few) == drawn
    enrolled = engine_bytes(g, s, 1, many)
    assert enrolled - drawn >= (many - few) * 2 * s.producers.listings * LISTING_BYTES
    monkeypatch.setattr(_memory, "available_bytes", lambda: (drawn + enrolled) // 2)
    Engine(g, s, seed=1)
    Engine(g, s, seed=1, enrolled=nodes[:few])  # as many as drawn: fits
    with pytest.raises(
        ScenarioError,
        match=rf"Engine: 1 replication\(s\) of a city of {g.n_nodes:,} residents needs about "
        rf".* \(or enrol fewer than {many:,} producers\)",
    ):
        Engine(g, s, seed=1, enrolled=nodes)


def test_another_seed_lists_an_enrolled_producer_elsewhere(
    county: tuple[TrustGraph, Scenario],
) -> None:
    # The hashes that choose who lists a specialty are salted by the replication's stream:
    # the same producers under another seed (or in another lockstep replication) are listed
    # by other creators and storefronts, not by the same ones in every replication.
    g, base = county
    s = base.replace(**{"producers.recruit": "random"})  # among all the city's creators
    nodes = rural(g)[:: max(1, len(rural(g)) // 20)][:20].tolist()
    m = Engine(g, s, seed=[5, 6], enrolled=nodes).market
    n, C, S = g.n_nodes, m.layout.creators, m.layout.storefronts
    differ = {"creators": 0, "storefronts": 0}
    for node in nodes:
        lists = []
        for r in range(2):
            j = int(np.flatnonzero(m.producer_node == node + r * n)[0])
            product = int(np.flatnonzero(m.product_producer == j)[0])
            sellers = m.listing_seller[m.listing_product == product]
            creators = sorted((m.creator_node[sellers[sellers < m.n_creators]] - r * n).tolist())
            stores = sorted((sellers[sellers >= m.n_creators] - m.n_creators) % S)
            lists.append((creators, stores))
        differ["creators"] += lists[0][0] != lists[1][0]
        differ["storefronts"] += lists[0][1] != lists[1][1]
    assert min(C, S) > s.producers.listings
    assert differ["creators"] >= 10 and differ["storefronts"] >= 10, differ
