"""Alicat mass-flow meters and controllers over their ASCII serial protocol (or a serial bridge).

Every command starts with the unit ID, a letter ``A``–``Z``, and ends with ``<CR>``; so does
every reply, which also starts with the unit ID (protocols.md §2.4, table 5.4). A unit that
is not addressed says nothing. The poll ``A<CR>`` returns the data frame::

    A +014.70 +025.00 +000.000 +000.000 +000.000     N2

unit ID, pressure (psia), temperature (°C), volumetric flow, mass flow, setpoint (controllers
only), an optional totalizer, the gas, then status flags: ``MOV``/``VOV``/``POV``/``TOV``
(mass flow, volumetric flow, pressure or temperature over range), ``LCK`` (front panel
locked), ``HLD`` (valve held) and others. Flows are in sccm at the unit's standard conditions
(the model's :class:`drivers.models.FlowRange`: Alicat's defaults, 25 °C and 14.696 psia)
and are returned in mol/s; the pressure in Pa, the temperature in K.

A controller's control loop is register 122: 37 controls the mass flow, 34 the absolute
pressure (as the published ``alicat`` client numbers them). ``AS<value>`` sets the setpoint
in the control variable's unit (sccm, or psia) and answers with a data frame; ``AR122`` reads
the register (``A   122 = 37``), ``AW122=34`` writes it. An unknown command is answered
``A ?``, which is the unit's own refusal (:class:`InstrumentError`).

The bench's ``address:`` is the unit ID's position in the alphabet (1 is ``A``, the factory
default; 26 is ``Z``): a bench file's addresses are numbers, an Alicat's are letters.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Self

from drivers.base import Instrument, RetryPolicy
from drivers.errors import (
    DriverError,
    InstrumentDisconnectedError,
    InstrumentError,
    InstrumentTimeoutError,
    ProtocolError,
)
from drivers.models import FlowRange, models_driven_by
from drivers.readings import FlowReading, FlowState
from drivers.transport import Transport

__all__ = [
    "ABSOLUTE_PRESSURE",
    "MASS_FLOW",
    "PA_PER_PSI",
    "AlicatController",
    "AlicatMeter",
    "DataFrame",
    "parse_frame",
    "unit_id",
]

PA_PER_PSI = 6894.757293168
#: Register 122 values: what the control loop holds.
MASS_FLOW = 37
ABSOLUTE_PRESSURE = 34
CONTROL_POINTS = frozenset({34, 36, 37, 38, 39})
OVER_RANGE_FLAGS = frozenset({"MOV", "VOV", "POV", "TOV"})
# Flags that say nothing about the numbers: the panel is locked, the valve held, exhausting.
QUIET_FLAGS = frozenset({"LCK", "HLD", "EXH", "OVR"})
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")
_REGISTER = re.compile(r"([A-Z])\s+(\d+)\s*=\s*([+-]?\d+)")
_RETRIED = (InstrumentTimeoutError, InstrumentDisconnectedError, ProtocolError)
# A setpoint reads back as printed: three decimals.
_SETPOINT_TOLERANCE = 0.0015


def unit_id(address: int | None) -> str:
    """The unit ID a bench ``address`` names: 1 → ``A`` … 26 → ``Z``; None → ``A`` (the default)."""
    if address is None:
        return "A"
    if not 1 <= address <= 26:
        raise ValueError(f"an Alicat unit ID is A to Z: address 1 to 26, not {address}")
    return chr(ord("A") + address - 1)


class DataFrame:
    """One data frame, as printed: psia, °C, sccm, the gas and the flags."""

    def __init__(
        self,
        unit: str,
        numbers: list[float],
        gas: str,
        flags: list[str],
        *,
        controller: bool,
    ) -> None:
        self.unit = unit
        self.pressure_psia, self.temperature_c, self.volumetric_flow, self.mass_flow_sccm = numbers[:4]
        self.setpoint = numbers[4] if controller else None
        self.gas = gas
        self.flags = flags

    @property
    def state(self) -> FlowState:
        """What the flags say of the flow reading."""
        if any(f in OVER_RANGE_FLAGS for f in self.flags):
            return FlowState.OVERRANGE
        if any(f not in QUIET_FLAGS for f in self.flags):
            return FlowState.SENSOR_ERROR
        return FlowState.OK


def parse_frame(line: str, unit: str, controller: bool) -> DataFrame:
    """The data frame ``line`` from ``unit`` (ProtocolError if it is not one)."""
    tokens = line.split()
    if not tokens or tokens[0] != unit:
        raise ProtocolError(f"Alicat {unit}: reply {line!r} is not from unit {unit}")
    numbers: list[float] = []
    rest = tokens[1:]
    while rest and _NUMBER.fullmatch(rest[0]):
        numbers.append(float(rest.pop(0)))
    # Meters print 4 numbers, controllers 5 (the setpoint), either one more with a totalizer.
    wanted = (5, 6) if controller else (4, 5)
    if len(numbers) not in wanted or not rest or not rest[0].replace("-", "").isalnum():
        raise ProtocolError(f"Alicat {unit}: {line!r} is not a data frame")
    gas, flags = rest[0], [f.upper() for f in rest[1:]]
    if not all(f.isalpha() for f in flags):
        raise ProtocolError(f"Alicat {unit}: {line!r} has garbled status flags")
    return DataFrame(unit, numbers, gas, flags, controller=controller)


class AlicatMeter(Instrument):
    """An Alicat mass-flow meter with unit ID ``unit`` (one flow channel: 1)."""

    model = "Alicat"
    read_termination = "\r"
    controller = False

    def __init__(
        self,
        transport: Transport,
        unit: str = "A",
        *,
        flow: FlowRange | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if len(unit) != 1 or not "A" <= unit <= "Z":
            raise ValueError(f"an Alicat unit ID is one letter A to Z, not {unit!r}")
        super().__init__(transport, retry=retry, sleep=sleep)
        self.unit = unit
        # Every model of ours prints sccm at Alicat's default standard conditions.
        self.flow = flow or _default_range(type(self))
        self._stale = False
        # A controller's loop (register 122) as last read or written; None until then.
        self._control: int | None = None

    @classmethod
    def open(
        cls,
        resource_name: str,
        *,
        address: int | None = None,
        timeout_s: float = 2.0,
        retry: RetryPolicy | None = None,
        **visa_options: Any,
    ) -> Self:
        """Open ``resource_name`` (``TCPIP::host::port::SOCKET``, ``ASRL…::INSTR``, ``ASRLsocket://…``).

        ``address`` is the bench's: the unit ID's position in the alphabet (None: ``A``).
        Serial options (19200 baud is the usual default) go to pyvisa in ``visa_options``.
        """
        transport = cls.visa_transport(resource_name, timeout_s, visa_options)
        try:
            return cls(transport, unit_id(address), retry=retry)
        except BaseException:
            transport.close()
            raise

    # --- framing --------------------------------------------------------------------------------

    def resync(self) -> None:
        """Discard unread input, so that a late reply cannot answer the next command."""
        with self.lock:
            self.transport.discard_input()
            self._stale = False

    def _exchange(self, command: str) -> str:
        """Send ``<unit><command><CR>`` once; return the reply line. The caller holds the lock.

        ``<unit> ?`` raises :class:`InstrumentError`; a reply from another unit, or none in
        ASCII, raises :class:`ProtocolError`.
        """
        if self._stale:
            self.resync()
        try:
            self.transport.write(f"{self.unit}{command}\r".encode("ascii"))
            raw = self.transport.read_line()
            try:
                line = raw.decode("ascii").strip()
            except UnicodeDecodeError:
                raise ProtocolError(
                    f"Alicat {self.unit}: reply to {command!r} is not ASCII: {raw!r}"
                ) from None
            if not line.startswith(self.unit):
                raise ProtocolError(f"Alicat {self.unit}: reply to {command!r} is not from it: {line!r}")
        except _RETRIED:
            self._stale = True
            raise
        if line[1:].strip() == "?":
            raise InstrumentError(f"Alicat {self.unit}: command {command!r} refused ({line!r})", code="?")
        return line

    def _frame(self) -> DataFrame:
        return parse_frame(self._exchange(""), self.unit, self.controller)

    # --- what the rig asks ----------------------------------------------------------------------

    def identity(self) -> str:
        """``"Alicat <unit>,<firmware>"``: the unit ID and the firmware it reports (``VE``)."""
        line = self.query(lambda: self._exchange("VE"))
        return f"Alicat {self.unit},{line[1:].strip()}"

    def data_frame(self) -> DataFrame:
        """The data frame now (``A<CR>``), as printed."""
        return self.query(self._frame)

    def read_flow(self, channel: int = 1) -> FlowReading:
        """The flow now in mol/s, with the line's pressure (Pa) and temperature (K)."""
        _check_channel(channel)
        frame = self.data_frame()
        return self._reading(frame)

    def _reading(self, frame: DataFrame) -> FlowReading:
        return FlowReading(
            1,
            frame.state,
            frame.mass_flow_sccm * self.flow.mol_s_per_sccm,
            frame.pressure_psia * PA_PER_PSI,
            frame.temperature_c + 273.15,
            None,
        )


class AlicatController(AlicatMeter):
    """An Alicat mass-flow (and pressure) controller: it holds a flow or an absolute pressure."""

    controller = True

    @classmethod
    def open(
        cls,
        resource_name: str,
        *,
        address: int | None = None,
        timeout_s: float = 2.0,
        retry: RetryPolicy | None = None,
        **visa_options: Any,
    ) -> Self:
        """Open a controller as :meth:`AlicatMeter.open` does, and read which loop it is on.

        With the loop known (register 122, as the published client reads it on first use) its
        setpoint reads in SI from the first frame. A controller that does not answer is not
        refused here: the first transaction retries and says so.
        """
        controller = super().open(
            resource_name, address=address, timeout_s=timeout_s, retry=retry, **visa_options
        )
        with contextlib.suppress(DriverError):
            controller.control_point()
        return controller

    def _reading(self, frame: DataFrame) -> FlowReading:
        # The setpoint's unit is the control variable's: psia on pressure, sccm on flow. It is
        # returned in SI by the loop the frame does not name, so the last one read is used.
        reading = super()._reading(frame)
        setpoint, loop = frame.setpoint, self._control
        if setpoint is None or loop not in (ABSOLUTE_PRESSURE, MASS_FLOW):
            return reading  # a loop this driver has not read (or another one): no SI setpoint
        scale = PA_PER_PSI if loop == ABSOLUTE_PRESSURE else self.flow.mol_s_per_sccm
        return replace(reading, setpoint=setpoint * scale)

    def control_point(self) -> int:
        """Register 122: what the loop holds (37 mass flow, 34 absolute pressure ...)."""
        value = self.query(lambda: self._register(self._exchange("R122"), 122))
        self._control = value
        return value

    def _register(self, line: str, number: int) -> int:
        match = _REGISTER.fullmatch(line.strip())
        if match is None or match[1] != self.unit or int(match[2]) != number:
            raise ProtocolError(f"Alicat {self.unit}: {line!r} is not register {number}")
        return int(match[3])

    def _set_control_point(self, value: int) -> None:
        if value not in CONTROL_POINTS:
            raise ValueError(f"not an Alicat control point: {value}")

        def command() -> None:
            self._register(self._exchange(f"W122={value}"), 122)

        self.actuate(command, lambda: self.control_point() == value, f"control point {value}")

    def _set_setpoint(self, value: float, what: str) -> None:
        def command() -> None:
            parse_frame(self._exchange(f"S{value:.3f}"), self.unit, True)

        def confirmed() -> bool:
            setpoint = self._frame().setpoint
            return setpoint is not None and abs(setpoint - value) <= _SETPOINT_TOLERANCE + 1e-9 * abs(value)

        self.actuate(command, confirmed, what)

    def hold_pressure(self, channel: int, pressure_pa: float) -> None:
        """Control the absolute pressure (register 122 = 34) at ``pressure_pa``, each step read back.

        Switching loops first zeroes the flow setpoint, as the published client does, so that
        the old setpoint is never taken in the new unit.
        """
        _check_channel(channel)
        if not pressure_pa >= 0.0:
            raise ValueError(f"a pressure to hold is not negative, got {pressure_pa} Pa")
        with self.conversation():
            if self.control_point() != ABSOLUTE_PRESSURE:
                self._set_setpoint(0.0, "flow setpoint 0 before the pressure loop")
                self._set_control_point(ABSOLUTE_PRESSURE)
            psia = round(pressure_pa / PA_PER_PSI, 3)
            self._set_setpoint(psia, f"pressure setpoint {psia:.3f} psia")

    def stop_flow(self, channel: int = 1) -> None:
        """Close the valve: a zero setpoint on the mass-flow loop (register 122 = 37), read back."""
        _check_channel(channel)
        with self.conversation():
            # Zero first in whatever loop it is on: on pressure, 0 psia shuts an upstream valve too.
            self._set_setpoint(0.0, "setpoint 0")
            if self.control_point() != MASS_FLOW:
                self._set_control_point(MASS_FLOW)
                self._set_setpoint(0.0, "flow setpoint 0")


def _check_channel(channel: int) -> None:
    if channel != 1:
        raise ValueError(f"an Alicat has one flow channel, 1, not {channel}")


def _default_range(cls: type) -> FlowRange:
    ranges = {m.flow for m in models_driven_by(cls).values() if m.flow is not None}
    # Every one of our models prints sccm at the same standard conditions: any of them will do.
    if not ranges:
        return FlowRange(10.0, 0.008, 0.002, 0.001)
    return sorted(ranges, key=lambda r: r.full_scale_sccm)[0]
