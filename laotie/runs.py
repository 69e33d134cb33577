"""Runs of one scenario: :func:`simulate`, :func:`replicate` with spawned seeds, a run's files.

Replication ``r`` of a run with seed ``s`` draws its market from the ``r``-th child of the
run's seed, and every replication shares the city graph built from the run's seed. So a run
with one replication equals :func:`laotie.simulate` with the same seed, and the numbers of a
replication never depend on how many replications there are. The statistics over
replications (:func:`summarise`, :func:`t_interval`, :func:`paired`) live in
:mod:`laotie.stats`; they are importable from here too.
"""

from __future__ import annotations

import json
import numbers
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_write, parquet_available
from ._memory import ENVIRONMENT, available_bytes
from ._random import SeedLike, as_seed_sequence, run_seeds
from ._version import __version__
from .engine import Engine, engine_bytes, lockstep_size
from .errors import LaotieError, ScenarioError, user_stacklevel
from .graph import TrustGraph
from .graph.roles import missing_roles
from .results import OUTCOME_BOUNDS, Result
from .scenario import Scenario, check_graph_fits, scenario_graph
from .stats import SUMMARY_METRICS, interval_table, paired, summarise, t_interval

__all__ = [
    "MAX_REPLICATIONS",
    "SUMMARY_METRICS",
    "EmptyChannelWarning",
    "graph_record",
    "paired",
    "replicate",
    "replication_graph_seed",
    "simulate",
    "summarise",
    "t_interval",
    "warn_missing_roles",
]


class EmptyChannelWarning(UserWarning):
    """A run on a given graph has channels that cannot report numbers (a role is missing)."""


