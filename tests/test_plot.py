"""laotie.plot: each kind draws what the result holds, renders to PNG, and fails clearly."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import StepPatch

from laotie import Result, Scenario, ScenarioError, simulate
from laotie import plot as lplot
from laotie.metrics import CHANNELS, FAMILIES

# Before any figure is made; switching after importing pyplot is fine.
matplotlib.use("Agg")

KINDS = ("conversion", "order_values", "cumulative_gmv", "lorenz", "producer_income", "coverage")


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def result() -> Result:
    """40 days of Mudanjiang at 1/500 scale with 30 poor producers (about 0.1 s)."""
    scenario = Scenario.preset("mudanjiang", scale=0.002).replace(
        **{"producers.n_producers": 30, "producers.channel": "both"}
    )
    return simulate(scenario, days=40, seed=1)


@pytest.fixture(scope="module")
def no_producers() -> Result:
    return simulate(Scenario.preset("mudanjiang", scale=0.002), days=40, seed=1)


@pytest.fixture(scope="module")
def no_days() -> Result:
    return simulate(Scenario.preset("mudanjiang", scale=0.001), days=0, seed=1)


def daily(result: Result, channel: str, column: str) -> np.ndarray:
    frame = result.daily[result.daily["channel"] == channel]
    return frame[column].to_numpy(np.float64)


def texts(ax: plt.Axes) -> str:
    return "\n".join(t.get_text() for t in ax.texts)


def steps(ax: plt.Axes) -> list[StepPatch]:
    return [p for p in ax.patches if isinstance(p, StepPatch)]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_to_a_png(result: Result, kind: str, tmp_path: Path) -> None:
    ax = result.plot(kind)
    assert isinstance(ax, plt.Axes)
    target = tmp_path / f"{kind}.png"
    ax.figure.savefig(target)
    assert target.stat().st_size > 1000
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_draws_on_the_axes_given(result: Result, kind: str) -> None:
    _, ax = plt.subplots()
    assert lplot.plot(result, kind, ax=ax) is ax
    assert len(plt.get_fignums()) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_copes_with_a_run_of_no_days(no_days: Result, kind: str) -> None:
    ax = no_days.plot(kind)
    ax.figure.canvas.draw()


def test_nothing_is_shown(result: Result, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("plt.show() was called")

    monkeypatch.setattr(plt, "show", refuse)
    for kind in KINDS:
        result.plot(kind)


def test_importing_laotie_does_not_import_matplotlib() -> None:
    code = "import sys, laotie, laotie.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_conversion_draws_one_line_per_channel(result: Result) -> None:
    ax = lplot.conversion(result)
    assert [line.get_label() for line in ax.get_lines()] == list(lplot.DEFAULT_CHANNELS)
    ax = lplot.conversion(result, channels=("trust", "storefront"))
    assert [line.get_label() for line in ax.get_lines()] == ["trust", "storefront"]


def test_conversion_is_the_rolling_ratio_of_sums(result: Result) -> None:
    ax = lplot.conversion(result, channels=("follow", "wom"), window=7)
    for line, channel in zip(ax.get_lines(), ("follow", "wom"), strict=True):
        orders = np.convolve(daily(result, channel, "orders"), np.ones(7))[:40]
        exposures = np.convolve(daily(result, channel, "exposures"), np.ones(7))[:40]
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = np.where(exposures > 0, orders / exposures, np.nan)
        np.testing.assert_allclose(line.get_xdata(), np.arange(40))
        np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-12)


def test_conversion_of_one_day_windows_is_the_daily_conversion(result: Result) -> None:
    ax = lplot.conversion(result, channels=("discovery",), window=1)
    expected = daily(result, "discovery", "conversion")
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), expected, rtol=1e-12)


def test_conversion_refuses_unknown_channels_and_bad_windows(result: Result) -> None:
    with pytest.raises(ScenarioError, match="unknown channel 'folow'; did you mean 'follow'"):
        lplot.conversion(result, channels=("folow",))
    with pytest.raises(ScenarioError, match="window = 0 is not allowed"):
        lplot.conversion(result, window=0)


def test_order_value_histograms_are_normalised(result: Result) -> None:
    ax = lplot.order_values(result)
    drawn = steps(ax)
    with_orders = [c for c in CHANNELS if result.order_values[c].sum() > 0]
    assert [p.get_label().split(":")[0] for p in drawn] == with_orders
    for patch in drawn:
        assert patch.get_data().values.sum() == pytest.approx(1.0, abs=1e-12)
    assert ax.get_xscale() == "log"


def test_order_value_histograms_follow_the_counts(result: Result) -> None:
    ax = lplot.order_values(result, channels=("follow", "trust"))
    follow, trust = steps(ax)
    counts = result.order_values["follow"].to_numpy()
    np.testing.assert_allclose(follow.get_data().values, counts / counts.sum())
    members = [CHANNELS[i] for i in FAMILIES["trust"]]
    counts = result.order_values[members].to_numpy().sum(axis=1)
    np.testing.assert_allclose(trust.get_data().values, counts / counts.sum())


def test_order_value_means_are_marked(result: Result) -> None:
    ax = lplot.order_values(result)
    marks = [line.get_xdata()[0] for line in ax.get_lines()]
    expected = [result.summary.loc[p.get_label().split(":")[0], "order_value"] for p in steps(ax)]
    np.testing.assert_allclose(marks, expected)


def test_order_values_name_channels_without_orders(no_days: Result) -> None:
    ax = lplot.order_values(no_days)
    assert not steps(ax)
    assert "no orders: follow, discovery, wom, storefront" in texts(ax)


def test_cumulative_gmv_ends_at_the_total(result: Result) -> None:
    channels = ("follow", "discovery", "wom", "storefront", "trust", "traffic", "all")
    ax = lplot.cumulative_gmv(result, channels=channels)
    lines = ax.get_lines()
    assert len(lines) == len(channels)
    for line, channel in zip(lines, channels, strict=True):
        y = line.get_ydata()
        assert np.all(np.diff(y) >= 0)
        assert y[-1] == pytest.approx(result.summary.loc[channel, "gmv"], rel=1e-12)
        assert y[0] == pytest.approx(daily(result, channel, "gmv")[0])


def test_lorenz_curve_runs_from_corner_to_corner(result: Result) -> None:
    ax = lplot.lorenz(result)
    equality, curve = ax.get_lines()
    assert equality.get_linestyle() == "--"
    x, y = curve.get_xdata(), curve.get_ydata()
    assert (x[0], y[0]) == (0, 0)
    assert (x[-1], y[-1]) == (1, 1)
    assert np.all(np.diff(y) >= 0) and np.all(np.diff(np.diff(y) / np.diff(x)) >= -1e-12)
    assert len(x) == len(result.creator_income) + 1


def test_lorenz_legend_gives_the_gini_of_the_outcomes(result: Result) -> None:
    ax = lplot.lorenz(result)
    curve = ax.get_lines()[1]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert curve.get_label() in labels
    shown = float(re.search(r"Gini = ([0-9.]+)", curve.get_label()).group(1))
    expected = result.outcomes["creator_income_gini"]
    assert shown == round(expected, 3)
    # The area under the curve as drawn gives the same coefficient.
    x, y = curve.get_xdata(), curve.get_ydata()
    area = np.sum((y[1:] + y[:-1]) / 2 * np.diff(x))
    assert 1 - 2 * area == pytest.approx(expected, abs=1e-12)


def test_lorenz_without_income_says_so(no_days: Result) -> None:
    ax = lplot.lorenz(no_days)
    assert len(ax.get_lines()) == 1
    assert "no creator income" in texts(ax)


def test_producer_income_ranks_the_producers(result: Result) -> None:
    ax = lplot.producer_income(result)
    (bars,) = steps(ax)
    income = result.producer_income
    np.testing.assert_array_equal(bars.get_data().values, np.sort(income)[::-1])
    np.testing.assert_allclose(bars.get_data().edges, np.linspace(0, 1, len(income) + 1))
    zero = int((income == 0).sum())
    assert 0 < zero < len(income)  # the fixture has producers who gain and who do not
    assert f"{len(income)} producers; {zero} ({zero / len(income):.0%}) earned nothing" in texts(ax)
    (mean,) = ax.get_lines()
    assert mean.get_ydata()[0] == pytest.approx(income.mean())
    assert ax.get_ylabel() == "income over 40 days (RMB)"


def test_producer_income_without_producers_says_so(no_producers: Result) -> None:
    ax = lplot.producer_income(no_producers)
    assert not steps(ax)
    assert "no poor producers" in texts(ax)


def test_unknown_kind_names_the_kinds_and_the_nearest(result: Result) -> None:
    message = "unknown plot kind 'lorenze'; did you mean 'lorenz'.*" + ", ".join(KINDS)
    with pytest.raises(ScenarioError, match=message):
        lplot.plot(result, "lorenze")
    with pytest.raises(ScenarioError, match="unknown plot kind 'lorenze'"):
        result.plot("lorenze")
    with pytest.raises(ScenarioError, match=r"unknown plot kind 'pie' \(kinds"):
        result.plot("pie")
    assert tuple(lplot.KINDS) == KINDS


@pytest.fixture(scope="module")
def replications() -> list[Result]:
    """Three replications of 20 days of Mudanjiang at 1/500 scale, with a government message."""
    from laotie.runs import replicate

    scenario = Scenario.preset("mudanjiang", scale=0.002).replace(
        **{"producers.n_producers": 30, "information.n_messages": 1}
    )
    return replicate(scenario, 3, days=20, seed=1)


def band_at(ax: plt.Axes, index: int, day: float) -> tuple[float, float]:
    """The low and high ends of the ``index``-th band drawn on ``ax`` on ``day``."""
    vertices = ax.collections[index].get_paths()[0].vertices
    ys = vertices[vertices[:, 0] == day, 1]
    return float(ys.min()), float(ys.max())


@pytest.mark.parametrize("kind", ["conversion", "cumulative_gmv"])
def test_replications_are_drawn_as_their_mean_with_a_band(
    replications: list[Result], kind: str
) -> None:
    """Each line is the mean of the replications' lines, its band their t interval."""
    from laotie.stats import t_interval

    channels = ("follow", "storefront", "all")
    pooled = lplot.plot(replications, kind, channels=channels)
    assert pooled.get_title().endswith("\nmean of 3 replications, 95 % band")
    each = [
        [line.get_ydata() for line in lplot.plot(r, kind, channels=channels).get_lines()]
        for r in replications
    ]
    assert len(pooled.collections) == len(channels)
    for i, line in enumerate(pooled.get_lines()):
        values = np.array([lines[i] for lines in each])
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a day undefined everywhere
            expected = np.nanmean(values, axis=0)
        np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-12)
        mean, low, high = t_interval(values[:, -1])
        assert line.get_ydata()[-1] == pytest.approx(mean, rel=1e-12)
        assert band_at(pooled, i, 19) == pytest.approx((low, high), rel=1e-9)
        assert low <= mean <= high


