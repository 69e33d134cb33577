"""Targeted poverty alleviation (精准扶贫): who among poor producers gains, who loses, and how
much, on the poverty county with the platform's behaviour carried over from the calibrated
Mudanjiang scenario and its parameter uncertainty.

Poor producers (贫困户) of the ``poverty_county`` scenario sell one local specialty (土特产)
each, listed by creators (燎原计划), by storefronts, or by both (``producers.channel``). Which
creators list a specialty is ``producers.recruit`` (docs/model.md 3.4): ``local`` non-head
creators of the producer's region (the default), ``rural`` ones among them, the city's most
``followers`` (the same creators for every producer, heads included) or ``random`` selling
creators. The arms are the channels × the recruiting rules where the rule matters (it does not
under ``storefronts``: one arm there), without training. Each producer's accounts (收支,
docs/model.md 3.5) set its online receipts against the platform's fee, logistics per order and
the offline sales the platform displaced: the **net income change**, positive for a producer
who gains from selling online and negative for one who loses.

**Parameters carried over.** The county has no calibration of its own. Every run takes one
posterior draw of ``mudanjiang_calibrated`` for the parameters of how people use the platform,
which are the same app in the same province (:data:`TRANSFERRED`): the purchase logit
(``decision.*``), users' activity and purchase propensity (``population.activity_*``,
``population.propensity_dispersion``), return customers (``loyalty.*``), storefronts' traffic
(``storefronts.click_prob`` with ``storefronts.impressions_per_active``: they were fitted
together, to clicks and conversion per impression, and either alone would be meaningless) and
creators' entry (``creators.enter_prob``). Each draw keeps its joint values (the intercept and
the propensity dispersion, correlated −0.9 in the posterior, move together). Left at the
county's own assumed values: the shape of Mudanjiang's trust graph (``city.local_degree``,
``city.follower_exponent``, ``city.creator_share``: a prefecture city's kin ties, follower
tail and density of creators are not a rural county's) and its price levels
(``creators.price_mean``, ``storefronts.price_mean``: fitted to Mudanjiang's order values, while
the county has its own budgets and specialty prices). That this transfer holds is an
assumption, stated on the page; so are every county parameter (regions, ``producers.*``,
``training.*``, budgets, prices).

Every arm's replication slot ``k`` shares its draw, city graph, producers, specialties and
random streams (common random numbers), so the same producer, selling the same product, can be
followed from arm to arm. Intervals are 95 % predictive intervals over draws and chance, with
the share from the parameters. Per-producer gain and loss shares between arms hold noise as
well as effect: once two arms differ, their later draws (posts, exposures, purchases) are no
longer paired event by event. Reference arms measure it: training creators at random on day
30 against no training (a change whose mean effect is near zero), under ``creators`` and
``both`` with ``recruit = local``. Quick mode also runs a check arm (``storefronts``
recruiting by followers), identical by construction to ``storefronts`` recruiting locally; it
is tested, not tabulated.

Run ``python experiments/poverty_alleviation.py [--quick] [--out DIR] [--workers N] [--page
DIR]``.
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
from laotie.posterior import PLATFORM_KEYS, load_posterior
from laotie.sweep import Sweep, SweepResult

NAME = "poverty_alleviation"
QUESTION = (
    "How does poor producers' net income change (精准扶贫) when their specialties are sold "
    "online through creators, storefronts or both, and through creators recruited locally, "
    "among rural creators, by most followers or at random: who gains, who loses, and where?"
)
SEED = 20191126
SCENARIO = "poverty_county"
POSTERIOR = "mudanjiang_calibrated"
TRANSFERRED = list(PLATFORM_KEYS)
"""The platform-level parameters whose Mudanjiang posterior draws the county's runs carry
(the module docstring says why these and not the others)."""
DAYS = 120
CHANNELS = ["creators", "storefronts", "both"]
"""``producers.channel``'s allowed values (laotie/scenario.py, docs/model.md 3.4)."""
RECRUIT = ["local", "rural", "followers", "random"]
"""``producers.recruit``'s allowed values; ``local`` (the default) is the baseline."""
RECRUIT_CHANNELS = ["creators", "both"]
"""The channels in which creators list specialties, so that the recruiting rule matters."""
NO_RECRUIT = "—"
"""The recruit label of the storefronts arm: no creator lists a specialty, the rule is moot."""
REFERENCE_RULE = "random"
"""Reference arms: the scenario's training (on day 30) picking creators at random."""
ARMS: list[tuple[str, str, str]] = [
    *((c, r, "none") for c in CHANNELS for r in (RECRUIT if c in RECRUIT_CHANNELS else ["local"])),
    *((c, "local", REFERENCE_RULE) for c in RECRUIT_CHANNELS),
]
"""(channel, recruit, training) of every sweep point, in order."""
CHECK_ARMS: list[tuple[str, str, str]] = [("storefronts", "followers", "none")]
"""Quick mode only, after ARMS: the recruit rule cannot change a storefronts-only run."""
BASELINE = ("both", "local", "none")
"""The county's own setting: specialties through both channels, creators recruited locally."""
MEASURES = {
    "share_gaining": "share of producers whose net income rises (net change > 0)",
    "share_losing": "share of producers whose net income falls (net change < 0)",
    "net_mean": "mean net income change per producer over the run (RMB)",
    "net_p10": "10 % quantile of the net change across producers (RMB)",
    "net_p50": "median net change (RMB)",
    "net_p90": "90 % quantile of the net change (RMB)",
    "net_effect": "net change over offline income in the same days (T15's average effect)",
    "gain_top10_share": "share of all gains taken by the top 10 % of producers",
    "receipts_mean": "mean online receipts per producer (RMB)",
    "share_with_receipts": "share of producers with any online receipts",
    "buyers_mean": "mean buyers reached per producer (distinct users who ordered)",
    "receipts_per_order_gaining": "receipts per order of the producers who gain (RMB)",
    "receipts_per_order_losing": "receipts per order of the producers who lose (RMB)",
    "orders_gaining": "mean orders of the producers who gain",
    "orders_losing": "mean orders of the producers who lose",
}
CHANGES = {
    "share_gaining": "share of producers whose net income is higher in the first arm",
    "share_losing": "share of producers whose net income is lower in the first arm",
    "change_mean": "mean change per producer (RMB)",
    "change_p10": "10 % quantile of the per-producer change (RMB)",
    "change_p50": "median per-producer change (RMB)",
    "change_p90": "90 % quantile of the per-producer change (RMB)",
}
CONTRASTS = [("creators", "storefronts"), ("both", "storefronts"), ("both", "creators")]
"""Channel contrasts (to, base), all with ``recruit = local`` and no training."""
REGION_ARMS = [("creators", "local", "none"), ("storefronts", "local", "none"), BASELINE]
"""The arms whose producers the regions table follows, unit by unit."""

