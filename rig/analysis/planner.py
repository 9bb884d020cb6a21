"""How long a leak test must run to decide its limit: the planning maths, from plain numbers.

The plan uses the engine's own uncertainty model (:mod:`rig.analysis.budget`): the fit's
standard error for n samples of the gauge's noise, the bench's Type-B terms and the ASTM
E2930 resolution rule, at the pressure the procedure reads the gauge. The shortest duration
D that decides an assumed leak (``expected``, half the limit unless told) with the asked
power is found by doubling, then bisection.

What the engine's verdict does beyond the bare budget is modelled too, so that the plan is
what a run will see:

* **quantisation**: the gauge's readings move in steps (its resolution, or the last printed
  digit). The rounding error adds step²/12 to the residual variance, and when the gauge's
  noise is smaller than a step it repeats from one sample to the next, which the fit reads
  as lag-1 autocorrelation and inflates its error for (AR(1), as
  the compiled fit, rig._linfit, does);
* **the fit's own estimate of that autocorrelation** is noisy (a positive one inflates, a
  negative one deflates), so the error it reports is not the noise alone's on average;
* **Student's t**: the verdict's one-sided bound uses t on the Satterthwaite degrees of freedom
  of the fit's variance estimate (:func:`rig.analysis.linefit.interval_dof`), not the normal
  quantile, which matters when the autocorrelation and its noisy estimate leave few of them;
* **E2930 over the recorded window**: the engine judges the resolution over the window's span,
  which on a wall clock may end up to a sample period before the step does.

A decay is planned only while the expected leak lowers the pressure by at most
:data:`MAX_DECAY_FRACTION`; beyond that a constant-rate straight line does not describe it.

And a plan must validate: a duration is proposed only where the validator's own rule for the
limit holds (:class:`rig.analysis.detectability.Resolving`, the minimum detectable leak at the
level the procedure leaves the volume at, carried by the setup), whichever side of the limit
the expected leak is on: a FAIL planned on the power alone could be shorter than the validator
lets the limit be tested over. ``max_duration_s`` carries the procedure's own bounds.

Everything here takes a :class:`MeasurementSetup` of numbers (and the bench's Type-B terms as
a function of pressure): reading one from a procedure and its bench, and checking a plan by
Monte Carlo through the engine's verdict or by runs on the simulated bench, is
:mod:`rig.planning`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from rig.analysis.budget import E2930_FRACTION, PlannedTest, TypeB, decisive, planned_test
from rig.analysis.detectability import Resolving
from rig.analysis.linefit import MIN_JUDGED_SAMPLES, RHO_FLOOR, interval_dof, lag1_variance_factor
from rig.errors import InputError
from rig.outcome import Outcome
from rig.units import T_TWENTY_C_K

CONFIDENCE = 0.95  # the verdict's one-sided bounds (rig.analysis.verdict.decide's default)
POWER = 0.9
MIN_DURATION_S = 1.0
MAX_DURATION_S = 30 * 86400.0
# A decay is planned only while the expected leak lowers the pressure by at most this fraction:
# beyond it the leak itself slows with the pressure and the straight line the fit draws (and the
# constant rate the plan assumes) no longer describe the test.
MAX_DECAY_FRACTION = 0.1
# The engine caps the lag-1 autocorrelation it inflates for (rig.analysis.linefit.RHO_CAP).
RHO_CAP = 0.99
# A plan never proposes a window the verdict would refuse for its size (rig.analysis.verdict.decide).
MIN_PLANNED_SAMPLES = MIN_JUDGED_SAMPLES
# Gauss–Hermite nodes for the expectation over the fit's estimate of the autocorrelation.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
# Terms of the quantisation-error autocovariance series; the tail is below 1/(2π²·K) of a step².
SERIES_TERMS = 4000


@dataclass(frozen=True)
class MeasurementSetup:
    """One ``measure_decay`` step as the plan sees it: its names and numbers, in SI units.

    ``type_b_at`` gives the bench's Type-B inputs for a window whose highest pressure is its
    argument (Pa): the gauge's printed digit, and so its resolution, changes with the pressure.
    """

    name: str
    channel: str
    volume: str
    volume_m3: float
    temperature_channel: str | None
    sign: float  # +1 for a decay, -1 for a rise (the factor the engine multiplies pressures by)
    level_pa: float  # the pressure the window starts at (the preceding fill or pump-down)
    level_margin_pa: float  # how far above ``level_pa`` the start may be (the fill's tolerance)
    sample_period_s: float
    gauge_noise_pa: float  # the gauge's constant white noise (1 σ)
    gauge_noise_relative: float  # and its part proportional to the reading (a simulated Pirani's)
    thermometer_noise_k: float
    duration_s: float  # as the procedure has it
    limit_pa_m3_s: float | None  # the step's own limit, if it has one
    type_b_at: Callable[[float], TypeB]
    temperature_k: float = T_TWENTY_C_K
    # The validator's rule for the limit (None: the bench says nothing of the gauge): a plan
    # proposes only durations it accepts, so that the procedure with them still validates.
    resolving: Resolving | None = None

    def refusal(self, limit_pa_m3_s: float, duration_s: float) -> str | None:
        """Why the validator would refuse ``limit_pa_m3_s`` over ``duration_s`` (None: it would not)."""
        return None if self.resolving is None else self.resolving.refusal(limit_pa_m3_s, duration_s)

    @property
    def compensated(self) -> bool:
        """Whether the fit is temperature-compensated (the step names a thermometer)."""
        return self.temperature_channel is not None

    def pressures(self, rate_pa_m3_s: float, duration_s: float) -> tuple[float, float]:
        """(highest, mean) pressure of a window of ``duration_s`` on a leak of ``rate_pa_m3_s``.

        The engine takes the gauge's step at the window's highest pressure and p/T at its mean;
        a rise ends higher than it starts, a decay starts highest.
        """
        change = rate_pa_m3_s * duration_s / self.volume_m3
        start = self.level_pa
        end = start - self.sign * change
        top = max(start + self.level_margin_pa, end)
        return top, max((start + end) / 2.0, 0.0)

    def type_b(self, rate_pa_m3_s: float, duration_s: float) -> TypeB:
        """The bench's Type-B inputs for this window, taken at its highest pressure as the engine does."""
        top, _ = self.pressures(rate_pa_m3_s, duration_s)
        return self.type_b_at(top)

    def decay_limit_s(self, rate_pa_m3_s: float) -> float:
        """How long a decay of ``rate_pa_m3_s`` stays within :data:`MAX_DECAY_FRACTION` of its level."""
        if self.sign < 0.0 or not rate_pa_m3_s > 0.0:
            return math.inf
        return MAX_DECAY_FRACTION * self.level_pa * self.volume_m3 / rate_pa_m3_s

    def gauge_noise_at(self, pressure_pa: float) -> float:
        """The gauge's white noise (1 σ, Pa) at ``pressure_pa``."""
        return math.hypot(self.gauge_noise_pa, self.gauge_noise_relative * abs(pressure_pa))


