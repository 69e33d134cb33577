"""Parameter sweeps: many runs of a scenario, stored one run at a time, resumable.

A :class:`Sweep` is a base scenario, a grid of dotted parameter keys and their values, a
number of replications, the days and a seed. Run ``i`` draws everything from
``SeedSequence(seed, spawn_key=(i,))``, so its numbers do not depend on the number of
workers or on the order in which runs finish. Each finished run is written atomically to its
own files under ``out/runs/``; running the same sweep again skips the runs already done (and
retries those that failed), so an interrupted sweep loses only the runs in flight.

Examples
--------
>>> sweep = Sweep(Scenario.preset("village"), {"policy.traffic": ["head", "inclusive"]},
...               replications=2, days=5, seed=1)
>>> runs = sweep.runs()
>>> runs["policy.traffic"].tolist(), runs["replication"].tolist()
(['head', 'head', 'inclusive', 'inclusive'], [0, 1, 0, 1])
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import tomllib
import traceback
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from ._io import atomic_write, json_default, plain
from .errors import LaotieError, ScenarioError
from .scenario import Scenario

__all__ = ["Sweep", "load_sweep", "run_sweep"]


@dataclass(frozen=True)
class Sweep:
    """A full-factorial sweep over dotted scenario keys, with replications."""

    base: Scenario
    grid: Mapping[str, list[Any]] = field(default_factory=dict)
    replications: int = 1
    days: int | None = None
    seed: int = 0
    sample: Mapping[str, list[float] | None] = field(default_factory=dict)
    samples: int = 0
    method: str = "lhs"

    def __post_init__(self) -> None:
        if (
            isinstance(self.replications, bool)
            or not isinstance(self.replications, int)
            or (self.replications < 1)
        ):
            raise ScenarioError(f"sweep: replications = {self.replications!r}; expected ≥ 1")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ScenarioError(f"sweep: seed = {self.seed!r}; expected an integer ≥ 0")
        if self.sample and self.samples < 1:
            raise ScenarioError("sweep: sampled keys need samples ≥ 1")
        for point in self.sampled() if self.sample else []:
            self.base.replace(**point)
        for key, values in self.grid.items():
            if not isinstance(values, list) or not values:
                raise ScenarioError(f"sweep: grid {key!r} must be a non-empty list of values")
            for value in values:
                self.base.replace(**{key: value})  # validates key and value now, not mid-sweep

    def bounds(self) -> dict[str, tuple[float, float]]:
        """The range of every sampled key: given, or the declared bounds of the parameter."""
        out = {}
        kinds = Scenario.sections()
        for key, given in self.sample.items():
            section, _, name = key.partition(".")
            if section not in kinds or name not in kinds[section].params():
                self.base.replace(**{key: 0})  # raises, naming the key and the nearest one
            declared = kinds[section].params()[name]
            if declared.kind not in (int, float):
                raise ScenarioError(f"sweep: {key} is not numeric; put it in the grid instead")
            low, high = given if given is not None else (declared.low, declared.high)
            if low is None or high is None or not np.isfinite([low, high]).all() or low > high:
                raise ScenarioError(
                    f"sweep: {key} needs a finite range [low, high] (declared: "
                    f"{declared.allowed()})"
                )
            out[key] = (float(low), float(high))
        return out

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
        values = low + unit * (high - low)
        kinds = Scenario.sections()
        integer = [
            kinds[k.partition(".")[0]].params()[k.partition(".")[2]].kind is int for k in keys
        ]
        return [
            {
                key: int(np.rint(value)) if is_int else float(value)
                for key, value, is_int in zip(keys, row, integer, strict=True)
            }
            for row in values
        ]

    def points(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values with every sampled point, in order."""
        keys = list(self.grid)
        grid = [dict(zip(keys, v, strict=True)) for v in itertools.product(*self.grid.values())]
        return [{**g, **p} for g in grid for p in self.sampled()]

    def runs(self) -> pd.DataFrame:
        """One row per run: ``run``, the parameters, ``replication``."""
        rows = []
        for point in self.points():
            for replication in range(self.replications):
                rows.append({"run": len(rows), **point, "replication": replication})
        return pd.DataFrame(rows)

    def run_seed(self, run: int) -> np.random.SeedSequence:
        """The seed of run ``run``: keyed by the run's index, not by the order of execution."""
        return np.random.SeedSequence(self.seed, spawn_key=(run,))


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep spec (TOML): ``scenario`` (a shipped name or a file relative to the spec),
    ``days``, ``seed``, ``replications`` and a ``[grid]`` table of dotted keys and value lists."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such sweep file") from None
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML ({err})") from None
    allowed = {"scenario", "days", "seed", "replications", "grid", "sample", "samples", "method"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        from .params import did_you_mean

        hint = did_you_mean(unknown[0], sorted(allowed))
        raise ScenarioError(
            f"{path}: unknown key {unknown[0]!r}{hint} (valid keys: {', '.join(sorted(allowed))})"
        )
    if "scenario" not in data:
        raise ScenarioError(f"{path}: scenario is missing (a shipped scenario's name or a file)")
    name = data["scenario"]
    candidate = path.parent / name
    base = Scenario.from_toml(candidate) if candidate.suffix == ".toml" else Scenario.preset(name)
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
        )
    except ScenarioError as err:
        raise ScenarioError(f"{path}: {err}") from None


