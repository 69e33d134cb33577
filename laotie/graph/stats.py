"""Summary statistics of a trust graph, for checking a graph against calibration targets.

The follower tail exponent is fitted with the method of Clauset, Shalizi and Newman (2009):
for each candidate lower bound ``x_min`` the continuous maximum-likelihood (Hill) estimate of
the CCDF slope ``alpha`` is computed (in closed form, as :func:`scipy.stats.pareto.fit` does
with the location and scale fixed), and the ``x_min`` whose fitted power law is closest to
the data in Kolmogorov–Smirnov distance is kept.

References
----------
A. Clauset, C. R. Shalizi, M. E. J. Newman (2009), Power-law distributions in empirical data,
SIAM Review 51(4), 661–703.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

from .._random import SeedLike, as_generator
from ._core import TrustGraph
from .codes import CITY, CREATOR_KINDS, FOLLOW, LAYERS, LOCAL, NOT_CREATOR

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
    best: TailFit | None = None
    for x_min in candidates:
        tail = x[np.searchsorted(x, x_min) :]
        if np.all(tail == x_min):
            continue
        alpha, ks = _pareto_fit(tail, x_min)
        if best is None or ks < best.ks_distance:
            best = TailFit(float(alpha), float(x_min), len(tail), float(ks))
    return best if best is not None else TailFit(float("nan"), float("nan"), 0, float("nan"))


def _pareto_fit(tail: np.ndarray, x_min: float) -> tuple[float, float]:
    """The maximum-likelihood CCDF slope of the sorted ``tail`` (values ≥ ``x_min``) and the
    Kolmogorov–Smirnov distance between it and the fitted law.

    The numbers of ``scipy.stats.pareto.fit(tail, floc=0, fscale=x_min)`` and of
    ``scipy.stats.kstest`` against that law, float for float (the closed form both compute;
    tests/graph/test_stats.py checks it), without importing scipy.stats, which takes 0.6 s:
    a third of the whole city's statistics."""
    n = len(tail)
    z = tail / x_min
    alpha = n / np.sum(np.log(z))
    # The law's CDF, 0 at the lower end of its support (scipy's convention).
    cdf = np.zeros(n)
    above = z > 1
    cdf[above] = 1 - z[above] ** (-alpha)
    d_plus = (np.arange(1.0, n + 1) / n - cdf).max()
    d_minus = (cdf - np.arange(0.0, n) / n).max()
    return float(alpha), float(max(d_plus, d_minus))


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
    to ties inside regions, with their standard errors; the share of local-and-city ties
    inside regions; mean trust per layer.

    Everything is exact except the clustering, which is the mean local clustering coefficient
    of ``clustering_sample`` residents drawn at random without replacement (seeded by
    ``seed``); its standard error is the sample's standard deviation over the square root of
    its size, with the finite-population correction ``sqrt(1 - sample / residents)``, so it
    is 0 when every resident is taken (a graph of at most ``clustering_sample`` residents,
    whose clustering is then exact).

    The statistics are computed on the graph's CSR arrays in one compiled pass over the ties
    and a visit of the sampled residents' neighbourhoods (no transposed or symmetrised copy of
    the graph): the whole of Mudanjiang (2.54 M residents, 155 M ties) in about 2 s and
    under 0.1 GB beyond the graph (``python -m benchmarks.graph_stats``).

    Parameters
    ----------
    graph : TrustGraph
        The graph to describe.
    clustering_sample : int, default 2000
        Residents sampled to estimate the clustering (all of them when the graph has no more).
    seed : int, SeedSequence, Generator or None, default 0
        Seeds the sample of residents.

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

    sample = min(n, clustering_sample)
    nodes = np.sort(rng.choice(n, size=sample, replace=False)) if n else np.zeros(0, np.int64)
    sampled = np.zeros(graph.n_nodes, dtype=np.bool_)
    sampled[nodes] = True
    # Room for the ties into the sampled nodes: twice their ties out (the social ties are
    # mostly mutual); a second pass collects them when there are more.
    room = min(graph.n_edges, 2 * int((graph.indptr[nodes + 1] - graph.indptr[nodes]).sum()) + 1024)
    counts, trust_sums, degree, followers, inside, in_target, in_source, found = _edge_pass(
        graph.indptr, graph.indices, graph.trust, graph.layer, graph.region, sampled, room
    )
    if found > room:
        in_target, in_source = _ties_into(graph.indptr, graph.indices, graph.layer, sampled, found)
    else:
        in_target, in_source = in_target[:found], in_source[:found]
    del sampled
    for code, name in enumerate(LAYERS):
        v[f"edges: {name}"] = int(counts[code])
    v["mean local ties per resident"] = counts[LOCAL] / n if n else float("nan")
    v["mean city ties per resident"] = counts[CITY] / n if n else float("nan")
    v["mean follows per user"] = counts[FOLLOW] / n_users if n_users else float("nan")

    degree = degree[resident]
    if n:
        for q, value in zip((10, 50, 90, 99), np.percentile(degree, (10, 50, 90, 99)), strict=True):
            v[f"trust degree p{q}"] = float(value)
        v["trust degree max"] = int(degree.max())
    social = int(counts.sum() - counts[FOLLOW])
    v["share of ties inside regions"] = inside / social if social else float("nan")

    creators = np.flatnonzero((graph.creator_kind != NOT_CREATOR) & resident)
    fit = None
    if creators.size:  # the city's own (outside ones: their kind's count)
        follower_counts = followers[creators]
        v["followers mean"] = float(follower_counts.mean())
        for q, value in zip(
            (50, 90, 99), np.percentile(follower_counts, (50, 90, 99)), strict=True
        ):
            v[f"followers p{q}"] = float(value)
        v["followers max"] = int(follower_counts.max())
        v["followers max share of users"] = (
            follower_counts.max() / n_users if n_users else float("nan")
        )
        fit = fit_power_law_tail(follower_counts)
        v["follower tail exponent"] = fit.alpha
        v["follower tail exponent s.e."] = fit.alpha_stderr
        v["follower tail x_min"] = fit.x_min
        v["follower tail size"] = fit.n_tail

    if n:
        # The sampled nodes' in-neighbours by the social layers, grouped by sampled node.
        order = np.argsort(in_target, kind="stable")
        position = np.searchsorted(nodes, in_target[order])
        in_indptr = np.zeros(sample + 1, dtype=np.int64)
        np.cumsum(np.bincount(position, minlength=sample), out=in_indptr[1:])
        local, local_inside = _local_clustering(
            graph.indptr,
            graph.indices,
            graph.layer,
            graph.region,
            nodes,
            in_indptr,
            in_source[order],
        )
        exact = sample == n
        v["clustering (sampled)"] = float(local.mean()) if sample else float("nan")
        v["clustering s.e."] = _sample_stderr(local, n)
        v["clustering inside regions (sampled)"] = (
            float(local_inside.mean()) if sample else float("nan")
        )
        v["clustering inside regions s.e."] = _sample_stderr(local_inside, n)
        v["clustering sample size"] = sample
        v["clustering method"] = (
            f"exact: all {n:,} residents"
            if exact
            else f"{sample:,} of {n:,} residents sampled without replacement; s.e. with the "
            "finite-population correction"
        )
    for code, name in enumerate(LAYERS):
        v[f"mean trust: {name}"] = (
            float(trust_sums[code] / counts[code]) if counts[code] else float("nan")
        )
    return GraphStats(v, fit)


