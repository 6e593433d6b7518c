"""Run student code in a jail: a private, read-only view of the machine that keeps nothing.

Inside the jail a process sees only the operating system, the Python installation and this
project's virtual environment (all read-only), a private ``/proc``, a private ``/dev`` with a
few harmless devices (``null``, ``zero``, ``full``, ``random``, ``urandom``), and one writable
disk of its own: a size-limited tmpfs that holds its own folder (which starts as a *copy* of
``own_dir``), ``/tmp`` and ``/dev/shm``. What it writes never reaches the host and is gone when
the jail ends. The repository (reference solution, source notebooks, hidden tests), the gradebook
and every other student's files are simply not there. With ``network=False`` it has no network at
all: a kernel's unix sockets live in a folder on the jail's own disk, which the host reaches as
``/proc/<kernel pid>/root/...`` through a link the jail makes in ``own_dir``.

Limits: memory and processes (threads included) for the whole jail through a control group
where the machine allows it (:mod:`.cgroups`; else per process: ``RLIMIT_AS``, ``RLIMIT_NPROC``),
and always ``RLIMIT_AS`` and ``RLIMIT_FSIZE`` per process; no capabilities, no new privileges.

Built with the util-linux tools ``unshare`` and ``setpriv`` from mount, PID (and network)
namespaces. An unprivileged grader adds a user namespace in which it is root (outside, the jail
has only the grader's own rights). A grader running as root builds the jail with its real
privileges and runs student code as :data:`JAIL_UID` (``nobody``): in a user namespace, the
jail's root would be the host's root and read root-only files such as ``/etc/shadow``. Where
neither works, :func:`jail_available` is false and the grader says so in its report (see
README, "Trust model").
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .cgroups import JailCgroup, create_cgroup

DEFAULT_MEMORY_LIMIT_MB = 3072
DEFAULT_FILE_SIZE_LIMIT_MB = 64
#: The jail's one writable disk, a tmpfs shared by its own folder, ``/tmp`` and ``/dev/shm`` (all files together).
DEFAULT_SCRATCH_LIMIT_MB = 256
#: Processes *and threads* of the whole jail (a kernel alone runs about ten threads).
DEFAULT_PROCESS_LIMIT = 128
#: When the grader runs as root, student code runs as this user (``nobody``): it cannot read root-only files.
JAIL_UID = 65534
#: The devices the jail's ``/dev`` holds (bound from the host's, one by one); nothing else is there.
JAIL_DEVICES = ("null", "zero", "full", "random", "urandom")

# $1 own folder, $2 memory limit (KiB, per process), $3 file-size limit (512-byte blocks, as sh's ulimit counts),
# $4 colon-separated read-only folders, $5 scratch size (KiB), $6 colon-separated cgroup.procs files to join,
# $7 process limit per process (RLIMIT_NPROC; empty when a cgroup limits processes), $8 "uid:gid" to run as
# (empty: stay), $9 name of the kernel's socket folder (empty: none); the command follows "--".
_SCRIPT = r"""
set -eu
# The system's tools for building the jail, whatever PATH the jailed program is given.
program_path=${PATH:-/usr/bin:/bin}
PATH=/usr/sbin:/usr/bin:/sbin:/bin
own=$1; mem=$2; fsize=$3; readonly_dirs=$4; scratch=$5; cgroups=$6; nproc=$7; user=$8; sockets=$9; shift 10
# Join the jail's control groups before anything else runs: all its processes are limited together.
IFS=:
for procs in $cgroups; do echo 0 > "$procs"; done
unset IFS
# Our pid on the host (this /proc is still the host's): the jailed program keeps it, and its /proc/PID/root is
# how the host reaches the kernel's sockets.
read -r hostpid _ < /proc/self/stat
# The jail's one writable disk, size-limited, is mounted over the own folder itself (a private mount: the host
# sees nothing of it, and no mount point is made anywhere); the host's folder stays reachable as ".".
cd "$own"
mount -t tmpfs -o "size=${scratch}k,mode=755" gmm-scratch "$own"
scratch_dir=$own
mkdir "$scratch_dir/own" "$scratch_dir/root"
mkdir -m 1777 "$scratch_dir/tmp" "$scratch_dir/shm"
# The own folder starts as a copy of the host's: what the jail writes never reaches the host.
cp -a . "$scratch_dir/own/"
if [ -n "$sockets" ]; then
  rm -rf "$scratch_dir/own/$sockets"
  mkdir -m 700 "$scratch_dir/own/$sockets"
  ln -sfn "/proc/$hostpid/root$own/$sockets" "./$sockets"
