"""Agilent (Varian) XGS-600 gauge controller over its ASCII ``#aa`` protocol (serial or terminal server).

One line each way (manual Appendix B, Table B-1): ``#`` + address ``aa`` (two hex digits,
``00`` on RS-232) + a two-hex-digit command + optional data + ``<CR>`` from the host;
``>`` + data + ``<CR>`` back, or ``?FF<CR>`` for an invalid command, invalid data or a wrong
length (raised here as :class:`~drivers.errors.InstrumentError`, code ``"FF"``). A command
for another address gets no answer at all (a timeout). Replies do not name the command they
answer, so after any failed exchange the input is discarded before the next command.

The manual asks for no more than 10 queries per second ("more frequent queries compromise
system responsiveness"): the driver spaces its commands by at least
:attr:`Xgs600.min_interval_s` (0.1 s), waiting at most that long before a command. So that a
sample costs as few queries as it can, :meth:`Xgs600.read_all` (and :meth:`Xgs600.read`) use
the pressure dump ``#000F``. Its numbers carry no unit and the unit can change at the front panel
at any time, so ``#0013`` follows every dump that holds a number, and the dump is converted with
the unit in force when it was taken (:func:`drivers.panel_unit.taken_under_one_unit`): two
commands, 0.2 s at the manual's pace, a sample.

Channel n is the n-th field of ``#000F`` (boards left to right as installed). One sensor can
also be read by its code (``T1``, ``I1``) or user label (``U`` + label) with ``#0002``
(:meth:`Xgs600.read_sensor`). A field that is a word (``OFF``, ``NOCBL``, ``OPEN``) is a
state, a number marked ``<`` or ``>`` is the limit of a range the gauge is beyond; any other
text raises :class:`~drivers.errors.ProtocolError`, never a number.
"""

from __future__ import annotations

import contextlib
import enum
import math
import re
import time
from collections.abc import Callable
from typing import Any, Self, TypeVar

from drivers.base import Instrument, RetryPolicy
from drivers.catalog import AGILENT_XGS600
from drivers.errors import (
    InstrumentDisconnectedError,
    InstrumentError,
    InstrumentTimeoutError,
    ProtocolError,
)
from drivers.panel_unit import taken_under_one_unit
from drivers.readings import GaugeState, PressureReading
from drivers.transport import Transport

__all__ = ["BOARD_NAMES", "MIN_QUERY_INTERVAL_S", "Board", "Xgs600", "XgsUnit"]

T = TypeVar("T")
TORR_PA = 101325.0 / 760.0
# "Serial queries more frequent than 10 per second will compromise system responsiveness."
MIN_QUERY_INTERVAL_S = 0.1
MAX_ADDRESS = 0x20  # "Max allowable: 20hex"


class XgsUnit(enum.Enum):
    """The pressure unit the controller reports in; the value is its ``#0013`` code."""

    TORR = "00"
    MBAR = "01"
    PASCAL = "02"

    @property
    def pascals(self) -> float:
        """The size of one of this unit in Pa."""
        return _PA_PER_UNIT[self]

    @property
    def set_command(self) -> str:
        """The command that makes the controller report in this unit (``10``, ``11``, ``12``)."""
        return _SET_COMMANDS[self]


_PA_PER_UNIT = {XgsUnit.TORR: TORR_PA, XgsUnit.MBAR: 100.0, XgsUnit.PASCAL: 1.0}
_SET_COMMANDS = {XgsUnit.TORR: "10", XgsUnit.MBAR: "11", XgsUnit.PASCAL: "12"}

#: Board code (``#0001``) → what the slot holds.
BOARD_NAMES = {
    "10": "HFIG",  # hot-filament ion gauge board
    "3A": "IMG",  # inverted-magnetron board
    "40": "CNV",  # convection board
    "4C": "ANALOG",  # analog board
    "FE": "EMPTY",
}


class Board(enum.Enum):
    """What one slot holds, by its ``#0001`` code (an unknown code is a :class:`ProtocolError`)."""

    HFIG = "10"
    IMG = "3A"
    CNV = "40"
    ANALOG = "4C"
    EMPTY = "FE"


