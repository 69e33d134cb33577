"""The trust and memory updates of docs/model.md 3.5 ("Outcomes"), tie kind by tie kind.

Each case is a hand-built graph of one or two people in which, on the first day, exactly one
exposure happens and is bought for sure (activity and purchase probabilities within 1e-6 of
1, budgets far above prices, one item per order), and the buyer is satisfied for sure
(sellers promise the true quality, which the buyer experiences without noise) or
disappointed for sure (fully inauthentic sellers promise far more). The trust of the tie
must then move by exactly the documented gain, ``T + trust_gain · (1 - T)``, or loss,
``T - trust_loss · T``, and the memory become +1 or -1.
"""

from __future__ import annotations

import numpy as np
import pytest

from laotie import Engine, Scenario
from laotie.engine.rules.outcomes import trust_after
from laotie.graph import TrustGraph
from laotie.graph._core import CITY, FOLLOW, LOCAL, LOCAL_CREATOR
from laotie.metrics import COUNTS, ROWS

GAIN, LOSS = 0.2, 0.5
W = 0.4  # the trust of the tie before the order
ORDERS = COUNTS.index("orders")

CERTAIN = {
    "population.activity_mean": 0.999999,
    "population.activity_concentration": 1e6,
    "population.budget_mean": 1e6,
    "population.budget_dispersion": 0.0,
    "decision.intercept": 50.0,
    "decision.price_weight": 0.0,
    "decision.basket_extra_items": 0.0,
    "outcomes.trust_gain": GAIN,
    "outcomes.trust_loss": LOSS,
    "outcomes.quality_noise": 0.0,
    "outcomes.tolerance": 0.0,
    "policy.discovery_per_active": 0.0,
    "storefronts.impressions_per_active": 0.0,
    "word_of_mouth.prob": 0.0,
    "creators.follow_prob": 0.0,
}
"""Every exposure is bought; the other channels are off."""

HONEST = {"outcomes.overstatement": 0.0}
"""Sellers promise the true quality: every buyer is satisfied (x = q ≥ q - 0)."""


def inauthentic(seller: str) -> dict[str, float]:
    """Sellers of this kind promise about q + 0.99 (capped at 1), above any true quality
    below 1: every buyer is disappointed."""
    return {
        "outcomes.overstatement": 1.0,
        f"{seller}.authenticity_mean": 0.01,
        f"{seller}.authenticity_concentration": 1e6,
    }


def scenario(**changes: object) -> Scenario:
    return Scenario.preset("village").replace(**{**CERTAIN, **changes})


def one_day(graph: TrustGraph, s: Scenario, seed: int = 1) -> tuple[Engine, np.ndarray]:
    engine = Engine(graph, s, seed=seed)
    return engine, engine.step()


def expected(satisfied: bool, trust: float = W) -> float:
    return trust + GAIN * (1 - trust) if satisfied else trust - LOSS * trust


def follower_and_creator(layer: int = FOLLOW) -> TrustGraph:
    """Node 0 trusts node 1, a local creator, through one tie of ``layer``."""
    kind = np.array([0, LOCAL_CREATOR], np.int8)
    return TrustGraph.from_edges(2, [0], [1], [W], [layer], creator_kind=kind)


@pytest.mark.parametrize("satisfied", [True, False])
def test_a_follow_tie_moves_by_the_gain_or_the_loss(satisfied: bool) -> None:
    s = scenario(
        **{"creators.post_prob": 1.0, "policy.reach": 1.0},
        **(HONEST if satisfied else inauthentic("creators")),
    )
    engine, counts = one_day(follower_and_creator(), s)
    assert counts[ROWS.index("follow"), ORDERS] == counts[ROWS.index("all"), ORDERS] == 1
    f = engine.market.follows
    assert f.trust[0] == pytest.approx(expected(satisfied), rel=1e-6)
    assert f.memory[0] == (1 if satisfied else -1)


