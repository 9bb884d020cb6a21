"""``rig evaluate`` as a careless or hostile user meets it: a scheduler that never answers, a plot
that cannot be written, a run that blows up on its worker, Ctrl-C from the terminal."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig.evaluation import cluster
from rig.evaluation.tasks import ProcedureText, RunTask, run_task
from rig.procedure.loader import load_procedure
from tests.evaluation.test_evaluate import PRESSURE_DECAY, ROOT, rig
from tests.processes import as_from_a_shell


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that takes connections and never says a word (another service, a hung one)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def test_a_scheduler_that_never_answers_is_one_line_in_bounded_time(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, silent_port: int
) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    got: list[tuple[int, str, str]] = []
    argv = ["evaluate", str(PRESSURE_DECAY), "--runs", "1", "--scheduler", f"tcp://127.0.0.1:{silent_port}"]
    # In a thread: were the wait unbounded, the test must still end (and fail), not hang.
    worker = threading.Thread(target=lambda: got.append(rig(capsys, *argv)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert got, "rig evaluate still waits on a scheduler that never answers"
    code, out, err = got[0]
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.strip().splitlines() == [
        f"rig evaluate: error: --scheduler tcp://127.0.0.1:{silent_port}: cannot connect (no answer in 1 s)"
    ]


@pytest.fixture
def scheduler_without_workers(tmp_path: Path) -> Iterator[str]:
    """The address of a dask scheduler on 127.0.0.1 that no worker has joined (the lab's are down)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    address_file = tmp_path / "scheduler.json"
    argv = ["--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(address_file)]
    with (tmp_path / "scheduler.log").open("wb") as log:
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", *argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() or not address_file.read_text().strip().endswith("}"):
            assert scheduler.poll() is None and time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.05)
        yield str(json.loads(address_file.read_text())["address"])
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=30)


def test_a_scheduler_without_workers_is_one_line_in_bounded_time(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, scheduler_without_workers: str
) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    got: list[tuple[int, str, str]] = []
    argv = ["evaluate", str(PRESSURE_DECAY), "--runs", "1", "--scheduler", scheduler_without_workers]
    # In a thread: were the wait unbounded (no worker ever runs a task), the test must still end.
    waiting = threading.Thread(target=lambda: got.append(rig(capsys, *argv)), daemon=True)
    waiting.start()
    waiting.join(timeout=30)
    assert got, "rig evaluate still waits on a scheduler that has no workers"
    code, out, err = got[0]
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [
        f"rig evaluate: error: --scheduler {scheduler_without_workers}: no worker joined in 1 s"
        f" (start them: dask worker {scheduler_without_workers})"
    ]


@pytest.mark.parametrize(
    ("name", "why"), [("missing/curve.png", "no directory {parent}"), ("dir.png", "it is a directory")]
)
def test_a_plot_into_no_directory_or_onto_one_is_refused_before_any_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, why: str
) -> None:
    (tmp_path / "dir.png").mkdir()
    plot = tmp_path / name
    code, out, err = rig(capsys, "evaluate", str(PRESSURE_DECAY), "--runs", "1", "--plot", str(plot))
    assert code == 2 and out == ""
    # One line, and no progress line before it: not one run was made.
    assert err.strip().splitlines() == [
        f"rig evaluate: error: --plot {plot}: cannot write ({why.format(parent=plot.parent)})"
    ]


def test_a_run_that_blows_up_on_its_worker_says_so_in_its_reason_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A leak 1e308 times the limit overflows the simulated physics inside the instruments' servers.
    procedure = load_procedure(PRESSURE_DECAY)
    files = ProcedureText.read(procedure, PRESSURE_DECAY)
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        result = run_task(RunTask(files, 1e308, 2.5e297, 1), "decay")
    assert result.verdict == "ABORTED" and "connection closed" in result.reason
    # Nothing else: on a local cluster a worker's log and warnings land in the user's terminal.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [str(w.message) for w in warned] == []
    assert logging.getLogger("rig").level == logging.NOTSET  # given back as it was


