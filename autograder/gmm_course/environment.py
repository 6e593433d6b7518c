"""The process environment nbgrader and the kernels it starts need.

Trusted processes (nbgrader, the instructor's notebooks) inherit the grader's environment. Student code
never does: its kernels and processes get :func:`student_environment`, built from an allow-list, so that
nothing of the grader's environment (``JUPYTERHUB_API_TOKEN``, ``PGPASSWORD``, cloud keys, ...) reaches it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
}


#: Variables passed through to student code as the grader has them, if it has them: hardware settings that some
#: machines need for correct results (OpenBLAS misdetects some CPUs), never secrets.
PASS_THROUGH_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

#: The system part of student code's ``PATH`` (after this environment's bin folder); not the grader's PATH.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def _this_python_first(path: str) -> str:
    bin_dir = os.path.dirname(sys.executable)
    return path if path.split(os.pathsep)[0] == bin_dir else bin_dir + os.pathsep + path


def use_this_environment() -> None:
    """Put this interpreter's bin folder first on PATH: nbgrader runs ``alembic``, kernels run ``python``."""
    os.environ["PATH"] = _this_python_first(os.environ.get("PATH", ""))


def kernel_environment() -> dict[str, str]:
    """The environment for a *trusted* kernel we start (the instructor's notebooks): the grader's own, with this
    python first on PATH, one BLAS thread and fixed seeds. Student code gets :func:`student_environment`."""
    env = os.environ.copy()
    env.update(SINGLE_THREAD_ENV)
    env["PATH"] = _this_python_first(env.get("PATH", ""))
    return env


def student_environment(own_dir: Path, *, mplbackend: str | None = None) -> dict[str, str]:
    """The whole environment of a process that runs student code (a kernel, the student process).

    Only what it needs, whatever the grader's environment holds: ``PATH`` (this environment's bin folder,
    then the system's), ``HOME`` = ``own_dir`` and ``TMPDIR`` = ``own_dir/.tmp`` (the folder must exist),
    a UTF-8 locale, one BLAS/OpenMP thread, the Matplotlib backend (``mplbackend`` or the inline one) and a
    fixed hash seed from :data:`SINGLE_THREAD_ENV`, and the hardware settings of :data:`PASS_THROUGH_ENV`.
    """
    env = {
        "PATH": _this_python_first(SYSTEM_PATH),
        "HOME": str(own_dir),
        "TMPDIR": str(Path(own_dir) / ".tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        **SINGLE_THREAD_ENV,
    }
    if mplbackend is not None:
        env["MPLBACKEND"] = mplbackend
    env.update({key: os.environ[key] for key in PASS_THROUGH_ENV if key in os.environ})
    return env


def pin_threads() -> None:
    """One BLAS/OpenMP thread in every kernel we start (kernels inherit our environment)."""
    for key, value in SINGLE_THREAD_ENV.items():
        if key != "MPLBACKEND":
            os.environ.setdefault(key, value)
