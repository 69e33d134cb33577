"""Policy design: choose whom to train, recruit or reach, under a budget, with the simulation
as the judge.

A policy is a set of targets (creators to train, regions to give an operator, residents to
seed with the government messages, producers to enrol), each with a cost. Its value is an
outcome of the simulation (poor producers' net income, GMV, information reach, or any other
column), known only through replications:
``evaluate(sets, seed, replications)`` (:data:`Evaluate`) runs each set's replications with
common random numbers.

:func:`optimise` screens the candidates by cheap proxies (:func:`shortlist`), chooses a set by
greedy selection with lazy re-evaluation over simulated, paired marginal gains
(:func:`greedy`, replications of the *select* phase), and evaluates it beside the heuristics a
planner would use instead (most followers, most rural, random, equal per region) at the same
budget on fresh replications of the *evaluate* phase (:func:`compare`, :func:`phase_seed`), so
that the chosen set's advantage is not the winner's curse of the replications that chose it.

:func:`tune` searches continuous levers (numeric parameters within ranges, :func:`levers`)
with optuna, one objective or a Pareto front of several (:class:`LeverProgramme`), and judges
its choice against the scenario's own setting on fresh replications.
"""

from __future__ import annotations

from .compare import (
    HEURISTICS,
    PHASES,
    compare,
    heuristic_sets,
    phase_seed,
    shortlist,
    table_of,
)
from .design import Optimised, optimise
from .levers import DIRECTIONS, EvaluateSettings, Lever, LeverProgramme, Tuned, levers, tune
from .run import Stored, run_optimise
from .select import Evaluate, Selection, greedy, p_best
from .spec import TARGETS, OptimiseSpec, load_optimise
from .training import (
    EnrolmentProgramme,
    OperatorProgramme,
    SeedProgramme,
    TrainingProgramme,
)

__all__ = [
    "DIRECTIONS",
    "HEURISTICS",
    "PHASES",
    "TARGETS",
    "EnrolmentProgramme",
    "Evaluate",
    "EvaluateSettings",
    "Lever",
    "LeverProgramme",
    "OperatorProgramme",
    "OptimiseSpec",
    "Optimised",
    "SeedProgramme",
    "Selection",
    "Stored",
    "TrainingProgramme",
    "Tuned",
    "compare",
    "greedy",
    "heuristic_sets",
    "levers",
    "load_optimise",
    "optimise",
    "p_best",
    "phase_seed",
    "run_optimise",
    "shortlist",
    "table_of",
    "tune",
]
