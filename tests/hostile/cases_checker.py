"""Hostile cases against the clean check's trust boundary (issue 11, properties 1 and 6), notebook 1 only.

Each keeps the reference's ``normal_pdf`` the hidden test of ``e_step_1d`` patches in
(or its handle), or talks to the wire directly; in the student's kernel none of that
exists, so the same code runs honestly or fails there. Notebook 1's points: normal_pdf
1, e_step 2, m_step 2, var_floor 1, log_likelihood 2, fit 2.
"""

from __future__ import annotations

from .case import Case

#: A wrong normal_pdf, and an honest e_step_1d that keeps the grader's normal_pdf while the test has it patched in.
_KEEPS_THE_REFERENCE = """
def normal_pdf(x, means, variances):
    return np.zeros((np.asarray(x).size, np.asarray(means).size))


def _is_grader_code(function):
    return getattr(getattr(function, "__code__", None), "co_name", "") == "call_checker"


def e_step_1d(x, weights, means, variances):
    helper = globals()["normal_pdf"]
    if _is_grader_code(helper):
        _keep(helper)
    x = np.asarray(x, dtype=np.float64)[:, None]
    log_joint = np.log(weights) - 0.5 * ((x - means) ** 2 / variances + np.log(2.0 * np.pi * variances))
    joint = np.exp(log_joint - log_joint.max(axis=1, keepdims=True))
    return joint / joint.sum(axis=1, keepdims=True)


def log_likelihood_1d(x, weights, means, variances):
    pdf = _kept() or globals()["normal_pdf"]
    return float(np.sum(np.log(pdf(x, means, variances) @ weights)))
"""

CASES = [
    Case(
        "keeps_the_reference_helper",
        "leaves normal_pdf wrong, keeps the reference normal_pdf the hidden e_step test patches in, "
        "and calls it from log_likelihood_1d in a later cell",
        7,
        code={
            "univariate.py": _KEEPS_THE_REFERENCE
            + """
_kept_helpers = []


def _keep(helper):
    _kept_helpers.append(helper)


def _kept():
    return _kept_helpers[0] if _kept_helpers else None
"""
        },
        flags=frozenset({"nb01_log_likelihood"}),
        report=("grader code that was not in force",),
    ),
    Case(
        "saves_a_handle_to_disk",
        "keeps only the handle of the reference normal_pdf (in a file), then forges a callable from it in a later cell",
        7,
        code={
            "univariate.py": _KEEPS_THE_REFERENCE
            + """
import gc as _gc
from pathlib import Path as _Path

_HANDLE_FILE = _Path("kept_handle.txt")


def _keep(helper):
    handle = dict(zip(helper.__code__.co_freevars, (c.cell_contents for c in helper.__closure__)))["handle"]
    if not _HANDLE_FILE.exists():
        _HANDLE_FILE.write_text(str(handle))


def _kept():
    if not _HANDLE_FILE.exists():
        return None
    text = _HANDLE_FILE.read_text()
    handle = int(text) if text.isdigit() else text  # the handles were id()s once
    server = next(o for o in _gc.get_objects() if type(o).__name__ == "StudentServer")
    return server._remote_callable(handle, "normal_pdf")
"""
        },
        flags=frozenset({"nb01_log_likelihood"}),
        report=("grader code that was not in force",),
    ),
    Case(
        "queues_a_stale_reply",
        "the M-step writes a 100000-deep reply and then a made-up one straight to the wire (once in each "
        "student process), before returning its honest answer",
        7,
        code={
            "univariate.py": """
_honest_m_step_1d = m_step_1d
_wire = []


def m_step_1d(x, resp, var_floor=1e-6):
    import gc
    import json
    import struct

    if not _wire:  # look for the wire once: in the student's kernel there is none
        _wire.append(next((o for o in gc.get_objects() if type(o).__name__ == "StudentServer"), None))
        if _wire[0] is not None:
            for payload in (
                b'{"op":"return","value":' + b"[" * 100000 + b"]" * 100000 + b"}",
                json.dumps({"op": "return", "value": {"$tuple": [1.0, 2.0, 3.0]}}).encode(),
            ):
                _wire[0].sock.sendall(struct.pack("!Q", len(payload)) + payload)
    return _honest_m_step_1d(x, resp, var_floor)
"""
        },
        # The M-step's cell and the next one that calls it each start a new student process: both fail.
        flags=frozenset({"nb01_m_step", "nb01_var_floor"}),
        report=("invalid message",),
    ),
]
