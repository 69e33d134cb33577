"""Target moments: the calibration targets as numbers a run produces.

The calibration targets (T1–T17) are the stylised facts a calibrated scenario should
reproduce, each resting on source facts (A1, B2, ...: the figure, its source and a confidence
grade); docs/sources.md gives every target and fact, and docs/validation.md quotes them. Each
function here computes one target from a :class:`~laotie.results.Result` (or from the run's
:class:`~laotie.graph.TrustGraph`); :data:`MOMENTS` pairs each with its band, and
:func:`validate` evaluates them over the replications of a run: the table of
``laotie validate``.

Bands
-----
Where a target gives a range (T2's 2–3 %, T4's 3–10×, T5's 60–70 % and 20–30 %, T9's CCDF
slope 1.0–1.7, T11's 60–95 ties, T12's 13–14 %), the band is that range. Where it gives one
value, "≈x" or "~x", the band is **x ± 25 %**: most of the sources are graded M or L, and they
describe a national platform, not the prefecture a scenario simulates; a model within a
quarter of the point value reproduces the fact as precisely as the sources warrant. Narrower
ranges in the facts (DAU/MAU 0.54–0.56, buyers 18.6–19.5 % of MAU) measure one
platform across quarters, not that uncertainty, and are not used as bands. T3 departs
from the rule, with a reason given in its record: the facts give its upper end. So does T15,
whose point value is 0 (a quarter of 0 is no band): its band, ± 5 % of producers' offline
income, is our choice, wide enough for a trial's "little evidence of gains".

Graph moments
-------------
T9 (the follower distribution) and T11 (mutual ties) describe the trust graph, which a
:class:`Result` does not hold. Their functions take the graph and, for the denominator,
a result (its monthly active users); :func:`validate` evaluates them when it is given the
run's graph and leaves them out otherwise. They describe the graph the run started from:
follows made during the run are not in it.

Not producible yet
------------------
- T8, the platform's GMV trajectory 2019–24: a shape over years, not one number. A growing
  platform (``[growth]``, the ``mudanjiang_2019`` scenario) reports its monthly GMV in
  ``Result.monthly``; its GMV reaches T8's 23-fold only when the users using the platform
  grow about as much (14- to 22-fold, against Kuaishou's less than twofold), and not with
  T8's decelerating shape in the settings tried (docs/validation.md, "What the model can
  produce (the supply side, region and growth)"; docs/model.md 3.5, "Growth").
- T10's last part: the follower growth of boosted small creators is an experiment, not a
  moment of one run.
- T14, the 832 poverty counties' share of national online retail: a national share. A
  scenario's ``poverty_gmv_share`` (the GMV sold by creators of its poverty counties) is the
  same kind of number for one city, but not comparable with it.
- T17, the trust → purchase-intention correlation: an effect size from surveys, not a
  quantity a simulated market produces.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from .errors import LaotieError
from .stats import t_interval

if TYPE_CHECKING:
    from .graph import TrustGraph
    from .results import Result

__all__ = [
    "MOMENTS",
    "BassFit",
    "Moment",
    "bass_cumulative",
    "bass_p",
    "bass_q",
    "buyers_per_mau",
    "dau_per_mau",
    "dau_per_resident",
    "fan_conversion_ratio",
    "first_order_bass_fit",
    "fit_bass",
    "follower_tail_slope",
    "live_room_conversion",
    "mau_per_resident",
    "monthly_repurchase_traffic",
    "monthly_repurchase_trust",
    "mutual_ties_per_user",
    "non_head_exposure_share",
    "order_value_ratio",
    "storefront_click_conversion",
    "storefront_click_through",
    "storefront_conversion",
    "storefront_repeat_customers",
    "storefront_session_conversion",
    "traffic_order_value",
    "trust_conversion_ratio",
    "trust_order_value",
    "users_with_followers_share",
    "validate",
    "word_of_mouth_first_order_share",
]

DAYS_PER_YEAR = 365.0
"""Days of a year, the time unit of the Bass parameters (T16)."""


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` as a float, NaN when the denominator is 0."""
    return float(numerator) / float(denominator) if denominator else math.nan


_DEMAND_COLUMNS = ("clicks", "first_orders", "disappointed")
"""Columns a result has had since the demand side's measures (laotie 2026-12-04)."""


def _summary(result: Result) -> pd.DataFrame:
    """The result's summary, or a LaotieError if it predates the measures moments read."""
    _check_columns(result.summary, "summary")
    return result.summary


def _daily(result: Result) -> pd.DataFrame:
    """The result's daily frame, checked as :func:`_summary`."""
    _check_columns(result.daily, "daily")
    return result.daily


def _check_columns(frame: pd.DataFrame, name: str) -> None:
    missing = [column for column in _DEMAND_COLUMNS if column not in frame.columns]
    if missing:
        raise LaotieError(
            f"moments: the result's {name} has no {', '.join(missing)} column(s): it was made "
            "by a laotie from before the demand side's measures; run it again to compute "
            "its moments"
        )


def _channel_sum(result: Result, channels: Sequence[str], column: str) -> float:
    return float(_summary(result).loc[list(channels), column].sum())


# -- T1: the storefront funnel ----------------------------------------------------------------


def storefront_click_through(result: Result) -> float:
    """T1a: click-through of storefront impressions (impression → click, ≈ 4 %).

    docs/sources.md, A7 (the Ali-CCP recommender funnel of Taobao: 84 M impressions, 3.4 M
    clicks, CTR 4.05 %).

    Parameters
    ----------
    result : Result

    Returns
    -------
    float
        The storefront's clicks over its exposures, summed over the run:
        ``summary.loc["storefront", "clicks"] / summary.loc["storefront", "exposures"]``
        (a click is an impression clicked through to the product page). NaN without
        storefront exposures.
    """
    s = _summary(result)
    return _ratio(s.loc["storefront", "clicks"], s.loc["storefront", "exposures"])


