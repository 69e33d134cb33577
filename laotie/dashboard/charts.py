"""The dashboard's figures, drawn with matplotlib's object interface (no pyplot: no global
figure state, so that several sessions of a page may draw at once).

:func:`run_figure` draws a run as it stands (:class:`~laotie.dashboard.measures.Snapshot`);
:func:`comparison_figure` draws two variants with their intervals
(:class:`~laotie.dashboard.compare.Comparison`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..metrics import gini
from .measures import MEASURES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .compare import Comparison
    from .measures import Snapshot

__all__ = ["CHANNEL_COLOURS", "comparison_figure", "run_figure"]

CHANNEL_COLOURS = {"trust": "C3", "storefront": "C0", "all": "0.3"}
"""The colour of each channel in every figure: trust (老铁) red, storefronts blue. The figures'
text is English only, so that they need no CJK font; the page gives the Chinese terms."""

_CHANNEL_NAMES = {"trust": "trust (creators)", "storefront": "storefronts", "all": "all"}


def run_figure(snapshot: Snapshot, *, dpi: int = 80) -> Figure:
    """A run so far: conversion, order value, GMV and repeat share by channel, producers'
    income (Lorenz curve) and the reach of government messages.

    Parameters
    ----------
    snapshot : Snapshot
        The run as it stands.
    dpi : int, default 80
        Resolution of the figure.

    Returns
    -------
    matplotlib.figure.Figure
        Six panels; the day axis spans the scenario's days, so the lines grow as the run
        goes on. The per-channel lines are ratios of sums from day 1 (their last points are
        the page's table).
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    figure = Figure(figsize=(12, 6.6), dpi=dpi, layout="constrained")
    axes = figure.subplots(2, 3)
    name = snapshot.scenario.name
    figure.suptitle(
        f"{name}: day {snapshot.day} of {snapshot.days}, seed {snapshot.seed} "
        "(mostly assumed parameters)"
    )
    series = {c: snapshot.cumulative(c) for c in ("trust", "storefront", "all")}
    panels = (
        (axes[0, 0], "conversion", "conversion so far", "orders per exposure"),
        (axes[0, 1], "order_value", "order value so far", "RMB per order"),
        (axes[0, 2], "gmv", "GMV so far", "RMB"),
        (axes[1, 0], "repeat_share", "repeat orders so far", "share of orders"),
    )
    for ax, column, title, ylabel in panels:
        channels = ("trust", "storefront", "all") if column == "gmv" else ("trust", "storefront")
        for channel in channels:
            frame = series[channel]
            ax.plot(
                frame.index,
                frame[column],
                color=CHANNEL_COLOURS[channel],
                label=_CHANNEL_NAMES[channel],
                linewidth=2 if channel != "all" else 1.2,
            )
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.set_xlim(0, max(snapshot.days, 1))
        ax.set_xlabel("day")
        if column in ("conversion", "repeat_share"):
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=1))
        ax.set_ylim(bottom=0)
        if snapshot.day:
            ax.legend(fontsize=8, loc="best")
    _lorenz(axes[1, 1], snapshot.producer_income)
    _reach(axes[1, 2], snapshot)
    return figure


def comparison_figure(comparison: Comparison, *, dpi: int = 80) -> Figure:
    """Two variants side by side: each measure's mean and interval, and every replication.

    Parameters
    ----------
    comparison : Comparison
        The two variants' runs.
    dpi : int, default 80
        Resolution of the figure.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per measure, each with the two variants' means and their intervals, and
        every replication's value as a faint dot.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 5.6), dpi=dpi, layout="constrained")
    axes = figure.subplots(2, 5).ravel()
    level = round(100 * comparison.level)
    figure.suptitle(
        f"{comparison.labels[0]} and {comparison.labels[1]}: means and {level} % intervals over "
        f"{comparison.replications} replications, seed {comparison.seed} "
        "(mostly assumed parameters)"
    )
    colours = ("C1", "C2")
    for ax, (key, measure) in zip(axes, MEASURES.items(), strict=True):
        row = comparison.table.loc[key]
        values = comparison.values[comparison.values["measure"] == key]
        for x, (label, colour) in enumerate(zip(comparison.labels, colours, strict=True)):
            ax.plot(
                np.full(len(values), x), values[label], "o", color=colour, alpha=0.3, markersize=4
            )
            mean, low, high = row[label], row[f"{label}_low"], row[f"{label}_high"]
            if np.isfinite(mean):
                error = [[mean - low], [high - mean]] if np.isfinite(low) else None
                ax.errorbar(x, mean, yerr=error, fmt="s", color=colour, capsize=5, markersize=7)
        if not np.isfinite(row[comparison.labels[0]]) and not np.isfinite(
            row[comparison.labels[1]]
        ):
            ax.text(0.5, 0.5, "undefined\nin these runs", ha="center", va="center",
                    transform=ax.transAxes, color="0.4")  # fmt: skip
        ax.set_xticks([0, 1], list(comparison.labels))
        ax.set_xlim(-0.6, 1.6)
        ax.set_title(measure.label, fontsize=9)
        if measure.unit and measure.unit != "share":
            ax.set_ylabel(measure.unit, fontsize=8)
    return figure


def _lorenz(ax: Axes, income: np.ndarray) -> None:
    """The Lorenz curve of poor producers' income, or a message when there is none."""
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="equality")
    ax.set_title("poor producers' income: Lorenz curve", fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("share of producers (lowest income first)")
    ax.set_ylabel("share of producers' income")
    values = np.sort(np.asarray(income, dtype=np.float64))
    if len(values) == 0:
        _message(ax, "no poor producers in this scenario\n(producers.n_producers = 0)")
        return
    if values.sum() <= 0:
        _message(ax, f"{len(values):,} producers,\nno income yet")
        return
    x = np.arange(len(values) + 1) / len(values)
    y = np.concatenate(([0.0], np.cumsum(values) / values.sum()))
    label = f"{len(values):,} producers, Gini {gini(values):.2f}"
    ax.plot(x, y, color="C2", linewidth=2, label=label)
    ax.fill_between(x, x, y, color="C2", alpha=0.15)
    ax.legend(fontsize=8, loc="upper left")


def _reach(ax: Axes, snapshot: Snapshot) -> None:
    """The share of residents each government message has reached, by day."""
    ax.set_title("reach of government messages", fontsize=10)
    ax.set_xlim(0, max(snapshot.days, 1))
    ax.set_ylim(0, 1)
    ax.set_xlabel("day")
    ax.set_ylabel("share of residents informed")
    n_messages = snapshot.scenario.information.n_messages
    frame = snapshot.information
    if n_messages == 0:
        _message(ax, "no government messages\n(information.n_messages = 0)")
        return
    if len(frame) == 0:
        first = snapshot.scenario.information.first_day
        _message(ax, f"{n_messages} message(s), the first on day {first}")
        return
    for message, rows in frame.groupby("message", sort=True):
        ax.plot(rows["day"], rows["share_informed"], linewidth=1.5, label=f"message {message}")
    ax.legend(fontsize=8, loc="upper left")


def _message(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