@dataclass(frozen=True)
class Forecast:
    """How a test of one duration is expected to come out, with what went into it."""

    test: PlannedTest
    type_b: TypeB
    noise_pa: float  # the residual scatter of the pressure: the gauge's noise and its rounding
    temperature_noise_k: float
    rho: float  # the lag-1 autocorrelation of the residuals (the gauge's rounding)
    rho_effective: float  # what the fit's inflation amounts to on average (its estimate of rho is noisy)
    dof: float  # effective degrees of freedom of the verdict's t
    t_quantile: float
    pressure_pa: float


@dataclass(frozen=True)
class Plan:
    """The shortest decisive duration (None when none within the bound), and why."""

    setup: MeasurementSetup
    limit_pa_m3_s: float
    expected_pa_m3_s: float
    power: float
    confidence: float
    duration_s: float | None
    reason: str | None
    model: Forecast  # at ``duration_s``, or at the bound when there is none

    @property
    def expected_outcome(self) -> Outcome | None:
        """The verdict a decisive test gives on the expected leak (None for a leak at the limit)."""
        if self.expected_pa_m3_s == self.limit_pa_m3_s:
            return None
        return Outcome.PASS if self.expected_pa_m3_s < self.limit_pa_m3_s else Outcome.FAIL

    def achieved_power(self) -> float:
        """The probability, under the plan's model, that a test of the planned length decides."""
        return _power(self.model, self.expected_pa_m3_s, self.limit_pa_m3_s)

    def e2930(self) -> dict[str, float | bool]:
        """The E2930 resolution check at the planned (or bounding) duration."""
        required = E2930_FRACTION * self.limit_pa_m3_s
        resolution = self.model.test.test_resolution_pa_m3_s
        return {"test_resolution": resolution, "required": required, "met": resolution <= required}


