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


def test_set_refuses_what_is_not_a_memory_or_a_cell() -> None:
    packed = StorefrontMemory(4, 5)
    with pytest.raises(ValueError, match="-1, 0 or 1"):
        packed.set(np.array([0]), np.array([0]), 2)
    with pytest.raises(IndexError, match="columns in 0 .. 4"):
        packed.set(np.array([0]), np.array([5]), 1)
    with pytest.raises(IndexError, match="users in 0 .. 3"):
        packed.set(np.array([4]), np.array([0]), 1)
    with pytest.raises(ValueError, match="users and"):
        packed.set(np.array([0, 1]), np.array([0]), 1)
    assert not packed.table.any()


def test_an_engine_pickles_its_memories() -> None:
    packed = StorefrontMemory(9, 50)
    packed.set(np.array([2, 8]), np.array([49, 0]), -1)
    again = pickle.loads(pickle.dumps(packed))
    np.testing.assert_array_equal(again.dense(), packed.dense())
    assert again.storefronts == 50 and again.nbytes == packed.nbytes == 9 * 16
