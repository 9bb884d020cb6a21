"""``stabilise``: wait until the transient after a fill has died out (leak-physics §4.3), or a maximum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from rig.analysis.settling import detect_settling
from rig.bench import BenchSpec
from rig.engine.abort import Abort
from rig.steps.base import Step
from rig.steps.context import StepContext
from rig.steps.fields import CHANNEL_REF, LEAK_RATE, TIME, choice, step_field
from rig.steps.gross_leak import Consecutive, floor_of

# The settling detection's window when the step gives none.
DEFAULT_WINDOW_S = 30.0


@dataclass(frozen=True, kw_only=True)
class Stabilise(Step):
    """Hold until ``channel``'s slope settles to what a leak at ``reject_limit`` explains, at most ``max_s``.

    ``on_timeout: continue`` goes on (with a warning) when it has not settled; by default the
    run aborts. ``temperature`` names the thermometer the settling is judged with (its
    calibration is relied on).
    """

    kind: ClassVar[str] = "stabilise"
    bound_field: ClassVar[str | None] = "max"

    channel: str = step_field("channel", CHANNEL_REF)
    reject_limit_pa_m3_s: float = step_field("reject_limit", LEAK_RATE)
    window_s: float | None = step_field("window", TIME, optional=True)
    max_s: float = step_field("max", TIME)
    on_timeout: Literal["fail", "continue"] | None = step_field(
        "on_timeout", choice("fail", "continue"), optional=True
    )
    temperature: str | None = step_field("temperature", CHANNEL_REF, optional=True)

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """No nominal time (it ends when settled); at the longest ``max_s``."""
        return None, self.max_s

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """Its gauge: the settling is judged on the raw pressure (the thermometer is not read)."""
        return (self.channel,)

    def run(self, ctx: StepContext) -> None:
        """Hold, running the settling detection once per completed window."""
        channel = self.channel
        window = self.window_s if self.window_s is not None else DEFAULT_WINDOW_S
        volume = ctx.bench.channels[channel].volume
        size = ctx.bench.volumes[volume].size_m3 if volume else 1.0
        reject_slope = self.reject_limit_pa_m3_s / size  # Pa/s a leak at the limit produces
        per_window = max(int(window / ctx.period_s), 2)
        floor = floor_of(ctx, channel)
        below = Consecutive(floor) if floor is not None else None

        # The raw pressure, not p·T_ref/T: over a short window a thermocouple's noise, scaled
        # by p/T, would swamp the slope changes the detection looks for.
        def settled(values: dict[str, float | None]) -> bool:
            if below is not None:
                below.check(ctx, channel, values.get(channel), self.kind)
            count = len(ctx.series)  # this step's samples, from its start
            # Four windows: the three consecutive agreeing changes the detection asks for; and
            # only a completed window can change the answer, so the detection runs once per window.
            if count < 4 * per_window or count % per_window:
                return False
            t, p = ctx.series.times(), ctx.series.values(channel)
            return detect_settling(t, p, -reject_slope, window).settled

        if not ctx.hold(self.max_s, settled):
            if (self.on_timeout or "fail") == "fail":
                raise Abort(f"stabilise: {channel} did not settle in {self.max_s:g} s")
            ctx.event("warning", "stabilise: not settled, continuing as the procedure says")
