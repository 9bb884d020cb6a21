"""Build a :class:`SimulatedBench` from a bench file's ``physics:`` and ``faults:`` parts.

physics:
  seed: 1
  outside:                    # reservoirs: names usable in valves and leaks
    atmosphere: {pressure: 101325 Pa, temperature: 20 degC, drift_pressure: 150 Pa, drift_period: 1 d}
    supply: {pressure: 3 bar}
    exhaust: {pressure: 0 Pa}
  volumes:                    # thermal state of bench volumes; extra ones need a size
    chamber: {wall_temperature: 20 degC, thermal_tau: 60 s, initial_pressure: 1 atm}
    pumpline: {size: 0.5 L, initial_pressure: 10 Pa}
  valves: {supply: {area: 1 mm**2, discharge_coefficient: 0.8, opening_delay: 30 ms}}
  pumps: [{volume: pumpline, exhaust: exhaust, speed: 10 L/s, ultimate: 0.1 Pa}]
  leaks:
    - {between: [article, chamber], kind: orifice, diameter: 20 um, discharge_coefficient: 0.7}
    - {between: [chamber, atmosphere], kind: capillary, diameter: 5 um, length: 5 mm}
    - {between: [chamber, atmosphere], kind: molecular, conductance: 1e-9 m**3/s}
    - {between: [chamber, atmosphere], kind: permeation, conductance: 1e-12 m**3/s, starts_at: 10 min}
    - {name: seal, between: [article, chamber], kind: orifice, diameter: 5 um}
  actions:                    # what an operator's confirmed prompt `action:` does in simulation
    repair_seal: [{leak: seal, diameter: 1 um}]       # or {leak: seal, sealed: true}
  outgassing: [{volume: chamber, rate: 1e-7 Pa*m**3/s, reference_time: 1 h, exponent: 1}]
  sensors:
    p_chamber: {type: CMR, min: 0.01 Pa, max: 110 kPa, accuracy: 0.0025, noise: 0.3 Pa, resolution: 0.01 Pa}
    t_chamber: {accuracy: 0.5 K, noise: 0.01 K, resolution: 0.001 K, measures: gas}
faults:
  - {instrument: gauges, kind: timeout, at: 10 min, duration: 30 s}
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rig.bench import MODELS, PHYSICS_KEYS, BenchSpec
from rig.clock import Clock
from rig.located_yaml import Doc
from rig.sim.faults import KINDS, Fault, FaultSchedule
from rig.sim.flows import Capillary, Conductance, FlowElement, Orifice, Outgassing, Pump, Valve
from rig.sim.gauges import DEFAULT_ACCURACY_REL, GaugeModel, ThermocoupleModel
from rig.sim.network import GasNetwork
from rig.sim.nodes import GasVolume, Reservoir
from rig.sim.simulated_bench import GaugeChannel, RelayValve, SimulatedBench, ThermocoupleChannel

CHANNEL_COUNTS = {"TPG361": 1, "TPG362": 2, "TPG366": 6, "MKS937B": 6}
LEAK_KINDS = {"orifice", "capillary", "molecular", "permeation"}
P = tuple[Any, ...]


@dataclass(frozen=True)
class SimulatedInstrument:
    """What a protocol server needs to know about one instrument of the bench."""

    name: str
    model: str
    channel_count: int
    address: int | None


def build_simulation(bench: BenchSpec, clock: Clock, seed: int | None = None) -> SimulatedBench:
    """The physics of ``bench`` on ``clock``; ``seed`` overrides the file's ``physics.seed``."""
    if bench.doc is None or not bench.simulated:
        raise ValueError(f"{bench.source}: bench {bench.name!r} has no physics part; it cannot be simulated")
    doc = bench.doc
    root: P = ("physics",)
    doc.mapping(root, allowed=PHYSICS_KEYS)
    base_seed = seed if seed is not None else doc.integer((*root, "seed"), 0)
    outside = [_reservoir(doc, name, p) for name, p in doc.items((*root, "outside"))]
    room_k = next((r.temperature_k for r in outside if r.name == "atmosphere"), 293.15)
    volumes = _volumes(doc, bench, room_k)
    places = {v.name for v in volumes} | {r.name for r in outside}
    elements: list[FlowElement] = []
    relays: list[RelayValve] = []
    for name, spec in bench.valves.items():
        path = ("valves", name, "between")
        for end in spec.between:
            if end not in places:
                raise doc.error(
                    path, f"valve {name!r} connects {end!r}, which is neither a volume nor an outside"
                )
        valve = _valve(doc, name, spec.between)
        valve.open_initially = spec.normally_open
        elements.append(valve)
        relays.append(
            RelayValve(name, spec.instrument, spec.channel, valve, spec.normally_open, spec.position)
        )
    for i, _ in enumerate(doc.sequence((*root, "pumps"))):
        elements.append(_pump(doc, (*root, "pumps", i), places))
    named: dict[str, tuple[FlowElement, P]] = {}
    for i, _ in enumerate(doc.sequence((*root, "leaks"))):
        leak = _leak(doc, (*root, "leaks", i), places)
        elements.append(leak)
        if doc.get((*root, "leaks", i, "name")) is not None:
            name = doc.text((*root, "leaks", i, "name"))
            if name in named:
                raise doc.error(
                    (*root, "leaks", i, "name"), f"a second leak named {name!r}: names must be unique"
                )
            named[name] = (leak, (*root, "leaks", i))
    for i, _ in enumerate(doc.sequence((*root, "outgassing"))):
        walls = Reservoir(f"walls:{i}", 0.0)
        outside.append(walls)
        elements.append(_outgassing(doc, (*root, "outgassing", i), walls.name, volumes))
    network = GasNetwork(volumes, outside, elements, start_s=clock.now())
    gauges, thermocouples = _sensors(doc, bench, base_seed)
    faults = FaultSchedule(_faults(doc, bench), clock.now)
    actions = {name: _action(doc, p, named) for name, p in doc.items((*root, "actions"))}
    return SimulatedBench(network, clock, gauges, thermocouples, relays, faults=faults, actions=actions)


