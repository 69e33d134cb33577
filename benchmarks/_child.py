"""Run a measurement in a fresh Python process, so that its peak memory is its own."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def run_child(code: str) -> dict[str, Any]:
    """Run ``code`` with this Python; it must print one JSON object, which is returned."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)
