"""Fault campaign: every simulated fault, injected at several points of a pressure-decay run.

Each case runs ``procedures/pressure_decay.yaml`` in-process over the real stack (see
:mod:`tests.engine.sim_runs`) with one fault scheduled on the simulation clock when a step
begins (fill + 60 s, stabilise + 300 s, decay + 240 s, or as the cleanup starts), then asks:

* the physics: the valves sit as the safe state says and the volumes are vented, and in
  every case a safe state the controller *claims* is one the physics shows;
* the record: the reason (``results.json`` and ``rig runs``) names the cause, and the
  event log has it; ``results.faults`` counts what was ridden through;
* the samples: every sample period before the fault has its row, and the faulted channel
  has no empty cell there (nothing the instruments served before the fault is lost).

What the right behaviour is, kind by kind (``expect`` below):

==============  ==============================  ========  ==================================================
kind            injected as                     expect    why
==============  ==============================  ========  ==================================================
timeout         gauges, no reply from then on   abort     30 s without a reading is an instrument fault
timeout_brief   gauges, 10 s without replies    ride      dropouts (empty cells), counted in failed_reads
garbled         gauges, replies unparseable     abort     as timeout
disconnect      gauges, connection dropped      abort     as timeout (the driver's reconnects are counted)
sensor_error    gauge channel 2 (p_article)     abort     the gauge's own failure counts as an instrument
                                                          fault (fixed here: it was a silent dropout)
stuck_valve     article valve (DAQ relay 205)   abort     at fill: the fill stops; later: the safe state's
                                                          opening does not show in the gas, so it is NOT
                                                          claimed (physics: article still pressurised)
zero_shift      p_article reads +10 Pa          bias      invisible to the engine by design: the run ends
                                                          with its verdict and safely; nothing is recorded
interlock       fill: the supply left open      abort     the limit trips on the sample, straight to the
                past max_pressure 1.5 bar;                safe state
                later: max 2.2 bar and a
                +50 kPa shift on p_article
drop            1 reply in 50 lost, whole run   ride      the driver's retry hides it: PASS, and
                                                          results.faults.driver retries > 0
==============  ==============================  ========  ==================================================

Injected *as the cleanup starts* (after the measurements), a gauge fault does not change the
verdict: the cleanup logs it ("fault" events), the relays' readback confirms the safe state
(dead gauges cannot gainsay it, as in tests/engine/test_run_outcomes.py) and the physics is
safe. The interlock there is a +50 kPa zero shift, so after the vent the gauge still reads
1.5 bar: the vent cannot be confirmed, and the safe state is not claimed (the trip is logged).
The stuck valve aborts there too.
The DAQ (relays) failing for good is the one case where the physics cannot be made safe, and
then the controller says so (``test_a_dead_relay_controller_is_never_claimed_safe``).

``rate_of_rise.yaml`` (pump-down, isolate, rise) is where a seized valve hides best: its pump
valve seized open as the chamber is isolated keeps pumping it, so the "rise" is flat or falling
and a bound alone would PASS it. There the measurement is refused as not isolated, and the safe
state's vent stalls short of the atmosphere, so it is not confirmed
(``test_a_seized_valve_in_a_rate_of_rise``).

CI runs one representative point per kind; ``RELIABILITY_FULL=1`` runs every kind × point.
``RELIABILITY_REPORT=path`` appends one JSON line per case (kind, point, verdict, reason,
safe in physics, samples before the fault ok) for RELIABILITY.md.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rig.cli import main as rig_main
from rig.engine.observer import NullObserver
from rig.engine.runner import Runner, RunOutcome, RunVerdict
from rig.outcome import Outcome
from rig.record.run_store import read_samples
from rig.sim.faults import Fault
from rig.sim.simulated_bench import SimulatedBench
from tests.engine.sim_runs import (
    MOCKUP,
    ROOT,
    Finished,
    ShortWaits,
    overfilling,
    run,
    short_waits_on,
    variant,
    with_faults,
    without_switches,
)

pytestmark = pytest.mark.integration

FULL = os.environ.get("RELIABILITY_FULL") == "1"
REPORT = os.environ.get("RELIABILITY_REPORT")
# Loopback replies take well under a millisecond; a short timeout keeps the campaign quick
# (a spurious one would only be a retry, counted, never an abort).
TIMEOUT_S = 0.15
POINTS = {"fill": ("fill", 60.0), "stabilise": ("stabilise", 300.0), "measure": ("decay", 240.0)}
POINTS_ALL = (*POINTS, "cleanup")
# An instrument gone silent is waited out at every sample until it is declared faulty (30 s of them)
# and again in the safe state: from a sample period before its silence it alone waits this long.
SILENT_TIMEOUT_S = 0.05
# The lost replies (one in 50, some 110 a run) are each waited out once, and a spurious timeout is
# only one more retry (a reading is lost only if both of its attempts time out): half TIMEOUT_S.
DROP_TIMEOUT_S = 0.075


@dataclass(frozen=True)
class Kind:
    """One fault kind: what is injected, what must happen, how the record names it."""

    name: str
    fault: dict[str, Any]  # Fault fields but at_s
    expect: str  # "abort", "ride" or "bias"
    cause: str = ""  # in the reason (abort) or the fault events (ride)
    channel: str = "p_article"  # the channel whose samples before the fault are checked
    points: tuple[str, ...] = POINTS_ALL
    ci_point: str = "measure"
    bench_edit: tuple[str, str] | None = None
    safe: bool = True  # whether the physics ends safe (else: the controller must not claim it)
    unsafe_from: frozenset[str] = field(default_factory=frozenset)  # points where it may not


GAUGES: dict[str, Any] = {"instrument": "gauges"}
KINDS = {
    k.name: k
    for k in (
        Kind(
            "timeout", {**GAUGES, "kind": "timeout"}, "abort", "InstrumentTimeoutError", ci_point="stabilise"
        ),
        Kind(
            "timeout_brief",
            {**GAUGES, "kind": "timeout", "duration_s": 10.0},
            "ride",
            "InstrumentTimeoutError",
            points=tuple(POINTS),
        ),
        Kind("garbled", {**GAUGES, "kind": "garbled"}, "abort", "ProtocolError"),
        Kind("disconnect", {**GAUGES, "kind": "disconnect"}, "abort", "Disconnected", ci_point="fill"),
        Kind("sensor_error", {**GAUGES, "kind": "sensor_error", "channel": 2}, "abort", "sensor_error"),
        Kind(
            "stuck_valve",
            {"instrument": "daq", "kind": "stuck_valve", "channel": 205},
            "abort",
            "stuck valve",
            channel="t_article",
            ci_point="cleanup",
            unsafe_from=frozenset({"fill", "stabilise", "measure", "cleanup"}),
        ),
        Kind("zero_shift", {**GAUGES, "kind": "zero_shift", "channel": 2, "magnitude": 10.0}, "bias"),
        Kind(
            "interlock",
            {**GAUGES, "kind": "zero_shift", "channel": 2, "magnitude": 50e3},
            "abort",
            "interlock: p_article",
            ci_point="fill",
            bench_edit=("max_pressure: 3 bar", "max_pressure: 2.2 bar"),
        ),
    )
}
CASES = [(k, p) for k in KINDS.values() for p in k.points if FULL or p == k.ci_point]


class _Arm(NullObserver):
    """Schedules the fault in the running simulation when its injection point comes."""

    def __init__(
        self,
        runner: Runner,
        simulation: SimulatedBench,
        kind: Kind,
        point: str,
        points: dict[str, tuple[str, float]] = POINTS,
    ) -> None:
        self.runner, self.simulation, self.kind, self.point = runner, simulation, kind, point
        self.points = points
        self.at_s: float | None = None
        self.short_waits: ShortWaits | None = None
        if kind.fault["kind"] == "timeout":
            self.short_waits = ShortWaits(runner, kind.fault["instrument"], SILENT_TIMEOUT_S, math.inf)
            runner.events.add(self.short_waits)

    def arm(self, at_s: float) -> None:
        if self.at_s is None:
            self.at_s = at_s
            self.simulation.faults.faults.append(Fault(at_s=at_s, **self.kind.fault))
            if self.short_waits is not None:
                self.short_waits.from_s = at_s - self.runner.period_s

    def event(self, t: float, kind: str, message: str, **data: Any) -> None:
        step, offset = self.points.get(self.point, ("", 0.0))
        if self.point == "cleanup" and kind == "cleanup":
            self.arm(t)
        elif kind == "step" and self.runner.step_name == step:
            self.arm(t + offset)


def _runs_cli(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert rig_main(["runs", "--data-dir", str(data_dir), "--json"]) == 0
    listed: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return listed


def samples_before(done: Finished, at_s: float, channel: str) -> str | None:
    """None if every sample period before ``at_s`` has its row and ``channel`` no empty cell there."""
    header, rows = read_samples(done.run_dir)
    col = header.index(channel)
    period = done.procedure.sample_period_s
    before = [r for r in rows if float(r[0]) < at_s - 1e-9]
    times = sorted({float(r[0]) for r in before})
    expected = math.ceil(at_s / period - 1e-9)
    if len(times) != expected or (times and times[0] != 0.0):
        return f"{len(times)} sample times before t = {at_s:g} s, {expected} expected"
    gaps = [b - a for a, b in itertools.pairwise(times) if b - a > period + 1e-9]
    if gaps:
        return f"gaps {gaps[:3]} in the samples before the fault"
    empty = [r[0] for r in before if len(r) != len(header) or r[col] == ""]
    return f"{channel} empty at t = {empty[:3]} before the fault" if empty else None


def _report(**entry: Any) -> None:
    if REPORT:
        with open(REPORT, "a") as fh:
            fh.write(json.dumps(entry) + "\n")


def _report_run(
    kind: str, point: str, at_s: float, outcome: RunOutcome, unsafe: list[str], lost: str | None, **extra: Any
) -> None:
    """One campaign row: the fault, where, and what the record and the physics showed."""
    _report(
        kind=kind,
        point=point,
        at_s=at_s,
        verdict=outcome.verdict.value,
        reason=outcome.reason,
        safe_state_confirmed=outcome.safe_state_confirmed,
        safe_in_physics=not unsafe,
        unsafe=unsafe,
        samples_before_fault_ok=lost is None,
        **extra,
    )


def check_abort_in_record(done: Finished, cause: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The reason names the cause, in the outcome, results.json, the events and ``rig runs``."""
    outcome = done.outcome
    assert outcome.verdict is RunVerdict.ABORTED, outcome.reason
    assert cause in outcome.reason, outcome.reason
    results = json.loads((done.run_dir / "results.json").read_text())
    assert results["reason"] == outcome.reason and "faults" in results
    assert any(cause in e["message"] for e in done.events() if e["kind"] != "step")
    (listed,) = _runs_cli(done.run_dir.parents[1], capsys)
    assert listed["status"] == "aborted" and listed["reason"] == outcome.reason


