"""A trust shock (质量事件): a widely sold product turns out bad on day t, on the calibrated
Mudanjiang scenario with its parameter uncertainty.

The creator whose listing sold most before day ``t`` sees that product's true quality fall to
``shock.quality`` for ``shock.days`` days (docs/model.md 3.5, the shock); the promise does not
change, so buyers are disappointed and their trust falls fast, then is rebuilt slowly. Arms:
low and high creator authenticity (``creators.authenticity_mean``), each with and without the
shock. Disappointed buyers warn the people who trust them (negative word of mouth,
``word_of_mouth.warn_prob``, an assumed value). Every arm runs over posterior draws of
``mudanjiang_calibrated`` × replications; replication slot ``k`` of every arm shares its draw,
graph and random streams (common random numbers), and a shocked run is identical to its
unshocked twin until day ``t``, so the shock's effect is a paired difference, day by day.
Intervals are 95 % predictive intervals over draws and chance, with the share from the
parameters (:func:`laotie.stats.decompose`).

What is measured: the channel metrics of the daily table (through the sweep) and, for the
shocked creator, per day: the mean trust of its followers who have bought through it (follow
ties with a purchase memory), its orders and GMV. The creator-level series is read from the
engine's state by a probe that reruns each stored run with the same seeds (the sweep does not
keep per-creator daily state).

Run ``python experiments/trust_shock.py [--quick] [--out DIR] [--workers N]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laotie._io import atomic_write
from laotie.audit import Audit, probe_key, run_probe_audit
from laotie.experiment import (
    Headline,
    Report,
    expected_columns,
    preset,
    run_sweep,
    save_figure,
    uncertainty_columns,
)
from laotie.experiment import describe_interval as _ci
from laotie.experiment import describe_interval_zh as _zh
from laotie.posterior import load_posterior
from laotie.scenario import Scenario
from laotie.sweep import Sweep, SweepResult

NAME = "trust_shock"
QUESTION = (
    "When a widely sold creator product turns out bad on day t, how far do its buyers' trust, "
    "the creator's sales and the channels' GMV fall, how fast do they recover after the "
    "product is fixed, and does a creator's authenticity (真实) protect them?"
)

SEED = 20261126
SCENARIO = "mudanjiang_calibrated"
AUTHENTICITY = (0.5, 0.9)
QUALITY = 0.1
WARN_PROB = 0.05  # as likely as a recommendation (word_of_mouth.prob's default): assumed


def settings(quick: bool) -> dict[str, Any]:
    """Quick mode checks the machinery on a small city (too few orders to measure the shock);
    full mode runs 2 % of Mudanjiang (51 k residents), where the shocked creator sells a few
    orders a day, for 60 days after the fix."""
    if quick:
        return {
            "scale": 0.004,
            "draws": 2,
            "replications": 1,
            "day": 10,
            "bad_days": 5,
            "after": 10,
        }
    return {
        "scale": 0.02,
        "draws": 4,
        "replications": 2,
        "day": 30,
        "bad_days": 20,
        "after": 60,
    }


def make_sweep(quick: bool) -> Sweep:
    c = settings(quick)
    days = c["day"] + c["bad_days"] + c["after"]
    return Sweep(
        shocked_base(c["scale"], days, c["bad_days"]),
        {"creators.authenticity_mean": list(AUTHENTICITY), "shock.day": [-1, c["day"]]},
        replications=c["replications"],
        days=days,
        seed=SEED,
        draws=load_posterior(SCENARIO).draws(c["draws"], seed=SEED),
    )


# ---------------------------------------------------------------------------- the probe
def victims_of(buyers: list[np.ndarray], day: int, end: int) -> np.ndarray:
    """The shock's victims: every user who ordered the bad product on a day from ``day`` (the
    shock) to ``end - 1`` (its last bad day) among the days seen so far, with the first of
    those days.

    Parameters
    ----------
    buyers : list of numpy.ndarray
        Per day from day 0, the users who ordered the product that day (one per order).
    day, end : int
        The bad days are ``day`` to ``end - 1``.

    Returns
    -------
    numpy.ndarray
        Rows ``(user, first day)``, by first day then user; shape ``(n, 2)``.

    Examples
    --------
    >>> import numpy as np
    >>> victims_of([np.array([1]), np.array([2, 3]), np.array([3, 4]), np.array([5])], 1, 3)
    array([[2, 1],
           [3, 1],
           [4, 2]])
    """
    first: dict[int, int] = {}
    for d in range(day, min(end, len(buyers))):
        for user in buyers[d]:
            first.setdefault(int(user), d)
    rows = sorted(first.items(), key=lambda row: (row[1], row[0]))
    return np.array(rows, np.int64).reshape(-1, 2)


def probe(
    task: tuple[Sweep, int, dict[str, Any], int, np.ndarray | None],
) -> tuple[pd.DataFrame, np.ndarray]:
    """Rerun run ``run`` of ``sweep`` with its seeds; per day, the creator and the listing that
    the shock rule picks on ``day`` (also in unshocked runs, identical until that day).

    Returns per day: the trust in the creator of the listing's buyers so far who follow it
    (from day ``day - 1``, when the listing is known), of all its followers who have bought
    through it, and the creator's orders and GMV, the listing's orders and disappointed orders;
    and the same people followed in both twins, the shock's victims: the users who ordered
    the listing during the bad days of the shocked run (``victims`` is None for a shocked run,
    which finds them, and their ``(user, first day)`` rows for its unshocked twin). Per day,
    over the victims so far: how many, their mean trust in the creator (those who follow it)
    and their orders from the creator. The victims' rows are returned too.
    """
    from laotie._random import run_seeds
    from laotie.engine import Engine
    from laotie.graph import city

    sweep, run, point, day, given = task
    scenario = sweep.base.replace(**(sweep.draw(run) | point))
    end = day + sweep.base.shock.days  # the first day after the bad days
    victim = np.full((sweep.days, 3), np.nan)  # victims, their trust, their orders
    graph_seed, (market_seed,) = run_seeds(sweep.run_seed(run), 1)
    engine = Engine(city(scenario.city, seed=graph_seed), scenario, seed=market_seed)
    m = engine.market
    f = m.follows
    days = sweep.days
    trust = np.zeros((days, m.n_creators))
    buyers = np.zeros((days, m.n_creators))
    orders = np.zeros((days, m.n_creators))
    gmv = np.zeros((days, m.n_creators))
    product = np.full((days, 4), np.nan)  # buyers, their trust, orders, disappointed orders
    history: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    listing, chosen, cohort = -1, -1, np.zeros(0, np.int64)
    for d in range(days):
        engine.step()
        today = engine.orders_today
        bought = today.exposures
        history.append((bought.user.astype(np.int64), bought.listing, today.satisfied))
        if d == day - 1:
            # The listing the shock rule picks at the start of the next day.
            creator_listing = np.flatnonzero(m.listing_seller < m.n_creators)
            listing = int(creator_listing[np.argmax(engine.ledger.listing_orders[creator_listing])])
            chosen = int(m.listing_seller[listing])
            cohort = np.unique(np.concatenate([u[li == listing] for u, li, _ in history]))
        elif d >= day:
            cohort = np.union1d(cohort, today.exposures.user[today.exposures.listing == listing])
        if d >= day - 1:
            kind, index = f.find(cohort, np.full(len(cohort), m.creator_node[chosen]))
            t = np.concatenate([f.trust[index[kind == 1]], f.buffer_trust[index[kind == 2]]])
            product[d, :2] = (len(cohort), t.mean() if len(t) else np.nan)
        if d >= day:
            rows = given
            if rows is None:
                rows = victims_of([u[li == listing] for u, li, _ in history], day, end)
            users = rows[rows[:, 1] <= d, 0] if len(rows) else np.zeros(0, np.int64)
            kind, index = f.find(users, np.full(len(users), m.creator_node[chosen]))
            t = np.concatenate([f.trust[index[kind == 1]], f.buffer_trust[index[kind == 2]]])
            mine = np.isin(bought.user, users) & (m.listing_seller[bought.listing] == chosen)
            victim[d] = (len(users), t.mean() if len(t) else np.nan, mine.sum())
        seller = m.seller_of_node[np.concatenate([f.creator, f.buffer_creator])]
        w = np.concatenate([f.trust, f.buffer_trust]).astype(np.float64)
        bought = np.concatenate([f.memory, f.buffer_memory]) != 0
        trust[d] = np.bincount(seller[bought], weights=w[bought], minlength=m.n_creators)
        buyers[d] = np.bincount(seller[bought], minlength=m.n_creators)
        orders[d] = np.bincount(
            m.listing_seller, weights=engine.ledger.listing_orders, minlength=m.n_sellers
        )[: m.n_creators]
        gmv[d] = engine.ledger.seller_gmv[: m.n_creators]
    engine.close()
    if point.get("shock.day", -1) >= 0 and engine.shock_listing != listing:
        raise RuntimeError("the probe's listing differs from the engine's shocked listing")
    for d, (_, li, satisfied) in enumerate(history):
        product[d, 2:] = ((li == listing).sum(), ((li == listing) & ~satisfied).sum())
    c = chosen
    with np.errstate(invalid="ignore", divide="ignore"):
        buyer_trust = trust[:, c] / buyers[:, c]
    if given is None:
        given = victims_of([u[li == listing] for u, li, _ in history], day, end)
    frame = pd.DataFrame(
        {
            "run": run,
            "day": np.arange(days),
            "creator": c,
            "listing": listing,
            "authenticity": float(m.authenticity[c]),
            "buyer_trust": buyer_trust,
            "buyers": buyers[:, c],
            "product_buyers": product[:, 0],
            "product_buyer_trust": product[:, 1],
            "product_orders": product[:, 2],
            "product_disappointed": product[:, 3],
            "orders": np.diff(orders[:, c], prepend=0.0),
            "gmv": np.diff(gmv[:, c], prepend=0.0),
            "victims": victim[:, 0],
            "victim_trust": victim[:, 1],
            "victim_orders": victim[:, 2],
        }
    )
    return frame, given


def probe_runs(sweep: Sweep, result: SweepResult, executor: Any, out: Path) -> pd.DataFrame:
    """The probe for every run, kept as ``out/creator_daily-KEY.csv`` (:func:`probe_key`: a
    changed sweep, model or probe never reads an older table) and written atomically."""
    path = out / f"creator_daily-{probe_key(sweep, probe)}.csv"
    if path.exists():
        return pd.read_csv(path)
    day = max(v for v in sweep.grid["shock.day"])
    runs = result.runs
    params = [c for c in runs.columns if "." in c]

    def point(row: pd.Series) -> dict[str, Any]:
        return {k: (int(row[k]) if k == "shock.day" else float(row[k])) for k in params}

    def twin(row: pd.Series) -> tuple[int, float]:
        return int(row["replication"]), float(row["creators.authenticity_mean"])

    shocked = runs[runs["shock.day"] >= 0]
    plain = runs[runs["shock.day"] < 0]
    frames, victims = [], {}
    # The shocked runs first: they find the victims that their unshocked twins follow.
    tasks = [(sweep, int(row.run), point(row), day, None) for _, row in shocked.iterrows()]
    by_run = runs.set_index("run")
    for task, found in executor.map(probe, tasks):  # in the order they finish
        if not isinstance(found, tuple):
            raise RuntimeError(f"probe of run {task[1]} failed: {found}")
        frames.append(found[0])
        victims[twin(by_run.loc[task[1]])] = found[1]
    tasks = [
        (sweep, int(row.run), point(row), day, victims[twin(row)]) for _, row in plain.iterrows()
    ]
    for task, found in executor.map(probe, tasks):
        if not isinstance(found, tuple):
            raise RuntimeError(f"probe of run {task[1]} failed: {found}")
        frames.append(found[0])
    table = pd.concat(frames).sort_values(["run", "day"]).reset_index(drop=True)
    table = table.merge(runs[["run", "replication", *params]], on="run")
    atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))
    return table


# ---------------------------------------------------------------------------- audit
AUDIT_ASSUMED: dict[str, list[float] | None] = {
    "outcomes.trust_gain": [0.01, 0.2],
    "outcomes.trust_loss": [0.1, 0.6],
    "word_of_mouth.warn_prob": [0.0, 0.1],
    "creators.authenticity_mean": [0.5, 0.95],
}
"""The assumed parameters that set the shock's size and speed, varied besides the posterior:
trust's gain and loss around their defaults (0.05, 0.3), negative word of mouth from none to
twice a recommendation's probability (as its declared source suggests), and authenticity
across the page's arms."""

