"""The steps that look back at their samples: settle, then fit a window, judge it, and refuse
what its evidence cannot carry.

A fitted window is refused a verdict when its volume is not shown isolated (the valves that
part it from the rest, :mod:`rig.engine.evidence`) or when it holds a jump (a gauge's zero
shifting, :mod:`rig.analysis.level_shift`). Mixed into :class:`rig.engine.runner.Runner`,
whose sampling, valves and record these methods use.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

from drivers.errors import DriverError
from rig.analysis import DecayFit, LiveLeakRate, fit_decay
from rig.analysis.budget import Budget
from rig.analysis.level_shift import LevelShift, find_level_shift
from rig.analysis.settling import detect_settling
from rig.bench import BenchSpec
from rig.engine.abort import Abort
from rig.engine.evidence import boundary_valves, valve_evidence
from rig.engine.measurements import (
    NOT_ISOLATED,
    SegmentRate,
    comparison,
    decay_entry,
    finite_part,
    largest_magnitude,
    leaking_segment,
    reference_leak_entry,
    with_type_b,
)
from rig.engine.topology import segments
from rig.engine.type_b import type_b_for
from rig.procedure.loader import Step

if TYPE_CHECKING:
    from rig.engine.runner import Runner, RunOutcome


def _fit_window(
    runner: Runner,
    channel: str,
    volumes: tuple[str, ...],
    temp_channel: str | None,
    start: float,
    sign: float = 1.0,
) -> Fitted:
    """Fit the window since ``start``, fold in the bench's Type-B terms, look for a jump."""
    t, p, temperature = runner.series.window(channel, start, temp_channel)
    size = sum(runner.bench.volumes[v].size_m3 for v in volumes)
    # The window is read where the store keeps it; only a rise needs a negated copy.
    fit = fit_decay(t, p if sign == 1.0 else sign * p, temperature, volume_m3=size)
    finite = finite_part(p)
    missing = p.size - finite.size
    floor = runner.watch.floor(channel, largest_magnitude(finite)) if finite.size else 0.0
    del finite  # a copy when samples are missing: not kept through the scan
    shift = find_level_shift(t, p, floor)
    fitted, budget = with_type_b(fit, runner.bench, channel, volumes, temp_channel, p, temperature)
    return Fitted(fitted, budget, shift, int(missing), int(p.size))


def _fit_hold(
    runner: Runner,
    name: str,
    channel: str,
    volume: str,
    duration_s: float,
    temp_channel: str | None,
    sign: float,
) -> tuple[Fitted, tuple[float, float]]:
    """Hold for ``duration_s`` with a live estimate, then fit the samples of that window."""
    live = LiveLeakRate(runner.bench.volumes[volume].size_m3)

    def feed(t: float, values: dict[str, float | None]) -> None:
        p = values.get(channel)
        if p is None:
            return
        live.add(t, sign * p, values.get(temp_channel) if temp_channel else None)
        if live.n >= 3:
            runner.observer.leak_rate(name, live.leak_rate_pa_m3_s, live.stderr_pa_m3_s, live.n)

    start = runner.clock.now()
    runner.hold(duration_s, each=feed)
    return _fit_window(runner, channel, (volume,), temp_channel, start, sign), (start, runner.clock.now())


def kept_channels(bench: BenchSpec, step: Step) -> tuple[str, ...]:
    """The channels whose samples ``step`` looks back at; the other steps only record theirs."""
    f = step.fields
    if step.kind in ("stabilise", "reference_leak_check"):
        return (f["channel"],)
    if step.kind == "measure_decay":
        return (f["channel"],) if f.get("temperature") is None else (f["channel"], f["temperature"])
    if step.kind == "compartment_isolation":
        # Which segments it fits is known only once the hatches are shut.
        return tuple(bench.channels)
    return ()


def stabilise(runner: Runner, step: Step, outcome: RunOutcome) -> None:
    """``stabilise``: hold until the fill transient has died out (its window slopes agree)."""
    channel, window = step.fields["channel"], step.fields.get("window", 30.0)
    volume = runner.bench.channels[channel].volume
    size = runner.bench.volumes[volume].size_m3 if volume else 1.0
    reject_slope = step.fields["reject_limit"] / size  # Pa/s a leak at the limit produces
    per_window = max(int(window / runner.period_s), 2)

    # The raw pressure, not p·T_ref/T: over a short window a thermocouple's noise, scaled
    # by p/T, would swamp the slope changes the detection looks for.
    def settled(_: dict[str, float | None]) -> bool:
        count = len(runner.series)
        # Four windows: the three consecutive agreeing changes the detection asks for; and
        # only a completed window can change the answer, so the detection runs once per window.
        if count < 4 * per_window or count % per_window:
            return False
        t, p = runner.series.times(), runner.series.values(channel)
        return detect_settling(t, p, -reject_slope, window).settled

    if not runner.hold(step.fields["max"], settled):
        if step.fields.get("on_timeout", "fail") == "fail":
            raise Abort(f"stabilise: {channel} did not settle in {step.fields['max']:g} s")
        runner.event("warning", "stabilise: not settled, continuing as the procedure says")


