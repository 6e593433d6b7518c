"""A synthetic class of submissions whose correct grades are known in advance.

Each demo student starts from the released notebooks, fills in (or not) the written
answers with the model answers of the source notebooks, and submits a gmm_student
package: the reference, the blank skeleton, or the reference with known mistakes from
the mutant catalogue applied; one of them (``gus_copied``) submits a copy of another's
package in disguise, for the similarity report. The autograded score each student must get follows
from the catalogue: full marks minus the points of every cell its mistakes fail.
"""

from __future__ import annotations

import ast
import random
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .mutants import ALL_MUTANTS
from .normalise import write_normalised
from .notebooks import read_notebook
from .paths import COURSE_DIR, REFERENCE_PACKAGE_DIR, SOURCE_NOTEBOOKS_DIR, source_notebooks
from .skeleton import is_excluded


@dataclass(frozen=True)
class DemoStudent:
    name: str
    description: str
    mutants: tuple[str, ...] = ()
    blank: bool = False
    as_zip: bool = False
    disguise_seed: int | None = None  # a copy in disguise: locals renamed, functions reordered (disguise_package)


#: What fay_original wrote her own way (and gus_copied copied): code that is neither the skeleton's nor the
#: reference's, so that the similarity report has something of theirs to compare.
COPIED_WORK = (
    "nb01_e_step_no_weights",
    "nb01_fit_converged_only_before_max_iter",
    "nb02_m_step_centres_x_in_place",
    "nb03_log_e_step_no_weights",
)

DEMO_CLASS = (
    DemoStudent("ada_correct", "complete and correct"),
    DemoStudent("ben_blank", "blank: the release as handed out", blank=True, as_zip=True),
    DemoStudent(
        "cleo_mistakes",
        "typical mistakes in several functions",
        mutants=(
            "nb01_resp_unnormalised",
            "nb02_m_step_cov_divided_by_n",
            "nb03_lse_naive",
            "nb04_bic_n_not_log_n",
            "nb05_params_weights_are_counts",
        ),
        as_zip=True,
    ),
    DemoStudent("dan_raises", "code that raises an exception", mutants=("nb01_m_step_raises",)),
    DemoStudent("eve_infinite_loop", "an infinite loop", mutants=("nb05_kmeans_waits_for_empty_cluster",), as_zip=True),
    DemoStudent("fay_original", "her own way of writing four functions (with their mistakes)", mutants=COPIED_WORK),
    DemoStudent(
        "gus_copied",
        "a copy of fay_original's code, local variables renamed and functions reordered",
        mutants=COPIED_WORK,
        disguise_seed=15,
        as_zip=True,
    ),
)
#: The two demo students whose similarity report must list them first, and no other pair.
COPIED_PAIR = ("fay_original", "gus_copied")


def autograded_points() -> dict[tuple[str, str], float]:
    """(notebook, grade_id) -> points of every autograded test cell of the source notebooks."""
    points = {}
    for path in source_notebooks():
        for cell in read_notebook(path).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
                points[(path.stem, meta["grade_id"])] = float(meta["points"])
    return points


def expected_autograded_score(student: DemoStudent) -> float:
    points = autograded_points()
    if student.blank:
        return 0.0
    failed = set()
    for name in student.mutants:
        mutant = ALL_MUTANTS[name]
        failed |= {key for key in points if key[1] in mutant.fails | mutant.also_fails}
    return sum(p for key, p in points.items() if key not in failed)


def fill_written_answers(released: Path, source: Path, target: Path) -> None:
    """Copy the model answers of the source notebook into the released one's answer cells."""
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in read_notebook(source).cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = read_notebook(released)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    write_normalised(nbformat.from_dict(nb), target)


