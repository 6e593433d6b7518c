"""Student content is inert in a real browser: the feedback page and the autograded notebooks (issue 11, property 4).

A hostile student tries every way into the instructor's (or a fellow student's) browser:
kernel outputs of every MIME type, a PNG whose base64 breaks out of its attribute, image
metadata that adds an event handler, written answers with raw HTML, ``javascript:`` links,
a mermaid block and an attachment. Each payload, if it ran, would set a ``data-pwned-*``
attribute on the page's root element. The pages are rendered the way they are seen (the
feedback page as written; the autograded notebook with nbconvert's ``HTMLExporter`` and
nbgrader's ``formgrade`` template, exactly as Formgrader serves it) and loaded in headless
Chromium; the DOM it dumps after the page has run must carry no marker, no event-handler
attribute and no ``javascript:`` URL. A control test loads the same notebook without the
grader's protection and must see the payloads run, so the harness is known to detect them.
"""

from __future__ import annotations

import base64
import copy
import html
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from gmm_course.autograding import autograde_class, load_result
from gmm_course.feedback import render_student_report
from gmm_course.grading import Workspace
from gmm_course.outputs import make_outputs_inert
from gmm_course.paths import ASSIGNMENT_ID, REFERENCE_PACKAGE_DIR, REPO_ROOT
from gmm_course.pipeline import GradingOptions
from gmm_course.report import report_rows

from .hostile.cases_outputs import DISPLAYS_EVERYTHING

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),  # one worker grades the hostile student once for all tests here
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no headless Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)",
    ),
]

NOTEBOOK = "01_em_1d_old_faithful"
ROOT = "document.documentElement.dataset"
STUDENT = "mallory_markup"


def _png(width: int, height: int) -> bytes:
    """A valid grey RGB PNG."""
    rows = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


SVG_WITH_SCRIPT = (
    f"<svg xmlns='http://www.w3.org/2000/svg' onload='{ROOT}.pwnedAttachment=1'>"
    f"<script>{ROOT}.pwnedAttachment=2</script></svg>"
)

#: A written answer that tries raw HTML, links, an autolink, a mermaid block, an attachment and maths.
HOSTILE_ANSWER = f"""The responsibilities are posterior probabilities, $r_{{nk}} \\propto \\pi_k$ and $a<b$.

<script>{ROOT}.pwnedAnswerScript=1</script>
<img src=x onerror={ROOT}.pwnedAnswerImg=1>
<svg><script>{ROOT}.pwnedAnswerSvg=1</script></svg>
<details open ontoggle={ROOT}.pwnedAnswerToggle=1><summary>x</summary></details>

[a link](javascript:{ROOT}.pwnedLink=1) and [another][ref] and <javascript:{ROOT}.pwnedAutolink=1>

[ref]:
javascript:{ROOT}.pwnedReference=1

![a picture](attachment:evil.svg)

```mermaid
<img src=x onerror={ROOT}.pwnedMermaid=1>
```
"""


