"""What two zero checks of one gauge say about the measurements taken between them.

A zero check (:mod:`rig.steps.zero_check`) reads a gauge against a known pressure and finds its
offset (the zero) with a standard uncertainty. Two checks of one gauge bound the zero's mean
drift rate between them: r = Δzero/Δt, u(r) = √(u₁² + u₂²)/Δt (the checks' own uncertainties,
reference included, independent). A measurement fitted between them is amended:

* a drift beyond the gauge's declared stability (|r| − 2·u(r) above the declared bound, k = 2)
  makes it INCONCLUSIVE, the drift named in its ``refusal`` (after any refusal it had): its rate
  may be the zero's, not the gas's;
* otherwise its ``zero_drift`` term becomes the larger of the declared one, V·bound/√3, and
  the observed one, V·(|r| + 2·u(r))/√3 (what the checks allow at k = 2, rectangular like the
  declared bound). The checks see only the mean drift between them, so they can show the zero
  was worse than declared, never better: the declared term is never lowered. A grown term widens
  the bounds, the verdict is taken again from them (and E2930 with the observed apparent rate in
  the resolution), so a verdict can only become less decisive.

A check that read nothing usable (a gauge under its range at vacuum: its zero fell below it)
bounds nothing: a measurement between it and its partner is INCONCLUSIVE, and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from rig.analysis.budget import E2930_FRACTION, SQRT3
from rig.engine.measurements import reference_outcome
from rig.outcome import Outcome
from rig.record.measurement import E2930, Measurement, UncertaintyBudget

# Coverage of the observed drift: a drift is "beyond" the declared bound only beyond k = 2 of the
# checks' uncertainty, so a gauge within its stability is not refused 1 run in 6.
COVERAGE_K = 2.0
ZERO_DRIFT = "zero drift"


@dataclass(frozen=True)
class ZeroReading:
    """One zero check: the gauge's offset from the reference (None: it read nothing usable)."""

    channel: str
    against: str
    t_s: float
    offset_pa: float | None
    uncertainty_pa: float  # standard (k = 1), the reference's included
    n: int

    def to_json(self) -> dict[str, Any]:
        """The check as ``results.json`` lists it under ``zero_checks``."""
        return {
            "channel": self.channel,
            "against": self.against,
            "t_s": self.t_s,
            "offset_pa": self.offset_pa,
            "uncertainty_pa": self.uncertainty_pa,
            "n": self.n,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ZeroReading:
        """A check written by :meth:`to_json`."""
        offset = value.get("offset_pa")
        return cls(
            str(value["channel"]),
            str(value["against"]),
            float(value["t_s"]),
            None if offset is None else float(offset),
            float(value["uncertainty_pa"]),
            int(value["n"]),
        )


@dataclass(frozen=True)
class ObservedDrift:
    """The zero's mean drift between two checks, Pa/s, and its standard uncertainty."""

    channel: str
    since_s: float
    until_s: float
    change_pa: float
    rate_pa_s: float
    uncertainty_pa_s: float

    def beyond(self, declared_pa_s: float) -> bool:
        """Whether the drift is beyond ``declared_pa_s`` by more than the checks' uncertainty (k = 2)."""
        return abs(self.rate_pa_s) - COVERAGE_K * self.uncertainty_pa_s > declared_pa_s

    @property
    def bound_pa_s(self) -> float:
        """The fastest mean drift the checks allow (k = 2)."""
        return abs(self.rate_pa_s) + COVERAGE_K * self.uncertainty_pa_s


def observed_drift(first: ZeroReading, second: ZeroReading) -> ObservedDrift | None:
    """The drift between two checks of one gauge; None when either read nothing usable."""
    elapsed = second.t_s - first.t_s
    if first.offset_pa is None or second.offset_pa is None or not elapsed > 0.0:
        return None
    change = second.offset_pa - first.offset_pa
    u_rate = math.hypot(first.uncertainty_pa, second.uncertainty_pa) / elapsed
    return ObservedDrift(first.channel, first.t_s, second.t_s, change, change / elapsed, u_rate)


def between(entry: Measurement, first: ZeroReading, second: ZeroReading) -> bool:
    """Whether ``entry`` was fitted on the checks' gauge within the time between them."""
    window = entry.window_s
    return (
        entry.channel == first.channel
        and window is not None
        and first.t_s <= window[0]
        and window[1] <= second.t_s
    )


def amended(
    entry: Measurement,
    drift: ObservedDrift | None,
    first: ZeroReading,
    second: ZeroReading,
    volume_m3: float,
    declared_pa_s: float,
) -> Measurement:
    """``entry`` as the checks ``first`` and ``second`` leave it (see the module's docstring)."""
    if drift is None:
        failed = first if first.offset_pa is None else second
        return _refused(
            entry,
            f"{ZERO_DRIFT}: the zero check of {failed.channel} against {failed.against} at "
            f"t = {failed.t_s:.0f} s read nothing usable (under its range: its zero may have fallen "
            "below it), so the zero's drift over this measurement is not bounded",
        )
    if drift.beyond(declared_pa_s):
        per_h = 3600.0
        return _refused(
            entry,
            f"{ZERO_DRIFT}: {drift.channel}'s zero moved {drift.change_pa:+.3g} Pa between the zero checks "
            f"at t = {drift.since_s:.0f} s and {drift.until_s:.0f} s ({drift.rate_pa_s * per_h:+.3g} Pa/h "
            f"± {COVERAGE_K * drift.uncertainty_pa_s * per_h:.2g} Pa/h at k = 2), beyond its declared "
            f"stability of {declared_pa_s * per_h:.3g} Pa/h: it fakes or hides a leak of up to "
            f"{volume_m3 * abs(drift.rate_pa_s):.3g} Pa·m³/s; check the gauge and repeat",
        )
    return _widened(entry, volume_m3 * max(drift.bound_pa_s, declared_pa_s), volume_m3 * declared_pa_s)


def _refused(entry: Measurement, why: str) -> Measurement:
    """``entry`` INCONCLUSIVE for ``why`` (after any refusal it already has): whatever its bounds say,
    they rest on a zero that moved more than they allow for."""
    return entry.withdrawn(why if entry.refusal is None else f"{entry.refusal}; {why}")


def _widened(entry: Measurement, apparent_pa_m3_s: float, declared_pa_m3_s: float) -> Measurement:
    """``entry`` with a ``zero_drift`` term of ``apparent/√3`` if that is larger, its bounds and verdict
    taken again (only ever less decisive)."""
    budget = entry.uncertainty
    value, stderr = entry.value_pa_m3_s, entry.stderr_pa_m3_s
    if budget is None or value is None or stderr is None or not stderr > 0.0:
        return entry
    old = budget.terms.get("zero_drift") or 0.0
    term = apparent_pa_m3_s / SQRT3
    if not term > old:
        return entry
    terms = {**budget.terms, "zero_drift": term}
    combined = math.sqrt(max(stderr**2 - old**2, 0.0) + term**2)
    type_b = entry.stderr_type_b_pa_m3_s
    widened = replace(
        entry,
        uncertainty=UncertaintyBudget(terms, combined),
        stderr_pa_m3_s=combined,
        stderr_type_b_pa_m3_s=None if type_b is None else math.sqrt(max(type_b**2 - old**2, 0.0) + term**2),
    )
    if entry.reference is not None:
        return _reference_verdict(widened, entry)
    return _decay_verdict(widened, entry, value, apparent_pa_m3_s, declared_pa_m3_s)


def _decay_verdict(
    widened: Measurement, entry: Measurement, value: float, apparent: float, declared: float
) -> Measurement:
    """The bounds widened by the same coverage factor as before, and the verdict taken from them."""
    stderr, combined = entry.stderr_pa_m3_s or 0.0, widened.stderr_pa_m3_s or 0.0
    if entry.ucl95_pa_m3_s is not None and entry.lcl95_pa_m3_s is not None:
        k = (entry.ucl95_pa_m3_s - value) / stderr
        widened = replace(widened, ucl95_pa_m3_s=value + k * combined, lcl95_pa_m3_s=value - k * combined)
    limit = entry.limit_pa_m3_s
    if limit is None or entry.outcome is None or not entry.outcome.decisive:
        return widened
    check = entry.e2930
    if check is not None and check.test_resolution_pa_m3_s is not None:
        resolution = math.sqrt(max(check.test_resolution_pa_m3_s**2 - declared**2, 0.0) + apparent**2)
        met = resolution <= E2930_FRACTION * limit
        widened = replace(widened, e2930=E2930(resolution, check.required_pa_m3_s, met))
    upper, lower = widened.ucl95_pa_m3_s, widened.lcl95_pa_m3_s
    if upper is not None and upper <= limit and entry.outcome is Outcome.PASS:
        if widened.e2930 is not None and widened.e2930.met is False:
            return widened.withdrawn(
                f"{ZERO_DRIFT}: the zero's drift the checks allow ({apparent:.3g} Pa·m³/s apparent) with "
                f"the gauge's steps resolves only {widened.e2930.test_resolution_pa_m3_s:.3g} Pa·m³/s, more "
                f"than a tenth of the limit (ASTM E2930): a pass cannot be certified"
            )
        return widened
    if lower is not None and lower > limit and entry.outcome is Outcome.FAIL:
        return widened
    # The wider bounds straddle the limit: no verdict, and no test time would decide it.
    return replace(widened, outcome=Outcome.INCONCLUSIVE, additional_time_s=None)


def _reference_verdict(widened: Measurement, entry: Measurement) -> Measurement:
    """A reference-leak check judged again (k = 2 interval against the certificate's tolerance)."""
    reference = entry.reference
    assert reference is not None
    certified, tolerance = reference.certified_pa_m3_s, reference.tolerance_relative
    if certified is None or tolerance is None or entry.outcome is None or not entry.outcome.decisive:
        return widened
    # Wider bounds can only take a decision back, never make another one.
    again = reference_outcome(entry.value_pa_m3_s or 0.0, widened.stderr_pa_m3_s or 0.0, certified, tolerance)
    return widened if again is entry.outcome else replace(widened, outcome=Outcome.INCONCLUSIVE)
