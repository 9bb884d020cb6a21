"""A measurement on a bench read into the numbers the planner takes (:class:`MeasurementSetup`).

One reading for ``rig plan`` (:func:`rig.planning.setup_for`, a procedure's ``measure_decay``)
and for the steps that plan their own holds (``compartment_isolation``'s segments), so that
both see the gauge's noise, the thermometer's and the bench's Type-B terms as the engine's
verdict will (:func:`rig.engine.type_b.type_b_for`).
"""

from __future__ import annotations

import functools

from rig.analysis.detectability import Resolving
from rig.analysis.planner import MeasurementSetup
from rig.bench import BenchSpec
from rig.bench_gauges import sensor_floor, sensor_noise_relative
from rig.engine.type_b import type_b_for

# A thermocouple on a DAQ when the bench does not say (rig.sim.bench_physics's default too).
DEFAULT_THERMOMETER_NOISE_K = 0.01


def _sensor_value(bench: BenchSpec, channel: str, key: str, kind: str | None, default: float) -> float:
    """A simulated sensor's ``physics.sensors.<channel>.<key>`` (``kind`` a quantity kind, or a number)."""
    doc = bench.doc
    path = ("physics", "sensors", channel, key)
    if doc is None or not bench.simulated or doc.get(path) is None:
        return default
    return doc.quantity(path, kind) if kind is not None else doc.number(path)


def measurement_setup(
    bench: BenchSpec,
    *,
    name: str,
    channel: str,
    volumes: tuple[str, ...],
    temperature: str | None,
    sign: float,
    level_pa: float,
    margin_pa: float,
    sample_period_s: float,
    duration_s: float,
    limit_pa_m3_s: float | None,
    resolving: Resolving | None = None,
) -> MeasurementSetup:
    """What the planner needs to know of a fit of ``channel`` over ``volumes`` (joined) at ``level_pa``."""
    _, noise = sensor_floor(bench, channel)
    t_noise = DEFAULT_THERMOMETER_NOISE_K
    if temperature is not None:
        t_noise = _sensor_value(bench, temperature, "noise", "temperature", DEFAULT_THERMOMETER_NOISE_K)
    return MeasurementSetup(
        name=name,
        channel=channel,
        volume="+".join(volumes),
        volume_m3=sum(bench.volumes[v].size_m3 for v in volumes),
        temperature_channel=temperature,
        sign=sign,
        level_pa=level_pa,
        level_margin_pa=margin_pa,
        sample_period_s=sample_period_s,
        gauge_noise_pa=noise,
        gauge_noise_relative=sensor_noise_relative(bench, channel),
        thermometer_noise_k=t_noise,
        duration_s=duration_s,
        limit_pa_m3_s=limit_pa_m3_s,
        # The engine's own source of Type-B terms (rig.engine.measurements.with_type_b), so that
        # the plan's budget is the one a run's verdict will carry.
        type_b_at=functools.partial(type_b_for, bench, channel, volumes, temperature),
        resolving=resolving,
    )
