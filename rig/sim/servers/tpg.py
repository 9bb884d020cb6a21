"""Simulated Pfeiffer TPG 361/362/366 gauge controller: the "mnemonic" protocol over TCP.

Byte for byte as in the project's protocol spec (section 1.1, table 5.1): a command is a
mnemonic with optional ``,``-separated parameters ending ``<CR>`` or ``<CR><LF>`` (spaces
ignored, any case); the controller answers ``<ACK><CR><LF>`` or ``<NAK><CR><LF>``; a bare
``<ENQ>`` then fetches the data line of the last accepted mnemonic (a fresh reading for
``PRx``), or the ERROR word after a ``<NAK>``; ``<ETX>`` clears the input buffer. The model
(TPG 361, 362 or 366) follows the backend's channel count. Like the real controller on its
Ethernet port, it serves one client at a time: a second connection is closed at once.

Choices where the spec is [UNVERIFIED], made once here:

* Factory unit ``UNI`` = 0 (mbar), as table 5.1 row 5 reads; hPa (4) prints the same
  numbers, so only the ``UNI`` reply differs. Pass ``unit=`` to start otherwise.
* Values are ``{:.4E}`` (``0,1.2345E-03``): no ``+`` on a positive mantissa, exponent signed
  with two digits. Status 0, 1 and 2 print the backend's pressure (for 1 and 2 the bench
  supplies the range limit); status 3, 4 and 6 print ``0.0000E+00``; status 5 (no sensor)
  prints the documented placeholder in canonical form, ``5,2.0000E-02``, whatever the unit.
* A mnemonic this model lacks (``PR3`` on a 362, ``PRX`` on a 361) is a syntax error like
  an unknown one: ``<NAK>``, ERROR word ``0001``. A bad parameter value is ``0010``.
* Unit 5 (Volt) prints the gauge signal with the PKR 251 characteristic
  ``p[mbar] = 10^(1.667·U - 11.33)`` for every gauge type.
* ``COM`` sends its first line at once after ``<ACK>``, then one per interval of wall time;
  the byte that stops it is then processed as input.
* ``AYT`` part numbers: TPG361 PTG28040, TPG362 PTG28290, TPG366 PTG28770 (:data:`PART_NUMBERS`).
  The model is the smallest of these with the backend's channels, as ``drivers.models``
  counts them: 3 to 5 channels are a TPG 366 with some unused.
"""

from __future__ import annotations

import enum
import math
import re
import time
from collections.abc import Callable, Container

from drivers.models import MODELS
from rig.sim.backend import GaugeBackend, GaugeReading, GaugeStatus, ServerFaults
from rig.sim.servers.base import InstrumentServer, Session

__all__ = [
    "ACK",
    "ENQ",
    "ETX",
    "NAK",
    "PART_NUMBERS",
    "TpgServer",
    "TpgUnit",
    "format_reading",
    "pressure_in_unit",
]

ACK = b"\x06\r\n"
NAK = b"\x15\r\n"
ENQ = b"\x05"
ETX = b"\x03"
CRLF = b"\r\n"

TORR_PA = 101325.0 / 760.0

# ERROR word flags, printed as four digits "ERROR NO-HWR PAR SYN" (the simulated
# controller never raises ERROR 1000 or NO-HWR 0100).
_ERR_PARAMETER = 0b0010
_ERR_SYNTAX = 0b0001

#: The models this server stands in for, with the part number each reports in ``AYT``.
PART_NUMBERS = {"TPG361": "PTG28040", "TPG362": "PTG28290", "TPG366": "PTG28770"}
FIRMWARE = "010100"
HARDWARE = "010000"
NO_SENSOR_VALUE = "2.0000E-02"
# COM intervals in seconds of wall time, by parameter.
_COM_INTERVAL_S = {0: 0.1, 1: 1.0, 2: 60.0}

_SPECIALS = re.compile(rb"([\x03\x05\r\n])")


class TpgUnit(enum.IntEnum):
    """Pressure unit of a TPG 36x (``UNI`` parameter)."""

    MBAR = 0
    TORR = 1
    PASCAL = 2
    MICRON = 3
    HPA = 4
    VOLT = 5


_PA_PER_UNIT = {
    TpgUnit.MBAR: 100.0,
    TpgUnit.TORR: TORR_PA,
    TpgUnit.PASCAL: 1.0,
    TpgUnit.MICRON: TORR_PA / 1000.0,
    TpgUnit.HPA: 100.0,
}


