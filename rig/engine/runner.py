"""Execute a validated procedure: sample, step, record, and end in the bench's safe state.

Every step samples every channel once per ``sample_period`` (timestamps from the clock),
appends the samples to the run record and checks the bench's pressure limits on each
sample (a trip stops the run at once). Whatever happens, the bench's safe state is
applied at the end and verified by readback and by the pressures: a valve that does not
show in the gas as the bench's volumes imply is a stuck valve, a fault.
"""

from __future__ import annotations

import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from drivers.errors import DriverError
from rig.clock import Clock
from rig.engine.abort import Abort
from rig.engine.evidence import PositionWatch
from rig.engine.masters import MasterStore
from rig.engine.observer import EventStream, RunObserver, StepProgress
from rig.engine.range_watch import EVENT_KIND, RangeWatch
from rig.engine.safe_state import apply_safe_state
from rig.engine.samples import SampleStore
from rig.engine.session import RigSession
from rig.engine.step_context import EngineContext
from rig.engine.valve_watch import ValveWatch
from rig.outcome import Outcome
from rig.procedure.loader import Procedure
from rig.procedure.plan import Plan
from rig.record.measurement import Measurement
from rig.record.results import RunResults
from rig.steps import Step
from rig.steps.base import Brought
from rig.steps.context import Answer

__all__ = ["EXIT_CODES", "STATUS", "Abort", "RunOutcome", "RunVerdict", "Runner"]

# A channel whose instrument has failed this long (and this many periods) is an instrument fault.
INSTRUMENT_FAULT_S = 30.0
INSTRUMENT_FAULT_PERIODS = 5


# How a run ended, as the interface reports it: PASS, FAIL, INCONCLUSIVE or ABORTED of the one vocabulary.
RunVerdict = Outcome

EXIT_CODES = {Outcome.PASS: 0, Outcome.FAIL: 1, Outcome.ABORTED: 3, Outcome.INCONCLUSIVE: 4}
STATUS = {
    Outcome.PASS: "passed",
    Outcome.FAIL: "failed",
    Outcome.INCONCLUSIVE: "inconclusive",
    Outcome.ABORTED: "aborted",
}


@dataclass
class RunOutcome:
    """What a run produced."""

    verdict: Outcome
    reason: str
    measurements: dict[str, Measurement] = field(default_factory=dict)
    safe_state_confirmed: bool = False
    # Why the safe state is not confirmed (None when it is), and what showed each part of it.
    safe_state_reason: str | None = "the safe state was not applied"
    safe_state_evidence: dict[str, dict[str, str]] = field(default_factory=dict)
    # Findings beyond measurements (compartment isolation adds ``leaking_segment``).
    findings: dict[str, Any] = field(default_factory=dict)
    # Instrument trouble the run rode through: channel → failed reads, instrument → retries.
    faults: dict[str, Any] = field(default_factory=dict)

    def results(self) -> dict[str, Any]:
        """What ``results.json`` holds: the verdict, the reason, the measurements, findings, faults."""
        return RunResults(
            verdict=self.verdict,
            reason=self.reason,
            measurements=self.measurements,
            safe_state_confirmed=self.safe_state_confirmed,
            safe_state_reason=self.safe_state_reason,
            safe_state_evidence=self.safe_state_evidence,
            findings=self.findings,
            faults=self.faults,
        ).to_json()