AUDIT_AFTER = settings(False)["after"] // 2
"""Days after the fix the audit runs: the page's first window after the fix (full mode)."""

AUDITED = {
    "victim_trust_drop": "victims' trust fall by the last bad day (unshocked − shocked)",
    "victim_orders_change_early": (
        f"victims' orders from the creator, days 1–{AUDIT_AFTER} after the fix (relative change)"
    ),
    "creator_orders_change_during": (
        "creator's orders from everyone during the bad days (relative change)"
    ),
}
"""The headline outcomes the audit measures per sample, by their tables' names."""


def audit_settings(quick: bool) -> dict[str, Any] | None:
    """Samples, scale and days of the audit (None: quick mode leaves it out): 1 % of the city,
    the page's shock (day and bad days) and :data:`AUDIT_AFTER` days after it."""
    if quick:
        return None
    c = settings(quick)
    return {"samples": 48, "scale": 0.01, "days": c["day"] + c["bad_days"] + AUDIT_AFTER}


def shocked_base(scale: float, days: int, bad_days: int) -> Scenario:
    """``mudanjiang_calibrated`` at ``scale`` with the experiment's shock (its day is an arm)."""
    return preset(SCENARIO, scale=scale).replace(
        **{
            "run.days": days,
            "shock.days": bad_days,
            "shock.quality": QUALITY,
            "shock.rule": "creator",
            "word_of_mouth.warn_prob": WARN_PROB,
        }
    )


