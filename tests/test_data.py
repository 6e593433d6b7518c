"""The shipped Old Faithful data: the facts its README states, identical copies, the loader."""

from __future__ import annotations

import hashlib

import numpy as np

import gmm_reference as ref

from .conftest import DATA_CSV, REPO, SOURCE_DATA_CSV


def test_loader_returns_the_documented_data(faithful):
    assert faithful.shape == (272, 2) and faithful.dtype == np.float64
    np.testing.assert_allclose(faithful.mean(axis=0), [3.4877830882, 70.8970588235], rtol=1e-10)
    np.testing.assert_array_equal(faithful[0], [3.6, 79.0])
    np.testing.assert_array_equal(faithful[-1], [4.467, 74.0])
    assert np.unique(faithful[:, 0]).size == 126  # heavily rounded durations
    assert faithful[:, 0].min() == 1.6 and faithful[:, 0].max() == 5.1
    assert faithful[:, 1].min() == 43 and faithful[:, 1].max() == 96


def test_release_and_source_copies_are_identical_and_documented():
    digest = hashlib.sha256(SOURCE_DATA_CSV.read_bytes()).hexdigest()
    assert hashlib.sha256(DATA_CSV.read_bytes()).hexdigest() == digest
    for folder in (SOURCE_DATA_CSV.parent, DATA_CSV.parent):
        readme = (folder / "README.md").read_text()
        assert "Provenance" in readme and "Rdatasets" in readme and "272" in readme


def test_default_path_looks_beside_the_package_then_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        ref.data.default_data_path()
    except FileNotFoundError as error:
        assert "old_faithful.csv" in str(error) and str(tmp_path) in str(error)
    else:
        raise AssertionError("expected FileNotFoundError: no data beside the reference or in the cwd")
    monkeypatch.chdir(REPO / "source_notebooks")
    assert ref.load_old_faithful().shape == (272, 2)
