"""Student-controlled text made safe for the instructor's terminal and for spreadsheets.

Grade ids, file names, error messages and student output reach the lines ``gmm-course``
prints and the CSV files it writes. :func:`printable` makes any string encodable as
UTF-8 (a lone surrogate such as ``"\\ud800"``, which JSON can carry, made writing
``grading_report.csv`` fail for the whole class) and inert in a terminal: control and
format characters (escape sequences, carriage returns, newlines that would forge
report lines, bidirectional overrides) are shown as Python escapes instead of acting.
:func:`csv_cell` also defuses spreadsheet formulas, as OWASP recommends for CSV
injection: a cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return
gets a leading single quote.
"""

from __future__ import annotations

import unicodedata

#: Unicode categories shown as escapes: controls (C0, DEL, C1), format characters (bidi overrides, zero-width
#: characters), surrogates, private use, unassigned, and the line and paragraph separators.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: object) -> str:
    """``text`` (any object, as ``str``) with every unsafe character replaced by its escape: ``\\x1b``, ``\\n``.

    The result encodes as UTF-8 and holds no character a terminal acts on; ordinary text, accents and other
    scripts are kept as they are. Idempotent: a backslash is kept, so an escape stays as it was.
    """
    text = str(text)
    if text.isprintable():  # the common case, and fast: no control, format, surrogate or separator character
        return text
    return "".join(_escape(c) if c != " " and unicodedata.category(c) in UNSAFE_CATEGORIES else c for c in text)


def csv_cell(text: object) -> str:
    """``printable(text)``, with a leading ``'`` if a spreadsheet could read it as a formula."""
    cell = printable(text)
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
