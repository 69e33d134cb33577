"""Global sensitivity analysis of a scenario: Sobol indices and Morris screening (SALib).

A :class:`Sensitivity` names a base scenario, numeric parameters (dotted keys) with the range
each may take, one output of a run (:func:`output_names`) and a method:

- ``"sobol"``: Saltelli's sample of ``samples · (D + 2)`` points (``D`` parameters;
  ``samples · (2D + 2)`` with second-order indices) and Sobol's variance decomposition: the
  first-order index ``S1`` of a parameter is the share of the output's variance that it causes
  alone, the total index ``ST`` the share it takes part in, interactions included;
- ``"morris"``: ``samples`` trajectories of ``D + 1`` points that move one parameter at a time
  on a grid of ``num_levels`` levels; ``mu_star``, the mean absolute elementary effect, ranks
  the parameters, ``sigma`` (their spread) flags non-linear effects and interactions.

The points run as one :class:`laotie.sweep.Sweep` of explicit cases, with ``replications``
runs each and common random numbers (replication ``r`` of every point shares the city graph
and the random streams), on any executor, resumable; each point's output is the mean over its
replications. The sample and the bootstrap of the confidence intervals are seeded from the
spec's seed, so the same spec gives the same indices, whatever the number of workers.

Needs SALib (``pip install 'laotie[sensitivity]'``).

Examples
--------
>>> from laotie import Scenario
>>> spec = Sensitivity(Scenario.preset("village"), {"decision.trust_weight": [3.0, 6.0],
...                    "policy.reach": [0.1, 0.5]}, "all.conversion", method="morris",
...                    samples=2, days=3, seed=1)
>>> len(spec.cases()), spec.sweep().replications
(6, 1)
"""

from __future__ import annotations

from .analysis import SensitivityResult, indices, output_values, run_sensitivity
from .spec import RATIOS, Sensitivity, load_sensitivity, output_names

__all__ = [
    "RATIOS",
    "Sensitivity",
    "SensitivityResult",
    "indices",
    "load_sensitivity",
    "output_names",
    "output_values",
    "run_sensitivity",
]
