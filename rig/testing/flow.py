"""Conformance suites of mass-flow instruments: flows in mol/s, a held pressure and a stop confirmed.

Written against :class:`drivers.roles.FlowMeter` and :class:`drivers.roles.FlowController`,
whatever the protocol: the backend is the author's, so its truth comes through hooks
(:meth:`FlowMeterConformance.set_flow_mol_s`, :meth:`FlowControllerConformance.backend_setpoint`
...), each naming its SI unit.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from drivers.errors import ActuationNotConfirmedError, DriverError
from drivers.readings import FlowReading, FlowState
from rig.testing.conformance import GARBLED_POSITIONS, DriverConformance
from rig.testing.faults import SwitchableFaults
from rig.testing.gauges import display_rel

__all__ = ["FlowControllerConformance", "FlowMeterConformance"]


class FlowMeterConformance(DriverConformance):
    """``read_flow`` gives the backend's flow in mol/s (and an OK state)."""

    #: The channel (unit id) read.
    channel: ClassVar[int] = 1
    #: The flow the suite puts in the backend, mol/s (about 10 sccm of nitrogen).
    flow_mol_s: ClassVar[float] = 7.44e-6
    #: Significant digits of a reading when the model declares no ``display_digits``.
    reading_digits: ClassVar[int] = 4

    def set_flow_mol_s(self, flow_mol_s: float) -> None:
        """Make the backend's flow through :attr:`channel` ``flow_mol_s``."""
        raise NotImplementedError(f"{type(self).__name__} must define set_flow_mol_s(self, flow_mol_s)")

    def reading_rel(self) -> float:
        """The relative error a reading may have: half a last digit."""
        return display_rel(self.declaration().display_digits or self.reading_digits)

    def prepare(self) -> None:
        """Put :attr:`flow_mol_s` in the backend."""
        super().prepare()
        self.set_flow_mol_s(self.flow_mol_s)

    def probe(self, driver: Any) -> object:
        """Read the flow."""
        return driver.read_flow(self.channel)

    def check_probe(self, driver: Any, result: object) -> None:
        """An OK reading of the backend's flow in mol/s."""
        assert isinstance(result, FlowReading), f"read_flow() gave {result!r}"
        assert (result.channel, result.state) == (self.channel, FlowState.OK), f"read {result}"
        assert result.mass_flow_mol_s == pytest.approx(self.flow_mol_s, rel=self.reading_rel()), (
            f"read {result.mass_flow_mol_s!r} mol/s, the truth is {self.flow_mol_s!r} mol/s"
        )

    def test_flow_is_in_mol_per_second(self, driver: Any) -> None:
        """The reading is the truth in mol/s, whatever flow the backend holds."""
        for flow_mol_s in (self.flow_mol_s, 3.0 * self.flow_mol_s, 0.0):
            self.set_flow_mol_s(flow_mol_s)
            got = driver.read_flow(self.channel)
            assert got.state is FlowState.OK, f"read {got}"
            assert got.mass_flow_mol_s == pytest.approx(flow_mol_s, rel=self.reading_rel(), abs=1e-12), (
                f"read {got.mass_flow_mol_s!r} mol/s, the truth is {flow_mol_s!r} mol/s"
            )


class FlowControllerConformance(FlowMeterConformance):
    """A held pressure and a stop are confirmed by readback; a refused setpoint is never confirmed."""

    #: The pressure the suite asks the controller to hold, Pa.
    hold_pa: ClassVar[float] = 50_000.0

    def backend_setpoint(self) -> tuple[str, float]:
        """What the backend controls now: ``("pressure", Pa)`` or ``("flow", mol/s)``."""
        raise NotImplementedError(f"{type(self).__name__} must define backend_setpoint(self)")

    def refuse_setpoints(self) -> None:
        """Make the backend ignore every new setpoint (it keeps the old one)."""
        raise NotImplementedError(f"{type(self).__name__} must define refuse_setpoints(self)")

    def test_a_held_pressure_is_set_and_read_back(self, driver: Any) -> None:
        """``hold_pressure`` leaves the backend controlling on that pressure, and the reading says so."""
        driver.hold_pressure(self.channel, self.hold_pa)
        mode, value = self.backend_setpoint()
        assert mode == "pressure" and value == pytest.approx(self.hold_pa, rel=self.reading_rel()), (
            f"the backend controls {mode} at {value!r}, not pressure at {self.hold_pa!r} Pa"
        )
        setpoint = driver.read_flow(self.channel).setpoint
        assert setpoint == pytest.approx(self.hold_pa, rel=self.reading_rel()), f"setpoint {setpoint!r}"

    def test_stop_flow_leaves_a_zero_flow_setpoint(self, driver: Any) -> None:
        """``stop_flow`` after holding a pressure leaves the backend at a zero flow setpoint."""
        driver.hold_pressure(self.channel, self.hold_pa)
        driver.stop_flow(self.channel)
        assert self.backend_setpoint() == ("flow", 0.0), f"the backend holds {self.backend_setpoint()}"

    def test_a_refused_setpoint_is_never_confirmed(self, driver: Any) -> None:
        """A controller that keeps its old setpoint: ActuationNotConfirmedError, hold and stop alike."""
        driver.stop_flow(self.channel)
        self.refuse_setpoints()
        with pytest.raises(ActuationNotConfirmedError):
            driver.hold_pressure(self.channel, self.hold_pa)
        assert self.backend_setpoint() == ("flow", 0.0)

    def test_faults_never_confirm_a_setpoint(self, driver: Any, faults: SwitchableFaults) -> None:
        """A silent controller, or one garbled reply anywhere: an error, or the setpoint truly set."""
        faults.set("timeout")
        with pytest.raises(DriverError):
            driver.hold_pressure(self.channel, self.hold_pa)
        faults.clear("timeout")
        for after in range(GARBLED_POSITIONS):
            driver.stop_flow(self.channel)
            faults.once("garbled", after=after)
            try:
                driver.hold_pressure(self.channel, self.hold_pa)
            except DriverError:
                continue  # not confirmed: nobody was told the pressure is held
            finally:
                faults.clear("garbled")
            mode, value = self.backend_setpoint()
            assert mode == "pressure" and value == pytest.approx(self.hold_pa, rel=self.reading_rel()), (
                f"hold_pressure() confirmed (garbled reply {after + 1}), the backend holds {mode} {value!r}"
            )
