"""A simulated bench: the gas network, its sensors and relays, seen through instrument eyes.

The protocol servers ask through :class:`rig.sim.backend.GaugeBackend` and
:class:`rig.sim.backend.DaqBackend`; this module answers from the physics at the moment
of the query (the network is first advanced to the clock's now). Bench-level faults act
here: a sensor error replaces a reading, a zero shift offsets one, and a stuck valve
ignores its relay while the relay still reads back as commanded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from drivers.differential import DifferentialTransducer
from drivers.models import MUX_34901A_ACTUATOR_34903A, DaqLayout
from rig.clock import Clock
from rig.sim.backend import (
    ControlMode,
    DaqBackend,
    FlowBackend,
    FlowSample,
    GaugeBackend,
    GaugeReading,
    GaugeStatus,
)
from rig.sim.faults import FaultSchedule
from rig.sim.flow_controller import FlowChannel
from rig.sim.flows import Valve
from rig.sim.gauges import FloatArray, GaugeModel, IntArray, ThermocoupleModel
from rig.sim.network import GasNetwork
from rig.sim.thermal import SensorThermalMass
from rig.units import R_GAS
from rig.valve_position import SWITCH_HIGH_V, PositionFeedback

OPEN_THERMOCOUPLE_C = 9.9e37  # what the DAQ reports for an open or missing thermocouple


@dataclass
class GaugeChannel:
    """A gauge on ``instrument``'s ``channel`` measuring ``volume``."""

    instrument: str
    channel: int
    volume: str
    model: GaugeModel
    switchable: bool = False
    on: bool = True


@dataclass(frozen=True)
class ThermocoupleChannel:
    """A thermocouple on ``instrument``'s input ``channel`` in ``volume`` (gas or wall temperature)."""

    instrument: str
    channel: int
    volume: str
    model: ThermocoupleModel
    measures_gas: bool = True
    # The sensor's thermal mass (a bench file's sensors always have one); None: it reads the gas
    # temperature itself, at once.
    thermal: SensorThermalMass | None = None


@dataclass(frozen=True)
class RelayValve:
    """A valve driven by relay ``channel`` of ``instrument``.

    Energising (closing the relay) opens a normally-closed valve and closes a
    normally-open one (a hatch held open until commanded shut).
    """

    name: str
    instrument: str
    channel: int
    valve: Valve
    normally_open: bool = False
    # Its limit switches, if the bench gives it any: they read where the valve physically is.
    position: PositionFeedback | None = None


@dataclass(frozen=True)
class AnalogOutput:
    """A gauge's 0–10 V output wired to an input of ``instrument``: volts = pressure·volts_per_pa."""

    instrument: str
    channel: int
    gauge: GaugeChannel
    volts_per_pa: float


@dataclass(frozen=True)
class DifferentialChannel:
    """A differential head between ``volumes`` whose ±10 V output is wired to an input of ``instrument``.

    It reads p(volumes[0]) − p(volumes[1]) through its own ``model`` (signed range), and puts
    out what the real head would: volts in proportion, saturated beyond its range.
    """

    instrument: str
    channel: int
    volumes: tuple[str, str]
    model: GaugeModel
    head: DifferentialTransducer


