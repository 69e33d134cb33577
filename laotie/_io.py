"""Writing files so that an interrupted write never leaves a half-written file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import LaotieError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["atomic_write", "json_default", "parquet_available", "plain", "write_npz"]


def atomic_write(
    path: Path, write: Callable[[Path], object], error: type[LaotieError] = LaotieError
) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The rename is atomic, so ``path`` is either the old file or the complete new one.
    Failures raise ``error`` naming ``path``; the temporary file is removed.
    """
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.part"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not tempfile.mkstemp: its files are private (mode 0600) and os.replace keeps that.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as err:
        raise error(f"{path}: cannot write ({err})") from err
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise error(f"{path}: cannot write ({err})") from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def json_default(value: object) -> object:
    """``json.dumps`` default for numpy values: scalars as Python numbers, arrays as lists."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def parquet_available() -> bool:
    """Whether pyarrow, which writes and reads Parquet, can be imported."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def plain(value: object) -> object:
    """A numpy scalar as the Python value it holds; anything else unchanged."""
    import numpy as np

    return value.item() if isinstance(value, np.generic) else value


def write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to the ``.npz`` file ``path``, each under its name."""
    import numpy as np

    # A file object, not a name: numpy would append ".npz" to a temporary name.
    with open(path, "wb") as handle:
        # numpy's stub lets a ``**`` mapping reach the keyword ``allow_pickle: bool``.
        np.savez(handle, **arrays)  # type: ignore[arg-type]
