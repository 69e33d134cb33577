"""Sensitivity analysis: SALib's indices through our tables (known answers on test functions),
the plumbing through real runs (a parameter the model ignores has no effect, seeds, executors,
resuming), undefined outputs, bad specs and the command."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from SALib.test_functions import Ishigami

from laotie import LaotieError, Scenario, ScenarioError
from laotie.cli.sensitivity import add_parser
from laotie.executors import Processes
from laotie.results import SUMMARY_COLUMNS
from laotie.sensitivity import (
    Sensitivity,
    indices,
    load_sensitivity,
    output_names,
    output_values,
    run_sensitivity,
)

ROOT = Path(__file__).resolve().parents[1]

# Ishigami and Homma (1990), a = 7, b = 0.1: V = a²/8 + b·π⁴/5 + b²·π⁸/18 + 1/2,
# V1 = (1 + b·π⁴/5)²/2, V2 = a²/8, V13 = b²·π⁸·(1/18 - 1/50).
_A, _B = 7.0, 0.1
_V1 = (1 + _B * np.pi**4 / 5) ** 2 / 2
_V2 = _A**2 / 8
_V13 = _B**2 * np.pi**8 * (1 / 18 - 1 / 50)
_V = _V1 + _V2 + _V13
ISHIGAMI_S1 = np.array([_V1 / _V, _V2 / _V, 0.0])
ISHIGAMI_ST = np.array([(_V1 + _V13) / _V, _V2 / _V, _V13 / _V])


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_ones() -> None:
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    X = sobol_sample.sample(problem, 1024, calc_second_order=False, seed=7)
    table = indices(problem, X, Ishigami.evaluate(X), "sobol", seed=1)
    assert table.columns.tolist() == ["parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert table["parameter"].tolist() == ["x1", "x2", "x3"]
    np.testing.assert_allclose(ISHIGAMI_S1, [0.3139, 0.4424, 0.0], atol=1e-4)
    # Each analytic index lies inside the 95 % interval the analysis gives for it.
    assert (np.abs(table["S1"] - ISHIGAMI_S1) <= table["S1_conf"]).all(), table
    assert (np.abs(table["ST"] - ISHIGAMI_ST) <= table["ST_conf"]).all(), table
    assert (table["S1_conf"] < 0.1).all()


def test_morris_effects_of_a_linear_function_are_its_slopes_times_the_ranges() -> None:
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1], [-2, 2], [5, 6]]}
    X = morris_sample.sample(problem, 6, num_levels=4, seed=3)
    Y = 3.0 * X[:, 0] - 0.5 * X[:, 1] + 0.0 * X[:, 2]
    table = indices(problem, X, Y, "morris", num_levels=4)
    assert table.columns.tolist() == ["parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
    np.testing.assert_allclose(table["mu"], [3.0, -2.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(table["mu_star"], [3.0, 2.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(table["sigma"], 0.0, atol=1e-12)


def test_the_global_random_states_are_untouched() -> None:
    import random

    np_state, py_state = np.random.get_state()[1].copy(), random.getstate()
    spec = village_spec(method="sobol", samples=4)
    X = spec.design()
    indices(spec.problem(), X, X.sum(axis=1), "sobol")
    spec = village_spec()
    X = spec.design()
    indices(spec.problem(), X, X.sum(axis=1), "morris")
    assert (np.random.get_state()[1] == np_state).all() and random.getstate() == py_state


PARAMETERS = {
    "decision.trust_weight": [3.0, 7.0],
    "storefronts.comparisons": [0, 5],  # an integer: rounded when run
    # Information never changes purchases (docs/model.md 3.5), and this village posts none.
    "information.share_prob": [0.0, 0.1],
}


def village_spec(**changes: object) -> Sensitivity:
    kwargs: dict = {"method": "morris", "samples": 3, "days": 8, "seed": 5, **changes}
    return Sensitivity(Scenario.preset("village"), PARAMETERS, "all.conversion", **kwargs)


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory):
    return run_sensitivity(village_spec(), tmp_path_factory.mktemp("serial"))


def test_a_real_analysis_gives_one_finite_row_per_parameter(serial) -> None:
    table = serial.indices
    assert table["parameter"].tolist() == list(PARAMETERS)
    assert np.isfinite(table.drop(columns="parameter").to_numpy()).all()
    assert len(serial.points) == 3 * (len(PARAMETERS) + 1)
    assert np.isfinite(serial.points["value"]).all()
    assert serial.sweep.runs["storefronts.comparisons"].map(type).eq(int).all()
    assert table.set_index("parameter").loc["decision.trust_weight", "mu_star"] > 0


def test_a_parameter_the_model_ignores_has_no_effect_at_all(serial) -> None:
    row = serial.indices.set_index("parameter").loc["information.share_prob"]
    assert row["mu"] == 0 and row["mu_star"] == 0 and row["sigma"] == 0


def test_every_kind_of_output_is_read_from_the_runs(serial) -> None:
    summary = set(serial.sweep.summary.columns) - {"run", "channel"}
    assert set(SUMMARY_COLUMNS) == summary
    for output in ("creators_with_sales", "traffic.gmv", "all.orders"):
        values = output_values(serial.sweep, output)
        assert len(values) == len(serial.points) and np.isfinite(values["value"]).all()
    ratio = output_values(serial.sweep, "trust_traffic_conversion_ratio")["value"]
    trust = output_values(serial.sweep, "trust.conversion")["value"]
    traffic = output_values(serial.sweep, "traffic.conversion")["value"]
    np.testing.assert_allclose(ratio, trust / traffic)


@pytest.mark.integration  # worker processes
def test_same_spec_same_indices_with_one_worker_or_two(serial, tmp_path: Path) -> None:
    again = run_sensitivity(village_spec(), tmp_path / "again")
    pd.testing.assert_frame_equal(again.indices, serial.indices)
    two = run_sensitivity(village_spec(), tmp_path / "two", executor=Processes(2))
    pd.testing.assert_frame_equal(two.indices, serial.indices)
    pd.testing.assert_frame_equal(two.points, serial.points)
    # Running again in the same folder reruns nothing and gives the same indices.
    record = tmp_path / "again" / "sweep" / "runs" / "run_000000.json"
    kept = record.stat().st_mtime_ns
    resumed = run_sensitivity(village_spec(), tmp_path / "again")
    assert record.stat().st_mtime_ns == kept
    pd.testing.assert_frame_equal(resumed.indices, serial.indices)
    # Another seed gives another sample.
    assert not np.array_equal(village_spec(seed=6).design(), village_spec().design())


def test_an_undefined_output_stops_the_analysis_and_says_where(tmp_path: Path) -> None:
    # Word of mouth starts the day after an order: a one-day run has no wom exposures.
    spec = Sensitivity(
        Scenario.preset("village"),
        {"decision.trust_weight": [3.0, 7.0]},
        "wom.conversion",
        method="morris",
        samples=2,
        days=1,
    )
    with pytest.raises(LaotieError, match=r"wom.conversion is undefined .* at 4 of 4 points"):
        run_sensitivity(spec, tmp_path)


def test_sobol_of_an_output_no_parameter_changes_is_refused(tmp_path: Path) -> None:
    spec = Sensitivity(
        Scenario.preset("village"),
        {"information.share_prob": [0.0, 0.1]},
        "all.gmv",
        samples=2,
        days=2,
    )
    with pytest.raises(LaotieError, match="no parameter changes it"):
        run_sensitivity(spec, tmp_path)


GOOD = """\
scenario = "village"
method = "morris"
samples = 2
output = "all.conversion"
days = 2
seed = 1
[parameters]
"decision.trust_weight" = [3.0, 7.0]
"policy.reach" = []
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("samples = 2", "sample = 2"), r"unknown key 'sample'; did you mean 'samples'\?"),
        (
            ('output = "all.conversion"', 'output = "all.conversoin"'),
            r"output = 'all.conversoin' is unknown; did you mean 'all.conversion'\?.*allowed",
        ),
        (('"decision.trust_weight"', '"decision.trust_weigth"'), "did you mean 'decision.trust"),
        (("[3.0, 7.0]", "[7.0, 3.0]"), r"\[7.0, 3.0\]; expected a finite range with low < high"),
        (("[3.0, 7.0]", '"high"'), r"= 'high'; expected \[low, high\]"),
        (('"policy.reach" = []', '"policy.traffic" = []'), "policy.traffic is one of .* numeric"),
        (
            ('"policy.reach" = []', '"creators.authenticity_mean" = []'),
            r"authenticity_mean = \[0, 1\]: .* = 0.0 is not allowed; expected a number, 0 < val",
        ),
        (('method = "morris"', 'method = "sobel"'), "did you mean 'sobol'"),
        (
            ('method = "morris"\nsamples = 2', 'method = "sobol"\nsamples = 12'),
            "samples = 12; Sobol's sample needs a power of 2",
        ),
        (("samples = 2", "samples = 1"), r"samples = 1; expected an integer ≥ 2"),
        (("seed = 1", "seed = -1"), r"seed = -1; expected an integer ≥ 0"),
        (("days = 2", "days = 2\ncalc_second_order = true"), "does not apply to method = 'mor"),
        (('scenario = "village"', ""), "scenario is missing"),
        (('scenario = "village"', 'scenario = "vilage"'), "did you mean 'village'"),
        (('scenario = "village"', 'scenario = "missing.toml"'), "no such scenario file"),
        (
            (GOOD[GOOD.index("[parameters]") :], "parameters = 3\n"),
            "parameters = 3; expected a table",
        ),
        (("[parameters]", "[parameters"), "not valid TOML"),
    ],
)
def test_bad_specs_are_refused_naming_the_file_key_and_value(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "spec.toml"
    assert change[0] in GOOD
    path.write_text(GOOD.replace(*change, 1), encoding="utf-8")
    with pytest.raises(ScenarioError, match=message) as err:
        load_sensitivity(path)
    assert str(err.value).startswith(f"{path}: ")


def test_sobol_samples_must_be_a_power_of_two() -> None:
    with pytest.raises(ScenarioError, match=r"samples = 12; .*power of 2 \(e.g. 8 or 16\)"):
        village_spec(method="sobol", samples=12)
    assert len(village_spec(method="sobol", samples=8).design()) == 8 * (3 + 2)
    second = village_spec(method="sobol", samples=8, calc_second_order=True)
    assert len(second.design()) == 8 * (2 * 3 + 2)


def test_a_spec_with_a_byte_order_mark_is_read_as_without(
    bom_twins: Callable[[str, str], tuple[Path, Path]],
) -> None:
    plain, marked = bom_twins("spec.toml", GOOD)
    assert load_sensitivity(marked) == load_sensitivity(plain)


def test_a_missing_spec_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="nope.toml: no such sensitivity spec"):
        load_sensitivity(tmp_path / "nope.toml")


