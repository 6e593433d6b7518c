# Two entry points (see README.md): `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
# Notebook kernels are found on PATH, so the venv's python must come first.
export PATH := $(BIN):$(PATH)
# One BLAS/OpenMP thread per process: the grader runs notebooks in parallel.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg

.PHONY: install demo test lint build bench bench-grading clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/gmm-course demo

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: install
	$(BIN)/ruff check .

build: install
	$(BIN)/gmm-course build

bench: install
	$(BIN)/python benchmarks/bench_em.py

# About 35 minutes on 2 cores: stock nbgrader, --jobs 2 and Dask on 40 submissions (see the script's --help).
bench-grading: install
	$(BIN)/python benchmarks/bench_grading.py

clean:
	rm -rf .grading build .pytest_cache
