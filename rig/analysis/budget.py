"""The uncertainty budget of a leak rate (GUM style) and the ASTM E2930 resolution rule.

A fit's standard error says how well the samples pin the slope; it cannot say what the
samples cannot show. Those are Type-B terms, each a standard uncertainty in Pa·m³/s,
combined in quadrature with the fit's:

* **resolution**: a change smaller than one step of the gauge (its own resolution or the
  last digit its controller prints) can hide in the window; rectangular over ±step:
  V·step/(D·√3).
* **volume**: Q = −V·dp/dt scales with V: |Q|·u(V)/V.
* **gauge calibration**: a span error of the gauge scales every pressure difference,
  hence the slope: |Q|·u_rel.
* **temperature**: with compensation (p·T_ref/T), the thermometer's calibration scales the
  result by T_ref/T (|Q|·u(T)/T) and its resolution hides a drift of one step over the
  window (V·p/T·r_T/(D·√3)); without compensation, an unmeasured drift of the gas
  temperature of up to ``drift`` K/s reads as V·(p/T)·drift (rectangular: /√3).
* **zero_drift**: a gauge's zero wandering at r Pa/s reads as a leak of V·r (Q = −V·dp/dt),
  whatever the gas does. The gauge's declared stability bounds r by the drift-rate bound plus
  its temperature coefficient times the ambient's rate of change (both bounds, either sign);
  nothing is known of where r lies within ±bound, so the distribution is rectangular:
  V·(rate + tempco·ambient rate)/√3. A temperature-compensated fit does not remove it: the
  thermometer reads the gas, not the gauge's zero.

The E2930 rule (leak-physics §2): a test may certify a limit only if its resolution — the
smallest leak that moves the reading by one step over the test, V·step/D, with the
thermometer's step likewise when compensated — is at most a tenth of the limit. The zero's
apparent rate at its bound, V·(rate + tempco·ambient rate), is a leak the test cannot tell
from none, as a step of the gauge is: it joins the resolution in quadrature, so a test whose
gauge's drift could fake a tenth of the limit cannot certify a PASS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from scipy import special

from rig.analysis.decay import DecayFit

E2930_FRACTION = 0.1
SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class TypeB:
    """What is known of a measurement beyond its samples (standard uncertainties, k = 1)."""

    volume_rel: float = 0.0  # u(V)/V
    gauge_rel: float = 0.0  # the gauge's relative calibration uncertainty (span)
    resolution_pa: float = 0.0  # one step of the reading at the test's pressure
    temperature_k: float = 0.0  # the thermometer's calibration uncertainty
    temperature_resolution_k: float = 0.0  # one step of the thermometer's reading
    temperature_drift_k_s: float = 0.0  # bound on an unmeasured gas-temperature drift (no compensation)
    zero_drift_pa_s: float = 0.0  # bound on the gauge's zero drift rate (either sign)
    zero_temperature_coefficient_pa_k: float = 0.0  # bound on its zero's shift per kelvin of ambient
    ambient_drift_k_s: float = 0.0  # bound on how fast the ambient (the gauge's) temperature changes

    @property
    def zero_rate_pa_s(self) -> float:
        """The fastest the gauge's zero may move: its drift bound plus its tempco at the ambient's rate."""
        return self.zero_drift_pa_s + self.zero_temperature_coefficient_pa_k * self.ambient_drift_k_s


@dataclass(frozen=True)
class Budget:
    """Standard uncertainties of one leak rate, Pa·m³/s, and what the test could resolve."""

    terms: dict[str, float]
    test_resolution_pa_m3_s: float

    @property
    def zero_drift_rate_pa_m3_s(self) -> float:
        """The apparent rate of the gauge's zero at its declared bound (part of the test's resolution)."""
        return self.terms.get("zero_drift", 0.0) * SQRT3

    @property
    def combined(self) -> float:
        """All terms in quadrature (hypot: a term past 1e154 Pa·m³/s squares to inf, not it)."""
        return math.hypot(*self.terms.values())

    @property
    def type_b(self) -> float:
        """Every term but the fit's, in quadrature."""
        return math.hypot(*(u for name, u in self.terms.items() if name != "fit"))

    def e2930(self, limit_pa_m3_s: float) -> dict[str, float | bool]:
        """The E2930 check against ``limit_pa_m3_s``: the test's resolution, what is required, met, and
        the part of the resolution no test length shrinks (the zero's apparent drift)."""
        required = E2930_FRACTION * limit_pa_m3_s
        return {
            "test_resolution": self.test_resolution_pa_m3_s,
            "required": required,
            "met": self.test_resolution_pa_m3_s <= required,
            "zero_drift": self.zero_drift_rate_pa_m3_s,
        }