def _sample_stderr(values: np.ndarray, population: int) -> float:
    """Standard error of the mean of ``values``, a sample drawn without replacement from
    ``population`` units: 0 for the whole population, NaN for a single value."""
    size = len(values)
    if size == population:
        return 0.0
    if size < 2:
        return float("nan")
    return float(values.std(ddof=1) / np.sqrt(size) * np.sqrt(1 - size / population))


@numba.njit(cache=True, nogil=True)
def _edge_pass(indptr, indices, trust, layer, region, sampled, capacity):  # type: ignore[no-untyped-def]
    """One pass over the ties: per layer (local, city, follow), the count and the sum of
    trust; per node, the out-degree by the social (local and city) layers and the followers;
    the number of social ties inside regions; and the social ties into the ``sampled`` nodes
    (target, source), in arrays of ``capacity`` entries, with how many there are (the arrays
    hold them all if there are at most ``capacity``).

    Written for speed (about 0.9 s for the 155 M ties of the whole city): the per-layer sums
    are kept in scalars, summed per row and selected without branches, since an array
    indexed by the layer code costs a dependency through memory at every tie (5 s)."""
    n = len(indptr) - 1
    n_city = 0
    n_follow = 0
    sum_all = 0.0
    sum_city = 0.0
    sum_follow = 0.0
    degree = np.zeros(n, dtype=np.int32)
    followers = np.zeros(n, dtype=np.int64)
    inside = 0
    targets = np.empty(capacity, dtype=np.int32)
    sources = np.empty(capacity, dtype=np.int32)
    found = 0
    for i in range(n):
        home = region[i]
        social = 0
        row_all = 0.0
        row_city = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            code = layer[k]
            j = indices[k]
            t = np.float64(trust[k])
            row_all += t
            if code == FOLLOW:
                n_follow += 1
                sum_follow += t
                followers[j] += 1
                continue
            city = code == CITY
            n_city += city
            row_city += t if city else 0.0
            social += 1
            inside += region[j] == home
            if sampled[j]:
                if found < capacity:
                    targets[found] = j
                    sources[found] = i
                found += 1
        sum_all += row_all
        sum_city += row_city
        degree[i] = social
    counts = np.zeros(3, dtype=np.int64)
    sums = np.zeros(3)
    counts[LOCAL] = len(indices) - n_city - n_follow
    counts[CITY] = n_city
    counts[FOLLOW] = n_follow
    sums[LOCAL] = sum_all - sum_city - sum_follow
    sums[CITY] = sum_city
    sums[FOLLOW] = sum_follow
    return counts, sums, degree, followers, inside, targets, sources, found


