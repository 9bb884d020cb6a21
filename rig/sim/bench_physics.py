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
  flow_controllers:           # each flow controller of the bench: its supply, its pressure loop's τ
    mfc: {supply: supply, time_constant: 3 s}
  sensors:
    p_chamber: {type: CMR, min: 0.01 Pa, max: 110 kPa, accuracy: 0.0025, noise: 0.3 Pa, resolution: 0.01 Pa,
                zero_drift: {rate: 2 Pa/h, random_walk: 1 Pa/h**0.5, temperature_coefficient: 5 Pa/K}}
    t_chamber: {accuracy: 0.5 K, noise: 0.01 K, resolution: 0.001 K, measures: gas}
faults:
  - {instrument: gauges, kind: timeout, at: 10 min, duration: 30 s}

Every parameter is held to the models' validity, each problem located: sizes, areas,
diameters, lengths, conductances, pump speeds, time constants and temperatures (K) are
positive; absolute pressures, drift amplitudes, noises, resolutions, delays and start times
are not negative (a drift never swings below vacuum or absolute zero); discharge
coefficients lie in (0, 1]; a gauge's accuracy in (0, 1) and its min below its max; the seed
in 0 to 2**32 - 1; every flow controller names its supply (a place) and feeds the volume of its
``measures: flow`` channel. :func:`physics_problems` lists them for ``rig validate`` without starting
anything. The sensors and faults are read by :mod:`rig.sim.bench_sensors`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import numpy as np

from drivers.models import MODELS
from rig.bench import PHYSICS_KEYS, BenchSpec
from rig.clock import Clock, VirtualClock
from rig.errors import InputError
from rig.located_yaml import Doc, LocatedError, LocatedProblems, attempt, raise_all
from rig.sim import bench_sensors
from rig.sim.faults import FaultSchedule
from rig.sim.flow_controller import flow_channels
from rig.sim.flows import (
    Capillary,
    Conductance,
    FlowElement,
    Orifice,
    Outgassing,
    Pump,
    Valve,
)
from rig.sim.gauges import FloatArray
from rig.sim.network import GasNetwork
from rig.sim.nodes import GasVolume, Reservoir
from rig.sim.simulated_bench import RelayValve, SimulatedBench

LEAK_KINDS = {"orifice", "capillary", "molecular", "permeation"}
# numpy's generators take seeds from 0; 32 bits is what every other tool (and a person) can repeat.
SEEDS = range(2**32)
# An outgassing rate falls as t^-exponent: about 1 from metal walls, 0.5 from elastomers, where
# diffusion limits it. Zero or less would be a rate that never falls, or grows without end.
OUTGASSING_EXPONENTS = (0.0, 2.0)
P = tuple[Any, ...]
T = TypeVar("T")


@dataclass(frozen=True)
class SimulatedInstrument:
    """What a protocol server needs to know about one instrument of the bench."""

    name: str
    model: str
    channel_count: int
    address: int | None


def physics_problems(bench: BenchSpec) -> list[LocatedError]:
    """Every located problem of ``bench``'s ``physics:`` and ``faults:`` parts (none: it simulates).

    The simulation is built on a virtual clock and thrown away: no server starts.
    """
    try:
        build_simulation(bench, VirtualClock())
    except LocatedProblems as exc:
        return exc.problems
    except LocatedError as exc:
        return [exc]
    return []


