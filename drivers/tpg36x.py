"""Pfeiffer TPG 361/362/366 (and TPG 261/262) gauge controllers: the "mnemonic" protocol.

Every exchange is a two-phase handshake (protocols.md §1.1, table 5.1): ``PR1<CR>`` is
answered ``<ACK><CR><LF>``, then a bare ``<ENQ>`` fetches the data line
``0,1.2345E-03<CR><LF>``. A refused command is answered ``<NAK>``, and the ``<ENQ>`` after
it fetches the ERROR word, raised here as :class:`~drivers.errors.InstrumentError`.
Pressures come back in Pa whatever unit the controller shows, converted with the unit in force
when they were taken: ``UNI`` is asked right after every reading, in the same locked
transaction, and must agree with the unit known before it (the one asked after the previous
reading), or the reading is taken again (the unit was changed at the front panel meanwhile).
"""

from __future__ import annotations

import contextlib
import enum
import math
import re
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any, Self, TypeVar

from drivers.base import Instrument, RetryPolicy
from drivers.errors import (
    ActuationNotConfirmedError,
    DriverError,
    InstrumentDisconnectedError,
    InstrumentError,
    InstrumentTimeoutError,
    ProtocolError,
)
from drivers.models import models_driven_by
from drivers.panel_unit import taken_under_one_unit
from drivers.readings import GaugeState, PressureReading
from drivers.transport import Transport

__all__ = ["ComInterval", "SensorSwitch", "Tpg26x", "Tpg36x", "TpgUnit", "UnconvertibleUnitError"]

T = TypeVar("T")

ACK = b"\x06"
NAK = b"\x15"
ENQ = b"\x05"
ETX = b"\x03"
# labmcp skips up to 8 lines before the <ACK>: output streamed after power-up or by a COM left running.
MAX_STALE_LINES = 8
TORR_PA = 101325.0 / 760.0


class TpgUnit(enum.IntEnum):
    """The pressure unit the controller shows (``UNI`` code); a TPG 26x knows only the first three."""

    MBAR = 0
    TORR = 1
    PASCAL = 2
    MICRON = 3
    HPA = 4
    VOLT = 5


_PA_PER_UNIT = (100.0, TORR_PA, 1.0, TORR_PA / 1000.0, 100.0)  # by UNI code; Volt (5) is no pressure


class SensorSwitch(enum.IntEnum):
    """A channel's gauge as ``SEN`` reports it."""

    CANNOT_SWITCH = 0
    OFF = 1
    ON = 2


class ComInterval(enum.IntEnum):
    """Continuous-output interval (``COM,x``): 100 ms, 1 s or 1 min."""

    MS_100 = 0
    S_1 = 1
    MIN_1 = 2


_COM_INTERVAL_S = (0.1, 1.0, 60.0)  # by COM parameter


class UnconvertibleUnitError(DriverError):
    """The controller shows Volt, a gauge signal: no pressure in Pa can be derived from it."""


_STATES = {
    "0": GaugeState.OK,
    "1": GaugeState.UNDERRANGE,
    "2": GaugeState.OVERRANGE,
    "3": GaugeState.SENSOR_ERROR,
    "4": GaugeState.SENSOR_OFF,
    "5": GaugeState.NO_SENSOR,
    "6": GaugeState.IDENTIFICATION_ERROR,
}
_WITH_VALUE = {GaugeState.OK, GaugeState.UNDERRANGE, GaugeState.OVERRANGE}  # 1, 2: the range limit
_ERROR_FLAGS = ("controller error", "no hardware", "inadmissible parameter", "syntax error")
# Every byte a TPG prints in a line. A reply with any other byte is garbled, never a stale line.
_TEXT = re.compile(rb"[A-Za-z0-9,.+\-/: ]*")
_VALUE = re.compile(r"[+-]?\d+(?:\.\d*)?E[+-]?\d{1,3}")  # 1.2345E-03, +1.7377E+00, 2.0000E-2
_ERROR_WORD = re.compile(r"[01]{4}")
_WORD = re.compile(r"[A-Za-z0-9.\-]+")
_GAUGE_ID = re.compile(r"[A-Za-z0-9/]+")
_SWITCH = re.compile(r"[012]")
_MNEMONIC = re.compile(r"[A-Za-z]{2}[A-Za-z0-9]")
_RawReading = tuple[GaugeState, float]


