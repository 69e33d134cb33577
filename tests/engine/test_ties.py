"""The engine's view of the graph's ties (laotie.engine.ties), against scipy's transpose."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from laotie import Scenario, _memory
from laotie.engine import ties
from laotie.engine.ties import Follows, Listeners, _by_trusted, count_follows, follow_edges
from laotie.graph import TrustGraph
from laotie.graph.codes import FOLLOW, LOCAL
from laotie.scenario import scenario_graph


@pytest.fixture(scope="module")
def village():
    return scenario_graph(Scenario.preset("village"), 5)


def transposed(graph):
    """The listeners by scipy: the transpose of the local and city ties, trust and layer as
    data (each row of a CSR transpose lists its entries in increasing column order)."""
    social = graph.layer != FOLLOW
    rows = np.repeat(np.arange(graph.n_nodes), np.diff(graph.indptr))[social]
    cols = graph.indices[social]
    n = graph.n_nodes
    by_trusted = sp.csr_array(
        (np.arange(len(cols)), (cols, rows)), shape=(n, n)
    )  # coo -> csr sums duplicates: there are none (one tie per pair and layer group)
    by_trusted.sort_indices()
    order = by_trusted.data
    return (
        by_trusted.indptr,
        by_trusted.indices,
        graph.trust[social][order],
        (graph.layer[social][order] == LOCAL),
    )


def test_listeners_are_the_transpose_of_the_social_ties(village):
    assert (village.layer == FOLLOW).any() and (village.layer == LOCAL).any()
    listeners = Listeners.from_graph(village)
    indptr, listener, trust, kin = transposed(village)
    np.testing.assert_array_equal(listeners.indptr, indptr)
    np.testing.assert_array_equal(listeners.listener, listener)
    np.testing.assert_array_equal(listeners.trust, trust)
    np.testing.assert_array_equal(listeners.kin, kin)
    assert listeners.listener.dtype == np.int32 and listeners.trust.dtype == village.trust.dtype


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_listeners_do_not_depend_on_the_threads(village, threads):
    alone = _by_trusted(village, threads=1, min_ties=0)
    split = _by_trusted(village, threads=threads, min_ties=0)
    for a, b in zip(alone, split, strict=True):
        np.testing.assert_array_equal(a, b)


def test_lockstep_listeners_repeat_the_trust_per_replication(village):
    one = Listeners.from_graph(village)
    three = Listeners.from_graph(village, 3)
    assert three.n_ties == one.n_ties and len(three.memory) == 3 * one.n_ties
    for r in range(3):
        np.testing.assert_array_equal(three.replication(r).trust, one.trust)


def test_the_engine_sorts_the_listeners_in_its_own_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Engine(threads=...)`` is what the listeners' sort uses (it had used two threads
    whatever the engine was told)."""
    from laotie import Engine, Scenario, graph
    from laotie.engine import ties

    asked: list[int] = []
    original = ties._by_trusted

    def spy(g, threads=1, min_ties=10_000_000):  # type: ignore[no-untyped-def]
        asked.append(threads)
        return original(g, threads, min_ties)

    monkeypatch.setattr(ties, "_by_trusted", spy)
    scenario = Scenario.preset("village")
    for threads in (1, 3):  # a graph each: a second engine on one graph sorts nothing
        Engine(graph.city(scenario.city, seed=1), scenario, seed=1, threads=threads)
    assert asked == [1, 3]