def build_simulation(bench: BenchSpec, clock: Clock, seed: int | None = None) -> SimulatedBench:
    """The physics of ``bench`` on ``clock``; ``seed`` overrides the file's ``physics.seed``.

    Every problem of the ``physics:`` and ``faults:`` parts is found before anything is built
    and raised at once, located (:class:`LocatedProblems` when there are several).
    """
    if bench.doc is None or not bench.simulated:
        raise ValueError(f"{bench.source}: bench {bench.name!r} has no physics part; it cannot be simulated")
    if seed is not None and seed not in SEEDS:
        raise InputError(f"seed {seed} is not a whole number from 0 to 2**32 - 1")
    doc = bench.doc
    root: P = ("physics",)
    problems: list[LocatedError] = []

    def check(build: Callable[..., T], *args: Any) -> T | None:
        return attempt(problems, partial(build, *args))

    check(doc.mapping, root, PHYSICS_KEYS)
    file_seed = check(_seed, doc)
    # Places as written, whether or not their own checks pass: referring to one is not wrong.
    outside_names = list(check(doc.mapping, (*root, "outside")) or {})
    volume_names = set(bench.volumes) | set(check(doc.mapping, (*root, "volumes")) or {})
    for name in outside_names:
        if name in volume_names:
            why = f"{name!r} is a volume of this bench: an outside needs a name of its own"
            problems.append(doc.key_error((*root, "outside", name), why))
    places = set(outside_names) | volume_names
    outside = []
    for name in outside_names:
        if (reservoir := check(_reservoir, doc, name, (*root, "outside", name))) is not None:
            outside.append(reservoir)
    room_k = next((r.temperature_k for r in outside if r.name == "atmosphere"), 293.15)
    volumes = check(_volumes, doc, bench, room_k) or []
    elements: list[FlowElement] = []
    relays: list[RelayValve] = []
    for name, spec in bench.valves.items():
        valve = check(_valve, doc, name, spec.between, places)
        if valve is not None:
            valve.open_initially = spec.normally_open
            elements.append(valve)
            relays.append(
                RelayValve(name, spec.instrument, spec.channel, valve, spec.normally_open, spec.position)
            )
    for i, _ in enumerate(check(doc.sequence, (*root, "pumps")) or []):
        if (pump := check(_pump, doc, (*root, "pumps", i), places)) is not None:
            elements.append(pump)
    named: dict[str, tuple[FlowElement, P]] = {}
    before_leaks = len(problems)
    for i, _ in enumerate(check(doc.sequence, (*root, "leaks")) or []):
        p = (*root, "leaks", i)
        if (leak := check(_leak, doc, p, places)) is None:
            continue
        elements.append(leak)
        if doc.get((*p, "name")) is not None:
            name = doc.text((*p, "name"))
            if name in named:
                problems.append(
                    doc.error((*p, "name"), f"a second leak named {name!r}: names must be unique")
                )
            named[name] = (leak, p)
    wall_k = {v.name: v.wall_temperature_k for v in volumes}
    for i, _ in enumerate(check(doc.sequence, (*root, "outgassing")) or []):
        gas = check(_outgassing, doc, (*root, "outgassing", i), f"walls:{i}", wall_k, volume_names, room_k)
        if gas is not None:
            outside.append(Reservoir(gas.a, 0.0))
            elements.append(gas)
    sensor_seed = seed if seed is not None else file_seed or 0
    flows = check(flow_channels, doc, bench, places, volumes, sensor_seed) or []
    elements += [f.element for f in flows if f.element is not None]
    room = next((r for r in outside if r.name == "atmosphere"), None)
    ambient = None if room is None else partial(_ambient_departure_k, room)
    sensors = check(bench_sensors.sensors, doc, bench, sensor_seed, ambient)
    heads = check(bench_sensors.differential_sensors, doc, bench, sensor_seed, ambient)
    faults = check(bench_sensors.faults, doc, bench)
    actions = {}
    # An action names leaks: with a leak refused, "no leak named ..." would only echo that.
    if len(problems) == before_leaks:
        for name, p in check(lambda: list(doc.items((*root, "actions")))) or []:
            if (changes := check(_action, doc, p, named)) is not None:
                actions[name] = changes
    raise_all(problems)
    assert sensors is not None and faults is not None and heads is not None
    network = GasNetwork(volumes, outside, elements, start_s=clock.now())
    gauges, thermocouples = sensors
    schedule = FaultSchedule(faults, clock.now)
    return SimulatedBench(
        network,
        clock,
        gauges,
        thermocouples,
        relays,
        faults=schedule,
        actions=actions,
        differentials=heads,
        seed=sensor_seed,
        flows=flows,
    )


def simulated_instruments(bench: BenchSpec) -> list[SimulatedInstrument]:
    """The instruments of ``bench`` as servers will present them."""
    return [
        SimulatedInstrument(i.name, i.model, MODELS[i.model].gauge_channels, i.address)
        for i in bench.instruments.values()
    ]


def _ambient_departure_k(room: Reservoir, t_s: FloatArray) -> FloatArray:
    """How far the room (the ``atmosphere`` outside) is from its nominal temperature at ``t_s``, K.

    The same swing as :meth:`rig.sim.nodes.Reservoir.state`, over an array of times: the gauges'
    heads stand in the room.
    """
    return room.drift_k * np.sin(2.0 * np.pi * t_s / room.drift_period_s)


def _seed(doc: Doc) -> int:
    path: P = ("physics", "seed")
    seed = doc.integer(path, 0)
    if seed not in SEEDS:
        raise doc.error(path, f"a seed is a whole number from 0 to 2**32 - 1, got {seed}")
    return seed


def _discharge_coefficient(doc: Doc, path: P, default: float) -> float:
    # Cd = real flow / ideal flow of the same opening: a real orifice never passes more.
    cd = doc.number(path, default)
    if not 0.0 < cd <= 1.0:
        raise doc.error(path, f"a discharge coefficient (real/ideal flow) lies in (0, 1], got {cd:g}")
    return cd


def _reservoir(doc: Doc, name: str, p: P) -> Reservoir:
    allowed = {"pressure", "temperature", "drift_pressure", "drift_temperature", "drift_period"}
    doc.mapping(p, allowed=allowed, required=frozenset({"pressure"}))
    pressure = doc.quantity((*p, "pressure"), "pressure", nonnegative=True)
    temperature = doc.quantity((*p, "temperature"), "temperature", "20 degC", positive=True)
    # The drifts swing the reservoir by ± their amplitude: never below vacuum or absolute zero.
    drift_pa = doc.quantity((*p, "drift_pressure"), "pressure", "0 Pa", nonnegative=True)
    if drift_pa > pressure:
        raise doc.error(
            (*p, "drift_pressure"), "a pressure drift larger than the pressure would swing below vacuum"
        )
    drift_k = doc.quantity((*p, "drift_temperature"), "temperature", "0 K", nonnegative=True)
    if drift_k >= temperature:
        raise doc.error(
            (*p, "drift_temperature"), "a temperature drift this large would swing to absolute zero"
        )
    return Reservoir(
        name,
        pressure,
        temperature,
        drift_pa=drift_pa,
        drift_k=drift_k,
        drift_period_s=doc.quantity((*p, "drift_period"), "time", "1 day", positive=True),
    )


