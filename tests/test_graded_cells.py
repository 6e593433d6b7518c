"""The reduced notebook of graded cells (gmm_course.graded_cells) keeps every cell a graded cell needs."""

from __future__ import annotations

import nbformat

from gmm_course.graded_cells import graded_cells_only, needed_code_cells, provided_and_read


def _notebook(*cells: tuple[str, str | None]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for source, grade_id in cells:
        cell = nbformat.v4.new_code_cell(source)
        if grade_id:
            cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "points": 1, "solution": False}
        nb.cells.append(cell)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("Some text."))
    return nb


def test_a_cell_provides_what_it_binds_and_what_it_may_change_in_place():
    provided, read = provided_and_read(
        "%matplotlib inline\nimport numpy as np\nfrom a.b import c as d\nfor i in range(3):\n    log.append(i)\n"
        "table['x'] = 1\nobj.attr.deep = 2\ndef f():\n    return hidden\nclass K:\n    pass\nwith open(p) as fh:\n"
        "    pass\n"
    )
    assert {"np", "d", "i", "log", "table", "obj", "f", "K", "fh"} <= provided
    assert {"range", "log", "hidden", "open", "p"} <= read
    assert "matplotlib" not in provided | read


def test_only_the_cells_a_graded_cell_needs_are_kept_through_chains_and_in_place_changes():
    nb = _notebook(
        ("import numpy as np", None),  # 0 (a Markdown cell is inserted at 1)
        ("x = np.arange(3)", None),  # 2
        ("slow_demo = np.linalg.svd(np.ones((3, 3)))\nprint(slow_demo)", None),  # 3: nobody reads slow_demo
        ("log = []", None),  # 4
        ("log.append(x.sum())", None),  # 5: changes log in place
        ("x = x + 1", None),  # 6: the latest x before the test
        ("assert log == [3] and x[0] == 1", "test"),  # 7
        ("plot = x * 2", None),  # 8: after the only test
    )
    assert needed_code_cells(nb) == {0, 2, 4, 5, 6, 7}
    reduced = graded_cells_only(nb)
    assert [cell.source for cell in reduced.cells if cell.cell_type == "code"] == [
        nb.cells[i].source for i in (0, 2, 4, 5, 6, 7)
    ]
    assert [c.cell_type for c in reduced.cells].count("markdown") == 1, "Markdown cells are kept"
    assert len(nb.cells) == 9, "the notebook itself is not changed"
