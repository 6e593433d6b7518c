"""The end-to-end instructor demo (``make demo``): build, a synthetic class, grade, report.

Steps: regenerate the release; write a demo class as an LMS would export it; import
it; autograde it with nbgrader (SQLite gradebook, local processes); write feedback;
export the grades; compare the students' code (the copied pair must rank first and no
honest student be listed); and check every student's autograded score against the
score its known mistakes must cost. Exit status 1 if any score is off.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from .autograding import autograde_class, load_result
from .build import build_release
from .demo_class import COPIED_PAIR, DEMO_CLASS, expected_autograded_score, write_demo_class
from .export import collect_grades, grade_table, summary, write_csv
from .feedback import write_feedback
from .grade_stats import write_summary
from .grading import Workspace
from .paths import ASSIGNMENT_ID, source_notebooks
from .report import write_report
from .similarity import report_lines, similarity_of_class, write_report_html
from .submissions import import_submissions

DEMO_CELL_TIMEOUT = 20
#: Written into the demo's course folder: a later demo may replace a folder that holds it, and no other.
DEMO_MARKER = ".gmm-demo"


def demo_folder(work_dir: Path) -> Path:
    """The demo's course folder ``WORK_DIR/demo``, emptied if an earlier demo made it; marked as the demo's.

    A non-empty ``demo`` folder that no demo made (no :data:`DEMO_MARKER`, and not the demo class of an earlier
    version of the demo) may hold real grades: it is refused, never deleted.
    """
    root = work_dir / "demo"
    if root.exists() and not root.is_dir():
        raise ValueError(f"{root} is a file: the demo needs a folder there (give another --work-dir)")
    if root.is_dir() and any(root.iterdir()):
        lms = root / "lms_export"
        entries = {p.name.removesuffix(".zip") for p in lms.iterdir()} if lms.is_dir() else set()
        earlier_demo = {student.name for student in DEMO_CLASS} <= entries
        if not ((root / DEMO_MARKER).is_file() or earlier_demo):
            raise ValueError(
                f"{root} exists and was not made by the demo (it may hold a course's grades): "
                "move it away or give the demo another --work-dir"
            )
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / DEMO_MARKER).write_text("made by gmm-course demo; replaced by its next run\n")
    return root


def run_demo(args) -> int:
    """Run the demo in ``args.work_dir``/demo (see the module docstring); exit status 1 if any score is off."""
    start = time.perf_counter()
    root = demo_folder(Path(args.work_dir))

    def step(message: str) -> None:
        print(f"\n[{time.perf_counter() - start:6.1f} s] {message}", flush=True)

    step("1/7 build the student release from the sources (course/)")
    build_release()
    workspace = Workspace(root, db_url=args.db, cell_timeout=min(args.timeout, DEMO_CELL_TIMEOUT))
    workspace.prepare()

    step("2/7 write a demo class as an LMS exports it (folders and zips)")
    lms = write_demo_class(root / "lms_export")
    for student in DEMO_CLASS:
        print(f"  {student.name:<20} {student.description}")

    step("3/7 import the submissions")
    notebooks = [p.name for p in source_notebooks()]
    imported, notes = import_submissions(lms, root / "submitted", notebooks, ASSIGNMENT_ID)
    print(f"  imported {len(imported)} submissions")
    for note in notes:
        print(f"  NOTE {note}")

    jobs = os.cpu_count() or 1
    step(f"4/7 autograde ({jobs} at a time; jailed kernel, then the clean check; {workspace.cell_timeout} s per cell)")
    outcomes = autograde_class(workspace, jobs=jobs)
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        print(f"  FAILED {outcome.student}: {outcome.error}")
    results = [r for r in (load_result(root, o.student) for o in outcomes) if r is not None]
    report, lines = write_report(root, results)
    for line in lines:
        print(f"  {line}")
    print(f"  instructor report: {report}")

    step("5/7 feedback reports")
    students = [o.student for o in outcomes if o.status == "graded"]
    for path in write_feedback(workspace, students):
        print(f"  {path}")

    step("6/7 export the grades")
    data = collect_grades(workspace, students)
    csv_path = write_csv(data, root / "grades.csv")
    print(grade_table(data))
    print()
    print(summary(data))
    print(f"\n  grades: {csv_path}")
    print(f"  the class in pictures: {write_summary(root, data)}")
    print(f"  hand-grade the written answers in the Formgrader: gmm-course formgrader --work-dir {root}")
    print(f"  then: gmm-course feedback --work-dir {root} && gmm-course export --work-dir {root}")

    step("7/7 code similarity (a match is a reason to look, not a verdict)")
    similar = similarity_of_class(root, jobs=jobs)
    for line in report_lines(similar, shown=5):
        print(f"  {line}")
    print(f"  {write_report_html(similar, root / 'similarity.html')}")
    first = (similar.matches[0].first, similar.matches[0].second) if similar.matches else None
    others = {name for m in similar.matches for name in (m.first, m.second)} - set(COPIED_PAIR)
    similarity_ok = first == COPIED_PAIR and not others
    print(
        f"  {'ok  ' if similarity_ok else 'FAIL'} the copied pair {' ~ '.join(COPIED_PAIR)} ranks first"
        + (f"; honest students listed too: {', '.join(sorted(others))}" if others else "; no honest student listed")
    )

    print("\nautograded points against what each student's mistakes must cost:")
    wrong = len(failed) + (not similarity_ok)
    for student in DEMO_CLASS:
        expected = expected_autograded_score(student)
        got = data.total(student.name, "autograded") if student.name in data.grades else None
        ok = got == expected
        wrong += not ok
        print(f"  {'ok  ' if ok else 'FAIL'} {student.name:<20} expected {expected:g}, got {got}")
    print(
        f"\ndemo finished in {time.perf_counter() - start:.0f} s: "
        + ("all scores as expected" if not wrong else f"{wrong} problem(s)")
    )
    return 1 if wrong else 0
