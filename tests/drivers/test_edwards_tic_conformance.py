"""The Edwards TIC driver passes the conformance kit (rig.testing) against its simulator.

Serial readings come in Pa (units type 59) whatever the front panel shows: the panel's unit
(setup 929: kPa, mbar, Torr) is changed on a fresh connection and mid-connection, and the
readings must not move.
"""

from __future__ import annotations

from typing import Any

import pytest

from rig.sim.backend import ServerFaults
from rig.sim.servers.base import InstrumentServer
from rig.sim.servers.tic import TicServer
from rig.testing import GaugeConformance

pytestmark = pytest.mark.integration

# Setup 929's codes: 1 kPa, 2 mbar (the factory setting), 3 Torr.
PANEL_UNITS = (1, 2, 3)


class TestTic(GaugeConformance):
    model = "TIC"

    def make_server(self, faults: ServerFaults) -> InstrumentServer:
        self.gauges = self.static_gauges()
        return TicServer(self.gauges, faults=faults)

    def display_units(self) -> tuple[Any, ...]:
        return PANEL_UNITS

    def set_display_unit(self, server: Any, unit: Any) -> None:
        server.display_unit = unit


class TestTicOverSerial(TestTic):
    resource_kind = "asrl"  # its RS-232 port
