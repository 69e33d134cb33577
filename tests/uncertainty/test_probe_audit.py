"""An audit whose outcomes a probe measures sample by sample (laotie.audit.run_probe_audit):
the probe sees the audit's samples and seeds, a planted driver is found, finished samples are
kept and resumed, damaged ones rerun, and a failing probe is named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from laotie import LaotieError, Scenario
from laotie.audit import audit_samples, probe_key, run_probe_audit
from laotie.executors import Serial
from laotie.posterior import load_posterior
from laotie.sweep import Sweep

ARMS = [("plain", {"shock.day": -1}), ("shocked", {"shock.day": 5})]
ASSUMED = {"outcomes.trust_loss": [0.1, 0.6], "word_of_mouth.warn_prob": [0.0, 0.1]}
DESIGN = {"samples": 64, "scale": 0.001, "days": 10}
SMALL = {"samples": 8, "scale": 0.001, "days": 10}  # for checks that need no verdict
CALLS: list[int] = []


def planted(task: tuple[Sweep, int]) -> dict[str, float]:
    """An outcome driven by trust_loss, read from the run of the sample's shocked arm, and
    one of pure noise from the sample's seed; checks the arms share the sample's seed."""
    sweep, k = task
    CALLS.append(k)
    shocked = sweep.slots + k
    assert sweep.points()[1] == {"shock.day": 5}
    assert sweep.seed_key(shocked) == sweep.seed_key(k)  # common random numbers
    noise = np.random.default_rng(sweep.run_seed(k)).normal()
    return {
        "driven": 10 * sweep.draw(shocked)["outcomes.trust_loss"] + 0.1 * noise,
        "noise": noise,
    }


def failing(task: tuple[Sweep, int]) -> dict[str, float]:
    if task[1] == 3:
        raise ValueError("no victims")
    return planted(task)


def audit(tmp_path: Any, probe: Any = planted, design: Any = DESIGN) -> Any:
    return run_probe_audit(
        "mudanjiang_calibrated",
        ARMS,
        ASSUMED,
        probe,
        design=design,
        seed=7,
        out=tmp_path,
        executor=Serial(),
    )


def test_a_probe_audit_finds_a_planted_driver_and_none_in_noise(tmp_path) -> None:  # type: ignore[no-untyped-def]
    CALLS.clear()
    found = audit(tmp_path)
    assert sorted(CALLS) == list(range(DESIGN["samples"]))  # every sample probed once
    verdict = found.verdicts.set_index("outcome")["verdict"]
    assert verdict["driven"].startswith("driven by assumed parameter outcomes.trust_loss")
    assert not verdict["noise"].startswith("driven")
    top = found.drivers[found.drivers["outcome"] == "driven"].iloc[0]
    assert top["source"] == "assumed"
    # The samples are run_audit's: posterior draws joined with the hypercube.
    posterior = load_posterior("mudanjiang_calibrated")
    base = Scenario.preset("mudanjiang_calibrated", scale=DESIGN["scale"])
    drawn = audit_samples(base, posterior, ASSUMED, DESIGN["samples"], 7)
    kept = sorted(next(tmp_path.glob("probe-*")).glob("sample-*.json"))
    assert len(kept) == DESIGN["samples"]
    first = json.loads((kept[0].parent / "sample-0.json").read_text())
    assert first["driven"] == pytest.approx(10 * drawn[0]["outcomes.trust_loss"], abs=0.5)
    assert found.seconds > 0


def test_a_probe_audit_resumes_and_reruns_only_what_is_missing_or_damaged(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = audit(tmp_path)
    folder = next(tmp_path.glob("probe-*"))
    (folder / "sample-5.json").unlink()
    (folder / "sample-9.json").write_text('{"driven": 1.0', encoding="utf-8")  # truncated
    CALLS.clear()
    with pytest.warns(UserWarning, match="sample-9.json: damaged"):
        again = audit(tmp_path)
    assert sorted(CALLS) == [5, 9]
    assert again.verdicts.equals(first.verdicts)


def test_a_failing_probe_is_named_and_the_finished_samples_kept(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LaotieError, match=r"probe of sample 3 failed \(ValueError: no victims\)"):
        audit(tmp_path, failing, SMALL)
    folder = next(tmp_path.glob("probe-*"))
    assert (folder / "sample-2.json").exists() and not (folder / "sample-3.json").exists()
    # Quick mode runs nothing.
    assert (
        run_probe_audit(
            "mudanjiang_calibrated",
            ARMS,
            ASSUMED,
            planted,
            design=None,
            seed=7,
            out=tmp_path,
            executor=Serial(),
        )
        is None
    )


def test_the_probe_key_changes_with_the_design_and_the_probe() -> None:
    base = Scenario.preset("village")
    sweep = Sweep(base, {"shock.day": [-1, 5]}, days=10, seed=1)
    same = Sweep(base, {"shock.day": [-1, 5]}, days=10, seed=1)
    assert probe_key(sweep, planted) == probe_key(same, planted)
    assert probe_key(sweep, planted) != probe_key(sweep, failing)
    other = Sweep(base.replace(**{"shock.quality": 0.2}), {"shock.day": [-1, 5]}, days=10, seed=1)
    assert probe_key(other, planted) != probe_key(sweep, planted)


def test_a_probe_audit_can_hold_the_calibrated_parameters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    found = run_probe_audit(
        "mudanjiang_calibrated",
        ARMS,
        ASSUMED,
        planted,
        design={"samples": 16, "scale": 0.001, "days": 10},
        seed=7,
        out=tmp_path,
        executor=Serial(),
        keys=[],
    )
    drivers = found.drivers
    assert set(drivers["parameter"]) <= set(ASSUMED)  # nothing calibrated varies
    assert drivers["source"].str.startswith("assumed").all()
    verdict = found.verdicts.set_index("outcome")["verdict"]
    assert verdict["driven"].startswith("driven by assumed parameter outcomes.trust_loss")


def typed(task: tuple[Sweep, int]) -> dict[str, Any]:
    """Numbers of numpy's types and plain ints are numbers."""
    sweep, k = task
    return {"driven": np.float32(sweep.draw(sweep.slots + k)["outcomes.trust_loss"]), "count": k}


