"""Tiny notebooks for the kernel-stage tests: every code cell is a graded test cell."""

from __future__ import annotations

import nbformat


def graded_notebook(*sources: str) -> nbformat.NotebookNode:
    """A notebook of one graded code cell per source, with grade ids ``test_0``, ``test_1``, ... (1 point each)."""
    nb = nbformat.v4.new_notebook()
    for index, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": f"test_{index}", "points": 1, "solution": False}
        nb.cells.append(cell)
    return nb
