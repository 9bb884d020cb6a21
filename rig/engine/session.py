"""A bench seen through its drivers: named channels to read, named valves to move.

The engine never talks to a driver directly: it reads channels by their bench names (Pa,
K, V, or mol/s for a flow) and sets valves by name (open/closed), and this session turns that
into relay, gauge and flow calls. A flow controller is commanded by its instrument's name: hold
a pressure, or stop its flow (the safe state stops every one). A valve is open when its relay
is energised, unless the bench says it is normally open (a hatch), and every valve move is
confirmed by readback in the driver.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from drivers.errors import DriverError, InstrumentError
from drivers.models import MODELS
from drivers.readings import FlowReading, FlowState, GaugeState, PressureReading
from drivers.registry import open_instrument
from drivers.roles import Daq, FlowController, FlowMeter, Instrument, PressureGauge, role_problem
from rig.bench import BenchSpec
from rig.bench_differential import DIFFERENTIAL, differential_reading
from rig.valve_position import Position

# Gauge states that are the gauge's own failure, not the pressure being out of its range: they
# read as a dropout like a failed instrument, and count and abort like one (fault campaign:
# a sensor error in the middle of a decay used to be an uncounted dropout, and the fit then
# quietly used the part of the window before it).
SENSOR_FAULTS = frozenset({GaugeState.SENSOR_ERROR, GaugeState.NO_SENSOR, GaugeState.IDENTIFICATION_ERROR})


# The one channel of a flow instrument.
FLOW_CHANNEL = 1


class InstrumentUnavailableError(DriverError):
    """An instrument of the bench could not be opened or did not answer; the message names it."""

    def __init__(self, instrument: str, cause: DriverError) -> None:
        super().__init__(f"{instrument}: {cause}")
        self.instrument = instrument
        self.cause = cause


class RigSession:
    """Open drivers for every instrument of a bench, addressed by channel and valve names.

    Each driver is used through the role its model declares (:mod:`drivers.roles`): a gauge
    controller as a :class:`~drivers.roles.PressureGauge`, a DAQ as a :class:`~drivers.roles.Daq`
    (relays, thermocouples, voltages). A driver lacking a method of its role is refused when it
    is opened, naming what it lacks, rather than failing mid-run.

    An instrument that cannot be opened, or does not answer to :meth:`identities` or
    :meth:`settings`, raises :class:`InstrumentUnavailableError` naming it.
    """

    def __init__(
        self,
        bench: BenchSpec,
        resources: dict[str, str],
        timeout_s: float = 2.0,
        options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.bench = bench
        self._stack = ExitStack()
        self.instruments: dict[str, Instrument] = {}
        self._gauges: dict[str, PressureGauge] = {}
        self._daqs: dict[str, Daq] = {}
        self._flows: dict[str, FlowMeter] = {}
        self._controllers: dict[str, FlowController] = {}
        # The last read_all's failures: channel → what the driver said.
        self.read_errors: dict[str, str] = {}
        self._sensor_faults: dict[str, str] = {}
        # The last read_all's channels whose gauge read beyond its range (read as None, not failed).
        self.out_of_range: dict[str, GaugeState] = {}
        self._out_of_range: dict[str, GaugeState] = {}
        self._groups: dict[str, list[str]] = defaultdict(list)
        for channel_name, channel in bench.channels.items():
            self._groups[channel.instrument].append(channel_name)
        try:
            for name, spec in bench.instruments.items():
                try:
                    extra = (options or {}).get(name, {})
                    inst = open_instrument(
                        spec.model, resources[name], address=spec.address, timeout_s=timeout_s, **extra
                    )
                except DriverError as exc:
                    raise InstrumentUnavailableError(name, exc) from exc
                self._stack.callback(inst.close)
                self._take_role(name, spec.model, inst)
        except BaseException:
            self._stack.close()
            raise

    def _take_role(self, name: str, model: str, inst: object) -> None:
        """Keep ``inst`` under the role its model declares (refused if its driver lacks a method of it)."""
        kind = MODELS[model].kind
        problem = role_problem(type(inst), model, kind)
        if problem is not None or not isinstance(inst, Instrument):
            raise InstrumentUnavailableError(
                name, DriverError(problem or f"{model}: no identity() or close()")
            )
        self.instruments[name] = inst
        if isinstance(inst, PressureGauge) and kind == "gauge":
            self._gauges[name] = inst
        elif isinstance(inst, Daq) and kind == "daq":
            self._daqs[name] = inst
        elif isinstance(inst, FlowMeter) and kind in ("flow_meter", "flow_controller"):
            self._flows[name] = inst
            if isinstance(inst, FlowController) and kind == "flow_controller":
                self._controllers[name] = inst

    def identities(self) -> dict[str, str]:
        """Each instrument's own identification."""
        out: dict[str, str] = {}
        for name, inst in self.instruments.items():
            try:
                out[name] = inst.identity()
            except DriverError as exc:
                raise InstrumentUnavailableError(name, exc) from exc
        return out

    def settings(self) -> dict[str, dict[str, Any]]:
        """What each gauge controller is set to that bears on its readings (for the run record).

        The unit a controller reports in, and the gauge heads it sees; a DAQ's relay and
        input channels are in the bench file already.
        """
        out: dict[str, dict[str, Any]] = {}
        for name, inst in self._gauges.items():
            try:
                unit = inst.unit()
                entry: dict[str, Any] = {"unit": getattr(unit, "name", str(unit))}
                gauge_ids = getattr(inst, "gauge_ids", None)  # not part of the role: some controllers say
                if callable(gauge_ids):
                    entry["gauges"] = gauge_ids()
            except DriverError as exc:
                raise InstrumentUnavailableError(name, exc) from exc
            out[name] = entry
        return out

    def read(self, channel: str) -> float | None:
        """One channel in SI (Pa, K, V); None when the gauge reports no pressure (a dropout)."""
        spec = self.bench.channels[channel]
        if spec.instrument in self._gauges:
            return self._pressure(channel, self._gauges[spec.instrument].read(spec.channel))
        if spec.instrument in self._flows:
            return self._flow(channel, self._flows[spec.instrument].read_flow(spec.channel))
        daq = self._daqs[spec.instrument]
        if spec.measures == "temperature":
            return float(daq.temperature_k(spec.channel))
        return self._volts(channel, float(daq.volts(spec.channel)))

    def read_all(self) -> dict[str, float | None]:
        """Every channel once, one transaction per instrument where the instrument allows it.

        A channel whose instrument fails reads None (recorded as a dropout) and its reason
        goes to :attr:`read_errors`. When a batch fails for a reason of the instrument's own
        (an open thermocouple), its channels are read one by one so that one bad channel
        does not blank the others; a timeout or a lost connection is not retried per channel,
        which would multiply the wait.
        """
        values: dict[str, float | None] = {}
        errors: dict[str, str] = {}
        self._sensor_faults = {}
        self._out_of_range = {}
        for instrument, names in self._groups.items():
            try:
                values.update(self._read_group(instrument, names))
            except InstrumentError:
                for name in names:
                    try:
                        values[name] = self.read(name)
                    except DriverError as exc:
                        values[name], errors[name] = None, f"{type(exc).__name__}: {exc}"
            except DriverError as exc:
                for name in names:
                    values[name], errors[name] = None, f"{type(exc).__name__}: {exc}"
        self.read_errors = {**self._sensor_faults, **errors}
        self.out_of_range = {c: s for c, s in self._out_of_range.items() if c not in self.read_errors}
        return {name: values[name] for name in self.bench.channels}

    def _read_group(self, instrument: str, names: list[str]) -> dict[str, float | None]:
        channels = self.bench.channels
        if instrument in self._flows:
            return {n: self.read(n) for n in names}  # one channel: one data frame
        if instrument in self._gauges:
            if len(names) == 1:
                return {names[0]: self.read(names[0])}
            readings = {r.channel: r for r in self._gauges[instrument].read_all()}
            return {n: self._pressure(n, readings[channels[n].channel]) for n in names}
        inst = self._daqs[instrument]
        out: dict[str, float | None] = {}
        temperatures = [n for n in names if channels[n].measures == "temperature"]
        if temperatures:
            kelvin = inst.temperatures_k([channels[n].channel for n in temperatures])
            out.update({n: float(kelvin[channels[n].channel]) for n in temperatures})
        for n in names:
            if n not in out:
                out[n] = self._volts(n, float(inst.volts(channels[n].channel)))
        return out

    def _volts(self, channel: str, volts: float) -> float | None:
        """A DC input as its channel measures it: volts, or a differential head's Pa."""
        spec = self.bench.channels[channel]
        if spec.measures != DIFFERENTIAL:
            return volts
        # A saturated head reads as out of range, like a gauge: a dropout, not a fault.
        return self._pressure(channel, differential_reading(spec, volts))

    def _pressure(self, channel: str, reading: PressureReading) -> float | None:
        if reading.state in SENSOR_FAULTS:
            self._sensor_faults[channel] = f"gauge reports {reading.state.value}"
        elif reading.state in (GaugeState.OVERRANGE, GaugeState.UNDERRANGE):
            self._out_of_range[channel] = reading.state
        return reading.pressure_pa if reading.ok else None

    def _flow(self, channel: str, reading: FlowReading) -> float | None:
        # Over range, a flow reads as "at least this": not a value to average. It is the flow
        # meter's own finding, so it reads as its fault, counted like a gauge's sensor error.
        if reading.state is not FlowState.OK:
            self._sensor_faults[channel] = f"flow meter reports {reading.state.value}"
            return None
        return reading.mass_flow_mol_s

    def flow_controllers(self) -> list[str]:
        """The bench's flow controllers, by instrument name."""
        return list(self._controllers)

    def _controller(self, instrument: str) -> FlowController:
        if instrument not in self._controllers:
            raise ValueError(f"{instrument!r} is not a flow controller of bench {self.bench.name!r}")
        return self._controllers[instrument]

    def hold_pressure(self, instrument: str, pressure_pa: float) -> None:
        """Have the flow controller ``instrument`` hold ``pressure_pa`` (absolute), confirmed by readback."""
        self._controller(instrument).hold_pressure(FLOW_CHANNEL, pressure_pa)

    def stop_flow(self, instrument: str) -> None:
        """Stop the flow controller ``instrument``'s flow (zero flow setpoint), confirmed by readback."""
        self._controller(instrument).stop_flow(FLOW_CHANNEL)

    def stop_flows(self) -> dict[str, str]:
        """Stop every flow controller, each tried whatever the others did: controller → why it failed."""
        failed: dict[str, str] = {}
        for name in self.flow_controllers():
            try:
                self.stop_flow(name)
            except DriverError as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"
        return failed

    def transfer_stats(self) -> dict[str, dict[str, int]]:
        """What each driver's retries and reconnects hid so far (instrument → counts).

        A plugin's driver that keeps no such counts (it does not derive from
        :class:`drivers.base.Instrument`) is left out.
        """
        out: dict[str, dict[str, int]] = {}
        for name, inst in self.instruments.items():
            stats = getattr(inst, "stats", None)
            if stats is not None:
                out[name] = {"retries": int(stats.retries), "reconnects": int(stats.reconnects)}
        return out

    def set_valves(self, states: dict[str, bool]) -> None:
        """Move valves (name → open), one confirmed relay command per instrument and direction."""
        groups: dict[tuple[str, bool], list[int]] = defaultdict(list)
        for name, open_ in states.items():
            valve = self.bench.valves[name]
            groups[(valve.instrument, open_ != valve.normally_open)].append(valve.channel)
        for (instrument, energise), channels in groups.items():
            daq = self._daqs[instrument]
            if energise:
                daq.close_relays(channels)
            else:
                daq.open_relays(channels)

    def valve_states(self) -> dict[str, bool]:
        """Every valve's state (name → open) as its relay reads back."""
        out: dict[str, bool] = {}
        by_instrument: dict[str, list[str]] = defaultdict(list)
        for name, valve in self.bench.valves.items():
            by_instrument[valve.instrument].append(name)
        for instrument, names in by_instrument.items():
            closed = self._daqs[instrument].relays_closed([self.bench.valves[n].channel for n in names])
            for n in names:
                valve = self.bench.valves[n]
                out[n] = closed[valve.channel] != valve.normally_open
        return out

    def valve_positions(self, names: list[str]) -> dict[str, Position]:
        """Where the limit switches of the valves ``names`` (those that have switches) say they are.

        One voltage scan per DAQ the switches are wired to.
        """
        wired = {n: self.bench.valves[n].position for n in names}
        by_instrument: dict[str, list[int]] = defaultdict(list)
        for feedback in wired.values():
            if feedback is not None:
                by_instrument[feedback.instrument].extend(feedback.channels())
        volts: dict[str, dict[int, float]] = {
            instrument: self._daqs[instrument].volts_many(channels)
            for instrument, channels in by_instrument.items()
        }
        return {
            n: feedback.position(volts[feedback.instrument])
            for n, feedback in wired.items()
            if feedback is not None
        }

    def close(self) -> None:
        """Close every driver."""
        self._stack.close()

    def __enter__(self) -> RigSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@dataclass(frozen=True)
