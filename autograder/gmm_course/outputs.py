"""Make a graded notebook inert and bounded before it is written to ``autograded/``.

The autograded notebooks are what the instructor opens in Formgrader, which renders
them with nbconvert inside the instructor's logged-in Jupyter session: a script in
them could do anything the instructor can. Two kinds of content in them come from the
student: the kernel stage's outputs (whatever the student's code displayed) and the
written answers (markdown source). This module is the last step before the notebook
is written, so what it lets through is what reaches any browser.

Outputs are kept by an allow-list, everything else is dropped with a visible note in
its place:

- ``stream`` text (``stdout``/``stderr``) and ``text/plain``, cut at ``MAX_TEXT_CHARS``;
- ``error`` outputs: name, value and the last ``MAX_TRACEBACK_FRAMES`` traceback entries,
  with ANSI escape sequences removed, each cut;
- ``image/png`` and ``image/jpeg``, only after validation (:func:`clean_image`): the
  base64 must decode, the bytes must start with the format's magic number, carry a
  readable size in their header and stay under ``MAX_IMAGE_BYTES`` and
  ``MAX_IMAGE_PIXELS``; the data is re-encoded, so what is written is plain base64;
- nothing else: ``text/html``, ``application/javascript``, ``image/svg+xml`` (it can
  carry script and cannot be rasterised here), ``text/markdown``, ``text/latex``,
  widget views and every other type are dropped, and so is output metadata (nbconvert
  writes it into ``<img>`` attributes) except integer ``width``/``height``.

All kept outputs of one notebook together stay under ``MAX_NOTEBOOK_OUTPUT_BYTES``;
an output that would cross it is dropped with a note.

Written answers (markdown cells that are nbgrader solution cells) are made inert as
text: Formgrader renders them with nbconvert's ``markdown2html``, which passes raw HTML
and ``javascript:`` links through. A space goes after every ``<`` that could open a tag,
a comment or an autolink (``<b>`` becomes ``< b>``), and between ``]`` and a following
``(`` or ``:`` (so no inline link, image or link definition exists); fenced blocks
marked ``mermaid`` (rendered unescaped by nbconvert) become plain text blocks. The
text reads the same, maths included (TeX ignores the spaces). Attachments of answer
cells are dropped, and an answer is cut at ``MAX_ANSWER_CHARS``.

:func:`make_outputs_inert` returns one human-readable note per thing cut or dropped,
for the instructor's report.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections import Counter

import nbformat

MAX_TEXT_CHARS = 20_000
MAX_ANSWER_CHARS = 100_000  # a written answer (a long one is a few thousand)
MAX_TRACEBACK_FRAMES = 3
MAX_ERROR_CHARS = 2_000  # ename, evalue and each traceback entry
MAX_IMAGE_BYTES = 2_000_000  # decoded
MAX_IMAGE_PIXELS = 25_000_000
MAX_NOTEBOOK_OUTPUT_BYTES = 10_000_000  # all kept outputs of one notebook, as stored (notes excepted)
MAX_OUTPUTS_PER_CELL = 30  # the kernel stage cuts with the same cap (kernel_stage._cut_outputs)
MAX_NOTES = 30
MAX_DISPLAY_SIDE = 10_000  # largest width/height metadata kept

TEXT_TYPES = ("text/plain",)
IMAGE_TYPES = ("image/png", "image/jpeg")
STREAM_NAMES = ("stdout", "stderr")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and other two-byte ESC sequences; then lone C0/C1 controls
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# What could open markup in an HTML or CommonMark parser: "<" then a letter, "/", "!" or "?" (a tag, an end tag, a
# comment or declaration, a processing instruction, an autolink); "]" directly followed by "(" or ":" (an inline
# link or image, a link reference definition); a fenced block whose info string starts with "mermaid".
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_LINK = re.compile(r"\](?=[(:])")
_MERMAID_FENCE = re.compile(r"^([ \t]{0,3}(?:`{3,}|~{3,})[ \t]*)(?=mermaid)", re.MULTILINE | re.IGNORECASE)
_LOOKS_LIKE_MARKUP = re.compile(r"<[!?/]?[A-Za-z][^<>]*>|<!--|\]\(|\]:", re.IGNORECASE)


class InvalidImage(ValueError):
    """An image output that is not what it claims to be (the message says why, for the report)."""


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def strip_control(text: str) -> str:
    """``text`` without ANSI escape sequences and other control characters (newlines and tabs stay)."""
    return _CONTROL.sub("", _ANSI.sub("", text))


def _image_size(mime: str, raw: bytes) -> tuple[int, int]:
    """(width, height) from the image header; ``InvalidImage`` if the bytes are not that format."""
    if mime == "image/png":
        # The signature, then the IHDR chunk: length 13, type, width, height (big-endian).
        if not raw.startswith(PNG_MAGIC):
            raise InvalidImage("not PNG data (wrong magic bytes)")
        if len(raw) < 33 or raw[12:16] != b"IHDR":
            raise InvalidImage("a PNG without a valid header")
        return struct.unpack(">II", raw[16:24])
    if not raw.startswith(JPEG_MAGIC):
        raise InvalidImage("not JPEG data (wrong magic bytes)")
    # Walk the segments to the first start-of-frame marker (SOF0..SOF15 except DHT, JPG and DAC).
    at = 2
    while at + 4 <= len(raw):
        if raw[at] != 0xFF:
            break
        marker = raw[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        length = struct.unpack(">H", raw[at + 2 : at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if at + 9 > len(raw):
                break
            height, width = struct.unpack(">HH", raw[at + 5 : at + 9])
            return width, height
        if length < 2:
            break
        at += 2 + length
    raise InvalidImage("a JPEG without a readable frame header")


def clean_image(mime: str, data: object) -> str:
    """Validate an image output and return its data as clean base64 (no whitespace), ready for a data: URI.

    ``data`` is what a notebook stores for ``image/png`` or ``image/jpeg``: base64 text,
    possibly with newlines. Raises :class:`InvalidImage` if it is not text, not valid base64,
    not an image of that type, larger than ``MAX_IMAGE_BYTES`` decoded, or of more than
    ``MAX_IMAGE_PIXELS`` pixels (or a zero side).
    """
    if mime not in IMAGE_TYPES:
        raise InvalidImage(f"{mime} is not an allowed image type")
    if not isinstance(data, str):
        raise InvalidImage("image data that is not text")
    if len(data) > 2 * MAX_IMAGE_BYTES:  # far more than the base64 of the limit, line breaks included: not decoded
        raise InvalidImage(f"{_megabytes(len(data) * 3 // 4)} (limit {_megabytes(MAX_IMAGE_BYTES)})")
    try:
        raw = base64.b64decode("".join(data.split()).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidImage("data that is not valid base64") from None
    if len(raw) > MAX_IMAGE_BYTES:
        raise InvalidImage(f"{_megabytes(len(raw))} (limit {_megabytes(MAX_IMAGE_BYTES)})")
    width, height = _image_size(mime, raw)
    if width == 0 or height == 0 or width * height > MAX_IMAGE_PIXELS:
        raise InvalidImage(f"{width}x{height} pixels (limit {MAX_IMAGE_PIXELS // 1_000_000} megapixels)")
    return base64.b64encode(raw).decode("ascii")


def inert_markdown(source: str) -> str:
    """A markdown answer that renders as the same text but holds no HTML, no link and no mermaid block.

    See the module docstring: a space after each ``<`` that could open markup and between
    ``]`` and ``(``/``:``; ``mermaid`` fences get the info string ``text``.
    """
    source = _TAG_OPEN.sub("< ", source)
    source = _LINK.sub("] ", source)
    return _MERMAID_FENCE.sub(r"\1text ", source)


def _cut(text: object, limit: int, what: str, notes: list[str]) -> str:
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if len(text) > limit:
        notes.append(f"{what} of {len(text):,} characters cut to {limit:,}")
        return text[:limit] + "\n[cut by the grader]\n"
    return text


def _output(output_type: str, **fields: object) -> nbformat.NotebookNode:
    """An output built from checked parts (as nbformat's ``new_output`` would, without its slow schema check)."""
    return nbformat.from_dict({"output_type": output_type, **fields})


def _note_output(text: str) -> nbformat.NotebookNode:
    """A visible text output in place of what was dropped."""
    return _output("stream", name="stdout", text=f"[grader: {text}]\n")


def _display_metadata(metadata: object, kept: list[str]) -> dict:
    """Only integer ``width``/``height``, top-level or per kept image type; nothing else survives."""
    if not isinstance(metadata, dict):
        return {}

    def sizes(source: object) -> dict:
        if not isinstance(source, dict):
            return {}
        return {
            key: value
            for key in ("width", "height")
            if type(value := source.get(key)) is int and 0 < value <= MAX_DISPLAY_SIDE
        }

    clean = sizes(metadata)
    for mime in kept:
        if mime in IMAGE_TYPES and (per_type := sizes(metadata.get(mime))):
            clean[mime] = per_type
    return clean


def _stored_size(output: dict) -> int:
    size = 0
    for value in output.get("data", {}).values():
        size += len(value)
    size += len(output.get("text", ""))
    size += sum(len(line) for line in output.get("traceback", []))
    return size + len(output.get("ename", "")) + len(output.get("evalue", ""))


def _inert_output(output: object, notes: list[str]) -> list[tuple[dict, bool]]:
    """The allowed part of one output and a note for the dropped part, each as (output, is a note).

    Problems go to ``notes``.
    """
    if not isinstance(output, dict):
        notes.append("an output that is not an object dropped")
        return [(_note_output("an invalid output was dropped"), True)]
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in STREAM_NAMES else "stdout"
        text = _cut(output.get("text"), MAX_TEXT_CHARS, name, notes)
        return [(_output("stream", name=name, text=text), False)]
    if kind == "error":
        traceback = output.get("traceback")
        frames = [line for line in traceback if isinstance(line, str)] if isinstance(traceback, list) else []
        error = _output(
            "error",
            ename=_cut(strip_control(str(output.get("ename", ""))), MAX_ERROR_CHARS, "error name", notes),
            evalue=_cut(strip_control(str(output.get("evalue", ""))), MAX_ERROR_CHARS, "error message", notes),
            traceback=[
                _cut(strip_control(line), MAX_ERROR_CHARS, "traceback entry", notes)
                for line in frames[-MAX_TRACEBACK_FRAMES:]
            ],
        )
        return [(error, False)]
    if kind not in ("display_data", "execute_result"):
        notes.append(f"{str(kind)[:40]!r} output dropped")
        return [(_note_output(f"a {str(kind)[:40]!r} output was dropped"), True)]
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    clean: dict[str, str] = {}
    dropped: list[str] = []
    for mime, value in data.items():
        mime = str(mime)
        if mime in TEXT_TYPES:
            clean[mime] = _cut(value if isinstance(value, str) else "", MAX_TEXT_CHARS, mime, notes)
        elif mime in IMAGE_TYPES:
            try:
                clean[mime] = clean_image(mime, value)
            except InvalidImage as error:
                notes.append(f"{mime} output dropped: {error}")
                dropped.append(f"{mime} ({error})")
        else:
            shown = strip_control(mime)[:60]  # the type is the student's text too: no escape codes into the report
            notes.append(f"{shown} output dropped")
            dropped.append(shown)
    result: list[tuple[dict, bool]] = []
    if clean:
        metadata = _display_metadata(output.get("metadata"), list(clean))
        if kind == "execute_result":
            count = output.get("execution_count")
            count = count if type(count) is int else None
            kept = _output("execute_result", data=clean, metadata=metadata, execution_count=count)
        else:
            kept = _output("display_data", data=clean, metadata=metadata)
        result.append((kept, False))
    if dropped:
        what = "; ".join(dict.fromkeys(dropped))
        note = f"dropped {what}: graded notebooks keep only text and valid PNG/JPEG images"
        result.append((_note_output(note), True))
    return result


def _nbgrader(cell: object) -> dict:
    """The cell's nbgrader metadata, or {} if it has none or it is not a mapping."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def _cell_label(index: int, cell: dict) -> str:
    grade_id = _nbgrader(cell).get("grade_id")
    return f"cell {index + 1}" + (f" ({grade_id})" if isinstance(grade_id, str) else "")


def _summarise(label: str, notes: list[str]) -> list[str]:
    return [f"{label}: {note}" + (f" (x{count})" if count > 1 else "") for note, count in Counter(notes).items()]


def make_outputs_inert(nb: nbformat.NotebookNode) -> list[str]:
    """Reduce ``nb`` in place to inert, bounded content; return a note for everything cut or dropped.

    Every code cell's outputs go through the allow-list of the module docstring (each
    dropped output is replaced by a visible ``[grader: ...]`` text output), the notebook's
    kept outputs are capped at ``MAX_NOTEBOOK_OUTPUT_BYTES`` in cell order, and each
    markdown answer cell (nbgrader ``solution``) is made inert with :func:`inert_markdown`
    and loses its attachments. The notes read like ``cell 7 (nb01_e_step): image/png output
    dropped: 31.0 MB (limit 2.0 MB)``; identical notes of one cell are counted, and at most
    ``MAX_NOTES`` are returned (then one line saying how many more there were).
    """
    report: list[str] = []
    budget = MAX_NOTEBOOK_OUTPUT_BYTES
    for index, cell in enumerate(nb.get("cells", [])):
        notes: list[str] = []
        label = _cell_label(index, cell)
        is_answer = bool(_nbgrader(cell).get("solution"))
        if cell.get("cell_type") != "code":
            if is_answer:
                source = cell.get("source", "")
                source = source if isinstance(source, str) else "".join(s for s in source if isinstance(s, str))
                if _LOOKS_LIKE_MARKUP.search(source):
                    notes.append("HTML or links in the written answer shown as plain text")
                cell["source"] = inert_markdown(_cut(source, MAX_ANSWER_CHARS, "written answer", notes))
                if cell.get("attachments"):
                    notes.append(f"{len(cell['attachments'])} attachment(s) of the written answer dropped")
                    del cell["attachments"]
            report += _summarise(label, notes)
            continue
        outputs = cell.get("outputs", [])
        outputs = outputs if isinstance(outputs, list) else []
        kept = []
        for output in outputs[:MAX_OUTPUTS_PER_CELL]:
            for clean, is_note in _inert_output(output, notes):
                size = 0 if is_note else _stored_size(clean)
                if size > budget:
                    kinds = ", ".join(clean.get("data", {})) or clean["output_type"]
                    notes.append(
                        f"{kinds} output of {_megabytes(size)} dropped: the notebook's outputs reached their "
                        f"{_megabytes(MAX_NOTEBOOK_OUTPUT_BYTES)} limit"
                    )
                    clean, size = _note_output(f"{kinds} output dropped: the notebook's size limit was reached"), 0
                budget -= size
                kept.append(clean)
        if len(outputs) > MAX_OUTPUTS_PER_CELL:
            extra = len(outputs) - MAX_OUTPUTS_PER_CELL
            notes.append(f"{extra} outputs beyond the first {MAX_OUTPUTS_PER_CELL} dropped")
            kept.append(_note_output(f"{extra} more outputs were dropped"))
        cell["outputs"] = kept
        report += _summarise(label, notes)
    if len(report) > MAX_NOTES:
        report = report[:MAX_NOTES] + [f"{len(report) - MAX_NOTES} more notes about outputs not shown"]
    return report
