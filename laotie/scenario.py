"""Scenarios: every parameter of a simulation, declared once, grouped in sections.

A :class:`Scenario` holds the city (:class:`~laotie.graph.CitySpec`) and one section per part
of the model. It is immutable; variants are made with :meth:`Scenario.replace`, which takes
section objects or dotted keys (``"creators.authenticity_mean"``). Every value is validated
when the scenario is made, with errors that name the key, the value and what is allowed.

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
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from .errors import ScenarioError
from .graph import CitySpec, Region
from .graph.presets import PRESETS as CITY_PRESETS
from .graph.presets import preset_spec
from .params import Section, did_you_mean, param

__all__ = [
    "Creators",
    "Decision",
    "Information",
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
]

_PROB = {"low": 0, "high": 1}
_MEAN = {"low": 0, "high": 1, "low_open": True, "high_open": True}
_CONC = {"low": 0, "high": 1e6, "low_open": True}


@dataclass(frozen=True)
class Population(Section):
    """Users as consumers: activity, budgets and price sensitivity."""

    activity_mean: float = param(
        0.235,
        "mean daily probability that a user opens the app (日活 / 注册用户)",
        unit="probability per day",
        source="seed article: 334 k daily active of 1.4223 M registered users",
        **_MEAN,
    )
    activity_concentration: float = param(
        2.0,
        "concentration a + b of the Beta distribution of users' activity probabilities",
        unit="a + b",
        **_CONC,
    )
    budget_mean: float = param(
        1000.0,
        "mean online shopping budget of a user per 30-day month; spending resets monthly",
        unit="RMB per month",
        low=0,
        high=1e7,
        low_open=True,
        source="D6 (≈ 1,000 RMB GMV per monthly active buyer per month)",
    )
    budget_dispersion: float = param(
        0.8, "log-sd of the log-normal budgets", unit="log-sd", low=0, high=5
    )
    price_sensitivity_dispersion: float = param(
        0.5,
        "log-sd of users' price sensitivity (log-normal, mean 1)",
        unit="log-sd",
        low=0,
        high=5,
    )
    repeat_purchases: bool = param(
        True,
        "whether a user may order more than once in a run (false: durable-good adoption, "
        "as in the Bass model)",
    )


@dataclass(frozen=True)
class Products(Section):
    """Goods: categories and true quality."""

    n_categories: int = param(
        20, "number of product categories (比价 compares within a category)", low=1, high=10_000
    )
    quality_mean: float = param(
        0.6, "mean true quality of a product, on a 0–1 scale", unit="quality", **_MEAN
    )
    quality_concentration: float = param(
        5.0, "concentration a + b of the Beta distribution of quality", unit="a + b", **_CONC
    )


@dataclass(frozen=True)
class Creators(Section):
    """Creators who sell (head KOLs and local creators; government accounts do not sell)."""

    post_prob: float = param(
        0.5,
        "daily probability that a selling creator posts or live-streams",
        unit="per day",
        **_PROB,
    )
    authenticity_mean: float = param(
        0.8,
        "mean authenticity (真实): a creator's promise exceeds the truth by "
        "overstatement × (1 − authenticity)",
        unit="0–1",
        **_MEAN,
    )
    authenticity_concentration: float = param(
        5.0, "concentration a + b of the Beta distribution of authenticity", unit="a + b", **_CONC
    )
    content_quality_mean: float = param(
        0.5,
        "mean content quality; weights a creator's share of discovery traffic",
        unit="0–1",
        **_MEAN,
    )
    content_quality_concentration: float = param(
        5.0,
        "concentration a + b of the Beta distribution of content quality",
        unit="a + b",
        **_CONC,
    )
    catalogue_size: int = param(
        5, "products each selling creator lists (own products)", unit="products", low=1, high=10_000
    )
    price_mean: float = param(
        58.0,
        "mean price of a creator's product (log-normal)",
        unit="RMB",
        low=0,
        high=1e7,
        low_open=True,
        source="D1: chosen so that the order value is near Kuaishou's ≈ 70 RMB "
        "with the default basket",
    )
    price_dispersion: float = param(0.6, "log-sd of creators' prices", unit="log-sd", low=0, high=5)
    commission: float = param(
        0.2, "share of an order's value that the selling creator earns", unit="share", **_PROB
    )
    stranger_trust: float = param(
        0.1,
        "trust of a viewer in a creator they do not follow (discovery traffic)",
        unit="trust",
        **_PROB,
    )
    follow_prob: float = param(
        0.2,
        "probability that a satisfied buyer who did not follow the creator starts following",
        unit="probability",
        **_PROB,
    )


@dataclass(frozen=True)
class Storefronts(Section):
    """Traffic-driven sellers outside the social graph, buying impressions with ads."""

    n_storefronts: int = param(50, "number of storefronts", unit="storefronts", low=1, high=100_000)
    products_per_storefront: int = param(
        10, "products each storefront sells", unit="products", low=1, high=100_000
    )
    impressions_per_active: float = param(
        1.0,
        "storefront impressions (product views bought by ads) per active user per day",
        unit="impressions",
        low=0,
        high=1000,
    )
    ad_budget_dispersion: float = param(
        1.0,
        "log-sd of storefronts' ad budgets (log-normal); a storefront's share of the "
        "impressions is proportional to its ad budget (0: equal budgets)",
        unit="log-sd",
        low=0,
        high=5,
    )
    comparisons: int = param(
        3,
        "storefront products of the same category a shopper also compares (比价), drawn "
        "uniformly with replacement from all of them",
        unit="products",
        low=0,
        high=100,
    )
    price_mean: float = param(
        100.0,
        "mean price of a storefront product (log-normal)",
        unit="RMB",
        low=0,
        high=1e7,
        low_open=True,
        source="D1: chosen so that the order value is near Taobao's ≈ 120 RMB "
        "with the default basket",
    )
    price_dispersion: float = param(
        0.6, "log-sd of storefront prices", unit="log-sd", low=0, high=5
    )
    authenticity_mean: float = param(
        0.8, "mean authenticity of storefront listings", unit="0–1", **_MEAN
    )
    authenticity_concentration: float = param(
        5.0, "concentration of storefront authenticity", unit="a + b", **_CONC
    )
    trust: float = param(
        0.15,
        "users' initial trust in storefront sellers (institutional trust, one value per user)",
        unit="trust",
        source="assumed; T17 puts institutional trust's effect below interpersonal trust's",
        **_PROB,
    )


@dataclass(frozen=True)
class WordOfMouth(Section):
    """Recommendations from satisfied buyers to the people who trust them (口碑)."""

    prob: float = param(
        0.05,
        "probability that a satisfied buyer recommends the product to each person who "
        "trusts them (local and city ties), per day of recommending",
        unit="probability",
        **_PROB,
    )
    days: int = param(
        1,
        "days after an order during which a satisfied buyer recommends (1: the next day "
        "only; long: every day, as imitation in the Bass model)",
        unit="days",
        low=1,
        high=100_000,
    )


@dataclass(frozen=True)
class Decision(Section):
    """The purchase logit and the basket."""

    intercept: float = param(-6.0, "logit intercept, the same for every channel", low=-50, high=50)
    trust_weight: float = param(
        5.0, "logit weight of trust in the source (老铁 trust)", low=-50, high=50
    )
    quality_weight: float = param(
        2.0, "logit weight of perceived quality minus 0.5", low=-50, high=50
    )
    price_weight: float = param(
        0.5,
        "logit weight of price relative to the user's daily budget, times price sensitivity",
        low=0,
        high=50,
    )
    repeat_weight: float = param(
        1.0,
        "logit weight of past satisfaction with the source (+1 satisfied, −1 disappointed, "
        "0 never bought)",
        low=-50,
        high=50,
    )
    basket_extra_items: float = param(
        0.2,
        "mean number of items beyond the first in an order, at zero trust",
        unit="items",
        low=0,
        high=100,
    )
    basket_trust_effect: float = param(
        0.0,
        "relative growth of extra items per unit of trust (bundles, family packs); negative: "
        "trust shrinks the basket (down to −1, no extra items at full trust). The article "
        "claims trust raises order value (客单价); the data say it does not (T6): 0 or below "
        "follows the data",
        unit="per unit trust",
        low=-1,
        high=100,
        source="T6",
    )


@dataclass(frozen=True)
class Outcomes(Section):
    """Satisfaction and trust dynamics."""

    overstatement: float = param(
        0.5,
        "how far a fully inauthentic seller's promise exceeds true quality",
        unit="quality",
        low=0,
        high=1,
    )
    quality_noise: float = param(
        0.1, "sd of experienced quality around true quality", unit="quality", low=0, high=1
    )
    tolerance: float = param(
        0.1,
        "shortfall of experienced below expected quality that a buyer still accepts",
        unit="quality",
        low=0,
        high=1,
    )
    trust_gain: float = param(
        0.05,
        "after a satisfying order, trust gains this share of its distance to 1 (slow)",
        unit="share",
        **_PROB,
    )
    trust_loss: float = param(
        0.3,
        "after a disappointing order, trust loses this share of itself (fast)",
        unit="share",
        **_PROB,
    )


@dataclass(frozen=True)
class Policy(Section):
    """The platform's traffic allocation (流量分配)."""

    traffic: str = param(
        "inclusive",
        "traffic policy: 'head' (reach grows with followers) or 'inclusive' (普惠: equal "
        "reach, a cap on the head's share, discovery for small creators)",
        choices=("head", "inclusive"),
        source="H8, H9 (Kuaishou's 'Gini coefficient' principle)",
    )
    reach: float = param(
        0.3,
        "share of a posting creator's active followers who see the post (base reach)",
        unit="share",
        **_PROB,
    )
    head_exponent: float = param(
        0.5,
        "under 'head': reach multiplier (followers / mean followers) ** head_exponent, and "
        "discovery weight content quality × (1 + followers) ** head_exponent",
        low=0,
        high=5,
    )
    head_cap: float = param(
        0.3,
        "under 'inclusive': the largest share of creator exposures that head KOLs get",
        unit="share",
        source="H8 (≈ 70 % of traffic to ordinary creators)",
        **_PROB,
    )
    discovery_per_active: float = param(
        0.3,
        "discovery impressions (posts of creators one does not follow) per active user per day",
        unit="impressions",
        low=0,
        high=1000,
    )


