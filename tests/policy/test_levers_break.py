"""Adversarial checks of target = "levers": specs a user gets wrong, each refused in one line
naming the file, the key, the value and what is allowed; odd inputs of the Python API; and
tests that catch plausible slips in ``tune`` and ``greedy`` (each written against a mutation
that the other tests let through)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from laotie import Scenario
from laotie.errors import LaotieError, ScenarioError
from laotie.policy import Lever, LeverProgramme, levers, load_optimise, tune
from laotie.policy.run import claim

pytest.importorskip("optuna")

SPEC = """\
scenario = "poverty_county"
scale = 0.02
seed = 3
days = 10
target = "levers"
objective = "producer_net_total"
trials = 2
batch = 2
replications = 2
fresh = 2
"""

LEVERS = '[levers]\n"policy.head_cap" = [0.1, 0.6]\n'


def _spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _refused(tmp_path: Path, text: str) -> str:
    path = _spec(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_optimise(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message


# Specs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ['["levers"]', "{ kind = 'levers' }"])
def test_a_target_that_is_a_list_or_a_table_is_refused_not_a_type_error(
    tmp_path: Path, value: str
) -> None:
    text = SPEC.replace('target = "levers"', f"target = {value}") + LEVERS
    message = _refused(tmp_path, text)
    assert (
        "target = " in message
        and "expected one of 'train', 'operators', 'seeds', 'enrol', 'levers'" in message
    )


def test_a_lever_given_quoted_and_as_a_table_is_refused_not_overwritten(tmp_path: Path) -> None:
    text = SPEC + LEVERS + "[levers.policy]\nhead_cap = [0.2, 0.5]\n"
    message = _refused(tmp_path, text)
    assert "[levers] policy.head_cap is given twice ([0.1, 0.6] and [0.2, 0.5])" in message


def test_a_lever_range_written_as_a_table_is_named_as_a_range(tmp_path: Path) -> None:
    text = SPEC + '[levers]\n"policy.head_cap" = { low = 0.1, high = 0.6 }\n'
    message = _refused(tmp_path, text)
    assert "the range of policy.head_cap is {'low': 0.1, 'high': 0.6}; expected (low, high)" in (
        message
    )


def test_set_keys_may_be_written_unquoted_as_levers_keys_may(tmp_path: Path) -> None:
    # policy.head_cap = 0.2 without quotes is, in TOML, a table policy holding head_cap.
    spec = load_optimise(_spec(tmp_path, SPEC + LEVERS + "[set]\npolicy.head_cap = 0.2\n"))
    assert spec.scenario.policy.head_cap == 0.2
    assert spec.checked_levers[0].current == 0.2


def test_an_unquoted_set_key_the_spec_decides_is_still_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, SPEC + LEVERS + "[set]\nrun.days = 5\n")
    assert "[set] run.days = 5; set days instead" in message


def test_a_set_key_given_twice_is_refused(tmp_path: Path) -> None:
    text = SPEC + LEVERS + '[set]\n"policy.reach" = 0.2\n[set.policy]\nreach = 0.4\n'
    assert "[set] policy.reach is given twice (0.2 and 0.4)" in _refused(tmp_path, text)


# The Python API --------------------------------------------------------------------------


def _curve(settings: Any, seed: int, replications: int) -> np.ndarray:
    """A known curve, highest at x = 0.3, with noise of the replications' seed."""
    x = np.array([s["x"] for s in settings])
    noise = np.random.default_rng(seed).normal(0, 0.01, (len(settings), replications))
    return -((x - 0.3) ** 2)[:, None] + noise


FIT = {"fit": "maximize"}


@pytest.fixture(scope="module")
def county() -> Scenario:
    return Scenario.preset("poverty_county")


