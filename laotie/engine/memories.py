"""The users' storefront memories ``m_is`` (docs/model.md 3.5), two bits a storefront.

A memory is -1 (the last order from the storefront disappointed, or a warning was heard), 0
(none) or +1 (satisfied): two bits hold it (codes 3, 0 and 1), four storefronts a byte. A
user's row is :func:`row_bytes` long, and the table starts on a cache line, so that no row
straddles two lines: reading a viewer's memories is one random line (a whole city's 50
storefronts: 16 bytes a user, 23 MB, where a byte a storefront took 71 MB and three rows in
four straddled two lines; docs/performance.md, thirty-first session).

Compiled rules read and write single memories with :func:`memory_at` and :func:`remember`
(inlined); Python code reads and writes many at once with :meth:`StorefrontMemory.get` and
:meth:`StorefrontMemory.set`; :meth:`StorefrontMemory.dense` gives the whole table as int8,
one column a storefront, for tests and inspection. The codes are read and written in
:func:`memory_at` and :func:`remember` only: the methods loop over them, compiled.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["LINE", "StorefrontMemory", "memory_at", "remember", "row_bytes"]

LINE = 64
"""Bytes of a cache line: rows are aligned so as not to straddle one."""


def row_bytes(storefronts: int) -> int:
    """Bytes of a user's row for ``storefronts`` storefronts: two bits each, rounded up to
    a power of two below a cache line (a divisor of it) and to whole lines above."""
    need = max(1, -(-storefronts // 4))
    if need >= LINE:
        return -(-need // LINE) * LINE
    return 1 << (need - 1).bit_length()


@numba.njit(cache=True, nogil=True, inline="always")
def memory_at(table, who, column):  # type: ignore[no-untyped-def]
    """The memory (int8: -1, 0 or +1) of user ``who`` (a row of ``table``, a
    :attr:`StorefrontMemory.table`) of the storefront in ``column``."""
    bits = (np.int64(table[who, column >> 2]) >> ((column & 3) << 1)) & 3
    return np.int8(((bits + 2) & 3) - 2)


@numba.njit(cache=True, nogil=True, inline="always")
def remember(table, who, column, value):  # type: ignore[no-untyped-def]
    """Set the memory of user ``who`` of the storefront in ``column`` to ``value`` (-1, 0
    or +1), leaving the other storefronts of its byte as they are."""
    at = column >> 2
    shift = (column & 3) << 1
    kept = np.int64(table[who, at]) & ~(np.int64(3) << shift)
    table[who, at] = np.uint8(kept | ((np.int64(value) & 3) << shift))


@numba.njit(cache=True, nogil=True)
def _remember_all(table, who, column, value):  # type: ignore[no-untyped-def]
    """:func:`remember` for each ``(who[i], column[i])`` in turn (a later entry of the same
    memory wins); ``value`` is one value for all."""
    for i in range(len(who)):
        remember(table, who[i], column[i], value)


@numba.njit(cache=True, nogil=True)
def _recall_all(table, who, column, out):  # type: ignore[no-untyped-def]
    """:func:`memory_at` for each ``(who[i], column[i])``, into ``out[i]``."""
    for i in range(len(who)):
        out[i] = memory_at(table, who[i], column[i])


@numba.njit(cache=True, nogil=True)
def _dense(table, out):  # type: ignore[no-untyped-def]
    """:func:`memory_at` of every user (row of ``out``) and storefront (column)."""
    for who in range(out.shape[0]):
        for column in range(out.shape[1]):
            out[who, column] = memory_at(table, who, column)


class StorefrontMemory:
    """The storefront memories of ``users`` users (every replication's, stacked) of
    ``storefronts`` storefronts each (a replication's own), all 0 at first.

    Attributes
    ----------
    table : numpy.ndarray
        uint8, one row of :func:`row_bytes` bytes a user: storefront ``c``'s two bits are
        bits ``2 (c % 4)`` and up of byte ``c // 4`` (:func:`memory_at`, :func:`remember`).
        It starts on a cache line, again after a pickle or copy.
    storefronts : int
        Storefronts (columns) a user remembers.
    """

    def __init__(self, users: int, storefronts: int) -> None:
        if users < 0 or storefronts < 1:
            raise ValueError(
                f"StorefrontMemory: {users} users and {storefronts} storefronts; expected at "
                "least 0 users and 1 storefront"
            )
        self.storefronts = int(storefronts)
        self.table = _aligned(int(users), row_bytes(self.storefronts))

    def __getstate__(self) -> dict[str, object]:
        return {"storefronts": self.storefronts, "table": self.table}

    def __setstate__(self, state: dict[str, object]) -> None:
        # A pickled view comes back wherever numpy puts it: the rows are aligned again.
        table = np.asarray(state["table"], np.uint8)
        self.storefronts = int(state["storefronts"])  # type: ignore[call-overload]
        self.table = _aligned(*table.shape)
        self.table[:] = table

    @property
    def nbytes(self) -> int:
        """Bytes of the table."""
        return int(self.table.nbytes)

    def get(self, who: np.ndarray, column: np.ndarray) -> np.ndarray:
        """The memories (int8) of users ``who`` of the storefronts in ``column`` (integer
        arrays, broadcast together)."""
        who, column = self._cells("get", who, column)
        out = np.empty(who.shape, np.int8)
        _recall_all(self.table, who.reshape(-1), column.reshape(-1), out.reshape(-1))
        return out

    def set(self, who: np.ndarray, column: np.ndarray, value: int) -> None:
        """Set the memories of users ``who`` of the storefronts in ``column`` (integer
        arrays, broadcast together) to ``value`` (-1, 0 or +1), in order."""
        memory = isinstance(value, int | np.integer) and not isinstance(value, bool)
        if not memory or value not in (-1, 0, 1):
            raise ValueError(f"StorefrontMemory.set: value = {value!r}; a memory is -1, 0 or 1")
        who, column = self._cells("set", who, column)
        _remember_all(self.table, who.reshape(-1), column.reshape(-1), np.int8(value))

    def _cells(
        self, name: str, who: np.ndarray, column: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``who`` and ``column`` as int64 arrays of one shape, checked: integers, within
        the users and the storefronts."""
        arrays = []
        for label, values, size in (
            ("users", who, len(self.table)),
            ("columns", column, self.storefronts),
        ):
            values = np.asarray(values)
            if values.dtype.kind not in "iu":
                raise TypeError(
                    f"StorefrontMemory.{name}: {label} of dtype {values.dtype}; expected "
                    "integers (indices, not a mask)"
                )
            if values.size and (values.min() < 0 or values.max() >= size):
                raise IndexError(
                    f"StorefrontMemory.{name}: {label} in 0 .. {size - 1}, not "
                    f"{values.min()} .. {values.max()}"
                )
            arrays.append(values.astype(np.int64))
        try:
            who, column = np.broadcast_arrays(*arrays)
        except ValueError:
            raise ValueError(
                f"StorefrontMemory.{name}: users of shape {arrays[0].shape} and columns of "
                f"shape {arrays[1].shape} do not broadcast together"
            ) from None
        return np.ascontiguousarray(who), np.ascontiguousarray(column)

    def dense(self) -> np.ndarray:
        """Every memory as int8, shape (users, storefronts)."""
        out = np.empty((len(self.table), self.storefronts), np.int8)
        _dense(self.table, out)
        return out


def _aligned(users: int, width: int) -> np.ndarray:
    """A zeroed uint8 table of ``users`` rows of ``width`` bytes starting on a cache line."""
    block = np.zeros(users * width + LINE, np.uint8)
    start = -block.ctypes.data % LINE
    return block[start : start + users * width].reshape(users, width)
