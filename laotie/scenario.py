"""Scenarios: every parameter of a simulation, the city and one section per part of the model.

A :class:`Scenario` holds the city (:class:`~laotie.graph.CitySpec`), where its trust graph
comes from (``[graph]``: the city built, or a graph file mapped by rules,
:class:`~laotie.sections.GraphSource`; :func:`scenario_graph` decides) and one section of
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from ._io import read_toml
from ._random import SeedLike
from .errors import GraphError, ScenarioError
from .graph import CitySpec, Region, TrustGraph
from .graph.cache import cached_city
from .graph.generators import FOLLOWER_MODEL
from .graph.presets import PRESETS as CITY_PRESETS
from .graph.presets import preset_spec
from .params import Section, did_you_mean
from .sections import (
    SECTIONS,
    Creators,
    Decision,
    GraphSource,
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
    "GraphSource",
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
    "scenario_graph",
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
    graph : GraphSource, optional
        Where the trust graph comes from (``[graph]``): by default the city is built; with a
        file (``from``), the graph is read from it and mapped (:func:`scenario_graph`), and
        the city has no regions and gives only the follower model that ``graph.follows``
        grows onto the graph (:data:`laotie.graph.generators.FOLLOWER_MODEL`).
    name : str, default "custom"
        The scenario's name (a shipped scenario's folder name).
    description : str, default ""
        One paragraph on what the scenario is for.

    Raises
    ------
    ScenarioError
        For a section of the wrong type, or a combination of values that cannot mean what it
        says (training or a shock after the last day, more producers than residents, city
        parameters that a graph file leaves unused, ...), naming the keys.

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
    graph: GraphSource = field(default_factory=GraphSource)
    name: str = "custom"
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.city, CitySpec):
            raise ScenarioError(
                f"Scenario: city must be a CitySpec, got {type(self.city).__name__}"
            )
        for key, kind in {**SECTIONS, "graph": GraphSource}.items():
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
        if self.graph.file:
            self._check_graph_city(where)
            return
        if not self.city.regions:
            raise ScenarioError(
                f"{where}: the city has no regions; a city that laotie builds needs at least "
                "one (only a scenario whose graph is a file, [graph] from, has none)"
            )
        # With a graph file these are checked against the graph (scenario_graph).
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

    def _check_graph_city(self, where: str) -> None:
        """With a graph file, refuse what the file leaves unused of the city: its regions,
        the parameters that shape a city laotie builds, and the follower model without
        ``graph.follows``."""
        if self.city.regions:
            names = ", ".join(repr(r.name) for r in self.city.regions)
            raise ScenarioError(
                f"{where}: the city's regions ({names}) would not be used: the graph comes from "
                f"{self.graph.file} ([graph] from), whose residents and regions are the "
                "graph's (graph.regions assigns regions by rule); give a city without regions, "
                "CitySpec() or its follower model alone"
            )
        declared = CitySpec.params()
        changed = [k for k, p in declared.items() if getattr(self.city, k) != p.default]
        unused = [k for k in changed if k not in FOLLOWER_MODEL]
        if not self.graph.follows:
            unused += [k for k in changed if k in FOLLOWER_MODEL]
        if unused:
            keys = ", ".join(f"city.{k} = {getattr(self.city, k)!r}" for k in unused)
            defaults = " ".join(f"--set city.{k}={declared[k].default!r}" for k in unused)
            raise ScenarioError(
                f"{where}: {keys} would not be used: the graph comes from {self.graph.file} "
                "([graph] from), and the city gives only the follower model "
                f"({', '.join(FOLLOWER_MODEL)}) that graph.follows = true grows onto it "
                f"(graph.follows is {'true' if self.graph.follows else 'false'}); remove "
                f"{'it' if len(unused) == 1 else 'them'} from the file, or give "
                f"{'it its default' if len(unused) == 1 else 'them their defaults'} "
                f"(on the command line: {defaults})"
            )

    def scaled(self, scale: float) -> Scenario:
        """The scenario with every region's population multiplied by ``scale``.

        Parameters
        ----------
        scale : float
            A number > 0.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            For a scale that is not a number > 0, or a scale other than 1 for a scenario
            whose graph is a file (its nodes are the residents: a file is not scaled).
        """
        if self.graph.file:
            if scale == 1:
                return self
            raise ScenarioError(
                f"scenario {self.name!r}: scale = {scale!r} is not allowed: the graph comes from "
                f"{self.graph.file} ([graph] from), whose nodes are the residents, and a graph "
                "file is not scaled (leave the scale at 1, or sample the file yourself)"
            )
        return dataclasses.replace(self, city=self.city.scaled(scale))

    @classmethod
    def sections(cls) -> dict[str, type[Section]]:
        """The section names and types, the city (``"city"``) and the graph's source
        (``"graph"``) first.

        Returns
        -------
        dict of str to type
            ``{"city": CitySpec, "graph": GraphSource, "population": Population, ...}``.
        """
        return {"city": CitySpec, "graph": GraphSource, **SECTIONS}

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
            number (or not 1 for a scenario whose graph is a file), or a change that is not
            allowed.

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
                scenario = scenario.scaled(scale)
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
            scenario = scenario.scaled(scale)
        return scenario.replace(**changes)

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        *,
        where: str = "scenario",
        folder: str | os.PathLike[str] | None = None,
    ) -> Scenario:
        """Make a scenario from nested tables (a parsed TOML file), validating every key.

        Parameters
        ----------
        data : dict
            One table per section, and optionally ``name`` and ``description``. The ``city``
            table takes the city parameters, and either ``regions`` (a list of tables with
            name, population, urban_share and optionally name_zh, poverty, user_weight and
            source) or ``preset`` (a city preset's regions), and optionally ``scale``. The
            ``graph`` table takes ``from`` (a graph file) and its mapping
            (:class:`~laotie.sections.GraphSource`).
        where : str, default "scenario"
            Named first in error messages (a file name).
        folder : str or path, optional
            A relative ``[graph] from`` is taken from this folder (:meth:`from_toml` passes
            the file's); default: the working folder. The file is not opened here (a saved
            result's scenario loads when its graph file has gone); :meth:`from_toml` and
            every run check it.

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
            if key in ("city", "graph"):
                continue
            table = data.get(key, {})
            sections[key] = kind.from_dict(table, where=f"{where} [{key}]")
        graph = GraphSource.from_dict(
            data.get("graph", {}), where=f"{where} [graph]", folder=folder
        )
        sections["graph"] = graph
        if graph.file:
            sections["city"] = _graph_city_from_dict(data.get("city", {}), f"{where} [city]", graph)
        else:
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
            ``scenario.toml``) unless it sets ``name``. A relative ``[graph] from`` is taken
            from the file's folder.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            When the file is missing, unreadable, not UTF-8 or not TOML, or holds a key or
            value that is not allowed, or its graph file (``[graph] from``) is missing: the
            message names the file, the table, the key and the value (and the path tried).
        """
        path = Path(path)
        data = read_toml(path, "scenario")
        data.setdefault("name", path.parent.name if path.name == "scenario.toml" else path.stem)
        scenario = cls.from_dict(data, where=str(path), folder=path.parent)
        file = scenario.graph.file
        if file and not os.path.isfile(file):
            given = data["graph"]["from"]
            tried = "" if given == file else f" (tried {file})"
            raise ScenarioError(f"{path} [graph]: from = {given!r}: no such file{tried}")
        return scenario

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
                # A key without its section: name the section that has it ('reach' is not
                # a near miss of 'graph' but the key policy.reach).
                owners = [name for name, kind in self.sections().items() if head in kind.params()]
                hint = (
                    f"; did you mean {owners[0] + '.' + head!r}?"
                    if owners and not dot
                    else did_you_mean(head, valid)
                )
                raise ScenarioError(
                    f"Scenario: unknown section {head!r}{hint} (sections: {', '.join(valid)})"
                )
            if dot:
                grouped.setdefault(head, {})[rest] = value
            else:
                sections[head] = value
        for head in sorted(grouped, key=lambda head: head != "graph"):  # the graph first
            values = grouped[head]
            base = sections.get(head, getattr(self, head))
            graph = sections.get("graph", self.graph)
            if head == "city" and graph.file:
                # Before the city checks a value that would not be used (_check_graph_city).
                unused = [
                    k
                    for k in values
                    if k not in FOLLOWER_MODEL and (k in CitySpec.params() or k in _CITY_TABLE)
                ]
                if unused:
                    raise ScenarioError(
                        f"scenario {self.name!r}: city.{unused[0]} would not be used: the graph "
                        f"comes from {graph.file} ([graph] from), and the city gives only the "
                        f"follower model ({', '.join(FOLLOWER_MODEL)}) that graph.follows = "
                        "true grows onto it"
                    )
            sections[head] = base.replace(f"Scenario [{head}]", **values)
        return dataclasses.replace(self, **sections)

    def parameter_table(self) -> Any:
        """Every parameter as a table (what ``laotie params`` prints).

        Returns
        -------
        pandas.DataFrame
            One row per parameter: ``key`` (dotted), ``value``, ``default``, ``changed``,
            ``unit``, ``allowed``, ``source`` and ``meaning``. When the graph comes from a
            file, the ``graph.*`` mapping too, and of the city only the follower model of
            ``graph.follows``.
        """
        import pandas as pd

        rows = []
        for section, kind in self.sections().items():
            if section == "graph" and not self.graph.file:
                continue
            current = getattr(self, section)
            for key, declared in kind.params().items():
                if not self._uses(section, key):
                    continue
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
        """Every parameter of the model as ``{"section.key": value}``.

        The city's regions and ``[graph]`` (where the graph comes from: a file and the rules
        that map it, not numbers to vary) are left out, and so, when the graph comes from a
        file, are the city parameters other than the follower model of ``graph.follows``
        (they would not be used); ``graph.*`` keys are still accepted by :meth:`replace`,
        ``--set`` and a sweep's grid.

        Returns
        -------
        dict of str to value
        """
        out = {}
        for name in self.sections():
            if name == "graph":
                continue
            section = getattr(self, name)
            for key in section.params():
                if self._uses(name, key):
                    out[f"{name}.{key}"] = getattr(section, key)
        return out

    def _uses(self, section: str, key: str) -> bool:
        """Whether the parameter ``section.key`` can matter: of the city, with a graph file,
        only the follower model of ``graph.follows`` (:meth:`_check_graph_city` refuses the
        rest)."""
        return section != "city" or key in self._city_keys()

    def _city_keys(self) -> tuple[str, ...]:
        """The city's parameters that the scenario uses: all of them for a city built, the
        follower model of ``graph.follows`` (or none) with a graph file."""
        if not self.graph.file:
            return tuple(CitySpec.params())
        return FOLLOWER_MODEL if self.graph.follows else ()

    def to_dict(self) -> dict[str, Any]:
        """Nested plain values, one table per section (the inverse of :meth:`from_dict`).

        Returns
        -------
        dict
            ``name``, ``description`` and one dict per section (the city's regions as a list
            of dicts); ``graph`` only when the graph comes from a file, so that a scenario
            without one is written as before, and then of the city only the follower model
            of ``graph.follows`` (no ``city`` without follows).
        """
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        for name in self.sections():
            if name == "graph" and not self.graph.file:
                continue
            out[name] = getattr(self, name).to_dict()
        if self.graph.file:  # the city gives only the follower model (_check_graph_city)
            out["city"] = {key: getattr(self.city, key) for key in self._city_keys()}
            if not out["city"]:
                del out["city"]
        return out


_CITY_TABLE = ("regions", "preset", "scale")
"""The keys of a scenario file's ``[city]`` that are not parameters: what a city laotie builds
is made of (a graph file's residents and regions are its own)."""


def scenario_graph(scenario: Scenario, seed: SeedLike = 0, *, progress: bool = False) -> TrustGraph:
    """The trust graph ``scenario`` runs on: the one place that decides it, for every face.

    Without a graph file the scenario's city is built with ``seed``
    (:func:`laotie.graph.city`). With one (``[graph] from``), the file is read and mapped by
    the section's rules (:func:`laotie.graph.read_graph`, with ``follows`` the city's
    follower model and ``seed`` the section's own: ``seed`` here is not used), then checked
    against the scenario: no more poor producers than the graph has residents.

    Parameters
    ----------
    scenario : Scenario
    seed : int, SeedSequence, Generator or None, default 0
        The seed of a city built (runs pass their graph seed,
        :func:`laotie._random.run_seeds`).
    progress : bool, default False
        Show a progress bar over the rows of a large edge list.

    Returns
    -------
    TrustGraph
        For a graph file, with what was mapped and assigned in ``meta["mapping"]``
        (:func:`laotie.graph.roles.describe_mapping`).

    Raises
    ------
    ScenarioError
        For a graph file that is missing or whose bytes changed since the scenario was made
        (its ``sha256``), or that has fewer residents than the scenario's poor producers.
    GraphError
        For a file that cannot be read or mapped as its section says, naming the scenario,
        the file, the column or attribute and the rows at fault.

    Examples
    --------
    >>> village = Scenario.preset("village")
    >>> scenario_graph(village, seed=1).n_nodes == village.city.n_residents
    True
    """
    source = scenario.graph
    if not source.file:
        return cached_city(scenario.city, seed=seed)
    from ._io import file_sha256
    from .graph import read_graph

    where = f"scenario {scenario.name!r} [graph]"
    if not os.path.isfile(source.file):
        raise ScenarioError(f"{where}: from = {source.file!r}: no such file")
    if source.sha256 and file_sha256(source.file) != source.sha256:
        raise ScenarioError(
            f"{where}: from = {source.file!r} has changed since the scenario was made (sha256 "
            f"{source.sha256[:12]}...); a run on it would not be the run the scenario records: "
            "remove the scenario's sha256 line to run on the file as it is now"
        )
    rules = {
        role: getattr(source, role)
        for role in ("creators", "users", "rural", "regions")
        if getattr(source, role)
    }
    try:
        graph = read_graph(
            source.file,
            format=None if source.format == "auto" else source.format,
            source=source.source or None,
            target=source.target or None,
            trust=source.trust or None,
            transform=source.transform,
            directed=source.directed,
            progress=progress,
            creator_kind=source.creator_kind,
            follows=scenario.city if source.follows else None,
            seed=source.seed,
            **rules,
        )
    except GraphError as err:
        raise GraphError(f"{where}: {err}") from None
    check_graph_fits(scenario, graph)
    return graph


def check_graph_fits(scenario: Scenario, graph: TrustGraph, what: str = "") -> None:
    """Refuse a graph too small for ``scenario``: no more poor producers than it has
    residents (a run would quietly place fewer). :func:`scenario_graph` calls it; so do runs
    that reuse a graph read for another scenario of the same file (a sweep's points) or run
    on a graph given to them (``graph=``).

    Parameters
    ----------
    scenario : Scenario
    graph : TrustGraph
    what : str, optional
        Names the graph in the message; default: the graph of the scenario's file.

    Raises
    ------
    ScenarioError
        Naming the scenario, ``producers.n_producers`` and the graph's file and residents.
    """
    n_producers = scenario.producers.n_producers
    if n_producers > graph.n_residents:
        raise ScenarioError(
            f"scenario {scenario.name!r}: producers.n_producers = {n_producers:,} is more than "
            f"the {graph.n_residents:,} residents of "
            f"{what or 'the graph ' + scenario.graph.file} (each producer is a resident)"
        )


def _graph_city_from_dict(table: dict[str, Any], where: str, graph: GraphSource) -> CitySpec:
    """The ``[city]`` of a scenario whose graph is a file: the follower model that
    ``graph.follows`` grows onto it, and nothing else (which would not be used)."""
    allowed = ", ".join(FOLLOWER_MODEL)
    for key in table:
        if key in FOLLOWER_MODEL:
            if not graph.follows:
                raise ScenarioError(
                    f"{where}: {key} = {table[key]!r} is part of the follower model that "
                    "graph.follows = true grows onto the graph; graph.follows is false, so it "
                    "would not be used"
                )
            continue
        if key in ("regions", "preset", "scale"):
            why = (
                "the residents and their regions are the graph's (graph.regions assigns "
                "regions by rule)"
            )
        elif key in CitySpec.params():
            why = "it shapes a city that laotie builds"
        else:
            hint = did_you_mean(key, [*FOLLOWER_MODEL, *CitySpec.params()])
            raise ScenarioError(f"{where}: unknown key {key!r}{hint} (valid keys: {allowed})")
        raise ScenarioError(
            f"{where}: {key} is not used when the graph comes from a file ([graph] from = "
            f"{graph.file!r}): {why}; [city] gives only the follower model of graph.follows "
            f"({allowed})"
        )
    return CitySpec.from_dict(table, where=where)


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
            raise ScenarioError(
                f"{where}: preset = {preset!r} is unknown{hint} (known: {', '.join(CITY_PRESETS)})"
            )
        regions = preset_spec(preset).regions
    else:
        if not isinstance(regions, list) or not regions:
            raise ScenarioError(f"{where}: regions must be a non-empty list of tables")
        built = []
        for i, region in enumerate(regions):
            if not isinstance(region, dict):
                raise ScenarioError(f"{where}: regions[{i}] must be a table, got {region!r}")
            built.append(Region.from_table(region, f"{where}: regions[{i}]"))
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
    try:
        return spec if scale == 1 else spec.scaled(scale)
    except ScenarioError as err:
        raise ScenarioError(f"{where}: {err}") from None


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
