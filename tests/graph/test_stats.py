"""Graph statistics against independent computations."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from laotie import graph
from laotie._random import as_generator
from laotie.graph import TrustGraph
from laotie.graph.codes import FOLLOW, LAYERS, LOCAL
from laotie.graph.stats import (
    _edge_pass,
    _pareto_fit,
    _ties_into,
    average_clustering,
    fit_power_law_tail,
)


def test_clustering_matches_networkx(small_city: graph.TrustGraph) -> None:
    social = small_city.adjacency(["local", "city"])
    undirected = nx.Graph()
    undirected.add_nodes_from(range(small_city.n_nodes))
    undirected.add_edges_from(zip(*social.nonzero(), strict=True))
    pattern = nx.to_scipy_sparse_array(undirected, nodelist=range(small_city.n_nodes), format="csr")
    expected = nx.average_clustering(undirected)
    assert average_clustering(pattern) == pytest.approx(expected, rel=1e-12)
    # graph_stats takes every node when the sample is at least the graph's size.
    assert small_city.stats(clustering_sample=10_000)["clustering (sampled)"] == pytest.approx(
        expected, rel=1e-12
    )


def test_clustering_of_known_graphs() -> None:
    complete = nx.to_scipy_sparse_array(nx.complete_graph(6), format="csr")
    star = nx.to_scipy_sparse_array(nx.star_graph(5), format="csr")
    assert average_clustering(complete) == 1.0
    assert average_clustering(star) == 0.0


@pytest.mark.parametrize("alpha", [1.1, 1.5, 2.5])
def test_tail_fit_recovers_a_pure_power_law(alpha: float) -> None:
    rng = np.random.default_rng(42)
    sample = 10 * (1 - rng.random(5000)) ** (-1 / alpha)
    fit = fit_power_law_tail(sample)
    # The KS-chosen x_min may cut the sample; the MLE's standard error is alpha / sqrt(n_tail).
    assert abs(fit.alpha - alpha) <= 4 * alpha / np.sqrt(fit.n_tail)
    assert fit.x_min < 30


def test_tail_fit_finds_the_tail_above_a_different_body() -> None:
    rng = np.random.default_rng(7)
    body = rng.uniform(1, 100, 3000)
    tail = 100 * (1 - rng.random(3000)) ** (-1 / 1.3)
    fit = fit_power_law_tail(np.concatenate([body, tail]))
    assert 60 <= fit.x_min <= 160
    assert abs(fit.alpha - 1.3) <= 4 * 1.3 / np.sqrt(fit.n_tail)


@pytest.mark.parametrize("seed", range(8))
def test_the_tail_fit_is_scipys_float_for_float(seed: int) -> None:
    # The closed forms of scipy.stats.pareto.fit (location and scale fixed) and kstest, without
    # importing scipy.stats: the same floats at every candidate x_min, so the same fit.
    import scipy.stats

    rng = np.random.default_rng(seed)
    n = int(rng.integers(60, 5000))
    values = [
        rng.uniform(1, 50) * (1 - rng.random(n)) ** (-1 / rng.uniform(0.8, 3)),
        rng.lognormal(rng.uniform(0, 4), rng.uniform(0.3, 2), n),
        np.floor(5 * (1 - rng.random(n)) ** (-1 / rng.uniform(0.8, 2))),  # ties, as counts
    ][seed % 3]
    x = np.sort(values)
    for x_min in np.unique(np.quantile(x[: len(x) - 50], np.linspace(0, 1, 30))):
        tail = x[np.searchsorted(x, x_min) :]
        if np.all(tail == x_min):
            continue
        alpha, _, _ = scipy.stats.pareto.fit(tail, floc=0, fscale=x_min)
        ks = scipy.stats.kstest(tail, scipy.stats.pareto(alpha, scale=x_min).cdf).statistic
        assert _pareto_fit(tail, x_min) == (float(alpha), float(ks))


def test_tail_fit_of_too_few_values_is_nan() -> None:
    fit = fit_power_law_tail([1.0, 2.0, 3.0])
    assert np.isnan(fit.alpha) and fit.n_tail == 0


def test_counts_agree_with_the_arrays(small_city: graph.TrustGraph) -> None:
    stats = small_city.stats()
    g = small_city
    assert stats["edges: local"] + stats["edges: city"] + stats["edges: follow"] == g.n_edges
    assert stats["users"] == int(g.user.sum())
    src, dst = g.sources(), g.indices
    social = g.layer != 2
    inside = (
        sum(g.region[s] == g.region[d] for s, d in zip(src[social], dst[social], strict=True))
        / social.sum()
    )
    assert stats["share of ties inside regions"] == pytest.approx(inside)
    assert stats["followers max"] == g.followers().max()
    frame = stats.to_frame()
    assert list(frame.columns) == ["statistic", "value"]
    assert "follower tail exponent" in str(stats)


def test_importing_laotie_does_not_import_scipy_stats() -> None:
    # scipy.stats takes about a second to import; the tail fit and the t quantiles import it
    # when first called.
    code = "import sys, laotie; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the compiled statistics against independent computations ---------------------------------


def directed_graph(seed: int, n: int = 300, ties: int = 2400, creators: int = 6) -> TrustGraph:
    """A random graph with one-way and mutual local and city ties over three regions, and
    follows to a few creators: what the CSR kernels must read without assuming symmetry."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, ties)
    dst = rng.integers(0, n, ties)
    mutual = rng.random(ties) < 0.3
    src, dst = np.concatenate([src, dst[mutual]]), np.concatenate([dst, src[mutual]])
    pairs = np.unique(np.stack([src, dst], axis=1)[src != dst], axis=0)
    layer = rng.integers(0, 2, len(pairs))  # local or city
    kind = np.zeros(n, np.int8)
    kind[rng.choice(n, creators, replace=False)] = 2
    followed = np.flatnonzero(kind)
    follows = np.stack([rng.integers(0, n, 400), rng.choice(followed, 400)], axis=1)
    follows = np.unique(follows[follows[:, 0] != follows[:, 1]], axis=0)
    taken = {tuple(p) for p in pairs}
    follows = np.array([f for f in follows if tuple(f) not in taken])
    src = np.concatenate([pairs[:, 0], follows[:, 0]])
    dst = np.concatenate([pairs[:, 1], follows[:, 1]])
    layer = np.concatenate([layer, np.full(len(follows), FOLLOW)])
    return TrustGraph.from_edges(
        n,
        src,
        dst,
        rng.uniform(0.05, 1, len(src)),
        layer,
        region=rng.integers(0, 3, n).astype(np.int16),
        creator_kind=kind,
        region_names=("a", "b", "c"),
    )


