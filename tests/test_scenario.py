"""Scenario files: exact round trips, shipped scenarios, and errors that name file, key, value."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from laotie import Scenario, ScenarioError, simulate
from laotie.scenario import shipped_scenarios

SHIPPED = [
    "county",
    "karate_club",
    "mudanjiang",
    "mudanjiang_2019",
    "mudanjiang_calibrated",
    "poverty_county",
    "village",
]


def test_the_shipped_scenarios_are_found() -> None:
    assert shipped_scenarios() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_toml_round_trip_is_exact(name: str, tmp_path: Path) -> None:
    scenario = Scenario.preset(name)
    path = tmp_path / "scenario.toml"
    path.write_text(scenario.to_toml(), encoding="utf-8")
    back = Scenario.from_toml(path)
    assert back == scenario
    assert back.to_toml() == scenario.to_toml()


def test_changed_values_survive_the_round_trip(tmp_path: Path) -> None:
    scenario = Scenario.preset("village").replace(
        **{"policy.traffic": "head", "decision.trust_weight": 0.1 + 0.2, "city.local_degree": 12.5}
    )
    path = tmp_path / "s.toml"
    path.write_text(scenario.to_toml(), encoding="utf-8")
    back = Scenario.from_toml(path)
    assert back == scenario
    assert back.decision.trust_weight == 0.1 + 0.2  # floats are written exactly


def test_village_runs_ninety_days_in_seconds() -> None:
    result = simulate(Scenario.preset("village"), seed=1)
    assert result.daily["day"].max() == 89
    assert result.summary.loc["all", "orders"] > 0
    assert result.outcomes["producer_income_total"] > 0


def test_scale_multiplies_the_populations() -> None:
    assert Scenario.preset("county", scale=0.1).city.n_residents == 10_000
    assert Scenario.preset("mudanjiang", scale=0.01).city.n_residents == 25_400


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


CITY = """
[city]
regions = [{ name = "A", population = 500, urban_share = 0.5 }]
local_degree = 8.0
group_size = 50
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CITY + "[polcy]\ntraffic = 'head'\n", r"unknown key 'polcy'; did you mean 'policy'"),
        (
            CITY + "[policy]\ntrafic = 'head'\n",
            r"\[policy\]: unknown key 'trafic'; did you mean 'traffic'",
        ),
        (
            CITY + "[policy]\ntraffic = 'headd'\n",
            r"\[policy\]: traffic = 'headd' is not allowed; expected one of 'head', "
            r"'inclusive'; did you mean 'head'",
        ),
        (
            CITY + "[creators]\npost_prob = 1.5\n",
            r"\[creators\]: post_prob = 1.5 is not allowed; expected a number, 0 ≤ value ≤ 1",
        ),
        (
            CITY + "[storefronts]\nn_storefronts = 'many'\n",
            r"n_storefronts = 'many' is not allowed; expected an integer",
        ),
        (CITY + "[training]\nn_creators = 5\n", r"training.n_creators = 5 but training.day = -1"),
        (
            CITY + "[training]\nday = 200\n[run]\ndays = 90\n",
            r"training.day = 200 is not within run.days = 90",
        ),
        (
            CITY + "[producers]\nn_producers = 900\n",
            r"producers.n_producers = 900 is more than the city's 500 residents",
        ),
        (
            CITY.replace("local_degree = 8.0", "creator_share = 0.0")
            + "[producers]\nn_producers = 5\n",
            r"no creator could list the specialties",
        ),
        ("[city]\nlocal_degree = 8.0\n", r"\[city\]: give either regions .* or preset"),
        (
            "[city]\npreset = 'mudanjiag'\n",
            r"preset = 'mudanjiag' is unknown; did you mean 'mudanjiang'",
        ),
        (
            "[city]\nregions = [{ name = 'A', populaton = 5, urban_share = 0.5 }]\n",
            r"regions\[0\]: unknown key 'populaton'; did you mean 'population'",
        ),
        (
            "[city]\nregions = [{ name = 'A', population = 0, urban_share = 0.5 }]\n",
            r"region 'A': population = 0",
        ),
        (
            CITY.replace("local_degree = 8.0", "local_degre = 8.0"),
            r"\[city\]: unknown key 'local_degre'; did you mean 'local_degree'",
        ),
        (CITY + "[run]\ndays = -3\n", r"\[run\]: days = -3 is not allowed"),
        ("[city\n", r"not valid TOML"),
    ],
)
def test_errors_name_the_file_the_key_and_the_value(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError, match=message) as caught:
        Scenario.from_toml(path)
    assert str(caught.value).startswith(str(path)) or "scenario 'bad'" in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="nope.toml: no such scenario file"):
        Scenario.from_toml(tmp_path / "nope.toml")


def test_a_file_with_a_byte_order_mark_is_read_as_without(
    bom_twins: Callable[[str, str], tuple[Path, Path]],
) -> None:
    text = (Path(__file__).parent.parent / "models" / "village" / "scenario.toml").read_text(
        encoding="utf-8"
    )
    plain, marked = bom_twins("scenario.toml", text)
    assert Scenario.from_toml(marked) == Scenario.from_toml(plain) == Scenario.preset("village")
    assert Scenario.load(marked).to_toml() == Scenario.load(plain).to_toml()


def test_unknown_scenario_suggests_the_nearest() -> None:
    with pytest.raises(ScenarioError, match="unknown scenario 'vilage'; did you mean 'village'"):
        Scenario.preset("vilage")


def test_parameter_table_lists_every_parameter_and_marks_changes() -> None:
    scenario = Scenario.preset("village").replace(**{"policy.traffic": "head"})
    table = scenario.parameter_table()
    assert len(table) == len(scenario.flat())
    row = table.set_index("key").loc["policy.traffic"]
    assert (row["value"], row["default"], row["changed"]) == ("head", "inclusive", True)
    assert not table.set_index("key").loc["decision.intercept", "changed"]
    assert table["source"].str.len().min() > 0


def test_basket_trust_effect_may_shrink_baskets_down_to_minus_one() -> None:
    # With trust at most 1, an effect of -1 leaves the Poisson rate at 0, never below.
    scenario = Scenario.preset("village").replace(**{"decision.basket_trust_effect": -1.0})
    assert scenario.decision.basket_trust_effect == -1.0
    with pytest.raises(ScenarioError, match=r"basket_trust_effect = -1.5.*-1 ≤ value ≤ 100"):
        Scenario.preset("village").replace(**{"decision.basket_trust_effect": -1.5})


def test_a_combination_of_keys_that_cannot_hold_names_the_file(tmp_path: Path) -> None:
    village = (Path(__file__).parent.parent / "models" / "village" / "scenario.toml").read_text(
        encoding="utf-8"
    )
    path = tmp_path / "shared.toml"
    path.write_text(
        village + '\n[products]\ncatalogue = "shared"\nn_products = 3\n', encoding="utf-8"
    )
    with pytest.raises(ScenarioError, match=r"shared\.toml: scenario 'village': products\.n_"):
        Scenario.from_toml(path)
