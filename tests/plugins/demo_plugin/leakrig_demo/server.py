"""The DG-2 simulated: Leakrig's simulated bench supplies the pressures, this speaks the protocol."""

from __future__ import annotations

from rig.sim.backend import GaugeBackend, GaugeStatus, ServerFaults
from rig.sim.bench_physics import SimulatedInstrument
from rig.sim.servers.base import FramedSession, InstrumentServer, Session
from rig.sim.simulated_bench import SimulatedBench

_CODES = {GaugeStatus.OK: "OK", GaugeStatus.UNDERRANGE: "UR", GaugeStatus.OVERRANGE: "OR"}


class Dg2Server(InstrumentServer):
    """A DG-2 on 127.0.0.1 answering for the gauges of ``gauges``."""

    terminator = b"\n"

    def __init__(self, gauges: GaugeBackend, faults: ServerFaults | None = None) -> None:
        super().__init__(faults=faults)
        self.gauges = gauges

    def new_session(self) -> Session:
        """Each connection frames requests on newlines."""
        return FramedSession(self, b"\n", self._answer)

    def _reading(self, channel: int) -> str:
        reading = self.gauges.read(channel)
        code = _CODES.get(reading.status)
        return "ERR,0" if code is None else f"{code},{reading.pressure_pa:.5E}"

    def _answer(self, frame: bytes) -> bytes:
        command = frame.decode("ascii", errors="replace").strip()
        if command == "*IDN?":
            reply = "Demo Instruments,DG-2,0001,1.0"
        elif command == "UNIT?":
            reply = "PA"
        elif command == "MEAS? ALL":
            reply = ";".join(self._reading(ch) for ch in range(1, self.gauges.channel_count + 1))
        elif command in {f"MEAS? {ch}" for ch in range(1, self.gauges.channel_count + 1)}:
            reply = self._reading(int(command.split()[1]))
        else:
            reply = "ERR unknown command"
        return reply.encode("ascii") + b"\n"


def serve(simulation: SimulatedBench, instrument: SimulatedInstrument, faults: ServerFaults) -> Dg2Server:
    """The model's ``simulator``: a DG-2 over the simulated bench's gauges."""
    return Dg2Server(simulation.gauge_backend(instrument.name, instrument.channel_count), faults=faults)