def simulated_instruments(bench: BenchSpec) -> list[SimulatedInstrument]:
    """The instruments of ``bench`` as servers will present them."""
    return [
        SimulatedInstrument(i.name, i.model, CHANNEL_COUNTS.get(i.model, 0), i.address)
        for i in bench.instruments.values()
    ]


def _reservoir(doc: Doc, name: str, p: P) -> Reservoir:
    allowed = {"pressure", "temperature", "drift_pressure", "drift_temperature", "drift_period"}
    doc.mapping(p, allowed=allowed, required=frozenset({"pressure"}))
    return Reservoir(
        name,
        doc.quantity((*p, "pressure"), "pressure"),
        doc.quantity((*p, "temperature"), "temperature", "20 degC", positive=True),
        drift_pa=doc.quantity((*p, "drift_pressure"), "pressure", "0 Pa"),
        drift_k=doc.quantity((*p, "drift_temperature"), "temperature", "0 K"),
        drift_period_s=doc.quantity((*p, "drift_period"), "time", "1 day", positive=True),
    )


def _volumes(doc: Doc, bench: BenchSpec, room_k: float) -> list[GasVolume]:
    root: P = ("physics", "volumes")
    allowed = {"size", "wall_temperature", "thermal_tau", "initial_pressure", "initial_temperature"}
    names = list(bench.volumes) + [n for n in doc.mapping(root) if n not in bench.volumes]
    out = []
    for name in names:
        p = (*root, name)
        doc.mapping(p, allowed=allowed)
        if name in bench.volumes:
            size = bench.volumes[name].size_m3
        else:
            size = doc.quantity((*p, "size"), "volume", positive=True)
        wall = doc.quantity((*p, "wall_temperature"), "temperature", f"{room_k} K", positive=True)
        start_t = doc.get((*p, "initial_temperature"))
        out.append(
            GasVolume(
                name,
                size,
                wall_temperature_k=wall,
                thermal_tau_s=doc.quantity((*p, "thermal_tau"), "time", "60 s", positive=True),
                initial_pressure_pa=doc.quantity((*p, "initial_pressure"), "pressure", "101325 Pa"),
                initial_temperature_k=None
                if start_t is None
                else doc.quantity((*p, "initial_temperature"), "temperature"),
            )
        )
    return out


def _valve(doc: Doc, name: str, between: tuple[str, str]) -> Valve:
    p: P = ("physics", "valves", name)
    doc.mapping(p, allowed={"area", "discharge_coefficient", "opening_delay"})
    area = doc.quantity((*p, "area"), "area", "1 mm**2", positive=True)
    cd = doc.number((*p, "discharge_coefficient"), 0.8)
    delay = doc.quantity((*p, "opening_delay"), "time", "30 ms")
    return Valve(between[0], between[1], cd * area, opening_delay_s=delay)


def _place(doc: Doc, path: P, places: set[str]) -> str:
    name = doc.text(path)
    if name not in places:
        raise doc.error(path, f"{name!r} is neither a volume nor an outside of this bench")
    return name


