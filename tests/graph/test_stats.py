"""Graph statistics against independent computations."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
import numpy as np
import pytest

from laotie import graph
from laotie.graph.stats import average_clustering, fit_power_law_tail


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
