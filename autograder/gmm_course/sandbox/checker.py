"""The clean check: every test cell, hidden tests included, run where student code cannot reach.

Run in a fresh process per submission, forked by :mod:`.check_server` (or by hand:
``python -m gmm_course.sandbox.checker``). It executes the instructor's code of the
*source* notebooks (never the student's copy): the set-up cells a test cell depends
on, then each test cell, visible part and hidden part, against a trusted
``gmm_student`` whose blank functions run the student's code in a jailed process
(:mod:`.trusted_package`). A cell passes when its code raises nothing: warnings
printed by the student's code cost nothing unless a test turns them into errors
itself, as the ``logsumexp`` tests do for "no warning" requirements.

A cell in which the student's code called grader code through a handle that was not
in force (a reference helper kept from an earlier patch or call, or a forged handle;
see :mod:`.remote`) fails, whatever its tests said: ``outcome`` "misuse" and
``misused_grader_code`` true, so the grading flags it and it scores 0.

The checker bounds itself: its address space may grow by half the student's memory
limit (at least 1 GiB) over what it holds at the start (:func:`bound_memory`), and
grader code that the student's code calls back into stops at the cell's deadline.

Writes a JSON result: per notebook and test cell, whether the visible part and the
whole cell passed, the error message, the time taken and whether grader code was
misused; plus what happened to the student process (deaths, timeouts, misuse,
stderr) and how often it was started.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import io
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
MAX_MESSAGE = 1500
MIN_CHECKER_GROWTH_MB = 1024
MISUSE_MESSAGE = (
    "the student's code called grader code that was not in force in this cell (a helper kept from an earlier "
    "call or test, or a forged handle): the cell fails"
)


def code_of(cell_source: str) -> str:
    """A cell's Python code without IPython magics and shell escapes."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell_source.splitlines())


