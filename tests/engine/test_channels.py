"""The channels' draws and what an order carries (docs/model.md 3.5): discovery's weights
under both traffic policies, the storefront drawn by ad share, the basket's trust effect,
and which of several orders through the same source sets its trust and memory.

Hand-built cities of a few creators and users, on one or a few days; where the rule is
random, counts are compared with the documented probabilities within 4 standard errors of
their sampling error (each check's false-alarm rate below 1e-4; the seeds are fixed, so a
test either always passes or always fails), or the draws are recomputed exactly from the
same uniforms.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from laotie import Engine, Scenario
from laotie.engine.exposures import (
    REF_BUFFER,
    REF_FOLLOW,
    REF_SOCIAL,
    REF_STOREFRONT,
    Exposures,
    Orders,
)
from laotie.engine.rules.outcomes import apply_outcomes, trust_after
from laotie.engine.rules.storefront import storefront_exposures
from laotie.engine.streams import Stream
from laotie.graph import TrustGraph
from laotie.graph._core import FOLLOW, HEAD, LOCAL, LOCAL_CREATOR
from laotie.metrics import COUNTS, ROWS, STOREFRONT, WOM
from laotie.metrics import FOLLOW as FOLLOW_CHANNEL

EXPOSURES = COUNTS.index("exposures")
Z = 4.0
"""Standard errors a count may stray from its expectation (two-sided 6e-5 each)."""

QUIET = {
    "population.activity_mean": 0.999999,
    "population.activity_concentration": 1e6,
    "population.budget_mean": 1e7,
    "population.budget_dispersion": 0.0,
    "decision.price_weight": 0.0,
    "policy.discovery_per_active": 0.0,
    "storefronts.impressions_per_active": 0.0,
    "word_of_mouth.prob": 0.0,
    "creators.follow_prob": 0.0,
}
"""Everyone is active, budgets never bind; every channel is off until a test turns it on."""

CERTAIN = {**QUIET, "decision.intercept": 50.0}
"""...and every exposure is bought (σ(50) is 1 in float64)."""

NEVER = {**QUIET, "decision.intercept": -50.0}
"""...and no exposure is bought (nothing changes the followers or the trust)."""


def village(*parts: dict[str, object]) -> Scenario:
    """The village preset with the changes of ``parts`` (later ones win)."""
    changes: dict[str, object] = {}
    for part in parts:
        changes.update(part)
    return Scenario.preset("village").replace(**changes)


# ---------------------------------------------------------------------------- discovery


def creators_city(kinds: list[int], followers: list[int], n_users: int) -> TrustGraph:
    """Creators at nodes 0 .. k-1 (``kinds``), then ``n_users`` other users; creator c is
    followed by ``followers[c]`` of them (distinct users for each creator)."""
    k = len(kinds)
    kind = np.zeros(k + n_users, np.int8)
    kind[:k] = kinds
    src, dst = [], []
    next_user = k
    for c, count in enumerate(followers):
        for _ in range(count):
            src.append(next_user)
            dst.append(c)
            next_user += 1
    assert next_user <= k + n_users
    return TrustGraph.from_edges(
        k + n_users, src, dst, [0.5] * len(src), [FOLLOW] * len(src), creator_kind=kind
    )


def discovery_day(g: TrustGraph, traffic: str, exponent: float, seed: int = 3):  # type: ignore[no-untyped-def]
    """One day on which every creator posts and only discovery shows posts (reach 0, no
    storefront ads, nothing bought); the discovery exposures of each creator, the number of
    impressions and the engine."""
    s = village(
        NEVER,
        {
            "policy.traffic": traffic,
            "policy.head_exponent": exponent,
            "policy.reach": 0.0,
            "policy.discovery_per_active": 400.0,
            "creators.post_prob": 1.0,
        },
    )
    engine = Engine(g, s, seed=seed)
    day = engine.step()
    n_active = int(engine.today.counts[0])
    impressions = round(400.0 * n_active)
    per_creator = engine.replication(0).creator_exposures
    # Every creator exposure of the day came through discovery.
    assert day[ROWS.index("follow"), EXPOSURES] == 0
    assert day[ROWS.index("discovery"), EXPOSURES] == per_creator.sum()
    return per_creator, impressions, engine


def check_counts(counts: np.ndarray, impressions: int, p: np.ndarray) -> None:
    """Each creator's exposures against Binomial(impressions, p): zero where p is 0, else
    within Z standard errors."""
    for c, (got, q) in enumerate(zip(counts, p, strict=True)):
        if q == 0:
            assert got == 0, (c, got)
            continue
        mean, sd = impressions * q, np.sqrt(impressions * q * (1 - q))
        assert abs(got - mean) <= Z * sd, (c, got, mean, sd)


def discovery_probabilities(engine: Engine, weight: np.ndarray) -> np.ndarray:
    """The chance that an impression shows creator c's post and is kept: its weight's share,
    times the chance that the viewer (uniform among the active users) is not c itself."""
    m = engine.market
    active = engine.today.active[m.creator_node]
    n_active = engine.today.counts[0]
    return weight / weight.sum() * (1 - active / n_active)


@pytest.mark.parametrize("exponent", [1.0, 0.5])
def test_head_discovery_weights_are_content_quality_times_one_plus_followers_to_the_h(
    exponent: float,
) -> None:
    # Three local creators with 0, 3 and 15 followers: weights cq · 1, cq · 4^h, cq · 16^h.
    # The creator without followers gets its share (weight cq · (1 + 0)^h = cq, not 0).
    followers = [0, 3, 15]
    g = creators_city([LOCAL_CREATOR] * 3, followers, n_users=40)
    counts, impressions, engine = discovery_day(g, "head", exponent)
    m = engine.market
    assert m.follows.count[m.creator_node].tolist() == followers
    weight = m.content_quality.astype(np.float64) * (1.0 + np.array(followers)) ** exponent
    assert counts[0] > 0
    check_counts(counts, impressions, discovery_probabilities(engine, weight))


@pytest.mark.parametrize("traffic", ["head", "inclusive"])
def test_head_kols_get_discovery_traffic_under_head_only(traffic: str) -> None:
    # Two head KOLs (one with followers), two local creators (one with followers). Under
    # inclusive the heads get no discovery exposure and the locals share it by content
    # quality; under head everyone gets traffic by cq · (1 + F)^h.
    kinds = [HEAD, HEAD, LOCAL_CREATOR, LOCAL_CREATOR]
    followers = [10, 0, 4, 0]
    g = creators_city(kinds, followers, n_users=40)
    counts, impressions, engine = discovery_day(g, traffic, 0.5)
    m = engine.market
    cq = m.content_quality.astype(np.float64)
    head = m.is_head
    if traffic == "head":
        weight = cq * (1.0 + np.array(followers)) ** 0.5
        assert (counts[head] > 0).all()
    else:
        weight = np.where(head, 0.0, cq)
        assert (counts[head] == 0).all() and (counts[~head] > 0).all()
    check_counts(counts, impressions, discovery_probabilities(engine, weight))


# --------------------------------------------------------------------------- storefronts


def shoppers(n: int) -> TrustGraph:
    """``n`` users, no creator, no tie."""
    return TrustGraph.from_edges(n, [], [], [], [])


def test_storefront_impressions_invert_the_ad_shares_cdf_of_their_uniforms() -> None:
    # Each impression takes three uniforms (comparisons 0): the storefront is the search of
    # the first in the ad shares' cumulative sum (what Generator.choice(p=ad_share) does
    # with it), the product the second's share of the catalogue, the viewer the third's
    # share of today's active users.
    s = village(
        NEVER,
        {
            "storefronts.n_storefronts": 50,
            "storefronts.products_per_storefront": 3,
            "storefronts.ad_budget_dispersion": 1.5,
            "storefronts.comparisons": 0,
            "storefronts.impressions_per_active": 40.0,
        },
    )
    engine = Engine(shoppers(100), s, seed=2)
    engine.step()
    m, today = engine.market, engine.today
    seed = np.random.SeedSequence(2024)
    out = storefront_exposures(market=m, today=today, stream=Stream([seed]), scenario=s)
    n = round(40.0 * today.counts[0])
    assert len(out) == n
    u = np.random.Generator(np.random.SFC64(seed)).random(3 * n).reshape(n, 3)
    cdf = m.ad_share.cumsum()
    cdf /= cdf[-1]
    store = cdf.searchsorted(u[:, 0], side="right")
    np.testing.assert_array_equal(out.source, store)
    start = m.catalogue_ptr[m.n_creators + store]
    size = m.catalogue_ptr[m.n_creators + store + 1] - start
    np.testing.assert_array_equal(out.listing, start + (u[:, 1] * size).astype(np.int64))
    np.testing.assert_array_equal(out.user, today.users[(u[:, 2] * today.counts[0]).astype(int)])
    assert (out.ref_kind == REF_STOREFRONT).all()


@pytest.mark.parametrize("c", [0.3, 0.75])
def test_storefront_clicks_are_drawn_first_and_only_clicks_drawn_whole(c: float) -> None:
    # click_prob c, 40 impressions per active user of a lockstep pair: each replication's
    # stream gives one uniform per impression (clicked below c, else shown to the seat
    # (w - c) / (1 - c) of its replication's users), then three per clicked impression
    # (comparisons 0); the exposures are the clicked ones, with attention 1.
    s = village(
        NEVER,
        {
            "storefronts.n_storefronts": 50,
            "storefronts.products_per_storefront": 3,
            "storefronts.comparisons": 0,
            "storefronts.impressions_per_active": 40.0,
            "storefronts.click_prob": c,
        },
    )
    engine = Engine(shoppers(100), s, seed=[2, 3])
    engine.step()
    m, today = engine.market, engine.today
    seeds = [np.random.SeedSequence(2024), np.random.SeedSequence(2025)]
    out = storefront_exposures(market=m, today=today, stream=Stream(seeds), scenario=s)
    assert out.attention == 1.0 and out.unclicked is not None
    nodes = m.layout.nodes
    users, impressions = out.unclicked
    start = 0
    for r, seed in enumerate(seeds):
        generator = np.random.Generator(np.random.SFC64(seed))
        n = round(40.0 * today.counts[r])
        w = generator.random(n)
        clicked = w < c
        k = int(clicked.sum())
        assert abs(k - n * c) <= Z * np.sqrt(n * c * (1 - c))
        mine = today.users[today.bounds[r] : today.bounds[r + 1]]
        # Every viewer of an unclicked impression once, in the order first seen.
        seat = ((w[~clicked] - c) / (1 - c) * len(mine)).astype(np.int64)
        first = np.sort(np.unique(seat, return_index=True)[1])
        mine_seen = users[users // nodes == r]
        np.testing.assert_array_equal(mine_seen, mine[seat[first]])
        assert impressions[r] == n - k
        # The clicked impressions, whole, from the same stream.
        rows = out.user // nodes == r
        assert rows.sum() == k
        u = generator.random(3 * k).reshape(k, 3)
        np.testing.assert_array_equal(out.user[rows], mine[(u[:, 2] * len(mine)).astype(int)])
        start += k
    assert start == len(out)


def test_unclicked_impressions_count_as_exposures_and_their_viewers_as_exposed() -> None:
    # Everyone active and 40 impressions each, 5 % clicked: the exposures are all
    # impressions and the exposed users every active user (one misses all of them with
    # probability (1 - 1/100)^4000 < 1e-17; counting the clicks' viewers alone would give
    # about 86 of 100).
    s = village(
        NEVER,
        {"storefronts.impressions_per_active": 40.0, "storefronts.click_prob": 0.05},
    )
    engine = Engine(shoppers(100), s, seed=7)
    counts = engine.step()
    row = ROWS.index("storefront")
    active = int(engine.today.counts[0])
    assert counts[row, EXPOSURES] == round(40.0 * active)
    assert counts[row, COUNTS.index("clicks")] < 0.1 * counts[row, EXPOSURES]
    assert counts[row, COUNTS.index("exposed_users")] == active


def test_storefronts_get_impressions_in_proportion_to_their_ad_shares() -> None:
    # 2,000 storefronts of one product each, more than the look-up table's buckets, and
    # about 100,000 impressions, all bought: the orders per storefront against the ad
    # shares, a chi-square test at a false-alarm rate of 1e-6.
    S = 2000
    s = village(
        CERTAIN,
        {
            "decision.basket_extra_items": 0.0,
            "producers.n_producers": 0,
            "storefronts.n_storefronts": S,
            "storefronts.products_per_storefront": 1,
            "storefronts.ad_budget_dispersion": 0.4,
            "storefronts.comparisons": 0,
            "storefronts.impressions_per_active": 1000.0,
        },
    )
    engine = Engine(shoppers(100), s, seed=4)
    engine.step()
    m = engine.market
    np.testing.assert_array_equal(m.listing_seller, np.arange(S))  # listing s: storefront s
    observed = engine.replication(0).listing_orders
    n = round(1000.0 * engine.today.counts[0])
    assert observed.sum() == n
    expected = n * m.ad_share
    assert expected.min() > 5
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 <= stats.chi2.isf(1e-6, S - 1), chi2


# --------------------------------------------------------------------------------- basket


def test_mean_items_per_order_grow_with_trust_by_the_basket_trust_effect() -> None:
    # Every exposure is bought, and trust does not move (gain and loss 0): orders through
    # follow ties of trust 0.2 and 0.9 and through storefronts (trust 0.5). The extra items
    # of an order at trust T are Poisson(e · (1 + k · T)): each group's mean must be within
    # Z standard errors, sqrt(λ / n), of its λ.
    extra, effect = 1.0, 2.0
    n_low, n_high = 300, 300
    followers = n_low + n_high
    kind = np.zeros(1 + followers, np.int8)
    kind[0] = LOCAL_CREATOR
    trust = [0.2] * n_low + [0.9] * n_high
    g = TrustGraph.from_edges(
        1 + followers,
        np.arange(1, 1 + followers),
        np.zeros(followers, int),
        trust,
        [FOLLOW] * followers,
        creator_kind=kind,
    )
    s = village(
        CERTAIN,
        {
            "decision.basket_extra_items": extra,
            "decision.basket_trust_effect": effect,
            "outcomes.trust_gain": 0.0,
            "outcomes.trust_loss": 0.0,
            "creators.post_prob": 1.0,
            "policy.reach": 1.0,
            "storefronts.impressions_per_active": 1.0,
            "storefronts.trust": 0.5,
        },
    )
    engine = Engine(g, s, seed=5)
    items, trusts = [], []
    for _ in range(3):
        engine.step()
        items.append(engine.orders_today.items)
        trusts.append(engine.orders_today.exposures.trust)
    items_all, trust_all = np.concatenate(items), np.concatenate(trusts)
    groups = {0.2: 0, 0.5: 0, 0.9: 0}
    for t in groups:
        mine = items_all[np.isclose(trust_all, t)]
        groups[t] = len(mine)
        lam = extra * (1 + effect * t)
        se = np.sqrt(lam / len(mine))
        assert abs((mine - 1).mean() - lam) <= Z * se, (t, (mine - 1).mean(), lam, se)
    assert sum(groups.values()) == len(items_all) and min(groups.values()) >= 500


def test_a_negative_trust_effect_of_minus_one_empties_the_basket_at_full_trust() -> None:
    # λ = e · (1 - 1 · 1) = 0: every storefront order has exactly one item.
    s = village(
        CERTAIN,
        {
            "decision.basket_extra_items": 3.0,
            "decision.basket_trust_effect": -1.0,
            "storefronts.impressions_per_active": 20.0,
            "storefronts.trust": 1.0,
        },
    )
    engine = Engine(shoppers(50), s, seed=6)
    engine.step()
    assert len(engine.orders_today) > 500
    np.testing.assert_array_equal(engine.orders_today.items, 1)


# ------------------------------------------------------------- several orders, one source

GAIN, LOSS = 0.2, 0.5


def source_city() -> TrustGraph:
    """Node 0, the buyer, follows creator 1 and trusts node 3 (a local tie); node 2 is a
    creator too."""
    kind = np.array([0, LOCAL_CREATOR, LOCAL_CREATOR, 0], np.int8)
    return TrustGraph.from_edges(4, [0, 0], [1, 3], [0.4, 0.4], [FOLLOW, LOCAL], creator_kind=kind)


@pytest.mark.parametrize("first_satisfied", [True, False])
def test_the_last_order_of_the_day_through_a_source_sets_its_trust_and_memory(
    first_satisfied: bool,
) -> None:
    # The buyer orders twice through each source: a follow tie of the main arrays, a
    # follow tie in the buffer (made during the run), a local tie (word of mouth) and
    # storefront 0, the first order satisfied and the second not (or the reverse), and
    # once through storefront 1 in between. Satisfaction is certain: no noise, tolerance 0,
    # perceived quality 0 (satisfied) or 1 (disappointed, as the true quality is below 1).
    s = village(
        {
            "outcomes.trust_gain": GAIN,
            "outcomes.trust_loss": LOSS,
            "outcomes.quality_noise": 0.0,
            "outcomes.tolerance": 0.0,
            "storefronts.n_storefronts": 2,
            "storefronts.trust": 0.4,
        }
    )
    engine = Engine(source_city(), s, seed=1)
    m = engine.market
    f = m.follows
    # The buyer starts following creator 2: a tie in the buffer, as one made during the run.
    f.add(np.array([0]), np.array([2]), np.float32([0.4]), np.int8([0]))
    kind, index = f.find(np.array([0, 0]), np.array([1, 2]))
    assert kind.tolist() == [1, 2]
    follow_ref, buffer_ref = int(index[0]), int(index[1])
    lis = m.listeners
    row = np.arange(lis.indptr[3], lis.indptr[4])
    social_ref = int(row[lis.listener[row] == 0][0])
    user_index = int(m.user_index[0])
    creator_listing = [int(m.catalogue_ptr[c]) for c in (0, 1)]  # creators 1 and 2
    store_listing = [int(m.catalogue_ptr[m.n_creators + j]) for j in (0, 1)]
    product = m.listing_product[[*creator_listing, *store_listing]]
    assert m.product_quality[product].max() < 1

    # (channel, ref_kind, ref, source, listing, satisfied) in the day's order.
    first, last = first_satisfied, not first_satisfied
    rows = [
        (FOLLOW_CHANNEL, REF_FOLLOW, follow_ref, 0, creator_listing[0], first),
        (STOREFRONT, REF_STOREFRONT, user_index, 0, store_listing[0], first),
        (WOM, REF_SOCIAL, social_ref, 3, creator_listing[0], first),
        (FOLLOW_CHANNEL, REF_BUFFER, buffer_ref, 1, creator_listing[1], first),
        (STOREFRONT, REF_STOREFRONT, user_index, 1, store_listing[1], first),
        (FOLLOW_CHANNEL, REF_FOLLOW, follow_ref, 0, creator_listing[0], last),
        (WOM, REF_SOCIAL, social_ref, 3, creator_listing[0], last),
        (STOREFRONT, REF_STOREFRONT, user_index, 0, store_listing[0], last),
        (FOLLOW_CHANNEL, REF_BUFFER, buffer_ref, 1, creator_listing[1], last),
    ]
    parts = [
        Exposures.make(
            1,
            channel,
            user=0,
            listing=listing,
            trust=0.4,
            memory=0,
            quality=0.0 if satisfied else 1.0,
            ref_kind=ref_kind,
            ref=ref,
            source=source,
        )
        for channel, ref_kind, ref, source, listing, satisfied in rows
    ]
    exposures = Exposures.concat(parts)
    n = len(rows)
    orders = Orders(exposures, np.ones(n, np.int64), np.full(n, 10.0))
    apply_outcomes(
        orders=orders,
        market=m,
        ledger=engine.ledger,
        stream=Stream([np.random.SeedSequence(0)]),
        scenario=s,
        tolerance=engine.tolerance,
    )
    np.testing.assert_array_equal(orders.satisfied, [r[-1] for r in rows])

    def after(satisfied: bool) -> float:
        return float(trust_after(np.float32([0.4]), np.array([satisfied]), s.outcomes)[0])

    memory = 1 if last else -1
    assert f.trust[follow_ref] == after(last) and f.memory[follow_ref] == memory
    assert f.buffer_trust[buffer_ref] == after(last) and f.buffer_memory[buffer_ref] == memory
    assert lis.trust[social_ref] == after(last) and lis.memory[social_ref] == memory
    # Storefront trust is one per user (the last storefront order of the day sets it), the
    # memory one per user and storefront.
    assert m.storefront_trust[0] == after(last)
    assert m.storefront_memory.dense()[user_index].tolist() == [memory, 1 if first else -1]


def test_in_a_busy_day_each_sources_last_order_sets_its_trust_and_memory() -> None:
    # Through the engine: many storefront orders per user on one day, satisfied or not at
    # random (noise 0.1, honest storefronts, tolerance 0: about half each). Each user's
    # storefront trust must be that after the last of their storefront orders in the order
    # the day's orders are listed (the day's random order), and the memory of each
    # (user, storefront) that of its last order.
    s = village(
        CERTAIN,
        {
            "outcomes.trust_gain": GAIN,
            "outcomes.trust_loss": LOSS,
            "outcomes.quality_noise": 0.1,
            "outcomes.tolerance": 0.0,
            "outcomes.overstatement": 0.0,
            "storefronts.n_storefronts": 3,
            "storefronts.products_per_storefront": 2,
            "storefronts.comparisons": 0,
            "storefronts.impressions_per_active": 8.0,
            "storefronts.trust": 0.4,
        },
    )
    engine = Engine(shoppers(60), s, seed=8)
    engine.step()
    m = engine.market
    o = engine.orders_today
    b = o.exposures
    assert 0.2 < o.satisfied.mean() < 0.8
    decided_by_other_than_first = 0
    for user in np.unique(b.user):
        mine = np.flatnonzero(b.user == user)
        last = mine[-1]
        want = trust_after(b.trust[last : last + 1], o.satisfied[last : last + 1], s.outcomes)
        assert m.storefront_trust[user] == want[0]
        decided_by_other_than_first += o.satisfied[last] != o.satisfied[mine[0]]
        for store in np.unique(b.source[mine]):
            theirs = mine[b.source[mine] == store]
            memory = 1 if o.satisfied[theirs[-1]] else -1
            assert m.storefront_memory.dense()[m.user_index[user], store] == memory
    assert decided_by_other_than_first > 5  # the first order would often decide otherwise


def test_the_buffers_ties_of_the_posting_creators_are_numpys_isin() -> None:
    """The buffer's ties of the day's posting creators with an active follower, in order, as
    ``np.isin`` finds them, day after day with the same marks (zero again after each)."""
    from laotie.engine.rules.follow import _awake_in_buffer

    rng = np.random.default_rng(4)
    nodes = 500
    marks = np.zeros(nodes, np.uint8)
    for _ in range(50):
        ties = int(rng.integers(0, 300))
        creator = rng.integers(0, nodes, ties).astype(np.int32)
        user = rng.integers(0, nodes, ties).astype(np.int32)
        active = rng.random(nodes) < 0.5
        bits = np.packbits(np.resize(active, 512) & (np.arange(512) < nodes), bitorder="little")
        posting = rng.choice(nodes, int(rng.integers(0, 40)))  # repeats allowed
        rows = np.empty(ties, np.int64)
        n = _awake_in_buffer(posting, creator, user, bits.view(np.uint64), marks, rows)
        expected = np.flatnonzero(np.isin(creator, posting) & active[user])
        np.testing.assert_array_equal(rows[:n], expected)
        assert not marks.any()


def test_todays_active_bits_are_its_flags_day_after_day(small_city: TrustGraph) -> None:
    """Today's flags as bits (64 nodes a word, the table follow exposures read) are its
    flags, every day of two lockstep replications: set for the day's active users, and
    cleared for yesterday's."""
    engine = Engine(small_city, Scenario.preset("mudanjiang", scale=0.001), seed=[1, 2])
    bits = []
    for _ in range(8):
        engine.step()
        t = engine.today
        flags = np.unpackbits(t.active_bits.view(np.uint8), bitorder="little")
        np.testing.assert_array_equal(flags[: len(t.active)].astype(bool), t.active)
        assert not flags[len(t.active) :].any()
        bits.append(t.active_bits.copy())
    assert not all(np.array_equal(bits[0], b) for b in bits[1:])  # the days differ


