"""Claims audit: which parameters drive each headline outcome, and whether they were
calibrated or assumed.

An audit is a sweep whose draws are the audit's samples (:func:`audit_sweep`): each sample
takes a posterior draw of the calibrated parameters (jointly, so their correlations stay) and a
Latin-hypercube value of every assumed parameter the audit names, within its prior range (the
declared bounds, or a range given). Every arm an outcome needs runs once per sample, with
common random numbers. Each outcome's sensitivity to each parameter is then estimated from the
samples as they are (given data): the first-order Sobol index ``S1 = Var(E[Y | X_i]) /
Var(Y)`` by SALib's delta-method analysis (:func:`indices`), which accepts any sample, including
correlated posterior draws. With correlated inputs an ``S1`` credits a parameter with what it
shares with those it is correlated with: read it as "this parameter, or what moves with it".

Each outcome gets a verdict (:func:`verdicts`):

- ``driven by assumed parameter X: S1 = 0.81`` when the largest index belongs to an assumed
  parameter, is at least :data:`DRIVEN` and the permutation null's bar (``null_max95``,
  :func:`indices`), and its interval excludes 0;
- ``driven by calibrated parameter X (...)``, likewise for a calibrated one;
- ``robust across the posterior ...`` when no parameter clears that bar (each sample being
  one run, what spread the outcome has is then chance or parameters acting together, which
  the audit does not tell apart), or ``not
  determined`` when the bar itself is :data:`UNDETERMINED` or more (too few samples), or
  when there are fewer than :data:`MIN_DISTINCT` distinct parameter vectors per varied
  parameter (a sweep over a few posterior draws: its parameters vary together) or fewer than
  :data:`MIN_VECTORS` in all (a grid of a few values).

A finished sweep can be audited as it is (:func:`audit_result`, ``laotie audit FOLDER``): its
runs are the samples, the values each run took (its point's and its posterior draw's) the
parameters, and the outcomes its per-run tables.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import io
import json
import math
import numbers
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.stats import qmc

from ._io import atomic_write
from .errors import LaotieError
from .posterior import Posterior, load_posterior
from .scenario import Scenario
from .sweep import SweepResult, collect, run_sweep
from .sweep.spec import Sweep, as_points, sample_range
from .sweep.store import SPEC_FILE, code_fingerprint, read_record, record_path, spec_key

if TYPE_CHECKING:
    from .executors import Executor

__all__ = [
    "DRIVEN",
    "MIN_DISTINCT",
    "MIN_VECTORS",
    "RESULT_METRICS",
    "UNDETERMINED",
    "Audit",
    "audit_result",
    "audit_samples",
    "audit_sweep",
    "indices",
    "probe_key",
    "read_sweep",
    "run_audit",
    "run_probe_audit",
    "verdicts",
]


class Audit(NamedTuple):
    """What :func:`run_audit` found."""

    verdicts: pd.DataFrame
    """A verdict per outcome (:func:`verdicts`)."""
    drivers: pd.DataFrame
    """The three largest indices of each outcome, with each parameter's source."""
    seconds: float
    """The seconds the audit's runs took, summed over runs."""


DRIVEN = 0.3
"""The first-order index from which an outcome is said to be driven by one parameter."""

UNDETERMINED = 0.5
"""A permutation null this high means the samples are too few to say anything."""

MIN_DISTINCT = 2
"""Distinct parameter vectors needed per varied parameter: with fewer (a sweep over a few
posterior draws), the parameters that vary together cannot be told apart, and no verdict
names one."""

MIN_VECTORS = 10
"""Distinct parameter vectors needed in all: with fewer (a grid of two or three values), the
permutations of the vectors among their groups are too few for a null, which then equals the
index itself (compare such arms with ``laotie sweep``'s paired comparison instead)."""


