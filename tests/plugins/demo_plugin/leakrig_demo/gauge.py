"""Driver of the DG-2, a (fictional) two-channel gauge controller speaking lines of ASCII.

*IDN?      -> Demo Instruments,DG-2,0001,1.0
UNIT?      -> PA
MEAS? 1    -> OK,1.01325E+05        (UR / OR: under / over range at the limit; ERR,0: sensor error)
MEAS? ALL  -> OK,1.01325E+05;OK,2.00000E+05
anything else -> ERR unknown command
"""

from __future__ import annotations

import enum
from typing import Any, Self

from drivers.base import Instrument, RetryPolicy
from drivers.errors import InstrumentError, ProtocolError
from drivers.readings import GaugeState, PressureReading

_STATES = {
    "OK": GaugeState.OK,
    "UR": GaugeState.UNDERRANGE,
    "OR": GaugeState.OVERRANGE,
    "ERR": GaugeState.SENSOR_ERROR,
}


class Dg2Unit(enum.Enum):
    """The DG-2 reports in pascal only."""

    PA = "PA"


class Dg2(Instrument):
    """A DG-2: two gauge channels read in Pa."""

    model = "DG-2"
    read_termination = "\n"

    @classmethod
    def open(
        cls,
        resource_name: str,
        *,
        timeout_s: float = 2.0,
        retry: RetryPolicy | None = None,
        **visa_options: Any,
    ) -> Self:
        """Connect through pyvisa (``TCPIP::host::port::SOCKET``)."""
        return cls(cls.visa_transport(resource_name, timeout_s, visa_options), retry=retry)

    def _ask(self, command: str) -> str:
        def transaction() -> str:
            self.transport.write(command.encode("ascii") + b"\n")
            reply = self.transport.read_line().decode("ascii", errors="replace").strip()
            if reply.startswith("ERR "):
                raise InstrumentError(f"DG-2 refused {command!r}: {reply[4:]}")
            return reply

        return self.query(transaction)

    def identity(self) -> str:
        """``*IDN?``."""
        return self._ask("*IDN?")

    def unit(self) -> Dg2Unit:
        """``UNIT?``: always pascal."""
        reply = self._ask("UNIT?")
        if reply != "PA":
            raise ProtocolError(f"DG-2 unit {reply!r}")
        return Dg2Unit.PA

    def read(self, channel: int) -> PressureReading:
        """One channel's pressure in Pa."""
        return _reading(channel, self._ask(f"MEAS? {channel}"))

    def read_all(self) -> list[PressureReading]:
        """Both channels, in one query."""
        parts = self._ask("MEAS? ALL").split(";")
        return [_reading(i, part) for i, part in enumerate(parts, start=1)]


def _reading(channel: int, text: str) -> PressureReading:
    state_text, _, value = text.partition(",")
    state = _STATES.get(state_text)
    try:
        pressure_pa = float(value)
    except ValueError:
        raise ProtocolError(f"DG-2 reading {text!r}") from None
    if state is None:
        raise ProtocolError(f"DG-2 reading {text!r}")
    return PressureReading(channel, state, pressure_pa if state is not GaugeState.SENSOR_ERROR else None)
