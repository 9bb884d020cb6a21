"""Play one oracle scenario in-process and keep the truth: what the physics did at every sample.

The run goes over the real stack (:func:`tests.engine.sim_runs.run`: pyvisa-py over loopback
TCP to the simulated servers, on a virtual clock) with :class:`Oracle` as the runner's
observer. At every sample it records, cheaply, each valve's commanded state (the runner's
``watch.states``) and its physical one, and the true pressure of every volume and of the
atmosphere; it schedules the scenario's faults on the simulation when their anchor comes,
and presses Ctrl-C (``runner.request_stop()``) when a stop is due. At every ``safe_state``
event it takes a snapshot of the truth: the one at "safe state confirmed" is the truth at
the moment of the claim.

A valve's physical state is taken once the motion already commanded has finished (its
``opening_delay``, 30 ms on the mockup, 5 s for an ISS hatch): the solenoid's own travel is
not a wrong position, a seized valve (whose command the simulation ignores) is.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rig.engine.observer import NullObserver, StepProgress
from rig.engine.runner import Runner, RunOutcome
from rig.procedure.loader import Procedure
from rig.sim.faults import CONNECTION_KINDS, Fault
from rig.sim.simulated_bench import SimulatedBench
from tests.engine.sim_runs import PROCEDURES, recorded_in, run
from tests.reliability.oracle_scenario import Scenario, bench_file

# Loopback replies take well under a millisecond, but a server thread may be busy solving stiff
# physics (an ISS hatch seized open: ~0.3 s a query on a loaded machine). A short driver timeout
# keeps a lasting instrument fault cheap in wall time; a run whose instruments failed where no
# fault was injected (see :func:`wall_clock_trouble`) is played again with the CLI's own timeout.
TIMEOUT_S = 0.2
PATIENT_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Snapshot:
    """The truth at one moment: valves as they physically sit, pressures of volumes and outside."""

    t_s: float
    message: str
    valves: dict[str, bool]
    pressures_pa: dict[str, float]


@dataclass
class Truth:
    """What the physics did during one run, sample by sample, and what the scenario did to it."""

    valves: tuple[str, ...]
    volumes: tuple[str, ...]
    times: list[float] = field(default_factory=list)
    step_names: list[str] = field(default_factory=list)  # the step each sample was taken in
    commanded: list[tuple[bool, ...]] = field(default_factory=list)
    physical: list[tuple[bool, ...]] = field(default_factory=list)
    pressures: list[tuple[float, ...]] = field(default_factory=list)
    steps: list[tuple[str, float]] = field(default_factory=list)  # (step name, started at)
    armed: list[dict[str, Any]] = field(default_factory=list)  # the faults put on the simulation
    presses: list[float] = field(default_factory=list)  # Ctrl-C presses, simulation time
    cleanup_s: float | None = None
    safe_state: list[Snapshot] = field(default_factory=list)

    def claim(self) -> Snapshot | None:
        """The snapshot taken as the safe state was claimed confirmed (None if it never was)."""
        return next((s for s in self.safe_state if s.message == "safe state confirmed"), None)

    def first_fault_s(self) -> float:
        """When the first fault or Ctrl-C began (inf: none did)."""
        return min([a["at_s"] for a in self.armed] + self.presses, default=math.inf)


class Oracle(NullObserver):
    """The runner's observer in an oracle run: arms faults and stops, records the truth."""

    def __init__(self, runner: Runner, simulation: SimulatedBench, scenario: Scenario) -> None:
        self.runner, self.simulation = runner, simulation
        bench = runner.bench
        self.truth = Truth(tuple(bench.valves), tuple(bench.volumes))
        self._relays = {rv.name: rv.valve for rv in simulation.valves}
        self._outside = (
            "atmosphere" if "atmosphere" in {r.name for r in simulation.network.reservoirs} else None
        )
        self._waiting: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for index, fault in enumerate(scenario.get("faults", [])):
            self._waiting.setdefault(fault["at"], []).append((index, fault))
        self._seen: dict[str, int] = {}
        self._presses: list[float] = []  # times at which a press is due, sorted
        self._arm("start", 0.0)

    # --- faults and stops --------------------------------------------------------------------------

    def _arm(self, anchor: str, t_s: float) -> None:
        for index, fault in self._waiting.pop(anchor, []):
            at_s = t_s + float(fault["offset_s"])
            if fault["kind"] == "stop":
                self._presses.append(at_s)
                if fault.get("presses", 1) >= 2:
                    self._presses.append(at_s + float(fault.get("gap_s", 1.0)))
                self._presses.sort()
                continue
            duration = fault.get("duration_s")
            self.simulation.faults.faults.append(
                Fault(
                    instrument=fault["instrument"],
                    kind=fault["kind"],
                    at_s=at_s,
                    duration_s=math.inf if duration is None else float(duration),
                    channel=fault.get("channel"),
                    magnitude=float(fault.get("magnitude", 0.0)),
                )
            )
            self.truth.armed.append({"index": index, "kind": fault["kind"], "at_s": at_s, "fault": fault})

    def step_started(self, progress: StepProgress) -> None:
        """Record the step; arm what is anchored to it."""
        self._seen[progress.name] = self._seen.get(progress.name, 0) + 1
        self.truth.steps.append((progress.name, progress.started_s))
        self._arm(f"step:{progress.name}#{self._seen[progress.name]}", progress.started_s)

    def event(self, t_s: float, kind: str, message: str, **data: Any) -> None:
        """Arm what is anchored to the cleanup or the safe state; snapshot every safe-state event."""
        if kind == "cleanup" and self.truth.cleanup_s is None:
            self.truth.cleanup_s = t_s
            self._arm("cleanup", t_s)
        if kind == "safe_state":
            if message == "safe state commanded":
                self._arm("safe_state", t_s)
            self.truth.safe_state.append(self.snapshot(message))

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        """Record the truth at this sample, then press Ctrl-C if one is due (a second one raises)."""
        truth = self.truth
        truth.times.append(t_s)
        truth.step_names.append(self.runner.step_name)
        states = self.runner.watch.states
        truth.commanded.append(tuple(bool(states.get(v, False)) for v in truth.valves))
        truth.physical.append(tuple(self._settled(v, t_s) for v in truth.valves))
        truth.pressures.append(tuple(self.simulation.true_pressure_pa(v) for v in truth.volumes))
        while self._presses and self._presses[0] <= t_s + 1e-9:
            self._presses.pop(0)
            truth.presses.append(t_s)
            self.runner.request_stop()  # the second press raises KeyboardInterrupt, as a SIGINT would

    # --- the truth ---------------------------------------------------------------------------------

    def _settled(self, valve: str, t_s: float) -> bool:
        physical = self._relays[valve]
        return physical.is_open(t_s + physical.opening_delay_s)

    def snapshot(self, message: str) -> Snapshot:
        """The truth now: every valve (settled), every volume's and the atmosphere's true pressure."""
        t = self.simulation.clock.now()
        pressures = {v: self.simulation.true_pressure_pa(v) for v in self.truth.volumes}
        if self._outside is not None:
            pressures[self._outside] = self.simulation.true_pressure_pa(self._outside)
        return Snapshot(t, message, {v: self._settled(v, t) for v in self.truth.valves}, pressures)


