"""Trust graphs: the :class:`TrustGraph` type, city specs and generators, io and statistics.

Examples
--------
>>> from laotie import graph
>>> g = graph.mudanjiang(scale=0.001, seed=1)
>>> g.n_nodes
2540
"""

from ._core import CREATOR_KINDS, LAYERS, TrustGraph
from .convert import from_networkx, to_networkx
from .generators import city
from .io import load, read_csv, read_graph, save, write_csv
from .presets import MUDANJIANG_REGIONS, PRESETS, mudanjiang, mudanjiang_spec, preset_spec
from .spec import CitySpec, Region
from .stats import GraphStats, graph_stats

__all__ = [
    "CREATOR_KINDS",
    "LAYERS",
    "MUDANJIANG_REGIONS",
    "PRESETS",
    "CitySpec",
    "GraphStats",
    "Region",
    "TrustGraph",
    "city",
    "from_networkx",
    "graph_stats",
    "load",
    "mudanjiang",
    "mudanjiang_spec",
    "preset_spec",
    "read_csv",
    "read_graph",
    "save",
    "to_networkx",
    "write_csv",
]