class Runner:
    """Runs one procedure on one session, telling one event stream what happens.

    ``observers`` watch the run in order (the record first: :class:`rig.execution.recorder.Recorder`,
    then the live view, a test's probe); ``answer`` answers operator prompts (None: yes to
    all); ``act`` performs what a confirmed prompt's ``action`` names (a simulated bench acts
    it out; None: recorded only). :func:`rig.execution.execute` builds one.
    """

    def __init__(
        self,
        procedure: Procedure,
        session: RigSession,
        clock: Clock,
        observers: Sequence[RunObserver] = (),
        answer: Callable[[str], bool | Answer] | None = None,
        act: Callable[[str], None] | None = None,
    ) -> None:
        self.procedure = procedure
        self.bench = procedure.bench
        self.session = session
        self.clock = clock
        self.answer = answer
        self.act = act
        self.events = EventStream(observers)
        # The record's id, when the run is recorded (set by `execute`): for observers that link to it.
        self.run_id: str | None = None
        self.period_s = procedure.sample_period_s
        self.step_name = "start"
        # Stop requests (Ctrl-C, SIGTERM, SIGHUP): after the first the run stops at its next
        # sample and cleans up; a second one stops at once, skipping the cleanup steps and the
        # wait for the gas, but never the safe state's commands.
        self.stops = 0
        self._stop_why = ""
        self._stops_logged = 0
        self._waiting_for_operator = False
        self._in_cleanup = False
        self._in_safe_state = False
        # The samples of the current step, kept in memory only by steps that fit or judge them,
        # and only of the channels they fit (the record on disk has them all): a week of
        # monitoring must not grow the process.
        self.series = SampleStore()
        # Samples that read nothing because the instrument failed; beyond range is counted apart.
        self.dropouts: dict[str, int] = dict.fromkeys(self.bench.channels, 0)
        self.ranges = RangeWatch(self.bench.channels)
        self.last: dict[str, float | None] = {}
        self.watch = ValveWatch(self.bench, {})
        self.positions = PositionWatch(self.bench)
        # The samples of the last two valve responses: what the gas shows of a closed valve.
        self.recent: deque[tuple[float, dict[str, float | None]]] = deque()
        self.read_failures: dict[str, int] = {}
        self._failing_since: dict[str, float] = {}
        # Counted, never listed: a repeat of a million passes must not cost a million entries.
        steps = (*procedure.setup, *procedure.main, *procedure.cleanup)
        self._plan = Plan(steps, self.bench.valve_response_s)
        self._tripped = False
        self._executed = 0
        # The level each volume was last brought to by a step of this run (a fill, a pump-down),
        # with what it read before: a gross leak is judged against it (rig.steps.gross_leak).
        self.brought: dict[str, Brought] = {}
        # Where master parts' offsets are kept (beside the run records); None: a run not recorded.
        self.masters: MasterStore | None = None
        self._last_recorded_s: float | None = None  # the time of the last recorded sample
        self._last_recorded: dict[str, float | None] = {}  # and its values

    # --- sampling --------------------------------------------------------------------------------

    def sample(self) -> dict[str, float | None]:
        """Read every channel now, record it, check the limits, the valves and the instruments.

        Returns the instant's recorded reading: this one, or the first of an instant already sampled.
        """
        t = self.clock.now()
        values = self.session.read_all()
        # One recorded sample per instant. A virtual clock stands still while steps that take no
        # time (valves, an isolation) each read the bench: those readings serve the checks below,
        # but only the instant's first is recorded, so that samples.csv is a series a fit can read
        # again and holds exactly what the fits saw. On a wall clock every reading has its own time.
        repeated = t == self._last_recorded_s
        if not repeated:
            self._last_recorded_s, self._last_recorded = t, values
            self.events.sampled(t, values)
            self._remember(t, values)
        recorded = self._last_recorded
        if self.stops > self._stops_logged:
            self._stops_logged = self.stops
            self.event("operator", f"stop requested ({self._stop_why}); a second request stops at once")
        if (failure := self.events.failure) is not None and not self._in_cleanup:
            # The bench must not run on unrecorded: stop, and let the safe state go on without a disk.
            raise Abort(f"record: {failure}", "fault")
        if not repeated:
            beyond = self.session.out_of_range
            for name, value in values.items():
                if value is None and name not in beyond:
                    self.dropouts[name] += 1
            for change in self.ranges.update(t, beyond):
                self.event(EVENT_KIND, change.message(), channel=change.channel, state=change.state_name)
        if self.series.last_s != t:
            # A step's window begins with the instant's recorded reading, also where an earlier
            # step took it (the store restarts with each step).
            self.series.append(t, recorded)
        self.last = values
        self._instrument_health(t)
        low, high = self.bench.min_pressure_pa, self.bench.max_pressure_pa
        for name, value in values.items():
            spec = self.bench.channels[name]
            if spec.measures == "pressure" and value is not None and not low <= value <= high:
                raise Abort(
                    f"interlock: {name} at {value:.6g} Pa is outside [{low:g}, {high:g}] Pa", "interlock"
                )
        stuck = None
        if self.positions.pending:
            # A valve's own switches say more than the gas, which a blocked line can also hold still.
            stuck = self.positions.check(t, self.session.valve_positions(list(self.positions.pending)))
        stuck = stuck or self.watch.check(t, values)
        if stuck is not None:
            raise Abort(stuck, "fault")
        return recorded

    def _remember(self, t: float, values: dict[str, float | None]) -> None:
        self.recent.append((t, values))
        keep_s = 2.0 * self.bench.valve_response_s + self.period_s
        while len(self.recent) > 2 and self.recent[1][0] <= t - keep_s:
            self.recent.popleft()

    def pause(self, seconds: float) -> None:
        """Wait on the clock; a stop request ends the wait early (see :meth:`request_stop`)."""
        if not self._stopping_now():
            self.clock.sleep(seconds)

    def _stopping_now(self) -> bool:
        first = bool(self.stops) and not self._in_cleanup
        return first or (self.stops >= 2 and not self._in_safe_state)

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
            if self._stopping_now():
                raise Abort(self._stop_reason(), "operator")
            t = self.clock.now()
            values = self.sample()
            if each is not None:
                each(t, values)
            if until is not None and until(values):
                return True
            if self.clock.now() + self.period_s > end + 1e-9:
                return until is None
            self.pause(self.period_s)

    def set_valves(self, states: dict[str, bool]) -> None:
        """Move valves, then expect the gas to show it (see :mod:`rig.engine.valve_watch`)."""
        t = self.clock.now()
        self.session.set_valves(states)
        self.watch.commanded(states, t, self.last)
        self.positions.commanded(states, t)

    # --- the run ---------------------------------------------------------------------------------

    def request_stop(self, why: str = "Ctrl-C") -> None:
        """A stop request (Ctrl-C, SIGTERM, SIGHUP); safe to call from a signal handler.

        The first stops the run at its next sample and runs the cleanup steps; a second stops
        the cleanup steps too and does not wait for the gas. Neither interrupts an instrument
        transaction or the safe state's commands: this only sets a flag and ends a wait early,
        except while the run waits for the operator's answer to a prompt, which it interrupts.
        """
        self.stops += 1
        self._stop_why = self._stop_why or why
        self.clock.wake()
        if self._waiting_for_operator:
            # An answer waited for in another thread (the station's page) is ended by its own
            # `interrupt`, which makes the waiting `answer` raise KeyboardInterrupt in the runner's
            # thread; a terminal's input() is interrupted by raising here, in the signal handler.
            interrupt = getattr(self.answer, "interrupt", None)
            if interrupt is None:
                raise KeyboardInterrupt
            interrupt()

    def ask(self, message: str) -> Answer:
        """Ask the operator (None ``answer``: yes); a stop request before or during the wait stops the run.

        A bare ``bool`` from ``answer`` is taken as given by the operator at the terminal.
        """
        if self._stopping_now():
            raise Abort(self._stop_reason(), "operator")
        self._waiting_for_operator = True
        try:
            if self.answer is None:
                return Answer.now(True, "automatic", "automatic")
            given = self.answer(message)
        finally:
            self._waiting_for_operator = False
        return given if isinstance(given, Answer) else Answer.now(given, "operator", "terminal")

    def _stop_reason(self) -> str:
        if self.stops >= 2:
            return f"stopped at once by the operator ({self._stop_why}, twice)"
        return f"stopped by the operator ({self._stop_why})"

    def run(self) -> RunOutcome:
        """Setup, main, then always cleanup and the safe state."""
        outcome = RunOutcome(Outcome.PASS, "all measurements passed")
        try:
            self.watch = ValveWatch(self.bench, self.session.valve_states())
            for section in (self.procedure.setup, self.procedure.main):
                self.steps(section, outcome)
        except Abort as exc:
            outcome.verdict, outcome.reason = exc.verdict, str(exc)
            self._tripped = exc.kind == "interlock"
            # A plugin step's bug (the abort's cause) keeps its traceback in the record, for its author.
            cause = exc.__cause__
            where = {} if cause is None else {"traceback": "".join(traceback.format_exception(cause))}
            self.event(exc.kind, str(exc), **where)
        except DriverError as exc:
            outcome.verdict, outcome.reason = Outcome.ABORTED, f"instrument fault: {exc}"
            self.event("fault", outcome.reason)
        except KeyboardInterrupt:  # only while waiting for an operator's answer
            outcome.verdict, outcome.reason = Outcome.ABORTED, self._stop_reason()
            self.event("operator", outcome.reason)
        except Exception as exc:  # a bug of ours must still end in the safe state, and say what it was
            outcome.verdict, outcome.reason = Outcome.ABORTED, f"internal error: {exc!r}"
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
            self._in_safe_state = True
            safe = apply_safe_state(self)
            outcome.safe_state_confirmed = safe.confirmed
            outcome.safe_state_reason, outcome.safe_state_evidence = safe.reason, safe.evidence
            if not safe.confirmed and outcome.verdict is not Outcome.ABORTED:
                outcome.verdict = Outcome.ABORTED
                outcome.reason = f"safe state not confirmed: {safe.reason}"
        if (failure := self.events.failure) is not None and outcome.verdict is not Outcome.ABORTED:
            # A record that could not be written whole certifies nothing.
            outcome.verdict, outcome.reason = Outcome.ABORTED, f"record: {failure}"
        if outcome.verdict is Outcome.PASS:
            outcome.verdict, outcome.reason = _aggregate(outcome.measurements)
        outcome.faults = {
            "failed_reads": dict(self.read_failures),
            "dropouts": dict(self.dropouts),
            **self.ranges.counts(),
            "driver": self.session.transfer_stats(),
        }
        self.events.finished(outcome)
        return outcome

    def event(self, kind: str, message: str, **data: Any) -> None:
        """Record an event at the clock's time."""
        self.events.event(self.clock.now(), kind, message, step=self.step_name, **data)

    def steps(self, steps: Sequence[Step], outcome: RunOutcome) -> None:
        """Run ``steps`` in order, each against a context of this run (:mod:`rig.engine.step_context`)."""
        context = EngineContext(self, outcome)
        for step in steps:
            if step.is_container():
                # A repeat is no executed step: its nested steps are, and come back through here.
                step.run(context)
                continue
            self.step_name = step.label
            self.event("step", f"{step.kind} at {step.location}")
            self._progress(step)
            self.series.restart(step.kept_channels(self.bench))
            level = step.level()
            before = None if level is None else self._pressure_of(level.volume)
            _run_step(step, context)
            if level is not None:
                self.brought[level.volume] = Brought(level, before, self.procedure.gas)

    def _pressure_of(self, volume: str) -> float | None:
        """The last reading of ``volume``'s first pressure gauge that read (None: none has)."""
        for name, spec in self.bench.channels.items():
            if spec.volume == volume and spec.measures == "pressure" and self.last.get(name) is not None:
                return self.last[name]
        return None

    def _progress(self, step: Step) -> None:
        index = min(self._executed, self._plan.count - 1)
        self._executed += 1
        nominal, maximum = step.planned_duration(self.bench.valve_response_s)
        remaining = self._plan.after(index)
        self.events.step_started(
            StepProgress(
                name=self.step_name,
                kind=step.kind,
                index=index + 1,
                total=self._plan.count,
                started_s=self.clock.now(),
                nominal_s=nominal,
                max_s=maximum,
                remaining_after_s=remaining.nominal_s,
                extra_after_s=remaining.extra_s,
                waits_unbounded=step.waits_unbounded,
                unbounded_after=remaining.unbounded,
            )
        )


