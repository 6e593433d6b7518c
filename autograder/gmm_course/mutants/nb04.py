"""Mutants for notebook 4: see gmm_course.mutants for the format."""

NOTEBOOK = "04_choosing_k_bic_aic.ipynb"

MUTANTS: list[dict] = []
