"""The graded cells of a notebook and the cells they need: a notebook for checking grades quickly.

The course's notebooks spend most of their time on demonstrations (restart experiments,
figures) that no test cell reads. Checking a package against the tests (mutants, valid
alternatives) needs only the graded cells and the set-up cells whose names they use,
directly or through other set-up cells. nbval still runs every notebook whole.

The analysis is by names (``ast``): a cell *provides* every name it binds (assignment,
import, ``def``, ``class``, ``for`` / ``with`` targets) and every name it may change in
place (the object of an attribute or item assignment, or of a method call). A needed cell
needs, for each name it reads, the latest earlier cell that provides it. Where in doubt
it keeps a cell: keeping too much costs time, dropping a needed cell would change a grade
(``tests/test_notebooks.py`` checks that the reference still passes every cell and the
blank skeleton fails every cell of the reduced notebooks).
"""

from __future__ import annotations

import ast
import copy

import nbformat


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def provided_and_read(source: str) -> tuple[set[str], set[str]]:
    """(names a cell binds or may change in place, names it reads); IPython magics and shell lines are skipped."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    provided: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else provided).add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            provided.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            provided.add(node.name)
        elif isinstance(node, ast.Attribute | ast.Subscript) and not isinstance(node.ctx, ast.Load):
            provided.add(_root_name(node.value) or "")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            provided.add(_root_name(node.func.value) or "")  # a method call may change its object
    provided.discard("")
    return provided, read


def _is_graded(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade") or meta.get("solution"))


def needed_code_cells(nb: nbformat.NotebookNode) -> set[int]:
    """Indices (in ``nb.cells``) of the graded and answer code cells and every code cell they need."""
    code = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    names = {index: provided_and_read(nb.cells[index].source) for index in code}
    needed: set[int] = set()
    todo = [index for index in code if _is_graded(nb.cells[index])]
    while todo:
        index = todo.pop()
        if index in needed:
            continue
        needed.add(index)
        for name in names[index][1]:
            providers = [earlier for earlier in code if earlier < index and name in names[earlier][0]]
            if providers:
                todo.append(providers[-1])
    return needed


def graded_cells_only(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without the code cells no graded cell needs (Markdown cells are kept)."""
    needed = needed_code_cells(nb)
    reduced = copy.deepcopy(nb)
    reduced.cells = [cell for index, cell in enumerate(nb.cells) if cell.cell_type != "code" or index in needed]
    return reduced
