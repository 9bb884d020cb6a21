"""MKS 937B vacuum gauge controller over its ``@aaa…;FF`` protocol (serial line or terminal server).

One frame each way: ``@<aaa><cmd>?;FF`` or ``@<aaa><cmd>!<param>;FF`` from the host,
``@<aaa>ACK<resp>;FF`` or ``@<aaa>NAK<code>;FF`` back. ``;FF`` is three ASCII characters and
there is no CR or LF, so the transport reads up to ``;`` and then exactly two bytes, which
must be ``FF``. Replies do not name the command they answer, so a late reply could pass for
the answer to the next command: after any failed exchange the input is discarded before the
next frame goes out.

Pressures come back in the controller's display unit, which anyone can change on the front
panel. Every reading therefore asks for the unit in the same locked transaction and is
returned in Pa; a reading is never scaled by a remembered unit.
"""

from __future__ import annotations

import contextlib
import enum
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from drivers.base import Instrument, RetryPolicy
from drivers.errors import (
    ActuationNotConfirmedError,
    InstrumentDisconnectedError,
    InstrumentError,
    InstrumentTimeoutError,
    ProtocolError,
)
from drivers.models import lookup
from drivers.readings import GaugeState, PressureReading
from drivers.transport import Transport

_TORR_PA = 101325.0 / 760.0


class PressureUnit(enum.Enum):
    """A pressure unit of the 937B; the value is its spelling on the wire (``U?`` / ``U!``)."""

    TORR = "TORR"
    MBAR = "mBAR"
    PASCAL = "PASCAL"
    MICRON = "MICRON"

    @property
    def pascals(self) -> float:
        """The size of one of this unit in Pa."""
        return _PA_PER_UNIT[self]

    @classmethod
    def parse(cls, text: str) -> PressureUnit:
        """The unit named ``text`` (wire spelling or member name, any case); ValueError otherwise."""
        word = text.strip().upper()
        for unit in cls:
            if word in (unit.name, unit.value.upper()):
                return unit
        raise ValueError(f"not a 937B pressure unit: {text!r} (TORR, mBAR, PASCAL or MICRON)")


_PA_PER_UNIT = {
    PressureUnit.TORR: _TORR_PA,
    PressureUnit.MBAR: 100.0,
    PressureUnit.PASCAL: 1.0,
    PressureUnit.MICRON: _TORR_PA / 1000.0,
}


class IonGaugeStatus(enum.Enum):
    """An ion gauge channel's state (``T<n>?``), valued by its letter; meanings as pymeasure gives them."""

    WAIT = "W"  # starting, or waiting for a pressure low enough to switch on
    OFF = "O"  # switched off
    PROTECT = "P"  # switched off by its over-pressure protection
    DEGAS = "D"  # degassing
    CONTROL = "C"  # switched by the control setpoint of another channel
    REAR_PANEL_OFF = "R"  # switched off through the rear-panel control input
    FILAMENT_FAULT = "H"  # hot-cathode filament fault
    NO_GAUGE = "N"  # no gauge connected
    GOOD = "G"  # on and measuring


class SetpointDirection(enum.Enum):
    """Whether a setpoint relay acts when the pressure goes above or below its setpoint."""

    ABOVE = "ABOVE"
    BELOW = "BELOW"


class RelayEnable(enum.Enum):
    """A relay's mode (``EN<n>?``): following its setpoint, or forced set or clear."""

    ENABLE = "ENABLE"
    SET = "SET"
    CLEAR = "CLEAR"


@dataclass(frozen=True)
class RelaySetpoint:
    """The configuration of one setpoint relay, pressures in Pa."""

    relay: int
    setpoint_pa: float
    hysteresis_pa: float
    direction: SetpointDirection
    enable: RelayEnable


#: Words for the NAK codes documented across the MKS 9xx manuals ([UNVERIFIED] for the 937B);
#: 152 is the code pymeasure and the simulator use for ``T<n>?`` on a channel without an ion gauge.
NAK_MEANINGS = {
    8: "zero adjustment at too high a pressure",
    9: "atmosphere adjustment at too low a pressure",
    152: "not an ion gauge channel",
    160: "unrecognized message",
    169: "invalid argument",
    172: "value out of range",
    175: "command or query character invalid ('?' or '!')",
    180: "not in setup mode",
}

