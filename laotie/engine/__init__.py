"""The simulation engine: state as numpy arrays, each day a handful of vectorised operations.

:func:`laotie.simulate` runs a scenario and returns a :class:`~laotie.results.Result`; the Mesa
model (:class:`laotie.LaotieModel`) and the command line are faces over the same :class:`Engine`.
"""

from __future__ import annotations

from .engine import Engine, Replication, engine_bytes, lockstep_size
from .market import Market

__all__ = ["Engine", "Market", "Replication", "engine_bytes", "lockstep_size"]
