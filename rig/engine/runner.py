"""Execute a validated procedure: sample, step, record, and end in the bench's safe state.

Every step samples every channel once per ``sample_period`` (timestamps from the clock),
appends the samples to the run record and checks the bench's pressure limits on each
sample (a trip stops the run at once). Whatever happens, the bench's safe state is
applied at the end and verified by readback and by the pressures: a valve that does not
show in the gas as the bench's volumes imply is a stuck valve, a fault.
"""

from __future__ import annotations

import enum
import math
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from drivers.errors import DriverError
from rig.analysis import DecayFit, LiveLeakRate, fit_decay
from rig.analysis.budget import Budget
from rig.analysis.settling import detect_settling
from rig.clock import Clock
from rig.engine.measurements import (
    NOT_ISOLATED,
    SegmentRate,
    comparison,
    decay_entry,
    leaking_segment,
    reference_leak_entry,
    with_type_b,
)
from rig.engine.observer import NullObserver, RunObserver, StepProgress
from rig.engine.session import RigSession
from rig.engine.topology import joined, segments
from rig.engine.type_b import type_b_for
from rig.engine.valve_watch import ValveWatch
from rig.procedure.loader import Procedure, Step
from rig.procedure.plan import Plan, step_durations
from rig.record.run_store import RunWriter

ATMOSPHERE_PA = 101325.0
# The steps that look back at their own samples (fits, settling); the others only record them.
SERIES_STEPS = frozenset({"stabilise", "measure_decay", "reference_leak_check", "compartment_isolation"})
# A channel whose instrument has failed this long (and this many periods) is an instrument fault.
INSTRUMENT_FAULT_S = 30.0
INSTRUMENT_FAULT_PERIODS = 5


