"""The supply side's cost (issue #19): the whole city with creators outside it, beside the
city without them, each in a fresh process (graph build, set-up, days, peak memory).

    python -m benchmarks.supply_side            # the whole city, 365 days
    python -m benchmarks.supply_side --quick    # 10 % of the city, 30 days

Goals: the graph build with the outside creators ≤ 40 s and ≤ 6 GB; the city's year ≤ 30 s of
days after set-up; five years of ``mudanjiang_2019`` at 5 % scale ≤ 60 s. The setting
measured: 2,000 creators outside the city from the platform's tail above 100 k followers
(about 2 k city followers each at full scale, 3 follows per user).
"""

from __future__ import annotations

import argparse

from .engine_year import measure

OUTSIDE = {"city.outside_creators": 2000}


def run(quick: bool = False) -> list[dict[str, float]]:
    """Measure both settings side by side and print them with their ratio."""
    scale, days = (0.1, 30) if quick else (1.0, 365)
    rows = []
    print(
        f"{'setting':<18} {'nodes':>10} {'edges':>12} {'graph s':>8} {'set-up s':>9} "
        f"{'days s':>8} {'peak GB':>8}"
    )
    for name, changes in (("city alone", {}), ("with outside", OUTSIDE)):
        row = measure(scale, days, changes)
        row["setting"] = name
        rows.append(row)
        print(
            f"{name:<18} {row['residents']:>10,} {row['edges']:>12,} {row['graph_s']:>8.1f} "
            f"{row['setup_s']:>9.1f} {row['simulate_s']:>8.1f} {row['peak_rss_gb']:>8.2f}"
        )
    base, new = rows
    print(
        f"ratios (with / alone): graph {new['graph_s'] / base['graph_s']:.2f}x, "
        f"days {new['simulate_s'] / base['simulate_s']:.2f}x, "
        f"peak {new['peak_rss_gb'] / base['peak_rss_gb']:.2f}x"
    )
    # Five years of the growing city from 2019, at 5 % scale (the goal: ≤ 60 s in all).
    years = measure(0.05, 360 if quick else 1800, preset="mudanjiang_2019")
    total = years["graph_s"] + years["setup_s"] + years["simulate_s"]
    print(
        f"mudanjiang_2019 at 5 %, {years['days']} days: graph {years['graph_s']:.1f} s, set-up "
        f"{years['setup_s']:.1f} s, days {years['simulate_s']:.1f} s, total {total:.1f} s, "
        f"peak {years['peak_rss_gb']:.2f} GB"
    )
    if not quick:
        print(
            f"goals: graph {new['graph_s']:.1f} s (≤ 40), peak {new['peak_rss_gb']:.2f} GB (≤ 6), "
            f"year {new['simulate_s']:.1f} s (≤ 30), five years at 5 % {total:.1f} s (≤ 60)"
        )
    rows.append(years)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.supply_side", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 % of the city, 30 days")
    run(quick=parser.parse_args().quick)


if __name__ == "__main__":
    main()
