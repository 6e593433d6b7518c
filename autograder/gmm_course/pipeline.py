"""Grade one submission: sanitise, kernel stage, clean check; the result is plain data.

``grade_submission`` touches only the student's own scratch folder (a new
``gmm-grading-*`` folder in the system's temporary folder, local to the worker and
removed afterwards) and their ``autograded/<student>/`` folder, and writes nothing
to the gradebook: :mod:`.record` does that, in the parent process, so that any number
of submissions can be graded at once (see issue 6) with a single gradebook writer.

Scores come from the clean check alone. Where the kernel stage ran a test cell
normally and its visible checks came out differently from the clean check's run of
the same visible checks, the cell is flagged: the student's code behaved differently
when it could reach the test machinery; the clean result counts. A cell in which the student's code called
grader code through a handle that was not in force (kept from an earlier call, patch or cell, or forged) is
flagged too and scores 0, whatever its checks said: it could only have earned its points with the grader's code.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .config import CELL_TIMEOUT_SECONDS
from .kernel_stage import run_kernel_stage
from .outputs import make_outputs_inert
from .paths import ASSIGNMENT_ID
from .sandbox.check_server import run_check
from .sandbox.jail import DEFAULT_MEMORY_LIMIT_MB, jail_available
from .sanitise import sanitise
from .submissions import ImportNote

DEFAULT_BUDGET_SECONDS = 900
PACKAGE = "gmm_student"


@dataclass(frozen=True)
class GradingOptions:
    cell_timeout: int = CELL_TIMEOUT_SECONDS
    budget: float = DEFAULT_BUDGET_SECONDS
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB
    jail: bool | None = None  # None: use the jail where the machine allows it
    kernel_stage: bool = True
    notebooks: tuple[str, ...] = ()  # grade only notebooks whose names start with these (default: all)
    scratch_dir: str = ""  # where each submission's scratch folder is made (default: the system's temporary folder)

    def use_jail(self) -> bool:
        return jail_available() if self.jail is None else self.jail


@dataclass
class CellResult:
    notebook: str
    grade_id: str
    max_points: float
    score: float
    message: str
    outcome: str  # passed, failed, timeout, died, budget
    kernel_passed: bool | None  # the visible checks in the student's kernel; None if not comparable
    clean_visible_passed: bool
    flagged: bool


@dataclass
class SubmissionResult:
    student: str
    cells: list[CellResult]
    notes: list[ImportNote]
    flags: list[str]
    events: list[str]
    isolation: str
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> SubmissionResult:
        return cls(
            student=data["student"],
            cells=[CellResult(**c) for c in data["cells"]],
            notes=[ImportNote(**n) for n in data["notes"]],
            flags=data["flags"],
            events=data["events"],
            isolation=data["isolation"],
            seconds=data["seconds"],
        )

    @property
    def total(self) -> float:
        return sum(c.score for c in self.cells)


def released_notebooks(root: Path, only: tuple[str, ...] = ()) -> list[Path]:
    found = sorted((root / "release" / ASSIGNMENT_ID).glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if not only or p.name.startswith(only)]


def stage_package(submitted: Path, target: Path, released_package: Path, student: str) -> list[ImportNote]:
    """Copy the student's gmm_student/*.py into ``target`` (missing modules: the released blank)."""
    notes: list[ImportNote] = []
    source = submitted / PACKAGE
    target.mkdir(parents=True, exist_ok=True)
    expected = {p.name for p in released_package.glob("*.py")}
    present = {}
    if source.is_dir():
        for path in sorted(source.iterdir()):
            name = path.name
            printable = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            if path.is_symlink() or not path.is_file():
                if path.name != "__pycache__":
                    notes.append(ImportNote(student, f"{PACKAGE}/{printable}", "not a regular file", "ignored"))
                continue
            if not name.isascii() or not name.endswith(".py"):
                notes.append(ImportNote(student, f"{PACKAGE}/{printable}", "not a Python module", "ignored"))
                continue
            present[name] = path
            if name not in expected:
                notes.append(ImportNote(student, f"{PACKAGE}/{name}", "extra module", "kept (your code may import it)"))
    else:
        notes.append(ImportNote(student, PACKAGE, "package folder missing", "every module is the released blank"))
    for name in sorted(expected - set(present)):
        if source.is_dir():
            notes.append(ImportNote(student, f"{PACKAGE}/{name}", "module missing", "the released blank is used"))
        shutil.copyfile(released_package / name, target / name)
    for name, path in present.items():
        shutil.copyfile(path, target / name)
    return notes


