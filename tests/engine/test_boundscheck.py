"""The engine's kernel tests again under numba's bounds checks.

Compiled code does not check its indices unless asked, so a kernel that reads one entry past
an array's end (a prefetch's guard loosened, a search's bound missed) reads whatever lies
there and goes on; the tests then pass as long as that memory happens to hold nothing
harmful. Here the tests of the kernels the day runs at random (the channels, the decisions,
the growing key sets) run again in a process of their own with ``NUMBA_BOUNDSCHECK=1``,
where such a read raises ``IndexError``, and with a cache folder of its own, so that kernels
compiled with the checks are never loaded by an ordinary run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHECKED = (
    "tests/engine/test_channels.py",
    "tests/engine/test_decisions.py",
    "tests/engine/test_key_set.py",
)
"""The test files run again with the bounds checks."""


@pytest.mark.integration
def test_the_kernel_tests_pass_with_numbas_bounds_checks(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "NUMBA_BOUNDSCHECK": "1",
        "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
        "LAOTIE_GRAPH_CACHE": str(tmp_path / "graphs"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *CHECKED],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
