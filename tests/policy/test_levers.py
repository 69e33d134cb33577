"""Continuous levers searched by optuna: checked ranges, known optima, the Pareto front, seeds
disjoint between the phases, and the same numbers whatever the number of workers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pytest

from laotie import LaotieError, Scenario, ScenarioError, graph
from laotie.executors import Processes, Serial
from laotie.policy import Lever, LeverProgramme, levers, phase_seed, tune

pytest.importorskip("optuna")

LEVERS = {"policy.discovery_per_active": (0.0, 3.0), "training.follower_gain": (0, 200)}


@pytest.fixture(scope="module")
def county() -> Scenario:
    return Scenario.preset("poverty_county", scale=0.02).replace(**{"run.days": 40})


@pytest.fixture(scope="module")
def city(county: Scenario) -> graph.TrustGraph:
    return graph.city(county.city, seed=1)


def _noise(seed: int, replications: int) -> np.ndarray:
    """What every setting shares in replication r (common random numbers)."""
    return np.random.default_rng(seed).normal(0, 1, replications)


Curve = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Known:
    """Known curves of the levers ``x`` and ``y`` (by objective), plus noise that every
    setting shares replication by replication; records the seeds it is given."""

    def __init__(self, curves: Mapping[str, Curve]) -> None:
        self.curves = curves
        self.calls: list[tuple[int, int, int]] = []

    def __call__(
        self, settings: Sequence[Mapping[str, float]], seed: int, replications: int
    ) -> np.ndarray:
        self.calls.append((seed, replications, len(settings)))
        x = np.array([s["x"] for s in settings])
        y = np.array([s.get("y", 0.0) for s in settings])
        means = np.stack([curve(x, y) for curve in self.curves.values()], axis=1)
        return means[:, :, None] + _noise(seed, replications)[None, None, :]


def test_levers_take_their_bounds_and_current_values_from_the_scenario(
    county: Scenario,
) -> None:
    found = levers(county, LEVERS)
    assert [lever.key for lever in found] == list(LEVERS)
    assert found[0].current == county.policy.discovery_per_active and not found[0].integer
    assert found[1].current == county.training.follower_gain and found[1].integer


@pytest.mark.parametrize(
    ("ranges", "error", "message"),
    [
        ({"policy.discovery_per_activ": (0, 1)}, LaotieError, "did you mean 'policy.discovery"),
        ({"policy.traffic": (0, 1)}, LaotieError, "traffic = 'inclusive' is not a numeric"),
        ({"word_of_mouth.trust_scaled": (0, 1)}, LaotieError, "trust_scaled = False is not a"),
        ({"policy.head_cap": (0.1, 1.5)}, ScenarioError, r"head_cap = 1.5 is not allowed.*≤ 1"),
        ({"policy.head_cap": (0.5, 0.5)}, LaotieError, r"head_cap: the range \(0.5, 0.5\)"),
        ({"policy.head_cap": (0.6, 0.2)}, LaotieError, "expected low < high"),
        ({"training.follower_gain": (0, 2.5)}, LaotieError, "high = 2.5; expected a whole"),
        ({"policy.head_cap": (0.1, float("nan"))}, LaotieError, "expected a finite number"),
        ({"policy.head_cap": 0.3}, LaotieError, r"range of policy.head_cap is 0.3"),
        ({"city.local_degree": (5, 10)}, LaotieError, "the same for every trial"),
        ({"run.days": (5, 10)}, LaotieError, "cannot be a lever"),
    ],
)
def test_bad_levers_are_named(county: Scenario, ranges, error, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        levers(county, ranges)


def test_training_levers_that_cannot_matter_are_refused(county: Scenario) -> None:
    untrained = county.replace(**{"training.day": -1, "training.n_creators": 0})
    with pytest.raises(LaotieError, match="follower_gain cannot matter: training.day = -1"):
        levers(untrained, {"training.follower_gain": (0, 10)})
    nobody = county.replace(**{"training.n_creators": 0})
    with pytest.raises(LaotieError, match="gain cannot matter: training.n_creators = 0"):
        levers(nobody, {"training.content_quality_gain": (0, 0.5)})


@pytest.mark.parametrize(
    ("objectives", "message"),
    [
        ("producer_net_totl", "did you mean 'producer_net_total'"),
        ({"producer_net_total": "maximise"}, "direction of producer_net_total is 'maximise'"),
        ({"producer_net_total": 1.0, "creator_income_gini": "minimize"}, "mix weights"),
        ({"producer_net_total": float("inf")}, "weight of producer_net_total is inf"),
        ({}, "expected an outcome"),
    ],
)
def test_bad_objectives_are_named(county: Scenario, city, objectives, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LaotieError, match=message):
        LeverProgramme(county, city, objectives)


def test_objectives_give_directions(county: Scenario, city) -> None:  # type: ignore[no-untyped-def]
    single = LeverProgramme(county, city, "producer_net_total")
    assert single.directions == {"producer_net_total": "maximize"}
    weighted = LeverProgramme(county, city, {"producer_net_total": 1.0, "creator_income_gini": -50})
    assert weighted.directions == {"objective": "maximize"}
    front = LeverProgramme(
        county, city, {"producer_income_total": "maximize", "creator_income_gini": "minimize"}
    )
    assert front.directions == {
        "producer_income_total": "maximize",
        "creator_income_gini": "minimize",
    }


def test_tune_refuses_bad_settings() -> None:
    known = Known({"f": lambda x, y: x})
    x = [Lever("x", 0.0, 1.0)]
    with pytest.raises(LaotieError, match="directions = None"):
        tune(known, x, seed=1, trials=4)
    with pytest.raises(LaotieError, match="direction of f is 'up'"):
        tune(known, x, seed=1, trials=4, directions={"f": "up"})
    with pytest.raises(LaotieError, match="replications = 1"):
        tune(known, x, seed=1, trials=4, replications=1, directions={"f": "maximize"})
    with pytest.raises(LaotieError, match="x is given twice"):
        tune(known, x * 2, seed=1, trials=4, directions={"f": "maximize"})
    with pytest.raises(LaotieError, match=r"evaluate returned shape \(4, 2, 8\)"):
        tune(
            Known({"f": lambda x, y: x, "g": lambda x, y: x}),
            x,
            seed=1,
            trials=4,
            directions={"f": "maximize"},
        )


def _random_search_tolerance(trials: int, miss: float = 1e-3) -> float:
    """The half-width t such that random search over [0, 1] misses [x* − t, x* + t] in every
    one of ``trials`` draws with probability ``miss`` (x* at least t inside the range, one
    lever matters): TPE must do at least as well."""
    return (1 - miss ** (1 / trials)) / 2


@pytest.mark.parametrize(
    ("direction", "curve", "optimum"),
    [
        ("maximize", lambda x, y: -((x - 0.3) ** 2), 0.3),
        ("minimize", lambda x, y: (x - 0.7) ** 2, 0.7),
    ],
)
def test_tune_finds_a_known_optimum_and_ignores_a_lever_that_cannot_matter(
    direction, curve, optimum
) -> None:  # type: ignore[no-untyped-def]
    trials = 40
    known = Known({"f": curve})
    found = tune(
        known,
        [Lever("x", 0.0, 1.0, current=0.0), Lever("y", 0.0, 1.0)],
        seed=3,
        trials=trials,
        replications=3,
        fresh=4,
        batch=4,
        directions={"f": direction},
    )
    assert abs(found.best["x"] - optimum) < _random_search_tolerance(trials)
    table = found.trials
    assert len(table) == trials and list(table["trial"]) == list(range(trials))
    assert table["chosen"].sum() == 1
    # The chosen row is the best mean of the table (the values were told in trial order).
    means = table["f"].to_numpy()
    best_row = int(np.argmax(means) if direction == "maximize" else np.argmin(means))
    assert table.loc[best_row, "chosen"] and table.loc[best_row, "x"] == found.best["x"]
    # Fresh replications, paired: the shared noise cancels, the difference is the curve's.
    row = found.table.set_index("setting").loc["best"]
    expected = curve(np.array([found.best["x"]]), None)[0] - curve(np.array([0.0]), None)[0]
    assert row["difference"] == pytest.approx(expected, abs=1e-9)
    assert row["difference_high"] - row["difference_low"] == pytest.approx(0, abs=1e-9)


def test_the_fresh_replications_share_no_seed_with_the_search() -> None:
    known = Known({"f": lambda x, y: x})
    tune(
        known,
        [Lever("x", 0.0, 1.0)],
        seed=5,
        trials=8,
        replications=3,
        fresh=4,
        batch=4,
        directions={"f": "maximize"},
    )
    select, evaluate = phase_seed(5, "select"), phase_seed(5, "evaluate")
    assert [call[0] for call in known.calls] == [select, select, evaluate]
    assert [call[1] for call in known.calls] == [3, 3, 4]
    assert known.calls[-1][2] == 2  # the baseline and the best

    def states(seed: int, n: int) -> set[tuple[int, ...]]:
        children = np.random.SeedSequence(seed).spawn(n)
        return {tuple(child.generate_state(4)) for child in children}

    assert not states(select, 3) & states(evaluate, 4)


def _dominated(points: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Whether each of ``points`` (to maximise) is dominated by a row of ``by``."""
    at_least = (by[None, :, :] >= points[:, None, :]).all(axis=2)
    better = (by[None, :, :] > points[:, None, :]).any(axis=2)
    return (at_least & better).any(axis=1)


