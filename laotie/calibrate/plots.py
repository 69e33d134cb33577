"""The calibration's figure: the posterior's pairwise marginals (a corner plot)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .._io import atomic_write
from .npe import _sbi

__all__ = ["write_corner"]


def write_corner(
    posterior: pd.DataFrame, free: Mapping[str, tuple[float, float]], path: Path
) -> Path:
    """Draw the posterior's one- and two-parameter marginals over the prior's ranges (sbi's
    ``pairplot``) into ``path`` (PNG).

    Parameters
    ----------
    posterior : pandas.DataFrame
        Draws, one column per free parameter.
    free : mapping of str to (float, float)
        The free parameters and their prior ranges (the axes' limits).
    path : pathlib.Path
        Where to write the figure.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import matplotlib.pyplot as plt

    _sbi()  # a named error when the calibrate extra is missing
    from sbi.analysis import pairplot

    keys = list(free)
    size = max(6.0, 0.9 * len(keys))
    fig, _ = pairplot(
        posterior[keys].to_numpy(),
        limits=[list(free[key]) for key in keys],
        labels=[key.replace(".", ".\n", 1) for key in keys],
        upper="hist",
        diag="hist",
        figsize=(size, size),
    )
    fig.suptitle(
        f"Posterior of the {len(keys)} free parameters ({len(posterior)} draws), over their "
        "prior ranges",
        y=1.0,
    )
    atomic_write(path, lambda p: fig.savefig(p, dpi=80, bbox_inches="tight", format="png"))
    plt.close(fig)
    return path
