"""Calibration by neural posterior estimation (sbi's NPE; docs/calibration.md).

:func:`calibrate` draws ``budget`` parameter vectors from the targets file's uniform prior,
simulates each once through the sweep machinery (stored run by run under ``out``, so that an
interrupted calibration resumes and any executor gives the same simulations), measures the
targets' moments, trains a conditional density estimator of the parameters given the fitted
moments (sbi's ``NPE``, seeded) and samples the posterior at the targets' values.

The observed moments are real-world figures with standard errors (``se`` in the targets
file): the estimator is trained on simulated moments plus Normal noise of those standard
errors, so that the posterior carries the targets' uncertainty as well as the simulations'.
Each simulation has its own seed (no common random numbers across candidates: with one seed
for all, the estimator would learn a deterministic simulator and the posterior would ignore
the model's own noise).

sbi and torch are optional: ``pip install 'laotie[calibrate]'``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_write, reading
from ..errors import LaotieError
from ..executors import Executor
from ..scenario import Scenario
from ..sweep import Sweep, SweepResult, run_sweep
from ..sweep.spec import as_points
from .targets import Targets

__all__ = ["Calibration", "Recovery", "calibrate", "features", "prior_draws", "recover"]

_PRIOR_KEY = 2**31 + 7
"""Spawn key of the stream of prior draws (apart from the simulations' seeds)."""


def _sbi() -> Any:
    """sbi and torch, or an error that says how to install them."""
    try:
        import sbi.inference
        import torch
    except ImportError:  # pragma: no cover - the calibrate extra is installed in CI
        raise LaotieError(
            "calibration needs sbi and torch: pip install 'laotie[calibrate]'"
        ) from None
    return sbi.inference, torch


def prior_draws(free: Mapping[str, tuple[float, float]], n: int, seed: int) -> pd.DataFrame:
    """``n`` parameter vectors drawn uniformly over the free parameters' prior ranges.

    Parameters
    ----------
    free : dict of str to (float, float)
        Dotted keys and their ranges (:attr:`Targets.free`).
    n : int
        How many.
    seed : int
        The calibration's seed (the draws come from a stream spawned from it, apart from the
        simulations').

    Returns
    -------
    pandas.DataFrame
        One column per free parameter, one row per draw.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_PRIOR_KEY,)))
    keys = list(free)
    low = np.array([free[k][0] for k in keys])
    high = np.array([free[k][1] for k in keys])
    unit = rng.random((n, len(keys)))
    return pd.DataFrame(low + unit * (high - low), columns=keys)


@dataclass
class Calibration:
    """What :func:`calibrate` found.

    Attributes
    ----------
    targets : Targets
        The targets file calibrated against.
    simulations : SweepResult
        The prior simulations (parameters in ``runs``, moments in ``moments``).
    used : int
        Simulations whose fitted moments were all defined (the estimator's training set).
    posterior : pandas.DataFrame
        Draws of the free parameters from the posterior at the targets' values.
    """

    targets: Targets
    simulations: SweepResult
    used: int
    posterior: pd.DataFrame
    estimator: Any = dataclasses.field(repr=False)
    later_rounds: tuple[SweepResult, ...] = ()
    """The simulations of rounds 2, 3, ... (drawn from the truncated prior)."""
    proposal: Any = dataclasses.field(default=None, repr=False)
    """The last round's truncated prior (sbi ``RestrictedPrior``), or None with one round."""

    def proposal_draws(self, n: int, seed: int) -> pd.DataFrame:
        """``n`` draws from where the last round drew its parameters: the prior, or with
        several rounds the truncated prior (synthetic recovery's truths)."""
        if self.proposal is None:
            return prior_draws(self.targets.free, n, seed)
        return _restricted_draws(self.proposal, self.targets, n, seed + 2)

    def sample(self, observed: Mapping[str, float], n: int, seed: int) -> pd.DataFrame:
        """Posterior draws at other observed moments (synthetic recovery): one value per
        fitted target id."""
        return _sample(self.estimator, self.targets, observed, n, seed)

    def _first_draws(self, where: str, runs: int, least: int) -> pd.DataFrame:
        """The first ``runs`` posterior draws, or a named error for a count that is not an
        integer from ``least`` to the number of draws."""
        n = len(self.posterior)
        if isinstance(runs, bool) or not isinstance(runs, int) or not least <= runs <= n:
            raise LaotieError(
                f"{where}: runs = {runs!r}; expected an integer from {least} to the {n} "
                f"posterior draws"
            )
        return self.posterior.head(runs)

    def predictive(
        self,
        runs: int,
        out: str | Path,
        *,
        workers: int = 1,
        scheduler: str | None = None,
        executor: Executor | None = None,
        progress: bool = False,
    ) -> pd.DataFrame:
        """Posterior predictive check: simulate the first ``runs`` posterior draws (new
        simulations, stored under ``out``) and compare every target's moment with its band.

        Returns
        -------
        pandas.DataFrame
            One row per target (fitted and held out): ``id``, ``role``, ``value`` (the
            target), ``low``/``high`` (its band), ``mean``, ``pp_low``/``pp_high`` (the
            95 % posterior-predictive interval of one run's moment), ``runs`` (the
            simulations where it is defined) and ``inside`` (``mean`` within the band).
        """
        t = self.targets
        draws = self._first_draws("predictive", runs, least=1)
        sweep = draws_sweep(
            t, t.scenario, draws, self.simulations.sweep.days, t.seed + _PREDICTIVE_SEED
        )
        result = run_sweep(
            sweep,
            Path(out),
            workers=workers,
            scheduler=scheduler,
            executor=executor,
            progress=progress,
        )
        rows = []
        for target in t.targets:
            values = result.moments[target.id].to_numpy(dtype=np.float64)
            values = values[np.isfinite(values)]
            mean = float(values.mean()) if len(values) else math.nan
            lo, hi = np.quantile(values, [0.025, 0.975]) if len(values) else (math.nan,) * 2
            rows.append(
                {
                    "id": target.id,
                    "role": target.role,
                    "value": target.value,
                    "low": target.moment.low,
                    "high": target.moment.high,
                    "mean": mean,
                    "pp_low": float(lo),
                    "pp_high": float(hi),
                    "runs": len(values),
                    "inside": target.moment.inside(mean),
                }
            )
        return pd.DataFrame(rows)

    def scale_check(
        self,
        scales: tuple[float, float],
        runs: int,
        out: str | Path,
        *,
        workers: int = 1,
        scheduler: str | None = None,
        executor: Executor | None = None,
        progress: bool = False,
    ) -> pd.DataFrame:
        """Whether the targets' moments are scale-free enough to calibrate at a small scale:
        the first ``runs`` posterior draws simulated at two scales of the scenario's own size,
        run ``k`` with the same seed at both (paired), stored under ``out``.

        Returns
        -------
        pandas.DataFrame
            One row per target: ``id``, ``role``, the mean at each scale (``mean_<scale>``),
            the paired ``difference`` (second minus first) with its 95 % t-interval
            (``ci_low``, ``ci_high``), ``relative`` (the difference over the first mean) and
            ``pairs`` (runs where both are defined).
        """
        from ..stats import t_interval

        t = self.targets
        draws = self._first_draws("scale_check", runs, least=2)
        if len(scales) != 2 or not all(isinstance(x, int | float) and x > 0 for x in scales):
            raise LaotieError(f"scale_check: scales = {scales!r}; expected two numbers > 0")
        values = []
        for scale in scales:
            sweep = draws_sweep(
                t, t.at_scale(scale), draws, self.simulations.sweep.days, t.seed + _SCALE_SEED
            )
            result = run_sweep(
                sweep,
                Path(out) / f"scale_{scale:g}",
                workers=workers,
                scheduler=scheduler,
                executor=executor,
                progress=progress,
            )
            values.append(result.moments.set_index("run").reindex(range(runs)))
        rows = []
        for target in t.targets:
            first = values[0][target.id].to_numpy(dtype=np.float64)
            second = values[1][target.id].to_numpy(dtype=np.float64)
            both = np.isfinite(first) & np.isfinite(second)
            diff, lo, hi = t_interval(second[both] - first[both])
            mean_first = float(np.nanmean(first)) if np.isfinite(first).any() else math.nan
            mean_second = float(np.nanmean(second)) if np.isfinite(second).any() else math.nan
            rows.append(
                {
                    "id": target.id,
                    "role": target.role,
                    f"mean_{scales[0]:g}": mean_first,
                    f"mean_{scales[1]:g}": mean_second,
                    "difference": diff,
                    "ci_low": lo,
                    "ci_high": hi,
                    "relative": diff / mean_first if mean_first else math.nan,
                    "pairs": int(both.sum()),
                }
            )
        return pd.DataFrame(rows)

    def point(self) -> dict[str, float]:
        """The posterior median of each free parameter, to four significant digits.

        The marginal medians are one point of the posterior, chosen because it is easy to
        state and to read; it need not be where the posterior is densest. Experiments that
        want the parameters' uncertainty run over :attr:`posterior`'s draws instead.
        """
        return {
            key: float(f"{float(np.median(self.posterior[key])):.4g}") for key in self.targets.free
        }

    def scenario(self) -> Scenario:
        """The calibrated scenario: the targets file's scenario at its own scale (not the
        calibration's) with every free parameter at :meth:`point`.

        Returns
        -------
        Scenario
            Named ``<name>_calibrated``; its description says how it was made; ``laotie
            run`` runs it like any other.
        """
        base = self.targets.base
        note = (
            f"Calibrated by laotie calibrate against {self.targets.path.name}: the "
            f"{len(self.targets.free)} free parameters at their posterior medians "
            f"({self.used} simulations at scale {self.targets.scale:g}); posterior.csv beside "
            f"this file holds the draws."
        )
        description = f"{base.description.rstrip()}\n\n{note}" if base.description else note
        calibrated = base.replace(name=f"{base.name}_calibrated", **self.point())
        return dataclasses.replace(calibrated, description=description)

    def intervals(self, level: float = 0.9) -> pd.DataFrame:
        """Central posterior intervals of each free parameter, with the prior's range and
        the interval's width relative to it."""
        tail = (1 - level) / 2
        rows = []
        for key, (low, high) in self.targets.free.items():
            values = self.posterior[key].to_numpy()
            lo, hi = np.quantile(values, [tail, 1 - tail])
            rows.append(
                {
                    "parameter": key,
                    "median": float(np.median(values)),
                    "low": float(lo),
                    "high": float(hi),
                    "prior_low": low,
                    "prior_high": high,
                    "relative_width": float((hi - lo) / (high - low)),
                }
            )
        return pd.DataFrame(rows)

    def prior_check(self, level: float = 0.9) -> tuple[pd.DataFrame, pd.DataFrame]:
        """What the fitted bands alone say, by rejection over the first round's prior
        simulations, beside the estimator: a check of how much the targets can constrain.

        Parameters
        ----------
        level : float, default 0.9
            The central interval of the accepted draws.

        Returns
        -------
        (pandas.DataFrame, pandas.DataFrame)
            Per fitted target: ``id``, ``inside`` (the share of the prior simulations whose
            moment lies inside its band) and ``runs``. Per free parameter: ``parameter``,
            ``accepted`` (the simulations with every fitted moment inside its band), the
            central ``level`` interval of their values (``low``, ``high``) and its width over
            the prior's (``relative_width``). A width near ``level`` (a uniform prior's) means
            the bands hardly constrain that parameter, whatever the estimator's posterior
            says; NaN with fewer than 10 accepted. Then the same interval with every
            simulation weighted by how close its fitted moments lie to the targets' values,
            at their standard errors (``exp(-sum(((x - value) / se)**2) / 2)``: the posterior
            the estimator approximates, by importance sampling from the prior):
            ``weighted_low``, ``weighted_high``, ``weighted_relative_width``, with the weights'
            effective sample size ``weighted_n`` (NaN below 10).
        """
        fitted = list(self.targets.fitted())
        runs = self.simulations.runs
        ok = runs.loc[runs["status"] == "ok", "run"].to_numpy()
        moments = self.simulations.moments.set_index("run").loc[ok, [t.id for t in fitted]]
        params = runs.set_index("run").loc[ok, list(self.targets.free)]
        inside = pd.DataFrame(
            {t.id: moments[t.id].between(t.moment.low, t.moment.high) for t in fitted},
            index=moments.index,
        )
        targets = pd.DataFrame(
            {
                "id": [t.id for t in fitted],
                "inside": [float(inside[t.id].mean()) for t in fitted],
                "runs": len(moments),
            }
        )
        accepted = params[inside.all(axis=1)]
        if not 0 < level < 1:
            raise LaotieError(f"prior_check: level = {level!r}; expected a number in (0, 1)")
        distance = sum(((moments[t.id] - t.value) / t.se) ** 2 for t in fitted)
        d = distance.to_numpy(dtype=float)
        # Relative to the nearest simulation, so that weights far out do not all underflow
        # to 0 (the weighted ranges and the effective sample do not depend on the scale).
        weights = np.exp(-0.5 * (d - np.nanmin(d))) if np.isfinite(d).any() else np.zeros_like(d)
        weights = np.where(np.isfinite(weights), weights, 0.0)
        total = weights.sum()
        ess = total**2 / float((weights**2).sum()) if total > 0 else 0.0
        tail = (1 - level) / 2
        rows = []
        for key, (low, high) in self.targets.free.items():
            values = accepted[key].to_numpy(dtype=float)
            lo, hi = np.quantile(values, [tail, 1 - tail]) if len(values) >= 10 else (np.nan,) * 2
            w_lo, w_hi = (
                _weighted_quantiles(params[key].to_numpy(dtype=float), weights, [tail, 1 - tail])
                if ess >= 10
                else (np.nan, np.nan)
            )
            rows.append(
                {
                    "parameter": key,
                    "accepted": len(values),
                    "low": float(lo),
                    "high": float(hi),
                    "relative_width": float((hi - lo) / (high - low)),
                    "weighted_low": float(w_lo),
                    "weighted_high": float(w_hi),
                    "weighted_relative_width": float((w_hi - w_lo) / (high - low)),
                    "weighted_n": float(ess),
                }
            )
        return targets, pd.DataFrame(rows)


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, levels: list[float]) -> Any:
    """Quantiles of ``values`` under ``weights``: the smallest value whose cumulative weight
    reaches each level."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return values[order][np.searchsorted(cumulative, levels)]


def _observed_vector(targets: Targets, observed: Mapping[str, float]) -> np.ndarray:
    ids = [t.id for t in targets.fitted()]
    missing = [i for i in ids if i not in observed]
    if missing:
        raise LaotieError(f"calibration: no observed value for the fitted target {missing[0]}")
    return np.array([float(observed[i]) for i in ids])


def features(targets: Targets, moments: np.ndarray) -> np.ndarray:
    """What the estimator reads of the fitted moments (the last axis, in the file's order):
    ``asinh(x / se)``, each moment over its target's standard error. Linear within a few
    standard errors of 0 and logarithmic beyond, it puts moments that span orders of
    magnitude (an impression's purchase rate from 10⁻⁵ to 10⁻², a conversion ratio from 0.5
    to 60) on a scale the flow can learn, and keeps 0 and negative values defined."""
    se = np.array([t.se for t in targets.fitted()])
    return np.asarray(np.arcsinh(moments / se))


def _sample(
    estimator: Any, targets: Targets, observed: Mapping[str, float], n: int, seed: int
) -> pd.DataFrame:
    _, torch = _sbi()
    torch.manual_seed(seed)
    x = torch.tensor(features(targets, _observed_vector(targets, observed)), dtype=torch.float32)
    draws = estimator.sample((n,), x=x, show_progress_bars=False).numpy().astype(np.float64)
    # An ensemble returns its members' draws one member after the other: shuffled, so that
    # the first k draws (the predictive and scale checks) come from every member.
    draws = draws[np.random.default_rng(seed).permutation(len(draws))]
    return pd.DataFrame(draws, columns=list(targets.free))


def simulation_sweep(targets: Targets, budget: int, days: int | None = None) -> Sweep:
    """The sweep of a calibration's prior simulations: ``budget`` draws, one run each, every
    target's moment measured (fitted and held out)."""
    draws = prior_draws(targets.free, budget, targets.seed)
    return draws_sweep(
        targets, targets.scenario, draws, targets.days if days is None else days, targets.seed
    )


def draws_sweep(
    targets: Targets, scenario: Scenario, draws: pd.DataFrame, days: int | None, seed: int
) -> Sweep:
    """One run of ``scenario`` per row of ``draws`` (parameter vectors), each with its own
    seed spawned from ``seed``, every target's moment measured: the sweeps of the prior
    simulations, the predictive check, the scale check and synthetic recovery."""
    return Sweep(
        scenario,
        cases=as_points(list(draws.columns), draws.to_numpy()),
        replications=1,
        days=days,
        seed=seed,
        common_random_numbers=False,
        moments=tuple(t.id for t in targets.targets),
    )


def calibrate(
    targets: Targets,
    budget: int,
    out: str | Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    executor: Executor | None = None,
    posterior_draws: int = 1000,
    days: int | None = None,
    ensemble: int = 5,
    rounds: int = 1,
    truncation: float = 1e-4,
    progress: bool = False,
) -> Calibration:
    """Calibrate a scenario against its targets file by neural posterior estimation.

    Parameters
    ----------
    targets : Targets
        The targets file (:func:`~laotie.calibrate.load_targets`).
    budget : int
        Prior simulations (at least 50; sbi's benchmarks use 10³–10⁵).
    out : str or path
        Where the simulations are stored as they finish (``out/simulations``, a sweep folder:
        rerunning resumes) and the posterior is written (``out/posterior.csv``,
        ``out/calibration.json``).
    workers, scheduler, executor
        Where the simulations run (as :func:`laotie.sweep.run_sweep`); the posterior does
        not depend on them.
    posterior_draws : int, default 1000
        Draws of the posterior at the targets' values.
    days : int, optional
        Days per simulation (default: the targets file's).
    ensemble : int, default 5
        Estimators trained on the same simulations from different random initialisations;
        the posterior is their equal mixture, which is less overconfident than one
        (Hermans et al. 2022; ``sbi.inference.EnsemblePosterior``).
    rounds : int, default 1
        Rounds of simulations, ``budget`` each (truncated sequential NPE, Deistler et al.
        2022). Round 1 draws from the prior. Each later round draws from the prior
        truncated to the region where the posterior so far, at the targets' values, has
        all but ``truncation`` of its mass, stored under ``out/round_K/simulations``;
        the estimator is then trained again on every round's simulations. Within that
        region the truncated prior is the prior, so the posterior is unchanged in law and
        the simulations go where the data point.
    truncation : float, default 1e-4
        The posterior mass left outside each later round's region.
    progress : bool, default False
        A progress bar over the simulations.

    Returns
    -------
    Calibration

    Raises
    ------
    LaotieError
        For a budget below 50, or fewer than 50 simulations with every fitted moment
        defined.
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 50:
        raise LaotieError(f"calibrate: budget = {budget!r}; expected an integer ≥ 50")
    if isinstance(ensemble, bool) or not isinstance(ensemble, int) or not 1 <= ensemble <= 50:
        raise LaotieError(f"calibrate: ensemble = {ensemble!r}; expected an integer from 1 to 50")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= 10:
        raise LaotieError(f"calibrate: rounds = {rounds!r}; expected an integer from 1 to 10")
    if not 0 < truncation < 0.5:
        raise LaotieError(
            f"calibrate: truncation = {truncation!r}; expected a number between 0 and 0.5"
        )
    if days is not None:
        targets.check_days(days, "calibrate: days")
    _sbi()  # installed, before anything runs
    out = Path(out)
    sweep = simulation_sweep(targets, budget, days)
    simulations = run_sweep(
        sweep,
        out / "simulations",
        workers=workers,
        scheduler=scheduler,
        executor=executor,
        progress=progress,
    )
    theta, x = _training_set(targets, simulations, budget)
    estimator = _train(targets, [(theta, x)], out / "training", ensemble)
    later: list[SweepResult] = []
    proposal = None
    sets = [(theta, x)]
    for k in range(2, rounds + 1):
        seed = targets.seed + k * _ROUND_SEED
        proposal = _truncated_prior(estimator, targets, truncation, seed)
        draws = _round_draws(proposal, targets, budget, seed, out / f"round_{k}" / "draws.csv")
        result = run_sweep(
            draws_sweep(targets, targets.scenario, draws, sweep.days, seed),
            out / f"round_{k}" / "simulations",
            workers=workers,
            scheduler=scheduler,
            executor=executor,
            progress=progress,
        )
        later.append(result)
        sets.append(_training_set(targets, result, budget, round_=k))
        estimator = _train(targets, sets, out / "training" / f"round_{k}", ensemble)
    observed = {t.id: t.value for t in targets.fitted()}
    posterior = _sample(estimator, targets, observed, posterior_draws, targets.seed)
    calibration = Calibration(
        targets=targets,
        simulations=simulations,
        used=sum(len(t) for t, _ in sets),
        posterior=posterior,
        estimator=estimator,
        later_rounds=tuple(later),
        proposal=proposal,
    )
    atomic_write(out / "posterior.csv", lambda p: posterior.to_csv(p, index=False))
    meta = {
        "targets": str(targets.path),
        "scenario": targets.scenario.name,
        "scale": targets.scale,
        "days": sweep.days,
        "budget": budget,
        "rounds": rounds,
        "truncation": truncation if rounds > 1 else None,
        "used": calibration.used,
        "seed": targets.seed,
        "fitted": [t.id for t in targets.fitted()],
        "held_out": [t.id for t in targets.held_out()],
        "free": {k: list(v) for k, v in targets.free.items()},
        "ensemble": ensemble,
        "method": "sbi NPE (masked autoregressive flows), uniform prior, moments as asinh(x / se)"
        + (f"; truncated sequential NPE, {rounds} rounds" if rounds > 1 else ""),
    }
    atomic_write(
        out / "calibration.json",
        lambda p: p.write_text(json.dumps(meta, indent=2, default=_plain), encoding="utf-8"),
    )
    return calibration


_ROUND_SEED = 4 * 10**9
"""Times the round, added to the calibration's seed for a later round's simulations."""


def _training_set(
    targets: Targets, simulations: SweepResult, budget: int, round_: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The parameters and noisy fitted moments of a round's simulations with every fitted
    moment defined: the targets' standard errors as measurement noise on the moments, from
    a stream of the calibration's seed (one per round)."""
    fitted = [t.id for t in targets.fitted()]
    ok = simulations.runs.loc[simulations.runs["status"] == "ok", "run"].to_numpy()
    moments = simulations.moments.set_index("run").loc[ok, fitted]
    params = simulations.runs.set_index("run").loc[ok, list(targets.free)]
    finite = np.isfinite(moments.to_numpy())
    good = finite.all(axis=1)
    if good.sum() < 50:
        undefined = ", ".join(
            f"{ident} in {int((~finite[:, k]).sum())}"
            for k, ident in enumerate(fitted)
            if (~finite[:, k]).any()
        )
        raise LaotieError(
            f"calibrate: only {int(good.sum())} of {budget} simulations of round {round_} "
            f"have every fitted moment defined (undefined: {undefined or 'none'}; failed "
            f"runs: {budget - len(ok)}); the estimator needs at least 50: check that the "
            f"targets file's days define every fitted moment (docs/validation.md), or fit "
            f"fewer"
        )
    theta = params.to_numpy(dtype=np.float64)[good]
    x = moments.to_numpy(dtype=np.float64)[good]
    se = np.array([t.se for t in targets.fitted()])
    key = (_PRIOR_KEY + 1,) if round_ == 1 else (_PRIOR_KEY + 1, round_)
    noise = np.random.default_rng(np.random.SeedSequence(targets.seed, spawn_key=key))
    return theta, x + noise.normal(0.0, se, size=x.shape)


def _box(targets: Targets) -> Any:
    """The uniform prior as an sbi ``BoxUniform``."""
    _, torch = _sbi()
    from sbi.utils import BoxUniform

    low = torch.tensor([r[0] for r in targets.free.values()], dtype=torch.float32)
    high = torch.tensor([r[1] for r in targets.free.values()], dtype=torch.float32)
    return BoxUniform(low, high)


def _train(
    targets: Targets, sets: list[tuple[np.ndarray, np.ndarray]], logs: Path, ensemble: int
) -> Any:
    """The ensemble of NPE estimators trained on every round's (parameters, noisy moments),
    member ``m`` seeded with the calibration's seed + ``m``, its training logged under
    ``logs/estimator_m``. Later rounds' parameters come from the prior truncated to a region
    holding nearly all the posterior's mass, so they are trained on as prior draws
    (truncated sequential NPE: sbi's first-round loss)."""
    inference, torch = _sbi()
    from sbi.inference import EnsemblePosterior
    from sbi.utils.tracking import TensorBoardTracker
    from torch.utils.tensorboard import SummaryWriter

    theta = torch.tensor(np.concatenate([t for t, _ in sets]), dtype=torch.float32)
    x = torch.tensor(features(targets, np.concatenate([x for _, x in sets])), dtype=torch.float32)
    members = []
    for member in range(ensemble):
        torch.manual_seed(targets.seed + member)
        # sbi logs its training for TensorBoard: under out, not in the working folder.
        writer = SummaryWriter(log_dir=str(logs / f"estimator_{member}"))
        npe = inference.NPE(
            prior=_box(targets), show_progress_bars=False, tracker=TensorBoardTracker(writer)
        )
        # sbi prints when training converges, and warns of outlying moments: quiet here.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            npe.append_simulations(theta, x).train(force_first_round_loss=True)
        writer.close()
        members.append(npe.build_posterior())
    return members[0] if ensemble == 1 else EnsemblePosterior(members)


def _quiet() -> contextlib.ExitStack:
    """sbi's prints, progress bars, warnings and log messages of slow rejection sampling,
    silenced."""
    import logging

    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))  # progress bars
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    logger = logging.getLogger("sbi")
    level = logger.level
    logger.setLevel(logging.ERROR)
    stack.callback(logger.setLevel, level)
    return stack