# The assumed parameters of the county the audit varies besides the carried-over draws.
AUDIT_ASSUMED: dict[str, list[float] | None] = {
    "producers.income_share": [0.15, 0.45],
    "producers.price_mean": [25.0, 60.0],
    "producers.cost_per_order": [3.0, 9.0],
    "producers.displacement": [0.0, 0.6],
    "producers.offline_income": [10.0, 30.0],
    "producers.platform_fee": [0.02, 0.1],
    "population.budget_mean": [400.0, 800.0],
    "city.creator_share": [0.005, 0.03],
}
AUDIT_ARMS = [BASELINE, ("storefronts", "local", "none")]


def settings(quick: bool) -> dict[str, Any]:
    """Scale, days, posterior draws and replications per draw of each mode."""
    if quick:
        return {"scale": 0.02, "days": 40, "draws": 2, "replications": 2}
    return {"scale": 0.25, "days": DAYS, "draws": 8, "replications": 2}


AUDIT_DESIGN = {"samples": 96, "scale": 0.1, "days": DAYS}
"""Samples, scale and days of the audit of full mode."""


def audit_settings(quick: bool) -> dict[str, Any] | None:
    """The audit's design (None: quick mode leaves it out)."""
    return None if quick else AUDIT_DESIGN


def producers_at(scale: float) -> dict[str, int]:
    """The county's poor producers at ``scale`` (:func:`per_resident`)."""
    return {"producers.n_producers": per_resident(scale)["producers.n_producers"]}


def per_resident(scale: float) -> dict[str, int]:
    """The county's producers and trained creators at ``scale`` (at least one each), so that
    a smaller county keeps its buyers per producer and its share of creators trained."""
    county = preset(SCENARIO)
    return {
        "producers.n_producers": max(1, round(county.producers.n_producers * scale)),
        "training.n_creators": max(1, round(county.training.n_creators * scale)),
    }


def base(scale: float) -> Scenario:
    """The county at ``scale``, with its producers and trained creators scaled alike."""
    return preset(SCENARIO, scale=scale, **per_resident(scale))


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


def case(scenario: Scenario, arm: tuple[str, str, str]) -> dict[str, Any]:
    """An arm's changes: channel, recruit rule, and no training or the reference training.

    Every case sets the same keys: a sweep fills a key missing from a case with NaN.
    """
    channel, recruit, training = arm
    t = scenario.training
    trained = training != "none"
    return {
        "producers.channel": channel,
        "producers.recruit": recruit,
        "training.day": t.day if trained else -1,
        "training.n_creators": t.n_creators if trained else 0,
        "training.rule": training if trained else t.rule,
    }


def cases(scenario: Scenario, quick: bool) -> list[dict[str, Any]]:
    """One case per arm of the mode (:func:`case`)."""
    return [case(scenario, arm) for arm in arms(quick)]


def transferred_draws(n: int) -> list[dict[str, Any]]:
    """``n`` posterior draws of Mudanjiang's platform-level parameters (:data:`TRANSFERRED`)."""
    return load_posterior(POSTERIOR).draws(n, seed=SEED, keys=TRANSFERRED)


