"""The Alicat meters and controllers pass the conformance kit (rig.testing) against the simulated unit.

The backend is an in-memory flow line (:class:`rig.sim.backend.StaticFlow`); the suite sets its
flow in mol/s and reads back what the controller's loop holds. A unit that answers every command
but keeps its old setpoint and control point (``StubbornAlicat``) is how the suite proves that a
setpoint is never confirmed without a readback.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from drivers.models import MODELS
from rig.sim.backend import ControlMode, FlowSample, ServerFaults, StaticFlow
from rig.sim.servers.alicat import AlicatServer
from rig.sim.servers.base import InstrumentServer
from rig.testing import FlowControllerConformance, FlowMeterConformance

pytestmark = pytest.mark.integration

LINE_PRESSURE_PA = 101325.0
LINE_TEMPERATURE_C = 25.0


class StubbornAlicat(AlicatServer):
    """A simulated Alicat that, once told to, answers every command as if it had not heard it."""

    refusing = False

    def _setpoint(self, value: float) -> str:
        return self.data_frame() if self.refusing else super()._setpoint(value)

    def _write(self, number: int, value: int) -> str:
        return self._register(number) if self.refusing else super()._write(number, value)


def _half_scale_mol_s(model: str) -> float:
    flow = MODELS[model].flow
    assert flow is not None
    return 0.4 * flow.full_scale_mol_s


class TestAlicatM10sccm(FlowMeterConformance):
    model = "AlicatM-10SCCM"
    flow_mol_s: ClassVar[float] = _half_scale_mol_s("AlicatM-10SCCM")

    def make_server(self, faults: ServerFaults) -> InstrumentServer:
        self.line = StaticFlow()
        declared = self.declaration()
        assert declared.flow is not None
        self.unit = StubbornAlicat(
            self.line, declared.flow, controller=declared.kind == "flow_controller", faults=faults
        )
        return self.unit

    def set_flow_mol_s(self, flow_mol_s: float) -> None:
        self.line.sample = FlowSample(LINE_PRESSURE_PA, LINE_TEMPERATURE_C, flow_mol_s)


class TestAlicatM100sccm(TestAlicatM10sccm):
    model = "AlicatM-100SCCM"
    flow_mol_s: ClassVar[float] = _half_scale_mol_s("AlicatM-100SCCM")


class TestAlicatMC10sccm(TestAlicatM10sccm, FlowControllerConformance):
    model = "AlicatMC-10SCCM"

    def backend_setpoint(self) -> tuple[str, float]:
        kinds = {ControlMode.PRESSURE: "pressure", ControlMode.MASS_FLOW: "flow"}
        return kinds[self.line.mode], self.line.setpoint

    def refuse_setpoints(self) -> None:
        self.unit.refusing = True


class TestAlicatMC100sccm(TestAlicatMC10sccm):
    model = "AlicatMC-100SCCM"
    flow_mol_s: ClassVar[float] = _half_scale_mol_s("AlicatMC-100SCCM")


class TestAlicatMC10sccmOverSerial(TestAlicatMC10sccm):
    resource_kind = "asrl"
