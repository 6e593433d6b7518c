"""What a hostile case is: a small change to a correct submission and what the grader must make of it."""

from __future__ import annotations

from dataclasses import dataclass, field

NOTEBOOK = "01_em_1d_old_faithful.ipynb"  # the hostile corpus is graded on notebook 1 only


@dataclass(frozen=True)
class Case:
    name: str
    tries: str
    score: float  # the autograded points of notebook 1 (out of 10)
    code: dict = field(default_factory=dict)  # module file -> code appended to it
    flags: frozenset = frozenset()
    report: tuple = ()  # fragments that must appear in the student's report lines
    edit: str = ""  # name of a function of corpus.py (or imported into it) that damages the submission folder
