"""The trust graph: a directed, weighted, layered graph stored as CSR arrays.

``w[i, j]`` in (0, 1] is how much resident ``i`` trusts ``j``. Row ``i`` of the CSR holds the
people ``i`` trusts; each edge carries a trust weight (float32) and a layer code (int8):

===========  ====  ==========================================================================
layer        code  meaning
===========  ====  ==========================================================================
``local``    0     kin, friends and neighbours inside a region (同乡); mutual ties
``city``     1     weaker ties across the city (同城); mutual ties
``follow``   2     a registered user follows a creator (关注); one-way
===========  ====  ==========================================================================

Node attributes are arrays of length ``n_nodes``: ``region`` and ``hometown`` (int16 codes
into ``region_names``), ``rural`` and ``user`` (bool: lives in a rural area; is a registered
platform user) and ``creator_kind`` (int8 code into :data:`CREATOR_KINDS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ..errors import GraphError
from ._messages import listed
from ._validate import array_problems, graph_problems
from .codes import (
    CITY,
    CREATOR_KINDS,
    FOLLOW,
    GOV,
    HEAD,
    LAYERS,
    LOCAL,
    LOCAL_CREATOR,
    NODE_ATTRIBUTES,
    NOT_CREATOR,
    OUTSIDE,
)

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from .stats import GraphStats

__all__ = [
    "CITY",
    "CREATOR_KINDS",
    "FOLLOW",
    "GOV",
    "HEAD",
    "LAYERS",
    "LOCAL",
    "LOCAL_CREATOR",
    "NODE_ATTRIBUTES",
    "NOT_CREATOR",
    "OUTSIDE",
    "TrustGraph",
]


class TrustGraph:
    """A directed, weighted, layered trust graph over residents (CSR storage).

    Parameters
    ----------
    indptr : array of int, shape (n_nodes + 1,)
        CSR row pointers.
    indices : array of int, shape (n_edges,)
        Trusted node of each edge, sorted within each row.
    trust : array of float, shape (n_edges,)
        Trust weights in (0, 1].
    layer : array of int, shape (n_edges,)
        Layer code of each edge (index into :data:`LAYERS`).
    region, hometown, rural, user, creator_kind : arrays, shape (n_nodes,)
        Node attributes (see the module docstring).
    region_names : sequence of str
        Names of the region codes.
    labels : sequence, optional
        Original node labels (kept by importers so that exports give them back).
    meta : dict, optional
        Provenance: generator, parameters, seed, laotie version.
    where : str
        Named in error messages (a file name, or the importer).

    Raises
    ------
    GraphError
        If any invariant fails (see :meth:`validate`).

    Examples
    --------
    >>> import numpy as np
    >>> g = TrustGraph.from_edges(
    ...     3, [0, 1, 1], [1, 0, 2], [0.9, 0.8, 0.5], [LOCAL, LOCAL, FOLLOW],
    ...     region=[0, 0, 0], user=[True, True, True], creator_kind=[0, 0, 2])
    >>> g
    TrustGraph(n_nodes=3, n_edges=3 (local 2, city 0, follow 1), regions=1)
    >>> int(g.followers()[2])
    1
    """

    # The node attributes (NODE_ATTRIBUTES), set by name in __init__.
    region: np.ndarray
    hometown: np.ndarray
    rural: np.ndarray
    user: np.ndarray
    creator_kind: np.ndarray

    def __init__(
        self,
        indptr: Any,
        indices: Any,
        trust: Any,
        layer: Any,
        *,
        region: Any,
        hometown: Any,
        rural: Any,
        user: Any,
        creator_kind: Any,
        region_names: Sequence[str],
        labels: Sequence[Any] | None = None,
        meta: dict[str, Any] | None = None,
        where: str = "TrustGraph",
    ) -> None:
        self.region_names: tuple[str, ...] = tuple(str(r) for r in region_names)
        # One object per node, built element-wise: np.asarray would turn tuple labels (as in
        # networkx grid graphs) into a 2-d array.
        self.labels: np.ndarray | None = None
        if labels is not None:
            values = labels.tolist() if isinstance(labels, np.ndarray) else list(labels)
            self.labels = np.fromiter(values, dtype=object, count=len(values))
        self.meta: dict[str, Any] = dict(meta or {})
        raw_nodes = {
            "region": region,
            "hometown": hometown,
            "rural": rural,
            "user": user,
            "creator_kind": creator_kind,
        }
        problems = array_problems(
            raw_nodes, indptr, indices, trust, layer, self.labels, len(self.region_names)
        )
        if problems:
            raise GraphError(f"{where}: " + "; ".join(problems))
        # Invariants are checked on the arrays as given, before the cast to compact dtypes, so
        # that a value the cast would hide (a weight of 1.0000001, a code of 65536) is reported.
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(indices, dtype=np.int32)
        self.trust = np.asarray(trust)
        self.layer = np.asarray(layer)
        for name, values in raw_nodes.items():
            setattr(self, name, np.asarray(values))
        problems = graph_problems(self, arrays_checked=True)  # array_problems found none
        if problems:
            raise GraphError(f"{where}: " + "; ".join(problems))
        self.trust = np.ascontiguousarray(self.trust, dtype=np.float32)
        self.layer = np.ascontiguousarray(self.layer, dtype=np.int8)
        for name, dtype in NODE_ATTRIBUTES.items():
            setattr(self, name, np.ascontiguousarray(getattr(self, name), dtype=dtype))
        # Weights in (0, 1] were checked: a zero is one that float32 could not hold (a
        # minimum, without a mask as long as the ties).
        if self.trust.size and self.trust.min() == 0:
            raise GraphError(
                f"{where}: {int(np.sum(self.trust == 0))} trust weight(s) are too small for "
                "float32 (below 1.2e-38); trust must be in (0, 1]"
            )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edges(
        cls,
        n_nodes: int,
        src: Any,
        dst: Any,
        trust: Any,
        layer: Any,
        *,
        region: Any = None,
        hometown: Any = None,
        rural: Any = None,
        user: Any = None,
        creator_kind: Any = None,
        region_names: Sequence[str] | None = None,
        labels: Sequence[Any] | None = None,
        meta: dict[str, Any] | None = None,
        where: str = "edge list",
    ) -> TrustGraph:
        """Build a graph from an edge list (any order); node attributes default when None.

        Parameters
        ----------
        n_nodes : int
            Number of nodes; ids are ``0 .. n_nodes - 1``.
        src, dst : array_like of int
            The truster and the trusted node of each edge.
        trust : array_like of float
            Trust weights in (0, 1].
        layer : array_like of int
            Layer codes (``LOCAL``, ``CITY``, ``FOLLOW``).
        region, hometown, rural, user, creator_kind : array_like, optional
            Node attributes. Defaults: ``region`` 0 (one region named ``"all"``),
            ``hometown`` = ``region``, ``rural`` False, ``user`` True, ``creator_kind`` 0
            (not a creator).
        region_names : sequence of str, optional
            Names of the region codes (default: ``("all",)``).
        labels : sequence, optional
            Original node labels.
        meta : dict, optional
            Provenance.
        where : str, default "edge list"
            Named in error messages.

        Returns
        -------
        TrustGraph

        Raises
        ------
        GraphError
            For node ids outside ``0 .. n_nodes - 1``, duplicate edges and every other
            invariant of :meth:`validate`.
        """
        if isinstance(n_nodes, bool) or not isinstance(n_nodes, int | np.integer) or n_nodes < 0:
            raise GraphError(f"{where}: n_nodes = {n_nodes!r}; expected an integer ≥ 0")
        src = np.asarray(src)
        dst = np.asarray(dst)
        trust = np.asarray(trust)
        layer = np.asarray(layer)
        shapes = [np.shape(a) for a in (src, dst, trust, layer)]
        if any(len(shape) != 1 for shape in shapes):
            raise GraphError(
                f"{where}: source, target, trust and layer must be 1-d sequences, got shapes "
                + ", ".join(map(str, shapes))
            )
        # np.asarray([]) is float64, but an empty edge list is valid.
        src, dst, layer = (a if a.size else a.astype(np.int64) for a in (src, dst, layer))
        lengths = {len(src), len(dst), len(trust), len(layer)}
        if len(lengths) != 1:
            raise GraphError(
                f"{where}: source, target, trust and layer have different lengths "
                f"({len(src)}, {len(dst)}, {len(trust)}, {len(layer)})"
            )
        for name, ids in (("source", src), ("target", dst)):
            if ids.size and not np.issubdtype(ids.dtype, np.integer):
                raise GraphError(f"{where}: {name} node ids must be integers, got {ids.dtype}")
            bad = np.flatnonzero((ids < 0) | (ids >= n_nodes))
            if bad.size:
                raise GraphError(
                    f"{where}: {bad.size} edge(s) have an unknown {name} node id "
                    f"(valid ids are 0 .. {n_nodes - 1}), e.g. {listed(ids[bad])}"
                )
        order = np.lexsort((dst, src))
        src, dst, trust, layer = src[order], dst[order], trust[order], layer[order]
        indptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n_nodes), out=indptr[1:])
        region = np.zeros(n_nodes, np.int16) if region is None else region
        return cls(
            indptr,
            dst,
            trust,
            layer,
            region=region,
            hometown=region if hometown is None else hometown,
            rural=np.zeros(n_nodes, bool) if rural is None else rural,
            user=np.ones(n_nodes, bool) if user is None else user,
            creator_kind=np.zeros(n_nodes, np.int8) if creator_kind is None else creator_kind,
            region_names=("all",) if region_names is None else region_names,
            labels=labels,
            meta=meta,
            where=where,
        )

    # ------------------------------------------------------------------ invariants
    def validate(self, where: str = "TrustGraph") -> None:
        """Check every invariant; raise one :class:`GraphError` that lists all problems.

        Checked: trust weights are numbers in (0, 1]; no self-loops; no duplicate edges; node
        ids are known; layer codes, region codes and creator kinds exist; follow ties go from
        a registered user to a creator; creators are registered users. Each problem is named
        with the number of entries that have it and a few of their ids.

        Parameters
        ----------
        where : str, default "TrustGraph"
            Named first in the error message (a file, or the importer).

        Raises
        ------
        GraphError
            Listing every problem found.
        """
        problems = graph_problems(self)
        if problems:
            raise GraphError(f"{where}: " + "; ".join(problems))

    # ------------------------------------------------------------------ views
    @property
    def n_nodes(self) -> int:
        """Number of nodes: the residents and any creators outside the city."""
        return len(self.indptr) - 1

    @property
    def resident(self) -> np.ndarray:
        """Whether each node lives in the city: every node but the creators outside it
        (creator kind ``outside``)."""
        return self.creator_kind != OUTSIDE

    @property
    def n_residents(self) -> int:
        """Number of residents (nodes other than the creators outside the city)."""
        return self.n_nodes - int(np.count_nonzero(self.creator_kind == OUTSIDE))

    @property
    def n_edges(self) -> int:
        """Number of directed edges over all layers."""
        return len(self.indices)

    @property
    def n_regions(self) -> int:
        """Number of regions."""
        return len(self.region_names)

    @property
    def nbytes(self) -> int:
        """Memory held by the graph's arrays, in bytes."""
        arrays: list[np.ndarray] = [self.indptr, self.indices, self.trust, self.layer]
        arrays += [self.region, self.hometown, self.rural, self.user, self.creator_kind]
        return int(sum(a.nbytes for a in arrays))

    def sources(self) -> np.ndarray:
        """The truster (row) of every edge.

        Returns
        -------
        numpy.ndarray of int32
            Aligned with ``indices``.
        """
        return np.repeat(np.arange(self.n_nodes, dtype=np.int32), np.diff(self.indptr))

    def out_degree(self, layers: Sequence[str] | None = None) -> np.ndarray:
        """Number of people each node trusts.

        Parameters
        ----------
        layers : sequence of str, optional
            Count only these layers (default: all).

        Returns
        -------
        numpy.ndarray of int
            One count per node.
        """
        if layers is None:
            return np.diff(self.indptr)
        return np.bincount(self.sources()[self.layer_mask(layers)], minlength=self.n_nodes)

    def layer_mask(self, layers: str | Sequence[str]) -> np.ndarray:
        """Which edges are in ``layers``.

        Parameters
        ----------
        layers : str or sequence of str
            Layer names (:data:`LAYERS`).

        Returns
        -------
        numpy.ndarray of bool
            One entry per edge.

        Raises
        ------
        GraphError
            For an unknown layer.
        """
        names = [layers] if isinstance(layers, str) else list(layers)
        codes = []
        for name in names:
            if name not in LAYERS:
                raise GraphError(f"unknown layer {name!r}; allowed: {', '.join(LAYERS)}")
            codes.append(LAYERS.index(name))
        return np.isin(self.layer, codes)

    def adjacency(self, layers: str | Sequence[str] | None = None) -> sp.csr_array:
        """The trust matrix ``W`` (``W[i, j]`` = trust of i in j) as a scipy CSR array.

        Parameters
        ----------
        layers : str or sequence of str, optional
            Keep only these layers (default: all, with the arrays shared with the graph, not
            copied).

        Returns
        -------
        scipy.sparse.csr_array
            Of shape ``(n_nodes, n_nodes)``.

        Examples
        --------
        >>> from laotie.graph import mudanjiang
        >>> mudanjiang(scale=0.001, seed=1).adjacency(["local", "city"]).shape
        (2540, 2540)
        """
        shape = (self.n_nodes, self.n_nodes)
        if layers is None:
            return sp.csr_array((self.trust, self.indices, self.indptr), shape=shape)
        keep = self.layer_mask(layers)
        counts = np.bincount(self.sources()[keep], minlength=self.n_nodes)
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return sp.csr_array((self.trust[keep], self.indices[keep], indptr), shape=shape)

    def followers(self) -> np.ndarray:
        """Number of followers of every node.

        Returns
        -------
        numpy.ndarray of int
            One count per node (0 for non-creators).
        """
        return np.bincount(self.indices[self.layer == FOLLOW], minlength=self.n_nodes)

    def creators(self, kind: str | None = None) -> np.ndarray:
        """Node ids of the creators.

        Parameters
        ----------
        kind : {"head", "local", "gov", "outside"}, optional
            Only the creators of this kind (default: all creators).

        Returns
        -------
        numpy.ndarray of int
            Sorted node ids.

        Raises
        ------
        GraphError
            For an unknown kind.
        """
        if kind is None:
            return np.flatnonzero(self.creator_kind != NOT_CREATOR)
        if kind not in CREATOR_KINDS[1:]:
            raise GraphError(
                f"unknown creator kind {kind!r}; allowed: {', '.join(CREATOR_KINDS[1:])}"
            )
        return np.flatnonzero(self.creator_kind == CREATOR_KINDS.index(kind))

    def node_frame(self) -> pd.DataFrame:
        """Node attributes as a table with readable values (region names, kinds).

        Returns
        -------
        pandas.DataFrame
            One row per node, indexed by ``id`` (the labels, or ``0 .. n_nodes - 1``):
            ``region``, ``hometown``, ``rural``, ``user``, ``creator_kind``.
        """
        import pandas as pd

        names = np.asarray(self.region_names, dtype=object)
        return pd.DataFrame(
            {
                "region": names[self.region],
                "hometown": names[self.hometown],
                "rural": self.rural,
                "user": self.user,
                "creator_kind": np.asarray(CREATOR_KINDS, dtype=object)[self.creator_kind],
            },
            index=pd.Index(
                self.labels if self.labels is not None else np.arange(self.n_nodes), name="id"
            ),
        )

    def equals(self, other: TrustGraph) -> bool:
        """Whether both graphs have identical arrays, region names and labels.

        Parameters
        ----------
        other : TrustGraph
            The graph to compare with.

        Returns
        -------
        bool
        """
        names = ("indptr", "indices", "trust", "layer", *NODE_ATTRIBUTES)
        same = all(np.array_equal(getattr(self, a), getattr(other, a)) for a in names)
        same_labels = (self.labels is None and other.labels is None) or (
            self.labels is not None
            and other.labels is not None
            and list(self.labels) == list(other.labels)
        )
        return same and same_labels and self.region_names == other.region_names

    def __repr__(self) -> str:
        counts = np.bincount(self.layer, minlength=len(LAYERS))
        per_layer = ", ".join(f"{name} {int(c)}" for name, c in zip(LAYERS, counts, strict=True))
        return (
            f"TrustGraph(n_nodes={self.n_nodes}, n_edges={self.n_edges} ({per_layer}), "
            f"regions={self.n_regions})"
        )

    # ------------------------------------------------------------------ io and statistics
    @classmethod
    def from_networkx(cls, graph: nx.Graph, **mapping: Any) -> TrustGraph:
        """Import a networkx graph; see :func:`laotie.graph.convert.from_networkx`.

        Parameters
        ----------
        graph : networkx.Graph or networkx.DiGraph
            The graph (conventions in :mod:`laotie.graph.convert`).
        **mapping
            ``default_trust``, ``trust``, ``transform``, ``creators``, ``users``, ``rural``,
            ``regions``, ``creator_kind``, ``follows``, ``seed``: see
            :func:`laotie.graph.convert.from_networkx`.

        Returns
        -------
        TrustGraph
        """
        from .convert import from_networkx

        return from_networkx(graph, **mapping)

    def to_networkx(self, *, max_edges: int = 5_000_000) -> nx.DiGraph:
        """Export to a networkx DiGraph; see :func:`laotie.graph.convert.to_networkx`.

        Parameters
        ----------
        max_edges : int, default 5_000_000
            Refuse graphs with more edges than this.

        Returns
        -------
        networkx.DiGraph
        """
        from .convert import to_networkx

        return to_networkx(self, max_edges=max_edges)

    @classmethod
    def from_csv(cls, edges: Any, nodes: Any = None) -> TrustGraph:
        """Read CSV edge (and node) lists; see :func:`laotie.graph.io.read_csv`.

        Parameters
        ----------
        edges : str or path
            The edge list.
        nodes : str or path, optional
            The node list.

        Returns
        -------
        TrustGraph
        """
        from .io import read_csv

        return read_csv(edges, nodes)

    def to_csv(self, edges: Any, nodes: Any) -> None:
        """Write CSV edge and node lists; see :func:`laotie.graph.io.write_csv`.

        Parameters
        ----------
        edges, nodes : str or path
            The edge list's and the node list's files.
        """
        from .io import write_csv

        write_csv(self, edges, nodes)

    def save(self, path: Any) -> None:
        """Save losslessly to a ``.npz`` file; see :func:`laotie.graph.io.save`.

        Parameters
        ----------
        path : str or path
            The file, replaced if it exists.
        """
        from .io import save

        save(self, path)

    @classmethod
    def load(cls, path: Any) -> TrustGraph:
        """Load a graph saved by :meth:`save`; see :func:`laotie.graph.io.load`.

        Parameters
        ----------
        path : str or path
            The ``.npz`` file.

        Returns
        -------
        TrustGraph
        """
        from .io import load

        return load(path)

    def stats(self, *, clustering_sample: int = 2000, seed: Any = 0) -> GraphStats:
        """Summary statistics; see :func:`laotie.graph.stats.graph_stats`.

        Parameters
        ----------
        clustering_sample : int, default 2000
            Nodes sampled to estimate the clustering.
        seed : int, SeedSequence, Generator or None, default 0
            Seeds the sample.

        Returns
        -------
        GraphStats
        """
        from .stats import graph_stats

        return graph_stats(self, clustering_sample=clustering_sample, seed=seed)
