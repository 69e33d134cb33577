"""Head against inclusive (普惠) traffic allocation, on the calibrated Mudanjiang scenario with
its parameter uncertainty.

Two arms that differ only in ``policy.traffic`` (``head``: reach grows with followers;
``inclusive``: equal reach, a cap on the heads' share of creator exposures, discovery for small
creators), each over the same posterior draws of ``mudanjiang_calibrated`` × replications;
replication slot ``k`` of both arms shares its draw, city graph and random streams (common
random numbers), so the differences (inclusive − head) are paired slot by slot. Reported: GMV,
creators' income Gini and top shares, the share of selling creators with at least one sale,
consumer conversion, and the share of creator traffic that reaches non-head creators, which
docs/sources.md, T10, puts at about 70 % under Kuaishou's rule. Intervals are 95 % predictive
intervals over draws and chance, with the share from the parameters. A second sweep audits
what drives the headline outcomes (:mod:`laotie.audit`).

Run ``python experiments/traffic_policy.py [--quick] [--out DIR] [--workers N] [--page DIR]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laotie.audit import Audit, run_audit
from laotie.executors import Executor
from laotie.experiment import Headline, Report, preset, run_sweep, save_figure, sweep_columns
from laotie.experiment import describe_interval as _ci
from laotie.experiment import describe_interval_zh as _zh
from laotie.posterior import load_posterior
from laotie.sweep import Sweep, SweepResult

NAME = "traffic_policy"
QUESTION = (
    "Does inclusive (普惠) traffic allocation spread exposure and income across ordinary "
    "creators, and what does it cost in GMV and conversion?"
)
SEED = 20191126
SCENARIO = "mudanjiang_calibrated"
T10_NON_HEAD_SHARE = 0.70
"""docs/sources.md, T10: about 70 % of exposure goes to non-head creators under the inclusive
rule (not a target of the calibration: an out-of-sample check)."""

ARMS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("head", {"policy.traffic": "head"}),
    ("inclusive", {"policy.traffic": "inclusive"}),
)

# The assumed parameters of the traffic rule the audit varies besides the posterior.
AUDIT_ASSUMED: dict[str, list[float] | None] = {
    "policy.reach": [0.1, 0.6],
    "policy.head_exponent": [0.2, 1.0],
    "policy.head_cap": [0.15, 0.5],
    "policy.discovery_per_active": [0.1, 1.0],
    "creators.post_prob": [0.2, 0.8],
    "creators.follow_prob": [0.05, 0.4],
    "creators.content_quality_mean": [0.3, 0.7],
}

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


def settings(quick: bool) -> dict[str, Any]:
    """Scale, days, posterior draws and replications per draw of each mode."""
    if quick:
        return {"scale": 0.002, "days": 30, "draws": 2, "replications": 2}
    return {"scale": 0.02, "days": 180, "draws": 8, "replications": 2}


def audit_settings(quick: bool) -> dict[str, Any] | None:
    """Samples, scale and days of the audit (None: quick mode leaves it out)."""
    if quick:
        return None
    return {"samples": 96, "scale": 0.005, "days": 91}


def names() -> list[str]:
    return [name for name, _ in ARMS]


def sweep(quick: bool) -> Sweep:
    """Both arms over posterior draws × replications."""
    mode = settings(quick)
    return Sweep(
        preset(SCENARIO, scale=mode["scale"]),
        cases=[dict(case) for _, case in ARMS],
        replications=mode["replications"],
        days=mode["days"],
        seed=SEED,
        draws=load_posterior(SCENARIO).draws(mode["draws"], seed=SEED),
    )


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


def wide(result: SweepResult, measures: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Slot × arm values of one measure."""
    table = measures.pivot(index="replication", columns="point", values=measure)
    table.columns = [names()[p] for p in table.columns]
    return table


