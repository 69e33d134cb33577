"""Running ``laotie optimise`` in the tests' process, as a user would from the shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from laotie.cli import main


def optimise(
    spec: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, Any], str]:
    """``laotie optimise SPEC --out OUT --quiet``, which must succeed: its ``sets.json`` and
    what it printed."""
    assert main(["optimise", str(spec), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    return json.loads((out / "sets.json").read_text(encoding="utf-8")), printed
