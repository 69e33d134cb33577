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

Examples
--------
>>> sweep = Sweep(Scenario.preset("village"), {"policy.traffic": ["head", "inclusive"]},
...               replications=2, days=5, seed=1)
>>> runs = sweep.runs()
>>> runs["policy.traffic"].tolist(), runs["replication"].tolist()
(['head', 'head', 'inclusive', 'inclusive'], [0, 1, 0, 1])
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import numbers
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from ._io import atomic_write, json_default, parquet_available, plain
from ._version import __version__
from .errors import LaotieError, ScenarioError
from .executors import Executor, Lost, executor_for
from .metrics import ROWS
from .params import did_you_mean
from .results import OUTCOME_COLUMNS, SUMMARY_COLUMNS
from .scenario import Scenario, as_points, read_spec, sample_range, spec_scenario

__all__ = ["Sweep", "SweepResult", "collect", "failures", "load_sweep", "run_sweep"]


@dataclass(frozen=True)
class Sweep:
    """Runs of a scenario: every grid combination × every sampled point × every case.

    Parameters
    ----------
    base : Scenario
        The scenario every run starts from.
    grid : dict of str to list
        Dotted keys and the values each takes; all combinations are run.
    replications : int
        Runs per point, each with its own seed.
    days : int, optional
        Days per run (default: the scenario's ``run.days``).
    seed : int
        The sweep's seed; every run's seed is spawned from it.
    sample : dict of str to [low, high] or None
        Numeric keys sampled within ``[low, high]`` (``None``: the declared bounds).
    samples : int
        How many points to sample.
    method : {"lhs", "sobol", "random"}
        Latin hypercube, scrambled Sobol or plain random points.
    cases : list of dict
        Explicit points (dotted key to value), e.g. a sensitivity analysis's sample.
    common_random_numbers : bool
        Replication ``r`` of every point shares its seed (see the module's docstring).
    """

    base: Scenario
    grid: Mapping[str, list[Any]] = field(default_factory=dict)
    replications: int = 1
    days: int | None = None
    seed: int = 0
    sample: Mapping[str, list[float] | None] = field(default_factory=dict)
    samples: int = 0
    method: str = "lhs"
    cases: list[dict[str, Any]] = field(default_factory=list)
    common_random_numbers: bool = True

    def __post_init__(self) -> None:
        if (
            isinstance(self.replications, bool)
            or not isinstance(self.replications, int)
            or (self.replications < 1)
        ):
            raise ScenarioError(f"sweep: replications = {self.replications!r}; expected ≥ 1")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ScenarioError(f"sweep: seed = {self.seed!r}; expected an integer ≥ 0")
        if not isinstance(self.common_random_numbers, bool):
            raise ScenarioError(
                f"sweep: common_random_numbers = {self.common_random_numbers!r}; "
                f"expected true or false"
            )
        if isinstance(self.samples, bool) or not isinstance(self.samples, int) or self.samples < 0:
            raise ScenarioError(f"sweep: samples = {self.samples!r}; expected an integer ≥ 0")
        if self.days is not None and (
            isinstance(self.days, bool) or not isinstance(self.days, int) or self.days < 0
        ):
            raise ScenarioError(f"sweep: days = {self.days!r}; expected an integer ≥ 0")
        if not isinstance(self.sample, Mapping):
            raise ScenarioError("sweep: sample must be a table of dotted keys and [low, high]")
        if self.sample and self.samples < 1:
            raise ScenarioError("sweep: sampled keys need samples ≥ 1")
        if self.samples and not self.sample:
            raise ScenarioError(
                f"sweep: samples = {self.samples} but no key to sample; add a [sample] table "
                f"of dotted keys and [low, high] (or [] for the declared bounds)"
            )
        for point in self.sampled() if self.sample else []:
            self.base.replace(**point)
        for key, values in self.grid.items():
            if not isinstance(values, list) or not values:
                raise ScenarioError(f"sweep: grid {key!r} must be a non-empty list of values")
            for value in values:
                self.base.replace(**{key: value})  # validates key and value now, not mid-sweep
        if not isinstance(self.cases, list):
            raise ScenarioError("sweep: cases must be a list of tables (dotted key = value)")
        for i, case in enumerate(self.cases):
            if not isinstance(case, dict):
                raise ScenarioError(f"sweep: cases[{i}] must be a table, got {case!r}")
            try:
                self.base.replace(**case)
            except ScenarioError as err:
                raise ScenarioError(f"sweep: cases[{i}]: {err}") from None

    def bounds(self) -> dict[str, tuple[float, float]]:
        """The range of every sampled key: given, or the declared bounds of the parameter."""
        return {
            key: sample_range(
                self.base, key, given, where="sweep", hint="put it in the grid instead"
            )
            for key, given in self.sample.items()
        }

    def sampled(self) -> list[dict[str, Any]]:
        """``samples`` points over the sampled keys (Latin hypercube, Sobol or random)."""
        if not self.sample:
            return [{}]
        bounds = self.bounds()
        keys = list(bounds)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(2**31,)))
        if self.method == "lhs":
            unit = qmc.LatinHypercube(d=len(keys), seed=rng).random(self.samples)
        elif self.method == "sobol":
            unit = qmc.Sobol(d=len(keys), scramble=True, seed=rng).random(self.samples)
        elif self.method == "random":
            unit = rng.random((self.samples, len(keys)))
        else:
            raise ScenarioError(
                f"sweep: method = {self.method!r}; expected 'lhs', 'sobol' or 'random'"
            )
        low = np.array([bounds[k][0] for k in keys])
        high = np.array([bounds[k][1] for k in keys])
        return as_points(keys, low + unit * (high - low))

    def points(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values, sampled points and cases, in order."""
        keys = list(self.grid)
        grid = [dict(zip(keys, v, strict=True)) for v in itertools.product(*self.grid.values())]
        cases = self.cases or [{}]
        return [{**g, **p, **c} for g in grid for p in self.sampled() for c in cases]

    def runs(self) -> pd.DataFrame:
        """One row per run: ``run``, ``point``, the parameters, ``replication``."""
        rows = []
        for index, point in enumerate(self.points()):
            for replication in range(self.replications):
                rows.append({"run": len(rows), "point": index, **point, "replication": replication})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Everything that decides the sweep's numbers, as plain values."""
        return {
            "base": self.base.to_dict(),
            "grid": {key: [plain(v) for v in values] for key, values in self.grid.items()},
            "replications": self.replications,
            "days": self.days,
            "seed": self.seed,
            "sample": {key: plain(v) for key, v in self.sample.items()},
            "samples": self.samples,
            "method": self.method,
            "cases": [{key: plain(v) for key, v in case.items()} for case in self.cases],
            "common_random_numbers": self.common_random_numbers,
        }

    def seed_key(self, run: int) -> int:
        """The spawn key of run ``run``'s seed: its replication, or its index without CRN."""
        return run % self.replications if self.common_random_numbers else run

    def run_seed(self, run: int) -> np.random.SeedSequence:
        """The seed of run ``run``, keyed by :meth:`seed_key`, never by the order of execution."""
        return np.random.SeedSequence(self.seed, spawn_key=(self.seed_key(run),))


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep spec (TOML).

    Keys: ``scenario`` (a shipped name or a ``.toml`` file relative to the spec), ``days``,
    ``seed``, ``replications``, ``common_random_numbers``, a ``[grid]`` table of dotted keys
    and value lists, a ``[sample]`` table of dotted keys and ``[low, high]`` (or ``[]`` for the
    declared bounds) with ``samples`` and ``method``, and ``[[cases]]`` tables.
    """
    path = Path(path)
    allowed = {
        "scenario",
        "days",
        "seed",
        "replications",
        "grid",
        "sample",
        "samples",
        "method",
        "cases",
        "common_random_numbers",
    }
    data = read_spec(path, "sweep", allowed, ("scenario",))
    base = spec_scenario(path, data["scenario"])
    try:
        return Sweep(
            base,
            dict(data.get("grid", {})),
            replications=data.get("replications", 1),
            days=data.get("days"),
            seed=data.get("seed", 0),
            sample={k: (v or None) for k, v in dict(data.get("sample", {})).items()},
            samples=data.get("samples", 0),
            method=data.get("method", "lhs"),
            cases=data.get("cases", []),
            common_random_numbers=data.get("common_random_numbers", True),
        )
    except ScenarioError as err:
        raise ScenarioError(f"{path}: {err}") from None


COMPARED: tuple[tuple[str, str | None], ...] = (
    ("gmv", "all"),
    ("conversion", "all"),
    ("conversion", "trust"),
    ("conversion", "traffic"),
    ("order_value", "trust"),
    ("order_value", "traffic"),
    ("producer_income_total", None),
    ("creator_income_gini", None),
    ("non_head_traffic_share", None),
)
"""The metrics of :meth:`SweepResult.comparisons` (and ``comparison.csv``) by default."""

_GRAPHS: dict[tuple[str, tuple[int, ...]], Any] = {}
"""The last city graph this process built, so that runs sharing a graph build it once."""


def _graph_for(scenario: Scenario, seed: np.random.SeedSequence) -> Any:
    from ._random import run_seeds
    from .graph import city

    graph_seed, _ = run_seeds(seed, 1)
    key = (repr(scenario.city), (graph_seed.entropy, *graph_seed.spawn_key))
    if key not in _GRAPHS:
        _GRAPHS.clear()  # one city at a time: a whole city takes over a gigabyte
        _GRAPHS[key] = city(scenario.city, seed=graph_seed)
    return _GRAPHS[key]


def _run_one(task: tuple[Sweep, int, dict[str, Any]]) -> dict[str, Any]:
    """Simulate one run; return its record (never raises: errors are recorded)."""
    from .runs import replicate

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
            seconds=time.perf_counter() - start,
        )
        record["_daily"] = result.daily
        record["_tables"] = {
            "messages": result.messages.reset_index(),
            "information": result.information,
            "information_regions": result.information_regions,
        }
        record["_arrays"] = {
            "creator_income": result.creator_income,
            "producer_income": result.producer_income,
            "producer_orders": result.producer_orders,
            "producer_buyers": result.producer_buyers,
        }
    except Exception as err:  # a failing run is recorded and the sweep goes on
        record.update(
            status="error",
            error=f"{type(err).__name__}: {err}",
            traceback=traceback.format_exc(),
        )
    return record


def _record_path(out: Path, run: int) -> Path:
    return out / "runs" / f"run_{run:06d}.json"


def _table_path(out: Path, run: int, name: str) -> Path:
    suffix = ".parquet" if parquet_available() else ".csv"
    return out / "runs" / f"run_{run:06d}_{name}{suffix}"


def _write_table(path: Path, frame: pd.DataFrame) -> None:
    if path.suffix == ".parquet":
        atomic_write(path, lambda p: frame.to_parquet(p, index=False))
    else:
        atomic_write(path, lambda p: frame.to_csv(p, index=False))


def _read_table(out: Path, run: int, name: str) -> pd.DataFrame | None:
    for suffix in (".parquet", ".csv"):
        path = out / "runs" / f"run_{run:06d}_{name}{suffix}"
        if path.exists():
            return pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    return None


def _store(out: Path, record: dict[str, Any]) -> None:
    run = record["run"]
    daily = record.pop("_daily", None)
    if daily is not None:
        _write_table(_table_path(out, run, "daily"), daily)
    for name, table in record.pop("_tables", {}).items():
        if len(table):  # government messages only
            _write_table(_table_path(out, run, name), table)
    arrays = record.pop("_arrays", None)
    if arrays is not None:
        atomic_write(out / "runs" / f"run_{run:06d}.npz", lambda p: _save_npz(p, arrays))
    text = json.dumps(record, default=json_default, allow_nan=True, indent=1)
    # The record is written last: a run counts as done only once everything it made is there.
    atomic_write(_record_path(out, run), lambda p: p.write_text(text, encoding="utf-8"))


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def done_runs(out: Path) -> set[int]:
    """Runs whose record says they finished without error."""
    done = set()
    for path in (out / "runs").glob("run_*.json"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if record.get("status") == "ok":
            done.add(int(record["run"]))
    return done


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

    Parameters
    ----------
    sweep : Sweep
    out : path
        Where each run's files go as it finishes (``out/runs/``); created if missing.
    workers : int
        Local worker processes (1: in this process).
    scheduler, client
        Run on a Dask cluster instead: a scheduler address (``tcp://host:port``) or a
        ``dask.distributed.Client`` (needs ``pip install 'laotie[distributed]'``).
    executor : Executor, optional
        Any :class:`laotie.executors.Executor` (overrides the three above).
    progress : bool
        Show a progress bar across runs, with the time left.

    The results do not depend on the executor or the number of workers. Runs already stored
    under ``out`` are not run again; a run that raises is recorded with its error and the
    sweep goes on (see :func:`failures`).
    """
    out = Path(out)
    if executor is None:
        executor = executor_for(workers, scheduler, client)
    _claim(out, sweep)
    table = sweep.runs()
    done = done_runs(out)
    points = sweep.points()  # each point's own keys (cases may set different keys)
    # A task carries its own point and what every run needs (base scenario, days, seeds), not
    # the whole design: a large Sobol design would otherwise travel with every task.
    job = dataclasses.replace(sweep, grid={}, sample={}, samples=0, cases=[])
    todo = [
        (job, int(run), {key: plain(value) for key, value in points[int(point)].items()})
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
    try:
        for task, record in executor.map(_run_one, todo):
            if isinstance(record, Lost):
                _, run, point = task
                record = {
                    "run": run,
                    "parameters": point,
                    "status": "error",
                    "error": f"lost: {record.reason} ({record.attempts} times)",
                }
            _store(out, record)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
        _GRAPHS.clear()  # a whole city's graph is over a gigabyte: do not keep it after
    return collect(sweep, out)


_SPEC = "sweep.json"


def code_fingerprint() -> str:
    """laotie's version and a hash of its source files: what decides a run's numbers besides
    the scenario and the seed."""
    import hashlib

    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        if "experiments" in path.relative_to(root).parts:
            continue  # the experiment modules do not change a run's numbers
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"


def _claim(out: Path, sweep: Sweep) -> None:
    """Mark ``out`` as this sweep's folder; refuse a folder that holds the runs of another
    sweep, or of this sweep made by other code (resuming would mix their numbers)."""
    spec = sweep.to_dict()
    code = code_fingerprint()
    path = out / _SPEC
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise LaotieError(f"{path}: cannot read ({err}); delete {out} to start over") from None
        if json.dumps(stored.get("sweep"), sort_keys=True) != json.dumps(
            json.loads(json.dumps(spec, default=json_default)), sort_keys=True
        ):
            raise LaotieError(
                f"{out} holds the runs of a different sweep (its {_SPEC} differs from this "
                f"spec); resuming would mix their results: use another folder, or delete {out}"
            )
        if stored.get("code") != code:
            raise LaotieError(
                f"{out} holds runs made by other code (laotie {stored.get('code')}, now "
                f"{code}); resuming would mix their numbers: use another folder, or delete {out}"
            )
        return
    if (out / "runs").exists() and any((out / "runs").iterdir()):
        raise LaotieError(f"{out}/runs holds runs of an unknown sweep ({_SPEC} is missing)")
    text = json.dumps({"sweep": spec, "code": code}, default=json_default, sort_keys=True, indent=1)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def _parameter_columns(table: pd.DataFrame) -> list[str]:
    fixed = {"run", "point", "replication", "seed", "status", "error", "seconds"}
    return [c for c in table.columns if c not in fixed]


def collect(sweep: Sweep, out: str | Path) -> SweepResult:
    """The results of the runs of ``sweep`` stored under ``out`` (finished or not)."""
    out = Path(out)
    table = sweep.runs()
    status, errors, seconds = [], [], []
    daily, summary, outcomes = [], [], []
    for run in table["run"]:
        run = int(run)
        path = _record_path(out, run)
        if not path.exists():
            status.append("missing")
            errors.append("")
            seconds.append(np.nan)
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):  # written atomically, so only by hand
            status.append("missing")
            errors.append(f"unreadable record {path.name}: rerun the sweep to redo the run")
            seconds.append(np.nan)
            continue
        status.append(record["status"])
        errors.append(record.get("error", ""))
        seconds.append(record.get("seconds", np.nan))
        if record["status"] == "ok":
            frame = _read_table(out, run, "daily")
            if frame is not None:
                daily.append(frame.assign(run=run))
            summary.append(pd.DataFrame(record["summary"]).assign(run=run))
            outcomes.append({"run": run, **record["outcomes"]})
    table["seed"] = [f"{sweep.seed}:{sweep.seed_key(int(run))}" for run in table["run"]]
    table["status"] = status
    table["error"] = errors
    table["seconds"] = seconds
    return SweepResult(
        sweep=sweep,
        out=out,
        runs=table,
        daily=_first(pd.concat(daily, ignore_index=True) if daily else pd.DataFrame(), "run"),
        summary=_first(pd.concat(summary, ignore_index=True) if summary else pd.DataFrame(), "run"),
        outcomes=pd.DataFrame(outcomes, columns=["run", *OUTCOME_COLUMNS]),
    )


def _first(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    if len(frame):
        frame.insert(0, column, frame.pop(column))
    return frame


@dataclass
class SweepResult:
    """The results of a sweep: tidy tables aligned by the ``run`` column.

    Attributes
    ----------
    runs : pandas.DataFrame
        One row per run: ``run``, ``point``, the parameters, ``replication``, ``seed`` (the
        sweep's seed and the run's spawn key), ``status`` (``ok``, ``error`` or ``missing``),
        ``error`` and ``seconds``.
    daily : pandas.DataFrame
        run × day × channel: the daily metrics of every successful run.
    summary : pandas.DataFrame
        run × channel: each run's whole-run counts and ratios (:attr:`laotie.Result.summary`).
    outcomes : pandas.DataFrame
        One row per successful run: its outcomes (:attr:`laotie.Result.outcomes`).
    """

    sweep: Sweep
    out: Path
    runs: pd.DataFrame
    daily: pd.DataFrame
    summary: pd.DataFrame
    outcomes: pd.DataFrame

    def arms(self) -> pd.Series:
        """A label per point, e.g. ``"policy.traffic=head"`` (``"base"`` with no parameter;
        prefixed with ``#<point>`` when two points have the same parameters)."""
        labels = [
            ", ".join(f"{key}={plain(value)}" for key, value in point.items()) or "base"
            for point in self.sweep.points()
        ]
        if len(set(labels)) < len(labels):  # repeated points: the index tells them apart
            labels = [f"#{point} {label}" for point, label in enumerate(labels)]
        return pd.Series(labels, name="arm").rename_axis("point")

    def values(self, metric: str, channel: str | None = None) -> pd.DataFrame:
        """One value per run of an outcome (``channel=None``) or of a channel's metric:
        a table with one row per replication and one column per arm."""
        if channel is None:
            if metric not in self.outcomes.columns:
                raise LaotieError(
                    f"unknown outcome {metric!r}{did_you_mean(metric, OUTCOME_COLUMNS)}; "
                    f"outcomes: {', '.join(OUTCOME_COLUMNS)} (or give a channel for a "
                    f"per-channel metric)"
                )
            per_run = self.outcomes.set_index("run")[metric]
        else:
            if channel not in ROWS:
                raise LaotieError(
                    f"unknown channel {channel!r}{did_you_mean(channel, ROWS)}; "
                    f"channels: {', '.join(ROWS)}"
                )
            if metric not in SUMMARY_COLUMNS:
                raise LaotieError(
                    f"unknown metric {metric!r}{did_you_mean(metric, SUMMARY_COLUMNS)}; "
                    f"metrics: {', '.join(SUMMARY_COLUMNS)}"
                )
            rows = self.summary[self.summary["channel"] == channel]
            per_run = rows.set_index("run")[metric]
        frame = self.runs[["run", "point", "replication"]].assign(
            value=self.runs["run"].map(per_run).astype(float)
        )
        wide = frame.pivot(index="replication", columns="point", values="value")
        wide.columns = self.arms().reindex(wide.columns).tolist()
        return wide

    def compare(
        self,
        metric: str,
        channel: str | None = None,
        *,
        baseline: int | str = 0,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Each arm's mean and its difference from the baseline arm, with t intervals.

        With common random numbers the differences are paired by replication (same graph,
        same random streams), which is what makes them precise.

        Parameters
        ----------
        metric : str
            An outcome (a column of :attr:`outcomes`) or, with ``channel``, a metric of the
            per-channel summary (e.g. ``conversion``, ``order_value``, ``gmv``).
        channel : str, optional
            ``follow``, ``discovery``, ``wom``, ``storefront``, ``trust``, ``traffic``, ``all``.
        baseline : int or str
            The baseline arm: its point index or its label (default: the first point).
        level : float
            Confidence level of the intervals.
        """
        from .stats import paired

        values = self.values(metric, channel)
        if isinstance(baseline, numbers.Integral) and not isinstance(baseline, bool):
            baseline = int(baseline)
            labels = self.arms()
            if baseline not in labels.index:
                raise LaotieError(f"baseline = {baseline}: points are 0 to {len(labels) - 1}")
            baseline = labels[baseline]
        return paired(values, baseline, level=level, paired=self.sweep.common_random_numbers)

    def comparisons(
        self, metrics: Sequence[tuple[str, str | None]] = COMPARED, *, level: float = 0.95
    ) -> pd.DataFrame:
        """:meth:`compare` for several metrics against the first arm, as one long table
        (``metric``, ``channel``, ``arm``, then compare's columns)."""
        frames = []
        for metric, channel in metrics:
            table = self.compare(metric, channel, level=level).rename_axis("arm").reset_index()
            table.insert(0, "channel", channel or "")
            table.insert(0, "metric", metric)
            frames.append(table)
        return pd.concat(frames, ignore_index=True)

    def arrays(self, run: int) -> dict[str, np.ndarray]:
        """A finished run's arrays: ``creator_income`` (per selling creator) and, per poor
        producer, ``producer_income``, ``producer_orders`` and ``producer_buyers``."""
        path = self.out / "runs" / f"run_{int(run):06d}.npz"
        if not path.exists():
            raise LaotieError(f"run {run} has no stored arrays under {self.out} (not finished?)")
        with np.load(path) as data:
            return {key: data[key] for key in data.files}

    def messages(self) -> pd.DataFrame:
        """Per run and government message: final coverage and days to 50 % and 80 %."""
        return self._stored("messages")

    def information(self) -> pd.DataFrame:
        """Per run, government message and day: the coverage table of
        :attr:`laotie.Result.information` (overall, rural, urban, users, non-users, by path,
        the baseline), with a ``run`` column."""
        return self._stored("information")

    def information_regions(self) -> pd.DataFrame:
        """Per run, message, day and region: the share informed
        (:attr:`laotie.Result.information_regions`), with a ``run`` column."""
        return self._stored("information_regions")

    def _stored(self, name: str) -> pd.DataFrame:
        frames = []
        for run in self.runs.loc[self.runs["status"] == "ok", "run"]:
            frame = _read_table(self.out, int(run), name)
            if frame is not None:
                frames.append(frame.assign(run=int(run)))
        return _first(pd.concat(frames, ignore_index=True), "run") if frames else pd.DataFrame()

    def write(self, out: str | Path | None = None) -> list[Path]:
        """Write the tables (``runs.csv``, ``daily``, ``summary``, ``outcomes``) under ``out``
        (default: the sweep's folder), each atomically; Parquet when pyarrow is there."""
        out = Path(out) if out is not None else self.out
        written = []
        atomic_write(out / "runs.csv", lambda p: self.runs.to_csv(p, index=False))
        written.append(out / "runs.csv")
        for name in ("daily", "summary", "outcomes"):
            path = out / (f"{name}.parquet" if parquet_available() else f"{name}.csv")
            _write_table(path, getattr(self, name))
            written.append(path)
        return written


def failures(table: pd.DataFrame | SweepResult) -> pd.DataFrame:
    """The runs of a sweep that raised (or were lost), with their parameters and errors."""
    if isinstance(table, SweepResult):
        table = table.runs
    if "status" not in table:
        raise LaotieError("failures() needs the runs table returned by run_sweep")
    return table[table["status"] == "error"]
