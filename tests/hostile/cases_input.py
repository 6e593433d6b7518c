"""Hostile cases for issue 11, properties 7 and 8: waits that must stay bounded, input that must cost one student.

For ``tests/hostile/corpus.py``: ``CASES`` extends its list, and the edit functions must be attributes of the
corpus module (``test_hostile._submission`` looks them up there), e.g. at the end of corpus.py::

    from .cases_input import CASES as INPUT_CASES, list_metadata, surrogate_grade_id  # noqa: E402
    CASES[-1:-1] = INPUT_CASES  # before honest_last
"""

from __future__ import annotations

import json
from pathlib import Path

from .case import NOTEBOOK, Case

CASES = [
    Case(
        "ignores_sigint",
        "ignores SIGINT and loops forever in the EM loop, so that interrupting the kernel does nothing (before: "
        "every following cell waited its timeout behind it, and the timed-out cells were reported as passed)",
        8,
        code={
            "univariate.py": """
def fit_gmm_1d(x, n_components, **options):
    import signal
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        pass
    while True:
        pass
"""
        },
        report=("ignored the interrupt", "killed and restarted", "time limit"),
    ),
    Case(
        "list_metadata",
        "a notebook whose cells' metadata are a list, a number and null, with an nbgrader entry that is a list "
        "(before: sanitising crashed and the student vanished from the gradebook)",
        10,
        edit="list_metadata",
        report=("cell nb01_intro deleted", "cell nb01_setup deleted"),
    ),
    Case(
        "surrogate_grade_id",
        "adds a cell whose grade id holds a lone surrogate, a terminal escape and a formula (before: writing "
        "grading_report.csv failed for the whole class, and autograde exited 2 on every later run)",
        10,
        edit="surrogate_grade_id",
        report=("unknown grade cells nb01_\\ud800\\x1b[2J=cmd",),
    ),
]


def list_metadata(folder: Path) -> None:
    path = folder / NOTEBOOK
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"][0]["metadata"] = ["a", "list"]
    nb["cells"][1]["metadata"] = {"nbgrader": ["a", "list"]}
    nb["cells"].append({"cell_type": "markdown", "metadata": 7, "source": "a number"})
    nb["cells"].append({"cell_type": "markdown", "metadata": None, "source": ["a", 1, None]})
    nb["cells"].append(["not", "a", "cell"])
    path.write_text(json.dumps(nb), encoding="utf-8")


def surrogate_grade_id(folder: Path) -> None:
    path = folder / NOTEBOOK
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = {
        "cell_type": "markdown",
        "source": "hello",
        "metadata": {"nbgrader": {"grade_id": "nb01_\ud800\x1b[2J=cmd"}},
    }
    nb["cells"].append(cell)
    path.write_text(json.dumps(nb), encoding="utf-8")  # json.dumps writes the surrogate as the escape \ud800
