"""Statistics over replications: means with Student-t intervals, paired and Welch differences.

Every number laotie reports from many runs comes with an interval. The functions here take
the values of a metric over replications (NaN where the metric is undefined in a replication,
e.g. a conversion without exposures) and return means and confidence intervals:

- :func:`t_interval`: the mean of a sample and its Student-t interval;
- :func:`paired`: each arm's mean and its difference from a baseline arm, paired by
  replication (common random numbers) or, for independent arms, with Welch's interval;
- :func:`t_intervals`: the same, element-wise over the first axis of an array (a metric per
  replication, day and channel, say);
- :func:`interval_table`: each column's mean over the rows of a table (one row per
  replication) with its t interval (the outcomes of ``laotie run -R N``);
- :func:`summarise`: the per-channel means of :data:`SUMMARY_METRICS` over the replications of
  a run, with t intervals (the table of ``laotie run -R N``);
- :func:`decompose`: runs over parameter draws × replications: the mean, a predictive
  interval for one run's outcome, and how much of its spread comes from the parameters and how
  much from chance.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.special

from .errors import LaotieError

if TYPE_CHECKING:
    from .results import Result

__all__ = [
    "SCALES",
    "SUMMARY_BOUNDS",
    "SUMMARY_METRICS",
    "decompose",
    "interval_table",
    "paired",
    "summarise",
    "t_interval",
    "t_intervals",
    "welch",
]

SUMMARY_METRICS = ("conversion", "order_value", "gmv", "repeat_share")
"""The per-channel metrics of :func:`summarise` (and of the command line's table)."""

SUMMARY_BOUNDS = {"conversion": (0.0, np.inf), "order_value": (0.0, np.inf)}
SUMMARY_BOUNDS |= {"gmv": (0.0, np.inf), "repeat_share": (0.0, 1.0)}
"""What each summary metric can take: its intervals are clipped to it (a mean of few
replications near 0 would otherwise get a negative lower end)."""


def summarise(results: Sequence[Result], level: float = 0.95) -> pd.DataFrame:
    """Per-channel means of :data:`SUMMARY_METRICS` over replications, with t intervals.

    Parameters
    ----------
    results : sequence of Result
        The replications of one run (:func:`laotie.runs.replicate`), at least one.
    level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per channel. Columns: ``<metric>`` (the mean over replications) and, with two
        or more replications, ``<metric>_low`` and ``<metric>_high`` (the ``level`` confidence
        interval of the mean, clipped to :data:`SUMMARY_BOUNDS`). A ratio undefined in a
        replication (NaN: no denominator) is averaged over the replications where it is
        defined.

    Examples
    --------
    >>> from laotie import Scenario
    >>> from laotie.runs import replicate
    >>> results = replicate(Scenario.preset("village"), 2, days=5, seed=1)
    >>> list(summarise(results).columns[:3])
    ['conversion', 'order_value', 'gmv']
    """
    frames = [r.summary[list(SUMMARY_METRICS)] for r in results]
    stacked = np.stack([f.to_numpy(dtype=float) for f in frames])
    mean, low, high, _ = t_intervals(stacked, level)
    out = pd.DataFrame(mean, index=frames[0].index, columns=list(SUMMARY_METRICS))
    if len(results) >= 2:
        for i, metric in enumerate(SUMMARY_METRICS):
            floor, ceiling = SUMMARY_BOUNDS[metric]
            out[f"{metric}_low"] = np.maximum(low[:, i], floor)
            out[f"{metric}_high"] = np.minimum(high[:, i], ceiling)
    return out


def t_intervals(
    values: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Means over the first axis of ``values`` (NaN ignored) and their Student-t intervals.

    The element-wise form of :func:`t_interval`: each cell of ``values[0]`` is summarised
    over the replications (the first axis) where it is defined.

    Parameters
    ----------
    values : array_like of float
        Shape ``(replications, ...)``; NaN where a value is undefined in a replication (a
        ratio without its denominator).
    level : float, default 0.95
        Confidence level, between 0 and 1.

    Returns
    -------
    tuple of numpy.ndarray
        ``(mean, low, high, n)``, each of shape ``values.shape[1:]``: the mean, the ``level``
        confidence interval of the mean (NaN where fewer than two values are defined) and
        the number of values defined (the mean is NaN where it is 0).

    Raises
    ------
    LaotieError
        If ``level`` is not between 0 and 1.

    Examples
    --------
    >>> mean, low, high, n = t_intervals(np.array([[1.0, 5.0], [2.0, np.nan], [3.0, 7.0]]))
    >>> mean, n
    (array([2., 6.]), array([3, 2]))
    >>> low.round(3), high.round(3)
    (array([-0.484, -6.706]), array([ 4.484, 18.706]))
    """
    _check_level(level)
    values = np.asarray(values, dtype=float)
    count = (~np.isnan(values)).sum(axis=0)
    total = np.nansum(values, axis=0)
    mean = np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)
    deviation = np.where(np.isnan(values), 0.0, values - mean)
    var = np.divide(
        (deviation**2).sum(axis=0), count - 1, out=np.full(total.shape, np.nan), where=count > 1
    )
    t = _t_quantile(0.5 + level / 2, np.maximum(count - 1, 1))
    half = np.where(count > 1, t * np.sqrt(var / np.maximum(count, 1)), np.nan)
    return mean, mean - half, mean + half, count


def interval_table(
    values: pd.DataFrame,
    level: float = 0.95,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
) -> pd.DataFrame:
    """Each column's mean over the rows of ``values`` and its Student-t interval.

    Parameters
    ----------
    values : pandas.DataFrame
        One row per replication, one column per quantity (e.g. the outcomes of a run's
        replications).
    level : float, default 0.95
        Confidence level, between 0 and 1.
    bounds : dict of str to (low, high), optional
        What a column can take (e.g. :data:`laotie.results.OUTCOME_BOUNDS`; None: unbounded):
        its mean and interval are clipped to it, so that a share's mean of a few replications
        near 1 does not get an upper end above 1.

    Returns
    -------
    pandas.DataFrame
        One row per column of ``values``, indexed by its name, with the columns ``mean``,
        ``low`` and ``high`` (:func:`t_interval`'s mean and ``level`` interval: NaN with
        fewer than two values) and ``n_replications``, the values they use. A value that is
        undefined or infinite (a ratio to a vanishing quantity) is left out.

    Raises
    ------
    LaotieError
        If ``level`` is not between 0 and 1.

    Examples
    --------
    >>> table = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, np.nan, np.inf]})
    >>> interval_table(table).round(3)
       mean    low   high  n_replications
    a   2.0 -0.484  4.484               3
    b   4.0    NaN    NaN               1
    """
    _check_level(level)
    bounds = bounds or {}
    rows = []
    for column in values.columns:
        x = values[column].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        mean, low, high = t_interval(x, level)
        floor, ceiling = _bounds(bounds.get(column, (None, None)), "interval_table")
        rows.append((*_clip(mean, low, high, floor, ceiling), len(x)))
    return pd.DataFrame(
        rows, index=values.columns, columns=["mean", "low", "high", "n_replications"]
    )


def _check_level(level: float) -> None:
    if not isinstance(level, float | int) or isinstance(level, bool) or not 0 < level < 1:
        raise LaotieError(f"level = {level!r}: a confidence level between 0 and 1, e.g. 0.95")


def _t_quantile(quantile: Any, dof: Any) -> Any:
    # scipy.stats is imported on first use, not with the module: it costs about a second,
    # most of ``import laotie``, and laotie.runs imports this module.
    import scipy.stats

    return scipy.stats.t.ppf(quantile, dof)


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """The mean of ``values`` (NaN ignored) and its Student-t ``level`` confidence interval.

    Parameters
    ----------
    values : array_like of float
        One value per replication; NaN values are left out.
    level : float, default 0.95
        Confidence level, between 0 and 1.

    Returns
    -------
    tuple of float
        ``(mean, low, high)``. With one value the interval is ``(nan, nan)``; with none, the
        mean is NaN too.

    Raises
    ------
    LaotieError
        If ``level`` is not between 0 and 1.

    Examples
    --------
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
    half = _t_quantile(0.5 + level / 2, len(values) - 1) * values.std(ddof=1)
    half /= np.sqrt(len(values))
    return (mean, mean - float(half), mean + float(half))


