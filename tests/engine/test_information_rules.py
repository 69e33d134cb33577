"""The information rules (docs/model.md 3.5, "Information"), checked directly on hand-built
cities where each path's chance is known.

Two regions: ``home`` has the city's only government account, ``away`` none. The same-city
feed is off; the same-hometown feed reaches, wherever they live, the active users whose
hometown is ``home`` (with probability ``hometown_feed · cq`` a day, cq the account's content
quality, here about 0.999), and nobody whose hometown is ``away``. Everyone is active (the
activity probability is within 1e-6 of 1). Where a rule is random, the number of people it
informs is compared with its binomial expectation within 4 standard errors (each check's
false-alarm rate 6e-5; the seeds are fixed).
"""

from __future__ import annotations

import numpy as np
import pytest

from laotie import Engine, Scenario
from laotie.engine.rules.information import FEED, HOMETOWN, OFFLINE, SHARE
from laotie.graph import TrustGraph
from laotie.graph._core import CITY, GOV, LOCAL

HOME, AWAY = 0, 1
Z = 4.0


def scenario(**changes: object) -> Scenario:
    """One message, live 3 days from day 0; only the same-hometown feed; purchases off."""
    return Scenario.preset("village").replace(
        **{
            "population.activity_mean": 0.999999,
            "population.activity_concentration": 1e6,
            "policy.discovery_per_active": 0.0,
            "storefronts.impressions_per_active": 0.0,
            "word_of_mouth.prob": 0.0,
            "information.n_messages": 1,
            "information.first_day": 0,
            "information.live_days": 3,
            "information.city_feed": 0.0,
            "information.hometown_feed": 1.0,
            "information.gov_quality_mean": 0.999,
            "creators.content_quality_concentration": 1e6,
            "information.share_prob": 0.0,
            "information.offline_prob": 0.0,
            "information.tv_urban": 0.0,
            "information.tv_rural": 0.0,
            **changes,
        }
    )


def run(g: TrustGraph, s: Scenario, days: int, seed: int = 1) -> np.ndarray:
    """Each resident's path for the message after ``days`` days (0: not informed)."""
    engine = Engine(g, s, seed=seed)
    for _ in range(days):
        engine.step()
    return engine.information.state[0].copy()


def two_regions(
    n: int,
    region: list[int],
    hometown: list[int],
    user: list[bool],
    src: list[int],
    dst: list[int],
    trust: list[float],
    layer: list[int],
) -> TrustGraph:
    """Node 0 is the government account (a user of ``home``), nodes 1 .. n-1 as given."""
    kind = np.zeros(n, np.int8)
    kind[0] = GOV
    return TrustGraph.from_edges(
        n,
        src,
        dst,
        trust,
        layer,
        region=[HOME, *region],
        hometown=[HOME, *hometown],
        user=[True, *user],
        creator_kind=kind,
        region_names=("home", "away"),
    )