_QUERY = re.compile(r"[A-Za-z]+\d*\?")
_REPLY = re.compile(r"@(\d{3})(ACK|NAK)(.*)", re.DOTALL)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]?\d+)?")
# "LO<E-11": below the range, whose limit is 1E-11 in the current unit.
_UNDERRANGE = re.compile(r"LO\s*<\s*((?:\d+\.?\d*|\.\d+)?)([Ee][+-]?\d+)")
# The non-numeric replies the simulator documents (exact strings [UNVERIFIED] in the spec).
# MISCONN also stands for "cannot identify" there: the two cannot be told apart.
_WORD_STATES = {
    "ATM": GaugeState.OVERRANGE,
    "OFF": GaugeState.SENSOR_OFF,
    "MISCONN": GaugeState.NO_SENSOR,
    "PROT_OFF": GaugeState.SENSOR_ERROR,
}
# Channels 1 to 6 whatever gauge modules are fitted: the count is the model table's.
_CHANNELS = lookup("MKS937B").gauge_channels
_RELAYS = 2 * _CHANNELS
_RETRIED = (InstrumentTimeoutError, InstrumentDisconnectedError, ProtocolError)
_UNITS = {unit.value.upper(): unit for unit in PressureUnit}
_ION_LETTERS = {status.value: status for status in IonGaugeStatus}
_DIRECTIONS = {d.value: d for d in SetpointDirection}
_ENABLES = {e.value: e for e in RelayEnable}
T = TypeVar("T")


