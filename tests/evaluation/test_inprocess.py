"""The in-process transport: the same drivers and protocol code as over TCP, the same record."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import pytest

from drivers.errors import InstrumentDisconnectedError, InstrumentTimeoutError
from drivers.tpg36x import Tpg36x
from rig.clock import VirtualClock
from rig.execution.bench_access import SimTransport, open_bench
from rig.execution.execute import RecordPlan, execute
from rig.procedure.loader import load_procedure
from rig.record.run_store import RunStore
from rig.sim.faults import Fault, FaultSchedule
from rig.sim.inprocess import InProcessTransport, inprocess_options
from rig.sim.servers.base import FramedSession, InstrumentServer, Session
from rig.sim.simulated_rig import SimulatedRig

ROOT = Path(__file__).resolve().parents[2]
PRESSURE_DECAY = ROOT / "procedures" / "pressure_decay.yaml"


def recorded(tmp_path: Path, transport: SimTransport, seed: int) -> Path:
    procedure = load_procedure(PRESSURE_DECAY)
    clock = VirtualClock()
    with ExitStack() as stack:
        access = open_bench(
            procedure.bench, sim=True, clock=clock, stack=stack, seed=seed, transport=transport
        )
        executed = execute(procedure, access, clock, record=RecordPlan(RunStore(tmp_path / transport)))
    assert executed.run_dir is not None, executed.outcome.reason
    return executed.run_dir


def test_a_run_in_process_records_what_the_same_run_over_tcp_records(tmp_path: Path) -> None:
    over_tcp, in_process = recorded(tmp_path, "tcp", 7), recorded(tmp_path, "inprocess", 7)
    # Byte for byte: every sample, every event (retries included), the results and their budgets.
    for name in ("samples.csv", "events.jsonl", "results.json"):
        assert (in_process / name).read_bytes() == (over_tcp / name).read_bytes(), name
    # run.json differs only by what names the run itself: its id and its wall-clock start.
    tcp_run, inproc_run = (json.loads((d / "run.json").read_text()) for d in (over_tcp, in_process))
    differing = {k for k in tcp_run.keys() | inproc_run.keys() if tcp_run.get(k) != inproc_run.get(k)}
    assert differing <= {"run_id", "started"}
    assert json.loads((in_process / "results.json").read_text())["verdict"] == "PASS"


def simulated_tpg() -> tuple[SimulatedRig, Tpg36x]:
    procedure = load_procedure(PRESSURE_DECAY)
    rig = SimulatedRig(procedure.bench, VirtualClock(), seed=1)  # never started: no socket
    driver = Tpg36x.open("inprocess://gauges", timeout_s=0.5, **inprocess_options(rig)["gauges"])
    return rig, driver


def test_the_real_driver_reads_the_simulated_gauges_without_a_socket() -> None:
    rig, driver = simulated_tpg()
    assert isinstance(driver.transport, InProcessTransport)
    assert "TPG" in driver.identity()
    atmosphere = driver.read(1)
    assert atmosphere.ok and atmosphere.pressure_pa == pytest.approx(101325.0, rel=0.1)
    assert rig.servers["gauges"].active_connections == 0  # nothing was served over TCP


def test_continuous_output_arrives_as_the_server_ticks_it() -> None:
    _, driver = simulated_tpg()
    transport = driver.transport
    transport.write(b"COM,0\r\n")  # a line every 100 ms, the first at once
    assert transport.read_line() == b"\x06"
    lines = [transport.read_line() for _ in range(3)]
    assert all(line.count(b",") == 3 for line in lines), lines  # status,value for each of 2 channels
    transport.write(b"\x03")  # any character ends continuous output
    transport.discard_input()
    with pytest.raises(InstrumentTimeoutError, match="no reply"):
        transport.read_line()


class Echo(InstrumentServer):
    """A line protocol: ``x`` answers ``x``; ``BOOM`` is a bug in the protocol code."""

    terminator = b"\n"

    def new_session(self) -> Session:
        def handle(frame: bytes) -> bytes:
            if frame == b"BOOM":
                raise RuntimeError("protocol bug")
            return frame + b"\n"

        return FramedSession(self, b"\n", handle)


def echo_with(*faults: Fault) -> tuple[InProcessTransport, VirtualClock]:
    clock = VirtualClock()
    server = Echo(faults=FaultSchedule(list(faults), clock.now).for_instrument("echo"))
    return InProcessTransport(server, "echo", "\n", timeout_s=0.5), clock


def test_connection_faults_act_as_over_tcp() -> None:
    transport, clock = echo_with(
        Fault("echo", "drop", at_s=10.0, duration_s=10.0, magnitude=2),
        Fault("echo", "garbled", at_s=30.0, duration_s=10.0),
        Fault("echo", "disconnect", at_s=50.0, duration_s=10.0),
        Fault("echo", "timeout", at_s=70.0, duration_s=10.0),
        Fault("echo", "latency", at_s=90.0, duration_s=10.0, magnitude=1.0),
    )
    transport.write(b"a\n")
    assert transport.read_line() == b"a"
    clock.advance(10.0)  # every second reply lost
    transport.write(b"b\nc\n")
    assert transport.read_line() == b"b"
    with pytest.raises(InstrumentTimeoutError):
        transport.read_line()
    clock.advance(20.0)  # garbled past parsing, the terminator kept
    transport.write(b"123\n")
    garbled = transport.read_line()
    assert len(garbled) == 3 and not any(ch in garbled for ch in b"0123456789")
    clock.advance(20.0)  # the connection is cut, and reconnecting is refused
    with pytest.raises(InstrumentDisconnectedError):
        transport.write(b"d\n")
    with pytest.raises(InstrumentDisconnectedError, match="cannot open"):
        transport.reconnect()
    clock.advance(20.0)  # back, but requests are swallowed
    transport.reconnect()
    transport.write(b"e\n")
    with pytest.raises(InstrumentTimeoutError):
        transport.read_line()
    clock.advance(10.0)
    transport.write(b"f\n")
    assert transport.read_line() == b"f"
    clock.advance(10.0)  # a latency longer than the read's timeout: the reply comes late
    transport.write(b"g\n")
    with pytest.raises(InstrumentTimeoutError):
        transport.read_line()
    assert transport.read_line() == b"g"


def test_a_protocol_bug_costs_the_connection_only() -> None:
    transport, _ = echo_with()
    with pytest.raises(InstrumentDisconnectedError, match="connection closed"):
        transport.write(b"BOOM\n")
    transport.reconnect()
    transport.write(b"fine\n")
    assert transport.read_line() == b"fine"
