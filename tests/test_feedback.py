"""The student's feedback page reads well (issue 12, parts 2 and 6) and stays inert (issue 11, property 4).

Two layers: :mod:`gmm_course.render` (Markdown and maths to sanitised HTML) is tested on its
own, fast; the page is tested on a workspace whose gradebook and autograded notebook are
written the way the grader and Formgrader write them (nbgrader's Gradebook API: automatic
scores, a manual score and comment; a notebook whose cells failed, timed out and killed the
kernel), without running any kernel. The browser-level checks (no script runs, nothing
overflows a phone's width) are in tests/test_browser.py.
"""

from __future__ import annotations

import base64
import html
import json
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from gmm_course import feedback
from gmm_course.autograding import results_dir
from gmm_course.grading import Workspace
from gmm_course.paths import ASSIGNMENT_ID, COURSE_ID
from gmm_course.pipeline import SubmissionResult
from gmm_course.render import HTML_TAGS, MATHML_TAGS, render_heading, render_markdown, sanitise

NOTEBOOK = "01_em_1d_old_faithful"
STUDENT = "sam_student"
COMMENT = "Good start: say why the split is soft. <b>not bold</b>"
ANSWER = (
    "**(a)** The split follows Bayes: $r_{nk} \\propto \\pi_k \\mathcal{N}(x_n \\mid \\mu_k, \\sigma_k^2)$.\n\n"
    "$$\\ell(\\theta) = \\sum_{n=1}^N \\log \\sum_k \\pi_k \\mathcal{N}(x_n \\mid \\mu_k, \\sigma_k^2)$$\n\n"
    "<script>document.title='pwned'</script> <img src=x onerror=alert(1)> [link](javascript:alert(1))\n"
)
LONG_MESSAGE = "ValueError: responsibilities must sum to one along each row " + "x" * 400
HIDDEN_EVENT = "the student's code wrote to stderr: a clean-check detail"

# ---------------------------------------------------------------------------------------------------------------
# render.py: Markdown, maths, sanitising


