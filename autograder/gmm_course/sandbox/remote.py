"""The checker's side of the student process: start it jailed, call into it, survive it.

:class:`StudentSession` owns one student process at a time. A call that outlives the
cell's deadline kills the process (:class:`CellTimeout`); a process that dies (exit,
segfault, out of memory) fails the call (:class:`StudentProcessDied`); the next cell
starts a new process. Nothing the process sends is trusted: values are decoded by
:class:`~gmm_course.sandbox.wire.Codec` into plain data, and a malformed message is a
failure of the call, never of the grader.
"""

from __future__ import annotations

import builtins
import os
import shutil
import signal
import site
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

from ..environment import SINGLE_THREAD_ENV
from . import wire
from .jail import die_with_parent, maybe_jailed

STDERR_KEEP_BYTES = 16_000
MAX_PROCESS_STARTS = 60


class CellTimeout(Exception):
    """The student's code ran past the cell's deadline (the process was killed)."""


class StudentProcessDied(Exception):
    """The student process ended while running the student's code."""


class StudentError(Exception):
    """An exception of a type that exists only in the student's code."""


def _checker_exception(reply: dict) -> Exception:
    name = str(reply.get("type", "Exception"))[:100]
    message = str(reply.get("message", ""))[:2000]
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, Warning):
        return cls(message)
    return StudentError(f"{name}: {message}")


def _warning_category(name: str) -> type[Warning]:
    cls = getattr(builtins, str(name), None)
    return cls if isinstance(cls, type) and issubclass(cls, Warning) else UserWarning


