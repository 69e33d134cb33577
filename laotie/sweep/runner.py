"""Running a sweep: every run not yet stored, on any executor, each run's record stored as it
finishes (:func:`run_sweep`)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._io import plain
from .._random import run_seeds
from ..errors import ScenarioError
from ..executors import Executor, Lost, executor_for
from ..graph import TrustGraph
from ..moments import MOMENTS
from ..results import Result
from ..runs import replicate
from ..scenario import Scenario, check_graph_fits, scenario_graph
from ..sections import GraphSource
from .result import SweepResult, collect
from .spec import Sweep
from .store import claim, clear_partial, done_runs, spec_key, store_record

__all__ = ["run_sweep"]

MOMENTS_BY_ID = {m.id: m for m in MOMENTS}

_GRAPHS: dict[tuple[str, str, tuple[int, ...]], TrustGraph] = {}
"""The last graph this process built or read, so that runs sharing a graph make it once."""


def _graph_for(scenario: Scenario, seed: np.random.SeedSequence) -> TrustGraph:
    """The graph of a run with ``seed`` (the one :func:`laotie.runs.replicate` makes: the
    city built from the run's graph seed, or the scenario's graph file, the same for every
    run)."""
    graph_seed, _ = run_seeds(seed, 1)
    key: tuple[str, str, tuple[int, ...]]
    if scenario.graph.file:
        key = (repr(scenario.city), repr(scenario.graph), ())
    else:
        key = (repr(scenario.city), repr(graph_seed.entropy), tuple(graph_seed.spawn_key))
    if key not in _GRAPHS:
        _GRAPHS.clear()  # one city at a time: a whole city takes over a gigabyte
        _GRAPHS[key] = scenario_graph(scenario, graph_seed)
    elif scenario.graph.file:  # read for another point: check it fits this one's scenario
        check_graph_fits(scenario, _GRAPHS[key])
    return _GRAPHS[key]


def _run_one(task: tuple[Sweep, int, dict[str, Any]]) -> dict[str, Any]:
    """Simulate one run; return its record (never raises: errors are recorded)."""
    sweep, run, point = task
    record: dict[str, Any] = {"run": run, "parameters": point}
    start = time.perf_counter()
    try:
        scenario = sweep.base.replace(**point)
        seed = sweep.run_seed(run)
        graph = _graph_for(scenario, seed)
        (result,) = replicate(scenario, 1, days=sweep.days, seed=seed, graph=graph)
        record.update(
            status="ok",
            outcomes=result.outcomes,
            summary=result.summary.reset_index().to_dict(orient="list"),
        )
        if sweep.moments:
            record["moments"], record["moment_errors"] = _moments(sweep.moments, result, graph)
        record["seconds"] = time.perf_counter() - start
        record["_daily"] = result.daily
        record["_tables"] = {
            "messages": result.messages.reset_index(),
            "information": result.information,
            "information_regions": result.information_regions,
            "monthly": result.monthly,
            "producers": result.producers,
            "regions": result.regions,
        }
        record["_arrays"] = {
            "creator_income": result.creator_income,
            "producer_income": result.producer_income,
            "producer_orders": result.producer_orders,
            "producer_buyers": result.producer_buyers,
            "seller_gmv": result.seller_gmv,
        }
    except Exception as err:  # a failing run is recorded and the sweep goes on
        record.update(
            status="error",
            error=f"{type(err).__name__}: {err}",
            traceback=traceback.format_exc(),
        )
    return record


Task = tuple[Sweep, int, dict[str, Any]]


def _run_bundle(tasks: list[Task]) -> list[dict[str, Any]]:
    """Simulate runs that share a graph one after the other (it is built once, here); return
    their records (never raises: errors are recorded)."""
    return [_run_one(task) for task in tasks]


BUNDLE_RUNS = 4
"""The most runs a bundle holds: a bundle's records are stored when it ends, so an
interruption costs at most this many finished runs a worker (besides the runs in flight)."""


def _bundles(tasks: list[Task], key: Callable[[Task], Any], slots: int | None) -> list[list[Task]]:
    """``tasks`` (sorted by ``key``, the graph a run needs) as the bundles to hand out to
    ``slots`` workers: the runs of each graph together, in bundles of at most
    :data:`BUNDLE_RUNS` (a graph's runs cut as evenly as that allows), so that a worker
    builds a graph once for several of its runs rather than every worker that happens to
    take one of them (side by side, two workers take the two runs of a graph); when the
    bundles fill the workers as evenly as single runs do (the rounds of bundles, times the
    longest bundle, are no more than the rounds of runs); else one run each. One run each,
    too, on one worker (in the process, the last graph is kept already) or when the number
    of workers is unknown."""
    singles = [[task] for task in tasks]
    if slots is None or slots < 2:
        return singles
    bundles = []
    for _, group in itertools.groupby(tasks, key):
        runs = list(group)
        cuts = -(-len(runs) // BUNDLE_RUNS)
        bundles += [runs[len(runs) * c // cuts : len(runs) * (c + 1) // cuts] for c in range(cuts)]
    longest = max((len(bundle) for bundle in bundles), default=1)
    if longest == 1 or -(-len(bundles) // slots) * longest > -(-len(tasks) // slots):
        return singles
    return bundles


def _moments(
    ids: tuple[str, ...], result: Result, graph: TrustGraph
) -> tuple[dict[str, float], dict[str, str]]:
    """The run's values of the moments ``ids`` (NaN where a moment cannot be measured, e.g.
    a Bass fit that does not converge, with the reason)."""
    values, errors = {}, {}
    for ident in ids:
        try:
            values[ident] = float(MOMENTS_BY_ID[ident](result, graph))
        except Exception as err:  # recorded; the calibration treats the value as missing
            values[ident] = math.nan
            errors[ident] = f"{type(err).__name__}: {err}"
    return values, errors


def _check_graph_files(sweep: Sweep) -> None:
    """Read every graph file the sweep's runs would read, once each, before any run: a
    missing or changed file, or one its mapping cannot read, is the sweep's error, not every
    run's. The last graph read stays in this process's cache for the runs here."""
    sources: dict[GraphSource, list[Scenario]] = {sweep.base.graph: [sweep.base]}
    points = sweep.points()
    if sweep.base.graph.file or any("graph.from" in point for point in points):
        for point in points:
            scenario = sweep.base.replace(**point)
            sources.setdefault(scenario.graph, []).append(scenario)
    try:
        for source, scenarios in sources.items():
            if source.file:
                for scenario in scenarios:  # the first reads, the others check it fits
                    _graph_for(scenario, np.random.SeedSequence(sweep.seed))
    except BaseException:
        _GRAPHS.clear()
        raise


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    client: Any = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> SweepResult:
    """Run every run of ``sweep`` not yet done under ``out``; return all the runs' results.

    The results do not depend on the executor or the number of workers. Runs already stored
    under ``out`` are not run again; a run that raises is recorded with its error and the
    sweep goes on (see :func:`~laotie.sweep.failures`).

    Parameters
    ----------
    sweep : Sweep
        What to run.
    out : str or path
        Where each run's files go as it finishes (``out/runs/``); created if missing.
    workers : int, default 1
        Local worker processes (1: in this process).
    scheduler : str, optional
        Run on a Dask cluster instead, at this scheduler address (``tcp://host:port``;
        needs ``pip install 'laotie[distributed]'``).
    client : dask.distributed.Client, optional
        Run on this Dask client instead.
    executor : Executor, optional
        Any :class:`laotie.executors.Executor` (overrides the three above).
    progress : bool, default False
        Show a progress bar across runs, with the time left.

    Returns
    -------
    SweepResult
        Every run of the sweep, those run now and those found under ``out``.

    Raises
    ------
    LaotieError
        When ``out`` holds the runs of another sweep, or of this sweep made by other code.

    Examples
    --------
    >>> import tempfile
    >>> from laotie import Scenario
    >>> sweep = Sweep(Scenario.preset("village"), {"policy.traffic": ["head", "inclusive"]},
    ...               replications=2, days=3, seed=1)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     result = run_sweep(sweep, folder)
    >>> result.runs["status"].tolist()
    ['ok', 'ok', 'ok', 'ok']
    """
    if not isinstance(sweep, Sweep):
        raise ScenarioError(
            f"sweep = {sweep!r} is not a Sweep (laotie.sweep.load_sweep reads a spec file)"
        )
    if not isinstance(out, str | os.PathLike):
        raise ScenarioError(f"out = {out!r} is not allowed; expected a folder's path")
    out = Path(out)
    _check_graph_files(sweep)
    if executor is None:
        executor = executor_for(workers, scheduler, client)
    claim(out, sweep)
    clear_partial(out)
    key = spec_key(sweep)
    table = sweep.runs()
    done = done_runs(out, key)
    points = sweep.points()  # each point's own keys (cases may set different keys)
    # A task carries its own point and what every run needs (base scenario, days, seeds), not
    # the whole design: a large Sobol design would otherwise travel with every task.
    job = dataclasses.replace(sweep, grid={}, sample={}, samples=0, cases=[])
    todo = [
        (
            job,
            int(run),
            {
                key: plain(value)
                for key, value in (sweep.draw(int(run)) | points[int(point)]).items()
            },
        )
        for run, point in zip(table["run"], table["point"], strict=True)
        if int(run) not in done
    ]
    # Runs that share a graph (same replication under common random numbers) are queued
    # together, so that in this process (and mostly in each worker) a city graph is built
    # once per replication rather than once per run.
    todo.sort(key=lambda task: (sweep.seed_key(task[1]), task[1]))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(table), initial=len(table) - len(todo), desc="runs", unit="run")

    def store(task: Task, record: dict[str, Any] | Lost) -> None:
        if isinstance(record, Lost):
            _, run, point = task
            record = {
                "run": run,
                "parameters": point,
                "status": "error",
                "error": f"lost: {record.reason} ({record.attempts} times)",
            }
        store_record(out, record | {"spec": key})
        if bar is not None:
            bar.update()

    try:
        # A bundle lost (its process died too often) is run again a run at a time, so that
        # only the run that kills its process is lost, never the others of its graph.
        lost: dict[int, int] = {}  # a lost bundle's runs: the times their process died
        by_run = {task[1]: task for task in todo}
        work = _bundles(todo, lambda task: sweep.seed_key(task[1]), executor.slots)
        for bundle, records in executor.map(_run_bundle, work):
            if isinstance(records, Lost):
                if len(bundle) > 1:
                    lost |= {task[1]: records.attempts for task in bundle}
                    continue
                records = [records]
            for task, record in zip(bundle, records, strict=True):
                store(task, record)
        if lost:
            for task, record in executor.map(_run_one, [by_run[run] for run in lost]):
                if isinstance(record, Lost):  # its deaths in its bundle count too
                    record = Lost(record.reason, record.attempts + lost[task[1]])
                store(task, record)
    finally:
        if bar is not None:
            bar.close()
        _GRAPHS.clear()  # a whole city's graph is over a gigabyte: do not keep it after
    return collect(sweep, out)
