"""Training local creators (培训: 雪城幸福家乡代言人, 正能量大V成长计划): how much does each
extra trained creator add, and where do the returns diminish? On the poverty county with the
platform's behaviour carried over from the calibrated Mudanjiang scenario and its parameter
uncertainty.

In the ``poverty_county`` scenario, ``k`` local creators (``training.rule = "local"``:
uniformly among non-head selling creators) are trained on day 30 (authenticity and content
quality up, new followers), for ``k`` from 0 to every local creator of the county, against no
training at all. Every arm shares, slot by slot, the posterior draw, city graph and random
streams (common random numbers), so differences between arms, and the marginal gain per extra
trained creator between two consecutive ``k``, are paired.

**Parameters carried over.** As in ``experiments/poverty_alleviation.py`` (whose docstring
gives the reasons), every run takes one posterior draw of ``mudanjiang_calibrated`` for the
platform-level parameters (:data:`TRANSFERRED`: the purchase logit, users' activity and
propensity, return customers, storefronts' traffic, creators' entry), each draw's values kept
together; the county keeps its own trust-graph shape and prices. That people in a poor rural
county use the app as Mudanjiang's residents do is an assumption; the training's own effects
(``training.*``) and every county parameter are assumed too.

Outcomes: GMV through creators and word of mouth (the trust family: local sellers in a
county where every seller lives), GMV of all channels, poor producers' receipts and net
income change (their accounts, docs/model.md 3.5), the share of producers with any receipts,
and the final coverage of one government notice posted on day 0 (``SweepResult.messages()``).
Intervals are 95 % predictive intervals for one new run over draws and chance, with the share
from the parameters.

Expected gains: besides one run's predictive interval, the expected gain over the posterior
(the mean of the draws' means) gets a 95 % t confidence interval over the draws (``D − 1``
degrees of freedom): what a policy gains on average, as opposed to what one realisation
shows.

Diminishing returns, stated: when the first step's expected marginal gain per creator is
clearly positive (its confidence interval above 0), the step from ``k_j`` to ``k_{j+1}``
shows diminished returns when its expected marginal gain per extra creator is significantly
less than half of the first step's: when the 95 % t interval of the mean of ``m_1 − 2 m_j``
over the draws (each draw's mean over its replications) lies above 0. Returns "diminish
from" the first such step.

Run ``python experiments/creator_training.py [--quick] [--out DIR] [--workers N] [--page
DIR]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laotie import Scenario
from laotie.audit import Audit, run_audit
from laotie.executors import Executor
from laotie.experiment import (
    Headline,
    Report,
    describe_interval,
    describe_interval_zh,
    expected_columns,
    preset,
    run_sweep,
    save_figure,
    uncertainty_columns,
)
from laotie.posterior import PLATFORM_KEYS, load_posterior
from laotie.stats import t_interval
from laotie.sweep import Sweep, SweepResult

NAME = "creator_training"
QUESTION = (
    "How do local GMV, poor producers' income and information reach grow with the number "
    "of local creators trained, and from which number do the returns diminish?"
)
SEED = 20191126
SCENARIO = "poverty_county"
POSTERIOR = "mudanjiang_calibrated"
TRANSFERRED = list(PLATFORM_KEYS)
"""The platform-level parameters whose Mudanjiang posterior draws the county's runs carry (the
same as poverty_alleviation's: laotie.posterior.PLATFORM_KEYS)."""
TRAINING_DAY = 30
DAYS = 120
OUTCOMES = {
    "trust_gmv": "GMV through creators and word of mouth (RMB)",
    "all_gmv": "GMV through all channels (RMB)",
    "producer_income": "poor producers' total online receipts (RMB)",
    "producer_net": "poor producers' total net income change (RMB)",
    "producers_with_income_share": "share of poor producers with any receipts",
    "notice_coverage": "share of residents who know the day-0 government notice at the end",
}
SIGNED = {"producer_net"}
"""Outcomes whose sign is not known in advance: their intervals are linear."""
SHARES = {"producers_with_income_share", "notice_coverage"}
"""Outcomes that are shares (intervals on the logit); the others are positive amounts."""
MARGINAL = ("trust_gmv", "all_gmv", "producer_income", "producer_net")
"""The outcomes whose marginal gain per extra trained creator is tabulated."""
REFERENCE_K = 20
"""The arm the headlines and the audit compare with no training (in full mode)."""

