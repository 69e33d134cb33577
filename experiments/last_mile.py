"""The last mile (最后一公里): government notices through the app's feeds and people, on the
calibrated Mudanjiang scenario with its parameter uncertainty.

One government notice (``information.n_messages = 1``) is posted on day 0 by every
government account of a fraction of Mudanjiang and followed for 14 days. It reaches people
through the same-city (快手同城) and same-hometown (快手同乡) feeds, sharing along trust ties
in the app and telling kin offline (users or not); the centralised baseline channel (city TV,
news portal) is tracked in the same runs for comparison. Arms differ only in the operator
training of government accounts (雪城发布): none, or training on day 0 that adds
``information.training_gain`` to their content quality.

Coverage is reported overall, among rural residents and non-users, per region and per day.
The arms are the cases of one :class:`laotie.sweep.Sweep` over posterior draws of
``mudanjiang_calibrated`` × replications, with common random numbers: replication slot ``k``
of every arm shares its draw, city graph and every random number. Intervals are 95 %
predictive intervals over draws and chance, with the share from the parameters. The sweep
stores each run's per-day and per-region coverage (:meth:`laotie.sweep.SweepResult.information`,
:meth:`~laotie.sweep.SweepResult.information_regions`), and the tables are computed from them.
Information draws are counter-based (docs/model.md 3.5), so raising the feeds' probabilities
can only inform more people, earlier: coverage is monotone in ``training_gain`` run by run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laotie import Scenario
from laotie.audit import Audit, run_audit
from laotie.errors import LaotieError
from laotie.executors import Executor
from laotie.experiment import (
    Headline,
    Report,
    describe_interval,
    describe_interval_zh,
    preset,
    run_sweep,
    save_figure,
    uncertainty_columns,
    unfinished_note,
)
from laotie.posterior import load_posterior
from laotie.sweep import Sweep, SweepResult

NAME = "last_mile"
QUESTION = (
    "How many residents, rural residents and non-users does a government notice reach in 14 "
    "days through the same-city and same-hometown feeds plus sharing, per region, against a "
    "centralised baseline (TV), with and without training the government accounts' operators?"
)
SEED = 20191126
SCENARIO = "mudanjiang_calibrated"
DAYS = 14
ARMS: dict[str, dict[str, Any]] = {
    "no training": {"information.training_day": -1},
    "training +0.3": {"information.training_day": 0, "information.training_gain": 0.3},
    "training +0.6": {"information.training_day": 0, "information.training_gain": 0.6},
}
"""Operator training: none, or on the posting day with the default gain (0.3) and double."""
BASELINE_ARM = "no training"
COVERAGE = {
    "share_informed": "share of residents who know the notice (app feeds, sharing, offline)",
    "share_rural": "the same among rural residents",
    "share_urban": "the same among urban residents",
    "share_users": "the same among platform users",
    "share_non_users": "the same among non-users (reached offline only)",
    "urban_rural_gap": "urban minus rural share",
    "baseline_share": "baseline channel (TV, portal): share of residents",
    "baseline_rural": "baseline channel: share of rural residents",
    "baseline_urban": "baseline channel: share of urban residents",
    "app_minus_baseline": "share_informed minus baseline_share",
    "rural_app_minus_baseline": "share_rural minus baseline_rural",
}
PATHS = ("by_feed", "by_hometown", "by_share", "by_offline")


# The assumed parameters of information spread the audit varies besides the posterior.
AUDIT_ASSUMED: dict[str, list[float] | None] = {
    "information.city_feed": [0.03, 0.3],
    "information.hometown_feed": [0.05, 0.4],
    "information.share_prob": [0.005, 0.06],
    "information.offline_prob": [0.005, 0.06],
    "information.gov_quality_mean": [0.2, 0.6],
    "information.tv_urban": [0.02, 0.1],
    "information.tv_rural": [0.01, 0.05],
}
AUDIT_ARMS = ("no training", "training +0.3")


def settings(quick: bool) -> dict[str, Any]:
    """Scale, posterior draws and replications per draw of each mode."""
    if quick:
        return {"scale": 0.005, "draws": 2, "replications": 2}
    return {"scale": 0.05, "draws": 8, "replications": 2}


def audit_settings(quick: bool) -> dict[str, Any] | None:
    """Samples, scale and days of the audit (None: quick mode leaves it out)."""
    if quick:
        return None
    return {"samples": 96, "scale": 0.01, "days": DAYS}


def base(scale: float) -> Scenario:
    return preset(SCENARIO, scale=scale, **{"information.n_messages": 1})


def make_sweep(quick: bool) -> Sweep:
    """The arms as the cases of one sweep over posterior draws × replications."""
    mode = settings(quick)
    return Sweep(
        base(mode["scale"]),
        cases=[dict(changes) for changes in ARMS.values()],
        replications=mode["replications"],
        days=DAYS,
        seed=SEED,
        draws=load_posterior(SCENARIO).draws(mode["draws"], seed=SEED),
    )


DIFFERENCES = {"urban_rural_gap", "app_minus_baseline", "rural_app_minus_baseline"}
"""Measures that are differences: their intervals are linear (their sign is not known)."""


def columns(
    values: pd.Series,
    name: str,
    replications: int,
    scale: str = "auto",
    bounds: tuple[float | None, float | None] = (None, None),
) -> dict[str, float]:
    """Values indexed by replication slot, over draws × replications, as table columns."""
    draws = np.asarray(values.index, dtype=int) // replications
    return uncertainty_columns(values.to_numpy(float), draws, name, scale, bounds)


def coverage_tables(result: SweepResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sweep's stored coverage of the notice, per day and per day and region, with the
    ``arm`` and ``replication`` of every run (runs that did not finish are left out)."""
    runs = result.runs.set_index("run")
    labels = dict(enumerate(ARMS))

    def labelled(frame: pd.DataFrame) -> pd.DataFrame:
        if not len(frame):
            raise LaotieError(f"no run of the sweep under {result.out} finished")
        return frame.assign(
            arm=frame["run"].map(runs["point"]).map(labels),
            replication=frame["run"].map(runs["replication"]),
        )

    info = labelled(result.information())
    info["app_minus_baseline"] = info["share_informed"] - info["baseline_share"]
    info["rural_app_minus_baseline"] = info["share_rural"] - info["baseline_rural"]
    return info, labelled(result.information_regions())