@dataclass
class Played:
    """One played scenario: the record, the outcome (None if the run raised), and the truth."""

    scenario: Scenario
    procedure: Procedure
    simulation: SimulatedBench
    run_dir: Path
    data_dir: Path
    outcome: RunOutcome | None
    raised: str | None
    truth: Truth
    final: Snapshot
    wall_s: float
    timeout_s: float

    @property
    def sim_s(self) -> float:
        """Simulated seconds the run lasted."""
        return self.final.t_s


def play(scenario: Scenario, workdir: Path, key_dir: Path | None, timeout_s: float = TIMEOUT_S) -> Played:
    """Run ``scenario`` in-process in ``workdir`` (sealed with ``key_dir``'s key) and keep the truth."""
    workdir.mkdir(parents=True, exist_ok=True)
    bench = bench_file(scenario, workdir)
    held: dict[str, Any] = {}

    def prepare(runner: Runner, simulation: SimulatedBench) -> None:
        held["oracle"] = oracle = Oracle(runner, simulation, scenario)
        runner.events.add(oracle)
        held["runner"] = runner

    started = time.monotonic()
    outcome: RunOutcome | None = None
    raised: str | None = None
    try:
        done = run(
            workdir,
            PROCEDURES / f"{scenario['procedure']}.yaml",
            bench=bench,
            seed=int(scenario["seed"]),
            timeout_s=timeout_s,
            prepare=prepare,
            key_dir=key_dir,
        )
        outcome = done.outcome
    except KeyboardInterrupt:
        oracle = held.get("oracle")
        if oracle is None or len(oracle.truth.presses) < 2:
            raise  # not ours: a real Ctrl-C stops the campaign
        raised = "KeyboardInterrupt (the second Ctrl-C) escaped Runner.run():\n" + traceback.format_exc(
            limit=-4
        )
    except Exception as exc:  # an engine error escaping run() is a finding, not a crash of the oracle
        if "oracle" not in held:
            raise
        raised = f"{type(exc).__name__} escaped Runner.run(): {exc}\n" + traceback.format_exc(limit=-4)
    oracle = held["oracle"]
    runner = held["runner"]
    return Played(
        scenario=scenario,
        procedure=runner.procedure,
        simulation=oracle.simulation,
        run_dir=recorded_in(runner),
        data_dir=workdir / "data",
        outcome=outcome,
        raised=raised,
        truth=oracle.truth,
        final=oracle.snapshot("run returned"),
        wall_s=time.monotonic() - started,
        timeout_s=timeout_s,
    )


def wall_clock_trouble(played: Played) -> list[str]:
    """Instrument trouble no injected fault explains: a wall-clock artefact of the short timeout.

    On the virtual clock a run is deterministic but for the drivers' timeouts, which are wall
    time: a retry on an instrument with no connection fault, or a dropout on a channel whose
    instrument had none active then, means the servers were too slow for the timeout.
    """
    truth, bench = played.truth, played.procedure.bench
    period = played.procedure.sample_period_s
    connection = [a for a in truth.armed if a["kind"] in CONNECTION_KINDS]
    found = []
    if played.outcome is not None:
        for instrument, stats in played.outcome.faults.get("driver", {}).items():
            if (stats["retries"] or stats["reconnects"]) and all(
                a["fault"]["instrument"] != instrument for a in connection
            ):
                found.append(f"{instrument}: {stats} with no connection fault")
    events = [json.loads(line) for line in (played.run_dir / "events.jsonl").read_text().splitlines()]
    for e in events:
        if e["kind"] != "fault" or "(recorded as a dropout)" not in e["message"] or "channel" not in e:
            continue
        spec = bench.channels[e["channel"]]
        active = [
            a
            for a in truth.armed
            if a["fault"]["instrument"] == spec.instrument
            and (
                a["kind"] in CONNECTION_KINDS
                or (a["kind"] == "sensor_error" and a["fault"]["channel"] == spec.channel)
            )
            and a["at_s"]
            <= e["t"]
            <= a["at_s"] + float(a["fault"].get("duration_s") or math.inf) + 2.0 * period
        ]
        if not active:
            found.append(f"t = {e['t']:g} s: {e['message'][:120]}")
    return found