def split_hidden(source: str) -> tuple[str, str]:
    """(visible part, hidden part) of a test cell's source."""
    if HIDDEN_BEGIN not in source:
        return source, ""
    visible, rest = source.split(HIDDEN_BEGIN, 1)
    hidden = rest.replace(HIDDEN_END, "")
    return visible, hidden


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names a cell defines, names it reads that it does not define itself)."""
    defined, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, ast.Store | ast.Del) else used).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                defined.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    return defined, used - defined


def cells_to_run(cells: list[dict]) -> list[int]:
    """Indices of the test cells and of every earlier code cell they depend on (by name)."""
    parsed = {}
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            try:
                parsed[index] = _names(ast.parse(code_of("".join(cell["source"]))))
            except SyntaxError:
                parsed[index] = (set(), set())
    required: set[str] = set()
    chosen = []
    for index in sorted(parsed, reverse=True):
        defined, used = parsed[index]
        is_test = cells[index].get("metadata", {}).get("nbgrader", {}).get("grade", False)
        if is_test or defined & required:
            chosen.append(index)
            required |= used
    return sorted(chosen)


def _message(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " ..."


class NotebookRun:
    def __init__(self, session, cell_timeout: float, budget_end: float):
        self.session = session
        self.cell_timeout = cell_timeout
        self.budget_end = budget_end

    def _execute(self, source: str, namespace: dict, label: str) -> None:
        code = compile(code_of(source), label, "exec")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(code, namespace)  # noqa: S102 - the instructor's own notebook code

    def run(self, notebook_path: Path) -> dict:
        from .remote import CellTimeout, GraderCodeMisused, StudentProcessDied
        from .trusted_package import watch_installed_modules

        cells = json.loads(notebook_path.read_text(encoding="utf-8"))["cells"]
        namespace: dict = {"__name__": "__main__", "__builtins__": builtins, "display": lambda *a, **k: None}
        results, setup_failures = [], []
        setup_seconds = 0.0  # the instructor's set-up cells the tests need (imports, data, fits)
        for index in cells_to_run(cells):
            cell = cells[index]
            meta = cell.get("metadata", {}).get("nbgrader", {})
            grade_id = meta.get("grade_id", f"cell {index}")
            source = "".join(cell["source"])
            now = time.monotonic()
            if now >= self.budget_end:
                if meta.get("grade"):
                    results.append(
                        self._result(meta, False, False, "the submission's time budget ran out", 0.0, "budget")
                    )
                continue
            self.session.deadline = min(now + self.cell_timeout, self.budget_end)
            watch_installed_modules()  # what earlier cells imported: a test may patch it
            visible_ok = passed = False
            message, outcome = "", "passed"
            try:
                if meta.get("grade"):
                    visible, hidden = split_hidden(source)
                    self._execute(visible, namespace, f"<{grade_id}>")
                    visible_ok = True
                    self._execute(hidden, namespace, f"<{grade_id}, hidden tests>")
                else:
                    self._execute(source, namespace, f"<{grade_id}>")
                passed = True
            except CellTimeout as error:
                message, outcome = _message(error), "timeout"
            except StudentProcessDied as error:
                message, outcome = _message(error), "died"
            except GraderCodeMisused:
                pass  # recorded by the session: see below
            except Exception as error:  # noqa: BLE001 - any failure of a test is a failed test
                message, outcome = _message(error), "failed"
            finally:
                misused = bool(self.session.take_misuse())  # even where a test caught the error
                self.session.end_cell()
                _close_figures()
            if misused:
                passed, message, outcome = False, MISUSE_MESSAGE, "misuse"
            if meta.get("grade"):
                result = self._result(meta, visible_ok, passed, message, time.monotonic() - now, outcome)
                result["misused_grader_code"] = misused
                results.append(result)
            else:
                setup_seconds += time.monotonic() - now
                if not passed:
                    setup_failures.append({"cell": grade_id, "message": message})
        return {"cells": results, "setup_failures": setup_failures, "setup_seconds": round(setup_seconds, 3)}

    @staticmethod
    def _result(meta, visible_ok, passed, message, seconds, outcome) -> dict:
        return {
            "grade_id": meta["grade_id"],
            "max_points": float(meta.get("points", 0)),
            "visible_passed": visible_ok,
            "passed": passed,
            "message": message,
            "seconds": round(seconds, 3),
            "outcome": outcome,
        }


def _close_figures() -> None:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


def bound_memory(memory_limit_mb: int) -> int:
    """Limit this process's address space to what it holds now plus half ``memory_limit_mb`` (at least 1 GiB).

    Sets the soft limit only, so that the student processes this checker starts get
    their own limits (``remote`` lifts it while starting one). Past the limit an
    allocation raises MemoryError: in grader code that the student's code called back
    into, the student's call fails, and in a test, the test fails. Returns the limit
    in bytes.
    """
    status = Path("/proc/self/status").read_text()
    now = int(re.search(r"VmSize:\s+(\d+) kB", status).group(1)) * 1024
    limit = now + max(MIN_CHECKER_GROWTH_MB, memory_limit_mb // 2) * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return limit


def check_submission(args: argparse.Namespace) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    from .remote import StudentSession
    from .trusted_package import import_trusted_package, record_type_finder

    start = time.monotonic()
    session = StudentSession(
        Path(args.own_dir),
        use_jail=args.jail,
        memory_limit_mb=args.memory_limit_mb,
        find_record_type=record_type_finder,
    )
    import_trusted_package(Path(args.skeleton_parent), session)
    os.chdir(args.skeleton_parent)  # where the notebooks' data/ folder is
    bound_memory(args.memory_limit_mb)
    budget_end = start + args.budget
    notebooks = {}
    try:
        for path in args.notebooks:
            notebooks[Path(path).stem] = NotebookRun(session, args.cell_timeout, budget_end).run(Path(path))
    finally:
        session.close()
    return {
        "notebooks": notebooks,
        "events": session.events,
        "stderr": session.stderr_samples,
        "process_starts": session.starts,
        "isolation": "jail" if args.jail else "none",
        "seconds": round(time.monotonic() - start, 3),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--own-dir", required=True, help="the student process's folder (holds gmm_student/)")
    parser.add_argument("--skeleton-parent", required=True, help="folder holding the released gmm_student/ and data/")
    parser.add_argument("--out", required=True)
    parser.add_argument("--cell-timeout", type=float, default=60.0)
    parser.add_argument("--budget", type=float, default=600.0, help="seconds for the whole submission")
    parser.add_argument("--memory-limit-mb", type=int, default=3072)
    parser.add_argument("--jail", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("notebooks", nargs="+", help="source notebooks (with hidden tests)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.notebooks = [str(Path(p).resolve()) for p in args.notebooks]
    args.own_dir, args.skeleton_parent = str(Path(args.own_dir).resolve()), str(Path(args.skeleton_parent).resolve())
    args.out = str(Path(args.out).resolve())
    result = check_submission(args)
    out = Path(args.out)
    temporary = out.with_suffix(".tmp")
    temporary.write_text(json.dumps(result, indent=1))
    os.replace(temporary, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
