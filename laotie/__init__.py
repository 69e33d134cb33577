"""laotie (老铁): agent-based simulation of trust-driven social commerce.

laotie compares trust-driven creator sales (the 老铁经济, "trust economy" of Kuaishou-style
platforms) with traffic-driven storefront e-commerce on a trust graph of a whole city.
"""

from . import graph
from ._version import __version__
from .cascade import independent_cascade
from .engine import Engine
from .errors import GraphError, LaotieError, ScenarioError
from .graph import CitySpec, Region, TrustGraph
from .results import Result
from .runs import simulate
from .scenario import Scenario


def __getattr__(name: str) -> object:
    # The Mesa face is imported on first use: importing mesa has side effects (it sets the
    # multiprocessing start method, and its batch runner imports tqdm's notebook widgets).
    if name == "LaotieModel":
        from .model import LaotieModel

        return LaotieModel
    raise AttributeError(f"module 'laotie' has no attribute {name!r}")


__all__ = [
    "CitySpec",
    "Engine",
    "GraphError",
    "LaotieError",
    "LaotieModel",
    "Region",
    "Result",
    "Scenario",
    "ScenarioError",
    "TrustGraph",
    "__version__",
    "graph",
    "independent_cascade",
    "simulate",
]
