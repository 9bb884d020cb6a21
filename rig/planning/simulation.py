"""A plan checked on the simulated bench: the procedure itself, at the planned length and limit."""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from dataclasses import dataclass

from rig.clock import VirtualClock
from rig.errors import InputError
from rig.execution.bench_access import open_bench
from rig.execution.execute import execute
from rig.outcome import Outcome
from rig.procedure.loader import Procedure
from rig.record.measurement import Measurement
from rig.steps import Step, map_steps
from rig.steps.measure_decay import MeasureDecay


@dataclass(frozen=True)
class SimulatedRun:
    """One run of the procedure on the simulated bench, with the measurement at the planned length."""

    seed: int
    verdict: str
    reason: str
    outcome: Outcome | None  # the planned measurement's: PASS, FAIL, INCONCLUSIVE (None if it never ran)
    rate_pa_m3_s: float | None
    stderr_pa_m3_s: float | None
    limit_pa_m3_s: float  # what the outcome was judged against: the plan's limit

    @property
    def decisive(self) -> bool:
        """Whether the measurement reached PASS or FAIL."""
        return self.outcome is not None and self.outcome.decisive


def as_planned(procedure: Procedure, name: str, duration_s: float, limit_pa_m3_s: float) -> Procedure:
    """``procedure`` with its ``measure_decay`` called ``name`` as planned: its length and its limit.

    Every step of that name (in a ``repeat`` too) lasts ``duration_s`` and is judged against
    ``limit_pa_m3_s``; ``procedure`` itself is left as it was.
    """

    def edit(step: Step) -> Step:
        if isinstance(step, MeasureDecay) and step.name == name:
            return dataclasses.replace(step, duration_s=duration_s, limit_pa_m3_s=limit_pa_m3_s)
        return step

    return dataclasses.replace(
        procedure,
        setup=map_steps(procedure.setup, edit),
        main=map_steps(procedure.main, edit),
        cleanup=map_steps(procedure.cleanup, edit),
    )


def simulation_check(
    procedure: Procedure,
    name: str,
    duration_s: float,
    limit_pa_m3_s: float,
    runs: int,
    seed: int | None = None,
) -> list[SimulatedRun]:
    """Run ``procedure`` ``runs`` times on its simulated bench, measurement ``name`` as planned.

    The measurement lasts ``duration_s`` and the engine judges it against ``limit_pa_m3_s``
    (the limit the plan was made for, which need not be the step's own). In process, on a
    virtual clock, over the real stack (drivers to the simulated servers), through the same
    :func:`rig.execution.execute.execute` as ``rig run``, unrecorded; seeds ``seed``,
    ``seed`` + 1, … (default: the bench file's ``physics.seed``). The leak is whatever the
    bench's physics makes it, not the planned one: the rates are reported.
    """
    bench = procedure.bench
    if not bench.simulated or bench.doc is None:
        raise InputError(f"bench {bench.name!r} has no physics: part; --simulate needs one")
    if runs < 1:
        raise InputError(f"--simulate needs at least one run, got {runs}")
    base = seed if seed is not None else bench.doc.integer(("physics", "seed"), 0)
    edited = as_planned(procedure, name, duration_s, limit_pa_m3_s)
    results = []
    for i in range(runs):
        clock = VirtualClock()
        # Not recorded: the check keeps the measurement's outcome and rate, and nothing else.
        with ExitStack() as stack:
            access = open_bench(bench, sim=True, clock=clock, stack=stack, seed=base + i)
            outcome = execute(edited, access, clock).outcome
        entry = outcome.measurements.get(name, Measurement())
        results.append(
            SimulatedRun(
                seed=base + i,
                verdict=outcome.verdict.value,
                reason=outcome.reason,
                outcome=entry.outcome,
                rate_pa_m3_s=entry.value_pa_m3_s,
                stderr_pa_m3_s=entry.stderr_pa_m3_s,
                limit_pa_m3_s=limit_pa_m3_s,
            )
        )
    return results
