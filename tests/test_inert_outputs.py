"""gmm_course.outputs: what a graded notebook may keep of the student's outputs and answers (issue 11, 4 and 5).

Each output type is kept, cut or dropped by an allow-list; images are decoded and checked;
the notebook's outputs have a size cap; written answers render as text, never as HTML or
links, through the same markdown renderer Formgrader uses (nbconvert's mistune renderer).
The browser-level proof is tests/test_browser.py.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from html.parser import HTMLParser

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from PIL import Image

from gmm_course import outputs
from gmm_course.outputs import InvalidImage, clean_image, inert_markdown, make_outputs_inert

new_output = nbformat.v4.new_output


def png(width: int = 4, height: int = 3, pixels: bytes | None = None, level: int = 6) -> bytes:
    """A valid RGB PNG (grey unless ``pixels`` gives the raw rows' pixel bytes)."""
    pixels = pixels if pixels is not None else b"\x80" * (3 * width * height)
    rows = b"".join(b"\x00" + pixels[y * 3 * width : (y + 1) * 3 * width] for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(rows, level)) + chunk(b"IEND", b"")


def jpeg(width: int = 5, height: int = 7) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def notebook(*outputs, answer: str | None = None) -> nbformat.NotebookNode:
    """A notebook with one code cell holding ``outputs`` and, if given, a markdown answer cell."""
    code = nbformat.v4.new_code_cell("display(x)", outputs=list(outputs), execution_count=1)
    code.metadata["nbgrader"] = {"grade_id": "nb01_plot", "grade": False, "solution": False, "locked": True}
    cells = [code]
    if answer is not None:
        cell = nbformat.v4.new_markdown_cell(answer)
        cell.metadata["nbgrader"] = {"grade_id": "nb01_a1", "grade": True, "solution": True, "points": 2}
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def kept(nb) -> list[dict]:
    return list(nb.cells[0].outputs)


def test_text_outputs_are_kept_as_they_are():
    nb = notebook(
        new_output("stream", name="stdout", text="fitted in 12 iterations\n"),
        new_output("stream", name="stderr", text="RuntimeWarning: <b>divide</b>\n"),
        new_output("execute_result", data={"text/plain": "array([1., 2.])"}, execution_count=3),
    )
    assert make_outputs_inert(nb) == []
    stdout, stderr, result = kept(nb)
    assert (stdout.name, stdout.text) == ("stdout", "fitted in 12 iterations\n")
    assert (stderr.name, stderr.text) == ("stderr", "RuntimeWarning: <b>divide</b>\n")  # the renderer escapes it
    assert result.data == {"text/plain": "array([1., 2.])"} and result.execution_count == 3
    nbformat.validate(nb)


def test_long_text_is_cut_and_said():
    nb = notebook(
        new_output("stream", name="stdout", text="x" * (outputs.MAX_TEXT_CHARS + 5)),
        new_output("display_data", data={"text/plain": "y" * (outputs.MAX_TEXT_CHARS * 3)}),
    )
    notes = make_outputs_inert(nb)
    stream, display = kept(nb)
    assert len(stream.text) < outputs.MAX_TEXT_CHARS + 100 and stream.text.endswith("[cut by the grader]\n")
    assert len(display.data["text/plain"]) < outputs.MAX_TEXT_CHARS + 100
    assert any("stdout of 20,005 characters cut to 20,000" in note for note in notes), notes
    assert any(note.startswith("cell 1 (nb01_plot): text/plain of 60,000 characters") for note in notes), notes


def test_a_stream_with_an_unknown_name_becomes_stdout():
    nb = notebook({"output_type": "stream", "name": "stdout' onload='x", "text": "hi"})
    make_outputs_inert(nb)
    assert kept(nb)[0].name == "stdout"


def test_errors_keep_a_short_plain_traceback():
    frames = [f"\x1b[0;31mframe {i}\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07" for i in range(6)]
    nb = notebook(new_output("error", ename="\x1b[31mValueError\x1b[0m", evalue="bad <b>x</b>", traceback=frames))
    make_outputs_inert(nb)
    (error,) = kept(nb)
    assert error.ename == "ValueError" and error.evalue == "bad <b>x</b>"
    assert error.traceback == ["frame 3 link", "frame 4 link", "frame 5 link"]
    assert all("\x1b" not in line for line in error.traceback)


def test_a_valid_png_is_kept_and_re_encoded_without_line_breaks():
    data = png()
    wrapped = "\n".join(b64(data)[i : i + 20] for i in range(0, len(b64(data)), 20)) + "\n"
    nb = notebook(new_output("display_data", data={"image/png": wrapped, "text/plain": "<Figure>"}))
    assert make_outputs_inert(nb) == []
    (figure,) = kept(nb)
    assert figure.data["image/png"] == b64(data) and figure.data["text/plain"] == "<Figure>"


def test_a_valid_jpeg_is_kept_and_its_size_read_from_the_frame_header():
    assert clean_image("image/jpeg", b64(jpeg(5, 7))) == b64(jpeg(5, 7))
    assert outputs._image_size("image/jpeg", jpeg(5, 7)) == (5, 7)
    assert outputs._image_size("image/png", png(9, 2)) == (9, 2)


@pytest.mark.parametrize(
    ("mime", "data", "reason"),
    [
        ("image/png", "AAAA' onerror='alert(1)' x='", "not valid base64"),
        ("image/png", 'AAAA" onerror="alert(1)', "not valid base64"),
        ("image/png", "iVBORw0KGgo=\x00", "not valid base64"),
        ("image/png", "####", "not valid base64"),
        ("image/png", ["iVBORw0KGgo="], "not text"),
        ("image/png", b64(b"GIF89a" + bytes(40)), "wrong magic bytes"),
        ("image/png", b64(b"<svg onload=alert(1)>"), "wrong magic bytes"),
        ("image/png", b64(jpeg()), "wrong magic bytes"),
        ("image/jpeg", b64(png()), "wrong magic bytes"),
        ("image/png", b64(png()[:20]), "without a valid header"),
        ("image/jpeg", b64(b"\xff\xd8\xff\xe0" + bytes(10)), "without a readable frame header"),
        ("image/png", b64(png(0, 3)), "0x3 pixels"),
        ("image/gif", b64(b"GIF89a"), "not an allowed image type"),
    ],
)
def test_invalid_images_are_refused_with_a_reason(mime, data, reason):
    with pytest.raises(InvalidImage, match=reason):
        clean_image(mime, data)


def test_a_png_that_claims_too_many_pixels_is_refused():
    bomb = bytearray(png(4, 3))
    bomb[16:24] = struct.pack(">II", 100_000, 100_000)  # the IHDR of a 10-gigapixel image
    with pytest.raises(InvalidImage, match="100000x100000 pixels"):
        clean_image("image/png", b64(bytes(bomb)))


def test_an_image_over_the_size_limit_is_dropped_with_its_size(monkeypatch):
    big = png(700, 700, pixels=bytes(range(256)) * (700 * 700 * 3 // 256 + 1), level=0)  # about 1.5 MB
    monkeypatch.setattr(outputs, "MAX_IMAGE_BYTES", 1_000_000)
    nb = notebook(new_output("display_data", data={"image/png": b64(big), "text/plain": "<Figure>"}))
    notes = make_outputs_inert(nb)
    figure, note = kept(nb)
    assert figure.data == {"text/plain": "<Figure>"}
    assert note.output_type == "stream" and "dropped image/png (1.5 MB (limit 1.0 MB))" in note.text
    assert notes == ["cell 1 (nb01_plot): image/png output dropped: 1.5 MB (limit 1.0 MB)"]


def test_a_huge_base64_string_is_refused_without_decoding_it():
    with pytest.raises(InvalidImage, match=r"30\.0 MB \(limit 2\.0 MB\)"):
        clean_image("image/png", "A" * 40_000_000)


@pytest.mark.parametrize(
    "mime",
    [
        "text/html",
        "application/javascript",
        "image/svg+xml",
        "text/markdown",
        "text/latex",
        "application/vnd.jupyter.widget-view+json",
        "application/json",
        "image/gif",
        "text/html; charset=utf-8",
    ],
)
def test_every_other_type_is_dropped_with_a_visible_note(mime):
    value = {"model_id": "1"} if "json" in mime else "<script>alert(1)</script>"
    nb = notebook(new_output("display_data", data={mime: value}))
    notes = make_outputs_inert(nb)
    (note,) = kept(nb)
    assert note.output_type == "stream" and note.text.startswith(f"[grader: dropped {mime}")
    assert notes == [f"cell 1 (nb01_plot): {mime} output dropped"]
    nbformat.validate(nb)


def test_a_dropped_type_reaches_the_report_without_escape_sequences():
    nb = notebook(new_output("display_data", data={"text/\x1b]0;owned\x07html\x1b[2J": "<b>"}))
    assert make_outputs_inert(nb) == ["cell 1 (nb01_plot): text/html output dropped"]


def test_a_mixed_bundle_keeps_its_allowed_part():
    nb = notebook(
        new_output(
            "execute_result",
            data={"text/html": "<b>x</b>", "text/plain": "x", "image/png": b64(png())},
            execution_count=4,
        )
    )
    make_outputs_inert(nb)
    result, note = kept(nb)
    assert set(result.data) == {"text/plain", "image/png"} and result.execution_count == 4
    assert "text/html" in note.text


def test_output_metadata_keeps_only_integer_sizes():
    metadata = {
        "image/png": {"width": "1 onload=alert(1)", "height": 200, "alt": "x' onerror='y"},
        "width": 300,
        "filenames": {"image/png": "https://evil.example/track.png"},
        "text/html": {"isolated": True},
        "needs_background": "light",
    }
    nb = notebook(new_output("display_data", data={"image/png": b64(png())}, metadata=metadata))
    make_outputs_inert(nb)
    assert kept(nb)[0].metadata == {"width": 300, "image/png": {"height": 200}}


def test_unknown_output_types_and_non_objects_are_dropped():
    nb = notebook()
    nb.cells[0].outputs = [{"output_type": "update_display_data", "data": {"text/html": "<b>"}}, "a string"]
    notes = make_outputs_inert(nb)
    assert [o.output_type for o in kept(nb)] == ["stream", "stream"]
    assert notes == [
        "cell 1 (nb01_plot): 'update_display_data' output dropped",
        "cell 1 (nb01_plot): an output that is not an object dropped",
    ]


def test_the_notebook_outputs_are_capped_in_cell_order(monkeypatch):
    monkeypatch.setattr(outputs, "MAX_NOTEBOOK_OUTPUT_BYTES", 5 * len(b64(png(30, 30))))
    image = new_output("display_data", data={"image/png": b64(png(30, 30))})
    nb = notebook(*[image] * 8)
    notes = make_outputs_inert(nb)
    images = [o for o in kept(nb) if o.output_type == "display_data"]
    assert len(images) == 5 and len(kept(nb)) == 8
    assert kept(nb)[-1].text.startswith("[grader: image/png output dropped: the notebook's size limit was reached")
    assert len(notes) == 1 and notes[0].endswith("reached their 0.0 MB limit (x3)"), notes


def test_many_outputs_in_one_cell_are_cut_with_a_note():
    nb = notebook(*[new_output("stream", name="stdout", text="x\n")] * (outputs.MAX_OUTPUTS_PER_CELL + 7))
    notes = make_outputs_inert(nb)
    assert len(kept(nb)) == outputs.MAX_OUTPUTS_PER_CELL + 1
    assert notes == [f"cell 1 (nb01_plot): 7 outputs beyond the first {outputs.MAX_OUTPUTS_PER_CELL} dropped"]


def test_the_kernel_stage_cuts_outputs_once_with_the_same_cap_and_says_how_many():
    from gmm_course.kernel_stage import _cut_outputs

    nb = notebook(*[new_output("stream", name="stdout", text="x\n")] * (outputs.MAX_OUTPUTS_PER_CELL + 15))
    assert _cut_outputs(nb.cells[0]) == 16
    assert len(nb.cells[0].outputs) == outputs.MAX_OUTPUTS_PER_CELL
    assert nb.cells[0].outputs[-1].text == "[16 more outputs dropped by the grader]\n"
    assert make_outputs_inert(nb) == [], "the inert pass finds nothing more to cut"
    at_cap = notebook(*[new_output("stream", name="stdout", text="x\n")] * outputs.MAX_OUTPUTS_PER_CELL)
    assert _cut_outputs(at_cap.cells[0]) == 0 and len(at_cap.cells[0].outputs) == outputs.MAX_OUTPUTS_PER_CELL


def test_the_number_of_notes_is_bounded():
    cells = [
        nbformat.v4.new_code_cell("x", outputs=[new_output("display_data", data={"text/html": "<b>"})])
        for _ in range(outputs.MAX_NOTES + 5)
    ]
    notes = make_outputs_inert(nbformat.v4.new_notebook(cells=cells))
    assert len(notes) == outputs.MAX_NOTES + 1 and notes[-1] == "5 more notes about outputs not shown"


def test_answers_lose_html_links_and_attachments_but_keep_their_text():
    answer = "We have $a<b$ and <b>bold</b>: see [this](javascript:alert(1)).\n\n[r]: javascript:x\n"
    nb = notebook(answer=answer)
    nb.cells[1]["attachments"] = {"x.svg": {"image/svg+xml": b64(b"<svg onload=alert(1)>")}}
    notes = make_outputs_inert(nb)
    inert = "We have $a< b$ and < b>bold< /b>: see [this] (javascript:alert(1)).\n\n[r] : javascript:x\n"
    assert nb.cells[1].source == inert
    assert "attachments" not in nb.cells[1]
    assert notes == [
        "cell 2 (nb01_a1): HTML or links in the written answer shown as plain text",
        "cell 2 (nb01_a1): 1 attachment(s) of the written answer dropped",
    ]


def test_a_huge_answer_is_cut():
    nb = notebook(answer="word " * outputs.MAX_ANSWER_CHARS)
    notes = make_outputs_inert(nb)
    assert len(nb.cells[1].source) < outputs.MAX_ANSWER_CHARS + 100
    assert notes == ["cell 2 (nb01_a1): written answer of 500,000 characters cut to 100,000"]


def test_an_ordinary_answer_is_left_alone_and_instructor_cells_are_not_touched():
    answer = "The weights are $\\pi_k \\geq 0$, with $x < 3$ and [1, 2] (a list)."
    nb = notebook(answer=answer)
    instructor = nbformat.v4.new_markdown_cell("<b>Task</b> ![fig](attachment:f.png)")
    instructor["attachments"] = {"f.png": {"image/png": b64(png())}}
    nb.cells.append(instructor)
    assert make_outputs_inert(nb) == []
    assert nb.cells[1].source == answer
    assert nb.cells[2].source == "<b>Task</b> ![fig](attachment:f.png)" and "attachments" in nb.cells[2]


def test_mermaid_blocks_become_plain_text_blocks():
    source = "```mermaid\n<img src=x onerror=alert(1)>\n```\n~~~ Mermaid\ngraph\n~~~\n"
    inert = "```text mermaid\n< img src=x onerror=alert(1)>\n```\n~~~ text Mermaid\ngraph\n~~~\n"
    assert inert_markdown(source) == inert


# What nbconvert's markdown renderer (the one Formgrader uses) may produce from an inert answer: formatting, maths,
# code, lists, tables, headings with their own anchor, task-list checkboxes. Nothing that runs or links out.
SAFE_TAGS = {
    "p", "em", "strong", "code", "pre", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr",
    "br", "del", "table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd", "div", "span", "input", "a",
}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SAFE_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("src", "srcset", "style", "action", "formaction"):
                self.problems.append(f"<{tag} {name}>")
            if tag == "a" and name == "href" and not (value or "").startswith(("#", "http://", "https://", "mailto:")):
                self.problems.append(f"<a href={value!r}>")


FRAGMENTS = st.sampled_from(
    [
        "<", ">", "/", "!", "?", "[", "]", "(", ")", ":", "`", "```", "~~~", "$", "\\", "&", "#", "&#x3C;", "&lt;",
        "script", "img", "svg", "a href=", "src=x", "onerror=", "javascript:", "JaVaScRiPt:", "data:text/html,",
        "mermaid", "attachment:x", "http://x", "www.x", "\n", "\n\n", " ", "\t", "    ", "-", "*", "|", "=", '"',
        "'", "<!--", "-->", "<?", "x", "1.", "> ",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAGMENTS, max_size=40).map("".join))
def test_an_inert_answer_renders_to_harmless_html_in_nbconvert(text):
    tags = _Tags()
    tags.feed(markdown2html_mistune(inert_markdown(text)))
    assert not tags.problems, (text, tags.problems)


def test_the_property_test_would_see_raw_html():
    """The checker above catches what an answer that was not made inert produces."""
    tags = _Tags()
    tags.feed(markdown2html_mistune("<img src=x onerror=alert(1)> [a](javascript:x)"))
    assert tags.problems == ["<img>", "<img src>", "<img onerror>", "<a href='javascript:x'>"]
