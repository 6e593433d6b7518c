"""Mutants for notebook 1: see gmm_course.mutants for the format."""

NOTEBOOK = "01_em_1d_old_faithful.ipynb"

MUTANTS: list[dict] = []
