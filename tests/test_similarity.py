"""gmm-course similarity (issue 15): copies rank high however disguised, honest work and the skeleton do not.

The pairs are built here: the reference package as it is, with its local variables renamed, with its functions
reordered (``demo_class.disguise_package``); an honest solution of notebook 1's functions written independently
of the reference (below), which must score low against it although it solves the same five functions; and the
blank release, which must never be flagged.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from gmm_course import similarity
from gmm_course.demo_class import disguise_package
from gmm_course.paths import ASSIGNMENT_ID, REFERENCE_PACKAGE_DIR, STUDENT_PACKAGE_DIR
from gmm_course.similarity import (
    DEFAULT_THRESHOLD,
    VERDICT,
    Written,
    compare_written,
    read_written,
    render_report,
    similarity_of_class,
)

from .conftest import gmm_course

#: Notebook 1's functions solved without looking at the reference: other names, loops, scipy.stats, a while loop.
HONEST_UNIVARIATE = {
    "normal_pdf": """
    from scipy.stats import norm

    return norm.pdf(x[:, np.newaxis], loc=means, scale=np.sqrt(variances))
""",
    "e_step_1d": """
    log_p = np.empty((x.size, weights.size))
    for k in range(weights.size):
        log_p[:, k] = (
            np.log(weights[k]) - 0.5 * np.log(2 * np.pi * variances[k]) - (x - means[k]) ** 2 / (2 * variances[k])
        )
    norm_const = logsumexp(log_p, axis=1, keepdims=True)
    return np.exp(log_p - norm_const)
""",
    "m_step_1d": """
    counts = np.sum(resp, axis=0)
    counts = np.where(counts > 0, counts, np.finfo(float).tiny)
    new_means = (resp * x[:, None]).sum(axis=0) / counts
    sq = (x[:, None] - new_means[None, :]) ** 2
    new_vars = (resp * sq).sum(axis=0) / counts
    return counts / x.shape[0], new_means, np.clip(new_vars, var_floor, None)
""",
    "log_likelihood_1d": """
    from scipy.stats import norm

    total = 0.0
    for xn in x:
        terms = np.log(weights) + norm.logpdf(xn, means, np.sqrt(variances))
        total += logsumexp(terms)
    return float(total)
""",
    "fit_gmm_1d": """
    lls = [log_likelihood_1d(x, weights, means, variances)]
    done = False
    it = 0
    while it < max_iter and not done:
        it += 1
        r = e_step_1d(x, weights, means, variances)
        weights, means, variances = m_step_1d(x, r, var_floor)
        lls.append(log_likelihood_1d(x, weights, means, variances))
        done = abs(lls[-1] - lls[-2]) < tol * len(x)
    return UnivariateFit(weights, means, variances, np.asarray(lls), it, done)
""",
}


def honest_univariate() -> str:
    """The released univariate.py with :data:`HONEST_UNIVARIATE` in place of each ``raise NotImplementedError``."""
    code = (STUDENT_PACKAGE_DIR / "univariate.py").read_text(encoding="utf-8")
    for name, body in HONEST_UNIVARIATE.items():
        stub = re.compile(rf"    # YOUR CODE HERE\n    raise NotImplementedError\(\"{name}: [^\n]*\"\)\n")
        code, count = stub.subn(lambda _, body=body: body.lstrip("\n"), code)
        assert count == 1, f"the release's stub of {name} changed: update this test"
    return code


def package(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def reference_copy(folder: Path) -> Path:
    shutil.copytree(REFERENCE_PACKAGE_DIR, folder, ignore=shutil.ignore_patterns("__pycache__", "testing.py"))
    return folder


@pytest.fixture(scope="module")
def class_of_pairs(tmp_path_factory) -> dict[str, Written]:
    base = tmp_path_factory.mktemp("similarity")
    folders = {
        "original": reference_copy(base / "original"),
        "identical": reference_copy(base / "identical"),
        "honest": package(base / "honest", {"univariate.py": honest_univariate()}),
        "blank": shutil.copytree(STUDENT_PACKAGE_DIR, base / "blank", ignore=shutil.ignore_patterns("__pycache__")),
        "blank_too": shutil.copytree(STUDENT_PACKAGE_DIR, base / "blank2", ignore=shutil.ignore_patterns("__pyc*")),
    }
    folders["renamed"] = disguise_package(folders["original"], base / "renamed", seed=1, reorder=False)
    folders["reordered"] = disguise_package(folders["original"], base / "reordered", seed=2, rename=False)
    folders["honest_renamed"] = disguise_package(folders["honest"], base / "honest_renamed", seed=3)
    return {name: read_written(name, folder, STUDENT_PACKAGE_DIR) for name, folder in folders.items()}


@pytest.fixture(scope="module")
def report(class_of_pairs):
    return compare_written(list(class_of_pairs.values()), STUDENT_PACKAGE_DIR)


def _pair(report, first: str, second: str):
    found = [m for m in report.matches if {m.first, m.second} == {first, second}]
    return found[0] if found else None


def test_the_disguise_really_disguises(class_of_pairs):
    """The constructed copies differ from the original as text: renamed locals, another order of functions."""
    original, renamed, reordered = (class_of_pairs[n].text for n in ("original", "renamed", "reordered"))
    assert renamed != original and reordered != original
    assert "resp_by_component" in original and "nk = " in original and "nk = " not in renamed
    defs = [re.findall(r"^def (\w+)", text, re.M) for text in (original, reordered)]
    assert sorted(defs[0]) == sorted(defs[1]) and defs[0] != defs[1]


@pytest.mark.parametrize("copy", ["identical", "renamed", "reordered"])
def test_a_copy_ranks_high_however_disguised(report, copy):
    match = _pair(report, "original", copy)
    assert match is not None, f"the {copy} copy is not listed"
    assert match.share_first >= 0.9 and match.share_second >= 0.9, match
    assert match.overlap >= 1000  # the whole solution, not a few lines


def test_an_honest_solution_of_the_same_functions_scores_low(report, class_of_pairs):
    for other in ("original", "identical", "renamed", "reordered"):
        assert _pair(report, "honest", other) is None, other
    # Low because it is different, not because the detector cannot see it: its own disguised copy is found.
    match = _pair(report, "honest", "honest_renamed")
    assert match is not None and match.score >= 0.9
    alone = compare_written(
        [class_of_pairs["honest"], class_of_pairs["original"]], STUDENT_PACKAGE_DIR, threshold=0.0, min_overlap=0
    )
    score = alone.matches[0].score if alone.matches else 0.0
    assert score < DEFAULT_THRESHOLD / 2, score


def test_the_skeleton_is_never_flagged(report, class_of_pairs):
    assert class_of_pairs["blank"].text == "" and class_of_pairs["blank_too"].text == ""
    assert {"blank", "blank_too"} <= set(report.empty)
    assert not [m for m in report.matches if {"blank", "blank_too"} & {m.first, m.second}]


def test_what_a_student_wrote_leaves_out_the_given_code(class_of_pairs):
    text = class_of_pairs["honest"].text
    assert "norm.pdf(x[:, np.newaxis]" in text and "while it < max_iter" in text
    assert "def normal_pdf" not in text and "as_samples_1d(x)" not in text and "NotImplementedError" not in text
    assert '"""' not in text  # docstrings are the release's


