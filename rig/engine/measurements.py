"""Turning fits into measurements: a value with its unit, uncertainty, limit and outcome.

The engine's measurements are :class:`rig.record.measurement.Measurement` objects, which
``results.json`` and ``rig run --json`` report under ``measurements``: a value, its unit and
an outcome (PASS, FAIL, INCONCLUSIVE, or MEASURED when there is no limit), with the fit's
window and line so a plot can draw what was fitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from rig.analysis import DecayFit, decide
from rig.analysis.budget import Budget, uncertainty_budget, with_budget
from rig.analysis.mastering import subtract_offset, with_offset_term
from rig.analysis.resolution import unresolved
from rig.bench import BenchSpec
from rig.engine.type_b import type_b_for
from rig.outcome import Outcome
from rig.record.measurement import E2930, Comparison, FitLine, ReferenceLeak

# Re-exported: the steps take their measurements from here, never from the record above them.
from rig.record.measurement import Measurement as Measurement
from rig.record.measurement import UncertaintyBudget as UncertaintyBudget
from rig.units import T_TWENTY_C_K

# Coverage factor of the reference-leak comparison (GUM's k = 2, about 95 %).
COVERAGE_K = 2.0


def with_type_b(
    fit: DecayFit,
    bench: BenchSpec,
    channel: str,
    volumes: tuple[str, ...],
    temperature_channel: str | None,
    pressures: np.ndarray,
    temperatures: np.ndarray | None = None,
    *,
    offset: tuple[float, float] | None = None,
) -> tuple[DecayFit, Budget]:
    """``fit`` with the bench's Type-B terms folded into its uncertainty, and the budget.

    The gauge's step is taken at the highest pressure of the window (the coarsest printed
    digit); p/T for the temperature terms at the window's means (its magnitude: a differential
    reading may be negative). ``offset`` (rate, standard uncertainty in Pa·m³/s) is a master's
    apparent rate, subtracted, with its uncertainty a term of the budget
    (:mod:`rig.analysis.mastering`).
    """
    if offset is not None:
        fit = subtract_offset(fit, offset[0])
    finite = finite_part(pressures)
    top = largest_magnitude(finite) if finite.size else 0.0
    mean_p = abs(float(np.mean(finite))) if finite.size else 0.0
    mean_t = T_TWENTY_C_K
    if temperatures is not None and np.isfinite(temperatures).any():
        mean_t = float(np.nanmean(temperatures))
    type_b = type_b_for(bench, channel, volumes, temperature_channel, top)
    budget = uncertainty_budget(fit, type_b, mean_p, mean_t, compensated=temperatures is not None)
    if offset is not None:
        budget = with_offset_term(budget, offset[1])
    return with_budget(fit, budget), budget


def finite_part(values: np.ndarray) -> np.ndarray:
    """``values`` without its dropouts (NaN) and infinities: ``values`` itself when it has none.

    A day's window is 7 MB a column: what has nothing to leave out is not copied.
    """
    usable = np.isfinite(values)
    return values if bool(usable.all()) else values[usable]


def largest_magnitude(values: np.ndarray) -> float:
    """The largest ``|v|`` of ``values`` (not empty), without the array ``np.abs`` would make."""
    return max(abs(float(np.max(values))), abs(float(np.min(values))))


# A rate this surely of the wrong sign (one-sided; about 3 standard uncertainties) means the
# volume is not sealed off. 3σ rather than 2σ: a tight volume must not be refused 1 run in 40.
WRONG_WAY_CONFIDENCE = 0.9987
NOT_ISOLATED = "not isolated"


def decay_entry(
    fit: DecayFit,
    channel: str,
    window_s: tuple[float, float],
    sign: float,
    limit: float | None,
    compensated: bool,
    budget: Budget | None = None,
    *,
    sealed: bool = True,
) -> Measurement:
    """A decay (or, with ``sign`` −1, rise) fit as a measurement against ``limit``.

    ``sign`` is the factor the pressures were multiplied by before fitting; the line is
    recorded in pressure coordinates either way. ``sealed``: the fitted quantity cannot go
    the wrong way unless something feeds or pumps the volume (a PASS that surely does is
    refused); a tight master's differential reading may (:mod:`rig.steps.master_differential`).
    """
    measured = Measurement(
        value_pa_m3_s=fit.leak_rate_pa_m3_s,
        stderr_pa_m3_s=fit.stderr_pa_m3_s,
        stderr_type_b_pa_m3_s=fit.type_b_pa_m3_s,
        ucl95_pa_m3_s=fit.upper_bound(0.95),
        lcl95_pa_m3_s=fit.lower_bound(0.95),
        n=fit.n,
        channel=channel,
        window_s=(window_s[0], window_s[1]),
        line=FitLine(
            t0_s=fit.line.t0,
            intercept_pa=sign * (fit.line.y0 + fit.line.intercept_rel),
            slope_pa_s=sign * fit.line.slope,
            compensated_to_k=fit.t_ref_k if compensated else None,
        ),
        uncertainty=None if budget is None else UncertaintyBudget(dict(budget.terms), budget.combined),
        outcome=Outcome.MEASURED,
    )
    if limit is None:
        return measured
    decision = decide(fit, limit)
    judged = replace(
        measured,
        outcome=decision.verdict,
        limit_pa_m3_s=limit,
        additional_time_s=decision.additional_time_s,
        refusal=decision.refusal,
    )
    if budget is not None:
        e2930 = budget.e2930(limit)
        resolution, required = float(e2930["test_resolution"]), float(e2930["required"])
        judged = replace(judged, e2930=E2930(resolution, required, bool(e2930["met"])))
        # A pass this test cannot resolve is no pass: E2930 asks for a tenth of the limit.
        resolved = unresolved(decision, fit, e2930)
        if resolved is not decision:
            judged = replace(
                judged,
                outcome=resolved.verdict,
                additional_time_s=resolved.additional_time_s,
                refusal=resolved.refusal,
            )
    if sealed and judged.outcome is Outcome.PASS and fit.upper_bound(WRONG_WAY_CONFIDENCE) < 0.0:
        # A sealed volume cannot gain gas in a decay nor lose it in a rise. If it surely does,
        # it is not sealed off: something still feeds or pumps it, which hides any leak.
        return judged.withdrawn(wrong_way(sign, fit.leak_rate_pa_m3_s))
    return judged


def wrong_way(sign: float, rate: float) -> str:
    """Why a measurement whose pressure went the wrong way beyond its uncertainty proves nothing."""
    if sign > 0:
        went, cause = "rose", "something still feeds it (a supply valve not shut) or it is still warming"
    else:
        went, cause = "fell", "something still pumps it (a pump valve not shut) or it is still cooling"
    return (
        f"{NOT_ISOLATED}: the pressure {went} during the measurement ({rate:.3g} Pa·m³/s the wrong way, "
        f"beyond its uncertainty); {cause}, which would hide any leak"
    )


def reference_leak_entry(
    with_leak: DecayFit,
    background: DecayFit,
    certified: float,
    tolerance_relative: float,
    *,
    correlated_rel: float = 0.0,
    certificate_rel: float = 0.0,
    channel: str | None = None,
    window_s: tuple[float, float] | None = None,
    certificate: str | None = None,
) -> Measurement:
    """The calibrated leak's rate (with it open minus without) against its certificate.

    The two fits' own uncertainties are independent and add in quadrature; what scales both
    alike (the volume, the gauge's span: ``correlated_rel``) scales their difference, and the
    certificate's own uncertainty (``certificate_rel``) widens the comparison. PASS when the
    whole k = 2 interval lies within ``certified`` ± ``tolerance_relative``; FAIL when the
    whole interval lies outside it; INCONCLUSIVE otherwise. The leak may flow into the
    volume (a rise) or out of it: its size is what the certificate states. ``channel``,
    ``window_s`` (of the fit with the leak open) and the standard's ``certificate`` are
    recorded with it.
    """
    measured = abs(with_leak.leak_rate_pa_m3_s - background.leak_rate_pa_m3_s)
    stderr = difference_stderr(
        with_leak.stderr_pa_m3_s,
        background.stderr_pa_m3_s,
        measured,
        certified,
        correlated_rel=correlated_rel,
        certificate_rel=certificate_rel,
    )
    outcome = reference_outcome(measured, stderr, certified, tolerance_relative)
    return Measurement(
        value_pa_m3_s=measured,
        stderr_pa_m3_s=stderr,
        outcome=outcome,
        reference=ReferenceLeak(
            certified_pa_m3_s=certified,
            tolerance_relative=tolerance_relative,
            deviation_relative=(measured - certified) / certified,
            background_pa_m3_s=background.leak_rate_pa_m3_s,
            certificate=certificate,
        ),
        n=with_leak.n + background.n,
        channel=channel,
        window_s=window_s,
    )


def reference_outcome(measured: float, stderr: float, certified: float, tolerance_relative: float) -> Outcome:
    """A leak standard's measured rate against its certificate: PASS when the k = 2 interval lies
    within ``certified`` ± ``tolerance_relative``, FAIL when it lies wholly outside, else INCONCLUSIVE."""
    band = tolerance_relative * certified
    off = abs(measured - certified)
    if off + COVERAGE_K * stderr <= band:
        return Outcome.PASS
    if off - COVERAGE_K * stderr > band:
        return Outcome.FAIL
    return Outcome.INCONCLUSIVE


def difference_stderr(
    with_leak_u: float,
    background_u: float,
    measured: float,
    certified: float,
    *,
    correlated_rel: float,
    certificate_rel: float,
) -> float:
    """Standard uncertainty of a calibrated leak's rate seen as a difference of two fits.

    The fits' own parts (``with_leak_u``, ``background_u``: fit, steps, temperature) are
    independent and add in quadrature; what scales both fits alike (the volume, the gauge's span:
    ``correlated_rel``) scales their difference ``measured`` once; the certificate's own
    uncertainty (``certificate_rel``) widens the comparison with ``certified``.
    """
    return math.sqrt(
        with_leak_u**2
        + background_u**2
        + (correlated_rel * measured) ** 2
        + (certificate_rel * certified) ** 2
    )


def verification_entry(
    with_leak: DecayFit,
    before: Measurement,
    certified: float,
    *,
    correlated_rel: float,
    certificate_rel: float,
    channel: str | None,
    window_s: tuple[float, float] | None,
    certificate: str | None,
) -> Measurement:
    """Whether opening a calibrated leak raised ``before``'s rate by its certified rate.

    ``with_leak`` is the fit with the leak open, on the same channel and volume and in the same
    direction as ``before`` (its own Type-B part only: :func:`rig.engine.measuring.independent_part`);
    of ``before`` its fit, step and temperature terms count likewise. PASS when the rise lies
    within k = 2 combined uncertainties of the certified rate, FAIL when it does not: a set-up
    that does not show the leak cannot vouch for a tight part. The outcome is recorded with the
    numbers (``value`` the rise, ``background`` the rate before, ``deviation_relative``).
    """
    before_rate = _value(before)
    rise = with_leak.leak_rate_pa_m3_s - before_rate
    stderr = difference_stderr(
        with_leak.stderr_pa_m3_s,
        _independent(before),
        rise,
        certified,
        correlated_rel=correlated_rel,
        certificate_rel=certificate_rel,
    )
    shown = math.isfinite(stderr) and abs(rise - certified) <= COVERAGE_K * stderr
    return Measurement(
        value_pa_m3_s=rise,
        stderr_pa_m3_s=stderr,
        outcome=Outcome.PASS if shown else Outcome.FAIL,
        reference=ReferenceLeak(
            certified_pa_m3_s=certified,
            tolerance_relative=None,
            deviation_relative=(rise - certified) / certified,
            background_pa_m3_s=before_rate,
            certificate=certificate,
        ),
        n=with_leak.n,
        channel=channel,
        window_s=window_s,
    )


@dataclass(frozen=True)
class SegmentRate:
    """One segment's measured leak rate while the hatches were shut."""

    name: str
    entry: Measurement

    @property
    def rate(self) -> float:
        """Leak rate, Pa·m³/s (NaN sorts last)."""
        value = self.entry.value_pa_m3_s
        return value if value is not None and math.isfinite(value) else -math.inf

    @property
    def lower_bound(self) -> float:
        """One-sided 95 % lower bound on the leak rate, Pa·m³/s (NaN when there is none)."""
        bound = self.entry.lcl95_pa_m3_s
        return math.nan if bound is None else bound


def leaking_segment(rates: list[SegmentRate], has_limit: bool) -> str | None:
    """The segment to name: the worst one that fails its limit, or (no limit) leaks beyond doubt.

    ``rates`` must be ranked, worst first. Without a limit a segment is named only when
    its lower bound is above zero, so a quiet station names none.
    """
    for segment in rates:
        if has_limit and segment.entry.outcome is Outcome.FAIL:
            return segment.name
        if not has_limit and segment.lower_bound > 0.0:
            return segment.name
    return None


# The terms that differ between two measurements on one bench: volume and gauge span scale both
# alike and cancel in their ratio; a gauge's zero drifts its own way in each.
INDEPENDENT_TERMS = ("fit", "resolution", "temperature", "zero_drift")


def comparison(
    name: str, before_name: str, before: Measurement, after_name: str, after: Measurement
) -> Comparison:
    """The reduction factor before/after of two leak-rate measurements, with its 95 % interval.

    With both rates clearly above zero the interval is the usual log-normal one,
    R·exp(±1.96·u(ln R)) with u(ln R)² = (u_b/Q_b)² + (u_a/Q_a)² from the independent terms;
    otherwise it is bounded by the rates' own 95 % bounds (lcl_b/ucl_a up to infinity when
    the repaired leak may be nil), which is wider and never flatters the repair.
    """
    qb, qa = _value(before), _value(after)
    ub, ua = _independent(before), _independent(after)
    if qb > 0.0 and qa > 0.0 and qa - 1.96 * ua > 0.0 and qb - 1.96 * ub > 0.0:
        ratio = qb / qa
        u_ln = math.hypot(ub / qb, ua / qa)
        interval = (ratio * math.exp(-1.96 * u_ln), ratio * math.exp(1.96 * u_ln))
        return Comparison(name, before_name, after_name, ratio, interval)
    low = max(qb - 1.96 * ub, 0.0) / (qa + 1.96 * ua) if qa + 1.96 * ua > 0.0 else math.inf
    return Comparison(name, before_name, after_name, qb / qa if qa > 0.0 else math.inf, (low, math.inf))


def _value(measured: Measurement) -> float:
    return math.nan if measured.value_pa_m3_s is None else float(measured.value_pa_m3_s)


def _independent(measured: Measurement) -> float:
    budget = measured.uncertainty
    if budget is None or (not budget.terms and budget.combined is None):
        return math.nan if measured.stderr_pa_m3_s is None else float(measured.stderr_pa_m3_s)
    return math.sqrt(sum(float(budget.terms.get(t) or 0.0) ** 2 for t in INDEPENDENT_TERMS))
