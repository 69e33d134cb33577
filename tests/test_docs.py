"""The docs match the code: generated tables are current, the README's commands are CI's."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from laotie.sweep.store import code_fingerprint

ROOT = Path(__file__).resolve().parents[1]


def load_updater():  # docs/ is not a package; load the script as a module
    spec = importlib.util.spec_from_file_location(
        "update_tables", ROOT / "docs" / "update_tables.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_parameter_tables_are_current() -> None:
    updater = load_updater()
    stale = []
    for path in sorted([*(ROOT / "docs").rglob("*.md"), *(ROOT / "models").rglob("*.md")]):
        text = path.read_text(encoding="utf-8")
        if updater.render(text) != text:
            stale.append(path.name)
    assert not stale, f"run `python docs/update_tables.py`: stale tables in {stale}"
    assert "<!-- params:CitySpec -->\n| key |" in (ROOT / "docs" / "model.md").read_text()


def test_every_shipped_scenario_has_a_readme_with_its_table() -> None:
    for folder in sorted((ROOT / "models").iterdir()):
        if folder.is_dir():
            readme = (folder / "README.md").read_text(encoding="utf-8")
            assert f"<!-- scenario:{folder.name} -->\n| region |" in readme, folder.name
            assert "**The question.**" in readme


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```(?:bash|sh)\n(.*?)\n```", text, flags=re.S)[:2]


def test_ci_runs_the_readme_test_command() -> None:
    _, test_command = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # The README's venv is .venv; CI's is a fresh one in a temporary folder ("$VENV").
    as_in_ci = test_command.replace(".venv/bin/", '"$VENV/bin/"').replace(" .venv", ' "$VENV"')
    as_in_ci = as_in_ci.replace('"$VENV/bin/"pip', '"$VENV/bin/pip"').replace(
        '"$VENV/bin/"python', '"$VENV/bin/python"'
    )
    assert as_in_ci in ci


def test_readme_main_job_uses_a_shipped_preset() -> None:
    main_job, _ = readme_commands()
    assert main_job.endswith("laotie run mudanjiang_calibrated")


@pytest.mark.integration  # the README's example, end to end
def test_readme_python_example_runs(tmp_path, monkeypatch) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.findall(r"```python\n(.*?)\n```", text, flags=re.S)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})


@pytest.mark.integration  # the docs' example, end to end
def test_many_runs_lockstep_example_runs_and_equals_a_run_alone(tmp_path, monkeypatch) -> None:
    text = (ROOT / "docs" / "many_runs.md").read_text(encoding="utf-8")
    (example,) = [
        block
        for block in re.findall(r"```python\n(.*?)\n```", text, flags=re.S)
        if "engine.replication(r)" in block
    ]
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    exec(compile(example, "docs/many_runs.md", "exec"), names)
    assert len(names["results"]) == 32
    # Replication 5 of the example is the run of its seed alone.
    from laotie import Engine
    from laotie.results import Result

    alone = Engine(names["city"], names["scenario"], seed=names["seeds"][5])
    alone.run(90)
    assert Result.from_engine(alone).daily.equals(names["results"][5].daily)


def test_readme_main_job_section_is_generated_from_the_current_code() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    stamp = re.search(
        r"<!-- main-job command=`(?P<command>[^`]*)` version=(?P<version>\S+) "
        r"model=(?P<model>\S+) sources=(?P<sources>\S+) ",
        text,
    )
    assert stamp is not None, "README.md: the main-job section is missing its stamp"
    main_job, _ = readme_commands()
    fix = "regenerate it: python docs/main_job.py (about 13 minutes)"
    # Made by the README's own command, not a smaller city.
    assert main_job.endswith(stamp["command"].replace("laotie ", ".venv/bin/laotie ", 1)), fix
    assert stamp["model"] == code_fingerprint(), (
        f"README.md's main-job section was made by other model code ({stamp['model']}, now "
        f"{code_fingerprint()}): {fix}"
    )
    assert stamp["sources"] == main_job_script().sources_fingerprint(), (
        f"README.md's main-job section was made from another scenario file, statistics or "
        f"script: {fix}"
    )


def main_job_script():  # docs/ is not a package; load the script as a module
    spec = importlib.util.spec_from_file_location("main_job", ROOT / "docs" / "main_job.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.integration  # a small run of the main job through the script
def test_main_job_script_writes_what_the_command_prints() -> None:
    module = main_job_script()
    section = module.section(["--scale", "0.002", "--days", "20"])
    assert section.startswith(
        "<!-- main-job command=`laotie run mudanjiang_calibrated --scale 0.002 --days 20` "
    )
    assert f"model={code_fingerprint()} sources={module.sources_fingerprint()} " in section
    assert "\nchannel     conversion" in section and "Done in" in section
    assert re.search(r"buys at \d+\.\d%, a storefront ad impression at \d\.\d\d%", section)
    assert section.endswith("<!-- /main-job -->")
    assert not module.SECTION.sub("", section)  # one whole section, replaceable
