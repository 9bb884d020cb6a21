"""The kit fails drivers wrong in the ways it exists to catch: a kit that cannot fail proves nothing.

Each broken driver is a shipped one with one fault put in; each is run through the very suite
its sound parent passes (``tests/drivers/test_conformance.py``), and must fail the check that
names its fault, with a message that says what is wrong.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any, ClassVar

import pytest

import tests.drivers.test_conformance as shipped
import tests.drivers.test_vgc50x_conformance as vgc_suites
import tests.drivers.test_xgs600_conformance as xgs_suites
from drivers.daq970a import Daq970a, channel_numbers, format_channel_list
from drivers.errors import InstrumentTimeoutError, ProtocolError
from drivers.readings import GaugeState, PressureReading
from drivers.tpg36x import Tpg36x, TpgUnit
from tests.testing.kit_runs import kit_failure, run_kit_test

pytestmark = pytest.mark.integration


def _scaled(reading: PressureReading, factor: float) -> PressureReading:
    value = None if reading.pressure_pa is None else reading.pressure_pa * factor
    return PressureReading(reading.channel, reading.state, value)


class MbarAsPa(Tpg36x):
    """Reports the controller's mbar figure as Pa."""

    def read(self, channel: int) -> PressureReading:
        """A reading 100 times too small."""
        return _scaled(super().read(channel), 0.01)

    def read_all(self) -> list[PressureReading]:
        """Readings 100 times too small."""
        return [_scaled(r, 0.01) for r in super().read_all()]


class Hanging(Tpg36x):
    """Tries again and again past its own retry policy when the controller is silent."""

    def read(self, channel: int) -> PressureReading:
        """Three times the retries the policy allows."""
        for _ in range(2):
            try:
                return super().read(channel)
            except InstrumentTimeoutError:
                pass
        return super().read(channel)


class ZeroOnGarbage(Tpg36x):
    """Takes garbled bytes for a zero pressure."""

    def read(self, channel: int) -> PressureReading:
        """0 Pa when the reply cannot be parsed."""
        try:
            return super().read(channel)
        except ProtocolError:
            return PressureReading(channel, GaugeState.OK, 0.0)


class NoLimitUnderRange(Tpg36x):
    """Drops the range limit of an under-range reading."""

    def read(self, channel: int) -> PressureReading:
        """Under range without its limit."""
        reading = super().read(channel)
        if reading.state is GaugeState.UNDERRANGE:
            return PressureReading(channel, reading.state, None)
        return reading


class BlindRelays(Daq970a):
    """Closes relays and takes it as done, without reading them back."""

    def close_relays(self, channels: Iterable[int]) -> None:
        """``ROUT:CLOS`` sent once, never confirmed."""
        with self.conversation():
            self.transport.write(f"ROUT:CLOS {format_channel_list(channel_numbers(channels))}\n".encode())


class TrustingRelays(Daq970a):
    """Takes a readback it cannot parse as a confirmation."""

    def close_relays(self, channels: Iterable[int]) -> None:
        """Confirmed unless the readback clearly disagrees."""
        with contextlib.suppress(ProtocolError):
            super().close_relays(channels)


class CelsiusAsKelvin(Daq970a):
    """Reports the instrument's °C as K."""

    def temperatures_k(self, channels: Iterable[int], thermocouple: str = "K") -> dict[int, float]:
        """273.15 K too cold."""
        return {ch: t - 273.15 for ch, t in super().temperatures_k(channels, thermocouple).items()}

    def temperature_k(self, channel: int, thermocouple: str = "K") -> float:
        """273.15 K too cold."""
        return self.temperatures_k([channel], thermocouple)[channel]


class Millivolts(Daq970a):
    """Reports mV as V."""

    def volts(self, channel: int) -> float:
        """1000 times too large."""
        return 1000.0 * super().volts(channel)