@pytest.mark.parametrize(("kind", "point"), [pytest.param(k, p, id=f"{k.name}-{p}") for k, p in CASES])
def test_fault_campaign(tmp_path: Path, kind: Kind, point: str, capsys: pytest.CaptureFixture[str]) -> None:
    bench = MOCKUP
    arming: list[_Arm] = []

    def prepare(runner: Runner, simulation: SimulatedBench) -> None:
        armed = _Arm(runner, simulation, kind, point)
        runner.events.add(armed)
        arming[:] = [armed]
        if kind.name == "stuck_valve" and point == "fill":
            armed.arm(0.0)  # the article valve seized before the run: the fill cannot fill

    if kind.name == "interlock" and point == "fill":
        # The supply is left open where the fill was, past the limit: the trip comes from the gas.
        bench = variant(tmp_path, MOCKUP, lambda t: t.replace("max_pressure: 3 bar", "max_pressure: 1.5 bar"))
        done = run(tmp_path, overfilling(tmp_path), bench=bench, timeout_s=TIMEOUT_S)
    else:
        if kind.bench_edit is not None:
            old, new = kind.bench_edit
            bench = variant(tmp_path, MOCKUP, lambda t: t.replace(old, new))
        done = run(tmp_path, "pressure_decay", bench=bench, timeout_s=TIMEOUT_S, prepare=prepare)
    outcome = done.outcome
    events = done.events()
    at_s = arming[0].at_s if arming and arming[0].at_s is not None else None
    if at_s is None:  # the interlock at fill: the trip is the fault
        at_s = next(e["t"] for e in events if e["kind"] == "interlock")
    unsafe = done.unsafe_in_physics()
    lost = samples_before(done, at_s, kind.channel)
    _report_run(
        kind.name,
        point,
        at_s,
        outcome,
        unsafe,
        lost,
        failed_reads=outcome.faults.get("failed_reads"),
        driver=outcome.faults.get("driver"),
    )

    # Never a safe state claimed that the physics does not show (but see the seized valve below).
    claimed_but_unsafe = outcome.safe_state_confirmed and unsafe
    assert not claimed_but_unsafe or unsafe == ["article"], (outcome.reason, unsafe)
    if kind.name == "stuck_valve" and point == "fill":
        # Seized shut before the run: the fill stops at once. At the end the valve sits between
        # two volumes at the same pressure, so no gas can show it (and none is judged): the
        # readback claims it, the volumes are vented; only its position is wrong. Known limit.
        assert unsafe == ["article"], unsafe
    elif point in kind.unsafe_from:
        assert unsafe and not outcome.safe_state_confirmed
    else:
        assert not unsafe, (outcome.reason, unsafe)
    assert lost is None, lost

    if kind.expect == "abort" and point == "cleanup" and kind.name == "interlock":
        # The trip is a +50 kPa zero shift: after the vent the gauge still reads 1.5 bar, so the
        # vent cannot be confirmed (the physics is safe; the controller does not claim it).
        assert not outcome.safe_state_confirmed and "stalled" in outcome.reason, outcome.reason
        assert any(kind.cause in e["message"] for e in events if e["kind"] in ("fault", "interlock"))
    elif kind.expect == "abort" and point == "cleanup" and kind.name != "stuck_valve":
        # After the measurements: a gauge that stops answering (or reads an error) in the cleanup
        # cannot show the vent, and a relay's readback alone is no evidence, so the safe state is
        # not claimed; the run ends ABORTED naming why, the measurements keep their outcomes, and
        # the event log records the cause.
        assert outcome.verdict is RunVerdict.ABORTED and not outcome.safe_state_confirmed
        assert outcome.reason.startswith("safe state not confirmed"), outcome.reason
        assert outcome.safe_state_reason and outcome.safe_state_reason in outcome.reason
        assert outcome.measurements and all(m.outcome is Outcome.PASS for m in outcome.measurements.values())
        assert any(kind.cause in e["message"] for e in events if e["kind"] in ("fault", "interlock"))
    elif kind.expect == "abort":
        check_abort_in_record(done, kind.cause, capsys)
    elif kind.expect == "ride":
        assert outcome.verdict is RunVerdict.PASS, outcome.reason
        assert outcome.safe_state_confirmed
        assert outcome.faults["failed_reads"][kind.channel] > 0
        messages = [e["message"] for e in events if e["kind"] == "fault"]
        assert any(kind.cause in m and "recorded as a dropout" in m for m in messages), messages
        assert any("reading again" in m for m in messages), messages
    else:  # bias: the engine cannot see a zero shift; the run ends with its verdict, safely
        assert outcome.verdict is not RunVerdict.ABORTED, outcome.reason
        assert outcome.safe_state_confirmed


