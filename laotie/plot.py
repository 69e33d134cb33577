"""Plots of a :class:`~laotie.results.Result` with matplotlib (imported only when plotting).

Every function takes a result, or the replications of a run (a list of results, as
:func:`laotie.runs.replicate` returns), and an optional ``ax`` to draw on (a new figure
otherwise), and returns the :class:`matplotlib.axes.Axes` it drew on. Given replications,
the series over days (conversion, cumulative GMV, coverage) show the mean over the
replications with a 95 % band (:func:`laotie.stats.t_intervals`), and the other kinds, which
picture one run's distribution, draw replication 0; the title says which.

Nothing calls ``plt.show()``: show or save the figure yourself
(``ax.figure.savefig("conversion.png")``). Labels on the figures are in English only, because
matplotlib's default fonts have no Chinese glyphs; the Chinese terms are in the docstrings.

Kinds, for :func:`plot` and :meth:`Result.plot <laotie.results.Result.plot>`:

- ``"conversion"``: conversion (转化率) by channel over days (:func:`conversion`);
- ``"order_values"``: the order-value (客单价) distributions by channel (:func:`order_values`);
- ``"cumulative_gmv"``: cumulative GMV (成交额) by channel (:func:`cumulative_gmv`);
- ``"lorenz"``: the Lorenz curve of creators' income with its Gini coefficient (:func:`lorenz`);
- ``"producer_income"``: poor producers' income (精准扶贫) (:func:`producer_income`);
- ``"coverage"``: a government message's reach over days (最后一公里) (:func:`coverage`).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> from laotie import Scenario, simulate
>>> result = simulate(Scenario.preset("mudanjiang", scale=0.001), days=10, seed=1)
>>> ax = result.plot("cumulative_gmv")
>>> [line.get_label() for line in ax.get_lines()][:2]
['follow (... RMB)', 'discovery (... RMB)']
>>> plt.close(ax.figure)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import ScenarioError
from .metrics import CHANNELS, FAMILIES, ROWS, gini
from .params import did_you_mean

if TYPE_CHECKING:
    from typing import TypeAlias

    from matplotlib.axes import Axes

    from .results import Result
    from .sensitivity import SensitivityResult

    Results: TypeAlias = Result | Sequence[Result]

__all__ = [
    "KINDS",
    "conversion",
    "coverage",
    "cumulative_gmv",
    "lorenz",
    "order_values",
    "plot",
    "producer_income",
    "sensitivity_indices",
    "write_figures",
]

DEFAULT_CHANNELS: tuple[str, ...] = ("follow", "discovery", "wom", "storefront", "trust", "traffic")
"""Channels drawn by default: the four sub-channels and the trust and traffic families."""

# Sub-channels solid; families dashed in the colour of their members (traffic is storefront).
_STYLE: dict[str, dict[str, Any]] = {
    "follow": {"color": "C0", "linestyle": "-"},
    "discovery": {"color": "C1", "linestyle": "-"},
    "wom": {"color": "C2", "linestyle": "-"},
    "storefront": {"color": "C3", "linestyle": "-"},
    "trust": {"color": "C4", "linestyle": "--"},
    "traffic": {"color": "C3", "linestyle": "--"},
    "all": {"color": "0.2", "linestyle": ":"},
}


def conversion(
    result: Results,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    *,
    window: int = 7,
    ax: Axes | None = None,
) -> Axes:
    """Conversion (转化率: orders per exposure) by channel over the days of the run.

    Parameters
    ----------
    result : Result or sequence of Result
        The run to plot, or its replications: then the mean over them with a 95 % band.
    channels : sequence of str, default: the sub-channels and the trust and traffic families
        Rows of ``result.daily["channel"]``: ``follow``, ``discovery``, ``wom``,
        ``storefront``, ``trust``, ``traffic`` or ``all``. One line each, in this order.
    window : int, default 7
        Days in the rolling window, ending on the day plotted (1: each day on its own).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One line per channel (with replications, the mean and its band in the line's
        colour); the y axis is conversion in percent.

    Raises
    ------
    ScenarioError
        For an unknown channel (with the nearest valid one) or a window below 1.

    Notes
    -----
    The value on day ``t`` is the ratio of sums over the window,
    ``sum(orders[t - window + 1 .. t]) / sum(exposures[t - window + 1 .. t])``, not the mean
    of daily ratios, so quiet days weigh less than busy ones; the first ``window - 1`` days
    use the days available. A window without exposures leaves a gap.
    The ``traffic`` family is the ``storefront`` channel alone, so their lines coincide.
    With replications, the line is the mean of the replications' values on the day (those
    where it is defined), as in :func:`laotie.stats.summarise`.
    """
    channels = _check_channels(channels, ROWS)
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise ScenarioError(f"window = {window!r} is not allowed; expected an integer ≥ 1")
    results, note = _pooled(result)
    ax = _axes(ax)
    ratios = []
    for one in results:
        orders = _by_day(one, "orders").rolling(window, min_periods=1).sum()
        exposures = _by_day(one, "exposures").rolling(window, min_periods=1).sum()
        ratios.append(orders / exposures.where(exposures > 0))
    mean, low, high = _mean_band(ratios)
    for channel in channels:
        _draw_band(ax, mean, low, high, channel, label=channel)
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlabel("day")
    ax.set_ylabel("conversion (orders / exposures)")
    what = "daily" if window == 1 else f"{window}-day rolling"
    ax.set_title(_titled(f"Conversion by channel ({what})", note))
    if len(mean) == 0:
        _message(ax, "no days simulated")
    else:
        ax.legend()
    return ax


def order_values(
    result: Results,
    channels: Sequence[str] = CHANNELS,
    *,
    ax: Axes | None = None,
) -> Axes:
    """The distribution of order values (客单价, RMB per order) by channel over the run.

    Parameters
    ----------
    result : Result or sequence of Result
        The run to plot, or its replications: then replication 0, named in the title.
    channels : sequence of str, default: the four sub-channels
        ``follow``, ``discovery``, ``wom``, ``storefront``, or a family (``trust``,
        ``traffic``, ``all``: the sum of its sub-channels' histograms).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One step outline per channel with orders, and a dotted vertical line at its mean
        order value; channels without orders are named in a note on the axes.

    Raises
    ------
    ScenarioError
        For an unknown channel (with the nearest valid one).

    Notes
    -----
    The histograms are ``result.order_values``, normalised per channel: a bar's height is
    the share of the channel's orders in that bin, so the heights of a channel sum to 1.
    The bins are equal on a log scale (60 from 1 to 100,000 RMB), and the x axis is
    logarithmic. The two open-ended bins, below 1 RMB and above 100,000 RMB, are drawn one
    bin wide. The mean marked is the exact one, GMV / orders from ``result.summary``, not
    one estimated from the bins.
    """
    channels = _check_channels(channels, ROWS)
    result, note = _first(result)
    ax = _axes(ax)
    hist = result.order_values
    edges = np.append(hist["low"].to_numpy(float), hist["high"].to_numpy(float)[-1])
    step = edges[2] / edges[1]
    drawn_edges = edges.copy()
    drawn_edges[0] = edges[1] / step
    drawn_edges[-1] = edges[-2] * step
    empty = []
    occupied = np.zeros(len(hist), dtype=bool)
    for channel in channels:
        members = [CHANNELS[i] for i in FAMILIES[channel]] if channel in FAMILIES else [channel]
        counts = hist[members].to_numpy(np.int64).sum(axis=1)
        total = counts.sum()
        if total == 0:
            empty.append(channel)
            continue
        occupied |= counts > 0
        mean = float(result.summary.loc[channel, "order_value"])
        style = _STYLE[channel]
        ax.stairs(
            counts / total,
            drawn_edges,
            color=style["color"],
            linestyle=style["linestyle"],
            linewidth=1.5,
            label=f"{channel}: mean {mean:,.0f} RMB ({total:,} orders)",
        )
        ax.axvline(mean, color=style["color"], linestyle=":", linewidth=1.2)
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    if occupied.any():
        first, last = np.flatnonzero(occupied)[[0, -1]]
        ax.set_xlim(drawn_edges[max(first - 1, 0)], drawn_edges[min(last + 2, len(edges) - 1)])
        ax.legend()
    ax.set_xlabel("order value (RMB, log scale)")
    ax.set_ylabel("share of the channel's orders per bin")
    ax.set_title(_titled("Order value by channel (dotted: mean)", note))
    if empty:
        note = "no orders: " + ", ".join(empty)
        if not occupied.any():
            _message(ax, note)
        else:
            ax.text(0.99, 0.6, note, transform=ax.transAxes, ha="right", va="top", fontsize=9)
    return ax


def cumulative_gmv(
    result: Results,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    *,
    ax: Axes | None = None,
) -> Axes:
    """Cumulative GMV (成交额, gross merchandise value in RMB) by channel over the days.

    Parameters
    ----------
    result : Result or sequence of Result
        The run to plot, or its replications: then the mean over them with a 95 % band.
    channels : sequence of str, default: the sub-channels and the trust and traffic families
        Rows of ``result.daily["channel"]``. One line each, in this order.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One line per channel; the value on day ``t`` is the GMV of days 0 to ``t`` (RMB),
        and each legend entry gives the channel's total over the run. With replications,
        the line is their mean, with its band, and the total the mean total.
        The ``traffic`` family is the ``storefront`` channel alone, so their lines
        coincide.

    Raises
    ------
    ScenarioError
        For an unknown channel (with the nearest valid one).
    """
    channels = _check_channels(channels, ROWS)
    results, note = _pooled(result)
    ax = _axes(ax)
    mean, low, high = _mean_band([_by_day(one, "gmv").cumsum() for one in results])
    for channel in channels:
        total = float(mean[channel].iloc[-1]) if len(mean) else 0.0
        _draw_band(ax, mean, low, high, channel, label=f"{channel} ({total:,.0f} RMB)")
    from matplotlib.ticker import StrMethodFormatter

    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel("day")
    ax.set_ylabel("cumulative GMV (RMB)")
    ax.set_title(_titled("Cumulative GMV by channel", note))
    if len(mean) == 0:
        _message(ax, "no days simulated")
    else:
        ax.legend()
    return ax


def lorenz(result: Results, *, ax: Axes | None = None) -> Axes:
    """The Lorenz curve of selling creators' income (commission, RMB) and its Gini coefficient.

    Parameters
    ----------
    result : Result or sequence of Result
        The run to plot, or its replications: then replication 0, named in the title.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Two lines: the Lorenz curve, labelled with the number of creators and the Gini
        coefficient (the same as ``result.outcomes["creator_income_gini"]``), and the line
        of equality (dashed). Without creator income only the line of equality is drawn,
        with a message.

    Notes
    -----
    With incomes sorted in increasing order, :math:`x_1 \\le \\dots \\le x_n`, the curve
    joins :math:`(0, 0)` and the points :math:`(i / n, \\sum_{j \\le i} x_j / \\sum_j x_j)`.
    The Gini coefficient is twice the area between the line of equality and the curve
    (0: every creator earns the same; near 1: one creator earns everything). Kuaishou
    describes its traffic policy (普惠) as keeping this coefficient of creators' income low.
    Creators who sold nothing count, with income 0.
    """
    result, note = _first(result)
    ax = _axes(ax)
    income = np.sort(np.asarray(result.creator_income, dtype=np.float64))
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="equality")
    if len(income) and income.sum() > 0:
        x = np.arange(len(income) + 1) / len(income)
        y = np.concatenate(([0.0], np.cumsum(income) / income.sum()))
        y[-1] = 1.0
        label = f"creators (n = {len(income):,}), Gini = {gini(income):.3f}"
        ax.plot(x, y, color="C4", linewidth=2, label=label)
        ax.fill_between(x, x, y, color="C4", alpha=0.15)
    else:
        _message(ax, "no creator income in this run")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("share of selling creators (lowest income first)")
    ax.set_ylabel("share of creators' income (commission)")
    ax.set_title(_titled("Lorenz curve of creators' income", note))
    ax.legend(loc="upper left")
    return ax


def producer_income(result: Results, *, ax: Axes | None = None) -> Axes:
    """Poor producers' income (精准扶贫, targeted poverty alleviation; RMB over the run).

    Parameters
    ----------
    result : Result or sequence of Result
        The run to plot, or its replications: then replication 0, named in the title.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The producers ranked by income, highest first, as filled bars of equal width over
        the share of producers (one filled step outline, so that it stays light for many
        producers); a dashed line at the mean; and a note with the number of producers, how
        many earned nothing and their share, and the total. With no producers in the
        scenario, a message instead.

    Notes
    -----
    A producer's income is ``producers.income_share`` of the value of every sale of their
    specialty (贫困户的特产), by whichever seller (creator or storefront) listed it.
    """
    result, note = _first(result)
    ax = _axes(ax)
    income = np.sort(np.asarray(result.producer_income, dtype=np.float64))[::-1]
    n = len(income)
    days = int(result.daily["day"].nunique())
    ax.set_xlabel("poor producers, ranked by income (share of producers)")
    ax.set_ylabel(f"income over {days} days (RMB)")
    ax.set_title(_titled("Poor producers' income", note))
    if n == 0:
        _message(ax, "no poor producers in this scenario\n(producers.n_producers = 0)")
        return ax
    from matplotlib.ticker import PercentFormatter

    edges = np.arange(n + 1) / n
    ax.stairs(income, edges, fill=True, color="C2", alpha=0.8, label="income per producer")
    mean = float(income.mean())
    ax.axhline(mean, color="0.3", linestyle="--", linewidth=1, label=f"mean {mean:,.1f} RMB")
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlim(0, 1)
    zero = int((income == 0).sum())
    note = (
        f"{n:,} producers; {zero:,} ({zero / n:.0%}) earned nothing\n"
        f"total {income.sum():,.0f} RMB, median {np.median(income):,.1f} RMB"
    )
    ax.text(0.98, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=9)
    ax.legend(loc="center right")
    return ax


def coverage(result: Results, *, message: int = 0, ax: Axes | None = None) -> Axes:
    """Coverage of a government message over days: by region, rural and urban, and baseline.

    Parameters
    ----------
    result : Result or sequence of Result
        The run to plot (with ``information.n_messages`` ≥ 1), or its replications: then
        the mean over them, with a 95 % band around the rural, urban and baseline lines.
    message : int
        Which message (0 is the first posted).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One thin line per region, thick lines for rural and urban residents, and a dashed
        line for the centralised baseline channel (city TV, news portal).

    Notes
    -----
    Coverage is the share of residents who know the message (最后一公里, the last mile),
    through the same-city feed (同城), the same-hometown feed (同乡), sharing in the app or
    kin offline; the baseline reaches people without the graph, for comparison.
    """
    results, note = _pooled(result)
    ax = _axes(ax)
    frame = results[0].information
    if len(frame) == 0 or message not in set(frame["message"]):
        _message(ax, "no government message in this run")
        return ax
    posted = int(frame.loc[frame["message"] == message, "posted_day"].iloc[0])
    columns = ["share_rural", "share_urban", "baseline_share"]
    shares = []
    by_region = []
    for one in results:
        rows = one.information[one.information["message"] == message]
        shares.append(rows.set_index("day")[columns])
        regions = one.information_regions
        regions = regions[regions["message"] == message]
        names = list(dict.fromkeys(regions["region"]))
        table = regions.pivot(index="day", columns="region", values="share_informed")
        by_region.append(table.reindex(columns=names))
    mean, _, _ = _mean_band(by_region)
    for name in mean.columns:
        ax.plot(mean.index, mean[name].to_numpy(), linewidth=0.8, alpha=0.6, label=str(name))
    mean, low, high = _mean_band(shares)
    for column, label, style in (
        ("share_rural", "rural", {"color": "C2", "linewidth": 2.5}),
        ("share_urban", "urban", {"color": "C1", "linewidth": 2.5}),
        (
            "baseline_share",
            "baseline (TV, portal)",
            {"color": "0.3", "linestyle": "--", "linewidth": 1.5},
        ),
    ):
        _draw_band(ax, mean, low, high, column, label=label, **style)
    ax.set_ylim(0, 1)
    ax.set_xlabel("day")
    ax.set_ylabel("share of residents informed")
    ax.set_title(_titled(f"Government message {message} (posted on day {posted})", note))
    ax.legend(fontsize="small", ncol=2)
    return ax


KINDS: dict[str, Callable[..., Axes]] = {
    "conversion": conversion,
    "order_values": order_values,
    "cumulative_gmv": cumulative_gmv,
    "lorenz": lorenz,
    "producer_income": producer_income,
    "coverage": coverage,
}
"""The plot kinds and the functions that draw them."""


def plot(result: Results, kind: str, **kwargs: Any) -> Axes:
    """Draw the plot ``kind`` of ``result``; ``kwargs`` go to the function of that kind.

    Parameters
    ----------
    result : Result or sequence of Result
        The run to plot, or its replications (see the kind's function).
    kind : str
        One of ``conversion``, ``order_values``, ``cumulative_gmv``, ``lorenz``,
        ``producer_income``, ``coverage`` (see :data:`KINDS`).
    **kwargs
        Passed on, e.g. ``ax`` or ``channels``.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ScenarioError
        For an unknown kind, naming the kinds and the nearest one.
    """
    if kind not in KINDS:
        hint = did_you_mean(kind, list(KINDS))
        raise ScenarioError(f"unknown plot kind {kind!r}{hint} (kinds: {', '.join(KINDS)})")
    return KINDS[kind](result, **kwargs)


def sensitivity_indices(result: SensitivityResult, *, ax: Axes | None = None) -> Axes:
    """Bars of a sensitivity analysis's indices (敏感性分析) with their 95 % intervals.

    Sobol: the first-order ``S1`` and total ``ST`` indices side by side. Morris: ``mu_star``
    (with its interval) and ``sigma`` side by side. One row of bars per parameter.

    Parameters
    ----------
    result : SensitivityResult
        What :func:`laotie.sensitivity.run_sensitivity` returned.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure, its height growing with the parameters, when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 1.6 + 0.6 * len(result.indices)))
    table = result.indices
    y = np.arange(len(table))
    height = 0.38
    bars: list[tuple[str, str | None, str]]
    if result.spec.method == "sobol":
        bars = [("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST")]
        label = "Sobol index (share of the output's variance)"
    else:
        bars = [("mu_star", "mu_star_conf", "μ* (mean |effect|)"), ("sigma", None, "σ")]
        label = f"effect on {result.spec.output} over the parameter's range"
    for i, (column, conf, name) in enumerate(bars):
        ax.barh(
            y + (i - 0.5) * height,
            table[column],
            height,
            xerr=table[conf] if conf else None,
            capsize=3,
            label=name,
        )
    ax.set_yticks(y, table["parameter"])
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(label)
    spec = result.spec
    ax.set_title(
        f"{spec.output}\n{spec.method.capitalize()}: {len(result.points)} points × "
        f"{spec.replications} replication(s), {spec.days or spec.base.run.days} days",
        fontsize="medium",
    )
    ax.legend(loc="best")
    return ax


