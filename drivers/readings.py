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


class FlowState(enum.Enum):
    """The outcome of reading a flow instrument, whatever its own flags."""

    # A flow was measured.
    OK = "ok"
    # Beyond the instrument's range (its over-range flag): the flow is at least the value given.
    OVERRANGE = "overrange"
    # The instrument reports a fault of its own (a sensor or valve error flag).
    SENSOR_ERROR = "sensor_error"


@dataclass(frozen=True)
class FlowReading:
    """One reading of a mass-flow instrument, in SI.

    ``mass_flow_mol_s`` is the gas through it per second (mol/s: a "standard" volumetric flow
    such as sccm is this amount at the instrument's standard conditions); ``pressure_pa`` and
    ``temperature_k`` are what its own sensors read in the line (None when it has none);
    ``setpoint`` is the controller's setpoint in its own control variable's SI unit: mol/s on its
    flow loop, Pa on its pressure loop (None for a meter, or while the driver does not know which
    loop it is on).
    """

    channel: int
    state: FlowState
    mass_flow_mol_s: float | None
    pressure_pa: float | None = None
    temperature_k: float | None = None
    setpoint: float | None = None

    @property
    def ok(self) -> bool:
        """Whether a flow was measured."""
        return self.state is FlowState.OK
