"""Memory per sample of a measuring step (issue 13): a day's decay at 10 Hz in under 150 MB.

CI runs a short ``measure_decay`` (five simulated minutes at 0.1 s, 3000 samples, with its
gas temperature) in process, and traces what the step allocates with tracemalloc (which
sees NumPy's arrays too): the memory it holds per sample over the hold, and how far its peak
(the fit's temporaries) rises above what it holds at the end of the hold. The whole day is
measured in its own process, before and after, by ``python -m tests.benchmarks.memory_day``
(BENCHMARKS.md).

    pytest tests/benchmarks/test_memory_per_sample.py --benchmark-enable --benchmark-only
"""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rig.clock import VirtualClock
from rig.engine.observer import NullObserver, StepProgress
from rig.engine.runner import RunOutcome
from rig.execution.bench_access import BenchAccess
from rig.execution.execute import RecordPlan, execute
from rig.procedure.loader import load_procedure
from rig.record.run_store import RunStore
from rig.sim.simulated_rig import SimulatedRig

BENCH = Path(__file__).resolve().parents[2] / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
DURATION_S = 300.0
PERIOD_S = 0.1
# Samples before the held memory is first read: the step's own start-up is not per sample.
SETTLED_AT = 500
# Time, pressure and temperature at 8 bytes each, up to twice over while a column's doubled
# capacity fills. The tuples the runner kept before held 470 bytes a sample.
HELD_BOUND_B = 64.0
# The fit's temporaries: two columns' worth at most (the median's copy in the level-shift
# scan, the mean temperature's), and a fixed allowance for the scan's blocks and the fit's
# own objects. Before, 0.7 MB at 3000 samples (210-230 bytes a sample).
TEMPORARY_COLUMNS = 2
TEMPORARY_FIXED_B = 400 * 1024

PROCEDURE = """\
procedure: memory_per_sample
version: 1
bench: {bench}
sample_period: {period} s
setup:
  - set_valves: {{valves: {{vent: closed, pump: closed, reference: closed}}}}
main:
  - isolate: {{volume: article}}
  - measure_decay: {{name: decay, channel: p_article, temperature: t_article, volume: article,
                    duration: {duration} s, limit: 0.5 sccm}}
cleanup:
  - set_valves: {{valves: {{supply: closed, pump: closed, vent: open, article: open}}}}
"""


class StepMemory(NullObserver):
    """Traces the memory allocated from the start of the ``measure_decay`` step to the next step."""

    def __init__(self) -> None:
        self.tracing = False
        self.samples = 0
        self.held_settled = 0
        self.held = 0
        self.peak = 0

    def step_started(self, progress: StepProgress) -> None:
        self._stop()
        if progress.kind == "measure_decay":
            tracemalloc.start()
            self.tracing = True

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        if self.tracing:
            self.samples += 1
            self.held = tracemalloc.get_traced_memory()[0]
            if self.samples == SETTLED_AT:
                self.held_settled = self.held

    def finished(self, outcome: RunOutcome) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.tracing:
            self.peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            self.tracing = False

    def held_per_sample(self) -> float:
        """Bytes held per sample from :data:`SETTLED_AT` to the end of the hold."""
        return (self.held - self.held_settled) / (self.samples - SETTLED_AT)

    def temporaries(self) -> int:
        """How far the step's peak (the fit's temporaries) rose above what the hold held."""
        return self.peak - self.held


@dataclass
class Measured:
    outcome: RunOutcome
    memory: StepMemory


def run_decay(tmp_path: Path) -> Measured:
    """The short decay through the whole stack, on a virtual clock, with its memory traced."""
    path = tmp_path / "memory_per_sample.yaml"
    path.write_text(PROCEDURE.format(bench=BENCH, period=PERIOD_S, duration=DURATION_S))
    procedure = load_procedure(path)
    clock = VirtualClock()
    memory = StepMemory()
    with SimulatedRig(procedure.bench, clock, seed=1) as rig:
        access = BenchAccess({n: e["resource"] for n, e in rig.resources().items()}, rig.simulation)
        record = RecordPlan(RunStore(tmp_path / "runs"))
        outcome = execute(procedure, access, clock, record=record, observers=[memory]).outcome
    return Measured(outcome, memory)


@pytest.mark.benchmark(group="memory")
def test_a_measuring_step_holds_a_few_bytes_per_sample(benchmark: Any, tmp_path: Path) -> None:
    measured = benchmark.pedantic(run_decay, args=(tmp_path,), rounds=1, iterations=1)
    memory = measured.memory
    decay = measured.outcome.measurements["decay"]
    # The window holds its duration's samples and the one at its start, which the step before
    # recorded at that instant (one recorded sample per instant) or the step itself did.
    assert decay.n == round(DURATION_S / PERIOD_S) + 1
    assert memory.samples in (decay.n - 1, decay.n)
    benchmark.extra_info["held_b_per_sample"] = memory.held_per_sample()
    benchmark.extra_info["temporaries_b"] = memory.temporaries()
    assert 0.0 < memory.held_per_sample() <= HELD_BOUND_B
    assert memory.temporaries() <= TEMPORARY_COLUMNS * 8 * memory.samples + TEMPORARY_FIXED_B
