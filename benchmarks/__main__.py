"""Run the benchmarks: ``python -m benchmarks [--quick]``.

``--quick`` runs a reduced version (seconds, not minutes) for a smoke check.
"""

from __future__ import annotations

import argparse
import os
import platform

from . import engine_year, graph_build, oracle_ratio


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small scales only")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("\n== trust graph build (issue #2) ==")
    graph_build.run(quick=args.quick)
    print("\n== a simulated year (issue #3) ==")
    engine_year.run(quick=args.quick)
    print("\n== against a plain agent-object implementation of the same rules (issue #8) ==")
    oracle_ratio.run(quick=args.quick)


if __name__ == "__main__":
    main()
