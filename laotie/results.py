"""Results of a run: tidy per-day frames, a per-channel summary and per-run outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

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
    from .engine.engine import Engine
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
        repurchase, share of creator traffic to non-head creators.
    creator_income, producer_income : numpy.ndarray
        Income per selling creator (commission, RMB) and per poor producer (RMB).
    order_values : pandas.DataFrame
        Histogram of order values (客单价) per channel over the run: one row per bin
        (``low``, ``high`` in RMB) and one column of counts per sub-channel.
    scenario : Scenario
    seed : dict
        The run's SeedSequence entropy and spawn key: enough to repeat the run exactly.
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

    @classmethod
    def from_engine(cls, engine: Engine, info: dict[str, Any] | None = None) -> Result:
        """Collect the results of an engine after its run."""
        counts = np.array(engine.history).reshape(len(engine.history), len(ROWS), len(COUNTS))
        return cls(
            daily=daily_frame(counts),
            summary=summary_frame(counts),
            outcomes=run_outcomes(engine),
            creator_income=engine.creator_income.copy(),
            producer_income=engine.producer_income.copy(),
            order_values=order_value_frame(engine.order_values),
            scenario=engine.scenario,
            seed={
                "entropy": engine.seed_sequence.entropy,
                "spawn_key": list(engine.seed_sequence.spawn_key),
            },
            info=dict(info or {}),
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


def order_value_frame(histogram: np.ndarray) -> pd.DataFrame:
    """The order-value histogram as a frame: bin edges and one count column per channel."""
    frame = pd.DataFrame({"low": ORDER_VALUE_EDGES[:-1], "high": ORDER_VALUE_EDGES[1:]})
    for row, channel in enumerate(CHANNELS):
        frame[channel] = histogram[row]
    return frame


def summary_frame(counts: np.ndarray) -> pd.DataFrame:
    """Per-channel totals over the run and the ratios of the totals."""
    total = counts.sum(axis=0)
    values = with_ratios(total)
    frame = pd.DataFrame(values, columns=list(COLUMNS), index=pd.Index(ROWS, name="channel"))
    return frame.rename(columns={"exposed_users": "exposed_user_days", "buyers": "buyer_days"})


def run_outcomes(engine: Engine) -> dict[str, float]:
    """Per-run outcomes (docs/model.md section 3.6)."""
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
    }
    for name in ("all", "trust", "traffic"):
        rates = [r[name] for r in engine.repurchase if not np.isnan(r[name])]
        out[f"monthly_repurchase_{name}"] = float(np.mean(rates)) if rates else float("nan")
    return out
