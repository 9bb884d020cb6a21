"""A simulated bench's sensors and scheduled faults, from its ``physics.sensors`` and ``faults:``.

How the simulated instruments see the gas (accuracy, noise, drift, resolution, range) and
when they fail; :mod:`rig.sim.bench_physics` builds the rest of the simulation around them.
Each sensor and each fault is checked on its own, so every problem is reported at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from drivers.models import MODELS
from rig.bench import BenchSpec
from rig.bench_differential import default_resolution_pa, differential_channels, transducer
from rig.located_yaml import Doc, LocatedError, attempt, raise_all
from rig.sim.faults import KINDS, Fault
from rig.sim.gauges import FloatArray, GaugeModel, ThermocoupleModel, ZeroDrift
from rig.sim.simulated_bench import DifferentialChannel, GaugeChannel, ThermocoupleChannel
from rig.sim.thermal import DEFAULT_SENSOR_GAS_COUPLING, DEFAULT_SENSOR_TIME_CONSTANT_S, SensorThermalMass

P = tuple[Any, ...]


Ambient = Callable[[FloatArray], FloatArray]


def sensors(
    doc: Doc, bench: BenchSpec, seed: int, ambient: Ambient | None = None
) -> tuple[list[GaugeChannel], list[ThermocoupleChannel]]:
    """The simulated gauges and thermocouples of ``bench``'s channels on a volume (``seed`` seeds them).

    ``ambient`` gives the ambient temperature's departure from its nominal value (K) at given
    times: a gauge's zero temperature coefficient acts on it.
    """
    root: P = ("physics", "sensors")
    problems: list[LocatedError] = []
    for name, p in doc.items(root):
        if name not in bench.channels:
            problems.append(doc.key_error(p, f"sensor {name!r} is not a channel of this bench"))
    gauges, thermocouples = [], []
    # Differential heads are seeded apart (differential_sensors): adding one reseeds no gauge.
    heads = differential_channels(bench)
    for k, (name, channel) in enumerate(sorted(i for i in bench.channels.items() if i[0] not in heads)):
        if channel.volume is None:
            continue
        p = (*root, name)
        if channel.measures == "pressure":
            # The default accuracy is the model's: the validator assumes the same one.
            accuracy = MODELS[bench.instruments[channel.instrument].model].simulated_accuracy_rel
            gauge = attempt(problems, partial(_gauge, doc, p, seed * 1000 + k, accuracy, ambient))
            if gauge is not None:
                gauges.append(GaugeChannel(channel.instrument, channel.channel, channel.volume, gauge))
        elif channel.measures == "temperature":
            made = attempt(problems, partial(_thermocouple, doc, p, seed * 1000 + k))
            if made is not None:
                model, gas, thermal = made
                thermocouples.append(
                    ThermocoupleChannel(
                        channel.instrument, channel.channel, channel.volume, model, gas, thermal
                    )
                )
    raise_all(problems)
    return gauges, thermocouples


def differential_sensors(
    doc: Doc, bench: BenchSpec, seed: int, ambient: Ambient | None = None
) -> list[DifferentialChannel]:
    """The simulated differential heads of ``bench``'s ``differential_pressure`` channels.

    Each reads the true p(volumes[0]) − p(volumes[1]) through a :class:`GaugeModel` of its own
    (gain error within its accuracy, its own noise, zero drift and resolution), signed: its
    range is ± the head's saturation (1.1 × full scale) unless ``physics.sensors`` says.
    """
    problems: list[LocatedError] = []
    heads = []
    # Seeded after the gauges and thermocouples (offset 500): adding a head changes none of theirs.
    for k, (name, spec) in enumerate(sorted(differential_channels(bench).items())):
        head = transducer(spec)
        span_pa = head.transducer.saturation_v * head.pa_per_volt
        step = default_resolution_pa(spec)
        build = partial(
            _gauge, doc, ("physics", "sensors", name), seed * 1000 + 500 + k, head.transducer.accuracy_rel,
            ambient, span=(f"{-span_pa!r} Pa", f"{span_pa!r} Pa"), resolution=f"{step!r} Pa",
        )  # fmt: skip
        model = attempt(problems, build)
        if model is not None and spec.volumes is not None:
            heads.append(DifferentialChannel(spec.instrument, spec.channel, spec.volumes, model, head))
    raise_all(problems)
    return heads


def _gauge(
    doc: Doc,
    p: P,
    seed: int,
    accuracy_rel: float,
    ambient: Ambient | None,
    *,
    span: tuple[str, str] = ("0.01 Pa", "110 kPa"),
    resolution: str = "0 Pa",
) -> GaugeModel:
    """A gauge's model from its ``physics.sensors`` entry; a ``span`` reaching below zero is a
    differential head's, whose readings are signed."""
    doc.mapping(
        p,
        allowed={
            "type", "min", "max", "accuracy", "noise", "noise_relative", "resolution", "drift", "zero_drift",
        },
    )  # fmt: skip
    signed = span[0].startswith("-")
    low = doc.quantity((*p, "min"), "pressure", span[0], nonnegative=not signed)
    high = doc.quantity((*p, "max"), "pressure", span[1], positive=not signed)
    if low >= high:
        raise doc.error(
            (*p, "min") if doc.has((*p, "min")) else p, f"min {low:g} Pa is not below max {high:g} Pa"
        )
    return GaugeModel(
        sensor_id=doc.text((*p, "type"), "CMR"),
        min_pa=low,
        max_pa=high,
        accuracy_rel=_of_reading(doc, (*p, "accuracy"), accuracy_rel, zero=False),
        noise_pa=doc.quantity((*p, "noise"), "pressure", "0.2 Pa", nonnegative=True),
        noise_rel=_of_reading(doc, (*p, "noise_relative"), 0.0, zero=True),
        drift_pa_per_sqrt_s=doc.quantity((*p, "drift"), "pressure", "0 Pa", nonnegative=True),
        resolution_pa=doc.quantity((*p, "resolution"), "pressure", resolution, nonnegative=True),
        seed=seed,
        zero_drift=_zero_drift(doc, (*p, "zero_drift"), ambient),
    )


