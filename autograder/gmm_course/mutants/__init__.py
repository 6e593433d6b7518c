"""Known-wrong implementations ("mutants") and the grade cells each must fail.

Each notebook has a catalogue (``nb01.py`` ... ``nb05.py``) of classic mistakes,
written as an exact text replacement in one reference module (or in one cell of a
source notebook). The test suite applies each mutant to a copy of the reference,
runs the notebook, and asserts that exactly the listed grade cells lose their points;
the demo class builds its "typical mistakes" student from the same catalogue.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import nb01, nb02, nb03, nb04, nb05, nb06


@dataclass(frozen=True)
class Mutant:
    """One classic mistake.

    - name: short identifier, unique across catalogues.
    - description: the mistake in words.
    - file: a reference module ("univariate.py") or a source notebook ("04_....ipynb").
    - find / replace: exact text; ``find`` must occur exactly once in that file.
    - fails: the grade_ids of the autograded cells of its notebook that must lose their points.
    - also_fails: cells of *other* notebooks that test the same function (e.g. notebook 4's
      covariance-type cells call notebook 2's ``m_step``) and so lose their points too; the
      demo's expected scores count them, the per-notebook mutant test cannot see them.
    """

    name: str
    description: str
    file: str
    find: str
    replace: str
    fails: frozenset
    also_fails: frozenset = frozenset()

    def apply(self, submission_dir: Path) -> None:
        """Apply the mistake inside a prepared submission folder (see ``prepare_submission``)."""
        path = (
            submission_dir / self.file if self.file.endswith(".ipynb") else submission_dir / "gmm_student" / self.file
        )
        text = path.read_text(encoding="utf-8")
        if self.file.endswith(".ipynb"):
            nb = json.loads(text)
            hits = [cell for cell in nb["cells"] if self.find in "".join(cell["source"])]
            if len(hits) != 1:
                raise ValueError(f"mutant {self.name}: {self.find!r} is in {len(hits)} cells of {self.file}, not 1")
            source = "".join(hits[0]["source"]).replace(self.find, self.replace)
            hits[0]["source"] = source.splitlines(keepends=True)
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            return
        if text.count(self.find) != 1:
            raise ValueError(
                f"mutant {self.name}: {self.find!r} occurs {text.count(self.find)} times in {self.file}, not once"
            )
        path.write_text(text.replace(self.find, self.replace), encoding="utf-8")


def _load(module) -> dict[str, list[Mutant]]:
    return {
        module.NOTEBOOK: [
            Mutant(**{**spec, "fails": frozenset(spec["fails"]), "also_fails": frozenset(spec.get("also_fails", ()))})
            for spec in module.MUTANTS
        ]
    }


CATALOGUE: dict[str, list[Mutant]] = {}
for _module in (nb01, nb02, nb03, nb04, nb05, nb06):
    CATALOGUE.update(_load(_module))
ALL_MUTANTS = {m.name: m for mutants in CATALOGUE.values() for m in mutants}


def prepare_submission(target: Path, source_notebooks: Path, reference_dir: Path, notebooks=None) -> Path:
    """A complete, correct submission folder: the solved notebooks, the reference as gmm_student, data."""
    target.mkdir(parents=True, exist_ok=True)
    names = notebooks or sorted(p.name for p in source_notebooks.glob("*.ipynb"))
    for name in names:
        shutil.copy2(source_notebooks / name, target / name)
    shutil.copytree(source_notebooks / "data", target / "data", dirs_exist_ok=True)
    shutil.copytree(
        reference_dir, target / "gmm_student", dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    return target
