"""Edwards TIC (Turbo Instrument Controller) with 3 gauge inputs: its serial object protocol.

Every message ends ``<CR>`` and names an object (Edwards D397-30-880, protocols.md §1.4):
``?V913`` asks gauge 1's value, ``?S929`` a setup, ``!C913 1`` commands, ``!S929 2`` sets a setup.
The TIC answers a query ``=V913 5.0691e+01;59;11;0;0`` (value; units type; gauge state; alert
ID; priority), a command ``*C913 0`` (0: accepted) and a refusal ``*V913 2``, raised here as
:class:`~drivers.errors.InstrumentError` with its code. Every reply names the object it answers,
so a late reply to another question is a :class:`~drivers.errors.ProtocolError`; after any failed
exchange the input is discarded before the next one (:class:`~drivers.base.Instrument`).

Pressures come in Pa whatever the front panel shows (units type 59 on every gauge reply): the
display unit (929) does not scale them, and a gauge reporting volts (66) or percent (81) is no
pressure (:class:`~drivers.tpg36x.UnconvertibleUnitError`). A ``*`` reply of 0 only says the
message was accepted (the manual: "correct behaviour must be checked by querying"), so every
command here is confirmed by reading back what it set.
"""

from __future__ import annotations

import contextlib
import enum
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from drivers.base import Instrument, RetryPolicy
from drivers.errors import InstrumentDisconnectedError, InstrumentError, InstrumentTimeoutError, ProtocolError
from drivers.readings import GaugeState, PressureReading
from drivers.tpg36x import UnconvertibleUnitError

__all__ = ["ERROR_MEANINGS", "GAUGE_TYPE_NAMES", "EdwardsTic", "GaugeValue", "TicGaugeState", "TicUnit"]

T = TypeVar("T")

#: The objects of gauge inputs 1, 2 and 3.
GAUGE_OBJECTS = (913, 914, 915)
_IDENTITY = 902
_DISPLAY_UNITS = 929
_UNITS_TYPE_PA = 59
_UNITS_TYPES = frozenset({_UNITS_TYPE_PA, 66, 81})  # Pa, V, %
# The placeholder a gauge that is not measuring prints (published clients test for it).
_NOT_MEASURING_VALUE = 9.9e9

#: Words for the error codes of a ``*`` reply (D397-30-880).
ERROR_MEANINGS = {
    1: "invalid command for object ID",
    2: "invalid query/command",
    3: "missing parameter",
    4: "parameter out of range",
    5: "invalid command in current state",
    6: "data checksum error",
    7: "EEPROM read or write error",
    8: "operation took too long",
    9: "invalid config ID",
}

#: Gauge type names by the code of ``?S913 5`` (as edwardsserial lists them).
GAUGE_TYPE_NAMES = {
    0: "Unknown Device",
    1: "No Device",
    2: "EXP_CM",
    3: "EXP_STD",
    4: "CMAN_S",
    5: "CMAN_D",
    6: "TURBO",
    7: "APGM",
    8: "APGL",
    9: "APGXM",
    10: "APGXH",
    11: "APGXL",
    12: "ATCA",
    13: "ATCD",
    14: "ATCM",
    15: "WRG",
    16: "AIMC",
    17: "AIMN",
    18: "AIMS",
    19: "AIMX",
    20: "AIGC_I2R",
    21: "AIGX_2FIL",
    22: "ION_EB",
    23: "AIGXS",
    24: "USER",
    25: "ASG",
}
_CONFIG_GAUGE_TYPE = 5


class TicUnit(enum.IntEnum):
    """The front panel's pressure unit (setup 929); serial readings stay in Pa whatever it is."""

    KPA = 1
    MBAR = 2
    TORR = 3


class TicGaugeState(enum.IntEnum):
    """A gauge's state, the third field of ``?V913``."""

    NOT_CONNECTED = 0
    CONNECTED = 1
    NEW_ID = 2
    CHANGE = 3
    ALERT = 4
    OFF = 5
    STRIKING = 6
    INITIALISING = 7
    CALIBRATING = 8
    ZEROING = 9
    DEGASSING = 10
    ON = 11
    INHIBITED = 12


@dataclass(frozen=True)
class GaugeValue:
    """One ``?V913`` reply as the TIC gives it: the value in its units type, state, alert ID, priority."""

    value: float
    units_type: int
    state: TicGaugeState
    alert: int
    priority: int


