"""The engine's growing sets of keys (``laotie.engine.state.KeySet``): a sorted main array
and a buffer merged by a compiled pass instead of numpy's set functions."""

from __future__ import annotations

import numpy as np
import pytest

from laotie.engine import state
from laotie.engine.state import KeySet, _union, sorted_unique


@pytest.mark.parametrize("seed", range(30))
def test_union_is_numpys_union1d(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Small ranges give duplicates within b, keys in both and empty arrays.
    a = np.unique(rng.integers(-20, 60, rng.integers(0, 40)))
    b = np.sort(rng.integers(-20, 60, rng.integers(0, 40)))
    got = _union(a, b)
    np.testing.assert_array_equal(got, np.union1d(a, b))
    assert got.dtype == np.int64


def test_union_of_large_keys_keeps_them_exact() -> None:
    """Keys near the int64 bounds (seller * n_nodes + buyer of a large stacked city) are
    compared as integers, not rounded."""
    top = np.iinfo(np.int64).max
    a = np.array([top - 3, top - 1], np.int64)
    b = np.array([top - 2, top - 1, top], np.int64)
    np.testing.assert_array_equal(_union(a, b), [top - 3, top - 2, top - 1, top])


@pytest.mark.parametrize("buffer", [1, 4096])
def test_a_key_set_is_the_set_of_every_key_added(
    monkeypatch: pytest.MonkeyPatch, buffer: int
) -> None:
    """Day by day, ``new`` gives the keys not seen before and ``contains`` what was added,
    whether the buffer merges into the main array every day or never."""
    monkeypatch.setattr(state, "KEY_BUFFER_MIN", buffer)
    rng = np.random.default_rng(4)
    keys = KeySet()
    seen: set[int] = set()
    for _ in range(60):
        today = rng.integers(0, 3000, rng.integers(0, 200))
        fresh = keys.new(today)
        expected = sorted(set(today.tolist()) - seen)
        np.testing.assert_array_equal(fresh, expected)
        seen |= set(today.tolist())
        probe = rng.integers(-10, 3010, 500)
        np.testing.assert_array_equal(keys.contains(probe), np.isin(probe, list(seen)))
        assert len(keys) == len(seen)
    if buffer == 1:
        assert len(keys.main) > 0


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("size", [0, 1, 2, 50, 5000])
def test_sorted_unique_is_numpys_unique(dtype: type, size: int) -> None:
    values = np.random.default_rng(size).integers(-100, 300, size).astype(dtype)
    got = sorted_unique(values)
    np.testing.assert_array_equal(got, np.unique(values))
    assert got.dtype == dtype


@pytest.mark.parametrize("seed", range(40))
def test_contains_is_numpys_isin_for_sorted_and_unsorted_keys(seed: int) -> None:
    """``_contains`` (a search from the last key's place for sorted keys, numpy's binary
    search otherwise) against ``np.isin``: keys below, between, equal to and above the set's,
    repeated keys, gaps of every size, and empty arrays."""
    rng = np.random.default_rng(seed)
    top = np.iinfo(np.int64).max
    span = int(rng.choice([50, 10_000, 10**12]))
    members = np.unique(rng.integers(-span, span, int(rng.integers(0, 3000))))
    if seed % 5 == 0:
        members = np.unique(np.concatenate([members, [top, top - 1]]))
    probe = np.concatenate(
        [
            rng.choice(members, int(rng.integers(0, 50))) if len(members) else [],
            rng.integers(-2 * span, 2 * span, int(rng.integers(0, 300))),
            [top] if seed % 5 == 0 else [],
        ]
    ).astype(np.int64)
    for keys in (np.sort(probe), rng.permutation(probe)):
        got = state._contains(members, keys)
        np.testing.assert_array_equal(got, np.isin(keys, members))
        assert got.dtype == bool


def test_contains_compares_keys_of_other_types_as_numpy_does() -> None:
    """Float keys (and unsigned ones past int64) are compared as numpy compares them, never
    cast to int64 first: 1.5 is not 1, and 2**63 is not a negative key."""
    members = np.array([-(2**63), 1, 2, 3], np.int64)
    keys = np.array([1.5, 2.0, -3.0])
    np.testing.assert_array_equal(state._contains(members, keys), np.isin(keys, members))
    assert state._contains(members, keys).tolist() == [False, True, False]
    big = np.array([2**63], np.uint64)
    assert not state._contains(members, big)[0]