def pressure_in_unit(pressure_pa: float, unit: TpgUnit) -> float:
    """A pressure in Pa expressed in ``unit`` (Volt: the PKR 251 signal for that pressure)."""
    if unit is TpgUnit.VOLT:
        pressure_mbar = pressure_pa / 100.0
        return (math.log10(pressure_mbar) + 11.33) / 1.667 if pressure_mbar > 0 else 0.0
    return pressure_pa / _PA_PER_UNIT[unit]


def format_reading(reading: GaugeReading, unit: TpgUnit) -> str:
    """``status,value`` as the controller prints it, e.g. ``0,1.2345E-03``."""
    status = GaugeStatus(reading.status)
    if status is GaugeStatus.NO_SENSOR:
        return f"{int(status)},{NO_SENSOR_VALUE}"
    if status in (GaugeStatus.OK, GaugeStatus.UNDERRANGE, GaugeStatus.OVERRANGE):
        return f"{int(status)},{pressure_in_unit(reading.pressure_pa, unit):.4E}"
    return f"{int(status)},{0.0:.4E}"


class TpgServer(InstrumentServer):
    """A TPG 36x on 127.0.0.1 answering for the gauges of ``gauges`` (one client at a time)."""

    terminator = CRLF
    #: The models this server stands in for, with the part number each reports in ``AYT``.
    part_numbers: dict[str, str] = PART_NUMBERS
    #: The firmware (``PNR``, ``AYT``) and hardware (``AYT``) versions it reports.
    firmware = FIRMWARE
    hardware = HARDWARE

    def __init__(
        self,
        gauges: GaugeBackend,
        *,
        faults: ServerFaults | None = None,
        port: int = 0,
        unit: TpgUnit = TpgUnit.MBAR,
        serial_number: str = "44990000",
        max_request_bytes: int = 4096,
    ) -> None:
        super().__init__(port=port, faults=faults, max_connections=1, max_request_bytes=max_request_bytes)
        channels = gauges.channel_count
        most = max(MODELS[name].gauge_channels for name in self.part_numbers)
        if not 1 <= channels <= most:
            raise ValueError(
                f"a {'/'.join(self.part_numbers)} has 1 to {most} channels, the backend has {channels}"
            )
        self.gauges = gauges
        self.channels = channels
        self.model = min(
            (name for name in self.part_numbers if MODELS[name].gauge_channels >= channels),
            key=lambda name: MODELS[name].gauge_channels,
        )
        self.part_number = self.part_numbers[self.model]
        self.serial_number = serial_number
        self.unit = unit
        self.filters = [1] * channels
        self._error_flags = 0
        # Per mnemonic: (check the parameters and apply a set, returning error flags; data line).
        self._mnemonics: dict[str, tuple[Callable[[list[str]], int], Callable[[], str]]] = {
            "UNI": (self._set_unit, lambda: str(int(self.unit))),
            "TID": (_no_parameters, self.gauge_ids),
            "SEN": (self._set_sensors, self._sensor_states),
            "ERR": (_no_parameters, self.take_error_word),
            "PNR": (_no_parameters, lambda: self.firmware),
            "AYT": (_no_parameters, self.identity),
            "COM": (self._check_com, self.all_readings),
            "FIL": (self._set_filters, lambda: ",".join(map(str, self.filters))),
        }
        for ch in self._all():
            self._mnemonics[f"PR{ch}"] = (_no_parameters, self._reader(ch))
        if channels > 1:
            self._mnemonics["PRX"] = (_no_parameters, self.all_readings)

    def new_session(self) -> Session:
        """Protocol state for a new connection."""
        return _TpgSession(self)

    def identity(self) -> str:
        """The ``AYT`` line: model, part number, serial number, firmware, hardware."""
        return f"{self.model},{self.part_number},{self.serial_number},{self.firmware},{self.hardware}"

    def gauge_ids(self) -> str:
        """Every channel's gauge identification, comma-separated (``TID``)."""
        return ",".join(self.gauges.sensor_id(ch) for ch in self._all())

    def reading(self, channel: int) -> str:
        """``status,value`` of one channel now, in the current unit."""
        return format_reading(self.gauges.read(channel), self.unit)

    def all_readings(self) -> str:
        """Every channel's ``status,value``, comma-separated (``PRX`` and ``COM`` lines)."""
        return ",".join(self.reading(ch) for ch in self._all())

    def take_error_word(self) -> str:
        """The ERROR word (``0000`` when clear); reading it clears it."""
        word = f"{self._error_flags:04b}"
        self._error_flags = 0
        return word

    def accept(self, mnemonic: str, params: list[str]) -> int:
        """Check (and apply) a command: 0 when accepted, else the error flags it raised."""
        entry = self._mnemonics.get(mnemonic)
        flags = _ERR_SYNTAX if entry is None else entry[0](params)
        self._error_flags |= flags
        return flags

    def data(self, mnemonic: str) -> str:
        """The data line (without ``<CR><LF>``) of an accepted mnemonic, computed now."""
        return self._mnemonics[mnemonic][1]()

    # -- mnemonics ------------------------------------------------------------------------------

    def _all(self) -> range:
        return range(1, self.channels + 1)

    def _reader(self, channel: int) -> Callable[[], str]:
        return lambda: self.reading(channel)

    def _set_unit(self, params: list[str]) -> int:
        if not params:
            return 0
        values = _digits(params, 1, range(len(TpgUnit)))
        if values is None:
            return _ERR_PARAMETER
        self.unit = TpgUnit(values[0])
        return 0

    def _sensor_states(self) -> str:
        g = self.gauges
        return ",".join(("2" if g.sensor_on(ch) else "1") if g.switchable(ch) else "0" for ch in self._all())

    def _set_sensors(self, params: list[str]) -> int:
        if not params:
            return 0
        values = _digits(params, self.channels, range(3))
        if values is None:
            return _ERR_PARAMETER
        for channel, value in enumerate(values, start=1):
            if value:  # 0 = no change, 1 = off, 2 = on
                self.gauges.set_sensor_on(channel, value == 2)
        return 0

    def _check_com(self, params: list[str]) -> int:
        return 0 if not params or _digits(params, 1, _COM_INTERVAL_S.keys()) is not None else _ERR_PARAMETER

    def _set_filters(self, params: list[str]) -> int:
        if not params:
            return 0
        values = _digits(params, self.channels, range(3))
        if values is None:
            return _ERR_PARAMETER
        self.filters[: len(values)] = values
        return 0


