"""How a run reaches a bench's instruments: their VISA resources, or its simulation started."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rig.bench import BenchSpec
from rig.clock import Clock
from rig.errors import InputError

if TYPE_CHECKING:
    from rig.sim.simulated_bench import SimulatedBench


@dataclass(frozen=True)
class BenchAccess:
    """How to reach a bench: each instrument's VISA resource, and the simulation if there is one."""

    resources: dict[str, str]
    simulation: SimulatedBench | None = None

    @property
    def act(self) -> Callable[[str], None] | None:
        """What performs a confirmed prompt's ``action``: the simulation acts it out (None: a person does)."""
        return None if self.simulation is None else self.simulation.act


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
