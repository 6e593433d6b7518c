"""Import student submissions (folders or zips, as an LMS exports them) into nbgrader's layout.

Every submission is read, never modified. A zip is extracted entry by entry into a
scratch folder with its paths and sizes checked (no absolute paths, no ``..``, no
links, no more than ``MAX_FILES`` files or ``MAX_BYTES`` bytes, whatever the headers
claim). The folder holding the notebooks is found (a zip often wraps everything in a
top folder) and copied to ``submitted/<student>/gmm_em`` with a ``timestamp.txt``.
Whatever cannot be taken is reported with the student, the file and the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

MAX_FILES = 2_000
MAX_BYTES = 200 * 1024 * 1024
MAX_FILE_BYTES = 50 * 1024 * 1024
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"


class SubmissionError(ValueError):
    """A submission that cannot be imported; the message says why."""


@dataclass(frozen=True)
class ImportNote:
    """One line of the import report."""

    student: str
    file: str
    problem: str
    action: str

    def __str__(self) -> str:
        return f"{self.student}: {self.file}: {self.problem} -> {self.action}"


@dataclass(frozen=True)
class ImportedSubmission:
    student: str
    source: Path
    timestamp: datetime
    notebooks: tuple[str, ...]


def student_id_for(entry: Path) -> str:
    """The student id an LMS entry stands for: its name without ``.zip``, checked."""
    name = entry.name[:-4] if entry.name.lower().endswith(".zip") else entry.name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise SubmissionError("the name is not valid UTF-8") from None
    if not STUDENT_ID.match(name):
        raise SubmissionError(
            f"{name!r} is not a usable student id (letters, digits, '.', '_' and '-', at most 64 characters)"
        )
    return name


def _safe_member_path(name: str) -> PurePosixPath:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise SubmissionError(f"zip entry {name!r} has a name that is not valid UTF-8") from None
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name):
        raise SubmissionError(f"zip entry {name!r} has an absolute path")
    if ".." in path.parts:
        raise SubmissionError(f"zip entry {name!r} points outside the submission ('..')")
    return path


def extract_zip(archive: Path, target: Path) -> list[ImportNote]:
    """Extract ``archive`` into ``target`` safely; return notes on entries that were skipped."""
    notes = []
    try:
        handle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise SubmissionError(f"not a readable zip file ({error})") from None
    with handle:
        members = handle.infolist()
        if len(members) > MAX_FILES:
            raise SubmissionError(f"holds {len(members)} entries, more than the {MAX_FILES} allowed")
        total = 0
        for member in members:
            path = _safe_member_path(member.filename)
            mode = member.external_attr >> 16
            if stat.S_ISLNK(mode):
                notes.append(ImportNote("", member.filename, "is a symbolic link", "skipped"))
                continue
            if member.is_dir():
                (target / path).mkdir(parents=True, exist_ok=True)
                continue
            destination = target / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with handle.open(member) as source, open(destination, "wb") as sink:
                while chunk := source.read(1 << 20):
                    written += len(chunk)
                    total += len(chunk)
                    if written > MAX_FILE_BYTES or total > MAX_BYTES:
                        raise SubmissionError(
                            f"expands beyond the size limit at {member.filename!r} "
                            f"({MAX_FILE_BYTES >> 20} MiB a file, {MAX_BYTES >> 20} MiB in all): a zip bomb?"
                        )
                    sink.write(chunk)
    return notes


def copy_folder(folder: Path, target: Path) -> list[ImportNote]:
    """Copy a submission folder, skipping links and anything but regular files; return notes."""
    notes = []
    count = total = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        root_path = Path(root)
        for name in list(dirs):
            if (root_path / name).is_symlink():
                notes.append(ImportNote("", str((root_path / name).relative_to(folder)), "is a link", "skipped"))
                dirs.remove(name)
        for name in files:
            path = root_path / name
            relative = path.relative_to(folder)
            try:
                str(relative).encode("utf-8")
            except UnicodeEncodeError:
                notes.append(ImportNote("", repr(str(relative)), "file name is not valid UTF-8", "skipped"))
                continue
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                notes.append(ImportNote("", str(relative), "is a link or special file", "skipped"))
                continue
            count += 1
            total += info.st_size
            if count > MAX_FILES or total > MAX_BYTES:
                raise SubmissionError(f"holds more than {MAX_FILES} files or {MAX_BYTES >> 20} MiB")
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
    return notes


def find_assignment_root(folder: Path, notebook_names: list[str]) -> Path:
    """The shallowest folder under ``folder`` that holds one of the expected notebooks."""
    candidates = []
    for notebook in folder.rglob("*.ipynb"):
        if notebook.name in notebook_names and ".ipynb_checkpoints" not in notebook.parts:
            candidates.append(notebook.parent)
    if not candidates:
        found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.ipynb"))
        raise SubmissionError(
            "holds none of the course notebooks " + (f"(found {', '.join(found)})" if found else "(no notebook at all)")
        )
    return min(candidates, key=lambda p: (len(p.relative_to(folder).parts), str(p)))


def read_timestamp(folder: Path) -> datetime:
    """The submission time: its own timestamp.txt if valid, else the newest file's mtime (UTC)."""
    stamp = folder / "timestamp.txt"
    if stamp.is_file():
        from nbgrader.utils import parse_utc

        try:
            return parse_utc(stamp.read_text(encoding="utf-8", errors="replace").strip()).replace(tzinfo=UTC)
        except (ValueError, OverflowError):
            pass  # fall back on the files' own times
    newest = max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0.0)
    return datetime.fromtimestamp(newest, UTC)


