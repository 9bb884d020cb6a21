"""Signals and resources: the bench reaches its safe state whatever happens to the process's world.

* SIGTERM (a service manager) and SIGHUP (a closed terminal) during a fill, with the supply
  open, act as a first Ctrl-C: the run ends ABORTED (exit 3) in its safe state, with a record
  that is finished and sealed — they used to kill it with no safe state and no record;
* a disk that fills up mid-run (a real tmpfs of a few hundred kB) ends the run ABORTED with a
  one-line reason, the safe state applied and confirmed by the gas (which needs no disk), and
  no traceback — ``sample()`` used to raise ``OSError`` inside the safe state;
* a run directory removed mid-run: ABORTED, and the record rebuilt from the open files at the
  end, every sample in it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig.engine.observer import NullObserver, StepProgress
from rig.engine.runner import Runner, RunVerdict
from rig.record.run_store import read_samples
from tests.engine.sim_runs import MOCKUP, PROCEDURES, recorded_in, run, variant

pytestmark = pytest.mark.integration


def _wait_for(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _rig(*args: str) -> list[str]:
    return [sys.executable, "-m", "rig", *args]


def _start(*args: str) -> subprocess.Popen[str]:
    """``rig ARGS`` in the background, its output captured as text."""
    return subprocess.Popen(_rig(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _verifies(run_dir: Path) -> None:
    verify = subprocess.run(_rig("verify", str(run_dir)), capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _fill_started(data_dir: Path) -> Path | None:
    for events in data_dir.glob("runs/*/events.jsonl"):
        if '"message": "fill at' in events.read_text():
            return events.parent
    return None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_termination_signal_during_a_fill_ends_in_the_safe_state(
    tmp_path: Path, sig: signal.Signals
) -> None:
    decay = str(PROCEDURES / "pressure_decay.yaml")
    proc = _start("run", decay, "--sim", "--speed", "20", "--data-dir", str(tmp_path), "--json")
    try:
        _wait_for(lambda: _fill_started(tmp_path) is not None, 60.0, "the fill")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    line = json.loads(out.strip().splitlines()[-1])
    name = signal.Signals(sig).name
    assert line["verdict"] == "ABORTED" and line["reason"] == f"stopped by the operator ({name})"
    run_dir = Path(line["run_dir"])
    results = json.loads((run_dir / "results.json").read_text())
    assert results["safe_state_confirmed"] is True, results["safe_state_reason"]
    assert (run_dir / "manifest.sig").is_file()  # finished and sealed
    _verifies(run_dir)


@contextlib.contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path`` (a real full disk: ENOSPC from the kernel)."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(disk: Path, leave_bytes: int) -> None:
    """Fill ``disk`` so that about ``leave_bytes`` stay free."""
    free = shutil.disk_usage(disk).free
    with (disk / "filler").open("wb") as fh:
        fh.write(b"\0" * max(free - leave_bytes, 0))


def test_a_disk_that_fills_up_mid_run_ends_aborted_and_safe(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "1m") as disk:
        _fill(disk, 120_000)  # the run's files take ~30 kB before the first sample, ~100 B a sample
        done = run(disk, "pressure_decay")
        assert done.outcome.verdict is RunVerdict.ABORTED
        assert done.outcome.reason.startswith("record: cannot write the run record")
        assert "No space left on device" in done.outcome.reason
        # The safe state never depended on the disk: applied, and shown by switches and gas.
        assert done.outcome.safe_state_confirmed, done.outcome.safe_state_reason
        done.safe_in_physics(settle_s=0.0)


def test_a_full_disk_through_the_command_is_one_line_and_exit_3(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "1m") as disk:
        _fill(disk, 120_000)
        proc = subprocess.run(
            _rig("run", str(PROCEDURES / "pressure_decay.yaml"), "--sim", "--data-dir", str(disk), "--json"),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 3, proc.stderr
        assert "Traceback" not in proc.stderr
        line = json.loads(proc.stdout.strip().splitlines()[-1])
        assert line["verdict"] == "ABORTED" and "No space left on device" in line["reason"]
        record_lines = [e for e in proc.stderr.splitlines() if e.startswith("rig run: record:")]
        assert record_lines, proc.stderr  # what of the record could not be written, one line each
        listing = subprocess.run(
            _rig("runs", "--data-dir", str(disk), "--json"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr


class _RemoveRunDir(NullObserver):
    """Deletes the run directory when the decay begins (someone tidying up the wrong folder)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.samples = 0

    def step_started(self, progress: StepProgress) -> None:
        if progress.name == "decay":
            shutil.rmtree(recorded_in(self.runner))

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        self.samples += 1


def test_a_run_directory_removed_mid_run_is_aborted_and_rebuilt_whole(tmp_path: Path) -> None:
    watched: list[_RemoveRunDir] = []

    def observe(runner: Runner) -> _RemoveRunDir:
        watched.append(_RemoveRunDir(runner))
        return watched[0]

    done = run(tmp_path, "pressure_decay", observer=observe)
    assert done.outcome.verdict is RunVerdict.ABORTED
    assert done.outcome.reason.startswith("record: cannot write the run record")
    assert "removed" in done.outcome.reason
    assert done.outcome.safe_state_confirmed
    _header, rows = read_samples(done.run_dir)
    assert len(rows) == watched[0].samples  # every sample taken is in the rebuilt record
    results = json.loads((done.run_dir / "results.json").read_text())
    assert results["record_rebuilt"]
    assert (done.run_dir / "run.json").is_file()
    assert os.path.getsize(done.run_dir / "events.jsonl") > 0


def _logged(data_dir: Path, fragment: str) -> Path | None:
    for events in data_dir.glob("runs/*/events.jsonl"):
        if fragment in events.read_text():
            return events.parent
    return None


def test_a_second_ctrl_c_while_the_safe_state_is_confirmed_finishes_the_record(tmp_path: Path) -> None:
    # A vent a hundred times narrower: the safe state then waits seconds of wall time for the gas,
    # and the second press lands in that wait (it used to be a KeyboardInterrupt traceback with no
    # results.json and no seal).
    bench = variant(tmp_path, MOCKUP, lambda t: t.replace("vent: {area: 5 mm**2", "vent: {area: 0.05 mm**2"))
    decay = str(PROCEDURES / "pressure_decay.yaml")
    args = ("--bench", str(bench), "--speed", "20", "--data-dir", str(tmp_path / "data"), "--json")
    proc = _start("run", decay, "--sim", *args)
    data = tmp_path / "data"
    try:
        _wait_for(lambda: _logged(data, '"message": "fill at') is not None, 120.0, "the fill")
        proc.send_signal(signal.SIGINT)
        _wait_for(lambda: _logged(data, '"message": "venting ') is not None, 120.0, "the safe state's vent")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    line = json.loads(out.strip().splitlines()[-1])
    run_dir = Path(line["run_dir"])
    results = json.loads((run_dir / "results.json").read_text())
    assert results["verdict"] == "ABORTED"
    # Not waited for: the vent was still under way when the second press came.
    assert results["safe_state_confirmed"] is False
    assert "not waited for" in results["safe_state_reason"]
    assert (run_dir / "manifest.sig").is_file()
    _verifies(run_dir)
