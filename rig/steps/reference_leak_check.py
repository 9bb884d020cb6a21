"""``reference_leak_check``: measure a calibrated leak and compare it with its certificate.

The background is measured with the leak standard's valve closed, then the rate with it open;
their difference is the standard's rate as this bench sees it, compared with the certificate
(PASS when the k = 2 interval lies within the tolerance, FAIL when outside). The volume and
the gauge's span scale both fits alike, so they enter once, on the difference; the terms that
differ from one window to the next (the fit, the gauge's steps, the temperature, the gauge's
zero drift) enter for each window. The budget is recorded by term, as a decay's is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rig.bench import BenchSpec
from rig.engine.measurements import reference_leak_entry
from rig.engine.measuring import independent_part, steady
from rig.outcome import Outcome
from rig.steps.base import MeasuredWindow, Step
from rig.steps.calibrated_leak import fit_with_leak_open, with_difference_budget
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import CHANNEL_REF, FRACTION, LEAK_RATE, TEXT, TIME, VALVE_REF, VOLUME_REF, step_field

# How far a procedure's certified rate may differ from the bench's certificate (rounding only).
CERTIFIED_RATE_AGREEMENT = 5e-3


@dataclass(frozen=True, kw_only=True)
class ReferenceLeakCheck(Step):
    """Fit ``volume`` with ``valve`` closed, then open (after ``settle``); compare the difference."""

    kind: ClassVar[str] = "reference_leak_check"
    bound_field: ClassVar[str | None] = "duration"

    name: str = step_field("name", TEXT)
    valve: str = step_field("valve", VALVE_REF)
    channel: str = step_field("channel", CHANNEL_REF)
    volume: str = step_field("volume", VOLUME_REF)
    duration_s: float = step_field("duration", TIME)
    certified_rate_pa_m3_s: float = step_field("certified_rate", LEAK_RATE)
    tolerance_relative: float = step_field("tolerance_relative", FRACTION)
    settle_s: float | None = step_field("settle", TIME, optional=True)

    def check(self, ctx: CheckContext) -> None:
        """The certified rate must be what the leak standard's certificate on the bench says."""
        bench = ctx.bench
        leak = bench.reference_leaks.get(self.valve) if bench is not None and ctx.has("valve") else None
        if leak is None or not ctx.has("certified_rate_pa_m3_s"):
            return
        stated = self.certified_rate_pa_m3_s
        if abs(stated - leak.rate_pa_m3_s) > CERTIFIED_RATE_AGREEMENT * leak.rate_pa_m3_s:
            ctx.refuse(
                "certified_rate_pa_m3_s",
                f"certified_rate {stated:.4g} Pa·m³/s disagrees with certificate {leak.certificate} of "
                f"the leak behind {self.valve!r} ({leak.rate_pa_m3_s:.4g} Pa·m³/s)",
            )

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """Two windows and the settling between them (a valve response unless ``settle``)."""
        settle = self.settle_s if self.settle_s is not None else response_s
        total = 2.0 * self.duration_s + settle
        return total, total

    def relies_on(self, bench: BenchSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Its gauge, and the leak standard behind its valve."""
        return (self.channel,), (self.valve,)

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """Its gauge (both windows are fitted uncompensated)."""
        return (self.channel,)

    def measured_window(self, name: str) -> MeasuredWindow | None:
        """Its measurement's volume (uncompensated, a decay)."""
        return MeasuredWindow(self.volume, None, "decay") if name == self.name else None

    def run(self, ctx: StepContext) -> None:
        """Background, then with the standard open (judged while open); compared with the certificate."""
        valve, channel, name, volume = self.valve, self.channel, self.name, self.volume
        ctx.set_valves({valve: False})
        background, _ = ctx.fit_hold(f"{name} (background)", channel, volume, self.duration_s, None, 1.0)
        opened = fit_with_leak_open(ctx, name, valve, channel, volume, self.duration_s, self.settle_s, 1.0)
        with_leak = opened.fitted
        entry = reference_leak_entry(
            independent_part(with_leak.fit, with_leak.budget),
            independent_part(background.fit, background.budget),
            self.certified_rate_pa_m3_s,
            self.tolerance_relative,
            correlated_rel=opened.correlated_rel,
            certificate_rel=opened.certificate_rel,
            channel=channel,
            window_s=opened.window,
            certificate=opened.certificate_name,
        )
        windows = (background.budget.terms, with_leak.budget.terms)
        entry = with_difference_budget(entry, windows, opened, self.certified_rate_pa_m3_s)
        for fitted in (background, with_leak):
            entry = steady(entry, channel, fitted)
        if opened.isolation_refusal is not None and entry.outcome is Outcome.PASS:
            entry = entry.withdrawn(opened.isolation_refusal)
        ctx.record(name, entry)
