"""What the steps that measure share: fit a window, and refuse what its evidence cannot carry.

A fitted window is refused a verdict when its volume is not shown isolated (the valves that
part it from the rest, :mod:`rig.engine.evidence`) or when it holds a jump (a gauge's zero
shifting, :mod:`rig.analysis.level_shift`). The measuring step kinds (:mod:`rig.steps`) reach
the fits and the isolation check through their context
(:class:`rig.engine.step_context.EngineContext`), which calls these with the run's
:class:`rig.engine.runner.Runner`, whose samples, valves and record they read.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

from drivers.errors import DriverError
from rig.analysis import DecayFit, LiveLeakRate, fit_decay
from rig.analysis.budget import Budget
from rig.analysis.level_shift import LevelShift, find_level_shift
from rig.engine.evidence import boundary_valves, valve_evidence
from rig.engine.measurements import NOT_ISOLATED, finite_part, largest_magnitude, with_type_b
from rig.outcome import Outcome
from rig.record.measurement import Measurement

if TYPE_CHECKING:
    from rig.engine.runner import Runner


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
            runner.events.leak_rate(name, live.leak_rate_pa_m3_s, live.stderr_pa_m3_s, live.n)

    start = runner.clock.now()
    runner.hold(duration_s, each=feed)
    return _fit_window(runner, channel, (volume,), temp_channel, start, sign), (start, runner.clock.now())


def _isolated(runner: Runner, entry: Measurement, volumes: tuple[str, ...]) -> Measurement:
    """A verdict rests on the valves that part ``volumes`` from the rest being shut: without
    evidence that they are, no PASS; with evidence that one is not, no verdict at all."""
    if entry.outcome is None or not entry.outcome.decisive:
        return entry
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
    if contradicted or (unshown and entry.outcome is Outcome.PASS):
        return entry.withdrawn(f"{NOT_ISOLATED}: " + "; ".join(contradicted or unshown))
    return entry


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


def steady(entry: Measurement, channel: str, fitted: Fitted) -> Measurement:
    """A window with a jump in it (a gauge's zero shifting) gives no verdict: its slope is biased.
    One that misses many of its samples gives no PASS: a gauge out of its range censors them."""
    if entry.outcome is None or not entry.outcome.decisive:
        return entry
    shift = fitted.shift
    if shift is None:
        if entry.outcome is Outcome.PASS and fitted.missing > MAX_MISSING_SHARE * fitted.samples:
            return entry.withdrawn(
                f"{INCOMPLETE}: {channel} read nothing for {fitted.missing} of the window's "
                f"{fitted.samples} samples (out of its range, or failing): a PASS needs the whole window"
            )
        return entry
    return entry.withdrawn(
        f"{NOT_STEADY}: {channel} jumped {shift.size:+.3g} Pa between t = {shift.t_before:.1f} s and "
        f"{shift.t_after:.1f} s ({shift.sigmas:.0f} standard errors): a gauge's zero shifting, or "
        "something that moved; repeat the measurement"
    )


def independent_part(fit: DecayFit, budget: Budget) -> DecayFit:
    """``fit`` with only the Type-B terms that differ from one fit to the next (steps, temperature,
    the gauge's zero: its drift rate need not be the same in two windows)."""
    own = math.hypot(budget.terms["resolution"], budget.terms["temperature"], budget.terms["zero_drift"])
    return replace(fit, type_b_pa_m3_s=own)
