"""What the demand side can produce: the moments of T1, T2, T3, T5, T7 and T16 at settings
chosen by hand, from the defaults to the declared bounds of the parameters that drive them.

Run ``python experiments/bounds/demand_side.py [--scale 0.01] [--days 365] [-R 2]``; it
prints one row per setting and moment (mean over replications). The settings are not a
calibration: they show which targets the model can reach (docs/validation.md, "What the
model can produce").
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from laotie import Scenario, moments
from laotie.runs import replicate

HABIT = {
    "population.activity_concentration": 0.33,
    "outcomes.satisfaction": "rate",
    "outcomes.disappointment_creators": 0.1,
    "outcomes.disappointment_storefronts": 0.1,
    "loyalty.return_creators": 1.0,
    "loyalty.return_storefronts": 0.05,
    "loyalty.weight": 8.0,
    "loyalty.half_life": 90.0,
}
"""Return customers and near-daily or near-dormant users: T5 and T7 within their bands."""

SETTINGS: dict[str, dict[str, object]] = {
    "defaults": {},
    "funnel (A7's click-through)": {
        "storefronts.click_prob": 0.0405,
        "creators.enter_prob": 0.2,
        "decision.intercept": -6.0,
    },
    "storefront sessions of 100 impressions": {
        "storefronts.click_prob": 0.0405,
        "storefronts.impressions_per_active": 100.0,
        "decision.intercept": -5.8,
    },
    "habit (回头客)": HABIT,
    "no loyalty, all dormant or daily": {"population.activity_concentration": 0.01},
    "every user alike": {"population.activity_concentration": 1e6},
    "diffusion (word of mouth only)": {
        "population.repeat_purchases": False,
        "word_of_mouth.prob": 0.5,
        "word_of_mouth.days": 120,
        "word_of_mouth.trust_scaled": True,
        "decision.intercept": -10.0,
        "decision.trust_weight": 8.0,
    },
    "nobody buys": {"decision.intercept": -50.0},
}

MOMENTS = {
    "T1a click-through": moments.storefront_click_through,
    "T1b click → purchase": moments.storefront_click_conversion,
    "T1c impression → purchase": moments.storefront_conversion,
    "T2 session conversion": moments.storefront_session_conversion,
    "T3 entrant → purchase": moments.live_room_conversion,
    "T5a repurchase, trust": moments.monthly_repurchase_trust,
    "T5b repurchase, storefront": moments.monthly_repurchase_traffic,
    "T7a buyers / MAU": moments.buyers_per_mau,
    "T7b DAU / MAU": moments.dau_per_mau,
    "T16 Bass p": moments.bass_p,
    "T16 Bass q": moments.bass_q,
    "word of mouth's share of first orders": moments.word_of_mouth_first_order_share,
}


def table(scale: float, days: int, replications: int) -> pd.DataFrame:
    """One row per setting, one column per moment (the mean over replications)."""
    base = Scenario.preset("mudanjiang", scale=scale)
    rows = []
    for name, changes in SETTINGS.items():
        results = replicate(base.replace(**changes), days=days, replications=replications, seed=1)
        row: dict[str, object] = {"setting": name}
        for label, moment in MOMENTS.items():
            values = []
            for result in results:
                try:
                    values.append(moment(result))
                except Exception:  # a Bass fit that does not converge: n/a
                    values.append(float("nan"))
            row[label] = float(np.nanmean(values)) if not np.isnan(values).all() else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("setting")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("-R", "--replications", type=int, default=2)
    args = parser.parse_args()
    frame = table(args.scale, args.days, args.replications)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(frame.T.to_string(float_format=lambda x: f"{x:.4g}"))


if __name__ == "__main__":
    main()