def _fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def run_clean_check(
    own_dir: Path, skeleton_parent: Path, notebooks: list[Path], options: GradingOptions, use_jail: bool
) -> dict:
    """Run the clean check of one submission in a fresh process (forked by :mod:`.sandbox.check_server`)."""
    out = own_dir.parent / "clean_check.json"
    log = own_dir.parent / "clean_check.log"
    argv = [
        "--own-dir",
        str(own_dir),
        "--skeleton-parent",
        str(skeleton_parent),
        "--out",
        str(out),
        "--cell-timeout",
        str(options.cell_timeout),
        "--budget",
        str(options.budget),
        "--memory-limit-mb",
        str(options.memory_limit_mb),
        "--jail" if use_jail else "--no-jail",
        *map(str, notebooks),
    ]
    exit_code = run_check(argv, log, timeout=options.budget + 300)
    if exit_code != 0 or not out.exists():
        said = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise RuntimeError(f"the clean check itself failed (exit {exit_code}): {said}")
    return json.loads(out.read_text())


#: The kernel's unix sockets live in the scratch folder, and a socket path may hold only 107 bytes (Linux): so
#: the scratch folder must have a short path, wherever the course folder is.
MAX_SCRATCH_PATH = 60


def scratch_folder(options: GradingOptions) -> Path:
    """A new, empty, private folder for grading one submission, with a short path (see :data:`MAX_SCRATCH_PATH`)."""
    base = options.scratch_dir or tempfile.gettempdir()
    if len(str(Path(base).resolve())) > MAX_SCRATCH_PATH - len("/gmm-grading-12345678/kernel"):
        if options.scratch_dir:
            raise ValueError(f"scratch folder {base!r} has too long a path for the kernel's unix sockets")
        base = "/tmp"
    return Path(tempfile.mkdtemp(prefix="gmm-grading-", dir=base)).resolve()


