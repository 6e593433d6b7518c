"""Known mistakes for notebook 6, the project report: none, on purpose.

The report has no autograded cell. Its given code runs the student's functions of notebooks
1-5 (EM, k-means start, BIC), which are graded there; a test of them here would charge one
mistake twice (the rule "one mistake, one place"). A mistake in those functions shows in
the report's figures and its "figure checks" cell, which the instructor sees when grading the
written answers by hand. ``tests/test_notebooks.py`` checks that this catalogue stays empty.
"""

NOTEBOOK = "06_project_report.ipynb"

MUTANTS: list[dict] = []
