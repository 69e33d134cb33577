"""The results of a sweep: tidy tables aligned by run, comparisons between arms, failures."""

from __future__ import annotations

import json
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_write, json_default, parquet_available, plain, read_npz, reading
from ..errors import LaotieError
from ..metrics import ROWS
from ..params import did_you_mean
from ..results import OUTCOME_BOUNDS, OUTCOME_COLUMNS, SUMMARY_COLUMNS
from ..stats import SUMMARY_BOUNDS, paired
from .spec import Sweep
from .store import (
    arrays_path,
    read_record,
    read_table,
    record_path,
    run_damage,
    spec_key,
    write_table,
)

__all__ = ["COMPARED", "SweepResult", "collect", "failures"]

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


def collect(sweep: Sweep, out: str | Path) -> SweepResult:
    """The results of the runs of ``sweep`` stored under ``out``, finished or not.

    Parameters
    ----------
    sweep : Sweep
        The sweep whose runs are stored there.
    out : str or path
        The sweep's folder (as given to :func:`run_sweep`).

    Returns
    -------
    SweepResult
        Runs without a record have ``status`` ``missing``; runs whose stored files are no
        longer as their record's manifest says (deleted, truncated, replaced) ``damaged``,
        with what is wrong in ``error``, and none of their numbers is read.
    """
    out = Path(out)
    table = sweep.runs()
    points = sweep.points()
    key = spec_key(sweep)
    status, errors, seconds = [], [], []
    daily, summary, outcomes, moments = [], [], [], []
    for run, point in zip(table["run"], table["point"], strict=True):
        run = int(run)
        path = record_path(out, run)
        if not path.exists():
            status.append("missing")
            errors.append("")
            seconds.append(np.nan)
            continue
        record = read_record(path)
        if record is None:  # written atomically, so only damaged by hand
            status.append("missing")
            errors.append(f"unreadable record {path.name}: rerun the sweep to redo the run")
            seconds.append(np.nan)
            continue
        problems = run_damage(out, record) if record["status"] == "ok" else []
        if "spec" in record:
            if record["spec"] != key:
                problems.append(
                    "it ran under another spec of this sweep (sweep.json was changed after it ran)"
                )
        else:  # stored by a laotie before spec keys: its parameters are checked instead
            problems += _relabelled(record, sweep.draw(run) | points[int(point)])
        if problems:  # changed after the run was stored: never read as valid
            status.append("damaged")
            errors.append(f"{'; '.join(problems)}: rerun the sweep to redo the run")
            seconds.append(np.nan)
            continue
        status.append(record["status"])
        errors.append(record.get("error", ""))
        seconds.append(record.get("seconds", np.nan))
        if record["status"] == "ok":
            frame = read_table(out, run, "daily", record)
            if frame is not None:
                daily.append(frame.assign(run=run))
            summary.append(pd.DataFrame(record["summary"]).assign(run=run))
            outcomes.append({"run": run, **record["outcomes"]})
            if sweep.moments:
                moments.append({"run": run, **record.get("moments", {})})
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
        moments=pd.DataFrame(moments, columns=["run", *sweep.moments], dtype=float).astype(
            {"run": np.int64}
        ),
    )


