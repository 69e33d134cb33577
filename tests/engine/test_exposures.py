"""Each channel's exposures agree with the state they say they read (docs/model.md 3.5).

A day's exposures carry the trust ``T``, memory ``M`` and perceived quality ``Q`` of their
utility and where the trust of their source lives; the outcome of an order writes back
there. Here a few busy days' exposures, recorded as the engine's conductor hands them to the
decisions, are checked field by field against the market's state (the compiled kernels that
build them must read the right tie, the right listing and the right seat), and their
utilities against the documented formula.
"""

from __future__ import annotations

import numpy as np
import pytest

from laotie import Engine, Scenario, graph
from laotie.engine.exposures import (
    REF_BUFFER,
    REF_FOLLOW,
    REF_NONE,
    REF_SOCIAL,
    REF_STOREFRONT,
    Exposures,
)
from laotie.engine.rules import discovery as discovery_rule
from laotie.engine.rules.decisions import Candidates
from laotie.engine.ties import Follows
from laotie.metrics import DISCOVERY, FOLLOW, STOREFRONT, WOM

BASE = Scenario.preset("mudanjiang", scale=0.004).replace(
    **{
        "creators.follow_prob": 1.0,
        "policy.discovery_per_active": 2.0,
        "word_of_mouth.prob": 0.6,
        "storefronts.impressions_per_active": 2.0,
        "decision.repeat_weight": 3.0,
        "decision.intercept": -1.0,
        "producers.n_producers": 30,
        "producers.channel": "both",
    }
)


def recorded_days(
    engine: Engine, days: int, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[np.ndarray, list[Exposures], dict[str, np.ndarray]]]:
    """Each day's active flags and the channels' exposures as the decisions receive them,
    with a copy of the state they read (before the day's outcomes change it)."""
    days_seen: list[tuple[np.ndarray, list[Exposures], dict[str, np.ndarray]]] = []
    decide = Candidates.decide

    def recording(found: Candidates, ledger):  # type: ignore[no-untyped-def]
        market, parts = found.market, found.exposures
        f = market.follows
        state = {
            "follow_trust": f.trust.copy(),
            "follow_memory": f.memory.copy(),
            "buffer_trust": f.buffer_trust.copy(),
            "buffer_memory": f.buffer_memory.copy(),
            "social_trust": market.listeners.trust.copy(),
            "social_memory": market.listeners.memory.copy(),
            "storefront_trust": market.storefront_trust.copy(),
            "storefront_memory": market.storefront_memory.dense(),
        }
        # Whether each discovery viewer follows the creator, looked up now.
        for e in parts:
            if len(e) and e.channel[0] == DISCOVERY:
                state["discovery_tie"] = f.find(e.user, market.creator_node[e.source])[0]
        days_seen.append((engine.today.active.copy(), [*parts], state))
        return decide(found, ledger)

    monkeypatch.setattr(Candidates, "decide", recording)
    for _ in range(days):
        engine.step()
    return days_seen


