"""Bad input is explained, never fatal beyond its own scope.

The reference raises ValueError with a message that says what is wrong. The grader turns one student's bad
files into report lines for that student and grades the rest of the class.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gmm_reference as ref
from gmm_course.export import ClassGrades, grade_table, summary, write_csv
from gmm_course.grading import CellGrade
from gmm_course.pipeline import SubmissionResult
from gmm_course.plain_text import csv_cell, printable
from gmm_course.report import failure_row, write_report
from gmm_course.sanitise import sanitise
from gmm_course.submissions import ImportNote

X = np.random.default_rng(0).normal(size=(30, 2))
START = ref.random_init(X, 2, 0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ref.fit_gmm(X[:, 0], 2), r"X must be a 2-D array of shape \(N, d\); got shape \(30,\)"),
        (
            lambda: ref.fit_gmm(np.where(np.arange(60).reshape(30, 2) == 7, np.nan, X), 2),
            r"X contains NaN or infinite values \(first at index \(3, 1\)",
        ),
        (lambda: ref.fit_gmm(np.vstack([X, [[np.inf, 0]]]), 2), r"NaN or infinite"),
        (
            lambda: ref.fit_gmm(np.ones((10, 2)), 2),
            r"n_components=2 is larger than the number of distinct data points \(1\)",
        ),
        (lambda: ref.fit_gmm(X, 0), r"n_components must be at least 1"),
        (lambda: ref.fit_gmm(X, 2.5), r"n_components must be a positive integer"),
        (lambda: ref.fit_gmm(X, 2, tol=0), r"tol must be > 0; got 0"),
        (lambda: ref.fit_gmm(X, 2, tol=-1e-3), r"tol must be > 0"),
        (lambda: ref.fit_gmm(X, 2, max_iter=-1), r"max_iter must be a non-negative integer"),
        (lambda: ref.fit_gmm(X, 2, covariance_type="banana"), r"covariance_type must be one of full, diag"),
        (lambda: ref.fit_gmm(X, 2, init="magic"), r"init must be 'kmeans', 'random'"),
        (lambda: ref.fit_gmm(X, 2, rng=None), r"rng must be a numpy.random.Generator or an integer seed"),
        (lambda: ref.fit_gmm(X, 2, reg_covar=-1.0), r"reg_covar must be >= 0"),
        (lambda: ref.fit_gmm(np.zeros((0, 2)), 1), r"at least one row"),
        (lambda: ref.fit_gmm([["a", "b"]], 1), r"X must be numeric"),
        (lambda: ref.fit_gmm_1d(np.ones((3, 2)), 2), r"x must be a 1-D array of shape \(N,\)"),
        (lambda: ref.fit_gmm_1d(np.arange(5.0), 2, tol=0.0), r"tol must be > 0"),
        (lambda: ref.e_step(X, [0.5, 0.6], *START[1:]), r"weights must sum to 1; they sum to 1.1"),
        (
            lambda: ref.e_step(X, START.weights, START.means[:, :1], START.covariances),
            r"means must have shape \(K, d\) = \(2, 2\)",
        ),
        (lambda: ref.e_step(X, *START[:2], -START.covariances), r"not positive definite"),
        (lambda: ref.e_step(X, *START[:2], START.covariances[:1]), r"'full' covariances must have shape \(2, 2, 2\)"),
        (lambda: ref.m_step(X, np.ones((29, 2)) / 2), r"resp must have shape \(N, K\) with N=30 rows"),
        (lambda: ref.m_step(X, -np.ones((30, 2))), r"resp has negative entries"),
        (lambda: ref.multivariate_normal_logpdf(X, np.zeros(3), np.eye(2)), r"mean must have shape \(d,\) = \(2,\)"),
        (
            lambda: ref.multivariate_normal_logpdf(X, np.zeros(2), np.array([[1.0, 2.0], [0.0, 1.0]])),
            r"cov is not symmetric",
        ),
        (lambda: ref.n_parameters(0, 2), r"n_components must be a positive integer"),
        (lambda: ref.bic(np.nan, 5, 100), r"log_likelihood must be finite"),
        (lambda: ref.bic(-10.0, 5, 0), r"n_samples must be a positive integer"),
        (lambda: ref.params_from_labels(X, np.full(30, 3), 2), r"labels must lie in \[0, 2\)"),
        (lambda: ref.kmeans(X, 2, 0, init=np.zeros((3, 2))), r"init must have shape \(K, d\) = \(2, 2\)"),
        (lambda: ref.GaussianMixture(2).predict(X), r"not fitted yet"),
        (lambda: ref.run_em(X, START, snapshot_every=0), r"snapshot_every must be None or a positive integer"),
    ],
)
def test_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_loader_names_the_file(tmp_path):
    bad_header = tmp_path / "header.csv"
    bad_header.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"header.csv: expected the header 'eruptions,waiting'"):
        ref.load_old_faithful(bad_header)
    bad_value = tmp_path / "value.csv"
    bad_value.write_text("eruptions,waiting\n1.5,abc\n")
    with pytest.raises(ValueError, match=r"value.csv: not a numeric two-column CSV"):
        ref.load_old_faithful(bad_value)
    missing = tmp_path / "missing.csv"
    missing.write_text("eruptions,waiting\n1.5,\n")
    with pytest.raises(ValueError, match=r"missing.csv"):
        ref.load_old_faithful(missing)
    with pytest.raises(FileNotFoundError):
        ref.load_old_faithful(tmp_path / "absent.csv")


# The grader's bad input (issue 11, properties 4 and 8): whatever one student's files hold, the student gets clear
# report lines, the rest of the class is graded, and nothing a student wrote acts in a terminal or a spreadsheet.

RELEASED_NOTEBOOK = Path(__file__).resolve().parents[1] / "course" / "01_em_1d_old_faithful.ipynb"


def _released() -> dict:
    return json.loads(RELEASED_NOTEBOOK.read_text(encoding="utf-8"))


def _with_answers(nb: dict, text) -> dict:
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = text
    return nb


def _answer_count() -> int:
    """How many written answers the released notebook asks for."""
    return sum(bool(c["metadata"].get("nbgrader", {}).get("solution")) for c in _released()["cells"])


def _answers(sanitised) -> list[str]:
    return [c.source for c in sanitised.notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]


def test_a_byte_order_mark_keeps_the_written_answers(tmp_path):
    path = tmp_path / RELEASED_NOTEBOOK.name
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_with_answers(_released(), "My answer.")).encode())
    sanitised = sanitise(RELEASED_NOTEBOOK, path, "bom")
    assert _answers(sanitised) == ["My answer."] * _answer_count() and sanitised.notes == []


def test_lone_surrogates_in_answers_become_valid_text_with_a_note(tmp_path):
    path = tmp_path / RELEASED_NOTEBOOK.name
    path.write_text(json.dumps(_with_answers(_released(), "half \ud800 a pair")))  # JSON carries it as \ud800
    sanitised = sanitise(RELEASED_NOTEBOOK, path, "surrogate")
    assert _answers(sanitised) == ["half \ufffd a pair"] * _answer_count()
    assert sum("lone surrogates" in n.problem for n in sanitised.notes) == _answer_count()
    nbformat.write(sanitised.notebook, str(tmp_path / "autograded.ipynb"))  # encodable: it can be written


def test_a_list_as_cell_metadata_is_a_note_not_a_crash(tmp_path):
    nb = _with_answers(_released(), "kept")
    nb["cells"][0]["metadata"] = ["a", "list"]
    path = tmp_path / RELEASED_NOTEBOOK.name
    path.write_text(json.dumps(nb))
    sanitised = sanitise(RELEASED_NOTEBOOK, path, "listy")
    assert _answers(sanitised) == ["kept"] * _answer_count()
    assert [n.problem for n in sanitised.notes] == ["cell nb01_intro deleted"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
_CELL_KEYS = st.sampled_from(["cell_type", "metadata", "source", "nbgrader", "grade_id", "solution"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sanitise_tolerates_any_json_shape(tmp_path, data):
    """Any part of the student's notebook replaced by any JSON value: sanitise returns the release and notes."""
    nb = _released()
    for _ in range(data.draw(st.integers(1, 4))):
        cell = nb["cells"][data.draw(st.integers(0, len(nb["cells"]) - 1))]
        target = cell
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("nbgrader"), dict) and data.draw(st.booleans()):
            target = meta["nbgrader"]
        elif isinstance(meta, dict) and data.draw(st.booleans()):
            target = meta
        if isinstance(target, dict):
            target[data.draw(_CELL_KEYS)] = data.draw(_JSON)
    if data.draw(st.booleans()):
        nb["cells"].append(data.draw(_JSON))
    path = tmp_path / RELEASED_NOTEBOOK.name
    path.write_text(json.dumps(nb))
    sanitised = sanitise(RELEASED_NOTEBOOK, path, "fuzz")
    assert [c.source for c in sanitised.notebook.cells if c.cell_type == "code"] == [
        c.source for c in nbformat.read(RELEASED_NOTEBOOK, as_version=4).cells if c.cell_type == "code"
    ]
    for note in sanitised.notes:
        str(note).encode("utf-8")


