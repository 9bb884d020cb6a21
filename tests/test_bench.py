"""Bench files: the shipped simulated benches load; mistakes are named with file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig import bench as bench_module
from rig.bench import load_bench
from rig.clock import VirtualClock
from rig.located_yaml import LocatedError
from rig.sim import bench_physics
from rig.sim.backend import GaugeStatus
from rig.sim.bench_physics import build_simulation

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ROOT / "procedures" / "benches"


def test_vacuum_chamber_mockup_as_the_interface_says() -> None:
    bench = load_bench(BENCHES / "vacuum_chamber_mockup.yaml")
    assert {n: i.model for n, i in bench.instruments.items()} == {
        "gauges": "TPG362",
        "daq": "DAQ970A",
        "baratron": "MKS937B",
    }
    assert bench.simulated
    assert len([c for c in bench.channels.values() if c.measures == "pressure"]) == 3
    assert len([c for c in bench.channels.values() if c.measures == "temperature"]) == 2
    assert {"supply", "vent", "pump"} <= set(bench.valves)
    sim = build_simulation(bench, VirtualClock())
    assert sim.true_pressure_pa("chamber") == pytest.approx(101325.0)
    assert not any(sim.valve_is_open(name) for name in bench.valves)


def test_iss_mockup_hatches_start_open_and_close_on_their_relay() -> None:
    bench = load_bench(BENCHES / "iss_segment_mockup.yaml")
    clock = VirtualClock()
    sim = build_simulation(bench, clock)
    assert all(sim.valve_is_open(name) for name in bench.valves)
    daq = sim.daq_backend("daq")
    daq.set_relay(204, True)  # close the hatch between the work compartment and the PrK
    clock.advance(3600.0)
    assert not sim.valve_is_open("hatch_ro_prk")
    drop_prk = 101300.0 - sim.true_pressure_pa("prk")
    drop_ro = 101300.0 - sim.true_pressure_pa("ro")
    assert drop_prk > 100.0 * drop_ro  # the isolated PrK loses pressure fast: that is where the leak is


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bench.yaml"
    path.write_text(text)
    return path


MINIMAL = """\
bench: b
instruments:
  gauges: {model: TPG362}
  daq: {model: DAQ970A}
volumes:
  chamber: {size: 10 L}
channels:
  p: {instrument: gauges, channel: 1, measures: pressure, volume: chamber}
valves:
  vent: {instrument: daq, channel: 201, between: [chamber, atmosphere]}
safe_state: {vent: open}
physics:
  outside:
    atmosphere: {pressure: 1 atm}
