"""Targeted poverty alleviation (精准扶贫): who among poor producers gains, and how much.

Poor producers (贫困户) of the ``poverty_county`` scenario sell one local specialty (土特产)
each, listed by local creators of their region (燎原计划), by storefronts, or by both
(``producers.channel``). Crossed with that, a creator-training programme on day 30 picks its
creators by one of ``training.rule``'s rules (most followers, local creators, rural creators,
random) or does not happen. Every arm shares the city graph, the producers and the random
streams of each replication (common random numbers), so the same producer can be followed
from arm to arm.

Results are distributions over producers, not one average (targets.md T15: the only
randomised trial of rural e-commerce found about zero average income effect): quantiles of
per-producer income, the share of producers with any income, the share of income that the
top 10 % of producers take, and, producer by producer, who gains and who loses when the
channel changes.

The model has no rule for *which* creators list a specialty: each producer's specialty is
listed by ``producers.listings`` local creators of its region drawn uniformly. The recruiting
rule asked for is therefore approximated by the closest existing rule, ``training.rule``
(which creators a training programme improves), and the gap is stated in the report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from laotie import Scenario
from laotie.executors import Executor
from laotie.experiment import Report
from laotie.metrics import gini, top_share
from laotie.runs import paired, t_interval
from laotie.sweep import Sweep, SweepResult, run_sweep

NAME = "poverty_alleviation"
QUESTION = (
    "How much income reaches poor producers (精准扶贫), and which producers gain, when their "
    "specialties are sold through local creators, storefronts or both, and when a training "
    "programme picks creators by followers, locality, rurality or at random?"
)
SEED = 20191126
CHANNELS = ["creators", "storefronts", "both"]
"""``producers.channel``'s allowed values (laotie/scenario.py, docs/model.md 3.4)."""
RECRUITING = ["none", "followers", "local", "rural", "random"]
"""No training, then ``training.rule``'s allowed values."""
QUANTILES = (0.25, 0.5, 0.75, 0.9)
MEASURES = {
    "share_with_income": "share of producers with any income",
    "income_mean": "mean income per producer (RMB)",
    **{
        f"income_p{round(q * 100)}": f"{q:.0%} quantile of income across producers (RMB)"
        for q in QUANTILES
    },
    "top10_share": "share of producers' income taken by the top 10 % of producers",
    "income_gini": "Gini coefficient of income across producers",
}
CONTRASTS = [("creators", "storefronts"), ("both", "storefronts"), ("both", "creators")]
"""Channel contrasts (to, base), both without training."""
REFERENCE_RULE = "random"
"""Reference contrasts, per channel: training 20 random creators against none. Its mean effect
is about 0, so its shares of producers gaining and losing show how much a change reshuffles
producers' incomes without moving the mean: once two arms differ, their later draws are no
longer paired event by event."""


def settings(quick: bool) -> dict[str, object]:
    """The scale of each mode: quick for tests, full for the docs page."""
    if quick:
        return {
            "scenario": Scenario.preset("poverty_county", scale=0.25),
            "days": 60,
            "replications": 3,
        }
    return {"scenario": Scenario.preset("poverty_county"), "days": 120, "replications": 10}


def cases(scenario: Scenario) -> list[dict[str, object]]:
    """One case per recruiting arm: no training, or the scenario's training with each rule.

    Every case sets the same keys: a sweep fills a key missing from a case with NaN.
    """
    t = scenario.training
    return [
        {"training.day": -1, "training.n_creators": 0, "training.rule": t.rule}
        if rule == "none"
        else {"training.day": t.day, "training.n_creators": t.n_creators, "training.rule": rule}
        for rule in RECRUITING
    ]


def make_sweep(quick: bool) -> Sweep:
    """Channels × recruiting arms, common random numbers."""
    mode = settings(quick)
    return Sweep(
        mode["scenario"],  # type: ignore[arg-type]
        {"producers.channel": CHANNELS},
        cases=cases(mode["scenario"]),  # type: ignore[arg-type]
        replications=mode["replications"],  # type: ignore[arg-type]
        days=mode["days"],  # type: ignore[arg-type]
        seed=SEED,
    )


