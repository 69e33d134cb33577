"""Ready-made cities.

Mudanjiang (牡丹江), from the seed article (2019): 2.54 M residents, 1.4223 M registered users,
ten county-level units (docs/sources.md, R11). The split of residents over the units and their
urban shares are **assumed** (rounded from public yearbook figures of the late 2010s, not from
a source we can cite); replace them with census figures for serious work. Totals follow the
seed article, because the user counts the scenario is measured against are the article's, for
2019 (the 2020 census counts 2,290,208 residents, docs/sources.md, R10). Linkou (林口县) is
treated as a poverty county (贫困县); that too is **assumed** (not checked against an official
list).
"""

from __future__ import annotations

from typing import Any

from .._random import SeedLike
from ._core import TrustGraph
from .generators import city
from .spec import CitySpec, Region

__all__ = ["MUDANJIANG_REGIONS", "PRESETS", "mudanjiang", "mudanjiang_spec", "preset_spec"]

MUDANJIANG_RESIDENTS = 2_540_000

# (name, Chinese name, relative population (assumed), urban share (assumed))
_MUDANJIANG = (
    ("Dong'an", "东安区", 20, 0.95),
    ("Yangming", "阳明区", 25, 0.85),
    ("Aimin", "爱民区", 30, 0.95),
    ("Xi'an", "西安区", 25, 0.90),
    ("Linkou", "林口县", 38, 0.40),
    ("Suifenhe", "绥芬河市", 7, 0.90),
    ("Hailin", "海林市", 38, 0.55),
    ("Ning'an", "宁安市", 42, 0.40),
    ("Muling", "穆棱市", 28, 0.45),
    ("Dongning", "东宁市", 20, 0.50),
)


_POVERTY = ("Linkou",)
_SOURCE = "population: assumed share of 2.54 M (seed article, 2019); urban_share: assumed"


def _mudanjiang_regions() -> tuple[Region, ...]:
    weight = sum(w for _, _, w, _ in _MUDANJIANG)
    base = [
        Region(
            name,
            w,
            urban,
            zh,
            poverty=name in _POVERTY,
            source=_SOURCE + ("; poverty: assumed" if name in _POVERTY else ""),
        )
        for name, zh, w, urban in _MUDANJIANG
    ]
    # Scale the relative weights to the seed article's total with exact rounding.
    return CitySpec(regions=tuple(base)).scaled(MUDANJIANG_RESIDENTS / weight).regions


MUDANJIANG_REGIONS: tuple[Region, ...] = _mudanjiang_regions()
"""Mudanjiang's ten county-level units, summing to 2.54 M residents."""


def mudanjiang_spec(scale: float = 1.0, **overrides: Any) -> CitySpec:
    """The Mudanjiang city spec at ``scale`` (1.0 is the whole city), with ``overrides``.

    Parameters
    ----------
    scale : float, default 1.0
        Multiplies every region's population (:meth:`CitySpec.scaled`).
    **overrides
        City parameters, e.g. ``local_degree=30``.

    Returns
    -------
    CitySpec

    Raises
    ------
    ScenarioError
        For an unknown parameter or a value that is not allowed.

    Examples
    --------
    >>> spec = mudanjiang_spec(0.01)
    >>> spec.n_residents, spec.n_users
    (25400, 14223)
    """
    spec = CitySpec(regions=MUDANJIANG_REGIONS).replace(**overrides)
    return spec if scale == 1.0 else spec.scaled(scale)


def mudanjiang(scale: float = 1.0, *, seed: SeedLike = None, **overrides: Any) -> TrustGraph:
    """The Mudanjiang trust graph at ``scale``.

    Parameters
    ----------
    scale : float, default 1.0
        Multiplies every region's population; 1.0 is the whole city (2.54 M residents).
    seed : int, SeedSequence, Generator or None
        The same seed gives the same graph.
    **overrides
        City parameters (see :func:`mudanjiang_spec`).

    Returns
    -------
    TrustGraph

    Examples
    --------
    >>> mudanjiang(scale=0.001, seed=1).n_regions
    10
    """
    return city(mudanjiang_spec(scale, **overrides), seed=seed)


PRESETS = {"mudanjiang": mudanjiang_spec}
"""City presets by name: each maps ``(scale, **overrides)`` to a :class:`CitySpec`."""


def preset_spec(name: str, scale: float = 1.0, **overrides: Any) -> CitySpec:
    """The city spec of the preset ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`PRESETS`.
    scale : float, default 1.0
        Multiplies every region's population.
    **overrides
        City parameters.

    Returns
    -------
    CitySpec

    Raises
    ------
    ScenarioError
        For an unknown name (with the nearest preset) or an override that is not allowed.
    """
    from ..errors import ScenarioError
    from ..params import did_you_mean

    if name not in PRESETS:
        hint = did_you_mean(name, list(PRESETS))
        raise ScenarioError(f"unknown preset {name!r}{hint} (presets: {', '.join(PRESETS)})")
    return PRESETS[name](scale, **overrides)
