"""nbgrader configuration for running ``nbgrader`` by hand in a course directory.

The ``gmm-course`` command builds exactly this configuration itself (see
``gmm_course/config.py``); this file is for instructors who want plain nbgrader:

    cd .grading && nbgrader autograde gmm_em --config ../autograder/nbgrader_config.py
"""

from pathlib import Path

from gmm_course.config import nbgrader_config

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
c.merge(nbgrader_config(Path.cwd()))

# Late work (read by `gmm-course export` and `feedback`, see gmm_course/late.py): the due date is the gradebook's
# (Formgrader > Manage Assignments, or `gmm-course export --due "2026-12-01 17:00"`); the penalty is nbgrader's
# late-submission plugin. Uncomment one of:
# c.LateSubmissionPlugin.penalty_method = "zero"  # nbgrader's own: a late notebook scores 0
# c.AssignLatePenalties.plugin_class = "gmm_course.late.FractionPerDayPenalty"
# c.FractionPerDayPenalty.fraction_per_day = 0.1  # 10 % of the score for each started day late