@numba.njit(cache=True, nogil=True)
def _ties_into(indptr, indices, layer, sampled, found):  # type: ignore[no-untyped-def]
    """The ``found`` social ties into the ``sampled`` nodes (target, source): what
    :func:`_edge_pass` gives when its room was too small."""
    targets = np.empty(found, dtype=np.int32)
    sources = np.empty(found, dtype=np.int32)
    m = 0
    for i in range(len(indptr) - 1):
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if layer[k] != FOLLOW and sampled[j]:
                targets[m] = j
                sources[m] = i
                m += 1
    return targets, sources


@numba.njit(cache=True, nogil=True)
def _social_tie(indptr, indices, layer, u, w):  # type: ignore[no-untyped-def]
    """Whether ``u`` has a social (local or city) tie to ``w`` (rows are sorted)."""
    lo, hi = indptr[u], indptr[u + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if indices[mid] < w:
            lo = mid + 1
        else:
            hi = mid
    return lo < indptr[u + 1] and indices[lo] == w and layer[lo] != FOLLOW


@numba.njit(cache=True, nogil=True)
def _local_clustering(indptr, indices, layer, region, nodes, in_indptr, in_sources):  # type: ignore[no-untyped-def]
    """The local clustering coefficient of each of ``nodes`` in the undirected graph of the
    social ties (a tie either way is a link), overall and by the ties inside the node's
    region; ``in_indptr``/``in_sources`` hold each node's social in-neighbours.

    A node's neighbours are marked; each social tie u → w between two of them is a link,
    counted once: from the smaller end when the tie goes both ways."""
    n = len(indptr) - 1
    mark = np.full(n, -1, dtype=np.int32)
    local = np.zeros(len(nodes))
    local_inside = np.zeros(len(nodes))
    for s in range(len(nodes)):
        i = nodes[s]
        home = region[i]
        start, end = indptr[i], indptr[i + 1]
        neighbours = np.empty(end - start + in_indptr[s + 1] - in_indptr[s], dtype=np.int64)
        k = 0
        for e in range(start, end):
            j = indices[e]
            if layer[e] != FOLLOW and mark[j] != s:
                mark[j] = s
                neighbours[k] = j
                k += 1
        for e in range(in_indptr[s], in_indptr[s + 1]):
            j = in_sources[e]
            if mark[j] != s:
                mark[j] = s
                neighbours[k] = j
                k += 1
        k_inside = 0
        for a in range(k):
            if region[neighbours[a]] == home:
                k_inside += 1
        links = 0
        links_inside = 0
        for a in range(k):
            u = neighbours[a]
            for e in range(indptr[u], indptr[u + 1]):
                w = indices[e]
                if mark[w] != s or layer[e] == FOLLOW:
                    continue
                if w < u and _social_tie(indptr, indices, layer, w, u):
                    continue  # counted from w
                links += 1
                if region[u] == home and region[w] == home:
                    links_inside += 1
        if k > 1:
            local[s] = links / (k * (k - 1) / 2)
        if k_inside > 1:
            local_inside[s] = links_inside / (k_inside * (k_inside - 1) / 2)
    return local, local_inside
