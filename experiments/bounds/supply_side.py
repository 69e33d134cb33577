"""What the supply side, region and growth can produce: the moments of T8, T9, T10, T11, T13
and T15 at settings chosen by hand, from the defaults to the declared bounds of the
parameters that drive them.

Run ``python experiments/bounds/supply_side.py [--scale 0.01] [--days 365] [--years 6]
[--graph-scale 0.1] [-R 2]``; it prints one row per moment and one column per setting (the
mean over replications). The settings are not a calibration: they show which targets the
model can reach (docs/validation.md, "What the model can produce (the supply side, region
and growth)").

How each moment is measured:

- The market settings (:data:`SETTINGS`) run Mudanjiang at ``--scale`` for ``--days``; the
  growth settings (:data:`GROWTH`) run ``mudanjiang_2019`` at ``--scale`` for ``--years``
  years of twelve 30-day months. T10, T10b, T13 and T15 are the moments of
  :mod:`laotie.moments` over those runs.
- T8 is the platform's GMV trajectory (0.06 → 0.38 → 0.68 → 0.90 → 1.18 → 1.39 tn RMB,
  2019–24): the ratios of yearly GMV (the sum of ``Result.monthly["gmv"]`` over twelve
  months), year 2 over year 1 (target 6.3), the last year over the one before (1.18 for
  2024 over 2023, with six years) and the last year over the first (23.2). A one-year run
  has none. The row "users using the platform" is the mean ``adopted`` users of the last year
  over the first's: the growth that carries GMV's.
- T9 and T11 describe the trust graph. They are computed on the setting's city built at
  ``--graph-scale`` (10 % by default: a 1 % city has 14,223 users, too few for a creator with
  10,000 distinct followers), with the setting's own runs giving the denominator: the mean
  MAU as a share of the registered users, which does not depend on the city's size.

The settings (keys as ``Scenario.replace`` takes them):

- *defaults*: Mudanjiang at the defaults (no producers: T15 is undefined).
- *head h=5*: traffic policy ``head`` with ``head_exponent`` at its bound 5.
- *outside heads*: 1,000 creators outside the city (``city.outside_creators``; heads for
  the traffic policy), under the inclusive policy's cap of 0.3.
- *outside, no cap*: 10,000 of them and ``policy.head_cap`` at its bound 1.
- *creators 10 %*: ``city.creator_share`` 0.1 (1,422 creators in a 1 % city, as many as a
  10 % city has at the defaults).
- *tail α 0.2*, *tail α 5*: ``city.follower_exponent`` at its bounds.
- *big creators*: ``city.min_followers`` 3,000 and ``city.max_follower_share`` 0.2: every
  resident creator has thousands of followers in the city.
- *more ties*: ``city.local_degree`` 75 and ``city.city_degree`` 30.
- *producers*: 100 poor producers (``producers.n_producers``), the rest at the defaults.
- *producers best*: the same with ``displacement``, ``platform_fee`` and ``cost_per_order``
  at 0 and ``income_share`` at 1 (the bounds that favour them).
- *producers worst*: the same with ``displacement`` and ``platform_fee`` at 1.
- *no commission*: 100 producers and ``creators.commission`` 0: only producers earn.
- *growth 2019*: the shipped ``mudanjiang_2019`` (70 % of registered users and 5 % of
  sellers on the first day, Bass p 0.03, q 0.38 per year, churn 0.2 % a month).
- *growth fast*: the same from creators only (``growth.initial_users`` at its bound 0: on
  the first day only creators use the platform, as they always do), ``external`` 0.05 and
  ``social`` 3 per year.
- *growth slow*: from creators only, ``external`` 0 and ``social`` 1 per year.

A growing platform's T11 counts ties between registered users, adopted or not, over the MAU
of those who adopted: it is not comparable with a platform that does not grow.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from laotie import Result, Scenario, moments
from laotie.graph import CitySpec, city
from laotie.runs import replicate

SETTINGS: dict[str, dict[str, object]] = {
    "defaults": {},
    "head h=5": {"policy.traffic": "head", "policy.head_exponent": 5.0},
    "outside heads": {"city.outside_creators": 1000},
    "outside, no cap": {"city.outside_creators": 10_000, "policy.head_cap": 1.0},
    "creators 10 %": {"city.creator_share": 0.1},
    "tail α 0.2": {"city.follower_exponent": 0.2},
    "tail α 5": {"city.follower_exponent": 5.0},
    "big creators": {"city.min_followers": 3000.0, "city.max_follower_share": 0.2},
    "more ties": {"city.local_degree": 75.0, "city.city_degree": 30.0},
    "producers": {"producers.n_producers": 100},
    "producers best": {
        "producers.n_producers": 100,
        "producers.displacement": 0.0,
        "producers.platform_fee": 0.0,
        "producers.cost_per_order": 0.0,
        "producers.income_share": 1.0,
    },
    "producers worst": {
        "producers.n_producers": 100,
        "producers.displacement": 1.0,
        "producers.platform_fee": 1.0,
    },
    "no commission": {"producers.n_producers": 100, "creators.commission": 0.0},
}
"""Settings of Mudanjiang run for ``--days`` (a year by default)."""

GROWTH: dict[str, dict[str, object]] = {
    "growth 2019": {},
    "growth fast": {
        "growth.initial_users": 0.0,
        "growth.external": 0.05,
        "growth.social": 3.0,
    },
    "growth slow": {
        "growth.initial_users": 0.0,
        "growth.external": 0.0,
        "growth.social": 1.0,
    },
}
"""Settings of ``mudanjiang_2019`` (a growing platform) run for ``--years`` years."""

MONTHS_PER_YEAR = 12
"""A simulated year: twelve 30-day months (360 days)."""

MOMENTS: dict[str, Callable[[Result], float]] = {
    "T10 non-head share of creator exposure": moments.non_head_exposure_share,
    "T10b top-10 sellers' share of GMV": moments.top_sellers_gmv_share,
    "T13 earners from poverty counties": moments.poverty_earner_share,
    "T15 producers' net income effect": moments.producer_net_effect,
}

GROWTH_ROWS = [
    "T8 GMV, year 2 / year 1",
    "T8 GMV, last year / the one before",
    "T8 GMV, last year / first",
    "users using the platform, last / first",
]
T9A = "T9a follower CCDF slope"
T9B = "T9b accounts ≥ 10k followers / MAU"
T9C = "T9c accounts ≥ 100k followers / MAU"
T11 = "T11 mutual ties per MAU"
ROWS = [*GROWTH_ROWS, T9A, T9B, T9C, *list(MOMENTS)[:2], T11, *list(MOMENTS)[2:]]
"""The table's rows, in the order of the targets."""


