"""How a bench instrument becomes a simulated protocol server: one factory per protocol.

Each model in :mod:`drivers.models` names its factory here (``simulator``) as a
``"module:attribute"`` path, so the table can say how a model is simulated without the
drivers or the validator importing the simulator. A factory takes the simulation, the
instrument as the servers see it, and the faults that act on its connection.
"""

from __future__ import annotations

from typing import Protocol

from drivers.alicat import unit_id
from drivers.models import lookup
from rig.sim.backend import ServerFaults
from rig.sim.bench_physics import SimulatedInstrument
from rig.sim.servers.alicat import AlicatServer
from rig.sim.servers.base import InstrumentServer
from rig.sim.servers.daq import DaqServer
from rig.sim.servers.mks import MksServer
from rig.sim.servers.tic import TicServer
from rig.sim.servers.tpg import TpgServer
from rig.sim.servers.vgc import VgcServer
from rig.sim.servers.xgs import XgsServer
from rig.sim.simulated_bench import SimulatedBench

# The 937B's factory address, which the simulator answers on when the bench gives none.
MKS_DEFAULT_ADDRESS = 253


class ServerFactory(Protocol):
    """What a model's ``simulator`` names: a simulated server for one instrument of a bench."""

    def __call__(
        self, simulation: SimulatedBench, instrument: SimulatedInstrument, faults: ServerFaults
    ) -> InstrumentServer:
        """The (not yet started) server standing in for ``instrument``."""
        ...


def tpg(simulation: SimulatedBench, instrument: SimulatedInstrument, faults: ServerFaults) -> TpgServer:
    """A Pfeiffer TPG 36x with the instrument's gauge channels."""
    return TpgServer(simulation.gauge_backend(instrument.name, instrument.channel_count), faults=faults)


def mks(simulation: SimulatedBench, instrument: SimulatedInstrument, faults: ServerFaults) -> MksServer:
    """An MKS 937B answering on the instrument's address."""
    backend = simulation.gauge_backend(instrument.name, instrument.channel_count)
    return MksServer(backend, address=instrument.address or MKS_DEFAULT_ADDRESS, faults=faults)


def daq(simulation: SimulatedBench, instrument: SimulatedInstrument, faults: ServerFaults) -> DaqServer:
    """A DAQ970A-family DAQ of the instrument's model, with its model's inputs and relays."""
    layout = lookup(instrument.model).daq_layout
    if layout is None:
        raise ValueError(f"{instrument.name!r} ({instrument.model}) is not a DAQ")
    return DaqServer(simulation.daq_backend(instrument.name, layout), model=instrument.model, faults=faults)


def vgc(simulation: SimulatedBench, instrument: SimulatedInstrument, faults: ServerFaults) -> VgcServer:
    """An INFICON VGC 50x with the instrument's gauge channels."""
    return VgcServer(simulation.gauge_backend(instrument.name, instrument.channel_count), faults=faults)


def tic(simulation: SimulatedBench, instrument: SimulatedInstrument, faults: ServerFaults) -> TicServer:
    """An Edwards TIC whose gauge inputs are the instrument's gauge channels."""
    return TicServer(simulation.gauge_backend(instrument.name, instrument.channel_count), faults=faults)


def xgs(simulation: SimulatedBench, instrument: SimulatedInstrument, faults: ServerFaults) -> XgsServer:
    """An Agilent XGS-600 on RS-232 (address 00) with the instrument's sensors in dump order."""
    backend = simulation.gauge_backend(instrument.name, instrument.channel_count)
    return XgsServer(backend, faults=faults)


def alicat(simulation: SimulatedBench, instrument: SimulatedInstrument, faults: ServerFaults) -> AlicatServer:
    """An Alicat meter or controller answering on the unit ID the instrument's address names."""
    model = lookup(instrument.model)
    if model.flow is None:
        raise ValueError(f"{instrument.name!r} ({instrument.model}) is not a flow instrument")
    return AlicatServer(
        simulation.flow_backend(instrument.name),
        model.flow,
        controller=model.kind == "flow_controller",
        unit=unit_id(instrument.address),
        faults=faults,
    )
