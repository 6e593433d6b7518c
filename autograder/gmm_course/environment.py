"""The process environment nbgrader and the kernels it starts need."""

from __future__ import annotations

import os
import sys

SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
}


def _this_python_first(path: str) -> str:
    bin_dir = os.path.dirname(sys.executable)
    return path if path.split(os.pathsep)[0] == bin_dir else bin_dir + os.pathsep + path


def use_this_environment() -> None:
    """Put this interpreter's bin folder first on PATH: nbgrader runs ``alembic``, kernels run ``python``."""
    os.environ["PATH"] = _this_python_first(os.environ.get("PATH", ""))


def kernel_environment() -> dict[str, str]:
    """The environment for a kernel we start: this python first on PATH, one BLAS thread, fixed seeds."""
    env = os.environ.copy()
    env.update(SINGLE_THREAD_ENV)
    env["PATH"] = _this_python_first(env.get("PATH", ""))
    return env


def pin_threads() -> None:
    """One BLAS/OpenMP thread in every kernel we start (kernels inherit our environment)."""
    for key, value in SINGLE_THREAD_ENV.items():
        if key != "MPLBACKEND":
            os.environ.setdefault(key, value)