def test_levers_takes_a_dict_of_ranges_and_numpy_bounds(county: Scenario) -> None:
    with pytest.raises(LaotieError, match=r"ranges = \[\('policy.head_cap'.*expected a dict"):
        levers(county, [("policy.head_cap", (0.1, 0.5))])  # type: ignore[arg-type]
    with pytest.raises(LaotieError, match="ranges = {}; expected a dict"):
        levers(county, {})
    (found,) = levers(county, {"policy.head_cap": np.array([0.1, 0.5])})  # type: ignore[dict-item]
    assert (found.low, found.high) == (0.1, 0.5)


@pytest.mark.parametrize(
    ("current", "integer", "message"),
    [
        (float("nan"), False, "current = nan; expected a finite number"),
        ("0.5", False, "current = '0.5'; expected a finite number"),
        (True, False, "current = True; expected a finite number"),
        (1.5, True, "current = 1.5; expected a whole number"),
    ],
)
def test_a_lever_refuses_a_current_value_that_is_not_a_number(
    current: Any, integer: bool, message: str
) -> None:
    with pytest.raises(LaotieError, match=message):
        Lever("x", 0, 3, integer=integer, current=current)


def test_a_lever_may_start_outside_its_range() -> None:
    # A [set] value outside the searched range is the baseline, as docs/policy.md says.
    assert Lever("x", 0.0, 1.0, current=5.0).current == 5.0


def test_tune_refuses_ranges_or_tuples_for_levers_and_a_list_of_directions() -> None:
    with pytest.raises(LaotieError, match=r"levers = {'x': \(0, 1\)}; expected a sequence"):
        tune(_curve, {"x": (0, 1)}, seed=1, trials=2, directions=FIT)  # type: ignore[arg-type]
    with pytest.raises(LaotieError, match=r"\('x', 0, 1\) is not a Lever"):
        tune(_curve, [("x", 0, 1)], seed=1, trials=2, directions=FIT)  # type: ignore[list-item]
    with pytest.raises(LaotieError, match=r"directions = \['maximize'\]; expected a dict"):
        tune(
            _curve,
            [Lever("x", 0, 1)],
            seed=1,
            trials=2,
            directions=["maximize"],  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    "weights", [{"producer_net_total": 0}, {"producer_net_total": 1, "creator_income_gini": 0}]
)
def test_a_lever_programme_refuses_a_weight_of_0_as_the_spec_does(
    county: Scenario, weights: dict[str, float]
) -> None:
    with pytest.raises(LaotieError, match="is 0; expected a finite number other than 0"):
        LeverProgramme(county, None, weights)  # type: ignore[arg-type]


def test_a_lever_programme_refuses_a_monthly_rate_its_runs_never_define(county: Scenario) -> None:
    with pytest.raises(LaotieError, match="monthly_repurchase_all is first recorded on day 60"):
        LeverProgramme(county, None, "monthly_repurchase_all", days=20)  # type: ignore[arg-type]
    LeverProgramme(county, None, "monthly_repurchase_all", days=61)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("trials", "batch", "replications", "seed"),
    [(1, 4, 2, 0), (3, 10, 2, 1), (2, 2, 2, 10**30), (2, 2, 2, np.uint64(2**64 - 1))],
)
def test_tune_takes_odd_but_valid_arguments(
    trials: int, batch: int, replications: int, seed: int
) -> None:
    found = tune(
        _curve,
        [Lever("x", 0.0, 1.0)],
        seed=seed,
        trials=trials,
        batch=batch,
        replications=replications,
        fresh=2,
        directions=FIT,
    )
    assert len(found.trials) == trials
    assert list(found.settings) == ["baseline", "best"]
    assert 0 <= found.best["x"] <= 1


# The folder ------------------------------------------------------------------------------


def test_a_folder_of_another_spec_is_refused_naming_what_differs(tmp_path: Path) -> None:
    spec = load_optimise(_spec(tmp_path, SPEC + LEVERS))
    (tmp_path / "out").mkdir()
    claim(tmp_path / "out", spec.to_dict())
    other = dataclasses.replace(spec, trials=4)
    with pytest.raises(LaotieError, match="settings: trials is 2 there, 4 here\\); use another"):
        claim(tmp_path / "out", other.to_dict())
    wider = load_optimise(_spec(tmp_path, SPEC + LEVERS.replace("0.6]", "0.7]")))
    with pytest.raises(
        LaotieError, match=r"levers.policy.head_cap is \[0.1, 0.6\] there, \[0.1, 0.7\] here"
    ):
        claim(tmp_path / "out", wider.to_dict())


