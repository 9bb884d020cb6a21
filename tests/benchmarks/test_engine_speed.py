"""The run engine's own cost, beside the drivers', and a long procedure end to end.

* ``engine-sample``: 100 s of holding at 1 s (101 samples) through ``Runner.hold`` (reads,
  record, interlocks, stuck-valve watch, live estimate, the live view on a terminal),
  beside the same 101 ``RigSession.read_all`` calls alone. The difference per sample is
  the engine's overhead (target ≤ 1 ms).
* ``procedure``: ``seal_repair_certification.yaml`` (over an hour of simulated time) in
  simulation, in-process (target ≤ 10 s wall).

    pytest tests/benchmarks/test_engine_speed.py --benchmark-enable --benchmark-only \\
        --benchmark-json=engine.json && python -m tests.benchmarks.ratios engine.json
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from rig.clock import VirtualClock
from rig.engine.live_view import LiveView
from rig.engine.runner import Runner, RunVerdict
from rig.engine.session import RigSession
from rig.execution.bench_access import BenchAccess
from rig.execution.execute import RecordPlan, execute
from rig.execution.recorder import Recorder
from rig.procedure.loader import Procedure, load_procedure
from rig.record.run_store import RunStore
from rig.sim.simulated_rig import SimulatedRig

PROCEDURES = Path(__file__).resolve().parents[2] / "procedures"
HOLD_S = 100.0
SAMPLES = 101


@dataclass
class Engine:
    procedure: Procedure
    clock: VirtualClock
    session: RigSession
    runner: Runner


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    procedure = load_procedure(PROCEDURES / "pressure_decay.yaml")
    clock = VirtualClock()
    with SimulatedRig(procedure.bench, clock, seed=1) as rig:
        resources = {n: e["resource"] for n, e in rig.resources().items()}
        with RigSession(procedure.bench, resources) as session:
            store = RunStore(tmp_path_factory.mktemp("engine"))
            writer = store.create(
                procedure.name, procedure.bench.name, list(procedure.bench.channels), {}, {}
            )
            console = Console(file=io.StringIO(), force_terminal=True, width=120)
            with LiveView(procedure.bench, clock.now, console) as view:
                runner = Runner(procedure, session, clock, [Recorder(writer), view])
                session.read_all()  # units and identities are learnt once, outside the measured rounds
                yield Engine(procedure, clock, session, runner)
            writer.close()


@pytest.mark.benchmark(group="engine-sample")
def test_engine_hold_100_samples(benchmark: Any, engine: Engine) -> None:
    runner = engine.runner
    feed = []

    def hold() -> None:
        runner.hold(HOLD_S, each=lambda t, values: feed.append(t))

    benchmark(hold)
    assert len(feed) % SAMPLES == 0 and feed
    assert all(v is not None for v in runner.last.values())


@pytest.mark.benchmark(group="engine-sample")
def test_engine_driver_reads_alone_100_samples(benchmark: Any, engine: Engine) -> None:
    session, clock = engine.session, engine.clock

    def reads() -> None:
        for _ in range(SAMPLES):
            session.read_all()
            clock.advance(1.0)

    benchmark(reads)
    assert not session.read_errors


@pytest.mark.benchmark(group="procedure")
def test_seal_repair_certification_in_simulation(benchmark: Any, tmp_path: Path) -> None:
    procedure = load_procedure(PROCEDURES / "seal_repair_certification.yaml")

    def run_once() -> tuple[RunVerdict, float]:
        clock = VirtualClock()
        with SimulatedRig(procedure.bench, clock, seed=1) as rig:
            access = BenchAccess({n: e["resource"] for n, e in rig.resources().items()}, rig.simulation)
            outcome = execute(procedure, access, clock, record=RecordPlan(RunStore(tmp_path))).outcome
        return outcome.verdict, clock.now()

    verdict, simulated_s = benchmark.pedantic(run_once, rounds=1, iterations=1)
    assert verdict is RunVerdict.PASS
    assert simulated_s > 3600.0
