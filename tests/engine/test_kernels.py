"""The engine's compiled kernels (backend="numba") give the numpy path's numbers exactly.

Both paths draw the same random numbers; a kernel only replaces arithmetic, look-ups and
selections. Every table and the state each phase writes are compared for equality, one engine
and lockstep replications, over scenarios that exercise each kernel's branches (storefront
memories and comparisons, NaN-free utilities with ties of price, budgets, follows in the
buffer, word of mouth).
"""

from __future__ import annotations

import numpy as np
import pytest

from laotie import Engine, Scenario, graph
from laotie.engine import engine as engine_module
from laotie.engine.engine import _FIELDS, REF_BUFFER, REF_FOLLOW, REF_NONE
from laotie.engine.market import Follows
from laotie.errors import ScenarioError
from laotie.metrics import COUNTS
from laotie.results import Result

pytest.importorskip("numba")

BASE = Scenario.preset("mudanjiang", scale=0.004)
DAYS = 35  # past a month's start (spending resets)
SEEDS = [np.random.SeedSequence(7, spawn_key=(r,)) for r in range(3)]

CASES = {
    "defaults": {},
    # Storefront memories matter (repeat weight large, many purchases), no comparisons.
    "storefront_memory_no_comparisons": {
        "storefronts.comparisons": 0,
        "storefronts.impressions_per_active": 4.0,
        "decision.repeat_weight": 3.0,
        "decision.intercept": 0.0,
    },
    # One storefront with many comparisons, single purchases, head traffic.
    "one_storefront_many_comparisons": {
        "storefronts.n_storefronts": 1,
        "storefronts.comparisons": 12,
        "population.repeat_purchases": False,
        "policy.traffic": "head",
    },
    # Every option of an impression has the same utility (one storefront price, quality
    # and memory ignored): the first one must be chosen, as np.argmax chooses.
    "equal_options": {
        "storefronts.price_dispersion": 0.0,
        "decision.quality_weight": 0.0,
        "decision.repeat_weight": 0.0,
        "storefronts.comparisons": 5,
    },
    # Budgets that bind, with repeat purchases and without.
    "tight_budgets_repeat": {"population.budget_mean": 60.0, "decision.intercept": 1.0},
    "tight_budgets_single": {
        "population.budget_mean": 60.0,
        "decision.intercept": 1.0,
        "population.repeat_purchases": False,
    },
    "follows_word_of_mouth_producers": {
        "creators.follow_prob": 1.0,
        "policy.discovery_per_active": 2.0,
        "word_of_mouth.prob": 0.6,
        "producers.n_producers": 30,
        "producers.channel": "both",
    },
}

STATE = (
    "spent",
    "ever_ordered",
    "month_flags",
    "creator_income",
    "creator_exposures",
    "producer_income",
    "producer_buyers",
    "seller_gmv",
    "listing_orders",
)
MARKET_STATE = ("storefront_trust", "storefront_memory", "has_storefront_memory")


@pytest.fixture(scope="module")
def city() -> graph.TrustGraph:
    return graph.city(BASE.city, seed=3)


def _assert_same_engines(a: Engine, b: Engine) -> None:
    np.testing.assert_array_equal(np.array(a._history), np.array(b._history))
    for name in STATE:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in MARKET_STATE:
        np.testing.assert_array_equal(
            getattr(a.market, name), getattr(b.market, name), err_msg=name
        )
    for part in ("listeners", "follows"):
        for name in ("trust", "memory"):
            np.testing.assert_array_equal(
                getattr(getattr(a.market, part), name),
                getattr(getattr(b.market, part), name),
                err_msg=f"{part}.{name}",
            )
    np.testing.assert_array_equal(a.market.follows.buffer_trust, b.market.follows.buffer_trust)


def _batches_equal(a, b) -> None:  # type: ignore[no-untyped-def]
    for name in _FIELDS:
        got, expected = getattr(a, name), getattr(b, name)
        assert got.dtype == expected.dtype, name
        np.testing.assert_array_equal(got, expected, err_msg=name)


