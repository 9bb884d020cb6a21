"""A differential head's ±10 V output on a DAQ input: the bytes, the scale, the sign, saturation.

The head's volts travel as ``MEAS:VOLT:DC? (@115)`` → ``-1.23456780E-01`` (protocols.md table
5.2 row 13) from the simulated DAQ970A through pyvisa-py over loopback TCP; the driver scales
them by the full scale the bench declares. The simulated mockup's head reads the true
p(article) − p(reference) of its physics.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.daq970a import Daq970a
from drivers.differential import DifferentialTransducer
from drivers.models import DIFFERENTIAL_TRANSDUCER
from drivers.readings import GaugeState
from rig.bench import load_bench
from rig.clock import VirtualClock
from rig.sim.backend import StaticDaq
from rig.sim.bench_physics import build_simulation
from rig.sim.servers.daq import DaqServer
from tests.engine.sim_runs import MOCKUP, variant

FULL_SCALE_PA = 1000.0


def test_volts_scale_to_signed_pascals_and_saturation_reads_out_of_range() -> None:
    head = DifferentialTransducer(FULL_SCALE_PA, 115)
    assert head.pa_per_volt == FULL_SCALE_PA / DIFFERENTIAL_TRANSDUCER.output_full_scale_v
    assert head.reading(-0.1234567).pressure_pa == pytest.approx(-12.34567)
    assert head.reading(10.0).pressure_pa == pytest.approx(FULL_SCALE_PA)
    assert head.reading(0.0).state is GaugeState.OK
    # Beyond its range the output sits on its rail: "beyond", never a number.
    assert head.reading(11.0).state is GaugeState.OVERRANGE
    assert head.reading(-11.0).state is GaugeState.UNDERRANGE
    assert head.volts_for(-1e5) == -DIFFERENTIAL_TRANSDUCER.saturation_v
    assert head.volts_for(250.0) == pytest.approx(2.5)
    with pytest.raises(ValueError):
        DifferentialTransducer(0.0, 115)


@pytest.mark.integration
def test_the_head_over_the_wire_byte_for_byte() -> None:
    bench = StaticDaq(voltages={115: -0.123456780})
    with DaqServer(bench) as server:
        assert server.handle_line("MEAS:VOLT:DC? (@115)") == b"-1.23456780E-01\n"
        with Daq970a.open(server.resource, timeout_s=2.0) as daq:
            reading = DifferentialTransducer(FULL_SCALE_PA, 115).read(daq)
            assert reading.state is GaugeState.OK
            assert reading.pressure_pa == pytest.approx(-12.345678, abs=1e-9)
            bench.voltages[115] = 11.0
            assert DifferentialTransducer(FULL_SCALE_PA, 115).read(daq).state is GaugeState.OVERRANGE


def test_the_simulated_head_reads_the_true_difference(tmp_path: Path) -> None:
    def two_levels(text: str) -> str:
        text = text.replace(
            "    article: {thermal_tau: 60 s}",
            "    article: {thermal_tau: 60 s, initial_pressure: 200300 Pa}",
        )
        return text.replace(
            "    reference: {thermal_tau: 60 s}",
            "    reference: {thermal_tau: 60 s, initial_pressure: 200000 Pa}",
        )

    spec = load_bench(variant(tmp_path, MOCKUP, two_levels))
    clock = VirtualClock()
    simulation = build_simulation(spec, clock, seed=5)
    head = DifferentialTransducer(FULL_SCALE_PA, 115)
    truth = simulation.true_pressure_pa("article") - simulation.true_pressure_pa("reference")
    read = head.reading(simulation.volts("daq", 115))
    assert read.state is GaugeState.OK
    # Within its 0.3 % of reading, its noise (0.005 Pa) and its 0.01 Pa steps.
    assert read.pressure_pa == pytest.approx(truth, abs=0.003 * abs(truth) + 0.05)
    assert 250.0 < read.pressure_pa < 350.0
    # The mockup's starting state (article at 1 atm, reference at 1 atm) reads zero.
    plain = build_simulation(load_bench(MOCKUP), VirtualClock(), seed=5)
    assert abs(head.reading(plain.volts("daq", 115)).pressure_pa or 0.0) < 0.1


def test_past_the_range_physics_gives_it_the_output_sits_on_its_rail(tmp_path: Path) -> None:
    def narrow(text: str) -> str:
        text = text.replace(
            "    article: {thermal_tau: 60 s}",
            "    article: {thermal_tau: 60 s, initial_pressure: 101025 Pa}",
        )
        return text.replace("dp_article: {type: CMR, ", "dp_article: {type: CMR, min: -200 Pa, max: 200 Pa, ")

    simulation = build_simulation(load_bench(variant(tmp_path, MOCKUP, narrow)), VirtualClock(), seed=5)
    volts = simulation.volts("daq", 115)
    assert volts == -DIFFERENTIAL_TRANSDUCER.saturation_v
    assert DifferentialTransducer(FULL_SCALE_PA, 115).reading(volts).state is GaugeState.UNDERRANGE
