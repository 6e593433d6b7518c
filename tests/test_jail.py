"""The jail's guarantees, each tested on its own (issue 11, properties 2, 3, 5 and 12).

Nothing a jailed run writes survives it (its own folder, ``/tmp``, ``/dev/shm``); its ``/dev`` holds a few
harmless devices; student code gets none of the grader's environment and, when the grader is root, cannot
read root-only files; memory and processes are limited for the whole jail, disk for all its files together,
and the file-size limit is the one asked for; a jail leaves nothing in the host's ``/tmp``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from gmm_course.environment import PASS_THROUGH_ENV, SINGLE_THREAD_ENV, student_environment
from gmm_course.kernel_stage import run_kernel_stage
from gmm_course.sandbox import cgroups
from gmm_course.sandbox.jail import (
    DEFAULT_PROCESS_LIMIT,
    DEFAULT_SCRATCH_LIMIT_MB,
    jail_available,
    jail_command,
    jail_limit_events,
)
from gmm_course.sandbox.remote import StudentSession

from .notebook_factory import graded_notebook

pytestmark = pytest.mark.slow

SECRET = "hunter2-secret-value"
#: What student code may find in its environment: the allow-list; in a kernel also what jupyter_client's launcher
#: adds (the grader's pid) and what ipykernel (zmqshell's ``init_environment``) and debugpy set in the kernel.
ALLOWED_ENV = {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", *SINGLE_THREAD_ENV, *PASS_THROUGH_ENV}
IPYKERNEL_ENV = {"JPY_PARENT_PID", "TERM", "CLICOLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "PAGER", "GIT_PAGER"}
IPYKERNEL_ENV.add("PYDEVD_USE_FRAME_EVAL")


@pytest.fixture(autouse=True)
def _jail_required():
    if not jail_available():
        pytest.skip("this machine cannot build the jail (no user namespaces, or no mount namespaces as root)")


def _jailed(own: Path, script: str, **options) -> subprocess.CompletedProcess[str]:
    """Run the Python ``script`` in a jail whose own folder is ``own``; its stdout, stderr and exit code."""
    (own / ".tmp").mkdir(parents=True, exist_ok=True)  # TMPDIR, as the kernel stage and the student process make it
    command = jail_command(own, [sys.executable, "-I", "-S", "-c", textwrap.dedent(script)], **options)
    env = student_environment(own)
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=own, env=env)


# -- property 2: nothing persists or is shared between submissions


def test_nothing_a_jail_writes_is_seen_by_the_next_jail_or_by_the_host(tmp_path):
    marker = f"gmm-test-left-behind-{uuid.uuid4().hex}"
    own = tmp_path / "own"
    write = f"""
        import os
        for folder in ("/dev/shm", "/tmp", os.getcwd(), os.environ["HOME"], os.environ["TMPDIR"]):
            try:
                with open(os.path.join(folder, "{marker}"), "w") as handle:
                    handle.write("hidden test inputs")
                print(folder)
            except OSError:
                pass
    """
    first = _jailed(own, write)
    assert first.returncode == 0, first.stderr
    assert "/dev/shm" in first.stdout.split() and str(own) in first.stdout.split(), "could not write there"
    look = f"""
        import os
        print([f for f in ("/dev/shm", "/tmp", ".", ".tmp") if os.path.exists(os.path.join(f, "{marker}"))])
    """
    second = _jailed(own, look)
    try:
        assert (second.returncode, second.stdout.strip()) == (0, "[]"), second.stderr
        assert sorted(p.relative_to(own).as_posix() for p in own.rglob("*")) == [".tmp"], "the jail wrote to the host"
        assert not Path("/dev/shm", marker).exists() and not Path("/tmp", marker).exists()
    finally:  # what a jail without the fix leaves on the host
        Path("/dev/shm", marker).unlink(missing_ok=True)


def test_a_kernel_leaves_nothing_for_the_next_notebook(tmp_path):
    """A kernel that plants files in its folder (IPython start-up files, a module shadowing the launcher) and in
    /dev/shm: the next notebook's kernel, in the same folder, finds none of them."""
    plant = (
        "import os\n"
        "os.makedirs('.ipython/profile_default/startup', exist_ok=True)\n"
        "open('.ipython/profile_default/startup/00-planted.py', 'w').write('PLANTED = 1')\n"
        "open('ipykernel_launcher.py', 'w').write('raise SystemExit(7)')\n"
        "open('/dev/shm/planted', 'w').write('x')"
    )
    look = (
        "import os\n"
        "found = [p for p in ('ipykernel_launcher.py', '/dev/shm/planted') if os.path.exists(p)]\n"
        "print(found, 'PLANTED' in globals())"
    )
    own = tmp_path / "kernel"
    own.mkdir()
    nb, _, events, _ = run_kernel_stage(
        graded_notebook(plant), own, cell_timeout=30, use_jail=True, memory_limit_mb=2048
    )
    assert events == [] and not any(o.output_type == "error" for o in nb.cells[0].outputs), nb.cells[0].outputs
    nb, _, events, _ = run_kernel_stage(
        graded_notebook(look), own, cell_timeout=30, use_jail=True, memory_limit_mb=2048
    )
    assert events == []
    assert [o.get("text") for o in nb.cells[0].outputs] == ["[] False\n"]
    assert sorted(p.name for p in own.iterdir()) == [".tmp"]