def storefront_click_conversion(result: Result) -> float:
    """T1b: post-click conversion of the storefront (click → purchase, ≈ 0.5 %).

    docs/sources.md, A7 (Ali-CCP: 3.4 M clicks, 18 k purchases, CVR 0.53 %).

    Returns
    -------
    float
        ``summary.loc["storefront", "orders"] / summary.loc["storefront", "clicks"]``:
        accepted storefront orders over clicks, summed over the run. NaN without clicks.
    """
    s = _summary(result)
    return _ratio(s.loc["storefront", "orders"], s.loc["storefront", "clicks"])


def storefront_conversion(result: Result) -> float:
    """T1c: impression → purchase on the storefront (≈ 0.02 %).

    docs/sources.md, A7 (Ali-CCP: 18 k purchases of 84 M impressions, 0.021 %). It is the
    product of T1a and T1b.

    Returns
    -------
    float
        ``summary.loc["storefront", "orders"] / summary.loc["storefront", "exposures"]``
        (the summary's storefront ``conversion``). NaN without exposures.
    """
    s = _summary(result)
    return _ratio(s.loc["storefront", "orders"], s.loc["storefront", "exposures"])


def storefront_session_conversion(result: Result) -> float:
    """T2: session conversion of storefront e-commerce (2–3 %).

    docs/sources.md, A1 (ECDB, 2.4 %), A3 (Dynamic Yield, 3.21 %) and A5 (Invesp, 2.58 %):
    the share of shop sessions that end in a purchase.

    A session is a user's storefront visits on one day, so the model's session is a user-day
    with storefront exposures and a converted session one with an accepted storefront order.

    Returns
    -------
    float
        ``summary.loc["storefront", "buyer_days"] /
        summary.loc["storefront", "exposed_user_days"]``. NaN without exposed users.
    """
    s = _summary(result)
    return _ratio(s.loc["storefront", "buyer_days"], s.loc["storefront", "exposed_user_days"])


# -- T3, T4: trust channels -------------------------------------------------------------------

_LIVE_ROOMS = ("follow", "discovery")
"""The channels whose click is entering a creator's live room (or video)."""


def live_room_conversion(result: Result) -> float:
    """T3: live-room entrant → purchase of the average viewer (≈ 0.7 %).

    docs/sources.md, B2 (SSRN 4847854: of consumers entering a Chinese live showroom, 0.67 %
    buy within a month; a sales pitch adds 0.91 percentage points).

    An entrant is a click of a creator's channel: a follower or a discovering viewer who
    entered the creator's live room or video.

    Returns
    -------
    float
        Orders over clicks of the creators' channels, summed over the run:
        ``(orders of follow + discovery) / (clicks of follow + discovery)``. Word of mouth
        is left out: a heard recommendation is not a live room. NaN without clicks.
    """
    return _ratio(
        _channel_sum(result, _LIVE_ROOMS, "orders"), _channel_sum(result, _LIVE_ROOMS, "clicks")
    )


def trust_conversion_ratio(result: Result, channel: str = "follow") -> float:
    """T4: conversion of a trust channel over the storefront's (3–10×).

    docs/sources.md, B1 (live commerce "up to 10×" conventional e-commerce, company best
    cases), B7 (Kuaishou fans convert 6× non-fans) and B9 (a creator's traffic conversion
    14× a rival's, an outlier).

    The target compares followers (fans, the private domain) with traffic, so the moment
    uses the follow channel by default; ``channel="trust"`` gives the whole trust family
    (follow, discovery and word of mouth), whose discovery part is strangers meeting a
    creator and converts less.

    Parameters
    ----------
    result : Result
    channel : str, default "follow"
        A row of the summary: ``"follow"``, ``"discovery"``, ``"wom"`` or ``"trust"``.

    Returns
    -------
    float
        ``summary.loc[channel, "conversion"] / summary.loc["storefront", "conversion"]``,
        each conversion being accepted orders over exposures summed over the run. NaN when
        either conversion is undefined or the storefront's is 0.

    Raises
    ------
    LaotieError
        For a channel that is not a row of the summary.
    """
    s = _summary(result)
    if channel not in s.index:
        raise LaotieError(
            f"channel {channel!r} is not a channel of the summary; allowed: "
            + ", ".join(map(str, s.index))
        )
    trust = _ratio(s.loc[channel, "orders"], s.loc[channel, "exposures"])
    traffic = _ratio(s.loc["storefront", "orders"], s.loc["storefront", "exposures"])
    return trust / traffic if traffic else math.nan


def fan_conversion_ratio(result: Result) -> float:
    """T4a: a live room's conversion of followers over that of strangers (4–6×).

    docs/sources.md, B7 (in Kuaishou's live rooms fans convert six times as often as
    non-fans, and private-domain, follower, traffic turns into sales over four times as
    efficiently as public-domain, recommended, traffic). The model's follow channel is the
    private domain, discovery the public one; both count a click on a creator's post as
    entering the live room (T3).

    Returns
    -------
    float
        ``orders / clicks`` of the follow channel over that of discovery, over the run. NaN
        without discovery orders or follow clicks.
    """
    s = _summary(result)
    fans = _ratio(s.loc["follow", "orders"], s.loc["follow", "clicks"])
    strangers = _ratio(s.loc["discovery", "orders"], s.loc["discovery", "clicks"])
    return fans / strangers if strangers else math.nan


# -- T5, T6, T10: outcomes of the run ---------------------------------------------------------


def monthly_repurchase_trust(result: Result) -> float:
    """T5a: monthly repurchase of trust-channel buyers (60–70 %).

    docs/sources.md, B11 (Kuaishou's repurchase rate: about 65 % in 2020, over 70 % in
    September 2021; a monthly platform figure).

    Returns
    -------
    float
        ``outcomes["monthly_repurchase_trust"]``: of the users who ordered through a trust
        channel (follow, discovery, word of mouth) in a 30-day month, the share who order
        through one again the next month, averaged over the run's pairs of months. NaN
        in a run of fewer than 61 days (a pair's rate is recorded on the first day of the
        month after it).
    """
    return float(result.outcomes["monthly_repurchase_trust"])


