"""An audit whose outcomes a probe measures sample by sample (laotie.audit.run_probe_audit):
the probe sees the audit's samples and seeds, a planted driver is found, finished samples are
kept and resumed, damaged ones rerun, and a failing probe is named."""

from __future__ import annotations

import json
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


def audit(tmp_path: Any, probe: Any = planted) -> Any:
    return run_probe_audit(
        "mudanjiang_calibrated",
        ARMS,
        ASSUMED,
        probe,
        design=DESIGN,
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
        audit(tmp_path, failing)
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
