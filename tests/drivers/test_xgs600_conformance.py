"""The Agilent XGS-600 driver passes the conformance kit (rig.testing) against its simulator.

Twelve sensor positions (six two-sensor boards), each at its own pressure; every unit the
controller reports in (``#0013``: Torr, mbar, Pa) tried on a fresh connection and changed at the
front panel mid-connection.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from drivers.readings import GaugeState, PressureReading
from drivers.xgs600 import MIN_QUERY_INTERVAL_S
from rig.sim.backend import ServerFaults
from rig.sim.servers.base import InstrumentServer
from rig.sim.servers.xgs import XgsServer
from rig.testing import GaugeConformance

pytestmark = pytest.mark.integration

# ``#0013`` codes: 00 Torr (the factory setting), 01 mbar, 02 Pa.
UNIT_CODES = ("00", "01", "02")


class TestXgs600(GaugeConformance):
    model = "XGS600"
    # The manual's 10 queries a second: the driver may wait up to one interval before a command's
    # first attempt (after the reading that precedes it), time the retry bound does not count.
    jitter_s: ClassVar[float] = GaugeConformance.jitter_s + MIN_QUERY_INTERVAL_S
    # As a run opens it on its simulator (XgsServer.driver_options): the simulated box answers at
    # any rate, and the driver's pacing (tested in test_xgs600_integration and test_xgs600) would
    # otherwise spend a tenth of a second of every query here (7 s a unit test, 12 channels × 3 units).
    open_options: ClassVar[dict[str, Any]] = {"min_interval_s": 0.0}

    def make_server(self, faults: ServerFaults) -> InstrumentServer:
        self.gauges = self.static_gauges()
        return XgsServer(self.gauges, faults=faults, address=self.open_options.get("address", 0))

    def display_units(self) -> tuple[Any, ...]:
        return UNIT_CODES

    def set_display_unit(self, server: Any, unit: Any) -> None:
        server.unit_code = unit

    def expected_reading(self, channel: int, state: GaugeState, pressure_pa: float) -> PressureReading:
        # One word, NOCBL ("no cable"), stands for a sensor missing and one not identified: the
        # XGS-600 has no code of its own for the second.
        if state is GaugeState.IDENTIFICATION_ERROR:
            return PressureReading(channel, GaugeState.NO_SENSOR, None)
        return super().expected_reading(channel, state, pressure_pa)


class TestXgs600OverSerial(TestXgs600):
    resource_kind = "asrl"  # its RS-232 port (address 00)


class TestXgs600AtItsOwnAddress(TestXgs600):
    open_options: ClassVar[dict[str, Any]] = {"address": 5, "min_interval_s": 0.0}  # an RS-485 drop
