"""Simulated Edwards TIC (Turbo Instrument Controller, 3 gauge inputs): its serial object protocol over TCP.

As the project's protocol spec (section 1.4) and Edwards D397-30-880 "TIC Serial Communications"
describe it: master/slave, every message ends ``<CR>``. A query is ``?V<obj>`` (a value) or
``?S<obj>[ <config>]`` (a setup); a command is ``!C<obj> <data>`` or ``!S<obj> <data>``. The TIC
answers ``=V<obj> <data>`` / ``=S<obj> <data>`` with data, ``*C<obj> <code>`` / ``*S<obj> <code>``
with a command's status (``0``: accepted), and a refused query as ``*V<obj> <code>`` /
``*S<obj> <code>``. Codes: 1 invalid command for the object, 2 invalid query/command, 3 missing
parameter, 4 parameter out of range, 5 invalid in the current state, 6 checksum, 7 EEPROM, 8 took
too long, 9 invalid config ID. Bytes before the last start character (``?`` or ``!``) of a message
are ignored, as the manual says of characters outside a message and of an incomplete one followed
by a new start. Each connection is served on its own; they share one instrument (the published
client ``edwardsserial`` opens a connection per message).

Objects served: 902 (identity and status), 913/914/915 (gauges 1-3), 929 (display units),
933 (system state), 940 (all gauges). Choices where the spec and the manual excerpts at hand are
silent, made once here:

* A gauge reads ``=V913 <value>;<units>;<state>;<alert>;<priority>``, the value ``{:.4e}`` as a
  published capture shows (``=V913 5.0691e+01;59;11;0;0``): 5 significant digits, lower-case
  ``e``. Pressures always come in Pa (units type 59): 929 sets the front panel's unit only.
  A gauge that is not measuring prints ``9.9000e+09``, the placeholder published clients test for.
* The backend's status becomes a gauge state (0 not connected, 2 new gauge ID, 4 in alert,
  5 off, 11 on), an alert ID and a priority (0 OK, 1 warning, 2 alarm): OK 11;0;0; under range
  11;11;1 and over range 11;10;1 with the range limit as the value; sensor error 4;1;2 (ADC
  fault); sensor off 5;0;0; no sensor 0;6;1 (no gauge), as is a gauge input the backend lacks;
  identification error 2;9;1 (new ID).
* ``?V940`` lists the connected gauges as ``<gauge number>;<value>`` pairs (``1;1.0132e+05;2;...``),
  the layout both published clients parse; an input with no gauge is left out.
* ``?S902`` answers ``TIC;<software>;<serial>;<PIC software>`` (a TIC200 answers ``TIC200;
  D39700640S;150326362;5.0``); ``?V902`` the status ``turbo;backing;gauge 1-3;relay 1-3;alert;
  priority``, the pumps stopped (0) and the relays off (0), as on an instrument controller.
* ``?V933`` answers ``<state>;<alert>;<priority>`` with state 4 (on).
* Gauge setups (``?S913 <config>``): 5 the gauge type (``5;25``), 7 gas type and filter
  (``7;0;0``), 68 the gauge's name (``68;G1``); another config ID is error 9, none error 3.
  ``!S913 7;<gas 0-5>;<filter 0|1>`` and ``!S913 68;<up to 4 of A-Z 0-9>`` set them (gas 6,
  voltage, is refused with 4: the simulated heads are pressure gauges only).
* Gauge types from the backend's sensor id (:data:`GAUGE_TYPES`): a capacitance gauge (CMR, CM)
  is an external capacitance manometer (2, EXP_CM), a Pirani/cold-cathode combination (PKR) a
  WRG (15), a Pirani (TPR, PCR) an APGX-H (10), an ion gauge (IKR, HC, CC) an AIM-S (18); a TIC
  name (ASG, WRG, APGX, AIM) is kept; no sensor is 1, anything else 0 (unknown device).
* ``!C913 1`` / ``!C913 0`` switch the gauge on and off; one that cannot be switched answers 5.
  ``!C913 2`` (accept a new gauge ID) is accepted and changes nothing; 3, 4 and 5 (zero,
  calibrate, degas) answer 1: the simulated heads do none of them.
* ``?S929`` / ``!S929 <1-3>``: 1 kPa, 2 mbar (the default), 3 Torr.
* A query or command the served objects lack answers 1 when the object is served, 2 when it is
  not (the turbo, backing pump and relay objects are not simulated). A message that is not
  ``?V``/``?S``/``!C``/``!S``, a number and optional data answers 2 with the letter and number
  it had (``*C0 2`` when it had none).
* Multi-drop addressing (``#<dest>:<src>`` before the start character) is not implemented: the
  prefix is ignored like any byte before a start character, and the reply carries none.
"""

