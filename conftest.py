"""What pytest collects from the source tree: the doctests of ``laotie/`` (pyproject's
``--doctest-modules``) leave out the dashboard's Solara page when Solara is missing, since
importing it needs Solara (the dashboard extra; the rest of the dashboard does not), and
``laotie.policy.levers``'s example when optuna (the policy extra) is missing."""

from __future__ import annotations

from importlib.util import find_spec

collect_ignore = [] if find_spec("solara") else ["laotie/dashboard/app.py"]
if not find_spec("optuna"):
    collect_ignore.append("laotie/policy/levers.py")
