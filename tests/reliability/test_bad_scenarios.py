"""Bad scenario files: each is refused when it is read, before any work, with one named error
that says the file, the table and key, the value received and what is allowed; the Python
API (``Scenario.from_toml``) and the command line (``laotie run FILE``) alike."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from laotie import Scenario, ScenarioError
from tests.reliability.faults import assert_refused, cli

CITY = '[city]\nregions = [{ name = "A", population = 200, urban_share = 0.5 }]\n'
"""A city of 200 residents: the smallest valid scenario file."""


def region(**fields: object) -> str:
    """A city of one region whose fields are ``A``, 200 and 0.5 unless given (as TOML)."""
    values = {"name": '"A"', "population": "200", "urban_share": "0.5"} | {
        key: str(value) for key, value in fields.items()
    }
    inline = ", ".join(f"{key} = {value}" for key, value in values.items())
    return f"[city]\nregions = [{{ {inline} }}]\n"


def case(content: str | bytes, *parts: str, id: str, marks: object = ()) -> object:
    return pytest.param(content, parts, id=id, marks=marks)


FILES = [
    # How the file is written
    case(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        "not UTF-8 text; save the scenario file as UTF-8",
        id="binary-file",
    ),
    case(
        CITY.encode("utf-16"),
        "not UTF-8 text; save the scenario file as UTF-8",
        id="utf16-file",
    ),
    case(b"", "[city]: give either regions (a list of tables) or preset", id="empty-file"),
    case("[run\ndays = 3\n", "not valid TOML", "(at line 1, column 5)", id="not-toml"),
    case(
        CITY + "[run]\ndays = 3\ndays = 4\n",
        "not valid TOML (Cannot overwrite a value (at line 5",
        id="key-given-twice",
    ),
    # Tables and keys
    case(
        CITY + "[runn]\ndays = 3\n",
        "unknown key 'runn'; did you mean 'run'? (valid keys: city, graph, population",
        id="unknown-section",
    ),
    case(
        CITY + "[policy]\nreech = 0.5\n",
        "[policy]: unknown key 'reech'; did you mean 'reach'? (valid keys: traffic, reach",
        id="unknown-key",
    ),
    case("policy = 5\n" + CITY, "[policy] must be a table, got 5", id="section-not-a-table"),
    # Types (one of each branch of the check: number, choice, integer, true/false)
    case(
        CITY + '[policy]\nreach = "0.5"\n',
        "[policy]: reach = '0.5' is not allowed; expected a number, 0 ≤ value ≤ 1",
        id="string-for-a-number",
    ),
    case(
        CITY + '[policy]\ntraffic = ["head", "inclusive"]\n',
        "[policy]: traffic = ['head', 'inclusive'] is not allowed; expected one of 'head', "
        "'inclusive'",
        id="list-for-a-choice",
    ),
    case(
        CITY + "[run]\ndays = true\n",
        "[run]: days = True is not allowed; expected an integer, 0 ≤ value ≤ 100000 days",
        id="bool-for-an-integer",
    ),
    case(
        CITY + "[producers]\nlistings = 2.5\n",
        "[producers]: listings = 2.5 is not allowed; expected an integer, 1 ≤ value ≤ 1000",
        id="fraction-for-an-integer",
    ),
    case(
        CITY + "[population]\nrepeat_purchases = 1\n",
        "[population]: repeat_purchases = 1 is not allowed; expected true or false",
        id="number-for-true-or-false",
    ),
    # Values no bound lets through by itself
    case(
        CITY + "[policy]\nreach = nan\n",
        "[policy]: reach = nan is not allowed; expected a number, 0 ≤ value ≤ 1",
        id="nan",
    ),
    case(
        CITY + "[training]\nfollower_gain = inf\n",
        "[training]: follower_gain = inf is not allowed; expected an integer",
        id="infinity-for-an-integer",
    ),
    case(
        CITY + "[training]\nfollower_gain = 10_000_000_000_000\n",
        "[training]: follower_gain = 10000000000000 is not allowed; expected an integer, 0 ≤ "
        "value ≤ 100000 followers",
        id="huge-value-where-no-bound-was-natural",
    ),
    case(
        CITY + "[storefronts]\nn_storefronts = -3\n",
        "[storefronts]: n_storefronts = -3 is not allowed; expected an integer, 1 ≤ value",
        id="negative-count",
    ),
    # The city's regions
    case(
        region(population=0),
        "[city]: region 'A': population = 0 is not allowed; expected an integer ≥ 1",
        id="region-without-residents",
    ),
    case(
        region(population=10**21),
        "[city]: region 'A': population = 1000000000000000000000 is not allowed; expected an "
        "integer, 1 ≤ value ≤ 10,000,000,000",
        id="region-of-more-residents-than-the-world",
    ),
    case(
        region() + "scale = 1e300\n",
        "[city]: scale = 1e+300 is not allowed: region 'A' would have 2e+302 residents; "
        "expected at most 10,000,000,000 per region",
        id="city-scale-beyond-the-bound",
    ),
    case(
        '[city]\nregions = { name = "A" }\n',
        "[city]: regions must be a non-empty list of tables",
        id="regions-not-a-list",
    ),
    case("[city]\nregions = [5]\n", "[city]: regions[0] must be a table, got 5", id="region-5"),
    case(
        '[city]\nregions = [{ name = "A" }]\n',
        "[city]: regions[0] lacks population, urban_share",
        id="region-lacking-keys",
    ),
    case(
        region(popul=3),
        "[city]: regions[0]: unknown key 'popul'; did you mean 'population'?",
        id="unknown-region-key",
    ),
    case(
        CITY.replace("}]", '}, { name = "A", population = 5, urban_share = 0 }]'),
        "[city]: region names are not unique: ['A', 'A']",
        id="same-region-twice",
    ),
    case(region(name=5), "[city]: region name 5 must be a non-empty string", id="region-name-5"),
    case(
        region(poverty=2),
        "[city]: region 'A': poverty = 2 is not allowed; expected true or false",
        id="poverty-not-true-or-false",
    ),
    # The city as a whole
    case(
        '[city]\npreset = "village"\n',
        "[city]: preset = 'village' is unknown (known: mudanjiang)",
        id="unknown-city-preset",
    ),
    case(
        CITY + 'preset = "mudanjiang"\n',
        "[city]: give either regions (a list of tables) or preset",
        "not both",
        id="preset-and-regions",
    ),
    case(
        '[city]\npreset = "mudanjiang"\nscale = -1\n',
        "[city]: scale = -1 is not allowed; expected a number > 0",
        id="negative-city-scale",
    ),
    case(
        "name = 5\n" + CITY,
        "Scenario: name = 5 must be a string",
        id="scenario-name-5",
    ),
    # Keys that cannot hold together
    case(
        CITY + "[producers]\nn_producers = 1000\n",
        "producers.n_producers = 1,000 is more than the city's 200 residents",
        id="more-producers-than-residents",
    ),
    case(
        CITY + "[training]\nday = 30\nn_creators = 1\n[run]\ndays = 10\n",
        "training.day = 30 is not within run.days = 10; the training would never happen",
        id="training-after-the-last-day",
    ),
    case(
        CITY + "[training]\nn_creators = 1\n",
        "training.n_creators = 1 but training.day = -1 (no training)",
        id="trained-creators-without-a-day",
    ),
    case(
        CITY + "[shock]\nday = 0\n",
        "shock.day = 0: the shocked product is the most-ordered one before the shock day",
        id="shock-on-day-0",
    ),
    case(
        CITY + '[products]\ncatalogue = "shared"\nn_products = 1\n',
        "products.n_products = 1 under products.catalogue = 'shared' is fewer than the 10",
        id="shared-catalogue-smaller-than-a-seller-lists",
    ),
    case(
        CITY.replace("[city]\n", "[city]\ncreator_share = 0.0\n")
        + '[producers]\nn_producers = 1\nchannel = "both"\n',
        "producers.channel = 'both' but the city has no creators",
        id="producers-selling-through-no-creators",
    ),
]


@pytest.mark.parametrize(("content", "parts"), FILES)
def test_a_bad_scenario_file_is_named(
    content: str | bytes,
    parts: tuple[str, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_work: None,
) -> None:
    path = tmp_path / "bad.toml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    with pytest.raises(ScenarioError) as raised:
        Scenario.from_toml(path)
    message = str(raised.value)
    assert message.startswith(f"{path}"), message
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    assert_refused(cli(capsys, "run", path, "--quiet"), str(path), *parts)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda folder: folder / "none.toml", "none.toml: no such scenario file", id="missing"
        ),
        pytest.param(
            lambda folder: folder,
            "scenario.toml: no such scenario file",
            id="a-folder-without-scenario-toml",
        ),
    ],
)
def test_a_scenario_file_that_is_not_there_is_named(
    make: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(ScenarioError, match=message):
        Scenario.load(path)
    assert_refused(cli(capsys, "run", path), message)


def beyond(kind: type, key: str) -> object:
    """A value just outside ``kind``'s declared bounds for ``key`` (above, when it has an
    upper bound)."""
    declared = kind.params()[key]  # type: ignore[attr-defined]
    if declared.high is not None and math.isfinite(declared.high):
        return declared.kind(declared.high * 2 + 1)
    return declared.kind(declared.low - 1)


@pytest.mark.parametrize("section", list(Scenario.sections()))
def test_every_section_refuses_a_value_beyond_its_bounds(
    section: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    """One check, the declared bounds, seen through every table of a scenario file: the
    error names the file and the table (not counted as separate faults)."""
    kind = Scenario.sections()[section]
    key = next(
        k
        for k, p in kind.params().items()
        if p.kind in (int, float) and p.choices is None and (p.low is not None or p.high)
    )
    value = beyond(kind, key)
    text = CITY if section == "city" else CITY + f"[{section}]\n"
    text += f"{key} = {value!r}\n"
    path = tmp_path / "bounds.toml"
    path.write_text(text, encoding="utf-8")
    expected = f"{path} [{section}]: {key} = {value!r} is not allowed; expected "
    with pytest.raises(ScenarioError, match="^" + expected.replace("[", r"\[").replace("]", r"\]")):
        Scenario.from_toml(path)
    assert_refused(cli(capsys, "run", path), expected)