# --- the model -----------------------------------------------------------------------------------


def quantisation_autocovariance(step_pa: float, noise_pa: float, drift_pa: float) -> float:
    """Lag-1 autocovariance (Pa²) of the rounding error of readings in steps of ``step_pa``.

    The reading moves by ``drift_pa`` per sample and carries white noise ``noise_pa`` before
    it is rounded. With the phase uniform over a step (a window spanning several steps), the
    rounding error's Fourier series gives Σₖ cos(2πkδ)·exp(−4π²k²s²)/(2π²k²) step², with δ and s
    the drift and the noise in steps. Without noise and drift it is the whole variance,
    step²/12 (a trace stuck on one digit); noise of half a step or more makes it white.
    """
    if not step_pa > 0.0:
        return 0.0
    delta = abs(drift_pa) / step_pa
    s = noise_pa / step_pa
    k = np.arange(1, SERIES_TERMS + 1, dtype=np.float64)
    terms = np.cos(2.0 * np.pi * k * delta) * np.exp(-4.0 * np.pi**2 * k**2 * s**2) / (2.0 * np.pi**2 * k**2)
    return float(np.sum(terms)) * step_pa**2


def forecast(setup: MeasurementSetup, duration_s: float, rate_pa_m3_s: float) -> Forecast:
    """How a test of ``duration_s`` on a leak of ``rate_pa_m3_s`` comes out, in the engine's terms."""
    type_b = setup.type_b(rate_pa_m3_s, duration_s)
    _, mean_p = setup.pressures(rate_pa_m3_s, duration_s)
    step = type_b.resolution_pa
    gauge = setup.gauge_noise_at(mean_p)
    # The rounding error is part of the residual scatter (step²/12), and the thermometer's own
    # rounding part of its noise.
    noise = math.hypot(gauge, step / math.sqrt(12.0))
    t_noise = 0.0
    if setup.compensated:
        t_noise = math.hypot(setup.thermometer_noise_k, type_b.temperature_resolution_k / math.sqrt(12.0))
    drift = rate_pa_m3_s * setup.sample_period_s / setup.volume_m3
    variance = noise**2 + (mean_p * t_noise / setup.temperature_k) ** 2
    cov = quantisation_autocovariance(step, gauge, drift)
    rho = min(max(cov / variance, 0.0), RHO_CAP) if variance > 0.0 else 0.0
    n = math.floor(duration_s / setup.sample_period_s) + 1
    seen = effective_rho(rho, n)
    test = planned_test(
        duration_s,
        rate_pa_m3_s=rate_pa_m3_s,
        volume_m3=setup.volume_m3,
        sample_period_s=setup.sample_period_s,
        noise_pa=noise,
        pressure_pa=mean_p,
        temperature_k=setup.temperature_k,
        type_b=type_b,
        compensated=setup.compensated,
        temperature_noise_k=t_noise,
        rho=seen,
    )
    # The engine's degrees of freedom (rig.analysis.linefit.interval_dof): those of its variance
    # estimate, whose noise counts the residual scatter's and that of its estimate of ρ.
    dof = interval_dof(rho, n) if n >= 3 else 1.0
    t_q = float(special.stdtrit(dof, CONFIDENCE))
    return Forecast(test, type_b, noise, t_noise, rho, seen, dof, t_q, mean_p)


