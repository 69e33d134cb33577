"""Serving the dashboard (:func:`serve`, what ``laotie dashboard`` calls) and showing it in a
notebook (:func:`show`)."""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
from collections.abc import Sequence
from importlib.util import find_spec
from typing import Any

from ..errors import LaotieError
from ..scenario import Scenario
from .controls import DEFAULT_KEYS, MAX_RESIDENTS, controls, default_scale

__all__ = ["CONFIG_VARIABLE", "require_solara", "serve", "settings", "show"]

CONFIG_VARIABLE = "LAOTIE_DASHBOARD"
"""The environment variable through which :func:`serve` gives the served page,
:func:`laotie.dashboard.app.Page`, its settings (JSON: :func:`settings`)."""

INSTALL = "pip install 'laotie[dashboard]'"
"""How to install what the dashboard needs."""


def require_solara() -> None:
    """Refuse, with the command that installs it, when Solara is missing.

    Raises
    ------
    LaotieError
        When Solara cannot be imported.
    """
    if find_spec("solara") is None:
        raise LaotieError(f"the dashboard needs Solara, which is not installed: {INSTALL}")


def settings(
    scenario: str = "village",
    *,
    scale: float | None = None,
    keys: Sequence[str] = DEFAULT_KEYS,
    seed: int | None = None,
    changes: dict[str, Any] | None = None,
    max_residents: int = MAX_RESIDENTS,
) -> dict[str, Any]:
    """Check the dashboard's settings and return them as :func:`~laotie.dashboard.app.Dashboard`'s
    keyword arguments.

    Parameters
    ----------
    scenario, scale, keys, seed, changes, max_residents
        As for :func:`serve`.

    Returns
    -------
    dict
        The keyword arguments, with ``scale`` resolved.

    Raises
    ------
    ScenarioError
        For an unknown scenario or parameter (with the nearest known one), a change or a
        scale that is not allowed.
    """
    first = Scenario.load(scenario, **(changes or {}))
    chosen = default_scale(first, max_residents) if scale is None else scale
    controls(Scenario.load(scenario, scale=chosen, **(changes or {})), keys)
    return {
        "scenario": str(scenario),
        "scale": chosen,
        "keys": list(keys),
        "seed": seed,
        "changes": dict(changes or {}),
        "max_residents": max_residents,
    }


def serve(
    scenario: str = "village",
    *,
    scale: float | None = None,
    keys: Sequence[str] = DEFAULT_KEYS,
    seed: int | None = None,
    changes: dict[str, Any] | None = None,
    max_residents: int = MAX_RESIDENTS,
    host: str = "localhost",
    port: int = 8765,
    open_browser: bool = True,
) -> None:
    """Serve the dashboard on ``host:port`` until interrupted (Ctrl-C: KeyboardInterrupt).

    The page is :func:`laotie.dashboard.app.Page`, served by Solara's server in production
    mode with its front-end assets installed locally (``solara[assets]``: no CDN needed).
    Solara's usage statistics are turned off unless ``SOLARA_TELEMETRY_MIXPANEL_ENABLE`` is
    set.

    Parameters
    ----------
    scenario : str, default "village"
        The scenario shown first: a shipped scenario's name or a scenario file.
    scale : float, optional
        Its scale (default: at most ``max_residents`` residents).
    keys : sequence of str, default :data:`~laotie.dashboard.controls.DEFAULT_KEYS`
        The parameters to show, as dotted keys.
    seed : int, optional
        The seed of the runs (default: the scenario's ``run.seed``).
    changes : dict, optional
        Changes to the first scenario (dotted keys).
    max_residents : int, default 20,000
        The largest city built at a scenario's default scale.
    host : str, default "localhost"
        Where to listen.
    port : int, default 8765
        The port; 0 picks a free one.
    open_browser : bool, default True
        Open the page in the default browser once the server is up.

    Raises
    ------
    LaotieError
        When Solara is missing (with the command that installs it), the port is taken, or a
        setting is not allowed (:func:`settings`).
    """
    require_solara()
    config = settings(
        scenario,
        scale=scale,
        keys=keys,
        seed=seed,
        changes=changes,
        max_residents=max_residents,
    )
    port = _free_port(host, port)
    os.environ[CONFIG_VARIABLE] = json.dumps(config)
    _no_telemetry()
    from solara.__main__ import run

    print(
        f"laotie dashboard: {config['scenario']} at http://{host}:{port} (Ctrl-C stops it)",
        file=sys.stderr,
    )
    arguments = [
        "laotie.dashboard.app",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-check-version",
        "--open" if open_browser else "--no-open",
    ]
    from click.exceptions import Abort

    try:
        run.main(args=arguments, prog_name="laotie dashboard", standalone_mode=False)
    except Abort:  # Solara's command reports Ctrl-C so; the caller expects KeyboardInterrupt
        raise KeyboardInterrupt from None


def show(scenario: str = "village", **kwargs: Any) -> None:
    """Display the dashboard in a notebook cell (Jupyter, VS Code).

    Parameters
    ----------
    scenario : str, default "village"
        The scenario shown first.
    **kwargs
        The other arguments of :func:`~laotie.dashboard.app.Dashboard` (``scale``, ``keys``,
        ``seed``, ``changes``, ``max_residents``).

    Raises
    ------
    LaotieError
        When Solara is missing, or a setting is not allowed.

    Notes
    -----
    Ending a cell with ``Dashboard()`` (``from laotie.dashboard import Dashboard``) displays
    it too; :func:`show` displays it from anywhere in a cell, and checks the settings first.
    """
    require_solara()
    _no_telemetry()
    from IPython.display import display

    from .app import Dashboard

    display(Dashboard(**settings(scenario, **kwargs)))


def _no_telemetry() -> None:
    """Turn Solara's usage statistics off, unless the user chose; before Solara is imported
    (its settings read the environment once)."""
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")


def _free_port(host: str, port: int) -> int:
    """``port`` when it is free on ``host`` (a free port when it is 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise LaotieError(
                    f"port {port} on {host} is in use; pass --port N, or --port 0 for a free one"
                ) from None
            raise LaotieError(f"cannot listen on {host}:{port} ({err.strerror})") from None
        return int(probe.getsockname()[1])
