"""The choice between the pure numpy path and the optional compiled kernels (numba).

Every compiled kernel of laotie is written to give the numbers of the numpy path exactly,
and tests compare the two paths (tests/test_cascade.py, tests/engine/test_kernels.py);
``backend="auto"`` uses the kernels when numba is installed (``pip install laotie[fast]``),
``"numpy"`` never does and ``"numba"`` insists on them. The environment variable
``LAOTIE_BACKEND`` (``numpy`` or ``numba``) decides what ``"auto"`` means, for runs made by
the command line, sweeps or the Mesa model, which take the default.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import ScenarioError

BACKENDS = ("auto", "numpy", "numba")
ENVIRONMENT = "LAOTIE_BACKEND"


def resolve_backend(where: str, backend: Any) -> str:
    """``"numpy"`` or ``"numba"`` for ``backend`` (one of :data:`BACKENDS`); ``where`` names
    the caller in the error raised for a bad value or a missing numba."""
    if backend not in BACKENDS:
        raise ScenarioError(
            f"{where}: backend = {backend!r} is not allowed; expected 'auto', 'numpy' or 'numba'"
        )
    if backend == "auto" and os.environ.get(ENVIRONMENT, "").strip():
        backend = os.environ[ENVIRONMENT].strip()
        if backend not in BACKENDS:
            raise ScenarioError(
                f"the environment variable {ENVIRONMENT} = {backend!r} is not allowed; "
                "expected 'auto', 'numpy' or 'numba'"
            )
    if backend == "numpy":
        return backend
    try:
        import numba  # noqa: F401
    except ImportError:
        if backend == "numba":
            raise ScenarioError(
                f"{where}: backend = 'numba' needs numba, which is not installed "
                "(pip install numba, or laotie[fast]); use backend='numpy' or 'auto'"
            ) from None
        return "numpy"
    return "numba"
