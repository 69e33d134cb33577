"""The documentation site (mkdocs.yml) builds with --strict (no broken link, no page that
cannot be read, every API reference found), and every page of docs/ is in its navigation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # builds the whole site
pytest.importorskip("mkdocs")  # the docs extra (installed by the test extra)

ROOT = Path(__file__).resolve().parents[1]


def _nav_pages(nav: object) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, dict):
        return set().union(*(_nav_pages(v) for v in nav.values()))
    if isinstance(nav, list):
        return set().union(*(_nav_pages(v) for v in nav)) if nav else set()
    return set()


def test_every_page_is_in_the_navigation() -> None:
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    listed = _nav_pages(config["nav"])
    docs = ROOT / "docs"
    pages = {
        p.relative_to(docs).as_posix()
        for p in [*docs.rglob("*.md"), *docs.glob("*.ipynb")]
        if "quick" not in p.relative_to(docs).parts
    }
    pages -= {p for p in pages if p.startswith("experiments/") and p.count("/") > 1}
    assert pages - listed == set(), "pages missing from mkdocs.yml's nav"
    assert listed - pages == set(), "mkdocs.yml's nav names pages that do not exist"


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    # The notebooks are executed by tests/test_notebooks.py; here they are only rendered.
    env = os.environ | {"LAOTIE_DOCS_EXECUTE": "false", "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    site = tmp_path / "site"
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert "laotie.stats.decompose" in api and "laotie.audit.run_probe_audit" in api
    assert "术语表" in (site / "zh" / "index.html").read_text(encoding="utf-8")
    assert (site / "03_poverty_county" / "index.html").exists()