def hostile_outputs() -> list[nbformat.NotebookNode]:
    """Kernel outputs of every kind a student's code can produce, each trying to run script."""
    new = nbformat.v4.new_output
    small = base64.b64encode(_png(4, 3)).decode()
    return [
        new("display_data", data={"text/html": f"<img src=x onerror={ROOT}.pwnedHtml=1>", "text/plain": "html"}),
        new("display_data", data={"text/html": f"<script>{ROOT}.pwnedHtmlScript=1</script>"}),
        new("display_data", data={"application/javascript": f"{ROOT}.pwnedJavascript=1"}),
        new("display_data", data={"text/markdown": f"<img src=x onerror={ROOT}.pwnedMarkdown=1>"}),
        new("display_data", data={"text/latex": f"<img src=x onerror={ROOT}.pwnedLatex=1>"}),
        new("display_data", data={"image/svg+xml": SVG_WITH_SCRIPT.replace("Attachment", "Svg")}),
        new("display_data", data={"image/png": f"AAAA' onerror='{ROOT}.pwnedPng=1' x='", "text/plain": "png"}),
        new("display_data", data={"image/png": f'AAAA" onerror="{ROOT}.pwnedPng2=1" x="'}),
        new(
            "display_data",
            data={"image/png": small},
            metadata={"image/png": {"width": f"1 onload={ROOT}.pwnedWidth=1", "alt": f"x onerror={ROOT}.a=1"}},
        ),
        new("display_data", data={"image/jpeg": f"/9j/' onerror='{ROOT}.pwnedJpeg=1' x='"}),
        new("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "1", "version_major": 2}}),
        new("execute_result", data={"text/html": f"<img src=x onerror={ROOT}.pwnedResult=1>"}, execution_count=1),
        new("stream", name="stdout", text=f"<img src=x onerror={ROOT}.pwnedStream=1>\n"),
        new(
            "error",
            ename=f"<img src=x onerror={ROOT}.pwnedEname=1>",
            evalue=f"<img src=x onerror={ROOT}.pwnedEvalue=1>",
            traceback=[f"\x1b[31m<img src=x onerror={ROOT}.pwnedTraceback=1>\x1b[0m"],
        ),
        new("display_data", data={"image/png": small, "text/plain": "<Figure size 4x3 with 1 Axes>"}),
    ]


def hostile_notebook(released: Path) -> nbformat.NotebookNode:
    """The released notebook 1 with hostile outputs in its first code cell and a hostile first answer."""
    nb = nbformat.read(str(released), as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = hostile_outputs()
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "markdown")
    answer.source = HOSTILE_ANSWER
    answer["attachments"] = {"evil.svg": {"image/svg+xml": base64.b64encode(SVG_WITH_SCRIPT.encode()).decode()}}
    return nb


def formgrade_html(nb: nbformat.NotebookNode) -> str:
    """``nb`` as Formgrader shows it: nbconvert's HTMLExporter with nbgrader's ``formgrade`` template."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {
        "assignment_id": ASSIGNMENT_ID,
        "notebook_id": NOTEBOOK,
        "submission_id": "1",
        "index": 0,
        "total": 1,
        "base_url": "",
        "student": STUDENT,
        "last_name": "",
        "first_name": "",
        "notebook_path": f"autograded/{STUDENT}/{ASSIGNMENT_ID}/{NOTEBOOK}.ipynb",
    }
    page, _ = HTMLExporter(config=config).from_notebook_node(copy.deepcopy(nb), resources=resources)
    return page


class _Dom(HTMLParser):
    """What the dumped DOM says: markers on the root element, event-handler attributes, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.markers: list[str] = []
        self.handlers: list[str] = []
        self.script_urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if tag == "html" and name.startswith("data-pwned"):
                self.markers.append(name)
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}={value!r}>")
            if value and "".join(value.split()).lower().startswith(("javascript:", "vbscript:", "data:text/html")):
                self.script_urls.append(f"<{tag} {name}={value!r}>")