class SimulatedBench:
    """The physics behind every simulated instrument of one bench."""

    def __init__(
        self,
        network: GasNetwork,
        clock: Clock,
        gauges: Sequence[GaugeChannel] = (),
        thermocouples: Sequence[ThermocoupleChannel] = (),
        valves: Sequence[RelayValve] = (),
        analog_outputs: Sequence[AnalogOutput] = (),
        faults: FaultSchedule | None = None,
        actions: dict[str, list[Callable[[], None]]] | None = None,
        differentials: Sequence[DifferentialChannel] = (),
        seed: int = 0,
        flows: Sequence[FlowChannel] = (),
    ) -> None:
        self.network = network
        self.flow_at = {f.instrument: f for f in flows}
        self.seed = seed  # what the sensors' noise was seeded with (a run records it)
        self.clock = clock
        self.gauges = list(gauges)
        self.thermocouples = list(thermocouples)
        self.valves = list(valves)
        self.analog_outputs = list(analog_outputs)
        self.faults = faults if faults is not None else FaultSchedule([], clock.now)
        self.gauge_at = {(g.instrument, g.channel): g for g in self.gauges}
        self._thermocouple_at = {(c.instrument, c.channel): c for c in self.thermocouples}
        self._analog_at = {(a.instrument, a.channel): a for a in self.analog_outputs}
        self.differential_at = {(d.instrument, d.channel): d for d in differentials}
        # (instrument, input) → (valve, whether the switch is made when the valve is open).
        self._switch_at: dict[tuple[str, int], tuple[RelayValve, bool]] = {}
        for v in self.valves:
            if v.position is not None:
                switches = ((v.position.open_channel, True), (v.position.closed_channel, False))
                for channel, made_open in switches:
                    if channel is not None:
                        self._switch_at[(v.position.instrument, channel)] = (v, made_open)
        self.actions = dict(actions or {})
        self._lock = threading.RLock()
        self._relays: dict[tuple[str, int], bool] = {}

    def now(self) -> float:
        """Advance the physics to the clock's time and return it (callers hold the lock)."""
        t = self.clock.now()
        if t > self.network.t:
            self.network.advance_to(t)
        return self.network.t

    def act(self, action: str) -> None:
        """Do what an operator's confirmed ``action`` does to the physics, from now on."""
        if action not in self.actions:
            known = ", ".join(self.actions) or "none"
            raise KeyError(f"the simulated bench has no action {action!r} (actions: {known})")
        with self._lock:
            self.now()  # the past keeps the old physics: integrate up to now first
            for change in self.actions[action]:
                change()
            self.network.changed()

    # --- views for the servers -----------------------------------------------------------------

    def gauge_backend(self, instrument: str, channel_count: int) -> GaugeBackend:
        """What a gauge controller named ``instrument`` with ``channel_count`` channels sees."""
        return _Gauges(self, instrument, channel_count)

    def daq_backend(self, instrument: str, layout: DaqLayout = MUX_34901A_ACTUATOR_34903A) -> DaqBackend:
        """What a DAQ named ``instrument`` with its inputs and relays where ``layout`` says sees."""
        return _Daq(self, instrument, layout)

    def flow_backend(self, instrument: str) -> FlowBackend:
        """What the mass-flow meter or controller named ``instrument`` sees."""
        return _Flow(self, instrument)

    # --- truth, for tests and for the controller's safety checks in simulation ----------------

    def true_flow_mol_s(self, instrument: str) -> float:
        """The flow through the flow instrument ``instrument`` now, mol/s (not its reading)."""
        with self._lock:
            self.now()
            return self.flow_at[instrument].true_flow_mol_s(self.network)

    def flow_command(self, instrument: str) -> tuple[ControlMode, float] | None:
        """What the controller ``instrument``'s loop holds now (None for a meter)."""
        element = self.flow_at[instrument].element
        return None if element is None else (element.mode, element.setpoint)

    def read_flow(self, instrument: str) -> FlowSample:
        """The flow instrument's reading now."""
        with self._lock:
            self.now()
            return self.flow_at[instrument].read(self.network)

    def command_flow(self, instrument: str, mode: ControlMode, setpoint: float) -> None:
        """Set the controller's loop from now on (the past keeps the old one)."""
        with self._lock:
            self.now()
            self.flow_at[instrument].command(mode, setpoint)
            self.network.changed()

    def true_pressure_pa(self, volume: str) -> float:
        """The physical pressure of ``volume`` now (not a gauge reading)."""
        with self._lock:
            self.now()
            return self.network.pressure_pa(volume)

    def true_temperature_k(self, volume: str) -> float:
        """The gas temperature of ``volume`` now (not a thermometer's reading)."""
        with self._lock:
            self.now()
            return self.network.temperature_k(volume)

    def record(self, times_s: FloatArray) -> dict[tuple[str, int], tuple[IntArray, FloatArray]]:
        """Every gauge's readings at ``times_s`` (from now on), with no servers in the way.

        Returns (instrument, channel) → (status digits, values in Pa). Advances the bench to
        the last time; valves keep whatever state they are in.
        """
        with self._lock:
            states = self.network.sample(np.asarray(times_s, dtype=np.float64))
            nv = len(self.network.volumes)
            index = {v.name: i for i, v in enumerate(self.network.volumes)}
            size = np.array([v.volume_m3 for v in self.network.volumes])
            pressures = states[:, :nv] * R_GAS * states[:, nv : 2 * nv] / size
            return {
                key: g.model.read_many(times_s, pressures[:, index[g.volume]])
                for key, g in self.gauge_at.items()
            }

    def valve_is_open(self, name: str) -> bool:
        """Whether the valve called ``name`` is physically open now."""
        with self._lock:
            t = self.now()
            return self._valve(name).valve.is_open(t)

    def _valve(self, name: str) -> RelayValve:
        for v in self.valves:
            if v.name == name:
                return v
        raise KeyError(f"no valve {name!r}")

    # --- what the adapters call ----------------------------------------------------------------

    def read_gauge(self, instrument: str, channel: int) -> GaugeReading:
        """A gauge reading as the instrument reports it now."""
        with self._lock:
            t = self.now()
            gauge = self.gauge_at.get((instrument, channel))
            if gauge is None:
                return GaugeReading(GaugeStatus.NO_SENSOR, 0.0)
            if not gauge.on:
                return GaugeReading(GaugeStatus.SENSOR_OFF, 0.0)
            if self.faults.active(instrument, "sensor_error", channel) is not None:
                return GaugeReading(GaugeStatus.SENSOR_ERROR, 0.0)
            shift = self.faults.active(instrument, "zero_shift", channel)
            gauge.model.zero_shift_pa = 0.0 if shift is None else shift.magnitude
            return gauge.model.read(t, self.network.pressure_pa(gauge.volume))

    def set_relay(self, instrument: str, channel: int, closed: bool) -> None:
        """Record a relay command and move its valve (unless the valve is stuck)."""
        with self._lock:
            t = self.now()
            self._relays[(instrument, channel)] = closed
            for v in self.valves:
                if (v.instrument, v.channel) != (instrument, channel):
                    continue
                if self.faults.active(instrument, "stuck_valve", channel) is None:
                    v.valve.command(t, closed != v.normally_open)

    def relay_closed(self, instrument: str, channel: int) -> bool:
        """The relay state the instrument reports (its record of the last command)."""
        with self._lock:
            return self._relays.get((instrument, channel), False)

    def open_all_relays(self, instrument: str) -> None:
        """Open every closed relay of ``instrument`` (``*RST``)."""
        with self._lock:
            for (inst, channel), closed in list(self._relays.items()):
                if inst == instrument and closed:
                    self.set_relay(inst, channel, False)

    def temperature_c(self, instrument: str, channel: int) -> float:
        """Thermocouple reading in °C now."""
        with self._lock:
            t = self.now()
            tc = self._thermocouple_at.get((instrument, channel))
            if tc is None:
                return OPEN_THERMOCOUPLE_C
            wall_k = next(v.wall_temperature_k for v in self.network.volumes if v.name == tc.volume)
            true_k = wall_k
            if tc.measures_gas:
                gas_k = self.network.temperature_k(tc.volume)
                true_k = gas_k
                if tc.thermal is not None:
                    pressure_pa = self.network.pressure_pa(tc.volume)
                    true_k = tc.thermal.temperature_k(t, gas_k, wall_k, pressure_pa)
            return tc.model.read_k(true_k) - 273.15

    def volts(self, instrument: str, channel: int) -> float:
        """DC input in V now: a gauge's analog output, a limit switch (made: 5 V), else 0 V."""
        switch = self._switch_at.get((instrument, channel))
        if switch is not None:
            valve, made_open = switch
            with self._lock:
                made = valve.valve.is_open(self.now()) == made_open
            return SWITCH_HIGH_V if made else 0.0
        head = self.differential_at.get((instrument, channel))
        if head is not None:
            return self._differential_volts(head)
        out = self._analog_at.get((instrument, channel))
        if out is None:
            return 0.0
        reading = self.read_gauge(out.gauge.instrument, out.gauge.channel)
        return reading.pressure_pa * out.volts_per_pa

    def _differential_volts(self, head: DifferentialChannel) -> float:
        """The head's output now: its reading of the true difference, a zero shift fault added."""
        with self._lock:
            t = self.now()
            shift = self.faults.active(head.instrument, "zero_shift", head.channel)
            head.model.zero_shift_pa = 0.0 if shift is None else shift.magnitude
            test, reference = head.volumes
            true_pa = self.network.pressure_pa(test) - self.network.pressure_pa(reference)
            reading = head.model.read(t, true_pa)
        rail = head.head.transducer.saturation_v
        # Past its range (however physics.sensors sets it) the output sits on its rail.
        if reading.status is GaugeStatus.OVERRANGE:
            return rail
        if reading.status is GaugeStatus.UNDERRANGE:
            return -rail
        return head.head.volts_for(reading.pressure_pa)


