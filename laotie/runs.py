"""Several runs of one scenario: replications with spawned seeds, and their summary.

Replication ``r`` of a run with seed ``s`` draws its market from the ``r``-th child of the
run's seed, and every replication shares the city graph built from the run's seed. So a run
with one replication equals :func:`laotie.simulate` with the same seed, and the numbers of a
replication never depend on how many replications there are.
"""

from __future__ import annotations

import numbers
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from ._memory import ENVIRONMENT, available_bytes
from ._random import SeedLike, as_seed_sequence, run_seeds
from ._version import __version__
from .engine import Engine, engine_bytes, lockstep_size
from .errors import LaotieError, ScenarioError
from .graph import TrustGraph, city
from .results import Result
from .scenario import Scenario

__all__ = ["SUMMARY_METRICS", "paired", "replicate", "simulate", "summarise", "t_interval"]

SUMMARY_METRICS = ("conversion", "order_value", "gmv", "repeat_share")
"""The per-channel metrics of the command line's table."""


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
) -> list[Result]:
    """Run ``replications`` replications of ``scenario``; return their results in order.

    The city graph is built once from the run's seed (unless ``graph`` is given) and shared;
    replication ``r`` draws its market from the ``r``-th market seed (:func:`run_seeds`).
    ``laotie.simulate`` is the one-replication case.

    Replications run in lockstep, ``lockstep`` to an engine (default:
    :func:`~laotie.engine.lockstep_size`: as many as about 1 GB of state and a million
    stacked residents allow, at most 64): the results are identical whatever ``lockstep``
    is, only faster in small cities; 1 runs one engine per replication.

    ``workers`` > 1 runs the engines in up to that many local processes, as many as the
    available memory holds (each process holds an engine and a copy of the graph, which is
    pickled with each engine's task: suited to cities whose graph is small beside an
    engine's work; at city scale one engine already uses two threads), each engine on one
    thread. The processes are
    started with ``spawn``, so a script calling this needs the ``if __name__ ==
    "__main__":`` guard. The results are identical whatever ``workers`` is.
    """
    if days is None:
        days = scenario.run.days
    if isinstance(days, bool) or not isinstance(days, numbers.Integral) or days < 0:
        raise ScenarioError(f"days = {days!r} is not allowed; expected an integer ≥ 0")
    days = int(days)
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise ScenarioError(f"workers = {workers!r} is not allowed; expected an integer ≥ 1")
    sequence = as_seed_sequence(seed)
    graph_seed, market_seeds = run_seeds(sequence, replications)
    start = time.perf_counter()
    if graph is None:
        graph = city(scenario.city, seed=graph_seed)
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
    }
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=replications * days, desc="simulating", unit="day")
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
                done[g] = _run_group((graph, scenario, seeds, g * lockstep, common), bar)
        else:
            from .executors import Lost, Processes

            tasks = [
                (graph, scenario, seeds, g * lockstep, common) for g, seeds in enumerate(groups)
            ]
            for task, results in Processes(workers).map(_run_group, tasks):
                if isinstance(results, Lost):
                    raise LaotieError(
                        f"replications {task[3]} .. {task[3] + len(task[2]) - 1} were lost: "
                        f"{results.reason} {results.attempts} time(s) (out of memory?); use "
                        "fewer workers"
                    )
                done[task[3] // lockstep] = results
                if bar is not None:
                    bar.update(len(task[2]) * days)
    finally:
        if bar is not None:
            bar.close()
    return [result for g in range(len(groups)) for result in done[g]]


def _run_group(
    task: tuple[TrustGraph, Scenario, list[np.random.SeedSequence], int, dict[str, Any]],
    bar: Any = None,
) -> list[Result]:
    """Replications ``first ..`` of one lockstep engine (the task of a worker process)."""
    graph, scenario, seeds, first, common = task
    start = time.perf_counter()
    engine = Engine(graph, scenario, seed=seeds, threads=common.get("threads"))
    set_up = time.perf_counter()
    for _ in range(common["days"]):
        engine.step()
        if bar is not None:
            bar.update(len(seeds))
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
        }
        results.append(Result.from_engine(engine.replication(r), info))
    return results