def measure_decay(runner: Runner, step: Step, outcome: RunOutcome) -> None:
    """``measure_decay``: hold, fit the window (or a rise), judge it against its limit."""
    f = step.fields
    sign = -1.0 if f.get("direction") == "rise" else 1.0
    temp = f.get("temperature")
    fitted, window = _fit_hold(runner, f["name"], f["channel"], f["volume"], f["duration"], temp, sign)
    entry = decay_entry(
        fitted.fit, f["channel"], window, sign, f.get("limit"), temp is not None, fitted.budget
    )
    _steady(entry, f["channel"], fitted)
    _isolated(runner, entry, (f["volume"],))
    _measured(runner, outcome, f["name"], entry)


def _isolated(runner: Runner, entry: dict[str, Any], volumes: tuple[str, ...]) -> None:
    """A verdict rests on the valves that part ``volumes`` from the rest being shut: without
    evidence that they are, no PASS; with evidence that one is not, no verdict at all."""
    if entry.get("outcome") not in ("PASS", "FAIL"):
        return
    valves = boundary_valves(runner.bench, runner.watch.states, volumes)
    try:
        positions = runner.session.valve_positions(valves)
    except DriverError as exc:
        runner.event("fault", f"limit switches: {exc}")
        positions = {}
    contradicted: list[str] = []
    unshown: list[str] = []
    for valve in valves:
        found = valve_evidence(runner.watch, valve, False, positions, runner.recent)
        if not found.shown:
            (contradicted if valve in positions else unshown).append(found.how)
    if contradicted or (unshown and entry["outcome"] == "PASS"):
        entry.update(
            outcome="INCONCLUSIVE",
            additional_time_s=None,
            refusal=f"{NOT_ISOLATED}: " + "; ".join(contradicted or unshown),
        )


def _measured(runner: Runner, outcome: RunOutcome, name: str, entry: dict[str, Any]) -> None:
    outcome.measurements[name] = entry
    runner.event("measurement", f"{name}: {entry['outcome']}", name=name, **entry)


def reference_leak_check(runner: Runner, step: Step, outcome: RunOutcome) -> None:
    """``reference_leak_check``: background, then with the standard open; compare with its certificate."""
    f = step.fields
    valve, channel, name, volume = f["valve"], f["channel"], f["name"], f["volume"]
    runner.set_valves({valve: False})
    background, _ = _fit_hold(runner, f"{name} (background)", channel, volume, f["duration"], None, 1.0)
    runner.set_valves({valve: True})
    runner.hold(f.get("settle", runner.bench.valve_response_s))
    with_leak, window = _fit_hold(runner, name, channel, volume, f["duration"], None, 1.0)
    # Judged while the standard is still open: the chamber's other valves must be shut.
    isolation: dict[str, Any] = {"outcome": "PASS"}
    _isolated(runner, isolation, (volume,))
    runner.set_valves({valve: False})
    # The volume and the gauge's span scale both fits alike: they enter once, on the difference.
    type_b = type_b_for(runner.bench, channel, (volume,), None, 0.0)
    certificate = runner.bench.reference_leaks.get(valve)
    entry = reference_leak_entry(
        _independent_part(with_leak.fit, with_leak.budget),
        _independent_part(background.fit, background.budget),
        f["certified_rate"],
        f["tolerance_relative"],
        correlated_rel=math.hypot(type_b.volume_rel, type_b.gauge_rel),
        certificate_rel=certificate.uncertainty_rel if certificate else 0.0,
    )
    entry.update(channel=channel, window_s=list(window))
    if certificate is not None:
        entry["certificate"] = certificate.certificate
    for fitted in (background, with_leak):
        _steady(entry, channel, fitted)
    if isolation["outcome"] != "PASS" and entry["outcome"] == "PASS":
        entry.update(outcome="INCONCLUSIVE", refusal=isolation["refusal"])
    _measured(runner, outcome, name, entry)