fi
[ -z "$user" ] || chown -R "$user" "$scratch_dir/own"
root=$scratch_dir/root
mount -t tmpfs -o size=16m,mode=755 gmm-root "$root"
# /tmp first: what is bound below may live under /tmp (a checkout there, its venv).
targets="$root/tmp:$root/dev:$root/proc:$root$own:$root/.old"
mkdir "$root/tmp"
mount --bind "$scratch_dir/tmp" "$root/tmp"
IFS=:
present=
for p in $readonly_dirs; do
  if [ -e "$p" ]; then present="$present:$p"; targets="$targets:$root$p"; fi
done
mkdir -p $targets
for p in $present; do
  if [ -n "$p" ]; then mount --rbind -o ro "$p" "$root$p"; fi
done
unset IFS
# A private /dev: a few harmless devices, the usual links, and /dev/shm on the jail's scratch disk.
mount -t tmpfs -o size=64k,mode=755 gmm-dev "$root/dev"
for device in $JAIL_DEVICES; do
  : > "$root/dev/$device"
  mount --bind "/dev/$device" "$root/dev/$device"
done
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mkdir "$root/dev/shm"
mount --bind "$scratch_dir/shm" "$root/dev/shm"
mount -o remount,ro "$root/dev"
mount -t proc proc "$root/proc"
mount --bind "$scratch_dir/own" "$root$own"
mount -o remount,ro "$root"
cd "$root"
pivot_root . .old
umount -l /.old
cd "$own"
ulimit -v "$mem"
ulimit -f "$fsize"
[ -z "$nproc" ] || ulimit -p "$nproc"
PATH=$program_path
unset PWD OLDPWD
if [ -n "$user" ]; then
  # Changing the uid clears the parent-death signal unshare set (--kill-child): set it again, after the change,
  # or a grader killed mid-class would leave student code running.
  exec setpriv --reuid="${user%:*}" --regid="${user#*:}" --clear-groups --pdeathsig KILL \
    --no-new-privs --bounding-set=-all --inh-caps=-all -- "$@"
