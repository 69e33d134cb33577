"""Generators of whole-city trust graphs, built with numpy and compiled kernels (numba).

The construction (documented in docs/model.md, "The trust graph"):

1. Residents are laid out region by region; node ids are contiguous per region, so a
   region's residents (and its users) are a slice. Within a region the first
   ``round(urban_share * population)`` residents are urban, the rest rural. Residents are
   cut into neighbourhoods or villages (社区 / 村) of about ``group_size`` consecutive ids.
2. A share ``migrant_share`` of residents have a hometown (家乡) in another region, drawn in
   proportion to the other regions' populations.
3. Exactly ``round(user_share * N)`` residents are registered users, sampled without
   replacement with weight ``rural_user_ratio`` for rural and 1 for urban residents, times
   their region's ``user_weight``.
4. Local ties (同乡): each resident has a log-normal sociability ``s`` (mean 1, log-sd
   ``degree_dispersion``) and starts ``Poisson(s * lambda)`` ties to members of their own
   group, chosen uniformly; ties are mutual. ``lambda`` is set so that after removing
   duplicate draws the mean degree is ``local_degree`` (the duplicate correction of a
   random graph inside a group of size ``g``: ``lambda = -(g-1)/2 * ln(1 - k/(g-1))``). A
   random graph inside small groups has clustering close to ``k / (g - 1)``.
5. City ties (同城): ``Poisson(s * city_degree / 2)`` mutual ties per resident to residents
   chosen uniformly across the city.
6. Creators: ``gov_accounts_per_region`` government accounts per region and further
   creators up to ``round(creator_share * n_users)``, all drawn among users. Target follower
   counts are Pareto: ``F = min(min_followers * U**(-1/alpha), cap)`` with
   ``cap = max_follower_share * n_users``, so ``P(F >= f) = (min_followers / f)**alpha``
   below the cap. The ``head_share`` most-followed non-government creators are head KOLs.
7. Follow ties: each creator's followers are users drawn uniformly, from the creator's own
   region with probability ``follow_locality`` (local creators and government accounts) and
   from the whole city otherwise (always, for head KOLs). Duplicate draws and self-follows
   are dropped.
8. A pair tied in several layers is stored once, in the first of follow, local, city.
   Trust weights are drawn per edge and per direction from a Beta distribution with the
   layer's mean and concentration ``trust_concentration``, by inversion of its tabulated
   quantile function (:func:`laotie.graph._build.beta_weights`), each block of ties from a
   stream of its own: the graph does not depend on the number of threads that build it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._memory import check_fits, small_pages
from .._random import SeedLike, as_seed_sequence
from .._version import __version__
from ..errors import ScenarioError
from ._build import beta_weights, build_threads, group_partners, merged_csr
from ._core import CITY, FOLLOW, GOV, HEAD, LOCAL, LOCAL_CREATOR, TrustGraph
from .codes import OUTSIDE, OUTSIDE_REGION
from .spec import CitySpec, Region

__all__ = ["FOLLOWER_MODEL", "CitySpec", "Region", "city", "follow_ties"]

FOLLOWER_MODEL: tuple[str, ...] = (
    "min_followers",
    "follower_exponent",
    "max_follower_share",
    "follow_locality",
    "trust_follow",
    "trust_concentration",
)
"""The :class:`CitySpec` parameters that :func:`follow_ties` reads: the follower model grown
onto a graph that a researcher brings (the rest of a CitySpec shapes a city built here)."""


@small_pages()
def city(spec: CitySpec, *, seed: SeedLike = None) -> TrustGraph:
    """Generate a city's trust graph (see the module docstring for the construction).

    Parameters
    ----------
    spec : CitySpec
        Regions and parameters.
    seed : int, SeedSequence, Generator or None
        The same seed gives the same graph. Each construction stage draws from its own
        stream spawned from the seed.

    Returns
    -------
    TrustGraph

    Raises
    ------
    ScenarioError
        If the spec has no region, or the build would need more memory than is available
        (:meth:`CitySpec.memory_estimate`), before anything is built.

    Examples
    --------
    >>> spec = CitySpec(regions=(Region("A", 300, 0.5), Region("B", 200, 0.2)),
    ...                 local_degree=8, group_size=50)
    >>> g = city(spec, seed=1)
    >>> g.n_nodes, g.region_names
    (500, ('A', 'B'))
    """
    if not spec.regions:
        raise ScenarioError(
            "laotie.graph.city: regions is empty; a city needs at least one region (the city "
            "of a scenario whose graph is a file has none: its graph is read, not built)"
        )
    check_fits(
        f"laotie.graph.city: a city of {spec.n_residents:,} residents",
        spec.memory_estimate(),
        "use fewer residents (a smaller --scale) or lower degrees",
        ScenarioError,
    )
    seq = as_seed_sequence(seed)
    rng_nodes, rng_users, rng_local, rng_city, rng_follow, rng_trust, rng_outside = (
        np.random.default_rng(s) for s in seq.spawn(7)
    )
    pops = np.array([r.population for r in spec.regions], dtype=np.int64)
    n = int(pops.sum())
    starts = np.concatenate(([0], np.cumsum(pops)))
    region = np.repeat(np.arange(len(pops), dtype=np.int16), pops)
    within = np.arange(n, dtype=np.int64) - starts[region]
    n_urban = np.array([round(r.urban_share * r.population) for r in spec.regions])
    rural = within >= n_urban[region]

    hometown = _hometowns(region, pops, starts, spec.migrant_share, rng_nodes)
    sociability = _sociability(n, spec.degree_dispersion, rng_nodes)
    weight = np.array([r.user_weight for r in spec.regions], dtype=np.float64)
    odds = np.where(rural, spec.rural_user_ratio, 1.0)
    if (weight != 1.0).any():
        odds = odds * weight[region]
    user = _users(odds, spec.n_users, rng_users)
    creator_kind, targets = _creators(spec, region, user, rng_users)

    local = _local_pairs(spec, pops, starts, region, within, sociability, rng_local)
    city_ties = _city_pairs(spec, n, sociability, rng_city)
    follows = _follow_pairs(spec, region, user, creator_kind, targets, rng_follow)
    region_names = [r.name for r in spec.regions]
    if spec.outside_creators:
        # The creators outside the city are nodes after the residents, in a region of their
        # own; they follow nobody and have no local or city ties. Their followers draw from
        # a stream of their own, so that the residents' ties are those of a city without them.
        k = spec.outside_creators
        outside = np.full(k, len(spec.regions), np.int16)
        region, hometown = np.concatenate([region, outside]), np.concatenate([hometown, outside])
        rural = np.concatenate([rural, np.zeros(k, bool)])
        user = np.concatenate([user, np.zeros(k, bool)])
        creator_kind = np.concatenate([creator_kind, np.full(k, OUTSIDE, np.int8)])
        city_followers = _outside_followers(spec, int(user.sum()), rng_outside)
        targets = np.concatenate([np.zeros(n, np.int64), city_followers])
        away_follows = _follow_pairs(spec, region, user, creator_kind, targets, rng_outside)
        follows = (
            np.concatenate([follows[0], away_follows[0]]),
            np.concatenate([follows[1], away_follows[1]]),
        )
        region_names.append(OUTSIDE_REGION)
    n_nodes = len(region)
    threads = build_threads()
    pairs = [local, city_ties, follows]
    del local, city_ties, follows
    indptr, indices, layer = merged_csr(n_nodes, pairs, threads)
    if n_nodes == n:
        trust = _trust_weights(layer, spec, rng_trust, threads)
    else:
        # The follows of creators outside the city draw their trust from their own stream.
        away = indices >= n
        trust = np.empty(len(layer), np.float32)
        trust[~away] = _trust_weights(layer[~away], spec, rng_trust, threads)
        trust[away] = _trust_weights(layer[away], spec, rng_outside, threads)

    meta = {
        "generator": "laotie.graph.city",
        "spec": spec.to_dict(),
        "seed_entropy": str(seq.entropy),
        "seed_spawn_key": list(seq.spawn_key),
        "laotie_version": __version__,
    }
    return TrustGraph(
        indptr,
        indices,
        trust,
        layer,
        region=region,
        hometown=hometown,
        rural=rural,
        user=user,
        creator_kind=creator_kind,
        region_names=region_names,
        meta=meta,
        where="laotie.graph.city",
    )


def _hometowns(
    region: np.ndarray,
    pops: np.ndarray,
    starts: np.ndarray,
    migrant_share: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Hometown region per resident: another region, by population, for migrants."""
    hometown = region.copy()
    if len(pops) < 2 or migrant_share == 0:
        return hometown
    migrants = np.flatnonzero(rng.random(len(region)) < migrant_share)
    own = region[migrants].astype(np.int64)
    # Inverse CDF over the other regions: skip the own region's block of the cumulative.
    pick = rng.random(len(migrants)) * (starts[-1] - pops[own])
    pick = pick + np.where(pick >= starts[own], pops[own], 0)
    hometown[migrants] = np.searchsorted(starts[1:], pick, side="right").astype(np.int16)
    return hometown


