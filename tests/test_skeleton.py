"""The student skeleton: generated from the reference, fresh, leak-free, with the same API."""

from __future__ import annotations

import importlib
import inspect
import sys

import numpy as np
import pytest

import gmm_reference as ref
from gmm_course.paths import REFERENCE_PACKAGE_DIR, STUDENT_PACKAGE_DIR
from gmm_course.skeleton import SkeletonError, is_excluded, render_skeleton, solution_blocks, strip_solutions


@pytest.fixture(scope="module")
def skeleton():
    sys.path.insert(0, str(STUDENT_PACKAGE_DIR.parent))
    try:
        module = importlib.import_module("gmm_student")
        assert module.__file__.startswith(str(STUDENT_PACKAGE_DIR)), module.__file__
        yield module
    finally:
        sys.path.remove(str(STUDENT_PACKAGE_DIR.parent))


def test_committed_skeleton_is_what_the_build_produces():
    expected = render_skeleton(REFERENCE_PACKAGE_DIR)
    committed = {
        p.relative_to(STUDENT_PACKAGE_DIR).as_posix(): p.read_text() for p in STUDENT_PACKAGE_DIR.rglob("*.py")
    }
    assert sorted(committed) == sorted(expected), "run `gmm-course build` to regenerate course/gmm_student"
    for name, text in expected.items():
        assert committed[name] == text, f"course/gmm_student/{name} differs from the build: run `gmm-course build`"


def _reference_lines_outside_solutions() -> set[str]:
    lines = set()
    for path in REFERENCE_PACKAGE_DIR.glob("*.py"):
        source = path.read_text()
        inside = {n for block in solution_blocks(source, path) for n in range(block.first, block.last + 1)}
        lines |= {line.strip() for n, line in enumerate(source.splitlines(), 1) if n not in inside}
    return lines


