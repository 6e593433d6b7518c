"""gmm-course: the instructor's command line.

The instructor's command line of the Gaussian mixture course. The grading commands
(import, autograde, formgrader, feedback, export) work in a course folder (--work-dir,
default .grading; make demo puts its class in .grading/demo) whose gradebook is SQLite
inside it unless --db names another database.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from pathlib import Path

from . import paths

DEMO_CELL_TIMEOUT = 20  # demo.DEMO_CELL_TIMEOUT (not imported: it would load the whole grader for --help)


def _workspace(args):
    from .grading import Workspace

    return Workspace(Path(args.work_dir), db_url=args.db, cell_timeout=getattr(args, "timeout", 60))


def _notebook_names() -> list[str]:
    """File names of the course's notebooks, in course order."""
    return [p.name for p in paths.source_notebooks()]


def _require_course(args) -> None:
    """Refuse (``ValueError``, naming it) a ``--work-dir`` that holds no course: no gradebook, no submissions."""
    from .formgrader import course_problem

    problem = course_problem(Path(args.work_dir), args.db)
    if problem:
        raise ValueError(problem)


def _cmd_skeleton(args) -> int:
    from .skeleton import write_skeleton

    written = write_skeleton(paths.REFERENCE_PACKAGE_DIR, paths.STUDENT_PACKAGE_DIR)
    print(f"wrote {len(written)} skeleton files to {paths.STUDENT_PACKAGE_DIR}")
    return 0


