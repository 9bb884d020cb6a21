"""``rig sim serve`` end to end: a separate process, real sockets, pyvisa-py, then SIGTERM."""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvisa

ROOT = Path(__file__).resolve().parents[2]
MOCKUP = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"

pytestmark = pytest.mark.integration


def first_line(proc: subprocess.Popen[str], timeout_s: float = 30.0) -> str:
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout_s):
        proc.kill()
        raise AssertionError("rig sim serve printed nothing")
    return proc.stdout.readline()


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], dict[str, dict[str, str]]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rig", "sim", "serve", "--bench", str(MOCKUP), "--seed", "3", "--speed", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, json.loads(first_line(proc))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_serve_prints_resources_answers_and_stops_on_sigterm(
    served: tuple[subprocess.Popen[str], dict[str, dict[str, str]]],
) -> None:
    proc, resources = served
    assert resources["gauges"]["model"] == "TPG362"
    assert resources["daq"]["model"] == "DAQ970A"
    assert resources["baratron"]["model"] == "MKS937B"
    for entry in resources.values():
        assert entry["resource"].startswith("TCPIP::127.0.0.1::") and entry["resource"].endswith("::SOCKET")
    rm = pyvisa.ResourceManager("@py")
    try:
        port = resources["gauges"]["resource"].split("::")[2]
        for name in (resources["gauges"]["resource"], f"ASRLsocket://127.0.0.1:{port}::INSTR"):
            tpg = rm.open_resource(name, read_termination="\r\n", write_termination="\r", timeout=3000)
            tpg.write("PR1")
            assert tpg.read() == "\x06"
            tpg.write_raw(b"\x05")
            status, value = tpg.read().split(",")
            assert status == "0" and 900.0 < float(value) < 1150.0  # mbar: the chamber starts at atmosphere
            tpg.close()
        daq = rm.open_resource(resources["daq"]["resource"], read_termination="\n", write_termination="\n")
        daq.timeout = 3000
        assert daq.query("*IDN?").startswith("Keysight Technologies,DAQ970A")
        assert daq.query("ROUT:CLOS? (@201,202,203,204,205)") == "0,0,0,0,0"  # every valve closed
        assert 15.0 < float(daq.query("MEAS:TEMP? TC,K,(@101)")) < 25.0
        daq.close()
        mks = rm.open_resource(resources["baratron"]["resource"], read_termination=";", write_termination="")
        mks.timeout = 3000
        mks.write("@253PR1?;FF")
        reply = mks.read()
        assert mks.read_bytes(2) == b"FF"
        assert reply.startswith("@253ACK") and 700.0 < float(reply[7:]) < 800.0  # Torr, the 937B default
        mks.close()
    finally:
        rm.close()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0


def test_sigint_stops_it_too(served: tuple[subprocess.Popen[str], dict[str, dict[str, str]]]) -> None:
    proc, resources = served
    assert set(resources) == {"gauges", "daq", "baratron"}
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15) == 0


def serve_refused(bench: Path, text: str) -> str:
    """Run ``rig sim serve`` on a bad bench file: it must exit 2 at once; return its stderr."""
    bench.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "rig", "sim", "serve", "--bench", str(bench)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    return done.stderr


def test_a_bench_without_physics_is_refused(tmp_path: Path) -> None:
    stderr = serve_refused(tmp_path / "real.yaml", "bench: real\ninstruments:\n  gauges: {model: TPG362}\n")
    assert "cannot be simulated" in stderr


def test_a_broken_bench_names_the_line(tmp_path: Path) -> None:
    bench = tmp_path / "broken.yaml"
    stderr = serve_refused(bench, "bench: b\ninstruments:\n  gauges: {model: TPG999}\n")
    assert f"{bench}:3:19:" in stderr and "TPG999" in stderr
