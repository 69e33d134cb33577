"""Regenerate the parameter tables in docs/ and models/ from the parameter declarations.

Run ``python docs/update_tables.py`` after changing a declaration or a shipped scenario; the
test suite fails while a table differs from what this script generates. A declaration table
lives between ``<!-- params:NAME -->`` and ``<!-- /params:NAME -->`` (NAME a key of
``SECTIONS``); a scenario's table of its own settings between ``<!-- scenario:NAME -->`` and
``<!-- /scenario:NAME -->`` (NAME a shipped scenario).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from laotie.graph import CitySpec
from laotie.params import markdown_table
from laotie.scenario import Scenario, scenario_graph

SECTIONS = {"CitySpec": CitySpec} | {
    kind.__name__: kind for name, kind in Scenario.sections().items() if name != "city"
}
DOCS = Path(__file__).parent
MODELS = DOCS.parent / "models"


def render(text: str) -> str:
    """``text`` with every marked table replaced by its generated version."""

    def table(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"<!-- params:{name} -->\n{markdown_table(SECTIONS[name])}\n<!-- /params:{name} -->"

    def scenario(match: re.Match[str]) -> str:
        name = match.group(1)
        return (
            f"<!-- scenario:{name} -->\n{scenario_tables(Scenario.preset(name))}\n"
            f"<!-- /scenario:{name} -->"
        )

    text = re.sub(r"<!-- params:(\w+) -->.*?<!-- /params:\1 -->", table, text, flags=re.S)
    return re.sub(r"<!-- scenario:(\w+) -->.*?<!-- /scenario:\1 -->", scenario, text, flags=re.S)


def scenario_tables(scenario: Scenario) -> str:
    """The regions of a scenario and every parameter it sets away from the default (for a
    scenario whose graph is a file, the regions of the graph as its mapping makes them)."""
    lines = [
        "| region | 中文 | residents | urban share | user weight | poverty county | source |",
        "|---|---|---|---|---|---|---|",
        *(graph_regions(scenario) if scenario.graph.file else city_regions(scenario)),
        "",
        "| key | value | default | unit | meaning | source of the default |",
        "|---|---|---|---|---|---|",
    ]
    for section, kind in Scenario.sections().items():
        current = getattr(scenario, section)
        for key, declared in kind.params().items():
            value = getattr(current, key)
            if value != declared.default:
                lines.append(
                    f"| `{section}.{key}` | {value:g} | {declared.default:g} | {declared.unit} | "
                    f"{declared.doc} | {declared.source} |"
                    if isinstance(value, float)
                    else f"| `{section}.{key}` | {value} | {declared.default} | {declared.unit} | "
                    f"{declared.doc} | {declared.source} |"
                )
    return "\n".join(lines)


def city_regions(scenario: Scenario) -> list[str]:
    """A row per region of the scenario's city."""
    return [
        f"| {r.name} | {r.name_zh} | {r.population:,} | {r.urban_share:g} | "
        f"{r.user_weight:g} | {'yes' if r.poverty else 'no'} | {r.source or 'not given'} |"
        for r in scenario.city.regions
    ]


def graph_regions(scenario: Scenario) -> list[str]:
    """A row per region of the scenario's graph file, read and mapped as a run maps it."""
    graph = scenario_graph(scenario)
    file = Path(scenario.graph.file).name
    source = f"{file}, graph.regions = {scenario.graph.regions or 'its region attribute'}"
    rows = []
    for code, name in enumerate(graph.region_names):
        members = graph.resident & (graph.region == code)
        residents = int(members.sum())
        urban = 1 - float(graph.rural[members].mean()) if residents else float("nan")
        rows.append(f"| {name} |  | {residents:,} | {urban:.2g} | n/a | no | {source} |")
    return rows


def main() -> int:
    changed = 0
    for path in sorted([*DOCS.rglob("*.md"), *MODELS.rglob("*.md")]):
        text = path.read_text(encoding="utf-8")
        new = render(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path}")
            changed += 1
    return 0 if changed >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