def audit_probe(task: tuple[Sweep, int]) -> dict[str, float]:
    """The audited outcomes of sample ``k`` of the audit's sweep (arms: unshocked, shocked):
    its shocked run finds the victims, its unshocked twin follows the same people
    (:func:`probe`), and the measures are the page's (:func:`measures_for`)."""
    sweep, k = task
    plain_arm, shocked_arm = sweep.points()
    day = int(shocked_arm["shock.day"])
    shocked, victims = probe((sweep, sweep.slots + k, shocked_arm, day, None))
    plain, _ = probe((sweep, k, plain_arm, day, victims))
    both = pd.concat([shocked.assign(**{"shock.day": day}), plain.assign(**{"shock.day": -1})])
    both = both.assign(replication=0, **{"creators.authenticity_mean": 0.0})
    # The page's settings, so that its windows are the page's (the audit's run ends with the
    # first window after the fix; the measures of later windows are not used).
    found, _ = measures_for(both, 0.0, settings(False) | {"replications": 1})
    return {name: float(found[name][0]) for name in AUDITED}


def audit(quick: bool, out: Path, executor: Any) -> Audit | None:
    """The audit (None in quick mode, which leaves it out): each sample a Latin-hypercube value
    of :data:`AUDIT_ASSUMED`, the calibrated parameters at the scenario's values (their share
    of the spread is the page's ``from parameters``), both arms probed per sample
    (:func:`laotie.audit.run_probe_audit`, kept under ``out``, resumable)."""
    design = audit_settings(quick)
    if design is None:
        return None
    c = settings(quick)
    audited = run_probe_audit(
        SCENARIO,
        [("unshocked", {"shock.day": -1}), ("shocked", {"shock.day": c["day"]})],
        AUDIT_ASSUMED,
        audit_probe,
        design=design,
        seed=SEED,
        out=out,
        executor=executor,
        keys=[],
        base=shocked_base(design["scale"], design["days"], c["bad_days"]),
    )
    assert audited is not None
    return audited._replace(
        verdicts=audited.verdicts.assign(outcome=audited.verdicts["outcome"].map(AUDITED)),
        drivers=audited.drivers.assign(outcome=audited.drivers["outcome"].map(AUDITED)),
    )


# ---------------------------------------------------------------------------- tables
def paired_series(table: pd.DataFrame, column: str, authenticity: float) -> pd.DataFrame:
    """Replication × day of ``column`` for one authenticity: shocked, unshocked, difference."""
    mine = table[table["creators.authenticity_mean"] == authenticity]
    shocked = mine[mine["shock.day"] >= 0].pivot(index="replication", columns="day", values=column)
    plain = mine[mine["shock.day"] < 0].pivot(index="replication", columns="day", values=column)
    return shocked, plain


def recovery_days(
    shocked: pd.DataFrame, plain: pd.DataFrame, start: int, share: float
) -> np.ndarray:
    """Per replication: days from ``start`` until the 7-day sum of the shocked series is back
    to ``share`` of the unshocked one (NaN: not within the run)."""
    out = []
    for r in shocked.index:
        a = shocked.loc[r].rolling(7, min_periods=7).sum()
        b = plain.loc[r].rolling(7, min_periods=7).sum()
        ok = [d for d in a.index if d >= start + 6 and a[d] >= share * b[d]]
        out.append(ok[0] - start - 6 if ok else np.nan)
    return np.array(out, dtype=float)


def half_life(gap: pd.DataFrame, start: int) -> np.ndarray:
    """Per replication: days from ``start`` until the trust gap (unshocked − shocked) is at
    most half of what it was on day ``start - 1`` (NaN: not within the run, or no gap)."""
    out = []
    for r in gap.index:
        first = gap.at[r, start - 1]
        later = gap.loc[r, start:]
        ok = later.index[later <= first / 2] if first > 0 else []
        out.append(ok[0] - start if len(ok) else np.nan)
    return np.array(out, dtype=float)


