"""Growth from 2019 (牡丹江 2019 →): Mudanjiang's platform run forward from its 2019 state, its
trajectory of users, sellers and GMV set against the shape of the platform's GMV (T8).

The ``mudanjiang_2019`` scenario starts from the seed article's city of 2019: 56 % of residents
use the platform on the first day (``growth.initial_users`` 0.7 of the eventual registered
users, ``city.user_share`` 0.8), the others adopt it through their ties (Bass on the trust
graph), users leave with a small monthly probability, and of the sellers only 5 % sell on the
first day, the others entering when it pays (docs/model.md 3.5, "Growth"). The run lasts six
model years of twelve 30-day months, so that year ``k`` stands for the calendar year
``2018 + k`` and the model's six yearly GMVs line up with T8's six (2019–24).

``mudanjiang_2019`` has no posterior of its own: every run carries a posterior draw of
``mudanjiang_calibrated``'s platform-level parameters (:data:`TRANSFERRED`, each with its
reason), an assumption the page states. The runs are one :class:`laotie.sweep.Sweep` over those
draws × replications; intervals are 95 % predictive intervals over draws and chance, with the
share from the parameters. The sweep stores each run's months (:meth:`laotie.sweep.SweepResult
.monthly`: users using the platform, sellers, GMV), from which the yearly tables are made.

Only the shape is comparable: T8 is the platform's national GMV, which grew mostly with people
starting to buy online and spending more there, which the model holds fixed; a city's GMV in
the model grows only with the users who adopt and the sellers who enter. The audit varies every
``growth.*`` parameter and the eventual user share (all assumed) besides the transferred draws,
and names what drives each headline of the shape.

Run ``python experiments/growth_2019_2024.py [--quick] [--out DIR] [--workers N] [--page DIR]``.
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

NAME = "growth_2019_2024"
QUESTION = (
    "Run forward from Mudanjiang's 2019 state, with residents adopting the platform through "
    "their ties, some leaving, and sellers entering when it pays, how do users, sellers and "
    "GMV grow over six years, and does the GMV curve decelerate like the platform's from 2019 "
    "to 2024 (T8)?"
)
SEED = 20191126
SCENARIO = "mudanjiang_2019"
CALIBRATED = "mudanjiang_calibrated"
MONTH_DAYS = 30
MONTHS = 12
YEARS = 6
DAYS = YEARS * MONTHS * MONTH_DAYS
FIRST_YEAR = 2019

T8 = {2019: 0.06, 2020: 0.38, 2021: 0.68, 2022: 0.90, 2023: 1.18, 2024: 1.39}
"""The platform's GMV per calendar year, tn RMB (docs/sources.md, T8; facts C2–C8): a shape to
compare with, not a target of the calibration, and a national figure, not a city's."""

TRANSFERRED: dict[str, str] = {
    "decision.intercept": "how readily an exposure becomes an order: per exposure, not per city",
    "decision.trust_weight": "the weight of trust in a purchase (老铁): a behaviour",
    "decision.basket_trust_effect": "basket size against trust (T6): a behaviour",
    "storefronts.click_prob": "the ad funnel's click rate (T1): the platform's, not the city's",
    "storefronts.impressions_per_active": "ad impressions per active user: per user",
    "creators.enter_prob": "the live room's entry rate (T3): per viewer",
    "population.activity_mean": (
        "daily activity of a user who uses the platform (seed article: 334 k of 1.4223 M, "
        "the 2019 figure this scenario starts from)"
    ),
    "population.activity_concentration": "DAU/MAU (T7): per user",
    "population.propensity_dispersion": "spread of purchase propensity: per user",
    "loyalty.return_creators": "repurchase from creators (T5): per user and seller",
    "loyalty.return_storefronts": "repurchase from storefronts (T5): per user and seller",
    "loyalty.weight": "loyalty in a return visit: per user and seller",
    "loyalty.half_life": "how fast loyalty fades: per user and seller",
    "city.local_degree": (
        "ties per resident (T11): the same city's social fabric, over which adoption spreads"
    ),
    "city.follower_exponent": "the follower tail (T9): a share-free shape",
    "city.creator_share": (
        "creators per registered user (T9): a share, so 80 % of residents registered in the "
        "end give more creators than the calibrated 56 %"
    ),
    "creators.price_mean": "creators' prices (T6): the platform's market",
    "storefronts.price_mean": "storefronts' prices (T6): the platform's market",
}
"""The calibrated parameters carried over from ``mudanjiang_calibrated`` to
``mudanjiang_2019``, and why each may be: all 18 free parameters. Each describes behaviour per
user, per exposure, per tie or per seller, or a price, which the platform's size does not
change, and the 2019 scenario sets none of them (it would run at the uncalibrated defaults,
e.g. every storefront impression a click and no repeat visits, which the data reject). Taking a
subset would break the draws' joint fit (the parameters were fitted together)."""