# The words a reading may be instead of a number (the simulator's choices, [UNVERIFIED]).
_WORD_STATES = {
    "OFF": GaugeState.SENSOR_OFF,
    "NOCBL": GaugeState.NO_SENSOR,
    "OPEN": GaugeState.SENSOR_ERROR,
}
_NUMBER = re.compile(r"\d\.\d+E[+-]\d{2,3}")  # 1.234E-03: unsigned, as Table B-1 prints it
_MARKS = {"<": GaugeState.UNDERRANGE, ">": GaugeState.OVERRANGE}
_SENSOR = re.compile(r"T(?:[1-9]|1[0-2])|I[1-6]|U[A-Z0-9]{1,5}")
_BOARDS = re.compile(r"(?:[0-9A-F]{2}){6}")
_REVISIONS = re.compile(r"[0-9A-F]{4}(?:,[0-9A-F]{4})*")
_REPLY_TEXT = re.compile(r"[A-Z0-9.,<>+\-]*")
_RETRIED = (InstrumentTimeoutError, InstrumentDisconnectedError, ProtocolError)
# The one model this driver drives, as the catalog declares it.
(_MODEL,) = AGILENT_XGS600
# Sensor positions of the dump: six boards of at most two sensors, the model table's count.
_CHANNELS = _MODEL.gauge_channels


