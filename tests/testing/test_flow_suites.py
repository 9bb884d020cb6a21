"""The flow suites of the kit, on a throwaway controller (no flow driver ships on this branch).

``TestToyFlowController`` is what an author writes; the broken variants must fail it.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from drivers.models import InstrumentModel
from drivers.readings import FlowReading
from drivers.roles import FlowController
from rig.sim.backend import ServerFaults
from rig.sim.servers.base import InstrumentServer
from rig.testing import FlowControllerConformance
from tests.testing.kit_runs import kit_failure, run_kit_test
from tests.testing.toy_flow import MODEL, SCCM_MOL_S, ToyFlowBackend, ToyFlowController, ToyFlowServer

pytestmark = pytest.mark.integration


class TestToyFlowController(FlowControllerConformance):
    backend: ToyFlowBackend

    def declaration(self) -> InstrumentModel:
        return MODEL

    def make_server(self, faults: ServerFaults) -> InstrumentServer:
        self.backend = ToyFlowBackend()
        return ToyFlowServer(self.backend, faults=faults)

    def set_flow_mol_s(self, flow_mol_s: float) -> None:
        self.backend.flow_mol_s = flow_mol_s

    def backend_setpoint(self) -> tuple[str, float]:
        return ("pressure" if self.backend.mode == "P" else "flow", self.backend.setpoint)

    def refuse_setpoints(self) -> None:
        self.backend.refusing = True


class SccmAsMolPerSecond(ToyFlowController):
    """Forgets to convert: the sccm number as mol/s."""

    def read_flow(self, channel: int) -> FlowReading:
        """The flow, unconverted."""
        r = super().read_flow(channel)
        flow = None if r.mass_flow_mol_s is None else r.mass_flow_mol_s / SCCM_MOL_S
        return FlowReading(r.channel, r.state, flow, r.pressure_pa, r.temperature_k, r.setpoint)


class BlindController(ToyFlowController):
    """Sends the setpoint and takes it as done, without reading it back."""

    def hold_pressure(self, channel: int, pressure_pa: float) -> None:
        """``SP`` sent once, never confirmed."""
        self.query(lambda: self._ask(f"SP {pressure_pa:.4E}"))


class Broken(TestToyFlowController):
    """The suite with another driver class (not collected: no Test prefix)."""

    broken: ClassVar[type[ToyFlowController]]

    def driver_class(self) -> type[ToyFlowController]:
        return self.broken


class Unconverted(Broken):
    broken = SccmAsMolPerSecond


class Blind(Broken):
    broken = BlindController


def test_the_toy_plays_a_flow_controller() -> None:
    assert issubclass(ToyFlowController, FlowController)


def test_a_flow_in_sccm_read_as_mol_per_second_fails() -> None:
    assert "mol/s" in kit_failure(Unconverted(), "test_flow_is_in_mol_per_second")
    for name in ("test_a_silent_instrument_times_out_within_the_retry_bound", "test_it_says_who_it_is"):
        assert "mol/s" in kit_failure(Unconverted(), name)


def test_a_setpoint_taken_as_done_without_readback_fails() -> None:
    run_kit_test(Blind(), "test_a_held_pressure_is_set_and_read_back")  # it does send it
    assert "DID NOT RAISE" in kit_failure(Blind(), "test_a_refused_setpoint_is_never_confirmed")
