"""Store notebooks so that diffs are reviewable: no volatile metadata, stable JSON."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

VOLATILE_CELL_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled", "jupyter", "tags_")
KEPT_NOTEBOOK_KEYS = ("kernelspec", "language_info", "nbgrader")


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stream outputs of the same stream: the kernel splits prints at random."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = previous["text"] + output["text"]
        else:
            merged.append(output)
    return merged


#: A progress bar's timing, e.g. "[00:02<00:00, 15.30it/s]": different on every run.
PROGRESS_TIMING = re.compile(r"\s*\[\d+:\d\d(?::\d\d)?<[^\]\n]*\]")


def settle_carriage_returns(text: str) -> str:
    """What a terminal shows of ``text``: on each line, only what follows its last carriage return.

    A carriage return that ends a line ("\r\n") is kept. Linear in the length of the text
    (it also runs on whatever a student's code printed), unlike a backtracking regular expression.
    """
    if "\r" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        crlf = line.endswith("\r")
        shown = (line[:-1] if crlf else line).rsplit("\r", 1)[-1]
        lines.append(shown + "\r" if crlf else shown)
    return "\n".join(lines)


def settle_progress(text: str) -> str:
    """The final state of progress bars in one of our notebooks' streams: overwritten segments and timings removed."""
    return PROGRESS_TIMING.sub("", settle_carriage_returns(text))


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip per-run metadata in place; keep outputs (the source notebooks store them)."""
    nb.metadata = nbformat.NotebookNode({k: v for k, v in nb.metadata.items() if k in KEPT_NOTEBOOK_KEYS})
    if "language_info" in nb.metadata:
        nb.metadata.language_info = nbformat.NotebookNode(
            {"name": "python", "pygments_lexer": "ipython3", "file_extension": ".py"}
        )
    nb.metadata.kernelspec = nbformat.NotebookNode(
        {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    )
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        # Keep ids stable across edits; name cells after their grade_id where they have one.
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        wanted = grade_id or cell.get("id") or f"cell-{index:03d}"
        if wanted in seen:
            wanted = f"cell-{index:03d}"
        seen.add(wanted)
        cell["id"] = wanted
        if "outputs" in cell:
            cell.outputs = coalesce_streams(cell.outputs)
            for output in cell.outputs:
                if output.get("output_type") == "stream":
                    output["text"] = settle_progress(output["text"])
        for output in cell.get("outputs", []):
            if "metadata" in output:
                output.metadata.pop("execution", None)
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def write_normalised(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write ``nb`` normalised, with a trailing newline and stable key order."""
    nbformat.write(normalise(nb), str(path))
