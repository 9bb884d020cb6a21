"""The whole simulated rig in one process: servers over the shared virtual clock and physics."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvisa
from pyvisa.errors import VisaIOError

from rig.bench import load_bench
from rig.clock import VirtualClock
from rig.sim.simulated_rig import SimulatedRig

ROOT = Path(__file__).resolve().parents[2]
MOCKUP = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"

pytestmark = pytest.mark.integration


def pr1(tpg: pyvisa.resources.MessageBasedResource) -> str:
    tpg.write("PR1")
    assert tpg.read() == "\x06"
    tpg.write_raw(b"\x05")
    return str(tpg.read())


def test_a_declared_timeout_fault_silences_the_gauge_only_in_its_window(tmp_path: Path) -> None:
    text = (
        MOCKUP.read_text() + "\nfaults:\n  - {instrument: gauges, kind: timeout, at: 10 s, duration: 5 s}\n"
    )
    bench_file = tmp_path / "faulty.yaml"
    bench_file.write_text(text)
    clock = VirtualClock()
    rm = pyvisa.ResourceManager("@py")
    with SimulatedRig(load_bench(bench_file), clock) as rig:
        tpg = rm.open_resource(
            rig.resources()["gauges"]["resource"], read_termination="\r\n", write_termination="\r"
        )
        tpg.timeout = 400
        assert pr1(tpg).startswith("0,")
        clock.advance(11.0)
        tpg.write("PR1")
        with pytest.raises(VisaIOError):
            tpg.read()
        clock.advance(5.0)
        tpg.write_raw(b"\x03")  # a driver's resynchronisation: clear the controller's input
        assert pr1(tpg).startswith("0,")
        tpg.close()
    rm.close()


def test_valves_through_the_daq_move_the_physics_the_gauges_see() -> None:
    clock = VirtualClock()
    rm = pyvisa.ResourceManager("@py")
    with SimulatedRig(load_bench(MOCKUP), clock, seed=5) as rig:
        res = rig.resources()
        daq = rm.open_resource(res["daq"]["resource"], read_termination="\n", write_termination="\n")
        tpg = rm.open_resource(res["gauges"]["resource"], read_termination="\r\n", write_termination="\r")
        daq.timeout = tpg.timeout = 2000
        daq.write("ROUT:CLOS (@203)")  # the pump valve
        assert daq.query("*OPC?") == "1"  # the command is done before simulated time moves on
        clock.advance(900.0)
        assert daq.query("ROUT:CLOS? (@203)") == "1"
        assert rig.simulation.valve_is_open("pump")
        status, value_mbar = pr1(tpg).split(",")
        assert status == "0" and float(value_mbar) < 0.1  # pumped down from 1013 mbar
        daq.write("*RST")
        assert daq.query("*OPC?") == "1"
        clock.advance(1.0)
        assert not rig.simulation.valve_is_open("pump")
        daq.close()
        tpg.close()
    rm.close()
