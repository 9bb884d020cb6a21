"""A procedure's ``measure_decay`` step on its bench, read into the numbers a plan takes, and the
longest the procedure's bounds let it last."""

from __future__ import annotations

from collections.abc import Iterator

from rig.analysis.planner import MAX_DURATION_S, MeasurementSetup
from rig.bench_gauges import ATMOSPHERE_PA
from rig.errors import InputError
from rig.procedure import bounds
from rig.procedure.loader import Procedure
from rig.steps import Step, walk
from rig.steps.measure_decay import MeasureDecay
from rig.steps.planned import measurement_setup


def _procedure_steps(procedure: Procedure) -> Iterator[Step]:
    return walk((*procedure.setup, *procedure.main, *procedure.cleanup))


def measurements(procedure: Procedure) -> list[MeasureDecay]:
    """The procedure's ``measure_decay`` steps, in order."""
    return [s for s in _procedure_steps(procedure) if isinstance(s, MeasureDecay)]


def choose_measurement(procedure: Procedure, name: str | None = None) -> MeasureDecay:
    """The step called ``name``; by default the first ``measure_decay`` with a limit (or the first)."""
    found = measurements(procedure)
    if not found:
        raise InputError(f"procedure {procedure.name!r} has no measure_decay step to plan")
    if name is not None:
        named = [s for s in found if s.name == name]
        if not named:
            known = ", ".join(s.name for s in found)
            raise InputError(f"no measure_decay step named {name!r} (the procedure has: {known})")
        return named[0]
    return next((s for s in found if s.limit_pa_m3_s is not None), found[0])


def level_before(procedure: Procedure, target: MeasureDecay) -> tuple[float, float]:
    """(level, margin) in Pa: where ``target``'s volume was last brought, and how far above it may sit.

    What the validator holds the step's limit against: the last ``Step.level`` of its volume
    before it (a ``fill``'s target, a ``pump_down``'s bound), in the order the validator reads
    them; the atmosphere when none came first. The margin is a fill's tolerance, since the
    window may start that far above its target.
    """
    level, margin = ATMOSPHERE_PA, 0.0
    for step in _procedure_steps(procedure):
        if step is target:
            break
        brought = step.level()
        if brought is not None and brought.volume == target.volume:
            level, margin = brought.pressure_pa, brought.margin_pa
    return level, margin


def setup_for(procedure: Procedure, step: MeasureDecay) -> MeasurementSetup:
    """What the plan needs to know about ``step`` (a ``measure_decay`` of ``procedure``)."""
    bench = procedure.bench
    level, margin = level_before(procedure, step)
    return measurement_setup(
        bench,
        name=step.name,
        channel=step.channel,
        volumes=(step.volume,),
        temperature=step.temperature,
        sign=step.sign,
        level_pa=level,
        margin_pa=margin,
        sample_period_s=procedure.sample_period_s,
        duration_s=step.duration_s,
        limit_pa_m3_s=step.limit_pa_m3_s,
        # The validator's own rule, at the level it reads (the same last level of the volume).
        resolving=step.resolving(bench, level, procedure.sample_period_s),
    )


def longest_allowed(procedure: Procedure, name: str, limit_pa_m3_s: float) -> tuple[float, str]:
    """The longest measurement ``name`` may last within the procedure's bounds, and why, if they bind.

    What the validator holds the whole procedure to (:func:`rig.procedure.bounds.excess`: the
    planned days and samples, repeats multiplied), with every step of that name at the duration:
    the bisection finds the last duration it accepts, to a tenth of a sample period (the total
    grows with the duration, so the bounds hold below it and not above). Returns
    (:data:`rig.analysis.planner.MAX_DURATION_S`, "") when the bounds allow that much.
    """
    from rig.planning.simulation import as_planned  # it runs procedures: only its editing is needed

    period = procedure.sample_period_s
    response = procedure.bench.valve_response_s

    def excess(duration_s: float) -> str | None:
        edited = as_planned(procedure, name, duration_s, limit_pa_m3_s)
        steps = (*edited.setup, *edited.main, *edited.cleanup)
        return bounds.excess(steps, response, period, "the procedure")

    if excess(MAX_DURATION_S) is None:
        return MAX_DURATION_S, ""
    lo, hi = 0.0, MAX_DURATION_S
    while hi - lo > period / 10.0:
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if excess(mid) is None else (lo, mid)
    why = excess(hi) or ""
    return lo, f"the procedure's bounds let {name!r} last at most {bounds.duration_text(lo)} ({why})"
