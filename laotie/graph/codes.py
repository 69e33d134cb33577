"""The codes of a trust graph: its layers, the kinds of creators and the node attributes."""

from __future__ import annotations

import numpy as np

__all__ = [
    "CITY",
    "CREATOR_KINDS",
    "FOLLOW",
    "GOV",
    "HEAD",
    "LAYERS",
    "LOCAL",
    "LOCAL_CREATOR",
    "NODE_ATTRIBUTES",
    "NOT_CREATOR",
    "OUTSIDE",
    "OUTSIDE_REGION",
]

LAYERS: tuple[str, ...] = ("local", "city", "follow")
LOCAL, CITY, FOLLOW = 0, 1, 2
"""The layers of the edges: local ties (同乡), city ties (同城) and follows (关注)."""

CREATOR_KINDS: tuple[str, ...] = ("none", "head", "local", "gov", "outside")
"""Creator kinds: not a creator, head KOL (头部主播), local creator (本地达人), government
account (政务号: informs, does not sell), and a creator who lives outside the city
(provincial or national head, 外地达人): the only nodes that are not residents."""
NOT_CREATOR, HEAD, LOCAL_CREATOR, GOV, OUTSIDE = 0, 1, 2, 3, 4

OUTSIDE_REGION = "Outside"
"""The region of the creators outside the city (:func:`laotie.graph.city` adds it last)."""

NODE_ATTRIBUTES: dict[str, type] = {
    "region": np.int16,
    "hometown": np.int16,
    "rural": np.bool_,
    "user": np.bool_,
    "creator_kind": np.int8,
}
"""Node attribute arrays and their dtypes."""