def test_coverage_of_replications_is_their_mean(replications: list[Result]) -> None:
    pooled = lplot.coverage(replications)
    assert pooled.get_title() == (
        "Government message 0 (posted on day 0)\nmean of 3 replications, 95 % band"
    )
    rural = next(line for line in pooled.get_lines() if line.get_label() == "rural")
    expected = np.mean([r.information["share_rural"].to_numpy() for r in replications], axis=0)
    np.testing.assert_allclose(rural.get_ydata(), expected, rtol=1e-12)
    assert len(pooled.collections) == 3  # bands: rural, urban, baseline


@pytest.mark.parametrize("kind", ["order_values", "lorenz", "producer_income"])
def test_pictures_of_one_run_draw_replication_0_and_say_so(
    replications: list[Result], kind: str
) -> None:
    first = lplot.plot(replications[0], kind)
    drawn = lplot.plot(replications, kind)
    assert drawn.get_title() == first.get_title() + "\nreplication 0 of 3"
    assert [line.get_label() for line in drawn.get_lines()] == [
        line.get_label() for line in first.get_lines()
    ]
    assert lplot.plot(replications[:1], kind).get_title().endswith("\n1 replication")


def test_a_result_alone_keeps_its_title_and_no_results_are_refused(
    replications: list[Result],
) -> None:
    for kind in KINDS:
        title = lplot.plot(replications[0], kind).get_title()
        assert "replication" not in title and "\n" not in title
        assert lplot.plot(replications[:1], kind).get_title() == title + "\n1 replication"
    assert not lplot.conversion(replications[:1]).collections  # no band from one replication
    with pytest.raises(ScenarioError, match="no results to plot"):
        lplot.conversion([])