def paired(
    values: pd.DataFrame,
    baseline: Hashable,
    *,
    level: float = 0.95,
    paired: bool = True,
    bounds: tuple[float | None, float | None] = (None, None),
) -> pd.DataFrame:
    """Each arm's mean and its difference from ``baseline``, with ``level`` t intervals.

    Parameters
    ----------
    values : pandas.DataFrame
        One row per replication, one column per arm (e.g.
        :meth:`laotie.sweep.SweepResult.values`).
    baseline : str
        The label of the column the others are compared with.
    level : float, default 0.95
        Confidence level of the intervals.
    paired : bool, default True
        Replication ``r`` of every arm shares its random numbers (common random numbers):
        the difference is the mean of per-replication differences, with a paired t interval.
        Otherwise the arms are independent and the interval is Welch's (:func:`welch`).
    bounds : tuple of (float or None), default (None, None)
        What the quantity can take (e.g. (0, 1) for a share; None: unbounded): the means and
        their intervals are clipped to it, the differences to ``(low - high, high - low)``
        (within ±1 for a share).

    Returns
    -------
    pandas.DataFrame
        One row per arm: ``n`` (replications used: with ``paired``, those where both the arm
        and the baseline are defined, for the mean as well as the difference), ``mean``,
        ``mean_low``, ``mean_high``,
        ``difference``, ``difference_low``, ``difference_high`` (arm minus baseline) and
        ``relative`` (the difference over the baseline's mean).

    Raises
    ------
    LaotieError
        If ``baseline`` is not a column of ``values`` or ``level`` is not between 0 and 1.

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
    floor, ceiling = _bounds(bounds, "paired")
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
            difference, d_low, d_high = welch(used, base_used, level)
        n = len(used)
        mean, low, high = _clip(*t_interval(used, level), floor, ceiling)
        difference, d_low, d_high = _clip(
            difference, d_low, d_high, floor - ceiling, ceiling - floor
        )
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


def welch(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """The difference of the means of independent samples and its Welch ``level`` interval.

    Parameters
    ----------
    a, b : numpy.ndarray
        The two samples, without NaN.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    tuple of float
        ``(difference, low, high)`` of ``mean(a) - mean(b)``: NaN when a sample is empty;
        the interval NaN when a sample has fewer than two values, and a single point when
        both samples are constant.

    Examples
    --------
    >>> welch(np.array([2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0]))
    (1.0, -1.266..., 3.266...)
    """
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
    half = float(_t_quantile(0.5 + level / 2, dof) * se)
    return (difference, difference - half, difference + half)


SCALES = ("auto", "positive", "linear")
"""The scales :func:`decompose` takes: chosen from the values, a positive quantity's (never
a share's, even when its values lie in (0, 1)), or the values themselves."""


