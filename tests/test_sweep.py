"""Sweeps: seeds spawned by key, identical with any executor, resumable, failures kept, arms
paired by common random numbers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from laotie import LaotieError, Scenario, ScenarioError
from laotie.cli import main
from laotie.executors import Lost, Serial
from laotie.sweep import Sweep, SweepResult, collect, failures, load_sweep, run_sweep
from laotie.sweep.runner import BUNDLE_RUNS, _bundles

GRID = {"policy.traffic": ["head", "inclusive"], "decision.trust_weight": [3.0, 5.0]}


def sweep(**kwargs: object) -> Sweep:
    return Sweep(Scenario.preset("village"), GRID, replications=2, days=8, seed=3, **kwargs)


def assert_same(a: SweepResult, b: SweepResult) -> None:
    """Equal tables, but for the seconds each run took."""
    pd.testing.assert_frame_equal(a.runs.drop(columns="seconds"), b.runs.drop(columns="seconds"))
    for name in ("daily", "summary", "outcomes"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


@pytest.mark.integration  # worker processes
def test_one_worker_or_two_give_the_same_tables(tmp_path: Path) -> None:
    one = run_sweep(sweep(), tmp_path / "one", workers=1)
    two = run_sweep(sweep(), tmp_path / "two", workers=2)
    assert_same(one, two)
    assert (one.runs["status"] == "ok").all() and len(one.runs) == 8
    assert one.daily["run"].nunique() == 8
    assert sorted(one.summary["run"].unique()) == list(range(8))
    assert one.outcomes["run"].tolist() == list(range(8))
    # Replications of one point differ.
    first = one.daily[one.daily["run"] == 0]["orders"].to_numpy()
    second = one.daily[one.daily["run"] == 1]["orders"].to_numpy()
    assert (first != second).any()


def test_an_interrupted_sweep_resumes_to_the_same_result(tmp_path: Path) -> None:
    whole = run_sweep(sweep(), tmp_path / "whole")
    out = tmp_path / "interrupted"
    run_sweep(sweep(), out)
    # An interruption leaves some runs without their record (a run counts once it is written).
    for run in (2, 5, 6):
        (out / "runs" / f"run_{run:06d}.json").unlink()
    kept = (out / "runs" / "run_000000.json").stat().st_mtime_ns
    resumed = run_sweep(sweep(), out)
    assert (out / "runs" / "run_000000.json").stat().st_mtime_ns == kept  # not rerun
    assert_same(resumed, whole)


def test_a_folder_of_another_sweep_is_refused(tmp_path: Path) -> None:
    run_sweep(sweep(), tmp_path)
    with pytest.raises(LaotieError, match="different sweep.*would mix"):
        run_sweep(sweep(common_random_numbers=False), tmp_path)


def test_the_same_grid_with_its_keys_in_another_order_is_another_sweep(tmp_path: Path) -> None:
    run_sweep(sweep(), tmp_path)
    reordered = Sweep(
        Scenario.preset("village"), dict(reversed(GRID.items())), replications=2, days=8, seed=3
    )
    # Its runs take other points in the same slots: resuming would read them mislabelled.
    assert reordered.points() != sweep().points()
    with pytest.raises(LaotieError, match="different sweep"):
        run_sweep(reordered, tmp_path)
    stored = json.loads((tmp_path / "sweep.json").read_text(encoding="utf-8"))
    assert list(stored["sweep"]["grid"]) == list(GRID)  # kept in its order, not sorted


def test_runs_stored_under_a_spec_edited_by_hand_are_run_again(tmp_path: Path) -> None:
    run_sweep(sweep(), tmp_path)
    longer = sweep().to_dict() | {"days": 9}  # an edit the parameters of a run do not show
    spec = tmp_path / "sweep.json"
    stored = json.loads(spec.read_text(encoding="utf-8"))
    spec.write_text(json.dumps(stored | {"sweep": longer}), encoding="utf-8")
    edited = Sweep(Scenario.preset("village"), GRID, replications=2, days=9, seed=3)
    stale = collect(edited, tmp_path)
    assert (stale.runs["status"] == "damaged").all()
    assert stale.runs["error"].str.contains("another spec of this sweep").all()
    assert stale.daily.empty
    again = run_sweep(edited, tmp_path)
    assert (again.runs["status"] == "ok").all()
    assert again.daily.groupby("run")["day"].nunique().eq(9).all()  # every run redone: 9 days
    assert_same(again, run_sweep(edited, tmp_path / "fresh"))


def test_common_random_numbers_pair_the_arms(tmp_path: Path) -> None:
    # Two arms with the same parameters: under common random numbers replication r of both
    # is the same run, so every paired difference is exactly 0; independent runs differ.
    twins = {"decision.trust_weight": [3.0, 3.0]}
    base = Scenario.preset("village")
    crn = run_sweep(Sweep(base, twins, replications=3, days=6, seed=5), tmp_path / "crn")
    gmv = crn.values("gmv", "all")
    assert gmv.shape == (3, 2)
    assert (gmv.iloc[:, 0].to_numpy() == gmv.iloc[:, 1].to_numpy()).all()
    assert gmv.iloc[:, 0].nunique() == 3  # replications differ
    compared = crn.compare("gmv", "all")
    assert compared["difference"].iloc[1] == 0.0
    assert compared["difference_low"].iloc[1] == compared["difference_high"].iloc[1] == 0.0
    independent = run_sweep(
        Sweep(base, twins, replications=3, days=6, seed=5, common_random_numbers=False),
        tmp_path / "independent",
    )
    values = independent.values("gmv", "all")
    assert (values.iloc[:, 0].to_numpy() != values.iloc[:, 1].to_numpy()).all()


def test_compare_is_the_paired_t_interval_of_the_runs(tmp_path: Path) -> None:
    result = run_sweep(sweep(), tmp_path)
    compared = result.compare("conversion", "trust", baseline=0)
    assert list(compared.index) == result.arms().tolist()
    assert compared.index[0] == "policy.traffic=head, decision.trust_weight=3.0"
    # The same numbers by hand, from the tidy tables.
    trust = result.summary[result.summary["channel"] == "trust"].set_index("run")["conversion"]
    runs = result.runs.assign(value=result.runs["run"].map(trust))
    base = runs[runs["point"] == 0]["value"].to_numpy()
    arm = runs[runs["point"] == 3]["value"].to_numpy()
    d = arm - base
    half = scipy.stats.t.ppf(0.975, 1) * d.std(ddof=1) / np.sqrt(2)
    row = compared.iloc[3]
    assert row["n"] == 2
    assert row["difference"] == pytest.approx(d.mean())
    assert row["difference_low"] == pytest.approx(d.mean() - half)
    assert row["relative"] == pytest.approx(d.mean() / base.mean())
    with pytest.raises(LaotieError, match="unknown metric 'conversoin'.*did you mean"):
        result.compare("conversoin", "trust")
    with pytest.raises(LaotieError, match="unknown outcome"):
        result.compare("gmv")
    long = result.comparisons()
    assert set(long["metric"]) >= {"gmv", "producer_income_total"}


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 100,000 storefronts need a memory table larger than the engine allows (lowered here
    # to 10 MB: two bits a storefront fit the real limit at this scale): that run fails, in
    # this process (one worker). (Without the check of the memory available, which could
    # refuse it first on a machine with little memory free, with another message.)
    monkeypatch.setenv("LAOTIE_MEMORY_CHECK", "0")
    monkeypatch.setattr("laotie.engine.market.MAX_STOREFRONT_MEMORY_BYTES", 10_000_000)
    failing = Sweep(
        Scenario.preset("county", scale=0.5),
        {"storefronts.n_storefronts": [5, 100_000]},
        days=2,
        seed=1,
    )
    result = run_sweep(failing, tmp_path / "out")
    table, daily = result.runs, result.daily
    assert table["status"].tolist() == ["ok", "error"]
    failed = failures(result)
    assert failed["storefronts.n_storefronts"].tolist() == [100_000]
    assert "storefront memories" in failed["error"].iloc[0]
    message = failed["error"].iloc[0]
    assert "the limit is 10 MB" in message and "0.0 GB" not in message  # not rounded to 0
    assert set(daily["run"]) == {0}


def test_a_spec_with_a_byte_order_mark_is_read_as_without(
    bom_twins: Callable[[str, str], tuple[Path, Path]],
) -> None:
    plain, marked = bom_twins(
        "sweep.toml",
        'scenario = "village"\ndays = 5\nreplications = 2\n'
        '[grid]\n"policy.traffic" = ["head", "inclusive"]\n',
    )
    assert load_sweep(marked) == load_sweep(plain)
    assert len(load_sweep(marked).runs()) == 4


def test_spec_files_and_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "sweep.toml"
    spec.write_text(
        'scenario = "village"\ndays = 5\nseed = 2\nreplications = 2\n'
        '[grid]\n"policy.traffic" = ["head", "inclusive"]\n',
        encoding="utf-8",
    )
    assert len(load_sweep(spec).runs()) == 4
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "4 of 4 runs done" in printed
    assert "Differences from the first arm" in printed
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert list(runs.columns[:4]) == ["run", "point", "policy.traffic", "replication"]
    comparison = pd.read_csv(tmp_path / "out" / "comparison.csv")
    assert set(comparison["arm"]) == {"policy.traffic=head", "policy.traffic=inclusive"}
    for name in ("daily", "summary", "outcomes"):
        assert (tmp_path / "out" / f"{name}.parquet").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text('scenario = "village"\n[grid]\n"policy.trafic" = ["head"]\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad.toml: .*did you mean 'traffic'"):
        load_sweep(bad)
    bad.write_text('scenario = "village"\nreplicatons = 2\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="did you mean 'replications'"):
        load_sweep(bad)


def test_latin_hypercube_samples_within_declared_bounds() -> None:
    base = Scenario.preset("village")
    sampled = Sweep(
        base,
        sample={"decision.trust_weight": [1.0, 6.0], "creators.post_prob": None},
        samples=20,
        seed=4,
    )
    runs = sampled.runs()
    assert len(runs) == 20
    weights = runs["decision.trust_weight"].to_numpy()
    # A Latin hypercube puts exactly one point in each of the 20 equal strata of each range.
    assert sorted(((weights - 1.0) / 5.0 * 20).astype(int)) == list(range(20))
    post = runs["creators.post_prob"].to_numpy()  # declared bounds: 0 ≤ post_prob ≤ 1
    assert sorted((post * 20).astype(int)) == list(range(20))
    again = Sweep(base, sample=sampled.sample, samples=20, seed=4).runs()
    pd.testing.assert_frame_equal(runs, again)
    # Sobol points keep their balance properties at powers of two.
    assert (
        Sweep(base, sample=sampled.sample, samples=16, seed=4, method="sobol")
        .runs()["decision.trust_weight"]
        .between(1.0, 6.0)
        .all()
    )


def test_sampling_needs_a_finite_numeric_range(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from laotie.sections import Training

    base = Scenario.preset("village")
    # Every declared number has both bounds now: a declaration without one, as a stand-in.
    declared = Training.params()
    unbounded = dataclasses.replace(declared["follower_gain"], high=None)
    monkeypatch.setattr(
        Training, "params", classmethod(lambda cls: declared | {"follower_gain": unbounded})
    )
    with pytest.raises(ScenarioError, match="training.follower_gain has no declared range on"):
        Sweep(base, sample={"training.follower_gain": None}, samples=3)
    monkeypatch.undo()
    with pytest.raises(ScenarioError, match="policy.traffic is .* not numeric.*in the grid"):
        Sweep(base, sample={"policy.traffic": None}, samples=3)
    with pytest.raises(ScenarioError, match="did you mean 'decision.trust_weight'"):
        Sweep(base, sample={"decision.trust_weigth": [1, 2]}, samples=3)
    with pytest.raises(ScenarioError, match=r"\[2.0, 1.0\]; expected a finite range with low < h"):
        Sweep(base, sample={"decision.trust_weight": [2.0, 1.0]}, samples=3)


def test_samples_without_keys_to_sample_is_an_error() -> None:
    with pytest.raises(ScenarioError, match=r"samples = 8 but no key to sample.*\[sample\]"):
        Sweep(Scenario.preset("village"), samples=8)


def test_cases_may_set_different_keys(tmp_path: Path) -> None:
    # A key one case leaves out keeps the base scenario's value (not NaN from the table).
    cases = [{"policy.traffic": "head"}, {"decision.trust_weight": 2}]
    result = run_sweep(Sweep(Scenario.preset("village"), cases=cases, days=3, seed=1), tmp_path)
    assert (result.runs["status"] == "ok").all(), result.runs["error"].tolist()
    records = [
        json.loads((tmp_path / "runs" / f"run_{run:06d}.json").read_text()) for run in (0, 1)
    ]
    assert records[0]["parameters"] == {"policy.traffic": "head"}
    assert records[1]["parameters"] == {"decision.trust_weight": 2}
    assert isinstance(records[1]["parameters"]["decision.trust_weight"], int)
    assert result.arms().tolist() == ["policy.traffic=head", "decision.trust_weight=2"]


def test_values_take_the_summary_names(tmp_path: Path) -> None:
    result = run_sweep(Sweep(Scenario.preset("village"), days=3, seed=1), tmp_path)
    days = result.values("exposed_user_days", "all")
    assert days.iloc[0, 0] == result.summary.query("channel == 'all'")["exposed_user_days"].iloc[0]
    with pytest.raises(LaotieError, match="did you mean 'exposed_user_days'"):
        result.values("exposed_users", "all")


def test_information_tables_are_stored_per_run(tmp_path: Path) -> None:
    from laotie import simulate

    base = Scenario.preset("village").replace(**{"information.n_messages": 1})
    sweep = Sweep(base, {"information.share_prob": [0.0, 0.3]}, replications=2, days=6, seed=4)
    result = run_sweep(sweep, tmp_path)
    daily = result.information()
    assert sorted(daily["run"].unique()) == [0, 1, 2, 3]
    assert {"day", "share_informed", "share_rural", "baseline_share"} <= set(daily.columns)
    regions = result.information_regions()
    assert sorted(regions["run"].unique()) == [0, 1, 2, 3]
    # A run's stored table is the one simulate gives with the run's seed.
    alone = simulate(
        base.replace(**{"information.share_prob": 0.3}), days=6, seed=sweep.run_seed(3)
    )
    stored = daily[daily["run"] == 3].drop(columns="run").reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, alone.information, check_dtype=False)
    # Sharing never lowers coverage under the same seeds (counter-based draws).
    last = daily.groupby("run")["share_informed"].last()
    assert (last[[2, 3]].to_numpy() >= last[[0, 1]].to_numpy()).all()
    assert len(result.messages()) == 4


def test_a_folder_of_runs_made_by_other_code_is_refused(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import laotie.sweep.store as module

    run_sweep(sweep(), tmp_path)
    run_sweep(sweep(), tmp_path)  # the same code resumes
    monkeypatch.setattr(module, "code_fingerprint", lambda: "0.0.0+changed")
    with pytest.raises(LaotieError, match=r"made by other code .*0\.0\.0\+changed"):
        run_sweep(sweep(), tmp_path)


def test_the_fingerprint_covers_the_code_that_decides_a_run_and_only_that(tmp_path: Path) -> None:
    import shutil

    import laotie
    from laotie.sweep.store import code_fingerprint

    root = tmp_path / "laotie"
    shutil.copytree(
        Path(laotie.__file__).parent, root, ignore=shutil.ignore_patterns("__pycache__")
    )
    before = code_fingerprint(root)
    assert before == code_fingerprint(Path(laotie.__file__).parent)
    for part in (
        "cli/run.py",
        "calibrate/npe.py",
        "plot.py",
        "sensitivity/__init__.py",
        "_numba_cache.py",
        "stats.py",
    ):
        (root / part).write_text((root / part).read_text() + "\n# a comment\n")
        assert code_fingerprint(root) == before, part
    for part in (
        "engine/rules/decisions.py",
        "moments.py",
        "sweep/runner.py",
        "graph/__init__.py",
        "graph/stats.py",  # not laotie/stats.py: the moments' tail fit
    ):
        saved = (root / part).read_text()
        (root / part).write_text(saved + "\n# a comment\n")
        assert code_fingerprint(root) != before, part
        (root / part).write_text(saved)
    assert code_fingerprint(root) == before


def test_paired_means_use_the_same_replications_as_the_difference() -> None:
    from laotie.stats import paired

    table = pd.DataFrame({"base": [1.0, np.nan, 3.0, 4.0], "arm": [10.0, 2.5, 3.5, 4.6]})
    row = paired(table, "base").loc["arm"]
    assert row["n"] == 3
    assert row["mean"] == pytest.approx((10.0 + 3.5 + 4.6) / 3)
    assert row["difference"] == pytest.approx(row["mean"] - (1.0 + 3.0 + 4.0) / 3)
    with pytest.raises(LaotieError, match="level = 95"):
        paired(table, "base", level=95)


def test_paired_intervals_keep_a_share_within_its_range() -> None:
    from laotie.stats import paired

    shares = pd.DataFrame({"base": [0.0, 0.1, 0.05], "arm": [0.95, 0.2, 1.0]})
    free = paired(shares, "base").loc["arm"]
    assert free["mean_high"] > 1 and free["difference_high"] > 1  # the case under test
    row = paired(shares, "base", bounds=(0.0, 1.0)).loc["arm"]
    assert row["mean_high"] == 1.0 and row["difference_high"] == 1.0
    assert row["difference_low"] == free["difference_low"] >= -1
    assert row["mean"] == free["mean"] and row["difference"] == free["difference"]
    half = paired(shares, "base", bounds=(0, None)).loc["arm"]  # None: unbounded above
    assert half["mean_low"] == max(free["mean_low"], 0.0)
    assert half["mean_high"] == free["mean_high"]
    with pytest.raises(LaotieError, match="paired: bounds = \\(1, 0\\); the low one is above"):
        paired(shares, "base", bounds=(1, 0))


def test_a_sweeps_comparison_clips_each_metric_to_its_range(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import laotie.sweep.result as module

    seen = {}
    real = module.paired

    def spy(values, baseline, **kwargs):  # type: ignore[no-untyped-def]
        seen[current] = kwargs["bounds"]
        return real(values, baseline, **kwargs)

    monkeypatch.setattr(module, "paired", spy)
    sweep = Sweep(Scenario.preset("village"), {"policy.traffic": ["head", "inclusive"]}, days=3)
    result = run_sweep(sweep, tmp_path)
    for current in [
        ("repeat_share", "all"),
        ("gmv", "all"),
        ("creator_income_gini", None),
        ("producer_net_total", None),
    ]:
        result.compare(*current)
    assert seen[("repeat_share", "all")] == (0.0, 1.0)
    assert seen[("gmv", "all")] == (0.0, np.inf)
    assert seen[("creator_income_gini", None)] == (0.0, 1.0)
    assert seen[("producer_net_total", None)] == (-np.inf, np.inf)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample": {"decision.trust_weight": [1.0]}, "samples": 2}, r"expected \[low, high\]"),
        ({"sample": {"decision.trust_weight": 3.0}, "samples": 2}, r"expected \[low, high\]"),
        ({"sample": {"decision.trust_weight": [1, 2]}, "samples": "4"}, "samples = '4'"),
        ({"days": -3}, "days = -3"),
    ],
)
def test_malformed_sweeps_are_named_errors(kwargs, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError, match=message):
        Sweep(Scenario.preset("village"), **kwargs)


def test_compare_takes_numpy_integers_as_point_indices(tmp_path: Path) -> None:
    result = run_sweep(Sweep(Scenario.preset("village"), GRID, days=3, seed=1), tmp_path)
    pd.testing.assert_frame_equal(
        result.compare("gmv", "all", baseline=np.int64(1)), result.compare("gmv", "all", baseline=1)
    )


def test_monthly_tables_are_stored_per_run(tmp_path: Path) -> None:
    from laotie import simulate

    base = Scenario.preset("village")
    sweep = Sweep(base, {"loyalty.return_creators": [0.0, 0.5]}, replications=1, days=31, seed=2)
    result = run_sweep(sweep, tmp_path)
    monthly = result.monthly()
    assert sorted(monthly["run"].unique()) == [0, 1]
    alone = simulate(
        base.replace(**{"loyalty.return_creators": 0.5}), days=31, seed=sweep.run_seed(1)
    )
    stored = monthly[monthly["run"] == 1].drop(columns="run").reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, alone.monthly, check_dtype=False)
    # The producers' accounts and the units' table are stored per run the same way.
    for name in ("producers", "regions"):
        table = getattr(result, name)()
        mine = table[table["run"] == 1].drop(columns="run").reset_index(drop=True)
        pd.testing.assert_frame_equal(
            mine, getattr(alone, name), check_dtype=False, check_categorical=False
        )


def test_moments_are_measured_per_run(tmp_path: Path) -> None:
    """A sweep's moments are each run's values of laotie.moments (graph moments on the
    run's own graph), stored with its record and read back on resume."""
    from laotie import graph as graphs
    from laotie.moments import MOMENTS
    from laotie.runs import replicate

    ids = ("T1c", "T7b", "T9a", "T11", "T16q")
    base = Scenario.preset("village")
    sweep = Sweep(
        base, {"decision.intercept": [-6.0, -3.0]}, replications=2, days=40, seed=4, moments=ids
    )
    result = run_sweep(sweep, tmp_path / "one")
    assert list(result.moments.columns) == ["run", *ids]
    assert result.moments["run"].tolist() == [0, 1, 2, 3]
    by_id = {m.id: m for m in MOMENTS}
    for run in (1, 2):
        scenario = base.replace(**{"decision.intercept": [-6.0, -3.0][run // 2]})
        seed = sweep.run_seed(run)
        from laotie._random import run_seeds

        graph = graphs.city(scenario.city, seed=run_seeds(seed, 1)[0])
        (alone,) = replicate(scenario, 1, days=40, seed=seed, graph=graph)
        row = result.moments.set_index("run").loc[run]
        for ident in ids:
            expected = by_id[ident](alone, graph)
            assert row[ident] == pytest.approx(expected, nan_ok=True)
    # A higher intercept converts more: the moments follow the runs.
    conversion = result.moments.set_index("run")["T1c"]
    assert conversion[2] > conversion[0] and conversion[3] > conversion[1]
    # Resumed from the store (no run redone), the moments are the same.
    (tmp_path / "one" / "runs" / "run_000003.json").unlink()
    pd.testing.assert_frame_equal(run_sweep(sweep, tmp_path / "one").moments, result.moments)
    written = {path.name for path in result.write(tmp_path / "tables")}
    assert {"moments.parquet", "moments.csv"} & written
    with pytest.raises(ScenarioError, match=r"moments: 'T99' is not a moment id"):
        Sweep(base, moments=("T99",))
    with pytest.raises(ScenarioError, match=r"moments: 'T1a' is given twice"):
        Sweep(base, moments=("T1a", "T1a"))
    with pytest.raises(ScenarioError, match=r"moments = 'T1a'; expected a list"):
        Sweep(base, moments="T1a")  # type: ignore[arg-type]


def test_runs_sharing_a_graph_go_to_one_worker_when_that_balances() -> None:
    """Two workers side by side would each take one of a graph's runs and both build it:
    the runs of a graph are handed out together, when the bundles share the work out as
    evenly as single runs would."""
    s = Sweep(Scenario.preset("village"), GRID, replications=3, days=1, seed=3)
    tasks = sorted(((s, run, {}) for run in range(12)), key=lambda t: (s.seed_key(t[1]), t[1]))
    key = lambda task: s.seed_key(task[1])  # noqa: E731
    by_graph = _bundles(tasks, key, 3)
    assert [len(b) for b in by_graph] == [4, 4, 4]  # 3 graphs of 4 runs: one a worker
    assert all(len({key(t) for t in b}) == 1 for b in by_graph)
    assert [t for b in by_graph for t in b] == tasks
    # Two workers: 2 rounds of bundles of 4 runs (8 runs' time) against 6 rounds of runs.
    assert [len(b) for b in _bundles(tasks, key, 2)] == [1] * 12
    assert [len(b) for b in _bundles(tasks, key, 1)] == [1] * 12  # the process keeps its graph
    assert [len(b) for b in _bundles(tasks, key, None)] == [1] * 12  # a cluster: unknown
    # A graph's many runs go in bundles of at most BUNDLE_RUNS (an interruption costs a
    # bundle's finished runs): 2 graphs of 8 runs on 2 workers, 4 bundles of 4.
    many = Sweep(Scenario.preset("village"), GRID, replications=2, days=1, seed=3)
    eight = sorted(
        ((many, run, {}) for run in range(16)), key=lambda t: (many.seed_key(t[1]), t[1])
    )
    cut = _bundles(eight, lambda task: many.seed_key(task[1]), 2)
    assert [len(b) for b in cut] == [BUNDLE_RUNS] * 4 and [t for b in cut for t in b] == eight


class _LosesBundles(Serial):
    """Two slots, and every bundle of more than one run is lost (its process died 3 times);
    so is run ``lose_run`` alone (2 times)."""

    def __init__(self, lose_run: int | None = None) -> None:
        super().__init__()
        self.lose_run = lose_run

    @property
    def slots(self) -> int:
        return 2

    def map(self, fn, tasks):  # type: ignore[no-untyped-def]
        for task in tasks:
            if isinstance(task, list) and len(task) > 1:
                yield task, Lost("killed", 3)
            elif not isinstance(task, list) and task[1] == self.lose_run:
                yield task, Lost("killed", 2)
            else:
                yield task, fn(task)


def test_a_lost_bundle_is_run_again_a_run_at_a_time(tmp_path: Path) -> None:
    """A bundle whose process died is not every run's loss: each runs again alone, and a
    run lost alone too counts its deaths in the bundle."""
    whole = run_sweep(sweep(), tmp_path / "whole")
    again = run_sweep(sweep(), tmp_path / "again", executor=_LosesBundles())
    assert (again.runs["status"] == "ok").all() and len(again.runs) == 8
    assert_same(again, whole)
    lost = run_sweep(sweep(), tmp_path / "lost", executor=_LosesBundles(lose_run=5))
    status = lost.runs.set_index("run")["status"]
    assert status[5] == "error" and (status.drop(5) == "ok").all()
    assert "(5 times)" in str(lost.runs.set_index("run").loc[5, "error"])  # 3 + 2


def test_a_sweep_maps_its_runs_once_when_nothing_is_lost(tmp_path: Path) -> None:
    """No second map for an empty list of lost runs: on Dask, each map may connect to the
    scheduler again (and fail when it has gone, after every run was stored)."""

    class Counted(Serial):
        def __init__(self) -> None:
            super().__init__()
            self.maps: list[int] = []

        @property
        def slots(self) -> None:  # as a cluster: one run a task
            return None

        def map(self, fn, tasks):  # type: ignore[no-untyped-def]
            self.maps.append(len(tasks))
            yield from super().map(fn, tasks)

    executor = Counted()
    run_sweep(sweep(), tmp_path / "out", executor=executor)
    assert executor.maps == [8]
