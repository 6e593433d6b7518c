"""Mutants for notebook 5: see gmm_course.mutants for the format."""

NOTEBOOK = "05_kmeans_vs_random_init.ipynb"

MUTANTS: list[dict] = []