# The assumed parameters of training and of creators the audit varies besides the draws.
AUDIT_ASSUMED: dict[str, list[float] | None] = {
    "training.authenticity_gain": [0.02, 0.3],
    "training.content_quality_gain": [0.02, 0.3],
    "training.follower_gain": [0, 200],
    "creators.post_prob": [0.2, 0.8],
    "creators.follow_prob": [0.05, 0.4],
    "creators.content_quality_mean": [0.3, 0.7],
    "creators.authenticity_mean": [0.5, 0.9],
    "city.creator_share": [0.005, 0.03],
}
AUDIT_DESIGN = {"samples": 96, "scale": 0.1, "days": DAYS}
"""Samples, scale and days of the audit of full mode."""


def settings(quick: bool) -> dict[str, Any]:
    """Scale, days, trained creators per arm, posterior draws and replications per draw."""
    if quick:
        return {"scale": 0.05, "days": 45, "k": [0, 2, 5], "draws": 2, "replications": 2}
    return {
        "scale": 0.25,
        "days": DAYS,
        "k": [0, 2, 5, 10, 20, 40, 85],
        "draws": 8,
        "replications": 2,
    }


def audit_settings(quick: bool) -> dict[str, Any] | None:
    """The audit's design (None: quick mode leaves it out)."""
    return None if quick else AUDIT_DESIGN


def base(scale: float) -> Scenario:
    """The county at ``scale`` with its producers scaled alike (buyers per producer as in the
    scenario), one government notice and local training."""
    county = preset(SCENARIO)
    return preset(
        SCENARIO,
        scale=scale,
        **{
            "producers.n_producers": max(1, round(county.producers.n_producers * scale)),
            "information.n_messages": 1,
            "training.rule": "local",
        },
    )


def cases(k_values: list[int]) -> list[dict[str, int]]:
    """No training, then training ``k`` creators on TRAINING_DAY for each ``k`` (same keys)."""
    return [{"training.day": -1, "training.n_creators": 0}] + [
        {"training.day": TRAINING_DAY, "training.n_creators": k} for k in k_values
    ]


def make_sweep(quick: bool) -> Sweep:
    """The arms over the carried-over draws × replications, common random numbers."""
    mode = settings(quick)
    return Sweep(
        base(mode["scale"]),
        cases=cases(mode["k"]),
        replications=mode["replications"],
        days=mode["days"],
        seed=SEED,
        draws=load_posterior(POSTERIOR).draws(mode["draws"], seed=SEED, keys=TRANSFERRED),
    )


def arm_labels(k_values: list[int]) -> list[str]:
    return ["no training"] + [f"k={k}" for k in k_values]


def per_run(result: SweepResult, n_producers: int) -> pd.DataFrame:
    """One row per finished run: point, replication slot and the outcomes of OUTCOMES."""
    summary = result.summary.set_index(["run", "channel"])
    outcomes = result.outcomes.set_index("run")
    messages = result.messages().set_index("run")
    ok = result.runs[result.runs["status"] == "ok"]
    rows = []
    for run, point, replication in zip(ok["run"], ok["point"], ok["replication"], strict=True):
        rows.append(
            {
                "run": int(run),
                "point": int(point),
                "replication": int(replication),
                "trust_gmv": summary.at[(run, "trust"), "gmv"],
                "all_gmv": summary.at[(run, "all"), "gmv"],
                "producer_income": outcomes.at[run, "producer_income_total"],
                "producer_net": outcomes.at[run, "producer_net_total"],
                "producers_with_income_share": outcomes.at[run, "producers_with_income"]
                / n_producers,
                "notice_coverage": messages.at[run, "share_informed"],
            }
        )
    return pd.DataFrame(rows)


def columns(
    values: pd.Series, name: str, replications: int, scale: str = "auto"
) -> dict[str, float]:
    """Values indexed by replication slot, over draws × replications, as table columns."""
    draws = np.asarray(values.index, dtype=int) // replications
    return uncertainty_columns(values.to_numpy(float), draws, name, scale)


def expected_over_draws(values: pd.Series, name: str, replications: int) -> dict[str, float]:
    """Values indexed by replication slot as the expected value over the posterior, with its
    95 % confidence interval over the draws (:func:`laotie.experiment.expected_columns`)."""
    draws = np.asarray(values.index, dtype=int) // replications
    return expected_columns(values.to_numpy(float), draws, name)


