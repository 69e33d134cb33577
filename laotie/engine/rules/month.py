"""The month (docs/model.md 1.3 and 3.6): every 30 days (days 0, 30, 60, ...) each user's
spending resets to 0, and the monthly repurchase rate is recorded: of the users who ordered
in a month, the share who order again in the next (through any channel, through trust
channels, through storefronts). At the end of each month its active users (MAU) and buyers
are recorded."""

from __future__ import annotations

import numpy as np

from ..._memory import touch
from ..market import Market
from ..state import Ledger, unpacked

__all__ = ["ACTIVE", "MONTH_DAYS", "end_month", "new_month"]

MONTH_DAYS = 30
"""Days of a month."""

_FAMILY_BITS = (("all", 3), ("trust", 1), ("traffic", 2))
"""The month flags' bits of each family (:meth:`~laotie.engine.rules.outcomes.book`)."""
ACTIVE = 4
"""The month flags' bit of a user active on some day of the month (set at the month's end,
by :func:`end_month`, from the activity's ``Ledger.month_active``)."""


def end_month(ledger: Ledger, day: int, market: Market) -> None:
    """Record the month that ends with ``day`` (the last day of a month) in
    ``ledger.months``: its users active on some day (``mau``), its buyers through any
    channel, the trust channels and storefronts, and at its end the users who use the
    platform (``adopted``), the sellers selling (selling creators and open storefronts) and
    the producers online (``producers_online``; :mod:`.growth`). The month's active users' bit
    :data:`ACTIVE` is set in its flags first."""
    replications = market.replications
    ledger.month_flags |= unpacked(ledger.month_active, len(ledger.month_flags)) * np.int8(ACTIVE)
    flags = ledger.month_flags.reshape(replications, -1)
    counts = {"mau": ((flags & ACTIVE) != 0).sum(axis=1)}
    for name, bits in _FAMILY_BITS:
        counts[f"buyers_{name}"] = ((flags & bits) != 0).sum(axis=1)
    counts["adopted"] = market.adopted.reshape(replications, -1).sum(axis=1)
    counts["sellers"] = market.selling.reshape(replications, -1).sum(
        axis=1
    ) + market.storefront_open.reshape(replications, -1).sum(axis=1)
    counts["producers_online"] = market.producer_online.reshape(replications, -1).sum(axis=1)
    for r in range(replications):
        record = {"month": day // MONTH_DAYS}
        record.update({name: int(value[r]) for name, value in counts.items()})
        ledger.months[r].append(record)


def new_month(ledger: Ledger, day: int, replications: int) -> None:
    """Start the month of ``day`` (a multiple of :data:`MONTH_DAYS`): reset spending; from
    the third month on, record the repurchase rates of the month before last into
    ``ledger.repurchase`` (NaN where nobody bought)."""
    L = ledger
    L.spent[:] = 0
    L.month_active.fill(0)
    if day == 0:
        return
    R = replications
    if L.last_month_flags is not None:
        before = L.last_month_flags.reshape(R, -1)
        now = L.month_flags.reshape(R, -1)
        rates = {}
        for name, bits in _FAMILY_BITS:
            bought = (before & bits) != 0
            again = bought & ((now & bits) != 0)
            rates[name] = (again.sum(axis=1), bought.sum(axis=1))
        for r in range(R):
            record: dict[str, float] = {"month": day // MONTH_DAYS - 1}
            for name, (again_r, bought_r) in rates.items():
                record[name] = again_r[r] / bought_r[r] if bought_r[r] else float("nan")
            L.repurchase[r].append(record)
    # The two months' flags swap buffers (a new zeroed array would be mapped page by page
    # during the month, see _memory.touch).
    previous = L.last_month_flags
    L.last_month_flags = L.month_flags
    if previous is None:
        L.month_flags = np.zeros_like(L.month_flags)
        touch(L.month_flags)
    else:
        previous.fill(0)
        L.month_flags = previous