def test_output_names_cover_outcomes_channel_metrics_and_ratios() -> None:
    names = output_names()
    assert {"creator_income_gini", "all.gmv", "trust.conversion"} <= set(names)
    assert {"trust_traffic_conversion_ratio", "trust_traffic_order_value_ratio"} <= set(names)


def test_the_shipped_specs_load() -> None:
    sobol = load_sensitivity(ROOT / "experiments" / "sensitivity" / "trust_traffic.toml")
    assert sobol.method == "sobol" and len(sobol.design()) == sobol.samples * (4 + 2)
    assert sobol.output == "trust_traffic_conversion_ratio"
    morris = load_sensitivity(ROOT / "experiments" / "sensitivity" / "trust_traffic_morris.toml")
    assert morris.method == "morris" and len(morris.design()) == morris.samples * (4 + 1)


def test_the_command_writes_the_table_and_the_figure(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(GOOD, encoding="utf-8")
    parser = argparse.ArgumentParser(prog="laotie")
    sub = parser.add_subparsers()
    sensitivity = add_parser(sub, argparse.ArgumentParser(add_help=False))
    assert "example spec" in sensitivity.format_help()
    out = tmp_path / "out"
    args = parser.parse_args(["sensitivity", str(spec), "--out", str(out), "--quiet"])
    assert args.run(args) == 0
    printed = capsys.readouterr().out
    assert "| parameter | mu | mu_star | mu_star_conf | sigma |" in printed
    for name in ("indices.csv", "indices.md", "points.csv", "sensitivity.png"):
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "indices.csv")
    assert table["parameter"].tolist() == ["decision.trust_weight", "policy.reach"]
    assert (out / "sensitivity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
