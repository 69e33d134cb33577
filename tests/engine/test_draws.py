"""Weighted draws by inverse CDF give exactly Generator.choice's numbers, with or without the
bucket look-up table, including zero weights, a single option and draws on bucket edges."""

from __future__ import annotations

from importlib.util import find_spec

import numpy as np
import pytest
from scipy import stats

from laotie.engine.draws import (
    CDF_BUCKETS,
    Uniforms,
    cdf_table,
    choice_cdf,
    generator,
    inverse_cdf,
    normal,
    poisson,
)


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
    for table in (None, cdf_table(cdf)):
        u = np.random.default_rng(seed + 100).random(5000)
        np.testing.assert_array_equal(inverse_cdf(cdf, u, table), expected)
    assert set(np.unique(expected)) <= set(np.flatnonzero(weights))


def test_inverse_cdf_on_bucket_edges_and_cdf_steps() -> None:
    rng = np.random.default_rng(3)
    cdf = choice_cdf(rng.random(37))
    edges = np.arange(CDF_BUCKETS) / CDF_BUCKETS
    # Draws exactly on bucket edges, on the CDF's steps, and just below and above them.
    steps = cdf[:-1]
    u = np.concatenate([edges, steps, np.nextafter(steps, 0), np.nextafter(steps, 1), [0.0]])
    u = u[u < 1]
    np.testing.assert_array_equal(
        inverse_cdf(cdf, u, cdf_table(cdf)), cdf.searchsorted(u, side="right")
    )
    one = choice_cdf(np.array([1.0]))
    assert (inverse_cdf(one, rng.random(100), cdf_table(one)) == 0).all()


def test_float32_weights_draw_what_generator_choice_draws() -> None:
    """Generator.choice works in float64 whatever the weights' type; so must the CDF (the
    engine's discovery weights are float32 content qualities)."""
    rng = np.random.default_rng(5)
    weights = rng.random(300).astype(np.float32)
    p = weights / weights.sum()
    expected = np.random.default_rng(6).choice(len(p), 200_000, p=p)
    cdf = choice_cdf(p)
    assert cdf.dtype == np.float64
    for table in (None, cdf_table(cdf)):
        u = np.random.default_rng(6).random(200_000)
        np.testing.assert_array_equal(inverse_cdf(cdf, u, table), expected)


NEEDS_NUMBA = pytest.mark.skipif(find_spec("numba") is None, reason="needs numba")
COMPILED = [False, pytest.param(True, marks=NEEDS_NUMBA)]


@pytest.mark.parametrize("compiled", COMPILED)
@pytest.mark.parametrize("replications", [1, 3, 8])
def test_uniforms_are_each_generators_own_numbers_in_order(
    replications: int, compiled: bool
) -> None:
    """Small takes (from the pool, refilled many times) and large ones (drawn in place), or
    the compiled draws, give every replication exactly the numbers numpy's SFC64 generator
    of its seed gives call by call."""
    sizes = np.random.default_rng(0)
    seeds = [np.random.SeedSequence(s) for s in range(replications)]
    pool = Uniforms(seeds, compiled=compiled)
    alone = [np.random.Generator(np.random.SFC64(s)) for s in seeds]
    for take in range(300):
        high = 2 * Uniforms.direct if take % 7 == 0 else 30
        counts = sizes.integers(0, high, replications)
        want = np.concatenate(
            [np.zeros(0)] + [g.random(int(k)) for g, k in zip(alone, counts, strict=True)]
        )
        np.testing.assert_array_equal(pool.take(counts), want)


@pytest.mark.parametrize("compiled", COMPILED)
def test_float32_uniforms_are_the_generators_own_and_keep_the_half_word(compiled: bool) -> None:
    """float32 takes of odd sizes (each 64-bit output gives two numbers, the second kept for
    the next take) are numpy's ``random(dtype=np.float32)`` call by call, also when a
    stream mixes them with doubles (which skip the kept half)."""
    sizes = np.random.default_rng(1)
    seeds = [np.random.SeedSequence(s, spawn_key=(4,)) for s in range(5)]
    streams = Uniforms(seeds, compiled=compiled)
    alone = [generator(s) for s in seeds]
    for take in range(200):
        counts = sizes.integers(0, 40, len(seeds))
        if compiled and take % 3 == 2:
            got = streams.take(counts)
            want = [g.random(int(k)) for g, k in zip(alone, counts, strict=True)]
        else:
            got = streams.take32(counts)
            want = [g.random(int(k), dtype=np.float32) for g, k in zip(alone, counts, strict=True)]
        assert got.dtype == want[0].dtype
        np.testing.assert_array_equal(got, np.concatenate(want))


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


@pytest.mark.parametrize("compiled", COMPILED)
def test_uniforms_refuse_what_would_break_their_streams(compiled: bool) -> None:
    seeds = [np.random.SeedSequence(s) for s in range(3)]
    streams = Uniforms(seeds, compiled=compiled)
    if compiled:
        # The kernels do not check bounds: a count per stream, no more and no fewer.
        with pytest.raises(ValueError, match="2 counts for 3 streams"):
            streams.take(np.array([1, 2]))
    else:
        # float32 numbers after doubles drawn ahead would come out of order.
        streams.take(np.array([1, 2, 3]))
        with pytest.raises(RuntimeError, match="drawn ahead"):
            streams.take32(np.array([1, 1, 1]))
