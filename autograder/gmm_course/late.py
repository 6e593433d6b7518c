"""Late work: nbgrader's own late-submission penalty, applied to the gradebook's scores.

nbgrader's mechanism, used here as it is:

- the *due date* is the assignment's ``duedate`` in the gradebook (nbgrader's ``Assignment.duedate``), set in
  Formgrader ("Manage Assignments", the due date of ``gmm_em``) or with
  ``nbgrader db assignment add gmm_em --duedate "2026-12-01 17:00:00 UTC"`` in the course folder; an extension
  for one student is nbgrader's too (``Gradebook.grant_extension``);
- *how late* a submission is comes from nbgrader's ``Submission.total_seconds_late``: its timestamp (the
  platform's submission time, recorded by ``gmm-course import``) minus the due date and any extension;
- the *penalty* is computed by the plugin nbgrader's ``AssignLatePenalties`` preprocessor is configured with
  (``c.AssignLatePenalties.plugin_class``, default ``nbgrader.plugins.LateSubmissionPlugin`` whose
  ``c.LateSubmissionPlugin.penalty_method`` is ``'none'`` or ``'zero'``), called per notebook with the notebook's
  score, and bounded as nbgrader bounds it (``AssignLatePenalties._check_late_penalty``: never below 0, never
  above the notebook's score, so a total never becomes negative).

The grader does not run nbgrader's autograde converter (the clean check decides the scores), so the penalty is
applied here, when grades are read for export and feedback. The settings are read from the course's
``autograder/nbgrader_config.py`` and, if there is one, the course folder's own ``nbgrader_config.py``.
:class:`FractionPerDayPenalty` is a plugin of this course for the common rule "so much of the score per day".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float
from traitlets.config import Config

from .paths import ASSIGNMENT_ID, COURSE_ID, NBGRADER_CONFIG

DAY_SECONDS = 86_400.0


class FractionPerDayPenalty(LateSubmissionPlugin):
    """A late-penalty plugin: ``fraction_per_day`` of the notebook's score for each day or part of a day late.

    Configure it in ``nbgrader_config.py``::

        c.AssignLatePenalties.plugin_class = "gmm_course.late.FractionPerDayPenalty"
        c.FractionPerDayPenalty.fraction_per_day = 0.1   # 10 % a day: 3 hours late costs 10 %, 25 hours 20 %
    """

    fraction_per_day = Float(0.1, help="Share of the score taken for each started day late (0 to 1).").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        if total_seconds_late <= 0:
            return None
        days = math.ceil(total_seconds_late / DAY_SECONDS)
        return score * min(1.0, max(0.0, self.fraction_per_day) * days)


@dataclass(frozen=True)
class Lateness:
    """How late a student's submission is and the points it costs (0 if on time or no penalty is configured)."""

    student: str
    seconds_late: float
    penalty: float  # points, summed over notebooks; 0 <= penalty <= the points earned
    due: datetime | None = None
    submitted: datetime | None = None

    def describe(self) -> str:
        """One sentence for the instructor and the student."""
        if self.seconds_late <= 0:
            return "submitted on time" if self.due else "no due date set"
        late = _duration(self.seconds_late)
        if self.penalty:
            return f"submitted {late} late: late penalty {self.penalty:g} points"
        return f"submitted {late} late (no penalty configured)"


def _duration(seconds: float) -> str:
    days, rest = divmod(int(round(seconds)), 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes)
    return " ".join(parts) or f"{seconds:.0f} s"


def late_config(root: Path, extra: Path | None = None) -> Config:
    """The course's nbgrader settings for late work: ``autograder/nbgrader_config.py``, then the course folder's
    ``nbgrader_config.py`` (if any), then ``extra`` (tests), each over the one before."""
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    for path in (NBGRADER_CONFIG, Path(root) / "nbgrader_config.py", extra):
        if path is not None and Path(path).is_file():
            config.merge(PyFileConfigLoader(Path(path).name, path=str(Path(path).parent)).load_config())
    return config


def penalty_plugin(config: Config):
    """The plugin nbgrader's ``AssignLatePenalties`` makes from ``config`` (``plugin_class``, its own settings)."""
    from nbgrader.preprocessors import AssignLatePenalties

    assigner = AssignLatePenalties(config=config)
    assigner.init_plugin()
    return assigner.plugin_inst


def bounded(penalty: float | None, score: float) -> float:
    """nbgrader's bounds on a notebook's penalty (``_check_late_penalty``): none is 0, at least 0, at most the score."""
    if penalty is None:
        return 0.0
    return float(min(max(penalty, 0.0), max(score, 0.0)))


def lateness(
    db_url: str, students: list[str], notebook_scores: dict[str, dict[str, float]], plugin
) -> dict[str, Lateness]:
    """Each student's :class:`Lateness`: nbgrader's ``total_seconds_late`` and the plugin's penalty per notebook.

    ``notebook_scores``: ``{student: {notebook: points earned}}`` (pending cells count nothing).
    """
    from nbgrader.api import Gradebook, MissingEntry

    found = {}
    with Gradebook(db_url, COURSE_ID) as gradebook:
        for student in students:
            try:
                submission = gradebook.find_submission(ASSIGNMENT_ID, student)
            except MissingEntry:
                found[student] = Lateness(student, 0.0, 0.0)
                continue
            seconds = float(submission.total_seconds_late)
            penalty = 0.0
            if seconds > 0:
                for score in notebook_scores.get(student, {}).values():
                    penalty += bounded(plugin.late_submission_penalty(student, score, seconds), score)
            found[student] = Lateness(student, seconds, penalty, submission.duedate, submission.timestamp)
    return found


def class_lateness(workspace, data) -> dict[str, Lateness]:
    """:func:`lateness` of the students of ``data`` (an :class:`.export.ClassGrades`) in ``workspace``."""
    if not data.students:
        return {}  # an empty class: nothing is late, and there may be no gradebook yet
    scores = {s: {nb: data.notebook_total(s, nb) for nb in data.notebooks} for s in data.students}
    plugin = penalty_plugin(late_config(workspace.root))
    return lateness(workspace.database_url, data.students, scores, plugin)


def set_due_date(db_url: str, due: datetime) -> None:
    """Record the assignment's due date in the gradebook (what Formgrader's "Manage Assignments" does)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, COURSE_ID) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT_ID, duedate=due)


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``2026-12-01 17:00``, ``2026-12-01T17:00:00+01:00``) in UTC; without a zone it is UTC."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time (ISO 8601, e.g. 2026-12-01 17:00)") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def student_lateness(workspace, student: str, grades) -> Lateness:
    """:func:`lateness` of one student from their :class:`.grading.CellGrade` list (for the feedback page)."""
    scores: dict[str, float] = {}
    for grade in grades:
        scores[grade.notebook] = scores.get(grade.notebook, 0.0) + (grade.score or 0.0)
    plugin = penalty_plugin(late_config(workspace.root))
    return lateness(workspace.database_url, [student], {student: scores}, plugin)[student]
