"""Creator training (docs/model.md 3.5, "Training"), checked directly on a hand-built city.

Ten residents, all registered users: node 0 a head KOL, nodes 1 and 2 local creators; node
5 follows the head, nodes 3 and 4 follow creator 1. ``train`` is called on a freshly drawn
market, so that every change it makes can be compared with the market before it: the
trained creators' authenticity and content quality rise by the gains (capped at 1), the
promises are recomputed from the new authenticity, and the new followers are users other
than the creator and its followers, on ties at ``creators.stranger_trust`` with memory 0.
"""

from __future__ import annotations

import numpy as np
import pytest

from laotie import Engine, Scenario
from laotie.engine.market import Market
from laotie.engine.rules.training import train
from laotie.graph import TrustGraph
from laotie.graph._core import FOLLOW, HEAD, LOCAL_CREATOR

N = 10
CREATORS = np.array([0, 1, 2])  # nodes (and seller ids: creators come first, in node order)
FOLLOWERS = {0: [5], 1: [3, 4], 2: []}
FOLLOW_TRUST = 0.8
STRANGER = 0.37


def city() -> TrustGraph:
    kind = np.zeros(N, np.int8)
    kind[0] = HEAD
    kind[[1, 2]] = LOCAL_CREATOR
    src = [u for followers in FOLLOWERS.values() for u in followers]
    dst = [c for c, followers in FOLLOWERS.items() for _ in followers]
    n = len(src)
    return TrustGraph.from_edges(N, src, dst, [FOLLOW_TRUST] * n, [FOLLOW] * n, creator_kind=kind)


def run_training(seed: int = 0, **training: object):  # type: ignore[no-untyped-def]
    """(market, scenario, market copy before training, chosen seller ids)."""
    s = Scenario.preset("village").replace(
        **{
            "creators.stranger_trust": STRANGER,
            "outcomes.overstatement": 0.5,
            "creators.authenticity_mean": 0.5,
            "creators.authenticity_concentration": 20.0,
            "creators.content_quality_concentration": 20.0,
            "training.day": 0,
            **{f"training.{key}": value for key, value in training.items()},
        }
    )
    market = Market(city(), s, np.random.default_rng(seed))
    before = {
        "authenticity": market.authenticity.copy(),
        "content_quality": market.content_quality.copy(),
        "listing_promise": market.listing_promise.copy(),
    }
    chosen = train(market=market, rngs=[np.random.default_rng(seed + 100)], scenario=s)
    return market, s, before, chosen


@pytest.mark.parametrize("which", ["authenticity", "content_quality"])
def test_trained_creators_gain_the_documented_amount_and_the_others_nothing(which: str) -> None:
    gain = 0.1
    market, _, before, chosen = run_training(
        rule="random",
        n_creators=2,
        authenticity_gain=gain if which == "authenticity" else 0.0,
        content_quality_gain=gain if which == "content_quality" else 0.0,
    )
    assert len(chosen) == 2 and set(chosen) <= set(CREATORS.tolist())
    got, old = getattr(market, which), before[which]
    # Far from the cap: every trained creator gains exactly the gain.
    assert old[chosen].max() < 1 - gain
    np.testing.assert_allclose(got[chosen], old[chosen] + np.float32(gain), rtol=1e-6)
    others = np.setdiff1d(np.arange(len(got)), chosen)  # the third creator, the storefronts
    np.testing.assert_array_equal(got[others], old[others])
    # The other quality does not move.
    other = "content_quality" if which == "authenticity" else "authenticity"
    np.testing.assert_array_equal(getattr(market, other), before[other])


def test_gains_are_capped_at_one() -> None:
    market, _, before, chosen = run_training(
        rule="random", n_creators=3, authenticity_gain=0.5, content_quality_gain=0.5
    )
    np.testing.assert_array_equal(chosen, CREATORS)
    for which in ("authenticity", "content_quality"):
        old, got = before[which][chosen], getattr(market, which)[chosen]
        assert (old + 0.5 > 1).any() and (old + 0.5 < 1).any()  # the cap binds for some only
        np.testing.assert_allclose(got, np.minimum(1, old + np.float32(0.5)), rtol=1e-6)
        assert got.max() <= 1


