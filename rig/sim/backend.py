"""What a simulated instrument asks of the bench behind it.

The protocol servers (``rig.sim.servers``) speak the wire protocols; everything they
report or change goes through these small interfaces: the physics model implements
them for a simulated bench, and the in-memory versions here serve protocol tests.
Pressures are in Pa and temperatures in °C at this boundary because that is what the
instruments themselves report; channels are numbered as on the instrument.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from drivers.models import MUX_34901A_ACTUATOR_34903A


class GaugeStatus(enum.IntEnum):
    """Pfeiffer status digit of a gauge channel (also used for MKS channel states)."""

    OK = 0
    UNDERRANGE = 1
    OVERRANGE = 2
    SENSOR_ERROR = 3
    SENSOR_OFF = 4
    NO_SENSOR = 5
    IDENTIFICATION_ERROR = 6


@dataclass(frozen=True)
class GaugeReading:
    """One reading of a gauge channel: status and pressure in Pa (meaningful when OK)."""

    status: GaugeStatus
    pressure_pa: float


class GaugeBackend(Protocol):
    """The gauges behind a simulated gauge controller (TPG 36x, MKS 937B); channels from 1."""

    @property
    def channel_count(self) -> int:
        """Number of gauge channels the controller has."""
        ...

    def read(self, channel: int) -> GaugeReading:
        """The reading of ``channel`` now (on the simulation clock)."""
        ...

    def sensor_id(self, channel: int) -> str:
        """The gauge type connected to ``channel`` as the controller names it (e.g. "CMR")."""
        ...

    def switchable(self, channel: int) -> bool:
        """Whether the gauge on ``channel`` can be switched on and off."""
        ...

    def sensor_on(self, channel: int) -> bool:
        """Whether the gauge on ``channel`` is on."""
        ...

    def set_sensor_on(self, channel: int, on: bool) -> None:
        """Switch the gauge on ``channel`` (ignored when it cannot be switched)."""
        ...


class DaqBackend(Protocol):
    """The relays, thermocouples and analog inputs behind a simulated DAQ970A/34972A."""

    def has_relay(self, channel: int) -> bool:
        """Whether ``channel`` (e.g. 201) is a relay of the actuator module."""
        ...

    def has_input(self, channel: int) -> bool:
        """Whether ``channel`` (e.g. 101) is an input of the multiplexer module."""
        ...

    def set_relay(self, channel: int, closed: bool) -> None:
        """Close (energise) or open a relay channel."""
        ...

    def relay_closed(self, channel: int) -> bool:
        """The relay state the instrument reports (its own record, not a sense of the valve)."""
        ...

    def open_all_relays(self) -> None:
        """What ``*RST`` does to the actuator module."""
        ...

    def temperature_c(self, channel: int) -> float:
        """Thermocouple temperature on ``channel`` in °C now (9.9e37 for an open thermocouple)."""
        ...

    def volts(self, channel: int) -> float:
        """DC voltage on ``channel`` now."""
        ...


class ServerFaults(Protocol):
    """Faults that act on the connection rather than on the physics (see ``rig.sim.faults``)."""

    def active(self, kind: str, channel: int | None = None) -> float | None:
        """The magnitude of fault ``kind`` if it is active now (0.0 when it has none), else None.

        Connection-level kinds: "latency" (magnitude: added delay in s of wall time),
        "timeout" (no reply), "garbled" (corrupted reply), "disconnect" (connection dropped),
        "drop" (magnitude N: every N-th reply while it is active is lost, a transient timeout).
        """
        ...


class NoFaults:
    """A :class:`ServerFaults` with nothing ever active."""

    def active(self, kind: str, channel: int | None = None) -> float | None:
        """Never active."""
        return None


@dataclass
class StaticGauges:
    """In-memory :class:`GaugeBackend`: fixed readings that a test can change."""

    readings: dict[int, GaugeReading]
    sensor_ids: dict[int, str] = field(default_factory=dict)
    switchable_channels: set[int] = field(default_factory=set)
    off_channels: set[int] = field(default_factory=set)

    @property
    def channel_count(self) -> int:
        """Number of channels (the keys of ``readings``)."""
        return len(self.readings)

    def read(self, channel: int) -> GaugeReading:
        """The stored reading; a switched-off gauge reads SENSOR_OFF."""
        if channel in self.off_channels:
            return GaugeReading(GaugeStatus.SENSOR_OFF, 0.0)
        return self.readings[channel]

    def sensor_id(self, channel: int) -> str:
        """The stored identification (default "CMR", a capacitance manometer)."""
        return self.sensor_ids.get(channel, "CMR")

    def switchable(self, channel: int) -> bool:
        """Whether the channel was declared switchable."""
        return channel in self.switchable_channels

    def sensor_on(self, channel: int) -> bool:
        """Whether the channel's gauge is on."""
        return channel not in self.off_channels

    def set_sensor_on(self, channel: int, on: bool) -> None:
        """Switch a switchable gauge."""
        if channel not in self.switchable_channels:
            return
        if on:
            self.off_channels.discard(channel)
        else:
            self.off_channels.add(channel)