def arm_of(point: int) -> tuple[str, str]:
    """The (channel, recruiting) of a sweep point: the grid is outer, the cases inner."""
    return CHANNELS[point // len(RECRUITING)], RECRUITING[point % len(RECRUITING)]


def producer_measures(income: np.ndarray) -> dict[str, float]:
    """The distribution of one run's per-producer income (RMB) as the measures of MEASURES."""
    income = np.asarray(income, dtype=float)
    out = {
        "share_with_income": float((income > 0).mean()),
        "income_mean": float(income.mean()),
    }
    for q in QUANTILES:
        out[f"income_p{round(q * 100)}"] = float(np.quantile(income, q))
    out["top10_share"] = top_share(income, 0.10)
    out["income_gini"] = gini(income)
    return out


def per_run(result: SweepResult) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """One row of measures per finished run, and each run's per-producer income."""
    runs = result.runs[result.runs["status"] == "ok"]
    incomes = {int(r): result.arrays(int(r))["producer_income"] for r in runs["run"]}
    rows = []
    for _, row in runs.iterrows():
        channel, recruiting = arm_of(int(row["point"]))
        rows.append(
            {
                "run": int(row["run"]),
                "replication": int(row["replication"]),
                "channel": channel,
                "recruiting": recruiting,
                **producer_measures(incomes[int(row["run"])]),
            }
        )
    return pd.DataFrame(rows), incomes


def distribution_table(measures: pd.DataFrame) -> pd.DataFrame:
    """Per arm: each measure's mean over replications with its 95 % t interval."""
    rows = []
    for (channel, recruiting), group in measures.groupby(["channel", "recruiting"], sort=False):
        row: dict[str, object] = {"channel": channel, "recruiting": recruiting}
        for measure in MEASURES:
            mean, low, high = t_interval(group[measure].to_numpy())
            row.update({measure: mean, f"{measure}_low": low, f"{measure}_high": high})
        row["replications"] = len(group)
        rows.append(row)
    return pd.DataFrame(rows)


def who_gains_table(result: SweepResult, incomes: dict[int, np.ndarray]) -> pd.DataFrame:
    """Producer by producer, without training: how income changes from one channel to another.

    Under common random numbers replication ``r`` of every arm has the same producers (the
    same residents) in the same order, selling the same specialties (price and quality), and
    ``both`` lists each specialty with exactly the creators of ``creators`` and the storefronts
    of ``storefronts`` (docs/model.md 3.4): a per-producer change is the channel's effect on
    that producer. Once two arms differ, though, their later draws (posts, exposures,
    purchases) are no longer paired event by event, so a producer's change also holds noise:
    the reference contrasts (training at random against none, per channel) show how much.
    Per contrast, each measure is a per-replication value averaged over replications (95 % t
    interval).
    """
    runs = result.runs[result.runs["status"] == "ok"]
    run_at = {
        (arm_of(int(p)), int(r)): int(run)
        for p, r, run in zip(runs["point"], runs["replication"], runs["run"], strict=True)
    }
    contrasts = [(f"{to} − {base}", (to, "none"), (base, "none")) for to, base in CONTRASTS] + [
        (f"{c}: {REFERENCE_RULE} training − none", (c, REFERENCE_RULE), (c, "none"))
        for c in CHANNELS
    ]
    rows = []
    for label, to, base in contrasts:
        per_rep = []
        for r in sorted(set(runs["replication"])):
            a, b = run_at.get((to, r)), run_at.get((base, r))
            if a is None or b is None:
                continue
            change = incomes[a] - incomes[b]
            per_rep.append(
                {
                    "share_gaining": float((change > 0).mean()),
                    "share_losing": float((change < 0).mean()),
                    "change_mean": float(change.mean()),
                    "change_p10": float(np.quantile(change, 0.1)),
                    "change_p50": float(np.quantile(change, 0.5)),
                    "change_p90": float(np.quantile(change, 0.9)),
                }
            )
        frame = pd.DataFrame(per_rep)
        row: dict[str, object] = {"contrast": label}
        for measure in frame.columns:
            mean, low, high = t_interval(frame[measure].to_numpy())
            row.update({measure: mean, f"{measure}_low": low, f"{measure}_high": high})
        row["replications"] = len(frame)
        rows.append(row)
    return pd.DataFrame(rows)


def recruiting_table(measures: pd.DataFrame) -> pd.DataFrame:
    """Per channel and training rule: the paired difference from no training."""
    rows = []
    for channel in CHANNELS:
        mine = measures[measures["channel"] == channel]
        compared = {
            measure: paired(
                mine.pivot(index="replication", columns="recruiting", values=measure)[RECRUITING],
                "none",
            )
            for measure in ("income_mean", "share_with_income", "income_p50")
        }
        for rule in RECRUITING[1:]:
            row: dict[str, object] = {"channel": channel, "recruiting": rule}
            for measure, table in compared.items():
                r = table.loc[rule]
                row.update(
                    {
                        f"{measure}_change": r["difference"],
                        f"{measure}_change_low": r["difference_low"],
                        f"{measure}_change_high": r["difference_high"],
                    }
                )
            row["replications"] = int(compared["income_mean"].loc[rule, "n"])
            rows.append(row)
    return pd.DataFrame(rows)


def run(*, quick: bool, out: Path, executor: Executor) -> Report:
    """Run channels × recruiting arms with common random numbers; tabulate and plot."""
    mode = settings(quick)
    sweep = make_sweep(quick)
    result = run_sweep(sweep, out / "sweep", executor=executor)
    measures, incomes = per_run(result)
    distribution = distribution_table(measures)
    who = who_gains_table(result, incomes)
    recruiting = recruiting_table(measures)
    scenario: Scenario = mode["scenario"]  # type: ignore[assignment]
    figures = [
        _plot_distribution(result, incomes, out / "figures"),
        _plot_recruiting(recruiting, out / "figures"),
    ]
    return Report(
        name=NAME,
        question=QUESTION,
        tables={"distribution": distribution, "who_gains": who, "recruiting": recruiting},
        figures=figures,
        findings=_findings(distribution, who, recruiting, scenario.training.n_creators),
        assumptions=[
            f"Scenario {scenario.name!r} ({scenario.city.n_residents:,} residents, "
            f"{scenario.producers.n_producers} poor producers, {scenario.producers.listings} "
            f"sellers listing each specialty, producers receive "
            f"{scenario.producers.income_share:.0%} of each sale), {mode['days']} days, "
            f"{mode['replications']} replications per arm; the {len(CHANNELS)} channels × "
            f"{len(RECRUITING)} recruiting arms share the city graph, the producers and the "
            "random streams of each replication (common random numbers), so differences are "
            "paired and producers can be compared one by one.",
            f"Training arms train {scenario.training.n_creators} creators on day "
            f"{scenario.training.day} (authenticity +{scenario.training.authenticity_gain}, "
            f"content quality +{scenario.training.content_quality_gain}, up to "
            f"{scenario.training.follower_gain} new followers each); 'none' has no training.",
            "Gap: the model has no rule for which creators list a producer's specialty; "
            "each specialty is listed by local (non-head) creators of the producer's region "
            "drawn uniformly. 'Recruiting' is approximated by training.rule, which picks the "
            "creators a training programme improves, not those who sell the specialties.",
            "Who gains: in replication r the producers are the same residents with the same "
            "specialties (price, quality) in every arm, and 'both' lists each specialty with "
            "exactly the creators of 'creators' and the storefronts of 'storefronts' "
            "(docs/model.md 3.4). Once two arms differ, their later draws (posts, exposures, "
            "purchases) are no longer paired event by event, so a producer's change between "
            "arms holds noise as well as the channel's effect; the reference contrasts "
            f"(training at {REFERENCE_RULE} against none, per channel) show how large it is. "
            "Mean changes are clean paired differences.",
            "Missing: buyers (or orders) per producer and the split of a producer's income "
            "between creators and storefronts are not recorded, so only income-based measures "
            "are reported; producers' regions are not in the stored arrays either.",
            "Model defaults are not calibrated (docs/model.md 3.7): directions are more "
            "trustworthy than sizes.",
        ],
    )


def _fmt_ci(row: pd.Series, measure: str, fmt: str) -> str:
    return (
        f"{fmt.format(row[measure])} [{fmt.format(row[measure + '_low'])}, "
        f"{fmt.format(row[measure + '_high'])}]"
    )


def _findings(
    distribution: pd.DataFrame, who: pd.DataFrame, recruiting: pd.DataFrame, n_trained: int
) -> list[str]:
    out = []
    base = distribution[distribution["recruiting"] == "none"].set_index("channel")
    for channel in CHANNELS:
        r = base.loc[channel]
        out.append(
            f"Without training, through {channel}: "
            f"{_fmt_ci(r, 'share_with_income', '{:.0%}')} of producers earn anything; median "
            f"income {_fmt_ci(r, 'income_p50', '{:,.0f}')} RMB, 90th percentile "
            f"{_fmt_ci(r, 'income_p90', '{:,.0f}')} RMB; the top 10 % of producers take "
            f"{_fmt_ci(r, 'top10_share', '{:.0%}')} of the income."
        )
    channels = who[~who["contrast"].str.contains("training")]
    reference = who[who["contrast"].str.contains("training")]
    for _, r in channels.iterrows():
        out.append(
            f"Producer by producer ({r['contrast']}, no training, same producers and products): "
            f"{_fmt_ci(r, 'share_gaining', '{:.0%}')} gain and "
            f"{_fmt_ci(r, 'share_losing', '{:.0%}')} lose (the other "
            f"{1 - r['share_gaining'] - r['share_losing']:.0%} earn the same); the median "
            f"change is {_fmt_ci(r, 'change_p50', '{:,.0f}')} RMB, the 10th and 90th percentiles "
            f"{r['change_p10']:,.0f} and {r['change_p90']:,.0f} RMB."
        )
    parts = [
        f"{r['contrast'].split(':')[0]} {r['share_gaining']:.0%} gain, {r['share_losing']:.0%} "
        f"lose, mean change {_fmt_ci(r, 'change_mean', '{:+,.1f}')} RMB"
        for _, r in reference.iterrows()
    ]
    out.append(
        f"Reference for the shares above: training {n_trained} creators at random against no "
        "training, a change with a mean effect near zero, already makes producers gain and lose "
        "(once two arms differ their later draws are not paired event by event): "
        + "; ".join(parts)
        + "."
    )
    for channel in ("creators", "both"):
        mine = recruiting[recruiting["channel"] == channel].set_index("recruiting")
        parts = []
        for rule, r in mine.iterrows():
            low, high = r["income_mean_change_low"], r["income_mean_change_high"]
            verdict = "higher" if low > 0 else "lower" if high < 0 else "not distinguishable"
            parts.append(
                f"{rule} {r['income_mean_change']:+,.1f} [{low:+,.1f}, {high:+,.1f}] ({verdict})"
            )
        out.append(
            f"Training {n_trained} creators, channel {channel}: change in mean income per producer "
            f"against no training (RMB, 95 % CI): " + "; ".join(parts) + "."
        )
    return out


def _plot_distribution(result: SweepResult, incomes: dict[int, np.ndarray], folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from laotie._io import atomic_write

    runs = result.runs[result.runs["status"] == "ok"]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for channel in CHANNELS:
        point = CHANNELS.index(channel) * len(RECRUITING)
        curves = np.stack(
            [np.sort(incomes[int(r)]) for r in runs.loc[runs["point"] == point, "run"]]
        )
        rank = (np.arange(curves.shape[1]) + 0.5) / curves.shape[1]
        mean = curves.mean(axis=0)
        ax.plot(rank, mean, label=channel)
        ax.fill_between(rank, curves.min(axis=0), curves.max(axis=0), alpha=0.2)
    ax.set_xlabel("producers, poorest to richest (share)")
    ax.set_ylabel("income over the run (RMB)")
    ax.set_title(
        "Per-producer income by channel, no training\n(mean over replications; band: min–max)",
        fontsize=10,
    )
    ax.legend(title="producers.channel")
    fig.tight_layout()
    path = folder / f"{NAME}_distribution.png"
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)
    return path


def _plot_recruiting(recruiting: pd.DataFrame, folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from laotie._io import atomic_write

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    rules = RECRUITING[1:]
    width = 0.8 / len(CHANNELS)
    for i, channel in enumerate(CHANNELS):
        mine = recruiting[recruiting["channel"] == channel].set_index("recruiting").loc[rules]
        x = np.arange(len(rules)) + (i - (len(CHANNELS) - 1) / 2) * width
        y = mine["income_mean_change"].to_numpy()
        err = np.vstack(
            [y - mine["income_mean_change_low"].to_numpy(), mine["income_mean_change_high"] - y]
        )
        ax.bar(x, y, width, label=channel)
        ax.errorbar(x, y, yerr=err, fmt="none", color="black", capsize=3)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(np.arange(len(rules)), [f"train by\n{r}" for r in rules])
    ax.set_ylabel("change in mean income per producer (RMB)")
    ax.set_title("Training rule against no training (paired, 95 % CI)", fontsize=10)
    ax.legend(title="producers.channel")
    fig.tight_layout()
    path = folder / f"{NAME}_recruiting.png"
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)
    return path


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