# Mutations the other tests let through ---------------------------------------------------


@pytest.fixture(scope="module")
def small() -> tuple[Scenario, Any]:
    from laotie import graph

    scenario = Scenario.preset("poverty_county")
    scenario = dataclasses.replace(scenario, city=scenario.city.scaled(0.02))
    return scenario, graph.city(scenario.city, seed=1)


def test_a_programme_weighs_its_outcomes_and_shares_random_numbers(
    small: tuple[Scenario, Any],
) -> None:
    scenario, city = small
    settings = [{"policy.head_cap": 0.3}, {"policy.head_cap": 0.3}]

    def values(objectives: Any) -> np.ndarray:
        return LeverProgramme(scenario, city, objectives, days=5)(settings, 1, 2)

    net, producers = values("producer_net_total"), values("producers_with_income")
    # One setting twice in one call: the same replications (common random numbers).
    np.testing.assert_array_equal(net[0], net[1])
    np.testing.assert_allclose(values({"producer_net_total": -2.0}), -2.0 * net)
    both = values({"producer_net_total": 1.0, "producers_with_income": 3.0})
    np.testing.assert_allclose(both, net + 3.0 * producers)


def test_the_chosen_trial_is_the_best_mean_over_the_replications_not_the_first() -> None:
    def misleading(settings: Any, seed: int, replications: int) -> np.ndarray:
        # Replication 0 favours a high x; the mean over all is the curve, highest at 0.3.
        x = np.array([s["x"] for s in settings])[:, None]
        tilt = np.where(np.arange(replications) == 0, 10.0, -10.0 / (replications - 1))
        return -((x - 0.3) ** 2) + tilt * x

    found = tune(
        misleading, [Lever("x", 0.0, 1.0)], seed=2, trials=12, replications=4, directions=FIT
    )
    trials = found.trials
    assert trials.loc[trials["chosen"], "fit"].item() == trials["fit"].max()


def test_the_sampler_follows_the_seed() -> None:
    def draws(seed: int) -> list[float]:
        found = tune(_curve, [Lever("x", 0.0, 1.0)], seed=seed, trials=4, directions=FIT)
        return found.trials["x"].tolist()

    assert draws(1) != draws(2)
    assert draws(1) == draws(1)


def test_a_trial_interval_is_kept_within_what_the_outcome_can_take() -> None:
    def spread(settings: Any, seed: int, replications: int) -> np.ndarray:
        # A Gini of 0 or 0.5: a t interval over two replications reaches far below 0.
        return np.tile([0.0, 0.5], (len(settings), replications // 2))

    found = tune(
        spread,
        [Lever("x", 0.0, 1.0)],
        seed=1,
        trials=2,
        replications=2,
        directions={"creator_income_gini": "minimize"},
    )
    assert (found.trials["creator_income_gini_low"] == 0.0).all()
    assert (found.trials["creator_income_gini_high"] == 1.0).all()


def test_the_front_is_named_in_order_of_its_first_objective() -> None:
    def opposed(settings: Any, seed: int, replications: int) -> np.ndarray:
        # a = x and b = 1 - x, both maximised: every trial is on the front, and the order by
        # a is the reverse of the order by b.
        x = np.array([s["x"] for s in settings])
        return np.repeat(np.stack([x, 1 - x], axis=1)[:, :, None], replications, axis=2)

    found = tune(
        opposed,
        [Lever("x", 0.0, 1.0)],
        seed=1,
        trials=4,
        directions={"a": "maximize", "b": "maximize"},
    )
    front = [found.settings[f"front {i}"]["x"] for i in range(4)]
    assert front == sorted(front)