def effective_rho(rho: float, n: int) -> float:
    """The autocorrelation whose AR(1) inflation is the one the fit applies on average.

    The fit estimates ρ from n residuals (without bias, spread about √((1 − ρ²)/n)) and
    inflates (or, for a negative estimate down to RHO_FLOOR, deflates) its error accordingly.
    Its error is √(SSE/((n_eff − 2)·S_tt)) with n_eff = n(1 − ρ̂)/(1 + ρ̂) (n_eff − 2 at least 1)
    (the compiled fit, rig._linfit), and SSE is about σ²·(n − 2I) for noise of
    inflation I = (1 + ρ)/(1 − ρ): the factor on σ/√S_tt is √((n − 2I)/(n_eff − 2)). The result,
    used as an AR(1) inflation, gives that factor's expectation.
    """
    if n < 3:
        return rho
    # Bartlett's spread with the exact small-sample factor of a line's residuals
    # (rig.analysis.linefit.lag1_variance_factor); the fit's bias correction divides the raw
    # estimate by 1 − 4/n (at most by 2), and so its spread.
    spread = math.sqrt(max(1.0 - rho * rho, 0.0) * lag1_variance_factor(n) / n) / max(1.0 - 4.0 / n, 0.5)
    r = np.clip(rho + spread * _NODES, RHO_FLOOR, RHO_CAP)
    samples = np.maximum(n * (1.0 - r) / (1.0 + r) - 2.0, 1.0)
    root = np.sqrt(_residual_samples(rho, n) / samples)
    factor = float(np.sum(_WEIGHTS * root) / np.sum(_WEIGHTS))
    # √((1 + ρ)/(1 − ρ)) = f  ⇔  ρ = (f² − 1)/(f² + 1)
    return min((factor * factor - 1.0) / (factor * factor + 1.0), RHO_CAP)


def _residual_samples(rho: float, n: int) -> float:
    """n − 2I: the residual sum of squares of a line through n samples of AR(1) noise of lag-1
    correlation ``rho``, in units of the noise's variance (the line takes 2I of them), at least 1."""
    inflation = (1.0 + rho) / (1.0 - rho) if rho > 0.0 else 1.0
    return max(n - 2.0 * inflation, 1.0)


def _confidence_for(model: Forecast) -> float:
    """The normal confidence whose quantile is the verdict's t, so that ``decisive`` judges as ``decide``."""
    return float(special.ndtr(model.t_quantile))


def _decides(model: Forecast, expected: float, limit: float, power: float) -> bool:
    return decisive(model.test, expected, limit, _confidence_for(model), power)


def _power(model: Forecast, expected: float, limit: float) -> float:
    """P(decisive) if the estimate scatters with the planned standard error (0 if E2930 refuses a pass)."""
    se = model.test.stderr_pa_m3_s
    if expected < limit and model.test.test_resolution_pa_m3_s > E2930_FRACTION * limit:
        return 0.0
    if not math.isfinite(se):
        return 0.0
    if se == 0.0:
        return 1.0
    return float(special.ndtr(abs(limit - expected) / se - model.t_quantile))


