"""Lockstep replications: R replications in one engine equal R engines run one by one.

Each replication draws from its own streams in the order a run of it alone would, so the
agreement is exact, not only in distribution: every table of every replication is compared
for equality, over scenarios that exercise each rule with a per-replication part (reach and
the head cap, discovery and ad draws, budgets, follows merged per replication, training,
shocks, producers, word of mouth and government information).
"""

from __future__ import annotations

import copy
import pickle
import threading
import time

import numpy as np
import pandas as pd
import pytest

from laotie import Engine, Scenario, graph
from laotie.engine import lockstep_size
from laotie.engine.counts import DayCounter
from laotie.engine.rules import follow as follow_rule
from laotie.engine.sizing import replication_bytes
from laotie.engine.streams import generator
from laotie.engine.threads import Chunks
from laotie.engine.ties import Follows
from laotie.errors import LaotieError, ScenarioError
from laotie.graph._core import FOLLOW as FOLLOW_TIE
from laotie.graph._core import HEAD, LOCAL_CREATOR, TrustGraph
from laotie.metrics import COUNTS, ROWS
from laotie.results import Result
from laotie.runs import replicate

BASE = Scenario.preset("mudanjiang", scale=0.004)
DAYS = 45

SEEDS = [np.random.SeedSequence(11, spawn_key=(r,)) for r in range(3)]

CASES = {
    "defaults": {},
    "head_single_purchase": {
        "policy.traffic": "head",
        "population.repeat_purchases": False,
        "creators.follow_prob": 1.0,
        "policy.discovery_per_active": 2.0,
    },
    # New follows from discovery and training; with a low merge floor (see the test), each
    # replication's buffer is merged into its main arrays at its own times.
    "training_and_merges": {
        "training.day": 3,
        "training.rule": "random",
        "training.n_creators": 6,
        "training.follower_gain": 40,
        "creators.follow_prob": 1.0,
        "policy.discovery_per_active": 2.0,
        "policy.head_cap": 0.02,
    },
    "producers_shock_information": {
        "producers.n_producers": 30,
        "producers.channel": "both",
        "producers.recruit": "local",
        "shock.day": 10,
        "shock.days": 15,
        "word_of_mouth.prob": 0.6,
        "word_of_mouth.days": 3,
        "information.n_messages": 3,
        "information.share_prob": 0.3,
        "information.training_day": 8,
        "training.day": 5,
        "training.rule": "followers",
        "training.n_creators": 2,
        "training.follower_gain": 20,
    },
    # The demand side's mechanisms: the funnel, satisfaction by rate, word of mouth scaled
    # by trust, return visits of loyal buyers (across a month's end: loyalties forgotten),
    # new follows from discovery (return visits to creators one follows since the run).
    "demand_side": {
        "storefronts.click_prob": 0.3,
        "creators.enter_prob": 0.5,
        "decision.intercept": -3.0,
        "outcomes.satisfaction": "rate",
        "outcomes.disappointment_creators": 0.3,
        "outcomes.disappointment_storefronts": 0.1,
        "word_of_mouth.trust_scaled": True,
        "word_of_mouth.prob": 0.6,
        "word_of_mouth.days": 3,
        "loyalty.return_creators": 0.8,
        "loyalty.return_storefronts": 0.3,
        "loyalty.weight": 4.0,
        "loyalty.half_life": 3.0,
        "creators.follow_prob": 1.0,
        "word_of_mouth.warn_prob": 0.5,
        "products.catalogue": "shared",
    },
    # A platform that grows: adoption through ties, churn, sellers entering (a month starts
    # on day 30).
    "growth": {
        "growth.initial_users": 0.4,
        "growth.external": 3.0,
        "growth.social": 6.0,
        "growth.churn": 0.2,
        "growth.initial_sellers": 0.3,
        "growth.entry_rate": 0.9,
        "growth.creator_entry_income": 1.0,
        "growth.storefront_entry_gmv": 1.0,
    },
}


@pytest.fixture(scope="module")
def city() -> graph.TrustGraph:
    return graph.city(BASE.city, seed=2)


def _run(engine: Engine, days: int = DAYS) -> Engine:
    for _ in range(days):
        engine.step()
    engine.close()
    return engine


