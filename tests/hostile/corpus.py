"""Hostile and broken submissions, each a small change to a correct one (notebook 1 only).

Each case says what it tries and what the grader must make of it: the autograded
points of notebook 1 (out of 10), the cells flagged for the instructor, and fragments
of the report lines it must produce. ``code`` is appended to the named module of a
correct ``gmm_student`` (a later ``def`` replaces the earlier one); ``REPO`` and
``WORKSPACE`` in it are replaced by the real paths, which a real attacker could guess.
"""

from __future__ import annotations

import json
from pathlib import Path

from .case import NOTEBOOK, Case

CASES = [
    Case("honest_first", "nothing: a correct submission, graded first", 10),
    Case(
        "patches_the_checks",
        "makes every visible check a no-op and numpy.testing silent when its package is imported, "
        "and returns zeros from normal_pdf",
        9,
        code={
            "univariate.py": """
import numpy.testing as _npt
from gmm_student import checks as _checks
for _name in dir(_checks):
    if _name.startswith("check_"):
        setattr(_checks, _name, lambda *args, **kwargs: None)
_npt.assert_allclose = lambda *args, **kwargs: None

def normal_pdf(x, means, variances):
    return np.zeros((np.asarray(x).size, np.asarray(means).size))
"""
        },
        flags=frozenset({"nb01_normal_pdf"}),
        report=("FLAG",),
    ),
    Case(
        "hides_tracebacks",
        "replaces IPython's traceback display so that failing cells look clean in the kernel, "
        "and returns NaN as the log-likelihood",
        8,
        code={
            "univariate.py": """
from IPython import get_ipython as _get_ipython

if _get_ipython() is not None:  # in the student's kernel
    _get_ipython().showtraceback = lambda *args, **kwargs: None

def log_likelihood_1d(x, weights, means, variances):
    return float("nan")
"""
        },
        flags=frozenset({"nb01_log_likelihood"}),
        report=("FLAG",),
    ),
    Case(
        "always_equal",
        "returns an ndarray subclass that says it equals anything",
        8,
        code={
            "univariate.py": """
class _Agreeable(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)

    def __ne__(self, other):
        return np.zeros(np.shape(self), dtype=bool)

def e_step_1d(x, weights, means, variances):
    return np.full((np.asarray(x).size, np.asarray(weights).size), 1.0 / np.asarray(weights).size).view(_Agreeable)
"""
        },
    ),
    Case(
        "imports_the_reference",
        "imports the reference solution (after putting the repository's solutions folder on sys.path)",
        9,
        code={
            "univariate.py": """
def normal_pdf(x, means, variances):
    import sys
    sys.path.insert(0, "REPO/solutions")
    import gmm_reference.univariate as reference
    return reference.normal_pdf(x, means, variances)
"""
        },
    ),
    Case(
        "escapes",
        "reads the hidden tests and the reference, opens the gradebook for writing, writes outside its folder "
        "and opens a network connection; normal_pdf answers correctly only if every attempt fails",
        10,
        code={
            "univariate.py": """
_correct_normal_pdf = normal_pdf

def normal_pdf(x, means, variances):
    import socket
    attempts = [
        lambda: open("REPO/source_notebooks/01_em_1d_old_faithful.ipynb").read(),
        lambda: open("REPO/solutions/gmm_reference/univariate.py").read(),
        lambda: open("WORKSPACE/source/gmm_em/01_em_1d_old_faithful.ipynb").read(),
        lambda: open("WORKSPACE/gradebook.db", "r+b").write(b"x"),
        lambda: open("REPO/hostile-was-here.txt", "w").write("escaped"),
        lambda: open("WORKSPACE/hostile-was-here.txt", "w").write("escaped"),
        lambda: socket.create_connection(("127.0.0.1", 22), timeout=1),
    ]
    for attempt in attempts:
        try:
            attempt()
        except OSError:
            continue
        return np.zeros((np.asarray(x).size, np.asarray(means).size))  # an attempt worked: lose the point
    return _correct_normal_pdf(x, means, variances)
"""
        },
    ),
    Case(
        "exits",
        "ends the process from the M-step (os._exit)",
        7,
        code={
            "univariate.py": """
def m_step_1d(x, resp, var_floor=1e-6):
    import os
    os._exit(3)
"""
        },
        report=("exit code 3", "kernel died"),
    ),
    Case(
        "segfaults",
        "crashes the interpreter in native code from the log-likelihood",
        8,
        code={
            "univariate.py": """
def log_likelihood_1d(x, weights, means, variances):
    import ctypes
    return ctypes.string_at(0)
"""
        },
        report=("SIGSEGV",),
    ),
    Case(
        "eats_memory",
        "asks for 128 GiB in the E-step",
        8,
        code={
            "univariate.py": """
def e_step_1d(x, weights, means, variances):
    hog = np.ones(2**34)
    return hog[: np.asarray(x).size * np.asarray(weights).size].reshape(-1, np.asarray(weights).size)
"""
        },
    ),
    Case(
        "never_ends",
        "loops forever in the EM loop",
        8,
        code={
            "univariate.py": """
def fit_gmm_1d(x, n_components, **options):
    while True:
        pass
"""
        },
        report=("time limit",),
    ),
    Case(
        "floods_output",
        "prints 30 MB to stdout and stderr on every call of a correct normal_pdf",
        10,
        code={
            "univariate.py": """
_quiet_normal_pdf = normal_pdf

def normal_pdf(x, means, variances):
    import sys
    sys.stdout.write("spam " * 6_000_000)
    sys.stderr.write("spam " * 6_000_000)
    return _quiet_normal_pdf(x, means, variances)
"""
        },
    ),
    Case(
        "noisy_but_correct",
        "a correct E-step that prints RuntimeWarnings (stock nbgrader scores any stderr output as a failure)",
        10,
        code={
            "univariate.py": """
_silent_e_step_1d = e_step_1d

def e_step_1d(x, weights, means, variances):
    import warnings
    np.log(np.zeros(1))  # RuntimeWarning: divide by zero
    warnings.warn("this E-step is noisy", RuntimeWarning)
    return _silent_e_step_1d(x, weights, means, variances)
"""
        },
    ),
    Case(
        "broken_notebook_json",
        "a notebook file that is not valid JSON",
        10,
        edit="break_json",
        report=("not valid notebook JSON",),
    ),
    Case(
        "shuffled_notebook",
        "deletes a test cell, duplicates an answer, turns an answer into code, adds a code cell, reverses the order",
        10,
        edit="shuffle_cells",
        report=("cell nb01_e_step deleted", "appears 2 times", "changed to a code cell", "moved", "added"),
    ),
    Case(
        "damaged_package",
        "deletes univariate.py, adds a module of its own and a folder inside gmm_student",
        0,
        edit="damage_package",
        report=("module missing", "extra module", "not a regular file"),
    ),
    Case("honest_last", "nothing: a correct submission, graded last", 10),
]


