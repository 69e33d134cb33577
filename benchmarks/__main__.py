"""Run the benchmarks: ``python -m benchmarks [--quick]``.

``--quick`` runs a reduced version (a few minutes) for a smoke check; its figures are small
cities, not the whole city, and the goals table says so.
"""

from __future__ import annotations

import argparse
import os
import platform
from typing import Any

from . import bandwidth, cascade, engine_year, graph_build, lockstep, oracle_ratio, user_speed


def ratio_row(
    goal: str, need: float, measured: str, baseline: str, ratio: float, digits: int = 0
) -> tuple[str, ...]:
    """A goal row whose target is a speed-up of at least ``need`` times a baseline."""
    return (
        goal,
        f"≥ {need:g}x",
        measured,
        baseline,
        f"{ratio:.{digits}f}x",
        "yes" if ratio >= need else "NO",
    )


def goals_table(
    quick: bool,
    year: list[dict[str, Any]],
    oracle: list[dict[str, Any]],
    ic: list[dict[str, Any]],
    bw: dict[str, Any],
) -> list[tuple[str, ...]]:
    """The rows of issue #8's goals: goal, target, measured, baseline, ratio, met?"""
    rows: list[tuple[str, ...]] = []
    city = [r for r in year if r["residents"] == 2_540_000]
    if city:
        r = city[0]
        met = r["simulate_s"] <= 60 and r["peak_rss_gb"] <= 6
        rows.append(
            (
                "1 whole city, a year",
                "≤ 60 s, ≤ 6 GB (stretch 30 s)",
                f"{r['simulate_s']:.1f} s, {r['peak_rss_gb']:.2f} GB",
                "—",
                "—",
                "yes" if met else "no",
            )
        )
    else:
        target = "≤ 60 s, ≤ 6 GB (stretch 30 s)"
        rows.append(("1 whole city, a year", target, "not run (--quick)", "", "", "?"))
    for r in oracle:
        for label, seconds, unit in (
            ("", r["engine_1"], "ms/day"),
            (f", lockstep R = {r['lockstep_replications']}", r["lockstep"], "ms/rep-day"),
            (
                f", 2 processes x R = {r['lockstep_replications']}",
                r["processes"],
                "ms/rep-day",
            ),
        ):
            rows.append(
                ratio_row(
                    f"2 vs agent objects, {r['residents']:,}{label}",
                    100,
                    f"{1000 * seconds:.3f} {unit}",
                    f"oracle {1000 * r['oracle']:.0f} ms/day",
                    r["oracle"] / seconds,
                )
            )
    for p in sorted({r["probability"] for r in ic}):
        at_p = [r for r in ic if r["probability"] == p]
        largest = max(at_p, key=lambda r: r["nodes"])
        with_ndlib = [r for r in at_p if r["ndlib"]]
        if with_ndlib:
            r = max(with_ndlib, key=lambda r: r["nodes"])
            rows.append(
                ratio_row(
                    f"3 IC p={p:g} vs NDlib, {r['nodes']:,} users",
                    100,
                    f"{1e6 * r['laotie_s']:.1f} µs/rep-step",
                    f"NDlib {1e6 * r['ndlib']['s']:.0f} µs",
                    r["ndlib"]["s"] / r["laotie_s"],
                )
            )
        else:
            rows.append((f"3 IC p={p:g} vs NDlib", "≥ 100x", "", cascade.NOT_INSTALLED, "", "?"))
        r = largest
        if r["cynetdiff"]:
            rows.append(
                ratio_row(
                    f"3 IC p={p:g} vs cynetdiff, {r['nodes']:,} users",
                    2,
                    f"{1e6 * r['laotie_s']:.1f} µs/rep-step",
                    f"cynetdiff {1e6 * r['cynetdiff']['s']:.1f} µs",
                    r["cynetdiff"]["s"] / r["laotie_s"],
                    digits=1,
                )
            )
        else:
            rows.append((f"3 IC p={p:g} vs cynetdiff", "≥ 2x", "", cascade.NOT_INSTALLED, "", "?"))
    slope = engine_year.exponent(year)
    rows.append(
        (
            f"4 time/day ∝ residents^k, {year[0]['residents']:,}–{year[-1]['residents']:,}",
            "k ≤ 1.15",
            f"k = {slope:.2f}",
            "—",
            "—",
            "yes" if slope <= 1.15 else "NO",
        )
    )
    if bw["ms_per_day"] is not None:
        rows.append(
            (
                f"5 a day vs bandwidth, scale {bw['scale']:g}",
                "report",
                f"{bw['ms_per_day']:.1f} ms/day",
                f"{bw['day_bytes'] / 1e6:,.0f} MB at {bw['triad_gbs']:.1f} GB/s: "
                f"{bw['at_bandwidth_ms']:.1f} ms",
                f"{bw['ms_per_day'] / bw['at_bandwidth_ms']:.1f}x",
                "reported",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small scales only")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("\n== trust graph build (issue #2) ==")
    graph_build.run(quick=args.quick)
    print("\n== a simulated year (issue #3; issue #8 goals 1 and 4) ==")
    year = engine_year.run(quick=args.quick)
    print(
        "\n== against a plain agent-object implementation of the same rules (issue #8, goal 2) =="
    )
    oracle = oracle_ratio.run(quick=args.quick)
    print("\n== word of mouth alone as an independent cascade (issue #8, goal 3) ==")
    ic = cascade.run(quick=args.quick)
    print("\n== lockstep replications against one at a time (issue #6) ==")
    lockstep.run_engine(oracle)
    lockstep.run(quick=args.quick)
    print("\n== distance from the machine's limit (issue #8, goal 5) ==")
    scale = 0.1 if args.quick else 1.0
    day = [r for r in year if r["residents"] == round(2_540_000 * scale)]
    ms_per_day = 1000 * day[0]["simulate_s"] / day[0]["days"] if day else None
    bw = bandwidth.run(quick=args.quick, ms_per_day=ms_per_day)
    print("\n== speed a user feels (issue #25), side by side with the code before it ==")
    user_speed.run(quick=args.quick)
    print(
        "\n== issue #8: the goals" + (" (--quick: small sizes only)" if args.quick else "") + " =="
    )
    header = ("goal", "target", "measured", "baseline", "ratio", "met?")
    rows = [header, *goals_table(args.quick, year, oracle, ic, bw)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print("(CPU timings are noisy: other work may share this machine's 2 cores.)")


if __name__ == "__main__":
    main()