def levels_table(
    measures: pd.DataFrame, k_values: list[int], n_pool: int, replications: int
) -> pd.DataFrame:
    """Per arm: each outcome (95 % predictive interval) and its paired difference from no
    training."""
    rows = []
    for point, label in enumerate(arm_labels(k_values)):
        k = 0 if point == 0 else k_values[point - 1]
        row: dict[str, Any] = {
            "arm": label,
            "k": k,
            "k_effective": min(k, n_pool),
            "pool_share": min(k, n_pool) / n_pool if n_pool else np.nan,
        }
        for outcome in OUTCOMES:
            wide = measures.pivot(index="replication", columns="point", values=outcome)
            scale = "linear" if outcome in SIGNED else "auto" if outcome in SHARES else "positive"
            row |= columns(wide[point], outcome, replications, scale)
            row |= columns(wide[point] - wide[0], f"{outcome}_gain", replications, "linear")
        rows.append(row)
    return pd.DataFrame(rows)


def expected_table(
    measures: pd.DataFrame, k_values: list[int], n_pool: int, replications: int
) -> pd.DataFrame:
    """Per trained arm and outcome of MARGINAL: the expected gain over no training and the
    expected gain per trained creator, each with its 95 % confidence interval over the draws
    (:func:`expected_over_draws`)."""
    rows = []
    for j, k in enumerate(k_values):
        effective = min(k, n_pool)
        if effective == 0:
            continue
        row: dict[str, Any] = {"arm": f"k={k}", "k_effective": effective}
        for outcome in MARGINAL:
            wide = measures.pivot(index="replication", columns="point", values=outcome)
            gain = wide[1 + j] - wide[0]
            row |= expected_over_draws(gain, f"{outcome}_gain", replications)
            row |= expected_over_draws(gain / effective, f"{outcome}_per_creator", replications)
        rows.append(row)
    return pd.DataFrame(rows)


def marginal_table(
    measures: pd.DataFrame, k_values: list[int], n_pool: int, replications: int
) -> pd.DataFrame:
    """Per outcome and step ``k_j → k_{j+1}`` (from the k=0 arm): marginal gain per extra
    creator (95 % predictive interval for a run, and its expected value with a 95 %
    confidence interval over the draws) and whether the step shows diminished returns (module
    docstring)."""
    effective = [min(k, n_pool) for k in k_values]
    rows = []
    for outcome in MARGINAL:
        wide = measures.pivot(index="replication", columns="point", values=outcome)
        draws = np.asarray(wide.index, dtype=int) // replications
        first = None
        for j in range(1, len(k_values)):
            extra = effective[j] - effective[j - 1]
            if extra <= 0:
                continue
            # points: 0 is no training, 1 + j is k_values[j]
            step = (wide[1 + j] - wide[j]) / extra
            if first is None:
                first = step
            per_draw = (first - 2 * step).groupby(draws).mean().to_numpy(float)
            t_mean, t_low, t_high = t_interval(per_draw)
            rows.append(
                {
                    "outcome": outcome,
                    "from_k": effective[j - 1],
                    "to_k": effective[j],
                    **columns(step, "marginal_per_creator", replications, "linear"),
                    **expected_over_draws(step, "expected_marginal", replications),
                    "first_minus_twice_this": t_mean,
                    "first_minus_twice_this_low": t_low,
                    "first_minus_twice_this_high": t_high,
                    "diminished": bool(j > 1 and t_low > 0),
                }
            )
    return pd.DataFrame(rows)


def local_pool(scenario: Scenario) -> int:
    """Local (non-head) selling creators of the county: the most that rule ``local`` can
    train.

    The city generator makes the same number whatever the seed.
    """
    from laotie.graph import CREATOR_KINDS, city

    graph = city(scenario.city, seed=SEED)
    return int((graph.creator_kind == CREATOR_KINDS.index("local")).sum())