@pytest.mark.parametrize("seed", [SEEDS[0], SEEDS], ids=["one", "lockstep"])
@pytest.mark.parametrize("case", list(CASES))
def test_numba_kernels_equal_the_numpy_path(  # type: ignore[no-untyped-def]
    city: graph.TrustGraph, case: str, seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = BASE.replace(**CASES[case]) if CASES[case] else BASE
    if case == "follows_word_of_mouth_producers":
        # New follows stay in the buffer, so that discovery finds ties there too; and the
        # look-ups go in sorted order and the posts are found through look-up tables, as
        # they are in large cities.
        monkeypatch.setattr(Follows, "merge_floor", 10**9)
        monkeypatch.setattr(engine_module, "SORTED_LOOKUPS_FROM", 0)
        monkeypatch.setattr(engine_module, "DISCOVERY_TABLES_FROM", 0)
    # The compiled engine with two threads (storefront and word of mouth beside follow and
    # discovery), the numpy one with one.
    engines = [
        Engine(city, scenario, seed=seed, backend=b, threads=t)
        for b, t in (("numpy", 1), ("numba", 2))
    ]
    for engine in engines:
        for _ in range(DAYS):
            engine.step()
    numpy_engine, numba_engine = engines
    assert numba_engine.backend == "numba" and numba_engine._kernels is not None
    _assert_same_engines(numpy_engine, numba_engine)
    if not isinstance(seed, list):
        a, b = (Result.from_engine(e) for e in engines)
        assert a.daily.equals(b.daily) and a.summary.equals(b.summary)
    # Three more days' exposures, field by field (dtypes too), each day's built outside
    # the step (the step that follows draws its own).
    kinds = set()
    heard = 0
    for _ in range(3):
        batches = []
        for engine in engines:
            engine._activity()
            posting, featured = engine._posts()
            batches.append(
                (
                    engine._follow_exposures(posting, featured),
                    engine._discovery_exposures(posting, featured),
                    engine._storefront_exposures(),
                    engine._wom_exposures(),
                )
            )
            engine.step()
        for a, b in zip(*batches, strict=True):
            _batches_equal(a, b)
        assert all(len(batch) for batch in batches[0][:3])
        heard += len(batches[0][3])
        # The utilities the kernels computed as they chose are those of the chosen fields.
        for batch in batches[1][:3]:
            assert batch.utility is not None
            expected = numba_engine._utility(
                batch.user, batch.listing, batch.trust, batch.quality, batch.memory
            )
            np.testing.assert_array_equal(batch.utility, expected)
        _follow, discovery, store, _wom = batches[0]
        kinds |= set(np.unique(discovery.ref_kind).tolist())
        if case == "storefront_memory_no_comparisons":
            # The memory branch was taken: shoppers remember storefronts, well and badly.
            assert (store.memory == 1).any() and (store.memory == -1).any()
    _assert_same_engines(numpy_engine, numba_engine)
    if case.startswith("tight_budgets"):
        blocked = np.array(numpy_engine._history)[..., COUNTS.index("budget_blocked")]
        assert blocked.sum() > 0
    if case == "follows_word_of_mouth_producers":
        # Discovery found viewers' ties in the main arrays, in the buffer and nowhere; word
        # of mouth was heard.
        assert kinds == {REF_NONE, REF_FOLLOW, REF_BUFFER}
        assert heard > 0
    for engine in engines:
        engine.close()


def test_bad_backend_is_named(city: graph.TrustGraph) -> None:
    with pytest.raises(ScenarioError, match="Engine: backend = 'cuda' is not allowed"):
        Engine(city, BASE, backend="cuda")


def test_compiled_utility_has_the_bits_of_the_numpy_utility(city: graph.TrustGraph) -> None:
    # Argmax and coin flips hide last-bit differences; the utility itself is compared here,
    # on random users and listings with trust, quality and memory over their whole ranges.
    from laotie.engine import _kernels_numba

    engine = Engine(city, BASE.replace(**{"decision.intercept": -1.3}), seed=1)
    m, d = engine.market, engine.scenario.decision
    rng = np.random.default_rng(0)
    n = 200_000
    user = rng.choice(m.users, n)
    listing = rng.integers(0, len(m.listing_price), n)
    trust = rng.random(n, dtype=np.float32)
    quality = rng.random(n, dtype=np.float32)
    memory = rng.integers(-1, 2, n).astype(np.int8)
    expected = engine._utility(user, listing, trust, quality, memory)
    got = _kernels_numba.utilities(
        _kernels_numba.weights(d),
        trust,
        quality,
        m.price_factor[user],
        m.listing_price[listing],
        memory,
    )
    assert expected.dtype == got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)


