"""What the dashboard shows of a run: the measures of a :class:`~laotie.results.Result` and a
run in progress, :class:`Simulation`, read as :class:`Snapshot` objects.

The same function, :func:`measure_values`, gives the numbers of the single-run view (the run
so far) and of each replication in the comparison (:mod:`laotie.dashboard.compare`), so the
two views agree with each other and with :func:`laotie.simulate`. Nothing here imports
Solara.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..metrics import gini

if TYPE_CHECKING:
    from ..model import LaotieModel
    from ..results import Result
    from ..scenario import Scenario

__all__ = ["MEASURES", "Measure", "Simulation", "Snapshot", "format_value", "measure_values"]


@dataclass(frozen=True)
class Measure:
    """One number the dashboard reports.

    Attributes
    ----------
    label : str
        Its name (English: figures use it as it is, so that it needs no CJK font).
    term : str
        The Chinese term, shown beside the label on the page, or ``""``.
    unit : str
        Its unit (``"share"`` is shown as a percentage).
    meaning : str
        How it is computed, in a sentence.
    """

    label: str
    term: str
    unit: str
    meaning: str


MEASURES: dict[str, Measure] = {
    "trust_conversion": Measure(
        "conversion, trust",
        "老铁 转化率",
        "share",
        "orders per exposure through creators (follow, discovery, word of mouth)",
    ),
    "storefront_conversion": Measure(
        "conversion, storefronts", "", "share", "orders per storefront ad impression"
    ),
    "trust_order_value": Measure(
        "order value, trust", "客单价", "RMB", "GMV per order through creators"
    ),
    "storefront_order_value": Measure(
        "order value, storefronts", "", "RMB", "GMV per order through storefronts"
    ),
    "all_gmv": Measure("GMV", "成交额", "RMB", "value of every order, all channels"),
    "all_repeat_share": Measure(
        "repeat share", "回头客", "share", "share of orders from a buyer who bought before"
    ),
    "creator_income_gini": Measure(
        "creators' income Gini", "", "", "inequality of selling creators' commission (0: equal)"
    ),
    "producer_income_total": Measure(
        "producers' income",
        "精准扶贫",
        "RMB",
        "poor producers' share of the sales of their specialties",
    ),
    "producer_income_gini": Measure(
        "producers' income Gini", "", "", "inequality of poor producers' income (0: equal)"
    ),
    "information_share_informed": Measure(
        "information reach",
        "最后一公里",
        "share",
        "share of residents a government message reached, mean over the messages posted",
    ),
}
"""The measures of a run, by key: per channel so far (ratios of sums over the days), creators'
and producers' income, and the reach of government information."""


def measure_values(result: Result) -> dict[str, float]:
    """The :data:`MEASURES` of a run.

    Parameters
    ----------
    result : Result
        A run (or a run so far: :meth:`LaotieModel.result`).

    Returns
    -------
    dict of str to float
        One value per key of :data:`MEASURES`; NaN where a measure is undefined (a
        conversion without exposures, a Gini without income, reach without messages).

    Examples
    --------
    >>> import math
    >>> from laotie import Scenario, simulate
    >>> values = measure_values(simulate(Scenario.load("village"), days=10, seed=1))
    >>> values["all_gmv"] > 0, math.isnan(values["information_share_informed"])
    (True, True)
    """
    summary = result.summary
    income = np.asarray(result.producer_income, dtype=np.float64)
    messages = result.messages
    reach = float(messages["share_informed"].mean()) if len(messages) else float("nan")
    return {
        "trust_conversion": float(summary.at["trust", "conversion"]),
        "storefront_conversion": float(summary.at["storefront", "conversion"]),
        "trust_order_value": float(summary.at["trust", "order_value"]),
        "storefront_order_value": float(summary.at["storefront", "order_value"]),
        "all_gmv": float(summary.at["all", "gmv"]),
        "all_repeat_share": float(summary.at["all", "repeat_share"]),
        "creator_income_gini": float(result.outcomes["creator_income_gini"]),
        "producer_income_total": float(result.outcomes["producer_income_total"]),
        "producer_income_gini": gini(income),
        "information_share_informed": reach,
    }


def format_value(value: float, unit: str) -> str:
    """A number as the page shows it: a share as a percentage, RMB with thousands separators.

    Parameters
    ----------
    value : float
        The number (NaN: undefined).
    unit : str
        Its unit.

    Returns
    -------
    str
        ``"–"`` for NaN.

    Examples
    --------
    >>> format_value(0.01234, "share"), format_value(11214.3, "RMB"), format_value(0.6, "")
    ('1.23 %', '11,214 RMB', '0.6')
    """
    if isinstance(value, bool):
        return str(value)
    if not np.isfinite(value):
        return "–"
    if unit == "share":
        return f"{100 * value:.2f} %"
    if unit == "RMB":
        return f"{value:,.0f} RMB" if abs(value) >= 1000 else f"{value:,.1f} RMB"
    return f"{value:.4g}" + (f" {unit}" if unit else "")


