"""Simulated Agilent (Varian) XGS-600 gauge controller: its ASCII ``#aa`` protocol over TCP.

Byte for byte as the XGS-600 manual's Appendix B (Table B-1) and the project's protocol spec
(section 1.3) give it: a command is ``#`` + the address ``aa`` (two hex digits, ``00`` on
RS-232) + a two-hex-digit command number + optional data + ``<CR>``; a ``<LF>`` anywhere is
ignored. The answer is ``>`` + data + ``<CR>``; an invalid command, invalid data or a wrong
length is answered ``?FF<CR>``. A command for another address, or bytes never ended by a
``<CR>``, get no answer at all. Bytes before the last ``#`` of a frame are line noise and are
dropped. Commands the simulator serves:

* ``#0001`` the board codes of the six slots, left to right: ``>404C4CFEFEFE`` (10 HFIG,
  3A IMG, 40 CNV, 4C analog, FE empty);
* ``#0002<sensor>`` one sensor: ``T<n>`` (the n-th convection or analog sensor from the left),
  ``I<n>`` (the n-th ion gauge) or ``U<label>`` (its user label) → ``>1.000E-02``;
* ``#0003`` setpoint states ``>00hh`` (none is configured here: ``>0000``);
* ``#0005`` software revisions, main board then each fitted board: ``>0110,0102,0102``;
* ``#000F`` every sensor in one line, in channel order: ``>7.600E+02,1.234E-03,NOCBL``;
* ``#0010`` / ``#0011`` / ``#0012`` set Torr / mbar / Pa → ``>``; ``#0013`` → ``>00|01|02``.

Choices where the manual is silent or the spec is [UNVERIFIED], made once here:

* Pressures print as ``{:.3E}``, 4 significant digits with a signed two-digit exponent
  (``1.234E-03``), the format of Table B-1 and of both published drivers.
* The non-numeric words, by backend status: sensor off (an ion gauge's emission off) ``OFF``;
  no sensor or identification error ``NOCBL`` (no cable); sensor error ``OPEN`` (an open
  filament: the one word PyExpLabSys's driver tells apart). A sensor beyond its range prints
  the range limit the bench supplies, marked ``<`` below it and ``>`` above it
  (``<1.000E-04``, ``>1.000E+03``), so that a limit is never taken for a measurement. The
  published ``agilentxgs600`` client reads such a field as "invalid or unavailable", which
  is what it is.
* Channel n of the backend is the n-th field of ``#000F``. The controller is taken to hold
  six two-sensor boards, channels 2k−1 and 2k on slot k (real HFIG and IMG boards carry one
  gauge). A slot's code follows the first connected sensor on it: a hot-cathode ion gauge
  (:data:`HOT_CATHODE_IDS`) ``10``, a cold-cathode one (:data:`COLD_CATHODE_IDS`) ``3A``, a
  Pirani or convection gauge (:data:`CONVECTION_IDS`) ``40``, anything else (capacitance
  manometers read through the analog board) ``4C``; a slot with nothing connected ``FE``.
* A channel's sensor code counts ion gauges (``I``) and the other sensors (``T``) separately
  from the left; its user label defaults to that code (the manual: the default user label is
  the sensor ID). Labels are upper-case, 1 to 5 characters.
* Factory unit Torr (``#0013`` → ``>00``); pass ``unit=`` to start otherwise.
* Lower-case command letters are invalid (the manual: all alpha characters upper case).
* The manual asks for at most 10 queries per second; the simulator does not refuse faster
  ones, it records when each command arrived (:attr:`XgsServer.arrivals_s`) so that a test can
  check that a client paces itself.
"""

from __future__ import annotations

import re
import time
from collections import deque
from typing import Any

from rig.sim.backend import GaugeBackend, GaugeStatus, ServerFaults
from rig.sim.servers.base import FramedSession, InstrumentServer, Session

__all__ = [
    "BOARD_CODES",
    "COLD_CATHODE_IDS",
    "CONVECTION_IDS",
    "HOT_CATHODE_IDS",
    "INVALID",
    "XgsServer",
    "format_pressure",
]