def _sociability(n: int, dispersion: float, rng: np.random.Generator) -> np.ndarray:
    """Log-normal multipliers with mean 1."""
    if dispersion == 0:
        return np.ones(n, dtype=np.float32)
    return rng.lognormal(-(dispersion**2) / 2, dispersion, n).astype(np.float32)


def _users(odds: np.ndarray, n_users: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``n_users`` users, drawn without replacement with weights ``odds``."""
    n = len(odds)
    user = np.zeros(n, dtype=bool)
    if n_users == 0:
        return user
    if n_users >= n:
        user[:] = True
        return user
    # Exponential race: the n_users smallest Exp(weight) keys are a weighted sample.
    keys = rng.exponential(size=n) / odds
    user[np.argpartition(keys, n_users - 1)[:n_users]] = True
    return user


def _creators(
    spec: CitySpec, region: np.ndarray, user: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Creator kind per node and target follower count per node (0 for non-creators)."""
    n = len(region)
    kind = np.zeros(n, dtype=np.int8)
    users = np.flatnonzero(user)
    n_users = len(users)
    # Users are sorted by node id, and node ids by region: each region's users are a slice.
    bounds = np.searchsorted(region[users], np.arange(len(spec.regions) + 1))
    gov = []
    for r in range(len(spec.regions)):
        pool = users[bounds[r] : bounds[r + 1]]
        take = min(spec.gov_accounts_per_region, len(pool))
        gov.append(rng.choice(pool, size=take, replace=False))
    gov_ids = np.concatenate(gov).astype(np.int64)
    kind[gov_ids] = GOV
    n_other = max(0, round(spec.creator_share * n_users) - len(gov_ids))
    others = np.setdiff1d(users, gov_ids, assume_unique=True)
    n_other = min(n_other, len(others))
    other_ids = rng.choice(others, size=n_other, replace=False) if n_other else others[:0]
    kind[other_ids] = LOCAL_CREATOR

    creators = np.concatenate([gov_ids, other_ids])
    targets = np.zeros(n, dtype=np.int64)
    targets[creators] = _follower_counts(spec, len(creators), n_users, rng)

    if spec.head_share > 0 and n_other > 0:
        n_head = max(1, round(spec.head_share * n_other))
        order = np.argsort(-targets[other_ids], kind="stable")
        kind[other_ids[order[:n_head]]] = HEAD
    return kind, targets


def _follower_counts(
    spec: CitySpec, n_creators: int, n_users: int, rng: np.random.Generator
) -> np.ndarray:
    """Target follower counts of ``n_creators`` creators among ``n_users`` users (Pareto,
    capped: step 6 of the module docstring)."""
    cap = max(spec.min_followers, spec.max_follower_share * n_users)
    cap = min(cap, max(n_users - 1, 0))
    draws = spec.min_followers * (1.0 - rng.random(n_creators)) ** (-1.0 / spec.follower_exponent)
    return np.rint(np.minimum(draws, cap)).astype(np.int64)


def follow_ties(
    spec: CitySpec,
    region: np.ndarray,
    n_regions: int,
    user: np.ndarray,
    creator_kind: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Follow ties grown onto a given graph's users and creators with a city's follower model
    (steps 6 to 8 of the module docstring: Pareto follower counts, followers drawn from the
    creator's region with probability ``follow_locality``, Beta trust).

    Parameters
    ----------
    spec : CitySpec
        The follower model's parameters (:data:`FOLLOWER_MODEL`; its regions and other
        parameters are not used).
    region : numpy.ndarray of int
        Region code per node, ``0 .. n_regions - 1``, in any order.
    n_regions : int
        Number of regions.
    user : numpy.ndarray of bool
        Registered users.
    creator_kind : numpy.ndarray of int
        Creator kind codes; every creator gets a follower count.
    rng : numpy.random.Generator
        The stream of the follower counts, the followers and the trust, in that order.

    Returns
    -------
    follower, creator : numpy.ndarray of int64
        One entry per follow tie, without duplicates or self-follows.
    trust : numpy.ndarray of float32
    """
    n = len(region)
    creators = np.flatnonzero(creator_kind != 0)
    targets = np.zeros(n, dtype=np.int64)
    targets[creators] = _follower_counts(spec, len(creators), int(user.sum()), rng)
    # _follow_pairs takes each region's users as a slice of the users in node order: the
    # nodes are put in region order, and the ties put back.
    order = np.argsort(region, kind="stable")
    pairs = _follow_pairs(
        spec, region[order], user[order], creator_kind[order], targets[order], rng, n_regions
    )
    pattern = sp.coo_array((np.ones(len(pairs[0]), np.int8), pairs), shape=(n, n)).tocsr()
    pattern.sum_duplicates()
    pattern = pattern.tocoo()
    follower, creator = order[pattern.row], order[pattern.col]
    trust = _trust_weights(np.full(len(follower), FOLLOW, np.int8), spec, rng, build_threads())
    return follower.astype(np.int64), creator.astype(np.int64), trust


def _local_pairs(
    spec: CitySpec,
    pops: np.ndarray,
    starts: np.ndarray,
    region: np.ndarray,
    within: np.ndarray,
    sociability: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Mutual local ties inside neighbourhood groups, as drawn pairs (sources sorted; self
    and repeated pairs are left for :func:`merged_csr` to drop)."""
    n = len(region)
    if spec.local_degree == 0:
        return _no_pairs()
    n_groups = np.maximum(1, np.rint(pops / spec.group_size)).astype(np.int64)
    group_offset = np.concatenate(([0], np.cumsum(n_groups)))
    pop_of = pops[region]
    group = group_offset[region] + (within * n_groups[region]) // pop_of
    size = np.bincount(group)
    first = np.concatenate(([0], np.cumsum(size)))[:-1]
    g = size[group].astype(np.float64)
    p = np.minimum(spec.local_degree / np.maximum(g - 1, 1), 0.99)
    stubs = rng.poisson(sociability * (-(g - 1) / 2 * np.log1p(-p)))
    src = np.repeat(np.arange(n, dtype=np.int32), stubs)
    dst = group_partners(src, first[group], g, rng.random(len(src)))
    return src, dst


def _city_pairs(
    spec: CitySpec, n: int, sociability: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Mutual city-wide ties to uniformly chosen residents, as drawn pairs (see
    :func:`_local_pairs`)."""
    if spec.city_degree == 0 or n < 2:
        return _no_pairs()
    stubs = rng.poisson(sociability * (spec.city_degree / 2))
    src = np.repeat(np.arange(n, dtype=np.int32), stubs)
    dst = rng.integers(0, n, size=len(src), dtype=np.int64)
    return src, dst


def _follow_pairs(
    spec: CitySpec,
    region: np.ndarray,
    user: np.ndarray,
    kind: np.ndarray,
    targets: np.ndarray,
    rng: np.random.Generator,
    n_regions: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Follower → creator pairs as drawn, self-follows dropped (repeated pairs are left for
    the caller to merge); the users of each region must be a slice of the users in node
    order. ``n_regions`` defaults to the spec's."""
    n_regions = len(spec.regions) if n_regions is None else n_regions
    users = np.flatnonzero(user)
    creators = np.flatnonzero(targets > 0)
    if len(users) < 2 or len(creators) == 0:
        return _no_pairs()
    bounds = np.searchsorted(region[users], np.arange(n_regions + 1))
    creator = np.repeat(creators, targets[creators])
    wide = (kind[creator] == HEAD) | (kind[creator] == OUTSIDE)
    local = ~wide & (rng.random(len(creator)) < spec.follow_locality)
    # Creators outside the city (region len(regions)) draw from the whole city: any valid
    # region stands in for theirs in the bounds, which `local` does not use for them.
    r = np.minimum(region[creator].astype(np.int64), n_regions - 1)
    lo = np.where(local, bounds[r], 0)
    span = np.where(local, bounds[r + 1] - bounds[r], len(users))
    follower = users[lo + (rng.random(len(creator)) * span).astype(np.int64)]
    keep = follower != creator
    return follower[keep], creator[keep]


def _outside_followers(spec: CitySpec, n_users: int, rng: np.random.Generator) -> np.ndarray:
    """The city followers of each creator outside the city: platform followers
    ``F = outside_min_followers · U^(-1/alpha)`` (at most ``platform_users``), each living in
    the city with probability ``n_users / platform_users``: Binomial(F, that share), at most
    the city's users."""
    k = spec.outside_creators
    u = 1.0 - rng.random(k)
    platform = np.minimum(
        spec.outside_min_followers * u ** (-1.0 / spec.follower_exponent), spec.platform_users
    )
    share = min(1.0, n_users / spec.platform_users)
    city = rng.binomial(np.rint(platform).astype(np.int64), share)
    return np.minimum(city, max(n_users, 0)).astype(np.int64)


def _no_pairs() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, np.int64), np.zeros(0, np.int64)


def _trust_weights(
    layer: np.ndarray, spec: CitySpec, rng: np.random.Generator, threads: int
) -> np.ndarray:
    """Beta-distributed trust weights in (0, 1], per layer, as float32; the blocks' streams
    are seeded by the next four words of ``rng`` (:func:`beta_weights`)."""
    seed = np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist())
    means = [0.0] * 3
    means[LOCAL], means[CITY], means[FOLLOW] = spec.trust_local, spec.trust_city, spec.trust_follow
    return beta_weights(layer, means, spec.trust_concentration, seed, threads)