def _aggregate(measurements: dict[str, Measurement]) -> tuple[Outcome, str]:
    failed = [n for n, m in measurements.items() if m.outcome is Outcome.FAIL]
    if failed:
        return Outcome.FAIL, f"failed: {', '.join(failed)}"
    unsure = [n for n, m in measurements.items() if m.outcome is Outcome.INCONCLUSIVE]
    # A measurement withheld for a reason (not isolated, not steady, no master, its zero moved, the
    # verification leak unseen, ...) says it: "test longer" is the advice only for bounds that
    # straddle the limit.
    refused = [f"{n}: {measurements[n].refusal}" for n in unsure if measurements[n].refusal]
    longer = [n for n in unsure if not measurements[n].refusal]
    if refused:
        tail = f"; test longer: {', '.join(longer)}" if longer else ""
        return Outcome.INCONCLUSIVE, f"not decisive: {'; '.join(refused)}{tail}"
    if unsure:
        return Outcome.INCONCLUSIVE, f"not decisive, test longer: {', '.join(unsure)}"
    return Outcome.PASS, "every measurement within its limit" if measurements else "no measurement taken"


def _run_step(step: Step, context: EngineContext) -> None:
    """``step.run(context)``; a plugin's kind that fails with a bug aborts the run, naming the plugin.

    Ours raise on (a bug of ours is the run's "internal error", with its traceback recorded).
    """
    try:
        step.run(context)
    except (Abort, DriverError, KeyboardInterrupt):
        raise
    except Exception as exc:
        module = type(step).__module__
        if module == "rig" or module.startswith("rig."):
            raise
        raise Abort(f"step {step.label} ({step.kind}, from {module}) failed: {exc!r}", "fault") from exc
