"""A whole simulated bench on the network: one protocol server per instrument, one physics.

    with SimulatedRig(load_bench("procedures/benches/vacuum_chamber_mockup.yaml"), VirtualClock()) as rig:
        rig.resources()   # {"gauges": {"model": "TPG362", "resource": "TCPIP::127.0.0.1::PORT::SOCKET"}, ...}

Each instrument's server comes from its model's ``simulator`` in :mod:`drivers.models`.
Servers bind 127.0.0.1 on ephemeral ports. The chamber starts as the bench file says
(the mockup: at atmosphere with every valve closed); relays start open.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from drivers.models import import_named, lookup
from rig.bench import BenchSpec
from rig.clock import Clock
from rig.errors import InputError
from rig.sim.bench_physics import build_simulation, simulated_instruments
from rig.sim.server_factories import ServerFactory
from rig.sim.servers.base import InstrumentServer
from rig.sim.simulated_bench import SimulatedBench


class SimulatedRig:
    """The servers of every instrument of ``bench``, backed by one :class:`SimulatedBench`."""

    def __init__(self, bench: BenchSpec, clock: Clock, seed: int | None = None) -> None:
        self.bench = bench
        self.simulation: SimulatedBench = build_simulation(bench, clock, seed)
        self.models: dict[str, str] = {}
        self.servers: dict[str, InstrumentServer] = {}
        for inst in simulated_instruments(bench):
            faults = self.simulation.faults.for_instrument(inst.name)
            simulator = lookup(inst.model).simulator
            if simulator is None:
                raise InputError(
                    f"{bench.source}: instrument {inst.name!r} ({inst.model}) has no simulated server "
                    "(its model declares none), so this bench cannot run in simulation"
                )
            factory: ServerFactory = import_named(simulator)
            self.servers[inst.name] = factory(self.simulation, inst, faults)
            self.models[inst.name] = inst.model

    def start(self) -> None:
        """Start every server (stopping those already started if one fails)."""
        started: list[InstrumentServer] = []
        try:
            for server in self.servers.values():
                server.start()
                started.append(server)
        except BaseException:
            for server in started:
                server.stop()
            raise

    def stop(self) -> None:
        """Stop every server."""
        for server in self.servers.values():
            server.stop()

    def resources(self) -> dict[str, dict[str, str]]:
        """Instrument name → {"model", "resource"} (a TCPIP SOCKET resource on 127.0.0.1)."""
        return {
            name: {"model": self.models[name], "resource": s.resource} for name, s in self.servers.items()
        }

    def driver_options(self) -> dict[str, dict[str, Any]]:
        """Instrument name → the options its simulated server asks a driver to open with."""
        return {name: server.driver_options() for name, server in self.servers.items()}

    def __enter__(self) -> SimulatedRig:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