ROR_POINTS = {"isolate": ("isolate", 0.0), "rise": ("rise", 600.0)}  # and "start": seized before the run


@dataclass(frozen=True)
class RorCase:
    """A seized valve of ``rate_of_rise.yaml`` (chamber pumped down, isolated, watched rising)."""

    valve: str
    channel: int
    point: str
    verdict: RunVerdict
    # In the run's reason: with the mockup's limit switches, and on the bench without them
    # (where only the gas can show a valve).
    causes: dict[str, str]
    unsafe: tuple[str, ...]  # what of the safe state the physics must lack (not claimed)


ROR_CASES = {
    # The pump valve seized open as the chamber is isolated. Its switches show it at once. Without
    # them the pump keeps the chamber down, so the "rise" is a fall (the measurement is refused as
    # not isolated, where a bound alone would pass it), and the vent then stalls at what vent and
    # pump balance to.
    "pump open at isolate": RorCase(
        "pump",
        203,
        "isolate",
        RunVerdict.ABORTED,
        {"switches": "stuck valve: pump commanded closed", "gas": "short of the atmosphere"},
        ("pump", "chamber", "article"),
    ),
    # Seized shut before the run: the switches, or the pump-down's gauge not heading for the target.
    "pump shut from the start": RorCase(
        "pump",
        203,
        "start",
        RunVerdict.ABORTED,
        {"switches": "stuck valve: pump", "gas": "stuck valve: pump"},
        (),
    ),
    # The vent seized shut during the rise: its switches, or the safe state's vent not showing in the gas.
    "vent shut at rise": RorCase(
        "vent",
        202,
        "rise",
        RunVerdict.ABORTED,
        {"switches": "stuck valve: vent commanded open", "gas": "stuck valve: vent"},
        ("vent", "chamber", "article"),
    ),
}
ROR_RUN = (
    [(n, f) for n in ROR_CASES for f in ("switches", "gas")]
    if FULL
    else [("pump open at isolate", "switches"), ("pump open at isolate", "gas")]
)


