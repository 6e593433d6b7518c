"""Mutants for notebook 3: see gmm_course.mutants for the format."""

NOTEBOOK = "03_log_sum_exp.ipynb"

MUTANTS: list[dict] = []
