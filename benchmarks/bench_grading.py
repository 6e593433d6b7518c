"""Grade one synthetic class three ways, side by side in one run, and compare throughput.

The anchor is stock ``nbgrader autograde``, one student after another (hidden tests in the student's kernel).
Against it: this course's grader (``gmm-course autograde``: sanitise, jailed kernel stage, clean check, one
gradebook writer) with ``--jobs N`` local worker processes, and the same on a local Dask cluster of N
single-threaded workers. Each way grades the same class in a fresh course folder with a fresh SQLite
gradebook; the Dask cluster is started before its clock starts (as an instructor's cluster would be running).

    python benchmarks/bench_grading.py                  # 40 students, N = 2
    python benchmarks/bench_grading.py --students 6     # a quick look

Prints submissions per minute for each way and the ratio to the anchor, then where the time of one notebook
goes in this course's grader: the notebook's own code (its cells in the kernel stage; the test cells and the
set-up cells they need in the clean check) against the overhead around it (sanitising, kernel start and stop,
starting the checker and the student process, and recording into the gradebook). The class: about half correct
submissions, the rest with one known mistake from the mutant catalogue each (cycling through it), and a blank
one in every ten; its grades are checked to be identical across the two ways of running this course's grader.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from gmm_course.autograding import autograde_class, load_result
from gmm_course.demo_class import DemoStudent, make_submission
from gmm_course.environment import SINGLE_THREAD_ENV
from gmm_course.grading import Workspace
from gmm_course.mutants import ALL_MUTANTS
from gmm_course.pipeline import GradingOptions
from gmm_course.services import local_dask_cluster

#: Mutants that loop until the cell timeout: left out, so that the class measures grading, not waiting.
SLOW_MUTANTS = {"nb05_kmeans_waits_for_empty_cluster"}


def synthetic_class(size: int) -> list[DemoStudent]:
    mutants = [name for name in ALL_MUTANTS if name not in SLOW_MUTANTS]
    students = []
    for index in range(size):
        name = f"s{index:03d}"
        if index % 10 == 9:
            students.append(DemoStudent(name, "blank", blank=True))
        elif index % 2 == 0:
            students.append(DemoStudent(name, "correct"))
        else:
            mutant = mutants[(index // 2) % len(mutants)]
            students.append(DemoStudent(name, mutant, mutants=(mutant,)))
    return students


def fresh_workspace(base: Path, name: str, folders: dict[str, Path], cell_timeout: int) -> Workspace:
    workspace = Workspace(base / name, cell_timeout=cell_timeout)
    workspace.prepare()
    for student, folder in folders.items():
        workspace.submit(student, folder)
    return workspace


def run_stock(workspace: Workspace, students: list[str]) -> float:
    """Stock nbgrader autograde, one student after another (its kernels' stderr chatter is silenced)."""
    saved_stderr = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            start = time.perf_counter()
            for student in students:
                result = workspace.autograde(student)
                if not result.get("success", False):
                    raise RuntimeError(f"stock nbgrader failed on {student}: {result.get('error')}")
            return time.perf_counter() - start
        finally:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)


def run_ours(workspace: Workspace, options: GradingOptions, jobs: int = 1, scheduler: str | None = None):
    start = time.perf_counter()
    outcomes = autograde_class(workspace, progress=False, options=options, jobs=jobs, scheduler=scheduler)
    seconds = time.perf_counter() - start
    failed = [o for o in outcomes if o.status != "graded"]
    if failed:
        raise RuntimeError(f"{len(failed)} submissions failed to grade, e.g. {failed[0]}")
    return seconds, outcomes


def scores(workspace: Workspace, students: list[str]) -> dict:
    return {s: sorted((g.notebook, g.grade_id, g.score) for g in workspace.grades(s)) for s in students}


