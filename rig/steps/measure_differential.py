"""``measure_differential``: fit a differential head's Δp between a test volume and its reference.

Why: a fit over one absolute gauge cannot tell a slow zero drift from a leak (a zero drifting
at r Pa/s adds V·r to the leak rate), nor the room's or the fill's heat from one. A low-range
head between the test volume and a reference filled with it and then closed off reads
Δp = p(test) − p(reference): what acts alike on both sides (the fill's heat relaxing, the
room, the barometer, the static level's gauge zero) cancels (leak-physics §1.2).

The rate: two rigid closed volumes V_t (test) and V_r (reference) hold N_t = p_t·V_t and
N_r = p_r·V_r (pV units). A leak Q from the test part to the outside takes dN_t/dt = −Q and
leaves N_r alone, so d(Δp)/dt = −Q/V_t and

    Q = −V_t · d(Δp)/dt

— the reference's volume does not enter, however small it is. It would enter for a leak
*between* the two sides (across the valves that part them: dN_r/dt = +Q, so
d(Δp)/dt = −Q·(1/V_t + 1/V_r)), and a leak of the reference itself reads as a gain of the
test side, −Q_r·V_t/V_r: both are what a tight master measures (``master_differential``).
Common mode cancels in proportion to Δp itself: a drift of both sides' temperature at
dT/dt moves Δp by (Δp/T)·dT/dt, so the unmeasured-drift term of the budget is taken at the
window's |Δp|, not at the static pressure. What does not cancel (the two sides shedding heat
unalike) is the master's to measure: ``master: NAME`` subtracts the offset a tight master
set (:mod:`rig.engine.masters`) and adds its uncertainty as the term ``master_offset``.

The fit, budget and verdict are measure_decay's (:func:`rig.engine.measurements.decay_entry`,
:mod:`rig.engine.measuring`, :func:`rig.engine.type_b.type_b_for`), judged from confidence
bounds. Beyond its refusals (a jump, missing samples, a side not shown closed), a verdict
needs the two sides parted from each other: joined, the head reads nothing of a leak.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import ClassVar

from rig.bench import BenchSpec, ChannelSpec
from rig.bench_differential import DIFFERENTIAL
from rig.engine.masters import MasterOffset, MasterStoreError
from rig.engine.measurements import NOT_ISOLATED, Measurement, decay_entry, with_type_b
from rig.engine.measuring import steady
from rig.engine.topology import joined
from rig.outcome import Outcome
from rig.steps.base import MeasuredWindow, Step
from rig.steps.context import CheckContext, StepContext
from rig.steps.fields import CHANNEL_REF, LEAK_RATE, TEXT, TIME, VOLUME_REF, step_field
from rig.steps.measure_decay import refuse_unresolvable

NO_MASTER = "no master"
# A master's window must be the production test's: the offset is what the cycle does to a
# tight part, and a different window sees a different part of the transients.
DURATION_MATCH_REL = 0.01


@dataclass(frozen=True, kw_only=True)
class DifferentialWindow(Step):
    """What ``measure_differential`` and ``master_differential`` share: one window of a differential
    head, fitted as ``volume``'s leak (a decay of Δp, never compensated)."""

    name: str = step_field("name", TEXT)
    channel: str = step_field("channel", CHANNEL_REF)
    volume: str = step_field("volume", VOLUME_REF)
    duration_s: float = step_field("duration", TIME)

    def planned_duration(self, response_s: float) -> tuple[float | None, float | None]:
        """Its duration, nominally and at the longest."""
        return self.duration_s, self.duration_s

    def kept_channels(self, bench: BenchSpec) -> tuple[str, ...]:
        """Its differential head, whose window it fits."""
        return (self.channel,)

    def measured_window(self, name: str) -> MeasuredWindow | None:
        """Its own measurement's test volume (a decay of Δp, never compensated)."""
        return MeasuredWindow(self.volume, None, "decay") if name == self.name else None


