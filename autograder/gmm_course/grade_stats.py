"""The class at a glance: one HTML page of grade statistics, written by ``gmm-course export``.

Four pictures (Matplotlib, embedded as PNG ``data:`` URIs, so the page is one file that needs no network):
the distribution of totals, the pass rate of each autograded check (and the mean share of the points of each
written answer), the checks failed most often with the message the students saw, and the time the grader took
for each submission (``grading_state.json``'s ``seconds``, recorded by ``autograde`` for every graded student).

The messages are the clean check's (``results/<student>.json``) and may quote a student's exception, so every
text is escaped, the page body is then reduced to an allow-list by ``nh3`` (as :mod:`.render` does for the
feedback page), and the page's Content-Security-Policy forbids all script: only inline styles and ``data:``
images load.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nh3
import numpy as np

CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
TOP_FAILURES = 10
MAX_MESSAGE = 300
TAGS = {"h1", "h2", "p", "strong", "em", "code", "table", "thead", "tbody", "tr", "th", "td", "figure", "img",
        "figcaption", "ul", "li", "pre"}  # fmt: skip
ATTRIBUTES = {"img": {"src", "alt", "width"}, "*": {"class"}}
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 0 auto; padding: 1rem; color: #222; }
figure { margin: 1.5rem 0; } img { max-width: 100%; height: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; } td, th { padding: .25rem .5rem; border: 1px solid #ddd; vertical-align: top; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-size: .8rem; }
"""


@dataclass
class ClassStats:
    """What the page shows besides the grades: each failed check's messages, each submission's grading time."""

    messages: dict[tuple[str, str], Counter] = field(default_factory=dict)  # (notebook, grade_id) -> messages
    seconds: dict[str, float] = field(default_factory=dict)  # student -> seconds to grade


def collect_stats(root: Path, students: list[str]) -> ClassStats:
    """The failure messages (``results/``) and grading times (``grading_state.json``) of ``students``."""
    from .autograding import load_result, load_state

    stats = ClassStats()
    state = load_state(root)
    for student in students:
        entry = state.get(student, {})
        if isinstance(entry, dict) and isinstance(entry.get("seconds"), int | float):
            stats.seconds[student] = float(entry["seconds"])
        result = load_result(root, student)
        for cell in result.cells if result else []:
            if cell.score < cell.max_points:
                message = (cell.message or "(no message)").strip().splitlines()[0][:MAX_MESSAGE]
                stats.messages.setdefault((cell.notebook, cell.grade_id), Counter())[message] += 1
    return stats


def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float = 8.0, height: float = 3.5):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def totals_figure(data) -> str:
    """Histogram of the students' totals (after late penalties), the maximum marked."""
    figure, axes = _figure()
    totals = [data.final_total(s) for s in data.students]
    maximum = sum(c[3] for c in data.cells)
    axes.hist(totals, bins=np.linspace(0, max(maximum, 1.0), 21), color="#4c72b0", edgecolor="white", label="students")
    axes.axvline(maximum, color="#b42318", linestyle="--", label=f"maximum ({maximum:g})")
    axes.set(title="Distribution of totals", xlabel="total points (after late penalties)", ylabel="students")
    axes.legend()
    return _png(figure)


def pass_rates_figure(data) -> str:
    """Per question: the share of students with full marks (checks) or the mean share of points (answers)."""
    labels, rates, colours = [], [], []
    for notebook, grade_id, kind, max_score in data.cells:
        scores = [g.score for s in data.students if (g := data.grades[s].get((notebook, grade_id))) is not None]
        graded = [x for x in scores if x is not None]
        if not graded:
            continue
        if kind == "autograded":
            rates.append(sum(x >= max_score for x in graded) / len(graded))
        else:
            rates.append(float(np.mean(graded)) / max_score if max_score else 0.0)
        labels.append(f"{notebook[:2]}:{grade_id}")
        colours.append("#4c72b0" if kind == "autograded" else "#dd8452")
    figure, axes = _figure(8.0, max(3.0, 0.22 * len(labels) + 1.0))
    positions = np.arange(len(labels))
    axes.barh(positions, rates, color=colours)
    axes.set_yticks(positions, labels, fontsize=7)
    axes.invert_yaxis()
    axes.set(title="Per question", xlabel="share of students passing (checks) / mean share of points (answers)",
             ylabel="question", xlim=(0, 1))  # fmt: skip
    from matplotlib.patches import Patch

    axes.legend(handles=[Patch(color="#4c72b0", label="autograded check"), Patch(color="#dd8452", label="written")])
    return _png(figure)