def grade_submission(root: Path, student: str, options: GradingOptions = GradingOptions()) -> SubmissionResult:
    """Grade ``submitted/<student>`` of the course folder ``root``; writes ``autograded/<student>``."""
    work = scratch_folder(options)
    try:
        return _grade(root, student, options, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _grade(root: Path, student: str, options: GradingOptions, work: Path) -> SubmissionResult:
    started = time.perf_counter()
    use_jail = options.use_jail()
    submitted = root / "submitted" / student / ASSIGNMENT_ID
    trusted = root / "source" / ASSIGNMENT_ID  # the staged skeleton and data: ours, never the student's
    autograded = _fresh(root / "autograded" / student / ASSIGNMENT_ID)
    notes: list[ImportNote] = []
    events: list[str] = []
    seconds: dict[str, float] = {}

    kernel_dir = work / "kernel"
    notes += stage_package(submitted, kernel_dir / PACKAGE, trusted / PACKAGE, student)
    shutil.copytree(trusted / "data", kernel_dir / "data")
    clean_dir = work / "clean"
    stage_package(submitted, clean_dir / PACKAGE, trusted / PACKAGE, student)

    kernel_results: dict[tuple[str, str], bool | None] = {}
    # One budget bounds the whole kernel stage of the submission (all its notebooks, kernel starts included); the
    # clean check has a budget of its own, so that scores never depend on how long the kernel stage took.
    kernel_deadline = time.monotonic() + options.budget
    for release_path in released_notebooks(root, options.notebooks):
        stem = release_path.stem
        t0 = time.perf_counter()
        sanitised = sanitise(release_path, submitted / release_path.name, student)
        seconds[f"sanitise {stem}"] = round(time.perf_counter() - t0, 3)
        notes += sanitised.notes
        nb = sanitised.notebook
        if options.kernel_stage:
            t0 = time.perf_counter()
            try:
                nb, cells, kernel_events, timings = run_kernel_stage(
                    nb,
                    kernel_dir,
                    cell_timeout=options.cell_timeout,
                    use_jail=use_jail,
                    memory_limit_mb=options.memory_limit_mb,
                    deadline=kernel_deadline,
                )
                seconds[f"kernel start {stem}"] = round(timings.start, 3)
                seconds[f"kernel cells {stem}"] = round(timings.cells, 3)
                seconds[f"kernel stop {stem}"] = round(timings.stop, 3)
            except Exception as error:  # noqa: BLE001 - the kernel stage informs; the clean check still grades
                cells, kernel_events = [], [f"the kernel stage stopped ({type(error).__name__}: {error})"]
            seconds[f"kernel {stem}"] = round(time.perf_counter() - t0, 3)
            events += [f"{release_path.name}: {e}" for e in kernel_events]
            for cell in cells:
                kernel_results[(stem, cell.grade_id)] = cell.passed if cell.reliable else None
        events += [f"{release_path.name}: {note}" for note in make_outputs_inert(nb)]  # inert, bounded outputs
        nbformat.write(nb, str(autograded / release_path.name))
    if (submitted / "timestamp.txt").exists():
        shutil.copyfile(submitted / "timestamp.txt", autograded / "timestamp.txt")

    t0 = time.perf_counter()
    sources = [trusted / p.name for p in released_notebooks(root, options.notebooks)]
    clean = run_clean_check(clean_dir, trusted, sources, options, use_jail)
    seconds["clean check"] = round(time.perf_counter() - t0, 3)
    # The notebooks' own code in the clean check: test cells and the set-up cells they need. The rest of its
    # time is starting the checker and the student's process.
    code_seconds = sum(o.get("setup_seconds", 0.0) for o in clean["notebooks"].values())
    code_seconds += sum(c.get("seconds", 0.0) for o in clean["notebooks"].values() for c in o["cells"])
    seconds["clean check code"] = round(code_seconds, 3)
    events += clean["events"]
    events += [f"the student's code wrote to stderr: {text[:500]}" for text in clean["stderr"][:3]]
    cells, flags = [], []
    for notebook, outcome in clean["notebooks"].items():
        for failure in outcome["setup_failures"]:
            events.append(f"{notebook}.ipynb: set-up cell {failure['cell']} failed: {failure['message'][:300]}")
        for cell in outcome["cells"]:
            kernel = kernel_results.get((notebook, cell["grade_id"]))
            mismatch = kernel is not None and kernel != cell["visible_passed"]
            misused = bool(cell.get("misused_grader_code"))  # a call into grader code not in force: scores 0
            flagged = mismatch or misused
            if mismatch:
                said = "passed" if kernel else "failed"
                flags.append(
                    f"{notebook}.ipynb {cell['grade_id']}: the visible checks {said} in the student's kernel but "
                    f"{'passed' if cell['visible_passed'] else 'failed'} in the clean check; the clean result counts"
                )
            if misused:
                flags.append(
                    f"{notebook}.ipynb {cell['grade_id']}: the student's code called grader code that was not in "
                    "force (a helper kept from an earlier call or test, or a forged handle); the cell scores 0"
                )
            cells.append(
                CellResult(
                    notebook=notebook,
                    grade_id=cell["grade_id"],
                    max_points=cell["max_points"],
                    score=cell["max_points"] if cell["passed"] and not misused else 0.0,
                    message=cell["message"],
                    outcome=cell["outcome"],
                    kernel_passed=kernel,
                    clean_visible_passed=cell["visible_passed"],
                    flagged=flagged,
                )
            )
    seconds["total"] = round(time.perf_counter() - started, 3)
    return SubmissionResult(student, cells, notes, flags, events, clean["isolation"], seconds)