def test_skeleton_leaks_no_solution_line():
    shared = _reference_lines_outside_solutions()
    skeleton_lines = {
        line.strip(): path.name for path in STUDENT_PACKAGE_DIR.glob("*.py") for line in path.read_text().splitlines()
    }
    checked = 0
    for path in REFERENCE_PACKAGE_DIR.glob("*.py"):
        for block in solution_blocks(path.read_text(), path):
            for line in block.lines:
                text = line.strip()
                if not text or text.startswith("#") or text in shared or len(text) < 8:
                    continue
                checked += 1
                assert text not in skeleton_lines, f"{path.name}:{block.first}: solution line in the skeleton: {text!r}"
    assert checked > 50  # the check really looked at the solutions
    for path in STUDENT_PACKAGE_DIR.glob("*.py"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text and "SKELETON" not in text


def test_hidden_test_helpers_are_not_shipped():
    assert is_excluded((REFERENCE_PACKAGE_DIR / "testing.py").read_text())
    assert not (STUDENT_PACKAGE_DIR / "testing.py").exists()


def _public_api(package):
    api = {}
    for module_name in sorted(p.stem for p in REFERENCE_PACKAGE_DIR.glob("*.py")):
        if module_name == "testing":
            continue
        module = importlib.import_module(f"{package.__name__}.{module_name}")
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(value) or inspect.isclass(value):
                api[f"{module_name}.{name}"] = value
    return api


def test_skeleton_has_the_reference_api_with_the_same_signatures_and_docstrings(skeleton):
    ours, theirs = _public_api(ref), _public_api(skeleton)
    assert sorted(ours) == sorted(theirs)
    assert len(ours) > 40
    for name, value in ours.items():
        other = theirs[name]
        assert inspect.getdoc(value) == inspect.getdoc(other), name
        if inspect.isfunction(value):
            assert inspect.signature(value) == inspect.signature(other), name
            assert inspect.getdoc(value), f"{name} has no docstring"
    assert skeleton.__all__ == ref.__all__


X = np.random.default_rng(0).normal(size=(40, 2))
START = ref.random_init(X, 2, 0)
RESP = ref.e_step(X, *START)
STUDENT_CALLS = {
    "normal_pdf": lambda m: m.normal_pdf(X[:, 0], [0.0, 1.0], [1.0, 2.0]),
    "e_step_1d": lambda m: m.e_step_1d(X[:, 0], [0.5, 0.5], [0.0, 1.0], [1.0, 2.0]),
    "m_step_1d": lambda m: m.m_step_1d(X[:, 0], RESP),
    "log_likelihood_1d": lambda m: m.log_likelihood_1d(X[:, 0], [0.5, 0.5], [0.0, 1.0], [1.0, 2.0]),
    "fit_gmm_1d": lambda m: m.fit_gmm_1d(X[:, 0], 2),
    "multivariate_normal_logpdf": lambda m: m.multivariate_normal_logpdf(X, np.zeros(2), np.eye(2)),
    "e_step": lambda m: m.e_step(X, *START),
    "log_e_step": lambda m: m.log_e_step(X, *START),
    "m_step": lambda m: m.m_step(X, RESP),
    "log_likelihood": lambda m: m.log_likelihood(X, *START),
    "run_em": lambda m: m.run_em(X, START),
    "logsumexp": lambda m: m.logsumexp(X),
    "n_parameters": lambda m: m.n_parameters(2, 2),
    "bic": lambda m: m.bic(-10.0, 5, 40),
    "aic": lambda m: m.aic(-10.0, 5),
    "kmeans_plus_plus": lambda m: m.kmeans_plus_plus(X, 2, 0),
    "kmeans": lambda m: m.kmeans(X, 2, 0, init=X[:2]),
    "params_from_labels": lambda m: m.params_from_labels(X, np.arange(40) % 2, 2),
}


@pytest.mark.parametrize("function", sorted(STUDENT_CALLS))
def test_every_student_function_is_blank_in_the_skeleton_and_works_in_the_reference(skeleton, function):
    STUDENT_CALLS[function](ref)
    with pytest.raises(NotImplementedError, match=function):
        STUDENT_CALLS[function](skeleton)


def test_every_solution_block_belongs_to_a_listed_student_function():
    functions = set()
    for path in REFERENCE_PACKAGE_DIR.glob("*.py"):
        lines = path.read_text().splitlines()
        for block in solution_blocks(path.read_text(), path):
            header = lines[block.first - 2]
            after = lines[block.last + 1] if block.last + 1 < len(lines) else ""
            has_given_replacement = after.strip() == "### BEGIN SKELETON"
            if header.startswith(" ") and not has_given_replacement:
                owner = next(line for line in reversed(lines[: block.first]) if line.startswith("def "))
                functions.add(owner.split("(")[0].removeprefix("def "))
    assert functions == set(STUDENT_CALLS)


def test_given_code_works_in_the_skeleton(skeleton):
    np.testing.assert_allclose(skeleton.naive_logsumexp([0.0, 0.0]), np.log(2))
    assert skeleton.load_old_faithful().shape == (272, 2)
    assert skeleton.random_init(X, 2, 0).means.shape == (2, 2)
    checks = importlib.import_module("gmm_student.checks")  # not imported by the package itself
    checks.check_weights(np.array([0.5, 0.5]), 2)
    with pytest.raises(AssertionError, match="row 0 of resp sums to 2"):
        checks.check_responsibilities(np.ones((3, 2)), 3, 2)


def test_strip_solutions_rules():
    source = (
        "import numpy as np\n\n\n"
        "### BEGIN SOLUTION\n"
        "def _helper():\n    return 1\n"
        "### END SOLUTION\n\n\n"
        "def f(x):\n"
        '    """Doc."""\n'
        "    y = np.asarray(x)\n"
        "    ### BEGIN SOLUTION\n"
        "    return _helper() + y\n"
        "    ### END SOLUTION\n\n\n"
        "def g(x):\n"
        "    ### BEGIN SOLUTION\n"
        "    return fast(x)\n"
        "    ### END SOLUTION\n"
        "    ### BEGIN SKELETON\n"
        "    # return slow(x)\n"
        "    ### END SKELETON\n"
    )
    out = strip_solutions(source)
    assert "_helper" not in out and "fast" not in out
    assert '    raise NotImplementedError("f: write your solution here")' in out
    assert "    y = np.asarray(x)" in out
    assert "    return slow(x)\n" in out and "# return slow" not in out
    with pytest.raises(SkeletonError, match="has no matching"):
        strip_solutions("def f():\n    ### BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(SkeletonError, match="without a matching BEGIN"):
        strip_solutions("x = 1\n### END SOLUTION\n")
    with pytest.raises(SkeletonError, match="must be comments"):
        strip_solutions("def f():\n    ### BEGIN SKELETON\n    return 1\n    ### END SKELETON\n")
