"""``verification_leak``: show that the set-up sees a calibrated leak, or withdraw what it vouched for.

As in containment testing: after a measurement, a calibrated leak (a valve with a certificate
on the bench, ``reference_leaks:``) is opened into the same volume and the rate measured again
on the same channel; it must have risen by the certified rate, within k = 2 combined
uncertainties (both fits' budgets and the certificate's:
:func:`rig.engine.measurements.verification_entry`). The check is recorded as its own
measurement (``name``: PASS or FAIL, with the rise, the rate before and the certificate). When
it does not pass, the measurement it vouches for becomes INCONCLUSIVE: a set-up that cannot
show a known leak cannot show that a part is tight (a closed valve in the line, a gauge that
stopped following, a volume not the one measured).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from rig.bench import BenchSpec
from rig.engine.measurements import Measurement, verification_entry
from rig.engine.measuring import independent_part, steady
from rig.outcome import Outcome
from rig.steps.base import MeasuredWindow, Step
from rig.steps.calibrated_leak import fit_with_leak_open, with_difference_budget
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import CHANNEL_REF, TEXT, TIME, VALVE_REF, VOLUME_REF, choice, step_field

NOT_SHOWN = "the set-up did not show the verification leak: the result cannot vouch for a tight part"


@dataclass(frozen=True, kw_only=True)
class VerificationLeak(Step):
    """Open ``valve``'s calibrated leak after ``measurement``; its rate must rise by the certified rate."""

    kind: ClassVar[str] = "verification_leak"
    bound_field: ClassVar[str | None] = "duration"

    name: str = step_field("name", TEXT)
    measurement: str = step_field("measurement", TEXT)
    valve: str = step_field("valve", VALVE_REF)
    channel: str = step_field("channel", CHANNEL_REF)
    volume: str = step_field("volume", VOLUME_REF)
    duration_s: float = step_field("duration", TIME)
    settle_s: float | None = step_field("settle", TIME, optional=True)
    direction: Literal["decay", "rise"] | None = step_field(
        "direction", choice("decay", "rise"), optional=True
    )

    @property
    def sign(self) -> float:
        """+1 for a decay, -1 for a rise: the measurement's own direction, so that the rates subtract."""
        return -1.0 if self.direction == "rise" else 1.0

    def check(self, ctx: CheckContext) -> None:
        """It vouches for a measurement taken before it, with a leak whose certificate the bench holds."""
        if ctx.has("measurement") and self.measurement not in ctx.measured():
            taken = ", ".join(ctx.measured()) or "none"
            ctx.refuse(
                "measurement",
                f"no measurement {self.measurement!r} before this step to verify (taken before it: {taken})",
            )
        bench = ctx.bench
        if bench is not None and ctx.has("valve") and self.valve not in bench.reference_leaks:
            ctx.refuse(
                "valve",
                f"valve {self.valve!r} has no calibrated leak behind it (the bench's reference_leaks: "
                f"{', '.join(bench.reference_leaks) or 'none'})",
            )
        if ctx.has("name"):
            ctx.measure(self.name)

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """The settling (a valve response unless ``settle``) and the window with the leak open."""
        total = self.duration_s + (self.settle_s if self.settle_s is not None else response_s)
        return total, total

    def relies_on(self, bench: BenchSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Its gauge, and the leak standard behind its valve."""
        return (self.channel,), (self.valve,)

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """Its gauge (the window is fitted uncompensated)."""
        return (self.channel,)

    def measured_window(self, name: str) -> MeasuredWindow | None:
        """Its own measurement's volume and direction."""
        return MeasuredWindow(self.volume, None, self.direction or "decay") if name == self.name else None

    def run(self, ctx: StepContext) -> None:
        """Open the leak, fit, compare the rise with the certificate; withdraw what it cannot vouch for."""
        before = ctx.measurements.get(self.measurement)
        opened = fit_with_leak_open(
            ctx, self.name, self.valve, self.channel, self.volume, self.duration_s, self.settle_s, self.sign
        )
        certificate = opened.certificate
        if before is None or before.value_pa_m3_s is None or certificate is None:
            missing = "its certificate" if certificate is None else f"a rate of {self.measurement!r}"
            ctx.record(
                self.name, Measurement(channel=self.channel).withdrawn(f"no {missing} to compare with")
            )
            return
        entry = verification_entry(
            independent_part(opened.fitted.fit, opened.fitted.budget),
            before,
            certificate.rate_pa_m3_s,
            correlated_rel=opened.correlated_rel,
            certificate_rel=opened.certificate_rel,
            channel=self.channel,
            window_s=opened.window,
            certificate=opened.certificate_name,
        )
        windows = (opened.fitted.budget.terms, before.uncertainty.terms if before.uncertainty else {})
        entry = with_difference_budget(entry, windows, opened, certificate.rate_pa_m3_s)
        if before.channel is not None and before.channel != self.channel:
            entry = entry.withdrawn(f"{self.measurement!r} was read on {before.channel}, not {self.channel}")
        entry = steady(entry, self.channel, opened.fitted)
        if opened.isolation_refusal is not None and entry.outcome is Outcome.PASS:
            entry = entry.withdrawn(opened.isolation_refusal)
        ctx.record(self.name, entry)
        if entry.outcome is not Outcome.PASS:
            ctx.record(self.measurement, before.withdrawn(f"{NOT_SHOWN} ({_shown(entry)})"))


def _shown(entry: Measurement) -> str:
    """What the verification saw, in numbers (or why it saw nothing)."""
    reference = entry.reference
    if entry.refusal is not None or reference is None or entry.value_pa_m3_s is None:
        return entry.refusal or "no rise measured"
    u = entry.stderr_pa_m3_s or 0.0
    return (
        f"the rate rose by {entry.value_pa_m3_s:.3g} Pa·m³/s, the leak is certified at "
        f"{reference.certified_pa_m3_s:.3g} ± {2.0 * u:.2g} Pa·m³/s (k = 2)"
    )