def overhead_table(workspace: Workspace, outcomes) -> list[tuple[str, float]]:
    """Mean seconds per notebook of each part of grading, from the results' timings."""
    per_notebook = defaultdict(list)
    per_submission = defaultdict(list)
    for outcome in outcomes:
        result = load_result(workspace.root, outcome.student)
        seconds = result.seconds
        notebooks = sorted({key.split()[-1] for key in seconds if key.startswith("kernel cells ")})
        for stem in notebooks:
            for part in ("sanitise", "kernel start", "kernel cells", "kernel stop"):
                per_notebook[part].append(seconds.get(f"{part} {stem}", 0.0))
        n = max(1, len(notebooks))
        per_submission["clean check code"].append(seconds["clean check code"] / n)
        per_submission["clean check start"].append((seconds["clean check"] - seconds["clean check code"]) / n)
        per_submission["record (gradebook, result file)"].append(outcome.record_seconds / n)
    rows = [(part, statistics.fmean(values)) for part, values in per_notebook.items()]
    rows += [(part, statistics.fmean(values)) for part, values in per_submission.items()]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="local processes and Dask workers (default 2)")
    parser.add_argument("--timeout", type=int, default=20, help="seconds per cell")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    os.environ.update({k: v for k, v in SINGLE_THREAD_ENV.items() if "THREADS" in k})

    base = Path(tempfile.mkdtemp(prefix="gmm-bench-grading-"))
    try:
        students = synthetic_class(args.students)
        names = [s.name for s in students]
        folders = {s.name: make_submission(s, base / "class" / s.name) for s in students}
        options = GradingOptions(cell_timeout=args.timeout)
        print(f"class: {len(students)} submissions x 5 notebooks; {args.workers} workers; {os.cpu_count()} cores")

        stock_ws = fresh_workspace(base, "stock", folders, args.timeout)
        stock = run_stock(stock_ws, names)
        print(f"  stock nbgrader, serial      {stock:8.1f} s", flush=True)

        jobs_ws = fresh_workspace(base, "jobs", folders, args.timeout)
        jobs, jobs_outcomes = run_ours(jobs_ws, options, jobs=args.workers)
        print(f"  autograde --jobs {args.workers}          {jobs:8.1f} s", flush=True)

        dask_ws = fresh_workspace(base, "dask", folders, args.timeout)
        with local_dask_cluster(n_workers=args.workers) as scheduler:
            dask, _ = run_ours(dask_ws, options, scheduler=scheduler)
        print(f"  autograde on Dask ({args.workers} wk)   {dask:8.1f} s", flush=True)

        same = scores(jobs_ws, names) == scores(dask_ws, names)
        print(f"\ngrades identical between --jobs and Dask: {same}")
        print(f"\n{'way':<34}{'submissions/min':>16}{'x stock nbgrader':>18}")
        for label, seconds in (
            ("stock nbgrader autograde (serial)", stock),
            (f"autograde --jobs {args.workers}", jobs),
            (f"autograde --scheduler (Dask, {args.workers} wk)", dask),
        ):
            print(f"{label:<34}{60 * len(names) / seconds:>16.1f}{stock / seconds:>18.2f}")

        print("\nwhere one notebook's grading time goes (--jobs run, mean seconds per notebook):")
        rows = overhead_table(jobs_ws, jobs_outcomes)
        own = {"kernel cells", "clean check code"}
        for part, value in rows:
            print(f"  {'code ' if part in own else 'overhead '}{part:<36}{value:8.3f}")
        overhead = sum(v for p, v in rows if p not in own)
        code = sum(v for p, v in rows if p in own)
        print(f"  overhead per notebook {overhead:.3f} s against {code:.3f} s of the notebook's own code")
        summary = {"students": len(names), "stock_s": stock, "jobs_s": jobs, "dask_s": dask, "rows": rows}
        print("\n" + json.dumps(summary))
        return 0 if same else 1
    finally:
        if args.keep:
            print(f"scratch kept in {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