def texts(task: tuple[Sweep, int]) -> dict[str, Any]:
    return {"driven": "1.5"}


def uneven(task: tuple[Sweep, int]) -> dict[str, float]:
    return {"driven": 1.0} if task[1] != 4 else {"driven": 1.0, "extra": 2.0}


def empty(task: tuple[Sweep, int]) -> dict[str, float]:
    return {}


def reserved(task: tuple[Sweep, int]) -> dict[str, float]:
    return {"_seconds": 1.0}


def test_a_probes_outcomes_are_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    found = audit(tmp_path / "typed", typed, SMALL)
    kept = json.loads(next((tmp_path / "typed").glob("probe-*/sample-3.json")).read_text())
    assert kept["count"] == 3.0 and isinstance(kept["driven"], float)
    assert set(found.verdicts["outcome"]) == {"driven", "count"}
    for probe, message in [
        (texts, r"probe of sample 0 failed \(ValueError: outcome driven = '1.5' is not a number"),
        (reserved, r"outcome name '_seconds': a string not starting with '_'"),
        (uneven, r"sample 4's outcomes \(driven, extra\) are not sample 0's \(driven\)"),
        (empty, "the probe returned no outcomes"),
    ]:
        with pytest.raises(LaotieError, match=message):
            audit(tmp_path / probe.__name__, probe, SMALL)


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished audit of the small design, copied by each test that damages it."""
    folder = tmp_path_factory.mktemp("audited")
    audit(folder, design=SMALL)
    return folder


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"driven": 1.0}', "no _seconds"),
        ('{"driven": "1.5", "_seconds": 1.0}', "is not a number"),
        ('{"driven": 1e999, "_seconds": 1.0}', "is infinite"),
        ("true", "expected a mapping"),
        ("[1, 2]", "expected a mapping"),
    ],
)
def test_a_kept_sample_that_is_not_outcomes_runs_again(
    tmp_path, audited, text: str, why: str
) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(audited, tmp_path, dirs_exist_ok=True)
    path = next(tmp_path.glob("probe-*")) / "sample-6.json"
    path.write_text(text, encoding="utf-8")
    CALLS.clear()
    with pytest.warns(UserWarning, match=f"sample-6.json: damaged .*{why}"):
        audit(tmp_path, design=SMALL)
    assert CALLS == [6]


def test_a_constant_outcome_is_said_to_be_constant(tmp_path) -> None:  # type: ignore[no-untyped-def]
    def constant_table() -> Any:
        import pandas as pd

        from laotie.audit import indices, verdicts

        samples = pd.DataFrame({"a": np.linspace(0, 1, 20), "b": np.linspace(1, 0, 20) ** 2})
        return verdicts(indices(samples, pd.DataFrame({"y": np.ones(20)}), seed=1), ["a"])

    assert constant_table().at[0, "verdict"] == "constant across the samples: no parameter moves it"