# The assumed parameters the audit varies besides the transferred draws: every growth.*
# parameter that the scenario uses and the eventual share of registered users, each over a
# range around the scenario's value (the Bass rates around T16's prior).
AUDIT_ASSUMED: dict[str, list[float] | None] = {
    "city.user_share": [0.65, 0.95],
    "growth.initial_users": [0.5, 0.9],
    "growth.external": [0.01, 0.1],
    "growth.social": [0.1, 1.2],
    "growth.churn": [0.0, 0.01],
    "growth.initial_sellers": [0.01, 0.3],
    "growth.entry_rate": [0.02, 0.3],
    "growth.creator_entry_income": [5.0, 100.0],
    "growth.storefront_entry_gmv": [250.0, 5000.0],
}

SHAPE = {
    "users_growth": ("users using the platform, last year / year 1", np.nan),
    "sellers_growth": ("sellers, last year / year 1", np.nan),
    "gmv_growth": ("GMV, last year / year 1 (T8: 2024 / 2019)", T8[2024] / T8[2019]),
    "gmv_growth_first": ("GMV growth in year 2 (T8: 2020 / 2019)", T8[2020] / T8[2019]),
    "gmv_growth_last": ("GMV growth in the last year (T8: 2024 / 2023)", T8[2024] / T8[2023]),
    "deceleration": (
        "deceleration: GMV growth in year 2 − growth in the last year",
        T8[2020] / T8[2019] - T8[2024] / T8[2023],
    ),
}
"""The shape's summary measures, per run: name → (meaning, T8's value over 2019–24; NaN: T8
has none). A positive deceleration means GMV grows more slowly at the end than at the start."""


def settings(quick: bool) -> dict[str, Any]:
    """Scale, years, posterior draws and replications per draw of each mode."""
    if quick:
        return {"scale": 0.0005, "years": 2, "draws": 2, "replications": 2}
    return {"scale": 0.002, "years": YEARS, "draws": 8, "replications": 2}


def audit_settings(quick: bool) -> dict[str, Any] | None:
    """Samples, scale and days of the audit (None: quick mode leaves it out)."""
    if quick:
        return None
    return {"samples": 64, "scale": 0.0005, "days": DAYS}


SCALED = ("growth.storefront_entry_gmv",)
"""Thresholds scaled with the city: a small copy keeps all its storefronts
(``storefronts.n_storefronts`` does not scale), so each sells ``scale`` times what it would
in the whole city, and a threshold on the mean GMV per open storefront is scaled alike to
act as it would there (in the whole city no value in the audit's range binds)."""


def base(scale: float) -> Scenario:
    """``mudanjiang_2019`` at ``scale``, its storefronts' entry threshold scaled with it."""
    scenario = preset(SCENARIO, scale=scale)
    return scenario.replace(**{key: scenario.flat()[key] * scale for key in SCALED})


def make_sweep(quick: bool) -> Sweep:
    """The scenario over transferred posterior draws × replications (one arm)."""
    mode = settings(quick)
    return Sweep(
        base(mode["scale"]),
        replications=mode["replications"],
        days=mode["years"] * MONTHS * MONTH_DAYS,
        seed=SEED,
        draws=load_posterior(CALIBRATED).draws(mode["draws"], seed=SEED, keys=list(TRANSFERRED)),
    )