@dataclass(frozen=True)
class Producers(Section):
    """Poor local producers and their specialties (精准扶贫)."""

    n_producers: int = param(
        0,
        "poor producers (贫困户), each with one local specialty",
        unit="producers",
        low=0,
        high=10**7,
    )
    channel: str = param(
        "creators",
        "who lists the specialties: local creators of the producer's region, storefronts, "
        "or both (燎原计划)",
        choices=("creators", "storefronts", "both"),
    )
    recruit: str = param(
        "local",
        "which creators list a specialty: 'local' (non-head creators of the producer's "
        "region, 本地达人), 'rural' (those of them living in rural areas), 'followers' (the "
        "city's most-followed creators, heads included) or 'random' (any selling creator)",
        choices=("local", "rural", "followers", "random"),
    )
    listings: int = param(
        3,
        "sellers (creators or storefronts) that list each specialty",
        unit="sellers",
        low=1,
        high=1000,
    )
    income_share: float = param(
        0.3, "share of each sale's value that the producer receives", unit="share", **_PROB
    )
    price_mean: float = param(
        50.0, "mean price of a specialty", unit="RMB", low=0, high=1e7, low_open=True
    )


@dataclass(frozen=True)
class Training(Section):
    """A creator-training programme (培训: 雪城幸福家乡代言人, 正能量大V成长计划)."""

    day: int = param(-1, "day of training (−1: no training)", unit="day", low=-1, high=100_000)
    n_creators: int = param(0, "creators trained", unit="creators", low=0, high=10**7)
    rule: str = param(
        "local",
        "who is trained: most followers, local creators (random), rural creators, or random",
        choices=("followers", "local", "rural", "random"),
    )
    authenticity_gain: float = param(
        0.1, "authenticity added (capped at 1)", unit="0–1", low=0, high=1
    )
    content_quality_gain: float = param(
        0.1, "content quality added (capped at 1)", unit="0–1", low=0, high=1
    )
    follower_gain: int = param(
        0, "new followers each trained creator gains (random users)", unit="followers", low=0
    )


