"""The simulation engine: state as numpy arrays, each day a handful of vectorised operations.

:func:`simulate` runs a scenario and returns a :class:`~laotie.results.Result`; the Mesa model
(:class:`laotie.LaotieModel`) and the command line are faces over the same :class:`Engine`.
"""

from __future__ import annotations

import numbers
import time
from typing import TYPE_CHECKING

from .._random import SeedLike, as_seed_sequence, run_seeds
from .engine import Engine
from .market import Market

if TYPE_CHECKING:
    from ..graph import TrustGraph
    from ..results import Result
    from ..scenario import Scenario

__all__ = ["Engine", "Market", "simulate"]


def simulate(
    scenario: Scenario,
    *,
    days: int | None = None,
    seed: SeedLike = None,
    graph: TrustGraph | None = None,
    progress: bool = False,
) -> Result:
    """Run ``scenario`` for ``days`` days and return the :class:`~laotie.results.Result`.

    Parameters
    ----------
    scenario : Scenario
        Every parameter of the model (``Scenario.preset("mudanjiang", scale=0.01)``).
    days : int, optional
        Days to simulate (default: the scenario's ``run.days``).
    seed : int, SeedSequence, Generator or None
        One seed for the whole run: the city graph (when ``graph`` is not given) and the
        market are drawn from separate streams spawned from it
        (:func:`laotie._random.run_seeds`). The graph is therefore
        ``graph.city(scenario.city, seed=run_seeds(seed)[0])``, not
        ``graph.city(scenario.city, seed=seed)``; pass ``graph=`` to run on a graph you built.
    graph : TrustGraph, optional
        Run on this graph instead of building the scenario's city.
    progress : bool
        Show a progress bar over days.

    Examples
    --------
    >>> from laotie import Scenario, simulate
    >>> result = simulate(Scenario.preset("mudanjiang", scale=0.001), days=5, seed=1)
    >>> list(result.daily.columns[:4])
    ['day', 'channel', 'exposures', 'exposed_users']
    """
    from ..errors import ScenarioError
    from ..graph import city
    from ..results import Result

    if days is None:
        days = scenario.run.days
    if isinstance(days, bool) or not isinstance(days, numbers.Integral) or days < 0:
        raise ScenarioError(f"days = {days!r} is not allowed; expected an integer ≥ 0")
    days = int(days)
    sequence = as_seed_sequence(seed)
    graph_seed, (run_seed,) = run_seeds(sequence)
    start = time.perf_counter()
    if graph is None:
        graph = city(scenario.city, seed=graph_seed)
    built = time.perf_counter()
    engine = Engine(graph, scenario, seed=run_seed)
    engine.run(days, progress=progress)
    done = time.perf_counter()
    from .. import __version__

    info = {
        "days": days,
        "graph_seconds": built - start,
        "simulation_seconds": done - built,
        "laotie_version": __version__,
        "seed_entropy": sequence.entropy,
    }
    return Result.from_engine(engine, info)