def monthly_repurchase_traffic(result: Result) -> float:
    """T5b: monthly repurchase of storefront buyers (20–30 %).

    docs/sources.md, A10 (repeat-customer rate of generic e-commerce, 20–30 %, mean ≈ 28 %).
    A10 counts customers ever buying again, a longer window than a month, so this band is
    generous to the storefront.

    Returns
    -------
    float
        ``outcomes["monthly_repurchase_traffic"]``: as :func:`monthly_repurchase_trust`,
        for storefront orders.
    """
    return float(result.outcomes["monthly_repurchase_traffic"])


def storefront_repeat_customers(result: Result) -> float:
    """T5b: storefronts' repeat-customer rate (回头客, 20–30 %).

    docs/sources.md, A10 (repeat-customer rate of a generic online shop, 20–30 %, mean
    ≈ 28 %): of a shop's customers, the share who buy from it again. Unlike T5a's monthly
    rate of the platform, it is a rate of each shop's own customers over a long window; it
    grows with the run's length (``models/mudanjiang/targets.toml`` runs 180 days, shorter
    than the year or more behind A10's figures, so a model inside the band has if anything
    more repeat customers than the data).

    Returns
    -------
    float
        ``outcomes["repeat_customers_storefronts"]``: of the (storefront, buyer) pairs with
        an order in the run, the share with at least two. NaN without storefront orders.
    """
    return float(result.outcomes["repeat_customers_storefronts"])


def _order_value(result: Result, family: str) -> float:
    s = _summary(result)
    return _ratio(s.loc[family, "gmv"], s.loc[family, "orders"])


def trust_order_value(result: Result) -> float:
    """T6a: order value (客单价) of the trust family (≈ RMB 70).

    docs/sources.md, D1 (per-customer transaction value in live commerce, late 2020:
    Kuaishou RMB 70).

    Returns
    -------
    float
        ``summary.loc["trust", "gmv"] / summary.loc["trust", "orders"]`` (RMB), NaN without
        trust orders.
    """
    return _order_value(result, "trust")


def traffic_order_value(result: Result) -> float:
    """T6b: order value (客单价) of the traffic family (≈ RMB 120).

    docs/sources.md, D1 (Taobao RMB 120). D1's Taobao figure is of Taobao's live commerce,
    the nearest published figure to a storefront platform's order value; its grade is L–M.

    Returns
    -------
    float
        ``summary.loc["traffic", "gmv"] / summary.loc["traffic", "orders"]`` (RMB), NaN
        without storefront orders.
    """
    return _order_value(result, "traffic")


def order_value_ratio(result: Result) -> float:
    """T6: order value (客单价) of the trust family over the traffic family's (≈ 0.6).

    docs/sources.md, D1 (per-customer transaction value in live commerce: Kuaishou RMB 70,
    Taobao RMB 120). The calibrated scenario must not give the trust channel the larger
    order value.

    Returns
    -------
    float
        ``summary.loc["trust", "order_value"] / summary.loc["traffic", "order_value"]``,
        each order value being GMV over accepted orders summed over the run. NaN without
        orders in either family.
    """
    trust, traffic = _order_value(result, "trust"), _order_value(result, "traffic")
    return trust / traffic if traffic else math.nan


def non_head_exposure_share(result: Result) -> float:
    """T10: share of creator exposure that goes to non-head creators (≈ 70 %).

    docs/sources.md, H8 ("70 % of Kuaishou's traffic is allocated to ordinary people",
    a company vice-president, 2020).

    Returns
    -------
    float
        ``outcomes["non_head_traffic_share"]``: exposures of creators' posts (follow and
        discovery) to creators other than head KOLs, over all creator exposures of the run.
    """
    return float(result.outcomes["non_head_traffic_share"])


# -- T7, T12: monthly users and buyers --------------------------------------------------------


def _monthly_mean(result: Result, numerator: str, denominator: str) -> float:
    """The mean over the run's complete months of ``numerator / denominator``."""
    monthly = result.monthly
    if len(monthly) == 0:
        return math.nan
    num = monthly[numerator].to_numpy(dtype=float)
    den = monthly[denominator].to_numpy(dtype=float)
    ratios = np.divide(num, den, out=np.full(len(den), np.nan), where=den > 0)
    return float(np.nanmean(ratios)) if np.isfinite(ratios).any() else math.nan


def buyers_per_mau(result: Result) -> float:
    """T7a: monthly buyers as a share of monthly active users (≈ 19 %).

    docs/sources.md, B12 (Kuaishou's monthly active buyers: 18.6 % of MAU in 2023–24,
    143 M ≈ 19.5 % of MAU in Q4-2024).

    Returns
    -------
    float
        The mean over the run's complete 30-day months (:attr:`Result.monthly`) of
        ``buyers_all / mau``: distinct users with an accepted order in the month, through
        any channel, over users active on at least one day of it. NaN before the first
        complete month.
    """
    return _monthly_mean(result, "buyers_all", "mau")


def dau_per_mau(result: Result) -> float:
    """T7b: daily over monthly active users, DAU/MAU (≈ 0.55).

    docs/sources.md, C10 (Kuaishou 2021–24: DAU/MAU ≈ 0.54–0.56).

    Returns
    -------
    float
        The mean over the run's complete months of ``dau / mau``: the month's mean daily
        active users over its monthly active users. NaN before the first complete month.
    """
    return _monthly_mean(result, "dau", "mau")