def networkx_clustering(g: TrustGraph, nodes: np.ndarray, *, inside: bool = False) -> np.ndarray:
    """The local clustering of ``nodes`` in the undirected graph of the local and city ties
    (only those inside regions with ``inside``), by networkx."""
    src = g.sources()
    keep = g.layer != FOLLOW
    if inside:
        keep &= g.region[src] == g.region[g.indices]
    undirected = nx.Graph()
    undirected.add_nodes_from(range(g.n_nodes))
    undirected.add_edges_from(zip(src[keep].tolist(), g.indices[keep].tolist(), strict=True))
    by_node = nx.clustering(undirected, nodes.tolist())
    return np.array([by_node[i] for i in nodes.tolist()])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_clustering_of_one_way_ties_matches_networkx(seed: int) -> None:
    g = directed_graph(seed)
    stats = g.stats(clustering_sample=g.n_nodes)
    everyone = np.arange(g.n_nodes)
    assert stats["clustering (sampled)"] == pytest.approx(
        networkx_clustering(g, everyone).mean(), rel=1e-12
    )
    assert stats["clustering inside regions (sampled)"] == pytest.approx(
        networkx_clustering(g, everyone, inside=True).mean(), rel=1e-12
    )
    # Exact: no sampling error, and the output says so.
    assert stats["clustering s.e."] == 0.0
    assert stats["clustering inside regions s.e."] == 0.0
    assert stats["clustering method"] == f"exact: all {g.n_nodes:,} residents"


def test_sampled_clustering_and_its_standard_error(small_city: TrustGraph) -> None:
    n, size = small_city.n_residents, 400
    stats = small_city.stats(clustering_sample=size, seed=5)
    nodes = np.sort(as_generator(5).choice(n, size=size, replace=False))
    correction = np.sqrt(1 - size / n)
    for key, inside in (("clustering", False), ("clustering inside regions", True)):
        local = networkx_clustering(small_city, nodes, inside=inside)
        assert stats[f"{key} (sampled)"] == pytest.approx(local.mean(), rel=1e-12)
        expected = local.std(ddof=1) / np.sqrt(size) * correction
        assert stats[f"{key} s.e."] == pytest.approx(expected, rel=1e-12)
    assert stats["clustering sample size"] == size
    assert "400 of 2,540 residents sampled without replacement" in str(stats)


