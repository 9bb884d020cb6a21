"""What a gauge driver returns: a pressure in Pa, or the reason there is none."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class GaugeState(enum.Enum):
    """The outcome of reading one gauge channel, whatever the controller's own codes."""

    # A pressure was measured.
    OK = "ok"
    # Below the gauge's range: the pressure is lower than the value given.
    UNDERRANGE = "underrange"
    # Above the gauge's range: the pressure is higher than the value given.
    OVERRANGE = "overrange"
    # The gauge reports a fault.
    SENSOR_ERROR = "sensor_error"
    # The gauge is switched off.
    SENSOR_OFF = "sensor_off"
    # Nothing is connected to the channel.
    NO_SENSOR = "no_sensor"
    # The controller cannot tell what is connected.
    IDENTIFICATION_ERROR = "identification_error"


@dataclass(frozen=True)
class PressureReading:
    """One channel's reading: ``pressure_pa`` is set for OK and, as the range limit, for under/over range."""

    channel: int
    state: GaugeState
    pressure_pa: float | None

    @property
    def ok(self) -> bool:
        """Whether a pressure was measured."""
        return self.state is GaugeState.OK
