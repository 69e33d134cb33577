"""The mutation list (tests/mutations.py) stays applicable: each mutation's text occurs exactly
once in its file, so that a change of a rule cannot leave a mutation that tests nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutations import MUTATIONS, ROOT


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_each_mutation_applies_once(mutation) -> None:  # type: ignore[no-untyped-def]
    text = (ROOT / mutation.path).read_text(encoding="utf-8")
    assert text.count(mutation.old) == 1, f"{mutation.name}: update tests/mutations.py"
    assert mutation.old != mutation.new


def test_mutation_names_are_unique() -> None:
    names = [m.name for m in MUTATIONS]
    assert len(names) == len(set(names))
    assert Path(__file__).parent == ROOT / "tests"