@pytest.mark.parametrize(("name", "feedback"), ROR_RUN)
def test_a_seized_valve_in_a_rate_of_rise(
    tmp_path: Path, name: str, feedback: str, capsys: pytest.CaptureFixture[str]
) -> None:
    case = ROR_CASES[name]
    cause = case.causes[feedback]
    bench = None if feedback == "switches" else without_switches(tmp_path)
    kind = Kind("stuck_valve", {"instrument": "daq", "kind": "stuck_valve", "channel": case.channel}, "abort")
    arming: list[_Arm] = []

    def prepare(runner: Runner, simulation: SimulatedBench) -> None:
        armed = _Arm(runner, simulation, kind, case.point, ROR_POINTS)
        runner.events.add(armed)
        arming[:] = [armed]
        if case.point == "start":
            armed.arm(0.0)

    done = run(tmp_path, "rate_of_rise", bench=bench, timeout_s=TIMEOUT_S, prepare=prepare)
    outcome = done.outcome
    at_s = arming[0].at_s
    assert at_s is not None
    unsafe = done.unsafe_in_physics()
    lost = samples_before(done, at_s, "p_chamber")
    point = f"rate_of_rise: {case.point} ({feedback})"
    _report_run(f"stuck_valve ({case.valve})", point, at_s, outcome, unsafe, lost)
    assert outcome.verdict is case.verdict and cause in outcome.reason, outcome.reason
    assert [u.split(" at ")[0] for u in unsafe] == list(case.unsafe), unsafe
    if unsafe:
        assert not outcome.safe_state_confirmed  # never claimed when the physics lacks it
    assert lost is None, lost
    check_abort_in_record(done, cause, capsys)
    if name == "pump open at isolate" and feedback == "gas":
        (rise,) = json.loads((done.run_dir / "results.json").read_text())["measurements"].values()
        assert rise["outcome"] == "INCONCLUSIVE" and rise["refusal"].startswith("not isolated")


