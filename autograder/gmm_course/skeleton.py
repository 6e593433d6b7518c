"""Generate the student skeleton package from the reference implementation.

The reference (``solutions/gmm_reference``) marks the code students write with the
same delimiters nbgrader uses in notebooks::

    def normal_pdf(x, means, variances):
        \"\"\"docstring with shapes\"\"\"
        validation lines (kept)
        ### BEGIN SOLUTION
        the answer (removed)
        ### END SOLUTION

An indented solution block becomes ``raise NotImplementedError(...)``. A solution
block at module level (private helpers of the answer) is dropped. A solution block
directly followed by a ``### BEGIN SKELETON`` block is replaced by that block's
commented-out lines, uncommented: simple given code for the skeleton where the
reference has a faster version that would give answers away. A module whose first
lines hold ``# gmm-skeleton: exclude`` (hidden-test helpers) is not shipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_SKELETON = "### BEGIN SKELETON"
END_SKELETON = "### END SKELETON"
EXCLUDE_MARK = "# gmm-skeleton: exclude"
STUDENT_PACKAGE = "gmm_student"

_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


class SkeletonError(ValueError):
    """A reference file whose markers cannot be turned into a skeleton."""


@dataclass(frozen=True)
class SolutionBlock:
    """Lines (1-based, inclusive, without the markers) of one solution block."""

    path: Path
    first: int
    last: int
    lines: tuple[str, ...]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _enclosing_function(lines: list[str], index: int) -> str | None:
    for line in reversed(lines[:index]):
        match = _DEF.match(line)
        if match:
            return match.group(1)
    return None


def _uncomment(line: str, indent: str, path: Path, number: int) -> str:
    body = line[len(indent) :] if line.startswith(indent) else line.lstrip()
    if body.strip() == "":
        return ""
    if not body.startswith("#"):
        raise SkeletonError(f"{path}:{number}: lines inside a SKELETON block must be comments")
    body = body[1:]
    return indent + (body[1:] if body.startswith(" ") else body)


def _find_end(lines: list[str], start: int, marker: str, path: Path) -> int:
    for j in range(start + 1, len(lines)):
        stripped = lines[j].strip()
        if stripped == marker:
            return j
        if stripped in (BEGIN_SOLUTION, BEGIN_SKELETON):
            break
    raise SkeletonError(f"{path}:{start + 1}: '{lines[start].strip()}' has no matching '{marker}'")


def strip_solutions(source: str, path: Path = Path("<string>")) -> str:
    """Return the skeleton version of one reference module's source text."""
    lines = source.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped == BEGIN_SOLUTION:
            end = _find_end(lines, i, END_SOLUTION, path)
            indent = _indent(line)
            follows = end + 1 < len(lines) and lines[end + 1].strip() == BEGIN_SKELETON
            if follows:
                i = end + 1  # the SKELETON block below supplies the replacement
                continue
            if indent:
                function = _enclosing_function(lines, i) or "this function"
                out.append(f"{indent}# YOUR CODE HERE")
                out.append(f'{indent}raise NotImplementedError("{function}: write your solution here")')
            i = end + 1
            continue
        if stripped == BEGIN_SKELETON:
            end = _find_end(lines, i, END_SKELETON, path)
            indent = _indent(line)
            out.extend(_uncomment(lines[j], indent, path, j + 1) for j in range(i + 1, end))
            i = end + 1
            continue
        if stripped in (END_SOLUTION, END_SKELETON):
            raise SkeletonError(f"{path}:{i + 1}: '{stripped}' without a matching BEGIN")
        out.append(line)
        i += 1
    text = "\n".join(out) + "\n"
    # Dropping a module-level block can leave a run of blank lines behind.
    return re.sub(r"\n{4,}", "\n\n\n", text)


def solution_blocks(source: str, path: Path = Path("<string>")) -> list[SolutionBlock]:
    """Every solution block of a reference module (used to check for leaks)."""
    lines = source.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() == BEGIN_SOLUTION:
            end = _find_end(lines, i, END_SOLUTION, path)
            blocks.append(SolutionBlock(path, i + 2, end, tuple(lines[i + 1 : end])))
    return blocks


def is_excluded(source: str) -> bool:
    return any(line.strip() == EXCLUDE_MARK for line in source.splitlines()[:5])


def render_skeleton(reference_dir: Path) -> dict[str, str]:
    """Map each relative path of the skeleton package to its text."""
    files = {}
    for path in sorted(reference_dir.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if is_excluded(source):
            continue
        files[path.relative_to(reference_dir).as_posix()] = strip_solutions(source, path)
    return files


def write_skeleton(reference_dir: Path, target_dir: Path) -> list[Path]:
    """(Re)write ``target_dir`` as the skeleton of ``reference_dir``; return the files written."""
    files = render_skeleton(reference_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    for stale in target_dir.rglob("*.py"):
        if stale.relative_to(target_dir).as_posix() not in files:
            stale.unlink()
    written = []
    for relative, text in files.items():
        destination = target_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
        written.append(destination)
    return written
