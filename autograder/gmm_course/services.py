"""Throwaway services for grading at scale: a private PostgreSQL server and a local Dask cluster.

Each is a context manager that starts the service, yields its address and stops it on exit, also when the body
raises. Both listen on 127.0.0.1 only. They are meant for tests and for grading a class on one machine.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from .environment import SINGLE_THREAD_ENV

#: The system user Debian's ``postgresql`` package creates; the server runs as it when we are root.
POSTGRES_USER = "postgres"
#: Where Debian installs the server binaries, one folder per major version.
DEBIAN_POSTGRES_ROOT = Path("/usr/lib/postgresql")
#: The BLAS/OpenMP thread limits of ``SINGLE_THREAD_ENV`` (not its kernel-only MPLBACKEND and PYTHONHASHSEED).
THREAD_LIMITS = {key: value for key, value in SINGLE_THREAD_ENV.items() if "THREADS" in key}

_START_ATTEMPTS = 3  # a free port can be taken by someone else between our probe and the server's bind
_TIMEOUT_S = 60
_MAX_SOCKET_PATH = 100  # sun_path holds 107 bytes on Linux


def postgres_bin_dir() -> Path:
    """The folder holding PostgreSQL's ``initdb`` and ``pg_ctl``: from PATH, else the newest Debian version."""
    candidates = []
    if on_path := shutil.which("initdb"):
        candidates.append(Path(on_path).resolve().parent)
    versions = DEBIAN_POSTGRES_ROOT.glob("*/bin")
    candidates += sorted(versions, key=lambda d: [int(n) for n in re.findall(r"\d+", d.parent.name)], reverse=True)
    for folder in candidates:
        if all(os.access(folder / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise RuntimeError(
        f"PostgreSQL's server programs (initdb, pg_ctl, postgres) are neither on PATH nor under "
        f"{DEBIAN_POSTGRES_ROOT}/*/bin: install them, e.g. `apt-get install -y postgresql`"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: Sequence[str | Path], *, as_postgres: bool, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program, as the ``postgres`` user if ``as_postgres`` (initdb and postgres refuse root)."""
    prefix = ["runuser", "-u", POSTGRES_USER, "--"] if as_postgres else []
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    return subprocess.run(
        prefix + [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def _cluster_dir(base_dir: Path, as_postgres: bool) -> Path:
    """A new empty folder for one cluster that the server's user can write: in ``base_dir`` if that user can reach it.

    As root, the server runs as ``postgres``, which cannot reach a folder under a private one, such as pytest's
    ``tmp_path`` (under /tmp/pytest-of-root, mode 0700). Then the cluster goes in a private folder of its own in
    the system's temporary folder instead: it is removed on exit all the same.
    """
    base_dir.mkdir(parents=True, exist_ok=True)
    if not as_postgres:
        return Path(tempfile.mkdtemp(prefix="gmm-postgres-", dir=base_dir))
    if shutil.which("runuser") is None:
        raise RuntimeError("running as root, PostgreSQL must be started as another user: `runuser` is missing")
    try:
        user = pwd.getpwnam(POSTGRES_USER)
    except KeyError:
        raise RuntimeError(
            f"running as root, PostgreSQL must run as the '{POSTGRES_USER}' system user, which does not exist: "
            "`apt-get install -y postgresql` creates it"
        ) from None
    for parent in (base_dir, None):
        folder = Path(tempfile.mkdtemp(prefix="gmm-postgres-", dir=parent))
        os.chown(folder, user.pw_uid, user.pw_gid)
        probe = ["test", "-w", folder, "-a", "-x", folder]
        if _run(probe, as_postgres=True, cwd=Path("/")).returncode == 0:
            return folder
        shutil.rmtree(folder)
    raise RuntimeError(f"the '{POSTGRES_USER}' user can write neither under {base_dir} nor in {tempfile.gettempdir()}")


def _server_config(socket_dir: Path) -> str:
    # A unix socket path too long for sun_path would stop the server: then it has none (TCP is all we use).
    sockets = str(socket_dir) if len(str(socket_dir)) + len("/.s.PGSQL.65535") <= _MAX_SOCKET_PATH else ""
    quoted = sockets.replace("'", "''")
    return (
        "\n# gmm_course.services.local_postgres: loopback only, no shared socket, no durability (throwaway)\n"
        "listen_addresses = '127.0.0.1'\n"
        f"unix_socket_directories = '{quoted}'\n"
        "fsync = off\n"
        "synchronous_commit = off\n"
        "full_page_writes = off\n"
    )


def _create_database(port: int, user: str, database: str) -> None:
    import psycopg2  # imported here: the rest of the package does not need a database driver
    from psycopg2 import sql

    connection = psycopg2.connect(host="127.0.0.1", port=port, user=user, dbname="postgres", connect_timeout=10)
    try:
        connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        connection.close()


def _log_tail(log: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return "(no server log)"


@contextlib.contextmanager
def local_postgres(base_dir: Path, database: str = "gradebook") -> Iterator[str]:
    """Start a throwaway PostgreSQL server and yield a SQLAlchemy URL of a new, empty database on it.

    The cluster is made with Debian's binaries (see :func:`postgres_bin_dir`) in a new folder under ``base_dir``
    (as root, where the ``postgres`` user cannot reach ``base_dir``, in the system's temporary folder instead: see
    :func:`_cluster_dir`). The server listens on a free port of 127.0.0.1 only, trusts every loopback connection,
    keeps its unix socket inside the cluster's folder and does not fsync. As root it runs as the ``postgres``
    system user. On exit the server is stopped (open connections are closed) and the cluster's folder removed.

    Yields a URL like ``postgresql+psycopg2://postgres@127.0.0.1:54321/gradebook``.
    """
    bin_dir = postgres_bin_dir()
    as_postgres = os.geteuid() == 0
    user = POSTGRES_USER if as_postgres else getpass.getuser()
    cluster = _cluster_dir(Path(base_dir), as_postgres)
    data, socket_dir, log = cluster / "data", cluster / "socket", cluster / "server.log"
    pg_ctl = bin_dir / "pg_ctl"

    def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
        return _run(command, as_postgres=as_postgres, cwd=cluster)

    try:
        initdb = run(bin_dir / "initdb", "-D", data, "-U", user, "-A", "trust", "-E", "UTF8", "--locale=C", "-N")
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")
        run("mkdir", "-m", "700", socket_dir)
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(_server_config(socket_dir))
        for _ in range(_START_ATTEMPTS):
            port = _free_port()
            start = run(pg_ctl, "start", "-D", data, "-l", log, "-w", "-t", str(_TIMEOUT_S), "-o", f"-p {port}")
            if start.returncode == 0:
                break
        else:
            raise RuntimeError(f"PostgreSQL did not start:\n{start.stdout}{start.stderr}\n{_log_tail(log)}")
        _create_database(port, user, database)
        yield f"postgresql+psycopg2://{user}@127.0.0.1:{port}/{database}"
    finally:
        if (data / "postmaster.pid").exists():
            stop = run(pg_ctl, "stop", "-D", data, "-m", "fast", "-w", "-t", str(_TIMEOUT_S))
            if stop.returncode != 0:
                run(pg_ctl, "stop", "-D", data, "-m", "immediate", "-w", "-t", str(_TIMEOUT_S))
        shutil.rmtree(cluster, ignore_errors=True)


@contextlib.contextmanager
def local_dask_cluster(n_workers: int = 2) -> Iterator[str]:
    """Start a Dask cluster of ``n_workers`` single-threaded worker processes and yield its scheduler's address.

    Scheduler and workers listen on 127.0.0.1; there is no dashboard. Every worker process starts with one
    BLAS/OpenMP thread (:data:`THREAD_LIMITS`), whatever this process's environment says. Dask's nanny writes the
    variables it gives the workers into this process's ``os.environ`` as it spawns them: they are restored on exit.
    Yields an address like ``tcp://127.0.0.1:40123``.
    """
    import dask  # imported here: they are heavy and only the parallel grader needs them
    from distributed import LocalCluster

    # The nanny sets its pre-spawn variables in os.environ before spawning a worker, and a variable that is
    # already in os.environ wins over the configured value: so set both.
    pre_spawn = {**dask.config.get("distributed.nanny.pre-spawn-environ"), **THREAD_LIMITS}
    saved = {key: os.environ.get(key) for key in [*pre_spawn, "PYTHONHASHSEED"]}
    os.environ.update(THREAD_LIMITS)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": pre_spawn}):
            with LocalCluster(
                n_workers=n_workers,
                processes=True,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster:
                yield cluster.scheduler_address
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