# ---------------------------------------------------------------------------- per run
def yearly(result: SweepResult) -> pd.DataFrame:
    """Per replication slot and model year (1, 2, ...): the mean share of residents using the
    platform, the mean number of sellers, the mean DAU per user using the platform, the
    year's GMV per resident and per user using the platform (RMB) and the trust channels'
    share of it, from the sweep's stored months and days (complete years only)."""
    months = result.monthly()
    if not len(months):
        raise LaotieError(f"no run of the sweep under {result.out} finished")
    months = months.merge(result.runs[["run", "replication"]], on="run")
    months["year"] = months["month"] // MONTHS + 1
    grouped = months.groupby(["replication", "year"])
    table = pd.DataFrame(
        {
            "users_share": grouped["adopted"].mean() / grouped["residents"].first(),
            "sellers": grouped["sellers"].mean(),
            "dau_per_user": grouped["dau"].mean() / grouped["adopted"].mean(),
            "gmv_per_resident": grouped["gmv"].sum() / grouped["residents"].first(),
            "gmv_per_user": grouped["gmv"].sum() / grouped["adopted"].mean(),
            "months": grouped["month"].size(),
        }
    )
    days = result.daily[result.daily["channel"].isin(["trust", "all"])]
    days = days.assign(
        replication=days["run"].map(result.runs.set_index("run")["replication"]),
        year=days["day"] // (MONTHS * MONTH_DAYS) + 1,
        channel=days["channel"].astype(str),
    )
    sales = days.pivot_table(
        index=["replication", "year"], columns="channel", values="gmv", aggfunc="sum"
    )
    table["trust_gmv_share"] = sales["trust"] / sales["all"]
    table = table.reset_index()
    return table[table["months"] == MONTHS].drop(columns="months")


def shape(years: pd.DataFrame) -> pd.DataFrame:
    """Per replication slot, the shape's summary measures (:data:`SHAPE`), from the yearly
    values (at least two years)."""
    wide = {
        name: years.pivot(index="replication", columns="year", values=name)
        for name in ("users_share", "sellers", "gmv_per_resident")
    }
    gmv = wide["gmv_per_resident"]
    last = int(gmv.columns.max())
    first_growth = gmv[2] / gmv[1]
    last_growth = gmv[last] / gmv[last - 1]
    return pd.DataFrame(
        {
            "users_growth": wide["users_share"][last] / wide["users_share"][1],
            "sellers_growth": wide["sellers"][last] / wide["sellers"][1],
            "gmv_growth": gmv[last] / gmv[1],
            "gmv_growth_first": first_growth,
            "gmv_growth_last": last_growth,
            "deceleration": first_growth - last_growth,
        }
    )


# ---------------------------------------------------------------------------- tables
def columns(
    values: pd.Series, name: str, replications: int, scale: str = "auto"
) -> dict[str, float]:
    """Values indexed by replication slot, over draws × replications, as table columns
    (``scale="positive"`` for a ratio, whose interval must be able to cross 1; ``"linear"``
    for a difference, whose sign is not known in advance)."""
    draws = np.asarray(values.index, dtype=int) // replications
    return uncertainty_columns(values.to_numpy(float), draws, name, scale)


def t8_relative() -> dict[int, float]:
    """T8's GMV of each year over 2024's."""
    return {year: gmv / T8[2024] for year, gmv in T8.items()}


def t8_growth() -> dict[int, float]:
    """T8's GMV of each year over the year before's (NaN for 2019)."""
    return {year: gmv / T8.get(year - 1, np.nan) for year, gmv in T8.items()}


