"""A trust shock (质量事件): a widely sold product turns out bad on day t.

The creator whose listing sold most before day ``t`` sees that product's true quality fall to
``shock.quality`` for ``shock.days`` days (docs/model.md 3.5, the shock); the promise does not
change, so buyers are disappointed and their trust falls fast, then is rebuilt slowly. Arms:
low and high creator authenticity (``creators.authenticity_mean``), each with and without the
shock. All arms share replication ``r``'s graph and random streams (common random numbers), and
a shocked run is identical to its unshocked twin until day ``t``, so the shock's effect is a
paired difference, day by day.

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

from laotie.experiment import Report, interval_columns, save_figure
from laotie.experiment import describe_interval as _ci
from laotie.scenario import Scenario
from laotie.sweep import Sweep, SweepResult, run_sweep

NAME = "trust_shock"
QUESTION = (
    "When a widely sold creator product turns out bad on day t, how far do its buyers' trust, "
    "the creator's sales and the channels' GMV fall, how fast do they recover after the "
    "product is fixed, and does a creator's authenticity (真实) protect them?"
)

SEED = 20261126
AUTHENTICITY = (0.5, 0.9)
QUALITY = 0.1


def settings(quick: bool) -> dict[str, Any]:
    if quick:
        return {"scale": 0.004, "replications": 3, "day": 20, "bad_days": 10, "after": 20}
    return {"scale": 0.05, "replications": 12, "day": 40, "bad_days": 20, "after": 50}


def make_sweep(quick: bool) -> Sweep:
    c = settings(quick)
    days = c["day"] + c["bad_days"] + c["after"]
    base = Scenario.preset("mudanjiang", scale=c["scale"]).replace(
        **{
            "run.days": days,
            "shock.days": c["bad_days"],
            "shock.quality": QUALITY,
            "shock.rule": "creator",
        }
    )
    return Sweep(
        base,
        {"creators.authenticity_mean": list(AUTHENTICITY), "shock.day": [-1, c["day"]]},
        replications=c["replications"],
        days=days,
        seed=SEED,
    )


# ---------------------------------------------------------------------------- the probe
def probe(task: tuple[Sweep, int, dict[str, Any], int]) -> pd.DataFrame:
    """Rerun run ``run`` of ``sweep`` with its seeds; per day, the creator and the listing that
    the shock rule picks on ``day`` (also in unshocked runs, identical until that day).

    Returns per day: the trust in the creator of the listing's buyers so far who follow it
    (from day ``day - 1``, when the listing is known), of all its followers who have bought
    through it, and the creator's orders and GMV, the listing's orders and disappointed orders.
    """
    from laotie._random import run_seeds
    from laotie.engine import Engine
    from laotie.graph import city

    sweep, run, point, day = task
    scenario = sweep.base.replace(**point)
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
    return pd.DataFrame(
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
        }
    )


def probe_runs(sweep: Sweep, result: SweepResult, executor: Any, out: Path) -> pd.DataFrame:
    """The probe for every run (cached as ``out/creator_daily.csv``)."""
    path = out / "creator_daily.csv"
    if path.exists():
        return pd.read_csv(path)
    day = max(v for v in sweep.grid["shock.day"])
    runs = result.runs
    params = [c for c in runs.columns if "." in c]
    tasks = [
        (sweep, int(row.run), {k: row[k] for k in params}, day)
        for row in (runs.loc[i] for i in runs.index)
    ]
    tasks = [
        (s, r, {k: (int(v) if k == "shock.day" else float(v)) for k, v in p.items()}, d)
        for s, r, p, d in tasks
    ]
    frames = []
    for task, frame in executor.map(probe, tasks):
        if not isinstance(frame, pd.DataFrame):
            raise RuntimeError(f"probe of run {task[1]} failed: {frame}")
        frames.append(frame)
    table = pd.concat(frames).sort_values(["run", "day"]).reset_index(drop=True)
    table = table.merge(runs[["run", "replication", *params]], on="run")
    table.to_csv(path, index=False)
    return table


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


def tables_for(
    creator: pd.DataFrame, result: SweepResult, c: dict[str, Any]
) -> dict[str, pd.DataFrame]:
    t, t_end = c["day"], c["day"] + c["bad_days"]
    summary, timeline = [], []
    effects: dict[str, dict[float, np.ndarray]] = {}
    for a in AUTHENTICITY:
        trust_s, trust_p = paired_series(creator, "product_buyer_trust", a)
        all_s, all_p = paired_series(creator, "buyer_trust", a)
        gmv_s, gmv_p = paired_series(creator, "gmv", a)
        ord_s, ord_p = paired_series(creator, "product_orders", a)
        bad_s, bad_p = paired_series(creator, "product_disappointed", a)
        own = creator[(creator["creators.authenticity_mean"] == a) & (creator["shock.day"] >= 0)]
        own_a = own.groupby("replication")["authenticity"].first()
        bad = slice(t, t_end - 1)  # .loc slices include their end
        gap = trust_p - trust_s
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
            "past_buyer_trust_drop": (all_p[t_end - 1] - all_s[t_end - 1]).to_numpy(),
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
        row: dict[str, Any] = {"authenticity_mean": a}
        for name, values in measures.items():
            row |= interval_columns(values, name)
            effects.setdefault(name, {})[a] = values
        for name in ("days_to_halve_trust_gap", "days_to_recover_gmv_90"):
            done = measures[name]
            row[f"{name}_runs"] = f"{int(np.sum(~np.isnan(done)))}/{len(done)}"
        summary.append(row)
        for d in trust_s.columns:
            timeline.append(
                {"authenticity_mean": a, "day": int(d)}
                | interval_columns(trust_s[d], "product_buyer_trust_shocked")
                | interval_columns(trust_p[d], "product_buyer_trust_unshocked")
                | interval_columns(all_s[d], "past_buyer_trust_shocked")
                | interval_columns(all_p[d], "past_buyer_trust_unshocked")
                | interval_columns(gmv_s[d] - gmv_p[d], "creator_gmv_difference")
            )
    lo, hi = AUTHENTICITY
    difference = {"authenticity_mean": f"{hi:g} − {lo:g} (paired)"}
    for name, by_a in effects.items():
        difference |= interval_columns(by_a[hi] - by_a[lo], name)
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
                row |= interval_columns((p["gmv"] - s["gmv"]).to_numpy(), f"gmv_lost_{window}")
                row |= interval_columns(
                    (s["orders"] / s["exposures"] - p["orders"] / p["exposures"]).to_numpy(),
                    f"conversion_change_{window}",
                )
            channel_rows.append(row)
    return {
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
        for ax, kind in ((axes[0], "product_buyer_trust"), (axes[1], "past_buyer_trust")):
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
    axes[0].set_title("Buyers of the shocked product (who follow)")
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


def run(*, quick: bool, out: Path, executor: Any) -> Report:
    c = settings(quick)
    sweep = make_sweep(quick)
    result = run_sweep(sweep, out / "sweep", executor=executor)
    creator = probe_runs(sweep, result, executor, out / "sweep")
    tables = tables_for(creator, result, c)
    base = sweep.base
    assumptions = [
        f"Mudanjiang at scale {c['scale']:g} ({base.city.n_residents:,} residents), "
        f"{sweep.days} days, {c['replications']} replications per arm, sweep seed {SEED}; the "
        f"shock on day {c['day']} sets the true quality of the most-ordered creator listing's "
        f"product to {QUALITY} for {c['bad_days']} days (shock.rule = 'creator'), then restores "
        f"it.",
        "Defaults are not calibrated (docs/model.md 3.7), in particular trust_gain 0.05 and "
        "trust_loss 0.3 (trust rises slowly and falls fast) are assumed.",
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
    ]
    return Report(
        name=NAME,
        question=QUESTION,
        tables={k: tables[k] for k in ("shock_summary", "shock_channels", "shock_timeline")},
        figures=figures(out, tables, c),
        findings=findings(tables, c),
        assumptions=assumptions,
    )


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
