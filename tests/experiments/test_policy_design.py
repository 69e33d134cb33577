"""The policy-design experiment in quick mode: its tables follow the stored evaluations, the
comparison's replications never include the selection's, and the answer says "beats" only
when the interval allows it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from laotie.errors import LaotieError
from laotie.experiment import run_experiment
from laotie.policy import HEURISTICS, Stored, heuristic_sets, phase_seed
from tests.experiments.checks import brackets

EXPERIMENT = "policy_design"


def _stored(module, out, folder: str, targets, seed: int, replications: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    path = Stored(None, out / folder / "evaluations").path(tuple(targets), seed, replications)
    with np.load(path) as stored:
        return stored["values"]


def test_files_columns_intervals_and_labels(report, module) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    mode = module.settings(True)
    for name in ("comparison", "steps", "sets"):
        assert (out / f"{name}.csv").exists() and (out / f"{name}.md").exists(), name
        brackets(result.tables[name])
    assert (out / "figures" / "policy_design_budgets.png").exists()
    table = result.tables["comparison"]
    assert list(table["budget"].unique()) == mode["budgets"]
    assert set(table["policy"]) == {"optimised", *HEURISTICS}
    assert len(result.tables["steps"]) == max(mode["budgets"])
    assert [h.label for h in result.headlines] == ["predicted"] + ["counterfactual"] * 3
    assert len(result.answer) == len(result.answer_zh) == 3
    assert not any("nan" in line for line in result.answer + result.answer_zh)
    assert "policy_design --quick" in (out / "report.md").read_text()


def test_the_comparison_never_uses_a_replication_of_the_selection(report, module) -> None:  # type: ignore[no-untyped-def]
    # Every comparison slot runs with a child seed of the evaluate phase, never the select
    # phase's seed; and the stored evaluations of each draw are exactly those of its seed.
    out, _ = report
    mode = module.settings(True)
    chooser = phase_seed(module.SEED, "select")
    fresh = [module.fresh_seed(d) for d in range(mode["draws"])]
    assert chooser not in fresh and len(set(fresh)) == len(fresh)
    children = {
        tuple(child.generate_state(4))
        for seed in fresh
        for child in np.random.SeedSequence(seed).spawn(mode["fresh"])
    }
    selection = {
        tuple(child.generate_state(4))
        for child in np.random.SeedSequence(chooser).spawn(mode["replications"])
    }
    assert not children & selection
    sets = json.loads((out / "select" / "optimise.json").read_text())["spec"]
    assert sets["experiment"] == module.NAME
    for d, seed in enumerate(fresh):
        files = set((out / "evaluate" / f"draw-{d:02d}" / "evaluations").glob("*.npz"))
        store = Stored(None, out / "evaluate" / f"draw-{d:02d}" / "evaluations")
        labels = [*pd.read_csv(out / "sets.csv")["creators"].tolist(), "none"]
        expected = {
            store.path(
                tuple() if s == "none" else tuple(int(t) for t in s.split()), seed, mode["fresh"]
            )
            for s in labels
        }
        assert files == expected


def test_tables_follow_the_stored_evaluations(report, module) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    mode = module.settings(True)
    sets = pd.read_csv(out / "sets.csv")
    table = result.tables["comparison"].set_index(["budget", "policy"])

    def column(creators: str) -> np.ndarray:
        targets = () if creators == "none" else tuple(int(t) for t in creators.split())
        return np.concatenate(
            [
                _stored(
                    module,
                    out,
                    f"evaluate/draw-{d:02d}",
                    targets,
                    module.fresh_seed(d),
                    mode["fresh"],
                )
                for d in range(mode["draws"])
            ]
        )

    none = column("none")
    for row in sets.itertuples():
        gain = column(row.creators) - none
        per_draw = gain.reshape(mode["draws"], mode["fresh"]).mean(axis=1)
        assert table.at[(row.budget, row.policy), "expected_gain"] == pytest.approx(
            per_draw.mean(), abs=1e-9
        )
        assert table.at[(row.budget, row.policy), "creators"] == len(row.creators.split())


def test_the_optimised_sets_are_the_greedy_picks_and_the_heuristics_their_rules(
    report, module
) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    steps = result.tables["steps"]
    sets = result.tables["sets"].set_index(["budget", "policy"])
    picks = steps.sort_values("step")["target"].tolist()
    for b in module.settings(True)["budgets"]:
        assert sets.at[(b, "optimised"), "creators"] == module.label(tuple(picks[:b]))
    # The heuristics' sets are those of laotie.policy.heuristic_sets on the same candidates.
    from laotie.graph import city
    from laotie.policy import TrainingProgramme

    county = module.base(module.settings(True)["scale"])
    programme = TrainingProgramme(county, city(county.city, seed=module.SEED), module.OBJECTIVE)
    candidates = programme.candidates()
    b = max(module.settings(True)["budgets"])
    for name, targets in heuristic_sets(candidates, b, module.SEED).items():
        assert sets.at[(b, name), "creators"] == module.label(tuple(targets))
    top = candidates.sort_values("followers", ascending=False, kind="stable").index[:b]
    assert sets.at[(b, "most followers"), "creators"] == module.label(tuple(top))
    # What the steps table says about each pick is that creator's proxies.
    for row in steps.itertuples():
        assert row.followers == candidates.at[row.target, "followers"]
        assert row.region == candidates.at[row.target, "region"]


@pytest.mark.parametrize(
    ("low", "high", "word"),
    [(1.0, 5.0, "clearly more"), (-5.0, -1.0, "clearly less"), (-1.0, 5.0, "honest null")],
)
def test_the_answer_says_beats_only_when_the_interval_is_above_zero(
    module, low: float, high: float, word: str
) -> None:  # type: ignore[no-untyped-def]
    row = pd.Series({"d": (low + high) / 2, "d_low": low, "d_high": high})
    english, chinese = module.verdict(row, "d", "them", "他们")
    assert word in english and "他们" in chinese


@pytest.mark.parametrize("key", ["decision.intercept", "run.days", "training.rule"])
def test_a_change_to_what_the_experiment_decides_is_refused_before_any_run(
    tmp_path, key: str
) -> None:  # type: ignore[no-untyped-def]
    value = "local" if key == "training.rule" else 50 if key == "run.days" else 0.0
    with pytest.raises(LaotieError, match=f"--set {key}"):
        run_experiment(EXPERIMENT, quick=True, out=tmp_path / "out", changes={key: value})
    assert not (tmp_path / "out" / "select").exists()
