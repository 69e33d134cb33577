"""Regenerate the tables of docs/model.md and docs/calibration.md that come from runs.

``python docs/run_tables.py`` rewrites every table of :data:`TABLES`; ``--only NAME``
(repeatable) rewrites those named. A table lives between
``<!-- table:NAME ... -->`` and ``<!-- /table:NAME -->`` in its page. The opening marker is
a stamp: the command that regenerates the table, laotie's version, the fingerprint of the
model's sources (:func:`laotie.sweep.store.code_fingerprint`; ``n/a`` for a table made
from shipped data without a run) and a hash of the table's other sources (this script, the
statistics, the scenario and targets files it reads: :meth:`Table.sources_fingerprint`).
``tests/test_doc_tables.py`` fails when a stamp differs from the current files
(:func:`stale`), naming the command.

The runs are those of ``laotie validate`` (the table names the command, its scale, days,
seed and replications), run in this process with the command's own seeds, so that the
command prints the table's numbers. Tables that share runs share them within one call.
The whole city takes minutes and gigabytes, so the tables use the calibration's scale (2 % of
Mudanjiang, 180 days) and 4 % for the defaults (90 days): the moments hardly depend on the
scale (the second trial of docs/calibration.md checked 2 % against 4 %). The defaults' runs
take about 15 s; the calibrated scenario's ten replications about two minutes of one core and
1.5 GB (longer on a machine shared with other work).

The parameter tables of the same pages come from the declarations, not from runs:
``python docs/update_tables.py`` writes them.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import math
import re
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laotie._version import __version__
from laotie.sweep.store import code_fingerprint

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "docs/run_tables.py"
COMMON_SOURCES = (SCRIPT, "laotie/stats.py", "laotie/cli/validate.py")
"""Besides the model's code, what decides every table made from runs: this script's words,
the intervals (:func:`laotie.stats.t_interval`) and the command's formatting of numbers."""

OPEN = re.compile(r"<!-- table:(?P<name>\w+)(?P<stamp>(?: [^\n]*?)?) -->")
CLOSE = re.compile(r"<!-- /table:(?P<name>\w+) -->")
MARKER = re.compile(r"<!--\s*/?\s*table\b[^\n]*")
STAMP = re.compile(
    r"^ command=`(?P<command>[^`]*)` version=(?P<version>\S+) model=(?P<model>\S+) "
    r"sources=(?P<sources>\S+)$"
)


class MarkerError(ValueError):
    """A page's table markers are missing, unclosed, doubled or garbled."""


@dataclass(frozen=True)
class Runs:
    """The replications of one ``laotie validate`` command.

    Attributes
    ----------
    scenario : str
        A shipped scenario.
    replications : int
        Replications, on one city graph (the command's).
    scale : float or None
        Scale of the city (None: the targets file's).
    days : int or None
        Days (None: the targets file's).
    targets : str or None
        A targets file, relative to the repository.
    """

    scenario: str
    replications: int
    scale: float | None = None
    days: int | None = None
    targets: str | None = None

    def argv(self) -> list[str]:
        """The command's arguments after ``laotie``."""
        words = ["validate", self.scenario]
        if self.targets is not None:
            words += ["--targets", self.targets]
        if self.scale is not None:
            words += ["--scale", f"{self.scale:g}"]
        if self.days is not None:
            words += ["--days", str(self.days)]
        return [*words, "-R", str(self.replications)]

    def sources(self) -> tuple[str, ...]:
        """The scenario file and the targets file."""
        files = (f"models/{self.scenario}/scenario.toml",)
        return files + ((self.targets, "laotie/calibrate/targets.py") if self.targets else ())


@dataclass(frozen=True)
class Ran:
    """What :func:`run` made: the graph, the replications' results, the validation table
    and a caption that names the command and its setting."""

    graph: Any
    results: list[Any]
    table: pd.DataFrame
    caption: str