def reference_k(k_values: list[int]) -> int:
    """The arm compared in the headlines: REFERENCE_K if the mode runs it, else the middle k."""
    trained = [k for k in k_values if k > 0]
    return REFERENCE_K if REFERENCE_K in trained else trained[len(trained) // 2]


# ---------------------------------------------------------------------------- audit
def audit_k() -> int:
    """Creators the audit trains: REFERENCE_K's share of the local creators, at the audit's
    scale."""
    full = settings(False)["scale"]
    return max(1, round(REFERENCE_K * AUDIT_DESIGN["scale"] / full))


def audit_outcomes(result: SweepResult, names: list[str]) -> pd.DataFrame:
    """The headline outcomes per audit sample (slot): relative gains from training."""
    summary = result.summary.merge(result.runs[["run", "point", "replication"]], on="run")
    outcomes = result.outcomes.merge(result.runs[["run", "point", "replication"]], on="run")

    def wide(frame: pd.DataFrame, value: str) -> pd.DataFrame:
        table = frame.pivot(index="replication", columns="point", values=value)
        table.columns = [names[p] for p in table.columns]
        return table

    trust = wide(summary[summary["channel"] == "trust"], "gmv")
    every = wide(summary[summary["channel"] == "all"], "gmv")
    income = wide(outcomes, "producer_income_total")
    trained, none = names[1], names[0]
    return pd.DataFrame(
        {
            f"trust-family GMV, {trained} / none − 1": trust[trained] / trust[none] - 1,
            f"GMV of all channels, {trained} / none − 1": every[trained] / every[none] - 1,
            f"producers' receipts, {trained} / none − 1": income[trained] / income[none] - 1,
        }
    )


def audit(quick: bool, out: Path, executor: Executor) -> Audit | None:
    """Run the audit's sweep under ``out`` (None in quick mode, which leaves it out)."""
    design = audit_settings(quick)
    if design is None:
        return None
    county = preset(SCENARIO)
    scaled = {
        "producers.n_producers": max(1, round(county.producers.n_producers * design["scale"])),
        "information.n_messages": 1,
        "training.rule": "local",
    }
    k = audit_k()
    none, trained = cases([k])
    return run_audit(
        SCENARIO,
        [("no training", {**scaled, **none}), (f"k={k}", {**scaled, **trained})],
        AUDIT_ASSUMED,
        audit_outcomes,
        design=design,
        seed=SEED,
        out=out,
        executor=executor,
        posterior=POSTERIOR,
        keys=TRANSFERRED,
    )


# ---------------------------------------------------------------------------- words
def _rmb(row: pd.Series, column: str) -> str:
    return describe_interval(row, column, "+,.0f")


def _rmb_zh(row: pd.Series, column: str) -> str:
    return describe_interval_zh(row, column, "+,.0f")


def _verdict(marginal: pd.DataFrame, outcome: str) -> tuple[str, str]:
    """Where the returns of ``outcome`` diminish, in English and Chinese."""
    mine = marginal[marginal["outcome"] == outcome]
    diminished = mine[mine["diminished"]]
    if not len(mine) or not mine.iloc[0]["expected_marginal_low"] > 0:
        return (
            f"the first step's expected gain ({mine.iloc[0]['from_k']}→{mine.iloc[0]['to_k']}) "
            "is too uncertain to be clearly positive, so the criterion finds no diminishing "
            "returns",
            f"第一步（{mine.iloc[0]['from_k']}→{mine.iloc[0]['to_k']}）的期望增益并不明确为正，"
            "按此标准谈不上收益递减",
        )
    if len(diminished):
        r = diminished.iloc[0]
        return (
            f"returns diminish from the step {r['from_k']}→{r['to_k']}",
            f"从 {r['from_k']}→{r['to_k']} 这一步起收益递减",
        )
    return (
        "no step is clearly below half of the first step's gain (no diminishing returns detected)",
        "没有哪一步明显低于第一步增益的一半（未发现收益递减）",
    )


def headlines(levels: pd.DataFrame, expected: pd.DataFrame, k: int) -> list[Headline]:
    rows = levels.set_index("arm")
    none, trained = rows.loc["no training"], rows.loc[f"k={k}"]
    mean = expected.set_index("arm").loc[f"k={k}"]
    basis = f"arm k={k} − arm no training, paired; the training's effects (training.*) assumed"
    return [
        Headline(
            "trust-family GMV without training (RMB)",
            describe_interval(none, "trust_gmv", ",.0f"),
            "predicted",
            "out of sample: the county is not calibrated; Mudanjiang's platform parameters "
            "carried over (an assumption)",
        ),
        Headline(
            f"trust-family GMV gained by training {k} local creators (RMB)",
            _rmb(trained, "trust_gmv_gain"),
            "counterfactual",
            basis,
        ),
        Headline(
            f"expected trust-family GMV gained per trained creator at k = {k} (RMB)",
            _rmb(mean, "trust_gmv_per_creator"),
            "counterfactual",
            basis + "; the mean over the posterior (confidence interval over the draws)",
        ),
        Headline(
            f"poor producers' receipts gained by training {k} local creators (RMB)",
            _rmb(trained, "producer_income_gain"),
            "counterfactual",
            basis,
        ),
        Headline(
            f"poor producers' net income change gained by training {k} (RMB)",
            _rmb(trained, "producer_net_gain"),
            "counterfactual",
            basis + "; producers' accounts assumed",
        ),
    ]


def answers(
    levels: pd.DataFrame, expected: pd.DataFrame, marginal: pd.DataFrame, k: int, days: int
) -> tuple[list[str], list[str]]:
    rows = levels.set_index("arm")
    none, trained = rows.loc["no training"], rows.loc[f"k={k}"]
    mean, top = expected.set_index("arm").loc[f"k={k}"], expected.iloc[-1]
    share = mean["trust_gmv_gain"] / none["trust_gmv"]
    top_share = top["trust_gmv_gain"] / none["trust_gmv"]
    trust, trust_zh = _verdict(marginal, "trust_gmv")
    income, income_zh = _verdict(marginal, "producer_income")
    english = [
        f"Training {k} local creators ({trained['pool_share']:.0%} of them) on day "
        f"{TRAINING_DAY} adds on average {_rmb(mean, 'trust_gmv_gain')} RMB of trust-family GMV "
        f"over {days} days ({share:+.1%} of the {none['trust_gmv']:,.0f} RMB sold without "
        f"training; one run's 95 % PI {trained['trust_gmv_gain_low']:+,.0f} to "
        f"{trained['trust_gmv_gain_high']:+,.0f}); training all {int(top['k_effective'])} adds "
        f"{_rmb(top, 'trust_gmv_gain')} RMB ({top_share:+.1%}).",
        f"Per trained creator that is {_rmb(mean, 'trust_gmv_per_creator')} RMB at k = {k} and "
        f"{_rmb(top, 'trust_gmv_per_creator')} RMB at k = {int(top['k_effective'])}: {trust}. "
        f"Training all of them changes poor producers' receipts by "
        f"{_rmb(top, 'producer_income_gain')} RMB ({income}); government notices are not "
        "touched.",
        "The training's effects and every county parameter are assumed, and the platform's "
        "behaviour is Mudanjiang's carried over: the audit below names what drives the gains.",
    ]
    chinese = [
        f"第 {TRAINING_DAY} 天培训 {k} 名本地达人（占本地达人的 {trained['pool_share']:.0%}），"
        f"{days} 天内信任渠道 GMV 平均增加{_rmb_zh(mean, 'trust_gmv_gain')} 元（未培训时为 "
        f"{none['trust_gmv']:,.0f} 元，变化 {share:+.1%}；单次运行的 95 % 预测区间为 "
        f"{trained['trust_gmv_gain_low']:+,.0f} 至 {trained['trust_gmv_gain_high']:+,.0f}）；"
        f"培训全部 {int(top['k_effective'])} 名则增加{_rmb_zh(top, 'trust_gmv_gain')} 元"
        f"（{top_share:+.1%}）。",
        f"折合每名受训达人：k = {k} 时{_rmb_zh(mean, 'trust_gmv_per_creator')} 元，k = "
        f"{int(top['k_effective'])} 时{_rmb_zh(top, 'trust_gmv_per_creator')} 元；{trust_zh}。"
        f"培训全部本地达人使贫困户线上收入变化{_rmb_zh(top, 'producer_income_gain')} 元"
        f"（{income_zh}）；政务通知的传播不受影响。",
        "培训效果和县里的参数是假设值，平台行为参数沿用牡丹江的校准结果：下方的审计指出驱动"
        "这些增益的参数。",
    ]
    return english, chinese


def findings(levels: pd.DataFrame, marginal: pd.DataFrame, n_pool: int) -> list[str]:
    out = []
    top = levels.iloc[-1]
    for outcome, words in (
        ("trust_gmv", "trust-family (local) GMV"),
        ("all_gmv", "GMV of all channels"),
        ("producer_income", "poor producers' total receipts"),
        ("producer_net", "poor producers' total net income change"),
    ):
        base = levels.iloc[0][outcome]
        relative = top[f"{outcome}_gain"] / abs(base) if base else np.nan
        out.append(
            f"Training {int(top['k_effective'])} local creators changes {words} by "
            f"{_rmb(top, f'{outcome}_gain')} RMB ({relative:+.1%} of no training's "
            f"{base:,.0f} RMB)."
        )
    share = top["producers_with_income_share_gain"]
    out.append(f"Share of producers with any receipts, all trained − none: {share:+.1%}.")
    coverage = levels["notice_coverage_gain"].abs().max()
    out.append(
        f"Information reach: the largest change in the notice's coverage across k is "
        f"{coverage:.3g} (the model gives creator training no path to government notices)."
    )
    for outcome in ("trust_gmv", "producer_income"):
        mine = marginal[marginal["outcome"] == outcome]
        steps = "; ".join(
            f"{r['from_k']}→{r['to_k']}: {r['expected_marginal']:+,.0f} "
            f"[{r['expected_marginal_low']:+,.0f}, {r['expected_marginal_high']:+,.0f}]"
            for _, r in mine.iterrows()
        )
        out.append(
            f"Expected marginal {outcome} per extra trained creator (RMB, 95 % CI over the "
            f"draws): {steps}; "
            f"{_verdict(marginal, outcome)[0]} (criterion in the method)."
        )
    if int(levels["k"].max()) > n_pool:
        out.append(f"Only {n_pool} local creators exist; larger k trains all of them.")
    return out


def method(quick: bool) -> str:
    mode = settings(quick)
    return f"""
One sweep of `poverty_county` (`experiments/creator_training.py`) at {mode["scale"]:.0%} of its
residents, with its poor producers scaled alike and one government notice on day 0,
{mode["days"]} days: no training and training k = {", ".join(map(str, mode["k"]))} local
creators on day {TRAINING_DAY}, each arm over the same {mode["draws"]} posterior draws of
`mudanjiang_calibrated`'s {len(TRANSFERRED)} platform-level parameters ×
{mode["replications"]} replications; slot *k* of every arm shares its draw, graph and random
streams, so gains and marginal gains are paired. Intervals are 95 % predictive intervals for
one new run (normal-theory, from a random-effects analysis over the draws, linear for gains;
`laotie.stats.decompose`); "from parameters" is the share of the runs' spread that comes from
the carried-over calibration's uncertainty. Expected gains (the `expected` table) are means
over the posterior with a 95 % confidence interval over the draws. A step shows diminishing
returns when the first step's expected marginal gain is clearly positive and this step's is
significantly below half of it: the 95 % t interval of the mean over draws of (first step −
2 × this step) lies above 0.

The audit (full mode only; `laotie audit creator_training` runs it alone):
{AUDIT_DESIGN["samples"]} samples at {AUDIT_DESIGN["scale"]:.0%} of the county for
{AUDIT_DESIGN["days"]} days, each a carried-over posterior draw joined with a Latin-hypercube
value of {len(AUDIT_ASSUMED)} assumed parameters of training and creators, the arms no training
and k = {audit_k()} (the same share of the local creators as k = {REFERENCE_K} in full mode)
once per sample; each headline outcome's first-order Sobol index to each parameter (SALib),
with a permutation null (`laotie.audit`).
"""


def run(*, quick: bool, out: Path, executor: Executor) -> Report:
    """Run the k-arms over the carried-over draws × replications, then the audit; tabulate
    and plot."""
    mode = settings(quick)
    scenario = base(mode["scale"])
    k_values: list[int] = mode["k"]
    replications = mode["replications"]
    result = run_sweep(make_sweep(quick), out / "sweep", executor=executor)
    measures = per_run(result, scenario.producers.n_producers)
    n_pool = local_pool(scenario)
    levels = levels_table(measures, k_values, n_pool, replications)
    expected = expected_table(measures, k_values, n_pool, replications)
    marginal = marginal_table(measures, k_values, n_pool, replications)
    k = reference_k(k_values)
    english, chinese = answers(levels, expected, marginal, k, mode["days"])
    tables = {"levels": levels, "expected": expected, "marginal": marginal}
    audited = audit(quick, out / "audit", executor)
    seconds = float(result.runs["seconds"].sum())
    if audited is not None:
        tables["audit_drivers"] = audited.drivers
        seconds += audited.seconds
    t = scenario.training
    failed = result.runs[result.runs["status"] != "ok"]
    return Report(
        name=NAME,
        question=QUESTION,
        tables=tables,
        figures=[_plot(levels, marginal, out / "figures")],
        findings=findings(levels, marginal, n_pool),
        assumptions=[
            f"Scenario {SCENARIO!r} at {mode['scale']:.0%} of its residents "
            f"({scenario.city.n_residents:,}, {scenario.producers.n_producers} poor producers, "
            f"{n_pool} local selling creators), {mode['days']} days, {mode['draws']} draws × "
            f"{replications} replications per arm, sweep seed {SEED}; at the county's full "
            "size the same shares of its local creators are about four times as many people.",
            f"Carried over, not calibrated on the county: every run takes a posterior draw of "
            f"{POSTERIOR}'s platform-level parameters ({', '.join(TRANSFERRED)}); the county "
            "keeps its own trust-graph shape and price levels. That the county's residents use "
            "the app as Mudanjiang's do is an assumption.",
            f"Training (assumed): on day {TRAINING_DAY}, k local creators drawn uniformly among "
            f"the {n_pool} local (non-head) selling creators (k is capped there: k_effective) "
            f"each gain authenticity +{t.authenticity_gain}, content quality "
            f"+{t.content_quality_gain} and up to {t.follower_gain} followers. The trained "
            "creators of a larger k are a superset of a smaller k's (the first k of one random "
            "order of the pool, docs/model.md 3.5), with the same new followers each.",
            "'Local GMV' is the GMV of the trust family (creators' posts, discovery, word of "
            "mouth); every seller of the county is local, but GMV by the seller's home region "
            "is not recorded.",
            "Information reach: creator training changes selling creators and their follow "
            "ties; government notices spread through government accounts and local and city "
            "ties (docs/model.md 3.5), so the model gives creator training no path to "
            "information reach.",
            *(
                [
                    f"{len(failed)} of {len(result.runs)} runs did not finish and are left out "
                    "(running the experiment again with the same folder retries them)."
                ]
                if len(failed)
                else []
            ),
        ],
        answer=english,
        answer_zh=chinese,
        headlines=headlines(levels, expected, k),
        method=method(quick),
        audit=None if audited is None else audited.verdicts,
        run_seconds=seconds,
    )


def _plot(levels: pd.DataFrame, marginal: pd.DataFrame, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    shown = {
        "trust_gmv": "trust-family GMV gain (RMB)",
        "producer_income": "producers' receipts gain (RMB)",
    }
    fig, axes = plt.subplots(2, len(shown), figsize=(10, 6.4))
    trained = levels.iloc[1:]
    for col, (outcome, title) in enumerate(shown.items()):
        ax = axes[0, col]
        y = trained[f"{outcome}_gain"].to_numpy()
        err = np.vstack(
            [y - trained[f"{outcome}_gain_low"].to_numpy(), trained[f"{outcome}_gain_high"] - y]
        )
        ax.errorbar(trained["k_effective"], y, yerr=err, marker="o", capsize=3)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_title(f"{title}\nvs no training (paired, 95 % PI)", fontsize=9)
        ax.set_xlabel("local creators trained (k)")
        ax = axes[1, col]
        mine = marginal[marginal["outcome"] == outcome]
        x = (mine["from_k"] + mine["to_k"]) / 2
        y = mine["marginal_per_creator"].to_numpy()
        err = np.vstack(
            [
                y - mine["marginal_per_creator_low"].to_numpy(),
                mine["marginal_per_creator_high"].to_numpy() - y,
            ]
        )
        ax.errorbar(x, y, yerr=err, marker="s", capsize=3, color="tab:orange")
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_title("marginal gain per extra trained creator (RMB, 95 % PI)", fontsize=9)
        ax.set_xlabel("middle of the step in k")
    fig.tight_layout()
    path = folder / f"{NAME}_returns.png"
    save_figure(fig, path)
    return path


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
