"""What shapes a city's trust graph: its regions and the declared parameters of the graph.

A :class:`CitySpec` holds the regions (:class:`Region`) and every parameter of the
construction that :func:`laotie.graph.city` carries out (docs/model.md, "The trust graph");
the city of a :class:`~laotie.scenario.Scenario` is one.

Examples
--------
>>> spec = CitySpec(regions=(Region("A", 300, 0.5), Region("B", 200, 0.2)))
>>> spec.n_residents, spec.scaled(0.1).n_residents
(500, 50)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ScenarioError
from ..params import Section, param

__all__ = ["MAX_POPULATION", "CitySpec", "Region"]

MAX_POPULATION = 10**10
"""The most residents one region may have: a documented sane bound (more than the world's
population), so that a huge population or ``--scale`` is refused by name, never overflows."""


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
    poverty : bool
        Whether the scenario treats the unit as a poverty county (贫困县): results report
        the share of earners and of sales from such units (docs/model.md 3.6).
    user_weight : float
        Odds weight of a resident of this unit being a registered user, relative to the
        other units (1: no difference); it multiplies ``rural_user_ratio``. The city's
        number of users is unchanged (``CitySpec.n_users``).
    source : str
        Where the unit's figures come from (or "assumed"); kept with the scenario.
    """

    name: str
    population: int
    urban_share: float
    name_zh: str = ""
    poverty: bool = False
    user_weight: float = 1.0
    source: str = ""

    FIELDS = ("name", "population", "urban_share", "name_zh", "poverty", "user_weight", "source")
    """The keys of a region's table in a scenario file (the first three are required)."""

    @classmethod
    def from_table(cls, table: dict[str, Any], where: str) -> Region:
        """A region from a table of its :attr:`FIELDS` (a scenario file's
        ``[[city.regions]]``, or a dict given to :class:`CitySpec`).

        Parameters
        ----------
        table : dict
            The region's keys and values.
        where : str
            Named first in the error message (a file's table and the region's place).

        Returns
        -------
        Region
            Not yet checked (:meth:`check`).

        Raises
        ------
        ScenarioError
            For an unknown key (with the nearest valid one) or a required key missing.
        """
        from ..params import did_you_mean

        for key in table:
            if key not in cls.FIELDS:
                raise ScenarioError(
                    f"{where}: unknown key {key!r}{did_you_mean(str(key), list(cls.FIELDS))} "
                    f"(valid keys: {', '.join(cls.FIELDS)})"
                )
        missing = [k for k in cls.FIELDS[:3] if k not in table]
        if missing:
            raise ScenarioError(f"{where} lacks {', '.join(missing)}")
        return cls(**table)

    def check(self, where: str) -> None:
        """Check every field.

        Parameters
        ----------
        where : str
            Named first in the error message (a file and table, or a class).

        Raises
        ------
        ScenarioError
            When the name is empty, the population is not an integer ≥ 1 or the urban share
            is outside [0, 1].
        """
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
        if self.population > MAX_POPULATION:
            raise ScenarioError(
                f"{where}: region {self.name!r}: population = {self.population} is not "
                f"allowed; expected an integer, 1 ≤ value ≤ {MAX_POPULATION:,}"
            )
        if not _number(self.urban_share) or not 0 <= float(self.urban_share) <= 1:
            raise ScenarioError(
                f"{where}: region {self.name!r}: urban_share = {self.urban_share!r} is not "
                "allowed; expected a number, 0 ≤ value ≤ 1"
            )
        if not isinstance(self.poverty, bool | np.bool_):
            raise ScenarioError(
                f"{where}: region {self.name!r}: poverty = {self.poverty!r} is not allowed; "
                "expected true or false"
            )
        if not _number(self.user_weight) or not 0 < float(self.user_weight) <= 1e6:
            raise ScenarioError(
                f"{where}: region {self.name!r}: user_weight = {self.user_weight!r} is not "
                "allowed; expected a number, 0 < value ≤ 1e6"
            )
        if not isinstance(self.name_zh, str) or not isinstance(self.source, str):
            raise ScenarioError(
                f"{where}: region {self.name!r}: name_zh and source must be strings"
            )


