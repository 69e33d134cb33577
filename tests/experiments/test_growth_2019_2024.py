"""The growth experiment in quick mode (tables, labels, the transferred draws) and what the
growth it rests on guarantees: users saturate at the registered users, churn takes users
away, nobody stops selling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laotie import Scenario
from laotie.posterior import load_posterior
from laotie.runs import replicate
from laotie.sweep.store import read_record, record_path
from tests.experiments.checks import brackets

EXPERIMENT = "growth_2019_2024"

TABLES = ("trajectory", "shape", "monthly")


def _grow(scale: float, days: int, seed: int, **changes: float) -> pd.DataFrame:
    """The months of one run of mudanjiang_2019 at ``scale`` with ``changes``."""
    scenario = Scenario.preset("mudanjiang_2019", scale=scale, **changes)
    (result,) = replicate(scenario, 1, days=days, seed=seed)
    return result.monthly


def test_files_tables_and_labels(report, module) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    for name in TABLES:
        assert (out / f"{name}.csv").exists() and (out / f"{name}.md").exists(), name
        brackets(result.tables[name])
    assert (out / "figures" / "growth_2019_2024.png").exists()
    mode = module.settings(True)
    trajectory = result.tables["trajectory"]
    assert trajectory["year"].tolist() == list(range(1, mode["years"] + 1))
    assert trajectory["calendar_year"].tolist() == [2019 + y for y in range(mode["years"])]
    assert len(result.tables["monthly"]) == mode["years"] * module.MONTHS
    assert set(result.tables["shape"]["measure"]) == set(module.SHAPE)
    # The first month's users are the assumed set-up (an input); everything after is a
    # prediction driven by the assumed growth parameters.
    labels = [h.label for h in result.headlines]
    assert labels == ["input"] + ["predicted"] * 5
    assert len(result.answer) == len(result.answer_zh) == 3
    assert not any("nan" in line for line in result.answer + result.answer_zh)
    # The page says that carrying the calibrated draws over to 2019 is an assumption.
    assert any("mudanjiang_calibrated" in a and "assumption" in a for a in result.assumptions)


def test_t8_columns_are_t8(module) -> None:  # type: ignore[no-untyped-def]
    growth = module.t8_growth()
    relative = module.t8_relative()
    assert growth[2020] == pytest.approx(0.38 / 0.06) and np.isnan(growth[2019])
    assert growth[2024] == pytest.approx(1.39 / 1.18)
    assert relative[2024] == 1 and relative[2019] == pytest.approx(0.06 / 1.39)
    # T8 decelerates: each year's growth is below the one before.
    assert all(np.diff([growth[y] for y in range(2020, 2025)]) < 0)


def test_the_transferred_draws_are_valid_for_the_2019_scenario(module) -> None:  # type: ignore[no-untyped-def]
    posterior = load_posterior(module.CALIBRATED)
    keys = list(module.TRANSFERRED)
    assert sorted(keys) == sorted(posterior.keys)  # every free parameter, jointly
    base = Scenario.preset(module.SCENARIO)
    mudanjiang = Scenario.preset("mudanjiang").flat()
    # The transfer overwrites nothing the 2019 scenario sets itself (its growth and its
    # eventual user share): those keys are at the city's uncalibrated values.
    for key in keys:
        assert base.flat()[key] == mudanjiang[key], key
    for row in posterior.draws(len(posterior.table), seed=0, keys=keys):
        base.replace(**row)  # raises on any value the 2019 scenario does not accept
    first = posterior.draws(3, seed=module.SEED)
    subset = posterior.draws(3, seed=module.SEED, keys=keys[:2])
    assert [{k: d[k] for k in keys[:2]} for d in first] == subset  # rows kept whole


def test_the_runs_carry_the_transferred_draws(stored, module) -> None:  # type: ignore[no-untyped-def]
    mode = module.settings(True)
    assert stored.runs["draw"].nunique() == mode["draws"]
    draws = load_posterior(module.CALIBRATED).draws(
        mode["draws"], seed=module.SEED, keys=list(module.TRANSFERRED)
    )
    for run, draw in zip(stored.runs["run"], stored.runs["draw"], strict=True):
        record = read_record(record_path(stored.out, int(run)))
        assert record is not None
        assert record["parameters"] == pytest.approx(draws[int(draw)])


def test_tables_agree_with_the_stored_months(report, stored, module) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    months = stored.monthly()
    months = months.merge(stored.runs[["run", "replication"]], on="run")
    months["year"] = months["month"] // module.MONTHS + 1
    trajectory = result.tables["trajectory"].set_index("year")
    per_run = months.groupby(["run", "year"]).agg(
        users=("adopted", "mean"), residents=("residents", "first"), gmv=("gmv", "sum")
    )
    users = (per_run["users"] / per_run["residents"]).groupby("year").mean()
    gmv = (per_run["gmv"] / per_run["residents"]).groupby("year")
    for year in trajectory.index:
        assert trajectory.at[year, "users_share"] == pytest.approx(users[year])
        assert trajectory.at[year, "gmv_per_resident"] == pytest.approx(gmv.get_group(year).mean())
    shape = result.tables["shape"].set_index("measure")
    wide = (per_run["gmv"] / per_run["residents"]).unstack("year")
    last = wide.columns.max()
    assert shape.at["gmv_growth", "model"] == pytest.approx((wide[last] / wide[1]).mean())
    assert trajectory.at[last, "gmv_vs_last_year"] == 1


def test_users_stay_within_the_registered_and_sellers_never_leave(stored) -> None:  # type: ignore[no-untyped-def]
    months = stored.monthly()
    assert (months["adopted"] <= months["users"]).all()
    assert (months["users"] < months["residents"]).all()
    # Nobody stops selling (docs/model.md 3.5, "Growth"): sellers never fall month to month.
    for _, run in months.groupby("run"):
        assert (np.diff(run.sort_values("month")["sellers"].to_numpy()) >= 0).all()


def test_users_saturate_at_the_registered_users_and_churn_takes_them_away() -> None:
    scale, days = 0.0005, 12 * 30
    # Without churn adoption only adds, and fast adoption through ties reaches every
    # registered user: 1 − exp(−(1 + 10 f) / 12) a month with f, the share of ties using the
    # platform, above one half leaves fewer than 0.5 ** 11 of them out after eleven monthly
    # rounds.
    fast = _grow(
        scale, days, 3, **{"growth.churn": 0.0, "growth.external": 1.0, "growth.social": 10.0}
    )
    assert (np.diff(fast["adopted"].to_numpy()) >= 0).all()
    assert fast["adopted"].iloc[-1] == pytest.approx(fast["users"].iloc[-1], rel=0.01)
    assert fast["adopted"].iloc[-1] <= fast["users"].iloc[-1]
    # With no adoption, churn of 10 % a month leaves about 0.9 ** 11 of the first month's
    # users (creators never leave); without churn all of them stay.
    still = {"growth.external": 0.0, "growth.social": 0.0}
    kept = _grow(scale, days, 3, **still, **{"growth.churn": 0.0})["adopted"].to_numpy()
    lost = _grow(scale, days, 3, **still, **{"growth.churn": 0.1})["adopted"].to_numpy()
    assert (kept == kept[0]).all()
    assert lost[0] == kept[0]  # the set-up draws do not depend on churn
    n = kept[0]
    # Creators are about creator_share of the registered users; binomial sampling error of
    # the leavers over four standard deviations.
    expected = n * 0.9**11
    assert lost[-1] >= expected - 4 * np.sqrt(n * 0.9**11 * (1 - 0.9**11))
    assert lost[-1] < 0.6 * n


def test_the_storefront_threshold_scales_with_the_city(module) -> None:  # type: ignore[no-untyped-def]
    # A small city keeps every storefront, so each sells `scale` times what it would in the
    # whole city; the threshold on the mean GMV per open storefront follows.
    whole = Scenario.preset(module.SCENARIO)
    for scale in (0.0005, 0.002):
        small = module.base(scale)
        assert small.storefronts.n_storefronts == whole.storefronts.n_storefronts
        assert small.growth.storefront_entry_gmv == pytest.approx(
            whole.growth.storefront_entry_gmv * scale
        )
        assert small.growth.creator_entry_income == whole.growth.creator_entry_income
