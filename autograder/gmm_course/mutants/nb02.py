"""Mutants for notebook 2: see gmm_course.mutants for the format."""

NOTEBOOK = "02_em_2d_full_covariance.ipynb"

MUTANTS: list[dict] = []
