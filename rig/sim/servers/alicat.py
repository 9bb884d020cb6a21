"""Simulated Alicat mass-flow meter or controller: the ASCII unit-ID protocol over TCP.

As the project's protocol spec has it (section 2.4, table 5.4) and as the published ``alicat``
0.9.0 client speaks it: every request is ``<unit><command><CR>``, every reply
``<unit>…<CR>``; a request for another unit ID gets no reply at all. The poll ``A`` answers
the data frame ``A +014.70 +025.00 +000.000 +000.000 +000.000     N2``: pressure (psia,
``{:+07.2f}``), temperature (°C, ``{:+07.2f}``), volumetric flow (ccm at line conditions),
mass flow (sccm at standard conditions, 25 °C and 14.696 psia) and, on a controller, the
setpoint (all ``{:+08.3f}``), then the gas right-aligned in seven characters, then flags.

Commands: ``S<value>`` setpoint (controllers) → data frame; ``R122`` / ``$$R122`` →
``A   122 = 37``; ``W122=<n>`` / ``$$W122=<n>`` → the same line with the new value;
``$$W46=<n>`` / ``$$R46`` (gas, the client's numbering: 8 is N2) → ``A   046 = 8``; ``VE`` →
``A   10v05.0-R24 …``; ``HPUR <percent>`` holds the valve (flag ``HLD``), ``C`` cancels the
hold; ``$$L`` / ``$$U`` lock and unlock the panel (flag ``LCK``); anything else ``A ?``.

Choices where the spec is [UNVERIFIED], made once here:

* Control points: 37 (mass flow, setpoint in sccm) and 34 (absolute pressure, setpoint in
  psia) only; writing another value is answered ``A ?``. The setpoint keeps its number when
  the loop changes (which is why the client, and our driver, zero it first).
* A setpoint below 0, above the full scale (flow) or above the pressure sensor's range
  (:data:`PRESSURE_RANGE_PSIA`) is answered ``A ?`` rather than clamped; so is ``S`` on a meter.
* Flags: ``MOV`` when the mass flow is beyond 128 % of the full scale (Alicat units measure
  to there), ``VOV`` likewise for the volumetric flow, ``POV`` beyond the pressure sensor's
  range, ``TOV`` outside −10 to 60 °C.
* Registers other than 46 and 122 read as ``A ?``.
* An unknown command is answered ``A ?`` (the spec's reading of the manual, itself unverified).
* ``VE`` answers the unit ID, three spaces and a firmware string of the form the published
  client's mock uses; the exact text of a real unit differs by model and version.
* The unit's own pressure sensor reads the volume it feeds; its thermometer, in its flow body,
  the gas coming through it (:mod:`rig.sim.flow_controller`).
"""

from __future__ import annotations

import re

from drivers.models import FlowRange
from rig.sim.backend import ControlMode, FlowBackend, ServerFaults
from rig.sim.servers.base import FramedSession, InstrumentServer, Session

__all__ = ["FIRMWARE", "PRESSURE_RANGE_PSIA", "AlicatServer"]

TERMINATOR = b"\r"
PA_PER_PSI = 6894.757293168
FIRMWARE = "10v05.0-R24 Jan 01 2024,00:00:00"
PRESSURE_RANGE_PSIA = 160.0
TEMPERATURE_RANGE_C = (-10.0, 60.0)
MEASURED_FRACTION_OF_FULL_SCALE = 1.28
MASS_FLOW, ABSOLUTE_PRESSURE = 37, 34
# The published client's gas numbering (alicat.driver.GASES): register 46's low bits.
GASES = (
    "Air", "Ar", "CH4", "CO", "CO2", "C2H6", "H2", "He", "N2", "N2O", "Ne", "O2", "C3H8", "n-C4H10",
    "C2H2", "C2H4", "i-C2H10", "Kr", "Xe", "SF6",
)  # fmt: skip
_WRITE = re.compile(r"(?:\$\$)?W(\d+)=(\d+)")
_READ = re.compile(r"(?:\$\$)?R(\d+)")
_HOLD = re.compile(r"HPUR\s*(\S+)")


