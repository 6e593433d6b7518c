"""Time every course notebook with the reference and with a slow but correct student package.

Each notebook is executed top to bottom in a fresh kernel (one BLAS thread, as in
grading) with its hidden tests, twice side by side in one run: with the reference
solution as ``gmm_student`` (the anchor) and with a deliberately slow but correct
package: the reference with every valid alternative whose name says "loop" applied
(Python loops over components or points instead of vectorised NumPy, from
``gmm_course.alternatives``). Reported per notebook: wall time, the slowest cell and
its time, the slow package's ratio to the anchor, and whether every autograded cell
kept its points (a slow but correct student must not lose points to the cell timeout).

    python benchmarks/bench_notebooks.py                 # all notebooks, both packages
    python benchmarks/bench_notebooks.py 04_choosing_k_bic_aic.ipynb --repeats 2

The course's targets (20 s a notebook and 10 s a cell with the reference, on 2 cores)
are printed next to the numbers; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("MPLBACKEND", "Agg")

from gmm_course.alternatives import ALL_ALTERNATIVES  # noqa: E402
from gmm_course.mutants import prepare_submission  # noqa: E402
from gmm_course.notebooks import autograded_results, execute_notebook  # noqa: E402
from gmm_course.paths import REFERENCE_PACKAGE_DIR, SOURCE_NOTEBOOKS_DIR  # noqa: E402

NOTEBOOK_TARGET_S = 20.0
CELL_TARGET_S = 10.0


def slow_alternatives() -> list:
    """The loop-style valid alternatives, at most one per (file, find) so that they apply together."""
    chosen, seen = [], set()
    for alternative in ALL_ALTERNATIVES.values():
        if "loop" in alternative.name and (alternative.file, alternative.find) not in seen:
            seen.add((alternative.file, alternative.find))
            chosen.append(alternative)
    return chosen


def _cell_seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return float("nan")
    return (end - start).total_seconds()


def run_once(notebook: str, alternatives: list, timeout: int) -> tuple[float, float, str, int, int]:
    """(wall seconds, slowest cell seconds, its id, autograded cells passed, autograded cells)."""
    with tempfile.TemporaryDirectory(prefix="gmm-bench-nb-") as scratch:
        folder = prepare_submission(Path(scratch) / "s", SOURCE_NOTEBOOKS_DIR, REFERENCE_PACKAGE_DIR, [notebook])
        for alternative in alternatives:
            try:
                alternative.apply(folder)
            except ValueError:
                pass  # an alternative for code this notebook's package version does not have
        start = time.perf_counter()
        nb = execute_notebook(folder / notebook, cwd=folder, timeout=timeout)
        wall = time.perf_counter() - start
        shutil.rmtree(folder / "gmm_student", ignore_errors=True)
    seconds = [(_cell_seconds(cell), cell.get("id", "?")) for cell in nb.cells if cell.cell_type == "code"]
    slowest, slowest_id = max(seconds, key=lambda item: item[0] if item[0] == item[0] else -1.0)
    results = autograded_results(nb)
    return wall, slowest, slowest_id, sum(r.passed for r in results), len(results)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebook file names (default: every source notebook)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each package; the fastest counts")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per cell, as in grading (default 60)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(p.name for p in SOURCE_NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    slow = slow_alternatives()
    print(f"slow package: the reference with {len(slow)} loop-style alternatives: {', '.join(a.name for a in slow)}")
    print(f"targets with the reference: notebook < {NOTEBOOK_TARGET_S:.0f} s, every cell < {CELL_TARGET_S:.0f} s\n")
    header = f"{'notebook':34} {'package':9} {'wall s':>7} {'slowest cell':>34} {'ratio':>6}  graded"
    print(header)
    print("-" * len(header))
    for notebook in notebooks:
        best: dict[str, tuple] = {}
        for _ in range(args.repeats):
            for label, alternatives in (("reference", []), ("slow", slow)):  # side by side, interleaved
                result = run_once(notebook, alternatives, args.timeout)
                if label not in best or result[0] < best[label][0]:
                    best[label] = result
        anchor = best["reference"][0]
        for label in ("reference", "slow"):
            wall, slowest, slowest_id, passed, total = best[label]
            too_slow = wall > NOTEBOOK_TARGET_S or slowest > CELL_TARGET_S
            over = " (over target)" if label == "reference" and too_slow else ""
            print(
                f"{notebook[:34]:34} {label:9} {wall:7.1f} {slowest_id[:24]:>24} {slowest:7.1f} s "
                f"{wall / anchor:6.2f}  {passed}/{total}{over}"
            )


if __name__ == "__main__":
    main()