class _Markup(HTMLParser):
    """The tags and attribute names of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}


def test_a_simple_formula_becomes_mathml_with_no_dollar_left():
    rendered = render_markdown("The weight $\\pi_k$ and $$\\sum_k \\pi_k = 1$$")
    assert rendered.count("<math") == 2 and 'display="block"' in rendered
    assert "$" not in rendered and "<mi>π</mi>" in rendered


def test_maths_that_does_not_convert_is_shown_as_its_source():
    rendered = render_markdown("broken: $\\frac{1}{$ and long: $" + "x+" * 1500 + "x$")
    assert "<code>" in rendered and "<math" not in rendered


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "[a](javascript:alert(1))",
        "<javascript:alert(1)>",
        "![x](javascript:alert(1))",
        "```mermaid\n<img src=x onerror=alert(1)>\n```",
        "$\\text{<img src=x onerror=alert(1)>}$",
        "$$\\text{</math><img src=x onerror=alert(1)>}$$",
        "<math><mtext><script>alert(1)</script></mtext><maction actiontype='statusline' href='javascript:1'/></math>",
        "<style>body{display:none}</style><a href='https://example.org'>x</a><iframe src=x></iframe>",
    ],
)
def test_rendered_markdown_holds_no_markup_that_loads_or_runs(hostile):
    rendered = render_markdown(f"text before {hostile} text after")
    parsed = _Markup()
    parsed.feed(rendered)
    assert parsed.tags <= HTML_TAGS | MATHML_TAGS, rendered
    assert not parsed.tags & {"script", "img", "svg", "iframe", "style", "a", "maction"}, rendered
    assert not parsed.attributes & {"href", "src", "style", "onerror", "onload", "id", "class"}, rendered
    assert "text before" in rendered  # the answer is still shown, its markup as text


def test_the_sanitiser_is_an_allow_list():
    assert sanitise("<p id=x class=y style='color:red' onclick=1>a</p><custom>b</custom>") == "<p>a</p>b"


def test_a_heading_renders_inline():
    assert render_heading("4. Task 2 — the E-step, `e_step_1d` ($r_{nk}$)").startswith(
        "4. Task 2 — the E-step, <code>e_step_1d</code> (<math"
    )


# ---------------------------------------------------------------------------------------------------------------
# The page, on a gradebook written as the grader and Formgrader write it


def _png(width: int = 6, height: int = 4) -> str:
    rows = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _autograded_notebook(released: Path) -> nbformat.NotebookNode:
    """Notebook 1 as the kernel stage leaves it for a student whose E-step raises, with a hang and a crash later."""
    nb = nbformat.read(str(released), as_version=4)
    new = nbformat.v4.new_output
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    figure = new("display_data", data={"image/png": _png().decode(), "text/plain": "<Figure>"})
    by_id["nb01_histogram"].outputs = [figure]
    by_id["nb01_e_step"].outputs = [new("error", ename="ValueError", evalue=LONG_MESSAGE[12:], traceback=[])]
    by_id["nb01_fit_run"].outputs = [new("error", ename="ValueError", evalue="e_step_1d failed", traceback=[])]
    by_id["nb01_fit_plot"].outputs = [figure, new("error", ename="NameError", evalue="name 'fit'", traceback=[])]
    timeout = new("error", ename="CellTimeoutError", evalue="your code was stopped by the grader: it ran past 8 s")
    by_id["nb01_convergence"].outputs = [timeout]
    died = new("error", ename="KernelDied", evalue="the kernel died while running your code in this cell")
    by_id["nb01_floor_experiment"].outputs = [died]
    by_id["nb01_a1"].source = ANSWER
    return nb


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    """A course with one student: automatic scores, one hand grade with a Formgrader comment, one answer pending."""
    from nbgrader.api import Gradebook

    workspace = Workspace(tmp_path_factory.mktemp("feedback") / "course")
    workspace.prepare()
    released = workspace.root / "release" / ASSIGNMENT_ID / f"{NOTEBOOK}.ipynb"
    target = workspace.autograded_dir(STUDENT)
    target.mkdir(parents=True)
    nbformat.write(_autograded_notebook(released), str(target / f"{NOTEBOOK}.ipynb"))
    with Gradebook(workspace.database_url, COURSE_ID) as gradebook:
        gradebook.add_student(STUDENT)
        gradebook.add_submission(ASSIGNMENT_ID, STUDENT)
        notebook = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT_ID, STUDENT)
        for grade in notebook.grades:
            if grade.cell.cell_type == "code":  # as autograde writes a test cell's result
                grade.auto_score = 0.0 if grade.name == "nb01_e_step" else grade.max_score
                grade.needs_manual_grade = False
        grade = gradebook.find_grade("nb01_a1", NOTEBOOK, ASSIGNMENT_ID, STUDENT)  # as Formgrader saves a grade
        grade.manual_score, grade.needs_manual_grade = 1.5, False
        gradebook.find_comment("nb01_a1", NOTEBOOK, ASSIGNMENT_ID, STUDENT).manual_comment = COMMENT
        gradebook.find_comment("nb01_a2", NOTEBOOK, ASSIGNMENT_ID, STUDENT).auto_comment = "No response."
        gradebook.db.commit()
    result = SubmissionResult(
        STUDENT,
        [],
        [],
        [],
        [
            f"{NOTEBOOK}.ipynb: kernel died in cell 37; restarted for the following cells",
            f"{NOTEBOOK}.ipynb: cell 24: it ran past 8 s; it was interrupted",
            f"{NOTEBOOK}.ipynb: {HIDDEN_EVENT}",
        ],
        "none",
    )
    results_dir(workspace.root).mkdir(exist_ok=True)
    (results_dir(workspace.root) / f"{STUDENT}.json").write_text(json.dumps(result.to_json()))
    return workspace


@pytest.fixture(scope="module")
def page(workspace) -> str:
    return feedback.render_student_report(workspace, STUDENT)


def _notebook_part(page: str) -> str:
    """The part of the page about notebook 1 (up to the next notebook's heading)."""
    return page.split("<h2>")[1]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
class TestThePage:
    def test_failure_messages_wrap(self, page):
        style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
        rule = re.search(r"(?:^|\})\s*pre\s*\{([^}]*)\}", style).group(1)
        assert "white-space: pre-wrap" in rule and "overflow-wrap: anywhere" in rule
        assert "overflow-x: auto" not in rule  # no scrollbar to hide the hint behind
        assert "width=device-width" in page  # a phone lays the page out at its own width
        assert html.escape(LONG_MESSAGE) in page and "what went wrong" in page

    def test_the_graders_comments_are_shown_beside_their_question(self, page):
        part = _notebook_part(page)
        question_1 = part[part.index("Question 1") : part.index("Question 2")]
        assert html.escape(COMMENT) in question_1 and "<b>not bold</b>" not in page
        question_2 = part[part.index("Question 2") :].split("</section>")[0]
        assert "No response." in question_2
        assert "1.5 / 2" in question_1 and "awaiting grading" in question_2

    def test_questions_are_named_by_their_heading_and_show_their_text(self, page):
        part = _notebook_part(page)
        assert "4. Task 2 — the E-step, <code>e_step_1d</code> (2 points)" in part
        assert "Question 1 (2 points, graded by hand)" in part
        assert "The 2.8-minute eruption gets responsibilities" in part  # the question's text, from the release
        assert part.startswith("Notebook 1 — EM for a one-dimensional Gaussian mixture")
        # in the notebook's order: the E-step check before the written answers
        assert part.index("Task 2 — the E-step") < part.index("Question 1") < part.index("Question 2")

    def test_written_answers_render_their_markdown_and_maths(self, page):
        answer = _notebook_part(page).split("Your answer")[1].split("</section>")[0]
        assert "<strong>(a)</strong>" in answer and answer.count("<math") == 2
        assert "$" not in answer and "\\pi_k" not in answer
        assert "&lt;script&gt;" in answer  # shown as text
        parsed = _Markup()
        parsed.feed(page)
        assert not parsed.tags & {"script", "a", "iframe", "object", "embed", "link"}
        assert not {a for a in parsed.attributes if a.startswith("on")} and "href" not in parsed.attributes

    def test_cells_that_failed_timed_out_or_killed_the_kernel_are_reported(self, page):
        problems = re.search(r"<div class='problems'>(.*?)</div>", page, re.S).group(1)
        assert "stopped with an error: <code>ValueError: e_step_1d failed</code>" in problems
        assert "timed out (your code was stopped by the grader: it ran past 8 s)" in problems
        assert "killed the Python kernel" in problems
        assert "1 later cell(s) also stopped with an error" in problems  # the NameError that followed
        assert "kernel died in cell 37; restarted for the following cells" in problems  # the kernel stage's events
        assert HIDDEN_EVENT not in page  # only the kernel stage's own events are the student's business

    def test_figures_have_captions(self, page):
        captions = re.findall(r"<figcaption>(.*?)</figcaption>", page, re.S)
        assert len(captions) == 2
        assert captions[0].startswith("Figure 1, from the cell after &#8216;1. The data: 272 eruption durations&#8217;")
        assert captions[1].startswith("Figure 2, from the cell after &#8216;8. Fitting two components")
        assert "this cell stopped with an error (see above)" in captions[1]

    def test_the_page_keeps_its_content_security_policy(self, page):
        assert f'content="{feedback.CONTENT_SECURITY_POLICY}"' in page and "default-src 'none'" in page


def test_questions_are_found_before_their_graded_cell():
    from gmm_course.paths import REPO_ROOT

    nb = nbformat.read(str(REPO_ROOT / "course" / f"{NOTEBOOK}.ipynb"), as_version=4)
    found = feedback.questions(nb)
    assert found["nb01_var_floor"].heading == found["nb01_m_step"].heading  # two checks of one task
    assert found["nb01_var_floor"].heading.startswith("5. Task 3 — the M-step")
    assert found["nb01_a1"].heading == "Question 1 (2 points, graded by hand)"
    assert found["nb01_a1"].text and found["nb01_a1"].text[0].lstrip().startswith("(a) The 2.8-minute eruption")
    assert not any(t.startswith("#") for q in found.values() for t in q.text)


def test_a_problem_whose_message_ends_a_sentence_gets_no_second_full_stop():
    assert feedback._sentence("stopped with an error: <code>AssertionError: EM has a bug.</code>") == (
        "stopped with an error: <code>AssertionError: EM has a bug.</code>"
    )
    assert feedback._sentence("stopped with an error: <code>ValueError: e_step_1d failed</code>") == (
        "stopped with an error: <code>ValueError: e_step_1d failed</code>."
    )