def write_figures(folder: str | os.PathLike[str], result: Results, *, dpi: int = 120) -> list[Path]:
    """Draw every plot kind of ``result`` into ``folder`` as ``<kind>.png``; return the paths.

    Each file is written atomically and each figure closed after it is written. ``coverage``
    is left out for a run without government messages. The command line writes a run's
    figures with this (``laotie run --out DIR`` puts them in ``DIR/figures``).

    Parameters
    ----------
    folder : str or path
        Where the PNG files go; created if missing.
    result : Result or sequence of Result
        The run to draw, or its replications: then every title says how many replications
        the figure covers (the series over days show their mean with a 95 % band) or that it
        is replication 0's.
    dpi : int, default 120
        Resolution of the PNG files.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of :data:`KINDS`.

    Raises
    ------
    LaotieError
        If a file cannot be written.
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from ._io import atomic_write

    folder = Path(folder)
    written = []
    first, _ = _first(result)
    for kind in KINDS:
        if kind == "coverage" and len(first.information) == 0:
            continue
        drawn = plot(result, kind).figure
        figure = drawn if isinstance(drawn, Figure) else drawn.figure
        path = folder / f"{kind}.png"
        atomic_write(path, functools.partial(figure.savefig, format="png", dpi=dpi))
        plt.close(figure)
        written.append(path)
    return written


def _pooled(result: Results) -> tuple[list[Result], str]:
    """The results to pool and the note for the title: none for a result given alone,
    otherwise how many replications the mean and band cover."""
    if not isinstance(result, Sequence):
        return [result], ""
    results = _replications(result)
    n = len(results)
    return results, "1 replication" if n == 1 else f"mean of {n} replications, 95 % band"


def _first(result: Results) -> tuple[Result, str]:
    """The result to draw and the note for the title: none for a result given alone,
    otherwise that it is replication 0 (of how many)."""
    if not isinstance(result, Sequence):
        return result, ""
    results = _replications(result)
    n = len(results)
    return results[0], "1 replication" if n == 1 else f"replication 0 of {n}"


def _replications(results: Sequence[Result]) -> list[Result]:
    results = list(results)
    if not results:
        raise ScenarioError("no results to plot; expected a result or a list of replications")
    return results


def _titled(title: str, note: str) -> str:
    return f"{title}\n{note}" if note else title


def _mean_band(frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The mean of the replications' ``frames`` (alike: day by column) and its 95 % interval,
    cell by cell over the replications where the cell is defined."""
    from .stats import t_intervals

    stacked = np.stack([frame.to_numpy(np.float64) for frame in frames])
    like = frames[0]
    mean, low, high, _ = t_intervals(stacked)
    return (
        pd.DataFrame(mean, index=like.index, columns=like.columns),
        pd.DataFrame(low, index=like.index, columns=like.columns),
        pd.DataFrame(high, index=like.index, columns=like.columns),
    )


