"""Trust against traffic (老铁 against 比价): conversion, order value, repurchase, and what trust
adds, on the calibrated Mudanjiang scenario with its parameter uncertainty.

One sweep of ``mudanjiang_calibrated`` over posterior draws × replications (``Sweep(draws=)``):
replication slot ``k`` of every arm shares its posterior draw, its city graph and the random
streams of every phase of the day (common random numbers), so differences between arms are
paired slot by slot. Every interval is the 95 % interval of one run's value over the draws
and chance together, with the share of its spread that comes from the parameters
(:func:`laotie.stats.decompose`).

The arms: *both* channel families as calibrated; *trust only* (no storefront impressions);
*traffic only* (creators never post, no discovery, no word of mouth); a counterfactual of
trust (``decision.trust_weight = 0``); and the order value both ways:
``decision.basket_trust_effect`` 0 and the article's 3 (trust raising the number of items per
order), against the calibrated value of the *both* arm. A second sweep audits what drives
each headline outcome (:mod:`laotie.audit`).

Run ``python experiments/trust_vs_traffic.py [--quick] [--out DIR] [--workers N] [--page DIR]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laotie.audit import Audit, run_audit
from laotie.calibrate.targets import Targets, load_targets
from laotie.experiment import Headline, Report, preset, run_sweep, save_figure, sweep_columns
from laotie.experiment import describe_interval as _ci
from laotie.experiment import describe_interval_zh as _zh
from laotie.posterior import load_posterior
from laotie.scenario import scenario_path
from laotie.sweep import Sweep, SweepResult

NAME = "trust_vs_traffic"
QUESTION = (
    "Does trust-based selling through creators (老铁) convert better, sell larger orders "
    "(客单价) and bring more repeat purchases than traffic-driven storefronts (比价), and "
    "how much GMV does the trust channel add to the same consumers?"
)

SEED = 2026
SCENARIO = "mudanjiang_calibrated"
TARGETS = "mudanjiang"  # models/mudanjiang/targets.toml: what the scenario was fitted to
CHANNEL_ROWS = ("follow", "discovery", "wom", "storefront", "trust", "traffic", "all")
CHANNEL_METRICS = ("exposures", "conversion", "order_value", "repeat_share", "gmv")

# The switches of the two channel families (docs/model.md 3.5): storefront impressions are
# the traffic family; creators' posts (follow), discovery and word of mouth the trust one.
TRAFFIC_OFF = {"storefronts.impressions_per_active": 0.0}
TRUST_OFF = {
    "creators.post_prob": 0.0,
    "policy.discovery_per_active": 0.0,
    "word_of_mouth.prob": 0.0,
}
ARMS: tuple[tuple[str, dict[str, float]], ...] = (
    ("both", {}),
    ("trust only", TRAFFIC_OFF),
    ("traffic only", TRUST_OFF),
    ("no trust weight", {"decision.trust_weight": 0.0}),
    ("basket effect 0", {"decision.basket_trust_effect": 0.0}),
    ("article: basket effect 3", {"decision.basket_trust_effect": 3.0}),
)
# The target moments measured in every run (the calibration's own definitions).
MOMENT_IDS = ("T4", "T4a", "T5a", "T5b", "T6a", "T6b")

# The audit: the arms its outcomes need, and the assumed parameters it varies besides the
# posterior, over ranges a reader could defend (the declared bounds are far wider).
AUDIT_ARMS = ("both", "traffic only", "article: basket effect 3")
AUDIT_ASSUMED: dict[str, list[float] | None] = {
    "creators.authenticity_mean": [0.5, 0.95],
    "creators.post_prob": [0.2, 0.8],
    "creators.follow_prob": [0.05, 0.4],
    "creators.stranger_trust": [0.02, 0.3],
    "word_of_mouth.prob": [0.01, 0.2],
    "policy.discovery_per_active": [0.1, 1.0],
    "decision.quality_weight": [0.5, 4.0],
    "decision.price_weight": [0.1, 1.5],
    "decision.basket_extra_items": [0.05, 0.5],
    "storefronts.trust": [0.05, 0.3],
    "outcomes.disappointment_creators": [0.05, 0.5],
    "loyalty.gain": [0.2, 0.8],
}


def settings(quick: bool) -> dict[str, Any]:
    """Scale, days, posterior draws and replications per draw of each mode."""
    if quick:
        return {"scale": 0.002, "days": 61, "draws": 2, "replications": 2}
    return {"scale": 0.02, "days": 180, "draws": 5, "replications": 2}


def audit_settings(quick: bool) -> dict[str, Any] | None:
    """Samples, scale and days of the audit (None: quick mode leaves it out)."""
    if quick:
        return None
    return {"samples": 96, "scale": 0.005, "days": 91}


def names() -> list[str]:
    return [name for name, _ in ARMS]


def targets() -> Targets:
    path = scenario_path(TARGETS)
    assert path is not None, "models/mudanjiang is shipped with laotie"
    return load_targets(path.parent / "targets.toml")


def sweep(quick: bool) -> Sweep:
    """The experiment's sweep: every arm over posterior draws × replications."""
    config = settings(quick)
    base = preset(SCENARIO, scale=config["scale"])
    return Sweep(
        base,
        cases=[dict(case) for _, case in ARMS],
        replications=config["replications"],
        days=config["days"],
        seed=SEED,
        moments=MOMENT_IDS,
        draws=load_posterior(SCENARIO).draws(config["draws"], seed=SEED),
    )