def yearly(result: Result, column: str, how: str) -> np.ndarray:
    """``column`` of ``Result.monthly`` per complete year (``how``: "sum" or "mean")."""
    monthly = result.monthly
    years = len(monthly) // MONTHS_PER_YEAR
    values = monthly[column].to_numpy(dtype=float)[: years * MONTHS_PER_YEAR]
    per_year = values.reshape(years, MONTHS_PER_YEAR)
    return per_year.sum(axis=1) if how == "sum" else per_year.mean(axis=1)


def growth_rows(result: Result) -> dict[str, float]:
    """T8's ratios of yearly GMV and the ratio of users (NaN with fewer than two years)."""
    gmv = yearly(result, "gmv", "sum")
    users = yearly(result, "adopted", "mean")
    if len(gmv) < 2:
        return dict.fromkeys(GROWTH_ROWS, math.nan)
    ratios = (gmv[1] / gmv[0], gmv[-1] / gmv[-2], gmv[-1] / gmv[0], users[-1] / users[0])
    return dict(zip(GROWTH_ROWS, ratios, strict=True))


_GRAPH_MOMENTS: dict[tuple[CitySpec, int], tuple[float, float, float, float]] = {}


def graph_moments(spec: CitySpec, seed: int) -> tuple[float, float, float, float]:
    """T9a's slope, and T9b's, T9c's and T11's numerators over the registered users, of the
    city ``spec`` (computed once per city; the graph is not kept)."""
    key = (spec, seed)
    if key not in _GRAPH_MOMENTS:
        graph = city(spec, seed=seed)
        _GRAPH_MOMENTS[key] = (
            moments.follower_tail_slope(graph),
            moments.users_with_followers_share(graph),
            moments.users_with_followers_share(graph, threshold=100_000),
            moments.mutual_ties_per_user(graph),
        )
    return _GRAPH_MOMENTS[key]


def mau_share(result: Result) -> float:
    """The mean MAU over the complete months as a share of the registered users."""
    monthly = result.monthly
    return float(monthly["mau"].mean() / monthly["users"].mean())


def column(
    preset: str,
    changes: dict[str, Any],
    scale: float,
    graph_scale: float,
    days: int,
    replications: int,
    seed: int,
) -> dict[str, float]:
    """One setting's moments, the mean over replications."""
    results = replicate(
        Scenario.preset(preset, scale=scale).replace(**changes),
        replications,
        days=days,
        seed=seed,
    )
    values: dict[str, list[float]] = {row: [] for row in ROWS}
    for result in results:
        for row, value in growth_rows(result).items():
            values[row].append(value)
        for row, moment in MOMENTS.items():
            values[row].append(moment(result))
    slope, t9b, t9c, t11 = graph_moments(
        Scenario.preset(preset, scale=graph_scale).replace(**changes).city, seed
    )
    share = float(np.mean([mau_share(result) for result in results]))
    values[T9A] = [slope]
    values[T9B] = [t9b / share]
    values[T9C] = [t9c / share]
    values[T11] = [t11 / share]
    return {
        row: float(np.nanmean(v)) if not np.isnan(v).all() else math.nan
        for row, v in values.items()
    }


def table(
    scale: float, days: int, years: int, graph_scale: float, replications: int, seed: int = 1
) -> pd.DataFrame:
    """One row per moment, one column per setting (the mean over replications)."""
    columns = {
        name: column("mudanjiang", changes, scale, graph_scale, days, replications, seed)
        for name, changes in SETTINGS.items()
    }
    grown = years * MONTHS_PER_YEAR * 30
    for name, changes in GROWTH.items():
        columns[name] = column(
            "mudanjiang_2019", changes, scale, graph_scale, grown, replications, seed
        )
    return pd.DataFrame(columns).loc[ROWS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--graph-scale", type=float, default=0.1)
    parser.add_argument("-R", "--replications", type=int, default=2)
    args = parser.parse_args()
    frame = table(args.scale, args.days, args.years, args.graph_scale, args.replications)
    with pd.option_context("display.width", 400, "display.max_columns", 40):
        print(frame.to_string(float_format=lambda x: f"{x:.4g}"))


if __name__ == "__main__":
    main()
