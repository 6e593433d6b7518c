"""Autograde imported submissions, resumably: a crash or Ctrl-C loses nothing.

After each student is graded, ``grading_state.json`` (written atomically) records a
hash of the submission that was graded. A later run skips students whose submission
is unchanged and already graded, and grades the rest, so an interrupted class
finishes where it stopped; ``force`` re-grades everyone (with identical results:
grading is deterministic).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from . import runners
from .environment import pin_threads
from .grading import Workspace
from .pipeline import GradingOptions, SubmissionResult
from .record import record_submission

STATE_FILE = "grading_state.json"


@dataclass(frozen=True)
class GradingOutcome:
    student: str
    status: str  # "graded", "skipped" (unchanged since last graded) or "failed"
    seconds: float
    error: str = ""
    record_seconds: float = 0.0  # writing the gradebook and the result file, in this process


def submission_hash(folder: Path) -> str:
    """SHA-256 over the relative paths and contents of every file of a submission."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def load_state(root: Path) -> dict:
    path = root / STATE_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}  # a state file cut short by a crash: grade everything again


def save_state(root: Path, state: dict) -> None:
    path = root / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(temporary, path)


def imported_students(workspace: Workspace) -> list[str]:
    submitted = workspace.root / "submitted"
    return sorted(p.name for p in submitted.iterdir() if p.is_dir()) if submitted.exists() else []


def results_dir(root: Path) -> Path:
    return root / "results"


def load_result(root: Path, student: str) -> SubmissionResult | None:
    path = results_dir(root) / f"{student}.json"
    return SubmissionResult.from_json(json.loads(path.read_text())) if path.exists() else None


def _save_result(root: Path, result: SubmissionResult) -> None:
    folder = results_dir(root)
    folder.mkdir(exist_ok=True)
    temporary = folder / f".{result.student}.tmp"
    temporary.write_text(json.dumps(result.to_json(), indent=1))
    os.replace(temporary, folder / f"{result.student}.json")


def autograde_class(
    workspace: Workspace,
    students: list[str] | None = None,
    force: bool = False,
    progress: bool = True,
    options: GradingOptions | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
) -> list[GradingOutcome]:
    """Grade the named (default: all imported) students; return one outcome each, in the class's order.

    Where they are graded: in this process (``jobs == 1``), in ``jobs`` local worker processes, or, given a
    ``scheduler`` address, on that Dask cluster. Wherever it is, this process alone writes the gradebook, the
    results and the state file, after each student, so the grades are the same every way.
    """
    pin_threads()
    options = options or GradingOptions(cell_timeout=workspace.cell_timeout)
    everyone = imported_students(workspace)
    unknown = sorted(set(students or []) - set(everyone))
    if unknown:
        raise ValueError(f"not imported: {', '.join(unknown)} (run `gmm-course import` first)")
    todo = students or everyone
    state = load_state(workspace.root)
    outcomes: list[GradingOutcome] = []
    fingerprints: dict[str, str] = {}
    for student in todo:
        fingerprint = submission_hash(workspace.submitted_dir(student))
        previous = state.get(student, {})
        if not force and previous.get("hash") == fingerprint and previous.get("status") == "graded":
            outcomes.append(GradingOutcome(student, "skipped", 0.0))
        else:
            fingerprints[student] = fingerprint
    pending = list(fingerprints)
    if scheduler:
        graded = runners.on_dask_cluster(workspace.root, pending, options, scheduler)
    elif jobs > 1 and len(pending) > 1:
        graded = runners.in_local_processes(workspace.root, pending, options, jobs)
    else:
        graded = runners.in_this_process(workspace.root, pending, options)
    bar = None
    if progress and pending:
        from tqdm import tqdm

        bar = tqdm(total=len(pending), unit="student", desc="autograde")  # its rate gives the time left
    try:
        for done in graded:
            clock = time.perf_counter()
            if done.result is not None:
                record_submission(workspace.database_url, workspace.root, done.result)
                _save_result(workspace.root, done.result)
            status = "graded" if done.result is not None else "failed"
            entry = {"hash": fingerprints[done.student], "status": status, "seconds": round(done.seconds, 2)}
            state[done.student] = entry
            save_state(workspace.root, state)
            recording = time.perf_counter() - clock
            outcomes.append(GradingOutcome(done.student, status, done.seconds, done.error, recording))
            if bar is not None:
                bar.set_postfix_str(done.student)
                bar.update()
    finally:
        graded.close()  # on Ctrl-C: stop the workers (what is recorded so far stays)
        if bar is not None:
            bar.close()
    order = {s: i for i, s in enumerate(todo)}
    return sorted(outcomes, key=lambda o: order[o.student])