def _decode(line: bytes, what: str) -> str:
    if not _TEXT.fullmatch(line):
        raise ProtocolError(f"garbled reply to {what}: {line!r}")
    return line.decode("ascii")


def _fields(text: str, count: int, pattern: re.Pattern[str], what: str) -> list[str]:
    fields = text.split(",")
    if len(fields) != count or not all(pattern.fullmatch(field) for field in fields):
        raise ProtocolError(f"unexpected reply to {what} ({count} fields due): {text!r}")
    return fields


def _parse_readings(text: str, count: int, states: Mapping[str, GaugeState] = _STATES) -> list[_RawReading]:
    """``count`` ``status,value`` pairs (PRn, PRX, COM) in the controller's unit."""
    fields = text.split(",")
    if len(fields) != 2 * count:
        raise ProtocolError(f"expected {count} status,value pairs, got {text!r}")
    out = []
    for status, value in zip(fields[::2], fields[1::2], strict=True):
        if status not in states or not _VALUE.fullmatch(value):
            raise ProtocolError(f"not a status,value pair: {status},{value}")
        number = float(value)
        if not math.isfinite(number):
            raise ProtocolError(f"not a finite value: {value}")
        out.append((states[status], number))
    return out


def _has_value(raws: list[_RawReading]) -> bool:
    return any(state in _WITH_VALUE for state, _ in raws)


def _sensors(text: str, count: int) -> list[SensorSwitch]:
    return [SensorSwitch(int(field)) for field in _fields(text, count, _SWITCH, "SEN")]


def _in_pa(channel: int, raw: _RawReading, unit: TpgUnit | None) -> PressureReading:
    state, value = raw
    if state not in _WITH_VALUE:
        return PressureReading(channel, state, None)
    assert unit is not None, "the unit is confirmed before any value is converted"
    if unit is TpgUnit.VOLT:
        raise UnconvertibleUnitError(
            f"channel {channel}: the controller shows Volt (UNI 5), a gauge signal that depends on the gauge"
            " type, not a pressure; set a pressure unit (set_unit) to read Pa"
        )
    return PressureReading(channel, state, value * _PA_PER_UNIT[int(unit)])