from __future__ import annotations

import re

from rig.sim.backend import GaugeBackend, GaugeStatus, ServerFaults
from rig.sim.servers.base import FramedSession, InstrumentServer, Session

__all__ = ["GAUGE_OBJECTS", "GAUGE_TYPES", "NOT_MEASURING_VALUE", "TicServer", "format_value"]

TERMINATOR = b"\r"
#: Gauge 1, 2 and 3 of a 3-gauge TIC.
GAUGE_OBJECTS = (913, 914, 915)
STATUS_OBJECT = 902
UNITS_OBJECT = 929
SYSTEM_OBJECT = 933
ALL_GAUGES_OBJECT = 940
UNITS_TYPE_PA = 59
NOT_MEASURING_VALUE = 9.9e9
PRODUCT = "TIC"
SOFTWARE = "D39700640S"
PIC_SOFTWARE = "5.0"

# Error codes (D397-30-880).
ERR_INVALID_FOR_OBJECT = 1
ERR_INVALID = 2
ERR_MISSING_PARAMETER = 3
ERR_OUT_OF_RANGE = 4
ERR_STATE = 5
ERR_CONFIG_ID = 9

# Gauge states, alert IDs and priorities (state, alert, priority) by the backend's status.
_STATE_NOT_CONNECTED = 0
_STATE_OFF = 5
_STATE_ON = 11
_BY_STATUS = {
    GaugeStatus.OK: (_STATE_ON, 0, 0),
    GaugeStatus.UNDERRANGE: (_STATE_ON, 11, 1),
    GaugeStatus.OVERRANGE: (_STATE_ON, 10, 1),
    GaugeStatus.SENSOR_ERROR: (4, 1, 2),
    GaugeStatus.SENSOR_OFF: (_STATE_OFF, 0, 0),
    GaugeStatus.NO_SENSOR: (_STATE_NOT_CONNECTED, 6, 1),
    GaugeStatus.IDENTIFICATION_ERROR: (2, 9, 1),
}
_WITH_VALUE = frozenset({GaugeStatus.OK, GaugeStatus.UNDERRANGE, GaugeStatus.OVERRANGE})

#: TIC gauge type codes (``?S913 5``) by the sensor id a backend reports.
GAUGE_TYPES = {
    "CMR": 2,
    "CM": 2,
    "ASG": 25,
    "PKR": 15,
    "WRG": 15,
    "TPR": 10,
    "PCR": 10,
    "APGX": 10,
    "IKR": 18,
    "HC": 18,
    "CC": 18,
    "AIM": 18,
    "NOSENSOR": 1,
}
_UNKNOWN_DEVICE = 0
# Setup config IDs of a gauge object.
_CONFIG_TYPE = 5
_CONFIG_GAS = 7
_CONFIG_NAME = 68
_GAS_TYPES = range(6)  # nitrogen, helium, argon, carbon dioxide, neon, krypton (6, voltage, refused)
_DISPLAY_UNITS = range(1, 4)  # kPa, mbar, Torr
_NAME = re.compile(r"[A-Z0-9]{0,4}")
_MESSAGE = re.compile(r"([?!])([A-Z])(\d{1,5})(?: (.*))?", re.DOTALL)