def _truncated_prior(estimator: Any, targets: Targets, truncation: float, seed: int) -> Any:
    """The prior truncated to the region where the posterior at the targets' values has
    all but ``truncation`` of its mass (sbi's density thresholder, estimated from 100,000
    posterior draws with torch seeded by ``seed``)."""
    _, torch = _sbi()
    from sbi.utils import RestrictedPrior, get_density_thresholder

    observed = _observed_vector(targets, {t.id: t.value for t in targets.fitted()})
    x = torch.tensor(features(targets, observed), dtype=torch.float32)
    torch.manual_seed(seed)
    with _quiet():
        estimator.set_default_x(x)
        inside = get_density_thresholder(
            estimator, quantile=truncation, num_samples_to_estimate_support=100_000
        )
    return RestrictedPrior(_box(targets), inside, sample_with="rejection")


def _round_draws(
    proposal: Any, targets: Targets, budget: int, seed: int, path: Path
) -> pd.DataFrame:
    """A later round's parameter draws: those kept in ``path`` by an earlier, interrupted
    run of the same calibration, or ``budget`` new draws from ``proposal`` (kept there
    before they are simulated). The draws depend on the estimator trained so far, which a
    resumed run trains again: keeping them makes the resume independent of that training
    (round 1's failed runs retried, another torch). Delete the round's folder to redraw."""
    if path.is_file():
        with reading(path, hint=f"; delete {path.parent} to draw the round again"):
            kept = pd.read_csv(path)
        if list(kept.columns) == list(targets.free) and len(kept) == budget:
            return kept
        raise LaotieError(
            f"{path}: holds {len(kept)} draws of {', '.join(kept.columns)}, not {budget} of "
            f"this calibration's free parameters; delete {path.parent} to draw the round again"
        )
    draws = _restricted_draws(proposal, targets, budget, seed + 1)
    atomic_write(path, lambda p: draws.to_csv(p, index=False, float_format="%.17g"))
    return pd.read_csv(path)


