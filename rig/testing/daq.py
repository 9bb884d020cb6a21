"""Conformance suites of a DAQ's three roles: relays confirmed by readback, thermometers in K, volts in V.

A DAQ driver plays all three (:data:`drivers.roles.ROLE_PROTOCOLS`); its test class may take
all three suites at once (``class TestMyDaq(RelayBankConformance, ThermometerConformance,
VoltmeterConformance)``) or one at a time. The backend is :attr:`DaqSuite.daq`, made in
``make_server``: a :class:`StickyDaq` works with the default hooks (it can hold a relay that
refuses to move); another backend overrides :meth:`~RelayBankConformance.stick_relay`,
:meth:`~RelayBankConformance.backend_relay_closed`, :meth:`~ThermometerConformance.set_temperature_k`
and :meth:`~VoltmeterConformance.set_volts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from drivers.errors import ActuationNotConfirmedError, DriverError
from rig.sim.backend import StaticDaq
from rig.testing.conformance import GARBLED_POSITIONS, DriverConformance
from rig.testing.faults import SwitchableFaults
from rig.testing.gauges import display_rel

__all__ = [
    "DaqSuite",
    "RelayBankConformance",
    "StickyDaq",
    "ThermometerConformance",
    "VoltmeterConformance",
]

CELSIUS_K = 273.15


@dataclass
class StickyDaq(StaticDaq):
    """A :class:`rig.sim.backend.StaticDaq` whose ``stuck`` relays ignore every command to move."""

    stuck: set[int] = field(default_factory=set)

    def set_relay(self, channel: int, closed: bool) -> None:
        """Move the relay unless it is stuck (then the instrument's record keeps the old state)."""
        if channel not in self.stuck:
            super().set_relay(channel, closed)

    def open_all_relays(self) -> None:
        """Open every relay that is not stuck."""
        self.closed &= self.stuck


class DaqSuite(DriverConformance):
    """What the DAQ suites share: the backend and the digits a reading is good to."""

    #: The server's backend, set by ``make_server`` (a :class:`StickyDaq` for the default hooks).
    daq: Any = None
    #: Significant digits of an analog reading when the model declares no ``display_digits``.
    reading_digits: ClassVar[int] = 6

    def _sticky(self) -> StickyDaq:
        assert isinstance(self.daq, StickyDaq), (
            f"{type(self).__name__}: set self.daq to a StickyDaq in make_server, or override the DAQ hooks"
        )
        return self.daq

    def reading_rel(self) -> float:
        """The relative error a reading may have: half a last digit."""
        return display_rel(self.declaration().display_digits or self.reading_digits)

    def layout_inputs(self) -> range:
        """The input channels of the model's DAQ layout."""
        layout = self.declaration().daq_layout
        assert layout is not None, f"{self.declaration().name} declares no DAQ layout"
        return layout.inputs


class RelayBankConformance(DaqSuite):
    """Relays close and open as asked, the readback agrees, and a refusal is never confirmed."""

    def relays(self) -> list[int]:
        """The relays exercised: the first three of the model's layout."""
        layout = self.declaration().daq_layout
        assert layout is not None, f"{self.declaration().name} declares no DAQ layout"
        return list(layout.relays[:3])

    def stick_relay(self, channel: int) -> None:
        """Make ``channel`` a relay the instrument refuses to move (it reports its old state)."""
        self._sticky().stuck.add(channel)

    def backend_relay_closed(self, channel: int) -> bool:
        """Whether the backend holds ``channel`` closed: the truth behind the driver's readback."""
        return bool(self._sticky().relay_closed(channel))

    def probe(self, driver: Any) -> object:
        """The readback of the relays."""
        return driver.relays_closed(self.relays())

    def check_probe(self, driver: Any, result: object) -> None:
        """The readback is the backend's state, relay by relay."""
        truth = {ch: self.backend_relay_closed(ch) for ch in self.relays()}
        assert result == truth, f"relays_closed() gave {result!r}, the backend holds {truth!r}"

    def test_relays_close_and_open_with_readback(self, driver: Any) -> None:
        """Closed relays read back closed and are closed in the backend; so for open."""
        first, *rest = self.relays()
        driver.close_relays([first, *rest])
        assert all(self.backend_relay_closed(ch) for ch in self.relays()), "close_relays() did not close"
        assert driver.relays_closed(self.relays()) == dict.fromkeys(self.relays(), True)
        driver.open_relays(rest)
        assert [self.backend_relay_closed(ch) for ch in self.relays()] == [True] + [False] * len(rest)
        assert driver.relays_closed(self.relays()) == {first: True, **dict.fromkeys(rest, False)}
        driver.open_relays([first])
        assert driver.relays_closed(self.relays()) == dict.fromkeys(self.relays(), False)

    def test_a_relay_that_does_not_move_is_never_confirmed(self, driver: Any) -> None:
        """A refused move raises ActuationNotConfirmedError, closing and opening alike."""
        stuck, free = self.relays()[:2]
        self.stick_relay(stuck)
        with pytest.raises(ActuationNotConfirmedError):
            driver.close_relays([stuck, free])
        assert driver.relays_closed([stuck])[stuck] is False
        assert not self.backend_relay_closed(stuck)
        driver.close_relays([free])  # the refusal does not spoil the next move
        assert self.backend_relay_closed(free)

    def test_faults_never_confirm_a_move(self, driver: Any, faults: SwitchableFaults) -> None:
        """A silent instrument, or a garbled reply anywhere in the move: an error, or the move truly made."""
        relay = self.relays()[0]
        faults.set("timeout")
        with pytest.raises(DriverError):
            driver.close_relays([relay])
        faults.clear("timeout")
        assert driver.relays_closed([relay]) == {relay: self.backend_relay_closed(relay)}
        for after in range(GARBLED_POSITIONS):
            driver.open_relays([relay])
            faults.once("garbled", after=after)
            try:
                driver.close_relays([relay])
            except DriverError:
                continue  # not confirmed: whatever the relay did, nobody was told it moved
            finally:
                faults.clear("garbled")
            assert self.backend_relay_closed(relay), f"close_relays() confirmed, garbled reply {after + 1}"

    def test_a_garbled_readback_never_confirms_a_refused_move(
        self, driver: Any, faults: SwitchableFaults
    ) -> None:
        """A relay that does not move, with one garbled reply anywhere or all garbled: never confirmed."""
        stuck = self.relays()[0]
        self.stick_relay(stuck)
        for after in range(GARBLED_POSITIONS):
            faults.once("garbled", after=after)
            with pytest.raises(DriverError):
                driver.close_relays([stuck])
            faults.clear("garbled")
        faults.set("garbled")
        with pytest.raises(DriverError):
            driver.close_relays([stuck])
        faults.clear("garbled")
        assert not self.backend_relay_closed(stuck)


class ThermometerConformance(DaqSuite):
    """Temperatures in K equal to the backend's, one input or several in one scan."""

    def temperatures_k(self) -> dict[int, float]:
        """The truth the suite sets: two inputs of the layout at different temperatures."""
        inputs = self.layout_inputs()
        return {inputs[0]: 296.035, inputs[2]: 77.35}

    def set_temperature_k(self, channel: int, temperature_k: float) -> None:
        """Make the backend's thermocouple on ``channel`` read ``temperature_k``."""
        self._sticky().temperatures_c[channel] = temperature_k - CELSIUS_K

    def prepare(self) -> None:
        """Put :meth:`temperatures_k` in the backend."""
        super().prepare()
        for channel, temperature_k in self.temperatures_k().items():
            self.set_temperature_k(channel, temperature_k)

    def probe(self, driver: Any) -> object:
        """Every input of :meth:`temperatures_k` in one scan."""
        return driver.temperatures_k(list(self.temperatures_k()))

    def check_probe(self, driver: Any, result: object) -> None:
        """The scan is the truth in K, channel by channel."""
        truth = self.temperatures_k()
        assert isinstance(result, dict) and sorted(result) == sorted(truth), f"gave {result!r}"
        assert result == pytest.approx(truth, rel=self.reading_rel()), f"read {result!r} K, truth {truth!r} K"

    def test_temperatures_are_in_kelvin(self, driver: Any) -> None:
        """``temperature_k`` of each input, and the scan of all, equal the truth in K."""
        for channel, temperature_k in self.temperatures_k().items():
            got = driver.temperature_k(channel)
            assert got == pytest.approx(temperature_k, rel=self.reading_rel()), (
                f"input {channel} read {got!r} K, the truth is {temperature_k!r} K"
            )
        ThermometerConformance.check_probe(self, driver, ThermometerConformance.probe(self, driver))


class VoltmeterConformance(DaqSuite):
    """DC voltages in V equal to the backend's, one input or several in one scan, of either sign."""

    def voltages_v(self) -> dict[int, float]:
        """The truth the suite sets: two inputs of the layout, of either sign."""
        inputs = self.layout_inputs()
        return {inputs[1]: 1.23456789, inputs[3]: -7.5}

    def set_volts(self, channel: int, volts: float) -> None:
        """Make the backend's input ``channel`` read ``volts``."""
        self._sticky().voltages[channel] = volts

    def prepare(self) -> None:
        """Put :meth:`voltages_v` in the backend."""
        super().prepare()
        for channel, volts in self.voltages_v().items():
            self.set_volts(channel, volts)

    def probe(self, driver: Any) -> object:
        """Every input of :meth:`voltages_v` in one scan."""
        return driver.volts_many(list(self.voltages_v()))

    def check_probe(self, driver: Any, result: object) -> None:
        """The scan is the truth in V, channel by channel."""
        truth = self.voltages_v()
        assert isinstance(result, dict) and sorted(result) == sorted(truth), f"gave {result!r}"
        assert result == pytest.approx(truth, rel=self.reading_rel()), f"read {result!r} V, truth {truth!r} V"

    def test_volts_are_in_volts(self, driver: Any) -> None:
        """``volts`` of each input, and the scan of all, equal the truth in V."""
        for channel, volts in self.voltages_v().items():
            got = driver.volts(channel)
            assert got == pytest.approx(volts, rel=self.reading_rel()), (
                f"input {channel} read {got!r} V, the truth is {volts!r} V"
            )
        VoltmeterConformance.check_probe(self, driver, VoltmeterConformance.probe(self, driver))
