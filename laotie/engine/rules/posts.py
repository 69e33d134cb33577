"""Creator posts and reach (docs/model.md 3.5, "Creator posts and reach").

Each selling creator posts with probability ``post_prob`` and features one product drawn
uniformly from its catalogue. The reach ``ρ_c`` of a posting creator is the share of its
active followers who see the post: under the ``head`` policy it grows with the creator's
followers; under ``inclusive`` (普惠) it is the same for every creator, and the head KOLs'
reach is scaled down where their expected share of exposures would pass ``head_cap``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...scenario import Creators, Policy
from ..market import Market
from ..streams import Stream

__all__ = ["Posts", "posts", "reach"]


@dataclass
class Posts:
    """Today's posts: the posting creators (seller ids, increasing) and the listing each
    features."""

    posting: np.ndarray
    featured: np.ndarray


def posts(market: Market, stream: Stream, creators: Creators) -> Posts:
    """Who posts today and what: one uniform per selling creator of each replication
    (posting if below ``post_prob`` and the creator sells, :mod:`.growth`), then one per
    posting creator (the product of its catalogue)."""
    R = market.replications
    C = market.layout.creators
    draws = stream.take(np.full(R, C))
    posting = np.flatnonzero((draws < creators.post_prob) & market.selling)
    counts = np.bincount(posting // max(C, 1), minlength=R)
    featured = market.shelf_draw(posting, stream.take(counts))
    return Posts(posting=posting, featured=featured)


def reach(
    market: Market, posting: np.ndarray, active_followers: np.ndarray, policy: Policy
) -> np.ndarray:
    """Reach ``ρ_c`` of every selling creator (0 for those not posting today), given each
    creator's number of active followers.

    ``head``: ``ρ_c = min(1, reach · (F_c / F̄)^head_exponent)``, ``F̄`` the mean followers of
    the replication's selling creators (``reach`` when it is 0). ``inclusive``: ``ρ_c =
    reach``, then if the head KOLs' expected share ``Σ_head ρ A / Σ_all ρ A`` passes
    ``head_cap``, every head KOL's reach is multiplied by ``x = head_cap · E_other / ((1 -
    head_cap) · E_head)``, so that their share equals the cap. Every sum is within a
    replication.
    """
    p = policy
    R = market.replications
    rho = np.zeros(market.n_creators)
    C = max(market.layout.creators, 1)  # a creator's replication is its id // C
    if p.traffic == "head":
        followers = market.follows.count[market.creator_node].astype(np.float64)
        mean = (followers.reshape(R, -1).mean(axis=1) if len(followers) else np.zeros(R))[
            posting // C
        ]
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.minimum(1.0, p.reach * (followers[posting] / mean) ** p.head_exponent)
        rho[posting] = np.where(mean > 0, scaled, p.reach)
        return rho
    rho[posting] = p.reach
    expected = (rho * active_followers).reshape(R, -1)
    is_head = market.is_head.reshape(R, -1)
    # Per replication: the expected exposures of head and of other creators, each summed
    # over the replication's own creators (a row's sum is that of the row alone, so a
    # replication gets the sums of a run of it alone).
    head = np.where(is_head, expected, 0.0).sum(axis=1)
    other = np.where(is_head, 0.0, expected).sum(axis=1)
    capped = (head > 0) & (head > p.head_cap * (head + other))
    if capped.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(capped, p.head_cap * other / ((1 - p.head_cap) * head), 1.0)
        heads = np.flatnonzero(market.is_head)
        rho[heads] *= factor[heads // C]
    return rho