@dataclass(frozen=True)
class Shock(Section):
    """A product turns out bad (质量事件): its true quality drops for a while, then recovers."""

    day: int = param(
        -1,
        "day the product's true quality drops, at the start of the day (≥ 1, so that there "
        "were orders to choose the product from; −1: no shock)",
        unit="day",
        low=-1,
        high=100_000,
    )
    quality: float = param(
        0.1,
        "the product's true quality from that day; sellers keep promising what they "
        "promised before",
        unit="quality",
        low=0,
        high=1,
    )
    days: int = param(
        30,
        "days the product stays bad; its true quality is restored at the start of day day + days",
        unit="days",
        low=1,
        high=100_000,
    )
    rule: str = param(
        "creator",
        "which product: the one of the most-ordered listing up to that day among all "
        "listings ('most_sold'), creators' listings ('creator') or storefronts' "
        "('storefront'); ties go to the lowest listing id",
        choices=("most_sold", "creator", "storefront"),
    )


@dataclass(frozen=True)
class Information(Section):
    """Government posts and the last mile (政务宣传, 便民服务; 快手同城, 快手同乡)."""

    n_messages: int = param(
        0,
        "government messages posted (each by every government account); 0: no information",
        unit="messages",
        low=0,
        high=1000,
    )
    first_day: int = param(0, "day the first message is posted", unit="day", low=0, high=100_000)
    interval: int = param(7, "days between two messages", unit="days", low=1, high=100_000)
    live_days: int = param(3, "days a post stays in the feeds", unit="days", low=1, high=100_000)
    city_feed: float = param(
        0.1,
        "daily probability that an active user sees a post of content quality 1 in the "
        "same-city feed (快手同城); it scales with the account's content quality",
        unit="probability per day",
        **_PROB,
    )
    hometown_feed: float = param(
        0.2,
        "daily probability that an active user whose hometown is the account's region sees a "
        "post of content quality 1 in the same-hometown feed (快手同乡), wherever they live",
        unit="probability per day",
        **_PROB,
    )
    share_prob: float = param(
        0.02,
        "probability, per unit of trust, that a newly informed user shares the message in the "
        "app with each user who trusts them",
        unit="probability",
        **_PROB,
    )
    offline_prob: float = param(
        0.02,
        "probability, per unit of trust, that a newly informed resident tells each kin "
        "(local tie) offline, users or not: the last mile",
        unit="probability",
        **_PROB,
    )
    gov_quality_mean: float = param(
        0.4, "mean content quality of government accounts' posts", unit="0–1", **_MEAN
    )
    training_day: int = param(
        -1,
        "day government account operators are trained (雪城发布); −1: never",
        unit="day",
        low=-1,
        high=100_000,
    )
    training_gain: float = param(
        0.3, "content quality the training adds (capped at 1)", unit="0–1", low=0, high=1
    )
    tv_urban: float = param(
        0.05,
        "baseline channel (city TV, news portal): daily probability that an urban resident "
        "learns a live message, whether or not they use the app",
        unit="probability per day",
        **_PROB,
    )
    tv_rural: float = param(
        0.02,
        "baseline channel: the same for a rural resident",
        unit="probability per day",
        **_PROB,
    )


