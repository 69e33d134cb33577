"""Targeted poverty alleviation (精准扶贫): who among poor producers gains, and how much.

Poor producers (贫困户) of the ``poverty_county`` scenario sell one local specialty (土特产)
each, listed by creators (燎原计划), by storefronts, or by both (``producers.channel``). Which
creators list a specialty is ``producers.recruit`` (docs/model.md 3.4): ``local`` non-head
creators of the producer's region (the default), ``rural`` ones among them, the city's most
``followers`` (the same creators for every producer, heads included) or ``random`` selling
creators. The arms are the channels × the recruiting rules where the rule matters (it does not
under ``storefronts``: one arm there), without training. Every arm shares the city graph, the
producers, their specialties and the random streams of each replication (common random
numbers), so the same producer, selling the same product, can be followed from arm to arm.

Results are distributions over producers, not one average (docs/sources.md, T15: the only
randomised trial of rural e-commerce found about zero average income effect): quantiles of
per-producer income, the share of producers with any income, the share of income that the
top 10 % of producers take, the Gini coefficient across producers, the buyers each producer
reaches (distinct users who ordered its specialty, ``producer_buyers`` of
``SweepResult.arrays``; docs/model.md 3.6), and, producer by producer, who gains and who loses
when the channel or the recruiting rule changes.

Per-producer gain and loss shares hold noise as well as effect: once two arms differ, their
later draws (posts, exposures, purchases) are no longer paired event by event. Reference arms
measure it: training 20 creators at random on day 30 against no training (a change whose mean
effect is about zero; docs/experiments/creator_training.md), under ``creators`` and ``both``
with ``recruit = local``. Quick mode also runs a check arm (``storefronts`` recruiting by
followers), identical by construction to ``storefronts`` recruiting locally; it is tested,
not tabulated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from laotie import Scenario
from laotie.executors import Executor
from laotie.experiment import Report, interval_columns, save_figure
from laotie.metrics import gini, top_share
from laotie.stats import paired
from laotie.sweep import Sweep, SweepResult, run_sweep

NAME = "poverty_alleviation"
QUESTION = (
    "How much income reaches poor producers (精准扶贫), and which producers gain, when their "
    "specialties are sold through creators, storefronts or both, and when the creators who "
    "sell them are recruited locally, among rural creators, by most followers or at random?"
)
SEED = 20191126
CHANNELS = ["creators", "storefronts", "both"]
"""``producers.channel``'s allowed values (laotie/scenario.py, docs/model.md 3.4)."""
RECRUIT = ["local", "rural", "followers", "random"]
"""``producers.recruit``'s allowed values; ``local`` (the default) is the baseline."""
RECRUIT_CHANNELS = ["creators", "both"]
"""The channels in which creators list specialties, so that the recruiting rule matters."""
NO_RECRUIT = "—"
"""The recruit label of the storefronts arm: no creator lists a specialty, the rule is moot."""
REFERENCE_RULE = "random"
"""Reference arms: the scenario's training (20 creators on day 30) picking creators at random."""
ARMS: list[tuple[str, str, str]] = [
    *((c, r, "none") for c in CHANNELS for r in (RECRUIT if c in RECRUIT_CHANNELS else ["local"])),
    *((c, "local", REFERENCE_RULE) for c in RECRUIT_CHANNELS),
]
"""(channel, recruit, training) of every sweep point, in order."""
CHECK_ARMS: list[tuple[str, str, str]] = [("storefronts", "followers", "none")]
"""Quick mode only, after ARMS: the recruit rule cannot change a storefronts-only run."""
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
    "buyers_mean": "mean buyers reached per producer (distinct users who ordered its specialty)",
    "buyers_p50": "median buyers reached per producer",
    "share_with_buyers": "share of producers with at least one buyer",
}
CHANGES = {
    "share_gaining": "share of producers whose income rises",
    "share_losing": "share of producers whose income falls",
    "change_mean": "mean change per producer (RMB)",
    "change_p10": "10 % quantile of the per-producer change (RMB)",
    "change_p50": "median per-producer change (RMB)",
    "change_p90": "90 % quantile of the per-producer change (RMB)",
}
BUYERS_CHANGE = "buyers_mean_change"
"""The paired change in mean buyers reached per producer, in both contrast tables."""
CONTRASTS = [("creators", "storefronts"), ("both", "storefronts"), ("both", "creators")]
"""Channel contrasts (to, base), all with ``recruit = local`` and no training."""
ARM_CHANGES = ("income_mean", "share_with_income", "income_gini", "income_p50", "buyers_mean")
"""The arm-level measures whose paired change the recruiting table reports."""


