"""The simulation engine: state as arrays, each day's rules written once.

:class:`Engine` conducts the day (:mod:`laotie.engine.engine`); the rules of the day are in
:mod:`laotie.engine.rules`, one module per phase of docs/model.md 3.5; the market's set-up is
:class:`Market`. :func:`laotie.simulate` runs a scenario and returns a
:class:`~laotie.results.Result`; the Mesa model (:class:`laotie.LaotieModel`) and the command
line are faces over the same :class:`Engine`.
"""

from __future__ import annotations

from .engine import Engine, Replication
from .market import Market
from .sizing import engine_bytes, lockstep_size

__all__ = ["Engine", "Market", "Replication", "engine_bytes", "lockstep_size"]
