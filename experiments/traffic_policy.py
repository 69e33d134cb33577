"""Head against inclusive (普惠) traffic allocation.

Two arms that differ only in ``policy.traffic`` (``head``: reach grows with followers;
``inclusive``: equal reach, a cap on the heads' share of creator exposures, discovery for small
creators), the same city, consumers and random streams in each replication (common random
numbers). Reported per arm, with 95 % intervals, and as paired differences (inclusive − head):
GMV, creators' income Gini and top shares, the share of selling creators with at least one
sale, consumer conversion, and the share of creator traffic that reaches non-head creators,
which docs/sources.md, T10, puts at about 70 % under Kuaishou's rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from laotie import Scenario
from laotie.executors import Executor
from laotie.experiment import Report, save_figure
from laotie.stats import paired
from laotie.sweep import Sweep, SweepResult, run_sweep

NAME = "traffic_policy"
QUESTION = (
    "Does inclusive (普惠) traffic allocation spread exposure and income across ordinary "
    "creators, and what does it cost in GMV and conversion?"
)
T10_NON_HEAD_SHARE = 0.70
"""docs/sources.md, T10: about 70 % of exposure goes to non-head creators under the inclusive
rule."""

ARMS = ["head", "inclusive"]


def settings(quick: bool) -> dict[str, object]:
    """The scale of each mode: quick for tests, full for the docs page."""
    if quick:
        return {"scenario": Scenario.preset("county", scale=0.3), "days": 30, "replications": 4}
    return {"scenario": Scenario.preset("mudanjiang", scale=0.1), "days": 90, "replications": 10}


def per_run(result: SweepResult) -> pd.DataFrame:
    """One row per finished run: the measures of this experiment."""
    summary = result.summary[result.summary["channel"] == "all"].set_index("run")
    outcomes = result.outcomes.set_index("run")
    rows = []
    for run in outcomes.index:
        income = result.arrays(run)["creator_income"]
        top10 = np.sort(income)[::-1][:10].sum() / income.sum() if income.sum() > 0 else np.nan
        rows.append(
            {
                "run": run,
                "gmv": summary.at[run, "gmv"],
                "conversion": summary.at[run, "conversion"],
                "buyer_conversion": summary.at[run, "buyer_conversion"],
                "creator_income_gini": outcomes.at[run, "creator_income_gini"],
                "creator_income_top1_share": outcomes.at[run, "creator_income_top1_share"],
                "top10_creators_income_share": top10,
                "creators_with_a_sale_share": float((income > 0).mean()) if len(income) else 0,
                "non_head_traffic_share": outcomes.at[run, "non_head_traffic_share"],
            }
        )
    return pd.DataFrame(rows)


MEASURES = {
    "gmv": "GMV over the run (RMB)",
    "conversion": "orders per exposure, all channels",
    "buyer_conversion": "buyers per exposed user-day, all channels",
    "creator_income_gini": "Gini coefficient of selling creators' income",
    "creator_income_top1_share": "share of creator income earned by the top 1 %",
    "top10_creators_income_share": "share of creator income earned by the top 10 creators",
    "creators_with_a_sale_share": "share of selling creators with at least one sale",
    "non_head_traffic_share": "share of creator exposures that reach non-head creators",
}


def run(*, quick: bool, out: Path, executor: Executor) -> Report:
    """Run both arms with common random numbers; tabulate and plot."""
    mode = settings(quick)
    sweep = Sweep(
        mode["scenario"],  # type: ignore[arg-type]
        {"policy.traffic": ARMS},
        replications=mode["replications"],  # type: ignore[arg-type]
        days=mode["days"],  # type: ignore[arg-type]
        seed=20191126,
    )
    result = run_sweep(sweep, out / "sweep", executor=executor)
    measures = per_run(result).merge(result.runs[["run", "point", "replication"]], on="run")
    rows = []
    for measure, meaning in MEASURES.items():
        wide = measures.pivot(index="replication", columns="point", values=measure)
        wide.columns = [ARMS[p] for p in wide.columns]
        table = paired(wide, "head")
        head, inclusive = table.loc["head"], table.loc["inclusive"]
        rows.append(
            {
                "measure": measure,
                "meaning": meaning,
                "head": head["mean"],
                "head_low": head["mean_low"],
                "head_high": head["mean_high"],
                "inclusive": inclusive["mean"],
                "inclusive_low": inclusive["mean_low"],
                "inclusive_high": inclusive["mean_high"],
                "difference": inclusive["difference"],
                "difference_low": inclusive["difference_low"],
                "difference_high": inclusive["difference_high"],
                "replications": int(inclusive["n"]),
            }
        )
    table = pd.DataFrame(rows)
    figures = [_plot(measures, out / "figures")]
    return Report(
        name=NAME,
        question=QUESTION,
        tables={"policy": table},
        figures=figures,
        findings=_findings(table),
        assumptions=[
            f"Scenario {mode['scenario'].name!r} at {len(result.runs) // 2} replications × "  # type: ignore[attr-defined]
            f"{mode['days']} days per arm; both arms share the city graph and random streams "
            f"in each replication (common random numbers), so differences are paired.",
            "Model defaults are not calibrated (docs/model.md 3.7): the direction of an effect "
            "is more trustworthy than its size.",
            "Head KOLs are the creators the city generator marks as heads; 'non-head traffic' "
            "counts creator exposures (follow and discovery), not storefront impressions.",
        ],
    )


def _findings(table: pd.DataFrame) -> list[str]:
    rows = table.set_index("measure")
    out = []

    def line(measure: str, label: str, fmt: str = "{:.3g}") -> str:
        r = rows.loc[measure]
        change = (
            "higher"
            if r["difference_low"] > 0
            else "lower"
            if r["difference_high"] < 0
            else "not distinguishable"
        )
        return (
            f"{label}: head {fmt.format(r['head'])}, inclusive {fmt.format(r['inclusive'])}; "
            f"inclusive is {change} (paired difference {fmt.format(r['difference'])}, 95 % CI "
            f"[{fmt.format(r['difference_low'])}, {fmt.format(r['difference_high'])}])."
        )

    out.append(line("non_head_traffic_share", "Share of creator traffic to non-head creators"))
    share = rows.loc["non_head_traffic_share"]
    inside = share["inclusive_low"] <= T10_NON_HEAD_SHARE <= share["inclusive_high"]
    out.append(
        f"Against T10 of docs/sources.md (≈{T10_NON_HEAD_SHARE:.0%} to non-head creators): "
        f"the inclusive arm gives {share['inclusive']:.1%} [{share['inclusive_low']:.1%}, "
        f"{share['inclusive_high']:.1%}], "
        + ("consistent with T10." if inside else "not consistent with T10 at the defaults.")
    )
    out.append(line("creator_income_gini", "Creators' income Gini"))
    out.append(line("creators_with_a_sale_share", "Share of creators with at least one sale"))
    out.append(line("gmv", "GMV (RMB)", "{:,.0f}"))
    out.append(line("conversion", "Orders per exposure"))
    return out


def _plot(measures: pd.DataFrame, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    shown = [
        "non_head_traffic_share",
        "creator_income_gini",
        "creators_with_a_sale_share",
        "top10_creators_income_share",
    ]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3.2))
    for ax, measure in zip(axes, shown, strict=True):
        for point in range(len(ARMS)):
            values = measures.loc[measures["point"] == point, measure]
            ax.scatter(np.full(len(values), point), values, alpha=0.5, s=14)
            ax.errorbar(point, values.mean(), yerr=values.std(ddof=1), color="black", capsize=4)
        ax.set_xticks(range(len(ARMS)), ARMS)
        ax.set_xlim(-0.6, len(ARMS) - 0.4)
        ax.set_title(measure.replace("_", " "), fontsize=9)
        if measure == "non_head_traffic_share":
            ax.axhline(T10_NON_HEAD_SHARE, color="grey", linestyle="--", label="T10")
            ax.legend(fontsize=8)
    fig.suptitle("Head vs inclusive traffic: one dot per replication, mean ± sd")
    fig.tight_layout()
    path = folder / "traffic_policy.png"
    save_figure(fig, path)
    return path


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