def import_submissions(
    submissions_dir: Path, submitted_dir: Path, notebook_names: list[str], assignment_id: str
) -> tuple[list[ImportedSubmission], list[ImportNote]]:
    """Import every student entry of ``submissions_dir``; return (imported, report notes)."""
    imported, notes = [], []
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"{submissions_dir}: no such folder of submissions")
    entries = sorted(os.scandir(submissions_dir), key=lambda e: e.name)
    seen: dict[str, str] = {}
    for entry in entries:
        path = Path(entry.path)
        label = entry.name
        try:
            student = student_id_for(path)
        except SubmissionError as error:
            notes.append(ImportNote("?", repr(label), str(error), "not imported"))
            continue
        if entry.is_symlink():
            notes.append(ImportNote(student, label, "is a link", "not imported"))
            continue
        if not (entry.is_dir() or (entry.is_file() and label.lower().endswith(".zip"))):
            notes.append(ImportNote(student, label, "is neither a folder nor a .zip file", "not imported"))
            continue
        if student in seen:
            notes.append(ImportNote(student, label, f"a second submission (after {seen[student]})", "not imported"))
            continue
        seen[student] = label
        with tempfile.TemporaryDirectory(prefix="gmm-import-") as scratch:
            unpacked = Path(scratch) / "unpacked"
            unpacked.mkdir()
            try:
                entry_notes = extract_zip(path, unpacked) if entry.is_file() else copy_folder(path, unpacked)
                root = find_assignment_root(unpacked, notebook_names)
            except SubmissionError as error:
                notes.append(ImportNote(student, label, str(error), "not imported"))
                continue
            notes += [ImportNote(student, n.file, n.problem, n.action) for n in entry_notes]
            present = sorted(p.name for p in root.glob("*.ipynb"))
            for missing in sorted(set(notebook_names) - set(present)):
                notes.append(ImportNote(student, missing, "notebook missing", "imported the rest; scores 0"))
            timestamp = read_timestamp(root)
            target = submitted_dir / student / assignment_id
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(root, target)
            (target / "timestamp.txt").write_text(timestamp.strftime(TIMESTAMP_FORMAT) + "\n")
            imported.append(ImportedSubmission(student, path, timestamp, tuple(present)))
    return imported, notes
