"""A run's progress (step n of N, time left) is counted over the step tree, never by listing it.

The procedure here sits exactly at the bound of 100 000 executed steps (two nested repeats);
the runner is built over the real stack (simulated servers over loopback) and must cost the
same as for a three-step procedure, then report its first steps as the expanded list would
have numbered them, stopped by the operator after the third.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from rig.clock import VirtualClock
from rig.engine.observer import NullObserver, StepProgress
from rig.engine.runner import Runner, RunVerdict
from rig.engine.session import RigSession
from rig.execution.recorder import Recorder
from rig.procedure.bounds import MAX_EXECUTED_STEPS
from rig.procedure.loader import ProcedureInvalid, load_procedure
from rig.record.run_store import RunStore
from rig.sim.simulated_rig import SimulatedRig
from tests.engine.sim_runs import MOCKUP

pytestmark = pytest.mark.integration

INNER = 49_999  # 2 × 49 999 waits, a set_valves before and one after: 100 000 steps
AT_THE_BOUND = """\
procedure: at_the_bound
version: 1
sample_period: 1 s
setup:
  - set_valves: {valves: {vent: closed}}
main:
  - repeat:
      times: 2
      steps:
        - repeat: {times: {inner}, steps: [{wait: {duration: 1 s}}]}
cleanup:
  - set_valves: {valves: {vent: open}}
"""


def write(tmp_path: Path, inner: int) -> Path:
    path = tmp_path / f"at_the_bound_{inner}.yaml"
    path.write_text(AT_THE_BOUND.replace("{inner}", str(inner)))
    return path


class _Watch(NullObserver):
    """Keeps every step's progress; presses Ctrl-C as the third step starts."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.progress: list[StepProgress] = []

    def step_started(self, progress: StepProgress) -> None:
        self.progress.append(progress)
        if len(self.progress) == 3:
            self.runner.request_stop()


def test_one_step_more_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProcedureInvalid, match="executes 100 002 steps"):
        load_procedure(write(tmp_path, INNER + 1), MOCKUP)


def test_a_procedure_at_the_bound_runs_its_first_steps_without_listing_them(tmp_path: Path) -> None:
    procedure = load_procedure(write(tmp_path, INNER), MOCKUP)
    clock = VirtualClock()
    with SimulatedRig(procedure.bench, clock, seed=3) as rig:
        resources = {n: e["resource"] for n, e in rig.resources().items()}
        with RigSession(procedure.bench, resources, timeout_s=0.5) as session:
            writer = RunStore(tmp_path / "data").create(
                procedure.name, procedure.bench.name, list(procedure.bench.channels), {}, {}
            )
            tracemalloc.start()
            try:
                runner = Runner(procedure, session, clock, [Recorder(writer)])
                _, built_bytes = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            watch = _Watch(runner)
            runner.events.add(watch)
            outcome = runner.run()
    # Listing 100 000 steps would take 800 kB of references alone.
    assert built_bytes < 200_000
    assert outcome.verdict is RunVerdict.ABORTED and "operator" in outcome.reason
    first = watch.progress[:3]
    assert [(p.kind, p.index, p.total) for p in first] == [
        ("set_valves", 1, MAX_EXECUTED_STEPS),
        ("wait", 2, MAX_EXECUTED_STEPS),
        ("wait", 3, MAX_EXECUTED_STEPS),
    ]
    # The nominal time still to come after each: every wait after it, 1 s each.
    waits = 2 * INNER
    assert [p.remaining_after_s for p in first] == [float(waits), float(waits - 1), float(waits - 2)]
    assert [p.nominal_s for p in first] == [None, 1.0, 1.0]
