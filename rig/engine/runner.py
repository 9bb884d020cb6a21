"""Execute a validated procedure: sample, step, record, and end in the bench's safe state.

Every step samples every channel once per ``sample_period`` (timestamps from the clock),
appends the samples to the run record and checks the bench's pressure limits on each
sample (a trip stops the run at once). Whatever happens, the bench's safe state is
applied at the end and verified by readback. Steps the engine does not run yet are
refused before anything moves.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivers.errors import DriverError
from rig.analysis import decide, fit_decay
from rig.analysis.settling import detect_settling
from rig.clock import Clock
from rig.engine.session import RigSession
from rig.procedure.loader import Procedure, Step
from rig.record.run_store import RunWriter

RUNNABLE = {
    "set_valves",
    "wait",
    "isolate",
    "fill",
    "vent",
    "pump_down",
    "measure_decay",
    "stabilise",
    "repeat",
    "prompt",
}
ATMOSPHERE_PA = 101325.0


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
    """Stop the run: an interlock, a fault, an operator, a step that could not do its job."""


@dataclass
class RunOutcome:
    """What a run produced."""

    verdict: RunVerdict
    reason: str
    measurements: dict[str, dict[str, Any]] = field(default_factory=dict)
    safe_state_confirmed: bool = False


def unsupported_steps(procedure: Procedure) -> list[Step]:
    """Steps of ``procedure`` this engine cannot run yet (checked before anything moves)."""

    def walk(steps: Sequence[Step]) -> list[Step]:
        out = []
        for s in steps:
            if s.kind not in RUNNABLE:
                out.append(s)
            out.extend(walk(s.steps))
        return out

    return walk((*procedure.setup, *procedure.main, *procedure.cleanup))


class Runner:
    """Runs one procedure on one session, recording into one run."""

    def __init__(
        self,
        procedure: Procedure,
        session: RigSession,
        clock: Clock,
        writer: RunWriter,
        answer: Callable[[str], bool] | None = None,
    ) -> None:
        self.procedure = procedure
        self.bench = procedure.bench
        self.session = session
        self.clock = clock
        self.writer = writer
        self.answer = answer
        self.period_s = procedure.sample_period_s
        self.step_name = "start"
        # Ctrl-C presses: after the first the run stops at its next sample and cleans up; a second
        # one stops at once, skipping the cleanup steps but never the safe state.
        self.stops = 0
        self._in_cleanup = False
        self.series: dict[str, list[tuple[float, float | None]]] = {c: [] for c in self.bench.channels}

    # --- sampling --------------------------------------------------------------------------------

    def sample(self) -> dict[str, float | None]:
        """Read every channel now, record it, check the limits."""
        t = self.clock.now()
        values = self.session.read_all()
        self.writer.sample(t, self.step_name, values)
        for name, value in values.items():
            self.series[name].append((t, value))
            spec = self.bench.channels[name]
            limits = (self.bench.min_pressure_pa, self.bench.max_pressure_pa)
            if spec.measures == "pressure" and value is not None and not limits[0] <= value <= limits[1]:
                raise Abort(
                    f"interlock: {name} at {value:.6g} Pa is outside [{limits[0]:g}, {limits[1]:g}] Pa"
                )
        return values

    def hold(self, duration_s: float, until: Callable[[dict[str, float | None]], bool] | None = None) -> bool:
        """Sample for up to ``duration_s``; True as soon as ``until`` holds (False if time ran out)."""
        end = self.clock.now() + duration_s
        while True:
            if self.stops and not self._in_cleanup:
                raise Abort("stopped by the operator (Ctrl-C)")
            values = self.sample()
            if until is not None and until(values):
                return True
            if self.clock.now() + self.period_s > end + 1e-9:
                return until is None
            self.clock.sleep(self.period_s)

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
            for section in (self.procedure.setup, self.procedure.main):
                self.steps(section, outcome)
        except Abort as exc:
            outcome.verdict, outcome.reason = RunVerdict.ABORTED, str(exc)
        except DriverError as exc:
            outcome.verdict, outcome.reason = RunVerdict.ABORTED, f"instrument fault: {exc}"
        except KeyboardInterrupt:
            outcome.verdict, outcome.reason = (
                RunVerdict.ABORTED,
                "stopped at once by the operator (second Ctrl-C)",
            )
        self.event("cleanup", "cleanup and safe state")
        self._in_cleanup = True
        try:
            if self.stops < 2:
                self.steps(self.procedure.cleanup, outcome)
        except (Abort, DriverError, KeyboardInterrupt) as exc:
            self.event("fault", f"cleanup: {exc!r}")
        finally:
            outcome.safe_state_confirmed = self.safe_state()
            if not outcome.safe_state_confirmed and outcome.verdict is not RunVerdict.ABORTED:
                outcome.verdict, outcome.reason = RunVerdict.ABORTED, "safe state not confirmed by readback"
        if outcome.verdict is RunVerdict.PASS:
            outcome.verdict, outcome.reason = _aggregate(outcome.measurements)
        return outcome

    def safe_state(self) -> bool:
        """Drive every valve to the bench's safe state and confirm it by readback."""
        try:
            self.session.set_valves(self.bench.safe_state)
            states = self.session.valve_states()
        except DriverError as exc:
            self.event("fault", f"safe state: {exc}")
            return False
        ok = all(states[name] == open_ for name, open_ in self.bench.safe_state.items())
        self.event("safe_state", "safe state confirmed" if ok else "safe state NOT confirmed", states=states)
        return ok

    def event(self, kind: str, message: str, **data: Any) -> None:
        """Record an event at the clock's time."""
        self.writer.event(self.clock.now(), kind, message, step=self.step_name, **data)

    def steps(self, steps: Sequence[Step], outcome: RunOutcome) -> None:
        """Run ``steps`` in order."""
        for step in steps:
            self.step_name = step.fields.get("name", step.kind)
            self.event("step", f"{step.kind} at {step.location}")
            getattr(self, f"_{step.kind}")(step, outcome)

    # --- the steps -------------------------------------------------------------------------------

    def _set_valves(self, step: Step, outcome: RunOutcome) -> None:
        self.session.set_valves(step.fields["valves"])
        self.sample()

    def _wait(self, step: Step, outcome: RunOutcome) -> None:
        self.hold(step.fields["duration"])

    def _isolate(self, step: Step, outcome: RunOutcome) -> None:
        volume = step.fields["volume"]
        touching = {n: False for n, v in self.bench.valves.items() if volume in v.between}
        self.session.set_valves(touching)
        self.sample()

    def _pressure_channel(self, step: Step) -> str:
        if "channel" in step.fields:
            return str(step.fields["channel"])
        volume = step.fields["volume"]
        for name, spec in self.bench.channels.items():
            if spec.volume == volume and spec.measures == "pressure":
                return name
        raise Abort(f"{step.location}: no pressure channel on volume {volume!r}")

    def _fill(self, step: Step, outcome: RunOutcome) -> None:
        channel, target, tol = self._pressure_channel(step), step.fields["to"], step.fields["tolerance"]
        through = step.fields.get("through")
        if through is not None:
            self.session.set_valves({through: True})
        reached = self.hold(step.fields["timeout"], lambda v: _near(v.get(channel), target, tol))
        if through is not None:
            self.session.set_valves({through: False})
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
        self.session.set_valves({through: True})
        channel = self._pressure_channel(step)
        self.hold(step.fields.get("timeout", 60.0), lambda v: _near(v.get(channel), ATMOSPHERE_PA, 2000.0))

    def _pump_down(self, step: Step, outcome: RunOutcome) -> None:
        channel, below = self._pressure_channel(step), step.fields["below"]
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

        def settled(_: dict[str, float | None]) -> bool:
            t, p = _arrays(self.series[channel][start:])
            if t.size < 8 * max(int(window / self.period_s), 2):
                return False
            return detect_settling(t, p, -reject_slope, window).settled

        if not self.hold(step.fields["max"], settled):
            if step.fields.get("on_timeout", "fail") == "fail":
                raise Abort(f"stabilise: {channel} did not settle in {step.fields['max']:g} s")
            self.event("warning", "stabilise: not settled, continuing as the procedure says")

    def _measure_decay(self, step: Step, outcome: RunOutcome) -> None:
        channel, temp_channel = step.fields["channel"], step.fields.get("temperature")
        start = self.clock.now()
        self.hold(step.fields["duration"])
        rows = [(t, p) for t, p in self.series[channel] if t >= start]
        t, p = _arrays(rows)
        temperature = None
        if temp_channel is not None:
            temps = dict(self.series[temp_channel])
            temperature = np.array([temps.get(ti, math.nan) or math.nan for ti in t])
        sign = -1.0 if step.fields.get("direction") == "rise" else 1.0
        volume = self.bench.volumes[step.fields["volume"]].size_m3
        fit = fit_decay(t, sign * p, temperature, volume_m3=volume)
        entry: dict[str, Any] = {
            "value": fit.leak_rate_pa_m3_s,
            "unit": "Pa*m**3/s",
            "stderr": fit.stderr_pa_m3_s,
            "ucl95": fit.upper_bound(0.95),
            "n": fit.n,
        }
        if "limit" in step.fields:
            decision = decide(fit, step.fields["limit"])
            entry["outcome"] = decision.verdict.value
            entry["limit"] = step.fields["limit"]
            entry["additional_time_s"] = decision.additional_time_s
        else:
            entry["outcome"] = "MEASURED"
        outcome.measurements[step.fields["name"]] = entry
        self.event("measurement", f"{step.fields['name']}: {entry['outcome']}", **entry)

    def _repeat(self, step: Step, outcome: RunOutcome) -> None:
        for _ in range(step.fields["times"]):
            self.steps(step.steps, outcome)

    def _prompt(self, step: Step, outcome: RunOutcome) -> None:
        message = step.fields["message"]
        ok = True if self.answer is None else self.answer(message)
        self.event("prompt", message, answer="yes" if ok else "no")
        if ok != (step.fields.get("expect", "yes") == "yes"):
            raise Abort(f"operator answered no to: {message}")


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
        return RunVerdict.FAIL, f"above the limit: {', '.join(failed)}"
    unsure = [n for n, o in outcomes.items() if o == "INCONCLUSIVE"]
    if unsure:
        return RunVerdict.INCONCLUSIVE, f"not decisive, test longer: {', '.join(unsure)}"
    return RunVerdict.PASS, "every measurement within its limit" if outcomes else "no measurement taken"
