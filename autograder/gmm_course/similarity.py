"""Which students' code is alike: pairwise similarity of what each student wrote in ``gmm_student``.

A match is a reason to look, not a verdict: students who solve the same short functions from the same
docstrings write alike, and a pair can share code for honest reasons (a study group the course allows, a
formula from the lectures). The report ranks the pairs and shows the shared code side by side; what to make
of it is the instructor's judgement.

How a pair is scored (copydetect's winnowing fingerprints, Schleimer, Wilkerson and Aiken, SIGMOD 2003):

1. *What the student wrote.* Each ``gmm_student/*.py`` of a submission and of the release is first written
   back from Python's parse tree without docstrings (:func:`canonical`: comments, layout, quotes and brackets
   as the parser sees them, one statement a line, so reformatting changes nothing); a file identical to the
   released one is skipped. A line is kept only if no line of the released file of the same name has its
   *shape* (:func:`line_shape`: names replaced by ``V``), wherever it stands: the given code (signatures, input
   checks) is dropped whether or not it was moved or renamed. The parts of a student's files are joined into
   one document, so code moved between files or functions in another order still match.
2. *Tokens, not text.* The document is tokenised into copydetect's filtered form: every name ``V`` (a function
   defined ``F``, a class ``O``), every string ``"S"``, keywords, builtins, numbers and operators kept,
   comments and whitespace dropped (:func:`filtered`, a regular-expression tokeniser in the format of
   copydetect's ``filter_code``: several times faster than its Pygments lexer, and it never fails).
3. *Fingerprints.* copydetect's ``get_document_fingerprints``: hashes of every ``NOISE``-token run (k-grams),
   thinned by winnowing (every shared run of ``GUARANTEE`` tokens is found), with every k-gram of the released
   skeleton removed as boilerplate: code the release gives away is never evidence, wherever a student put it.
4. *Score.* For each student of a pair, the share of their fingerprinted code that the other's fingerprints
   cover (copydetect's ``compare_files`` measure, with its ``get_copied_slices`` and ``get_token_coverage``;
   a vectorised look-up replaces its loop over shared hashes). The number of fingerprints every pair shares
   comes from one sparse matrix product; a pair that cannot reach the threshold is not scored further. A pair
   is listed when the larger share is at least ``threshold`` and they share at least ``MIN_OVERLAP`` tokens (a
   student who wrote one line does not make a 100 % pair).

Known sources (by default the course's reference solution): code that no student should have. Each student's
share of code found in a source is reported on its own (a leaked solution), and the sources' k-grams are also
removed before students are compared with one another, so that two students who both match the reference are
listed once each against the reference, not as a pair. Give ``sources=()`` to compare students only.

Everything a student wrote reaches the HTML page escaped and the page is then reduced to an allow-list by
``nh3`` (as :mod:`.render` does for the feedback page), under a Content-Security-Policy that forbids all script.
"""

from __future__ import annotations

import ast
import builtins
import functools
import html
import keyword
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nh3
import numpy as np

from .paths import ASSIGNMENT_ID, REFERENCE_PACKAGE_DIR, STUDENT_PACKAGE_DIR

#: Shortest run of filtered tokens (characters of copydetect's filtered code) that counts as a match.
NOISE = 25
#: Every shared run at least this long is found (winnowing window: GUARANTEE - NOISE + 1).
GUARANTEE = 30
#: Shares at or above this are listed (the larger of the pair's two shares).
DEFAULT_THRESHOLD = 0.5
#: Filtered tokens a pair must share to be listed at all.
MIN_OVERLAP = 80
#: A pair is scored exactly only if it shares at least SCREEN * threshold of the smaller one's fingerprints.
SCREEN = 0.5
#: Pairs shown side by side in the HTML page.
DEFAULT_SHOWN = 10
MAX_FILE_CHARS = 200_000  # of one student file; beyond it the file is cut (no honest solution is that long)
MAX_FILES = 60  # gmm_student/*.py files read per student
CONTEXT_LINES = 2  # unmatched lines shown around a match in the side-by-side view

