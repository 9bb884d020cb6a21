"""The end of every run: drive the bench to its safe state, and claim it only with evidence.

The safe state is commanded whatever happened before (a fault, an interlock, a stop), and
its commands are never cut short. Every flow controller's flow is stopped first (a zero flow
setpoint, read back), each whatever the others did, so that none feeds a volume the valves
then shut in. It is *confirmed* only when each of these holds:

0. every flow controller confirmed its zero flow;
1. every relay reads back what it was told;
2. every valve shows the position the safe state gives it, by its limit switches or by the
   gas (:mod:`rig.engine.evidence`);
3. every gauged group of volumes the safe state joins to the atmosphere reads the
   atmosphere within what its gauges can tell (their stated accuracy, noise and steps, and
   how far the bench's atmosphere may be off), having got there within ``limits.vent_time``.

Otherwise the record says ``not confirmed`` and why. After a second stop request the
pressures are not waited for: what the switches and the gas already show is all there is.
Nothing here depends on writing the record: a full disk is the record's problem, not the
bench's (:mod:`rig.record.run_writer` never raises while the run goes on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drivers.errors import DriverError
from rig.engine.abort import Abort
from rig.engine.evidence import Evidence, valve_evidence
from rig.engine.topology import joined

if TYPE_CHECKING:
    from rig.engine.runner import Runner


@dataclass(frozen=True)
class SafeState:
    """Whether the safe state is confirmed, why not, and what showed each part of it."""

    confirmed: bool
    reason: str | None = None
    # "valves": valve → what showed its position; "vented": volume → what showed it vented.
    evidence: dict[str, dict[str, str]] = field(default_factory=dict)


def apply_safe_state(runner: Runner) -> SafeState:
    """Command the bench's safe state on ``runner``'s session and judge it (see the module doc)."""
    failed = _stop_flows(runner)
    result, states = _valves_safe(runner)
    if failed:
        why = "flow not stopped on " + "; ".join(f"{name} ({reason})" for name, reason in failed.items())
        reason = why if result.confirmed else f"{why}; {result.reason}"
        result = SafeState(False, reason, result.evidence)
    return _judged(runner, result, states)


def _stop_flows(runner: Runner) -> dict[str, str]:
    """Stop every flow controller's flow; controller → why it did not confirm."""
    session = runner.session
    controllers = session.flow_controllers()
    if not controllers:
        return {}
    failed = session.stop_flows()
    for name, reason in failed.items():
        runner.event("fault", f"safe state: {name}: flow not stopped: {reason}")
    stopped = [name for name in controllers if name not in failed]
    if stopped:
        runner.event("safe_state", f"flow stopped on {', '.join(stopped)}")
    return failed


def _valves_safe(runner: Runner) -> tuple[SafeState, dict[str, bool] | None]:
    """The valves' part of the safe state, commanded and judged, and their states as read back."""
    bench = runner.bench
    try:
        runner.set_valves(bench.safe_state)
        runner.event("safe_state", "safe state commanded")
        states = runner.session.valve_states()
    except DriverError as exc:
        runner.event("fault", f"safe state: {exc}")
        return SafeState(False, f"instrument fault: {exc}"), None
    wrong = [name for name, open_ in bench.safe_state.items() if states[name] != open_]
    if wrong:
        return SafeState(False, f"{', '.join(wrong)} read back wrong"), states
    why = None if runner.stops >= 2 else _wait_for_the_gas(runner)
    if why is not None:
        return SafeState(False, why), states
    return _evidence(runner), states


def _judged(runner: Runner, result: SafeState, states: dict[str, bool] | None = None) -> SafeState:
    message = "safe state confirmed" if result.confirmed else f"safe state NOT confirmed: {result.reason}"
    runner.event("safe_state", message, states=states, evidence=result.evidence)
    return result


def _wait_for_the_gas(runner: Runner) -> str | None:
    """Sample until every opened valve has shown, the switches arrived and the vents are done."""
    end = runner.clock.now() + runner.bench.valve_response_s + runner.period_s
    try:
        while (runner.watch.pending or runner.positions.pending) and runner.clock.now() <= end:
            if runner.stops >= 2:
                return None
            runner.pause(runner.period_s)
            runner.sample()
        if runner.watch.pending:
            return "valves did not show in the pressures in time"
        why = _vents_to_atmosphere(runner)
        if why is None:
            _wait_for_closures(runner)
        return why
    except DriverError as exc:
        return _instrument_fault(runner, exc)
    except Abort as exc:  # a stuck valve, an interlock, a gauge down: the claim fails
        return _instrument_fault(runner, exc) if "no reading" in str(exc) else str(exc)