class Mks937b(Instrument):
    """An MKS 937B at RS-232/485 ``address`` (001–254, default 253), reached through ``transport``.

    Every public method runs under the instrument's lock; queries are retried after a
    timeout, a dropped connection or a garbled reply (see :class:`drivers.base.Instrument`),
    actuations are sent once and confirmed by readback.
    """

    model = "MKS937B"
    # pyvisa allows a single-character terminator only: read to ";" and then check "FF".
    read_termination = ";"

    def __init__(
        self,
        transport: Transport,
        address: int = 253,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= address <= 254:
            raise ValueError(f"MKS addresses are 1 to 254, not {address}")
        super().__init__(transport, retry=retry, sleep=sleep)
        self.address = address
        # Set when an exchange failed part-way: its reply may still arrive and must not be
        # taken for the next one's.
        self._stale = False

    @classmethod
    def open(
        cls,
        resource_name: str,
        *,
        address: int = 253,
        timeout_s: float = 2.0,
        retry: RetryPolicy | None = None,
        **visa_options: Any,
    ) -> Self:
        """Open ``resource_name`` (``TCPIP::host::port::SOCKET``, ``ASRL…::INSTR``, ``ASRLsocket://…``).

        ``visa_options`` go to pyvisa's ``open_resource`` (e.g. ``baud_rate``; pyvisa's serial
        defaults, 9600 8N1, are the 937B's). Raises :class:`InstrumentDisconnectedError` if
        the resource cannot be opened.
        """
        transport = cls.visa_transport(resource_name, timeout_s, visa_options)
        try:
            return cls(transport, address, retry=retry)
        except BaseException:
            transport.close()
            raise

    # --- framing --------------------------------------------------------------------------------

    def resync(self) -> None:
        """Discard unread input, so that a late reply cannot answer the next command."""
        with self.lock:
            self.transport.discard_input()
            self._stale = False

    def _exchange(self, message: str) -> str:
        """Send ``@aaa<message>;FF`` once; return the text after ``ACK``. The caller holds the lock.

        ``NAK<code>`` raises :class:`InstrumentError`; a frame that is not ``@aaa`` for this
        address followed by ``ACK``/``NAK`` and ``;FF`` raises :class:`ProtocolError`.
        """
        if self._stale:
            self.resync()
        frame = f"@{self.address:03d}{message};FF".encode("ascii")
        try:
            self.transport.write(frame)
            line = self.transport.read_line()
            tail = self.transport.read_exact(2)
            return self._parse(message, line, tail)
        except _RETRIED:
            self._stale = True
            raise

    def _parse(self, message: str, line: bytes, tail: bytes) -> str:
        where = f"{self.model}@{self.address:03d}: reply to {message!r}"
        if tail != b"FF":
            raise ProtocolError(f"{where} ends {tail!r} after ';', not 'FF' ({line!r})")
        try:
            match = _REPLY.fullmatch(line.decode("ascii"))
        except UnicodeDecodeError:
            match = None
        if match is None:
            raise ProtocolError(f"{where} is not an @aaaACK/NAK frame: {line!r}")
        if int(match[1]) != self.address:
            raise ProtocolError(f"{where} came from address {match[1]}: {line!r}")
        body = match[3]
        if match[2] == "ACK":
            return body
        if not (body.isascii() and body.isdigit()):
            raise ProtocolError(f"{where} is a NAK without a numeric code: {line!r}")
        code = int(body)
        meaning = NAK_MEANINGS.get(code, "code not documented")
        raise InstrumentError(f"{where}: NAK{code} ({meaning})", code=code)

    def _ask(self, message: str, parse: Callable[[str], T]) -> T:
        """An idempotent query, its reply text parsed inside the retried transaction."""
        return self.query(lambda: parse(self._exchange(message)))

    # --- identity and configuration -------------------------------------------------------------

    def serial_number(self) -> str:
        """The controller's serial number (``SN?``), as text."""
        return self._ask("SN?", _serial)

    def identity(self) -> str:
        """``"MKS937B,<serial number>"``: the model and the serial number the controller reports."""
        return f"{self.model},{self.serial_number()}"

    @property
    def channel_count(self) -> int:
        """Number of gauge channels of a 937B: 6 (channels 1 to 6, whatever modules are fitted)."""
        return _CHANNELS

    @property
    def relay_count(self) -> int:
        """Number of setpoint relays: 12, two per channel (relay n watches channel (n+1)//2)."""
        return _RELAYS

    def ask(self, command: str) -> str:
        """Send the query ``command`` (e.g. ``"PC1?"``) and return the reply text after ``ACK``.

        For queries the driver has no method for. Only ``?`` queries: they are retried, and a
        ``!`` command could act twice (ValueError).
        """
        # Letters, a number, "?": nothing that could end a frame or start one for another address.
        if _QUERY.fullmatch(command) is None:
            raise ValueError(f"not a 937B query: {command!r}")
        return self._ask(command, str)

    def _unit(self) -> PressureUnit:
        return _word(self._exchange("U?"), _UNITS, "U?")

    def unit(self) -> PressureUnit:
        """The unit the controller displays and reports pressures in (``U?``)."""
        return self.query(self._unit)

    def set_unit(self, unit: PressureUnit | str) -> None:
        """Set the display and reporting unit (``U!<unit>``), confirmed by the controller's echo.

        Setting a unit is idempotent, so it is retried like a query. An echo naming another
        unit raises :class:`~drivers.errors.ActuationNotConfirmedError`; a refusal raises
        :class:`InstrumentError`. Readings stay in Pa whatever the unit.
        """
        wanted = unit if isinstance(unit, PressureUnit) else PressureUnit.parse(unit)
        echo = self._ask(f"U!{wanted.value}", str)
        if echo.strip().upper() != wanted.value.upper():
            raise ActuationNotConfirmedError(f"{self.model}: unit {wanted.value} answered {echo!r}")

    # --- pressures ------------------------------------------------------------------------------

    def read(self, channel: int) -> PressureReading:
        """Channel ``channel``'s pressure in Pa (``U?`` then ``PR<n>?``), or the reason there is none.

        Under range (``LO<E-11``) gives the range limit in Pa; over range (``ATM``), off, not
        connected and protection-off give no pressure. A capacitance manometer below its zero
        reads negative, as the controller says. Unknown text raises :class:`ProtocolError`:
        it is never read as a number.
        """
        self._check(channel, _CHANNELS, "channel")

        def transaction() -> PressureReading:
            unit = self._unit()
            return _reading(channel, self._exchange(f"PR{channel}?"), unit)

        return self.query(transaction)

    def read_all(self) -> list[PressureReading]:
        """Every channel's reading in Pa (``U?`` then ``PRZ?``), channel 1 first.

        As many readings as the controller reports (1 to 6). The separator of ``PRZ?`` is
        [UNVERIFIED]: spaces and commas are both accepted.
        """

        def transaction() -> list[PressureReading]:
            unit = self._unit()
            fields = [f for f in re.split(r"[\s,]+", self._exchange("PRZ?").strip()) if f]
            if not 1 <= len(fields) <= _CHANNELS:
                raise ProtocolError(f"{self.model}: PRZ? gave {len(fields)} values: {fields!r}")
            return [_reading(n, text, unit) for n, text in enumerate(fields, start=1)]

        return self.query(transaction)

    # --- channel power and ion gauges -----------------------------------------------------------

    def _power(self, channel: int) -> bool:
        return _word(self._exchange(f"CP{channel}?"), {"ON": True, "OFF": False}, f"CP{channel}?")

    def channel_power(self, channel: int) -> bool:
        """Whether channel ``channel``'s gauge is powered (``CP<n>?``)."""
        self._check(channel, _CHANNELS, "channel")
        return self.query(lambda: self._power(channel))

    def set_channel_power(self, channel: int, on: bool) -> None:
        """Switch channel ``channel``'s gauge on or off (``CP<n>!ON|OFF``), confirmed by ``CP<n>?``.

        Sent once: a lost or garbled acknowledgement is left to the readback to judge, and a
        readback that disagrees raises :class:`~drivers.errors.ActuationNotConfirmedError`.
        A refusal (e.g. ``NAK169`` for a gauge that cannot be switched) raises
        :class:`InstrumentError`.
        """
        self._check(channel, _CHANNELS, "channel")
        word = "ON" if on else "OFF"

        def command() -> None:
            # After a lost or garbled reply nobody knows whether the gauge switched: never
            # re-send, let the readback tell (the failed exchange discards its late reply).
            with contextlib.suppress(*_RETRIED):
                self._exchange(f"CP{channel}!{word}")

        self.actuate(command, lambda: self._power(channel) is on, f"channel {channel} power {word}")

    def ion_gauge_status(self, channel: int) -> IonGaugeStatus:
        """The ion gauge status of channel ``channel`` (``T<n>?``).

        A channel without an ion gauge raises :class:`InstrumentError` with code 152.
        """
        self._check(channel, _CHANNELS, "channel")
        return self._ask(f"T{channel}?", lambda text: _word(text, _ION_LETTERS, f"T{channel}?"))

    # --- setpoint relays ------------------------------------------------------------------------

    def setpoint(self, relay: int) -> RelaySetpoint:
        """Relay ``relay``'s setpoint and hysteresis in Pa, direction and mode (``SP SH SD EN``)."""
        self._check(relay, _RELAYS, "relay")

        def transaction() -> RelaySetpoint:
            unit = self._unit()
            pressures = [self._pressure(f"{name}{relay}?", unit) for name in ("SP", "SH")]
            direction = _word(self._exchange(f"SD{relay}?"), _DIRECTIONS, f"SD{relay}?")
            enable = _word(self._exchange(f"EN{relay}?"), _ENABLES, f"EN{relay}?")
            return RelaySetpoint(relay, pressures[0], pressures[1], direction, enable)

        return self.query(transaction)

    def relay_set(self, relay: int) -> bool:
        """Whether relay ``relay`` is set (energised) now (``SS<n>?``: ``SET`` or ``CLEAR``)."""
        self._check(relay, _RELAYS, "relay")
        return self._ask(
            f"SS{relay}?", lambda text: _word(text, {"SET": True, "CLEAR": False}, f"SS{relay}?")
        )

    def _pressure(self, message: str, unit: PressureUnit) -> float:
        text = self._exchange(message)
        value = _number(text)
        if value is None:
            raise ProtocolError(f"{self.model}: {message} answered {text!r}, not a number")
        return value * unit.pascals

    def _check(self, number: int, count: int, what: str) -> None:
        # Refused here, before anything is sent: a NAK169 would say the same, one round trip later.
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= count:
            raise ValueError(f"{self.model}: {what} must be 1 to {count}, not {number!r}")


def _word(text: str, meanings: dict[str, T], what: str) -> T:
    """What the reply word ``text`` means (case and blanks ignored); :class:`ProtocolError` if unknown."""
    try:
        return meanings[text.strip().upper()]
    except KeyError:
        raise ProtocolError(f"MKS937B: {what} answered {text!r}") from None


def _serial(text: str) -> str:
    """A serial number: any non-empty text."""
    if not text.strip():
        raise ProtocolError("MKS937B: SN? answered an empty serial number")
    return text.strip()


def _number(text: str) -> float | None:
    """A finite number as the 937B prints it (``1.10E-9``, ``7.602E+2``), else None (never nan or inf)."""
    if _NUMBER.fullmatch(text.strip()) is None:
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _reading(channel: int, text: str, unit: PressureUnit) -> PressureReading:
    """A ``PR<n>?`` / ``PRZ?`` field as a reading in Pa; unknown text is a :class:`ProtocolError`."""
    word = text.strip()
    value = _number(word)
    if value is not None:
        return PressureReading(channel, GaugeState.OK, value * unit.pascals)
    under = _UNDERRANGE.fullmatch(word.upper())
    if under is not None:
        limit = float((under[1] or "1") + under[2])
        return PressureReading(channel, GaugeState.UNDERRANGE, limit * unit.pascals)
    state = _WORD_STATES.get(word.upper())
    if state is None:
        raise ProtocolError(f"MKS937B: channel {channel} reading {text!r} is neither a number nor a state")
    return PressureReading(channel, state, None)