def test_compiled_candidates_are_scipy_expit_coin_flips() -> None:
    # The purchase probability in the kernel must have scipy's bits: utilities over the range
    # where the probability is neither 0 nor 1, its extremes, infinities and NaN, and draws
    # set to the very probabilities (where a last-bit difference changes the outcome).
    from scipy.special import expit

    from laotie.engine import _kernels_numba

    rng = np.random.default_rng(5)
    utility = np.concatenate(
        [
            rng.normal(-2, 3, 500_000),
            rng.uniform(-800, 800, 100_000),
            [0.0, -0.0, 36.7, -36.7, 709.8, -709.8, 745.2, -745.2, np.inf, -np.inf, np.nan],
        ]
    )
    draws = rng.random(len(utility))
    draws[::3] = expit(utility[::3])  # a draw equal to its probability is not below it
    draws[1::3] = np.nextafter(expit(utility[1::3]), 0)  # just below it: a candidate
    # Draws on either side of the bound by which the kernel refuses without exp, where the
    # bound is nearest the probability (utilities near 0) and elsewhere below 1.
    near = np.concatenate([rng.uniform(-1e-4, 1e-4, 20_000), rng.uniform(-30, 1, 20_000)])
    bound = 1.000000001 / (2 - near)
    utility = np.concatenate([utility, near, near])
    draws = np.concatenate([draws, np.nextafter(bound, 0), np.nextafter(bound, 1)])
    chosen = np.empty(len(utility), np.int64)
    n = _kernels_numba.candidates(draws, utility, chosen)
    np.testing.assert_array_equal(chosen[:n], np.flatnonzero(draws < expit(utility)))


def test_compiled_searches_are_numpy_searchsorted() -> None:
    # Branch-free binary searches: every position of arrays with many ties, empty ranges
    # and sub-ranges, against np.searchsorted.
    from laotie.engine import _kernels_numba as k
    from laotie.engine.draws import cdf_table

    rng = np.random.default_rng(1)
    for size in (0, 1, 2, 3, 7, 64, 1000):
        a = np.sort(rng.integers(0, 10, size)).astype(np.float64)
        for lo, hi in ((0, size), (size // 3, size - size // 4), (size // 2, size // 4)):
            for x in np.arange(-1, 11.5, 0.5):
                part = a[lo:hi]
                assert k._search_right(a, x, lo, hi) == lo + part.searchsorted(x, "right")
                assert k._search_left(a, x, lo, hi) == lo + part.searchsorted(x, "left")
        # The inverse CDF with its look-up table: row 1 of two CDFs, searched or not.
        if size:
            cdf = np.stack([np.linspace(0, 1, size + 1)[1:], np.cumsum(np.full(size, 1 / size))])
            low, high = (np.stack(t) for t in zip(*(cdf_table(c) for c in cdf), strict=True))
            for u in np.concatenate([rng.random(200), cdf[1][:-1], np.arange(1024) / 1024]):
                expected = cdf[1].searchsorted(u, side="right")
                assert k._inverse_cdf(cdf, low, high, 1, u) == expected


def test_sorted_counts_counts_runs_and_refuses_descents() -> None:
    # Entries sorted by replication (ids // size, with empty replications between, at the
    # ends and none at all) are counted as bincount counts them; a single descent anywhere
    # (also at the last entry) is reported, whatever was counted before.
    from laotie.engine import _kernels_numba as k

    rng = np.random.default_rng(2)
    for size in (1, 7, 10_000, 2**31 // 64):
        for n in (0, 1, 2, 50, 5000):
            ids = np.sort(rng.integers(0, 64 * size, n)).astype(np.int64)
            counts = np.zeros(64, np.int64)
            assert k.sorted_counts(ids, size, 1.0 / size, counts)
            np.testing.assert_array_equal(counts, np.bincount(ids // size, minlength=64))
            if n and ids[-1] // size > ids[0] // size:
                swapped = ids.copy()
                swapped[[0, -1]] = swapped[[-1, 0]]
                bad_ones = [swapped]
                if ids[-2] // size > ids[0] // size:  # the last entry back to the first's
                    bad_ones.append(np.append(ids[:-1], ids[0]))
                for bad in bad_ones:
                    assert not k.sorted_counts(bad, size, 1.0 / size, np.zeros(64, np.int64))


def test_backend_from_the_environment_and_pickling(
    city: graph.TrustGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle

    monkeypatch.setenv("LAOTIE_BACKEND", "numpy")
    assert Engine(city, BASE, seed=1).backend == "numpy"
    assert Engine(city, BASE, seed=1, backend="numba").backend == "numba"  # explicit wins
    monkeypatch.setenv("LAOTIE_BACKEND", "gpu")
    with pytest.raises(ScenarioError, match="LAOTIE_BACKEND = 'gpu' is not allowed"):
        Engine(city, BASE, seed=1)
    monkeypatch.delenv("LAOTIE_BACKEND")
    # A compiled engine pickles (it holds no module) and goes on as the original does.
    engine = Engine(city, BASE, seed=1, threads=1)
    assert engine.backend == "numba"
    for _ in range(3):
        engine.step()
    copy = pickle.loads(pickle.dumps(engine))
    for _ in range(3):
        np.testing.assert_array_equal(engine.step(), copy.step())