def within(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= Z * np.sqrt(n * p * (1 - p))


# ------------------------------------------------------------------------- the feeds


def test_the_hometown_feed_reaches_users_by_hometown_not_by_region() -> None:
    # 200 users living away whose hometown is home (reached), 200 living at home whose
    # hometown is away (never reached: no account of theirs, no same-city feed), and 200
    # non-users from home living away (non-users never see the feeds).
    k = 200
    region = [AWAY] * k + [HOME] * k + [AWAY] * k
    hometown = [HOME] * k + [AWAY] * k + [HOME] * k
    user = [True] * (2 * k) + [False] * k
    g = two_regions(1 + 3 * k, region, hometown, user, [], [], [], [])
    state = run(g, scenario(), days=3)[1:]
    migrants, settled, offline = state[:k], state[k : 2 * k], state[2 * k :]
    assert (migrants == HOMETOWN).all()
    assert (settled == 0).all()
    assert (offline == 0).all()


def test_a_day_of_the_hometown_feed_informs_with_its_probability() -> None:
    # hometown_feed 0.3: on the first day each active migrant from home learns the message
    # with probability 0.3 · cq (one account).
    k = 1000
    g = two_regions(1 + k, [AWAY] * k, [HOME] * k, [True] * k, [], [], [], [])
    s = scenario(**{"information.hometown_feed": 0.3})
    engine = Engine(g, s, seed=2)
    engine.step()
    info = engine.information
    cq = float(info.quality[0])
    active = engine.today.active[1:]
    state = info.state[0][1:]
    assert not state[~active].any()
    assert set(np.unique(state)) <= {0, HOMETOWN}
    assert within(int((state > 0).sum()), int(active.sum()), 0.3 * cq)
    _, home = info.feed_probabilities()
    assert home[HOME] == pytest.approx(0.3 * cq) and home[AWAY] == 0


# ------------------------------------------------------------------- sharing and kin


def star_pairs(k: int, low: float, high: float, kin_trust: float = 0.5):  # type: ignore[no-untyped-def]
    """``2k`` sharers (users living away, from home: the hometown feed informs them), each
    trusted by three listeners from away: a user along a city tie (trust ``low`` for the
    first k sharers, ``high`` for the others), a non-user along a local (kin) tie of trust
    ``kin_trust``, and a non-user along a city tie of trust 1. Returns the graph and the
    node ids of the sharers and of each kind of listener."""
    n_sharers = 2 * k
    sharer = 1 + np.arange(n_sharers)
    app = sharer + n_sharers
    kin = app + n_sharers
    city = kin + n_sharers
    n = 1 + 4 * n_sharers
    region = [AWAY] * (n - 1)
    hometown = [HOME] * n_sharers + [AWAY] * (3 * n_sharers)
    user = [True] * (2 * n_sharers) + [False] * (2 * n_sharers)
    src = np.concatenate([app, kin, city])
    dst = np.tile(sharer, 3)
    trust = [low] * k + [high] * k + [kin_trust] * n_sharers + [1.0] * n_sharers
    layer = [CITY] * n_sharers + [LOCAL] * n_sharers + [CITY] * n_sharers
    g = two_regions(n, region, hometown, user, list(src), list(dst), trust, list(layer))
    return g, sharer, app, kin, city


def test_sharing_in_the_app_is_weighted_by_trust_and_kin_tell_offline() -> None:
    # share_prob 0.8: a user trusting an informed sharer at 0.25 hears it in the app with
    # probability 0.2, at 0.75 with 0.6; offline_prob 0.8: a non-user kin at trust 0.5 is
    # told with probability 0.4; a non-user along a city tie is never told (offline news
    # travels along kin ties only, and in the app only between users).
    k = 400
    g, sharer, app, kin, city = star_pairs(k, low=0.25, high=0.75)
    s = scenario(**{"information.share_prob": 0.8, "information.offline_prob": 0.8})
    state = run(g, s, days=4)
    assert (state[sharer] == HOMETOWN).all()  # every sharer informed (and shared once)
    low, high = state[app[:k]], state[app[k:]]
    assert set(np.unique(state[app])) <= {0, SHARE}
    assert within(int((low > 0).sum()), k, 0.8 * 0.25)
    assert within(int((high > 0).sum()), k, 0.8 * 0.75)
    assert set(np.unique(state[kin])) <= {0, OFFLINE}
    assert within(int((state[kin] > 0).sum()), 2 * k, 0.8 * 0.5)
    assert not state[city].any()


def test_certain_ties_pass_the_news_and_city_ties_never_offline() -> None:
    # With share_prob = offline_prob = 1, a user along a city tie of trust 1 always hears
    # it in the app and a non-user kin of trust 1 is always told offline; a non-user along
    # a city tie of trust 1 never is.
    k = 50
    g, sharer, app, kin, city = star_pairs(k, low=1.0, high=1.0, kin_trust=1.0)
    s = scenario(**{"information.share_prob": 1.0, "information.offline_prob": 1.0})
    state = run(g, s, days=4)
    assert (state[sharer] == HOMETOWN).all()
    assert (state[app] == SHARE).all()
    assert (state[kin] == OFFLINE).all()
    assert not state[city].any()


def test_a_user_reached_in_the_app_and_by_kin_counts_as_shared_and_only_users_share() -> None:
    # Node 1, a user from home, is informed by the feed. Node 2, a user, trusts node 1
    # along a kin tie of trust 1: reached both in the app and offline, its path is the
    # app's. Node 4, a non-user kin of node 1, is told offline. Node 3, a user, trusts node
    # 4 along a city tie: never reached (node 4 is not in the app, and city ties carry no
    # news offline).
    g = two_regions(
        5,
        [AWAY] * 4,
        [HOME, AWAY, AWAY, AWAY],
        [True, True, True, False],
        [2, 4, 3],
        [1, 1, 4],
        [1.0, 1.0, 1.0],
        [LOCAL, LOCAL, CITY],
    )
    s = scenario(**{"information.share_prob": 1.0, "information.offline_prob": 1.0})
    state = run(g, s, days=4)
    assert state[1:].tolist() == [HOMETOWN, SHARE, 0, OFFLINE]
    assert FEED not in state
