"""The notebooks in docs/ are numbered, stored without outputs, and run from top to bottom.

Each notebook is executed in a fresh kernel of this very interpreter, in a temporary working
directory (so that it writes nothing into the repository), with matplotlib's inline backend,
which renders every figure without a display. A cell that raises, or whose figures fail to
draw, fails the test with the cell's source and traceback.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # the notebooks run top to bottom

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "docs").glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell
# Headless and the same as a student's Jupyter: figures are drawn to PNG when a cell ends,
# so an error while drawing shows up (with Agg nothing would draw them). It also overrides a
# GUI backend set in the environment (MPLBACKEND=TkAgg without a display would fail).
BACKEND = "module://matplotlib_inline.backend_inline"
ANSI_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


def test_docs_has_notebooks() -> None:
    assert NOTEBOOKS, "no notebooks found in docs/"


def _requirements(extra: str | None) -> set[str]:
    """The distributions the core dependencies (and an extra, with the extras it names of
    laotie itself) declare, by normalised name."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    extras, names = [extra] if extra else [], set()
    while extras:
        for text in project["optional-dependencies"][extras.pop()]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == "laotie":
                extras += sorted(requirement.extras)
            else:
                wanted.append(requirement)
    for requirement in wanted:
        names.add(canonicalize_name(requirement.name))
    return names


def test_the_notebooks_extra_covers_every_import() -> None:
    import importlib.metadata

    from packaging.utils import canonicalize_name

    declared = _requirements("notebooks")
    assert {"jupyterlab", "ipykernel"} <= declared
    providers = importlib.metadata.packages_distributions()
    pattern = re.compile(r"^\s*(?:from\s+(\w+)[\w.]*\s+import|import\s+(\w+))", re.MULTILINE)
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        for match in pattern.finditer(source):
            module = match.group(1) or match.group(2)
            if module == "laotie" or module in sys.stdlib_module_names:
                continue
            found = {canonicalize_name(d) for d in providers.get(module, [])}
            assert found & declared, (
                f"docs/{path.name} imports {module} ({', '.join(sorted(found)) or 'not installed'}"
                f"), which neither laotie's dependencies nor its notebooks extra declare"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_numbered(path: Path) -> None:
    assert re.match(r"\d{2}_", path.name), (
        f"docs/{path.name}: notebook names start with a two-digit number and an underscore, "
        "e.g. 01_quickstart.ipynb"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        number
        for number, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, (
        f"docs/{path.name}: cells {dirty} (counting from 0) are stored with outputs or "
        "execution counts; clear them (in Jupyter: Edit > Clear Outputs of All Cells) and save"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import nbformat
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as err:
        pytest.fail(f"executing notebooks needs the test extra: pip install -e '.[test]' ({err})")

    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    # Only ipykernel's own kernel spec, which starts sys.executable: a "python3" kernel
    # installed for the user or the system could run another interpreter without laotie.
    specs = KernelSpecManager(kernel_dirs=[])
    kernel = KernelManager(kernel_name="python3", kernel_spec_manager=specs)
    assert Path(kernel.kernel_spec.argv[0]) == Path(sys.executable)
    monkeypatch.setenv("MPLBACKEND", BACKEND)
    client = NotebookClient(
        notebook,
        km=kernel,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    failure = None
    try:
        client.execute()
    except CellExecutionError as err:
        failure = ANSI_COLOURS.sub("", str(err))  # the cell's source and traceback
    if failure is not None:
        pytest.fail(f"docs/{path.name}: a cell failed\n{failure}", pytrace=False)
    # An error after the cell's code, e.g. while drawing its figures, leaves an error output
    # but lets the cell succeed.
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                trace = ANSI_COLOURS.sub("", "\n".join(output.traceback))
                pytest.fail(
                    f"docs/{path.name}: cell {number} (counting from 0) left an error\n"
                    f"{cell.source}\n{trace}",
                    pytrace=False,
                )
