"""Every error reaches the user as one line with its documented exit code, never as a traceback.

Where a real pipe, signal or process exit matters, ``rig`` runs as a process
(``python -m rig``); otherwise in this one, through :func:`rig.cli.main`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

import rig.commands.verify
from rig.cli import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_SOFTWARE, EXIT_USAGE, main
from rig.record.run_store import RunStore
from tests.commands.test_run_errors import BENCH
from tests.listening import Mute, nobody_listening
from tests.processes import as_from_a_shell

ROOT = Path(__file__).resolve().parents[1]
DECAY_CSV = ROOT / "procedures" / "examples" / "pressure_decay_1L.csv"
TIMEOUT_S = 60


def rig_process(*argv: str, stdout: int | IO[str] = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    """``python -m rig ARGV`` with stdin from /dev/null, stderr captured, stdout to ``stdout``."""
    return subprocess.run(
        [sys.executable, "-m", "rig", *argv],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- OSError: one line, exit 2 ----------------------------------------------------------------------


def test_a_file_the_system_refuses_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    image = tmp_path / "no" / "such" / "dir" / "x.png"
    code = main(["analyze", str(DECAY_CSV), "--volume", "1 L", "--plot", str(image)])
    line = one_line(capsys.readouterr().err)
    assert code == EXIT_USAGE
    assert line == f"rig analyze: error: {image}: No such file or directory"


def test_debug_shows_the_traceback_and_keeps_the_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    image = tmp_path / "no" / "x.png"
    code = main(["--debug", "analyze", str(DECAY_CSV), "--volume", "1 L", "--plot", str(image)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert err.startswith("Traceback (most recent call last):") and "FileNotFoundError" in err
    assert err.strip().splitlines()[-1] == f"rig analyze: error: {image}: No such file or directory"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_is_one_line(tmp_path: Path) -> None:
    RunStore(tmp_path).create("p", "b", [], {}, {}).finish("passed", "PASS", None, {})
    with open("/dev/full", "w") as full:  # every write fails with ENOSPC
        done = rig_process("runs", "--data-dir", str(tmp_path), "--json", stdout=full)
    assert done.returncode == EXIT_USAGE
    assert one_line(done.stderr) == "rig runs: error: No space left on device"


# --- a bug of ours: one line, exit 70 ---------------------------------------------------------------


def _a_bug(_: object) -> int:
    return {"one": 1}["two"]


def test_an_unexpected_error_is_one_line_with_exit_70(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No real bug is known (it would be fixed): stand one in for a command's handler.
    monkeypatch.setattr(rig.commands.verify, "run", _a_bug)
    assert main(["verify", "somewhere"]) == EXIT_SOFTWARE
    assert one_line(capsys.readouterr().err) == (
        "rig verify: internal error: KeyError: 'two' (run with --debug for details)"
    )
    assert main(["--debug", "verify", "somewhere"]) == EXIT_SOFTWARE
    err = capsys.readouterr().err
    assert "Traceback" in err and "_a_bug" in err
    assert err.strip().splitlines()[-1].startswith("rig verify: internal error: KeyError")


# --- Ctrl-C: one line, exit 130 ---------------------------------------------------------------------


@pytest.mark.integration
def test_ctrl_c_is_one_line_with_exit_130(tmp_path: Path) -> None:
    mute = Mute()
    try:
        bench = tmp_path / "bench.yaml"
        bench.write_text(BENCH.format(gauges=mute.resource, daq=nobody_listening()))
        proc = subprocess.Popen(
            [sys.executable, "-m", "rig", "instruments", "probe", "--bench", str(bench), "--timeout", "60"],
            preexec_fn=as_from_a_shell,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert mute.wait_for_request(TIMEOUT_S)  # the probe now waits for a reply that never comes
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=TIMEOUT_S)
        finally:
            proc.kill()
            proc.wait()
    finally:
        mute.close()
    assert proc.returncode == EXIT_INTERRUPTED
    assert (out, one_line(err)) == ("", "rig instruments: interrupted")


# --- a closed pipe: quiet, exit 141 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["runs", "--json"], EXIT_BROKEN_PIPE),
        (["runs"], EXIT_BROKEN_PIPE),
        (["analyze", str(DECAY_CSV), "--volume", "1 L"], EXIT_BROKEN_PIPE),
        (["analyze", str(DECAY_CSV), "--volume", "1 L", "--json"], EXIT_BROKEN_PIPE),
        (["--help"], 0),  # argparse's own choice: it ignores a failed write of the help
    ],
    ids=["runs-json", "runs-table", "analyze-table", "analyze-json", "help"],
)
def test_output_into_a_closed_pipe_stops_quietly(tmp_path: Path, argv: list[str], code: int) -> None:
    data_dir = tmp_path / "data"
    for _ in range(3):
        RunStore(data_dir).create("decay", "mockup", [], {}, {}).finish("passed", "PASS", None, {})
    if argv[0] == "runs":
        argv = [*argv, "--data-dir", str(data_dir)]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before rig writes a byte: every write fails with EPIPE
    try:
        done = rig_process(*argv, stdout=write_end)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (code, "")


@pytest.mark.integration
def test_a_run_whose_live_view_has_no_reader_still_ends_in_its_safe_state(tmp_path: Path) -> None:
    # `rig run … 2>&1 | head` once left the run at its first step, before the safe state, exit 1 (FAIL).
    procedure = ROOT / "procedures" / "pressure_decay.yaml"
    argv = ["run", str(procedure), "--sim", "--data-dir", str(tmp_path), "--json"]
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "rig", *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=write_end,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0  # PASS, as the same run with a reader
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["verdict"] == "PASS"
    run = RunStore(tmp_path).runs()[0]
    assert (run.status, run.verdict) == ("passed", "PASS")
    results = json.loads((Path(run.run_dir) / "results.json").read_text())
    assert results["safe_state_confirmed"] is True


# --- the team's careless-invocation check ------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "{tmp}/p.yaml"],
        ["validate", "{tmp}"],
        ["runs", "show", "nosuchrun", "--data-dir", "{tmp}"],
        ["analyze", "{tmp}/flat.csv", "--volume", "1", "--json"],
        ["verify", "{tmp}"],
        ["instruments", "probe", "--bench", "{tmp}/p.yaml"],
        ["runs", "--data-dir", "{tmp}/flat.csv"],
        ["analyze", "{tmp}/flat.csv", "--volume", "1L", "--plot", "{tmp}/no/such/dir/x.png"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_careless_invocations_are_one_clear_refusal(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "p.yaml").write_text("procedure: x\nmain: [{repeat: {times: 1000000000, steps: []}}]\n")
    (tmp_path / "flat.csv").write_text("time,pressure\n0,1\n1,1\n2,1\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = rig_process(*(a.format(tmp=tmp_path) for a in argv))
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines and all(line.startswith((str(tmp_path), f"rig {argv[0]}: error: ")) for line in lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, not even an index
