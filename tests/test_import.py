"""Importing an LMS export: good submissions are taken, bad ones reported, nothing escapes."""

from __future__ import annotations

import os
import stat
import zipfile
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


def test_folders_and_wrapped_zips_are_imported_with_timestamps(tmp_path):
    lms = tmp_path / "lms"
    folder = _submission(lms / "alice")
    (folder / "timestamp.txt").write_text("2026-11-20 10:30:00.000000 UTC")
    inner = _submission(tmp_path / "build" / "bob" / "course")
    _zip(
        lms / "bob.zip",
        {p.relative_to(tmp_path / "build").as_posix(): p.read_bytes() for p in inner.rglob("*") if p.is_file()},
    )
    before = {p: p.read_bytes() for p in lms.rglob("*") if p.is_file()}
    imported, notes, submitted = _run(lms, tmp_path)
    assert sorted(imported) == ["alice", "bob"] and notes == []
    assert (submitted / "bob" / "gmm_em" / "01_a.ipynb").is_file()  # the wrapping folder is gone
    assert (submitted / "bob" / "gmm_em" / "gmm_student" / "em.py").read_text() == "x = 1\n"
    stamp = (submitted / "alice" / "gmm_em" / "timestamp.txt").read_text()
    assert stamp.startswith("2026-11-20 10:30:00")
    assert {p: p.read_bytes() for p in lms.rglob("*") if p.is_file()} == before  # never modified


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