TERMINATOR = b"\r"
INVALID = b"?FF\r"
TORR_PA = 101325.0 / 760.0
MAX_ADDRESS = 0x20  # the manual's "max allowable: 20hex"
SLOTS = 6
SENSORS_PER_SLOT = 2

#: Board code → board, as ``#0001`` reports them.
BOARD_CODES = {"10": "HFIG", "3A": "IMG", "40": "CNV", "4C": "ANALOG", "FE": "EMPTY"}
HOT_CATHODE_IDS = frozenset({"HFIG", "HC", "BA", "IG", "UHV24", "IMG100"})
COLD_CATHODE_IDS = frozenset({"IMG", "CC", "PKR", "IKR", "IMR"})
CONVECTION_IDS = frozenset({"CNV", "PR", "TPR", "PCR", "TPR/PCR", "PIRANI", "TC"})
NOT_CONNECTED_IDS = frozenset({"NOSENSOR", "NONE", ""})

# Unit code (``#0013``) → its set command, and the size of one unit in Pa.
_UNITS = {"00": ("10", TORR_PA), "01": ("11", 100.0), "02": ("12", 1.0)}
_UNIT_NAMES = {"TORR": "00", "MBAR": "01", "PA": "02", "PASCAL": "02"}
_WORDS = {
    GaugeStatus.SENSOR_OFF: "OFF",
    GaugeStatus.NO_SENSOR: "NOCBL",
    GaugeStatus.IDENTIFICATION_ERROR: "NOCBL",
    GaugeStatus.SENSOR_ERROR: "OPEN",
}
_FRAME = re.compile(r"([0-9A-F]{2})([0-9A-F]{2})(.*)", re.DOTALL)
_LABEL = re.compile(r"[A-Z0-9]{1,5}")
SOFTWARE_REVISION = "0110"
BOARD_REVISION = "0102"
# Arrival times kept for the pacing check: enough for any test, bounded for a long simulation.
_ARRIVALS_KEPT = 1000


def format_pressure(value: float) -> str:
    """A number as the XGS-600 prints it: 4 significant digits, ``1.234E-03``, ``7.600E+02``."""
    return f"{value:.3E}"


def board_code(sensor_ids: list[str]) -> str:
    """The code of a slot holding sensors of ``sensor_ids`` (its first connected one decides)."""
    for sensor_id in sensor_ids:
        word = sensor_id.strip().upper()
        if word in NOT_CONNECTED_IDS:
            continue
        if word in HOT_CATHODE_IDS:
            return "10"
        if word in COLD_CATHODE_IDS:
            return "3A"
        return "40" if word in CONVECTION_IDS else "4C"
    return "FE"


def is_ion_gauge(sensor_id: str) -> bool:
    """Whether a sensor of ``sensor_id`` is counted as an ion gauge (``I<n>``)."""
    word = sensor_id.strip().upper()
    return word in HOT_CATHODE_IDS or word in COLD_CATHODE_IDS


