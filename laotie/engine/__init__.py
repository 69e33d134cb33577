"""The simulation engine: state as arrays, each day's rules written once.

:class:`Engine` conducts the day (:mod:`laotie.engine.engine`); the rules of the day are in
:mod:`laotie.engine.rules`, one module per phase of docs/model.md 3.5; the market's set-up is
:class:`Market`. :func:`simulate` runs a scenario and returns a
:class:`~laotie.results.Result`; the Mesa model (:class:`laotie.LaotieModel`) and the command
line are faces over the same :class:`Engine`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._random import SeedLike
from .engine import Engine, Replication
from .market import Market
from .sizing import engine_bytes, lockstep_size

if TYPE_CHECKING:
    from ..graph import TrustGraph
    from ..results import Result
    from ..scenario import Scenario

__all__ = ["Engine", "Market", "Replication", "engine_bytes", "lockstep_size", "simulate"]


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
    from ..runs import replicate

    (result,) = replicate(scenario, 1, days=days, seed=seed, graph=graph, progress=progress)
    return result