def load_in_chromium(page: str, folder: Path, screenshot: Path | None = None) -> _Dom:
    """Load ``page`` from a file in headless Chromium, let it run (5 s of virtual time), parse the DOM it dumps."""
    path = folder / "page.html"
    path.write_text(page, encoding="utf-8")
    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=folder))
    command = [
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
    ]
    run = subprocess.run([*command, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and "<html" in run.stdout, run.stderr[-2000:]
    if screenshot is not None:
        subprocess.run(
            [*command, f"--screenshot={screenshot}", "--window-size=1280,900", path.as_uri()],
            capture_output=True,
            timeout=180,
            check=True,
        )
    dom = _Dom()
    dom.feed(run.stdout)
    return dom


#: Event handlers of the formgrade template itself (its name toggle), not of any notebook.
TEMPLATE_HANDLERS = {"<span onclick='toggle_name(true);'>", "<span onclick='toggle_name(false);'>"}


def assert_inert(dom: _Dom) -> None:
    assert not dom.markers, f"student script ran in the browser: {dom.markers}"
    handlers = set(dom.handlers) - TEMPLATE_HANDLERS
    assert not handlers, f"event-handler attributes in the page: {sorted(handlers)[:5]}"
    assert not dom.script_urls, f"script URLs in the page: {dom.script_urls[:5]}"


RELEASED = REPO_ROOT / "course" / f"{NOTEBOOK}.ipynb"


@pytest.mark.filterwarnings("ignore:Your element with mimetype")  # nbconvert on the widget view it cannot show
def test_the_harness_sees_script_run_in_an_unprotected_notebook(tmp_path):
    """Control: Formgrader's rendering runs the payloads of a notebook the grader has not made inert."""
    dom = load_in_chromium(formgrade_html(hostile_notebook(RELEASED)), tmp_path)
    ran = set(dom.markers)
    # (The application/javascript output runs after ``$(...)``, jQuery, which Formgrader loads and a file page lacks.)
    vectors = ("html", "html-script", "width", "result", "answer-script", "answer-svg", "answer-toggle", "mermaid")
    for vector in vectors:
        assert f"data-pwned-{vector}" in ran, (vector, sorted(ran))
    assert set(dom.handlers) - TEMPLATE_HANDLERS and dom.script_urls


def test_an_inert_notebook_runs_no_script_in_formgrader_and_still_reads(tmp_path):
    nb = hostile_notebook(RELEASED)
    notes = make_outputs_inert(nb)
    page = formgrade_html(nb)
    assert_inert(load_in_chromium(page, tmp_path))
    text = html.unescape(page)
    assert "The responsibilities are posterior probabilities" in text  # the answer is still there, as text
    assert "< script>" in text and "[a link] (javascript:" in text
    assert "[grader: dropped text/html" in text
    assert "data:image/png;base64," + base64.b64encode(_png(4, 3)).decode() in page  # the honest figure stays
    assert any("text/html output dropped" in note for note in notes)
    assert any("attachment(s) of the written answer dropped" in note for note in notes)


# End to end: a hostile student graded by the real pipeline (kernel stage included), then both pages.


def _hostile_submission(release: Path, target: Path) -> Path:
    shutil.copytree(release, target, ignore=shutil.ignore_patterns("gmm_student", "*.md", "*.txt"))
    shutil.copytree(REFERENCE_PACKAGE_DIR, target / "gmm_student", ignore=shutil.ignore_patterns("__pycache__"))
    (target / "gmm_student" / "testing.py").unlink()
    with (target / "gmm_student" / "univariate.py").open("a", encoding="utf-8") as handle:
        handle.write("\n" + DISPLAYS_EVERYTHING)
    path = target / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = HOSTILE_ANSWER
            cell["attachments"] = {"evil.svg": {"image/svg+xml": base64.b64encode(SVG_WITH_SCRIPT.encode()).decode()}}
    nbformat.write(nb, str(path))
    return target


@pytest.fixture(scope="module")
def graded_hostile(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser")
    workspace = Workspace(base / "course")
    workspace.prepare()
    release = workspace.root / "release" / ASSIGNMENT_ID
    workspace.submit(STUDENT, _hostile_submission(release, base / "submission"))
    scratch = Path(tempfile.mkdtemp(prefix="gmm-browser-"))  # short: the kernel's unix sockets live in it
    try:
        options = GradingOptions(cell_timeout=30, budget=180, notebooks=("01_",), scratch_dir=str(scratch))
        (outcome,) = autograde_class(workspace, [STUDENT], progress=False, options=options)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert outcome.status == "graded", outcome.error
    return workspace


def test_a_graded_hostile_notebook_is_inert_in_formgrader(graded_hostile, tmp_path):
    path = graded_hostile.autograded_dir(STUDENT) / f"{NOTEBOOK}.ipynb"
    assert_inert(load_in_chromium(formgrade_html(nbformat.read(str(path), as_version=4)), tmp_path))
    assert path.stat().st_size < 4_000_000  # the 3 MB image went
    lines = [" ".join(row) for row in report_rows(load_result(graded_hostile.root, STUDENT))]
    for dropped in ("text/html output dropped", "application/javascript output dropped", "limit 2.0 MB"):
        assert any(dropped in line for line in lines), (dropped, lines)


def test_the_feedback_page_runs_no_script(graded_hostile, tmp_path):
    page = render_student_report(graded_hostile, STUDENT)
    assert "Content-Security-Policy" in page
    assert_inert(load_in_chromium(page, tmp_path, screenshot=tmp_path / "feedback.png"))
    assert (tmp_path / "feedback.png").stat().st_size > 10_000
    assert "<h3>Your figures</h3>" in page and 'src="data:image/png;base64,' in page  # the honest figures stay


def test_the_feedback_page_is_inert_even_for_a_notebook_the_grader_did_not_clean(graded_hostile, tmp_path):
    """feedback.py escapes and validates on its own: an autograded notebook from elsewhere cannot reach script."""
    path = graded_hostile.autograded_dir(STUDENT) / f"{NOTEBOOK}.ipynb"
    original = path.read_bytes()
    try:
        nbformat.write(hostile_notebook(path), str(path))
        page = render_student_report(graded_hostile, STUDENT)
    finally:
        path.write_bytes(original)
    assert_inert(load_in_chromium(page, tmp_path))
    assert "data:image/png;base64," + base64.b64encode(_png(4, 3)).decode() in page  # valid figures still shown
    assert "3 figure(s) not shown: not a valid PNG or JPEG image, or too large." in page  # the two PNGs, the JPEG


# The feedback page as a reader sees it (issue 12, part 6): it fits a phone, and rendered answers stay inert.


class DevTools:
    """Headless Chromium driven over ``--remote-debugging-pipe`` (file descriptors 3 and 4, JSON ending in NUL).

    The test measures the laid-out page from outside: DevTools evaluation is not page script, so the page's
    Content-Security-Policy (no script at all) stays as it is.
    """

    def __init__(self, folder: Path, width: int, height: int) -> None:
        to_chromium, self._theirs_in = os.pipe()
        self._theirs_out, from_chromium = os.pipe()

        def on_fds_3_and_4() -> None:  # in the child: the pipe ends where Chromium expects them, inheritable
            ends = os.dup(to_chromium), os.dup(from_chromium)
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=folder))
        binary = Path("/usr/lib/chromium/chromium")  # Debian's wrapper script is fine too, but adds nothing here
        self.process = subprocess.Popen(
            [
                str(binary) if binary.exists() else CHROMIUM,
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            preexec_fn=on_fds_3_and_4,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chromium)
        os.close(from_chromium)
        self._writer = os.fdopen(self._theirs_in, "wb")
        self._reader = os.fdopen(self._theirs_out, "rb")
        self._buffer = b""
        self._id = 0
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
        self.send("Emulation.setDeviceMetricsOverride", session=True, **metrics)

    def send(self, method: str, session: bool = False, **params: object) -> dict:
        """Send one command and return its result (events in between are skipped)."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self._writer.write(json.dumps(message).encode() + b"\0")
        self._writer.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            while b"\0" not in self._buffer:
                chunk = self._reader.read1(1 << 16)
                assert chunk, "Chromium closed its DevTools pipe"
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                assert "error" not in reply, reply["error"]
                return reply["result"]
        raise TimeoutError(method)

    def open(self, url: str) -> None:
        self.send("Page.navigate", session=True, url=url)
        for _ in range(300):
            if self.evaluate("document.readyState") == "complete":
                return
            time.sleep(0.1)
        raise TimeoutError(url)

    def evaluate(self, expression: str) -> object:
        return self.send("Runtime.evaluate", session=True, expression=expression, returnByValue=True)["result"].get(
            "value"
        )

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self._writer.close()
        self._reader.close()


#: What overflows the page sideways: the document's width against the viewport's, and each element wider than
#: its box without being a deliberate scroller (display maths may scroll inside its own line).
LAYOUT = """JSON.stringify({
  page: document.documentElement.scrollWidth, viewport: window.innerWidth,
  overflowing: Array.from(document.querySelectorAll('pre, p, li, figcaption, h3, code'))
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.tagName + ': ' + e.textContent.slice(0, 60)),
  maths: document.querySelectorAll('math').length,
})"""


@pytest.mark.parametrize("width,height", [(390, 844), (1280, 900)], ids=["phone", "desktop"])
def test_the_feedback_page_fits_the_screen_without_a_sideways_scrollbar(graded_hostile, tmp_path, width, height):
    page = render_student_report(graded_hostile, STUDENT)
    path = tmp_path / "feedback.html"
    path.write_text(page, encoding="utf-8")
    browser = DevTools(tmp_path, width, height)
    try:
        browser.open(path.as_uri())
        layout = json.loads(browser.evaluate(LAYOUT))
        browser.screenshot(tmp_path / f"feedback-{width}.png")
    finally:
        browser.close()
    assert layout["page"] <= layout["viewport"] == width, layout
    assert not layout["overflowing"], layout["overflowing"][:5]
    assert layout["maths"] > 0  # the answer's maths is drawn as MathML, in the browser
    assert (tmp_path / f"feedback-{width}.png").stat().st_size > 10_000


def test_rendered_answers_and_comments_with_hostile_markup_run_no_script(graded_hostile, tmp_path):
    """The written answers (raw, not made inert by the grader) go through Markdown to HTML; a comment too."""
    from nbgrader.api import Gradebook

    from gmm_course.paths import COURSE_ID

    path = graded_hostile.autograded_dir(STUDENT) / f"{NOTEBOOK}.ipynb"
    original = path.read_bytes()
    hostile_comment = f"<img src=x onerror={ROOT}.pwnedComment=1> $\\text{{<script>{ROOT}.pwnedTex=1</script>}}$"
    with Gradebook(graded_hostile.database_url, COURSE_ID) as gradebook:
        comment = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT_ID, STUDENT).comments[0]
        comment.manual_comment = hostile_comment
        gradebook.db.commit()
    try:
        nb = hostile_notebook(path)
        for cell in nb.cells:  # every answer: hostile markup, and maths that latex2mathml copies as it is
            if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = HOSTILE_ANSWER + f"\n\n$$\\text{{</math><img src=x onerror={ROOT}.pwnedMath=1>}}$$\n"
        nbformat.write(nb, str(path))
        page = render_student_report(graded_hostile, STUDENT)
    finally:
        path.write_bytes(original)
        with Gradebook(graded_hostile.database_url, COURSE_ID) as gradebook:
            gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT_ID, STUDENT).comments[0].manual_comment = None
            gradebook.db.commit()
    dom = load_in_chromium(page, tmp_path)
    assert_inert(dom)
    assert html.escape(hostile_comment) in page  # the comment is shown, as text
    assert "<math" in page and "The responsibilities are posterior probabilities" in page
