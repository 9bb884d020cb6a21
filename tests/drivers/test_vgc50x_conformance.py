"""The INFICON VGC 501/502/503 driver passes the conformance kit (rig.testing) against its simulator.

The VGC speaks the TPG 36x's mnemonic protocol (drivers/vgc50x.py), so its suite is the TPG's:
every pressure unit the controller can show, tried on a fresh connection and changed at the panel
mid-connection; Volt is no pressure unit and is left out (the driver refuses to convert it).
"""

from __future__ import annotations

from typing import Any

import pytest

from rig.sim.backend import ServerFaults
from rig.sim.servers.base import InstrumentServer
from rig.sim.servers.tpg import TpgUnit as SimTpgUnit
from rig.sim.servers.vgc import VgcServer
from rig.testing import GaugeConformance

pytestmark = pytest.mark.integration


class TestVgc503(GaugeConformance):
    model = "VGC503"

    def make_server(self, faults: ServerFaults) -> InstrumentServer:
        # The simulated VGC is the 501, 502 or 503 by its backend's channels (AYT names it).
        self.gauges = self.static_gauges()
        return VgcServer(self.gauges, faults=faults)

    def display_units(self) -> tuple[Any, ...]:
        # Volt is a gauge signal, not a pressure: the driver refuses it (UnconvertibleUnitError).
        return tuple(unit for unit in SimTpgUnit if unit is not SimTpgUnit.VOLT)

    def set_display_unit(self, server: Any, unit: Any) -> None:
        server.unit = unit


class TestVgc502(TestVgc503):
    model = "VGC502"


class TestVgc501(TestVgc503):
    model = "VGC501"


class TestVgc503OverSerial(TestVgc503):
    resource_kind = "asrl"  # its RS-232C line
