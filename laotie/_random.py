"""Seeds: one keyword, normalised once at the API boundary.

laotie never touches numpy's or Python's global random state. Every public function that
draws random numbers takes ``seed`` (an int, a :class:`numpy.random.SeedSequence`, a
:class:`numpy.random.Generator` or None) and turns it into a SeedSequence here; independent
streams for the parts of a computation are spawned from it, so that a result depends only on
the seed and never on the number of workers or the order of execution.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .errors import ScenarioError

SeedLike = int | np.random.SeedSequence | np.random.Generator | None

__all__ = [
    "SeedLike",
    "as_generator",
    "as_seed_sequence",
    "as_seed_sequences",
    "run_seeds",
    "spawn_generators",
]


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Normalise ``seed`` to a :class:`numpy.random.SeedSequence`.

    Parameters
    ----------
    seed : int, SeedSequence, Generator or None
        A non-negative int or a SeedSequence is used as it is (a SeedSequence is copied, so
        that spawning from it here never advances the caller's object). A Generator is asked for 128
        bits of entropy (so it advances, as a user who passes a generator expects). None draws
        fresh entropy from the operating system; the entropy is kept in the returned sequence
        and so can be recorded.

    Raises
    ------
    ScenarioError
        If ``seed`` is of another type or a negative int.

    Examples
    --------
    >>> as_seed_sequence(7).entropy
    7
    """
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, np.random.SeedSequence):
        # A fresh copy: spawning from it must not advance the caller's sequence, so that the
        # same SeedSequence always gives the same results.
        return np.random.SeedSequence(
            seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size
        )
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=2).tolist())
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if int(seed) < 0:
            raise ScenarioError(f"seed = {seed}: a seed must be a non-negative integer")
        return np.random.SeedSequence(int(seed))
    raise ScenarioError(
        f"seed = {seed!r} (type {type(seed).__name__}): a seed must be a non-negative int, "
        "a numpy SeedSequence, a numpy Generator or None"
    )


def as_seed_sequences(seeds: object, where: str = "seed") -> list[np.random.SeedSequence]:
    """Normalise one seed or a sequence of seeds (one per lockstep replication) to a list
    of :class:`numpy.random.SeedSequence`.

    Parameters
    ----------
    seeds : seed, list or tuple of seeds, or 1-d integer array
        One seed as :func:`as_seed_sequence` takes it, or several.
    where : str
        Names the caller in error messages.

    Raises
    ------
    ScenarioError
        For no seed at all, a string, an array that is not 1-d or not of integers, or any
        seed :func:`as_seed_sequence` refuses (the message names its position).

    Examples
    --------
    >>> [s.entropy for s in as_seed_sequences([3, 4])]
    [3, 4]
    >>> len(as_seed_sequences(7))
    1
    """
    if isinstance(seeds, str | bytes):
        raise ScenarioError(
            f"{where} = {seeds!r}: a seed must be a non-negative int, a numpy SeedSequence, "
            "a numpy Generator or None, or a list of them (one per lockstep replication)"
        )
    if isinstance(seeds, np.ndarray):
        if seeds.ndim != 1 or not np.issubdtype(seeds.dtype, np.integer):
            raise ScenarioError(
                f"{where}: an array of seeds must be 1-d and of integers, got shape "
                f"{seeds.shape} and dtype {seeds.dtype}"
            )
        seeds = seeds.tolist()
    listed: list[Any] = list(seeds) if isinstance(seeds, list | tuple) else [seeds]
    if not listed:
        raise ScenarioError(f"{where} = []; give one seed per lockstep replication")
    out = []
    for i, one in enumerate(listed):
        try:
            out.append(as_seed_sequence(one))
        except ScenarioError as error:
            at = f"{where}[{i}]" if len(listed) > 1 or seeds is not one else where
            raise ScenarioError(f"{at}: {error}") from None
    return out


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` for ``seed`` (a Generator is returned as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(as_seed_sequence(seed))


def spawn_generators(seed: SeedLike, n: int) -> list[np.random.Generator]:
    """Return ``n`` independent generators spawned from ``seed``, in a fixed order."""
    return [np.random.default_rng(s) for s in as_seed_sequence(seed).spawn(n)]


def run_seeds(
    seed: SeedLike, replications: int = 1
) -> tuple[np.random.SeedSequence, list[np.random.SeedSequence]]:
    """The seeds of a run: one for the city graph and one per replication of the market.

    Replication ``r`` gets the same seed whatever the number of replications, so a run with
    one replication is replication 0 of any larger run (and ``laotie.simulate`` with the same
    seed).
    """
    graph_seed, markets = as_seed_sequence(seed).spawn(2)
    return graph_seed, markets.spawn(replications)
