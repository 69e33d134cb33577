"""Run a measurement in a fresh Python process, so that its peak memory is its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_SAY_WHERE = (
    "\nimport json as _json, laotie as _laotie; print(_json.dumps({'laotie': _laotie.__file__}))"
)


def run_child(
    code: str,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    laotie_from: Path | None = None,
) -> dict[str, Any]:
    """Run ``code`` with this Python (in ``env`` and ``cwd`` when given); it must print one
    JSON object as its last line, which is returned. With ``laotie_from``, the child must have
    imported laotie from that checkout (an editable install, or ``python -c`` putting the
    working folder first on the path, could give another), else RuntimeError."""
    if laotie_from is not None:
        code += _SAY_WHERE
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
    lines = done.stdout.strip().splitlines()
    if laotie_from is not None:
        where = Path(json.loads(lines.pop())["laotie"]).resolve()
        if laotie_from.resolve() not in where.parents:
            raise RuntimeError(f"the child run for {laotie_from} imported laotie from {where}")
    return json.loads(lines[-1])
