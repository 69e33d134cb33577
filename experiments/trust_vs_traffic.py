"""Trust against traffic (老铁 against 比价): conversion, order value and what trust adds.

Three sweeps of the Mudanjiang scenario, each with common random numbers (replication ``r`` of
every arm shares the city graph and the random streams of every phase of the day):

1. *Attribution*: the same consumers with both channel families, trust only (no storefront
   impressions) and traffic only (creators never post, no discovery, no word of mouth). The
   per-channel metrics of the "both" arm, and the paired GMV differences between arms (what
   each family adds, and their interaction).
2. *Trust strength and authenticity*: a grid of ``decision.trust_weight`` ×
   ``creators.authenticity_mean``; the ratio of the trust family's conversion to the traffic
   family's, per run (T4: 3–10×).
3. *Order value (客单价) both ways*: the data's reading (``decision.basket_trust_effect`` = 0,
   with the default or lower creators' prices) and the article's (trust raises the basket);
   the trust/traffic order-value ratio per run against T6 (≈ 0.6).

Run ``python experiments/trust_vs_traffic.py [--quick] [--out DIR] [--workers N]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laotie.experiment import Report, interval_columns, save_figure
from laotie.experiment import describe_interval as _ci
from laotie.scenario import Scenario
from laotie.sweep import Sweep, SweepResult, run_sweep

NAME = "trust_vs_traffic"
QUESTION = (
    "Does trust-based selling through creators (老铁) convert better, sell larger orders "
    "(客单价) and bring more repeat purchases than traffic-driven storefronts (比价), and "
    "how much GMV does the trust channel add to the same consumers?"
)

SEED = 2026
CHANNEL_ROWS = ("follow", "discovery", "wom", "storefront", "trust", "traffic", "all")
CHANNEL_METRICS = (
    "exposures",
    "conversion",
    "buyer_conversion",
    "order_value",
    "items_per_order",
    "repeat_share",
    "gmv",
)

# The switches of the two channel families (docs/model.md 3.5): storefront impressions are
# the traffic family; creators' posts (follow), discovery and word of mouth are the trust one.
TRAFFIC_OFF = {"storefronts.impressions_per_active": 0.0}
TRUST_OFF = {
    "creators.post_prob": 0.0,
    "policy.discovery_per_active": 0.0,
    "word_of_mouth.prob": 0.0,
}
ATTRIBUTION_ARMS = ("both", "trust only", "traffic only")

ORDER_VALUE_CASES: tuple[tuple[str, dict[str, float]], ...] = (
    ("data: basket effect 0 (default)", {}),
    ("data: basket effect 0, creators' price_mean 38", {"creators.price_mean": 38.0}),
    ("article: basket effect 3", {"decision.basket_trust_effect": 3.0}),
    ("article: basket effect 10", {"decision.basket_trust_effect": 10.0}),
)
T6_RATIO = 0.6
T4_BAND = (3.0, 10.0)


def settings(quick: bool) -> dict[str, Any]:
    """Scale, replications, days and the trust-strength grid of each mode."""
    if quick:
        return {
            "scale": 0.004,
            "replications": 3,
            "days": 61,
            "trust_weight": [2.5, 5.0],
            "authenticity_mean": [0.6, 0.9],
        }
    return {
        "scale": 0.05,
        "replications": 8,
        "days": 91,
        "trust_weight": [0.0, 2.5, 5.0, 7.5],
        "authenticity_mean": [0.5, 0.7, 0.9],
    }


def attribution_cases(base: Scenario) -> list[dict[str, float]]:
    """Both families, trust only, traffic only; every case sets the same keys."""
    flat = base.flat()
    defaults = {key: flat[key] for key in (*TRAFFIC_OFF, *TRUST_OFF)}
    return [defaults, {**defaults, **TRAFFIC_OFF}, {**defaults, **TRUST_OFF}]


def by_arm(result: SweepResult, metric: str, channel: str | None, names: list[str]) -> pd.DataFrame:
    """Replication × arm values with the arms named ``names`` (in point order)."""
    values = result.values(metric, channel)
    values.columns = names
    return values


def channel_table(result: SweepResult, names: list[str], arm: str) -> pd.DataFrame:
    """Per-channel metrics of one arm, mean and 95 % t interval over replications."""
    rows = []
    for channel in CHANNEL_ROWS:
        row: dict[str, Any] = {"channel": channel}
        for metric in CHANNEL_METRICS:
            row |= interval_columns(by_arm(result, metric, channel, names)[arm], metric)
        family = channel if channel in ("trust", "traffic", "all") else None
        if family is not None:
            repurchase = by_arm(result, f"monthly_repurchase_{family}", None, names)[arm]
            row |= interval_columns(repurchase, "monthly_repurchase")
        else:
            row |= {"monthly_repurchase": np.nan} | dict.fromkeys(
                ("monthly_repurchase_low", "monthly_repurchase_high"), np.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


def ratio_table(result: SweepResult, names: list[str], arm: str) -> pd.DataFrame:
    """Trust over traffic ratios per replication of one arm, with t intervals."""
    rows = []
    for metric, top, bottom in (
        ("conversion", "trust", "traffic"),
        ("conversion", "follow", "storefront"),
        ("buyer_conversion", "trust", "traffic"),
        ("order_value", "trust", "traffic"),
        ("items_per_order", "trust", "traffic"),
        ("repeat_share", "trust", "traffic"),
    ):
        ratio = by_arm(result, metric, top, names)[arm] / by_arm(result, metric, bottom, names)[arm]
        rows.append(
            {"metric": metric, "ratio": f"{top} / {bottom}"} | interval_columns(ratio, "value")
        )
    for top, bottom in (("trust", "traffic"),):
        ratio = (
            by_arm(result, f"monthly_repurchase_{top}", None, names)[arm]
            / by_arm(result, f"monthly_repurchase_{bottom}", None, names)[arm]
        )
        rows.append(
            {"metric": "monthly_repurchase", "ratio": f"{top} / {bottom}"}
            | interval_columns(ratio, "value")
        )
    return pd.DataFrame(rows)


def attribution_table(result: SweepResult, names: list[str]) -> pd.DataFrame:
    """GMV per arm (all, trust family, traffic family) and the paired differences."""
    rows = []
    gmv = {family: by_arm(result, "gmv", family, names) for family in ("all", "trust", "traffic")}
    for arm in names:
        row: dict[str, Any] = {"arm": arm}
        for family, values in gmv.items():
            row |= interval_columns(values[arm], f"gmv_{family}")
        rows.append(row)
    total = gmv["all"]
    effects = (
        ("trust adds: both − traffic only", total["both"] - total["traffic only"]),
        ("traffic adds: both − trust only", total["both"] - total["trust only"]),
        (
            "interaction: both − trust only − traffic only",
            total["both"] - total["trust only"] - total["traffic only"],
        ),
        (
            "storefront GMV lost to trust: traffic only − both (traffic family)",
            gmv["traffic"]["traffic only"] - gmv["traffic"]["both"],
        ),
    )
    for label, difference in effects:
        row = {"arm": label} | interval_columns(difference, "gmv_all")
        row |= interval_columns(difference / total["both"], "share_of_both")
        rows.append(row)
    return pd.DataFrame(rows)


def strength_table(result: SweepResult) -> pd.DataFrame:
    """Per (trust_weight, authenticity_mean): conversions and the trust/traffic ratio."""
    labels = result.arms()
    points = result.runs.drop_duplicates("point").set_index("point")
    trust = result.values("conversion", "trust")
    traffic = result.values("conversion", "traffic")
    follow = result.values("conversion", "follow")
    store = result.values("conversion", "storefront")
    rows = []
    for point, label in labels.items():
        row = {
            "trust_weight": float(points.at[point, "decision.trust_weight"]),
            "authenticity_mean": float(points.at[point, "creators.authenticity_mean"]),
        }
        row |= interval_columns(trust[label], "conversion_trust")
        row |= interval_columns(traffic[label], "conversion_traffic")
        row |= interval_columns(trust[label] / traffic[label], "ratio_trust_traffic")
        row |= interval_columns(follow[label] / store[label], "ratio_follow_storefront")
        row |= interval_columns(trust[label] - traffic[label], "gap_trust_minus_traffic")
        rows.append(row)
    return pd.DataFrame(rows)


def order_value_table(result: SweepResult, names: list[str]) -> pd.DataFrame:
    """Trust/traffic order-value ratio per case, and its paired difference from the default."""
    trust = by_arm(result, "order_value", "trust", names)
    traffic = by_arm(result, "order_value", "traffic", names)
    items_trust = by_arm(result, "items_per_order", "trust", names)
    items_traffic = by_arm(result, "items_per_order", "traffic", names)
    ratio = trust / traffic
    rows = []
    for name in names:
        row: dict[str, Any] = {"case": name}
        row |= interval_columns(trust[name], "order_value_trust")
        row |= interval_columns(traffic[name], "order_value_traffic")
        row |= interval_columns(items_trust[name], "items_trust")
        row |= interval_columns(items_traffic[name], "items_traffic")
        row |= interval_columns(ratio[name], "ratio")
        row |= interval_columns(ratio[name] - ratio[names[0]], "ratio_minus_default")
        row["t6_target"] = T6_RATIO
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- figures
def _errorbars(table: pd.DataFrame, column: str) -> np.ndarray:
    mean = table[column].to_numpy(float)
    return np.abs(
        np.vstack([mean - table[f"{column}_low"].to_numpy(float), table[f"{column}_high"] - mean])
    )


def figures(out: Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
    import matplotlib.pyplot as plt

    folder = out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []

    channels = tables["channels"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, column, title in (
        (axes[0], "conversion", "conversion (orders per exposure)"),
        (axes[1], "order_value", "order value (RMB)"),
    ):
        ax.bar(
            channels["channel"],
            channels[column],
            yerr=np.nan_to_num(_errorbars(channels, column)),
            color=["C0", "C0", "C0", "C1", "C2", "C3", "C7"],
            capsize=3,
        )
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle("Channels with both families on (mean, 95 % CI over replications)")
    fig.tight_layout()
    paths.append(folder / "trust_vs_traffic_channels.png")
    save_figure(fig, paths[-1], dpi=120)

    attribution = tables["attribution"]
    arms = attribution.iloc[: len(ATTRIBUTION_ARMS)]
    effects = attribution.iloc[len(ATTRIBUTION_ARMS) :]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    x = np.arange(len(arms))
    for offset, family, color in ((-0.2, "trust", "C2"), (0.2, "traffic", "C3")):
        axes[0].bar(
            x + offset,
            arms[f"gmv_{family}"] / 1000,
            width=0.4,
            yerr=np.nan_to_num(_errorbars(arms, f"gmv_{family}")) / 1000,
            color=color,
            capsize=3,
            label=f"{family} family",
        )
    axes[0].set_xticks(x, arms["arm"])
    axes[0].set_ylabel("GMV over the run (thousand RMB)")
    axes[0].legend()
    axes[0].set_title("GMV per arm (same consumers, CRN)")
    axes[1].barh(
        np.arange(len(effects)),
        effects["gmv_all"] / 1000,
        xerr=np.nan_to_num(_errorbars(effects, "gmv_all")) / 1000,
        color="C7",
        capsize=3,
    )
    axes[1].set_yticks(np.arange(len(effects)), [a.split(":")[0] for a in effects["arm"]])
    axes[1].axvline(0, color="black", lw=0.8)
    axes[1].set_xlabel("paired GMV difference (thousand RMB), 95 % CI")
    axes[1].set_title("What each family adds")
    fig.tight_layout()
    paths.append(folder / "trust_vs_traffic_attribution.png")
    save_figure(fig, paths[-1], dpi=120)

    strength = tables["trust_strength"]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, (authenticity, group) in enumerate(strength.groupby("authenticity_mean")):
        ax.errorbar(
            group["trust_weight"] + 0.05 * (i - 1),
            group["ratio_trust_traffic"],
            yerr=np.nan_to_num(_errorbars(group, "ratio_trust_traffic")),
            marker="o",
            capsize=3,
            label=f"authenticity_mean {authenticity:g}",
        )
    ax.axhspan(*T4_BAND, color="grey", alpha=0.15, label="T4 band (3–10×)")
    ax.set_xlabel("decision.trust_weight")
    ax.set_ylabel("conversion, trust family / traffic family")
    ax.set_title("Trust/traffic conversion ratio (95 % CI)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(folder / "trust_vs_traffic_strength.png")
    save_figure(fig, paths[-1], dpi=120)

    order = tables["order_value"]
    fig, ax = plt.subplots(figsize=(7, 4))
    y = np.arange(len(order))
    ax.barh(
        y,
        order["ratio"],
        xerr=np.nan_to_num(_errorbars(order, "ratio")),
        color=["C0", "C0", "C1", "C1"][: len(order)],
        capsize=3,
    )
    ax.set_yticks(y, order["case"], fontsize=8)
    ax.axvline(T6_RATIO, color="C3", ls="--", label="T6 (data): ≈ 0.6")
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xlabel("order value, trust family / traffic family")
    ax.set_title("Order-value ratio, the data's reading and the article's (95 % CI)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(folder / "trust_vs_traffic_order_value.png")
    save_figure(fig, paths[-1], dpi=120)
    return paths


# ---------------------------------------------------------------------------- findings
def _direction(before: pd.Series, after: pd.Series, column: str = "ratio_trust_traffic") -> str:
    """How ``after`` compares with ``before``: whether their 95 % intervals are apart."""
    if after[f"{column}_low"] > before[f"{column}_high"]:
        return "95 % interval above that"
    if after[f"{column}_high"] < before[f"{column}_low"]:
        return "95 % interval below that"
    return "95 % interval overlapping that"


def findings(tables: dict[str, pd.DataFrame]) -> list[str]:
    ratios = tables["ratios"].set_index(["metric", "ratio"])
    conv = ratios.loc[("conversion", "trust / traffic")]
    follow = ratios.loc[("conversion", "follow / storefront")]
    value = ratios.loc[("order_value", "trust / traffic")]
    repurchase = ratios.loc[("monthly_repurchase", "trust / traffic")]
    channels = tables["channels"].set_index("channel")
    out = [
        f"With both families on, the trust family converts {_ci(conv, 'value')} times as well "
        f"as storefronts, the follow channel alone {_ci(follow, 'value')} times "
        f"(T4: 3–10×).",
        f"Monthly repurchase: trust family {_ci(channels.loc['trust'], 'monthly_repurchase')}, "
        f"traffic family {_ci(channels.loc['traffic'], 'monthly_repurchase')} (ratio "
        f"{_ci(repurchase, 'value')}; T5 asks for 60–70 % against 20–30 %).",
        f"Order value (客单价): trust family {_ci(channels.loc['trust'], 'order_value')} RMB, "
        f"storefronts {_ci(channels.loc['traffic'], 'order_value')} RMB, a ratio of "
        f"{_ci(value, 'value')} at the defaults (T6: ≈ {T6_RATIO}).",
    ]
    attribution = tables["attribution"].set_index("arm")
    trust_adds = attribution.iloc[len(ATTRIBUTION_ARMS)]
    interaction = attribution.iloc[len(ATTRIBUTION_ARMS) + 2]
    lost = attribution.iloc[len(ATTRIBUTION_ARMS) + 3]
    out.append(
        f"For the same consumers (common random numbers), adding the trust channels to "
        f"storefronts adds {_ci(trust_adds, 'gmv_all', ',.0f')} RMB of GMV, "
        f"{_ci(trust_adds, 'share_of_both', '.1%')} of the GMV with both; storefront GMV "
        f"is lower by {_ci(lost, 'gmv_all', ',.0f')} RMB with the trust channels on than "
        f"without (budget competition; a negative value means higher) and the interaction "
        f"of the families is {_ci(interaction, 'gmv_all', ',.0f')} RMB."
    )
    strength = tables["trust_strength"]
    low_w, high_w = strength["trust_weight"].min(), strength["trust_weight"].max()
    low_a, high_a = strength["authenticity_mean"].min(), strength["authenticity_mean"].max()

    def at(w: float, a: float) -> pd.Series:
        return strength[
            (strength["trust_weight"] == w) & (strength["authenticity_mean"] == a)
        ].iloc[0]

    lo, hi = at(low_w, high_a), at(high_w, high_a)
    weak = at(high_w, low_a)
    out.append(
        f"Trust/traffic conversion ratio against trust strength: at authenticity {high_a:g} it "
        f"is {_ci(lo, 'ratio_trust_traffic')} with trust_weight {low_w:g} and "
        f"{_ci(hi, 'ratio_trust_traffic')} with {high_w:g} ({_direction(lo, hi)} at {low_w:g}); "
        f"at "
        f"trust_weight {high_w:g} and authenticity {low_a:g} it is "
        f"{_ci(weak, 'ratio_trust_traffic')} ({_direction(hi, weak)} at authenticity "
        f"{high_a:g}). The absolute gap (trust minus traffic conversion) at the strongest trust "
        f"is {_ci(hi, 'gap_trust_minus_traffic')} at authenticity {high_a:g} and "
        f"{_ci(weak, 'gap_trust_minus_traffic')} at {low_a:g}."
    )
    order = tables["order_value"]
    parts = [f"{row['case']}: {_ci(row, 'ratio')}" for _, row in order.iterrows()]
    inside = [
        row["case"]
        for _, row in order.iterrows()
        if row["ratio_low"] <= T6_RATIO <= row["ratio_high"]
    ]
    out.append(
        "Trust/traffic order-value ratio — "
        + "; ".join(parts)
        + f". Cases whose interval contains T6's {T6_RATIO}: "
        + (", ".join(inside) if inside else "none")
        + "."
    )
    return out


ASSUMPTIONS = [
    "Defaults are not calibrated (docs/model.md 3.7): the numbers say what the model's rules "
    "imply at the defaults, not what Mudanjiang's market is.",
    "The trust family is follow + discovery + word of mouth; switching it off sets "
    "creators.post_prob, policy.discovery_per_active and word_of_mouth.prob to 0 (word of mouth "
    "of storefront purchases goes too: it travels along trust ties). Switching traffic off sets "
    "storefronts.impressions_per_active to 0.",
    "Arms share the city graph, the consumers and each phase's random stream (common random "
    "numbers); switching a channel off changes how many exposures there are, so the decision "
    "draws of the remaining channels are not paired exposure by exposure, only run by run.",
    "decision.basket_trust_effect cannot be negative (its declared range is 0–100): the data's "
    "reading is run as 0, and with lower creators' prices; a basket that shrinks with trust is "
    "not modelled.",
    "Monthly repurchase (of a month's buyers, the share who buy again the next month, per "
    "family) is recorded when the next month starts: quick mode's 61 days give one "
    "month-to-month transition, full mode's 91 days two (a 90-day run would give one).",
]


def run(*, quick: bool, out: Path, executor: Any) -> Report:
    """Run the three sweeps under ``out`` and return the report."""
    config = settings(quick)
    base = Scenario.preset("mudanjiang", scale=config["scale"])
    common = {"replications": config["replications"], "days": config["days"], "seed": SEED}

    attribution = run_sweep(
        Sweep(base, cases=attribution_cases(base), **common),
        out / "attribution",
        executor=executor,
    )
    names = list(ATTRIBUTION_ARMS)
    strength = run_sweep(
        Sweep(
            base,
            {
                "decision.trust_weight": config["trust_weight"],
                "creators.authenticity_mean": config["authenticity_mean"],
            },
            **common,
        ),
        out / "trust_strength",
        executor=executor,
    )
    order_value = run_sweep(
        Sweep(
            base,
            cases=[
                {
                    "decision.basket_trust_effect": base.decision.basket_trust_effect,
                    "creators.price_mean": base.creators.price_mean,
                    **case,
                }
                for _, case in ORDER_VALUE_CASES
            ],
            **common,
        ),
        out / "order_value",
        executor=executor,
    )
    tables = {
        "channels": channel_table(attribution, names, "both"),
        "ratios": ratio_table(attribution, names, "both"),
        "attribution": attribution_table(attribution, names),
        "trust_strength": strength_table(strength),
        "order_value": order_value_table(order_value, [name for name, _ in ORDER_VALUE_CASES]),
    }
    residents = base.city.n_residents
    assumptions = [
        f"Mudanjiang at scale {config['scale']:g} ({residents:,} residents), "
        f"{config['days']} days, {config['replications']} replications per arm, sweep seed "
        f"{SEED}.",
        *ASSUMPTIONS,
    ]
    return Report(
        name=NAME,
        question=QUESTION,
        tables=tables,
        figures=figures(out, tables),
        findings=findings(tables),
        assumptions=assumptions,
    )


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
