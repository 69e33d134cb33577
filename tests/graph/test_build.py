"""The compiled kernels of a city's build: the merged CSR pattern and the Beta trust weights."""

from __future__ import annotations

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
