"""Parameter uncertainty: posterior draws of a calibrated scenario, sweeps over draws ×
replications, and the split of an outcome's spread into parameters and chance."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from laotie import LaotieError, Scenario, ScenarioError
from laotie.posterior import load_posterior
from laotie.runs import replicate
from laotie.stats import decompose
from laotie.sweep import Sweep, run_sweep

DRAWS = [
    {"decision.trust_weight": 2.0, "population.activity_mean": 0.3},
    {"decision.trust_weight": 6.0, "population.activity_mean": 0.5},
    {"decision.trust_weight": 4.0, "population.activity_mean": 0.4},
]


def draw_sweep(**kwargs: object) -> Sweep:
    return Sweep(
        Scenario.preset("village"),
        cases=[{}, {"decision.trust_weight": 9.0}],
        replications=2,
        days=6,
        seed=11,
        draws=DRAWS,
        **kwargs,
    )


# ------------------------------------------------------------------ sweeps over draws
def test_every_point_runs_every_draw_times_the_replications() -> None:
    runs = draw_sweep().runs()
    assert len(runs) == 2 * 3 * 2
    first = runs[runs["point"] == 0]
    assert first["replication"].tolist() == list(range(6))
    assert first["draw"].tolist() == [0, 0, 1, 1, 2, 2]
    sweep = draw_sweep()
    # Common random numbers: slot k of every point has the same seed and the same draw.
    for run in range(6):
        assert sweep.seed_key(run) == sweep.seed_key(run + 6) == run
        assert sweep.draw(run) == sweep.draw(run + 6) == DRAWS[run // 2]
    independent = draw_sweep(common_random_numbers=False)
    assert len({independent.seed_key(run) for run in range(12)}) == 12


def test_a_run_is_its_draw_under_its_point(tmp_path: Path) -> None:
    sweep = draw_sweep()
    result = run_sweep(sweep, tmp_path)
    assert (result.runs["status"] == "ok").all()
    base = Scenario.preset("village")
    for run in (3, 9):  # draw 1, replication 1: point 0 keeps the draw's trust_weight
        point = sweep.points()[run // 6]
        scenario = base.replace(**DRAWS[1]).replace(**point)
        (expected,) = replicate(scenario, 1, days=6, seed=sweep.run_seed(run))
        got = result.summary.set_index(["run", "channel"]).loc[(run, "all"), "gmv"]
        assert got == expected.summary.loc["all", "gmv"]
    # The point's own key wins over the draw's: the two points differ in every slot's GMV
    # only because trust_weight does.
    gmv = result.values("gmv", "all")
    assert (gmv.iloc[:, 0] != gmv.iloc[:, 1]).all()
    # Draws change the runs: slots of different draws differ more than chance would make
    # them equal.
    assert gmv.iloc[:, 0].nunique() == 6


def test_draws_are_part_of_the_sweep_and_checked() -> None:
    assert "draws" not in Sweep(Scenario.preset("village")).to_dict()  # old stores keep keys
    assert draw_sweep().to_dict()["draws"][1] == DRAWS[1]
    with pytest.raises(ScenarioError, match=r"draws\[1\]: .*click_prob"):
        Sweep(
            Scenario.preset("village"),
            draws=[{"storefronts.click_prob": 0.1}, {"storefronts.click_prob": 1.5}],
        )
    with pytest.raises(ScenarioError, match=r"draws\[0\]: .*nonsense"):
        Sweep(Scenario.preset("village"), draws=[{"decision.nonsense": 1.0}])
    with pytest.raises(ScenarioError, match="draws must be a list"):
        Sweep(Scenario.preset("village"), draws={"decision.trust_weight": 1.0})  # type: ignore[arg-type]


# ------------------------------------------------------------------ the posterior file
def test_the_shipped_posterior_gives_distinct_reproducible_draws() -> None:
    posterior = load_posterior("mudanjiang_calibrated")
    assert len(posterior.table) == 1000
    draws = posterior.draws(5, seed=4)
    assert draws == posterior.draws(5, seed=4)
    assert draws != posterior.draws(5, seed=5)
    assert len({tuple(d.values()) for d in draws}) == 5
    rows = {tuple(row) for row in posterior.table.itertuples(index=False)}
    assert all(tuple(d.values()) in rows for d in draws)  # real draws, not resampled values
    medians = posterior.intervals()["median"]
    scenario = posterior.scenario.flat()
    for key in ("decision.trust_weight", "storefronts.click_prob"):
        assert scenario[key] == pytest.approx(medians[key], rel=1e-3)  # the medians, 4 digits
    with pytest.raises(ScenarioError, match="from 1 to 1000"):
        posterior.draws(1001, seed=1)
    with pytest.raises(ScenarioError, match="seed = -1"):
        posterior.draws(3, seed=-1)
    every = posterior.draws(1000, seed=2)  # without replacement: every stored draw once
    assert len({tuple(d.values()) for d in every}) == len(rows)


def test_a_subset_of_keys_keeps_each_draws_joint_values() -> None:
    posterior = load_posterior("mudanjiang_calibrated")
    keys = ["loyalty.weight", "decision.trust_weight"]
    whole = posterior.draws(4, seed=7)
    part = posterior.draws(4, seed=7, keys=keys)
    assert [list(d) for d in part] == [keys] * 4
    assert part == [{k: d[k] for k in keys} for d in whole]  # the same rows, not mixed
    with pytest.raises(ScenarioError, match="'loyalty.wieght' is not one of.*did you mean"):
        posterior.draws(2, seed=1, keys=["loyalty.wieght"])
    for wrong in ("loyalty.weight", []):  # a string is not a list of keys
        with pytest.raises(ScenarioError, match="expected a non-empty list"):
            posterior.draws(2, seed=1, keys=wrong)  # type: ignore[arg-type]


def copy_calibrated(tmp_path: Path) -> Path:
    folder = tmp_path / "calibrated"
    shutil.copytree(Path(load_posterior("mudanjiang_calibrated").path).parent, folder)
    return folder


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda t: t.rename(columns={"decision.trust_weight": "decision.trust_wieght"}),
            "'decision.trust_wieght' is not a parameter.*did you mean",
        ),
        (
            lambda t: t.assign(**{"decision.trust_weight": ["x"] + [1.0] * (len(t) - 1)}),
            r"row 2, column 'decision.trust_weight': 'x' is not a finite number",
        ),
        (
            lambda t: t.assign(**{"storefronts.click_prob": [1.5] + [0.03] * (len(t) - 1)}),
            r"row 2: .*click_prob",
        ),
        (lambda t: t.iloc[:0], "no draws"),
        (
            lambda t: t.assign(**{"decision.trust_weight": [""] + [1.0] * (len(t) - 1)}),
            r"row 2, column 'decision.trust_weight': '' is not a finite number",
        ),
    ],
)
def test_a_damaged_posterior_is_a_named_error(tmp_path: Path, edit, message) -> None:  # type: ignore[no-untyped-def]
    folder = copy_calibrated(tmp_path)
    table = pd.read_csv(folder / "posterior.csv")
    edit(table).to_csv(folder / "posterior.csv", index=False)
    with pytest.raises(ScenarioError, match=message) as error:
        load_posterior(folder)
    assert str(folder / "posterior.csv") in str(error.value)


def test_a_scenario_without_draws_says_so(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="mudanjiang.*no posterior draws"):
        load_posterior("mudanjiang")
    with pytest.raises(ScenarioError, match="unknown scenario"):
        load_posterior("mudanjaing")


# ------------------------------------------------------------------ parameters against chance
def test_the_split_recovers_known_variance_components() -> None:
    rng = np.random.default_rng(7)
    n_draws, replications, param_sd, chance_sd = 400, 4, 2.0, 1.0
    effects = rng.normal(0.0, param_sd, n_draws)
    draws = np.repeat(np.arange(n_draws), replications)
    values = 10 + effects[draws] + rng.normal(0.0, chance_sd, len(draws))
    got = decompose(values, draws)
    truth = param_sd**2 / (param_sd**2 + chance_sd**2)
    # Standard error of the share from the ANOVA estimators' variances (delta method):
    # var(s2_param) ≈ 2/R² [(R σp² + σc²)²/(D-1) + σc⁴/(D(R-1))], var(MSW) = 2σc⁴/(D(R-1)).
    total = param_sd**2 + chance_sd**2
    var_param = (
        2
        / replications**2
        * (
            (replications * param_sd**2 + chance_sd**2) ** 2 / (n_draws - 1)
            + chance_sd**4 / (n_draws * (replications - 1))
        )
    )
    var_chance = 2 * chance_sd**4 / (n_draws * (replications - 1))
    se = np.sqrt(
        (chance_sd**2 / total**2) ** 2 * var_param + (param_sd**2 / total**2) ** 2 * var_chance
    )
    assert got["param_share"] == pytest.approx(truth, abs=4 * se)
    assert got["mean"] == pytest.approx(values.mean())
    assert got["n"] == len(values)


def test_a_hand_computed_split_and_interval() -> None:
    # Draw means -0.5 and 3.5 around 1.5: MSB = 16, MSW = 2.5, n0 = 2, s2_param = 6.75.
    got = decompose([-1.0, 0.0, 2.0, 5.0], [0, 0, 1, 1])
    assert got["param_share"] == pytest.approx(6.75 / 9.25)
    assert got["scale"] == "linear"  # a value at or below 0: the values themselves
    half = scipy.stats.t.ppf(0.975, 1) * np.sqrt(6.75 * 1.5 + 2.5 * 1.25)
    assert (got["low"], got["high"]) == pytest.approx((1.5 - half, 1.5 + half))
    # Positive values: the same on the logarithms, mapped back; the split stays linear.
    positive = decompose([1.0, 2.0, 4.0, 7.0], [0, 0, 1, 1])
    logs = decompose(np.log([1.0, 2.0, 4.0, 7.0]), [0, 0, 1, 1], scale="linear")
    assert positive["scale"] == "log" and positive["param_share"] == pytest.approx(6.75 / 9.25)
    assert positive["mean"] == 3.5
    assert (positive["low"], positive["high"]) == pytest.approx(
        (np.exp(logs["low"]), np.exp(logs["high"]))
    )


@pytest.mark.parametrize(
    "make, inside",
    [
        (lambda rng, effect: np.exp(effect + rng.normal(0.0, 0.5)), (0.0, np.inf)),  # GMV-like
        (lambda rng, effect: 1 / (1 + np.exp(-(effect + rng.normal(0.0, 0.5)))), (0.0, 1.0)),
    ],
)
def test_bounded_quantities_keep_their_bounds_and_coverage(make, inside) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(12)
    trials, hits = 1500, 0
    draws = np.repeat(np.arange(5), 2)
    for _ in range(trials):
        effects = rng.normal(0.0, 1.0, 5)
        values = np.array([make(rng, effects[d]) for d in draws])
        got = decompose(values, draws)
        assert inside[0] < got["low"] <= got["high"] < inside[1]
        hits += got["low"] <= make(rng, rng.normal(0.0, 1.0)) <= got["high"]
    se = np.sqrt(0.95 * 0.05 / trials)
    assert 0.95 - 3 * se <= hits / trials <= 0.995


@pytest.mark.parametrize(
    "make, inside",
    [
        # A share that reaches 1 in some runs (creators with a sale): clipped, not log-mapped.
        (lambda rng, effect: min(1.0, 0.9 + 0.05 * (effect + rng.normal(0.0, 1.0))), (0, 1)),
        # A count that is 0 in some runs: never a negative lower end.
        (lambda rng, effect: max(0.0, effect + rng.normal(0.0, 1.0)), (0, np.inf)),
    ],
)
def test_values_touching_a_bound_keep_it_and_their_coverage(make, inside) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    trials, hits, touched = 1500, 0, 0
    draws = np.repeat(np.arange(5), 2)
    for _ in range(trials):
        effects = rng.normal(0.0, 1.0, 5)
        values = np.array([make(rng, effects[d]) for d in draws])
        got = decompose(values, draws)
        touched += bool(np.any(np.isin(values, inside)))
        assert inside[0] <= got["low"] <= got["mean"] <= got["high"] <= inside[1]
        hits += got["low"] <= make(rng, rng.normal(0.0, 1.0)) <= got["high"]
    assert touched > trials / 4  # the case under test happens
    se = np.sqrt(0.95 * 0.05 / trials)
    assert hits / trials >= 0.95 - 3 * se


def test_a_difference_can_be_kept_linear_and_a_bounded_quantity_clipped() -> None:
    positive = [0.02, 0.05, 0.01, 0.09]  # a difference whose runs happen to be positive
    assert decompose(positive, [0, 0, 1, 1])["low"] > 0  # auto: logit, cannot cross 0
    linear = decompose(positive, [0, 0, 1, 1], scale="linear")
    assert linear["scale"] == "linear" and linear["low"] < 0 < linear["high"]
    runs, slots = [9.0, 13.0, 11.0, 14.0, 12.0, 13.0], [0, 0, 1, 1, 2, 2]
    days = decompose(runs, slots, bounds=(1.0, 14.0))
    assert days["high"] == 14.0 and days["low"] > 1.0  # days of a 14-day run
    free = decompose(runs, slots)
    assert free["high"] > 14.0 and free["low"] == days["low"]
    ratios = [0.5, 0.6, 0.55, 0.7]  # a ratio of order values: below 1 here, not a share
    assert decompose(ratios, [0, 0, 1, 1])["high"] < 1  # auto takes it for a share
    positive = decompose(ratios, [0, 0, 1, 1], scale="positive")
    assert positive["scale"] == "log" and positive["high"] > 1
    assert decompose([0.0, 0.4, 0.2, 0.9], [0, 0, 1, 1], scale="positive")["scale"] == (
        "shifted log"
    )
    with pytest.raises(LaotieError, match="scale = 'logarithmic'; expected one of auto, posit"):
        decompose(positive, [0, 0, 1, 1], scale="logarithmic")


def test_bounds_are_checked_against_each_other_and_the_values() -> None:
    runs, slots = [9.0, 13.0, 11.0, 14.0], [0, 0, 1, 1]
    got = decompose(runs, slots, bounds=(1, 14))
    assert isinstance(got["high"], float) and got["high"] == 14.0
    with pytest.raises(LaotieError, match=r"bounds = \(14, 1\); the low one is above the high"):
        decompose(runs, slots, bounds=(14, 1))
    with pytest.raises(LaotieError, match=r"value 14 lies outside bounds = \(1, 13\)"):
        decompose(runs, slots, bounds=(1, 13))
    with pytest.raises(LaotieError, match=r"value 9 lies outside bounds = \(10, None\)"):
        decompose(runs, slots, bounds=(10, None))
    for bad in [(1,), "19", ("1", "14"), {1, 14}, (True, 14), b"ab"]:
        with pytest.raises(LaotieError, match="expected \\(low, high\\), each a number or"):
            decompose(runs, slots, bounds=bad)  # type: ignore[arg-type]
    with pytest.raises(LaotieError, match="a bound is NaN"):
        decompose(runs, slots, bounds=(np.nan, 14))
    # Missing and infinite values are left out, not checked.
    assert decompose([*runs, np.nan, np.inf], [*slots, 2, 2], bounds=(1, 14))["n"] == 4
    # A share that exceeds 1 by a rounding error (summed from parts) is a share.
    shares = [0.9, 1.0000000000000002, 0.95, 1.0]
    got = decompose(shares, slots, bounds=(0, 1))
    assert got["scale"] == "squeezed logit" and got["high"] == 1.0 and got["mean"] <= 1.0
    with pytest.raises(LaotieError, match="value 1.001 lies outside"):
        decompose([0.9, 1.001, 0.95, 1.0], slots, bounds=(0, 1))


def test_the_predictive_interval_covers_a_new_run() -> None:
    # A new run is a new draw and new chance; with 5 draws × 2 replications the interval
    # must cover it about 95 % of the time or more (t with D - 1 degrees of freedom is
    # conservative), never the 70 % that the sample quantiles of 10 runs would give.
    rng = np.random.default_rng(11)
    trials, hits = 2000, 0
    draws = np.repeat(np.arange(5), 2)
    for _ in range(trials):
        values = rng.normal(0.0, 1.0, 5)[draws] + rng.normal(0.0, 1.0, 10)
        got = decompose(values, draws)
        hits += got["low"] <= rng.normal(0.0, 1.0) + rng.normal(0.0, 1.0) <= got["high"]
    se = np.sqrt(0.95 * 0.05 / trials)
    assert 0.95 - 3 * se <= hits / trials <= 0.995


def test_the_split_takes_unequal_draws_and_missing_values() -> None:
    rng = np.random.default_rng(8)
    sizes = rng.integers(2, 7, 300)
    draws = np.repeat(np.arange(300), sizes)
    values = rng.normal(0.0, 1.0, 300)[draws] + rng.normal(0.0, 1.0, len(draws))
    values[::17] = np.nan
    got = decompose(values, draws)
    assert got["n"] == np.count_nonzero(~np.isnan(values))
    assert got["param_share"] == pytest.approx(0.5, abs=0.1)  # ~4 standard errors at n0 ≈ 4


def test_the_split_at_its_edges() -> None:
    assert decompose([1.0, 1.0, 3.0, 3.0], [0, 0, 1, 1])["param_share"] == 1.0
    assert decompose([1.0, 3.0, 1.0, 3.0], [0, 0, 1, 1])["param_share"] == 0.0
    assert np.isnan(decompose([1.0, 2.0, 3.0], [0, 1, 2])["param_share"])  # one run per draw
    assert np.isnan(decompose([1.0, 2.0], [0, 0])["param_share"])  # one draw
    assert np.isnan(decompose([2.0, 2.0, 2.0, 2.0], [0, 0, 1, 1])["param_share"])  # no spread
    empty = decompose([np.nan, np.nan], [0, 1])
    assert empty["n"] == 0 and np.isnan(empty["mean"])
    finite = decompose([1.0, 2.0, np.inf, 3.0, -np.inf], [0, 0, 1, 1, 1])
    assert finite["n"] == 3 and finite["mean"] == 2.0 and np.isfinite(finite["high"])
    with pytest.raises(Exception, match="one length"):
        decompose([1.0, 2.0], [0])


def test_an_integer_parameter_must_be_whole_in_the_posterior(tmp_path: Path) -> None:
    folder = copy_calibrated(tmp_path)
    table = pd.read_csv(folder / "posterior.csv")
    table["products.n_categories"] = [2.5] + [20] * (len(table) - 1)
    table.to_csv(folder / "posterior.csv", index=False)
    with pytest.raises(ScenarioError, match=r"row 2, column 'products.n_categories': '2.5' is not"):
        load_posterior(folder)