def audit_samples(
    base: Scenario,
    posterior: Posterior | None,
    assumed: Mapping[str, list[float] | None],
    samples: int,
    seed: int,
    keys: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The audit's samples: posterior draws joined with Latin-hypercube values of the assumed
    parameters.

    Parameters
    ----------
    base : Scenario
        The scenario the samples change.
    posterior : Posterior or None
        The calibrated parameters' draws (None: only assumed parameters vary).
    assumed : dict of str to [low, high] or None
        Assumed parameters and their prior ranges (None: the declared bounds).
    samples : int
        How many samples.
    seed : int
        Chooses the draws and the hypercube.
    keys : list of str, optional
        Only these of the posterior's parameters (all by default; :meth:`Posterior.draws`),
        e.g. the platform-level ones carried over to another scenario.

    Returns
    -------
    list of dict
        One ``{dotted key: value}`` per sample.

    Raises
    ------
    LaotieError
        For fewer than 8 samples, an assumed parameter that the posterior also varies, or
        nothing to vary.
    ScenarioError
        For an assumed key or range the scenario does not accept.
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 8:
        raise LaotieError(f"audit: samples = {samples!r}; expected an integer ≥ 8")
    calibrated = posterior.draws(samples, seed, keys) if posterior is not None else [{}] * samples
    drawn = (keys if keys is not None else posterior.keys) if posterior is not None else []
    both = sorted(set(assumed) & set(drawn))
    if both:
        raise LaotieError(
            f"audit: {both[0]} is calibrated (in the posterior): it cannot also be assumed"
        )
    if not assumed:
        if posterior is None:
            raise LaotieError("audit: nothing varies: give a posterior or assumed parameters")
        return calibrated
    keys = list(assumed)
    bounds = np.array(
        [sample_range(base, key, assumed[key], where="audit", ends=True) for key in keys]
    )
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31 + 2,)))
    unit = qmc.LatinHypercube(d=len(keys), seed=rng).random(samples)
    values = as_points(keys, bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0]))
    return [draw | value for draw, value in zip(calibrated, values, strict=True)]


def audit_sweep(
    base: Scenario,
    arms: list[dict[str, Any]],
    samples: list[dict[str, Any]],
    *,
    days: int,
    seed: int,
    moments: tuple[str, ...] = (),
) -> Sweep:
    """The sweep of an audit: every arm once per sample, paired by sample.

    Parameters
    ----------
    base : Scenario
    arms : list of dict
        The arms the outcomes need (cases; a key an arm sets wins over the sample's).
    samples : list of dict
        From :func:`audit_samples`.
    days : int
    seed : int
    moments : tuple of str, optional
        Target moments every run measures.

    Returns
    -------
    Sweep
        One replication per sample: slot ``k`` is sample ``k``.
    """
    return Sweep(
        base, cases=arms, replications=1, days=days, seed=seed, draws=samples, moments=moments
    )


def _first_order(problem: dict[str, Any], x: np.ndarray, y: np.ndarray, **kwargs: Any) -> Any:
    from SALib.analyze import delta

    # SALib seeds numpy's global generator only with a seed other than 0 and draws from it
    # otherwise: seed it here for every seed (0 included), and give the caller's state back.
    state = np.random.get_state()  # noqa: NPY002 (SALib's own generator)
    np.random.seed(kwargs.get("seed", 0))  # noqa: NPY002
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return delta.analyze(problem, x, y, method="sobol", **kwargs)
    finally:
        np.random.set_state(state)  # noqa: NPY002