def test_promises_are_recomputed_from_the_new_authenticity() -> None:
    market, s, before, chosen = run_training(
        rule="random", n_creators=2, authenticity_gain=0.2, content_quality_gain=0.0
    )
    m = market
    want = np.minimum(
        1.0,
        m.product_known_quality[m.listing_product]
        + s.outcomes.overstatement * (1 - m.authenticity[m.listing_seller]),
    )
    np.testing.assert_allclose(m.listing_promise, want, rtol=1e-6)
    # The trained creators' listings that were not capped at 1 promise 0.5 · 0.2 = 0.1 less;
    # nobody else's promise changes.
    trained = np.isin(m.listing_seller, chosen)
    old = before["listing_promise"]
    moved = trained & (old < 1)
    assert moved.any()
    np.testing.assert_allclose(m.listing_promise[moved], old[moved] - 0.1, atol=1e-6)
    np.testing.assert_array_equal(m.listing_promise[~trained], old[~trained])


def test_new_followers_are_other_users_at_the_strangers_trust_with_memory_zero() -> None:
    # 300 draws among 10 users per creator: every user is drawn (a given one is missed with
    # probability 0.9 ** 300 < 1e-13), so each creator ends with every other user as a
    # follower, once, and its old followers keep their ties as they were.
    market, _, _, chosen = run_training(
        rule="random",
        n_creators=3,
        authenticity_gain=0.0,
        content_quality_gain=0.0,
        follower_gain=300,
    )
    np.testing.assert_array_equal(chosen, CREATORS)
    f = market.follows
    pairs = list(zip(f.buffer_user.tolist(), f.buffer_creator.tolist(), strict=True))
    assert len(set(pairs)) == len(pairs)  # no tie twice
    for c in CREATORS.tolist():
        new = sorted(u for u, creator in pairs if creator == c)
        want = sorted(set(range(N)) - {c} - set(FOLLOWERS[c]))
        assert new == want, c  # not the creator itself, not an existing follower
        assert f.count[c] == N - 1
    np.testing.assert_array_equal(f.buffer_trust, np.float32(STRANGER))
    np.testing.assert_array_equal(f.buffer_memory, 0)
    # The old ties are untouched.
    assert len(f.user) == sum(len(v) for v in FOLLOWERS.values())
    np.testing.assert_array_equal(f.trust, np.float32(FOLLOW_TRUST))
    np.testing.assert_array_equal(f.memory, 0)


def test_no_follower_gain_adds_no_tie() -> None:
    market, _, _, chosen = run_training(rule="random", n_creators=3, follower_gain=0)
    assert len(chosen) == 3
    assert len(market.follows.buffer_user) == 0


@pytest.mark.parametrize(
    ("rule", "n", "want"),
    [
        ("followers", 1, [1]),  # creator 1 has the most followers (2)
        ("followers", 2, [0, 1]),
        ("local", 5, [1, 2]),  # local creators only: not the head KOL
        ("random", 5, [0, 1, 2]),  # all of the pool when it is smaller
    ],
)
def test_who_is_trained(rule: str, n: int, want: list[int]) -> None:
    _, _, _, chosen = run_training(rule=rule, n_creators=n)
    assert chosen.tolist() == want


def test_a_larger_random_training_trains_a_superset() -> None:
    small = run_training(seed=3, rule="random", n_creators=1)[3]
    large = run_training(seed=3, rule="random", n_creators=2)[3]
    assert set(small.tolist()) < set(large.tolist())


def test_the_engine_trains_at_the_start_of_the_training_day() -> None:
    s = Scenario.preset("village").replace(
        **{
            "training.day": 1,
            "training.rule": "local",
            "training.n_creators": 2,
            "training.authenticity_gain": 0.05,
            "training.follower_gain": 3,
        }
    )
    engine = Engine(city(), s, seed=1)
    before = engine.market.authenticity.copy()
    engine.step()  # day 0: nothing yet
    np.testing.assert_array_equal(engine.market.authenticity, before)
    assert len(engine.trained) == 0
    engine.step()  # day 1: the local creators
    assert engine.trained.tolist() == [1, 2]
    np.testing.assert_allclose(
        engine.market.authenticity[[1, 2]],
        np.minimum(1, before[[1, 2]] + np.float32(0.05)),
        rtol=1e-6,
    )


def targeted_scenario(rule: str = "targeted", n: int = 0) -> Scenario:
    return Scenario.preset("village").replace(
        **{
            "training.day": 1,
            "training.rule": rule,
            "training.n_creators": n,
            "training.authenticity_gain": 0.2,
            "training.follower_gain": 3,
        }
    )