@dataclass(frozen=True)
class Run(Section):
    """How a scenario is run by default (the command line and ``simulate(days=None)``)."""

    days: int = param(90, "days to simulate", unit="days", low=0, high=100_000)
    seed: int = param(
        0, "random seed of the run (the same seed gives identical results)", low=0, high=2**63 - 1
    )


_SECTIONS: dict[str, type[Section]] = {
    "population": Population,
    "products": Products,
    "creators": Creators,
    "storefronts": Storefronts,
    "word_of_mouth": WordOfMouth,
    "decision": Decision,
    "outcomes": Outcomes,
    "policy": Policy,
    "producers": Producers,
    "training": Training,
    "shock": Shock,
    "information": Information,
    "run": Run,
}


@dataclass(frozen=True)
class Scenario:
    """Every parameter of a simulation: the city and one section per part of the model."""

    city: CitySpec
    population: Population = field(default_factory=Population)
    products: Products = field(default_factory=Products)
    creators: Creators = field(default_factory=Creators)
    storefronts: Storefronts = field(default_factory=Storefronts)
    word_of_mouth: WordOfMouth = field(default_factory=WordOfMouth)
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
        for key, kind in _SECTIONS.items():
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
        """The section names and types, the city (``"city"``) first."""
        return {"city": CitySpec, **_SECTIONS}

    @classmethod
    def preset(cls, name: str = "mudanjiang", scale: float = 1.0, **changes: Any) -> Scenario:
        """A shipped scenario (``models/<name>/scenario.toml``) or a city preset, at ``scale``.

        ``scale`` multiplies every region's population; ``changes`` are dotted keys.
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

        The ``city`` table takes the city parameters, and either ``regions`` (a list of tables
        with name, population, urban_share and optionally name_zh) or ``preset`` (a city
        preset's regions), and optionally ``scale``.
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
        return cls(**sections)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Scenario:
        """Read a scenario file; errors name the file, the table, the key and the value."""
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
        """The scenario as TOML, every value explicit; ``from_toml`` reads it back exactly."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes``: whole sections by name, or dotted keys ``section.key``.

        ``city.<key>`` changes a city parameter.
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
        """Every parameter as a DataFrame: key, value, default, changed, unit, allowed, source,
        meaning (what ``laotie params`` prints)."""
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
        """Every parameter as ``{"section.key": value}`` (regions excluded)."""
        out = {}
        for name in self.sections():
            section = getattr(self, name)
            for key in section.params():
                out[f"{name}.{key}"] = getattr(section, key)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Nested plain values, one table per section (the inverse of :meth:`from_dict`)."""
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
        fields = ("name", "population", "urban_share", "name_zh")
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
    """Names of the scenarios shipped in ``models/``."""
    names: set[str] = set()
    for folder in MODELS_DIRS:
        if folder.is_dir():
            names |= {p.parent.name for p in folder.glob("*/scenario.toml")}
    return sorted(names)


def scenario_path(name: str) -> Path | None:
    """The file of the shipped scenario ``name``, or None."""
    for folder in MODELS_DIRS:
        path = folder / name / "scenario.toml"
        if path.is_file():
            return path
    return None


def read_spec(path: str | Path, kind: str, allowed: set[str], required: tuple[str, ...]) -> dict:
    """The TOML table of a spec file (a sweep, a sensitivity analysis) whose keys are checked.

    Errors name the file and say what is wrong: missing, unreadable, not TOML, an unknown key
    (with the nearest allowed one) or a required key missing.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such {kind} file") from None
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read ({err.strerror})") from None
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML ({err})") from None
    unknown = sorted(set(data) - allowed)
    if unknown:
        hint = did_you_mean(unknown[0], sorted(allowed))
        raise ScenarioError(
            f"{path}: unknown key {unknown[0]!r}{hint} (valid keys: {', '.join(sorted(allowed))})"
        )
    for key in required:
        if key not in data:
            raise ScenarioError(f"{path}: {key} is missing")
    return data


