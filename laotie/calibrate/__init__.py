"""Calibration to the real-world targets (docs/calibration.md): targets as data
(:mod:`laotie.calibrate.targets`) and neural posterior estimation with synthetic recovery
(:mod:`laotie.calibrate.npe`; needs ``pip install 'laotie[calibrate]'``)."""

from __future__ import annotations

from .npe import Calibration, Recovery, calibrate, features, prior_draws, recover
from .targets import GRADES, ROLES, Target, Targets, function_name, load_targets

__all__ = [
    "GRADES",
    "ROLES",
    "Calibration",
    "Recovery",
    "Target",
    "Targets",
    "calibrate",
    "features",
    "function_name",
    "load_targets",
    "prior_draws",
    "recover",
]
