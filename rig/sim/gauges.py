"""How simulated sensors see the truth: accuracy, noise, drift, range and resolution.

Reading = p·(1 + gain error) + zero offset + drift + white noise, quantised to the
sensor's resolution (leak-physics §3.6). The gain error is drawn once per sensor (its
calibration), the drift is a random walk in time, the noise is fresh every reading.
Everything comes from one seeded generator per sensor: same seed, same run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rig.sim.backend import GaugeReading, GaugeStatus


@dataclass
class GaugeModel:
    """A pressure sensor: a capacitance manometer, a Pirani, a combination gauge.

    ``noise_rel`` adds white noise proportional to the reading (Pirani-like); ``noise_pa``
    a constant floor (capacitance-manometer-like). ``resolution_pa`` is the smallest step
    the sensor reports (an absolute LSB); ``resolution_rel`` a relative one.
    """

    sensor_id: str = "CMR"
    min_pa: float = 1e-2
    max_pa: float = 1.1e5
    accuracy_rel: float = 0.0025
    noise_pa: float = 0.0
    noise_rel: float = 0.0
    drift_pa_per_sqrt_s: float = 0.0
    resolution_pa: float = 0.0
    resolution_rel: float = 0.0
    seed: int = 0
    zero_shift_pa: float = 0.0  # a fault can set this
    _rng: np.random.Generator = field(init=False, repr=False)
    _gain: float = field(init=False)
    _drift_pa: float = field(init=False, default=0.0)
    _drift_t: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        # A calibration within its stated accuracy: the stated figure is about 2 σ.
        self._gain = float(self._rng.normal(0.0, self.accuracy_rel / 2.0))

    def read(self, t_s: float, true_pa: float) -> GaugeReading:
        """The sensor's reading at ``t_s`` of a true pressure ``true_pa``."""
        if self.drift_pa_per_sqrt_s > 0.0:
            if self._drift_t is not None and t_s > self._drift_t:
                step = self.drift_pa_per_sqrt_s * math.sqrt(t_s - self._drift_t)
                self._drift_pa += float(self._rng.normal(0.0, step))
            self._drift_t = t_s if self._drift_t is None else max(self._drift_t, t_s)
        value = true_pa * (1.0 + self._gain) + self.zero_shift_pa + self._drift_pa
        sigma = math.hypot(self.noise_pa, self.noise_rel * abs(true_pa))
        if sigma > 0.0:
            value += float(self._rng.normal(0.0, sigma))
        value = self._quantise(value)
        if value < self.min_pa:
            return GaugeReading(GaugeStatus.UNDERRANGE, self.min_pa)
        if value > self.max_pa:
            return GaugeReading(GaugeStatus.OVERRANGE, self.max_pa)
        return GaugeReading(GaugeStatus.OK, value)

    def _quantise(self, value: float) -> float:
        step = self.resolution_pa
        if self.resolution_rel > 0.0 and value != 0.0:
            step = max(step, self.resolution_rel * abs(value))
        if step <= 0.0:
            return value
        return round(value / step) * step


@dataclass
class ThermocoupleModel:
    """A thermocouple on a multiplexer: offset within its accuracy, noise, resolution (K)."""

    accuracy_k: float = 0.5
    noise_k: float = 0.01
    resolution_k: float = 0.001
    seed: int = 0
    _rng: np.random.Generator = field(init=False, repr=False)
    _offset_k: float = field(init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._offset_k = float(self._rng.normal(0.0, self.accuracy_k / 2.0))

    def read_k(self, true_k: float) -> float:
        """The reading in K of a true temperature ``true_k``."""
        value = true_k + self._offset_k + float(self._rng.normal(0.0, self.noise_k))
        if self.resolution_k > 0.0:
            value = round(value / self.resolution_k) * self.resolution_k
        return value