def test_only_copies_are_listed(report):
    """The six pairs among the four versions of the reference, and the honest solution with its own copy."""
    versions = {"original", "identical", "renamed", "reordered"}
    listed = [{m.first, m.second} for m in report.matches]
    assert len(listed) == 7, listed
    assert all(pair <= versions or pair == {"honest", "honest_renamed"} for pair in listed), listed


def test_a_known_source_is_reported_per_student_and_not_as_pairs(class_of_pairs):
    documents = [class_of_pairs[n] for n in ("original", "identical", "honest")]
    source = similarity.reference_source(STUDENT_PACKAGE_DIR)
    found = compare_written(documents, STUDENT_PACKAGE_DIR, [source])
    assert {m.first for m in found.source_matches} == {"original", "identical"}
    assert all(m.share_first > 0.95 for m in found.source_matches)
    assert not found.matches  # their only common code is the reference's


def test_the_page_is_escaped_and_says_a_match_is_no_verdict(tmp_path, class_of_pairs):
    hostile = honest_univariate().replace(
        "total = 0.0", "total = 0.0\n    note = '</pre><script>alert(1)</script><img src=x onerror=alert(2)>'"
    )
    evil = read_written("<b>mallory</b>", package(tmp_path / "m", {"univariate.py": hostile}), STUDENT_PACKAGE_DIR)
    twin = read_written("twin", package(tmp_path / "t", {"univariate.py": hostile}), STUDENT_PACKAGE_DIR)
    page = render_report(compare_written([evil, twin, class_of_pairs["original"]], STUDENT_PACKAGE_DIR))
    assert "<script" not in page.lower() and "onerror=" not in page.replace("onerror=alert(2)&gt;", "")
    assert "&lt;script&gt;" in page and "&lt;b&gt;mallory&lt;/b&gt;" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert VERDICT in page and "<mark>" in page


def _course(root: Path, students: dict[str, Path]) -> Path:
    for name, folder in students.items():
        shutil.copytree(folder, root / "submitted" / name / ASSIGNMENT_ID / "gmm_student")
    return root


def test_a_course_folder_in_worker_processes_gives_the_same_report(tmp_path):
    original = reference_copy(tmp_path / "p" / "original")
    students = {
        f"s{i}": disguise_package(original, tmp_path / "p" / f"s{i}", seed=i) if i else original for i in range(8)
    }
    students["blank"] = STUDENT_PACKAGE_DIR
    root = _course(tmp_path / "course", students)
    serial = similarity_of_class(root, sources=[], jobs=1)
    parallel = similarity_of_class(root, sources=[], jobs=2)
    assert [(m.first, m.second, round(m.score, 9)) for m in serial.matches] == [
        (m.first, m.second, round(m.score, 9)) for m in parallel.matches
    ]
    assert len(serial.matches) == 28 and serial.empty == ["blank"]  # every pair of the eight copies


