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

from .environment import pin_threads
from .grading import Workspace
from .pipeline import GradingOptions, SubmissionResult, grade_submission
from .record import record_submission

STATE_FILE = "grading_state.json"


@dataclass(frozen=True)
class GradingOutcome:
    student: str
    status: str  # "graded", "skipped" (unchanged since last graded) or "failed"
    seconds: float
    error: str = ""


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


def _grade_one(root: str, student: str, options: GradingOptions) -> SubmissionResult:
    """What a worker runs (a separate process): grade one student, touch no gradebook."""
    pin_threads()
    return grade_submission(Path(root), student, options)


def autograde_class(
    workspace: Workspace,
    students: list[str] | None = None,
    force: bool = False,
    progress: bool = True,
    options: GradingOptions | None = None,
    jobs: int = 1,
) -> list[GradingOutcome]:
    """Grade the named (default: all imported) students; return one outcome each.

    With ``jobs > 1`` students are graded in that many worker processes; this process
    alone writes the gradebook, the results and the state file, after each student.
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
    pending: list[tuple[str, str]] = []
    for student in todo:
        fingerprint = submission_hash(workspace.submitted_dir(student))
        previous = state.get(student, {})
        if not force and previous.get("hash") == fingerprint and previous.get("status") == "graded":
            outcomes.append(GradingOutcome(student, "skipped", 0.0))
        else:
            pending.append((student, fingerprint))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(pending), unit="student", desc="autograde")

    def finish(student: str, fingerprint: str, result: SubmissionResult | None, error: str, seconds: float) -> None:
        if result is not None:
            record_submission(workspace.database_url, workspace.root, result)
            _save_result(workspace.root, result)
        status = "graded" if result is not None else "failed"
        state[student] = {"hash": fingerprint, "status": status, "seconds": round(seconds, 2)}
        save_state(workspace.root, state)
        outcomes.append(GradingOutcome(student, status, seconds, error))
        if bar is not None:
            bar.set_postfix_str(student)
            bar.update()

    if jobs <= 1:
        for student, fingerprint in pending:
            start = time.perf_counter()
            try:
                result, error = grade_submission(workspace.root, student, options), ""
            except Exception as failure:  # noqa: BLE001 - one broken submission must not stop the class
                result, error = None, f"{type(failure).__name__}: {failure}"[-3000:]
            finish(student, fingerprint, result, error, time.perf_counter() - start)
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        started = {}
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {}
            for student, fingerprint in pending:
                futures[pool.submit(_grade_one, str(workspace.root), student, options)] = (student, fingerprint)
                started[student] = time.perf_counter()
            for future in as_completed(futures):
                student, fingerprint = futures[future]
                try:
                    result, error = future.result(), ""
                except Exception as failure:  # noqa: BLE001
                    result, error = None, f"{type(failure).__name__}: {failure}"[-3000:]
                seconds = result.seconds.get("total", 0.0) if result else time.perf_counter() - started[student]
                finish(student, fingerprint, result, error, seconds)
    if bar is not None:
        bar.close()
    order = {s: i for i, s in enumerate(todo)}
    return sorted(outcomes, key=lambda o: order[o.student])
