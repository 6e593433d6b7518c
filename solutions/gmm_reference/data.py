"""Loading the Old Faithful data (given)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

COLUMNS = ("eruptions", "waiting")
FILENAME = "old_faithful.csv"


def default_data_path() -> Path:
    """``data/old_faithful.csv`` beside the package, else in the working directory."""
    candidates = [Path(__file__).resolve().parent.parent / "data" / FILENAME, Path.cwd() / "data" / FILENAME]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"cannot find {FILENAME}: looked in {', '.join(str(c) for c in candidates)}; pass path= explicitly"
    )


def load_old_faithful(path=None) -> np.ndarray:
    """Old Faithful eruptions: array of shape (272, 2), columns (eruptions, waiting), in minutes.

    ``X[:, 0]`` is the eruption duration and ``X[:, 1]`` the waiting time to the next
    eruption. Raises ValueError naming the file if it is not a two-column numeric CSV
    with the header ``eruptions,waiting``.
    """
    path = Path(path) if path is not None else default_data_path()
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().strip()
    if tuple(part.strip().strip('"') for part in header.split(",")) != COLUMNS:
        raise ValueError(f"{path}: expected the header 'eruptions,waiting'; found {header!r}")
    try:
        data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise ValueError(f"{path}: not a numeric two-column CSV ({error})") from None
    if data.shape[1] != 2 or data.shape[0] == 0:
        raise ValueError(f"{path}: expected rows of 2 numbers; got an array of shape {data.shape}")
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{path}: contains missing or non-finite values")
    return data
