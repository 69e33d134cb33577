"""The parts of the graph package's error messages that name a few offending entries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["SHOWN", "few", "listed"]

SHOWN = 5
"""How many offending entries (ids, rows, labels) an error message lists."""


def few(items: Iterable[Any]) -> str:
    """The first :data:`SHOWN` of ``items`` as reprs, with ``", ..."`` when there are more.

    Examples
    --------
    >>> few(range(7))
    '0, 1, 2, 3, 4, ...'
    """
    items = list(items)
    more = ", ..." if len(items) > SHOWN else ""
    return ", ".join(repr(x) for x in items[:SHOWN]) + more


def listed(values: np.ndarray) -> str:
    """The first :data:`SHOWN` of ``values`` (node ids, say) as plain text.

    Examples
    --------
    >>> listed(np.arange(3))
    '0, 1, 2'
    """
    return ", ".join(str(v) for v in values[:SHOWN].tolist())
