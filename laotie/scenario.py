"""Scenarios: every parameter of a simulation, the city and one section per part of the model.

A :class:`Scenario` holds the city (:class:`~laotie.graph.CitySpec`) and one section of
declared parameters per part of the model (:mod:`laotie.sections`). It is immutable; variants
are made with :meth:`Scenario.replace`, which takes section objects or dotted keys
(``"creators.authenticity_mean"``). Every value is validated when the scenario is made, with
errors that name the key, the value and what is allowed. Scenarios are read from and written
to TOML (:meth:`Scenario.from_toml`, :meth:`Scenario.to_toml`); the shipped ones live in
``models/<name>/scenario.toml`` (:meth:`Scenario.preset`).

Examples
--------
>>> s = Scenario.preset("mudanjiang", scale=0.001)
>>> s.creators.authenticity_mean
0.8
>>> s.replace(**{"creators.authenticity_mean": 0.9}).creators.authenticity_mean
0.9
>>> s.replace(**{"creators.authenticty_mean": 0.9})
Traceback (most recent call last):
...
laotie.errors.ScenarioError: Scenario [creators]: unknown key 'authenticty_mean'; did you mean ...
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from .errors import ScenarioError
from .graph import CitySpec, Region
from .graph.presets import PRESETS as CITY_PRESETS
from .graph.presets import preset_spec
from .params import Section, did_you_mean
from .sections import (
    SECTIONS,
    Creators,
    Decision,
    Growth,
    Information,
    Loyalty,
    Outcomes,
    Policy,
    Population,
    Producers,
    Products,
    Run,
    Shock,
    Storefronts,
    Training,
    WordOfMouth,
)

__all__ = [
    "Creators",
    "Decision",
    "Growth",
    "Information",
    "Loyalty",
    "Outcomes",
    "Policy",
    "Population",
    "Producers",
    "Products",
    "Run",
    "Scenario",
    "Shock",
    "Storefronts",
    "Training",
    "WordOfMouth",
    "scenario_path",
    "shipped_scenarios",
]


@dataclass(frozen=True)
class Scenario:
    """Every parameter of a simulation: the city and one section per part of the model.

    Parameters
    ----------
    city : CitySpec
        The city: its regions and the parameters of its trust graph.
    population, products, creators, storefronts, word_of_mouth, loyalty, growth : Section, optional
    decision, outcomes, policy, producers, training, shock, information, run : Section, optional
        One section of declared parameters each (:mod:`laotie.sections`); each defaults to
        its declared defaults.
    name : str, default "custom"
        The scenario's name (a shipped scenario's folder name).
    description : str, default ""
        One paragraph on what the scenario is for.

    Raises
    ------
    ScenarioError
        For a section of the wrong type, or a combination of values that cannot mean what it
        says (training or a shock after the last day, more producers than residents, ...),
        naming the keys.

    Examples
    --------
    >>> from laotie.graph import CitySpec, Region
    >>> scenario = Scenario(CitySpec(regions=(Region("A", 500, 0.5),)), name="toy")
    >>> scenario.policy.traffic, scenario.run.days
    ('inclusive', 90)
    """

    city: CitySpec
    population: Population = field(default_factory=Population)
    products: Products = field(default_factory=Products)
    creators: Creators = field(default_factory=Creators)
    storefronts: Storefronts = field(default_factory=Storefronts)
    word_of_mouth: WordOfMouth = field(default_factory=WordOfMouth)
    loyalty: Loyalty = field(default_factory=Loyalty)
    growth: Growth = field(default_factory=Growth)
    decision: Decision = field(default_factory=Decision)
    outcomes: Outcomes = field(default_factory=Outcomes)
    policy: Policy = field(default_factory=Policy)
    producers: Producers = field(default_factory=Producers)
    training: Training = field(default_factory=Training)
    shock: Shock = field(default_factory=Shock)
    information: Information = field(default_factory=Information)
    run: Run = field(default_factory=Run)
    name: str = "custom"
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.city, CitySpec):
            raise ScenarioError(
                f"Scenario: city must be a CitySpec, got {type(self.city).__name__}"
            )
        for key, kind in SECTIONS.items():
            value = getattr(self, key)
            if not isinstance(value, kind):
                raise ScenarioError(
                    f"Scenario: {key} must be a {kind.__name__}, got {type(value).__name__}"
                )
        for key in ("name", "description"):
            if not isinstance(getattr(self, key), str):
                raise ScenarioError(f"Scenario: {key} = {getattr(self, key)!r} must be a string")
        self._check_consistency()

    def _check_consistency(self) -> None:
        """Refuse combinations that cannot mean what they say, naming both keys."""
        where = f"scenario {self.name!r}"
        t, p = self.training, self.producers
        if t.n_creators > 0 and t.day < 0:
            raise ScenarioError(
                f"{where}: training.n_creators = {t.n_creators} but training.day = -1 (no "
                "training); set training.day to the day of training"
            )
        if t.day >= 0 and t.day >= self.run.days:
            raise ScenarioError(
                f"{where}: training.day = {t.day} is not within run.days = {self.run.days}; "
                "the training would never happen"
            )
        if self.shock.day == 0:
            raise ScenarioError(
                f"{where}: shock.day = 0: the shocked product is the most-ordered one before "
                "the shock day, and there are no orders before day 0; use shock.day ≥ 1 (or −1 "
                "for no shock)"
            )
        if self.shock.day >= 0 and self.shock.day >= self.run.days:
            raise ScenarioError(
                f"{where}: shock.day = {self.shock.day} is not within run.days = "
                f"{self.run.days}; the shock would never happen"
            )
        goods = self.products
        largest = max(self.creators.catalogue_size, self.storefronts.products_per_storefront)
        if goods.catalogue == "shared" and goods.n_products < largest:
            raise ScenarioError(
                f"{where}: products.n_products = {goods.n_products:,} under products.catalogue "
                f"= 'shared' is fewer than the {largest:,} products a seller lists "
                f"(creators.catalogue_size = {self.creators.catalogue_size:,}, "
                f"storefronts.products_per_storefront = "
                f"{self.storefronts.products_per_storefront:,}); each seller lists distinct "
                "products of the catalogue"
            )
        n = self.city.n_residents
        if p.n_producers > n:
            raise ScenarioError(
                f"{where}: producers.n_producers = {p.n_producers:,} is more than the city's "
                f"{n:,} residents (each producer is a resident)"
            )
        if (
            p.n_producers > 0
            and p.channel in ("creators", "both")
            and (self.city.creator_share == 0 or self.city.user_share == 0)
        ):
            raise ScenarioError(
                f"{where}: producers.channel = {p.channel!r} but the city has no creators "
                f"(city.creator_share = {self.city.creator_share:g}, city.user_share = "
                f"{self.city.user_share:g}); no creator could list the specialties"
            )

    @classmethod
    def sections(cls) -> dict[str, type[Section]]:
        """The section names and types, the city (``"city"``) first.

        Returns
        -------
        dict of str to type
            ``{"city": CitySpec, "population": Population, ...}`` in the order of the fields.
        """
        return {"city": CitySpec, **SECTIONS}

    @classmethod
    def load(cls, source: str | os.PathLike[str], scale: float = 1.0, **changes: Any) -> Scenario:
        """A scenario file, a folder holding ``scenario.toml``, or a shipped scenario's name.

        This is what ``laotie run SCENARIO`` reads: a path (anything ending in ``.toml`` or
        that exists) is read with :meth:`from_toml`, any other name with :meth:`preset`.

        Parameters
        ----------
        source : str or os.PathLike
            ``"village"``, ``"models/village"`` or ``"my_scenario.toml"``.
        scale : float, default 1.0
            Multiplies every region's population (1 keeps the scenario's own city).
        **changes
            Dotted keys and their values, as for :meth:`replace`.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            For a file that cannot be read, an unknown name, a scale that is not a positive
            number, or a change that is not allowed.

        Examples
        --------
        >>> Scenario.load("village").city.n_residents
        2000
        """
        path = Path(source)
        if path.is_dir():
            path = path / "scenario.toml"
        if path.suffix == ".toml" or path.exists():
            scenario = cls.from_toml(path)
            if scale != 1.0:
                scenario = dataclasses.replace(scenario, city=scenario.city.scaled(scale))
            return scenario.replace(**changes)
        return cls.preset(str(source), scale=scale, **changes)

    @classmethod
    def preset(cls, name: str = "mudanjiang", scale: float = 1.0, **changes: Any) -> Scenario:
        """A shipped scenario (``models/<name>/scenario.toml``) or a city preset, at ``scale``.

        Parameters
        ----------
        name : str, default "mudanjiang"
            A shipped scenario (:func:`shipped_scenarios`) or a city preset
            (:data:`laotie.graph.PRESETS`, with every other section at its defaults).
        scale : float, default 1.0
            Multiplies every region's population (rounded, each region keeping at least one
            resident).
        **changes
            Dotted keys and their values, as for :meth:`replace`.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            For an unknown name (with the nearest known one), a scale that is not a positive
            number, or a change that is not allowed.

        Examples
        --------
        >>> Scenario.preset("village", **{"policy.traffic": "head"}).policy.traffic
        'head'
        """
        path = scenario_path(name)
        if path is not None:
            scenario = cls.from_toml(path)
        elif name in CITY_PRESETS:
            scenario = cls(city=preset_spec(name), name=name)
        else:
            known = sorted(set(shipped_scenarios()) | set(CITY_PRESETS))
            hint = did_you_mean(name, known)
            raise ScenarioError(f"unknown scenario {name!r}{hint} (known: {', '.join(known)})")
        if scale != 1.0:
            scenario = dataclasses.replace(scenario, city=scenario.city.scaled(scale))
        return scenario.replace(**changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "scenario") -> Scenario:
        """Make a scenario from nested tables (a parsed TOML file), validating every key.

        Parameters
        ----------
        data : dict
            One table per section, and optionally ``name`` and ``description``. The ``city``
            table takes the city parameters, and either ``regions`` (a list of tables with
            name, population, urban_share and optionally name_zh, poverty, user_weight and
            source) or ``preset`` (a city preset's regions), and optionally ``scale``.
        where : str, default "scenario"
            Named first in error messages (a file name).

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            For an unknown key (with the nearest valid one), a value that is not allowed or a
            table that is not a table, naming ``where``, the table, the key and the value.
        """
        if not isinstance(data, dict):
            raise ScenarioError(f"{where}: expected a table of sections, got {type(data).__name__}")
        valid = [*cls.sections(), "name", "description"]
        for key, value in data.items():
            if key not in valid:
                hint = did_you_mean(key, valid)
                raise ScenarioError(
                    f"{where}: unknown key {key!r}{hint} (valid keys: {', '.join(valid)})"
                )
            if key in cls.sections() and not isinstance(value, dict):
                raise ScenarioError(f"{where}: [{key}] must be a table, got {value!r}")
        sections: dict[str, Any] = {}
        for key, kind in cls.sections().items():
            if key == "city":
                continue
            table = data.get(key, {})
            sections[key] = kind.from_dict(table, where=f"{where} [{key}]")
        sections["city"] = _city_from_dict(data.get("city", {}), f"{where} [city]")
        for key in ("name", "description"):
            if key in data:
                sections[key] = data[key]
        try:
            return cls(**sections)
        except ScenarioError as err:  # a combination of keys: name the file too
            message = str(err)
            if where != "scenario" and not message.startswith(where):
                raise ScenarioError(f"{where}: {message}") from None
            raise

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Scenario:
        """Read a scenario file (TOML).

        Parameters
        ----------
        path : str or path
            The file. Its scenario is named after the file (or after its folder, for a
            ``scenario.toml``) unless it sets ``name``.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            When the file is missing, unreadable or not TOML, or holds a key or value that is
            not allowed: the message names the file, the table, the key and the value.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScenarioError(f"{path}: no such scenario file") from None
        except OSError as err:
            raise ScenarioError(f"{path}: cannot read ({err.strerror})") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ScenarioError(f"{path}: not valid TOML ({err})") from None
        data.setdefault("name", path.parent.name if path.name == "scenario.toml" else path.stem)
        return cls.from_dict(data, where=str(path))

    def to_toml(self) -> str:
        """The scenario as TOML, every value explicit; :meth:`from_toml` reads it back exactly.

        Returns
        -------
        str
        """
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes``: whole sections by name, or dotted keys ``section.key``.

        Parameters
        ----------
        **changes
            ``section=Section(...)`` replaces a section (``city=CitySpec(...)`` the city),
            ``"section.key"=value`` one parameter (``"city.<key>"`` a city parameter), and
            ``name=...`` the name. Pass dotted keys as ``**{"policy.reach": 0.5}``.

        Returns
        -------
        Scenario
            A new scenario; this one is unchanged (scenarios are immutable).

        Raises
        ------
        ScenarioError
            For an unknown section or key (with the nearest valid one) or a value that is not
            allowed.
        """
        sections: dict[str, Any] = {}
        grouped: dict[str, dict[str, Any]] = {}
        valid = [*self.sections(), "name"]
        for key, value in changes.items():
            head, dot, rest = key.partition(".")
            if head not in valid:
                hint = did_you_mean(head, valid)
                raise ScenarioError(
                    f"Scenario: unknown section {head!r}{hint} (sections: {', '.join(valid)})"
                )
            if dot:
                grouped.setdefault(head, {})[rest] = value
            else:
                sections[head] = value
        for head, values in grouped.items():
            base = sections.get(head, getattr(self, head))
            sections[head] = base.replace(f"Scenario [{head}]", **values)
        return dataclasses.replace(self, **sections)

    def parameter_table(self) -> Any:
        """Every parameter as a table (what ``laotie params`` prints).

        Returns
        -------
        pandas.DataFrame
            One row per parameter: ``key`` (dotted), ``value``, ``default``, ``changed``,
            ``unit``, ``allowed``, ``source`` and ``meaning``.
        """
        import pandas as pd

        rows = []
        for section, kind in self.sections().items():
            current = getattr(self, section)
            for key, declared in kind.params().items():
                value = getattr(current, key)
                rows.append(
                    {
                        "key": f"{section}.{key}",
                        "value": value,
                        "default": declared.default,
                        "changed": value != declared.default,
                        "unit": declared.unit,
                        "allowed": declared.allowed(),
                        "source": declared.source,
                        "meaning": declared.doc,
                    }
                )
        return pd.DataFrame(rows)

    def flat(self) -> dict[str, Any]:
        """Every parameter as ``{"section.key": value}`` (regions excluded).

        Returns
        -------
        dict of str to value
        """
        out = {}
        for name in self.sections():
            section = getattr(self, name)
            for key in section.params():
                out[f"{name}.{key}"] = getattr(section, key)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Nested plain values, one table per section (the inverse of :meth:`from_dict`).

        Returns
        -------
        dict
            ``name``, ``description`` and one dict per section (the city's regions as a list
            of dicts).
        """
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        for name in self.sections():
            out[name] = getattr(self, name).to_dict()
        return out


def _city_from_dict(table: dict[str, Any], where: str) -> CitySpec:
    table = dict(table)
    preset = table.pop("preset", None)
    scale = table.pop("scale", 1.0)
    regions = table.pop("regions", None)
    if (preset is None) == (regions is None):
        raise ScenarioError(
            f"{where}: give either regions (a list of tables) or preset (one of "
            f"{', '.join(CITY_PRESETS)}), not {'both' if preset else 'neither'}"
        )
    if preset is not None:
        if preset not in CITY_PRESETS:
            hint = did_you_mean(preset, list(CITY_PRESETS))
            raise ScenarioError(f"{where}: preset = {preset!r} is unknown{hint}")
        regions = preset_spec(preset).regions
    else:
        if not isinstance(regions, list) or not regions:
            raise ScenarioError(f"{where}: regions must be a non-empty list of tables")
        fields = Region.FIELDS
        built = []
        for i, region in enumerate(regions):
            if not isinstance(region, dict):
                raise ScenarioError(f"{where}: regions[{i}] must be a table, got {region!r}")
            for key in region:
                if key not in fields:
                    hint = did_you_mean(key, list(fields))
                    raise ScenarioError(
                        f"{where}: regions[{i}]: unknown key {key!r}{hint} (valid keys: "
                        f"{', '.join(fields)})"
                    )
            missing = [k for k in fields[:3] if k not in region]
            if missing:
                raise ScenarioError(f"{where}: regions[{i}] lacks {', '.join(missing)}")
            built.append(Region(**region))
        regions = tuple(built)
    try:
        spec = CitySpec.from_dict({"regions": tuple(regions), **table}, where=where)
    except ScenarioError as err:
        message = str(err)
        if not message.startswith(where):
            message = f"{where}: {message.removeprefix('CitySpec: ')}"
        raise ScenarioError(message) from None
    if isinstance(scale, bool) or not isinstance(scale, int | float) or scale <= 0:
        raise ScenarioError(f"{where}: scale = {scale!r} is not allowed; expected a number > 0")
    return spec if scale == 1 else spec.scaled(scale)


MODELS_DIRS = (
    Path(__file__).resolve().parent / "models",  # installed wheel (models/ is shipped inside)
    Path(__file__).resolve().parents[1] / "models",  # source checkout or editable install
)


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``models/``.

    Returns
    -------
    list of str
        Sorted, e.g. ``["county", "mudanjiang", "poverty_county", "village"]``.
    """
    names: set[str] = set()
    for folder in MODELS_DIRS:
        if folder.is_dir():
            names |= {p.parent.name for p in folder.glob("*/scenario.toml")}
    return sorted(names)


def scenario_path(name: str) -> Path | None:
    """The file of the shipped scenario ``name``.

    Parameters
    ----------
    name : str
        A scenario's folder name in ``models/``.

    Returns
    -------
    pathlib.Path or None
        ``models/<name>/scenario.toml``, or None when there is no such scenario.
    """
    for folder in MODELS_DIRS:
        path = folder / name / "scenario.toml"
        if path.is_file():
            return path
    return None
