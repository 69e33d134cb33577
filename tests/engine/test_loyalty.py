"""Loyalty and return visits (回头客; docs/model.md 3.5, "Loyalty"), rule by rule.

The update is checked exactly on hand-made orders; the return visits' frequency against the
documented probability ``return_k · L`` within 4 standard errors of a binomial count (the
seeds are fixed, so a test either always passes or always fails), their fields exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from laotie import Engine, Scenario, graph
from laotie.engine.exposures import REF_FOLLOW, REF_NONE, REF_STOREFRONT, Exposures, Orders
from laotie.engine.rules.decisions import Weights, utilities
from laotie.engine.rules.loyalty import (
    FORGET_BELOW,
    Loyalties,
    return_visits,
    update_loyalty,
)
from laotie.engine.streams import Stream
from laotie.metrics import FOLLOW, STOREFRONT

Z = 4.0

LOYAL = {
    "loyalty.gain": 0.4,
    "loyalty.half_life": 10.0,
    "loyalty.return_creators": 0.6,
    "loyalty.return_storefronts": 0.2,
    "loyalty.weight": 2.5,
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    scenario = Scenario.preset("village").replace(**LOYAL)
    return Engine(graph.city(scenario.city, seed=1), scenario, seed=2)


def _orders(engine: Engine, rows: list[tuple[int, int, bool]]) -> Orders:
    """Orders of (user, listing, satisfied), in the day's order."""
    user = np.array([r[0] for r in rows], np.int32)
    listing = np.array([r[1] for r in rows], np.int64)
    exposures = Exposures.make(
        len(rows),
        FOLLOW,
        user=user,
        listing=listing,
        trust=0.3,
        memory=0,
        quality=0.5,
        ref_kind=REF_NONE,
        ref=-1,
        source=engine.market.listing_seller[listing],
    )
    orders = Orders(exposures, np.ones(len(rows), np.int64), np.full(len(rows), 10.0))
    orders.satisfied = np.array([r[2] for r in rows])
    return orders


def _pair(loyalties: Loyalties, user: int, seller: int) -> int:
    """The position of the pair (user, seller), or -1."""
    key = user * loyalties.n_sellers + seller
    at = np.searchsorted(loyalties.key, key)
    return int(at) if at < len(loyalties.key) and loyalties.key[at] == key else -1


def test_loyalty_grows_decays_and_ends(engine: Engine) -> None:
    m = engine.market
    params = engine.scenario.loyalty
    users = [u for u in m.users if u not in set(m.creator_node)][:4]
    a, b, c, d = (int(u) for u in users)
    creator_listing = int(m.catalogue_ptr[0])
    store_listing = int(m.catalogue_ptr[m.n_creators])
    store = int(m.listing_seller[store_listing])
    loyal = Loyalties(m.n_sellers)
    # Day 5: a buys twice from creator 0 (the last, satisfying, decides), b is disappointed,
    # c buys from a storefront, and creator 0's own node buys its own listing.
    own = int(m.creator_node[0])
    update_loyalty(
        loyal,
        _orders(
            engine,
            [
                (a, creator_listing, False),
                (b, creator_listing, False),
                (a, creator_listing, True),
                (c, store_listing, True),
                (own, creator_listing, True),
            ],
        ),
        m,
        5,
        params,
    )
    assert np.all(np.diff(loyal.key) > 0)
    assert _pair(loyal, b, 0) == -1 and _pair(loyal, own, 0) == -1
    for user, seller in ((a, 0), (c, store)):
        at = _pair(loyal, user, seller)
        assert at >= 0 and loyal.level[at] == params.gain and loyal.day[at] == 5
    # Day 25: two half-lives later a's loyalty is a quarter of what it was; a satisfying
    # order raises that by gain of its distance to 1; c is disappointed: c's loyalty ends;
    # d's new pair begins.
    assert loyal.current(25, params.half_life, [_pair(loyal, a, 0)])[0] == pytest.approx(
        params.gain / 4, rel=1e-12
    )
    update_loyalty(
        loyal,
        _orders(
            engine,
            [(a, creator_listing, True), (c, store_listing, False), (d, store_listing, True)],
        ),
        m,
        25,
        params,
    )
    before = params.gain / 4
    at = _pair(loyal, a, 0)
    assert loyal.level[at] == pytest.approx(before + params.gain * (1 - before), rel=1e-12)
    assert loyal.day[at] == 25
    assert _pair(loyal, c, store) == -1 and _pair(loyal, d, store) >= 0
    assert np.all(np.diff(loyal.key) > 0)
    # Forgetting: after enough half-lives every pair is below the threshold.
    days = 25 + int(np.ceil(params.half_life * np.log2(1 / FORGET_BELOW))) + 1
    loyal.forget(days - 2 * int(params.half_life), params.half_life)
    assert len(loyal) == 2
    loyal.forget(days, params.half_life)
    assert len(loyal) == 0


