"""Simulated INFICON VGC 501/502/503 gauge controller: the mnemonic protocol's VGC dialect over TCP.

The VGC 50x speaks the TPG 36x's mnemonic protocol (framing, ``<ACK>``/``<NAK>``/``<ENQ>``,
``<ETX>``, the ERROR word, ``{:.4E}`` values), so :class:`VgcServer` is a
:class:`~rig.sim.servers.tpg.TpgServer` that differs where the VGC does. The model (VGC 501,
502 or 503) follows the backend's channel count, 1 to 3.

From the operating manual (tina96e1-b, 2016-12, §5), quoted pages:

* p. 66: 8 data bits, no parity, 1 stop bit; ``<ETX>`` resets the interface; the host waits
  for ``<ACK><CR><LF>`` or ``<NAK><CR><LF>`` after every string.
* p. 72: ``ERR`` → ``aaaa`` (1000 ERROR, 0100 NO HWR, 0010 PAR, 0001 SYN), cleared when read;
  ``PRn`` (n = 1, 2, 3) → ``a,sx.xxxxEsxx`` with status 0 okay, 1 underrange, 2 overrange,
  3 sensor error, 4 sensor off (PEG, MAG), 5 no sensor, 6 identification error, and
  7 "Error BPG, HPG, BCG", which only the VGC prints.
* p. 73: ``PRX`` → three pairs, gauges 1, 2 and 3; p. 70: ``COM[,a]`` (0: 100 ms, 1: 1 s,
  2: 1 min) streams the same three pairs after ``<ACK>``.
* p. 81: ``HVC[,a,b,c]`` → ``a,b,c``, the high voltage (emission) of gauges 1, 2, 3: 0 off, 1 on.
* p. 97: ``AYT`` → type, model number, serial number, firmware and hardware version, the
  manual's example being ``VGC503,398-483,100,1.00,1.0``.

From open-source clients: ``UNI`` with the TPG 36x's six codes, 0 mbar, 1 Torr, 2 Pascal,
3 Micron, 4 hPascal, 5 Volt (``COO-Utilities/inficon`` ``inficonvgc502.py``); ``TID`` with three
comma-separated identifications (``FlorianBen/VGC50X-EPICS`` ``devVGC501.proto``).

Choices where neither says, made once here:

* ``PRX``, ``COM`` and ``TID`` carry three channels on every model (the manual documents one
  format for the family); a channel the model lacks prints the no-sensor placeholder
  ``5,2.0000E-02`` and the identification ``noSEn`` (the VGC 401's word for "no sensor").
  ``PRn`` beyond the model's channels is a syntax error (``<NAK>``, ``0001``), as on the TPG.
* Status 7 is what a sensor error prints on a BPG, HPG or BCG (the gauges it names); any
  other gauge's error prints 3.
* Model numbers ``398-481``, ``398-482``, ``398-483`` for the 501, 502 and 503 (only the 503's
  is the manual's example); firmware ``1.00``, hardware ``1.0``, serial ``100`` as the example;
  ``PNR`` answers the firmware version.
* ``SEN`` and ``FIL`` are the TPG's and unknown here (``<NAK>``, ``0001``): a VGC switches its
  gauges with ``HVC``.
* ``HVC`` sets take exactly three digits 0 or 1. A gauge the backend cannot switch (no high
  voltage: a CDG, a Pirani) and a channel the model lacks read 0, and setting one of them to 1
  is an inadmissible parameter (``<NAK>``, ``0010``), nothing changed.
* Everything else (factory unit mbar, values ``{:.4E}``, Volt as the PKR 251 characteristic,
  one client at a time, ``COM`` timing) is the TPG server's, documented there.
"""

from __future__ import annotations

from rig.sim.backend import GaugeBackend, GaugeStatus, ServerFaults
from rig.sim.servers.tpg import NO_SENSOR_VALUE, TpgServer, TpgUnit, format_reading

