"""The dashboard in a real headless browser: ``laotie dashboard village`` serves the page,
chromium (driven by playwright) loads it, moves a slider, runs, and reads the numbers the
page renders, which must change and equal the library's for the slider's new value.

Playwright downloads no browser here: the test launches the system's chromium (Debian's
``apt-get install chromium``, or the path in ``LAOTIE_CHROMIUM``) and is skipped without one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from laotie import Scenario, simulate
from laotie.dashboard import compare, measure_values

pytestmark = pytest.mark.integration  # a server process and a browser

pytest.importorskip("solara")  # the dashboard extra (installed by the test extra)
sync_api = pytest.importorskip("playwright.sync_api")

NO_BROWSER = (
    "no chromium to drive: install one (Debian: apt-get install chromium) or set "
    "LAOTIE_CHROMIUM=/path/to/chromium"
)


def chromium() -> str | None:
    """The chromium to launch: ``LAOTIE_CHROMIUM``, or one on the PATH."""
    chosen = os.environ.get("LAOTIE_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``laotie dashboard village`` on a free port; its address."""
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    with log.open("w") as out:
        command = [sys.executable, "-m", "laotie", "dashboard", "village", "--no-browser"]
        process = subprocess.Popen(
            [*command, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://localhost:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not start:\n{log.read_text()}")
            time.sleep(0.25)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless chromium, driven by playwright."""
    path = chromium()
    if path is None:
        pytest.skip(NO_BROWSER)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """The dashboard, loaded; when the test ends, no request may have failed (the page loads
    without a CDN) and the page may have logged no error."""
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    tab.set_default_timeout(90_000)
    failed: list[str] = []
    tab.on("requestfailed", lambda request: failed.append(request.url))
    tab.on("console", lambda line: failed.append(line.text) if line.type == "error" else None)
    tab.on(
        "response",
        lambda response: (
            failed.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    tab.goto(server)
    tab.wait_for_selector(".laotie-uncalibrated")
    yield tab
    tab.close()
    assert not failed, failed


def measure(page: Any, key: str) -> float:
    """The number the page's table shows for a measure (its ``data-value``)."""
    row = page.locator(f'.laotie-measures tr[data-measure="{key}"]')
    return float(row.get_attribute("data-value"))


def test_moving_a_slider_and_running_changes_the_numbers(page: Any) -> None:
    start = time.monotonic()
    note = page.locator(".laotie-uncalibrated").inner_text()
    assert "mostly from assumed parameters" in note
    page.locator(".laotie-run").click()
    page.wait_for_selector('.laotie-measures[data-day="90"]')
    before = {key: measure(page, key) for key in ("trust_conversion", "all_gmv")}
    chart = page.locator(".laotie-run-figure img")
    chart_before = chart.screenshot()
    expected = measure_values(simulate(Scenario.load("village"), seed=1))
    assert before["all_gmv"] == pytest.approx(expected["all_gmv"], rel=1e-12)

    # decision.trust_weight: 5 by default, in steps of 0.5; three steps right make 6.5.
    thumb = page.locator(".laotie-key-decision-trust_weight [role=slider]")
    thumb.focus()
    for _ in range(3):
        thumb.press("ArrowRight")
    page.wait_for_selector('.laotie-value[data-key="decision.trust_weight"][data-value="6.5"]')
    page.wait_for_selector('.laotie-status[data-day="0"]')
    page.locator(".laotie-run").click()
    page.wait_for_selector('.laotie-measures[data-day="90"]')
    after = {key: measure(page, key) for key in ("trust_conversion", "all_gmv")}

    scenario = Scenario.load("village", **{"decision.trust_weight": 6.5})
    expected = measure_values(simulate(scenario, seed=1))
    assert after["all_gmv"] != before["all_gmv"]
    assert after["trust_conversion"] > before["trust_conversion"]  # trust weighs more
    assert after["trust_conversion"] == pytest.approx(expected["trust_conversion"], rel=1e-12)
    assert after["all_gmv"] == pytest.approx(expected["all_gmv"], rel=1e-12)
    assert chart.screenshot() != chart_before
    print(f"slider and two runs in the browser: {time.monotonic() - start:.1f} s")


def test_comparing_two_policies_shows_the_library_numbers(page: Any) -> None:
    start = time.monotonic()
    page.get_by_role("tab", name="Compare two policies").click()
    page.locator(".laotie-compare").click()
    row = page.locator('.laotie-comparison tr[data-measure="all_gmv"]')
    row.wait_for()
    shown = {k: float(row.get_attribute(f"data-{k}")) for k in ("a", "b", "difference")}
    expected = compare(
        Scenario.load("village"),
        {"policy.traffic": "head"},
        {"policy.traffic": "inclusive"},
        replications=5,
        seed=1,
    ).table.loc["all_gmv"]
    assert shown["a"] == pytest.approx(expected["A"], rel=1e-12)
    assert shown["b"] == pytest.approx(expected["B"], rel=1e-12)
    assert shown["difference"] == pytest.approx(expected["difference"], rel=1e-12)
    assert np.isfinite(shown["difference"])
    assert page.locator(".laotie-comparison-figure img").count() == 1
    print(f"comparison in the browser: {time.monotonic() - start:.1f} s")