"""


def position(text: str, marker: str) -> str:
    """line:col (1-based) of the first ``marker`` in ``text``."""
    offset = text.index(marker)
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{col}"


@pytest.mark.parametrize(
    ("change", "marker", "message"),
    [
        (("size: 10 L", "size: 10"), "10}", "expected a volume with units"),
        (("size: 10 L", "size: -10 L"), "-10 L", "volume must be positive"),
        (("instrument: gauges, channel: 1", "instrument: gauge, channel: 1"), "gauge,", "unknown instrument"),
        (("measures: pressure", "measures: pressur"), "pressur,", "not one of"),
        (("volume: chamber}", "volume: chamb}"), "chamb}", "unknown volume 'chamb'"),
        (
            ("  daq: {model: DAQ970A}", "  daq: {model: DAQ970A, colour: red}"),
            "colour",
            "unknown key 'colour'",
        ),
        (("between: [chamber, atmosphere]", "between: [chamber]"), "[chamber]", "exactly two places"),
        (("bench: b", "bench: b\nbench: c"), "bench: c", "duplicate key 'bench'"),
        (("size: 10 L}", "size: 10 L, uncertainty: -1 L}"), "-1 L", "uncertainty cannot be negative"),
        (("volume: chamber}", "volume: chamber, noise: -0.3 Pa}"), "-0.3 Pa", "noise cannot be negative"),
        (
            ("volume: chamber}", "volume: chamber, resolution: -1 Pa}"),
            "-1 Pa",
            "resolution cannot be negative",
        ),
        (("volume: chamber}", "volume: chamber, accuracy: 0}"), "0}", "accuracy is a fraction"),
        (("volume: chamber}", "volume: chamber, accuracy: 1.5}"), "1.5}", "accuracy is a fraction"),
        (("volume: chamber}", "volume: chamber, accuracy: 1 %}"), "1 %}", "expected a finite number"),
        (("valves:\n", "limits: {vent_time: -5 min}\nvalves:\n"), "-5 min", "must be positive"),
        (("valves:\n", "limits: {vent_time: 5 Pa}\nvalves:\n"), "5 Pa", "is not a time"),
        (("  outside:", "  wormholes: []\n  outside:"), "wormholes", "unknown key 'wormholes'"),
        (
            ("physics:\n  outside:\n    atmosphere: {pressure: 1 atm}\n", "physics: [seed]\n"),
            "[seed]",
            "expected a mapping",
        ),
        (
            ("valves:\n", "valves:\n  supply: {instrument: daq, channel: 201, between: [supply, chamber]}\n"),
            "201, between: [chamber",
            "valve 'vent' is on channel 201 of 'daq', like valve 'supply': moving one would move the other",
        ),
        (
            ("valves:\n", "  p2: {instrument: gauges, channel: 1, measures: pressure}\nvalves:\n"),
            "1, measures: pressure}\nvalves",
            "channel 'p2' is on channel 1 of 'gauges', like channel 'p'",
        ),
    ],
)
def test_mistakes_are_located(tmp_path: Path, change: tuple[str, str], marker: str, message: str) -> None:
    text = MINIMAL.replace(*change)
    path = write(tmp_path, text)
    with pytest.raises(LocatedError) as info:
        load_bench(path)
    assert str(info.value).startswith(f"{path}:{position(text, marker)}: "), str(info.value)
    assert message in str(info.value)


def test_physics_mistakes_are_located(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("between: [chamber, atmosphere]", "between: [chamber, outside]"))
    bench = load_bench(path)
    with pytest.raises(LocatedError, match=r"bench.yaml:10:\d+: valve 'vent' connects 'outside'"):
        build_simulation(bench, VirtualClock())


def test_faults_from_the_bench_file_act_on_the_simulation(tmp_path: Path) -> None:
    text = MINIMAL + (
        "faults:\n"
        "  - {instrument: gauges, kind: sensor_error, at: 1 min, duration: 30 s, channel: 1}\n"
        "  - {instrument: daq, kind: stuck_valve, at: 0 s, channel: 201}\n"
    )
    clock = VirtualClock()
    sim = build_simulation(load_bench(write(tmp_path, text)), clock)
    gauges = sim.gauge_backend("gauges", 2)
    assert gauges.read(1).status is GaugeStatus.OK
    clock.advance(70.0)
    assert gauges.read(1).status is GaugeStatus.SENSOR_ERROR
    clock.advance(30.0)
    assert gauges.read(1).status is GaugeStatus.OK
    sim.daq_backend("daq").set_relay(201, True)
    clock.advance(10.0)
    assert not sim.valve_is_open("vent")


def test_a_drop_fault_reads_its_period(tmp_path: Path) -> None:
    text = MINIMAL + (
        "faults:\n"
        "  - {instrument: gauges, kind: drop, at: 0 s, every: 7}\n"
        "  - {instrument: daq, kind: drop, at: 1 min}\n"
    )
    sim = build_simulation(load_bench(write(tmp_path, text)), VirtualClock())
    assert sim.faults.for_instrument("gauges").active("drop") == 7.0
    assert sim.faults.for_instrument("daq").active("drop") is None  # not yet
    bad = MINIMAL + "faults:\n  - {instrument: gauges, kind: drop, at: 0 s, every: 1}\n"
    with pytest.raises(LocatedError, match="at least 2"):
        build_simulation(load_bench(write(tmp_path, bad)), VirtualClock())


def test_unknown_fault_kind_is_located(tmp_path: Path) -> None:
    text = MINIMAL + "faults:\n  - {instrument: gauges, kind: meteor, at: 1 s}\n"
    bench = load_bench(write(tmp_path, text))
    with pytest.raises(LocatedError, match=rf"bench.yaml:{position(text, 'meteor')}: 'meteor' is not one of"):
        build_simulation(bench, VirtualClock())


def test_one_input_may_carry_two_names_on_different_instruments(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace("  daq: {model: DAQ970A}\n", "  daq: {model: DAQ970A}\n  daq2: {model: DAQ970A}\n")
        .replace(
            "valves:\n", "valves:\n  supply: {instrument: daq2, channel: 201, between: [supply, chamber]}\n"
        )
        .replace("{vent: open}", "{vent: open, supply: closed}")
    )
    bench = load_bench(write(tmp_path, text))
    assert {v.instrument for v in bench.valves.values()} == {"daq", "daq2"}


def test_channel_accuracy_is_optional(tmp_path: Path) -> None:
    text = MINIMAL.replace("volume: chamber}", "volume: chamber, accuracy: 0.0025}")
    assert load_bench(write(tmp_path, text)).channels["p"].accuracy == 0.0025
    assert load_bench(write(tmp_path, MINIMAL)).channels["p"].accuracy is None


def test_the_vent_time_defaults_to_ten_minutes(tmp_path: Path) -> None:
    assert load_bench(write(tmp_path, MINIMAL)).vent_time_s == 600.0
    text = MINIMAL.replace("valves:\n", "limits: {vent_time: 2 h}\nvalves:\n")
    assert load_bench(write(tmp_path, text)).vent_time_s == 7200.0


def test_the_physics_parts_are_defined_once_and_checked_at_load() -> None:
    assert bench_physics.PHYSICS_KEYS is bench_module.PHYSICS_KEYS
    # Every part the shipped benches use is known.
    for path in BENCHES.glob("*.yaml"):
        load_bench(path)