def test_return_visits_come_with_probability_return_times_loyalty(engine: Engine) -> None:
    m = engine.market
    s = engine.scenario
    params = s.loyalty
    # Every user active today (a bit per node, 64 a word).
    every = np.zeros(64 * len(engine.today.active_bits), bool)
    every[: len(m.is_user)] = m.is_user
    engine.today.active_bits[:] = np.packbits(every, bitorder="little").view(np.uint64)
    assert np.array_equal(engine.today.active, m.is_user)
    users = np.flatnonzero(m.is_user)
    # Every user is loyal to creator 0 (level 0.9, from day 0) and to storefront 0 (0.5).
    store = m.n_creators
    loyal = Loyalties(m.n_sellers)
    key = np.concatenate([users * m.n_sellers, users * m.n_sellers + store])
    order = np.argsort(key)
    loyal.key = key[order]
    loyal.level = np.concatenate([np.full(len(users), 0.9), np.full(len(users), 0.5)])[order]
    loyal.day = np.zeros(len(key), np.int64)
    day = 7
    decay = 2 ** (-day / params.half_life)
    visits = {FOLLOW: 0, STOREFRONT: 0}
    n_days = 40
    stream = Stream([np.random.SeedSequence(3)])
    shown: dict[int, list[np.ndarray]] = {FOLLOW: [], STOREFRONT: []}
    for _ in range(n_days):
        for part in return_visits(loyal, day, m, engine.today, stream, s):
            visits[int(part.channel[0])] += len(part)
            shown[int(part.channel[0])].append(part.listing)
            _check_fields(engine, part, loyal, day)
    # The listing shown is uniform over the seller's catalogue (chi-square, 1e-4 level).
    for channel, seller in ((FOLLOW, 0), (STOREFRONT, store)):
        start, stop = m.catalogue_ptr[seller], m.catalogue_ptr[seller + 1]
        counts = np.bincount(np.concatenate(shown[channel]) - start, minlength=stop - start)
        assert len(counts) == stop - start > 1
        assert stats.chisquare(counts).pvalue > 1e-4, (channel, counts)
    for channel, rate, level in (
        (FOLLOW, params.return_creators, 0.9),
        (STOREFRONT, params.return_storefronts, 0.5),
    ):
        p = rate * level * decay
        n = n_days * len(users)
        assert abs(visits[channel] - n * p) <= Z * np.sqrt(n * p * (1 - p)), channel


