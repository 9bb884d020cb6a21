"""How a run reaches a bench's instruments: their VISA resources, or its simulation started.

Either way the bench is locked first (:mod:`rig.execution.bench_lock`): one controller per bench.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rig.bench import BenchSpec
from rig.clock import Clock
from rig.errors import InputError
from rig.execution.bench_lock import BenchLock, hold_bench

if TYPE_CHECKING:
    from rig.sim.simulated_bench import SimulatedBench


@dataclass(frozen=True)
class BenchAccess:
    """How to reach a bench: each instrument's VISA resource, and the simulation if there is one."""

    resources: dict[str, str]
    simulation: SimulatedBench | None = None
    # The lock this process holds on the bench's instruments (None: a caller's own access, unlocked).
    lock: BenchLock | None = None
    # The simulation's seed as used, the bench file's default included (None: no simulation).
    seed: int | None = None
    # Instrument name → extra options its driver opens with (a simulated server's, see
    # rig.sim.servers.base.InstrumentServer.driver_options); empty on a real bench.
    driver_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def act(self) -> Callable[[str], None] | None:
        """What performs a confirmed prompt's ``action``: the simulation acts it out (None: a person does)."""
        return None if self.simulation is None else self.simulation.act


# How a simulated bench's instruments are reached: their servers on loopback TCP through
# pyvisa-py (what `rig run --sim` does), or their protocol fed in this process (campaigns).
SimTransport = Literal["tcp", "inprocess"]


def open_bench(
    bench: BenchSpec,
    *,
    sim: bool,
    clock: Clock,
    stack: ExitStack,
    seed: int | None = None,
    command: str = "rig",
    transport: SimTransport = "tcp",
) -> BenchAccess:
    """The bench file's resources, or (``sim``) its simulated servers started on ``clock``, locked.

    The bench's instruments are locked for ``command`` before any is contacted (a simulated
    bench: once its servers are bound, on their own ports) and stay locked, like the simulated
    servers stay up, until ``stack`` closes. Raises :class:`rig.execution.bench_lock.BenchBusyError`
    when another process holds the bench.

    ``transport="inprocess"`` (a simulated bench only) reaches the simulated instruments without
    sockets (:mod:`rig.sim.inprocess`): no server is started, and nothing is locked, since no
    other process can reach instruments that live in this one.
    """
    if sim:
        if not bench.simulated:
            raise InputError(f"{bench.source}: bench {bench.name!r} has no physics: part; --sim needs one")
        from rig.sim.simulated_rig import SimulatedRig

        if transport == "inprocess":
            from rig.sim.inprocess import inprocess_options, inprocess_resources

            built = SimulatedRig(bench, clock, seed=seed)  # never started: no port is bound
            return BenchAccess(
                inprocess_resources(built),
                built.simulation,
                seed=built.simulation.seed,
                driver_options=inprocess_options(built),
            )
        rig = stack.enter_context(SimulatedRig(bench, clock, seed=seed))
        resources = {name: e["resource"] for name, e in rig.resources().items()}
        lock = stack.enter_context(hold_bench(bench.name, resources.values(), command))
        # The seed used: --seed, else the file's physics.seed, else 0 (as the simulation took it).
        return BenchAccess(resources, rig.simulation, lock, rig.simulation.seed, rig.driver_options())
    resources = {}
    for name, inst in bench.instruments.items():
        if inst.resource is None:
            raise InputError(f"{bench.source}: instrument {name!r} has no resource (or use --sim)")
        resources[name] = inst.resource
    lock = stack.enter_context(hold_bench(bench.name, resources.values(), command))
    return BenchAccess(resources, lock=lock)


def instrument_resources(
    bench: BenchSpec,
    *,
    sim: bool,
    clock: Clock,
    stack: ExitStack,
    seed: int | None = None,
    command: str = "rig",
) -> dict[str, str]:
    """Instrument name → VISA resource, the bench locked until ``stack`` closes (see :func:`open_bench`)."""
    return open_bench(bench, sim=sim, clock=clock, stack=stack, seed=seed, command=command).resources
