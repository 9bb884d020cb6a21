"""Where a measurement's Type-B uncertainties come from: the bench's calibrations and specs.

Each term takes the best source the bench offers: a calibration certificate's uncertainty
(k = 1) first; else the gauge's stated or simulated accuracy, read as the half-width of a
rectangular distribution (÷√3); else a conservative default that can only overstate.

A gauge's zero stability (:func:`rig.bench_gauges.zero_stability`: certificate, channel, model)
meets the ambient's rate of change through its temperature coefficient. The ambient rate bound
is the bench's ``environment.temperature_drift``, the same bound an uncompensated test allows
the gas: the gauge's head stands in the room the gas follows.
"""

from __future__ import annotations

import math

from rig.analysis.budget import TypeB
from rig.bench import BenchSpec
from rig.bench_gauges import display_step_pa, sensor_accuracy, sensor_floor, zero_stability

SQRT3 = math.sqrt(3.0)
# A thermocouple read through a DAQ: ±1 K class accuracy, 0.01 K display steps (conservative).
DEFAULT_THERMOMETER_ACCURACY_K = 1.0
DEFAULT_THERMOMETER_RESOLUTION_K = 0.01


def type_b_for(
    bench: BenchSpec,
    channel: str,
    volumes: tuple[str, ...],
    temperature_channel: str | None,
    level_pa: float,
) -> TypeB:
    """The Type-B inputs of a leak rate read on ``channel`` of ``volumes`` (joined) at ``level_pa``."""
    size = sum(bench.volumes[v].size_m3 for v in volumes)
    # Independent calibrations of the volumes add in quadrature.
    volume_u = math.sqrt(sum(bench.volumes[v].uncertainty_m3 ** 2 for v in volumes))
    resolution, _ = sensor_floor(bench, channel)
    model = bench.instruments[bench.channels[channel].instrument].model
    calibration = bench.calibrations.get(channel)
    gauge_rel = calibration.uncertainty if calibration else sensor_accuracy(bench, channel) / SQRT3
    temperature_k = temperature_resolution_k = 0.0
    if temperature_channel is not None:
        temperature_k, temperature_resolution_k = thermometer(bench, temperature_channel)
    zero_drift, zero_tempco = zero_stability(bench, channel)
    return TypeB(
        volume_rel=volume_u / size,
        gauge_rel=gauge_rel,
        resolution_pa=max(resolution, display_step_pa(model, level_pa)),
        temperature_k=temperature_k,
        temperature_resolution_k=temperature_resolution_k,
        temperature_drift_k_s=bench.temperature_drift_k_s,
        zero_drift_pa_s=zero_drift,
        zero_temperature_coefficient_pa_k=zero_tempco,
        ambient_drift_k_s=bench.temperature_drift_k_s,
    )


def thermometer(bench: BenchSpec, channel: str) -> tuple[float, float]:
    """(standard uncertainty, resolution) in K of a temperature channel."""
    calibration = bench.calibrations.get(channel)
    accuracy, resolution = DEFAULT_THERMOMETER_ACCURACY_K, DEFAULT_THERMOMETER_RESOLUTION_K
    doc = bench.doc
    if doc is not None and bench.simulated:
        sensor = ("physics", "sensors", channel)
        if doc.get((*sensor, "accuracy")) is not None:
            accuracy = doc.quantity((*sensor, "accuracy"), "temperature")
        if doc.get((*sensor, "resolution")) is not None:
            resolution = doc.quantity((*sensor, "resolution"), "temperature")
    standard = calibration.uncertainty if calibration else accuracy / SQRT3
    return standard, resolution