def test_the_targeted_rule_trains_the_creators_given_and_only_them() -> None:
    engine = Engine(city(), targeted_scenario(), seed=1, trained=[2, 0])
    before = engine.market.authenticity.copy()
    engine.step()
    engine.step()
    assert engine.trained.tolist() == [0, 2]  # seller ids (creators come first, node order)
    assert engine.market.authenticity[1] == before[1]
    assert (engine.market.authenticity[[0, 2]] > before[[0, 2]]).all()


def test_targeting_what_a_rule_picks_is_that_rule_number_for_number() -> None:
    # The rule 'followers' draws no random numbers to choose: the same creators targeted, in
    # any order, give the same market, day by day (the new followers are drawn from the same
    # stream, creator by creator in the order of their ids).
    # In the hand-built city the rule's order (creator 1, 0, 2 by followers) is not the ids'.
    village = targeted_scenario("followers", 3)
    g = city()
    ruled = Engine(g, village, seed=5)
    ruled.step()  # day 0; training is at the start of day 1
    m = ruled.market
    pool = np.flatnonzero(m.creator_resident)
    ranked = pool[np.lexsort((pool, -m.follows.count[m.creator_node[pool]]))][:3]
    assert ranked.tolist() == [1, 0, 2]
    for _ in range(5):
        ruled.step()
    assert sorted(ranked.tolist()) == ruled.trained.tolist()
    given = Engine(g, targeted_scenario(), seed=5, trained=m.creator_node[ranked].tolist())
    for _ in range(6):
        given.step()
    assert given.trained.tolist() == ruled.trained.tolist()
    np.testing.assert_array_equal(np.stack(given._history), np.stack(ruled._history))
    np.testing.assert_array_equal(given.market.follows.count, ruled.market.follows.count)


@pytest.mark.parametrize("listing", [[2, 0, 1], [1, 2, 0], [2, 1, 0]])
def test_the_set_trained_decides_not_the_order_it_is_listed_in(listing: list[int]) -> None:
    # Each trained creator gains 3 followers drawn from one stream: drawn in the order listed,
    # the same set gave other followers to each creator (a policy's evaluation of a set then
    # depended on how it was written).
    g = city()
    runs = []
    for trained in ([0, 1, 2], listing):
        engine = Engine(g, targeted_scenario(), seed=11, trained=trained)
        for _ in range(6):
            engine.step()
        runs.append(engine)
    first, other = runs
    np.testing.assert_array_equal(other.market.follows.count, first.market.follows.count)
    np.testing.assert_array_equal(np.stack(other._history), np.stack(first._history))


@pytest.mark.parametrize(
    ("rule", "trained", "message"),
    [
        ("targeted", None, "'targeted' with no trained creators"),
        ("local", [1], "'local' with trained creators"),
        ("targeted", [5], "node 5 is not a creator living in the city"),
        ("targeted", [99], "node 99 is not a creator"),
        ("targeted", [-1], "node -1 is not a creator"),
        ("targeted", [1, 1], "names a creator twice"),
        ("targeted", [[1]], "expected a list of node ids"),
        ("targeted", [1.5], "expected a list of node ids"),
    ],
)
def test_targets_are_checked_before_a_day_runs(rule: str, trained: object, message: str) -> None:
    from laotie import ScenarioError

    with pytest.raises(ScenarioError, match=message):
        Engine(city(), targeted_scenario(rule, 1), seed=1, trained=trained)  # type: ignore[arg-type]


def test_targets_are_the_nodes_creators_in_every_lockstep_replication() -> None:
    # In a generated city a creator's node id is not its creator id; the nodes given are
    # trained in each of the stacked replications (replication r's creators follow r - 1's).
    from laotie import graph

    village = targeted_scenario()
    g = graph.city(village.city, seed=1)
    creators = np.flatnonzero((g.creator_kind == HEAD) | (g.creator_kind == LOCAL_CREATOR))
    nodes = creators[[3, 0, 7]]
    engine = Engine(g, village, seed=[1, 2], trained=nodes.tolist())
    engine.step()
    engine.step()
    m = engine.market
    C, n = m.layout.creators, m.layout.nodes
    assert not np.isin(nodes, np.arange(C)).all()
    trained = engine.trained
    assert len(trained) == 2 * len(nodes)
    for r in range(2):
        mine = trained[(trained >= r * C) & (trained < (r + 1) * C)]
        assert sorted((m.creator_node[mine] - r * n).tolist()) == sorted(nodes.tolist())