class Tpg36x(Instrument):
    """A Pfeiffer TPG 361, 362 or 366 (1, 2 or 6 channels): readings in Pa, settings, continuous output."""

    model = "TPG36x"
    read_termination = "\r\n"
    #: The ``UNI`` codes this model knows.
    units: tuple[TpgUnit, ...] = tuple(TpgUnit)
    #: The status digits this model prints (``PRn``, ``PRX``, ``COM``), and what each means.
    status_codes: Mapping[str, GaugeState] = _STATES
    #: Channels in a ``PRX``, ``COM`` or ``TID`` line when the firmware prints a fixed number of
    #: them whatever the model (None: one per channel); the driver keeps the model's first ones.
    line_channels: int | None = None

    def __init__(
        self,
        transport: Transport,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        channels: int | None = None,
    ) -> None:
        """Drive the controller behind ``transport``; ``channels`` spares the ``AYT`` asking for it."""
        super().__init__(transport, retry=retry, sleep=sleep)
        self._channels = channels
        # The unit UNI last answered: the one in force before the next reading (None: not asked yet).
        self._unit: TpgUnit | None = None

    @classmethod
    def open(
        cls,
        resource_name: str,
        *,
        timeout_s: float = 2.0,
        retry: RetryPolicy | None = None,
        **visa_options: Any,
    ) -> Self:
        """Connect through pyvisa-py (``TCPIP::host::8000::SOCKET``, ``ASRL…::INSTR``, ``ASRLsocket://…``)."""
        driver = cls(cls.visa_transport(resource_name, timeout_s, visa_options), retry=retry)
        # ETX on connect (protocols.md §1.1) drops a half-sent command and output streamed since power-up.
        # If the controller is not there, the first transaction retries and says so.
        with contextlib.suppress(DriverError):
            driver.resync()
        return driver

    # --- the handshake ------------------------------------------------------------------------------

    def resync(self) -> None:
        """Send ``<ETX>`` (clears the controller's input buffer, ends continuous output), drop stale input."""
        self.transport.write(ETX)
        self.transport.discard_input()

    def _transact(self, mnemonic: str, params: Sequence[int | str] = ()) -> str:
        """``MNEMONIC[,params]<CR>``, ``<ACK>``, ``<ENQ>``, data line: once, not retried."""
        command = ",".join([mnemonic, *map(str, params)])
        self._command(command)
        self.transport.write(ENQ)
        return _decode(self.transport.read_line(), command)

    def _command(self, command: str) -> None:
        self.transport.write(command.encode("ascii") + b"\r")
        # Each read may last a timeout: the deadline keeps nine of them from adding up to nine timeouts.
        deadline = time.monotonic() + self.transport.timeout_s
        for _ in range(MAX_STALE_LINES + 1):
            line = self.transport.read_line()
            if line == ACK:
                return
            if line == NAK:
                self.transport.write(ENQ)
                word = _decode(self.transport.read_line(), f"<ENQ> after <NAK> to {command}")
                if not _ERROR_WORD.fullmatch(word):
                    raise ProtocolError(f"{self.model}: {word!r} is no ERROR word")
                flags = [name for bit, name in zip(word, _ERROR_FLAGS, strict=True) if bit == "1"]
                raise InstrumentError(
                    f"{self.model}: {command} refused, ERROR word {word} ({', '.join(flags) or 'no flag'})",
                    word,
                )
            if not _TEXT.fullmatch(line):
                raise ProtocolError(f"{self.model}: {line!r} where <ACK> or <NAK> to {command} was due")
            if time.monotonic() > deadline:
                raise InstrumentTimeoutError(f"{self.model}: only stale lines, no <ACK> to {command}")
        raise ProtocolError(f"{self.model}: no <ACK> to {command} after {MAX_STALE_LINES} stale lines")

    def _ask(self, parse: Callable[[str], T], mnemonic: str, *params: int | str) -> T:
        # Parsing inside the transaction makes a garbled reply a retried ProtocolError.
        return self.query(lambda: parse(self._transact(mnemonic, params)))

    def ask(self, mnemonic: str, *params: int | str) -> str:
        """The data line (text) of any mnemonic, e.g. ``ask("FIL")`` → ``"1,1"`` (retried: idempotent)."""
        command = ",".join([mnemonic, *map(str, params)])
        if not (_MNEMONIC.fullmatch(mnemonic) and _TEXT.fullmatch(command.encode("ascii", "replace"))):
            raise ValueError(f"not a mnemonic command: {command!r}")
        return self._ask(str, mnemonic, *params)

    # --- identity and settings ----------------------------------------------------------------------

    def identity(self) -> str:
        """The ``AYT`` line (text): model, part number, serial number, firmware and hardware versions."""
        return ",".join(self._ask(lambda text: _fields(text, 5, _WORD, "AYT"), "AYT"))

    @property
    def channel_count(self) -> int:
        """Number of gauge channels: the model table's for the model ``AYT`` names (362 → 2), asked once."""
        if self._channels is None:
            self._channels = self._detect_channels()
        return self._channels

    def _detect_channels(self) -> int:
        model = self.identity().split(",", 1)[0]
        known = models_driven_by(type(self))
        if model not in known:
            raise DriverError(f"{self.model}: unknown model {model!r} in AYT")
        return known[model].gauge_channels

    def firmware(self) -> str:
        """The program (firmware) number, ``PNR`` (text, e.g. ``010100``)."""
        return self._ask(lambda text: _fields(text, 1, _WORD, "PNR"), "PNR")[0]

    def error_word(self) -> str:
        """The ERROR word, ``ERR`` (``0000`` when clear; flags: controller error, no hardware, PAR, SYN)."""
        return self._ask(lambda text: _fields(text, 1, _ERROR_WORD, "ERR"), "ERR")[0]

    def _parse_unit(self, text: str) -> TpgUnit:
        if not (text.isdigit() and int(text) in self.units):
            raise ProtocolError(f"{self.model}: {text!r} is no unit code")
        return TpgUnit(int(text))

    def _transact_unit(self) -> TpgUnit:
        self._unit = self._parse_unit(self._transact("UNI"))
        return self._unit

    def unit(self) -> TpgUnit:
        """Ask the unit the controller shows (``UNI``)."""
        with self.lock:
            return self.query(self._transact_unit)

    def set_unit(self, unit: TpgUnit | int) -> None:
        """Make the controller show ``unit`` (``UNI,n``), confirmed by its reply; readings stay in Pa."""
        wanted = TpgUnit(unit)
        if wanted not in self.units:
            raise ValueError(f"{self.model} has no unit {wanted.name}")
        with self.lock:
            self._unit = None  # unknown until the reply says which unit the controller shows
            got = self._ask(self._parse_unit, "UNI", int(wanted))
            self._unit = got
            if got is not wanted:
                raise ActuationNotConfirmedError(f"{self.model}: UNI,{int(wanted)} answered {int(got)}")

    # --- readings -----------------------------------------------------------------------------------

    def _read_in_pa(self, take: Callable[[], list[_RawReading]], first_channel: int) -> list[PressureReading]:
        """Readings ``take`` gets, in Pa with the unit in force when they were taken (one retried query).

        ``UNI`` after the reading (none when no channel has a value), which must be the unit asked
        before it, or the reading is taken again: :func:`drivers.panel_unit.taken_under_one_unit`.
        """

        def transaction() -> list[PressureReading]:
            raws, unit = taken_under_one_unit(take, _has_value, self._transact_unit, self._unit, self.model)
            return [_in_pa(ch, raw, unit) for ch, raw in enumerate(raws, start=first_channel)]

        return self.query(transaction)

    def read(self, channel: int) -> PressureReading:
        """Read gauge ``channel`` (``PRn``): its state, and a pressure in Pa when OK or out of range.

        Under and over range give the range limit. :class:`UnconvertibleUnitError` if the unit is Volt.
        """
        if not 1 <= channel <= 6:
            raise ValueError(f"no channel {channel} on a TPG (1 to 6)")

        def take() -> list[_RawReading]:
            return _parse_readings(self._transact(f"PR{channel}"), 1, self.status_codes)

        with self.lock:
            return self._read_in_pa(take, channel)[0]

    def read_all(self) -> list[PressureReading]:
        """Read every gauge at once (``PRX``; ``PR1`` on a single-channel model), pressures in Pa."""
        with self.lock:
            count = self.channel_count
            if count == 1:
                return [self.read(1)]
            return self._read_in_pa(lambda: self._line_readings(self._transact("PRX"), count), 1)

    def _line_readings(self, text: str, count: int) -> list[_RawReading]:
        """The first ``count`` channels' ``status,value`` pairs of a ``PRX`` or ``COM`` line."""
        return _parse_readings(text, self.line_channels or count, self.status_codes)[:count]

    def gauge_ids(self) -> list[str]:
        """The gauge type on each channel (``TID``): ``PKR``, ``TPR/PCR``, ``noSENSOR``, 26x ``noSEn``…"""
        with self.lock:
            count = self.channel_count
            width = self.line_channels or count
            return self._ask(lambda text: _fields(text, width, _GAUGE_ID, "TID")[:count], "TID")

    def sensors(self) -> list[SensorSwitch]:
        """Whether each channel's gauge is on, off, or cannot be switched (``SEN``)."""
        with self.lock:
            count = self.channel_count
            return self._ask(lambda text: _sensors(text, count), "SEN")

    def set_sensor(self, channel: int, on: bool) -> None:
        """Switch the gauge on ``channel`` on or off (``SEN,a,b…``), sent once and confirmed by readback.

        Raises :class:`InstrumentError` if that gauge cannot be switched, and
        :class:`ActuationNotConfirmedError` if the readback does not show the new state.
        """
        count = self.channel_count
        if not 1 <= channel <= count:
            raise ValueError(f"{self.model} has channels 1 to {count}, not {channel}")
        params = [0] * count  # 0: no change
        params[channel - 1] = SensorSwitch.ON if on else SensorSwitch.OFF
        wanted = SensorSwitch(params[channel - 1])

        def confirmed() -> bool:
            state = _sensors(self._transact("SEN"), count)[channel - 1]
            if state is SensorSwitch.CANNOT_SWITCH:
                raise InstrumentError(f"{self.model}: the gauge on channel {channel} cannot be switched")
            return state is wanted

        self.actuate(
            lambda: self._send_once("SEN", params),
            confirmed,
            f"switching gauge {channel} {wanted.name.lower()}",
        )

    def _send_once(self, mnemonic: str, params: Sequence[int | str]) -> None:
        """An actuation's command, sent at most once: if its reply is lost, the readback decides."""
        try:
            self._transact(mnemonic, params)
        except (InstrumentTimeoutError, InstrumentDisconnectedError, ProtocolError):
            with contextlib.suppress(DriverError):
                self.resync()

    # --- continuous output --------------------------------------------------------------------------

    def continuous(
        self, interval: ComInterval = ComInterval.S_1, *, max_lines: int, max_duration_s: float
    ) -> Generator[list[PressureReading]]:
        """Read every channel in Pa from continuous output (``COM,x``): a list per line, bounded.

        Converted with the unit ``UNI`` gives as the stream starts: its lines carry none, and no
        question can be asked while it runs, so a unit changed at the panel meanwhile is not seen.

        At most ``max_lines`` lines within ``max_duration_s`` (plus the read under way, at most one
        timeout); a line overdue by a timeout raises :class:`InstrumentTimeoutError`. The instrument is
        locked until the stream ends (iterate to the end or ``close()`` it), which sends ``<ETX>``.
        """
        if max_lines < 1 or not max_duration_s > 0:
            raise ValueError("a continuous read needs max_lines ≥ 1 and max_duration_s > 0")
        return self._stream(ComInterval(interval), max_lines, max_duration_s)

    def _stream(
        self, interval: ComInterval, max_lines: int, max_duration_s: float
    ) -> Generator[list[PressureReading]]:
        with self.lock:
            count = self.channel_count
            # No question can be asked once the stream runs, and COM lines carry no unit: a unit
            # changed at the panel during a stream is not seen (the first reading after it is right).
            unit = self.unit()

            self.query(lambda: self._command(f"COM,{int(interval)}"))
            try:
                lines = 0
                now = last_line = time.monotonic()
                deadline = now + max_duration_s
                while lines < max_lines and now < deadline:
                    try:
                        line = self.transport.read_line()
                    except InstrumentTimeoutError:
                        # At 1 min intervals a line takes several reads; past one timeout late it is missing.
                        now = time.monotonic()
                        if now - last_line < _COM_INTERVAL_S[int(interval)] + self.transport.timeout_s:
                            continue
                        raise
                    raws = self._line_readings(_decode(line, "COM"), count)
                    lines += 1
                    yield [_in_pa(ch, raw, unit) for ch, raw in enumerate(raws, start=1)]
                    now = last_line = time.monotonic()
            finally:
                with contextlib.suppress(DriverError):
                    self.resync()


class Tpg26x(Tpg36x):
    """A Pfeiffer TPG 261 or 262: the same protocol without ``AYT``, and units mbar, Torr and Pa only."""

    model = "TPG26x"
    units = (TpgUnit.MBAR, TpgUnit.TORR, TpgUnit.PASCAL)

    def identity(self) -> str:
        """The program number, ``PNR`` (text, e.g. ``302-510-A``): a TPG 26x refuses ``AYT``."""
        return self.firmware()

    def _detect_channels(self) -> int:
        # The single-channel TPG 261 refuses PRX (syntax error); the TPG 262 answers it.
        try:
            self._ask(str, "PRX")
        except InstrumentError:
            return 1
        return 2