def make_sweep(quick: bool) -> Sweep:
    """All arms as cases over the carried-over draws × replications, common random numbers."""
    mode = settings(quick)
    scenario = base(mode["scale"])
    return Sweep(
        scenario,
        cases=cases(scenario, quick),
        replications=mode["replications"],
        days=mode["days"],
        seed=SEED,
        draws=transferred_draws(mode["draws"]),
    )


# ---------------------------------------------------------------------------- measures
def producer_measures(producers: pd.DataFrame) -> dict[str, float]:
    """One run's producers (``Result.producers``) as the measures of MEASURES that the run's
    outcomes do not hold (:data:`FROM_OUTCOMES` does)."""
    net = producers["net"].to_numpy(float)
    receipts = producers["revenue"].to_numpy(float)
    orders = producers["orders"].to_numpy(float)

    def per_order(mask: np.ndarray) -> float:
        return float(receipts[mask].sum() / orders[mask].sum()) if orders[mask].sum() else np.nan

    return {
        "share_gaining": float((net > 0).mean()),
        "share_losing": float((net < 0).mean()),
        "net_mean": float(net.mean()),
        "net_p10": float(np.quantile(net, 0.1)),
        "net_p50": float(np.quantile(net, 0.5)),
        "net_p90": float(np.quantile(net, 0.9)),
        "receipts_mean": float(receipts.mean()),
        "share_with_receipts": float((receipts > 0).mean()),
        "buyers_mean": float(producers["buyers"].mean()),
        "receipts_per_order_gaining": per_order(net > 0),
        "receipts_per_order_losing": per_order(net < 0),
        "orders_gaining": float(orders[net > 0].mean()) if (net > 0).any() else np.nan,
        "orders_losing": float(orders[net < 0].mean()) if (net < 0).any() else np.nan,
    }


FROM_OUTCOMES = {
    "net_effect": "producer_net_effect",
    "gain_top10_share": "producer_gain_top10_share",
}
"""Measures of MEASURES read from the run's outcomes (docs/model.md 3.6), by outcome."""


def change_measures(change: np.ndarray) -> dict[str, float]:
    """One slot's per-producer changes (RMB) as the measures of CHANGES."""
    return {
        "share_gaining": float((change > 0).mean()),
        "share_losing": float((change < 0).mean()),
        "change_mean": float(change.mean()),
        "change_p10": float(np.quantile(change, 0.1)),
        "change_p50": float(np.quantile(change, 0.5)),
        "change_p90": float(np.quantile(change, 0.9)),
    }


def producer_table(result: SweepResult) -> pd.DataFrame:
    """Every finished run's producers (``SweepResult.producers``) with the run's ``arm`` (as
    (channel, recruit, training)) and replication ``slot``."""
    runs = result.runs.set_index("run")
    producers = result.producers()
    if not len(producers):
        raise LaotieError(f"no run of the sweep under {result.out} finished")
    return producers.assign(
        arm=producers["run"].map(runs["point"]).map(arm_of),
        slot=producers["run"].map(runs["replication"]),
    )


def per_run(result: SweepResult, producers: pd.DataFrame) -> pd.DataFrame:
    """One row of MEASURES per run, with its arm and slot."""
    outcomes = result.outcomes.set_index("run")
    rows = [
        {
            "arm": arm,
            "slot": slot,
            **producer_measures(group),
            **{m: outcomes.at[group["run"].iloc[0], o] for m, o in FROM_OUTCOMES.items()},
        }
        for (arm, slot), group in producers.groupby(["arm", "slot"], sort=False)
    ]
    return pd.DataFrame(rows)


SIGNED = {"net_mean", "net_p10", "net_p50", "net_p90", "net_effect", *CHANGES} - {
    "share_gaining",
    "share_losing",
}
"""Measures whose sign is not known in advance (net changes and differences): their
intervals are linear."""
POSITIVE = {
    "receipts_mean",
    "buyers_mean",
    "receipts_per_order_gaining",
    "receipts_per_order_losing",
    "orders_gaining",
    "orders_losing",
}
"""Positive measures that are not shares (money, counts): intervals on their logarithm, even
when their values happen to lie in (0, 1)."""


def columns(values: pd.Series, name: str, replications: int) -> dict[str, float]:
    """Values of measure ``name`` indexed by replication slot, over draws × replications, as
    table columns (a linear interval for the measures of SIGNED, a positive one for those of
    POSITIVE; shares get the logit's)."""
    draws = np.asarray(values.index, dtype=int) // replications
    scale = "linear" if name in SIGNED else "positive" if name in POSITIVE else "auto"
    return uncertainty_columns(values.to_numpy(float), draws, name, scale)