def test_transient_drops_do_not_abort_and_are_counted(tmp_path: Path) -> None:
    """One reply in 50 lost (on every instrument in full mode, the gauges in CI): PASS, counted."""
    instruments = ("gauges", "daq", "baratron") if FULL else ("gauges",)
    bench = with_faults(
        tmp_path, *(f"{{instrument: {i}, kind: drop, at: 0 s, every: 50}}" for i in instruments)
    )
    done = run(tmp_path, "pressure_decay", bench=bench, timeout_s=DROP_TIMEOUT_S)
    outcome = done.outcome
    lost = samples_before(done, done.clock.now(), "p_article")  # the whole run
    unsafe = done.unsafe_in_physics()
    _report(
        kind="drop",
        point="whole run",
        verdict=outcome.verdict.value,
        reason=outcome.reason,
        safe_state_confirmed=outcome.safe_state_confirmed,
        safe_in_physics=not unsafe,
        samples_before_fault_ok=lost is None,
        driver=outcome.faults["driver"],
    )
    assert outcome.verdict is RunVerdict.PASS, outcome.reason
    assert outcome.safe_state_confirmed and not unsafe
    for instrument in instruments:
        assert outcome.faults["driver"][instrument]["retries"] > 0, instrument
    # Every lost reply was retried: not one sample of the decay's gauge is missing.
    assert lost is None, lost
    assert outcome.faults["dropouts"]["p_article"] == 0
    results = json.loads((done.run_dir / "results.json").read_text())
    assert results["faults"]["driver"] == outcome.faults["driver"]


