"""``fill``: pressurise a volume to a target within a tolerance, failing after the timeout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rig.engine.abort import Abort
from rig.steps.base import Level, Step
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import CHANNEL_REF, PRESSURE, TIME, VALVE_REF, VOLUME_REF, step_field
from rig.steps.gas import near, pressure_channel


@dataclass(frozen=True, kw_only=True)
class Fill(Step):
    """Fill ``volume`` (through ``through``, if named) until its gauge reads ``to_pa`` ± ``tolerance_pa``."""

    kind: ClassVar[str] = "fill"
    bound_field: ClassVar[str | None] = "timeout"

    volume: str = step_field("volume", VOLUME_REF)
    to_pa: float = step_field("to", PRESSURE)
    tolerance_pa: float = step_field("tolerance", PRESSURE)
    timeout_s: float = step_field("timeout", TIME)
    channel: str | None = step_field("channel", CHANNEL_REF, optional=True)
    through: str | None = step_field("through", VALVE_REF, optional=True)

    def check(self, ctx: CheckContext) -> None:
        """The target within the bench's limits, the tolerance narrower than the target.

        The interlocks trip on any reading outside [min_pressure, max_pressure], so a target
        outside it can never be reached without tripping them; a tolerance as wide as the
        target accepts any pressure at all.
        """
        bench = ctx.bench
        if bench is not None and ctx.has("to_pa"):
            target, low, high = self.to_pa, bench.min_pressure_pa, bench.max_pressure_pa
            if target > high:
                trips = "the interlock would trip before it is reached"
                why = f"above the bench's max_pressure {high:g} Pa: {trips}"
                ctx.refuse("to_pa", f"fill target {target:g} Pa is {why}")
            elif target < low:
                why = f"below the bench's min_pressure {low:g} Pa: the interlock trips there"
                ctx.refuse("to_pa", f"fill target {target:g} Pa is {why}")
            if ctx.has("tolerance_pa") and self.tolerance_pa >= target:
                why = "accepts any pressure down to vacuum: it must be smaller than the target"
                ctx.refuse(
                    "tolerance_pa", f"a tolerance of {self.tolerance_pa:g} Pa around {target:g} Pa {why}"
                )
        if ctx.has("volume", "to_pa"):
            ctx.bring(self.level())

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """No nominal time (it ends when the target is reached); at the longest its timeout."""
        return None, self.timeout_s

    def level(self) -> Level:
        """The target, up to the tolerance above it (where a later window may start)."""
        return Level(self.volume, self.to_pa, self.tolerance_pa)

    def run(self, ctx: StepContext) -> None:
        """Open the supply path, hold until the target is reached, close it; abort on the timeout."""
        channel = pressure_channel(ctx.bench, self.volume, self.channel, self.location)
        target, tol = self.to_pa, self.tolerance_pa
        if self.through is not None:
            ctx.set_valves({self.through: True})
        ctx.expect_toward(channel, target, "opened to fill")
        reached = ctx.hold(self.timeout_s, lambda v: near(v.get(channel), target, tol))
        if self.through is not None:
            ctx.set_valves({self.through: False})
        if not reached:
            raise Abort(f"fill: {channel} did not reach {target:g} ± {tol:g} Pa in {self.timeout_s:g} s")