def decompose(
    values: np.ndarray | Sequence[float],
    draws: np.ndarray | Sequence[int],
    level: float = 0.95,
    scale: str = "auto",
    bounds: tuple[float | None, float | None] = (None, None),
) -> dict[str, float]:
    """Mean, predictive interval and the share of the spread due to parameters, of runs over
    parameter draws × replications.

    Each run is one parameter draw (e.g. from a calibration's posterior) and one chance
    realisation (its own city graph and market seeds). The spread is split by the one-way
    random-effects analysis of variance (the method of moments, unbalanced groups allowed):
    between draws ``s2_param = max(0, (MSB - MSW) / n0)`` and within draws ``s2_chance = MSW``,
    where ``n0 = (N - sum(n_d**2) / N) / (D - 1)``; ``param_share = s2_param / (s2_param +
    s2_chance)``.

    The interval is a normal-theory *predictive* interval for one new run (a new draw and new
    chance): ``m ± t(df) * sqrt(s2_param * (1 + 1/D) + s2_chance * (1 + 1/N))`` with
    ``df = D - 1``, the draws being the scarcer replication; without two draws and a draw with
    two runs, ``m ± t(N - 1) * s * sqrt(1 + 1/N)``. With ``scale="auto"`` it is computed on a
    scale where the quantity can take any value and mapped back: the logit of values all
    inside (0, 1) (shares), the logarithm of values all above 0 (GMV, conversion, ratios), so a
    share's interval stays inside (0, 1) and a GMV's above 0. Values that touch a bound are
    moved off it first: values in [0, 1] with one at 0 or 1 (a share reaching its edge) are
    squeezed to ``(x (N - 1) + 1/2) / N`` (Smithson and Verkuilen 2006) before the logit,
    values ≥ 0 with one at 0 (a count) are shifted by their smallest positive value before the
    logarithm, and the interval mapped back is clipped to [0, 1] or at 0 (simulated coverage
    ≥ 95 % in the tests, where the linear interval gave 91–93 %); other values (differences)
    get the linear interval. The scale is read from the values, so a
    quantity that can take either sign (a difference) whose runs happen to be all positive
    would get an interval that cannot cross 0: pass ``scale="linear"`` for such quantities; and
    a positive quantity that is not a share but whose runs happen to lie in (0, 1) (a ratio of
    order values, orders per day) would get an interval capped at 1: pass ``scale="positive"``
    (the logarithm, shifted when a value is 0).
    ``bounds`` clips the interval to what the quantity can take (for instance the days of a
    run, for a number of days until something happens).
    With a single draw the parameters' spread is not estimated at all: the interval covers
    chance only (``param_share`` NaN), so runs that were meant to carry parameter uncertainty
    need two draws or more. Few draws give wide intervals: that is the price of estimating the
    parameters' spread from few draws (the sample quantiles of a handful of runs would cover a
    new run far less often than ``level``). Non-finite values are left out. The mean is the
    runs' mean and the split is of the values themselves, whatever the interval's scale.

    Parameters
    ----------
    values : array_like of float
        One value per run.
    draws : array_like of int
        The parameter draw of each run.
    level : float, default 0.95
        The interval's coverage.
    scale : {"auto", "positive", "linear"}, default "auto"
        Where the interval is computed: chosen from the values (above); on the logarithm of a
        quantity that is positive but not a share (shifted when some values are 0; a value
        below 0 makes it linear); or the values themselves (for differences, whose sign is not
        known in advance).
    bounds : tuple of (float or None), default (None, None)
        The lowest and highest value the quantity can take (None: unbounded); the interval is
        clipped to them. Every finite value must lie within them, up to a rounding error
        (:data:`ROUNDING`), and is moved onto a bound it passes by that much.

    Returns
    -------
    dict
        ``mean``, ``low``, ``high`` (NaN with fewer than two values), ``param_share`` (NaN
        unless at least two draws have a value and some draw has two or more; NaN too when
        every value is equal), ``n`` and ``scale`` (``"logit"``, ``"log"``, ``"squeezed
        logit"``, ``"shifted log"`` or ``"linear"``: where the interval was computed).

    Raises
    ------
    LaotieError
        For a level outside (0, 1), an unknown scale, values and draws of different shapes,
        bounds that are not two numbers or None (or NaN, or in the wrong order), or a value
        beyond a bound by more than a rounding error.

    Examples
    --------
    >>> decompose([1.0, 1.0, 3.0, 3.0], [0, 0, 1, 1])["param_share"]
    1.0
    >>> decompose([1.0, 3.0, 1.0, 3.0], [0, 0, 1, 1])["param_share"]
    0.0
    >>> decompose([0.2, 0.3, 0.6, 0.7], [0, 0, 1, 1])["scale"]
    'logit'
    >>> decompose([0.9, 1.0, 0.95, 1.0], [0, 0, 1, 1])["high"]  # a share at its edge
    1.0
    """
    _check_level(level)
    if scale not in SCALES:
        raise LaotieError(f"decompose: scale = {scale!r}; expected one of {', '.join(SCALES)}")
    x = np.asarray(values, dtype=float)
    groups = np.asarray(draws)
    if x.shape != groups.shape or x.ndim != 1:
        raise LaotieError(
            f"decompose: values {x.shape} and draws {groups.shape} must be 1-D and of one length"
        )
    keep = np.isfinite(x)
    x, groups = x[keep], groups[keep]
    low_bound, high_bound = _bounds(bounds, "decompose")
    x = _onto_bounds(x, low_bound, high_bound, bounds)
    floor = None if np.isinf(low_bound) else low_bound
    ceiling = None if np.isinf(high_bound) else high_bound
    total = len(x)
    out: dict[str, Any] = {
        "mean": np.nan,
        "low": np.nan,
        "high": np.nan,
        "param_share": np.nan,
        "n": total,
        "scale": "linear",
    }
    if not total:
        return out
    out["mean"] = float(x.mean())
    if total < 2:
        return out
    labels, index, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    n_draws = len(labels)
    split = n_draws >= 2 and total > n_draws
    if split:
        param, within = _components(x, index, sizes)
        if param + within > 0:
            out["param_share"] = param / (param + within)
    forward: Any = _same
    back: Any = _same
    if scale != "linear":
        share = scale == "auto" and bool(np.all((x >= 0) & (x <= 1)))
        if share and np.all((x > 0) & (x < 1)):
            out["scale"], forward, back = "logit", scipy.special.logit, scipy.special.expit
        elif np.all(x > 0) and not (share and np.any(x == 1)):
            out["scale"], forward, back = "log", np.log, np.exp
        elif share:  # a share touching 0 or 1: squeezed into (0, 1) first
            floor, ceiling = _tighter(floor, 0.0, max), _tighter(ceiling, 1.0, min)
            squeeze = (total - 1) / total

            def forward(v: Any) -> Any:
                return scipy.special.logit(v * squeeze + 0.5 / total)

            def back(v: Any) -> Any:
                return (scipy.special.expit(v) - 0.5 / total) / squeeze

            out["scale"] = "squeezed logit"
        elif np.all(x >= 0) and np.any(x > 0):  # a positive quantity touching 0
            floor = _tighter(floor, 0.0, max)
            shift = float(x[x > 0].min())

            def forward(v: Any) -> Any:
                return np.log(v + shift)

            def back(v: Any) -> Any:
                return np.exp(v) - shift

            out["scale"] = "shifted log"
    y = forward(x)
    quantile = (1 + level) / 2
    centre = float(y.mean())
    if split:
        param, within = _components(y, index, sizes)
        spread = np.sqrt(param * (1 + 1 / n_draws) + within * (1 + 1 / total))
        half = float(_t_quantile(quantile, n_draws - 1)) * spread
    else:
        half = float(_t_quantile(quantile, total - 1)) * float(y.std(ddof=1))
        half *= np.sqrt(1 + 1 / total)
    low, high = float(back(centre - half)), float(back(centre + half))
    out["low"] = low if floor is None else max(low, floor)
    out["high"] = high if ceiling is None else min(high, ceiling)
    return out


