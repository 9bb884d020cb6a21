"""``pressure_hold``: a lab's own step kind: hold, and judge how far a pressure moved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rig.bench import BenchSpec
from rig.outcome import Outcome
from rig.record import Measurement
from rig.steps import CheckContext, Step, StepContext, step_field
from rig.steps.fields import CHANNEL_REF, PRESSURE, TEXT, TIME


@dataclass(frozen=True, kw_only=True)
class PressureHold(Step):
    """Sample ``channel`` for ``duration_s``; PASS if its pressure moved by at most ``max_change_pa``."""

    kind: ClassVar[str] = "pressure_hold"
    bound_field: ClassVar[str | None] = "duration"

    name: str = step_field("name", TEXT)
    channel: str = step_field("channel", CHANNEL_REF)
    duration_s: float = step_field("duration", TIME)
    max_change_pa: float = step_field("max_change", PRESSURE)

    def check(self, ctx: CheckContext) -> None:
        """A hold shorter than two samples cannot show a change."""
        if ctx.has("duration_s") and self.duration_s < 2.0 * ctx.sample_period_s:
            ctx.refuse("duration_s", "a hold needs at least two samples")

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """Its duration."""
        return self.duration_s, self.duration_s

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """Its channel, whose samples it judges."""
        return (self.channel,)

    def run(self, ctx: StepContext) -> None:
        """Hold, then compare the last reading with the first."""
        ctx.event("pressure_hold", f"holding {self.channel} for {self.duration_s:g} s")
        ctx.hold(self.duration_s)
        values = ctx.series.values(self.channel)
        readings = values[~np.isnan(values)]
        change_pa = float(readings[-1] - readings[0]) if len(readings) >= 2 else float("nan")
        outcome = Outcome.PASS if abs(change_pa) <= self.max_change_pa else Outcome.FAIL
        measured = Measurement(
            value_pa_m3_s=change_pa, unit="Pa", outcome=outcome, extra={"samples": len(readings)}
        )
        ctx.record(self.name, measured)
