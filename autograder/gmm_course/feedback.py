"""Feedback reports: one self-contained HTML page per student.

Stock nbgrader feedback renders the autograded notebook, hidden tests included. This
report is built from parts instead: the scores from the gradebook and the grader's
comments (Formgrader's manual comment, else nbgrader's automatic one), for each question
its heading and text from the *released* notebook, for each failed check only its error
message from the clean check (never a traceback, which quotes the code around the
failure) and the released version of the test cell (the visible checks, which the
student already has), the student's written answers, their figures with captions, and
every cell of their notebook that stopped with an error, timed out or killed the kernel.

Markdown (the course's text and the written answers) is rendered by :mod:`.render`:
nbconvert's Markdown parser, maths as MathML made on the server (no script, no network),
the result sanitised by an allow-list. Everything else a student could have influenced
(their id, messages of failed checks, which quote the student's exceptions, error
outputs, code, headings they may have edited) is escaped with ``html.escape``; figures
are shown only if ``outputs.clean_image`` accepts them (real PNG/JPEG, size-limited,
re-encoded base64) and only up to ``MAX_FIGURE_BYTES`` per page. The page has no script
of its own and a Content-Security-Policy that forbids any (``default-src 'none'``): even
a mistake here could not run code in the reader's browser.

Long messages wrap (``white-space: pre-wrap; overflow-wrap: anywhere``) and figures
shrink to the page, so nothing needs a horizontal scrollbar at phone width.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from .autograding import load_result
from .grading import CellGrade, Workspace
from .late import student_lateness
from .notebooks import read_notebook
from .outputs import IMAGE_TYPES, InvalidImage, clean_image, strip_control
from .paths import ASSIGNMENT_ID, COURSE_ID
from .render import render_heading, render_markdown

MAX_MESSAGE = 1500
MAX_ANSWER = 20_000  # characters of a written answer shown
MAX_COMMENT = 5_000  # characters of a grader's comment shown
MAX_FIGURE_BYTES = 10_000_000  # all figures of one page, as base64
MAX_QUESTION_CELLS = 3  # markdown cells before a graded cell shown as its question
MAX_PROBLEMS = 20  # failed, timed-out or killed cells listed per notebook

#: No script, no frames, no fetches: only inline styles and data: images (the figures).
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

#: Kernel-stage events (``SubmissionResult.events``) worth telling the student, by what they say.
KERNEL_EVENT = re.compile(r"were not run|no cell of it was run|kernel died|restarted|interrupted|could not restart")

STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; line-height: 1.5; max-width: 52rem; margin: 0 auto; padding: 1rem;
       color: #222; overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; margin: .5rem 0; } h2 { font-size: 1.25rem; margin-top: 2.5rem; border-bottom: 2px solid #ccc; }
h3 { font-size: 1.05rem; margin: 0; } .file, .gid { color: #666; font-size: .85rem; font-weight: normal; }
.question { border: 1px solid #ddd; border-radius: 6px; padding: .6rem .8rem; margin: .8rem 0; }
.question header { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .2rem 1rem; }
.score { font-weight: bold; white-space: nowrap; }
.late { color: #b42318; font-weight: bold; }
.full { color: #1a7f37; } .zero { color: #b42318; } .part { color: #9a6700; } .pending { color: #555; }
pre { background: #f6f8fa; padding: .6rem; font-size: .85rem; white-space: pre-wrap; overflow-wrap: anywhere; }
code { overflow-wrap: anywhere; }
.message { background: #fff4f4; border-left: 3px solid #b42318; }
.comment { background: #eef6ff; border-left: 3px solid #0969da; padding: .4rem .7rem; margin: .5rem 0; }
.comment p { margin: .2rem 0; white-space: pre-wrap; }
.answer { border-left: 3px solid #ccc; padding: 0 .8rem; margin: .5rem 0; }
.problems { background: #fff8e6; border-left: 3px solid #9a6700; padding: .4rem .8rem; margin: .8rem 0; }
details { margin: .4rem 0; } summary { cursor: pointer; color: #0969da; }
.text { border-left: 3px solid #eee; padding: 0 .8rem; }
math[display="block"] { display: block; overflow-x: auto; overflow-y: hidden; max-width: 100%; padding: .2rem 0; }
math:not([display="block"]) { display: inline-block; max-width: 100%; overflow-x: auto; overflow-y: hidden;
  vertical-align: middle; }
figure { margin: 1rem 0; } figcaption { font-size: .9rem; color: #555; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; } td, th { padding: .2rem .5rem; border: 1px solid #ddd; }
"""


