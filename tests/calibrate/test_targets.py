"""Targets as data (laotie.calibrate.targets): the shipped targets file, and a clear error for
every kind of bad entry."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from laotie.calibrate import function_name, load_targets
from laotie.errors import ScenarioError
from laotie.moments import MOMENTS

MODELS = Path(__file__).parents[2] / "models"
SOURCES = (Path(__file__).parents[2] / "docs" / "sources.md").read_text(encoding="utf-8")


def test_the_shipped_mudanjiang_targets() -> None:
    t = load_targets(MODELS / "mudanjiang")  # a folder holding targets.toml
    assert t.path == MODELS / "mudanjiang" / "targets.toml"
    assert t.scale == 0.02 and t.days == 180
    assert t.scenario.city.n_residents == pytest.approx(0.02 * 2_540_000, rel=1e-3)
    by_id = {m.id: m for m in MOMENTS}
    for target in t.targets:
        m = by_id[target.id]
        # The file's band is the registry's (docs/validation.md), its value inside it.
        assert (target.moment.low, target.moment.high) == pytest.approx((m.low, m.high))
        assert target.moment.low <= target.value <= target.moment.high
        for source in target.source:  # every source resolves in docs/sources.md
            assert f'<a id="{source.lower()}"></a>' in SOURCES
    # At least four held out (the calibration issue's rule), and the rest fitted.
    assert len(t.held_out()) >= 4 and len(t.fitted()) + len(t.held_out()) == len(t.targets)
    assert {target.id for target in t.held_out()} == {"T3", "T4", "T5b", "T7a", "T12a"}
    # Left out: T9b is 0 at 2 % scale (no 10 k account), T10 depends on the city's size,
    # T16 describes adoption over years.
    assert not {"T9b", "T10", "T16p", "T16q"} & {target.id for target in t.targets}
    assert [m.id for m in t.moments()] == [target.id for target in t.targets]


def test_the_shipped_poverty_county_targets() -> None:
    t = load_targets(MODELS / "poverty_county")
    assert t.scale == 1.0 and t.days == 120
    assert [target.id for target in t.fitted()] == ["T15"] and not t.held_out()
    by_id = {m.id: m for m in MOMENTS}
    (target,) = t.targets
    assert (target.moment.low, target.moment.high) == pytest.approx(
        (by_id["T15"].low, by_id["T15"].high)
    )
    for source in target.source:
        assert f'<a id="{source.lower()}"></a>' in SOURCES
    # The producers' economics are free, each range around the scenario's assumed default.
    defaults = t.scenario.flat()
    for key, (low, high) in t.free.items():
        assert key.startswith("producers.") and low <= defaults[key] <= high


def test_function_names_name_the_measuring_function() -> None:
    names = {m.id: function_name(m) for m in MOMENTS}
    assert names["T1c"] == "storefront_conversion"
    assert names["T9c"] == "users_with_followers_share(threshold=100000)"


GOOD = """
scenario = "village"
scale = 1.0
days = 30
[free]
"decision.intercept" = [-9.0, -3.0]
[[targets]]
id = "T1a"
function = "storefront_click_through"
value = 0.04
low = 0.03
high = 0.05
se = 0.005
source = "A7"
grade = "H"
role = "fit"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_file(tmp_path: Path) -> None:
    t = load_targets(write(tmp_path, GOOD))
    assert t.free == {"decision.intercept": (-9.0, -3.0)}
    (target,) = t.targets
    assert target.id == "T1a" and target.source == ("A7",) and target.role == "fit"
    assert target.moment.function.__name__ == "storefront_click_through"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("days = 30", "days = 30\nscael = 1", r"unknown key 'scael'.*scale"),
        ('role = "fit"', 'role = "fit"\nweight = 2', r"targets\[0\]: unknown key 'weight'"),
        ('id = "T1a"', 'id = "T1x"', r"id = 'T1x' is not a moment"),
        (
            'function = "storefront_click_through"',
            'function = "storefront_conversion"',
            r"target T1a: function = 'storefront_conversion', but T1a is measured by "
            r"laotie.moments.storefront_click_through",
        ),
        ("value = 0.04", "value = 0.06", r"target T1a: value = 0.06 lies outside its band"),
        ("se = 0.005", "se = 0", r"target T1a: se = 0; expected > 0"),
        ("se = 0.005", 'se = "small"', r"target T1a: se = 'small'; expected a finite number"),
        ('source = "A7"', 'source = "Taobao"', r"target T1a: source = 'Taobao'"),
        ('grade = "H"', 'grade = "high"', r"target T1a: grade = 'high'; expected one of H, M"),
        ('role = "fit"', 'role = "check"', r"role = 'check'; expected 'fit' or 'held_out'"),
        ('role = "fit"', 'role = "held_out"', r"no target has role = \"fit\""),
        (
            '"decision.intercept" = [-9.0, -3.0]',
            '"decision.intercepts" = [-9.0, -3.0]',
            r"free: unknown parameter 'decision.intercepts'",
        ),
        (
            '"decision.intercept" = [-9.0, -3.0]',
            '"decision.intercept" = [-90.0, -3.0]',
            r"free: decision.intercept = \[-90.0, -3.0\]",
        ),
        (
            '"decision.intercept" = [-9.0, -3.0]',
            '"policy.traffic" = ["head", "inclusive"]',
            r"free: policy.traffic is .*not numeric",
        ),
        ("scale = 1.0", "scale = 0", r"scale = 0; expected > 0"),
        ("days = 30", "days = -1", r"days = -1; expected an integer ≥ 1"),
        (
            'id = "T1a"\nfunction = "storefront_click_through"\nvalue = 0.04\nlow = 0.03\n'
            "high = 0.05",
            'id = "T5a"\nfunction = "monthly_repurchase_trust"\nvalue = 0.65\nlow = 0.6\n'
            "high = 0.7",
            r"targets.toml: days = 30: the fitted moments T5a \(≥ 61\) are undefined in a run "
            r"of 30 days; expected days ≥ 61",
        ),
        ('scenario = "village"', 'scenario = "vilage"', r"scenario = 'vilage'"),
        (
            'role = "fit"\n',
            'role = "fit"\n' + GOOD[GOOD.index("[[targets]]") :],
            r"target T1a: given twice",
        ),
        ('id = "T1a"', 'id = ["T1a"]', r"targets\[0\]: id = \['T1a'\]; expected a moment id"),
        ("low = 0.03\nhigh = 0.05", "low = 0.05\nhigh = 0.03", r"low = 0.05 > high = 0.03"),
        ("days = 30", "days = 1000000", r"days = 1000000; expected an integer ≥ 1 and ≤ 100,000"),
        ("scale = 1.0", "scale = 1e-9", r"scale = 1e-09: .*n_producers"),
        (
            '"decision.intercept" = [-9.0, -3.0]',
            '"run.seed" = [1, 5]',
            r"free: run.seed cannot be calibrated",
        ),
        (
            '"decision.intercept" = [-9.0, -3.0]',
            '"storefronts.comparisons" = [0, 4]',
            r"free: storefronts.comparisons is an integer parameter",
        ),
    ],
)
def test_bad_entries_are_named(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ScenarioError, match=message) as err:
        load_targets(path)
    assert str(path) in str(err.value)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"no such targets file"):
        load_targets(tmp_path / "none.toml")
    with pytest.raises(ScenarioError, match=r"not valid TOML"):
        load_targets(write(tmp_path, "free = ["))
    missing = re.sub(r"\[\[targets\]\].*", "", GOOD, flags=re.S)
    with pytest.raises(ScenarioError, match=r"targets is missing"):
        load_targets(write(tmp_path, missing))


def test_an_empty_range_is_the_declared_bounds(tmp_path: Path) -> None:
    text = GOOD.replace('"decision.intercept" = [-9.0, -3.0]', '"decision.trust_weight" = []')
    assert load_targets(write(tmp_path, text)).free == {"decision.trust_weight": (-50.0, 50.0)}


def test_a_file_with_a_byte_order_mark_is_read_as_without(
    bom_twins: Callable[[str, str], tuple[Path, Path]],
) -> None:
    plain, marked = bom_twins("targets.toml", GOOD)
    assert load_targets(marked) == dataclasses.replace(load_targets(plain), path=marked)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(GOOD, encoding="utf-16")
    with pytest.raises(ScenarioError, match=r"not UTF-8 text"):
        load_targets(path)