def spec_scenario(path: str | Path, name: object) -> Scenario:
    """The base scenario a spec file names: a shipped scenario, or a ``.toml`` file relative to
    the spec."""
    if not isinstance(name, str):
        raise ScenarioError(f"{path}: scenario = {name!r}; expected a name or a .toml file")
    candidate = Path(path).parent / name
    return Scenario.from_toml(candidate) if candidate.suffix == ".toml" else Scenario.preset(name)


def as_points(keys: list[str], rows: Any) -> list[dict[str, Any]]:
    """Sampled rows as scenario points ``{dotted key: value}``: integer parameters rounded to
    the nearest integer, the others as floats (sweeps and sensitivity analyses sample the same
    way)."""
    sections = Scenario.sections()
    integer = [
        sections[k.partition(".")[0]].params()[k.partition(".")[2]].kind is int for k in keys
    ]
    return [
        {
            key: round(float(value)) if is_int else float(value)  # round half to even
            for key, value, is_int in zip(keys, row, integer, strict=True)
        }
        for row in rows
    ]


def sample_range(
    base: Scenario, key: str, given: Any, *, where: str, ends: bool = False, hint: str = ""
) -> tuple[float, float]:
    """The range ``[low, high]`` over which a numeric parameter is sampled: ``given``, or its
    declared bounds when ``given`` is None.

    Errors name ``where``, the key (with the nearest one when it is unknown) and what is
    allowed. With ``ends``, both ends must be allowed values (Morris's grid takes them).
    """
    sections = Scenario.sections()
    section, _, name = key.partition(".")
    if section not in sections or name not in sections[section].params():
        raise ScenarioError(
            f"{where}: unknown parameter {key!r}{did_you_mean(key, list(base.flat()))} "
            f"(see `laotie params SCENARIO` for the dotted keys)"
        )
    declared = sections[section].params()[name]
    if declared.kind not in (int, float):
        raise ScenarioError(
            f"{where}: {key} is {declared.allowed()}, not numeric: only numeric parameters can "
            f"be sampled{f' ({hint})' if hint else ''}"
        )
    if given is None:
        if declared.low is None or declared.high is None:
            raise ScenarioError(
                f"{where}: {key} has no declared range on both sides ({declared.allowed()}): "
                f"give [low, high]"
            )
        low, high = declared.low, declared.high
    elif (
        isinstance(given, list | tuple)
        and len(given) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in given)
    ):
        low, high = given
    else:
        raise ScenarioError(
            f"{where}: {key} = {given!r}; expected [low, high] (or [] for the declared range: "
            f"{declared.allowed()})"
        )
    if not all(map(math.isfinite, (low, high))) or not low < high:
        raise ScenarioError(
            f"{where}: {key} = [{low}, {high}]; expected a finite range with low < high"
        )
    if ends:
        for end in (low, high):
            value = round(end) if declared.kind is int else float(end)
            try:
                base.replace(**{key: value})
            except ScenarioError as err:
                raise ScenarioError(
                    f"{where}: {key} = [{low}, {high}]: {err} (the samples reach both ends: "
                    f"give [low, high] within the allowed values)"
                ) from None
    return float(low), float(high)
