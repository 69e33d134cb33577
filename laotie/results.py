"""Results of a run: tidy per-day frames, a per-channel summary and per-run outcomes."""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._io import atomic_write, damage, json_default, manifest, parquet_available, plain
from ._io import read_npz as _read_npz
from ._io import reading as _reading
from ._io import write_npz as _write_npz
from .accounts import (
    PRODUCER_COLUMNS,
    REGION_COLUMNS,
    poverty_outcomes,
    producer_frame,
    producer_outcomes,
    region_frame,
)
from .errors import LaotieError
from .metrics import (
    CHANNELS,
    COLUMNS,
    COUNTS,
    ORDER_VALUE_EDGES,
    ROWS,
    gini,
    top_share,
    with_ratios,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .engine.engine import Engine, Replication
    from .engine.rules.information import InformationState
    from .scenario import Scenario

__all__ = ["Result"]


@dataclass
class Result:
    """What a run produced.

    Attributes
    ----------
    daily : pandas.DataFrame
        One row per day and channel: ``day``, ``channel`` and the metrics of
        docs/model.md section 3.6 (ratios are NaN when their denominator is 0).
    summary : pandas.DataFrame
        One row per channel over the whole run: summed counts (``exposed_users`` and
        ``buyers`` are summed over days: user-days) and the ratios of the sums.
    outcomes : dict
        Per-run outcomes: poor producers' income, creator income inequality, monthly
        repurchase, sellers' repeat customers (回头客), share of creator traffic to
        non-head creators.
    creator_income, producer_income : numpy.ndarray
        Income per selling creator (commission, RMB) and per poor producer (RMB).
    producer_orders, producer_buyers : numpy.ndarray
        Per poor producer: orders of its specialty, and distinct buyers reached.
    seller_gmv : numpy.ndarray
        GMV per seller over the run (RMB): the selling creators (in node order), then the
        storefronts.
    order_values : pandas.DataFrame
        Histogram of order values (客单价) per channel over the run: one row per bin
        (``low``, ``high`` in RMB) and one column of counts per sub-channel.
    scenario : Scenario
    seed : dict
        The run's SeedSequence entropy and spawn key: enough to repeat the run exactly.
    info : dict
        How the result was made: days, replication, laotie's version, the seed's entropy, the
        replications run in lockstep and the seconds each part took.
    information : pandas.DataFrame
        Per government message and day (from its posting day): the share of residents
        informed overall, rural, urban, among users and non-users, the shares of the informed
        by path (``by_feed``, ``by_hometown``, ``by_share``, ``by_offline``), the baseline
        channel's coverage and the urban–rural gap (docs/model.md, 3.5, "Information").
    information_regions : pandas.DataFrame
        The share informed per message, day and region (a long table).
    monthly : pandas.DataFrame
        One row per complete 30-day month (docs/model.md 3.6): ``month``, ``residents``
        and registered ``users`` of the graph, ``dau`` (mean daily active users over the
        month), ``mau`` (users active on some day of it), ``buyers_all``,
        ``buyers_trust``, ``buyers_traffic`` (distinct users with an accepted order in the
        month through any channel, the trust channels, storefronts), ``adopted`` (users who
        use the platform at the month's end: all of them unless it grows), ``sellers``
        (selling creators and open storefronts at the month's end) and ``gmv`` (the month's
        GMV, RMB).
    producers : pandas.DataFrame
        One row per poor producer: its unit, orders, buyers and accounts over the run
        (offline income per day, online receipts, fees, logistics, fixed cost, displaced
        offline income, net income change; :mod:`laotie.accounts`).
    regions : pandas.DataFrame
        One row per county-level unit: residents, users, selling creators, producers,
        the GMV of its creators and its share of all GMV, creators' income, earners,
        producers' receipts and net change, and the mean share a message reached.
    """

    daily: pd.DataFrame
    summary: pd.DataFrame
    outcomes: dict[str, float]
    creator_income: np.ndarray
    producer_income: np.ndarray
    order_values: pd.DataFrame
    scenario: Scenario
    seed: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)
    information: pd.DataFrame = field(default_factory=pd.DataFrame)
    information_regions: pd.DataFrame = field(default_factory=pd.DataFrame)
    producer_orders: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    producer_buyers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    seller_gmv: np.ndarray = field(default_factory=lambda: np.zeros(0))
    monthly: pd.DataFrame = field(default_factory=lambda: monthly_frame([], [], 0, 0))
    producers: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(PRODUCER_COLUMNS))
    )
    regions: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(REGION_COLUMNS))
    )

    @property
    def messages(self) -> pd.DataFrame:
        """Per government message: final coverage and the days it took to reach 50 % and 80 %."""
        return message_summary(self.information) if len(self.information) else pd.DataFrame()

    @classmethod
    def from_engine(
        cls, engine: Engine | Replication, info: dict[str, Any] | None = None
    ) -> Result:
        """Collect the results of an engine after its run.

        Parameters
        ----------
        engine : Engine or Replication
            An engine that has run its days, or one replication of a lockstep engine
            (``Result.from_engine(engine.replication(r))``).
        info : dict, optional
            Kept as :attr:`info` (copied).

        Returns
        -------
        Result
        """
        from .engine import Engine

        if isinstance(engine, Engine):
            if engine.replications > 1:
                raise LaotieError(
                    f"Result.from_engine: this engine runs {engine.replications} replications "
                    "in lockstep; collect one with Result.from_engine(engine.replication(r))"
                )
            engine = engine.replication(0)
        counts = np.array(engine.history).reshape(len(engine.history), len(ROWS), len(COUNTS))
        information, information_regions = engine.information.frames(engine.graph.region_names)
        producers = producer_frame(engine)
        regions = region_frame(engine, producers, information_regions)
        outcomes = run_outcomes(engine, producers, regions)
        return cls(
            daily=daily_frame(counts),
            summary=summary_frame(counts),
            outcomes=outcomes,
            producers=producers,
            regions=regions,
            creator_income=engine.creator_income.copy(),
            producer_income=engine.producer_income.copy(),
            producer_orders=engine.producer_orders.copy(),
            producer_buyers=engine.producer_buyers.copy(),
            seller_gmv=np.asarray(engine.seller_gmv, np.float64).copy(),
            order_values=order_value_frame(engine.order_values),
            information=information,
            information_regions=information_regions,
            monthly=monthly_frame(
                engine.months,
                engine.active,
                engine.graph.n_residents,
                int(np.count_nonzero(engine.graph.user)),
                counts[:, ROWS.index("all"), COUNTS.index("gmv")],
            ),
            scenario=engine.scenario,
            seed={
                "entropy": engine.seed_sequence.entropy,
                "spawn_key": list(engine.seed_sequence.spawn_key),
            },
            info=dict(info or {}),
        )

    def plot(self, kind: str, **kwargs: Any) -> Axes:
        """Plot the result with matplotlib; see :mod:`laotie.plot`.

        Parameters
        ----------
        kind : str
            ``"conversion"`` (转化率 by channel over days), ``"order_values"`` (客单价
            distributions), ``"cumulative_gmv"`` (成交额), ``"lorenz"`` (creators' income
            and its Gini coefficient) or ``"producer_income"`` (poor producers, 精准扶贫).
        **kwargs
            Passed to the function of that kind, e.g. ``ax`` or ``channels``.

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        ScenarioError
            For an unknown kind, naming the kinds and the nearest one.
        """
        from .plot import plot

        return plot(self, kind, **kwargs)

    def save(self, directory: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Save the result losslessly to ``directory`` (created if missing).

        Parameters
        ----------
        directory : str or path
            The folder to write. Other files in it are left alone.
        overwrite : bool, default False
            Replace a result already saved there. Without it, a directory that holds any
            result file is refused.

        Raises
        ------
        LaotieError
            When the directory already holds result files (without ``overwrite``), is not
            a directory, cannot be written, or ``info`` holds values JSON cannot represent.

        Notes
        -----
        The files:

        - ``daily.parquet``, or ``daily.csv`` when pyarrow is not installed: ``daily``;
        - ``summary.csv``, ``order_values.csv``, ``monthly.csv``, ``producers.csv``,
          ``regions.csv``: ``summary`` (with its ``channel`` index), ``order_values``,
          ``monthly``, ``producers`` and ``regions``;
        - ``arrays.npz``: ``creator_income``, ``producer_income``, ``producer_orders`` and
          ``producer_buyers``, ``seller_gmv``;
        - ``result.json``: the format version, ``outcomes`` (NaN written as ``null``),
          ``seed``, ``info``, the scenario (``Scenario.to_dict()``) and the dtype of every
          column (with the categories of ``channel``, in order), so that :meth:`load`
          restores every dtype exactly whatever the format of the frames; and ``files``,
          the manifest: each file's size and SHA-256, which :meth:`load` checks.

        CSV files hold floats in their shortest exact form and are read back as text, so
        they are as lossless as Parquet. Every file is written to a temporary name in the
        directory and renamed into place. ``result.json`` is written last (and, with
        ``overwrite``, removed first), so a directory that has it holds a complete result.

        Examples
        --------
        >>> import tempfile
        >>> from laotie import Scenario, simulate
        >>> result = simulate(Scenario.preset("mudanjiang", scale=0.001), days=3, seed=1)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     result.save(folder)
        ...     loaded = Result.load(folder)
        >>> loaded.daily.equals(result.daily), loaded.scenario == result.scenario
        (True, True)
        """
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise LaotieError(f"{directory}: cannot save a result here: not a directory")
        present = [name for name in _FILES if (directory / name).exists()]
        if present and not overwrite:
            raise LaotieError(
                f"{directory}: already holds a result ({', '.join(present)}); "
                "pass overwrite=True to replace it"
            )
        daily_file = _DAILY_PARQUET if parquet_available() else _DAILY_CSV
        frames = {
            "daily": (daily_file, self.daily),
            "summary": (_SUMMARY, self.summary),
            "order_values": (_ORDER_VALUES, self.order_values),
            "information": (_INFORMATION, self.information),
            "information_regions": (_INFORMATION_REGIONS, self.information_regions),
            "monthly": (_MONTHLY, self.monthly),
            "producers": (_PRODUCERS, self.producers),
            "regions": (_REGIONS, self.regions),
        }
        meta = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "outcomes": {
                key: None if isinstance(value, float) and math.isnan(value) else value
                for key, value in self.outcomes.items()
            },
            "seed": self.seed,
            "info": self.info,
            "scenario": self.scenario.to_dict(),
            "frames": {
                name: {"file": file, **_schema(frame, f"{directory}: {name}")}
                for name, (file, frame) in frames.items()
            },
            "arrays": {"file": _ARRAYS, "names": list(_ARRAY_NAMES)},
        }
        encoded = _to_json(meta, directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            (directory / _META).unlink(missing_ok=True)
        except OSError as err:
            raise LaotieError(f"{directory}: cannot write ({err})") from err
        for file, frame in frames.values():
            if file == _DAILY_PARQUET:
                atomic_write(
                    directory / file, functools.partial(frame.to_parquet, engine="pyarrow")
                )
            else:
                atomic_write(directory / file, functools.partial(_write_csv, frame))
        arrays = {name: np.asarray(getattr(self, name)) for name in _ARRAY_NAMES}
        atomic_write(directory / _ARRAYS, lambda tmp: _write_npz(tmp, arrays))
        stale = _DAILY_CSV if daily_file == _DAILY_PARQUET else _DAILY_PARQUET
        try:
            (directory / stale).unlink(missing_ok=True)
        except OSError as err:
            raise LaotieError(f"{directory / stale}: cannot remove ({err})") from err
        # result.json, written last, is the manifest: each file's size and SHA-256.
        meta["files"] = manifest(directory, [*(f for f, _ in frames.values()), _ARRAYS])
        encoded = _to_json(meta, directory)
        atomic_write(directory / _META, lambda tmp: tmp.write_text(encoded, encoding="utf-8"))

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Result:
        """Load a result written by :meth:`save`.

        Parameters
        ----------
        directory : str or path
            The folder :meth:`save` wrote. The daily frame is read from ``daily.parquet``
            or ``daily.csv``, whichever ``result.json`` names.

        Returns
        -------
        Result
            Equal to the saved one: the same frames with the same dtypes, arrays, outcomes,
            seed, info (as JSON values: tuples come back as lists) and scenario.

        Raises
        ------
        LaotieError
            When the directory or one of its files is missing, a file is not as it was saved
            (truncated, edited or replaced: checked against the manifest), a file cannot be
            read, the
            result was written by a newer laotie, or reading ``daily.parquet`` needs
            pyarrow, which is not installed. A ScenarioError (a LaotieError) when the
            saved scenario is not valid.
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise LaotieError(f"{directory}: no such result directory")
        meta_path = directory / _META
        if not meta_path.exists():
            raise LaotieError(f"{directory}: not a complete result: {_META} is missing")
        with _reading(meta_path):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise LaotieError(f"{meta_path}: not a laotie result file")
        if not isinstance(meta.get("format_version", 0), int):
            raise LaotieError(f"{meta_path}: format_version is not an integer")
        if meta.get("format_version", 0) > _FORMAT_VERSION:
            raise LaotieError(
                f"{meta_path}: written by a newer laotie (format version "
                f"{meta['format_version']}); upgrade laotie to read it"
            )
        for key in ("frames", "arrays", "outcomes", "scenario", "info"):
            if key in meta and not isinstance(meta[key], dict):
                raise LaotieError(
                    f"{meta_path}: damaged result: {key} is not a table "
                    f"({type(meta[key]).__name__})"
                )
        with _reading(meta_path):
            specs = meta["frames"]
            files = [spec["file"] for spec in specs.values()] + [meta["arrays"]["file"]]
        for file in files:
            # A name in the folder, nothing else: not a number, a path or another folder's file.
            if not isinstance(file, str) or file in ("", ".", "..") or Path(file).name != file:
                raise LaotieError(
                    f"{meta_path}: damaged result: a table's file is {file!r}; expected the "
                    "name of a file in the result's folder"
                )
        missing = [file for file in files if not (directory / file).exists()]
        if missing:
            raise LaotieError(
                f"{directory}: not a complete result: {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} missing"
            )
        # Results saved before manifests (format version 1) list no files; from version 2
        # the manifest must be there, so that taking it out does not turn the check off.
        version = meta.get("format_version", 0)
        if version >= 2 and "files" not in meta:
            raise LaotieError(f"{meta_path}: damaged result: its manifest (files) is missing")
        problems = damage(directory, meta.get("files", {}))
        if version >= 2 and not problems:
            # Every table read must be one the manifest checks: an entry taken out of it
            # would otherwise turn the check off for that file.
            problems = [
                f"{file} is not in the manifest" for file in files if file not in meta["files"]
            ]
        if problems:
            raise LaotieError(
                f"{directory}: damaged result: {'; '.join(problems)} (checked against the "
                f"manifest in {_META}); save or run it again"
            )
        frames = {name: _read_frame(directory / spec["file"], spec) for name, spec in specs.items()}
        arrays_path = directory / meta["arrays"]["file"]
        with _reading(arrays_path):
            stored = _read_npz(arrays_path)
            arrays = {name: stored[name] for name in meta["arrays"]["names"]}
        from .scenario import Scenario

        with _reading(meta_path):
            outcomes = {
                key: float("nan") if value is None else value
                for key, value in meta["outcomes"].items()
            }
            scenario_data, seed, info = meta["scenario"], meta["seed"], meta["info"]
        return cls(
            daily=frames["daily"],
            summary=frames["summary"],
            outcomes=outcomes,
            creator_income=arrays["creator_income"],
            producer_income=arrays["producer_income"],
            producer_orders=arrays.get("producer_orders", np.zeros(0, np.int64)),
            producer_buyers=arrays.get("producer_buyers", np.zeros(0, np.int64)),
            seller_gmv=arrays.get("seller_gmv", np.zeros(0)),
            order_values=frames["order_values"],
            information=frames["information"],
            information_regions=frames["information_regions"],
            monthly=frames["monthly"] if "monthly" in frames else monthly_frame([], [], 0, 0),
            **{name: frames[name] for name in ("producers", "regions") if name in frames},
            scenario=Scenario.from_dict(scenario_data, where=f"{meta_path} [scenario]"),
            seed=seed,
            info=info,
        )


def daily_frame(counts: np.ndarray) -> pd.DataFrame:
    """Tidy frame from counts of shape (days, channels, COUNTS)."""
    days = counts.shape[0]
    values = with_ratios(counts).reshape(days * len(ROWS), len(COLUMNS))
    frame = pd.DataFrame(values, columns=list(COLUMNS))
    integer = [c for c in COLUMNS if c in COUNTS and c != "gmv"]
    frame[integer] = frame[integer].astype(np.int64)
    frame.insert(0, "channel", pd.Categorical(np.tile(ROWS, days), categories=list(ROWS)))
    frame.insert(0, "day", np.repeat(np.arange(days), len(ROWS)))
    return frame


MONTHLY_COLUMNS: tuple[str, ...] = (
    "month",
    "residents",
    "users",
    "dau",
    "mau",
    "buyers_all",
    "buyers_trust",
    "buyers_traffic",
    "adopted",
    "sellers",
    "producers_online",
    "gmv",
)
"""The columns of :attr:`Result.monthly`."""


def monthly_frame(
    months: list[dict[str, int]],
    active: list[int],
    residents: int,
    users: int,
    gmv: np.ndarray | None = None,
) -> pd.DataFrame:
    """The frame of :attr:`Result.monthly`: the engine's month records (``end_month``)
    with the mean of the daily active users (``active``, one count per day) and the sum of
    the daily GMV (``gmv``, one value per day) over each month's days."""
    from .engine.rules.month import MONTH_DAYS

    daily = np.asarray(active, np.float64)
    sales = np.zeros(len(daily)) if gmv is None else np.asarray(gmv, np.float64)
    rows = []
    for record in months:
        first = record["month"] * MONTH_DAYS
        rows.append(
            {
                "month": record["month"],
                "residents": residents,
                "users": users,
                "dau": float(daily[first : first + MONTH_DAYS].mean()),
                **{name: record[name] for name in MONTHLY_COLUMNS[4:-1]},
                "gmv": float(sales[first : first + MONTH_DAYS].sum()),
            }
        )
    frame = pd.DataFrame(rows, columns=list(MONTHLY_COLUMNS))
    floats = {"dau", "gmv"}
    integer = [name for name in MONTHLY_COLUMNS if name not in floats]
    return frame.astype(dict.fromkeys(integer, np.int64) | dict.fromkeys(floats, np.float64))


def order_value_frame(histogram: np.ndarray) -> pd.DataFrame:
    """The order-value histogram as a frame: bin edges and one count column per channel."""
    frame = pd.DataFrame({"low": ORDER_VALUE_EDGES[:-1], "high": ORDER_VALUE_EDGES[1:]})
    for row, channel in enumerate(CHANNELS):
        frame[channel] = histogram[row]
    return frame


_SUMMARY_NAMES = {"exposed_users": "exposed_user_days", "buyers": "buyer_days"}
SUMMARY_COLUMNS: tuple[str, ...] = tuple(_SUMMARY_NAMES.get(c, c) for c in COLUMNS)
"""The columns of :attr:`Result.summary`: the daily columns, with the two distinct-user counts
renamed, since summed over days they count user-days."""


def summary_frame(counts: np.ndarray) -> pd.DataFrame:
    """Per-channel totals over the run and the ratios of the totals."""
    total = counts.sum(axis=0)
    values = with_ratios(total)
    frame = pd.DataFrame(values, columns=list(COLUMNS), index=pd.Index(ROWS, name="channel"))
    integer = [c for c in COLUMNS if c in COUNTS and c != "gmv"]
    frame[integer] = frame[integer].astype(np.int64)
    return frame.rename(columns=_SUMMARY_NAMES)


OUTCOME_COLUMNS: tuple[str, ...] = (
    "producer_income_total",
    "producers_with_income",
    "creator_income_gini",
    "creator_income_top1_share",
    "creator_income_top10_share",
    "creators_with_sales",
    "non_head_traffic_share",
    "top10_sellers_gmv_share",
    "monthly_repurchase_all",
    "monthly_repurchase_trust",
    "monthly_repurchase_traffic",
    "repeat_customers_creators",
    "repeat_customers_storefronts",
    "producer_net_total",
    "producer_net_effect",
    "producers_gaining_share",
    "producers_losing_share",
    "producer_gain_top10_share",
    "poverty_earner_share",
    "poverty_gmv_share",
    "information_reach",
    "information_rural_reach",
)
"""The keys of :attr:`Result.outcomes`, in order."""

OUTCOME_BOUNDS: dict[str, tuple[float, float]] = {
    name: (0.0, 1.0)
    for name in OUTCOME_COLUMNS
    if name.endswith(("_share", "_gini", "_reach")) or name.startswith(("monthly_", "repeat_"))
} | {
    name: (0.0, np.inf)
    for name in ("producer_income_total", "producers_with_income", "creators_with_sales")
}
"""What each outcome can take (shares, Ginis and repurchase rates within [0, 1]; incomes and
counts at least 0); the net income change and its effect can take either sign. Intervals over
replications are clipped to these (:func:`laotie.stats.interval_table`)."""


def run_outcomes(
    engine: Replication,
    producers: pd.DataFrame | None = None,
    regions: pd.DataFrame | None = None,
) -> dict[str, float]:
    """Per-run outcomes (docs/model.md section 3.6); ``producers`` and ``regions`` are the
    run's :func:`~laotie.accounts.producer_frame` and :func:`~laotie.accounts.region_frame`
    when they are at hand (made here otherwise)."""
    if producers is None:
        producers = producer_frame(engine)
    if regions is None:
        _, information_regions = engine.information.frames(engine.graph.region_names)
        regions = region_frame(engine, producers, information_regions)
    m = engine.market
    income = engine.creator_income
    exposures = engine.creator_exposures
    total = exposures.sum()
    out = {
        "producer_income_total": float(engine.producer_income.sum()),
        "producers_with_income": int((engine.producer_income > 0).sum()),
        "creator_income_gini": gini(income),
        "creator_income_top1_share": top_share(income, 0.01),
        "creator_income_top10_share": top_share(income, 0.10),
        "creators_with_sales": int((income > 0).sum()),
        "non_head_traffic_share": float(exposures[~m.is_head].sum() / total)
        if total
        else float("nan"),
        "top10_sellers_gmv_share": _top_sellers_share(engine.seller_gmv, 10),
    }
    for name in ("all", "trust", "traffic"):
        rates = [r[name] for r in engine.repurchase if not np.isnan(r[name])]
        out[f"monthly_repurchase_{name}"] = float(np.mean(rates)) if rates else float("nan")
    creators = len(m.is_head)
    for name, sold in (("creators", slice(0, creators)), ("storefronts", slice(creators, None))):
        customers = engine.seller_customers[sold].sum()
        repeat = engine.seller_repeat_customers[sold].sum()
        out[f"repeat_customers_{name}"] = float(repeat / customers) if customers else float("nan")
    out.update(producer_outcomes(producers, engine.day))
    out.update(poverty_outcomes(regions))
    out.update(information_outcomes(engine.information, engine.day))
    return out


def information_outcomes(information: InformationState, days: int) -> dict[str, float]:
    """The government messages' reach at the end of a run of ``days`` days: the share of
    residents, and of rural residents, who know a message, averaged over the messages posted
    within the run (NaN when none was)."""
    posted = information.post_day < days
    if not posted.any():
        return {"information_reach": float("nan"), "information_rural_reach": float("nan")}
    shares = information.shares(information.counts[posted])
    with np.errstate(invalid="ignore"):
        return {
            "information_reach": float(np.mean(shares["share_informed"])),
            "information_rural_reach": float(np.mean(shares["share_rural"])),
        }


def _top_sellers_share(gmv: np.ndarray, k: int) -> float:
    """The share of all GMV sold by the ``k`` sellers who sold most (NaN without sales)."""
    values = np.asarray(gmv, np.float64)
    total = values.sum()
    if total <= 0:
        return float("nan")
    return float(np.sort(values)[::-1][:k].sum() / total)


_FORMAT = "laotie-result"
_FORMAT_VERSION = 2
_META = "result.json"
_DAILY_PARQUET = "daily.parquet"
_DAILY_CSV = "daily.csv"
_SUMMARY = "summary.csv"
_ORDER_VALUES = "order_values.csv"
_INFORMATION = "information.csv"
_INFORMATION_REGIONS = "information_regions.csv"
_MONTHLY = "monthly.csv"
_PRODUCERS = "producers.csv"
_REGIONS = "regions.csv"
_ARRAYS = "arrays.npz"
_FILES = (
    _META,
    _DAILY_PARQUET,
    _DAILY_CSV,
    _SUMMARY,
    _ORDER_VALUES,
    _INFORMATION,
    _INFORMATION_REGIONS,
    _MONTHLY,
    _PRODUCERS,
    _REGIONS,
    _ARRAYS,
)
_ARRAY_NAMES = (
    "creator_income",
    "producer_income",
    "producer_orders",
    "producer_buyers",
    "seller_gmv",
)


def _dtype_spec(dtype: Any, where: str) -> dict[str, Any]:
    """The dtype of a column or index as JSON values (see :func:`_restore`)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return {
            "dtype": "category",
            "categories": [plain(c) for c in dtype.categories],
            "ordered": bool(dtype.ordered),
        }
    if pd.api.types.is_string_dtype(dtype):
        return {"dtype": "str"}
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return {"dtype": dtype.name}
    raise LaotieError(f"{where} has dtype {dtype}, which a result cannot save")


def _schema(frame: pd.DataFrame, where: str) -> dict[str, Any]:
    """Column names and dtypes, and the index unless it is the default 0, 1, ..., n - 1."""
    index = frame.index
    return {
        "index": {"name": index.name, **_dtype_spec(index.dtype, f"{where}, index")}
        if _has_index(frame)
        else None,
        "columns": [
            {"name": str(name), **_dtype_spec(frame[name].dtype, f"{where}, column {name!r}")}
            for name in frame.columns
        ],
    }


def _restore(values: Any, spec: dict[str, Any]) -> Any:
    """``values`` (text from a CSV file, or typed from Parquet) with the dtype of ``spec``."""
    kind = spec["dtype"]
    if kind == "category":
        dtype = pd.CategoricalDtype(spec["categories"], ordered=spec["ordered"])
        values = np.asarray(values, dtype=object)
        unknown = ~pd.isna(values) & ~np.isin(values, np.asarray(dtype.categories, dtype=object))
        if unknown.any():
            raise ValueError(
                f"values {sorted(set(values[unknown]))} are not among the "
                f"categories {list(dtype.categories)}"
            )
        return pd.Categorical(values, dtype=dtype)
    if kind == "str":
        return list(values)
    if kind == "bool" and np.asarray(values).dtype.kind in "OUS":
        return np.asarray(values, dtype=str) == "True"
    return np.asarray(values).astype(kind)


def _has_index(frame: pd.DataFrame) -> bool:
    """Whether the index of ``frame`` is more than the default 0, 1, ..., n - 1."""
    index = frame.index
    default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    return not default or index.name is not None


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=_has_index(frame), na_rep="NaN", lineterminator="\n")


def _read_frame(path: Path, spec: dict[str, Any]) -> pd.DataFrame:
    """A frame saved by :meth:`Result.save`, with the dtypes of its ``spec``."""
    with _reading(path):
        if path.suffix == ".parquet":
            if not parquet_available():
                raise LaotieError(f"{path}: reading Parquet needs pyarrow: pip install pyarrow")
            raw = pd.read_parquet(path, engine="pyarrow")
        else:
            # Every cell as its text, converted below: exact, whatever pandas' float parser.
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
        index = spec["index"]
        names = [c["name"] for c in spec["columns"]]
        found = [str(c) for c in raw.columns]
        expected = names if index is None or path.suffix == ".parquet" else [index["name"], *names]
        if found != expected:
            raise LaotieError(f"{path}: columns {found} do not match the {expected} of {_META}")
        frame = pd.DataFrame(
            {c["name"]: _restore(raw[c["name"]].to_numpy(), c) for c in spec["columns"]},
            columns=names,
        )
        if index is not None:
            values = raw.index if path.suffix == ".parquet" else raw[index["name"]]
            frame.index = pd.Index(_restore(np.asarray(values), index), name=index["name"])
    return frame


def _to_json(meta: dict[str, Any], directory: Path) -> str:
    """``meta`` as strict JSON (no NaN), or a LaotieError naming the part that cannot be."""
    for key, value in meta.items():
        try:
            json.dumps(value, allow_nan=False, default=json_default)
        except (TypeError, ValueError) as err:
            raise LaotieError(
                f"{directory}: cannot save the result's {key} as JSON ({err})"
            ) from err
    return json.dumps(meta, allow_nan=False, default=json_default, ensure_ascii=False, indent=2)


def message_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per message: final coverage (overall, rural, non-users, baseline), days to 50 % and 80 %."""
    rows = []
    for message, group in frame.groupby("message", sort=True):
        since = group["day"] - group["posted_day"]
        row = {"message": message, "posted_day": int(group["posted_day"].iloc[0])}
        for threshold in (0.5, 0.8):
            hit = since[group["share_informed"] >= threshold]
            row[f"days_to_{int(threshold * 100)}"] = float(hit.iloc[0] + 1) if len(hit) else np.nan
        last = group.iloc[-1]
        for column in ("share_informed", "share_rural", "share_non_users", "urban_rural_gap"):
            row[column] = float(last[column])
        row["baseline_share"] = float(last["baseline_share"])
        rows.append(row)
    return pd.DataFrame(rows)
