"""The checker's side of the student process: start it jailed, call into it, survive it.

:class:`StudentSession` owns one student process at a time. A call that outlives the
cell's deadline kills the process (:class:`CellTimeout`), and so does grader code that
the student's code called back into and that runs past it; a process that dies (exit,
segfault, out of memory) fails the call (:class:`StudentProcessDied`); the next cell
starts a new process. Nothing the process sends is trusted: values are decoded by
:class:`~gmm_course.sandbox.wire.Codec` into plain data, and a malformed message of any
kind fails the call and ends the process, so that no reply of it is left waiting for
the next call.

Grader code reaches the student's process only as handles (random tokens) that are
valid while what sent them is in force: the arguments of a call until it returns, a
patched-in helper until the test restores it, a callback's reply until the call it
answered returns, and nothing beyond the cell. A call through any other handle (kept
from earlier, or forged) is :class:`GraderCodeMisused`: it ends the process and is
recorded (:meth:`StudentSession.take_misuse`), and the checker fails that cell.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import os
import resource
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

import numpy as np

from ..environment import student_environment
from ..plain_text import printable
from . import wire
from .jail import die_with_parent, jail_limit_events, maybe_jailed

STDERR_KEEP_BYTES = 16_000
MAX_PROCESS_STARTS = 60


class CellTimeout(Exception):
    """The student's code ran past the cell's deadline (the process was killed)."""


class StudentProcessDied(Exception):
    """The student process ended while running the student's code."""


class GraderCodeMisused(Exception):
    """The student's code called grader code through a handle that was not in force (the process was killed)."""


class _CallbackOverran(BaseException):
    """Raised by SIGALRM in grader code the student called back into, past the cell's deadline.

    A BaseException, so that grader code catching ``Exception`` does not swallow it.
    """


