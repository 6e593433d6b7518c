"""The clean check's trust boundary (issue 11, properties 1, 6, 10 and 11).

1. Grader code reaches student code only while a test has it in force: a helper kept
   past its patch, a callable argument kept past its call, a handle forged or carried
   into a later cell all fail, and the cell scores nothing.
6. The checker is bounded: grader code run for a callback stops at the cell's deadline
   and cannot allocate without limit; every malformed reply ends the student process,
   so nothing it queued answers the next call.
10. An honest 0-d array result arrives 0-d (notebook 3's logsumexp).
11. A restriction a test puts on a module of the installation (``np.linalg.inv``) and
    NumPy's floating-point error state hold where the student's code runs.

Session tests run the student process without the jail (the properties are the
wire's and the checker's); notebook tests run a real clean check, forked from the
check server.
"""

from __future__ import annotations

import json
import shutil
import signal
import textwrap
import time
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest

from gmm_course.sandbox.check_server import run_check
from gmm_course.sandbox.remote import CellTimeout, GraderCodeMisused, StudentProcessDied, StudentSession

REPO = Path(__file__).resolve().parents[1]

#: The student's module of the session tests: ``find_server`` is how hostile code reaches the wire.
TRICKS = """
import gc
import json
import struct

import numpy as np

_kept = []


def helper(x):
    return -1.0


def keep_helper(x):
    _kept.append(helper)  # whatever the module's helper is now: the grader's while it is patched in
    return helper(x)


def keep_argument(function, x):
    _kept.append(function)
    return function(x)


def use_kept(x):
    return _kept[-1](x)


def use_helper(x):
    return helper(x)


def echo(x):
    return x


def find_server():
    return next(o for o in gc.get_objects() if type(o).__name__ == "StudentServer")


def forge(token, x):
    return find_server()._remote_callable(token, "forged")(x)


def _send_raw(payload):
    find_server().sock.sendall(struct.pack("!Q", len(payload)) + payload)


def deep_reply_then_stale():
    _send_raw(b'{"op":"return","value":' + b"[" * 100000 + b"]" * 100000 + b"}")
    _send_raw(json.dumps({"op": "return", "value": "stale"}).encode())
    return "honest"


def undecodable_reply_then_stale():
    _send_raw(json.dumps({"op": "return", "value": {"$nd": "<f8", "shape": [2], "data": "!!"}}).encode())
    _send_raw(json.dumps({"op": "return", "value": "stale"}).encode())
    return "honest"


def overflow():
    return np.exp(np.array([1000.0]))


def centre_in_place(X, init=None):
    X -= X.mean(axis=0)
    return X


def centre_a_copy(X, init=None):
    X = X - X.mean(axis=0)
    return X


def scale_init_in_place(X, init):
    means = init[1]
    means *= 2.0
    return X


def reshape_in_place(X):
    X.shape = (-1,)
    return X


def write_to_an_argument_it_was_not_given_then_stale(X):
    zeros = {"$nd": "<f8", "shape": [3, 2], "data": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    _send_raw(json.dumps({"op": "return", "value": None, "modified": [[3, ["args", 3], "Y", zeros]]}).encode())
    _send_raw(json.dumps({"op": "return", "value": "stale"}).encode())
    return X
"""


@pytest.fixture
def session(tmp_path):
    (tmp_path / "gmm_student").mkdir()
    (tmp_path / "gmm_student" / "__init__.py").write_text("")
    (tmp_path / "gmm_student" / "tricks.py").write_text(TRICKS)
    session = StudentSession(tmp_path, use_jail=False, memory_limit_mb=2048, find_record_type=lambda name: None)
    yield session
    session.close()


def _call(session, name, *args):
    return session.call("tricks", name, args, {})


def test_a_patched_in_helper_is_live_while_patched_and_dead_after_its_restore(session):
    session.set_global("tricks", "helper", lambda x: 10.0 * x)
    assert _call(session, "keep_helper", 2.0) == 20.0
    session.end_cell()
    assert _call(session, "use_helper", 3.0) == 30.0, "a patch still in force stays callable in the next cell"
    assert session.take_misuse() == []
    session.restore_global("tricks", "helper")
    assert _call(session, "use_helper", 3.0) == -1.0
    with pytest.raises(GraderCodeMisused):
        _call(session, "use_kept", 3.0)
    assert session.take_misuse(), "the misuse is recorded for the checker, whatever the test does with the error"
    assert _call(session, "echo", 4) == 4 and session.starts == 2, "the process was replaced"