def test_the_command_prints_the_pairs_and_writes_the_page(tmp_path):
    original = reference_copy(tmp_path / "p" / "ada")
    root = _course(
        tmp_path / "course",
        {
            "ada": original,
            "bob": disguise_package(original, tmp_path / "p" / "bob", seed=5),
            "cy": STUDENT_PACKAGE_DIR,
        },
    )
    run = gmm_course("similarity", "--work-dir", root, "--no-reference", "--jobs", "1")
    assert "1. ada ~ bob:" in run.stdout and "a reason to look, not a verdict" in run.stdout
    assert "no code of their own (blank or unchanged release): cy" in run.stdout
    assert (root / "similarity.html").is_file()
    run = gmm_course("similarity", "--work-dir", root, "--jobs", "1")  # the reference is a known source
    assert "known source: 100% of ada's code is in the reference solution" in run.stdout


# -- the demo class: its copied pair ranks first, honest students are not listed (no grading needed)


@pytest.fixture(scope="module")
def demo_course(tmp_path_factory) -> Path:
    from gmm_course.demo_class import DEMO_CLASS, make_submission

    root = tmp_path_factory.mktemp("demo_similarity")
    for student in DEMO_CLASS:
        make_submission(student, root / "submitted" / student.name / ASSIGNMENT_ID)
    return root


def test_the_demo_similarity_report_lists_the_copied_pair_first_and_no_honest_student(demo_course):
    from gmm_course.demo_class import COPIED_PAIR, DEMO_CLASS

    report = similarity_of_class(demo_course, jobs=1)  # the reference is a known source, as the command does
    assert report.matches, "the copied pair is not listed"
    assert (report.matches[0].first, report.matches[0].second) == COPIED_PAIR
    honest = {s.name for s in DEMO_CLASS} - set(COPIED_PAIR)
    listed = {name for m in report.matches for name in (m.first, m.second)}
    assert not listed & honest, [(m.first, m.second, round(m.score, 2)) for m in report.matches]
    assert "ben_blank" in report.empty


def test_the_disguised_demo_copy_still_imports_and_computes_the_same(demo_course, tmp_path):
    """gus_copied's disguise keeps the code working (its grade is fay_original's, as the demo expects)."""
    import importlib
    import sys

    import numpy as np

    results = {}
    for name in ("fay_original", "gus_copied"):
        shutil.copytree(
            demo_course / "submitted" / name / ASSIGNMENT_ID / "gmm_student", tmp_path / name / "gmm_student"
        )
        sys.path.insert(0, str(tmp_path / name))
        try:
            for module in [m for m in sys.modules if m == "gmm_student" or m.startswith("gmm_student.")]:
                del sys.modules[module]
            package = importlib.import_module("gmm_student")
            x = np.linspace(-2.0, 3.0, 40)
            fit = package.fit_gmm_1d(x, 2, rng=0, max_iter=5)
            results[name] = (fit.means, fit.log_likelihoods)
        finally:
            sys.path.remove(str(tmp_path / name))
            for module in [m for m in sys.modules if m == "gmm_student" or m.startswith("gmm_student.")]:
                del sys.modules[module]
    assert np.array_equal(results["fay_original"][0], results["gus_copied"][0])
    assert np.array_equal(results["fay_original"][1], results["gus_copied"][1])


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium on PATH (Debian: apt-get install chromium)")
def test_the_page_runs_no_script_in_chromium(tmp_path, class_of_pairs):
    from .test_browser import assert_inert, load_in_chromium

    hostile = honest_univariate().replace("total = 0.0", "total = 0.0\n    note = '</pre><script>x()</script>'")
    evil = read_written("<img src=x onerror=alert(1)>", package(tmp_path / "m", {"u.py": hostile}), STUDENT_PACKAGE_DIR)
    twin = read_written("twin", package(tmp_path / "t", {"u.py": hostile}), STUDENT_PACKAGE_DIR)
    page = render_report(compare_written([evil, twin, class_of_pairs["original"]], STUDENT_PACKAGE_DIR))
    assert_inert(load_in_chromium(page, tmp_path, screenshot=tmp_path / "similarity.png"))


def test_the_valid_alternatives_score_low_against_the_reference_they_replace():
    """The alternatives catalogue: the same functions written another way by another author (loops, scipy.stats,
    einsum, ...). All the reference's versions against all the alternatives' must stay far below the threshold."""
    import textwrap

    from gmm_course.alternatives import ALL_ALTERNATIVES

    alternatives = [a for a in ALL_ALTERNATIVES.values() if len(a.replace) >= 100]  # a rewrite, not a small edit
    if len(alternatives) < 5:
        pytest.skip("fewer than five substantial alternatives in the catalogue")
    reference = Written("reference", "\n\n".join(textwrap.dedent(a.find) for a in alternatives))
    rewritten = Written("alternatives", "\n\n".join(textwrap.dedent(a.replace) for a in alternatives))
    found = compare_written([reference, rewritten], STUDENT_PACKAGE_DIR, threshold=0.0, min_overlap=0)
    score = found.matches[0].score if found.matches else 0.0
    assert score < DEFAULT_THRESHOLD / 2, score