def _pump(doc: Doc, p: P, places: set[str]) -> Pump:
    allowed = {"volume", "exhaust", "speed", "ultimate", "speed_curve"}
    doc.mapping(p, allowed=allowed, required=frozenset({"volume", "speed"}))
    curve = []
    for i, point in enumerate(doc.sequence((*p, "speed_curve"))):
        if not isinstance(point, list) or len(point) != 2:
            raise doc.error((*p, "speed_curve", i), "a speed-curve point is [pressure, speed]")
        pressure = doc.quantity((*p, "speed_curve", i, 0), "pressure", positive=True)
        curve.append((pressure, doc.quantity((*p, "speed_curve", i, 1), "conductance")))
    return Pump(
        _place(doc, (*p, "volume"), places),
        _place(doc, (*p, "exhaust"), places) if doc.get((*p, "exhaust")) else "exhaust",
        doc.quantity((*p, "speed"), "conductance", positive=True),
        doc.quantity((*p, "ultimate"), "pressure", "0.1 Pa"),
        tuple(curve),
    )


def _leak(doc: Doc, p: P, places: set[str]) -> FlowElement:
    allowed = {
        "name",
        "between",
        "kind",
        "diameter",
        "length",
        "discharge_coefficient",
        "conductance",
        "starts_at",
    }
    doc.mapping(p, allowed=allowed, required=frozenset({"between", "kind"}))
    ends = doc.sequence((*p, "between"))
    if len(ends) != 2:
        raise doc.error((*p, "between"), "a leak runs between exactly two places")
    a, b = _place(doc, (*p, "between", 0), places), _place(doc, (*p, "between", 1), places)
    kind = doc.choice((*p, "kind"), LEAK_KINDS)
    if kind == "orifice":
        d = doc.quantity((*p, "diameter"), "length", positive=True)
        return Orifice(a, b, doc.number((*p, "discharge_coefficient"), 0.72) * math.pi * d * d / 4.0)
    if kind == "capillary":
        return Capillary(
            a,
            b,
            doc.quantity((*p, "diameter"), "length", positive=True),
            doc.quantity((*p, "length"), "length", positive=True),
        )
    starts = doc.quantity((*p, "starts_at"), "time", "0 s") if kind == "permeation" else 0.0
    return Conductance(
        a, b, doc.quantity((*p, "conductance"), "conductance", positive=True), starts_at_s=starts
    )


def _action(doc: Doc, p: P, leaks: dict[str, tuple[FlowElement, P]]) -> list[Callable[[], None]]:
    """An operator action: changes to named leaks, applied when a confirmed prompt names it."""
    changes: list[Callable[[], None]] = []
    for i, _ in enumerate(doc.sequence(p)):
        q = (*p, i)
        doc.mapping(q, allowed={"leak", "diameter", "conductance", "sealed"}, required=frozenset({"leak"}))
        name = doc.text((*q, "leak"))
        if name not in leaks:
            raise doc.error(
                (*q, "leak"), f"no leak named {name!r} (named leaks: {', '.join(leaks) or 'none'})"
            )
        changes.append(_change(doc, q, *leaks[name]))
    return changes


def _change(doc: Doc, q: P, leak: FlowElement, leak_path: P) -> Callable[[], None]:
    """Set one leak's size as the action says (the same result however often it is done)."""
    sealed = doc.get((*q, "sealed"))
    if sealed is not None and sealed is not True:
        raise doc.error((*q, "sealed"), "write `sealed: true` (or leave it out)")
    size = "conductance" if isinstance(leak, Conductance) else "diameter"
    given = doc.get((*q, size)) is not None
    if sealed and given:
        raise doc.error((*q, size), f"a sealed leak has no {size}: give one or the other")
    if not sealed and not given:
        kind = type(leak).__name__.lower()
        raise doc.error(q, f"this {kind} leak's action needs its new `{size}:` (or `sealed: true`)")
    if isinstance(leak, Orifice | Capillary):
        attribute = "cd_area_m2" if isinstance(leak, Orifice) else "diameter_m"
        value = 0.0
        if not sealed:
            new = doc.quantity((*q, "diameter"), "length", positive=True)
            old = doc.quantity((*leak_path, "diameter"), "length", positive=True)
            value = leak.cd_area_m2 * (new / old) ** 2 if isinstance(leak, Orifice) else new
    elif isinstance(leak, Conductance):
        attribute = "conductance_m3_s"
        value = 0.0 if sealed else doc.quantity((*q, "conductance"), "conductance", positive=True)
    else:  # pragma: no cover - leaks are built only as the kinds above
        raise doc.error(q, "this leak cannot be changed")
    return lambda: setattr(leak, attribute, value)


