"""Residents seeded with the government messages (``Engine(seeds=...)``, docs/model.md 3.5,
"Information"): informed on each message's posting day, passing it on from the next, checked
before anything runs, and nothing changed without them."""

from __future__ import annotations

import re

import numpy as np
import pytest

from laotie import Engine, Scenario, ScenarioError, TrustGraph, graph
from laotie.engine.rules.information import SEEDED, resident_ids
from laotie.engine.ties import expand_rows

MESSAGES = {
    "information.n_messages": 2,
    "information.first_day": 2,
    "information.interval": 3,
    "information.live_days": 2,
}
SILENT = {
    "information.city_feed": 0.0,
    "information.hometown_feed": 0.0,
    "information.share_prob": 0.0,
    "information.offline_prob": 0.0,
}


@pytest.fixture(scope="module")
def county() -> tuple[TrustGraph, Scenario]:
    scenario = Scenario.preset("county", scale=0.05).replace(**MESSAGES)
    return graph.city(scenario.city, seed=3), scenario


def seeds_of(g: TrustGraph) -> list[int]:
    """Two users and a resident without the app, rural and urban if the city has both."""
    users = np.flatnonzero(g.user & g.resident)
    others = np.flatnonzero(~g.user & g.resident)
    assert len(others)
    return sorted([int(users[0]), int(users[len(users) // 2]), int(others[-1])])


def run(g: TrustGraph, scenario: Scenario, days: int, **targets: object) -> Engine:
    engine = Engine(g, scenario, seed=7, **targets)  # type: ignore[arg-type]
    engine.run(days)
    return engine


def test_a_seeded_resident_is_informed_on_the_posting_day(
    county: tuple[TrustGraph, Scenario],
) -> None:
    # No feed and no sharing: the seeds are the only people who ever know a message.
    g, base = county
    seeds = seeds_of(g)
    engine = Engine(g, base.replace(**SILENT), seed=7, seeds=seeds[::-1])
    info = engine.information
    engine.run(2)  # days 0 and 1: nothing posted yet
    assert not info.state.any()
    engine.step()  # day 2: message 0 posted
    assert np.flatnonzero(info.state[0]).tolist() == seeds
    assert (info.state[0, seeds] == SEEDED).all() and not info.state[1].any()
    engine.run(3)  # day 5: message 1 posted
    assert np.flatnonzero(info.state[1]).tolist() == seeds
    frame, regions = info.frames(g.region_names)
    assert (frame["share_informed"] == len(seeds) / g.n_residents).all()
    assert (frame[["by_feed", "by_hometown", "by_share", "by_offline"]] == 0).all().all()
    assert frame.groupby("message")["day"].min().tolist() == [2, 5]
    informed = regions.groupby(["message", "day"], observed=True)["share_informed"].sum()
    assert (informed > 0).all()


def test_a_seed_learns_by_being_seeded_before_the_feeds_draw(
    county: tuple[TrustGraph, Scenario],
) -> None:
    # Feeds that reach nearly every active user on the posting day: the seeds' path is still
    # SEEDED (seeds come first in the day, as sharing comes after the feeds).
    g, base = county
    users = np.flatnonzero(g.user & g.resident)
    loud = base.replace(**{"information.city_feed": 1.0, "information.gov_quality_mean": 0.9})
    engine = run(g, loud, 3, seeds=users)
    assert engine.information.counts[0, 3] == 0  # nobody by the feeds: every user is a seed
    assert (engine.information.state[0, users] == SEEDED).all()
    unseeded = run(g, loud, 3)
    assert unseeded.information.counts[0, 3] > len(users) // 10  # the feeds do reach them


def test_seeds_pass_the_message_on_from_the_next_day(
    county: tuple[TrustGraph, Scenario],
) -> None:
    g, base = county
    seeds = seeds_of(g)
    spread = base.replace(
        **SILENT | {"information.share_prob": 1.0, "information.offline_prob": 1.0}
    )
    engine = run(g, spread, 4, seeds=seeds)  # days 0..3: posted on 2, shared on 3
    info = engine.information
    informed = np.flatnonzero(info.state[0])
    new = np.setdiff1d(informed, seeds)
    position, _ = expand_rows(info.listeners.indptr, np.asarray(seeds, np.int64))
    listeners = np.unique(info.listeners.listener[position])
    assert len(new) and np.isin(new, listeners).all()
    assert set(np.unique(info.state[0, new]).tolist()) <= {3, 4}  # share, offline


def test_seeding_informs_everyone_it_informed_before_and_no_later(
    county: tuple[TrustGraph, Scenario],
) -> None:
    # Every draw is keyed by its event, not drawn from a stream: seeds add to the cascade.
    g, base = county
    scenario = base.replace(**{"information.share_prob": 0.3, "information.offline_prob": 0.3})
    without = run(g, scenario, 8)
    seeded = run(g, scenario, 8, seeds=seeds_of(g))
    before, after = (
        without.information.frames(g.region_names)[0],
        seeded.information.frames(g.region_names)[0],
    )
    assert (after["share_informed"].to_numpy() >= before["share_informed"].to_numpy()).all()
    assert (after["share_informed"].to_numpy() > before["share_informed"].to_numpy()).any()
    known = without.information.state > 0
    assert (seeded.information.state[known] > 0).all()
    # Information changes no purchase: the market's days are the same.
    np.testing.assert_array_equal(np.asarray(seeded.history), np.asarray(without.history))


def test_no_seeds_is_the_engine_without_them(county: tuple[TrustGraph, Scenario]) -> None:
    g, base = county
    scenario = base.replace(**{"information.share_prob": 0.3})
    plain, empty = run(g, scenario, 7), run(g, scenario, 7, seeds=[])
    np.testing.assert_array_equal(plain.information.state, empty.information.state)
    np.testing.assert_array_equal(plain.information.counts, empty.information.counts)
    np.testing.assert_array_equal(np.asarray(plain.history), np.asarray(empty.history))


def test_every_replication_seeds_the_same_residents(county: tuple[TrustGraph, Scenario]) -> None:
    g, base = county
    seeds = seeds_of(g)
    sequences = np.random.SeedSequence(3).spawn(2)
    lockstep = Engine(g, base, seed=sequences, seeds=seeds)
    lockstep.run(4)
    for r, sequence in enumerate(sequences):
        alone = Engine(g, base, seed=sequence, seeds=seeds)
        alone.run(4)
        state = lockstep.replication(r).information.state
        np.testing.assert_array_equal(state, alone.information.state)
        assert (state[0, seeds] == SEEDED).all()


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ("12", "Engine: seeds = '12'; expected a list of residents' node ids"),
        (np.array([[1, 2]]), "Engine: seeds = array([[1, 2]]); expected a list"),
        ([1, 2.0], "Engine: seeds: 2.0 is not a node id; expected an integer 0–"),
        ([True], "Engine: seeds: True is not a node id"),
        ([-1], "Engine: seeds: node -1 is out of range; the graph's node ids are 0–"),
        (["N"], "Engine: seeds: 'N' is not a node id"),
        ([4, 9, 4], "Engine: seeds names node 4 twice; expected each resident once"),
    ],
)
def test_seeds_are_checked(
    county: tuple[TrustGraph, Scenario], seeds: object, message: str
) -> None:
    g, base = county
    with pytest.raises(ScenarioError, match=re.escape(message)):
        Engine(g, base, seed=1, seeds=seeds)  # type: ignore[arg-type]


def test_a_node_out_of_range_or_outside_the_city_is_refused() -> None:
    scenario = Scenario.preset("county", scale=0.05).replace(
        **MESSAGES | {"city.outside_creators": 3, "city.outside_min_followers": 5}
    )
    g = graph.city(scenario.city, seed=1)
    outside = np.flatnonzero(~g.resident)
    assert len(outside) == 3
    with pytest.raises(ScenarioError, match=f"node {outside[0]} does not live in the city"):
        Engine(g, scenario, seed=1, seeds=[0, int(outside[0])])
    n = g.n_nodes
    with pytest.raises(ScenarioError, match=f"node {n} is out of range; .* 0–{n - 1}"):
        Engine(g, scenario, seed=1, seeds=[n])
    # Integer arrays of any width are checked at once, naming the same node as a list.
    for dtype in (np.int64, np.uint32, np.int16):
        with pytest.raises(ScenarioError, match=f"node {outside[0]} does not live in the city"):
            Engine(g, scenario, seed=1, seeds=np.array([0, outside[0]], dtype))
    for given in ([5, n + 2, -1], np.array([5, n + 2, -1])):
        with pytest.raises(ScenarioError, match=f"node {n + 2} is out of range"):
            Engine(g, scenario, seed=1, seeds=given)
    with pytest.raises(ScenarioError, match="names node 3 twice"):
        Engine(g, scenario, seed=1, seeds=np.array([3, 1, 3], np.int16))
    ids = resident_ids(g, np.array([9, 2], np.uint64), "enrolled")
    assert ids.tolist() == [2, 9] and ids.dtype == np.int64


def test_checking_many_residents_takes_one_pass(
    county: tuple[TrustGraph, Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    # graph.resident is computed over every node when read: read once, not once per id (a
    # city's residents were checked in quadratic time, 44 s for a million).
    g, _ = county
    reads = []
    mask = g.resident

    def counted(self: TrustGraph) -> np.ndarray:
        reads.append(1)
        return mask

    monkeypatch.setattr(TrustGraph, "resident", property(counted))
    everyone = np.flatnonzero(mask)
    for given in (everyone, everyone.tolist()):
        reads.clear()
        assert resident_ids(g, given, "enrolled").tolist() == everyone.tolist()
        assert len(reads) == 1


def test_seeds_without_a_message_are_refused(county: tuple[TrustGraph, Scenario]) -> None:
    # No government message: a seed would be told nothing, a silent no-op; refused by name.
    g, base = county
    silent = base.replace(**{"information.n_messages": 0})
    with pytest.raises(
        ScenarioError,
        match=re.escape(
            "Engine: seeds = 2 resident(s) with information.n_messages = 0: there is no "
            "government message to give them; set information.n_messages ≥ 1 or give no seeds"
        ),
    ):
        Engine(g, silent, seed=1, seeds=seeds_of(g)[:2])
    Engine(g, silent, seed=1, seeds=[])  # none given: the engine without seeds
