"""Valid alternative implementations, each of which must keep full marks.

The mirror image of ``gmm_course.mutants``: each notebook has a catalogue
(``nb01.py`` ... ``nb06.py``, a list ``ALTERNATIVES`` of dicts) of correct answers written
differently from the reference: loops instead of vectorised code, ``scipy.stats``,
``einsum``, another order of summation, other random draws where the release leaves
them free. Each entry is an exact text replacement in one reference module, in the
same format as a mutant (``name``, ``description``, ``file``, ``find``, ``replace``) and
no ``fails``: the test suite applies it to a copy of the reference, runs the notebook
with its hidden tests and asserts that no autograded cell loses a point.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..mutants import Mutant

NOTEBOOK_MODULES = sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name.startswith("nb"))


def _load(module_name: str) -> tuple[str, list[Mutant]]:
    module = importlib.import_module(f"{__name__}.{module_name}")
    entries = [Mutant(**{**spec, "fails": frozenset()}) for spec in module.ALTERNATIVES]
    return module.NOTEBOOK, entries


#: notebook file name -> its valid alternatives (Mutant objects with empty ``fails``).
CATALOGUE: dict[str, list[Mutant]] = dict(_load(name) for name in NOTEBOOK_MODULES)
ALL_ALTERNATIVES: dict[str, Mutant] = {a.name: a for entries in CATALOGUE.values() for a in entries}