def test_dev_holds_only_a_few_harmless_devices(tmp_path):
    run = _jailed(
        tmp_path / "own",
        """
        import os, stat
        for name in sorted(os.listdir("/dev")):
            mode = os.lstat("/dev/" + name).st_mode
            kinds = [("link", stat.S_ISLNK), ("dir", stat.S_ISDIR), ("char", stat.S_ISCHR), ("?", bool)]
            print(name, next(kind for kind, test in kinds if test(mode)))
        open("/dev/null", "w").write("x")
        print(len(open("/dev/urandom", "rb").read(8)))
        try:
            open("/dev/new-file", "w")
        except OSError as error:
            print("refused", error.errno)
        """,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n") == [
        "fd link",
        "full char",
        "null char",
        "random char",
        "shm dir",
        "stderr link",
        "stdin link",
        "stdout link",
        "urandom char",
        "zero char",
        "8",
        "refused 30",  # EROFS
        "",
    ]


def test_a_jail_leaves_no_folder_in_the_hosts_tmp(tmp_path):
    before = set(os.listdir("/tmp"))
    run = _jailed(tmp_path / "own", "print('ok')")
    assert run.returncode == 0, run.stderr
    assert [name for name in set(os.listdir("/tmp")) - before if name.startswith("gmm-jail")] == []


# -- property 3: the grader's environment and host secrets never reach student code


