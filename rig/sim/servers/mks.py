"""Simulated MKS 937B gauge controller: the ``@aaa…;FF`` protocol over TCP.

Byte for byte as in the project's protocol spec (section 1.2, table 5.3): a query is
``@<aaa><cmd>?;FF``, a set ``@<aaa><cmd>!<param>;FF``; the answer is ``@<aaa>ACK<resp>;FF``
or ``@<aaa>NAK<code>;FF``. ``;FF`` is three ASCII characters and there is no CR or LF
anywhere. A frame for another address gets no reply at all; bytes before the last ``@`` of
a frame are line noise and are dropped. Several clients may talk to it at once (as through
a terminal server); they share one instrument.

Choices where the spec is [UNVERIFIED], made once here:

* ``PRZ?`` separates the channels with one space: ``@253ACK1.10E-9 7.60E+2 …;FF``.
* Pressures have 3 significant digits and an unpadded signed exponent (``7.60E+2``).
  Non-numeric readings, by Pfeiffer status of the backend: underrange ``LO<E-11``,
  overrange ``ATM``, sensor error ``PROT_OFF``, sensor off ``OFF``, no sensor and
  identification error ``MISCONN``.
* Ion gauge channels are those whose sensor id is one of :data:`ION_GAUGE_IDS`; ``T<n>?``
  on another channel is ``NAK152``. Status letters: G good (also underrange), O off,
  P protect (overrange), H filament fault (sensor error), N no gauge.
* NAK codes: 160 unknown command, 169 invalid argument (also a channel the unit lacks and
  ``CP<n>!`` on a gauge that cannot be switched), 172 value out of range, 175 ``?``/``!``
  missing or not allowed for that command.
* Two setpoint relays per channel: relay n watches channel (n+1)//2, by default at
  2.00E+0 Torr, hysteresis 2.20E+0 Torr, direction ABOVE, ``EN`` ENABLE. ``SS<n>?`` is SET
  when an enabled relay's channel reads beyond its setpoint (hysteresis is not modelled).
* The broadcast address 254 is not implemented: only the configured address answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Container
from dataclasses import dataclass

from rig.sim.backend import GaugeBackend, GaugeStatus, ServerFaults
from rig.sim.servers.base import FramedSession, InstrumentServer, Session

__all__ = ["ION_GAUGE_IDS", "MksServer", "format_pressure"]

TERMINATOR = b";FF"
TORR_PA = 101325.0 / 760.0
ION_GAUGE_IDS = frozenset({"CC", "HC", "IG", "BA", "IKR", "PKR", "IMR"})

# Reply spelling of each unit (set commands accept any case) and its size in Pa.
_UNITS = {"TORR": ("TORR", TORR_PA), "MBAR": ("mBAR", 100.0), "PASCAL": ("PASCAL", 1.0)}
_UNITS["MICRON"] = ("MICRON", TORR_PA / 1000.0)

_NON_NUMERIC = {
    GaugeStatus.UNDERRANGE: "LO<E-11",
    GaugeStatus.OVERRANGE: "ATM",
    GaugeStatus.SENSOR_ERROR: "PROT_OFF",
    GaugeStatus.SENSOR_OFF: "OFF",
    GaugeStatus.NO_SENSOR: "MISCONN",
    GaugeStatus.IDENTIFICATION_ERROR: "MISCONN",
}
_ION_STATUS = {
    GaugeStatus.OK: "G",
    GaugeStatus.UNDERRANGE: "G",
    GaugeStatus.OVERRANGE: "P",
    GaugeStatus.SENSOR_ERROR: "H",
    GaugeStatus.SENSOR_OFF: "O",
    GaugeStatus.NO_SENSOR: "N",
    GaugeStatus.IDENTIFICATION_ERROR: "N",
}

NAK_NOT_ION_GAUGE = 152
NAK_UNKNOWN = 160
NAK_INVALID_ARGUMENT = 169
NAK_OUT_OF_RANGE = 172
NAK_QUERY_CHARACTER = 175

_MESSAGE = re.compile(r"([A-Z]+?)(\d*)([?!])(.*)", re.DOTALL)
_PER_CHANNEL = frozenset({"PR", "CP", "T"})
_PER_RELAY = frozenset({"SP", "SH", "SD", "SS", "EN"})
_QUERY_ONLY = frozenset({"PR", "PRZ", "T", "SS", "SN"})


class _NakError(Exception):
    """A request the controller refuses with ``NAK<code>``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def format_pressure(value: float) -> str:
    """A number as the 937B prints it: 3 significant digits, ``1.10E-9``, ``7.60E+2``."""
    mantissa, exponent = f"{value:.2E}".split("E")
    return f"{mantissa}E{int(exponent):+d}"


@dataclass
class _Relay:
    channel: int
    setpoint_pa: float = 2.0 * TORR_PA
    hysteresis_pa: float = 2.2 * TORR_PA
    direction: str = "ABOVE"
    enable: str = "ENABLE"


