"""Summary statistics of a trust graph, for checking a graph against calibration targets.

The follower tail exponent is fitted with the method of Clauset, Shalizi and Newman (2009):
for each candidate lower bound ``x_min`` the continuous maximum-likelihood (Hill) estimate of
the CCDF slope ``alpha`` is computed with :func:`scipy.stats.pareto.fit`, and the ``x_min``
whose fitted power law is closest to the data in Kolmogorov–Smirnov distance is kept.

References
----------
A. Clauset, C. R. Shalizi, M. E. J. Newman (2009), Power-law distributions in empirical data,
SIAM Review 51(4), 661–703.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._random import SeedLike, as_generator
from ._core import CITY, CREATOR_KINDS, FOLLOW, LAYERS, LOCAL, TrustGraph

__all__ = ["GraphStats", "TailFit", "average_clustering", "fit_power_law_tail", "graph_stats"]

TAIL_METHOD = (
    "continuous MLE (Hill) above x_min, x_min by minimum KS distance (Clauset et al. 2009)"
)


@dataclass(frozen=True)
class TailFit:
    """A power-law fit of a distribution's upper tail: ``P(X ≥ x) ∝ x**-alpha`` for x ≥ x_min.

    Attributes
    ----------
    alpha : float
        The CCDF slope (NaN when there were too few values to fit).
    x_min : float
        Where the tail starts.
    n_tail : int
        Observations at or above ``x_min``.
    ks_distance : float
        Kolmogorov–Smirnov distance between the tail and the fitted law.
    method : str
        How the fit was made.
    """

    alpha: float
    x_min: float
    n_tail: int
    ks_distance: float
    method: str = TAIL_METHOD

    @property
    def alpha_stderr(self) -> float:
        """Asymptotic standard error of ``alpha``: ``alpha / sqrt(n_tail)``."""
        return self.alpha / np.sqrt(self.n_tail) if self.n_tail else float("nan")


def fit_power_law_tail(values: Any, *, min_tail: int = 50, n_candidates: int = 100) -> TailFit:
    """Fit the CCDF slope of the upper tail of positive ``values``.

    Parameters
    ----------
    values : array-like of float
        Observations; values ≤ 0 are ignored.
    min_tail : int
        Smallest number of observations above a candidate ``x_min``.
    n_candidates : int
        At most this many candidate ``x_min`` values (quantiles of the data) are tried.

    Returns
    -------
    TailFit
        With ``alpha`` NaN when fewer than ``min_tail`` positive values are given.

    Examples
    --------
    >>> import numpy as np
    >>> x = 10 * (1 - np.random.default_rng(0).random(5000)) ** (-1 / 1.5)
    >>> round(fit_power_law_tail(x).alpha, 1)
    1.5
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    x = x[x > 0]
    if len(x) < min_tail:
        return TailFit(float("nan"), float("nan"), 0, float("nan"))
    candidates = np.unique(x[: len(x) - min_tail + 1])
    if len(candidates) > n_candidates:
        candidates = np.unique(np.quantile(candidates, np.linspace(0, 1, n_candidates)))
        candidates = candidates[np.searchsorted(x, candidates) <= len(x) - min_tail]
    # scipy.stats is imported here, not at module level: it costs about a second, most of
    # ``import laotie``, and only the tail fit needs it.
    import scipy.stats

    best: TailFit | None = None
    for x_min in candidates:
        tail = x[np.searchsorted(x, x_min) :]
        if np.all(tail == x_min):
            continue
        alpha, _, _ = scipy.stats.pareto.fit(tail, floc=0, fscale=x_min)
        ks = scipy.stats.kstest(tail, scipy.stats.pareto(alpha, scale=x_min).cdf).statistic
        if best is None or ks < best.ks_distance:
            best = TailFit(float(alpha), float(x_min), len(tail), float(ks))
    return best if best is not None else TailFit(float("nan"), float("nan"), 0, float("nan"))


def average_clustering(pattern: sp.csr_array, nodes: np.ndarray | None = None) -> float:
    """Average local clustering coefficient of an undirected graph over ``nodes``.

    Parameters
    ----------
    pattern : scipy.sparse.csr_array
        A symmetric pattern without self-loops (values other than 0 count as ties).
    nodes : numpy.ndarray, optional
        The nodes to average over (default: all).

    Returns
    -------
    float
        The mean of the nodes' clustering coefficients; nodes of degree below 2 count as 0,
        as in :func:`networkx.average_clustering`. NaN for no nodes.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> triangle = sp.csr_array(np.ones((3, 3)) - np.eye(3))
    >>> average_clustering(triangle)
    1.0
    """
    n = pattern.shape[0]
    nodes = np.arange(n) if nodes is None else np.asarray(nodes)
    if len(nodes) == 0:
        return float("nan")
    binary = pattern.astype(bool).astype(np.float64)
    rows = binary[nodes]
    # Row i of rows @ binary counts, for each node, the neighbours of i it is linked to.
    links = (rows @ binary).multiply(rows).sum(axis=1) / 2
    degree = np.diff(rows.indptr)
    possible = degree * (degree - 1) / 2
    local = np.divide(links, possible, out=np.zeros(len(nodes)), where=possible > 0)
    return float(local.mean())


