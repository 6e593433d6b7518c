"""``gmm-course``: the instructor's command line. ``gmm-course COMMAND --help`` for each command.

The grading commands work in a course directory (``--work-dir``, default ``.grading``)
with a SQLite gradebook inside it, unless ``--db`` names another database.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import paths


def _workspace(args):
    from .grading import Workspace

    return Workspace(Path(args.work_dir), db_url=args.db, cell_timeout=getattr(args, "timeout", 60))


def _notebook_names() -> list[str]:
    return [p.name for p in paths.source_notebooks()]


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

    packages = args.package or ["reference", "skeleton"]
    if args.all_mutants:
        packages += [m.name for m in CATALOGUE.get(args.notebook, [])]
    wrong = []
    for package in packages:
        grades = grade_source_notebook(args.notebook, package, timeout=args.timeout)
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

    problems = validate_course(Path(args.work_dir))
    for problem in problems:
        print(f"FAIL {problem}")
    print("validate: " + ("all checks passed" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


def _cmd_import(args) -> int:
    from .submissions import import_submissions, read_times

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
    return 0


def _cmd_autograde(args) -> int:
    from .autograding import autograde_class, load_result
    from .pipeline import GradingOptions
    from .plain_text import printable
    from .report import failure_row, write_report

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
    report, lines = write_report(workspace.root, results, [failure_row(o.student, o.error) for o in failed])
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

    workspace = _workspace(args)
    for path in write_feedback(workspace, _graded_students(workspace, args.students)):
        print(f"wrote {path}")
    return 0


def _cmd_export(args) -> int:
    from .export import collect_grades, grade_table, summary, write_csv

    workspace = _workspace(args)
    data = collect_grades(workspace, _graded_students(workspace, None))
    path = write_csv(data, Path(args.csv) if args.csv else workspace.root / "grades.csv")
    print(grade_table(data))
    print()
    print(summary(data))
    print(f"\nwrote {path}")
    return 0


def _cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(args)


def _add_workspace_options(parser, timeout=True) -> None:
    parser.add_argument("--work-dir", default=str(paths.DEFAULT_WORK_DIR), help="course directory (default .grading)")
    parser.add_argument("--db", default=None, help="gradebook database URL (default: SQLite in the course directory)")
    if timeout:
        parser.add_argument("--timeout", type=int, default=60, help="seconds per notebook cell (default 60)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gmm-course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    command = commands.add_parser("build", help="regenerate the student release (course/) from the sources")
    command.set_defaults(func=_cmd_build)

    command = commands.add_parser(
        "validate",
        help="check the release (fresh, no leaks) and autograde a reference and a blank submission with nbgrader",
    )
    command.add_argument("--work-dir", default=str(paths.REPO_ROOT / "build" / "validate"), help="scratch directory")
    command.set_defaults(func=_cmd_validate)

    command = commands.add_parser(
        "import", help="take a folder of submissions (one folder or zip per student) into the course directory"
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

    command = commands.add_parser("autograde", help="grade imported submissions (resumes where it stopped)")
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

    command = commands.add_parser("feedback", help="write an HTML feedback report per graded student")
    command.add_argument("students", nargs="*", help="student ids (default: every graded student)")
    _add_workspace_options(command, timeout=False)
    command.set_defaults(func=_cmd_feedback)

    command = commands.add_parser("export", help="grades as CSV plus a summary for the instructor")
    command.add_argument("--csv", default=None, help="output file (default: grades.csv in the course directory)")
    _add_workspace_options(command, timeout=False)
    command.set_defaults(func=_cmd_export)

    command = commands.add_parser("demo", help="the end-to-end instructor demo on a synthetic class")
    _add_workspace_options(command)
    command.set_defaults(func=_cmd_demo)

    command = commands.add_parser("skeleton", help="regenerate course/gmm_student from solutions/gmm_reference")
    command.set_defaults(func=_cmd_skeleton)

    command = commands.add_parser("run-source", help="execute source notebooks in place, store outputs")
    command.add_argument("notebooks", nargs="*", help="notebook names (default: all five)")
    command.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    command.set_defaults(func=_cmd_run_source)

    command = commands.add_parser(
        "check-notebook", help="grade one source notebook against the reference, the skeleton or mutants"
    )
    command.add_argument("notebook", help="file name of a notebook in source_notebooks/")
    command.add_argument("--package", action="append", help="reference, skeleton or a mutant name (repeatable)")
    command.add_argument("--all-mutants", action="store_true", help="also every mutant of this notebook's catalogue")
    command.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    command.set_defaults(func=_cmd_check_notebook)
    return parser


def main(argv=None) -> int:
    from .environment import use_this_environment

    use_this_environment()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"gmm-course {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
