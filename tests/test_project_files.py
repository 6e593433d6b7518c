"""Project hygiene: dependency lists agree, README's two commands, CI runs them, lint is clean."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from .conftest import REPO


def _normalise(requirement: str) -> tuple[str, str]:
    requirement = requirement.strip().replace(" ", "")
    match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)(.*)$", requirement)
    name, spec = match.group(1), match.group(2)
    return re.sub(r"[-_.]+", "-", name.lower()), ",".join(sorted(spec.split(","))) if spec else ""


def _environment_dependencies() -> dict[str, str]:
    deps = {}
    in_deps = False
    for line in (REPO / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        item = re.match(r"^  - (\S.*)$", line)
        if in_deps and item and not item.group(1).startswith(("pip:", "python=", "pip")):
            name, spec = _normalise(item.group(1))
            deps[name] = spec
    return deps


def test_environment_yml_and_pyproject_list_the_same_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    from_pyproject = dict(_normalise(r) for r in declared)
    assert _environment_dependencies() == from_pyproject
    assert "python=3.11" in (REPO / "environment.yml").read_text()


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"```(?:bash|sh|console)?\n(.*?)```", text, re.S)
    assert block, "README.md has no fenced code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_the_two_commands():
    commands = readme_commands()
    assert commands == ["make demo", "make test"]
    makefile = (REPO / "Makefile").read_text()
    for target in ("demo", "test"):
        assert re.search(rf"^{target}: install$", makefile, re.M), f"Makefile has no '{target}: install' target"


def test_ci_runs_the_readme_test_command():
    script = (REPO / ".ci" / "run").read_text()
    last_command = [line for line in script.splitlines() if line.strip() and not line.startswith("#")][-1]
    assert last_command.strip() == readme_commands()[1]


def test_ruff_is_clean():
    ruff = str(Path(sys.executable).parent / "ruff")  # installed with the dev extras
    lint = subprocess.run([ruff, "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run(
        [ruff, "format", "--check", "--no-cache", "solutions", "autograder", "tests", "benchmarks"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_python_is_311():
    assert sys.version_info[:2] == (3, 11)
