"""The random streams of the day's phases (docs/model.md 2, "Stochasticity").

Each daily phase of each replication draws uniforms from its own stream, numpy's SFC64
generator seeded by the phase's child of the run's seed. The streams are advanced here by a
compiled copy of SFC64, step for step (:func:`uniforms`, :func:`uniforms32`: the numbers
``numpy.random.Generator(numpy.random.SFC64(seed))`` gives, tested), all replications' in
one call. A phase turns its uniforms into what it needs by inversion
(:mod:`laotie.engine.sampling`).
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from .lockstep import sorted_counts

__all__ = [
    "DAILY_PHASES",
    "PHASES",
    "Stream",
    "generator",
    "next_double",
    "uniforms",
    "uniforms32",
]

DAILY_PHASES = (
    "activity",
    "posts",
    "follow",
    "discovery",
    "storefront",
    "wom",
    "decide",
    "outcomes",
    "loyalty",
    "warnings",
)
"""The phases whose every random number is a uniform of a :class:`Stream` (activity's are
float32, the others' doubles)."""

PHASES = (*DAILY_PHASES[:-2], "training", "information", "loyalty", "warnings", "growth")
"""Every phase's seed, in the order they are spawned from the run's day seed (fixed: a
replication's numbers depend on it; a phase added later comes last, so that the others keep
their seeds). Training and growth draw from numpy Generators; information hashes its own keys
(:mod:`laotie.engine.rules.information`)."""

RUNS_DRAWN_IN_TURN = 8
RUN_DRAWS_FROM = 4096
"""At least ``RUN_DRAWS_FROM`` entries in at most ``RUNS_DRAWN_IN_TURN`` runs sorted by
replication draw run by run (:meth:`Stream.per_entry`); others are sorted by replication
first."""

# numpy's SFC64 (numpy/random/src/sfc64/sfc64.h), step for step. A state row is
# (s0, s1, s2, s3, has_uint32, uinteger), numpy's own state.
_DOUBLE_UNIT = 1.0 / 9007199254740992.0  # 2**-53: numpy's next_double
_FLOAT_UNIT = np.float32(1.0 / 16777216.0)  # 2**-24: numpy's next_float


def generator(seed: np.random.SeedSequence) -> np.random.Generator:
    """numpy's generator of the stream of ``seed``: SFC64 (the compiled copy draws the same
    numbers)."""
    return np.random.Generator(np.random.SFC64(seed))


@numba.njit(cache=True, nogil=True, inline="always")
def _sfc64(s0, s1, s2, s3):  # type: ignore[no-untyped-def]
    """One step of SFC64: the output and the next state (all uint64, wrapping)."""
    out = s0 + s1 + s3
    rotated = (s2 << np.uint64(24)) | (s2 >> np.uint64(40))
    s0 = s1 ^ (s1 >> np.uint64(11))
    s1 = s2 + (s2 << np.uint64(3))
    return out, s0, s1, rotated + out, s3 + np.uint64(1)


@numba.njit(cache=True, nogil=True, inline="always")
def next_double(s0, s1, s2, s3):  # type: ignore[no-untyped-def]
    """The next double of a stream in state ``(s0, s1, s2, s3)`` (``Generator.random()``)
    and the next state: for a compiled kernel that draws as it goes (:attr:`Stream.state`)."""
    x, s0, s1, s2, s3 = _sfc64(s0, s1, s2, s3)
    return np.float64(np.int64(x >> np.uint64(11))) * _DOUBLE_UNIT, s0, s1, s2, s3


@numba.njit(cache=True, nogil=True)
def uniforms(state, counts, out):  # type: ignore[no-untyped-def]
    """The next ``counts[r]`` doubles of each stream r (``Generator.random()``: the top 53
    bits of an output times 2**-53), concatenated in ``out``; the states advance."""
    i = 0
    for r in range(len(counts)):
        s0, s1, s2, s3 = state[r, 0], state[r, 1], state[r, 2], state[r, 3]
        for _ in range(counts[r]):
            out[i], s0, s1, s2, s3 = next_double(s0, s1, s2, s3)
            i += 1
        state[r, 0], state[r, 1], state[r, 2], state[r, 3] = s0, s1, s2, s3


@numba.njit(cache=True, nogil=True)
def uniforms32(state, counts, out):  # type: ignore[no-untyped-def]
    """The next ``counts[r]`` float32 numbers of each stream r (``Generator.random(dtype=
    np.float32)``: the top 24 bits of a 32-bit word times 2**-24, the words taken low half
    first from one output, the high half kept for the next call), concatenated in ``out``."""
    i = np.uint64(0)  # unsigned: no wraparound check at each write
    for r in range(len(counts)):
        s0, s1, s2, s3 = state[r, 0], state[r, 1], state[r, 2], state[r, 3]
        has, word = state[r, 4], state[r, 5]
        for _ in range(counts[r]):
            if has:
                x = word
                has = np.uint64(0)
            else:
                v, s0, s1, s2, s3 = _sfc64(s0, s1, s2, s3)
                x = v & np.uint64(0xFFFFFFFF)
                word = v >> np.uint64(32)
                has = np.uint64(1)
            out[i] = np.float32(np.int64(x >> np.uint64(8))) * _FLOAT_UNIT
            i += np.uint64(1)
        state[r, 0], state[r, 1], state[r, 2], state[r, 3] = s0, s1, s2, s3
        state[r, 4], state[r, 5] = has, word


class Stream:
    """The uniforms of one phase of R replications, each from its own SFC64 stream.

    :meth:`take` gives replication r the next ``counts[r]`` numbers of its stream, exactly
    those ``generator(seeds[r]).random(counts[r])`` would give (a generator's doubles do not
    depend on how the calls split them: each takes one 64-bit output), concatenated in
    replication order; :meth:`take32` does the same for float32 numbers (``random(dtype=
    np.float32)``). A stream holds only its state, so an engine pickles.

    Examples
    --------
    >>> seeds = [np.random.SeedSequence(s) for s in (1, 2)]
    >>> u = Stream(seeds).take(np.array([2, 3]))
    >>> alone = [generator(s) for s in seeds]
    >>> bool(np.array_equal(u, np.concatenate([alone[0].random(2), alone[1].random(3)])))
    True
    """

    def __init__(self, seeds: list[np.random.SeedSequence]) -> None:
        self._state = np.array(
            [[*generator(seed).bit_generator.state["state"]["state"], 0, 0] for seed in seeds],
            np.uint64,
        ).reshape(-1, 6)

    @property
    def replications(self) -> int:
        """The number of streams (one per replication)."""
        return len(self._state)

    @property
    def state(self) -> np.ndarray:
        """The streams' states, one row per replication (numpy's SFC64 state: ``s0, s1, s2,
        s3`` and two words of its 32-bit buffer), for a compiled kernel that draws doubles
        with :func:`next_double` as it goes and writes the rows back (the numbers are
        those :meth:`take` would give)."""
        return self._state

    def _take(
        self,
        kernel: Callable[..., None],
        counts: np.ndarray,
        dtype: type,
        out: np.ndarray | None,
    ) -> np.ndarray:
        counts = np.asarray(counts, np.int64)
        if len(counts) != len(self._state):  # the kernels do not check their bounds
            raise ValueError(f"Stream: {len(counts)} counts for {len(self._state)} streams")
        n = int(counts.sum())
        if out is None:
            out = np.empty(n, dtype)
        elif not (
            isinstance(out, np.ndarray)
            and out.shape == (n,)
            and out.dtype == dtype
            and out.flags.c_contiguous
            and out.flags.writeable
        ):
            got = (
                f"{'a non-contiguous ' if not out.flags.c_contiguous else ''}"
                f"{'a read-only ' if not out.flags.writeable else ''}"
                f"{out.dtype} array of shape {out.shape}"
                if isinstance(out, np.ndarray)
                else type(out).__name__
            )
            raise ValueError(
                f"Stream: out must be a contiguous, writeable {np.dtype(dtype)} array of {n}"
                f" entries, not {got}"
            )
        kernel(self._state, counts, out)
        return out

    def take(self, counts: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The next ``counts[r]`` uniforms (doubles in [0, 1)) of each replication r, in
        replication order (written into ``out`` if given: a day's working array, say)."""
        return self._take(uniforms, counts, np.float64, out)

    def take32(self, counts: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The next ``counts[r]`` float32 uniforms of each replication r, in replication
        order (written into ``out`` if given)."""
        return self._take(uniforms32, counts, np.float32, out)

    def per_entry(self, ids: np.ndarray, size: int = 1) -> np.ndarray:
        """One uniform per entry, for entries of replications ``ids // size`` (stacked ids of
        something each replication has ``size`` of; in any order): replication r's entries
        get, in their order, the numbers its stream would give a run of it alone."""
        R = self.replications
        if R == 1:
            return self.take(np.array([len(ids)]))
        # Most days' entries come sorted by replication: counted in one compiled pass.
        counts = np.zeros(R, np.int64)
        if sorted_counts(ids, size, 1.0 / size, counts):
            return self.take(counts)
        replication = ids // size if size > 1 else ids
        # Runs of entries sorted by replication (a few days' batches, say) draw run by run.
        starts = np.flatnonzero(replication[1:] < replication[:-1]) + 1
        if len(starts) < RUNS_DRAWN_IN_TURN and len(replication) >= RUN_DRAWS_FROM:
            runs = np.split(replication, starts)
            return np.concatenate(
                [np.zeros(0)] + [self.take(np.bincount(run, minlength=R)) for run in runs]
            )
        order = np.argsort(replication, kind="stable")
        out = np.empty(len(replication))
        out[order] = self.take(np.bincount(replication, minlength=R))
        return out


def phase_streams(seeds: list[dict[str, np.random.SeedSequence]]) -> dict[str, Stream]:
    """One :class:`Stream` per daily phase, from each replication's phase seeds."""
    return {phase: Stream([one[phase] for one in seeds]) for phase in DAILY_PHASES}