@dataclass(frozen=True)
class CitySpec(Section):
    """Everything that shapes a city's trust graph. Every field is declared once here.

    Defaults marked "assumed" have no public figure behind them (see docs/model.md).

    Parameters
    ----------
    regions : tuple of Region
        The county-level units, with unique names (tables with the keys of :class:`Region`
        are accepted too): at least one for a city that :func:`~laotie.graph.city` builds;
        none in a scenario whose graph is a file (``[graph] from``), where the city gives
        only the follower model grown onto that graph.

    Raises
    ------
    ScenarioError
        For a value outside its allowed range, repeated region names, or a ``local_degree``
        not below ``group_size - 1``.

    Examples
    --------
    >>> spec = CitySpec(regions=(Region("A", 300, 0.5),), local_degree=8)
    >>> spec.n_residents, spec.n_users
    (300, 168)
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
        "tail exponent alpha of creators' follower counts on the platform: P(followers ≥ f) "
        "∝ f^-alpha (CCDF slope)",
        unit="CCDF slope",
        low=0.2,
        high=5,
        source="T9 (band 1.0–1.7); H5 gives 1.1 for Kuaishou",
    )
    min_followers: float = param(
        50.0,
        "smallest platform follower count of a creator who lives in the city (the Pareto scale)",
        unit="followers",
        low=1,
        high=1e9,
    )
    max_follower_share: float = param(
        0.05,
        "a resident creator's followers in the city, at most this share of its users: the "
        "rest of a large creator's following lives elsewhere",
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
    outside_creators: int = param(
        0,
        "creators who live outside the city (provincial and national heads, 外地达人) and "
        "sell to its users; each stands for one creator of the platform's follower tail above "
        "outside_min_followers",
        unit="creators",
        low=0,
        high=10_000_000,
    )
    outside_min_followers: float = param(
        100_000.0,
        "platform-wide followers of the smallest outside creator (the Pareto scale of their "
        "follower counts, with follower_exponent)",
        unit="followers",
        low=1,
        high=1e10,
    )
    platform_users: float = param(
        400_000_000.0,
        "the platform's monthly active users nationally: an outside creator's followers in "
        "the city are its platform followers thinned by the city's users over these",
        unit="users",
        low=1,
        high=1e10,
        source="C9 (about 400 M MAU, Oct-2019)",
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
        expected = (
            f"{where}: regions must be a list of Region objects or tables with keys name, "
            "population, urban_share"
        )
        given = () if self.regions is None else self.regions
        if isinstance(given, str | bytes | dict) or not isinstance(given, Iterable):
            raise ScenarioError(f"{expected}; got {given!r}")
        regions: list[Region] = []
        for i, region in enumerate(given):
            if isinstance(region, dict):
                region = Region.from_table(region, f"{where}: regions[{i}]")
            if not isinstance(region, Region):
                raise ScenarioError(f"{expected}; got {region!r}")
            region.check(where)
            regions.append(region)
        object.__setattr__(self, "regions", tuple(regions))
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
    def n_nodes(self) -> int:
        """Nodes of the city's graph: the residents and the creators outside the city."""
        return self.n_residents + self.outside_creators

    @property
    def n_users(self) -> int:
        """Registered users: ``round(user_share * n_residents)``."""
        return round(self.user_share * self.n_residents)

    def memory_estimate(self) -> int:
        """Approximate peak memory of :func:`~laotie.graph.city` for this spec.

        About ``residents * (local_degree + city_degree) + 2 * users`` directed ties (the
        follows are a few per user), plus the follows of the creators outside the city
        (:meth:`outside_follows`), at 30 bytes each at the build's peak (the finished graph
        keeps 9.25; the build holds the local pattern, its transpose and their sum for a
        moment), plus 60 bytes per node.

        Returns
        -------
        int
            Bytes.
        """
        ties = self.n_residents * (self.local_degree + self.city_degree) + 2 * self.n_users
        return int(30 * (ties + self.outside_follows()) + 60 * self.n_nodes)

    def outside_follows(self) -> float:
        """Expected follow ties to the creators outside the city: ``outside_creators`` times
        the mean of Binomial(min(X, P), n_users / P), X Pareto(``outside_min_followers``,
        ``follower_exponent``) and P ``platform_users`` (docs/model.md 3.1).

        Returns
        -------
        float
        """
        if not self.outside_creators:
            return 0.0
        x_m, alpha, top = self.outside_min_followers, self.follower_exponent, self.platform_users
        if x_m >= top:
            mean = top
        elif alpha == 1:
            mean = x_m * (1 + np.log(top / x_m))
        else:  # E[min(X, P)] = x_m + x_m^α (P^(1−α) − x_m^(1−α)) / (1 − α)
            mean = x_m + x_m**alpha * (top ** (1 - alpha) - x_m ** (1 - alpha)) / (1 - alpha)
        share = min(1.0, self.n_users / top)
        return float(self.outside_creators * min(share * mean, self.n_users))

    def to_dict(self) -> dict[str, Any]:
        """Plain values (regions as a list of tables), for TOML and result metadata.

        Returns
        -------
        dict
        """
        out = super().to_dict()
        out["regions"] = [vars(r).copy() for r in self.regions]
        return out

    def scaled(self, scale: float) -> CitySpec:
        """The same city with every region's population multiplied by ``scale``.

        Populations are rounded by largest remainder so that the total is
        ``round(scale * n_residents)``; every region keeps at least one resident.

        Parameters
        ----------
        scale : float
            A number > 0.

        Returns
        -------
        CitySpec

        Raises
        ------
        ScenarioError
            For a scale that is not a finite number > 0, or other than 1 for a city without
            regions (the city of a scenario whose graph is a file, which is not scaled).
        """
        if (
            isinstance(scale, bool)
            or not isinstance(scale, int | float)
            or not 0 < scale < float("inf")
        ):
            raise ScenarioError(f"scale = {scale!r} is not allowed; expected a number > 0")
        if not self.regions:
            if scale != 1:
                raise ScenarioError(
                    f"scale = {scale!r} is not allowed: the city has no regions to scale (a "
                    "scenario whose graph is a file takes its residents from the file)"
                )
            return self
        pops = np.array([r.population for r in self.regions], dtype=float) * scale
        for region, pop in zip(self.regions, pops, strict=True):
            if pop > MAX_POPULATION:
                shown = f"{pop:,.0f}" if pop < 1e18 else f"{pop:.3g}"
                raise ScenarioError(
                    f"scale = {scale!r} is not allowed: region {region.name!r} would have "
                    f"{shown} residents; expected at most {MAX_POPULATION:,} per region"
                )
        total = max(len(pops), round(float(pops.sum())))
        new = _largest_remainder(pops, total)
        regions = tuple(
            dataclasses.replace(r, population=int(p))
            for r, p in zip(self.regions, new, strict=True)
        )
        return self.replace(regions=regions)


def _number(value: object) -> bool:
    """A real number (not a bool, not a string)."""
    return not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights``, each at least 1, summing to ``total``."""
    n = len(weights)
    share = weights / weights.sum() * (total - n)
    base = np.floor(share).astype(np.int64)
    rest = total - n - int(base.sum())
    base[np.argsort(share - base, kind="stable")[::-1][:rest]] += 1
    return base + 1
