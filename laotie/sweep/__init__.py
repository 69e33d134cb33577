"""Parameter sweeps: many runs of a scenario, stored one run at a time, resumable.

A :class:`Sweep` is a base scenario, the points to run (a grid of dotted parameter keys and
their values, samples within bounds, explicit cases), a number of replications, the days and a
seed. Every run's seed is spawned from the sweep's seed with ``SeedSequence(seed,
spawn_key=(k,))``, keyed by an index, never by the order of execution, so the numbers do not
depend on the executor, the number of workers or the order in which runs finish:

- with common random numbers (the default), ``k`` is the replication: replication ``r`` of
  every point (every *arm*) shares the city graph and the random streams of each phase, so
  paired differences between arms (:meth:`SweepResult.compare`) have a small variance;
- without, ``k`` is the run's index, and every run is independent.

Each finished run is written atomically to its own files under ``out/runs/`` (the record last);
running the same sweep again skips the runs already done (and retries those that failed), so
an interrupted sweep, or one whose worker is killed, loses only the runs in flight.

The package: :mod:`~laotie.sweep.spec` says what to run (:class:`Sweep`, :func:`load_sweep`),
:mod:`~laotie.sweep.runner` runs it (:func:`run_sweep`), :mod:`~laotie.sweep.store` keeps the
folder of runs, and :mod:`~laotie.sweep.result` reads it back (:func:`collect`,
:class:`SweepResult`).

Examples
--------
>>> from laotie import Scenario
>>> sweep = Sweep(Scenario.preset("village"), {"policy.traffic": ["head", "inclusive"]},
...               replications=2, days=5, seed=1)
>>> runs = sweep.runs()
>>> runs["policy.traffic"].tolist(), runs["replication"].tolist()
(['head', 'head', 'inclusive', 'inclusive'], [0, 1, 0, 1])
"""

from __future__ import annotations

from .result import COMPARED, SweepResult, collect, failures
from .runner import run_sweep
from .spec import Sweep, load_sweep

__all__ = [
    "COMPARED",
    "Sweep",
    "SweepResult",
    "collect",
    "failures",
    "load_sweep",
    "run_sweep",
]