@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_the_awake_followers_are_the_posting_creators_ties_with_an_active_follower(
    index: type,
) -> None:
    """The follow ties of the posting creators whose follower's bit is set, in order, with
    their seller and each seller's count, as numpy finds them from the flags (nodes across
    many 64-bit words), into working arrays of either width (``follow.NARROW_UP_TO``)."""
    from laotie.engine.rules.follow import _awake_followers

    rng = np.random.default_rng(5)
    nodes, creators = 1_000, 60
    for _ in range(30):
        sizes = rng.integers(0, 40, creators)
        indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        follower = rng.integers(0, nodes, int(indptr[-1])).astype(np.int32)
        active = rng.random(nodes) < rng.random()
        words = np.zeros((nodes + 63) // 64 * 8, np.uint8)
        packed = np.packbits(active, bitorder="little")
        words[: len(packed)] = packed
        creator_node = rng.permutation(creators).astype(np.int32)
        posting = np.sort(rng.choice(creators, int(rng.integers(0, creators)), replace=False))
        size = int(sizes[creator_node[posting]].sum())
        rows, seller = np.empty(size, index), np.empty(size, index)
        counts = np.zeros(creators, np.int64)
        n = _awake_followers(
            posting, creator_node, indptr, follower, words.view(np.uint64), rows, seller, counts
        )
        expected = [
            (row, p)
            for p in posting
            for row in range(indptr[creator_node[p]], indptr[creator_node[p] + 1])
            if active[follower[row]]
        ]
        np.testing.assert_array_equal(rows[:n], [row for row, _ in expected])
        np.testing.assert_array_equal(seller[:n], [p for _, p in expected])
        np.testing.assert_array_equal(
            counts, np.bincount([p for _, p in expected], minlength=creators)
        )


def test_wide_follow_working_arrays_give_the_same_days(
    small_city: TrustGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Follow ties past ``NARROW_UP_TO`` get int64 working arrays: the same exposures and
    counts, day for day, as the int32 ones (two lockstep replications)."""
    from laotie.engine.rules import follow

    def days(narrow_up_to: int) -> list[np.ndarray]:
        monkeypatch.setattr(follow, "NARROW_UP_TO", narrow_up_to)
        engine = Engine(small_city, Scenario.preset("mudanjiang", scale=0.001), seed=[3, 4])
        engine.run(12)
        widths = {a.dtype for name, a in engine.today.reusable.items() if "follow" in name}
        assert widths == {np.dtype(np.int32 if narrow_up_to else np.int64)}
        return [day for r in range(2) for day in engine.replication(r).history]

    narrow, wide = days(follow.NARROW_UP_TO), days(0)
    assert sum(day[ROWS.index("follow"), EXPOSURES] for day in narrow) > 0
    for a, b in zip(narrow, wide, strict=True):
        np.testing.assert_array_equal(a, b)


def test_word_of_mouth_is_heard_by_the_active_listeners_as_a_plain_loop_finds() -> None:
    """``_heard`` against a plain loop: each live recommendation reaches each listener tie of
    its recommender with the next draw of the tie's replication, and is heard if the
    listener's bit is set in today's bits and the draw is below ``prob`` (times the trust if
    scaled). Two stacked replications, recommenders with no tie and with runs of hundreds,
    and more recommendations than the kernel asks for ahead."""
    from laotie.engine.rules.word_of_mouth import RUNS_AHEAD, Heard, Said, _heard

    rng = np.random.default_rng(8)
    nodes, R = 700, 2
    for trust_scaled in (False, True):
        for trial in range(6):
            sizes = rng.integers(0, 300 if trial % 2 else 8, nodes)
            indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            n_ties = int(indptr[-1])
            listener = rng.integers(0, nodes, n_ties).astype(np.int32)
            trust = rng.random(R * n_ties).astype(np.float32)
            memory = rng.integers(-1, 2, R * n_ties).astype(np.int8)
            active = rng.random(R * nodes) < 0.4
            words = np.zeros((R * nodes + 63) // 64 * 8, np.uint8)
            packed = np.packbits(active, bitorder="little")
            words[: len(packed)] = packed
            k = int(rng.integers(0, 12 * RUNS_AHEAD))
            user = np.sort(rng.integers(0, R * nodes, k)).astype(np.int32)
            listing = rng.integers(0, 50, k).astype(np.int64)
            quality = (rng.random(k) * 1.4 - 0.2).astype(np.float32)
            counts = np.bincount(user // nodes, weights=sizes[user % nodes], minlength=R)
            u = rng.random(int(counts.sum()))
            first = (np.cumsum(counts) - counts).astype(np.int64)
            out = Exposures.blank(len(u), WOM)
            heard = _heard(
                Said(user=user, listing=listing, quality=quality),
                Heard(indptr=indptr, listener=listener, trust=trust, memory=memory, n_ties=n_ties),
                nodes,
                words.view(np.uint64),
                u,
                first.copy(),
                0.3,
                trust_scaled,
                out.kernel_fields(),
            )
            expected, next_draw = [], first.copy()
            for j, node in enumerate(user):
                r, local = divmod(int(node), nodes)
                for row in range(indptr[local], indptr[local + 1]):
                    draw = u[next_draw[r]]
                    next_draw[r] += 1
                    hearer, position = int(listener[row]) + r * nodes, row + r * n_ties
                    bar = 0.3 * trust[position] if trust_scaled else 0.3
                    if active[hearer] and draw < bar:
                        expected.append((hearer, listing[j], position, node, j))
            assert heard == len(expected)
            got = out.take(slice(0, heard))
            np.testing.assert_array_equal(got.user, [e[0] for e in expected])
            np.testing.assert_array_equal(got.listing, [e[1] for e in expected])
            np.testing.assert_array_equal(got.ref, [e[2] for e in expected])
            np.testing.assert_array_equal(got.source, [e[3] for e in expected])
            np.testing.assert_array_equal(got.trust, trust[[e[2] for e in expected]])
            np.testing.assert_array_equal(got.memory, memory[[e[2] for e in expected]])
            np.testing.assert_array_equal(got.ref_kind, np.full(heard, REF_SOCIAL))
            np.testing.assert_array_equal(
                got.quality, np.clip(quality, 0, 1)[[e[4] for e in expected]]
            )


@pytest.mark.parametrize("seeds", [[1], [1, 2, 3]])
def test_a_storefront_listings_memory_column_is_its_storefronts_index(
    small_city: TrustGraph, seeds: list[int]
) -> None:
    """``Market.listing_store_column`` (the column a storefront impression reads of its
    viewer's memory row) is the listing's storefront's index in its replication, and -1 for
    a creator's listing; one replication and three stacked."""
    engine = Engine(small_city, Scenario.preset("mudanjiang", scale=0.001), seed=seeds)
    m = engine.market
    S = m.layout.storefronts
    seller = m.listing_seller.astype(np.int64)
    store = seller >= m.n_creators
    assert store.any() and (~store).any()
    np.testing.assert_array_equal(m.listing_store_column[store], (seller[store] - m.n_creators) % S)
    assert (m.listing_store_column[~store] == -1).all()
    assert m.listing_store_column.dtype == np.int32
