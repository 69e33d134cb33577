"""Checks of the cascade's arguments at the API boundary.

Each check raises :class:`~laotie.errors.ScenarioError` with a message that names the
argument, the value received and what is allowed, and returns the value normalised. The
compiled kernel reads its arrays without bounds checks, so nothing reaches it unchecked.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..errors import ScenarioError

__all__ = [
    "WHERE",
    "check_edge_probability",
    "check_int",
    "check_number",
    "check_seeds",
    "check_ties",
]

WHERE = "independent_cascade"
"""The name that starts the messages of the call's checks."""


def check_number(name: str, value: Any, low: float, high: float) -> float:
    """``value`` as a float, if it is a real number in [``low``, ``high``].

    Examples
    --------
    >>> check_number("probability", 0.5, 0.0, 1.0)
    0.5
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not low <= float(value) <= high
    ):
        raise ScenarioError(
            f"{WHERE}: {name} = {value!r} is not allowed; expected a number, "
            f"{low:g} ≤ value ≤ {high:g}"
        )
    return float(value)


def check_int(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int, if it is an integer in [``low``, ``high``] (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not low <= int(value) <= high
    ):
        raise ScenarioError(
            f"{WHERE}: {name} = {value!r} is not allowed; expected an integer, "
            f"{low:,} ≤ value ≤ {high:,}"
        )
    return int(value)


def check_seeds(seeds: Any, n_nodes: int) -> np.ndarray:
    """The distinct seed nodes, sorted, int64, if ``seeds`` is a 1-d sequence of node ids."""
    array = np.asarray(seeds)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ScenarioError(
            f"{WHERE}: seeds must be a 1-d sequence of integer node ids, got "
            f"{array.dtype} of shape {array.shape}"
        )
    bad = array[(array < 0) | (array >= n_nodes)]
    if bad.size:
        raise ScenarioError(
            f"{WHERE}: seeds = {bad[:5].tolist()} {'...' if bad.size > 5 else ''}not allowed; "
            f"node ids are 0 .. {n_nodes - 1}"
        )
    return np.unique(array.astype(np.int64))


def check_edge_probability(values: Any, n_edges: int) -> np.ndarray:
    """One probability per tie of the graph, float64."""
    array = np.asarray(values)
    if array.shape != (n_edges,) or not np.issubdtype(array.dtype, np.number):
        raise ScenarioError(
            f"{WHERE}: edge_probability has shape {array.shape} and dtype {array.dtype}; "
            f"expected {n_edges} numbers (one per tie of the graph)"
        )
    bad = np.flatnonzero(~((array >= 0) & (array <= 1)))
    if bad.size:
        raise ScenarioError(
            f"{WHERE}: edge_probability[{int(bad[0])}] = {array[bad[0]]!r} is not allowed "
            f"({bad.size} bad value(s)); expected probabilities, 0 ≤ value ≤ 1"
        )
    return array.astype(np.float64)


def check_ties(indptr: Any, target: Any, weight: Any, edge: Any) -> None:
    """Refuse the arrays of an :class:`~laotie.cascade.InfluenceTies` that do not make a tie
    list: row pointers that do not start at 0, decrease or do not end at the number of
    ties, a target outside the nodes, a weight outside [0, 1] (or NaN), arrays of different
    lengths or of the wrong kind."""
    where = "InfluenceTies"
    arrays = {"indptr": indptr, "target": target, "weight": weight, "edge": edge}
    for name, array in arrays.items():
        if not isinstance(array, np.ndarray) or array.ndim != 1:
            raise ScenarioError(f"{where}: {name} must be a 1-d numpy array, got {array!r:.80}")
    for name in ("indptr", "target", "edge"):
        if not np.issubdtype(arrays[name].dtype, np.integer):
            raise ScenarioError(
                f"{where}: {name} has dtype {arrays[name].dtype}; expected integers"
            )
    if (
        weight.dtype == bool
        or not np.issubdtype(weight.dtype, np.number)
        or np.iscomplexobj(weight)
    ):
        raise ScenarioError(f"{where}: weight has dtype {weight.dtype}; expected real numbers")
    n_ties = len(target)
    if len(weight) != n_ties or len(edge) != n_ties:
        raise ScenarioError(
            f"{where}: target, weight and edge have {n_ties:,}, {len(weight):,} and "
            f"{len(edge):,} entries; expected one entry per tie in each"
        )
    steps = np.diff(indptr)
    if len(indptr) == 0 or indptr[0] != 0 or indptr[-1] != n_ties or (steps < 0).any():
        raise ScenarioError(
            f"{where}: indptr must start at 0, never decrease and end at the number of ties "
            f"({n_ties:,}); it has {len(indptr):,} entries"
        )
    n_nodes = len(indptr) - 1
    bad = np.flatnonzero((target < 0) | (target >= n_nodes))
    if len(bad):
        raise ScenarioError(
            f"{where}: target[{int(bad[0])}] = {target[bad[0]]!r} is not allowed "
            f"({len(bad):,} bad value(s)); expected node ids 0 .. {n_nodes - 1}"
        )
    bad = np.flatnonzero(~((weight >= 0) & (weight <= 1)))
    if len(bad):
        raise ScenarioError(
            f"{where}: weight[{int(bad[0])}] = {weight[bad[0]]!r} is not allowed "
            f"({len(bad):,} bad value(s)); expected trust or probabilities, 0 ≤ value ≤ 1"
        )
