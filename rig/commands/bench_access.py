"""How a command reaches a bench's instruments: their VISA resources, or its simulation."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rig.bench import BenchSpec
from rig.clock import Clock
from rig.errors import InputError
from rig.procedure.loader import Procedure, ProcedureInvalid, load_procedure

if TYPE_CHECKING:
    from rig.sim.simulated_bench import SimulatedBench

EXIT_INVALID = 2
# The fastest --speed: at 1000x a 1 s sample period lasts 1 ms of wall time, about one loopback
# transaction with one instrument; beyond it samples would be skipped, not taken faster.
MAX_SPEED = 1000.0


def check_simulation_arguments(speed: float | None, seed: int | None) -> None:
    """Refuse a ``--speed`` or ``--seed`` a simulation cannot honour (before anything is touched)."""
    if speed is not None and not 0.0 < speed <= MAX_SPEED:
        raise InputError(
            f"--speed must be a number above 0 and at most {MAX_SPEED:g}, got {speed}: faster, one "
            "sample period passes before the instruments can answer"
        )
    if seed is not None and not 0 <= seed < 2**32:
        raise InputError(f"--seed must be a whole number from 0 to 2**32 - 1, got {seed}")


@dataclass(frozen=True)
class BenchAccess:
    """How to reach a bench: each instrument's VISA resource, and the simulation if there is one."""

    resources: dict[str, str]
    simulation: SimulatedBench | None = None


def open_bench(
    bench: BenchSpec, *, sim: bool, clock: Clock, stack: ExitStack, seed: int | None = None
) -> BenchAccess:
    """The bench file's resources, or (``sim``) its simulated servers started on ``clock``.

    Simulated servers are stopped when ``stack`` closes.
    """
    if sim:
        if not bench.simulated:
            raise InputError(f"{bench.source}: bench {bench.name!r} has no physics: part; --sim needs one")
        from rig.sim.simulated_rig import SimulatedRig

        rig = stack.enter_context(SimulatedRig(bench, clock, seed=seed))
        return BenchAccess({name: e["resource"] for name, e in rig.resources().items()}, rig.simulation)
    resources = {}
    for name, inst in bench.instruments.items():
        if inst.resource is None:
            raise InputError(f"{bench.source}: instrument {name!r} has no resource (or use --sim)")
        resources[name] = inst.resource
    return BenchAccess(resources)


def instrument_resources(
    bench: BenchSpec, *, sim: bool, clock: Clock, stack: ExitStack, seed: int | None = None
) -> dict[str, str]:
    """Instrument name → VISA resource (see :func:`open_bench`)."""
    return open_bench(bench, sim=sim, clock=clock, stack=stack, seed=seed).resources


def load_or_report(path: str, bench: str | None) -> Procedure | None:
    """The validated procedure, or None after printing each problem as ``file:line:col: message``."""
    try:
        return load_procedure(path, bench)
    except ProcedureInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None
