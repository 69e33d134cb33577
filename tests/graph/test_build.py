"""The compiled kernels of a city's build: the merged CSR pattern and the Beta trust weights."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from laotie import graph
from laotie.graph import _build, generators
from laotie.graph.codes import CITY, FOLLOW, LOCAL


def test_a_city_is_the_same_in_one_thread_or_two(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = graph.mudanjiang_spec(0.01)  # 1.5 M ties: two blocks of trust weights
    built = []
    for threads in (1, 2):
        monkeypatch.setattr(generators, "build_threads", lambda threads=threads: threads)
        built.append(graph.city(spec, seed=8))
    assert built[0].n_edges > _build.TRUST_BLOCK
    assert built[0].equals(built[1])


def _reference(n: int, pairs: list[tuple[np.ndarray, np.ndarray]]) -> sp.csr_array:
    """The merged pattern by scipy: layer bits 1 local, 2 city, 4 follow, summed as masks."""
    merged = sp.csr_array((n, n), dtype=np.int64)
    for (src, dst), both, bit in zip(pairs, (True, True, False), (1, 2, 4), strict=True):
        keep = src != dst
        src, dst = src[keep], dst[keep]
        if both:
            src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
        one = sp.csr_array((np.ones(len(src), np.int64), (src, dst)), shape=(n, n))
        one.data[:] = bit
        merged = merged + one
    merged.sort_indices()
    return merged


@pytest.mark.parametrize("threads", [1, 2])
def test_merged_csr_matches_scipy(threads: int) -> None:
    rng = np.random.default_rng(3)
    n = 300
    pairs = [
        (np.sort(rng.integers(0, n, 2000)), rng.integers(0, n, 2000)),
        (np.sort(rng.integers(0, n, 900)), rng.integers(0, n, 900)),
        (rng.integers(0, n, 700), rng.integers(0, 30, 700)),
    ]
    expected = _reference(n, [tuple(p) for p in pairs])  # type: ignore[misc]
    indptr, indices, layer = _build.merged_csr(n, list(pairs), threads)
    np.testing.assert_array_equal(indptr, expected.indptr)
    np.testing.assert_array_equal(indices, expected.indices)
    # Precedence follow > local > city.
    code = np.where(expected.data & 4, FOLLOW, np.where(expected.data & 1, LOCAL, CITY))
    np.testing.assert_array_equal(layer, code)


@pytest.mark.parametrize("concentration", [0.5, 4.0, 1e4])
def test_beta_weights_follow_the_beta_distribution(concentration: float) -> None:
    means = [0.6, 0.3, 0.4]
    layer = np.repeat(np.arange(3, dtype=np.int8), 400_000)
    weights = _build.beta_weights(layer, means, concentration, np.random.SeedSequence(1), 2)
    for code, mean in enumerate(means):
        beta = stats.beta(mean * concentration, (1 - mean) * concentration)
        x = weights[layer == code].astype(np.float64)
        # Mean within 4 standard errors; variance within 4 standard errors of the sample
        # variance (its standard error: sqrt((mu4 - var**2) / n)).
        assert abs(x.mean() - mean) <= 4 * beta.std() / np.sqrt(len(x))
        mu4 = beta.expect(lambda v, m=mean: (v - m) ** 4)
        assert abs(x.var() - beta.var()) <= 4 * np.sqrt((mu4 - beta.var() ** 2) / len(x))
        assert x.min() > 0 and x.max() <= 1
        if concentration >= 4:
            # (Below, float32 rounds much of the mass near 0 and 1, as any float32 draw would.)
            assert stats.kstest(x, beta.cdf).pvalue > 1e-3


def test_beta_weights_do_not_depend_on_threads() -> None:
    layer = np.zeros(3 * _build.TRUST_BLOCK + 5, np.int8)
    one, two = (
        _build.beta_weights(layer, [0.5], 4.0, np.random.SeedSequence(2), threads)
        for threads in (1, 2)
    )
    np.testing.assert_array_equal(one, two)


def reference_weights(
    layer: np.ndarray, means: list[float], concentration: float, seed: np.random.SeedSequence
) -> np.ndarray:
    """beta_weights' documented rule, written again with numpy: block j of TRUST_BLOCK ties
    takes numpy's SFC64 doubles from seed's j-th child; a uniform u becomes the layer's Beta
    quantile tabulated at QUANTILE_CELLS cells, linear inside a cell, with power-law tails in
    the first and last cells; clipped to [float32 tiny, 1]."""
    from scipy.special import betaincinv

    from laotie.graph._build import QUANTILE_CELLS, TRUST_BLOCK

    m = np.asarray(means)
    a, b = m * concentration, (1 - m) * concentration
    cells = QUANTILE_CELLS
    grid = np.linspace(0.0, 1.0, cells + 1)
    tables = [betaincinv(a[c], b[c], grid) for c in range(len(m))]
    n_blocks = -(-len(layer) // TRUST_BLOCK)
    out = np.empty(len(layer), np.float64)
    for j, child in enumerate(seed.spawn(n_blocks)):
        lo, hi = j * TRUST_BLOCK, min((j + 1) * TRUST_BLOCK, len(layer))
        x = np.random.Generator(np.random.SFC64(child)).random(hi - lo) * cells
        for code, q in enumerate(tables):
            at = np.flatnonzero(layer[lo:hi] == code)
            xs = x[at]
            cell = xs.astype(np.int64)
            inside = q[cell] + (xs - cell) * (q[np.minimum(cell + 1, cells)] - q[cell])
            with np.errstate(over="ignore", invalid="ignore"):
                low = q[1] * xs ** (1 / a[code])
                high = 1 - (1 - q[cells - 1]) * (cells - xs) ** (1 / b[code])
            out[lo + at] = np.where(cell == 0, low, np.where(cell == cells - 1, high, inside))
    # (both tails are computed everywhere and picked by np.where: overflows elsewhere are moot)
    tiny = np.finfo(np.float32).tiny
    return np.clip(out.astype(np.float32), tiny, np.float32(1.0))


@pytest.mark.parametrize(
    ("means", "concentration"),
    [([0.3, 0.6, 0.9], 4.0), ([0.01, 0.5, 0.99], 0.5)],  # the second: tails and clipping bind
)
def test_beta_weights_are_their_documented_rule(means: list[float], concentration: float) -> None:
    """Every weight of two blocks and a part equals the rule written again: the blocks' own
    streams in order, the interpolation, both tails with their own shape, the clipping."""
    from laotie.graph._build import TRUST_BLOCK, beta_weights

    rng = np.random.default_rng(11)
    layer = rng.integers(0, 3, 2 * TRUST_BLOCK + 999).astype(np.int8)
    # A SeedSequence of its own each: spawning advances the one spawned from.
    drawn = beta_weights(layer, means, concentration, np.random.SeedSequence(5), threads=2)
    expected = reference_weights(layer, means, concentration, np.random.SeedSequence(5))
    np.testing.assert_allclose(drawn, expected, rtol=2e-6, atol=0)
    if concentration < 1:  # the clip binds where a tail underflows
        assert (drawn == np.finfo(np.float32).tiny).any()


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_row_spans_cover_the_rows_with_about_as_many_ties_each(parts):
    """The runs of rows the threaded passes (the edge check, the listeners' sort) split a
    graph into: every row once, in order, each run within one row's ties of its share."""
    rng = np.random.default_rng(5)
    degree = rng.integers(0, 40, size=1_001)
    degree[:3] = 0  # empty first and last rows
    degree[-3:] = 0
    indptr = np.concatenate([[0], np.cumsum(degree)])
    spans = _build.row_spans(indptr, parts)
    assert len(spans) == parts
    assert spans[0][0] == 0 and spans[-1][1] == len(degree)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    ties = [int(indptr[hi] - indptr[lo]) for lo, hi in spans]
    assert abs(max(ties) - indptr[-1] / parts) <= degree.max()


def test_row_spans_stay_within_the_rows_whatever_the_row_pointer():
    """A graph changed in place after it was built can have a row pointer that falls, or
    ends below zero: the runs are still every row once, in order (a pass reads each row,
    and only its rows); rows with no ties at all are one run."""
    rng = np.random.default_rng(8)
    for _ in range(400):
        indptr = np.concatenate([[0], rng.integers(-50, 50, size=rng.integers(1, 12))])
        n = len(indptr) - 1
        for parts in (2, 3, 8):
            spans = _build.row_spans(indptr, parts)
            assert spans[0][0] == 0 and spans[-1][1] == n
            cuts = [lo for lo, _ in spans] + [n]
            assert cuts == sorted(cuts) and min(cuts) >= 0 and max(cuts) <= n, indptr
    assert _build.row_spans(np.array([0, 0, 0]), 2) == [(0, 0), (0, 2)]
    assert _build.row_spans(np.array([0, 1, 2, -1003, -1004, -1005, -1006]), 2) == [
        (0, 6),
        (6, 6),
    ]
