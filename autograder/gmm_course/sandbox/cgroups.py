"""Whole-jail limits: one control group per jail caps the memory and the number of tasks of all its processes.

A per-process limit (``RLIMIT_AS``) lets five children of one submission use five times the memory
limit, and nothing per process stops a fork bomb. A control group counts every process of the jail
together: the jail's first process joins the group (see ``_SCRIPT`` in :mod:`.jail`) before anything
else runs, and everything it starts is counted and limited with it.

Where control groups can be used:

* **cgroup v2**, when the grader's own cgroup lets it create children with the ``memory`` and ``pids``
  controllers (they are in its ``cgroup.subtree_control``, or can be put there);
* else **cgroup v1**, the ``memory`` and ``pids`` hierarchies each where mounted and writable (as root,
  typically), a child of the grader's own group in each;
* else no group: :mod:`.jail` falls back to per-process limits (``RLIMIT_AS`` for memory,
  ``RLIMIT_NPROC`` for processes) and :func:`limits_description` says so.

Each group records what it had to refuse (v1: ``memory.failcnt``, ``oom_kill`` in ``memory.oom_control``,
``pids.events``; v2: ``memory.events``, ``pids.events``); :meth:`JailCgroup.close` turns them into report
lines once the jail has ended, and removes the group.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

_NAMES = itertools.count()


@dataclass(frozen=True)
class _Support:
    """Where this machine lets the grader make jail cgroups: parent folders by controller."""

    version: int  # 2, 1, or 0 (none)
    parents: dict[str, Path] = field(default_factory=dict)  # "memory"/"pids" -> the grader's own group folder


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, file system type, super options) of every mount of this process."""
    mounts = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if len(fields) >= 5 and len(tail) >= 3:
                mounts.append((fields[4].replace("\\040", " "), tail[0], set(tail[2].split(","))))
    return mounts


def _own_groups() -> dict[str, str]:
    """This process's cgroup path by controller ("" for the v2 hierarchy), from ``/proc/self/cgroup``."""
    groups = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup", encoding="utf-8") as handle:
        for line in handle:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                groups[controller] = path
    return groups


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def _v2_parent(mounts, groups) -> Path | None:
    if "" not in groups:
        return None
    for point, fstype, _ in mounts:
        if fstype != "cgroup2":
            continue
        parent = Path(point + groups[""])
        try:
            controllers = set((parent / "cgroup.controllers").read_text().split())
            enabled = set((parent / "cgroup.subtree_control").read_text().split())
        except OSError:
            continue
        if not {"memory", "pids"} <= controllers or not _writable_dir(parent):
            continue
        if not {"memory", "pids"} <= enabled:
            try:  # refused (EBUSY) when the grader's own group holds processes and is not the root
                (parent / "cgroup.subtree_control").write_text("+memory +pids")
            except OSError:
                continue
        return parent
    return None


@functools.cache
def _support() -> _Support:
    """Probe once which cgroup version the jail can use (see the module docstring)."""
    mounts, groups = _mounts(), _own_groups()
    parent = _v2_parent(mounts, groups)
    if parent is not None:
        return _Support(2, {"memory": parent, "pids": parent})
    parents = {}
    for controller in ("memory", "pids"):
        for point, fstype, options in mounts:
            if fstype == "cgroup" and controller in options and controller in groups:
                folder = Path(point + groups[controller])
                if _writable_dir(folder) and (folder / "cgroup.procs").exists():
                    parents[controller] = folder
                    break
    return _Support(1 if parents else 0, parents)


def limits_description(memory: bool = True, processes: bool = True) -> str:
    """How the jail limits memory and processes on this machine, for the report and the README."""
    support = _support()
    parts = []
    if memory:
        how = f"cgroup v{support.version}" if "memory" in support.parents else "per process (RLIMIT_AS)"
        parts.append(f"memory: {how}")
    if processes:
        how = f"cgroup v{support.version}" if "pids" in support.parents else "per process (RLIMIT_NPROC)"
        parts.append(f"processes: {how}")
    return ", ".join(parts)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _counter(text: str, key: str) -> int:
    """The number after ``key`` in a flat-keyed cgroup file ("oom_kill 2\\nmax 0\\n")."""
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


