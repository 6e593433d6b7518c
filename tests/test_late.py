"""Late work (issue 15): nbgrader's late-penalty plugin, its due date and lateness, applied to the scores.

A gradebook of nbgrader's own with a due date and three submissions (on time, a day and a half late, ten days
late), and the penalty plugins configured as an instructor would in ``nbgrader_config.py``.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from traitlets.config import Config

from gmm_course.environment import use_this_environment
from gmm_course.late import FractionPerDayPenalty, bounded, late_config, lateness, penalty_plugin, set_due_date
from gmm_course.paths import ASSIGNMENT_ID, COURSE_ID

DUE = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
SUBMITTED = {"ann": DUE - timedelta(hours=2), "bob": DUE + timedelta(hours=36), "cy": DUE + timedelta(days=10)}
SCORES = {"ann": {"01": 8.0, "02": 2.0}, "bob": {"01": 8.0, "02": 2.0}, "cy": {"01": 3.0}}


@pytest.fixture
def db_url(tmp_path) -> str:
    use_this_environment()  # nbgrader creates a gradebook with this environment's alembic
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, COURSE_ID) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT_ID)
        for student, when in SUBMITTED.items():
            gradebook.update_or_create_student(student)
            with warnings.catch_warnings():  # nbgrader's add_submission trips a harmless SQLAlchemy warning
                warnings.simplefilter("ignore")
                gradebook.update_or_create_submission(ASSIGNMENT_ID, student, timestamp=when)
    set_due_date(url, DUE)
    return url


def _plugin(**settings):
    config = Config()
    for key, value in settings.items():
        section, name = key.split("__")
        config[section][name] = value
    return penalty_plugin(config)


def test_no_penalty_is_configured_by_default(db_url):
    found = lateness(db_url, list(SUBMITTED), SCORES, _plugin())
    assert found["bob"].seconds_late == 36 * 3600 and found["bob"].penalty == 0
    assert found["bob"].describe() == "submitted 1 d 12 h late (no penalty configured)"


def test_on_time_costs_nothing(db_url):
    plugin = _plugin(
        AssignLatePenalties__plugin_class=FractionPerDayPenalty, FractionPerDayPenalty__fraction_per_day=0.1
    )
    found = lateness(db_url, ["ann"], SCORES, plugin)["ann"]
    assert (found.seconds_late, found.penalty) == (0, 0) and found.describe() == "submitted on time"


def test_late_with_a_penalty_per_started_day(db_url):
    plugin = _plugin(
        AssignLatePenalties__plugin_class=FractionPerDayPenalty, FractionPerDayPenalty__fraction_per_day=0.1
    )
    found = lateness(db_url, ["bob"], SCORES, plugin)["bob"]
    assert found.penalty == pytest.approx(0.2 * 8.0 + 0.2 * 2.0)  # two started days, per notebook
    assert found.describe() == "submitted 1 d 12 h late: late penalty 2 points"


def test_nbgrader_zero_method_and_the_penalty_never_exceeds_the_score(db_url):
    zero = _plugin(LateSubmissionPlugin__penalty_method="zero")
    assert lateness(db_url, ["bob"], SCORES, zero)["bob"].penalty == 10.0  # all of it, no more
    steep = _plugin(
        AssignLatePenalties__plugin_class=FractionPerDayPenalty, FractionPerDayPenalty__fraction_per_day=0.5
    )
    cy = lateness(db_url, ["cy"], SCORES, steep)["cy"]
    assert cy.penalty == 3.0 and SCORES["cy"]["01"] - cy.penalty >= 0  # ten days at 50 % a day: the score, no more


def test_a_penalty_is_bounded_as_nbgrader_bounds_it():
    assert bounded(None, 5.0) == 0.0 and bounded(-2.0, 5.0) == 0.0
    assert bounded(7.0, 5.0) == 5.0 and bounded(2.0, 5.0) == 2.0
    assert bounded(3.0, -1.0) == 0.0  # a negative score (negative extra credit) is never made lower still


def test_an_extension_granted_in_nbgrader_counts(db_url):
    with Gradebook(db_url, COURSE_ID) as gradebook:
        gradebook.grant_extension(ASSIGNMENT_ID, "bob", days=2)
    plugin = _plugin(LateSubmissionPlugin__penalty_method="zero")
    assert lateness(db_url, ["bob"], SCORES, plugin)["bob"].penalty == 0


def test_the_plugin_is_read_from_nbgrader_config(tmp_path, db_url):
    extra = tmp_path / "late_settings.py"
    extra.write_text(
        "c = get_config()  # noqa: F821\n"
        "c.AssignLatePenalties.plugin_class = 'gmm_course.late.FractionPerDayPenalty'\n"
        "c.FractionPerDayPenalty.fraction_per_day = 0.25\n"
    )
    plugin = penalty_plugin(late_config(tmp_path, extra))
    assert isinstance(plugin, FractionPerDayPenalty) and plugin.fraction_per_day == 0.25
    assert lateness(db_url, ["bob"], SCORES, plugin)["bob"].penalty == pytest.approx(0.5 * 10.0)
    # The course folder's own nbgrader_config.py is read too.
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\nc.LateSubmissionPlugin.penalty_method = 'zero'\n"
    )
    assert penalty_plugin(late_config(tmp_path)).penalty_method == "zero"


# End to end: two students graded on notebook 1, one late; export (CSV, Canvas, summary page) and feedback.


@pytest.mark.slow
def test_export_and_feedback_show_the_late_penalty(tmp_path):
    import csv
    import shutil
    import tempfile

    from gmm_course.autograding import autograde_class
    from gmm_course.feedback import render_student_report
    from gmm_course.grading import Workspace
    from gmm_course.paths import REFERENCE_PACKAGE_DIR
    from gmm_course.pipeline import GradingOptions

    from .conftest import gmm_course

    workspace = Workspace(tmp_path / "course")
    workspace.prepare()
    release = workspace.root / "release" / ASSIGNMENT_ID
    for student, when in (("ann", DUE - timedelta(hours=1)), ("bob", DUE + timedelta(hours=5))):
        folder = tmp_path / "submissions" / student
        shutil.copytree(release, folder, ignore=shutil.ignore_patterns("gmm_student"))
        shutil.copytree(REFERENCE_PACKAGE_DIR, folder / "gmm_student", ignore=shutil.ignore_patterns("__pycache__"))
        (folder / "gmm_student" / "testing.py").unlink()
        workspace.submit(student, folder, when)
    scratch = Path(tempfile.mkdtemp(prefix="gmm-late-"))  # short: the kernel's unix sockets live in it
    try:
        options = GradingOptions(cell_timeout=30, budget=300, notebooks=("01_",), scratch_dir=str(scratch))
        outcomes = autograde_class(workspace, ["ann", "bob"], progress=False, options=options, jobs=1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert [o.status for o in outcomes] == ["graded", "graded"], [o.error for o in outcomes]
    (workspace.root / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        "c.AssignLatePenalties.plugin_class = 'gmm_course.late.FractionPerDayPenalty'\n"
        "c.FractionPerDayPenalty.fraction_per_day = 0.25\n"
    )
    run = gmm_course("export", "--work-dir", workspace.root, "--format", "canvas", "--due", "2026-12-01 17:00",
                     "--lms-assignment-id", "77")  # fmt: skip
    assert "late work: 1 student(s) submitted late (bob)" in run.stdout
    with open(workspace.root / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    earned = float(rows["bob"]["total"])
    assert earned > 0 and rows["ann"]["late_penalty"] == "0" and rows["bob"]["hours_late"] == "5.00"
    assert float(rows["bob"]["late_penalty"]) == pytest.approx(0.25 * earned)
    assert float(rows["bob"]["total_after_penalty"]) == pytest.approx(0.75 * earned)
    with open(workspace.root / "grades_canvas.csv", newline="", encoding="utf-8") as handle:
        canvas = list(csv.reader(handle))
    assert canvas[0][-1] == "GMM EM course (77)" and canvas[1][0] == "Points Possible"
    # Written answers are not graded by hand yet: nobody gets a partial total on the platform, and both are named.
    assert [row[-1] for row in canvas[2:]] == ["", ""] and "NOTE 2 student(s) have points still to grade" in run.stdout
    assert (workspace.root / "grades_summary.html").stat().st_size > 10_000
    page = render_student_report(workspace, "bob")
    assert "Submitted 5 h late: late penalty" in page and "Your total after the penalty" in page
    assert "late penalty" not in render_student_report(workspace, "ann")