def policy_table(result: SweepResult, measures: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for measure, meaning in MEASURES.items():
        values = wide(result, measures, measure)
        row: dict[str, Any] = {"measure": measure, "meaning": meaning}
        row |= sweep_columns(result, values["head"], "head")
        row |= sweep_columns(result, values["inclusive"], "inclusive")
        difference = values["inclusive"] - values["head"]
        row |= sweep_columns(result, difference, "difference", scale="linear")
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- audit
def audit_outcomes(result: SweepResult, arms: list[str]) -> pd.DataFrame:
    """The headline outcomes per audit sample (slot)."""
    measures = per_run(result).merge(result.runs[["run", "point", "replication"]], on="run")

    def values(measure: str) -> pd.DataFrame:
        table = measures.pivot(index="replication", columns="point", values=measure)
        table.columns = [arms[p] for p in table.columns]
        return table

    gmv = values("gmv")
    gini = values("creator_income_gini")
    return pd.DataFrame(
        {
            "non-head traffic share, inclusive": values("non_head_traffic_share")["inclusive"],
            "GMV change, inclusive / head − 1": gmv["inclusive"] / gmv["head"] - 1,
            "creator income Gini change, inclusive − head": gini["inclusive"] - gini["head"],
        }
    )


def audit(quick: bool, out: Path, executor: Executor) -> Audit | None:
    """Run the audit's sweep under ``out`` (None in quick mode, which leaves it out)."""
    return run_audit(
        SCENARIO,
        list(ARMS),
        AUDIT_ASSUMED,
        audit_outcomes,
        design=audit_settings(quick),
        seed=SEED,
        out=out,
        executor=executor,
    )


# ---------------------------------------------------------------------------- words
def _change(row: pd.Series) -> tuple[str, str]:
    if row["difference_low"] > 0:
        return "higher", "更高"
    if row["difference_high"] < 0:
        return "lower", "更低"
    return "not distinguishable", "无法区分"


def headlines(table: pd.DataFrame) -> list[Headline]:
    rows = table.set_index("measure")
    share = rows.loc["non_head_traffic_share"]
    return [
        Headline(
            "share of creator exposures reaching non-head creators, inclusive rule",
            _ci(share, "inclusive"),
            "predicted",
            f"out of sample: T10 (≈ {T10_NON_HEAD_SHARE:.0%}) was not fitted",
        ),
        Headline(
            "creators' income Gini, inclusive − head",
            _ci(rows.loc["creator_income_gini"], "difference"),
            "counterfactual",
            "arm inclusive − arm head, paired",
        ),
        Headline(
            "share of creators with at least one sale, inclusive − head",
            _ci(rows.loc["creators_with_a_sale_share"], "difference"),
            "counterfactual",
            "arm inclusive − arm head, paired",
        ),
        Headline(
            "GMV over the run, inclusive − head (RMB)",
            _ci(rows.loc["gmv"], "difference", ",.0f"),
            "counterfactual",
            "arm inclusive − arm head, paired",
        ),
    ]


def answers(table: pd.DataFrame) -> tuple[list[str], list[str]]:
    rows = table.set_index("measure")
    share, gini = rows.loc["non_head_traffic_share"], rows.loc["creator_income_gini"]
    sale, gmv = rows.loc["creators_with_a_sale_share"], rows.loc["gmv"]
    inside = share["inclusive_low"] <= T10_NON_HEAD_SHARE <= share["inclusive_high"]
    t10 = ("consistent with", "相符") if inside else ("not consistent with", "不符")
    english = [
        f"Exposure: the inclusive rule sends {_ci(share, 'inclusive')} of creator exposures to "
        f"non-head creators against {_ci(share, 'head')} under the head rule ({t10[0]} T10's "
        f"≈ {T10_NON_HEAD_SHARE:.0%}, which was not fitted).",
        f"Income: creators' income Gini is {_change(gini)[0]} under the inclusive rule "
        f"(paired difference {_ci(gini, 'difference')}), and the share of creators with a sale "
        f"is {_change(sale)[0]} ({_ci(sale, 'difference')}).",
        f"Cost: GMV is {_change(gmv)[0]} (inclusive − head {_ci(gmv, 'difference', ',.0f')} RMB; "
        f"{gmv['difference_from_parameters']:.0%} of that spread is the calibration's "
        f"uncertainty).",
    ]
    chinese = [
        f"曝光：普惠规则下{_zh(share, 'inclusive')}的达人曝光流向非头部达人，头部规则下为"
        f"{_zh(share, 'head')}（与 T10 的约 {T10_NON_HEAD_SHARE:.0%} {t10[1]}；"
        f"该目标未参与拟合）。",
        f"收入：普惠规则下达人收入基尼系数{_change(gini)[1]}（配对差值 "
        f"{_zh(gini, 'difference')}），有成交的达人比例{_change(sale)[1]}"
        f"（{_zh(sale, 'difference')}）。",
        f"代价：GMV {_change(gmv)[1]}（普惠减头部：{_zh(gmv, 'difference', ',.0f')} 元；其离散度的 "
        f"{gmv['difference_from_parameters']:.0%} 来自校准参数的不确定性）。",
    ]
    return english, chinese


def findings(table: pd.DataFrame) -> list[str]:
    rows = table.set_index("measure")
    out = []
    for measure in ("creator_income_top1_share", "top10_creators_income_share", "conversion"):
        r = rows.loc[measure]
        out.append(
            f"{MEASURES[measure].capitalize()}: head {_ci(r, 'head')}, inclusive "
            f"{_ci(r, 'inclusive')}; inclusive is {_change(r)[0]} (paired difference "
            f"{_ci(r, 'difference')})."
        )
    return out


METHOD = """
One sweep of `mudanjiang_calibrated` (`experiments/traffic_policy.py`): the arms head and
inclusive, each over the same posterior draws of the calibration × replications; slot *k* of
both arms shares its draw, graph and random streams, so every difference is paired. Intervals
are 95 % predictive intervals for one new run over the draws and chance (normal-theory, from a
random-effects analysis of variance over the draws, on the logit of shares and the logarithm
of positive quantities; `laotie.stats.decompose`); "from parameters" is the share of the
runs' spread that comes from the calibration's uncertainty, rough with a handful of draws.

The audit (full mode only; `laotie audit traffic_policy` runs it alone): 96 samples, each a
posterior draw joined with a Latin-hypercube value of seven assumed parameters of the traffic
rule and of creators' posting, at scale 0.005 for 91 days, both arms once per sample; each
headline outcome's first-order Sobol index to each parameter from those samples (SALib), with
a permutation null (`laotie.audit`).
"""


def _plot(measures: pd.DataFrame, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    shown = [
        "non_head_traffic_share",
        "creator_income_gini",
        "creators_with_a_sale_share",
        "top10_creators_income_share",
    ]
    arms = names()
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3.2))
    for ax, measure in zip(axes, shown, strict=True):
        for point in range(len(arms)):
            values = measures.loc[measures["point"] == point, measure]
            ax.scatter(np.full(len(values), point), values, alpha=0.5, s=14)
            ax.errorbar(point, values.mean(), yerr=values.std(ddof=1), color="black", capsize=4)
        ax.set_xticks(range(len(arms)), arms)
        ax.set_xlim(-0.6, len(arms) - 0.4)
        ax.set_title(measure.replace("_", " "), fontsize=9)
        if measure == "non_head_traffic_share":
            ax.axhline(T10_NON_HEAD_SHARE, color="grey", linestyle="--", label="T10")
            ax.legend(fontsize=8)
    fig.suptitle("Head vs inclusive traffic: one dot per run (posterior draw × replication)")
    fig.tight_layout()
    path = folder / "traffic_policy.png"
    save_figure(fig, path)
    return path