def by_arm(result: SweepResult, metric: str, channel: str | None = None) -> pd.DataFrame:
    """Slot × arm values, the arms named."""
    values = result.values(metric, channel)
    values.columns = names()
    return values


def moment_values(result: SweepResult, ident: str) -> pd.DataFrame:
    """Slot × arm values of a target moment (as the calibration measures it)."""
    frame = result.runs[["run", "point", "replication"]].merge(
        result.moments[["run", ident]], on="run", how="left"
    )
    wide = frame.pivot(index="replication", columns="point", values=ident)
    wide.columns = names()
    return wide


# ---------------------------------------------------------------------------- tables
def channel_table(result: SweepResult) -> pd.DataFrame:
    """Per-channel metrics of the *both* arm."""
    rows = []
    for channel in CHANNEL_ROWS:
        row: dict[str, Any] = {"channel": channel}
        for metric in CHANNEL_METRICS:
            row |= sweep_columns(result, by_arm(result, metric, channel)["both"], metric)
        rows.append(row)
    return pd.DataFrame(rows)


def moment_table(result: SweepResult, goals: Targets) -> pd.DataFrame:
    """The target moments of the *both* arm against the data, fitted or held out."""
    by_id = {t.id: t for t in goals.targets}
    rows = []
    for ident in MOMENT_IDS:
        target = by_id[ident]
        row: dict[str, Any] = {
            "id": ident,
            "moment": target.moment.name,
            "role": "fitted" if target.role == "fit" else "held out",
            "target": target.value,
            "band_low": target.moment.low,
            "band_high": target.moment.high,
        }
        scale = "auto" if target.moment.unit == "share" else "positive"
        row |= sweep_columns(result, moment_values(result, ident)["both"], "model", scale)
        row["mean_inside_band"] = bool(target.moment.low <= row["model"] <= target.moment.high)
        rows.append(row)
    return pd.DataFrame(rows)


def arm_table(result: SweepResult) -> pd.DataFrame:
    """Per arm: GMV by family, and the trust/traffic ratios of conversion and order value."""
    gmv = {family: by_arm(result, "gmv", family) for family in ("all", "trust", "traffic")}
    conversion = by_arm(result, "conversion", "trust") / by_arm(result, "conversion", "traffic")
    value = by_arm(result, "order_value", "trust") / by_arm(result, "order_value", "traffic")
    rows = []
    for arm, case in ARMS:
        row: dict[str, Any] = {"arm": arm, "sets": _sets(case)}
        for family, values in gmv.items():
            row |= sweep_columns(result, values[arm], f"gmv_{family}")
        # Ratios, not shares: a ratio below 1 in every run must still get an interval that
        # can reach above 1.
        row |= sweep_columns(result, conversion[arm], "conversion_ratio", "positive")
        row |= sweep_columns(result, value[arm], "order_value_ratio", "positive")
        rows.append(row)
    return pd.DataFrame(rows)