def settings(quick: bool) -> dict[str, object]:
    """The scale of each mode: quick for tests, full for the docs page."""
    if quick:
        return {
            "scenario": Scenario.preset("poverty_county", scale=0.25),
            "days": 60,
            "replications": 3,
        }
    return {"scenario": Scenario.preset("poverty_county"), "days": 120, "replications": 20}


def arms(quick: bool) -> list[tuple[str, str, str]]:
    """The (channel, recruit, training) of each sweep point in a mode."""
    return ARMS + (CHECK_ARMS if quick else [])


def arm_of(point: int) -> tuple[str, str, str]:
    """The (channel, recruit, training) of a sweep point (check arms come after ARMS)."""
    return (ARMS + CHECK_ARMS)[point]


def label(arm: tuple[str, str, str]) -> tuple[str, str, str]:
    """An arm as tables show it: the storefronts arm's recruit rule is moot."""
    channel, recruit, training = arm
    return channel, recruit if channel in RECRUIT_CHANNELS else NO_RECRUIT, training


def cases(scenario: Scenario, quick: bool) -> list[dict[str, object]]:
    """One case per arm: channel, recruit rule, and no training or the reference training.

    Every case sets the same keys: a sweep fills a key missing from a case with NaN.
    """
    t = scenario.training
    out = []
    for channel, recruit, training in arms(quick):
        trained = training != "none"
        out.append(
            {
                "producers.channel": channel,
                "producers.recruit": recruit,
                "training.day": t.day if trained else -1,
                "training.n_creators": t.n_creators if trained else 0,
                "training.rule": training if trained else t.rule,
            }
        )
    return out


def make_sweep(quick: bool) -> Sweep:
    """All arms as cases, common random numbers."""
    mode = settings(quick)
    return Sweep(
        mode["scenario"],  # type: ignore[arg-type]
        cases=cases(mode["scenario"], quick),  # type: ignore[arg-type]
        replications=mode["replications"],  # type: ignore[arg-type]
        days=mode["days"],  # type: ignore[arg-type]
        seed=SEED,
    )


def producer_measures(income: np.ndarray, buyers: np.ndarray) -> dict[str, float]:
    """One run's per-producer income (RMB) and buyers reached as the measures of MEASURES."""
    income = np.asarray(income, dtype=float)
    buyers = np.asarray(buyers, dtype=float)
    out = {
        "share_with_income": float((income > 0).mean()),
        "income_mean": float(income.mean()),
    }
    for q in QUANTILES:
        out[f"income_p{round(q * 100)}"] = float(np.quantile(income, q))
    out["top10_share"] = top_share(income, 0.10)
    out["income_gini"] = gini(income)
    out["buyers_mean"] = float(buyers.mean())
    out["buyers_p50"] = float(np.quantile(buyers, 0.5))
    out["share_with_buyers"] = float((buyers > 0).mean())
    return out


def change_measures(change: np.ndarray) -> dict[str, float]:
    """One replication's per-producer changes (RMB) as the measures of CHANGES."""
    return {
        "share_gaining": float((change > 0).mean()),
        "share_losing": float((change < 0).mean()),
        "change_mean": float(change.mean()),
        "change_p10": float(np.quantile(change, 0.1)),
        "change_p50": float(np.quantile(change, 0.5)),
        "change_p90": float(np.quantile(change, 0.9)),
    }