@dataclass(frozen=True, eq=False)
class Snapshot:
    """A run as it stood on one day: what the single-run view draws and tabulates.

    Attributes
    ----------
    scenario : Scenario
        The scenario run.
    seed : int
        The run's seed.
    day, days : int
        Days simulated so far, and the scenario's days.
    daily : pandas.DataFrame
        One row per day (1 .. ``day``) and channel (``Result.daily``).
    measures : dict of str to float
        :func:`measure_values` of the run so far.
    producer_income : numpy.ndarray
        Each poor producer's income so far (RMB).
    information : pandas.DataFrame
        Per government message and day, its coverage (``Result.information``).
    """

    scenario: Scenario
    seed: int
    day: int
    days: int
    daily: pd.DataFrame
    measures: dict[str, float]
    producer_income: np.ndarray
    information: pd.DataFrame

    @property
    def finished(self) -> bool:
        """Whether the scenario's days are all simulated."""
        return self.day >= self.days

    def cumulative(self, channel: str) -> pd.DataFrame:
        """A channel's conversion, order value, GMV and repeat share over days 1 .. day.

        Parameters
        ----------
        channel : str
            A channel or family of ``Result.daily`` (``"trust"``, ``"storefront"``,
            ``"all"`` ...).

        Returns
        -------
        pandas.DataFrame
            Indexed by day: ``conversion``, ``order_value`` and ``repeat_share`` as ratios of
            the sums from day 1 to that day (NaN before the first exposure or order), and
            ``gmv``, the GMV so far (RMB). On the last day they equal :attr:`measures`.
        """
        rows = self.daily[self.daily["channel"] == channel].set_index("day").sort_index()
        orders = rows["orders"].cumsum()
        # repeat_share is NaN on a day without orders, when there were no repeat orders.
        repeat = (rows["repeat_share"].fillna(0.0) * rows["orders"]).cumsum()
        with np.errstate(invalid="ignore", divide="ignore"):
            return pd.DataFrame(
                {
                    "conversion": orders / rows["exposures"].cumsum().replace(0, np.nan),
                    "order_value": rows["gmv"].cumsum() / orders.replace(0, np.nan),
                    "gmv": rows["gmv"].cumsum(),
                    "repeat_share": repeat / orders.replace(0, np.nan),
                }
            )


class Simulation:
    """A run of a scenario stepped day by day (a :class:`~laotie.model.LaotieModel`), which
    one thread may step while another reads it.

    Parameters
    ----------
    scenario : Scenario
        The scenario to run, at the scale to build.
    seed : int
        The run's seed (the same seed gives the same run, equal to :func:`laotie.simulate`'s).

    Examples
    --------
    >>> from laotie import Scenario
    >>> sim = Simulation(Scenario.load("village"), seed=1)
    >>> sim.step(5)
    5
    >>> sim.snapshot().day
    5
    """

    def __init__(self, scenario: Scenario, seed: int) -> None:
        from ..model import LaotieModel

        self.seed = seed
        self._lock = threading.Lock()
        self.model: LaotieModel = LaotieModel(scenario, seed=seed, agent_data=False)
        self.scenario = self.model.scenario

    @property
    def day(self) -> int:
        """Days simulated so far."""
        return int(self.model.steps)

    @property
    def days(self) -> int:
        """The scenario's days (``run.days``)."""
        return self.model.days

    @property
    def finished(self) -> bool:
        """Whether the scenario's days are all simulated (the model no longer ``running``)."""
        return not self.model.running

    def step(self, days: int = 1) -> int:
        """Simulate up to ``days`` more days, never past the scenario's last.

        Parameters
        ----------
        days : int, default 1
            Days to simulate.

        Returns
        -------
        int
            The days simulated (fewer than ``days`` at the end of the run).
        """
        done = 0
        with self._lock:
            while done < days and self.model.running:
                self.model.step()
                done += 1
        return done

    def snapshot(self) -> Snapshot:
        """The run so far, copied out of the model.

        Returns
        -------
        Snapshot
        """
        with self._lock:
            result = self.model.result()
            day = self.day
        return Snapshot(
            scenario=self.scenario,
            seed=self.seed,
            day=day,
            days=self.days,
            daily=result.daily,
            measures=measure_values(result),
            producer_income=np.asarray(result.producer_income, dtype=np.float64),
            information=result.information,
        )
