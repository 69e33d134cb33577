"""Exceptions raised by laotie.

Every error that bad input can cause is a :class:`LaotieError`. Its message is one sentence
that names where the problem is (file, key or node), the value received and what is allowed,
so that the command line can print it as a single line.
"""

from __future__ import annotations

__all__ = ["GraphError", "LaotieError", "ScenarioError"]


class LaotieError(Exception):
    """Base class of every error that laotie raises on bad input."""


class ScenarioError(LaotieError, ValueError):
    """A parameter or scenario value is missing, of the wrong type, or out of range."""


class GraphError(LaotieError, ValueError):
    """A trust graph (generated, loaded or converted) breaks one of its invariants."""