def test_a_callable_argument_dies_with_its_call(session):
    assert _call(session, "keep_argument", lambda x: x + 1.0, 1.0) == 2.0
    with pytest.raises(GraderCodeMisused):
        _call(session, "use_kept", 1.0)
    assert len(session.take_misuse()) == 1


def test_no_handle_outlives_its_cell(session):
    session.set_global("tricks", "helper", lambda x: 10.0 * x)
    assert _call(session, "keep_helper", 2.0) == 20.0
    session.restore_global("tricks", "helper")
    session.end_cell()
    with pytest.raises(GraderCodeMisused):
        _call(session, "use_kept", 2.0)


def test_a_forged_handle_is_misuse(session):
    session.set_global("tricks", "helper", lambda x: 10.0 * x)
    _call(session, "keep_helper", 2.0)
    with pytest.raises(GraderCodeMisused):
        _call(session, "forge", "0" * 32, 1.0)
    assert session.take_misuse()


@pytest.mark.parametrize("trick", ["deep_reply_then_stale", "undecodable_reply_then_stale"])
def test_a_malformed_reply_fails_the_call_and_leaves_no_stale_reply(session, trick):
    with pytest.raises(StudentProcessDied, match="invalid message"):
        _call(session, trick)
    assert _call(session, "echo", "fresh") == "fresh"
    assert session.starts == 2
    assert any("invalid message" in event for event in session.events)


def test_grader_code_run_for_a_callback_stops_at_the_deadline(session):
    def slow_helper(x):
        started = time.monotonic()
        while time.monotonic() - started < 20.0:
            pass
        return x

    previous_handler = signal.getsignal(signal.SIGALRM)
    session.deadline = time.monotonic() + 1.0
    started = time.monotonic()
    with pytest.raises(CellTimeout):
        _call(session, "keep_argument", slow_helper, 1.0)
    assert time.monotonic() - started < 5.0
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0), "the alarm is disarmed"
    assert signal.getsignal(signal.SIGALRM) is previous_handler
    session.end_cell()
    assert _call(session, "echo", 1) == 1


def test_the_tests_floating_point_error_state_holds_in_the_student_process(session):
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        _call(session, "overflow")
    with np.errstate(over="ignore"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _call(session, "overflow")
    assert caught == [], "no overflow warning under over='ignore'"


def test_a_change_a_student_function_makes_to_its_input_reaches_the_caller_as_in_the_kernel(session):
    # The student's process works on copies of the checker's arrays: what the call changed
    # there is written into the caller's arrays, so the clean check sees what the kernel
    # sees (a test that checks its inputs fails the call, one that does not is not charged).
    X = np.arange(6.0).reshape(3, 2)
    returned = _call(session, "centre_in_place", X)
    assert np.array_equal(X, np.arange(6.0).reshape(3, 2) - [2.0, 3.0]), "the caller's X was centred in place"
    assert np.array_equal(returned, X)
    init = (np.ones(2), np.ones((2, 2)), np.ones((2, 2, 2)))
    _call(session, "scale_init_in_place", X, init)
    assert np.array_equal(init[1], np.full((2, 2), 2.0)) and np.array_equal(init[0], np.ones(2))
    # A change the checker cannot make to its own array fails the call, naming the argument.
    with pytest.raises(AssertionError, match=r"reshape_in_place changed its input X in place \(its shape"):
        _call(session, "reshape_in_place", X)
    frozen = np.arange(6.0).reshape(3, 2)
    frozen.flags.writeable = False
    with pytest.raises(AssertionError, match=r"centre_in_place changed its input X"):
        _call(session, "centre_in_place", frozen)
    unchanged = np.arange(6.0).reshape(3, 2)
    assert np.array_equal(_call(session, "centre_a_copy", unchanged), unchanged - [2.0, 3.0])
    assert np.array_equal(unchanged, np.arange(6.0).reshape(3, 2)), "a call that works on a copy changes nothing"
    # NaN in place stays NaN: an unchanged array with NaN is not "modified".
    assert np.isnan(_call(session, "centre_a_copy", np.array([[np.nan, 1.0]])))[0, 0]


def test_a_reply_that_writes_to_an_argument_the_call_was_not_given_ends_the_process(session):
    X = np.zeros((3, 2))
    with pytest.raises(StudentProcessDied, match="invalid message"):
        _call(session, "write_to_an_argument_it_was_not_given_then_stale", X)
    assert _call(session, "echo", "fresh") == "fresh"


# ---------------------------------------------------------------- whole clean checks

SKELETON_TRICKS = """
def helper(n):
    raise NotImplementedError


def call_helper(n):
    raise NotImplementedError


def keep_helper(n):
    raise NotImplementedError


def use_kept(n):
    raise NotImplementedError


def logpdf(x):
    raise NotImplementedError


def overflow():
    raise NotImplementedError
"""

STUDENT_TRICKS = """
import numpy as np

_kept = []


def helper(n):
    return -1


def call_helper(n):
    try:
        return helper(n)
    except MemoryError as error:
        return "MemoryError"


def keep_helper(n):
    _kept.append(helper)
    return helper(n)


def use_kept(n):
    return _kept[-1](n)


def logpdf(x):
    return -0.5 * x**2 - 0.5 * np.log(np.linalg.det(np.eye(1) * 2 * np.pi))


def overflow():
    return np.exp(np.array([1000.0]))
"""


def _notebook(path: Path, cells: dict[str, str]) -> Path:
    nb = nbformat.v4.new_notebook()
    for grade_id, source in cells.items():
        cell = nbformat.v4.new_code_cell(textwrap.dedent(source))
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "points": 1, "solution": False}
        nb.cells.append(cell)
    nbformat.write(nb, str(path))
    return path


