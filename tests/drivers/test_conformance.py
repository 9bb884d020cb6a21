"""Every shipped driver passes the conformance kit (rig.testing) against its simulated server.

Each class is what a driver author writes for their own driver: the model, the server over a
backend the suite can set, and where the protocol cannot carry a state as the backend holds it,
what the driver must report instead.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, ClassVar

import pytest

from drivers.readings import GaugeState, PressureReading
from rig.sim.backend import ServerFaults
from rig.sim.servers.base import InstrumentServer
from rig.sim.servers.daq import DaqServer
from rig.sim.servers.mks import MksServer
from rig.sim.servers.tpg import TpgServer
from rig.sim.servers.tpg import TpgUnit as SimTpgUnit
from rig.testing import (
    DriverConformance,
    GaugeConformance,
    RelayBankConformance,
    StickyDaq,
    ThermometerConformance,
    VoltmeterConformance,
)

pytestmark = pytest.mark.integration

TORR_PA = 101325.0 / 760.0


class TestTpg362(GaugeConformance):
    model = "TPG362"

    def make_server(self, faults: ServerFaults) -> InstrumentServer:
        self.gauges = self.static_gauges()
        return TpgServer(self.gauges, faults=faults)

    def display_units(self) -> tuple[Any, ...]:
        # Volt is no pressure unit: the driver refuses to convert it (UnconvertibleUnitError).
        return tuple(unit for unit in SimTpgUnit if unit is not SimTpgUnit.VOLT)

    def set_display_unit(self, server: Any, unit: Any) -> None:
        server.unit = unit


class TestTpg361(TestTpg362):
    model = "TPG361"


class TestTpg366(TestTpg362):
    model = "TPG366"


class TestTpg362OverSerial(TestTpg362):
    resource_kind = "asrl"


class TestMks937b(GaugeConformance):
    model = "MKS937B"

    def make_server(self, faults: ServerFaults) -> InstrumentServer:
        self.gauges = self.static_gauges()
        return MksServer(self.gauges, faults=faults, address=self.open_options.get("address", 253))

    def display_units(self) -> tuple[Any, ...]:
        return ("TORR", "MBAR", "PASCAL", "MICRON")

    def set_display_unit(self, server: Any, unit: Any) -> None:
        server.unit = unit

    def expected_reading(self, channel: int, state: GaugeState, pressure_pa: float) -> PressureReading:
        # The 937B prints LO<E-11 under range whatever the gauge's own limit, ATM over range with no
        # number, and MISCONN for a gauge it cannot identify as for none (protocols.md §1.2).
        if state is GaugeState.UNDERRANGE:
            return PressureReading(channel, state, 1e-11 * TORR_PA)
        if state is GaugeState.OVERRANGE:
            return PressureReading(channel, state, None)
        if state is GaugeState.IDENTIFICATION_ERROR:
            return PressureReading(channel, GaugeState.NO_SENSOR, None)
        return super().expected_reading(channel, state, pressure_pa)


class TestMks937bOverSerial(TestMks937b):
    resource_kind = "asrl"


class TestMks937bAtItsOwnAddress(TestMks937b):
    open_options: ClassVar[dict[str, Any]] = {"address": 5}


class TestDaq970a(RelayBankConformance, ThermometerConformance, VoltmeterConformance):
    model = "DAQ970A"

    def make_server(self, faults: ServerFaults) -> InstrumentServer:
        self.daq = StickyDaq()
        return DaqServer(self.daq, faults=faults, model=self.model)


class Test34972a(TestDaq970a):
    model = "34972A"


class Test34970a(TestDaq970a):
    model = "34970A"


class Test34970aOverSerial(Test34970a):
    resource_kind = "asrl"  # the 34970A's RS-232 port


def conformance_classes() -> list[type[DriverConformance]]:
    """The suites pytest collects from this module and every ``test_*conformance*.py`` beside it."""
    classes: list[type[DriverConformance]] = []
    for path in sorted(Path(__file__).parent.glob("test_*conformance*.py")):
        module = importlib.import_module(f"{__package__}.{path.stem}")
        classes += [
            cls
            for name, cls in vars(module).items()
            if name.startswith("Test") and isinstance(cls, type) and issubclass(cls, DriverConformance)
        ]
    return classes


def test_every_shipped_model_has_a_conformance_class() -> None:
    from drivers.models import MODELS

    tested = {cls.model for cls in conformance_classes()}
    assert set(MODELS) <= tested, f"models without a conformance class: {sorted(set(MODELS) - tested)}"
