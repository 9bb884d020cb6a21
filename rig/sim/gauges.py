"""How simulated sensors see the truth: accuracy, noise, drift, range and resolution.

Reading = p·(1 + gain error) + zero offset + drift + white noise, quantised to the
sensor's resolution (leak-physics §3.6). The gain error is drawn once per sensor (its
calibration), the drift is a random walk in time, the noise is fresh every reading.
Everything comes from one seeded generator per sensor: same seed, same run.

The zero offset is a fault's shift (``zero_shift_pa``) plus the zero's own drift
(:class:`ZeroDrift`): a linear rate from the first reading on, a random walk (added to the
``drift`` walk), and a temperature coefficient on the ambient temperature's departure from its
nominal value (the bench's ``atmosphere`` outside).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from drivers.models import SIMULATED_ACCURACY_REL
from rig.sim.backend import GaugeReading, GaugeStatus

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ZeroDrift:
    """How a simulated gauge's zero wanders: linearly, at random, and with the ambient temperature.

    ``ambient_departure_k`` gives, at an array of times, how far the ambient temperature is
    from its nominal value (K); None: the gauge sees no ambient change.
    """

    rate_pa_s: float = 0.0
    random_walk_pa_sqrt_s: float = 0.0
    temperature_coefficient_pa_k: float = 0.0
    ambient_departure_k: Callable[[FloatArray], FloatArray] | None = None

    @property
    def moves(self) -> bool:
        """Whether the zero has a linear or thermal part at all (most simulated gauges have none)."""
        thermal = self.temperature_coefficient_pa_k != 0.0 and self.ambient_departure_k is not None
        return self.rate_pa_s != 0.0 or thermal

    def deterministic_pa(self, elapsed_s: FloatArray, t_s: FloatArray) -> FloatArray:
        """The zero's linear and thermal offset after ``elapsed_s`` since the first reading, at ``t_s``."""
        offset = self.rate_pa_s * elapsed_s
        if self.temperature_coefficient_pa_k != 0.0 and self.ambient_departure_k is not None:
            offset = offset + self.temperature_coefficient_pa_k * self.ambient_departure_k(t_s)
        return offset


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
    accuracy_rel: float = SIMULATED_ACCURACY_REL
    noise_pa: float = 0.0
    noise_rel: float = 0.0
    drift_pa_per_sqrt_s: float = 0.0
    resolution_pa: float = 0.0
    resolution_rel: float = 0.0
    seed: int = 0
    zero_shift_pa: float = 0.0  # a fault can set this
    zero_drift: ZeroDrift = field(default_factory=ZeroDrift)
    _rng: np.random.Generator = field(init=False, repr=False)
    _gain: float = field(init=False)
    _drift_pa: float = field(init=False, default=0.0)
    _drift_t: float | None = field(init=False, default=None)
    _first_t: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        # A calibration within its stated accuracy: the stated figure is about 2 σ, and a bound.
        # A gauge in calibration is never outside it (one that is would be out of calibration,
        # which the controller cannot be asked to see): what it claims from a reading rests on it.
        gain = float(self._rng.normal(0.0, self.accuracy_rel / 2.0))
        self._gain = min(max(gain, -self.accuracy_rel), self.accuracy_rel)

    @property
    def walk_pa_per_sqrt_s(self) -> float:
        """The random walk's coefficient: the ``drift`` walk and the zero's own, independent."""
        return math.hypot(self.drift_pa_per_sqrt_s, self.zero_drift.random_walk_pa_sqrt_s)

    def _zero_pa(self, t_s: FloatArray) -> FloatArray:
        """The zero's linear and thermal offset at ``t_s`` (the first reading starts the clock)."""
        if self._first_t is None:
            self._first_t = float(t_s[0]) if t_s.size else None
        first = 0.0 if self._first_t is None else self._first_t
        return self.zero_drift.deterministic_pa(t_s - first, t_s)

    def read(self, t_s: float, true_pa: float) -> GaugeReading:
        """The sensor's reading at ``t_s`` of a true pressure ``true_pa``."""
        walk = self.walk_pa_per_sqrt_s
        if walk > 0.0:
            if self._drift_t is not None and t_s > self._drift_t:
                step = walk * math.sqrt(t_s - self._drift_t)
                self._drift_pa += float(self._rng.normal(0.0, step))
            self._drift_t = t_s if self._drift_t is None else max(self._drift_t, t_s)
        zero = float(self._zero_pa(np.array([t_s], dtype=np.float64))[0]) if self.zero_drift.moves else 0.0
        value = true_pa * (1.0 + self._gain) + self.zero_shift_pa + self._drift_pa + zero
        sigma = math.hypot(self.noise_pa, self.noise_rel * abs(true_pa))
        if sigma > 0.0:
            value += float(self._rng.normal(0.0, sigma))
        value = self._quantise(value)
        if value < self.min_pa:
            return GaugeReading(GaugeStatus.UNDERRANGE, self.min_pa)
        if value > self.max_pa:
            return GaugeReading(GaugeStatus.OVERRANGE, self.max_pa)
        return GaugeReading(GaugeStatus.OK, value)

    def read_many(self, times_s: FloatArray, true_pa: FloatArray) -> tuple[IntArray, FloatArray]:
        """Readings at increasing ``times_s`` of ``true_pa``: (status digits, values in Pa).

        The vectorised form of :meth:`read` for recording long simulated runs; it draws
        from the same generator and carries the drift on, so calls can be chained.
        """
        t = np.asarray(times_s, dtype=np.float64)
        p = np.asarray(true_pa, dtype=np.float64)
        value = p * (1.0 + self._gain) + self.zero_shift_pa
        if t.size and self.zero_drift.moves:
            value = value + self._zero_pa(t)
        walk = self.walk_pa_per_sqrt_s
        if walk > 0.0 and t.size:
            last = t[0] if self._drift_t is None else self._drift_t
            steps = np.sqrt(np.maximum(np.diff(t, prepend=last), 0.0)) * walk
            drift = self._drift_pa + np.cumsum(self._rng.normal(0.0, 1.0, t.size) * steps)
            self._drift_pa, self._drift_t = float(drift[-1]), float(max(last, t[-1]))
            value = value + drift
        sigma = np.hypot(self.noise_pa, self.noise_rel * np.abs(p))
        value = value + self._rng.normal(0.0, 1.0, t.size) * sigma
        step = np.full(t.size, self.resolution_pa)
        if self.resolution_rel > 0.0:
            step = np.maximum(step, self.resolution_rel * np.abs(value))
        quantised = np.where(step > 0.0, np.round(value / np.where(step > 0.0, step, 1.0)) * step, value)
        status = np.full(t.size, int(GaugeStatus.OK), dtype=np.int64)
        status[quantised < self.min_pa] = int(GaugeStatus.UNDERRANGE)
        status[quantised > self.max_pa] = int(GaugeStatus.OVERRANGE)
        return status, np.clip(quantised, self.min_pa, self.max_pa)

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
        offset_k = float(self._rng.normal(0.0, self.accuracy_k / 2.0))
        self._offset_k = min(max(offset_k, -self.accuracy_k), self.accuracy_k)  # within its accuracy

    def read_k(self, true_k: float) -> float:
        """The reading in K of a true temperature ``true_k``."""
        value = true_k + self._offset_k + float(self._rng.normal(0.0, self.noise_k))
        if self.resolution_k > 0.0:
            value = round(value / self.resolution_k) * self.resolution_k
        return value