def failures(data, stats: ClassStats) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """The autograded checks failed most often: (notebook:grade_id, students failing, [(message, count)])."""
    found = []
    for notebook, grade_id, kind, max_score in data.cells:
        if kind != "autograded":
            continue
        count = sum(
            1 for s in data.students if (g := data.grades[s].get((notebook, grade_id))) and (g.score or 0) < max_score
        )
        if count:
            messages = stats.messages.get((notebook, grade_id), Counter()).most_common(3)
            found.append((f"{notebook}:{grade_id}", count, messages))
    return sorted(found, key=lambda item: (-item[1], item[0]))[:TOP_FAILURES]


def failures_figure(top: list) -> str:
    figure, axes = _figure(8.0, max(2.5, 0.35 * len(top) + 1.0))
    positions = np.arange(len(top))
    axes.barh(positions, [count for _, count, _ in top], color="#b42318", label="students failing")
    axes.set_yticks(positions, [name for name, _, _ in top], fontsize=7)
    axes.invert_yaxis()
    axes.set(title="Checks failed most often", xlabel="students failing the check", ylabel="check")
    axes.legend()
    return _png(figure)


def timing_figure(stats: ClassStats) -> str:
    figure, axes = _figure()
    students = sorted(stats.seconds, key=lambda s: -stats.seconds[s])
    axes.bar(range(len(students)), [stats.seconds[s] for s in students], color="#55a868", label="one submission")
    axes.set_xticks(range(len(students)), students, rotation=60, ha="right", fontsize=7)
    axes.set(title="Time to grade each submission", xlabel="student", ylabel="seconds (kernel stage + clean check)")
    axes.legend()
    return _png(figure)


def render_summary(data, stats: ClassStats) -> str:
    """The page (a complete HTML document; see the module docstring)."""
    esc = html.escape
    maximum = sum(c[3] for c in data.cells)
    totals = [data.final_total(s) for s in data.students]
    parts = [
        f"<h1>Grade summary: {len(data.students)} students</h1>",
        "<p>"
        + (
            f"Total out of {maximum:g}: mean {np.mean(totals):.2f}, median {np.median(totals):g}, "
            f"min {min(totals):g}, max {max(totals):g}."
            if totals
            else "No graded student yet."
        )
        + "</p>",
    ]
    from .export import late_line, pending_line

    parts.append(f"<p>{esc(pending_line(data))}</p><p>{esc(late_line(data))}</p>")
    if not totals:
        return _page(parts)
    parts.append(f"<figure><img alt='distribution of totals' src='{totals_figure(data)}'></figure>")
    parts.append(f"<figure><img alt='pass rate per question' src='{pass_rates_figure(data)}'></figure>")
    top = failures(data, stats)
    parts.append("<h2>Checks failed most often, with the message students saw</h2>")
    if top:
        parts.append(f"<figure><img alt='checks failed most often' src='{failures_figure(top)}'></figure>")
        rows = "".join(
            f"<tr><td><code>{esc(name)}</code></td><td>{count}</td><td>"
            + "".join(f"<pre>{esc(message)} ({n}x)</pre>" for message, n in messages)
            + "</td></tr>"
            for name, count, messages in top
        )
        parts.append(
            "<table><thead><tr><th>check</th><th>students failing</th><th>messages (how many saw each)</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )
    else:
        parts.append("<p>No check failed.</p>")
    parts.append("<h2>Time to grade</h2>")
    if stats.seconds:
        values = list(stats.seconds.values())
        parts.append(
            f"<p>{len(values)} submissions: mean {np.mean(values):.1f} s, slowest {max(values):.1f} s.</p>"
            f"<figure><img alt='time to grade each submission' src='{timing_figure(stats)}'></figure>"
        )
    else:
        parts.append("<p>No grading time recorded.</p>")
    return _page(parts)


def _page(parts: list[str]) -> str:
    body = nh3.clean(
        "\n".join(parts), tags=TAGS, attributes=ATTRIBUTES, url_schemes={"data"}, link_rel=None, strip_comments=True
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CONTENT_SECURITY_POLICY}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Grade summary</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def write_summary(root: Path, data, path: Path | None = None) -> Path:
    """Write the page for the class ``data`` of the course folder ``root`` (default ``grades_summary.html``)."""
    target = path or root / "grades_summary.html"
    target.write_text(render_summary(data, collect_stats(root, data.students)), encoding="utf-8")
    return target
