"""Markdown and maths to safe HTML for the feedback pages: the Jupyter stack's renderer, maths offline, an allow-list.

The course's text and the students' written answers are Markdown with LaTeX maths, as
Jupyter shows them. They are rendered here with nbconvert's own Markdown parser (its
mistune ``MarkdownWithMath``, the one ``jupyter nbconvert`` and Formgrader use), with
three changes to its HTML renderer:

- maths (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``, ``\\begin{env}...``) becomes
  MathML, converted on the server by ``latex2mathml`` (pure Python): the page needs no
  MathJax and no network, and Chromium, Firefox and Safari draw MathML themselves. TeX
  that does not convert (or is longer than ``MAX_TEX_CHARS``) is shown as code;
- raw HTML in the Markdown is escaped (shown as text), links keep only their text,
  images become ``[image: alt]`` and fenced ``mermaid`` blocks are plain code blocks;
- headings get no anchor links or ids.

Whatever comes out is then sanitised by ``nh3`` (the Ammonia HTML sanitiser) with an
allow-list of plain text-formatting tags and MathML presentation tags and their layout
attributes: no ``href``, ``src``, ``style``, ``class``, ``id``, event handler or
comment survives, whatever the renderer or ``latex2mathml`` (which copies ``\\text{...}``
through unescaped) produced. The feedback page's Content-Security-Policy, which forbids
all script, is a third layer.
"""

from __future__ import annotations

import html
import re
from typing import Any

import nh3
from latex2mathml.converter import convert as latex_to_mathml
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

MAX_TEX_CHARS = 2_000  # one formula; a longer one is shown as its TeX source
MAX_MARKDOWN_CHARS = 50_000  # one piece of Markdown rendered (callers cut answers shorter)

#: Text-formatting HTML a Markdown renderer produces; nothing that loads, links or runs.
HTML_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del", "s",
    "sup", "sub", "dl", "dt", "dd", "span", "div",
}  # fmt: skip

#: MathML presentation elements (what latex2mathml writes); no ``maction``, ``semantics`` or ``annotation-xml``.
MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt",
    "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom",
    "menclose", "merror", "mmultiscripts", "mprescripts", "none",
}  # fmt: skip

#: Layout attributes of MathML (no ``href``, ``style``, ``class`` or ``id``) and ``start`` of ordered lists.
ATTRIBUTES = {
    "math": {"display"},
    "ol": {"start"},
    "mo": {"stretchy", "fence", "separator", "lspace", "rspace", "form", "largeop", "movablelimits", "symmetric",
           "minsize", "maxsize", "accent"},
    "mover": {"accent"},
    "munder": {"accentunder"},
    "munderover": {"accent", "accentunder"},
    "mfrac": {"linethickness"},
    "mspace": {"width", "height", "depth"},
    "mpadded": {"width", "height", "depth", "lspace", "voffset"},
    "mstyle": {"displaystyle", "scriptlevel"},
    "mtable": {"columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame"},
    "mtr": {"columnalign", "rowalign"},
    "mtd": {"columnalign", "rowalign", "columnspan", "rowspan"},
    "menclose": {"notation"},
    "*": {"mathvariant"},
}  # fmt: skip


def sanitise(fragment: str) -> str:
    """``fragment`` reduced to the allow-listed tags and attributes above (comments and all URLs dropped)."""
    return nh3.clean(
        fragment,
        tags=HTML_TAGS | MATHML_TAGS,
        attributes=ATTRIBUTES,
        url_schemes=set(),
        link_rel=None,
        strip_comments=True,
    )


def tex_to_html(tex: str, display: bool) -> str:
    """TeX maths as (unsanitised) MathML, or as escaped code if it is too long or does not convert."""
    source = tex.strip()
    if source and len(source) <= MAX_TEX_CHARS:
        # latex2mathml copies ``\text{...}`` into the MathML as it is: no "<" or ">" reaches it (TeX reads the same)
        safe = source.replace("<", " \\lt ").replace(">", " \\gt ")
        try:
            return latex_to_mathml(safe, display="block" if display else "inline")
        except Exception:  # noqa: BLE001 - any TeX latex2mathml cannot read (or too deep for it) is shown as source
            pass
    code = f"<code>{html.escape(source, quote=False)}</code>"
    return f"<pre>{code}</pre>" if display else code


class SafeRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer with maths as MathML and nothing that could load, link or run."""

    def __init__(self) -> None:
        super().__init__(escape=True, allow_harmful_protocols=False, exclude_anchor_links=True)

    def block_math(self, body: str) -> str:
        """``$$...$$`` and ``\\[...\\]``."""
        return tex_to_html(body, display=True)

    def inline_math(self, body: str) -> str:
        """``$...$`` and ``\\(...\\)``."""
        return tex_to_html(body, display=False)

    def latex_environment(self, name: str, body: str) -> str:
        """``\\begin{name}...\\end{name}`` outside dollars, as displayed maths."""
        return tex_to_html(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)

    def block_code(self, code: str, info: str | None = None) -> str:
        """Every fenced block as escaped code (no syntax colouring, no mermaid diagram)."""
        return super(IPythonRenderer, self).block_code(code, None)  # mistune's own: escaped, no info

    def link(self, text: str, url: str, title: str | None = None) -> str:
        """A link's text only: the page links nowhere."""
        return text

    def image(self, text: str, url: str, title: str | None = None) -> str:
        """An image's description only: the page loads no image the Markdown names."""
        return f"[image: {text}]" if text else "[image]"

    def heading(self, text: str, level: int, **attrs: Any) -> str:
        """A heading without id or anchor link."""
        return f"<h{level}>{text}</h{level}>\n"


def render_markdown(source: str) -> str:
    """Jupyter-flavoured Markdown (maths included) as sanitised HTML, safe to put in a page as it is."""
    if len(source) > MAX_MARKDOWN_CHARS:
        source = source[:MAX_MARKDOWN_CHARS] + " ..."
    return sanitise(MarkdownWithMath(renderer=SafeRenderer()).render(source))


def render_heading(text: str) -> str:
    """A heading's text (Markdown, without the leading ``#``) as sanitised inline HTML."""
    rendered = render_markdown("# " + " ".join(text.split())).strip()
    match = re.fullmatch(r"<h1>(.*)</h1>", rendered, re.DOTALL)
    return match.group(1) if match else html.escape(text)
