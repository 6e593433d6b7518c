"""export's HTML summary page (issue 15): the class in four pictures, inert in a real browser.

A class built in memory (``ClassGrades``) with result files and grading times as ``autograde`` writes them; one
failure message is hostile markup, as a student's exception message can be.
"""

from __future__ import annotations

import base64
import json
import re
import shutil

import pytest

from gmm_course.export import ClassGrades
from gmm_course.grade_stats import collect_stats, failures, render_summary, write_summary
from gmm_course.grading import CellGrade
from gmm_course.pipeline import CellResult, SubmissionResult

NB = "01_em_1d_old_faithful"
CELLS = [(NB, "t_pdf", "autograded", 2.0), (NB, "t_e_step", "autograded", 3.0), (NB, "a_1", "manual", 2.0)]
HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"
SCORES = {  # student: (t_pdf, t_e_step, a_1)
    "ann": (2.0, 3.0, 2.0),
    "bob": (0.0, 3.0, 1.0),
    "cy": (0.0, 0.0, None),
    "dee": (2.0, 0.0, 0.5),
}
MESSAGES = {"t_pdf": "AssertionError: normal_pdf: rows do not integrate to 1", "t_e_step": HOSTILE}


@pytest.fixture
def course(tmp_path):
    grades, seconds = {}, {}
    (tmp_path / "results").mkdir()
    for number, (student, scores) in enumerate(SCORES.items()):
        grades[student] = {
            (NB, gid): CellGrade(NB, gid, kind, score, max_score, needs_manual_grade=score is None)
            for (_, gid, kind, max_score), score in zip(CELLS, scores, strict=True)
        }
        cells = [
            CellResult(
                NB, gid, max_score, score, "" if score == max_score else MESSAGES[gid], "passed", None, True, False
            )  # fmt: skip
            for (_, gid, kind, max_score), score in zip(CELLS, scores, strict=True)
            if kind == "autograded"
        ]
        result = SubmissionResult(student, cells, [], [], [], "jail", {"total": 10.0 + number})
        (tmp_path / "results" / f"{student}.json").write_text(json.dumps(result.to_json()))
        seconds[student] = {"hash": "x", "status": "graded", "seconds": 10.0 + number}
    (tmp_path / "grading_state.json").write_text(json.dumps(seconds))
    return tmp_path, ClassGrades(sorted(SCORES), CELLS, grades)


def test_the_stats_come_from_the_result_files_and_the_grading_state(course):
    root, data = course
    stats = collect_stats(root, data.students)
    assert stats.seconds == {"ann": 10.0, "bob": 11.0, "cy": 12.0, "dee": 13.0}
    top = failures(data, stats)
    assert [(name, count) for name, count, _ in top] == [(f"{NB}:t_e_step", 2), (f"{NB}:t_pdf", 2)]
    assert top[1][2] == [(MESSAGES["t_pdf"], 2)]


def test_the_page_has_four_figures_and_escapes_every_message(course):
    root, data = course
    page = render_summary(data, collect_stats(root, data.students))
    images = re.findall(r"<img[^>]*src=\"(data:image/png;base64,[^\"]+)\"", page)
    assert len(images) == 4, len(images)
    for image in images:
        assert base64.b64decode(image.split(",", 1)[1]).startswith(b"\x89PNG")
    assert "<script" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;" in page and "Content-Security-Policy" in page
    assert "rows do not integrate to 1 (2x)" in page
    assert "1 of 4 students still need hand grading" in page  # cy's written answer


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium on PATH (Debian: apt-get install chromium)")
def test_the_page_runs_no_script_and_shows_its_figures_in_chromium(course, tmp_path):
    from .test_browser import assert_inert, load_in_chromium

    root, data = course
    path = write_summary(root, data)
    dom = load_in_chromium(path.read_text(encoding="utf-8"), tmp_path, screenshot=tmp_path / "summary.png")
    assert_inert(dom)
    assert (tmp_path / "summary.png").stat().st_size > 20_000  # the figures drew