def _run_one(sweep: Sweep, run: int, point: dict[str, Any]) -> dict[str, Any]:
    """Simulate one run; return its record (never raises: errors are recorded)."""
    from .engine import simulate

    record: dict[str, Any] = {"run": run, "parameters": point}
    try:
        scenario = sweep.base.replace(**point)
        result = simulate(scenario, days=sweep.days, seed=sweep.run_seed(run))
        record.update(status="ok", outcomes=result.outcomes)
        record["daily"] = result.daily
    except Exception as err:  # a failing run is recorded and the sweep goes on
        record.update(
            status="error",
            error=f"{type(err).__name__}: {err}",
            traceback=traceback.format_exc(),
        )
    return record


def _record_path(out: Path, run: int) -> Path:
    return out / "runs" / f"run_{run:06d}.json"


def _store(out: Path, record: dict[str, Any]) -> None:
    run = record["run"]
    daily = record.pop("daily", None)
    if daily is not None:
        atomic_write(out / "runs" / f"run_{run:06d}.csv", lambda p: daily.to_csv(p, index=False))
    text = json.dumps(record, default=json_default, allow_nan=True, indent=1)
    # The record is written last: a run counts as done only once everything it made is there.
    atomic_write(_record_path(out, run), lambda p: p.write_text(text, encoding="utf-8"))


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
    sweep: Sweep, out: str | Path, *, workers: int = 1, progress: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every run not yet done under ``out``; return the two aligned tables.

    Returns
    -------
    runs : pandas.DataFrame
        One row per run: ``run``, the parameters, ``replication``, ``seed`` (the sweep seed and
        the run's spawn key), ``status`` (``ok`` or ``error``) and ``error``.
    daily : pandas.DataFrame
        The daily metrics of every successful run, with a ``run`` column (run × day × channel).
    """
    out = Path(out)
    table = sweep.runs()
    params = [c for c in table.columns if c not in ("run", "replication")]
    done = done_runs(out)
    todo = [
        (int(run), {key: plain(table.at[i, key]) for key in params})
        for i, run in enumerate(table["run"])
        if int(run) not in done
    ]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(table), initial=len(table) - len(todo), desc="runs", unit="run")
    records: Iterable[dict[str, Any]]
    if workers <= 1:
        records = (_run_one(sweep, run, point) for run, point in todo)
        for record in records:
            _store(out, record)
            if bar is not None:
                bar.update()
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_run_one, sweep, run, point) for run, point in todo]
            for future in as_completed(futures):
                _store(out, future.result())
                if bar is not None:
                    bar.update()
    if bar is not None:
        bar.close()
    return collect(sweep, out)


def collect(sweep: Sweep, out: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs table and the daily table of the runs stored under ``out``."""
    out = Path(out)
    table = sweep.runs()
    status, errors, frames = [], [], []
    for run in table["run"]:
        path = _record_path(out, int(run))
        if not path.exists():
            status.append("missing")
            errors.append("")
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        status.append(record["status"])
        errors.append(record.get("error", ""))
        if record["status"] == "ok":
            daily = pd.read_csv(out / "runs" / f"run_{int(run):06d}.csv")
            frames.append(daily.assign(run=int(run)))
    table["seed"] = [f"{sweep.seed}:{run}" for run in table["run"]]
    table["status"] = status
    table["error"] = errors
    daily = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(daily):
        daily.insert(0, "run", daily.pop("run"))
    return table, daily


def failures(table: pd.DataFrame) -> pd.DataFrame:
    """The runs of a sweep that raised, with their parameters and errors."""
    if "status" not in table:
        raise LaotieError("failures() needs the runs table returned by run_sweep")
    return table[table["status"] == "error"]