def summarise(results: list[Result], level: float = 0.95) -> pd.DataFrame:
    """Per-channel means of :data:`SUMMARY_METRICS` over replications, with t intervals.

    Columns: ``<metric>`` (the mean over replications) and, with two or more replications,
    ``<metric>_low`` and ``<metric>_high`` (the ``level`` confidence interval of the mean).
    """
    frames = [r.summary[list(SUMMARY_METRICS)] for r in results]
    stacked = np.stack([f.to_numpy(dtype=float) for f in frames])
    # A ratio is undefined (NaN) in a replication without its denominator; each cell is
    # summarised over the replications where it is defined.
    count = (~np.isnan(stacked)).sum(axis=0)
    total = np.nansum(stacked, axis=0)
    mean = np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)
    out = pd.DataFrame(mean, index=frames[0].index, columns=list(SUMMARY_METRICS))
    if len(results) >= 2:
        deviation = np.where(np.isnan(stacked), 0.0, stacked - mean)
        var = np.divide(
            (deviation**2).sum(axis=0), count - 1, out=np.full(total.shape, np.nan), where=count > 1
        )
        t = scipy.stats.t.ppf(0.5 + level / 2, np.maximum(count - 1, 1))
        half = np.where(count > 1, t * np.sqrt(var / np.maximum(count, 1)), np.nan)
        for i, metric in enumerate(SUMMARY_METRICS):
            out[f"{metric}_low"] = mean[:, i] - half[:, i]
            out[f"{metric}_high"] = mean[:, i] + half[:, i]
    return out


def _check_level(level: float) -> None:
    if not isinstance(level, float | int) or isinstance(level, bool) or not 0 < level < 1:
        raise LaotieError(f"level = {level!r}: a confidence level between 0 and 1, e.g. 0.95")


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """The mean of ``values`` (NaN ignored) and its Student-t ``level`` confidence interval.

    >>> t_interval(np.array([1.0, 2.0, 3.0]))
    (2.0, -0.484..., 4.484...)
    """
    _check_level(level)
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(values.mean())
    if len(values) < 2:
        return (mean, np.nan, np.nan)
    half = scipy.stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1)
    half /= np.sqrt(len(values))
    return (mean, mean - float(half), mean + float(half))