class XgsServer(InstrumentServer):
    """An XGS-600 on 127.0.0.1 answering at ``address`` (0 = RS-232) for the gauges of ``gauges``.

    ``labels`` gives channels user labels other than their sensor codes.
    """

    terminator = TERMINATOR

    def driver_options(self) -> dict[str, Any]:
        """No pacing: the simulated box answers any rate (arrivals are still recorded, for tests)."""
        return {"min_interval_s": 0.0}

    def __init__(
        self,
        gauges: GaugeBackend,
        *,
        address: int = 0,
        unit: str = "TORR",
        labels: dict[int, str] | None = None,
        faults: ServerFaults | None = None,
        port: int = 0,
        max_connections: int = 8,
        max_request_bytes: int = 4096,
    ) -> None:
        super().__init__(
            port=port, faults=faults, max_connections=max_connections, max_request_bytes=max_request_bytes
        )
        if not 0 <= address <= MAX_ADDRESS:
            raise ValueError(f"XGS-600 addresses are 00 to 20 hex, not {address:#x}")
        count = gauges.channel_count
        if not 1 <= count <= SLOTS * SENSORS_PER_SLOT:
            most = SLOTS * SENSORS_PER_SLOT
            raise ValueError(f"an XGS-600 has 1 to {most} sensors, the backend has {count}")
        if unit.upper() not in _UNIT_NAMES:
            raise ValueError(f"an XGS-600 reports in Torr, mbar or Pa, not {unit!r}")
        self.gauges = gauges
        self.address = address
        self.unit_code = _UNIT_NAMES[unit.upper()]
        self.codes = self._sensor_codes()
        self.labels = {ch: self.codes[ch] for ch in range(1, count + 1)}
        for channel, label in (labels or {}).items():
            if channel not in self.labels or _LABEL.fullmatch(label) is None:
                raise ValueError(f"user label {label!r} of channel {channel}: 1 to 5 of A-Z, 0-9")
            self.labels[channel] = label
        #: When (``time.monotonic()``) each command for this address arrived, the latest last.
        self.arrivals_s: deque[float] = deque(maxlen=_ARRIVALS_KEPT)

    def _sensor_codes(self) -> dict[int, str]:
        counts = {"I": 0, "T": 0}
        codes = {}
        for channel in range(1, self.gauges.channel_count + 1):
            letter = "I" if is_ion_gauge(self.gauges.sensor_id(channel)) else "T"
            counts[letter] += 1
            codes[channel] = f"{letter}{counts[letter]}"
        return codes

    def new_session(self) -> Session:
        """Protocol state for a new connection."""
        return FramedSession(self, TERMINATOR, self.handle)

    def handle(self, frame: bytes) -> bytes | None:
        """The reply to one frame (without its ``<CR>``), or None when none is due."""
        at = frame.rfind(b"#")
        if at < 0:
            return None
        body = frame[at + 1 :].replace(b"\n", b"").decode("ascii", "replace")
        match = _FRAME.fullmatch(body)
        if body[:2] != f"{self.address:02X}":
            return None  # another controller's, or noise: the manual says no response
        self.arrivals_s.append(time.monotonic())
        if match is None:
            return INVALID
        answer = self._answer(match[2], match[3])
        return INVALID if answer is None else b">" + answer.encode("ascii") + TERMINATOR

    @property
    def unit_pa(self) -> float:
        """The size in Pa of the unit the controller reports in now."""
        return _UNITS[self.unit_code][1]

    def pressure_text(self, channel: int) -> str:
        """Channel ``channel``'s reading as the controller prints it, in the current unit."""
        reading = self.gauges.read(channel)
        status = GaugeStatus(reading.status)
        if status in _WORDS:
            return _WORDS[status]
        text = format_pressure(reading.pressure_pa / self.unit_pa)
        if status is GaugeStatus.UNDERRANGE:
            return "<" + text
        return ">" + text if status is GaugeStatus.OVERRANGE else text

    def boards(self) -> list[str]:
        """The six slots' board codes, left to right."""
        count = self.gauges.channel_count
        out = []
        for slot in range(SLOTS):
            first = slot * SENSORS_PER_SLOT + 1
            channels = [ch for ch in range(first, first + SENSORS_PER_SLOT) if ch <= count]
            out.append(board_code([self.gauges.sensor_id(ch) for ch in channels]))
        return out

    # -- commands -------------------------------------------------------------------------------

    def _answer(self, command: str, data: str) -> str | None:
        """The data of the reply to ``command`` with ``data``; None for ``?FF``."""
        if command == "02":
            channel = self._sensor(data)
            return None if channel is None else self.pressure_text(channel)
        if data:
            return None  # every other command served here takes no data: a wrong length
        if command == "01":
            return "".join(self.boards())
        if command == "03":
            return "0000"
        if command == "05":
            fitted = [code for code in self.boards() if code != "FE"]
            return ",".join([SOFTWARE_REVISION] + [BOARD_REVISION] * len(fitted))
        if command == "0F":
            return ",".join(self.pressure_text(ch) for ch in range(1, self.gauges.channel_count + 1))
        for code, (set_command, _) in _UNITS.items():
            if command == set_command:
                self.unit_code = code
                return ""
        return self.unit_code if command == "13" else None

    def _sensor(self, data: str) -> int | None:
        """The channel ``data`` names (``T1``, ``I2``, ``UGATE``), None if none does."""
        if data.startswith("U"):
            wanted, names = data[1:], self.labels
        else:
            wanted, names = data, self.codes
        return next((ch for ch, name in names.items() if name == wanted), None)
