"""Calibration to the real-world targets (docs/calibration.md): targets as data
(:mod:`laotie.calibrate.targets`)."""

from __future__ import annotations

from .targets import GRADES, ROLES, Target, Targets, function_name, load_targets

__all__ = ["GRADES", "ROLES", "Target", "Targets", "function_name", "load_targets"]