@functools.cache
def run(runs: Runs) -> Ran:
    """Run ``laotie validate``'s replications as the command does (its defaults, its seeds,
    its graph) and evaluate its moments."""
    from laotie._random import run_seeds
    from laotie.calibrate import load_targets
    from laotie.cli.validate import DEFAULT_DAYS
    from laotie.graph import city
    from laotie.moments import validate
    from laotie.runs import replicate
    from laotie.scenario import Scenario

    targets = load_targets(ROOT / runs.targets) if runs.targets is not None else None
    days = runs.days if runs.days is not None else targets.days if targets else DEFAULT_DAYS
    scale = runs.scale if runs.scale is not None else targets.scale if targets else 1.0
    scenario = Scenario.load(runs.scenario, scale=scale)
    seed = targets.seed if targets is not None else scenario.run.seed
    start = time.perf_counter()
    graph = city(scenario.city, seed=run_seeds(seed, runs.replications)[0])
    results = replicate(scenario, runs.replications, days=days, seed=seed, graph=graph)
    if targets is not None:
        table = validate(results, graph, moments=targets.moments())
        roles = {t.id: t.role for t in targets.targets}
        table.insert(2, "role", [roles[i] for i in table["id"]])
    else:
        table = validate(results, graph)
    print(
        f"ran `laotie {shlex.join(runs.argv())}` in {time.perf_counter() - start:.0f} s",
        file=sys.stderr,
    )
    caption = (
        f"From the runs of `laotie {shlex.join(runs.argv())}`: "
        f"{scenario.city.n_residents:,} residents (scale {scale:g}), {days} days, seed {seed}, "
        f"{runs.replications} replications on one city graph; laotie {__version__}."
    )
    return Ran(graph, results, table, caption)


def _value(row: Any, unit: str) -> str:
    """A moment's mean and 95 % interval as ``laotie validate`` prints them."""
    from laotie.cli.validate import _SUFFIX, _number

    if math.isnan(row.value):
        return "n/a"
    text = _number(row.value, unit)
    if not math.isnan(row.ci_low):
        text += f" [{_number(row.ci_low, unit)}, {_number(row.ci_high, unit)}]"
    return text + _SUFFIX.get(unit, "")


def _band(row: Any, unit: str) -> str:
    from laotie.cli.validate import _SUFFIX, _number

    return f"{_number(row.low, unit)} – {_number(row.high, unit)}{_SUFFIX.get(unit, '')}"


def moments_table(table: pd.DataFrame, ids: Sequence[str] | None = None) -> str:
    """Rows of a validation table as Markdown, numbers as ``laotie validate`` prints them."""
    from laotie.moments import MOMENTS

    units = {m.id: m.unit for m in MOMENTS}
    roles = "role" in table
    rows = table if ids is None else table.set_index("id").loc[list(ids)].reset_index()
    header = ["ID", "moment", *(["role"] if roles else []), "target band", "model [95 % CI]"]
    lines = ["| " + " | ".join([*header, "inside"]) + " |", "|" + "---|" * (len(header) + 1)]
    for row in rows.itertuples(index=False):
        unit = units[str(row.id)]
        inside = "n/a" if math.isnan(row.value) else ("yes" if row.inside else "**no**")
        cells = [str(row.id), str(row.moment)]
        cells += [str(row.role).replace("_", " ")] if roles else []
        cells += [_band(row, unit), _value(row, unit), inside]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _interval(values: Sequence[float]) -> str:
    from laotie.stats import t_interval

    mean, low, high = t_interval(np.asarray(values, dtype=float))
    if math.isnan(mean):
        return "n/a"
    if math.isnan(low):
        return f"{mean:.3g}"
    return f"{mean:.3g} [{low:.3g}, {high:.3g}]"


DENOMINATORS = {
    "exposure": "exposures",
    "click": "clicks",
    "session": "exposed_user_days",
}
"""What a chance to buy is, and the summary's column that counts it; the numerators are
orders (``buyer_days`` for sessions: a session converts when it has an order)."""


