"""Producers' accounts: what selling online changed in a poor producer's income
(docs/model.md 3.5, "Producers' accounts").

Each producer had an offline income from its specialty before the platform, drawn at the
set-up (:func:`offline_incomes`). The days record its online receipts (the producer's
``income_share`` of the value of every order of its specialty, the outcomes phase) and its
orders. At the end of a run :func:`accounts` sets the receipts against what selling online
cost and what it displaced, over the ``days`` it sold online (the days run, or with growth
the days since it entered; 0 for a specialty no seller lists)::

    fees       = platform_fee · receipts
    logistics  = cost_per_order · orders
    fixed      = fixed_cost · days
    displaced  = min(displacement · receipts, offline income · days)
    net change = receipts − fees − logistics − fixed − displaced

The accounts feed back into the days only through growth's entry (:mod:`.growth`: a producer
goes online when those online gain; nobody exits, so a producer who loses money keeps
selling): they measure who gains and who loses, so that an average effect near zero with a wide
spread (the only randomised trial, docs/sources.md, T15) is reachable rather than excluded by
construction.

Examples
--------
>>> from laotie.sections import Producers
>>> a = accounts(Producers(fixed_cost=1.0), np.array([150.0, 0.0]), np.array([10, 0]),
...              np.array([20.0, 20.0]), np.array([True, True]), days=30)
>>> [round(float(x), 2) for x in a["net"]]
[7.5, -30.0]
"""

from __future__ import annotations

import numpy as np

from ...sections import Producers
from ..sampling import lognormal

__all__ = ["ACCOUNTS", "accounts", "offline_incomes"]

ACCOUNTS: tuple[str, ...] = ("offline", "revenue", "fees", "logistics", "fixed", "displaced", "net")
"""The money columns of a producer's accounts over a run (RMB; ``offline`` per day)."""


def offline_incomes(p: Producers, rng: np.random.Generator, n: int) -> np.ndarray:
    """Each producer's offline income per day before the platform: log-normal with mean
    ``offline_income`` and log-sd ``offline_dispersion`` (0 for every producer when the
    mean is 0). ``rng`` is a stream of its own, so that these draws change nothing else."""
    if p.offline_income == 0:
        return np.zeros(n)
    return lognormal(rng, p.offline_income, p.offline_dispersion, n)


def accounts(
    p: Producers,
    revenue: np.ndarray,
    orders: np.ndarray,
    offline: np.ndarray,
    listed: np.ndarray,
    days: int | np.ndarray,
) -> dict[str, np.ndarray]:
    """Every producer's accounts over the ``days`` each sold online.

    Parameters
    ----------
    p : Producers
        The section's costs and displacement.
    revenue : array of float
        Online receipts per producer (RMB).
    orders : array of int
        Online orders of the producer's specialty.
    offline : array of float
        Offline income per day before the platform (RMB).
    listed : array of bool
        Whether the specialty sells online (some seller lists it and, when the platform
        grows, the producer has entered): only these pay the fixed cost.
    days : int or array of int
        The days each producer sold online (the days run, without growth): the fixed cost
        is paid, and offline sales can be displaced, on these days only.

    Returns
    -------
    dict of str to numpy.ndarray
        The :data:`ACCOUNTS` columns, float64, one entry per producer.
    """
    revenue = np.asarray(revenue, np.float64)
    offline = np.asarray(offline, np.float64)
    fees = p.platform_fee * revenue
    logistics = p.cost_per_order * np.asarray(orders, np.float64)
    fixed = np.where(np.asarray(listed, bool), p.fixed_cost * days, 0.0)
    displaced = np.minimum(p.displacement * revenue, offline * days)
    net = revenue - fees - logistics - fixed - displaced
    return {
        "offline": offline,
        "revenue": revenue,
        "fees": fees,
        "logistics": logistics,
        "fixed": fixed,
        "displaced": displaced,
        "net": net,
    }
