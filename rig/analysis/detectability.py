"""How small a leak a set-up can see, and how large a leak temperature can fake.

Resolution limit (ASTM E2930 idea, leak-physics §4.2): a pressure step δp over the
test time T in volume V is Q_min = V·δp/T; with a thermometer of resolution δT the
effective step is √(δp² + (p·δT/T_gas)²). Noise limit: white noise σ on n uniform
samples gives SE(dp/dt) = σ/√S_tt, S_tt = n(n²−1)Δt²/12; a leak is detectable
(95 % one-sided) when it exceeds t₀.₉₅·V·SE. A spec is certifiable only down to
ten times the larger of the two (E2930 resolution ≤ spec/10).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from rig.analysis.linefit import MIN_JUDGED_SAMPLES
from rig.errors import InputError

CERTIFIABLE_FACTOR = 10.0


@dataclass(frozen=True)
class Detectability:
    """Minimum detectable leak of a set-up, in Pa·m³/s."""

    resolution_limited_pa_m3_s: float
    noise_limited_pa_m3_s: float

    @property
    def minimum_detectable_pa_m3_s(self) -> float:
        """The larger of the resolution and noise limits."""
        return max(self.resolution_limited_pa_m3_s, self.noise_limited_pa_m3_s)

    @property
    def minimum_certifiable_limit_pa_m3_s(self) -> float:
        """Smallest limit that the E2930 10× rule lets this set-up certify."""
        return CERTIFIABLE_FACTOR * self.minimum_detectable_pa_m3_s


def minimum_detectable_leak(
    volume_m3: float,
    duration_s: float,
    *,
    resolution_pa: float = 0.0,
    noise_pa: float = 0.0,
    sample_interval_s: float | None = None,
    pressure_pa: float = 101325.0,
    temperature_k: float = 293.15,
    temperature_resolution_k: float = 0.0,
    confidence: float = 0.95,
) -> Detectability:
    """Minimum detectable leak for a gauge's resolution and noise over a test of ``duration_s``."""
    if not (volume_m3 > 0.0 and duration_s > 0.0):
        raise InputError("volume and duration must be positive")
    if resolution_pa < 0.0 or noise_pa < 0.0 or temperature_resolution_k < 0.0:
        raise InputError("resolution and noise cannot be negative")
    step_pa = math.hypot(resolution_pa, pressure_pa * temperature_resolution_k / temperature_k)
    by_resolution = volume_m3 * step_pa / duration_s
    by_noise = 0.0
    if noise_pa > 0.0:
        if sample_interval_s is None or not sample_interval_s > 0.0:
            raise InputError("a noise limit needs a positive sample interval")
        n = math.floor(duration_s / sample_interval_s) + 1
        if n < 3:
            raise InputError("a noise limit needs at least 3 samples in the test")
        s_tt = n * (n * n - 1) * sample_interval_s**2 / 12.0
        slope_se = noise_pa / math.sqrt(s_tt)
        by_noise = float(special.stdtrit(n - 2, confidence)) * volume_m3 * slope_se
    return Detectability(by_resolution, by_noise)


def thermal_pressure_change_pa(pressure_pa: float, temperature_k: float, delta_t_k: float) -> float:
    """Pressure change of a rigid, closed volume when its gas warms by ``delta_t_k``."""
    return pressure_pa * delta_t_k / temperature_k


def thermal_apparent_leak_pa_m3_s(
    volume_m3: float, pressure_pa: float, temperature_k: float, drift_k_s: float
) -> float:
    """Leak rate that a gas-temperature drift fakes in an uncompensated decay, Pa·m³/s."""
    return volume_m3 * thermal_pressure_change_pa(pressure_pa, temperature_k, drift_k_s)


@dataclass(frozen=True)
class Resolving:
    """What one gauge can resolve of one volume's leak at one pressure: the validator's and the
    planner's one rule for whether a limit can be tested over a duration.

    ``rig validate`` refuses a ``measure_decay`` whose limit :meth:`refusal` rejects, and
    ``rig plan`` proposes only durations it accepts, so that a planned duration always
    validates; both build it from the step and its bench in the same way
    (:meth:`rig.steps.measure_decay.MeasureDecay.resolving`).
    """

    channel: str
    volume_m3: float
    level_pa: float  # the pressure the volume was last brought to, where the gauge is read
    resolution_pa: float  # its step there (its own resolution, or the last printed digit)
    noise_pa: float
    sample_period_s: float

    def samples(self, duration_s: float) -> int:
        """How many samples a window of ``duration_s`` holds at this sample period."""
        if not duration_s > 0.0:
            return 0
        return math.floor(duration_s / self.sample_period_s + 1e-9) + 1

    def floor(self, duration_s: float) -> float:
        """The minimum detectable leak over ``duration_s`` (inf with fewer than 3 samples to fit)."""
        if not duration_s > 0.0:
            return math.inf
        if self.noise_pa > 0.0 and math.floor(duration_s / self.sample_period_s) + 1 < 3:
            return math.inf
        return minimum_detectable_leak(
            self.volume_m3,
            duration_s,
            resolution_pa=self.resolution_pa,
            noise_pa=self.noise_pa,
            sample_interval_s=self.sample_period_s,
        ).minimum_detectable_pa_m3_s

    def refusal(self, limit_pa_m3_s: float, duration_s: float) -> str | None:
        """Why ``limit_pa_m3_s`` cannot be tested over ``duration_s`` (None: it can)."""
        samples = self.samples(duration_s)
        if samples < MIN_JUDGED_SAMPLES:
            return (
                f"{duration_s:g} s at one sample per {self.sample_period_s:g} s gives {samples} samples of "
                f"{self.channel!r}; a verdict needs at least {MIN_JUDGED_SAMPLES} "
                "(test longer or sample faster)"
            )
        floor = self.floor(duration_s)
        if limit_pa_m3_s >= floor:
            return None
        return (
            f"limit {limit_pa_m3_s:.3g} Pa·m³/s is below what {self.channel!r} can resolve in "
            f"{duration_s:g} s at {self.level_pa:.4g} Pa on this bench (steps of "
            f"{self.resolution_pa:.3g} Pa, noise {self.noise_pa:.3g} Pa: minimum detectable leak "
            f"{floor:.3g} Pa·m³/s): test longer or use a finer gauge"
        )