def _draw_band(
    ax: Axes,
    mean: pd.DataFrame,
    low: pd.DataFrame,
    high: pd.DataFrame,
    column: str,
    *,
    label: str,
    **style: Any,
) -> None:
    """The line of ``mean[column]`` and, where it is defined, its band in the line's colour."""
    style = {**_STYLE.get(column, {}), **style}
    (line,) = ax.plot(mean.index, mean[column].to_numpy(), label=label, **style)
    below, above = low[column].to_numpy(), high[column].to_numpy()
    if np.isfinite(below).any():
        ax.fill_between(mean.index, below, above, color=line.get_color(), alpha=0.2, linewidth=0)


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(layout="constrained")[1]


def _check_channels(channels: Sequence[str], allowed: Sequence[str]) -> list[str]:
    if isinstance(channels, str):
        channels = [channels]
    channels = list(channels)
    for channel in channels:
        if channel not in allowed:
            hint = did_you_mean(channel, list(allowed))
            raise ScenarioError(
                f"unknown channel {channel!r}{hint} (channels: {', '.join(allowed)})"
            )
    return channels


def _by_day(result: Result, column: str) -> pd.DataFrame:
    """``column`` of ``result.daily`` as a frame: one row per day, one column per channel."""
    frame = result.daily.pivot(index="day", columns="channel", values=column)
    frame.columns = [str(c) for c in frame.columns]
    return frame.reindex(columns=list(ROWS))


def _message(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.3")
