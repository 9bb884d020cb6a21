"""A procedure's ``measure_decay`` step on its bench, read into the numbers a plan takes."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from rig.analysis.planner import MeasurementSetup
from rig.bench import BenchSpec
from rig.engine.type_b import type_b_for
from rig.errors import InputError
from rig.procedure.loader import ATMOSPHERE_PA, Procedure, Step, sensor_floor, sensor_noise_relative

# A thermocouple on a DAQ when the bench does not say (rig.sim.bench_physics's default too).
DEFAULT_THERMOMETER_NOISE_K = 0.01


def _walk(steps: tuple[Step, ...]) -> Iterator[Step]:
    """Steps in the order the validator reads them: a repeat's nested steps, then the repeat."""
    for step in steps:
        yield from _walk(step.steps)
        yield step


def _procedure_steps(procedure: Procedure) -> Iterator[Step]:
    yield from _walk(procedure.setup)
    yield from _walk(procedure.main)
    yield from _walk(procedure.cleanup)


def measurements(procedure: Procedure) -> list[Step]:
    """The procedure's ``measure_decay`` steps, in order."""
    return [s for s in _procedure_steps(procedure) if s.kind == "measure_decay"]


def choose_measurement(procedure: Procedure, name: str | None = None) -> Step:
    """The step called ``name``; by default the first ``measure_decay`` with a limit (or the first)."""
    found = measurements(procedure)
    if not found:
        raise InputError(f"procedure {procedure.name!r} has no measure_decay step to plan")
    if name is not None:
        named = [s for s in found if s.fields.get("name") == name]
        if not named:
            known = ", ".join(str(s.fields.get("name")) for s in found)
            raise InputError(f"no measure_decay step named {name!r} (the procedure has: {known})")
        return named[0]
    return next((s for s in found if "limit" in s.fields), found[0])


def level_before(procedure: Procedure, target: Step) -> tuple[float, float]:
    """(level, margin) in Pa: where ``target``'s volume was last brought, and how far above it may sit.

    The same walk as the validator's ``_Checker.levels_pa`` (a ``fill``'s ``to``, a
    ``pump_down``'s ``below``, in procedure order; the atmosphere when neither came first); the
    margin is the fill's tolerance, since the window may start that far above its target.
    """
    volume = target.fields["volume"]
    level, margin = ATMOSPHERE_PA, 0.0
    for step in _procedure_steps(procedure):
        if step is target:
            break
        f = step.fields
        if f.get("volume") != volume:
            continue
        if step.kind == "fill" and "to" in f:
            level, margin = f["to"], f.get("tolerance", 0.0)
        elif step.kind == "pump_down" and "below" in f:
            level, margin = f["below"], 0.0
    return level, margin


def _sensor_value(bench: BenchSpec, channel: str, key: str, kind: str | None, default: float) -> float:
    """A simulated sensor's ``physics.sensors.<channel>.<key>`` (``kind`` a quantity kind, or a number)."""
    doc = bench.doc
    path = ("physics", "sensors", channel, key)
    if doc is None or not bench.simulated or doc.get(path) is None:
        return default
    return doc.quantity(path, kind) if kind is not None else doc.number(path)


def setup_for(procedure: Procedure, step: Step) -> MeasurementSetup:
    """What the plan needs to know about ``step`` (a ``measure_decay`` of ``procedure``)."""
    bench = procedure.bench
    f = step.fields
    level, margin = level_before(procedure, step)
    _, noise = sensor_floor(bench, f["channel"])
    temp_channel = f.get("temperature")
    t_noise = DEFAULT_THERMOMETER_NOISE_K
    if temp_channel is not None:
        t_noise = _sensor_value(bench, temp_channel, "noise", "temperature", DEFAULT_THERMOMETER_NOISE_K)
    return MeasurementSetup(
        name=f["name"],
        channel=f["channel"],
        volume=f["volume"],
        volume_m3=bench.volumes[f["volume"]].size_m3,
        temperature_channel=temp_channel,
        sign=-1.0 if f.get("direction") == "rise" else 1.0,
        level_pa=level,
        level_margin_pa=margin,
        sample_period_s=procedure.sample_period_s,
        gauge_noise_pa=noise,
        gauge_noise_relative=sensor_noise_relative(bench, f["channel"]),
        thermometer_noise_k=t_noise,
        duration_s=f["duration"],
        limit_pa_m3_s=f.get("limit"),
        # The engine's own source of Type-B terms (rig.engine.measurements.with_type_b), so that
        # the plan's budget is the one a run's verdict will carry.
        type_b_at=functools.partial(type_b_for, bench, f["channel"], (f["volume"],), temp_channel),
    )