LEVELS = {
    "creator_authenticity",
    "product_buyer_trust_before",
    "disappointed_share_shocked",
    "disappointed_share_unshocked",
    "product_orders_before_per_day",
    "creator_orders_before_per_day",
    "product_buyer_trust_shocked",
    "product_buyer_trust_unshocked",
    "past_buyer_trust_shocked",
    "past_buyer_trust_unshocked",
    "victim_trust_without_shock",
    "victim_trust_shocked",
    "victim_trust_unshocked",
    "victims",
}
"""Measures that are levels (their intervals keep their bounds); the others are differences
or changes, whose intervals are linear, and days, bounded by the days after the fix."""


EXPECTED = (
    "victims",
    "victim_trust_drop",
    "victim_trust_regained",
    "victim_trust_gap_at_end",
    "victim_orders_change_early",
    "victim_orders_change_late",
    "creator_orders_change_during",
    "creator_orders_change_late",
)
"""The measures whose expected value over the posterior (the mean effect, with a confidence
interval over the draws) the page gives beside one run's predictive interval."""


def change(shocked: pd.DataFrame, plain: pd.DataFrame, window: slice) -> np.ndarray:
    """Per replication: the shocked run's sum over ``window`` relative to its twin's, − 1."""
    total = plain.loc[:, window].sum(axis=1).to_numpy(float)
    ratio = shocked.loc[:, window].sum(axis=1).to_numpy(float) / np.where(total > 0, total, np.nan)
    return ratio - 1  # NaN where the twin sold nothing: no change to measure


def columns(
    values: Any, slots: Any, name: str, c: dict[str, Any], difference: bool = False
) -> dict[str, float]:
    """``values`` (one per replication slot) over draws × replications as table columns
    (``difference``: of two arms, linear whatever the measure)."""
    draws = np.asarray(slots, dtype=int) // c["replications"]
    values = np.asarray(values, dtype=float)
    if difference:  # of two arms; a difference of two shares lies within [-1, 1]
        share = name in LEVELS and "per_day" not in name and name != "victims"
        return uncertainty_columns(
            values, draws, name, "linear", (-1, 1) if share else (None, None)
        )
    if name.startswith("days_to_"):
        return uncertainty_columns(values, draws, name, bounds=(0, c["after"]))
    if "_change_" in name:  # a relative change: −100 % at the least
        return uncertainty_columns(values, draws, name, "linear", bounds=(-1, None))
    if name not in LEVELS:
        scale = "linear"
    elif "per_day" in name or name == "victims":
        scale = "positive"
    else:
        scale = "auto"
    return uncertainty_columns(values, draws, name, scale)