def indices(
    samples: pd.DataFrame,
    outcomes: pd.DataFrame,
    seed: int,
    resamples: int = 200,
    permutations: int = 40,
) -> pd.DataFrame:
    """First-order Sobol indices of every outcome to every varied parameter, from the samples
    as they are (SALib's delta-method analysis, ``method="sobol"``), with bootstrap intervals
    and a permutation null.

    With few samples and many parameters, given-data indices are biased upwards: an outcome
    that depends on nothing still shows a largest index of about 0.3 with 64 samples and 30
    parameters. So each outcome is also analysed ``permutations`` times with its values
    shuffled across samples (which breaks any dependence); ``null_max95`` is the 95th
    percentile of the largest index over those shuffles, the bar an index must clear to mean
    anything. When several samples share their parameters (a sweep's replications of one
    posterior draw), whole groups are shuffled instead: the parameter vectors are permuted
    among the groups, which keeps the replications together. With few distinct vectors every
    parameter that moves with them fits the outcome as well as any other, and the bar rises
    with it, so the verdict is "not determined" rather than a driver picked by chance.

    Parameters
    ----------
    samples : pandas.DataFrame
        One row per sample, one column per parameter.
    outcomes : pandas.DataFrame
        One row per sample (same index), one column per outcome; rows with a missing outcome
        are left out of that outcome's analysis.
    seed : int
        The bootstrap's and the shuffles' seed.
    resamples : int, default 200
        Bootstrap resamples.
    permutations : int, default 40
        Shuffles for the null.

    Returns
    -------
    pandas.DataFrame
        ``outcome``, ``parameter``, ``S1``, ``S1_conf`` (the half-width of its 95 %
        interval), ``null_max95``, ``n`` (samples used) and ``distinct`` (distinct parameter
        vectors among them).

    Raises
    ------
    LaotieError
        Without SALib (``pip install SALib``), or when an outcome has fewer than 8 samples
        with a value.
    """
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise LaotieError("the audit needs SALib: pip install SALib") from None
    varied = [c for c in samples.columns if samples[c].nunique() > 1]
    rng = np.random.default_rng(seed)
    rows = []
    for outcome in outcomes.columns:
        y = outcomes[outcome].to_numpy(float)
        keep = np.isfinite(y)
        if keep.sum() < 8:
            raise LaotieError(
                f"audit: outcome {outcome!r} has a value in {keep.sum()} samples; at least 8 "
                f"are needed"
            )
        x = samples.loc[keep, varied].to_numpy(float)
        distinct, codes = np.unique(x, axis=0, return_inverse=True)
        codes = codes.ravel()
        grouped = len(distinct) < len(x)

        problem = {
            "num_vars": len(varied),
            "names": varied,
            "bounds": [[float(c.min()), float(c.max())] for c in x.T],
        }
        if np.ptp(y[keep]) == 0:  # a constant outcome depends on nothing
            found = {"S1": np.zeros(len(varied)), "S1_conf": np.zeros(len(varied))}
            null = 0.0
        else:
            found = _first_order(problem, x, y[keep], num_resamples=resamples, seed=seed)
            null = float(
                np.quantile(
                    [
                        np.max(
                            _first_order(
                                problem,
                                distinct[rng.permutation(len(distinct))][codes],
                                y[keep],
                                num_resamples=2,
                                seed=seed,
                            )["S1"]
                            if grouped
                            else _first_order(
                                problem, x, rng.permutation(y[keep]), num_resamples=2, seed=seed
                            )["S1"]
                        )
                        for _ in range(permutations)
                    ],
                    0.95,
                )
            )
        for i, name in enumerate(varied):
            rows.append(
                {
                    "outcome": outcome,
                    "parameter": name,
                    "S1": float(found["S1"][i]),
                    "S1_conf": float(found["S1_conf"][i]),
                    "null_max95": null,
                    "n": int(keep.sum()),
                    "distinct": len(distinct),
                }
            )
    return pd.DataFrame(
        rows, columns=["outcome", "parameter", "S1", "S1_conf", "null_max95", "n", "distinct"]
    )


