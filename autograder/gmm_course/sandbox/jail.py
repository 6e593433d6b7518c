"""Run student code in a jail: a private, read-only view of the machine.

Inside the jail a process sees only the operating system, the Python installation
and this project's virtual environment (all read-only), a private ``/proc`` and one
writable folder of its own (``TMPDIR`` should point inside it: ``/tmp`` is read-only).
The repository (reference solution, source notebooks, hidden tests), the gradebook and every other student's files are
simply not there. With ``network=False`` it has no network at all (a kernel talks to its
client over unix sockets in its own folder), and always no capabilities, a memory limit
and a file-size limit.

Built from Linux user, mount, PID (and network) namespaces with the util-linux tools
``unshare`` and ``setpriv``, so it needs no privileges; where the kernel forbids
unprivileged user namespaces, :func:`jail_available` is false and the grader says so
in its report (see README, "Trust model").
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_MEMORY_LIMIT_MB = 3072
DEFAULT_FILE_SIZE_LIMIT_MB = 64

# $1 = own folder, $2 = memory limit (KiB), $3 = file-size limit (KiB), $4 = colon-separated
# read-only folders; the command follows "--".
_SCRIPT = r"""
set -eu
own=$1; mem=$2; fsize=$3; readonly_dirs=$4; shift 5
root=$(mktemp -d /tmp/gmm-jail.XXXXXX)
mount -t tmpfs -o size=16m,mode=755 tmpfs "$root"
# The private /tmp first: what is bound below may live under /tmp (a checkout there, its venv, the scratch folder).
mkdir -p "$root/tmp"
mount -t tmpfs -o size=256m,mode=1777 tmpfs "$root/tmp"
IFS=:
for p in $readonly_dirs; do
  [ -e "$p" ] || continue
  mkdir -p "$root$p"
  mount --rbind "$p" "$root$p"
  mount -o remount,bind,ro "$root$p"
done
unset IFS
mkdir -p "$root/dev" "$root/proc"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
mkdir -p "$root$own"
mount --bind "$own" "$root$own"
mkdir "$root/.old"
# Only the own folder stays writable: the new root and /tmp become read-only.
mount -o remount,ro "$root/tmp"
mount -o remount,ro "$root"
cd "$root"
pivot_root . .old
umount -l /.old
cd "$own"
ulimit -v "$mem"
ulimit -f "$fsize"
exec setpriv --no-new-privs --bounding-set=-all --inh-caps=-all -- "$@"
"""

SYSTEM_DIRS = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc")


def python_dirs() -> list[str]:
    """The folders this interpreter and its environment live in (made visible, read-only)."""
    dirs = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix}
    return sorted(d for d in dirs if not any(d.startswith(s + "/") for s in SYSTEM_DIRS))


def jail_command(
    own_dir: Path,
    command: list[str],
    *,
    network: bool = False,
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB,
    file_size_limit_mb: int = DEFAULT_FILE_SIZE_LIMIT_MB,
    extra_readonly: tuple[str, ...] = (),
) -> list[str]:
    """The argv that runs ``command`` in a jail whose only writable folder is ``own_dir``."""
    readonly = [*SYSTEM_DIRS, *python_dirs(), *extra_readonly]
    namespaces = ["--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child"]
    if not network:
        namespaces.append("--net")
    return [
        "unshare",
        *namespaces,
        "--",
        "/bin/sh",
        "-c",
        _SCRIPT,
        "gmm-jail",
        str(Path(own_dir).resolve()),
        str(memory_limit_mb * 1024),
        str(file_size_limit_mb * 1024),
        ":".join(readonly),
        "--",
        *command,
    ]


@functools.cache
def jail_available() -> bool:
    """True if this machine lets an unprivileged process build the jail (probed once)."""
    if shutil.which("unshare") is None or shutil.which("setpriv") is None:
        return False
    with tempfile.TemporaryDirectory(prefix="gmm-jail-probe-") as probe:
        try:
            result = subprocess.run(
                jail_command(Path(probe), ["/bin/sh", "-c", "echo ok"]), capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
    return result.returncode == 0 and result.stdout.strip() == "ok"


def die_with_parent() -> None:
    """``preexec_fn``: the child is killed when the process that started it dies (Linux).

    A grader killed mid-class (Ctrl-C, SIGKILL, a lost Dask worker) must not leave
    student code running: the jail's ``unshare`` gets SIGKILL, and ``--kill-child``
    passes it on to everything inside.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def maybe_jailed(own_dir: Path, command: list[str], *, use_jail: bool, **options) -> list[str]:
    """``jail_command(...)`` when jailing, else ``command`` itself (the report records which)."""
    return jail_command(own_dir, command, **options) if use_jail else command