class JailCgroup:
    """The control group(s) of one jail: made with their limits before it starts, closed after it ended."""

    def __init__(self, folders: dict[str, Path], version: int, memory_limit_mb: int, process_limit: int):
        self.folders = folders  # controller -> group folder (one folder for both in v2)
        self.version = version
        self.memory_limit_mb = memory_limit_mb
        self.process_limit = process_limit
        self.events: list[str] = []
        self.closed = False
        self.created = time.monotonic()
        self.owner = os.getpid()  # a forked child inherits the object, not the jail

    def age(self) -> float:
        """Seconds since the group was made."""
        return time.monotonic() - self.created

    def empty(self) -> bool:
        """True when no process is in the group (its jail has ended, or not started)."""
        return not self._pids()

    @property
    def limits_memory(self) -> bool:
        return "memory" in self.folders

    @property
    def limits_processes(self) -> bool:
        return "pids" in self.folders

    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files the jail's first process writes ``0`` to, to join its group(s)."""
        return sorted({str(folder / "cgroup.procs") for folder in self.folders.values()})

    def _pids(self) -> set[int]:
        pids = set()
        for folder in set(self.folders.values()):
            pids |= {int(p) for p in _read(folder / "cgroup.procs").split() if p.isdigit()}
        return pids

    def limit_events(self) -> list[str]:
        """Report lines for each limit the jail reached so far (empty if none)."""
        lines = []
        memory, pids = self.folders.get("memory"), self.folders.get("pids")
        if memory is not None:
            if self.version == 2:
                events = _read(memory / "memory.events")
                reached, killed = _counter(events, "max"), _counter(events, "oom_kill")
            else:
                reached = int(_read(memory / "memory.failcnt").strip() or 0)
                killed = _counter(_read(memory / "memory.oom_control"), "oom_kill")
            limit = f"its memory limit ({self.memory_limit_mb} MiB for all its processes together)"
            if killed:
                lines.append(f"the jail reached {limit}: {killed} of its processes killed (out of memory)")
            elif reached:
                lines.append(f"the jail reached {limit} {reached} times")
        if pids is not None:
            refused = _counter(_read(pids / "pids.events"), "max")
            if refused:
                lines.append(
                    f"the jail reached its process limit ({self.process_limit} processes and threads): "
                    f"{refused} new ones refused"
                )
        return lines

    def close(self) -> list[str]:
        """Kill whatever is left in the group, remove it, and return its :meth:`limit_events` (once)."""
        if self.closed:
            return []
        self.events = self.limit_events()
        for _ in range(50):  # the jail's last tasks leave their group a moment after its first process is reaped
            for pid in self._pids():
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            for folder in set(self.folders.values()):
                with contextlib.suppress(FileNotFoundError):
                    try:
                        folder.rmdir()
                    except OSError:
                        continue
            if not any(folder.exists() for folder in self.folders.values()):
                break
            time.sleep(0.01)
        self.closed = not any(folder.exists() for folder in self.folders.values())
        return self.events


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_orphans() -> int:
    """Remove the empty jail groups of grader processes that have ended; returns how many.

    A grader process that ends without ``atexit`` (a pool worker's ``os._exit``, a kill) cannot remove the
    groups of its jails, which have ended with it (they die with their parent). Each new group sweeps them.
    """
    removed = 0
    for parent in set(_support().parents.values()):
        try:
            children = [child for child in parent.iterdir() if child.name.startswith("gmm-jail-")]
        except OSError:
            continue
        for child in children:
            owner = child.name.split("-")[2]
            if owner.isdigit() and not _alive(int(owner)):
                with contextlib.suppress(OSError):  # not empty (a jail still running): left alone
                    child.rmdir()
                    removed += 1
    return removed


def create_cgroup(memory_limit_mb: int, process_limit: int) -> JailCgroup | None:
    """A new, empty group with these limits for one jail, or None where cgroups cannot be used here."""
    support = _support()
    if not support.parents:
        return None
    remove_orphans()
    name = f"gmm-jail-{os.getpid()}-{next(_NAMES)}"
    folders: dict[str, Path] = {}
    try:
        for controller, parent in support.parents.items():
            folder = parent / name
            if folder not in folders.values():
                folder.mkdir()
            folders[controller] = folder
        memory, pids = folders.get("memory"), folders.get("pids")
        limit = str(memory_limit_mb * 1024 * 1024)
        if memory is not None and support.version == 2:
            (memory / "memory.max").write_text(limit)
            with contextlib.suppress(OSError):
                (memory / "memory.swap.max").write_text("0")
        elif memory is not None:
            (memory / "memory.limit_in_bytes").write_text(limit)
            with contextlib.suppress(OSError):  # only with swap accounting
                (memory / "memory.memsw.limit_in_bytes").write_text(limit)
        if pids is not None:
            (pids / "pids.max").write_text(str(process_limit))
    except OSError:
        for folder in set(folders.values()):
            with contextlib.suppress(OSError):
                folder.rmdir()
        return None
    return JailCgroup(folders, support.version, memory_limit_mb, process_limit)