@pytest.mark.parametrize("lockstep", [False, True])
def test_exposures_read_the_ties_listings_and_seats_they_name(
    lockstep: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # New follows stay in the buffer, and discovery searches its posts through look-up
    # tables, as in a large city.
    monkeypatch.setattr(Follows, "merge_floor", 10**9)
    monkeypatch.setattr(discovery_rule, "DISCOVERY_TABLES_FROM", 0)
    city = graph.city(BASE.city, seed=3)
    seeds = [np.random.SeedSequence(7, spawn_key=(r,)) for r in range(3)]
    engine = Engine(city, BASE, seed=seeds if lockstep else seeds[0], threads=2)
    engine.run(20)
    m = engine.market
    f = m.follows
    n = m.layout.nodes
    S = m.layout.storefronts
    weights = BASE.decision
    kinds: set[int] = set()
    memories: set[int] = set()
    heard = 0
    for active, parts, state in recorded_days(engine, 3, monkeypatch):
        channels = [int(p.channel[0]) for p in parts if len(p)]
        assert channels == [c for c in (FOLLOW, DISCOVERY, STOREFRONT, WOM) if c in channels]
        for e in parts:
            if not len(e):
                continue
            channel = int(e.channel[0])
            assert active[e.user].all()  # only active users are exposed
            np.testing.assert_array_equal(
                e.quality[e.ref_kind != REF_SOCIAL],
                m.listing_promise[e.listing][e.ref_kind != REF_SOCIAL],
            )
            if channel in (FOLLOW, DISCOVERY):
                main, extra, none = (e.ref_kind == k for k in (REF_FOLLOW, REF_BUFFER, REF_NONE))
                assert (main | extra | (none if channel == DISCOVERY else False)).all()
                # The tie named is the viewer's follow tie to the seller's creator.
                creator = m.creator_node[e.source]
                np.testing.assert_array_equal(f.user[e.ref[main]], e.user[main])
                np.testing.assert_array_equal(f.creator[e.ref[main]], creator[main])
                np.testing.assert_array_equal(e.trust[main], state["follow_trust"][e.ref[main]])
                np.testing.assert_array_equal(e.memory[main], state["follow_memory"][e.ref[main]])
                np.testing.assert_array_equal(f.buffer_user[e.ref[extra]], e.user[extra])
                np.testing.assert_array_equal(f.buffer_creator[e.ref[extra]], creator[extra])
                np.testing.assert_array_equal(e.trust[extra], state["buffer_trust"][e.ref[extra]])
                np.testing.assert_array_equal(e.memory[extra], state["buffer_memory"][e.ref[extra]])
                # A stranger has no tie to the creator and the stranger's trust.
                if channel == DISCOVERY:
                    assert (state["discovery_tie"][none] == 0).all()
                    assert (state["discovery_tie"][~none] > 0).all()
                assert (e.trust[none] == np.float32(BASE.creators.stranger_trust)).all()
                assert (e.memory[none] == 0).all() and (e.user != creator).all()
                # The listing is one of the seller's own.
                assert (m.listing_seller[e.listing] == e.source).all()
                kinds |= set(np.unique(e.ref_kind).tolist())
            elif channel == STOREFRONT:
                assert (e.ref_kind == REF_STOREFRONT).all()
                assert (m.listing_seller[e.listing] == m.n_creators + e.source).all()
                np.testing.assert_array_equal(e.ref, m.user_index[e.user])
                np.testing.assert_array_equal(e.trust, state["storefront_trust"][e.user])
                np.testing.assert_array_equal(
                    e.memory, state["storefront_memory"][e.ref, e.source % S]
                )
                memories |= set(np.unique(e.memory).tolist())
            else:
                assert (e.ref_kind == REF_SOCIAL).all()
                # The tie named is the listener's trust in the recommender, in the
                # recommender's replication.
                lis = m.listeners
                r = e.user // n
                tie = e.ref - r * lis.n_ties
                recommender = e.source - r * n
                assert (
                    (tie >= lis.indptr[recommender]) & (tie < lis.indptr[recommender + 1])
                ).all()
                np.testing.assert_array_equal(lis.listener[tie] + r * n, e.user)
                np.testing.assert_array_equal(e.trust, state["social_trust"][e.ref])
                np.testing.assert_array_equal(e.memory, state["social_memory"][e.ref])
                assert ((e.quality >= 0) & (e.quality <= 1)).all()
                heard += len(e)
            if e.utility is not None:
                # u = intercept + trust_weight T + quality_weight (Q - 0.5) - price + repeat M
                want = (
                    weights.intercept
                    + weights.trust_weight * e.trust.astype(np.float64)
                    + weights.quality_weight * (e.quality.astype(np.float64) - 0.5)
                    - m.price_factor[e.user] * m.listing_price[e.listing]
                    + weights.repeat_weight * e.memory
                )
                np.testing.assert_allclose(e.utility, want, rtol=1e-6, atol=1e-5)
    # Every branch was taken: ties in the main arrays, in the buffer and none; storefront
    # memories good and bad; word of mouth heard.
    assert kinds == {REF_NONE, REF_FOLLOW, REF_BUFFER}
    assert {-1, 1} <= memories
    assert heard > 0
    engine.close()