class Xgs600(Instrument):
    """An XGS-600 at ``address`` (0 on RS-232, 1 to 0x20 on RS-485), reached through ``transport``.

    Every public method runs under the instrument's lock; queries are retried after a
    timeout, a dropped connection or a garbled reply (see :class:`drivers.base.Instrument`),
    the unit change is sent once and confirmed by readback. ``min_interval_s`` spaces commands
    (the manual's 10 queries per second).
    """

    model = _MODEL.name
    read_termination = "\r"

    def __init__(
        self,
        transport: Transport,
        address: int = 0,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        min_interval_s: float = MIN_QUERY_INTERVAL_S,
    ) -> None:
        if isinstance(address, bool) or not 0 <= address <= MAX_ADDRESS:
            raise ValueError(f"XGS-600 addresses are 0 (RS-232) to 0x20, not {address!r}")
        if not 0.0 <= min_interval_s <= 1.0:
            raise ValueError(f"min_interval_s is 0 to 1 s, not {min_interval_s}")
        super().__init__(transport, retry=retry, sleep=sleep)
        self.address = address
        self.min_interval_s = min_interval_s
        self._last_sent_s: float | None = None
        self._stale = False
        # The unit #0013 last answered: the one in force before the next reading (None: not asked yet).
        self._unit: XgsUnit | None = None

    @classmethod
    def open(
        cls,
        resource_name: str,
        *,
        address: int = 0,
        timeout_s: float = 2.0,
        retry: RetryPolicy | None = None,
        min_interval_s: float = MIN_QUERY_INTERVAL_S,
        **visa_options: Any,
    ) -> Self:
        """Open ``resource_name`` (``TCPIP::host::port::SOCKET``, ``ASRL…::INSTR``, ``ASRLsocket://…``).

        ``visa_options`` go to pyvisa's ``open_resource`` (e.g. ``baud_rate``: the XGS-600
        runs at 9600 or 19200 baud, 8N1). Raises :class:`InstrumentDisconnectedError` if the
        resource cannot be opened.
        """
        transport = cls.visa_transport(resource_name, timeout_s, visa_options)
        try:
            return cls(transport, address, retry=retry, min_interval_s=min_interval_s)
        except BaseException:
            transport.close()
            raise

    # --- framing --------------------------------------------------------------------------------

    def resync(self) -> None:
        """Discard unread input, so that a late reply cannot answer the next command."""
        with self.lock:
            self.transport.discard_input()
            self._stale = False

    def _pace(self) -> None:
        if self._last_sent_s is None:
            return
        wait_s = self.min_interval_s - (time.monotonic() - self._last_sent_s)
        if wait_s > 0.0:
            self._sleep(min(wait_s, self.min_interval_s))

    def _exchange(self, command: str, data: str = "") -> str:
        """Send ``#aa<command><data><CR>`` once; return the data after ``>``. The caller holds the lock.

        ``?FF`` raises :class:`InstrumentError`; anything but ``>`` and printable reply text
        raises :class:`ProtocolError`.
        """
        if self._stale:
            self.resync()
        frame = f"#{self.address:02X}{command}{data}\r".encode("ascii")
        self._pace()
        try:
            self._last_sent_s = time.monotonic()
            self.transport.write(frame)
            return self._parse(command + data, self.transport.read_line())
        except _RETRIED:
            self._stale = True
            raise

    def _parse(self, sent: str, line: bytes) -> str:
        where = f"{self.model}#{self.address:02X}: reply to {sent!r}"
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            raise ProtocolError(f"{where} is not ASCII: {line!r}") from None
        if text == "?FF":
            raise InstrumentError(f"{where}: ?FF (invalid command, data or length)", code="FF")
        if not text.startswith(">") or _REPLY_TEXT.fullmatch(text[1:]) is None:
            raise ProtocolError(f"{where} is not a '>' reply: {line!r}")
        return text[1:]

    def _ask(self, command: str, parse: Callable[[str], T], data: str = "") -> T:
        """An idempotent query, its reply parsed inside the retried transaction."""
        return self.query(lambda: parse(self._exchange(command, data)))

    # --- identity -------------------------------------------------------------------------------

    def boards(self) -> list[Board]:
        """The six slots' boards, left to right from the front (``#0001``)."""
        return self._ask("01", _boards)

    def software_revisions(self) -> list[str]:
        """The main board's software revision, then each fitted board's (``#0005``, ``hhhh`` each)."""
        return self._ask("05", _revisions)

    def identity(self) -> str:
        """``"XGS600,<board codes>,<revisions>"``: no identity command exists, so the fit and firmware."""
        with self.lock:
            boards = "".join(board.value for board in self.boards())
            return f"{self.model},{boards},{'/'.join(self.software_revisions())}"

    @property
    def channel_count(self) -> int:
        """Positions of the pressure dump: 12 (six slots of at most two sensors), whatever is fitted."""
        return _CHANNELS

    def setpoint_states(self) -> dict[int, bool]:
        """Whether each of the 8 setpoint relays is on (``#0003`` → ``>00hh``, bit n−1 for setpoint n)."""
        return self._ask("03", _setpoints)

    def ask(self, command: str, data: str = "") -> str:
        """Send the read command ``command`` (two hex digits) with ``data``; the reply after ``>``.

        For queries the driver has no method for. Retried as a query: never a set command
        (``10`` to ``12``, ``06`` reset, ``3x``/``4x`` emission and degas, ``5E``–``DF``
        setpoints…), which would act twice; those raise ValueError.
        """
        if command not in _READ_COMMANDS or re.fullmatch(r"[A-Z0-9.+\-]*", data) is None:
            raise ValueError(f"not an XGS-600 read command: {command!r} {data!r}")
        return self._ask(command, str, data)

    # --- units ----------------------------------------------------------------------------------

    def _read_unit(self) -> XgsUnit:
        self._unit = _unit(self._exchange("13"))
        return self._unit

    def unit(self) -> XgsUnit:
        """The unit the controller reports pressures in (``#0013``)."""
        return self.query(self._read_unit)

    def set_unit(self, unit: XgsUnit) -> None:
        """Report in ``unit`` (``#0010`` Torr, ``#0011`` mbar, ``#0012`` Pa), confirmed by ``#0013``.

        Sent once; a readback naming another unit raises
        :class:`~drivers.errors.ActuationNotConfirmedError`. Readings stay in Pa whatever the unit.
        """
        wanted = XgsUnit(unit)

        def command() -> None:
            self._unit = None  # unknown until the readback says
            # A lost or garbled ">" leaves the readback to judge; never re-sent.
            with contextlib.suppress(*_RETRIED):
                self._exchange(wanted.set_command)

        self.actuate(command, lambda: self._read_unit() is wanted, f"unit {wanted.name}")

    def _in_pa(self, take: Callable[[], list[_Raw]]) -> list[PressureReading]:
        """What ``take`` reads, in Pa with the unit in force when it was read. The caller holds the lock."""
        raws, unit = taken_under_one_unit(take, _has_value, self._read_unit, self._unit, self.model)
        return [_in_pa(raw, unit) for raw in raws]

    # --- pressures ------------------------------------------------------------------------------

    def _dump(self) -> list[_Raw]:
        fields = self._exchange("0F").split(",")
        if not 1 <= len(fields) <= _CHANNELS:
            raise ProtocolError(f"{self.model}: #000F gave {len(fields)} fields: {fields!r}")
        return [_raw(n, text) for n, text in enumerate(fields, start=1)]

    def read_all(self) -> list[PressureReading]:
        """Every sensor's reading in Pa, channel 1 first: ``#000F``, then ``#0013`` if it holds a number.

        As many readings as the controller reports (1 to 12). Under and over range give the
        range limit; off, no cable and an open sensor give no pressure.
        """
        return self.query(lambda: self._in_pa(self._dump))

    def read(self, channel: int) -> PressureReading:
        """Channel ``channel``'s reading in Pa: its field of ``#000F``, read as :meth:`read_all` reads it.

        A channel beyond what the controller reports raises :class:`InstrumentError`.
        """
        if isinstance(channel, bool) or not isinstance(channel, int) or not 1 <= channel <= _CHANNELS:
            raise ValueError(f"{self.model}: channel must be 1 to {_CHANNELS}, not {channel!r}")
        readings = self.read_all()
        if channel > len(readings):
            raise InstrumentError(f"{self.model}: it reports {len(readings)} sensors, no channel {channel}")
        return readings[channel - 1]

    def read_sensor(self, sensor: str) -> PressureReading:
        """One sensor by code (``T1``–``T12``, ``I1``–``I6``) or user label (``U`` + label), ``#0002``.

        The reading's channel is 0: a code names a sensor, not a position of the dump. An
        unknown code or label is refused by the controller (:class:`InstrumentError`, ``?FF``).
        """
        if _SENSOR.fullmatch(sensor) is None:
            raise ValueError(f"not an XGS-600 sensor code: {sensor!r} (T1-T12, I1-I6, U<label>)")

        return self.query(lambda: self._in_pa(lambda: [_raw(0, self._exchange("02", sensor))]))[0]