def trajectory_table(years: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Per model year: users, sellers and GMV per resident, the GMV relative to the last year
    and its growth over the year before, each against T8's (years 1–6 are 2019–24)."""
    last = int(years["year"].max())
    wide = {
        name: years.pivot(index="replication", columns="year", values=name)
        for name in (
            "users_share",
            "sellers",
            "dau_per_user",
            "gmv_per_resident",
            "gmv_per_user",
            "trust_gmv_share",
        )
    }
    gmv = wide["gmv_per_resident"]
    relative = gmv.div(gmv[last], axis=0)
    growth = gmv / gmv.shift(axis=1)
    t8_rel, t8_grow = t8_relative(), t8_growth()
    rows = []
    for year in sorted(years["year"].unique()):
        calendar = FIRST_YEAR + int(year) - 1
        row: dict[str, Any] = {"year": int(year), "calendar_year": calendar}
        row |= columns(wide["users_share"][year], "users_share", replications)
        row |= columns(wide["sellers"][year], "sellers", replications, "positive")
        row |= columns(wide["dau_per_user"][year], "dau_per_user", replications)
        row |= columns(gmv[year], "gmv_per_resident", replications, "positive")
        row |= columns(wide["gmv_per_user"][year], "gmv_per_user", replications, "positive")
        row |= columns(wide["trust_gmv_share"][year], "trust_gmv_share", replications)
        row |= columns(relative[year], "gmv_vs_last_year", replications, "positive")
        row["t8_gmv_vs_2024"] = t8_rel[calendar] if last == YEARS else np.nan
        row |= columns(growth[year], "gmv_growth", replications, "positive")
        row["t8_gmv_growth"] = t8_grow[calendar]
        rows.append(row)
    return pd.DataFrame(rows)


def shape_table(measures: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Per summary measure of the shape: the runs' mean (95 % predictive interval) beside
    T8's value, and for the deceleration the share of runs in which GMV grows more slowly in
    the last year than in the second."""
    rows = []
    for name, (meaning, t8) in SHAPE.items():
        row: dict[str, Any] = {"measure": name, "meaning": meaning}
        scale = "linear" if name == "deceleration" else "positive"  # the others are ratios
        row |= columns(measures[name], "model", replications, scale)
        row["t8"] = t8
        row["runs_decelerating"] = (
            float((measures[name] > 0).mean()) if name == "deceleration" else np.nan
        )
        rows.append(row)
    return pd.DataFrame(rows)


def monthly_table(result: SweepResult, replications: int) -> pd.DataFrame:
    """Per month: the share of residents using the platform, sellers, and the month's GMV per
    resident, over draws × replications (the figure's bands)."""
    months = result.monthly().merge(result.runs[["run", "replication"]], on="run")
    months["users_share"] = months["adopted"] / months["residents"]
    months["gmv_per_resident"] = months["gmv"] / months["residents"]
    rows = []
    for month, group in months.groupby("month"):
        by_slot = group.set_index("replication")
        row: dict[str, Any] = {"month": int(month) + 1}
        for name, scale in (
            ("users_share", "auto"),
            ("sellers", "positive"),
            ("gmv_per_resident", "positive"),
        ):
            row |= columns(by_slot[name], name, replications, scale)
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- audit
AUDITED = {
    "users_growth": (
        "users using the platform, year 6 / year 1",
        "the users' growth",
        "用户增长（第 6 年与第 1 年之比）",
    ),
    "gmv_growth": ("GMV, year 6 / year 1", "GMV's growth", "GMV 增长（第 6 年与第 1 年之比）"),
    "gmv_growth_first": ("GMV growth in year 2", "its growth in year 2", "第 2 年的 GMV 增长"),
    "gmv_growth_last": ("GMV growth in year 6", "its growth in year 6", "第 6 年的 GMV 增长"),
    "deceleration": (
        "deceleration (growth in year 2 − in year 6)",
        "the deceleration",
        "增长放缓的幅度",
    ),
}
"""The audit's outcomes (measures of :data:`SHAPE`): their names in the audit's tables, and
in the answer's words in English and Chinese."""


def audit_outcomes(result: SweepResult, arms: list[str]) -> pd.DataFrame:
    """The headline outcomes of the shape per audit sample (slot)."""
    measures = shape(yearly(result))
    return pd.DataFrame({label: measures[name] for name, (label, _, _) in AUDITED.items()})


def audit(quick: bool, out: Path, executor: Executor) -> Audit | None:
    """The audit's sweep under ``out`` (None in quick mode, which leaves it out): each sample a
    transferred posterior draw joined with Latin-hypercube values of :data:`AUDIT_ASSUMED`
    (the ranges of :data:`SCALED` thresholds scaled with the city, like the scenario's)."""
    design = audit_settings(quick)
    if design is None:
        return None
    ranges = {
        key: [b * design["scale"] for b in bounds] if key in SCALED and bounds else bounds
        for key, bounds in AUDIT_ASSUMED.items()
    }
    return run_audit(
        SCENARIO,
        [("base", {})],
        ranges,
        audit_outcomes,
        design=design,
        seed=SEED,
        out=out,
        executor=executor,
        posterior=CALIBRATED,
        keys=list(TRANSFERRED),
        base=base(design["scale"]),
    )


# ---------------------------------------------------------------------------- words
def _x(row: pd.Series, column: str) -> str:
    return describe_interval(row, column, ".2f")


def _x_zh(row: pd.Series, column: str) -> str:
    return describe_interval_zh(row, column, ".2f")


def _verdict(shape_rows: pd.DataFrame, years: int) -> tuple[str, str]:
    """Whether the GMV curve decelerates, and whether it still grows at the end, in English
    and Chinese, from the shape table: the deceleration by the share of runs in which GMV
    grows more slowly in the last year than in the second; levelling off when the last
    year's growth has 1 inside its interval."""
    s = shape_rows.set_index("measure")
    slowing, late = s.loc["deceleration"], s.loc["gmv_growth_last"]
    share = slowing["runs_decelerating"]
    if years < 3:
        return (
            f"{years} years cannot show a deceleration (quick mode: run the full mode)",
            f"{years} 年的数据无法显示放缓（快速模式：请运行完整模式）",
        )
    if share >= 0.5:
        english = f"the curve decelerates, as T8's does, in {share:.0%} of runs"
        chinese = f"曲线放缓，与 T8 相同（{share:.0%} 的模拟如此）"
        if slowing["model_low"] <= 0:  # one new run may not decelerate
            english += (
                f" (though one new run's deceleration, "
                f"{slowing['model_low']:.2f} to {slowing['model_high']:.2f}, could be nil)"
            )
            chinese += (
                f"（但单次新模拟的放缓幅度区间 {slowing['model_low']:.2f} 至 "
                f"{slowing['model_high']:.2f} 包含不放缓）"
            )
    else:
        english = f"the curve does not decelerate in most runs (only {share:.0%} do), unlike T8's"
        chinese = f"多数模拟中曲线并未放缓（仅 {share:.0%} 放缓），与 T8 不同"
    if late["model_low"] <= 1 <= late["model_high"]:
        english += f", and levels off where T8 still grows {T8[2024] / T8[2023] - 1:.0%} a year"
        chinese += f"，且趋于平稳，而 T8 仍每年增长 {T8[2024] / T8[2023] - 1:.0%}"
    elif late["model_low"] > 1:
        english += ", and still grows at the end, as T8 does"
        chinese += "，末年仍在增长，与 T8 相同"
    return english, chinese


def headlines(
    trajectory: pd.DataFrame, shape_rows: pd.DataFrame, months: pd.DataFrame
) -> list[Headline]:
    last = trajectory.iloc[-1]
    final = int(last["year"])
    s = shape_rows.set_index("measure")
    assumed = "out of sample; rests on the assumed growth.* parameters (the audit names drivers)"
    compare = f"{assumed}; T8 is the platform's national GMV: only the shape compares"
    return [
        Headline(
            "residents using the platform at the end of the first month",
            describe_interval(months.iloc[0], "users_share", ".1%"),
            "input",
            "set by the assumed growth.initial_users 0.7 × city.user_share 0.8 (the seed "
            "article's 1.4223 M users of 2.54 M residents, 56 %) and the creators, who always "
            "use it",
        ),
        Headline(
            f"residents using the platform in year {final}",
            describe_interval(last, "users_share", ".1%"),
            "predicted",
            f"{assumed}; at most the assumed city.user_share",
        ),
        Headline(
            f"sellers, year {final} / year 1",
            _x(s.loc["sellers_growth"], "model"),
            "predicted",
            assumed,
        ),
        Headline(
            f"GMV, year {final} / year 1 (T8 2024 / 2019: {T8[2024] / T8[2019]:.1f})",
            _x(s.loc["gmv_growth"], "model"),
            "predicted",
            compare,
        ),
        Headline(
            f"GMV growth in year 2 (T8 2020 / 2019: {T8[2020] / T8[2019]:.2f})",
            _x(s.loc["gmv_growth_first"], "model"),
            "predicted",
            compare,
        ),
        Headline(
            f"GMV growth in year {final} (T8 2024 / 2023: {T8[2024] / T8[2023]:.2f})",
            _x(s.loc["gmv_growth_last"], "model"),
            "predicted",
            compare,
        ),
    ]


def answers(
    trajectory: pd.DataFrame,
    shape_rows: pd.DataFrame,
    ceiling: float,
    audited: pd.DataFrame | None = None,
) -> tuple[list[str], list[str]]:
    first, last = trajectory.iloc[0], trajectory.iloc[-1]
    final = int(last["year"])
    s = shape_rows.set_index("measure")
    gmv, early, late = s.loc["gmv_growth"], s.loc["gmv_growth_first"], s.loc["gmv_growth_last"]
    sellers = s.loc["sellers_growth"]
    verdict, verdict_zh = _verdict(shape_rows, final)
    english = [
        f"Users: {describe_interval(first, 'users_share', '.0%')} of residents use the "
        f"platform in year 1 and {describe_interval(last, 'users_share', '.0%')} in year "
        f"{final}, below the assumed {ceiling:.0%} who register in the end; sellers grow "
        f"{_x(sellers, 'model')}-fold as they enter.",
        f"GMV grows {_x(gmv, 'model')}-fold by year {final} (T8: "
        f"{T8[2024] / T8[2019]:.0f}-fold over 2019–24), by {_x(early, 'model')} in year 2 (T8: "
        f"{T8[2020] / T8[2019]:.1f}) and {_x(late, 'model')} in year {final} (T8: "
        f"{T8[2024] / T8[2023]:.2f}): {verdict}. Only the shape compares: T8 is national GMV, "
        "which grew mostly with spending per user, held fixed here.",
        "Every growth parameter is assumed, and the calibrated behaviour is carried over from "
        f"mudanjiang_calibrated (an assumption too): {_audit_words(audited)[0]}",
    ]
    chinese = [
        f"用户：第 1 年{describe_interval_zh(first, 'users_share', '.0%')}的居民使用平台，第 "
        f"{final} 年为{describe_interval_zh(last, 'users_share', '.0%')}，低于假设的最终注册"
        f"比例 {ceiling:.0%}；卖家随进入增长为{_x_zh(sellers, 'model')}倍。",
        f"GMV 到第 {final} 年增长为{_x_zh(gmv, 'model')}倍（T8：2019–24 年 "
        f"{T8[2024] / T8[2019]:.0f} 倍），第 2 年增长{_x_zh(early, 'model')}倍（T8："
        f"{T8[2020] / T8[2019]:.1f}），第 {final} 年{_x_zh(late, 'model')}倍（T8："
        f"{T8[2024] / T8[2023]:.2f}）：{verdict_zh}。只有形状可比：T8 是全国 GMV，其增长主要来自"
        "人均消费的增加，而模型中人均消费不变。",
        "所有增长参数都是假设的，行为参数沿用 mudanjiang_calibrated 的后验（这也是假设）："
        f"{_audit_words(audited)[1]}",
    ]
    return english, chinese


def _audit_words(audited: pd.DataFrame | None) -> tuple[str, str]:
    """What the audit found, in a sentence in English and Chinese (without an audit: where
    to find it)."""
    if audited is None:
        return (
            "the audit of the full mode names what drives each number.",
            "完整模式的审计指出驱动每个数字的参数。",
        )
    words = {label: (english, chinese) for label, english, chinese in AUDITED.values()}
    found = audited["verdict"].str.startswith("driven by")
    english, chinese = [], []
    for row in audited[found].itertuples():
        phrase, phrase_zh = words[str(row.outcome)]
        kind_zh = "校准" if row.kind == "calibrated" else "假设"
        english.append(f"{phrase} driven by {row.driver} ({row.kind}, S1 = {row.S1:.2f})")
        chinese.append(f"{phrase_zh}由{kind_zh}参数 {row.driver} 驱动（S1 = {row.S1:.2f}）")
    rest = [words[str(outcome)] for outcome in audited.loc[~found, "outcome"]]
    if rest:
        named = [english for english, _ in rest]
        listed = ", ".join(named[:-1]) + " or " + named[-1] if len(named) > 1 else named[0]
        english.append(f"no single parameter drives {listed}")
        chinese.append("、".join(chinese for _, chinese in rest) + "没有单一的主导参数")
    return "the audit finds " + "; ".join(english) + ".", "审计发现" + "；".join(chinese) + "。"


def findings(trajectory: pd.DataFrame, shape_rows: pd.DataFrame) -> list[str]:
    out = []
    for _, row in trajectory.iterrows():
        text = (
            f"Year {int(row['year'])} ({int(row['calendar_year'])}): "
            f"{describe_interval(row, 'users_share', '.1%')} of residents use the platform, "
            f"{describe_interval(row, 'sellers', '.0f')} sellers, GMV "
            f"{describe_interval(row, 'gmv_per_resident', '.0f')} RMB per resident, "
            f"{describe_interval(row, 'gmv_vs_last_year', '.2f')} of the last year's"
        )
        if np.isfinite(row["t8_gmv_vs_2024"]):
            text += f" (T8: {row['t8_gmv_vs_2024']:.2f} of 2024's)"
        out.append(text + ".")
    first = trajectory.iloc[0]
    out.append(
        f"Daily activity of a user using the platform in year 1: "
        f"{describe_interval(first, 'dau_per_user', '.1%')} (the seed article's 2019 figure, "
        "334 k of 1.4223 M registered users, is 23.5 %)."
    )
    last = trajectory.iloc[-1]
    out.append(
        f"GMV per user using the platform: {describe_interval(first, 'gmv_per_user', '.0f')} "
        f"RMB in year 1 and {describe_interval(last, 'gmv_per_user', '.0f')} in year "
        f"{int(last['year'])}: GMV grows with the users who adopt, while sellers entering "
        "divide the same spending; the platform's GMV grew with spending per user."
    )
    out.append(
        f"The trust channels' share of GMV (creators' posts, discovery, word of mouth): "
        f"{describe_interval(first, 'trust_gmv_share', '.1%')} in year 1, "
        f"{describe_interval(last, 'trust_gmv_share', '.1%')} in year {int(last['year'])}, "
        "as creators enter; storefronts sell the rest."
    )
    slowing = shape_rows.set_index("measure").loc["deceleration"]
    out.append(
        f"GMV growth in year 2 minus growth in the last year: "
        f"{_x(slowing, 'model')} (T8: {slowing['t8']:.2f}); GMV grows more slowly in the last "
        f"year than in the second in {slowing['runs_decelerating']:.0%} of runs."
    )
    return out


METHOD = """
One sweep of `mudanjiang_2019` (`experiments/growth_2019_2024.py`): six model years of twelve
30-day months (year 1 stands for 2019, year 6 for 2024), each run a posterior draw of
`mudanjiang_calibrated`'s 18 calibrated parameters carried over to the 2019 scenario
(`load_posterior("mudanjiang_calibrated").draws(n, seed, keys=...)`, each draw's joint values
kept) × replications, each replication its own city graph and random streams. The yearly
values come from the months every run stores (`SweepResult.monthly()`: users using the
platform at each month's end, sellers, GMV). Users are the mean share of residents using the
platform over the year's months; GMV is the year's sum per resident (RMB; the city is a small
copy of Mudanjiang, so per resident, not in total). The shape is compared through each year's
GMV relative to the last year and its growth over the year before, against T8's; the runs'
ratios are taken run by run. Intervals are 95 % predictive intervals for one new run
(normal-theory, from a random-effects analysis over the draws, on the logit of shares, the log
of positive quantities and ratios, and linear for the deceleration, a difference;
`laotie.stats.decompose`); "from parameters" is the share of the runs' spread that comes from
the transferred calibration's uncertainty. The share of runs that decelerate is counted, not
modelled.

The audit (full mode only; `laotie audit growth_2019_2024` runs it alone): 64 samples, each a
transferred posterior draw joined with a Latin-hypercube value of the eight growth parameters
and the eventual user share (all assumed), the same six years at scale 0.0005 (the
storefronts' entry threshold and its range scaled with the city), once per sample; each
headline outcome's first-order Sobol index to each parameter from those samples (SALib), with a
permutation null (`laotie.audit`). With 27 parameters varied (18 transferred, 9 assumed), 64
samples leave the null near 0.3: an index below it is not told apart from noise.
"""


def run(*, quick: bool, out: Path, executor: Executor) -> Report:
    """Run the scenario over draws × replications, then the audit; tabulate and plot."""
    mode = settings(quick)
    replications = mode["replications"]
    result = run_sweep(make_sweep(quick), out / "sweep", executor=executor)
    years = yearly(result)
    trajectory = trajectory_table(years, replications)
    shape_rows = shape_table(shape(years), replications)
    months = monthly_table(result, replications)
    scenario = base(mode["scale"])
    g = scenario.growth
    figures = [_plot(months, trajectory, scenario.city.user_share, out / "figures")]
    tables = {"trajectory": trajectory, "shape": shape_rows, "monthly": months}
    audited = audit(quick, out / "audit", executor)
    english, chinese = answers(
        trajectory,
        shape_rows,
        scenario.city.user_share,
        None if audited is None else audited.verdicts,
    )
    seconds = float(result.runs["seconds"].sum())
    if audited is not None:
        tables["audit_drivers"] = audited.drivers
        seconds += audited.seconds
    return Report(
        name=NAME,
        question=QUESTION,
        tables=tables,
        figures=figures,
        findings=findings(trajectory, shape_rows),
        assumptions=[
            f"Mudanjiang from its 2019 state (`{SCENARIO}`), at {mode['scale']:g} of its "
            f"population ({scenario.city.n_residents:,} residents, all "
            f"{len(scenario.city.regions)} county-level units), {mode['years']} model years of "
            f"{MONTHS} 30-day months, {mode['draws']} posterior draws × {replications} "
            f"replications, sweep seed {SEED}.",
            f"The behaviour is `{CALIBRATED}`'s: each run carries one of its posterior draws "
            f"of all {len(TRANSFERRED)} calibrated parameters (per user, per exposure, per tie "
            "or per seller, and prices). That the platform of 2019 behaved as the calibration's "
            "targets describe is an assumption; so is the calibrated creator share applied to "
            "80 % of residents registered rather than 56 %.",
            f"Growth (all assumed): the eventual registered users are "
            f"{scenario.city.user_share:.0%} of residents, {g.initial_users:.0%} of them use the "
            f"platform on the first day; Bass adoption through ties at external {g.external} "
            f"and social {g.social} per year (T16's prior); churn {g.churn} a month; "
            f"{g.initial_sellers:.0%} of sellers sell on the first day, the others enter at up "
            f"to {g.entry_rate} a month when creators earn more than {g.creator_entry_income:g} "
            f"RMB a month and storefronts sell more than "
            f"{g.storefront_entry_gmv / mode['scale']:g} RMB a month (whole-city terms).",
            "Users' budgets, activity and buying habits stay as drawn: GMV grows only with the "
            "users who adopt and the sellers who enter, and a seller who enters takes part of "
            "its sales from the others. The platform's own GMV grew mostly with people buying "
            "online more, which is not represented: T8's magnitude is out of reach by "
            "construction and only its shape is compared.",
            f"A small copy of the city keeps all {scenario.storefronts.n_storefronts} "
            "storefronts, so each sells `scale` times what it would in the whole city: their "
            f"entry threshold is scaled alike ({g.storefront_entry_gmv / mode['scale']:g} RMB a "
            f"month in whole-city terms, {g.storefront_entry_gmv:g} here; so is its range in "
            "the audit), else it would hold back entry that the whole city never holds back. "
            "Years are 360 days.",
            *unfinished_note(result),
        ],
        answer=english,
        answer_zh=chinese,
        headlines=headlines(trajectory, shape_rows, months),
        method=METHOD,
        audit=None if audited is None else audited.verdicts,
        run_seconds=seconds,
    )


def _plot(months: pd.DataFrame, trajectory: pd.DataFrame, ceiling: float, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    x = months["month"] / MONTHS
    panels = (
        ("users_share", "share of residents using the platform"),
        ("sellers", "sellers selling (creators and storefronts)"),
    )
    for ax, (name, title) in zip(axes[0], panels, strict=True):
        ax.plot(x, months[name], color="C0", label="model (mean)")
        ax.fill_between(x, months[f"{name}_low"], months[f"{name}_high"], alpha=0.25)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("model year")
    axes[0, 0].axhline(ceiling, color="grey", linestyle="--", label="registered users (ceiling)")
    axes[0, 0].legend(fontsize=8)
    years = trajectory["year"].to_numpy()
    ax = axes[1, 0]
    ax.errorbar(
        years,
        trajectory["gmv_vs_last_year"],
        yerr=[
            trajectory["gmv_vs_last_year"] - trajectory["gmv_vs_last_year_low"],
            trajectory["gmv_vs_last_year_high"] - trajectory["gmv_vs_last_year"],
        ],
        marker="o",
        capsize=3,
        label="model, Mudanjiang",
    )
    ax.plot(years, trajectory["t8_gmv_vs_2024"], "s--", color="C3", label="T8, platform")
    ax.set_title("yearly GMV relative to the last year", fontsize=10)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    grown = trajectory[trajectory["year"] > 1]
    ax.errorbar(
        grown["year"],
        grown["gmv_growth"],
        yerr=[
            grown["gmv_growth"] - grown["gmv_growth_low"],
            grown["gmv_growth_high"] - grown["gmv_growth"],
        ],
        marker="o",
        capsize=3,
        label="model, Mudanjiang",
    )
    ax.plot(grown["year"], grown["t8_gmv_growth"], "s--", color="C3", label="T8, platform")
    ax.axhline(1, color="grey", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_title("GMV growth over the year before (log scale)", fontsize=10)
    ax.legend(fontsize=8)
    for ax in axes[1]:
        ax.set_xticks(years, [f"{y}\n{FIRST_YEAR + y - 1}" for y in years])
        ax.set_xlabel("model year / T8's calendar year")
    fig.suptitle(
        "Mudanjiang from 2019: mean and 95 % predictive interval over posterior draws × "
        "replications",
        fontsize=10,
    )
    fig.tight_layout()
    path = folder / f"{NAME}.png"
    save_figure(fig, path)
    return path


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