@dataclass
class Question:
    """What the released notebook says before a graded cell: its heading and its text (Markdown)."""

    heading: str = ""  # the heading's Markdown, without the leading "#"
    text: list[str] = field(default_factory=list)  # the Markdown of the cells before it, heading line removed


def _heading(source: str) -> str | None:
    """The text of the first line of ``source`` if that line is a Markdown heading."""
    first = source.lstrip("\n").split("\n", 1)[0]
    match = re.match(r"\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", first)
    return match.group(1) if match else None


def _nbgrader(cell: NotebookNode) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
    return meta if isinstance(meta, dict) else {}


def _source(cell: NotebookNode) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(s for s in source if isinstance(s, str))


def questions(nb: NotebookNode) -> dict[str, Question]:
    """For each graded cell of a released notebook, its question: the Markdown cells just before it.

    Walking back from the graded cell over other test cells, up to ``MAX_QUESTION_CELLS``
    course Markdown cells are taken, stopping after one that opens with a heading; if none
    does, the nearest heading above is the question's heading.
    """
    found: dict[str, Question] = {}
    last_heading = ""
    headings: list[str] = []  # the section heading in force at each cell
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not _nbgrader(cell).get("solution"):
            last_heading = _heading(_source(cell)) or last_heading
        headings.append(last_heading)
    for index, cell in enumerate(nb.cells):
        meta = _nbgrader(cell)
        if not meta.get("grade") or not isinstance(meta.get("grade_id"), str):
            continue
        texts, heading = [], None
        for before in range(index - 1, -1, -1):
            other, other_meta = nb.cells[before], _nbgrader(nb.cells[before])
            if other.cell_type == "code" and other_meta.get("grade"):
                continue  # another check of the same task
            if other.cell_type != "markdown" or other_meta.get("solution") or len(texts) == MAX_QUESTION_CELLS:
                break
            source = _source(other)
            heading = _heading(source)
            if heading is not None:
                texts.insert(0, source.lstrip("\n").split("\n", 1)[1] if "\n" in source.lstrip("\n") else "")
                break
            texts.insert(0, source)
        found[meta["grade_id"]] = Question(heading if heading is not None else headings[index], texts)
    return found


def _title(nb: NotebookNode | None) -> str | None:
    """The notebook's first heading (its title), if it has one."""
    for cell in nb.cells if nb is not None else []:
        if cell.cell_type == "markdown" and (heading := _heading(_source(cell))):
            return heading
    return None


def _score_class(grade: CellGrade) -> str:
    if grade.score is None:
        return "pending"
    return "full" if grade.score == grade.max_score else ("zero" if grade.score == 0 else "part")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def _error_message(cell: NotebookNode) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return _cut(f"{output.get('ename', '')}: {output.get('evalue', '')}", MAX_MESSAGE)
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return "Printed to stderr (counts as a failure): " + _cut(str(output.get("text", "")), MAX_MESSAGE)
    return None


def _cells_by_grade_id(nb: NotebookNode) -> dict[str, NotebookNode]:
    return {meta["grade_id"]: c for c in nb.cells if isinstance((meta := _nbgrader(c)).get("grade_id"), str)}


