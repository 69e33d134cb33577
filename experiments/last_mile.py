"""The last mile (最后一公里): government notices through the app's feeds and people.

One government notice (``information.n_messages = 1``) is posted on day 0 by every
government account of a fraction of Mudanjiang and followed for 14 days. It reaches people
through the same-city (快手同城) and same-hometown (快手同乡) feeds, sharing along trust ties
in the app and telling kin offline (users or not); the centralised baseline channel (city TV,
news portal) is tracked in the same runs for comparison. Arms differ only in the operator
training of government accounts (雪城发布): none, or training on day 0 that adds
``information.training_gain`` to their content quality.

Coverage is reported overall, among rural residents and non-users, per region and per day.
The arms are the cases of one :class:`laotie.sweep.Sweep` with common random numbers:
replication ``r`` of every arm has the seed ``SeedSequence(SEED, spawn_key=(r,))``, so arms
share the city graph and every random number. The sweep stores each run's per-day and
per-region coverage (:meth:`laotie.sweep.SweepResult.information`,
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
from laotie.errors import LaotieError
from laotie.executors import Executor
from laotie.experiment import Report, save_figure
from laotie.stats import paired, t_interval
from laotie.sweep import Sweep, SweepResult, run_sweep

NAME = "last_mile"
QUESTION = (
    "How many residents, rural residents and non-users does a government notice reach in 14 "
    "days through the same-city and same-hometown feeds plus sharing, per region, against a "
    "centralised baseline (TV), with and without training the government accounts' operators?"
)
SEED = 20191126
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


def settings(quick: bool) -> dict[str, object]:
    """The scale of each mode: quick for tests, full for the docs page."""
    scale = 0.01 if quick else 0.05
    scenario = Scenario.preset("mudanjiang", scale=scale, **{"information.n_messages": 1})
    return {"scenario": scenario, "scale": scale, "replications": 3 if quick else 10}


def make_sweep(quick: bool) -> Sweep:
    """The arms as the cases of one sweep with common random numbers."""
    mode = settings(quick)
    return Sweep(
        mode["scenario"],  # type: ignore[arg-type]
        cases=[dict(changes) for changes in ARMS.values()],
        replications=mode["replications"],  # type: ignore[arg-type]
        days=DAYS,
        seed=SEED,
    )


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


def _mean_ci(values: np.ndarray) -> dict[str, float]:
    mean, low, high = t_interval(values)
    return {"mean": mean, "low": low, "high": high}


def final_table(information: pd.DataFrame) -> pd.DataFrame:
    """Per arm and measure, at the last day: mean over replications (95 % t interval), and
    the paired difference from the arm without training."""
    last = information[information["day"] == information["day"].max()]
    rows = []
    for measure in [*COVERAGE, *PATHS]:
        wide = last.pivot(index="replication", columns="arm", values=measure)[list(ARMS)]
        compared = paired(wide, BASELINE_ARM)
        for arm in ARMS:
            c = compared.loc[arm]
            rows.append(
                {
                    "measure": measure,
                    "arm": arm,
                    "value": c["mean"],
                    "value_low": c["mean_low"],
                    "value_high": c["mean_high"],
                    "vs_no_training": c["difference"],
                    "vs_no_training_low": c["difference_low"],
                    "vs_no_training_high": c["difference_high"],
                }
            )
    return pd.DataFrame(rows)


def speed_table(information: pd.DataFrame) -> pd.DataFrame:
    """Per arm: days from posting until 50 % and 80 % of residents know the notice."""
    rows = []
    for arm in ARMS:
        mine = information[information["arm"] == arm]
        row: dict[str, object] = {"arm": arm}
        for threshold in (0.5, 0.8):
            days = []
            for _, group in mine.groupby("replication"):
                since = group["day"] - group["posted_day"] + 1
                hit = since[group["share_informed"] >= threshold]
                days.append(float(hit.iloc[0]) if len(hit) else np.nan)
            days_arr = np.array(days)
            name = f"days_to_{round(threshold * 100)}"
            row[f"{name}_reached_share"] = float((~np.isnan(days_arr)).mean())
            ci = _mean_ci(days_arr)
            row.update({name: ci["mean"], f"{name}_low": ci["low"], f"{name}_high": ci["high"]})
        rows.append(row)
    return pd.DataFrame(rows)


def daily_table(information: pd.DataFrame) -> pd.DataFrame:
    """Per arm and day since posting: coverage overall, rural, non-users and the baseline's."""
    rows = []
    shown = ("share_informed", "share_rural", "share_non_users", "baseline_share", "baseline_rural")
    for (arm, day), group in information.groupby(["arm", "day"], sort=False):
        row: dict[str, object] = {"arm": arm, "day": int(day) + 1}
        for measure in shown:
            ci = _mean_ci(group[measure].to_numpy())
            row.update(
                {measure: ci["mean"], f"{measure}_low": ci["low"], f"{measure}_high": ci["high"]}
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    order = {arm: i for i, arm in enumerate(ARMS)}
    return table.sort_values(["arm", "day"], key=lambda s: s.map(order) if s.name == "arm" else s)


def region_table(regions: pd.DataFrame) -> pd.DataFrame:
    """Per region, at the last day: coverage per arm and the paired gain from training."""
    last = regions[regions["day"] == regions["day"].max()]
    rows = []
    for region, group in last.groupby("region", sort=False):
        wide = group.pivot(index="replication", columns="arm", values="share_informed")[list(ARMS)]
        compared = paired(wide, BASELINE_ARM)
        row: dict[str, object] = {"region": region}
        for arm in ARMS:
            c = compared.loc[arm]
            row.update({arm: c["mean"], f"{arm}_low": c["mean_low"], f"{arm}_high": c["mean_high"]})
        for arm in list(ARMS)[1:]:
            c = compared.loc[arm]
            name = f"gain {arm}"
            row.update(
                {
                    name: c["difference"],
                    f"{name}_low": c["difference_low"],
                    f"{name}_high": c["difference_high"],
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def run(*, quick: bool, out: Path, executor: Executor) -> Report:
    """Run every arm and replication; tabulate and plot."""
    mode = settings(quick)
    result = run_sweep(make_sweep(quick), out / "sweep", executor=executor)
    information, regions = coverage_tables(result)
    final = final_table(information)
    speed = speed_table(information)
    daily = daily_table(information)
    per_region = region_table(regions)
    scenario: Scenario = mode["scenario"]  # type: ignore[assignment]
    i = scenario.information
    figures = [
        _plot_curves(daily, out / "figures"),
        _plot_regions(per_region, final, out / "figures"),
    ]
    return Report(
        name=NAME,
        question=QUESTION,
        tables={"final": final, "speed": speed, "regions": per_region, "daily": daily},
        figures=figures,
        findings=_findings(final, speed, per_region),
        assumptions=[
            f"Mudanjiang at {mode['scale']:.0%} of its population "
            f"({scenario.city.n_residents:,} residents, all {len(scenario.city.regions)} "
            f"county-level units), one notice posted on day 0 by every government account, "
            f"{DAYS} days, {mode['replications']} replications per arm; replication r of "
            "every arm shares the city graph and every random number (common random "
            "numbers), so differences are paired.",
            f"Information defaults (uncalibrated, docs/model.md 3.7): posts live "
            f"{i.live_days} days in the feeds; same-city feed {i.city_feed}, same-hometown "
            f"feed {i.hometown_feed} per day at content quality 1; sharing {i.share_prob} and "
            f"offline telling {i.offline_prob} per unit of trust; government content quality "
            f"mean {i.gov_quality_mean}; baseline channel {i.tv_urban} (urban) and "
            f"{i.tv_rural} (rural) per day while the post is live.",
            "The baseline channel is tracked in the same runs and does not depend on training; "
            "its coverage among non-users and per region is not recorded by the model.",
            "Information does not change purchases; the notice is the only message.",
            *_unfinished(result),
        ],
    )


def _unfinished(result: SweepResult) -> list[str]:
    """A note when some runs did not finish (the tables leave them out; a rerun retries)."""
    failed = result.runs[result.runs["status"] != "ok"]
    if not len(failed):
        return []
    return [
        f"{len(failed)} of {len(result.runs)} runs did not finish and are left out of the "
        "tables (running the experiment again with the same folder retries them)."
    ]


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
    fig.suptitle("Coverage of one government notice (mean, 95 % CI)", fontsize=10)
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
    ax.set_title("Coverage per county-level unit (mean, 95 % CI)", fontsize=10)
    fig.tight_layout()
    path = folder / f"{NAME}_regions.png"
    save_figure(fig, path)
    return path


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