__all__ = ["ERROR_STATUS_GAUGES", "MODEL_NUMBERS", "VGC_LINE_CHANNELS", "VgcServer"]

#: The models this server stands in for, with the model number each reports in ``AYT``.
MODEL_NUMBERS = {"VGC501": "398-481", "VGC502": "398-482", "VGC503": "398-483"}
#: Gauges in every ``PRX``, ``COM`` and ``TID`` line, whatever the model.
VGC_LINE_CHANNELS = 3
#: The gauges whose sensor error the VGC reports as status 7 ("Error BPG, HPG, BCG").
ERROR_STATUS_GAUGES = frozenset({"BPG", "HPG", "BCG"})
_STATUS_GAUGE_ERROR = 7
_ABSENT_READING = f"{int(GaugeStatus.NO_SENSOR)},{NO_SENSOR_VALUE}"
_ABSENT_ID = "noSEn"
_LINE = range(1, VGC_LINE_CHANNELS + 1)
_ERR_PARAMETER = 0b0010  # PAR in the ERROR word


class VgcServer(TpgServer):
    """A VGC 50x on 127.0.0.1 answering for the gauges of ``gauges`` (one client at a time)."""

    part_numbers = MODEL_NUMBERS
    firmware = "1.00"
    hardware = "1.0"

    def __init__(
        self,
        gauges: GaugeBackend,
        *,
        faults: ServerFaults | None = None,
        port: int = 0,
        unit: TpgUnit = TpgUnit.MBAR,
        serial_number: str = "100",
        max_request_bytes: int = 4096,
    ) -> None:
        super().__init__(
            gauges,
            faults=faults,
            port=port,
            unit=unit,
            serial_number=serial_number,
            max_request_bytes=max_request_bytes,
        )
        del self._mnemonics["SEN"], self._mnemonics["FIL"]
        self._mnemonics["HVC"] = (self._set_high_voltage, self.high_voltage_states)
        # The VGC 501 answers PRX too: a query without parameters, like PR1.
        self._mnemonics["PRX"] = (self._mnemonics["PR1"][0], self.all_readings)

    def reading(self, channel: int) -> str:
        """``status,value`` of one channel now, in the current unit (status 7 for a BPG/HPG/BCG fault)."""
        reading = self.gauges.read(channel)
        if (
            reading.status == GaugeStatus.SENSOR_ERROR
            and self.gauges.sensor_id(channel) in ERROR_STATUS_GAUGES
        ):
            return f"{_STATUS_GAUGE_ERROR},{0.0:.4E}"
        return format_reading(reading, self.unit)

    def all_readings(self) -> str:
        """Gauges 1 to 3's ``status,value`` (``PRX`` and ``COM``); a missing channel has no sensor."""
        return ",".join(self.reading(ch) if ch <= self.channels else _ABSENT_READING for ch in _LINE)

    def gauge_ids(self) -> str:
        """Gauges 1 to 3's identifications (``TID``); a missing channel has none."""
        return ",".join(self.gauges.sensor_id(ch) if ch <= self.channels else _ABSENT_ID for ch in _LINE)

    def high_voltage_states(self) -> str:
        """Gauges 1 to 3's high voltage, ``1`` on, ``0`` off or none (``HVC``)."""
        return ",".join("1" if self._switchable(ch) and self.gauges.sensor_on(ch) else "0" for ch in _LINE)

    def _switchable(self, channel: int) -> bool:
        return channel <= self.channels and self.gauges.switchable(channel)

    def _set_high_voltage(self, params: list[str]) -> int:
        if not params:
            return 0
        if len(params) != VGC_LINE_CHANNELS or not set(params) <= {"0", "1"}:
            return _ERR_PARAMETER
        wanted = {ch: value == "1" for ch, value in zip(_LINE, params, strict=True)}
        if any(on and not self._switchable(ch) for ch, on in wanted.items()):
            return _ERR_PARAMETER
        for ch, on in wanted.items():
            if self._switchable(ch):
                self.gauges.set_sensor_on(ch, on)
        return 0