def mau_per_resident(result: Result) -> float:
    """T12a: monthly active users as a share of the residents (≈ 37 %).

    docs/sources.md, R1 (Baoding, 2019: 3.9 M Kuaishou MAU of 10.5 M residents).

    Returns
    -------
    float
        The mean over the run's complete months of ``mau / residents``. NaN before the
        first complete month.
    """
    return _monthly_mean(result, "mau", "residents")


def dau_per_resident(result: Result) -> float:
    """T12b: daily active users as a share of the residents (13–14 %).

    docs/sources.md, R2 (Mudanjiang, from the seed article: DAU 13.1 % of the population)
    and R3 (national: about 200 M DAU of 1.40 bn people, 14 %, October 2019).

    Returns
    -------
    float
        The mean over the run's complete months of ``dau / residents``. NaN before the
        first complete month.
    """
    return _monthly_mean(result, "dau", "residents")


# -- T9, T11: the trust graph -----------------------------------------------------------------


def _mean_mau(result: Result | None, graph: TrustGraph) -> float:
    """The denominator of the graph moments: the result's mean MAU over its complete months,
    or the graph's registered users without a result."""
    if result is None:
        return float(graph.user.sum())
    monthly = result.monthly
    return float(monthly["mau"].mean()) if len(monthly) else math.nan


def follower_tail_slope(graph: TrustGraph, result: Result | None = None) -> float:
    """T9a: slope of the creators' follower-count CCDF (1.0–1.7).

    docs/sources.md, H1 (Weibo and Twitter followers: power law with density exponent
    ≈ 2) and H6 (KOL tiers on short-video platforms: CCDF slopes ≈ 1.0–1.7).

    Parameters
    ----------
    graph : TrustGraph
        The run's graph.
    result : Result, optional
        Not used (the slope has no denominator); accepted so that every graph moment is
        called alike.

    Returns
    -------
    float
        ``alpha`` of :func:`laotie.graph.stats.fit_power_law_tail` on the creators' follower
        counts: the statistic ``"follower tail exponent"`` of :meth:`TrustGraph.stats`
        (maximum likelihood above the ``x_min`` closest to a power law). NaN with fewer than
        50 creators with followers.
    """
    from .graph.stats import fit_power_law_tail

    creators = graph.creators()
    creators = creators[graph.resident[creators]]  # the city's own creators
    if creators.size == 0:
        return math.nan
    return fit_power_law_tail(graph.followers()[creators]).alpha


def users_with_followers_share(
    graph: TrustGraph, result: Result | None = None, threshold: int = 10_000
) -> float:
    """T9b, T9c: accounts with at least ``threshold`` followers per monthly active user.

    Targets ≈ 0.3 % with 10,000 followers or more (docs/sources.md, H5: over 2 M creators
    with ≥ 10 k followers, ≈ 0.34 % of Kuaishou's MAU, 2022) and ≈ 0.03 % with 100,000 or
    more (H5 from R1: over 1,000 such users among Baoding's 3.9 M MAU, 2019).

    A real creator's followers come from the whole country; a simulated creator's from one
    city. The thresholds are kept as the sources give them, so a scaled-down city has fewer
    such accounts than the same city at full size.

    Parameters
    ----------
    graph : TrustGraph
        The run's graph.
    result : Result, optional
        Gives the denominator: its monthly active users, averaged over its complete months
        (NaN without one). Without a result, the graph's registered users.
    threshold : int, default 10,000
        Followers an account needs to be counted.

    Returns
    -------
    float
        Residents with at least ``threshold`` follow ties pointing at them (creators
        outside the city are not the city's accounts), over the mean MAU (or the registered
        users).
    """
    above = int(((graph.followers() >= threshold) & graph.resident).sum())
    return _ratio(above, _mean_mau(result, graph))


def mutual_ties_per_user(graph: TrustGraph, result: Result | None = None) -> float:
    """T11: mutual ties per monthly active user (60–95, an upper bound).

    docs/sources.md, H3: twice Kuaishou's cumulative mutual-follow pairs over its MAU (≈ 56
    at the end of 2021, ≈ 94 at the end of 2023). The pairs include inactive accounts, so
    the figure overstates an active user's ties. R5 (WeChat friends, ≈ 128) is a looser
    check above it.

    The model's local (同乡) and city (同城) ties are mutual; a tie between two registered
    users stands for a mutual follow on the platform. The moment repeats H3's arithmetic on
    the graph.

    Parameters
    ----------
    graph : TrustGraph
        The run's graph.
    result : Result, optional
        Gives the denominator: its mean MAU over its complete months (NaN without one).
        Without a result, the graph's registered users.

    Returns
    -------
    float
        Twice the local and city ties between two registered users (each tie is stored in
        both directions: the count of stored directed ties), over the mean MAU (or the
        registered users).
    """
    from .graph.codes import FOLLOW

    social = graph.layer != FOLLOW
    both_users = graph.user[graph.sources()] & graph.user[graph.indices]
    return _ratio(int((social & both_users).sum()), _mean_mau(result, graph))


def top_sellers_gmv_share(result: Result) -> float:
    """T10b: the top-10 sellers' share of GMV (≈ 4 %).

    docs/sources.md, H13 (the ten largest sellers' share of Kuaishou's GMV, 2023). The source is
    national, across millions of sellers; a city's market has far fewer, so its top ten take
    a larger share unless creators outside the city sell to it (``city.outside_creators``).

    Returns
    -------
    float
        ``outcomes["top10_sellers_gmv_share"]``: the GMV of the ten sellers (creators or
        storefronts) who sold most in the run, over all GMV.
    """
    return float(result.outcomes["top10_sellers_gmv_share"])


# -- T13, T15: poverty counties and producers' income -----------------------------------------


