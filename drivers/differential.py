"""A differential pressure transducer's analog output, read as DC volts on a DAQ970A input.

The head (a differential capacitance manometer, :data:`drivers.models.DIFFERENTIAL_TRANSDUCER`)
sits between a test volume and its reference and puts out ±10 V for ± its full scale; the
DAQ's 34901A multiplexer reads it::

    → MEAS:VOLT:DC? (@115)\\n
    ← -1.23456789E-01\\n          (then SYST:ERR? → +0,"No error", as every DAQ query)

so Δp = p(test) − p(reference) = volts × full scale / 10 V: −12.35 Pa on a 1000 Pa head.
The sign is the head's: positive when the test side is higher. An output at saturation
(≈ ±11 V) says only that the difference is beyond the head's range, so it is reported as
over or under range, never as a pressure (as a gauge controller reports its own range).
"""

from __future__ import annotations

from typing import Protocol

from drivers.models import DIFFERENTIAL_TRANSDUCER, AnalogTransducer
from drivers.readings import GaugeState, PressureReading

__all__ = ["DifferentialTransducer", "VoltageInput"]

# A saturated output may read a hair below the rail (the DAQ's own gain error): within this
# share of the saturation voltage it still counts as saturated.
_SATURATION_MARGIN = 1e-3


class VoltageInput(Protocol):
    """What the transducer needs of a DAQ: one DC voltage reading (``Daq970a.volts``)."""

    def volts(self, channel: int) -> float:
        """``MEAS:VOLT:DC? (@ch)``: the DC voltage in V."""
        ...


class DifferentialTransducer:
    """A differential head of ``full_scale_pa`` on DAQ input ``channel``; readings in signed Pa."""

    def __init__(
        self, full_scale_pa: float, channel: int, transducer: AnalogTransducer = DIFFERENTIAL_TRANSDUCER
    ) -> None:
        if not full_scale_pa > 0.0:
            raise ValueError(f"a full scale is a positive pressure, got {full_scale_pa!r} Pa")
        self.full_scale_pa = full_scale_pa
        self.channel = channel
        self.transducer = transducer

    @property
    def pa_per_volt(self) -> float:
        """The output's scale: Pa of difference per volt."""
        return self.full_scale_pa / self.transducer.output_full_scale_v

    def reading(self, volts: float) -> PressureReading:
        """The difference an output of ``volts`` stands for (over/under range at saturation)."""
        rail = self.transducer.saturation_v * (1.0 - _SATURATION_MARGIN)
        limit_pa = self.transducer.saturation_v * self.pa_per_volt
        if volts >= rail:
            return PressureReading(self.channel, GaugeState.OVERRANGE, limit_pa)
        if volts <= -rail:
            return PressureReading(self.channel, GaugeState.UNDERRANGE, -limit_pa)
        return PressureReading(self.channel, GaugeState.OK, volts * self.pa_per_volt)

    def read(self, daq: VoltageInput) -> PressureReading:
        """Read the output on ``daq`` now (one ``MEAS:VOLT:DC?``): the difference in Pa."""
        return self.reading(float(daq.volts(self.channel)))

    def volts_for(self, difference_pa: float) -> float:
        """The output for a difference of ``difference_pa`` (saturated beyond the head's range)."""
        rail = self.transducer.saturation_v
        return max(-rail, min(rail, difference_pa / self.pa_per_volt))
