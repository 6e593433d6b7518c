"""Execute the instructor's source notebooks in place and store their outputs normalised."""

from __future__ import annotations

from pathlib import Path

from .normalise import write_normalised
from .notebooks import autograded_results, cell_errors, execute_notebook
from .paths import SOURCE_NOTEBOOKS_DIR, source_notebooks


def source_notebook_paths(names=None) -> list[Path]:
    """The source notebooks, in course order, or the named ones (names or paths)."""
    if not names:
        return source_notebooks()
    paths = []
    for name in names:
        path = Path(name)
        if not path.is_file():
            path = SOURCE_NOTEBOOKS_DIR / Path(name).name
        if not path.is_file():
            raise FileNotFoundError(f"no source notebook {name!r} (looked in {SOURCE_NOTEBOOKS_DIR})")
        paths.append(path)
    return paths


def run_source_notebook(path: Path, timeout: int = 120) -> list[str]:
    """Execute one source notebook, store it with outputs, return a list of problems (empty = good)."""
    nb = execute_notebook(path, cwd=path.parent, timeout=timeout)
    write_normalised(nb, path)
    problems = [f"{path.name}: cell {index}: {text}" for index, text in cell_errors(nb)]
    problems += [
        f"{path.name}: grade cell {r.grade_id} scored {r.points}/{r.max_points}"
        for r in autograded_results(nb)
        if not r.passed
    ]
    return problems
