"""Exceptions raised by laotie.

Every error that bad input can cause is a :class:`LaotieError`. Its message is one sentence
that names where the problem is (file, key or node), the value received and what is allowed,
so that the command line can print it as a single line.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["GraphError", "LaotieError", "ScenarioError", "user_stacklevel"]


class LaotieError(Exception):
    """Base class of every error that laotie raises on bad input."""


class ScenarioError(LaotieError, ValueError):
    """A parameter or scenario value is missing, of the wrong type, or out of range."""


class GraphError(LaotieError, ValueError):
    """A trust graph (generated, loaded or converted) breaks one of its invariants."""


def user_stacklevel() -> int:
    """The ``stacklevel`` for :func:`warnings.warn` that points at the first caller outside
    laotie, whichever public front (a function, a method, the command line) was called.

    Returns
    -------
    int
        1 is the function calling this one (the one that warns).
    """
    package = str(Path(__file__).resolve().parent)
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(
        package
    ):
        frame = frame.f_back
        level += 1
    return level
