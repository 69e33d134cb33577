"""Who earned what, and where: poor producers' accounts and the county-level units' table
(docs/model.md 3.6, "Producers' accounts" and "County-level units").

:func:`producer_frame` is one row per poor producer: its unit, orders, buyers and the
accounts of :func:`laotie.engine.rules.producers.accounts` (online receipts, fees,
logistics, fixed cost, displaced offline income and the net income change).
:func:`region_frame` is one row per county-level unit of the city: residents, users, the
sales of the creators who live there, creators' and producers' income, earners and the
share of residents a government message reached. :func:`poverty_outcomes` and
:func:`producer_outcomes` are the run outcomes drawn from them.

Examples
--------
>>> from laotie import Scenario, simulate
>>> s = Scenario.preset("poverty_county", scale=0.05)
>>> r = simulate(s, days=40, seed=1)
>>> list(r.regions.region)
['County seat', 'Mountain township', 'River township', 'Forest township']
>>> bool((r.producers.net == r.producers.revenue - r.producers.fees - r.producers.logistics
...       - r.producers.fixed - r.producers.displaced).all())
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .engine.rules.producers import ACCOUNTS, accounts
from .graph.codes import OUTSIDE_REGION
from .metrics import top_share

if TYPE_CHECKING:
    from .engine.engine import Replication

__all__ = [
    "PRODUCER_COLUMNS",
    "REGION_COLUMNS",
    "poverty_outcomes",
    "producer_frame",
    "producer_outcomes",
    "region_frame",
]

PRODUCER_COLUMNS: tuple[str, ...] = (
    "producer",
    "node",
    "region",
    "poverty",
    "listed",
    "days_online",
    "orders",
    "buyers",
    *ACCOUNTS,
)
"""The columns of :attr:`laotie.Result.producers`."""

REGION_COLUMNS: tuple[str, ...] = (
    "region",
    "name_zh",
    "poverty",
    "residents",
    "users",
    "creators",
    "producers",
    "gmv",
    "gmv_share",
    "creator_income",
    "earners",
    "producer_revenue",
    "producer_net",
    "informed",
)
"""The columns of :attr:`laotie.Result.regions`."""


def _units(engine: Replication) -> tuple[list[str], list[str], np.ndarray]:
    """The graph's region names, their Chinese names and poverty flags (from the scenario's
    city where a region of that name is declared; a unit it does not declare is not a
    poverty county)."""
    names = list(engine.graph.region_names)
    declared = {r.name: r for r in engine.scenario.city.regions}
    zh = [declared[n].name_zh if n in declared else "" for n in names]
    if engine.scenario.city.outside_creators and names[-1] == OUTSIDE_REGION:
        zh[-1] = "外地"
    poverty = np.array([bool(declared[n].poverty) if n in declared else False for n in names])
    return names, zh, poverty


def producer_frame(engine: Replication) -> pd.DataFrame:
    """One row per poor producer: its unit, orders, buyers and accounts over the run."""
    m = engine.market
    names, _, poverty = _units(engine)
    region = engine.graph.region[m.producer_node].astype(np.int64)
    money = accounts(
        engine.scenario.producers,
        engine.producer_income,
        engine.producer_orders,
        m.producer_offline,
        m.producer_days_online > 0,
        m.producer_days_online,
    )
    frame = pd.DataFrame(
        {
            "producer": np.arange(len(region), dtype=np.int64),
            "node": m.producer_node.astype(np.int64),
            "region": pd.Categorical.from_codes(region, categories=names),
            "poverty": poverty[region],
            "listed": m.producer_listed.astype(bool),
            "days_online": m.producer_days_online.astype(np.int64),
            "orders": np.asarray(engine.producer_orders, np.int64),
            "buyers": np.asarray(engine.producer_buyers, np.int64),
            **money,
        }
    )
    return frame[list(PRODUCER_COLUMNS)]


def region_frame(
    engine: Replication, producers: pd.DataFrame, information_regions: pd.DataFrame
) -> pd.DataFrame:
    """One row per county-level unit (``producers`` is :func:`producer_frame`'s,
    ``information_regions`` :attr:`laotie.Result.information_regions`)."""
    g = engine.graph
    m = engine.market
    names, zh, poverty = _units(engine)
    k = len(names)
    region = g.region.astype(np.int64)
    creator_region = region[m.creator_node]
    creators = len(m.creator_node)
    creator_gmv = engine.seller_gmv[:creators]
    total_gmv = float(engine.seller_gmv.sum())
    gmv = np.bincount(creator_region, weights=creator_gmv, minlength=k)
    producer_region = producers.region.cat.codes.to_numpy().astype(np.int64)
    earning = np.bincount(creator_region[engine.creator_income > 0], minlength=k)
    earning += np.bincount(producer_region[producers.revenue.to_numpy() > 0], minlength=k)
    informed = np.full(k, np.nan)
    long = information_regions
    if len(long):
        final = long[long.day == long.groupby("message").day.transform("max")]
        means = final.groupby("region", observed=False).share_informed.mean()
        informed = means.reindex(names).to_numpy(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = gmv / total_gmv if total_gmv else np.full(k, np.nan)
    return pd.DataFrame(
        {
            "region": pd.Categorical(names, categories=names),
            "name_zh": zh,
            "poverty": poverty,
            "residents": np.bincount(region[g.resident], minlength=k).astype(np.int64),
            "users": np.bincount(region[g.user], minlength=k).astype(np.int64),
            "creators": np.bincount(creator_region, minlength=k).astype(np.int64),
            "producers": np.bincount(producer_region, minlength=k).astype(np.int64),
            "gmv": gmv,
            "gmv_share": share,
            "creator_income": np.bincount(
                creator_region, weights=engine.creator_income, minlength=k
            ),
            "earners": earning.astype(np.int64),
            "producer_revenue": np.bincount(
                producer_region, weights=producers.revenue.to_numpy(), minlength=k
            ),
            "producer_net": np.bincount(
                producer_region, weights=producers.net.to_numpy(), minlength=k
            ),
            "informed": informed,
        }
    )[list(REGION_COLUMNS)]


def poverty_outcomes(regions: pd.DataFrame) -> dict[str, float]:
    """The share of earners and of GMV from the units the scenario treats as poverty
    counties (docs/sources.md, T13, and T14's like): NaN without earners or sales."""
    poor = regions.poverty.to_numpy(bool)
    earners = regions.earners.to_numpy(np.float64)
    return {
        "poverty_earner_share": float(earners[poor].sum() / earners.sum())
        if earners.sum()
        else float("nan"),
        "poverty_gmv_share": float(regions.gmv_share[poor].sum())
        if np.isfinite(regions.gmv_share).all()
        else float("nan"),
    }


def producer_outcomes(producers: pd.DataFrame, days: int) -> dict[str, float]:
    """Producers' net income change over the run: total, relative to their offline income
    over the same days (the average income effect, T15), the shares who gain and who lose,
    and the share of all gains taken by the top 10 % of producers."""
    net = producers.net.to_numpy(np.float64)
    offline = float(producers.offline.sum()) * days
    gains = np.maximum(net, 0.0)
    nan = float("nan")
    n = len(net)
    with np.errstate(over="ignore"):  # a vanishing offline income gives an infinite effect
        effect = float(np.float64(net.sum()) / offline) if offline > 0 else nan
    return {
        "producer_net_total": float(net.sum()),
        "producer_net_effect": effect,
        "producers_gaining_share": float((net > 0).mean()) if n else nan,
        "producers_losing_share": float((net < 0).mean()) if n else nan,
        "producer_gain_top10_share": top_share(gains, 0.10) if gains.sum() > 0 else nan,
    }