MAX_REPLICATIONS = 100_000
"""The most replications of one call (``replicate``, ``laotie run -R``): a documented sane
bound, as ``run.days`` ≤ 100,000 (a trillion replications started a run that never ends)."""


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
        A scenario whose graph is a file (``[graph] from``) runs on that file's graph,
        mapped with the section's own seed, whatever this one
        (:func:`laotie.scenario.scenario_graph`).
    graph : TrustGraph, optional
        Run on this graph instead of the scenario's (its city, or its graph file).
    progress : bool
        Show a progress bar over days.

    Returns
    -------
    Result
        Replication 0 of :func:`replicate` with the same arguments.

    Raises
    ------
    ScenarioError
        For a scenario or graph of the wrong type, a seed or a number of days that is not
        allowed (``days`` as ``run.days`` would be: within its bound, and not before a
        training or shock day), or a city or engine that would not fit in memory.

    Examples
    --------
    >>> from laotie import Scenario, simulate
    >>> result = simulate(Scenario.preset("mudanjiang", scale=0.001), days=5, seed=1)
    >>> list(result.daily.columns[:4])
    ['day', 'channel', 'exposures', 'exposed_users']
    """
    (result,) = replicate(scenario, 1, days=days, seed=seed, graph=graph, progress=progress)
    return result


def replicate(
    scenario: Scenario,
    replications: int = 1,
    *,
    days: int | None = None,
    seed: SeedLike = None,
    graph: TrustGraph | None = None,
    progress: bool = False,
    lockstep: int | None = None,
    workers: int = 1,
    vary_graph: bool = False,
) -> list[Result]:
    """Run ``replications`` replications of ``scenario``; return their results in order.

    The city graph is built once from the run's seed (unless ``graph`` is given) and shared;
    replication ``r`` draws its market from the ``r``-th market seed
    (:func:`laotie._random.run_seeds`). :func:`simulate` is the one-replication case. With
    ``vary_graph`` every replication builds its own city graph instead (replication 0 the
    shared one, replication ``r > 0`` from :func:`replication_graph_seed`), so that the
    intervals over replications include the chance in the city's ties too.

    Parameters
    ----------
    scenario : Scenario
        Every parameter of the model.
    replications : int, default 1
        Replications to run.
    days : int, optional
        Days to simulate (default: the scenario's ``run.days``).
    seed : int, SeedSequence, Generator or None
        The run's seed; the graph and every replication's market are spawned from it.
    graph : TrustGraph, optional
        Run on this graph instead of the scenario's (its city, or its graph file:
        :func:`laotie.scenario.scenario_graph`).
    progress : bool, default False
        Say on standard error what is being done (building the city graph, setting up the
        market) and show a progress bar over replication-days, started once the first
        engine is set up so that its estimate of the time left is not skewed by the set-up.
    lockstep : int, optional
        Replications run together in one engine (default:
        :func:`~laotie.engine.lockstep_size`: as many as about 1 GB of state and a million
        stacked residents allow, at most 64); 1 runs one engine per replication. The
        results are identical whatever ``lockstep`` is, only faster in small cities.
    workers : int, default 1
        Run the engines in up to this many local processes, as many as the available memory
        holds (each process holds an engine and a copy of the graph, which is pickled with
        each engine's task: suited to cities whose graph is small beside an engine's work;
        at city scale one engine already uses two threads), each engine on one thread. The
        processes are started with ``spawn``, so a script calling this needs the
        ``if __name__ == "__main__":`` guard. The results are identical whatever
        ``workers`` is.
    vary_graph : bool, default False
        Build a city graph per replication (lockstep then runs one replication per engine).

    Returns
    -------
    list of Result
        One per replication, in order; ``info`` records the replication, the seed's entropy,
        the lockstep, whether the graph varied and the time each part took and, for a graph
        that is not the scenario's city (given, or its graph file), ``graph``: its nodes,
        ties and the mapping that made it (``meta["mapping"]``), when there is one.

    Raises
    ------
    ScenarioError
        For a ``scenario`` or ``graph`` of the wrong type; ``replications``, ``days``,
        ``workers`` or ``lockstep`` that are not allowed (``days`` as ``run.days`` would be:
        within its bound, and not before a training or shock day); ``vary_graph`` with a
        ``graph`` given or a graph file; a graph file that is missing or changed; or a city
        or engine that would not fit in memory.
    LaotieError
        When a worker process is lost (out of memory?).

    Examples
    --------
    >>> from laotie import Scenario
    >>> results = replicate(Scenario.preset("village"), 3, days=5, seed=1)
    >>> [r.info["replication"] for r in results]
    [0, 1, 2]
    """
    if not isinstance(scenario, Scenario):
        hint = (
            f" (Scenario.load({str(scenario)!r}) reads one)"
            if isinstance(scenario, str | os.PathLike)
            else ""
        )
        raise ScenarioError(f"scenario = {scenario!r} is not a Scenario{hint}")
    if graph is not None and not isinstance(graph, TrustGraph):
        hint = (
            " (laotie.graph.read_graph reads a file)"
            if isinstance(graph, str | os.PathLike)
            else ""
        )
        raise ScenarioError(f"graph = {graph!r} is not a TrustGraph{hint}")
    if (
        isinstance(replications, bool)
        or not isinstance(replications, numbers.Integral)
        or not 0 <= replications <= MAX_REPLICATIONS
    ):
        raise ScenarioError(
            f"replications = {replications!r} is not allowed; expected an integer, "
            f"0 ≤ value ≤ {MAX_REPLICATIONS:,}"
        )
    replications = int(replications)
    if days is None:
        days = scenario.run.days
    if isinstance(days, bool) or not isinstance(days, numbers.Integral) or days < 0:
        raise ScenarioError(f"days = {days!r} is not allowed; expected an integer ≥ 0")
    days = int(days)
    if days != scenario.run.days:
        # Every check of the days (their bound; a training or a shock after the last day),
        # before any work: the scenario as it will run.
        try:
            scenario.replace(**{"run.days": days})
        except ScenarioError as err:
            raise ScenarioError(f"days = {days}: {err}") from None
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise ScenarioError(f"workers = {workers!r} is not allowed; expected an integer ≥ 1")
    if vary_graph and graph is not None:
        raise ScenarioError("vary_graph builds a graph per replication: do not also give graph=")
    if vary_graph and scenario.graph.file:
        raise ScenarioError(
            f"vary_graph builds a city graph per replication, but scenario {scenario.name!r} "
            f"runs on the graph of {scenario.graph.file} ([graph] from), the same in every "
            "replication"
        )
    sequence = as_seed_sequence(seed)
    graph_seed, market_seeds = run_seeds(sequence, replications)
    shown = _Progress(replications * days) if progress else None
    start = time.perf_counter()
    if vary_graph:
        if lockstep is not None and lockstep != 1:
            raise ScenarioError(
                f"lockstep = {lockstep!r} is not allowed with vary_graph: each replication has "
                f"its own graph, so its own engine (give 1 or leave it out)"
            )
        return _replicate_graphs(scenario, graph_seed, market_seeds, days, sequence, shown, workers)
    if graph is None and not scenario.graph.file:
        if shown is not None:
            shown.stage(f"Building the city graph ({scenario.city.n_residents:,} residents)")
        graph = scenario_graph(scenario, graph_seed)
        brought = None
    else:
        if graph is None:
            brought = f"the graph of {scenario.graph.file}"
            if shown is not None:
                shown.stage(f"Reading {brought}")
            graph = scenario_graph(scenario, progress=progress)
        else:
            brought = "the graph given to the run"
        warn_missing_roles(graph, brought)
        if brought == "the graph given to the run":
            check_graph_fits(scenario, graph, brought)
    graph_seconds = time.perf_counter() - start
    if lockstep is None:
        lockstep = lockstep_size(graph, scenario, replications)
    if isinstance(lockstep, bool) or not isinstance(lockstep, numbers.Integral) or lockstep < 1:
        raise ScenarioError(f"lockstep = {lockstep!r} is not allowed; expected an integer ≥ 1")
    groups = [market_seeds[first : first + lockstep] for first in range(0, replications, lockstep)]
    common = {
        "days": days,
        "graph_seconds": graph_seconds,
        "laotie_version": __version__,
        "seed_entropy": sequence.entropy,
        "vary_graph": False,
    }
    if brought is not None:
        common["graph"] = graph_record(graph)
    done: dict[int, list[Result]] = {}
    workers = max(1, min(int(workers), len(groups)))
    if workers > 1 and os.environ.get(ENVIRONMENT, "1").strip() != "0":
        # Each process holds an engine and the graph: no more processes than fit together.
        available = available_bytes()
        each = engine_bytes(graph, scenario, lockstep) + graph.nbytes
        if available is not None:
            workers = max(1, min(workers, available // each))
    # Several processes share the cores: each engine then keeps to one thread.
    common["threads"] = 1 if workers > 1 else None
    try:
        if workers == 1:
            for g, seeds in enumerate(groups):
                done[g] = _run_group((graph, scenario, seeds, g * lockstep, common), shown)
        else:
            from .executors import Lost, Processes

            tasks = [
                (graph, scenario, seeds, g * lockstep, common) for g, seeds in enumerate(groups)
            ]
            if shown is not None:
                # Each process sets up its engines: the bar moves as engines finish.
                shown.stage(f"Setting up the market in {workers} processes")
                shown.simulating()
            for task, results in Processes(workers).map(_run_group, tasks):
                if isinstance(results, Lost):
                    raise LaotieError(
                        f"replications {task[3]} .. {task[3] + len(task[2]) - 1} were lost: "
                        f"{results.reason} {results.attempts} time(s) (out of memory?); use "
                        "fewer workers"
                    )
                done[task[3] // lockstep] = results
                if shown is not None:
                    shown.update(len(task[2]) * days)
    finally:
        if shown is not None:
            shown.close()
    return [result for g in range(len(groups)) for result in done[g]]


def warn_missing_roles(graph: TrustGraph, what: str) -> None:
    """Refuse a graph without nodes, and warn of each role it lacks that a channel needs.

    A graph the user brings (a graph file, or one given) may lack what the scenario's city
    would have had; the warning names the role and the channels left empty
    (:func:`laotie.graph.roles.missing_roles`). Nothing in the run changes.

    Parameters
    ----------
    graph : TrustGraph
    what : str
        The graph, named first in the messages (``"the graph given to the run"``).

    Raises
    ------
    ScenarioError
        For a graph without nodes.

    Warns
    -----
    EmptyChannelWarning
        One per missing role.
    """
    if graph.n_nodes == 0:
        raise ScenarioError(f"{what} has no nodes")
    for gap in missing_roles(graph):
        warnings.warn(f"{what} has {gap}", EmptyChannelWarning, stacklevel=user_stacklevel())


def graph_record(graph: TrustGraph) -> dict[str, Any]:
    """What a run's ``info["graph"]`` says of a graph that is not the scenario's built city.

    Parameters
    ----------
    graph : TrustGraph

    Returns
    -------
    dict
        ``nodes``, ``ties`` (directed edges) and, for a mapped graph, ``mapping``: what was
        mapped and assigned (``graph.meta["mapping"]``, as
        :func:`laotie.graph.roles.describe_mapping` prints it).
    """
    record: dict[str, Any] = {"nodes": graph.n_nodes, "ties": graph.n_edges}
    if graph.meta.get("mapping"):
        record["mapping"] = graph.meta["mapping"]
    return record


def replication_graph_seed(
    graph_seed: np.random.SeedSequence, replication: int
) -> np.random.SeedSequence:
    """The seed of replication ``replication``'s city graph when graphs vary.

    Parameters
    ----------
    graph_seed : numpy.random.SeedSequence
        The run's graph seed (:func:`laotie._random.run_seeds`).
    replication : int

    Returns
    -------
    numpy.random.SeedSequence
        ``graph_seed`` itself for replication 0 (so that one replication equals
        :func:`simulate`), else ``SeedSequence(entropy, spawn_key=graph_seed.spawn_key +
        (replication,))``: keyed by the replication, whatever the number of replications.
    """
    if replication == 0:
        return graph_seed
    return np.random.SeedSequence(
        graph_seed.entropy, spawn_key=(*graph_seed.spawn_key, replication)
    )


def _replicate_graphs(
    scenario: Scenario,
    graph_seed: np.random.SeedSequence,
    market_seeds: list[np.random.SeedSequence],
    days: int,
    sequence: np.random.SeedSequence,
    shown: _Progress | None,
    workers: int,
) -> list[Result]:
    """:func:`replicate` with a city graph per replication, each built where it runs."""
    common = {
        "days": days,
        "laotie_version": __version__,
        "seed_entropy": sequence.entropy,
        "vary_graph": True,
    }
    tasks = [
        (replication_graph_seed(graph_seed, r), scenario, [seed], r, common)
        for r, seed in enumerate(market_seeds)
    ]
    done: dict[int, list[Result]] = {}
    workers = max(1, min(int(workers), len(tasks)))
    if workers > 1 and os.environ.get(ENVIRONMENT, "1").strip() != "0":
        # Each process builds its own city and engine: no more processes than fit together.
        available = available_bytes()
        if available is not None:
            workers = max(1, min(workers, available // max(1, scenario.city.memory_estimate())))
    try:
        if workers == 1:
            for task in tasks:
                if shown is not None:
                    shown.stage(
                        f"Building city graph {task[3] + 1} of {len(tasks)} "
                        f"({scenario.city.n_residents:,} residents)"
                    )
                done[task[3]] = _run_group(task, shown)
        else:
            from .executors import Lost, Processes

            common["threads"] = 1
            if shown is not None:
                shown.stage(f"Building a city graph per replication in {workers} processes")
                shown.simulating()
            for task, results in Processes(workers).map(_run_group, tasks):
                if isinstance(results, Lost):
                    raise LaotieError(
                        f"replication {task[3]} was lost: {results.reason} {results.attempts} "
                        f"time(s) (out of memory?); use fewer workers"
                    )
                done[task[3]] = results
                if shown is not None:
                    shown.update(days)
    finally:
        if shown is not None:
            shown.close()
    return [result for r in range(len(tasks)) for result in done[r]]


class _Progress:
    """What :func:`replicate` shows with ``progress``: a line on standard error per stage
    before the days start, then a bar over replication-days whose clock starts when the
    first engine is set up; a later engine's set-up is named on the bar while it lasts."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None

    def stage(self, text: str) -> None:
        if self.bar is None:
            print(f"{text}…", file=sys.stderr, flush=True)
        else:
            self.bar.set_description(text[0].lower() + text[1:])

    def simulating(self) -> None:
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc="simulating", unit="day")
        else:
            self.bar.set_description("simulating")

    def update(self, n: int) -> None:
        self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_group(
    task: tuple[
        TrustGraph | np.random.SeedSequence,
        Scenario,
        list[np.random.SeedSequence],
        int,
        dict[str, Any],
    ],
    shown: _Progress | None = None,
) -> list[Result]:
    """Replications ``first ..`` of one lockstep engine (the task of a worker process), on
    the graph given or on one built here from the seed given."""
    graph, scenario, seeds, first, common = task
    if isinstance(graph, np.random.SeedSequence):
        built = time.perf_counter()
        graph = scenario_graph(scenario, graph)
        common = common | {"graph_seconds": time.perf_counter() - built}
    if shown is not None:
        shown.stage("Setting up the market")
    start = time.perf_counter()
    # A list of seeds makes a lockstep engine, one replication per seed.
    engine = Engine(graph, scenario, seed=seeds, threads=common.get("threads"))
    set_up = time.perf_counter()
    if shown is not None:
        shown.simulating()
    engine.run(common["days"], each_day=None if shown is None else lambda: shown.update(len(seeds)))
    engine.close()
    end = time.perf_counter()
    results = []
    for r in range(len(seeds)):
        info = {
            "days": common["days"],
            "replication": first + r,
            "graph_seconds": common["graph_seconds"],
            # The engine's set-up and days, shared equally by the replications it ran in
            # lockstep.
            "setup_seconds": (set_up - start) / len(seeds),
            "simulation_seconds": (end - set_up) / len(seeds),
            "lockstep": len(seeds),
            "laotie_version": common["laotie_version"],
            "seed_entropy": common["seed_entropy"],
            "vary_graph": common["vary_graph"],
        }
        if "graph" in common:
            info["graph"] = common["graph"]
        results.append(Result.from_engine(engine.replication(r), info))
    return results


