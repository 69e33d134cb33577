"""Parameter declarations: validation messages, conversions and tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from laotie import ScenarioError
from laotie.params import Section, param


@dataclass(frozen=True)
class Toy(Section):
    rate: float = param(0.5, "a probability", low=0, high=1, unit="share")
    count: int = param(3, "a count", low=1)
    mode: str = param("head", "a policy", choices=("head", "inclusive"))
    flag: bool = param(False, "a switch")
    step: float = param(1.0, "a positive step", low=0, low_open=True)
    kind: str = param("a", "a kind", choices=("a", "b", "api"), api_only=("api",))


def test_defaults_and_types() -> None:
    toy = Toy()
    assert (toy.rate, toy.count, toy.mode, toy.flag) == (0.5, 3, "head", False)
    assert isinstance(Toy(rate=1).rate, float)
    assert isinstance(Toy(count=np.int64(4)).count, int)
    assert Toy(count=4.0).count == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": 1.5}, r"Toy: rate = 1.5 is not allowed; expected a number, 0 ≤ value ≤ 1 share"),
        ({"rate": float("nan")}, "rate = nan is not allowed"),
        ({"rate": True}, "rate = True is not allowed"),
        ({"count": 0}, "count = 0 is not allowed; expected an integer, 1 ≤ value"),
        ({"count": 2.5}, "count = 2.5 is not allowed"),
        ({"count": "3"}, "count = '3' is not allowed"),
        (
            {"mode": "inclusiv"},
            "mode = 'inclusiv' is not allowed; expected one of 'head', "
            "'inclusive'; did you mean 'inclusive'",
        ),
        ({"flag": 1}, "flag = 1 is not allowed; expected true or false"),
        ({"step": 0.0}, r"step = 0.0 is not allowed; expected a number, 0 < value"),
    ],
)
def test_bad_values_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        Toy(**kwargs)


def test_unknown_keys_suggest_the_nearest() -> None:
    with pytest.raises(
        ScenarioError, match="models/x.toml: unknown key 'raet'; did you mean 'rate'"
    ):
        Toy.from_dict({"raet": 0.1}, where="models/x.toml")
    with pytest.raises(ScenarioError, match="unknown key 'zzz' \\(valid keys"):
        Toy().replace(zzz=1)


def test_from_dict_names_the_file() -> None:
    with pytest.raises(ScenarioError, match=r"^scenario.toml \[graph\]: rate = 2"):
        Toy.from_dict({"rate": 2}, where="scenario.toml [graph]")


def test_round_trip_and_replace() -> None:
    toy = Toy(rate=0.25, mode="inclusive")
    assert Toy.from_dict(toy.to_dict()) == toy
    assert toy.replace(count=9).count == 9
    with pytest.raises(ScenarioError):
        toy.replace(count=-1)


def test_table_lists_every_parameter() -> None:
    rows = Toy.table()
    assert [r["key"] for r in rows] == ["rate", "count", "mode", "flag", "step", "kind"]
    assert rows[0]["allowed"] == "a number, 0 ≤ value ≤ 1"
    assert rows[0]["source"] == "assumed"


def test_declaration_default_is_checked() -> None:
    with pytest.raises(ScenarioError, match="declaration: default = 2"):
        param(2.0, "bad default", high=1)


def test_a_choice_for_the_python_api_only_is_allowed_and_said_so() -> None:
    declared = Toy.params()["kind"]
    assert Toy(kind="api").kind == "api"
    assert (declared.choices, declared.api_only, declared.offered) == (
        ("a", "b", "api"),
        ("api",),
        ("a", "b"),
    )
    assert declared.allowed() == "one of 'a', 'b'; from the Python API also 'api'"
    assert Toy.table()[-1]["allowed"] == declared.allowed()
    assert Toy.params()["mode"].offered == ("head", "inclusive")
    assert Toy.params()["rate"].offered is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"api_only": ("targetd",)},
            r"declaration: api_only = \('targetd',\) is not allowed; expected a tuple of some "
            r"of the choices 'local', 'targeted'; did you mean 'targeted'\?",
        ),
        ({"api_only": "targeted"}, "api_only = 'targeted' is not allowed; expected a tuple"),
        ({"api_only": ("local",)}, "expected choices other than the default 'local'"),
    ],
)
def test_a_declaration_naming_an_api_only_value_not_among_its_choices_is_refused(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ScenarioError, match=message):
        param("local", "who", choices=("local", "targeted"), **kwargs)  # type: ignore[arg-type]


def test_api_only_values_need_choices() -> None:
    with pytest.raises(ScenarioError, match="only a parameter with choices has API-only ones"):
        param(0.5, "a share", low=0, high=1, api_only=(1.0,))
