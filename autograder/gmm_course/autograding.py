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


def autograde_class(
    workspace: Workspace, students: list[str] | None = None, force: bool = False, progress: bool = True
) -> list[GradingOutcome]:
    """Grade the named (default: all imported) students; return one outcome each."""
    pin_threads()
    everyone = imported_students(workspace)
    unknown = sorted(set(students or []) - set(everyone))
    if unknown:
        raise ValueError(f"not imported: {', '.join(unknown)} (run `gmm-course import` first)")
    todo = students or everyone
    state = load_state(workspace.root)
    outcomes = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="student", desc="autograde")
    for student in todo:
        fingerprint = submission_hash(workspace.submitted_dir(student))
        previous = state.get(student, {})
        if not force and previous.get("hash") == fingerprint and previous.get("status") == "graded":
            outcomes.append(GradingOutcome(student, "skipped", 0.0))
        else:
            start = time.perf_counter()
            result = workspace.autograde(student)
            seconds = time.perf_counter() - start
            status = "graded" if result["success"] else "failed"
            error = "" if result["success"] else (result.get("error") or result.get("log") or "")[-3000:]
            state[student] = {"hash": fingerprint, "status": status, "seconds": round(seconds, 2)}
            save_state(workspace.root, state)
            outcomes.append(GradingOutcome(student, status, seconds, error))
        if bar is not None:
            bar.set_postfix_str(student)
            bar.update()
    if bar is not None:
        bar.close()
    return outcomes