class _StderrTail(threading.Thread):
    """Reads the student process's stderr, keeping only the first few kilobytes."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.kept = bytearray()
        self.dropped = 0

    def run(self) -> None:
        while chunk := self.stream.read(65536):
            room = STDERR_KEEP_BYTES - len(self.kept)
            self.kept += chunk[: max(room, 0)]
            self.dropped += max(len(chunk) - max(room, 0), 0)


class StudentProcess:
    """One jailed ``python -I -S wire.py`` serving the student's ``gmm_student``."""

    def __init__(self, own_dir: Path, *, use_jail: bool, memory_limit_mb: int):
        self.own_dir = own_dir
        grader_dir = own_dir / ".grader"
        grader_dir.mkdir(exist_ok=True)
        server = grader_dir / "wire.py"
        shutil.copyfile(Path(wire.__file__), server)
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-I", "-S", str(server), str(theirs.fileno()), str(own_dir), *site.getsitepackages()]
        (own_dir / ".tmp").mkdir(exist_ok=True)
        env = {
            "PATH": "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(own_dir),
            "LANG": "C.UTF-8",
            "TMPDIR": str(own_dir / ".tmp"),
            **SINGLE_THREAD_ENV,
            "MPLBACKEND": "Agg",
        }
        self.process = subprocess.Popen(
            maybe_jailed(own_dir, command, use_jail=use_jail, memory_limit_mb=memory_limit_mb),
            cwd=own_dir,
            env=env,
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        theirs.close()
        self.sock = ours
        self.stderr = _StderrTail(self.process.stderr)
        self.stderr.start()
        self.alive = True

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        self.sock.close()
        self.alive = False

    def exit_description(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (a crash in native code)" if name in ("SIGSEGV", "SIGBUS", "SIGABRT") else ""
            return f"the student's code was killed by {name}{hint}"
        return f"the student's code ended the process (exit code {code})"


class StudentSession:
    """Calls into the student's package, restarting the process after a death or a timeout."""

    def __init__(self, own_dir: Path, *, use_jail: bool, memory_limit_mb: int, find_record_type):
        self.own_dir = own_dir
        self.use_jail = use_jail
        self.memory_limit_mb = memory_limit_mb
        self.codec = wire.Codec(self._remote_callable, find_record_type)
        self.process: StudentProcess | None = None
        self.deadline = float("inf")
        self.starts = 0
        self.events: list[str] = []  # deaths and timeouts, for the report
        self.stderr_samples: list[str] = []

    # -- lifecycle
    def _current(self) -> StudentProcess:
        if self.process is None or not self.process.alive:
            if self.starts >= MAX_PROCESS_STARTS:
                raise StudentProcessDied(f"gave up after starting the student's code {self.starts} times")
            self.starts += 1
            self.process = StudentProcess(self.own_dir, use_jail=self.use_jail, memory_limit_mb=self.memory_limit_mb)
        return self.process

    def end_cell(self) -> None:
        """Called between cells: nothing carries over but the process itself."""
        self.deadline = float("inf")

    def close(self) -> None:
        if self.process is not None and self.process.alive:
            self.process.kill()
            self._collect_stderr(self.process)

    def _collect_stderr(self, process: StudentProcess) -> None:
        process.stderr.join(timeout=2)
        text = bytes(process.stderr.kept).decode("utf-8", "replace").strip()
        if text:
            cut = f" [{process.stderr.dropped} more bytes cut]" if process.stderr.dropped else ""
            self.stderr_samples.append(text[-4000:] + cut)

    # -- calls
    def _remote_callable(self, handle: int, name: str):
        def call_student(*args, **kwargs):
            return self._request(
                {
                    "op": "call_handle",
                    "handle": handle,
                    "args": self.codec.encode(args),
                    "kwargs": self.codec.encode(kwargs),
                }
            )

        call_student.__name__ = name
        return call_student

    def call(self, module: str, name: str, args: tuple, kwargs: dict):
        generators = [a for a in (*args, *kwargs.values()) if type(a).__name__ == "Generator"]
        reply = self._request(
            {
                "op": "call",
                "module": module,
                "name": name,
                "args": self.codec.encode(args),
                "kwargs": self.codec.encode(kwargs),
            },
            full_reply=True,
        )
        value = self.codec.decode(reply.get("value"))
        states = reply.get("generators") or []
        if len(states) == len(generators):
            for generator, state in zip(generators, states, strict=True):
                try:
                    generator.bit_generator.state = self.codec.decode(state)
                except (TypeError, ValueError, KeyError, wire.WireError):
                    raise wire.WireError("the student process sent back an invalid generator state") from None
        for category, message in (reply.get("warnings") or [])[:20]:
            warnings.warn(str(message)[:500], _warning_category(category), stacklevel=3)
        return value

    def probe(self, module: str, name: str) -> str:
        """ "callable", "other" or "missing": what the student's module has under ``name``."""
        return str(self._request({"op": "probe", "module": module, "name": name}))

    def set_global(self, module: str, name: str, value) -> None:
        self._request({"op": "setattr", "module": module, "name": name, "value": self.codec.encode(value)})

    def restore_global(self, module: str, name: str) -> None:
        if self.process is not None and self.process.alive:
            self._request({"op": "restore", "module": module, "name": name})

    def _request(self, message: dict, full_reply: bool = False):
        process = self._current()
        try:
            wire.send_message(process.sock, message)
            while True:
                reply = self._receive(process)
                op = reply.get("op")
                if op == "return":
                    return reply if full_reply else self.codec.decode(reply.get("value"))
                if op == "raise":
                    raise _checker_exception(reply)
                if op == "callback":
                    self._serve_callback(process, reply)
                    continue
                raise wire.WireError(f"unexpected operation {op!r} from the student process")
        except (EOFError, ConnectionError, wire.WireError) as error:
            died = process.process.poll() is not None or isinstance(error, (EOFError, ConnectionError))
            process.kill()
            self._collect_stderr(process)
            if died:
                description = process.exit_description()
                self.events.append(description)
                raise StudentProcessDied(description) from None
            self.events.append(f"the student process sent an invalid message ({error})")
            raise StudentProcessDied(f"the student process sent an invalid message ({error})") from None

    def _receive(self, process: StudentProcess) -> dict:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self._time_out(process)
        process.sock.settimeout(min(remaining, 3600.0))
        try:
            return wire.receive_message(process.sock)
        except TimeoutError:
            self._time_out(process)
        except (KeyError, TypeError, ValueError) as error:
            raise wire.WireError(str(error)) from None

    def _time_out(self, process: StudentProcess):
        process.kill()
        self._collect_stderr(process)
        self.events.append("a cell ran past its time limit; the student process was stopped")
        raise CellTimeout("the student's code ran past the cell's time limit and was stopped")

    def _serve_callback(self, process: StudentProcess, message: dict) -> None:
        try:
            function = self.codec.local_callables[int(message["handle"])]
            args = self.codec.decode(message["args"])
            kwargs = self.codec.decode(message["kwargs"])
            if type(args) is not tuple or type(kwargs) is not dict:
                raise wire.WireError("callback arguments are not a tuple and a dict")
            value = function(*args, **kwargs)
            reply = {"op": "return", "value": self.codec.encode(value)}
        except (CellTimeout, StudentProcessDied):
            raise
        except wire.WireError:
            raise
        except Exception as error:  # noqa: BLE001 - a trusted fake's AssertionError goes back to the student
            reply = {"op": "raise", "type": type(error).__name__, "message": str(error)[:2000]}
        wire.send_message(process.sock, reply)