def final_table(information: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Per arm and measure, at the last day: the mean over runs (95 % predictive interval)
    and the paired difference from the arm without training."""
    last = information[information["day"] == information["day"].max()]
    rows = []
    for measure in [*COVERAGE, *PATHS]:
        wide = last.pivot(index="replication", columns="arm", values=measure)[list(ARMS)]
        for arm in ARMS:
            row: dict[str, Any] = {"measure": measure, "arm": arm}
            scale = "linear" if measure in DIFFERENCES else "auto"
            row |= columns(wide[arm], "value", replications, scale)
            gain = wide[arm] - wide[BASELINE_ARM]
            row |= columns(gain, "vs_no_training", replications, "linear")
            rows.append(row)
    return pd.DataFrame(rows)


def speed_table(information: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Per arm: days from posting until 50 % and 80 % of residents know the notice."""
    rows = []
    for arm in ARMS:
        mine = information[information["arm"] == arm]
        row: dict[str, Any] = {"arm": arm}
        for threshold in (0.5, 0.8):
            days = {}
            for replication, group in mine.groupby("replication"):
                since = group["day"] - group["posted_day"] + 1
                hit = since[group["share_informed"] >= threshold]
                days[replication] = float(hit.iloc[0]) if len(hit) else np.nan
            values = pd.Series(days, dtype=float)
            name = f"days_to_{round(threshold * 100)}"
            row[f"{name}_reached_share"] = float(values.notna().mean())
            row |= columns(values, name, replications, bounds=(1, DAYS))
        rows.append(row)
    return pd.DataFrame(rows)


def daily_table(information: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Per arm and day since posting: coverage overall, rural, non-users and the baseline's."""
    rows = []
    shown = ("share_informed", "share_rural", "share_non_users", "baseline_share", "baseline_rural")
    for (arm, day), group in information.groupby(["arm", "day"], sort=False):
        row: dict[str, Any] = {"arm": arm, "day": int(day) + 1}
        by_slot = group.set_index("replication")
        for measure in shown:
            row |= columns(by_slot[measure], measure, replications)
        rows.append(row)
    table = pd.DataFrame(rows)
    order = {arm: i for i, arm in enumerate(ARMS)}
    return table.sort_values(["arm", "day"], key=lambda s: s.map(order) if s.name == "arm" else s)


def region_table(regions: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Per region, at the last day: coverage per arm and the paired gain from training."""
    last = regions[regions["day"] == regions["day"].max()]
    rows = []
    for region, group in last.groupby("region", sort=False):
        wide = group.pivot(index="replication", columns="arm", values="share_informed")[list(ARMS)]
        row: dict[str, Any] = {"region": region}
        for arm in ARMS:
            row |= columns(wide[arm], arm, replications)
        for arm in list(ARMS)[1:]:
            gain = wide[arm] - wide[BASELINE_ARM]
            row |= columns(gain, f"gain {arm}", replications, "linear")
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- audit
def audit_outcomes(result: SweepResult, arms: list[str]) -> pd.DataFrame:
    """The headline outcomes per audit sample (slot), at the last day."""
    info = result.information().merge(result.runs[["run", "point", "replication"]], on="run")
    last = info[info["day"] == info["day"].max()]

    def wide(measure: str) -> pd.DataFrame:
        table = last.pivot(index="replication", columns="point", values=measure)
        table.columns = [arms[p] for p in table.columns]
        return table

    informed, rural = wide("share_informed"), wide("share_rural")
    return pd.DataFrame(
        {
            "residents informed, no training": informed["no training"],
            "rural residents informed, no training": rural["no training"],
            "gain from training +0.3": informed["training +0.3"] - informed["no training"],
        }
    )


def audit(quick: bool, out: Path, executor: Executor) -> Audit | None:
    """Run the audit's sweep under ``out`` (None in quick mode, which leaves it out)."""
    return run_audit(
        SCENARIO,
        [(arm, {**ARMS[arm], "information.n_messages": 1}) for arm in AUDIT_ARMS],
        AUDIT_ASSUMED,
        audit_outcomes,
        design=audit_settings(quick),
        seed=SEED,
        out=out,
        executor=executor,
    )


# ---------------------------------------------------------------------------- words
def _pct(row: pd.Series, column: str) -> str:
    return describe_interval(row, column, ".1%")


def _pct_zh(row: pd.Series, column: str) -> str:
    return describe_interval_zh(row, column, ".1%")


def headlines(final: pd.DataFrame) -> list[Headline]:
    f = final.set_index(["measure", "arm"])
    assumed = (
        "out of sample, and driven by assumed information.* parameters: no target measures "
        "reach (see the audit)"
    )
    return [
        Headline(
            f"residents who know the notice after {DAYS} days, no training",
            _pct(f.loc[("share_informed", BASELINE_ARM)], "value"),
            "predicted",
            assumed,
        ),
        Headline(
            f"rural residents who know it after {DAYS} days, no training",
            _pct(f.loc[("share_rural", BASELINE_ARM)], "value"),
            "predicted",
            assumed,
        ),
        Headline(
            "residents the baseline channel (TV, portal) reaches",
            _pct(f.loc[("baseline_share", BASELINE_ARM)], "value"),
            "input",
            "set by the assumed information.tv_urban and tv_rural",
        ),
        Headline(
            "residents operator training (+0.3) adds",
            _pct(f.loc[("share_informed", "training +0.3")], "vs_no_training"),
            "counterfactual",
            "arm training +0.3 − arm no training, paired",
        ),
    ]


def answers(final: pd.DataFrame) -> tuple[list[str], list[str]]:
    f = final.set_index(["measure", "arm"])
    none = f.loc[("share_informed", BASELINE_ARM)]
    rural = f.loc[("share_rural", BASELINE_ARM)]
    non_users = f.loc[("share_non_users", BASELINE_ARM)]
    tv = f.loc[("baseline_share", BASELINE_ARM)]
    gain = f.loc[("share_informed", "training +0.3")]
    english = [
        f"Reach: after {DAYS} days {_pct(none, 'value')} of residents know the notice, "
        f"{_pct(rural, 'value')} of rural residents and {_pct(non_users, 'value')} of non-users "
        f"(told offline by kin), against {_pct(tv, 'value')} through TV and the portal alone.",
        f"Training the operators (+0.3 content quality) raises the share who know it by "
        f"{_pct(gain, 'vs_no_training')} of residents (a paired difference of shares).",
        "These numbers rest on assumed parameters of information spread that no target "
        "measures: the audit below names the one that drives each.",
    ]
    chinese = [
        f"覆盖：{DAYS} 天后{_pct_zh(none, 'value')}的居民知道这条通知，农村居民为"
        f"{_pct_zh(rural, 'value')}，非用户为{_pct_zh(non_users, 'value')}（由亲属线下告知）；"
        f"仅靠电视和门户网站为{_pct_zh(tv, 'value')}。",
        f"培训政务号运营者（内容质量 +0.3）使知晓的居民比例提高"
        f"{_pct_zh(gain, 'vs_no_training')}（两组配对之差）。",
        "这些数字取决于没有任何目标数据约束的信息传播假设参数：下方的审计指出驱动每个结果的参数。",
    ]
    return english, chinese


METHOD = """
One sweep of `mudanjiang_calibrated` with one government notice
(`experiments/last_mile.py`): the arms no training, training +0.3 and +0.6, each over the
same posterior draws of the calibration × replications; slot *k* of every arm shares its draw,
graph and random streams, so differences are paired. Intervals are 95 % predictive intervals
for one new run (normal-theory, from a random-effects analysis over the draws, on the logit of
shares; `laotie.stats.decompose`); "from parameters" is the share of the runs' spread that
comes from the calibration's uncertainty. The calibrated parameters shape the city (ties,
activity); every parameter of information spread is assumed.

The audit (full mode only; `laotie audit last_mile` runs it alone): 96 samples, each a
posterior draw joined with a Latin-hypercube value of seven assumed information parameters,
at scale 0.01 for 14 days, the arms no training and training +0.3 once per sample; each
headline outcome's first-order Sobol index to each parameter from those samples (SALib), with
a permutation null (`laotie.audit`).
"""


def run(*, quick: bool, out: Path, executor: Executor) -> Report:
    """Run every arm over draws × replications, then the audit; tabulate and plot."""
    mode = settings(quick)
    replications = mode["replications"]
    result = run_sweep(make_sweep(quick), out / "sweep", executor=executor)
    information, regions = coverage_tables(result)
    final = final_table(information, replications)
    speed = speed_table(information, replications)
    daily = daily_table(information, replications)
    per_region = region_table(regions, replications)
    scenario = base(mode["scale"])
    i = scenario.information
    figures = [
        _plot_curves(daily, out / "figures"),
        _plot_regions(per_region, final, out / "figures"),
    ]
    english, chinese = answers(final)
    tables = {"final": final, "speed": speed, "regions": per_region, "daily": daily}
    audited = audit(quick, out / "audit", executor)
    seconds = float(result.runs["seconds"].sum())
    if audited is not None:
        tables["audit_drivers"] = audited.drivers
        seconds += audited.seconds
    return Report(
        name=NAME,
        question=QUESTION,
        tables=tables,
        figures=figures,
        findings=_findings(final, speed, per_region),
        assumptions=[
            f"Mudanjiang calibrated, at {mode['scale']:.0%} of its population "
            f"({scenario.city.n_residents:,} residents, all {len(scenario.city.regions)} "
            f"county-level units), one notice posted on day 0 by every government account, "
            f"{DAYS} days, {mode['draws']} posterior draws × {replications} replications per "
            f"arm, sweep seed {SEED}.",
            f"Information parameters (assumed, none calibrated): posts live "
            f"{i.live_days} days in the feeds; same-city feed {i.city_feed}, same-hometown "
            f"feed {i.hometown_feed} per day at content quality 1; sharing {i.share_prob} and "
            f"offline telling {i.offline_prob} per unit of trust; government content quality "
            f"mean {i.gov_quality_mean}; baseline channel {i.tv_urban} (urban) and "
            f"{i.tv_rural} (rural) per day while the post is live.",
            "The baseline channel is tracked in the same runs and does not depend on training; "
            "its coverage among non-users and per region is not recorded by the model.",
            "Information does not change purchases; the notice is the only message.",
            *unfinished_note(result),
        ],
        answer=english,
        answer_zh=chinese,
        headlines=headlines(final),
        method=METHOD,
        audit=None if audited is None else audited.verdicts,
        run_seconds=seconds,
    )


def _findings(final: pd.DataFrame, speed: pd.DataFrame, regions: pd.DataFrame) -> list[str]:
    f = final.set_index(["measure", "arm"])

    def ci(measure: str, arm: str, column: str = "value") -> str:
        r = f.loc[(measure, arm)]
        return f"{r[column]:.1%} [{r[column + '_low']:.1%}, {r[column + '_high']:.1%}]"

    out = []
    for arm in ARMS:
        out.append(
            f"{arm}: after {DAYS} days {ci('share_informed', arm)} of residents know the notice, "
            f"{ci('share_rural', arm)} of rural residents and {ci('share_non_users', arm)} of "
            f"non-users (only offline, from kin); the baseline channel alone reaches "
            f"{ci('baseline_share', arm)} of residents and {ci('baseline_rural', arm)} of "
            "rural ones."
        )
    trained = list(ARMS)[1:]
    for arm in trained:
        out.append(
            f"Operator training ({arm}) adds {ci('share_informed', arm, 'vs_no_training')} of "
            f"residents, {ci('share_rural', arm, 'vs_no_training')} of rural residents and "
            f"{ci('share_non_users', arm, 'vs_no_training')} of non-users (paired differences)."
        )
    gap = f.loc[("urban_rural_gap", BASELINE_ARM)]
    tv_gap = (
        f.loc[("baseline_urban", BASELINE_ARM), "value"]
        - f.loc[("baseline_rural", BASELINE_ARM), "value"]
    )
    out.append(
        f"Urban minus rural coverage without training: {gap['value']:+.1%} "
        f"[{gap['value_low']:+.1%}, {gap['value_high']:+.1%}]; the baseline's urban minus "
        f"rural: {tv_gap:+.1%}."
    )
    s = speed.set_index("arm")
    for arm in ARMS:
        reached = s.at[arm, "days_to_50_reached_share"]
        text = f"{arm}: 50 % of residents reached in {reached:.0%} of replications"
        if reached > 0:
            text += f" (after {s.at[arm, 'days_to_50']:.1f} days on average where reached)"
        out.append(text + ".")
    lowest = regions.loc[regions[BASELINE_ARM].idxmin()]
    highest = regions.loc[regions[BASELINE_ARM].idxmax()]
    out.append(
        f"Per region without training, coverage ranges from {lowest[BASELINE_ARM]:.1%} "
        f"({lowest['region']}) to {highest[BASELINE_ARM]:.1%} ({highest['region']})."
    )
    paths = ", ".join(
        f"{p.removeprefix('by_')} {f.loc[(p, BASELINE_ARM), 'value']:.0%}" for p in PATHS
    )
    out.append(f"How the informed learnt it first, without training: {paths}.")
    return out


def _plot_curves(daily: pd.DataFrame, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    shown = {
        "share_informed": ("all residents", "baseline_share"),
        "share_rural": ("rural residents", "baseline_rural"),
        "share_non_users": ("non-users", "baseline_share"),
    }
    fig, axes = plt.subplots(1, len(shown), figsize=(11, 3.6), sharey=True)
    for ax, (measure, (title, tv)) in zip(axes, shown.items(), strict=True):
        for arm in ARMS:
            mine = daily[daily["arm"] == arm]
            ax.plot(mine["day"], mine[measure], label=arm)
            ax.fill_between(mine["day"], mine[f"{measure}_low"], mine[f"{measure}_high"], alpha=0.2)
        base = daily[daily["arm"] == BASELINE_ARM]
        ax.plot(
            base["day"],
            base[tv],
            color="grey",
            linestyle="--",
            label="baseline (TV)" + (", all residents" if tv == "baseline_share" else ""),
        )
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("day since posting")
    axes[0].set_ylabel("share who know the notice")
    axes[0].legend(fontsize=8)
    fig.suptitle("Coverage of one government notice (mean, 95 % predictive interval)", fontsize=10)
    fig.tight_layout()
    path = folder / f"{NAME}_coverage.png"
    save_figure(fig, path)
    return path


def _plot_regions(regions: pd.DataFrame, final: pd.DataFrame, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.8))
    width = 0.8 / len(ARMS)
    x = np.arange(len(regions))
    for i, arm in enumerate(ARMS):
        y = regions[arm].to_numpy()
        err = np.vstack(
            [y - regions[f"{arm}_low"].to_numpy(), regions[f"{arm}_high"].to_numpy() - y]
        )
        ax.bar(x + (i - (len(ARMS) - 1) / 2) * width, y, width, yerr=err, capsize=2, label=arm)
    baseline = final.set_index(["measure", "arm"]).at[("baseline_share", BASELINE_ARM), "value"]
    ax.axhline(baseline, color="grey", linestyle="--", label="baseline (TV), whole city")
    ax.set_xticks(x, regions["region"], rotation=30, ha="right")
    ax.set_ylabel(f"share who know it on day {DAYS}")
    ax.legend(fontsize=8)
    ax.set_title("Coverage per county-level unit (mean, 95 % predictive interval)", fontsize=10)
    fig.tight_layout()
    path = folder / f"{NAME}_regions.png"
    save_figure(fig, path)
    return path


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
