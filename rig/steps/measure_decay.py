"""``measure_decay``: hold, fit the decay (or rise) of one volume's pressure, judge it against a limit.

The window is fitted temperature-compensated when the step names a thermometer, with the
gauge's resolution and the bench's calibrations as Type-B terms; a window with a jump in it,
one that misses too many samples, or a volume not shown isolated gets no verdict it cannot
carry (:mod:`rig.engine.measuring`). The validator refuses a limit the gauge cannot resolve
over the duration, at the pressure the steps before leave the volume at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from rig.analysis.detectability import Resolving
from rig.bench import BenchSpec
from rig.bench_gauges import ATMOSPHERE_PA, display_step_pa, sensor_floor
from rig.engine.measurements import decay_entry
from rig.engine.measuring import steady
from rig.outcome import Outcome
from rig.steps.base import MeasuredWindow, Step
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import CHANNEL_REF, LEAK_RATE, TEXT, TIME, VOLUME_REF, choice, step_field
from rig.steps.gross_leak import check_gross_leak, floor_of, typical


@dataclass(frozen=True, kw_only=True)
class MeasureDecay(Step):
    """Fit ``channel`` over ``duration_s`` as ``volume``'s decay (or rise); judge it against the limit."""

    kind: ClassVar[str] = "measure_decay"
    bound_field: ClassVar[str | None] = "duration"

    name: str = step_field("name", TEXT)
    channel: str = step_field("channel", CHANNEL_REF)
    volume: str = step_field("volume", VOLUME_REF)
    duration_s: float = step_field("duration", TIME)
    limit_pa_m3_s: float | None = step_field("limit", LEAK_RATE, optional=True)
    temperature: str | None = step_field("temperature", CHANNEL_REF, optional=True)
    direction: Literal["decay", "rise"] | None = step_field(
        "direction", choice("decay", "rise"), optional=True
    )

    @property
    def sign(self) -> float:
        """+1 for a decay, -1 for a rise (fitted as the decay of -p, so a rise reads positive)."""
        return -1.0 if self.direction == "rise" else 1.0

    def check(self, ctx: CheckContext) -> None:
        """Its name is a measurement later steps may compare; its limit must be resolvable."""
        if ctx.has("name"):
            ctx.measure(self.name)
        if self.limit_pa_m3_s is not None and ctx.has("channel", "volume", "duration_s"):
            self._resolvable(ctx, self.limit_pa_m3_s)

    def _resolvable(self, ctx: CheckContext, limit: float) -> None:
        """A limit below the bench's minimum detectable leak for this duration cannot be tested."""
        refuse_unresolvable(ctx, self.channel, self.volume, self.duration_s, limit, ctx.level_pa(self.volume))

    def resolving(self, bench: BenchSpec, level_pa: float | None, sample_period_s: float) -> Resolving | None:
        """What its gauge resolves of its volume at ``level_pa`` (see :func:`resolving_for`)."""
        return resolving_for(bench, self.channel, self.volume, level_pa, sample_period_s)

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """Its duration, nominally and at the longest."""
        return self.duration_s, self.duration_s

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """Its gauge, and its thermometer if it names one (the fit compensates with it)."""
        return (self.channel,) if self.temperature is None else (self.channel, self.temperature)

    def measured_window(self, name: str) -> MeasuredWindow | None:
        """Its own measurement's volume, thermometer and direction."""
        if name != self.name:
            return None
        return MeasuredWindow(self.volume, self.temperature, self.direction or "decay")

    def run(self, ctx: StepContext) -> None:
        """Hold, fit the window, refuse what its evidence cannot carry, record the measurement.

        A window of a filled volume whose median reads below what a tight one cools to, and that
        the fit does not fail, is a gross leak: the run ends FAIL (:mod:`rig.steps.gross_leak`) rather than
        judge the flat line of an emptied article.
        """
        fitted, window = ctx.fit_hold(
            self.name, self.channel, self.volume, self.duration_s, self.temperature, self.sign
        )
        entry = decay_entry(
            fitted.fit,
            self.channel,
            window,
            self.sign,
            self.limit_pa_m3_s,
            self.temperature is not None,
            fitted.budget,
        )
        entry = ctx.isolated(steady(entry, self.channel, fitted), (self.volume,))
        floor = floor_of(ctx, self.channel) if self.direction != "rise" else None
        if floor is not None and entry.outcome is not Outcome.FAIL:
            check_gross_leak(ctx, self.channel, typical(ctx.series.values(self.channel)), floor, self.name)
        ctx.record(self.name, entry)


def resolving_for(
    bench: BenchSpec, channel: str, volume: str, level_pa: float | None, sample_period_s: float
) -> Resolving | None:
    """What ``channel`` resolves of ``volume`` at ``level_pa`` (the atmosphere when None).

    The one source of the rule the validator holds a limit to and the planner plans within;
    None when the bench says nothing about the gauge (nothing to hold a limit against).
    """
    level = ATMOSPHERE_PA if level_pa is None else level_pa
    resolution, noise = sensor_floor(bench, channel, level)
    shown = display_step_pa(bench.instruments[bench.channels[channel].instrument].model, level)
    resolution = max(resolution, shown)
    if resolution == 0.0 and noise == 0.0:
        return None
    return Resolving(channel, bench.volumes[volume].size_m3, level, resolution, noise, sample_period_s)


def refuse_unresolvable(
    ctx: CheckContext, channel: str, volume: str, duration_s: float, limit: float, level_pa: float | None
) -> None:
    """Refuse (at ``limit_pa_m3_s``) a limit below what ``channel`` resolves of ``volume`` over
    ``duration_s``, read at ``level_pa`` (the atmosphere when unknown)."""
    bench = ctx.bench
    if bench is None:
        return
    resolving = resolving_for(bench, channel, volume, level_pa, ctx.sample_period_s)
    why = None if resolving is None else resolving.refusal(limit, duration_s)
    if why is not None:
        ctx.refuse("limit_pa_m3_s", why)
