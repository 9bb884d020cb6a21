"""A throwaway mass-flow controller, driver and simulated server, to try the kit's flow suites on.

No flow driver ships on this branch, so the suites meet a small protocol of our own here:
``ID?`` → identity; ``F?`` → ``<flow sccm> <pressure Pa> <temperature K> <mode P|F> <setpoint>``;
``SP <Pa>`` holds a pressure, ``SF 0`` stops the flow (each answered ``OK``); ``S?`` →
``<mode> <setpoint>``. Lines end with CR. Flows go over the wire in sccm, so a driver that
forgets to convert to mol/s reads a number 1.3 million times too large.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

from drivers.base import Instrument, RetryPolicy
from drivers.errors import ProtocolError
from drivers.models import FlowRange, InstrumentModel
from drivers.readings import FlowReading, FlowState
from drivers.transport import Transport
from rig.sim.backend import ServerFaults
from rig.sim.servers.base import FramedSession, InstrumentServer, Session

# One sccm in mol/s: 1 cm³/min of gas at 101325 Pa and 273.15 K (R = 8.314462618 J/(mol K)).
SCCM_MOL_S = 101325.0 * 1e-6 / 60.0 / (8.314462618 * 273.15)

MODEL = InstrumentModel(
    "TOYMFC",
    "flow_controller",
    driver="tests.testing.toy_flow:ToyFlowController",
    display_digits=5,
    flow=FlowRange(
        full_scale_sccm=100.0, accuracy_reading=0.008, accuracy_full_scale=0.002, resolution_sccm=0.001
    ),
)


@dataclass
class ToyFlowBackend:
    """What the toy controller holds: its flow, and the variable it controls at which setpoint."""

    flow_mol_s: float = 0.0
    mode: str = "F"
    setpoint: float = 0.0
    pressure_pa: float = 100_000.0
    temperature_k: float = 293.15
    refusing: bool = False

    def control(self, mode: str, setpoint: float) -> None:
        """Take a new setpoint, unless refusing (then the old one stays)."""
        if not self.refusing:
            self.mode, self.setpoint = mode, setpoint


class ToyFlowServer(InstrumentServer):
    """The toy protocol on 127.0.0.1."""

    terminator = b"\r"

    def __init__(self, backend: ToyFlowBackend, *, faults: ServerFaults | None = None) -> None:
        super().__init__(faults=faults)
        self.backend = backend

    def new_session(self) -> Session:
        """One line in, at most one line out."""
        return FramedSession(self, b"\r", self.handle)

    def handle(self, frame: bytes) -> bytes | None:
        """Answer one request line."""
        b = self.backend
        text = frame.decode("ascii", "replace").strip()
        if text == "ID?":
            reply = "TOY-MFC,0001"
        elif text == "F?":
            flow_sccm = b.flow_mol_s / SCCM_MOL_S
            reply = f"{flow_sccm:.4E} {b.pressure_pa:.4E} {b.temperature_k:.4E} {b.mode} {b.setpoint:.4E}"
        elif text == "S?":
            reply = f"{b.mode} {b.setpoint:.4E}"
        elif text.startswith("SP "):
            b.control("P", float(text[3:]))
            reply = "OK"
        elif text == "SF 0":
            b.control("F", 0.0)
            reply = "OK"
        else:
            reply = "ERR"
        return reply.encode("ascii") + b"\r"


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ProtocolError(f"TOYMFC: {text!r} is no number") from None


class ToyFlowController(Instrument):
    """The toy mass-flow controller: flows in mol/s, a pressure held or the flow stopped, confirmed."""

    model = "TOYMFC"
    read_termination = "\r"

    def __init__(
        self,
        transport: Transport,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(transport, retry=retry, sleep=sleep)

    @classmethod
    def open(cls, resource_name: str, *, timeout_s: float = 1.0, retry: RetryPolicy | None = None) -> Self:
        """Connect through pyvisa-py."""
        return cls(cls.visa_transport(resource_name, timeout_s, {}), retry=retry)

    def _ask(self, command: str) -> str:
        self.transport.write(command.encode("ascii") + b"\r")
        return self.transport.read_line().decode("ascii", "replace").strip()

    def identity(self) -> str:
        """``ID?``: model and serial number."""
        return self.query(lambda: self._ask("ID?"))

    def read_flow(self, channel: int) -> FlowReading:
        """``F?``: the flow in mol/s, the line pressure in Pa and temperature in K, the setpoint."""
        self._check(channel)

        def transaction() -> FlowReading:
            fields = self._ask("F?").split()
            if len(fields) != 5 or fields[3] not in ("P", "F"):
                raise ProtocolError(f"TOYMFC: F? gave {fields!r}")
            flow_sccm, pressure_pa, temperature_k, setpoint = (_number(fields[i]) for i in (0, 1, 2, 4))
            flow_mol_s = flow_sccm * SCCM_MOL_S
            return FlowReading(channel, FlowState.OK, flow_mol_s, pressure_pa, temperature_k, setpoint)

        return self.query(transaction)

    def _control(self, mode: str, command: str, setpoint: float) -> None:
        def confirmed() -> bool:
            fields = self._ask("S?").split()
            if len(fields) != 2:
                raise ProtocolError(f"TOYMFC: S? gave {fields!r}")
            return fields[0] == mode and abs(_number(fields[1]) - setpoint) <= 1e-4 * max(abs(setpoint), 1.0)

        def send() -> None:
            if self._ask(command) != "OK":
                raise ProtocolError(f"TOYMFC: {command} not answered OK")

        self.actuate(send, confirmed, command)

    def hold_pressure(self, channel: int, pressure_pa: float) -> None:
        """``SP <Pa>``: control on pressure, confirmed by ``S?``."""
        self._check(channel)
        self._control("P", f"SP {pressure_pa:.4E}", pressure_pa)

    def stop_flow(self, channel: int) -> None:
        """``SF 0``: a zero flow setpoint, confirmed by ``S?``."""
        self._check(channel)
        self._control("F", "SF 0", 0.0)

    def _check(self, channel: int) -> None:
        if channel != 1:
            raise ValueError(f"TOYMFC has channel 1 only, not {channel}")