def make_submission(student: DemoStudent, folder: Path) -> Path:
    """Write one student's submission folder (the release with their work in it)."""
    folder.mkdir(parents=True)
    for released in sorted(COURSE_DIR.glob("*.ipynb")):
        if student.blank:
            shutil.copy2(released, folder / released.name)
        else:
            fill_written_answers(released, SOURCE_NOTEBOOKS_DIR / released.name, folder / released.name)
    shutil.copytree(COURSE_DIR / "data", folder / "data")
    package = folder / "gmm_student"
    if student.blank:
        shutil.copytree(COURSE_DIR / "gmm_student", package, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        package.mkdir()
        for path in REFERENCE_PACKAGE_DIR.glob("*.py"):
            if not is_excluded(path.read_text(encoding="utf-8")):
                shutil.copy2(path, package / path.name)
    for name in student.mutants:
        ALL_MUTANTS[name].apply(folder)
    if student.disguise_seed is not None:
        disguised = disguise_package(package, folder / "gmm_student.disguised", student.disguise_seed)
        shutil.rmtree(package)
        disguised.rename(package)
    return folder


def write_demo_class(lms_dir: Path, students=DEMO_CLASS) -> Path:
    """Write an LMS-style export: ``NAME/`` folders and ``NAME.zip`` files (wrapped in a top folder)."""
    if lms_dir.exists():
        shutil.rmtree(lms_dir)
    lms_dir.mkdir(parents=True)
    scratch = lms_dir.parent / (lms_dir.name + "_scratch")
    if scratch.exists():
        shutil.rmtree(scratch)
    for student in students:
        if not student.as_zip:
            make_submission(student, lms_dir / student.name)
            continue
        folder = make_submission(student, scratch / student.name / "gmm_course")
        with zipfile.ZipFile(lms_dir / f"{student.name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder.parent.parent).as_posix())
    shutil.rmtree(scratch, ignore_errors=True)
    return lms_dir


# -- a copied submission in disguise (the demo's copied pair, the similarity tests and benchmark)


class _RenameLocals(ast.NodeTransformer):
    """Rename the names a function assigns (not its parameters, globals or nonlocals) as ``names`` says."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id in self.names:
            node.id = self.names[node.id]
        return node


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    arguments = node.args
    names = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    return names | {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}


def _local_names(function: ast.FunctionDef) -> list[str]:
    """The names ``function`` assigns, less its parameters, its globals and nonlocals, and every parameter name of
    a function or lambda nested in it (renaming those would rename the nested function's uses, not its own)."""
    functions = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    nested = {name for node in ast.walk(function) if isinstance(node, functions) for name in _parameters(node)}
    declared = {n for node in ast.walk(function) if isinstance(node, ast.Global | ast.Nonlocal) for n in node.names}
    stored = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return sorted(stored - nested - declared)


def disguise_module(code: str, rng: random.Random, rename: bool = True, reorder: bool = True) -> str:
    """``code`` (a Python module) as a student hiding a copy would write it; it computes exactly the same.

    ``rename``: every local variable of every function gets another name (parameters keep theirs: callers pass
    them by keyword); ``reorder``: the module's top-level functions are shuffled among their places. Comments and
    formatting go too (the module is written back by ``ast.unparse``); docstrings stay.
    """
    tree = ast.parse(code)
    if rename:
        taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
            n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)
        }
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            names = {}
            for name in _local_names(function):
                new = f"{rng.choice(_DISGUISES)}_{name[:2]}{rng.randrange(10, 99)}"
                while new in taken:
                    new += "x"
                taken.add(new)
                names[name] = new
            for statement in function.body:
                _RenameLocals(names).visit(statement)
    if reorder:
        places = [i for i, node in enumerate(tree.body) if isinstance(node, ast.FunctionDef)]
        functions = [tree.body[i] for i in places]
        rng.shuffle(functions)
        for place, function in zip(places, functions, strict=True):
            tree.body[place] = function
    return ast.unparse(tree) + "\n"


_DISGUISES = ("tmp", "val", "arr", "res", "acc", "buf", "out", "cur", "aux", "work")


def disguise_package(source: Path, target: Path, seed: int, rename: bool = True, reorder: bool = True) -> Path:
    """Copy the package ``source`` to ``target`` with each module disguised (:func:`disguise_module`)."""
    rng = random.Random(seed)
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.py")):
        (target / path.name).write_text(
            disguise_module(path.read_text(encoding="utf-8"), rng, rename, reorder), encoding="utf-8"
        )
    return target