ROUNDING = 1e-9
"""How far (relative, at least absolute) a value may lie beyond a bound and still count as on
it: a share summed from parts can exceed 1 by a rounding error."""


def _bounds(bounds: Any, where: str) -> tuple[float, float]:
    """``(low, high)`` as floats (None: unbounded, ±inf), checked: each a number or None, not
    NaN, and low ≤ high."""
    low = high = "?"
    if isinstance(bounds, tuple | list) and len(bounds) == 2:
        low, high = bounds
    checked: list[float] = []
    for value, unbounded in ((low, -np.inf), (high, np.inf)):
        if value is None:
            checked.append(unbounded)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            checked.append(float(value))
        else:
            raise LaotieError(
                f"{where}: bounds = {bounds!r}; expected (low, high), each a number or None"
            )
    if np.isnan(checked).any():
        raise LaotieError(f"{where}: bounds = {bounds!r}; a bound is NaN")
    if checked[0] > checked[1]:
        raise LaotieError(f"{where}: bounds = {bounds!r}; the low one is above the high one")
    return checked[0], checked[1]


def _onto_bounds(x: np.ndarray, floor: float, ceiling: float, bounds: Any) -> np.ndarray:
    """Finite values ``x`` with those within a rounding error (:data:`ROUNDING`) beyond a
    bound moved onto it; a value further out is an error."""
    slack_low = ROUNDING * max(1.0, abs(floor)) if np.isfinite(floor) else 0.0
    slack_high = ROUNDING * max(1.0, abs(ceiling)) if np.isfinite(ceiling) else 0.0
    outside = x[(x < floor - slack_low) | (x > ceiling + slack_high)]
    if len(outside):
        raise LaotieError(
            f"decompose: value {outside[0]:g} lies outside bounds = {bounds!r}; the bounds are "
            f"what the quantity can take"
        )
    return np.clip(x, floor, ceiling)


