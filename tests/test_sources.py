"""Every source id the project cites resolves in docs/sources.md, and nothing points outside.

The ids are the calibration targets (T1–T17, and their parts checked by ``laotie validate``,
e.g. T1a or T16q) and the source facts behind them (A7, B11, C9, ..., R10). A user meets them
in the ``source`` of every declared parameter (``laotie params``, the docs tables,
``help()``), in the moments of ``laotie validate``, in the docs and in the shipped scenarios;
docs/sources.md has an anchor (``<a id="c9"></a>``) for each. The calibration notes the
sources were compiled from are not part of the project, so no file may send users to them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from laotie.moments import MOMENTS
from laotie.scenario import Scenario, shipped_scenarios

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "sources.md"

# Facts: a group letter (A–H, and R for county reach and Mudanjiang) and a row number. F is
# in the class on purpose: the project has no F group, so a cited F-id is reported missing.
FACT = re.compile(r"\b[A-HR]\d{1,2}\b")
# Targets: T and a number, optionally one lower-case letter for a part (T1a, T16q).
TARGET = re.compile(r"\bT\d{1,2}[a-z]?\b")
ANCHOR = re.compile(r'<a id="([a-z0-9]+)"></a>')
# A link into the sources page from another page: sources.md#c9, ../sources.md#t15, ...
LINK = re.compile(r"sources\.md#([\w-]+)")
# The calibration notes outside the project, by file name or by folder.
OUTSIDE = re.compile(r"\b(?:facts|targets)\.md\b|shared/calibration|calibration/(?:facts|targets)")


def cited_ids(text: str) -> set[str]:
    """The fact and target ids in ``text``."""
    return set(FACT.findall(text)) | set(TARGET.findall(text))


def anchors() -> list[str]:
    """The anchors of docs/sources.md, in order."""
    return ANCHOR.findall(SOURCES.read_text(encoding="utf-8"))


def text_files() -> list[Path]:
    """The pages and scenario files whose ids must resolve (Markdown and TOML)."""
    found = [
        *(ROOT / "docs").rglob("*.md"),
        *(ROOT / "models").rglob("*.md"),
        *(ROOT / "models").rglob("*.toml"),
        *(ROOT / "experiments").rglob("*.md"),
        ROOT / "README.md",
    ]
    return sorted(found)


def declared_sources() -> dict[str, str]:
    """Where each source string a user meets is declared, mapped to the string.

    The ``source`` of every declared parameter of every section of a Scenario, of every
    region of the shipped scenarios, and the id and source of every target moment.
    """
    found = {}
    for section, kind in Scenario.sections().items():
        for key, declared in kind.params().items():
            found[f"parameter {section}.{key}"] = declared.source
    for name in shipped_scenarios():
        for region in Scenario.preset(name).city.regions:
            found[f"scenario {name}, region {region.name}"] = region.source
    for moment in MOMENTS:
        found[f"moment {moment.id}"] = f"{moment.id}: {moment.source}; {moment.band}"
    return found


def missing_report(citations: dict[str, set[str]]) -> str:
    """The ids without an anchor, each with where it is cited."""
    have = set(anchors())
    missing = {i: sorted(w) for i, w in citations.items() if i.lower() not in have}
    return "\n".join(f"  {i}: cited in {', '.join(w)}" for i, w in sorted(missing.items()))


def test_patterns_find_ids_and_not_words() -> None:
    text = (
        "T16 (E6, E7); T1a, T9c and T16q; R10, H13; C9's DAU. Not ids: Q4-2024, H1N1, "
        "the T-shirt, AT1, C9x, B2B, MP4, E5a"
    )
    assert cited_ids(text) == {"T16", "E6", "E7", "T1a", "T9c", "T16q", "R10", "H13", "C9"}


def test_sources_page_has_one_anchor_per_id() -> None:
    found = anchors()
    doubles = sorted({a for a in found if found.count(a) > 1})
    assert not doubles, f"docs/sources.md: anchors defined twice: {doubles}"
    # Every group is there, and the seed article that parameters cite by name.
    for expected in ("a1", "a10", "b13", "c15", "d8", "e9", "g17", "h14", "r5", "r13", "seed"):
        assert expected in found, expected
    assert {f"t{n}" for n in range(1, 18)} <= set(found)


def test_every_declared_source_id_is_in_sources_md() -> None:
    citations: dict[str, set[str]] = defaultdict(set)
    for where, source in declared_sources().items():
        for cited in cited_ids(source):
            citations[cited].add(where)
    assert citations, "no source ids found in the declarations: is the pattern broken?"
    report = missing_report(citations)
    assert not report, f"source ids with no entry in docs/sources.md:\n{report}"


def test_every_id_in_the_docs_and_scenarios_is_in_sources_md() -> None:
    citations: dict[str, set[str]] = defaultdict(set)
    for path in text_files():
        for cited in cited_ids(path.read_text(encoding="utf-8")):
            citations[cited].add(str(path.relative_to(ROOT)))
    assert "T6" in citations and "A7" in citations
    report = missing_report(citations)
    assert not report, f"ids with no entry in docs/sources.md:\n{report}"


def test_links_into_sources_md_resolve() -> None:
    have = set(anchors()) | {"targets"}  # the heading of the targets' section
    broken = []
    for path in text_files():
        text = path.read_text(encoding="utf-8")
        targets = LINK.findall(text)
        if path == SOURCES:
            targets += re.findall(r"\]\(#([\w-]+)\)", text)
        broken += [f"{path.relative_to(ROOT)}: #{t}" for t in targets if t not in have]
    assert not broken, "links to missing anchors of docs/sources.md:\n" + "\n".join(broken)


@pytest.mark.parametrize("folder", ["docs", "laotie", "models", "experiments"])
def test_nothing_refers_to_the_calibration_notes_outside(folder: str) -> None:
    paths = [ROOT / "README.md"] if folder == "docs" else []
    paths += [
        p
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and p.suffix in {".md", ".py", ".toml", ".ipynb", ".txt", ".rst"}
    ]
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in paths
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, (
        "files that send users outside the project (cite docs/sources.md instead):\n"
        + "\n".join(found)
    )