class RunVerdict(enum.Enum):
    """How a run ended, as the interface reports it."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    ABORTED = "ABORTED"


EXIT_CODES = {RunVerdict.PASS: 0, RunVerdict.FAIL: 1, RunVerdict.ABORTED: 3, RunVerdict.INCONCLUSIVE: 4}
STATUS = {
    RunVerdict.PASS: "passed",
    RunVerdict.FAIL: "failed",
    RunVerdict.INCONCLUSIVE: "inconclusive",
    RunVerdict.ABORTED: "aborted",
}


class Abort(Exception):  # noqa: N818 - the engine's own control flow, never shown as an error type
    """Stop the run: an interlock, a fault, an operator, a step that could not do its job.

    ``kind`` is how the event log files it: ``interlock``, ``fault``, ``operator`` or ``step``.
    """

    def __init__(self, message: str, kind: str = "step") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class RunOutcome:
    """What a run produced."""

    verdict: RunVerdict
    reason: str
    measurements: dict[str, dict[str, Any]] = field(default_factory=dict)
    safe_state_confirmed: bool = False
    # Findings beyond measurements (compartment isolation adds ``leaking_segment``).
    findings: dict[str, Any] = field(default_factory=dict)
    # Instrument trouble the run rode through: channel → failed reads, instrument → retries.
    faults: dict[str, Any] = field(default_factory=dict)

    def results(self) -> dict[str, Any]:
        """What ``results.json`` holds: the verdict, the reason, the measurements, findings, faults."""
        return {
            "verdict": self.verdict.value,
            "reason": self.reason,
            "safe_state_confirmed": self.safe_state_confirmed,
            "measurements": self.measurements,
            **self.findings,
            "faults": self.faults,
        }


class Runner:
    """Runs one procedure on one session, recording into one run.

    ``answer`` answers operator prompts (None: yes to all); ``act`` performs what a
    confirmed prompt's ``action`` names (a simulated bench acts it out; None: recorded only);
    ``observer`` watches (the live view).
    """

    def __init__(
        self,
        procedure: Procedure,
        session: RigSession,
        clock: Clock,
        writer: RunWriter,
        answer: Callable[[str], bool] | None = None,
        observer: RunObserver | None = None,
        act: Callable[[str], None] | None = None,
    ) -> None:
        self.procedure = procedure
        self.bench = procedure.bench
        self.session = session
        self.clock = clock
        self.writer = writer
        self.answer = answer
        self.act = act
        self.observer: RunObserver = observer or NullObserver()
        self.period_s = procedure.sample_period_s
        self.step_name = "start"
        # Ctrl-C presses: after the first the run stops at its next sample and cleans up; a second
        # one stops at once, skipping the cleanup steps but never the safe state.
        self.stops = 0
        self._in_cleanup = False
        # The samples of the current step, kept in memory only by steps that fit or judge them
        # (the record on disk has them all): a week of monitoring must not grow the process.
        self.series: dict[str, list[tuple[float, float | None]]] = {c: [] for c in self.bench.channels}
        self._keep_series = False
        self.dropouts: dict[str, int] = dict.fromkeys(self.bench.channels, 0)
        self.last: dict[str, float | None] = {}
        self.watch = ValveWatch(self.bench, {})
        self.read_failures: dict[str, int] = {}
        self._failing_since: dict[str, float] = {}
        # Counted, never listed: a repeat of a million passes must not cost a million entries.
        steps = (*procedure.setup, *procedure.main, *procedure.cleanup)
        self._plan = Plan(steps, self.bench.valve_response_s)
        self._tripped = False
        self._executed = 0

    # --- sampling --------------------------------------------------------------------------------

    def sample(self) -> dict[str, float | None]:
        """Read every channel now, record it, check the limits, the valves and the instruments."""
        t = self.clock.now()
        values = self.session.read_all()
        self.writer.sample(t, self.step_name, values)
        self.observer.sampled(t, values)
        for name, value in values.items():
            if value is None:
                self.dropouts[name] += 1
            if self._keep_series:
                self.series[name].append((t, value))
        self.last = values
        self._instrument_health(t)
        low, high = self.bench.min_pressure_pa, self.bench.max_pressure_pa
        for name, value in values.items():
            spec = self.bench.channels[name]
            if spec.measures == "pressure" and value is not None and not low <= value <= high:
                raise Abort(
                    f"interlock: {name} at {value:.6g} Pa is outside [{low:g}, {high:g}] Pa", "interlock"
                )
        stuck = self.watch.check(t, values)
        if stuck is not None:
            raise Abort(stuck, "fault")
        return values

    def _instrument_health(self, t: float) -> None:
        errors = self.session.read_errors
        for channel, message in errors.items():
            self.read_failures[channel] = self.read_failures.get(channel, 0) + 1
            if channel not in self._failing_since:
                self._failing_since[channel] = t
                self.event("fault", f"{channel}: {message} (recorded as a dropout)", channel=channel)
            elif t - (since := self._failing_since[channel]) > max(
                INSTRUMENT_FAULT_S, INSTRUMENT_FAULT_PERIODS * self.period_s
            ):
                raise Abort(
                    f"instrument fault: {channel} has not read since t = {since:.1f} s ({message})", "fault"
                )
        for channel in [c for c in self._failing_since if c not in errors]:
            since = self._failing_since.pop(channel)
            self.event("fault", f"{channel}: reading again after {t - since:.1f} s", channel=channel)

    def hold(
        self,
        duration_s: float,
        until: Callable[[dict[str, float | None]], bool] | None = None,
        each: Callable[[float, dict[str, float | None]], None] | None = None,
    ) -> bool:
        """Sample for up to ``duration_s``; True as soon as ``until`` holds (False if time ran out).

        ``each`` sees every sample with its time (a live estimate feeds on it).
        """
        end = self.clock.now() + duration_s
        while True:
            if self.stops and not self._in_cleanup:
                raise Abort("stopped by the operator (Ctrl-C)", "operator")
            t = self.clock.now()
            values = self.sample()
            if each is not None:
                each(t, values)
            if until is not None and until(values):
                return True
            if self.clock.now() + self.period_s > end + 1e-9:
                return until is None
            self.clock.sleep(self.period_s)

    def set_valves(self, states: dict[str, bool]) -> None:
        """Move valves, then expect the gas to show it (see :mod:`rig.engine.valve_watch`)."""
        t = self.clock.now()
        self.session.set_valves(states)
        self.watch.commanded(states, t, self.last)

    # --- the run ---------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """The operator's Ctrl-C: the first stops gracefully, a second one at once (safe state still)."""
        self.stops += 1
        if self.stops > 1:
            raise KeyboardInterrupt
        self.event("operator", "stop requested (Ctrl-C); a second Ctrl-C stops at once")

    def run(self) -> RunOutcome:
        """Setup, main, then always cleanup and the safe state."""
        outcome = RunOutcome(RunVerdict.PASS, "all measurements passed")
        try:
            self.watch = ValveWatch(self.bench, self.session.valve_states())
            for section in (self.procedure.setup, self.procedure.main):
                self.steps(section, outcome)
        except Abort as exc:
            outcome.verdict, outcome.reason = RunVerdict.ABORTED, str(exc)
            self._tripped = exc.kind == "interlock"
            self.event(exc.kind, str(exc))
        except DriverError as exc:
            outcome.verdict, outcome.reason = RunVerdict.ABORTED, f"instrument fault: {exc}"
            self.event("fault", outcome.reason)
        except KeyboardInterrupt:
            outcome.verdict, outcome.reason = (
                RunVerdict.ABORTED,
                "stopped at once by the operator (second Ctrl-C)",
            )
            self.event("operator", outcome.reason)
        except Exception as exc:  # a bug of ours must still end in the safe state, and say what it was
            outcome.verdict, outcome.reason = RunVerdict.ABORTED, f"internal error: {exc!r}"
            self.event("fault", outcome.reason, traceback=traceback.format_exc())
        self._in_cleanup = True
        # After an interlock trip the safe state comes first and alone: cleanup steps could
        # move valves away from it (a vent, a refill) while the bench is out of its limits.
        skip_cleanup = self.stops >= 2 or self._tripped
        self.event(
            "cleanup", "safe state only (cleanup skipped)" if skip_cleanup else "cleanup and safe state"
        )
        try:
            if not skip_cleanup:
                self.steps(self.procedure.cleanup, outcome)
        except (Abort, DriverError, KeyboardInterrupt) as exc:
            self.event("fault", f"cleanup: {exc}")
        except Exception as exc:
            self.event("fault", f"cleanup: internal error: {exc!r}", traceback=traceback.format_exc())
        finally:
            why = self.safe_state()
            outcome.safe_state_confirmed = why is None
            if why is not None and outcome.verdict is not RunVerdict.ABORTED:
                outcome.verdict, outcome.reason = RunVerdict.ABORTED, f"safe state not confirmed: {why}"
        if outcome.verdict is RunVerdict.PASS:
            outcome.verdict, outcome.reason = _aggregate(outcome.measurements)
        outcome.faults = {
            "failed_reads": dict(self.read_failures),
            "dropouts": dict(self.dropouts),
            "driver": self.session.transfer_stats(),
        }
        self.observer.finished(outcome.verdict.value, outcome.reason)
        return outcome

    def safe_state(self) -> str | None:
        """Drive every valve to the bench's safe state; confirm it by readback and in the gas.

        Returns None when confirmed, else why not. After a second Ctrl-C the gas is not
        waited for: the readback alone confirms.
        """
        try:
            self.set_valves(self.bench.safe_state)
            self.event("safe_state", "safe state commanded")
            states = self.session.valve_states()
        except DriverError as exc:
            self.event("fault", f"safe state: {exc}")
            return f"instrument fault: {exc}"
        wrong = [name for name, open_ in self.bench.safe_state.items() if states[name] != open_]
        why = f"{', '.join(wrong)} read back wrong" if wrong else None
        if why is None and self.stops < 2:
            why = self._gas_follows()
        message = "safe state confirmed" if why is None else f"safe state NOT confirmed: {why}"
        self.event("safe_state", message, states=states)
        return why

    def _gas_follows(self) -> str | None:
        """Sample until every opened valve has shown in the pressures (bounded by the response time)."""
        end = self.clock.now() + self.bench.valve_response_s + self.period_s
        try:
            while self.watch.pending and self.clock.now() <= end:
                self.clock.sleep(self.period_s)
                self.sample()
        except (Abort, DriverError) as exc:
            # A gauge that cannot read cannot show the gas: name its fault first, so that the
            # record does not blame only a "stuck valve … (no reading)" (fault campaign).
            failing = "; ".join(f"{c}: {m}" for c, m in self.session.read_errors.items())
            return f"instrument fault: {failing} ({exc})" if failing else str(exc)
        if self.watch.pending:
            return "valves did not show in the pressures in time"
        return self._vents_to_atmosphere()

    def _vents_to_atmosphere(self) -> str | None:
        """Sample until the volumes now open to the atmosphere read it, or stall short of it."""
        vent = self.watch.venting(self.clock.now(), self.period_s)
        if vent is None or vent.vented(self.last):
            return None
        self.event("safe_state", f"venting {', '.join(vent.floors)} to the atmosphere")
        why = vent.check(self.clock.now(), self.last)
        try:
            while why is None and self.clock.now() <= vent.deadline_s + self.period_s:
                self.clock.sleep(self.period_s)
                values = self.sample()
                if vent.vented(values):
                    return None
                why = vent.check(self.clock.now(), values)
        except (Abort, DriverError) as exc:
            return str(exc)
        return why or "the vent did not finish in time"

    def event(self, kind: str, message: str, **data: Any) -> None:
        """Record an event at the clock's time."""
        t = self.clock.now()
        self.writer.event(t, kind, message, step=self.step_name, **data)
        self.observer.event(t, kind, message)

    def steps(self, steps: Sequence[Step], outcome: RunOutcome) -> None:
        """Run ``steps`` in order."""
        for step in steps:
            if step.kind == "repeat":
                self._repeat(step, outcome)
                continue
            self.step_name = step.fields.get("name", step.kind)
            self.event("step", f"{step.kind} at {step.location}")
            self._progress(step)
            for kept in self.series.values():
                kept.clear()
            self._keep_series = step.kind in SERIES_STEPS
            getattr(self, f"_{step.kind}")(step, outcome)

    def _progress(self, step: Step) -> None:
        index = min(self._executed, self._plan.count - 1)
        self._executed += 1
        nominal, maximum = step_durations(step, self.bench.valve_response_s)
        remaining = self._plan.nominal_after(index)
        self.observer.step_started(
            StepProgress(
                name=self.step_name,
                kind=step.kind,
                index=index + 1,
                total=self._plan.count,
                started_s=self.clock.now(),
                nominal_s=nominal,
                max_s=maximum,
                remaining_after_s=remaining,
            )
        )

    # --- the steps -------------------------------------------------------------------------------

    def _set_valves(self, step: Step, outcome: RunOutcome) -> None:
        self.set_valves(step.fields["valves"])
        self.sample()

    def _wait(self, step: Step, outcome: RunOutcome) -> None:
        self.hold(step.fields["duration"])

    def _isolate(self, step: Step, outcome: RunOutcome) -> None:
        volume = step.fields["volume"]
        self.set_valves({n: False for n, v in self.bench.valves.items() if volume in v.between})
        self.sample()

    def _pressure_channel(self, step: Step) -> str:
        if "channel" in step.fields:
            return str(step.fields["channel"])
        volume = step.fields["volume"]
        for name, spec in self.bench.channels.items():
            if spec.volume == volume and spec.measures == "pressure":
                return name
        raise Abort(f"{step.location}: no pressure channel on volume {volume!r}")

    def _open_path(self, channel: str) -> tuple[str, ...]:
        """The open valves joining ``channel``'s volume to everything it shares gas with: the ones
        a seized valve would be among when a fill or a pump-down does not show."""
        volume = self.bench.channels[channel].volume
        if volume is None:
            return ()
        places = joined(self.bench, self.watch.states, volume)
        return tuple(
            n for n, v in self.bench.valves.items() if self.watch.states.get(n) and set(v.between) <= places
        )

    def _toward(self, channel: str, target: float, valves: tuple[str, ...], what: str) -> None:
        """Expect ``channel`` to head for ``target`` now that a path is open (else a valve is stuck)."""
        start = self.last.get(channel)
        if start is not None:
            self.watch.expect(channel, valves, start, target, self.clock.now(), what)

    def _fill(self, step: Step, outcome: RunOutcome) -> None:
        channel, target, tol = self._pressure_channel(step), step.fields["to"], step.fields["tolerance"]
        through = step.fields.get("through")
        if through is not None:
            self.set_valves({through: True})
        self._toward(channel, target, self._open_path(channel), "opened to fill")
        reached = self.hold(step.fields["timeout"], lambda v: _near(v.get(channel), target, tol))
        if through is not None:
            self.set_valves({through: False})
        if not reached:
            raise Abort(
                f"fill: {channel} did not reach {target:g} ± {tol:g} Pa in {step.fields['timeout']:g} s"
            )

    def _vent(self, step: Step, outcome: RunOutcome) -> None:
        volume = step.fields["volume"]
        through = step.fields.get("through") or next(
            (n for n, v in self.bench.valves.items() if volume in v.between and "atmosphere" in v.between),
            None,
        )
        if through is None:
            raise Abort(f"vent: no valve between {volume!r} and the atmosphere")
        self.set_valves({through: True})
        channel = self._pressure_channel(step)
        self.hold(step.fields.get("timeout", 60.0), lambda v: _near(v.get(channel), ATMOSPHERE_PA, 2000.0))

    def _pump_down(self, step: Step, outcome: RunOutcome) -> None:
        channel, below = self._pressure_channel(step), step.fields["below"]
        self._toward(channel, below, self._open_path(channel), "opened to pump down")
        if not self.hold(step.fields["timeout"], lambda v: v.get(channel) is not None and v[channel] < below):
            raise Abort(
                f"pump_down: {channel} did not fall below {below:g} Pa in {step.fields['timeout']:g} s"
            )

    def _stabilise(self, step: Step, outcome: RunOutcome) -> None:
        channel, window = step.fields["channel"], step.fields.get("window", 30.0)
        volume = self.bench.channels[channel].volume
        size = self.bench.volumes[volume].size_m3 if volume else 1.0
        reject_slope = step.fields["reject_limit"] / size  # Pa/s a leak at the limit produces
        start = len(self.series[channel])

        per_window = max(int(window / self.period_s), 2)

        # The raw pressure, not p·T_ref/T: over a short window a thermocouple's noise, scaled
        # by p/T, would swamp the slope changes the detection looks for.
        def settled(_: dict[str, float | None]) -> bool:
            count = len(self.series[channel]) - start
            # Four windows: the three consecutive agreeing changes the detection asks for; and
            # only a completed window can change the answer, so the detection runs once per window.
            if count < 4 * per_window or count % per_window:
                return False
            t, p = _arrays(self.series[channel][start:])
            return detect_settling(t, p, -reject_slope, window).settled

        if not self.hold(step.fields["max"], settled):
            if step.fields.get("on_timeout", "fail") == "fail":
                raise Abort(f"stabilise: {channel} did not settle in {step.fields['max']:g} s")
            self.event("warning", "stabilise: not settled, continuing as the procedure says")

    def _window(
        self, channel: str, temp_channel: str | None, start: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Times, pressures and (aligned, if a thermometer is named) temperatures since ``start``."""
        t, p = _arrays([(ti, pi) for ti, pi in self.series[channel] if ti >= start])
        if temp_channel is None:
            return t, p, None
        temps = dict(self.series[temp_channel])
        return t, p, np.array([temps.get(ti, math.nan) or math.nan for ti in t])

    def _fit_window(
        self,
        channel: str,
        volumes: tuple[str, ...],
        temp_channel: str | None,
        start: float,
        sign: float = 1.0,
    ) -> tuple[DecayFit, Budget]:
        """Fit the window since ``start`` and fold in the bench's Type-B terms."""
        t, p, temperature = self._window(channel, temp_channel, start)
        size = sum(self.bench.volumes[v].size_m3 for v in volumes)
        fit = fit_decay(t, sign * p, temperature, volume_m3=size)
        return with_type_b(fit, self.bench, channel, volumes, temp_channel, p, temperature)

    def _fit_hold(
        self,
        name: str,
        channel: str,
        volume: str,
        duration_s: float,
        temp_channel: str | None,
        sign: float,
    ) -> tuple[DecayFit, Budget, tuple[float, float]]:
        """Hold for ``duration_s`` with a live estimate, then fit the samples of that window."""
        live = LiveLeakRate(self.bench.volumes[volume].size_m3)

        def feed(t: float, values: dict[str, float | None]) -> None:
            p = values.get(channel)
            if p is None:
                return
            live.add(t, sign * p, values.get(temp_channel) if temp_channel else None)
            if live.n >= 3:
                self.observer.leak_rate(name, live.leak_rate_pa_m3_s, live.stderr_pa_m3_s, live.n)

        start = self.clock.now()
        self.hold(duration_s, each=feed)
        fit, budget = self._fit_window(channel, (volume,), temp_channel, start, sign)
        return fit, budget, (start, self.clock.now())

    def _measure_decay(self, step: Step, outcome: RunOutcome) -> None:
        f = step.fields
        sign = -1.0 if f.get("direction") == "rise" else 1.0
        temp = f.get("temperature")
        fit, budget, window = self._fit_hold(f["name"], f["channel"], f["volume"], f["duration"], temp, sign)
        entry = decay_entry(fit, f["channel"], window, sign, f.get("limit"), temp is not None, budget)
        self._measured(outcome, f["name"], entry)

    def _measured(self, outcome: RunOutcome, name: str, entry: dict[str, Any]) -> None:
        outcome.measurements[name] = entry
        self.event("measurement", f"{name}: {entry['outcome']}", name=name, **entry)

    def _reference_leak_check(self, step: Step, outcome: RunOutcome) -> None:
        f = step.fields
        valve, channel, name, volume = f["valve"], f["channel"], f["name"], f["volume"]
        self.set_valves({valve: False})
        background, bg_budget, _ = self._fit_hold(
            f"{name} (background)", channel, volume, f["duration"], None, 1.0
        )
        self.set_valves({valve: True})
        self.hold(f.get("settle", self.bench.valve_response_s))
        with_leak, leak_budget, window = self._fit_hold(name, channel, volume, f["duration"], None, 1.0)
        self.set_valves({valve: False})
        # The volume and the gauge's span scale both fits alike: they enter once, on the difference.
        type_b = type_b_for(self.bench, channel, (volume,), None, 0.0)
        certificate = self.bench.reference_leaks.get(valve)
        entry = reference_leak_entry(
            _independent_part(with_leak, leak_budget),
            _independent_part(background, bg_budget),
            f["certified_rate"],
            f["tolerance_relative"],
            correlated_rel=math.hypot(type_b.volume_rel, type_b.gauge_rel),
            certificate_rel=certificate.uncertainty_rel if certificate else 0.0,
        )
        entry.update(channel=channel, window_s=list(window))
        if certificate is not None:
            entry["certificate"] = certificate.certificate
        self._measured(outcome, name, entry)

    def _compartment_isolation(self, step: Step, outcome: RunOutcome) -> None:
        f = step.fields
        name, limit = f["name"], f.get("limit")
        for hatch in f["hatches"]:
            # One after another, as a crew would: each closure is confirmed before the next.
            self.set_valves({hatch: False})
            self.event("hatch", f"{hatch} closed", valve=hatch)
            self.hold(self.bench.valve_response_s)
        states = self.session.valve_states()
        groups = [g for g in segments(self.bench, states) if self._segment_gauge(g)]
        start = self.clock.now()
        self.hold(f["watch"])
        rates = []
        for group in groups:
            segment = "+".join(group)
            channel = self._segment_gauge(group)
            assert channel is not None
            temp = next(
                (
                    c
                    for c, sp in self.bench.channels.items()
                    if sp.measures == "temperature" and sp.volume in group
                ),
                None,
            )
            fit, budget = self._fit_window(channel, group, temp, start)
            entry = decay_entry(fit, channel, (start, self.clock.now()), 1.0, limit, temp is not None, budget)
            size = sum(self.bench.volumes[v].size_m3 for v in group)
            entry["volume_m3"] = size
            rates.append(SegmentRate(segment, entry))
        rates.sort(key=lambda r: r.rate, reverse=True)
        for rank, ranked in enumerate(rates, start=1):
            ranked.entry["rank"] = rank
            self._measured(outcome, f"{name}.{ranked.name}", ranked.entry)
        found = leaking_segment(rates, limit is not None)
        outcome.findings["leaking_segment"] = found
        ranking = ", ".join(f"{r.name} {r.rate:.3g}" for r in rates)
        self.event("finding", f"{name}: leaking segment {found or 'none found'} (ranked: {ranking})")

    def _segment_gauge(self, group: tuple[str, ...]) -> str | None:
        return next(
            (c for c, s in self.bench.channels.items() if s.measures == "pressure" and s.volume in group),
            None,
        )

    def _compare(self, step: Step, outcome: RunOutcome) -> None:
        f = step.fields
        before, after = outcome.measurements.get(f["before"]), outcome.measurements.get(f["after"])
        if before is None or after is None:
            raise Abort(f"compare: {f['before']!r} or {f['after']!r} was not measured")
        result = comparison(f["name"], f["before"], before, f["after"], after)
        outcome.findings.setdefault("comparisons", []).append(result)
        low, high = result["interval95"]
        self.event(
            "finding",
            f"{f['name']}: reduction factor {result['reduction_factor']:.3g} "
            f"(95 % interval {low:.3g} to {high:.3g})",
            **result,
        )

    def _repeat(self, step: Step, outcome: RunOutcome) -> None:
        for _ in range(step.fields["times"]):
            self.steps(step.steps, outcome)

    def _prompt(self, step: Step, outcome: RunOutcome) -> None:
        message, action = step.fields["message"], step.fields.get("action")
        ok = True if self.answer is None else self.answer(message)
        self.event("prompt", message, answer="yes" if ok else "no")
        if ok != (step.fields.get("expect", "yes") == "yes"):
            raise Abort(f"operator answered no to: {message}", "operator")
        if ok and action is not None:
            if self.act is not None:
                self.act(action)
            self.event("operator", f"operator action: {action}", action=action)
        self.sample()


def _near(value: float | None, target: float, tolerance: float) -> bool:
    return value is not None and abs(value - target) <= tolerance


def _arrays(rows: Sequence[tuple[float, float | None]]) -> tuple[np.ndarray, np.ndarray]:
    t = np.array([r[0] for r in rows], dtype=np.float64)
    p = np.array([math.nan if r[1] is None else r[1] for r in rows], dtype=np.float64)
    return t, p


def _aggregate(measurements: dict[str, dict[str, Any]]) -> tuple[RunVerdict, str]:
    outcomes = {name: m["outcome"] for name, m in measurements.items()}
    failed = [n for n, o in outcomes.items() if o == "FAIL"]
    if failed:
        return RunVerdict.FAIL, f"failed: {', '.join(failed)}"
    unsure = [n for n, o in outcomes.items() if o == "INCONCLUSIVE"]
    refused = {n: measurements[n].get("refusal") or "" for n in unsure}
    not_sealed = [f"{n}: {why}" for n, why in refused.items() if why.startswith(NOT_ISOLATED)]
    if not_sealed:  # testing longer would not help: say what is wrong
        return RunVerdict.INCONCLUSIVE, f"not decisive: {'; '.join(not_sealed)}"
    if unsure:
        return RunVerdict.INCONCLUSIVE, f"not decisive, test longer: {', '.join(unsure)}"
    return RunVerdict.PASS, "every measurement within its limit" if outcomes else "no measurement taken"


def _independent_part(fit: DecayFit, budget: Budget) -> DecayFit:
    """``fit`` with only the Type-B terms that differ from one fit to the next (steps, temperature)."""
    own = math.hypot(budget.terms["resolution"], budget.terms["temperature"])
    return replace(fit, type_b_pa_m3_s=own)