def decides_at(
    setup: MeasurementSetup,
    duration_s: float,
    limit_pa_m3_s: float,
    expected_pa_m3_s: float,
    power: float = POWER,
) -> bool:
    """Whether a test of ``duration_s`` decides ``expected`` against the limit with ``power``.

    At least :data:`MIN_PLANNED_SAMPLES` samples; a limit the validator accepts over
    ``duration_s`` (:meth:`MeasurementSetup.refusal`, whichever side the expected leak is on);
    and a pass must meet E2930 one sample period short of ``duration_s``: on a wall clock the
    window's last sample may fall up to a period before the step ends, and the engine judges
    the resolution over the window's span.
    """
    period = setup.sample_period_s
    if math.floor(duration_s / period + 1e-9) + 1 < MIN_PLANNED_SAMPLES:
        return False
    if setup.refusal(limit_pa_m3_s, duration_s) is not None:
        return False
    model = forecast(setup, duration_s, expected_pa_m3_s)
    if not _decides(model, expected_pa_m3_s, limit_pa_m3_s, power):
        return False
    if expected_pa_m3_s >= limit_pa_m3_s:
        return True
    shorter = forecast(setup, duration_s - period, expected_pa_m3_s)
    return shorter.test.test_resolution_pa_m3_s <= E2930_FRACTION * limit_pa_m3_s


def _round_up(duration_s: float, period_s: float) -> float:
    """A whole number of sample periods: the engine's window spans ⌊D/Δt⌋·Δt, so less would fall short."""
    return math.ceil(duration_s / period_s - 1e-9) * period_s


def plan_duration(
    setup: MeasurementSetup,
    limit_pa_m3_s: float,
    expected_pa_m3_s: float | None = None,
    power: float = POWER,
    *,
    max_duration_s: float = MAX_DURATION_S,
    bounded_by: str = "",
) -> Plan:
    """The shortest test that decides ``expected`` (default: half the limit) against the limit.

    Doubling from :data:`MIN_DURATION_S` (or :data:`MIN_PLANNED_SAMPLES` samples) until decisive,
    then bisection to 1 %, rounded up to whole sample periods. When even ``max_duration_s`` (or
    the time a decay takes to lose :data:`MAX_DECAY_FRACTION` of its pressure) cannot decide,
    the plan has ``duration_s`` None and a ``reason``; ``bounded_by`` says why ``max_duration_s``
    is what it is when something other than :data:`MAX_DURATION_S` set it (the procedure's bounds).
    """
    if not (limit_pa_m3_s > 0.0 and math.isfinite(limit_pa_m3_s)):
        raise InputError(f"the limit must be a positive leak rate, got {limit_pa_m3_s} Pa·m³/s")
    expected = limit_pa_m3_s / 2.0 if expected_pa_m3_s is None else expected_pa_m3_s
    if not (expected >= 0.0 and math.isfinite(expected)):
        raise InputError(f"the expected leak rate must be zero or positive, got {expected} Pa·m³/s")
    if not 0.5 <= power < 1.0:
        raise InputError(f"the power must be at least 0.5 and below 1, got {power:g}")

    def plan(duration: float | None, reason: str | None, at: float) -> Plan:
        model = forecast(setup, at, expected)
        return Plan(setup, limit_pa_m3_s, expected, power, CONFIDENCE, duration, reason, model)

    def ok(duration: float) -> bool:
        return decides_at(setup, duration, limit_pa_m3_s, expected, power)

    # Rounded down: a bound set by the procedure's limits must not be passed by rounding.
    bound = max(math.floor(max_duration_s / setup.sample_period_s + 1e-9), 1) * setup.sample_period_s
    decay_limit = setup.decay_limit_s(expected)
    drained = f"{bounded_by}; " if bounded_by else ""
    if decay_limit < bound:
        bound = max(math.floor(decay_limit / setup.sample_period_s), 2) * setup.sample_period_s
        drained = (
            f"the expected leak lowers the pressure by {MAX_DECAY_FRACTION:.0%} in {bound:g} s, after which "
            "a straight-line decay no longer describes it; "
        )
    if expected == limit_pa_m3_s:
        return plan(None, "the expected leak equals the limit: no test can decide it", bound)
    # Doubling from below, not a look at the bound first: a rise climbs into coarser gauge digits
    # and larger p/T terms as it lengthens, so deciding is not monotonic in the duration there.
    lo = 0.0
    hi = min(max(MIN_DURATION_S, (MIN_PLANNED_SAMPLES - 1) * setup.sample_period_s), bound)
    while not ok(hi):
        if hi >= bound:
            return plan(None, _why_not(setup, expected, limit_pa_m3_s, power, bound, drained), bound)
        lo, hi = hi, min(2.0 * hi, bound)
    # To one sample period, not a relative tolerance: the plan is the shortest whole number of
    # periods that decides (a 1 % bracket left plans up to 1 % long, and a check of "a few periods
    # shorter" then found them decisive too). About 22 halvings for a 30-day bound at 1 s.
    while hi - lo > setup.sample_period_s:
        mid = (lo + hi) / 2.0
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    duration = min(_round_up(hi, setup.sample_period_s), bound)
    # Rounding up may have passed a whole period that already decides.
    if duration - setup.sample_period_s > lo and ok(duration - setup.sample_period_s):
        duration -= setup.sample_period_s
    # Rounding up only lengthens; the check guards the step changes of a rise (a coarser digit).
    while not ok(duration):
        if duration >= bound:
            return plan(None, _why_not(setup, expected, limit_pa_m3_s, power, bound, drained), bound)
        duration = min(duration + setup.sample_period_s, bound)
    return plan(duration, None, duration)


