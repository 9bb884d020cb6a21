"""``compartment_isolation``: close hatches one after another, watch every segment, name the leaking one.

Once the hatches are shut the bench falls into segments (the volumes still joined by open
valves); each one with a gauge is fitted over the watch, ranked by leak rate, and the leaking
segment is named (:func:`rig.engine.measurements.leaking_segment`). It reads every gauge and
thermometer of the bench, so it relies on the calibration of each.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from rig.bench import BenchSpec
from rig.engine.measurements import SegmentRate, decay_entry, leaking_segment
from rig.engine.measuring import steady
from rig.engine.topology import segments
from rig.steps.base import Step
from rig.steps.context import StepContext
from rig.steps.fields import LEAK_RATE, TEXT, TIME, VALVE_LIST, step_field

# The channels whose calibration a verdict rests on.
CALIBRATED = ("pressure", "temperature")


@dataclass(frozen=True, kw_only=True)
class CompartmentIsolation(Step):
    """Close ``hatches`` in order, watch every segment for ``watch_s``, rank them (``name.segment``)."""

    kind: ClassVar[str] = "compartment_isolation"
    bound_field: ClassVar[str | None] = "watch"

    name: str = step_field("name", TEXT)
    hatches: tuple[str, ...] = step_field("hatches", VALVE_LIST)
    watch_s: float = step_field("watch", TIME)
    limit_pa_m3_s: float | None = step_field("limit", LEAK_RATE, optional=True)

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """A valve response per hatch (each closure confirmed before the next), then the watch."""
        total = self.watch_s + response_s * len(self.hatches)
        return total, total

    def relies_on(self, bench: BenchSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Every gauge and thermometer of the bench: every segment is measured."""
        return tuple(n for n, c in bench.channels.items() if c.measures in CALIBRATED), ()

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """Every channel: which segments it fits, with which gauge and thermometer, is known only
        once the hatches are shut."""
        return tuple(bench.channels)

    def run(self, ctx: StepContext) -> None:
        """Close the hatches, watch, fit and rank every gauged segment; record the leaking one."""
        bench, name, limit = ctx.bench, self.name, self.limit_pa_m3_s
        for hatch in self.hatches:
            # One after another, as a crew would: each closure is confirmed before the next.
            ctx.set_valves({hatch: False})
            ctx.event("hatch", f"{hatch} closed", valve=hatch)
            ctx.hold(bench.valve_response_s)
        states = ctx.valve_states()
        groups = [g for g in segments(bench, states) if _segment_gauge(bench, g)]
        start = ctx.now()
        ctx.hold(self.watch_s)
        rates = []
        for group in groups:
            segment = "+".join(group)
            channel = _segment_gauge(bench, group)
            assert channel is not None
            temp = next(
                (
                    c
                    for c, sp in bench.channels.items()
                    if sp.measures == "temperature" and sp.volume in group
                ),
                None,
            )
            fitted = ctx.fit_window(channel, group, temp, start)
            window = (start, ctx.now())
            entry = decay_entry(fitted.fit, channel, window, 1.0, limit, temp is not None, fitted.budget)
            entry = ctx.isolated(steady(entry, channel, fitted), group)
            entry = replace(entry, volume_m3=sum(bench.volumes[v].size_m3 for v in group))
            rates.append(SegmentRate(segment, entry))
        rates.sort(key=lambda r: r.rate, reverse=True)
        for rank, ranked in enumerate(rates, start=1):
            ctx.record(f"{name}.{ranked.name}", replace(ranked.entry, rank=rank))
        found = leaking_segment(rates, limit is not None)
        ctx.findings["leaking_segment"] = found
        ranking = ", ".join(f"{r.name} {r.rate:.3g}" for r in rates)
        ctx.event("finding", f"{name}: leaking segment {found or 'none found'} (ranked: {ranking})")


def _segment_gauge(bench: BenchSpec, group: tuple[str, ...]) -> str | None:
    return next(
        (c for c, s in bench.channels.items() if s.measures == "pressure" and s.volume in group),
        None,
    )
