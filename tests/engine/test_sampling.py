"""Draws by inversion (laotie.engine.sampling): weighted choices give exactly
Generator.choice's numbers, with or without the bucket look-up table, including zero weights,
a single option and draws on bucket edges; the compiled searches are numpy's searchsorted;
Poisson and normal draws invert their CDFs."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from laotie.engine.sampling import (
    CDF_BUCKETS,
    cdf_table,
    choice_cdf,
    inverse_cdf,
    normal,
    poisson,
    search_left,
    search_right,
)


@numba.njit
def _searched(cdf, u):  # type: ignore[no-untyped-def]
    """The compiled choice of every uniform in the one-row CDF, by searching the whole row."""
    out = np.empty(len(u), np.int64)
    for i in range(len(u)):
        out[i] = search_right(cdf, u[i], 0, len(cdf))
    return out


def choices(cdf: np.ndarray, u: np.ndarray, tabled: bool) -> np.ndarray:
    if tabled:
        low, high = cdf_table(cdf)
        out = np.empty(len(u), np.int64)
        inverse_cdf(*(a.reshape(1, -1) for a in (cdf, low, high)), np.array([len(u)]), u, out)
        return out
    return _searched(cdf, u)


@pytest.mark.parametrize("seed", range(20))
def test_inverse_cdf_draws_what_generator_choice_draws(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 200))
    weights = rng.random(n) ** 4
    weights[rng.random(n) < 0.3] = 0.0  # options that can never be drawn
    if weights.sum() == 0:
        weights[0] = 1.0
    p = weights / weights.sum()
    expected = np.random.default_rng(seed + 100).choice(n, 5000, p=p)
    cdf = choice_cdf(p)
    for tabled in (False, True):
        u = np.random.default_rng(seed + 100).random(5000)
        np.testing.assert_array_equal(choices(cdf, u, tabled), expected)
    assert set(np.unique(expected)) <= set(np.flatnonzero(weights))


@pytest.mark.parametrize("width", [37, 3000])
def test_inverse_cdf_on_bucket_edges_and_cdf_steps(width: int) -> None:
    """Short CDFs have CDF_BUCKETS buckets; longer ones, the power of two at least their
    width (4096 for 3000), and the draws on either table's edges are numpy's."""
    rng = np.random.default_rng(3)
    cdf = choice_cdf(rng.random(width))
    buckets = len(cdf_table(cdf)[0])
    assert buckets == (CDF_BUCKETS if width <= CDF_BUCKETS else 4096)
    edges = np.arange(buckets) / buckets
    # Draws exactly on bucket edges, on the CDF's steps, and just below and above them.
    steps = cdf[:-1]
    u = np.concatenate([edges, steps, np.nextafter(steps, 0), np.nextafter(steps, 1), [0.0]])
    u = u[u < 1]
    np.testing.assert_array_equal(choices(cdf, u, True), cdf.searchsorted(u, side="right"))
    one = choice_cdf(np.array([1.0]))
    assert (choices(one, rng.random(100), True) == 0).all()


def test_float32_weights_draw_what_generator_choice_draws() -> None:
    """Generator.choice works in float64 whatever the weights' type; so must the CDF (the
    engine's discovery weights are float32 content qualities)."""
    rng = np.random.default_rng(5)
    weights = rng.random(300).astype(np.float32)
    p = weights / weights.sum()
    expected = np.random.default_rng(6).choice(len(p), 200_000, p=p)
    cdf = choice_cdf(p)
    assert cdf.dtype == np.float64
    for tabled in (False, True):
        u = np.random.default_rng(6).random(200_000)
        np.testing.assert_array_equal(choices(cdf, u, tabled), expected)


def test_compiled_searches_are_numpy_searchsorted() -> None:
    # Branch-free binary searches: every position of arrays with many ties (longer than the
    # linear tail, too), empty ranges and sub-ranges, against np.searchsorted.
    rng = np.random.default_rng(1)
    for size in (0, 1, 2, 3, 7, 64, 65, 1000):
        a = np.sort(rng.integers(0, 10, size)).astype(np.float64)
        for lo, hi in ((0, size), (size // 3, size - size // 4), (size // 2, size // 4)):
            for x in np.arange(-1, 11.5, 0.5):
                part = a[lo:hi]
                assert search_right(a, x, lo, hi) == lo + part.searchsorted(x, "right")
                assert search_left(a, x, lo, hi) == lo + part.searchsorted(x, "left")


def test_poisson_inverts_the_cdf() -> None:
    """The least k whose cumulative probability exceeds u: scipy's quantile function, on
    means from small to large and on the edges of [0, 1)."""
    rng = np.random.default_rng(1)
    # Means summed term by term and, past POISSON_SUM_MAX, up to the scenario's largest
    # (basket_extra_items 100 x (1 + basket_trust_effect 100)), where exp(-lam) underflows.
    lam = np.concatenate(
        [rng.uniform(0.01, 30, 100_000), 10 ** rng.uniform(1.5, 4.01, 20_000), [0.5, 0.5, 3.0]]
    )
    u = np.concatenate([rng.random(120_000), [0.0, np.nextafter(1, 0), np.nextafter(1, 0)]])
    np.testing.assert_array_equal(poisson(lam, u), np.maximum(stats.poisson.ppf(u, lam), 0))
    # Near u = 1 the sum of the terms stops growing below u: the count stops there too.
    assert poisson(np.array([30.0]), np.array([np.nextafter(1, 0)]))[0] < 100
    assert poisson(np.zeros(3), np.array([0.0, 0.5, np.nextafter(1, 0)])).tolist() == [0, 0, 0]


def test_normal_inverts_the_cdf_and_stays_finite() -> None:
    u = np.random.default_rng(2).random(10_000)
    np.testing.assert_allclose(stats.norm.cdf(normal(u)), u, rtol=0, atol=1e-12)
    assert np.isfinite(normal(np.array([0.0, np.nextafter(1, 0)]))).all()


@pytest.mark.parametrize("width", [0, 1, 5, 1024, 1025, 3000])
def test_cdf_tables_count_as_numpys_search_of_the_bucket_edges(width: int) -> None:
    """The tables are the counts ``searchsorted`` gives on the buckets' edges, row by row:
    CDFs with flat steps, steps on the edges themselves, and a row of NaN (a replication
    with nothing to choose)."""
    rng = np.random.default_rng(width)
    weights = rng.random((4, width)) ** 3
    weights[:, rng.random(width) < 0.3] = 0.0
    weights[:, -1:] += 1e-3
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = choice_cdf(weights)
    cdf[1] = np.nan
    buckets = max(CDF_BUCKETS, 1 << max(width - 1, 0).bit_length())
    edges = np.arange(buckets + 1) / buckets
    if width > 2:
        cdf[2, : width // 2] = np.sort(rng.choice(edges, width // 2))  # steps on the edges
        cdf[2] = np.maximum.accumulate(cdf[2])
    low, high = cdf_table(cdf)
    assert low.shape == high.shape == (4, buckets)
    for r in range(4):
        np.testing.assert_array_equal(low[r], cdf[r].searchsorted(edges[:-1], side="right"))
        np.testing.assert_array_equal(high[r], cdf[r].searchsorted(edges[1:], side="left"))
        one_low, one_high = cdf_table(cdf[r])  # a row alone
        np.testing.assert_array_equal(one_low, low[r])
        np.testing.assert_array_equal(one_high, high[r])