def _clean_check(tmp_path: Path, cells: dict[str, str]) -> dict:
    for folder, code in (("skeleton", SKELETON_TRICKS), ("own", STUDENT_TRICKS)):
        package = tmp_path / folder / "gmm_student"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "tricks.py").write_text(code)
    notebook = _notebook(tmp_path / "nb.ipynb", cells)
    argv = [
        "--own-dir", str(tmp_path / "own"), "--skeleton-parent", str(tmp_path / "skeleton"),
        "--out", str(tmp_path / "out.json"), "--cell-timeout", "20", "--memory-limit-mb", "2048", "--no-jail",
        str(notebook),
    ]  # fmt: skip
    exit_code = run_check(argv, tmp_path / "check.log", timeout=300)
    assert exit_code == 0, (tmp_path / "check.log").read_text()
    return {c["grade_id"]: c for c in json.loads((tmp_path / "out.json").read_text())["notebooks"]["nb"]["cells"]}


PREAMBLE = """
from unittest import mock
import numpy as np
from gmm_student import tricks
"""


def _outcomes(cells: dict) -> list[tuple[str, bool, str, bool]]:
    """(grade id, passed, outcome, misused grader code) of each cell, in order."""
    return [(c["grade_id"], c["passed"], c["outcome"], c["misused_grader_code"]) for c in cells.values()]


@pytest.mark.slow
def test_a_cell_that_calls_grader_code_no_longer_in_force_fails_even_if_its_test_passes(tmp_path):
    cells = _clean_check(
        tmp_path,
        {
            "keeps": PREAMBLE + "with mock.patch.object(tricks, 'helper', lambda n: 10 * n):\n"
            "    assert tricks.keep_helper(2) == 20\n",
            "uses_kept": PREAMBLE + "try:\n    tricks.use_kept(3)\nexcept Exception:\n    pass  # a test that "
            "swallows the error: the cell fails all the same\n",
            "honest_after": PREAMBLE + "assert tricks.helper(1) == -1\n",
        },
    )
    assert _outcomes(cells) == [
        ("keeps", True, "passed", False),
        ("uses_kept", False, "misuse", True),
        ("honest_after", True, "passed", False),
    ]


@pytest.mark.slow
def test_a_patch_a_failed_cell_left_restored_is_in_force_again_when_the_next_cell_patches_it_back(tmp_path):
    # The first cell fails inside its patch, so the restore reaches the student's process
    # only with the next call; the next cell patches in the same function again.
    cells = _clean_check(
        tmp_path,
        {
            "fails_inside_the_patch": PREAMBLE + "def ten_times(n):\n    return 10 * n\n\n\n"
            "with mock.patch.object(tricks, 'helper', ten_times):\n    assert tricks.call_helper(2) == 20\n"
            "    raise AssertionError('this test fails while its patch is in force')\n",
            "patches_it_back": PREAMBLE + "with mock.patch.object(tricks, 'helper', ten_times):\n"
            "    assert tricks.call_helper(3) == 30\n",
            "honest_after": PREAMBLE + "assert tricks.call_helper(1) == -1\n",
        },
    )
    assert _outcomes(cells) == [
        ("fails_inside_the_patch", False, "failed", False),
        ("patches_it_back", True, "passed", False),
        ("honest_after", True, "passed", False),
    ]


@pytest.mark.slow
def test_grader_code_called_back_cannot_allocate_without_bound(tmp_path):
    # 8 GiB of address space (np.zeros touches no page): more than the checker may grow by (1 GiB here).
    cells = _clean_check(
        tmp_path,
        {
            "allocates": PREAMBLE + "with mock.patch.object(tricks, 'helper', lambda n: np.zeros(n).size):\n"
            "    assert tricks.call_helper(2**30) == 'MemoryError'\n"
            "    assert tricks.call_helper(1000) == 1000\n",
        },
    )
    assert cells["allocates"]["passed"], cells["allocates"]["message"]