def test_ctrl_c_at_the_terminal_stops_the_workers_with_one_line() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    argv = [sys.executable, "-m", "rig", "evaluate", str(PRESSURE_DECAY), "--runs", "40", "--factors", "1"]
    child = subprocess.Popen(
        [*argv, "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=as_from_a_shell,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        assert child.stderr is not None
        first = child.stderr.readline()  # the first progress line: the workers are running
        assert first.startswith("evaluate: "), first
        group = subprocess.run(["pgrep", "-g", str(child.pid)], capture_output=True, text=True).stdout.split()
        assert len(group) >= 3  # rig and its two workers
        os.killpg(child.pid, signal.SIGINT)  # Ctrl-C: the terminal sends it to the whole group
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert [line for line in err.splitlines() if not line.startswith("evaluate: ")] == [
        "rig evaluate: interrupted"
    ]
    deadline = time.monotonic() + 10
    left = group
    while left and time.monotonic() < deadline:  # stopped workers may take a moment to be reaped
        left = subprocess.run(["pgrep", "-g", str(child.pid)], capture_output=True, text=True).stdout.split()
        time.sleep(0.1)
    assert left == [], f"processes left behind: {left}"


def test_more_runs_than_one_evaluation_makes_are_refused_at_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rig.evaluation import evaluate

    monkeypatch.setattr(evaluate, "MAX_RUNS", 10)  # 4 runs at 3 factors is over it: refused, no cluster
    code, out, err = rig(capsys, "evaluate", str(PRESSURE_DECAY), "--runs", "4")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "rig evaluate: error: --runs 4 at 3 factors is 12 runs; one evaluation makes at most 10"
    ]


def test_the_probe_runs_solver_warnings_stay_out_of_the_output(capsys: pytest.CaptureFixture[str]) -> None:
    # zero_checked_decay's probe run makes the physics' ODE solver warn (lsoda: repeated
    # convergence failures), a two-line warning that says nothing to someone evaluating a method.
    procedure = ROOT / "procedures" / "zero_checked_decay.yaml"
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        code, out, err = rig(
            capsys, "evaluate", str(procedure), "--runs", "1", "--factors", "2", "--workers", "1"
        )
    assert code == 0 and out, err
    assert [str(w.message) for w in warned] == []
    assert [line for line in err.splitlines() if not line.startswith("evaluate: ")] == []


def test_a_procedure_whose_action_changes_the_leak_under_test_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # pressure_decay with the seal repaired (in simulation: made a 1 µm hole) before the decay:
    # its runs would measure the repaired hole whatever leak the evaluation set.
    text = PRESSURE_DECAY.read_text()
    bench = (PRESSURE_DECAY.parent / "benches" / "vacuum_chamber_mockup.yaml").resolve()
    text = text.replace("bench: benches/vacuum_chamber_mockup.yaml", f"bench: {bench}")
    repaired = "  - prompt: {message: Repair the seal, action: repair_seal}\n  - measure_decay:"
    text = text.replace("  - measure_decay:", repaired)
    procedure = tmp_path / "repaired_decay.yaml"
    procedure.write_text(text)
    code, out, err = rig(
        capsys, "evaluate", str(procedure), "--runs", "1", "--factors", "2", "--workers", "1"
    )
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [
        "rig evaluate: error: procedure 'pressure_decay': its action 'repair_seal' changes the leak under"
        " test ('seal') during the run, so the runs would not measure the true leak set; rig evaluate takes"
        " procedures that leave it as set"
    ]


def test_a_plot_into_a_directory_that_takes_no_file_is_refused_before_any_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # /proc is a directory even root cannot create a file in (permissions would say it can).
    code, out, err = rig(capsys, "evaluate", str(PRESSURE_DECAY), "--runs", "1", "--plot", "/proc/curve.png")
    assert (code, out) == (2, "")
    [line] = err.strip().splitlines()  # and no progress line: not one run was made
    assert line.startswith("rig evaluate: error: --plot /proc/curve.png: cannot write (")


def test_another_users_directory_in_tmp_does_not_stop_the_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Another user of the machine made the fixed name first (here: a file under it): every run
    # aborted with 'File exists', or read a bench file that user could swap.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / f"leakrig-evaluate-{os.getuid()}").write_text("not yours\n")
    procedure = load_procedure(PRESSURE_DECAY)
    files = ProcedureText.read(procedure, PRESSURE_DECAY)
    # A bench text of its own, so that no earlier test's load is reused from the cache.
    files = ProcedureText(files.source, files.text, files.bench_source, files.bench_text + "# hostile\n")
    result = run_task(RunTask(files, 2.0, 1e-11, 3), "decay")
    assert result.verdict != "ABORTED", result.reason