def _sets(case: dict[str, float]) -> str:
    return ", ".join(f"{key} = {value:g}" for key, value in case.items()) or "as calibrated"


EFFECTS = (
    ("trust adds: both − traffic only", "gmv", "all"),
    ("traffic adds: both − trust only", "gmv", "all"),
    ("interaction: both − trust only − traffic only", "gmv", "all"),
    ("storefront GMV lost to trust: traffic only − both", "gmv", "traffic"),
)


def effect_table(result: SweepResult) -> pd.DataFrame:
    """Paired differences between arms (slot by slot: same draw, graph and streams)."""
    total = by_arm(result, "gmv", "all")
    traffic = by_arm(result, "gmv", "traffic")
    both = total["both"]
    differences = {
        EFFECTS[0][0]: both - total["traffic only"],
        EFFECTS[1][0]: both - total["trust only"],
        EFFECTS[2][0]: both - total["trust only"] - total["traffic only"],
        EFFECTS[3][0]: traffic["traffic only"] - traffic["both"],
    }
    rows = []
    for label, difference in differences.items():
        row: dict[str, Any] = {"effect": label}
        row |= sweep_columns(result, difference, "gmv", scale="linear")
        row |= sweep_columns(result, difference / both, "share_of_both", scale="linear")
        rows.append(row)
    return pd.DataFrame(rows)


def build_tables(result: SweepResult, goals: Targets) -> dict[str, pd.DataFrame]:
    return {
        "moments": moment_table(result, goals),
        "channels": channel_table(result),
        "arms": arm_table(result),
        "effects": effect_table(result),
    }


# ---------------------------------------------------------------------------- audit
def audit_outcomes(result: SweepResult, arms: list[str]) -> pd.DataFrame:
    """The headline outcomes per audit sample (slot)."""

    def values(metric: str, channel: str | None = None) -> pd.DataFrame:
        wide = result.values(metric, channel)
        wide.columns = arms
        return wide

    moments = result.runs[["run", "point", "replication"]].merge(result.moments, on="run")
    both = moments[moments["point"] == 0].set_index("replication")
    gmv = values("gmv", "all")
    value = values("order_value", "trust") / values("order_value", "traffic")
    return pd.DataFrame(
        {
            "T4: follow / storefront conversion": both["T4"],
            "T5a: monthly repurchase, trust": both["T5a"],
            "order value, trust / traffic": value["both"],
            "share of GMV the trust channels add": (gmv["both"] - gmv["traffic only"])
            / gmv["both"],
            "order value ratio with basket effect 3": value["article: basket effect 3"],
        }
    )


def audit(quick: bool, out: Path, executor: Any) -> Audit | None:
    """Run the audit's sweep under ``out`` (None in quick mode, which leaves it out)."""
    by_name = dict(ARMS)
    return run_audit(
        SCENARIO,
        [(arm, by_name[arm]) for arm in AUDIT_ARMS],
        AUDIT_ASSUMED,
        audit_outcomes,
        design=audit_settings(quick),
        seed=SEED,
        out=out,
        executor=executor,
        moments=("T4", "T5a"),
    )


# ---------------------------------------------------------------------------- figures
def _errorbars(table: pd.DataFrame, column: str) -> np.ndarray:
    mean = table[column].to_numpy(float)
    return np.nan_to_num(
        np.abs(
            np.vstack(
                [mean - table[f"{column}_low"].to_numpy(float), table[f"{column}_high"] - mean]
            )
        )
    )