def test_a_return_visit_reads_the_memory_of_its_own_storefront(engine: Engine) -> None:
    # Each user loyal to one storefront (by user), remembering it as -1 or +1 (by user) and
    # every other storefront as the opposite: a storefront return visit must carry the
    # memory of the storefront it returns to (the break-test's mutation reading column 0
    # passed a test where every memory was 0).
    m = engine.market
    s = engine.scenario
    S = m.layout.storefronts
    assert S >= 3
    saved_memory, saved_bits = m.storefront_memory.table.copy(), engine.today.active_bits.copy()
    try:
        every = np.zeros(64 * len(engine.today.active_bits), bool)
        every[: len(m.is_user)] = m.is_user
        engine.today.active_bits[:] = np.packbits(every, bitorder="little").view(np.uint64)
        users = np.flatnonzero(m.is_user)
        index = m.user_index[users]
        column = users % S
        mine = np.where(users % 2 == 0, -1, 1)
        for value in (-1, 1):
            theirs = mine == value
            for other in range(S):
                rest = theirs & (column != other)
                m.storefront_memory.set(index[rest], np.full(int(rest.sum()), other), -value)
            m.storefront_memory.set(index[theirs], column[theirs], value)
        loyal = Loyalties(m.n_sellers)
        key = users * m.n_sellers + m.n_creators + column
        loyal.key = np.sort(key)
        loyal.level = np.ones(len(key))
        loyal.day = np.zeros(len(key), np.int64)
        stream = Stream([np.random.SeedSequence(5)])
        seen = 0
        for day in range(1, 6):
            for part in return_visits(loyal, day, m, engine.today, stream, s):
                if part.channel[0] != STOREFRONT:
                    continue
                _check_fields(engine, part, loyal, day)
                user = part.user
                np.testing.assert_array_equal(part.source % S, user % S)
                np.testing.assert_array_equal(part.memory, np.where(user % 2 == 0, -1, 1))
                seen += len(part)
        assert seen > 20
    finally:
        m.storefront_memory.table[:] = saved_memory
        engine.today.active_bits[:] = saved_bits


def _check_fields(engine: Engine, part: Exposures, loyal: Loyalties, day: int) -> None:
    m = engine.market
    s = engine.scenario
    assert part.attention == 1.0
    seller = m.listing_seller[part.listing]
    if part.channel[0] == FOLLOW:
        np.testing.assert_array_equal(seller, part.source)
        kind, index = m.follows.find(part.user, m.creator_node[part.source])
        follower = kind == 1
        np.testing.assert_array_equal(part.ref_kind, np.where(follower, REF_FOLLOW, REF_NONE))
        np.testing.assert_array_equal(part.trust[follower], m.follows.trust[index[follower]])
        np.testing.assert_array_equal(part.memory[follower], m.follows.memory[index[follower]])
        assert (part.memory[~follower] == 0).all()
        assert (part.trust[~follower] == np.float32(s.creators.stranger_trust)).all()
    else:
        np.testing.assert_array_equal(seller - m.n_creators, part.source)
        assert (part.ref_kind == REF_STOREFRONT).all()
        np.testing.assert_array_equal(part.trust, m.storefront_trust[part.user])
        np.testing.assert_array_equal(part.ref, m.user_index[part.user])
        np.testing.assert_array_equal(
            part.memory, m.storefront_memory.get(part.ref, part.source % m.layout.storefronts)
        )
    np.testing.assert_array_equal(part.quality, m.listing_promise[part.listing])
    # The utility: an exposure's, plus weight · L.
    expected = np.empty(len(part))
    utilities(
        Weights.of(s),
        part.user,
        part.listing,
        part.trust,
        part.quality,
        part.memory,
        m.price_factor,
        m.listing_price,
        expected,
    )
    key = part.user.astype(np.int64) * m.n_sellers + seller
    level = loyal.current(day, s.loyalty.half_life, np.searchsorted(loyal.key, key))
    np.testing.assert_allclose(part.utility, expected + s.loyalty.weight * level, rtol=1e-12)


def test_without_return_visits_loyalty_is_not_tracked() -> None:
    scenario = Scenario.preset("village").replace(**{"decision.intercept": -2.0})
    engine = Engine(graph.city(scenario.city, seed=1), scenario, seed=2)
    engine.run(5)
    assert engine.history[-1].sum() > 0 and len(engine.loyalties) == 0
    loyal = Engine(graph.city(scenario.city, seed=1), scenario.replace(**LOYAL), seed=2)
    loyal.run(5)
    assert len(loyal.loyalties) > 0