def _clip(
    mean: float, low: float, high: float, floor: float, ceiling: float
) -> tuple[float, float, float]:
    """A mean and its interval kept within ``[floor, ceiling]`` and in order (low ≤ mean ≤
    high); NaN stays NaN."""
    mean = float(np.clip(mean, floor, ceiling))
    low = float(np.minimum(np.maximum(low, floor), mean if np.isfinite(mean) else np.inf))
    high = float(np.maximum(np.minimum(high, ceiling), mean if np.isfinite(mean) else -np.inf))
    return mean, low, high


def _tighter(given: float | None, implied: float, pick: Any) -> float:
    """The tighter of a caller's bound and the one the values imply."""
    return implied if given is None else float(pick(given, implied))


def _same(values: Any) -> Any:
    return values


def _components(x: np.ndarray, index: np.ndarray, sizes: np.ndarray) -> tuple[float, float]:
    """The random-effects estimates ``(s2_param, s2_chance)`` of values grouped by draw."""
    n_draws, total = len(sizes), len(x)
    means = np.bincount(index, weights=x) / sizes
    between = float(np.sum(sizes * (means - x.mean()) ** 2)) / (n_draws - 1)
    within = float(np.sum((x - means[index]) ** 2)) / (total - n_draws)
    n0 = (total - float(np.sum(sizes**2)) / total) / (n_draws - 1)
    return max(0.0, (between - within) / n0), within