VERDICT = (
    "A match is a reason to look, not a verdict: students who solve the same short functions from the same "
    "docstrings write alike, and code can be shared for honest reasons. Read the code before you decide anything."
)

#: The page's own script: none. Only inline styles.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
HTML_TAGS = {
    "h1", "h2", "h3", "p", "strong", "em", "code", "pre", "mark",
    "table", "thead", "tbody", "tr", "th", "td", "div", "span", "section", "ul", "li",
}  # fmt: skip
ATTRIBUTES = {"*": {"class"}}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; padding: 1rem; max-width: 110rem; color: #222; }
.verdict { background: #fff8e6; border-left: 4px solid #9a6700; padding: .5rem .8rem; }
table { border-collapse: collapse; } td, th { padding: .2rem .6rem; border: 1px solid #ddd; text-align: left; }
.pair { margin: 2rem 0; } .sides { display: flex; gap: 1rem; flex-wrap: wrap; }
.side { flex: 1 1 40rem; min-width: 0; }
pre { background: #f6f8fa; padding: .6rem; font-size: .8rem; white-space: pre-wrap; overflow-wrap: anywhere; }
mark { background: #ffd8a8; } .gap { color: #888; }
"""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Written:
    """What one author wrote: the lines of each file not in the release, joined into one document.

    ``text`` holds each file's part after a ``# === gmm_student/NAME.py`` comment line (comments are not
    fingerprinted, so the headers never match each other).
    """

    name: str
    text: str


@dataclass(frozen=True)
class Match:
    """Two students whose written code is alike: the share of each one's code the other's covers."""

    first: str
    second: str
    share_first: float  # of first's fingerprinted code, the part also in second's
    share_second: float
    overlap: int  # filtered tokens shared (counted in first's code)
    slices_first: np.ndarray = field(repr=False, compare=False)  # (2, M) start and end offsets into first's text
    slices_second: np.ndarray = field(repr=False, compare=False)

    @property
    def score(self) -> float:
        return max(self.share_first, self.share_second)


@dataclass
class SimilarityReport:
    """Every pair listed (best first), each student's share of code found in a known source, and the inputs."""

    matches: list[Match]
    source_matches: list[Match]  # first: the student, second: the source's name
    documents: dict[str, Written]
    threshold: float
    compared: int  # students compared
    empty: list[str]  # students with no code of their own (a blank submission: nothing to compare)


def _drop_docstrings(tree: ast.Module) -> ast.Module:
    """``tree`` without the docstrings of the module and of its classes and functions (nested ones too)."""
    stack: list = [tree]
    while stack:
        node = stack.pop()
        body = node.body
        first = body[0] if body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass()]
        stack += [n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    return tree


def canonical(code: str) -> str:
    """``code`` as Python's parser reads it, written back (``ast.unparse``) without its docstrings.

    Comments, layout, quotes, brackets and trailing commas no longer differ, and every statement is on one line
    of its own (so that a line never cuts a string or a bracket in two). Docstrings are the release's text, not
    the student's. Code that does not parse is kept as it is.
    """
    try:
        return ast.unparse(_drop_docstrings(ast.parse(code)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return code


_STRING = re.compile(r"""[rRbBuUfF]{0,2}('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""")
_NAME = re.compile(r"[^\W\d]\w*")


def line_shape(line: str) -> str:
    """A canonical line with every name ``V`` (keywords kept), every string ``S`` and no spaces.

    Two lines of the same shape differ in names only: the shape of a given line, renamed, is still the given one.
    """
    line = _STRING.sub("S", line)
    return "".join(_NAME.sub(lambda m: m.group() if keyword.iskeyword(m.group()) else "V", line).split())


def written_part(code: str, given: str | None) -> str:
    """The lines of ``code`` whose shape is not the shape of a line of ``given`` (the released file), in order.

    Both are canonical (:func:`canonical`: one statement a line). A line is given when a line of the released
    file has its shape (:func:`line_shape`): wherever it stands (functions reordered) and whatever its names
    (variables renamed). The student's lines that are left are kept in their order, a non-contiguous part
    separated by an empty line. Without a released file (a module the student added) every line is theirs.
    """
    if given is None:
        return code
    return _written_lines(code, frozenset(line_shape(line) for line in given.splitlines()))


def _written_lines(code: str, shapes: frozenset[str]) -> str:
    """The lines of canonical ``code`` whose shape is not in ``shapes``, runs of them separated by an empty line."""
    lines = code.splitlines()
    parts, current = [], []
    for line in lines:
        if line.strip() and line_shape(line) not in shapes:
            current.append(line)
        elif current:
            parts.append("\n".join(current))
            current = []
    if current:
        parts.append("\n".join(current))
    return "\n\n".join(parts)


def _read(path: Path) -> str:
    return path.read_bytes()[:MAX_FILE_CHARS].decode("utf-8", errors="replace")


@functools.lru_cache(maxsize=8)
def _given(skeleton: Path) -> dict[str, tuple[str, str, frozenset[str]]]:
    """The released files of ``skeleton`` by name: (as released, canonical, its line shapes) (read once)."""
    given = {}
    for path in sorted(skeleton.glob("*.py")):
        text = _read(path)
        code = canonical(text)
        given[path.name] = (text, code, frozenset(line_shape(line) for line in code.splitlines()))
    return given


def read_written(name: str, package: Path, skeleton: Path) -> Written:
    """What ``name`` wrote in the package folder ``package`` (``gmm_student``), given the released ``skeleton``.

    A file identical to the released one holds nothing of the student's and is not read further.
    """
    given = _given(skeleton.resolve())
    parts = []
    files = sorted(p for p in package.glob("*.py") if p.is_file() and not p.is_symlink())[:MAX_FILES]
    for path in files:
        text = _read(path)
        released = given.get(path.name)
        if released is not None and text == released[0]:
            continue
        code = canonical(text)
        part = _written_lines(code, released[2]) if released else code
        if part.strip():
            parts.append(f"# === gmm_student/{path.name}\n{part}\n")
    return Written(name, "\n".join(parts))


_STRINGS = "|".join(
    [
        r"'''[\s\S]*?'''",  # triple-quoted (docstrings are gone, other long strings stay)
        r'"""[\s\S]*?"""',
        r"'(?:[^'\\\n]|\\.)*'",
        r'"(?:[^"\\\n]|\\.)*"',
    ]
)
_TOKEN = re.compile(
    rf"(?P<string>[rRbBuUfF]{{0,2}}(?:{_STRINGS}))"
    r"|(?P<number>\.?\d[\w.]*)"
    r"|(?P<name>[^\W\d]\w*)"
    r"|(?P<skip>\s+|\#[^\n]*)"
    r"|(?P<other>.)",
    re.DOTALL,
)
_KEPT_NAMES = frozenset(keyword.kwlist) | frozenset(dir(builtins))


@dataclass
class Tokens:
    """A document in copydetect's filtered form: every name ``V`` (a function defined ``F``, a class ``O``),
    every string ``"S"``, keywords, builtins, numbers and operators as they are, no whitespace or comment.

    ``starts[i]``/``ends[i]``: where the token that gave filtered character ``i`` starts and ends in the text.
    """

    code: str
    starts: np.ndarray
    ends: np.ndarray


def filtered(text: str) -> Tokens:
    """``text`` tokenised and filtered as copydetect's ``filter_code`` does (see :class:`Tokens`).

    A regular-expression tokeniser in copydetect's format: several times faster than the Pygments lexer
    copydetect calls, and it never fails (code that does not parse is tokenised all the same).
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    previous = ""
    for token in _TOKEN.finditer(text):
        kind, value = token.lastgroup, token.group()
        if kind == "skip":
            continue
        if kind == "string":
            piece = '"S"'
        elif kind == "name":
            kept = value in _KEPT_NAMES and previous != "."  # an attribute is a name, whatever it is called
            piece = value if kept else {"def": "F", "class": "O"}.get(previous, "V")
        else:
            piece = value
        out.append(piece)
        starts += [token.start()] * len(piece)
        ends += [token.end()] * len(piece)
        previous = value
    return Tokens("".join(out), np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64))


@dataclass
class Fingerprint:
    """copydetect's winnowed fingerprints of one document (``get_document_fingerprints``), the boilerplate removed.

    ``values``/``positions``: every fingerprint as (hash, position in the filtered code), two aligned arrays;
    ``unique``: the distinct hashes, sorted; ``token_coverage``: copydetect's count of filtered characters the
    fingerprints cover.
    """

    tokens: Tokens
    values: np.ndarray
    positions: np.ndarray
    token_coverage: float
    unique: np.ndarray


def fingerprint(tokens: Tokens, boilerplate: np.ndarray, window: int | None = None) -> Fingerprint:
    """The winnowed fingerprints of ``tokens``, every hash in ``boilerplate`` removed (copydetect's own)."""
    from copydetect.utils import get_document_fingerprints, get_token_coverage

    window = GUARANTEE - NOISE + 1 if window is None else window
    _, index = get_document_fingerprints(tokens.code, NOISE, window, boilerplate)
    values = np.array([h for h, where in index.items() for _ in where], dtype=np.int64)
    positions = np.array([i for where in index.values() for i in where], dtype=np.int64)
    coverage = float(get_token_coverage(index, NOISE, len(tokens.code)))
    return Fingerprint(tokens, values, positions, coverage, np.unique(values))


def boilerplate_hashes(documents: Iterable[str]) -> np.ndarray:
    """Every k-gram hash of the filtered ``documents`` (copydetect's boilerplate: never counted as a match)."""
    empty = np.array([], dtype=np.int64)
    found = [fingerprint(filtered(text), empty, window=1).values for text in documents]
    return np.unique(np.concatenate([empty, *found]))


def _shared_slices(first: Fingerprint, second: Fingerprint) -> np.ndarray:
    """(2, M) starts and ends, in ``first``'s filtered code, of the runs its shared fingerprints cover
    (copydetect's ``get_copied_slices`` of the fingerprints in common)."""
    from copydetect.utils import get_copied_slices

    if not len(second.unique) or not len(first.values):
        return np.zeros((2, 0), dtype=np.int64)
    where = np.minimum(np.searchsorted(second.unique, first.values), len(second.unique) - 1)
    shared = first.positions[second.unique[where] == first.values]
    return get_copied_slices(shared, NOISE) if len(shared) else np.zeros((2, 0), dtype=np.int64)


def _in_text(tokens: Tokens, slices: np.ndarray) -> np.ndarray:
    """Filtered-code slices as (2, M) starts and ends in the document's text."""
    if not slices.shape[1]:
        return slices
    return np.array([tokens.starts[slices[0]], tokens.ends[slices[1] - 1]])


def _match(first: Fingerprint, second: Fingerprint, names: tuple[str, str]) -> Match:
    """The pair scored as copydetect's ``compare_files`` does (share of each one's fingerprinted code the other's
    fingerprints cover), with the shared code's place in each text; a vectorised look-up replaces its loop."""
    slices_first, slices_second = _shared_slices(first, second), _shared_slices(second, first)
    covered_first = int(np.sum(slices_first[1] - slices_first[0]))
    covered_second = int(np.sum(slices_second[1] - slices_second[0]))
    return Match(
        names[0],
        names[1],
        covered_first / first.token_coverage if first.token_coverage else 0.0,
        covered_second / second.token_coverage if second.token_coverage else 0.0,
        covered_first,
        _in_text(first.tokens, slices_first),
        _in_text(second.tokens, slices_second),
    )


def _shared_counts(prints: list[Fingerprint]) -> np.ndarray:
    """(D, D) number of distinct fingerprints each pair of documents shares (a sparse matrix product)."""
    from scipy import sparse

    if not prints:
        return np.zeros((0, 0), dtype=np.int64)
    values = np.concatenate([p.unique for p in prints])
    rows = np.repeat(np.arange(len(prints)), [len(p.unique) for p in prints])
    _, columns = np.unique(values, return_inverse=True)
    incidence = sparse.csr_matrix(
        (np.ones(len(values), dtype=np.int64), (rows, columns)), shape=(len(prints), int(columns.max(initial=-1)) + 1)
    )
    return (incidence @ incidence.T).toarray()


def _tokens_of(task: tuple[str, Path, Path]) -> tuple[Written, Tokens]:
    """Read one student's package and tokenise what they wrote (runs in a worker process)."""
    name, package, skeleton = task
    document = read_written(name, package, skeleton)
    return document, filtered(document.text)


def _in_processes(function, tasks: list, jobs: int) -> list:
    """``function`` over ``tasks`` in ``jobs`` processes (here if 1). Only reading and tokenising run there: the
    hashing stays in this process, whose string hashes every fingerprint must share."""
    if jobs <= 1 or len(tasks) < 8:
        return [function(task) for task in tasks]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(function, tasks, chunksize=max(1, len(tasks) // (4 * jobs))))


def _document_tokens(document: Written) -> tuple[Written, Tokens]:
    return document, filtered(document.text)


def compare_written(
    documents: Sequence[Written],
    skeleton: Path,
    sources: Sequence[Written] = (),
    threshold: float = DEFAULT_THRESHOLD,
    min_overlap: int = MIN_OVERLAP,
    jobs: int = 1,
) -> SimilarityReport:
    """Compare every pair of ``documents`` (and each with each of ``sources``); see the module docstring.

    Inputs:
    - documents: what each student wrote (:func:`read_written`).
    - skeleton: the released ``gmm_student`` folder, whose every k-gram is boilerplate.
    - sources: known sources (e.g. the reference's written part): reported per student, and removed before
      students are compared with each other.
    - jobs: processes that tokenise the documents.
    Returns the pairs whose larger share is at least ``threshold`` with ``min_overlap`` tokens shared, best first.
    """
    return _compare_tokens(
        _in_processes(_document_tokens, list(documents), jobs), skeleton, sources, threshold, min_overlap
    )


def _compare_tokens(
    tokens: list[tuple[Written, Tokens]],
    skeleton: Path,
    sources: Sequence[Written],
    threshold: float,
    min_overlap: int,
) -> SimilarityReport:
    given = boilerplate_hashes(code for _, code, _ in _given(skeleton.resolve()).values())
    with_sources = np.union1d(given, boilerplate_hashes(s.text for s in sources)) if sources else given
    prints = {d.name: fingerprint(t, with_sources) for d, t in tokens if d.text.strip()}
    empty = sorted(d.name for d, _ in tokens if d.name not in prints or not len(prints[d.name].values))
    # Only pairs that share enough fingerprints can match: counted for all pairs at once, the rest never compared.
    names = sorted(prints)
    counts = _shared_counts([prints[n] for n in names])
    sizes = np.array([len(prints[n].unique) for n in names])
    matches = []
    for i, j in zip(*np.nonzero(np.triu(counts, 1)), strict=True):
        # A shared fingerprint covers at most NOISE tokens; the share of fingerprints is close to copydetect's share
        # of tokens, so a pair far below the threshold in both is not compared further.
        if counts[i, j] * NOISE < min_overlap or counts[i, j] < SCREEN * threshold * min(sizes[i], sizes[j]):
            continue
        match = _match(prints[names[i]], prints[names[j]], (names[i], names[j]))
        if match.score >= threshold and match.overlap >= min_overlap:
            matches.append(match)
    matches.sort(key=lambda m: (-m.score, -m.overlap, m.first, m.second))
    source_matches = []
    for source in sources:
        reference = fingerprint(filtered(source.text), given)
        for document, own_tokens in tokens:
            if not document.text.strip():
                continue
            own = fingerprint(own_tokens, given)
            match = _match(own, reference, (document.name, source.name))
            if match.share_first >= threshold and match.overlap >= min_overlap:
                source_matches.append(match)
    source_matches.sort(key=lambda m: (-m.share_first, m.first, m.second))
    documents_by_name = {d.name: d for d, _ in tokens} | {s.name: s for s in sources}
    return SimilarityReport(matches, source_matches, documents_by_name, threshold, len(tokens), empty)


def released_skeleton(root: Path) -> Path:
    """The skeleton handed out: the course folder's release copy if there is one, else ``course/gmm_student``."""
    release = root / "release" / ASSIGNMENT_ID / "gmm_student"
    return release if release.is_dir() else STUDENT_PACKAGE_DIR


def reference_source(skeleton: Path, package: Path = REFERENCE_PACKAGE_DIR) -> Written:
    """The reference solution's written part (what a student would write), as a known source."""
    return read_written("reference solution", package, skeleton)


def students_of(root: Path) -> list[str]:
    """The students of the course folder ``root`` (its ``submitted/`` folders)."""
    submitted = root / "submitted"
    return sorted(p.name for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []


def similarity_of_class(
    root: Path,
    sources: Sequence[Path] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    min_overlap: int = MIN_OVERLAP,
    jobs: int = 1,
) -> SimilarityReport:
    """Compare what the students of the course folder ``root`` wrote (``submitted/<student>/gmm_em/gmm_student``).

    ``sources``: packages of known sources (default: the reference solution; ``[]`` for none); ``jobs``:
    processes that read and tokenise the submissions.
    """
    skeleton = released_skeleton(root)
    if sources is None:
        known = [reference_source(skeleton)]
    else:
        known = [read_written(str(path), path, skeleton) for path in sources]
    tasks = [(s, root / "submitted" / s / ASSIGNMENT_ID / "gmm_student", skeleton) for s in students_of(root)]
    return _compare_tokens(_in_processes(_tokens_of, tasks, jobs), skeleton, known, threshold, min_overlap)


# -- the report: text for the terminal, HTML with the shared code side by side


def report_lines(report: SimilarityReport, shown: int | None = None) -> list[str]:
    """The terminal summary: what was compared, the pairs listed, the students who match a known source."""
    from .plain_text import printable

    lines = [
        f"similarity: {report.compared} students compared; {len(report.matches)} pair(s) share at least "
        f"{report.threshold:.0%} of one student's own code",
        "NOTE " + VERDICT,
    ]
    if report.empty:
        lines.append(f"no code of their own (blank or unchanged release): {printable(', '.join(report.empty))}")
    for rank, match in enumerate(report.matches[:shown], start=1):
        lines.append(
            f"{rank:>3}. {printable(match.first)} ~ {printable(match.second)}: {match.share_first:.0%} of "
            f"{printable(match.first)}'s code and {match.share_second:.0%} of {printable(match.second)}'s in common "
            f"({match.overlap} tokens)"
        )
    if shown is not None and len(report.matches) > shown:
        lines.append(f"     ... and {len(report.matches) - shown} more pair(s) in the HTML page")
    for match in report.source_matches:
        lines.append(
            f"known source: {match.share_first:.0%} of {printable(match.first)}'s code is in the "
            f"{printable(match.second)}"
        )
    return lines


def _marked(text: str, slices: np.ndarray) -> str:
    """``text`` as escaped HTML, the ``slices`` (2, M) marked, unmatched stretches cut to ``CONTEXT_LINES``."""
    spans = sorted((int(a), int(b)) for a, b in np.asarray(slices, dtype=np.int64).T) if np.size(slices) else []
    marks = np.zeros(len(text) + 1, dtype=bool)
    for start, end in spans:
        marks[max(start, 0) : max(min(end, len(text)), 0)] = True
    lines, position = [], 0
    for line in text.split("\n"):
        lines.append((position, line))
        position += len(line) + 1
    hit = [bool(marks[start : start + len(line)].any()) for start, line in lines]
    keep = [any(hit[max(0, i - CONTEXT_LINES) : i + CONTEXT_LINES + 1]) for i in range(len(lines))]
    out, skipped = [], 0
    for (start, line), shown in zip(lines, keep, strict=True):
        if not shown:
            skipped += 1
            continue
        if skipped:
            out.append(f"<span class='gap'>... {skipped} line(s) without a match ...</span>")
            skipped = 0
        pieces, current, inside = [], 0, False
        for offset in range(len(line) + 1):
            flag = offset < len(line) and bool(marks[start + offset])
            if offset == len(line) or flag != inside:
                piece = html.escape(line[current:offset])
                pieces.append(f"<mark>{piece}</mark>" if inside and piece else piece)
                current, inside = offset, flag
        out.append("".join(pieces))
    if skipped:
        out.append(f"<span class='gap'>... {skipped} line(s) without a match ...</span>")
    return "\n".join(out)


def render_report(report: SimilarityReport, shown: int = DEFAULT_SHOWN) -> str:
    """The HTML page: the ranked pairs, the known-source matches, and the top ``shown`` pairs side by side."""
    esc = html.escape
    rows = "".join(
        f"<tr><td>{rank}</td><td>{esc(m.first)}</td><td>{esc(m.second)}</td><td>{m.share_first:.0%}</td>"
        f"<td>{m.share_second:.0%}</td><td>{m.overlap}</td></tr>"
        for rank, m in enumerate(report.matches, start=1)
    )
    parts = [
        f"<h1>Code similarity: {report.compared} students</h1>",
        f"<p class='verdict'><strong>{esc(VERDICT)}</strong></p>",
        "<p>Compared: what each student wrote in <code>gmm_student/*.py</code> (the released skeleton's given code "
        "removed), with names, strings, comments and layout ignored; a share is the part of one student's own code "
        f"that the other's also has. Listed: pairs with a share of at least {report.threshold:.0%}.</p>",
    ]
    if report.matches:
        parts.append(
            "<table><thead><tr><th>#</th><th>student A</th><th>student B</th><th>of A's code</th>"
            f"<th>of B's code</th><th>tokens shared</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        parts.append("<p>No pair reaches the threshold.</p>")
    if report.source_matches:
        items = "".join(
            f"<li>{m.share_first:.0%} of {esc(m.first)}'s code is in the {esc(m.second)}</li>"
            for m in report.source_matches
        )
        parts.append(f"<h2>Code found in a known source</h2><ul>{items}</ul>")
    if report.empty:
        parts.append(f"<p>No code of their own (blank or unchanged release): {esc(', '.join(report.empty))}.</p>")
    for rank, match in enumerate(report.matches[:shown], start=1):
        first, second = report.documents[match.first], report.documents[match.second]
        parts.append(
            f"<section class='pair'><h2>{rank}. {esc(match.first)} and {esc(match.second)}</h2>"
            f"<p>{match.share_first:.0%} of {esc(match.first)}'s code and {match.share_second:.0%} of "
            f"{esc(match.second)}'s in common; the shared code is marked. {esc(VERDICT.split(':')[0])}.</p>"
            "<div class='sides'>"
            f"<div class='side'><h3>{esc(match.first)}</h3><pre>{_marked(first.text, match.slices_first)}</pre></div>"
            f"<div class='side'><h3>{esc(match.second)}</h3><pre>{_marked(second.text, match.slices_second)}</pre>"
            "</div></div></section>"
        )
    body = nh3.clean(
        "\n".join(parts), tags=HTML_TAGS, attributes=ATTRIBUTES, url_schemes=set(), link_rel=None, strip_comments=True
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CONTENT_SECURITY_POLICY}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Code similarity</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def write_report_html(report: SimilarityReport, path: Path, shown: int = DEFAULT_SHOWN) -> Path:
    """Write :func:`render_report` to ``path``; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(report, shown), encoding="utf-8")
    return path