@dataclass(frozen=True)
class _Gauges:
    bench: SimulatedBench
    instrument: str
    count: int

    @property
    def channel_count(self) -> int:
        return self.count

    def read(self, channel: int) -> GaugeReading:
        return self.bench.read_gauge(self.instrument, channel)

    def _gauge(self, channel: int) -> GaugeChannel | None:
        return self.bench.gauge_at.get((self.instrument, channel))

    def sensor_id(self, channel: int) -> str:
        gauge = self._gauge(channel)
        return gauge.model.sensor_id if gauge is not None else "noSENSOR"

    def switchable(self, channel: int) -> bool:
        gauge = self._gauge(channel)
        return gauge is not None and gauge.switchable

    def sensor_on(self, channel: int) -> bool:
        gauge = self._gauge(channel)
        return gauge is not None and gauge.on

    def set_sensor_on(self, channel: int, on: bool) -> None:
        gauge = self._gauge(channel)
        if gauge is not None and gauge.switchable:
            gauge.on = on


@dataclass(frozen=True)
class _Daq:
    bench: SimulatedBench
    instrument: str
    layout: DaqLayout

    def has_relay(self, channel: int) -> bool:
        return channel in self.layout.relays

    def has_input(self, channel: int) -> bool:
        return channel in self.layout.inputs

    def set_relay(self, channel: int, closed: bool) -> None:
        self.bench.set_relay(self.instrument, channel, closed)

    def relay_closed(self, channel: int) -> bool:
        return self.bench.relay_closed(self.instrument, channel)

    def open_all_relays(self) -> None:
        self.bench.open_all_relays(self.instrument)

    def temperature_c(self, channel: int) -> float:
        return self.bench.temperature_c(self.instrument, channel)

    def volts(self, channel: int) -> float:
        return self.bench.volts(self.instrument, channel)


@dataclass(frozen=True)
class _Flow:
    bench: SimulatedBench
    instrument: str

    def read_flow(self) -> FlowSample:
        return self.bench.read_flow(self.instrument)

    def command(self, mode: ControlMode, setpoint: float) -> None:
        self.bench.command_flow(self.instrument, mode, setpoint)
