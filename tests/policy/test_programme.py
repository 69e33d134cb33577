"""Sets of creators judged by simulation: candidates, paired replications, objectives."""

from __future__ import annotations

import numpy as np
import pytest

from laotie import LaotieError, Scenario, graph
from laotie.policy import TrainingProgramme


@pytest.fixture(scope="module")
def programme() -> TrainingProgramme:
    village = Scenario.preset("village").replace(
        **{"run.days": 8, "training.day": 2, "training.follower_gain": 5}
    )
    return TrainingProgramme(village, graph.city(village.city, seed=1), "producer_income_total")


def test_candidates_are_the_creators_the_city_can_train(programme: TrainingProgramme) -> None:
    found = programme.candidates()
    g = programme.graph
    assert set(found["kind"]) <= {"head", "local"} and len(found)
    np.testing.assert_array_equal(found["followers"], g.followers()[found.index])
    assert (found["cost"] == 1).all()


def test_every_set_shares_the_replications_seeds(programme: TrainingProgramme) -> None:
    first = int(programme.candidates().index[0])
    values = programme([(), (first,), ()], 3, 3)
    assert values.shape == (3, 3)
    np.testing.assert_array_equal(values[0], values[2])  # the same set, the same numbers
    assert not np.array_equal(programme([()], 4, 3)[0], values[0])  # another seed differs
    # Training changes the market from the training day on, and only through the trained.
    trained = programme([(first,)], 3, 3)[0]
    np.testing.assert_array_equal(trained, values[1])


@pytest.mark.parametrize(
    ("objective", "message"),
    [
        ("gmv_total", "is not an outcome"),
        ({"producer_net_total": float("nan")}, "weight of producer_net_total is nan"),
        ({"producer_net_total": "x"}, "weight of producer_net_total is 'x'"),
    ],
)
def test_bad_objectives_are_named(programme: TrainingProgramme, objective, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LaotieError, match=message):
        TrainingProgramme(programme.scenario, programme.graph, objective)


def test_a_set_has_one_value_whatever_the_order_of_its_targets(
    programme: TrainingProgramme,
) -> None:
    # The trained creators' new followers are drawn in the order the creators are given:
    # the same set listed in another order (a heuristic's order of preference, the greedy
    # order) would otherwise be another policy, with other numbers.
    first, second = (int(node) for node in programme.candidates().index[:2])
    values = programme([(first, second), (second, first)], 3, 3)
    np.testing.assert_array_equal(values[0], values[1])


def test_a_programme_must_say_what_its_targets_are_and_need(
    programme: TrainingProgramme,
) -> None:
    # _Programme is abstract: a kind of target without candidates() or problem() is refused
    # when made, not when first used.
    from dataclasses import dataclass

    from laotie.policy.training import _Programme

    @dataclass
    class NoCandidates(_Programme):
        @classmethod
        def problem(cls, scenario: Scenario, days: int, table: str = "") -> str | None:
            return None

    @dataclass
    class NoProblem(_Programme):
        def candidates(self):  # type: ignore[no-untyped-def]
            return programme.candidates()

    for kind in (_Programme, NoCandidates, NoProblem):
        with pytest.raises(TypeError, match="abstract"):
            kind(programme.scenario, programme.graph)  # type: ignore[abstract]


def test_training_that_changes_nothing_is_refused(programme: TrainingProgramme) -> None:
    nothing = programme.scenario.replace(
        **{
            "training.authenticity_gain": 0.0,
            "training.content_quality_gain": 0.0,
            "training.follower_gain": 0,
        }
    )
    with pytest.raises(LaotieError, match="policy: training.authenticity_gain, content_quality"):
        TrainingProgramme(nothing, programme.graph)
    with pytest.raises(LaotieError, match='set "training.day" from 0 to 1, or lengthen days'):
        TrainingProgramme(programme.scenario, programme.graph, days=2)