def conversion_ratios(results: Sequence[Any], channels: Sequence[str]) -> str:
    """Each channel's conversion over the storefront's, per exposure, click and session: the
    mean over replications and its 95 % interval."""
    header = ["conversion over the storefront's", *(f"per {d}" for d in DENOMINATORS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for channel in channels:
        cells = [f"`{channel}`"]
        for column in DENOMINATORS.values():
            numerator = "buyer_days" if column == "exposed_user_days" else "orders"
            ratios = []
            for result in results:
                s = result.summary
                rate = s.loc[channel, numerator] / s.loc[channel, column]
                traffic = s.loc["storefront", numerator] / s.loc["storefront", column]
                ratios.append(rate / traffic if traffic else math.nan)
            cells.append(_interval(ratios))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


DEFAULTS = Runs("mudanjiang", replications=4, scale=0.04, days=90)
"""The defaults (``models/mudanjiang``): 4 % of the city (the size of the measurements
docs/model.md quoted before it was generated), three complete months (T5a needs two)."""

TARGETS = "models/mudanjiang/targets.toml"
"""The calibration's targets file: its moments, bands, priors, scale, days and seed."""

CALIBRATED = Runs("mudanjiang_calibrated", replications=10, targets=TARGETS)
"""The shipped calibrated scenario in the calibration's setting (the targets file's scale,
days and seed), as its README's command runs it."""


def defaults_graph() -> str:
    """The default city's graph against T9, T11 and T12's seed, and its realised ties."""
    from laotie.moments import mutual_ties_per_user
    from laotie.scenario import Scenario

    ran = run(DEFAULTS)
    stats = ran.graph.stats()
    spec = Scenario.preset("mudanjiang").city
    (t11,) = ran.table[ran.table["id"] == "T11"].itertuples(index=False)
    fit = stats.follower_fit
    group = spec.local_degree / (spec.group_size - 1)
    rows = [
        ("T12 / seed", "registered users / residents", f"{stats['user share']:.4f}",
         f"`user_share` = {spec.user_share:.4f}"),
        ("T9", "follower CCDF slope, fitted (s.e.)", f"{fit.alpha:.3g} ({fit.alpha_stderr:.2g})",
         f"`follower_exponent` = {spec.follower_exponent:g}; band 1.0–1.7"),
        ("–", "local ties per resident", f"{stats['mean local ties per resident']:.1f}",
         f"`local_degree` = {spec.local_degree:g}"),
        ("–", "city ties per resident", f"{stats['mean city ties per resident']:.1f}",
         f"`city_degree` = {spec.city_degree:g}"),
        ("–", "ties between two users, per registered user",
         f"{mutual_ties_per_user(ran.graph):.1f}", ""),
        ("T11", "ties between two users, per monthly active user [95 % CI]",
         _value(t11, "ties"), "band 60–95"),
        ("–", "clustering of local and city ties (2,000 residents sampled)",
         f"{stats['clustering (sampled)']:.3f}",
         f"`local_degree / (group_size − 1)` = {group:.2f} inside a group"),
    ]  # fmt: skip
    header = "| ID | statistic | measured | the setting or the target |\n|---|---|---|---|"
    body = "\n".join("| " + " | ".join(row) + " |" for row in rows)
    return f"{ran.caption}\n\n{header}\n{body}"


def defaults_market() -> str:
    """The defaults' conversion, order value and repurchase against T4, T6 and T5a."""
    ran = run(DEFAULTS)
    return "\n\n".join(
        [
            ran.caption,
            moments_table(ran.table, ["T4", "T6", "T5a"]),
            conversion_ratios(ran.results, ["follow", "trust"]),
        ]
    )


def calibrated_targets() -> str:
    """The shipped calibrated scenario's moments against the targets file's bands."""
    ran = run(CALIBRATED)
    counts = []
    for role, label in (("fit", "fitted"), ("held_out", "held-out")):
        part = ran.table[ran.table["role"] == role]
        counts.append(f"{int(part['inside'].sum())} of {len(part)} {label}")
    inside = int(ran.table["inside"].sum())
    return (
        f"{ran.caption}\n\n{moments_table(ran.table)}\n\nInside their bands: "
        f"{' and '.join(counts)} moments ({inside} of {len(ran.table)})."
    )


def calibrated_conversion() -> str:
    """The calibrated follow channel's conversion over the storefront's, three ways."""
    ran = run(CALIBRATED)
    return f"{ran.caption}\n\n{conversion_ratios(ran.results, ['follow', 'trust'])}"


def posterior() -> str:
    """The shipped posterior's medians and 90 % intervals against the priors."""
    from laotie.calibrate import load_targets
    from laotie.posterior import load_posterior

    draws = load_posterior("mudanjiang_calibrated")
    priors = load_targets(ROOT / TARGETS).free
    intervals = draws.intervals(0.9)
    lines = [
        f"From `models/mudanjiang_calibrated/posterior.csv` ({len(draws.table):,} draws) and "
        f"the priors of `{TARGETS}`; laotie {__version__}.",
        "",
        "| parameter | median | 90 % interval | prior | width / prior's |",
        "|---|---|---|---|---|",
    ]
    for key, row in intervals.iterrows():
        low, high = priors[str(key)]
        width = (row["high"] - row["low"]) / (high - low)
        lines.append(
            f"| `{key}` | {row['median']:.4g} | {row['low']:.4g} to {row['high']:.4g} | "
            f"{low:g} to {high:g} | {width:.0%} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Table:
    """A generated table: where it lives, what makes it and what it depends on.

    Attributes
    ----------
    name : str
        Its marker's name.
    page : str
        Its page, relative to the repository.
    make : callable
        Returns the table's Markdown (without markers).
    runs : Runs or None
        The runs it comes from (None: shipped data only).
    sources : tuple of str
        Files besides the model's code that decide it.
    cost : str
        What regenerating it costs, for the staleness message.
    """

    name: str
    page: str
    make: Callable[[], str]
    runs: Runs | None
    sources: tuple[str, ...]
    cost: str

    @property
    def command(self) -> str:
        """The command that regenerates the table."""
        return f"python {SCRIPT} --only {self.name}"

    def sources_fingerprint(self) -> str:
        """A hash of :attr:`sources` (16 hex digits)."""
        digest = hashlib.sha256()
        for source in self.sources:
            digest.update(source.encode())
            digest.update((ROOT / source).read_bytes())
        return digest.hexdigest()[:16]

    def model_fingerprint(self) -> str:
        """:func:`code_fingerprint` for a table made from runs; ``n/a`` otherwise."""
        return code_fingerprint() if self.runs is not None else "n/a"

    def stamp(self) -> str:
        """The opening marker: the command, the version and the two fingerprints."""
        return (
            f"<!-- table:{self.name} command=`{self.command}` version={__version__} "
            f"model={self.model_fingerprint()} sources={self.sources_fingerprint()} -->"
        )

    def section(self) -> str:
        """The whole generated section, markers included."""
        return f"{self.stamp()}\n{self.make()}\n<!-- /table:{self.name} -->"


POSTERIOR_SOURCES = (
    SCRIPT,
    "laotie/posterior.py",
    "laotie/calibrate/targets.py",
    "models/mudanjiang_calibrated/scenario.toml",
    "models/mudanjiang_calibrated/posterior.csv",
    TARGETS,
)
"""What decides the posterior's table: the draws, the priors and the code that reads them."""

TABLES = {
    t.name: t
    for t in (
        Table("defaults_graph", "docs/model.md", defaults_graph, DEFAULTS,
              COMMON_SOURCES + DEFAULTS.sources(), "about 15 s"),
        Table("defaults_market", "docs/model.md", defaults_market, DEFAULTS,
              COMMON_SOURCES + DEFAULTS.sources(), "about 15 s"),
        Table("posterior", "docs/calibration.md", posterior, None, POSTERIOR_SOURCES,
              "about a second"),
        Table("calibrated_targets", "docs/calibration.md", calibrated_targets, CALIBRATED,
              COMMON_SOURCES + CALIBRATED.sources(), "2–9 minutes"),
        Table("calibrated_conversion", "docs/calibration.md", calibrated_conversion, CALIBRATED,
              COMMON_SOURCES + CALIBRATED.sources(), "2–9 minutes"),
    )
}  # fmt: skip
"""Every generated table, by name."""


def sections(text: str, page: str) -> dict[str, tuple[int, int, str]]:
    """The marked tables of a page: name → (start, end, stamp) of each whole section.

    Raises
    ------
    MarkerError
        For a marker that is garbled, doubled, unclosed, or closed without being opened;
        the message names the page, the line and the marker.
    """
    found: dict[str, tuple[int, int, str]] = {}

    def line(at: int) -> int:
        return text.count("\n", 0, at) + 1

    for marker in MARKER.finditer(text):
        if not (OPEN.match(marker.group()) or CLOSE.match(marker.group())):
            raise MarkerError(
                f"{page}:{line(marker.start())}: garbled table marker {marker.group()!r}; "
                f"expected <!-- table:NAME ... --> or <!-- /table:NAME -->"
            )
    for opening in OPEN.finditer(text):
        name = opening["name"]
        if name in found:
            raise MarkerError(f"{page}:{line(opening.start())}: table {name!r} is marked twice")
        closing = re.compile(f"<!-- /table:{name} -->").search(text, opening.end())
        following = OPEN.search(text, opening.end())
        if closing is None or (following is not None and following.start() < closing.start()):
            raise MarkerError(
                f"{page}:{line(opening.start())}: <!-- table:{name} --> is not closed by "
                f"<!-- /table:{name} --> before the next table"
            )
        found[name] = (opening.start(), closing.end(), opening["stamp"])
    for closing in CLOSE.finditer(text):
        if closing["name"] not in found:
            raise MarkerError(
                f"{page}:{line(closing.start())}: <!-- /table:{closing['name']} --> closes a "
                f"table that was not opened"
            )
    return found


def _section(found: dict[str, tuple[int, int, str]], table: Table) -> tuple[int, int, str]:
    if table.name not in found:
        raise MarkerError(
            f"{table.page}: no <!-- table:{table.name} --> … <!-- /table:{table.name} --> "
            f"section for the table"
        )
    return found[table.name]


def replace(text: str, table: Table, section: str) -> str:
    """``text``, ``table``'s page, with the table's section replaced by ``section``.

    Raises
    ------
    MarkerError
        When the page has no section for the table, or its markers are broken.
    """
    start, end, _ = _section(sections(text, table.page), table)
    return text[:start] + section + text[end:]


def read_stamp(table: Table, root: Path = ROOT) -> dict[str, str]:
    """The stamp of ``table`` in its page (``command``, ``version``, ``model``, ``sources``).

    Raises
    ------
    MarkerError
        When the page has no section for the table, or its stamp is missing or garbled.
    """
    text = (root / table.page).read_text(encoding="utf-8")
    stamp = STAMP.match(_section(sections(text, table.page), table)[2])
    if stamp is None:
        raise MarkerError(
            f"{table.page}: the <!-- table:{table.name} --> marker carries no stamp: "
            f"run `{table.command}`"
        )
    return stamp.groupdict()


def stale(table: Table, root: Path = ROOT) -> str | None:
    """Why a shipped table no longer matches the current sources, or None when it does.

    Returns
    -------
    str or None
        The page, the table, what differs and the command that regenerates it.
    """
    try:
        stamp = read_stamp(table, root)
    except MarkerError as err:
        return str(err)
    now = {
        "command": table.command,
        "version": __version__,
        "model": table.model_fingerprint(),
        "sources": table.sources_fingerprint(),
    }
    changed = [f"{key} {stamp[key]} → {now[key]}" for key in now if stamp[key] != now[key]]
    if not changed:
        return None
    return (
        f"{table.page}, table {table.name}: generated from other sources "
        f"({'; '.join(changed)}): rerun `{table.command}` ({table.cost})"
    )


def write(names: Sequence[str], root: Path = ROOT) -> list[str]:
    """Regenerate the tables ``names`` in their pages under ``root``; return the pages
    written. Every page's markers are checked before anything runs."""
    tables = [TABLES[name] for name in names]
    pages = {table.page: (root / table.page).read_text(encoding="utf-8") for table in tables}
    for table in tables:  # broken markers fail before the runs, not after
        _section(sections(pages[table.page], table.page), table)
    for table in tables:
        pages[table.page] = replace(pages[table.page], table, table.section())
    for page, text in pages.items():
        (root / page).write_text(text, encoding="utf-8")
    return list(pages)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python {SCRIPT}", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(TABLES),
        metavar="NAME",
        help=f"regenerate this table only (repeatable); one of {', '.join(TABLES)}",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        pages = write(args.only or list(TABLES))
    except MarkerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(
        f"Wrote {', '.join(args.only or TABLES)} in {', '.join(pages)} "
        f"({time.perf_counter() - start:.0f} s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