@dataclass
class StaticDaq:
    """In-memory :class:`DaqBackend` with a 34901A in slot 1 and a 34903A in slot 2."""

    temperatures_c: dict[int, float] = field(default_factory=lambda: {101: 22.885, 103: 23.1})
    voltages: dict[int, float] = field(default_factory=lambda: {102: 1.23456789})
    closed: set[int] = field(default_factory=set)

    def has_relay(self, channel: int) -> bool:
        """Slot 2 channels 1 to 20."""
        return channel in MUX_34901A_ACTUATOR_34903A.relays

    def has_input(self, channel: int) -> bool:
        """Slot 1 channels 1 to 20."""
        return channel in MUX_34901A_ACTUATOR_34903A.inputs

    def set_relay(self, channel: int, closed: bool) -> None:
        """Record the relay state."""
        if closed:
            self.closed.add(channel)
        else:
            self.closed.discard(channel)

    def relay_closed(self, channel: int) -> bool:
        """The recorded relay state."""
        return channel in self.closed

    def open_all_relays(self) -> None:
        """Open every relay."""
        self.closed.clear()

    def temperature_c(self, channel: int) -> float:
        """The stored temperature; an unconnected input reads as an open thermocouple."""
        return self.temperatures_c.get(channel, 9.9e37)

    def volts(self, channel: int) -> float:
        """The stored voltage (0 V when nothing is connected)."""
        return self.voltages.get(channel, 0.0)


class ControlMode(enum.Enum):
    """What a simulated flow controller's loop holds (its register 122, by meaning)."""

    MASS_FLOW = "mass_flow"  # setpoint in mol/s
    PRESSURE = "pressure"  # absolute pressure setpoint in Pa
    VALVE = "valve"  # valve held at a fraction of fully open (0 to 1)


@dataclass(frozen=True)
class FlowSample:
    """What a flow instrument's own sensors read now: line pressure (Pa), temperature (°C), mol/s."""

    pressure_pa: float
    temperature_c: float
    mass_flow_mol_s: float


class FlowBackend(Protocol):
    """The gas line behind a simulated mass-flow meter or controller (one flow channel)."""

    def read_flow(self) -> FlowSample:
        """What the instrument's sensors read now (on the simulation clock), noise included."""
        ...

    def command(self, mode: ControlMode, setpoint: float) -> None:
        """Make the control loop hold ``setpoint`` (SI, per ``mode``) from now on (controllers)."""
        ...


@dataclass
class StaticFlow:
    """In-memory :class:`FlowBackend`: a fixed reading, and the commands a test can inspect.

    On a mass-flow setpoint the flow it reads is the setpoint (a perfect loop); otherwise the
    stored ``sample``'s.
    """

    sample: FlowSample = field(default_factory=lambda: FlowSample(101325.0, 25.0, 0.0))
    mode: ControlMode = ControlMode.MASS_FLOW
    setpoint: float = 0.0
    commands: list[tuple[ControlMode, float]] = field(default_factory=list)

    def read_flow(self) -> FlowSample:
        """The stored reading (the setpoint as the flow, on the mass-flow loop)."""
        if self.mode is ControlMode.MASS_FLOW and self.commands:
            return FlowSample(self.sample.pressure_pa, self.sample.temperature_c, self.setpoint)
        return self.sample

    def command(self, mode: ControlMode, setpoint: float) -> None:
        """Record the command."""
        self.mode, self.setpoint = mode, setpoint
        self.commands.append((mode, setpoint))
