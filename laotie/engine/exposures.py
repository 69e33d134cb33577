"""Exposures and orders: what the channels hand to the decisions and the decisions to the
outcomes (docs/model.md 3.5).

An exposure is one user seeing one listing through one channel, with the trust ``T``, the
memory ``M`` and the perceived quality ``Q`` of its utility, and where the trust of its
source lives (``ref_kind``, ``ref``), so that the outcome of an order can update it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import numba
import numpy as np

__all__ = [
    "REF_BUFFER",
    "REF_FOLLOW",
    "REF_NONE",
    "REF_SOCIAL",
    "REF_STOREFRONT",
    "ExposureFields",
    "Exposures",
    "Orders",
    "Unclicked",
    "write_exposure",
]

# Where the trust of an exposure's source lives (``Exposures.ref_kind``), and what ``ref``
# then indexes.
REF_NONE = 0
"""No tie: a stranger's discovery exposure (trust ``creators.stranger_trust``, memory 0)."""
REF_SOCIAL = 1
"""A local or city tie: ``ref`` is its position in the stacked ``Listeners`` arrays."""
REF_FOLLOW = 2
"""A follow tie in the main arrays of ``Follows``: ``ref`` is its position there."""
REF_BUFFER = 3
"""A follow tie made during the run, in the buffer of ``Follows``: ``ref`` is its position."""
REF_STOREFRONT = 4
"""A storefront: ``ref`` is the user's index (trust ``storefront_trust`` of the user, memory
of the storefront in the user's row ``ref`` of ``storefront_memory``)."""


class ExposureFields(NamedTuple):
    """The arrays a compiled kernel writes exposures into (one entry per exposure)."""

    user: np.ndarray
    listing: np.ndarray
    trust: np.ndarray
    memory: np.ndarray
    quality: np.ndarray
    ref_kind: np.ndarray
    ref: np.ndarray
    source: np.ndarray
    utility: np.ndarray


class Unclicked(NamedTuple):
    """Impressions shown and not clicked, which only count: ``users``, each viewer once
    (stacked node ids, sorted by replication), and ``impressions``, how many per
    replication (at least its viewers)."""

    users: np.ndarray
    impressions: np.ndarray


@dataclass
class Exposures:
    """Parallel arrays, one entry per exposure (or per order) of one channel or several.

    ``user`` is the viewer (stacked node id), ``listing`` what is shown, ``trust``, ``memory``
    and ``quality`` the terms ``T``, ``M``, ``Q`` of the utility, ``ref_kind`` and ``ref``
    where the source's trust lives (``REF_*``), ``source`` the seller (creator or storefront
    index) or, for word of mouth, the recommender's node. ``utility`` is set when the kernel
    that made the exposures computed their utilities as it chose them (else None);
    ``attention`` when they have a funnel's first stage other than their channel's (return
    visits, and storefront impressions whose click was drawn first: 1). ``unclicked``: the
    impressions of the batch's channel that were shown and not clicked (storefronts), which
    are counted and nothing else.
    """

    user: np.ndarray
    channel: np.ndarray
    listing: np.ndarray
    trust: np.ndarray
    memory: np.ndarray
    quality: np.ndarray
    ref_kind: np.ndarray
    ref: np.ndarray
    source: np.ndarray
    utility: np.ndarray | None = None
    attention: float | None = field(default=None, init=False)
    unclicked: Unclicked | None = field(default=None, init=False)

    DTYPES: ClassVar[dict[str, type]] = {
        "user": np.int32,
        "channel": np.int8,
        "listing": np.int64,
        "trust": np.float32,
        "memory": np.int8,
        "quality": np.float32,
        "ref_kind": np.int8,
        "ref": np.int64,
        "source": np.int32,
    }
    """The dtype of each field (``utility`` is float64)."""

    @classmethod
    def make(cls, n: int, channel: int, **arrays: object) -> Exposures:
        """``n`` exposures of ``channel`` from arrays (or scalars broadcast) of every field
        but ``channel`` and ``utility``."""
        values: dict[str, np.ndarray] = {
            name: np.broadcast_to(np.asarray(arrays[name], dtype), (n,)).copy()
            for name, dtype in cls.DTYPES.items()
            if name != "channel"
        }
        return cls(channel=np.full(n, channel, np.int8), **values)

    @classmethod
    def blank(cls, n: int, channel: int) -> Exposures:
        """``n`` exposures of ``channel`` whose other fields and ``utility`` are left
        unwritten, for a compiled kernel that writes every one of them."""
        values: dict[str, np.ndarray] = {
            name: np.empty(n, dtype) for name, dtype in cls.DTYPES.items()
        }
        values["channel"].fill(channel)
        return cls(**values, utility=np.empty(n))

    @classmethod
    def empty(cls, channel: int) -> Exposures:
        """No exposure of ``channel``."""
        return cls.make(0, channel, **{name: 0 for name in cls.DTYPES if name != "channel"})

    @classmethod
    def concat(cls, parts: list[Exposures]) -> Exposures:
        """The exposures of ``parts``, one after the other (without utilities)."""
        return cls(
            **{name: np.concatenate([getattr(p, name) for p in parts]) for name in cls.DTYPES}
        )

    def kernel_fields(self) -> ExposureFields:
        """The arrays a compiled kernel writes into (``utility`` must be set)."""
        if self.utility is None:
            raise ValueError("Exposures.kernel_fields: the exposures have no utility array")
        return ExposureFields(
            **{name: getattr(self, name) for name in ExposureFields._fields if name != "utility"},
            utility=self.utility,
        )

    def take(self, index: np.ndarray | slice) -> Exposures:
        """The exposures at ``index`` (without utilities)."""
        return Exposures(**{name: getattr(self, name)[index] for name in self.DTYPES})

    def head(self, n: int) -> Exposures:
        """The first ``n`` exposures, with their utilities if they have them."""
        out = self.take(slice(0, n))
        out.utility = None if self.utility is None else self.utility[:n]
        return out

    def __len__(self) -> int:
        return len(self.user)


@numba.njit(cache=True, nogil=True, inline="always")
def write_exposure(  # type: ignore[no-untyped-def]
    out, n, user, listing, trust, memory, quality, ref_kind, ref, source, utility
):
    """Write exposure ``n`` into ``out`` (:class:`ExposureFields`)."""
    out.user[n] = user
    out.listing[n] = listing
    out.trust[n] = trust
    out.memory[n] = memory
    out.quality[n] = quality
    out.ref_kind[n] = ref_kind
    out.ref[n] = ref
    out.source[n] = source
    out.utility[n] = utility


@dataclass
class Orders:
    """Today's accepted orders, in the day's random order: the exposures they came from,
    their items and values, and (after the outcomes) whether each satisfied its buyer, the
    quality the buyer experienced and whether it was the buyer's first order ever."""

    exposures: Exposures
    items: np.ndarray
    value: np.ndarray
    satisfied: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    experienced: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    first: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __len__(self) -> int:
        return len(self.items)
