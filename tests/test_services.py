"""The throwaway services for grading at scale: a PostgreSQL gradebook server and a local Dask cluster."""

from __future__ import annotations

import os
import socket
import time

import pytest
import sqlalchemy as sa
from nbgrader.api import Gradebook

from gmm_course import services
from gmm_course.environment import use_this_environment
from gmm_course.services import local_dask_cluster, local_postgres

COURSE = "gmm-em-course"


def _refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except OSError:
        return True


@pytest.mark.slow
def test_local_postgres_serves_an_nbgrader_gradebook_and_goes_away(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))  # restored after the test
    use_this_environment()  # a new gradebook runs `alembic heads` to stamp its schema version
    with local_postgres(tmp_path) as url:
        parsed = sa.engine.make_url(url)
        assert (parsed.drivername, parsed.host, parsed.database) == ("postgresql+psycopg2", "127.0.0.1", "gradebook")

        with Gradebook(url, course_id=COURSE) as gradebook:
            gradebook.add_student("alice", first_name="Alice", last_name="Liddell", email="alice@example.org")
            gradebook.add_assignment("ps1")

        with Gradebook(url, course_id=COURSE) as reopened:
            assert [(s.id, s.first_name, s.last_name) for s in reopened.students] == [("alice", "Alice", "Liddell")]
            assert [(a.name, a.course_id) for a in reopened.assignments] == [("ps1", COURSE)]

        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                listen, sockets, data_dir = (
                    connection.execute(sa.text(f"SHOW {name}")).scalar_one()
                    for name in ("listen_addresses", "unix_socket_directories", "data_directory")
                )
        finally:
            engine.dispose()
        assert listen == "127.0.0.1"
        assert sockets in ("", os.path.join(os.path.dirname(data_dir), "socket"))
        assert os.path.isdir(data_dir)

    assert _refuses_connections(parsed.port)
    assert not os.path.exists(os.path.dirname(data_dir)), "the cluster's folder was not removed"


def test_local_postgres_stops_the_server_when_the_body_raises(tmp_path):
    with pytest.raises(ZeroDivisionError), local_postgres(tmp_path) as url:
        port = sa.engine.make_url(url).port
        1 / 0  # noqa: B018
    assert _refuses_connections(port)
    assert list(tmp_path.iterdir()) == []


def test_local_postgres_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(services, "DEBIAN_POSTGRES_ROOT", tmp_path / "no-postgresql")
    with pytest.raises(RuntimeError, match=r"initdb.*apt-get install -y postgresql"):
        with local_postgres(tmp_path):
            pass  # pragma: no cover


@pytest.mark.slow
def test_local_dask_cluster_has_single_threaded_worker_processes(monkeypatch):
    import psutil
    from distributed import Client

    monkeypatch.setenv("OMP_NUM_THREADS", "4")  # the workers must not inherit this

    def worker_process():
        import os

        return os.getpid(), os.environ.get("OMP_NUM_THREADS")

    with local_dask_cluster(2) as address:
        assert address.startswith("tcp://127.0.0.1:")
        with Client(address) as client:
            assert sum(client.nthreads().values()) == 2
            results = list(client.run(worker_process).values())

    pids = {pid for pid, _ in results}
    assert len(results) == 2 and len(pids) == 2 and os.getpid() not in pids
    assert [omp for _, omp in results] == ["1", "1"]
    assert os.environ["OMP_NUM_THREADS"] == "4", "this process's environment was not restored"
    deadline = time.monotonic() + 10
    while any(psutil.pid_exists(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(psutil.pid_exists(pid) for pid in pids), "worker processes outlived the cluster"
