"""``gmm-course``: the instructor's command line. ``gmm-course COMMAND --help`` for each command."""

from __future__ import annotations

import argparse
import sys
import time

from . import paths


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
    from .mutants import CATALOGUE
    from .validation import grade_source_notebook

    packages = args.package or ["reference", "skeleton"]
    if args.all_mutants:
        packages += [m.name for m in CATALOGUE.get(args.notebook, [])]
    status = 0
    for package in packages:
        grades = grade_source_notebook(args.notebook, package, timeout=args.timeout)
        print(f"== {args.notebook} with {package}: {len(grades.passed)} passed, {len(grades.failed)} failed")
        for result in grades.results:
            mark = "PASS" if result.passed else "FAIL"
            print(f"  {mark} {result.grade_id} ({result.points}/{result.max_points}) {result.error or ''}")
    return status


def _cmd_build(args) -> int:
    from .build import build_release

    build_release(verbose=True)
    return 0


def _cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gmm-course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    skeleton = commands.add_parser("skeleton", help="regenerate course/gmm_student from solutions/gmm_reference")
    skeleton.set_defaults(func=_cmd_skeleton)

    run_source = commands.add_parser(
        "run-source", help="execute source notebooks in place, store outputs, report failing cells"
    )
    run_source.add_argument("notebooks", nargs="*", help="notebook names (default: all five)")
    run_source.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    run_source.set_defaults(func=_cmd_run_source)

    check = commands.add_parser(
        "check-notebook", help="grade one source notebook against the reference, the skeleton or mutants"
    )
    check.add_argument("notebook", help="file name of a notebook in source_notebooks/")
    check.add_argument(
        "--package",
        action="append",
        help="reference, skeleton or a mutant name (repeatable; default: reference and skeleton)",
    )
    check.add_argument("--all-mutants", action="store_true", help="also every mutant of this notebook's catalogue")
    check.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    check.set_defaults(func=_cmd_check_notebook)

    build = commands.add_parser("build", help="regenerate the student release (course/) from the sources")
    build.set_defaults(func=_cmd_build)

    demo = commands.add_parser("demo", help="the end-to-end instructor demo")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"gmm-course {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
