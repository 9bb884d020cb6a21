"""One controller per bench, as users meet it: a second ``rig run`` or probe on a held bench.

The bench is the simulated mockup served by ``rig sim serve`` in its own process and reached
through a bench file naming its ports, as real hardware is: the runs are not ``--sim`` runs.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rig.bench import load_bench
from rig.clock import VirtualClock
from rig.execution.bench_access import open_bench
from rig.execution.bench_lock import LOCK_DIR_ENV

ROOT = Path(__file__).resolve().parents[2]
MOCKUP = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
PRESSURE_DECAY = ROOT / "procedures" / "pressure_decay.yaml"

pytestmark = pytest.mark.integration

# A run that lasts until it is stopped: the test decides when the bench is let go.
HOLD = """\
procedure: hold
version: 1
bench: served.yaml
sample_period: 1 s
main:
  - wait: {duration: 30 min}
"""
# What the interface promises a second controller: refused within this.
REFUSED_WITHIN_S = 5.0
# Bound on a run's start (imports, calibration check, opening three instruments).
START_S = 60.0


@dataclass
class Served:
    """The served mockup: its bench file, a procedure on it, and where the locks are."""

    bench: Path
    procedure: Path
    locks: Path
    data: Path


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    locks = tmp_path / "locks"
    monkeypatch.setenv(LOCK_DIR_ENV, str(locks))  # the rig processes inherit it
    proc = subprocess.Popen(
        [sys.executable, "-m", "rig", "sim", "serve", "--bench", str(MOCKUP), "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(30.0), "rig sim serve printed nothing"
        resources = json.loads(proc.stdout.readline())
        text = MOCKUP.read_text()
        for name, entry in resources.items():
            model = entry["model"]
            address = ", address: 253" if name == "baratron" else ""
            old = f"{name}: {{model: {model}{address}}}"
            assert old in text
            text = text.replace(old, f'{name}: {{model: {model}{address}, resource: "{entry["resource"]}"}}')
        (tmp_path / "served.yaml").write_text(text)
        (tmp_path / "hold.yaml").write_text(HOLD)
        yield Served(tmp_path / "served.yaml", tmp_path / "hold.yaml", locks, tmp_path / "data")
    finally:
        proc.kill()
        proc.wait(timeout=10)


def start_run(served: Served) -> subprocess.Popen[str]:
    argv = ["run", str(served.procedure), "--data-dir", str(served.data), "--allow-expired-calibration"]
    return subprocess.Popen(
        [sys.executable, "-m", "rig", *argv, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def holder_of(served: Served, run: subprocess.Popen[str]) -> dict[str, object]:
    """What the lock files say once ``run`` holds the bench under its run id (bounded wait)."""
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()
        said = [p.read_text() for p in served.locks.glob("*.lock")] if served.locks.exists() else []
        held = [json.loads(s) for s in said if s.strip()]
        if len(held) == 3 and all(h["pid"] == run.pid and h["run_id"] for h in held):
            return held[0]
        time.sleep(0.1)
    raise AssertionError(f"the run did not take the bench within {START_S} s")


def rig(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "rig", *args], capture_output=True, text=True, timeout=60, check=False
    )
    return done, time.monotonic() - began


def test_a_second_run_or_probe_on_a_held_bench_is_refused_at_once(served: Served, tmp_path: Path) -> None:
    first = start_run(served)
    try:
        holder = holder_of(served, first)
        other_data = tmp_path / "other_data"
        second, second_s = rig(
            "run",
            str(served.procedure),
            "--data-dir",
            str(other_data),
            "--allow-expired-calibration",
            "--json",
        )
        probe, probe_s = rig("instruments", "probe", "--bench", str(served.bench))
        for done, took_s in ((second, second_s), (probe, probe_s)):
            assert done.returncode == 2, done.stderr
            assert took_s < REFUSED_WITHIN_S
            (line,) = done.stderr.strip().splitlines()
            assert "busy" in line and f"pid {first.pid}" in line
            assert f"run {holder['run_id']}" in line and f"since {holder['since']}" in line
            assert "vacuum_chamber_mockup" in line and done.stdout == ""
        assert not (other_data / "runs").exists() or not list((other_data / "runs").iterdir())
        assert first.poll() is None  # the holder goes on
    finally:
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=60)
    assert first.returncode == 3, err  # stopped by the operator, in the safe state
    result = json.loads(out.strip().splitlines()[-1])
    assert result["verdict"] == "ABORTED" and "seed" not in result  # real instruments: no seed
    assert json.loads((Path(result["run_dir"]) / "run.json").read_text())["seed"] is None
    # The bench is free again, and its lock files are gone with the run.
    assert list(served.locks.glob("*.lock")) == []
    probe, _ = rig("instruments", "probe", "--bench", str(served.bench), "--json")
    assert probe.returncode == 0, probe.stderr
    assert "DAQ970A" in json.loads(probe.stdout)["daq"]["identity"]


def test_a_killed_holder_does_not_block(served: Served) -> None:
    first = start_run(served)
    try:
        holder_of(served, first)
    finally:
        first.kill()  # SIGKILL: no safe state, no cleanup, the lock files stay
        first.communicate(timeout=30)
    left = list(served.locks.glob("*.lock"))
    assert len(left) == 3 and all(json.loads(p.read_text())["pid"] == first.pid for p in left)
    probe, took_s = rig("instruments", "probe", "--bench", str(served.bench), "--json")
    assert probe.returncode == 0, probe.stderr
    assert took_s < REFUSED_WITHIN_S * 6  # not waiting on anything (generous: a loaded machine)
    assert list(served.locks.glob("*.lock")) == []  # taken over, then given back


def test_simulated_runs_of_one_bench_file_do_not_block_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCK_DIR_ENV, str(tmp_path / "locks"))
    from contextlib import ExitStack

    # This process holds its own simulation of the mockup, locked, for as long as the others run.
    with ExitStack() as stack:
        access = open_bench(load_bench(MOCKUP), sim=True, clock=VirtualClock(), stack=stack, command="test")
        assert access.lock is not None and len(list((tmp_path / "locks").glob("*.lock"))) == 3
        run, _ = rig("run", str(PRESSURE_DECAY), "--sim", "--data-dir", str(tmp_path / "data"), "--json")
        assert run.returncode == 0, run.stderr
        probe, _ = rig("instruments", "probe", "--bench", str(MOCKUP), "--sim", "--json")
        assert probe.returncode == 0, probe.stderr
    assert os.listdir(tmp_path / "locks") == []