def poverty_earner_share(result: Result) -> float:
    """T13: share of those earning on the platform who live in poverty counties (≈ 26 %).

    docs/sources.md, G2 and G3 (over 5 M of the over 19 M who earned income on Kuaishou in
    2019 came from national-level poverty counties; 6.5 M of 25 M the next year).

    Returns
    -------
    float
        ``outcomes["poverty_earner_share"]``: selling creators with income and producers with
        receipts who live in the units the scenario marks as poverty counties, over all of
        them (NaN when nobody earned).
    """
    return float(result.outcomes["poverty_earner_share"])


def producer_net_effect(result: Result) -> float:
    """T15: the average income effect of selling online for poor producers (≈ 0).

    docs/sources.md, G9 (the randomised trial of China's rural e-commerce programme: little
    evidence of income gains for rural producers) and G12 (an observational elasticity of
    0.24, heterogeneous).

    Returns
    -------
    float
        ``outcomes["producer_net_effect"]``: producers' net income change over the run
        (receipts less fees, logistics, fixed costs and displaced offline income) over their
        offline income over the same days (NaN without offline income).
    """
    return float(result.outcomes["producer_net_effect"])


# -- T16: diffusion of first orders -----------------------------------------------------------


def bass_cumulative(t: Any, p: float, q: float, m: float = 1.0) -> np.ndarray:
    """Cumulative adopters of the Bass model, ``N(t) = m F(t)``.

    Parameters
    ----------
    t : array_like of float
        Time since launch (in the unit of ``p`` and ``q``, years for T16).
    p, q : float
        Coefficients of innovation and imitation (per unit of time), ``p > 0``, ``q ≥ 0``.
    m : float, default 1
        Market potential (adopters at the end).

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    ``F(t) = (1 - exp(-(p + q) t)) / (1 + (q / p) exp(-(p + q) t))``, the solution of
    ``dF/dt = (p + q F)(1 - F)`` with ``F(0) = 0``.

    References
    ----------
    F. M. Bass (1969), A new product growth for model consumer durables, Management Science
    15(5), 215–227.

    Examples
    --------
    >>> float(bass_cumulative(0.0, 0.03, 0.38))
    0.0
    >>> round(float(bass_cumulative(10.0, 0.03, 0.38, m=100)), 1)
    81.3
    """
    decay = np.exp(-(p + q) * np.asarray(t, dtype=float))
    return m * (1.0 - decay) / (1.0 + (q / p) * decay)


@dataclass(frozen=True)
class BassFit:
    """A Bass model fitted to daily adoptions (see :func:`fit_bass`).

    Attributes
    ----------
    p, q : float
        Coefficients of innovation and imitation, per year.
    m : float
        Market potential (adopters at the end).
    p_se, q_se, m_se : float
        Their standard errors (quasi-Poisson: scaled by the dispersion of the residuals).
    days : int
        Days of data.
    adopters : int
        Adoptions observed over those days.
    """

    p: float
    q: float
    m: float
    p_se: float
    q_se: float
    m_se: float
    days: int
    adopters: int

    @property
    def q_over_p(self) -> float:
        """The ratio of imitation to innovation, ``q / p``."""
        return self.q / self.p


def _bass_start(n: np.ndarray, days_per_year: float) -> tuple[float, float, float] | None:
    """Bass's own starting values: the least-squares fit of the discrete model
    ``n_d = p m + (q - p) N_{d-1} - (q / m) N_{d-1}^2`` (per day), or None when its roots
    make no sense (no saturation seen)."""
    before = np.concatenate(([0.0], np.cumsum(n)[:-1]))
    design = np.column_stack((np.ones_like(before), before, before**2))
    (a, b, c), *_ = np.linalg.lstsq(design, n, rcond=None)
    discriminant = b * b - 4 * a * c
    if c >= 0 or discriminant < 0:
        return None
    m = (-b - math.sqrt(discriminant)) / (2 * c)
    if not m >= n.sum() or a <= 0:
        return None
    return (a / m * days_per_year, -c * m * days_per_year, m)