def _cmd_run_source(args) -> int:
    from .source_runner import run_source_notebook, source_notebook_paths

    failures = 0
    for path in source_notebook_paths(args.notebooks):
        start = time.perf_counter()
        problems = run_source_notebook(path, timeout=args.timeout)
        print(f"{path.name}: executed in {time.perf_counter() - start:.1f} s, {len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
        failures += bool(problems)
    return 1 if failures else 0


def _cmd_check_notebook(args) -> int:
    from .mutants import ALL_MUTANTS, CATALOGUE
    from .validation import grade_source_notebook

    names = _notebook_names()
    if args.notebook not in names:
        raise ValueError(f"no notebook {args.notebook!r} in {paths.SOURCE_NOTEBOOKS_DIR}: one of {', '.join(names)}")
    packages = args.package or ["reference", "skeleton"]
    unknown = [p for p in packages if p not in ("reference", "skeleton") and p not in ALL_MUTANTS]
    if unknown:
        raise ValueError(f"unknown package {', '.join(unknown)}: use reference, skeleton or a mutant name")
    if args.all_mutants:
        packages += [m.name for m in CATALOGUE.get(args.notebook, [])]
    wrong = []
    for package in packages:
        grades = grade_source_notebook(args.notebook, package, timeout=args.timeout, graded_only=args.graded_only)
        if package == "reference":
            expected = set()
        elif package == "skeleton":
            expected = grades.failed | grades.passed
        else:
            expected = set(ALL_MUTANTS[package].fails)
        verdict = "as expected" if grades.failed == expected else f"EXPECTED to fail {sorted(expected)}"
        if grades.failed != expected:
            wrong.append(package)
        print(f"== {args.notebook} with {package}: {len(grades.passed)} passed, {len(grades.failed)} failed: {verdict}")
        for result in grades.results:
            mark = "PASS" if result.passed else "FAIL"
            print(f"  {mark} {result.grade_id} ({result.points}/{result.max_points}) {result.error or ''}")
    print(
        f"check-notebook: {len(packages) - len(wrong)} of {len(packages)} as expected"
        + (f"; wrong: {', '.join(wrong)}" if wrong else "")
    )
    return 1 if wrong else 0


def _cmd_build(args) -> int:
    from .build import build_release

    build_release(verbose=True)
    return 0


def _cmd_validate(args) -> int:
    from .validation import validate_course

    problems = validate_course(Path(args.work_dir) if args.work_dir else None)
    for problem in problems:
        print(f"FAIL {problem}")
    print("validate: " + ("all checks passed" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


def _cmd_import(args) -> int:
    from .submissions import import_submissions, read_times

    if not Path(args.submissions).is_dir():  # before the course folder is made for it
        raise ValueError(f"{args.submissions}: no such folder of submissions (give the LMS export's folder)")
    times = read_times(Path(args.times)) if args.times else None
    workspace = _workspace(args)
    workspace.prepare()
    imported, notes = import_submissions(
        Path(args.submissions), workspace.root / "submitted", _notebook_names(), paths.ASSIGNMENT_ID, times
    )
    for submission in imported:
        when = f"{submission.timestamp:%Y-%m-%d %H:%M} UTC"
        print(f"imported {submission.student} ({len(submission.notebooks)} notebooks, submitted {when})")
    for note in notes:
        print(f"NOTE {note}")
    not_taken = sum(1 for n in notes if n.action == "not imported")
    print(f"import: {len(imported)} submission(s) imported, {not_taken} not imported")
    if not_taken:  # the others are imported; the instructor must still see that the class is not complete
        print(f"gmm-course import: {not_taken} entry(ies) not imported: see the NOTE lines above", file=sys.stderr)
    return 1 if not_taken else 0


def _cmd_autograde(args) -> int:
    from .autograding import autograde_class, load_result
    from .pipeline import GradingOptions
    from .plain_text import printable
    from .report import failure_row, write_report

    _require_course(args)
    workspace = _workspace(args)
    options = GradingOptions(
        cell_timeout=args.timeout, budget=args.budget, memory_limit_mb=args.memory_limit, jail=args.jail
    )
    outcomes = autograde_class(
        workspace,
        args.students or None,
        force=args.force,
        progress=not args.quiet,
        options=options,
        jobs=args.jobs or os.cpu_count() or 1,
        scheduler=args.scheduler,
    )
    for outcome in outcomes:
        if outcome.status == "failed":
            print(printable(f"FAILED {outcome.student}: {outcome.error}"))
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("graded", "skipped", "failed")}
    slowest = sorted((o for o in outcomes if o.status == "graded"), key=lambda o: -o.seconds)[:3]
    print(
        f"autograde: {counts['graded']} graded, {counts['skipped']} unchanged since last graded, "
        f"{counts['failed']} failed"
    )
    if slowest:
        print("slowest: " + ", ".join(f"{o.student} {o.seconds:.1f} s" for o in slowest))
    failed = [o for o in outcomes if o.status == "failed"]  # no result of this run: a line of the report each
    results = [r for r in (load_result(workspace.root, o.student) for o in outcomes if o.status != "failed") if r]
    report, lines = write_report(  # merged by student: the lines of students not in this run are kept
        workspace.root, results, [failure_row(o.student, o.error) for o in failed], [o.student for o in outcomes]
    )
    for line in lines:
        print(line)
    print(f"report: {report}")
    return 1 if counts["failed"] else 0


def _graded_students(workspace, names) -> list[str]:
    from .autograding import load_state

    state = load_state(workspace.root)
    graded = sorted(s for s, entry in state.items() if entry.get("status") == "graded")
    return [s for s in names if s in graded] if names else graded


def _cmd_feedback(args) -> int:
    from .feedback import write_feedback

    _require_course(args)
    workspace = _workspace(args)
    students = _graded_students(workspace, args.students)
    unknown = sorted(set(args.students) - set(students))
    if unknown:
        graded = _graded_students(workspace, None)
        print(
            f"gmm-course feedback: error: no graded student {', '.join(unknown)} in {workspace.root} "
            f"(graded: {', '.join(graded) if graded else 'none yet; run gmm-course autograde'})",
            file=sys.stderr,
        )
        return 1
    if not students:
        print(
            f"gmm-course feedback: error: no graded student in {workspace.root}: run gmm-course autograde first",
            file=sys.stderr,
        )
        return 1
    for path in write_feedback(workspace, students):
        print(f"wrote {path}")
    return 0


def _cmd_export(args) -> int:
    from .export import collect_grades, grade_table, pending_line, summary, write_csv

    _require_course(args)
    workspace = _workspace(args)
    if args.due:
        from .late import parse_time, set_due_date

        set_due_date(workspace.database_url, parse_time(args.due))
    data = collect_grades(workspace, _graded_students(workspace, None))
    path = write_csv(data, Path(args.csv) if args.csv else workspace.root / "grades.csv")
    print(grade_table(data))
    print()
    print(summary(data))
    print(f"\nwrote {path} (empty cells are pending; see the pending and complete columns)")
    from .grade_stats import write_summary

    print(f"wrote {write_summary(workspace.root, data)} (the class in pictures)")
    if args.format:
        from .lms_export import rows_from_grades, write_lms_csv

        target = Path(args.output) if args.output else workspace.root / f"grades_{args.format}.csv"
        left_out = write_lms_csv(
            target, args.format, rows_from_grades(data), args.assignment, args.lms_assignment_id, args.canvas_id
        )
        print(f"wrote {target} ({args.format} grade import; the total after any late penalty)")
        if left_out:
            from .plain_text import printable

            print(
                f"NOTE {len(left_out)} student(s) have points still to grade by hand and NO score in {target.name} "
                f"(a partial total would be imported as final): {printable(', '.join(left_out))}; export again "
                "when hand grading is done"
            )
    if data.incomplete():
        print(pending_line(data))
    return 0


def _cmd_similarity(args) -> int:
    from .similarity import report_lines, similarity_of_class, write_report_html

    _require_course(args)
    root = Path(args.work_dir)
    sources = None if not (args.source or args.no_reference) else [Path(p) for p in args.source]
    for source in sources or []:
        if not source.is_dir():
            raise ValueError(f"{source}: no such folder (give a package folder of .py files)")
    report = similarity_of_class(
        root.resolve(), sources, threshold=args.threshold, jobs=args.jobs or os.cpu_count() or 1
    )
    for line in report_lines(report, shown=args.top):
        print(line)
    path = write_report_html(report, Path(args.html) if args.html else root / "similarity.html", shown=args.top)
    print(f"wrote {path} (the top {args.top} pairs side by side)")
    return 0


def _cmd_formgrader(args) -> int:
    from .formgrader import start_formgrader

    return start_formgrader(Path(args.work_dir), args.db, args.port, start=not args.print_only)


def _cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(args)


def _add_workspace_options(parser, timeout=True) -> None:
    """The course folder (``--work-dir``), the gradebook (``--db``) and, if ``timeout``, the per-cell timeout."""
    parser.add_argument(
        "--work-dir",
        default=str(paths.DEFAULT_WORK_DIR),
        help="course folder (default .grading; the demo's: .grading/demo)",
    )
    parser.add_argument("--db", default=None, help="gradebook database URL (default: SQLite in the course folder)")
    if timeout:
        parser.add_argument("--timeout", type=int, default=60, help="seconds per notebook cell (default 60)")


def _command(commands, name: str, summary: str, description: str, example: str) -> argparse.ArgumentParser:
    """A subcommand with a one-line ``summary`` (in the main help), a paragraph of ``description`` and an example."""
    return commands.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description, 88),
        epilog="example:\n  " + example.replace("\n", "\n  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``gmm-course`` argument parser: one subcommand per instructor task."""
    parser = argparse.ArgumentParser(
        prog="gmm-course",
        description=__doc__.split("\n\n", 1)[1],
        epilog="A term: gmm-course build, hand out course/, then\n"
        "  gmm-course import ~/Downloads/lms_export && gmm-course autograde\n"
        "  gmm-course formgrader   (hand-grade the written answers)\n"
        "  gmm-course feedback && gmm-course export\n"
        "gmm-course COMMAND --help describes each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = _command(
        commands,
        "build",
        "regenerate the student release (course/) from the sources",
        "Regenerate course/ from the sources: the gmm_student skeleton from the reference solution, the notebooks "
        "with nbgrader generate_assignment (solutions and hidden tests removed). Run it after changing "
        "source_notebooks/ or solutions/gmm_reference/.",
        "gmm-course build",
    )
    command.set_defaults(func=_cmd_build)

    command = _command(
        commands,
        "validate",
        "check the release (fresh, no leaks) and autograde a reference and a blank submission with nbgrader",
        "Check that course/ matches a fresh build and leaks no solution or hidden test, then autograde the "
        "reference solution (must get full marks) and the blank release (must get 0) with nbgrader. It grades in "
        "a temporary folder of its own, removed afterwards; --work-dir gives a new or empty folder instead (kept "
        "for inspection). It never touches a course folder. Exit status 1 on any problem.",
        "gmm-course validate\ngmm-course validate --work-dir /tmp/validate-run",
    )
    command.add_argument(
        "--work-dir",
        default=None,
        help="a new or empty folder to grade in, kept afterwards (default: a temporary folder, removed afterwards)",
    )
    command.set_defaults(func=_cmd_validate)

    command = _command(
        commands,
        "import",
        "take a folder of submissions (one folder or zip per student) into the course folder",
        "Copy an LMS export (one folder or .zip per student, named by student id) into the course folder's "
        "submitted/, with each submission's time. Zips are checked entry by entry; virtual environments, "
        "__pycache__, .ipynb_checkpoints and .git folders are left out. Every entry that cannot be taken is "
        "reported with the reason. Creates the course folder and its gradebook on first use.",
        "gmm-course import ~/Downloads/lms_export --times ~/Downloads/submission_times.csv",
    )
    command.add_argument("submissions", help="folder with one entry per student: NAME/ or NAME.zip")
    command.add_argument(
        "--times",
        default=None,
        metavar="CSV",
        help="the LMS's list of submission times (columns student,timestamp; ISO 8601, UTC unless a zone is given); "
        "default: the time of each student's entry in the export",
    )
    _add_workspace_options(command, timeout=False)
    command.set_defaults(func=_cmd_import)

    command = _command(
        commands,
        "autograde",
        "grade imported submissions (resumes where it stopped)",
        "Grade the imported submissions of the course folder: a jailed kernel run of each notebook, then the "
        "clean check that decides every score, into the gradebook; writes grading_report.csv. An unchanged, "
        "already graded submission is skipped (--force grades it again); after a crash it grades only what is "
        "missing.",
        "gmm-course autograde --jobs 2\ngmm-course autograde --force ada_correct --work-dir .grading/demo",
    )
    command.add_argument("students", nargs="*", help="student ids (default: every imported student)")
    command.add_argument("--force", action="store_true", help="re-grade unchanged submissions too")
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    where = command.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs", type=int, default=None, help="students graded at once here, one process each (default: all cores)"
    )
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="grade on this Dask cluster (e.g. tcp://10.0.0.5:8786); workers need this course folder at the same path",
    )
    command.add_argument(
        "--budget",
        type=float,
        default=900.0,
        help="seconds for one submission: for its kernel stage (all notebooks), and again for its clean check",
    )
    command.add_argument("--memory-limit", type=int, default=3072, help="MiB of address space for student code")
    command.add_argument(
        "--jail",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run student code in the jail (default: wherever the machine allows it)",
    )
    _add_workspace_options(command)
    command.set_defaults(func=_cmd_autograde)

    command = _command(
        commands,
        "formgrader",
        "write the course folder's nbgrader config and start JupyterLab there, for hand grading in the Formgrader",
        "Hand-grade written answers (and override scores) in nbgrader's Formgrader: write nbgrader_config.py into "
        "the course folder and start JupyterLab there, on 127.0.0.1 without opening a browser. Open the URL it "
        "prints, then Nbgrader > Formgrader. Stop it with Ctrl-C. --print-only writes the config and prints the "
        "command without starting JupyterLab.",
        "gmm-course formgrader --work-dir .grading/demo --port 8888",
    )
    command.add_argument(
        "--port", type=int, default=None, help="port to listen on (default: JupyterLab's, 8888 or next)"
    )
    command.add_argument(
        "--print-only", action="store_true", help="write the config and print the command; do not start JupyterLab"
    )
    _add_workspace_options(command, timeout=False)
    command.set_defaults(func=_cmd_formgrader)

    command = _command(
        commands,
        "feedback",
        "write an HTML feedback report per graded student",
        "Write one HTML report per graded student into the course folder's feedback/: the score of each question, "
        "the message of every failed check and the visible part of that check, written answers with the hand "
        "grades and comments given in the Formgrader, and figures; never hidden-test code.",
        "gmm-course feedback\ngmm-course feedback ada_correct --work-dir .grading/demo",
    )
    command.add_argument("students", nargs="*", help="student ids (default: every graded student)")
    _add_workspace_options(command, timeout=False)
    command.set_defaults(func=_cmd_feedback)

    command = _command(
        commands,
        "export",
        "grades as CSV plus a summary for the instructor",
        "Write the grades of the course folder as CSV (one row per student, a column per notebook and per graded "
        "cell, totals, late penalty) with the gradebook's final scores (hand grades included), and print the grade "
        "table and a summary: mean, distribution per question, the checks failed most often; and the same in "
        "pictures as an HTML page (grades_summary.html in the course folder). --format also writes "
        "the layout Canvas, Moodle or Gradescope imports; a student with points still to grade by hand gets no "
        "score there (never a partial total), and is named.",
        "gmm-course export --csv grades.csv\ngmm-course export --work-dir .grading/demo --format canvas "
        "--assignment 'GMM EM' --lms-assignment-id 12345 --due '2026-12-01 17:00'",
    )
    command.add_argument("--csv", default=None, help="output file (default: grades.csv in the course folder)")
    command.add_argument(
        "--format",
        choices=("canvas", "moodle", "gradescope"),
        default=None,
        help="also write the grades in this platform's import layout (one score per student)",
    )
    command.add_argument(
        "--output", default=None, help="the platform's file (default: grades_FORMAT.csv in the course folder)"
    )
    command.add_argument(
        "--assignment", default="GMM EM course", help="the assignment's name on the platform (default: GMM EM course)"
    )
    command.add_argument(
        "--lms-assignment-id", default="", help="Canvas: the assignment's id, as in its column name 'NAME (ID)'"
    )
    command.add_argument(
        "--canvas-id",
        choices=("ID", "SIS User ID", "SIS Login ID"),
        default="SIS User ID",
        help="Canvas: the column that holds the student id (default: SIS User ID)",
    )
    command.add_argument(
        "--due",
        default=None,
        metavar="TIME",
        help="record the due date in the gradebook first (ISO 8601, UTC unless a zone is given); late penalties "
        "follow nbgrader's late-penalty plugin set in nbgrader_config.py",
    )
    _add_workspace_options(command, timeout=False)
    command.set_defaults(func=_cmd_export)

    command = _command(
        commands,
        "similarity",
        "rank pairs of students whose gmm_student code is alike (a reason to look, not a verdict)",
        "Compare what each student wrote in gmm_student/*.py (the released skeleton's given code removed; names, "
        "strings, comments, layout and the order of functions ignored) with copydetect's winnowing fingerprints, "
        "pair by pair. Prints the pairs in which one student's code is at least --threshold shared with the "
        "other's, and the students whose code is found in a known source (by default the reference solution, "
        "whose code is then left out of the pairwise comparison), and writes an HTML page with the shared code "
        "of the top pairs side by side. A match is a reason to look, not a verdict: read the code.",
        "gmm-course similarity --work-dir .grading/demo\ngmm-course similarity --threshold 0.4 --source "
        "~/last_year/gmm_student --html similar.html",
    )
    command.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="list a pair when at least this share of one student's code is in the other's (default 0.5)",
    )
    command.add_argument("--top", type=int, default=10, help="pairs shown side by side in the HTML page (default 10)")
    command.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="DIR",
        help="a package of known code (e.g. last year's solutions), instead of the reference (repeatable)",
    )
    command.add_argument(
        "--no-reference", action="store_true", help="no known source: compare the students with each other only"
    )
    command.add_argument("--html", default=None, help="the HTML page (default: similarity.html in the course folder)")
    command.add_argument(
        "--jobs", type=int, default=None, help="processes reading the submissions (default: every core)"
    )
    _add_workspace_options(command, timeout=False)
    command.set_defaults(func=_cmd_similarity)

    command = _command(
        commands,
        "demo",
        "the end-to-end instructor demo on a synthetic class",
        "The whole cycle on a synthetic class of seven students: build the release, write the class as an LMS "
        "exports it, import, autograde, feedback, export, compare the code (similarity), and check each "
        "student's autograded score. The class "
        "goes into WORK_DIR/demo (default .grading/demo), replacing an earlier demo there (never a folder the demo "
        "did not make). About 2 minutes on 2 cores. Exit status 1 if any score is off.",
        "gmm-course demo && gmm-course formgrader --work-dir .grading/demo",
    )
    command.add_argument(
        "--work-dir",
        default=str(paths.DEFAULT_WORK_DIR),
        help="the class goes into WORK_DIR/demo (default .grading, so .grading/demo)",
    )
    command.add_argument("--db", default=None, help="gradebook database URL (default: SQLite in the demo's folder)")
    command.add_argument(
        "--timeout",
        type=int,
        default=DEMO_CELL_TIMEOUT,
        help=f"seconds per notebook cell (default and at most {DEMO_CELL_TIMEOUT})",
    )
    command.set_defaults(func=_cmd_demo)

    command = _command(
        commands,
        "skeleton",
        "regenerate course/gmm_student from solutions/gmm_reference",
        "Regenerate the student package course/gmm_student from the reference solutions/gmm_reference: every "
        "solution block becomes a raise NotImplementedError. gmm-course build does this too.",
        "gmm-course skeleton",
    )
    command.set_defaults(func=_cmd_skeleton)

    command = _command(
        commands,
        "run-source",
        "execute source notebooks in place, store outputs",
        "Execute source notebooks (with the reference solution) in place and store them with their outputs and "
        "without volatile metadata. Exit status 1 if a notebook has a problem.",
        "gmm-course run-source 01_em_1d_old_faithful.ipynb",
    )
    command.add_argument("notebooks", nargs="*", help="notebook names (default: all of them)")
    command.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    command.set_defaults(func=_cmd_run_source)

    command = _command(
        commands,
        "check-notebook",
        "grade one source notebook against the reference, the skeleton or mutants",
        "Grade one source notebook (hidden tests included) against the reference (must pass every check), the "
        "skeleton (must fail every one) or known mistakes from the mutant catalogue (each must fail exactly the "
        "checks its entry names). Exit status 1 if any outcome is not as expected.",
        "gmm-course check-notebook 03_log_sum_exp.ipynb --all-mutants",
    )
    command.add_argument("notebook", help="file name of a notebook in source_notebooks/")
    command.add_argument("--package", action="append", help="reference, skeleton or a mutant name (repeatable)")
    command.add_argument("--all-mutants", action="store_true", help="also every mutant of this notebook's catalogue")
    command.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    command.add_argument(
        "--graded-only",
        action="store_true",
        help="run only the graded cells and the cells they need (same grades, a fraction of the time)",
    )
    command.set_defaults(func=_cmd_check_notebook)
    return parser


def main(argv=None) -> int:
    """Run ``gmm-course`` with ``argv``; a user's error is one line naming the problem and exit status 2."""
    from .environment import use_this_environment

    use_this_environment()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as error:
        print(f"gmm-course {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
