"""The process environment nbgrader and the kernels it starts need."""

from __future__ import annotations

import os
import sys

from .notebooks import SINGLE_THREAD_ENV


def use_this_environment() -> None:
    """Put this interpreter's bin folder first on PATH: nbgrader runs ``alembic``, kernels run ``python``."""
    bin_dir = os.path.dirname(sys.executable)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def pin_threads() -> None:
    """One BLAS/OpenMP thread in every kernel we start (kernels inherit our environment)."""
    for key, value in SINGLE_THREAD_ENV.items():
        if key != "MPLBACKEND":
            os.environ.setdefault(key, value)