def test_a_second_engine_on_a_graph_takes_its_listeners_from_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The listeners are sorted once per graph; the next engine gets the same structure and
    a trust of its own, as the graph gives it, whatever the first engine's outcomes did to
    its trust; a graph changed in place since is sorted again."""
    from laotie import Engine, Scenario, graph
    from laotie.engine import ties

    sorts: list[int] = []
    original = ties._by_trusted

    def spy(g, threads=1, min_ties=10_000_000):  # type: ignore[no-untyped-def]
        sorts.append(1)
        return original(g, threads, min_ties)

    monkeypatch.setattr(ties, "_by_trusted", spy)
    scenario = Scenario.preset("village")
    village = graph.city(scenario.city, seed=1)
    first = Engine(village, scenario, seed=1)
    first.run(30)
    fresh = original(village)
    first.market.listeners.trust *= 0.5  # in place, as outcomes write it
    second = Engine(village, scenario, seed=1)
    assert len(sorts) == 1
    for got, want in zip(
        (second.market.listeners.indptr, second.market.listeners.listener),
        fresh[:2],
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(second.market.listeners.trust, fresh[2])
    second.run(30)  # the same run as the first
    np.testing.assert_array_equal(np.array(second.history), np.array(first.history))
    # Changed in place, the graph is sorted again and its new trust is what the engine gets.
    k = int(np.flatnonzero(village.layer != FOLLOW)[0])
    village.trust[k] = village.trust[k] / 2
    third = Engine(village, scenario, seed=1)
    assert len(sorts) == 2
    np.testing.assert_array_equal(third.market.listeners.trust, original(village)[2])


@pytest.mark.parametrize("name", ["indptr", "indices", "layer", "trust"])
def test_the_digest_of_a_graph_changes_with_any_one_entry(name: str) -> None:
    from laotie import Scenario, graph
    from laotie.engine.ties import _digest

    village = graph.city(Scenario.preset("village").city, seed=1)
    before = _digest(village)
    values = getattr(village, name)
    for at in (0, len(values) // 2, len(values) - 1):
        kept = values[at].copy()
        values[at] = values[at] + 1 if name != "trust" else np.nextafter(values[at], 0)
        assert _digest(village) != before
        values[at] = kept
        assert _digest(village) == before


def test_the_digest_changes_when_two_entries_swap_places() -> None:
    """Each entry's weight depends on its position: a permutation is a change."""
    from laotie import Scenario, graph
    from laotie.engine.ties import _digest

    village = graph.city(Scenario.preset("village").city, seed=1)
    before = _digest(village)
    distinct = np.flatnonzero(village.trust != village.trust[0])
    j = int(distinct[len(distinct) // 2])
    village.trust[[0, j]] = village.trust[[j, 0]]
    assert _digest(village) != before


def test_the_listeners_are_not_kept_after_their_graph() -> None:
    """The kept listeners go with their graph (a sweep frees a city's graph for the memory),
    and a graph whose trust a user replaced by another array kind is read too."""
    import gc

    from laotie import Engine, Scenario, graph
    from laotie.engine import ties

    scenario = Scenario.preset("village")
    village = graph.city(scenario.city, seed=1)
    Engine(village, scenario, seed=1)
    assert ties._MEMO and ties._MEMO[0][0]() is village
    del village
    gc.collect()
    assert not ties._MEMO
    other = graph.city(scenario.city, seed=2)
    strided = np.zeros(2 * other.n_edges)
    strided[::2] = other.trust
    other.trust = strided[::2]  # float64, not contiguous: the digest reads it all the same
    assert ties._digest(other) != ties._digest(graph.city(scenario.city, seed=2))


@pytest.mark.parametrize("spread", [False, True])
def test_follow_edges_are_the_follow_ties_in_the_graphs_order(village, spread) -> None:
    """The compiled walk against the mask of the follow ties and each one's row: on the
    village (its first node follows a creator) and on the village in reverse order with a
    node of no ties before each of its own (empty rows between full ones, the first empty,
    the last following a creator)."""
    graph = village
    if spread:
        rows = np.repeat(np.arange(village.n_nodes), np.diff(village.indptr))
        last = village.n_nodes - 1
        graph = TrustGraph.from_edges(
            2 * village.n_nodes,
            2 * (last - rows) + 1,
            2 * (last - village.indices) + 1,
            village.trust,
            village.layer,
            creator_kind=np.repeat(village.creator_kind[::-1], 2),
        )
    mask = graph.layer == FOLLOW
    rows = np.repeat(np.arange(graph.n_nodes), np.diff(graph.indptr))
    follows_first, follows_last = np.isin([0, graph.n_nodes - 1], rows[mask])
    assert (follows_first, follows_last) == ((False, True) if spread else (True, False))
    assert count_follows(graph) == np.count_nonzero(mask) > 0
    user, creator, trust = follow_edges(graph)
    assert (user.dtype, creator.dtype, trust.dtype) == (
        np.int32,
        graph.indices.dtype,
        graph.trust.dtype,
    )
    np.testing.assert_array_equal(user, rows[mask])
    np.testing.assert_array_equal(creator, graph.indices[mask])
    np.testing.assert_array_equal(trust, graph.trust[mask])


def test_the_tie_arrays_are_made_with_small_pages(village, monkeypatch) -> None:
    """The engine's arrays read a row of ties at a time are made without numpy's huge-page
    advice (docs/performance.md, twenty-eighth session); the advice is back after."""

    class Switch:
        advised = True

        def __call__(self, advised: bool) -> bool:
            before, self.advised = self.advised, advised
            return before

    switch = Switch()
    monkeypatch.setattr(_memory, "_SWITCH", switch)
    seen: dict[str, list[bool]] = {}

    def spy(name, real):
        def call(*args, **kwargs):
            seen.setdefault(name, []).append(switch.advised)
            return real(*args, **kwargs)

        return call

    for name in ("_place_social", "_copy_follows", "_group_by_creator"):
        monkeypatch.setattr(ties, name, spy(name, getattr(ties, name)))
    monkeypatch.setattr(np, "lexsort", spy("lexsort", np.lexsort))
    monkeypatch.setattr(ties, "_MEMO", [])
    Listeners.from_graph(village)
    follows = Follows(village)
    follows._set(follows.user, follows.creator, follows.trust, follows.memory)  # as a merge
    assert seen == {
        "_place_social": [False],
        "_copy_follows": [False],
        "_group_by_creator": [False],
        "lexsort": [False],
    }
    assert switch.advised is True
    # The listeners' own arrays (their memory; the trust of lockstep replications) too, when
    # the sorted ties come from the memo of a graph seen before.
    monkeypatch.setattr(np, "tile", spy("tile", np.tile))
    Listeners.from_graph(village, replications=2)
    assert seen["tile"] == [False] and switch.advised is True


@pytest.mark.parametrize("replications", [1, 3])
def test_follows_are_grouped_by_creator_then_user(village, replications) -> None:
    """The counting sort of the graph's follow ties gives the order of a sort by (creator,
    user), and the counts per creator; ties not in user order are sorted all the same."""
    follows = Follows(village, replications=replications)
    user, creator, trust = follow_edges(village)
    n = village.n_nodes
    offset = np.repeat(np.arange(replications) * n, len(user))
    user = np.tile(user.astype(np.int64), replications) + offset
    creator = np.tile(creator.astype(np.int64), replications) + offset
    trust = np.tile(trust, replications)
    order = np.lexsort((user, creator))
    assert np.array_equal(follows.user, user[order])
    assert np.array_equal(follows.creator, creator[order])
    assert np.array_equal(follows.trust, trust[order])
    assert follows.user.dtype == follows.creator.dtype == np.int32
    assert follows.trust.dtype == np.float32 and not follows.memory.any()
    counts = np.bincount(creator, minlength=n * replications)
    assert np.array_equal(np.diff(follows.indptr), counts)
    assert np.array_equal(follows.count, counts)
    assert np.array_equal(follows.main_count, [len(user) // replications] * replications)
    # The same ties shuffled: out of user order, they are sorted by (creator, user) too.
    shuffle = np.random.default_rng(2).permutation(len(user))
    again = Follows(village, replications=replications)
    again._set_from_rows(user[shuffle], creator[shuffle], trust[shuffle])
    for name in ("user", "creator", "trust", "memory", "indptr", "main_count"):
        assert np.array_equal(getattr(again, name), getattr(follows, name)), name


GUARDED = """
import ctypes, mmap, sys
import numpy as np
from laotie.engine import ties
from laotie.graph.codes import FOLLOW
page = mmap.PAGESIZE
n, ties_ = 1000, 3 * page // 4
block = mmap.mmap(-1, 4 * page, prot=mmap.PROT_READ | mmap.PROT_WRITE)
start = ctypes.addressof(ctypes.c_char.from_buffer(block))
assert ctypes.CDLL(None).mprotect(ctypes.c_void_p(start + 3 * page), page, 0) == 0
indices = np.frombuffer(block, np.int32, count=ties_)  # the ties end where the guard begins
rng = np.random.default_rng(1)
indices[:] = rng.integers(0, n, ties_)
layer = np.zeros(ties_, np.int8)
layer[::3] = FOLLOW
rows = np.sort(rng.integers(0, n, ties_))
indptr = np.zeros(n + 1, np.int64)
np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
count = ties._count_social(indptr, indices, layer, n, 0, n)
fill = (np.cumsum(count) - count).astype(np.int64)
m = int(count.sum())
out = np.empty(m, np.int32), np.empty(m, np.float32), np.empty(m, bool)
ties._place_social(indptr, indices, layer, np.full(ties_, 0.5, np.float32), 0, n, fill, *out)
assert (fill == np.cumsum(count)).all()
print("read nothing past the ties")
"""


def test_the_listeners_sort_reads_nothing_past_the_ties() -> None:
    """The sort reads ahead of the tie it places (:data:`ties.PLACE_AHEAD`): the ties' ids
    placed just before a page that may not be read, the sort must not touch it (in a process
    of its own: a read there kills the process)."""
    import mmap
    import subprocess
    import sys

    if sys.platform != "linux" or not hasattr(mmap, "PROT_READ"):
        pytest.skip("a guard page is made with mprotect (Linux)")
    done = subprocess.run(
        [sys.executable, "-c", GUARDED], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "read nothing past the ties" in done.stdout
