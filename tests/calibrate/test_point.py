"""The calibrated scenario: the free parameters at their posterior medians, the rest as the
targets file's scenario at its own scale (no simulation or sbi needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from laotie import Scenario
from laotie.calibrate import load_targets
from laotie.calibrate.npe import Calibration


def test_the_calibrated_scenario_takes_the_posterior_medians(village_targets: Path) -> None:
    targets = load_targets(village_targets / "targets.toml")
    rng = np.random.default_rng(3)
    # Skewed draws, so that the median, the mean and the mode differ.
    posterior = pd.DataFrame(
        {
            "decision.intercept": -7.0 + rng.exponential(0.8, 1001),
            "storefronts.click_prob": 0.02 + rng.exponential(0.01, 1001),
        }
    )
    c = Calibration(
        targets=targets, simulations=None, used=321, posterior=posterior, estimator=None
    )
    point = c.point()
    for key, values in posterior.items():
        median = float(np.median(values))
        assert abs(np.mean(values) - median) > 1e-3 * abs(median)  # the test can tell them apart
        assert point[key] == float(f"{median:.4g}")
    scenario = c.scenario()
    assert scenario.name == "village_calibrated"
    assert scenario.decision.intercept == point["decision.intercept"]
    assert scenario.storefronts.click_prob == point["storefronts.click_prob"]
    assert "posterior medians" in scenario.description and "321 simulations" in scenario.description
    # Everything that was not free is the scenario's, at its own scale.
    base = targets.base.replace(**point)
    assert scenario.to_dict() | {"name": None, "description": None} == base.to_dict() | {
        "name": None,
        "description": None,
    }
    assert Scenario.from_dict(scenario.to_dict()) == scenario