def _volumes(doc: Doc, bench: BenchSpec, room_k: float) -> list[GasVolume]:
    root: P = ("physics", "volumes")
    names = list(bench.volumes) + [n for n in doc.mapping(root) if n not in bench.volumes]
    problems: list[LocatedError] = []
    out = []
    for name in names:
        volume = attempt(problems, partial(_volume, doc, bench, name, (*root, name), room_k))
        if volume is not None:
            out.append(volume)
    raise_all(problems)
    return out


def _volume(doc: Doc, bench: BenchSpec, name: str, p: P, room_k: float) -> GasVolume:
    allowed = {"size", "wall_temperature", "thermal_tau", "initial_pressure", "initial_temperature"}
    doc.mapping(p, allowed=allowed)
    if name in bench.volumes:
        size = bench.volumes[name].size_m3
    else:
        size = doc.quantity((*p, "size"), "volume", positive=True)
    start_t = doc.get((*p, "initial_temperature"))
    return GasVolume(
        name,
        size,
        wall_temperature_k=doc.quantity(
            (*p, "wall_temperature"), "temperature", f"{room_k} K", positive=True
        ),
        thermal_tau_s=doc.quantity((*p, "thermal_tau"), "time", "60 s", positive=True),
        initial_pressure_pa=doc.quantity((*p, "initial_pressure"), "pressure", "101325 Pa", nonnegative=True),
        initial_temperature_k=None
        if start_t is None
        else doc.quantity((*p, "initial_temperature"), "temperature", positive=True),
    )


def _valve(doc: Doc, name: str, between: tuple[str, str], places: set[str]) -> Valve:
    for end in between:
        if end not in places:
            raise doc.error(
                ("valves", name, "between"),
                f"valve {name!r} connects {end!r}, which is neither a volume nor an outside",
            )
    p: P = ("physics", "valves", name)
    doc.mapping(p, allowed={"area", "discharge_coefficient", "opening_delay"})
    area = doc.quantity((*p, "area"), "area", "1 mm**2", positive=True)
    cd = _discharge_coefficient(doc, (*p, "discharge_coefficient"), 0.8)
    delay = doc.quantity((*p, "opening_delay"), "time", "30 ms", nonnegative=True)
    return Valve(between[0], between[1], cd * area, opening_delay_s=delay)


def _place(doc: Doc, path: P, places: set[str], default: str | None = None) -> str:
    name = doc.text(path, default)
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
        curve.append((pressure, doc.quantity((*p, "speed_curve", i, 1), "conductance", positive=True)))
    if doc.get((*p, "exhaust")) is None and "exhaust" not in places:
        raise doc.error(
            p, "this pump exhausts to 'exhaust', which is not an outside: name one (exhaust: ...)"
        )
    return Pump(
        _place(doc, (*p, "volume"), places),
        _place(doc, (*p, "exhaust"), places, "exhaust"),
        doc.quantity((*p, "speed"), "conductance", positive=True),
        doc.quantity((*p, "ultimate"), "pressure", "0.1 Pa", nonnegative=True),
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
        return Orifice(
            a, b, _discharge_coefficient(doc, (*p, "discharge_coefficient"), 0.72) * math.pi * d * d / 4.0
        )
    if kind == "capillary":
        return Capillary(
            a,
            b,
            doc.quantity((*p, "diameter"), "length", positive=True),
            doc.quantity((*p, "length"), "length", positive=True),
        )
    starts = doc.quantity((*p, "starts_at"), "time", "0 s", nonnegative=True) if kind == "permeation" else 0.0
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


def _outgassing(
    doc: Doc, p: P, walls: str, wall_k: dict[str, float], volumes: set[str], room_k: float
) -> Outgassing:
    doc.mapping(
        p, allowed={"volume", "rate", "reference_time", "exponent"}, required=frozenset({"volume", "rate"})
    )
    name = _place(doc, (*p, "volume"), volumes)
    exponent = doc.number((*p, "exponent"), 1.0)
    low, high = OUTGASSING_EXPONENTS
    if not low < exponent <= high:
        why = f"an outgassing rate falls as t^-exponent, with an exponent in ({low:g}, {high:g}]"
        raise doc.error(
            (*p, "exponent"), f"{why} (about 1 from metal, 0.5 from elastomers), got {exponent:g}"
        )
    return Outgassing(
        walls,
        name,
        doc.quantity((*p, "rate"), "leak rate", positive=True),
        t0_s=doc.quantity((*p, "reference_time"), "time", "1 h", positive=True),
        alpha=exponent,
        wall_temperature_k=wall_k.get(name, room_k),
        min_age_s=60.0,
    )