def _assert_same(a: Result, b: Result) -> None:
    for name in (
        "daily",
        "summary",
        "order_values",
        "information",
        "information_regions",
        "monthly",
        "producers",
        "regions",
    ):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    for name in (
        "creator_income",
        "producer_income",
        "producer_orders",
        "producer_buyers",
        "seller_gmv",
    ):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.outcomes.keys() == b.outcomes.keys()
    for key, value in a.outcomes.items():
        assert value == b.outcomes[key] or (np.isnan(value) and np.isnan(b.outcomes[key])), key
    assert a.seed == b.seed


@pytest.mark.parametrize("case", list(CASES))
def test_lockstep_replications_equal_separate_runs(
    city: graph.TrustGraph, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = BASE.replace(**CASES[case]) if CASES[case] else BASE
    # What each engine's follows (kept alive here, so that they are told apart by identity)
    # recorded: main ties per replication after each day's merge, creators' reach.
    merges: list[tuple[Follows, np.ndarray]] = []
    reach: list[tuple[Follows, np.ndarray]] = []

    def of(records: list[tuple[Follows, np.ndarray]], engine: Engine) -> np.ndarray:
        return np.array([v for owner, v in records if owner is engine.market.follows])

    if case == "training_and_merges":
        monkeypatch.setattr(Follows, "merge_floor", 0)
        monkeypatch.setattr(Follows, "merge_share", 0.002)
        merge, find_reach = Follows.merge_buffer, follow_rule.reach

        def recorded_merge(self: Follows, force: bool = False) -> None:
            merge(self, force)
            merges.append((self, self.main_count.copy()))

        def recorded_reach(market, *args):  # type: ignore[no-untyped-def]
            rho = find_reach(market, *args)
            reach.append((market.follows, rho))
            return rho

        monkeypatch.setattr(Follows, "merge_buffer", recorded_merge)
        monkeypatch.setattr(follow_rule, "reach", recorded_reach)
    lockstep = _run(Engine(city, scenario, seed=SEEDS))
    n_ties = lockstep.market.listeners.n_ties
    C = lockstep.market.layout.creators
    for r, seed in enumerate(SEEDS):
        alone = _run(Engine(city, scenario, seed=seed))
        _assert_same(Result.from_engine(lockstep.replication(r)), Result.from_engine(alone))
        # The state too: trust on every social tie, and what each seller sold.
        np.testing.assert_array_equal(
            lockstep.market.listeners.trust[r * n_ties : (r + 1) * n_ties],
            alone.market.listeners.trust,
        )
        view = lockstep.replication(r)
        np.testing.assert_array_equal(view.seller_gmv, alone.ledger.seller_gmv)
        np.testing.assert_array_equal(view.listing_orders, alone.ledger.listing_orders)
        if case == "training_and_merges":
            # Each replication's ties were merged on the days they would be alone, and its
            # creators' reach (with the head cap binding) is its own.
            together, single = of(merges, lockstep)[:, r], of(merges, alone)[:, 0]
            np.testing.assert_array_equal(together, single)
            assert len(np.unique(single)) > 3
            np.testing.assert_array_equal(
                of(reach, lockstep)[:, r * C : (r + 1) * C], of(reach, alone)
            )
    if merges:
        # The replications merged on different days (else a shared rule would pass too).
        days = of(merges, lockstep)
        assert not all(np.array_equal(days[:, 0], days[:, r]) for r in range(1, len(SEEDS)))
    # The replications differ from each other (each has its own streams).
    first, second = (Result.from_engine(lockstep.replication(r)) for r in (0, 1))
    assert not first.daily.equals(second.daily)


def test_lockstep_recommendations_equal_separate_runs(city: graph.TrustGraph) -> None:
    scenario = BASE.replace(**{"word_of_mouth.prob": 0.5})
    users = np.flatnonzero(city.user)[:40]
    lockstep = Engine(city, scenario, seed=SEEDS[:2])
    lockstep.recommend(users, 3, quality=0.9)
    _run(lockstep, 10)
    for r, seed in enumerate(SEEDS[:2]):
        alone = Engine(city, scenario, seed=seed)
        alone.recommend(users, 3, quality=0.9)
        _run(alone, 10)
        _assert_same(Result.from_engine(lockstep.replication(r)), Result.from_engine(alone))
    assert Result.from_engine(alone).summary.loc["wom", "orders"] > 0


def test_replicate_gives_the_same_results_whatever_the_lockstep() -> None:
    scenario = Scenario.preset("village")
    separate = replicate(scenario, 4, days=20, seed=5, lockstep=1)
    for lockstep in (None, 3, 4):
        together = replicate(scenario, 4, days=20, seed=5, lockstep=lockstep)
        for a, b in zip(separate, together, strict=True):
            _assert_same(a, b)
    assert together[0].info["lockstep"] == 4 and separate[0].info["lockstep"] == 1
    with pytest.raises(ScenarioError, match="lockstep = 0"):
        replicate(scenario, 2, days=1, seed=5, lockstep=0)


def test_replicate_times_the_set_up_and_the_days_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A clock that moves 1 s per reading: the graph (2 readings), then per engine the set-up
    # (start, set-up done) and the days (set-up done, end); each engine's time is shared
    # equally by its replications.
    import types

    from laotie import runs

    ticks = iter(range(1000))
    monkeypatch.setattr(
        runs, "time", types.SimpleNamespace(perf_counter=lambda: float(next(ticks)))
    )
    results = replicate(Scenario.preset("village"), 3, days=2, seed=5, lockstep=2)
    assert [r.info["setup_seconds"] for r in results] == [0.5, 0.5, 1.0]
    assert [r.info["simulation_seconds"] for r in results] == [0.5, 0.5, 1.0]
    assert results[0].info["graph_seconds"] == 1.0


@pytest.mark.integration  # worker processes
def test_replicate_gives_the_same_results_whatever_the_workers() -> None:
    # Three engines of two replications (the last of one) in two worker processes.
    scenario = Scenario.preset("village")
    alone = replicate(scenario, 5, days=12, seed=8, lockstep=2)
    spread = replicate(scenario, 5, days=12, seed=8, lockstep=2, workers=2)
    assert [r.info["replication"] for r in spread] == list(range(5))
    for a, b in zip(alone, spread, strict=True):
        _assert_same(a, b)
    assert not alone[0].daily.equals(alone[1].daily)
    with pytest.raises(ScenarioError, match="workers = 0"):
        replicate(scenario, 2, days=1, seed=5, workers=0)


def test_lockstep_engine_errors_name_what_to_do(city: graph.TrustGraph) -> None:
    with pytest.raises(ScenarioError, match="one seed per lockstep replication"):
        Engine(city, BASE, seed=[])
    engine = Engine(city, BASE, seed=SEEDS[:2])
    engine.step()
    with pytest.raises(LaotieError, match=r"engine.replication\(r\).history"):
        _ = engine.history
    with pytest.raises(LaotieError, match="lockstep"):
        Result.from_engine(engine)
    with pytest.raises(LaotieError, match=r"replications are 0 .. 1"):
        engine.replication(2)
    assert engine.step().shape == (2, len(ROWS), len(COUNTS))


def test_lockstep_size_fits_the_memory_and_balances(city: graph.TrustGraph) -> None:
    per = replication_bytes(city, BASE)
    assert lockstep_size(city, BASE, 10, max_bytes=per * 4) == 4  # 3 engines: 4, 4, 2 -> 4
    assert lockstep_size(city, BASE, 9, max_bytes=per * 4) == 3  # 3 engines of 3
    assert lockstep_size(city, BASE, 5, max_bytes=per // 2) == 1
    assert lockstep_size(city, BASE, 500) == 63  # at most 64, balanced over 8 engines
    # At most a million stacked residents: 19 of 50,800 fit, so 64 run as 4 engines of 16.
    larger = graph.city(Scenario.preset("mudanjiang", scale=0.02).city, seed=1)
    assert larger.n_nodes == 50_800
    assert lockstep_size(larger, BASE, 64) == 16


def test_day_counter_counts_distinct_users_per_replication() -> None:
    rng = np.random.default_rng(4)
    nodes, R = 50, 3
    exposures = [rng.integers(0, nodes * R, size) for size in (40, 0, 200, 70)]
    order_user = rng.integers(0, nodes * R, 90)
    order_channel = rng.integers(0, 4, 90)
    counts = DayCounter(nodes * R, nodes).count(
        exposures,
        order_channel,
        order_user,
        rng.random(90),
        np.ones(90),
        np.zeros(90),
        np.zeros(90),
        np.zeros(90),
        np.zeros((R, 4)),
        np.zeros((R, 4)),
        np.zeros((R, 4)),
    )
    families = {"trust": (0, 1, 2), "traffic": (3,), "all": (0, 1, 2, 3)}
    for row, name in enumerate(ROWS):
        members = families.get(name, (row,))
        exposed = np.concatenate([exposures[c] for c in members])
        bought = order_user[np.isin(order_channel, members)]
        for r in range(R):
            mine = (exposed // nodes) == r
            assert counts[r, row, COUNTS.index("exposed_users")] == len(np.unique(exposed[mine]))
            assert counts[r, row, COUNTS.index("exposures")] == mine.sum()
            buyers = np.unique(bought[bought // nodes == r])
            assert counts[r, row, COUNTS.index("buyers")] == len(buyers)


def test_lockstep_with_a_seller_without_followers_at_the_top() -> None:
    """A user's graph whose highest-numbered selling creator has no followers: the stacked
    follower counts must cover every replication's nodes (head traffic reads them, new
    follows and follower-rule training add to them)."""
    scenario = Scenario.preset("village")
    city = graph.city(scenario.city, seed=2)
    sellers = np.flatnonzero((city.creator_kind == HEAD) | (city.creator_kind == LOCAL_CREATOR))
    last = sellers.max()
    source = np.repeat(np.arange(city.n_nodes), np.diff(city.indptr))
    keep = ~((city.layer == FOLLOW_TIE) & (city.indices == last))
    users_graph = TrustGraph.from_edges(
        city.n_nodes,
        source[keep],
        city.indices[keep],
        city.trust[keep],
        city.layer[keep],
        region=city.region,
        hometown=city.hometown,
        rural=city.rural,
        user=city.user,
        creator_kind=city.creator_kind,
        region_names=city.region_names,
    )
    assert users_graph.followers()[last] == 0
    for changes in (
        {"policy.traffic": "head"},
        {"creators.follow_prob": 1.0, "policy.discovery_per_active": 3.0},
        {"training.day": 1, "training.rule": "followers", "training.n_creators": 3},
    ):
        variant = scenario.replace(**changes)
        lockstep = _run(Engine(users_graph, variant, seed=SEEDS[:2]), 15)
        for r, seed in enumerate(SEEDS[:2]):
            alone = _run(Engine(users_graph, variant, seed=seed), 15)
            _assert_same(Result.from_engine(lockstep.replication(r)), Result.from_engine(alone))


def test_replicate_zero_replications_and_seed_arrays(city: graph.TrustGraph) -> None:
    assert replicate(Scenario.preset("village"), 0, days=3, seed=1) == []
    from_array = _run(Engine(city, BASE, seed=np.array([4, 5])), 5)
    from_list = _run(Engine(city, BASE, seed=[4, 5]), 5)
    for r in range(2):
        _assert_same(
            Result.from_engine(from_array.replication(r)),
            Result.from_engine(from_list.replication(r)),
        )


def test_lockstep_with_two_threads_equals_one(city: graph.TrustGraph) -> None:
    scenario = BASE.replace(**CASES["producers_shock_information"])
    one = _run(Engine(city, scenario, seed=SEEDS, threads=1), 20)
    two = _run(Engine(city, scenario, seed=SEEDS, threads=2), 20)
    for r in range(len(SEEDS)):
        _assert_same(Result.from_engine(one.replication(r)), Result.from_engine(two.replication(r)))
    assert Engine(city, scenario, seed=[1] * 50).threads == 2  # 50 x 10,160 stacked residents


def test_the_activitys_halves_split_where_a_word_of_the_bits_begins() -> None:
    """The second half starts at the first user from the middle whose node begins a word of
    64 nodes (so that the two threads never write one word), or at the end if none."""
    from laotie.engine.rules.activity import _word_start

    rng = np.random.default_rng(6)
    for _ in range(500):
        users = np.sort(rng.choice(3_000, int(rng.integers(1, 400)), replace=False))
        users = users.astype(np.int32)
        i = int(rng.integers(0, len(users) + 1))
        split = _word_start(users, i)
        words = users >> 6
        later = [j for j in range(max(i, 1), len(users)) if words[j] != words[j - 1]]
        assert split == (0 if i == 0 else later[0] if later else len(users))


@pytest.mark.parametrize("replications", [1, 3])
def test_activity_shared_by_two_threads_is_that_of_one(
    city: graph.TrustGraph, monkeypatch: pytest.MonkeyPatch, replications: int
) -> None:
    """With the activity's passes shared by two threads (here from any size), the day's
    flags, bits, active users, seats and month flags are those of one thread, day after
    day."""
    from laotie.engine.rules import activity

    monkeypatch.setattr(activity, "SPLIT_FROM", 1)
    seeds = SEEDS[:replications]
    one = Engine(city, BASE, seed=seeds, threads=1)
    two = Engine(city, BASE, seed=seeds, threads=2)
    for _ in range(6):
        one.step()
        two.step()
        a, b = one.today, two.today
        for name in ("active", "active_bits", "users", "bounds"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        n = len(a.users)
        for name in a.seats._fields:
            np.testing.assert_array_equal(
                getattr(a.seats, name)[:n], getattr(b.seats, name)[:n], err_msg=name
            )
        np.testing.assert_array_equal(one.ledger.month_flags, two.ledger.month_flags)
    one.close()
    two.close()


def test_records_written_behind_the_days_in_the_second_thread_are_those_of_one(
    city: graph.TrustGraph,
) -> None:
    """With two threads, ``run`` writes each day's records in the second thread while the
    next day begins: after the run (across a month's end) they are those of one thread, and
    a ``step`` after it returns its own day's counts."""
    scenario = BASE.replace(**CASES["producers_shock_information"])
    one = Engine(city, scenario, seed=SEEDS, threads=1)
    two = Engine(city, scenario, seed=SEEDS, threads=2)
    one.run(33)
    two.run(33)
    np.testing.assert_array_equal(one.step(), two.step())
    assert len(two._history) == len(two._active) == 34
    for r in range(len(SEEDS)):
        _assert_same(Result.from_engine(one.replication(r)), Result.from_engine(two.replication(r)))
    one.close()
    two.close()


def _slow_records(engine: Engine, fail_at: int | None = None) -> None:
    """Make the engine's day counter slow (so that a reader that does not wait for the
    second thread reads too few records), failing on its call ``fail_at`` (from 1)."""
    count = engine._counter.count
    calls = []

    def slow(*args: object) -> np.ndarray:
        calls.append(1)
        time.sleep(0.05)
        if len(calls) == fail_at:
            raise RuntimeError("the records failed")
        return count(*args)

    engine._counter.count = slow  # type: ignore[method-assign]


def test_every_reader_waits_for_the_records_the_second_thread_writes(
    city: graph.TrustGraph,
) -> None:
    """``run``, ``history``, ``replication`` and a copy or pickle of the engine wait for the
    records still being written (each day's counts and active users)."""
    engine = Engine(city, BASE, seed=SEEDS[0], threads=2)
    _slow_records(engine)
    engine.run(3)
    assert len(engine._history) == len(engine._active) == 3
    for _ in range(2):
        engine._advance()  # as run does, without its wait at the end
    assert len(engine.history) == 5
    engine._advance()
    assert len(engine.replication(0).history) == 6
    engine._advance()
    copied = copy.deepcopy(engine)
    assert len(engine._history) == len(copied._history) == 7
    engine._advance()
    del engine._counter.count  # the class's own again: a local function does not pickle
    again = pickle.loads(pickle.dumps(engine))
    assert len(again._history) == len(again._active) == 8
    again.close()
    engine.close()


def test_a_copy_taken_during_a_run_continues_as_the_run(city: graph.TrustGraph) -> None:
    """An engine copied between two days of ``run`` (its last day's records not yet
    written) continues as the engine itself does, each with its own records."""
    engine = Engine(city, BASE, seed=SEEDS[0], threads=2)
    copies: list[Engine] = []
    engine.run(
        4, each_day=lambda: copies.append(copy.deepcopy(engine)) if engine.day == 2 else None
    )
    copied = copies[0]
    assert copied.day == 2 and len(copied.history) == 2
    copied.run(2)
    assert len(engine.history) == len(copied.history) == 4
    _assert_same(
        Result.from_engine(engine.replication(0)), Result.from_engine(copied.replication(0))
    )
    engine.close()
    copied.close()


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copy_of_a_lockstep_engine_with_information_continues_as_it(
    city: graph.TrustGraph, how: str
) -> None:
    """A copy (or pickle) of a lockstep engine whose government information reads each
    replication's listener ties continues as the engine does: its information states read
    the copy's ties, not arrays frozen at the copy."""
    scenario = BASE.replace(**CASES["producers_shock_information"])
    engine = Engine(city, scenario, seed=SEEDS, threads=1)
    engine.run(10)
    copied = copy.deepcopy(engine) if how == "deepcopy" else pickle.loads(pickle.dumps(engine))
    engine.run(30)
    copied.run(30)
    for r in range(len(SEEDS)):
        _assert_same(
            Result.from_engine(engine.replication(r)), Result.from_engine(copied.replication(r))
        )
    engine.close()
    copied.close()


def test_a_failing_record_is_raised_once_and_the_other_days_kept(city: graph.TrustGraph) -> None:
    """A day whose records fail in the second thread raises from the run (at the end of the
    next day, which is done and kept); the other days' records are written, in step."""
    engine = Engine(city, BASE, seed=SEEDS[0], threads=2)
    _slow_records(engine, fail_at=2)
    with pytest.raises(RuntimeError, match="the records failed"):
        engine.run(5)
    assert engine.day == 3
    engine.run(2)  # the error is not raised again
    assert engine.day == 5
    assert len(engine.history) == len(engine._active) == 4  # all but the day that failed
    engine.close()


@pytest.mark.parametrize("stride", [1, 7])
@pytest.mark.parametrize(
    ("runs", "size"), [(1, 50), (1, 5000), (3, 50), (3, 2000), (20, 50), (12, 500)]
)
def test_per_entry_draws_follow_each_replications_order(  # type: ignore[no-untyped-def]
    city: graph.TrustGraph, runs, size, stride
) -> None:
    """Entries of several replications in any order (one sorted run, a few long runs drawn
    in turn, short runs or many long ones sorted first), given as their replications or as
    ids of ``stride`` per replication, get their replication's numbers in their order."""
    engine = Engine(city, BASE, seed=SEEDS)
    rng = np.random.default_rng(runs)
    replication = np.concatenate([np.sort(rng.integers(0, 3, size)) for _ in range(runs)])
    ids = replication * stride + rng.integers(0, stride, len(replication))
    got = engine._streams["wom"].per_entry(ids, stride)
    # A replication's word-of-mouth stream: SFC64 of the day's child of its seed, phase 5 of 10.
    fresh = [np.random.SeedSequence(s.entropy, spawn_key=s.spawn_key) for s in SEEDS]
    alone = [generator(s.spawn(2)[1].spawn(10)[5]) for s in fresh]
    want = np.empty(len(replication))
    for r, g in enumerate(alone):
        want[replication == r] = g.random(int((replication == r).sum()))
    np.testing.assert_array_equal(got, want)


def test_chunks_are_each_done_once_whichever_thread_takes_them() -> None:
    """Chunks offered by one thread and helped with by another are each done once, the
    helper taking some (the owner's are slow); a helper before the offer or after the last
    chunk does nothing."""
    chunks = Chunks()
    chunks.help()  # before the offer: nothing to do, no error
    done: list[tuple[int, str]] = []
    finished = threading.Event()

    def do(i: int) -> None:
        done.append((i, threading.current_thread().name))
        if threading.current_thread().name == "owner":
            time.sleep(0.01)

    def owner() -> None:
        chunks.offer(do, 40)
        chunks.finish()
        finished.set()

    thread = threading.Thread(target=owner, name="owner")
    thread.start()
    while not finished.is_set():
        chunks.help()
    thread.join()
    assert sorted(i for i, _ in done) == list(range(40))
    helped = [i for i, name in done if name != "owner"]
    assert helped and min(helped) > max(i for i, name in done if name == "owner")
    chunks.help()  # after the last chunk: nothing
    assert len(done) == 40


def test_a_chunk_that_fails_in_a_helper_is_raised_by_finish() -> None:
    """An error in a helper's chunk is raised by the owner's ``finish`` (once), after the
    chunks already running are done; the chunks not yet taken are left."""
    chunks = Chunks()
    running = threading.Event()
    done: list[int] = []

    def do(i: int) -> None:
        if i == 9:  # the helper's first, from the back
            running.wait()
            raise ValueError("chunk 9 failed")
        running.set()
        time.sleep(0.02)
        done.append(i)

    chunks.offer(do, 10)
    helper = threading.Thread(target=chunks.help)
    helper.start()
    with pytest.raises(ValueError, match="chunk 9 failed"):
        chunks.finish()
    helper.join()
    assert 0 in done and len(done) < 9
    chunks.finish()  # the error is not raised again


@pytest.mark.parametrize("fails", [False, True])
def test_finish_waits_for_a_helpers_chunk_still_running(fails: bool) -> None:
    """When the owner has done its chunks while a helper's is still running, ``finish``
    waits for it: its rows are written when ``finish`` returns, or its error raised."""
    chunks = Chunks()
    taken = threading.Event()
    written: list[int] = []

    def do(i: int) -> None:
        if i == 3:  # the helper's, from the back
            taken.set()
            time.sleep(0.2)
            if fails:
                raise ValueError("chunk 3 failed late")
        written.append(i)

    chunks.offer(do, 4)
    helper = threading.Thread(target=chunks.help)
    helper.start()
    taken.wait()
    if fails:
        with pytest.raises(ValueError, match="chunk 3 failed late"):
            chunks.finish()
    else:
        chunks.finish()
        assert sorted(written) == [0, 1, 2, 3]
    helper.join()


@pytest.mark.parametrize("click_prob", [1.0, 0.3])
def test_storefront_chunks_shared_with_another_thread_equal_one_pass(
    city: graph.TrustGraph, monkeypatch: pytest.MonkeyPatch, click_prob: float
) -> None:
    """The storefront's exposures built in small chunks (across the replications' bounds),
    some taken by a helper thread, equal those built in one pass from the same state."""
    from laotie.engine.rules import storefront

    scenario = BASE.replace(**{"storefronts.click_prob": click_prob})
    engine = Engine(city, scenario, seed=SEEDS, threads=1)
    engine.run(3)
    stream = engine._streams["storefront"]
    whole = storefront.storefront_exposures(
        engine.market, engine.today, copy.deepcopy(stream), scenario
    )
    monkeypatch.setattr(storefront, "CHUNK", 7)
    slow = storefront._storefront
    helpers: list[str] = []

    def chunk(*args: object) -> None:
        helpers.append(threading.current_thread().name)
        time.sleep(0.001)
        slow(*args)

    monkeypatch.setattr(storefront, "_storefront", chunk)
    chunks = Chunks()
    finished = threading.Event()

    def help_until_finished() -> None:
        while not finished.is_set():
            chunks.help()

    helper = threading.Thread(target=help_until_finished, name="helper")
    helper.start()
    try:
        shared = storefront.storefront_exposures(
            engine.market, engine.today, copy.deepcopy(stream), scenario, chunks
        )
    finally:
        finished.set()
        helper.join()
    assert len(whole) > 7 * 4 and "helper" in helpers and len(set(helpers)) == 2
    assert len(helpers) == -(-len(whole) // 7)
    for name in (*whole.DTYPES, "utility"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(shared, name), err_msg=name)
    assert (whole.unclicked is None) == (shared.unclicked is None) == (click_prob == 1)
    if whole.unclicked is not None and shared.unclicked is not None:
        for a, b in zip(whole.unclicked, shared.unclicked, strict=True):
            np.testing.assert_array_equal(a, b)
    engine.close()


def test_search_in_ids_equals_numpys_whatever_the_keys_type() -> None:
    """``search`` finds what ``np.searchsorted`` finds, with keys of a wider type that fit
    the ids' type (taken in it) or do not (left as they are), scalar or array."""
    from laotie.engine.lockstep import search

    rng = np.random.default_rng(8)
    ids = np.sort(rng.integers(-1000, 1000, 500)).astype(np.int32)
    wide = ids.astype(np.int64)
    for keys in (
        rng.integers(-2000, 2000, 50),
        np.array([2**31 + 5, -(2**31) - 5, 0]),
        np.int64(17),
        12,
        np.zeros(0, np.int64),
    ):
        np.testing.assert_array_equal(search(ids, keys), np.searchsorted(wide, keys))