def per_run(
    result: SweepResult,
) -> tuple[pd.DataFrame, dict[int, np.ndarray], dict[int, np.ndarray]]:
    """One row of measures per finished run of ARMS, and each run's per-producer income and
    buyers reached."""
    runs = result.runs[(result.runs["status"] == "ok") & (result.runs["point"] < len(ARMS))]
    arrays = {int(r): result.arrays(int(r)) for r in runs["run"]}
    incomes = {r: a["producer_income"] for r, a in arrays.items()}
    buyers = {r: a["producer_buyers"] for r, a in arrays.items()}
    rows = []
    for _, row in runs.iterrows():
        channel, recruit, training = arm_of(int(row["point"]))
        rows.append(
            {
                "run": int(row["run"]),
                "replication": int(row["replication"]),
                "channel": channel,
                "recruit": recruit,
                "training": training,
                **producer_measures(incomes[int(row["run"])], buyers[int(row["run"])]),
            }
        )
    return pd.DataFrame(rows), incomes, buyers


def _with_intervals(frame: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> dict:
    row: dict[str, object] = {}
    for column in columns:
        row.update(interval_columns(frame[column].to_numpy(), column))
    return row


def distribution_table(measures: pd.DataFrame) -> pd.DataFrame:
    """Per arm: each measure's mean over replications with its 95 % t interval."""
    rows = []
    for arm, group in measures.groupby(["channel", "recruit", "training"], sort=False):
        channel, recruit, training = label(arm)  # type: ignore[arg-type]
        row: dict[str, object] = {"channel": channel, "recruit": recruit, "training": training}
        row.update(_with_intervals(group, list(MEASURES)))
        row["replications"] = len(group)
        rows.append(row)
    return pd.DataFrame(rows)


def _runs_at(result: SweepResult) -> dict[tuple[tuple[str, str, str], int], int]:
    runs = result.runs[result.runs["status"] == "ok"]
    return {
        (arm_of(int(p)), int(r)): int(run)
        for p, r, run in zip(runs["point"], runs["replication"], runs["run"], strict=True)
    }


def per_producer(
    result: SweepResult,
    incomes: dict[int, np.ndarray],
    to: tuple[str, str, str],
    base: tuple[str, str, str],
    buyers: dict[int, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Per replication, the CHANGES of each producer's income from arm ``base`` to arm ``to``,
    and with ``buyers`` the mean change in buyers reached per producer (BUYERS_CHANGE).

    Under common random numbers replication ``r`` of every arm has the same producers (the
    same residents) in the same order, selling the same specialties (price and quality);
    ``both`` lists each specialty with exactly the creators of ``creators`` (same recruit rule)
    and the storefronts of ``storefronts`` (docs/model.md 3.4). Once two arms differ, though,
    their later draws are no longer paired event by event, so a producer's change also holds
    noise: the reference contrasts show how much.
    """
    at = _runs_at(result)
    rows = []
    for r in sorted(set(result.runs["replication"])):
        a, b = at.get((to, int(r))), at.get((base, int(r)))
        if a is None or b is None:
            continue
        row = change_measures(incomes[a] - incomes[b])
        if buyers is not None:
            row[BUYERS_CHANGE] = float(np.mean(buyers[a] - buyers[b]))
        rows.append(row)
    return pd.DataFrame(rows, columns=[*CHANGES, *([BUYERS_CHANGE] if buyers else [])])


def who_gains_table(
    result: SweepResult, incomes: dict[int, np.ndarray], buyers: dict[int, np.ndarray]
) -> pd.DataFrame:
    """Producer by producer: channel contrasts (recruit local, no training) and the references
    (training at random against none, recruit local): CHANGES of income and the mean change
    in buyers reached (BUYERS_CHANGE). Each measure is a per-replication value averaged over
    replications (95 % t interval)."""
    contrasts = [
        ("channel", f"{to} − {base}", (to, "local", "none"), (base, "local", "none"))
        for to, base in CONTRASTS
    ] + [
        (
            "reference",
            f"{c}: {REFERENCE_RULE} training − none",
            (c, "local", REFERENCE_RULE),
            (c, "local", "none"),
        )
        for c in RECRUIT_CHANNELS
    ]
    rows = []
    for kind, name, to, base in contrasts:
        frame = per_producer(result, incomes, to, base, buyers)
        row: dict[str, object] = {"kind": kind, "contrast": name}
        row.update(_with_intervals(frame, [*CHANGES, BUYERS_CHANGE]))
        row["replications"] = len(frame)
        rows.append(row)
    return pd.DataFrame(rows)


def recruiting_table(
    result: SweepResult, measures: pd.DataFrame, incomes: dict[int, np.ndarray]
) -> pd.DataFrame:
    """Per channel with creators and recruit rule: the change from ``recruit = local``.

    Arm-level measures (ARM_CHANGES, mean buyers reached per producer among them: its change
    is BUYERS_CHANGE) as paired differences over replications, and the per-producer changes
    (CHANGES), each with its 95 % t interval.
    """
    rows = []
    for channel in RECRUIT_CHANNELS:
        mine = measures[(measures["channel"] == channel) & (measures["training"] == "none")]
        compared = {
            measure: paired(
                mine.pivot(index="replication", columns="recruit", values=measure)[RECRUIT],
                "local",
            )
            for measure in ARM_CHANGES
        }
        for rule in RECRUIT[1:]:
            row: dict[str, object] = {"channel": channel, "recruit": rule}
            for measure, table in compared.items():
                r = table.loc[rule]
                row.update(
                    {
                        f"{measure}_change": r["difference"],
                        f"{measure}_change_low": r["difference_low"],
                        f"{measure}_change_high": r["difference_high"],
                    }
                )
            frame = per_producer(
                result, incomes, (channel, rule, "none"), (channel, "local", "none")
            )
            row.update(_with_intervals(frame, [c for c in CHANGES if c != "change_mean"]))
            row["replications"] = int(compared["income_mean"].loc[rule, "n"])
            rows.append(row)
    return pd.DataFrame(rows)


def run(*, quick: bool, out: Path, executor: Executor) -> Report:
    """Run every arm with common random numbers; tabulate and plot."""
    mode = settings(quick)
    sweep = make_sweep(quick)
    result = run_sweep(sweep, out / "sweep", executor=executor)
    measures, incomes, buyers = per_run(result)
    distribution = distribution_table(measures)
    who = who_gains_table(result, incomes, buyers)
    recruiting = recruiting_table(result, measures, incomes)
    scenario: Scenario = mode["scenario"]  # type: ignore[assignment]
    figures = [
        _plot_distribution(result, incomes, out / "figures"),
        _plot_recruiting(result, incomes, out / "figures"),
    ]
    t = scenario.training
    return Report(
        name=NAME,
        question=QUESTION,
        tables={"distribution": distribution, "who_gains": who, "recruiting": recruiting},
        figures=figures,
        findings=_findings(distribution, who, recruiting, t.n_creators),
        assumptions=[
            f"Scenario {scenario.name!r} ({scenario.city.n_residents:,} residents, "
            f"{scenario.producers.n_producers} poor producers, {scenario.producers.listings} "
            f"sellers listing each specialty, producers receive "
            f"{scenario.producers.income_share:.0%} of each sale), {mode['days']} days, "
            f"{mode['replications']} replications per arm; {len(ARMS)} arms (channel × "
            "recruit rule where the rule matters, and two reference arms) share the city "
            "graph, the producers, their specialties and the random streams of each "
            "replication (common random numbers), so differences are paired and producers "
            "can be compared one by one.",
            "Recruiting (producers.recruit, docs/model.md 3.4): 'local' picks each specialty's "
            "creators uniformly among the non-head creators of the producer's region, 'rural' "
            "among those of them living in rural areas, 'random' among all selling creators "
            "of the city; 'followers' gives every specialty the same most-followed creators "
            "of the city (heads included). Under 'storefronts' no creator lists a specialty, "
            "so the rule cannot matter and that channel has one arm.",
            f"No arm trains creators except the references: training {t.n_creators} creators "
            f"picked at {REFERENCE_RULE} on day {t.day} (authenticity "
            f"+{t.authenticity_gain}, content quality +{t.content_quality_gain}, up to "
            f"{t.follower_gain} new followers each) against no training, with recruit "
            "'local', under 'creators' and 'both'. Its mean effect is about zero, so its "
            "shares of producers gaining and losing measure the noise in per-producer "
            "changes: once two arms differ, their later draws (posts, exposures, purchases) "
            "are no longer paired event by event. Mean changes are clean paired differences.",
            "Buyers reached: the distinct users who ordered a producer's specialty at least "
            "once over the run, through any channel (producer_buyers, docs/model.md 3.6); a "
            "producer has income exactly when it has a buyer. Missing: the split of a "
            "producer's income or buyers between creators and storefronts, and producers' "
            "regions.",
            "Model defaults are not calibrated (docs/model.md 3.7): directions are more "
            "trustworthy than sizes.",
        ],
    )


def _fmt_ci(row: pd.Series, measure: str, fmt: str, scale: float = 1.0) -> str:
    value, low, high = (scale * row[measure + s] for s in ("", "_low", "_high"))
    return f"{fmt.format(value)} [{fmt.format(low)}, {fmt.format(high)}]"


def _verdict(row: pd.Series, measure: str) -> str:
    low, high = row[measure + "_low"], row[measure + "_high"]
    return "higher" if low > 0 else "lower" if high < 0 else "not distinguishable from local"


def _findings(
    distribution: pd.DataFrame, who: pd.DataFrame, recruiting: pd.DataFrame, n_trained: int
) -> list[str]:
    out = []
    base = distribution[distribution["training"] == "none"]
    for channel in CHANNELS:
        r = base[(base["channel"] == channel) & (base["recruit"].isin(["local", NO_RECRUIT]))]
        r = r.iloc[0]
        recruited = " (creators recruited locally)" if channel in RECRUIT_CHANNELS else ""
        out.append(
            f"Through {channel}{recruited}: {_fmt_ci(r, 'share_with_income', '{:.0%}')} of "
            f"producers earn anything; mean income {_fmt_ci(r, 'income_mean', '{:,.0f}')} RMB, "
            f"median {_fmt_ci(r, 'income_p50', '{:,.0f}')} RMB, 90th percentile "
            f"{_fmt_ci(r, 'income_p90', '{:,.0f}')} RMB; the top 10 % of producers take "
            f"{_fmt_ci(r, 'top10_share', '{:.0%}')} of the income; Gini "
            f"{_fmt_ci(r, 'income_gini', '{:.2f}')}."
        )
    out.append(_buyers_finding(base, who, recruiting))
    for _, r in who[who["kind"] == "channel"].iterrows():
        out.append(
            f"Producer by producer ({r['contrast']}, recruit local, same producers and "
            f"products): {_fmt_ci(r, 'share_gaining', '{:.0%}')} gain and "
            f"{_fmt_ci(r, 'share_losing', '{:.0%}')} lose (the other "
            f"{1 - r['share_gaining'] - r['share_losing']:.0%} earn the same); mean change "
            f"{_fmt_ci(r, 'change_mean', '{:+,.1f}')} RMB, median "
            f"{_fmt_ci(r, 'change_p50', '{:+,.1f}')} RMB, 10th and 90th percentiles "
            f"{r['change_p10']:+,.0f} and {r['change_p90']:+,.0f} RMB."
        )
    parts = [
        f"{r['contrast'].split(':')[0]}: {r['share_gaining']:.0%} gain, "
        f"{r['share_losing']:.0%} lose, 10th and 90th percentiles of the change "
        f"{r['change_p10']:+,.0f} and {r['change_p90']:+,.0f} RMB, mean change "
        f"{_fmt_ci(r, 'change_mean', '{:+,.1f}')} RMB"
        for _, r in who[who["kind"] == "reference"].iterrows()
    ]
    out.append(
        f"Reference for per-producer shares: training {n_trained} creators at random against "
        "no training, a change with a mean effect near zero, already makes producers gain and "
        "lose (once two arms differ their later draws are not paired event by event): "
        + "; ".join(parts)
        + "."
    )
    for channel in RECRUIT_CHANNELS:
        mine = recruiting[recruiting["channel"] == channel]
        for _, r in mine.iterrows():
            out.append(
                f"Channel {channel}, recruiting by {r['recruit']} instead of local: mean income "
                f"per producer {_fmt_ci(r, 'income_mean_change', '{:+,.1f}')} RMB "
                f"({_verdict(r, 'income_mean_change')}); share with income "
                f"{_fmt_ci(r, 'share_with_income_change', '{:+.1f}', 100)} percentage points; Gini "
                f"{_fmt_ci(r, 'income_gini_change', '{:+.3f}')}; producer by producer "
                f"{r['share_gaining']:.0%} gain and {r['share_losing']:.0%} lose, change "
                f"quantiles (10/50/90 %) {r['change_p10']:+,.0f} / {r['change_p50']:+,.1f} / "
                f"{r['change_p90']:+,.0f} RMB."
            )
    return out


def _buyers_finding(base: pd.DataFrame, who: pd.DataFrame, recruiting: pd.DataFrame) -> str:
    """One finding on buyers reached: per channel (recruit local), and their paired changes."""
    per_channel = []
    for channel in CHANNELS:
        r = base[(base["channel"] == channel) & (base["recruit"].isin(["local", NO_RECRUIT]))]
        r = r.iloc[0]
        per_channel.append(
            f"{_fmt_ci(r, 'buyers_mean', '{:,.1f}')} through {channel} (median "
            f"{r['buyers_p50']:,.1f}; {r['share_with_buyers']:.0%} of producers with at "
            "least one buyer)"
        )
    channels = [
        f"{r['contrast']} {_fmt_ci(r, BUYERS_CHANGE, '{:+,.1f}')}"
        for _, r in who[who["kind"] == "channel"].iterrows()
    ]
    rules = [
        f"{r['recruit']} under {r['channel']} {_fmt_ci(r, BUYERS_CHANGE, '{:+,.1f}')}"
        for _, r in recruiting.iterrows()
    ]
    return (
        "Buyers reached (distinct users who ordered a producer's specialty over the run), "
        "mean per producer with creators recruited locally: "
        + "; ".join(per_channel)
        + ". Paired change in mean buyers per producer between channels: "
        + "; ".join(channels)
        + "; by recruiting rule against local: "
        + "; ".join(rules)
        + "."
    )


def _sorted_curves(
    result: SweepResult, incomes: dict[int, np.ndarray], arm: tuple[str, str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per replication, the arm's per-producer incomes sorted (rows), and producers' ranks."""
    runs = result.runs[result.runs["status"] == "ok"]
    point = ARMS.index(arm)
    curves = np.stack([np.sort(incomes[int(r)]) for r in runs.loc[runs["point"] == point, "run"]])
    rank = (np.arange(curves.shape[1]) + 0.5) / curves.shape[1]
    return rank, curves


def _plot_distribution(result: SweepResult, incomes: dict[int, np.ndarray], folder: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for channel in CHANNELS:
        rank, curves = _sorted_curves(result, incomes, (channel, "local", "none"))
        ax.plot(rank, curves.mean(axis=0), label=channel)
        ax.fill_between(rank, curves.min(axis=0), curves.max(axis=0), alpha=0.2)
    ax.set_xlabel("producers, poorest to richest (share)")
    ax.set_ylabel("income over the run (RMB)")
    ax.set_title(
        "Per-producer income by channel, creators recruited locally\n"
        "(mean over replications; band: min–max)",
        fontsize=10,
    )
    ax.legend(title="producers.channel")
    fig.tight_layout()
    path = folder / f"{NAME}_distribution.png"
    save_figure(fig, path)
    return path


def _plot_recruiting(result: SweepResult, incomes: dict[int, np.ndarray], folder: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(RECRUIT_CHANNELS), figsize=(9.6, 4.0), sharey=True)
    for ax, channel in zip(axes, RECRUIT_CHANNELS, strict=True):
        for rule in RECRUIT:
            rank, curves = _sorted_curves(result, incomes, (channel, rule, "none"))
            ax.plot(rank, curves.mean(axis=0), label=rule)
            ax.fill_between(rank, curves.min(axis=0), curves.max(axis=0), alpha=0.15)
        rank, curves = _sorted_curves(result, incomes, ("storefronts", "local", "none"))
        ax.plot(rank, curves.mean(axis=0), color="grey", linestyle=":", label="storefronts only")
        ax.set_title(f"producers.channel = {channel}", fontsize=10)
        ax.set_xlabel("producers, poorest to richest (share)")
    axes[0].set_ylabel("income over the run (RMB)")
    axes[0].legend(title="producers.recruit", fontsize=8)
    fig.suptitle(
        "Per-producer income by recruiting rule (mean over replications; band: min–max)",
        fontsize=10,
    )
    fig.tight_layout()
    path = folder / f"{NAME}_recruiting.png"
    save_figure(fig, path)
    return path


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