def _restricted_draws(proposal: Any, targets: Targets, n: int, seed: int) -> pd.DataFrame:
    """``n`` draws from a truncated prior, torch seeded by ``seed``."""
    _, torch = _sbi()
    torch.manual_seed(seed)
    with _quiet():
        draws = proposal.sample((n,), print_rejected_frac=False).numpy().astype(np.float64)
    return pd.DataFrame(draws, columns=list(targets.free))


def _plain(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


_PREDICTIVE_SEED = 2 * 10**9
"""Added to the calibration's seed for the posterior predictive simulations."""

_SCALE_SEED = 3 * 10**9
"""Added to the calibration's seed for the scale check's simulations."""

_RECOVERY_SEED = 10**9
"""Added to the calibration's seed for the synthetic problems' simulations, so that their
seeds are none of the training simulations'."""


@dataclass
class Recovery:
    """Synthetic recovery (:func:`recover`): the calibration machinery run on moments
    simulated at known parameters.

    Attributes
    ----------
    problems : pandas.DataFrame
        One row per synthetic problem and free parameter: ``problem``, ``parameter``,
        ``truth``, the posterior ``median``, the central interval ``low``/``high`` at
        ``level``, ``covered``, ``relative_width`` (the interval's width over the prior's)
        and ``rank`` (the number of posterior draws below the truth, simulation-based
        calibration: uniform over ``0 .. draws`` when the posterior is calibrated).
    level : float
        The intervals' level.
    draws : int
        Posterior draws per problem.
    """

    problems: pd.DataFrame
    level: float
    draws: int

    def summary(self) -> pd.DataFrame:
        """Per parameter: problems, coverage, mean relative width and whether the targets
        identify it (a mean relative width under ``level`` · 0.9: the posterior is
        narrower than the prior's own ``level`` interval by a tenth at least)."""
        grouped = self.problems.groupby("parameter", sort=False)
        table = grouped.agg(
            problems=("covered", "size"),
            coverage=("covered", "mean"),
            relative_width=("relative_width", "mean"),
        ).reset_index()
        table["identified"] = table["relative_width"] < 0.9 * self.level
        return table

    @property
    def usable(self) -> int:
        """The synthetic problems with every fitted moment defined (the others are skipped)."""
        return int(self.problems["problem"].nunique())

    def coverage(self) -> float:
        """The share of (problem, parameter) pairs whose interval covers the truth."""
        return float(self.problems["covered"].mean())


def recover(
    calibration: Calibration,
    problems: int,
    out: str | Path,
    *,
    level: float = 0.9,
    draws: int = 500,
    workers: int = 1,
    scheduler: str | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> Recovery:
    """Check the calibration on synthetic data: draw ``problems`` parameter vectors from the
    prior (with several rounds, from the last round's truncated prior:
    :meth:`Calibration.proposal_draws`), simulate their moments (new simulations, stored
    under ``out``), add the targets' noise, and infer each from its moments alone with the
    trained estimator (amortised: no retraining).

    Returns
    -------
    Recovery
    """
    if isinstance(problems, bool) or not isinstance(problems, int) or problems < 1:
        raise LaotieError(f"recover: problems = {problems!r}; expected an integer ≥ 1")
    if not 0 < level < 1:
        raise LaotieError(f"recover: level = {level!r}; expected a number between 0 and 1")
    t = calibration.targets
    seed = t.seed + _RECOVERY_SEED
    days = calibration.simulations.sweep.days
    # The truths come from where the last round drew: the prior, or with several rounds
    # the truncated prior (where the estimator was trained to be right).
    truths = calibration.proposal_draws(problems, seed)
    sweep = draws_sweep(t, t.scenario, truths, days, seed)
    result = run_sweep(
        sweep,
        Path(out),
        workers=workers,
        scheduler=scheduler,
        executor=executor,
        progress=progress,
    )
    fitted = [x.id for x in t.fitted()]
    se = np.array([x.se for x in t.fitted()])
    rng = np.random.default_rng(np.random.SeedSequence(t.seed, spawn_key=(_PRIOR_KEY + 2,)))
    moments = result.moments.set_index("run")
    params = result.runs.set_index("run")
    tail = (1 - level) / 2
    rows = []
    for problem, run in enumerate(result.runs["run"]):
        if run not in moments.index:
            continue
        x = moments.loc[run, fitted].to_numpy(dtype=np.float64)
        if not np.isfinite(x).all():
            continue
        observed = dict(zip(fitted, x + rng.normal(0.0, se), strict=True))
        posterior = calibration.sample(observed, draws, seed=t.seed + problem)
        for key, (low, high) in t.free.items():
            truth = float(params.loc[run, key])
            values = posterior[key].to_numpy()
            lo, hi = np.quantile(values, [tail, 1 - tail])
            rows.append(
                {
                    "problem": problem,
                    "parameter": key,
                    "truth": truth,
                    "median": float(np.median(values)),
                    "low": float(lo),
                    "high": float(hi),
                    "covered": bool(lo <= truth <= hi),
                    "relative_width": float((hi - lo) / (high - low)),
                    "rank": int((values < truth).sum()),
                }
            )
    if not rows:
        raise LaotieError(
            f"recover: none of the {problems} synthetic problems has every fitted moment "
            f"defined; ask for more problems (about the share of the calibration's "
            f"simulations used, {calibration.used} of {len(calibration.simulations.runs)}, "
            f"will be usable)"
        )
    return Recovery(problems=pd.DataFrame(rows), level=level, draws=draws)
