"""nbgrader configuration for running ``nbgrader`` by hand in a course directory.

The ``gmm-course`` command builds exactly this configuration itself (see
``gmm_course/config.py``); this file is for instructors who want plain nbgrader:

    cd .grading && nbgrader autograde gmm_em --config ../autograder/nbgrader_config.py
"""

from pathlib import Path

from gmm_course.config import nbgrader_config

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
c.merge(nbgrader_config(Path.cwd()))