@pytest.mark.parametrize("satisfied", [True, False])
def test_a_social_tie_moves_by_the_gain_or_the_loss_through_word_of_mouth(
    satisfied: bool,
) -> None:
    # Node 0 trusts node 1, who recommends a storefront's listing: node 0 hears it (word of
    # mouth's probability is 1) and buys. Satisfied when the recommended quality is the
    # product's true one; disappointed when node 1 said it was perfect.
    g = TrustGraph.from_edges(2, [0], [1], [W], [LOCAL])
    engine = Engine(g, scenario(**{"word_of_mouth.prob": 1.0}), seed=1)
    engine.recommend(np.array([1]), 0, None if satisfied else 1.0)
    counts = engine.step()
    assert counts[ROWS.index("wom"), ORDERS] == counts[ROWS.index("all"), ORDERS] == 1
    listeners = engine.market.listeners
    assert listeners.trust[0] == pytest.approx(expected(satisfied), rel=1e-6)
    assert listeners.memory[0] == (1 if satisfied else -1)
    # A city tie moves alike.
    g = TrustGraph.from_edges(2, [0], [1], [W], [CITY])
    engine = Engine(g, scenario(**{"word_of_mouth.prob": 1.0}), seed=1)
    engine.recommend(np.array([1]), 0, None if satisfied else 1.0)
    engine.step()
    assert engine.market.listeners.trust[0] == pytest.approx(expected(satisfied), rel=1e-6)


@pytest.mark.parametrize("satisfied", [True, False])
def test_storefront_trust_and_memory_move_by_the_gain_or_the_loss(satisfied: bool) -> None:
    # One shopper, one storefront with one product, one impression, no comparison.
    g = TrustGraph.from_edges(1, [], [], [], [])
    s = scenario(
        **{
            "storefronts.impressions_per_active": 1.0,
            "storefronts.n_storefronts": 1,
            "storefronts.products_per_storefront": 1,
            "storefronts.comparisons": 0,
            "storefronts.trust": W,
        },
        **(HONEST if satisfied else inauthentic("storefronts")),
    )
    engine, counts = one_day(g, s)
    assert counts[ROWS.index("storefront"), ORDERS] == counts[ROWS.index("all"), ORDERS] == 1
    m = engine.market
    assert m.storefront_trust[0] == pytest.approx(expected(satisfied), rel=1e-6)
    assert m.storefront_memory.dense()[0, 0] == (1 if satisfied else -1)
    assert m.has_storefront_memory[0]


def test_a_satisfied_stranger_follows_at_the_gained_trust_and_the_new_tie_updates_next() -> None:
    # Node 0 does not follow creator 1; discovery shows the post (20 impressions between the
    # two active users: node 0 sees it, and the creator's views of its own post are
    # dropped). Satisfied, node 0 follows (follow_prob 1): the new tie starts at the trust of
    # a stranger after one gain, and memory +1, however many orders of the day.
    stranger = 0.1
    g = TrustGraph.from_edges(2, [], [], [], [], creator_kind=np.array([0, LOCAL_CREATOR]))
    s = scenario(
        **{
            "creators.post_prob": 1.0,
            "creators.stranger_trust": stranger,
            "creators.follow_prob": 1.0,
            "policy.discovery_per_active": 10.0,
            "policy.reach": 1.0,
        },
        **HONEST,
    )
    engine, counts = one_day(g, s)
    assert counts[ROWS.index("discovery"), ORDERS] >= 1
    assert counts[ROWS.index("discovery"), COUNTS.index("new_follows")] == 1
    f = engine.market.follows
    assert len(f.buffer_trust) == 1 and f.buffer_user[0] == 0 and f.buffer_creator[0] == 1
    assert f.buffer_trust[0] == pytest.approx(expected(True, stranger), rel=1e-6)
    assert f.buffer_memory[0] == 1
    # The next day the post reaches node 0 as a follower, through the tie in the buffer, and
    # that tie is the one that moves (by the discovery and follow orders of the day).
    before = float(f.buffer_trust[0])
    counts = engine.step()
    assert counts[ROWS.index("follow"), ORDERS] == 1
    assert f.buffer_trust[0] == pytest.approx(expected(True, before), rel=1e-6)


def test_trust_after_is_the_documented_rule() -> None:
    rules = Scenario.preset("village").replace(
        **{"outcomes.trust_gain": GAIN, "outcomes.trust_loss": LOSS}
    )
    trust = np.float32([0.0, 0.25, 0.5, 1.0])
    for satisfied in (True, False):
        got = trust_after(trust, np.full(4, satisfied), rules.outcomes)
        assert got.dtype == np.float32
        want = [expected(satisfied, float(t)) for t in trust]
        np.testing.assert_allclose(got, want, rtol=1e-6)
