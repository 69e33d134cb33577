"""A cache of built city graphs on disk, so that a large city is built once and then read.

:func:`cached_city` is :func:`laotie.graph.city` for a city of at least
:data:`MIN_RESIDENTS` residents and a reproducible seed (an int or a SeedSequence): the graph
is saved (:func:`laotie.graph.save`) under a key of everything that decides it (the city's
parameters, the seed, the sources of :mod:`laotie.graph` and numpy's version) and read back
(validated) by the next run that asks for the same city. A graph read from the cache is the
graph a build gives, array for array (tests/graph/test_cache.py).

Where, and how much (docs/performance.md, "Graphs built once"):

- ``LAOTIE_GRAPH_CACHE``: the folder (default ``$XDG_CACHE_HOME/laotie/graphs``, or
  ``~/.cache/laotie/graphs``); ``0`` or ``off`` turns the cache off.
- ``LAOTIE_GRAPH_CACHE_GB``: the most the folder may hold, in GB (default 8); after a graph is
  saved the least recently used ones are removed until the folder fits (0 turns it off).

A cache that cannot be written (a read-only home, a full disk) only warns once: the graph is
built as without a cache. A damaged file is removed and the graph built again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import warnings
from pathlib import Path

import numba
import numpy as np
import scipy

from .._random import SeedLike
from ..errors import GraphError
from ._core import TrustGraph
from .generators import city
from .io import load, save
from .spec import CitySpec

__all__ = ["MIN_RESIDENTS", "cache_folder", "cache_limit", "cached_city", "graph_key"]

MIN_RESIDENTS = 200_000
"""Smaller cities are built every time (they build in about a second or less)."""

_DEFAULT_GB = 8.0


def cache_folder() -> Path | None:
    """The cache's folder (``LAOTIE_GRAPH_CACHE``, or the user's cache folder), or None when
    the cache is turned off."""
    value = os.environ.get("LAOTIE_GRAPH_CACHE", "").strip()
    if value.lower() in ("0", "off", "false", "no"):
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "laotie" / "graphs"


def cache_limit() -> int:
    """The most the cache may hold, in bytes (``LAOTIE_GRAPH_CACHE_GB``, default 8 GB).

    Raises
    ------
    GraphError
        For a value that is not a number ≥ 0.
    """
    text = os.environ.get("LAOTIE_GRAPH_CACHE_GB", "").strip()
    if not text:
        return int(_DEFAULT_GB * 1e9)
    try:
        gb = float(text)
    except ValueError:
        gb = float("nan")
    if not np.isfinite(gb) or gb < 0:
        raise GraphError(
            f"LAOTIE_GRAPH_CACHE_GB = {text!r}; expected a number of gigabytes ≥ 0 (0 turns the "
            "graph cache off)"
        )
    return int(gb * 1e9)


NOT_BUILDING = frozenset({"stats.py"})
"""Modules of :mod:`laotie.graph` that do not build cities (statistics of a built graph): a
change there keeps the cached cities."""


@functools.cache
def _sources_digest() -> str:
    """A hash of the sources of :mod:`laotie.graph` that build a city."""
    return sources_digest(Path(__file__).resolve().parent)


def sources_digest(folder: Path) -> str:
    """A hash of the modules in ``folder`` (:mod:`laotie.graph`'s) that build a city: all
    but :data:`NOT_BUILDING`."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        if path.name in NOT_BUILDING:
            continue
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def graph_key(spec: CitySpec, seed: SeedLike) -> str | None:
    """The cache key of the city ``spec`` built with ``seed``: a hash of the city's
    parameters, the seed, the graph sources and the versions of numpy, scipy (the trust
    weights invert its Beta quantiles) and numba (the build's kernels); None for a seed that
    does not say its graph (None, a Generator)."""
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0:
        seed = np.random.SeedSequence(int(seed))  # the city an int builds (as_seed_sequence)
    if not isinstance(seed, np.random.SeedSequence):
        return None
    said = [seed.entropy, list(seed.spawn_key), seed.pool_size]
    text = json.dumps(
        {
            "city": spec.to_dict(),
            "seed": said,
            "sources": _sources_digest(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "numba": numba.__version__,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def cached_city(spec: CitySpec, *, seed: SeedLike = None) -> TrustGraph:
    """:func:`laotie.graph.city`, read from the cache when it holds this city and seed, and
    saved there after a build (for cities of at least :data:`MIN_RESIDENTS` residents).

    Parameters
    ----------
    spec : CitySpec
    seed : int, SeedSequence, Generator or None
        As for :func:`laotie.graph.city`; a Generator or None is never cached.

    Returns
    -------
    TrustGraph
        The same graph a build gives.
    """
    folder = cache_folder()
    key = graph_key(spec, seed) if spec.n_residents >= MIN_RESIDENTS else None
    limit = cache_limit() if folder is not None and key is not None else 0
    if folder is None or key is None or limit == 0:
        return city(spec, seed=seed)
    path = folder / f"{key}.npz"
    if path.exists():
        try:
            graph = load(path)
        except GraphError:
            path.unlink(missing_ok=True)  # damaged (a disk error, a killed copy): build again
        else:
            with contextlib.suppress(OSError):
                os.utime(path)  # recently used: pruned last
            return graph
    graph = city(spec, seed=seed)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        save(graph, path)
    except (GraphError, OSError) as err:
        _warn_once(f"laotie: the graph cache {folder} cannot be written ({err}); graphs are built")
        return graph
    _prune(folder, limit, keep=path)
    return graph


def _prune(folder: Path, limit: int, keep: Path) -> None:
    """Remove the least recently used graphs until the folder holds at most ``limit`` bytes
    (never ``keep``, the graph just saved)."""
    try:
        files = sorted(
            (p for p in folder.glob("*.npz") if p.is_file()), key=lambda p: p.stat().st_mtime
        )
        total = sum(p.stat().st_size for p in files)
        for path in files:
            if total <= limit:
                break
            if path == keep:
                continue
            size = path.stat().st_size
            path.unlink(missing_ok=True)
            total -= size
    except OSError:
        pass  # another process pruned at the same time: the next save prunes again