def measures_for(
    creator: pd.DataFrame, a: float, c: dict[str, Any]
) -> tuple[dict[str, np.ndarray], pd.Index]:
    """The measures of the creator-level table for authenticity arm ``a``, one value per
    replication slot (shocked run against its unshocked twin), with the slots."""
    t, t_end = c["day"], c["day"] + c["bad_days"]
    trust_s, trust_p = paired_series(creator, "product_buyer_trust", a)
    all_s, all_p = paired_series(creator, "buyer_trust", a)
    gmv_s, gmv_p = paired_series(creator, "gmv", a)
    ord_s, ord_p = paired_series(creator, "product_orders", a)
    sold_s, sold_p = paired_series(creator, "orders", a)
    hurt_s, hurt_p = paired_series(creator, "victim_trust", a)
    back_s, back_p = paired_series(creator, "victim_orders", a)
    count_s, _ = paired_series(creator, "victims", a)
    bad_s, bad_p = paired_series(creator, "product_disappointed", a)
    own = creator[(creator["creators.authenticity_mean"] == a) & (creator["shock.day"] >= 0)]
    own_a = own.groupby("replication")["authenticity"].first()
    bad = slice(t, t_end - 1)  # .loc slices include their end
    early = slice(t_end, t_end + c["after"] // 2 - 1)  # the first half of the days after
    late = slice(t_end + c["after"] // 2, None)  # the second half
    hurt = hurt_p - hurt_s
    gap = trust_p - trust_s
    past_gap = all_p - all_s

    measures = {
        "creator_authenticity": own_a.to_numpy(),
        "product_buyer_trust_before": trust_s[t - 1].to_numpy(),
        "disappointed_share_shocked": (
            bad_s.loc[:, bad].sum(axis=1) / ord_s.loc[:, bad].sum(axis=1)
        ).to_numpy(),
        "disappointed_share_unshocked": (
            bad_p.loc[:, bad].sum(axis=1) / ord_p.loc[:, bad].sum(axis=1)
        ).to_numpy(),
        "product_buyer_trust_drop": gap[t_end - 1].to_numpy(),
        "product_buyer_trust_gap_at_end": gap.iloc[:, -1].to_numpy(),
        "days_to_halve_trust_gap": half_life(gap, t_end),
        "past_buyer_trust_drop": past_gap[t_end - 1].to_numpy(),
        "past_buyer_trust_gap_at_end": past_gap.iloc[:, -1].to_numpy(),
        "past_buyer_trust_regained": (past_gap[t_end - 1] - past_gap.iloc[:, -1]).to_numpy(),
        "creator_orders_before_per_day": sold_s.loc[:, : t - 1].mean(axis=1).to_numpy(),
        "creator_orders_change_during": change(sold_s, sold_p, bad),
        "creator_orders_change_late": change(sold_s, sold_p, late),
        "victims": count_s[t_end - 1].to_numpy(),
        "victim_trust_without_shock": hurt_p[t_end - 1].to_numpy(),
        "victim_trust_drop": hurt[t_end - 1].to_numpy(),
        "victim_trust_gap_at_end": hurt.iloc[:, -1].to_numpy(),
        "victim_trust_regained": (hurt[t_end - 1] - hurt.iloc[:, -1]).to_numpy(),
        "victim_orders_change_early": change(back_s, back_p, early),
        "victim_orders_change_late": change(back_s, back_p, late),
        "gmv_lost_during": (
            gmv_p.loc[:, bad].sum(axis=1) - gmv_s.loc[:, bad].sum(axis=1)
        ).to_numpy(),
        "gmv_lost_after": (
            gmv_p.loc[:, t_end:].sum(axis=1) - gmv_s.loc[:, t_end:].sum(axis=1)
        ).to_numpy(),
        "gmv_lost_share": (
            (gmv_p.loc[:, t:].sum(axis=1) - gmv_s.loc[:, t:].sum(axis=1))
            / gmv_p.loc[:, t:].sum(axis=1)
        ).to_numpy(),
        "product_orders_before_per_day": ord_s.loc[:, : t - 1].mean(axis=1).to_numpy(),
        "days_to_recover_gmv_90": recovery_days(gmv_s, gmv_p, t_end, 0.9),
    }
    return measures, trust_s.index


def tables_for(
    creator: pd.DataFrame, result: SweepResult, c: dict[str, Any]
) -> dict[str, pd.DataFrame]:
    t, t_end = c["day"], c["day"] + c["bad_days"]
    summary, timeline, expected = [], [], []
    effects: dict[str, dict[float, np.ndarray]] = {}
    for a in AUTHENTICITY:
        measures, slots = measures_for(creator, a, c)
        row: dict[str, Any] = {"authenticity_mean": a}
        mean: dict[str, Any] = {"authenticity_mean": f"{a:g}"}
        for name, values in measures.items():
            row |= columns(values, slots, name, c)
            effects.setdefault(name, {})[a] = values
            if name in EXPECTED:
                draws = np.asarray(slots, dtype=int) // c["replications"]
                limits = (
                    (-1, None)
                    if "_change_" in name
                    else (0, None)
                    if name == "victims"
                    else (None, None)
                )
                mean |= expected_columns(values, draws, name, limits)
        expected.append(mean)
        for name in ("days_to_halve_trust_gap", "days_to_recover_gmv_90"):
            done = measures[name]
            row[f"{name}_runs"] = f"{int(np.sum(~np.isnan(done)))}/{len(done)}"
        summary.append(row)
        trust_s, trust_p = paired_series(creator, "product_buyer_trust", a)
        all_s, all_p = paired_series(creator, "buyer_trust", a)
        hurt_s, hurt_p = paired_series(creator, "victim_trust", a)
        gmv_s, gmv_p = paired_series(creator, "gmv", a)
        for d in trust_s.columns:
            timeline.append(
                {"authenticity_mean": a, "day": int(d)}
                | columns(trust_s[d], slots, "product_buyer_trust_shocked", c)
                | columns(trust_p[d], slots, "product_buyer_trust_unshocked", c)
                | columns(all_s[d], slots, "past_buyer_trust_shocked", c)
                | columns(all_p[d], slots, "past_buyer_trust_unshocked", c)
                | columns(hurt_s[d], slots, "victim_trust_shocked", c)
                | columns(hurt_p[d], slots, "victim_trust_unshocked", c)
                | columns(gmv_s[d] - gmv_p[d], slots, "creator_gmv_difference", c)
            )
    lo, hi = AUTHENTICITY
    difference = {"authenticity_mean": f"{hi:g} − {lo:g} (paired)"}
    for name, by_a in effects.items():
        difference |= columns(by_a[hi] - by_a[lo], slots, name, c, difference=True)
    difference["days_to_halve_trust_gap_runs"] = ""
    difference["days_to_recover_gmv_90_runs"] = ""
    summary_table = pd.DataFrame(summary)
    summary_table["authenticity_mean"] = summary_table["authenticity_mean"].map(lambda v: f"{v:g}")
    summary_table = pd.concat([summary_table, pd.DataFrame([difference])], ignore_index=True)

    # The channels (daily table of the sweep): shocked minus unshocked, per window.
    daily = result.daily.merge(result.runs[["run", "replication", "point"]], on="run")
    arms = result.runs.drop_duplicates("point").set_index("point")
    channel_rows = []
    for a in AUTHENTICITY:
        points = arms[arms["creators.authenticity_mean"] == a]
        shocked_point = points[points["shock.day"] >= 0].index[0]
        plain_point = points[points["shock.day"] < 0].index[0]
        for channel in ("follow", "discovery", "wom", "trust", "traffic", "all"):
            rows = daily[daily["channel"] == channel]
            row: dict[str, Any] = {"authenticity_mean": a, "channel": channel}
            for window, (d0, d1) in (("during", (t, t_end)), ("after", (t_end, 10**9))):
                inside = rows[(rows["day"] >= d0) & (rows["day"] < d1)]
                sums = inside.groupby(["point", "replication"])[
                    ["gmv", "orders", "exposures"]
                ].sum()
                s, p = sums.loc[shocked_point], sums.loc[plain_point]
                row |= columns((p["gmv"] - s["gmv"]).to_numpy(), s.index, f"gmv_lost_{window}", c)
                row |= columns(
                    (s["orders"] / s["exposures"] - p["orders"] / p["exposures"]).to_numpy(),
                    s.index,
                    f"conversion_change_{window}",
                    c,
                )
            channel_rows.append(row)
    return {
        "shock_expected": pd.DataFrame(expected),
        "shock_summary": summary_table,
        "shock_channels": pd.DataFrame(channel_rows),
        "shock_timeline": pd.DataFrame(timeline),
    }


# ---------------------------------------------------------------------------- figures
def figures(out: Path, tables: dict[str, pd.DataFrame], c: dict[str, Any]) -> list[Path]:
    import matplotlib.pyplot as plt

    folder = out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    timeline = tables["shock_timeline"]
    t, t_end = c["day"], c["day"] + c["bad_days"]
    paths = []
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharex=True)
    for i, a in enumerate(AUTHENTICITY):
        rows = timeline[timeline["authenticity_mean"] == a]
        for ax, kind in ((axes[0], "victim_trust"), (axes[1], "past_buyer_trust")):
            for arm, style in (("shocked", "-"), ("unshocked", ":")):
                column = f"{kind}_{arm}"
                ax.plot(
                    rows["day"],
                    rows[column],
                    style,
                    color=f"C{i}",
                    label=f"authenticity {a:g}, {arm}",
                )
                ax.fill_between(
                    rows["day"],
                    rows[f"{column}_low"],
                    rows[f"{column}_high"],
                    color=f"C{i}",
                    alpha=0.15,
                )
        smooth = rows["creator_gmv_difference"].rolling(7, min_periods=1).mean()
        axes[2].plot(rows["day"], smooth, color=f"C{i}", label=f"authenticity {a:g}")
        axes[2].fill_between(
            rows["day"],
            rows["creator_gmv_difference_low"].rolling(7, min_periods=1).mean(),
            rows["creator_gmv_difference_high"].rolling(7, min_periods=1).mean(),
            color=f"C{i}",
            alpha=0.15,
        )
    for ax in axes:
        ax.axvspan(t, t_end, color="red", alpha=0.08)
        ax.set_xlabel("day")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("mean trust in the creator")
    axes[0].set_title("The victims (same people in both runs)")
    axes[1].set_title("All followers who bought through the creator")
    axes[2].axhline(0, color="black", lw=0.8)
    axes[2].set_ylabel("RMB per day, 7-day mean")
    axes[2].set_title("Creator GMV, shocked − unshocked (paired)")
    fig.tight_layout()
    paths.append(folder / "trust_shock_creator.png")
    save_figure(fig, paths[-1], dpi=120)

    channels = tables["shock_channels"]
    fig, ax = plt.subplots(figsize=(8, 4))
    names = channels["channel"].unique()
    x = np.arange(len(names))
    for i, a in enumerate(AUTHENTICITY):
        rows = channels[channels["authenticity_mean"] == a].set_index("channel").loc[names]
        for j, window in enumerate(("during", "after")):
            col = f"gmv_lost_{window}"
            err = np.abs(
                np.vstack([rows[col] - rows[f"{col}_low"], rows[f"{col}_high"] - rows[col]])
            )
            ax.bar(
                x + (2 * i + j - 1.5) * 0.2,
                rows[col],
                width=0.2,
                yerr=np.nan_to_num(err),
                capsize=2,
                color=f"C{i}",
                alpha=1.0 if window == "during" else 0.5,
                label=f"authenticity {a:g}, {window} the shock",
            )
    ax.set_xticks(x, names)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("GMV lost, unshocked − shocked (RMB)")
    ax.set_title("GMV lost per channel (paired, 95 % CI)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(folder / "trust_shock_channels.png")
    save_figure(fig, paths[-1], dpi=120)
    return paths


def findings(tables: dict[str, pd.DataFrame], c: dict[str, Any]) -> list[str]:
    summary = tables["shock_summary"]
    out = []
    for _, row in summary.iloc[: len(AUTHENTICITY)].iterrows():
        out.append(
            f"Authenticity mean {row['authenticity_mean']} (the shocked creator's own: "
            f"{_ci(row, 'creator_authenticity', '.2f')}; the product sold "
            f"{_ci(row, 'product_orders_before_per_day', '.2g')} orders a day before the "
            f"shock): during the {c['bad_days']} bad days "
            f"{_ci(row, 'disappointed_share_shocked', '.0%')} of its orders disappointed "
            f"(unshocked: {_ci(row, 'disappointed_share_unshocked', '.0%')}). The trust of the "
            f"product's buyers in the creator was {_ci(row, 'product_buyer_trust_before')} "
            f"before the shock; on the last bad day it was "
            f"{_ci(row, 'product_buyer_trust_drop')} below the unshocked run's, and "
            f"{_ci(row, 'product_buyer_trust_gap_at_end')} below at the end of the run; the gap "
            f"halved {_ci(row, 'days_to_halve_trust_gap', '.1f')} days after the fix (in "
            f"{row['days_to_halve_trust_gap_runs']} runs). Over all the creator's past buyers "
            f"the drop was {_ci(row, 'past_buyer_trust_drop')}. The creator lost "
            f"{_ci(row, 'gmv_lost_during', ',.0f')} RMB of GMV during the bad days and "
            f"{_ci(row, 'gmv_lost_after', ',.0f')} RMB after ("
            f"{_ci(row, 'gmv_lost_share', '.1%')} of what it sold from day {c['day']} without "
            f"the shock); its weekly GMV was back to 90 % of the unshocked run "
            f"{_ci(row, 'days_to_recover_gmv_90', '.1f')} days after the fix (in "
            f"{row['days_to_recover_gmv_90_runs']} runs)."
        )
    diff = summary.iloc[len(AUTHENTICITY)]
    out.append(
        f"High against low authenticity, paired by replication: the product buyers' trust "
        f"before the shock differs by {_ci(diff, 'product_buyer_trust_before')}, the share of "
        f"disappointed orders during the shock by "
        f"{_ci(diff, 'disappointed_share_shocked', '.0%')}, the trust drop by "
        f"{_ci(diff, 'product_buyer_trust_drop')}, the GMV lost after the fix by "
        f"{_ci(diff, 'gmv_lost_after', ',.0f')} RMB and the share of GMV lost by "
        f"{_ci(diff, 'gmv_lost_share', '.1%')}."
    )
    channels = tables["shock_channels"]
    for a in AUTHENTICITY:
        row = channels[(channels["authenticity_mean"] == a) & (channels["channel"] == "all")].iloc[
            0
        ]
        out.append(
            f"City-wide (authenticity {a:g}), all channels lost "
            f"{_ci(row, 'gmv_lost_during', ',.0f')} RMB of GMV during the shock and "
            f"{_ci(row, 'gmv_lost_after', ',.0f')} RMB after it."
        )
    return out


WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "fall": {
        "below": ("Their purchases fall", "其购买下跌"),
        "above": ("Their purchases rise (unexpectedly)", "其购买反而上升"),
        "across": ("Their purchases do not fall distinguishably", "其购买下跌无法区分"),
        "unknown": ("Whether their purchases fall cannot be judged", "其购买是否下跌无法判断"),
    },
    "late": {
        "below": ("are still below the unshocked run's", "仍低于无事件时"),
        "above": ("are above the unshocked run's", "高于无事件时"),
        "across": ("are not distinguishable from the unshocked run's", "与无事件时无法区分"),
        "unknown": ("cannot be compared (no interval)", "无法比较（无区间）"),
    },
    "regained": {
        "above": ("their trust is partly regained", "其信任部分恢复"),
        "below": ("their trust keeps falling", "其信任继续下降"),
        "across": ("their trust is not distinguishably regained", "其信任恢复无法区分"),
        "unknown": ("whether their trust is regained cannot be judged", "其信任是否恢复无法判断"),
    },
    "protect": {
        "below": ("loses less trust", "信任下跌更少"),
        "above": ("loses more trust", "信任下跌更多"),
        "across": ("does not lose distinguishably more or less trust", "信任下跌无法区分"),
        "unknown": ("cannot be compared (no interval)", "无法比较（无区间）"),
    },
}
"""The answers' words for where an interval lies (:func:`sign`), in English and Chinese."""


def sign(row: pd.Series, column: str) -> str:
    """Where a row's interval lies: "below" or "above" 0, "across" it, or "unknown" without an
    interval (one run)."""
    if not np.isfinite(row[f"{column}_low"]) or not np.isfinite(row[f"{column}_high"]):
        return "unknown"
    if row[f"{column}_high"] < 0:
        return "below"
    if row[f"{column}_low"] > 0:
        return "above"
    return "across"


def headlines(tables: dict[str, pd.DataFrame], c: dict[str, Any]) -> list[Headline]:
    summary = tables["shock_summary"].set_index("authenticity_mean")
    high = summary.loc[f"{AUTHENTICITY[1]:g}"]
    mean = tables["shock_expected"].set_index("authenticity_mean").loc[f"{AUTHENTICITY[1]:g}"]
    diff = summary.iloc[len(AUTHENTICITY)]
    same = "the victims in the shocked run against the same people in its unshocked twin"
    speed = f"{same}; size and speed set by the assumed trust_gain, trust_loss and warn_prob"
    half = c["after"] // 2
    return [
        Headline(
            f"fall in the victims' trust in the creator by the last of {c['bad_days']} bad days",
            _ci(high, "victim_trust_drop"),
            "counterfactual",
            speed,
        ),
        Headline(
            f"change in the victims' orders from the creator, days 1–{half} after the fix",
            _ci(high, "victim_orders_change_early", ".1%"),
            "counterfactual",
            speed,
        ),
        Headline(
            f"the same, days {half + 1}–{c['after']} after the fix",
            _ci(high, "victim_orders_change_late", ".1%"),
            "counterfactual",
            speed,
        ),
        Headline(
            f"victims' trust regained from the last bad day to day {c['after']} after the fix, "
            f"mean over the posterior",
            _ci(mean, "victim_trust_regained"),
            "counterfactual",
            speed,
        ),
        Headline(
            "change in the creator's orders from everyone during the bad days",
            _ci(high, "creator_orders_change_during", ".1%"),
            "counterfactual",
            "shocked arm − unshocked arm, paired by slot (same draw, graph and streams)",
        ),
        Headline(
            f"victims' trust fall, authenticity {AUTHENTICITY[1]:g} − {AUTHENTICITY[0]:g}",
            _ci(diff, "victim_trust_drop"),
            "counterfactual",
            "arms of the assumed creators.authenticity_mean, paired by slot",
        ),
    ]


def answers(tables: dict[str, pd.DataFrame], c: dict[str, Any]) -> tuple[list[str], list[str]]:
    summary = tables["shock_summary"].set_index("authenticity_mean")
    high = summary.loc[f"{AUTHENTICITY[1]:g}"]
    mean = tables["shock_expected"].set_index("authenticity_mean").loc[f"{AUTHENTICITY[1]:g}"]
    low = tables["shock_expected"].set_index("authenticity_mean").loc[f"{AUTHENTICITY[0]:g}"]
    diff = summary.iloc[len(AUTHENTICITY)]
    fall = WORDS["fall"][sign(high, "victim_orders_change_early")]
    late = WORDS["late"][sign(mean, "victim_orders_change_late")]
    regained = WORDS["regained"][sign(mean, "victim_trust_regained")]
    protect = WORDS["protect"][sign(diff, "victim_trust_drop")]
    half = c["after"] // 2
    more = "more" if diff["victim_trust_drop"] > 0 else "less"
    english = [
        f"When a creator's best-selling product turns bad for {c['bad_days']} days (creators of "
        f"authenticity {AUTHENTICITY[1]:g}), the buyers "
        f"it disappoints ({_ci(high, 'victims', '.0f')} of them) trust the creator "
        f"{_ci(high, 'victim_trust_drop')} less than the same people without the shock. "
        f"{fall[0]}: in the {half} days after the fix they buy "
        f"{_ci(high, 'victim_orders_change_early', '.1%')} from it.",
        f"In the next {c['after'] - half} days their orders, on average over the posterior "
        f"({_ci(mean, 'victim_orders_change_late', '.1%')}), {late[0]}, and {regained[0]} "
        f"({_ci(mean, 'victim_trust_regained')}); the creator's sales to everyone change by "
        f"{_ci(high, 'creator_orders_change_during', '.1%')} during the bad days. Sizes and "
        f"speeds are set by the assumed trust_gain, trust_loss and warn_prob.",
        f"At authenticity {AUTHENTICITY[0]:g}, whose buyers are often disappointed even without "
        f"the shock, the victims' trust falls by {_ci(low, 'victim_trust_drop')} on average; a "
        f"more authentic creator {protect[0]}: on average {more} "
        f"({_ci(diff, 'victim_trust_drop')}), an assumed parameter's counterfactual.",
    ]
    more_zh = "更多" if diff["victim_trust_drop"] > 0 else "更少"
    chinese = [
        f"主播（真实度 {AUTHENTICITY[1]:g}）的畅销商品出现 {c['bad_days']} 天质量问题时，"
        f"受影响的买家"
        f"（{_zh(high, 'victims', '.0f')} 人）对主播的信任比无事件时的同一批人低 "
        f"{_zh(high, 'victim_trust_drop')}；{fall[1]}：修复后 {half} 天内他们向该主播的购买变化 "
        f"{_zh(high, 'victim_orders_change_early', '.1%')}。",
        f"其后 {c['after'] - half} 天他们的购买（后验平均 "
        f"{_zh(mean, 'victim_orders_change_late', '.1%')}）"
        f"{late[1]}，{regained[1]}（{_zh(mean, 'victim_trust_regained')}）；问题期内主播对所有人的"
        f"销量变化 {_zh(high, 'creator_orders_change_during', '.1%')}。大小与速度由假设参数 "
        f"trust_gain、trust_loss 与 warn_prob 决定。",
        f"真实度 {AUTHENTICITY[0]:g} 的主播的买家即使没有事件也常感失望，"
        f"其受影响买家的信任平均下降 "
        f"{_zh(low, 'victim_trust_drop')}；真实度更高的主播{protect[1]}：平均下跌{more_zh}"
        f"（{_zh(diff, 'victim_trust_drop')}），为假设参数的反事实。",
    ]
    return english, chinese


METHOD = """
One sweep of `mudanjiang_calibrated` (`experiments/trust_shock.py`): creators' authenticity
(an assumed parameter) low and high, each with and without the shock, every arm over the same
posterior draws × replications. The shock rule picks, on day *t*, the creator listing that sold
most; its product's true quality falls to 0.1 for the bad days while its promise stays, so its
buyers are disappointed, lose trust in the creator and warn the people who trust them
(`word_of_mouth.warn_prob`, assumed). A shocked run equals its unshocked twin until day *t*
(common random numbers; tested), so every effect is a paired difference, slot by slot. The
creator-level series are read by a probe that reruns each stored run with its seeds and draw.
The shock's victims, the users who ordered the bad product during the bad days of a shocked
run, are followed in both runs of the pair: the same people, their trust in the creator (those
who follow it) and their orders from it, so the fall and the recovery are measured on the
people the shock hurt rather than diluted over all of the creator's buyers.

Intervals are 95 % predictive intervals over the posterior draws and chance, with the share
of their spread that comes from the parameters (`laotie.stats.decompose`). Every speed of fall
and recovery is set by assumed parameters (`outcomes.trust_gain`, `outcomes.trust_loss`,
`word_of_mouth.warn_prob`); the calibration constrains none of them.

The audit (full mode only; `laotie audit trust_shock` runs it alone): 48 samples, each a
Latin-hypercube value of the four assumed parameters that set the shock's size and speed
(trust's gain and loss, negative word of mouth, creators' authenticity), the calibrated
parameters at the scenario's values, at scale 0.01 with the page's shock and the first window
after the fix (80 days). The calibrated parameters are held, not audited: the victims are a
handful per run, and 48 samples cannot tell 22 parameters apart (a trial over 64 samples with
the posterior's 18 varied too named no driver, and left the victims' orders not determined);
how much of each
interval the posterior makes is the tables' "from parameters". Its outcomes are the victims',
which no sweep table holds, so each sample's two arms are probed like the page's runs
(`laotie.audit.run_probe_audit`): the shocked run finds the victims, its unshocked twin follows
them. Each headline outcome's first-order Sobol index to each parameter comes from those
samples (SALib), with a permutation null (`laotie.audit`). A sample whose victims do not follow
the creator, or whose twin's victims order nothing in the window, has no value for that outcome
and is left out of its analysis.
"""


def run(*, quick: bool, out: Path, executor: Any) -> Report:
    c = settings(quick)
    sweep = make_sweep(quick)
    result = run_sweep(sweep, out / "sweep", executor=executor)
    creator = probe_runs(sweep, result, executor, out / "sweep")
    tables = tables_for(creator, result, c)
    english, chinese = answers(tables, c)
    audited = audit(quick, out / "audit", executor)
    seconds = float(result.runs["seconds"].sum())
    shown = ["shock_expected", "shock_summary", "shock_channels", "shock_timeline"]
    if audited is not None:
        tables["audit_drivers"] = audited.drivers
        shown.append("audit_drivers")
        seconds += audited.seconds
    base = sweep.base
    assumptions = [
        f"Mudanjiang calibrated, at scale {c['scale']:g} ({base.city.n_residents:,} "
        f"residents), {sweep.days} days, {c['draws']} posterior draws × {c['replications']} "
        f"replications per arm, sweep seed {SEED}; the "
        f"shock on day {c['day']} sets the true quality of the most-ordered creator listing's "
        f"product to {QUALITY} for {c['bad_days']} days (shock.rule = 'creator'), then restores "
        f"it.",
        "The 18 parameters of the calibration vary over its posterior draws; the others keep "
        "their assumed defaults, in particular outcomes.trust_gain 0.05 and trust_loss 0.3 "
        "(trust rises slowly and falls fast), which set the speeds of fall and recovery, and "
        f"word_of_mouth.warn_prob = {WARN_PROB} (negative word of mouth).",
        "The product's buyers' trust is the mean trust in the creator of the users who have "
        "ordered the shocked listing (through any channel) up to that day and follow the "
        "creator (buyers without a follow tie have no trust in the creator to track); it is "
        "tracked from the day before the shock, when the listing is known. After the shock the "
        "shocked and unshocked runs have different buyers, so the trust gap compares cohorts "
        "defined the same way, not the same people.",
        "Authenticity arms change the mean of every creator's authenticity (one Beta draw per "
        "creator from the same stream), so the shocked creator and its history differ between "
        "the arms; the comparison is of creators under each regime, paired by replication.",
        "Promises do not change during the shock: sellers keep presenting the product as "
        "before (docs/model.md 3.5).",
        "The worker time given below is the sweep's and the audit's probes'; the probe of "
        "the page's runs reruns every run to read the creator's series and takes about as "
        "long again.",
    ]
    return Report(
        run_seconds=seconds,
        name=NAME,
        question=QUESTION,
        tables={k: tables[k] for k in shown},
        figures=figures(out, tables, c),
        findings=findings(tables, c),
        assumptions=assumptions,
        answer=english,
        answer_zh=chinese,
        headlines=headlines(tables, c),
        method=METHOD,
        audit=None if audited is None else audited.verdicts,
    )


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