def _outgassing(doc: Doc, p: P, walls: str, volumes: list[GasVolume]) -> Outgassing:
    doc.mapping(
        p, allowed={"volume", "rate", "reference_time", "exponent"}, required=frozenset({"volume", "rate"})
    )
    name = _place(doc, (*p, "volume"), {v.name for v in volumes})
    wall_k = next(v.wall_temperature_k for v in volumes if v.name == name)
    return Outgassing(
        walls,
        name,
        doc.quantity((*p, "rate"), "leak rate", positive=True),
        t0_s=doc.quantity((*p, "reference_time"), "time", "1 h", positive=True),
        alpha=doc.number((*p, "exponent"), 1.0),
        wall_temperature_k=wall_k,
        min_age_s=60.0,
    )


def _sensors(doc: Doc, bench: BenchSpec, seed: int) -> tuple[list[GaugeChannel], list[ThermocoupleChannel]]:
    root: P = ("physics", "sensors")
    for name, p in doc.items(root):
        if name not in bench.channels:
            raise doc.key_error(p, f"sensor {name!r} is not a channel of this bench")
    gauges, thermocouples = [], []
    for k, (name, channel) in enumerate(sorted(bench.channels.items())):
        p = (*root, name)
        if channel.volume is None:
            continue
        if channel.measures == "pressure":
            doc.mapping(
                p,
                allowed={"type", "min", "max", "accuracy", "noise", "noise_relative", "resolution", "drift"},
            )
            model = GaugeModel(
                sensor_id=doc.text((*p, "type"), "CMR"),
                min_pa=doc.quantity((*p, "min"), "pressure", "0.01 Pa"),
                max_pa=doc.quantity((*p, "max"), "pressure", "110 kPa", positive=True),
                accuracy_rel=doc.number((*p, "accuracy"), DEFAULT_ACCURACY_REL),
                noise_pa=doc.quantity((*p, "noise"), "pressure", "0.2 Pa"),
                noise_rel=doc.number((*p, "noise_relative"), 0.0),
                drift_pa_per_sqrt_s=doc.quantity((*p, "drift"), "pressure", "0 Pa"),
                resolution_pa=doc.quantity((*p, "resolution"), "pressure", "0 Pa"),
                seed=seed * 1000 + k,
            )
            gauges.append(GaugeChannel(channel.instrument, channel.channel, channel.volume, model))
        elif channel.measures == "temperature":
            doc.mapping(p, allowed={"accuracy", "noise", "resolution", "measures"})
            model_t = ThermocoupleModel(
                accuracy_k=doc.quantity((*p, "accuracy"), "temperature", "0.5 K"),
                noise_k=doc.quantity((*p, "noise"), "temperature", "0.01 K"),
                resolution_k=doc.quantity((*p, "resolution"), "temperature", "0.001 K"),
                seed=seed * 1000 + k,
            )
            gas = doc.choice((*p, "measures"), {"gas", "wall"}, "gas") == "gas"
            thermocouples.append(
                ThermocoupleChannel(channel.instrument, channel.channel, channel.volume, model_t, gas)
            )
    return gauges, thermocouples


def _faults(doc: Doc, bench: BenchSpec) -> list[Fault]:
    out = []
    for i, _ in enumerate(doc.sequence(("faults",))):
        p: P = ("faults", i)
        allowed = {"instrument", "kind", "at", "duration", "channel", "delay", "shift", "every"}
        doc.mapping(p, allowed=allowed, required=frozenset({"instrument", "kind", "at"}))
        instrument = doc.text((*p, "instrument"))
        if instrument not in bench.instruments:
            raise doc.error((*p, "instrument"), f"unknown instrument {instrument!r}")
        kind = doc.choice((*p, "kind"), set(KINDS))
        magnitude = 0.0
        if kind == "latency":
            magnitude = doc.quantity((*p, "delay"), "time", "0.5 s", positive=True)
        elif kind == "zero_shift":
            magnitude = doc.quantity((*p, "shift"), "pressure", "10 Pa")
        elif kind == "drop":
            magnitude = float(doc.integer((*p, "every"), 50))
            if magnitude < 2:
                raise doc.error((*p, "every"), "a drop loses every N-th reply: N must be at least 2")
        duration = (
            doc.quantity((*p, "duration"), "time", positive=True) if doc.get((*p, "duration")) else math.inf
        )
        channel = doc.integer((*p, "channel")) if doc.get((*p, "channel")) is not None else None
        if MODELS[bench.instruments[instrument].model] == "daq" and kind == "stuck_valve" and channel is None:
            raise doc.error(p, "a stuck_valve fault names the relay channel of its valve")
        out.append(Fault(instrument, kind, doc.quantity((*p, "at"), "time"), duration, channel, magnitude))
    return out
