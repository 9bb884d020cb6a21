"""``compartment_isolation``: close hatches one after another, watch every segment, name the leaking one.

Once the hatches are shut the bench falls into segments (the volumes still joined by open
valves); each one with a gauge is fitted over the watch, ranked by the leak rate it has at
least (its 95 % lower bound, then its estimate), and the leaking segment is named
(:func:`rig.engine.measurements.leaking_segment`). Not by the estimate alone: over a long watch
a large segment's trace may cross one printed digit, which reads as a large rate with a larger
uncertainty (680 m³ at ±20 Pa·m³/s), and must not outrank a leak beyond doubt. It reads every gauge and
thermometer of the bench, so it relies on the calibration of each.

With a limit, a segment still INCONCLUSIVE after ``watch`` is watched on, up to ``max_watch``:
a large segment (Zarya's 72 m³) hides a leak that a small one shows in minutes, so a fixed
hold leaves it undecided. The planner's model (:func:`rig.analysis.planner.plan_duration`,
the first fit's estimate taken as the leak, or its upper bound when only a failing leak as
large as that could be decided in time) says how long each window must span to decide;
the step holds in increments of at most ``watch`` (every segment read throughout), refits
every segment and plans again, until every segment is decided, ``max_watch`` is reached, or
the model says no segment still undecided can be decided within it. How long it watched and
why each undecided segment stayed so are recorded (``findings.compartment_watch``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from rig.analysis.planner import plan_duration
from rig.bench import BenchSpec
from rig.bench_gauges import ATMOSPHERE_PA
from rig.engine.measurements import NOT_ISOLATED, SegmentRate, decay_entry, leaking_segment
from rig.engine.measuring import INCOMPLETE, NOT_STEADY, steady
from rig.engine.topology import segments
from rig.outcome import Outcome
from rig.steps.base import Step
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import LEAK_RATE, TEXT, TIME, VALVE_LIST, step_field
from rig.steps.planned import measurement_setup

# The channels whose calibration a verdict rests on.
CALIBRATED = ("pressure", "temperature")
# The shortest extension, as a fraction of the watch: every round refits every segment, so a
# plan that wants a few more seconds at a time would refit hundreds of times for nothing.
MIN_EXTENSION_FRACTION = 0.1
# The withdrawals a longer watch cannot undo (as the run's verdict reads them); an E2930 refusal
# of a PASS, by contrast, is what a longer window cures.
NOT_SEALED = (NOT_ISOLATED, NOT_STEADY, INCOMPLETE)


@dataclass(frozen=True)
class _Segment:
    """A gauged segment once the hatches are shut: its volumes, gauge and thermometer."""

    name: str
    volumes: tuple[str, ...]
    channel: str
    temperature: str | None


@dataclass(frozen=True, kw_only=True)
class CompartmentIsolation(Step):
    """Close ``hatches`` in order, watch every segment for ``watch_s`` (up to ``max_watch_s`` until
    each is decided), rank them (``name.segment``)."""

    kind: ClassVar[str] = "compartment_isolation"
    bound_field: ClassVar[str | None] = "watch"

    name: str = step_field("name", TEXT)
    hatches: tuple[str, ...] = step_field("hatches", VALVE_LIST)
    watch_s: float = step_field("watch", TIME)
    limit_pa_m3_s: float | None = step_field("limit", LEAK_RATE, optional=True)
    # Default: the watch itself (no extension), so that a procedure's longest time is what it wrote.
    max_watch_s: float | None = step_field("max_watch", TIME, optional=True)

    @property
    def longest_watch_s(self) -> float:
        """The longest the segments are watched: ``max_watch``, else ``watch``."""
        return self.watch_s if self.max_watch_s is None else self.max_watch_s

    def check(self, ctx: CheckContext) -> None:
        """``max_watch`` may not be shorter than ``watch`` (the procedure's bounds hold it as the longest)."""
        if (
            self.max_watch_s is not None
            and ctx.has("watch_s", "max_watch_s")
            and self.max_watch_s < self.watch_s
        ):
            ctx.refuse(
                "max_watch_s",
                f"max_watch {_seconds(self.max_watch_s)} is shorter than watch "
                f"{_seconds(self.watch_s)}: it is how long the watch may be extended to",
            )

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """A valve response per hatch (each closure confirmed before the next), then the watch
        (at the longest, ``max_watch``)."""
        hatches = response_s * len(self.hatches)
        return self.watch_s + hatches, self.longest_watch_s + hatches

    def relies_on(self, bench: BenchSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Every gauge and thermometer of the bench: every segment is measured."""
        return tuple(n for n, c in bench.channels.items() if c.measures in CALIBRATED), ()

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """Every channel: which segments it fits, with which gauge and thermometer, is known only
        once the hatches are shut."""
        return tuple(bench.channels)

    def run(self, ctx: StepContext) -> None:
        """Close the hatches, watch (on, while it can decide), fit and rank every gauged segment."""
        bench, name, limit = ctx.bench, self.name, self.limit_pa_m3_s
        for hatch in self.hatches:
            # One after another, as a crew would: each closure is confirmed before the next.
            ctx.set_valves({hatch: False})
            ctx.event("hatch", f"{hatch} closed", valve=hatch)
            ctx.hold(bench.valve_response_s)
        states = ctx.valve_states()
        found_segments = [_segment(bench, g) for g in segments(bench, states)]
        gauged = [s for s in found_segments if s is not None]
        start = ctx.now()
        ctx.hold(self.watch_s)
        rates = [self._fit(ctx, s, start) for s in gauged]
        undecided: dict[str, str] = {}
        if limit is not None:
            rates, undecided = self._watch_on(ctx, gauged, start, rates, limit)
        watched = ctx.now() - start
        rates.sort(key=_ranking, reverse=True)
        for rank, ranked in enumerate(rates, start=1):
            ctx.record(f"{name}.{ranked.name}", replace(ranked.entry, rank=rank))
        found = leaking_segment(rates, limit is not None)
        ctx.findings["leaking_segment"] = found
        ctx.findings.setdefault("compartment_watch", {})[name] = {
            "watched_s": watched,
            "watch_s": self.watch_s,
            "max_watch_s": self.longest_watch_s,
            "undecided": undecided,
        }
        ranking = ", ".join(f"{r.name} {r.rate:.3g}" for r in rates)
        ctx.event("finding", f"{name}: leaking segment {found or 'none found'} (ranked: {ranking})")
        if undecided:
            why = "; ".join(f"{s}: {reason}" for s, reason in undecided.items())
            ctx.event("finding", f"{name}: watched {_seconds(watched)}; undecided: {why}")

    def _fit(self, ctx: StepContext, segment: _Segment, start: float) -> SegmentRate:
        """``segment``'s window since ``start``, judged against the limit."""
        fitted = ctx.fit_window(segment.channel, segment.volumes, segment.temperature, start)
        window = (start, ctx.now())
        entry = decay_entry(
            fitted.fit,
            segment.channel,
            window,
            1.0,
            self.limit_pa_m3_s,
            segment.temperature is not None,
            fitted.budget,
        )
        entry = ctx.isolated(steady(entry, segment.channel, fitted), segment.volumes)
        entry = replace(entry, volume_m3=sum(ctx.bench.volumes[v].size_m3 for v in segment.volumes))
        return SegmentRate(segment.name, entry)

    def _watch_on(
        self,
        ctx: StepContext,
        gauged: list[_Segment],
        start: float,
        rates: list[SegmentRate],
        limit: float,
    ) -> tuple[list[SegmentRate], dict[str, str]]:
        """Hold on while the model says an undecided segment can be decided within ``max_watch``.

        Each round holds at least a tenth of the watch (or a sample period) and at most the watch,
        never past ``max_watch``: the clock advances every round, so the loop ends by then.
        Returns the last fits and, for each segment left INCONCLUSIVE, why.
        """
        longest = self.longest_watch_s
        by_name = {s.name: s for s in gauged}
        while True:
            elapsed = ctx.now() - start
            needed: dict[str, float] = {}
            cannot: dict[str, str] = {}
            for rate in rates:
                if rate.entry.outcome is not Outcome.INCONCLUSIVE:
                    continue
                refusal = rate.entry.refusal
                if refusal is not None and refusal.startswith(NOT_SEALED):
                    # What it names (a hatch not shown shut, a jump) must be fixed, not waited out.
                    cannot[rate.name] = f"its verdict was withdrawn: {refusal}"
                    continue
                duration, why = self._planned(ctx, by_name[rate.name], rate, limit, longest)
                if duration is None:
                    cannot[rate.name] = why
                else:
                    needed[rate.name] = duration
            room = longest - elapsed
            if not needed or room < ctx.period_s:
                reasons = dict(cannot)
                for segment, duration in needed.items():
                    reasons[segment] = (
                        f"max_watch ({_seconds(longest)}) reached after {_seconds(elapsed)}: "
                        f"the planner's model, on the estimate so far, asks for {_seconds(duration)}"
                    )
                return rates, reasons
            wanted = max(needed.values()) - elapsed
            extension = min(
                max(wanted, MIN_EXTENSION_FRACTION * self.watch_s, ctx.period_s), self.watch_s, room
            )
            ctx.event(
                "watch",
                f"{self.name}: watching {_seconds(extension)} more to decide {', '.join(needed)}",
                segments=list(needed),
                extension_s=extension,
            )
            ctx.hold(extension)
            rates = [self._fit(ctx, s, start) for s in gauged]

    def _planned(
        self, ctx: StepContext, segment: _Segment, rate: SegmentRate, limit: float, longest: float
    ) -> tuple[float | None, str]:
        """How long ``segment``'s window must span to decide, on its estimate so far (None, and why,
        when not within ``longest``)."""
        estimate = rate.entry.value_pa_m3_s
        if estimate is None or not math.isfinite(estimate):
            return None, "no estimate to plan on (the window holds no usable fit)"
        level = _last_reading(ctx, segment.channel)
        setup = measurement_setup(
            ctx.bench,
            name=f"{self.name}.{segment.name}",
            channel=segment.channel,
            volumes=segment.volumes,
            temperature=segment.temperature,
            sign=1.0,
            level_pa=level,
            margin_pa=0.0,
            sample_period_s=ctx.period_s,
            duration_s=self.watch_s,
            limit_pa_m3_s=limit,
        )
        plan = plan_duration(setup, limit, max(estimate, 0.0), max_duration_s=longest)
        upper = rate.entry.ucl95_pa_m3_s
        if plan.duration_s is None and upper is not None and upper > limit > estimate:
            # A first window on a coarse gauge may read a leak as nothing: a failing leak as large
            # as the data still allow is worth watching for if it can be decided in time.
            failing = plan_duration(setup, limit, upper, max_duration_s=longest)
            if failing.duration_s is not None:
                return failing.duration_s, ""
        if plan.duration_s is None:
            return None, f"the planner's model cannot decide it within max_watch: {plan.reason}"
        return plan.duration_s, ""


def _segment(bench: BenchSpec, group: tuple[str, ...]) -> _Segment | None:
    """The gauged segment of ``group`` (None without a gauge), with its thermometer if it has one."""
    channel = next(
        (c for c, s in bench.channels.items() if s.measures == "pressure" and s.volume in group),
        None,
    )
    if channel is None:
        return None
    temperature = next(
        (c for c, s in bench.channels.items() if s.measures == "temperature" and s.volume in group),
        None,
    )
    return _Segment("+".join(group), group, channel, temperature)


def _ranking(rate: SegmentRate) -> tuple[float, float]:
    """How a segment ranks: by the rate it leaks at least, then by its estimate (worst last here)."""
    lower = rate.lower_bound
    return (lower if math.isfinite(lower) else -math.inf, rate.rate)


def _seconds(duration_s: float) -> str:
    """A duration as the step's events and findings state it (whole seconds: the clock samples no finer)."""
    return f"{duration_s:.0f} s"


def _last_reading(ctx: StepContext, channel: str) -> float:
    """The last reading of ``channel`` in the step's samples (the atmosphere when it read none)."""
    values = ctx.series.values(channel)
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else ATMOSPHERE_PA