class NoRetries(Tpg36x):
    """Ignores the retry policy it is given: one attempt, whatever."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry = type(self.retry)(attempts=1)


class Gauge(shipped.TestTpg362):
    """The TPG 362 suite with a broken driver class (not collected: no Test prefix)."""

    broken: ClassVar[type[Tpg36x]]

    def driver_class(self) -> type[Any]:
        return self.broken


class Daq(shipped.TestDaq970a):
    """The DAQ970A suite with a broken driver class."""

    broken: ClassVar[type[Daq970a]]

    def driver_class(self) -> type[Any]:
        return self.broken


def gauge(cls: type[Tpg36x]) -> Gauge:
    return type(cls.__name__, (Gauge,), {"broken": cls})()


def daq(cls: type[Daq970a]) -> Daq:
    return type(cls.__name__, (Daq,), {"broken": cls})()


def test_the_sound_drivers_pass_the_checks_the_broken_ones_fail() -> None:
    # The control: the same checks, run the same way, on the shipped drivers.
    for name in ("test_readings_are_in_pa_to_the_display_digits", "test_every_state_maps_to_its_reading"):
        run_kit_test(shipped.TestTpg362(), name)
    for name in (
        "test_a_relay_that_does_not_move_is_never_confirmed",
        "test_a_garbled_readback_never_confirms_a_refused_move",
        "test_temperatures_are_in_kelvin",
    ):
        run_kit_test(shipped.TestDaq970a(), name)


def test_a_gauge_reporting_mbar_as_pa_fails() -> None:
    assert "the truth is 101325.0 Pa" in kit_failure(
        gauge(MbarAsPa), "test_readings_are_in_pa_to_the_display_digits"
    )
    assert "Pa" in kit_failure(gauge(MbarAsPa), "test_a_dropped_connection_is_reconnected")


def test_a_driver_hanging_past_its_timeout_fails() -> None:
    message = kit_failure(gauge(Hanging), "test_a_silent_instrument_times_out_within_the_retry_bound")
    assert "a silent instrument took" in message


def test_a_number_read_from_garbage_fails() -> None:
    message = kit_failure(gauge(ZeroOnGarbage), "test_garbled_replies_never_give_a_wrong_value")
    assert "read 0.0 Pa on channel 1" in message


def test_an_under_range_reading_without_its_limit_fails() -> None:
    message = kit_failure(gauge(NoLimitUnderRange), "test_every_state_maps_to_its_reading")
    assert "UNDERRANGE" in message


def test_a_driver_that_does_not_retry_a_lost_reply_fails() -> None:
    message = kit_failure(gauge(NoRetries), "test_one_lost_reply_is_retried_invisibly")
    assert "InstrumentTimeoutError" in message


def test_a_relay_confirmed_without_readback_fails() -> None:
    message = kit_failure(daq(BlindRelays), "test_a_relay_that_does_not_move_is_never_confirmed")
    assert "DID NOT RAISE" in message


def test_a_garbled_readback_taken_for_a_confirmation_fails() -> None:
    message = kit_failure(daq(TrustingRelays), "test_a_garbled_readback_never_confirms_a_refused_move")
    assert "DID NOT RAISE" in message


def test_celsius_as_kelvin_and_millivolts_as_volts_fail() -> None:
    assert " K" in kit_failure(daq(CelsiusAsKelvin), "test_temperatures_are_in_kelvin")
    assert " V" in kit_failure(daq(Millivolts), "test_volts_are_in_volts")


def test_the_fixed_drivers_notice_a_unit_changed_at_their_panel() -> None:
    # A finding of the kit, fixed: Tpg36x (and Vgc50x on it) and Xgs600 read the unit once a
    # connection, so 760 Torr read as 76000 Pa once the panel showed Pa. They ask it with every
    # reading now, and no suite waives the check.
    for suite in (shipped.TestTpg362(), vgc_suites.TestVgc503(), xgs_suites.TestXgs600()):
        assert suite.notices_panel_unit_changes, f"{type(suite).__name__} waives the panel check"
        run_kit_test(suite, "test_a_unit_changed_at_the_panel_is_noticed")


class UnitOncePerConnection(Tpg36x):
    """Reads the unit once a connection, as Tpg36x did before the kit found it out."""

    def _transact_unit(self) -> TpgUnit:
        return self._unit if self._unit is not None else super()._transact_unit()


def test_a_gauge_trusting_a_unit_read_once_fails_the_panel_check() -> None:
    message = kit_failure(gauge(UnitOncePerConnection), "test_a_unit_changed_at_the_panel_is_noticed")
    assert "read 76000.0 Pa on channel 1 (OK), the truth is 101325.0 Pa" in message