def _instrument_fault(runner: Runner, exc: Exception) -> str:
    # A gauge that cannot read cannot show the gas: name its fault first, so that the record
    # does not blame only a "stuck valve … (no reading)" (fault campaign).
    failing = "; ".join(f"{c}: {m}" for c, m in runner.session.read_errors.items())
    return f"instrument fault: {failing} ({exc})" if failing else str(exc)


def _vents_to_atmosphere(runner: Runner) -> str | None:
    """Sample until the volumes now open to the atmosphere read it, or stall short of it."""
    vent = runner.watch.venting(runner.clock.now(), runner.period_s)
    if vent is None or vent.vented(runner.last):
        return None
    runner.event("safe_state", f"venting {', '.join(vent.floors)} to the atmosphere")
    why = vent.check(runner.clock.now(), runner.last)
    while why is None and runner.clock.now() <= vent.deadline_s + runner.period_s:
        if runner.stops >= 2:
            return None  # judged on what is known (the vent is then not shown)
        runner.pause(runner.period_s)
        values = runner.sample()
        if vent.vented(values):
            return None
        why = vent.check(runner.clock.now(), values)
    return why or "the vent did not finish in time"


def _wait_for_closures(runner: Runner) -> None:
    """Sample until the closed valves that only the gas can show have been closed long enough."""
    bench = runner.bench
    due = [
        runner.watch.changed_at.get(name, 0.0) + bench.valve_response_s
        for name, open_ in bench.safe_state.items()
        if not open_ and bench.valves[name].position is None
    ]
    until = max(due, default=0.0) + runner.period_s
    while runner.clock.now() < until and runner.stops < 2:
        runner.pause(runner.period_s)
        runner.sample()


def _evidence(runner: Runner) -> SafeState:
    """Every valve's position and every vented group's pressure, shown or not."""
    bench = runner.bench
    try:
        positions = runner.session.valve_positions(list(bench.safe_state))
    except DriverError as exc:
        runner.event("fault", f"safe state: limit switches: {exc}")
        positions = {}
    shown: dict[str, dict[str, str]] = {"valves": {}, "vented": {}}
    missing: list[str] = []
    for name, open_ in bench.safe_state.items():
        found = valve_evidence(runner.watch, name, open_, positions, runner.recent)
        _file(found, name, shown["valves"], missing)
    for volume, found in _vented(runner).items():
        _file(found, volume, shown["vented"], missing)
    if missing and runner.stops >= 2:
        missing.append("the gas was not waited for (stopped at once by the operator)")
    if missing:
        return SafeState(False, "; ".join(missing), shown)
    return SafeState(True, None, shown)


def _file(found: Evidence, name: str, shown: dict[str, str], missing: list[str]) -> None:
    if found.shown:
        shown[name] = found.how
    else:
        missing.append(found.how)


def _vented(runner: Runner) -> dict[str, Evidence]:
    """Each gauged volume the safe state joins to the atmosphere: does it read the atmosphere?"""
    bench, watch = runner.bench, runner.watch
    places = joined(bench, bench.safe_state, "atmosphere")
    if places - set(bench.volumes) - {"atmosphere"}:
        outside = ", ".join(sorted(places - set(bench.volumes) - {"atmosphere"}))
        return {"atmosphere": Evidence(False, f"the safe state joins the atmosphere to {outside}")}
    vent = watch.venting(runner.clock.now(), runner.period_s)
    out: dict[str, Evidence] = {}
    for volume in sorted(places & set(bench.volumes)):
        channel = watch.gauge(volume)
        if not channel or vent is None:
            out[volume] = Evidence(False, f"{volume}: vented, but no gauge can show it at the atmosphere")
            continue
        value = runner.last.get(channel)
        if value is None:
            out[volume] = Evidence(False, f"{volume}: {channel} has no reading to show it vented")
        elif not vent.reads_atmosphere(channel, value):
            out[volume] = Evidence(
                False,
                f"{volume}: {channel} reads {value:.6g} Pa, not the atmosphere "
                f"({bench.atmosphere_pa:.6g} ± {vent.tolerances[channel]:.3g} Pa)",
            )
        else:
            out[volume] = Evidence(True, f"{volume}: {channel} reads the atmosphere ({value:.6g} Pa)")
    return out
