"""PASS / FAIL / INCONCLUSIVE from confidence bounds, never from the point estimate.

PASS only when the one-sided upper bound is at or below the limit, FAIL only when the
one-sided lower bound is above it; anything else is INCONCLUSIVE, with an estimate of
how much longer the test must run. A short test on a small leak is not evidence of no
leak (June 2025, ISS PrK): this module will not call it tight. Nor is a zero standard
uncertainty a bound: a trace with no scatter and no known resolution is INCONCLUSIVE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from rig.analysis.decay import DecayFit
from rig.analysis.linefit import MIN_JUDGED_SAMPLES
from rig.errors import InputError
from rig.outcome import Outcome

ZERO_UNCERTAINTY = (
    "no uncertainty: the trace shows no scatter and its resolution is unknown, so no confidence "
    "bound can be claimed (give the gauge's resolution)"
)


def too_few_samples(n: int) -> str:
    """Why a window of ``n`` samples gets no verdict (see :data:`rig.analysis.linefit.MIN_JUDGED_SAMPLES`)."""
    return (
        f"{n} samples: a verdict needs at least {MIN_JUDGED_SAMPLES}, from fewer the noise's correlation "
        "cannot be told from white noise and the bounds are not calibrated (test longer or sample faster)"
    )


# Probability that a rerun of the suggested length is decisive, if the estimate is right.
POWER = 0.9


# The outcome of comparing a leak rate with its limit: PASS, FAIL or INCONCLUSIVE of the project's
# one vocabulary (a decision is never MEASURED nor ABORTED).
Verdict = Outcome


@dataclass(frozen=True)
class Decision:
    """A verdict with the numbers behind it (Pa·m³/s)."""

    verdict: Verdict
    limit_pa_m3_s: float
    upper_bound_pa_m3_s: float
    lower_bound_pa_m3_s: float
    confidence: float
    additional_time_s: float | None  # for INCONCLUSIVE: further test time at the same rate
    refusal: str | None = None  # why the bounds were not taken at their word, if they were not


def decide(fit: DecayFit, limit_pa_m3_s: float, confidence: float = 0.95) -> Decision:
    """Compare ``fit`` with ``limit_pa_m3_s`` using one-sided bounds at ``confidence``."""
    if not limit_pa_m3_s > 0.0 or not math.isfinite(limit_pa_m3_s):
        raise InputError(f"the limit must be a positive leak rate, got {limit_pa_m3_s} Pa·m³/s")
    upper = fit.upper_bound(confidence)
    lower = fit.lower_bound(confidence)
    if not fit.stderr_pa_m3_s > 0.0:
        # The bounds sit on the estimate: nothing, not even one step of the gauge, says how far
        # the truth may be from it. A flat trace of an unknown gauge is not a tight volume.
        return Decision(Verdict.INCONCLUSIVE, limit_pa_m3_s, upper, lower, confidence, None, ZERO_UNCERTAINTY)
    if fit.n < MIN_JUDGED_SAMPLES:
        # The interval is still reported (it over-covers there, VALIDATION.md); a verdict is not
        # taken from it. The same rate of sampling reaches the minimum after this much more time.
        duration = fit.line.duration
        extra = None
        if fit.n > 1 and duration > 0.0:
            extra = duration * (MIN_JUDGED_SAMPLES - 1) / (fit.n - 1) - duration
        return Decision(
            Verdict.INCONCLUSIVE, limit_pa_m3_s, upper, lower, confidence, extra, too_few_samples(fit.n)
        )
    if upper <= limit_pa_m3_s:
        verdict = Verdict.PASS
    elif lower > limit_pa_m3_s:
        verdict = Verdict.FAIL
    else:
        verdict = Verdict.INCONCLUSIVE
    extra = None
    if verdict is Verdict.INCONCLUSIVE:
        extra = _additional_time(fit, limit_pa_m3_s, confidence)
    return Decision(verdict, limit_pa_m3_s, upper, lower, confidence, extra)


def _additional_time(fit: DecayFit, limit: float, confidence: float, power: float = POWER) -> float | None:
    """Further test time after which the bound clears the limit with probability ``power``.

    Assumes the true leak equals the estimate; a decisive test then needs
    |Q − limit| ≥ (t_conf + z_power)·SE (the usual power calculation). With uniform
    sampling the slope's standard error falls as T^(−3/2), so the time needed scales as
    (SE / SE_needed)^(2/3). None when the estimate sits on the limit.
    """
    gap = abs(fit.leak_rate_pa_m3_s - limit)
    se = fit.stderr_pa_m3_s
    duration = fit.line.duration
    if gap == 0.0 or not se > 0.0 or not duration > 0.0:
        return None
    needed_se = gap / (fit.line.t_quantile(confidence) + float(special.ndtri(power)))
    total = duration * float((se / needed_se) ** (2.0 / 3.0))
    return max(total - duration, 0.0)