class AlicatServer(InstrumentServer):
    """An Alicat unit ``unit`` on 127.0.0.1 reading (and, if ``controller``, driving) ``line``."""

    terminator = TERMINATOR

    def __init__(
        self,
        line: FlowBackend,
        flow: FlowRange,
        *,
        controller: bool = True,
        unit: str = "A",
        faults: ServerFaults | None = None,
        port: int = 0,
        max_connections: int = 8,
        max_request_bytes: int = 4096,
    ) -> None:
        super().__init__(
            port=port, faults=faults, max_connections=max_connections, max_request_bytes=max_request_bytes
        )
        if len(unit) != 1 or not "A" <= unit <= "Z":
            raise ValueError(f"an Alicat unit ID is one letter A to Z, not {unit!r}")
        self.line = line
        self.flow = flow
        self.controller = controller
        self.unit = unit
        self.gas = GASES.index("N2")
        self.control_point = MASS_FLOW
        self.setpoint = 0.0
        self.valve_held: float | None = None  # the held valve's fraction open, while held
        self.locked = False

    def new_session(self) -> Session:
        """Protocol state for a new connection."""
        return FramedSession(self, TERMINATOR, self.handle)

    def handle(self, frame: bytes) -> bytes | None:
        """The reply to one request (without its ``<CR>``), or None when it is not for this unit."""
        text = frame.decode("ascii", "replace").strip()
        if not text or text[0] != self.unit:
            return None
        reply = self._answer(text[1:].strip())
        return f"{self.unit}{reply}".encode("ascii") + TERMINATOR

    def data_frame(self) -> str:
        """The data frame now, after the unit ID (with its leading space)."""
        sample = self.line.read_flow()
        psia = sample.pressure_pa / PA_PER_PSI
        mass = sample.mass_flow_mol_s / self.flow.mol_s_per_sccm
        temperature_k = sample.temperature_c + 273.15
        volumetric = 0.0
        if sample.pressure_pa > 0.0:
            volumetric = (
                (mass * self.flow.standard_pressure_pa / sample.pressure_pa)
                * temperature_k
                / self.flow.standard_temperature_k
            )
        fields = [
            f"{psia:+07.2f}",
            f"{sample.temperature_c:+07.2f}",
            f"{volumetric:+08.3f}",
            f"{mass:+08.3f}",
        ]
        if self.controller:
            fields.append(f"{self.setpoint:+08.3f}")
        flags = []
        low, high = TEMPERATURE_RANGE_C
        if abs(mass) > MEASURED_FRACTION_OF_FULL_SCALE * self.flow.full_scale_sccm:
            flags.append("MOV")
        if abs(volumetric) > MEASURED_FRACTION_OF_FULL_SCALE * self.flow.full_scale_sccm:
            flags.append("VOV")
        if psia > PRESSURE_RANGE_PSIA:
            flags.append("POV")
        if not low <= sample.temperature_c <= high:
            flags.append("TOV")
        if self.valve_held is not None:
            flags.append("HLD")
        if self.locked:
            flags.append("LCK")
        gas = GASES[self.gas] if self.gas < len(GASES) else str(self.gas)
        return " " + " ".join(fields) + f" {gas:>7}" + "".join(f" {f}" for f in flags)

    # -- commands -------------------------------------------------------------------------------

    def _answer(self, command: str) -> str:
        if command == "":
            return self.data_frame()
        if command == "VE":
            return f"   {FIRMWARE}"
        if command in ("$$L", "$$U"):
            self.locked = command == "$$L"
            return self.data_frame()
        if (read := _READ.fullmatch(command)) is not None:
            return self._register(int(read[1]))
        if (write := _WRITE.fullmatch(command)) is not None:
            return self._write(int(write[1]), int(write[2]))
        if not self.controller:
            return " ?"
        if command.startswith("S") and (value := _number(command[1:])) is not None:
            return self._setpoint(value)
        if (hold := _HOLD.fullmatch(command)) is not None and (percent := _number(hold[1])) is not None:
            if not 0.0 <= percent <= 100.0:
                return " ?"
            self.valve_held = percent / 100.0
            self._drive()
            return self.data_frame()
        if command == "C":
            self.valve_held = None
            self._drive()
            return self.data_frame()
        return " ?"

    def _register(self, number: int) -> str:
        if number == 122 and self.controller:
            return f"   122 = {self.control_point}"
        if number == 46:
            return f"   046 = {self.gas}"
        return " ?"

    def _write(self, number: int, value: int) -> str:
        if number == 122 and self.controller and value in (MASS_FLOW, ABSOLUTE_PRESSURE):
            self.control_point = value
            self._drive()
            return self._register(122)
        if number == 46 and value & 0x1FF < len(GASES):
            self.gas = value & 0x1FF
            return self._register(46)
        return " ?"

    def _setpoint(self, value: float) -> str:
        top = self.flow.full_scale_sccm if self.control_point == MASS_FLOW else PRESSURE_RANGE_PSIA
        if not 0.0 <= value <= top:
            return " ?"
        self.setpoint = value
        self._drive()
        return self.data_frame()

    def _drive(self) -> None:
        """Tell the line what the loop now holds, in SI."""
        if self.valve_held is not None:
            self.line.command(ControlMode.VALVE, self.valve_held)
        elif self.control_point == ABSOLUTE_PRESSURE:
            self.line.command(ControlMode.PRESSURE, self.setpoint * PA_PER_PSI)
        else:
            self.line.command(ControlMode.MASS_FLOW, self.setpoint * self.flow.mol_s_per_sccm)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None