HOSTILE_TEXT = 'nb01_\ud800\x1b]0;owned\x07\x1b[2J\nNOTE forged: line\r=HYPERLINK("http://x")\u202e'


def _result(student: str, text: str = "") -> SubmissionResult:
    notes = [ImportNote(student, "01.ipynb", f"unknown grade cells {text}", "ignored")] if text else []
    flags = [f"01.ipynb {text}: differs"] if text else []
    events = [f"the student's code wrote to stderr: {text}"] if text else []
    return SubmissionResult(student, [], notes, flags, events, "jail")


def test_the_report_is_written_for_the_class_whatever_one_student_wrote(tmp_path):
    results = [_result("ann"), _result("bad", HOSTILE_TEXT), _result("zed")]
    results[0].notes.append(ImportNote("ann", "02.ipynb", "-1 cells", "+ @ nothing"))
    path, lines = write_report(tmp_path, results, [failure_row("gone", f"crashed: {HOSTILE_TEXT}")])
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert [r[0] for r in rows[1:]] == ["ann", "bad", "bad", "bad", "gone"]  # one line each, nobody wiped
    cells = [cell for row in rows for cell in row]
    assert all(cell.isprintable() for cell in cells), [c for c in cells if not c.isprintable()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert ["'-1 cells", "'+ @ nothing"] == rows[1][2:]  # OWASP: a leading quote defuses a formula
    assert "nb01_\\ud800\\x1b]0;owned\\x07\\x1b[2J\\nNOTE forged" in rows[2][2]  # shown, not acted on
    assert len(lines) == 5 and all(line.isprintable() for line in lines)
    assert all(line.startswith(("NOTE ann: ", "NOTE bad: ", "NOTE gone: ")) for line in lines)
    assert lines[-1].startswith("NOTE gone: grading failed: crashed: nb01_\\ud800")
    assert str(results[1].notes[0]).isprintable()  # the import's NOTE lines too


def test_the_grade_export_defuses_formulas_and_escapes(tmp_path):
    student, notebook, grade_id = "ann\x1b[2J", "=01", "cmd|' /C calc'!A0\x1b[2J"
    grade = CellGrade(notebook, grade_id, "autograded", 1.0, 1.0)
    data = ClassGrades([student], [(notebook, grade_id, "autograded", 1.0)], {student: {(notebook, grade_id): grade}})
    with write_csv(data, tmp_path / "grades.csv").open(newline="", encoding="utf-8") as handle:
        header, row = list(csv.reader(handle))
    assert header[1] == "'=01:cmd|' /C calc'!A0\\x1b[2J" and header[2] == "'=01:total"
    assert row[:3] == ["ann\\x1b[2J", "1", "1"]  # scores stay numbers
    assert "\x1b" not in grade_table(data) + summary(data)


def test_printable_keeps_ordinary_text_and_escapes_the_rest():
    assert printable("Résumé: 中文, naïve 🙂 (ok)") == "Résumé: 中文, naïve 🙂 (ok)"
    assert printable("a\x1b[31mb\tc\nd\r\x00\x7f\x9b\u2028\u202e\ud800") == (
        "a\\x1b[31mb\\tc\\nd\\r\\x00\\x7f\\x9b\\u2028\\u202e\\ud800"
    )
    assert printable(printable("\x1b\n")) == printable("\x1b\n")
    assert [csv_cell(t) for t in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "1-1", "")] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "\\t=1",
        "\\r=1",
        "1-1",
        "",
    ]