def test_sampled_clustering_is_within_its_error_of_the_exact(small_city: TrustGraph) -> None:
    exact = small_city.stats(clustering_sample=small_city.n_residents)
    for seed in range(5):
        sampled = small_city.stats(clustering_sample=300, seed=seed)
        for key in ("clustering", "clustering inside regions"):
            error = abs(sampled[f"{key} (sampled)"] - exact[f"{key} (sampled)"])
            assert error <= 4 * sampled[f"{key} s.e."]


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_degrees_and_followers_of_one_way_ties(seed: int) -> None:
    g = directed_graph(seed)
    stats = g.stats()
    src, social = g.sources(), g.layer != FOLLOW
    degree = np.bincount(src[social], minlength=g.n_nodes)
    for q in (10, 50, 90, 99):
        assert stats[f"trust degree p{q}"] == np.percentile(degree, q)
    assert stats["trust degree max"] == degree.max()
    inside = g.region[src[social]] == g.region[g.indices[social]]
    assert stats["share of ties inside regions"] == inside.mean()
    followers = np.bincount(g.indices[~social], minlength=g.n_nodes)[g.creators()]
    assert stats["followers max"] == followers.max()
    assert stats["followers mean"] == pytest.approx(followers.mean(), rel=1e-12)
    for code, name in enumerate(LAYERS):
        mask = g.layer == code
        assert stats[f"edges: {name}"] == mask.sum()
        mean = np.mean(g.trust[mask], dtype=np.float64)
        assert stats[f"mean trust: {name}"] == pytest.approx(mean, rel=1e-12)


def test_ties_into_the_sample_when_the_room_is_too_small() -> None:
    g = directed_graph(4)
    sampled = np.zeros(g.n_nodes, bool)
    sampled[[0, 7, 150, 299]] = True
    args = (g.indptr, g.indices, g.trust, g.layer, g.region, sampled)
    *_, targets, sources, found = _edge_pass(*args, g.n_edges)
    assert _edge_pass(*args, 0)[-1] == found
    again = _ties_into(g.indptr, g.indices, g.layer, sampled, found)
    assert sorted(zip(*again, strict=True)) == sorted(
        zip(targets[:found], sources[:found], strict=True)
    )
    src = g.sources()
    into = sampled[g.indices] & (g.layer != FOLLOW)
    assert sorted(zip(g.indices[into], src[into], strict=True)) == sorted(zip(*again, strict=True))


def test_a_hub_with_many_ties_in_and_none_out() -> None:
    # Node 0 is trusted, one way, by everyone else, who trust their ring neighbours both ways:
    # 0's ties in far exceed what its ties out make room for.
    n = 3000
    leaves = np.arange(1, n)
    ring = np.roll(leaves, 1)
    src = np.concatenate([leaves, leaves, ring])
    dst = np.concatenate([np.zeros(n - 1, int), ring, leaves])
    g = TrustGraph.from_edges(n, src, dst, np.full(len(src), 0.5), np.full(len(src), LOCAL))
    stats = g.stats(clustering_sample=n)
    expected = networkx_clustering(g, np.arange(n)).mean()
    assert stats["clustering (sampled)"] == pytest.approx(expected, rel=1e-12)
    assert stats["trust degree max"] == 3


def _transposed_undirected(g: TrustGraph, keep: np.ndarray) -> sp.csr_array:
    """The undirected pattern as laotie built it before the compiled statistics (the graph
    plus its transpose), the reference of the next test."""
    n = g.n_nodes
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(g.sources()[keep], minlength=n), out=indptr[1:])
    directed = sp.csr_array(
        (np.ones(int(keep.sum()), dtype=np.int8), g.indices[keep], indptr), shape=(n, n)
    )
    both = directed + directed.T.tocsr()
    both.data[:] = 1
    return both


def test_a_city_of_100k_as_the_transposing_implementation_gave(city_100k: TrustGraph) -> None:
    g = city_100k
    stats = g.stats(seed=9)
    nodes = np.sort(as_generator(9).choice(g.n_residents, size=2000, replace=False))
    src, social = g.sources(), g.layer != FOLLOW
    inside = social.copy()
    inside[social] = g.region[src[social]] == g.region[g.indices[social]]
    assert stats["clustering (sampled)"] == average_clustering(
        _transposed_undirected(g, social), nodes
    )
    assert stats["clustering inside regions (sampled)"] == average_clustering(
        _transposed_undirected(g, inside), nodes
    )
    degree = np.bincount(src[social], minlength=g.n_nodes)[g.resident]
    assert [stats[f"trust degree p{q}"] for q in (10, 50, 90, 99)] == list(
        np.percentile(degree, (10, 50, 90, 99))
    )
    assert stats["share of ties inside regions"] == inside[social].mean()
    creators = g.creators()[g.resident[g.creators()]]
    counts = g.followers()[creators]
    assert stats["followers p99"] == np.percentile(counts, 99)
    assert stats["follower tail exponent"] == fit_power_law_tail(counts).alpha
    for code, name in enumerate(LAYERS):
        # float32 means (numpy's) before; the sums are now in float64.
        assert stats[f"mean trust: {name}"] == pytest.approx(
            float(g.trust[g.layer == code].mean()), rel=1e-6
        )
