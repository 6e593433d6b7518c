"""Execute notebooks and read their nbgrader grade cells (used by validation and tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader.utils import determine_grade, is_grade, is_solution

from .environment import kernel_environment


@dataclass(frozen=True)
class GradeResult:
    """One autograded test cell after execution."""

    grade_id: str
    points: float
    max_points: float
    error: str | None

    @property
    def passed(self) -> bool:
        return self.points == self.max_points


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook, raising ValueError that names the file if it is not valid."""
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as error:  # nbformat raises several unrelated types
        raise ValueError(f"{path}: not a readable Jupyter notebook ({error})") from None


def execute_notebook(path: Path, cwd: Path | None = None, timeout: int = 120) -> nbformat.NotebookNode:
    """Run every cell of the notebook at ``path`` in a fresh kernel, errors allowed.

    The kernel starts in ``cwd`` (default: the notebook's folder), with one BLAS
    thread and a fixed hash seed so that the outputs are reproducible.
    """
    nb = read_notebook(path)
    env = kernel_environment()
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        # Like nbgrader: a cell that runs too long is interrupted, recorded as an error, and the rest runs.
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": "CellTimeoutError",
            "evalue": f"the cell ran longer than {timeout} s",
            "traceback": [],
        },
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
    client.execute(env=env)
    return nb


def _error_text(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return f"{output.ename}: {output.evalue}"
        if output.output_type == "stream" and output.name == "stderr":
            return f"stderr: {output.text.strip()[:500]}"
    return None


def autograded_results(nb: nbformat.NotebookNode) -> list[GradeResult]:
    """Score every autograded test cell exactly as nbgrader does (``determine_grade``)."""
    results = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
            continue
        points, max_points = determine_grade(cell)
        results.append(GradeResult(cell.metadata.nbgrader["grade_id"], points, max_points, _error_text(cell)))
    return results


def cell_errors(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(index, message) of every code cell whose output holds an error or stderr text."""
    errors = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            text = _error_text(cell)
            if text:
                errors.append((index, text))
    return errors