def _sections(nb: NotebookNode) -> list[str]:
    """For each cell, the plain text of the nearest heading above it ("" before the first)."""
    current, found = "", []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            current = _heading(_source(cell)) or current
        found.append(current)
    return found


def _where(section: str, cell: NotebookNode) -> str:
    """Where a cell is, for a reader: the section it is in and its first line of code (escaped HTML)."""
    first = next((line.strip() for line in _source(cell).splitlines() if line.strip()), "")
    place = f"the cell after &#8216;{html.escape(section)}&#8217;" if section else "a cell at the top of the notebook"
    return place + (f" (it starts <code>{html.escape(_cut(first, 80))}</code>)" if first else "")


def _sentence(text: str) -> str:
    """``text`` (HTML) ending with a full stop, unless its visible text already ends a sentence ("a bug.")."""
    visible = re.sub(r"<[^>]*>", "", text).rstrip()
    return text if visible.endswith((".", "!", "?")) else text + "."


def _problem(cell: NotebookNode) -> tuple[str, str] | None:
    """(kind, escaped explanation) if a code cell stopped with an error, timed out or killed the kernel."""
    for output in cell.get("outputs", []):
        if output.get("output_type") != "error":
            continue
        ename = strip_control(str(output.get("ename", "")))
        evalue = html.escape(_cut(strip_control(str(output.get("evalue", ""))), MAX_MESSAGE))
        if ename == "CellTimeoutError":
            return "timed out", f"timed out ({evalue}); the cells after it ran on without what it would have made"
        if ename == "KernelDied":
            return "killed the kernel", (
                f"killed the Python kernel ({evalue}), most often by using too much memory; "
                "the cells after it ran in a fresh kernel, without the variables made before"
            )
        return "stopped with an error", f"stopped with an error: <code>{html.escape(_cut(ename, 200))}: {evalue}</code>"
    return None


def _comments(workspace: Workspace, student: str) -> dict[tuple[str, str], str]:
    """Each comment in the gradebook for the student: Formgrader's manual comment, else nbgrader's automatic one."""
    from nbgrader.api import Gradebook, MissingEntry

    found: dict[tuple[str, str], str] = {}
    with Gradebook(workspace.database_url, COURSE_ID) as gradebook:
        try:
            submission = gradebook.find_submission(ASSIGNMENT_ID, student)
        except MissingEntry:
            return found
        for notebook in submission.notebooks:
            for comment in notebook.comments:
                text = comment.manual_comment or comment.auto_comment
                if text and text.strip():
                    found[(notebook.name, comment.name)] = text.strip()
    return found


def _comment_html(text: str) -> str:
    return (
        "<div class='comment'><strong>Grader's comment</strong>"
        f"<p>{html.escape(_cut(strip_control(text), MAX_COMMENT))}</p></div>"
    )


