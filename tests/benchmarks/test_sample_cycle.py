"""One sample cycle of the mockup bench through the drivers, beside raw pyvisa sending the same bytes.

A cycle: both TPG channels (PRX), both thermocouples, the five valve relays' states. The
raw side replays exactly the messages the drivers sent in a recorded cycle, so the ratio
of the two medians is the drivers' own overhead (targets: ≥ 200 cycles/s, ≤ 1.3×).

    pytest tests/benchmarks/test_sample_cycle.py --benchmark-enable --benchmark-only
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pyvisa

from drivers.daq970a import Daq970a
from drivers.tpg36x import Tpg36x
from rig.bench import load_bench
from rig.clock import VirtualClock
from rig.sim.simulated_rig import SimulatedRig

MOCKUP = Path(__file__).resolve().parents[2] / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
RELAYS = [201, 202, 203, 204, 205]


@dataclass
class Recording:
    """A transport proxy that notes every operation of its driver."""

    inner: Any
    ops: list[tuple[str, Any]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write(self, data: bytes) -> None:
        self.ops.append(("write", data))
        self.inner.write(data)

    def read_line(self) -> bytes:
        self.ops.append(("read_line", None))
        data: bytes = self.inner.read_line()
        return data

    def read_exact(self, count: int) -> bytes:
        self.ops.append(("read_exact", count))
        data: bytes = self.inner.read_exact(count)
        return data


@dataclass
class Bench:
    rig: SimulatedRig
    tpg: Tpg36x
    daq: Daq970a
    rm: Any
    raw_daq: Any
    tpg_ops: list[tuple[str, Any]]
    daq_ops: list[tuple[str, Any]]


def cycle(tpg: Tpg36x, daq: Daq970a) -> tuple[list[Any], float, float, dict[int, bool]]:
    return tpg.read_all(), daq.temperature_k(101), daq.temperature_k(102), daq.relays_closed(RELAYS)


def replay(resource: Any, ops: list[tuple[str, Any]]) -> None:
    for op, arg in ops:
        if op == "write":
            resource.write_raw(arg)
        elif op == "read_line":
            resource.read_raw()
        else:
            resource.read_bytes(arg)


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    rm = pyvisa.ResourceManager("@py")
    with SimulatedRig(load_bench(MOCKUP), VirtualClock(), seed=1) as rig:
        res = rig.resources()
        tpg = Tpg36x.open(res["gauges"]["resource"])
        daq = Daq970a.open(res["daq"]["resource"])
        cycle(tpg, daq)  # units and identities are learnt once, outside the measured cycles
        recorders = Recording(tpg.transport), Recording(daq.transport)
        tpg.transport, daq.transport = recorders  # type: ignore[assignment]
        cycle(tpg, daq)
        tpg.transport, daq.transport = recorders[0].inner, recorders[1].inner
        raw_daq = rm.open_resource(res["daq"]["resource"], read_termination="\n", write_termination="")
        yield Bench(rig, tpg, daq, rm, raw_daq, recorders[0].ops, recorders[1].ops)
        raw_daq.close()
        tpg.close()
        daq.close()
    rm.close()


@pytest.mark.benchmark(group="sample-cycle")
def test_cycle_through_the_drivers(benchmark: Any, bench: Bench) -> None:
    readings, t101, t102, relays = benchmark(cycle, bench.tpg, bench.daq)
    assert [r.ok for r in readings] == [True, True]
    assert 280.0 < t101 < 310.0 and 280.0 < t102 < 310.0
    assert relays == dict.fromkeys(RELAYS, False)
    assert bench.tpg.stats.retries == 0 and bench.daq.stats.retries == 0


@pytest.mark.benchmark(group="sample-cycle")
def test_cycle_raw_pyvisa_same_messages(benchmark: Any, bench: Bench) -> None:
    assert bench.tpg_ops and bench.daq_ops
    # The TPG serves one client at a time, like the real controller: the raw client takes its turn.
    bench.tpg.close()
    resource = bench.rig.resources()["gauges"]["resource"]
    raw_tpg = bench.rm.open_resource(resource, read_termination="\r\n", write_termination="")
    try:

        def raw_cycle() -> None:
            replay(raw_tpg, bench.tpg_ops)
            replay(bench.raw_daq, bench.daq_ops)

        benchmark(raw_cycle)
        raw_tpg.write_raw(b"PR1\r")
        assert raw_tpg.read_raw() == b"\x06\r\n"  # still in step after all the replays
        raw_tpg.write_raw(b"\x05")
        assert raw_tpg.read_raw().startswith(b"0,")
    finally:
        raw_tpg.close()