@dataclass
class GraphStats:
    """Statistics of a :class:`TrustGraph` (see :func:`graph_stats`); prints as a table.

    Attributes
    ----------
    values : dict of str to value
        Statistic name to value, in the order :func:`graph_stats` reports them; also
        readable as ``stats["residents"]``.
    follower_fit : TailFit or None
        The power-law fit of the follower counts' tail.
    """

    values: dict[str, Any] = field(default_factory=dict)
    follower_fit: TailFit | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def to_frame(self) -> Any:
        """The statistics as a table.

        Returns
        -------
        pandas.DataFrame
            Two columns: ``statistic`` and ``value``.
        """
        import pandas as pd

        return pd.DataFrame({"statistic": list(self.values), "value": list(self.values.values())})

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        width = max(len(k) for k in self.values)
        lines = [f"{k:<{width}}  {_fmt(v)}" for k, v in self.values.items()]
        if self.follower_fit is not None:
            lines.append(f"{'follower tail method':<{width}}  {self.follower_fit.method}")
        return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        number = float(value)
        if not np.isfinite(number):
            return "n/a"
        return f"{number:,.4g}" if abs(number) < 1e5 else f"{number:,.0f}"
    return str(value)


def graph_stats(
    graph: TrustGraph, *, clustering_sample: int = 2000, seed: SeedLike = 0
) -> GraphStats:
    """Summary statistics of ``graph``.

    Reported: nodes, users and their share, rural share, creators per kind; edges and mean
    out-degree per layer; the distribution of trust degree (local and city ties); follower
    counts (mean, percentiles, largest share of users, fitted tail exponent and its standard
    error); average clustering of the undirected local-and-city graph, overall and restricted
    to ties inside regions, on a random sample of ``clustering_sample`` nodes (all nodes when
    the graph is smaller); the share of local-and-city ties inside regions; mean trust per
    layer.

    Parameters
    ----------
    graph : TrustGraph
        The graph to describe.
    clustering_sample : int, default 2000
        Nodes sampled to estimate the clustering.
    seed : int, SeedSequence, Generator or None, default 0
        Seeds the sample of nodes.

    Returns
    -------
    GraphStats

    Examples
    --------
    >>> from laotie.graph import mudanjiang
    >>> graph_stats(mudanjiang(scale=0.001, seed=1))["residents"]
    2540
    """
    rng = as_generator(seed)
    # Shares and degrees are over the residents (creators outside the city are not).
    resident = graph.resident
    n = graph.n_residents
    n_users = int(graph.user.sum())
    v: dict[str, Any] = {
        "residents": n,
        "regions": graph.n_regions,
        "users": n_users,
        "user share": n_users / n if n else float("nan"),
        "rural share": float(graph.rural[resident].mean()) if n else float("nan"),
        "migrant share": float((graph.hometown != graph.region)[resident].mean())
        if n
        else float("nan"),
    }
    for code, kind in enumerate(CREATOR_KINDS[1:], start=1):
        v[f"creators: {kind}"] = int((graph.creator_kind == code).sum())

    src = graph.sources()
    layer_counts = np.bincount(graph.layer, minlength=len(LAYERS))
    for code, name in enumerate(LAYERS):
        v[f"edges: {name}"] = int(layer_counts[code])
    v["mean local ties per resident"] = layer_counts[LOCAL] / n if n else float("nan")
    v["mean city ties per resident"] = layer_counts[CITY] / n if n else float("nan")
    v["mean follows per user"] = layer_counts[FOLLOW] / n_users if n_users else float("nan")

    social = graph.layer != FOLLOW
    degree = np.bincount(src[social], minlength=graph.n_nodes)[resident]
    if n:
        for q, value in zip((10, 50, 90, 99), np.percentile(degree, (10, 50, 90, 99)), strict=True):
            v[f"trust degree p{q}"] = float(value)
        v["trust degree max"] = int(degree.max())
    same_region = graph.region[src[social]] == graph.region[graph.indices[social]]
    v["share of ties inside regions"] = (
        float(same_region.mean()) if same_region.size else float("nan")
    )

    followers = graph.followers()
    creators = graph.creators()
    creators = creators[resident[creators]]  # the city's own (outside ones: their kind's count)
    fit = None
    if creators.size:
        counts = followers[creators]
        v["followers mean"] = float(counts.mean())
        for q, value in zip((50, 90, 99), np.percentile(counts, (50, 90, 99)), strict=True):
            v[f"followers p{q}"] = float(value)
        v["followers max"] = int(counts.max())
        v["followers max share of users"] = counts.max() / n_users if n_users else float("nan")
        fit = fit_power_law_tail(counts)
        v["follower tail exponent"] = fit.alpha
        v["follower tail exponent s.e."] = fit.alpha_stderr
        v["follower tail x_min"] = fit.x_min
        v["follower tail size"] = fit.n_tail

    if n:
        sample = n if clustering_sample >= n else clustering_sample
        nodes = np.sort(rng.choice(n, size=sample, replace=False))
        undirected = _undirected(graph, social)
        v["clustering (sampled)"] = average_clustering(undirected, nodes)
        inside = social.copy()
        inside[social] = same_region
        v["clustering inside regions (sampled)"] = average_clustering(
            _undirected(graph, inside), nodes
        )
        v["clustering sample size"] = sample
    for code, name in enumerate(LAYERS):
        mask = graph.layer == code
        v[f"mean trust: {name}"] = float(graph.trust[mask].mean()) if mask.any() else float("nan")
    return GraphStats(v, fit)


def _undirected(graph: TrustGraph, keep: np.ndarray) -> sp.csr_array:
    n = graph.n_nodes
    counts = np.bincount(graph.sources()[keep], minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    directed = sp.csr_array(
        (np.ones(int(keep.sum()), dtype=np.int8), graph.indices[keep], indptr), shape=(n, n)
    )
    both = directed + directed.T.tocsr()
    both.data[:] = 1
    return both
