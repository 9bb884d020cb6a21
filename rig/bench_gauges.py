"""What a bench says about its gauges: the steps they read in, their noise, their accuracy.

Read by the validator (a limit a gauge cannot resolve is refused), the engine (Type-B terms and
the floor below which a valve's effect cannot show) and the planner, from the bench file, or,
on a simulated bench, from the sensor the simulator builds (``physics.sensors``). Kept apart
from the procedure loader so that the step kinds, which the loader builds, and the engine can
both read it without importing each other.
"""

from __future__ import annotations

import math

from drivers.models import (
    DIFFERENTIAL_TRANSDUCER,
    MODELS,
    ZERO_DRIFT_FS_PER_S,
    ZERO_TEMPERATURE_COEFFICIENT_FS_PER_K,
)
from rig.bench import BenchSpec
from rig.bench_differential import DIFFERENTIAL, default_resolution_pa
from rig.located_yaml import Doc

ATMOSPHERE_PA = 101325.0
PRESSURES = ("pressure", DIFFERENTIAL)


def display_step_pa(model: str, pressure_pa: float) -> float:
    """The step of the last printed digit at ``pressure_pa`` (0 for models that print an analog value).

    A controller prints its model's ``display_digits`` significant digits: its readings move in
    steps of one last digit.
    """
    known = MODELS.get(model)
    digits = None if known is None else known.display_digits
    if digits is None or not pressure_pa > 0.0:
        return 0.0
    return float(10.0 ** (math.floor(math.log10(pressure_pa)) - (digits - 1)))


def sensor_floor(bench: BenchSpec, channel: str, pressure_pa: float = 0.0) -> tuple[float, float]:
    """(resolution, noise) in Pa of a pressure channel reading ``pressure_pa``: from the bench, or
    its simulated sensor (whose noise may have a part proportional to the reading)."""
    spec = bench.channels[channel]
    resolution, noise = spec.resolution_pa, spec.noise_pa
    doc = bench.doc
    if doc is not None and bench.simulated and (resolution is None or noise is None):
        sensor = ("physics", "sensors", channel)
        # The defaults are rig.sim.bench_physics's: what the simulated gauge does when not told.
        if resolution is None:
            resolution = _sensor_spread(doc, (*sensor, "resolution"), "0 Pa")
        if noise is None:
            noise = math.hypot(
                _sensor_spread(doc, (*sensor, "noise"), "0.2 Pa"),
                sensor_noise_relative(bench, channel) * pressure_pa,
            )
    if not resolution and spec.measures == DIFFERENTIAL:
        resolution = default_resolution_pa(spec)
    return resolution or 0.0, noise or 0.0


def sensor_noise_relative(bench: BenchSpec, channel: str) -> float:
    """The part of a simulated gauge's noise proportional to its reading (a Pirani's), else 0."""
    path = ("physics", "sensors", channel, "noise_relative")
    if bench.doc is None or not bench.simulated or bench.doc.get(path) is None:
        return 0.0
    return bench.doc.number(path)


def _sensor_spread(doc: Doc, path: tuple[str | int, ...], default: str) -> float:
    """A simulated sensor's resolution or noise, refused here (located) if negative.

    The bench's own channel values are checked when it loads; the physics part is read only on
    demand, and a negative value would otherwise fail later without a place.
    """
    return doc.quantity(path, "pressure", default, nonnegative=True)


def sensor_accuracy(bench: BenchSpec, channel: str) -> float:
    """The relative accuracy (a fraction of the reading) of ``channel``'s gauge.

    The channel's ``accuracy:`` if the bench declares one; else, on a simulated bench, the
    accuracy its simulated pressure sensor has (``physics.sensors.<channel>.accuracy``, or the
    model's ``simulated_accuracy_rel``, which the simulator gives it); else the model's
    ``accuracy_rel`` (:mod:`drivers.models`).
    """
    spec = bench.channels[channel]
    if spec.accuracy is not None:
        return spec.accuracy
    model = MODELS[bench.instruments[spec.instrument].model]
    # A differential head's accuracy is its own, not the DAQ's that reads its volts.
    assumed = DIFFERENTIAL_TRANSDUCER.accuracy_rel if spec.measures == DIFFERENTIAL else model.accuracy_rel
    doc = bench.doc
    # Only pressure channels on a volume (or two) are simulated as gauges with a relative
    # accuracy (a thermocouple's accuracy is in kelvin).
    gauged = spec.volume is not None or spec.volumes is not None
    if doc is None or not bench.simulated or spec.measures not in PRESSURES or not gauged:
        return assumed
    simulated = assumed if spec.measures == DIFFERENTIAL else model.simulated_accuracy_rel
    path = ("physics", "sensors", channel, "accuracy")
    accuracy = doc.number(path, simulated)
    if not 0.0 < accuracy < 1.0:
        raise doc.error(path, f"accuracy is a fraction of the reading between 0 and 1, got {accuracy:g}")
    return accuracy


def zero_stability(bench: BenchSpec, channel: str) -> tuple[float, float]:
    """(drift-rate bound in Pa/s, temperature coefficient in Pa/K) declared for ``channel``'s zero.

    Each figure from the best source the bench offers: the channel's calibration certificate
    (``calibrations.<channel>.zero_stability``) first, then the channel's own keys
    (``zero_stability: 2 Pa/h``, ``zero_temperature_coefficient: 5 Pa/K``), else its model's
    datasheet figure (:mod:`drivers.models`); a differential head read through a DAQ takes the
    capacitance-diaphragm class's figures on its own full scale (a DAQ input has no zero of its
    own to declare).
    """
    spec = bench.channels[channel]
    model = MODELS[bench.instruments[spec.instrument].model]
    calibration = bench.calibrations.get(channel)
    drift, tempco = model.zero_stability_pa_s, model.zero_temperature_coefficient_pa_k
    if spec.measures == DIFFERENTIAL and spec.full_scale_pa is not None:
        drift = ZERO_DRIFT_FS_PER_S * spec.full_scale_pa
        tempco = ZERO_TEMPERATURE_COEFFICIENT_FS_PER_K * spec.full_scale_pa
    if spec.zero_stability_pa_s is not None:
        drift = spec.zero_stability_pa_s
    if spec.zero_temperature_coefficient_pa_k is not None:
        tempco = spec.zero_temperature_coefficient_pa_k
    if calibration is not None and calibration.zero_stability_pa_s is not None:
        drift = calibration.zero_stability_pa_s
    if calibration is not None and calibration.zero_temperature_coefficient_pa_k is not None:
        tempco = calibration.zero_temperature_coefficient_pa_k
    return drift, tempco


def zero_rate_bound_pa_s(bench: BenchSpec, channel: str) -> float:
    """The fastest ``channel``'s zero may move as declared: its drift bound plus its temperature
    coefficient at the bench's ambient drift bound (``environment.temperature_drift``)."""
    drift, tempco = zero_stability(bench, channel)
    return drift + tempco * bench.temperature_drift_k_s