def compartment_isolation(runner: Runner, step: Step, outcome: RunOutcome) -> None:
    """``compartment_isolation``: close the hatches, watch every segment, rank them, name the leaker."""
    f = step.fields
    name, limit = f["name"], f.get("limit")
    for hatch in f["hatches"]:
        # One after another, as a crew would: each closure is confirmed before the next.
        runner.set_valves({hatch: False})
        runner.event("hatch", f"{hatch} closed", valve=hatch)
        runner.hold(runner.bench.valve_response_s)
    states = runner.session.valve_states()
    groups = [g for g in segments(runner.bench, states) if _segment_gauge(runner, g)]
    start = runner.clock.now()
    runner.hold(f["watch"])
    rates = []
    for group in groups:
        segment = "+".join(group)
        channel = _segment_gauge(runner, group)
        assert channel is not None
        temp = next(
            (
                c
                for c, sp in runner.bench.channels.items()
                if sp.measures == "temperature" and sp.volume in group
            ),
            None,
        )
        fitted = _fit_window(runner, channel, group, temp, start)
        window = (start, runner.clock.now())
        entry = decay_entry(fitted.fit, channel, window, 1.0, limit, temp is not None, fitted.budget)
        _steady(entry, channel, fitted)
        _isolated(runner, entry, group)
        size = sum(runner.bench.volumes[v].size_m3 for v in group)
        entry["volume_m3"] = size
        rates.append(SegmentRate(segment, entry))
    rates.sort(key=lambda r: r.rate, reverse=True)
    for rank, ranked in enumerate(rates, start=1):
        ranked.entry["rank"] = rank
        _measured(runner, outcome, f"{name}.{ranked.name}", ranked.entry)
    found = leaking_segment(rates, limit is not None)
    outcome.findings["leaking_segment"] = found
    ranking = ", ".join(f"{r.name} {r.rate:.3g}" for r in rates)
    runner.event("finding", f"{name}: leaking segment {found or 'none found'} (ranked: {ranking})")


def _segment_gauge(runner: Runner, group: tuple[str, ...]) -> str | None:
    return next(
        (c for c, s in runner.bench.channels.items() if s.measures == "pressure" and s.volume in group),
        None,
    )


def compare(runner: Runner, step: Step, outcome: RunOutcome) -> None:
    """``compare``: the reduction factor of two earlier measurements, with its 95 % interval."""
    f = step.fields
    before, after = outcome.measurements.get(f["before"]), outcome.measurements.get(f["after"])
    if before is None or after is None:
        raise Abort(f"compare: {f['before']!r} or {f['after']!r} was not measured")
    result = comparison(f["name"], f["before"], before, f["after"], after)
    outcome.findings.setdefault("comparisons", []).append(result)
    low, high = result["interval95"]
    runner.event(
        "finding",
        f"{f['name']}: reduction factor {result['reduction_factor']:.3g} "
        f"(95 % interval {low:.3g} to {high:.3g})",
        **result,
    )


NOT_STEADY = "not steady"
INCOMPLETE = "incomplete"
# A window may miss this share of its samples (dropouts ridden through) and still PASS: beyond
# it, what the gauge did not see (out of its range, or failing) could be where a leak shows.
MAX_MISSING_SHARE = 0.1


class Fitted(NamedTuple):
    """A fitted window: the fit with its Type-B terms, its budget, any jump found in it, and how
    many of its samples had no reading."""

    fit: DecayFit
    budget: Budget
    shift: LevelShift | None
    missing: int
    samples: int


def _steady(entry: dict[str, Any], channel: str, fitted: Fitted) -> None:
    """A window with a jump in it (a gauge's zero shifting) gives no verdict: its slope is biased.
    One that misses many of its samples gives no PASS: a gauge out of its range censors them."""
    if entry.get("outcome") not in ("PASS", "FAIL"):
        return
    shift = fitted.shift
    if shift is None:
        if entry["outcome"] == "PASS" and fitted.missing > MAX_MISSING_SHARE * fitted.samples:
            entry.update(
                outcome="INCONCLUSIVE",
                additional_time_s=None,
                refusal=(
                    f"{INCOMPLETE}: {channel} read nothing for {fitted.missing} of the window's "
                    f"{fitted.samples} samples (out of its range, or failing): a PASS needs the whole window"
                ),
            )
        return
    entry.update(
        outcome="INCONCLUSIVE",
        additional_time_s=None,
        refusal=(
            f"{NOT_STEADY}: {channel} jumped {shift.size:+.3g} Pa between t = {shift.t_before:.1f} s and "
            f"{shift.t_after:.1f} s ({shift.sigmas:.0f} standard errors): a gauge's zero shifting, or "
            "something that moved; repeat the measurement"
        ),
    )


def _independent_part(fit: DecayFit, budget: Budget) -> DecayFit:
    """``fit`` with only the Type-B terms that differ from one fit to the next (steps, temperature)."""
    own = math.hypot(budget.terms["resolution"], budget.terms["temperature"])
    return replace(fit, type_b_pa_m3_s=own)
