"""The influence ties: the trust graph's ties reversed and grouped by influencer.

Word of mouth runs against trust: resident ``i`` trusting ``j`` (the graph's tie ``i → j``)
is the channel ``j ⇒ i``. :class:`InfluenceTies` holds these channels as rows, one per
influencer, with the tie records the kernel reads (:func:`~laotie.cascade.kernel.tie_dtype`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import ScenarioError
from ..graph._core import LAYERS, TrustGraph
from .checks import WHERE, check_edge_probability, check_ties
from .kernel import tie_dtype

__all__ = ["InfluenceTies"]


@dataclass(frozen=True)
class InfluenceTies:
    """Ties grouped by influencer: row ``j`` lists the people ``j`` can activate.

    Build it once with :meth:`from_graph` to run many cascades on the same graph without
    transposing the ties each time, or by hand from its four arrays.

    Attributes
    ----------
    indptr : ndarray of int, shape (n_nodes + 1,)
        Row pointers: the ties of influencer ``j`` are ``indptr[j]`` .. ``indptr[j + 1] - 1``.
    target : ndarray of int, shape (n_ties,)
        Who is influenced: the people who trust ``j``.
    weight : ndarray of float, shape (n_ties,)
        Their trust in ``j`` (or the given per-tie probability), in [0, 1].
    edge : ndarray of int, shape (n_ties,)
        Position of each tie in the graph's arrays (``graph.indices``), so that results can
        be related to the graph.

    Raises
    ------
    ScenarioError
        If the arrays do not make a valid tie list: row pointers that do not start at 0,
        decrease or do not end at the number of ties, a target outside the nodes, a weight
        outside [0, 1] (or NaN), or arrays of different lengths.

    Examples
    --------
    Node 0 influences nodes 1 and 2, node 1 influences node 2:

    >>> ties = InfluenceTies(
    ...     indptr=np.array([0, 2, 3, 3]),
    ...     target=np.array([1, 2, 2], np.int32),
    ...     weight=np.array([0.5, 1.0, 0.25]),
    ...     edge=np.arange(3),
    ... )
    >>> ties.n_nodes, ties.row_max.tolist()
    (3, [1.0, 0.25, 0.0])
    """

    indptr: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    edge: np.ndarray

    def __post_init__(self) -> None:
        check_ties(self.indptr, self.target, self.weight, self.edge)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.indptr) - 1

    @classmethod
    def from_graph(
        cls,
        graph: TrustGraph,
        layers: Sequence[str] = ("local", "city"),
        edge_probability: Any = None,
    ) -> InfluenceTies:
        """The ties of ``layers`` reversed (``i → j`` becomes ``j ⇒ i``), grouped by ``j``.

        Parameters
        ----------
        graph : TrustGraph
            The trust graph.
        layers : sequence of str, default ("local", "city")
            Layers whose ties carry influence; word of mouth in the engine uses local and
            city ties, not follows.
        edge_probability : array of float, shape (graph.n_edges,), optional
            A probability per tie of the graph, aligned with ``graph.indices``; it replaces
            the trust weights as the ``weight`` of the influence ties.

        Returns
        -------
        InfluenceTies
            Each row sorted by the influenced person; ``target`` and ``weight`` are views of
            one record array, the layout the kernel reads (:attr:`packed`).

        Raises
        ------
        ScenarioError
            If ``graph`` is not a TrustGraph, for an unknown layer or a bad
            ``edge_probability``.

        Examples
        --------
        >>> from laotie import TrustGraph
        >>> g = TrustGraph.from_edges(3, [1, 2], [0, 1], [0.5, 1.0], [0, 0])
        >>> ties = InfluenceTies.from_graph(g)
        >>> ties.indptr.tolist(), ties.target.tolist(), ties.weight.tolist()
        ([0, 1, 2, 2], [1, 2], [0.5, 1.0])
        """
        if not isinstance(graph, TrustGraph):
            raise ScenarioError(
                f"{WHERE}: graph is a {type(graph).__name__}; expected a laotie TrustGraph "
                "or InfluenceTies"
            )
        if isinstance(layers, str):
            layers = (layers,)
        unknown = [name for name in layers if name not in LAYERS]
        if unknown or not layers:
            raise ScenarioError(
                f"{WHERE}: layers = {list(layers)!r} is not allowed; expected one or more of "
                f"{', '.join(LAYERS)}"
            )
        weight = graph.trust
        if edge_probability is not None:
            weight = check_edge_probability(edge_probability, graph.n_edges)
        n = graph.n_nodes
        position = np.flatnonzero(graph.layer_mask(list(layers)))
        source = graph.sources()[position]
        trusted = graph.indices[position]
        # Counting sort by the trusted person; stable, so each row stays sorted by truster.
        order = np.argsort(trusted, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(trusted, minlength=n), out=indptr[1:])
        edge = position[order]
        ties = np.empty(len(edge), tie_dtype(weight.dtype))
        ties["target"] = source[order]
        ties["weight"] = weight[edge]
        return cls(indptr=indptr, target=ties["target"], weight=ties["weight"], edge=edge)

    @cached_property
    def packed(self) -> np.ndarray:
        """Target and weight of each tie side by side (a record array), as the kernel reads
        them: one memory access per tie instead of two. :meth:`from_graph` stores the ties
        this way (``target`` and ``weight`` are views of it); otherwise this is a copy."""
        base = self.target.base
        if (
            isinstance(base, np.ndarray)
            and base.dtype == tie_dtype(self.weight.dtype)
            and _is_field(self.target, base, "target")
            and _is_field(self.weight, base, "weight")
        ):
            return base
        ties = np.empty(len(self.target), tie_dtype(self.weight.dtype))
        ties["target"] = self.target
        ties["weight"] = self.weight
        return ties

    @cached_property
    def row_max(self) -> np.ndarray:
        """Largest weight of each row (0 for a node without ties), float64."""
        counts = np.diff(self.indptr)
        top = np.zeros(self.n_nodes)
        rows = np.flatnonzero(counts)
        if len(rows):
            top[rows] = np.maximum.reduceat(self.weight, self.indptr[rows])
        return top


def _is_field(view: np.ndarray, base: np.ndarray, name: str) -> bool:
    """Whether ``view`` is the whole field ``name`` of the record array ``base``, in order."""
    fields = base.dtype.fields
    return (
        fields is not None
        and view.base is base
        and base.ndim == 1
        and view.shape == base.shape
        and view.strides == (base.itemsize,)
        and view.__array_interface__["data"][0]
        == base.__array_interface__["data"][0] + fields[name][1]
    )