class _RefusedError(Exception):
    """A message the TIC answers with an error code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def format_value(value: float) -> str:
    """A value as the TIC prints it: ``5.0691e+01``, ``9.9000e+09``."""
    return f"{value:.4e}"


class TicServer(InstrumentServer):
    """An Edwards TIC on 127.0.0.1 whose gauge inputs 1-3 are the channels of ``gauges``."""

    terminator = TERMINATOR

    def __init__(
        self,
        gauges: GaugeBackend,
        *,
        faults: ServerFaults | None = None,
        port: int = 0,
        max_connections: int = 8,
        max_request_bytes: int = 4096,
        serial_number: str = "000000001",
    ) -> None:
        super().__init__(
            port=port, faults=faults, max_connections=max_connections, max_request_bytes=max_request_bytes
        )
        if not 1 <= gauges.channel_count <= len(GAUGE_OBJECTS):
            raise ValueError(f"a TIC has 1 to 3 gauge inputs, the backend has {gauges.channel_count}")
        self.gauges = gauges
        self.serial_number = serial_number
        self.display_unit = 2
        self.names = {n: f"G{n}" for n in range(1, len(GAUGE_OBJECTS) + 1)}
        self.gas = dict.fromkeys(self.names, (0, 0))

    def new_session(self) -> Session:
        """Protocol state for a new connection."""
        return FramedSession(self, TERMINATOR, self.handle)

    def handle(self, frame: bytes) -> bytes | None:
        """The reply to one message (without its ``<CR>``); None when it holds no start character."""
        text = frame.decode("ascii", "replace")
        start = max(text.rfind("?"), text.rfind("!"))
        if start < 0:
            return None
        message = text[start:]
        match = _MESSAGE.fullmatch(message)
        if match is None:
            letter = message[1:2] if message[1:2].isalpha() else "C"
            number = re.match(r"\d{1,5}", message[2:])
            return _reply(f"*{letter}{number[0] if number else 0} {ERR_INVALID}")
        start_char, kind, digits, data = match.groups()
        obj = int(digits)
        try:
            if start_char == "?" and kind in "VS":
                answer = self._query(kind, obj, data)
                return _reply(f"={kind}{digits} {answer}")
            if start_char == "!" and kind in "CS":
                self._command(kind, obj, data)
                return _reply(f"*{kind}{digits} 0")
            raise _RefusedError(ERR_INVALID)
        except _RefusedError as refused:
            return _reply(f"*{kind}{digits} {refused.code}")

    # -- gauges -------------------------------------------------------------------------------------

    def gauge_fields(self, number: int) -> tuple[float, int, int, int]:
        """Gauge ``number``'s (value in Pa, state, alert ID, priority) now."""
        if number > self.gauges.channel_count:
            return NOT_MEASURING_VALUE, *_BY_STATUS[GaugeStatus.NO_SENSOR]
        reading = self.gauges.read(number)
        status = GaugeStatus(reading.status)
        value = reading.pressure_pa if status in _WITH_VALUE else NOT_MEASURING_VALUE
        return value, *_BY_STATUS[status]

    def gauge_reply(self, number: int) -> str:
        """The data of ``?V913`` for gauge ``number``: ``value;units;state;alert;priority``."""
        value, state, alert, priority = self.gauge_fields(number)
        return f"{format_value(value)};{UNITS_TYPE_PA};{state};{alert};{priority}"

    def gauge_type(self, number: int) -> int:
        """Gauge ``number``'s TIC type code (``?S913 5``)."""
        if number > self.gauges.channel_count:
            return GAUGE_TYPES["NOSENSOR"]
        # A Pfeiffer-style id may name two heads ("TPR/PCR"): the first one known decides.
        for sensor in self.gauges.sensor_id(number).upper().replace("-", "").split("/"):
            if sensor.strip() in GAUGE_TYPES:
                return GAUGE_TYPES[sensor.strip()]
        return _UNKNOWN_DEVICE

    def _all_gauges(self) -> str:
        pairs = []
        for number in range(1, len(GAUGE_OBJECTS) + 1):
            value, state, _, _ = self.gauge_fields(number)
            if state != _STATE_NOT_CONNECTED:
                pairs.append(f"{number};{format_value(value)}")
        return ";".join(pairs)

    def _gauge_setup(self, number: int, data: str | None) -> str:
        if data is None or not data.strip():
            raise _RefusedError(ERR_MISSING_PARAMETER)
        config = _integer(data)
        if config == _CONFIG_TYPE:
            return f"{config};{self.gauge_type(number)}"
        if config == _CONFIG_GAS:
            gas, gas_filter = self.gas[number]
            return f"{config};{gas};{gas_filter}"
        if config == _CONFIG_NAME:
            return f"{config};{self.names[number]}"
        raise _RefusedError(ERR_CONFIG_ID)

    def _set_gauge_setup(self, number: int, data: str) -> None:
        fields = data.split(";")
        config = _integer(fields[0])
        if config == _CONFIG_GAS:
            if len(fields) != 3:
                raise _RefusedError(ERR_MISSING_PARAMETER)
            gas, gas_filter = _integer(fields[1]), _integer(fields[2])
            if gas not in _GAS_TYPES or gas_filter not in (0, 1):
                raise _RefusedError(ERR_OUT_OF_RANGE)
            self.gas[number] = (gas, gas_filter)
        elif config == _CONFIG_NAME:
            if len(fields) != 2:
                raise _RefusedError(ERR_MISSING_PARAMETER)
            if _NAME.fullmatch(fields[1]) is None:
                raise _RefusedError(ERR_OUT_OF_RANGE)
            self.names[number] = fields[1]
        else:
            raise _RefusedError(ERR_CONFIG_ID)

    def _gauge_command(self, number: int, data: str) -> None:
        command = _integer(data)
        if command in (0, 1):
            if number > self.gauges.channel_count or not self.gauges.switchable(number):
                raise _RefusedError(ERR_STATE)
            self.gauges.set_sensor_on(number, command == 1)
        elif command in (3, 4, 5):
            raise _RefusedError(ERR_INVALID_FOR_OBJECT)
        elif command != 2:
            raise _RefusedError(ERR_OUT_OF_RANGE)

    # -- dispatch -----------------------------------------------------------------------------------

    def _query(self, kind: str, obj: int, data: str | None) -> str:
        if obj in GAUGE_OBJECTS:
            number = GAUGE_OBJECTS.index(obj) + 1
            if kind == "S":
                return self._gauge_setup(number, data)
            _no_data(data)
            return self.gauge_reply(number)
        if obj not in (STATUS_OBJECT, UNITS_OBJECT, SYSTEM_OBJECT, ALL_GAUGES_OBJECT):
            raise _RefusedError(ERR_INVALID)
        _no_data(data)
        if (kind, obj) == ("S", STATUS_OBJECT):
            return f"{PRODUCT};{SOFTWARE};{self.serial_number};{PIC_SOFTWARE}"
        if (kind, obj) == ("V", STATUS_OBJECT):
            states = [str(self.gauge_fields(n)[1]) for n in range(1, len(GAUGE_OBJECTS) + 1)]
            return ";".join(["0", "0", *states, "0", "0", "0", "0", "0"])
        if (kind, obj) == ("S", UNITS_OBJECT):
            return str(self.display_unit)
        if (kind, obj) == ("V", SYSTEM_OBJECT):
            return "4;0;0"
        if (kind, obj) == ("V", ALL_GAUGES_OBJECT):
            return self._all_gauges()
        raise _RefusedError(ERR_INVALID_FOR_OBJECT)

    def _command(self, kind: str, obj: int, data: str | None) -> None:
        known = obj in GAUGE_OBJECTS or obj in (STATUS_OBJECT, UNITS_OBJECT, SYSTEM_OBJECT, ALL_GAUGES_OBJECT)
        if not known:
            raise _RefusedError(ERR_INVALID)
        if data is None or not data.strip():
            raise _RefusedError(ERR_MISSING_PARAMETER)
        if obj in GAUGE_OBJECTS:
            number = GAUGE_OBJECTS.index(obj) + 1
            if kind == "C":
                self._gauge_command(number, data)
            else:
                self._set_gauge_setup(number, data)
            return
        if (kind, obj) != ("S", UNITS_OBJECT):
            raise _RefusedError(ERR_INVALID_FOR_OBJECT)
        unit = _integer(data)
        if unit not in _DISPLAY_UNITS:
            raise _RefusedError(ERR_OUT_OF_RANGE)
        self.display_unit = unit


def _reply(text: str) -> bytes:
    return text.encode("ascii") + TERMINATOR


def _no_data(data: str | None) -> None:
    # A value query or a single-setup object takes no data: "?V913 5" is not understood.
    if data is not None:
        raise _RefusedError(ERR_INVALID)


def _integer(text: str) -> int:
    word = text.strip()
    if not word.isascii() or not word.isdigit():
        raise _RefusedError(ERR_OUT_OF_RANGE)
    return int(word)
