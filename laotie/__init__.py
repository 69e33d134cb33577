"""laotie (老铁): agent-based simulation of trust-driven social commerce.

laotie compares trust-driven creator sales (the 老铁经济, "trust economy" of Kuaishou-style
platforms) with traffic-driven storefront e-commerce on a trust graph of a whole city.

The modules form layers, each importing only from those below it:

1. parameters and the city: :mod:`~laotie.params`, :mod:`~laotie.sections`,
   :mod:`~laotie.scenario`, :mod:`~laotie.graph`;
2. the rules of a day: :mod:`~laotie.engine`, :mod:`~laotie.metrics`, :mod:`~laotie.cascade`;
3. what a run produced: :mod:`~laotie.results`, statistics over runs, :mod:`~laotie.stats`,
   and the calibration targets' moments, :mod:`~laotie.moments`;
4. many runs: :mod:`~laotie.runs` (:func:`simulate`), :mod:`~laotie.sweep`,
   :mod:`~laotie.sensitivity`, :mod:`~laotie.experiment`, :mod:`~laotie.executors`;
5. faces: the Mesa model (:mod:`~laotie.model`), :mod:`~laotie.plot` and the command line
   (:mod:`~laotie.cli`).

``Result.plot`` and ``SensitivityResult.plot`` call the plotting face, imported when called.
"""

# First, before any module that defines a compiled kernel: numba reads its cache folder when
# it is imported, and a kernel it cannot cache cannot be defined (a read-only install).
from . import _numba_cache  # noqa: F401

# isort: split

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
