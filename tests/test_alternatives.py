"""Valid alternative implementations keep full marks (the grader penalises mistakes, not style)."""

from __future__ import annotations

import pytest

from gmm_course.alternatives import ALL_ALTERNATIVES, CATALOGUE
from gmm_course.mutants import ALL_MUTANTS
from gmm_course.validation import grade_source_notebook

ALTERNATIVES = [(notebook, alt) for notebook, entries in CATALOGUE.items() for alt in entries]


def test_the_catalogue_of_valid_alternatives_is_broad():
    assert len(ALL_ALTERNATIVES) >= 12, f"only {len(ALL_ALTERNATIVES)} valid alternatives"
    assert len(CATALOGUE) >= 4, f"alternatives for only {sorted(CATALOGUE)}"
    assert not set(ALL_ALTERNATIVES) & set(ALL_MUTANTS), "an alternative shares a name with a mutant"
    for alt in ALL_ALTERNATIVES.values():
        assert alt.find != alt.replace and alt.description, alt.name


@pytest.mark.slow
@pytest.mark.parametrize("notebook, alternative", ALTERNATIVES, ids=[a.name for _, a in ALTERNATIVES])
def test_each_valid_alternative_keeps_full_marks(notebook, alternative):
    grades = grade_source_notebook(notebook, alternative.name, timeout=60, graded_only=True)
    assert grades.results, f"{notebook}: no autograded cell ran"
    assert not grades.failed, f"{alternative.description}: lost points in {sorted(grades.failed)}: " + "; ".join(
        f"{r.grade_id}: {(r.error or '')[-300:]}" for r in grades.results if not r.passed
    )