def type_b_terms(
    rate_pa_m3_s: float,
    volume_m3: float,
    duration_s: float,
    pressure_pa: float,
    temperature_k: float,
    type_b: TypeB,
    compensated: bool,
) -> tuple[dict[str, float], float]:
    """The Type-B terms for a leak of ``rate_pa_m3_s`` measured over ``duration_s``, and the
    test's resolution (both Pa·m³/s)."""
    q = abs(rate_pa_m3_s)
    step_rate = volume_m3 * type_b.resolution_pa / duration_s
    p_over_t = pressure_pa / temperature_k
    terms = {
        "resolution": step_rate / SQRT3,
        "volume": q * type_b.volume_rel,
        "gauge_calibration": q * type_b.gauge_rel,
    }
    if compensated:
        thermometer_step = volume_m3 * p_over_t * type_b.temperature_resolution_k / duration_s
        terms["temperature"] = math.hypot(q * type_b.temperature_k / temperature_k, thermometer_step / SQRT3)
        resolution = math.hypot(step_rate, thermometer_step)
    else:
        terms["temperature"] = volume_m3 * p_over_t * type_b.temperature_drift_k_s / SQRT3
        resolution = step_rate
    zero_rate = volume_m3 * type_b.zero_rate_pa_s
    terms["zero_drift"] = zero_rate / SQRT3
    return terms, math.hypot(resolution, zero_rate)


def uncertainty_budget(
    fit: DecayFit, type_b: TypeB, pressure_pa: float, temperature_k: float, compensated: bool
) -> Budget:
    """The budget of ``fit`` (its own standard error first, then the Type-B terms)."""
    duration = fit.line.duration
    if not duration > 0.0:
        return Budget({"fit": fit.volume_m3 * fit.line.slope_stderr}, math.inf)
    terms, resolution = type_b_terms(
        fit.leak_rate_pa_m3_s, fit.volume_m3, duration, pressure_pa, temperature_k, type_b, compensated
    )
    return Budget({"fit": fit.volume_m3 * fit.line.slope_stderr, **terms}, resolution)


def with_budget(fit: DecayFit, budget: Budget) -> DecayFit:
    """``fit`` whose standard uncertainty is the budget's combined one (bounds and verdicts follow)."""
    return replace(fit, type_b_pa_m3_s=budget.type_b)


@dataclass(frozen=True)
class PlannedTest:
    """How a test of a given duration is expected to come out."""

    duration_s: float
    stderr_pa_m3_s: float
    terms: dict[str, float]
    test_resolution_pa_m3_s: float

    @property
    def zero_drift_rate_pa_m3_s(self) -> float:
        """The apparent rate of the gauge's zero at its declared bound (part of the test's resolution)."""
        return self.terms.get("zero_drift", 0.0) * SQRT3


def planned_test(
    duration_s: float,
    *,
    rate_pa_m3_s: float,
    volume_m3: float,
    sample_period_s: float,
    noise_pa: float,
    pressure_pa: float,
    temperature_k: float,
    type_b: TypeB,
    compensated: bool,
    temperature_noise_k: float = 0.0,
    rho: float = 0.0,
) -> PlannedTest:
    """The expected budget of a test of ``duration_s``, before it is run.

    The fit's part is the OLS slope error of n = D/Δt + 1 evenly spaced samples with white
    noise σ (of p·T_ref/T when compensated: the thermometer's noise scaled by p/T adds in
    quadrature), inflated for lag-1 autocorrelation ρ by √((1 + ρ)/(1 − ρ)).
    """
    n = math.floor(duration_s / sample_period_s) + 1
    sigma = (
        math.hypot(noise_pa, pressure_pa * temperature_noise_k / temperature_k) if compensated else noise_pa
    )
    if n < 3:
        fit_se = math.inf
    else:
        s_tt = n * (n * n - 1.0) * sample_period_s**2 / 12.0
        fit_se = volume_m3 * sigma / math.sqrt(s_tt) * math.sqrt((1.0 + rho) / (1.0 - rho))
    terms, resolution = type_b_terms(
        rate_pa_m3_s, volume_m3, duration_s, pressure_pa, temperature_k, type_b, compensated
    )
    terms = {"fit": fit_se, **terms}
    return PlannedTest(duration_s, math.sqrt(sum(u * u for u in terms.values())), terms, resolution)


def decisive(
    test: PlannedTest, rate_pa_m3_s: float, limit_pa_m3_s: float, confidence: float, power: float
) -> bool:
    """Whether ``test`` decides a true leak of ``rate_pa_m3_s`` against the limit with ``power``.

    A PASS must also meet the E2930 resolution rule, or it cannot be certified.
    """
    gap = abs(rate_pa_m3_s - limit_pa_m3_s)
    z = float(special.ndtri(confidence)) + float(special.ndtri(power))
    if rate_pa_m3_s < limit_pa_m3_s and test.test_resolution_pa_m3_s > E2930_FRACTION * limit_pa_m3_s:
        return False
    return gap >= z * test.stderr_pa_m3_s
