"""The dashboard (``laotie dashboard``): a page where a student or a planner picks a scenario,
moves its parameters, runs it day by day or to the end, and compares two policies.

The page (:mod:`laotie.dashboard.app`) is written with Solara, an optional dependency
(``pip install 'laotie[dashboard]'``); everything it shows comes from parts that need only
laotie's own dependencies, importable without Solara:

- :mod:`~laotie.dashboard.controls`: the widgets, written from the parameters' declarations
  (:func:`controls`, :data:`DEFAULT_KEYS`, :func:`default_scale`);
- :mod:`~laotie.dashboard.measures`: the numbers of a run (:func:`measure_values`) and a run
  stepped day by day (:class:`Simulation`, read as :class:`Snapshot`);
- :mod:`~laotie.dashboard.compare`: two variants over replications with intervals
  (:func:`compare`, through :func:`laotie.runs.replicate` and :func:`laotie.stats.paired`);
- :mod:`~laotie.dashboard.charts`: the figures (matplotlib).

In a notebook, ``from laotie.dashboard import Dashboard`` and a cell ending in
``Dashboard()`` (or ``Dashboard(scenario="county")``) shows the page; :func:`show` does the
same from anywhere in a cell. :func:`serve` serves it on localhost. Solara's usage
statistics are turned off by :func:`serve` and :func:`show` unless
``SOLARA_TELEMETRY_MIXPANEL_ENABLE`` is set.
"""

from __future__ import annotations

from .compare import Comparison, compare
from .controls import DEFAULT_KEYS, MAX_RESIDENTS, Control, controls, declared, default_scale
from .measures import MEASURES, Measure, Simulation, Snapshot, format_value, measure_values
from .server import require_solara, serve, show


def __getattr__(name: str) -> object:
    # The Solara components are imported on first use, so that the rest needs no Solara.
    if name in ("Dashboard", "Page"):
        require_solara()
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module 'laotie.dashboard' has no attribute {name!r}")


__all__ = [
    "DEFAULT_KEYS",
    "MAX_RESIDENTS",
    "MEASURES",
    "Comparison",
    "Control",
    "Dashboard",
    "Measure",
    "Page",
    "Simulation",
    "Snapshot",
    "compare",
    "controls",
    "declared",
    "default_scale",
    "format_value",
    "measure_values",
    "require_solara",
    "serve",
    "show",
]