def run(*, quick: bool, out: Path, executor: Executor) -> Report:
    """Run both arms over draws × replications, then the audit; tabulate and plot."""
    mode = settings(quick)
    result = run_sweep(sweep(quick), out / "sweep", executor=executor)
    measures = per_run(result).merge(result.runs[["run", "point", "replication"]], on="run")
    table = policy_table(result, measures)
    english, chinese = answers(table)
    tables = {"policy": table}
    audited = audit(quick, out / "audit", executor)
    seconds = float(result.runs["seconds"].sum())
    if audited is not None:
        tables["audit_drivers"] = audited.drivers
        seconds += audited.seconds
    residents = preset(SCENARIO, scale=mode["scale"]).city.n_residents
    return Report(
        name=NAME,
        question=QUESTION,
        tables=tables,
        figures=[_plot(measures, out / "figures")],
        findings=findings(table),
        assumptions=[
            f"Mudanjiang calibrated, at scale {mode['scale']:g} ({residents:,} residents), "
            f"{mode['days']} days; {mode['draws']} posterior draws × {mode['replications']} "
            f"replications per arm; sweep seed {SEED}.",
            "The traffic rule's own parameters (policy.reach, head_exponent, head_cap, "
            "discovery_per_active) are assumed, not calibrated: the audit says how much the "
            "headline outcomes depend on them.",
            "Head KOLs are the creators the city generator marks as heads; 'non-head traffic' "
            "counts creator exposures (follow and discovery), not storefront impressions.",
        ],
        answer=english,
        answer_zh=chinese,
        headlines=headlines(table),
        method=METHOD,
        audit=None if audited is None else audited.verdicts,
        run_seconds=seconds,
    )


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
