"""The kernel stage on its own: a tiny notebook run in a kernel (jailed where the machine allows it)."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading

import pytest
from nbclient import NotebookClient
from nbclient.util import run_sync

from gmm_course.kernel_stage import JailedKernelManager, PromptKernelClient, run_kernel_stage
from gmm_course.pipeline import MAX_SCRATCH_PATH, GradingOptions, scratch_folder
from gmm_course.sandbox.jail import jail_available, jail_command

from .notebook_factory import graded_notebook

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("use_jail", [False, pytest.param(True, id="jail")])
def test_kernel_stage_leaves_no_channel_thread_or_kernel_behind(tmp_path, use_jail):
    if use_jail and not jail_available():
        pytest.skip("this machine does not allow unprivileged user namespaces (the jail)")
    before = set(threading.enumerate())
    for run in range(3):  # leaked heartbeat threads piled up one per kernel: then a zmq context hung in term()
        own = tmp_path / f"run{run}"
        own.mkdir()
        nb, cells, events, timings = run_kernel_stage(
            graded_notebook("x = 41 + 1", "assert x == 42", "assert x == 0, 'wrong'"),
            own,
            cell_timeout=30,
            use_jail=use_jail,
            memory_limit_mb=2048,
        )
        assert [(c.grade_id, c.passed, c.reliable) for c in cells] == [
            ("test_0", True, True),
            ("test_1", True, True),
            ("test_2", False, True),
        ]
        assert events == []
        assert timings.start > 0 and timings.cells > 0
        assert not list(own.glob(".kernel-*")), "connection files left behind"
    gc.collect()
    leftover = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert leftover == [], f"threads outlived the kernel stage: {leftover}"


def test_a_folder_too_long_for_the_kernel_sockets_is_a_clear_error(tmp_path):
    own = tmp_path / ("a_long_course_folder_name_" * 4)
    own.mkdir()
    before = set(threading.enumerate())
    with pytest.raises(ValueError, match="too long a path for the kernel's unix sockets"):
        run_kernel_stage(graded_notebook("x = 1"), own, cell_timeout=30, use_jail=False, memory_limit_mb=2048)
    assert set(threading.enumerate()) - before == set()


def test_grading_scratch_folders_have_short_paths(tmp_path):
    folder = scratch_folder(GradingOptions())  # the default: the system's temporary folder
    try:
        assert folder.is_dir() and not list(folder.iterdir())
        assert len(str(folder / "kernel")) <= MAX_SCRATCH_PATH
    finally:
        folder.rmdir()
    with pytest.raises(ValueError, match="too long a path"):
        scratch_folder(GradingOptions(scratch_dir=str(tmp_path / ("deep" * 10))))


def test_the_jail_shows_read_only_folders_that_live_under_tmp(tmp_path):
    # A checkout under /tmp puts the virtual environment there: the jail's private /tmp must not hide it.
    if not jail_available():
        pytest.skip("this machine does not allow unprivileged user namespaces (the jail)")
    assert str(tmp_path).startswith("/tmp/")
    shared, own = tmp_path / "shared", tmp_path / "own"
    shared.mkdir()
    own.mkdir()
    (shared / "note.txt").write_text("visible")
    script = f"cat {shared}/note.txt; echo x > {shared}/written 2>/dev/null || echo ' read-only'"
    command = jail_command(own, ["/bin/sh", "-c", script], extra_readonly=(str(shared),))
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout.strip()) == (0, "visible read-only"), run.stderr
    assert not (shared / "written").exists()


def test_the_kernel_client_is_ready_without_the_idle_drain_and_loses_no_output(tmp_path):
    """The prompt ready-check (no 0.2 s IOPub drain) must still see the first cell's every output."""
    nb, cells, events, _ = run_kernel_stage(
        graded_notebook("print('first'); import sys; print('second', file=sys.stderr); 6 * 7"),
        tmp_path,
        cell_timeout=30,
        use_jail=False,
        memory_limit_mb=2048,
    )
    outputs = nb.cells[0].outputs
    assert [(o.output_type, o.get("name")) for o in outputs] == [
        ("stream", "stdout"),
        ("stream", "stderr"),
        ("execute_result", None),
    ]
    assert outputs[0].text == "first\n" and outputs[2].data["text/plain"] == "42"
    assert [c.passed for c in cells] == [True] and events == []


class _KernelThatExits(JailedKernelManager):
    def format_kernel_cmd(self, extra_arguments=None):
        return [sys.executable, "-c", "import sys; sys.exit(3)"]


def test_a_kernel_that_dies_before_answering_is_reported_at_once(tmp_path):
    km = _KernelThatExits(kernel_name="python3")
    km.connection_file = str(tmp_path / "k.json")
    assert isinstance(km.client(), PromptKernelClient)
    client = NotebookClient(graded_notebook("x = 1"), km=km, startup_timeout=600)
    try:
        client.start_new_kernel()
        # Not "didn't respond in 600 seconds": the death is noticed between tries.
        with pytest.raises(RuntimeError, match="Kernel died before replying to kernel_info"):
            client.start_new_kernel_client()
    finally:
        run_sync(km.shutdown_kernel)(now=True)


def test_progress_bars_and_interleaved_prints_are_one_output_per_stream_not_a_cut(tmp_path):
    # tqdm redraws its bar on stderr with a carriage return, hundreds of times per loop; a loop
    # that also prints alternates the two streams. None of that may reach the output cap.
    source = (
        "import sys, time\nfrom tqdm import tqdm\n"
        "for i in tqdm(range(200), mininterval=0, miniters=1):\n"
        "    time.sleep(0.002)\n"
        "    if i % 10 == 0:\n"
        "        print('restart', i, flush=True)\n"
        "        sys.stderr.flush()\n"
        "assert True\n"
    )
    nb, cells, events, _ = run_kernel_stage(
        graded_notebook(source), tmp_path, cell_timeout=60, use_jail=False, memory_limit_mb=2048
    )
    assert events == [], events
    assert [(c.grade_id, c.passed) for c in cells] == [("test_0", True)]
    streams = [o for o in nb.cells[0].outputs if o.output_type == "stream"]
    assert sorted(o.name for o in streams) == ["stderr", "stdout"], nb.cells[0].outputs
    stdout = next(o.text for o in streams if o.name == "stdout")
    assert stdout == "".join(f"restart {i}\n" for i in range(0, 200, 10))
    stderr = next(o.text for o in streams if o.name == "stderr")
    assert "200/200" in stderr and "\r" not in stderr.rstrip("\n"), stderr[-300:]


@pytest.mark.timeout(60)  # a backtracking regular expression would never finish on these lines
def test_merging_streams_applies_carriage_returns_and_handles_long_lines_a_student_may_print():
    import nbformat

    from gmm_course.kernel_stage import _merge_streams

    new = nbformat.v4.new_output
    long_line = "x" * 3_000_000
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        new("stream", name="stdout", text="a\rb\r\n"),
        new("display_data", data={"text/plain": "figure"}),
        new("stream", name="stderr", text="10%\r50%"),
        new("stream", name="stdout", text=long_line + "\n"),
        new("stream", name="stderr", text="\r100%\n" + "\r" * 100_000 + "y" + " " * 1_000_000 + "\n"),
    ]
    _merge_streams(cell)
    assert [(o.output_type, o.get("name")) for o in cell.outputs] == [
        ("stream", "stdout"),
        ("display_data", None),
        ("stream", "stderr"),
    ]
    assert cell.outputs[0].text == "b\r\n" + long_line + "\n"
    assert cell.outputs[2].text == "100%\ny" + " " * 1_000_000 + "\n"