def distribution_table(measures: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Per arm of ARMS: each measure over draws × replications (95 % predictive interval)."""
    rows = []
    for arm in ARMS:
        mine = measures[measures["arm"] == arm].set_index("slot")
        channel, recruit, training = label(arm)
        row: dict[str, Any] = {"channel": channel, "recruit": recruit, "training": training}
        for measure in MEASURES:
            row |= columns(mine[measure], measure, replications)
        rows.append(row)
    return pd.DataFrame(rows)


def net_by_producer(producers: pd.DataFrame, arm: tuple[str, str, str]) -> pd.DataFrame:
    """Slot × producer: the net change of every producer in one arm."""
    mine = producers[producers["arm"] == arm]
    return mine.pivot(index="slot", columns="producer", values="net")


def change_table(
    producers: pd.DataFrame,
    to: tuple[str, str, str],
    base: tuple[str, str, str],
    replications: int,
) -> dict[str, float]:
    """The CHANGES of each producer's net income from arm ``base`` to arm ``to``, per slot,
    over draws × replications.

    Under common random numbers slot ``k`` of every arm has the same producers (the same
    residents) in the same order, selling the same specialties (price and quality); ``both``
    lists each specialty with exactly the creators of ``creators`` (same recruit rule) and the
    storefronts of ``storefronts`` (docs/model.md 3.4). Once two arms differ, though, their
    later draws are no longer paired event by event, so a producer's change also holds noise:
    the reference contrasts show how much.
    """
    change = net_by_producer(producers, to) - net_by_producer(producers, base)
    per_slot = pd.DataFrame(
        [change_measures(row.to_numpy(float)) for _, row in change.iterrows()], index=change.index
    )
    out: dict[str, Any] = {}
    for measure in CHANGES:
        out |= columns(per_slot[measure], measure, replications)
    return out


def who_gains_table(producers: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Producer by producer: channel contrasts (recruit local, no training), recruiting rules
    against local, and the references (training at random against none, recruit local)."""
    contrasts = [
        ("channel", f"{to} − {base}", (to, "local", "none"), (base, "local", "none"))
        for to, base in CONTRASTS
    ]
    contrasts += [
        ("recruiting", f"{c}: {rule} − local", (c, rule, "none"), (c, "local", "none"))
        for c in RECRUIT_CHANNELS
        for rule in RECRUIT[1:]
    ]
    contrasts += [
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
        row: dict[str, Any] = {"kind": kind, "contrast": name}
        row |= change_table(producers, to, base, replications)
        rows.append(row)
    return pd.DataFrame(rows)


def region_table(producers: pd.DataFrame, replications: int, units: list[str]) -> pd.DataFrame:
    """Per county-level unit (in the order of ``units``) and arm of REGION_ARMS: its producers
    (mean over slots), their share gaining, mean net change and mean receipts, over draws ×
    replications (a slot without producers in the unit is left out of the last three)."""
    slots = sorted(producers["slot"].unique())
    rows = []
    for region in units:
        in_region = producers[producers["region"] == region]
        if not len(in_region):
            continue
        for arm in REGION_ARMS:
            mine = in_region[in_region["arm"] == arm]
            by_slot = mine.groupby("slot")
            channel, recruit, _ = label(arm)
            row: dict[str, Any] = {
                "region": region,
                "channel": channel,
                "recruit": recruit,
                "producers": float(by_slot.size().reindex(slots, fill_value=0).mean()),
            }
            row |= columns(
                by_slot["net"].apply(lambda n: (n > 0).mean()), "share_gaining", replications
            )
            row |= columns(by_slot["net"].mean(), "net_mean", replications)
            row |= columns(by_slot["revenue"].mean(), "receipts_mean", replications)
            rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- audit
def audit_outcomes(result: SweepResult, names: list[str]) -> pd.DataFrame:
    """The headline outcomes per audit sample (slot)."""
    runs = result.runs.set_index("run")
    producers = result.producers()
    producers = producers.assign(
        arm=producers["run"].map(runs["point"]).map(dict(enumerate(names))),
        slot=producers["run"].map(runs["replication"]),
    )
    by = producers.groupby(["slot", "arm"])["net"]
    gaining = by.apply(lambda n: (n > 0).mean()).unstack()
    mean = by.mean().unstack()
    both, storefronts = (" / ".join(arm) for arm in AUDIT_ARMS)
    return pd.DataFrame(
        {
            "producers gaining, both channels": gaining[both],
            "mean net change per producer, both channels": mean[both],
            "mean net change, both − storefronts only": mean[both] - mean[storefronts],
        }
    )


def audit(quick: bool, out: Path, executor: Executor) -> Audit | None:
    """Run the audit's sweep under ``out`` (None in quick mode, which leaves it out)."""
    design = audit_settings(quick)
    if design is None:
        return None
    scenario = base(design["scale"])
    return run_audit(
        SCENARIO,
        [
            (" / ".join(arm), {**case(scenario, arm), **producers_at(design["scale"])})
            for arm in AUDIT_ARMS
        ],
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
ASSUMED_BASIS = (
    "out of sample (no target; T15: about zero on average, uneven); rests on the county's "
    "assumed producers.* and on Mudanjiang's platform parameters carried over (an assumption)"
)


def _row(distribution: pd.DataFrame, arm: tuple[str, str, str]) -> pd.Series:
    rows = distribution.set_index(["channel", "recruit", "training"])
    return rows.loc[label(arm)]


def _rmb(row: pd.Series, column: str) -> str:
    return describe_interval(row, column, "+,.0f")


def _rmb_zh(row: pd.Series, column: str) -> str:
    return describe_interval_zh(row, column, "+,.0f")


def _pct(row: pd.Series, column: str) -> str:
    return describe_interval(row, column, ".0%")


def _pct_zh(row: pd.Series, column: str) -> str:
    return describe_interval_zh(row, column, ".0%")


def headlines(distribution: pd.DataFrame, who: pd.DataFrame, days: int) -> list[Headline]:
    b = _row(distribution, BASELINE)
    contrasts = who.set_index("contrast")
    return [
        Headline(
            "share of poor producers whose net income rises, both channels, creators local",
            _pct(b, "share_gaining"),
            "predicted",
            ASSUMED_BASIS,
        ),
        Headline(
            "share whose net income falls, same arm",
            _pct(b, "share_losing"),
            "predicted",
            ASSUMED_BASIS,
        ),
        Headline(
            f"mean net income change per producer over {days} days (RMB), same arm",
            _rmb(b, "net_mean"),
            "predicted",
            ASSUMED_BASIS,
        ),
        Headline(
            f"online receipts per producer over {days} days (RMB), same arm",
            describe_interval(b, "receipts_mean", ",.0f"),
            "predicted",
            ASSUMED_BASIS,
        ),
        Headline(
            "net change over offline income in the same days (T15's average effect)",
            describe_interval(b, "net_effect", "+.1%"),
            "predicted",
            "out of sample: T15 (about zero in a randomised trial) was not fitted",
        ),
        Headline(
            "mean net change per producer, creators only − storefronts only (RMB)",
            _rmb(contrasts.loc["creators − storefronts"], "change_mean"),
            "counterfactual",
            "arm creators − arm storefronts, paired, recruit local",
        ),
        Headline(
            "mean net change per producer, both channels − creators only (RMB)",
            _rmb(contrasts.loc["both − creators"], "change_mean"),
            "counterfactual",
            "arm both − arm creators, paired, recruit local",
        ),
    ]


def _extreme_regions(regions: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    mine = regions[(regions["channel"] == BASELINE[0]) & (regions["recruit"] == BASELINE[1])]
    return mine.loc[mine["net_mean"].idxmax()], mine.loc[mine["net_mean"].idxmin()]


def answers(
    distribution: pd.DataFrame,
    regions: pd.DataFrame,
    scenario: Scenario,
    days: int,
    audited: Audit | None = None,
) -> tuple[list[str], list[str]]:
    b = _row(distribution, BASELINE)
    creators = _row(distribution, ("creators", "local", "none"))
    storefronts = _row(distribution, ("storefronts", "local", "none"))
    high, low = _extreme_regions(regions)
    cost = scenario.producers.cost_per_order
    zh = {r.name: r.name_zh or r.name for r in scenario.city.regions}
    overlap = (
        (", intervals overlapping", "，区间相互重叠")
        if high["net_mean_low"] < low["net_mean_high"]
        else ("", "")
    )
    drivers = _drivers(audited)
    english = [
        f"Selling online through creators and storefronts, {_pct(b, 'share_gaining')} of poor "
        f"producers end {days} days with more net income than offline alone and "
        f"{_pct(b, 'share_losing')} with less; the mean change is {_rmb(b, 'net_mean')} RMB per "
        f"producer, {b['net_effect']:+.1%} of their offline income (T15: about zero, uneven).",
        f"Who: the producers who lose receive {b['receipts_per_order_losing']:.1f} RMB per order "
        f"against {b['receipts_per_order_gaining']:.1f} RMB for those who gain (shipping costs "
        f"{cost:g} RMB an order); by unit, the mean net change runs from "
        f"{high['net_mean']:+,.0f} RMB ({high['region']}) to {low['net_mean']:+,.0f} RMB "
        f"({low['region']}){overlap[0]}; through creators only it is "
        f"{_rmb(creators, 'net_mean')} RMB, through storefronts only "
        f"{_rmb(storefronts, 'net_mean')} RMB.",
        f"With the county's own parameters fixed, {b['net_mean_from_parameters']:.0%} of the "
        "spread of the mean net change comes from Mudanjiang's platform parameters, carried "
        "over; those county parameters (producers' costs and prices, regions, budgets) are "
        f"assumed too, and {drivers[0]}.",
    ]
    chinese = [
        f"通过达人和店铺同时线上销售，{days} 天后{_pct_zh(b, 'share_gaining')}的贫困户净收入"
        f"高于只在线下销售，{_pct_zh(b, 'share_losing')}更低；每户平均净变化"
        f"{_rmb_zh(b, 'net_mean')} 元，相当于线下收入的 {b['net_effect']:+.1%}"
        "（T15：平均约为零，分布不均）。",
        f"谁受益：亏损户每单到手 {b['receipts_per_order_losing']:.1f} 元，受益户为 "
        f"{b['receipts_per_order_gaining']:.1f} 元（每单物流 {cost:g} 元）；"
        f"各地区的平均净变化从 {high['net_mean']:+,.0f} 元（{zh[high['region']]}）到 "
        f"{low['net_mean']:+,.0f} 元（{zh[low['region']]}）{overlap[1]}；只经达人销售时为 "
        f"{_rmb_zh(creators, 'net_mean')} 元，只经店铺时为 {_rmb_zh(storefronts, 'net_mean')} 元。",
        f"在县里参数固定时，平均净变化离散度的 {b['net_mean_from_parameters']:.0%} 来自沿用的"
        f"牡丹江平台参数；县里的参数（生产者的成本与价格、地区、预算）同样是假设值，{drivers[1]}。",
    ]
    return english, chinese


def _drivers(audited: Audit | None) -> tuple[str, str]:
    """What the audit found, in a clause: the assumed parameters that drive the headlines."""
    if audited is None:
        return (
            "the full mode's audit names what drives each number",
            "完整模式的审计指出驱动每个数字的参数",
        )
    driven = audited.verdicts[audited.verdicts["verdict"].str.startswith("driven by assumed")]
    if not len(driven):
        return (
            "the audit finds no assumed parameter that drives a headline alone",
            "审计未发现单独驱动某个主要数字的假设参数",
        )
    names = sorted(set(driven["driver"]))
    return (
        f"the audit finds {len(driven)} of {len(audited.verdicts)} headline outcomes driven by "
        f"the assumed {', '.join(names)}: a result of that assumption, not a finding",
        f"审计发现 {len(audited.verdicts)} 个主要结果中有 {len(driven)} 个由假设参数 "
        f"{'、'.join(names)} 驱动：这是该假设的结果，而非发现",
    )


def _verdict(row: pd.Series, column: str) -> str:
    low, high = row[f"{column}_low"], row[f"{column}_high"]
    return "higher" if low > 0 else "lower" if high < 0 else "not distinguishable"


def findings(
    distribution: pd.DataFrame, who: pd.DataFrame, regions: pd.DataFrame, scenario: Scenario
) -> list[str]:
    p = scenario.producers
    b = _row(distribution, BASELINE)
    even = p.cost_per_order / (1 - p.platform_fee)
    out = [
        f"Who loses: an order leaves a producer with less than it costs when its receipts per "
        f"order, less the platform's fee, fall short of the {p.cost_per_order:g} RMB of "
        f"logistics: below {even:.1f} RMB of receipts, a specialty priced under about "
        f"{even / p.income_share:.0f} RMB at the producers' {p.income_share:.0%} share. The "
        f"producers who lose receive {b['receipts_per_order_losing']:.1f} RMB per order and "
        f"sell {b['orders_losing']:.0f} orders each, those who gain "
        f"{b['receipts_per_order_gaining']:.1f} RMB and {b['orders_gaining']:.0f} orders (both "
        "channels): a cheap specialty sells often to price-comparing storefront shoppers and "
        "loses on every order, and nobody stops selling in the model."
    ]
    for arm in [("creators", "local", "none"), ("storefronts", "local", "none"), BASELINE]:
        r = _row(distribution, arm)
        out.append(
            f"Through {arm[0]}: {_pct(r, 'share_gaining')} of producers gain and "
            f"{_pct(r, 'share_losing')} lose; net change per producer: mean "
            f"{_rmb(r, 'net_mean')} RMB, median {_rmb(r, 'net_p50')}, 10th and 90th "
            f"percentiles {r['net_p10']:+,.0f} and {r['net_p90']:+,.0f} RMB; receipts "
            f"{describe_interval(r, 'receipts_mean', ',.0f')} RMB per producer from "
            f"{r['buyers_mean']:.1f} buyers on average; the top 10 % take "
            f"{r['gain_top10_share']:.0%} of all gains."
        )
    creators = _row(distribution, ("creators", "local", "none"))
    storefronts = _row(distribution, ("storefronts", "local", "none"))
    out.append(
        f"Storefronts carry the sales: a producer receives "
        f"{describe_interval(storefronts, 'receipts_mean', ',.0f')} RMB from "
        f"{storefronts['buyers_mean']:.0f} buyers through storefronts alone and "
        f"{describe_interval(creators, 'receipts_mean', ',.0f')} RMB from "
        f"{creators['buyers_mean']:.0f} buyers through its local creators alone (storefront "
        "traffic is Mudanjiang's, carried over: see the assumptions)."
    )
    for _, r in who.iterrows():
        if r["kind"] == "reference":
            continue
        out.append(
            f"Producer by producer, {r['contrast']}: mean change {_rmb(r, 'change_mean')} RMB "
            f"({_verdict(r, 'change_mean')}); {r['share_gaining']:.0%} of producers gain and "
            f"{r['share_losing']:.0%} lose; 10th and 90th percentiles of the change "
            f"{r['change_p10']:+,.0f} and {r['change_p90']:+,.0f} RMB."
        )
    parts = [
        f"{r['contrast'].split(':')[0]}: {r['share_gaining']:.0%} gain, {r['share_losing']:.0%} "
        f"lose, mean change {_rmb(r, 'change_mean')} RMB"
        for _, r in who[who["kind"] == "reference"].iterrows()
    ]
    out.append(
        "Reference for per-producer shares: training creators at random against no training, a "
        "change with a mean effect near zero, already makes producers gain and lose (once two "
        "arms differ their later draws are not paired event by event): " + "; ".join(parts) + "."
    )
    mine = regions[(regions["channel"] == BASELINE[0]) & (regions["recruit"] == BASELINE[1])]
    out.append(
        "By county-level unit, both channels: "
        + "; ".join(
            f"{r['region']} ({r['producers']:.0f} producers) {r['share_gaining']:.0%} gain, mean "
            f"{_rmb(r, 'net_mean')} RMB"
            for _, r in mine.iterrows()
        )
        + "."
    )
    return out


def method(quick: bool) -> str:
    mode = settings(quick)
    county = preset(SCENARIO)
    scaled = per_resident(mode["scale"])
    n = scaled["training.n_creators"]
    trained = f"{n} creator{'s' if n != 1 else ''}"
    text = f"""
One sweep of `poverty_county` (`experiments/poverty_alleviation.py`) at {mode["scale"]:.0%} of
its residents, with {scaled["producers.n_producers"]} of its {county.producers.n_producers}
poor producers (buyers per producer as in the scenario), {mode["days"]} days: {len(ARMS)} arms
(channel × recruiting rule where it matters, and two reference arms training
{trained} at random on day {county.training.day}), each over the
same {mode["draws"]} posterior draws of `mudanjiang_calibrated`'s {len(TRANSFERRED)}
platform-level parameters × {mode["replications"]} replications; slot *k* of every arm shares
its draw, graph, producers, specialties and random streams, so differences are paired and
producers can be followed one by one. Per run, from each producer's accounts
(`SweepResult.producers`, docs/model.md 3.5): shares gaining and losing, quantiles of the net
change, T15's average effect, receipts and buyers; between arms, the distribution of each
producer's change. Intervals are 95 % predictive intervals for one new run (normal-theory,
from a random-effects analysis over the draws; `laotie.stats.decompose`); "from parameters" is
the share of the runs' spread that comes from the carried-over calibration's uncertainty.
"""
    design = AUDIT_DESIGN
    text += f"""
The audit (full mode only; `laotie audit poverty_alleviation` runs it alone): {design["samples"]}
samples at {design["scale"]:.0%} of the county for {design["days"]} days, each a carried-over
posterior draw joined with a Latin-hypercube value of {len(AUDIT_ASSUMED)} assumed county
parameters, the arms both channels and storefronts only once per sample; each headline
outcome's first-order Sobol index to each parameter (SALib), with a permutation null
(`laotie.audit`).
"""
    return text


def run(*, quick: bool, out: Path, executor: Executor) -> Report:
    """Run every arm over the carried-over draws × replications, then the audit; tabulate
    and plot."""
    mode = settings(quick)
    replications = mode["replications"]
    result = run_sweep(make_sweep(quick), out / "sweep", executor=executor)
    producers = producer_table(result)
    measures = per_run(result, producers)
    distribution = distribution_table(measures, replications)
    who = who_gains_table(producers, replications)
    scenario = base(mode["scale"])
    regions = region_table(producers, replications, [r.name for r in scenario.city.regions])
    p, t = scenario.producers, scenario.training
    draws = pd.DataFrame(result.sweep.draws)
    shown = draws["storefronts.impressions_per_active"]
    traffic = (shown.min(), shown.max())
    clicked = shown * draws["storefronts.click_prob"]
    clicks = (clicked.min(), clicked.max())
    figures = [
        _plot_distribution(producers, mode["days"], out / "figures"),
        _plot_regions(regions, out / "figures"),
    ]
    tables = {"distribution": distribution, "who_gains": who, "regions": regions}
    audited = audit(quick, out / "audit", executor)
    english, chinese = answers(distribution, regions, scenario, mode["days"], audited)
    seconds = float(result.runs["seconds"].sum())
    if audited is not None:
        tables["audit_drivers"] = audited.drivers
        seconds += audited.seconds
    return Report(
        name=NAME,
        question=QUESTION,
        tables=tables,
        figures=figures,
        findings=findings(distribution, who, regions, scenario),
        assumptions=[
            f"Scenario {SCENARIO!r} at {mode['scale']:.0%} of its residents "
            f"({scenario.city.n_residents:,} in {len(scenario.city.regions)} units, all assumed), "
            f"{p.n_producers} poor producers drawn among rural residents, {p.listings} sellers "
            f"listing each specialty, {mode['days']} days, {mode['draws']} draws × "
            f"{replications} replications per arm, sweep seed {SEED}.",
            f"Carried over, not calibrated on the county: every run takes a posterior draw of "
            f"{POSTERIOR}'s platform-level parameters ({', '.join(TRANSFERRED)}). That people "
            "in a poor rural county use the app as Mudanjiang's residents do is an assumption "
            f"(storefronts show an active user {traffic[0]:.0f} to {traffic[1]:.0f} impressions "
            f"a day across the draws, {clicks[0]:.1f} to {clicks[1]:.1f} of them clicked); "
            "Mudanjiang's trust-graph shape (city.local_degree, follower_exponent, "
            "creator_share) and price levels (creators.price_mean, storefronts.price_mean) stay "
            "at the county's assumed values.",
            f"Producers' accounts (assumed): producers receive {p.income_share:.0%} of each "
            f"sale, specialties cost {p.price_mean:g} RMB on average, the platform takes "
            f"{p.platform_fee:.0%} of receipts, logistics cost {p.cost_per_order:g} RMB an "
            f"order, {p.displacement:.0%} of receipts displace offline sales (up to an offline "
            f"income of {p.offline_income:g} RMB a day on average), fixed cost "
            f"{p.fixed_cost:g} RMB a day. A producer gains when its net change is above 0. "
            "The public targets cannot decide these: calibrated against T15 (the one target "
            "for a single county), the cost per order, income share, displacement and offline "
            "income each keep most of their prior range (docs/calibration.md, the poverty "
            "county's record).",
            "Recruiting (producers.recruit, docs/model.md 3.4): 'local' picks each specialty's "
            "creators uniformly among the non-head creators of the producer's region, 'rural' "
            "among those of them living in rural areas, 'random' among all selling creators "
            "of the county; 'followers' gives every specialty the same most-followed creators "
            "(heads included). Under 'storefronts' no creator lists a specialty, so the rule "
            "cannot matter and that channel has one arm.",
            f"No arm trains creators except the references: {t.n_creators} "
            f"creator{'s' if t.n_creators != 1 else ''} picked at "
            f"{REFERENCE_RULE} trained on day {t.day} (authenticity +{t.authenticity_gain}, "
            f"content quality +{t.content_quality_gain}, up to {t.follower_gain} new followers "
            "each) against no training. Mean changes are clean paired differences; shares of "
            "producers gaining and losing between arms also hold noise, which the references "
            "measure.",
            "Receipts per order of those who gain and lose pool the orders of each group in a "
            "run. Regions are the producers' home units; storefronts belong to no unit.",
            *unfinished_note(result),
        ],
        answer=english,
        answer_zh=chinese,
        headlines=headlines(distribution, who, mode["days"]),
        method=method(quick),
        audit=None if audited is None else audited.verdicts,
        run_seconds=seconds,
    )


def _sorted_curves(producers: pd.DataFrame, arm: tuple[str, str, str]) -> np.ndarray:
    """Slot × rank: each slot's per-producer net changes, sorted."""
    return np.sort(net_by_producer(producers, arm).to_numpy(float), axis=1)


def _plot_distribution(producers: pd.DataFrame, days: int, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.0), sharey=True)
    for ax, shown in zip(
        axes,
        ([(c, "local", "none") for c in CHANNELS], [("both", r, "none") for r in RECRUIT]),
        strict=True,
    ):
        for arm in shown:
            curves = _sorted_curves(producers, arm)
            rank = (np.arange(curves.shape[1]) + 0.5) / curves.shape[1]
            name = arm[0] if shown[0][1] == shown[1][1] else f"recruit {arm[1]}"
            ax.plot(rank, curves.mean(axis=0), label=name)
            low, high = np.quantile(curves, [0.025, 0.975], axis=0)
            ax.fill_between(rank, low, high, alpha=0.15)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xlabel("producers, lowest to highest net change (share)")
        ax.legend(fontsize=8)
    axes[0].set_title("by channel (creators recruited locally)", fontsize=9)
    axes[1].set_title("both channels, by recruiting rule", fontsize=9)
    axes[0].set_ylabel(f"net income change over {days} days (RMB)")
    fig.suptitle(
        "Per-producer net income change (mean over draws × replications; band: central 95 % "
        "of runs)",
        fontsize=10,
    )
    fig.tight_layout()
    path = folder / f"{NAME}_distribution.png"
    save_figure(fig, path)
    return path


def _plot_regions(regions: pd.DataFrame, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(regions["region"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    width = 0.8 / len(REGION_ARMS)
    x = np.arange(len(names))
    for ax, measure, title in (
        (axes[0], "net_mean", "mean net change per producer (RMB)"),
        (axes[1], "share_gaining", "share of producers who gain"),
    ):
        for i, arm in enumerate(REGION_ARMS):
            channel, recruit, _ = label(arm)
            mine = regions[(regions["channel"] == channel) & (regions["recruit"] == recruit)]
            mine = mine.set_index("region").loc[names]
            y = mine[measure].to_numpy()
            err = np.vstack([y - mine[f"{measure}_low"], mine[f"{measure}_high"] - y])
            ax.bar(x + (i - 1) * width, y, width, yerr=err, capsize=2, label=channel)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xticks(x, names, rotation=20, ha="right")
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=8, title="channel")
    fig.suptitle(
        "Poor producers by county-level unit (mean, 95 % predictive interval)", fontsize=10
    )
    fig.tight_layout()
    path = folder / f"{NAME}_regions.png"
    save_figure(fig, path)
    return path


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