# States with a value, and what the others stand for: on their way on or off, or told to stay
# off, a gauge measures nothing and reports no fault, which is closest to off.
_MEASURING = frozenset({TicGaugeState.ON, TicGaugeState.CALIBRATING})
_NOT_MEASURING = {
    TicGaugeState.NOT_CONNECTED: GaugeState.NO_SENSOR,
    TicGaugeState.CONNECTED: GaugeState.SENSOR_OFF,
    TicGaugeState.NEW_ID: GaugeState.IDENTIFICATION_ERROR,
    TicGaugeState.CHANGE: GaugeState.IDENTIFICATION_ERROR,
    TicGaugeState.ALERT: GaugeState.SENSOR_ERROR,
    TicGaugeState.OFF: GaugeState.SENSOR_OFF,
    TicGaugeState.STRIKING: GaugeState.SENSOR_OFF,
    TicGaugeState.INITIALISING: GaugeState.SENSOR_OFF,
    TicGaugeState.ZEROING: GaugeState.SENSOR_OFF,
    TicGaugeState.DEGASSING: GaugeState.SENSOR_OFF,
    TicGaugeState.INHIBITED: GaugeState.SENSOR_OFF,
}
# Alert IDs 3/10/12 "Over Range" and 4/11 "Under Range" (ADC and gauge level); priority 2 and 3
# are alarms: the controller itself distrusts the value.
_OVER_RANGE_ALERTS = frozenset({3, 10, 12})
_UNDER_RANGE_ALERTS = frozenset({4, 11})
_ALARM_PRIORITY = 2

_REPLY = re.compile(r"([=*])([VSC])(\d{1,5}) (.*)", re.DOTALL)
_VALUE = re.compile(r"[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d{1,3})?")
_FIELD = re.compile(r"[ -~]+")  # printable ASCII (a reply is split on ";" first)
_QUERY = re.compile(r"\?[VS]\d{1,5}(?: \d{1,3})?")
_RETRIED = (InstrumentTimeoutError, InstrumentDisconnectedError, ProtocolError)


