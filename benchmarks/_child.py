"""Run a measurement in a fresh Python process, so that its peak memory is its own."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def run_child(
    code: str, env: dict[str, str] | None = None, cwd: str | None = None
) -> dict[str, Any]:
    """Run ``code`` with this Python (in ``env`` and ``cwd`` when given); it must print one
    JSON object as its last line, which is returned."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=cwd,
        )
    except subprocess.CalledProcessError as err:
        raise RuntimeError(f"benchmark child failed:\n{err.stderr[-3000:]}") from None
    return json.loads(done.stdout.strip().splitlines()[-1])
