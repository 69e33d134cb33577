"""The model's parameters, declared once, one frozen section per part of the model.

Each field is declared with :func:`~laotie.params.param`: its default, type, bounds or
choices, unit, one sentence of meaning and the source of the default. A
:class:`~laotie.scenario.Scenario` holds one of each section (and the city,
:class:`~laotie.graph.CitySpec`, and where its graph comes from, :class:`GraphSource`); the
tables of docs/model.md are generated from these declarations
(``python docs/update_tables.py``).

Examples
--------
>>> Policy().traffic
'inclusive'
>>> Policy(reach=1.5)
Traceback (most recent call last):
...
laotie.errors.ScenarioError: Policy: reach = 1.5 is not allowed; expected a number, ...
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self, TypedDict

from .errors import GraphError, ScenarioError
from .params import Section, did_you_mean, param

__all__ = [
    "SECTIONS",
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
    "Shock",
    "Storefronts",
    "Training",
    "WordOfMouth",
]


class _Range(TypedDict, total=False):
    """Bounds that many declarations share, passed to :func:`~laotie.params.param` as ``**``."""

    low: float
    high: float
    low_open: bool
    high_open: bool


_PROB: _Range = {"low": 0, "high": 1}
_MEAN: _Range = {"low": 0, "high": 1, "low_open": True, "high_open": True}
_CONC: _Range = {"low": 0, "high": 1e6, "low_open": True}


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
    propensity_dispersion: float = param(
        0.0,
        "standard deviation of users' purchase propensity: a Normal offset of each user's "
        "purchase logit, so that some users buy readily and most seldom (0: all alike)",
        unit="logit",
        low=0,
        high=10,
        source="assumed; T5 with T7 (docs/calibration.md: a high repurchase needs it)",
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
    catalogue: str = param(
        "separate",
        "where sellers' products come from: 'separate' (each seller has its own products, "
        "priced with its type's price_mean and price_dispersion) or 'shared' (one catalogue "
        "of n_products products priced with the price_mean and price_dispersion below, from "
        "which creators and storefronts alike list theirs: the same goods through both "
        "channels)",
        choices=("separate", "shared"),
    )
    n_products: int = param(
        1000,
        "under catalogue = 'shared': the products of the catalogue (at least the larger of "
        "creators.catalogue_size and storefronts.products_per_storefront)",
        unit="products",
        low=1,
        high=10_000_000,
    )
    price_mean: float = param(
        90.0,
        "under catalogue = 'shared': mean price of a product (log-normal)",
        unit="RMB",
        low=0,
        high=1e7,
        low_open=True,
        source="assumed: between D1's order values, ≈ 70 RMB (Kuaishou) and ≈ 120 RMB "
        "(Taobao), so that neither channel's is built in",
    )
    price_dispersion: float = param(
        0.6,
        "under catalogue = 'shared': log-sd of prices",
        unit="log-sd",
        low=0,
        high=5,
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
    enter_prob: float = param(
        1.0,
        "probability that a viewer shown a creator's post (follow or discovery) enters the "
        "live room or watches the video, the funnel's first stage; the purchase logit "
        "applies to entrants (1: every viewer enters, no separate stage)",
        unit="probability",
        source="assumed; T3 (B2) gives the second stage: ≈ 0.7 % of live-room entrants buy",
        low=0,
        high=1,
        low_open=True,
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
    click_prob: float = param(
        1.0,
        "probability that a storefront impression is clicked through to the product page, "
        "the funnel's first stage; the purchase logit applies to clicks (1: every "
        "impression counts as a click, no separate stage)",
        unit="probability",
        source="assumed (1 keeps the model without the stage); T1 (A7): 4.05 % of Taobao's "
        "recommended impressions are clicked, 0.53 % of clicks buy",
        low=0,
        high=1,
        low_open=True,
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
    trust_scaled: bool = param(
        False,
        "whether a listener hears a recommendation with probability prob × their trust in "
        "the recommender (true) or prob whatever the trust (false)",
    )
    warn_prob: float = param(
        0.0,
        "probability that a disappointed buyer warns each person who trusts them (local and "
        "city ties) about the seller, per day of warning (× their trust with trust_scaled); "
        "a warning lowers the listener's trust in the seller (0: no warnings)",
        unit="probability",
        source="assumed (negative word of mouth, 差评); explore 0–2 × prob",
        **_PROB,
    )


@dataclass(frozen=True)
class Loyalty(Section):
    """Return customers (回头客): a satisfied buyer's habit of coming back to the seller."""

    gain: float = param(
        0.5,
        "after a satisfying order from a seller, the buyer's loyalty to the seller gains this "
        "share of its distance to 1",
        unit="share",
        **_PROB,
    )
    half_life: float = param(
        30.0,
        "days without a satisfying order from the seller after which loyalty has halved",
        unit="days",
        low=0.01,
        high=1e6,
    )
    return_creators: float = param(
        0.0,
        "daily probability that an active user of loyalty 1 to a creator comes back to the "
        "creator's live room or shop window (回头客) by themselves; it scales with loyalty "
        "(0: no return visits)",
        unit="probability per day",
        source="assumed; T5 (B11): 60–70 % of Kuaishou buyers buy again within a month",
        **_PROB,
    )
    return_storefronts: float = param(
        0.0,
        "the same for a storefront's shop (0: no return visits)",
        unit="probability per day",
        source="assumed; T5 (A10): 20–30 % repeat rate for generic stores",
        **_PROB,
    )
    weight: float = param(
        1.0,
        "logit weight of loyalty in a return visit's utility",
        low=-50,
        high=50,
    )