def test_a_dead_relay_controller_is_never_claimed_safe(tmp_path: Path) -> None:
    """The DAQ stops answering for good mid-decay: the valves cannot move, and the record says so."""
    bench = with_faults(tmp_path, "{instrument: daq, kind: timeout, at: 20 min}")
    short = short_waits_on("daq", SILENT_TIMEOUT_S, from_s=20 * 60 - 30)
    done = run(tmp_path, "pressure_decay", bench=bench, timeout_s=TIMEOUT_S, prepare=short)
    assert done.outcome.verdict is RunVerdict.ABORTED
    assert done.outcome.reason.startswith("instrument fault: t_")
    assert not done.outcome.safe_state_confirmed
    assert any(e["kind"] == "fault" and e["message"].startswith("safe state:") for e in done.events())
    assert done.unsafe_in_physics()  # the article is still under pressure, as reported
    assert samples_before(done, 1200.0, "t_article") is None


CLI_CASES = ["garbled", "sensor_error", "interlock"] if FULL else ["garbled"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_an_aborting_fault_through_the_cli(tmp_path: Path, name: str) -> None:
    """``rig run --sim`` with the fault in the bench file; ``rig runs`` shows it aborted and why."""
    faults = {
        "garbled": ("{instrument: gauges, kind: garbled, at: 8 min}", "ProtocolError", None),
        "sensor_error": (
            "{instrument: gauges, kind: sensor_error, channel: 2, at: 20 min}",
            "sensor_error",
            None,
        ),
        "interlock": (
            "{instrument: gauges, kind: zero_shift, channel: 2, at: 8 min, shift: 50 kPa}",
            "interlock: p_article",
            ("max_pressure: 3 bar", "max_pressure: 2.2 bar"),
        ),
    }
    fault, cause, edit = faults[name]
    source = MOCKUP
    if edit is not None:
        source = variant(tmp_path, MOCKUP, lambda t: t.replace(*edit), name="limits.yaml")
    bench = with_faults(tmp_path, fault, source=source)
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "rig", "run", str(ROOT / "procedures" / "pressure_decay.yaml")]
    done = subprocess.run(
        [*command, "--bench", str(bench), "--sim", "--json", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 3, done.stderr[-2000:]
    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["verdict"] == "ABORTED" and cause in summary["reason"]
    listed = subprocess.run(
        [sys.executable, "-m", "rig", "runs", "--data-dir", str(data), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    (entry,) = json.loads(listed.stdout)
    assert entry["status"] == "aborted" and entry["reason"] == summary["reason"]
    results = json.loads((Path(summary["run_dir"]) / "results.json").read_text())
    assert results["faults"]["failed_reads"] or name == "interlock"
