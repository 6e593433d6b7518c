"""Where submissions are graded: in this process, in local worker processes, or on a Dask cluster.

Each runner takes the course folder, the students to grade and the grading options, and yields one
:class:`Graded` per student as soon as that student is done, in any order. A runner never touches the
gradebook: the caller (:func:`gmm_course.autograding.autograde_class`) records each result itself, so there is
exactly one gradebook writer however many processes or machines grade.

A worker that dies (killed, out of memory) loses nothing: its students are graded again elsewhere, up to
:data:`MAX_ATTEMPTS` times in all, after which the student is reported as failed with the reason.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .environment import pin_threads
from .pipeline import GradingOptions, SubmissionResult, grade_submission

#: How many times a student is started on a worker that then dies, before we give up on that student.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Graded:
    """One student's outcome from a runner: a result, or the error that prevented one."""

    student: str
    result: SubmissionResult | None
    error: str
    seconds: float  # wall-clock seconds the grading took on its worker (or until it failed)


def grade_one(root: str, student: str, options: GradingOptions) -> SubmissionResult:
    """What a worker runs (a separate process, maybe another machine): grade one student, touch no gradebook."""
    pin_threads()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return grade_submission(Path(root), student, options)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[-3000:]


def _graded(student: str, result: SubmissionResult) -> Graded:
    return Graded(student, result, "", result.seconds.get("total", 0.0))


def in_this_process(root: Path, students: Sequence[str], options: GradingOptions) -> Iterator[Graded]:
    """Grade one student after another in this process (``--jobs 1``)."""
    for student in students:
        start = time.perf_counter()
        try:
            yield _graded(student, grade_submission(root, student, options))
        except Exception as failure:  # noqa: BLE001 - one broken submission must not stop the class
            yield Graded(student, None, _describe(failure), time.perf_counter() - start)


def in_local_processes(root: Path, students: Sequence[str], options: GradingOptions, jobs: int) -> Iterator[Graded]:
    """Grade ``jobs`` students at a time, each in a worker process of this machine (``--jobs N``).

    When a worker process dies, Python's pool breaks and fails every student it still held: those are graded
    again in a new pool (a student is given up after being in :data:`MAX_ATTEMPTS` broken pools).
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    attempts: Counter[str] = Counter()
    queue = list(students)
    while queue:
        started = time.perf_counter()
        retry: list[str] = []
        with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(queue)))) as pool:
            futures = {pool.submit(grade_one, str(root), student, options): student for student in queue}
            for future in as_completed(futures):
                student = futures[future]
                try:
                    yield _graded(student, future.result())
                except BrokenProcessPool:
                    attempts[student] += 1
                    if attempts[student] < MAX_ATTEMPTS:
                        retry.append(student)
                    else:
                        reason = f"a worker process died each of the {MAX_ATTEMPTS} times this student was graded"
                        yield Graded(student, None, reason, time.perf_counter() - started)
                except Exception as failure:  # noqa: BLE001
                    yield Graded(student, None, _describe(failure), time.perf_counter() - started)
        queue = [student for student in students if student in retry]  # in the class's order
        if queue:
            print(f"a worker process died: grading {', '.join(queue)} again", file=sys.stderr, flush=True)


def on_dask_cluster(
    root: Path, students: Sequence[str], options: GradingOptions, scheduler: str, connect_timeout: float = 30.0
) -> Iterator[Graded]:
    """Grade on the Dask cluster whose scheduler is at ``scheduler`` (``--scheduler tcp://host:8786``).

    The workers need the course environment (this package installed) and the course folder at the same path as
    here (a shared file system). Dask runs a task again on another worker when the worker running it dies, up
    to its ``distributed.scheduler.allowed-failures`` (3 by default); then the student is reported as failed.
    """
    from distributed import Client, as_completed
    from distributed.scheduler import KilledWorker

    run = uuid.uuid4().hex[:8]
    with Client(scheduler, timeout=connect_timeout) as client:
        futures = {
            client.submit(grade_one, str(root), student, options, key=f"gmm-grade-{run}-{student}", pure=False): student
            for student in students
        }
        started = time.perf_counter()
        for future in as_completed(futures):
            student = futures[future]
            try:
                yield _graded(student, future.result())
            except KilledWorker as failure:
                reason = f"its Dask worker died each time this student was graded ({failure})"
                yield Graded(student, None, reason[-3000:], time.perf_counter() - started)
            except Exception as failure:  # noqa: BLE001
                yield Graded(student, None, _describe(failure), time.perf_counter() - started)
            finally:
                future.release()