@dataclass(frozen=True, kw_only=True)
class MeasureDifferential(DifferentialWindow):
    """Fit ``channel`` (a differential head) over ``duration_s`` as ``volume``'s leak; judge it."""

    kind: ClassVar[str] = "measure_differential"
    bound_field: ClassVar[str | None] = "duration"

    limit_pa_m3_s: float | None = step_field("limit", LEAK_RATE, optional=True)
    master: str | None = step_field("master", TEXT, optional=True)
    max_age_s: float | None = step_field("max_age", TIME, optional=True)

    def check(self, ctx: CheckContext) -> None:
        """A differential channel with ``volume`` on one side; a resolvable limit; max_age needs a master."""
        if ctx.has("name"):
            ctx.measure(self.name)
        if self.max_age_s is not None and self.master is None:
            ctx.refuse("max_age_s", "max_age bounds the age of a master's offset: name the `master:` too")
        check_differential(ctx, self.channel, self.volume, self.duration_s, self.limit_pa_m3_s)

    def run(self, ctx: StepContext) -> None:
        """Look up the master (if named), hold, fit, subtract its offset, judge, record."""
        offset, missing = (None, None) if self.master is None else self._offset(ctx)
        entry = differential_measurement(
            ctx,
            self.name,
            self.channel,
            self.volume,
            self.duration_s,
            self.limit_pa_m3_s,
            None if offset is None else (offset.offset_pa_m3_s, offset.uncertainty_pa_m3_s),
        )
        if missing is not None:
            # Uncorrected, the rate carries the master's offset whole, either way: no verdict.
            entry = without_verdict(entry, missing)
        elif offset is not None:
            ctx.event(
                "master",
                f"{self.name}: master {offset.master!r} offset {offset.offset_pa_m3_s:.3g} ± "
                f"{offset.uncertainty_pa_m3_s:.2g} Pa·m³/s (measured {offset.measured_at}) subtracted",
                **offset.to_json(),
            )
        ctx.record(self.name, entry)

    def _offset(self, ctx: StepContext) -> tuple[MasterOffset | None, str | None]:
        """The master's offset to subtract, or why there is none that may be."""
        master, bench = self.master or "", ctx.bench
        if ctx.masters is None:
            return None, f"{NO_MASTER}: this run is not recorded, so no master's offset can be looked up"
        try:
            offset = ctx.masters.load(bench.name, self.channel, master)
        except MasterStoreError as exc:
            return None, f"{NO_MASTER}: {exc}"
        if offset is None:
            return None, (
                f"{NO_MASTER}: {master!r} has never been measured on {self.channel} of bench "
                f"{bench.name!r} (run master_differential with it first)"
            )
        if offset.volume != self.volume:
            return None, f"{NO_MASTER}: {master!r} was measured as {offset.volume!r}, not {self.volume!r}"
        if abs(offset.duration_s - self.duration_s) > DURATION_MATCH_REL * self.duration_s:
            return None, (
                f"{NO_MASTER}: {master!r} was measured over {offset.duration_s:g} s, this test "
                f"runs {self.duration_s:g} s: a master sets the offset of the test it repeats"
            )
        age_s = offset.age_s(dt.datetime.now(dt.UTC))
        if age_s < 0.0 or (self.max_age_s is not None and age_s > self.max_age_s):
            limit = "its time is in the future" if age_s < 0.0 else f"max_age is {self.max_age_s:g} s"
            return (
                None,
                f"{NO_MASTER}: {master!r} was measured {offset.measured_at}, {age_s:.0f} s ago ({limit})",
            )
        return offset, None


def check_differential(
    ctx: CheckContext, channel: str, volume: str, duration_s: float, limit: float | None
) -> None:
    """What a differential step's channel, volume and limit must be on the bench."""
    bench = ctx.bench
    if bench is None or not ctx.has("channel", "volume"):
        return
    spec = bench.channels[channel]
    if spec.measures != DIFFERENTIAL or spec.volumes is None:
        ctx.refuse(
            "channel",
            f"{channel!r} measures {spec.measures}: a differential test reads a {DIFFERENTIAL} "
            "channel (measure_decay fits one gauge)",
        )
        return
    if volume not in spec.volumes:
        ctx.refuse("volume", f"{channel!r} reads {spec.volumes[0]} against {spec.volumes[1]}, not {volume!r}")
        return
    if limit is not None and ctx.has("duration_s"):
        # Near zero: the head's own steps and noise, not the static pressure's, bound the test.
        refuse_unresolvable(ctx, channel, volume, duration_s, limit, 0.0)


def side_sign(spec: ChannelSpec, volume: str) -> float:
    """+1 when ``volume`` is the head's first side (Δp = p(volume) − p(other)), else −1."""
    assert spec.volumes is not None
    return 1.0 if spec.volumes[0] == volume else -1.0


def differential_measurement(
    ctx: StepContext,
    name: str,
    channel: str,
    volume: str,
    duration_s: float,
    limit: float | None,
    offset: tuple[float, float] | None,
    *,
    sealed: bool = True,
) -> Measurement:
    """Hold ``duration_s``, fit Δp as ``volume``'s leak (less ``offset``), judge it, refuse what
    the evidence cannot carry: a jump, missing samples, the two sides joined or not shown shut.

    ``sealed``: a rate surely negative (the test side gaining on the reference: something feeds
    it, or the reference leaks, either of which hides a leak) is refused a PASS; a master's
    own offset may be of either sign (:func:`decay_entry`)."""
    bench = ctx.bench
    spec = bench.channels[channel]
    assert spec.volumes is not None
    sign = side_sign(spec, volume)
    other = spec.volumes[1] if sign > 0 else spec.volumes[0]
    fitted, window = ctx.fit_hold(name, channel, volume, duration_s, None, sign)
    fit, budget = fitted.fit, fitted.budget
    if offset is not None:
        _, deltas, _ = ctx.series.window(channel, window[0])
        fit, budget = with_type_b(fit, bench, channel, (volume,), None, deltas, offset=offset)
    entry = decay_entry(fit, channel, window, sign, limit, False, budget, sealed=sealed)
    if offset is not None:
        # The line drawn over the samples is the one fitted to them, before the offset.
        entry = replace(entry, line=decay_entry(fitted.fit, channel, window, sign, None, False).line)
    entry = steady(entry, channel, fitted)
    if other in joined(bench, ctx.valve_states(), volume):
        entry = without_verdict(
            entry,
            f"{NOT_ISOLATED}: {volume} and {other} share gas through open valves, so {channel} reads "
            "nothing of a leak",
        )
    for side in (volume, other):
        entry = ctx.isolated(entry, (side,))
    return entry


def without_verdict(entry: Measurement, why: str) -> Measurement:
    """``entry`` with no PASS nor FAIL, for the reason ``why`` (kept if it had none judged)."""
    if entry.outcome is not None and entry.outcome.decisive:
        return entry.withdrawn(why)
    if entry.outcome is Outcome.INCONCLUSIVE and entry.refusal is None:
        return replace(entry, refusal=why)
    return entry
