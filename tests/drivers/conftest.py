"""Shared fixtures for driver tests: simulated servers on loopback with in-memory benches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rig.sim.backend import GaugeReading, GaugeStatus, StaticDaq, StaticGauges
from rig.sim.servers.daq import DaqServer
from rig.sim.servers.mks import MksServer
from rig.sim.servers.tpg import TpgServer
from rig.testing import SwitchableFaults

# The kit's faults double, under the name these tests have always used.
CountingFaults = SwitchableFaults


@pytest.fixture
def faults() -> CountingFaults:
    return CountingFaults()


@pytest.fixture
def tpg_bench() -> StaticGauges:
    return StaticGauges(
        readings={1: GaugeReading(GaugeStatus.OK, 101325.0), 2: GaugeReading(GaugeStatus.OK, 1.5e-3)},
        sensor_ids={1: "CMR", 2: "PKR"},
        switchable_channels={2},
    )


@pytest.fixture
def tpg_server(tpg_bench: StaticGauges, faults: CountingFaults) -> Iterator[TpgServer]:
    with TpgServer(tpg_bench, faults=faults) as server:
        yield server


@pytest.fixture
def mks_bench() -> StaticGauges:
    return StaticGauges(
        readings={1: GaugeReading(GaugeStatus.OK, 101325.0), 2: GaugeReading(GaugeStatus.OK, 1.33e-7)},
        sensor_ids={1: "CM", 2: "HC"},
        switchable_channels={2},
    )


@pytest.fixture
def mks_server(mks_bench: StaticGauges, faults: CountingFaults) -> Iterator[MksServer]:
    with MksServer(mks_bench, faults=faults) as server:
        yield server


@pytest.fixture
def daq_bench() -> StaticDaq:
    return StaticDaq()


@pytest.fixture
def daq_server(daq_bench: StaticDaq, faults: CountingFaults) -> Iterator[DaqServer]:
    with DaqServer(daq_bench, faults=faults) as server:
        yield server
