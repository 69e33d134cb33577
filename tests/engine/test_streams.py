"""The phases' random streams (laotie.engine.streams) are numpy's SFC64 generators, number for
number, and one uniform per entry goes to each replication's entries in their order."""

from __future__ import annotations

import numpy as np
import pytest

from laotie.engine.lockstep import sorted_counts
from laotie.engine.streams import Stream, generator


@pytest.mark.parametrize("replications", [1, 3, 8])
def test_uniforms_are_each_generators_own_numbers_in_order(replications: int) -> None:
    """Takes of every size give every replication exactly the numbers numpy's SFC64
    generator of its seed gives call by call."""
    sizes = np.random.default_rng(0)
    seeds = [np.random.SeedSequence(s) for s in range(replications)]
    stream = Stream(seeds)
    alone = [generator(s) for s in seeds]
    for take in range(300):
        high = 1024 if take % 7 == 0 else 30
        counts = sizes.integers(0, high, replications)
        want = np.concatenate(
            [np.zeros(0)] + [g.random(int(k)) for g, k in zip(alone, counts, strict=True)]
        )
        np.testing.assert_array_equal(stream.take(counts), want)


def test_float32_uniforms_are_the_generators_own_and_keep_the_half_word() -> None:
    """float32 takes of odd sizes (each 64-bit output gives two numbers, the second kept for
    the next take) are numpy's ``random(dtype=np.float32)`` call by call, also when a
    stream mixes them with doubles (which skip the kept half)."""
    sizes = np.random.default_rng(1)
    seeds = [np.random.SeedSequence(s, spawn_key=(4,)) for s in range(5)]
    stream = Stream(seeds)
    alone = [generator(s) for s in seeds]
    for take in range(200):
        counts = sizes.integers(0, 40, len(seeds))
        if take % 3 == 2:
            got = stream.take(counts)
            want = [g.random(int(k)) for g, k in zip(alone, counts, strict=True)]
        else:
            got = stream.take32(counts)
            want = [g.random(int(k), dtype=np.float32) for g, k in zip(alone, counts, strict=True)]
        assert got.dtype == want[0].dtype
        np.testing.assert_array_equal(got, np.concatenate(want))


def test_a_stream_refuses_a_wrong_number_of_counts() -> None:
    # The kernels do not check bounds: a count per stream, no more and no fewer.
    stream = Stream([np.random.SeedSequence(s) for s in range(3)])
    with pytest.raises(ValueError, match="2 counts for 3 streams"):
        stream.take(np.array([1, 2]))
    with pytest.raises(ValueError, match="4 counts for 3 streams"):
        stream.take32(np.array([1, 2, 3, 4]))


def test_uniforms_written_into_a_given_array_are_those_returned_otherwise() -> None:
    """``take`` and ``take32`` with ``out`` write the numbers they would return into it
    (and return it); an array of the wrong size, type or layout is refused by name."""
    seeds = [np.random.SeedSequence(s) for s in range(3)]
    fresh, into = Stream(seeds), Stream(seeds)
    counts = np.array([5, 0, 9])
    out = np.full(14, -1.0)
    assert into.take(counts, out) is out
    np.testing.assert_array_equal(out, fresh.take(counts))
    out32 = np.empty(14, np.float32)
    into.take32(counts, out32)
    np.testing.assert_array_equal(out32, fresh.take32(counts))
    read_only = np.empty(14)
    read_only.flags.writeable = False
    for wrong, named in (
        (np.empty(13), "float64 array of shape \\(13,\\)"),
        (np.empty(14, np.float32), "float32 array"),
        (np.empty(28)[::2], "a non-contiguous float64"),
        (read_only, "a read-only float64"),
        ([0.0] * 14, "not list"),
    ):
        with pytest.raises(ValueError, match=f"contiguous, writeable float64 array of 14.*{named}"):
            into.take(counts, wrong)  # type: ignore[arg-type]
    np.testing.assert_array_equal(into.take(counts), fresh.take(counts))  # not advanced


@pytest.mark.parametrize("order", ["sorted", "runs", "shuffled"])
@pytest.mark.parametrize("size", [1, 1000])
def test_per_entry_gives_each_replication_its_numbers_in_its_entries_order(
    order: str, size: int
) -> None:
    """Entries of several replications (sorted by replication, in a few sorted runs long
    enough to be drawn run by run, or shuffled): replication r's entries get, in their
    order, the next numbers of r's stream."""
    R = 5
    rng = np.random.default_rng(3)
    replication = np.sort(rng.integers(0, R, 6000))
    if order == "runs":
        replication = np.concatenate([replication[::2], replication[1::2]])
    elif order == "shuffled":
        rng.shuffle(replication)
    ids = replication * size + rng.integers(0, size, len(replication))
    seeds = [np.random.SeedSequence(9, spawn_key=(r,)) for r in range(R)]
    got = Stream(seeds).per_entry(ids, size)
    for r in range(R):
        mine = replication == r
        np.testing.assert_array_equal(got[mine], generator(seeds[r]).random(int(mine.sum())))


def test_sorted_counts_counts_runs_and_refuses_descents() -> None:
    # Entries sorted by replication (ids // size, with empty replications between, at the
    # ends and none at all) are counted as bincount counts them; a single descent anywhere
    # (also at the last entry) is reported, whatever was counted before.
    rng = np.random.default_rng(2)
    for size in (1, 7, 10_000, 2**31 // 64):
        for n in (0, 1, 2, 50, 5000):
            ids = np.sort(rng.integers(0, 64 * size, n)).astype(np.int64)
            counts = np.zeros(64, np.int64)
            assert sorted_counts(ids, size, 1.0 / size, counts)
            np.testing.assert_array_equal(counts, np.bincount(ids // size, minlength=64))
            if n and ids[-1] // size > ids[0] // size:
                swapped = ids.copy()
                swapped[[0, -1]] = swapped[[-1, 0]]
                bad_ones = [swapped]
                if ids[-2] // size > ids[0] // size:  # the last entry back to the first's
                    bad_ones.append(np.append(ids[:-1], ids[0]))
                for bad in bad_ones:
                    assert not sorted_counts(bad, size, 1.0 / size, np.zeros(64, np.int64))
