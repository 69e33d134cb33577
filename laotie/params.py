"""Parameter declarations: each parameter is declared once, and everything reads it.

A parameter is a field of a frozen dataclass declared with :func:`param`, which records its
default, type, bounds or choices, unit, meaning and the source of its default (a target or
fact id of ``docs/sources.md``, the seed article, or "assumed"). From that one declaration come
the validation of user input (with errors that name the key, the value and what is allowed,
and suggest the nearest valid key for a misspelt one), the parameter tables in the docs and,
later, command-line ``--set`` keys and sensitivity-analysis bounds.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Toy(Section):
...     rate: float = param(0.5, "a probability", low=0, high=1)
>>> Toy(rate=0.2).rate
0.2
>>> Toy.from_dict({"rat": 0.2})
Traceback (most recent call last):
...
laotie.errors.ScenarioError: Toy: unknown key 'rat'; did you mean 'rate'? (valid keys: rate)
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
import numbers
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from .errors import ScenarioError

__all__ = ["Param", "Section", "did_you_mean", "markdown_table", "param", "suggest"]


@dataclass(frozen=True)
class Param:
    """The declaration of one parameter (made by :func:`param`, whose arguments it holds).

    Attributes
    ----------
    default : bool, int, float or str
        The default value; its type is the parameter's type (:attr:`kind`).
    doc : str
        One sentence of meaning.
    unit : str
        The unit, or ``""``.
    low, high : float or None
        Bounds, inclusive unless ``low_open`` / ``high_open``.
    low_open, high_open : bool
        Whether the bounds are exclusive.
    choices : tuple or None
        The allowed values of a string parameter.
    source : str
        Where the default comes from.
    api_only : tuple
        The choices that only the Python API can use (they need arguments that a scenario
        file, a ``--set`` option or a dashboard cannot give); :attr:`offered` leaves them out.

    Raises
    ------
    ScenarioError
        If ``api_only`` is not a tuple of choices, or holds the default.
    """

    default: Any
    doc: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] | None = None
    source: str = "assumed"
    api_only: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if not self.api_only:
            return
        problem = f"declaration: api_only = {self.api_only!r} is not allowed"
        if self.choices is None:
            raise ScenarioError(f"{problem}: only a parameter with choices has API-only ones")
        expected = f"{problem}; expected a tuple of some of the choices " + ", ".join(
            repr(c) for c in self.choices
        )
        if not isinstance(self.api_only, tuple):
            raise ScenarioError(expected)
        strays = [value for value in self.api_only if value not in self.choices]
        if strays:
            raise ScenarioError(expected + did_you_mean(strays[0], self.choices))
        if self.default in self.api_only:
            raise ScenarioError(
                f"{problem}; expected choices other than the default {self.default!r} (a "
                "scenario file must be able to keep the default)"
            )

    @property
    def kind(self) -> type:
        """The Python type of the parameter: bool, int, float or str."""
        return type(self.default)

    @property
    def offered(self) -> tuple[Any, ...] | None:
        """The choices without those for the Python API only (:attr:`api_only`): what a
        widget offers. None for a parameter without choices."""
        if self.choices is None:
            return None
        return tuple(c for c in self.choices if c not in self.api_only)

    def allowed(self) -> str:
        """What is allowed, in words, for error messages and docs tables.

        Returns
        -------
        str
            E.g. ``"a number, 0 ≤ value ≤ 1"``, ``"one of 'head', 'inclusive'"`` or, with
            choices for the Python API only, ``"one of 'local', 'random'; from the Python API
            also 'targeted'"``.
        """
        if self.choices is not None:
            words = "one of " + ", ".join(repr(c) for c in self.offered or ())
            if self.api_only:
                words += "; from the Python API also " + ", ".join(repr(c) for c in self.api_only)
            return words
        name = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[
            self.kind
        ]
        if self.low is None and self.high is None:
            return name
        lo = "" if self.low is None else f"{_fmt(self.low)} {'<' if self.low_open else '≤'} "
        hi = "" if self.high is None else f" {'<' if self.high_open else '≤'} {_fmt(self.high)}"
        return f"{name}, {lo}value{hi}"

    def check(self, value: Any, key: str, where: str) -> Any:
        """Check ``value`` against the declaration and convert it to the declared type.

        Parameters
        ----------
        value : object
            The value received (from a TOML file, a ``--set`` option, a keyword).
        key : str
            The parameter's name, for the message.
        where : str
            Where the value comes from (a file and table, or a class), for the message.

        Returns
        -------
        bool, int, float or str
            ``value`` as the declared type (an integral float becomes an int for an integer
            parameter).

        Raises
        ------
        ScenarioError
            Naming ``where``, the key, the value and what is allowed (with the nearest choice
            for a misspelt string).
        """
        unit = f" {self.unit}" if self.unit and self.kind in (int, float) else ""
        problem = f"{where}: {key} = {value!r} is not allowed; expected {self.allowed()}{unit}"
        kind = self.kind
        if kind is bool:
            if not isinstance(value, bool | _np_bool()):
                raise ScenarioError(problem)
            return bool(value)
        if kind is str:
            if not isinstance(value, str):
                raise ScenarioError(problem)
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise ScenarioError(problem)
            value = int(value)
        elif kind is float:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ScenarioError(problem)
            value = float(value)
            if not math.isfinite(value):
                raise ScenarioError(problem)
        if self.choices is not None and value not in self.choices:
            raise ScenarioError(problem + did_you_mean(value, self.choices))
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            raise ScenarioError(problem)
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            raise ScenarioError(problem)
        return value


def param(
    default: Any,
    doc: str,
    *,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    choices: tuple[Any, ...] | None = None,
    source: str = "assumed",
    api_only: tuple[Any, ...] = (),
) -> Any:
    """Declare a parameter as a dataclass field of a :class:`Section`.

    Parameters
    ----------
    default : bool, int, float or str
        The default value; its type is the parameter's type.
    doc : str
        One sentence of meaning, with the Chinese term where there is one.
    unit : str
        The unit, e.g. ``"ties per resident"`` or ``"share of users"``.
    low, high : float, optional
        Inclusive bounds, made exclusive by ``low_open`` / ``high_open``.
    choices : tuple, optional
        The allowed values of a string parameter.
    source : str
        Where the default comes from: a target or fact id of docs/sources.md (``"T11"``,
        ``"D6"``), the seed article, or ``"assumed"``.
    api_only : tuple, default ()
        Choices that only the Python API can use, because they need arguments a scenario
        file cannot give (``training.rule = "targeted"`` needs the creators that
        :mod:`laotie.policy` names). They stay allowed values; the dashboard does not offer
        them, and tables and messages say they are for the Python API.

    Returns
    -------
    dataclasses.Field
        The field, with the :class:`Param` in its metadata under ``"param"``.

    Raises
    ------
    ScenarioError
        If ``default`` itself is not allowed by the declaration, or ``api_only`` is not a
        tuple of choices other than the default.
    """
    declared = Param(default, doc, unit, low, high, low_open, high_open, choices, source, api_only)
    declared.check(default, "default", "declaration")
    return dataclasses.field(default=default, metadata={"param": declared})


class Section:
    """Mixin for a frozen dataclass whose fields are declared with :func:`param`.

    Values are validated when the object is made, so an instance always holds valid values.
    The docstring of a subclass gets a numpydoc ``Parameters`` section written from the
    declarations (type, default, meaning, unit, allowed values, source), so that ``help()``
    shows what the docs tables show.
    """

    where: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The dataclass decorator has not run yet: the declarations are the class's Fields.
        declared = {
            name: value.metadata["param"]
            for name, value in vars(cls).items()
            if isinstance(value, dataclasses.Field) and "param" in value.metadata
        }
        if declared:
            cls.__doc__ = _with_parameters(cls.__doc__ or "", declared)

    def __post_init__(self) -> None:
        where = type(self).__name__
        for name, declared in self.params().items():
            object.__setattr__(self, name, declared.check(getattr(self, name), name, where))

    @classmethod
    def params(cls) -> dict[str, Param]:
        """The declared parameters of this section, in declaration order.

        Returns
        -------
        dict of str to Param
        """
        return {
            f.name: f.metadata["param"]
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if "param" in f.metadata
        }

    @classmethod
    def keys(cls) -> list[str]:
        """Every key this section accepts (declared parameters and other fields).

        Returns
        -------
        list of str
        """
        return [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "") -> Self:
        """Make the section from a mapping (a parsed TOML table, say).

        Parameters
        ----------
        data : mapping of str to value
            Keys of the section and their values; missing keys take their defaults.
        where : str, optional
            Prefixes every error message (a file name and table); default: the class name.

        Returns
        -------
        Section
            An instance of this class.

        Raises
        ------
        ScenarioError
            For an unknown key (with the nearest valid one) or a value that is not allowed.
        """
        where = where or cls.__name__
        cls._check_keys(data, where)
        values = {}
        declared = cls.params()
        for key, value in data.items():
            values[key] = declared[key].check(value, key, where) if key in declared else value
        return cls(**values)

    @classmethod
    def _check_keys(cls, data: Mapping[str, Any], where: str) -> None:
        valid = cls.keys()
        for key in data:
            if key not in valid:
                raise ScenarioError(
                    f"{where}: unknown key {key!r}{did_you_mean(key, valid)} "
                    f"(valid keys: {', '.join(valid)})"
                )

    def to_dict(self) -> dict[str, Any]:
        """The section's values as a plain dict (the inverse of :meth:`from_dict`).

        Returns
        -------
        dict of str to value
        """
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def replace(self, where: str = "", /, **changes: Any) -> Self:
        """Return a copy with ``changes`` applied (validated like any other input).

        Parameters
        ----------
        where : str, optional
            Positional only: names the source in error messages; default: the class name.
        **changes
            Keys of the section and their new values.

        Returns
        -------
        Section
            A new instance; this one is unchanged.

        Raises
        ------
        ScenarioError
            For an unknown key (with the nearest valid one) or a value that is not allowed.
        """
        self._check_keys(changes, where or type(self).__name__)
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    @classmethod
    def table(cls) -> list[dict[str, str]]:
        """The section's parameters as table rows (for :func:`markdown_table`).

        Returns
        -------
        list of dict
            One dict per parameter with the text of ``key``, ``default``, ``unit``,
            ``allowed``, ``source`` and ``meaning``.
        """
        return [
            {
                "key": name,
                "default": _fmt(p.default),
                "unit": p.unit,
                "allowed": p.allowed(),
                "source": p.source,
                "meaning": p.doc,
            }
            for name, p in cls.params().items()
        ]


def markdown_table(section: type[Section]) -> str:
    """The parameter table of ``section`` as a Markdown table (for docs and READMEs).

    Parameters
    ----------
    section : type
        A :class:`Section` subclass, e.g. :class:`laotie.sections.Policy`.

    Returns
    -------
    str
        A header row and one row per parameter: key, default, unit, allowed, source, meaning.
    """
    rows = section.table()
    header = "| key | default | unit | allowed | source | meaning |\n|---|---|---|---|---|---|"
    body = [
        "| `{key}` | {default} | {unit} | {allowed} | {source} | {meaning} |".format(
            **{k: str(v).replace("|", "\\|") for k, v in row.items()}
        )
        for row in rows
    ]
    return "\n".join([header, *body])


def suggest(word: str, valid: list[str] | tuple[Any, ...]) -> str | None:
    """The nearest valid word to ``word``.

    Parameters
    ----------
    word : str
        What was received.
    valid : sequence
        What is allowed (compared as strings).

    Returns
    -------
    str or None
        The closest valid word, or None when nothing is close.

    Examples
    --------
    >>> suggest("inclusve", ["head", "inclusive"])
    'inclusive'
    """
    found = difflib.get_close_matches(str(word), [str(v) for v in valid], n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: Any, valid: list[str] | tuple[Any, ...]) -> str:
    """The hint that error messages append for a misspelt word.

    Parameters
    ----------
    word : object
        What was received.
    valid : sequence
        What is allowed.

    Returns
    -------
    str
        ``"; did you mean 'x'?"`` for the nearest valid word, or ``""`` when none is close.

    Examples
    --------
    >>> did_you_mean("hed", ["head", "inclusive"])
    "; did you mean 'head'?"
    """
    near = suggest(word, valid)
    return f"; did you mean {near!r}?" if near is not None else ""


def _with_parameters(doc: str, declared: Mapping[str, Param]) -> str:
    """``doc`` with an entry per declared parameter in its ``Parameters`` section (made, right
    after the summary and before any other section, when ``doc`` has none)."""
    entries = []
    for name, p in declared.items():
        default = repr(p.default) if isinstance(p.default, str) else _fmt(p.default)
        entries.append(f"{name} : {p.kind.__name__}, default {default}")
        words = [p.doc[:1].upper() + p.doc[1:].rstrip(".") + "."]
        if p.unit:
            words.append(f"Unit: {p.unit}.")
        words.append(f"Allowed: {p.allowed()}.")
        words.append(f"Source: {p.source}.")
        entries += textwrap.wrap(
            " ".join(words), 88, initial_indent="    ", subsequent_indent="    "
        )
    lines = inspect.cleandoc(doc).splitlines()
    headers = [
        i
        for i in range(len(lines) - 1)
        if lines[i + 1].startswith("---") and set(lines[i + 1]) == {"-"}
    ]
    if "Parameters" in [lines[i] for i in headers]:
        start = next(i for i in headers if lines[i] == "Parameters")
        later = [i for i in headers if i > start]
        end = later[0] if later else len(lines)
        while end > start and not lines[end - 1].strip():
            end -= 1
        lines[end:end] = entries
    else:
        at = headers[0] if headers else len(lines)
        lines[at:at] = ["Parameters", "----------", *entries, ""]
        if at > 0 and lines[at - 1].strip():
            lines.insert(at, "")
    return "\n".join(lines).rstrip() + "\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _np_bool() -> type:
    import numpy as np

    return np.bool_
