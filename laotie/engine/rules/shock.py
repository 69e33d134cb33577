"""A product turns out bad (质量事件; docs/model.md 3.5, "Shock").

On ``shock.day`` the listing with the most accepted orders so far is chosen among all
listings (``most_sold``), creators' (``creator``) or storefronts' (``storefront``), ties (and a
day without any order yet) going to the lowest listing id; its product's true quality
becomes ``shock.quality``. Promises do not change. On ``shock.day + shock.days`` the true
quality is restored. No random number is drawn.
"""

from __future__ import annotations

import numpy as np

from ...scenario import Shock
from ..market import Market

__all__ = ["QualityShock"]


class QualityShock:
    """The shocked listing, product and seller of each replication (stacked ids; -1 before
    the shock or where no listing is eligible) and the quality to restore."""

    def __init__(self, params: Shock, replications: int) -> None:
        self.params = params
        self.listing = np.full(replications, -1, np.int64)
        self.product = np.full(replications, -1, np.int64)
        self.seller = np.full(replications, -1, np.int64)
        self.restore = np.full(replications, np.nan, np.float32)

    def due(self, day: int) -> bool:
        """Whether the shock starts or ends at the start of ``day``."""
        k = self.params
        return k.day >= 0 and day in (k.day, k.day + k.days)

    def apply(self, day: int, market: Market, listing_orders: np.ndarray) -> None:
        """Start the shock on ``shock.day`` (chosen by ``listing_orders``, the accepted
        orders per listing so far) or end it on ``shock.day + shock.days``."""
        k = self.params
        m = market
        if day == k.day + k.days:
            hit = self.product >= 0
            m.product_quality[self.product[hit]] = self.restore[hit]
            return
        eligible = np.ones(len(listing_orders), bool)
        if k.rule == "creator":
            eligible = m.listing_seller < m.n_creators
        elif k.rule == "storefront":
            eligible = m.listing_seller >= m.n_creators
        for r, index in enumerate(m.listing_index):
            candidates = index[eligible[index]]
            if len(candidates) == 0:
                continue
            # argmax returns the first maximum: ties go to the lowest listing id.
            listing = int(candidates[np.argmax(listing_orders[candidates])])
            self.listing[r] = listing
            self.product[r] = m.listing_product[listing]
            self.seller[r] = m.listing_seller[listing]
            self.restore[r] = m.product_quality[self.product[r]]
            m.product_quality[self.product[r]] = np.float32(k.quality)