class EdwardsTic(Instrument):
    """An Edwards TIC (3 gauge inputs) behind ``transport``: readings in Pa, display unit, gauges on/off.

    Queries are retried after a timeout, a dropped connection or a garbled reply; commands are
    sent once and confirmed by reading back (see :class:`drivers.base.Instrument`).
    """

    model = "TIC"
    read_termination = "\r"

    @classmethod
    def open(
        cls,
        resource_name: str,
        *,
        timeout_s: float = 2.0,
        retry: RetryPolicy | None = None,
        **visa_options: Any,
    ) -> Self:
        """Open ``resource_name`` (``TCPIP::host::port::SOCKET``, ``ASRL…::INSTR``, ``ASRLsocket://…``).

        ``visa_options`` go to pyvisa's ``open_resource`` (pyvisa's serial defaults, 9600 8N1,
        are the TIC's). Raises :class:`InstrumentDisconnectedError` if it cannot be opened.
        """
        transport = cls.visa_transport(resource_name, timeout_s, visa_options)
        try:
            return cls(transport, retry=retry)
        except BaseException:
            transport.close()
            raise

    # --- framing --------------------------------------------------------------------------------

    def _exchange(self, message: str) -> str:
        """Send ``message<CR>`` once; return the data of ``=`` (``""`` for an accepted command).

        The caller holds the lock. A refusal raises :class:`InstrumentError` with its code; a
        reply that is not for this message's object and kind raises :class:`ProtocolError`.
        """
        self.transport.write(message.encode("ascii") + b"\r")
        return self._parse(message, self.transport.read_line())

    def _parse(self, message: str, line: bytes) -> str:
        where = f"{self.model}: reply to {message!r}"
        # A TIC200 was seen to print a NUL inside its identity (=S902 TIC200;D39700640S;150326362\0;5.0).
        text = line.replace(b"\x00", b"").decode("ascii", "replace")
        match = _REPLY.fullmatch(text)
        if match is None or not text.isprintable():
            raise ProtocolError(f"{where} is not a =/* reply: {line!r}")
        mark, kind, digits, data = match.groups()
        if kind != message[1] or int(digits) != int(message[2:].split(" ")[0]):
            raise ProtocolError(f"{where} answers another message: {line!r}")
        is_query = message[0] == "?"
        if mark == "=":
            if not is_query:
                raise ProtocolError(f"{where} is data, not a command's status: {line!r}")
            return data
        if not (data.isascii() and data.isdigit()):
            raise ProtocolError(f"{where} has no numeric status: {line!r}")
        code = int(data)
        if code == 0 and not is_query:
            return ""
        if code == 0:
            raise ProtocolError(f"{where} is a status without the data asked for: {line!r}")
        meaning = ERROR_MEANINGS.get(code, "code not documented")
        raise InstrumentError(f"{where}: error {code} ({meaning})", code=code)

    def _ask(self, message: str, parse: Callable[[str], T]) -> T:
        # Parsed inside the retried transaction: a garbled reply is retried like a lost one.
        return self.query(lambda: parse(self._exchange(message)))

    def _command(self, message: str) -> None:
        """Send a command once: a lost or garbled status is left to the readback to judge."""
        try:
            self._exchange(message)
        except _RETRIED:
            # Its late status must not answer the readback: drop it now.
            with contextlib.suppress(*_RETRIED):
                self.resync()

    def ask(self, message: str) -> str:
        """Send the query ``message`` (``"?V904"``, ``"?S913 7"``) and return its data text.

        For objects the driver has no method for. Queries only: they are retried, and a command
        could act twice (ValueError).
        """
        if _QUERY.fullmatch(message) is None:
            raise ValueError(f"not a TIC query: {message!r} (?V<object> or ?S<object>[ <config>])")
        return self._ask(message, str)

    # --- identity and display unit --------------------------------------------------------------

    def identity(self) -> str:
        """``"TIC,<software>,<serial>,<PIC software>"``: the fields of ``?S902``, comma-separated."""
        return ",".join(self._ask(f"?S{_IDENTITY}", _identity_fields))

    @property
    def channel_count(self) -> int:
        """Number of gauge inputs: 3 (objects 913, 914, 915)."""
        return len(GAUGE_OBJECTS)

    def _unit(self) -> TicUnit:
        return _code(self._exchange(f"?S{_DISPLAY_UNITS}"), TicUnit, "display unit")

    def unit(self) -> TicUnit:
        """The front panel's pressure unit (``?S929``): kPa, mbar or Torr; readings stay in Pa."""
        return self.query(self._unit)

    def set_unit(self, unit: TicUnit | int) -> None:
        """Set the front panel's unit (``!S929 <n>``), sent once and confirmed by ``?S929``.

        A refusal raises :class:`InstrumentError`; a readback showing another unit raises
        :class:`~drivers.errors.ActuationNotConfirmedError`.
        """
        wanted = TicUnit(unit)
        self.actuate(
            lambda: self._command(f"!S{_DISPLAY_UNITS} {int(wanted)}"),
            lambda: self._unit() is wanted,
            f"display unit {wanted.name}",
        )

    # --- gauges ---------------------------------------------------------------------------------

    def _gauge(self, channel: int) -> GaugeValue:
        return _gauge_value(self._exchange(f"?V{_object(channel)}"), channel)

    def gauge(self, channel: int) -> GaugeValue:
        """Gauge ``channel``'s reply as the TIC gives it (``?V913``): value, units, state, alert, priority."""
        return self.query(lambda: self._gauge(channel))

    def read(self, channel: int) -> PressureReading:
        """Gauge ``channel``'s pressure in Pa (``?V91x``), or the reason there is none.

        Under and over range (alert IDs 4/11 and 3/10/12) give the value the TIC prints, its
        range limit; an alarm priority, or a state without a value (off, striking, not
        connected, new ID ...), gives none. A value in volts or percent raises
        :class:`~drivers.tpg36x.UnconvertibleUnitError`.
        """
        _object(channel)
        return self.query(lambda: _reading(channel, self._gauge(channel)))

    def read_all(self) -> list[PressureReading]:
        """Gauges 1 to 3 in Pa, in one locked transaction (``?V913``, ``?V914``, ``?V915``).

        ``?V940`` would take one message but gives values only, without the states that tell
        an off gauge from an over-range one, and leaves out inputs with no gauge.
        """

        def transaction() -> list[PressureReading]:
            return [_reading(n, self._gauge(n)) for n in range(1, len(GAUGE_OBJECTS) + 1)]

        return self.query(transaction)

    def _gauge_type(self, channel: int) -> str:
        text = self._exchange(f"?S{_object(channel)} {_CONFIG_GAUGE_TYPE}")
        fields = text.split(";")
        if len(fields) != 2 or fields[0] != str(_CONFIG_GAUGE_TYPE) or not fields[1].isdigit():
            raise ProtocolError(f"{self.model}: gauge {channel} type answered {text!r}")
        return GAUGE_TYPE_NAMES.get(int(fields[1]), f"type {int(fields[1])}")

    def gauge_type(self, channel: int) -> str:
        """The type of the gauge on input ``channel`` (``?S913 5``): ``ASG``, ``WRG``, ``No Device`` ..."""
        _object(channel)
        return self.query(lambda: self._gauge_type(channel))

    def gauge_ids(self) -> list[str]:
        """The gauge type on each input, 1 to 3 (``?S91x 5``), in one locked transaction."""
        return self.query(lambda: [self._gauge_type(n) for n in range(1, len(GAUGE_OBJECTS) + 1)])

    def set_gauge_on(self, channel: int, on: bool) -> None:
        """Switch the gauge on input ``channel`` on or off (``!C91x 1|0``), confirmed by its state.

        Sent once. A gauge that cannot be switched is refused (:class:`InstrumentError`, code 5
        on the simulated TIC); a readback that does not show it on (any state but off and not
        connected: it may still be striking) or off raises
        :class:`~drivers.errors.ActuationNotConfirmedError`.
        """
        obj = _object(channel)

        def confirmed() -> bool:
            state = self._gauge(channel).state
            if on:
                return state not in (TicGaugeState.OFF, TicGaugeState.NOT_CONNECTED)
            return state is TicGaugeState.OFF

        word = "on" if on else "off"
        self.actuate(lambda: self._command(f"!C{obj} {int(on)}"), confirmed, f"gauge {channel} {word}")


