"""Importing an LMS export: good submissions are taken, bad ones reported, nothing escapes."""

from __future__ import annotations

import os
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gmm_course import submissions
from gmm_course.submissions import import_submissions

NOTEBOOKS = ["01_a.ipynb", "02_b.ipynb"]


def _submission(folder: Path, notebooks=NOTEBOOKS) -> Path:
    folder.mkdir(parents=True)
    for name in notebooks:
        (folder / name).write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    (folder / "gmm_student").mkdir()
    (folder / "gmm_student" / "em.py").write_text("x = 1\n")
    return folder


def _zip(path: Path, entries: dict[str, bytes], links=()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def _run(lms: Path, tmp_path: Path):
    submitted = tmp_path / "course" / "submitted"
    imported, notes = import_submissions(lms, submitted, NOTEBOOKS, "gmm_em")
    return {s.student: s for s in imported}, notes, submitted


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_folders_and_wrapped_zips_are_imported_with_the_exports_times(tmp_path):
    lms = tmp_path / "lms"
    folder = _submission(lms / "alice")
    (folder / "timestamp.txt").write_text("2000-01-01 00:00:00.000000 UTC")  # the student's own claim
    inner = _submission(tmp_path / "build" / "bob" / "course")
    _zip(
        lms / "bob.zip",
        {p.relative_to(tmp_path / "build").as_posix(): p.read_bytes() for p in inner.rglob("*") if p.is_file()},
    )
    # The times the LMS gave its entries when it wrote the export.
    os.utime(folder, (_utc("2026-11-20 10:30:00").timestamp(),) * 2)
    os.utime(lms / "bob.zip", (_utc("2026-11-21 08:15:00").timestamp(),) * 2)
    before = {p: p.read_bytes() for p in lms.rglob("*") if p.is_file()}
    imported, notes, submitted = _run(lms, tmp_path)
    assert sorted(imported) == ["alice", "bob"]
    assert [(n.student, n.file, n.action.split(":")[0]) for n in notes] == [("alice", "timestamp.txt", "ignored")]
    assert (submitted / "bob" / "gmm_em" / "01_a.ipynb").is_file()  # the wrapping folder is gone
    assert (submitted / "bob" / "gmm_em" / "gmm_student" / "em.py").read_text() == "x = 1\n"
    assert (submitted / "alice" / "gmm_em" / "timestamp.txt").read_text().startswith("2026-11-20 10:30:00")
    assert (submitted / "bob" / "gmm_em" / "timestamp.txt").read_text().startswith("2026-11-21 08:15:00")
    assert imported["alice"].timestamp == _utc("2026-11-20 10:30:00")
    assert {p: p.read_bytes() for p in lms.rglob("*") if p.is_file()} == before  # never modified


def test_the_lms_list_of_times_wins_over_file_times(tmp_path):
    lms = tmp_path / "lms"
    _submission(lms / "alice")
    _submission(lms / "bob")
    listing = tmp_path / "times.csv"
    listing.write_text("\ufeffstudent,timestamp\nalice,2026-11-20T11:30:00+01:00\n", encoding="utf-8")
    times = submissions.read_times(listing)
    assert times == {"alice": _utc("2026-11-20 10:30:00")}
    imported, notes = import_submissions(lms, tmp_path / "submitted", NOTEBOOKS, "gmm_em", times)
    assert imported[0].timestamp == _utc("2026-11-20 10:30:00")
    assert [(n.student, n.problem) for n in notes] == [("bob", "not in the LMS's list of submission times")]
    (tmp_path / "bad.csv").write_text("who,when\nalice,yesterday\n")
    with pytest.raises(ValueError, match="line 2: expected the columns student,timestamp"):
        submissions.read_times(tmp_path / "bad.csv")


def _notebook_zip(path: Path, extra: dict[str, bytes] | None = None, stored: bool = False) -> Path:
    """A zipped submission (both notebooks and a module), with ``extra`` entries after them."""
    entries = {name: NOTEBOOK_TEXT.replace("NAME", name).encode() for name in NOTEBOOKS}
    entries["gmm_student/em.py"] = b"x = 1\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as archive:
        for name, data in {**entries, **(extra or {})}.items():
            archive.writestr(name, data)
    return path


NOTEBOOK_TEXT = '{"cells": [], "metadata": {"name": "NAME"}, "nbformat": 4, "nbformat_minor": 5}'


def _patch_zip(path: Path, member: str, flag_bit: int = 0, corrupt: bytes = b"") -> None:
    """Set a general-purpose flag bit of ``member`` in its headers, or change bytes of its (stored) data."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, flag_at, name_length_at, name_at in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
        at = data.find(signature)
        while at >= 0:
            length = int.from_bytes(data[at + name_length_at : at + name_length_at + 2], "little")
            if data[at + name_at : at + name_at + length] == name:
                data[at + flag_at] |= flag_bit
            at = data.find(signature, at + 4)
    if corrupt:
        at = data.index(corrupt)
        data[at : at + len(corrupt)] = corrupt.upper()
    path.write_bytes(bytes(data))


def _encrypted(lms: Path) -> None:
    _patch_zip(_notebook_zip(lms / "bad.zip"), "02_b.ipynb", flag_bit=0x1)


def _bad_crc(lms: Path) -> None:
    _patch_zip(_notebook_zip(lms / "bad.zip", stored=True), "02_b.ipynb", corrupt=b'"name": "02_b')


def _file_and_folder(lms: Path) -> None:
    _notebook_zip(lms / "bad.zip", {"gmm_student": b"a file named like the folder"})


def _dot_entry(lms: Path) -> None:
    _notebook_zip(lms / "bad.zip", {".": b"an entry named ."})


def _long_name(lms: Path) -> None:
    _notebook_zip(lms / "bad.zip", {"gmm_student/" + "n" * 300 + ".py": b"x = 2\n"})


def _crash_while_importing(lms: Path) -> None:
    _submission(lms / "bad")
    (lms / "bad" / "crash-the-importer").write_text("")


# Each damaged entry is the student "bad", between good students; what its report must say, and what survives.
BAD_ENTRIES = {
    "encrypted entry": (_encrypted, "is encrypted", ["01_a.ipynb"]),
    "bad CRC": (_bad_crc, "could not be extracted (BadZipFile: Bad CRC-32", ["01_a.ipynb"]),
    "a file and a folder of one name": (_file_and_folder, "another entry already has this name", NOTEBOOKS),
    "an entry named .": (_dot_entry, "names no file", NOTEBOOKS),
    "a 300-character name": (_long_name, "a name longer than 255 bytes", NOTEBOOKS),
    "any failure": (_crash_while_importing, "could not be imported (RuntimeError: boom)", None),
}


@pytest.mark.parametrize("case", BAD_ENTRIES, ids=str)
def test_a_bad_entry_costs_its_student_at_most_and_the_class_is_imported(tmp_path, monkeypatch, case):
    make, fragment, kept = BAD_ENTRIES[case]
    lms = tmp_path / "lms"
    lms.mkdir()
    _notebook_zip(lms / "aaron.zip")
    make(lms)
    _submission(lms / "zoe")
    _notebook_zip(lms / "zack.zip")
    find_root = submissions.find_assignment_root

    def crashing_find_root(folder, names):
        if any(folder.rglob("crash-the-importer")):
            raise RuntimeError("boom")
        return find_root(folder, names)

    monkeypatch.setattr(submissions, "find_assignment_root", crashing_find_root)
    imported, notes, submitted = _run(lms, tmp_path)
    assert {"aaron", "zack", "zoe"} <= set(imported)  # the class is imported
    for good in ("aaron", "zack", "zoe"):
        assert sorted(p.name for p in (submitted / good / "gmm_em").glob("*.ipynb")) == NOTEBOOKS
    said = [str(n) for n in notes if n.student == "bad"]
    assert any(fragment in line for line in said), said
    if kept is None:
        assert "bad" not in imported and not (submitted / "bad").exists()  # nothing half-imported
    else:  # only the damaged entry is lost, and what is kept is whole
        assert sorted(p.name for p in (submitted / "bad" / "gmm_em").glob("*.ipynb")) == kept
        for notebook in kept:
            assert (submitted / "bad" / "gmm_em" / notebook).read_text() == NOTEBOOK_TEXT.replace("NAME", notebook)
    assert not [n for n in notes if n.student != "bad"]


def test_student_ids_are_checked_whole_and_must_differ_in_more_than_case(tmp_path):
    lms = tmp_path / "lms"
    for name in ("CaseDup", "casedup", "newline\n", "good"):
        _submission(lms / name)
    imported, notes, submitted = _run(lms, tmp_path)
    assert sorted(imported) == ["CaseDup", "good"]
    said = {(n.student, n.problem.split(" (")[0]) for n in notes}
    assert ("casedup", "differs only in case from the student id of 'CaseDup'") in said
    assert any(s == "?" and "'newline\\n' is not a usable student id" in p for s, p in said), said
    # A later export may not bring in an id that differs from an imported one in case alone.
    later = tmp_path / "later"
    _submission(later / "GOOD")
    imported, notes = import_submissions(later, submitted, NOTEBOOKS, "gmm_em")
    assert imported == [] and "differs only in case from the student id 'good', imported before" in notes[0].problem


def test_bad_entries_are_reported_and_the_rest_imported(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_BYTES", 1 << 20)  # a small limit keeps the bomb small
    lms = tmp_path / "lms"
    _submission(lms / "good")
    (lms / "notes.txt").write_text("not a submission")
    (lms / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    _zip(lms / "escape.zip", {"../../evil.py": b"boom", "01_a.ipynb": b"{}"})
    _zip(lms / "absolute.zip", {"/etc/evil.py": b"boom", "01_a.ipynb": b"{}"})
    _zip(lms / "nothing.zip", {"readme.md": b"forgot my notebooks"})
    _zip(lms / "linky.zip", {"01_a.ipynb": b"{}", "02_b.ipynb": b"{}"}, links=[("gmm_student", "/etc")])
    _zip(lms / "bomb.zip", {"01_a.ipynb": b"{}", "big.bin": b"\0" * (2 << 20)})
    _submission(lms / "bad name!")
    partial = _submission(lms / "partial", notebooks=["01_a.ipynb"])
    os.symlink("/etc/passwd", partial / "passwd")
    imported, notes, submitted = _run(lms, tmp_path)
    assert sorted(imported) == ["good", "linky", "partial"]
    said = {(n.student, n.problem.split(" (")[0], n.action) for n in notes}
    expected_fragments = {
        "notes.txt": "neither a folder nor a .zip",
        "corrupt": "not a readable zip",
        "escape": "outside the submission",
        "absolute": "absolute path",
        "nothing": "none of the course notebooks",
        "bomb": "size limit",
        "linky": "symbolic link",
        "partial": "notebook missing",
    }
    for student, fragment in expected_fragments.items():
        assert any(s == student and fragment in p for s, p, _ in said), (student, fragment, said)
    assert any("not a usable student id" in n.problem for n in notes)
    assert any(n.student == "partial" and "link" in n.problem for n in notes)
    assert not (tmp_path / "evil.py").exists() and not Path("/etc/evil.py").exists()
    assert not (submitted / "linky" / "gmm_em" / "gmm_student").exists()
    assert not (submitted / "partial" / "gmm_em" / "passwd").exists()


@pytest.mark.skipif(os.uname().sysname != "Linux", reason="needs a file system that allows non-UTF-8 names")
def test_non_utf8_names_are_reported(tmp_path):
    lms = tmp_path / "lms"
    folder = _submission(lms / "carol")
    with open(os.path.join(os.fsencode(folder), b"\xff\xfe.py"), "wb") as handle:  # not valid UTF-8
        handle.write(b"x")
    os.mkdir(os.path.join(os.fsencode(lms), b"st\xffudent"))
    imported, notes, _ = _run(lms, tmp_path)
    assert sorted(imported) == ["carol"]
    assert sum("not valid UTF-8" in n.problem for n in notes) == 2


def test_missing_export_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        import_submissions(tmp_path / "absent", tmp_path / "submitted", NOTEBOOKS, "gmm_em")


def _environment(folder: Path, files: int) -> None:
    """A virtual environment as ``python -m venv`` leaves it: ``pyvenv.cfg``, packages, a link to python."""
    (folder / "lib" / "site-packages").mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\n")
    for index in range(files):
        (folder / "lib" / "site-packages" / f"module_{index}.py").write_text("x = 1\n")
    (folder / "bin").mkdir()
    os.symlink("/usr/bin/python3", folder / "bin" / "python")


def _tool_folders(folder: Path) -> None:
    """What Python, Jupyter and git leave in a course folder: nothing a grader needs."""
    for name in ("gmm_student/__pycache__", ".ipynb_checkpoints", ".git/objects"):
        (folder / name).mkdir(parents=True)
    (folder / "gmm_student" / "__pycache__" / "em.cpython-311.pyc").write_bytes(b"\0" * 64)
    (folder / ".ipynb_checkpoints" / "01_a-checkpoint.ipynb").write_text("{}")
    (folder / ".git" / "objects" / "blob").write_bytes(b"x")


def test_environments_and_tool_folders_are_left_out_quietly_before_the_limits(tmp_path, monkeypatch):
    """A course folder zipped with the .venv inside it is imported; one summary line says what was left out."""
    monkeypatch.setattr(submissions, "MAX_FILES", 20)  # each environment alone holds more files than allowed
    lms = tmp_path / "lms"
    folder = _submission(lms / "ada")
    _environment(folder / ".venv", files=30)
    _tool_folders(folder)
    zipped = _submission(tmp_path / "zipped" / "course")
    _environment(zipped / "env", files=30)
    _tool_folders(zipped)
    with zipfile.ZipFile(lms / "ben.zip", "w") as archive:
        for path in sorted(zipped.parent.rglob("*")):
            if path.is_symlink():  # as zip -y stores it
                info = zipfile.ZipInfo(path.relative_to(zipped.parent).as_posix())
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                archive.writestr(info, os.readlink(path))
            else:
                archive.write(path, path.relative_to(zipped.parent).as_posix())
    notebook_with_env_name = _submission(lms / "cleo")
    (notebook_with_env_name / "work").mkdir()  # a folder with a notebook of its own is coursework
    (notebook_with_env_name / "work" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (notebook_with_env_name / "work" / "scratch.ipynb").write_text("{}")
    imported, notes, submitted = _run(lms, tmp_path)
    assert sorted(imported) == ["ada", "ben", "cleo"], [str(n) for n in notes]
    assert len(notes) == 1 and notes[0].student == "", [str(n) for n in notes]
    assert "8 folder(s) in 2 submission(s)" in str(notes[0]) and "virtual environments" in str(notes[0])
    for student in ("ada", "ben"):
        kept = sorted(
            p.relative_to(submitted / student / "gmm_em").as_posix() for p in (submitted / student).rglob("gmm_em/**/*")
        )
        assert kept == ["01_a.ipynb", "02_b.ipynb", "gmm_student", "gmm_student/em.py", "timestamp.txt"], kept
    assert (submitted / "cleo" / "gmm_em" / "work" / "pyvenv.cfg").is_file()


def test_the_limits_still_hold_for_what_is_left(tmp_path, monkeypatch):
    """Leaving out environments does not open a way around the file-count limit for the coursework itself."""
    monkeypatch.setattr(submissions, "MAX_FILES", 20)
    lms = tmp_path / "lms"
    folder = _submission(lms / "ada")
    _environment(folder / ".venv", files=5)
    for index in range(25):
        (folder / "gmm_student" / f"extra_{index}.py").write_text("x = 1\n")
    _zip(lms / "ben.zip", {"01_a.ipynb": b"{}", **{f"data/{i}.csv": b"1" for i in range(25)}})
    imported, notes, _ = _run(lms, tmp_path)
    assert imported == {}
    assert {n.student for n in notes if n.action == "not imported"} == {"ada", "ben"}
