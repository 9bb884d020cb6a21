"""Shared helpers for in-process simulated runs (the run-outcome tests and the fault campaign).

A run goes over the real stack (pyvisa-py over loopback TCP to the simulated servers) on a
virtual clock; what is returned keeps the simulation at hand, so that the physics itself
can be asked whether the valves sit as the safe state says and whether the gas followed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.base import Instrument as Driver
from drivers.transport import VisaTransport
from rig.clock import VirtualClock
from rig.engine.observer import NullObserver, RunObserver
from rig.engine.runner import Runner, RunOutcome
from rig.execution.bench_access import BenchAccess
from rig.execution.execute import RecordPlan, execute
from rig.execution.recorder import Recorder
from rig.procedure.loader import Procedure, load_procedure
from rig.record.integrity import seal_run
from rig.record.run_store import RunStore
from rig.sim.simulated_bench import SimulatedBench
from rig.sim.simulated_rig import SimulatedRig

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures"
MOCKUP = PROCEDURES / "benches" / "vacuum_chamber_mockup.yaml"
ISS = PROCEDURES / "benches" / "iss_segment_mockup.yaml"
ATMOSPHERE_PA = 101325.0


@dataclass
class Finished:
    """A finished in-process run, with its simulation still at hand."""

    outcome: RunOutcome
    simulation: SimulatedBench
    clock: VirtualClock
    run_dir: Path
    procedure: Procedure

    def events(self) -> list[dict[str, Any]]:
        lines = (self.run_dir / "events.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]

    def unsafe_in_physics(self, settle_s: float = 120.0) -> list[str]:
        """What of the safe state the physics does not show (empty: all of it), after ``settle_s``."""
        self.clock.advance(settle_s)  # opening delays, then the gas
        bench = self.procedure.bench
        wrong = [v for v, open_ in bench.safe_state.items() if self.simulation.valve_is_open(v) != open_]
        for volume in ("chamber", "article"):
            p = self.simulation.true_pressure_pa(volume) if volume in bench.volumes else ATMOSPHERE_PA
            if abs(p - ATMOSPHERE_PA) >= 2000.0:
                wrong.append(f"{volume} at {p:.0f} Pa")
        return wrong

    def safe_in_physics(self, settle_s: float = 120.0) -> None:
        """The valves sit as the safe state says, and the vented volumes reach the atmosphere."""
        wrong = self.unsafe_in_physics(settle_s)
        assert not wrong, wrong


def run(
    tmp_path: Path,
    procedure: str | Path,
    bench: Path | None = None,
    seed: int = 3,
    observer: Callable[[Runner], RunObserver] | None = None,
    timeout_s: float = 0.5,
    prepare: Callable[[Runner, SimulatedBench], None] | None = None,
    key_dir: Path | None = None,
) -> Finished:
    """Run ``procedure`` (a shipped name or a path) in simulation, in-process, as ``rig run`` runs it.

    Through :func:`rig.execution.execute.execute`: the run is recorded in ``tmp_path / "data"``
    (``results.json`` with the verdict, the reason and the ``faults`` counts; ``run.json`` with
    the instruments' identities), so ``rig runs`` lists it. ``observer`` makes an observer of
    the runner, added after the record; ``prepare`` sees the runner and the simulation before
    the run starts (e.g. to schedule a fault when a step begins). With ``key_dir`` the record
    is sealed with that directory's signing key once it is finished, as ``rig run`` seals it.
    """
    path = PROCEDURES / f"{procedure}.yaml" if isinstance(procedure, str) else procedure
    loaded = load_procedure(path, bench)
    clock = VirtualClock()
    with SimulatedRig(loaded.bench, clock, seed=seed) as rig:
        access = BenchAccess({n: e["resource"] for n, e in rig.resources().items()}, rig.simulation)
        seal = None if key_dir is None else (lambda run_dir: seal_run(run_dir, key_dir))
        record = RecordPlan(RunStore(tmp_path / "data"), seal=seal)

        def ready(runner: Runner) -> None:
            if observer is not None:
                runner.events.add(observer(runner))
            if prepare is not None:
                prepare(runner, rig.simulation)

        executed = execute(loaded, access, clock, record=record, prepare=ready, timeout_s=timeout_s)
    assert executed.run_dir is not None, executed.outcome.reason
    return Finished(executed.outcome, rig.simulation, clock, executed.run_dir, loaded)


class ShortWaits(NullObserver):
    """Gives one instrument a shorter transaction timeout from the first sample at or after ``from_s``."""

    def __init__(self, runner: Runner, instrument: str, timeout_s: float, from_s: float) -> None:
        self.runner, self.instrument, self.timeout_s, self.from_s = runner, instrument, timeout_s, from_s
        self.done = False

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        if self.done or t_s < self.from_s:
            return
        self.done = True
        driver = self.runner.session.instruments[self.instrument]
        assert isinstance(driver, Driver) and isinstance(driver.transport, VisaTransport), driver
        transport = driver.transport
        transport.timeout_s = self.timeout_s
        transport.reconnect()  # the resource opens again with the shorter timeout


def short_waits_on(
    instrument: str, timeout_s: float, from_s: float = 0.0
) -> Callable[[Runner, SimulatedBench], None]:
    """A ``prepare`` for :func:`run`: ``instrument`` waits ``timeout_s`` for a reply from ``from_s`` on.

    For a test whose instrument falls silent for good: the run waits its silence out at every
    sample until the instrument is declared faulty (30 s of them), then again in the safe state,
    each read twice (a retry). Real time that tests nothing: set ``from_s`` a little before the
    silence, so that the instrument's replies until then are waited for as in any run.
    """

    def prepare(runner: Runner, simulation: SimulatedBench) -> None:
        runner.events.add(ShortWaits(runner, instrument, timeout_s, from_s))

    return prepare


def recorded_in(runner: Runner) -> Path:
    """The directory ``runner``'s record is written to (its recorder is one of its observers)."""
    (recorder,) = [o for o in runner.events.observers if isinstance(o, Recorder)]
    return recorder.run_dir


def variant(tmp_path: Path, source: Path, edit: Callable[[str], str], name: str = "bench.yaml") -> Path:
    """A copy of a bench file with one edit (asserted to change something)."""
    text = source.read_text()
    changed = edit(text)
    assert changed != text, "the edit changed nothing"
    path = tmp_path / name
    path.write_text(changed)
    return path


def with_faults(tmp_path: Path, *faults: str, source: Path = MOCKUP, name: str = "bench.yaml") -> Path:
    """The mockup bench (or ``source``) with a ``faults:`` list."""
    return variant(
        tmp_path, source, lambda t: t + "\nfaults:\n" + "".join(f"  - {f}\n" for f in faults), name
    )


def without_switches(tmp_path: Path, *faults: str, source: Path = MOCKUP) -> Path:
    """The mockup (or ``source``) with no limit switches: only the gas can show where a valve is."""
    bench = variant(tmp_path, source, lambda t: re.sub(r", position: \{[^}]*\}", "", t), "bare.yaml")
    return with_faults(tmp_path, *faults, source=bench, name="bare_faults.yaml") if faults else bench


FILL = (
    "fill: {volume: article, to: 2 bar, tolerance: 50 mbar, timeout: 5 min, "
    "through: supply, channel: p_article}"
)


def overfilling(tmp_path: Path) -> Path:
    """``pressure_decay`` with its fill replaced by the supply valve left open for 10 minutes.

    Validation refuses a fill aimed past the bench's ``max_pressure``, but it cannot know what
    an open valve lets in: the 2 bar supply then takes the article past any lower limit, and
    the trip comes from the gas itself.
    """
    opened = "set_valves: {valves: {supply: open}}\n  - wait: {duration: 10 min}"
    source = PROCEDURES / "pressure_decay.yaml"
    return variant(tmp_path, source, lambda t: t.replace(FILL, opened), name="overfilling.yaml")
