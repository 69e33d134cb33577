"""Adversarial checks of target = "levers": specs a user gets wrong, each refused in one line
naming the file, the key, the value and what is allowed; odd inputs of the Python API; and
tests that catch plausible slips in ``tune`` and ``greedy`` (each written against a mutation
that the other tests let through)."""

from __future__ import annotations

from pathlib import Path

import pytest

from laotie.errors import ScenarioError
from laotie.policy import load_optimise

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
    assert "target = " in message and "expected one of 'train', 'levers'" in message