def run_tables(results: list[Result]) -> dict[str, pd.DataFrame]:
    """The tidy tables of a run: per-day rows, the outcomes over replications (each one's
    mean, 95 % interval and replications used: :func:`laotie.stats.interval_table`), the
    per-replication outcomes, the summary, and the per-month, per-producer and per-unit
    rows (``Result.monthly``, ``producers`` and ``regions`` with a ``replication``
    column)."""
    by_replication = pd.DataFrame([r.outcomes for r in results]).rename_axis("replication")
    return {
        "daily": _stacked([r.daily for r in results]),
        "outcomes": interval_table(by_replication, bounds=OUTCOME_BOUNDS).rename_axis("outcome"),
        "outcomes_by_replication": by_replication,
        "summary": summarise(results),
        **{
            name: _stacked([getattr(r, name) for r in results])
            for name in ("monthly", "producers", "regions")
        },
    }


def _stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The replications' frames one after the other, with a ``replication`` column first."""
    stacked = pd.concat([f.assign(replication=i) for i, f in enumerate(frames)], ignore_index=True)
    stacked.insert(0, "replication", stacked.pop("replication"))
    return stacked


def write_run(out: Path, scenario: Scenario, results: list[Result], seed: int) -> list[Path]:
    """Write a run's tables under ``out``, each atomically; return the paths written.

    ``daily.parquet`` (``daily.csv`` when pyarrow is missing), ``summary.csv`` (per
    channel: the means over replications and, with two or more, their 95 % intervals),
    ``outcomes.csv`` (per outcome: ``mean``, ``low`` and ``high``, its 95 % interval, empty
    with one replication, and ``n_replications``, those where it is defined),
    ``outcomes_by_replication.csv`` (one row per replication, one column per outcome),
    ``monthly.csv`` (complete months: DAU, MAU, buyers),
    ``producers.csv`` (each producer's accounts), ``regions.csv`` (per county-level unit),
    ``producer_income.csv``, ``information.csv`` and
    ``information_regions.csv`` (with government messages), the resolved ``scenario.toml``
    with the run's seed and days (so that ``laotie run out/scenario.toml`` repeats the run
    exactly), ``seed.json`` and, for a run on a graph that is not the scenario's built city
    (a graph file, or one given), ``graph.json``: its nodes, ties and what its mapping
    assigned (:func:`graph_record`). The figures are drawn by
    :func:`laotie.plot.write_figures`.
    """
    tables = run_tables(results)
    written: list[Path] = []

    def put(name: str, write: Callable[[Path], object]) -> None:
        path = out / name
        atomic_write(path, write)
        written.append(path)

    if parquet_available():
        put("daily.parquet", lambda p: tables["daily"].to_parquet(p, index=False))
    else:
        put("daily.csv", lambda p: tables["daily"].to_csv(p, index=False))
    put("summary.csv", lambda p: tables["summary"].to_csv(p))
    put("outcomes.csv", lambda p: tables["outcomes"].to_csv(p))
    put("outcomes_by_replication.csv", lambda p: tables["outcomes_by_replication"].to_csv(p))
    put("monthly.csv", lambda p: tables["monthly"].to_csv(p, index=False))
    put("producers.csv", lambda p: tables["producers"].to_csv(p, index=False))
    put("regions.csv", lambda p: tables["regions"].to_csv(p, index=False))
    income = pd.DataFrame(
        {f"replication_{i}": r.producer_income for i, r in enumerate(results)}
    ).rename_axis("producer")
    put("producer_income.csv", lambda p: income.to_csv(p))
    if scenario.information.n_messages:
        information = pd.concat(
            [r.information.assign(replication=i) for i, r in enumerate(results)],
            ignore_index=True,
        )
        put("information.csv", lambda p: information.to_csv(p, index=False))
        regions = pd.concat(
            [r.information_regions.assign(replication=i) for i, r in enumerate(results)],
            ignore_index=True,
        )
        put("information_regions.csv", lambda p: regions.to_csv(p, index=False))
    days = results[0].info.get("days", scenario.run.days) if results else scenario.run.days
    resolved = scenario.replace(**{"run.seed": seed, "run.days": days})
    put("scenario.toml", lambda p: p.write_text(resolved.to_toml(), encoding="utf-8"))
    seeds = {
        "seed": seed,
        "replications": len(results),
        "replication_seeds": [r.seed for r in results],
    }
    put("seed.json", lambda p: p.write_text(json.dumps(seeds, indent=2), encoding="utf-8"))
    if results and "graph" in results[0].info:
        record = json.dumps(results[0].info["graph"], indent=2)
        put("graph.json", lambda p: p.write_text(record, encoding="utf-8"))
    return written
