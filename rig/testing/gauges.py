"""The conformance suite of a gauge controller driver (:class:`drivers.roles.PressureGauge`).

The suite sets the backend itself, through :meth:`GaugeConformance.set_gauge`, so it knows the
truth: a different pressure on each channel, spread over decades (a reading off by a unit's
factor cannot pass), then every :class:`~drivers.readings.GaugeState` the server can produce.
Readings must be in Pa and equal the truth to within what the controller's display digits
allow (:attr:`drivers.models.InstrumentModel.display_digits`).
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar

import pytest

from drivers.errors import DriverError
from drivers.readings import GaugeState, PressureReading
from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.testing.conformance import DriverConformance

__all__ = ["GaugeConformance", "display_rel"]

# Applied where a float product may land a last bit beyond the printed half digit.
_ROUNDING_SLACK = 1.0 + 1e-9


def display_rel(digits: int) -> float:
    """The largest relative error of a value printed to ``digits`` significant digits: half a last digit."""
    return 0.5 * 10.0 ** (1 - digits) * _ROUNDING_SLACK


class GaugeConformance(DriverConformance):
    """Subclass as ``TestMyGauge(GaugeConformance)``; set :attr:`model`, define :meth:`make_server`.

    The server's backend is :attr:`gauges`, made in :meth:`make_server` (``self.gauges =
    self.static_gauges()`` works with the default :meth:`set_gauge`; another backend overrides
    it). Override :meth:`expected_reading` where the protocol cannot carry a state or a range
    limit as the backend holds it, and :attr:`states` to the states the server can produce.
    """

    #: The pressures in Pa put on channels 1, 2, ... (cycled): one per decade region, no two alike.
    pressures_pa: ClassVar[tuple[float, ...]] = (101325.0, 1.5e-3, 2.25e-7, 512.0, 3.75e-9, 66.6)
    #: The range limit (Pa) put on a channel reading under or over range.
    limit_pa: ClassVar[float] = 1.0e-4
    #: The states the server can produce (all of them unless overridden).
    states: ClassVar[tuple[GaugeState, ...]] = tuple(GaugeState)
    #: The backend of the server, set by :meth:`make_server` (for the default :meth:`set_gauge`).
    gauges: Any = None
    #: Whether a unit changed on the controller's own panel between two readings is noticed. A
    #: driver that trusts a unit it read once sets this False and says why: the suite then skips
    #: that check (the unit is still tried on a fresh connection).
    notices_panel_unit_changes: ClassVar[bool] = True

    # --- hooks ----------------------------------------------------------------------------------

    def channels(self) -> list[int]:
        """The gauge channels, 1 to the model's ``gauge_channels``."""
        return list(range(1, self.declaration().gauge_channels + 1))

    def static_gauges(self, **options: Any) -> StaticGauges:
        """A :class:`rig.sim.backend.StaticGauges` with every channel OK at its true pressure.

        ``options`` go to ``StaticGauges`` (``sensor_ids``, ``switchable_channels`` ...).
        """
        readings = {ch: GaugeReading(GaugeStatus.OK, self.true_pressure_pa(ch)) for ch in self.channels()}
        return StaticGauges(readings=readings, **options)

    def set_gauge(self, channel: int, state: GaugeState, pressure_pa: float) -> None:
        """Make the backend read ``state`` on ``channel`` with ``pressure_pa`` (pressure or range limit)."""
        assert isinstance(self.gauges, StaticGauges), (
            f"{type(self).__name__}: set self.gauges to a StaticGauges in make_server, or override set_gauge"
        )
        self.gauges.readings[channel] = GaugeReading(GaugeStatus[state.name], pressure_pa)

    def expected_reading(self, channel: int, state: GaugeState, pressure_pa: float) -> PressureReading:
        """What the driver must report when the backend holds ``state`` and ``pressure_pa`` on ``channel``.

        A pressure when OK, the range limit when under or over range, nothing otherwise.
        """
        with_value = state in (GaugeState.OK, GaugeState.UNDERRANGE, GaugeState.OVERRANGE)
        return PressureReading(channel, state, pressure_pa if with_value else None)

    def display_units(self) -> tuple[Any, ...]:
        """The pressure units the server can show, as :meth:`set_display_unit` takes them (none: untried)."""
        return ()

    def set_display_unit(self, server: Any, unit: Any) -> None:
        """Show ``unit`` on the simulated controller, as a user at its panel would (not via the driver)."""
        raise NotImplementedError(f"{type(self).__name__} lists display_units() but no set_display_unit()")

    def true_pressure_pa(self, channel: int) -> float:
        """The pressure the suite put on ``channel``."""
        return self.pressures_pa[(channel - 1) % len(self.pressures_pa)]

    def prepare(self) -> None:
        """Every channel OK at its own pressure."""
        for channel in self.channels():
            self.set_gauge(channel, GaugeState.OK, self.true_pressure_pa(channel))

    def probe(self, driver: Any) -> object:
        """Read channel 1."""
        return driver.read(1)

    def check_probe(self, driver: Any, result: object) -> None:
        """Channel 1 OK at its true pressure in Pa."""
        assert isinstance(result, PressureReading), f"read(1) gave {result!r}"
        self.assert_reading(result, self.expected_reading(1, GaugeState.OK, self.true_pressure_pa(1)))

    def assert_reading(self, got: PressureReading, want: PressureReading) -> None:
        """``got`` is ``want``: channel and state equal, pressure in Pa to the display digits."""
        assert isinstance(got, PressureReading), f"not a PressureReading: {got!r}"
        assert (got.channel, got.state) == (want.channel, want.state), f"read {got}, the truth is {want}"
        if want.pressure_pa is None:
            assert got.pressure_pa is None, f"read {got}, the truth is {want} (no pressure)"
            return
        digits = self.declaration().display_digits
        assert digits is not None, f"{self.declaration().name} declares no display_digits"
        assert got.pressure_pa == pytest.approx(want.pressure_pa, rel=display_rel(digits)), (
            f"read {got.pressure_pa!r} Pa on channel {got.channel} ({got.state.name}),"
            f" the truth is {want.pressure_pa!r} Pa"
            f" ({digits} digits)"
        )

    # --- tests -----------------------------------------------------------------------------------

    def test_readings_are_in_pa_to_the_display_digits(self, driver: Any) -> None:
        """Each channel reads its own pressure, converted to Pa from whatever unit the controller shows."""
        for channel in self.channels():
            want = self.expected_reading(channel, GaugeState.OK, self.true_pressure_pa(channel))
            self.assert_reading(driver.read(channel), want)

    def _assert_every_channel(self, driver: Any, unit: Any) -> None:
        for channel in self.channels():
            want = self.expected_reading(channel, GaugeState.OK, self.true_pressure_pa(channel))
            got = driver.read(channel)
            assert got.pressure_pa is not None or want.pressure_pa is None, f"{unit}: read {got}"
            self.assert_reading(got, want)

    def test_readings_are_in_pa_in_every_display_unit(self, server: Any) -> None:
        """Whatever unit the controller shows when the driver connects, readings come in Pa."""
        units = self.display_units()
        if not units:
            pytest.skip("display_units() names no unit to try")
        for unit in units:
            self.set_display_unit(server, unit)
            with self.opened(server) as driver:
                self._assert_every_channel(driver, unit)

    def test_a_unit_changed_at_the_panel_is_noticed(self, driver: Any, server: Any) -> None:
        """The unit changed at the controller's panel between two readings: the next is still in Pa."""
        units = self.display_units()
        if not (units and self.notices_panel_unit_changes):
            pytest.skip("no display_units(), or notices_panel_unit_changes is False")
        self.check_probe(driver, self.probe(driver))
        for unit in units:
            self.set_display_unit(server, unit)
            self._assert_every_channel(driver, unit)

    def test_read_all_is_every_channel_in_order(self, driver: Any) -> None:
        """``read_all()`` gives one reading a channel, channel 1 first, agreeing with ``read``."""
        readings = driver.read_all()
        assert [r.channel for r in readings] == self.channels(), f"read_all() gave {readings}"
        for reading in readings:
            self.assert_reading(reading, driver.read(reading.channel))

    def test_every_state_maps_to_its_reading(self, driver: Any) -> None:
        """OK, under/over range with the limit, sensor error, off, no sensor ... as the backend says."""
        channel = self.channels()[-1]
        for state in self.states:
            pressure_pa = self.true_pressure_pa(channel) if state is GaugeState.OK else self.limit_pa
            self.set_gauge(channel, state, pressure_pa)
            want = self.expected_reading(channel, state, pressure_pa)
            self.assert_reading(driver.read(channel), want)
            self.assert_reading(driver.read_all()[channel - 1], want)

    def test_a_channel_it_lacks_is_refused(self, driver: Any) -> None:
        """Channel 0 and the one past the last: ValueError or a DriverError, never a reading."""
        for channel in (0, len(self.channels()) + 1):
            with pytest.raises((ValueError, DriverError)):
                driver.read(channel)
        self.check_probe(driver, self.probe(driver))

    def test_unit_is_a_named_enum_member(self, driver: Any) -> None:
        """``unit()`` is the controller's unit as an enum member with a name."""
        unit = driver.unit()
        assert isinstance(unit, enum.Enum) and unit.name, f"unit() gave {unit!r}"