def break_json(folder: Path) -> None:
    path = folder / NOTEBOOK
    path.write_text(path.read_text()[: len(path.read_text()) // 2])


def shuffle_cells(folder: Path) -> None:
    path = folder / NOTEBOOK
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in cells]
    cells = [c for c, gid in zip(cells, ids, strict=True) if gid != "nb01_e_step"]
    answer = next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "nb01_a1")
    cells.append(json.loads(json.dumps(answer)))
    other = next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "nb01_a2")
    other["cell_type"] = "code"
    other["outputs"], other["execution_count"] = [], None
    cells.insert(
        0,
        {
            "cell_type": "code",
            "metadata": {},
            "source": "import os; os.system('rm -rf /')",
            "outputs": [],
            "execution_count": None,
        },
    )
    nb["cells"] = cells[::-1]
    path.write_text(json.dumps(nb))


def damage_package(folder: Path) -> None:
    package = folder / "gmm_student"
    (package / "univariate.py").unlink()
    (package / "my_helpers.py").write_text("HELPER = 1\n")
    (package / "data").mkdir()


# Issue 11 ("grader trust, round 2"): new attacks on what crosses boundaries, one file per kind of boundary.
# Imported here, after Case and the edit functions above exist; they go before honest_last, which must come last.
from .cases_checker import CASES as CHECKER_CASES  # noqa: E402 - grader code reached through the wire
from .cases_input import CASES as INPUT_CASES  # noqa: E402 - waits and bad input
from .cases_input import list_metadata, surrogate_grade_id  # noqa: E402, F401 - edit functions, looked up here
from .cases_jail import CASES as JAIL_CASES  # noqa: E402 - what persists, leaks or grows in the jail
from .cases_outputs import CASES as OUTPUT_CASES  # noqa: E402 - active or huge outputs

CASES[-1:-1] = [*CHECKER_CASES, *INPUT_CASES, *JAIL_CASES, *OUTPUT_CASES]
assert CASES[-1].name == "honest_last" and len({c.name for c in CASES}) == len(CASES)
