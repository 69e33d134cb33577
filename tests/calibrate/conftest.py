"""What the calibration tests share: the synthetic village targets of
experiments/calibration/synthetic_village.toml, which calibrate in seconds."""

from pathlib import Path

import pytest

SYNTHETIC = Path(__file__).parents[2] / "experiments" / "calibration" / "synthetic_village.toml"


@pytest.fixture(scope="module")
def village_targets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the synthetic village targets as targets.toml."""
    path = tmp_path_factory.mktemp("calibration")
    (path / "targets.toml").write_text(SYNTHETIC.read_text(encoding="utf-8"), encoding="utf-8")
    return path