class MksServer(InstrumentServer):
    """An MKS 937B on 127.0.0.1 answering at ``address`` for the gauges of ``gauges``."""

    terminator = TERMINATOR

    def __init__(
        self,
        gauges: GaugeBackend,
        *,
        address: int = 253,
        faults: ServerFaults | None = None,
        port: int = 0,
        max_connections: int = 8,
        max_request_bytes: int = 4096,
        serial_number: str = "0000000",
    ) -> None:
        super().__init__(
            port=port, faults=faults, max_connections=max_connections, max_request_bytes=max_request_bytes
        )
        if not 1 <= address <= 254:
            raise ValueError(f"MKS addresses are 001 to 254, not {address}")
        if not 1 <= gauges.channel_count <= 6:
            raise ValueError(f"a 937B has 1 to 6 channels, the backend has {gauges.channel_count}")
        self.gauges = gauges
        self.address = address
        self.serial_number = serial_number
        self.unit = "TORR"
        self.relays = [_Relay(channel=(n + 1) // 2) for n in range(1, 2 * gauges.channel_count + 1)]

    def new_session(self) -> Session:
        """Protocol state for a new connection."""
        return FramedSession(self, TERMINATOR, self.handle)

    def handle(self, frame: bytes) -> bytes | None:
        """The reply to one frame (without its ``;FF``), or None when none is due."""
        at = frame.rfind(b"@")
        body = frame[at + 1 :].decode("ascii", "replace") if at >= 0 else ""
        address = body[:3]
        if not (len(address) == 3 and address.isdigit() and int(address) == self.address):
            return None
        prefix = f"@{self.address:03d}"
        try:
            reply = f"{prefix}ACK{self._answer(body[3:])}"
        except _NakError as nak:
            reply = f"{prefix}NAK{nak.code}"
        return reply.encode("ascii") + TERMINATOR

    def pressure_text(self, channel: int) -> str:
        """Channel ``channel``'s pressure in the current unit, or its non-numeric state."""
        reading = self.gauges.read(channel)
        status = GaugeStatus(reading.status)
        if status is not GaugeStatus.OK:
            return _NON_NUMERIC[status]
        return format_pressure(reading.pressure_pa / _UNITS[self.unit][1])

    # -- commands -------------------------------------------------------------------------------

    def _answer(self, message: str) -> str:
        match = _MESSAGE.fullmatch(message.upper())
        if match is None:
            raise _NakError(NAK_UNKNOWN if ("?" in message or "!" in message) else NAK_QUERY_CHARACTER)
        name, digits, kind = match.group(1), match.group(2), match.group(3)
        arg = message[match.start(4) :]  # original case: "mBAR"
        if name in _PER_CHANNEL or name in _PER_RELAY:
            if not digits:
                raise _NakError(NAK_UNKNOWN)
            count = self.gauges.channel_count if name in _PER_CHANNEL else len(self.relays)
            if not 1 <= int(digits) <= count:
                raise _NakError(NAK_INVALID_ARGUMENT)
        elif digits or name not in ("PRZ", "U", "SN"):
            raise _NakError(NAK_UNKNOWN)
        if kind == "!" and name in _QUERY_ONLY:
            raise _NakError(NAK_QUERY_CHARACTER)
        if kind == "?" and arg:
            raise _NakError(NAK_INVALID_ARGUMENT)
        setting = arg if kind == "!" else None
        if name in _PER_RELAY:
            return self._relay(name, self.relays[int(digits) - 1], setting)
        n = int(digits) if digits else 0
        if name == "PR":
            return self.pressure_text(n)
        if name == "PRZ":
            return " ".join(self.pressure_text(ch) for ch in range(1, self.gauges.channel_count + 1))
        if name == "SN":
            return self.serial_number
        if name == "U":
            if setting is not None:
                self.unit = _choice(setting, _UNITS)
            return _UNITS[self.unit][0]
        if name == "CP":
            return self._power(n, setting)
        return self._ion_gauge_status(n)

    def _power(self, channel: int, setting: str | None) -> str:
        if setting is not None:
            on = _choice(setting, ("ON", "OFF")) == "ON"
            if not self.gauges.switchable(channel):
                raise _NakError(NAK_INVALID_ARGUMENT)
            self.gauges.set_sensor_on(channel, on)
        return "ON" if self.gauges.sensor_on(channel) else "OFF"

    def _ion_gauge_status(self, channel: int) -> str:
        if self.gauges.sensor_id(channel).upper() not in ION_GAUGE_IDS:
            raise _NakError(NAK_NOT_ION_GAUGE)
        return _ION_STATUS[GaugeStatus(self.gauges.read(channel).status)]

    def _relay(self, name: str, relay: _Relay, setting: str | None) -> str:
        scale_pa = _UNITS[self.unit][1]
        if name in ("SP", "SH"):
            if setting is not None:
                value_pa = _number(setting) * scale_pa
                if name == "SP":
                    relay.setpoint_pa = value_pa
                else:
                    relay.hysteresis_pa = value_pa
            return format_pressure((relay.setpoint_pa if name == "SP" else relay.hysteresis_pa) / scale_pa)
        if name == "SD":
            if setting is not None:
                relay.direction = _choice(setting, ("ABOVE", "BELOW"))
            return relay.direction
        if name == "EN":
            if setting is not None:
                relay.enable = _choice(setting, ("ENABLE", "SET", "CLEAR"))
            return relay.enable
        return "SET" if self._relay_set(relay) else "CLEAR"

    def _relay_set(self, relay: _Relay) -> bool:
        if relay.enable != "ENABLE":
            return relay.enable == "SET"
        reading = self.gauges.read(relay.channel)
        if GaugeStatus(reading.status) is not GaugeStatus.OK:
            return False
        if relay.direction == "ABOVE":
            return reading.pressure_pa > relay.setpoint_pa
        return reading.pressure_pa < relay.setpoint_pa


def _choice(setting: str, allowed: Container[str]) -> str:
    """``setting`` upper-cased when it is one of ``allowed``."""
    word = setting.strip().upper()
    if word not in allowed:
        raise _NakError(NAK_INVALID_ARGUMENT)
    return word


def _number(setting: str) -> float:
    try:
        value = float(setting)
    except ValueError:
        raise _NakError(NAK_INVALID_ARGUMENT) from None
    if not math.isfinite(value) or value <= 0.0:
        raise _NakError(NAK_OUT_OF_RANGE)
    return value