def verdicts(
    table: pd.DataFrame, calibrated: list[str], sources: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """A verdict line per outcome from its indices.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`indices`.
    calibrated : list of str
        The parameters that were calibrated (the posterior's); every other one is assumed.
    sources : dict of str to str, optional
        Each parameter's declared source (``laotie params``), shown with the driver.

    Returns
    -------
    pandas.DataFrame
        ``outcome``, ``driver`` (the parameter with the largest index), ``kind``
        (``calibrated`` or ``assumed``), ``source``, ``S1``, ``S1_low``, ``S1_high``,
        ``null_max95``, ``verdict``.
    """
    sources = sources or {}
    rows = []
    for outcome, group in table.groupby("outcome", sort=False):
        top = group.sort_values("S1", ascending=False).iloc[0]
        kind = "calibrated" if top["parameter"] in calibrated else "assumed"
        low, high = top["S1"] - top["S1_conf"], top["S1"] + top["S1_conf"]
        bar = max(DRIVEN, float(top["null_max95"]))
        distinct = int(top.get("distinct", top["n"]))
        if (group["S1"] == 0).all() and float(top["null_max95"]) == 0:
            verdict = "constant across the samples: no parameter moves it"
        elif distinct < max(MIN_VECTORS, MIN_DISTINCT * len(group)):
            verdict = (
                f"not determined: {distinct} distinct parameter vectors for {len(group)} varied "
                f"parameters cannot tell apart those that vary together, nor give a null "
                f"(largest {top['parameter']}: {top['S1']:.2f}); sample more draws or values"
            )
        elif top["S1"] >= bar and low > 0:
            verdict = f"driven by {kind} parameter {top['parameter']}: S1 = {top['S1']:.2f}"
        elif bar >= UNDETERMINED:
            verdict = (
                f"not determined: with {top['n']} samples noise alone reaches S1 = {bar:.2f} "
                f"(largest {top['parameter']}: {top['S1']:.2f}); run more samples"
            )
        else:
            drawn = group["parameter"].isin(calibrated)
            scope = " and ".join(
                where
                for where, present in (
                    ("the posterior", drawn.any()),
                    ("the assumed ranges", (~drawn).any()),
                )
                if present
            )
            verdict = (
                f"robust across {scope}: no parameter clears "
                f"S1 = {bar:.2f} (largest {top['parameter']}: {top['S1']:.2f}); its spread is "
                f"chance or parameters acting together"
            )
        rows.append(
            {
                "outcome": outcome,
                "driver": top["parameter"],
                "kind": kind,
                "source": sources.get(str(top["parameter"]), ""),
                "S1": top["S1"],
                "S1_low": low,
                "S1_high": high,
                "null_max95": top["null_max95"],
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def run_audit(
    scenario: str,
    arms: list[tuple[str, dict[str, Any]]],
    assumed: Mapping[str, list[float] | None],
    outcomes: Callable[[SweepResult, list[str]], pd.DataFrame],
    *,
    design: Mapping[str, Any] | None,
    seed: int,
    out: Path,
    executor: Executor,
    moments: tuple[str, ...] = (),
    posterior: str | None = None,
    keys: list[str] | None = None,
    base: Scenario | None = None,
) -> Audit | None:
    """An experiment's audit, end to end: the samples, the sweep (stored under ``out``,
    resumable), the indices and the verdicts.

    Parameters
    ----------
    scenario : str
        A calibrated scenario (with ``posterior.csv``), or any scenario with ``posterior``.
    arms : list of (str, dict)
        The arms the outcomes need, named.
    assumed : dict of str to [low, high] or None
        The assumed parameters varied besides the posterior.
    outcomes : callable
        ``outcomes(result, names)``: one row per sample (slot), one column per outcome.
    design : dict or None
        ``samples``, ``scale`` and ``days`` of the audit; None runs nothing and returns None
        (an experiment's quick mode leaves its audit out this way).
    seed : int
        The audit's seed.
    out : pathlib.Path
        The audit sweep's folder.
    executor : Executor
        Where the runs execute.
    moments : tuple of str, optional
        Target moments every run measures.
    posterior : str, optional
        The calibrated scenario whose draws the samples take (default: ``scenario``), to
        carry another scenario's calibration over to ``scenario``.
    keys : list of str, optional
        Only these of the posterior's parameters (default: all of them; an empty list: none,
        the calibrated parameters keep the scenario's values and only ``assumed`` vary).
    base : Scenario, optional
        The scenario the samples change (default: ``scenario`` at the design's scale), for an
        experiment that adapts it, e.g. scales a threshold with the city.

    Returns
    -------
    Audit or None
        The verdicts (:func:`verdicts`), the three largest indices of each outcome with each
        parameter's source, and the seconds its runs took; None without a design.
    """
    if design is None:
        return None
    sweep, drawn, calibrated, origin = _design(
        scenario, arms, assumed, design, seed, moments, posterior, keys, base
    )
    result = run_sweep(sweep, out, executor=executor)
    table = indices(pd.DataFrame(drawn), outcomes(result, [name for name, _ in arms]), seed=seed)
    return _audit(table, calibrated, float(result.runs["seconds"].sum()), origin)


def run_probe_audit(
    scenario: str,
    arms: list[tuple[str, dict[str, Any]]],
    assumed: Mapping[str, list[float] | None],
    probe: Callable[[tuple[Sweep, int]], Mapping[str, float]],
    *,
    design: Mapping[str, Any] | None,
    seed: int,
    out: Path,
    executor: Executor,
    posterior: str | None = None,
    keys: list[str] | None = None,
    base: Scenario | None = None,
    progress: bool = True,
) -> Audit | None:
    """An audit whose outcomes a probe measures sample by sample, for outcomes that the sweep's
    stored tables do not hold (the series of the people a shock hurt, read from the engine's
    state day by day).

    The samples, seeds and arms are those :func:`run_audit` would run (:func:`audit_sweep`),
    but no sweep is run: ``probe((sweep, k))`` steps the arms of sample ``k`` itself (run
    ``a * samples + k`` is arm ``a`` of sample ``k``: :meth:`Sweep.draw`,
    :meth:`Sweep.run_seed`, common random numbers across arms) and returns its outcomes. Each
    sample's outcomes are kept as it finishes in ``out/probe-KEY/`` (:func:`probe_key`: a
    changed design, model or probe never reads older ones), so an interrupted audit resumes.

    Parameters
    ----------
    scenario, arms, assumed, design, seed, executor, posterior, keys, base
        As for :func:`run_audit`.
    probe : callable
        ``probe((sweep, k))``: ``{outcome: value}`` of sample ``k`` (NaN where it has none). A
        module-level function, so that worker processes can run it.
    out : pathlib.Path
        The folder of the kept outcomes.
    progress : bool, default True
        Show a progress bar over the samples.

    Returns
    -------
    Audit or None
        As for :func:`run_audit`; its seconds are the probes'.

    Raises
    ------
    LaotieError
        When a sample's probe fails or its process dies (the sample is named; the samples that
        finished are kept).
    """
    if design is None:
        return None
    sweep, drawn, calibrated, origin = _design(
        scenario, arms, assumed, design, seed, (), posterior, keys, base
    )
    folder = Path(out) / f"probe-{probe_key(sweep, probe)}"
    folder.mkdir(parents=True, exist_ok=True)
    found: dict[int, dict[str, float]] = {}
    for k in range(len(drawn)):
        path = folder / f"sample-{k}.json"
        if path.exists():
            try:
                found[k] = _outcomes(json.loads(path.read_text(encoding="utf-8")), kept=True)
            except (OSError, UnicodeDecodeError, ValueError) as err:
                warnings.warn(f"{path}: damaged ({err}); that sample runs again", stacklevel=2)
    todo = [(probe, sweep, k) for k in range(len(drawn)) if k not in found]
    from tqdm.auto import tqdm

    with tqdm(
        total=len(drawn),
        initial=len(found),
        desc="audit samples",
        unit="sample",
        disable=not progress,
    ) as bar:
        for (_, _, k), answer in executor.map(_probe_sample, todo):
            if not isinstance(answer, dict):
                raise LaotieError(
                    f"audit: the probe of sample {k} failed ({answer}); the {len(found)} "
                    f"samples that finished are kept in {folder}, and the same command resumes"
                )
            atomic_write(folder / f"sample-{k}.json", functools.partial(_write_json, answer))
            found[k] = answer
            bar.update()
    seconds = float(sum(found[k].pop(SECONDS) for k in found))
    names = {k: sorted(found[k]) for k in found}
    first = names[min(names)]
    odd = next((k for k in sorted(names) if names[k] != first), None)
    if not first:
        raise LaotieError(f"audit: the probe returned no outcomes; see {folder}")
    if odd is not None:
        raise LaotieError(
            f"audit: sample {odd}'s outcomes ({', '.join(names[odd])}) are not sample "
            f"{min(names)}'s ({', '.join(first)}); a probe returns the same outcomes for every "
            f"sample (NaN where one has no value); see {folder}"
        )
    values = pd.DataFrame.from_dict(found, orient="index").sort_index().astype(float)
    table = indices(pd.DataFrame(drawn), values, seed=seed)
    return _audit(table, calibrated, seconds, origin)


def probe_key(sweep: Sweep, probe: Callable[..., Any]) -> str:
    """What decides a probe's outputs: the sweep, the model's code and the source of the
    probe's module (the functions it calls there included).

    Parameters
    ----------
    sweep : Sweep
    probe : callable

    Returns
    -------
    str
        16 hex digits.
    """
    module = inspect.getmodule(probe)
    # The probe's whole module (what it calls there decides its outputs as much as it does),
    # and which of its functions the probe is.
    source = inspect.getsource(module) if module is not None else inspect.getsource(probe)
    text = spec_key(sweep) + code_fingerprint() + source + getattr(probe, "__qualname__", "")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


SECONDS = "_seconds"
"""The key of a probe's sample file that holds the seconds it took (an outcome's name may not
start with an underscore)."""


def _outcomes(answer: Any, kept: bool = False) -> dict[str, float]:
    """A probe's outcomes as floats, checked: a mapping of names (not starting with ``_``) to
    real numbers or NaN (a kept sample's file also holds its seconds).

    Raises
    ------
    ValueError
        Naming what is wrong.
    """
    if not isinstance(answer, Mapping):
        raise ValueError(f"expected a mapping of outcomes to numbers, not {type(answer).__name__}")
    out = {}
    for name, value in answer.items():
        if not isinstance(name, str) or (name.startswith("_") and not (kept and name == SECONDS)):
            raise ValueError(f"outcome name {name!r}: a string not starting with '_'")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"outcome {name} = {value!r} is not a number")
        if math.isinf(value):
            raise ValueError(f"outcome {name} = {value!r} is infinite")
        out[name] = float(value)
    if kept and SECONDS not in out:
        raise ValueError(f"no {SECONDS}")
    return out


def _write_json(value: Mapping[str, float], path: Path) -> None:
    path.write_text(json.dumps(dict(value)), encoding="utf-8")


def _probe_sample(task: tuple[Callable[..., Any], Sweep, int]) -> dict[str, float] | str:
    """Run a probe on one sample (in a worker): its outcomes with the seconds it took, or the
    error it raised, as text (an executor's function records errors instead of raising)."""
    probe, sweep, k = task
    start = time.perf_counter()
    try:
        answer = _outcomes(probe((sweep, k)))
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return answer | {SECONDS: time.perf_counter() - start}


def _design(
    scenario: str,
    arms: list[tuple[str, dict[str, Any]]],
    assumed: Mapping[str, list[float] | None],
    design: Mapping[str, Any],
    seed: int,
    moments: tuple[str, ...],
    posterior: str | None,
    keys: list[str] | None,
    base: Scenario | None,
) -> tuple[Sweep, list[dict[str, Any]], list[str], str]:
    """The audit's sweep and samples, the calibrated parameters, and the sources' note.

    In an experiment run with ``--set`` changes (:func:`laotie.experiment.held_changes`), the
    base holds them and the audit samples none of the changed keys."""
    from .experiment import held_changes, preset

    held = held_changes()
    if base is None:
        base = preset(scenario, scale=design["scale"])
    assumed = {key: span for key, span in assumed.items() if key not in held}
    calibration = None
    calibrated: list[str] = []
    if keys is None or list(keys):  # keys=[]: the calibrated values stay as they are
        calibration = load_posterior(posterior or scenario)
        wanted = calibration.keys if keys is None else list(keys)
        calibrated = [key for key in wanted if key not in held]
        if len(calibrated) < len(wanted):
            keys = calibrated
        if not calibrated:
            calibration = None
    drawn = audit_samples(base, calibration, assumed, design["samples"], seed, keys)
    sweep = audit_sweep(
        base,
        [dict(case) for _, case in arms],
        drawn,
        days=design["days"],
        seed=seed,
        moments=moments,
    )
    origin = "" if posterior in (None, scenario) else f" of {posterior}, carried over"
    return sweep, drawn, calibrated, origin


def _audit(table: pd.DataFrame, calibrated: list[str], seconds: float, origin: str = "") -> Audit:
    """The verdicts and the three largest indices of each outcome, with each driver's source
    (``calibrated (posterior<origin>)`` for the calibrated ones, else its declared source)."""
    sections = Scenario.sections()
    sources = {
        key: f"calibrated (posterior{origin})"
        if key in calibrated
        else sections[key.partition(".")[0]].params()[key.partition(".")[2]].source
        for key in table["parameter"].unique()
    }
    drivers = (
        table.sort_values(["outcome", "S1"], ascending=[True, False]).groupby("outcome").head(3)
    )
    drivers = drivers.assign(source=drivers["parameter"].map(sources)).reset_index(drop=True)
    return Audit(verdicts(table, calibrated, sources), drivers, seconds)


RESULT_METRICS = ("gmv", "conversion", "order_value", "repeat_share")
"""The whole-market metrics (channel ``all``) a sweep's audit takes by default, with its
moments (:func:`audit_result`)."""


def read_sweep(folder: str | Path) -> tuple[SweepResult, str]:
    """A sweep's results folder read back: its spec (``sweep.json``) and its stored runs.

    Parameters
    ----------
    folder : str or path
        A folder written by ``laotie sweep`` or :func:`laotie.sweep.run_sweep`.

    Returns
    -------
    tuple of (SweepResult, str)
        The results, and the fingerprint of the code that made them.

    Raises
    ------
    LaotieError
        If the folder has no readable ``sweep.json``.
    """
    folder = Path(folder)
    path = folder / SPEC_FILE
    if not path.is_file():
        raise LaotieError(
            f"{folder}: not a sweep's results folder (no {SPEC_FILE}); laotie audit takes an "
            f"experiment's name (laotie experiment --list) or a folder written by laotie sweep"
        )
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        spec = _in_run_order(stored["sweep"], folder)
        sweep = Sweep(
            Scenario.from_dict(spec["base"], where=f"{path} [sweep.base]"),
            grid=spec["grid"],
            replications=spec["replications"],
            days=spec["days"],
            seed=spec["seed"],
            sample=spec["sample"],
            samples=spec["samples"],
            method=spec["method"],
            cases=spec["cases"],
            common_random_numbers=spec["common_random_numbers"],
            moments=tuple(spec.get("moments", ())),
            draws=spec.get("draws", []),
        )
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise LaotieError(f"{path}: cannot read ({err})") from None
    except (KeyError, TypeError, AttributeError) as err:
        raise LaotieError(f"{path}: not a sweep's spec (missing or malformed: {err})") from None
    except LaotieError as err:
        raise LaotieError(f"{path}: {err}") from None
    return collect(sweep, folder), str(stored.get("code", "unknown"))


def _in_run_order(spec: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``spec`` with its grid's and sample's keys in the order the runs took them.

    Sweeps stored before :func:`~laotie.sweep.store.spec_key` have a ``sweep.json`` with its
    keys sorted, but the order of a grid's keys decides the order of its points, and the
    order of a sample's keys which column of the design each key takes; a run's record keeps
    its parameters in the order the sweep gave them, so the first record read restores it (a
    spec read back sorted would label the runs with other points' values). A ``sweep.json``
    written since keeps its order, and this changes nothing."""
    order: list[str] = []
    for run in range(50):
        record = read_record(record_path(folder, run))
        if record is not None and "spec" in record:
            return spec  # stored with spec keys: sweep.json kept its order
        if record is not None and isinstance(record.get("parameters"), dict):
            order = list(record["parameters"])
            break
    if not order:
        return spec
    rank = {key: i for i, key in enumerate(order)}
    out = dict(spec)
    for table in ("grid", "sample"):
        if isinstance(spec.get(table), dict):
            out[table] = dict(
                sorted(spec[table].items(), key=lambda kv: rank.get(kv[0], len(rank)))
            )
    return out


def audit_result(
    folder: str | Path, outcomes: list[str] | None = None, seed: int = 0
) -> tuple[Audit, str]:
    """Audit a finished sweep as it is: which of the parameters that vary across its runs
    drive each outcome.

    Each run that finished is a sample: its parameters are the values it ran with (its
    point's, and its posterior draw's when the sweep has draws; a parameter with text values
    is coded by its values' order of appearance), its outcomes the whole market's
    :data:`RESULT_METRICS`, the sweep's moments, or any column of the per-run outcomes
    (``outcomes``). A sweep over a Latin hypercube or posterior draws gives meaningful
    indices; a grid of few values gives coarse ones; :func:`indices` needs at least 8 runs.

    Parameters
    ----------
    folder : str or path
        The sweep's folder.
    outcomes : list of str, optional
        The outcomes to audit (default: :data:`RESULT_METRICS` and the moments).
    seed : int, default 0
        The bootstrap's and the permutation null's seed.

    Returns
    -------
    tuple of (Audit, str)
        The audit (the draws' parameters count as calibrated, the others as assumed) and the
        fingerprint of the code that made the runs.

    Raises
    ------
    LaotieError
        For a folder that is not a sweep's, an outcome that is not there (the message lists
        those that are), a sweep whose runs all take the same parameters, or too few runs.
    """
    result, code = read_sweep(folder)
    sweep = result.sweep
    done = result.runs[result.runs["status"] == "ok"]
    if len(done) < len(result.runs):
        left = result.runs.loc[result.runs["status"] != "ok", "status"].value_counts()
        warnings.warn(
            f"{folder}: {len(result.runs) - len(done)} of {len(result.runs)} runs are left out ("
            + ", ".join(f"{count} {status}" for status, count in left.items())
            + "); rerun the sweep to finish them",
            stacklevel=2,
        )
    points = sweep.points()
    rows = {
        int(run): sweep.draw(int(run)) | points[int(point)]
        for run, point in zip(done["run"], done["point"], strict=True)
    }
    samples = pd.DataFrame.from_dict(rows, orient="index")
    for column in samples.columns:
        if not pd.api.types.is_numeric_dtype(samples[column]):
            samples[column] = pd.factorize(samples[column])[0]
    samples = samples.loc[:, samples.nunique() > 1].astype(float)
    if samples.empty:
        raise LaotieError(
            f"{folder}: no parameter differs between its {len(done)} finished runs: nothing "
            f"to audit (a sweep with a grid, a sample or posterior draws has some)"
        )
    market = result.summary[result.summary["channel"] == "all"].set_index("run")
    available = pd.concat(
        [
            market[list(RESULT_METRICS)],
            result.moments.set_index("run"),
            result.outcomes.set_index("run").select_dtypes("number"),
        ],
        axis=1,
    )
    available = available.loc[:, ~available.columns.duplicated()]
    if outcomes is not None and not [name for name in outcomes if name]:
        raise LaotieError(f"{folder}: no outcome named; name one or more, e.g. gmv,conversion")
    chosen = list(dict.fromkeys(name for name in outcomes or [*RESULT_METRICS, *sweep.moments]))
    missing = [name for name in chosen if name not in available.columns]
    if missing:
        raise LaotieError(
            f"{folder}: no outcome {missing[0]!r} in its runs; it has "
            f"{', '.join(map(str, available.columns))}"
        )
    values = available.loc[samples.index, chosen]
    few = [name for name in chosen if np.isfinite(values[name].to_numpy(float)).sum() < 8]
    if few:
        raise LaotieError(
            f"{folder}: outcome {few[0]!r} has a value in only "
            f"{int(np.isfinite(values[few[0]].to_numpy(float)).sum())} of {len(values)} finished "
            f"runs (at least 8 are needed); leave it out with --outcomes "
            f"{','.join(name for name in chosen if name not in few) or 'gmv'}"
        )
    table = indices(samples, values, seed=seed)
    calibrated = [key for key in samples.columns if sweep.draws and key in sweep.draws[0]]
    seconds = float(done["seconds"].sum())
    return _audit(table, calibrated, seconds), code
