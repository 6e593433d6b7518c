"""Hostile cases for property 4/5 of issue 11: outputs that would run script or fill the disk.

Each module's code runs in the student's kernel when the notebook imports ``gmm_student``
(``get_ipython()`` is None in the clean check, so there it does nothing). Every payload
that managed to run would set a ``data-pwned-*`` attribute on the page's root element;
``tests/test_browser.py`` loads the pages in Chromium and looks for it. The functions stay
correct, so each case keeps all 10 points; the report names what was dropped.
"""

from __future__ import annotations

from .case import Case

#: Module code that defines ``_display`` and ``_png`` (a valid RGB PNG from raw pixels) in the student's kernel only.
PRELUDE = r"""
from IPython import get_ipython as _get_ipython

if _get_ipython() is not None:  # in the student's kernel only
    import base64 as _base64
    import os as _os
    import struct as _struct
    import zlib as _zlib

    from IPython.display import display as _display

    _ROOT = "document.documentElement.dataset"

    def _png(width, height, pixels):
        rows = b"".join(b"\x00" + pixels[y * width * 3 : (y + 1) * width * 3] for y in range(height))

        def chunk(kind, body):
            return _struct.pack(">I", len(body)) + kind + body + _struct.pack(">I", _zlib.crc32(kind + body))

        header = chunk(b"IHDR", _struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", _zlib.compress(rows, 1)) + chunk(b"IEND", b"")
"""

#: After PRELUDE: one output of every kind a browser could run, and a valid 3 MB PNG.
DISPLAYS_EVERYTHING = (
    PRELUDE
    + r"""
    _display(
        {
            "text/html": f"<img src=x onerror={_ROOT}.pwnedHtml=1><script>{_ROOT}.pwnedHtmlScript=1</script>",
            "text/plain": "an HTML output",
        },
        raw=True,
    )
    _display({"application/javascript": f"{_ROOT}.pwnedJavascript=1"}, raw=True)
    _display({"text/markdown": f"<img src=x onerror={_ROOT}.pwnedMarkdown=1>"}, raw=True)
    _svg = f"<svg xmlns='http://www.w3.org/2000/svg' onload='{_ROOT}.pwnedSvg=1'><script>{_ROOT}.x=2</script></svg>"
    _display({"image/svg+xml": _svg}, raw=True)
    _display({"image/png": f"AAAA' onerror='{_ROOT}.pwnedPng=1' x='", "text/plain": "a fake PNG"}, raw=True)
    _width = {"image/png": {"width": f"1 onload={_ROOT}.pwnedWidth=1"}}
    _display({"image/png": _base64.b64encode(_png(2, 2, b"\xff" * 12)).decode()}, metadata=_width, raw=True)
    _display({"image/png": _base64.b64encode(_png(1000, 1000, _os.urandom(3_000_000))).decode()}, raw=True)
"""
)

#: After PRELUDE: 12 valid PNGs of about 1.9 MB each, under the per-image limit but 23 MB together.
FILLS_THE_NOTEBOOK = (
    PRELUDE
    + r"""
    for _ in range(12):
        _display({"image/png": _base64.b64encode(_png(800, 790, _os.urandom(800 * 790 * 3))).decode()}, raw=True)
"""
)

CASES = [
    Case(
        "displays_script_and_huge_images",
        "displays HTML, JavaScript, markdown and SVG outputs that run script, a PNG whose data breaks out of its "
        "attribute, width metadata that adds an event handler, and a valid 3 MB PNG, all from its import",
        10,
        code={"univariate.py": DISPLAYS_EVERYTHING},
        report=(
            "text/html output dropped",
            "application/javascript output dropped",
            "image/svg+xml output dropped",
            "image/png output dropped: data that is not valid base64",
            "image/png output dropped: 3.0 MB (limit 2.0 MB)",
        ),
    ),
    Case(
        "fills_the_notebook_with_images",
        "displays 12 valid PNGs of 1.9 MB each (23 MB) from its import",
        10,
        code={"univariate.py": FILLS_THE_NOTEBOOK},
        report=("the notebook's outputs reached their 10.0 MB limit",),
    ),
]