def _no_parameters(params: list[str]) -> int:
    return _ERR_PARAMETER if params else 0


def _digits(params: list[str], most: int, allowed: Container[int]) -> list[int] | None:
    """Parameters as integers when there are 1 to ``most`` of them, each in ``allowed``."""
    if not 1 <= len(params) <= most or not all(p.isdigit() and len(p) <= 3 for p in params):
        return None
    values = [int(p) for p in params]
    return values if all(v in allowed for v in values) else None


class _TpgSession(Session):
    """One connection: the input buffer, the last accepted mnemonic, continuous output."""

    def __init__(self, server: TpgServer) -> None:
        self._server = server
        self._buffer = server.frame_buffer()
        self._last: str | None = None
        self._stream_interval_s: float | None = None
        self._next_line_s = 0.0

    def feed(self, data: bytes) -> list[bytes]:
        """Handle received bytes: commands, bare ENQ and ETX."""
        self._stream_interval_s = None  # any received character ends continuous output
        replies: list[bytes] = []
        for i, part in enumerate(_SPECIALS.split(data)):
            if i % 2 == 0:
                if part:
                    self._buffer.add(part)
            elif part == ETX:
                self._buffer.clear()
            elif part == ENQ:
                replies.append(self._enquiry())
            else:  # <CR> ends a command; the <LF> of <CR><LF> then finds an empty buffer
                line = self._buffer.take().replace(b" ", b"")
                if line:
                    replies.append(self._command(line))
        return replies

    def next_tick_s(self) -> float | None:
        """When the next continuous-output line is due."""
        return None if self._stream_interval_s is None else self._next_line_s

    def tick(self, now_s: float) -> list[bytes]:
        """One continuous-output line."""
        interval_s = self._stream_interval_s
        if interval_s is None:
            return []
        # Keep the cadence, but never send a burst to catch up after a stall.
        self._next_line_s = max(self._next_line_s + interval_s, now_s)
        return [self._server.all_readings().encode("ascii") + CRLF]

    def _command(self, line: bytes) -> bytes:
        mnemonic, *params = line.decode("ascii", "replace").upper().split(",")
        if self._server.accept(mnemonic, params):
            self._last = None
            return NAK
        self._last = mnemonic
        if mnemonic == "COM":
            self._stream_interval_s = _COM_INTERVAL_S[int(params[0]) if params else 1]
            self._next_line_s = time.monotonic()
        return ACK

    def _enquiry(self) -> bytes:
        server = self._server
        text = server.take_error_word() if self._last is None else server.data(self._last)
        return text.encode("ascii") + CRLF
