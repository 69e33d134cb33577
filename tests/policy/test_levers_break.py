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


def test_a_lever_given_quoted_and_as_a_table_is_refused_not_overwritten(tmp_path: Path) -> None:
    text = SPEC + LEVERS + "[levers.policy]\nhead_cap = [0.2, 0.5]\n"
    message = _refused(tmp_path, text)
    assert "[levers] policy.head_cap is given twice ([0.1, 0.6] and [0.2, 0.5])" in message


def test_a_lever_range_written_as_a_table_is_named_as_a_range(tmp_path: Path) -> None:
    text = SPEC + '[levers]\n"policy.head_cap" = { low = 0.1, high = 0.6 }\n'
    message = _refused(tmp_path, text)
    assert "the range of policy.head_cap is {'low': 0.1, 'high': 0.6}; expected (low, high)" in (
        message
    )


def test_set_keys_may_be_written_unquoted_as_levers_keys_may(tmp_path: Path) -> None:
    # policy.head_cap = 0.2 without quotes is, in TOML, a table policy holding head_cap.
    spec = load_optimise(_spec(tmp_path, SPEC + LEVERS + "[set]\npolicy.head_cap = 0.2\n"))
    assert spec.scenario.policy.head_cap == 0.2
    assert spec.checked_levers[0].current == 0.2


def test_an_unquoted_set_key_the_spec_decides_is_still_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, SPEC + LEVERS + "[set]\nrun.days = 5\n")
    assert "[set] run.days = 5; set days instead" in message


def test_a_set_key_given_twice_is_refused(tmp_path: Path) -> None:
    text = SPEC + LEVERS + '[set]\n"policy.reach" = 0.2\n[set.policy]\nreach = 0.4\n'
    assert "[set] policy.reach is given twice (0.2 and 0.4)" in _refused(tmp_path, text)
