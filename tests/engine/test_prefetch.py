"""The prefetch hint (laotie.engine.prefetch): it compiles into a kernel for any 1-D array
and integer index, changes nothing, never faults (even far outside the array), and is
refused, at compile time, for anything else."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from laotie.engine.prefetch import prefetch


@numba.njit
def _sum_with_hints(values, at):  # type: ignore[no-untyped-def]
    total = 0.0
    for i in range(len(at)):
        prefetch(values, at[i])
        prefetch(values, at[i] + 1_000_000_000)  # far outside: a hint never faults
        total += values[at[i] % len(values)]
    return total


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.float64, np.uint64])
def test_a_prefetch_changes_nothing_and_never_faults(dtype: type) -> None:
    rng = np.random.default_rng(1)
    values = rng.integers(0, 100, 1000).astype(dtype)
    at = rng.integers(-5, 2000, 300).astype(np.int32)
    expected = float(values[at % len(values)].astype(np.float64).sum())
    assert _sum_with_hints(values, at) == expected
    assert _sum_with_hints(values, at.astype(np.int64)) == expected


def test_a_prefetch_takes_only_a_one_dimensional_array_and_an_integer() -> None:
    @numba.njit
    def on_a_table(table):  # type: ignore[no-untyped-def]
        prefetch(table, 0)

    @numba.njit
    def at_a_float(values):  # type: ignore[no-untyped-def]
        prefetch(values, 0.5)

    with pytest.raises(numba.TypingError):
        on_a_table(np.zeros((2, 2)))
    with pytest.raises(numba.TypingError):
        at_a_float(np.zeros(2))