def _details(summary: str, body: str, *, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{summary}</summary>{body}</details>"


def _question_html(
    grade: CellGrade,
    question: Question,
    comment: str,
    message: str | None,
    answer: str | None,
    visible: str | None,
) -> str:
    """One question's card: heading, score, the grader's comment, and what went wrong or the answer."""
    if grade.score is None:
        score = f"awaiting grading ({grade.max_score:g} points)"
    else:
        score = f"{grade.score:g} / {grade.max_score:g}"
    heading = render_heading(question.heading) if question.heading else html.escape(grade.grade_id)
    parts = [
        "<section class='question'><header>",
        f"<h3>{heading} <span class='gid'>{html.escape(grade.grade_id)}</span></h3>",
        f"<span class='score {_score_class(grade)}'>{score}</span></header>",
    ]
    if comment:
        parts.append(_comment_html(comment))
    text = "\n\n".join(t for t in question.text if t.strip())
    if grade.kind == "manual":
        if text:
            parts.append(_details("The question", f"<div class='text'>{render_markdown(text)}</div>", open_=True))
        if answer is not None:
            parts.append(f"<div class='answer'><p><strong>Your answer</strong></p>{render_markdown(answer)}</div>")
        else:
            parts.append("<p>Your notebook has no answer to this question.</p>")
    elif message is not None:
        parts.append("<p><strong>This is what went wrong:</strong></p>")
        parts.append(f"<pre class='message'>{html.escape(message)}</pre>")
        if text:
            parts.append(_details("The task", f"<div class='text'>{render_markdown(text)}</div>"))
        if visible is not None:
            parts.append(
                _details(
                    "The visible part of this check (the hidden part tests other inputs)",
                    f"<pre>{html.escape(visible)}</pre>",
                )
            )
    parts.append("</section>")
    return "\n".join(parts)


class _FigureBudget:
    """What is left of ``MAX_FIGURE_BYTES`` for the page."""

    def __init__(self) -> None:
        self.left = MAX_FIGURE_BYTES


def _figures_and_problems(nb: NotebookNode, events: list[str], budget: _FigureBudget) -> list[str]:
    """The notebook's run problems (failed, timed-out, killed cells; kernel events) and its figures, captioned."""
    sections = _sections(nb)
    problems: list[str] = []  # timeouts, dead kernels and the first error, in full
    later: list[str] = []  # errors after the first: most often its consequence (a variable it did not make)
    figures: list[str] = []
    omitted = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = _where(sections[index], cell)
        problem = _problem(cell)
        graded = bool(_nbgrader(cell).get("grade"))
        if problem is not None and not graded:  # a test cell's failure is told with its question
            line = f"<li>{_sentence(f'{where[0].upper()}{where[1:]} {problem[1]}')}</li>"
            first_error = problem[0] == "stopped with an error" and not any("with an error" in p for p in problems)
            (problems if problem[0] != "stopped with an error" or first_error else later).append(line)
        if graded:
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {}) if isinstance(output, dict) else {}
            mime = next((m for m in IMAGE_TYPES if m in data), None)
            if mime is None:
                continue
            try:
                image = clean_image(mime, data[mime])
            except InvalidImage:
                omitted += 1
                continue
            if len(image) > budget.left:
                omitted += 1
                continue
            budget.left -= len(image)
            number = len(figures) + 1
            caption = f"Figure {number}, from {where}"
            if problem is not None:
                caption += f"; this cell {problem[0]} (see above), so the figure may be incomplete"
            figures.append(
                f'<figure><img alt="figure {number}" src="data:{mime};base64,{image}">'
                f"<figcaption>{caption}.</figcaption></figure>"
            )
    parts = []
    notes = [f"<li>{html.escape(_cut(strip_control(event), 500))}</li>" for event in events]
    if problems or later or notes:
        listed = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            listed.append(f"<li>... and {len(problems) - MAX_PROBLEMS} more cells.</li>")
        block = "<div class='problems'><h3>While your notebook ran</h3><ul>" + "".join(listed + notes) + "</ul>"
        if later:
            shown = later[:MAX_PROBLEMS] + (
                [f"<li>... and {len(later) - MAX_PROBLEMS} more.</li>"] * (len(later) > MAX_PROBLEMS)
            )
            summary = (
                f"{len(later)} later cell(s) also stopped with an error, often because an earlier cell did not finish"
            )
            block += _details(summary, "<ul>" + "".join(shown) + "</ul>")
        parts.append(block + "</div>")
    if figures or omitted:
        parts.append("<h3>Your figures</h3>")
        parts += figures
    if omitted:
        parts.append(f"<p>{omitted} figure(s) not shown: not a valid PNG or JPEG image, or too large.</p>")
    return parts


