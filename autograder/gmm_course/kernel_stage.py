"""The kernel stage: run a sanitised notebook in a jailed kernel, for figures and feedback.

Its test cells hold only the visible checks (the released ones): the hidden tests
and the reference solution never enter the student's kernel. Its results are not
scores; they are compared with the clean check's, and a disagreement is flagged.
A cell that runs too long is interrupted; a kernel that dies, or that does not
answer the interrupt within :data:`INTERRUPT_GRACE_SECONDS`, is (killed and)
restarted and the following cells run in the new kernel; huge outputs are cut. The
whole stage of a submission runs against one deadline (its ``--budget``): a cell is
cut short at the deadline, and the cells after it are not run. Every timeout, kill,
restart and skipped cell is an event of the report, and a cell that did not finish
is never reported as passed.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from queue import Empty

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, DeadKernelError
from nbclient.util import run_sync
from traitlets import DottedObjectName, List, Type, Unicode

from .environment import student_environment
from .normalise import settle_carriage_returns
from .outputs import MAX_OUTPUTS_PER_CELL
from .sandbox.jail import die_with_parent, jail_command, jail_limit_events

MAX_STREAM_CHARS = 20_000
MAX_SOCKET_PATH = 107  # bytes in a unix socket address (sun_path) on Linux
_KERNEL_NUMBERS = itertools.count()


#: How often a killed kernel is polled until its process is gone (jupyter_client's default: every 0.1 s).
STOP_POLL_SECONDS = 0.005

#: Seconds a kernel has to answer the interrupt of a timed-out cell (finish the cell: ipykernel raises
#: KeyboardInterrupt and goes idle at once). A kernel that does not (its code ignores SIGINT, or is stuck in native
#: code) is killed and a new one runs the following cells: otherwise each following cell would wait its whole
#: timeout behind the running one (216 s for notebook 1 at ``--timeout 10``).
INTERRUPT_GRACE_SECONDS = 2


class PromptKernelClient(AsyncKernelClient):
    """A kernel client that is ready the moment the kernel has answered, without jupyter_client's idle wait.

    jupyter_client's ``wait_for_ready`` takes the kernel's ``kernel_info`` reply and one IOPub message (proof that
    the IOPub subscription took hold), then drains IOPub until it has been silent for 0.2 s: 0.2 s of waiting
    per kernel, a third of its start-up. Here the client is ready after the same two proofs, the reply to *its*
    request and any IOPub message (ipykernel's ``iopub_welcome`` arrives as soon as the subscription holds).
    Nothing needs draining: the notebook client ignores IOPub messages that answer other requests.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            if await self._kernel_answered(self.kernel_info()):
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    async def _kernel_answered(self, msg_id: str) -> bool:
        """True once the reply to request ``msg_id`` has come on shell and some message on IOPub."""
        try:
            while True:  # replies to earlier, unanswered tries may come first
                reply = await self.shell_channel.get_msg(timeout=1)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            await self.iopub_channel.get_msg(timeout=0.2)
        except Empty:
            return False
        self._handle_kernel_info_reply(reply)
        return True


class JailedKernelManager(AsyncKernelManager):
    """Starts the kernel inside the jail whose writable folder is ``own_dir``."""

    own_dir = Unicode()
    jail_options = List()
    client_class = DottedObjectName(f"{__name__}.PromptKernelClient")
    client_factory = Type(klass=PromptKernelClient)

    async def _async_wait(self, pollinterval: float = STOP_POLL_SECONDS) -> None:
        """Wait for a killed kernel's process to end, polling every 5 ms instead of every 0.1 s."""
        await super()._async_wait(pollinterval=min(pollinterval, STOP_POLL_SECONDS))

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        if not self.own_dir:
            return command
        # The kernel talks to us over unix sockets in its own folder: the jail has no network at all.
        return jail_command(Path(self.own_dir), command, network=False, **dict(self.jail_options))


@dataclass
class KernelTimings:
    """Wall-clock seconds of one notebook's kernel stage: what is overhead and what is the notebook's own code."""

    start: float = 0.0  # starting kernels (the first, and any restart) and their clients
    cells: float = 0.0  # running the notebook's code cells
    stop: float = 0.0  # shutting the kernel down


@contextlib.contextmanager
def _timed(timings: KernelTimings, part: str) -> Iterator[None]:
    """Add the wall-clock seconds of the ``with`` body to ``timings.<part>``, also when the body raises."""
    clock = time.perf_counter()
    try:
        yield
    finally:
        setattr(timings, part, getattr(timings, part) + time.perf_counter() - clock)


@dataclass(frozen=True)
class KernelCell:
    grade_id: str
    passed: bool
    reliable: bool  # False after a kernel death or timeout: not compared with the clean check


def _merge_streams(cell) -> None:
    """One stdout and one stderr output per cell (each where its stream first appeared), carriage returns applied.

    A progress bar redraws itself with a carriage return hundreds of times per loop, and a loop that also
    prints alternates the two streams: merged, they are two outputs, not hundreds against the output cap.
    (nbclient's own ``coalesce_streams`` is not used: its regular expressions take quadratic time on a long
    line, which a student's code can print.)
    """
    outputs = cell.get("outputs", [])
    first: dict[str, nbformat.NotebookNode] = {}
    texts: dict[str, list[str]] = {}
    kept = []
    for output in outputs:
        if output.get("output_type") != "stream":
            kept.append(output)
            continue
        name = output.get("name", "stdout")
        if name not in first:
            first[name] = output
            texts[name] = []
            kept.append(output)
        texts[name].append(str(output.get("text", "")))
    for name, output in first.items():
        output["text"] = settle_carriage_returns("".join(texts[name]))
    cell["outputs"] = kept


def _cut_outputs(cell) -> int:
    """Bound what a cell keeps; the number of outputs dropped (cut once, here, with the same cap and note
    as ``outputs.make_outputs_inert``, so that the report names the cut)."""
    outputs = cell.get("outputs", [])
    dropped = max(0, len(outputs) - MAX_OUTPUTS_PER_CELL + 1)  # the note takes the last place
    if dropped > 1:
        del outputs[MAX_OUTPUTS_PER_CELL - 1 :]
        outputs.append(
            nbformat.v4.new_output("stream", name="stderr", text=f"[{dropped} more outputs dropped by the grader]\n")
        )
    for output in outputs:
        if output.get("output_type") == "stream" and len(output.get("text", "")) > MAX_STREAM_CHARS:
            output["text"] = output["text"][:MAX_STREAM_CHARS] + "\n[output cut by the grader]\n"
        if output.get("output_type") == "error":
            output["traceback"] = output.get("traceback", [])[-3:]
    return dropped if dropped > 1 else 0


def _has_error(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def _kernel_manager(own_dir: Path, use_jail: bool, memory_limit_mb: int) -> JailedKernelManager:
    km = JailedKernelManager(kernel_name="python3")
    tag = f"{os.getpid()}-{next(_KERNEL_NUMBERS)}"
    km.connection_file = str(own_dir / f".kernel-{tag}.json")
    km.transport = "ipc"  # unix sockets in the kernel's own folder: no network needed
    km.ip = str(own_dir / f".kernel-{tag}-ipc")
    if use_jail:
        # In the jail the sockets live in a folder on the jail's own scratch disk; on the host, that folder's name
        # is a link to it (through /proc/<kernel pid>/root), made by the jail: the kernel writes nothing here.
        km.ip = str(own_dir / f".kernel-{tag}-ipc" / "k")
        km.own_dir = str(own_dir)
        km.jail_options = [("memory_limit_mb", memory_limit_mb), ("socket_folder", f".kernel-{tag}-ipc")]
    if len(km.ip) + len("-65535") > MAX_SOCKET_PATH:  # zmq would fail to bind and the kernel never answer
        raise ValueError(f"{own_dir}: too long a path for the kernel's unix sockets (at most {MAX_SOCKET_PATH} bytes)")
    return km


def _close(client: NotebookClient) -> None:
    """Stop the client's channels, then the kernel, and free their zmq contexts.

    The channels must be stopped: each runs a thread holding a socket, and when the zmq context of a socket
    that is still open is garbage-collected, its ``term()`` blocks the collecting thread forever (seen here:
    the grader hung in ``Context.__del__`` some kernels later, once per-kernel heartbeat threads had piled up).
    """
    try:
        if client.kc is not None:
            client.kc.stop_channels()  # joins the channel threads, destroys the client's context
            client.kc = None
    finally:
        try:
            run_sync(client.km.shutdown_kernel)(now=True)  # also closes the manager's sockets and context
        except Exception:  # noqa: BLE001, S110 - already gone
            pass


def _restart(client: NotebookClient, own_dir: Path, use_jail: bool, memory_limit_mb: int, launch: dict) -> None:
    """A new kernel (fresh manager and sockets) after the old one died."""
    _close(client)
    client.km = _kernel_manager(own_dir, use_jail, memory_limit_mb)
    client.start_new_kernel(**launch)
    client.start_new_kernel_client()


class WatchedNotebookClient(NotebookClient):
    """nbclient's notebook client, noting for each cell whether it timed out and whether its kernel finished it.

    On a timeout nbclient interrupts the kernel, takes a made-up error reply for the cell and then waits up to
    ``iopub_timeout`` seconds for the cell's idle message, whether or not the kernel answered. Here that wait is
    the interrupt's grace (:data:`INTERRUPT_GRACE_SECONDS`; the normal ``iopub_timeout`` applies to cells that do
    not time out, so nothing is added to the normal path) and its outcome is kept: ``finished`` says whether the
    kernel went idle, that is, answered the interrupt. A kernel that did not is still running the cell.
    """

    timed_out = False
    finished = False

    def begin_cell(self, timeout: int) -> None:
        """Reset the per-cell notes before running a cell with ``timeout`` seconds."""
        if not hasattr(self, "_normal_iopub_timeout"):
            self._normal_iopub_timeout = self.iopub_timeout
        self.timeout = timeout
        self.iopub_timeout = self._normal_iopub_timeout
        self.timed_out = False
        self.finished = False

    async def _async_handle_timeout(self, timeout: int, cell=None):  # type: ignore[override]
        self.timed_out = True
        self.iopub_timeout = INTERRUPT_GRACE_SECONDS
        return await super()._async_handle_timeout(timeout, cell)

    def process_message(self, msg, cell, cell_index):  # type: ignore[override]
        try:
            return super().process_message(msg, cell, cell_index)
        except CellExecutionComplete:  # the cell's idle message: the kernel is done with it
            self.finished = True
            raise


def _error_output(ename: str, evalue: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])


def run_kernel_stage(
    nb: nbformat.NotebookNode,
    own_dir: Path,
    *,
    cell_timeout: int,
    use_jail: bool,
    memory_limit_mb: int,
    deadline: float | None = None,
) -> tuple[nbformat.NotebookNode, list[KernelCell], list[str], KernelTimings]:
    """Execute ``nb`` with its working folder ``own_dir``; returns it, the test cell results, events and timings.

    ``deadline`` (a :func:`time.monotonic` time, default none) is the end of the submission's budget for the
    kernel stage: no cell runs past it, and the cells after it are not run (each is reported, and no test cell
    among them counts as passed). Every wait is bounded: a cell by ``cell_timeout`` (or the deadline), its
    interrupt by :data:`INTERRUPT_GRACE_SECONDS`, after which the kernel is killed and restarted.
    """
    env = student_environment(own_dir)  # an allow-list: nothing of the grader's environment reaches the kernel
    (own_dir / ".tmp").mkdir(exist_ok=True)
    km = _kernel_manager(own_dir, use_jail, memory_limit_mb)
    client = WatchedNotebookClient(
        nb,
        km=km,
        timeout=cell_timeout,
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": "the cell timed out", "traceback": []},
        resources={"metadata": {"path": str(own_dir)}},
    )
    events: list[str] = []
    results: list[KernelCell] = []
    reliable = True
    launch = {
        "env": env,
        "cwd": str(own_dir),
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "preexec_fn": die_with_parent,
    }
    timings = KernelTimings()
    code_cells = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    not_run: list[int] = []  # code cells left out: the budget ran out, or no kernel could be restarted
    if deadline is not None and time.monotonic() >= deadline:
        events.append("the submission's time budget ran out before this notebook: no cell of it was run")
        return nb, _not_run(nb, code_cells), events, timings
    try:  # from the start: a kernel that starts but never answers must be shut down and its sockets closed too
        with _timed(timings, "start"):
            client.start_new_kernel(**launch)
            client.start_new_kernel_client()
        for position, index in enumerate(code_cells):
            cell = nb.cells[index]
            limit = cell_timeout
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    not_run = code_cells[position:]
                    events.append(
                        f"the submission's time budget ran out: cells {index} to {code_cells[-1]} were not run"
                    )
                    break
                limit = min(cell_timeout, max(1, math.ceil(remaining)))
            client.begin_cell(limit)
            restart_why = ""
            try:
                with _timed(timings, "cells"):
                    client.execute_cell(cell, index)
            except DeadKernelError:
                cell.outputs.append(_error_output("KernelDied", "the kernel died while running your code in this cell"))
                restart_why = f"kernel died in cell {index}; restarted for the following cells"
            timed_out = client.timed_out and not restart_why
            if timed_out:
                cut_by_budget = limit < cell_timeout
                why = "the submission's time budget ran out" if cut_by_budget else f"it ran past {limit} s"
                cell.outputs.append(_error_output("CellTimeoutError", f"your code was stopped by the grader: {why}"))
                if client.finished:
                    events.append(f"cell {index}: {why}; it was interrupted")
                else:
                    restart_why = (
                        f"cell {index}: {why}; the kernel ignored the interrupt for {INTERRUPT_GRACE_SECONDS} s, "
                        "so it was killed and restarted for the following cells"
                    )
            _merge_streams(cell)
            dropped = _cut_outputs(cell)
            if dropped:
                events.append(f"cell {index}: {dropped} outputs beyond the first {MAX_OUTPUTS_PER_CELL} dropped")
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                results.append(KernelCell(meta["grade_id"], not _has_error(cell), reliable and not timed_out))
            if restart_why:
                events.append(restart_why)
                reliable = False  # the following cells run without the state the earlier ones built
                if position + 1 < len(code_cells):
                    try:
                        with _timed(timings, "start"):
                            _restart(client, own_dir, use_jail, memory_limit_mb, launch)
                    except Exception as error:  # noqa: BLE001 - the kernel stage only informs; stop it here
                        events.append(f"could not restart the kernel ({error}); the rest of the notebook was not run")
                        not_run = code_cells[position + 1 :]
                        break
    finally:
        with _timed(timings, "stop"):
            try:
                _close(client)
            finally:
                for leftover in own_dir.glob(".kernel-*"):
                    leftover.unlink(missing_ok=True)
                if use_jail:  # the whole-jail limits each kernel reached (memory, processes), said once here
                    events += jail_limit_events(own_dir)
    return nb, results + _not_run(nb, not_run), events, timings


def _not_run(nb: nbformat.NotebookNode, indices: list[int]) -> list[KernelCell]:
    """The test cells among ``indices``, which the kernel stage did not run: failed, and not compared."""
    cells = []
    for index in indices:
        cell = nb.cells[index]
        cell.outputs = [_error_output("NotRun", "not run by the grader: see the grading report")]
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            cells.append(KernelCell(meta["grade_id"], False, False))
    return cells
