"""INFICON VGC 501/502/503 gauge controllers (1, 2, 3 channels): the mnemonic protocol's VGC dialect.

The VGC 50x speaks the Pfeiffer "mnemonic" protocol of the TPG 36x byte for byte (operating
manual tina96e1-b, 2016-12, §5: ``PR1<CR>`` → ``<ACK><CR><LF>``, ``<ENQ>`` → ``0,1.2345E-03``;
``<NAK>`` and the ERROR word; ``<ETX>``), so :class:`Vgc50x` is a :class:`~drivers.tpg36x.Tpg36x`
that differs only where the manual does:

* status digit 7, "Error BPG, HPG, BCG" (a fault of a hot-cathode combination gauge), read
  as :attr:`~drivers.readings.GaugeState.SENSOR_ERROR` (manual p. 72);
* ``PRX`` and ``COM`` lines carry three ``status,value`` pairs, gauges 1, 2 and 3, on every
  model of the family (manual pp. 70, 73), as ``TID`` carries three gauge identifications
  (EPICS ``VGC50X-EPICS`` support); the driver keeps its model's channels;
* ``AYT`` answers type, model number, serial number, firmware and hardware version, e.g.
  ``VGC503,398-483,100,1.00,1.0`` (manual p. 97): the type names the model, hence the channels;
* the unit table (``UNI``) is the TPG 36x's: mbar, Torr, Pascal, Micron, hPascal, Volt
  (INFICON VGC502 client ``COO-Utilities/inficon``).

Gauges are switched with ``HVC`` on a VGC, not ``SEN``: ``HVC[,a,b,c]`` → ``a,b,c``, each 0 (off)
or 1 (on), the high voltage of a cold-cathode gauge or the emission of a hot-cathode one (manual
p. 81). ``HVC`` has no "cannot be switched" code, so the VGC's switching is its own pair of methods,
:meth:`Vgc50x.high_voltage` and :meth:`Vgc50x.set_high_voltage`; the TPG's ``SEN`` methods
(:meth:`Vgc50x.sensors`, :meth:`Vgc50x.set_sensor`) are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from drivers.base import RetryPolicy
from drivers.errors import ProtocolError
from drivers.readings import GaugeState
from drivers.tpg36x import SensorSwitch, Tpg36x

__all__ = ["VGC_LINE_CHANNELS", "Vgc50x"]

#: Gauges in every ``PRX``, ``COM`` and ``TID`` line of a VGC 50x, whatever its model.
VGC_LINE_CHANNELS = 3

_VGC_STATES: Mapping[str, GaugeState] = {
    **Tpg36x.status_codes,
    "7": GaugeState.SENSOR_ERROR,  # "Error BPG, HPG, BCG"
}


def _hv_states(text: str, count: int) -> list[bool]:
    """The first ``count`` gauges' high voltage (on: True) from an ``HVC`` line ``a,b,c``."""
    fields = text.split(",")
    if len(fields) != VGC_LINE_CHANNELS or not set(fields) <= {"0", "1"}:
        raise ProtocolError(f"unexpected reply to HVC ({VGC_LINE_CHANNELS} digits 0 or 1 due): {text!r}")
    return [field == "1" for field in fields[:count]]


class Vgc50x(Tpg36x):
    """An INFICON VGC 501, 502 or 503 (1, 2 or 3 channels): readings in Pa, unit, identity."""

    model = "VGC50x"
    status_codes = _VGC_STATES
    line_channels = VGC_LINE_CHANNELS

    @classmethod
    def open(
        cls,
        resource_name: str,
        *,
        timeout_s: float = 2.0,
        retry: RetryPolicy | None = None,
        **visa_options: Any,
    ) -> Self:
        """Connect through pyvisa-py: Ethernet ``TCPIP::host::8000::SOCKET`` (the port open-source
        clients use), or the RS-232C line ``ASRL…::INSTR`` (8 data bits, no parity, 1 stop bit: manual p. 66);
        ``<ETX>`` first, as on the TPG."""
        return super().open(resource_name, timeout_s=timeout_s, retry=retry, **visa_options)

    def high_voltage(self) -> list[bool]:
        """Whether each channel's high voltage (or emission) is on (``HVC``), in channel order."""
        with self.lock:
            count = self.channel_count
            return self._ask(lambda text: _hv_states(text, count), "HVC")

    def set_high_voltage(self, channel: int, on: bool) -> None:
        """Switch the high voltage (or emission) of the gauge on ``channel`` (``HVC,a,b,c``).

        ``HVC`` sets all three gauges at once: the others keep the states just read. Sent once and
        confirmed by readback (:class:`~drivers.errors.ActuationNotConfirmedError` if it does not
        show the change); a gauge without high voltage is the controller's to refuse
        (:class:`~drivers.errors.InstrumentError` with its ERROR word).
        """
        count = self.channel_count
        if not 1 <= channel <= count:
            raise ValueError(f"{self.model} has channels 1 to {count}, not {channel}")
        with self.lock:
            states = self.high_voltage()
            states[channel - 1] = on
            params = [int(state) for state in states] + [0] * (VGC_LINE_CHANNELS - count)
            self.actuate(
                lambda: self._send_once("HVC", params),
                lambda: _hv_states(self._transact("HVC"), count)[channel - 1] is on,
                f"switching the high voltage of gauge {channel} {'on' if on else 'off'}",
            )

    def sensors(self) -> list[SensorSwitch]:
        """Not on a VGC (no ``SEN``): see :meth:`high_voltage`."""
        raise NotImplementedError(f"{self.model}: gauges are switched with HVC, not SEN: use high_voltage()")

    def set_sensor(self, channel: int, on: bool) -> None:
        """Not on a VGC (no ``SEN``): see :meth:`set_high_voltage`."""
        raise NotImplementedError(
            f"{self.model}: gauges are switched with HVC, not SEN: use set_high_voltage()"
        )
