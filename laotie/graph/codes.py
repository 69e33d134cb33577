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
]

LAYERS: tuple[str, ...] = ("local", "city", "follow")
LOCAL, CITY, FOLLOW = 0, 1, 2
"""The layers of the edges: local ties (同乡), city ties (同城) and follows (关注)."""

CREATOR_KINDS: tuple[str, ...] = ("none", "head", "local", "gov")
"""Creator kinds: not a creator, head KOL (头部主播), local creator (本地达人), government
account (政务号: informs, does not sell)."""
NOT_CREATOR, HEAD, LOCAL_CREATOR, GOV = 0, 1, 2, 3

NODE_ATTRIBUTES: dict[str, type] = {
    "region": np.int16,
    "hometown": np.int16,
    "rural": np.bool_,
    "user": np.bool_,
    "creator_kind": np.int8,
}
"""Node attribute arrays and their dtypes."""