def _zero_drift(doc: Doc, p: P, ambient: Ambient | None) -> ZeroDrift:
    """``zero_drift: {rate: -2 Pa/h, random_walk: 1 Pa/h**0.5, temperature_coefficient: 5 Pa/K}``.

    The rate and the coefficient take either sign (a zero drifts up or down); the walk's
    coefficient is a spread, not negative.
    """
    if doc.get(p) is None:
        return ZeroDrift()
    doc.mapping(p, allowed={"rate", "random_walk", "temperature_coefficient"})
    return ZeroDrift(
        rate_pa_s=doc.quantity((*p, "rate"), "pressure drift", "0 Pa/s"),
        random_walk_pa_sqrt_s=doc.quantity(
            (*p, "random_walk"), "pressure random walk", "0 Pa/s**0.5", nonnegative=True
        ),
        temperature_coefficient_pa_k=doc.quantity(
            (*p, "temperature_coefficient"), "pressure per temperature", "0 Pa/K"
        ),
        ambient_departure_k=ambient,
    )


def _of_reading(doc: Doc, path: P, default: float, *, zero: bool) -> float:
    """A fraction of the reading below 1 (an accuracy, a relative noise); 0 allowed if ``zero``."""
    value = doc.number(path, default)
    if not (0.0 <= value < 1.0 if zero else 0.0 < value < 1.0):
        span = "[0, 1)" if zero else "between 0 and 1"
        raise doc.error(path, f"{path[-1]} is a fraction of the reading {span}, got {value:g}")
    return value


def _thermocouple(doc: Doc, p: P, seed: int) -> tuple[ThermocoupleModel, bool, SensorThermalMass]:
    """The thermocouple at ``p``, whether it reads the gas (else the wall), and its thermal mass.

    ``time_constant`` (30 s by default) is how long the sensor takes to follow; ``gas_coupling``
    (0.2) how strongly the gas, against the wall it is mounted on, sets its temperature at one
    atmosphere (see :class:`rig.sim.thermal.SensorThermalMass`).
    """
    doc.mapping(p, allowed={"accuracy", "noise", "resolution", "measures", "time_constant", "gas_coupling"})
    default_tau = f"{DEFAULT_SENSOR_TIME_CONSTANT_S:g} s"
    thermal = SensorThermalMass(
        time_constant_s=doc.quantity((*p, "time_constant"), "time", default_tau, nonnegative=True),
        gas_coupling=_not_negative(doc, (*p, "gas_coupling"), DEFAULT_SENSOR_GAS_COUPLING),
    )
    model = ThermocoupleModel(
        accuracy_k=doc.quantity((*p, "accuracy"), "temperature", "0.5 K", nonnegative=True),
        noise_k=doc.quantity((*p, "noise"), "temperature", "0.01 K", nonnegative=True),
        resolution_k=doc.quantity((*p, "resolution"), "temperature", "0.001 K", nonnegative=True),
        seed=seed,
    )
    return model, doc.choice((*p, "measures"), {"gas", "wall"}, "gas") == "gas", thermal


def _not_negative(doc: Doc, path: P, default: float) -> float:
    value = doc.number(path, default)
    if value < 0.0:
        raise doc.error(path, f"expected a number not below 0, got {value:g}")
    return value


def faults(doc: Doc, bench: BenchSpec) -> list[Fault]:
    """The faults the bench file schedules on the simulation clock."""
    problems: list[LocatedError] = []
    out = []
    for i, _ in enumerate(doc.sequence(("faults",))):
        fault = attempt(problems, partial(_fault, doc, bench, ("faults", i)))
        if fault is not None:
            out.append(fault)
    raise_all(problems)
    return out


def _fault(doc: Doc, bench: BenchSpec, p: P) -> Fault:
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
        magnitude = doc.quantity((*p, "shift"), "pressure", "10 Pa")  # either sign: a shift is a difference
    elif kind == "drop":
        magnitude = float(doc.integer((*p, "every"), 50))
        if magnitude < 2:
            raise doc.error((*p, "every"), "a drop loses every N-th reply: N must be at least 2")
    duration = (
        doc.quantity((*p, "duration"), "time", positive=True) if doc.get((*p, "duration")) else math.inf
    )
    channel = doc.integer((*p, "channel")) if doc.get((*p, "channel")) is not None else None
    on_daq = MODELS[bench.instruments[instrument].model].kind == "daq"
    if on_daq and kind == "stuck_valve" and channel is None:
        raise doc.error(p, "a stuck_valve fault names the relay channel of its valve")
    # A fault is scheduled on the simulation clock, which starts at 0 s.
    at_s = doc.quantity((*p, "at"), "time", "0 s", nonnegative=True)
    return Fault(instrument, kind, at_s, duration, channel, magnitude)