def figures(out: Path, tables: dict[str, pd.DataFrame], goals: Targets) -> list[Path]:
    import matplotlib.pyplot as plt

    folder = out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    bands = {t.id: (t.moment.low, t.moment.high) for t in goals.targets}

    arms = tables["arms"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    y = np.arange(len(arms))
    for ax, column, band, title in (
        (axes[0], "conversion_ratio", bands["T4"], "conversion, trust / traffic (T4 band)"),
        (axes[1], "order_value_ratio", None, "order value, trust / traffic"),
    ):
        ax.barh(y, arms[column], xerr=_errorbars(arms, column), color="C0", capsize=3)
        ax.set_yticks(y, arms["arm"], fontsize=8)
        ax.invert_yaxis()
        ax.axvline(1.0, color="black", lw=0.8)
        if band is not None:
            ax.axvspan(*band, color="grey", alpha=0.2)
        ax.set_title(title, fontsize=10)
    ratio = bands["T6a"][0] / bands["T6b"][1], bands["T6a"][1] / bands["T6b"][0]
    axes[1].axvspan(*ratio, color="grey", alpha=0.2)
    fig.suptitle("Arms of the calibrated model (mean, 95 % interval over draws and chance)")
    fig.tight_layout()
    paths.append(folder / "trust_vs_traffic_arms.png")
    save_figure(fig, paths[-1], dpi=120)

    effects = tables["effects"]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    y = np.arange(len(effects))
    ax.barh(y, effects["gmv"] / 1000, xerr=_errorbars(effects, "gmv") / 1000, color="C2")
    ax.set_yticks(y, effects["effect"], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("paired GMV difference over the run (thousand RMB)")
    ax.set_title("What each channel family adds (95 % interval over draws and chance)")
    fig.tight_layout()
    paths.append(folder / "trust_vs_traffic_effects.png")
    save_figure(fig, paths[-1], dpi=120)
    return paths


# ---------------------------------------------------------------------------- words
def _direction(row: pd.Series, column: str, one: float = 1.0) -> str:
    if row[f"{column}_low"] > one:
        return "above"
    if row[f"{column}_high"] < one:
        return "below"
    return "overlapping"


def headlines(tables: dict[str, pd.DataFrame], config: dict[str, Any]) -> list[Headline]:
    moments = tables["moments"].set_index("id")
    arms = tables["arms"].set_index("arm")
    effects = tables["effects"].set_index("effect")
    days = config["days"]
    return [
        Headline(
            "follow channel's conversion over the storefront's, per exposure",
            _ci(moments.loc["T4"], "model"),
            "predicted",
            f"held-out T4 (band {moments.at['T4', 'band_low']:g}–"
            f"{moments.at['T4', 'band_high']:g}×)",
        ),
        Headline(
            "fans' conversion in a live room over strangers'",
            _ci(moments.loc["T4a"], "model"),
            "calibrated",
            "fitted to T4a",
        ),
        Headline(
            "monthly repurchase of trust-channel buyers",
            _ci(moments.loc["T5a"], "model"),
            "calibrated",
            "fitted to T5a",
        ),
        Headline(
            "order value (客单价), trust family over traffic family",
            _ci(arms.loc["both"], "order_value_ratio"),
            "calibrated",
            "T6a (≈ RMB 70) and T6b (≈ RMB 120) both fitted",
        ),
        Headline(
            f"GMV the trust channels add to the same consumers over {days} days (RMB)",
            _ci(effects.loc[EFFECTS[0][0]], "gmv", ",.0f"),
            "counterfactual",
            "arm both − arm traffic only, paired",
        ),
        Headline(
            "order value, trust over traffic, if trust enlarged baskets as the article claims",
            _ci(arms.loc["article: basket effect 3"], "order_value_ratio"),
            "input",
            "set by decision.basket_trust_effect = 3, an assumption",
        ),
    ]


def answers(tables: dict[str, pd.DataFrame]) -> tuple[list[str], list[str]]:
    moments = tables["moments"].set_index("id")
    arms = tables["arms"].set_index("arm")
    effects = tables["effects"].set_index("effect")
    t4 = moments.loc["T4"]
    value = arms.loc["both"]
    article = arms.loc["article: basket effect 3"]
    adds = effects.loc[EFFECTS[0][0]]
    verdict = {
        "above": ("Yes, trust converts better", "是，信任渠道转化率更高"),
        "below": ("No, trust converts worse", "否，信任渠道转化率更低"),
        "overlapping": ("Not distinguishably", "无法区分"),
    }[_direction(t4, "model")]
    band = f"{t4['band_low']:g}–{t4['band_high']:g}"
    inside = t4["band_low"] <= t4["model"] <= t4["band_high"]
    miss = ("inside", "落在其中") if inside else ("which the model misses", "模型未落入")
    order = {
        "above": ("larger than", "高于"),
        "below": ("smaller than", "低于"),
        "overlapping": ("not distinguishable in value from", "与之无法区分于"),
    }[_direction(value, "order_value_ratio")]
    share = adds["share_of_both"]
    english = [
        f"{verdict[0]}: a follower's exposure converts {_ci(t4, 'model')} times as often as "
        f"a storefront's (a prediction: T4 was held out from the fit; the data's band is "
        f"{band}×, {miss[0]}).",
        f"Trust orders are {order[0]} storefront orders: {_ci(value, 'order_value_ratio')} of "
        f"their value (fitted to the data); with the article's assumed basket effect of 3 the "
        f"ratio is {_ci(article, 'order_value_ratio')}.",
        f"For the same consumers the trust channels add {share:.0%} of GMV "
        f"(95 % PI {adds['share_of_both_low']:.0%} to {adds['share_of_both_high']:.0%}); "
        f"{adds['share_of_both_from_parameters']:.0%} of that spread is the calibration's "
        f"uncertainty, the rest chance.",
    ]
    chinese = [
        f"{verdict[1]}：粉丝曝光的转化率是货架曝光的{_zh(t4, 'model')}倍（预测值：T4 未参与"
        f"拟合；数据区间为 {band} 倍，{miss[1]}）。",
        f"信任渠道的客单价{order[1]}货架：是货架订单的{_zh(value, 'order_value_ratio')}倍"
        f"（已拟合数据）；若按文章的假设让信任使每单件数增加（效应取 3），该比值为"
        f"{_zh(article, 'order_value_ratio')}。",
        f"对同一批消费者，信任渠道带来 {share:.0%} 的 GMV（95 % 预测区间 "
        f"{adds['share_of_both_low']:.0%}–{adds['share_of_both_high']:.0%}）；其离散度的 "
        f"{adds['share_of_both_from_parameters']:.0%} 来自校准参数的不确定性，其余来自随机性。",
    ]
    return english, chinese


def findings(tables: dict[str, pd.DataFrame]) -> list[str]:
    moments = tables["moments"]
    arms = tables["arms"].set_index("arm")
    effects = tables["effects"].set_index("effect")
    inside = moments[moments["mean_inside_band"]]["id"].tolist()
    out = [
        f"Target moments of the calibrated model in this experiment's runs: {len(inside)} of "
        f"{len(moments)} have their mean inside the band ({', '.join(inside) or 'none'}); "
        f"outside: {', '.join(i for i in moments['id'] if i not in inside) or 'none'}.",
    ]
    base = arms.loc["both"]
    for arm in ("no trust weight",):
        row = arms.loc[arm]
        out.append(
            f"Conversion of the whole trust family (follow, discovery, word of mouth) over the "
            f"storefronts', with {row['sets']}: {_ci(row, 'conversion_ratio')}, against "
            f"{_ci(base, 'conversion_ratio')} as calibrated (T4 compares the follow channel "
            f"alone, which converts better than discovery)."
        )
    for arm in ("basket effect 0", "article: basket effect 3"):
        row = arms.loc[arm]
        out.append(
            f"Order value, trust over traffic, with {row['sets']}: "
            f"{_ci(row, 'order_value_ratio')}, against {_ci(base, 'order_value_ratio')} as "
            f"calibrated."
        )
    interaction = effects.loc[EFFECTS[2][0]]
    lost = effects.loc[EFFECTS[3][0]]
    out.append(
        f"Interaction of the families: {_ci(interaction, 'gmv', ',.0f')} RMB; storefront GMV "
        f"lost to the trust channels (budget competition): {_ci(lost, 'gmv', ',.0f')} RMB."
    )
    return out


ASSUMPTIONS = [
    "The scenario is mudanjiang_calibrated; its 18 free parameters vary over posterior draws "
    "(models/mudanjiang_calibrated/posterior.csv), every other parameter keeps its assumed "
    "default (docs/model.md says which are assumed).",
    "decision.basket_trust_effect is not identified by the targets (posterior 90 % interval "
    "about −0.55 to 1.63, docs/calibration.md): the order-value ratio is fitted through T6a and "
    "T6b (the two families' prices and baskets), and the article's basket effect of 3 is an "
    "input, set by hand.",
    "The trust family is follow + discovery + word of mouth; switching it off sets "
    "creators.post_prob, policy.discovery_per_active and word_of_mouth.prob to 0. Switching "
    "traffic off sets storefronts.impressions_per_active to 0.",
    "T4 is measured per exposure, as the calibration defines it; the sources compare visitors "
    "with visitors, so its miss may be one of denominators (docs/calibration.md, the fifth "
    "trial).",
]

METHOD = """
One sweep of `mudanjiang_calibrated` (`experiments/trust_vs_traffic.py`): every arm runs over
the same posterior draws of the calibration, times replications. Replication slot *k* of every
arm shares its posterior draw, its city graph and the random stream of every phase of the day
(common random numbers), so arms are compared slot by slot. The target moments (T4, T4a, T5a,
T5b, T6a, T6b) are measured in every run with the calibration's own functions
(`laotie.moments`).

Intervals are **95 % predictive intervals** (PI): where one new run of the city would fall,
with the parameters drawn from the posterior and the graph and market drawn by chance. They
are normal-theory intervals from a one-way random-effects analysis of variance over the draws
(t with one fewer degrees of freedom than draws, computed on the logit of shares and the
logarithm of positive quantities, `laotie.stats.decompose`), so few draws make them wide. The
column "from parameters" is the share of the runs' spread that comes from the parameters; the
rest is chance. With five draws that share is rough: read 95 % as "most", not as a measurement.

The audit (full mode only; `laotie audit trust_vs_traffic` runs it alone) is a second sweep:
96 samples, each a posterior draw joined with a Latin-hypercube value of twelve assumed
parameters within stated ranges, at scale 0.005 for 91 days, the arms both, traffic only and
basket effect 3 run once per sample. Each headline outcome's first-order Sobol index to each
parameter is estimated from the samples as they are (SALib's delta-method analysis,
`laotie.audit`); with correlated posterior draws an index credits a parameter with what moves
with it. An index counts only above a permutation null (the largest index the same samples
give an outcome shuffled across them, 95th percentile), since with 96 samples and 30
parameters noise alone reaches about 0.2.
"""


def run(*, quick: bool, out: Path, executor: Any) -> Report:
    """Run the sweep under ``out`` and return the report."""
    config = settings(quick)
    goals = targets()
    result = run_sweep(sweep(quick), out / "runs", executor=executor)
    tables = build_tables(result, goals)
    english, chinese = answers(tables)
    audited = audit(quick, out / "audit", executor)
    seconds = float(result.runs["seconds"].sum())
    if audited is not None:
        tables["audit_drivers"] = audited.drivers
        seconds += audited.seconds
    residents = preset(SCENARIO, scale=config["scale"]).city.n_residents
    assumptions = [
        f"Mudanjiang calibrated, at scale {config['scale']:g} ({residents:,} residents), "
        f"{config['days']} days; {config['draws']} posterior draws × {config['replications']} "
        f"replications per arm; sweep seed {SEED}.",
        *ASSUMPTIONS,
    ]
    return Report(
        name=NAME,
        question=QUESTION,
        tables=tables,
        figures=figures(out, tables, goals),
        findings=findings(tables),
        assumptions=assumptions,
        answer=english,
        answer_zh=chinese,
        headlines=headlines(tables, config),
        method=METHOD,
        audit=None if audited is None else audited.verdicts,
        run_seconds=seconds,
    )


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
