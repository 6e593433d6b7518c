"""Import student submissions (folders or zips, as an LMS exports them) into nbgrader's layout.

Every submission is read, never modified. A zip is extracted entry by entry into a
scratch folder with its paths and sizes checked (no absolute paths, no ``..``, no
links, no more than ``MAX_FILES`` files or ``MAX_BYTES`` bytes, whatever the headers
claim). The folder holding the notebooks is found (a zip often wraps everything in a
top folder) and copied to ``submitted/<student>/gmm_em`` with a ``timestamp.txt``.
Whatever cannot be taken is reported with the student, the file and the reason.

What is not coursework is left out quietly, before any limit is counted: virtual
environments (a folder holding ``pyvenv.cfg``, without a notebook of its own), and
``__pycache__``, ``.ipynb_checkpoints`` and ``.git`` folders. A student who zips the
course folder with the environment the README once told them to create inside it is
imported; the import run ends with one line saying how many such folders were left out.

One bad input costs one student at most, never the class: a zip entry that cannot be
extracted (encrypted, damaged, a name too long, a file and a folder of one name, an
entry that names no file) is skipped with a note, and any other failure while importing
one entry becomes that entry's note ("not imported") while the rest are imported.
Student ids are checked whole (no trailing newline) and must differ in more than
case. The submission time is the platform's: the LMS's own listing of times where
one is given, else the time the export wrote the student's entry (its file time);
never a file the student wrote (a ``timestamp.txt`` in the submission is ignored,
with a note).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from .plain_text import printable

MAX_FILES = 2_000  # after leaving out what is not coursework (SKIPPED_FOLDERS, virtual environments)
MAX_ENTRIES = 100 * MAX_FILES  # entries of a zip's directory, those left out included
SKIPPED_FOLDERS = frozenset({"__pycache__", ".ipynb_checkpoints", ".git"})
VENV_MARKER = "pyvenv.cfg"  # a folder holding it is a virtual environment
MAX_BYTES = 200 * 1024 * 1024
MAX_FILE_BYTES = 50 * 1024 * 1024
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # matched whole (fullmatch): no trailing newline
MAX_NAME_BYTES = 255  # one file or folder name, on Linux file systems
STAMP_FILE = "timestamp.txt"  # nbgrader's: written by the import, never taken from the student
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
        """The note as one printable line (no escape sequence or newline of the student's reaches a terminal)."""
        who = f"{self.student}: " if self.student else ""  # no student: a note on the whole import run
        return printable(f"{who}{self.file}: {self.problem} -> {self.action}")


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
    if not STUDENT_ID.fullmatch(name):
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


def describe(error: BaseException) -> str:
    """A short, path-free account of ``error`` for a report line."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror  # without the scratch folder's path, which means nothing to the instructor
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _member_problem(member: zipfile.ZipInfo, path: PurePosixPath) -> str:
    """Why ``member`` cannot be extracted, judged from its header alone ("" if it can be tried)."""
    if member.flag_bits & 0x1:
        return "is encrypted (password-protected): it cannot be read"
    if not path.parts:
        return "names no file"
    if any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in path.parts):
        return f"has a name longer than {MAX_NAME_BYTES} bytes"
    return ""


def is_left_out(folder: Path) -> bool:
    """Whether the folder ``folder`` of a submission is no coursework: a virtual environment or a tool's folder."""
    if folder.name in SKIPPED_FOLDERS:
        return True
    return (folder / VENV_MARKER).is_file() and not any(folder.glob("*.ipynb"))


def _left_out_prefix(path: PurePosixPath, environments: set[PurePosixPath]) -> PurePosixPath | None:
    """The folder of a zip entry's ``path`` that is left out (see :func:`is_left_out`), or None."""
    for depth, part in enumerate(path.parts, start=1):
        prefix = PurePosixPath(*path.parts[:depth])
        if part in SKIPPED_FOLDERS or prefix in environments:
            return prefix
    return None


def _zip_environments(paths: list[PurePosixPath]) -> set[PurePosixPath]:
    """The virtual environments of a zip: folders (not its top) holding ``pyvenv.cfg`` and no notebook of their own."""
    with_notebooks = {p.parent for p in paths if p.suffix == ".ipynb"}
    return {p.parent for p in paths if p.name == VENV_MARKER and p.parent.parts and p.parent not in with_notebooks}


def extract_zip(archive: Path, target: Path, left_out: set[str] | None = None) -> list[ImportNote]:
    """Extract ``archive`` into ``target`` safely; return notes on entries that were skipped.

    Raises :class:`SubmissionError` for what makes the whole zip suspect (not a zip, unsafe paths, too many
    entries, too many bytes); an entry that merely cannot be extracted is skipped with a note. Folders that are
    no coursework (:func:`is_left_out`) are not extracted, without a note, and count towards no limit; their
    paths are added to ``left_out``.
    """
    notes = []
    left_out = set() if left_out is None else left_out
    try:
        handle = zipfile.ZipFile(archive)
        members = handle.infolist()
    except Exception as error:  # noqa: BLE001 - BadZipFile, OSError, and whatever a crafted header raises
        raise SubmissionError(f"not a readable zip file ({describe(error)})") from None
    with handle:
        if len(members) > MAX_ENTRIES:
            raise SubmissionError(f"holds {len(members)} entries, more than the {MAX_ENTRIES} allowed")
        paths = [_safe_member_path(member.filename) for member in members]
        environments = _zip_environments(paths)
        kept = []
        for member, path in zip(members, paths, strict=True):
            prefix = _left_out_prefix(path, environments)
            if prefix is None:
                kept.append((member, path))
            else:
                left_out.add(prefix.as_posix())
        if len(kept) > MAX_FILES:
            raise SubmissionError(
                f"holds {len(kept)} entries (virtual environments and {', '.join(sorted(SKIPPED_FOLDERS))} left "
                f"out), more than the {MAX_FILES} allowed"
            )
        total = 0
        for member, path in kept:
            mode = member.external_attr >> 16
            if stat.S_ISLNK(mode):
                notes.append(ImportNote("", member.filename, "is a symbolic link", "skipped"))
                continue
            problem = _member_problem(member, path)
            if problem:
                notes.append(ImportNote("", member.filename, problem, "skipped"))
                continue
            destination = target / path
            created = False
            try:
                if member.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with handle.open(member) as source, open(destination, "xb") as sink:
                    created = True
                    while chunk := source.read(1 << 20):  # the CRC is checked as the end is read
                        written += len(chunk)
                        total += len(chunk)
                        if written > MAX_FILE_BYTES or total > MAX_BYTES:
                            raise SubmissionError(
                                f"expands beyond the size limit at {member.filename!r} "
                                f"({MAX_FILE_BYTES >> 20} MiB a file, {MAX_BYTES >> 20} MiB in all): a zip bomb?"
                            )
                        sink.write(chunk)
            except SubmissionError:
                raise
            except FileExistsError:
                problem = "another entry already has this name (as a file or a folder)"
                notes.append(ImportNote("", member.filename, problem, "skipped"))
            except Exception as error:  # noqa: BLE001 - damaged (bad CRC), unsupported, a file and a folder of one name
                if created:
                    destination.unlink(missing_ok=True)  # no half-written file
                notes.append(ImportNote("", member.filename, f"could not be extracted ({describe(error)})", "skipped"))
    return notes


def copy_folder(folder: Path, target: Path, left_out: set[str] | None = None) -> list[ImportNote]:
    """Copy a submission folder, skipping links and anything but regular files; return notes.

    Folders that are no coursework (:func:`is_left_out`) are not copied, without a note, and count towards no
    limit; their paths are added to ``left_out``.
    """
    notes = []
    left_out = set() if left_out is None else left_out
    count = total = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        root_path = Path(root)
        for name in list(dirs):
            if (root_path / name).is_symlink():
                notes.append(ImportNote("", str((root_path / name).relative_to(folder)), "is a link", "skipped"))
                dirs.remove(name)
            elif is_left_out(root_path / name):
                left_out.add((root_path / name).relative_to(folder).as_posix())
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
            try:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
            except OSError as error:  # unreadable, or vanished while being copied
                notes.append(ImportNote("", str(relative), f"could not be copied ({describe(error)})", "skipped"))
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


def entry_time(entry: Path) -> datetime:
    """The time the export wrote a student's entry (folder or zip): its own modification time, in UTC.

    The platform sets it when it writes the export; no file inside the submission (which the student wrote, with
    whatever file times their zip tool recorded) is consulted.
    """
    return datetime.fromtimestamp(entry.lstat().st_mtime, UTC)


def read_times(listing: Path) -> dict[str, datetime]:
    """An LMS's own list of submission times: a CSV with the columns ``student`` and ``timestamp``.

    Times are ISO 8601 (``2026-11-20 10:30:00``, ``2026-11-20T10:30:00+01:00``); a time without a zone is UTC.
    """
    import csv

    times = {}
    with open(listing, newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                when = datetime.fromisoformat(row["timestamp"].strip())
                student = row["student"].strip()
            except (KeyError, AttributeError, ValueError) as error:
                raise ValueError(f"{listing}, line {line}: expected the columns student,timestamp ({error})") from None
            times[student] = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return times


def _ignore_own_stamp(root: Path):
    """A ``copytree`` filter that leaves out the student's own ``timestamp.txt`` (the import writes the real one)."""

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [STAMP_FILE] if Path(folder) == root and STAMP_FILE in names else []

    return ignore


def import_submissions(
    submissions_dir: Path,
    submitted_dir: Path,
    notebook_names: list[str],
    assignment_id: str,
    times: Mapping[str, datetime] | None = None,
) -> tuple[list[ImportedSubmission], list[ImportNote]]:
    """Import every student entry of ``submissions_dir``; return (imported, report notes).

    ``times``: the LMS's own submission time per student id (see :func:`read_times`); a student it does not list
    gets the time of their entry in the export (:func:`entry_time`), with a note.
    """
    imported, notes = [], []
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"{submissions_dir}: no such folder of submissions")
    entries = sorted(os.scandir(submissions_dir), key=lambda e: e.name)
    earlier = {}  # lower-cased id -> id, of the students imported before: a new id may not differ in case alone
    if submitted_dir.is_dir():
        earlier = {p.name.lower(): p.name for p in submitted_dir.iterdir() if p.is_dir()}
    claimed: dict[str, tuple[str, str]] = {}  # lower-cased id -> (id, entry) of this export
    left_out: dict[str, set[str]] = {}  # student -> folders left out of their submission (no coursework)
    for entry in entries:
        path = Path(entry.path)
        label = entry.name
        try:
            student = student_id_for(path)
        except SubmissionError as error:
            notes.append(ImportNote("?", repr(label), str(error), "not imported"))
            continue
        key = student.lower()
        if key in claimed:
            first, first_label = claimed[key]
            if first == student:
                notes.append(ImportNote(student, label, f"a second submission (after {first_label})", "not imported"))
            else:
                problem = f"differs only in case from the student id of {first_label!r}"
                notes.append(ImportNote(student, label, problem, "not imported (ids must differ in more than case)"))
            continue
        claimed[key] = (student, label)
        if earlier.get(key, student) != student:
            problem = f"differs only in case from the student id {earlier[key]!r}, imported before"
            notes.append(ImportNote(student, label, problem, "not imported (ids must differ in more than case)"))
            continue
        entry_notes: list[ImportNote] = []
        try:
            submission = _import_entry(
                entry,
                student,
                submitted_dir,
                notebook_names,
                assignment_id,
                times,
                entry_notes,
                left_out.setdefault(student, set()),
            )
        except SubmissionError as error:
            notes += entry_notes
            notes.append(ImportNote(student, label, str(error), "not imported"))
            continue
        except Exception as error:  # noqa: BLE001 - one entry's failure, whatever it is, must not stop the class
            notes += entry_notes
            notes.append(ImportNote(student, label, f"could not be imported ({describe(error)})", "not imported"))
            continue
        notes += entry_notes
        imported.append(submission)
    folders = sum(len(f) for f in left_out.values())
    if folders:
        students = sum(1 for f in left_out.values() if f)
        what = f"virtual environments, {', '.join(sorted(SKIPPED_FOLDERS))}"
        problem = f"{folders} folder(s) in {students} submission(s), not coursework"
        notes.append(ImportNote("", what, problem, "left out (not counted towards the size limits)"))
    return imported, notes


def _import_entry(
    entry: os.DirEntry,
    student: str,
    submitted_dir: Path,
    notebook_names: list[str],
    assignment_id: str,
    times: Mapping[str, datetime] | None,
    notes: list[ImportNote],
    left_out: set[str] | None = None,
) -> ImportedSubmission:
    """Import one entry of the export as ``student``'s submission, appending its notes to ``notes``.

    The folders left out as no coursework (see :func:`is_left_out`) are added to ``left_out``.

    The submission is staged next to its final place and moved there only when complete: a failure leaves
    nothing half-imported (and an earlier import of the student as it was).
    """
    path = Path(entry.path)
    label = entry.name
    if entry.is_symlink():
        raise SubmissionError("is a link")
    if not (entry.is_dir() or (entry.is_file() and label.lower().endswith(".zip"))):
        raise SubmissionError("is neither a folder nor a .zip file")
    if times is not None and student in times:
        timestamp = times[student]
    else:
        timestamp = entry_time(path)
        if times is not None:
            action = f"the time of its entry in the export is used ({timestamp:%Y-%m-%d %H:%M} UTC)"
            notes.append(ImportNote(student, label, "not in the LMS's list of submission times", action))
    with tempfile.TemporaryDirectory(prefix="gmm-import-") as scratch:
        unpacked = Path(scratch) / "unpacked"
        unpacked.mkdir()
        if entry.is_file():
            entry_notes = extract_zip(path, unpacked, left_out)
        else:
            entry_notes = copy_folder(path, unpacked, left_out)
        notes += [ImportNote(student, n.file, n.problem, n.action) for n in entry_notes]
        root = find_assignment_root(unpacked, notebook_names)
        present = sorted(p.name for p in root.glob("*.ipynb"))
        for missing in sorted(set(notebook_names) - set(present)):
            notes.append(ImportNote(student, missing, "notebook missing", "imported the rest; scores 0"))
        if (root / STAMP_FILE).exists() or (root / STAMP_FILE).is_symlink():
            action = "ignored: the submission time is the platform's, from the export"
            notes.append(ImportNote(student, STAMP_FILE, "the submission holds a timestamp file of its own", action))
        target = submitted_dir / student / assignment_id
        staging = target.with_name(f".{assignment_id}.importing")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(root, staging, ignore=_ignore_own_stamp(root))
            (staging / STAMP_FILE).write_text(timestamp.strftime(TIMESTAMP_FORMAT) + "\n")
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.exists():  # no empty student folder: autograde would take it for a submission
                shutil.rmtree(target.parent, ignore_errors=True)
    return ImportedSubmission(student, path, timestamp, tuple(present))