def test_two_objectives_in_conflict_give_a_front_that_spans_the_range() -> None:
    trials = 12
    found = tune(
        Known({"f1": lambda x, y: x, "f2": lambda x, y: -x}),
        [Lever("x", 0.0, 1.0)],
        seed=2,
        trials=trials,
        replications=2,
        fresh=3,
        batch=4,
        directions={"f1": "maximize", "f2": "maximize"},
    )
    table = found.trials
    assert table["chosen"].all()  # every x trades f1 for f2
    span = 1 - 1e-3 ** (1 / trials)  # random draws miss [0, t] with probability 1e-3
    assert table["x"].min() < span and table["x"].max() > 1 - span
    front = [name for name in found.settings if name.startswith("front")]
    assert len(front) == trials
    with pytest.raises(LaotieError, match="Pareto front"):
        _ = found.best


def test_the_front_holds_exactly_the_non_dominated_trials() -> None:
    found = tune(
        Known({"f1": lambda x, y: x - y, "f2": lambda x, y: -x - y}),
        [Lever("x", 0.0, 1.0), Lever("y", 0.0, 1.0)],
        seed=4,
        trials=12,
        replications=2,
        fresh=3,
        batch=4,
        directions={"f1": "maximize", "f2": "minimize"},
    )
    table = found.trials
    points = np.column_stack([table["f1"], -table["f2"]])  # both to maximise
    chosen = table["chosen"].to_numpy()
    assert 0 < chosen.sum() < len(table)
    np.testing.assert_array_equal(~_dominated(points, points), chosen)
    compared = found.table
    assert set(compared["objective"]) == {"f1", "f2"}
    assert (compared["setting"] == "baseline").sum() == 2


