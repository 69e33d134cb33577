"""What the calibration tests share: a village targets file that runs in seconds."""

from pathlib import Path

import pytest

# Two free parameters and three moments that identify them: the storefront click-through is
# the click probability (no return visits), and conversion rises with the logit's intercept;
# DAU/MAU (held out) needs a complete month, which 20 days do not have.
VILLAGE_TARGETS = """
scenario = "village"
days = 20
seed = 3
[free]
"decision.intercept" = [-8.0, -3.0]
"storefronts.click_prob" = [0.05, 1.0]
[[targets]]
id = "T1a"
function = "storefront_click_through"
value = 0.5
low = 0.03
high = 0.9
se = 0.02
source = "A7"
grade = "H"
role = "fit"
[[targets]]
id = "T1c"
function = "storefront_conversion"
value = 0.002
low = 0.0
high = 0.1
se = 0.0005
source = "A7"
grade = "H"
role = "fit"
[[targets]]
id = "T7b"
function = "dau_per_mau"
value = 0.3
low = 0.1
high = 0.9
se = 0.05
source = "C10"
grade = "H"
role = "held_out"
"""


@pytest.fixture(scope="module")
def village_targets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding VILLAGE_TARGETS as targets.toml."""
    path = tmp_path_factory.mktemp("calibration")
    (path / "targets.toml").write_text(VILLAGE_TARGETS, encoding="utf-8")
    return path