def _relabelled(record: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """What differs between the parameters a run was stored with and those its sweep's spec
    gives it now (a spec edited after the runs: they would otherwise be read under the new
    labels)."""
    ran = record.get("parameters")
    now = json.loads(json.dumps({k: plain(v) for k, v in expected.items()}, default=json_default))
    if ran == now or not isinstance(ran, dict):
        return [] if ran == now else ["its record names no parameters"]
    key = next(k for k in sorted({*ran, *now}) if ran.get(k, "unset") != now.get(k, "unset"))
    return [
        f"it ran with {key} = {ran.get(key, 'unset')!r} where the sweep's spec now gives "
        f"{now.get(key, 'unset')!r} (the spec was changed after the run)"
    ]


def _first(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    if len(frame):
        frame.insert(0, column, frame.pop(column))
    return frame


@dataclass
class SweepResult:
    """The results of a sweep: tidy tables aligned by the ``run`` column.

    Attributes
    ----------
    sweep : Sweep
        The sweep that made them.
    out : pathlib.Path
        The sweep's folder.
    runs : pandas.DataFrame
        One row per run: ``run``, ``point``, the parameters, ``replication``, ``seed`` (the
        sweep's seed and the run's spawn key), ``status`` (``ok``, ``error``, ``missing`` or
        ``damaged``),
        ``error`` and ``seconds``.
    daily : pandas.DataFrame
        run × day × channel: the daily metrics of every successful run.
    summary : pandas.DataFrame
        run × channel: each run's whole-run counts and ratios (:attr:`laotie.Result.summary`).
    outcomes : pandas.DataFrame
        One row per successful run: its outcomes (:attr:`laotie.Result.outcomes`).
    moments : pandas.DataFrame
        One row per successful run: the values of the sweep's moments (``Sweep.moments``;
        NaN where a moment could not be measured), no column without them.
    """

    sweep: Sweep
    out: Path
    runs: pd.DataFrame
    daily: pd.DataFrame
    summary: pd.DataFrame
    outcomes: pd.DataFrame
    moments: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["run"]))

    def arms(self) -> pd.Series:
        """A label per point: the arms compared by :meth:`compare`.

        Returns
        -------
        pandas.Series
            Indexed by point, e.g. ``"policy.traffic=head"`` (``"base"`` with no parameter;
            prefixed with ``#<point>`` when two points have the same parameters).
        """
        labels = [
            ", ".join(f"{key}={plain(value)}" for key, value in point.items()) or "base"
            for point in self.sweep.points()
        ]
        if len(set(labels)) < len(labels):  # repeated points: the index tells them apart
            labels = [f"#{point} {label}" for point, label in enumerate(labels)]
        return pd.Series(labels, name="arm").rename_axis("point")

    def values(self, metric: str, channel: str | None = None) -> pd.DataFrame:
        """One value per run of an outcome, or of a channel's metric, arm by arm.

        Parameters
        ----------
        metric : str
            An outcome (a column of :attr:`outcomes`) or, with ``channel``, a column of the
            per-channel summary.
        channel : str, optional
            A channel (``follow``, ``discovery``, ``wom``, ``storefront``, ``trust``,
            ``traffic``, ``all``).

        Returns
        -------
        pandas.DataFrame
            One row per replication, one column per arm (:meth:`arms`); NaN where a run
            failed, is missing or has the metric undefined.

        Raises
        ------
        LaotieError
            For an unknown outcome, channel or metric (with the nearest valid one).
        """
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

        Returns
        -------
        pandas.DataFrame
            One row per arm, the columns of :func:`laotie.stats.paired`: ``n``, ``mean``,
            ``mean_low``, ``mean_high``, ``difference``, ``difference_low``,
            ``difference_high``, ``relative``. Without common random numbers the
            difference's interval is Welch's.

        Raises
        ------
        LaotieError
            For an unknown metric, channel or baseline.
        """
        values = self.values(metric, channel)
        if isinstance(baseline, numbers.Integral) and not isinstance(baseline, bool):
            baseline = int(baseline)
            labels = self.arms()
            if baseline not in labels.index:
                raise LaotieError(f"baseline = {baseline}: points are 0 to {len(labels) - 1}")
            baseline = labels[baseline]
        limits = (SUMMARY_BOUNDS if channel is not None else OUTCOME_BOUNDS).get(metric)
        return paired(
            values,
            baseline,
            level=level,
            paired=self.sweep.common_random_numbers,
            bounds=limits or (-np.inf, np.inf),
        )

    def comparisons(
        self, metrics: Sequence[tuple[str, str | None]] = COMPARED, *, level: float = 0.95
    ) -> pd.DataFrame:
        """:meth:`compare` for several metrics against the first arm, as one long table.

        Parameters
        ----------
        metrics : sequence of (str, str or None)
            ``(metric, channel)`` pairs; ``channel`` None for an outcome. Default:
            :data:`COMPARED`.
        level : float, default 0.95
            Confidence level of the intervals.

        Returns
        -------
        pandas.DataFrame
            ``metric``, ``channel`` (``""`` for an outcome), ``arm``, then the columns of
            :meth:`compare` (what ``comparison.csv`` holds).
        """
        frames = []
        for metric, channel in metrics:
            table = self.compare(metric, channel, level=level).rename_axis("arm").reset_index()
            table.insert(0, "channel", channel or "")
            table.insert(0, "metric", metric)
            frames.append(table)
        return pd.concat(frames, ignore_index=True)

    def arrays(self, run: int) -> dict[str, np.ndarray]:
        """A finished run's arrays.

        Parameters
        ----------
        run : int
            The run's index.

        Returns
        -------
        dict of str to numpy.ndarray
            ``creator_income`` (per selling creator) and, per poor producer,
            ``producer_income``, ``producer_orders`` and ``producer_buyers``; and
            ``seller_gmv`` per seller (creators, then storefronts).

        Raises
        ------
        LaotieError
            When the run has no stored arrays (it has not finished, or it failed), or its
            files are damaged (not as its record's manifest says).
        """
        path = arrays_path(self.out, int(run))
        record = read_record(record_path(self.out, int(run)))
        if not path.exists() or record is None or record.get("status") != "ok":
            raise LaotieError(f"run {run} has no stored arrays under {self.out} (not finished?)")
        problems = run_damage(self.out, record)
        if problems:
            raise LaotieError(
                f"run {run} under {self.out} is damaged: {'; '.join(problems)}; run the sweep "
                f"again to redo it"
            )
        with reading(path):
            return read_npz(path)

    def messages(self) -> pd.DataFrame:
        """Per run and government message: final coverage and days to 50 % and 80 %.

        Returns
        -------
        pandas.DataFrame
            :attr:`laotie.Result.messages` of every finished run, with a ``run`` column first
            (empty without government messages).
        """
        return self._stored("messages")

    def information(self) -> pd.DataFrame:
        """Per run, government message and day: the coverage of the message.

        Returns
        -------
        pandas.DataFrame
            :attr:`laotie.Result.information` of every finished run (overall, rural, urban,
            users, non-users, by path, the baseline), with a ``run`` column first.
        """
        return self._stored("information")

    def information_regions(self) -> pd.DataFrame:
        """Per run, message, day and region: the share informed.

        Returns
        -------
        pandas.DataFrame
            :attr:`laotie.Result.information_regions` of every finished run, with a ``run``
            column first.
        """
        return self._stored("information_regions")

    def monthly(self) -> pd.DataFrame:
        """Per run and complete month: daily and monthly active users and buyers.

        Returns
        -------
        pandas.DataFrame
            :attr:`laotie.Result.monthly` of every finished run, with a ``run`` column
            first (no rows for runs shorter than a month).
        """
        return self._stored("monthly")

    def producers(self) -> pd.DataFrame:
        """Per run and poor producer: its unit, orders, buyers and accounts.

        Returns
        -------
        pandas.DataFrame
            :attr:`laotie.Result.producers` of every finished run, with a ``run`` column
            first.
        """
        return self._stored("producers")

    def regions(self) -> pd.DataFrame:
        """Per run and county-level unit: users, sales, income, earners and reach.

        Returns
        -------
        pandas.DataFrame
            :attr:`laotie.Result.regions` of every finished run, with a ``run`` column first.
        """
        return self._stored("regions")

    def _stored(self, name: str) -> pd.DataFrame:
        frames = []
        for run in self.runs.loc[self.runs["status"] == "ok", "run"]:
            frame = read_table(self.out, int(run), name)
            if frame is not None:
                frames.append(frame.assign(run=int(run)))
        return _first(pd.concat(frames, ignore_index=True), "run") if frames else pd.DataFrame()

    def write(self, out: str | Path | None = None) -> list[Path]:
        """Write the tables, each atomically: ``runs.csv``, and ``daily``, ``summary`` and
        ``outcomes`` (and ``moments`` when the sweep measures any) as Parquet (CSV when
        pyarrow is missing).

        Parameters
        ----------
        out : str or path, optional
            The folder (default: the sweep's folder).

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        out = Path(out) if out is not None else self.out
        written = []
        atomic_write(out / "runs.csv", lambda p: self.runs.to_csv(p, index=False))
        written.append(out / "runs.csv")
        names = ("daily", "summary", "outcomes") + (("moments",) if self.sweep.moments else ())
        for name in names:
            path = out / (f"{name}.parquet" if parquet_available() else f"{name}.csv")
            write_table(path, getattr(self, name))
            written.append(path)
        return written


def failures(table: pd.DataFrame | SweepResult) -> pd.DataFrame:
    """The runs of a sweep that raised (or were lost), with their parameters and errors.

    Parameters
    ----------
    table : pandas.DataFrame or SweepResult
        A sweep's result, or its runs table.

    Returns
    -------
    pandas.DataFrame
        The rows of the runs table whose ``status`` is ``error`` or ``damaged``.

    Raises
    ------
    LaotieError
        When ``table`` has no ``status`` column.
    """
    if isinstance(table, SweepResult):
        table = table.runs
    if "status" not in table:
        raise LaotieError("failures() needs the runs table returned by run_sweep")
    return table[table["status"].isin(["error", "damaged"])]