# Read-only commands (Table B-1): contents, pressure, setpoint states and assignments, software
# revision, dump, units, and the per-sensor reads (emission/degas status, gas correction,
# emission current, sensitivity, setpoint levels and delays, gas type).
_READ_COMMANDS = frozenset(
    {"01", "02", "03", "04", "05", "0F", "13", "32", "34", "42", "4E", "50", "52", "54", "5F"}
    | {f"{h}{n:X}" for h in "89EF" for n in range(1, 9)}
)

_Raw = tuple[int, GaugeState, float | None]


def _raw(channel: int, text: str) -> _Raw:
    """One field as (channel, state, value in the controller's unit or None)."""
    word = text.strip()
    state = _WORD_STATES.get(word)
    if state is not None:
        return channel, state, None
    mark = _MARKS.get(word[:1])
    number = word[1:] if mark is not None else word
    if _NUMBER.fullmatch(number) is None or not math.isfinite(float(number)):
        what = "neither a number nor a state"
        raise ProtocolError(f"{_MODEL.name}: channel {channel} reading {text!r} is {what}")
    return channel, mark or GaugeState.OK, float(number)


def _has_value(raws: list[_Raw]) -> bool:
    return any(value is not None for _, _, value in raws)


def _in_pa(raw: _Raw, unit: XgsUnit | None) -> PressureReading:
    channel, state, value = raw
    if value is None:
        return PressureReading(channel, state, None)
    assert unit is not None, "the unit is confirmed before any value is converted"
    return PressureReading(channel, state, value * unit.pascals)


def _unit(text: str) -> XgsUnit:
    try:
        return XgsUnit(text)
    except ValueError:
        raise ProtocolError(f"{_MODEL.name}: #0013 answered {text!r}, not 00, 01 or 02") from None


def _boards(text: str) -> list[Board]:
    if _BOARDS.fullmatch(text) is None:
        raise ProtocolError(f"{_MODEL.name}: #0001 answered {text!r}, not six board codes")
    codes = [text[i : i + 2] for i in range(0, 12, 2)]
    unknown = [code for code in codes if code not in BOARD_NAMES]
    if unknown:
        raise ProtocolError(f"{_MODEL.name}: #0001 names unknown board code(s) {', '.join(unknown)}")
    return [Board(code) for code in codes]


def _revisions(text: str) -> list[str]:
    if _REVISIONS.fullmatch(text) is None:
        raise ProtocolError(f"{_MODEL.name}: #0005 answered {text!r}, not hhhh revisions")
    return text.split(",")


def _setpoints(text: str) -> dict[int, bool]:
    if re.fullmatch(r"00[0-9A-F]{2}", text) is None:
        raise ProtocolError(f"{_MODEL.name}: #0003 answered {text!r}, not 00hh")
    mask = int(text[2:], 16)
    return {n: bool(mask >> (n - 1) & 1) for n in range(1, 9)}
