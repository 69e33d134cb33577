"""The engine against the test oracle (tests/oracle.py), and the documented invariants.

The oracle is a plain, one-object-per-agent implementation of docs/model.md sections 3.4–3.6.
The engine and the oracle draw different random streams, so they are compared in
distribution: over many simulation seeds on a fixed graph, the mean of every count or sum
metric (per day and channel, and its total over the days) must agree within

    |mean_engine - mean_oracle| <= z * sqrt(se_engine**2 + se_oracle**2),

with ``z`` from a Bonferroni correction over every comparison of the file at a family-wise
error of 0.001. Where both sides are exactly deterministic (standard error 0) the means must
be equal up to a rounding floor. Runs of a complete 30-day month or more compare the monthly
frame (``Result.monthly``) the same way, per month.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pytest
from oracle import (
    CHANNELS,
    COLUMNS,
    COUNTS,
    CUSTOMER_COUNTS,
    FAMILIES,
    FOLLOW,
    GOV,
    HEAD,
    INFORMATION_COLUMNS,
    LOCAL_CREATOR,
    MONTH_DAYS,
    MONTHLY_COLUMNS,
    OUTSIDE,
    OUTSIDE_REGION,
    PATHS,
    PRODUCER_COLUMNS,
    ROWS,
    Market,
    Order,
    run_oracle,
)
from scipy.special import beta as beta_function
from scipy.special import ndtr
from scipy.stats import chi2, norm

from laotie import Engine, Result, graph, metrics
from laotie.accounts import producer_frame
from laotie.scenario import Scenario

FAMILY_WISE_ERROR = 0.001
N_SEEDS = 200  # per side and scenario in the default run
DAYS = 15
SLOW_SEEDS = 1000
SLOW_DAYS = 40  # crosses the monthly budget reset of day 30 and records one month
ADDITIVE = (
    "exposures",
    "clicks",
    "orders",
    "gmv",
    "first_orders",
    "disappointed",
    "new_follows",
    "budget_blocked",
)
DISTINCT = ("exposed_users", "buyers")
INTEGER = tuple(c for c in (*ADDITIVE, *DISTINCT) if c != "gmv")
MONTHLY_METRICS = MONTHLY_COLUMNS[1:]  # compared per month

# ----------------------------------------------------------------------------- scenarios
SPEC = graph.CitySpec(
    regions=(graph.Region("A", 240, 0.5), graph.Region("B", 120, 0.2)),
    local_degree=8,
    group_size=40,
    city_degree=4,
    creator_share=0.08,
    min_followers=8,
    max_follower_share=0.3,
    head_share=0.15,
)
GRAPH_SEED = 7
# SPEC with 8 creators outside the city (外地达人, docs/model.md 3.1, 9): their platform
# followers (at least 20) thinned by 202 city users of 250 platform users give them 18 to 128
# followers in the city on GRAPH_SEED's graph, more than most of the city's own creators
# (so that rules ranking by followers would pick them); the residents' graph is SPEC's.
OUTSIDE_SPEC = replace(SPEC, outside_creators=8, outside_min_followers=20, platform_users=250)

SCENARIOS: dict[str, dict[str, object]] = {
    # Every channel busy: the inclusive policy with a binding head cap, a strong memory of past
    # purchases, word of mouth over 3 days, trust-dependent baskets, price comparison among
    # few categories, training of local creators with new followers, users who differ in
    # their purchase propensity.
    "busy_inclusive": {
        "policy.head_cap": 0.15,
        "population.propensity_dispersion": 1.5,
        "decision.repeat_weight": 2.0,
        "decision.intercept": -2.5,
        "decision.basket_trust_effect": 1.0,
        "word_of_mouth.prob": 0.15,
        "word_of_mouth.days": 3,
        "policy.discovery_per_active": 1.0,
        "creators.post_prob": 0.7,
        "storefronts.n_storefronts": 8,
        "storefronts.products_per_storefront": 4,
        "storefronts.comparisons": 2,
        "storefronts.impressions_per_active": 0.5,
        "products.n_categories": 4,
        "training.day": 5,
        "training.n_creators": 3,
        "training.rule": "local",
        "training.follower_gain": 10,
    },
    # The head policy (reach and discovery grow with followers) with a tight budget so that
    # the budget prefix rule binds; training of the most followed creators.
    "head_tight_budget": {
        "policy.traffic": "head",
        "policy.head_exponent": 1.0,
        "decision.repeat_weight": 2.0,
        "decision.intercept": -2.0,
        "decision.price_weight": 0.1,
        "decision.basket_extra_items": 1.5,
        "population.budget_mean": 150.0,
        "word_of_mouth.prob": 0.1,
        "policy.discovery_per_active": 0.8,
        "creators.post_prob": 0.8,
        "storefronts.n_storefronts": 10,
        "storefronts.products_per_storefront": 3,
        "storefronts.impressions_per_active": 0.5,
        "products.n_categories": 3,
        "training.day": 3,
        "training.n_creators": 2,
        "training.rule": "followers",
        "training.follower_gain": 6,
    },
    # Poor producers' specialties listed by local creators and by storefronts (so they enter
    # price comparison), inauthentic creators, a budget that binds now and then; training of
    # rural creators.
    "producers": {
        "producers.n_producers": 8,
        "producers.channel": "both",
        "producers.listings": 2,
        "population.budget_mean": 300.0,
        "decision.intercept": -1.5,
        "decision.price_weight": 0.1,
        "word_of_mouth.prob": 0.2,
        "policy.discovery_per_active": 1.0,
        "creators.post_prob": 0.8,
        "creators.catalogue_size": 2,
        "creators.authenticity_mean": 0.5,
        "outcomes.overstatement": 0.3,
        "storefronts.n_storefronts": 6,
        "storefronts.products_per_storefront": 2,
        "storefronts.impressions_per_active": 0.5,
        "products.n_categories": 3,
        "training.day": 4,
        "training.n_creators": 3,
        "training.rule": "rural",
        "training.follower_gain": 5,
    },
    # Single-purchase mode (Bass-style adoption) with a budget below most baskets, so that
    # the budget rule decides whether a user's one kept candidate is bought; random training.
    "single_purchase_tight_budget": {
        "population.repeat_purchases": False,
        "population.budget_mean": 80.0,
        "decision.intercept": -1.5,
        "decision.price_weight": 0.1,
        "word_of_mouth.prob": 0.3,
        "policy.discovery_per_active": 1.0,
        "creators.post_prob": 0.8,
        "storefronts.n_storefronts": 6,
        "storefronts.products_per_storefront": 3,
        "storefronts.impressions_per_active": 0.5,
        "products.n_categories": 3,
        "training.day": 4,
        "training.n_creators": 3,
        "training.rule": "random",
        "training.follower_gain": 5,
    },
    # Trust dynamics dominate: every creator posts every day to all its active followers,
    # storefront ads and word of mouth are busy, purchases hinge on trust (a large trust
    # weight, no memory term), half the orders disappoint (inauthentic sellers, noisy
    # quality) and trust moves fast both ways; a month, so that trust has time to move.
    "trust_dynamics": {
        "decision.trust_weight": 8.0,
        "decision.intercept": -5.0,
        "decision.repeat_weight": 0.0,
        "decision.price_weight": 0.05,
        "population.activity_mean": 0.6,
        "creators.post_prob": 1.0,
        "creators.authenticity_mean": 0.5,
        "storefronts.authenticity_mean": 0.5,
        "storefronts.trust": 0.5,
        "storefronts.n_storefronts": 4,
        "storefronts.products_per_storefront": 3,
        "storefronts.impressions_per_active": 0.5,
        "storefronts.comparisons": 1,
        "products.n_categories": 3,
        "policy.reach": 1.0,
        "policy.discovery_per_active": 0.5,
        "outcomes.overstatement": 0.3,
        "outcomes.quality_noise": 0.15,
        "outcomes.tolerance": 0.05,
        "outcomes.trust_gain": 0.3,
        "outcomes.trust_loss": 0.5,
        "word_of_mouth.prob": 0.2,
        "word_of_mouth.days": 2,
    },
    # The funnel (storefront impressions clicked with 0.3, creators' posts entered with 0.5)
    # with a raised intercept; satisfaction by rate, creators' listings disappointing more
    # often than storefronts', with noisy quality; trust moves fast and memory weighs, so
    # the tolerances decide later days' orders too.
    "funnel_rate": {
        "storefronts.click_prob": 0.3,
        "creators.enter_prob": 0.5,
        "decision.intercept": -0.5,
        "decision.repeat_weight": 2.0,
        "decision.price_weight": 0.1,
        "outcomes.satisfaction": "rate",
        "outcomes.disappointment_creators": 0.4,
        "outcomes.disappointment_storefronts": 0.1,
        "outcomes.quality_noise": 0.15,
        "outcomes.trust_gain": 0.2,
        "outcomes.trust_loss": 0.5,
        "word_of_mouth.prob": 0.1,
        "word_of_mouth.days": 2,
        "policy.discovery_per_active": 0.8,
        "creators.post_prob": 0.8,
        "storefronts.n_storefronts": 8,
        "storefronts.products_per_storefront": 4,
        "storefronts.comparisons": 2,
        "products.n_categories": 4,
    },
    # Bass-style adoption carried by word of mouth heard in proportion to trust: single
    # purchases (so first orders are all the orders), recommendations over 5 days from every
    # satisfied buyer, few other exposures behind a funnel, satisfaction by rate (storefronts
    # disappoint more here); a month and a day, for the monthly frame.
    "first_orders_wom": {
        "population.repeat_purchases": False,
        "population.activity_mean": 0.35,
        "population.activity_concentration": 0.5,
        "word_of_mouth.trust_scaled": True,
        "word_of_mouth.prob": 0.8,
        "word_of_mouth.days": 5,
        "decision.intercept": 0.5,
        "decision.price_weight": 0.1,
        "creators.enter_prob": 0.3,
        "creators.post_prob": 0.3,
        "policy.reach": 0.2,
        "policy.discovery_per_active": 0.1,
        "storefronts.click_prob": 0.5,
        "storefronts.n_storefronts": 6,
        "storefronts.products_per_storefront": 3,
        "storefronts.impressions_per_active": 0.1,
        "products.n_categories": 3,
        "outcomes.satisfaction": "rate",
        "outcomes.disappointment_creators": 0.2,
        "outcomes.disappointment_storefronts": 0.35,
        "outcomes.quality_noise": 0.2,
    },
    # Return customers (回头客), warnings (差评) and one shared catalogue over a month and a
    # day: loyal buyers come back often (loyalty rises by 0.9 of its distance to 1 and halves
    # in 8 days, so it both builds and fades within the run) and a return visit's utility
    # gains 2 L; storefronts are few and inauthentic (creators less so): half the orders
    # disappoint and each disappointed buyer warns each active friend with probability 0.5
    # for 3 days. Purchases hinge on trust and memory (weights 8 and 2.5), so a warning
    # weighs: a warned shopper's memory of a storefront is -1, and satisfied discovery
    # buyers mostly follow, so that many listeners follow the creator they are warned about.
    # Creators and storefronts list the same 20 goods; budgets seldom bind.
    "loyalty_warnings_shared": {
        "products.catalogue": "shared",
        "products.n_products": 20,
        "products.n_categories": 3,
        "products.price_dispersion": 0.5,
        "loyalty.return_creators": 0.5,
        "loyalty.return_storefronts": 0.8,
        "loyalty.weight": 2.0,
        "loyalty.gain": 0.9,
        "loyalty.half_life": 8.0,
        "word_of_mouth.warn_prob": 0.5,
        "word_of_mouth.prob": 0.1,
        "word_of_mouth.days": 3,
        "decision.intercept": -4.0,
        "decision.trust_weight": 8.0,
        "decision.repeat_weight": 2.5,
        "decision.price_weight": 0.1,
        "population.activity_mean": 0.8,
        "population.budget_mean": 3000.0,
        "creators.authenticity_mean": 0.7,
        "creators.catalogue_size": 3,
        "creators.enter_prob": 0.5,
        "creators.post_prob": 0.5,
        "creators.follow_prob": 0.8,
        "policy.reach": 0.15,
        "policy.discovery_per_active": 0.6,
        "storefronts.click_prob": 0.5,
        "storefronts.authenticity_mean": 0.4,
        "storefronts.trust": 0.3,
        "storefronts.n_storefronts": 3,
        "storefronts.products_per_storefront": 6,
        "storefronts.impressions_per_active": 0.5,
        "storefronts.comparisons": 1,
        "outcomes.overstatement": 0.3,
        "outcomes.quality_noise": 0.15,
        "outcomes.tolerance": 0.1,
        "outcomes.trust_loss": 0.5,
    },
    # Creators outside the city (on OUTSIDE_SPEC's graph) sell as heads under the inclusive
    # policy, whose cap binds with their large followings, and get no discovery traffic;
    # training (with many new followers) and producers' recruitment go by followers, where
    # the outside creators would lead; government messages with a strong baseline (TV), feeds
    # trained on day 5 and sharing in the app and offline, counted over residents only.
    "outside_inclusive": {
        "policy.head_cap": 0.2,
        "decision.intercept": -2.5,
        "decision.repeat_weight": 2.0,
        "decision.price_weight": 0.1,
        "word_of_mouth.prob": 0.1,
        "word_of_mouth.days": 2,
        "policy.discovery_per_active": 0.8,
        "creators.post_prob": 0.7,
        "storefronts.n_storefronts": 6,
        "storefronts.products_per_storefront": 3,
        "storefronts.impressions_per_active": 0.5,
        "products.n_categories": 3,
        "training.day": 3,
        "training.n_creators": 3,
        "training.rule": "followers",
        "training.follower_gain": 20,
        "training.authenticity_gain": 0.3,
        "producers.n_producers": 6,
        "producers.channel": "creators",
        "producers.recruit": "followers",
        "producers.listings": 3,
        "information.n_messages": 3,
        "information.interval": 4,
        "information.live_days": 3,
        "information.city_feed": 0.3,
        "information.hometown_feed": 0.4,
        "information.share_prob": 0.15,
        "information.offline_prob": 0.2,
        "information.tv_urban": 0.3,
        "information.tv_rural": 0.15,
        "information.training_day": 5,
        "information.training_gain": 0.3,
    },
    # The same city under the head policy: the outside creators' followings weigh in the mean
    # following (reach) and in discovery; random training and random recruitment of creators
    # for producers' specialties, whose pools hold only the city's creators.
    "outside_head_random": {
        "policy.traffic": "head",
        "policy.head_exponent": 0.8,
        "decision.intercept": -2.5,
        "decision.repeat_weight": 2.0,
        "decision.price_weight": 0.1,
        "word_of_mouth.prob": 0.1,
        "policy.discovery_per_active": 0.8,
        "creators.post_prob": 0.7,
        "storefronts.n_storefronts": 6,
        "storefronts.products_per_storefront": 3,
        "storefronts.impressions_per_active": 0.5,
        "products.n_categories": 3,
        "training.day": 3,
        "training.n_creators": 4,
        "training.rule": "random",
        "training.follower_gain": 20,
        "training.authenticity_gain": 0.3,
        "training.content_quality_gain": 0.5,
        "producers.n_producers": 6,
        "producers.channel": "creators",
        "producers.recruit": "random",
        "producers.listings": 3,
    },
    # A platform that grows (docs/model.md 3.5, Growth) over three months, with strong rates:
    # 40 % of the registered users and 30 % of the sellers are there on the first day; at the
    # starts of months 1 and 2 the others adopt it (Bass p = 3 and q = 6 per year on the trust
    # graph) and 20 % of the non-creators leave, while creators enter with probability 0.9 as
    # soon as the creators selling earned anything (a threshold of RMB 1 a month). Every
    # channel is busy, so that who uses the platform and who sells shows in every count.
    # Storefronts never earn their threshold, so most stay closed for the three months, and
    # their promises vary (authenticity Beta(0.5, 1)): a shopper who compared closed
    # storefronts' listings (3 per impression, among 3 categories) would often keep an
    # overstated one, and buy and be disappointed more.
    "growth_strong": {
        "growth.initial_users": 0.4,
        "growth.external": 3.0,
        "growth.social": 6.0,
        "growth.churn": 0.2,
        "growth.initial_sellers": 0.3,
        "growth.entry_rate": 0.9,
        "growth.creator_entry_income": 1.0,
        "growth.storefront_entry_gmv": 1e9,
        "policy.head_cap": 0.15,
        "decision.repeat_weight": 2.0,
        "decision.intercept": -2.5,
        "word_of_mouth.prob": 0.15,
        "word_of_mouth.days": 3,
        "policy.discovery_per_active": 1.0,
        "creators.post_prob": 0.7,
        "storefronts.n_storefronts": 8,
        "storefronts.products_per_storefront": 4,
        "storefronts.comparisons": 3,
        "storefronts.impressions_per_active": 0.5,
        "storefronts.authenticity_mean": 0.5,
        "storefronts.authenticity_concentration": 1.0,
        "products.n_categories": 3,
    },
    # Growth carried by ties: a quarter of the registered users at the start, little outside
    # influence (p = 0.5 a year) and strong influence through trusted ties (q = 12 a year),
    # heavy churn (0.3) whose leavers' recommendations are still heard (word of mouth in
    # proportion to trust over 4 days); entry thresholds near the sellers' mean earnings
    # (creators earn about RMB 100-200 a month, storefronts a few hundred to a few thousand),
    # so the chance of entry depends on those means (I-bar, G-bar) and not just on their being
    # positive; four storefronts, so that in a quarter of the runs none drew open on the
    # first day and one must open.
    "growth_through_ties": {
        "growth.initial_users": 0.25,
        "growth.external": 0.5,
        "growth.social": 12.0,
        "growth.churn": 0.3,
        "growth.initial_sellers": 0.3,
        "growth.entry_rate": 0.8,
        "growth.creator_entry_income": 80.0,
        "growth.storefront_entry_gmv": 300.0,
        "decision.repeat_weight": 2.0,
        "decision.intercept": -2.0,
        "decision.price_weight": 0.1,
        "word_of_mouth.trust_scaled": True,
        "word_of_mouth.prob": 0.5,
        "word_of_mouth.days": 4,
        "policy.discovery_per_active": 0.8,
        "creators.post_prob": 0.8,
        "storefronts.n_storefronts": 4,
        "storefronts.products_per_storefront": 4,
        "storefronts.comparisons": 2,
        "storefronts.impressions_per_active": 0.6,
        "products.n_categories": 2,
    },
    # On the hand-made fans_graph: word of mouth must go from the fans who buy to the others
    # who trust them (one-way ties); no discovery, no storefronts.
    "fans_one_way_ties": {
        "decision.intercept": -1.0,
        "word_of_mouth.prob": 0.2,
        "word_of_mouth.days": 2,
        "policy.discovery_per_active": 0.0,
        "storefronts.impressions_per_active": 0.0,
        "creators.post_prob": 0.8,
        "policy.head_cap": 0.2,
    },
}


# Days of the default run where a scenario needs more than DAYS (a complete month and a day;
# for growth, two or three complete months, so that the monthly frame records the state after
# the growth steps of days 30 and 60 and the days after them show their effect).
SCENARIO_DAYS = {
    "first_orders_wom": MONTH_DAYS + 1,
    "loyalty_warnings_shared": MONTH_DAYS + 1,
    "growth_strong": 3 * MONTH_DAYS,
    "growth_through_ties": 2 * MONTH_DAYS,
}


def days_of(name: str) -> int:
    return SCENARIO_DAYS.get(name, DAYS)


@functools.cache
def city_graph() -> graph.TrustGraph:
    return graph.city(SPEC, seed=GRAPH_SEED)


@functools.cache
def outside_graph() -> graph.TrustGraph:
    return graph.city(OUTSIDE_SPEC, seed=GRAPH_SEED)


@functools.cache
def fans_graph() -> graph.TrustGraph:
    """A hand-made graph where the direction of trust decides who hears word of mouth.

    120 users in one region: 4 creators (one head KOL), 30 fans (ids 4..33) who follow every
    creator and trust one another (mutual local ties), and 86 others who each trust 3 fans
    through one-way local ties (the fans do not trust them back) and trust one another through
    mutual city ties. With no discovery and no storefronts only fans are exposed at first; their
    recommendations reach the others only if word of mouth goes from ``j`` to the ``i`` with a
    tie ``i -> j`` (an engine that used ``j``'s own ties would keep it among the fans).
    """
    rng = np.random.default_rng(2024)
    creators, fans, others = range(4), range(4, 34), range(34, 120)
    src, dst, layer = [], [], []

    def tie(i: int, j: int, code: int) -> None:
        src.append(i)
        dst.append(j)
        layer.append(code)

    for f in fans:
        for c in creators:
            tie(f, c, FOLLOW)
        for f2 in fans:
            if f < f2 and rng.random() < 0.3:
                tie(f, f2, 0)
                tie(f2, f, 0)
    for o in others:
        for f in rng.choice(list(fans), size=3, replace=False):
            tie(o, int(f), 0)
        for o2 in others:
            if o < o2 and rng.random() < 0.04:
                tie(o, o2, 1)
                tie(o2, o, 1)
    trust = rng.beta(2.4, 1.6, size=len(src))  # mean 0.6
    kind = np.zeros(120, np.int8)
    kind[list(creators)] = LOCAL_CREATOR
    kind[0] = HEAD
    return graph.TrustGraph.from_edges(120, src, dst, trust, layer, creator_kind=kind)


GRAPHS = {
    "fans_one_way_ties": fans_graph,
    "outside_inclusive": outside_graph,
    "outside_head_random": outside_graph,
}
CITIES = {"outside_inclusive": OUTSIDE_SPEC, "outside_head_random": OUTSIDE_SPEC}


def scenario_graph(name: str) -> graph.TrustGraph:
    return GRAPHS.get(name, city_graph)()


def scenario(name: str) -> Scenario:
    return Scenario(city=CITIES.get(name, SPEC), name=name).replace(**SCENARIOS[name])


# ----------------------------------------------------------------------------- invariants
def check_daily(frame: pd.DataFrame, days: int, s: Scenario, users: int) -> None:
    """The documented layout and invariants of a daily frame (section 3.6) of a run of
    scenario ``s`` on a graph with ``users`` registered users."""
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == days * len(ROWS)
    assert frame["day"].tolist() == np.repeat(np.arange(days), len(ROWS)).tolist()
    assert frame["channel"].tolist() == list(ROWS) * days
    counts = frame[list(COUNTS)].to_numpy(float)
    assert np.isfinite(counts).all() and (counts >= 0).all()
    for col in INTEGER:
        assert (frame[col] == np.round(frame[col])).all(), col
    # the funnel: only clicks become candidates; c = 1 (and word of mouth) clicks everything
    ones = {"wom"}
    if s.creators.enter_prob == 1:
        ones |= {"follow", "discovery"}
    if s.storefronts.click_prob == 1:
        ones |= {"storefront", "traffic"}
    row = frame.channel.isin(list(ones))
    assert (frame.loc[row, "clicks"] == frame.loc[row, "exposures"]).all()
    # a buyer has one first order ever; without repeat purchases every order is one
    assert (frame.first_orders <= frame.buyers).all()
    assert frame.loc[frame.channel == "all", "first_orders"].sum() <= users
    if not s.population.repeat_purchases:
        assert (frame.first_orders == frame.orders).all()
    f = frame.set_index(["day", "channel"])
    for day in range(days):
        d = f.loc[day]
        assert (d.clicks <= d.exposures).all()
        assert (d.orders + d.budget_blocked <= d.clicks).all()
        assert (d.exposed_users <= d.exposures).all()
        assert (d.buyers <= d.orders).all() and (d.buyers <= d.exposed_users).all()
        assert (d.disappointed <= d.orders).all()
        assert ((d.gmv > 0) == (d.orders > 0)).all()
        for ch in ("follow", "wom", "storefront", "traffic"):
            assert d.loc[ch, "new_follows"] == 0, ch
        assert d.loc["discovery", "new_follows"] <= d.loc["discovery", "orders"]
        for family, members in FAMILIES.items():
            for col in ADDITIVE:
                total = d.loc[list(members), col].sum()
                assert math.isclose(d.loc[family, col], total, rel_tol=1e-9, abs_tol=1e-6), (
                    day,
                    family,
                    col,
                )
            for col in DISTINCT:
                parts = d.loc[list(members), col]
                assert parts.max() <= d.loc[family, col] <= parts.sum(), (day, family, col)
    for ratio, num, den in (
        ("conversion", "orders", "exposures"),
        ("buyer_conversion", "buyers", "exposed_users"),
        ("click_through", "clicks", "exposures"),
        ("click_conversion", "orders", "clicks"),
        ("order_value", "gmv", "orders"),
        ("disappointed_share", "disappointed", "orders"),
    ):
        zero = frame[den] == 0
        assert frame.loc[zero, ratio].isna().all(), ratio
        expected = frame.loc[~zero, num] / frame.loc[~zero, den]
        assert np.allclose(frame.loc[~zero, ratio], expected, rtol=1e-9), ratio
    has = frame.orders > 0
    assert frame.loc[~has, ["items_per_order", "repeat_share"]].isna().all().all()
    assert (frame.loc[has, "items_per_order"] >= 1).all()
    assert frame.loc[has, "repeat_share"].between(0, 1).all()


def grows(s: Scenario) -> bool:
    """Whether the platform of scenario ``s`` grows (docs/model.md 3.5, Growth)."""
    gr = s.growth
    return gr.initial_users < 1 or gr.initial_sellers < 1 or gr.churn > 0


def check_monthly(
    monthly: pd.DataFrame, daily: pd.DataFrame, days: int, g: graph.TrustGraph, s: Scenario
) -> None:
    """The documented layout of a monthly frame (section 3.6) of a run of scenario ``s`` and
    its agreement with the daily frame of the same run: one row per complete month, a month's
    buyers through a family between the most and the sum of its days' buyers, the month's
    GMV the sum of its days'. Without growth every user uses the platform and every seller
    sells; with it, creators always use it, only those who use it are active (adoption and
    churn happen at a month's start), at least one storefront is open and sellers never
    exit."""
    months = days // MONTH_DAYS
    assert list(monthly.columns) == list(MONTHLY_COLUMNS)
    assert monthly.month.tolist() == list(range(months))
    assert (monthly.residents == g.n_residents).all()  # creators outside the city are not
    assert (monthly.users == int(np.count_nonzero(g.user))).all()
    kind = np.asarray(g.creator_kind)
    selling = int(np.isin(kind, (HEAD, LOCAL_CREATOR, OUTSIDE)).sum())
    all_sellers = selling + s.storefronts.n_storefronts
    m = monthly
    if grows(s):
        creators = int(np.count_nonzero(np.asarray(g.user) & (kind != 0)))
        assert ((m.adopted >= creators) & (m.adopted <= m.users)).all()
        assert (m.mau <= m.adopted).all()
        least = 1 if s.storefronts.n_storefronts else 0
        assert ((m.sellers >= least) & (m.sellers <= all_sellers)).all()
        assert (np.diff(m.sellers.to_numpy()) >= 0).all()  # nobody exits
    else:
        assert (m.adopted == m.users).all() and (m.sellers == all_sellers).all()
    assert ((m.dau >= 0) & (m.dau <= m.mau) & (m.mau <= m.users)).all()
    assert (m.buyers_all <= m.mau).all()  # only active users are exposed
    assert (np.maximum(m.buyers_trust, m.buyers_traffic) <= m.buyers_all).all()
    assert (m.buyers_all <= m.buyers_trust + m.buyers_traffic).all()
    for month in range(months):
        in_month = daily.day // MONTH_DAYS == month
        for family in FAMILIES:
            buyers = daily.loc[in_month & (daily.channel == family), "buyers"]
            total = monthly.loc[month, f"buyers_{family}"]
            assert buyers.max() <= total <= buyers.sum(), (month, family)
        gmv = daily.loc[in_month & (daily.channel == "all"), "gmv"].sum()
        assert math.isclose(monthly.loc[month, "gmv"], gmv, rel_tol=1e-9, abs_tol=1e-6)


@pytest.fixture(scope="module", params=list(SCENARIOS))
def oracle_market(request) -> tuple[str, Market]:
    name = request.param
    market = Market(scenario_graph(name), scenario(name), seed=5)
    return name, market.run(days_of(name))


def test_oracle_daily_layout_and_invariants(oracle_market) -> None:
    name, market = oracle_market
    g = scenario_graph(name)
    daily = market.daily()
    check_daily(daily, days_of(name), scenario(name), int(np.count_nonzero(g.user)))
    check_monthly(market.monthly(), daily, days_of(name), g, scenario(name))


def test_oracle_first_and_disappointing_orders(oracle_market) -> None:
    _, m = oracle_market
    daily = m.daily()
    everything = daily[daily.channel == "all"]
    assert everything.first_orders.sum() == len({o.user for o in m.orders})
    assert everything.disappointed.sum() == sum(1 for o in m.orders if not o.satisfied)
    seen: set[int] = set()
    for o in m.orders:  # in the order they were accepted
        assert o.first == (o.user not in seen)
        seen.add(o.user)


def test_oracle_money(oracle_market) -> None:
    name, m = oracle_market
    s = scenario(name)
    daily = m.daily()
    all_gmv = daily.loc[daily.channel == "all", "gmv"].sum()
    assert math.isclose(all_gmv, sum(o.value for o in m.orders), rel_tol=1e-12)
    for o in m.orders:
        assert o.items >= 1 and math.isclose(o.value, o.items * o.product.price)
    for k, producer in enumerate(m.producers):
        sold = sum(o.value for o in m.orders if o.product.producer == k)
        assert math.isclose(producer.income, s.producers.income_share * sold, abs_tol=1e-9)
    for c, creator in m.creators.items():
        sold = sum(o.value for o in m.orders if o.seller == ("creator", c))
        assert math.isclose(creator.income, s.creators.commission * sold, abs_tol=1e-9)
    if s.producers.n_producers:
        assert sum(p.income for p in m.producers) > 0  # the scenario does exercise them


def test_oracle_budgets_users_and_trust(oracle_market) -> None:
    name, m = oracle_market
    s = scenario(name)
    for (user, _month), spent in m.month_spent.items():
        assert spent <= m.users[user].budget * (1 + 1e-12)
    assert all(m.is_user[o.user] for o in m.orders)  # non-users never buy
    assert all(0 <= w <= 1 for w in m.trust.values())
    assert all(0 <= u.tau <= 1 for u in m.users.values())
    assert set(m.memory.values()) <= {-1, 0, 1}
    assert all(set(u.store_memory.values()) <= {-1, 1} for u in m.users.values())
    if not s.population.repeat_purchases:
        buyers = [o.user for o in m.orders]
        assert len(buyers) == len(set(buyers))
    # follows only grow, by training and by satisfied discovery buyers
    g = scenario_graph(name)
    before = g.followers()
    gained = sum(len(cr.followers) - before[c] for c, cr in m.creators.items())
    assert gained >= len(m.new_follow_log)
    if s.training.follower_gain == 0:
        assert gained == len(m.new_follow_log)


def test_oracle_head_cap_binds_at_the_cap() -> None:
    m = Market(scenario_graph("busy_inclusive"), scenario("busy_inclusive"), seed=1)
    cap = m.s.policy.head_cap
    posts = {c: cr.catalogue[0] for c, cr in m.creators.items()}
    active = set(m.user_ids)
    rho = m.reach(posts, active)
    exp = {c: rho[c] * len(m.creators[c].followers) for c in posts}
    head = sum(v for c, v in exp.items() if m.creators[c].kind == HEAD)
    assert math.isclose(head / sum(exp.values()), cap)  # the graph's head KOLs exceed it


def test_oracle_is_reproducible() -> None:
    g, s = scenario_graph("busy_inclusive"), scenario("busy_inclusive")
    a, b = run_oracle(g, s, 5, seed=3), run_oracle(g, s, 5, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(run_oracle(g, s, 5, seed=4))


def test_oracle_refuses_rules_it_does_not_implement() -> None:
    s = scenario("busy_inclusive").replace(**{"shock.day": 3})
    with pytest.raises(NotImplementedError, match="shock"):
        Market(city_graph(), s, seed=1)


def test_oracle_exercises_every_channel() -> None:
    daily = pd.concat(
        run_oracle(scenario_graph(n), scenario(n), days_of(n), seed=9) for n in SCENARIOS
    )
    totals = daily.groupby("channel")[
        ["exposures", "clicks", "orders", "disappointed", "new_follows", "budget_blocked"]
    ].sum()
    assert (totals.loc[list(CHANNELS), "orders"] > 0).all()
    assert (totals.loc[list(CHANNELS), "disappointed"] > 0).all()
    funnel = ["follow", "discovery", "storefront"]
    assert (totals.loc[funnel, "clicks"] < totals.loc[funnel, "exposures"]).all()
    assert totals.loc["discovery", "new_follows"] > 0
    assert totals.loc["all", "budget_blocked"] > 0


def binomial_bound(p: float, n: int, z: float = 4.0) -> float:
    """z binomial standard errors of a share of ``n`` trials of probability ``p``."""
    return z * math.sqrt(p * (1 - p) / n)


def test_oracle_funnel_clicks_with_the_channels_probability() -> None:
    """Each exposure is clicked with its channel's c, independently (section 3.5)."""
    s = scenario("funnel_rate")
    daily = pd.concat(
        run_oracle(scenario_graph("funnel_rate"), s, DAYS, seed=seed) for seed in range(4)
    )
    totals = daily.groupby("channel")[["exposures", "clicks"]].sum()
    for rows, c in (
        (["storefront"], s.storefronts.click_prob),
        (["follow", "discovery"], s.creators.enter_prob),
        (["wom"], 1.0),
    ):
        n, clicks = totals.loc[rows, "exposures"].sum(), totals.loc[rows, "clicks"].sum()
        assert n > 300, rows
        assert abs(clicks / n - c) <= binomial_bound(c, n), (rows, clicks / n, c)


def listing_gaps(m: Market) -> dict[str, np.ndarray]:
    """Promise minus quality of every listing at set-up, per seller type."""
    return {
        "creator": np.array(
            [cr.promise[p.id] - p.quality for cr in m.creators.values() for p in cr.catalogue]
        ),
        "store": np.array(
            [st.promise[p.id] - p.quality for st in m.storefronts for p in st.catalogue]
        ),
    }


@pytest.mark.parametrize("noise", [0.15, 0.0])
def test_oracle_solves_the_tolerances_of_the_rates(noise: float) -> None:
    """Under 'rate', the mean chance of disappointment over a type's listings is its rate
    (section 3.5, Outcomes); with no noise, the share of listings whose promise exceeds
    quality by more than t_k (a seller's uncapped listings share one gap,
    overstatement * (1 - authenticity), so the share moves in steps)."""
    s = scenario("funnel_rate").replace(**{"outcomes.quality_noise": noise})
    m = Market(city_graph(), s, seed=11)
    rates = {"creator": 0.4, "store": 0.1}
    for kind, gaps in listing_gaps(m).items():
        t = m.tolerance[kind]
        if noise:
            assert math.isclose(ndtr((gaps - t) / noise).mean(), rates[kind], abs_tol=1e-9)
        else:
            assert t == np.quantile(gaps, 1 - rates[kind])  # the oracle's READING
            assert np.mean(gaps > t) <= rates[kind] + 1 / len(gaps)
            assert np.mean(gaps >= t) >= rates[kind] - 1 / len(gaps)
    tolerance = Market(city_graph(), scenario("busy_inclusive"), seed=11).tolerance
    assert tolerance == {"creator": 0.1, "store": 0.1}  # 'tolerance': the one value


def test_oracle_realised_disappointment_is_the_rate_without_selection() -> None:
    """With orders spread evenly over the listings (storefronts only, equal ad budgets, no
    comparison, a utility blind to the listing, budgets that never bind), the share of
    disappointing orders is the rate, up to the binomial error."""
    rate = 0.15
    s = Scenario(city=SPEC, name="even").replace(
        **{
            "outcomes.satisfaction": "rate",
            "outcomes.disappointment_storefronts": rate,
            "outcomes.quality_noise": 0.1,
            "creators.post_prob": 0.0,
            "policy.discovery_per_active": 0.0,
            "word_of_mouth.prob": 0.0,
            "storefronts.n_storefronts": 200,
            "storefronts.products_per_storefront": 10,
            "storefronts.ad_budget_dispersion": 0.0,
            "storefronts.comparisons": 0,
            "storefronts.impressions_per_active": 4.0,
            "decision.intercept": 3.0,
            "decision.quality_weight": 0.0,
            "decision.price_weight": 0.0,
            "decision.repeat_weight": 0.0,
            "population.activity_mean": 0.5,
            "population.budget_mean": 1e7,
            "population.budget_dispersion": 0.0,
        }
    )
    m = Market(city_graph(), s, seed=3).run(10)
    n = len(m.orders)
    assert n > 2000
    share = sum(1 for o in m.orders if not o.satisfied) / n
    assert abs(share - rate) <= binomial_bound(rate, n), (share, n)


def test_oracle_word_of_mouth_is_heard_in_proportion_to_trust() -> None:
    """With trust_scaled, listener i hears a recommendation by j with probability
    prob * w_ij; without, with prob (section 3.5, Word of mouth)."""
    g = fans_graph()
    for scaled in (True, False):
        s = scenario("fans_one_way_ties").replace(
            **{"word_of_mouth.prob": 0.5, "word_of_mouth.trust_scaled": scaled}
        )
        m = Market(g, s, seed=2)
        j = max(m.trusted_by, key=lambda k: len(m.trusted_by[k]))
        listeners = sorted(m.trusted_by[j])
        product = m.creators[1].catalogue[0]
        m.recommendations = [(0, j, product, ("creator", 1), 0.7)]
        heard = dict.fromkeys(listeners, 0)
        trials = 400
        for _ in range(trials):
            for e in m._wom_exposures(1, listeners):
                heard[e.user] += 1
        p = {i: 0.5 * (m.trust[(i, j)] if scaled else 1.0) for i in listeners}
        expected = trials * sum(p.values())
        sd = math.sqrt(trials * sum(q * (1 - q) for q in p.values()))
        assert abs(sum(heard.values()) - expected) <= 4 * sd, (scaled, heard, expected)
        # each listener hears with their own probability: a chi-square over the listeners
        stat = sum((heard[i] - trials * p[i]) ** 2 / (trials * p[i] * (1 - p[i])) for i in p)
        assert stat <= chi2.ppf(1 - 1e-4, len(p)), (scaled, stat)


LOYAL = "loyalty_warnings_shared"


def hand_order(m: Market, day: int, user: int, seller: tuple[str, int], satisfied: bool) -> Order:
    """An accepted order of the first listing of ``seller``, satisfying or not."""
    kind, v = seller
    product = (m.creators[v] if kind == "creator" else m.storefronts[v]).catalogue[0]
    channel = "follow" if kind == "creator" else "storefront"
    o = Order(day, user, channel, product, seller, 1, product.price, False, 0.5, 0.5, ())
    o.satisfied = satisfied
    return o


def test_oracle_loyalty_update_arithmetic() -> None:
    """Section 3.5, Loyalty: the day's last order from a seller decides (a satisfying one
    raises today's loyalty L to L + gain (1 - L), a disappointing one ends it), loyalty
    halves every half_life days, wom orders count for the recommended listing's seller,
    nobody becomes loyal to themself, faded loyalties are forgotten at a month's start."""
    m = Market(city_graph(), scenario(LOYAL), seed=1)
    gain, half_life = m.s.loyalty.gain, m.s.loyalty.half_life
    c, c2 = sorted(m.creators)[:2]
    i = next(u for u in m.user_ids if u not in m.creators)
    creator, store = ("creator", c), ("store", 0)
    m._update_loyalty(2, [hand_order(m, 2, i, creator, True)])
    assert m.loyalty[(i, creator)] == (gain, 2)
    t = 2 + round(2 * half_life)
    assert math.isclose(m.loyal(i, creator, t), gain / 4)
    # disappointed, then satisfied: the last decides, from today's (decayed) loyalty
    m._update_loyalty(t, [hand_order(m, t, i, creator, False), hand_order(m, t, i, creator, True)])
    level, day = m.loyalty[(i, creator)]
    assert day == t and math.isclose(level, gain / 4 + gain * (1 - gain / 4))
    wom = hand_order(m, t, i, ("creator", c2), True)
    wom.channel = "wom"
    own = hand_order(m, t, c, creator, True)  # the creator buys their own listing
    m._update_loyalty(t, [hand_order(m, t, i, store, True), wom, own])
    assert m.loyalty[(i, store)] == (gain, t) and m.loyalty[(i, ("creator", c2))] == (gain, t)
    assert (c, creator) not in m.loyalty
    # satisfied, then disappointed: the loyalty ends
    m._update_loyalty(t + 1, [hand_order(m, t, i, store, True), hand_order(m, t, i, store, False)])
    assert (i, store) not in m.loyalty and (i, creator) in m.loyalty
    # at the start of day 30, loyalties below 0.001 are forgotten (residents who are not
    # users: no order or return visit touches them)
    faded, kept = [k for k in range(m.n) if not m.is_user[k]][:2]
    assert 0.01 * 2 ** (-30 / half_life) < 1e-3 < 0.01 * 2 ** (-25 / half_life)
    m.loyalty |= {(faded, store): (0.01, 0), (kept, store): (0.01, 5)}
    m.day = MONTH_DAYS - 2
    m.step()
    assert (faded, store) in m.loyalty and (kept, store) in m.loyalty
    m.step()  # day 30
    assert (faded, store) not in m.loyalty and (kept, store) in m.loyalty


def test_oracle_return_visits_come_with_return_k_times_loyalty() -> None:
    """Each loyal active user comes back with probability return_k * L (today's loyalty),
    sees a listing of the seller's catalogue with the T and M of its channel, is counted in
    follow or storefront, skips the click stage and gains weight * L in utility."""
    s = scenario(LOYAL).replace(
        **{
            "decision.trust_weight": 0.0,
            "decision.quality_weight": 0.0,
            "decision.price_weight": 0.0,
            "decision.repeat_weight": 0.0,
            "decision.intercept": -1.5,
            "population.budget_mean": 1e7,
            "population.budget_dispersion": 0.0,
        }
    )
    m = Market(city_graph(), s, seed=4)
    lo, t = s.loyalty, 20
    creators, active = sorted(m.creators), m.user_ids
    rng = np.random.default_rng(0)
    for i in active:  # loyal to a creator at 0.75 today, to a storefront at 0.75 / 2
        c = creators[int(rng.integers(len(creators)))]
        if c != i:
            m.loyalty[(i, ("creator", c))] = (0.75, t)
        m.loyalty[(i, ("store", int(rng.integers(3))))] = (0.75, t - round(lo.half_life))
    expected = {"follow": 0.0, "storefront": 0.0}
    for (_, (kind, _)), (level, day) in m.loyalty.items():
        rate = lo.return_creators if kind == "creator" else lo.return_storefronts
        expected["follow" if kind == "creator" else "storefront"] += (
            rate * level / 2 ** ((t - day) / lo.half_life)
        )
    trials, seen, ordered = 40, dict.fromkeys(expected, 0), 0
    for _ in range(trials):
        visits = m._return_visits(t, active)
        for e in visits:
            seen[e.channel] += 1
            kind, v = e.seller
            seller = m.creators[v] if kind == "creator" else m.storefronts[v]
            assert e.returning and e.product in seller.catalogue
            assert e.loyalty == m.loyal(e.user, e.seller, t) and seller.promise[e.product.id] == e.Q
            if kind == "store":
                assert m.users[e.user].tau == e.T
            elif e.user in seller.followers:
                assert (m.trust[(e.user, v)], m.memory[(e.user, v)]) == (e.T, e.M)
            else:
                assert (s.creators.stranger_trust, 0) == (e.T, e.M)
        creators_visits = [e for e in visits if e.channel == "follow"]
        orders, _ = m._decide(t, creators_visits)  # utility -1.5 + 2 * 0.75 = 0
        assert all(e.clicked for e in creators_visits)  # enter_prob 0.5 does not apply
        ordered += len(orders)
    for channel, rate in expected.items():
        n = trials * rate
        assert abs(seen[channel] - n) <= 4 * math.sqrt(n), (channel, seen[channel], n)
    assert abs(ordered / seen["follow"] - 0.5) <= binomial_bound(0.5, seen["follow"])


def test_oracle_warnings_lower_trust_in_followed_creators_and_storefront_memory() -> None:
    """Section 3.5, Warnings: a disappointing order of the last `days` days is heard by an
    active user i with a tie i -> j to its buyer; at the end of the day each warning heard
    multiplies a followed creator's tie trust by 1 - trust_loss * w_ij and sets a
    storefront's memory to -1; a listener who does not follow the creator keeps no trust in
    them to lower."""
    s = scenario(LOYAL).replace(**{"word_of_mouth.warn_prob": 1.0})
    m = Market(city_graph(), s, seed=2)
    loss, days, t = s.outcomes.trust_loss, s.word_of_mouth.days, 10
    i, j, c = next(
        (i, j, c)
        for c, cr in sorted(m.creators.items())
        for i in sorted(cr.followers)
        for j in sorted(m.trusted_by)
        if i in m.trusted_by[j] and j != c
    )
    other = next(
        k for k in sorted(m.trusted_by[j]) if m.is_user[k] and k not in m.creators[c].followers
    )
    w_ic, w_ij, tau = m.trust[(i, c)], m.trust[(i, j)], m.users[i].tau
    before = dict(m.trust)
    m.warnings = [
        (t - 1, j, ("creator", c)),
        (t - days, j, ("creator", c)),
        (t - days, j, ("store", 1)),
        (t - days - 1, j, ("creator", c)),  # older than word_of_mouth.days: not heard
        (t, j, ("creator", c)),  # today's: heard from tomorrow
    ]
    heard = m._warnings_heard(t, [i, other])
    assert sorted(heard) == sorted(
        [(i, ("creator", c), w_ij)] * 2
        + [(i, ("store", 1), w_ij), (other, ("store", 1), m.trust[(other, j)])]
        + [(other, ("creator", c), m.trust[(other, j)])] * 2
    )
    m._apply_warnings(heard)
    assert math.isclose(m.trust[(i, c)], w_ic * (1 - loss * w_ij) ** 2)
    assert m.users[i].store_memory[1] == -1 and m.users[other].store_memory[1] == -1
    assert m.users[i].tau == tau
    assert {k: w for k, w in m.trust.items() if w != before[k]} == {(i, c): m.trust[(i, c)]}
    # the run records one warning per disappointing order of the last `days` days
    m = Market(city_graph(), scenario(LOYAL), seed=2).run(6)
    recent = [(o.day, o.user, o.seller) for o in m.orders if not o.satisfied and o.day > 5 - days]
    assert m.warnings == recent and recent


def test_oracle_warnings_are_heard_in_proportion_to_trust() -> None:
    """With trust_scaled, listener i hears a warning by j with probability warn_prob * w_ij."""
    s = scenario(LOYAL).replace(**{"word_of_mouth.trust_scaled": True})
    m = Market(city_graph(), s, seed=3)
    j = max(m.trusted_by, key=lambda k: len(m.trusted_by[k]))
    listeners = sorted(m.trusted_by[j])
    m.warnings = [(0, j, ("store", 0))]
    trials = 400
    heard = sum(len(m._warnings_heard(1, listeners)) for _ in range(trials))
    p = [s.word_of_mouth.warn_prob * m.trust[(i, j)] for i in listeners]
    sd = math.sqrt(trials * sum(q * (1 - q) for q in p))
    assert abs(heard - trials * sum(p)) <= 4 * sd, (heard, trials * sum(p))


def test_oracle_shared_catalogue() -> None:
    """Section 3.4, Products: under 'shared', each seller lists distinct products of one
    catalogue of n_products (the same objects: one price and quality through every
    channel), priced LogNormal(price_mean, price_dispersion)."""
    n_products, price_mean = 3000, 90.0
    s = scenario(LOYAL).replace(
        **{"products.n_products": n_products, "products.price_mean": price_mean}
    )
    m = Market(city_graph(), s, seed=6)
    catalogue = m.products[:n_products]
    assert len(m.products) == n_products  # no producers: nothing else
    ids = {id(p) for p in catalogue}
    for seller, size in [(cr, s.creators.catalogue_size) for cr in m.creators.values()] + [
        (st, s.storefronts.products_per_storefront) for st in m.storefronts
    ]:
        assert len(seller.catalogue) == size == len({p.id for p in seller.catalogue})
        assert all(id(p) in ids for p in seller.catalogue)
    prices = np.array([p.price for p in catalogue])
    se = prices.std(ddof=1) / math.sqrt(n_products)
    assert abs(prices.mean() - price_mean) <= 4 * se
    sd = s.products.price_dispersion
    assert abs(np.log(prices).std(ddof=1) - sd) <= 4 * sd / math.sqrt(2 * n_products)
    # with 20 products, creators and storefronts sell some of the same goods
    m = Market(city_graph(), scenario(LOYAL), seed=6)
    by_creators = {p.id for cr in m.creators.values() for p in cr.catalogue}
    assert by_creators & {p.id for st in m.storefronts for p in st.catalogue}
    with pytest.raises(ValueError, match="n_products"):
        Market(city_graph(), scenario(LOYAL).replace(**{"products.n_products": 5}), seed=1)


@pytest.mark.parametrize("engine", [False, True])
def test_monthly_active_users_follow_the_beta_activity(engine: bool) -> None:
    """Known answer (section 3.5, Activity): with p_i ~ Beta(m, kappa), E[DAU] = m * users
    and E[MAU] = users * (1 - B(m kappa, (1 - m) kappa + 30) / B(m kappa, (1 - m) kappa)),
    within four standard errors over independent runs (users draw new p_i in each)."""
    mean, kappa, runs_ = 0.235, 0.6, 40
    s = Scenario(city=SPEC, name="activity").replace(
        **{
            "population.activity_mean": mean,
            "population.activity_concentration": kappa,
            "creators.post_prob": 0.0,
            "policy.discovery_per_active": 0.0,
            "storefronts.impressions_per_active": 0.0,
        }
    )
    g = city_graph()
    users = int(np.count_nonzero(g.user))
    if engine:
        e = Engine(g, s, seed=np.random.SeedSequence(5).spawn(runs_))
        e.run(MONTH_DAYS)
        frames = [Result.from_engine(e.replication(r)).monthly for r in range(runs_)]
    else:
        frames = [Market(g, s, seed=seed).run(MONTH_DAYS).monthly() for seed in range(runs_)]
    monthly = pd.concat(frames)
    assert len(monthly) == runs_ and (monthly.buyers_all == 0).all()
    a, b = mean * kappa, (1 - mean) * kappa
    mau_share = 1 - beta_function(a, b + MONTH_DAYS) / beta_function(a, b)
    for column, expected in (("dau", mean * users), ("mau", mau_share * users)):
        values = monthly[column].to_numpy(float)
        se = values.std(ddof=1) / math.sqrt(runs_)
        assert abs(values.mean() - expected) <= 4 * se, (column, values.mean(), expected, se)


# ----------------------------------------------------------------------------- creators outside
def outside_creators(g: graph.TrustGraph) -> list[int]:
    return np.flatnonzero(np.asarray(g.creator_kind) == OUTSIDE).tolist()


def test_oracle_creators_outside_the_city_sell_as_heads() -> None:
    """Creators outside the city (docs/model.md 3.1, 9) are the graph's last nodes, in the
    region Outside, followed by the city's users and with no other tie; in the oracle they
    sell, count as heads for the inclusive cap and get no discovery traffic under it (but do
    under the head policy, where their followings also weigh in the mean following), and
    over a run some orders are theirs; they never buy."""
    g = outside_graph()
    outside = outside_creators(g)
    assert outside == list(range(g.n_residents, g.n_nodes)) and len(outside) == 8
    assert {g.region_names[g.region[c]] for c in outside} == {OUTSIDE_REGION}
    followers = g.followers()
    city_creators = [c for c in range(g.n_residents) if g.creator_kind[c] in (HEAD, LOCAL_CREATOR)]
    assert min(followers[outside]) > 0
    assert sorted(followers[outside])[-3] > max(followers[city_creators])  # they would lead
    m = Market(g, scenario("outside_inclusive"), seed=3)
    assert set(outside) <= set(m.creators) and all(m.creators[c].kind == OUTSIDE for c in outside)
    assert not set(outside) & (set(m.users) | set(m.trusted_by))
    assert all(i not in outside for i, _ in m.layer)  # they follow nobody, trust nobody
    assert all(m.layer[(i, c)] == FOLLOW for (i, c) in m.layer if c in outside)
    # heads for the cap: with them, the heads' share of expected exposures is the cap
    posts = {c: cr.catalogue[0] for c, cr in m.creators.items()}
    rho = m.reach(posts, set(m.user_ids))
    expected = {c: rho[c] * len(m.creators[c].followers) for c in posts}
    heads = sum(v for c, v in expected.items() if m.creators[c].kind in (HEAD, OUTSIDE))
    assert math.isclose(heads / sum(expected.values()), m.s.policy.head_cap)
    assert all(rho[c] < m.s.policy.reach for c in outside)
    # discovery: none of theirs under the inclusive policy, some under the head policy
    discovery = m._discovery_exposures(posts, m.user_ids)
    assert discovery and not any(e.seller[1] in outside for e in discovery)
    h = Market(g, scenario("outside_head_random"), seed=3)
    mean_f = sum(len(cr.followers) for cr in h.creators.values()) / len(h.creators)
    rho = h.reach(posts, set(h.user_ids))
    for c in outside:  # F-bar over every selling creator, outside ones included
        f = len(h.creators[c].followers)
        assert rho[c] == min(1.0, h.s.policy.reach * (f / mean_f) ** h.s.policy.head_exponent)
    discovery = h._discovery_exposures(posts, h.user_ids)
    assert any(e.seller[1] in outside for e in discovery)
    # over a run they sell: to their followers (capped under inclusive) and, under head,
    # through discovery and word of mouth too
    for market, least, channels in ((m, 5, {"follow"}), (h, 100, {"follow", "discovery", "wom"})):
        market.run(DAYS)
        theirs = [o for o in market.orders if o.seller[0] == "creator" and o.seller[1] in outside]
        assert len(theirs) >= least and {o.channel for o in theirs} >= channels
        assert "discovery" in channels or all(o.channel != "discovery" for o in theirs)
        commission = market.s.creators.commission
        for c in outside:
            sold = sum(o.value for o in theirs if o.seller[1] == c)
            assert math.isclose(market.creators[c].income, commission * sold, abs_tol=1e-9)
        assert not any(o.user in outside for o in market.orders)


@pytest.mark.parametrize("rule", ["followers", "random", "local", "rural"])
def test_oracle_creators_outside_the_city_are_never_trained_or_recruited(rule: str) -> None:
    """Nobody outside the city is trained or recruited to list a poor producer's specialty
    (docs/model.md 3.1, 9), whatever the rule; under `followers` the city's most followed
    creators are chosen although the outside creators have more followers, under `random`
    with room for everyone every creator of the city is."""
    g = outside_graph()
    outside = set(outside_creators(g))
    city = sorted(c for c in range(g.n_residents) if g.creator_kind[c] in (HEAD, LOCAL_CREATOR))
    followers = g.followers()
    by_followers = sorted(city, key=lambda c: (-followers[c], c))
    s = scenario("outside_inclusive").replace(
        **{
            "training.rule": rule,
            "producers.recruit": rule,
            "producers.n_producers": 40,  # among all residents: too few rural ones
            "producers.listings": 3,
        }
    )
    for n_trained in (3, 100):
        m = Market(g, s.replace(**{"training.n_creators": n_trained}), seed=8)
        assert not {p.id for p in m.producers} & outside
        specialties = {p.product.id for p in m.producers}
        listers = {c for c, cr in m.creators.items() if {p.id for p in cr.catalogue} & specialties}
        assert listers and not listers & outside
        if rule == "followers":
            assert listers == set(by_followers[:3])
        if rule == "random":
            assert all(len(set(m.recruited(p.id))) == 3 for p in m.producers)
        before = {c: cr.authenticity for c, cr in m.creators.items()}
        for _ in range(3):
            m.step()
        assert m.day == 2 and {c: cr.authenticity for c, cr in m.creators.items()} == before
        m.step()  # day 3: training
        trained = {c for c, cr in m.creators.items() if cr.authenticity != before[c]}
        assert trained and not trained & outside
        if rule == "followers":
            assert trained == set(by_followers[:n_trained])
        if rule == "random":  # all of the pool when it is smaller
            assert len(trained) == min(n_trained, len(city)) and trained <= set(city)


def test_oracle_information_and_months_count_residents_only() -> None:
    """Creators outside the city are never informed (no feed, no baseline, no ties) and the
    information shares are over residents; the per-region table has no row for Outside; the
    monthly frame's residents are the graph's residents (docs/model.md 3.5, 3.6)."""
    g = outside_graph()
    outside = set(outside_creators(g))
    s = scenario("outside_inclusive")
    m = Market(g, s, seed=2).run(MONTH_DAYS)
    monthly = m.monthly()
    assert monthly.residents.tolist() == [g.n_residents] and g.n_residents < g.n_nodes
    assert monthly.sellers.tolist() == [len(m.creators) + s.storefronts.n_storefronts]
    info, regions = m.information(), m.information_regions()
    assert list(info.columns) == list(INFORMATION_COLUMNS)
    assert len(info) == message_days("outside_inclusive", MONTH_DAYS)
    assert sorted(set(regions.region)) == ["A", "B"] and OUTSIDE_REGION in g.region_names
    residents = [i for i in range(g.n_nodes) if i not in outside]
    rural = [i for i in residents if g.rural[i]]
    urban = [i for i in residents if not g.rural[i]]
    non_users = [i for i in residents if not g.user[i]]
    last = info[info.day == MONTH_DAYS - 1].set_index("message")
    for msg in m.messages:
        know, tv = set(msg.path), msg.baseline
        assert know and tv and not (know | tv) & outside
        row = last.loc[msg.id]
        assert row.share_informed == len(know) / len(residents)
        assert row.share_non_users == len(know & set(non_users)) / len(non_users)
        assert row.baseline_share == len(tv) / len(residents)
        assert row.baseline_urban == len(tv & set(urban)) / len(urban)
        assert row.baseline_rural == len(tv & set(rural)) / len(rural)
        assert math.isclose(sum(row[f"by_{path}"] for path in PATHS), 1.0)
        mine = regions[(regions.message == msg.id) & (regions.day == MONTH_DAYS - 1)]
        for region, share in zip(mine.region, mine.share_informed, strict=True):
            members = [i for i in residents if g.region_names[g.region[i]] == region]
            assert share == len(know & set(members)) / len(members)
    # the baseline reaches an urban resident with tv_urban per live day: over the messages'
    # live days, 1 - (1 - tv_urban)^live_days of them
    inf = s.information
    for group, tv in ((urban, inf.tv_urban), (rural, inf.tv_rural)):
        p = 1 - (1 - tv) ** inf.live_days
        n = len(group) * len(m.messages)
        reached = sum(len(msg.baseline & set(group)) for msg in m.messages)
        assert abs(reached / n - p) <= binomial_bound(p, n), (reached / n, p)


def test_engine_counts_residents_only() -> None:
    """The engine's monthly frame and information tables on the city with creators outside
    it: residents, users, adopted and sellers as the oracle's; the regions of the
    information table those with residents."""
    g, s = outside_graph(), scenario("outside_inclusive")
    engine = Engine(g, s, seed=4)
    engine.run(MONTH_DAYS)
    result = Result.from_engine(engine)
    oracle = Market(g, s, seed=4).run(MONTH_DAYS)
    columns = ["month", "residents", "users", "adopted", "sellers"]
    assert result.monthly[columns].values.tolist() == oracle.monthly()[columns].values.tolist()
    assert sorted(set(result.information_regions.region.astype(str))) == ["A", "B"]
    assert list(result.information.columns) == list(INFORMATION_COLUMNS)
    keys = ["message", "day", "posted_day"]
    pd.testing.assert_frame_equal(
        result.information[keys].sort_values(["message", "day"]).reset_index(drop=True),
        oracle.information()[keys].sort_values(["message", "day"]).reset_index(drop=True),
    )


# ----------------------------------------------------------------------------- growth
GROWTH = "growth_strong"


def creator_users(g: graph.TrustGraph) -> int:
    """Registered users who are creators of any kind (government accounts included)."""
    return int(np.count_nonzero(np.asarray(g.user) & (np.asarray(g.creator_kind) != 0)))


@functools.cache
def growth_graph() -> graph.TrustGraph:
    """A hand-made graph of 7 residents for the adoption rule (docs/model.md 3.5, Growth).

    0 is a local creator and 1 a government account (creators: they always use the
    platform); 2 to 5 are users and 6 is not. User 2 trusts 0 and 1 strongly and 3 and 6
    weakly (so its trust-weighted share of ties to people on the platform, 0.9 with only the
    creators on it, is far from its unweighted 0.5); 3 trusts 2 and 4 (none on the platform at
    first: a share of 0, unless 2's adoption in the same step were read); 4 trusts nobody
    (a share of 0); 5 trusts only the creator (a share of 1); 3 follows the creator.
    """
    ties = [
        (2, 0, 0.9, 0),
        (2, 1, 0.9, 1),
        (2, 3, 0.1, 0),
        (2, 6, 0.1, 1),
        (3, 2, 0.5, 0),
        (3, 4, 0.2, 1),
        (4, 3, 0.2, 1),
        (5, 0, 0.6, 0),
        (6, 2, 0.3, 0),
        (3, 0, 0.4, FOLLOW),
    ]
    src, dst, trust, layer = (list(column) for column in zip(*ties, strict=True))
    kind = np.zeros(7, np.int8)
    kind[0], kind[1] = LOCAL_CREATOR, GOV
    user = np.ones(7, bool)
    user[6] = False
    return graph.TrustGraph.from_edges(7, src, dst, trust, layer, user=user, creator_kind=kind)


def test_oracle_adoption_follows_the_bass_rule_on_the_trust_graph() -> None:
    """Section 3.5, Growth: at a month's start a registered user who does not use the
    platform adopts it with 1 - exp(-(external + social f_i) / 12), f_i the trust-weighted
    share of their local and city ties to people who use it, read at the month's start (a
    neighbour who adopts in the same step does not count); users on it leave with churn,
    creators (government accounts included) never; residents who are not users never
    adopt."""
    s = Scenario(city=SPEC, name="adoption").replace(
        **{
            "growth.initial_users": 0.0,
            "growth.external": 3.0,
            "growth.social": 6.0,
            "growth.churn": 0.3,
        }
    )
    m = Market(growth_graph(), s, seed=1)
    assert m.adopted == {0: True, 1: True, 2: False, 3: False, 4: False, 5: False}
    w = m.trust
    f2 = (w[(2, 0)] + w[(2, 1)]) / (w[(2, 0)] + w[(2, 1)] + w[(2, 3)] + w[(2, 6)])
    expected_f = {2: f2, 3: 0.0, 4: 0.0, 5: 1.0}
    for i, f in expected_f.items():
        assert math.isclose(m.adoption_share(i, m.adopted), f, rel_tol=1e-12), i
    assert math.isclose(f2, 0.9, rel_tol=1e-6)
    p = {i: 1 - math.exp(-(3.0 + 6.0 * f) / 12) for i, f in expected_f.items()}
    for i in p:
        assert math.isclose(m.adoption_probability(i, m.adopted), p[i], rel_tol=1e-12)
    start = dict(m.adopted)
    trials = 4000
    adopted = dict.fromkeys(p, 0)
    for _ in range(trials):
        m.adopted = dict(start)
        m._growth(MONTH_DAYS)
        assert m.adopted[0] and m.adopted[1]
        for i in p:
            adopted[i] += m.adopted[i]
    stat = sum((adopted[i] - trials * q) ** 2 / (trials * q * (1 - q)) for i, q in p.items())
    assert stat <= chi2.ppf(1 - 1e-4, len(p)), (adopted, p)
    for i, q in p.items():
        assert abs(adopted[i] / trials - q) <= binomial_bound(q, trials), (i, adopted[i], q)
    # churn: everybody on the platform; the non-creators leave with churn, creators never
    everybody = dict.fromkeys(start, True)
    left = dict.fromkeys(p, 0)
    for _ in range(trials):
        m.adopted = dict(everybody)
        m._growth(MONTH_DAYS)
        assert m.adopted[0] and m.adopted[1]
        for i in p:
            left[i] += not m.adopted[i]
    for i in p:
        assert abs(left[i] / trials - 0.3) <= binomial_bound(0.3, trials), (i, left[i])
    assert 6 not in m.adopted


def test_oracle_growth_set_up_shares() -> None:
    """Section 3.5, Growth, set-up: each registered user uses the platform with probability
    initial_users (creators always do), each selling creator sells and each storefront is
    open with probability initial_sellers, at least one storefront open."""
    g, s = city_graph(), scenario(GROWTH)
    gr = s.growth
    creators = {i for i in range(g.n_nodes) if g.user[i] and g.creator_kind[i] != 0}
    others = adopted = sellers = candidates = 0
    for seed in range(200):
        m = Market(g, s, seed)
        assert all(m.adopted[i] for i in creators)
        others += len(m.adopted) - len(creators)
        adopted += sum(on for i, on in m.adopted.items() if i not in creators)
        sellers += sum(m.selling.values()) + sum(st.is_open for st in m.storefronts)
        candidates += len(m.selling) + len(m.storefronts)
        assert any(st.is_open for st in m.storefronts)
    assert abs(adopted / others - gr.initial_users) <= binomial_bound(gr.initial_users, others)
    # (the forced storefront adds at most 0.7^8 = 6 % of one storefront per run)
    share = sellers / candidates
    assert (
        abs(share - gr.initial_sellers)
        <= binomial_bound(gr.initial_sellers, candidates) + 0.06 / 22
    )
    # nobody at first: only the creators use the platform, one storefront is open, nobody
    # posts; at the defaults everybody
    nobody = s.replace(**{"growth.initial_users": 0.0, "growth.initial_sellers": 0.0})
    m = Market(g, nobody, seed=3)
    assert {i for i, on in m.adopted.items() if on} == creators
    assert not any(m.selling.values()) and sum(st.is_open for st in m.storefronts) == 1
    assert m._posts() == {}
    everybody = Market(g, scenario("busy_inclusive"), seed=3)
    assert all(everybody.adopted.values()) and all(everybody.selling.values())
    assert all(st.is_open for st in everybody.storefronts)


def test_oracle_growth_only_platform_users_act_and_only_sellers_sell() -> None:
    """Day by day over three months of growth: only users who use the platform are active
    and order, only creators who sell post and are sold from, only open storefronts get ad
    impressions and are compared (so sold from); sellers never exit. With nobody adopting
    or leaving and nobody entering, the monthly frame keeps the set-up's state."""
    g, s = city_graph(), scenario(GROWTH)
    m = Market(g, s, seed=4)
    users = m.user_ids
    seen_closed = entered = 0
    for t in range(3 * MONTH_DAYS):
        selling_before = dict(m.selling)
        open_before = [st.is_open for st in m.storefronts]
        m.step()
        assert all(m.selling[c] for c, on in selling_before.items() if on)  # nobody exits
        assert all(st.is_open for st, was in zip(m.storefronts, open_before, strict=True) if was)
        entered += sum(m.selling.values()) - sum(selling_before.values())
        assert m.n_active[t] <= sum(m.adopted.values())
        for o in (o for o in m.orders if o.day == t):
            assert m.adopted[o.user]
            kind, v = o.seller
            assert m.selling[v] if kind == "creator" else m.storefronts[v].is_open
        if t % 10 == 0:  # exposures to every user on the platform, compared among 3 listings
            on = [i for i in users if m.adopted[i]]
            assert set(m._posts()) <= {c for c, sells in m.selling.items() if sells}
            exposures = m._storefront_exposures(on)
            assert exposures and all(m.storefronts[e.seller[1]].is_open for e in exposures)
            seen_closed += sum(not st.is_open for st in m.storefronts)
    assert seen_closed > 0 and entered > 0  # closed storefronts and entry did happen
    monthly = m.monthly()
    assert monthly.adopted.nunique() > 1 and monthly.sellers.is_monotonic_increasing
    still = s.replace(
        **{
            "growth.external": 0.0,
            "growth.social": 0.0,
            "growth.churn": 0.0,
            "growth.entry_rate": 0.0,
        }
    )
    m = Market(g, still, seed=4)
    first = (
        sum(m.adopted.values()),
        sum(m.selling.values()) + sum(st.is_open for st in m.storefronts),
    )
    frame = m.run(3 * MONTH_DAYS).monthly()
    assert frame.adopted.tolist() == [first[0]] * 3 and frame.sellers.tolist() == [first[1]] * 3
    assert (frame.mau <= frame.adopted).all()


def test_oracle_entry_when_it_pays() -> None:
    """Section 3.5, Growth, entry: at a month's start a creator not selling starts with
    entry_rate max(0, 1 - creator_entry_income / I-bar), a closed storefront opens with
    entry_rate max(0, 1 - storefront_entry_gmv / G-bar); I-bar the mean commission income
    of the creators who sold in the month that ended, G-bar the mean GMV of the open
    storefronts; no entry when the means are below the thresholds."""
    s = scenario("growth_through_ties")
    m = Market(city_graph(), s, seed=2).run(MONTH_DAYS)
    sellers = [c for c, on in m.selling.items() if on]
    stores = [st for st in m.storefronts if st.is_open]
    # the month's income and GMV are all there is so far: the sellers' running totals
    i_bar = sum(m.creators[c].income for c in sellers) / len(sellers)
    g_bar = sum(st.gmv for st in stores) / len(stores)
    assert all(cr.income == 0 for c, cr in m.creators.items() if not m.selling[c])
    assert np.allclose(m.entry_means(0), (i_bar, g_bar), rtol=1e-12)
    # thresholds (read only by the growth step) at half of I-bar and a quarter of G-bar
    m.s = s.replace(
        **{
            "growth.creator_entry_income": 0.5 * i_bar,
            "growth.storefront_entry_gmv": 0.25 * g_bar,
        }
    )
    gr = m.s.growth
    p_creator = gr.entry_rate * (1 - gr.creator_entry_income / i_bar)
    p_store = gr.entry_rate * (1 - gr.storefront_entry_gmv / g_bar)
    assert math.isclose(p_creator, 0.4) and math.isclose(p_store, 0.6)
    state = dict(m.adopted), dict(m.selling), [st.is_open for st in m.storefronts]
    closed_creators = len(m.selling) - len(sellers)
    closed_stores = len(m.storefronts) - len(stores)
    trials, entered_creators, entered_stores = 1000, 0, 0
    for _ in range(trials):
        m.adopted, m.selling = dict(state[0]), dict(state[1])
        for st, was in zip(m.storefronts, state[2], strict=True):
            st.is_open = was
        m._growth(MONTH_DAYS)
        entered_creators += sum(m.selling.values()) - len(sellers)
        entered_stores += sum(st.is_open for st in m.storefronts) - len(stores)
    n = trials * closed_creators
    assert abs(entered_creators / n - p_creator) <= binomial_bound(p_creator, n)
    n = trials * closed_stores
    assert abs(entered_stores / n - p_store) <= binomial_bound(p_store, n)
    # thresholds above the means: nobody enters on day 30
    high = s.replace(
        **{
            "growth.creator_entry_income": 1.01 * i_bar,
            "growth.storefront_entry_gmv": 1.01 * g_bar,
        }
    )
    m = Market(city_graph(), high, seed=2).run(MONTH_DAYS + 1)
    assert sorted(c for c, on in m.selling.items() if on) == sellers
    assert [st.id for st in m.storefronts if st.is_open] == [st.id for st in stores]


def test_oracle_growth_at_the_defaults_changes_nothing() -> None:
    """With every user and seller there from the first day and no churn, the other growth
    settings change no draw (the growth draws have a generator of their own)."""
    g, s = city_graph(), scenario("busy_inclusive")
    other = s.replace(
        **{
            "growth.external": 9.0,
            "growth.social": 9.0,
            "growth.entry_rate": 1.0,
            "growth.creator_entry_income": 0.0,
            "growth.storefront_entry_gmv": 0.0,
        }
    )
    days = MONTH_DAYS + 3
    pd.testing.assert_frame_equal(
        run_oracle(g, s, days, seed=6), run_oracle(g, other, days, seed=6)
    )


def test_engine_government_accounts_always_use_the_platform() -> None:
    """With nobody on the platform at first and no adoption, the monthly frame's adopted
    are the creators who are registered users, government accounts included (the
    oracle's count)."""
    g = city_graph()
    s = scenario(GROWTH).replace(
        **{"growth.initial_users": 0.0, "growth.external": 0.0, "growth.social": 0.0}
    )
    oracle = Market(g, s, seed=1).run(2 * MONTH_DAYS).monthly().adopted.tolist()
    assert oracle == [creator_users(g)] * 2
    engine = Engine(g, s, seed=1)
    engine.run(2 * MONTH_DAYS)
    assert Result.from_engine(engine).monthly.adopted.tolist() == oracle


def test_engine_creators_outside_the_city_put_no_user_on_the_platform() -> None:
    """On the city with creators outside it whose last registered user is an ordinary user,
    with nobody on the platform at first and no adoption, the adopted are the creators who
    are users, in every replication of a lockstep engine."""
    base = outside_graph()
    kind = np.asarray(base.creator_kind).copy()
    last = int(np.flatnonzero(base.user)[-1])
    kind[last] = 0  # the last registered user becomes an ordinary user, followed by nobody
    src = np.repeat(np.arange(base.n_nodes), np.diff(base.indptr))
    dst, layer = np.asarray(base.indices), np.asarray(base.layer)
    keep = ~((dst == last) & (layer == FOLLOW))
    g = graph.TrustGraph.from_edges(
        base.n_nodes,
        src[keep],
        dst[keep],
        np.asarray(base.trust)[keep],
        layer[keep],
        region=base.region,
        hometown=base.hometown,
        rural=base.rural,
        user=base.user,
        creator_kind=kind,
        region_names=base.region_names,
    )
    s = scenario("outside_inclusive").replace(
        **{"growth.initial_users": 0.0, "growth.external": 0.0, "growth.social": 0.0}
    )
    engine = Engine(g, s, seed=np.random.SeedSequence(1).spawn(3))
    engine.run(MONTH_DAYS)
    adopted = [engine.replication(r).months[0]["adopted"] for r in range(3)]
    creating_users = int(np.count_nonzero((kind != 0) & base.user))
    assert adopted == [creating_users] * 3


# ----------------------------------------------------------------------------- agreement
def to_array(market: Market, days: int) -> np.ndarray:
    """(days, rows, metrics) array of the oracle's count metrics, from its daily records (in
    the documented row order, as test_oracle_daily_layout_and_invariants checks)."""
    values = [[record[name] for name in COUNTS] for record in market.rows]
    return np.array(values, float).reshape(days, len(ROWS), len(COUNTS))


def monthly_array(records: list[dict], days: int) -> np.ndarray:
    """(months, 1, metrics) array of the compared columns of month records (the rows of a
    monthly frame)."""
    assert [record["month"] for record in records] == list(range(days // MONTH_DAYS))
    values = [[record[name] for name in MONTHLY_METRICS] for record in records]
    return np.array(values, float).reshape(len(records), 1, len(MONTHLY_METRICS))


def engine_month_records(rep, g: graph.TrustGraph) -> list[dict]:
    """The rows of a replication's ``Result.monthly``, from the engine's month records and
    daily active counts (a frame per replication would cost more than the runs;
    test_engine_daily_frame_has_the_documented_layout_and_invariants checks that the two
    agree)."""
    users = int(np.count_nonzero(g.user))
    daily_active = np.asarray(rep.active, float).reshape(-1)
    gmv = np.asarray(rep.history)[:, metrics.ROWS.index("all"), metrics.COUNTS.index("gmv")]
    out = []
    for record in rep.months:
        first = record["month"] * MONTH_DAYS
        days = slice(first, first + MONTH_DAYS)
        dau, month_gmv = daily_active[days].mean(), gmv[days].sum()
        out.append(
            record | {"residents": g.n_residents, "users": users, "dau": dau, "gmv": month_gmv}
        )
    return out


def with_totals(runs: np.ndarray) -> np.ndarray:
    """Append the total over days as one more 'day'."""
    return np.concatenate([runs, runs.sum(axis=1, keepdims=True)], axis=1)


def compare(
    engine: np.ndarray,
    oracle: np.ndarray,
    z: float,
    periods: list,
    rows: tuple[str, ...] = ROWS,
    metrics_: tuple[str, ...] = COUNTS,
) -> pd.DataFrame:
    """One row per (period, row, metric) of runs shaped (seeds, periods, rows, metrics),
    with the two means and the verdict."""
    me, mo = engine.mean(0), oracle.mean(0)
    se_e = engine.std(0, ddof=1) / math.sqrt(len(engine))
    se_o = oracle.std(0, ddof=1) / math.sqrt(len(oracle))
    se = np.sqrt(se_e**2 + se_o**2)
    deterministic = (se_e == 0) & (se_o == 0)
    floor = 1e-9 * np.maximum(1.0, np.abs(mo))
    ok = np.where(deterministic, np.abs(me - mo) <= floor, np.abs(me - mo) <= z * se)
    table = []
    for d, ch, k in np.ndindex(*ok.shape):
        table.append(
            {
                "period": periods[d],
                "channel": rows[ch],
                "metric": metrics_[k],
                "mean_engine": me[d, ch, k],
                "mean_oracle": mo[d, ch, k],
                "se": se[d, ch, k],
                "z": (me[d, ch, k] - mo[d, ch, k]) / se[d, ch, k] if se[d, ch, k] else 0.0,
                "ok": bool(ok[d, ch, k]),
            }
        )
    return pd.DataFrame(table)


def bonferroni_z(n_comparisons: int) -> float:
    return float(norm.ppf(1 - FAMILY_WISE_ERROR / (2 * n_comparisons)))


# The information table's metrics compared per message and day: the shares of residents
# who know a message (overall, rural, urban, users, non-users), the shares of residents who
# learnt it by each path (by_<path> times share_informed, 0 when nobody knows it: by_<path>
# alone is NaN then) and the baseline's coverage. urban_rural_gap is their difference.
INFORMATION_METRICS = (
    "share_informed",
    "share_rural",
    "share_urban",
    "share_users",
    "share_non_users",
    *(f"informed_by_{path}" for path in PATHS),
    "baseline_share",
    "baseline_rural",
    "baseline_urban",
)


@dataclass
class Information:
    """One run's information tables as compared: (message, day) keys, the regions of the
    per-region table, values (message-days, 1, INFORMATION_METRICS) and region shares
    (message-days, regions, 1)."""

    keys: list[tuple[int, int]]
    regions: list[str]
    values: np.ndarray
    region_shares: np.ndarray


def information_of(frame: pd.DataFrame, regions: pd.DataFrame) -> Information:
    """The compared form of a run's ``information`` and ``information_regions`` frames."""
    assert list(frame.columns) == list(INFORMATION_COLUMNS)
    f = frame.sort_values(["message", "day"], kind="stable")
    share = f.share_informed.to_numpy(float)
    values = [f[c].to_numpy(float) for c in INFORMATION_METRICS[:5]]
    values += [np.nan_to_num(f[f"by_{path}"].to_numpy(float) * share) for path in PATHS]
    values += [f[c].to_numpy(float) for c in INFORMATION_METRICS[-3:]]
    table = regions.assign(region=regions.region.astype(str)).pivot(
        index=["message", "day"], columns="region", values="share_informed"
    )
    keys = list(zip(f.message.tolist(), f.day.tolist(), strict=True))
    assert table.index.tolist() == keys
    return Information(
        keys,
        [str(c) for c in table.columns],
        np.column_stack(values)[:, None, :],
        table.to_numpy(float)[:, :, None],
    )


def message_days(name: str, days: int) -> int:
    """Rows of the information table of a run of ``days`` days of scenario ``name``."""
    inf = scenario(name).information
    posted = [inf.first_day + m * inf.interval for m in range(inf.n_messages)]
    return sum(max(0, days - day) for day in posted)


# Scenarios whose producers' accounts (PRODUCER_METRICS, per run) are compared too: their
# specialties are listed by creators recruited from pools that leave the creators outside
# the city out, which the daily counts hardly see.
ACCOUNTS_COMPARED = ("outside_inclusive", "outside_head_random")


def n_comparisons(days: dict[str, int]) -> int:
    """Comparisons of runs of ``days[name]`` days of every scenario: the counts per day and
    row and their totals, the monthly metrics per complete month, the information metrics
    and region shares per message and day, and the producers' accounts per run."""
    total = len(ACCOUNTS_COMPARED) * len(PRODUCER_METRICS)
    for name, d in days.items():
        total += len(CUSTOMER_COUNTS)
        total += (d + 1) * len(ROWS) * len(COUNTS) + d // MONTH_DAYS * len(MONTHLY_METRICS)
        g = scenario_graph(name)
        populated = len(np.unique(np.asarray(g.region)[g.resident]))  # regions in the table
        total += message_days(name, d) * (len(INFORMATION_METRICS) + populated)
    return total


def oracle_block(
    name: str, seeds: range, days: int
) -> tuple[np.ndarray, np.ndarray, list[Information], list[list[float]], list[list[int]]]:
    """The oracle's daily counts (seeds, days, rows, counts), monthly metrics (seeds,
    months, 1, metrics), information tables, producers' accounts and sellers' customers
    (one per seed)."""
    g, s = scenario_graph(name), scenario(name)
    daily, monthly, information, accounts, customers = [], [], [], [], []
    for seed in seeds:
        market = Market(g, s, seed).run(days)
        daily.append(to_array(market, days))
        monthly.append(monthly_array(market.months, days))
        information.append(information_of(market.information(), market.information_regions()))
        accounts.append(producer_metrics(market.producer_accounts(days)))
        counts = market.customers()
        customers.append([counts[k] for k in CUSTOMER_COUNTS])
    return np.stack(daily), np.stack(monthly), information, accounts, customers


def engine_customers(rep) -> list[int]:  # type: ignore[no-untyped-def]
    """A replication's sellers' customers and repeat customers, in CUSTOMER_COUNTS order."""
    creators = len(rep.market.is_head)
    out = []
    for sold in (slice(0, creators), slice(creators, None)):
        out += [int(rep.seller_customers[sold].sum()), int(rep.seller_repeat_customers[sold].sum())]
    return out


@dataclass
class Runs:
    engine: np.ndarray  # (seeds, days, rows, counts)
    oracle: np.ndarray
    engine_monthly: np.ndarray  # (seeds, months, 1, monthly metrics)
    oracle_monthly: np.ndarray
    results: list[Result]  # a few of the engine's results, as returned
    month_records: list[list[dict]]  # the same replications' months, as compared
    engine_seconds: float
    wall_seconds: float
    engine_information: list[Information]  # one per seed
    oracle_information: list[Information]
    engine_accounts: np.ndarray  # (seeds, PRODUCER_METRICS), for ACCOUNTS_COMPARED
    oracle_accounts: np.ndarray
    engine_customers: np.ndarray  # (seeds, CUSTOMER_COUNTS)
    oracle_customers: np.ndarray


@functools.cache
def runs(name: str, n_seeds: int, days: int) -> Runs:
    """Engine and oracle over ``n_seeds`` seeds each (the oracle in two worker processes)."""
    g, s = scenario_graph(name), scenario(name)
    start = time.perf_counter()
    # The oracle is plain Python: it runs in two forked workers (half the seeds each) while
    # the engine runs here.
    seeds = range(10**6, 10**6 + n_seeds)
    halves = (seeds[: n_seeds // 2], seeds[n_seeds // 2 :])
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(oracle_block, name, half, days) for half in halves]
        # The engine's seeds as replications of lockstep engines (each gives the numbers of
        # a run of it alone, tests/engine/test_lockstep.py), spawned from one seed.
        engine_counts, engine_monthly, results, month_records = [], [], [], []
        engine_information, engine_accounts, customers = [], [], []
        market_seeds = np.random.SeedSequence(0).spawn(n_seeds)
        for first in range(0, n_seeds, 50):
            engine = Engine(g, s, seed=market_seeds[first : first + 50])
            engine.run(days)
            for r in range(engine.replications):
                rep = engine.replication(r)
                engine_counts.append(rep.history)
                engine_monthly.append(monthly_array(engine_month_records(rep, g), days))
                if s.information.n_messages:
                    engine_information.append(
                        information_of(*rep.information.frames(g.region_names))
                    )
                if name in ACCOUNTS_COMPARED:
                    engine_accounts.append(producer_metrics(producer_frame(rep)))
                customers.append(engine_customers(rep))
            if first == 0:
                results = [Result.from_engine(engine.replication(r)) for r in range(3)]
                month_records = [engine_month_records(engine.replication(r), g) for r in range(3)]
        engine_seconds = time.perf_counter() - start
        blocks = [future.result() for future in futures]
    oracle = np.concatenate([block[0] for block in blocks])
    oracle_monthly = np.concatenate([block[1] for block in blocks])
    oracle_information = [info for block in blocks for info in block[2]]
    oracle_accounts = [run for block in blocks for run in block[3]]
    oracle_customers = [run for block in blocks for run in block[4]]
    # The engine's counts, in the oracle's rows and metrics.
    rows = [metrics.ROWS.index(row) for row in ROWS]
    columns = [metrics.COUNTS.index(count) for count in COUNTS]
    engine = np.array(engine_counts)[:, :, rows][..., columns]
    return Runs(
        engine,
        oracle,
        np.array(engine_monthly).reshape(oracle_monthly.shape),
        oracle_monthly,
        results,
        month_records,
        engine_seconds,
        time.perf_counter() - start,
        engine_information,
        oracle_information if s.information.n_messages else [],
        np.array(engine_accounts),
        np.array(oracle_accounts if name in ACCOUNTS_COMPARED else []),
        np.array(customers, float),
        np.array(oracle_customers, float),
    )


def information_table(name: str, days: int, r: Runs, z: float) -> pd.DataFrame:
    """The comparisons of the information tables per message and day (none for a scenario
    without messages): the metrics of the table (row ``information``) and the share of each
    region's residents (one row per region). Engine and oracle must have the same messages,
    days and regions: the regions with residents (creators outside the city are not)."""
    if not r.oracle_information:
        return pd.DataFrame()
    reference = r.oracle_information[0]
    g = scenario_graph(name)
    populated = np.unique(np.asarray(g.region)[g.resident])
    assert reference.regions == sorted(g.region_names[k] for k in populated)
    assert len(reference.keys) == message_days(name, days)
    for info in (*r.engine_information, *r.oracle_information):
        assert (info.keys, info.regions) == (reference.keys, reference.regions)
    periods = [f"message {m} day {d}" for m, d in reference.keys]

    def stacked(side: list[Information], what: str) -> np.ndarray:
        return np.stack([getattr(info, what) for info in side])

    engine, oracle = r.engine_information, r.oracle_information
    return pd.concat(
        [
            compare(
                stacked(engine, "values"),
                stacked(oracle, "values"),
                z,
                periods,
                ("information",),
                INFORMATION_METRICS,
            ),
            compare(
                stacked(engine, "region_shares"),
                stacked(oracle, "region_shares"),
                z,
                periods,
                tuple(reference.regions),
                ("share_informed",),
            ),
        ],
        ignore_index=True,
    )


def agreement(name: str, n_seeds: int, days: int, family: dict[str, int]) -> None:
    """Compare the means of engine and oracle; ``family``: the days of every scenario whose
    comparisons share the family-wise error."""
    r = runs(name, n_seeds, days)
    z = bonferroni_z(n_comparisons(family))
    table = compare(with_totals(r.engine), with_totals(r.oracle), z, [*range(days), "total"])
    months = [f"month {k}" for k in range(days // MONTH_DAYS)]
    if months:
        table = pd.concat(
            [
                table,
                compare(
                    r.engine_monthly, r.oracle_monthly, z, months, ("monthly",), MONTHLY_METRICS
                ),
            ],
            ignore_index=True,
        )
    information = information_table(name, days, r, z)
    customers = compare(
        r.engine_customers[:, None, None, :],
        r.oracle_customers[:, None, None, :],
        z,
        ["run"],
        ("sellers",),
        CUSTOMER_COUNTS,
    )
    table = pd.concat([table, information, customers], ignore_index=True)
    if name in ACCOUNTS_COMPARED:
        accounts = compare(
            r.engine_accounts[:, None, None, :],
            r.oracle_accounts[:, None, None, :],
            z,
            ["run"],
            ("producers",),
            PRODUCER_METRICS,
        )
        table = pd.concat([table, accounts], ignore_index=True)
        print("producers' accounts, z-scores (engine - oracle):")
        print(accounts.set_index("metric").z.round(2).to_string())
    bad = table[~table.ok].reindex(table[~table.ok].z.abs().sort_values(ascending=False).index)
    print(
        f"\n{name}: {n_seeds} seeds x {days} days; engine {r.engine_seconds:.1f} s, engine "
        f"and oracle {r.wall_seconds:.1f} s; z = {z:.2f}; {len(bad)} of {len(table)} "
        "comparisons disagree"
    )
    totals = table[table.period == "total"].pivot(index="channel", columns="metric", values="z")
    print("z-scores of the totals over days (engine - oracle):")
    print(totals.reindex(index=list(ROWS), columns=list(COUNTS)).round(2).to_string())
    if months:
        print("z-scores of the months:")
        monthly = table[table.channel == "monthly"]
        print(monthly.pivot(index="period", columns="metric", values="z").round(2).to_string())
    if len(information):
        print("largest |z| of the information metrics over messages and days:")
        largest = information.assign(z=information.z.abs()).groupby(["channel", "metric"]).z.max()
        print(largest.round(2).to_string())
    assert bad.empty, (
        f"{name}: engine and oracle disagree on {len(bad)} of {len(table)} means "
        f"(z = {z:.2f}):\n{bad.head(40).to_string()}"
    )


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_engine_daily_frame_has_the_documented_layout_and_invariants(name: str) -> None:
    g, days = scenario_graph(name), days_of(name)
    users = int(np.count_nonzero(g.user))
    r = runs(name, N_SEEDS, days)
    for result, records in zip(r.results, r.month_records, strict=True):
        check_daily(result.daily, days, scenario(name), users)
        check_monthly(result.monthly, result.daily, days, g, scenario(name))
        compared = monthly_array(records, days)
        reported = monthly_array(result.monthly.to_dict("records"), days)
        assert np.allclose(compared, reported, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_engine_agrees_with_oracle(name: str) -> None:
    agreement(name, N_SEEDS, days_of(name), {n: days_of(n) for n in SCENARIOS})


KNOWN_LONG: dict[str, pytest.MarkDecorator] = {}
"""Slow comparisons known to fail, with the reason (none now)."""


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=KNOWN_LONG.get(name, ())) for name in SCENARIOS]
)
def test_engine_agrees_with_oracle_long(name: str) -> None:
    agreement(name, SLOW_SEEDS, SLOW_DAYS, dict.fromkeys(SCENARIOS, SLOW_DAYS))


# ----------------------------------------------------------------------------- producers' accounts
# Costs and displacement large enough that every term of the accounts (section 3.5, 收支)
# moves the net change, and offline incomes low enough that the cap of the displaced income
# binds for most producers but not all.
PRODUCER_COSTS = {
    "producers.offline_income": 5.0,
    "producers.offline_dispersion": 1.0,
    "producers.displacement": 0.5,
    "producers.platform_fee": 0.1,
    "producers.cost_per_order": 3.0,
    "producers.fixed_cost": 2.0,
}
PRODUCER_SEEDS = 300  # per side and case
PRODUCER_METRICS = (  # per run: means over its producers, and the share who gain
    "days_online",
    "net",
    "offline",
    "revenue",
    "fees",
    "logistics",
    "fixed",
    "displaced",
    "gaining",
)
POVERTY_METRICS = ("poverty_earner_share", "poverty_gmv_share")
# The producers scenario's city with region B treated as a poverty county (贫困县).
POVERTY_SPEC = replace(
    SPEC, regions=(graph.Region("A", 240, 0.5), graph.Region("B", 120, 0.2, poverty=True))
)


@functools.cache
def poverty_graph() -> graph.TrustGraph:
    return graph.city(POVERTY_SPEC, seed=GRAPH_SEED)


@functools.cache
def unlisted_graph() -> graph.TrustGraph:
    """city_graph with region B's local creators made government accounts (which do not
    sell), so that under producers.channel = 'creators' the specialties of B's producers
    are listed by no seller (section 3.4: none if the pool is empty)."""
    g = city_graph()
    kind = np.asarray(g.creator_kind).copy()
    kind[(kind == LOCAL_CREATOR) & (np.asarray(g.region) == g.region_names.index("B"))] = GOV
    src = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
    return graph.TrustGraph.from_edges(
        g.n_nodes,
        src,
        g.indices,
        g.trust,
        g.layer,
        region=g.region,
        hometown=g.hometown,
        rural=g.rural,
        user=g.user,
        creator_kind=kind,
        region_names=g.region_names,
    )


# Producers who enter when it pays (section 3.5, Growth): 30 % of the listed producers (and of
# the creators and storefronts) sell from the first day; no fixed cost, so that the online
# producers' mean net income N-bar is positive (about RMB 70 a month) and an entry threshold
# of RMB 36 gives a monthly entry probability near 0.8 (1 - 36 / N-bar) ≈ 0.4 that moves
# with N-bar; creators and storefronts never enter. Two growth steps (days 30 and 60).
PRODUCER_ENTRY = {
    "producers.fixed_cost": 0.0,
    "growth.initial_sellers": 0.3,
    "growth.entry_rate": 0.8,
    "growth.producer_entry_income": 36.0,
    "growth.creator_entry_income": 1e9,
    "growth.storefront_entry_gmv": 1e12,
}
ENTRY_DAYS = 2 * MONTH_DAYS + 5


def producer_case(case: str) -> tuple[graph.TrustGraph, Scenario]:
    """``producers``: the producers scenario with PRODUCER_COSTS, on its city with region B a
    poverty county; ``unlisted``: the same with channel 'creators' on unlisted_graph;
    ``entry``: ``producers`` with PRODUCER_ENTRY (run it ENTRY_DAYS)."""
    s = scenario("producers").replace(**PRODUCER_COSTS)
    if case == "producers":
        return poverty_graph(), replace(s, city=POVERTY_SPEC)
    if case == "entry":
        return poverty_graph(), replace(s, city=POVERTY_SPEC).replace(**PRODUCER_ENTRY)
    return unlisted_graph(), s.replace(**{"producers.channel": "creators"})


def producer_days(case: str) -> int:
    return ENTRY_DAYS if case == "entry" else DAYS


def producer_metrics(frame: pd.DataFrame) -> list[float]:
    """One run's PRODUCER_METRICS from its producers' frame."""
    means = frame[list(PRODUCER_METRICS[:-1])].mean()
    return [*means.tolist(), float((frame.net > 0).mean())]


def oracle_producer_block(case: str, seeds: range, days: int) -> tuple[np.ndarray, np.ndarray]:
    g, s = producer_case(case)
    accounts, shares = [], []
    for seed in seeds:
        market = Market(g, s, seed).run(days)
        accounts.append(producer_metrics(market.producer_accounts(days)))
        shares.append([market.poverty_shares()[k] for k in POVERTY_METRICS])
    return np.array(accounts), np.array(shares)


@dataclass
class ProducerRuns:
    engine: np.ndarray  # (seeds, PRODUCER_METRICS)
    oracle: np.ndarray
    engine_poverty: np.ndarray  # (seeds, POVERTY_METRICS)
    oracle_poverty: np.ndarray
    frames: list[pd.DataFrame]  # a few of the engine's Result.producers
    seconds: float


@functools.cache
def producer_runs(case: str, n_seeds: int, days: int) -> ProducerRuns:
    """Engine and oracle over ``n_seeds`` seeds each (the oracle in a forked worker)."""
    g, s = producer_case(case)
    start = time.perf_counter()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        future = pool.submit(oracle_producer_block, case, range(n_seeds), days)
        accounts, shares, frames = [], [], []
        market_seeds = np.random.SeedSequence(11).spawn(n_seeds)
        for first in range(0, n_seeds, 50):
            engine = Engine(g, s, seed=market_seeds[first : first + 50])
            engine.run(days)
            for r in range(engine.replications):
                result = Result.from_engine(engine.replication(r))
                accounts.append(producer_metrics(result.producers))
                shares.append([result.outcomes[k] for k in POVERTY_METRICS])
                if len(frames) < 3:
                    frames.append(result.producers)
        oracle, oracle_poverty = future.result()
    return ProducerRuns(
        np.array(accounts),
        oracle,
        np.array(shares, float),
        oracle_poverty,
        frames,
        time.perf_counter() - start,
    )


def check_accounts(frame: pd.DataFrame, s: Scenario, days: int) -> None:
    """The documented identities of producers' accounts (section 3.5)."""
    p = s.producers
    assert list(frame.columns) == list(PRODUCER_COLUMNS)
    money = frame[list(PRODUCER_COLUMNS[8:])].to_numpy(float)
    assert np.isfinite(money).all()
    terms = ["offline", "revenue", "fees", "logistics", "fixed", "displaced"]
    assert (frame[terms].to_numpy() >= 0).all()
    net = frame.revenue - frame.fees - frame.logistics - frame.fixed - frame.displaced
    assert np.allclose(frame.net, net, rtol=1e-12, atol=1e-9)
    assert np.allclose(frame.fees, p.platform_fee * frame.revenue, rtol=1e-12, atol=1e-9)
    assert np.allclose(frame.logistics, p.cost_per_order * frame.orders, rtol=1e-12, atol=1e-9)
    # days online: the days run for every listed producer without growth; with growth
    # those since it entered; none for an unlisted one
    on = frame.days_online
    assert ((on >= 0) & (on <= days)).all() and ((on > 0) <= frame.listed).all()
    if not s.growth.initial_sellers < 1:
        assert (on == np.where(frame.listed, days, 0)).all()
    assert (frame.displaced <= frame.offline * on * (1 + 1e-12)).all()
    assert (frame.displaced <= p.displacement * frame.revenue * (1 + 1e-12) + 1e-9).all()
    cap = np.minimum(p.displacement * frame.revenue, frame.offline * on)
    assert np.allclose(frame.displaced, cap, rtol=1e-12, atol=1e-9)
    assert np.allclose(frame.fixed, p.fixed_cost * on)
    assert ((frame.revenue > 0) <= (on > 0)).all()  # not online: on no shelf, no order
    assert ((frame.orders > 0) == (frame.revenue > 0)).all()
    assert (frame.buyers <= frame.orders).all()


@pytest.mark.parametrize("case", ["producers", "unlisted", "entry"])
def test_oracle_producer_accounts(case: str) -> None:
    """The oracle's accounts: net = revenue - fees - logistics - fixed - displaced,
    displaced = min(displacement G, o T) <= o T, the fixed cost only for listed producers;
    receipts and orders are those of the orders of the specialty. The case exercises both
    sides of the cap (and, for ``unlisted``, both listed and unlisted producers; for
    ``entry``, producers who went online on day 30 or 60 and who never did: they sell only
    from the day they entered, and their accounts run over those days)."""
    g, s = producer_case(case)
    days = producer_days(case)
    frames = []
    for seed in range(12):
        m = Market(g, s, seed).run(days)
        frame = m.producer_accounts()
        check_accounts(frame, s, days)
        assert frame.equals(m.producer_accounts(days))
        for k, producer in enumerate(m.producers):
            mine = [o for o in m.orders if o.product.producer == k]
            assert frame.days_online[k] == (days - producer.since if producer.online else 0)
            assert all(o.day >= producer.since for o in mine) and (producer.online or not mine)
            assert frame.orders[k] == len(mine)
            assert frame.buyers[k] == len({o.user for o in mine})
            share = s.producers.income_share
            assert math.isclose(frame.revenue[k], share * sum(o.value for o in mine))
            listed = any(producer.product in seller.catalogue for seller in m.creators.values())
            listed |= any(producer.product in seller.catalogue for seller in m.storefronts)
            assert frame.listed[k] == listed
            assert frame.region[k] == g.region[producer.id]
        frames.append(frame)
    every = pd.concat(frames)
    p = s.producers
    capped = every.displaced < p.displacement * every.revenue
    assert capped.any() and (~capped & (every.revenue > 0)).any()
    assert (every.net > 0).any() and (every.net < 0).any()
    if case == "unlisted":
        region_b = g.region_names.index("B")
        assert (every.listed == (every.region != region_b)).all()
        assert every.listed.any() and not every.listed.all()
    else:
        assert every.listed.all()
    if case == "entry":
        assert set(every.days_online) == {0, days - 2 * MONTH_DAYS, days - MONTH_DAYS, days}


def test_oracle_producers_enter_when_it_pays() -> None:
    """Section 3.5, Growth, entry: at a month's start a listed producer not online goes
    online with entry_rate max(0, 1 - producer_entry_income / N-bar), N-bar the mean net
    income over the month that ended of the producers online in it (their accounts over
    30 days); nobody enters when N-bar is below the threshold."""
    g, s = producer_case("entry")
    m = Market(g, s, seed=3).run(MONTH_DAYS)
    online = [k for k, producer in enumerate(m.producers) if producer.online]
    # the month's receipts are all there is so far: the accounts over 30 days
    accounts = m.producer_accounts(MONTH_DAYS)
    n_bar = accounts.net[online].mean()
    assert math.isclose(m.producer_entry_mean(0), n_bar, rel_tol=1e-12)
    assert n_bar > s.growth.producer_entry_income  # entry has a chance
    gr = s.growth
    p_enter = gr.entry_rate * (1 - gr.producer_entry_income / n_bar)
    state = [(producer.online, producer.since) for producer in m.producers]
    adopted, selling = dict(m.adopted), dict(m.selling)
    trials, entered = 400, 0
    for _ in range(trials):
        m.adopted, m.selling = dict(adopted), dict(selling)
        for producer, (on, since) in zip(m.producers, state, strict=True):
            producer.online, producer.since = on, since
        m._growth(MONTH_DAYS)
        now = [k for k, producer in enumerate(m.producers) if producer.online]
        assert set(online) <= set(now)
        assert all(m.producers[k].since == MONTH_DAYS for k in set(now) - set(online))
        entered += len(now) - len(online)
    n = trials * (len(m.producers) - len(online))
    assert abs(entered / n - p_enter) <= binomial_bound(p_enter, n)
    # a threshold above N-bar: nobody enters on day 30
    high = s.replace(**{"growth.producer_entry_income": 1.01 * n_bar})
    m = Market(g, high, seed=3).run(MONTH_DAYS + 1)
    assert [k for k, producer in enumerate(m.producers) if producer.online] == online


def test_oracle_offline_income_draws() -> None:
    """Offline incomes are LogNormal(mean offline_income, log-sd offline_dispersion) from a
    stream of their own (section 3.4): they change no other draw; all 0 when the mean is 0,
    all the mean with log-sd 0."""
    g, s = producer_case("producers")
    s = s.replace(**{"producers.n_producers": 200})
    base = Market(g, s, seed=4).run(3)
    offline = base.producer_accounts().offline.to_numpy()
    mean, sd = s.producers.offline_income, s.producers.offline_dispersion
    se = offline.std(ddof=1) / math.sqrt(len(offline))
    assert abs(offline.mean() - mean) <= 4 * se
    assert abs(np.log(offline).std(ddof=1) - sd) <= 4 * sd / math.sqrt(2 * len(offline))
    for changes in ({"producers.offline_income": 0.0}, {"producers.offline_dispersion": 0.0}):
        other = Market(g, s.replace(**changes), seed=4).run(3)
        pd.testing.assert_frame_equal(other.daily(), base.daily())
        accounts = other.producer_accounts()
        pd.testing.assert_series_equal(accounts.revenue, base.producer_accounts().revenue)
        expected = changes.get("producers.offline_income", mean)
        assert np.allclose(accounts.offline, expected, rtol=1e-12, atol=0)
        if expected == 0:
            assert (accounts.displaced == 0).all()


def test_oracle_poverty_shares() -> None:
    """Earners and GMV of poverty counties, counted by hand from the oracle's agents."""
    g, s = producer_case("producers")
    m = Market(g, s, seed=2).run(DAYS)
    poor = g.region_names.index("B")
    assert m.poverty_units() == [False, True]
    shares = m.poverty_shares()
    creators = [c for c, cr in m.creators.items() if cr.income > 0]
    producers = [p.id for p in m.producers if p.income > 0]
    earners = creators + producers
    in_poor = sum(1 for i in earners if g.region[i] == poor)
    assert shares["poverty_earner_share"] == in_poor / len(earners)
    gmv = sum(o.value for o in m.orders)
    stores = sum(st.gmv for st in m.storefronts)
    by_creators = sum(cr.income for c, cr in m.creators.items() if g.region[c] == poor)
    expected = by_creators / s.creators.commission / gmv
    assert math.isclose(shares["poverty_gmv_share"], expected, rel_tol=1e-9)
    assert 0 < shares["poverty_gmv_share"] < 1 - stores / gmv
    assert 0 < shares["poverty_earner_share"] < 1
    # the scenario's city, not the graph, says which units are poverty counties
    plain = Market(g, scenario("producers"), seed=2).run(DAYS)
    assert plain.poverty_shares() == {"poverty_earner_share": 0.0, "poverty_gmv_share": 0.0}


def producer_comparisons() -> int:
    """Comparisons of the producers' agreement tests: three cases' accounts, one case's
    shares."""
    return 3 * len(PRODUCER_METRICS) + len(POVERTY_METRICS)


def check_agreement(
    title: str, engine: np.ndarray, oracle: np.ndarray, metrics_: tuple[str, ...], seconds: float
) -> None:
    z = bonferroni_z(producer_comparisons())
    table = compare(
        engine[:, None, None, :], oracle[:, None, None, :], z, ["run"], (title,), metrics_
    )
    print(f"\n{title}: {len(engine)} seeds per side, {seconds:.1f} s; z = {z:.2f}")
    print(table.drop(columns=["period", "channel"]).round(4).to_string())
    assert table.ok.all(), f"{title}: engine and oracle disagree:\n{table[~table.ok].to_string()}"


@pytest.mark.parametrize("case", ["producers", "unlisted", "entry"])
def test_engine_producer_accounts_agree_with_oracle(case: str) -> None:
    """Per run, the mean over producers of their days online and of each account term
    (offline income per day, receipts, fees, logistics, fixed cost, displaced income, net
    change) and the share of producers who gain, engine against oracle in distribution
    (``entry``: producers who enter when it pays, section 3.5 Growth)."""
    days = producer_days(case)
    r = producer_runs(case, PRODUCER_SEEDS, days)
    _, s = producer_case(case)
    for frame in r.frames:
        assert list(frame.columns) == list(PRODUCER_COLUMNS)
        check_accounts(frame.assign(region=frame.region.cat.codes), s, days)
    check_agreement(case, r.engine, r.oracle, PRODUCER_METRICS, r.seconds)


def test_engine_poverty_shares_agree_with_oracle() -> None:
    """poverty_earner_share and poverty_gmv_share on a city whose region B is a poverty
    county, engine against oracle in distribution."""
    r = producer_runs("producers", PRODUCER_SEEDS, DAYS)
    assert np.isfinite(r.oracle_poverty).all() and np.isfinite(r.engine_poverty).all()
    means = r.oracle_poverty.mean(0)
    assert (means > 0).all() and (means < 1).all()
    check_agreement("poverty", r.engine_poverty, r.oracle_poverty, POVERTY_METRICS, r.seconds)


def test_oracle_trains_the_targeted_creators_as_the_rule_that_picks_them() -> None:
    """The rule `targeted` trains the creators given: the same market as a rule that picks
    them (`followers` draws no random number to pick), day by day, whatever order they are
    listed in (followers are drawn in the order of the creators' ids)."""
    g = outside_graph()
    s = scenario("outside_inclusive").replace(**{"training.n_creators": 3})
    ruled = Market(g, s.replace(**{"training.rule": "followers"}), seed=8)
    before = {c: cr.authenticity for c, cr in ruled.creators.items()}
    for _ in range(s.training.day):
        ruled.step()
    selling = sorted(c for c in ruled.creators if ruled.resident[c])
    picked = sorted(selling, key=lambda c: (-len(ruled.creators[c].followers), c))[:3]
    ruled.run(6 - s.training.day)
    listed = picked[::-1]
    given = Market(g, s.replace(**{"training.rule": "targeted"}), seed=8, trained=listed)
    pd.testing.assert_frame_equal(given.run(6).daily(), ruled.daily())
    changed = sorted(c for c, cr in given.creators.items() if cr.authenticity != before[c])
    assert changed == sorted(picked)


def test_oracle_trains_the_operators_of_the_regions_given() -> None:
    """Information's rule `targeted` trains the government accounts of the regions given:
    with every region given, the same market as the rule `all`, day by day; with one, the
    feeds' probabilities from that region's accounts trained and the others' as they were."""
    g = outside_graph()
    s = scenario("outside_inclusive")
    targeted = s.replace(**{"information.training_rule": "targeted"})
    regions = sorted({m for m in np.asarray(g.region)[np.asarray(g.creator_kind) == GOV].tolist()})
    assert len(regions) >= 2
    everyone = Market(g, targeted, seed=8, operators=regions[::-1]).run(8)
    ruled = Market(g, s, seed=8).run(8)
    pd.testing.assert_frame_equal(everyone.daily(), ruled.daily())
    pd.testing.assert_frame_equal(everyone.information(), ruled.information())
    one = Market(g, targeted, seed=8, operators=regions[:1])
    inf = s.information
    t = inf.training_day
    cq = {
        a: min(1.0, q + inf.training_gain) if one.region[a] == regions[0] else q
        for a, q in one.gov_quality.items()
    }
    p_city, p_home = one.feed_probabilities(t)
    assert p_city == pytest.approx(1.0 - math.prod(1.0 - inf.city_feed * cq[a] for a in one.gov))
    for h, p in p_home.items():
        mine = [a for a in one.gov if one.region[a] == h]
        assert p == pytest.approx(1.0 - math.prod(1.0 - inf.hometown_feed * cq[a] for a in mine))
    assert one.feed_probabilities(t - 1) == Market(g, s, seed=8).feed_probabilities(t - 1)
    assert p_city < ruled.feed_probabilities(t)[0]


def test_oracle_and_engine_seed_the_residents_given() -> None:
    """Residents seeded with the messages (`seeds`) learn each on its posting day by the path
    `seeded`, before the day's feeds, and pass it on from the next day. With no feed and no
    sharing the seeds are all who ever know a message: the engine's information tables are
    the oracle's, value for value; with sharing, the oracle's people informed the day after
    a posting are kin or trusting contacts of the seeds (the baseline, which the oracle
    draws otherwise, is off)."""
    g = outside_graph()
    s = scenario("outside_inclusive")
    silent = s.replace(
        **{
            "information.city_feed": 0.0,
            "information.hometown_feed": 0.0,
            "information.share_prob": 0.0,
            "information.offline_prob": 0.0,
            "information.tv_urban": 0.0,
            "information.tv_rural": 0.0,
        }
    )
    residents = [i for i in range(g.n_nodes) if g.resident[i]]
    seeds = [residents[3], residents[len(residents) // 2], residents[-1]]
    oracle = Market(g, silent, seed=8, seeds=seeds[::-1]).run(12)
    for msg in oracle.messages:
        assert msg.path == dict.fromkeys(seeds, "seeded")
        assert msg.learnt == dict.fromkeys(seeds, msg.day)
    engine = Engine(g, silent, seed=8, seeds=seeds)
    engine.run(12)
    frame, regions = engine.information.frames(g.region_names)
    keys = ["message", "day"]
    pd.testing.assert_frame_equal(
        frame.sort_values(keys).reset_index(drop=True),
        oracle.information().sort_values(keys).reset_index(drop=True),
        check_dtype=False,
    )
    mine = regions.assign(region=regions.region.astype(str))
    pd.testing.assert_frame_equal(
        mine.sort_values([*keys, "region"]).reset_index(drop=True),
        oracle.information_regions().sort_values([*keys, "region"]).reset_index(drop=True),
        check_dtype=False,
    )
    assert (frame["share_informed"] == len(seeds) / g.n_residents).all()
    spread = silent.replace(**{"information.share_prob": 1.0, "information.offline_prob": 1.0})
    market = Market(g, spread, seed=8, seeds=seeds)
    first = market.messages[0].day
    market.run(first + 2)
    msg = market.messages[0]
    assert all(msg.path[i] == "seeded" for i in seeds)
    contacts = {i for j in seeds for i in market.trusted_by.get(j, ())}
    shared = {i for i, day in msg.learnt.items() if day == first + 1 and msg.path[i] in PATHS[2:]}
    assert shared and shared <= contacts


def test_oracle_and_engine_enrol_the_producers_given() -> None:
    """Producers enrolled by node (`enrolled`) are the poor producers, in node order, instead
    of `n_producers` drawn; with `recruit = 'followers'` (no draw) the creators listing each
    specialty are the engine's, seller for seller; the oracle's market is its own draw for
    draw otherwise (its specialties come from the market's Generator, as a drawn
    producer's)."""
    g, base = producer_case("producers")
    s = base.replace(**{"producers.channel": "creators", "producers.recruit": "followers"})
    residents = [i for i in range(g.n_nodes) if g.resident[i] and g.rural[i]]
    given = [residents[-1], residents[0], residents[len(residents) // 2]]
    oracle = Market(g, s, seed=3, enrolled=given)
    assert [p.id for p in oracle.producers] == sorted(given)
    engine = Engine(g, s, seed=3, enrolled=given).market
    assert engine.producer_node.tolist() == sorted(given)
    for j, p in enumerate(oracle.producers):
        listing = np.flatnonzero(engine.product_producer[engine.listing_product] == j)
        sellers = sorted(int(engine.creator_node[c]) for c in engine.listing_seller[listing])
        assert sellers == sorted(oracle.recruited(p.id)) and p.listed == bool(sellers)
    assert all(p.listed for p in oracle.producers)
    drawn = Market(g, s, seed=3)
    assert len(drawn.producers) == s.producers.n_producers
    assert [p.id for p in Market(g, s, seed=3, enrolled=[]).producers] == []
