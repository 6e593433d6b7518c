"""Hand grading in nbgrader's Formgrader, on the right course folder (``gmm-course formgrader``).

The Formgrader (nbgrader's JupyterLab extension) shows the course whose
``nbgrader_config.py`` sits in the folder JupyterLab is started in. This module writes
that file into a course folder (the course's configuration, see ``config.py``, with its
root and gradebook) and starts JupyterLab there, listening on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

CONFIG_NAME = "nbgrader_config.py"
GRADEBOOK = "gradebook.db"


def course_problem(root: Path, db_url: str | None = None) -> str:
    """Why ``root`` is not a course folder ("" when it is one): no such folder, or neither gradebook nor submissions.

    A course folder holds ``submitted/`` (made by ``gmm-course import``) or, with the default SQLite gradebook,
    ``gradebook.db``. The message names the folder and, when a course lies one level below it (``make demo`` puts
    its class in ``.grading/demo``), suggests that folder.
    """
    if not root.exists():
        return f"{root}: no such folder; give the course folder with --work-dir"
    if not root.is_dir():
        return f"{root} is a file, not a course folder; give the course folder with --work-dir"
    if (root / "submitted").is_dir() or (db_url is None and (root / GRADEBOOK).is_file()):
        return ""
    inside = sorted(
        p for p in root.iterdir() if p.is_dir() and ((p / "submitted").is_dir() or (p / GRADEBOOK).is_file())
    )
    hint = f" (a course is in {inside[0]}: try --work-dir {inside[0]})" if inside else ""
    what = "no submitted/ folder" if db_url else f"no {GRADEBOOK} and no submitted/ folder"
    return (
        f"{root} holds no course ({what}){hint}; import submissions with `gmm-course import EXPORT --work-dir "
        f"{root}` or give the course folder with --work-dir"
    )


def config_text(root: Path, db_url: str | None = None) -> str:
    """The ``nbgrader_config.py`` of the course folder ``root``: the course's configuration, its gradebook."""
    return (
        '"""nbgrader configuration of this course folder, written by `gmm-course formgrader`."""\n\n'
        "from pathlib import Path\n\n"
        "from gmm_course.config import nbgrader_config\n\n"
        "c = get_config()  # noqa: F821 (provided by traitlets when Jupyter loads this file)\n"
        f"c.merge(nbgrader_config(Path(__file__).resolve().parent, db_url={db_url!r}))\n"
    )


def write_config(root: Path, db_url: str | None = None) -> Path:
    """Write ``root/nbgrader_config.py`` for the course folder ``root``; return its path."""
    path = root / CONFIG_NAME
    path.write_text(config_text(root, db_url), encoding="utf-8")
    return path


def lab_command(port: int | None = None) -> list[str]:
    """The command that starts JupyterLab (with the Formgrader) of this environment, on 127.0.0.1, no browser.

    ``port``: the port, and no other (default: JupyterLab's choice, 8888 or the next free one).
    """
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1"]
    if os.geteuid() == 0:  # a container's root: Jupyter refuses to start without being told
        command.append("--ServerApp.allow_root=True")
    return command + ([f"--ServerApp.port={port}", "--ServerApp.port_retries=0"] if port else [])


def start_formgrader(root: Path, db_url: str | None = None, port: int | None = None, start: bool = True) -> int:
    """Write the course folder's configuration and start JupyterLab there (replacing this process).

    With ``start=False``, only write the configuration and print the command that starts JupyterLab. Raises
    ``ValueError`` when ``root`` holds no course (see :func:`course_problem`).
    """
    root = root.resolve()
    problem = course_problem(root, db_url)
    if problem:
        raise ValueError(problem)
    config = write_config(root, db_url)
    command = lab_command(port)
    print(f"wrote {config}")
    print(f"start JupyterLab there: cd {shlex.quote(str(root))} && {shlex.join(command)}")
    print("then open the Formgrader: the URL JupyterLab prints, then Nbgrader > Formgrader (or /formgrader)")
    if not start:
        return 0
    sys.stdout.flush()
    os.chdir(root)
    os.execv(command[0], command)  # Ctrl-C or a signal reaches JupyterLab itself