@pytest.mark.slow
def test_a_forbidden_numpy_function_is_forbidden_where_the_student_code_runs(tmp_path):
    forbid = """
def _forbidden(*args, **kwargs):
    raise AssertionError("np.linalg.det is forbidden here")
"""
    cells = _clean_check(
        tmp_path,
        {
            "allowed": PREAMBLE + "assert abs(tricks.logpdf(0.0) + 0.5 * np.log(2 * np.pi)) < 1e-12\n",
            "forbidden_by_mock": PREAMBLE + forbid + "with mock.patch.object(np.linalg, 'det', _forbidden):\n"
            "    tricks.logpdf(0.0)\n",
            "forbidden_by_assignment": PREAMBLE + forbid + "original = np.linalg.det\nnp.linalg.det = _forbidden\n"
            "try:\n    tricks.logpdf(0.0)\nfinally:\n    np.linalg.det = original\n",
            "allowed_again": PREAMBLE + "tricks.logpdf(0.0)\n",
            "errstate": PREAMBLE + "with np.errstate(over='raise'):\n    try:\n        tricks.overflow()\n"
            "    except FloatingPointError:\n        pass\n    else:\n        raise AssertionError('no error')\n",
        },
    )
    assert {name: cell["passed"] for name, cell in cells.items()} == {
        "allowed": True,
        "forbidden_by_mock": False,
        "forbidden_by_assignment": False,
        "allowed_again": True,
        "errstate": True,
    }
    assert "np.linalg.det is forbidden here" in cells["forbidden_by_mock"]["message"]


def _clean_check_of_the_reference(tmp_path: Path, notebook: str, change) -> list[dict]:
    """The cells of a real clean check of source notebook ``notebook`` against the reference as the student's
    package, after ``change(own)`` (``own`` holds that package as ``gmm_student``)."""
    own = tmp_path / "clean"
    shutil.copytree(
        REPO / "solutions" / "gmm_reference", own / "gmm_student", ignore=shutil.ignore_patterns("__pycache__")
    )
    (own / "gmm_student" / "testing.py").unlink()
    change(own)
    argv = [
        "--own-dir", str(own), "--skeleton-parent", str(REPO / "course"), "--out", str(tmp_path / "out.json"),
        "--no-jail", str(REPO / "source_notebooks" / notebook),
    ]  # fmt: skip
    assert run_check(argv, tmp_path / "check.log", timeout=600) == 0, (tmp_path / "check.log").read_text()
    return json.loads((tmp_path / "out.json").read_text())["notebooks"][Path(notebook).stem]["cells"]


@pytest.mark.slow
def test_a_logsumexp_that_returns_a_0d_array_scores_like_one_that_returns_a_float(tmp_path):
    def returns_a_0d_array(own: Path) -> None:
        with (own / "gmm_student" / "logsumexp.py").open("a") as module:
            module.write(
                "\n_float_logsumexp = logsumexp\n\n\ndef logsumexp(a, axis=None, keepdims=False):\n"
                "    return np.asarray(_float_logsumexp(a, axis=axis, keepdims=keepdims))\n"
            )

    cells = _clean_check_of_the_reference(tmp_path, "03_log_sum_exp.ipynb", returns_a_0d_array)
    assert [(c["grade_id"], c["message"]) for c in cells if not c["passed"]] == []


def _in_place_mutants():
    from gmm_course.mutants import CATALOGUE

    return [
        pytest.param(notebook, mutant, id=mutant.name)
        for notebook, mutants in CATALOGUE.items()
        for mutant in mutants
        if "in_place" in mutant.name and not mutant.file.endswith(".ipynb")
    ]


@pytest.mark.slow
@pytest.mark.parametrize(("notebook", "mutant"), _in_place_mutants())
def test_a_function_that_changes_its_input_in_place_fails_the_same_cells_in_the_clean_check(tmp_path, notebook, mutant):
    # The kernel runs the tests with the student's code in-process (the mutant catalogue's
    # `fails` is checked there); the clean check must charge the same cells, no more.
    cells = _clean_check_of_the_reference(tmp_path, notebook, mutant.apply)
    failed = {c["grade_id"]: (c["outcome"], c["message"][:300]) for c in cells if not c["passed"]}
    assert set(failed) == set(mutant.fails), failed
    assert all(outcome == "failed" for outcome, _ in failed.values()), failed
