"""Feedback reports: one self-contained HTML page per student.

Stock nbgrader feedback renders the autograded notebook, hidden tests included. This
report is built from parts instead: the scores from the gradebook, for each failed
check only its error message from the clean check (never a traceback, which quotes the code around the
failure), the *released* version of each test cell (the visible checks, which the
student already has), the student's written answers and their figures.

Everything on the page that a student could have influenced (their id, messages of failed
checks, which quote the student's exceptions, written answers, error outputs, figures) is
escaped or validated: text goes through ``html.escape``, figures are shown only if
``outputs.clean_image`` accepts them (real PNG/JPEG, size-limited, re-encoded base64) and
only up to ``MAX_FIGURE_BYTES`` per page. The page has no script of its own and a
Content-Security-Policy that forbids any (``default-src 'none'``): even a mistake here
could not run code in the reader's browser.
"""

from __future__ import annotations

import html
from pathlib import Path

from .autograding import load_result
from .grading import CellGrade, Workspace
from .notebooks import read_notebook
from .outputs import IMAGE_TYPES, InvalidImage, clean_image
from .paths import ASSIGNMENT_ID

MAX_MESSAGE = 1500
MAX_ANSWER = 20_000  # characters of a written answer shown
MAX_FIGURE_BYTES = 10_000_000  # all figures of one page, as base64

#: No script, no frames, no fetches: only inline styles and data: images (the figures).
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .3rem .6rem; border-bottom: 1px solid #eee; }
th { text-align: left; } .full { color: #1a7f37; } .zero { color: #b42318; } .part { color: #9a6700; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; font-size: .85rem; }
.message { background: #fff4f4; border-left: 3px solid #b42318; }
figure { display: inline-block; margin: .5rem; } img { max-width: 28rem; border: 1px solid #ddd; }
"""


def _score_class(grade: CellGrade) -> str:
    if grade.score is None:
        return "part"
    return "full" if grade.score == grade.max_score else ("zero" if grade.score == 0 else "part")


def _error_message(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            text = f"{output.ename}: {output.evalue}"
            return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " ..."
        if output.output_type == "stream" and output.name == "stderr":
            return "Printed to stderr (counts as a failure): " + output.text[:MAX_MESSAGE]
    return None


def _cells_by_grade_id(nb) -> dict:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def _figures(nb) -> tuple[list[tuple[str, str]], int]:
    """(MIME type, clean base64) of each valid figure outside the test cells, and how many were left out."""
    images, omitted = [], 0
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {}) if isinstance(output, dict) else {}
            mime = next((m for m in IMAGE_TYPES if m in data), None)
            if mime is None:
                continue
            try:
                images.append((mime, clean_image(mime, data[mime])))
            except InvalidImage:
                omitted += 1
    return images, omitted


def render_student_report(workspace: Workspace, student: str) -> str:
    grades = workspace.grades(student)
    result = load_result(workspace.root, student)
    messages = {(c.notebook, c.grade_id): c.message for c in result.cells} if result else {}
    release = workspace.root / "release" / ASSIGNMENT_ID
    autograded = workspace.autograded_dir(student)
    earned = sum(g.score or 0.0 for g in grades)
    possible = sum(g.max_score for g in grades)
    pending = sum(g.max_score for g in grades if g.score is None)
    figure_budget = MAX_FIGURE_BYTES
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{CONTENT_SECURITY_POLICY}\">",
        f"<title>Feedback: {html.escape(student)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Feedback for {html.escape(student)}</h1>",
        f"<p><strong>{earned:g} / {possible:g} points</strong>"
        + (f" ({pending:g} points of written answers still to be graded)" if pending else "")
        + "</p>",
    ]
    for notebook in sorted({g.notebook for g in grades}):
        nb_grades = [g for g in grades if g.notebook == notebook]
        released = _cells_by_grade_id(read_notebook(release / f"{notebook}.ipynb"))
        graded_path = autograded / f"{notebook}.ipynb"
        graded_nb = read_notebook(graded_path) if graded_path.exists() else None
        graded_cells = _cells_by_grade_id(graded_nb) if graded_nb else {}
        nb_earned = sum(g.score or 0.0 for g in nb_grades)
        parts.append(f"<h2>{html.escape(notebook)}: {nb_earned:g} / {sum(g.max_score for g in nb_grades):g}</h2>")
        if graded_nb is None:
            parts.append("<p class='zero'>This notebook was not submitted.</p>")
        parts.append("<table><tr><th>question</th><th>kind</th><th>score</th></tr>")
        for grade in nb_grades:
            score = "awaiting grading" if grade.score is None else f"{grade.score:g} / {grade.max_score:g}"
            parts.append(
                f"<tr><td>{html.escape(grade.grade_id)}</td><td>{html.escape(grade.kind)}</td>"
                f"<td class='{_score_class(grade)}'>{score}</td></tr>"
            )
        parts.append("</table>")
        for grade in nb_grades:
            cell = graded_cells.get(grade.grade_id)
            if grade.kind == "autograded" and grade.score != grade.max_score:
                message = messages.get((notebook, grade.grade_id)) or (
                    _error_message(cell) if cell is not None else "The cell was missing from your notebook."
                )
                parts.append(f"<h3>{html.escape(grade.grade_id)}: what went wrong</h3>")
                parts.append(f"<pre class='message'>{html.escape(message or 'The check did not pass.')}</pre>")
                visible = released.get(grade.grade_id)
                if visible is not None:
                    parts.append("<p>The visible part of this check (the hidden part tests other inputs):</p>")
                    parts.append(f"<pre>{html.escape(visible.source)}</pre>")
            elif grade.kind == "manual" and cell is not None:
                parts.append(f"<h3>{html.escape(grade.grade_id)}: your answer</h3>")
                answer = cell.source if len(cell.source) <= MAX_ANSWER else cell.source[:MAX_ANSWER] + " ..."
                parts.append(f"<pre>{html.escape(answer)}</pre>")
        if graded_nb is not None:
            figures, omitted = _figures(graded_nb)
            shown = []
            for mime, data in figures:
                if len(data) > figure_budget:
                    omitted += 1
                    continue
                figure_budget -= len(data)
                shown.append(f'<figure><img alt="figure {len(shown) + 1}" src="data:{mime};base64,{data}"></figure>')
            if shown or omitted:
                parts.append("<h3>Your figures</h3>")
                parts += shown
            if omitted:
                parts.append(f"<p>{omitted} figure(s) not shown: not a valid PNG or JPEG image, or too large.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_feedback(workspace: Workspace, students: list[str]) -> list[Path]:
    """Write ``feedback/<student>/gmm_em/feedback.html`` for each student; return the paths."""
    written = []
    for student in students:
        target = workspace.root / "feedback" / student / ASSIGNMENT_ID / "feedback.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_student_report(workspace, student), encoding="utf-8")
        written.append(target)
    return written
