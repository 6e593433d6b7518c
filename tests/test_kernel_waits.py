"""Every wait of the kernel stage is bounded and reported (issue 11, property 7).

A cell past its timeout is interrupted; a kernel that ignores the interrupt is killed and restarted for the
following cells, instead of making each of them wait its whole timeout behind the running one; the submission's
budget bounds the whole stage; and a cell that did not finish is never reported as passed.
"""

from __future__ import annotations

import time

import pytest

from gmm_course.kernel_stage import INTERRUPT_GRACE_SECONDS, run_kernel_stage
from gmm_course.sandbox.jail import jail_available

from .notebook_factory import graded_notebook

pytestmark = pytest.mark.slow

IGNORES_SIGINT = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
KERNEL_RESTART = 10  # seconds, generous: a kernel starts in about 0.4 s on an idle machine


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


@pytest.mark.parametrize("use_jail", [False, pytest.param(True, id="jail")])
def test_a_kernel_that_ignores_the_interrupt_is_killed_and_the_next_cells_run_in_a_new_one(tmp_path, use_jail):
    if use_jail and not jail_available():
        pytest.skip("this machine does not allow unprivileged user namespaces (the jail)")
    timeout = 2
    following = ["print('x' in globals())", "assert True", "assert True", "assert True", "assert False, 'wrong'"]
    clock = time.monotonic()
    nb, cells, events, _ = run_kernel_stage(
        graded_notebook("x = 1", IGNORES_SIGINT, *following),
        tmp_path,
        cell_timeout=timeout,
        use_jail=use_jail,
        memory_limit_mb=2048,
    )
    elapsed = time.monotonic() - clock
    # Before: each following cell waited its timeout plus nbclient's 4 s IOPub wait behind the looping cell.
    assert elapsed < 3 * timeout + INTERRUPT_GRACE_SECONDS + KERNEL_RESTART, elapsed
    by_id = {c.grade_id: c for c in cells}
    assert (by_id["test_1"].passed, by_id["test_1"].reliable) == (False, False)  # never "passed"
    assert any(o.get("ename") == "CellTimeoutError" for o in nb.cells[1].outputs)
    assert _stdout(nb.cells[2]).strip() == "False", "the following cells ran in the old kernel"
    assert [by_id[f"test_{i}"].passed for i in range(2, 7)] == [True, True, True, True, False]
    assert not any(c.reliable for c in cells[1:])  # a new kernel lacks the earlier cells' state: not compared
    assert len(events) == 1 and "cell 1: it ran past 2 s" in events[0]
    assert "ignored the interrupt" in events[0] and "killed and restarted" in events[0]


def test_a_kernel_that_answers_the_interrupt_is_kept_and_the_cell_fails(tmp_path):
    nb, cells, events, _ = run_kernel_stage(
        graded_notebook("x = 1", "while True:\n    pass", "print('x' in globals())"),
        tmp_path,
        cell_timeout=2,
        use_jail=False,
        memory_limit_mb=2048,
    )
    assert [(c.passed, c.reliable) for c in cells] == [(True, True), (False, False), (True, True)]
    assert any(o.get("ename") == "CellTimeoutError" for o in nb.cells[1].outputs)
    assert _stdout(nb.cells[2]).strip() == "True"  # the same kernel: its state is still there
    assert events == ["cell 1: it ran past 2 s; it was interrupted"]


def test_the_budget_bounds_the_kernel_stage_and_the_cells_after_it_are_reported(tmp_path):
    budget = 3.0
    sources = ["import time", *["time.sleep(1)"] * 8]
    clock = time.monotonic()
    nb, cells, events, _ = run_kernel_stage(
        graded_notebook(*sources),
        tmp_path,
        cell_timeout=60,
        use_jail=False,
        memory_limit_mb=2048,
        deadline=clock + budget,
    )
    elapsed = time.monotonic() - clock
    assert elapsed < budget + 1 + INTERRUPT_GRACE_SECONDS + 2, elapsed  # a cell is cut at the deadline
    assert len(cells) == len(sources)  # every test cell is there, run or not
    unfinished = [c for c in cells if not c.passed]
    assert unfinished and all(not c.reliable for c in unfinished)
    assert cells[-1].passed is False and nb.cells[-1].outputs[0].ename == "NotRun"
    assert any("time budget ran out" in e and "were not run" in e for e in events), events


def test_a_notebook_after_the_budget_is_not_started(tmp_path):
    clock = time.monotonic()
    nb, cells, events, timings = run_kernel_stage(
        graded_notebook("x = 1", "assert x == 1"),
        tmp_path,
        cell_timeout=60,
        use_jail=False,
        memory_limit_mb=2048,
        deadline=clock - 1,
    )
    assert time.monotonic() - clock < 1 and timings.start == 0  # no kernel started
    assert [(c.passed, c.reliable) for c in cells] == [(False, False), (False, False)]
    assert events == ["the submission's time budget ran out before this notebook: no cell of it was run"]
