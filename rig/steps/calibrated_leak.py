"""Opening a calibrated leak into a volume and fitting its rate: what the steps that use one share.

``reference_leak_check`` (the bench checked against a leak standard) and ``verification_leak``
(a measurement vouched for by the leak it must see) both open a valve with a certificate on the
bench (``reference_leaks:``), wait for the flow to settle, fit the volume's pressure with the
leak open, judge isolation while it is still open, and close it again; both compare a
difference of two rates with the certificate, with the terms that scale both fits alike
(volume, gauge span) entered once, on the difference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rig.bench_calibrations import ReferenceLeak
from rig.engine.measurements import Measurement, UncertaintyBudget
from rig.engine.measuring import Fitted
from rig.engine.type_b import type_b_for
from rig.outcome import Outcome
from rig.steps.context import StepContext


@dataclass(frozen=True)
class OpenedLeak:
    """The fit of a volume with a calibrated leak open, and what judging it against the certificate needs."""

    fitted: Fitted
    window: tuple[float, float]
    isolation_refusal: str | None  # why the volume was not shown isolated while the leak was open
    correlated: dict[str, float]  # the relative terms that scale every fit on this channel alike, by name
    certificate: ReferenceLeak | None

    @property
    def correlated_rel(self) -> float:
        """The correlated relative terms in quadrature."""
        return math.hypot(*self.correlated.values())

    @property
    def certificate_rel(self) -> float:
        """The certificate's relative standard uncertainty (0 without one)."""
        return self.certificate.uncertainty_rel if self.certificate is not None else 0.0

    @property
    def certificate_name(self) -> str | None:
        """The certificate's number, when the bench names one."""
        return self.certificate.certificate if self.certificate is not None else None


def fit_with_leak_open(
    ctx: StepContext,
    name: str,
    valve: str,
    channel: str,
    volume: str,
    duration_s: float,
    settle_s: float | None,
    sign: float,
) -> OpenedLeak:
    """Open ``valve``, settle (a valve response unless ``settle_s``), fit ``duration_s``, close it."""
    ctx.set_valves({valve: True})
    ctx.hold(settle_s if settle_s is not None else ctx.bench.valve_response_s)
    fitted, window = ctx.fit_hold(name, channel, volume, duration_s, None, sign)
    # Judged while the standard is still open: the volume's other valves must be shut.
    isolation = ctx.isolated(Measurement(outcome=Outcome.PASS), (volume,))
    ctx.set_valves({valve: False})
    type_b = type_b_for(ctx.bench, channel, (volume,), None, 0.0)
    return OpenedLeak(
        fitted,
        window,
        isolation.refusal,
        {"volume": type_b.volume_rel, "gauge_calibration": type_b.gauge_rel},
        ctx.bench.reference_leaks.get(valve),
    )


# The terms of each window's own budget that differ between the two windows.
WINDOW_TERMS = ("fit", "resolution", "temperature", "zero_drift")


def with_difference_budget(
    entry: Measurement,
    windows: Sequence[Mapping[str, float | None]],
    opened: OpenedLeak,
    certified_rate_pa_m3_s: float,
) -> Measurement:
    """``entry`` (a difference of two windows' rates) with its budget by term: each window's own
    terms in quadrature, the correlated ones once on the difference, the standard's certificate
    (``reference_leak``); combined, the entry's standard uncertainty."""
    measured = entry.value_pa_m3_s or 0.0
    terms = {t: math.hypot(*((w.get(t) or 0.0) for w in windows)) for t in WINDOW_TERMS}
    terms |= {t: abs(measured) * rel for t, rel in opened.correlated.items()}
    terms["reference_leak"] = opened.certificate_rel * certified_rate_pa_m3_s
    return replace(entry, uncertainty=UncertaintyBudget(terms, entry.stderr_pa_m3_s))