def _programme(county: Scenario, city, executor=None) -> LeverProgramme:  # type: ignore[no-untyped-def]
    return LeverProgramme(
        county,
        city,
        {"producer_income_total": "maximize", "creator_income_gini": "minimize"},
        executor=executor,
    )


def _search(programme: LeverProgramme):  # type: ignore[no-untyped-def]
    return tune(
        programme, programme.levers(LEVERS), seed=1, trials=8, replications=2, fresh=2, batch=4
    )


def test_a_simulated_search_repeats_itself_and_is_paired(county: Scenario, city) -> None:  # type: ignore[no-untyped-def]
    first = _search(_programme(county, city, Serial()))
    again = _search(_programme(county, city, Serial()))
    pd.testing.assert_frame_equal(first.trials, again.trials)
    pd.testing.assert_frame_equal(first.table, again.table)
    # Every trial ran the scenario with its own values: the levers moved the outcomes.
    assert first.trials["producer_income_total"].nunique() == len(first.trials)
    # The baseline is the scenario's own setting, evaluated like any other.
    baseline = first.settings["baseline"]
    assert baseline == {"policy.discovery_per_active": 0.3, "training.follower_gain": 50}
    alone = _programme(county, city)([baseline], phase_seed(1, "evaluate"), 2)[0]
    np.testing.assert_array_equal(alone[0], first.values["producer_income_total"]["baseline"])


@pytest.mark.integration
def test_workers_do_not_change_a_number(county: Scenario, city) -> None:  # type: ignore[no-untyped-def]
    serial = _search(_programme(county, city, Serial()))
    parallel = _search(_programme(county, city, Processes(2)))
    pd.testing.assert_frame_equal(serial.trials, parallel.trials)
    pd.testing.assert_frame_equal(serial.table, parallel.table)