@dataclass(frozen=True)
class Growth(Section):
    """A platform that grows (multi-year runs): residents adopt it through their ties and
    leave it, sellers enter when it pays. Off at the defaults (every registered user and
    every seller is there from the first day)."""

    initial_users: float = param(
        1.0,
        "share of the graph's registered users who use the platform on the first day; the "
        "others may adopt it later (1: no adoption)",
        unit="share of registered users",
        **_PROB,
    )
    external: float = param(
        0.03,
        "yearly rate at which a registered user who does not use the platform yet adopts it "
        "from outside influence (media, ads): Bass p",
        unit="per year",
        low=0,
        high=100,
        source="T16 (E6): a prior, p ≈ 0.03 per year",
    )
    social: float = param(
        0.38,
        "yearly rate of adoption through ties, times the trust-weighted share of the user's "
        "local and city ties who use the platform: Bass q on the trust graph",
        unit="per year",
        low=0,
        high=100,
        source="T16 (E6, E7): a prior, q ≈ 0.38 per year",
    )
    churn: float = param(
        0.0,
        "monthly probability that a user leaves the platform (and may adopt it again later)",
        unit="probability per month",
        **_PROB,
    )
    initial_sellers: float = param(
        1.0,
        "share of the selling creators, of the storefronts and of the listed producers "
        "selling on the first day (at least one storefront); the others enter when it pays "
        "(1: no entry)",
        unit="share of sellers",
        **_PROB,
    )
    entry_rate: float = param(
        0.2,
        "largest monthly probability that a seller not yet selling enters, reached when the "
        "sellers of its kind earn far more than its entry threshold",
        unit="probability per month",
        **_PROB,
    )
    creator_entry_income: float = param(
        100.0,
        "a creator's entry threshold: the mean commission income per selling creator in the "
        "last month at which selling starts to pay",
        unit="RMB per month",
        low=0,
        high=1e9,
    )
    storefront_entry_gmv: float = param(
        10_000.0,
        "a storefront's entry threshold: the mean GMV per open storefront in the last month "
        "at which opening starts to pay",
        unit="RMB per month",
        low=0,
        high=1e12,
    )
    producer_entry_income: float = param(
        0.0,
        "a producer's entry threshold: the mean net income per online producer in the last "
        "month (online receipts less fees, logistics, fixed costs and displaced offline "
        "sales) at which selling online starts to pay; 0: producers go online as soon as "
        "those online gain on average",
        unit="RMB per month",
        low=0,
        high=1e9,
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
    satisfaction: str = param(
        "tolerance",
        "how the tolerance of a seller type is set: 'tolerance' (the value above, for every "
        "seller) or 'rate' (solved at set-up so that the mean chance of disappointment over "
        "the type's listings is disappointment_creators or disappointment_storefronts)",
        choices=("tolerance", "rate"),
    )
    disappointment_creators: float = param(
        0.3,
        "under satisfaction = 'rate': the mean chance that an order from a creator's listing "
        "disappoints, at set-up",
        unit="share of orders",
        source="A9: 30–50 % of live-commerce orders are returned (grade L; returns are an "
        "upper bound on disappointment); explore 0.05–0.5",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
    )
    disappointment_storefronts: float = param(
        0.12,
        "under satisfaction = 'rate': the same for a storefront's listings",
        unit="share of orders",
        source="A2, A9: 10–15 % of conventional e-commerce orders are returned (11.5 % "
        "globally); explore 0.03–0.3",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
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
    offline_income: float = param(
        20.0,
        "mean income a producer made from its specialty offline before the platform "
        "(markets, middlemen); drawn per producer",
        unit="RMB per day",
        low=0,
        high=1e6,
    )
    offline_dispersion: float = param(
        0.8, "log-sd of producers' offline income", unit="log-sd", low=0, high=5
    )
    displacement: float = param(
        0.3,
        "share of a producer's online receipts that replaces sales it made offline before "
        "(buyers who would have bought anyway), up to its offline income",
        unit="share",
        **_PROB,
    )
    platform_fee: float = param(
        0.05,
        "share of a producer's online receipts paid to the platform (技术服务费)",
        unit="share",
        **_PROB,
    )
    cost_per_order: float = param(
        6.0,
        "a producer's logistics and packaging cost per online order (快递, 包装)",
        unit="RMB per order",
        low=0,
        high=1e6,
    )
    fixed_cost: float = param(
        0.0,
        "a producer's daily cost of selling online (data, equipment, time), on the days its "
        "specialty sells online: from the first day if some seller lists it, or with growth "
        "from the day the producer enters",
        unit="RMB per day",
        low=0,
        high=1e6,
    )


@dataclass(frozen=True)
class Training(Section):
    """A creator-training programme (培训: 雪城幸福家乡代言人, 正能量大V成长计划)."""

    day: int = param(-1, "day of training (−1: no training)", unit="day", low=-1, high=100_000)
    n_creators: int = param(0, "creators trained", unit="creators", low=0, high=10**7)
    rule: str = param(
        "local",
        "who is trained: most followers, local creators (random), rural creators, random, or "
        "'targeted': the creators a policy names (laotie.policy; not from a scenario file)",
        choices=("followers", "local", "rural", "random", "targeted"),
        api_only=("targeted",),
    )
    authenticity_gain: float = param(
        0.1, "authenticity added (capped at 1)", unit="0–1", low=0, high=1
    )
    content_quality_gain: float = param(
        0.1, "content quality added (capped at 1)", unit="0–1", low=0, high=1
    )
    follower_gain: int = param(
        0,
        "new followers each trained creator gains (random users); the bound is a sane one, "
        "not a measured one",
        unit="followers",
        low=0,
        high=100_000,
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
    training_rule: str = param(
        "all",
        "whose operators are trained on training_day: every government account's ('all'), "
        "or 'targeted': the accounts of the regions a policy names (laotie.policy; not from "
        "a scenario file)",
        choices=("all", "targeted"),
        api_only=("targeted",),
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


_ROLE_RULES = {
    "creators": "attr:NAME, top-degree:K, top:NAME:K, random:SHARE or none",
    "users": "attr:NAME, top-degree:K, top:NAME:K, random:SHARE, all or none",
    "rural": "attr:NAME, top-degree:K, top:NAME:K, random:SHARE, all or none",
    "regions": "attr:NAME, louvain, greedy or none",
}
_CONVENTION = "laotie's convention (docs/own_graph.md)"


@dataclass(frozen=True)
class GraphSource(Section):
    """Where the trust graph comes from (``[graph]``): the city that laotie builds from
    ``[city]`` (the default: no ``from``), or a graph file that a researcher brings, read and
    mapped by declared rules (docs/own_graph.md, "In a scenario file").

    The keys are the keywords of :func:`laotie.graph.read_graph` and the flags of
    ``laotie graph --from FILE`` (``trust`` is ``--trust-attr``, ``follows`` is
    ``--grow-follows``), with the same rule strings. A rule left empty keeps the graph's own
    attribute (``creator_kind``, ``user``, ``rural``, ``region``). The mapping is part of the
    scenario: the same scenario gives the same graph whatever the run's seed (``seed`` seeds
    the mapping's random rules, communities and follow ties).

    Parameters
    ----------
    file : str, default ""
        The graph file: ``from`` in a scenario file, relative to the scenario file's folder
        (to the working folder when given in Python or with ``--set graph.from=...``). Kept
        as an absolute path, so that a scenario written beside a run's results, in a sweep's
        ``sweep.json`` or with a saved result still names the file. Empty: build the city.
    sha256 : str, default ""
        The SHA-256 of the file's bytes, taken when the source is made (or kept as given),
        and written with the scenario: a run refuses a file whose bytes changed since, so
        that a written scenario repeats its run or says why it cannot.

    Raises
    ------
    ScenarioError
        For a rule, transform or format that is not allowed, a mapping without ``from``, or
        a key that the file's format cannot use (naming the key, the value and what is
        allowed).

    Examples
    --------
    >>> GraphSource().file  # no file: the scenario's city is built
    ''
    >>> GraphSource(creators="top-degree:5")
    Traceback (most recent call last):
    ...
    laotie.errors.ScenarioError: GraphSource: creators = 'top-degree:5' maps a graph read ...
    """

    file: str = ""
    sha256: str = ""
    format: str = param(
        "auto",
        "the file's format: 'auto' (by its suffix; .gz, .bz2, .xz and .zip are read "
        "through), or csv, edgelist (= snap: whitespace, # comments), graphml, gexf or npz "
        "(a graph saved by laotie, already mapped)",
        choices=("auto", "csv", "edgelist", "snap", "graphml", "gexf", "npz"),
        source=_CONVENTION,
    )
    source: str = param(
        "",
        "the CSV column of the ties' first ends (empty: 'source')",
        source=_CONVENTION,
    )
    target: str = param(
        "",
        "the CSV column of the ties' second ends (empty: 'target')",
        source=_CONVENTION,
    )
    directed: bool = param(
        False,
        "whether an edge list's ties are one-way (false: each tie is trust both ways; "
        "GraphML and GEXF say it themselves)",
        source=_CONVENTION,
    )
    trust: str = param(
        "",
        "the edge attribute or column holding raw trust (信任), e.g. 'weight' (empty: "
        "'trust' when the ties have it, else each layer's mean trust, with a warning naming "
        "the attributes that could have been trust)",
        source=_CONVENTION,
    )
    transform: str = param(
        "identity",
        "how raw values w become trust in (0, 1]: 'identity' (w), 'minmax[:LOW]', 'rank' "
        "or 'saturating[:K]' (w / (w + K), K the median of w unless given)",
        source=_CONVENTION,
    )
    creators: str = param(
        "",
        "rule marking the creators (达人), drawn among the users: "
        + _ROLE_RULES["creators"]
        + " (empty: the graph's creator_kind attribute, or no creator)",
        source=_CONVENTION,
    )
    users: str = param(
        "",
        "rule marking the registered users (注册用户): "
        + _ROLE_RULES["users"]
        + " (empty: the graph's user attribute, or every node)",
        source=_CONVENTION,
    )
    rural: str = param(
        "",
        "rule marking the rural nodes, among which poor producers are drawn: "
        + _ROLE_RULES["rural"]
        + " (empty: the graph's rural attribute, or none)",
        source=_CONVENTION,
    )
    regions: str = param(
        "",
        "rule assigning the regions (县, 乡) and hometowns: "
        + _ROLE_RULES["regions"]
        + " (empty: the graph's region and hometown attributes, or one region)",
        source=_CONVENTION,
    )
    creator_kind: str = param(
        "local",
        "kind of the creators a rule marks: 'local' (本地达人), 'head' (头部主播) or 'gov' "
        "(政务号: informs, does not sell)",
        choices=("local", "head", "gov"),
        source=_CONVENTION,
    )
    follows: bool = param(
        False,
        "grow follow ties (关注) onto the graph with the follower model of [city] "
        "(min_followers, follower_exponent, max_follower_share, follow_locality, "
        "trust_follow, trust_concentration); the graph must have none",
        source=_CONVENTION,
    )
    seed: int = param(
        0,
        "seed of the mapping's random rules, communities and follow ties: the same seed "
        "gives the same graph, whatever the run's seed",
        low=0,
        high=2**63 - 1,
        source=_CONVENTION,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        where = type(self).__name__
        for key, value in (("from", self.file), ("sha256", self.sha256)):
            if not isinstance(value, str):
                raise ScenarioError(
                    f"{where}: {key} = {value!r} is not allowed; expected a string"
                    + (" (the graph file's path)" if key == "from" else "")
                )
        if self.file:
            # Absolute, so that a scenario written elsewhere (a run's folder, a sweep's
            # spec) still names the same file.
            object.__setattr__(self, "file", os.path.abspath(os.path.expanduser(self.file)))
            if not self.sha256 and os.path.isfile(self.file):
                from ._io import file_sha256

                object.__setattr__(self, "sha256", file_sha256(self.file))
        self._check(where)

    def _check(self, where: str) -> None:
        """Refuse what the mapping cannot mean: rules, transforms and formats that do not
        parse, a mapping without a file, keys that the file's format cannot use."""
        from .graph.io import forced_npz, graph_format
        from .graph.roles import TRANSFORMS, parse_rule, parse_transform

        given = {
            key: getattr(self, key)
            for key, declared in self.params().items()
            if getattr(self, key) != declared.default
        }
        if not self.file:
            for key, value in [*given.items(), ("sha256", self.sha256)]:
                if value:
                    raise ScenarioError(
                        f"{where}: {key} = {value!r} maps a graph read from a file, but from is "
                        "not given (without it the scenario's city is built); give from = "
                        "the graph file"
                    )
            return
        if len(self.sha256) not in (0, 64) or any(c not in "0123456789abcdef" for c in self.sha256):
            raise ScenarioError(
                f"{where}: sha256 = {self.sha256!r} is not allowed; expected 64 hexadecimal "
                "digits (laotie writes it), or leave it out"
            )
        try:
            parse_transform(self.transform)
        except GraphError as err:
            name = self.transform.partition(":")[0]
            hint = "" if name in TRANSFORMS else did_you_mean(name, TRANSFORMS)
            raise ScenarioError(f"{where}: {err}{hint}") from None
        for role, forms in _ROLE_RULES.items():
            rule = getattr(self, role)
            if not rule:
                continue
            try:
                parse_rule(role, rule)
            except GraphError as err:
                names = [form.partition(":")[0] for form in forms.replace(" or ", ", ").split(", ")]
                name = rule.partition(":")[0]
                hint = "" if name in names else did_you_mean(name, names)
                raise ScenarioError(f"{where}: {err}{hint}") from None
        if self.transform != "identity" and not self.trust:
            raise ScenarioError(
                f"{where}: transform = {self.transform!r} needs the raw values; name their "
                "edge attribute or column with trust = ..."
            )
        if self.creator_kind != "local" and not self.creators:
            raise ScenarioError(
                f"{where}: creator_kind = {self.creator_kind!r} is the kind of the creators a "
                "rule marks, but no creators rule is given (creators = ...)"
            )
        if os.path.isdir(self.file):
            raise ScenarioError(
                f"{where}: from = {self.file!r} is a folder; name the graph file in it"
            )
        try:
            kind = graph_format(self.file, None if self.format == "auto" else self.format)
        except GraphError as err:
            raise ScenarioError(f"{where}: from: {err} (format = ...)") from None
        if os.path.isfile(self.file) and forced_npz(self.file, self.format):
            raise ScenarioError(
                f"{where}: format = 'npz', but {self.file} is not a laotie npz graph (one saved "
                "by laotie: laotie graph --out FILE.npz); allowed formats: "
                f"{', '.join(GraphSource.params()['format'].choices or ())}: name the file's "
                "own, or 'auto' to go by its suffix"
            )
        if kind == "npz":
            mapped = [key for key in given if key != "format"]  # seed too: nothing to seed
            if mapped:
                raise ScenarioError(
                    f"{where}: {mapped[0]} = {given[mapped[0]]!r}, but {self.file} is a graph "
                    "saved by laotie, already mapped when it was saved: no mapping applies"
                )
        for key in ("source", "target"):
            if given.get(key) and kind != "csv":
                raise ScenarioError(
                    f"{where}: {key} = {given[key]!r} names a CSV column, but {self.file} is "
                    f"read as {kind} (a whitespace edge list's columns are source, target, "
                    "weight, column4, ...)"
                )
        if self.directed and kind not in ("csv", "edgelist"):
            raise ScenarioError(
                f"{where}: directed = true applies to edge lists; {self.file} is read as "
                f"{kind}, which says itself whether its ties are one-way"
            )

    @classmethod
    def keys(cls) -> list[str]:
        """Every key of the section: ``from``, ``sha256`` and the declared parameters.

        Returns
        -------
        list of str
        """
        return ["from", "sha256", *cls.params()]

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        where: str = "",
        folder: str | os.PathLike[str] | None = None,
    ) -> Self:
        """Make the section from a ``[graph]`` table.

        Parameters
        ----------
        data : mapping of str to value
            ``from``, ``sha256`` and declared parameters; missing keys take their defaults.
        where : str, optional
            Prefixes every error message (a file name and table); default: the class name.
        folder : str or path, optional
            A relative ``from`` is taken from this folder (:meth:`Scenario.from_toml` passes
            the scenario file's); default: the working folder.

        Returns
        -------
        GraphSource

        Raises
        ------
        ScenarioError
            For an unknown key (with the nearest valid one) or a value that is not allowed.
        """
        where = where or cls.__name__
        cls._check_keys(data, where)
        declared = cls.params()
        values = {
            key: declared[key].check(value, key, where)
            for key, value in data.items()
            if key in declared
        }
        file = data.get("from", "")
        if isinstance(file, str) and file and folder is not None:
            file = os.path.join(folder, os.path.expanduser(file))
        return cls._made(where, file=file, sha256=data.get("sha256", ""), **values)

    def replace(self, where: str = "", /, **changes: Any) -> Self:
        """A copy with ``changes`` (``from`` for the file, which takes its new SHA-256).

        Parameters
        ----------
        where : str, optional
            Positional only: names the source in error messages; default: the class name.
        **changes
            Keys of the section and their new values.

        Returns
        -------
        GraphSource

        Raises
        ------
        ScenarioError
            For an unknown key (with the nearest valid one) or a value that is not allowed.
        """
        where = where or type(self).__name__
        self._check_keys(changes, where)
        values = dict(changes)
        if "from" in values:
            values["file"] = values.pop("from")
            values.setdefault("sha256", "")
        return type(self)._made(where, **(self._fields() | values))

    def to_dict(self) -> dict[str, Any]:
        """The section as a ``[graph]`` table (the inverse of :meth:`from_dict`).

        Returns
        -------
        dict of str to value
            ``from``, ``sha256`` and every declared parameter.
        """
        return {"from": self.file, "sha256": self.sha256} | {
            key: getattr(self, key) for key in self.params()
        }

    def _fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def _made(cls, where: str, **values: Any) -> Self:
        """``cls(**values)``, its errors named after ``where``."""
        try:
            return cls(**values)
        except ScenarioError as err:
            message = str(err)
            if not message.startswith(where):
                message = f"{where}: {message.removeprefix(cls.__name__ + ': ')}"
            raise ScenarioError(message) from None


SECTIONS: dict[str, type[Section]] = {
    "population": Population,
    "products": Products,
    "creators": Creators,
    "storefronts": Storefronts,
    "word_of_mouth": WordOfMouth,
    "loyalty": Loyalty,
    "growth": Growth,
    "decision": Decision,
    "outcomes": Outcomes,
    "policy": Policy,
    "producers": Producers,
    "training": Training,
    "shock": Shock,
    "information": Information,
    "run": Run,
}
"""The sections of a :class:`~laotie.scenario.Scenario` by name, in order (the city apart)."""