def fit_bass(
    adoptions: Any, *, days_per_year: float = DAYS_PER_YEAR, max_potential: float = np.inf
) -> BassFit:
    """Fit the Bass model to a daily count of first adoptions (T16).

    Parameters
    ----------
    adoptions : array_like of int
        Adoptions on days 0, 1, 2, ...: day ``d`` covers ``t`` from ``d / days_per_year`` to
        ``(d + 1) / days_per_year`` years.
    days_per_year : float, default 365
        The time unit of ``p`` and ``q``.
    max_potential : float, default inf
        Upper bound of the market potential ``m`` (e.g. the registered users); its lower
        bound is the adoptions observed.

    Returns
    -------
    BassFit

    Raises
    ------
    LaotieError
        For counts that are not a one-dimensional array of finite numbers ≥ 0, fewer than
        four days or three days with adoptions (three parameters), or when the fit does not
        converge or leaves a parameter unidentified (an infinite standard error).

    Notes
    -----
    The model is ``N(t) = m F(t)`` (:func:`bass_cumulative`). It is fitted by
    :func:`scipy.optimize.curve_fit` (bounded: ``m`` between the adoptions observed and
    ``max_potential``, ``p > 0``, ``q ≥ 0``) to the daily increments
    ``m (F(t_{d+1}) - F(t_d))`` rather than to the cumulative counts: cumulative sums carry
    each day's noise into every later day, so their residuals are correlated and the
    standard errors would be wrong. A first, unweighted fit starts from Bass's discrete
    least-squares estimates and from two fallbacks (keeping the best); the second weights
    each day by its expected count (a Poisson variance, at least 1). The standard errors
    are the sandwich estimate of those weighted least squares under counts whose variance
    is a multiple of their mean (quasi-Poisson: the multiple is estimated from the
    residuals), so that counts noisier than Poisson widen them.

    Before the inflection point (``t* = ln(q / p) / (p + q)``) the data say little about
    ``m``, and ``p`` is then poorly determined: look at ``p_se``.

    Examples
    --------
    >>> t = np.arange(0, 20 * 365 + 1) / 365
    >>> daily = np.diff(bass_cumulative(t, 0.03, 0.38, m=1e6))
    >>> fit = fit_bass(daily)
    >>> round(fit.p, 4), round(fit.q, 4), round(fit.m)
    (0.03, 0.38, 1000000)
    """
    n = np.asarray(adoptions, dtype=float)
    if n.ndim != 1 or not np.all(np.isfinite(n)) or np.any(n < 0):
        raise LaotieError(
            "fit_bass: adoptions must be a one-dimensional array of finite counts ≥ 0"
        )
    if len(n) < 4 or np.count_nonzero(n) < 3:
        raise LaotieError(
            f"fit_bass: {len(n)} days with {np.count_nonzero(n)} days of adoptions; need at "
            "least 4 days and 3 days with adoptions to fit p, q and m"
        )
    total = float(n.sum())
    edges = np.arange(len(n) + 1) / days_per_year

    def increments(_: Any, p: float, q: float, m: float) -> np.ndarray:
        return np.diff(bass_cumulative(edges, p, q, m))

    bounds = ((1e-12, 0.0, total), (np.inf, np.inf, max(float(max_potential), total)))

    # Imported here: scipy.optimize takes about 0.1 s to import, which every sweep worker
    # would pay at its start, and only the Bass fit needs it.
    import scipy.optimize

    def fit(start: Any, variance: np.ndarray | None = None) -> np.ndarray | None:
        try:
            with warnings.catch_warnings():
                # An unidentified parameter warns here; it is refused below (_bass_covariance).
                warnings.simplefilter("ignore")
                popt, _ = scipy.optimize.curve_fit(
                    increments,
                    days,
                    n,
                    p0=np.clip(start, *bounds),
                    sigma=None if variance is None else np.sqrt(variance),
                    bounds=bounds,
                    x_scale="jac",
                    max_nfev=2000,
                )
        except (RuntimeError, ValueError):
            return None
        return np.asarray(popt, dtype=float)

    days = np.arange(len(n))
    starts = [s for s in (_bass_start(n, days_per_year),) if s is not None]
    # Fallbacks: the literature's averages, and a fast launch (the first days' share is p).
    first_days = max(float(n[: max(1, len(n) // 20)].mean()), 1.0)
    starts += [(0.03, 0.38, 2 * total), (first_days / total * days_per_year, 1.0, total)]
    fits = [f for f in (fit(start) for start in starts) if f is not None]
    if not fits:
        raise LaotieError(f"fit_bass: the fit did not converge on {len(n)} days of adoptions")
    best = min(fits, key=lambda f: float(((increments(days, *f) - n) ** 2).sum()))
    variance = np.maximum(increments(days, *best), 1.0)
    popt = fit(best, variance)
    if popt is None:
        raise LaotieError(f"fit_bass: the weighted fit did not converge on {len(n)} days")
    se = np.sqrt(np.diag(_bass_covariance(lambda theta: increments(days, *theta), popt, n)))
    if not np.all(np.isfinite(se)):
        raise LaotieError(
            "fit_bass: p, q and m are not identified by these adoptions (infinite standard "
            "error); a longer series is needed"
        )
    p, q, m = (float(v) for v in popt)
    return BassFit(p, q, m, float(se[0]), float(se[1]), float(se[2]), len(n), round(total))


def _bass_covariance(
    expected: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """The covariance of weighted least squares with weights ``1 / max(mu, 1)`` under
    quasi-Poisson counts (variance ``phi * mu``): the sandwich ``A^-1 B A^-1`` with
    ``A = J' W J``, ``B = phi J' W diag(mu) W J``.

    ``J`` is the Jacobian of the expected counts ``mu`` at ``theta = (p, q, m)``, by forward
    differences (``p`` stays positive; ``q`` may sit on its bound 0), each step relative to
    the parameter or, for a rate near 0, to ``p + q``. The dispersion ``phi`` is Pearson's,
    over the days expected to have at least one adoption: days expected to have none would
    pull it towards 0. Infinite where the parameters are not identified."""
    mu = expected(theta)
    rate = theta[0] + theta[1]
    scale = np.maximum(np.abs(theta), [1e-3 * rate, 1e-3 * rate, 0.0])
    steps = 1e-7 * scale
    jacobian = np.column_stack(
        [(expected(theta + step) - mu) / steps[i] for i, step in enumerate(np.diag(steps))]
    )
    weight = 1.0 / np.maximum(mu, 1.0)
    informative = mu >= 1.0
    if informative.sum() <= len(theta) or not np.all(steps > 0):
        return np.full((len(theta), len(theta)), np.inf)
    phi = ((n - mu)[informative] ** 2 / mu[informative]).sum() / (informative.sum() - len(theta))
    a = jacobian.T @ (jacobian * weight[:, None])
    b = jacobian.T @ (jacobian * (weight**2 * mu)[:, None])
    try:
        a_inv = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.full((len(theta), len(theta)), np.inf)
    return phi * a_inv @ b @ a_inv


def _first_orders(result: Result, channel: str = "all") -> np.ndarray:
    daily = _daily(result)
    rows = daily[daily["channel"] == channel].sort_values("day")
    return rows["first_orders"].to_numpy(dtype=float)


def first_order_bass_fit(result: Result) -> BassFit:
    """The Bass model fitted to a run's first orders (T16; see :func:`fit_bass`).

    Returns
    -------
    BassFit
        Fitted to the daily ``first_orders`` of the channel ``"all"`` (accepted orders that
        were their buyer's first ever), day ``d`` ending at ``(d + 1) / 365`` years.

    Raises
    ------
    LaotieError
        When the fit fails (see :func:`fit_bass`).
    """
    return fit_bass(_first_orders(result))


def _bass_parameter(result: Result, name: str) -> float:
    try:
        return float(getattr(first_order_bass_fit(result), name))
    except LaotieError:
        return math.nan


def bass_p(result: Result) -> float:
    """T16p: Bass coefficient of innovation of first orders (≈ 0.03 per year).

    docs/sources.md, E6 (Bass-model averages usually credited to Sultan, Farley and Lehmann
    1990: p ≈ 0.03, often below 0.01). Only a prior: no estimate for Chinese online
    commerce was found (E9).

    Returns
    -------
    float
        ``p`` of :func:`first_order_bass_fit`, per year; NaN when the fit fails.
    """
    return _bass_parameter(result, "p")


def bass_q(result: Result) -> float:
    """T16q: Bass coefficient of imitation of first orders (≈ 0.38 per year).

    docs/sources.md, E6 (q ≈ 0.38, typically 0.3–0.5) and E7 (q/p is higher in more
    unequal, collectivist settings).

    Returns
    -------
    float
        ``q`` of :func:`first_order_bass_fit`, per year; NaN when the fit fails.
    """
    return _bass_parameter(result, "q")


def word_of_mouth_first_order_share(result: Result) -> float:
    """The share of first orders that came by word of mouth (a companion of T16).

    Returns
    -------
    float
        ``summary.loc["wom", "first_orders"] / summary.loc["all", "first_orders"]``: how
        much of the diffusion of buying is imitation through people. NaN without first
        orders.
    """
    s = _summary(result)
    return _ratio(s.loc["wom", "first_orders"], s.loc["all", "first_orders"])


# -- the registry -----------------------------------------------------------------------------


class _Band(TypedDict):
    low: float
    high: float


def _quarter(value: float) -> _Band:
    """The band of a target given as one value: ± 25 % (the module's rule)."""
    return {"low": 0.75 * value, "high": 1.25 * value}


@dataclass(frozen=True)
class Moment:
    """A target moment: what is measured, its band, and the function computing it.

    Attributes
    ----------
    id : str
        The target's id with a letter for its part, e.g. ``"T1a"``.
    name : str
        What is measured, in a few words.
    low, high : float
        The band: a model value in ``[low, high]`` reproduces the target.
    band : str
        Where the band comes from.
    source : str
        The facts behind the target (ids of docs/sources.md).
    function : callable
        ``function(result)``, or ``function(graph, result)`` when ``uses_graph``.
    unit : str
        ``"share"`` (shown as a percentage), ``"ratio"``, ``"RMB"``, ``"per year"``,
        ``"slope"`` or ``"ties"``.
    uses_graph : bool
        The moment describes the run's trust graph.
    min_days : int
        The shortest run in which the moment is defined: 30 for a monthly moment (one
        complete month; the graph moments per MAU too), 61 for a repurchase rate (recorded
        on the first day of the third month), 1 otherwise.
    """

    id: str
    name: str
    low: float
    high: float
    band: str
    source: str
    function: Callable[..., float]
    unit: str = "share"
    uses_graph: bool = False
    min_days: int = 1

    def __call__(self, result: Result, graph: TrustGraph | None = None) -> float:
        """The moment's value in one replication (NaN for a graph moment without a graph)."""
        if self.uses_graph:
            return math.nan if graph is None else float(self.function(graph, result))
        return float(self.function(result))

    def inside(self, value: float) -> bool:
        """Whether ``value`` lies in the band (False for NaN)."""
        return bool(self.low <= value <= self.high)


MOMENTS: tuple[Moment, ...] = (
    Moment(
        id="T1a",
        name="storefront impression → click",
        **_quarter(0.04),
        band="≈4 % ± 25 %",
        source="A7",
        function=storefront_click_through,
    ),
    Moment(
        id="T1b",
        name="storefront click → purchase",
        **_quarter(0.005),
        band="≈0.5 % ± 25 %",
        source="A7",
        function=storefront_click_conversion,
    ),
    Moment(
        id="T1c",
        name="storefront impression → purchase",
        **_quarter(0.0002),
        band="≈0.02 % ± 25 %",
        source="A7",
        function=storefront_conversion,
    ),
    Moment(
        id="T2",
        name="storefront session conversion",
        low=0.02,
        high=0.03,
        band="the target's range (A1 2.4 %, A3 3.21 %, A5 2.58 %)",
        source="A1, A3, A5",
        function=storefront_session_conversion,
    ),
    Moment(
        id="T3",
        name="live-room entrant → purchase",
        low=0.005,
        high=0.016,
        band="0.67 % − 25 % up to 0.67 + 0.91 % (a sales pitch in every room): the average "
        "viewer meets rooms with and without one",
        source="B2",
        function=live_room_conversion,
    ),
    Moment(
        id="T4",
        name="follow / storefront conversion",
        low=3.0,
        high=10.0,
        band="the target's range (fans vs non-fans 4–6×, live commerce up to 10×)",
        source="B1, B7, B9",
        function=trust_conversion_ratio,
        unit="ratio",
    ),
    Moment(
        id="T4a",
        name="live room: fans / strangers conversion",
        low=4.0,
        high=6.0,
        band="the target's range (B7: fans 6× non-fans, private-domain traffic > 4×)",
        source="B7",
        function=fan_conversion_ratio,
        unit="ratio",
    ),
    Moment(
        id="T5a",
        name="monthly repurchase, trust channels",
        low=0.60,
        high=0.70,
        band="the target's range (B11: ≈65 % in 2020, >70 % in 2021)",
        source="B11",
        function=monthly_repurchase_trust,
        min_days=61,
    ),
    Moment(
        id="T5b",
        name="repeat customers of a storefront",
        low=0.20,
        high=0.30,
        band="the target's range (A10, a shop's customers who buy again)",
        source="A10",
        function=storefront_repeat_customers,
    ),
    Moment(
        id="T6",
        name="order value trust / traffic",
        **_quarter(0.6),
        band="≈0.6 ± 25 % (RMB 70 vs 120): below 1 either way",
        source="D1",
        function=order_value_ratio,
        unit="ratio",
    ),
    Moment(
        id="T6a",
        name="order value, trust family",
        **_quarter(70.0),
        band="≈RMB 70 ± 25 % (Kuaishou)",
        source="D1",
        function=trust_order_value,
        unit="RMB",
    ),
    Moment(
        id="T6b",
        name="order value, traffic family",
        **_quarter(120.0),
        band="≈RMB 120 ± 25 % (Taobao)",
        source="D1",
        function=traffic_order_value,
        unit="RMB",
    ),
    Moment(
        id="T7a",
        name="monthly buyers / MAU",
        **_quarter(0.19),
        band="≈19 % ± 25 %",
        source="B12",
        function=buyers_per_mau,
        min_days=30,
    ),
    Moment(
        id="T7b",
        name="DAU / MAU",
        **_quarter(0.55),
        band="≈0.55 ± 25 %",
        source="C10",
        function=dau_per_mau,
        min_days=30,
        unit="ratio",
    ),
    Moment(
        id="T9a",
        name="follower CCDF slope",
        low=1.0,
        high=1.7,
        band="the target's range (H6; density exponent ≈2–2.7)",
        source="H1, H5, H6",
        function=follower_tail_slope,
        unit="slope",
        uses_graph=True,
    ),
    Moment(
        id="T9b",
        name="accounts ≥ 10k followers / MAU",
        **_quarter(0.003),
        band="≈0.3 % ± 25 %",
        source="H5",
        function=users_with_followers_share,
        uses_graph=True,
        min_days=30,
    ),
    Moment(
        id="T9c",
        name="accounts ≥ 100k followers / MAU",
        **_quarter(0.0003),
        band="≈0.03 % ± 25 %",
        source="H5, R1",
        function=functools.partial(users_with_followers_share, threshold=100_000),
        uses_graph=True,
        min_days=30,
    ),
    Moment(
        id="T10",
        name="non-head share of creator exposure",
        **_quarter(0.70),
        band="≈70 % ± 25 %",
        source="H8",
        function=non_head_exposure_share,
    ),
    Moment(
        id="T10b",
        name="top-10 sellers' share of GMV",
        **_quarter(0.04),
        band="≈4 % ± 25 %",
        source="H13",
        function=top_sellers_gmv_share,
    ),
    Moment(
        id="T11",
        name="mutual ties per MAU",
        low=60.0,
        high=95.0,
        band="the target's range (H3; an upper bound: its pairs include inactive accounts)",
        source="H3, R5",
        function=mutual_ties_per_user,
        unit="ties",
        uses_graph=True,
        min_days=30,
    ),
    Moment(
        id="T13",
        name="earners from poverty counties",
        **_quarter(0.26),
        band="≈26 % ± 25 %",
        source="G2, G3",
        function=poverty_earner_share,
    ),
    Moment(
        id="T15",
        name="producers' net income effect",
        low=-0.05,
        high=0.05,
        band="0 ± 5 % of offline income (G9's trial finds about 0; the band's width is ours)",
        source="G9, G12",
        function=producer_net_effect,
        unit="ratio",
    ),
    Moment(
        id="T12a",
        name="MAU / residents",
        **_quarter(0.37),
        band="≈37 % ± 25 %",
        source="R1",
        function=mau_per_resident,
        min_days=30,
    ),
    Moment(
        id="T12b",
        name="DAU / residents",
        low=0.13,
        high=0.14,
        band="the target's range (R2 13.1 %, R3 14 %)",
        source="R2, R3",
        function=dau_per_resident,
        min_days=30,
    ),
    Moment(
        id="T16p",
        name="Bass p of first orders",
        **_quarter(0.03),
        band="≈0.03 /yr ± 25 % (only a prior)",
        source="E6",
        function=bass_p,
        unit="per year",
    ),
    Moment(
        id="T16q",
        name="Bass q of first orders",
        **_quarter(0.38),
        band="≈0.38 /yr ± 25 % (only a prior; typical 0.3–0.5)",
        source="E6, E7",
        function=bass_q,
        unit="per year",
    ),
)
"""The target moments the model produces, in the order of the targets."""


def validate(
    results: Sequence[Result],
    graph: TrustGraph | None = None,
    *,
    moments: Sequence[Moment] = MOMENTS,
    level: float = 0.95,
) -> pd.DataFrame:
    """Evaluate target moments over the replications of a run.

    Parameters
    ----------
    results : sequence of Result
        The replications of one run (:func:`laotie.runs.replicate`), at least one.
    graph : TrustGraph, optional
        The run's graph. Without it the graph moments (T9, T11) are left out.
    moments : sequence of Moment, default MOMENTS
        The moments to evaluate.
    level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per moment: ``id``, ``moment`` (its name), ``low``, ``high`` (the band),
        ``value`` (the mean over the replications where the moment is defined), ``ci_low``,
        ``ci_high`` (the Student-t ``level`` interval of that mean,
        :func:`laotie.stats.t_interval`; NaN with fewer than two values) and ``inside``
        (``value`` within ``[low, high]``; False when the value is NaN).

    Raises
    ------
    LaotieError
        For no results, or a level that is not between 0 and 1.
    """
    if len(results) == 0:
        raise LaotieError("validate: no results; pass the replications of a run")
    rows = []
    for moment in moments:
        if moment.uses_graph and graph is None:
            continue
        values = np.array([moment(result, graph) for result in results], dtype=float)
        value, ci_low, ci_high = t_interval(values, level)
        rows.append(
            {
                "id": moment.id,
                "moment": moment.name,
                "low": moment.low,
                "high": moment.high,
                "value": value,
                "ci_low": ci_low,
                "ci_high": ci_high,
                "inside": moment.inside(value),
            }
        )
    columns = ["id", "moment", "low", "high", "value", "ci_low", "ci_high", "inside"]
    return pd.DataFrame(rows, columns=columns)
