"""Regenerate the parameter tables in the docs from the parameter declarations.

Run ``python docs/update_tables.py`` after changing a declaration; the test suite fails while
a table in docs/ differs from its declaration. A table lives between the markers
``<!-- params:NAME -->`` and ``<!-- /params:NAME -->``, where NAME is a key of ``SECTIONS``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from laotie.graph import CitySpec
from laotie.params import markdown_table
from laotie.scenario import Scenario

SECTIONS = {"CitySpec": CitySpec} | {
    kind.__name__: kind for name, kind in Scenario.sections().items() if name != "city"
}
DOCS = Path(__file__).parent


def render(text: str) -> str:
    """``text`` with every marked table replaced by its generated version."""

    def table(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"<!-- params:{name} -->\n{markdown_table(SECTIONS[name])}\n<!-- /params:{name} -->"

    return re.sub(r"<!-- params:(\w+) -->.*?<!-- /params:\1 -->", table, text, flags=re.S)


def main() -> int:
    changed = 0
    for path in sorted(DOCS.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        new = render(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path}")
            changed += 1
    return 0 if changed >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