#: What a patch's wanted value is when the test has put the student's own attribute back.
RESTORE = object()


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
        env = student_environment(own_dir, mplbackend="Agg")  # an allow-list: none of the grader's variables
        self.use_jail = use_jail
        self.limit_events: list[str] = []  # the jail's limits that were reached, set by kill()
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
        if self.use_jail:  # removes the jail's control group: each limit it reached is said once, here
            self.limit_events += jail_limit_events(self.own_dir)

    def exit_description(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (a crash in native code)" if name in ("SIGSEGV", "SIGBUS", "SIGABRT") else ""
            return f"your code was killed by {name}{hint}"
        return f"your code ended the process (exit code {code})"


class StudentSession:
    """Calls into the student's package, restarting the process after a death or a timeout.

    Patches of module attributes made by the checker's tests (:meth:`set_global`,
    :meth:`restore_global`) are applied in the student's process right before the next
    call into it, in one message, and again in a new process after a restart: student
    code runs only during calls, so it always sees exactly the patches in force.
    """

    def __init__(self, own_dir: Path, *, use_jail: bool, memory_limit_mb: int, find_record_type):
        self.own_dir = own_dir
        self.use_jail = use_jail
        self.memory_limit_mb = memory_limit_mb
        self.codec = wire.Codec(self._remote_callable, find_record_type)
        self.process: StudentProcess | None = None
        self.deadline = float("inf")
        self.starts = 0
        self.events: list[str] = []  # deaths, timeouts and misuse, for the report
        self.stderr_samples: list[str] = []
        self.misuse: list[str] = []  # this cell's calls through handles not in force
        self.handles_sent = 0  # grader callables handed to student processes (for measurements)
        self._wanted: dict[tuple[str, str, bool], object] = {}  # (module, name, absolute) -> value or RESTORE
        self._applied: dict[tuple[str, str, bool], tuple[object, list[str]]] = {}  # in the process, with handles
        self._scopes: list[list[str]] = []  # handles of the calls in progress, innermost last
        self._default_errstate = np.geterr()
        self._alarm_armed = False

    # -- lifecycle
    def _current(self) -> StudentProcess:
        if self.process is None or not self.process.alive:
            if self.starts >= MAX_PROCESS_STARTS:
                raise StudentProcessDied(f"gave up after starting your code {self.starts} times")
            self.starts += 1
            for _, handles in self._applied.values():
                self.codec.revoke(handles)
            self._applied.clear()  # a new process has none of the patches yet
            with _address_space_for_children():
                self.process = StudentProcess(
                    self.own_dir, use_jail=self.use_jail, memory_limit_mb=self.memory_limit_mb
                )
        return self.process

    def end_cell(self) -> None:
        """Called between cells: only the process and the patches still in force carry over.

        Every handle but those of patches the tests still have in force is revoked.
        """
        self.deadline = float("inf")
        live = {
            handle
            for key, (value, handles) in self._applied.items()
            if self._wanted.get(key) is value
            for handle in handles
        }
        self.codec.revoke([h for h in list(self.codec.local_callables) if h not in live])
        self.codec.issued = []
        self._scopes = []

    def take_misuse(self) -> list[str]:
        """The calls through handles not in force since the last call (and forget them)."""
        misuse, self.misuse = self.misuse, []
        return misuse

    def close(self) -> None:
        if self.process is not None and self.process.alive:
            self.process.kill()
            self._collect_stderr(self.process)

    def _collect_stderr(self, process: StudentProcess) -> None:
        """After ``process.kill()``: keep what it printed to stderr and the jail limits it reached."""
        self.events += process.limit_events
        process.limit_events = []
        process.stderr.join(timeout=2)
        text = bytes(process.stderr.kept).decode("utf-8", "replace").strip()
        if text:
            cut = f" [{process.stderr.dropped} more bytes cut]" if process.stderr.dropped else ""
            self.stderr_samples.append(text[-4000:] + cut)

    # -- patches
    def set_global(self, module: str, name: str, value, *, absolute: bool = False) -> None:
        """From the next call on, ``module.name`` is ``value`` in the student's process.

        ``module`` is a module of ``gmm_student`` ("" for the package), or with
        ``absolute`` a module of the installation (``numpy.linalg``).
        """
        self._wanted[(module, name, absolute)] = value

    def restore_global(self, module: str, name: str, *, absolute: bool = False) -> None:
        """From the next call on, ``module.name`` is the student's own again (the patch's handles are revoked)."""
        key = (module, name, absolute)
        if key in self._wanted or key in self._applied:
            self._wanted[key] = RESTORE

    def _sync_patches(self, process: StudentProcess) -> None:
        sets, restores, revoked = [], [], []
        for key, wanted in list(self._wanted.items()):
            applied = self._applied.get(key)
            if wanted is RESTORE:
                del self._wanted[key]
                if applied is not None:
                    restores.append(list(key))
                    revoked += applied[1]
                    del self._applied[key]
                continue
            live = applied is not None and all(h in self.codec.local_callables for h in applied[1])
            if live and applied[0] is wanted:
                continue  # in force in the process, with live handles (end_cell revokes those of restored patches)
            if applied is not None:
                revoked += applied[1]
            encoded = self.codec.encode(wanted)
            handles = self.codec.take_issued()
            self.handles_sent += len(handles)
            self._applied[key] = (wanted, handles)
            sets.append([key[0], key[1], encoded, key[2]])
        self.codec.revoke(revoked)
        if sets or restores:
            self._exchange(process, {"op": "patches", "set": sets, "restore": restores}, _plain_value(self.codec))

    # -- calls
    def _remote_callable(self, handle: str, name: str):
        def call_student(*args, **kwargs):
            message = {
                "op": "call_handle",
                "handle": handle,
                "args": self.codec.encode(args),
                "kwargs": self.codec.encode(kwargs),
            }
            value, said = self._run(message, self.codec.take_issued(), self._call_reply([], name, args, kwargs))
            _warn(said)
            return value

        call_student.__name__ = name
        return call_student

    def call(self, module: str, name: str, args: tuple, kwargs: dict):
        """``gmm_student.<module>.<name>(*args, **kwargs)`` in the student's process."""
        generators = [a for a in (*args, *kwargs.values()) if type(a) is np.random.Generator]
        message = {
            "op": "call",
            "module": module,
            "name": name,
            "args": self.codec.encode(args),
            "kwargs": self.codec.encode(kwargs),
        }
        value, said = self._run(message, self.codec.take_issued(), self._call_reply(generators, name, args, kwargs))
        _warn(said)
        return value

    def _call_reply(self, generators: list, name: str, args: tuple, kwargs: dict):
        """Decodes a call's reply: its value, the generators' new states, and the warnings it raised.

        The student's process received copies of the checker's arrays. Where the call
        changed one of them in place, the reply carries its new contents and they are
        written into the caller's array, as if the call had run in the checker (a test
        that checks its inputs sees the change; one that does not is not charged for it).
        A change that cannot be written back (a new shape or dtype, a read-only array)
        fails the call with an AssertionError naming the argument.
        """

        def decode(reply: dict):
            self._write_back(name, args, kwargs, reply.get("modified") or [])
            value = self.codec.decode(reply.get("value"))
            states = reply.get("generators") or []
            if len(states) == len(generators):
                for generator, state in zip(generators, states, strict=True):
                    try:
                        generator.bit_generator.state = self.codec.decode(state)
                    except (TypeError, ValueError, KeyError, OverflowError):
                        raise wire.WireError("the student process sent back an invalid generator state") from None
            said = reply.get("warnings") or []
            if type(said) is not list or not all(type(w) is list and len(w) == 2 for w in said):
                raise wire.WireError("warnings are [category, message] pairs")
            return value, [(str(category)[:100], str(text)[:500]) for category, text in said[:20]]

        return decode

    def _write_back(self, name: str, args: tuple, kwargs: dict, modified) -> None:
        """Mirror into the caller's arrays the changes a call made to its copies (see :meth:`_call_reply`)."""
        if type(modified) is not list or len(modified) > 10:
            raise wire.WireError("modified arguments are a list of at most 10 entries")
        if not modified:
            return  # the common case: nothing to mirror, no need to walk the arguments
        arrays = wire.argument_arrays(args, kwargs)
        unmirrored = []
        for entry in modified:
            if type(entry) is not list or len(entry) != 4 or type(entry[0]) is not int or type(entry[2]) is not str:
                raise wire.WireError("a modified argument is [index, path, name, value]")
            index, path, argument, encoded = entry
            if not 0 <= index < len(arrays) or arrays[index][0] != path:
                raise wire.WireError("a modified argument that the call was not given")
            target = arrays[index][1]
            value = self.codec.decode(encoded)
            if (
                type(value) is not np.ndarray
                or value.shape != target.shape
                or value.dtype != target.dtype
                or not target.flags.writeable
            ):
                unmirrored.append(printable(argument)[:80])
                continue
            np.copyto(target, value)
        if unmirrored:
            raise AssertionError(
                f"{name} changed its input {', '.join(unmirrored[:5])} in place (its shape or dtype, or a read-only "
                "array): no function of gmm_student may modify its inputs; work on a copy "
                "(e.g. X = X - X.mean(axis=0), not X -= X.mean(axis=0))."
            )

    def probe(self, module: str, name: str) -> str:
        """ "callable", "other" or "missing": what the student's module has under ``name``."""
        return str(self._run({"op": "probe", "module": module, "name": name}, [], _plain_value(self.codec)))

    def _run(self, message: dict, handles: list[str], decode):
        """Send ``message``; the handles sent with it are valid until its reply (decoded by ``decode``)."""
        if message["op"] in ("call", "call_handle"):
            self.handles_sent += len(handles)
            errstate = np.geterr()
            if errstate != self._default_errstate:
                message["errstate"] = errstate  # the test's floating-point error state holds there too
        self._scopes.append(list(handles))
        try:
            process = self._current()
            if message["op"] in ("call", "call_handle"):
                self._sync_patches(process)
            return self._exchange(process, message, decode)
        finally:
            if self._scopes:
                self.codec.revoke(self._scopes.pop())

    def _exchange(self, process: StudentProcess, message: dict, decode):
        try:
            wire.send_message(process.sock, message)
            while True:
                reply = self._receive(process)
                op = reply.get("op")
                if op == "return":
                    return decode(reply)
                if op == "raise":
                    raise _checker_exception(reply)
                if op == "callback":
                    self._serve_callback(process, reply)
                    continue
                raise wire.WireError(f"unexpected operation {str(op)[:50]!r} from the student process")
        except (EOFError, OSError, wire.WireError) as error:
            died = process.process.poll() is not None or isinstance(error, (EOFError, ConnectionError))
            process.kill()
            self._collect_stderr(process)
            if died:
                description = process.exit_description()
                self.events.append(description)
                raise StudentProcessDied(description) from None
            said = f"the student process sent an invalid message ({str(error)[:300]}); it was stopped"
            self.events.append(said)
            raise StudentProcessDied(said) from None

    def _receive(self, process: StudentProcess) -> dict:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self._time_out(process)
        process.sock.settimeout(min(remaining, 3600.0))
        try:
            return wire.receive_message(process.sock)
        except TimeoutError:
            self._time_out(process)

    def _time_out(self, process: StudentProcess):
        process.kill()
        self._collect_stderr(process)
        self.events.append("a cell ran past its time limit; the student process was stopped")
        raise CellTimeout("your code ran past the cell's time limit and was stopped")

    def _misused(self, process: StudentProcess) -> None:
        process.kill()
        self._collect_stderr(process)
        said = (
            "the student's code called grader code through a handle that was not in force "
            "(kept from an earlier call, patch or cell, or forged); the student process was stopped"
        )
        self.events.append(said)
        self.misuse.append(said)
        raise GraderCodeMisused(said)

    def _serve_callback(self, process: StudentProcess, message: dict) -> None:
        handle = message.get("handle")
        if type(handle) is not str:
            raise wire.WireError("a callback without a handle")
        function = self.codec.local_callables.get(handle)
        if function is None:
            self._misused(process)
        args = self.codec.decode(message.get("args"))
        kwargs = self.codec.decode(message.get("kwargs"))
        if type(args) is not tuple or type(kwargs) is not dict:
            raise wire.WireError("callback arguments are not a tuple and a dict")
        try:
            with self._deadline_alarm():
                value = function(*args, **kwargs)
            reply = {"op": "return", "value": self.codec.encode(value)}
            if self._scopes:
                self._scopes[-1] += self.codec.take_issued()  # valid until the call this answers returns
        except _CallbackOverran:
            self._time_out(process)
        except (CellTimeout, StudentProcessDied, GraderCodeMisused):
            raise
        except Exception as error:  # noqa: BLE001 - a trusted fake's AssertionError goes back to the student
            reply = {"op": "raise", "type": type(error).__name__, "message": str(error)[:2000]}
        if time.monotonic() >= self.deadline:
            self._time_out(process)
        wire.send_message(process.sock, reply)

    @contextlib.contextmanager
    def _deadline_alarm(self):
        """Raise :class:`_CallbackOverran` in the grader code run for a callback once the cell's deadline passes.

        SIGALRM, in the checker's main thread, repeating every 50 ms until the callback
        ends (so grader code that swallows it once does not escape it). Nested callbacks
        share the outermost one's alarm.
        """
        in_main_thread = threading.current_thread() is threading.main_thread()
        if self._alarm_armed or not math.isfinite(self.deadline) or not in_main_thread:
            yield
            return
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _CallbackOverran()

        def overran(signum, frame):
            if self._alarm_armed:
                raise _CallbackOverran()

        previous = signal.signal(signal.SIGALRM, overran)
        self._alarm_armed = True
        signal.setitimer(signal.ITIMER_REAL, remaining, 0.05)
        try:
            yield
        finally:
            late = False
            while True:
                try:
                    self._alarm_armed = False  # from here on the handler raises nothing
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    signal.signal(signal.SIGALRM, previous)
                    break
                except _CallbackOverran:  # arrived while disarming: the deadline has passed all the same
                    late = True
            if late:
                raise _CallbackOverran()


def _plain_value(codec: wire.Codec):
    return lambda reply: codec.decode(reply.get("value"))


def _warn(said: list[tuple[str, str]]) -> None:
    """Raise again, in the checker, the warnings the student's code raised (a test may turn them into errors)."""
    for category, message in said:
        warnings.warn(message, _warning_category(category), stacklevel=3)


@contextlib.contextmanager
def _address_space_for_children():
    """Lift the checker's own soft address-space limit while a student process is started.

    The checker bounds its own memory (:func:`~gmm_course.sandbox.checker.bound_memory`);
    the student process has limits of its own (the jail's), not the checker's.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == hard:
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