@pytest.fixture
def short_dir():
    """A folder with a short path: the kernel's unix sockets live in it (107 bytes at most, pytest's are longer)."""
    folder = Path(tempfile.mkdtemp(prefix="gmm-env-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_kernel_gets_none_of_the_graders_environment(short_dir, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", SECRET)
    monkeypatch.setenv("PGPASSWORD", SECRET)
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")  # a hardware setting: passed through
    for use_jail in (True, False):
        own = short_dir / f"jail-{use_jail}"
        own.mkdir()
        nb, _, events, _ = run_kernel_stage(
            graded_notebook("import os\nprint(repr(dict(os.environ)))"),
            own,
            cell_timeout=30,
            use_jail=use_jail,
            memory_limit_mb=2048,
        )
        assert events == []
        seen = eval(nb.cells[0].outputs[0]["text"])  # noqa: S307 - the repr of a dict of strings, printed by us
        assert SECRET not in repr(seen)
        assert set(seen) - ALLOWED_ENV - IPYKERNEL_ENV == set(), use_jail
        assert seen["OPENBLAS_CORETYPE"] == "Haswell" and seen["HOME"] == str(own)
        assert seen["PATH"].split(":")[0] == os.path.dirname(sys.executable)


@pytest.mark.parametrize("use_jail", [True, False], ids=["jail", "no-jail"])
def test_the_student_process_gets_none_of_the_graders_environment(tmp_path, monkeypatch, use_jail):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    package = tmp_path / "own" / "gmm_student"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("import os\n\ndef environment():\n    return sorted(os.environ.items())\n")
    session = StudentSession(tmp_path / "own", use_jail=use_jail, memory_limit_mb=2048, find_record_type=lambda n: None)
    try:
        seen = dict(session.call("", "environment", (), {}))
    finally:
        session.close()
    assert SECRET not in repr(seen)
    assert set(seen) <= ALLOWED_ENV
    assert seen == student_environment(tmp_path / "own", mplbackend="Agg")


def test_student_code_cannot_read_root_only_files(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can read /etc/shadow on the host: nothing to hide")
    run = _jailed(
        tmp_path / "own",
        """
        import os
        try:
            open("/etc/shadow").read()
            print("read")
        except PermissionError:
            print("refused")
        print(os.getuid(), os.geteuid())
        """,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["refused", "65534", "65534"]


# -- property 5: limits cover the whole jail


def _needs_cgroup(controller: str) -> None:
    if "cgroup" not in cgroups.limits_description(memory=controller == "memory", processes=controller == "pids"):
        pytest.skip(f"no cgroup for {controller} here: the jail falls back to a per-process limit")


def test_the_memory_limit_holds_for_all_the_jails_processes_together(tmp_path):
    _needs_cgroup("memory")
    # Four children of 100 MiB each: every one fits the 256 MiB limit alone, not together.
    run = _jailed(
        tmp_path / "own",
        """
        import os, time
        children = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                block = b"x" * (100 * 2**20)
                time.sleep(3)
                os._exit(0)
            children.append(pid)
        statuses = [os.waitpid(pid, 0)[1] for pid in children]
        print(sum(os.WIFSIGNALED(s) and os.WTERMSIG(s) == 9 for s in statuses), "killed")
        """,
        memory_limit_mb=256,
    )
    events = jail_limit_events(tmp_path / "own")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[0] != "0", "four children held 400 MiB under a 256 MiB limit"
    assert any("memory limit (256 MiB for all its processes together)" in line for line in events), events


def test_the_process_limit_holds_for_the_whole_jail(tmp_path):
    run = _jailed(
        tmp_path / "own",
        """
        import os, time
        started = 0
        try:
            for _ in range(3 * DEFAULT_PROCESS_LIMIT):
                if os.fork() == 0:
                    time.sleep(3)
                    os._exit(0)
                started += 1
        except OSError as error:
            print("refused", error.errno)
        print(started)
        """.replace("DEFAULT_PROCESS_LIMIT", str(DEFAULT_PROCESS_LIMIT)),
    )
    events = jail_limit_events(tmp_path / "own")
    assert run.returncode == 0, run.stderr
    said = run.stdout.split()
    assert said[:2] == ["refused", "11"] and int(said[2]) < DEFAULT_PROCESS_LIMIT, said  # EAGAIN
    if "cgroup" in cgroups.limits_description(memory=False):
        limit = f"process limit ({DEFAULT_PROCESS_LIMIT} processes and threads)"
        assert any(limit in line for line in events), events


def test_disk_is_limited_for_all_the_jails_files_together(tmp_path):
    # Files of 32 MiB each (under the file-size limit) in the own folder until the disk is full: then /tmp and
    # /dev/shm are full too (they share it).
    run = _jailed(
        tmp_path / "own",
        """
        import os
        written = 0
        try:
            for index in range(DEFAULT_SCRATCH_LIMIT_MB // 32 + 2):
                with open(f"big{index}", "wb") as handle:
                    handle.write(b"x" * (32 * 2**20))
                written += 32
        except OSError as error:
            print("refused", error.errno)
        print(written)
        for folder in ("/tmp", "/dev/shm"):
            try:
                with open(os.path.join(folder, "more"), "wb") as handle:
                    handle.write(b"x" * 2**20)
                print("more in", folder)
            except OSError as error:
                print(error.errno)
        """.replace("DEFAULT_SCRATCH_LIMIT_MB", str(DEFAULT_SCRATCH_LIMIT_MB)),
    )
    assert run.returncode == 0, run.stderr
    said = run.stdout.split()
    assert said[:2] == ["refused", "28"] and int(said[2]) <= DEFAULT_SCRATCH_LIMIT_MB, said  # ENOSPC
    assert said[3:] == ["28", "28"], said


def test_the_file_size_limit_is_the_one_asked_for(tmp_path):
    run = _jailed(
        tmp_path / "own",
        """
        import os
        try:
            with open("big", "wb", buffering=0) as handle:
                for _ in range(3):
                    handle.write(b"x" * 2**20)
        except OSError as error:
            print("refused", error.errno)
        print(os.path.getsize("big"))
        """,
        file_size_limit_mb=2,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["refused", "27", str(2 * 2**20)]  # EFBIG at exactly 2 MiB


def test_limit_events_are_said_once_and_the_group_removed(tmp_path):
    _needs_cgroup("pids")
    own = tmp_path / "own"
    command = jail_command(own, ["/bin/true"])
    folders = [Path(line.rsplit("/", 1)[0]) for line in command[command.index("gmm-jail") + 6].split(":")]
    assert folders and all(folder.is_dir() for folder in folders)
    own.mkdir()
    subprocess.run(command, check=True, timeout=60)
    assert jail_limit_events(own) == [] and jail_limit_events(own) == []
    assert not any(folder.exists() for folder in folders)


def test_groups_left_by_a_grader_process_that_died_are_removed():
    _needs_cgroup("pids")
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    parents = set(cgroups._support().parents.values())
    orphans = [parent / f"gmm-jail-{int(ended.stdout)}-0" for parent in parents]
    for orphan in orphans:
        orphan.mkdir()
    assert cgroups.remove_orphans() >= len(orphans)
    assert not any(orphan.exists() for orphan in orphans)


# -- student code dies with the grader (a killed worker must not leave it running)


def test_the_jailed_program_dies_with_the_process_that_started_the_jail(tmp_path):
    """Killing the jail's launcher kills what runs in the jail, also after the switch to an unprivileged uid.

    As root the jail runs student code as ``nobody``, and changing the uid clears the parent-death signal that
    ``unshare --kill-child`` set: a grader worker killed mid-class left its kernels running (seen in the suite).
    """
    marker = f"{300 + uuid.uuid4().int % 10_000}.5"  # an argument no other process has: found with pgrep
    launcher = subprocess.Popen(jail_command(tmp_path, ["/bin/sleep", marker]), cwd=tmp_path)

    def running() -> list[str]:
        return subprocess.run(["pgrep", "-f", f"^/bin/sleep {marker}$"], capture_output=True, text=True).stdout.split()

    try:
        deadline = time.monotonic() + 30
        while not running() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running(), "the jailed program never started"
        launcher.kill()
        launcher.wait()
        deadline = time.monotonic() + 5
        while running() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not running(), "the jailed program outlived the jail's launcher"
    finally:
        for pid in running():
            os.kill(int(pid), 9)
