"""Time ``gmm-course similarity`` on a synthetic class (the target: 200 submissions in under a minute on 2 cores).

The class is the worst case for the comparison: every student submits the reference solution in its own disguise
(local variables renamed, functions reordered, reformatted; ``demo_class.disguise_package`` with the student's
seed), so every pair shares almost all its code and every pair is compared and listed; one student in ten submits
the blank release. Runs in this process, one thread.

    python benchmarks/bench_similarity.py                 # 200 students
    python benchmarks/bench_similarity.py --students 50

Prints the wall and CPU seconds of the whole command without known sources (every pair) and with the reference
as a known source (the default of ``gmm-course similarity``), and the pairs listed.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from gmm_course.demo_class import disguise_package
from gmm_course.paths import ASSIGNMENT_ID, REFERENCE_PACKAGE_DIR, STUDENT_PACKAGE_DIR
from gmm_course.similarity import render_report, similarity_of_class


def make_class(root: Path, students: int) -> None:
    """``root/submitted/<student>/gmm_em/gmm_student``: the reference in disguise, or every tenth the blank."""
    for number in range(students):
        package = root / "submitted" / f"student{number:03d}" / ASSIGNMENT_ID / "gmm_student"
        if number % 10 == 9:
            shutil.copytree(STUDENT_PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            disguise_package(REFERENCE_PACKAGE_DIR, package, seed=number)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the worker processes): on a busy machine the wall
    time says how busy it is, this says what the work cost."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2, help="processes reading the submissions (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gmm-bench-similarity-") as scratch:
        root = Path(scratch)
        make_class(root, args.students)
        start, cpu = time.perf_counter(), _cpu()
        every_pair = similarity_of_class(root, sources=[], jobs=args.jobs)
        page = render_report(every_pair)
        no_source, no_source_cpu = time.perf_counter() - start, _cpu() - cpu
        start, cpu = time.perf_counter(), _cpu()
        report = similarity_of_class(root, jobs=args.jobs)
        render_report(report)
        default, default_cpu = time.perf_counter() - start, _cpu() - cpu
    print(f"{args.students} submissions ({len(report.empty)} with no code of their own), {args.jobs} processes")
    print(
        f"  no known source (every pair compared): {no_source:6.1f} s ({no_source_cpu:.1f} s of CPU), "
        f"{len(every_pair.matches)} pairs listed"
    )
    print(
        f"  the reference as a known source (the command's default): {default:6.1f} s ({default_cpu:.1f} s of CPU), "
        f"{len(report.source_matches)} students match it, {len(report.matches)} pairs listed"
    )
    print(f"  HTML page of the first: {len(page) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