def _object(channel: int) -> int:
    # Refused before anything is sent: the TIC has no object for a fourth gauge here.
    if isinstance(channel, bool) or not isinstance(channel, int) or not 1 <= channel <= len(GAUGE_OBJECTS):
        raise ValueError(f"TIC gauge inputs are 1 to {len(GAUGE_OBJECTS)}, not {channel!r}")
    return GAUGE_OBJECTS[channel - 1]


def _identity_fields(text: str) -> list[str]:
    fields = [field.strip() for field in text.split(";")]
    if len(fields) < 3 or not all(fields) or not all(_FIELD.fullmatch(field) for field in fields):
        raise ProtocolError(f"TIC: ?S902 answered {text!r}, not product;software;serial;...")
    return fields


def _code(text: str, enum_type: type[TicUnit], what: str) -> TicUnit:
    word = text.strip()
    if not word.isdigit() or int(word) not in {member.value for member in enum_type}:
        raise ProtocolError(f"TIC: {what} answered {text!r}")
    return enum_type(int(word))


def _gauge_value(text: str, channel: int) -> GaugeValue:
    """The five fields of a gauge reply; anything else is a :class:`ProtocolError`, never a number."""
    fields = text.split(";")
    if len(fields) != 5 or _VALUE.fullmatch(fields[0]) is None or not all(f.isdigit() for f in fields[1:]):
        raise ProtocolError(f"TIC: gauge {channel} answered {text!r}, not value;units;state;alert;priority")
    value = float(fields[0])
    units_type, state, alert, priority = (int(f) for f in fields[1:])
    if (
        not math.isfinite(value)
        or units_type not in _UNITS_TYPES
        or state not in TicGaugeState.__members__.values()
    ):
        raise ProtocolError(f"TIC: gauge {channel} answered {text!r}: unknown units type or state")
    return GaugeValue(value, units_type, TicGaugeState(state), alert, priority)


def _reading(channel: int, gauge: GaugeValue) -> PressureReading:
    """A gauge reply as a reading in Pa."""
    if gauge.state not in _MEASURING:
        return PressureReading(channel, _NOT_MEASURING[gauge.state], None)
    if gauge.alert in _OVER_RANGE_ALERTS:
        state = GaugeState.OVERRANGE
    elif gauge.alert in _UNDER_RANGE_ALERTS:
        state = GaugeState.UNDERRANGE
    elif gauge.priority >= _ALARM_PRIORITY or gauge.value >= _NOT_MEASURING_VALUE:
        return PressureReading(channel, GaugeState.SENSOR_ERROR, None)
    else:
        state = GaugeState.OK
    if gauge.units_type != _UNITS_TYPE_PA:
        raise UnconvertibleUnitError(
            f"TIC: gauge {channel} reports units type {gauge.units_type} (66 V, 81 %), not a pressure;"
            " set its gas type to a gas to read Pa"
        )
    return PressureReading(channel, state, gauge.value)
