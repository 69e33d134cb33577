"""The storefront memories packed two bits a storefront (laotie/engine/memories.py) hold
what a table of one int8 per user and storefront would: every read and write, from Python
and from compiled rules, against such a table."""

from __future__ import annotations

import pickle

import numba
import numpy as np
import pytest

from laotie.engine.memories import LINE, StorefrontMemory, memory_at, remember, row_bytes

STOREFRONTS = (1, 3, 4, 5, 8, 50, 64, 65, 255, 257, 300)


@numba.njit(cache=False)
def _write_then_read(table, who, column, value, out):  # type: ignore[no-untyped-def]
    """Compiled writes in order, then compiled reads of the same cells."""
    for i in range(len(who)):
        remember(table, who[i], column[i], value[i])
    for i in range(len(who)):
        out[i] = memory_at(table, who[i], column[i])


@pytest.mark.parametrize("storefronts", STOREFRONTS)
def test_a_row_is_two_bits_a_storefront_within_whole_lines(storefronts: int) -> None:
    width = row_bytes(storefronts)
    assert 4 * width >= storefronts  # room for every storefront
    if width < LINE:
        assert LINE % width == 0 and 4 * (width // 2) < storefronts  # the least such power
    else:
        assert width % LINE == 0 and 4 * (width - LINE) < storefronts
    table = StorefrontMemory(37, storefronts).table
    assert table.shape == (37, width) and table.dtype == np.uint8
    # Aligned to a line: a row never straddles two lines (or starts one, if wider).
    assert table.ctypes.data % LINE == 0


@pytest.mark.parametrize("storefronts", STOREFRONTS)
@pytest.mark.parametrize("seed", range(3))
def test_reads_and_writes_match_a_table_of_bytes(storefronts: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    users = 23
    packed = StorefrontMemory(users, storefronts)
    plain = np.zeros((users, storefronts), np.int8)
    for _ in range(30):
        n = int(rng.integers(0, 60))
        # Few users and columns: the same cell and neighbours in one byte, written together.
        who = rng.integers(0, users, n)
        column = rng.integers(0, storefronts, n)
        value = int(rng.choice([-1, 0, 1]))
        packed.set(who, column, value)
        plain[who, column] = value
        np.testing.assert_array_equal(packed.dense(), plain)
        at_who, at_column = rng.integers(0, users, 50), rng.integers(0, storefronts, 50)
        np.testing.assert_array_equal(packed.get(at_who, at_column), plain[at_who, at_column])
    # Compiled: writes of mixed values in order (the last of a cell stays), then reads.
    n = 400
    who = rng.integers(0, users, n)
    column = rng.integers(0, storefronts, n)
    value = rng.choice(np.array([-1, 0, 1], np.int8), n)
    read = np.zeros(n, np.int8)
    _write_then_read(packed.table, who, column, value, read)
    for i in range(n):
        plain[who[i], column[i]] = value[i]
    np.testing.assert_array_equal(read, plain[who, column])
    np.testing.assert_array_equal(packed.dense(), plain)
    # The bits past the last storefront stay zero.
    bits = np.unpackbits(packed.table, axis=1, bitorder="little")
    assert not bits[:, 2 * storefronts :].any()


@pytest.mark.parametrize("method", ["get", "set"])
def test_reads_and_writes_refuse_what_is_not_a_cell(method: str) -> None:
    packed = StorefrontMemory(4, 5)

    def call(who, column):  # type: ignore[no-untyped-def]
        if method == "get":
            return packed.get(who, column)
        return packed.set(who, column, 1)

    # Columns past the storefronts (inside the row's last byte, or -1) and users past the
    # table: the old int8 table raised or, for -1, read the last storefront.
    for column in (5, 7, -1):
        with pytest.raises(IndexError, match=rf"columns in 0 .. 4, not {column} .. {column}"):
            call(np.array([0]), np.array([column]))
    with pytest.raises(IndexError, match="users in 0 .. 3, not 4 .. 4"):
        call(np.array([4]), np.array([0]))
    with pytest.raises(IndexError, match=f"users in 0 .. 3, not {2**63} .. {2**63}"):
        call(np.array([2**63], np.uint64), np.array([0]))
    # A mask or floats are not indices.
    with pytest.raises(TypeError, match="users of dtype bool; expected integers"):
        call(np.array([True, False, True, False]), np.array([0, 0, 0, 0]))
    with pytest.raises(TypeError, match="columns of dtype float64"):
        call(np.array([0]), np.array([1.0]))
    with pytest.raises(ValueError, match="do not broadcast"):
        call(np.array([0, 1]), np.array([0, 1, 2]))
    assert not packed.table.any()
    # Scalars and shapes that broadcast are cells.
    if method == "set":
        packed.set(1, 2, -1)
        packed.set(np.array([2, 3]), 4, 1)
        assert packed.get(1, 2) == -1
        np.testing.assert_array_equal(packed.get(np.array([[2], [3]]), 4), [[1], [1]])


def test_set_refuses_what_is_not_a_memory() -> None:
    packed = StorefrontMemory(4, 5)
    for value in (2, -2, 1.0, True, np.array([1, 1])):
        with pytest.raises(ValueError, match="a memory is -1, 0 or 1"):
            packed.set(np.array([0, 1]), np.array([0, 1]), value)  # type: ignore[arg-type]
    assert not packed.table.any()
    with pytest.raises(ValueError, match="at least 0 users and 1 storefront"):
        StorefrontMemory(3, 0)


@pytest.mark.parametrize("storefronts", [50, 100])
def test_the_memories_pickle_and_copy_aligned(storefronts: int) -> None:
    # An engine pickled between days (a process pool's) or copied keeps its memories, and
    # the rows start on cache lines again: unaligned 32-byte rows would straddle two lines.
    import copy

    packed = StorefrontMemory(9, storefronts)
    packed.set(np.array([2, 8]), np.array([storefronts - 1, 0]), -1)
    packed.set(np.array([5]), np.array([3]), 1)
    for again in (pickle.loads(pickle.dumps(packed)), copy.deepcopy(packed)):
        np.testing.assert_array_equal(again.dense(), packed.dense())
        assert again.storefronts == storefronts and again.nbytes == packed.nbytes
        assert again.table.ctypes.data % LINE == 0
        again.set(np.array([0]), np.array([0]), 1)  # its own table, writeable
        assert packed.get(0, 0) == 0