def render_student_report(workspace: Workspace, student: str) -> str:
    """The student's feedback page (a complete, self-contained HTML document)."""
    grades = workspace.grades(student)
    result = load_result(workspace.root, student)
    messages = {(c.notebook, c.grade_id): c.message for c in result.cells} if result else {}
    events = result.events if result else []
    comments = _comments(workspace, student)
    release = workspace.root / "release" / ASSIGNMENT_ID
    autograded = workspace.autograded_dir(student)
    earned = sum(g.score or 0.0 for g in grades)
    possible = sum(g.max_score for g in grades)
    pending = sum(g.max_score for g in grades if g.score is None)
    budget = _FigureBudget()
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{CONTENT_SECURITY_POLICY}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Feedback: {html.escape(student)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Feedback for {html.escape(student)}</h1>",
        f"<p><strong>{earned:g} / {possible:g} points</strong>"
        + (f" ({pending:g} points still to be graded)" if pending else "")
        + "</p>",
    ]
    late = student_lateness(workspace, student, grades)
    if late.seconds_late > 0:  # nbgrader's late-penalty plugin (see .late): said before anything else
        after = f" Your total after the penalty: {earned - late.penalty:g} / {possible:g}." if late.penalty else ""
        parts.append(f"<p class='late'>{html.escape(late.describe()[0].upper() + late.describe()[1:])}.{after}</p>")
    for notebook in sorted({g.notebook for g in grades}):
        released_nb = read_notebook(release / f"{notebook}.ipynb")
        released = _cells_by_grade_id(released_nb)
        order = {grade_id: index for index, grade_id in enumerate(released)}  # as the notebook asks them
        nb_grades = sorted(
            (g for g in grades if g.notebook == notebook), key=lambda g: order.get(g.grade_id, len(order))
        )
        asked = questions(released_nb)
        graded_path = autograded / f"{notebook}.ipynb"
        graded_nb = read_notebook(graded_path) if graded_path.exists() else None
        graded_cells = _cells_by_grade_id(graded_nb) if graded_nb else {}
        nb_earned = sum(g.score or 0.0 for g in nb_grades)
        nb_possible = sum(g.max_score for g in nb_grades)
        title = _title(released_nb)
        parts.append(
            f"<h2>{render_heading(title) if title else html.escape(notebook)}: {nb_earned:g} / {nb_possible:g}</h2>"
        )
        parts.append(f"<p class='file'>{html.escape(notebook)}.ipynb</p>")
        if graded_nb is None:
            parts.append("<p class='zero'>This notebook was not submitted.</p>")
        else:
            nb_events = [
                e.split(": ", 1)[1]
                for e in events
                if e.startswith(f"{notebook}.ipynb: ") and KERNEL_EVENT.search(e.split(": ", 1)[1])
            ]
            run_parts = _figures_and_problems(graded_nb, nb_events, budget)
            problems = [p for p in run_parts if p.startswith("<div class='problems'>")]
            parts += problems  # before the questions: a crash early on explains failures further down
        for grade in nb_grades:
            cell = graded_cells.get(grade.grade_id)
            comment = getattr(grade, "comment", "") or comments.get((notebook, grade.grade_id), "")
            if graded_nb is None and not comment:
                continue  # nothing to say about each question of a notebook not submitted (its score is above)
            message = answer = None
            failed = grade.kind == "autograded" and grade.score is not None and grade.score < grade.max_score
            if failed and graded_nb is not None:  # (a notebook not submitted is said once, above)
                message = messages.get((notebook, grade.grade_id)) or (
                    _error_message(cell) if cell is not None else "The cell was missing from your notebook."
                )
                message = message or "The check did not pass."
            elif grade.kind == "manual" and cell is not None:
                answer = _cut(_source(cell), MAX_ANSWER)
            visible = released.get(grade.grade_id)
            parts.append(
                _question_html(
                    grade,
                    asked.get(grade.grade_id, Question()),
                    comment,
                    message,
                    answer,
                    _source(visible) if visible is not None else None,
                )
            )
        if graded_nb is not None:
            parts += [p for p in run_parts if not p.startswith("<div class='problems'>")]
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