fi
exec setpriv --pdeathsig KILL --no-new-privs --bounding-set=-all --inh-caps=-all -- "$@"
""".replace("$JAIL_DEVICES", " ".join(JAIL_DEVICES))

SYSTEM_DIRS = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc")

_CGROUPS: dict[str, list[JailCgroup]] = {}
_CGROUPS_LOCK = threading.Lock()


def python_dirs() -> list[str]:
    """The folders this interpreter and its environment live in (made visible, read-only)."""
    dirs = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix}
    return sorted(d for d in dirs if not any(d.startswith(s + "/") for s in SYSTEM_DIRS))


def runs_as_root() -> bool:
    """True when the grader is root: the jail is then built without a user namespace and student code runs as
    :data:`JAIL_UID` (a user namespace would map the jail's root to the host's root, who reads every file)."""
    return os.geteuid() == 0


def jail_command(
    own_dir: Path,
    command: list[str],
    *,
    network: bool = False,
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB,
    file_size_limit_mb: int = DEFAULT_FILE_SIZE_LIMIT_MB,
    scratch_limit_mb: int = DEFAULT_SCRATCH_LIMIT_MB,
    process_limit: int = DEFAULT_PROCESS_LIMIT,
    extra_readonly: tuple[str, ...] = (),
    socket_folder: str = "",
) -> list[str]:
    """The argv that runs ``command`` in a jail whose own folder starts as a copy of ``own_dir``.

    Each call makes a new control group for the jail where the machine allows it (see :mod:`.cgroups`);
    :func:`jail_limit_events` removes it once the jail has ended and says which limits it reached.
    ``socket_folder`` (a name inside ``own_dir``) is made in the jail for a kernel's unix sockets, and
    ``own_dir/socket_folder`` on the host becomes a link to it.
    """
    own = str(Path(own_dir).resolve())
    readonly = [*SYSTEM_DIRS, *python_dirs(), *extra_readonly]
    cgroup = create_cgroup(memory_limit_mb, process_limit)
    if cgroup is not None:
        _sweep_cgroups()
        with _CGROUPS_LOCK:
            _CGROUPS.setdefault(own, []).append(cgroup)
    if runs_as_root():  # mounts as the real root, then student code as nobody
        namespaces = ["--mount", "--pid", "--fork", "--kill-child"]
        user = f"{JAIL_UID}:{JAIL_UID}"
    else:  # an unprivileged grader: its user namespace, where it is root (and, outside, only itself)
        namespaces = ["--user", "--map-root-user", "--mount", "--pid", "--fork", "--kill-child"]
        user = ""
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
        own,
        str(memory_limit_mb * 1024),
        str(file_size_limit_mb * 2048),  # sh's ulimit -f counts 512-byte blocks
        ":".join(readonly),
        str(scratch_limit_mb * 1024),
        ":".join(cgroup.procs_files() if cgroup is not None else []),
        "" if cgroup is not None and cgroup.limits_processes else str(process_limit),
        user,
        socket_folder,
        "--",
        *command,
    ]


def jail_limit_events(own_dir: Path) -> list[str]:
    """Report lines for the limits that the jails of ``own_dir`` reached; call it once they have ended.

    Removes their control groups (killing anything still in them) and forgets them: each line is
    returned once. Empty where no limit was reached, or where no cgroup was used (per-process limits
    leave no record: a process that hits them gets an error or a signal, which its caller reports).
    """
    with _CGROUPS_LOCK:
        cgroups = _CGROUPS.pop(str(Path(own_dir).resolve()), [])
    events: list[str] = []
    for cgroup in cgroups:
        events += [line for line in cgroup.close() if line not in events]
    return events


def _sweep_cgroups(min_age: float = 60.0) -> None:
    """Remove the groups of jails that ended without :func:`jail_limit_events` (their lines are kept for it)."""
    with _CGROUPS_LOCK:
        old = [c for cgroups in _CGROUPS.values() for c in cgroups if not c.closed and c.age() > min_age]
        old = [c for c in old if c.owner == os.getpid()]
    for cgroup in old:
        if cgroup.empty():
            cgroup.close()


@atexit.register
def _remove_all_cgroups() -> None:
    """At exit, end the jails this process started and remove their groups (not those of a parent we forked
    from: it inherited the registry, not the jails)."""
    with _CGROUPS_LOCK:
        cgroups = [c for cgroups in _CGROUPS.values() for c in cgroups if c.owner == os.getpid()]
        _CGROUPS.clear()
    for cgroup in cgroups:
        cgroup.close()


@functools.cache
def jail_available() -> bool:
    """True if this machine lets the grader build the jail (probed once).

    An unprivileged grader needs unprivileged user namespaces; root needs mount and PID namespaces.
    """
    if shutil.which("unshare") is None or shutil.which("setpriv") is None:
        return False
    with tempfile.TemporaryDirectory(prefix="gmm-jail-probe-") as probe:
        try:
            result = subprocess.run(
                jail_command(Path(probe), ["/bin/sh", "-c", "echo ok"]), capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        finally:
            jail_limit_events(Path(probe))
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