class SafeStateAttempt:
    """The bench's safe state commanded without a run, and what was done.

    ``commanded`` when every valve instrument answered and every relay read back what it was
    told. That is never a confirmed safe state: a relay reads back what it was told even when
    its valve has seized, and without a run neither the limit switches nor the gas are
    watched (:mod:`rig.engine.safe_state` is where a claim is made). ``reason`` says in one
    line what was done where, or what could not be.
    """

    commanded: bool
    reason: str


def command_safe_state(
    bench: BenchSpec,
    resources: dict[str, str],
    timeout_s: float = 2.0,
    options: dict[str, dict[str, Any]] | None = None,
) -> SafeStateAttempt:
    """Stop every flow controller's flow, then drive the safe state on each instrument that
    carries its valves, one instrument at a time.

    For a run that could not start (an instrument did not answer): the ones that do answer
    are still made safe, and one that does not cannot keep the others from it.
    """
    by_instrument: dict[str, dict[str, bool]] = defaultdict(dict)
    for valve, open_ in bench.safe_state.items():
        by_instrument[bench.valves[valve].instrument][valve] = open_
    controllers = [n for n, s in bench.instruments.items() if MODELS[s.model].kind == "flow_controller"]
    if not by_instrument and not controllers:
        return SafeStateAttempt(True, "the bench declares no safe state")
    safe: list[str] = []
    problems: list[str] = []
    for instrument in controllers:
        # A controller's flow is stopped first: it must not feed a volume the valves then shut in.
        part = replace(bench, instruments={instrument: bench.instruments[instrument]}, channels={}, valves={})
        try:
            with RigSession(part, resources, timeout_s=timeout_s, options=options) as session:
                session.stop_flow(instrument)
        except DriverError as exc:
            problems.append(
                str(exc)
                if isinstance(exc, InstrumentUnavailableError)
                else f"{instrument}: flow not stopped: {exc}"
            )
            continue
        safe.append(instrument)
    for instrument, states in by_instrument.items():
        part = replace(
            bench,
            instruments={instrument: bench.instruments[instrument]},
            channels={},
            valves={name: bench.valves[name] for name in states},
            safe_state=states,
        )
        try:
            with RigSession(part, resources, timeout_s=timeout_s, options=options) as session:
                session.set_valves(states)
                back = session.valve_states()
        except DriverError as exc:
            problems.append(
                str(exc) if isinstance(exc, InstrumentUnavailableError) else f"{instrument}: {exc}"
            )
            continue
        wrong = [name for name, open_ in states.items() if back[name] != open_]
        if wrong:
            problems.append(f"{instrument}: {', '.join(wrong)} read back wrong")
        else:
            safe.append(instrument)
    if problems:
        done = f" (set on {', '.join(safe)})" if safe else ""
        return SafeStateAttempt(False, f"safe state NOT commanded everywhere{done}: {'; '.join(problems)}")
    return SafeStateAttempt(
        True,
        f"safe state commanded on {', '.join(safe)} (relays read back as told; not confirmed: "
        "the run never started, so neither limit switches nor gas were watched)",
    )
