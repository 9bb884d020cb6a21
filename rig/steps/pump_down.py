"""``pump_down``: pump a volume down below a pressure, failing after the timeout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rig.engine.abort import Abort
from rig.steps.base import Level, Step
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import CHANNEL_REF, PRESSURE, TIME, VOLUME_REF, step_field
from rig.steps.gas import pressure_channel


@dataclass(frozen=True, kw_only=True)
class PumpDown(Step):
    """Pump ``volume`` (through the valves already open) until its gauge reads below ``below_pa``."""

    kind: ClassVar[str] = "pump_down"
    bound_field: ClassVar[str | None] = "timeout"

    volume: str = step_field("volume", VOLUME_REF)
    below_pa: float = step_field("below", PRESSURE)
    timeout_s: float = step_field("timeout", TIME)
    channel: str | None = step_field("channel", CHANNEL_REF, optional=True)

    def check(self, ctx: CheckContext) -> None:
        """The target above the bench's min_pressure, where the interlock would trip first."""
        bench = ctx.bench
        if bench is not None and ctx.has("below_pa") and self.below_pa <= bench.min_pressure_pa:
            low = bench.min_pressure_pa
            why = f"the interlock trips at {low:g} Pa, before the pressure gets below it"
            ctx.refuse(
                "below_pa",
                f"pump-down target {self.below_pa:g} Pa is not above the bench's min_pressure: {why}",
            )
        if ctx.has("volume", "below_pa"):
            ctx.bring(self.level())

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """No nominal time (it ends below its target); at the longest its timeout."""
        return None, self.timeout_s

    def level(self) -> Level:
        """Its bound (the pressure is below it when the step ends)."""
        return Level(self.volume, self.below_pa)

    def run(self, ctx: StepContext) -> None:
        """Hold until the gauge reads below the target; abort on the timeout."""
        channel, below = pressure_channel(ctx.bench, self.volume, self.channel, self.location), self.below_pa
        ctx.expect_toward(channel, below, "opened to pump down")
        if not ctx.hold(self.timeout_s, lambda v: (p := v.get(channel)) is not None and p < below):
            raise Abort(f"pump_down: {channel} did not fall below {below:g} Pa in {self.timeout_s:g} s")