def _why_not(
    setup: MeasurementSetup, expected: float, limit: float, power: float, bound: float, drained: str
) -> str:
    """Why a test of ``bound`` (the longest considered) still cannot decide.

    ``drained`` says why the bound is what it is when the decay, not the clock, set it; it is
    left out when no duration could decide anyway.
    """
    model = forecast(setup, bound, expected)
    test = model.test
    gap = abs(limit - expected)
    z = model.t_quantile + float(special.ndtri(power))
    # The terms that a longer test does not reduce: relative calibrations, the gauge's zero drift
    # (a rate), and an unmeasured drift of the gas temperature.
    fixed = {"volume", "gauge_calibration", "zero_drift"} | (set() if setup.compensated else {"temperature"})
    floor = math.sqrt(sum(u * u for name, u in test.terms.items() if name in fixed))
    if setup.compensated:
        floor = math.hypot(floor, expected * model.type_b.temperature_k / setup.temperature_k)
    if z * floor >= gap:
        return (
            f"the Type-B terms a longer test does not reduce ({floor:.3g} Pa·m³/s: volume, gauge and "
            "thermometer calibration, the gauge's zero drift, temperature drift) alone exceed what "
            "deciding needs "
            f"({gap / z:.3g} Pa·m³/s for a gap of {gap:.3g} Pa·m³/s to the limit)"
        )
    span = f"{bound / 86400.0:.3g} days" if bound >= 86400.0 else f"{bound:g} s"
    if math.floor(bound / setup.sample_period_s + 1e-9) + 1 < MIN_PLANNED_SAMPLES:
        return f"{drained}{span} holds fewer than {MIN_PLANNED_SAMPLES} samples, too few to plan on"
    if expected < limit and test.test_resolution_pa_m3_s > E2930_FRACTION * limit:
        return (
            f"{drained}even {span} resolves only {test.test_resolution_pa_m3_s:.3g} Pa·m³/s, more than a "
            f"tenth of the limit ({E2930_FRACTION * limit:.3g} Pa·m³/s, ASTM E2930): a pass could not "
            "be certified"
        )
    # The validator's rule is weaker than E2930's (a tenth of the limit) but binds a FAIL too.
    refused = setup.refusal(limit, bound)
    if refused is not None:
        return f"{drained}even at the longest, {refused}"
    return (
        f"{drained}even {span} leaves a standard uncertainty of {test.stderr_pa_m3_s:.3g} Pa·m³/s, more "
        f"than deciding needs ({gap / z:.3g} Pa·m³/s for a gap of {gap:.3g} Pa·m³/s to the limit)"
    )