def paired(
    values: pd.DataFrame, baseline: str, *, level: float = 0.95, paired: bool = True
) -> pd.DataFrame:
    """Each arm's mean and its difference from ``baseline``, with ``level`` t intervals.

    Parameters
    ----------
    values : pandas.DataFrame
        One row per replication, one column per arm (e.g. :meth:`SweepResult.values`).
    baseline : str
        The column the others are compared with.
    paired : bool
        Replication ``r`` of every arm shares its random numbers (common random numbers):
        the difference is the mean of per-replication differences, with a paired t interval.
        Otherwise the arms are independent and the interval is Welch's.

    Returns
    -------
    pandas.DataFrame
        One row per arm: ``n`` (replications used: with ``paired``, those where both the arm
        and the baseline are defined, for the mean as well as the difference), ``mean``,
        ``mean_low``, ``mean_high``,
        ``difference``, ``difference_low``, ``difference_high`` (arm minus baseline) and
        ``relative`` (the difference over the baseline's mean).

    Examples
    --------
    >>> table = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.5, 2.4, 3.6]})
    >>> paired(table, "a")[["difference", "difference_low", "difference_high"]].round(3)
       difference  difference_low  difference_high
    a       0.000             NaN              NaN
    b       0.500           0.252            0.748
    """
    if baseline not in values.columns:
        raise LaotieError(
            f"baseline {baseline!r} is not an arm; arms: {', '.join(map(str, values.columns))}"
        )
    _check_level(level)
    base = values[baseline].to_numpy(dtype=float)
    rows = []
    for arm in values.columns:
        x = values[arm].to_numpy(dtype=float)
        if arm == baseline:
            used, base_used = x[~np.isnan(x)], x[~np.isnan(x)]
            difference, d_low, d_high = 0.0, np.nan, np.nan
        elif paired:
            # Means, difference and relative change over the same replications: those where
            # both arms are defined (a ratio is NaN in a run without its denominator).
            both = ~np.isnan(x) & ~np.isnan(base)
            used, base_used = x[both], base[both]
            difference, d_low, d_high = t_interval(used - base_used, level)
        else:
            used, base_used = x[~np.isnan(x)], base[~np.isnan(base)]
            difference, d_low, d_high = _welch(used, base_used, level)
        n = len(used)
        mean, low, high = t_interval(used, level)
        base_mean = float(base_used.mean()) if len(base_used) else np.nan
        rows.append(
            {
                "arm": arm,
                "n": n,
                "mean": mean,
                "mean_low": low,
                "mean_high": high,
                "difference": difference,
                "difference_low": d_low,
                "difference_high": d_high,
                "relative": difference / base_mean if base_mean else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("arm").rename_axis(None)


def _welch(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, float]:
    """Difference of means of independent samples and its Welch interval."""
    if len(a) == 0 or len(b) == 0:
        return (np.nan, np.nan, np.nan)
    difference = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return (difference, np.nan, np.nan)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    if se == 0:
        return (difference, difference, difference)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(scipy.stats.t.ppf(0.5 + level / 2, dof) * se)
    return (difference, difference - half, difference + half)


def run_tables(results: list[Result]) -> dict[str, pd.DataFrame]:
    """The tidy tables of a run: per-day rows, per-replication outcomes, the summary."""
    daily = pd.concat(
        [r.daily.assign(replication=i) for i, r in enumerate(results)], ignore_index=True
    )
    daily.insert(0, "replication", daily.pop("replication"))
    outcomes = pd.DataFrame([r.outcomes for r in results]).rename_axis("replication")
    return {"daily": daily, "outcomes": outcomes, "summary": summarise(results)}


def write_run(
    out: Path, scenario: Scenario, results: list[Result], seed: int, figures: bool = True
) -> list[Path]:
    """Write a run's files under ``out``, each atomically; return the paths written.

    ``daily.parquet`` (``daily.csv`` when pyarrow is missing), ``summary.csv``,
    ``outcomes.csv``, ``producer_income.csv``, the resolved ``scenario.toml`` with the run's
    seed and days (so that ``laotie run out/scenario.toml`` repeats the run exactly), and
    ``figures/*.png`` of replication 0.
    """
    import json

    from ._io import atomic_write, parquet_available

    tables = run_tables(results)
    written: list[Path] = []

    def put(name: str, write: object) -> None:
        path = out / name
        atomic_write(path, write)  # type: ignore[arg-type]
        written.append(path)

    if parquet_available():
        put("daily.parquet", lambda p: tables["daily"].to_parquet(p, index=False))
    else:
        put("daily.csv", lambda p: tables["daily"].to_csv(p, index=False))
    put("summary.csv", lambda p: tables["summary"].to_csv(p))
    put("outcomes.csv", lambda p: tables["outcomes"].to_csv(p))
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
    if figures and results:
        written += write_figures(out / "figures", results[0])
    return written


def write_figures(folder: Path, result: Result) -> list[Path]:
    """One PNG per plot kind of :mod:`laotie.plot`."""
    import matplotlib.pyplot as plt

    from . import plot
    from ._io import atomic_write

    written = []
    for kind in plot.KINDS:
        if kind == "coverage" and len(result.information) == 0:
            continue
        drawn = plot.plot(result, kind)
        figure = drawn.figure if hasattr(drawn, "figure") else drawn
        path = folder / f"{kind}.png"
        atomic_write(path, lambda p, f=figure: f.savefig(p, format="png", dpi=120))
        plt.close(figure)
        written.append(path)
    return written
