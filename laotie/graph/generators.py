"""Generators of whole-city trust graphs, built natively with numpy and scipy.sparse.

The construction (documented in docs/model.md, "The trust graph"):

1. Residents are laid out region by region; node ids are contiguous per region, so a
   region's residents (and its users) are a slice. Within a region the first
   ``round(urban_share * population)`` residents are urban, the rest rural. Residents are
   cut into neighbourhoods or villages (社区 / 村) of about ``group_size`` consecutive ids.
2. A share ``migrant_share`` of residents have a hometown (家乡) in another region, drawn in
   proportion to the other regions' populations.
3. Exactly ``round(user_share * N)`` residents are registered users, sampled without
   replacement with weight ``rural_user_ratio`` for rural and 1 for urban residents.
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
   layer's mean and concentration ``trust_concentration``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._memory import check_fits
from .._random import SeedLike, as_seed_sequence
from .._version import __version__
from ..errors import ScenarioError
from ..params import Section, param
from ._core import CITY, FOLLOW, GOV, HEAD, LOCAL, LOCAL_CREATOR, TrustGraph

__all__ = ["CitySpec", "Region", "city"]


@dataclass(frozen=True)
class Region:
    """A county-level unit of a city.

    Parameters
    ----------
    name : str
        Name (ASCII, used in files and tables), e.g. ``"Dong'an"``.
    population : int
        Residents.
    urban_share : float
        Share of residents who live in urban areas, in [0, 1].
    name_zh : str
        Chinese name, e.g. ``"东安区"``.
    """

    name: str
    population: int
    urban_share: float
    name_zh: str = ""

    def check(self, where: str) -> None:
        """Raise ScenarioError when a field is out of range."""
        if not isinstance(self.name, str) or not self.name:
            raise ScenarioError(f"{where}: region name {self.name!r} must be a non-empty string")
        if isinstance(self.population, bool) or not isinstance(self.population, int | np.integer):
            raise ScenarioError(
                f"{where}: region {self.name!r}: population = {self.population!r} is not "
                "allowed; expected an integer ≥ 1"
            )
        if self.population < 1:
            raise ScenarioError(
                f"{where}: region {self.name!r}: population = {self.population} is not "
                "allowed; expected an integer ≥ 1"
            )
        if not 0 <= float(self.urban_share) <= 1:
            raise ScenarioError(
                f"{where}: region {self.name!r}: urban_share = {self.urban_share!r} is not "
                "allowed; expected a number, 0 ≤ value ≤ 1"
            )


@dataclass(frozen=True)
class CitySpec(Section):
    """Everything that shapes a city's trust graph. Every field is declared once here.

    Defaults marked "assumed" have no public figure behind them (see docs/model.md).
    """

    regions: tuple[Region, ...] = ()
    user_share: float = param(
        1_422_300 / 2_540_000,
        "share of residents who are registered platform users (注册用户)",
        unit="share of residents",
        low=0,
        high=1,
        source="seed article: 1.4223 M users of 2.54 M residents",
    )
    rural_user_ratio: float = param(
        1.0,
        "odds weight of a rural resident being a user, relative to an urban one (城乡差异)",
        unit="ratio",
        low=0,
        high=100,
        low_open=True,
    )
    migrant_share: float = param(
        0.1,
        "share of residents whose hometown (家乡) is another region",
        unit="share of residents",
        low=0,
        high=1,
    )
    group_size: int = param(
        200,
        "size of the neighbourhood or village (社区 / 村) inside which local ties form",
        unit="residents",
        low=2,
        high=1_000_000,
    )
    local_degree: float = param(
        45.0,
        "mean number of local ties (同乡: kin, friends, neighbours) per resident",
        unit="ties per resident",
        low=0,
        high=1000,
        source="T11 (60–95 mutual ties per active user, an upper bound): its lower end, "
        "split 3:1 between local and city ties (split assumed)",
    )
    city_degree: float = param(
        15.0,
        "mean number of ties across the city (同城) per resident",
        unit="ties per resident",
        low=0,
        high=1000,
        source="T11, as for local_degree",
    )
    degree_dispersion: float = param(
        0.5,
        "log-sd of residents' sociability; 0 gives Poisson degrees, larger spreads them",
        unit="log-sd",
        low=0,
        high=3,
    )
    creator_share: float = param(
        0.01,
        "share of users who are creators (达人 / 主播), government accounts included",
        unit="share of users",
        low=0,
        high=1,
    )
    follower_exponent: float = param(
        1.1,
        "tail exponent alpha of follower counts: P(followers ≥ f) ∝ f^-alpha (CCDF slope)",
        unit="CCDF slope",
        low=0.2,
        high=5,
        source="T9 (band 1.0–1.7); H5 gives 1.1 for Kuaishou",
    )
    min_followers: float = param(
        50.0,
        "smallest target follower count of a creator (the Pareto scale)",
        unit="followers",
        low=1,
        high=1e9,
    )
    max_follower_share: float = param(
        0.05,
        "largest follower count, as a share of users: head creators reach several percent",
        unit="share of users",
        low=0,
        high=1,
        low_open=True,
    )
    head_share: float = param(
        0.01,
        "share of (non-government) creators, the most followed, who are head KOLs (头部主播)",
        unit="share of creators",
        low=0,
        high=1,
    )
    gov_accounts_per_region: int = param(
        1,
        "government accounts (政务号, county-level media 县级融媒体) per region",
        unit="accounts",
        low=0,
        high=10_000,
        source="seed article: one county-level media platform per county-level unit",
    )
    follow_locality: float = param(
        0.6,
        "share of a local creator's or government account's followers from its own region",
        unit="share of followers",
        low=0,
        high=1,
    )
    trust_local: float = param(
        0.6,
        "mean trust weight of a local tie (同乡)",
        unit="trust in (0, 1]",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
    )
    trust_city: float = param(
        0.3,
        "mean trust weight of a city tie (同城)",
        unit="trust in (0, 1]",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
    )
    trust_follow: float = param(
        0.4,
        "mean trust weight of a follower in the creator they follow (老铁 trust)",
        unit="trust in (0, 1]",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
    )
    trust_concentration: float = param(
        4.0,
        "concentration a + b of the Beta distributions of trust weights (larger is narrower)",
        unit="a + b",
        low=0,
        high=1e6,
        low_open=True,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        where = type(self).__name__
        regions = tuple(Region(**r) if isinstance(r, dict) else r for r in (self.regions or ()))
        object.__setattr__(self, "regions", regions)
        if not regions:
            raise ScenarioError(f"{where}: regions is empty; a city needs at least one region")
        for region in regions:
            if not isinstance(region, Region):
                raise ScenarioError(
                    f"{where}: regions must hold Region objects or tables with keys name, "
                    f"population, urban_share; got {region!r}"
                )
            region.check(where)
        names = [r.name for r in regions]
        if len(set(names)) != len(names):
            raise ScenarioError(f"{where}: region names are not unique: {names}")
        if self.local_degree >= self.group_size - 1 and self.local_degree > 0:
            raise ScenarioError(
                f"{where}: local_degree = {self.local_degree:g} must be below group_size - 1 "
                f"= {self.group_size - 1} (ties form inside groups of group_size residents)"
            )

    @property
    def n_residents(self) -> int:
        """Total residents over all regions."""
        return sum(r.population for r in self.regions)

    @property
    def n_users(self) -> int:
        """Registered users: ``round(user_share * n_residents)``."""
        return round(self.user_share * self.n_residents)

    def memory_estimate(self) -> int:
        """Approximate peak memory of :func:`city` for this spec (bytes).

        About ``residents * (local_degree + city_degree) + 2 * users`` directed ties (the
        follows are a few per user) at 30 bytes each at the build's peak (the finished graph
        keeps 9.25; the build holds the local pattern, its transpose and their sum for a
        moment), plus 60 bytes per resident: 4.8 GB for Mudanjiang, measured 4.47 GB.
        """
        ties = self.n_residents * (self.local_degree + self.city_degree) + 2 * self.n_users
        return int(30 * ties + 60 * self.n_residents)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (regions as a list of tables), for TOML and result metadata."""
        out = super().to_dict()
        out["regions"] = [vars(r).copy() for r in self.regions]
        return out

    def scaled(self, scale: float) -> CitySpec:
        """The same city with every region's population multiplied by ``scale``.

        Populations are rounded by largest remainder so that the total is
        ``round(scale * n_residents)``; every region keeps at least one resident.
        """
        if (
            isinstance(scale, bool)
            or not isinstance(scale, int | float)
            or not 0 < scale < float("inf")
        ):
            raise ScenarioError(f"scale = {scale!r} is not allowed; expected a number > 0")
        pops = np.array([r.population for r in self.regions], dtype=float) * scale
        total = max(len(pops), round(float(pops.sum())))
        new = _largest_remainder(pops, total)
        regions = tuple(
            Region(r.name, int(p), r.urban_share, r.name_zh)
            for r, p in zip(self.regions, new, strict=True)
        )
        return self.replace(regions=regions)


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights``, each at least 1, summing to ``total``."""
    n = len(weights)
    share = weights / weights.sum() * (total - n)
    base = np.floor(share).astype(np.int64)
    rest = total - n - int(base.sum())
    base[np.argsort(share - base, kind="stable")[::-1][:rest]] += 1
    return base + 1


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
        If the build would need more memory than is available
        (:meth:`CitySpec.memory_estimate`), before anything is built.

    Examples
    --------
    >>> spec = CitySpec(regions=(Region("A", 300, 0.5), Region("B", 200, 0.2)),
    ...                 local_degree=8, group_size=50)
    >>> g = city(spec, seed=1)
    >>> g.n_nodes, g.region_names
    (500, ('A', 'B'))
    """
    check_fits(
        f"laotie.graph.city: a city of {spec.n_residents:,} residents",
        spec.memory_estimate(),
        "use fewer residents (a smaller --scale) or lower degrees",
        ScenarioError,
    )
    seq = as_seed_sequence(seed)
    rng_nodes, rng_users, rng_local, rng_city, rng_follow, rng_trust = (
        np.random.default_rng(s) for s in seq.spawn(6)
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
    user = _users(rural, spec.n_users, spec.rural_user_ratio, rng_users)
    creator_kind, targets = _creators(spec, region, user, rng_users)

    local = _local_pairs(spec, pops, starts, region, within, sociability, rng_local)
    city_ties = _city_pairs(spec, n, sociability, rng_city)
    follows = _follow_edges(spec, region, user, creator_kind, targets, rng_follow)
    indptr, indices, layer = _merge_layers(n, local, city_ties, follows)
    del local, city_ties, follows
    trust = _trust_weights(layer, spec, rng_trust)

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
        region_names=[r.name for r in spec.regions],
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


def _users(
    rural: np.ndarray, n_users: int, rural_ratio: float, rng: np.random.Generator
) -> np.ndarray:
    """Exactly ``n_users`` users, drawn without replacement with rural weight ``rural_ratio``."""
    n = len(rural)
    user = np.zeros(n, dtype=bool)
    if n_users == 0:
        return user
    if n_users >= n:
        user[:] = True
        return user
    # Exponential race: the n_users smallest Exp(weight) keys are a weighted sample.
    keys = rng.exponential(size=n) / np.where(rural, rural_ratio, 1.0)
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
    cap = max(spec.min_followers, spec.max_follower_share * n_users)
    cap = min(cap, max(n_users - 1, 0))
    draws = spec.min_followers * (1.0 - rng.random(len(creators))) ** (
        -1.0 / spec.follower_exponent
    )
    targets = np.zeros(n, dtype=np.int64)
    targets[creators] = np.rint(np.minimum(draws, cap)).astype(np.int64)

    if spec.head_share > 0 and n_other > 0:
        n_head = max(1, round(spec.head_share * n_other))
        order = np.argsort(-targets[other_ids], kind="stable")
        kind[other_ids[order[:n_head]]] = HEAD
    return kind, targets


def _local_pairs(
    spec: CitySpec,
    pops: np.ndarray,
    starts: np.ndarray,
    region: np.ndarray,
    within: np.ndarray,
    sociability: np.ndarray,
    rng: np.random.Generator,
) -> sp.csr_array:
    """Mutual local ties inside neighbourhood groups, as a binary symmetric CSR pattern."""
    n = len(region)
    if spec.local_degree == 0:
        return _empty(n)
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
    members = size[group][src]
    dst = first[group][src] + (rng.random(len(src)) * members).astype(np.int64)
    return _symmetric(n, src, dst)


def _city_pairs(
    spec: CitySpec, n: int, sociability: np.ndarray, rng: np.random.Generator
) -> sp.csr_array:
    """Mutual city-wide ties to uniformly chosen residents, as a binary symmetric pattern."""
    if spec.city_degree == 0 or n < 2:
        return _empty(n)
    stubs = rng.poisson(sociability * (spec.city_degree / 2))
    src = np.repeat(np.arange(n, dtype=np.int32), stubs)
    dst = rng.integers(0, n, size=len(src), dtype=np.int64)
    return _symmetric(n, src, dst)


def _follow_edges(
    spec: CitySpec,
    region: np.ndarray,
    user: np.ndarray,
    kind: np.ndarray,
    targets: np.ndarray,
    rng: np.random.Generator,
) -> sp.csr_array:
    """Follower → creator edges, as a binary CSR pattern (rows are followers)."""
    n = len(region)
    users = np.flatnonzero(user)
    creators = np.flatnonzero(targets > 0)
    if len(users) < 2 or len(creators) == 0:
        return _empty(n)
    bounds = np.searchsorted(region[users], np.arange(len(spec.regions) + 1))
    creator = np.repeat(creators, targets[creators])
    local = (kind[creator] != HEAD) & (rng.random(len(creator)) < spec.follow_locality)
    r = region[creator].astype(np.int64)
    lo = np.where(local, bounds[r], 0)
    span = np.where(local, bounds[r + 1] - bounds[r], len(users))
    follower = users[lo + (rng.random(len(creator)) * span).astype(np.int64)]
    keep = follower != creator
    follower, creator = follower[keep], creator[keep]
    pattern = sp.csr_array(
        (np.ones(len(follower), dtype=np.int8), (follower, creator)), shape=(n, n)
    )
    pattern.sum_duplicates()
    pattern.data[:] = 1
    return pattern


def _symmetric(n: int, src: np.ndarray, dst: np.ndarray) -> sp.csr_array:
    """Binary symmetric CSR pattern of the pairs (src, dst); ``src`` must be sorted."""
    keep = src != dst
    src, dst = src[keep], dst[keep]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    half = sp.csr_array(
        (np.ones(len(dst), dtype=np.int8), dst.astype(np.int32), indptr), shape=(n, n)
    )
    del src, dst
    half.sum_duplicates()
    half.data[:] = 1
    both = half + half.T.tocsr()
    both.data[:] = 1
    return both


def _empty(n: int) -> sp.csr_array:
    return sp.csr_array((n, n), dtype=np.int8)


_LAYER_OF_MASK = np.array(
    # bit 1 local, bit 2 city, bit 4 follow; precedence follow > local > city
    [-1, LOCAL, CITY, LOCAL, FOLLOW, FOLLOW, FOLLOW, FOLLOW],
    dtype=np.int8,
)


def _merge_layers(
    n: int, local: sp.csr_array, city_ties: sp.csr_array, follows: sp.csr_array
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge the three binary patterns into one CSR with a layer code per edge."""
    city_ties.data *= 2
    merged = local + city_ties
    del local, city_ties
    follows.data *= 4
    merged = merged + follows
    merged.sort_indices()
    layer = _LAYER_OF_MASK[merged.data]
    return merged.indptr.astype(np.int64), merged.indices.astype(np.int32), layer


def _trust_weights(layer: np.ndarray, spec: CitySpec, rng: np.random.Generator) -> np.ndarray:
    """Beta-distributed trust weights in (0, 1], per layer, as float32."""
    trust = np.empty(len(layer), dtype=np.float32)
    kappa = spec.trust_concentration
    for code, mean in (
        (LOCAL, spec.trust_local),
        (CITY, spec.trust_city),
        (FOLLOW, spec.trust_follow),
    ):
        mask = layer == code
        count = int(mask.sum())
        if count == 0:
            continue
        a = rng.standard_gamma(mean * kappa, count, dtype=np.float32)
        b = rng.standard_gamma((1 - mean) * kappa, count, dtype=np.float32)
        total = a + b
        # Both gammas can underflow to 0 for tiny shape parameters; the mean is the fallback.
        draws = np.divide(a, total, out=np.full(count, mean, np.float32), where=total > 0)
        trust[mask] = np.clip(draws, np.finfo(np.float32).tiny, 1.0)
    return trust
